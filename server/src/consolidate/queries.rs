//! The read-only questions the dashboard and the report writer ask of the consolidated state.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use zonepatrol_shared::PatrolKind;
use zonepatrol_shared::docs::{Lock, Report};
use zonepatrol_shared::rules::PeriodKind;
use zonepatrol_shared::rules::cadence::{Done, months_due};
use zonepatrol_shared::rules::period::Period;
use zonepatrol_shared::rules::problem::is_overdue;

use super::{BranchFacts, CleanupFacts, Consolidator, ProblemFacts};

impl Consolidator {
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

    /// What each of `branches` has not done yet on `today` by the cadence: this week's
    /// inspection, this ten-day period's supervision and the month's self-check (a closed walk
    /// of the kind), the self-scores (of zones with a holder) and assessments of the months
    /// asked for that are not published, its problems' deadlines. One pass over the problems.
    pub fn undone(&self, branches: &[&String], today: NaiveDate) -> BTreeMap<String, Done> {
        let mut out: BTreeMap<String, Done> = branches
            .iter()
            .map(|b| ((*b).clone(), self.undone_walks_and_scores(b, today)))
            .collect();
        for ((b, _), p) in &self.problems.by_id {
            if let (Some(done), Some(deadline)) = (out.get_mut(b), p.deadline)
                && p.status.awaits_rectification()
            {
                done.problem_deadlines.push(deadline);
            }
        }
        out
    }

    fn undone_walks_and_scores(&self, branch: &str, today: NaiveDate) -> Done {
        let walked = |kind: PatrolKind, period: Period| {
            self.patrols_by
                .get(&(branch.to_owned(), period))
                .into_iter()
                .flatten()
                .any(|id| {
                    self.patrols
                        .get(&(branch.to_owned(), id.clone()))
                        .is_some_and(|p| p.kind == kind && p.closed)
                })
        };
        let zones: Vec<(&String, bool)> = self
            .branches
            .get(branch)
            .map(|b| {
                b.zones
                    .iter()
                    .filter(|(_, z)| z.active)
                    .map(|(id, z)| (id, !z.holders.is_empty()))
                    .collect()
            })
            .unwrap_or_default();
        let mut done = Done {
            weekly: walked(
                PatrolKind::Weekly,
                Period::containing(PeriodKind::Week, today),
            ),
            ten_day: walked(
                PatrolKind::TenDay,
                Period::containing(PeriodKind::TenDay, today),
            ),
            ..Done::default()
        };
        for month in months_due(today) {
            if self.lock(branch, month).is_some() {
                continue;
            }
            if !walked(PatrolKind::MonthlySelfCheck, month) {
                done.self_checks_missing.push(month);
            }
            let rules = self.rules_on(month.first_day());
            let assessed = self.assessments.get(&(branch.to_owned(), month));
            let missing = |zone: &String, pick: fn(&super::SelfAndFinal) -> &super::ScoreItems| {
                assessed
                    .and_then(|a| a.get(zone))
                    .and_then(|sf| rules.assessment.total(pick(sf)))
                    .is_none()
            };
            let own = zones
                .iter()
                .filter(|(z, held)| *held && missing(z, |sf| &sf.0))
                .count();
            let fin = zones.iter().filter(|(z, _)| missing(z, |sf| &sf.1)).count();
            done.self_scores_left.push((month, own));
            done.assessments_left.push((month, fin));
        }
        done
    }

    /// Why a zone has no result of `kind` in the period, for those who wonder: the best any
    /// of the period's patrols of that kind came to. `None` when it has one.
    pub fn no_result(
        &self,
        branch: &str,
        period: Period,
        kind: PatrolKind,
        zone: &str,
    ) -> Option<NoResult> {
        if self
            .current(branch, period)
            .and_then(|r| r.zones.get(zone))
            .is_some_and(|z| z.score.is_some())
        {
            return None;
        }
        let mut why = NoResult::NotVisited;
        for name in self
            .patrols_by
            .get(&(branch.to_owned(), period))
            .into_iter()
            .flatten()
        {
            let key = (branch.to_owned(), name.clone());
            let Some(patrol) = self.patrols.get(&key) else {
                continue;
            };
            if patrol.kind != kind || !patrol.zones.contains(zone) {
                continue;
            }
            let sheets = self.sheets.get(&key).map_or(0, |s| {
                s.iter()
                    .filter(|(inspector, zones)| {
                        patrol.inspectors.contains(*inspector)
                            && zones.iter().any(|(z, _)| z == zone)
                    })
                    .count()
            });
            let needed = self.fewest_sheets(patrol);
            let this = if !patrol.closed {
                NoResult::NotClosed { sheets }
            } else if sheets < needed {
                NoResult::TooFewSheets { sheets, needed }
            } else {
                continue;
            };
            why = why.max(this);
        }
        Some(why)
    }

    /// The report as last computed.
    pub fn current(&self, branch: &str, period: Period) -> Option<&Report> {
        self.reports.get(&(branch.to_owned(), period))
    }

