//! The mine's rules from the console: the figures in force, their history, and a new version
//! from a month onward, written to the rules document as the admin's validated change.

use zonepatrol_shared::docs::{DocId, RuleVersion, Rules};
use zonepatrol_shared::labels::Lang;
use zonepatrol_shared::rules::assessment::form_fixed;
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::rules::{AssessmentForm, FormItem, RulesConfig};
use zonepatrol_shared::{Actor, BranchCategory, Points, Role};

use super::input::{half_width, tidy};
use super::{AdminError, Edited, edit_document, on_record};
use crate::State;
use crate::reports;

/// The rules document as stored (none yet: no version).
pub fn document(state: &State) -> Result<Option<Rules>, AdminError> {
    let Some(stored) = state.store.doc(&DocId::rules())? else {
        return Ok(None);
    };
    let doc = stored.load().map_err(AdminError::Failed)?;
    zonepatrol_shared::docs::read(&doc, &DocId::rules())
        .map(Some)
        .map_err(|e| AdminError::Failed(e.to_string()))
}

/// The rules in force in a month.
pub fn in_force(state: &State, month: Period) -> RulesConfig {
    reports::lock(state).rules_on(month.first_day()).clone()
}

/// The month it is at the mine, and the next.
pub fn this_and_next_month(state: &State) -> (Period, Period) {
    let today = reports::lock(state).today(crate::now_millis());
    let this = Period::containing(PeriodKind::Month, today);
    (this, this.next())
}

/// What the rules form sends, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesInput {
    /// The first month (`2026-12`).
    pub from: String,
    /// Scores above this earn the bonus.
    pub bonus_above: String,
    /// Scores below this cost the penalty.
    pub penalty_below: String,
    /// Yuan per point beyond either.
    pub yuan_per_point: String,
    /// From this many inspectors the highest and lowest are dropped.
    pub trim_from: String,
    /// The fewest sheets a weekly result needs.
    pub min_sheets: String,
    /// The mutual evaluation's weight in the branch composite, percent (empty: unchanged).
    pub mutual_weight: String,
    /// Pass and excellent marks for categories 1–4.
    pub grades: [(String, String); 4],
    /// The assessment form's rows in order, as typed; a row without a name is left out.
    pub items: Vec<ItemInput>,
}

/// One row of the assessment form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemInput {
    /// The item's key; empty for a new item.
    pub key: String,
    /// Its Chinese name.
    pub zh: String,
    /// Its English name.
    pub en: String,
    /// What it is worth.
    pub max: String,
}

/// The form the rows make: named rows in order, new ones given keys no row holds.
fn form_of(rows: &[ItemInput]) -> Result<AssessmentForm, AdminError> {
    let mut named = Vec::new();
    for row in rows {
        let (zh, en) = (tidy(&row.zh), tidy(&row.en));
        if zh.is_empty() && en.is_empty() {
            continue;
        }
        let max = number::<Points>(
            &row.max,
            &format!("“{zh}”的分值"),
            &format!("The points of “{en}”"),
        )?;
        named.push((half_width(&row.key).trim().to_owned(), zh, en, max));
    }
    let mut form = AssessmentForm {
        items: named
            .iter()
            .filter(|(key, ..)| !key.is_empty())
            .map(|(key, ..)| FormItem {
                key: key.clone(),
                zh: String::new(),
                en: String::new(),
                max: Points::ZERO,
            })
            .collect(),
    };
    let mut items = Vec::with_capacity(named.len());
    for (key, zh, en, max) in named {
        let key = if key.is_empty() {
            let fresh = form.fresh_key();
            form.items.push(FormItem {
                key: fresh.clone(),
                zh: String::new(),
                en: String::new(),
                max: Points::ZERO,
            });
            fresh
        } else {
            key
        };
        items.push(FormItem { key, zh, en, max });
    }
    let form = AssessmentForm { items };
    form.check()
        .map_err(|p| AdminError::invalid(p.says(Lang::Zh), p.says(Lang::En)))?;
    Ok(form)
}

fn number<T: std::str::FromStr>(s: &str, zh: &str, en: &str) -> Result<T, AdminError> {
    half_width(s).parse().map_err(|_| {
        AdminError::invalid(
            format!("{zh}“{s}”不是数字。"),
            format!("{en} “{s}” is not a number."),
        )
    })
}

