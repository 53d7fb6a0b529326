//! Who writes which part of each document, and what values each part may hold.

use std::collections::BTreeMap;

use super::{Change, Refusal, RefusalCode, check_locks, check_period_locks};
use crate::docs::values::is_sha256_hex;
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

/// How far ahead of the server's clock a phone's clock may run.
const MAX_CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

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
    for (hash, photo) in photos {
        if !is_sha256_hex(hash) || !(photo.thumb.is_empty() || is_sha256_hex(&photo.thumb)) {
            return out_of_range(
                part,
                "a photo must be named by the SHA-256 of its bytes: retake or re-add it",
            );
        }
    }
    Ok(())
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
    for (id, template) in &d.templates {
        for item in template.items.values() {
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
    if c.after.plan.date.is_none() {
        out_of_range("plan", "a patrol needs the day of the walk")?;
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
    for (zone_id, zone) in &c.after.zones {
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
    if !directory.zones.contains_key(&a.finding.zone) {
        out_of_range(
            "finding",
            format!("zone {} is not in the branch directory", a.finding.zone),
        )?;
    }
    if let Some(now) = c.ctx.now_millis {
        let future = |at: i64| at > now.saturating_add(MAX_CLOCK_SKEW_MS);
        let new_times = c
            .touched
            .get("rectifications")
            .into_iter()
            .flatten()
            .filter_map(|k| a.rectifications.get(k).map(|r| r.at))
            .chain(
                c.touched
                    .get("verifications")
                    .into_iter()
                    .flatten()
                    .filter_map(|k| a.verifications.get(k).map(|v| v.at)),
            )
            .chain(
                c.touched
                    .contains_key("finding")
                    .then_some(a.finding.raised_at),
            );
        for at in new_times {
            if future(at) {
                out_of_range(
                    "document",
                    "a record is dated in the future: check the phone's clock",
                )?;
            }
        }
    }
    photos_ok("finding", &a.finding.photos)?;
    for r in a.rectifications.values() {
        photos_ok("rectifications", &r.photos)?;
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
    if log.person_times > 100_000 {
        out_of_range("log", "person-times must be at most 100,000")?;
    }
    if log
        .items
        .values()
        .any(|i| i.quantity_milli < 0 || i.unit.is_empty())
    {
        out_of_range(
            "log",
            "a work item needs a quantity of zero or more and a unit",
        )?;
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

fn scores_ok(part: &str, scores: &Scores, actor: &str) -> Result<(), Refusal> {
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
                scores_ok(part, &c.after.self_score, &c.actor.user)?;
            }
            _ => {
                role_in(c, part, &[Role::Secretary], "the branch secretary")?;
                scores_ok(part, &c.after.branch_score, &c.actor.user)?;
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
        if c.ctx
            .now_millis
            .is_some_and(|now| event.at > now.saturating_add(MAX_CLOCK_SKEW_MS))
        {
            out_of_range(
                "events",
                "a publish or reopen is dated in the future: check the clock",
            )?;
        }
        if event.period.parse::<crate::rules::Period>().is_err() {
            out_of_range("events", format!("“{}” is not a period", event.period))?;
        }
    }
    Ok(())
}
