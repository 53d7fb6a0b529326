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
//! [`InspectionRule::zone_result`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::AutoCommit;
use chrono::{Datelike, NaiveDate};
use zonepatrol_shared::docs::{
    self, Assessment, BranchResult, Cleanup, CleanupTotals, Directory, DocId, Document, Patrol,
    PostStatus, Problem, Publication, Published, Quantity, Report, Template, ZoneResult,
};
use zonepatrol_shared::docs::{ItemEntry, Lock, Tally, ZoneSheet};
use zonepatrol_shared::rules::inspection::notice;
use zonepatrol_shared::rules::period::{MineClock, Period};
use zonepatrol_shared::rules::{Grade, RulesConfig, rank};
use zonepatrol_shared::{BranchCategory, PatrolKind, Points};

/// The kinds of period that get a report.
pub fn report_periods(date: NaiveDate) -> [Period; 4] {
    use zonepatrol_shared::rules::PeriodKind as K;
    [
        Period::containing(K::Week, date),
        Period::containing(K::Month, date),
        Period::containing(K::Quarter, date),
        Period::containing(K::Year, date),
    ]
}

/// The months of a month, quarter or year.
pub fn months_of(period: Period) -> Vec<Period> {
    match period {
        Period::Month { .. } => vec![period],
        Period::Quarter { year, quarter } => (1..=3)
            .map(|m| Period::Month {
                year,
                month: (quarter - 1) * 3 + m,
            })
            .collect(),
        Period::Year { year } => (1..=12)
            .map(|month| Period::Month { year, month })
            .collect(),
        _ => Vec::new(),
    }
}

/// What a branch's directory contributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BranchFacts {
    /// The branch's name.
    pub name: String,
    /// Its category, when the directory gives a valid one.
    pub category: Option<BranchCategory>,
    /// Zones by id.
    pub zones: BTreeMap<String, ZoneFacts>,
    /// Active demonstration posts by zone.
    pub posts: BTreeMap<String, PostFacts>,
    /// Members' names by user id.
    pub members: BTreeMap<String, String>,
    /// Checklist templates, to score sheets.
    pub templates: BTreeMap<String, Template>,
}

/// An active demonstration post (党员示范岗), for its placard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostFacts {
    /// The post's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The basis and standard it is held to.
    pub standard: String,
    /// Who assesses it.
    pub assessor: String,
}

/// A zone as the directory describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZoneFacts {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub location: String,
    /// Whether it is in use.
    pub active: bool,
    /// The responsible members' user ids.
    pub holders: Vec<String>,
    /// The checklist template's name.
    pub template: String,
}

/// What a patrol contributes: its kind, day, plan, and whether its leader closed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolFacts {
    /// Only weekly inspections are ranked.
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

/// A zone's inspection result needs at least this many inspectors' sheets: with fewer, an
/// aggregate says too much about each inspector's own total.
pub const MIN_SHEETS: usize = 3;

/// What a problem contributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemFacts {
    /// The zone it was found in.
    pub zone: String,
    /// The day it was raised.
    pub raised: NaiveDate,
    /// The deadline for the fix.
    pub deadline: Option<NaiveDate>,
    /// Where it is in its loop.
    pub status: zonepatrol_shared::rules::ProblemStatus,
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
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    /// A branch directory.
    Directory(BranchFacts),
    /// A patrol.
    Patrol(PatrolFacts),
    /// A sheet: each zone's percentage, for one inspector. Private to this module's
    /// aggregation.
    Sheet(Vec<(String, Points)>),
    /// A monthly assessment: the self and final totals.
    Assessment(Option<Points>, Option<Points>),
    /// A problem.
    Problem(ProblemFacts),
    /// A cleanup.
    Cleanup(CleanupFacts),
    /// The branch's publications: the periods locked now.
    Publication(Vec<Lock>),
    /// A report the server wrote earlier.
    Report(Box<Report>),
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

/// The marks of a sheet and nothing else (no notes, no photos): hydrating the whole sheet
/// costs several times more, and a sheet is read on every push that carries it. `None` when
/// the document is not this sheet.
fn sheet_marks(doc: &AutoCommit, id: &DocId) -> Option<Vec<(String, ZoneSheet)>> {
    use automerge::{ROOT, ReadDoc, Value};
    let header: docs::Header = autosurgeon::hydrate_prop(doc, ROOT, "header").ok()?;
    if header.kind != "sheet" || header.id != id.to_string() || header.schema > docs::SCHEMA {
        return None;
    }
    let object = |obj: &automerge::ObjId, key: &str| match doc.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    };
    let zones = object(&ROOT, "zones")?;
    let mut out = Vec::new();
    for zone in doc.keys(&zones) {
        let Some(z) = object(&zones, &zone) else {
            continue;
        };
        let mut sheet = ZoneSheet {
            template: match doc.get(&z, "template") {
                Ok(Some((v, _))) => v.as_str().unwrap_or_default().to_owned(),
                _ => String::new(),
            },
            ..ZoneSheet::default()
        };
        if let Some(items) = object(&z, "items") {
            for item in doc.keys(&items) {
                let Some(it) = object(&items, &item) else {
                    continue;
                };
                let mut entry = ItemEntry {
                    not_applicable: matches!(
                        doc.get(&it, "not_applicable"),
                        Ok(Some((v, _))) if v.as_bool() == Some(true)
                    ),
                    ..ItemEntry::default()
                };
                if let Some(deductions) = object(&it, "deductions") {
                    for rule in doc.keys(&deductions) {
                        if let Ok(Some((v, _))) = doc.get(&deductions, &rule) {
                            let n = v.as_i64().unwrap_or(0);
                            entry.deductions.insert(rule, Tally::new(n));
                        }
                    }
                }
                sheet.items.insert(item, entry);
            }
        }
        out.push((zone, sheet));
    }
    Some(out)
}

