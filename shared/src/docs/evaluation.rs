//! The mutual evaluation (互动评价): each quarter a branch's secretary scores the other branches
//! back to back — no branch sees the marks another gave — and managers record special-activity
//! bonuses (特色活动加分) with a reason. The server aggregates the marks a branch received
//! (anonymous, trimmed like inspections) into its composite.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::Header;
use super::values::FreeText;
use crate::points::Points;

/// One per branch and quarter (`evaluation:BRANCH:YYYY-Qn`): read by that branch and the
/// company-wide roles alone, so that the marks it gives stay its own.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Evaluation {
    /// Fixed at genesis.
    pub header: Header,
    /// The marks this branch gives the other branches, by branch id: written by its
    /// secretary.
    pub marks: BTreeMap<String, GivenMark>,
    /// Special-activity bonuses this branch is given, by id: written by managers, kept on
    /// the record.
    pub bonuses: BTreeMap<String, Bonus>,
}

/// A mark given to another branch, 0–100.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct GivenMark {
    /// The mark.
    pub points: Points,
    /// Who gave it (the secretary's user id).
    pub by: String,
    /// When (ms).
    pub at: i64,
}

/// A special-activity bonus, with why.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Bonus {
    /// The points added to the branch's composite (more than 0, at most
    /// [`crate::validate::limits::BONUS_MAX`]).
    pub points: Points,
    /// The activity and why it earns points.
    pub reason: FreeText,
    /// The manager who gave it.
    pub by: String,
    /// When (ms).
    pub at: i64,
}

impl Evaluation {
    /// The bonuses' sum.
    pub fn bonus(&self) -> Points {
        Points(self.bonuses.values().map(|b| b.points.0).sum())
    }
}

document!(Evaluation, |header| {
    Evaluation {
        header,
        marks: BTreeMap::new(),
        bonuses: BTreeMap::new(),
    }
});
