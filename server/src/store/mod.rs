//! What the server keeps, behind one trait so that another engine can replace sled.
//!
//! Documents are kept as a chain of chunks: a snapshot (`save()`) followed by incremental
//! changes (`save_after`), which concatenated load as one document. Every write of a document
//! takes the next number of one server-wide sequence, the sync cursor, and records the heads
//! the document had at that number, so a device can be sent just what it lacks.
//!
//! Every method returns only when its effect is in the engine; [`Storage::flush`] makes every
//! earlier effect durable. The sync route flushes before it answers.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod format;
mod pg_blobs;
mod pg_cache;
mod pg_store;
mod sled_store;
pub mod writer;

use automerge::{AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::signing::Checkpoint;
use zonepatrol_shared::validate::Refusal;
use zonepatrol_shared::{Actor, Role};

pub use pg_blobs::PgBlobs;
pub use pg_store::{ImportConn, Importer, PgStore, PoolStats, schema_version as pg_schema_version};
pub use sled_store::SledStore;

/// What can go wrong in storage. These are the server's own failures, never the client's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine failed.
    #[error("storage engine: {0}")]
    Engine(#[from] sled::Error),
    /// The database engine failed, or could not be reached.
    #[error("database: {0}")]
    Database(String),
    /// The database is held by another instance for longer than a request waits.
    #[error("busy: {0}")]
    Busy(String),
    /// A file beside the store could not be written or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A stored record could not be read.
    #[error("stored record {key} is damaged: {why}")]
    Damaged {
        /// Which record.
        key: String,
        /// What is wrong with it.
        why: String,
    },
}

/// A stored record that does not read: which, and why.
pub(crate) fn damaged(key: impl AsRef<[u8]>, why: impl ToString) -> StoreError {
    StoreError::Damaged {
        key: String::from_utf8_lossy(key.as_ref()).into_owned(),
        why: why.to_string(),
    }
}

/// Heads as kept by every engine: the 32-byte hashes one after another.
pub(crate) fn heads_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Heads kept as [`heads_bytes`] wrote them; `key` names the record if they do not read.
pub(crate) fn heads_from_bytes(
    key: impl AsRef<[u8]>,
    bytes: &[u8],
) -> Result<Vec<ChangeHash>, StoreError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(damaged(key, "heads are not whole hashes"));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0; 32];
            h.copy_from_slice(c);
            ChangeHash(h)
        })
        .collect())
}

/// How far a restore moves the documents' sequence ahead: more documents than a server
/// writes between a backup and its restore.
pub const RESTORE_SEQ_GAP: u64 = 1 << 32;

/// Where an export sends each record: its tree, key and value.
pub type RecordSink<'a> = dyn FnMut(&str, &[u8], &[u8]) -> std::io::Result<()> + 'a;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The login name and user id.
    pub user: String,
    /// What they mainly do.
    pub role: Role,
    /// The other roles they hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Role>,
    /// Their branch.
    pub branch: String,
    /// The argon2 hash of their password, in PHC string form.
    pub password: String,
    /// When the account was made, in milliseconds since the Unix epoch.
    pub created_at: i64,
    /// A disabled account cannot sign in, and its sign-ins stop working at once.
    #[serde(default)]
    pub disabled: bool,
}

impl UserRecord {
    /// Who the account acts as.
    pub fn actor(&self) -> Actor {
        Actor::new(&self.user, self.role, &self.branch).also(&self.also)
    }
}

/// An administrative change, on the record: who changed what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// When (ms).
    pub at: i64,
    /// Who (a user id).
    pub by: String,
    /// The branch concerned (empty for a company-wide change).
    pub branch: String,
    /// What kind of thing changed: `branch`, `zone`, `member`, `account`, `template`, `rules`.
    pub what: String,
    /// Which one (an id or a login name).
    pub subject: String,
    /// What was done, in words (Chinese first, as the console wrote it).
    pub summary: String,
}

/// A login token, stored under the SHA-256 of the token so that the store never holds one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Whose it is.
    pub user: String,
    /// The device name given at login.
    pub device: String,
    /// When it was issued (ms).
    pub created_at: i64,
    /// When it stops working (ms).
    pub expires_at: i64,
    /// The device key registered at this sign-in (hex), if the device sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A stored document.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    /// Its chunks, concatenated: what `AutoCommit::load` takes.
    pub bytes: Vec<u8>,
    /// Its heads.
    pub heads: Vec<ChangeHash>,
    /// How many chunks it is kept in; the sync route compacts when this grows.
    pub chunks: u32,
}

