//! Branches and what their directories hold: zones, members and checklist templates, each
//! changed through [`edit_document`] so that the validator checks it as a phone's change.
//!
//! Nothing is ever deleted: a branch or a zone is retired and keeps its history. A template
//! already stored is never changed in place (the validator refuses it): editing its items
//! makes a new version that supersedes it, the zones on the old version move to the new one,
//! and sheets keep scoring on the version they were made with.

use std::collections::BTreeMap;

use rand::RngCore;
use zonepatrol_shared::docs::{
    BranchInfo, DeductionRule, Directory, DocId, Member, Template, TemplateItem, Zone,
    is_valid_name,
};
use zonepatrol_shared::labels::Lang;
use zonepatrol_shared::rules::{SharesError, check_shares};
use zonepatrol_shared::{Actor, BranchCategory, Points, Role};

use super::input::{code, tidy};
use super::{AdminError, Edited, edit_document, may_administer_branch, on_record};
use crate::State;
use crate::reports;

/// A branch's directory as stored, if the branch exists.
pub fn directory(state: &State, branch: &str) -> Result<Option<Directory>, AdminError> {
    if !is_valid_name(branch) {
        return Ok(None);
    }
    let id = DocId::directory(branch);
    let Some(stored) = state.store.doc(&id)? else {
        return Ok(None);
    };
    let doc = stored.load().map_err(AdminError::Failed)?;
    zonepatrol_shared::docs::read(&doc, &id)
        .map(Some)
        .map_err(|e| AdminError::Failed(e.to_string()))
}

/// Every branch `who` may see, by id, with its name, category and whether retired.
pub fn branches(state: &State, who: &Actor) -> Result<Vec<(String, BranchInfo)>, AdminError> {
    let ids: Vec<String> = reports::lock(state).branches().keys().cloned().collect();
    let mut out = Vec::new();
    for id in ids {
        if !super::may_see_branch(who, &id) {
            continue;
        }
        if let Some(d) = directory(state, &id)? {
            out.push((id, d.info));
        }
    }
    Ok(out)
}

/// A random id for a new record: a letter and eight hex digits, so that two people adding
/// at once never pick the same.
fn new_id(prefix: char) -> String {
    let mut raw = [0u8; 4];
    rand::rng().fill_bytes(&mut raw);
    format!("{prefix}{}", hex::encode(raw))
}

fn need_admin(who: &Actor) -> Result<(), AdminError> {
    if who.has(Role::Admin) {
        Ok(())
    } else {
        Err(AdminError::forbidden(
            "只有管理员可以新建支部或修改支部名称和类别。",
            "Only an admin creates branches or changes their name and category.",
        ))
    }
}

fn need_branch(who: &Actor, branch: &str) -> Result<(), AdminError> {
    if may_administer_branch(who, branch) {
        Ok(())
    } else {
        Err(AdminError::forbidden(
            "您只能维护本支部。",
            "You can keep only your own branch.",
        ))
    }
}

fn need_name(name: &str, zh: &str, en: &str) -> Result<(), AdminError> {
    if name.is_empty() {
        Err(AdminError::invalid(
            format!("请填写{zh}。"),
            format!("Fill in {en}."),
        ))
    } else {
        Ok(())
    }
}

/// A branch's name, category and whether it is retired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchInput {
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: BranchCategory,
    /// Retired: kept with its history, no longer in use.
    pub retired: bool,
}