    /// Every report as last computed.
    pub fn reports(&self) -> impl Iterator<Item = (&super::ReportKey, &Report)> {
        self.reports.iter()
    }

    /// The branches, by id.
    pub fn branches(&self) -> &BTreeMap<String, BranchFacts> {
        &self.branches
    }

    /// A branch's problems still waiting for a fix, overdue first, then by deadline.
    pub fn open_problems(&self, branch: &str, zone: Option<&str>) -> Vec<(&str, &ProblemFacts)> {
        let mut out = self.problems_where(|b, p| {
            b == branch && p.status.awaits_rectification() && zone.is_none_or(|z| z == p.zone)
        });
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
        for ((branch, _), p) in &self.problems.by_id {
            if !p.status.awaits_rectification() {
                continue;
            }
            let entry = out.entry(branch.as_str()).or_default();
            entry.0 += 1;
            if p.deadline.is_some_and(|d| is_overdue(p.status, d, today)) {
                entry.1 += 1;
            }
        }
        out
    }

    /// A zone's problems, newest first (every status).
    pub fn zone_problems(&self, branch: &str, zone: &str) -> Vec<(&str, &ProblemFacts)> {
        let mut out = self.problems_where(|b, p| b == branch && p.zone == zone);
        out.sort_by(|a, b| (b.1.raised, b.0).cmp(&(a.1.raised, a.0)));
        out
    }

    /// The problems, by id, of the branches and with the facts that `keep` accepts, unsorted.
    fn problems_where(
        &self,
        keep: impl Fn(&str, &ProblemFacts) -> bool,
    ) -> Vec<(&str, &ProblemFacts)> {
        self.problems
            .by_id
            .iter()
            .filter(|((b, _), p)| keep(b, p))
            .map(|((_, id), p)| (id.as_str(), p))
            .collect()
    }

    /// A zone's cleanups, newest first.
    pub fn zone_cleanups(&self, branch: &str, zone: &str) -> Vec<&CleanupFacts> {
        let mut out: Vec<&CleanupFacts> = self
            .cleanups
            .by_id
            .iter()
            .filter(|((b, _), c)| b == branch && c.zone == zone)
            .map(|(_, c)| c)
            .collect();
        out.sort_by_key(|c| Reverse(c.date));
        out
    }

    /// The branch's reports of a kind of period, oldest first.
    pub fn reports_of_kind(&self, branch: &str, kind: PeriodKind) -> Vec<&Report> {
        let mut out: Vec<(&Period, &Report)> = self
            .reports
            .iter()
            .filter(|((b, p), _)| b == branch && p.kind() == kind)
            .map(|((_, p), r)| (p, r))
            .collect();
        out.sort_by_key(|(p, _)| **p);
        out.into_iter().map(|(_, r)| r).collect()
    }

    /// A problem's facts, if the branch has it.
    pub fn problem(&self, branch: &str, name: &str) -> Option<&ProblemFacts> {
        self.problems
            .by_id
            .get(&(branch.to_owned(), name.to_owned()))
    }

    /// Whether a photo belongs to a problem of the branch (the dashboard shows only those).
    pub fn problem_photo(&self, branch: &str, hash: &str) -> bool {
        self.problems
            .by_id
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

/// Why a zone has no result for a period (see [`Consolidator::no_result`]), from the least
/// done to the most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoResult {
    /// No patrol of the kind visited it in the period.
    NotVisited,
    /// A patrol visited it and its leader has not closed it yet: its results count once
    /// closed, all together.
    NotClosed {
        /// Sheets that scored it so far.
        sheets: usize,
    },
    /// Its patrol is closed with fewer sheets on it than a result needs (the rules' setting,
    /// never under three for the anonymous weekly inspection).
    TooFewSheets {
        /// Sheets that scored it.
        sheets: usize,
        /// The fewest a result needs.
        needed: usize,
    },
}

impl NoResult {
    /// The reason in words.
    pub fn says(self, lang: zonepatrol_shared::labels::Lang) -> String {
        use zonepatrol_shared::labels::Lang;
        match (self, lang) {
            (NoResult::NotVisited, Lang::Zh) => "本期未检查".to_owned(),
            (NoResult::NotVisited, Lang::En) => "not inspected in the period".to_owned(),
            (NoResult::NotClosed { sheets }, Lang::Zh) => {
                format!("巡查尚未结束（已有 {sheets} 份评分表）")
            }
            (NoResult::NotClosed { sheets }, Lang::En) => {
                format!("the patrol is not closed yet ({sheets} sheets so far)")
            }
            (NoResult::TooFewSheets { sheets, needed }, Lang::Zh) => {
                format!("只有 {sheets} 份评分表，至少需要 {needed} 份")
            }
            (NoResult::TooFewSheets { sheets, needed }, Lang::En) => {
                format!("only {sheets} sheets; a result needs {needed}")
            }
        }
    }
}