/// Writes a new version of the rules (admins only), from the month the form names.
pub fn save(state: &State, who: &Actor, input: &RulesInput) -> Result<Edited, AdminError> {
    if !who.has(Role::Admin) {
        return Err(AdminError::forbidden(
            "只有管理员可以修改考评规则。",
            "Only an admin changes the rules.",
        ));
    }
    let from = half_width(&input.from)
        .parse::<Period>()
        .ok()
        .filter(|p| p.kind() == PeriodKind::Month)
        .ok_or_else(|| {
            AdminError::invalid(
                "起始月份应写成 2026-12。",
                "Write the first month as 2026-12.",
            )
        })?;
    let mut config = in_force(state, from);
    // A form that sends no rows at all (a script) keeps the items in force.
    let form = if input.items.is_empty() {
        config.assessment.clone()
    } else {
        form_of(&input.items)?
    };
    let today = reports::lock(state).today(crate::now_millis());
    // The page shows the items of the coming month: sent back unchanged for a month whose
    // form is fixed, they mean "keep that month's items".
    let shown = in_force(state, this_and_next_month(state).1).assessment;
    let form = if form_fixed(from, today) && form == shown {
        config.assessment.clone()
    } else {
        form
    };
    if form != config.assessment && form_fixed(from, today) {
        return Err(AdminError::invalid(
            format!("{from} 的月度考评已经开始，考评项目不能再改：请从以后的月份起修改。"),
            format!("The assessment of {from} has begun: change its items from a later month."),
        ));
    }
    config.assessment = form;
    config.money.bonus_above = number::<Points>(&input.bonus_above, "奖励线", "The bonus mark")?;
    config.money.penalty_below =
        number::<Points>(&input.penalty_below, "处罚线", "The penalty mark")?;
    config.money.fen_per_point =
        number::<Points>(&input.yuan_per_point, "每分金额", "The money per point")?.0;
    config.inspection.trim_from = number::<usize>(
        &input.trim_from,
        "去掉最高最低分的人数",
        "The inspectors to trim from",
    )?;
    config.inspection.min_sheets =
        number::<usize>(&input.min_sheets, "最少评分表数", "The fewest sheets")?;
    if !input.mutual_weight.trim().is_empty() {
        let max = zonepatrol_shared::rules::mutual::MAX_WEIGHT_PERCENT;
        let weight = number::<u64>(
            input.mutual_weight.trim().trim_end_matches(['%', '％']),
            "互评权重",
            "The mutual evaluation's weight",
        )?;
        if weight > max {
            return Err(AdminError::invalid(
                format!("互评权重 {weight}% 太大：应在 0 到 {max}% 之间。"),
                format!("A mutual evaluation weight of {weight}% is too much: 0 to {max}%."),
            ));
        }
        config.mutual.weight_percent = weight;
    }
    for (n, (pass, excellent)) in input.grades.iter().enumerate() {
        config.grades.by_category[n] = (
            number::<Points>(pass, "达标线", "The standard mark")?,
            number::<Points>(excellent, "先进线", "The advanced mark")?,
        );
    }
    let now = crate::now_millis();
    let version = RuleVersion::of(&config, from, now, &who.user);
    let key = format!("{now}-{}", who.user);
    let done = edit_document::<Rules>(
        state,
        who,
        &DocId::rules(),
        &format!("考评规则自 {from} 起"),
        |r| {
            r.versions.insert(key.clone(), version);
            Ok(())
        },
    )?;
    let yuan = Points(config.money.fen_per_point);
    on_record(
        state,
        who,
        "",
        "rules",
        &from.to_string(),
        format!(
            "考评规则自 {from} 起：奖励线 {}，处罚线 {}，每分 {yuan} 元；{} 人起去掉最高最低分，\
             每个结果至少 {} 张评分表；互评权重 {}%；达标/先进 {}；考评项目 {}",
            config.money.bonus_above,
            config.money.penalty_below,
            config.inspection.trim_from,
            config.inspection.min_sheets,
            config.mutual.weight_percent,
            BranchCategory::ALL
                .iter()
                .map(|c| {
                    let t = config.grades.of(*c);
                    format!("{}类 {}/{}", c.number(), t.pass, t.excellent)
                })
                .collect::<Vec<_>>()
                .join("，"),
            config
                .assessment
                .items
                .iter()
                .map(|i| format!("{} {}", i.zh, i.max))
                .collect::<Vec<_>>()
                .join("、")
        ),
    )?;
    Ok(done)
}