/// Creates a branch (admins only) under `code`, or a new id when none is given; returns its id.
pub fn create_branch(
    state: &State,
    who: &Actor,
    code_given: Option<&str>,
    input: &BranchInput,
) -> Result<String, AdminError> {
    need_admin(who)?;
    let name = tidy(&input.name);
    need_name(&name, "支部名称", "the branch's name")?;
    let id = match code_given.map(code).filter(|c| !c.is_empty()) {
        Some(c) if !is_valid_name(&c) => {
            return Err(AdminError::invalid(
                format!("编号“{c}”不可用：请用字母、数字、“-”“_”“.”，最多 64 个。"),
                format!(
                    "“{c}” cannot be a code: use letters, digits, '-', '_' or '.', at most 64."
                ),
            ));
        }
        Some(c) => c,
        None => new_id('b'),
    };
    if directory(state, &id)?.is_some() {
        return Err(AdminError::invalid(
            format!("编号“{id}”已有支部使用。"),
            format!("A branch already has the code “{id}”."),
        ));
    }
    if branches(state, who)?
        .iter()
        .any(|(_, info)| info.name == name)
    {
        return Err(AdminError::invalid(
            format!("已有名为“{name}”的支部。"),
            format!("There is a branch named “{name}” already."),
        ));
    }
    edit_document::<Directory>(
        state,
        who,
        &DocId::directory(&id),
        &format!("新建支部 {name}"),
        |d| {
            d.info = BranchInfo {
                name: name.clone(),
                category: u64::from(input.category.number()),
                retired: input.retired,
            };
            Ok(())
        },
    )?;
    on_record(state, who, &id, "branch", &id, format!("新建支部“{name}”"))?;
    Ok(id)
}

/// Renames a branch, sets its category or retires it (admins only).
pub fn update_branch(
    state: &State,
    who: &Actor,
    branch: &str,
    input: &BranchInput,
) -> Result<Edited, AdminError> {
    need_admin(who)?;
    let name = tidy(&input.name);
    need_name(&name, "支部名称", "the branch's name")?;
    exists(state, branch)?;
    let done = edit_document::<Directory>(
        state,
        who,
        &DocId::directory(branch),
        &format!("修改支部 {name}"),
        |d| {
            d.info.name = name.clone();
            d.info.category = u64::from(input.category.number());
            d.info.retired = input.retired;
            Ok(())
        },
    )?;
    if done == Edited::Saved {
        let state_word = if input.retired { "，已停用" } else { "" };
        on_record(
            state,
            who,
            branch,
            "branch",
            branch,
            format!(
                "支部改为“{name}”，{}类{state_word}",
                input.category.number()
            ),
        )?;
    }
    Ok(done)
}

fn exists(state: &State, branch: &str) -> Result<Directory, AdminError> {
    directory(state, branch)?.ok_or_else(|| {
        AdminError::invalid(
            format!("没有编号为“{branch}”的支部。"),
            format!("There is no branch “{branch}”."),
        )
    })
}

/// A zone as the console edits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneInput {
    /// Its name.
    pub name: String,
    /// Level, roadway, chainage.
    pub location: String,
    /// Responsible members' ids.
    pub holders: Vec<String>,
    /// Teams covered.
    pub teams: Vec<String>,
    /// The checklist template's id (empty: none yet).
    pub template: String,
    /// In use.
    pub active: bool,
    /// Percent of its money by holder; empty for equal parts.
    pub shares: BTreeMap<String, u64>,
}

