//! The reports computed from the facts: each patrol's zone results, each period's zone scores
//! and rankings, the branch's grade and its rank among the branches of its category.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use zonepatrol_shared::PatrolKind;
use zonepatrol_shared::docs::{
    self, BranchResult, CleanupTotals, DocId, Document, Published, Quantity, Report, ZoneResult,
};
use zonepatrol_shared::rules::inspection::notice;
use zonepatrol_shared::rules::period::{Period, PeriodKind, months_of, periods_of_month};
use zonepatrol_shared::rules::problem::is_overdue;
use zonepatrol_shared::rules::{rank, split};
use zonepatrol_shared::{BranchCategory, Points};

use super::{Consolidator, ReportKey};

/// A zone's inspection result needs at least this many inspectors' sheets unless the mine's
/// rules say more: with fewer, an aggregate says too much about each inspector's own total.
/// The rules' own default; a version of the rules may not go below it.
pub const MIN_SHEETS: usize = 3;

/// From how many reports a computation is shared among the cores.
const PARALLEL_FROM: usize = 256;

/// A zone's self total, final total, the money (fen) the final brings, and who receives it,
/// for one month.
struct ZoneTotals {
    zone: String,
    own: Option<Points>,
    fin: Option<Points>,
    money: i64,
    payees: BTreeMap<String, i64>,
}

/// The month totals of one branch, worked out once for the month, quarter and year that count
/// them (reports are computed branch by branch).
#[derive(Default)]
struct MonthTotals {
    branch: String,
    months: HashMap<Period, Vec<ZoneTotals>>,
}

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

impl Consolidator {
    /// Forgets the reports as computed, so that the next computation writes them again (after
    /// a write that failed).
    pub fn forget(&mut self, keys: &[ReportKey]) {
        for key in keys {
            self.reports.remove(key);
        }
    }

    /// Every report that has data, for a full recompute.
    pub fn all_keys(&self) -> BTreeSet<ReportKey> {
        let mut keys: BTreeSet<ReportKey> = self.reports.keys().cloned().collect();
        keys.extend(self.patrols_by.keys().cloned());
        keys.extend(self.problems.by_period.keys().cloned());
        keys.extend(self.cleanups.by_period.keys().cloned());
        // An assessment counts for its month, quarter and year, not for the week its first day
        // falls in.
        for (branch, month) in self.assessments.keys() {
            for period in &periods_of_month(*month) {
                keys.insert((branch.clone(), *period));
            }
        }
        for ((giver, quarter), e) in &self.evaluations {
            super::facts::dirty_evaluation(&mut keys, &self.branches, giver, *quarter, e, e);
        }
        keys
    }

