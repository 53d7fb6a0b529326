//! The records people make in the field and over the month, one module per record, as plain
//! functions over the device's store. The screens call these and render what they return;
//! every function that changes something returns only once the change is on disk.
//!
//! The inputs are checked here, before anything is written, with messages that say what to do;
//! the server checks again on sync and is the authority. Every record shares one error,
//! [`RecordError`].
//!
//! # Layout
//!
//! - [`patrol`]: starting a walk, the user's patrols, a patrol's zones, scanning a placard,
//!   closing the walk.
//! - [`sheet`]: an inspector's score sheet on a patrol: the taps on a zone, the running total,
//!   photos and notes on items.
//! - [`problem`]: raising a problem, the holder's list, recording the fix.
//! - [`assessment`]: the month's self-score and the secretary's assessment, with the evidence
//!   and suggestions beside it.
//! - [`cleanup`]: the team leader's cleanup log.
//! - [`draft`]: forms kept as they are typed, until submitted or thrown away.
//! - [`ranking`]: the branch's results from the server's reports.
//! - [`extension`]: asking for more time for a fix, and the secretary's answer.
//! - [`cadence`]: what is due for the user (walks, month-end scores, deadlines), offline.
//! - [`post`]: demonstration posts: applying, approving, the quarterly review, withdrawal.

pub mod assessment;
pub mod cadence;
pub mod cleanup;
pub mod draft;
pub mod extension;
pub mod patrol;
pub mod post;
pub mod problem;
pub mod ranking;
pub mod sheet;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{Directory, DocId, Marks, PhotoRef, Publication};
use zonepatrol_shared::rules::period::MineClock;
use zonepatrol_shared::validate::locks;

use crate::i18n::{Lang, T, tr};
use crate::store::{PhotoRecord, Repo, StoreError, now_millis};

/// Why an action was not taken. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The input is incomplete or wrong; the message says what to fill in.
    #[error("{}", tr(Lang::En, *.0))]
    Input(T),
    /// The branch's directory is not on this phone yet.
    #[error("the branch's zones are not on this phone yet: connect once to sync")]
    NoDirectory,
    /// Something named does not exist on this phone.
    #[error("{what} {id} is not on this phone: sync and try again")]
    Missing {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RecordError {
    /// The message for the user, in their language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            RecordError::Input(t) => tr(lang, *t).to_owned(),
            RecordError::NoDirectory => tr(lang, T::NoDirectory).to_owned(),
            RecordError::Missing { id, .. } => format!("{} ({id})", tr(lang, T::NotOnPhone)),
            RecordError::Store(StoreError::Refused(r)) => {
                format!(
                    "{}: {}",
                    tr(lang, T::NotSaved),
                    crate::i18n::refusal(lang, r)
                )
            }
            RecordError::Store(e) => format!("{}: {e}", tr(lang, T::NotSaved)),
        }
    }
}

/// Today at the mine.
pub fn today(clock: &MineClock) -> NaiveDate {
    clock.date_of_millis(now_millis()).unwrap_or(NaiveDate::MIN)
}

/// A fresh name for a new document: the day, then random hex. Two phones never pick the same.
pub fn new_name(day: NaiveDate) -> String {
    let random = automerge::ActorId::random().to_hex_string();
    format!("{}-{}", day.format("%Y%m%d"), &random[..12])
}

/// The branch's directory, as synced.
pub fn directory(repo: &Repo, branch: &str) -> Result<Directory, RecordError> {
    repo.read::<Directory>(&DocId::Directory {
        branch: branch.to_owned(),
    })?
    .ok_or(RecordError::NoDirectory)
}

/// Refuses when a published period of the branch covers the record's day or month, by the
/// validator's own rule ([`locks::locked_by`]): the server would refuse the edit, so the form
/// says so before anything is typed or saved.
pub fn check_unlocked(
    repo: &Repo,
    branch: &str,
    span: impl Into<locks::Span>,
) -> Result<(), RecordError> {
    let Some(publication) = repo.read_kept::<Publication>(&DocId::publication(branch))? else {
        return Ok(());
    };
    match locks::locked_by(span, &publication.locks()) {
        Some(_) => Err(RecordError::Input(T::PeriodPublished)),
        None => Ok(()),
    }
}

/// References to photos, keyed by their hash, as a record holds them, with what the user
/// marked on each.
fn photo_refs(
    photos: &[PhotoRecord],
    marks: &BTreeMap<String, Marks>,
) -> BTreeMap<String, PhotoRef> {
    photos
        .iter()
        .map(|p| {
            let mut r = p.reference();
            r.marks = marks.get(&p.hash).cloned().unwrap_or_default();
            (p.hash.clone(), r)
        })
        .collect()
}

/// Names of the directory's members, by id, for choosing people.
pub fn members(dir: &Directory) -> Vec<(String, String)> {
    dir.members
        .iter()
        .map(|(id, m)| {
            let name = if m.name.is_empty() {
                id.clone()
            } else {
                format!("{} ({id})", m.name)
            };
            (id.clone(), name)
        })
        .collect()
}
