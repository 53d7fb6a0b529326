//! The branch's results from the server's reports: zones by rank with money and notices, the
//! branch's grade, and the branches on the phone.

use std::collections::BTreeMap;

use zonepatrol_shared::Points;
use zonepatrol_shared::docs::{BranchResult, DocId, DocKind, Report};
use zonepatrol_shared::rules::period::{Period, PeriodKind};

use super::{RecordError, directory};
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

/// The latest report of each kind of period (week, supervised ten-day period, month, quarter)
/// for a branch, on the phone.
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
    for id in repo.ids_with_prefix(&DocId::prefix(DocKind::Report, branch))? {
        let Ok(doc_id @ DocId::Report { period, .. }) = id.parse::<DocId>() else {
            continue;
        };
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
