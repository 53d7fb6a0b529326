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
//! | `s\0ID` | the document's [`Summary`](crate::index::Summary) for lists, if its kind has one |
//! | `m\0cursor` | the sync cursor, moved in the same batch as the documents it covers |
//!
//! Other trees: `meta` (the device actor, the install id, the session), `outbox` (photo files
//! not yet on the server), `quarantine` (refused edits with the server's reason), `photos` (a
//! [`PhotoRecord`] per photo, by the SHA-256 of its full-size file), `drafts` (forms being filled
//! in, by user and form), `accounts` (each person who signed in here: their actors, cursor,
//! token and offline sign-in, see `accounts.rs`). Photo bytes are files in
//! `blobs/`, named by their SHA-256; a file is written to `HASH.tmp`, synced and renamed, and
//! leftover `.tmp` files from a crash are removed when the repository opens.
//!
//! # Layout
//!
//! The [`Repo`] is one type; its methods are kept by concept:
//!
//! - this file: [`Repo::open`], [`StoreError`], the device's actor.
//! - `codec`: key layout and the JSON form of records.
//! - `docs`: document chunks, compaction, summaries, reading; `edit`: changing a document,
//!   checked by the validator; `decoded`: what the checks read, decoded once until it changes.
//! - `sync_state`: the cursor, what awaits sending, taking in the server's changes.
//! - `quarantine`: edits the server refused.
//! - `blobs`: photo files and the photo outbox; `photos`: the record of each photo.
//! - `drafts`: forms being filled in, and collecting the photos nothing holds.
//! - `session`: who is signed in, the last sync, preferences.
//!
//! The store knows nothing of the photo pipeline: [`crate::photo`] builds on it.

mod accounts;
mod blobs;
mod carry;
mod codec;
mod decoded;
mod docs;
mod drafts;
mod edit;
mod merge;
mod photos;
mod quarantine;
mod replay;
mod session;
mod sync_state;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use automerge::ActorId;
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::{DocError, DocId};
use zonepatrol_shared::validate::Refusal;

pub use accounts::{Account, FREE_TRIES, OFFLINE_DAYS, Unlock};
pub use blobs::Outgoing;
pub use carry::{CarryItem, DEVICE_LIST_DAYS, HandedRecord, MAX_OFFER_BYTES, Meeting, Taken};
pub use docs::{COMPACT_AT, Heads};
pub use drafts::StoredDraft;
pub use photos::{Jpeg, PhotoRecord, Processed};
pub use quarantine::Quarantined;
pub use session::Session;
pub use sync_state::Incoming;
pub use zonepatrol_shared::history::Changed;

use codec::damaged;

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

/// The device's repository.
#[derive(Debug)]
pub struct Repo {
    db: sled::Db,
    docs: sled::Tree,
    meta: sled::Tree,
    outbox: sled::Tree,
    quarantine: sled::Tree,
    photos: sled::Tree,
    drafts: sled::Tree,
    accounts: sled::Tree,
    carry: sled::Tree,
    blob_dir: PathBuf,
    /// Read-modify-write of a document happens one at a time.
    write: Mutex<()>,
    /// So does adding a photo file: from the check that it exists to its record.
    blob_write: Mutex<()>,
    /// Documents decoded for checks, until they next change.
    decoded: decoded::Decoded,
    /// Changing a person's account happens one change at a time.
    account_lock: Mutex<()>,
    /// Who is signed in, for what the phone shows them.
    reader: RwLock<Option<Actor>>,
    /// This phone's signing key (see [`Repo::device_key`]).
    key: zonepatrol_shared::signing::DeviceKey,
    /// Whether pushes are signed: always, but for the signing benchmark's anchor.
    signing: std::sync::atomic::AtomicBool,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

const ACTOR: &[u8] = b"actor";
/// This phone's signing key's secret seed: random, made once, never sent anywhere.
const KEY: &[u8] = b"key";
/// The server's latest checkpoint of its log, as received.
const CHECKPOINT: &[u8] = b"checkpoint";
/// This phone's install id: random, made once, never changed (see [`Repo::device_name`]).
const INSTALL: &[u8] = b"install";
/// The version of the summaries kept (see [`crate::index::VERSION`]).
const INDEX: &[u8] = b"index";

impl Repo {
    /// Opens (or creates) the repository in a directory.
    pub fn open(dir: &Path) -> Result<Repo, StoreError> {
        fs::create_dir_all(dir)?;
        let db = sled::Config::new().path(dir.join("store")).open()?;
        let blob_dir = blobs::open_dir(&dir.join("blobs"))?;
        let meta = db.open_tree("meta")?;
        let repo = Repo {
            docs: db.open_tree("docs")?,
            meta: meta.clone(),
            outbox: db.open_tree("outbox")?,
            quarantine: db.open_tree("quarantine")?,
            photos: db.open_tree("photos")?,
            drafts: db.open_tree("drafts")?,
            accounts: db.open_tree("accounts")?,
            carry: db.open_tree("carry")?,
            db,
            blob_dir,
            write: Mutex::new(()),
            blob_write: Mutex::new(()),
            decoded: Default::default(),
            account_lock: Mutex::new(()),
            reader: RwLock::new(None),
            key: Repo::load_key(&meta)?,
            signing: std::sync::atomic::AtomicBool::new(true),
        };
        if repo.meta.get(ACTOR)?.is_none() {
            repo.new_device_actor()?;
        }
        if repo.meta.get(INSTALL)?.is_none() {
            repo.meta
                .insert(INSTALL, &ActorId::random().to_bytes()[..4])?;
        }
        repo.adopt_device_state()?;
        repo.set_reader(repo.session()?.map(|s| s.user));
        let version = crate::index::VERSION.to_be_bytes();
        if repo.meta.get(INDEX)?.as_deref() != Some(&version[..]) {
            repo.rebuild_summaries()?;
            repo.meta.insert(INDEX, &version)?;
            repo.db.flush()?;
        }
        Ok(repo)
    }