/// Creates a zone (`zone` none) or changes one; returns its id.
pub fn save_zone(
    state: &State,
    who: &Actor,
    branch: &str,
    zone: Option<&str>,
    input: &ZoneInput,
) -> Result<String, AdminError> {
    need_branch(who, branch)?;
    let dir = exists(state, branch)?;
    let name = tidy(&input.name);
    need_name(&name, "责任区名称", "the zone's name")?;
    let id = match zone {
        Some(z) if dir.zones.contains_key(z) => z.to_owned(),
        Some(z) => {
            return Err(AdminError::invalid(
                format!("本支部没有责任区“{z}”。"),
                format!("The branch has no zone “{z}”."),
            ));
        }
        None => {
            if dir.zones.values().any(|z| z.name == name) {
                return Err(AdminError::invalid(
                    format!("本支部已有责任区“{name}”。"),
                    format!("The branch has a zone named “{name}” already."),
                ));
            }
            new_id('z')
        }
    };
    for holder in &input.holders {
        if !dir.members.contains_key(holder) {
            return Err(AdminError::invalid(
                format!("责任人“{holder}”不是本支部成员：请先在成员中添加。"),
                format!("“{holder}” is not a member of the branch: add them under members first."),
            ));
        }
    }
    let name_of = |h: &String| dir.members.get(h).map_or(h.clone(), |m| m.name.clone());
    if let Err(e) = check_shares(&input.holders, &input.shares) {
        return Err(match e {
            SharesError::NotAHolder(h) => AdminError::invalid(
                format!("“{}”不是本责任区的责任人，不能分得奖罚。", name_of(&h)),
                format!(
                    "“{}” does not hold the zone: only its holders take a share.",
                    name_of(&h)
                ),
            ),
            SharesError::Missing(h) => AdminError::invalid(
                format!(
                    "责任人“{}”没有填写份额：请给每位责任人填写，或全部留空表示平分。",
                    name_of(&h)
                ),
                format!(
                    "Holder “{}” has no share: give every holder one, or leave them all empty for equal parts.",
                    name_of(&h)
                ),
            ),
            SharesError::OverWhole(h, share) => AdminError::invalid(
                format!(
                    "“{}”的份额 {share}% 超过 100%：份额应为 0 到 100 的整数。",
                    name_of(&h)
                ),
                format!(
                    "“{}” has a share of {share}%: a share is 0 to 100.",
                    name_of(&h)
                ),
            ),
            SharesError::Total(t) => AdminError::invalid(
                format!("份额合计 {t}%，应为 100%。"),
                format!("The shares come to {t}%; they must come to 100%."),
            ),
        });
    }
    if !input.template.is_empty() && !dir.templates.contains_key(&input.template) {
        return Err(AdminError::invalid(
            "所选检查标准不存在。",
            "That checklist template does not exist.",
        ));
    }
    let value = zone_value(input);
    let created = zone.is_none();
    let done = edit_document::<Directory>(
        state,
        who,
        &DocId::directory(branch),
        &format!("责任区 {name}"),
        |d| {
            d.zones.insert(id.clone(), value);
            Ok(())
        },
    )?;
    if done == Edited::Saved {
        let verb = match (created, input.active) {
            (true, _) => "新建",
            (false, true) => "修改",
            (false, false) => "停用或修改",
        };
        on_record(
            state,
            who,
            branch,
            "zone",
            &id,
            format!("{verb}责任区“{name}”"),
        )?;
    }
    Ok(id)
}

/// The zone a form or a workbook row describes, tidied.
pub(crate) fn zone_value(input: &ZoneInput) -> Zone {
    Zone {
        name: tidy(&input.name),
        location: tidy(&input.location),
        holders: input.holders.iter().map(|h| (h.clone(), true)).collect(),
        teams: input
            .teams
            .iter()
            .map(|t| tidy(t))
            .filter(|t| !t.is_empty())
            .map(|t| (t, true))
            .collect(),
        template: input.template.clone(),
        active: input.active,
        shares: input.shares.clone(),
    }
}

/// The member a form or a workbook row describes, tidied.
pub(crate) fn member_value(input: &MemberInput) -> Member {
    Member {
        name: tidy(&input.name),
        group: tidy(&input.group),
        team: tidy(&input.team),
    }
}

/// A new record's id (a zone's `z…`), random so that two people adding at once never clash.
pub(crate) fn fresh_id(prefix: char) -> String {
    new_id(prefix)
}

/// A member as the console edits them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberInput {
    /// Their id: the login name they have or will have.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their party group.
    pub group: String,
    /// Their team.
    pub team: String,
}

/// Adds a member to a branch's directory or changes one.
pub fn save_member(
    state: &State,
    who: &Actor,
    branch: &str,
    input: &MemberInput,
) -> Result<Edited, AdminError> {
    need_branch(who, branch)?;
    exists(state, branch)?;
    let id = code(&input.id);
    if !is_valid_name(&id) {
        return Err(AdminError::invalid(
            format!("登录名“{id}”不可用：请用字母、数字、“-”“_”“.”（如拼音 wangwei）。"),
            format!(
                "“{id}” cannot be a login name: use letters, digits, '-', '_' or '.' (such as wangwei)."
            ),
        ));
    }
    let name = tidy(&input.name);
    need_name(&name, "姓名", "the member's name")?;
    let member = member_value(input);
    let done = edit_document::<Directory>(
        state,
        who,
        &DocId::directory(branch),
        &format!("成员 {name}"),
        |d| {
            d.members.insert(id.clone(), member);
            Ok(())
        },
    )?;
    if done == Edited::Saved {
        on_record(
            state,
            who,
            branch,
            "member",
            &id,
            format!("成员“{name}”（{id}）"),
        )?;
    }
    Ok(done)
}

