//! Published results: the server's reports, and the managers' publish and reopen events.

use super::{not_writer, out_of_range, role_in};
use crate::docs::{Publication, Report};
use crate::domain::Role;
use crate::validate::limits::{self, LOCK_EVENTS, records};
use crate::validate::{Change, Refusal};

/// How long after the fact a publish or reopen may still be recorded.
const LOCK_EVENT_LATE_MS: i64 = 24 * 60 * 60 * 1000;

pub(in crate::validate) fn report(c: &Change<'_, Report>) -> Result<(), Refusal> {
    match c.touched.keys().next() {
        Some(part) => not_writer(
            part,
            "reports are written by the server alone and are read-only",
        ),
        None => Ok(()),
    }
}

pub(in crate::validate) fn publication(c: &Change<'_, Publication>) -> Result<(), Refusal> {
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
        match event.parsed_period() {
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
