//! The month's work and the surface view, as plain functions over the device's store: the
//! holder's self-score, the secretary's assessment beside the self-score and the suggested
//! scores, the team leader's cleanup log, and the branch ranking from the server's reports.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{
    Assessment, Cleanup, Day, DocId, FreeText, PhotoRef, Report, Scores, WorkItem,
};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::rules::problem::ProblemStatus;
use zonepatrol_shared::rules::suggest::{
    AssessmentItem, MonthEvidence, ProblemEvidence, SuggestRule, Suggestion,
};
use zonepatrol_shared::{Actor, Points, Role};

use crate::field::{FieldError, check_unlocked, directory};
use crate::i18n::T;
use crate::store::{PhotoRecord, Repo, now_millis};

/// The month containing a day.
pub fn month_of(day: NaiveDate) -> Period {
    Period::containing(PeriodKind::Month, day)
}

fn assessment_id(me: &Actor, zone: &str, month: Period) -> DocId {
    DocId::Assessment {
        branch: me.branch.clone(),
        zone: zone.to_owned(),
        month,
    }
}

/// A zone on the month's list: its self-score and branch score so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRow {
    /// The zone's id.
    pub zone: String,
    /// Its name.
    pub name: String,
    /// The holder's total, once all ten items are scored.
    pub self_total: Option<Points>,
    /// The secretary's total, once all ten items are scored.
    pub branch_total: Option<Points>,
}

/// The zones to score this month: the user's own for a holder, every active zone for the
/// secretary.
pub fn month_rows(repo: &Repo, me: &Actor, month: Period) -> Result<Vec<MonthRow>, FieldError> {
    let dir = directory(repo, &me.branch)?;
    let mut rows = Vec::new();
    for (id, zone) in &dir.zones {
        let mine = dir.holds(&me.user, id);
        if !zone.active || !(mine || me.role == Role::Secretary) {
            continue;
        }
        let a = repo.read::<Assessment>(&assessment_id(me, id, month))?;
        rows.push(MonthRow {
            zone: id.clone(),
            name: zone.name.clone(),
            self_total: a.as_ref().and_then(|a| a.self_score.total()),
            branch_total: a.as_ref().and_then(|a| a.branch_score.total()),
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.zone.cmp(&b.zone)));
    Ok(rows)
}

/// Everything the assessment screen of a zone shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentView {
    /// The zone's name.
    pub name: String,
    /// The holder's self-score.
    pub self_score: Scores,
    /// The secretary's score so far.
    pub branch_score: Scores,
    /// Suggested scores with their reasons, from what is on the phone.
    pub suggestions: Vec<Suggestion>,
}

/// Checks a score form: every one of the ten items, each from 0 to its maximum.
pub fn check_scores(scores: &BTreeMap<AssessmentItem, Points>) -> Result<(), FieldError> {
    let complete = AssessmentItem::ALL.iter().all(|i| scores.contains_key(i));
    let in_range = scores
        .values()
        .all(|p| *p >= Points::ZERO && *p <= AssessmentItem::MAX);
    if !complete || !in_range {
        return Err(FieldError::Input(T::ScoreEveryItem));
    }
    Ok(())
}

fn scores(me: &Actor, items: &BTreeMap<AssessmentItem, Points>, note: &str) -> Scores {
    Scores {
        items: items
            .iter()
            .map(|(i, p)| (i.key().to_owned(), *p))
            .collect(),
        note: FreeText(note.trim().to_owned()),
        by: me.user.clone(),
        at: Some(now_millis()),
    }
}

/// The holder's self-score of a zone for a month.
pub fn self_score(
    repo: &Repo,
    me: &Actor,
    zone: &str,
    month: Period,
    items: &BTreeMap<AssessmentItem, Points>,
    note: &str,
) -> Result<(), FieldError> {
    check_scores(items)?;
    if !directory(repo, &me.branch)?.holds(&me.user, zone) {
        return Err(FieldError::Input(T::OnlyHolderSelfScores));
    }
    check_unlocked(repo, &me.branch, month.first_day(), month.last_day())?;
    repo.edit_as::<Assessment, _>(me, &assessment_id(me, zone, month), |a| {
        a.self_score = scores(me, items, note);
    })?;
    Ok(())
}

