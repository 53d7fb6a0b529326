//! The first step of a push: decode it and apply it to a copy of the stored document.

use automerge::{AutoCommit, ChangeHash, ReadDoc};
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{
    ErrorCode, Push, Visits, b64, heads_from_hex, heads_to_hex, may_read_visiting,
};
use zonepatrol_shared::signing::{MAX_SIGNED_PER_PUSH, SignedChanges};
use zonepatrol_shared::validate::{Refusal, RefusalCode};

use crate::error::ApiError;
use crate::store::writer::Chunk;
use crate::store::{Storage, StoredDoc};

/// What one pushed document became after the first step.
pub(super) enum Prepared {
    /// Refused: the user may not read it (so may not write it either), its changes are
    /// larger than the server takes, or the checks refused it. Only what the answer and the
    /// record need is kept, not the documents, so that a request's refused documents do not
    /// stay in memory until it is done.
    Refused(Box<Judged>),
    /// The server lacks the base the device built on.
    MissingBase {
        id: DocId,
        stored: Option<StoredDoc>,
    },
    /// Ready to check.
    Ready(Box<Ready>),
}

pub(super) struct Judged {
    pub(super) id: String,
    /// For a refusal by the checks: what to check again if the store moves under it.
    pub(super) retry: Option<(DocId, Vec<ChangeHash>, Vec<ChangeHash>)>,
    pub(super) changes: Vec<u8>,
    /// The signatures sent with them.
    pub(super) signed: Vec<SignedChanges>,
    pub(super) refusal: Refusal,
    /// The server's heads and the changes after the device's base, for the answer.
    pub(super) heads: Vec<String>,
    pub(super) answer: String,
}

pub(super) struct Ready {
    pub(super) id: DocId,
    pub(super) text_id: String,
    pub(super) stored: Option<StoredDoc>,
    pub(super) before: AutoCommit,
    pub(super) after: AutoCommit,
    pub(super) base: Vec<ChangeHash>,
    pub(super) have: Vec<ChangeHash>,
    pub(super) changes: Vec<u8>,
    /// The signatures sent with them.
    pub(super) signed: Vec<SignedChanges>,
    /// Once the signatures are checked: the changes the store lacks, each with its author's
    /// automerge actor and the key that signed it (hex).
    pub(super) new: Vec<NewChange>,
    /// Once accepted by the checks: what to store and what to answer, made before the lock.
    pub(super) write: Option<Written>,
}

/// A pushed change the store does not hold yet.
pub(super) struct NewChange {
    pub(super) actor: Vec<u8>,
    pub(super) hash: ChangeHash,
    /// The key whose signature covers it.
    pub(super) key: String,
}

/// An accepted document's write, made and proven loadable before the lock is taken.
pub(super) struct Written {
    /// What to store; empty when the push brought nothing new.
    pub(super) chunk: Chunk,
    /// The changes the device lacks, for the answer.
    pub(super) answer: Vec<u8>,
}

pub(super) fn bad_changes(id: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::BadChanges,
        format!("the changes sent for {id} {why}: nothing in this request was stored; sync again"),
    )
}

/// The stored document, or `None` if it does not load (stored by an earlier version: the
/// server now loads back every document before it stores it).
pub(super) fn load_stored(stored: Option<&StoredDoc>) -> Option<AutoCommit> {
    match stored {
        Some(s) => s.load().ok(),
        None => Some(AutoCommit::new()),
    }
}

