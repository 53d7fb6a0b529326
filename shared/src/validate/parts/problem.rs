//! A problem: the raiser's finding, the responsible member's fixes, the verifications.

use std::collections::BTreeMap;

use super::{Writer, key_ok, not_writer, out_of_range, photos_ok, writer_of};
use crate::docs::{DocKind, Outcome, Problem, Verification};
use crate::rules::problem::{ProblemStatus, Step, StepActor, may_take, timeline};
use crate::validate::limits::{DEADLINE_DAYS_AHEAD, EVENTS_PER_RECORD, TEXT_CHARS, records, text};
use crate::validate::{Change, Refusal};

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
    let facts = a.facts();
    let applied: BTreeMap<&str, Option<ProblemStatus>> = timeline(&facts)
        .into_iter()
        .map(|(f, now)| (f.id.as_str(), now))
        .collect();
    for key in c.touched.get("verifications").into_iter().flatten() {
        if b.verifications.contains_key(key) {
            not_writer(
                "verifications",
                "a verification or reopening is on the record and cannot be changed or removed: \
                 record a new one",
            )?;
        }
        if let Some(v) = a.verifications.get(key) {
            verification(c, key, v, applied.get(key.as_str()).copied().flatten())?;
        }
    }
    Ok(())
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
    if now.is_none() {
        return out_of_range(
            PART,
            match v.outcome {
                Outcome::Verified => {
                    "there is no fix waiting to be verified at that time (it was verified or \
                     reopened meanwhile, or not fixed yet): sync and look again"
                }
                Outcome::Reopened => {
                    "only a fixed or verified problem can be reopened: sync and look again"
                }
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
