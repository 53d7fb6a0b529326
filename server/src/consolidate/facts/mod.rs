//! What each document contributes to the results (its facts), and how a document's new facts
//! replace its old ones in the consolidated state, marking the reports they touch.
//!
//! Reading the facts out of a document is in `read`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::{Day, DocId, Lock, PostStatus, PostStep, Report, Template};
use zonepatrol_shared::rules::period::{Period, PeriodKind, periods_of_month, report_periods};
use zonepatrol_shared::rules::{ProblemStatus, RulesConfig};
use zonepatrol_shared::{BranchCategory, PatrolKind, Points};

use super::{Consolidator, ReportKey, ScoreItems};

mod read;

/// What a branch's directory contributes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BranchFacts {
    /// The branch's name.
    pub name: String,
    /// Its category, when the directory gives a valid one.
    pub category: Option<BranchCategory>,
    /// Zones by id.
    pub zones: BTreeMap<String, ZoneFacts>,
    /// Demonstration posts by id, whatever their status.
    pub posts: BTreeMap<String, PostFacts>,
    /// Members' names by user id.
    pub members: BTreeMap<String, String>,
    /// Checklist templates, to score sheets.
    pub templates: BTreeMap<String, Template>,
}

/// A demonstration post (党员示范岗): what its placard shows, and its life, to tell which post
/// held a zone's title on a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostFacts {
    /// The zone it stands in.
    pub zone: String,
    /// Its title.
    pub title: String,
    /// The basis and standard it is held to.
    pub standard: String,
    /// The duty its demonstrators answer for.
    pub duty: String,
    /// Who assesses it.
    pub assessor: String,
    /// Its term.
    pub starts: Option<NaiveDate>,
    /// The last day of its term.
    pub ends: Option<NaiveDate>,
    /// Its recorded steps in order, each on its day at the mine.
    pub steps: Vec<(NaiveDate, PostStep)>,
}

impl PostFacts {
    /// The last day from `first` to `last` on which the post held its title. Its status
    /// changes only on the day of a step, on its start date and the day after its end date,
    /// so those days (and `first`) are the ones to look at.
    pub fn last_held(&self, first: NaiveDate, last: NaiveDate) -> Option<NaiveDate> {
        let mut days: Vec<NaiveDate> = std::iter::once(first)
            .chain(self.steps.iter().map(|(d, _)| *d))
            .chain(self.starts)
            .collect();
        days.retain(|d| *d >= first && *d <= last);
        days.sort();
        days.dedup();
        // In force at the end of a day it changes: held until the day before the next change
        // (or `last`); held only for a moment of it: that day.
        let mut held = None;
        for (i, day) in days.iter().enumerate() {
            if self.status_on(*day).in_force() {
                let until = days.get(i + 1).and_then(|d| d.pred_opt()).unwrap_or(last);
                held = Some(self.ends.map_or(until, |e| until.min(e)));
            } else if self.held_during(*day) {
                held = Some(*day);
            }
        }
        held
    }

    /// Whether the post held its title at some moment of `day`: after any of that day's steps,
    /// not only at its end (approved and withdrawn the same day, it held it).
    fn held_during(&self, day: NaiveDate) -> bool {
        let (starts, ends) = (self.starts.map(Day), self.ends.map(Day));
        let mut status = PostStatus::fold(
            self.steps
                .iter()
                .filter(|(on, _)| *on < day)
                .map(|(_, step)| *step),
        );
        if status.on(day, starts, ends).in_force() {
            return true;
        }
        for (_, step) in self.steps.iter().filter(|(on, _)| *on == day) {
            status = status.after(*step).unwrap_or(status);
            if status.on(day, starts, ends).in_force() {
                return true;
            }
        }
        false
    }

    /// Where the post stood on `day`: the steps recorded by then, and its dates.
    pub fn status_on(&self, day: NaiveDate) -> PostStatus {
        PostStatus::fold(
            self.steps
                .iter()
                .filter(|(on, _)| *on <= day)
                .map(|(_, step)| *step),
        )
        .on(day, self.starts.map(Day), self.ends.map(Day))
    }
}

