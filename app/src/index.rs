//! Small summaries of the documents that lists show, kept beside each document in the store
//! and rewritten in the same atomic batch whenever the document changes. The home screen and
//! the holder's problem list read these instead of loading every patrol and problem, which
//! keeps them quick with a year of data on the phone (see `BENCHMARKS.md`).

use automerge::AutoCommit;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::{self, DocId, Outcome, Patrol, PhotoRef, Problem};
use zonepatrol_shared::rules::problem::ProblemStatus;
use zonepatrol_shared::{PatrolKind, Severity};

/// Bump when [`Summary`] changes: the store rebuilds every summary when it opens.
pub const VERSION: u32 = 4;

/// What a list needs of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Summary {
    /// A patrol.
    Patrol(PatrolSummary),
    /// A problem (boxed: it is the larger by far).
    Problem(Box<ProblemSummary>),
}

/// A patrol, as the home screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatrolSummary {
    /// Its leader.
    pub leader: String,
    /// Its inspectors.
    pub inspectors: Vec<String>,
    /// Its kind.
    pub kind: PatrolKind,
    /// The day of the walk.
    pub date: Option<NaiveDate>,
    /// How many zones are on it.
    pub zones: usize,
    /// Whether it is closed.
    pub closed: bool,
}

/// A problem, as the holder's list and the month's evidence see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemSummary {
    /// The zone.
    pub zone: String,
    /// Who must fix it.
    pub responsible: String,
    /// What is wrong.
    pub description: String,
    /// What must be done.
    pub measure: String,
    /// General or major.
    pub severity: Severity,
    /// By when: the deadline in force (a reopening may have set a new one).
    pub deadline: Option<NaiveDate>,
    /// When it was raised (ms).
    pub raised_at: i64,
    /// When it was first rectified (ms).
    pub rectified_at: Option<i64>,
    /// Where it stands.
    pub status: ProblemStatus,
    /// Its photos: their thumbnails, sizes and marks.
    pub thumbs: Vec<PhotoRef>,
    /// Everyone who recorded a fix (nobody verifies their own).
    #[serde(default)]
    pub rectifiers: Vec<String>,
    /// The latest fix: when (ms), its note and the thumbnails of its after-photos.
    #[serde(default)]
    pub last_fix: Option<FixSummary>,
    /// While reopened, what the reopening said is still wrong.
    #[serde(default)]
    pub reopen_note: Option<String>,
    /// The latest request for more time, with its answer.
    #[serde(default)]
    pub extension: Option<ExtensionSummary>,
}

/// A problem's latest request for more time, as the holder and the secretary see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionSummary {
    /// Its record id.
    pub id: String,
    /// Who asked.
    pub by: String,
    /// When (ms).
    pub at: i64,
    /// The deadline asked for.
    pub until: NaiveDate,
    /// Why.
    pub reason: String,
    /// Waiting for the secretary's answer (unanswered, not overtaken by a fix).
    pub pending: bool,
    /// The answer, if any.
    pub answer: Option<AnswerSummary>,
}

/// The secretary's answer to a request for more time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerSummary {
    /// Granted (with `until`) or refused.
    pub granted: bool,
    /// The deadline granted.
    pub until: Option<NaiveDate>,
    /// What the secretary wrote.
    pub note: String,
}

/// A problem's latest fix, as the "to verify" list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixSummary {
    /// Who recorded it.
    pub by: String,
    /// When (ms).
    pub at: i64,
    /// What was done.
    pub note: String,
    /// Its after-photos: their thumbnails, sizes and marks.
    pub thumbs: Vec<PhotoRef>,
}

/// The summary of a document, for the kinds that lists show.
pub fn summarize(id: &str, doc: &AutoCommit) -> Option<Summary> {
    let id: DocId = id.parse().ok()?;
    match id {
        DocId::Patrol { .. } => {
            let p: Patrol = docs::read(doc, &id).ok()?;
            Some(Summary::Patrol(PatrolSummary {
                leader: p.plan.leader,
                inspectors: p.plan.inspectors.into_keys().collect(),
                kind: p.plan.kind,
                date: p.plan.date.map(|d| d.0),
                zones: p.plan.zones.len(),
                closed: p.closed_at.is_some(),
            }))
        }
        DocId::Problem { .. } => {
            let p: Problem = docs::read(doc, &id).ok()?;
            let status = p.status();
            let deadline = p.deadline();
            let rectified_at = p.fixes().map(|(_, r)| r.at).min();
            let mut rectifiers: Vec<String> = p.fixes().map(|(_, r)| r.by.clone()).collect();
            rectifiers.sort();
            rectifiers.dedup();
            let pending = p.pending_extension().map(|e| e.id.to_owned());
            let extension = p.extensions().pop().and_then(|e| {
                Some(ExtensionSummary {
                    id: e.id.to_owned(),
                    by: e.request.by.clone(),
                    at: e.request.at,
                    until: e.request.extension?.0,
                    reason: e.request.note.0.clone(),
                    pending: pending.as_deref() == Some(e.id),
                    answer: e.answer.map(|(_, v)| AnswerSummary {
                        granted: v.outcome == Outcome::Extended,
                        until: v.deadline.map(|d| d.0),
                        note: v.note.0.clone(),
                    }),
                })
            });
            let last_fix = p
                .fixes()
                .max_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0)))
                .map(|(_, r)| FixSummary {
                    by: r.by.clone(),
                    at: r.at,
                    note: r.note.0.clone(),
                    thumbs: r.photos.values().cloned().collect(),
                });
            let reopen_note = (status == ProblemStatus::Reopened)
                .then(|| p.last_reopening().map(|v| v.note.0.clone()))
                .flatten();
            let f = p.finding;
            Some(Summary::Problem(Box::new(ProblemSummary {
                zone: f.zone,
                responsible: f.responsible,
                description: f.description.0,
                measure: f.measure.0,
                severity: f.severity,
                deadline: deadline.map(|d| d.0),
                raised_at: f.raised_at,
                rectified_at,
                status,
                thumbs: f.photos.into_values().collect(),
                rectifiers,
                last_fix,
                reopen_note,
                extension,
            })))
        }
        _ => None,
    }
}
