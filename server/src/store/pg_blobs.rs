//! Blobs in the PostgreSQL database ([`PgBlobs`]), beside the store's tables: a stored photo
//! is a row of `blob_files`; an unfinished upload is a row of `uploads` (its declared length,
//! when it last grew) and its bytes are rows of `upload_parts`, one per piece as it arrived,
//! each committed before the next is read from the network, so that any instance continues an
//! upload another began.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::StoreError;
use super::pg_store::{PgStore, engine};
use crate::blobs::{BlobBody, Blobs, Upload};

/// How many bytes of an upload are gathered before they are written as one part.
const PART: usize = 1024 * 1024;

/// The bytes held of an upload: its parts, while its row says it is under way.
const HELD: &str = "select coalesce(sum(octet_length(p.bytes)), 0)::bigint from upload_parts p \
     join uploads u on u.owner = p.owner and u.hash = p.hash where p.owner = $1 and p.hash = $2";

/// Blobs kept in a PostgreSQL store's database (its schema, for a mine of a group).
#[derive(Clone)]
pub struct PgBlobs {
    store: Arc<PgStore>,
}

impl std::fmt::Debug for PgBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBlobs").finish_non_exhaustive()
    }
}

fn io_err(e: StoreError) -> io::Error {
    io::Error::other(e.to_string())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn len_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl PgBlobs {
    /// The blobs of a store's database.
    pub fn new(store: Arc<PgStore>) -> PgBlobs {
        PgBlobs { store }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, StoreError>,
    ) -> io::Result<T> {
        self.store.with(f).map_err(io_err)
    }

    /// Takes in the photo files a server of an earlier version kept in `dir` beside the
    /// database (each checked against its name; one that cannot be read is left, and said);
    /// returns how many were new. A directory taken in whole is marked with the time, and
    /// the next start reads only the files written since (an instance of the earlier version
    /// still running during an upgrade may add some).
    pub fn take_in(&self, dir: &std::path::Path) -> io::Result<usize> {
        let marker = dir.join(TAKEN_IN);
        let started = std::time::SystemTime::now();
        // An hour's margin for clocks and files being written when the mark was made.
        let since = std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.checked_sub(Duration::from_secs(3600)));
        let mut taken = 0;
        let mut left = 0;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let Ok(hash) = entry.file_name().into_string() else {
                continue;
            };
            if !zonepatrol_shared::docs::values::is_sha256_hex(&hash) {
                continue;
            }
            let written = entry.metadata().and_then(|m| m.modified()).ok();
            if since.is_some_and(|since| written.is_some_and(|w| w < since)) || self.has(&hash) {
                continue;
            }
            match std::fs::read(entry.path()) {
                Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == hash => {
                    self.put(&hash, &bytes)?;
                    taken += 1;
                }
                Ok(_) => {
                    tracing::warn!(%hash, "a photo file does not match its name: not taken in");
                    left += 1;
                }
                Err(e) => {
                    tracing::warn!(%hash, error = %e, "a photo file could not be read: not taken in");
                    left += 1;
                }
            }
        }
        if left == 0 {
            // Best effort: a read-only directory is read whole again at the next start.
            let marked = std::fs::write(&marker, "every photo here is in the database\n")
                .and_then(|()| std::fs::File::options().write(true).open(&marker))
                .and_then(|f| f.set_modified(started));
            if let Err(e) = marked {
                tracing::debug!(error = %e, "the photo directory could not be marked taken in");
            }
        }
        Ok(taken)
    }
}

/// The file that marks a photo directory taken into the database.
pub const TAKEN_IN: &str = "TAKEN-INTO-DATABASE";

/// Writes an upload down with its declared length: `afresh` drops what this user held of it
/// first (another length was declared), else a row another request wrote meanwhile stays (and
/// the position check after it refuses the later writer). The user's oldest unfinished
/// uploads beyond `keep` go; one user's registrations take turns, so the bound holds.
fn register(
    tx: &mut postgres::Transaction<'_>,
    lock: i64,
    (user, hash, length): (&str, &str, u64),
    keep: i64,
    now: i64,
    afresh: bool,
) -> Result<(), StoreError> {
    let length = i64::try_from(length).unwrap_or(i64::MAX);
    tx.execute(
        "select pg_advisory_xact_lock(hashtextextended($1, $2))",
        &[&user, &lock],
    )
    .map_err(engine)?;
    if afresh {
        for table in ["upload_parts", "uploads"] {
            tx.execute(
                &format!("delete from {table} where owner = $1 and hash = $2"),
                &[&user, &hash],
            )
            .map_err(engine)?;
        }
    }
    let old = tx
        .query(
            "select hash from uploads where owner = $1 and hash <> $2 \
             order by touched_at desc offset $3",
            &[&user, &hash, &keep],
        )
        .map_err(engine)?;
    for row in old {
        let old: String = row.get(0);
        tracing::info!(%user, hash = %old, "dropped the oldest unfinished upload");
        for table in ["upload_parts", "uploads"] {
            tx.execute(
                &format!("delete from {table} where owner = $1 and hash = $2"),
                &[&user, &old],
            )
            .map_err(engine)?;
        }
    }
    tx.execute(
        "insert into uploads (owner, hash, length, touched_at) values ($1, $2, $3, $4) \
         on conflict (owner, hash) do nothing",
        &[&user, &hash, &length, &now],
    )
    .map_err(engine)?;
    Ok(())
}

