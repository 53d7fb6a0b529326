//! A problem (隐患·问题) and its closed loop. The status is derived, never stored: see
//! [`crate::rules::problem`].

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use chrono::NaiveDate;

use super::values::{Day, FreeText};
use super::{Header, PhotoRef};
use crate::domain::Severity;
use crate::rules::problem::{Fact, ProblemStatus, Step, is_overdue, status, timeline};

/// One problem found. Three parts, three writers: the raiser's finding, the responsible
/// member's rectifications, the inspectors' verifications.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Problem {
    /// Fixed at genesis.
    pub header: Header,
    /// What was found; written by whoever raised it.
    pub finding: Finding,
    /// Rectifications by id; written by the responsible member.
    pub rectifications: BTreeMap<String, Rectification>,
    /// Verifications and reopenings by id; written by inspectors and secretaries.
    pub verifications: BTreeMap<String, Verification>,
}

/// What was found, where, and what must be done by when.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Finding {
    /// The zone.
    pub zone: String,
    /// The patrol it was found on, if any.
    pub patrol: Option<String>,
    /// The checklist item it was raised from, if any.
    pub item: Option<String>,
    /// Who raised it (user id).
    pub raised_by: String,
    /// When, in milliseconds since the Unix epoch.
    pub raised_at: i64,
    /// What is wrong.
    pub description: FreeText,
    /// General or major.
    pub severity: Severity,
    /// The member responsible for the fix (user id).
    pub responsible: String,
    /// The rectification measure (整改措施).
    pub measure: FreeText,
    /// The deadline (整改期限), a day at the mine.
    pub deadline: Option<Day>,
    /// Photos of the problem.
    pub photos: BTreeMap<String, PhotoRef>,
}

/// The responsible member's record of a fix.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Rectification {
    /// When.
    pub at: i64,
    /// Who (user id).
    pub by: String,
    /// What was done.
    pub note: FreeText,
    /// After-photos.
    pub photos: BTreeMap<String, PhotoRef>,
}

/// An inspector's judgement of a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate)]
pub enum Outcome {
    /// The fix holds: the loop is closed.
    Verified,
    /// The fix does not hold.
    Reopened,
}

/// An inspector's verification or reopening.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Verification {
    /// When.
    pub at: i64,
    /// Who (user id).
    pub by: String,
    /// The judgement.
    pub outcome: Outcome,
    /// Why: for a reopening, what is still wrong (required).
    pub note: FreeText,
    /// For a reopening, the new deadline the holder is given; `None` keeps the one in force.
    #[autosurgeon(missing = "Default::default")]
    pub deadline: Option<Day>,
}

impl Problem {
    /// The facts the status is derived from.
    pub fn facts(&self) -> Vec<Fact> {
        let rect = self.rectifications.iter().map(|(id, r)| Fact {
            at: r.at,
            step: Step::Rectify,
            id: id.clone(),
        });
        let ver = self.verifications.iter().map(|(id, v)| Fact {
            at: v.at,
            step: match v.outcome {
                Outcome::Verified => Step::Verify,
                Outcome::Reopened => Step::Reopen,
            },
            id: id.clone(),
        });
        rect.chain(ver).collect()
    }

    /// Where the problem stands.
    pub fn status(&self) -> ProblemStatus {
        status(&self.facts())
    }

    /// The reopenings that took effect, in time order (those the loop passed over are left
    /// out).
    pub fn reopenings(&self) -> Vec<&Verification> {
        let facts = self.facts();
        timeline(&facts)
            .into_iter()
            .filter(|(f, now)| f.step == Step::Reopen && now.is_some())
            .filter_map(|(f, _)| self.verifications.get(&f.id))
            .collect()
    }

    /// The latest reopening that took effect.
    pub fn last_reopening(&self) -> Option<&Verification> {
        self.reopenings().pop()
    }

    /// The deadline in force: that of the latest reopening that set one, or the finding's.
    pub fn deadline(&self) -> Option<Day> {
        self.reopenings()
            .into_iter()
            .filter_map(|v| v.deadline)
            .next_back()
            .or(self.finding.deadline)
    }

    /// Whether it is overdue on a day at the mine (against the deadline in force).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.deadline()
            .is_some_and(|d| is_overdue(self.status(), d.0, today))
    }

    /// The user who recorded the latest rectification, if any.
    pub fn last_rectifier(&self) -> Option<&str> {
        self.rectifications
            .iter()
            .max_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0)))
            .map(|(_, r)| r.by.as_str())
    }
}

document!(Problem, |header| {
    Problem {
        header,
        finding: Finding {
            zone: String::new(),
            patrol: None,
            item: None,
            raised_by: String::new(),
            raised_at: 0,
            description: FreeText::default(),
            severity: Severity::General,
            responsible: String::new(),
            measure: FreeText::default(),
            deadline: None,
            photos: BTreeMap::new(),
        },
        rectifications: BTreeMap::new(),
        verifications: BTreeMap::new(),
    }
});
