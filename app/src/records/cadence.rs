//! What is due for the user, from the documents on the phone, offline: the branch secretary's
//! weekly inspection, ten-day supervision and monthly self-check (a closed walk of the kind in
//! the period), the month's self-scores of the zones the user holds and the secretary's
//! assessments at month end (not for a month already published), and the user's problems due
//! within three days or past. The rules are [`zonepatrol_shared::rules::cadence`]'s.
//!
//! Read on every showing of home: one pass over the patrol summaries, the assessments only of
//! the zones the user scores and only in a month's last days, the problems from their
//! summaries. A record that does not read counts as not done; it never hides the rest.

use chrono::NaiveDate;
use zonepatrol_shared::docs::{Assessment, DocId, DocKind};
use zonepatrol_shared::rules::cadence::{Done, Due, due, months_due};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, PatrolKind, Role};

use super::assessment::form_of;
use super::problem::ProblemRow;
use super::{check_unlocked, directory};
use crate::index::Summary;
use crate::store::Repo;

/// What is due for the user on `today`, most pressing first; `problems` are the user's own, as
/// home already read them.
pub fn due_for(repo: &Repo, me: &Actor, today: NaiveDate, problems: &[ProblemRow]) -> Vec<Due> {
    let secretary = me.has(Role::Secretary);
    let months: Vec<Period> = months_due(today)
        .into_iter()
        .filter(|m| check_unlocked(repo, &me.branch, *m).is_ok())
        .collect();
    let mut done = Done {
        weekly: true,
        ten_day: true,
        problem_deadlines: problems
            .iter()
            .filter(|p| p.status.awaits_rectification())
            .filter_map(|p| p.deadline)
            .collect(),
        ..Done::default()
    };
    if secretary {
        let week = Period::containing(PeriodKind::Week, today);
        let ten_day = Period::containing(PeriodKind::TenDay, today);
        let (mut weekly, mut supervised) = (false, false);
        let mut checked: Vec<Period> = Vec::new();
        let prefix = DocId::prefix(DocKind::Patrol, &me.branch);
        for (_, summary) in repo.summaries(&prefix).unwrap_or_default() {
            let Summary::Patrol(p) = summary else {
                continue;
            };
            let Some(day) = p.date.filter(|_| p.closed) else {
                continue;
            };
            match p.kind {
                PatrolKind::Weekly => weekly |= week.contains(day),
                PatrolKind::TenDay => supervised |= ten_day.contains(day),
                PatrolKind::MonthlySelfCheck => {
                    checked.extend(months.iter().filter(|m| m.contains(day)));
                }
                PatrolKind::SpotCheck => {}
            }
        }
        done.weekly = weekly;
        done.ten_day = supervised;
        done.self_checks_missing = months
            .iter()
            .filter(|m| !checked.contains(m))
            .copied()
            .collect();
    }
    if let Ok(dir) = directory(repo, &me.branch) {
        for month in &months {
            let Ok(form) = form_of(repo, *month) else {
                continue;
            };
            let (mut own_left, mut branch_left) = (0, 0);
            for zone in dir.zones.iter().filter(|(_, z)| z.active).map(|(id, _)| id) {
                let holds = dir.holds(&me.user, zone);
                if !holds && !secretary {
                    continue;
                }
                let a = repo
                    .read::<Assessment>(&DocId::assessment(&me.branch, zone, *month))
                    .ok()
                    .flatten();
                if holds && a.as_ref().and_then(|a| a.self_score.total(&form)).is_none() {
                    own_left += 1;
                }
                if secretary
                    && a.as_ref()
                        .and_then(|a| a.branch_score.total(&form))
                        .is_none()
                {
                    branch_left += 1;
                }
            }
            done.self_scores_left.push((*month, own_left));
            done.assessments_left.push((*month, branch_left));
        }
    }
    due(today, &done)
}
