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

/// The responsible member's record: a fix, or a request for a later deadline.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Rectification {
    /// When.
    pub at: i64,
    /// Who (user id).
    pub by: String,
    /// What was done; for a request for more time, why it is needed.
    pub note: FreeText,
    /// After-photos.
    pub photos: BTreeMap<String, PhotoRef>,
    /// Set on a request for more time (延期申请) instead of a fix: the deadline asked for.
    #[autosurgeon(missing = "Default::default")]
    pub extension: Option<Day>,
}

impl Rectification {
    /// Whether this is a fix (not a request for more time).
    pub fn is_fix(&self) -> bool {
        self.extension.is_none()
    }
}

/// A judgement: of a fix by an inspector or a secretary, or of a request for more time by the
/// secretary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate)]
pub enum Outcome {
    /// The fix holds: the loop is closed.
    Verified,
    /// The fix does not hold.
    Reopened,
    /// A request for more time is granted, with the new deadline.
    Extended,
    /// A request for more time is refused, with the reason.
    NotExtended,
}

impl Outcome {
    /// Whether this judges a fix (not a request for more time).
    pub fn judges_fix(self) -> bool {
        matches!(self, Outcome::Verified | Outcome::Reopened)
    }
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
    /// For a reopening, the new deadline the holder is given (`None` keeps the one in force);
    /// for a granted request, the new deadline.
    #[autosurgeon(missing = "Default::default")]
    pub deadline: Option<Day>,
    /// For an answer to a request for more time, the request's id in `rectifications`.
    #[autosurgeon(missing = "Default::default")]
    pub request: Option<String>,
}

/// A request for more time and the secretary's answer, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The request's id.
    pub id: &'a str,
    /// The request: the day asked for is its `extension`, the reason its `note`.
    pub request: &'a Rectification,
    /// The answer that counts (the first), with its id.
    pub answer: Option<(&'a str, &'a Verification)>,
}

impl Problem {
    /// The facts the status is derived from: fixes and their judgements (requests for more
    /// time and their answers change the deadline, not the status).
    pub fn facts(&self) -> Vec<Fact> {
        let rect = self.fixes().map(|(id, r)| Fact {
            at: r.at,
            step: Step::Rectify,
            id: id.to_owned(),
        });
        let ver = self.verifications.iter().filter_map(|(id, v)| {
            let step = match v.outcome {
                Outcome::Verified => Step::Verify,
                Outcome::Reopened => Step::Reopen,
                Outcome::Extended | Outcome::NotExtended => return None,
            };
            Some(Fact {
                at: v.at,
                step,
                id: id.clone(),
            })
        });
        rect.chain(ver).collect()
    }

    /// The fixes recorded (not the requests for more time), by id.
    pub fn fixes(&self) -> impl Iterator<Item = (&str, &Rectification)> {
        self.rectifications
            .iter()
            .filter(|(_, r)| r.is_fix())
            .map(|(id, r)| (id.as_str(), r))
    }

    /// The requests for more time with their answers, in time order.
    pub fn extensions(&self) -> Vec<Extension<'_>> {
        let mut out: Vec<Extension<'_>> = self
            .rectifications
            .iter()
            .filter(|(_, r)| !r.is_fix())
            .map(|(id, request)| Extension {
                id,
                request,
                answer: self
                    .verifications
                    .iter()
                    .filter(|(_, v)| !v.outcome.judges_fix() && v.request.as_deref() == Some(id))
                    .min_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0)))
                    .map(|(k, v)| (k.as_str(), v)),
            })
            .collect();
        out.sort_by(|a, b| a.request.at.cmp(&b.request.at).then_with(|| a.id.cmp(b.id)));
        out
    }

    /// The request for more time waiting for the secretary's answer, if any: unanswered and
    /// made after the latest fix (a fix overtakes a request made before it).
    pub fn pending_extension(&self) -> Option<Extension<'_>> {
        let fixed = self.fixes().map(|(_, r)| r.at).max().unwrap_or(i64::MIN);
        self.extensions()
            .into_iter()
            .find(|e| e.answer.is_none() && e.request.at > fixed)
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

    /// The deadline in force: the latest set, in time order, by a reopening or a granted
    /// request for more time; otherwise the finding's.
    pub fn deadline(&self) -> Option<Day> {
        let reopened = self
            .reopenings()
            .into_iter()
            .filter_map(|v| Some((v.at, v.deadline?)));
        let extended = self.extensions().into_iter().filter_map(|e| {
            let (_, v) = e.answer?;
            (v.outcome == Outcome::Extended).then_some((v.at, v.deadline?))
        });
        reopened
            .chain(extended)
            .max_by_key(|(at, _)| *at)
            .map(|(_, day)| day)
            .or(self.finding.deadline)
    }

    /// Whether it is overdue on a day at the mine (against the deadline in force).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.deadline()
            .is_some_and(|d| is_overdue(self.status(), d.0, today))
    }

    /// The user who recorded the latest fix, if any.
    pub fn last_rectifier(&self) -> Option<&str> {
        self.fixes()
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
