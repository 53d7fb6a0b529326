//! A report: the server's consolidated results for a branch and period, read-only on devices.
//!
//! Reports carry aggregates only. An inspector's own marks and totals stay in their sheet,
//! which nobody else reads; a zone's inspection result is the aggregate of every inspector's
//! total (see [`crate::rules::InspectionRule`]).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::Header;
use crate::points::Points;
use crate::rules::grade::Grade;

/// One branch × period (week, month, quarter or year). Written by the server alone.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Report {
    /// Fixed at genesis; the period is in the id.
    pub header: Header,
    /// When the server last updated it.
    pub updated_at: Option<i64>,
    /// Results by zone.
    pub zones: BTreeMap<String, ZoneResult>,
    /// Problems raised in the period still waiting for their fix.
    pub open_problems: u64,
    /// Of those, how many are past their deadline.
    pub overdue_problems: u64,
    /// The branch as a whole, against its category's thresholds.
    pub branch: BranchResult,
    /// Cleanups logged in the period.
    pub cleanups: CleanupTotals,
    /// Set when a manager published the period: the report is frozen from then on.
    pub published: Option<Published>,
}

/// A zone's result in the period: aggregates only, never an inspector's own marks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ZoneResult {
    /// The period's score: the inspection result for a week (the supervision's for a ten-day
    /// period); the final (branch) monthly
    /// score for a month; the mean of the monthly final scores for a quarter or a year.
    pub score: Option<Points>,
    /// Its place in the branch by `score` (shared places for ties); 0 when it has no score.
    pub rank: u64,
    /// Money from the final monthly scores, in fen (months, and summed for quarters and
    /// years).
    pub money_fen: i64,
    /// Who receives `money_fen`: fen by holder, split equally or by the shares the
    /// secretary set (months, and summed for quarters and years; absent in reports made
    /// before it existed).
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub payees: BTreeMap<String, i64>,
    /// The weekly inspection: the zone's result for a week; the mean of its patrols'
    /// results over longer periods. For a ten-day period, the ten-day supervision's (旬督导).
    pub inspection: Option<Points>,
    /// How many inspectors' sheets went into `inspection`.
    pub sheets: u64,
    /// The holder's self-score (months; the mean of the months for longer periods).
    pub self_score: Option<Points>,
    /// Praised in the notice (通报表扬): among the best.
    pub praised: bool,
    /// Named in the notice (通报批评): among the worst.
    pub named: bool,
    /// The zone's demonstration post, if it has an active one.
    pub post: String,
    /// The post slipped below its branch category's pass threshold: it is flagged for
    /// losing its title (quarters and years).
    pub loses_title: bool,
    /// Problems raised in the zone in the period still waiting for their fix.
    pub open_problems: u64,
    /// Of those, how many are past their deadline.
    pub overdue_problems: u64,
    /// The branch's monthly self-check (月自查): the mean of the month's self-check results
    /// (months; absent in reports made before it existed).
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub self_check: Option<Points>,
}

/// The branch's result in the period.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct BranchResult {
    /// The branch category, 1–4.
    pub category: u64,
    /// What it is graded and ranked on: the mean of its zones' scores; on a quarter or a year,
    /// the composite of [`crate::rules::mutual`] (work, mutual evaluation and bonus).
    pub score: Option<Points>,
    /// The work score: the mean of its zones' scores (absent in reports made before it
    /// existed).
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub work: Option<Points>,
    /// The mutual evaluation's result (quarters; a year's is the mean of its quarters'):
    /// `None` from fewer than three branches' marks.
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub mutual: Option<Points>,
    /// How many branches' marks went into it (a quarter's).
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub givers: u64,
    /// The special-activity bonuses managers gave in the period.
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub bonus: Points,
    /// `fail`, `pass` or `excellent` against the category's thresholds ([`Grade::as_str`]);
    /// empty without score. Read it typed with [`BranchResult::grade`] or [`Report::grade`].
    pub grade: String,
    /// Its place among the branches of its category; 0 without a score.
    pub rank: u64,
    /// How many branches of the category have a score.
    pub of: u64,
}

/// Cleanup totals in the period.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct CleanupTotals {
    /// Cleanup logs.
    pub logs: u64,
    /// Person-times (人次).
    pub person_times: u64,
    /// Quantities by work and unit (the key is `unit|what`).
    pub quantities: BTreeMap<String, Quantity>,
}

/// A total quantity of one kind of work.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Quantity {
    /// What was done.
    pub what: String,
    /// The unit.
    pub unit: String,
    /// The total, in thousandths of the unit.
    pub milli: i64,
}

/// Who published the period, and when.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Published {
    /// The manager's user id.
    pub by: String,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
}

impl Report {
    /// The branch's grade in the period: `None` without a score (the text is empty), or for a
    /// name this build does not know.
    pub fn grade(&self) -> Option<Grade> {
        self.branch.grade()
    }
}

impl BranchResult {
    /// The grade, typed: `None` without a score (the text is empty), or for a name this build
    /// does not know.
    pub fn grade(&self) -> Option<Grade> {
        self.grade.parse().ok()
    }
}

document!(Report, |header| {
    Report {
        header,
        updated_at: None,
        zones: BTreeMap::new(),
        open_problems: 0,
        overdue_problems: 0,
        branch: BranchResult::default(),
        cleanups: CleanupTotals::default(),
        published: None,
    }
});
