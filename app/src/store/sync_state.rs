//! What sync keeps: the cursor, the documents that await sending, and the server's changes
//! taken in.

use automerge::{AutoCommit, ReadDoc};
use zonepatrol_shared::protocol::{Push, b64, heads_from_hex, heads_to_hex};

use super::codec::{damaged, decode, encode, id_of, key};
use super::docs::DocRecord;
use super::{Repo, StoreError};

/// In the `docs` tree, so that it moves in the same atomic batch as the documents it covers.
pub(super) const CURSOR: &[u8] = b"m\0cursor";

/// A document update to take in: from the server's pull, or its answer to a push.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The document.
    pub id: &'a str,
    /// The server's heads.
    pub heads: &'a [String],
    /// Changes (base64) that bring the local document to contain `heads`.
    pub changes: &'a str,
}

impl Repo {
    /// The sync cursor: the highest server sequence number taken in.
    pub fn cursor(&self) -> Result<u64, StoreError> {
        match self.docs.get(CURSOR)? {
            Some(v) => {
                let arr: [u8; 8] = v.as_ref().try_into().map_err(|_| damaged(CURSOR, "size"))?;
                Ok(u64::from_be_bytes(arr))
            }
            None => Ok(0),
        }
    }

    /// Starts the cursor over, so that the next sync receives every document whole.
    pub fn reset_cursor(&self) -> Result<(), StoreError> {
        self.docs.remove(CURSOR)?;
        self.db.flush()?;
        Ok(())
    }

    /// Whether any document has changes the server has not acknowledged.
    pub fn has_unsent(&self) -> Result<bool, StoreError> {
        Ok(!self.unsent_ids()?.is_empty() || self.probation_waits()?)
    }

    fn unsent_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for kv in self.docs.scan_prefix([b'd', 0]) {
            let (k, v) = kv?;
            let record: DocRecord = decode(&k, &v)?;
            if record.dirty {
                out.push(id_of(&k)?);
            }
        }
        Ok(out)
    }

    /// Local changes to send, one [`Push`] per document, up to about `max_bytes` of changes.
    pub fn outgoing(&self, max_bytes: usize) -> Result<Vec<Push>, StoreError> {
        self.release_probation()?;
        let mut pushes = Vec::new();
        let mut used = 0;
        for id in self.unsent_ids()? {
            let Some(record) = self.record(&id)? else {
                continue;
            };
            let Some(mut doc) = self.load(&id)? else {
                continue;
            };
            let base = heads_from_hex(&record.acked).map_err(|e| damaged(id.as_bytes(), e))?;
            let changes = doc.save_after(&base);
            if !pushes.is_empty() && used + changes.len() > max_bytes {
                break;
            }
            used += changes.len();
            pushes.push(Push {
                id,
                base: record.acked,
                have: heads_to_hex(&doc.get_heads()),
                changes: b64::encode(&changes),
            });
        }
        Ok(pushes)
    }

    /// Takes in server updates and moves the cursor, all in one batch and one flush. Each
    /// document's last update's heads become its acknowledged heads.
    pub fn take_in(&self, updates: &[Incoming<'_>], cursor: Option<u64>) -> Result<(), StoreError> {
        let _guard = self.lock();
        let mut batch = sled::Batch::default();
        let mut ids: Vec<&str> = updates.iter().map(|u| u.id).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let mine: Vec<&Incoming<'_>> = updates.iter().filter(|u| u.id == id).collect();
            self.take_in_one(&mut batch, id, &mine)?;
        }
        if let Some(cursor) = cursor {
            batch.insert(CURSOR, &cursor.to_be_bytes());
        }
        self.docs.apply_batch(batch)?;
        self.decoded.forget_all();
        self.db.flush()?;
        Ok(())
    }

    fn take_in_one(
        &self,
        batch: &mut sled::Batch,
        id: &str,
        updates: &[&Incoming<'_>],
    ) -> Result<(), StoreError> {
        let bad = |why: String| StoreError::BadRemote {
            id: id.to_owned(),
            why,
        };
        let record = self.record(id)?;
        let mut doc = match &record {
            Some(_) => self
                .load(id)?
                .ok_or_else(|| damaged(id.as_bytes(), "record without chunks"))?,
            None => AutoCommit::new(),
        };
        let mut received = Vec::new();
        let mut acked = None;
        for u in updates {
            let heads = heads_from_hex(u.heads).map_err(|e| bad(e.to_string()))?;
            let bytes = b64::decode(u.changes).map_err(|e| bad(e.to_string()))?;
            if !bytes.is_empty() {
                doc.load_incremental(&bytes)
                    .map_err(|e| bad(e.to_string()))?;
                received.extend_from_slice(&bytes);
            }
            if heads
                .iter()
                .any(|h| doc.document().get_change_by_hash(h).is_none())
                || !doc.get_missing_deps(&[]).is_empty()
            {
                return Err(bad("the changes are incomplete".into()));
            }
            acked = Some((heads, u.heads.to_vec()));
        }
        let Some((heads, acked_hex)) = acked else {
            return Ok(());
        };
        if record.is_none() && received.is_empty() {
            return Ok(());
        }
        let mut record = record.unwrap_or_default();
        record.dirty = doc.get_heads() != heads;
        record.acked = acked_hex;
        if received.is_empty() {
            batch.insert(key(b'd', id), encode(&record));
            Ok(())
        } else {
            self.append_to(batch, id, &mut record, &mut doc, received)
        }
    }

    /// Forgets the acknowledged heads of a document, so that it is sent whole next time (the
    /// server lost the state the device built on).
    pub fn resend_whole(&self, id: &str) -> Result<(), StoreError> {
        let _guard = self.lock();
        if let Some(mut record) = self.record(id)? {
            record.acked.clear();
            record.dirty = true;
            self.docs.insert(key(b'd', id), encode(&record))?;
            self.db.flush()?;
        }
        Ok(())
    }
}