/// How much of a problem's description the results keep: enough to tell problems apart on a
/// page; the document keeps it whole.
pub const DESCRIPTION_CHARS: usize = 120;

pub use zonepatrol_shared::validate::limits::shorten;

/// Two reports say the same, whenever they were computed.
fn same_content(a: &Report, b: &Report) -> bool {
    a.header == b.header
        && a.zones == b.zones
        && a.open_problems == b.open_problems
        && a.overdue_problems == b.overdue_problems
        && a.branch == b.branch
        && a.cleanups == b.cleanups
        && a.published == b.published
}

/// One inspector's percentage for each zone of a sheet.
type ZonePercents = Vec<(String, Points)>;

/// A zone's self-score and final score for a month.
type SelfAndFinal = (Option<Points>, Option<Points>);

/// A branch's category and its score in a period.
type CategoryScore = (Option<BranchCategory>, Option<Points>);

/// A branch and one of its periods.
pub type ReportKey = (String, Period);

/// The consolidated state of every branch.
#[derive(Debug, Default)]
pub struct Consolidator {
    rules: RulesConfig,
    clock: MineClock,
    branches: BTreeMap<String, BranchFacts>,
    patrols: HashMap<(String, String), PatrolFacts>,
    /// Sheets by (branch, patrol), then inspector: each zone's percentage.
    sheets: HashMap<(String, String), BTreeMap<String, ZonePercents>>,
    /// Each patrol's zone results over its inspectors, with how many sheets went in: the only
    /// aggregate of sheets, kept up to date as each sheet arrives.
    patrol_results: HashMap<(String, String), BTreeMap<String, (Points, u64)>>,
    /// Patrols whose sheets changed since their results were last aggregated.
    pending: std::collections::HashSet<(String, String)>,
    /// Weekly-inspection patrols by (branch, period), for each reported period kind.
    patrols_by: HashMap<ReportKey, BTreeSet<String>>,
    /// Assessments by (branch, month), then zone: the self and final totals.
    assessments: HashMap<ReportKey, BTreeMap<String, SelfAndFinal>>,
    problems: HashMap<(String, String), ProblemFacts>,
    problems_by: HashMap<ReportKey, BTreeSet<String>>,
    cleanups: HashMap<(String, String), CleanupFacts>,
    cleanups_by: HashMap<ReportKey, BTreeSet<String>>,
    locks: HashMap<String, Vec<Lock>>,
    /// Each period's branch scores, with the category they are ranked in.
    branch_scores: HashMap<Period, BTreeMap<String, CategoryScore>>,
    /// The reports as last computed (or as stored, at start).
    reports: HashMap<ReportKey, Report>,
}

