//! Who writes which part of each document, and what values each part may hold.

use std::collections::BTreeMap;

use super::limits::{
    self, CLEANUP_ITEMS, CLEANUP_PARTICIPANTS, DEADLINE_DAYS_AHEAD, EVENTS_PER_RECORD,
    ITEMS_PER_TEMPLATE, KEY_CHARS, LOCK_EVENTS, MEMBERS_PER_BRANCH, NAME_CHARS, PEOPLE_PER_RECORD,
    PERSON_TIMES, PLAN_DAYS_AHEAD, POST_TERM_DAYS_AHEAD, QUANTITY_MILLI, RULES_PER_ITEM,
    TEMPLATES_PER_BRANCH, TEXT_CHARS, WORK_DAYS_AHEAD, ZONES_PER_BRANCH, ZONES_PER_PATROL, records,
    text,
};
use super::{Change, Refusal, RefusalCode, check_locks, check_period_locks};
use crate::docs::{
    Assessment, Cleanup, Directory, DocId, DocKind, Patrol, PhotoRef, Problem, Publication, Report,
    Scores, Sheet,
};
use crate::domain::Role;
use crate::points::Points;
use crate::rules::problem::{Step, StepActor, may_take};
use crate::rules::suggest::AssessmentItem;

/// Who writes a part: the one writer role of each part of each document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Nobody: fixed at genesis.
    Nobody,
    /// The server alone.
    Server,
    /// Admins.
    Admin,
    /// The branch secretary and admins.
    SecretaryOrAdmin,
    /// The patrol's leader (a secretary, inspector or manager).
    PatrolLeader,
    /// The sheet's own inspector.
    SheetInspector,
    /// Whoever raised the problem (a secretary or inspector).
    Raiser,
    /// The member responsible for the problem.
    Responsible,
    /// A secretary or inspector who did not rectify it.
    Verifier,
    /// The cleanup's team leader.
    CleanupLeader,
    /// A responsible member of the zone.
    ZoneHolder,
    /// The branch secretary.
    Secretary,
    /// Managers.
    Manager,
}

/// The parts of a document kind, besides its header.
pub fn parts_of(kind: DocKind) -> &'static [&'static str] {
    match kind {
        DocKind::Directory => &["info", "zones", "posts", "members", "templates"],
        DocKind::Patrol => &["plan", "notes", "closed_at"],
        DocKind::Sheet => &["zones", "submitted_at"],
        DocKind::Problem => &["finding", "rectifications", "verifications"],
        DocKind::Cleanup => &["log"],
        DocKind::Assessment => &["self_score", "branch_score"],
        DocKind::Report => &[
            "updated_at",
            "zones",
            "open_problems",
            "overdue_problems",
            "branch",
            "cleanups",
            "published",
        ],
        DocKind::Publication => &["events"],
    }
}

/// The writer of a part of a document kind.
pub fn writer_of(kind: DocKind, part: &str) -> Writer {
    match (kind, part) {
        (_, "header") => Writer::Nobody,
        (DocKind::Directory, "info") => Writer::Admin,
        (DocKind::Directory, _) => Writer::SecretaryOrAdmin,
        (DocKind::Patrol, _) => Writer::PatrolLeader,
        (DocKind::Sheet, _) => Writer::SheetInspector,
        (DocKind::Problem, "finding") => Writer::Raiser,
        (DocKind::Problem, "rectifications") => Writer::Responsible,
        (DocKind::Problem, _) => Writer::Verifier,
        (DocKind::Cleanup, _) => Writer::CleanupLeader,
        (DocKind::Assessment, "self_score") => Writer::ZoneHolder,
        (DocKind::Assessment, _) => Writer::Secretary,
        (DocKind::Report, _) => Writer::Server,
        (DocKind::Publication, _) => Writer::Manager,
    }
}

/// How long after the fact a publish or reopen may still be recorded.
const LOCK_EVENT_LATE_MS: i64 = 24 * 60 * 60 * 1000;