impl BranchFacts {
    /// The post that held the title of `zone` on `day`, if one did.
    pub fn post_on(&self, zone: &str, day: NaiveDate) -> Option<(&String, &PostFacts)> {
        self.posts
            .iter()
            .find(|(_, p)| p.zone == zone && p.status_on(day).in_force())
    }

    /// The post that held the title of `zone` on some day from `first` to `last`: the one
    /// holding it on `last` if any, else the latest to hold it. A title withdrawn in the
    /// period still answers for the period's ranking.
    pub fn post_in(
        &self,
        zone: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Option<(&String, &PostFacts)> {
        self.post_on(zone, last).or_else(|| {
            self.posts
                .iter()
                .filter(|(_, p)| p.zone == zone)
                .filter_map(|(id, p)| Some((p.last_held(first, last)?, (id, p))))
                .max_by_key(|(day, _)| *day)
                .map(|(_, post)| post)
        })
    }
}

/// A zone as the directory describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoneFacts {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub location: String,
    /// Whether it is in use.
    pub active: bool,
    /// The responsible members' user ids.
    pub holders: Vec<String>,
    /// Their shares of its money in percent; empty for equal parts.
    #[serde(default)]
    pub shares: BTreeMap<String, u64>,
    /// The checklist template's name.
    pub template: String,
}

/// What a patrol contributes: its kind, day, plan, and whether its leader closed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatrolFacts {
    /// Its kind: weekly inspections, ten-day supervisions and self-checks each have their own
    /// results; spot checks none.
    pub kind: PatrolKind,
    /// The day of the walk.
    pub date: Option<NaiveDate>,
    /// The inspectors on the plan (and the leader): only their sheets count.
    pub inspectors: BTreeSet<String>,
    /// The zones on the plan: only these count.
    pub zones: BTreeSet<String>,
    /// Closed by its leader: only then do its results count, all at once, so that no report
    /// moves sheet by sheet (which would let one inspector's total be worked out from the
    /// difference).
    pub closed: bool,
}

/// What a branch's quarter of the mutual evaluation contributes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EvaluationFacts {
    /// The marks it gave, by branch (never its own).
    pub marks: BTreeMap<String, Points>,
    /// The sum of the special-activity bonuses it was given.
    pub bonus: Points,
}

/// What a problem contributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemFacts {
    /// The zone it was found in.
    pub zone: String,
    /// The day it was raised.
    pub raised: NaiveDate,
    /// The deadline for the fix.
    pub deadline: Option<NaiveDate>,
    /// Where it is in its loop.
    pub status: ProblemStatus,
    /// What was found.
    pub description: String,
    /// Who must fix it.
    pub responsible: String,
    /// Major or general.
    pub major: bool,
    /// Photos of the finding and of the fixes, by hash.
    pub photos: Vec<String>,
}

/// What a cleanup contributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanupFacts {
    /// The zone cleaned.
    pub zone: String,
    /// The day.
    pub date: NaiveDate,
    /// Person-times.
    pub person_times: u64,
    /// Work done: what, unit, thousandths.
    pub items: Vec<(String, String, i64)>,
}

/// What one document contributes to the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Facts {
    /// A branch directory.
    Directory(BranchFacts),
    /// A patrol.
    Patrol(PatrolFacts),
    /// A sheet: each zone's percentage, for one inspector. Private to this module's
    /// aggregation.
    Sheet(Vec<(String, Points)>),
    /// A monthly assessment: the self-score's and the branch score's points by item, totalled
    /// on the month's form when the reports are computed (so that the form in force, however
    /// late the rules arrive, is the one used).
    Assessment(ScoreItems, ScoreItems),
    /// A problem.
    Problem(ProblemFacts),
    /// A cleanup.
    Cleanup(CleanupFacts),
    /// The branch's publications: the periods locked now.
    Publication(Vec<Lock>),
    /// A report the server wrote earlier.
    Report(Box<Report>),
    /// The mine's rules: each version's first month and figures, in the order they take
    /// effect.
    Rules(Vec<(Period, RulesConfig)>),
    /// A branch's quarter in the mutual evaluation: the marks it gave and the bonuses it was
    /// given. Private to the consolidation: a branch's marks are never shown as such.
    Evaluation(EvaluationFacts),
    /// Nothing (a document that does not read as its kind).
    None,
}

