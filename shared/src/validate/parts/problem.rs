//! A problem: the raiser's finding, the responsible member's fixes, the verifications.

use std::collections::BTreeMap;

use super::{Writer, key_ok, not_writer, out_of_range, photos_ok, writer_of};
use crate::docs::{DocKind, Outcome, Problem, Rectification, Verification};
use crate::domain::Role;
use crate::rules::problem::{ProblemStatus, Step, StepActor, may_take, timeline};
use crate::validate::limits::{DEADLINE_DAYS_AHEAD, EVENTS_PER_RECORD, TEXT_CHARS, records, text};
use crate::validate::{Change, Refusal};

/// Records in a part may be added or changed only by the user they name.
fn own_records<'a, T: PartialEq + 'a>(
    c: &Change<'_, Problem>,
    part: &str,
    before: &'a BTreeMap<String, T>,
    after: &'a BTreeMap<String, T>,
    by: fn(&T) -> &str,
) -> Result<(), Refusal> {
    for key in c.touched.get(part).into_iter().flatten() {
        if before.get(key) == after.get(key) {
            // Written back as it was (two phones filling the same new field at once).
            continue;
        }
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

pub(in crate::validate) fn problem(c: &Change<'_, Problem>) -> Result<(), Refusal> {
    let (b, a) = (&c.before, &c.after);
    let finding = if b.finding.raised_by.is_empty() {
        &a.finding
    } else {
        &b.finding
    };
    for part in c.touched.keys() {
        let who = StepActor {
            roles: c.actor.roles(),
            is_responsible: finding.responsible == c.actor.user,
            is_raiser: finding.raised_by == c.actor.user,
            // Judged on the state after the change, so nobody rectifies and verifies at once.
            rectified_it: a.fixes().any(|(_, r)| r.by == c.actor.user),
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
        let was = b.rectifications.get(key);
        let now = a.rectifications.get(key);
        // A fix or a request stays as written: the loop and the deadline are derived from
        // them, so moving one (its time above all) would rewrite what others judged.
        if was.is_some_and(|w| !w.is_fix()) && now != was {
            not_writer(
                "rectifications",
                "a request for more time is on the record and cannot be changed or removed: ask \
                 again if the answer allows",
            )?;
        }
        if was.is_some() && now != was {
            not_writer(
                "rectifications",
                "a fix is on the record and cannot be changed or removed: record a new one",
            )?;
        }
        if was.is_some() {
            // Written back as it was: checked when it was new.
            continue;
        }
        if let Some(r) = now
            && was.is_none()
            && !r.is_fix()
        {
            extension_request(c, key, r)?;
            continue;
        }
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
    let facts = a.facts();
    let applied: BTreeMap<&str, Option<ProblemStatus>> = timeline(&facts)
        .into_iter()
        .map(|(f, now)| (f.id.as_str(), now))
        .collect();
    for key in c.touched.get("verifications").into_iter().flatten() {
        if b.verifications
            .get(key)
            .is_some_and(|was| a.verifications.get(key) != Some(was))
        {
            not_writer(
                "verifications",
                "a verification or reopening is on the record and cannot be changed or removed: \
                 record a new one",
            )?;
        }
        if b.verifications.contains_key(key) {
            // Written back as it was: checked when it was new.
            continue;
        }
        match a.verifications.get(key) {
            Some(v) if v.outcome.judges_fix() => {
                verification(c, key, v, applied.get(key.as_str()).copied().flatten())?;
            }
            Some(v) => extension_answer(c, key, v)?,
            None => {}
        }
    }
    Ok(())
}

/// A new judgement, request or answer is never dated before the records already there: a
/// phone's clock (or a forged time) cannot slip one under what others did, undoing a
/// verification already made or asking for more time before a deadline now past. A fix is
/// not held to this: the holder's work done offline is never refused for its time.
fn not_before_latest(
    c: &Change<'_, Problem>,
    part: &str,
    what: &str,
    at: i64,
) -> Result<(), Refusal> {
    let b = &c.before;
    let latest = b
        .rectifications
        .values()
        .map(|r| r.at)
        .chain(b.verifications.values().map(|v| v.at))
        .max();
    match latest {
        Some(latest) if at <= latest => out_of_range(
            part,
            format!(
                "{what} is dated before the latest record of this problem: sync, look at it again \
                 and check the phone's clock"
            ),
        ),
        _ => Ok(()),
    }
}

/// A new verification or reopening: it must take the problem somewhere where it falls in the
/// loop, a reopening says what is still wrong, and only a reopening sets a new deadline.
fn verification(
    c: &Change<'_, Problem>,
    key: &str,
    v: &Verification,
    now: Option<ProblemStatus>,
) -> Result<(), Refusal> {
    const PART: &str = "verifications";
    c.bounds.moment(PART, "a verification", v.at)?;
    text(PART, "a verification's note", v.note.as_str(), TEXT_CHARS)?;
    key_ok(PART, "a verification's id", key)?;
    not_before_latest(c, PART, "the verification or reopening", v.at)?;
    if v.request.is_some() {
        return out_of_range(
            PART,
            "a verification or reopening answers no request for more time",
        );
    }
    if now.is_none() {
        return out_of_range(
            PART,
            match v.outcome {
                Outcome::Verified => {
                    "there is no fix waiting to be verified at that time (it was verified or \
                     reopened meanwhile, or not fixed yet): sync and look again"
                }
                _ => "only a fixed or verified problem can be reopened: sync and look again",
            },
        );
    }
    match (v.outcome, v.deadline) {
        (Outcome::Reopened, _) if v.note.as_str().trim().is_empty() => out_of_range(
            PART,
            "a reopening says what is still wrong: write it in the note",
        ),
        (Outcome::Verified, Some(_)) => out_of_range(PART, "only a reopening sets a new deadline"),
        (Outcome::Reopened, Some(deadline)) => {
            c.bounds
                .day(PART, "the new deadline", deadline.0, DEADLINE_DAYS_AHEAD)?;
            match c.ctx.clock.date_of_millis(v.at) {
                Some(day) if deadline.0 < day => out_of_range(
                    PART,
                    format!(
                        "the new deadline {deadline} is before the day of the reopening \
                         ({day}): give a day from then on"
                    ),
                ),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// A new request for more time (延期申请) by the responsible member: with a reason, for a day
/// after the deadline in force, asked on or before that deadline, one at a time, while the
/// problem waits for its fix. Judged by the day it was asked on the phone, which may be days
/// before it reaches the server.
fn extension_request(c: &Change<'_, Problem>, key: &str, r: &Rectification) -> Result<(), Refusal> {
    const PART: &str = "rectifications";
    let Some(until) = r.extension else {
        return Ok(());
    };
    c.bounds.moment(PART, "a request for more time", r.at)?;
    not_before_latest(c, PART, "the request for more time", r.at)?;
    key_ok(PART, "a request's id", key)?;
    text(PART, "the reason", r.note.as_str(), TEXT_CHARS)?;
    if r.note.as_str().trim().is_empty() {
        return out_of_range(PART, "a request for more time says why: write the reason");
    }
    if !r.photos.is_empty() {
        return out_of_range(
            PART,
            "a request for more time carries no photos: record the fix with its after-photo",
        );
    }
    let before = &c.before;
    if !before.status().awaits_rectification() {
        return out_of_range(
            PART,
            "only a problem waiting for its fix is given more time: this one is fixed or closed",
        );
    }
    let fixed = c.after.fixes().map(|(_, r)| r.at).max().unwrap_or(i64::MIN);
    let waiting = c
        .after
        .extensions()
        .into_iter()
        .filter(|e| e.answer.is_none() && e.request.at > fixed)
        .count();
    if before.pending_extension().is_some() || waiting > 1 {
        return out_of_range(
            PART,
            "a request for more time is already waiting for the secretary's answer: wait for it",
        );
    }
    let Some(current) = before.deadline() else {
        return out_of_range(PART, "the problem has no deadline to extend");
    };
    if let Some(asked) = c.ctx.clock.date_of_millis(r.at)
        && asked > current.0
    {
        return out_of_range(
            PART,
            format!(
                "the deadline {current} passed before the request ({asked}): more time is asked \
                 for before the deadline; record the fix, or talk to the secretary"
            ),
        );
    }
    if until <= current {
        return out_of_range(
            PART,
            format!("ask for a day after the deadline in force ({current})"),
        );
    }
    c.bounds
        .day(PART, "the deadline asked for", until.0, DEADLINE_DAYS_AHEAD)
}

/// The secretary's answer to a request for more time: the first answer to a request on the
/// record; a grant gives a day after the deadline in force, a refusal says why.
fn extension_answer(c: &Change<'_, Problem>, key: &str, v: &Verification) -> Result<(), Refusal> {
    const PART: &str = "verifications";
    if !c.actor.has(Role::Secretary) {
        return not_writer(
            PART,
            "only the branch secretary answers a request for more time",
        );
    }
    c.bounds
        .moment(PART, "an answer to a request for more time", v.at)?;
    key_ok(PART, "an answer's id", key)?;
    text(PART, "an answer's reason", v.note.as_str(), TEXT_CHARS)?;
    let Some(request) = v.request.as_deref() else {
        return out_of_range(PART, "an answer names the request for more time it answers");
    };
    let extensions = c.after.extensions();
    let Some(ext) = extensions.iter().find(|e| e.id == request) else {
        return out_of_range(
            PART,
            "there is no such request for more time: sync and look again",
        );
    };
    if ext.request.by == c.actor.user {
        return not_writer(
            PART,
            "nobody answers their own request for more time: the party committee decides it",
        );
    }
    if ext.answer.is_some_and(|(k, _)| k != key) {
        return out_of_range(
            PART,
            "this request for more time is already answered: sync and look again",
        );
    }
    if c.before.pending_extension().map(|e| e.id) != Some(request) {
        return out_of_range(
            PART,
            "this request for more time no longer waits for an answer (a fix came after it): \
             sync and look again",
        );
    }
    if v.at < ext.request.at {
        return out_of_range(PART, "an answer cannot be dated before the request");
    }
    not_before_latest(c, PART, "the answer", v.at)?;
    match (v.outcome, v.deadline) {
        (Outcome::Extended, None) => out_of_range(PART, "a granted request gives the new deadline"),
        (Outcome::Extended, Some(day)) => {
            c.bounds
                .day(PART, "the new deadline", day.0, DEADLINE_DAYS_AHEAD)?;
            if let Some(answered) = c.ctx.clock.date_of_millis(v.at)
                && day.0 < answered
            {
                return out_of_range(
                    PART,
                    format!(
                        "the new deadline {day} is before the day of the answer ({answered}): \
                         give a day from then on"
                    ),
                );
            }
            match c.before.deadline() {
                Some(current) if day <= current => out_of_range(
                    PART,
                    format!("grant a day after the deadline in force ({current})"),
                ),
                _ => Ok(()),
            }
        }
        (_, Some(_)) => out_of_range(PART, "a refused request sets no deadline"),
        (_, None) if v.note.as_str().trim().is_empty() => {
            out_of_range(PART, "a refused request says why: write the reason")
        }
        _ => Ok(()),
    }
}
