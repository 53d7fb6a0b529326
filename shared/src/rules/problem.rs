//! The problem lifecycle: open → rectified → verified, or reopened; overdue past the deadline.
//!
//! A problem's status is never stored. Each writer records facts in their own part of the
//! document (the holder's rectifications, the inspectors' verifications and reopenings), and
//! the status is derived from those facts in time order. Two people acting at once on two
//! phones therefore never overwrite each other: both facts are kept and the later one decides.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{Role, Roles};

/// Where a problem stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemStatus {
    /// Raised, waiting for the holder to fix it.
    Open,
    /// The holder says it is fixed (with an after-photo); waiting for an inspector.
    Rectified,
    /// An inspector confirmed the fix: the loop is closed.
    Verified,
    /// An inspector found the fix wanting: waiting for the holder again.
    Reopened,
}

impl ProblemStatus {
    /// The name in Chinese.
    pub fn label_zh(self) -> &'static str {
        crate::labels::problem_status_label(crate::labels::Lang::Zh, self)
    }

    /// Whether the holder still has to act.
    pub fn awaits_rectification(self) -> bool {
        matches!(self, ProblemStatus::Open | ProblemStatus::Reopened)
    }
}

/// A step in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Record the finding (描述, 严重程度, 责任人, 整改措施, 期限).
    Raise,
    /// The responsible member records the fix.
    Rectify,
    /// An inspector confirms the fix.
    Verify,
    /// An inspector rejects the fix.
    Reopen,
}

/// One recorded fact, in the form the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// What was done.
    pub step: Step,
    /// A tie-breaker for facts with the same time (the record id), so every device agrees.
    pub id: String,
}

/// Folds the facts in time order into a status. Steps that make no sense where they fall
/// (a verification of something never rectified) are ignored rather than trusted.
pub fn status(facts: &[Fact]) -> ProblemStatus {
    timeline(facts)
        .into_iter()
        .filter_map(|(_, now)| now)
        .next_back()
        .unwrap_or(ProblemStatus::Open)
}

/// The facts in time order, each with the status it led to, or `None` for a step the fold
/// passes over (it did not apply where it falls): a problem's loop as a timeline.
pub fn timeline(facts: &[Fact]) -> Vec<(&Fact, Option<ProblemStatus>)> {
    let mut ordered: Vec<&Fact> = facts.iter().collect();
    ordered.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    let mut now = ProblemStatus::Open;
    ordered
        .into_iter()
        .map(|fact| {
            let after = next(now, fact.step);
            if let Some(after) = after {
                now = after;
            }
            (fact, after)
        })
        .collect()
}

/// The status after a step, or `None` when the step does not apply to the current status.
pub fn next(now: ProblemStatus, step: Step) -> Option<ProblemStatus> {
    use ProblemStatus::*;
    match (now, step) {
        (Open | Reopened | Rectified, Step::Rectify) => Some(Rectified),
        (Rectified, Step::Verify) => Some(Verified),
        // A later inspection may find a verified fix undone.
        (Rectified | Verified, Step::Reopen) => Some(Reopened),
        _ => None,
    }
}

/// Whether the problem is overdue on `today`: still waiting for its fix after its deadline.
pub fn is_overdue(status: ProblemStatus, deadline: NaiveDate, today: NaiveDate) -> bool {
    status.awaits_rectification() && today > deadline
}

/// Who is asking to take a step, and how they relate to the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepActor {
    /// Their roles.
    pub roles: Roles,
    /// They are the member responsible for the fix.
    pub is_responsible: bool,
    /// They raised the problem.
    pub is_raiser: bool,
    /// They recorded the latest rectification (nobody verifies their own fix).
    pub rectified_it: bool,
}

/// The roles that raise, verify and reopen problems.
const INSPECTS: &[Role] = &[Role::Secretary, Role::Inspector];