impl StoredDoc {
    /// The document, loaded. Some damaged data makes automerge panic instead of failing; that
    /// is a document that does not load too. The reason says which.
    pub fn load(&self) -> Result<AutoCommit, String> {
        match std::panic::catch_unwind(|| AutoCommit::load(&self.bytes)) {
            Ok(Ok(doc)) => Ok(doc),
            Ok(Err(e)) => Err(format!("it does not load ({e})")),
            Err(_) => Err("it does not load (damaged)".to_owned()),
        }
    }
}

/// One write of a document.
#[derive(Debug, Clone)]
pub struct DocWrite {
    /// The document id.
    pub id: DocId,
    /// The new chunk: the changes after the stored heads, or, to compact, the whole document.
    pub chunk: Vec<u8>,
    /// Whether `chunk` is the whole document and replaces every stored chunk.
    pub compact: bool,
    /// The heads once written.
    pub heads: Vec<ChangeHash>,
    /// Automerge actors first seen in this write, with the person and device they now belong
    /// to.
    pub actors: Vec<(Vec<u8>, ActorOwner)>,
    /// The document's consolidated facts once written (`consolidate::record`), kept in the
    /// same batch; `None` removes the stored ones, so that the next start reads the document.
    pub facts: Option<Vec<u8>>,
    /// The write's entry in the log ([`zonepatrol_shared::signing::LogEntry`], as bytes): the
    /// engine keeps it under the write's sequence number in the same batch, chained to the
    /// entry before ([`zonepatrol_shared::signing::log_link`]).
    pub log: Vec<u8>,
}

/// One entry of the log of accepted writes, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The sequence number of its write.
    pub seq: u64,
    /// Its link: the hash that chains it to the entry before.
    pub link: [u8; 32],
    /// The entry ([`zonepatrol_shared::signing::LogEntry`], as bytes).
    pub body: Vec<u8>,
}

/// A log record's stored value: its link, then its body.
pub(crate) fn log_value(link: &[u8; 32], body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(32 + body.len());
    v.extend_from_slice(link);
    v.extend_from_slice(body);
    v
}

/// A log record from its sequence number and stored value.
pub(crate) fn log_record(seq: u64, value: &[u8]) -> Result<LogRecord, StoreError> {
    let link = link_of(seq, value.get(..32).unwrap_or_default())?;
    Ok(LogRecord {
        seq,
        link,
        body: value[32..].to_vec(),
    })
}

/// The log's last entry as kept beside the sequence: its number, then its link.
pub(crate) fn log_head_value(seq: u64, link: &[u8; 32]) -> Vec<u8> {
    let mut v = seq.to_be_bytes().to_vec();
    v.extend_from_slice(link);
    v
}

/// The log's head from its kept value: the last entry's sequence number and link.
pub(crate) fn log_head_of(value: &[u8]) -> Result<(u64, [u8; 32]), StoreError> {
    let seq = value
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| damaged("m\\0log", "not a log head"))?;
    Ok((seq, log_prev(Some(value))?))
}

/// A log link as stored, or why not.
pub(crate) fn link_of(seq: u64, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| damaged(format!("log {seq}"), "not a link"))
}

/// The link a new entry chains to, from the kept head (none: the log's first entry).
pub(crate) fn log_prev(head: Option<&[u8]>) -> Result<[u8; 32], StoreError> {
    match head {
        None => Ok([0; 32]),
        Some(v) => <[u8; 32]>::try_from(v.get(8..).unwrap_or_default())
            .map_err(|_| damaged("m\0log", "not a log head")),
    }
}

/// A device key registered with the server: the phone, the people who signed in on it, and
/// whether it was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// The public key ([`zonepatrol_shared::signing::KeyId`], hex).
    pub key: String,
    /// The name the device gave when it was first registered.
    pub name: String,
    /// The people who signed in on it, in order: its changes may be theirs.
    pub users: Vec<String>,
    /// When it was first registered (ms).
    pub registered_at: i64,
    /// When someone last signed in on it (ms).
    #[serde(default)]
    pub last_sign_in: i64,
    /// When it was revoked (ms): changes it signs are refused from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    /// Who revoked it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revoked_by: String,
}

