//! Blobs as files in the data directory, beside the embedded store.
//!
//! An upload belongs to its uploader: it appends to `blobs/partial/USER/HASH` (the folder named
//! by the hex of the user name), beside
//! `HASH.len` which holds the length the upload declared, and makes what arrived durable
//! whether the request finishes or is cut off, so the next attempt continues from where the
//! last one stopped (`HEAD` or `POST /v1/blobs/check` tell the offset). Nobody else can write
//! into it. When the declared length has arrived the server hashes the file: a match is renamed
//! to `blobs/HASH` (or dropped, if another upload stored the same bytes first) and recorded, a
//! mismatch is deleted and answered 422. Files are small enough (photos) that reading one
//! back to hash it costs less than the upload did.
//!
//! Unfinished uploads are bounded: a user has at most [`crate::Settings::uploads_per_user`] at
//! once (a new one drops that user's oldest), each at most the largest blob, and one untouched
//! for [`crate::Settings::upload_keep`] is removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// The blob files.
#[derive(Debug, Clone)]
pub struct BlobFiles {
    dir: PathBuf,
    partial: PathBuf,
}

/// The suffix of the file that holds an unfinished upload's declared length.
const LEN: &str = "len";

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

    /// Whether a blob's file is stored.
    pub fn has(&self, hash: &str) -> bool {
        self.path(hash).is_file()
    }

    /// A user's upload folder, named by the hex of the user name (a name such as `..` must
    /// not name another folder).
    fn user_dir(&self, user: &str) -> PathBuf {
        self.partial.join(hex::encode(user))
    }

    fn partial_path(&self, user: &str, hash: &str) -> PathBuf {
        self.user_dir(user).join(hash)
    }

    fn len_path(&self, user: &str, hash: &str) -> PathBuf {
        self.user_dir(user).join(format!("{hash}.{LEN}"))
    }

    /// How many bytes of `user`'s unfinished upload of `hash` are held.
    pub fn partial_len(&self, user: &str, hash: &str) -> io::Result<u64> {
        match fs::metadata(self.partial_path(user, hash)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// The length `user`'s unfinished upload of `hash` declared, if one is under way.
    pub fn declared_len(&self, user: &str, hash: &str) -> io::Result<Option<u64>> {
        match fs::read_to_string(self.len_path(user, hash)) {
            Ok(text) => Ok(text.trim().parse().ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Begins (or continues) `user`'s upload of `hash` with its declared length: an upload
    /// that declared another length starts over, and a user with `max_uploads` unfinished ones
    /// already loses the oldest. Returns the file to append to.
    fn begin_file(
        &self,
        user: &str,
        hash: &str,
        length: u64,
        max_uploads: usize,
    ) -> io::Result<File> {
        let dir = self.user_dir(user);
        fs::create_dir_all(&dir)?;
        if self.declared_len(user, hash)? != Some(length) {
            self.remove(user, hash)?;
            let mut others = self.uploads_of(user)?;
            others.sort_by_key(|(_, modified)| *modified);
            let excess = (others.len() + 1).saturating_sub(max_uploads.max(1));
            for (old, _) in others.into_iter().take(excess) {
                tracing::info!(%user, hash = %old, "dropped the oldest unfinished upload");
                self.remove(user, &old)?;
            }
            fs::write(self.len_path(user, hash), length.to_string())?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.partial_path(user, hash))
    }

    /// The hashes of `user`'s unfinished uploads, with when each last grew.
    fn uploads_of(&self, user: &str) -> io::Result<Vec<(String, SystemTime)>> {
        let mut out = Vec::new();
        let entries = match fs::read_dir(self.user_dir(user)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(hash) = name.strip_suffix(&format!(".{LEN}")) {
                let modified = fs::metadata(self.partial_path(user, hash))
                    .and_then(|m| m.modified())
                    .or_else(|_| entry.metadata().and_then(|m| m.modified()))
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                out.push((hash.to_owned(), modified));
            }
        }
        Ok(out)
    }

    /// Removes `user`'s unfinished upload of `hash`, if any.
    pub fn remove(&self, user: &str, hash: &str) -> io::Result<()> {
        for path in [self.partial_path(user, hash), self.len_path(user, hash)] {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes `user`'s upload folder if it is empty (one still in use stays).
    fn tidy(&self, user: &str) {
        let _ = fs::remove_dir(self.user_dir(user));
    }

    /// Cuts an unfinished upload back to `len` bytes (after a body that overran its length).
    pub fn truncate(&self, user: &str, hash: &str, len: u64) -> io::Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .open(self.partial_path(user, hash))?;
        file.set_len(len)?;
        file.sync_all()
    }

    /// Hashes `user`'s finished upload; if it has the hash it was sent under, moves it into
    /// place durably (or drops it, if the blob is stored already) and returns true, otherwise
    /// deletes it and returns false.
    pub fn finish(&self, user: &str, hash: &str) -> io::Result<bool> {
        let partial = self.partial_path(user, hash);
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
        drop(file);
        let matched = hex::encode(hasher.finalize()) == hash;
        if matched && !self.has(hash) {
            fs::rename(&partial, self.path(hash))?;
            File::open(&self.dir)?.sync_all()?;
        } else if matched {
            // Stored already: sent again, it is kept as long as a new one would be.
            File::options()
                .write(true)
                .open(self.path(hash))?
                .set_modified(SystemTime::now())?;
        }
        self.remove(user, hash)?;
        self.tidy(user);
        Ok(matched)
    }

    /// Removes stored photos that `held` says nothing holds and that were stored longer than
    /// `keep` ago (a phone uploads a photo before the document that points at it, and may be
    /// offline for days in between); returns how many.
    pub fn remove_orphans(&self, keep: Duration, held: &dyn Fn(&str) -> bool) -> io::Result<usize> {
        let now = SystemTime::now();
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !zonepatrol_shared::docs::values::is_sha256_hex(&name) || !entry.path().is_file() {
                continue;
            }
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| now.duration_since(t).unwrap_or_default() > keep)
                .unwrap_or(false);
            if old && !held(&name) {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes unfinished uploads untouched for longer than `keep` (and anything else left in
    /// the upload folder by an earlier version); returns how many.
    pub fn remove_stale(&self, keep: Duration) -> io::Result<usize> {
        let now = SystemTime::now();
        let stale = |path: &Path| {
            fs::metadata(path)
                .and_then(|m| m.modified())
                .map(|t| now.duration_since(t).unwrap_or_default() > keep)
                .unwrap_or(false)
        };
        let mut removed = 0;
        for entry in fs::read_dir(&self.partial)? {
            let path = entry?.path();
            if path.is_dir() {
                let user = path
                    .file_name()
                    .and_then(|n| hex::decode(n.to_string_lossy().as_bytes()).ok())
                    .and_then(|n| String::from_utf8(n).ok());
                let Some(user) = user else {
                    // Not ours: an earlier version's folder or a stray one.
                    if stale(&path) {
                        fs::remove_dir_all(&path)?;
                        removed += 1;
                    }
                    continue;
                };
                for (hash, _) in self.uploads_of(&user)? {
                    let data = self.partial_path(&user, &hash);
                    if stale(&data) || (!data.exists() && stale(&self.len_path(&user, &hash))) {
                        self.remove(&user, &hash)?;
                        removed += 1;
                    }
                }
                // Data without its declared length cannot be finished.
                for entry in fs::read_dir(&path).into_iter().flatten().flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !name.ends_with(&format!(".{LEN}"))
                        && !self.len_path(&user, &name).exists()
                        && stale(&entry.path())
                    {
                        fs::remove_file(entry.path())?;
                        removed += 1;
                    }
                }
                let _ = fs::remove_dir(&path);
            } else if stale(&path) {
                fs::remove_file(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// An upload into a file: appended as it arrives, synced when the request ends.
struct FileUpload(File, u64);

impl super::Upload for FileUpload {
    fn at(&self) -> u64 {
        self.1
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        io::Write::write_all(&mut self.0, bytes)?;
        self.1 += bytes.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl super::Blobs for BlobFiles {
    fn has(&self, hash: &str) -> bool {
        BlobFiles::has(self, hash)
    }

    fn read(&self, hash: &str) -> io::Result<Option<super::BlobBody>> {
        match File::open(self.path(hash)) {
            Ok(file) => {
                let size = file.metadata()?.len();
                Ok(Some(super::BlobBody::File(file, size)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn size(&self, hash: &str) -> io::Result<Option<u64>> {
        match fs::metadata(self.path(hash)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn put(&self, hash: &str, bytes: &[u8]) -> io::Result<()> {
        if BlobFiles::has(self, hash) {
            return File::options()
                .write(true)
                .open(self.path(hash))?
                .set_modified(SystemTime::now());
        }
        let path = self.path(hash);
        let tmp = path.with_extension("tmp");
        {
            let mut file = File::create(&tmp)?;
            io::Write::write_all(&mut file, bytes)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()
    }

    fn partial_len(&self, user: &str, hash: &str) -> io::Result<u64> {
        BlobFiles::partial_len(self, user, hash)
    }

    fn declared_len(&self, user: &str, hash: &str) -> io::Result<Option<u64>> {
        BlobFiles::declared_len(self, user, hash)
    }

    fn begin(
        &self,
        user: &str,
        hash: &str,
        length: u64,
        max_uploads: usize,
    ) -> io::Result<Box<dyn super::Upload + Send + '_>> {
        let file = self.begin_file(user, hash, length, max_uploads)?;
        let at = file.metadata()?.len();
        Ok(Box::new(FileUpload(file, at)))
    }

    fn truncate(&self, user: &str, hash: &str, len: u64) -> io::Result<()> {
        BlobFiles::truncate(self, user, hash, len)
    }

    fn finish(&self, user: &str, hash: &str) -> io::Result<bool> {
        BlobFiles::finish(self, user, hash)
    }

    fn remove(&self, user: &str, hash: &str) -> io::Result<()> {
        BlobFiles::remove(self, user, hash)
    }

    fn remove_orphans(&self, keep: Duration, held: &dyn Fn(&str) -> bool) -> io::Result<usize> {
        BlobFiles::remove_orphans(self, keep, held)
    }

    fn remove_stale(&self, keep: Duration) -> io::Result<usize> {
        BlobFiles::remove_stale(self, keep)
    }

    fn files(&self) -> Option<&BlobFiles> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stores a file as a finished blob, written `age` ago.
    fn stored(files: &BlobFiles, bytes: &[u8], age: Duration) -> String {
        let hash = hex::encode(Sha256::digest(bytes));
        fs::write(files.path(&hash), bytes).expect("write");
        let file = File::options()
            .write(true)
            .open(files.path(&hash))
            .expect("open");
        file.set_modified(SystemTime::now() - age)
            .expect("set the time");
        hash
    }

    #[test]
    fn a_photo_nothing_points_at_goes_after_its_keep_and_a_held_one_never() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = BlobFiles::open(dir.path()).expect("open");
        let day = Duration::from_secs(24 * 3600);
        let held_old = stored(&files, b"held, old", 100 * day);
        let orphan_old = stored(&files, b"orphan, old", 100 * day);
        let orphan_new = stored(&files, b"orphan, new", day);
        // Not a photo's name: not ours to judge.
        fs::write(dir.path().join("notes.txt"), b"x").expect("write");
        let held = |hash: &str| hash == held_old;
        assert_eq!(files.remove_orphans(90 * day, &held).expect("collect"), 1);
        assert!(files.has(&held_old) && files.has(&orphan_new) && !files.has(&orphan_old));
        assert!(dir.path().join("notes.txt").exists());
        assert!(
            dir.path().join("partial").is_dir(),
            "the upload folder stays"
        );
    }
}