impl Facts {
    /// The days these facts place results on (a patrol's, a cleanup's, the day a problem was
    /// raised), beside the periods of the reports they touch.
    pub fn days(&self) -> Vec<NaiveDate> {
        match self {
            Facts::Patrol(f) => f.date.into_iter().collect(),
            Facts::Problem(f) => vec![f.raised],
            Facts::Cleanup(f) => vec![f.date],
            _ => Vec::new(),
        }
    }
}

/// How much of a problem's description the results keep: enough to tell problems apart on a
/// page; the document keeps it whole.
pub const DESCRIPTION_CHARS: usize = 120;

/// Facts placed on a day, by (branch, document), with the documents of each report's period.
#[derive(Debug)]
pub(super) struct Dated<F> {
    /// The facts by (branch, document id).
    pub(super) by_id: HashMap<(String, String), F>,
    /// The document ids by (branch, period), for each reported period kind.
    pub(super) by_period: HashMap<ReportKey, BTreeSet<String>>,
}

impl<F> Default for Dated<F> {
    fn default() -> Dated<F> {
        Dated {
            by_id: HashMap::new(),
            by_period: HashMap::new(),
        }
    }
}

/// Facts that fall on one day.
pub(super) trait OnDay {
    /// The day the facts fall on.
    fn day(&self) -> NaiveDate;
}

impl OnDay for ProblemFacts {
    fn day(&self) -> NaiveDate {
        self.raised
    }
}

impl OnDay for CleanupFacts {
    fn day(&self) -> NaiveDate {
        self.date
    }
}

impl<F: OnDay> Dated<F> {
    /// Replaces a document's facts (`None`: takes them out), moving it to the periods of its
    /// new day; marks the reports of the old and new days dirty.
    fn replace(
        &mut self,
        branch: &str,
        id: &str,
        facts: Option<F>,
        dirty: &mut BTreeSet<ReportKey>,
    ) {
        let key = (branch.to_owned(), id.to_owned());
        let day = facts.as_ref().map(OnDay::day);
        let old = match facts {
            Some(f) => self.by_id.insert(key, f),
            None => self.by_id.remove(&key),
        };
        if let Some(old) = old {
            index(&mut self.by_period, branch, old.day(), id, false);
            dirty_dates(dirty, branch, old.day());
        }
        if let Some(day) = day {
            index(&mut self.by_period, branch, day, id, true);
            dirty_dates(dirty, branch, day);
        }
    }
}

/// The reports a patrol of `kind` on `date` counts in: a weekly inspection in its week, month,
/// quarter and year; a ten-day supervision in its ten-day period; a monthly self-check in its
/// month; a spot check in none.
fn counted_in(kind: PatrolKind, date: NaiveDate) -> Vec<Period> {
    match kind {
        PatrolKind::Weekly => report_periods(date)
            .into_iter()
            .filter(|p| p.kind() != PeriodKind::TenDay)
            .collect(),
        PatrolKind::TenDay => vec![Period::containing(PeriodKind::TenDay, date)],
        PatrolKind::MonthlySelfCheck => vec![Period::containing(PeriodKind::Month, date)],
        PatrolKind::SpotCheck => Vec::new(),
    }
}

fn index(
    map: &mut HashMap<ReportKey, BTreeSet<String>>,
    branch: &str,
    date: NaiveDate,
    id: &str,
    add: bool,
) {
    index_in(map, branch, report_periods(date).to_vec(), id, add);
}

fn index_patrol(
    map: &mut HashMap<ReportKey, BTreeSet<String>>,
    branch: &str,
    (kind, date): (PatrolKind, NaiveDate),
    id: &str,
    add: bool,
) {
    index_in(map, branch, counted_in(kind, date), id, add);
}