fn refuse(code: RefusalCode, part: &str, reason: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal::new(code, part, reason))
}

fn not_writer(part: &str, reason: impl Into<String>) -> Result<(), Refusal> {
    refuse(RefusalCode::NotWriter, part, reason)
}

fn out_of_range(part: &str, reason: impl Into<String>) -> Result<(), Refusal> {
    refuse(RefusalCode::OutOfRange, part, reason)
}

fn photos_ok(part: &str, photos: &BTreeMap<String, PhotoRef>) -> Result<(), Refusal> {
    limits::photos(part, photos)
}

/// A reference to a user or a record by key: no longer than a key can be.
fn key_ok(part: &str, what: &str, key: &str) -> Result<(), Refusal> {
    text(part, what, key, KEY_CHARS)
}

fn role_in(
    c: &Change<'_, impl Sized>,
    part: &str,
    roles: &[Role],
    who: &str,
) -> Result<(), Refusal> {
    if roles.contains(&c.actor.role) {
        Ok(())
    } else {
        not_writer(
            part,
            format!(
                "only {who} may change this; you are signed in as {}",
                c.actor.role.label_zh()
            ),
        )
    }
}

/// What a new document's id must name, whatever the change holds (even nothing but the
/// genesis): a branch an admin set up, a month that has begun, a zone that exists; and only the
/// server makes reports.
pub(super) fn new_document(
    actor: &crate::domain::Actor,
    id: &DocId,
    ctx: &super::Context<'_>,
    bounds: &limits::Bounds,
) -> Result<(), Refusal> {
    let no_branch = || {
        not_writer(
            "document",
            format!(
                "there is no branch {} on this phone: sync first, or ask an admin to set it up",
                id.branch()
            ),
        )
    };
    match id {
        DocId::Directory { .. } if actor.role != Role::Admin => {
            not_writer("document", "a new branch is set up by an admin")
        }
        DocId::Report { .. } => not_writer(
            "document",
            "reports are written by the server alone and are read-only",
        ),
        DocId::Assessment { zone, month, .. } => {
            bounds.day("document", "the month", month.first_day(), WORK_DAYS_AHEAD)?;
            let Some(directory) = ctx.directory else {
                return no_branch();
            };
            if !directory.zones.contains_key(zone) {
                return out_of_range(
                    "document",
                    format!("zone {zone} is not in the branch directory"),
                );
            }
            Ok(())
        }
        DocId::Publication { .. } if ctx.directory.is_none() => no_branch(),
        _ => Ok(()),
    }
}

