//! The record of each photo kept, and storing a processed photo (both files and the record,
//! all or nothing).

use std::fs;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use zonepatrol_shared::docs;

use super::blobs::{outgoing, sha256_hex};
use super::codec::{decode, decode_all, encode};
use super::{Repo, StoreError, now_millis};

/// One encoded JPEG.
#[derive(Clone, PartialEq, Eq)]
pub struct Jpeg {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl std::fmt::Debug for Jpeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Jpeg({}×{}, {} bytes)",
            self.width,
            self.height,
            self.bytes.len()
        )
    }
}

/// A processed photo, not yet stored: what the photo pipeline (`crate::photo::process`) makes
/// and [`Repo::add_photo`] keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The photo, long edge at most `PhotoSettings::long_edge`.
    pub full: Jpeg,
    /// The thumbnail, long edge at most `PhotoSettings::thumb_edge`.
    pub thumb: Jpeg,
    /// The capture time from Exif, in milliseconds since the Unix epoch.
    pub taken_at: Option<i64>,
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
            width: self.width,
            height: self.height,
            marks: Default::default(),
        }
    }
}

impl Repo {
    /// Stores a processed photo: both files, both in the outbox and its record, all or nothing.
    /// A photo already stored is not stored again; its first record is returned.
    pub fn add_photo(&self, photo: &Processed) -> Result<PhotoRecord, StoreError> {
        let _turn = self.blob_write.lock().unwrap_or_else(|e| e.into_inner());
        let full_hash = sha256_hex(&photo.full.bytes);
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
                thumb: sha256_hex(&photo.thumb.bytes),
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
}