impl DeviceRecord {
    /// Whether it signs for `user` now: registered to them and not revoked.
    pub fn signs_for(&self, user: &str) -> bool {
        self.revoked_at.is_none() && self.users.iter().any(|u| u == user)
    }
}

/// Whom an automerge actor belongs to: the person who first wrote with it, and the device
/// they were signed in on (what the device said it was when it signed in; empty for actors
/// claimed before devices were recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorOwner {
    /// The user.
    pub user: String,
    /// The device.
    pub device: String,
}

/// A refused change, kept for the record and never merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRecord {
    /// The document id.
    pub id: String,
    /// Who sent it.
    pub user: String,
    /// When (ms).
    pub at: i64,
    /// Why it was refused.
    pub refusal: Refusal,
    /// The start of the refused changes (automerge `save_after` form), base64: at most a
    /// sample, so that refusals cannot fill the disk.
    pub changes: String,
    /// The size of the refused changes in bytes.
    #[serde(default)]
    pub bytes: u64,
    /// The SHA-256 of the refused changes, hex.
    #[serde(default)]
    pub sha256: String,
    /// When another phone carried them: who, and the author's signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<CarriedBy>,
}

/// Who carried a refused change for its author, and the author's signature, by which the
/// author's phone asks what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedBy {
    /// The carrier's person.
    pub carrier: String,
    /// The author's signature (base64), empty when there was none.
    pub sig: String,
}

/// What the server knows of a stored blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    /// Its size in bytes.
    pub size: u64,
    /// The branch of whoever uploaded it first: who may fetch it.
    pub branch: String,
    /// Who uploaded it first.
    pub by: String,
    /// When (ms).
    pub at: i64,
    /// Others who sent the whole bytes after the first (at most [`BlobMeta::MORE_UPLOADERS`]):
    /// they hold the photo, so they may read it.
    #[serde(default)]
    pub also: Vec<String>,
}

impl BlobMeta {
    /// Later uploaders kept on a blob's record.
    pub const MORE_UPLOADERS: usize = 64;

    /// Whether `user` sent the whole bytes.
    pub fn uploaded_by(&self, user: &str) -> bool {
        self.by == user || self.also.iter().any(|u| u == user)
    }
}

