//! Photos and other blobs, content-addressed by SHA-256, as files in the data directory.
//!
//! An upload appends to `blobs/partial/HASH` and makes what arrived durable whether the
//! request finishes or is cut off, so the next attempt continues from where the last one
//! stopped (`HEAD` or `POST /v1/blobs/check` tell the offset). When the declared length has
//! arrived the server hashes the file: a match is renamed to `blobs/HASH` and recorded, a
//! mismatch is deleted and answered 422. Files are small enough (photos) that reading one back
//! to hash it costs less than the upload did.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The blob files.
#[derive(Debug, Clone)]
pub struct BlobFiles {
    dir: PathBuf,
    partial: PathBuf,
}

impl BlobFiles {
    /// Opens (or creates) the blob directory.
    pub fn open(dir: &Path) -> io::Result<BlobFiles> {
        let partial = dir.join("partial");
        fs::create_dir_all(&partial)?;
        Ok(BlobFiles {
            dir: dir.to_owned(),
            partial,
        })
    }

    /// The path of a stored blob.
    pub fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(hash)
    }

    fn partial_path(&self, hash: &str) -> PathBuf {
        self.partial.join(hash)
    }

    /// How many bytes of an unfinished upload are held.
    pub fn partial_len(&self, hash: &str) -> io::Result<u64> {
        match fs::metadata(self.partial_path(hash)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Opens the unfinished upload for appending.
    pub fn append(&self, hash: &str) -> io::Result<File> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.partial_path(hash))
    }

    /// Cuts an unfinished upload back to `len` bytes (after a body that overran its length).
    pub fn truncate(&self, hash: &str, len: u64) -> io::Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .open(self.partial_path(hash))?;
        file.set_len(len)?;
        file.sync_all()
    }

    /// Hashes the finished upload; if it has the hash it was sent under, moves it into place
    /// durably and returns true, otherwise deletes it and returns false.
    pub fn finish(&self, hash: &str) -> io::Result<bool> {
        let partial = self.partial_path(hash);
        let mut file = File::open(&partial)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        if hex::encode(hasher.finalize()) != hash {
            fs::remove_file(&partial)?;
            return Ok(false);
        }
        fs::rename(&partial, self.path(hash))?;
        File::open(&self.dir)?.sync_all()?;
        Ok(true)
    }
}
