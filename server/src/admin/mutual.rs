//! The mutual evaluation (互动评价) from the console: a branch's secretary gives the other
//! branches their marks for a quarter, back to back; a manager records a special-activity
//! bonus (特色活动加分) for a branch with its reason. Both are changes of the branch's
//! evaluation document, validated as a phone's would be.

use zonepatrol_shared::docs::{Bonus, DocId, Evaluation, GivenMark};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::validate::limits::BONUS_MAX;
use zonepatrol_shared::{Actor, Points, Role};

use super::{AdminError, Edited, edit_document, on_record};
use crate::{State, reports};

/// The quarter a text names, or why not.
pub fn quarter(text: &str) -> Result<Period, AdminError> {
    text.trim()
        .parse::<Period>()
        .ok()
        .filter(|p| p.kind() == PeriodKind::Quarter)
        .ok_or_else(|| {
            AdminError::invalid(
                format!("“{}”不是季度：请写成 2026-Q4。", text.trim()),
                format!("“{}” is not a quarter: write it as 2026-Q4.", text.trim()),
            )
        })
}

/// The branches a branch marks: every other branch, by id, with its name.
pub fn others(state: &State, branch: &str) -> Vec<(String, String)> {
    let c = reports::lock(state);
    c.branches()
        .iter()
        .filter(|(id, _)| *id != branch)
        .map(|(id, b)| {
            let name = if b.name.is_empty() {
                id.clone()
            } else {
                b.name.clone()
            };
            (id.clone(), name)
        })
        .collect()
}

/// The marks a branch gave in a quarter (for its own secretary's form alone).
pub fn given(state: &State, branch: &str, quarter: Period) -> Result<Evaluation, AdminError> {
    let id = DocId::evaluation(branch, quarter);
    let Some(stored) = state.store.doc(&id)? else {
        return Ok(<Evaluation as zonepatrol_shared::docs::Document>::born(
            zonepatrol_shared::docs::Header::for_id(&id),
        ));
    };
    let doc = stored.load().map_err(AdminError::Failed)?;
    zonepatrol_shared::docs::read(&doc, &id).map_err(|e| AdminError::Failed(e.to_string()))
}

/// Gives the other branches their marks: `(branch, text)` pairs, an empty text leaving a
/// branch unmarked. Only the branch's own secretary does, never for their own branch.
pub fn give_marks(
    state: &State,
    who: &Actor,
    branch: &str,
    quarter: Period,
    marks: &[(String, String)],
) -> Result<Edited, AdminError> {
    if !(who.has(Role::Secretary) && who.branch == branch) {
        return Err(AdminError::forbidden(
            "互评由本支部书记为其他支部打分。",
            "The branch's own secretary marks the other branches.",
        ));
    }
    let known = others(state, branch);
    let mut parsed = Vec::new();
    for (to, text) in marks {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if to == branch {
            return Err(AdminError::invalid(
                "互评不给本支部打分。",
                "A branch does not mark itself in the mutual evaluation.",
            ));
        }
        let Some((_, name)) = known.iter().find(|(id, _)| id == to) else {
            return Err(AdminError::invalid(
                format!("没有编号为“{to}”的支部。"),
                format!("There is no branch “{to}”."),
            ));
        };
        let points = text
            .parse::<Points>()
            .ok()
            .filter(|p| (Points::ZERO..=Points::whole(100)).contains(p))
            .ok_or_else(|| {
                AdminError::invalid(
                    format!("{name}的分数“{text}”不对：请填 0 到 100 的分数。"),
                    format!("The mark “{text}” for {name} is not right: give 0 to 100."),
                )
            })?;
        parsed.push((to.clone(), points));
    }
    let now = crate::now_millis();
    let edited = edit_document::<Evaluation>(
        state,
        who,
        &DocId::evaluation(branch, quarter),
        &format!("{quarter} 互评"),
        |e| {
            for (to, points) in &parsed {
                match e.marks.get(to) {
                    Some(m) if m.points == *points => continue,
                    Some(_) => {
                        return Err(AdminError::invalid(
                            "互评分数一经给出即保留，不能修改。",
                            "A mark is given once and kept: it cannot be changed.",
                        ));
                    }
                    None => {}
                }
                e.marks.insert(
                    to.clone(),
                    GivenMark {
                        points: *points,
                        by: who.user.clone(),
                        at: now,
                    },
                );
            }
            Ok(())
        },
    )?;
    if edited == Edited::Saved {
        // On the record that marks were given, never what they were.
        on_record(
            state,
            who,
            branch,
            "mutual",
            &quarter.to_string(),
            format!("{} 个支部", parsed.len()),
        )?;
    }
    Ok(edited)
}

/// Records a special-activity bonus for a branch: a manager, with the activity and why.
pub fn give_bonus(
    state: &State,
    who: &Actor,
    branch: &str,
    quarter: Period,
    points: &str,
    reason: &str,
) -> Result<Edited, AdminError> {
    if !who.has(Role::Manager) {
        return Err(AdminError::forbidden(
            "特色活动加分由党委管理人员记录。",
            "A manager records special-activity bonuses.",
        ));
    }
    if !others(state, "").iter().any(|(id, _)| id == branch) {
        return Err(AdminError::invalid(
            format!("没有编号为“{branch}”的支部。"),
            format!("There is no branch “{branch}”."),
        ));
    }
    let points = points
        .trim()
        .parse::<Points>()
        .ok()
        .filter(|p| *p > Points::ZERO && *p <= Points::whole(BONUS_MAX))
        .ok_or_else(|| {
            AdminError::invalid(
                format!("加分为大于 0、不超过 {BONUS_MAX} 的分数。"),
                format!("A bonus is more than 0 and at most {BONUS_MAX} points."),
            )
        })?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AdminError::invalid(
            "请写明是哪项特色活动、为什么加分。",
            "Say which activity earns the bonus, and why.",
        ));
    }
    let now = crate::now_millis();
    let edited = edit_document::<Evaluation>(
        state,
        who,
        &DocId::evaluation(branch, quarter),
        &format!("{quarter} 特色活动加分"),
        |e| {
            e.bonuses.insert(
                format!("{now}-{}", who.user),
                Bonus {
                    points,
                    reason: reason.as_str().into(),
                    by: who.user.clone(),
                    at: now,
                },
            );
            Ok(())
        },
    )?;
    if edited == Edited::Saved {
        on_record(
            state,
            who,
            branch,
            "bonus",
            &quarter.to_string(),
            format!("+{points} {reason}"),
        )?;
    }
    Ok(edited)
}
