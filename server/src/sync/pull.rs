//! What a device lacks: the documents it may read that changed after its cursor.

use std::collections::{HashMap, HashSet};

use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{DocUpdate, b64, heads_to_hex, may_read};

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
pub(super) fn pull(
    store: &dyn Storage,
    user: &Actor,
    since: u64,
    budget: u64,
    pushed_now: &HashMap<DocId, u64>,
    unreadable: &HashSet<String>,
) -> Result<Pulled, ApiError> {
    let mut damaged = Vec::new();
    let mut docs = Vec::new();
    let mut used: u64 = 0;
    let mut cursor = since;
    loop {
        let batch = store.changed_after(cursor, 1024)?;
        if batch.is_empty() {
            return Ok(Pulled {
                docs,
                cursor,
                more: false,
                damaged,
            });
        }
        for (seq, id) in batch {
            let text_id = id.to_string();
            if !may_read(user, &id)
                || pushed_now.get(&id) == Some(&seq)
                || unreadable.contains(&text_id)
            {
                cursor = seq;
                continue;
            }
            let stored = match store.doc(&id) {
                Ok(Some(stored)) => stored,
                Ok(None) => {
                    cursor = seq;
                    continue;
                }
                Err(e) => {
                    damaged.push((text_id, format!("its record is damaged ({e})")));
                    cursor = seq;
                    continue;
                }
            };
            let known = if since == 0 {
                None
            } else {
                store.heads_at(&id, since)?
            };
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
    }
}