pub(super) fn directory(c: &Change<'_, Directory>) -> Result<(), Refusal> {
    for part in c.touched.keys() {
        match writer_of(DocKind::Directory, part) {
            Writer::Admin => role_in(c, part, &[Role::Admin], "an admin")?,
            _ => role_in(
                c,
                part,
                &[Role::Secretary, Role::Admin],
                "the branch secretary or an admin",
            )?,
        }
    }
    let d = &c.after;
    if d.info.category > 4 {
        out_of_range("info", "a branch category is 1, 2, 3 or 4")?;
    }
    text("info", "the branch's name", &d.info.name, NAME_CHARS)?;
    records("zones", "zones in a branch", &d.zones, ZONES_PER_BRANCH)?;
    records("posts", "posts in a branch", &d.posts, ZONES_PER_BRANCH)?;
    records(
        "members",
        "members in a branch",
        &d.members,
        MEMBERS_PER_BRANCH,
    )?;
    records(
        "templates",
        "checklist templates",
        &d.templates,
        TEMPLATES_PER_BRANCH,
    )?;
    for zone in d.zones.values() {
        text("zones", "a zone's name", &zone.name, NAME_CHARS)?;
        text("zones", "a zone's location", &zone.location, NAME_CHARS)?;
        key_ok("zones", "a zone's template", &zone.template)?;
        records(
            "zones",
            "a zone's holders",
            &zone.holders,
            PEOPLE_PER_RECORD,
        )?;
        records("zones", "a zone's teams", &zone.teams, PEOPLE_PER_RECORD)?;
    }
    for member in d.members.values() {
        text("members", "a member's name", &member.name, NAME_CHARS)?;
        text(
            "members",
            "a member's party group",
            &member.group,
            NAME_CHARS,
        )?;
        text("members", "a member's team", &member.team, NAME_CHARS)?;
    }
    for post in d.posts.values() {
        key_ok("posts", "a post's zone", &post.zone)?;
        text("posts", "a post's title", &post.title, NAME_CHARS)?;
        records(
            "posts",
            "a post's demonstrators",
            &post.demonstrators,
            PEOPLE_PER_RECORD,
        )?;
        text("posts", "a post's standard", &post.standard, TEXT_CHARS)?;
        text("posts", "a post's assessor", &post.assessor, NAME_CHARS)?;
        text(
            "posts",
            "a post's assessment standard",
            &post.assessment,
            TEXT_CHARS,
        )?;
        for day in [post.starts, post.ends].into_iter().flatten() {
            c.bounds
                .day("posts", "a post's term", day.0, POST_TERM_DAYS_AHEAD)?;
        }
        records("posts", "a post's events", &post.events, EVENTS_PER_RECORD)?;
        for event in post.events.values() {
            c.bounds.moment("posts", "a post's event", event.at)?;
            key_ok("posts", "who recorded a post's event", &event.by)?;
            text("posts", "a post event's reason", &event.reason, TEXT_CHARS)?;
        }
    }
    for (id, template) in &d.templates {
        text("templates", "a template's name", &template.name, NAME_CHARS)?;
        records(
            "templates",
            "items of a template",
            &template.items,
            ITEMS_PER_TEMPLATE,
        )?;
        for item in template.items.values() {
            text(
                "templates",
                "an item's category",
                &item.category,
                NAME_CHARS,
            )?;
            text("templates", "an item's text", &item.text, TEXT_CHARS)?;
            records(
                "templates",
                "deductions of an item",
                &item.rules,
                RULES_PER_ITEM,
            )?;
            for rule in item.rules.values() {
                text("templates", "a deduction's text", &rule.text, TEXT_CHARS)?;
            }
            if item.max <= Points::ZERO || item.max > Points::whole(100) {
                out_of_range(
                    "templates",
                    format!("template {id}: an item's maximum must be above 0 and at most 100"),
                )?;
            }
            if item
                .rules
                .values()
                .any(|r| r.points <= Points::ZERO || r.points > item.max)
            {
                out_of_range(
                    "templates",
                    format!(
                        "template {id}: a deduction must be above 0 and at most the item's maximum"
                    ),
                )?;
            }
        }
    }
    for zone in d.zones.values() {
        if !zone.template.is_empty() && !d.templates.contains_key(&zone.template) {
            out_of_range(
                "zones",
                format!(
                    "zone “{}” uses template {}, which does not exist",
                    zone.name, zone.template
                ),
            )?;
        }
    }
    Ok(())
}

pub(super) fn patrol(c: &Change<'_, Patrol>) -> Result<(), Refusal> {
    let leader = if c.before.plan.leader.is_empty() {
        &c.after.plan.leader
    } else {
        &c.before.plan.leader
    };
    for part in c.touched.keys() {
        if c.before.plan.leader.is_empty() {
            role_in(
                c,
                part,
                &[Role::Secretary, Role::Inspector, Role::Manager],
                "a secretary, an inspector or a manager",
            )?;
        }
        if *leader != c.actor.user {
            not_writer(part, "only the patrol's leader may change it")?;
        }
    }
    if c.after.plan.leader != *leader {
        not_writer("plan", "a patrol's leader cannot be changed")?;
    }
    let Some(day) = c.after.plan.date else {
        return out_of_range("plan", "a patrol needs the day of the walk");
    };
    c.bounds
        .day("plan", "the patrol's day", day.0, PLAN_DAYS_AHEAD)?;
    let plan = &c.after.plan;
    records(
        "plan",
        "inspectors on a patrol",
        &plan.inspectors,
        PEOPLE_PER_RECORD,
    )?;
    records("plan", "zones on a patrol", &plan.zones, ZONES_PER_PATROL)?;
    text(
        "notes",
        "the patrol's notes",
        c.after.notes.as_str(),
        TEXT_CHARS,
    )?;
    if let Some(at) = c.after.closed_at {
        c.bounds.moment("closed_at", "closing the patrol", at)?;
    }
    let dates: Vec<_> = [c.before.plan.date, c.after.plan.date]
        .into_iter()
        .flatten()
        .map(|d| d.0)
        .collect();
    check_locks("plan", &dates, c.ctx.locks)
}