pub(super) fn prepare(
    store: &dyn Storage,
    user: &Actor,
    visits: &Visits,
    n: usize,
    push: Push,
    max_bytes: usize,
) -> Result<Prepared, ApiError> {
    let id: DocId = push
        .id
        .parse()
        .map_err(|e| ApiError::bad_request(format!("push {n}: {e}")))?;
    if id.to_string() != push.id {
        return Err(ApiError::bad_request(format!(
            "push {n}: write the id “{}” as “{id}”",
            push.id
        )));
    }
    let base = heads_from_hex(&push.base)
        .map_err(|e| ApiError::bad_request(format!("push {n} ({id}), base: {e}")))?;
    let have = heads_from_hex(&push.have)
        .map_err(|e| ApiError::bad_request(format!("push {n} ({id}), have: {e}")))?;
    let changes = b64::decode(&push.changes).map_err(|e| {
        ApiError::bad_request(format!("push {n} ({id}): changes are not base64: {e}"))
    })?;
    if push.signed.len() > MAX_SIGNED_PER_PUSH {
        return Err(ApiError::bad_request(format!(
            "push {n} ({id}) carries {} signatures, more than the {MAX_SIGNED_PER_PUSH} the \
             server takes for one document: send fewer at a time",
            push.signed.len()
        )));
    }
    let signed = push.signed;
    if !may_read_visiting(user, &id, visits) {
        return Ok(Prepared::Refused(Box::new(Judged {
            refusal: Refusal {
                code: RefusalCode::WrongBranch,
                part: "document".into(),
                reason: format!(
                    "{id} is not yours to read or change: it belongs to another branch or \
                     another inspector"
                ),
            },
            id: push.id,
            retry: None,
            changes,
            signed,
            heads: Vec::new(),
            answer: String::new(),
        })));
    }
    let stored = store.doc(&id)?;
    let grown = stored.as_ref().map_or(0, |s| s.bytes.len()) + changes.len();
    if changes.len() > max_bytes || grown > MAX_DOC_BYTES {
        return Ok(Prepared::Refused(Box::new(Judged {
            refusal: Refusal {
                code: RefusalCode::OutOfRange,
                part: "document".into(),
                reason: if changes.len() > max_bytes {
                    format!(
                        "the changes to {id} are {} KiB, more than the {} KiB the server takes \
                         for one document at a time: shorten the texts of this record",
                        changes.len() / 1024,
                        max_bytes / 1024
                    )
                } else {
                    format!(
                        "{id} would grow to {} MiB, more than the {} MiB the server keeps for \
                         one record: start a new record, or ask an admin",
                        grown / (1024 * 1024),
                        MAX_DOC_BYTES / (1024 * 1024)
                    )
                },
            },
            id: push.id,
            retry: None,
            changes,
            signed,
            heads: stored.map(|s| heads_to_hex(&s.heads)).unwrap_or_default(),
            answer: String::new(),
        })));
    }
    let Some(before) = load_stored(stored.as_ref()) else {
        tracing::error!(doc = %id, "a stored document does not load: an admin must repair it");
        return Ok(Prepared::Refused(Box::new(Judged {
            refusal: Refusal {
                code: RefusalCode::Malformed,
                part: "document".into(),
                reason: format!(
                    "the server's copy of {id} is damaged: your edit is kept on this phone; ask \
                     an admin to repair the record"
                ),
            },
            id: push.id,
            retry: None,
            changes,
            signed,
            heads: Vec::new(),
            answer: String::new(),
        })));
    };
    let mut after = before.clone();
    catch_damage(&push.id, || after.load_incremental(&changes))?
        .map_err(|e| bad_changes(&push.id, format_args!("cannot be read ({e})")))?;
    let complete = catch_damage(&push.id, || {
        let known = |h: &ChangeHash| after.document().get_change_by_hash(h).is_some();
        base.iter().all(known) && after.get_missing_deps(&[]).is_empty()
    })?;
    if !complete {
        return Ok(Prepared::MissingBase { id, stored });
    }
    let whole = catch_damage(&push.id, || {
        let known = |h: &ChangeHash| after.document().get_change_by_hash(h).is_some();
        have.iter().all(known)
    })?;
    if !whole {
        return Err(bad_changes(
            &push.id,
            "are incomplete or damaged (the heads they claim are not in them)",
        ));
    }
    Ok(Prepared::Ready(Box::new(Ready {
        text_id: push.id,
        id,
        stored,
        before,
        after,
        base,
        have,
        changes,
        signed,
        new: Vec::new(),
        write: None,
    })))
}

/// Runs automerge work on data a client sent. Some damaged inputs make automerge 0.12 panic
/// instead of returning an error; such a panic is answered as the damaged change it is.
pub(super) fn catch_damage<T>(id: &str, f: impl FnOnce() -> T) -> Result<T, ApiError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::warn!(doc = %id, panic = %what, "damaged changes made automerge panic");
        bad_changes(id, "are damaged")
    })
}

/// The most bytes one stored document may grow to: past it, its history is no longer a record
/// of real work.
pub(super) const MAX_DOC_BYTES: usize = 32 * 1024 * 1024;
