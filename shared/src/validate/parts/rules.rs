//! The mine's rules: versions written by admins, on the record and never changed, each
//! applying from this month or a later one (earlier months keep theirs; a published period
//! keeps its frozen report whatever the month).

use super::{not_writer, out_of_range, role_in};
use crate::docs::Rules;
use crate::domain::Role;
use crate::labels::Lang;
use crate::points::Points;
use crate::rules::assessment::form_fixed;
use crate::rules::period::{Period, PeriodKind};
use crate::validate::limits::{LOCK_EVENTS, records};
use crate::validate::{Change, Refusal};

pub(in crate::validate) fn rules(c: &Change<'_, Rules>) -> Result<(), Refusal> {
    for part in c.touched.keys() {
        role_in(c, part, &[Role::Admin], "an admin")?;
    }
    records(
        "versions",
        "versions of the rules",
        &c.after.versions,
        LOCK_EVENTS,
    )?;
    for key in c.touched.get("versions").into_iter().flatten() {
        if c.before.versions.contains_key(key) {
            not_writer(
                "versions",
                "a version of the rules is on the record and cannot be changed or removed: \
                 write a new one",
            )?;
        }
        let Some(v) = c.after.versions.get(key) else {
            continue;
        };
        if v.by != c.actor.user {
            not_writer(
                "versions",
                "a version of the rules is signed by the admin who writes it",
            )?;
        }
        c.bounds
            .moment("versions", "a version of the rules", v.at)?;
        let Some(from) = v.from_month() else {
            return out_of_range(
                "versions",
                "a version applies from a month, written 2026-12",
            );
        };
        if let Some(today) = c.bounds.today {
            let this_month = Period::containing(PeriodKind::Month, today);
            if from < this_month {
                out_of_range(
                    "versions",
                    format!(
                        "rules apply from this month ({this_month}) or a later one: earlier \
                         months keep the rules they were computed with"
                    ),
                )?;
            }
        }
        let hundred = Points::whole(100);
        let in_range = |p: Points| Points::ZERO <= p && p <= hundred;
        if !in_range(v.bonus_above) || !in_range(v.penalty_below) || v.penalty_below > v.bonus_above
        {
            out_of_range(
                "versions",
                "the money thresholds are 0–100, the penalty's at most the bonus's",
            )?;
        }
        if !(0..=100_000).contains(&v.fen_per_point) {
            out_of_range("versions", "the money rate is 0 to 1,000 yuan a point")?;
        }
        // A result must rest on three sheets or more, after the highest and lowest are
        // dropped too: fewer would tell an inspector's own total.
        if !(5..=50).contains(&v.trim_from) || !(3..=50).contains(&v.min_sheets) {
            out_of_range(
                "versions",
                "the highest and lowest are dropped from 5 to 50 inspectors, and a result needs 3 \
                 to 50 sheets, so that no inspector's own total can be told",
            )?;
        }
        if v.mutual_weight
            .is_some_and(|w| w > crate::rules::mutual::MAX_WEIGHT_PERCENT)
        {
            out_of_range(
                "versions",
                format!(
                    "the mutual evaluation weighs 0 to {}% of the branch composite",
                    crate::rules::mutual::MAX_WEIGHT_PERCENT
                ),
            )?;
        }
        let form = v.form();
        if let Err(problem) = form.check() {
            out_of_range("versions", problem.says(Lang::En))?;
        }
        // Scores of a month are given on its form: once the month may have begun, it stays.
        let fixed = c.bounds.today.is_some_and(|today| form_fixed(from, today));
        if fixed && form != c.before.form_for(from) {
            out_of_range(
                "versions",
                format!(
                    "the assessment items of {from} are in use: change them from a later month"
                ),
            )?;
        }
        if v.grades.len() != 4
            || v.grades
                .keys()
                .any(|k| !["1", "2", "3", "4"].contains(&k.as_str()))
            || v.grades
                .values()
                .any(|g| !in_range(g.pass) || !in_range(g.excellent) || g.pass > g.excellent)
        {
            out_of_range(
                "versions",
                "each category 1–4 has a pass mark at most its excellent mark, both 0–100",
            )?;
        }
    }
    Ok(())
}
