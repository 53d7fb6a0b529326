//! More time for a problem's fix (延期): the responsible member asks for a later deadline with a
//! reason before the deadline passes; the branch secretary grants it with the new deadline or
//! refuses it with a reason. Both are records in the problem's document, checked again by the
//! server; the deadline in force follows a grant.

use chrono::NaiveDate;
use zonepatrol_shared::docs::Verification;
use zonepatrol_shared::docs::{Day, DocId, DocKind, FreeText, Outcome, Problem, Rectification};
use zonepatrol_shared::{Actor, Role};

use super::{RecordError, directory};
use crate::i18n::T;
use crate::index::Summary;
use crate::store::{Repo, now_millis};

fn read(repo: &Repo, me: &Actor, problem: &str) -> Result<(DocId, Problem), RecordError> {
    let id = DocId::problem(&me.branch, problem);
    let p = repo
        .read::<Problem>(&id)?
        .ok_or_else(|| RecordError::Missing {
            what: "problem",
            id: problem.to_owned(),
        })?;
    Ok((id, p))
}

/// The time of the problem's latest record (fix, request, judgement or answer).
fn latest(p: &Problem) -> i64 {
    p.rectifications
        .values()
        .map(|r| r.at)
        .chain(p.verifications.values().map(|v| v.at))
        .max()
        .unwrap_or(0)
}

/// The responsible member asks for more time until `until`, on `today` at the mine.
pub fn ask_more_time(
    repo: &Repo,
    me: &Actor,
    problem: &str,
    until: Option<NaiveDate>,
    reason: &str,
    today: NaiveDate,
) -> Result<(), RecordError> {
    let (id, p) = read(repo, me, problem)?;
    if p.finding.responsible != me.user {
        return Err(RecordError::Input(T::OnlyResponsibleFixes));
    }
    if !p.status().awaits_rectification() {
        return Err(RecordError::Input(T::NotWaitingForFix));
    }
    if p.pending_extension().is_some() {
        return Err(RecordError::Input(T::MoreTimeAlreadyAsked));
    }
    let current = p.deadline().map(|d| d.0);
    if current.is_some_and(|d| today > d) {
        return Err(RecordError::Input(T::DeadlinePassedNoMoreTime));
    }
    let Some(until) = until else {
        return Err(RecordError::Input(T::ChooseDeadline));
    };
    if current.is_some_and(|d| until <= d) {
        return Err(RecordError::Input(T::LaterThanDeadline));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RecordError::Input(T::NeedMoreTimeReason));
    }
    // Never dated before a record already there, whatever this phone's clock says.
    let at = now_millis().max(latest(&p) + 1);
    repo.edit_as::<Problem, _>(me, &id, |p| {
        p.rectifications.insert(
            format!("{}-ask-{at}", me.user),
            Rectification {
                at,
                by: me.user.clone(),
                note: FreeText(reason.to_owned()),
                photos: Default::default(),
                extension: Some(Day(until)),
            },
        );
    })?;
    Ok(())
}

/// A request for more time waiting for the secretary, as their list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoreTimeRow {
    /// The problem's name.
    pub name: String,
    /// The zone's name.
    pub zone: String,
    /// What is wrong.
    pub description: String,
    /// Who asked (their name).
    pub asked_by: String,
    /// The deadline in force.
    pub deadline: Option<NaiveDate>,
    /// The deadline asked for.
    pub until: NaiveDate,
    /// Why.
    pub reason: String,
}

/// Whether the user answers requests for more time: the branch secretary.
pub fn answers_requests(me: &Actor) -> bool {
    me.has(Role::Secretary)
}

/// The requests for more time waiting for the secretary's answer, the oldest first. Read from
/// the summaries; empty for anyone but the secretary.
pub fn more_time_requests(repo: &Repo, me: &Actor) -> Result<Vec<MoreTimeRow>, RecordError> {
    if !answers_requests(me) {
        return Ok(Vec::new());
    }
    let prefix = DocId::prefix(DocKind::Problem, &me.branch);
    let dir = directory(repo, &me.branch).ok();
    let mut rows = Vec::new();
    for (id, summary) in repo.summaries_containing(&prefix, br#""pending":true"#)? {
        let Summary::Problem(p) = summary else {
            continue;
        };
        // Nobody answers their own request.
        let Some(ext) = p.extension.filter(|e| e.pending && e.by != me.user) else {
            continue;
        };
        rows.push((
            ext.at,
            MoreTimeRow {
                name: id[prefix.len()..].to_owned(),
                zone: dir
                    .as_ref()
                    .and_then(|d| d.zones.get(&p.zone))
                    .map_or_else(|| p.zone.clone(), |z| z.name.clone()),
                description: p.description,
                asked_by: dir
                    .as_ref()
                    .and_then(|d| d.members.get(&ext.by))
                    .map_or_else(|| ext.by.clone(), |m| m.name.clone()),
                deadline: p.deadline,
                until: ext.until,
                reason: ext.reason,
            },
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.name.cmp(&b.1.name)));
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

/// The waiting request of this problem, if it is on the phone.
pub fn more_time_request(repo: &Repo, me: &Actor, name: &str) -> Option<MoreTimeRow> {
    more_time_requests(repo, me)
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.name == name)
}

/// The secretary's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoreTime {
    /// Granted, until this day.
    Grant(Option<NaiveDate>),
    /// Refused, for this reason.
    Refuse(String),
}

/// The secretary answers the waiting request for more time of a problem.
pub fn answer_more_time(
    repo: &Repo,
    me: &Actor,
    problem: &str,
    answer: &MoreTime,
    today: NaiveDate,
) -> Result<(), RecordError> {
    if !answers_requests(me) {
        return Err(RecordError::Input(T::OnlySecretaryAnswers));
    }
    let (id, p) = read(repo, me, problem)?;
    let Some(pending) = p.pending_extension() else {
        return Err(RecordError::Input(T::NothingToAnswer));
    };
    if pending.request.by == me.user {
        return Err(RecordError::Input(T::NotYourOwnRequest));
    }
    let (outcome, note, deadline) = match answer {
        MoreTime::Grant(None) => return Err(RecordError::Input(T::ChooseDeadline)),
        MoreTime::Grant(Some(day)) => {
            if *day < today {
                return Err(RecordError::Input(T::DeadlinePast));
            }
            if p.deadline().is_some_and(|d| *day <= d.0) {
                return Err(RecordError::Input(T::LaterThanDeadline));
            }
            (Outcome::Extended, String::new(), Some(Day(*day)))
        }
        MoreTime::Refuse(reason) => {
            if reason.trim().is_empty() {
                return Err(RecordError::Input(T::NeedRefuseReason));
            }
            (Outcome::NotExtended, reason.trim().to_owned(), None)
        }
    };
    let request = pending.id.to_owned();
    // Never dated before a record already there, whatever this phone's clock says.
    let at = now_millis().max(latest(&p) + 1);
    repo.edit_as::<Problem, _>(me, &id, |p| {
        p.verifications.insert(
            format!("{}-answer-{at}", me.user),
            Verification {
                at,
                by: me.user.clone(),
                outcome,
                note: FreeText(note.clone()),
                deadline,
                request: Some(request.clone()),
            },
        );
    })?;
    Ok(())
}
