//! Consolidation: the branch results that follow from the documents, kept up to date one
//! document at a time.
//!
//! Each stored document is reduced to its [`Facts`]: what it contributes to the results (a
//! sheet: each zone's percentage for its inspector; an assessment: the self and final
//! scores; a problem: its zone, dates and status…). The [`Consolidator`] keeps the facts of
//! every document, indexed by branch and period. When a document changes, its old facts are
//! replaced by the new ones and only the reports of the periods they touch are computed again
//! ([`Consolidator::apply`], then [`Consolidator::compute`]); a full recompute is the same
//! computation for every report ([`Consolidator::compute_all`]).
//!
//! Reports hold aggregates only. The facts of a sheet (one inspector's percentages) never
//! leave this module: they are read only to compute a zone's result with
//! [`InspectionRule::zone_result`](zonepatrol_shared::rules::InspectionRule::zone_result).
//!
//! # Layout
//!
//! - `facts`: what each document contributes ([`Facts`] and its parts), kept by branch and
//!   period, and how it replaces the document's old contribution ([`Consolidator::apply`]);
//!   `facts/read.rs` reads it out of the document ([`Consolidator::facts`]).
//! - `compute`: the reports computed from the facts: zone results, branch ranks, and the
//!   report itself ([`Consolidator::compute`]).
//! - `queries`: the read-only questions the dashboard and the report writer ask.
//! - `record`: each document's facts as kept beside it in the store, so that a start reads
//!   them instead of the documents.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use zonepatrol_shared::docs::{Lock, Report};
use zonepatrol_shared::rules::RulesConfig;
use zonepatrol_shared::rules::period::{MineClock, Period};
use zonepatrol_shared::{BranchCategory, Points};

mod compute;
mod facts;
mod queries;
pub mod record;
#[cfg(test)]
mod tests;

pub use compute::MIN_SHEETS;
use facts::Dated;
pub use facts::{
    BranchFacts, CleanupFacts, DESCRIPTION_CHARS, EvaluationFacts, Facts, PatrolFacts, PostFacts,
    ProblemFacts, ZoneFacts,
};
pub use queries::NoResult;
pub use zonepatrol_shared::rules::period::{months_of, report_periods};
pub use zonepatrol_shared::validate::limits::shorten;

/// One inspector's percentage for each zone of a sheet.
type ZonePercents = Vec<(String, Points)>;

/// An assessment side's points by item.
pub type ScoreItems = BTreeMap<String, Points>;

/// A zone's self-score and branch score for a month, by item.
type SelfAndFinal = (ScoreItems, ScoreItems);

/// A branch's category and its score in a period.
type CategoryScore = (Option<BranchCategory>, Option<Points>);

/// A branch and one of its periods.
pub type ReportKey = (String, Period);

/// The consolidated state of every branch.
#[derive(Debug, Default)]
pub struct Consolidator {
    /// The rules the server was started with: in force until the mine's rules document says
    /// otherwise.
    rules: RulesConfig,
    /// The versions of the mine's rules, each with its first month, in the order they take
    /// effect.
    rule_versions: Vec<(Period, RulesConfig)>,
    clock: MineClock,
    branches: BTreeMap<String, BranchFacts>,
    patrols: HashMap<(String, String), PatrolFacts>,
    /// Sheets by (branch, patrol), then inspector: each zone's percentage.
    sheets: HashMap<(String, String), BTreeMap<String, ZonePercents>>,
    /// Each patrol's zone results over its inspectors, with how many sheets went in: the only
    /// aggregate of sheets, kept up to date as each sheet arrives.
    patrol_results: HashMap<(String, String), BTreeMap<String, (Points, u64)>>,
    /// Patrols whose sheets changed since their results were last aggregated.
    pending: HashSet<(String, String)>,
    /// Patrols by (branch, period), each in the reports its kind counts in (a weekly
    /// inspection in its week, month, quarter and year; a ten-day supervision in its ten-day
    /// period; a self-check in its month).
    patrols_by: HashMap<ReportKey, BTreeSet<String>>,
    /// The mutual evaluation by (giving branch, quarter): marks given, bonuses received.
    evaluations: HashMap<ReportKey, EvaluationFacts>,
    /// Assessments by (branch, month), then zone: the self and final totals.
    assessments: HashMap<ReportKey, BTreeMap<String, SelfAndFinal>>,
    /// Problems by (branch, problem), indexed by the periods of the day they were raised.
    problems: Dated<ProblemFacts>,
    /// Cleanups by (branch, cleanup), indexed by the periods of their day.
    cleanups: Dated<CleanupFacts>,
    locks: HashMap<String, Vec<Lock>>,
    /// Each period's branch scores, with the category they are ranked in.
    branch_scores: HashMap<Period, BTreeMap<String, CategoryScore>>,
    /// The reports as last computed (or as stored, at start).
    reports: HashMap<ReportKey, Report>,
}

impl Consolidator {
    /// An empty state with the mine's rules and clock.
    pub fn new(rules: RulesConfig, clock: MineClock) -> Consolidator {
        Consolidator {
            rules,
            clock,
            ..Consolidator::default()
        }
    }

    /// What the facts kept beside the documents depend on besides the documents: see
    /// [`record::stamp`].
    pub fn stamp(&self) -> Vec<u8> {
        record::stamp(&self.rules, &self.clock)
    }

    /// The mine's clock.
    pub fn clock(&self) -> MineClock {
        self.clock
    }

    /// The rules in force now.
    pub fn rules(&self) -> &RulesConfig {
        self.rules_on(self.today(crate::now_millis()))
    }

    /// The rules in force on a day: the last version whose first month is not after the
    /// day's month, or the server's own.
    pub fn rules_on(&self, day: chrono::NaiveDate) -> &RulesConfig {
        let month = Period::containing(zonepatrol_shared::rules::PeriodKind::Month, day);
        self.rule_versions
            .iter()
            .rev()
            .find(|(from, _)| *from <= month)
            .map_or(&self.rules, |(_, r)| r)
    }

    /// Every version of the rules with its first month, in the order they take effect.
    pub fn rule_versions(&self) -> &[(Period, RulesConfig)] {
        &self.rule_versions
    }
}
