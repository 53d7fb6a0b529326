//! A cleanup log: its team leader, its zone and day, the work done.

use super::{not_writer, out_of_range, photos_ok, role_in};
use crate::docs::Cleanup;
use crate::domain::Role;
use crate::validate::limits::{
    CLEANUP_ITEMS, CLEANUP_PARTICIPANTS, NAME_CHARS, PERSON_TIMES, QUANTITY_MILLI, TEXT_CHARS,
    WORK_DAYS_AHEAD, records, text,
};
use crate::validate::locks::check_unlocked;
use crate::validate::{Change, Refusal};

pub(in crate::validate) fn cleanup(c: &Change<'_, Cleanup>) -> Result<(), Refusal> {
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
    for day in [c.before.log.date, log.date].into_iter().flatten() {
        check_unlocked("log", day.0, c.ctx.locks)?;
    }
    Ok(())
}
