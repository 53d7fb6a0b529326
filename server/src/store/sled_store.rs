//! [`Storage`] on sled: one tree for documents (so a document write is one atomic batch),
//! and one tree each for users, tokens, refused changes (keyed `u\0USER\0N`, so that each
//! user's are one range), blobs and administrative activity (keyed by time and a counter).
//!
//! Keys in the `docs` tree, with `\0` between fields and numbers big-endian so that they sort:
//!
//! | key | value |
//! |---|---|
//! | `d\0ID` | the document's record: last sequence number, heads, chunk count (JSON) |
//! | `c\0ID\0N` | chunk `N` (u32) of the document |
//! | `s\0SEQ` | the id of the document whose last write took `SEQ` (u64) |
//! | `h\0ID\0SEQ` | the document's heads after the write that took `SEQ` |
//! | `a\0ACTOR` | the user an automerge actor belongs to |
//! | `f\0ID` | the document's consolidated facts, written in the same batch as its chunks |
//! | `m\0seq` | the last sequence number given out |
//! | `m\0facts` | the settings the facts were consolidated under (`consolidate::record::stamp`) |
//! | `m\0restored` | after a restore, the last sequence number the backup held |
//! | `l\0SEQ` | the log entry of the write that took `SEQ`: its link (32 bytes), then the entry |
//! | `m\0log` | the log's last entry: its sequence number (u64), then its link |
//! | `k\0SEQ` | the server's signed checkpoint of the log at `SEQ` (JSON) |
//! | `m\0server-key` | the server's secret signing seed |
//!
//! The `devices` tree holds the registered device keys, by key (hex).

use std::path::Path;
use std::sync::Mutex;

use automerge::ChangeHash;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::signing::Checkpoint;

use super::{
    ActivityRecord, ActorOwner, BlobMeta, DeviceRecord, DocWrite, LogRecord, RefusedRecord,
    Storage, StoreError, StoredDoc, TokenRecord, UserRecord, damaged, heads_bytes,
    heads_from_bytes,
};

/// The sled engine.
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    docs: sled::Tree,
    users: sled::Tree,
    tokens: sled::Tree,
    refused: sled::Tree,
    blobs: sled::Tree,
    activity: sled::Tree,
    devices: sled::Tree,
    /// Document writes read the last sequence number and write the next: one at a time.
    write: Mutex<()>,
    /// The server's signing seed, once read.
    server_seed: std::sync::OnceLock<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
struct DocRecord {
    seq: u64,
    heads: Vec<String>,
    chunks: u32,
}

const SEQ_KEY: &[u8] = b"m\0seq";
const FACTS_STAMP_KEY: &[u8] = b"m\0facts";

fn key(prefix: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + 3);
    k.push(prefix);
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

fn key_n(prefix: u8, id: &str, n: &[u8]) -> Vec<u8> {
    let mut k = key(prefix, id);
    k.push(0);
    k.extend_from_slice(n);
    k
}

fn seq_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b's', 0];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| damaged(key, e))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain records to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn u64_of(key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| damaged(key, "not a u64"))?;
    Ok(u64::from_be_bytes(arr))
}

impl SledStore {
    /// Opens (or creates) the store in a directory.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new().path(dir).open()?;
        Ok(SledStore {
            docs: db.open_tree("docs")?,
            users: db.open_tree("users")?,
            tokens: db.open_tree("tokens")?,
            refused: db.open_tree("refused")?,
            blobs: db.open_tree("blobs")?,
            activity: db.open_tree("activity")?,
            devices: db.open_tree("devices")?,
            db,
            write: Mutex::new(()),
            server_seed: Default::default(),
        })
    }

    fn record(&self, id: &str) -> Result<Option<DocRecord>, StoreError> {
        let k = key(b'd', id);
        self.docs
            .get(&k)?
            .map(|v| decode::<DocRecord>(&k, &v))
            .transpose()
    }
}

/// Where a restore left the documents' sequence (its last number before the gap).
const RESTORED_KEY: &[u8] = b"m\0restored";

/// The trees a store keeps, by name: every one a backup carries.
const TREES: [&str; 7] = [
    "docs", "users", "tokens", "refused", "blobs", "activity", "devices",
];