    /// One read-modify-write of a document at a time.
    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The device's own actor: the one it wrote with before accounts, and before anyone signs
    /// in.
    fn device_actor(&self) -> Result<ActorId, StoreError> {
        let bytes = self
            .meta
            .get(ACTOR)?
            .ok_or_else(|| damaged(ACTOR, "missing"))?;
        Ok(ActorId::from(bytes.as_ref()))
    }

    /// How this phone names itself to the server when someone signs in, for the history of a
    /// record ("from which device"): its platform and its install id, which stays the same
    /// whoever signs in and however often its actors change.
    pub fn device_name(&self) -> Result<String, StoreError> {
        let install = self.meta.get(INSTALL)?.map(hex::encode).unwrap_or_default();
        let platform = if cfg!(target_os = "android") {
            "Android"
        } else {
            std::env::consts::OS
        };
        Ok(format!("{platform} {install}"))
    }

    /// The phone's signing key, made (and made durable) on first start: every change this
    /// phone sends is signed with it, and signing in registers its public half.
    fn load_key(meta: &sled::Tree) -> Result<zonepatrol_shared::signing::DeviceKey, StoreError> {
        use zonepatrol_shared::signing::DeviceKey;
        if let Some(seed) = meta.get(KEY)? {
            let seed = <[u8; 32]>::try_from(&seed[..]).map_err(|_| damaged(KEY, "not 32 bytes"))?;
            return Ok(DeviceKey::from_seed(seed));
        }
        let seed: [u8; 32] = rand::random();
        // Kept only if no other opening kept one first.
        let _ = meta.compare_and_swap(KEY, None::<&[u8]>, Some(&seed[..]))?;
        meta.flush()?;
        let kept = meta.get(KEY)?.ok_or_else(|| damaged(KEY, "missing"))?;
        let seed = <[u8; 32]>::try_from(&kept[..]).map_err(|_| damaged(KEY, "not 32 bytes"))?;
        Ok(DeviceKey::from_seed(seed))
    }

    /// This phone's signing key.
    pub fn device_key(&self) -> &zonepatrol_shared::signing::DeviceKey {
        &self.key
    }

    /// Stops (or resumes) signing pushes: only as the signing benchmark's anchor, against a
    /// server that does not check signatures. A server in service refuses unsigned changes.
    #[doc(hidden)]
    pub fn sign_pushes(&self, on: bool) {
        self.signing.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn signs_pushes(&self) -> bool {
        self.signing.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps the server's latest checkpoint of its log (an older one than kept is passed over).
    pub fn keep_checkpoint(
        &self,
        checkpoint: &zonepatrol_shared::signing::Checkpoint,
    ) -> Result<(), StoreError> {
        if self.checkpoint()?.is_some_and(|c| c.seq >= checkpoint.seq) {
            return Ok(());
        }
        self.meta.insert(CHECKPOINT, codec::encode(checkpoint))?;
        Ok(())
    }

    /// The latest checkpoint of the server's log this phone received.
    pub fn checkpoint(&self) -> Result<Option<zonepatrol_shared::signing::Checkpoint>, StoreError> {
        self.meta
            .get(CHECKPOINT)?
            .map(|v| codec::decode(CHECKPOINT, &v))
            .transpose()
    }

    fn new_device_actor(&self) -> Result<(), StoreError> {
        self.meta.insert(ACTOR, ActorId::random().to_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Who is signed in, if anyone.
    pub fn reader(&self) -> Option<Actor> {
        self.reader
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_reader(&self, reader: Option<Actor>) {
        *self.reader.write().unwrap_or_else(|e| e.into_inner()) = reader;
        self.decoded.forget_all();
    }

    /// Whether the person signed in may see a document the phone holds. A shared phone holds
    /// what each of its people may read; each sees only theirs: what the rules let them read,
    /// their own sheets, and what the server sent them (a visitor's patrol of another branch).
    /// Another inspector's sheet stays hidden, and on the phone while it is unsent. Before
    /// anyone signs in, the device reads everything (for its own upkeep).
    pub fn shows(&self, id: &str) -> bool {
        let guard = self.reader.read().unwrap_or_else(|e| e.into_inner());
        let Some(user) = &*guard else {
            return true;
        };
        let Ok(doc) = id.parse::<DocId>() else {
            return false;
        };
        zonepatrol_shared::protocol::may_read(user, &doc)
            || matches!(&doc, DocId::Sheet { inspector, .. } if *inspector == user.user)
            || self
                .docs
                .contains_key(codec::reader_key(id, &user.user))
                .unwrap_or(false)
    }
}
