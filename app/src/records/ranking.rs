//! The branch's results from the server's reports: zones by rank with money and notices, the
//! branch's grade, and the branches on the phone.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use zonepatrol_shared::docs::{BranchResult, DocId, DocKind, Report};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::rules::problem::is_overdue;
use zonepatrol_shared::{BranchCategory, Points};

use super::{RecordError, directory};
use crate::index::Summary;
use crate::store::Repo;

/// One zone in a ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankRow {
    /// The zone's id.
    pub zone: String,
    /// Its place.
    pub rank: u64,
    /// The zone's name.
    pub name: String,
    /// Its score.
    pub score: Option<Points>,
    /// Money from it, in fen (monthly).
    pub money_fen: i64,
    /// Praised in the notice (通报表扬).
    pub praised: bool,
    /// Named in the notice (通报批评).
    pub named: bool,
}

/// A branch's results in one period, from the server's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking {
    /// The period.
    pub period: Period,
    /// When the server last updated it.
    pub updated_at: Option<i64>,
    /// Zones by rank.
    pub rows: Vec<RankRow>,
    /// Open problems.
    pub open_problems: u64,
    /// Of those, overdue.
    pub overdue_problems: u64,
    /// The branch's score, grade and place in its category.
    pub branch: BranchResult,
    /// A manager published the period: its results are final.
    pub published: bool,
}

/// The branch's report documents on the phone, by period.
fn reports_on_phone(repo: &Repo, branch: &str) -> Result<Vec<(Period, DocId)>, RecordError> {
    let mut out = Vec::new();
    for id in repo.ids_with_prefix(&DocId::prefix(DocKind::Report, branch))? {
        if let Ok(doc_id @ DocId::Report { period, .. }) = id.parse::<DocId>() {
            out.push((period, doc_id));
        }
    }
    out.sort_by_key(|(p, _)| (p.first_day(), p.last_day()));
    Ok(out)
}

/// The branch at a glance, from the documents on the phone: its category and place in it (the
/// latest ranked year's, else quarter's report), its problems still waiting for a fix (the
/// problems themselves, which every member of the branch holds), and what the user receives
/// in the latest month with their final score.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Standing {
    /// The branch's category.
    pub category: Option<BranchCategory>,
    /// The period of the place below: the ranked year or quarter that ends last (a year
    /// before its quarters).
    pub period: Option<Period>,
    /// Its score, grade and place among the branches of its category then.
    pub branch: BranchResult,
    /// The branch's problems still waiting for their fix.
    pub open_problems: u64,
    /// Of those, past their deadline.
    pub overdue_problems: u64,
    /// The latest month with money for the user, and the fen they receive in it.
    pub my_money: Option<(Period, i64)>,
}

/// The branch at a glance for `user` on `today` (see [`Standing`]).
pub fn standing(
    repo: &Repo,
    branch: &str,
    user: &str,
    today: NaiveDate,
) -> Result<Standing, RecordError> {
    let mut out = Standing::default();
    // Ends last, and a year before a quarter ending the same day.
    let mut placed: Option<(NaiveDate, bool)> = None;
    for (period, id) in reports_on_phone(repo, branch)? {
        let kind = period.kind();
        if !matches!(
            kind,
            PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year
        ) {
            continue;
        }
        let Some(report) = repo.read::<Report>(&id)? else {
            continue;
        };
        if kind == PeriodKind::Month {
            // Money comes with a final score; a self-score alone brings none yet.
            let paid: Vec<i64> = report
                .zones
                .values()
                .filter(|z| z.score.is_some())
                .filter_map(|z| z.payees.get(user).copied())
                .collect();
            if !paid.is_empty() {
                out.my_money = Some((period, paid.iter().sum()));
            }
        } else if report.branch.rank > 0 {
            // A year just begun has its report before anything ranks it.
            let key = (period.last_day(), kind == PeriodKind::Year);
            if placed.is_none_or(|p| key > p) {
                placed = Some(key);
                out.period = Some(period);
                out.branch = report.branch;
            }
        }
    }
    for (_, summary) in repo.summaries(&DocId::prefix(DocKind::Problem, branch))? {
        let Summary::Problem(p) = summary else {
            continue;
        };
        if p.status.awaits_rectification() {
            out.open_problems += 1;
            if p.deadline.is_some_and(|d| is_overdue(p.status, d, today)) {
                out.overdue_problems += 1;
            }
        }
    }
    out.category = u8::try_from(out.branch.category)
        .ok()
        .and_then(|c| BranchCategory::try_from(c).ok());
    Ok(out)
}

/// One month of a zone's trend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendMonth {
    /// The month.
    pub month: Period,
    /// The final (branch) score.
    pub score: Option<Points>,
    /// The change from the month before, when both have a score.
    pub change: Option<Points>,
    /// Its place in the branch, and how many zones were ranked.
    pub rank: u64,
    /// How many zones of the branch were ranked that month.
    pub of: u64,
    /// The mean of its weekly inspection results.
    pub inspection: Option<Points>,
    /// Its money, in fen.
    pub money_fen: i64,
    /// Problems raised in it that month still waiting for their fix.
    pub open_problems: u64,
    /// Of those, overdue.
    pub overdue_problems: u64,
}

