//! The device's repository: every document, the photo outbox, the quarantine and the sync
//! bookkeeping, in one sled database. A write returns only after sled has flushed it, so what
//! the UI calls "saved" is on disk.
//!
//! A document is kept as chunks that load as one when concatenated: a snapshot, then each
//! local change or change received from the server appended as it comes. Past
//! [`COMPACT_AT`] chunks the document is rewritten as one snapshot, in the same atomic batch.
//!
//! Keys in the `docs` tree (numbers big-endian):
//!
//! | key | value |
//! |---|---|
//! | `d\0ID` | the document's record: chunk count, the server's acknowledged heads, dirty flag |
//! | `c\0ID\0N` | chunk `N` (u32) |
//!
//! | `s\0ID` | the document's [`Summary`](crate::index::Summary) for lists, if its kind has one |
//! | `m\0cursor` | the sync cursor, moved in the same batch as the documents it covers |
//!
//! Other trees: `meta` (the device actor, the session), `outbox` (photo files not
//! yet on the server), `quarantine` (refused edits with the server's reason), `photos` (a
//! [`PhotoRecord`] per photo, by the SHA-256 of its full-size file). Photo bytes are files in
//! `blobs/`, named by their SHA-256; a file is written to `HASH.tmp`, synced and renamed, and
//! leftover `.tmp` files from a crash are removed when the repository opens.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash, ReadDoc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::{self, DocError, DocId, Document};
use zonepatrol_shared::docs::{Directory, Patrol, Publication};
use zonepatrol_shared::protocol::{Push, b64, heads_from_hex, heads_to_hex};
use zonepatrol_shared::rules::period::MineClock;
use zonepatrol_shared::validate::{Context, Refusal, validate_change};

use crate::index::Summary;
use crate::photo::Processed;

/// A document kept in more chunks than this is rewritten as one snapshot.
pub const COMPACT_AT: u32 = 32;

/// What can go wrong with the device's storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed.
    #[error("the phone's storage failed ({0}): free some space and restart the app")]
    Engine(#[from] sled::Error),
    /// A photo file could not be written or read.
    #[error("a photo file could not be used ({0}): free some space and try again")]
    Io(#[from] std::io::Error),
    /// A document could not be read or written as its kind.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// Stored data is damaged.
    #[error("stored record {key} is damaged: {why}")]
    Damaged {
        /// Which record.
        key: String,
        /// What is wrong.
        why: String,
    },
    /// The server would refuse this edit: nothing was saved.
    #[error("the server would refuse this edit ({0}): nothing was saved")]
    Refused(Refusal),
    /// Data from the server does not load.
    #[error("the server sent damaged data for {id} ({why}): it will be fetched again")]
    BadRemote {
        /// Which document.
        id: String,
        /// What is wrong.
        why: String,
    },
}

/// The device's record of one document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct DocRecord {
    chunks: u32,
    /// The heads the server last acknowledged (hex); empty if it never has.
    acked: Vec<String>,
    /// Whether there are local changes the server has not acknowledged.
    dirty: bool,
}

/// Who is signed in, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The server's base URL, e.g. `http://10.0.0.2:8080`.
    pub server: String,
    /// The bearer token.
    pub token: String,
    /// The user.
    pub user: Actor,
    /// The mine's time zone, as the server said at sign-in and at each sync since.
    #[serde(default = "zonepatrol_shared::protocol::default_time_zone")]
    pub time_zone: String,
}

impl Session {
    /// The mine's clock: the time zone the server gave (Asia/Shanghai if it is not one).
    pub fn clock(&self) -> MineClock {
        MineClock {
            tz: self.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
        }
    }
}

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
}

/// A document's heads, and the heads the server acknowledged (hex).
pub type Heads = (Vec<ChangeHash>, Vec<String>);

/// A photo waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Its SHA-256, hex.
    pub hash: String,
    /// Its size in bytes.
    pub size: u64,
}

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

/// A photo kept on the device: what documents refer to, and what the screens show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRecord {
    /// SHA-256 of the full-size JPEG: the key of the photo in documents.
    pub hash: String,
    /// SHA-256 of the thumbnail JPEG.
    pub thumb: String,
    /// When it was taken, from the camera's Exif, in milliseconds since the Unix epoch.
    pub taken_at: Option<i64>,
    /// Width of the full-size JPEG.
    pub width: u32,
    /// Height of the full-size JPEG.
    pub height: u32,
    /// Width of the thumbnail.
    pub thumb_width: u32,
    /// Height of the thumbnail.
    pub thumb_height: u32,
    /// Bytes of both files together.
    pub bytes: u64,
    /// When it was added on this device.
    pub added_at: i64,
}

