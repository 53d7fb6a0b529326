//! What a device lacks: the documents it may read that changed after its cursor.

use std::collections::{HashMap, HashSet};

use automerge::AutoCommit;
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{DocUpdate, b64, heads_to_hex, may_read};

use crate::error::ApiError;
use crate::store::Storage;

/// The documents the user may read that changed after `since`, within a byte budget; at
/// least one document is sent, however large.
pub(super) fn pull(
    store: &dyn Storage,
    user: &Actor,
    since: u64,
    budget: u64,
    pushed_now: &HashMap<DocId, u64>,
    unreadable: &HashSet<String>,
) -> Result<(Vec<DocUpdate>, u64, bool), ApiError> {
    let mut docs = Vec::new();
    let mut used: u64 = 0;
    let mut cursor = since;
    loop {
        let batch = store.changed_after(cursor, 1024)?;
        if batch.is_empty() {
            return Ok((docs, cursor, false));
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
            let Some(stored) = store.doc(&id)? else {
                cursor = seq;
                continue;
            };
            let known = if since == 0 {
                None
            } else {
                store.heads_at(&id, since)?
            };
            let bytes = match known {
                Some(heads) => {
                    let mut doc =
                        AutoCommit::load(&stored.bytes).map_err(|e| ApiError::internal(&e))?;
                    doc.save_after(&heads)
                }
                None => stored.bytes,
            };
            let size = bytes.len() as u64;
            if !docs.is_empty() && used + size > budget {
                return Ok((docs, cursor, true));
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