const LOG_HEAD_KEY: &[u8] = b"m\0log";
const SERVER_KEY_KEY: &[u8] = b"m\0server-key";

fn log_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'l', 0];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn checkpoint_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'k', 0];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

impl SledStore {
    /// After a restore: sled's id counter moves past every id the restored records were
    /// keyed with, so that new refused pushes and activity sort after them and never replace
    /// one (ids are the last eight bytes of those keys); and the documents' sequence jumps far
    /// ahead, so that a phone whose cursor is past the backup (it synced with the lost server
    /// after the backup was taken) still receives every document written from now on.
    pub fn after_import(&self) -> Result<(), StoreError> {
        let last = match self.docs.get(SEQ_KEY)? {
            Some(v) => u64_of(SEQ_KEY, &v)?,
            None => 0,
        };
        self.docs.insert(
            SEQ_KEY,
            last.saturating_add(super::RESTORE_SEQ_GAP)
                .to_be_bytes()
                .to_vec(),
        )?;
        self.docs
            .insert(RESTORED_KEY, last.to_be_bytes().to_vec())?;
        let mut highest = 0u64;
        for tree in [&self.refused, &self.activity] {
            for entry in tree.iter() {
                let (k, _) = entry?;
                if let Some(tail) = k.len().checked_sub(8).map(|at| &k[at..])
                    && let Ok(bytes) = <[u8; 8]>::try_from(tail)
                {
                    highest = highest.max(u64::from_be_bytes(bytes));
                }
            }
        }
        // A counter beyond a billion is not one sled gave: leave it.
        if highest < 1_000_000_000 {
            while self.db.generate_id()? <= highest {}
        }
        self.db.flush()?;
        Ok(())
    }

    fn tree(&self, name: &str) -> Option<&sled::Tree> {
        Some(match name {
            "docs" => &self.docs,
            "users" => &self.users,
            "tokens" => &self.tokens,
            "refused" => &self.refused,
            "blobs" => &self.blobs,
            "activity" => &self.activity,
            "devices" => &self.devices,
            _ => return None,
        })
    }
}

impl Storage for SledStore {
    fn export(&self, sink: &mut super::RecordSink<'_>) -> Result<u64, StoreError> {
        // No document write lands halfway through: a record and its chunks go together.
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = 0;
        for name in TREES {
            let Some(tree) = self.tree(name) else {
                continue;
            };
            for entry in tree.iter() {
                let (k, v) = entry?;
                sink(name, &k, &v)?;
                n += 1;
            }
        }
        Ok(n)
    }

    fn restored_at(&self) -> Result<Option<u64>, StoreError> {
        self.docs
            .get(RESTORED_KEY)?
            .map(|v| u64_of(RESTORED_KEY, &v))
            .transpose()
    }