/// The secretary's assessment of a zone for a month; final.
pub fn assess(
    repo: &Repo,
    me: &Actor,
    zone: &str,
    month: Period,
    items: &BTreeMap<AssessmentItem, Points>,
    note: &str,
) -> Result<(), FieldError> {
    check_scores(items)?;
    if me.role != Role::Secretary {
        return Err(FieldError::Input(T::OnlySecretaryAssesses));
    }
    check_unlocked(repo, &me.branch, month.first_day(), month.last_day())?;
    repo.edit_as::<Assessment, _>(me, &assessment_id(me, zone, month), |a| {
        a.branch_score = scores(me, items, note);
    })?;
    Ok(())
}

/// What the phone knows of a zone's month: the weekly results in the server's reports, the
/// problems raised and the cleanups logged.
pub fn month_evidence(
    repo: &Repo,
    me: &Actor,
    zone: &str,
    month: Period,
    today: NaiveDate,
) -> Result<MonthEvidence, FieldError> {
    let (first, last) = (month.first_day(), month.last_day());
    // Judged as things stood at the month's end, or today for the month still running.
    let end = last.min(today);
    let mut evidence = MonthEvidence {
        month_end: Some(end),
        ..MonthEvidence::default()
    };
    for id in repo.ids_with_prefix(&format!("report:{}:", me.branch))? {
        let Ok(doc_id @ DocId::Report { period, .. }) = id.parse::<DocId>() else {
            continue;
        };
        if period.kind() != PeriodKind::Week || !month.contains(period.last_day()) {
            continue;
        }
        if let Some(score) = repo
            .read::<Report>(&doc_id)?
            .and_then(|r| r.zones.get(zone).and_then(|z| z.score))
        {
            evidence.inspections.push(score);
        }
    }
    let clock = repo.clock();
    for (_, summary) in repo.summaries(&format!("problem:{}:", me.branch))? {
        let crate::index::Summary::Problem(p) = summary else {
            continue;
        };
        let (Some(raised), Some(deadline)) = (clock.date_of_millis(p.raised_at), p.deadline) else {
            continue;
        };
        if p.zone != zone || raised < first || raised > last {
            continue;
        }
        // A fix recorded after the end does not count for the month.
        let rectified_on = p
            .rectified_at
            .and_then(|at| clock.date_of_millis(at))
            .filter(|d| *d <= end);
        let status = if rectified_on.is_none() && !p.status.awaits_rectification() {
            ProblemStatus::Open
        } else {
            p.status
        };
        evidence.problems.push(ProblemEvidence {
            severity: p.severity,
            deadline,
            rectified_on,
            status,
        });
    }
    for id in repo.ids_with_prefix(&format!("cleanup:{}:", me.branch))? {
        let Ok(doc_id) = id.parse::<DocId>() else {
            continue;
        };
        let Some(c) = repo.read::<Cleanup>(&doc_id)? else {
            continue;
        };
        let in_month = c.log.date.is_some_and(|d| month.contains(d.0));
        if c.log.zone == zone && in_month {
            evidence
                .cleanups
                .push(u32::try_from(c.log.person_times).unwrap_or(u32::MAX));
        }
    }
    Ok(evidence)
}

/// Opens a zone's assessment for a month.
pub fn assessment_view(
    repo: &Repo,
    me: &Actor,
    zone: &str,
    month: Period,
) -> Result<AssessmentView, FieldError> {
    let dir = directory(repo, &me.branch)?;
    let name = dir
        .zones
        .get(zone)
        .map(|z| z.name.clone())
        .ok_or_else(|| FieldError::Missing {
            what: "zone",
            id: zone.to_owned(),
        })?;
    let a = repo.read::<Assessment>(&assessment_id(me, zone, month))?;
    let today = crate::field::today(&repo.clock());
    let suggestions =
        SuggestRule::default().suggest(&month_evidence(repo, me, zone, month, today)?);
    Ok(AssessmentView {
        name,
        self_score: a.as_ref().map(|a| a.self_score.clone()).unwrap_or_default(),
        branch_score: a.map(|a| a.branch_score).unwrap_or_default(),
        suggestions,
    })
}

/// What the cleanup screen collects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CleanupInput {
    /// The zone.
    pub zone: String,
    /// The team.
    pub team: String,
    /// The day.
    pub date: Option<NaiveDate>,
    /// Who took part (member ids or names).
    pub participants: Vec<String>,
    /// Person-times; at least the participants.
    pub person_times: u64,
    /// Work done: what, quantity in thousandths, unit.
    pub items: Vec<WorkItem>,
    /// Photos before.
    pub before: Vec<PhotoRecord>,
    /// Photos after.
    pub after: Vec<PhotoRecord>,
    /// Notes.
    pub note: String,
}