impl PhotoRecord {
    /// The reference a document keeps, under the key [`PhotoRecord::hash`].
    pub fn reference(&self) -> docs::PhotoRef {
        docs::PhotoRef {
            thumb: self.thumb.clone(),
            taken_at: self.taken_at,
        }
    }
}

/// The device's repository.
#[derive(Debug)]
pub struct Repo {
    db: sled::Db,
    docs: sled::Tree,
    meta: sled::Tree,
    outbox: sled::Tree,
    quarantine: sled::Tree,
    photos: sled::Tree,
    blob_dir: PathBuf,
    /// Read-modify-write of a document happens one at a time.
    write: Mutex<()>,
    /// So does adding a photo file: from the check that it exists to its record.
    blob_write: Mutex<()>,
}

fn key(prefix: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + 3);
    k.push(prefix);
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

fn chunk_key(id: &str, n: u32) -> Vec<u8> {
    let mut k = key(b'c', id);
    k.push(0);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

fn chunk_prefix(id: &str) -> Vec<u8> {
    let mut k = key(b'c', id);
    k.push(0);
    k
}

fn outgoing(hash: &str, bytes: &[u8]) -> Outgoing {
    Outgoing {
        hash: hash.to_owned(),
        size: bytes.len() as u64,
    }
}

fn damaged(key: &[u8], why: impl ToString) -> StoreError {
    StoreError::Damaged {
        key: String::from_utf8_lossy(key).into_owned(),
        why: why.to_string(),
    }
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| damaged(key, e))
}

