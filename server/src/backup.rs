//! Backups of a data directory, taken while the server serves, verified without restoring,
//! and restored into an empty directory.
//!
//! An archive is one tar file:
//! - `store.bin`: every record of the store, tree by tree (`[tree length: u8][tree]
//!   [key length: u32 BE][key][value length: u32 BE][value]` each), exported while no push
//!   runs, so the documents are consistent with each other;
//! - `blobs/HASH`: the photos, each named by the SHA-256 of its bytes (which is its checksum);
//! - `manifest.json`, last: what the archive holds and the SHA-256 of `store.bin`, which
//!   photos it carries and which it leaves to its base.
//!
//! Photos never change once stored, so an incremental backup (`--base` an earlier archive)
//! carries only the photos its base does not; restoring it needs the base too. An archive is
//! written beside its final name and renamed into place once complete and flushed, so a name
//! never holds half a backup.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::blobs::BlobFiles;
use crate::store::{SledStore, Storage, StoreError};

/// What an archive's manifest says it is.
pub const KIND: &str = "zonepatrol-backup";
/// The archive layout this server writes and reads.
pub const VERSION: u32 = 1;
/// The most archives an incremental one may build on.
const MAX_BASES: usize = 8;
/// The largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 256 * 1024 * 1024;
/// The largest record a store export holds (a document's bytes are far less).
const MAX_RECORD_BYTES: u32 = 512 * 1024 * 1024;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: io::Error,
    },
    /// The store failed.
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    /// The archive is not one of ours, or is damaged.
    #[error("{0}")]
    Bad(String),
    /// The request cannot be done as asked.
    #[error("{0}")]
    Refused(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// A photo as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoEntry {
    /// Its SHA-256, hex.
    pub hash: String,
    /// Its size.
    pub bytes: u64,
    /// Whether this archive carries it (else its base does).
    pub here: bool,
}

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`KIND`].
    pub kind: String,
    /// [`VERSION`].
    pub version: u32,
    /// The data directory's format when it was taken (see `store::format`).
    pub data_format: u32,
    /// The server that wrote it.
    pub server_version: String,
    /// When (ms since the Unix epoch).
    pub created_at: i64,
    /// Records in `store.bin`.
    pub records: u64,
    /// `store.bin`'s size.
    pub store_bytes: u64,
    /// `store.bin`'s SHA-256, hex.
    pub store_sha256: String,
    /// Every photo the store knows.
    pub photos: Vec<PhotoEntry>,
    /// For an incremental archive, the SHA-256 of its base's manifest.
    pub base: Option<String>,
    /// Photos the store knows whose file was missing or damaged when the backup was taken.
    #[serde(default)]
    pub missing_photos: Vec<String>,
}

impl Manifest {
    /// A line for people.
    pub fn summary(&self) -> String {
        let here = self.photos.iter().filter(|p| p.here).count();
        format!(
            "{} records, {} photos ({here} in this archive{}){}",
            self.records,
            self.photos.len(),
            if self.base.is_some() {
                ", the rest in its base"
            } else {
                ""
            },
            if self.missing_photos.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} photos were missing or damaged on disk and are not in it",
                    self.missing_photos.len()
                )
            }
        )
    }
}

/// SHA-256 of bytes, hex.
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A writer that hashes and counts what goes through.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes and counts what goes through.
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Where an archive asked for at `to` really goes (links and `..` resolved), refused inside
/// the data directory or with no directory of its own.
pub fn destination(data: &Path, to: &Path) -> Result<PathBuf, BackupError> {
    let refuse = |why: &str| Err(BackupError::Refused(format!("{}: {why}", to.display())));
    if !to.is_absolute() {
        return refuse("name the backup with an absolute path");
    }
    let (Some(parent), Some(name)) = (to.parent(), to.file_name()) else {
        return refuse("name the backup's file, with its directory");
    };
    let (Ok(parent), Ok(data)) = (std::fs::canonicalize(parent), std::fs::canonicalize(data))
    else {
        return refuse("the backup's directory does not exist: create it first");
    };
    if parent.starts_with(&data) {
        return refuse("the backup goes to a path outside the data directory");
    }
    Ok(parent.join(name))
}