    /// Computes every report again; returns those that changed.
    pub fn compute_all(&mut self, today: NaiveDate, now: i64) -> Vec<ReportKey> {
        let keys = self.all_keys();
        self.compute(keys, today, now)
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
        let todo: Vec<ReportKey> = dirty
            .into_iter()
            .filter(|key| {
                let kept = self.lock(&key.0, key.1).zip(self.reports.get(key));
                !kept.is_some_and(|(lock, old)| {
                    old.published
                        .as_ref()
                        .is_some_and(|p| p.by == lock.by && p.at == lock.at)
                })
            })
            .collect();
        for (key, report) in self.compute_reports(todo, today) {
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

    /// Computes the reports of the given keys (sorted by branch), on every core when there are
    /// many: a start computes thousands, a change a handful.
    fn compute_reports(&self, keys: Vec<ReportKey>, today: NaiveDate) -> Vec<(ReportKey, Report)> {
        let compute = |keys: &[ReportKey]| -> Vec<(ReportKey, Report)> {
            let mut totals = MonthTotals::default();
            keys.iter()
                .map(|key| (key.clone(), self.report(&key.0, key.1, today, &mut totals)))
                .collect()
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        if cores < 2 || keys.len() < PARALLEL_FROM {
            return compute(&keys);
        }
        let size = keys.len().div_ceil(cores);
        std::thread::scope(|s| {
            let parts: Vec<_> = keys
                .chunks(size)
                .map(|part| s.spawn(move || compute(part)))
                .collect();
            parts
                .into_iter()
                .flat_map(|part| {
                    part.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
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

    /// Each zone's result for each patrol of `kind` dated in the period, with how many sheets
    /// went into it.
    fn inspections(
        &self,
        branch: &str,
        period: Period,
        kind: PatrolKind,
    ) -> BTreeMap<String, (Vec<Points>, u64)> {
        let mut out: BTreeMap<String, (Vec<Points>, u64)> = BTreeMap::new();
        let Some(patrols) = self.patrols_by.get(&(branch.to_owned(), period)) else {
            return out;
        };
        for patrol in patrols {
            let key = (branch.to_owned(), patrol.clone());
            if self.patrols.get(&key).is_none_or(|p| p.kind != kind) {
                continue;
            }
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

    /// The fewest sheets a zone's result on the patrol needs. The weekly inspection is marked
    /// anonymously (无记名打分): the rules' number, never fewer than three, whatever they say. A
    /// ten-day supervision or a monthly self-check is the named work of the organisation
    /// department or of the branch: one sheet is a result.
    pub(super) fn fewest_sheets(&self, patrol: &super::PatrolFacts) -> usize {
        if patrol.kind == PatrolKind::Weekly {
            let rule = patrol
                .date
                .map_or(self.rules.inspection, |d| self.rules_on(d).inspection);
            rule.min_sheets.max(MIN_SHEETS)
        } else {
            1
        }
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
        let rule = patrol
            .date
            .map_or(self.rules.inspection, |d| self.rules_on(d).inspection);
        let fewest = self.fewest_sheets(patrol);
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
            .filter(|(_, scores)| scores.len() >= fewest)
            .filter_map(|(zone, scores)| {
                let result = rule.zone_result(&scores)?;
                Some((zone.to_owned(), (result, scores.len() as u64)))
            })
            .collect();
        self.patrol_results.insert(key.clone(), results);
    }

    /// Computes one report from the facts (the branch rank is filled in by [`Self::compute`],
    /// which first aggregates the patrols whose sheets changed).
    fn report(
        &self,
        branch: &str,
        period: Period,
        today: NaiveDate,
        totals: &mut MonthTotals,
    ) -> Report {
        let id = DocId::report(branch, period);
        let mut report = Report::born(docs::Header::for_id(&id));
        let facts = self.branches.get(branch);
        let category = facts.and_then(|b| b.category);
        let key = (branch.to_owned(), period);
        // A period is graded on the rules in force at its end (or today, while it runs).
        let graded_on = period.last_day().min(today);
        if let Some(facts) = facts {
            for (zone, z) in &facts.zones {
                if z.active {
                    report.zones.insert(zone.clone(), ZoneResult::default());
                }
            }
        }
        self.score_zones(branch, period, &mut report.zones, totals);
        rank_zones(&mut report.zones);
        if let Some(facts) = facts {
            let pass = category.map(|c| self.rules_on(graded_on).grades.of(c).pass);
            // The post that held each zone's title in the period (up to the day it is graded).
            for (zone, z) in &mut report.zones {
                if let Some((id, _)) = facts.post_in(zone, period.first_day(), graded_on) {
                    z.post = id.clone();
                    z.loses_title = matches!(period, Period::Quarter { .. } | Period::Year { .. })
                        && matches!((z.score, pass), (Some(s), Some(p)) if s < p);
                }
            }
        }
        self.count_problems(&key, today, &mut report);
        report.cleanups = self.cleanup_totals(&key);
        let zone_scores: Vec<Points> = report.zones.values().filter_map(|z| z.score).collect();
        let work = Points::mean(&zone_scores);
        // A quarter or a year is graded and ranked on the composite: the work score with the
        // mutual evaluation and the special-activity bonuses.
        let (mutual, givers, bonus) = self.mutual(branch, period, graded_on);
        let score = match period.kind() {
            PeriodKind::Quarter | PeriodKind::Year => self
                .rules_on(graded_on)
                .mutual
                .composite(work, mutual, bonus),
            _ => work,
        };
        report.branch = BranchResult {
            category: category.map_or(0, |c| u64::from(c.number())),
            score,
            work,
            mutual,
            givers,
            bonus,
            grade: match (category, score) {
                (Some(c), Some(s)) => self.rules_on(graded_on).grades.grade(c, s).to_string(),
                _ => String::new(),
            },
            rank: 0,
            of: 0,
        };
        report
    }

    /// A branch's mutual evaluation in a period, with how many branches marked it, and the
    /// bonuses it was given: a quarter's from the marks of that quarter (trimmed like an
    /// inspection, from three branches); a year's the mean of its quarters' results and the sum
    /// of their bonuses. Nothing for a week, ten days or a month.
    fn mutual(
        &self,
        branch: &str,
        period: Period,
        graded_on: NaiveDate,
    ) -> (Option<Points>, u64, Points) {
        let quarter = |q: Period| {
            let marks: Vec<Points> = self
                .evaluations
                .iter()
                .filter(|((giver, of), _)| *of == q && giver != branch)
                .filter_map(|(_, e)| e.marks.get(branch).copied())
                .collect();
            let rules = self.rules_on(q.last_day().min(graded_on));
            // Shown once every other branch has marked, all at once: a result that moved mark
            // by mark would tell each mark by the difference.
            let others = self.branches.keys().filter(|b| *b != branch).count();
            let result = if marks.len() >= others {
                rules.mutual.result(&marks, &rules.inspection)
            } else {
                None
            };
            let bonus = self
                .evaluations
                .get(&(branch.to_owned(), q))
                .map_or(Points::ZERO, |e| e.bonus);
            (result, marks.len() as u64, bonus)
        };
        match period {
            Period::Quarter { .. } => quarter(period),
            Period::Year { year } => {
                let quarters: Vec<_> = (1..=4)
                    .map(|q| quarter(Period::Quarter { year, quarter: q }))
                    .collect();
                let results: Vec<Points> = quarters.iter().filter_map(|q| q.0).collect();
                let bonus = Points(quarters.iter().map(|q| q.2.0).sum());
                (Points::mean(&results), 0, bonus)
            }
            _ => (None, 0, Points::ZERO),
        }
    }

    /// Each zone's inspection result in the period and its score: a week's score is its
    /// inspection result; a month's, quarter's or year's is the mean of the final monthly
    /// assessments, with the self-scores and the money they bring.
    fn score_zones(
        &self,
        branch: &str,
        period: Period,
        zones: &mut BTreeMap<String, ZoneResult>,
        totals: &mut MonthTotals,
    ) {
        // A ten-day period ranks the ten-day supervision; every other period the weekly
        // inspection, and a month also its self-check (月自查).
        let kind = if period.kind() == PeriodKind::TenDay {
            PatrolKind::TenDay
        } else {
            PatrolKind::Weekly
        };
        for (zone, (results, sheets)) in self.inspections(branch, period, kind) {
            let r = zones.entry(zone).or_default();
            r.inspection = Points::mean(&results);
            r.sheets = sheets;
        }
        if period.kind() == PeriodKind::Month {
            for (zone, (results, _)) in
                self.inspections(branch, period, PatrolKind::MonthlySelfCheck)
            {
                zones.entry(zone).or_default().self_check = Points::mean(&results);
            }
        }
        let months = months_of(period);
        if months.is_empty() {
            for r in zones.values_mut() {
                r.score = r.inspection;
            }
            return;
        }
        if totals.branch != branch {
            totals.branch = branch.to_owned();
            totals.months.clear();
        }
        for month in &months {
            if !totals.months.contains_key(month) {
                let of_month = self.month_totals(branch, *month);
                totals.months.insert(*month, of_month);
            }
        }
        #[derive(Default)]
        struct Finals {
            fins: Vec<Points>,
            owns: Vec<Points>,
            money: i64,
            payees: BTreeMap<String, i64>,
        }
        let mut finals: BTreeMap<&str, Finals> = BTreeMap::new();
        for month in &months {
            for t in totals.months.get(month).into_iter().flatten() {
                let entry = finals.entry(t.zone.as_str()).or_default();
                if let Some(own) = t.own {
                    entry.owns.push(own);
                }
                if let Some(fin) = t.fin {
                    entry.fins.push(fin);
                    entry.money += t.money;
                    for (who, fen) in &t.payees {
                        *entry.payees.entry(who.clone()).or_default() += fen;
                    }
                }
            }
        }
        for (zone, f) in finals {
            let r = zones.entry(zone.to_owned()).or_default();
            r.score = Points::mean(&f.fins);
            r.self_score = Points::mean(&f.owns);
            r.money_fen = f.money;
            r.payees = f.payees;
        }
    }

    /// Each zone's self total, final total and the money the final brings, for a month of a
    /// branch, on the rules of that month. The money goes to whom the month's published report
    /// paid (a holder who changed since keeps what the month paid them), and in a month still
    /// open to the zone's holders as the directory names them, in their shares.
    fn month_totals(&self, branch: &str, month: Period) -> Vec<ZoneTotals> {
        let key = (branch.to_owned(), month);
        let Some(assessed) = self.assessments.get(&key) else {
            return Vec::new();
        };
        let rules = self.rules_on(month.first_day());
        let zones = self.branches.get(branch).map(|b| &b.zones);
        // A month published (and not reopened since) with a report that names its payees: the
        // money and who received it are the report's, whatever changed since (holders,
        // shares, rules reaching back).
        let published = self.reports.get(&key).filter(|r| {
            let locked = self.lock(branch, month).zip(r.published.as_ref());
            locked.is_some_and(|(lock, p)| p.by == lock.by && p.at == lock.at)
                && r.zones.values().any(|z| !z.payees.is_empty())
        });
        assessed
            .iter()
            .map(|(zone, (own, fin))| {
                let (own, fin) = (rules.assessment.total(own), rules.assessment.total(fin));
                let (money, payees) = match published.and_then(|r| r.zones.get(zone)) {
                    Some(z) => (z.money_fen, z.payees.clone()),
                    None => {
                        let money = fin.map_or(0, |f| rules.money.money(f).0);
                        let payees = zones
                            .and_then(|z| z.get(zone))
                            .map(|z| split(money, &z.holders, &z.shares))
                            .unwrap_or_default();
                        (money, payees)
                    }
                };
                ZoneTotals {
                    zone: zone.clone(),
                    own,
                    fin,
                    money,
                    payees,
                }
            })
            .collect()
    }

    /// Counts the problems raised in the report's period that still wait for a fix, and how
    /// many of them are overdue, for the branch and for each zone.
    fn count_problems(&self, key: &ReportKey, today: NaiveDate, report: &mut Report) {
        for problem in self.problems.by_period.get(key).into_iter().flatten() {
            let Some(p) = self.problems.by_id.get(&(key.0.clone(), problem.clone())) else {
                continue;
            };
            if !p.status.awaits_rectification() {
                continue;
            }
            let overdue = p.deadline.is_some_and(|d| is_overdue(p.status, d, today));
            report.open_problems += 1;
            report.overdue_problems += u64::from(overdue);
            let z = report.zones.entry(p.zone.clone()).or_default();
            z.open_problems += 1;
            z.overdue_problems += u64::from(overdue);
        }
    }

    /// The cleanups of the report's period, added up.
    fn cleanup_totals(&self, key: &ReportKey) -> CleanupTotals {
        let mut totals = CleanupTotals::default();
        for cleanup in self.cleanups.by_period.get(key).into_iter().flatten() {
            let Some(c) = self.cleanups.by_id.get(&(key.0.clone(), cleanup.clone())) else {
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
        totals
    }
}

/// Ranks the scored zones, and praises the best places and names the worst (a tenth of the
/// places each way, at least one and at most five).
fn rank_zones(zones: &mut BTreeMap<String, ZoneResult>) {
    let scored: Vec<(String, Points)> = zones
        .iter()
        .filter_map(|(z, r)| r.score.map(|s| (z.clone(), s)))
        .collect();
    let ranking = rank(&scored);
    let (best, worst) = notice(&ranking, (ranking.len() / 10).clamp(1, 5));
    for r in &ranking {
        if let Some(z) = zones.get_mut(&r.key) {
            z.rank = r.rank as u64;
        }
    }
    for r in best {
        if let Some(z) = zones.get_mut(&r.key) {
            z.praised = true;
        }
    }
    for r in worst {
        if let Some(z) = zones.get_mut(&r.key) {
            z.named = true;
        }
    }
}
