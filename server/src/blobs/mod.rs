//! Photos and other blobs, content-addressed by SHA-256, behind one seam ([`Blobs`]) with two
//! engines: files in the data directory beside the embedded store ([`BlobFiles`]), and tables
//! of the database beside the PostgreSQL store ([`crate::store::PgBlobs`]), so that every
//! instance of a group reads the same photos and resumes the same uploads, and the database's
//! backups and standbys hold the photos with the documents.
//!
//! An upload belongs to its uploader: the bytes that arrive are kept durably whether the
//! request finishes or is cut off, so the next attempt (on any instance) continues from where
//! the last one stopped. When the declared length has arrived the bytes are hashed: a match
//! is stored under its hash, a mismatch dropped. Unfinished uploads are bounded per user and
//! removed when untouched for long; stored photos nothing points at are removed after a keep.

mod files;

pub use files::BlobFiles;

use std::io;
use std::time::Duration;

/// The next piece of a blob read piece by piece (`None` at its end).
pub type NextPiece = Box<dyn FnMut() -> io::Result<Option<Vec<u8>>> + Send>;

/// A stored blob's bytes, as the engine holds them.
pub enum BlobBody {
    /// A file, sent as it is read, and its length.
    File(std::fs::File, u64),
    /// The bytes, read whole (a photo is a few hundred kilobytes).
    Bytes(Vec<u8>),
    /// A larger blob, read a piece at a time as it is sent, and its length: memory stays
    /// bounded whatever size was uploaded.
    Pieces(NextPiece, u64),
}

impl std::fmt::Debug for BlobBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobBody::File(_, len) => write!(f, "File({len} bytes)"),
            BlobBody::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            BlobBody::Pieces(_, len) => write!(f, "Pieces({len} bytes)"),
        }
    }
}

impl BlobBody {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            BlobBody::File(_, len) | BlobBody::Pieces(_, len) => *len,
            BlobBody::Bytes(bytes) => bytes.len() as u64,
        }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its bytes, read whole.
    pub fn into_bytes(self) -> io::Result<Vec<u8>> {
        match self {
            BlobBody::File(mut file, len) => {
                let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                io::Read::read_to_end(&mut file, &mut bytes)?;
                Ok(bytes)
            }
            BlobBody::Bytes(bytes) => Ok(bytes),
            BlobBody::Pieces(mut next, len) => {
                let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                while let Some(piece) = next()? {
                    bytes.extend_from_slice(&piece);
                }
                Ok(bytes)
            }
        }
    }
}

/// An upload being written: bytes appended as they arrive, made durable by [`Upload::sync`]
/// (called when the request's body ends, whole or cut off).
pub trait Upload {
    /// Where it goes on: the bytes held when it began, and those written since.
    fn at(&self) -> u64;
    /// Appends bytes.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes every byte written so far durable.
    fn sync(&mut self) -> io::Result<()>;
    /// Once every declared byte is written, stores the blob at once if this upload holds all
    /// of it itself (as [`Blobs::finish`] would: `Some(true)` stored, `Some(false)` not its
    /// hash, dropped); `None` when the bytes are to be synced and finished as usual.
    fn complete(&mut self, _hash: &str) -> io::Result<Option<bool>> {
        Ok(None)
    }
}

/// Where blobs are kept: what the routes, the pages and the housekeeping need.
pub trait Blobs: Send + Sync {
    /// Whether a blob is stored.
    fn has(&self, hash: &str) -> bool;
    /// A stored blob's bytes, or `None`.
    fn read(&self, hash: &str) -> io::Result<Option<BlobBody>>;
    /// A stored blob's length, or `None`.
    fn size(&self, hash: &str) -> io::Result<Option<u64>>;
    /// Stores bytes under their hash (the caller has checked it), durably; nothing if stored.
    fn put(&self, hash: &str, bytes: &[u8]) -> io::Result<()>;
    /// How many bytes of `user`'s unfinished upload of `hash` are held.
    fn partial_len(&self, user: &str, hash: &str) -> io::Result<u64>;
    /// The length `user`'s unfinished upload of `hash` declared, if one is under way.
    fn declared_len(&self, user: &str, hash: &str) -> io::Result<Option<u64>>;

    /// Begins (or continues) `user`'s upload of `hash` with its declared length: one that
    /// declared another length starts over, and a user with `max_uploads` unfinished ones
    /// already loses the oldest. [`Upload::at`] says where the bytes sent next go.
    fn begin(
        &self,
        user: &str,
        hash: &str,
        length: u64,
        max_uploads: usize,
    ) -> io::Result<Box<dyn Upload + Send + '_>>;
    /// Cuts an unfinished upload back to `len` bytes (after a body that overran its length).
    fn truncate(&self, user: &str, hash: &str, len: u64) -> io::Result<()>;
    /// Hashes `user`'s finished upload: if it has the hash it was sent under, stores it (or
    /// drops it, if stored already) and returns true; otherwise drops it and returns false.
    fn finish(&self, user: &str, hash: &str) -> io::Result<bool>;
    /// Removes `user`'s unfinished upload of `hash`, if any.
    fn remove(&self, user: &str, hash: &str) -> io::Result<()>;
    /// Removes stored blobs that `held` says nothing holds, stored longer than `keep` ago;
    /// returns how many.
    fn remove_orphans(&self, keep: Duration, held: &dyn Fn(&str) -> bool) -> io::Result<usize>;
    /// Removes unfinished uploads untouched for longer than `keep`; returns how many.
    fn remove_stale(&self, keep: Duration) -> io::Result<usize>;
    /// The files, for an engine that keeps them in the data directory (its backups are taken
    /// from them).
    fn files(&self) -> Option<&BlobFiles> {
        None
    }
}