impl PgBlobs {
    /// An upload under way: its declared length and the bytes held, in one query.
    fn under_way(&self, user: &str, hash: &str) -> io::Result<Option<(u64, u64)>> {
        self.with(|c| {
            Ok(c.query_opt(
                "select u.length, (select coalesce(sum(octet_length(p.bytes)), 0)::bigint \
                 from upload_parts p where p.owner = u.owner and p.hash = u.hash) \
                 from uploads u where u.owner = $1 and u.hash = $2",
                &[&user, &hash],
            )
            .map_err(engine)?
            .map(|row| (len_of(row.get(0)), len_of(row.get(1)))))
        })
    }
}

/// An upload into the database: bytes gathered into parts of [`PART`] bytes, each written (and
/// committed) when full and on [`Upload::sync`].
struct PgUpload<'a> {
    blobs: &'a PgBlobs,
    user: String,
    hash: String,
    /// Where the gathered bytes start.
    at: u64,
    /// The length the upload declared.
    length: u64,
    /// How many of the user's other unfinished uploads it may keep.
    keep: i64,
    /// Whether the upload is written down (`uploads`): a new one is, with its first part.
    registered: bool,
    gathered: Vec<u8>,
}

impl PgUpload<'_> {
    fn write_part(&mut self) -> io::Result<()> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let at = i64::try_from(self.at).unwrap_or(i64::MAX);
        let now = crate::now_millis();
        let (user, hash, bytes) = (&self.user, &self.hash, &self.gathered);
        let (registered, length, keep) = (self.registered, self.length, self.keep);
        let lock = self.blobs.store.upload_lock();
        let written = self.blobs.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            if !registered {
                register(&mut tx, lock, (user, hash, length), keep, now, false)?;
            }
            // The upload's row, locked: a request writing the same upload on another instance
            // waits, and one that began at another place is refused, never interleaved.
            let found = tx
                .query_opt(
                    "select 1 from uploads where owner = $1 and hash = $2 for update",
                    &[user, hash],
                )
                .map_err(engine)?;
            if found.is_none() {
                return Ok(Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the upload was dropped meanwhile: send it again from byte 0",
                )));
            }
            let held: i64 = tx.query_one(HELD, &[user, hash]).map_err(engine)?.get(0);
            if held != at {
                return Ok(Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "another request wrote this upload meanwhile ({held} bytes held, not {at})"
                    ),
                )));
            }
            tx.execute(
                "insert into upload_parts (owner, hash, at, bytes) values ($1, $2, $3, $4)",
                &[user, hash, &at, bytes],
            )
            .map_err(engine)?;
            tx.execute(
                "update uploads set touched_at = $3 where owner = $1 and hash = $2",
                &[user, hash, &now],
            )
            .map_err(engine)?;
            tx.commit().map_err(engine)?;
            Ok(Ok(()))
        })?;
        written?;
        self.registered = true;
        self.at += self.gathered.len() as u64;
        self.gathered.clear();
        Ok(())
    }
}

impl Drop for PgUpload<'_> {
    fn drop(&mut self) {
        // A request dropped before its end (the server stopping) keeps what it gathered.
        if let Err(e) = self.write_part() {
            tracing::warn!(error = %e, "the last bytes of an unfinished upload were not kept");
        }
    }
}

impl Upload for PgUpload<'_> {
    fn at(&self) -> u64 {
        self.at + self.gathered.len() as u64
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.gathered.extend_from_slice(bytes);
        if self.gathered.len() >= PART {
            self.write_part()?;
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.write_part()
    }

    fn complete(&mut self, hash: &str) -> io::Result<Option<bool>> {
        // Only an upload whose every byte came in this request is held whole here.
        if self.at != 0 || self.gathered.len() as u64 != self.length {
            return Ok(None);
        }
        // Taken first: whatever happens next, nothing is written again when dropped.
        let gathered = std::mem::take(&mut self.gathered);
        let matched = hex::encode(Sha256::digest(&gathered)) == hash;
        let now = crate::now_millis();
        let (user, bytes, registered) = (&self.user, &gathered, self.registered);
        self.blobs.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            if matched {
                tx.execute(
                    "insert into blob_files (hash, bytes, stored_at) values ($1, $2, $3) \
                     on conflict (hash) do update set stored_at = excluded.stored_at",
                    &[&hash, bytes, &now],
                )
                .map_err(engine)?;
            }
            // A new upload was never written down: nothing of it to remove.
            for table in ["upload_parts", "uploads"]
                .into_iter()
                .filter(|_| registered)
            {
                tx.execute(
                    &format!("delete from {table} where owner = $1 and hash = $2"),
                    &[user, &hash],
                )
                .map_err(engine)?;
            }
            tx.commit().map_err(engine)
        })?;
        Ok(Some(matched))
    }
}

