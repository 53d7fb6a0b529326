//! What a device lacks: the documents it may read that changed after its cursor.

use std::collections::{BTreeSet, HashMap, HashSet};

use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{
    DocUpdate, MAX_WHOLE, Visits, b64, heads_to_hex, may_read_visiting, reads_as_visitor,
};

use crate::error::ApiError;
use crate::store::Storage;

/// What a pull found.
pub(super) struct Pulled {
    /// The documents to send.
    pub docs: Vec<DocUpdate>,
    /// The cursor to send next time.
    pub cursor: u64,
    /// Whether more documents wait.
    pub more: bool,
    /// Stored documents found damaged on the way, with why: passed over, to be left out.
    pub damaged: Vec<(String, String)>,
}

/// The documents the user may read that changed after `since`, within a byte budget; at
/// least one document is sent, however large. A stored document that cannot be read is passed
/// over (and returned in [`Pulled::damaged`]) rather than failing every device's pull.
///
/// What the user reads only as a visitor on another branch's patrol ([`Visits`]) is sent whole,
/// since the device may not have held it before; with a patrol they newly walk go that
/// branch's directory and publications, which may not have changed since the cursor. So are
/// the documents the device asks for whole (`whole`, at most [`MAX_WHOLE`]): an earlier
/// answer did not connect to what it holds. That happens when a document written before the
/// cursor was written again before the device's first page of news reached it: listed at its
/// last write only, it was not among the pages that moved the cursor past its first.
#[allow(clippy::too_many_arguments)]
pub(super) fn pull(
    store: &dyn Storage,
    user: &Actor,
    visits: &Visits,
    since: u64,
    upto: u64,
    budget: u64,
    pushed_now: &HashMap<DocId, u64>,
    unreadable: &HashSet<String>,
    whole: &[String],
) -> Result<Pulled, ApiError> {
    let mut damaged = Vec::new();
    let mut docs = Vec::new();
    let mut used: u64 = 0;
    let mut cursor = since;
    // The visited branches' documents to send with a visited patrol.
    let mut companions = BTreeSet::new();
    let whole: HashSet<DocId> = whole
        .iter()
        .take(MAX_WHOLE)
        .filter_map(|id| id.parse::<DocId>().ok())
        .filter(|id| may_read_visiting(user, id, visits) && !unreadable.contains(&id.to_string()))
        .collect();
    companions.extend(whole.iter().cloned());
    let readable = |seq: u64, id: &DocId| {
        may_read_visiting(user, id, visits)
            && pushed_now.get(id) != Some(&seq)
            && !unreadable.contains(&id.to_string())
    };
    loop {
        let mut batch = store.changed_after(cursor, 1024)?;
        // Only what the results have taken in (several instances on one database): who may
        // read a later one may depend on what it changed. The device asks again for the rest.
        let reached = batch.iter().position(|(seq, _)| *seq > upto);
        if let Some(at) = reached {
            batch.truncate(at);
        }
        if batch.is_empty() {
            break;
        }
        // The readable documents of the batch, read a few at a time (one round trip each on
        // a database), with the heads each had at the cursor.
        let mut fetched: HashMap<DocId, Fetched> = HashMap::new();
        for (n, (seq, id)) in batch.iter().enumerate() {
            let text_id = id.to_string();
            if !readable(*seq, id) {
                cursor = *seq;
                continue;
            }
            if !fetched.contains_key(id) {
                let ahead: Vec<DocId> = batch[n..]
                    .iter()
                    .filter(|(seq, id)| readable(*seq, id))
                    // A small budget (a console's edit asks for one byte) reads few.
                    .take(if budget >= 1 << 20 { FETCH_AHEAD } else { 2 })
                    .map(|(_, id)| id.clone())
                    .collect();
                let known: Vec<DocId> = ahead
                    .iter()
                    .filter(|id| {
                        since != 0 && !reads_as_visitor(user, id, visits) && !whole.contains(id)
                    })
                    .cloned()
                    .collect();
                let stored = store.docs(&ahead)?;
                let heads = store.heads_at_many(&known, since)?;
                let mut heads: HashMap<DocId, Option<Vec<automerge::ChangeHash>>> =
                    known.into_iter().zip(heads).collect();
                for (id, stored) in ahead.into_iter().zip(stored) {
                    let known = heads.remove(&id).flatten();
                    fetched.insert(id, Fetched { stored, known });
                }
            }
            let Some(Fetched { stored, known }) = fetched.remove(id) else {
                cursor = *seq;
                continue;
            };
            let (seq, id) = (*seq, id.clone());
            let stored = match stored {
                Ok(Some(stored)) => stored,
                Ok(None) => {
                    cursor = seq;
                    continue;
                }
                Err(e @ crate::store::StoreError::Damaged { .. }) => {
                    damaged.push((text_id, format!("its record is damaged ({e})")));
                    cursor = seq;
                    continue;
                }
                // The database did not answer: nothing is passed over for it.
                Err(e) => return Err(e.into()),
            };
            let visiting = reads_as_visitor(user, &id, visits);
            if visiting && let DocId::Patrol { branch, .. } = &id {
                companions.insert(DocId::directory(branch));
                companions.insert(DocId::publication(branch));
            }
            let bytes = match known {
                Some(heads) => match stored.load() {
                    Ok(mut doc) => doc.save_after(&heads),
                    Err(reason) => {
                        damaged.push((text_id, reason));
                        cursor = seq;
                        continue;
                    }
                },
                None => stored.bytes,
            };
            let size = bytes.len() as u64;
            if !docs.is_empty() && used + size > budget {
                send_whole(store, companions, unreadable, &mut docs, &mut damaged)?;
                return Ok(Pulled {
                    docs,
                    cursor,
                    more: true,
                    damaged,
                });
            }
            used += size;
            docs.push(DocUpdate {
                id: text_id,
                heads: heads_to_hex(&stored.heads),
                changes: b64::encode(&bytes),
            });
            cursor = seq;
        }
        if reached.is_some() {
            break;
        }
    }
    send_whole(store, companions, unreadable, &mut docs, &mut damaged)?;
    Ok(Pulled {
        docs,
        cursor,
        more: false,
        damaged,
    })
}

/// Documents read ahead of the one being sent.
const FETCH_AHEAD: usize = 32;

/// A document read ahead: as stored, and the heads it had at the cursor (if it existed then).
struct Fetched {
    stored: Result<Option<crate::store::StoredDoc>, crate::store::StoreError>,
    known: Option<Vec<automerge::ChangeHash>>,
}

/// Adds the documents named, whole, that are stored and not in `docs` already.
fn send_whole(
    store: &dyn Storage,
    ids: BTreeSet<DocId>,
    unreadable: &HashSet<String>,
    docs: &mut Vec<DocUpdate>,
    damaged: &mut Vec<(String, String)>,
) -> Result<(), ApiError> {
    for id in ids {
        let text_id = id.to_string();
        if unreadable.contains(&text_id) || docs.iter().any(|d| d.id == text_id) {
            continue;
        }
        match store.doc(&id) {
            Ok(Some(stored)) => docs.push(DocUpdate {
                id: text_id,
                heads: heads_to_hex(&stored.heads),
                changes: b64::encode(&stored.bytes),
            }),
            Ok(None) => {}
            Err(e @ crate::store::StoreError::Damaged { .. }) => {
                damaged.push((text_id, format!("its record is damaged ({e})")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