/// Every record of a tree, in key order.
fn decode_all<T: DeserializeOwned>(tree: &sled::Tree) -> Result<Vec<T>, StoreError> {
    tree.iter()
        .map(|kv| {
            let (k, v) = kv?;
            decode(&k, &v)
        })
        .collect()
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our own plain records always serialize.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

const ACTOR: &[u8] = b"actor";
/// In the `docs` tree, so that it moves in the same atomic batch as the documents it covers.
const CURSOR: &[u8] = b"m\0cursor";
const SESSION: &[u8] = b"session";
/// The session of whoever signed out last.
const LAST_SESSION: &[u8] = b"last session";
/// When the last sync finished.
const LAST_SYNCED: &[u8] = b"last synced";
/// The version of the summaries kept (see [`crate::index::VERSION`]).
const INDEX: &[u8] = b"index";

/// Puts a document's summary (or its absence) in a batch.
fn summarize_into(batch: &mut sled::Batch, id: &str, doc: &AutoCommit) {
    match crate::index::summarize(id, doc) {
        Some(summary) => batch.insert(key(b's', id), encode(&summary)),
        None => batch.remove(key(b's', id)),
    }
}

impl Repo {
    /// Opens (or creates) the repository in a directory.
    pub fn open(dir: &Path) -> Result<Repo, StoreError> {
        fs::create_dir_all(dir)?;
        let db = sled::Config::new().path(dir.join("store")).open()?;
        let blob_dir = dir.join("blobs");
        fs::create_dir_all(&blob_dir)?;
        // A photo file cut off by a crash was never recorded: remove what is left of it. Only
        // tidying, so nothing here stops the store from opening.
        for entry in fs::read_dir(&blob_dir)?.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "tmp") && path.is_file() {
                let _ = fs::remove_file(&path);
            }
        }
        let repo = Repo {
            docs: db.open_tree("docs")?,
            meta: db.open_tree("meta")?,
            outbox: db.open_tree("outbox")?,
            quarantine: db.open_tree("quarantine")?,
            photos: db.open_tree("photos")?,
            db,
            blob_dir,
            write: Mutex::new(()),
            blob_write: Mutex::new(()),
        };
        if repo.meta.get(ACTOR)?.is_none() {
            repo.new_actor()?;
        }
        let version = crate::index::VERSION.to_be_bytes();
        if repo.meta.get(INDEX)?.as_deref() != Some(&version[..]) {
            repo.rebuild_summaries()?;
            repo.meta.insert(INDEX, &version)?;
            repo.db.flush()?;
        }
        Ok(repo)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This device's automerge actor for the signed-in user.
    pub fn actor(&self) -> Result<ActorId, StoreError> {
        let bytes = self
            .meta
            .get(ACTOR)?
            .ok_or_else(|| damaged(ACTOR, "missing"))?;
        Ok(ActorId::from(bytes.as_ref()))
    }

    /// Starts a new actor: the server ties an actor to one user, so each user who signs in
    /// on this device writes with their own.
    fn new_actor(&self) -> Result<(), StoreError> {
        self.meta.insert(ACTOR, ActorId::random().to_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    fn record(&self, id: &str) -> Result<Option<DocRecord>, StoreError> {
        let k = key(b'd', id);
        self.docs.get(&k)?.map(|v| decode(&k, &v)).transpose()
    }

    fn bytes(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        for kv in self.docs.scan_prefix(chunk_prefix(id)) {
            bytes.extend_from_slice(&kv?.1);
        }
        Ok(bytes)
    }

    /// The ids of every document on the device.
    pub fn ids(&self) -> Result<Vec<String>, StoreError> {
        self.docs
            .scan_prefix([b'd', 0])
            .map(|kv| {
                let (k, _) = kv?;
                String::from_utf8(k[2..].to_vec()).map_err(|e| damaged(&k, e))
            })
            .collect()
    }

    /// The ids of the documents whose id starts with `prefix` (such as `problem:BRANCH:`),
    /// without reading the documents.
    pub fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.docs
            .scan_prefix(key(b'd', prefix))
            .map(|kv| {
                let (k, _) = kv?;
                String::from_utf8(k[2..].to_vec()).map_err(|e| damaged(&k, e))
            })
            .collect()
    }

    /// The summaries of the documents whose id starts with `prefix`, with their ids.
    pub fn summaries(&self, prefix: &str) -> Result<Vec<(String, Summary)>, StoreError> {
        self.summaries_containing(prefix, b"")
    }

    /// Like [`Repo::summaries`], decoding only the summaries whose stored form contains
    /// `needle` (such as `"responsible":"h3"`): a quick first cut before the real filter.
    pub fn summaries_containing(
        &self,
        prefix: &str,
        needle: &[u8],
    ) -> Result<Vec<(String, Summary)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.docs.scan_prefix(key(b's', prefix)) {
            let (k, v) = kv?;
            if !needle.is_empty() && !v.windows(needle.len()).any(|w| w == needle) {
                continue;
            }
            let id = String::from_utf8(k[2..].to_vec()).map_err(|e| damaged(&k, e))?;
            out.push((id, decode(&k, &v)?));
        }
        Ok(out)
    }

    /// Writes every document's summary again (after an upgrade that changed them).
    fn rebuild_summaries(&self) -> Result<(), StoreError> {
        let _guard = self.lock();
        let mut batch = sled::Batch::default();
        for kv in self.docs.scan_prefix([b's', 0]) {
            batch.remove(kv?.0);
        }
        for id in self.ids()? {
            // A damaged document keeps no summary; reading it says what is wrong.
            if let Ok(bytes) = self.bytes(&id)
                && let Ok(doc) = AutoCommit::load(&bytes)
            {
                summarize_into(&mut batch, &id, &doc);
            }
        }
        self.docs.apply_batch(batch)?;
        Ok(())
    }

    /// A document in automerge form, writing with this device's actor.
    pub fn load(&self, id: &str) -> Result<Option<AutoCommit>, StoreError> {
        if self.record(id)?.is_none() {
            return Ok(None);
        }
        let bytes = self.bytes(id)?;
        let mut doc = AutoCommit::load(&bytes).map_err(|e| damaged(id.as_bytes(), e))?;
        doc.set_actor(self.actor()?);
        Ok(Some(doc))
    }

    /// A document in its Rust shape.
    pub fn read<D: Document>(&self, id: &DocId) -> Result<Option<D>, StoreError> {
        match self.load(&id.to_string())? {
            Some(doc) => Ok(Some(docs::read(&doc, id)?)),
            None => Ok(None),
        }
    }

    /// Edits a document (creating it at genesis if the device does not have it), and returns
    /// once the change is on disk. Unchecked: screens edit through [`Repo::edit_as`].
    pub fn edit<D: Document, T>(
        &self,
        id: &DocId,
        f: impl FnOnce(&mut D) -> T,
    ) -> Result<T, StoreError> {
        self.edit_checked(id, f, None)
    }

    /// Edits a document as `actor`, first checking the edit with the rules the server applies
    /// ([`validate_change`]) against this phone's copies of the branch directory, the patrol
    /// (for a sheet) and the published periods. An edit the server would refuse is not saved:
    /// [`StoreError::Refused`] says why at once, instead of a refusal after the next sync.
    /// While the directory is not on the phone (or does not read), the server alone checks.
    pub fn edit_as<D: Document, T>(
        &self,
        actor: &Actor,
        id: &DocId,
        f: impl FnOnce(&mut D) -> T,
    ) -> Result<T, StoreError> {
        let branch = id.branch().to_owned();
        let directory = self
            .read::<Directory>(&DocId::Directory {
                branch: branch.clone(),
            })
            .ok()
            .flatten();
        let patrol = match id {
            DocId::Sheet { branch, patrol, .. } => self
                .read::<Patrol>(&DocId::Patrol {
                    branch: branch.clone(),
                    patrol: patrol.clone(),
                })
                .ok()
                .flatten(),
            _ => None,
        };
        let locks = self
            .read::<Publication>(&DocId::Publication { branch })
            .ok()
            .flatten()
            .map(|p| p.locks())
            .unwrap_or_default();
        let check = directory.as_ref().map(|directory| {
            let context = Context {
                directory: Some(directory),
                patrol: patrol.as_ref(),
                locks: &locks,
                now_millis: Some(now_millis()),
                clock: self.clock(),
            };
            (actor, context)
        });
        self.edit_checked(id, f, check)
    }

    fn edit_checked<D: Document, T>(
        &self,
        id: &DocId,
        f: impl FnOnce(&mut D) -> T,
        check: Option<(&Actor, Context<'_>)>,
    ) -> Result<T, StoreError> {
        let text_id = id.to_string();
        let _guard = self.lock();
        let record = self.record(&text_id)?;
        let (mut doc, old_heads) = match &record {
            Some(_) => {
                let bytes = self.bytes(&text_id)?;
                let mut doc =
                    AutoCommit::load(&bytes).map_err(|e| damaged(text_id.as_bytes(), e))?;
                let heads = doc.get_heads();
                (doc, Some(heads))
            }
            None => (docs::genesis::<D>(id)?, None),
        };
        doc.set_actor(self.actor()?);
        let before = match (&check, &old_heads) {
            (None, _) => None,
            (Some(_), Some(_)) => Some(doc.clone()),
            (Some(_), None) => Some(AutoCommit::new()),
        };
        let mut value: D = docs::read(&doc, id)?;
        let out = f(&mut value);
        docs::write(&mut doc, &value)?;
        doc.commit_with(CommitOptions::default().with_time(now_millis() / 1000));
        if old_heads.as_ref() == Some(&doc.get_heads()) {
            return Ok(out);
        }
        if let (Some((actor, context)), Some(mut before)) = (&check, before) {
            validate_change(actor, id, before.document(), doc.document(), context)
                .map_err(StoreError::Refused)?;
        }
        let chunk = match &old_heads {
            Some(heads) => doc.save_after(heads),
            None => doc.save(),
        };
        let mut record = record.unwrap_or_default();
        record.dirty = true;
        self.append(&text_id, record, &mut doc, chunk)?;
        self.db.flush()?;
        Ok(out)
    }

    /// Appends a chunk to a document (or rewrites it whole past [`COMPACT_AT`]) in one batch.
    fn append(
        &self,
        id: &str,
        mut record: DocRecord,
        doc: &mut AutoCommit,
        chunk: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        self.append_to(&mut batch, id, &mut record, doc, chunk)?;
        self.docs.apply_batch(batch)?;
        Ok(())
    }

    fn append_to(
        &self,
        batch: &mut sled::Batch,
        id: &str,
        record: &mut DocRecord,
        doc: &mut AutoCommit,
        chunk: Vec<u8>,
    ) -> Result<(), StoreError> {
        if record.chunks + 1 > COMPACT_AT {
            for kv in self.docs.scan_prefix(chunk_prefix(id)) {
                batch.remove(kv?.0);
            }
            batch.insert(chunk_key(id, 0), doc.save());
            record.chunks = 1;
        } else {
            batch.insert(chunk_key(id, record.chunks), chunk);
            record.chunks += 1;
        }
        batch.insert(key(b'd', id), encode(record));
        summarize_into(batch, id, doc);
        Ok(())
    }

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
        Ok(!self.unsent_ids()?.is_empty())
    }

    fn unsent_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for kv in self.docs.scan_prefix([b'd', 0]) {
            let (k, v) = kv?;
            let record: DocRecord = decode(&k, &v)?;
            if record.dirty {
                out.push(String::from_utf8(k[2..].to_vec()).map_err(|e| damaged(&k, e))?);
            }
        }
        Ok(out)
    }

    /// Local changes to send, one [`Push`] per document, up to about `max_bytes` of changes.
    pub fn outgoing(&self, max_bytes: usize) -> Result<Vec<Push>, StoreError> {
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
        };
        let mut batch = sled::Batch::default();
        for kv in self.docs.scan_prefix(chunk_prefix(id)) {
            batch.remove(kv?.0);
        }
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

    /// Keeps a file's bytes and puts it in the outbox; returns its SHA-256.
    pub fn add_blob(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let _turn = self.blob_write.lock().unwrap_or_else(|e| e.into_inner());
        let (hash, _) = self.write_blob(bytes)?;
        self.outbox
            .insert(hash.as_bytes(), encode(&outgoing(&hash, bytes)))?;
        self.db.flush()?;
        Ok(hash)
    }

    /// Writes a blob file unless it is there; says whether this call created it.
    fn write_blob(&self, bytes: &[u8]) -> Result<(String, bool), StoreError> {
        let hash = hex::encode(Sha256::digest(bytes));
        let path = self.blob_path(&hash);
        if path.exists() {
            return Ok((hash, false));
        }
        let tmp = self.blob_dir.join(format!("{hash}.tmp"));
        let written = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.blob_dir)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        Ok((hash, true))
    }

    /// Stores a processed photo: both files, both in the outbox and its record, all or nothing.
    /// A photo already stored is not stored again; its first record is returned.
    pub fn add_photo(&self, photo: &Processed) -> Result<PhotoRecord, StoreError> {
        let _turn = self.blob_write.lock().unwrap_or_else(|e| e.into_inner());
        let full_hash = hex::encode(Sha256::digest(&photo.full.bytes));
        if let Some(known) = self.photo(&full_hash)? {
            return Ok(known);
        }
        let mut created = Vec::new();
        let recorded = (|| {
            for bytes in [&photo.full.bytes, &photo.thumb.bytes] {
                let (hash, new) = self.write_blob(bytes)?;
                if new {
                    created.push(hash);
                }
            }
            let record = PhotoRecord {
                hash: full_hash.clone(),
                thumb: hex::encode(Sha256::digest(&photo.thumb.bytes)),
                taken_at: photo.taken_at,
                width: photo.full.width,
                height: photo.full.height,
                thumb_width: photo.thumb.width,
                thumb_height: photo.thumb.height,
                bytes: (photo.full.bytes.len() + photo.thumb.bytes.len()) as u64,
                added_at: now_millis(),
            };
            (&self.outbox, &self.photos)
                .transaction(|(outbox, photos)| {
                    for (hash, bytes) in [
                        (&record.hash, &photo.full.bytes),
                        (&record.thumb, &photo.thumb.bytes),
                    ] {
                        outbox.insert(hash.as_bytes(), encode(&outgoing(hash, bytes)))?;
                    }
                    photos.insert(record.hash.as_bytes(), encode(&record))?;
                    Ok::<_, ConflictableTransactionError<std::convert::Infallible>>(())
                })
                .map_err(|e| match e {
                    TransactionError::Abort(never) => match never {},
                    TransactionError::Storage(e) => StoreError::Engine(e),
                })?;
            Ok(record)
        })();
        match recorded {
            Ok(record) => {
                // Once the record is in, its files stay even if the flush fails: the record
                // may already be on disk.
                self.db.flush()?;
                Ok(record)
            }
            Err(e) => {
                // Nothing points to the files this call wrote: remove them.
                for hash in created {
                    let _ = fs::remove_file(self.blob_path(&hash));
                }
                Err(e)
            }
        }
    }

    /// A stored photo's record, by the SHA-256 of its full-size file.
    pub fn photo(&self, hash: &str) -> Result<Option<PhotoRecord>, StoreError> {
        self.photos
            .get(hash.as_bytes())?
            .map(|v| decode(hash.as_bytes(), &v))
            .transpose()
    }

    /// Every stored photo's record.
    pub fn photos(&self) -> Result<Vec<PhotoRecord>, StoreError> {
        decode_all(&self.photos)
    }

    /// Where a photo's bytes are.
    pub fn blob_path(&self, hash: &str) -> PathBuf {
        self.blob_dir.join(hash)
    }

    /// Photos not yet on the server.
    pub fn outbox(&self) -> Result<Vec<Outgoing>, StoreError> {
        decode_all(&self.outbox)
    }

    /// The server has a photo: take it out of the outbox.
    pub fn blob_sent(&self, hash: &str) -> Result<(), StoreError> {
        self.outbox.remove(hash.as_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// A preference of this phone's user (such as the language), if set.
    pub fn preference(&self, name: &str) -> Result<Option<String>, StoreError> {
        let k = key(b'p', name);
        self.meta.get(&k)?.map(|v| decode(&k, &v)).transpose()
    }

    /// Sets a preference.
    pub fn set_preference(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.meta.insert(key(b'p', name), encode(&value))?;
        self.db.flush()?;
        Ok(())
    }

    /// The mine's clock: the time zone the server gave at sign-in or, if it changed since, at
    /// the last sync (Asia/Shanghai before any sign-in).
    pub fn clock(&self) -> MineClock {
        self.session()
            .ok()
            .flatten()
            .map(|s| s.clock())
            .unwrap_or_default()
    }

    /// The signed-in session, if any.
    pub fn session(&self) -> Result<Option<Session>, StoreError> {
        self.meta
            .get(SESSION)?
            .map(|v| decode(SESSION, &v))
            .transpose()
    }

    /// Records a sign-in. A different user than before gets a new actor and starts the
    /// cursor again, since they may read other documents.
    pub fn set_session(&self, session: &Session) -> Result<(), StoreError> {
        let before = self.last_user()?;
        if before.as_ref() != Some(&session.user) {
            self.new_actor()?;
            // The new user starts from nothing they may not read: another inspector's sheets
            // and other branches' records leave the phone.
            let _guard = self.lock();
            let mut batch = sled::Batch::default();
            batch.remove(CURSOR);
            for id in self.ids()? {
                let readable = id
                    .parse::<DocId>()
                    .is_ok_and(|d| zonepatrol_shared::protocol::may_read(&session.user, &d));
                if !readable {
                    for kv in self.docs.scan_prefix(chunk_prefix(&id)) {
                        batch.remove(kv?.0);
                    }
                    batch.remove(key(b'd', &id));
                    batch.remove(key(b's', &id));
                }
            }
            self.docs.apply_batch(batch)?;
            // The previous user's refused edits and sync time are theirs, not the new user's.
            self.quarantine.clear()?;
            self.meta.remove(LAST_SYNCED)?;
        }
        self.meta.insert(SESSION, encode(session))?;
        self.db.flush()?;
        Ok(())
    }

    /// Forgets the session (sign out); documents stay, and so does who signed out, so that
    /// the next user cannot sign in over their unsent work.
    pub fn clear_session(&self) -> Result<(), StoreError> {
        if let Some(bytes) = self.meta.remove(SESSION)? {
            // Who signed out, and where; never their token.
            let mut session: Session = decode(SESSION, &bytes)?;
            session.token.clear();
            self.meta.insert(LAST_SESSION, encode(&session))?;
        }
        self.db.flush()?;
        Ok(())
    }

    /// The server address last used, for the sign-in form.
    pub fn last_server(&self) -> Result<Option<String>, StoreError> {
        if let Some(session) = self.session()? {
            return Ok(Some(session.server));
        }
        self.meta
            .get(LAST_SESSION)?
            .map(|v| decode::<Session>(LAST_SESSION, &v).map(|s| s.server))
            .transpose()
    }

    /// When the last sync finished (ms), if ever.
    pub fn last_synced(&self) -> Result<Option<i64>, StoreError> {
        self.meta
            .get(LAST_SYNCED)?
            .map(|v| decode(LAST_SYNCED, &v))
            .transpose()
    }

    /// Notes when a sync finished.
    pub fn set_last_synced(&self, at: i64) -> Result<(), StoreError> {
        self.meta.insert(LAST_SYNCED, encode(&at))?;
        self.db.flush()?;
        Ok(())
    }

    /// The user signed in now, or the one who signed out last.
    pub fn last_user(&self) -> Result<Option<Actor>, StoreError> {
        if let Some(session) = self.session()? {
            return Ok(Some(session.user));
        }
        self.meta
            .get(LAST_SESSION)?
            .map(|v| decode::<Session>(LAST_SESSION, &v).map(|s| s.user))
            .transpose()
    }

    /// A document's heads and acknowledged heads, for tests and diagnostics.
    pub fn heads(&self, id: &str) -> Result<Option<Heads>, StoreError> {
        let Some(record) = self.record(id)? else {
            return Ok(None);
        };
        let Some(mut doc) = self.load(id)? else {
            return Ok(None);
        };
        Ok(Some((doc.get_heads(), record.acked)))
    }
}