impl Blobs for PgBlobs {
    fn has(&self, hash: &str) -> bool {
        self.with(|c| {
            c.query_opt("select 1 from blob_files where hash = $1", &[&hash])
                .map_err(engine)
        })
        .inspect_err(|e| tracing::warn!(error = %e, "could not look up a photo"))
        .is_ok_and(|row| row.is_some())
    }

    fn read(&self, hash: &str) -> io::Result<Option<BlobBody>> {
        // A photo (a few hundred kilobytes) in one query; anything larger a piece at a time
        // (the bytes are kept uncompressed, so a piece reads only its own pages).
        let piece = i64::try_from(PART).unwrap_or(i64::MAX);
        let found = self.with(|c| {
            Ok(c.query_opt(
                "select octet_length(bytes)::bigint, \
                 case when octet_length(bytes) <= $2::bigint then bytes end \
                 from blob_files where hash = $1",
                &[&hash, &piece],
            )
            .map_err(engine)?
            .map(|row| (len_of(row.get(0)), row.get::<_, Option<Vec<u8>>>(1))))
        })?;
        Ok(match found {
            None => None,
            Some((_, Some(bytes))) => Some(BlobBody::Bytes(bytes)),
            Some((len, None)) => {
                let store = self.store.clone();
                let hash = hash.to_owned();
                let mut from: i64 = 1;
                let end = i64::try_from(len).unwrap_or(i64::MAX);
                let next = move || -> io::Result<Option<Vec<u8>>> {
                    if from > end {
                        return Ok(None);
                    }
                    let bytes: Option<Vec<u8>> = store
                        .with(|c| {
                            Ok(c.query_opt(
                                "select substring(bytes from ($2::bigint)::integer for ($3::bigint)::integer) \
                                 from blob_files where hash = $1",
                                &[&hash, &from, &piece],
                            )
                            .map_err(engine)?
                            .map(|row| row.get(0)))
                        })
                        .map_err(io_err)?;
                    let bytes = bytes.ok_or_else(|| {
                        io::Error::new(io::ErrorKind::NotFound, "the photo was removed meanwhile")
                    })?;
                    if bytes.is_empty() {
                        return Ok(None);
                    }
                    from += i64::try_from(bytes.len()).unwrap_or(i64::MAX);
                    Ok(Some(bytes))
                };
                Some(BlobBody::Pieces(Box::new(next), len))
            }
        })
    }

    fn size(&self, hash: &str) -> io::Result<Option<u64>> {
        self.with(|c| {
            Ok(c.query_opt(
                "select octet_length(bytes)::bigint from blob_files where hash = $1",
                &[&hash],
            )
            .map_err(engine)?
            .map(|row| len_of(row.get(0))))
        })
    }