/// One row of a template as the console edits it: an item with one deduction rule. Rows of
/// the same category and text make one item with several rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateRow {
    /// The item's category.
    pub category: String,
    /// What is checked.
    pub text: String,
    /// Its maximum points, as typed ("10", "2.5").
    pub max: String,
    /// What a deduction is for.
    pub rule: String,
    /// Points off per occurrence, as typed.
    pub points: String,
    /// Whether such a deduction needs a photo.
    pub needs_photo: bool,
}

fn points(s: &str, row: usize, what_zh: &str, what_en: &str) -> Result<Points, AdminError> {
    let s = super::input::half_width(s);
    s.parse::<Points>().map_err(|_| {
        AdminError::invalid(
            format!("第 {row} 行：{what_zh}“{s}”不是分数（如 10 或 2.5）。"),
            format!("Row {row}: {what_en} “{s}” is not a number of points (such as 10 or 2.5)."),
        )
    })
}

/// The items rows make, in order; rows left empty are skipped.
pub fn template_items(rows: &[TemplateRow]) -> Result<BTreeMap<String, TemplateItem>, AdminError> {
    let mut items: Vec<TemplateItem> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let row_no = n + 1;
        let (category, text) = (tidy(&row.category), tidy(&row.text));
        if category.is_empty() && text.is_empty() && tidy(&row.rule).is_empty() {
            continue;
        }
        if text.is_empty() {
            return Err(AdminError::invalid(
                format!("第 {row_no} 行：请填写检查内容。"),
                format!("Row {row_no}: fill in what is checked."),
            ));
        }
        let max = points(&row.max, row_no, "分值", "the maximum")?;
        let rule_text = tidy(&row.rule);
        let rule = if rule_text.is_empty() {
            None
        } else {
            Some(DeductionRule {
                text: rule_text,
                points: points(&row.points, row_no, "扣分", "the deduction")?,
                needs_photo: row.needs_photo,
            })
        };
        let same = items
            .last_mut()
            .filter(|i| i.category == category && i.text == text);
        let item = match same {
            Some(item) => item,
            None => {
                items.push(TemplateItem {
                    order: items.len() as u64 + 1,
                    category,
                    text,
                    max,
                    rules: BTreeMap::new(),
                });
                items.last_mut().expect("just pushed")
            }
        };
        if let Some(rule) = rule {
            // Zero-padded, so that the rules keep the order they were typed in.
            let key = format!("r{:02}", item.rules.len() + 1);
            item.rules.insert(key, rule);
        }
    }
    if items.is_empty() {
        return Err(AdminError::invalid(
            "检查标准至少要有一项。",
            "A template needs at least one item.",
        ));
    }
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (format!("i{:02}", i + 1), item))
        .collect())
}

/// The rows that show a template's items, one per deduction rule (an item with none: one row).
pub fn template_rows(template: &Template) -> Vec<TemplateRow> {
    let mut items: Vec<&TemplateItem> = template.items.values().collect();
    items.sort_by_key(|i| i.order);
    let mut rows = Vec::new();
    for item in items {
        let row = |rule: Option<&DeductionRule>| TemplateRow {
            category: item.category.clone(),
            text: item.text.clone(),
            max: item.max.to_string(),
            rule: rule.map(|r| r.text.clone()).unwrap_or_default(),
            points: rule.map(|r| r.points.to_string()).unwrap_or_default(),
            needs_photo: rule.is_some_and(|r| r.needs_photo),
        };
        if item.rules.is_empty() {
            rows.push(row(None));
        }
        for rule in item.rules.values() {
            rows.push(row(Some(rule)));
        }
    }
    rows
}