/// A zone over the months, from the month reports on the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneTrend {
    /// The zone's name.
    pub name: String,
    /// The last twelve months with a report, oldest first.
    pub months: Vec<TrendMonth>,
}

/// How many months a zone's trend shows.
pub const TREND_MONTHS: usize = 12;

/// A zone's trend over the last twelve months with a report on the phone.
pub fn zone_trend(repo: &Repo, branch: &str, zone: &str) -> Result<ZoneTrend, RecordError> {
    let name = directory(repo, branch)
        .ok()
        .and_then(|d| d.zones.get(zone).map(|z| z.name.clone()))
        .unwrap_or_else(|| zone.to_owned());
    let months: Vec<(Period, DocId)> = reports_on_phone(repo, branch)?
        .into_iter()
        .filter(|(p, _)| p.kind() == PeriodKind::Month)
        .collect();
    let mut out = Vec::new();
    // The month before the first shown counts for its change.
    let shown_from = months.len().saturating_sub(TREND_MONTHS);
    let mut last: Option<(Period, Option<Points>)> = None;
    for (n, (month, id)) in months.iter().enumerate().skip(shown_from.saturating_sub(1)) {
        let Some(report) = repo.read::<Report>(id)? else {
            continue;
        };
        let z = report.zones.get(zone).cloned().unwrap_or_default();
        let change = match (z.score, last) {
            (Some(now), Some((before, Some(then)))) if before.next() == *month => Some(now - then),
            _ => None,
        };
        last = Some((*month, z.score));
        if n < shown_from {
            continue;
        }
        out.push(TrendMonth {
            month: *month,
            score: z.score,
            change,
            rank: z.rank,
            of: report.zones.values().filter(|r| r.rank > 0).count() as u64,
            inspection: z.inspection,
            money_fen: z.money_fen,
            open_problems: z.open_problems,
            overdue_problems: z.overdue_problems,
        });
    }
    Ok(ZoneTrend { name, months: out })
}

/// The latest report of each kind of period (week, supervised ten-day period, month, quarter,
/// year) for a branch, on the phone.
pub fn rankings(repo: &Repo, branch: &str) -> Result<Vec<Ranking>, RecordError> {
    let names = directory(repo, branch)
        .map(|d| {
            d.zones
                .into_iter()
                .map(|(id, z)| (id, z.name))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    let mut latest: BTreeMap<PeriodKind, (Period, DocId)> = BTreeMap::new();
    for (period, doc_id) in reports_on_phone(repo, branch)? {
        // A ten-day period counts once it was supervised (its report may hold only problems).
        if period.kind() == PeriodKind::TenDay
            && !repo
                .read::<Report>(&doc_id)?
                .is_some_and(|r| r.zones.values().any(|z| z.score.is_some()))
        {
            continue;
        }
        let newer = latest
            .get(&period.kind())
            .is_none_or(|(p, _)| p.first_day() < period.first_day());
        if newer {
            latest.insert(period.kind(), (period, doc_id));
        }
    }
    let mut out = Vec::new();
    for kind in [
        PeriodKind::Week,
        PeriodKind::TenDay,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::Year,
    ] {
        let Some((period, id)) = latest.remove(&kind) else {
            continue;
        };
        let Some(report) = repo.read::<Report>(&id)? else {
            continue;
        };
        let mut rows: Vec<RankRow> = report
            .zones
            .iter()
            .map(|(zone, r)| RankRow {
                zone: zone.clone(),
                rank: r.rank,
                name: names.get(zone).cloned().unwrap_or_else(|| zone.clone()),
                score: r.score,
                money_fen: r.money_fen,
                praised: r.praised,
                named: r.named,
            })
            .collect();
        rows.sort_by(|a, b| {
            (a.rank == 0)
                .cmp(&(b.rank == 0))
                .then(a.rank.cmp(&b.rank))
                .then(a.name.cmp(&b.name))
        });
        out.push(Ranking {
            period,
            updated_at: report.updated_at,
            rows,
            open_problems: report.open_problems,
            overdue_problems: report.overdue_problems,
            branch: report.branch.clone(),
            published: report.published.is_some(),
        });
    }
    Ok(out)
}

/// The branches whose directories are on the phone (a manager's phone holds every branch).
pub fn branches(repo: &Repo) -> Result<Vec<(String, String)>, RecordError> {
    let mut out = Vec::new();
    for id in repo.ids_with_prefix(DocKind::Directory.as_str())? {
        let Ok(DocId::Directory { branch }) = id.parse::<DocId>() else {
            continue;
        };
        let name = directory(repo, &branch)
            .map(|d| d.info.name)
            .unwrap_or_default();
        out.push((branch.clone(), if name.is_empty() { branch } else { name }));
    }
    Ok(out)
}

/// The branch a rankings screen shows: the one chosen, else the user's own when it is on the
/// phone, else the first on the phone.
pub fn chosen_branch(chosen: Option<String>, mine: &str, branches: &[(String, String)]) -> String {
    chosen
        .or_else(|| {
            branches
                .iter()
                .any(|(b, _)| *b == mine)
                .then(|| mine.to_owned())
        })
        .or_else(|| branches.first().map(|(b, _)| b.clone()))
        .unwrap_or_default()
}
