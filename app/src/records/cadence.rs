//! What is due for the user, from the documents on the phone, offline: the branch secretary's
//! weekly inspection and ten-day supervision (a closed walk of the kind in the period), the
//! month's self-scores of the zones the user holds and the secretary's assessments at month
//! end, and the user's problems due within three days or past. The rules are
//! [`zonepatrol_shared::rules::cadence`]'s.

use chrono::NaiveDate;
use zonepatrol_shared::docs::{Assessment, DocId, DocKind};
use zonepatrol_shared::rules::cadence::{Done, Due, due, months_due};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, PatrolKind, Role};

use super::assessment::form_of;
use super::problem::my_problems;
use super::{RecordError, directory};
use crate::index::Summary;
use crate::store::Repo;

/// Whether the branch has a closed walk of `kind` dated in `period`, as far as the phone knows.
fn walked(
    repo: &Repo,
    branch: &str,
    kind: PatrolKind,
    period: Period,
) -> Result<bool, RecordError> {
    let prefix = DocId::prefix(DocKind::Patrol, branch);
    Ok(repo.summaries(&prefix)?.into_iter().any(|(_, s)| {
        matches!(s, Summary::Patrol(p) if p.kind == kind
            && p.closed
            && p.date.is_some_and(|d| period.contains(d)))
    }))
}

/// What is due for the user on `today`, most pressing first.
pub fn due_for(repo: &Repo, me: &Actor, today: NaiveDate) -> Result<Vec<Due>, RecordError> {
    let secretary = me.has(Role::Secretary);
    let mut done = Done {
        weekly: !secretary
            || walked(
                repo,
                &me.branch,
                PatrolKind::Weekly,
                Period::containing(PeriodKind::Week, today),
            )?,
        ten_day: !secretary
            || walked(
                repo,
                &me.branch,
                PatrolKind::TenDay,
                Period::containing(PeriodKind::TenDay, today),
            )?,
        ..Done::default()
    };
    if let Ok(dir) = directory(repo, &me.branch) {
        for month in months_due(today) {
            let form = form_of(repo, month)?;
            let (mut own_left, mut branch_left) = (0, 0);
            for zone in dir.zones.iter().filter(|(_, z)| z.active).map(|(id, _)| id) {
                let id = DocId::assessment(&me.branch, zone, month);
                let a = repo.read::<Assessment>(&id)?;
                if dir.holds(&me.user, zone)
                    && a.as_ref().and_then(|a| a.self_score.total(&form)).is_none()
                {
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
            done.self_scores_left.push((month, own_left));
            done.assessments_left.push((month, branch_left));
        }
    }
    done.problem_deadlines = my_problems(repo, me, today)?
        .into_iter()
        .filter(|p| p.status.awaits_rectification())
        .filter_map(|p| p.deadline)
        .collect();
    Ok(due(today, &done))
}