/// Creates a template, or edits one: a new name is set in place, new items make a new version
/// that supersedes it (zones on it move to the new version). With `assign_unset`, zones that
/// have no template yet are given this one. Returns the id now in use.
pub fn save_template(
    state: &State,
    who: &Actor,
    branch: &str,
    template: Option<&str>,
    name: &str,
    rows: &[TemplateRow],
    assign_unset: bool,
) -> Result<String, AdminError> {
    need_branch(who, branch)?;
    let dir = exists(state, branch)?;
    let name = tidy(name);
    need_name(&name, "标准名称", "the template's name")?;
    let items = template_items(rows)?;
    let old = match template {
        Some(t) => Some((
            t.to_owned(),
            dir.templates.get(t).cloned().ok_or_else(|| {
                AdminError::invalid("没有这个检查标准。", "There is no such template.")
            })?,
        )),
        None => None,
    };
    if let Some((old_id, _)) = &old
        && let Some((newer, _)) = dir.templates.iter().find(|(_, t)| t.supersedes == *old_id)
    {
        return Err(AdminError::invalid(
            format!("这是旧版本，已被 {newer} 取代：请打开并修改最新版本。"),
            format!("This version is superseded by {newer}: open and edit the newest version."),
        ));
    }
    // The same items as stored, whatever their keys: a rename at most.
    let new_rows = template_rows(&Template {
        items: items.clone(),
        ..Template::default()
    });
    let same_items = |t: &Template| template_rows(t) == new_rows;
    let (id, summary) = match &old {
        Some((id, t)) if same_items(t) => (id.clone(), format!("检查标准改名为“{name}”")),
        Some((id, _)) => (
            new_id('t'),
            format!("检查标准“{name}”出新版本（取代 {id}），使用它的责任区改用新版本"),
        ),
        None => (new_id('t'), format!("新建检查标准“{name}”")),
    };
    let done = edit_document::<Directory>(
        state,
        who,
        &DocId::directory(branch),
        &format!("检查标准 {name}"),
        |d| {
            match &old {
                Some((old_id, t)) if same_items(t) => {
                    if let Some(t) = d.templates.get_mut(old_id) {
                        t.name = name.clone();
                    }
                }
                Some((old_id, _)) => {
                    d.templates.insert(
                        id.clone(),
                        Template {
                            name: name.clone(),
                            items,
                            supersedes: old_id.clone(),
                        },
                    );
                    for zone in d.zones.values_mut() {
                        if zone.template == *old_id {
                            zone.template = id.clone();
                        }
                    }
                }
                None => {
                    d.templates.insert(
                        id.clone(),
                        Template {
                            name: name.clone(),
                            items,
                            supersedes: String::new(),
                        },
                    );
                }
            }
            if assign_unset {
                for zone in d.zones.values_mut() {
                    if zone.template.is_empty() {
                        zone.template = id.clone();
                    }
                }
            }
            Ok(())
        },
    )?;
    if done == Edited::Saved {
        on_record(state, who, branch, "template", &id, summary)?;
    }
    Ok(id)
}

/// The templates in use: those no later version supersedes, by id.
pub fn current_templates(dir: &Directory) -> Vec<(&String, &Template)> {
    dir.templates
        .iter()
        .filter(|(id, _)| !dir.templates.values().any(|t| t.supersedes == **id))
        .collect()
}

/// A demonstration post's "five clears" as the console edits them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostInput {
    /// Clear area: the zone it stands in.
    pub zone: String,
    /// Its title.
    pub title: String,
    /// Clear demonstrators: members' ids.
    pub demonstrators: Vec<String>,
    /// Clear basis and standard.
    pub standard: String,
    /// Clear assessor.
    pub assessor: String,
    /// Clear assessment standard.
    pub assessment: String,
    /// Clear start and end dates, as typed (`2026-12-01`).
    pub starts: String,
    /// The end date.
    pub ends: String,
    /// The duty its demonstrators answer for (亮职责).
    pub duty: String,
}

fn date(s: &str, zh: &str, en: &str) -> Result<Option<zonepatrol_shared::docs::Day>, AdminError> {
    let s = super::input::half_width(s);
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<chrono::NaiveDate>()
        .map(|d| Some(zonepatrol_shared::docs::Day(d)))
        .map_err(|_| {
            AdminError::invalid(
                format!("{zh}“{s}”应写成 2026-12-01。"),
                format!("Write {en} “{s}” as 2026-12-01."),
            )
        })
}

