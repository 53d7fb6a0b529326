//! Photo files and the photo outbox. Files are in `blobs/`, named by their SHA-256; a file is
//! written to `HASH.tmp`, synced and renamed.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use zonepatrol_shared::docs::{DocId, DocKind};
use zonepatrol_shared::rules::problem::ProblemStatus;

use super::codec::{decode_all, encode};
use super::{Repo, StoreError};
use crate::index::Summary;

/// Whether a name from a document can be a photo's name (SHA-256, lowercase hex): anything
/// else is never made into a path or a request.
pub(super) fn is_hash(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A photo waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Its SHA-256, hex.
    pub hash: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The outbox entry of a file.
pub(super) fn outgoing(hash: &str, bytes: &[u8]) -> Outgoing {
    Outgoing {
        hash: hash.to_owned(),
        size: bytes.len() as u64,
    }
}

/// The name of a file: its SHA-256, hex.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Makes the blob directory if needed. A photo file cut off by a crash was never recorded:
/// what is left of it is removed. Only tidying, so nothing here stops the store from opening.
pub(super) fn open_dir(blob_dir: &Path) -> Result<PathBuf, StoreError> {
    fs::create_dir_all(blob_dir)?;
    for entry in fs::read_dir(blob_dir)?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tmp") && path.is_file() {
            let _ = fs::remove_file(&path);
        }
    }
    Ok(blob_dir.to_path_buf())
}

impl Repo {
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
    pub(super) fn write_blob(&self, bytes: &[u8]) -> Result<(String, bool), StoreError> {
        let hash = sha256_hex(bytes);
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

    /// Keeps a photo fetched from the server, checked against the name it was asked by. Not
    /// put in the outbox: the server has it.
    pub fn keep_blob(&self, hash: &str, bytes: &[u8]) -> Result<(), StoreError> {
        if sha256_hex(bytes) != hash {
            return Err(StoreError::BadRemote {
                id: format!("photo {hash}"),
                why: "its bytes do not match its name".to_owned(),
            });
        }
        let _turn = self.blob_write.lock().unwrap_or_else(|e| e.into_inner());
        self.write_blob(bytes)?;
        Ok(())
    }

    /// The thumbnails a person on this phone looks at and that are not on it: those of the
    /// branch's problems not yet closed, the finding's and the latest fix's (the holder fixing
    /// it, the secretary or inspector verifying it). Photos another phone took reach this one
    /// this way; full-size photos are not fetched.
    pub fn thumbs_missing(&self, branch: &str) -> Result<Vec<String>, StoreError> {
        let prefix = DocId::prefix(DocKind::Problem, branch);
        let mut out = Vec::new();
        for (_, summary) in self.summaries_containing(&prefix, b"")? {
            let Summary::Problem(p) = summary else {
                continue;
            };
            if p.status == ProblemStatus::Verified {
                continue;
            }
            let fix = p.last_fix.map(|f| f.thumbs).unwrap_or_default();
            for hash in p.thumbs.into_iter().chain(fix).map(|r| r.thumb) {
                if is_hash(&hash) && !self.blob_path(&hash).exists() && !out.contains(&hash) {
                    out.push(hash);
                }
            }
        }
        Ok(out)
    }

    /// Where a photo's bytes are, for a name that can be a photo's (SHA-256, lowercase hex):
    /// a damaged or empty name from a document is never made into a path.
    pub fn photo_file(&self, hash: &str) -> Option<PathBuf> {
        is_hash(hash).then(|| self.blob_path(hash))
    }

    /// Where a photo's bytes are.
    pub fn blob_path(&self, hash: &str) -> PathBuf {
        self.blob_dir.join(hash)
    }

    /// Puts photos still on the phone back in the outbox: an edit applied again may need them
    /// on the server, which removes photos nothing points at after a while. The server says
    /// which it still has; those are not sent again.
    pub(super) fn requeue_photos(&self, hashes: &[String]) -> Result<(), StoreError> {
        for hash in hashes {
            if !is_hash(hash) {
                continue;
            }
            if let Ok(meta) = fs::metadata(self.blob_path(hash)) {
                let out = Outgoing {
                    hash: hash.clone(),
                    size: meta.len(),
                };
                self.outbox.insert(hash.as_bytes(), encode(&out))?;
            }
        }
        Ok(())
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
}