/// The server's storage.
pub trait Storage: Send + Sync + 'static {
    /// A user by login name.
    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Adds or replaces a user.
    fn put_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// Every user.
    fn users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// A token by the SHA-256 of its text.
    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;
    /// Stores a token under the SHA-256 of its text.
    fn put_token(&self, hash: &[u8; 32], token: &TokenRecord) -> Result<(), StoreError>;
    /// Revokes a token.
    fn remove_token(&self, hash: &[u8; 32]) -> Result<(), StoreError>;
    /// Every token of a user, with its hash: their signed-in devices.
    fn tokens_of(&self, user: &str) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError>;
    /// Forgets tokens expired before `now` (ms); returns how many.
    fn prune_tokens(&self, now: i64) -> Result<usize, StoreError>;

    /// A document by id.
    fn doc(&self, id: &DocId) -> Result<Option<StoredDoc>, StoreError>;

    /// Several documents, each as [`Storage::doc`] reads it (an engine across a network reads
    /// them together).
    #[allow(clippy::type_complexity)]
    fn docs(
        &self,
        ids: &[DocId],
    ) -> Result<Vec<Result<Option<StoredDoc>, StoreError>>, StoreError> {
        Ok(ids.iter().map(|id| self.doc(id)).collect())
    }

    /// A document's chunks from number `from` on, concatenated, with its heads and chunk
    /// count now: what others stored after a copy that was stored in `from` chunks, if no
    /// compaction came between. `None` when the engine does not read chunks apart (then the
    /// document is read whole); a document not stored reads as no chunks and no heads.
    fn doc_tail(&self, id: &DocId, from: u32) -> Result<Option<StoredDoc>, StoreError> {
        let _ = (id, from);
        Ok(None)
    }

    /// Each document's heads at sequence number `seq`, as [`Storage::heads_at`].
    fn heads_at_many(
        &self,
        ids: &[DocId],
        seq: u64,
    ) -> Result<Vec<Option<Vec<ChangeHash>>>, StoreError> {
        ids.iter().map(|id| self.heads_at(id, seq)).collect()
    }

    /// Every record of the store, for a backup: `sink(tree, key, value)` for each, tree by
    /// tree. Returns how many. Consistent for the documents when no push runs meanwhile.
    fn export(&self, sink: &mut RecordSink<'_>) -> Result<u64, StoreError>;

    /// After a restore, the last sequence number the backup held: the numbers after it, up
    /// to [`RESTORE_SEQ_GAP`] more, were given out by the lost server only.
    fn restored_at(&self) -> Result<Option<u64>, StoreError>;

    /// Writes one exported record back (a restore, into an empty store).
    fn import(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    /// Writes a document atomically and returns the sequence number it took. On the server
    /// only [`writer::commit`] calls it.
    fn write_doc(&self, write: &DocWrite) -> Result<u64, StoreError>;
    /// A document's facts record, if one is kept (see [`DocWrite::facts`]).
    fn facts(&self, id: &DocId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Several documents' facts records, each as [`Storage::facts`] reads it.
    fn facts_many(&self, ids: &[DocId]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        ids.iter().map(|id| self.facts(id)).collect()
    }
    /// Every document's facts record, by document (see [`DocWrite::facts`]).
    fn facts_records(&self) -> Result<Vec<(DocId, Vec<u8>)>, StoreError>;
    /// Keeps (or, with `None`, removes) the facts record of a document that is not being
    /// written: the start, which holds the documents' write lock, makes those a document
    /// lacked.
    fn put_facts(&self, id: &DocId, record: Option<&[u8]>) -> Result<(), StoreError>;
    /// What the facts records were made under (`consolidate::record::stamp`), if any.
    fn facts_stamp(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// Records what the facts records are made under, once all of them are.
    fn put_facts_stamp(&self, stamp: &[u8]) -> Result<(), StoreError>;
    /// Documents whose last write came after `cursor`, oldest first, at most `limit`.
    fn changed_after(&self, cursor: u64, limit: usize) -> Result<Vec<(u64, DocId)>, StoreError>;
    /// The last sequence number given out (0 if none).
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// The heads a document had at sequence number `seq`, if it existed then.
    fn heads_at(&self, id: &DocId, seq: u64) -> Result<Option<Vec<ChangeHash>>, StoreError>;
    /// The person (and device) an automerge actor belongs to.
    fn actor_owner(&self, actor: &[u8]) -> Result<Option<ActorOwner>, StoreError>;

    /// Keeps a refused change for the record, and at most `per_user` of its user's (the
    /// oldest go first).
    fn keep_refused(&self, refused: &RefusedRecord, per_user: usize) -> Result<(), StoreError>;
    /// Every refused change kept.
    fn refused(&self) -> Result<Vec<RefusedRecord>, StoreError>;
    /// Forgets refused changes kept from before `before` (ms); returns how many.
    fn prune_refused(&self, before: i64) -> Result<usize, StoreError>;

    /// Keeps an administrative change on the record.
    fn keep_activity(&self, record: &ActivityRecord) -> Result<(), StoreError>;
    /// The administrative changes kept, newest first, at most `limit`.
    fn activity(&self, limit: usize) -> Result<Vec<ActivityRecord>, StoreError>;

    /// A registered device key's record.
    fn device(&self, key: &str) -> Result<Option<DeviceRecord>, StoreError>;
    /// Records a device key as given (a restore, a test).
    fn put_device(&self, record: &DeviceRecord) -> Result<(), StoreError>;
    /// Changes a device key's record atomically: `change` gets the record as stored (or
    /// `None`) and returns what to store (`None`: leave it), and may be called again if
    /// another writer changed it meanwhile (a sign-in racing a revocation, on any instance).
    /// Returns what is stored afterwards.
    fn update_device(
        &self,
        key: &str,
        change: &mut dyn FnMut(Option<DeviceRecord>) -> Option<DeviceRecord>,
    ) -> Result<Option<DeviceRecord>, StoreError>;
    /// Every registered device key.
    fn devices(&self) -> Result<Vec<DeviceRecord>, StoreError>;
    /// The server's secret signing seed: the one kept, or `fresh`, kept from now on, when there
    /// is none yet (every instance sharing the store gets the same).
    fn server_seed(&self, fresh: [u8; 32]) -> Result<[u8; 32], StoreError>;
    /// Log entries after sequence number `after`, oldest first, at most `limit`.
    fn log_after(&self, after: u64, limit: usize) -> Result<Vec<LogRecord>, StoreError>;
    /// The log's last entry: its sequence number and link (`None`: no entry yet).
    fn log_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError>;
    /// Keeps a signed checkpoint of the log (one per sequence number: a second is ignored).
    fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;
    /// Checkpoints after sequence number `after`, oldest first, at most `limit`.
    fn checkpoints_after(&self, after: u64, limit: usize) -> Result<Vec<Checkpoint>, StoreError>;

    /// A stored blob's record.
    fn blob(&self, hash: &str) -> Result<Option<BlobMeta>, StoreError>;
    /// Records a stored blob.
    fn put_blob(&self, hash: &str, meta: &BlobMeta) -> Result<(), StoreError>;

    /// Makes every earlier write durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// A server engine's connection pool, for `/metrics`; `None` for an embedded engine.
    fn pool(&self) -> Option<PoolStats> {
        None
    }

    /// Whether other server processes may write this store too (a database several
    /// instances share): each instance then catches up with what the others wrote, and holds
    /// [`Storage::hold_writes`] while it writes.
    fn shared(&self) -> bool {
        false
    }

    /// Counts of wrong passwords kept where every instance sharing the store sees them
    /// (`None`: each process counts in memory).
    fn login_counts(&self) -> Option<&dyn LoginCounts> {
        None
    }

    /// The sequence numbers this process gave out since its last [`Storage::hold_writes`]
    /// (taken: the list starts over). Only a shared engine keeps them.
    fn own_writes(&self) -> Vec<u64> {
        Vec::new()
    }

    /// Keeps every other process's document writes (pushes, reports, publishing) out until the
    /// hold is dropped: a push is checked again and stored, and the reports it changes are
    /// written, with no other instance writing in between. An engine only one process opens
    /// holds nothing (the server's own lock suffices).
    fn hold_writes(&self) -> Result<WriteHold<'_>, StoreError> {
        Ok(WriteHold::none())
    }
}

/// How a count of wrong passwords grows into a wait (see `auth::throttle`).
#[derive(Debug, Clone, Copy)]
pub struct MissRule {
    /// Wrong passwords in a row before the first wait.
    pub free: u32,
    /// The first wait; each further wrong password doubles it.
    pub first: std::time::Duration,
    /// The longest wait.
    pub longest: std::time::Duration,
    /// A count whose last wrong password is older than this starts afresh.
    pub forget_after: std::time::Duration,
}

impl MissRule {
    /// The wait after `count` wrong passwords in a row, if any.
    pub fn wait(&self, count: u32) -> Option<std::time::Duration> {
        let beyond = count.checked_sub(self.free)?;
        Some(
            self.first
                .saturating_mul(1 << beyond.min(10))
                .min(self.longest),
        )
    }
}

/// Counts of wrong passwords shared by every instance on one database, timed by the
/// database's clock. `kind` names the count (`pair`, `name`, `addr`); keys are digests.
pub trait LoginCounts: Send + Sync {
    /// The wait left on a count, if any.
    fn wait(&self, kind: &str, key: &[u8; 32]) -> Result<Option<std::time::Duration>, StoreError>;
    /// Counts one more wrong password.
    fn wrong(&self, kind: &str, key: &[u8; 32], rule: MissRule) -> Result<(), StoreError>;
    /// Forgets a count.
    fn forget(&self, kind: &str, key: &[u8; 32]) -> Result<(), StoreError>;
    /// Whether a name signed in from an address (a `pair` key) within `within`.
    fn trusted(&self, key: &[u8; 32], within: std::time::Duration) -> Result<bool, StoreError>;
    /// Records a sign-in from an address.
    fn trust(&self, key: &[u8; 32]) -> Result<(), StoreError>;
}

/// What [`Storage::hold_writes`] holds, let go when dropped.
pub struct WriteHold<'a>(Option<Box<dyn FnOnce() + 'a>>);

impl<'a> WriteHold<'a> {
    /// Holding nothing.
    pub fn none() -> WriteHold<'a> {
        WriteHold(None)
    }

    /// Holding something `release` lets go of.
    pub fn releasing(release: impl FnOnce() + 'a) -> WriteHold<'a> {
        WriteHold(Some(Box::new(release)))
    }
}

impl std::fmt::Debug for WriteHold<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WriteHold").field(&self.0.is_some()).finish()
    }
}

impl Drop for WriteHold<'_> {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            release();
        }
    }
}
