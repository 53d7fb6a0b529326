//! The one place the server writes documents.
//!
//! Every document the server stores goes through here: a device's accepted push (sync), the
//! reports the consolidator writes, a period published or reopened, the seeded directories,
//! and whatever the server writes later on someone's behalf. One compaction policy applies to
//! all of them ([`docs::compact_due`]); the server's own changes carry one actor,
//! [`server_actor`], claimed for [`SERVER_USER`]; a device's actors are claimed for the user who
//! first wrote with them.
//!
//! Every write is logged: [`commit`] takes the write's [`LogEntry`] (the changes it adds and the
//! signatures that cover them) and the engine chains it to the log in the write's own batch.
//! The server's own changes are signed with its key ([`server_key`]) for the person they were
//! made for ([`ServerDoc::on_behalf_of`]; the server itself for reports).
//!
//! [`commit`] is the only caller of [`Storage::write_doc`] on the server:
//! `grep -rn 'write_doc(' server/src` finds it here and in the engines alone.

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, ChangeHash};
use zonepatrol_shared::docs::{self, DocId, Document};
use zonepatrol_shared::signing::{DeviceKey, LogEntry};

use super::{ActorOwner, DocWrite, Storage, StoreError, StoredDoc};

/// The name the server's own actor is claimed for.
pub const SERVER_USER: &str = "server";

pub use zonepatrol_shared::docs::server_actor;

/// Automerge actors first seen in a write, each with the person and device it now belongs to.
pub type Claims = Vec<(Vec<u8>, ActorOwner)>;

/// What can go wrong writing a document.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored document does not load, or the change cannot be made.
    #[error("{id}: {reason}")]
    Doc {
        /// The document.
        id: DocId,
        /// What went wrong.
        reason: String,
    },
}

/// One write of a document, made before it is stored.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The bytes to store: the whole document when compacting, else the changes after the
    /// stored heads; empty when there is nothing new.
    pub bytes: Vec<u8>,
    /// Whether `bytes` is the whole document and replaces every stored chunk.
    pub compact: bool,
    /// The document's heads once written.
    pub heads: Vec<ChangeHash>,
}

impl Chunk {
    /// What storing `doc` takes when the store holds it at `stored` heads in `chunks` chunks
    /// (no heads and 0 chunks: not stored yet).
    pub fn between(doc: &mut AutoCommit, stored: &[ChangeHash], chunks: u32) -> Chunk {
        let heads = doc.get_heads();
        let compact = docs::compact_due(chunks);
        let bytes = if heads == stored {
            Vec::new()
        } else if compact {
            doc.save()
        } else {
            doc.save_after(stored)
        };
        Chunk {
            bytes,
            compact,
            heads,
        }
    }

    /// Whether there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Proves that the document loads once this chunk is stored over `stored`, with the
    /// heads the chunk claims. Some damaged data from a client loads and passes the checks,
    /// yet makes automerge fail when it is saved and loaded again; a document the server
    /// stores always loads. Call it inside a guard against panics on data from outside.
    pub fn check_loads_over(&self, stored: Option<&StoredDoc>) -> Result<(), String> {
        if self.is_empty() {
            return Ok(());
        }
        let mut bytes = match (stored, self.compact) {
            (Some(s), false) => s.bytes.clone(),
            _ => Vec::new(),
        };
        bytes.extend_from_slice(&self.bytes);
        let mut reloaded = AutoCommit::load(&bytes).map_err(|e| e.to_string())?;
        let sorted = |mut h: Vec<ChangeHash>| {
            h.sort();
            h
        };
        if sorted(reloaded.get_heads()) != sorted(self.heads.clone()) {
            return Err("the heads differ once loaded back".into());
        }
        Ok(())
    }
}

/// Stores one chunk of a document, with the actors it claims and the document's facts once
/// written (`consolidate::record`; `None`: none kept, the next start reads the document);
/// returns the sequence number it took, or `None` when there was nothing to store. The only
/// place the server writes a document.
pub fn commit(
    store: &dyn Storage,
    id: &DocId,
    chunk: Chunk,
    actors: Claims,
    facts: Option<Vec<u8>>,
    log: &LogEntry,
) -> Result<Option<u64>, StoreError> {
    if chunk.is_empty() {
        return Ok(None);
    }
    store
        .write_doc(&DocWrite {
            id: id.clone(),
            chunk: chunk.bytes,
            compact: chunk.compact,
            heads: chunk.heads,
            actors,
            facts,
            log: log.to_bytes(),
        })
        .map(Some)
}

/// The server's signing key, kept in the store (made on first use; every instance sharing the
/// store signs with the same).
pub fn server_key(store: &dyn Storage) -> Result<DeviceKey, StoreError> {
    use std::sync::{Mutex, OnceLock};
    // Deriving the public half costs a scalar multiplication: once per seed, not per write.
    static KEYS: OnceLock<Mutex<Vec<DeviceKey>>> = OnceLock::new();
    let seed = store.server_seed(rand::random())?;
    let mut keys = KEYS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(key) = keys.iter().find(|k| k.seed() == seed) {
        return Ok(key.clone());
    }
    let key = DeviceKey::from_seed(seed);
    // A process serves a few mines, each with its own key: never many.
    if keys.len() < 1024 {
        keys.push(key.clone());
    }
    Ok(key)
}

/// Whether two sets of heads are the same, in any order.
fn same_heads(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// A document the server writes itself, with its own actor: loaded (or born) once, changed,
/// and saved as many times as it changes. Reports keep theirs loaded between writes.
pub struct ServerDoc {
    id: DocId,
    doc: AutoCommit,
    /// The heads the store holds (none when not stored yet).
    stored: Vec<ChangeHash>,
    /// How many chunks the store keeps it in.
    chunks: u32,
    /// Whom the server writes it for: named in its signature.
    by: String,
}

impl std::fmt::Debug for ServerDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerDoc")
            .field("id", &self.id)
            .field("chunks", &self.chunks)
            .finish()
    }
}