fn index_in(
    map: &mut HashMap<ReportKey, BTreeSet<String>>,
    branch: &str,
    periods: Vec<Period>,
    id: &str,
    add: bool,
) {
    for period in periods {
        let key = (branch.to_owned(), period);
        if add {
            map.entry(key).or_default().insert(id.to_owned());
        } else if let Some(set) = map.get_mut(&key) {
            set.remove(id);
            if set.is_empty() {
                map.remove(&key);
            }
        }
    }
}

/// Marks every report of a day: where a problem or a cleanup counts.
fn dirty_dates(dirty: &mut BTreeSet<ReportKey>, branch: &str, date: NaiveDate) {
    for period in report_periods(date) {
        dirty.insert((branch.to_owned(), period));
    }
}

/// Marks the reports a patrol of `kind` on `date` counts in.
fn dirty_patrol(
    dirty: &mut BTreeSet<ReportKey>,
    branch: &str,
    kind: PatrolKind,
    date: Option<NaiveDate>,
) {
    if let Some(date) = date {
        for period in counted_in(kind, date) {
            dirty.insert((branch.to_owned(), period));
        }
    }
}

impl Consolidator {
    /// Replaces a document's old contribution with its new one; returns the reports that may
    /// have changed.
    pub fn apply(&mut self, id: &DocId, facts: Facts) -> BTreeSet<ReportKey> {
        let mut dirty = BTreeSet::new();
        let branch = id.branch().to_owned();
        match (id, facts) {
            (_, Facts::None) => dirty = self.remove(id),
            (DocId::Directory { .. }, Facts::Directory(f)) => {
                dirty.extend(self.reports_of(&branch));
                self.branches.insert(branch, f);
            }
            (DocId::Patrol { patrol, .. }, Facts::Patrol(f)) => {
                let key = (branch.clone(), patrol.clone());
                let (kind, date) = (f.kind, f.date);
                if let Some(old) = self.patrols.insert(key.clone(), f) {
                    if let Some(d) = old.date {
                        index_patrol(&mut self.patrols_by, &branch, (old.kind, d), patrol, false);
                    }
                    if self.sheets.contains_key(&key) {
                        dirty_patrol(&mut dirty, &branch, old.kind, old.date);
                    }
                }
                if let Some(d) = date {
                    index_patrol(&mut self.patrols_by, &branch, (kind, d), patrol, true);
                }
                if self.sheets.contains_key(&key) {
                    self.pending.insert(key);
                    dirty_patrol(&mut dirty, &branch, kind, date);
                }
            }
            (
                DocId::Sheet {
                    patrol, inspector, ..
                },
                Facts::Sheet(zones),
            ) => {
                let key = (branch.clone(), patrol.clone());
                self.sheets
                    .entry(key.clone())
                    .or_default()
                    .insert(inspector.clone(), zones);
                self.pending.insert(key.clone());
                if let Some(p) = self.patrols.get(&key) {
                    dirty_patrol(&mut dirty, &branch, p.kind, p.date);
                }
            }
            (DocId::Assessment { zone, month, .. }, Facts::Assessment(own, fin)) => {
                let key = (branch.clone(), *month);
                self.assessments
                    .entry(key)
                    .or_default()
                    .insert(zone.clone(), (own, fin));
                for period in periods_of_month(*month) {
                    dirty.insert((branch.clone(), period));
                }
            }
            (DocId::Problem { problem, .. }, Facts::Problem(f)) => {
                self.problems.replace(&branch, problem, Some(f), &mut dirty);
            }
            (DocId::Cleanup { cleanup, .. }, Facts::Cleanup(f)) => {
                self.cleanups.replace(&branch, cleanup, Some(f), &mut dirty);
            }
            (DocId::Publication { .. }, Facts::Publication(locks)) => {
                let old = self
                    .locks
                    .insert(branch.clone(), locks.clone())
                    .unwrap_or_default();
                for lock in old.iter().chain(&locks) {
                    if old.contains(lock) != locks.contains(lock) {
                        dirty.insert((branch.clone(), lock.period));
                    }
                }
            }
            // Rules change rarely and everywhere: every patrol and report again (a published
            // period keeps its report all the same).
            (DocId::Rules, Facts::Rules(versions)) if versions != self.rule_versions => {
                self.rule_versions = versions;
                self.pending.extend(self.patrols.keys().cloned());
                dirty.extend(self.all_keys());
            }
            (DocId::Evaluation { quarter, .. }, Facts::Evaluation(f)) => {
                let key = (branch.clone(), *quarter);
                let old = self.evaluations.insert(key, f.clone()).unwrap_or_default();
                dirty_evaluation(&mut dirty, &self.branches, &branch, *quarter, &old, &f);
            }
            (DocId::Report { period, .. }, Facts::Report(report)) => {
                let score = (
                    self.branches.get(&branch).and_then(|b| b.category),
                    report.branch.score,
                );
                self.branch_scores
                    .entry(*period)
                    .or_default()
                    .insert(branch.clone(), score);
                self.reports.insert((branch, *period), *report);
            }
            _ => {}
        }
        dirty
    }