fn index(
    map: &mut HashMap<ReportKey, BTreeSet<String>>,
    branch: &str,
    date: NaiveDate,
    id: &str,
    add: bool,
) {
    for period in report_periods(date) {
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

fn dirty_dates(dirty: &mut BTreeSet<ReportKey>, branch: &str, date: Option<NaiveDate>) {
    if let Some(date) = date {
        for period in report_periods(date) {
            dirty.insert((branch.to_owned(), period));
        }
    }
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

    /// The mine's clock.
    pub fn clock(&self) -> MineClock {
        self.clock
    }

    /// The rules in force.
    pub fn rules(&self) -> &RulesConfig {
        &self.rules
    }

    /// Reads what a document contributes. Sheets are scored against their branch's
    /// templates, so a branch's directory must be applied before its sheets.
    pub fn facts(&self, id: &DocId, doc: &AutoCommit) -> Facts {
        let date = |millis: i64| self.clock.date_of_millis(millis);
        match id {
            DocId::Directory { .. } => match docs::read::<Directory, _>(doc, id) {
                Ok(d) => Facts::Directory(BranchFacts {
                    name: d.info.name.clone(),
                    category: u8::try_from(d.info.category)
                        .ok()
                        .and_then(|n| BranchCategory::try_from(n).ok()),
                    zones: d
                        .zones
                        .iter()
                        .map(|(id, z)| {
                            (
                                id.clone(),
                                ZoneFacts {
                                    name: z.name.clone(),
                                    location: z.location.clone(),
                                    active: z.active,
                                    holders: z
                                        .holders
                                        .iter()
                                        .filter(|(_, on)| **on)
                                        .map(|(u, _)| u.clone())
                                        .collect(),
                                    template: d
                                        .templates
                                        .get(&z.template)
                                        .map(|t| t.name.clone())
                                        .unwrap_or_default(),
                                },
                            )
                        })
                        .collect(),
                    posts: d
                        .posts
                        .iter()
                        .filter(|(_, p)| p.status() == PostStatus::Active)
                        .map(|(id, p)| {
                            (
                                p.zone.clone(),
                                PostFacts {
                                    id: id.clone(),
                                    title: p.title.clone(),
                                    standard: p.standard.clone(),
                                    assessor: p.assessor.clone(),
                                },
                            )
                        })
                        .collect(),
                    members: d
                        .members
                        .iter()
                        .map(|(id, m)| (id.clone(), m.name.clone()))
                        .collect(),
                    templates: d.templates,
                }),
                Err(_) => Facts::None,
            },
            DocId::Patrol { .. } => match docs::read::<Patrol, _>(doc, id) {
                Ok(p) => Facts::Patrol(PatrolFacts {
                    kind: p.plan.kind,
                    date: p.plan.date.map(|d| d.0),
                    inspectors: p
                        .plan
                        .inspectors
                        .iter()
                        .filter(|(_, on)| **on)
                        .map(|(u, _)| u.clone())
                        .chain([p.plan.leader.clone()])
                        .collect(),
                    zones: p.plan.zones.keys().cloned().collect(),
                    closed: p.closed_at.is_some(),
                }),
                Err(_) => Facts::None,
            },
            DocId::Sheet { branch, .. } => {
                match (sheet_marks(doc, id), self.branches.get(branch)) {
                    (Some(zones), Some(dir)) => Facts::Sheet(
                        zones
                            .into_iter()
                            .filter_map(|(zone, z)| {
                                let template = dir.templates.get(&z.template)?;
                                Some((zone, z.score(template).percent?))
                            })
                            .collect(),
                    ),
                    _ => Facts::None,
                }
            }
            DocId::Assessment { .. } => match docs::read::<Assessment, _>(doc, id) {
                Ok(a) => Facts::Assessment(a.self_score.total(), a.final_score()),
                Err(_) => Facts::None,
            },
            DocId::Problem { .. } => match docs::read::<Problem, _>(doc, id) {
                Ok(p) => match date(p.finding.raised_at) {
                    Some(raised) if !p.finding.zone.is_empty() => Facts::Problem(ProblemFacts {
                        status: p.status(),
                        zone: p.finding.zone.clone(),
                        raised,
                        deadline: p.finding.deadline.map(|d| d.0),
                        description: shorten(&p.finding.description.0, DESCRIPTION_CHARS),
                        responsible: p.finding.responsible.clone(),
                        major: p.finding.severity == zonepatrol_shared::Severity::Major,
                        photos: p
                            .finding
                            .photos
                            .keys()
                            .chain(p.rectifications.values().flat_map(|r| r.photos.keys()))
                            .cloned()
                            .collect(),
                    }),
                    _ => Facts::None,
                },
                Err(_) => Facts::None,
            },
            DocId::Cleanup { .. } => match docs::read::<Cleanup, _>(doc, id) {
                Ok(c) => match c.log.date {
                    Some(day) if !c.log.zone.is_empty() => Facts::Cleanup(CleanupFacts {
                        zone: c.log.zone.clone(),
                        date: day.0,
                        person_times: c.log.person_times,
                        items: c
                            .log
                            .items
                            .values()
                            .map(|w| (w.what.clone(), w.unit.clone(), w.quantity_milli))
                            .collect(),
                    }),
                    _ => Facts::None,
                },
                Err(_) => Facts::None,
            },
            DocId::Publication { .. } => match docs::read::<Publication, _>(doc, id) {
                Ok(p) => Facts::Publication(p.locks()),
                Err(_) => Facts::None,
            },
            DocId::Report { .. } => match docs::read::<Report, _>(doc, id) {
                Ok(r) => Facts::Report(Box::new(r)),
                Err(_) => Facts::None,
            },
        }
    }

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
                    if let (PatrolKind::Weekly, Some(d)) = (old.kind, old.date) {
                        index(&mut self.patrols_by, &branch, d, patrol, false);
                    }
                    if self.sheets.contains_key(&key) {
                        dirty_dates(&mut dirty, &branch, old.date);
                    }
                }
                if let (PatrolKind::Weekly, Some(d)) = (kind, date) {
                    index(&mut self.patrols_by, &branch, d, patrol, true);
                }
                if self.sheets.contains_key(&key) {
                    self.pending.insert(key);
                    dirty_dates(&mut dirty, &branch, date);
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
                    dirty_dates(&mut dirty, &branch, p.date);
                }
            }
            (DocId::Assessment { zone, month, .. }, Facts::Assessment(own, fin)) => {
                let key = (branch.clone(), *month);
                self.assessments
                    .entry(key)
                    .or_default()
                    .insert(zone.clone(), (own, fin));
                dirty_dates(&mut dirty, &branch, Some(month.first_day()));
                dirty.retain(|(_, p)| !matches!(p, Period::Week { .. }));
            }
            (DocId::Problem { problem, .. }, Facts::Problem(f)) => {
                let key = (branch.clone(), problem.clone());
                let raised = f.raised;
                if let Some(old) = self.problems.insert(key, f) {
                    index(&mut self.problems_by, &branch, old.raised, problem, false);
                    dirty_dates(&mut dirty, &branch, Some(old.raised));
                }
                index(&mut self.problems_by, &branch, raised, problem, true);
                dirty_dates(&mut dirty, &branch, Some(raised));
            }
            (DocId::Cleanup { cleanup, .. }, Facts::Cleanup(f)) => {
                let key = (branch.clone(), cleanup.clone());
                let date = f.date;
                if let Some(old) = self.cleanups.insert(key, f) {
                    index(&mut self.cleanups_by, &branch, old.date, cleanup, false);
                    dirty_dates(&mut dirty, &branch, Some(old.date));
                }
                index(&mut self.cleanups_by, &branch, date, cleanup, true);
                dirty_dates(&mut dirty, &branch, Some(date));
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
                    if let (PatrolKind::Weekly, Some(d)) = (old.kind, old.date) {
                        index(&mut self.patrols_by, &branch, d, patrol, false);
                    }
                    dirty_dates(&mut dirty, &branch, old.date);
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
                    dirty_dates(&mut dirty, &branch, p.date);
                }
            }
            DocId::Assessment { zone, month, .. } => {
                if let Some(zones) = self.assessments.get_mut(&(branch.clone(), *month)) {
                    zones.remove(zone);
                }
                for period in &report_periods(month.first_day())[1..] {
                    dirty.insert((branch.clone(), *period));
                }
            }
            DocId::Problem { problem, .. } => {
                if let Some(old) = self.problems.remove(&(branch.clone(), problem.clone())) {
                    index(&mut self.problems_by, &branch, old.raised, problem, false);
                    dirty_dates(&mut dirty, &branch, Some(old.raised));
                }
            }
            DocId::Cleanup { cleanup, .. } => {
                if let Some(old) = self.cleanups.remove(&(branch.clone(), cleanup.clone())) {
                    index(&mut self.cleanups_by, &branch, old.date, cleanup, false);
                    dirty_dates(&mut dirty, &branch, Some(old.date));
                }
            }
            DocId::Directory { .. } | DocId::Publication { .. } | DocId::Report { .. } => {}
        }
        dirty
    }

    /// Forgets the reports as computed, so that the next computation writes them again (after
    /// a write that failed).
    pub fn forget(&mut self, keys: &[ReportKey]) {
        for key in keys {
            self.reports.remove(key);
        }
    }

    fn reports_of(&self, branch: &str) -> Vec<ReportKey> {
        self.reports
            .keys()
            .filter(|(b, _)| b == branch)
            .cloned()
            .collect()
    }

    /// Every report that has data, for a full recompute.
    pub fn all_keys(&self) -> BTreeSet<ReportKey> {
        let mut keys: BTreeSet<ReportKey> = self.reports.keys().cloned().collect();
        keys.extend(self.patrols_by.keys().cloned());
        keys.extend(self.problems_by.keys().cloned());
        keys.extend(self.cleanups_by.keys().cloned());
        // An assessment counts for its month, quarter and year, not for the week its first day
        // falls in.
        for (branch, month) in self.assessments.keys() {
            for period in &report_periods(month.first_day())[1..] {
                keys.insert((branch.clone(), *period));
            }
        }
        keys
    }

    /// Computes every report again; returns those that changed.
    pub fn compute_all(&mut self, today: NaiveDate, now: i64) -> Vec<ReportKey> {
        let keys = self.all_keys();
        self.compute(keys, today, now)
    }

    /// The lock on exactly this period, if it is published.
    pub fn lock(&self, branch: &str, period: Period) -> Option<&Lock> {
        self.locks
            .get(branch)
            .and_then(|locks| locks.iter().find(|l| l.period == period))
    }

    /// The periods published for a branch.
    pub fn locks(&self, branch: &str) -> &[Lock] {
        self.locks
            .get(branch)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Computes the given reports again, with the branch ranks they move; returns the reports
    /// that changed. A published period keeps the report it had when it was published.
    pub fn compute(
        &mut self,
        dirty: BTreeSet<ReportKey>,
        today: NaiveDate,
        now: i64,
    ) -> Vec<ReportKey> {
        for key in std::mem::take(&mut self.pending) {
            self.aggregate_patrol(&key);
        }
        let mut fresh: BTreeMap<ReportKey, Report> = BTreeMap::new();
        let mut peers: BTreeSet<(Period, Option<BranchCategory>)> = BTreeSet::new();
        for key in dirty {
            if let (Some(lock), Some(old)) = (self.lock(&key.0, key.1), self.reports.get(&key))
                && old
                    .published
                    .as_ref()
                    .is_some_and(|p| p.by == lock.by && p.at == lock.at)
            {
                continue;
            }
            let report = self.report(&key.0, key.1, today);
            let category = self.branches.get(&key.0).and_then(|b| b.category);
            let now_score = (category, report.branch.score);
            let scores = self.branch_scores.entry(key.1).or_default();
            let before = scores.insert(key.0.clone(), now_score);
            if before != Some(now_score) {
                peers.insert((key.1, category));
                if let Some((old_category, _)) = before {
                    peers.insert((key.1, old_category));
                }
            }
            fresh.insert(key, report);
        }
        // A branch whose score moved moves the ranks of its category's other branches.
        for (period, category) in peers {
            let Some(scores) = self.branch_scores.get(&period) else {
                continue;
            };
            for (branch, (c, _)) in scores {
                let key = (branch.clone(), period);
                if *c == category
                    && !fresh.contains_key(&key)
                    && self.lock(branch, period).is_none()
                    && let Some(old) = self.reports.get(&key)
                {
                    // Only a report whose place actually moved is taken up again.
                    let mut branch = old.branch.clone();
                    self.fill_rank(&key, &mut branch);
                    if branch != old.branch {
                        fresh.insert(key, old.clone());
                    }
                }
            }
        }
        let mut changed = Vec::new();
        for (key, mut report) in fresh {
            self.fill_rank(&key, &mut report.branch);
            if let Some(lock) = self.lock(&key.0, key.1) {
                report.published = Some(Published {
                    by: lock.by.clone(),
                    at: lock.at,
                });
            }
            let same = self
                .reports
                .get(&key)
                .is_some_and(|old| same_content(old, &report));
            if !same {
                report.updated_at = Some(now);
                self.reports.insert(key.clone(), report);
                changed.push(key);
            }
        }
        changed
    }

    fn fill_rank(&self, key: &ReportKey, branch: &mut BranchResult) {
        branch.rank = 0;
        branch.of = 0;
        let Some(scores) = self.branch_scores.get(&key.1) else {
            return;
        };
        let Some(category) = self.branches.get(&key.0).and_then(|b| b.category) else {
            return;
        };
        let mine = match scores.get(&key.0) {
            Some((_, Some(score))) => *score,
            _ => return,
        };
        let peers: Vec<Points> = scores
            .values()
            .filter(|(c, _)| *c == Some(category))
            .filter_map(|(_, s)| *s)
            .collect();
        branch.of = peers.len() as u64;
        branch.rank = 1 + peers.iter().filter(|s| **s > mine).count() as u64;
    }

    /// Each zone's result for each weekly patrol dated in the period, with how many sheets
    /// went into it.
    fn inspections(&self, branch: &str, period: Period) -> BTreeMap<String, (Vec<Points>, u64)> {
        let mut out: BTreeMap<String, (Vec<Points>, u64)> = BTreeMap::new();
        let Some(patrols) = self.patrols_by.get(&(branch.to_owned(), period)) else {
            return out;
        };
        for patrol in patrols {
            let Some(results) = self
                .patrol_results
                .get(&(branch.to_owned(), patrol.clone()))
            else {
                continue;
            };
            for (zone, (result, sheets)) in results {
                let entry = out.entry(zone.clone()).or_default();
                entry.0.push(*result);
                entry.1 += sheets;
            }
        }
        out
    }

    /// Aggregates a patrol's sheets again: each zone's result over its inspectors.
    fn aggregate_patrol(&mut self, key: &(String, String)) {
        let (Some(sheets), Some(patrol)) = (self.sheets.get(key), self.patrols.get(key)) else {
            self.patrol_results.remove(key);
            return;
        };
        if !patrol.closed {
            self.patrol_results.remove(key);
            return;
        }
        let mut per_zone: HashMap<&str, Vec<Points>> = HashMap::new();
        for (inspector, zones) in sheets {
            if !patrol.inspectors.contains(inspector) {
                continue;
            }
            for (zone, percent) in zones {
                if patrol.zones.contains(zone) {
                    per_zone.entry(zone.as_str()).or_default().push(*percent);
                }
            }
        }
        let results: BTreeMap<String, (Points, u64)> = per_zone
            .into_iter()
            .filter(|(_, scores)| scores.len() >= MIN_SHEETS)
            .filter_map(|(zone, scores)| {
                let result = self.rules.inspection.zone_result(&scores)?;
                Some((zone.to_owned(), (result, scores.len() as u64)))
            })
            .collect();
        self.patrol_results.insert(key.clone(), results);
    }

    /// Computes one report from the facts (the branch rank is filled in by [`Self::compute`],
    /// which first aggregates the patrols whose sheets changed).
    fn report(&self, branch: &str, period: Period, today: NaiveDate) -> Report {
        let id = DocId::Report {
            branch: branch.to_owned(),
            period,
        };
        let mut report = Report::born(docs::Header::for_id(&id));
        let facts = self.branches.get(branch);
        let category = facts.and_then(|b| b.category);
        let key = (branch.to_owned(), period);
        if let Some(facts) = facts {
            for (zone, z) in &facts.zones {
                if z.active {
                    report.zones.insert(zone.clone(), ZoneResult::default());
                }
            }
        }
        for (zone, (results, sheets)) in self.inspections(branch, period) {
            let r = report.zones.entry(zone).or_default();
            r.inspection = Points::mean(&results);
            r.sheets = sheets;
        }
        let months = months_of(period);
        if months.is_empty() {
            for r in report.zones.values_mut() {
                r.score = r.inspection;
            }
        } else {
            let mut finals: BTreeMap<&str, (Vec<Points>, Vec<Points>, i64)> = BTreeMap::new();
            for month in &months {
                let Some(zones) = self.assessments.get(&(branch.to_owned(), *month)) else {
                    continue;
                };
                for (zone, (own, fin)) in zones {
                    let entry = finals.entry(zone.as_str()).or_default();
                    if let Some(own) = own {
                        entry.1.push(*own);
                    }
                    if let Some(fin) = fin {
                        entry.0.push(*fin);
                        entry.2 += self.rules.money.money(*fin).0;
                    }
                }
            }
            for (zone, (fins, owns, money)) in finals {
                let r = report.zones.entry(zone.to_owned()).or_default();
                r.score = Points::mean(&fins);
                r.self_score = Points::mean(&owns);
                r.money_fen = money;
            }
        }
        let scored: Vec<(String, Points)> = report
            .zones
            .iter()
            .filter_map(|(z, r)| r.score.map(|s| (z.clone(), s)))
            .collect();
        let ranking = rank(&scored);
        let (best, worst) = notice(&ranking, (ranking.len() / 10).clamp(1, 5));
        for r in &ranking {
            if let Some(z) = report.zones.get_mut(&r.key) {
                z.rank = r.rank as u64;
            }
        }
        for r in best {
            if let Some(z) = report.zones.get_mut(&r.key) {
                z.praised = true;
            }
        }
        for r in worst {
            if let Some(z) = report.zones.get_mut(&r.key) {
                z.named = true;
            }
        }
        if let Some(facts) = facts {
            let pass = category.map(|c| self.rules.grades.thresholds(c).0);
            for (zone, post) in &facts.posts {
                if let Some(z) = report.zones.get_mut(zone) {
                    z.post = post.id.clone();
                    z.loses_title = matches!(period, Period::Quarter { .. } | Period::Year { .. })
                        && matches!((z.score, pass), (Some(s), Some(p)) if s < p);
                }
            }
        }
        for problem in self.problems_by.get(&key).into_iter().flatten() {
            let Some(p) = self.problems.get(&(branch.to_owned(), problem.clone())) else {
                continue;
            };
            if !p.status.awaits_rectification() {
                continue;
            }
            let overdue = p
                .deadline
                .is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today));
            report.open_problems += 1;
            report.overdue_problems += u64::from(overdue);
            let z = report.zones.entry(p.zone.clone()).or_default();
            z.open_problems += 1;
            z.overdue_problems += u64::from(overdue);
        }
        let mut totals = CleanupTotals::default();
        for cleanup in self.cleanups_by.get(&key).into_iter().flatten() {
            let Some(c) = self.cleanups.get(&(branch.to_owned(), cleanup.clone())) else {
                continue;
            };
            totals.logs += 1;
            totals.person_times += c.person_times;
            for (what, unit, milli) in &c.items {
                let q = totals
                    .quantities
                    .entry(format!("{unit}|{what}"))
                    .or_insert_with(|| Quantity {
                        what: what.clone(),
                        unit: unit.clone(),
                        milli: 0,
                    });
                q.milli = q.milli.saturating_add(*milli);
            }
        }
        report.cleanups = totals;
        let zone_scores: Vec<Points> = report.zones.values().filter_map(|z| z.score).collect();
        let score = Points::mean(&zone_scores);
        report.branch = BranchResult {
            category: category.map_or(0, |c| u64::from(c.number())),
            score,
            grade: match (category, score) {
                (Some(c), Some(s)) => match self.rules.grades.grade(c, s) {
                    Grade::Fail => "fail",
                    Grade::Pass => "pass",
                    Grade::Excellent => "excellent",
                }
                .to_owned(),
                _ => String::new(),
            },
            rank: 0,
            of: 0,
        };
        report
    }

    /// The report as last computed.
    pub fn current(&self, branch: &str, period: Period) -> Option<&Report> {
        self.reports.get(&(branch.to_owned(), period))
    }

    /// The branches, by id.
    pub fn branches(&self) -> &BTreeMap<String, BranchFacts> {
        &self.branches
    }

    /// A branch's problems still waiting for a fix, overdue first, then by deadline.
    pub fn open_problems(&self, branch: &str, zone: Option<&str>) -> Vec<(&str, &ProblemFacts)> {
        let mut out: Vec<(&str, &ProblemFacts)> = self
            .problems
            .iter()
            .filter(|((b, _), p)| {
                b == branch && p.status.awaits_rectification() && zone.is_none_or(|z| z == p.zone)
            })
            .map(|((_, id), p)| (id.as_str(), p))
            .collect();
        out.sort_by(|a, b| {
            (a.1.deadline.is_none(), a.1.deadline, a.0).cmp(&(
                b.1.deadline.is_none(),
                b.1.deadline,
                b.0,
            ))
        });
        out
    }

    /// Every branch's problems waiting for a fix, and how many of them are overdue, in one
    /// pass.
    pub fn open_counts(&self, today: NaiveDate) -> HashMap<&str, (u64, u64)> {
        let mut out: HashMap<&str, (u64, u64)> = HashMap::new();
        for ((branch, _), p) in &self.problems {
            if !p.status.awaits_rectification() {
                continue;
            }
            let entry = out.entry(branch.as_str()).or_default();
            entry.0 += 1;
            if p.deadline
                .is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today))
            {
                entry.1 += 1;
            }
        }
        out
    }

    /// A zone's problems, newest first (every status).
    pub fn zone_problems(&self, branch: &str, zone: &str) -> Vec<(&str, &ProblemFacts)> {
        let mut out: Vec<(&str, &ProblemFacts)> = self
            .problems
            .iter()
            .filter(|((b, _), p)| b == branch && p.zone == zone)
            .map(|((_, id), p)| (id.as_str(), p))
            .collect();
        out.sort_by(|a, b| (b.1.raised, b.0).cmp(&(a.1.raised, a.0)));
        out
    }

    /// A zone's cleanups, newest first.
    pub fn zone_cleanups(&self, branch: &str, zone: &str) -> Vec<&CleanupFacts> {
        let mut out: Vec<&CleanupFacts> = self
            .cleanups
            .iter()
            .filter(|((b, _), c)| b == branch && c.zone == zone)
            .map(|(_, c)| c)
            .collect();
        out.sort_by_key(|c| std::cmp::Reverse(c.date));
        out
    }

    /// The branch's reports of a kind of period, oldest first.
    pub fn reports_of_kind(
        &self,
        branch: &str,
        kind: zonepatrol_shared::rules::PeriodKind,
    ) -> Vec<&Report> {
        let mut out: Vec<(&Period, &Report)> = self
            .reports
            .iter()
            .filter(|((b, p), _)| b == branch && p.kind() == kind)
            .map(|((_, p), r)| (p, r))
            .collect();
        out.sort_by_key(|(p, _)| **p);
        out.into_iter().map(|(_, r)| r).collect()
    }

    /// Whether a photo belongs to a problem of the branch (the dashboard shows only those).
    pub fn problem_photo(&self, branch: &str, hash: &str) -> bool {
        self.problems
            .iter()
            .any(|((b, _), p)| b == branch && p.photos.iter().any(|h| h == hash))
    }

    /// The mine's date now.
    pub fn today(&self, now: i64) -> NaiveDate {
        self.clock
            .date_of_millis(now)
            .unwrap_or_else(|| NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN))
    }

    /// The year of the date, for pages that show a year.
    pub fn year_of(date: NaiveDate) -> i32 {
        date.year()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zonepatrol_shared::docs::{FreeText, PhotoRef, Sheet};

    fn template() -> Template {
        crate::demo::template()
    }

    fn branch_facts() -> BranchFacts {
        BranchFacts {
            name: "b".into(),
            category: Some(BranchCategory::MainProduction),
            zones: ["z1", "z2"]
                .into_iter()
                .map(|z| {
                    (
                        z.to_owned(),
                        ZoneFacts {
                            name: z.to_owned(),
                            active: true,
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            templates: BTreeMap::from([("t1".to_owned(), template())]),
            ..Default::default()
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn a_sheet_read_for_its_marks_scores_as_the_whole_sheet_does() {
        let id: DocId = "sheet:b:p1:zhao".parse().expect("id");
        let mut doc = docs::genesis::<Sheet>(&id).expect("genesis");
        doc.set_actor(automerge::ActorId::from([3u8; 16]));
        let mut sheet: Sheet = docs::read(&doc, &id).expect("read");
        let mut z = ZoneSheet {
            template: "t1".into(),
            note: FreeText::from("巷道积水"),
            ..Default::default()
        };
        z.items.entry("i1".into()).or_default().not_applicable = true;
        let entry = z.items.entry("i5".into()).or_default();
        entry.deductions.insert("r1".into(), Tally::new(2));
        entry.deductions.insert("unknown".into(), Tally::new(9));
        entry.note = FreeText::from("支护");
        entry.photos.insert("ab".repeat(32), PhotoRef::default());
        z.items
            .entry("i9".into())
            .or_default()
            .deductions
            .insert("r1".into(), Tally::new(1));
        sheet.zones.insert("z1".into(), z);
        sheet.zones.insert(
            "z2".into(),
            ZoneSheet {
                template: "t1".into(),
                ..Default::default()
            },
        );
        docs::write(&mut doc, &sheet).expect("write");
        doc.commit();
        // A second device's counter taps merge into the same counter.
        let mut other = doc.fork().with_actor(automerge::ActorId::from([4u8; 16]));
        let mut s2: Sheet = docs::read(&other, &id).expect("read");
        if let Some(t) = s2
            .zones
            .get_mut("z1")
            .and_then(|z| z.items.get_mut("i9"))
            .and_then(|i| i.deductions.get_mut("r1"))
        {
            *t = Tally::new(t.value() + 1);
        }
        docs::write(&mut other, &s2).expect("write");
        other.commit();
        doc.merge(&mut other).expect("merge");

        let whole: Sheet = docs::read(&doc, &id).expect("read");
        let want: Vec<(String, Points)> = whole
            .zones
            .iter()
            .filter_map(|(zone, z)| Some((zone.clone(), z.score(&template()).percent?)))
            .collect();
        let mut c = Consolidator::default();
        c.apply(
            &"directory:b".parse().expect("id"),
            Facts::Directory(branch_facts()),
        );
        assert_eq!(c.facts(&id, &doc), Facts::Sheet(want.clone()));
        // 90 points apply (i1 N/A); i5 −6, i9 −10 (two taps of 5): 74/90.
        assert_eq!(want[0], ("z1".to_owned(), "82.22".parse().expect("points")));
        // Another document under the sheet's id gives nothing.
        let other_id: DocId = "sheet:b:p1:qian".parse().expect("id");
        assert_eq!(c.facts(&other_id, &doc), Facts::None);
    }

    fn problem(zone: &str, raised: &str, open: bool) -> Facts {
        Facts::Problem(ProblemFacts {
            zone: zone.into(),
            raised: day(raised),
            deadline: Some(day(raised)),
            status: if open {
                zonepatrol_shared::rules::ProblemStatus::Open
            } else {
                zonepatrol_shared::rules::ProblemStatus::Verified
            },
            description: String::new(),
            responsible: String::new(),
            major: false,
            photos: Vec::new(),
        })
    }

    #[test]
    fn a_document_that_moves_leaves_its_old_period() {
        let mut c = Consolidator::default();
        c.apply(
            &"directory:b".parse().expect("id"),
            Facts::Directory(branch_facts()),
        );
        let today = day("2026-12-31");
        let patrol: DocId = "patrol:b:p1".parse().expect("id");
        let plan = |kind: PatrolKind, d: &str, closed: bool| {
            Facts::Patrol(PatrolFacts {
                kind,
                date: Some(day(d)),
                inspectors: ["a", "b", "c", "d"].map(String::from).into(),
                zones: ["z1", "z2"].map(String::from).into(),
                closed,
            })
        };
        let weekly = |d: &str| plan(PatrolKind::Weekly, d, true);
        c.apply(&patrol, plan(PatrolKind::Weekly, "2026-11-18", false));
        for (n, who) in ["a", "b", "c"].iter().enumerate() {
            let id: DocId = format!("sheet:b:p1:{who}").parse().expect("id");
            c.apply(
                &id,
                Facts::Sheet(vec![("z1".into(), Points::whole(90 + n as i64))]),
            );
        }
        let p1: DocId = "problem:b:q1".parse().expect("id");
        c.apply(&p1, problem("z2", "2026-11-18", true));
        // A sheet from someone not on the plan, and a zone not on it, count for nothing.
        c.apply(
            &"sheet:b:p1:x".parse().expect("id"),
            Facts::Sheet(vec![("z1".into(), Points::whole(10))]),
        );
        c.apply(
            &"sheet:b:p1:d".parse().expect("id"),
            Facts::Sheet(vec![("z3".into(), Points::whole(10))]),
        );
        c.compute_all(today, 1);
        let w47: Period = "2026-W47".parse().expect("week");
        let w48: Period = "2026-W48".parse().expect("week");
        // Open: nothing shows until the leader closes the walk.
        assert_eq!(
            c.current("b", w47).expect("week 47").zones["z1"].score,
            None
        );
        let dirty = c.apply(&patrol, weekly("2026-11-18"));
        c.compute(dirty, today, 1);
        let week47 = c.current("b", w47).expect("week 47").clone();
        assert_eq!(week47.zones["z1"].score, Some(Points::whole(91)));
        assert_eq!(week47.zones["z1"].sheets, 3);
        assert_eq!(week47.open_problems, 1);
        assert_eq!(week47.overdue_problems, 1);

        // The patrol moves to the next week; the problem is verified.
        let dirty = c.apply(&patrol, weekly("2026-11-25"));
        let mut all = dirty;
        all.extend(c.apply(&p1, problem("z2", "2026-11-18", false)));
        assert!(all.contains(&("b".to_owned(), w47)) && all.contains(&("b".to_owned(), w48)));
        c.compute(all, today, 2);
        let week47 = c.current("b", w47).expect("week 47");
        assert_eq!(week47.zones["z1"].score, None, "the patrol left week 47");
        assert_eq!(week47.open_problems, 0);
        let week48 = c.current("b", w48).expect("week 48");
        assert_eq!(week48.zones["z1"].score, Some(Points::whole(91)));

        // A sheet that no longer reads takes its figures with it: two sheets are too few.
        let dirty = c.apply(&"sheet:b:p1:c".parse().expect("id"), Facts::None);
        c.compute(dirty, today, 3);
        assert_eq!(
            c.current("b", w48).expect("week 48").zones["z1"].score,
            None
        );
        let dirty = c.apply(
            &"sheet:b:p1:c".parse().expect("id"),
            Facts::Sheet(vec![("z1".into(), Points::whole(92))]),
        );
        c.compute(dirty, today, 3);
        assert_eq!(
            c.current("b", w48).expect("week 48").zones["z1"].score,
            Some(Points::whole(91))
        );

        // Not weekly any more: it is not ranked.
        let spot = plan(PatrolKind::SpotCheck, "2026-11-25", true);
        let dirty = c.apply(&patrol, spot);
        c.compute(dirty, today, 3);
        assert_eq!(
            c.current("b", w48).expect("week 48").zones["z1"].score,
            None
        );
    }

    #[test]
    fn branches_rank_within_their_category_and_posts_below_the_pass_mark_are_flagged() {
        let mut c = Consolidator::default();
        let mut facts = branch_facts();
        facts.posts.insert(
            "z2".into(),
            PostFacts {
                id: "post1".into(),
                ..Default::default()
            },
        );
        c.apply(&"directory:b".parse().expect("id"), Facts::Directory(facts));
        c.apply(
            &"directory:c".parse().expect("id"),
            Facts::Directory(branch_facts()),
        );
        let assess = |c: &mut Consolidator, id: &str, fin: i64| {
            let id: DocId = id.parse().expect("id");
            c.apply(&id, Facts::Assessment(None, Some(Points::whole(fin))))
        };
        assess(&mut c, "assessment:b:z1:2026-10", 96);
        assess(&mut c, "assessment:b:z2:2026-10", 78);
        assess(&mut c, "assessment:c:z1:2026-10", 90);
        let today = day("2026-12-31");
        c.compute_all(today, 1);
        let q4: Period = "2026-Q4".parse().expect("quarter");
        let oct: Period = "2026-10".parse().expect("month");
        let b = c.current("b", oct).expect("b october");
        assert_eq!(b.branch.score, Some(Points::whole(87)));
        assert_eq!(
            (b.branch.rank, b.branch.of, b.branch.grade.as_str()),
            (2, 2, "pass")
        );
        assert_eq!(b.zones["z1"].money_fen, 1000);
        assert_eq!(b.zones["z2"].money_fen, -7000);
        let quarter = c.current("b", q4).expect("b q4");
        assert!(
            quarter.zones["z2"].loses_title,
            "78 is under category 1's 80"
        );
        assert_eq!(quarter.zones["z2"].post, "post1");
        assert!(!quarter.zones["z1"].loses_title);
        // c overtakes b: b's report is taken up again for its rank alone.
        let dirty = assess(&mut c, "assessment:c:z2:2026-10", 50);
        let changed = c.compute(dirty, today, 2);
        assert!(changed.contains(&("b".to_owned(), oct)), "b moved up");
        assert_eq!(c.current("b", oct).expect("b").branch.rank, 1);
        assert_eq!(c.current("c", oct).expect("c").branch.rank, 2);
        // Published: the report keeps what it said.
        let lock = Lock {
            period: oct,
            by: "mgr".into(),
            at: 5,
        };
        let dirty = c.apply(
            &"publication:b".parse().expect("id"),
            Facts::Publication(vec![lock]),
        );
        c.compute(dirty, today, 3);
        let frozen = c.current("b", oct).expect("b").clone();
        assert_eq!(
            frozen.published.as_ref().map(|p| p.by.as_str()),
            Some("mgr")
        );
        let dirty = assess(&mut c, "assessment:b:z1:2026-10", 60);
        c.compute(dirty, today, 4);
        assert_eq!(c.current("b", oct).expect("b"), &frozen);
    }
}
