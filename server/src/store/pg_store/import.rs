//! Records into the tables in one transaction, in the sled engine's record format: a move
//! from a directory (`migrate`) or a restore lands whole or not at all.

use super::*;

/// Writes one record of the sled format (see the sled engine's key table) into the tables.
pub(super) fn import_record(
    c: &mut impl postgres::GenericClient,
    tree: &str,
    key: &[u8],
    value: &[u8],
) -> Result<(), StoreError> {
    let json = |v: &[u8]| text(key, v);
    match tree {
        "docs" => {
            let Some((prefix, rest)) = split_key(key) else {
                return Err(damaged(key, "not a document key"));
            };
            match prefix {
                b'd' => {
                    let id = text(key, rest)?;
                    let record: DocRecord = decode(key, &json(value)?)?;
                    let heads = zonepatrol_shared::protocol::heads_from_hex(&record.heads)
                        .map_err(|e| damaged(key, e))?;
                    c.execute(
                        "insert into docs (id, seq, heads, chunks) values ($1, $2, $3, $4) \
                         on conflict (id) do update set seq = excluded.seq, \
                         heads = excluded.heads, chunks = excluded.chunks",
                        &[
                            &id,
                            &db_seq(record.seq),
                            &heads_bytes(&heads),
                            &(record.chunks.min(i32::MAX as u32) as i32),
                        ],
                    )
                }
                b'c' => {
                    let (id, n) = id_and_number(key, rest, 4)?;
                    let n = be_u32(key, n)?.min(i32::MAX as u32) as i32;
                    c.execute(
                        "insert into chunks (id, n, bytes) values ($1, $2, $3) \
                         on conflict (id, n) do update set bytes = excluded.bytes",
                        &[&text(key, id)?, &n, &value],
                    )
                }
                b'h' => {
                    let (id, seq) = id_and_number(key, rest, 8)?;
                    let seq = db_seq(be_u64(key, seq)?);
                    c.execute(
                        "insert into heads (id, seq, heads) values ($1, $2, $3) \
                         on conflict (id, seq) do update set heads = excluded.heads",
                        &[&text(key, id)?, &seq, &value],
                    )
                }
                // The sequence index is the `seq` column of `docs`.
                b's' => return Ok(()),
                b'a' => {
                    let (user, device) = match value.iter().position(|&b| b == 0) {
                        Some(at) => (&value[..at], Some(text(key, &value[at + 1..])?)),
                        None => (value, None),
                    };
                    c.execute(
                        "insert into actors (actor, owner, device) values ($1, $2, $3) \
                         on conflict (actor) do update set owner = excluded.owner, \
                         device = excluded.device",
                        &[&rest, &text(key, user)?, &device],
                    )
                }
                b'f' => c.execute(
                    "insert into facts (id, record) values ($1, $2) \
                     on conflict (id) do update set record = excluded.record",
                    &[&text(key, rest)?, &value],
                ),
                b'm' => {
                    PgStore::put_meta(c, &text(key, rest)?, value)?;
                    return Ok(());
                }
                b'k' => {
                    let seq = be_u64(key, rest)?;
                    c.execute(
                        "insert into checkpoints (seq, record) values ($1, $2) \
                         on conflict (seq) do update set record = excluded.record",
                        &[&db_seq(seq), &json(value)?],
                    )
                }
                b'l' => {
                    let seq = be_u64(key, rest)?;
                    let record = super::super::log_record(seq, value)?;
                    c.execute(
                        "insert into log (seq, link, body) values ($1, $2, $3) \
                         on conflict (seq) do update set link = excluded.link, body = excluded.body",
                        &[&db_seq(seq), &&record.link[..], &record.body],
                    )
                }
                _ => return Err(damaged(key, "not a document key this store keeps")),
            }
        }
        "users" => c.execute(
            "insert into users (name, record) values ($1, $2) \
             on conflict (name) do update set record = excluded.record",
            &[&text(key, key)?, &json(value)?],
        ),
        "tokens" => {
            let record: TokenRecord = decode(key, &json(value)?)?;
            c.execute(
                "insert into tokens (hash, owner, record) values ($1, $2, $3) \
                 on conflict (hash) do update set owner = excluded.owner, record = excluded.record",
                &[&key, &record.user, &json(value)?],
            )
        }
        "refused" => {
            let record: RefusedRecord = decode(key, &json(value)?)?;
            c.execute(
                "insert into refused (owner, at, record) values ($1, $2, $3)",
                &[&record.user, &record.at, &json(value)?],
            )
        }
        "blobs" => c.execute(
            "insert into blobs (hash, record) values ($1, $2) \
             on conflict (hash) do update set record = excluded.record",
            &[&text(key, key)?, &json(value)?],
        ),
        "activity" => {
            let record: ActivityRecord = decode(key, &json(value)?)?;
            c.execute(
                "insert into activity (at, record) values ($1, $2)",
                &[&record.at, &json(value)?],
            )
        }
        "devices" => c.execute(
            "insert into devices (key, record) values ($1, $2) \
             on conflict (key) do update set record = excluded.record",
            &[&text(key, key)?, &json(value)?],
        ),
        _ => return Err(damaged(tree.as_bytes(), "not a tree this store keeps")),
    }
    .map_err(engine)?;
    Ok(())
}

/// Imports records in one transaction: a migration or a restore lands whole or not at all.
pub struct Importer<'a> {
    tx: postgres::Transaction<'a>,
    /// Records written.
    pub records: u64,
}

impl std::fmt::Debug for Importer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer")
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl Importer<'_> {
    /// Writes one record.
    pub fn import(&mut self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        blocking(|| import_record(&mut self.tx, tree, key, value))?;
        self.records += 1;
        Ok(())
    }

    /// Adds a photo's bytes (checked against its hash by the caller) to the import, so that
    /// a move holds the photos in the same transaction as the records.
    pub fn import_photo(&mut self, hash: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let now = crate::now_millis();
        blocking(|| {
            self.tx.execute(
                "insert into blob_files (hash, bytes, stored_at) values ($1, $2, $3) \
                 on conflict (hash) do nothing",
                &[&hash, &bytes, &now],
            )
        })
        .map_err(engine)?;
        Ok(())
    }

    /// Commits every record written.
    pub fn commit(self) -> Result<u64, StoreError> {
        let n = self.records;
        blocking(|| self.tx.commit()).map_err(engine)?;
        Ok(n)
    }
}

/// A connection held for an import.
pub struct ImportConn(Conn, Locks);

impl std::fmt::Debug for ImportConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportConn").finish_non_exhaustive()
    }
}

impl ImportConn {
    /// Begins the import's transaction, holding the write lock so no document write lands
    /// inside it.
    pub fn begin(&mut self) -> Result<Importer<'_>, StoreError> {
        let mut tx = blocking(|| self.0.transaction()).map_err(engine)?;
        let write = self.1.write;
        blocking(|| tx.execute("select pg_advisory_xact_lock($1)", &[&write])).map_err(engine)?;
        // Checked again under the lock: two moves at once do not both land.
        let held: i64 = blocking(|| tx.query_one(HOLDS_ANYTHING, &[]))
            .map_err(engine)?
            .get(0);
        if held != 0 {
            return Err(StoreError::Database(
                "the database already holds a store: move a mine into an empty database \
                 (nothing was changed)"
                    .to_owned(),
            ));
        }
        Ok(Importer { tx, records: 0 })
    }
}

impl PgStore {
    /// A connection for [`ImportConn::begin`].
    pub fn import_conn(&self) -> Result<ImportConn, StoreError> {
        Ok(ImportConn(self.conn()?, self.locks))
    }
}
