//! `migrate --from DIR --to postgres://…`: a mine's sled store moved into an empty PostgreSQL
//! database, whole or not at all, then checked: every document's heads and bytes, every
//! record the same on both sides (documents' chunks and whole heads history, actors, kept
//! facts, the sequence, accounts, sign-ins, photo records, refused changes, the
//! administrative record), every document loading to its heads, and every photo file's
//! checksum its name. A move that does not check out is emptied out of the database again. The photos stay in the data directory, which the
//! server on PostgreSQL is given for them (`--data`). The directory is marked moved, so that
//! no server serves the copy left behind by mistake.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use sha2::Digest;

use crate::store::{PgStore, SledStore, Storage, StoreError, format};

/// What was moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Records copied.
    pub records: u64,
    /// Documents, each checked by its heads and bytes.
    pub documents: usize,
    /// Accounts.
    pub users: usize,
    /// Photos, each checked by its checksum.
    pub photos: usize,
}

impl Moved {
    /// In words.
    pub fn summary(&self) -> String {
        format!(
            "{} records: {} documents, {} accounts, {} photos (every document's heads and every \
             photo's checksum checked)",
            self.records, self.documents, self.users, self.photos
        )
    }
}

/// Moves the store in `data` into the database at `url`.
/// `schema` names a mine of a group's own (`migrate --mine`).
pub fn to_postgres_in(data: &Path, url: &str, schema: Option<&str>) -> anyhow::Result<Moved> {
    let shown = crate::Database::shown(url);
    match format::found(data)? {
        format::Found::Current => {}
        format::Found::New => anyhow::bail!(
            "{} holds no Zone Patrol store: name the data directory with --from",
            data.display()
        ),
        format::Found::Older(n) => anyhow::bail!(
            "{} is of data format {n}: start this server on it once (it brings the directory to \
             format {}), stop it, then migrate",
            data.display(),
            format::CURRENT
        ),
    }
    let sled = match SledStore::open(&data.join("store")) {
        Ok(store) => store,
        Err(StoreError::Engine(sled::Error::Io(e)))
            if e.to_string().contains("could not acquire lock") =>
        {
            anyhow::bail!(
                "a server is running on {}: stop it first, so that nothing phones send during \
                 the move is left behind",
                data.display()
            )
        }
        Err(e) => return Err(e).context(format!("could not open the store in {}", data.display())),
    };
    let pg = std::sync::Arc::new(
        PgStore::open_in(url, 4, schema)
            .with_context(|| format!("could not use the database {shown}"))?,
    );
    anyhow::ensure!(
        pg.is_empty()?,
        "the database {shown} already holds a store: move a mine into an empty database \
         (nothing was changed)"
    );
    // Checked again under the database's lock when the import begins.
    let mut conn = pg.import_conn()?;
    let mut importer = conn.begin()?;
    let mut photos = Vec::new();
    sled.export(&mut |tree, key, value| {
        if tree == "blobs" {
            photos.push(String::from_utf8_lossy(key).into_owned());
        }
        importer
            .import(tree, key, value)
            .map_err(std::io::Error::other)
    })?;
    // The photos in the same transaction: a move cut off anywhere leaves the database empty.
    let files = crate::blobs::BlobFiles::open(&data.join("blobs"))?;
    for hash in &photos {
        if files.has(hash) {
            let bytes = std::fs::read(files.path(hash))?;
            anyhow::ensure!(
                hex::encode(sha2::Sha256::digest(&bytes)) == *hash,
                "photo {hash}'s file does not match its checksum: restore it from a backup \
                 (nothing was moved)"
            );
            importer.import_photo(hash, &bytes)?;
        }
    }
    let records = importer.commit()?;
    drop(conn);
    let moved = match check(&sled, &pg, data, records) {
        Ok(moved) => moved,
        Err(e) => {
            // Nothing half-moved stays behind: the directory stays the mine's.
            pg.clear()
                .with_context(|| format!("the move did not check out ({e:#}), and emptying {shown} failed: empty it by hand"))?;
            return Err(e.context(format!(
                "the move did not check out: {shown} was emptied again, and {} is still the mine's store",
                data.display()
            )));
        }
    };
    let when = chrono::Utc::now().to_rfc3339();
    std::fs::write(
        data.join(format::MOVED),
        format!("moved to {shown} at {when}: {}\n", moved.summary()),
    )
    .with_context(|| format!("could not mark {} moved", data.display()))?;
    Ok(moved)
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Every record of a store as the backup format writes it, by tree and key; the refused
/// changes and the administrative record by value alone (each engine numbers them its own
/// way), in order.
type Records = (
    BTreeMap<(String, Vec<u8>), Vec<u8>>,
    Vec<Vec<u8>>,
    Vec<Vec<u8>>,
);

fn records(store: &dyn Storage) -> anyhow::Result<Records> {
    let mut keyed = BTreeMap::new();
    let mut refused = Vec::new();
    let mut activity = Vec::new();
    store.export(&mut |tree, key, value| {
        match tree {
            "refused" => refused.push(value.to_vec()),
            "activity" => activity.push(value.to_vec()),
            _ => {
                keyed.insert((tree.to_owned(), key.to_vec()), value.to_vec());
            }
        }
        Ok(())
    })?;
    refused.sort();
    activity.sort();
    Ok((keyed, refused, activity))
}

/// Compares both stores after the move; an error names the first difference.
fn check(
    sled: &SledStore,
    pg: &std::sync::Arc<PgStore>,
    data: &Path,
    records_moved: u64,
) -> anyhow::Result<Moved> {
    // Every record: documents' chunks, heads and their whole history, actors, kept facts,
    // the sequence, accounts, sign-ins, photo records, refused changes, the administrative
    // record.
    let (a, a_refused, a_activity) = records(sled)?;
    let (b, b_refused, b_activity) = records(&**pg)?;
    for ((tree, key), value) in &a {
        match b.get(&(tree.clone(), key.clone())) {
            Some(v) if v == value => {}
            Some(_) => anyhow::bail!(
                "{tree} record {} differs after the move",
                String::from_utf8_lossy(key)
            ),
            None => anyhow::bail!(
                "{tree} record {} is missing after the move",
                String::from_utf8_lossy(key)
            ),
        }
    }
    if let Some((tree, key)) = b.keys().find(|k| !a.contains_key(*k)) {
        anyhow::bail!(
            "{tree} record {} appeared in the move",
            String::from_utf8_lossy(key)
        );
    }
    anyhow::ensure!(
        a_refused == b_refused,
        "the refused changes kept differ after the move"
    );
    anyhow::ensure!(
        a_activity == b_activity,
        "the administrative record differs after the move"
    );
    // And each document loads from the database to the heads it records.
    let listed = pg.changed_after(0, usize::MAX)?;
    for (_, id) in &listed {
        let Some(stored) = pg.doc(id)? else {
            anyhow::bail!("{id} is missing after the move");
        };
        let mut loaded = stored
            .load()
            .map_err(|why| anyhow::anyhow!("{id}: {why}"))?;
        anyhow::ensure!(
            sorted(loaded.get_heads()) == sorted(stored.heads.clone()),
            "{id} does not load to its heads after the move"
        );
    }
    let users = pg.users()?;
    // The photos moved into the database too: each read back and checked against its name.
    let blobs = crate::blobs::BlobFiles::open(&data.join("blobs"))?;
    let into = crate::store::PgBlobs::new(pg.clone());
    let mut photos = 0;
    let hashes = a
        .keys()
        .filter(|(tree, _)| tree == "blobs")
        .map(|(_, key)| String::from_utf8_lossy(key).into_owned());
    for hash in hashes {
        if blobs.has(&hash) {
            let bytes = std::fs::read(blobs.path(&hash))?;
            anyhow::ensure!(
                hex::encode(sha2::Sha256::digest(&bytes)) == hash,
                "photo {hash}'s file does not match its checksum: restore it from a backup"
            );
            let back = crate::blobs::Blobs::read(&into, &hash)?
                .map(crate::blobs::BlobBody::into_bytes)
                .transpose()?;
            anyhow::ensure!(
                back.is_some_and(|b| hex::encode(sha2::Sha256::digest(&b)) == hash),
                "photo {hash} does not read back from the database as it was sent"
            );
            photos += 1;
        }
    }
    Ok(Moved {
        records: records_moved,
        documents: listed.len(),
        users: users.len(),
        photos,
    })
}