/// Creates a demonstration post with its five clears, approved by whoever sets it up (in force
/// over its dates) unless it names them (then it is their application, for an admin or another
/// secretary to decide), or changes one's five clears; returns its id.
pub fn save_post(
    state: &State,
    who: &Actor,
    branch: &str,
    post: Option<&str>,
    input: &PostInput,
) -> Result<String, AdminError> {
    use zonepatrol_shared::docs::{Post, PostEvent, PostStep};
    need_branch(who, branch)?;
    let dir = exists(state, branch)?;
    let title = tidy(&input.title);
    need_name(&title, "示范岗名称", "the post's title")?;
    if !dir.zones.contains_key(&input.zone) {
        return Err(AdminError::invalid(
            "请选择示范岗所在的责任区。",
            "Choose the zone the post stands in.",
        ));
    }
    if let Some(d) = input
        .demonstrators
        .iter()
        .find(|d| !dir.members.contains_key(*d))
    {
        return Err(AdminError::invalid(
            format!("示范者“{d}”不是本支部成员。"),
            format!("“{d}” is not a member of the branch."),
        ));
    }
    if input.demonstrators.is_empty() {
        return Err(AdminError::invalid(
            "请选择至少一名示范者（明确示范者）。",
            "Choose at least one demonstrator (clear demonstrators).",
        ));
    }
    for (value, zh, en) in [
        (&input.standard, "依据和标准", "the basis and standard"),
        (&input.assessor, "考核人", "the assessor"),
        (&input.assessment, "考核标准", "the assessment standard"),
    ] {
        need_name(&tidy(value), zh, en)?;
    }
    let starts = date(&input.starts, "开始日期", "the start date")?;
    let ends = date(&input.ends, "结束日期", "the end date")?;
    let (Some(s), Some(e)) = (starts, ends) else {
        return Err(AdminError::invalid(
            "请填写开始和结束日期（明确起止时间）。",
            "Fill in the start and end dates (clear term).",
        ));
    };
    if e.0 < s.0 {
        return Err(AdminError::invalid(
            "结束日期在开始日期之前。",
            "The end date is before the start date.",
        ));
    }
    let id = match post {
        Some(p) if dir.posts.contains_key(p) => p.to_owned(),
        Some(p) => {
            return Err(AdminError::invalid(
                format!("本支部没有示范岗“{p}”。"),
                format!("The branch has no post “{p}”."),
            ));
        }
        None => new_id('p'),
    };
    let created = post.is_none();
    let names_me = input.demonstrators.contains(&who.user);
    if let Some(p) = post.and_then(|p| dir.posts.get(p)) {
        let today = reports::lock(state).today(crate::now_millis());
        let decided = matches!(
            p.status_on(today),
            zonepatrol_shared::docs::PostStatus::Approved
                | zonepatrol_shared::docs::PostStatus::Active
        );
        if decided && names_me && !p.demonstrators.contains_key(&who.user) {
            return Err(AdminError::forbidden(
                "不能把自己加入已批准的示范岗：请由管理员或其他书记修改示范者。",
                "Nobody adds themselves to an approved post: an admin or another secretary \
                 changes its demonstrators.",
            ));
        }
    }
    let now = crate::now_millis();
    let done = edit_document::<Directory>(
        state,
        who,
        &DocId::directory(branch),
        &format!("示范岗 {title}"),
        |d| {
            let entry = d.posts.entry(id.clone()).or_insert_with(Post::default);
            entry.zone = input.zone.clone();
            entry.title = title.clone();
            entry.demonstrators = input
                .demonstrators
                .iter()
                .map(|m| (m.clone(), true))
                .collect();
            entry.standard = tidy(&input.standard);
            entry.assessor = tidy(&input.assessor);
            entry.assessment = tidy(&input.assessment);
            entry.starts = starts;
            entry.ends = ends;
            entry.duty = tidy(&input.duty);
            // Set up by the secretary or an admin: approved at once, its dates start and end
            // it; one naming its maker is their application, for another to decide.
            if created {
                entry.events.insert(
                    format!("{now}-{}", who.user),
                    PostEvent {
                        at: now,
                        by: who.user.clone(),
                        step: if names_me {
                            PostStep::Propose
                        } else {
                            PostStep::Approve
                        },
                        reason: String::new(),
                    },
                );
            }
            Ok(())
        },
    )?;
    if done == Edited::Saved {
        let verb = if created { "新建" } else { "修改" };
        on_record(
            state,
            who,
            branch,
            "post",
            &id,
            format!("{verb}示范岗“{title}”"),
        )?;
    }
    Ok(id)
}