pub(super) fn sheet(c: &Change<'_, Sheet>) -> Result<(), Refusal> {
    let DocId::Sheet {
        patrol: patrol_id,
        inspector,
        ..
    } = c.id
    else {
        return out_of_range("document", "not a sheet id");
    };
    for part in c.touched.keys() {
        if *inspector != c.actor.user {
            not_writer(part, "a score sheet is written by its own inspector alone")?;
        }
        role_in(
            c,
            part,
            &[Role::Secretary, Role::Inspector, Role::Manager],
            "an inspector",
        )?;
    }
    let (Some(patrol), Some(directory)) = (c.ctx.patrol, c.ctx.directory) else {
        return not_writer(
            "zones",
            "the patrol and the branch directory are needed to check a sheet: sync first",
        );
    };
    {
        let expected = DocId::Patrol {
            branch: c.id.branch().to_owned(),
            patrol: patrol_id.clone(),
        };
        if patrol.header.id != expected.to_string() {
            return out_of_range("document", "the patrol given does not match the sheet");
        }
        let listed =
            patrol.plan.inspectors.contains_key(inspector) || patrol.plan.leader == *inspector;
        if !listed {
            not_writer(
                "zones",
                "you are not an inspector on this patrol: ask its leader to add you",
            )?;
        }
        let dates: Vec<_> = patrol.plan.date.into_iter().map(|d| d.0).collect();
        check_locks("zones", &dates, c.ctx.locks)?;
    }
    records(
        "zones",
        "zones on a sheet",
        &c.after.zones,
        ZONES_PER_PATROL,
    )?;
    if let Some(at) = c.after.submitted_at {
        c.bounds
            .moment("submitted_at", "submitting the sheet", at)?;
    }
    for (zone_id, zone) in &c.after.zones {
        text("zones", "a zone's note", zone.note.as_str(), TEXT_CHARS)?;
        records("zones", "items of a zone", &zone.items, ITEMS_PER_TEMPLATE)?;
        if !patrol.plan.zones.contains_key(zone_id) {
            return out_of_range(
                "zones",
                format!("zone {zone_id} is not on this patrol: ask its leader to add it"),
            );
        }
        if !directory.templates.contains_key(&zone.template) {
            return out_of_range(
                "zones",
                format!(
                    "zone {zone_id} is scored on template {}, which does not exist",
                    zone.template
                ),
            );
        }
        for (item_id, item) in &zone.items {
            text("zones", "an item's note", item.note.as_str(), TEXT_CHARS)?;
            records(
                "zones",
                "deductions of an item",
                &item.deductions,
                RULES_PER_ITEM,
            )?;
            if item
                .deductions
                .values()
                .any(|n| !(0..=1000).contains(&n.value()))
            {
                out_of_range("zones", "a deduction is counted from 0 to 1000 times")?;
            }
            photos_ok("zones", &item.photos)?;
            let Some(directory) = c.ctx.directory else {
                continue;
            };
            let Some(template) = directory.templates.get(&zone.template) else {
                continue;
            };
            let Some(t_item) = template.items.get(item_id) else {
                return out_of_range(
                    "zones",
                    format!(
                        "checklist item {item_id} is not on template {}",
                        zone.template
                    ),
                );
            };
            if let Some(rule) = item
                .deductions
                .keys()
                .find(|r| !t_item.rules.contains_key(*r))
            {
                return out_of_range(
                    "zones",
                    format!("deduction {rule} is not a rule of item {item_id}"),
                );
            }
        }
    }
    Ok(())
}