/// Checks a cleanup before it is logged.
pub fn check_cleanup(input: &CleanupInput) -> Result<(), FieldError> {
    if input.zone.is_empty() {
        return Err(FieldError::Input(T::ChooseZone));
    }
    if input.date.is_none() {
        return Err(FieldError::Input(T::ChooseCleanupDay));
    }
    if input.person_times == 0 || input.person_times > 100_000 {
        return Err(FieldError::Input(T::PersonTimesRange));
    }
    if input
        .items
        .iter()
        .any(|i| i.what.trim().is_empty() || i.unit.trim().is_empty() || i.quantity_milli < 0)
    {
        return Err(FieldError::Input(T::WorkItemIncomplete));
    }
    Ok(())
}

fn refs(photos: &[PhotoRecord]) -> BTreeMap<String, PhotoRef> {
    photos
        .iter()
        .map(|p| (p.hash.clone(), p.reference()))
        .collect()
}

/// Logs a cleanup led by the user (a team leader); returns its name.
pub fn log_cleanup(repo: &Repo, me: &Actor, input: &CleanupInput) -> Result<String, FieldError> {
    check_cleanup(input)?;
    if me.role != Role::TeamLeader {
        return Err(FieldError::Input(T::OnlyTeamLeaderLogs));
    }
    let dir = directory(repo, &me.branch)?;
    if !dir.zones.contains_key(&input.zone) {
        return Err(FieldError::Missing {
            what: "zone",
            id: input.zone.clone(),
        });
    }
    let date = input.date.unwrap_or_default();
    check_unlocked(repo, &me.branch, date, date)?;
    let name = crate::field::new_name(date);
    repo.edit_as::<Cleanup, _>(
        me,
        &DocId::Cleanup {
            branch: me.branch.clone(),
            cleanup: name.clone(),
        },
        |c| {
            c.log.zone = input.zone.clone();
            c.log.team = input.team.trim().to_owned();
            c.log.date = Some(Day(date));
            c.log.leader = me.user.clone();
            c.log.participants = input
                .participants
                .iter()
                .map(|p| (p.clone(), true))
                .collect();
            c.log.person_times = input.person_times;
            c.log.items = input
                .items
                .iter()
                .enumerate()
                .map(|(n, i)| {
                    (
                        format!("{n:03}"),
                        WorkItem {
                            what: i.what.trim().to_owned(),
                            quantity_milli: i.quantity_milli,
                            unit: i.unit.trim().to_owned(),
                        },
                    )
                })
                .collect();
            c.log.before = refs(&input.before);
            c.log.after = refs(&input.after);
            c.log.note = FreeText(input.note.trim().to_owned());
        },
    )?;
    Ok(name)
}

/// Parses a quantity typed by a person ("120", "1.5", "0,75") into thousandths.
pub fn quantity_milli(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 3 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").parse().ok()?
    };
    (whole >= 0 && frac >= 0)
        .then(|| whole.checked_mul(1000)?.checked_add(frac))
        .flatten()
}

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
    pub branch: zonepatrol_shared::docs::BranchResult,
    /// A manager published the period: its results are final.
    pub published: bool,
}

/// The latest report of each kind of period (week, month, quarter) for a branch, on the phone.
pub fn rankings(repo: &Repo, branch: &str) -> Result<Vec<Ranking>, FieldError> {
    let names = directory(repo, branch)
        .map(|d| {
            d.zones
                .into_iter()
                .map(|(id, z)| (id, z.name))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    let mut latest: BTreeMap<PeriodKind, (Period, DocId)> = BTreeMap::new();
    for id in repo.ids_with_prefix(&format!("report:{branch}:"))? {
        let Ok(doc_id @ DocId::Report { period, .. }) = id.parse::<DocId>() else {
            continue;
        };
        let newer = latest
            .get(&period.kind())
            .is_none_or(|(p, _)| p.first_day() < period.first_day());
        if newer {
            latest.insert(period.kind(), (period, doc_id));
        }
    }
    let mut out = Vec::new();
    for kind in [PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter] {
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
pub fn branches(repo: &Repo) -> Result<Vec<(String, String)>, FieldError> {
    let mut out = Vec::new();
    for id in repo.ids_with_prefix("directory:")? {
        let branch = id["directory:".len()..].to_owned();
        let name = directory(repo, &branch)
            .map(|d| d.info.name)
            .unwrap_or_default();
        out.push((branch.clone(), if name.is_empty() { branch } else { name }));
    }
    Ok(out)
}
