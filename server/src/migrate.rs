//! `migrate --from DIR --to postgres://…`: a mine's sled store moved into an empty PostgreSQL
//! database, whole or not at all, then checked: every document's heads and bytes, every
//! sequence number, account, sign-in, record and photo record the same on both sides, and
//! every photo file's checksum its name. The photos stay in the data directory, which the
//! server on PostgreSQL is given for them (`--data`). The directory is marked moved, so that
//! no server serves the copy left behind by mistake.

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
pub fn to_postgres(data: &Path, url: &str) -> anyhow::Result<Moved> {
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
    let pg = PgStore::open(url, 4).with_context(|| format!("could not use the database {shown}"))?;
    anyhow::ensure!(
        pg.is_empty()?,
        "the database {shown} already holds a store: move a mine into an empty database \
         (nothing was changed)"
    );
    let mut conn = pg.import_conn()?;
    let mut importer = conn.begin()?;
    sled.export(&mut |tree, key, value| {
        importer
            .import(tree, key, value)
            .map_err(std::io::Error::other)
    })?;
    let records = importer.commit()?;
    drop(conn);
    let moved = check(&sled, &pg, data, records)?;
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

/// Compares both stores after the move; an error names the first difference.
fn check(sled: &SledStore, pg: &PgStore, data: &Path, records: u64) -> anyhow::Result<Moved> {
    anyhow::ensure!(
        sled.last_seq()? == pg.last_seq()?,
        "the sequence differs after the move ({} and {})",
        sled.last_seq()?,
        pg.last_seq()?
    );
    let listed = sled.changed_after(0, usize::MAX)?;
    anyhow::ensure!(
        listed == pg.changed_after(0, usize::MAX)?,
        "the documents' order differs after the move"
    );
    for (seq, id) in &listed {
        let (Some(a), Some(b)) = (sled.doc(id)?, pg.doc(id)?) else {
            anyhow::bail!("{id} is missing after the move");
        };
        anyhow::ensure!(
            sorted(a.heads.clone()) == sorted(b.heads.clone()) && a.bytes == b.bytes,
            "{id} differs after the move"
        );
        let loaded = b.load().map_err(|why| anyhow::anyhow!("{id}: {why}"))?;
        let mut loaded = loaded;
        anyhow::ensure!(
            sorted(loaded.get_heads()) == sorted(b.heads.clone()),
            "{id} does not load to its heads after the move"
        );
        anyhow::ensure!(
            sled.heads_at(id, *seq)? == pg.heads_at(id, *seq)?,
            "{id}'s history differs after the move"
        );
    }
    let users = sled.users()?;
    anyhow::ensure!(users == pg.users()?, "the accounts differ after the move");
    for user in &users {
        anyhow::ensure!(
            // Both list them in the order of their hashes.
            sled.tokens_of(&user.user)? == pg.tokens_of(&user.user)?,
            "{}'s sign-ins differ after the move",
            user.user
        );
    }
    anyhow::ensure!(
        sorted(sled.facts_records()?) == sorted(pg.facts_records()?),
        "the kept facts differ after the move"
    );
    anyhow::ensure!(
        sled.facts_stamp()? == pg.facts_stamp()?,
        "the facts' stamp differs after the move"
    );
    anyhow::ensure!(
        sled.activity(usize::MAX)? == pg.activity(usize::MAX)?,
        "the administrative record differs after the move"
    );
    let key = |r: &crate::store::RefusedRecord| (r.user.clone(), r.at, r.sha256.clone());
    anyhow::ensure!(
        sorted(sled.refused()?.iter().map(key).collect())
            == sorted(pg.refused()?.iter().map(key).collect()),
        "the refused changes kept differ after the move"
    );
    let blobs = crate::blobs::BlobFiles::open(&data.join("blobs"))?;
    let mut photos = 0;
    let mut hashes = Vec::new();
    sled.export(&mut |tree, key, _| {
        if tree == "blobs" {
            hashes.push(String::from_utf8_lossy(key).into_owned());
        }
        Ok(())
    })?;
    for hash in hashes {
        anyhow::ensure!(
            sled.blob(&hash)? == pg.blob(&hash)?,
            "photo {hash}'s record differs after the move"
        );
        if blobs.has(&hash) {
            let bytes = std::fs::read(blobs.path(&hash))?;
            anyhow::ensure!(
                hex::encode(sha2::Sha256::digest(&bytes)) == hash,
                "photo {hash}'s file does not match its checksum: restore it from a backup"
            );
            photos += 1;
        }
    }
    Ok(Moved {
        records,
        documents: listed.len(),
        users: users.len(),
        photos,
    })
}