impl ServerDoc {
    /// The stored document, or a new one born at genesis if none is stored.
    pub fn open<D: Document>(store: &dyn Storage, id: &DocId) -> Result<ServerDoc, WriteError> {
        match store.doc(id)? {
            Some(stored) => {
                let doc = stored.load().map_err(|reason| WriteError::Doc {
                    id: id.clone(),
                    reason,
                })?;
                Ok(ServerDoc::with_actor(id, doc, stored.heads, stored.chunks))
            }
            None => ServerDoc::born::<D>(id),
        }
    }

    /// A new document, born at genesis, that the store does not hold yet.
    pub fn born<D: Document>(id: &DocId) -> Result<ServerDoc, WriteError> {
        let doc = docs::genesis::<D>(id).map_err(|e| WriteError::Doc {
            id: id.clone(),
            reason: e.to_string(),
        })?;
        Ok(ServerDoc::with_actor(id, doc, Vec::new(), 0))
    }

    fn with_actor(id: &DocId, mut doc: AutoCommit, stored: Vec<ChangeHash>, chunks: u32) -> Self {
        doc.set_actor(server_actor());
        ServerDoc {
            id: id.clone(),
            doc,
            stored,
            chunks,
            by: SERVER_USER.to_owned(),
        }
    }

    /// Names the person the server writes for (the signed-in person whose action this is):
    /// the server's signature over its changes names them.
    pub fn on_behalf_of(mut self, person: &str) -> ServerDoc {
        person.clone_into(&mut self.by);
        self
    }

    /// Takes in what was stored over this copy since it was stored (another instance's
    /// writes): only the chunks stored after its own when the store reads them apart and no
    /// compaction came between, else the document read whole. On an error the copy may be
    /// half taken in: drop it.
    pub fn catch_up<D: Document>(&mut self, store: &dyn Storage) -> Result<(), WriteError> {
        if let Some(tail) = store.doc_tail(&self.id, self.chunks)? {
            if same_heads(&tail.heads, &self.stored) {
                return Ok(());
            }
            if tail.chunks > self.chunks && !tail.bytes.is_empty() {
                let doc = &mut self.doc;
                // Damaged data may make automerge panic rather than fail.
                let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    doc.load_incremental(&tail.bytes)
                }));
                if matches!(applied, Ok(Ok(_))) && same_heads(&self.doc.get_heads(), &tail.heads) {
                    self.stored = tail.heads;
                    self.chunks = tail.chunks;
                    return Ok(());
                }
            }
        }
        let by = std::mem::take(&mut self.by);
        *self = ServerDoc::open::<D>(store, &self.id)?.on_behalf_of(&by);
        Ok(())
    }

    /// The document's id.
    pub fn id(&self) -> &DocId {
        &self.id
    }

    /// The document as it is now, saved or not.
    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    /// Reads the document as its kind.
    pub fn read<D: Document>(&self) -> Result<D, WriteError> {
        docs::read(&self.doc, &self.id).map_err(|e| self.failed(e))
    }

    /// Writes a whole value over the document; only what differs becomes operations.
    pub fn write<D: Document>(&mut self, value: &D) -> Result<(), WriteError> {
        docs::write(&mut self.doc, value).map_err(|e| self.failed(e))
    }

    /// Changes the document by hand (for a change narrower than a whole value).
    pub fn edit<E: std::fmt::Display>(
        &mut self,
        change: impl FnOnce(&mut AutoCommit) -> Result<(), E>,
    ) -> Result<(), WriteError> {
        change(&mut self.doc).map_err(|e| WriteError::Doc {
            id: self.id.clone(),
            reason: e.to_string(),
        })
    }

    fn failed(&self, e: impl std::fmt::Display) -> WriteError {
        WriteError::Doc {
            id: self.id.clone(),
            reason: e.to_string(),
        }
    }

    /// Commits what changed, at `now` (ms), and stores it with the document's facts as it is
    /// now (see [`commit`]); returns the sequence number it took, or `None` when nothing
    /// changed.
    pub fn save(
        &mut self,
        store: &dyn Storage,
        now: i64,
        facts: Option<Vec<u8>>,
    ) -> Result<Option<u64>, WriteError> {
        self.doc
            .commit_with(CommitOptions::default().with_time(now / 1000));
        let chunk = Chunk::between(&mut self.doc, &self.stored, self.chunks);
        let (compact, heads) = (chunk.compact, chunk.heads.clone());
        let owner = ActorOwner {
            user: SERVER_USER.to_owned(),
            device: SERVER_USER.to_owned(),
        };
        let claims = vec![(server_actor().to_bytes().to_vec(), owner)];
        let changes: Vec<ChangeHash> = self
            .doc
            .get_changes(&self.stored)
            .iter()
            .map(|c| c.hash())
            .collect();
        let text_id = self.id.to_string();
        let signed = server_key(store)?.sign_changes(&text_id, &self.by, &changes);
        let log = LogEntry {
            doc: text_id,
            at: now,
            by: SERVER_USER.to_owned(),
            changes: changes.iter().map(ToString::to_string).collect(),
            signed: vec![signed],
            via: None,
        };
        let seq = commit(store, &self.id, chunk, claims, facts, &log)?;
        if seq.is_some() {
            self.stored = heads;
            self.chunks = if compact { 1 } else { self.chunks + 1 };
        }
        Ok(seq)
    }
}