/// Records in a part may be added or changed only by the user they name.
fn own_records<'a, T: 'a>(
    c: &Change<'_, Problem>,
    part: &str,
    before: &'a BTreeMap<String, T>,
    after: &'a BTreeMap<String, T>,
    by: fn(&T) -> &str,
) -> Result<(), Refusal> {
    for key in c.touched.get(part).into_iter().flatten() {
        let names = [before.get(key), after.get(key)];
        if names.into_iter().flatten().any(|r| by(r) != c.actor.user) {
            not_writer(
                part,
                "a record is signed by its author and changed by them alone",
            )?;
        }
    }
    Ok(())
}

pub(super) fn problem(c: &Change<'_, Problem>) -> Result<(), Refusal> {
    let (b, a) = (&c.before, &c.after);
    let finding = if b.finding.raised_by.is_empty() {
        &a.finding
    } else {
        &b.finding
    };
    for part in c.touched.keys() {
        let who = StepActor {
            role: c.actor.role,
            is_responsible: finding.responsible == c.actor.user,
            is_raiser: finding.raised_by == c.actor.user,
            // Judged on the state after the change, so nobody rectifies and verifies at once.
            rectified_it: a.rectifications.values().any(|r| r.by == c.actor.user),
        };
        match writer_of(DocKind::Problem, part) {
            Writer::Raiser => {
                may_take(Step::Raise, who).or_else(|r| not_writer(part, r))?;
                if !who.is_raiser {
                    not_writer(
                        part,
                        "only whoever raised the problem may change the finding",
                    )?;
                }
            }
            Writer::Responsible => {
                may_take(Step::Rectify, who).or_else(|r| not_writer(part, r))?;
                own_records(c, part, &b.rectifications, &a.rectifications, |r| &r.by)?;
            }
            _ => {
                may_take(Step::Verify, who).or_else(|r| not_writer(part, r))?;
                own_records(c, part, &b.verifications, &a.verifications, |v| &v.by)?;
            }
        }
    }
    if a.finding.raised_by != finding.raised_by {
        not_writer("finding", "who raised a problem cannot be changed")?;
    }
    if a.finding.zone.is_empty() || a.finding.responsible.is_empty() || a.finding.deadline.is_none()
    {
        out_of_range(
            "finding",
            "a problem needs its zone, the responsible member and a deadline",
        )?;
    }
    let Some(directory) = c.ctx.directory else {
        return not_writer(
            "finding",
            "the branch directory is needed to check a problem: sync first",
        );
    };
    if c.touched.contains_key("finding") {
        // Checked when the finding is written, so that a fix or a verification is never
        // refused for what someone else wrote long ago.
        let f = &a.finding;
        if !directory.zones.contains_key(&f.zone) {
            out_of_range(
                "finding",
                format!("zone {} is not in the branch directory", f.zone),
            )?;
        }
        let known = directory.members.contains_key(&f.responsible)
            || directory
                .zones
                .values()
                .any(|z| z.holders.contains_key(&f.responsible));
        if !known {
            out_of_range(
                "finding",
                format!(
                    "the responsible member {} is not in the branch directory: choose a member \
                     of the branch",
                    f.responsible
                ),
            )?;
        }
        c.bounds
            .moment("finding", "raising the problem", f.raised_at)?;
        if let Some(deadline) = f.deadline {
            c.bounds
                .day("finding", "the deadline", deadline.0, DEADLINE_DAYS_AHEAD)?;
        }
        text(
            "finding",
            "the description",
            f.description.as_str(),
            TEXT_CHARS,
        )?;
        text("finding", "the measure", f.measure.as_str(), TEXT_CHARS)?;
        for key in [&f.zone, &f.responsible]
            .into_iter()
            .chain(&f.patrol)
            .chain(&f.item)
        {
            key_ok("finding", "a reference", key)?;
        }
        photos_ok("finding", &f.photos)?;
    }
    records(
        "rectifications",
        "fixes of a problem",
        &a.rectifications,
        EVENTS_PER_RECORD,
    )?;
    records(
        "verifications",
        "verifications of a problem",
        &a.verifications,
        EVENTS_PER_RECORD,
    )?;
    for key in c.touched.get("rectifications").into_iter().flatten() {
        if let Some(r) = a.rectifications.get(key) {
            c.bounds.moment("rectifications", "a fix", r.at)?;
            text(
                "rectifications",
                "a fix's note",
                r.note.as_str(),
                TEXT_CHARS,
            )?;
            photos_ok("rectifications", &r.photos)?;
        }
    }
    for key in c.touched.get("verifications").into_iter().flatten() {
        if let Some(v) = a.verifications.get(key) {
            c.bounds.moment("verifications", "a verification", v.at)?;
            text(
                "verifications",
                "a verification's note",
                v.note.as_str(),
                TEXT_CHARS,
            )?;
        }
    }
    Ok(())
}