/// Creates a file that must not exist yet, readable by its owner only: a backup holds every
/// record, the photos and the password hashes.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).read(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn tmp_beside(path: &Path, tail: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_owned()).unwrap_or_default();
    name.push(tail);
    path.with_file_name(name)
}

/// Takes a backup of `store` and `blobs` into the archive `to` (which must not exist).
/// `quiet` is held while the store is exported: the caller's guard that stops pushes. With a
/// `base` archive, photos it lists are left to it.
pub fn take<G>(
    store: &dyn Storage,
    blobs: &BlobFiles,
    data_format: u32,
    to: &Path,
    base: Option<&Path>,
    quiet: impl FnOnce() -> G,
) -> Result<Manifest, BackupError> {
    if to.exists() {
        return Err(BackupError::Refused(format!(
            "{} exists already: name a new file for the backup",
            to.display()
        )));
    }
    let (base_photos, base_hash) = match base {
        Some(base) => {
            let (manifest, raw) = read_manifest(base)?;
            let photos: BTreeSet<String> = manifest.photos.into_iter().map(|p| p.hash).collect();
            (photos, Some(sha256_hex(&raw)))
        }
        None => (BTreeSet::new(), None),
    };
    let store_tmp = tmp_beside(to, ".store.tmp");
    let archive_tmp = tmp_beside(to, ".tmp");
    // Only files this run created are removed afterwards.
    let created = std::cell::RefCell::new(Vec::<PathBuf>::new());
    let create = |path: &Path| -> Result<File, BackupError> {
        let file = create_private(path).map_err(io_err(format!(
            "cannot create {} (a file of that name may be left from an earlier run: remove it)",
            path.display()
        )))?;
        created.borrow_mut().push(path.to_owned());
        Ok(file)
    };
    let result = (|| {
        // The store, exported while no push runs.
        let file = create(&store_tmp)?;
        let mut out = Hashing {
            inner: BufWriter::new(file),
            hash: Sha256::new(),
            bytes: 0,
        };
        let mut photos: Vec<String> = Vec::new();
        let records = {
            let _quiet = quiet();
            store.export(&mut |tree, key, value| {
                if tree == "blobs" {
                    photos.push(String::from_utf8_lossy(key).into_owned());
                }
                let too_long = |n: usize| u32::try_from(n).map_or(true, |n| n > MAX_RECORD_BYTES);
                if tree.len() > 255 || too_long(key.len()) || too_long(value.len()) {
                    return Err(io::Error::other("a record too large to back up"));
                }
                out.write_all(&[tree.len() as u8])?;
                out.write_all(tree.as_bytes())?;
                out.write_all(&(key.len() as u32).to_be_bytes())?;
                out.write_all(key)?;
                out.write_all(&(value.len() as u32).to_be_bytes())?;
                out.write_all(value)
            })?
        };
        out.flush()
            .map_err(io_err("cannot write the store's copy"))?;
        let (store_bytes, store_sha256) = (out.bytes, hex::encode(out.hash.finalize()));
        drop(out.inner);

        let file = create(&archive_tmp)?;
        let mut tar = tar::Builder::new(BufWriter::new(file));
        tar.mode(tar::HeaderMode::Deterministic);
        let mut store_file =
            File::open(&store_tmp).map_err(io_err("cannot read the store's copy"))?;
        append(&mut tar, "store.bin", store_bytes, &mut store_file)?;
        let mut entries = Vec::new();
        let mut missing = Vec::new();
        for hash in photos {
            let Some(size) = std::fs::metadata(blobs.path(&hash)).ok().map(|m| m.len()) else {
                missing.push(hash);
                continue;
            };
            if base_photos.contains(&hash) {
                entries.push(PhotoEntry {
                    hash,
                    bytes: size,
                    here: false,
                });
                continue;
            }
            // The name is the checksum: a file whose bytes do not match is damaged on disk
            // and left out (said in the manifest), not copied as if it were good.
            let bytes = std::fs::read(blobs.path(&hash))
                .map_err(io_err(format!("cannot read photo {hash}")))?;
            if sha256_hex(&bytes) != hash {
                missing.push(hash);
                continue;
            }
            append(
                &mut tar,
                &format!("blobs/{hash}"),
                bytes.len() as u64,
                &mut &bytes[..],
            )?;
            entries.push(PhotoEntry {
                hash,
                bytes: bytes.len() as u64,
                here: true,
            });
        }
        let manifest = Manifest {
            kind: KIND.to_owned(),
            version: VERSION,
            data_format,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: crate::now_millis(),
            records,
            store_bytes,
            store_sha256,
            photos: entries,
            base: base_hash,
            missing_photos: missing,
        };
        let raw = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        append(&mut tar, "manifest.json", raw.len() as u64, &mut &raw[..])?;
        let file = tar
            .into_inner()
            .map_err(io_err("cannot finish the archive"))?
            .into_inner()
            .map_err(|e| BackupError::Io {
                what: "cannot finish the archive".into(),
                source: e.into_error(),
            })?;
        file.sync_all()
            .map_err(io_err("cannot flush the archive"))?;
        // The final name must still be free: never replace a file that appeared meanwhile. A
        // file system without hard links (a USB drive, a share) gets a rename once the name is
        // seen free.
        match std::fs::hard_link(&archive_tmp, to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(BackupError::Refused(format!(
                    "{} appeared while the backup was taken: name a new file",
                    to.display()
                )));
            }
            Err(_) if !to.exists() => std::fs::rename(&archive_tmp, to)
                .map_err(io_err(format!("cannot name the archive {}", to.display())))?,
            Err(e) => {
                return Err(io_err(format!("cannot name the archive {}", to.display()))(
                    e,
                ));
            }
        }
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(manifest)
    })();
    for path in created.borrow().iter() {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn append(
    tar: &mut tar::Builder<BufWriter<File>>,
    name: &str,
    size: u64,
    data: &mut dyn Read,
) -> Result<(), BackupError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data)
        .map_err(io_err(format!("cannot write {name} into the archive")))
}

