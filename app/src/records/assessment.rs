//! The monthly zone assessment: the holder's self-score, the secretary's assessment beside the
//! self-score and the suggested scores, and the month's evidence behind the suggestions.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{
    Assessment, Cleanup, DocId, DocKind, FreeText, Report, Rules, Scores,
};
use zonepatrol_shared::rules::AssessmentForm;
use zonepatrol_shared::rules::period::{MineClock, Period, PeriodKind};
use zonepatrol_shared::rules::problem::ProblemStatus;
use zonepatrol_shared::rules::suggest::{MonthEvidence, ProblemEvidence, SuggestRule, Suggestion};
use zonepatrol_shared::{Actor, Points, Role};

use super::{RecordError, check_unlocked, directory, today};
use crate::i18n::T;
use crate::store::{Repo, now_millis};

/// The month containing a day.
pub fn month_of(day: NaiveDate) -> Period {
    Period::containing(PeriodKind::Month, day)
}

fn assessment_id(me: &Actor, zone: &str, month: Period) -> DocId {
    DocId::assessment(&me.branch, zone, month)
}

/// The month's assessment form, from the mine's rules on the phone (the default form before
/// the rules have come).
pub fn form_of(repo: &Repo, month: Period) -> Result<AssessmentForm, RecordError> {
    Ok(repo
        .read_kept::<Rules>(&DocId::rules())?
        .map(|r| r.form_for(month))
        .unwrap_or_default())
}

/// A zone on the month's list: its self-score and branch score so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRow {
    /// The zone's id.
    pub zone: String,
    /// Its name.
    pub name: String,
    /// The holder's total, once every item of the month's form is scored.
    pub self_total: Option<Points>,
    /// The secretary's total, once every item of the month's form is scored.
    pub branch_total: Option<Points>,
}

