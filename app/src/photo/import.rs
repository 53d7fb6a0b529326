//! Adding a photo to the store: the file is read, the pipeline runs off the UI thread, one photo
//! at a time, and the store keeps both files and the record.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::{DECODER_FAILED, PhotoError, PhotoSettings, process};
use crate::store::{PhotoRecord, Repo};

/// Reads a photo file, refusing one over the limit before reading it.
pub fn read_file(path: &Path, settings: &PhotoSettings) -> Result<Vec<u8>, PhotoError> {
    let file = std::fs::File::open(path).map_err(PhotoError::Read)?;
    let size = file.metadata().map_err(PhotoError::Read)?.len();
    settings.check_file_size(size)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // The file may grow while it is read: never take more than the limit and one byte.
    file.take(settings.max_file_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(PhotoError::Read)?;
    Ok(bytes)
}

/// Only one photo is decoded at a time, so memory stays bounded when many are picked at once.
static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Processes a photo off the UI thread and stores it; returns what documents keep.
pub async fn import(
    repo: Arc<Repo>,
    bytes: Vec<u8>,
    settings: PhotoSettings,
) -> Result<PhotoRecord, PhotoError> {
    in_turn(move || {
        let photo = process(&bytes, &settings)?;
        Ok(repo.add_photo(&photo)?)
    })
    .await
}

/// Like [`import`], for a file the user picked: it is read off the UI thread too, and a file
/// over the limit is refused before it is read.
pub async fn import_file(
    repo: Arc<Repo>,
    path: std::path::PathBuf,
    settings: PhotoSettings,
) -> Result<PhotoRecord, PhotoError> {
    in_turn(move || {
        let bytes = read_file(&path, &settings)?;
        let photo = process(&bytes, &settings)?;
        Ok(repo.add_photo(&photo)?)
    })
    .await
}

async fn in_turn(
    work: impl FnOnce() -> Result<PhotoRecord, PhotoError> + Send + 'static,
) -> Result<PhotoRecord, PhotoError> {
    let turn = ONE_AT_A_TIME
        .acquire()
        .await
        .map_err(|_| PhotoError::Interrupted)?;
    // The turn goes with the work, so a caller that stops waiting does not let the next photo
    // start while this one is still being decoded.
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|e| {
        if e.is_panic() {
            PhotoError::Corrupt {
                why: DECODER_FAILED.into(),
            }
        } else {
            PhotoError::Interrupted
        }
    })?
}