fn not_ours(path: &Path, why: impl std::fmt::Display) -> BackupError {
    BackupError::Bad(format!(
        "{} is not a Zone Patrol backup, or it is damaged ({why})",
        path.display()
    ))
}

/// Reads an archive's manifest (and its raw bytes, whose hash names it as a base).
pub fn read_manifest(path: &Path) -> Result<(Manifest, Vec<u8>), BackupError> {
    let file = File::open(path).map_err(io_err(format!("cannot read {}", path.display())))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let entries = archive.entries().map_err(|e| not_ours(path, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| not_ours(path, e))?;
        let name = entry.path().map_err(|e| not_ours(path, e))?.into_owned();
        if name == Path::new("manifest.json") {
            if entry.size() > MAX_MANIFEST_BYTES {
                return Err(not_ours(path, "its manifest is too large"));
            }
            let mut raw = Vec::new();
            entry.read_to_end(&mut raw).map_err(|e| not_ours(path, e))?;
            let manifest: Manifest = serde_json::from_slice(&raw).map_err(|e| not_ours(path, e))?;
            if manifest.kind != KIND {
                return Err(not_ours(path, "its manifest is of another kind"));
            }
            if manifest.version > VERSION {
                return Err(BackupError::Bad(format!(
                    "{} was written by a newer server (archive version {}; this one reads up to \
                     {VERSION}): restore it with that server or a newer one",
                    path.display(),
                    manifest.version
                )));
            }
            return Ok((manifest, raw));
        }
    }
    Err(not_ours(path, "it has no manifest"))
}

