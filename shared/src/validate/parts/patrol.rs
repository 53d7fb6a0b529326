//! A patrol: its leader, its day and its plan.

use super::{not_writer, out_of_range, role_in};
use crate::docs::Patrol;
use crate::domain::Role;
use crate::validate::limits::{
    PEOPLE_PER_RECORD, PLAN_DAYS_AHEAD, TEXT_CHARS, ZONES_PER_PATROL, records, text,
};
use crate::validate::locks::check_unlocked;
use crate::validate::{Change, Refusal};

pub(in crate::validate) fn patrol(c: &Change<'_, Patrol>) -> Result<(), Refusal> {
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
    // Its kind decides how its sheets are shown: a weekly inspection's only three or more
    // together. Changed afterwards, fewer would show, one inspector's own marks.
    if !c.before.plan.leader.is_empty() && c.after.plan.kind != c.before.plan.kind {
        not_writer(
            "plan",
            "a patrol's kind cannot be changed once it is planned: start a new patrol",
        )?;
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
    // Naming someone on a patrol lets them read the branch's directory and write a sheet that
    // counts: a branch's own patrol names its members; only a manager's (the party
    // committee's inspection) draws inspectors from other branches.
    if !c.actor.is_company_wide() {
        let added = plan
            .inspectors
            .keys()
            .filter(|u| !c.before.plan.inspectors.contains_key(*u) && **u != *leader);
        for user in added {
            let member = c
                .ctx
                .directory
                .is_some_and(|d| d.members.contains_key(user));
            if !member {
                let shown = crate::validate::limits::shorten(user, 64);
                out_of_range(
                    "plan",
                    format!(
                        "{shown} is not a member of this branch: a branch's patrol names its own members; \
                         inspectors from other branches join a manager's patrol"
                    ),
                )?;
            }
        }
    }
    text(
        "notes",
        "the patrol's notes",
        c.after.notes.as_str(),
        TEXT_CHARS,
    )?;
    if let Some(at) = c.after.closed_at {
        c.bounds.moment("closed_at", "closing the patrol", at)?;
    }
    // Moving a patrol out of a published period is refused as well as into one.
    for day in [c.before.plan.date, c.after.plan.date]
        .into_iter()
        .flatten()
    {
        check_unlocked("plan", day.0, c.ctx.locks)?;
    }
    Ok(())
}