    fn import(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let Some(t) = self.tree(tree) else {
            return Err(damaged(tree.as_bytes(), "not a tree this store keeps"));
        };
        t.insert(key, value)?;
        Ok(())
    }

    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.users
            .get(name.as_bytes())?
            .map(|v| decode(name.as_bytes(), &v))
            .transpose()
    }

    fn put_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.users.insert(user.user.as_bytes(), encode(user))?;
        Ok(())
    }

    fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.users
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                decode(&k, &v)
            })
            .collect()
    }

    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.tokens
            .get(hash)?
            .map(|v| decode(b"token", &v))
            .transpose()
    }

    fn put_token(&self, hash: &[u8; 32], token: &TokenRecord) -> Result<(), StoreError> {
        self.tokens.insert(hash, encode(token))?;
        Ok(())
    }

    fn remove_token(&self, hash: &[u8; 32]) -> Result<(), StoreError> {
        self.tokens.remove(hash)?;
        Ok(())
    }

    fn doc(&self, id: &DocId) -> Result<Option<StoredDoc>, StoreError> {
        let id = id.to_string();
        let id = id.as_str();
        // A consistent view of the record and its chunks: they change together in one batch,
        // and a reader between two batches must not see half of one.
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let Some(record) = self.record(id)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        let mut chunks = 0;
        for kv in self.docs.scan_prefix(key_n(b'c', id, &[])) {
            let (_, v) = kv?;
            bytes.extend_from_slice(&v);
            chunks += 1;
        }
        let heads = zonepatrol_shared::protocol::heads_from_hex(&record.heads)
            .map_err(|e| damaged(id.as_bytes(), e))?;
        Ok(Some(StoredDoc {
            bytes,
            heads,
            chunks,
        }))
    }

    fn write_doc(&self, write: &DocWrite) -> Result<u64, StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let id = write.id.to_string();
        let id = id.as_str();
        let last = match self.docs.get(SEQ_KEY)? {
            Some(v) => u64_of(SEQ_KEY, &v)?,
            None => 0,
        };
        let seq = last + 1;
        let old = self.record(id)?;
        let mut batch = sled::Batch::default();
        let chunks = match (&old, write.compact) {
            (Some(old), false) => {
                batch.insert(key_n(b'c', id, &old.chunks.to_be_bytes()), &*write.chunk);
                old.chunks + 1
            }
            (old, _) => {
                if old.is_some() {
                    for kv in self.docs.scan_prefix(key_n(b'c', id, &[])) {
                        let (k, _) = kv?;
                        batch.remove(k);
                    }
                }
                batch.insert(key_n(b'c', id, &0u32.to_be_bytes()), &*write.chunk);
                1
            }
        };
        if let Some(old) = &old {
            batch.remove(seq_key(old.seq));
        }
        batch.insert(seq_key(seq), id.as_bytes());
        batch.insert(
            key_n(b'h', id, &seq.to_be_bytes()),
            heads_bytes(&write.heads),
        );
        let record = DocRecord {
            seq,
            heads: zonepatrol_shared::protocol::heads_to_hex(&write.heads),
            chunks,
        };
        batch.insert(key(b'd', id), encode(&record));
        match &write.facts {
            Some(record) => batch.insert(key(b'f', id), record.as_slice()),
            None => batch.remove(key(b'f', id)),
        }
        for (actor, owner) in &write.actors {
            let mut k = vec![b'a', 0];
            k.extend_from_slice(actor);
            // The user, then a zero byte and the device (a user name has no zero byte).
            let mut v = owner.user.as_bytes().to_vec();
            v.push(0);
            v.extend_from_slice(owner.device.as_bytes());
            batch.insert(k, v);
        }
        let prev = super::log_prev(self.docs.get(LOG_HEAD_KEY)?.as_deref())?;
        let link = zonepatrol_shared::signing::log_link(&prev, seq, write.id.branch(), &write.log);
        batch.insert(log_key(seq), super::log_value(&link, &write.log));
        batch.insert(LOG_HEAD_KEY, super::log_head_value(seq, &link));
        batch.insert(SEQ_KEY, &seq.to_be_bytes());
        self.docs.apply_batch(batch)?;
        Ok(seq)
    }

    fn facts(&self, id: &DocId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .docs
            .get(key(b'f', &id.to_string()))?
            .map(|v| v.to_vec()))
    }

    fn facts_records(&self) -> Result<Vec<(DocId, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.docs.scan_prefix([b'f', 0]) {
            let (k, v) = kv?;
            match std::str::from_utf8(&k[2..])
                .ok()
                .and_then(|t| t.parse().ok())
            {
                Some(id) => out.push((id, v.to_vec())),
                None => tracing::error!("a facts record's id does not parse: passed over"),
            }
        }
        Ok(out)
    }

    fn put_facts(&self, id: &DocId, record: Option<&[u8]>) -> Result<(), StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let k = key(b'f', &id.to_string());
        match record {
            Some(record) => self.docs.insert(k, record)?,
            None => self.docs.remove(k)?,
        };
        Ok(())
    }

    fn facts_stamp(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.docs.get(FACTS_STAMP_KEY)?.map(|v| v.to_vec()))
    }

    fn put_facts_stamp(&self, stamp: &[u8]) -> Result<(), StoreError> {
        self.docs.insert(FACTS_STAMP_KEY, stamp)?;
        Ok(())
    }

    fn changed_after(&self, cursor: u64, limit: usize) -> Result<Vec<(u64, DocId)>, StoreError> {
        let start = seq_key(cursor.saturating_add(1));
        let end = seq_key(u64::MAX);
        self.docs
            .range(start..=end)
            .filter_map(|kv| {
                let (k, v) = match kv {
                    Ok(kv) => kv,
                    Err(e) => return Some(Err(e.into())),
                };
                let seq = match u64_of(&k, &k[2..]) {
                    Ok(seq) => seq,
                    Err(e) => return Some(Err(e)),
                };
                // Only ids that parse are ever written; one that does not is passed over (and
                // said in the log) rather than stopping every device's pull.
                match std::str::from_utf8(&v).ok().and_then(|t| t.parse().ok()) {
                    Some(id) => Some(Ok((seq, id))),
                    None => {
                        tracing::error!(seq, "a stored document id does not parse: passed over");
                        None
                    }
                }
            })
            // After the passing over: a run of damaged entries must not look like the end.
            .take(limit)
            .collect()
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        match self.docs.get(SEQ_KEY)? {
            Some(v) => u64_of(SEQ_KEY, &v),
            None => Ok(0),
        }
    }

    fn heads_at(&self, id: &DocId, seq: u64) -> Result<Option<Vec<ChangeHash>>, StoreError> {
        let id = id.to_string();
        let id = id.as_str();
        let start = key_n(b'h', id, &0u64.to_be_bytes());
        let end = key_n(b'h', id, &seq.to_be_bytes());
        match self.docs.range(start..=end).next_back() {
            Some(kv) => {
                let (k, v) = kv?;
                heads_from_bytes(&k, &v).map(Some)
            }
            None => Ok(None),
        }
    }

    fn actor_owner(&self, actor: &[u8]) -> Result<Option<ActorOwner>, StoreError> {
        let mut k = vec![b'a', 0];
        k.extend_from_slice(actor);
        let Some(v) = self.docs.get(&k)? else {
            return Ok(None);
        };
        // Stores from before devices were recorded hold the user alone.
        let (user, device) = match v.iter().position(|&b| b == 0) {
            Some(at) => (&v[..at], &v[at + 1..]),
            None => (&v[..], &[][..]),
        };
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|e| damaged(&k, e));
        Ok(Some(ActorOwner {
            user: text(user)?,
            device: text(device)?,
        }))
    }

    fn keep_refused(&self, refused: &RefusedRecord, per_user: usize) -> Result<(), StoreError> {
        // Keyed by user, then a growing number: a user's records are one range, oldest first.
        let n = self.db.generate_id()?;
        let prefix = key(b'u', &refused.user);
        let mut k = prefix.clone();
        k.push(0);
        k.extend_from_slice(&n.to_be_bytes());
        self.refused.insert(k, encode(refused))?;
        let mut range = prefix;
        range.push(0);
        let kept = self.refused.scan_prefix(&range).keys().count();
        if kept > per_user {
            for old in self
                .refused
                .scan_prefix(&range)
                .keys()
                .take(kept - per_user)
            {
                self.refused.remove(old?)?;
            }
        }
        Ok(())
    }

    fn tokens_of(&self, user: &str) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tokens.iter() {
            let (k, v) = kv?;
            let Ok(hash) = <[u8; 32]>::try_from(&k[..]) else {
                continue;
            };
            if let Ok(token) = decode::<TokenRecord>(&k, &v)
                && token.user == user
            {
                out.push((hash, token));
            }
        }
        Ok(out)
    }

    fn keep_activity(&self, record: &ActivityRecord) -> Result<(), StoreError> {
        // Time first, then a number from sled, so that two changes in one millisecond both stay.
        let mut k = u64::try_from(record.at).unwrap_or(0).to_be_bytes().to_vec();
        k.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        self.activity.insert(k, encode(record))?;
        Ok(())
    }

    fn activity(&self, limit: usize) -> Result<Vec<ActivityRecord>, StoreError> {
        self.activity
            .iter()
            .rev()
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                decode(&k, &v)
            })
            .collect()
    }

    fn prune_tokens(&self, now: i64) -> Result<usize, StoreError> {
        let mut removed = 0;
        for kv in self.tokens.iter() {
            let (k, v) = kv?;
            let expired = decode::<TokenRecord>(&k, &v).map_or(true, |t| t.expires_at <= now);
            if expired {
                self.tokens.remove(k)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn refused(&self) -> Result<Vec<RefusedRecord>, StoreError> {
        self.refused
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                decode(&k, &v)
            })
            .collect()
    }

    fn prune_refused(&self, before: i64) -> Result<usize, StoreError> {
        let mut removed = 0;
        for kv in self.refused.iter() {
            let (k, v) = kv?;
            // A record that cannot be read is no use to anyone either.
            let old = decode::<RefusedRecord>(&k, &v).map_or(true, |r| r.at < before);
            if old {
                self.refused.remove(k)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn blob(&self, hash: &str) -> Result<Option<BlobMeta>, StoreError> {
        self.blobs
            .get(hash.as_bytes())?
            .map(|v| decode(hash.as_bytes(), &v))
            .transpose()
    }

    fn put_blob(&self, hash: &str, meta: &BlobMeta) -> Result<(), StoreError> {
        self.blobs.insert(hash.as_bytes(), encode(meta))?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn device(&self, key: &str) -> Result<Option<DeviceRecord>, StoreError> {
        self.devices
            .get(key.as_bytes())?
            .map(|v| decode(key.as_bytes(), &v))
            .transpose()
    }

    fn put_device(&self, record: &DeviceRecord) -> Result<(), StoreError> {
        self.devices.insert(record.key.as_bytes(), encode(record))?;
        Ok(())
    }

    fn update_device(
        &self,
        key: &str,
        change: &mut dyn FnMut(Option<DeviceRecord>) -> Option<DeviceRecord>,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        loop {
            let old = self.devices.get(key.as_bytes())?;
            let record = old
                .as_ref()
                .map(|v| decode::<DeviceRecord>(key.as_bytes(), v))
                .transpose()?;
            let Some(new) = change(record.clone()) else {
                return Ok(record);
            };
            let swapped = self.devices.compare_and_swap(
                key.as_bytes(),
                old.as_deref(),
                Some(encode(&new)),
            )?;
            if swapped.is_ok() {
                return Ok(Some(new));
            }
        }
    }

    fn devices(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.devices
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                decode(&k, &v)
            })
            .collect()
    }

    fn server_seed(&self, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
        if let Some(seed) = self.server_seed.get() {
            return Ok(*seed);
        }
        // Kept only if none is: two first calls at once agree on one.
        let _ = self
            .docs
            .compare_and_swap(SERVER_KEY_KEY, None::<&[u8]>, Some(&fresh[..]))?;
        let kept = self
            .docs
            .get(SERVER_KEY_KEY)?
            .ok_or_else(|| damaged(SERVER_KEY_KEY, "missing"))?;
        let seed =
            <[u8; 32]>::try_from(&kept[..]).map_err(|_| damaged(SERVER_KEY_KEY, "not 32 bytes"))?;
        Ok(*self.server_seed.get_or_init(|| seed))
    }

    fn log_after(&self, after: u64, limit: usize) -> Result<Vec<LogRecord>, StoreError> {
        let start = log_key(after.saturating_add(1));
        let end = log_key(u64::MAX);
        self.docs
            .range(start..=end)
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                let seq = u64_of(&k, k.get(2..).unwrap_or_default())?;
                super::log_record(seq, &v)
            })
            .collect()
    }

    fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let _ = self.docs.compare_and_swap(
            checkpoint_key(checkpoint.seq),
            None::<&[u8]>,
            Some(encode(checkpoint)),
        )?;
        Ok(())
    }

    fn checkpoints_after(&self, after: u64, limit: usize) -> Result<Vec<Checkpoint>, StoreError> {
        self.docs
            .range(checkpoint_key(after.saturating_add(1))..=checkpoint_key(u64::MAX))
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                decode(&k, &v)
            })
            .collect()
    }

    fn log_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        self.docs
            .get(LOG_HEAD_KEY)?
            .map(|v| super::log_head_of(&v))
            .transpose()
    }
}