pub(super) fn cleanup(c: &Change<'_, Cleanup>) -> Result<(), Refusal> {
    let leader = if c.before.log.leader.is_empty() {
        &c.after.log.leader
    } else {
        &c.before.log.leader
    };
    for part in c.touched.keys() {
        role_in(
            c,
            part,
            &[Role::TeamLeader],
            "the team leader who logs the cleanup",
        )?;
        if *leader != c.actor.user {
            not_writer(
                part,
                "only the team leader who logged the cleanup may change it",
            )?;
        }
    }
    let log = &c.after.log;
    if log.leader != *leader {
        not_writer("log", "a cleanup's team leader cannot be changed")?;
    }
    if log.date.is_none() || log.zone.is_empty() {
        out_of_range("log", "a cleanup needs its zone and day")?;
    }
    let Some(directory) = c.ctx.directory else {
        return not_writer(
            "log",
            "the branch directory is needed to check a cleanup: sync first",
        );
    };
    if !directory.zones.contains_key(&log.zone) {
        out_of_range(
            "log",
            format!("zone {} is not in the branch directory", log.zone),
        )?;
    }
    if let Some(day) = log.date {
        c.bounds
            .day("log", "the cleanup's day", day.0, WORK_DAYS_AHEAD)?;
    }
    if log.person_times > PERSON_TIMES {
        out_of_range(
            "log",
            format!("person-times must be at most {PERSON_TIMES}"),
        )?;
    }
    records(
        "log",
        "participants",
        &log.participants,
        CLEANUP_PARTICIPANTS,
    )?;
    records("log", "work items", &log.items, CLEANUP_ITEMS)?;
    text("log", "the team", &log.team, NAME_CHARS)?;
    text("log", "the cleanup's note", log.note.as_str(), TEXT_CHARS)?;
    for item in log.items.values() {
        if !(0..=QUANTITY_MILLI).contains(&item.quantity_milli) || item.unit.is_empty() {
            out_of_range(
                "log",
                "a work item needs a quantity from zero to a million and a unit",
            )?;
        }
        text("log", "a work item", &item.what, NAME_CHARS)?;
        text("log", "a unit", &item.unit, NAME_CHARS)?;
    }
    photos_ok("log", &log.before)?;
    photos_ok("log", &log.after)?;
    let dates: Vec<_> = [c.before.log.date, log.date]
        .into_iter()
        .flatten()
        .map(|d| d.0)
        .collect();
    check_locks("log", &dates, c.ctx.locks)
}

