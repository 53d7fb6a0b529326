//! Storing a checked push through the document writer, or keeping its refusal on the record.

use std::collections::{BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{Ack, ErrorCode, Outcome, b64, heads_to_hex};
use zonepatrol_shared::signing::LogEntry;
use zonepatrol_shared::validate::{Refusal, RefusalCode};

use super::check::Checked;
use super::prepare::Prepared;
use crate::error::ApiError;
use crate::store::RefusedRecord;
use crate::store::writer;
use crate::{State, consolidate};

/// What one request has done so far, over its rounds.
#[derive(Default)]
pub(super) struct Progress {
    /// The answer for each document committed, in order.
    pub(super) acks: Vec<Ack>,
    /// Documents this request wrote, with the sequence number their write took: the pull
    /// leaves them out when nothing came after.
    pub(super) pushed: HashMap<DocId, u64>,
    /// Documents this request wrote since the round's snapshot.
    pub(super) written_since: HashSet<DocId>,
    /// The reports its writes may change.
    pub(super) dirty: BTreeSet<consolidate::ReportKey>,
    /// Refused documents so far.
    pub(super) refused: usize,
    /// When the pushes are carried for their author: by whom, kept with a refusal and logged.
    pub(super) carried: Option<crate::store::CarriedBy>,
}

/// Stores one checked document through the writer (or keeps its refusal) and adds its answer;
/// called under the lock.
pub(super) fn commit(
    state: &State,
    user: &Actor,
    device: &str,
    checked: Checked,
    now: i64,
    progress: &mut Progress,
) -> Result<(), ApiError> {
    let refused = &mut progress.refused;
    let carried = progress.carried.clone();
    let mut keep = |id: &str, refusal: &Refusal, changes: &[u8]| {
        *refused += 1;
        if *refused <= REFUSED_KEPT_PER_REQUEST {
            keep_refused(state, user, id, refusal, changes, now, carried.as_ref())
        } else {
            Ok(())
        }
    };
    let store = &*state.store;
    let ack = match checked.prepared {
        Prepared::Refused(j) => {
            let j = *j;
            if j.retry.is_some() {
                tracing::info!(doc = %j.id, user = %user.user, refusal = %j.refusal, "refused");
            }
            keep(&j.id, &j.refusal, &j.changes)?;
            Ack {
                id: j.id,
                outcome: Outcome::Refused { refusal: j.refusal },
                heads: j.heads,
                changes: j.answer,
            }
        }
        Prepared::MissingBase { id, stored } => Ack {
            id: id.to_string(),
            outcome: Outcome::MissingBase,
            heads: stored.map(|s| heads_to_hex(&s.heads)).unwrap_or_default(),
            changes: String::new(),
        },
        Prepared::Ready(r) => match checked.outcome {
            Some(Ok(mut actors)) => {
                for (_, owner) in &mut actors {
                    if owner.device.is_empty() {
                        device.clone_into(&mut owner.device);
                    }
                }
                let r = *r;
                let log = LogEntry {
                    doc: r.text_id.clone(),
                    at: now,
                    by: user.user.clone(),
                    changes: r.new.iter().map(|c| c.hash.to_string()).collect(),
                    signed: r.signed.clone(),
                    via: carried.as_ref().map(|c| c.carrier.clone()),
                };
                let Some(write) = r.write else {
                    return Err(ApiError::internal(&"an accepted push without its write"));
                };
                let heads = write.chunk.heads.clone();
                // The facts are read before the write, to be kept in its batch.
                let reading = (!write.chunk.is_empty())
                    .then(|| crate::reports::read_in(state, &r.id, &r.after));
                let record = reading.as_ref().and_then(crate::reports::Reading::record);
                if let Some(seq) = writer::commit(store, &r.id, write.chunk, actors, record, &log)?
                    && let Some(reading) = reading
                {
                    progress.pushed.insert(r.id.clone(), seq);
                    progress.written_since.insert(r.id.clone());
                    progress
                        .dirty
                        .extend(crate::reports::take_in(state, &r.id, reading));
                }
                Ack {
                    id: r.text_id,
                    outcome: Outcome::Accepted,
                    changes: b64::encode(&write.answer),
                    heads: heads_to_hex(&heads),
                }
            }
            outcome => {
                let r = *r;
                let refusal = match outcome {
                    Some(Err(refusal)) => refusal,
                    _ => Refusal {
                        code: RefusalCode::Malformed,
                        part: "document".into(),
                        reason: "the server could not check this change: sync again".into(),
                    },
                };
                tracing::info!(doc = %r.id, user = %user.user, %refusal, "refused");
                keep(&r.text_id, &refusal, &r.changes)?;
                let mut before = r.before;
                Ack {
                    id: r.text_id,
                    outcome: Outcome::Refused { refusal },
                    changes: b64::encode(&before.save_after(&r.base)),
                    heads: heads_to_hex(&before.get_heads()),
                }
            }
        },
    };
    progress.acks.push(ack);
    Ok(())
}

/// Refused pushes of one request kept for the record; the rest are counted in the log.
pub(super) const REFUSED_KEPT_PER_REQUEST: usize = 20;

/// How many bytes of a refused push are kept as a sample, for whoever looks into it.
const REFUSED_SAMPLE_BYTES: usize = 16 * 1024;

pub(super) fn keep_refused(
    state: &State,
    user: &Actor,
    id: &str,
    refusal: &Refusal,
    changes: &[u8],
    now: i64,
    carried: Option<&crate::store::CarriedBy>,
) -> Result<(), ApiError> {
    // A carried copy refused again (the same author, document and signature, brought once
    // more) is on the record already: whoever holds one signature cannot fill it.
    if let Some(by) = carried.filter(|c| !c.sig.is_empty())
        && state.store.refused()?.iter().any(|r| {
            r.user == user.user && r.id == id && r.carried.as_ref().is_some_and(|c| c.sig == by.sig)
        })
    {
        return Ok(());
    }
    let sample = &changes[..changes.len().min(REFUSED_SAMPLE_BYTES)];
    // A reason can quote what the client sent; the record keeps its start.
    let refusal = Refusal {
        reason: consolidate::shorten(&refusal.reason, 1000),
        part: consolidate::shorten(&refusal.part, 100),
        code: refusal.code,
    };
    state.store.keep_refused(
        &RefusedRecord {
            id: id.chars().take(200).collect(),
            user: user.user.clone(),
            at: now,
            refusal,
            changes: b64::encode(sample),
            bytes: changes.len() as u64,
            sha256: hex::encode(Sha256::digest(changes)),
            carried: carried.map(|c| crate::store::CarriedBy {
                carrier: consolidate::shorten(&c.carrier, 200),
                sig: consolidate::shorten(&c.sig, 200),
            }),
        },
        state.settings.refused_per_user,
    )?;
    Ok(())
}

/// A damaged push refuses its whole request; it is kept for the record like a refused one.
pub(super) fn keep_damaged(
    state: &State,
    user: &Actor,
    id: &str,
    error: &ApiError,
    now: i64,
    carried: Option<&crate::store::CarriedBy>,
) {
    if error.body.error != ErrorCode::BadChanges {
        return;
    }
    let refusal = Refusal {
        code: RefusalCode::Malformed,
        part: "document".into(),
        reason: error.body.message.clone(),
    };
    if let Err(e) = keep_refused(state, user, id, &refusal, &[], now, carried) {
        tracing::warn!(error = ?e.body, "could not keep a damaged push for the record");
    }
}