    /// Takes out the contribution of a document that no longer reads (damaged, or written by
    /// a newer app): it counts for nothing until it reads again. Directories, publications and
    /// reports keep their last readable state.
    fn remove(&mut self, id: &DocId) -> BTreeSet<ReportKey> {
        let mut dirty = BTreeSet::new();
        let branch = id.branch().to_owned();
        match id {
            DocId::Patrol { patrol, .. } => {
                let key = (branch.clone(), patrol.clone());
                if let Some(old) = self.patrols.remove(&key) {
                    if let Some(d) = old.date {
                        index_patrol(&mut self.patrols_by, &branch, (old.kind, d), patrol, false);
                    }
                    dirty_patrol(&mut dirty, &branch, old.kind, old.date);
                }
                self.pending.insert(key);
            }
            DocId::Sheet {
                patrol, inspector, ..
            } => {
                let key = (branch.clone(), patrol.clone());
                if let Some(sheets) = self.sheets.get_mut(&key) {
                    sheets.remove(inspector);
                }
                self.pending.insert(key.clone());
                if let Some(p) = self.patrols.get(&key) {
                    dirty_patrol(&mut dirty, &branch, p.kind, p.date);
                }
            }
            DocId::Assessment { zone, month, .. } => {
                if let Some(zones) = self.assessments.get_mut(&(branch.clone(), *month)) {
                    zones.remove(zone);
                }
                for period in &periods_of_month(*month) {
                    dirty.insert((branch.clone(), *period));
                }
            }
            DocId::Problem { problem, .. } => {
                self.problems.replace(&branch, problem, None, &mut dirty);
            }
            DocId::Cleanup { cleanup, .. } => {
                self.cleanups.replace(&branch, cleanup, None, &mut dirty);
            }
            DocId::Evaluation { quarter, .. } => {
                if let Some(old) = self.evaluations.remove(&(branch.clone(), *quarter)) {
                    dirty_evaluation(&mut dirty, &self.branches, &branch, *quarter, &old, &old);
                }
            }
            DocId::Directory { .. }
            | DocId::Publication { .. }
            | DocId::Report { .. }
            | DocId::Rules => {}
        }
        dirty
    }

    fn reports_of(&self, branch: &str) -> Vec<ReportKey> {
        self.reports
            .keys()
            .filter(|(b, _)| b == branch)
            .cloned()
            .collect()
    }
}

/// The reports an evaluation's change may move: the quarter and the year of the branch that
/// gave it (its bonuses) and of every branch it marked, before and after — of the branches
/// `known` (a mark may name a branch that has no directory: it has no report either).
pub(in crate::consolidate) fn dirty_evaluation(
    dirty: &mut BTreeSet<ReportKey>,
    known: &BTreeMap<String, BranchFacts>,
    giver: &str,
    quarter: Period,
    old: &EvaluationFacts,
    new: &EvaluationFacts,
) {
    let year = Period::containing(PeriodKind::Year, quarter.first_day());
    let branches = std::iter::once(giver)
        .chain(old.marks.keys().map(String::as_str))
        .chain(new.marks.keys().map(String::as_str))
        .filter(|b| known.contains_key(*b));
    for branch in branches {
        dirty.insert((branch.to_owned(), quarter));
        dirty.insert((branch.to_owned(), year));
    }
}