fn scores_ok(
    part: &str,
    scores: &Scores,
    actor: &str,
    bounds: &limits::Bounds,
) -> Result<(), Refusal> {
    text(part, "the note", scores.note.as_str(), TEXT_CHARS)?;
    if let Some(at) = scores.at {
        bounds.moment(part, "the score", at)?;
    }
    for (key, points) in &scores.items {
        if AssessmentItem::from_key(key).is_none() {
            out_of_range(
                part,
                format!("“{key}” is not one of the ten assessment items"),
            )?;
        }
        if *points < Points::ZERO || *points > AssessmentItem::MAX {
            out_of_range(
                part,
                format!(
                    "a score must be from 0 to {}; {key} has {points}",
                    AssessmentItem::MAX
                ),
            )?;
        }
    }
    if scores.by != actor {
        not_writer(
            part,
            "scores are signed by whoever gives them: sign with your own name",
        )?;
    }
    Ok(())
}

pub(super) fn assessment(c: &Change<'_, Assessment>) -> Result<(), Refusal> {
    let DocId::Assessment { zone, month, .. } = c.id else {
        return out_of_range("document", "not an assessment id");
    };
    for part in c.touched.keys() {
        match writer_of(DocKind::Assessment, part) {
            Writer::ZoneHolder => {
                let Some(directory) = c.ctx.directory else {
                    return not_writer(
                        part,
                        "the branch directory is needed to know the zone's holders: sync first",
                    );
                };
                if !directory.holds(&c.actor.user, zone) {
                    not_writer(
                        part,
                        "only a member responsible for the zone gives its self-score",
                    )?;
                }
                scores_ok(part, &c.after.self_score, &c.actor.user, &c.bounds)?;
            }
            _ => {
                role_in(c, part, &[Role::Secretary], "the branch secretary")?;
                scores_ok(part, &c.after.branch_score, &c.actor.user, &c.bounds)?;
            }
        }
        check_period_locks(part, month.first_day(), month.last_day(), c.ctx.locks)?;
    }
    Ok(())
}

pub(super) fn report(c: &Change<'_, Report>) -> Result<(), Refusal> {
    match c.touched.keys().next() {
        Some(part) => not_writer(
            part,
            "reports are written by the server alone and are read-only",
        ),
        None => Ok(()),
    }
}

pub(super) fn publication(c: &Change<'_, Publication>) -> Result<(), Refusal> {
    for part in c.touched.keys() {
        role_in(c, part, &[Role::Manager], "a manager")?;
    }
    records(
        "events",
        "publish and reopen events",
        &c.after.events,
        LOCK_EVENTS,
    )?;
    let next = c.before.next_seq();
    for key in c.touched.get("events").into_iter().flatten() {
        if c.before.events.contains_key(key) {
            not_writer(
                "events",
                "a publish or reopen is on the record and cannot be changed or removed",
            )?;
        }
        let Some(event) = c.after.events.get(key) else {
            continue;
        };
        if event.by != c.actor.user {
            not_writer(
                "events",
                "a publish or reopen is signed by the manager who does it",
            )?;
        }
        c.bounds.moment("events", "a publish or reopen", event.at)?;
        if c.ctx
            .now_millis
            .is_some_and(|now| event.at < now.saturating_sub(LOCK_EVENT_LATE_MS))
        {
            out_of_range(
                "events",
                "a publish or reopen is dated more than a day ago: record it when it happens",
            )?;
        }
        if event.seq != next {
            out_of_range(
                "events",
                format!(
                    "a publish or reopen must come after the {} already recorded (seq {next}): \
                     sync first",
                    next - 1
                ),
            )?;
        }
        match event.period.parse::<crate::rules::Period>() {
            Ok(period) => c.bounds.day(
                "events",
                "the period published",
                period.first_day(),
                limits::RESULTS_DAYS_AHEAD,
            )?,
            Err(_) => {
                let shown = limits::shorten(&event.period, 20);
                out_of_range("events", format!("“{shown}” is not a period"))?;
            }
        }
    }
    Ok(())
}
