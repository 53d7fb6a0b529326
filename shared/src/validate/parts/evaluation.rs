//! The mutual evaluation: a branch's secretary marks the other branches, never their own; a
//! manager records special-activity bonuses with a reason, on the record.

use super::{not_writer, out_of_range, role_in};
use crate::docs::{DocId, Evaluation, is_valid_name};
use crate::domain::Role;
use crate::points::Points;
use crate::validate::limits::{
    BONUS_MAX, BRANCHES, EVENTS_PER_RECORD, RESULTS_DAYS_AHEAD, TEXT_CHARS, records, text,
};
use crate::validate::locks::check_unlocked;
use crate::validate::{Change, Refusal};

pub(in crate::validate) fn evaluation(c: &Change<'_, Evaluation>) -> Result<(), Refusal> {
    let DocId::Evaluation { branch, quarter } = c.id else {
        return out_of_range("document", "not an evaluation id");
    };
    c.bounds.day(
        "document",
        "the quarter",
        quarter.first_day(),
        RESULTS_DAYS_AHEAD,
    )?;
    if let Some(today) = c.bounds.today
        && quarter.first_day() > today
    {
        return out_of_range(
            "document",
            format!("the quarter {quarter} has not begun: evaluate a quarter under way or past"),
        );
    }
    if let Some(keys) = c.touched.get("marks") {
        role_in(
            c,
            "marks",
            &[Role::Secretary],
            "the branch secretary (for their own branch)",
        )?;
        records("marks", "marks given", &c.after.marks, BRANCHES)?;
        check_unlocked("marks", *quarter, c.ctx.locks)?;
        for key in keys {
            if !is_valid_name(key) {
                out_of_range("marks", "a mark goes to a branch, named by its id")?;
            }
            if c.before.marks.contains_key(key) {
                // Given once and kept: a mark that moved afterwards would tell, by how much
                // the branch's result moved, what this branch gave.
                not_writer(
                    "marks",
                    "a mark is given once and kept: it cannot be changed or taken back",
                )?;
            }
            if key == branch {
                out_of_range(
                    "marks",
                    "a branch does not mark itself in the mutual evaluation: mark the others",
                )?;
            }
            let Some(mark) = c.after.marks.get(key) else {
                continue;
            };
            if mark.by != c.actor.user {
                not_writer("marks", "a mark is signed by the secretary who gives it")?;
            }
            c.bounds.moment("marks", "a mark", mark.at)?;
            if !(Points::ZERO..=Points::whole(100)).contains(&mark.points) {
                out_of_range("marks", "a mark is 0 to 100")?;
            }
        }
    }
    if let Some(keys) = c.touched.get("bonuses") {
        role_in(c, "bonuses", &[Role::Manager], "a manager")?;
        records("bonuses", "bonuses", &c.after.bonuses, EVENTS_PER_RECORD)?;
        check_unlocked("bonuses", *quarter, c.ctx.locks)?;
        for key in keys {
            if c.before.bonuses.contains_key(key) {
                not_writer(
                    "bonuses",
                    "a bonus is on the record and cannot be changed or removed",
                )?;
            }
            let Some(bonus) = c.after.bonuses.get(key) else {
                continue;
            };
            if bonus.by != c.actor.user {
                not_writer("bonuses", "a bonus is signed by the manager who gives it")?;
            }
            c.bounds.moment("bonuses", "a bonus", bonus.at)?;
            if bonus.points <= Points::ZERO || bonus.points > Points::whole(BONUS_MAX) {
                out_of_range(
                    "bonuses",
                    format!(
                        "a special-activity bonus is more than 0 and at most {BONUS_MAX} points"
                    ),
                )?;
            }
            if bonus.reason.as_str().trim().is_empty() {
                out_of_range("bonuses", "say which activity earns the bonus, and why")?;
            }
            text(
                "bonuses",
                "a bonus's reason",
                bonus.reason.as_str(),
                TEXT_CHARS,
            )?;
        }
        if c.after.bonus() > Points::whole(BONUS_MAX) {
            out_of_range(
                "bonuses",
                format!("a branch's bonuses come to at most {BONUS_MAX} points a quarter"),
            )?;
        }
    }
    Ok(())
}