    fn put(&self, hash: &str, bytes: &[u8]) -> io::Result<()> {
        let now = crate::now_millis();
        self.with(|c| {
            c.execute(
                "insert into blob_files (hash, bytes, stored_at) values ($1, $2, $3) \
                 on conflict (hash) do update set stored_at = excluded.stored_at",
                &[&hash, &bytes, &now],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn partial_len(&self, user: &str, hash: &str) -> io::Result<u64> {
        self.with(|c| {
            let row = c.query_one(HELD, &[&user, &hash]).map_err(engine)?;
            Ok(len_of(row.get(0)))
        })
    }

    fn declared_len(&self, user: &str, hash: &str) -> io::Result<Option<u64>> {
        self.with(|c| {
            Ok(c.query_opt(
                "select length from uploads where owner = $1 and hash = $2",
                &[&user, &hash],
            )
            .map_err(engine)?
            .map(|row| len_of(row.get(0))))
        })
    }

    fn begin(
        &self,
        user: &str,
        hash: &str,
        length: u64,
        max_uploads: usize,
    ) -> io::Result<Box<dyn Upload + Send + '_>> {
        let now = crate::now_millis();
        let keep = i64::try_from(max_uploads.max(1) - 1).unwrap_or(0);
        let found = self.under_way(user, hash)?;
        let registered = match found {
            Some((declared, _)) if declared == length => {
                // Resumed: not stale, whenever it began.
                self.with(|c| {
                    c.execute(
                        "update uploads set touched_at = $3 where owner = $1 and hash = $2",
                        &[&user, &hash, &now],
                    )
                    .map_err(engine)
                })?;
                true
            }
            Some(_) => {
                // Another length declared before: it starts over now.
                let lock = self.store.upload_lock();
                self.with(|c| {
                    let mut tx = c.transaction().map_err(engine)?;
                    register(&mut tx, lock, (user, hash, length), keep, now, true)?;
                    tx.commit().map_err(engine)
                })?;
                true
            }
            // A new upload is written down with its first part: one sent whole in one request
            // (the usual photo) is stored by `complete` without ever being an upload.
            None => false,
        };
        let at = match found {
            Some((declared, held)) if declared == length => held,
            _ => 0,
        };
        Ok(Box::new(PgUpload {
            blobs: self,
            user: user.to_owned(),
            hash: hash.to_owned(),
            at,
            length,
            keep,
            registered,
            // What one part holds at most, and a frame past it.
            gathered: Vec::with_capacity(
                usize::try_from(length.saturating_sub(at))
                    .unwrap_or(PART)
                    .min(PART)
                    + 64 * 1024,
            ),
        }))
    }

    fn truncate(&self, user: &str, hash: &str, len: u64) -> io::Result<()> {
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            tx.execute(
                "delete from upload_parts where owner = $1 and hash = $2 and at >= $3",
                &[&user, &hash, &len],
            )
            .map_err(engine)?;
            // The part that runs past `len` keeps its bytes up to it.
            tx.execute(
                "update upload_parts set bytes = substring(bytes from 1 for ($3 - at)::integer) \
                 where owner = $1 and hash = $2 and at + octet_length(bytes) > $3",
                &[&user, &hash, &len],
            )
            .map_err(engine)?;
            tx.commit().map_err(engine)
        })
    }

    fn finish(&self, user: &str, hash: &str) -> io::Result<bool> {
        let now = crate::now_millis();
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            // Joined and hashed inside the database: the server holds none of the bytes. A
            // photo stored already is kept younger, as a new upload of it would be.
            let stored: i64 = tx
                .query_one(
                    "with whole as (select string_agg(bytes, ''::bytea order by at) as b \
                         from upload_parts where owner = $1 and hash = $2), \
                     stored as (insert into blob_files (hash, bytes, stored_at) \
                         select $2, b, $3 from whole \
                         where b is not null and encode(sha256(b), 'hex') = $2 \
                         on conflict (hash) do update set stored_at = excluded.stored_at \
                         returning 1) \
                     select count(*) from stored",
                    &[&user, &hash, &now],
                )
                .map_err(engine)?
                .get(0);
            for table in ["upload_parts", "uploads"] {
                tx.execute(
                    &format!("delete from {table} where owner = $1 and hash = $2"),
                    &[&user, &hash],
                )
                .map_err(engine)?;
            }
            tx.commit().map_err(engine)?;
            Ok(stored == 1)
        })
    }

    fn remove(&self, user: &str, hash: &str) -> io::Result<()> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            for table in ["upload_parts", "uploads"] {
                tx.execute(
                    &format!("delete from {table} where owner = $1 and hash = $2"),
                    &[&user, &hash],
                )
                .map_err(engine)?;
            }
            tx.commit().map_err(engine)
        })
    }

    fn remove_orphans(&self, keep: Duration, held: &dyn Fn(&str) -> bool) -> io::Result<usize> {
        let before = crate::now_millis().saturating_sub(millis(keep));
        let old: Vec<String> = self.with(|c| {
            Ok(c.query(
                "select hash from blob_files where stored_at < $1",
                &[&before],
            )
            .map_err(engine)?
            .into_iter()
            .map(|row| row.get(0))
            .collect())
        })?;
        let mut removed = 0;
        for hash in old.iter().filter(|h| !held(h)) {
            removed += self.with(|c| {
                c.execute(
                    "delete from blob_files where hash = $1 and stored_at < $2",
                    &[hash, &before],
                )
                .map_err(engine)
            })?;
        }
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    fn remove_stale(&self, keep: Duration) -> io::Result<usize> {
        let before = crate::now_millis().saturating_sub(millis(keep));
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            let stale = tx
                .execute("delete from uploads where touched_at < $1", &[&before])
                .map_err(engine)?;
            // Parts whose upload is gone (stale, or dropped) cannot be finished.
            tx.execute(
                "delete from upload_parts p where not exists (select 1 from uploads u \
                 where u.owner = p.owner and u.hash = p.hash)",
                &[],
            )
            .map_err(engine)?;
            tx.commit().map_err(engine)?;
            Ok(usize::try_from(stale).unwrap_or(usize::MAX))
        })
    }
}
