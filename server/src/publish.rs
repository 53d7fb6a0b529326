//! Publishing and reopening a branch's period: the domain operation behind the dashboard's
//! buttons.
//!
//! A publish or reopen is an event in the branch's publication document, on the record with
//! who and when, written by the server's actor through the one document writer; the period's
//! reports are then frozen (or computed again) and written before the operation returns.

use zonepatrol_shared::docs::{DocId, LockAction, LockEvent, Publication};
use zonepatrol_shared::rules::period::Period;

use crate::State;
use crate::reports;
use crate::store::StoreError;
use crate::store::writer::{ServerDoc, WriteError};

/// Why a period could not be published or reopened.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No such branch.
    #[error("there is no branch “{0}”")]
    NoBranch(String),
    /// Publishing a period already published.
    #[error("{0} is already published")]
    AlreadyPublished(Period),
    /// Reopening a period that is not published.
    #[error("{0} is not published")]
    NotPublished(Period),
    /// The publication document could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Catching up with other instances failed.
    #[error(transparent)]
    Reports(#[from] reports::ReportError),
}

impl PublishError {
    /// Whether the request itself is at fault (answered as a conflict), not the server.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            PublishError::NoBranch(_)
                | PublishError::AlreadyPublished(_)
                | PublishError::NotPublished(_)
        )
    }
}

/// Publishes or reopens `period` of `branch` on behalf of `user`, then freezes or recomputes
/// the period's reports. Takes the documents' write lock itself.
pub fn record(
    state: &State,
    branch: &str,
    period: Period,
    action: LockAction,
    user: &str,
) -> Result<(), PublishError> {
    let _write = state.writing()?;
    if !reports::lock(state).branches().contains_key(branch) {
        return Err(PublishError::NoBranch(branch.to_owned()));
    }
    let id = DocId::Publication {
        branch: branch.to_owned(),
    };
    let mut doc = ServerDoc::open::<Publication>(&*state.store, &id)?.on_behalf_of(user);
    let mut publication: Publication = doc.read()?;
    let locked = publication.locks().iter().any(|l| l.period == period);
    match (action, locked) {
        (LockAction::Publish, true) => return Err(PublishError::AlreadyPublished(period)),
        (LockAction::Reopen, false) => return Err(PublishError::NotPublished(period)),
        _ => {}
    }
    let now = crate::now_millis();
    let seq = publication.next_seq();
    let mut raw = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    publication.events.insert(
        format!("{now}-{}", hex::encode(raw)),
        LockEvent::new(period, action, user, now, seq),
    );
    doc.write(&publication)?;
    let reading = reports::read_in(state, &id, doc.doc());
    doc.save(&*state.store, now, reading.record())?;
    let dirty = reports::take_in(state, &id, reading);
    reports::write_dirty(state, dirty, now);
    state.store.flush()?;
    tracing::info!(%branch, %period, ?action, by = %user, "period lock");
    Ok(())
}