/// Reads the whole archive and checks every entry against the manifest: the store's
/// checksum, every photo's bytes against its name, every photo the manifest says is here.
/// Photos left to a base are checked in `bases` (each verified the same way) when given.
pub fn verify(path: &Path, bases: &[PathBuf]) -> Result<Manifest, BackupError> {
    let manifest = check_archive(path)?;
    let elsewhere: Vec<&PhotoEntry> = manifest.photos.iter().filter(|p| !p.here).collect();
    if !elsewhere.is_empty() {
        if bases.len() > MAX_BASES {
            return Err(BackupError::Refused(format!(
                "at most {MAX_BASES} bases: take a full backup now and then"
            )));
        }
        // Each base is checked once, on its own; together they must carry every photo this
        // archive leaves to them (a base's own bases are among them).
        let mut in_bases = BTreeSet::new();
        for base in bases {
            let m = check_archive(base)?;
            in_bases.extend(m.photos.into_iter().filter(|p| p.here).map(|p| p.hash));
        }
        if let Some(p) = elsewhere.iter().find(|p| !in_bases.contains(&p.hash)) {
            return Err(BackupError::Refused(format!(
                "{} is incremental: photo {} is in a base that was not given (--base FILE, \
                 each archive it builds on)",
                path.display(),
                p.hash
            )));
        }
    }
    Ok(manifest)
}

/// Checks one archive on its own: every entry against its manifest.
fn check_archive(path: &Path) -> Result<Manifest, BackupError> {
    let (manifest, _) = read_manifest(path)?;
    let file = File::open(path).map_err(io_err(format!("cannot read {}", path.display())))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut seen_store = None;
    let mut photos_here = BTreeSet::new();
    let mut names = BTreeSet::new();
    for entry in archive.entries().map_err(|e| not_ours(path, e))? {
        let entry = entry.map_err(|e| not_ours(path, e))?;
        let name = entry
            .path()
            .map_err(|e| not_ours(path, e))?
            .to_string_lossy()
            .into_owned();
        if !names.insert(name.clone()) {
            return Err(not_ours(path, format!("{name} is in it twice")));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(not_ours(path, format!("{name} is not a plain file")));
        }
        let mut reader = HashingReader {
            inner: entry,
            hash: Sha256::new(),
            bytes: 0,
        };
        io::copy(&mut reader, &mut io::sink()).map_err(|e| not_ours(path, e))?;
        let hash = hex::encode(reader.hash.finalize());
        if name == "store.bin" {
            seen_store = Some((reader.bytes, hash));
        } else if let Some(photo) = name.strip_prefix("blobs/") {
            if photo != hash {
                return Err(not_ours(path, format!("photo {photo} is damaged")));
            }
            photos_here.insert(hash);
        }
    }
    match seen_store {
        Some((bytes, hash)) if bytes == manifest.store_bytes && hash == manifest.store_sha256 => {}
        Some(_) => return Err(not_ours(path, "the store's copy is damaged")),
        None => return Err(not_ours(path, "the store's copy is missing")),
    }
    for p in manifest.photos.iter().filter(|p| p.here) {
        if !photos_here.contains(&p.hash) {
            return Err(not_ours(path, format!("photo {} is missing", p.hash)));
        }
    }
    Ok(manifest)
}

/// Restores an archive (and the bases an incremental one needs) into `data`, which must be
/// empty or absent. Everything is verified before anything is written.
pub fn restore(from: &Path, bases: &[PathBuf], data: &Path) -> Result<Manifest, BackupError> {
    let refuse = |why: &str| {
        Err(BackupError::Refused(format!(
            "{}: {why}: restore into a new, empty directory (nothing was changed)",
            data.display()
        )))
    };
    if data.file_name().is_none() {
        return refuse("that names no directory of its own");
    }
    match std::fs::symlink_metadata(data) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return refuse(&e.to_string()),
        Ok(m) if !m.is_dir() => return refuse("it is not a directory"),
        Ok(_) => {
            let mut entries = std::fs::read_dir(data)
                .map_err(io_err(format!("cannot read {}", data.display())))?;
            if entries.next().is_some() {
                return refuse("it is not empty");
            }
        }
    }
    let (manifest, _) = read_manifest(from)?;
    if manifest.data_format > crate::store::format::CURRENT {
        return Err(BackupError::Refused(format!(
            "{} holds a data directory of format {}, newer than this server reads ({}): restore \
             it with the server that took it, or a newer one",
            from.display(),
            manifest.data_format,
            crate::store::format::CURRENT
        )));
    }
    let manifest = verify(from, bases)?;
    // Restored in place (a mount point, a directory made with its owner and mode, stay as
    // they are) under a marker that no server starts on; the marker goes last.
    std::fs::create_dir_all(data).map_err(io_err(format!("cannot create {}", data.display())))?;
    let marker = data.join(crate::store::format::RESTORING);
    std::fs::write(&marker, b"a restore is under way, or stopped halfway\n")
        .map_err(io_err(format!("cannot write {}", marker.display())))?;
    restore_into(from, bases, data, &manifest)?;
    std::fs::remove_file(&marker).map_err(io_err(format!("cannot remove {}", marker.display())))?;
    Ok(manifest)
}