/// What a decision on a post records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostDecision {
    /// Approve an application (the secretary or an admin, never on one's own post).
    Approve,
    /// Turn an application down, with a reason.
    Reject,
    /// The quarterly review (季讲评) of a post in force, with a note.
    Review,
    /// Withdraw the title (摘牌), with a reason: a manager, the secretary or an admin.
    Revoke,
    /// End the post before its end date.
    End,
}

/// Records a step in a post's life, on the record, never deleted: approving or rejecting an
/// application, the quarterly review, withdrawing the title, ending it. The sync path checks
/// again who may record which step where the post stands.
pub fn decide_post(
    state: &State,
    who: &Actor,
    branch: &str,
    post: &str,
    decision: PostDecision,
    reason: &str,
) -> Result<(), AdminError> {
    use zonepatrol_shared::docs::{PostEvent, PostStatus, PostStep};
    let step = match decision {
        PostDecision::Approve => PostStep::Approve,
        PostDecision::Reject => PostStep::Reject,
        PostDecision::Review => PostStep::Review,
        PostDecision::Revoke => PostStep::Revoke,
        PostDecision::End => PostStep::End,
    };
    let reviews = matches!(step, PostStep::Review | PostStep::Revoke);
    if !(may_administer_branch(who, branch) || (reviews && who.has(Role::Manager))) {
        return Err(AdminError::forbidden(
            "只有本支部书记、管理员（讲评和摘牌还有党委管理人员）能处理示范岗。",
            "Only the branch secretary or an admin (and, to review or withdraw a title, a \
             manager) decides on a post.",
        ));
    }
    let dir = exists(state, branch)?;
    let Some(p) = dir.posts.get(post) else {
        return Err(AdminError::invalid(
            "本支部没有这个示范岗。",
            "The branch has no such post.",
        ));
    };
    let today = reports::lock(state).today(crate::now_millis());
    let status = p.status_on(today);
    let fits = match step {
        PostStep::Approve | PostStep::Reject => status == PostStatus::Proposed,
        PostStep::Review => status == PostStatus::Active,
        _ => matches!(status, PostStatus::Active | PostStatus::Approved),
    };
    if !fits {
        return Err(AdminError::invalid(
            format!(
                "这个示范岗现在是“{}”，不能{}。",
                zonepatrol_shared::labels::post_status_label(Lang::Zh, status),
                zonepatrol_shared::labels::post_step_label(Lang::Zh, step)
            ),
            format!(
                "The post is “{}” now: it cannot be given “{}”.",
                zonepatrol_shared::labels::post_status_label(Lang::En, status),
                zonepatrol_shared::labels::post_step_label(Lang::En, step)
            ),
        ));
    }
    if matches!(step, PostStep::Approve | PostStep::Reject) && p.names(&who.user) {
        return Err(AdminError::forbidden(
            "不能审批自己的示范岗：请由其他书记或管理员审批。",
            "Nobody approves or rejects their own post: another secretary or an admin decides.",
        ));
    }
    let reason = tidy(reason);
    if step.needs_reason() && reason.is_empty() {
        let (zh, en) = match step {
            PostStep::Review => ("请写讲评意见。", "Write the review's note."),
            PostStep::Revoke => (
                "摘牌需要写明原因。",
                "Withdrawing the title needs a reason.",
            ),
            _ => ("不批准需要写明原因。", "Turning it down needs a reason."),
        };
        return Err(AdminError::invalid(zh, en));
    }
    // Never dated before a step already there.
    let now = crate::now_millis().max(p.latest_event() + 1);
    edit_document::<Directory>(
        state,
        who,
        &DocId::directory(branch),
        &format!("示范岗 {}", p.title),
        |d| {
            if let Some(p) = d.posts.get_mut(post) {
                p.events.insert(
                    format!("{now}-{}", who.user),
                    PostEvent {
                        at: now,
                        by: who.user.clone(),
                        step,
                        reason: reason.clone(),
                    },
                );
            }
            Ok(())
        },
    )?;
    let label = zonepatrol_shared::labels::post_step_label(Lang::Zh, step);
    let what = if reason.is_empty() {
        format!("示范岗“{}”：{label}", p.title)
    } else {
        format!("示范岗“{}”：{label}（{reason}）", p.title)
    };
    on_record(state, who, branch, "post", post, what)
}
