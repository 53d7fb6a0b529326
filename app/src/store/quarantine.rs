//! Edits the server refused, kept with its reason for the user to see.

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};
use zonepatrol_shared::protocol::{b64, heads_from_hex};
use zonepatrol_shared::validate::Refusal;

use super::codec::{chunk_key, damaged, decode_all, encode, key};
use super::docs::{DocRecord, summarize_into};
use super::sync_state::Incoming;
use super::{Repo, StoreError, now_millis};

/// An edit the server refused, kept for the user to see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// Its key in the quarantine, to dismiss it.
    pub key: u64,
    /// The document.
    pub id: String,
    /// When it was refused (ms).
    pub at: i64,
    /// Why.
    pub refusal: Refusal,
    /// The refused changes (automerge `save_after` form), base64.
    pub changes: String,
    /// The photos the document held with the refused changes: kept on the phone while the
    /// edit is.
    #[serde(default)]
    pub photos: Vec<String>,
}

impl Repo {
    /// The server refused the changes after `base`: puts them in quarantine with the reason,
    /// and rewinds the document to `base` plus the server's `changes` (which bring it to
    /// `heads`). Local changes made after the refused push are quarantined with it.
    pub fn refused(
        &self,
        id: &str,
        base: &[String],
        refusal: &Refusal,
        server: Incoming<'_>,
    ) -> Result<(), StoreError> {
        let _guard = self.lock();
        let Some(record) = self.record(id)? else {
            return Ok(());
        };
        let bytes = self.bytes(id)?;
        let mut doc = AutoCommit::load(&bytes).map_err(|e| damaged(id.as_bytes(), e))?;
        let base = heads_from_hex(base).map_err(|e| damaged(id.as_bytes(), e))?;
        let refused = doc.save_after(&base);
        let n = self.db.generate_id()?;
        let entry = Quarantined {
            key: n,
            id: id.to_owned(),
            at: now_millis(),
            refusal: refusal.clone(),
            changes: b64::encode(&refused),
            photos: zonepatrol_shared::docs::values::photo_hashes(&doc)
                .into_iter()
                .collect(),
        };
        let mut batch = sled::Batch::default();
        self.remove_chunks_into(&mut batch, id)?;
        let bad = |why: String| StoreError::BadRemote {
            id: id.to_owned(),
            why,
        };
        let server_changes = b64::decode(server.changes).map_err(|e| bad(e.to_string()))?;
        let mut rewound = if base.is_empty() {
            AutoCommit::new()
        } else {
            doc.fork_at(&base).map_err(|e| bad(e.to_string()))?
        };
        if !server_changes.is_empty() {
            rewound
                .load_incremental(&server_changes)
                .map_err(|e| bad(e.to_string()))?;
        }
        if rewound.get_heads().is_empty() {
            batch.remove(key(b'd', id));
            batch.remove(key(b's', id));
        } else {
            summarize_into(&mut batch, id, &rewound);
            batch.insert(chunk_key(id, 0), rewound.save());
            let record = DocRecord {
                chunks: 1,
                acked: server.heads.to_vec(),
                dirty: false,
            };
            batch.insert(key(b'd', id), encode(&record));
        }
        drop(record);
        self.quarantine.insert(n.to_be_bytes(), encode(&entry))?;
        self.docs.apply_batch(batch)?;
        self.decoded.forget(id);
        self.db.flush()?;
        Ok(())
    }

    /// Refused edits, oldest first.
    pub fn quarantine(&self) -> Result<Vec<Quarantined>, StoreError> {
        decode_all(&self.quarantine)
    }

    /// Removes a refused edit the user has seen.
    pub fn dismiss(&self, key: u64) -> Result<(), StoreError> {
        self.quarantine.remove(key.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }
}