fn restore_into(
    from: &Path,
    bases: &[PathBuf],
    data: &Path,
    manifest: &Manifest,
) -> Result<(), BackupError> {
    std::fs::create_dir_all(data).map_err(io_err(format!("cannot create {}", data.display())))?;
    let store = SledStore::open(&data.join("store"))?;
    // Photo records without their photo (missing when the backup was taken) are left out, so
    // that the phones that hold the photo send it again.
    let photos: BTreeSet<String> = manifest.photos.iter().map(|p| p.hash.clone()).collect();
    let blobs = BlobFiles::open(&data.join("blobs")).map_err(io_err(format!(
        "cannot create {}",
        data.join("blobs").display()
    )))?;
    let mut wanted: BTreeMap<String, bool> = manifest
        .photos
        .iter()
        .map(|p| (p.hash.clone(), false))
        .collect();
    for (archive, is_main) in
        std::iter::once((from, true)).chain(bases.iter().map(|b| (b.as_path(), false)))
    {
        let file =
            File::open(archive).map_err(io_err(format!("cannot read {}", archive.display())))?;
        let mut tar = tar::Archive::new(BufReader::new(file));
        for entry in tar.entries().map_err(|e| not_ours(archive, e))? {
            let mut entry = entry.map_err(|e| not_ours(archive, e))?;
            let name = entry
                .path()
                .map_err(|e| not_ours(archive, e))?
                .to_string_lossy()
                .into_owned();
            if name == "store.bin" && is_main {
                import_store(&store, &mut entry, &photos).map_err(|e| not_ours(archive, e))?;
            } else if let Some(hash) = name.strip_prefix("blobs/") {
                let Some(done) = wanted.get_mut(hash) else {
                    continue;
                };
                if *done {
                    continue;
                }
                let target = blobs.path(hash);
                let tmp = tmp_beside(&target, ".restoring");
                let mut out = File::create(&tmp)
                    .map_err(io_err(format!("cannot write {}", tmp.display())))?;
                io::copy(&mut entry, &mut out).map_err(|e| not_ours(archive, e))?;
                out.sync_all()
                    .map_err(io_err(format!("cannot flush {}", tmp.display())))?;
                std::fs::rename(&tmp, &target)
                    .map_err(io_err(format!("cannot write {}", target.display())))?;
                *done = true;
            }
        }
    }
    store.after_import()?;
    store.flush()?;
    drop(store);
    crate::store::format::write(data, manifest.data_format).map_err(io_err(format!(
        "cannot write the format of {}",
        data.display()
    )))?;
    Ok(())
}

fn import_store(
    store: &SledStore,
    from: &mut dyn Read,
    photos: &BTreeSet<String>,
) -> io::Result<u64> {
    let mut r = BufReader::new(from);
    let mut n = 0;
    loop {
        let mut len = [0u8; 1];
        if r.read(&mut len)? == 0 {
            return Ok(n);
        }
        let mut tree = vec![0u8; usize::from(len[0])];
        r.read_exact(&mut tree)?;
        let key = read_chunk(&mut r)?;
        let value = read_chunk(&mut r)?;
        let tree = String::from_utf8(tree).map_err(io::Error::other)?;
        if tree == "blobs" && !photos.contains(String::from_utf8_lossy(&key).as_ref()) {
            continue;
        }
        store
            .import(&tree, &key, &value)
            .map_err(io::Error::other)?;
        n += 1;
    }
}

fn read_chunk(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len);
    if len > MAX_RECORD_BYTES {
        return Err(io::Error::other("a record longer than any the store holds"));
    }
    let mut out = vec![0u8; len as usize];
    r.read_exact(&mut out)?;
    Ok(out)
}