/// The zones to score this month: the user's own for a holder, every active zone for the
/// secretary.
pub fn month_rows(repo: &Repo, me: &Actor, month: Period) -> Result<Vec<MonthRow>, RecordError> {
    let dir = directory(repo, &me.branch)?;
    let form = form_of(repo, month)?;
    let mut rows = Vec::new();
    for (id, zone) in &dir.zones {
        let mine = dir.holds(&me.user, id);
        if !zone.active || !(mine || me.has(Role::Secretary)) {
            continue;
        }
        let a = repo.read::<Assessment>(&assessment_id(me, id, month))?;
        rows.push(MonthRow {
            zone: id.clone(),
            name: zone.name.clone(),
            self_total: a.as_ref().and_then(|a| a.self_score.total(&form)),
            branch_total: a.as_ref().and_then(|a| a.branch_score.total(&form)),
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
    /// The month's form: its items and what each is worth.
    pub form: AssessmentForm,
    /// The holder's self-score.
    pub self_score: Scores,
    /// The secretary's score so far.
    pub branch_score: Scores,
    /// Suggested scores with their reasons, from what is on the phone.
    pub suggestions: Vec<Suggestion>,
}

/// Checks a score form: every item of the month's form, each from 0 to its maximum.
pub fn check_scores(scores: &Items, form: &AssessmentForm) -> Result<(), RecordError> {
    if !form.complete(scores) {
        return Err(RecordError::Input(T::ScoreEveryItem));
    }
    Ok(())
}

fn scores(me: &Actor, items: &Items, note: &str) -> Scores {
    Scores {
        items: items.clone(),
        note: FreeText(note.trim().to_owned()),
        by: me.user.clone(),
        at: Some(now_millis()),
    }
}

/// A month's score form: points by item key.
pub type Items = BTreeMap<String, Points>;

/// Who gives a month's scores of a zone: the holder (the self-score) or the secretary (the
/// branch score, which is final).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scorer {
    /// The zone's holder: the self-score.
    Holder,
    /// The branch secretary: the assessment.
    Secretary,
}

impl Scorer {
    /// The scorer of a form: the secretary's assessment, or the holder's self-score.
    pub fn of_form(assess: bool) -> Scorer {
        if assess {
            Scorer::Secretary
        } else {
            Scorer::Holder
        }
    }

    /// Saves the user's scores of a zone for a month on this side: the holder's self-score
    /// (only of a zone they hold) or the secretary's assessment (only by a secretary).
    pub fn save(
        self,
        repo: &Repo,
        me: &Actor,
        zone: &str,
        month: Period,
        items: &Items,
        note: &str,
    ) -> Result<(), RecordError> {
        check_scores(items, &form_of(repo, month)?)?;
        let refused = match self {
            Scorer::Holder => (!directory(repo, &me.branch)?.holds(&me.user, zone))
                .then_some(T::OnlyHolderSelfScores),
            Scorer::Secretary => (!me.has(Role::Secretary)).then_some(T::OnlySecretaryAssesses),
        };
        if let Some(t) = refused {
            return Err(RecordError::Input(t));
        }
        check_unlocked(repo, &me.branch, month)?;
        repo.edit_as::<Assessment, _>(me, &assessment_id(me, zone, month), |a| {
            let scores = scores(me, items, note);
            match self {
                Scorer::Holder => a.self_score = scores,
                Scorer::Secretary => a.branch_score = scores,
            }
        })?;
        Ok(())
    }
}

/// What the phone knows of a zone's month: the weekly results in the server's reports, the
/// problems raised and the cleanups logged.
pub fn month_evidence(
    repo: &Repo,
    me: &Actor,
    zone: &str,
    month: Period,
    today: NaiveDate,
) -> Result<MonthEvidence, RecordError> {
    let (first, last) = (month.first_day(), month.last_day());
    // Judged as things stood at the month's end, or today for the month still running.
    let end = last.min(today);
    let mut evidence = MonthEvidence {
        month_end: Some(end),
        ..MonthEvidence::default()
    };
    for id in repo.ids_with_prefix(&DocId::prefix(DocKind::Report, &me.branch))? {
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
    for (_, summary) in repo.summaries(&DocId::prefix(DocKind::Problem, &me.branch))? {
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
    for id in repo.ids_with_prefix(&DocId::prefix(DocKind::Cleanup, &me.branch))? {
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
) -> Result<AssessmentView, RecordError> {
    let dir = directory(repo, &me.branch)?;
    let name = dir
        .zones
        .get(zone)
        .map(|z| z.name.clone())
        .ok_or_else(|| RecordError::Missing {
            what: "zone",
            id: zone.to_owned(),
        })?;
    let a = repo.read::<Assessment>(&assessment_id(me, zone, month))?;
    let today = today(&repo.clock());
    let form = form_of(repo, month)?;
    let suggestions =
        SuggestRule::default().suggest(&month_evidence(repo, me, zone, month, today)?, &form);
    Ok(AssessmentView {
        name,
        form,
        self_score: a.as_ref().map(|a| a.self_score.clone()).unwrap_or_default(),
        branch_score: a.map(|a| a.branch_score).unwrap_or_default(),
        suggestions,
    })
}

/// The month a month list shows: this month at the mine, or the one before.
pub fn chosen_month(clock: &MineClock, this_month: bool) -> Period {
    let now = month_of(today(clock));
    if this_month { now } else { now.prev() }
}

/// A score's items that are on the month's form.
pub fn items_of(scores: &Scores, form: &AssessmentForm) -> Items {
    scores
        .items
        .iter()
        .filter(|(k, _)| form.get(k).is_some())
        .map(|(k, p)| (k.clone(), *p))
        .collect()
}

/// Where the form starts for each item: the score already given, else the suggestion, else
/// the holder's self-score, else full marks.
pub fn start_scores(
    form: &AssessmentForm,
    given: &Scores,
    self_score: &Scores,
    suggestions: &[Suggestion],
) -> Items {
    form.items
        .iter()
        .map(|item| {
            let suggested = suggestions
                .iter()
                .find(|s| s.item.key() == item.key)
                .map(|s| s.score);
            let start = given
                .items
                .get(&item.key)
                .copied()
                .or(suggested)
                .or_else(|| self_score.items.get(&item.key).copied())
                .unwrap_or(item.max)
                .at_least_zero()
                .min(item.max);
            (item.key.clone(), start)
        })
        .collect()
}

/// What a month's score form shows: where each item starts, and for the secretary the
/// holder's self-score and the suggestions beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreForm {
    /// Where each item starts.
    pub start: Items,
    /// The holder's self-score beside each item (the secretary's form only).
    pub self_score: Items,
    /// Suggested scores and why (the secretary's form only).
    pub suggestions: Vec<Suggestion>,
    /// The note so far.
    pub note: String,
}

/// The score form of a zone's month for one side.
pub fn score_form(view: &AssessmentView, by: Scorer) -> ScoreForm {
    if by == Scorer::Secretary {
        ScoreForm {
            start: start_scores(
                &view.form,
                &view.branch_score,
                &view.self_score,
                &view.suggestions,
            ),
            self_score: items_of(&view.self_score, &view.form),
            suggestions: view.suggestions.clone(),
            note: view.branch_score.note.0.clone(),
        }
    } else {
        ScoreForm {
            start: start_scores(&view.form, &view.self_score, &Scores::default(), &[]),
            self_score: BTreeMap::new(),
            suggestions: Vec::new(),
            note: view.self_score.note.0.clone(),
        }
    }
}
