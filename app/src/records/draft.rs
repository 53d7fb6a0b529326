//! Drafts of the forms people fill in: raising a problem, recording a fix, logging a cleanup
//! and the month's score form. What is typed is kept in the store as it is typed (the screens
//! save it a moment after the last keystroke, and at once when a photo is added), comes back
//! when the form opens again, and is listed on the home screen until it is submitted or thrown
//! away. A draft is its user's own and never syncs.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::Marks;
use zonepatrol_shared::rules::period::Period;
use zonepatrol_shared::{Actor, Points, Severity};

use super::{RecordError, directory};
use crate::store::{PhotoRecord, Repo};

/// Which form a draft is of, with what the form is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Form {
    /// Raising a problem on a zone (and item) of a patrol.
    Raise {
        /// The patrol.
        patrol: String,
        /// The zone.
        zone: String,
        /// The checklist item.
        item: Option<String>,
    },
    /// Recording the fix of a problem.
    Fix {
        /// The problem's name.
        problem: String,
    },
    /// Logging a cleanup.
    Cleanup,
    /// A zone's score form for a month.
    Score {
        /// The secretary's assessment rather than the holder's self-score.
        assess: bool,
        /// The zone.
        zone: String,
        /// The month.
        month: Period,
    },
}

impl Form {
    /// The key the store keeps the draft under.
    pub fn key(&self) -> String {
        // A plain enum of strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What the raise-problem form holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RaiseBody {
    /// What is wrong.
    pub description: String,
    /// General or major, once chosen.
    pub severity: Option<Severity>,
    /// Who must fix it (empty: the zone's holder, as offered).
    pub responsible: String,
    /// What must be done.
    pub measure: String,
    /// The deadline as typed (YYYY-MM-DD), empty while it follows the severity.
    pub deadline: String,
}

/// What the fix form holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FixBody {
    /// What was done.
    pub note: String,
}

/// What the cleanup form holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CleanupBody {
    /// The zone.
    pub zone: String,
    /// The team.
    pub team: String,
    /// The day as typed (YYYY-MM-DD).
    pub day: String,
    /// Who took part.
    pub people: Vec<String>,
    /// Person-times beyond those named.
    pub extra: u64,
    /// Work items as typed: what, quantity, unit.
    pub items: Vec<(String, String, String)>,
    /// Notes.
    pub note: String,
    /// Which of the draft's photos are "after" ones (the others are "before").
    pub after: Vec<String>,
}

/// What a month's score form holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScoreBody {
    /// Each item's score as set.
    pub values: BTreeMap<String, Points>,
    /// Remarks.
    pub note: String,
}

/// A draft read back: what the form held and its photos, in the order taken. A photo no
/// longer on the phone is left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft<B> {
    /// What the form held.
    pub body: B,
    /// Its photos.
    pub photos: Vec<PhotoRecord>,
    /// What the user marked on them, by photo.
    pub marks: BTreeMap<String, Marks>,
}

/// The user's draft of a form, if there is one that reads.
pub fn load<B: DeserializeOwned + Default>(
    repo: &Repo,
    user: &str,
    form: &Form,
) -> Result<Option<Draft<B>>, RecordError> {
    let Some(stored) = repo.draft(user, &form.key())? else {
        return Ok(None);
    };
    // A draft of an older shape whose text no longer reads still brings back its photos;
    // its fields start afresh (every field of a draft has a default, so this is rare).
    let body = serde_json::from_str::<B>(&stored.body).unwrap_or_default();
    let mut photos = Vec::new();
    for hash in &stored.photos {
        if let Some(p) = repo.photo(hash)? {
            photos.push(p);
        }
    }
    Ok(Some(Draft {
        body,
        photos,
        marks: stored.marks,
    }))
}

/// Keeps what the form holds now; on disk when this returns.
pub fn save<B: Serialize>(
    repo: &Repo,
    user: &str,
    form: &Form,
    body: &B,
    photos: &[PhotoRecord],
    marks: &BTreeMap<String, Marks>,
) -> Result<(), RecordError> {
    let body = serde_json::to_string(body).unwrap_or_default();
    let hashes: Vec<String> = photos.iter().map(|p| p.hash.clone()).collect();
    repo.save_draft(user, &form.key(), &body, &hashes, marks)?;
    Ok(())
}

/// The form was submitted: its draft goes (its photos are in the record now).
pub fn finish(repo: &Repo, user: &str, form: &Form) -> Result<(), RecordError> {
    repo.finish_draft(user, &form.key())?;
    Ok(())
}

/// The user throws the draft away, with its photos that nothing else holds.
pub fn discard(repo: &Repo, user: &str, form: &Form) -> Result<(), RecordError> {
    repo.discard_draft(user, &form.key())?;
    Ok(())
}

/// A draft on the home screen's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftRow {
    /// The form, to open it again.
    pub form: Form,
    /// What it is about: the zone's name, or the problem's description.
    pub about: String,
    /// The start of what was typed, if anything.
    pub text: String,
    /// How many photos it holds.
    pub photos: usize,
    /// When it was last saved (ms).
    pub updated_at: i64,
}

/// The user's unfinished drafts, latest first.
pub fn list(repo: &Repo, me: &Actor) -> Result<Vec<DraftRow>, RecordError> {
    let dir = directory(repo, &me.branch).ok();
    let zone_name = |zone: &str| {
        dir.as_ref()
            .and_then(|d| d.zones.get(zone))
            .map_or_else(|| zone.to_owned(), |z| z.name.clone())
    };
    let problems =
        super::problem::my_problems(repo, me, super::today(&repo.clock())).unwrap_or_default();
    let mut rows = Vec::new();
    for stored in repo.drafts(&me.user)? {
        let Ok(form) = serde_json::from_str::<Form>(&stored.form) else {
            continue;
        };
        let (about, text) = match &form {
            Form::Raise { zone, .. } => (
                zone_name(zone),
                serde_json::from_str::<RaiseBody>(&stored.body)
                    .map(|b| b.description)
                    .unwrap_or_default(),
            ),
            Form::Fix { problem } => (
                problems
                    .iter()
                    .find(|p| &p.name == problem)
                    .map_or_else(|| problem.clone(), |p| p.description.clone()),
                serde_json::from_str::<FixBody>(&stored.body)
                    .map(|b| b.note)
                    .unwrap_or_default(),
            ),
            Form::Cleanup => {
                let body: CleanupBody = serde_json::from_str(&stored.body).unwrap_or_default();
                (zone_name(&body.zone), body.note)
            }
            Form::Score { zone, .. } => (
                zone_name(zone),
                serde_json::from_str::<ScoreBody>(&stored.body)
                    .map(|b| b.note)
                    .unwrap_or_default(),
            ),
        };
        rows.push(DraftRow {
            form,
            about,
            text: text.chars().take(40).collect(),
            photos: stored.photos.len(),
            updated_at: stored.updated_at,
        });
    }
    Ok(rows)
}