/// Whether someone may take a step; the refusal says who may.
pub fn may_take(step: Step, who: StepActor) -> Result<(), &'static str> {
    match step {
        Step::Raise if who.roles.any(INSPECTS) => Ok(()),
        Step::Raise => Err("only a secretary or an inspector raises problems"),
        Step::Rectify => {
            if who.is_responsible {
                Ok(())
            } else {
                Err("only the member responsible for the problem records its rectification")
            }
        }
        Step::Verify | Step::Reopen if !who.roles.any(INSPECTS) => {
            Err("only a secretary or an inspector verifies or reopens a problem")
        }
        Step::Verify | Step::Reopen if who.rectified_it => {
            Err("nobody verifies their own rectification: ask another inspector")
        }
        Step::Verify | Step::Reopen => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProblemStatus::*;

    fn facts(steps: &[(i64, Step)]) -> Vec<Fact> {
        steps
            .iter()
            .enumerate()
            .map(|(i, &(at, step))| Fact {
                at,
                step,
                id: format!("f{i}"),
            })
            .collect()
    }

    #[test]
    fn status_from_facts() {
        use Step::*;
        let cases: &[(&[(i64, Step)], ProblemStatus)] = &[
            (&[], Open),
            (&[(1, Rectify)], Rectified),
            (&[(1, Rectify), (2, Verify)], Verified),
            (&[(1, Rectify), (2, Reopen)], Reopened),
            (&[(1, Rectify), (2, Reopen), (3, Rectify)], Rectified),
            (
                &[(1, Rectify), (2, Reopen), (3, Rectify), (4, Verify)],
                Verified,
            ),
            // Order is by time, not by the order facts arrived in.
            (&[(2, Verify), (1, Rectify)], Verified),
            (
                &[(4, Verify), (3, Rectify), (2, Reopen), (1, Rectify)],
                Verified,
            ),
            // Steps that do not apply are ignored.
            (&[(1, Verify)], Open),
            (&[(1, Reopen)], Open),
            (&[(1, Rectify), (2, Verify), (3, Verify)], Verified),
            // A verified fix found undone later.
            (&[(1, Rectify), (2, Verify), (3, Reopen)], Reopened),
            // Two inspectors at once on two phones: the later judgement decides, and a
            // verification of a fix already reopened does not apply.
            (&[(1, Rectify), (5, Verify), (6, Reopen)], Reopened),
            (&[(1, Rectify), (6, Verify), (5, Reopen)], Reopened),
        ];
        for (steps, want) in cases {
            assert_eq!(status(&facts(steps)), *want, "{steps:?}");
        }
    }

    #[test]
    fn equal_times_are_broken_by_id_on_every_device() {
        let a = Fact {
            at: 1,
            step: Step::Rectify,
            id: "a".into(),
        };
        let b = Fact {
            at: 2,
            step: Step::Verify,
            id: "b".into(),
        };
        let c = Fact {
            at: 2,
            step: Step::Reopen,
            id: "c".into(),
        };
        let one = status(&[a.clone(), b.clone(), c.clone()]);
        let other = status(&[c, b, a]);
        assert_eq!(one, other);
        // Same time: the ids decide, "b" (verify) before "c" (reopen).
        assert_eq!(one, Reopened);
    }

    #[test]
    fn overdue() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("test date");
        let cases = [
            (Open, "2026-11-20", "2026-11-21", true),
            (Open, "2026-11-21", "2026-11-21", false),
            (Reopened, "2026-11-20", "2026-12-01", true),
            (Rectified, "2026-11-20", "2026-12-01", false),
            (Verified, "2026-11-20", "2026-12-01", false),
            (Open, "2028-02-29", "2028-03-01", true),
        ];
        for (status, deadline, today, want) in cases {
            assert_eq!(
                is_overdue(status, d(deadline), d(today)),
                want,
                "{status:?} {deadline} {today}"
            );
        }
    }

    #[test]
    fn who_may_take_which_step() {
        let who = |role, is_responsible, rectified_it| StepActor {
            roles: Roles::only(role),
            is_responsible,
            is_raiser: false,
            rectified_it,
        };
        let cases = [
            (Step::Raise, who(Role::Secretary, false, false), None),
            (Step::Raise, who(Role::Inspector, false, false), None),
            (
                Step::Raise,
                who(Role::ZoneHolder, false, false),
                Some("only a secretary or an inspector raises"),
            ),
            (
                Step::Raise,
                who(Role::Manager, false, false),
                Some("only a secretary or an inspector raises"),
            ),
            (Step::Rectify, who(Role::ZoneHolder, true, false), None),
            (
                Step::Rectify,
                who(Role::ZoneHolder, false, false),
                Some("only the member responsible"),
            ),
            (
                Step::Rectify,
                who(Role::Secretary, false, false),
                Some("only the member responsible"),
            ),
            (Step::Verify, who(Role::Inspector, false, false), None),
            (Step::Verify, who(Role::Secretary, false, false), None),
            (
                Step::Verify,
                who(Role::Secretary, true, true),
                Some("nobody verifies their own"),
            ),
            (
                Step::Verify,
                who(Role::ZoneHolder, true, false),
                Some("only a secretary or an inspector verifies"),
            ),
            (Step::Reopen, who(Role::Inspector, false, false), None),
            (
                Step::Reopen,
                who(Role::TeamLeader, false, false),
                Some("only a secretary or an inspector verifies"),
            ),
            (
                Step::Reopen,
                who(Role::Admin, false, false),
                Some("only a secretary or an inspector verifies"),
            ),
        ];
        for (step, actor, want) in cases {
            match (may_take(step, actor), want) {
                (Ok(()), None) => {}
                (Err(reason), Some(w)) => {
                    assert!(reason.contains(w), "{step:?} {actor:?}: {reason}")
                }
                (got, want) => panic!("{step:?} {actor:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
