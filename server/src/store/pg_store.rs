//! [`Storage`] on PostgreSQL, for a mining group that runs its servers on a database it already
//! replicates and backs up (`serve --database postgres://…`). Any number of server processes
//! may use one database.
//!
//! The tables (schema version [`SCHEMA`], in `zp_schema`; the server makes and upgrades them and
//! refuses a database of a newer version):
//!
//! | table | what |
//! |---|---|
//! | `docs` | a document's last sequence number, heads (32-byte hashes, concatenated) and chunk count |
//! | `chunks` | its chunks, by number |
//! | `heads` | its heads after each write, by sequence number |
//! | `actors` | whom an automerge actor belongs to |
//! | `facts` | a document's consolidated facts, written in its write's transaction |
//! | `meta` | the last sequence number given out (`seq`), the facts' stamp, the restored point, the log's last entry (`log`: its number and link), the server's signing seed (`server-key`) |
//! | `log` | each write's log entry, by sequence number: its link and the entry |
//! | `checkpoints` | the server's signed checkpoints of the log, by sequence number |
//! | `devices` | the registered device keys |
//! | `users`, `tokens`, `refused`, `activity`, `blobs` | the records of [`Storage`], as the JSON text the server wrote (text, not `jsonb`, which refuses the `\u0000` a refusal quoting a client's text may hold) |
//!
//! **The sync cursor never skips a late commit.** Every document write takes the next number of
//! one sequence inside its transaction, holding a transaction-scoped advisory lock
//! ([`WRITE_LOCK`]) from before it reads the last number until it commits: numbers are given
//! out in the order their writes commit, so a reader that has seen number N has seen every
//! write below it, whichever instance made it. Documents are read in one statement: each
//! one's row and chunks come from one write.
//!
//! Records cross between engines (a backup, `migrate`) in the sled engine's record format:
//! [`Storage::export`] writes them so and [`Storage::import`] reads them, so a backup taken on
//! one engine restores onto the other.

use std::time::{Duration, Instant};

use automerge::ChangeHash;
use postgres::types::Type;
use postgres::{IsolationLevel, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::signing::Checkpoint;

mod import;
mod logins;

pub use import::{ImportConn, Importer};

use super::pg_cache::CACHE;
use super::{
    ActivityRecord, ActorOwner, BlobMeta, DeviceRecord, DocWrite, LogRecord, RefusedRecord,
    Storage, StoreError, StoredDoc, TokenRecord, UserRecord, damaged, heads_bytes,
    heads_from_bytes,
};

/// The schema version this server makes and reads.
pub const SCHEMA: i32 = 4;

/// The advisory lock every document write holds for its transaction: one writer of the
/// sequence at a time, across every instance. (A number of our own: "ZPDOCS" in ASCII.)
pub const WRITE_LOCK: i64 = 0x5A50_444F_4353;

/// The advisory lock an instance holds while it writes documents for a request (a push
/// checked again and stored, the reports it changed, a publication): several instances write
/// one at a time, each after catching up with the others. ("ZPPUSH".)
pub const PUSH_LOCK: i64 = 0x5A50_5055_5348;

/// How long an instance waits for another's write lock before answering busy.
pub const HOLD_WAIT: Duration = Duration::from_secs(20);

/// The advisory lock numbers of one schema: the constants in the default schema (so instances
/// of an earlier version and this one agree), else numbers drawn from the schema's name.
#[derive(Debug, Clone, Copy)]
struct Locks {
    write: i64,
    push: i64,
    migrate: i64,
    /// The seed of one user's upload registrations' lock (`hashtextextended(user, seed)`).
    uploads: i64,
}

impl Locks {
    fn of(schema: Option<&str>) -> Locks {
        let Some(schema) = schema else {
            return Locks {
                write: WRITE_LOCK,
                push: PUSH_LOCK,
                migrate: WRITE_LOCK + 1,
                uploads: WRITE_LOCK + 2,
            };
        };
        let key = |what: &str| {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(format!("zonepatrol {what} lock of {schema}"));
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest[..8]);
            i64::from_be_bytes(bytes)
        };
        Locks {
            write: key("write"),
            push: key("push"),
            migrate: key("migrate"),
            uploads: key("uploads"),
        }
    }
}

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
type Conn = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// The PostgreSQL engine: a pool of connections to one database.
pub struct PgStore {
    /// `None` once dropped (see the `Drop` impl).
    pool: Option<Pool>,
    /// How to connect, for the connection that holds [`PUSH_LOCK`].
    config: postgres::Config,
    /// This store's advisory locks: its schema's own, so that the mines of a group, each in a
    /// schema of one database, write without waiting for each other.
    locks: Locks,
    /// That connection.
    holder: std::sync::Mutex<Option<postgres::Client>>,
    /// The sequence numbers this process gave out since it last took the write lock.
    own: std::sync::Mutex<Vec<u64>>,
    /// This store's number in the process's cache of documents read (see
    /// [`super::pg_cache`]).
    cached_as: u64,
    /// Time spent waiting for a connection, and how many waits, for `/metrics`.
    waits: std::sync::atomic::AtomicU64,
    wait_micros: std::sync::atomic::AtomicU64,
    lock_wait_micros: std::sync::atomic::AtomicU64,
    /// The server's signing seed, once read.
    server_seed: std::sync::OnceLock<[u8; 32]>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("PgStore")
            .field("pool", &self.pool.as_ref().map(|p| p.state()))
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Its documents are no use to any other store.
        CACHE.clear(self.cached_as);
        // Each client blocks on a runtime of its own, which may not be dropped on an async
        // worker (the server's last reference goes when its runtime ends): on a thread of
        // their own.
        let pool = self.pool.take();
        let holder = self
            .holder
            .get_mut()
            .map(Option::take)
            .unwrap_or_else(|e| e.into_inner().take());
        let _ = std::thread::spawn(move || {
            drop(pool);
            drop(holder);
        })
        .join();
    }
}

/// The pool's figures, for `/metrics` and `/ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open.
    pub connections: u32,
    /// Of them, idle.
    pub idle: u32,
    /// Times a caller waited for a connection.
    pub waits: u64,
    /// Time spent waiting for connections, in microseconds.
    pub wait_micros: u64,
    /// Time document writes waited for the write lock, in microseconds.
    pub lock_wait_micros: u64,
}

const SCHEMA_1: &str = "
create table docs (id text primary key, seq bigint not null unique, heads bytea not null,
    chunks integer not null);
create table chunks (id text not null, n integer not null, bytes bytea not null,
    primary key (id, n));
create table heads (id text not null, seq bigint not null, heads bytea not null,
    primary key (id, seq));
create table actors (actor bytea primary key, owner text not null, device text);
create table facts (id text primary key, record bytea not null);
create table meta (key text primary key, value bytea not null);
create table users (name text primary key, record text not null);
create table tokens (hash bytea primary key, owner text not null, record text not null);
create index tokens_owner on tokens (owner);
create table refused (n bigserial primary key, owner text not null, at bigint not null,
    record text not null);
create index refused_owner on refused (owner, n);
create table activity (n bigserial primary key, at bigint not null, record text not null);
create index activity_at on activity (at, n);
create table blobs (hash text primary key, record text not null);
";

/// Whether a database holds a store: the number of its documents, accounts and records.
const HOLDS_ANYTHING: &str = "select (select count(*) from docs) + (select count(*) from users) \
     + (select count(*) from meta) + (select count(*) from blobs) \
     + (select count(*) from refused) + (select count(*) from activity) \
     + (select count(*) from blob_files) + (select count(*) from devices)";

/// Version 2: the login throttle's counts, shared by every instance.
const SCHEMA_2: &str = "
create table login_misses (kind text not null, key bytea not null, count integer not null,
    last timestamptz not null, until timestamptz not null, primary key (kind, key));
create table login_trusted (key bytea primary key, since timestamptz not null);
";

/// Version 3: the photos themselves, and unfinished uploads in parts as they arrived, so that
/// every instance serves them and resumes them, and the database's backups hold them.
const SCHEMA_3: &str = "
create table blob_files (hash text primary key, bytes bytea not null, stored_at bigint not null);
create table uploads (owner text not null, hash text not null, length bigint not null,
    touched_at bigint not null, primary key (owner, hash));
create table upload_parts (owner text not null, hash text not null, at bigint not null,
    bytes bytea not null, primary key (owner, hash, at));
-- Photos are JPEG: compressing them again costs the database's CPU for nothing.
alter table blob_files alter column bytes set storage external;
alter table upload_parts alter column bytes set storage external;
";

/// Version 4: the log of accepted writes, and the device keys their signatures are checked
/// against.
const SCHEMA_4: &str = "
create table log (seq bigint primary key, link bytea not null, body bytea not null);
create table devices (key text primary key, record text not null);
create table checkpoints (seq bigint primary key, record text not null);
";

/// Each version's statements, in order: version N is `MIGRATIONS[N - 1]`.
const MIGRATIONS: [&str; 4] = [SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4];

pub(super) fn engine(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn encode<T: Serialize>(value: &T) -> String {
    // Serializing our own plain records to JSON cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(key: impl AsRef<[u8]>, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| damaged(key, e))
}

fn seq_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn db_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Runs blocking database work from wherever the server calls the store: on a runtime's
/// worker it steps off the worker first, as the PostgreSQL client blocks on a runtime of its
/// own.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or the
    /// key=value form), makes or upgrades its tables, and refuses a database of a newer schema.
    /// `connections` is the pool's size.
    pub fn open(url: &str, connections: u32) -> Result<PgStore, StoreError> {
        PgStore::open_in(url, connections, None)
    }

    /// As [`PgStore::open`], in a schema of the database of its own (made if missing): a mine
    /// of a group, or the group's own accounts. Every connection sees that schema alone, so a
    /// query can reach no other mine's tables.
    pub fn open_in(
        url: &str,
        connections: u32,
        schema: Option<&str>,
    ) -> Result<PgStore, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            StoreError::Database(format!(
                "the database address does not read ({e}): it is postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        // A database that stops answering is noticed in seconds, not in TCP's hours: a lost
        // connection holding the write lock lets go of it when it is closed.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3)
            .tcp_user_timeout(Duration::from_secs(60));
        // A database address that names a schema of its own (`options=-c search_path=S`) keeps
        // a group's schemas beside it, named after it (`S_zp_mine_ID`): several groups, or
        // tests, share one database apart.
        let schema = schema.map(|schema| {
            match config
                .get_options()
                .and_then(|o| o.split_once("search_path="))
                .map(|(_, rest)| rest.split([' ', ',']).next().unwrap_or_default())
                .filter(|named| !named.is_empty())
            {
                Some(named) => format!("{named}_{schema}"),
                None => schema.to_owned(),
            }
        });
        let schema = schema.as_deref();
        let locks = Locks::of(schema);
        if let Some(schema) = schema {
            if schema.len() > 63 {
                return Err(StoreError::Database(format!(
                    "the schema name “{schema}” is longer than PostgreSQL's 63 bytes: use a \
                     shorter mine id or schema"
                )));
            }
            if !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(StoreError::Database(format!(
                    "“{schema}” cannot name a schema: lower-case letters, digits and _ only"
                )));
            }
            blocking(|| {
                let mut client = config
                    .connect(NoTls)
                    .map_err(|e| StoreError::Database(format!("cannot reach the database: {e}")))?;
                // Made only when missing (a schema made beforehand needs no right to make
                // schemas); instances starting together may both try: one makes it.
                let found = client
                    .query_opt("select 1 from pg_namespace where nspname = $1", &[&schema])
                    .map_err(engine)?;
                if found.is_none()
                    && let Err(e) = client.batch_execute(&format!("create schema {schema}"))
                    && !matches!(
                        e.code(),
                        Some(&postgres::error::SqlState::DUPLICATE_SCHEMA)
                            | Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
                    )
                {
                    return Err(engine(e));
                }
                Ok(())
            })?;
            // After any options the address gives: the last search_path is the one in force.
            let options = match config.get_options() {
                Some(given) => format!("{given} -c search_path={schema}"),
                None => format!("-c search_path={schema}"),
            };
            config.options(&options);
        }
        let manager = PostgresConnectionManager::new(config.clone(), NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(2))
            .min_idle(Some(1))
            // A broken connection is found by the client itself (`is_closed`); a test query on
            // every checkout would add a round trip to every read.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build(manager)
            .map_err(|e| StoreError::Database(format!("cannot reach the database: {e}")))?;
        let store = PgStore {
            pool: Some(pool),
            config,
            locks,
            holder: Default::default(),
            own: Default::default(),
            cached_as: super::pg_cache::store_number(),
            waits: Default::default(),
            wait_micros: Default::default(),
            lock_wait_micros: Default::default(),
            server_seed: Default::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn conn(&self) -> Result<Conn, StoreError> {
        use std::sync::atomic::Ordering;
        let start = Instant::now();
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| StoreError::Database("the store is closed".to_owned()))?;
        let conn = blocking(|| pool.get())
            .map_err(|e| StoreError::Database(format!("no database connection: {e}")))?;
        let waited = start.elapsed();
        if waited > Duration::from_millis(1) {
            self.waits.fetch_add(1, Ordering::Relaxed);
            self.wait_micros
                .fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
        }
        Ok(conn)
    }

    /// Runs `f` on a pooled connection, off the runtime's workers.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        blocking(|| f(&mut conn))
    }

    /// The seed of the lock one user's upload registrations take turns on, this schema's own.
    pub(super) fn upload_lock(&self) -> i64 {
        self.locks.uploads
    }

    /// The pool's figures.
    pub fn stats(&self) -> PoolStats {
        use std::sync::atomic::Ordering;
        let (connections, idle) = self.pool.as_ref().map_or((0, 0), |p| {
            (p.state().connections, p.state().idle_connections)
        });
        PoolStats {
            connections,
            idle,
            waits: self.waits.load(Ordering::Relaxed),
            wait_micros: self.wait_micros.load(Ordering::Relaxed),
            lock_wait_micros: self.lock_wait_micros.load(Ordering::Relaxed),
        }
    }

    /// Makes the tables, or upgrades them, one version at a time in one transaction each, under
    /// an advisory lock so that instances starting together do it once.
    fn migrate(&self) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            tx.execute("select pg_advisory_xact_lock($1)", &[&self.locks.migrate])
                .map_err(engine)?;
            tx.batch_execute("create table if not exists zp_schema (version integer not null)")
                .map_err(engine)?;
            let found: Option<i32> = tx
                .query_opt("select max(version) from zp_schema", &[])
                .map_err(engine)?
                .and_then(|r| r.get(0));
            let found = found.unwrap_or(0);
            if found > SCHEMA {
                return Err(StoreError::Database(format!(
                    "the database was set up by a newer Zone Patrol server (schema {found}; this \
                     server reads schemas up to {SCHEMA}). Nothing was changed: run that server \
                     or a newer one"
                )));
            }
            for (version, statements) in (1..).zip(MIGRATIONS) {
                if version > found {
                    tx.batch_execute(statements).map_err(engine)?;
                    tx.execute("insert into zp_schema (version) values ($1)", &[&version])
                        .map_err(engine)?;
                    tracing::info!(schema = version, "the database's schema is brought up");
                }
            }
            tx.commit().map_err(engine)
        })
    }

    /// Whether the database holds no document, account or record yet (a migration's target
    /// must).
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        self.with(|c| {
            let row = c.query_one(HOLDS_ANYTHING, &[]).map_err(engine)?;
            Ok(row.get::<_, i64>(0) == 0)
        })
    }

    /// Empties every table: a move that did not check out leaves nothing behind.
    pub fn clear(&self) -> Result<(), StoreError> {
        CACHE.clear(self.cached_as);
        self.with(|c| {
            c.batch_execute(
                "truncate docs, chunks, heads, actors, facts, meta, users, tokens, refused, \
                 activity, blobs, login_misses, login_trusted, blob_files, uploads, \
                 upload_parts, log, devices, checkpoints",
            )
            .map_err(engine)
        })
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| {
            Ok(c.query_typed_opt(
                "select value from meta where key = $1",
                &[(&key, Type::TEXT)],
            )
            .map_err(engine)?
            .map(|r| r.get(0)))
        })
    }

    fn put_meta(
        c: &mut impl postgres::GenericClient,
        key: &str,
        value: &[u8],
    ) -> Result<(), StoreError> {
        c.execute(
            "insert into meta (key, value) values ($1, $2) \
             on conflict (key) do update set value = excluded.value",
            &[&key, &value],
        )
        .map_err(engine)?;
        Ok(())
    }
}

/// A sled `docs`-tree key split at its first zero byte: its prefix letter and the rest.
fn split_key(key: &[u8]) -> Option<(u8, &[u8])> {
    match key {
        [p, 0, rest @ ..] => Some((*p, rest)),
        _ => None,
    }
}

fn text(key: &[u8], bytes: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| damaged(key, e))
}

/// The id and the big-endian number after the last zero byte of a key's rest.
fn id_and_number<'a>(
    key: &[u8],
    rest: &'a [u8],
    width: usize,
) -> Result<(&'a [u8], &'a [u8]), StoreError> {
    if rest.len() < width + 1 || rest[rest.len() - width - 1] != 0 {
        return Err(damaged(key, "not a key of this kind"));
    }
    Ok((&rest[..rest.len() - width - 1], &rest[rest.len() - width..]))
}

fn be_u64(key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| damaged(key, "not a u64"))?;
    Ok(u64::from_be_bytes(arr))
}

fn be_u32(key: &[u8], bytes: &[u8]) -> Result<u32, StoreError> {
    let arr: [u8; 4] = bytes.try_into().map_err(|_| damaged(key, "not a u32"))?;
    Ok(u32::from_be_bytes(arr))
}

fn with_prefix(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![prefix];
    for part in parts {
        k.push(0);
        k.extend_from_slice(part);
    }
    k
}

#[derive(serde::Serialize, serde::Deserialize)]
struct DocRecord {
    seq: u64,
    heads: Vec<String>,
    chunks: u32,
}

impl Storage for PgStore {
    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.with(|c| {
            c.query_opt("select record from users where name = $1", &[&name])
                .map_err(engine)?
                .map(|r| decode(name, r.get::<_, &str>(0)))
                .transpose()
        })
    }

    fn put_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "insert into users (name, record) values ($1, $2) \
                 on conflict (name) do update set record = excluded.record",
                &[&user.user, &encode(user)],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.with(|c| {
            c.query(
                "select name, record from users order by name collate \"C\"",
                &[],
            )
            .map_err(engine)?
            .iter()
            .map(|r| decode(r.get::<_, &str>(0), r.get::<_, &str>(1)))
            .collect()
        })
    }

    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.with(|c| {
            c.query_opt("select record from tokens where hash = $1", &[&&hash[..]])
                .map_err(engine)?
                .map(|r| decode("token", r.get::<_, &str>(0)))
                .transpose()
        })
    }

    fn put_token(&self, hash: &[u8; 32], token: &TokenRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "insert into tokens (hash, owner, record) values ($1, $2, $3) \
                 on conflict (hash) do update set owner = excluded.owner, record = excluded.record",
                &[&&hash[..], &token.user, &encode(token)],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn remove_token(&self, hash: &[u8; 32]) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("delete from tokens where hash = $1", &[&&hash[..]])
                .map_err(engine)?;
            Ok(())
        })
    }

    fn tokens_of(&self, user: &str) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        self.with(|c| {
            let mut out = Vec::new();
            for r in c
                .query(
                    "select hash, record from tokens where owner = $1 order by hash",
                    &[&user],
                )
                .map_err(engine)?
            {
                let hash: &[u8] = r.get(0);
                let Ok(hash) = <[u8; 32]>::try_from(hash) else {
                    continue;
                };
                if let Ok(token) = decode::<TokenRecord>("token", r.get::<_, &str>(1)) {
                    out.push((hash, token));
                }
            }
            Ok(out)
        })
    }

    fn prune_tokens(&self, now: i64) -> Result<usize, StoreError> {
        self.with(|c| {
            // The login throttle's counts are pruned with the sign-ins: a count whose wait
            // is over and that is forgotten anyway.
            c.execute(
                "delete from login_misses where until < now() and last < now() - interval '1 day'",
                &[],
            )
            .map_err(engine)?;
            c.execute(
                "delete from login_trusted where since < now() - interval '60 days'",
                &[],
            )
            .map_err(engine)?;
            let n = c
                .execute(
                    "delete from tokens where coalesce((record::jsonb->>'expires_at')::bigint, 0) <= $1",
                    &[&now],
                )
                .map_err(engine)?;
            Ok(n as usize)
        })
    }

    fn doc(&self, id: &DocId) -> Result<Option<StoredDoc>, StoreError> {
        self.docs(std::slice::from_ref(id))?
            .pop()
            .unwrap_or(Ok(None))
    }

    fn docs(
        &self,
        ids: &[DocId],
    ) -> Result<Vec<Result<Option<StoredDoc>, StoreError>>, StoreError> {
        use std::collections::HashMap;
        let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        // The copies kept here, and the rows they were read at: their chunks are not sent
        // again when the row is the same.
        let kept: HashMap<&str, std::sync::Arc<super::pg_cache::Kept>> = texts
            .iter()
            .filter_map(|id| CACHE.get(self.cached_as, id).map(|k| (id.as_str(), k)))
            .collect();
        let kept_ids: Vec<&str> = kept.keys().copied().collect();
        let kept_heads: Vec<&[u8]> = kept_ids
            .iter()
            .map(|id| kept[id].heads.as_slice())
            .collect();
        let kept_chunks: Vec<i32> = kept_ids
            .iter()
            .map(|id| i32::try_from(kept[id].doc.chunks).unwrap_or(-1))
            .collect();
        let mut found: HashMap<String, StoredDoc> = HashMap::new();
        let mut bad: HashMap<String, StoreError> = HashMap::new();
        // Read from the database now, with the heads they were read at, to be kept.
        let mut fresh: Vec<(String, Vec<u8>)> = Vec::new();
        self.with(|c| {
            // One statement, so one snapshot (each document's row and the chunks of that very
            // write) in one round trip, its parameters typed so that it needs no prepare first.
            let rows = c
                .query_typed(
                    "select d.id, d.heads, d.chunks, c.bytes from docs d \
                     left join unnest($2::text[], $3::bytea[], $4::int4[]) as k (id, heads, chunks) \
                       on k.id = d.id \
                     left join chunks c on c.id = d.id \
                       and (k.id is null or k.heads <> d.heads or k.chunks <> d.chunks) \
                     where d.id = any($1) order by d.id, c.n",
                    &[
                        (&texts, Type::TEXT_ARRAY),
                        (&kept_ids, Type::TEXT_ARRAY),
                        (&kept_heads, Type::BYTEA_ARRAY),
                        (&kept_chunks, Type::INT4_ARRAY),
                    ],
                )
                .map_err(engine)?;
            for r in rows {
                let id: &str = r.get(0);
                let bytes: Option<&[u8]> = r.get(3);
                if let Some(doc) = found.get_mut(id) {
                    // A later chunk of a document read here.
                    if let Some(bytes) = bytes {
                        doc.bytes.extend_from_slice(bytes);
                        doc.chunks += 1;
                    }
                    continue;
                }
                if bad.contains_key(id) {
                    continue;
                }
                let raw: &[u8] = r.get(1);
                let chunks = r.get::<_, i32>(2);
                if bytes.is_none()
                    && let Some(k) = kept.get(id)
                    && k.heads.as_slice() == raw
                    && i32::try_from(k.doc.chunks).ok() == Some(chunks)
                {
                    found.insert(id.to_owned(), k.doc.clone());
                    continue;
                }
                match heads_from_bytes(id, raw) {
                    Ok(heads) => {
                        let mut doc = StoredDoc {
                            bytes: Vec::new(),
                            heads,
                            chunks: 0,
                        };
                        if let Some(bytes) = bytes {
                            doc.bytes.extend_from_slice(bytes);
                            doc.chunks = 1;
                        }
                        fresh.push((id.to_owned(), raw.to_vec()));
                        found.insert(id.to_owned(), doc);
                    }
                    Err(e) => {
                        bad.insert(id.to_owned(), e);
                    }
                }
            }
            Ok(())
        })?;
        for (id, heads) in &fresh {
            if let Some(doc) = found.get(id) {
                CACHE.put(self.cached_as, id, heads, doc);
            }
        }
        Ok(texts
            .iter()
            .map(|id| match bad.remove(id) {
                Some(e) => Err(e),
                None => Ok(found.remove(id)),
            })
            .collect())
    }

    fn doc_tail(&self, id: &DocId, from: u32) -> Result<Option<StoredDoc>, StoreError> {
        let id = id.to_string();
        let from = i32::try_from(from).unwrap_or(i32::MAX);
        self.with(|c| {
            // One statement: the row and the chunks of that same write.
            let rows = c
                .query_typed(
                    "select d.heads, d.chunks, c.bytes from docs d \
                     left join chunks c on c.id = d.id and c.n >= $2 \
                     where d.id = $1 order by c.n",
                    &[(&id, Type::TEXT), (&from, Type::INT4)],
                )
                .map_err(engine)?;
            let mut tail = StoredDoc {
                bytes: Vec::new(),
                heads: Vec::new(),
                chunks: 0,
            };
            for (n, r) in rows.iter().enumerate() {
                if n == 0 {
                    tail.heads = heads_from_bytes(&id, r.get(0))?;
                    tail.chunks = u32::try_from(r.get::<_, i32>(1)).unwrap_or(0);
                }
                if let Some(bytes) = r.get::<_, Option<&[u8]>>(2) {
                    tail.bytes.extend_from_slice(bytes);
                }
            }
            Ok(Some(tail))
        })
    }

    fn heads_at_many(
        &self,
        ids: &[DocId],
        seq: u64,
    ) -> Result<Vec<Option<Vec<ChangeHash>>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.with(|c| {
            let mut found = std::collections::HashMap::new();
            for r in c
                .query_typed(
                    "select distinct on (id) id, heads from heads \
                     where id = any($1) and seq <= $2 order by id, seq desc",
                    &[(&texts, Type::TEXT_ARRAY), (&db_seq(seq), Type::INT8)],
                )
                .map_err(engine)?
            {
                let id: String = r.get(0);
                let heads = heads_from_bytes(&id, r.get(1))?;
                found.insert(id, heads);
            }
            Ok(texts.iter().map(|id| found.remove(id)).collect())
        })
    }

    fn export(&self, sink: &mut super::RecordSink<'_>) -> Result<u64, StoreError> {
        self.with(|c| {
            // One snapshot of everything, and no document write under way.
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(engine)?;
            let mut n = 0u64;
            let mut put = |tree: &str, key: &[u8], value: &[u8]| -> Result<(), StoreError> {
                sink(tree, key, value)?;
                n += 1;
                Ok(())
            };
            for r in tx
                .query("select id, seq, heads, chunks from docs", &[])
                .map_err(engine)?
            {
                let id: &str = r.get(0);
                let seq = seq_of(r.get(1));
                let heads = heads_from_bytes(id, r.get(2))?;
                let record = DocRecord {
                    seq,
                    heads: zonepatrol_shared::protocol::heads_to_hex(&heads),
                    chunks: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
                };
                put(
                    "docs",
                    &with_prefix(b'd', &[id.as_bytes()]),
                    encode(&record).as_bytes(),
                )?;
                put(
                    "docs",
                    &with_prefix(b's', &[&seq.to_be_bytes()]),
                    id.as_bytes(),
                )?;
            }
            for r in tx
                .query("select id, n, bytes from chunks", &[])
                .map_err(engine)?
            {
                let id: &str = r.get(0);
                let n = u32::try_from(r.get::<_, i32>(1)).unwrap_or(0);
                put(
                    "docs",
                    &with_prefix(b'c', &[id.as_bytes(), &n.to_be_bytes()]),
                    r.get(2),
                )?;
            }
            for r in tx
                .query("select id, seq, heads from heads", &[])
                .map_err(engine)?
            {
                let id: &str = r.get(0);
                let seq = seq_of(r.get(1));
                put(
                    "docs",
                    &with_prefix(b'h', &[id.as_bytes(), &seq.to_be_bytes()]),
                    r.get(2),
                )?;
            }
            for r in tx
                .query("select actor, owner, device from actors", &[])
                .map_err(engine)?
            {
                let mut v = r.get::<_, &str>(1).as_bytes().to_vec();
                // No device: a record from before devices were recorded, the user alone.
                if let Some(device) = r.get::<_, Option<&str>>(2) {
                    v.push(0);
                    v.extend_from_slice(device.as_bytes());
                }
                put("docs", &with_prefix(b'a', &[r.get(0)]), &v)?;
            }
            for r in tx
                .query("select id, record from facts", &[])
                .map_err(engine)?
            {
                put(
                    "docs",
                    &with_prefix(b'f', &[r.get::<_, &str>(0).as_bytes()]),
                    r.get(1),
                )?;
            }
            for r in tx
                .query("select key, value from meta", &[])
                .map_err(engine)?
            {
                put(
                    "docs",
                    &with_prefix(b'm', &[r.get::<_, &str>(0).as_bytes()]),
                    r.get(1),
                )?;
            }
            for r in tx
                .query("select name, record from users", &[])
                .map_err(engine)?
            {
                put(
                    "users",
                    r.get::<_, &str>(0).as_bytes(),
                    r.get::<_, &str>(1).as_bytes(),
                )?;
            }
            for r in tx
                .query("select hash, record from tokens", &[])
                .map_err(engine)?
            {
                put("tokens", r.get(0), r.get::<_, &str>(1).as_bytes())?;
            }
            for r in tx
                .query("select owner, n, record from refused order by n", &[])
                .map_err(engine)?
            {
                let n = seq_of(r.get(1));
                put(
                    "refused",
                    &with_prefix(b'u', &[r.get::<_, &str>(0).as_bytes(), &n.to_be_bytes()]),
                    r.get::<_, &str>(2).as_bytes(),
                )?;
            }
            for r in tx
                .query("select hash, record from blobs", &[])
                .map_err(engine)?
            {
                put(
                    "blobs",
                    r.get::<_, &str>(0).as_bytes(),
                    r.get::<_, &str>(1).as_bytes(),
                )?;
            }
            for r in tx
                .query("select seq, link, body from log order by seq", &[])
                .map_err(engine)?
            {
                let seq = seq_of(r.get(0));
                let link = super::link_of(seq, r.get(1))?;
                put(
                    "docs",
                    &with_prefix(b'l', &[&seq.to_be_bytes()]),
                    &super::log_value(&link, r.get(2)),
                )?;
            }
            for r in tx
                .query("select seq, record from checkpoints order by seq", &[])
                .map_err(engine)?
            {
                put(
                    "docs",
                    &with_prefix(b'k', &[&seq_of(r.get(0)).to_be_bytes()]),
                    r.get::<_, &str>(1).as_bytes(),
                )?;
            }
            for r in tx
                .query("select key, record from devices", &[])
                .map_err(engine)?
            {
                put(
                    "devices",
                    r.get::<_, &str>(0).as_bytes(),
                    r.get::<_, &str>(1).as_bytes(),
                )?;
            }
            for r in tx
                .query("select at, n, record from activity order by at, n", &[])
                .map_err(engine)?
            {
                let mut k = seq_of(r.get(0)).to_be_bytes().to_vec();
                k.extend_from_slice(&seq_of(r.get(1)).to_be_bytes());
                put("activity", &k, r.get::<_, &str>(2).as_bytes())?;
            }
            tx.commit().map_err(engine)?;
            Ok(n)
        })
    }

    fn restored_at(&self) -> Result<Option<u64>, StoreError> {
        self.meta("restored")?
            .map(|v| be_u64(b"m\0restored", &v))
            .transpose()
    }

    fn import(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.with(|c| import::import_record(c, tree, key, value))
    }

    fn write_doc(&self, write: &DocWrite) -> Result<u64, StoreError> {
        use std::sync::atomic::Ordering;
        let id = write.id.to_string();
        self.with(|c| {
            // Few round trips, each statement typed (no prepare before it): every push waits
            // for the one before it to commit.
            // Read committed whatever the database's default: the statement after the lock's
            // must see every write that held the lock before.
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::ReadCommitted)
                .start()
                .map_err(engine)?;
            let start = Instant::now();
            tx.query_typed(
                "select pg_advisory_xact_lock($1)",
                &[(&self.locks.write, Type::INT8)],
            )
            .map_err(engine)?;
            self.lock_wait_micros
                .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
            // In a statement after the lock's: it sees every write that held the lock before.
            let row = tx
                .query_typed_one(
                    "select (select value from meta where key = 'seq'), \
                     (select chunks from docs where id = $1), \
                     (select value from meta where key = 'log')",
                    &[(&id, Type::TEXT)],
                )
                .map_err(engine)?;
            let last = match row.get::<_, Option<&[u8]>>(0) {
                Some(v) => be_u64(b"m\0seq", v)?,
                None => 0,
            };
            let seq = last + 1;
            let old: Option<i32> = row.get(1);
            let prev = super::log_prev(row.get::<_, Option<&[u8]>>(2))?;
            let link =
                zonepatrol_shared::signing::log_link(&prev, seq, write.id.branch(), &write.log);
            let log_head = super::log_head_value(seq, &link);
            let (n, chunks) = match (old, write.compact) {
                (Some(old), false) => (old, old + 1),
                (old, _) => {
                    if old.is_some() {
                        tx.execute_typed("delete from chunks where id = $1", &[(&id, Type::TEXT)])
                            .map_err(engine)?;
                    }
                    (0, 1)
                }
            };
            let heads = heads_bytes(&write.heads);
            let facts = match write.facts {
                Some(_) => {
                    "f as (insert into facts (id, record) values ($1, $6) \
                     on conflict (id) do update set record = excluded.record)"
                }
                None => "f as (delete from facts where id = $1)",
            };
            let record: &[u8] = write.facts.as_deref().unwrap_or_default();
            let seq_bytes = seq.to_be_bytes();
            // The chunk, the heads, the facts, the sequence and the document's row: one
            // statement (tables apart, so its parts do not meet).
            tx.execute_typed(
                &format!(
                    "with c as (insert into chunks (id, n, bytes) values ($1, $2, $3)), \
                     h as (insert into heads (id, seq, heads) values ($1, $4, $5)), \
                     {facts}, \
                     l as (insert into log (seq, link, body) values ($4, $9, $10)), \
                     m as (insert into meta (key, value) values ('seq', $7), ('log', $11) \
                       on conflict (key) do update set value = excluded.value) \
                     insert into docs (id, seq, heads, chunks) values ($1, $4, $5, $8) \
                     on conflict (id) do update set seq = excluded.seq, heads = excluded.heads, \
                     chunks = excluded.chunks"
                ),
                &[
                    (&id, Type::TEXT),
                    (&n, Type::INT4),
                    (&write.chunk, Type::BYTEA),
                    (&db_seq(seq), Type::INT8),
                    (&heads, Type::BYTEA),
                    (&record, Type::BYTEA),
                    (&seq_bytes.as_slice(), Type::BYTEA),
                    (&chunks, Type::INT4),
                    (&link.as_slice(), Type::BYTEA),
                    (&write.log, Type::BYTEA),
                    (&log_head, Type::BYTEA),
                ],
            )
            .map_err(engine)?;
            for (actor, owner) in &write.actors {
                tx.execute_typed(
                    "insert into actors (actor, owner, device) values ($1, $2, $3) \
                     on conflict (actor) do update set owner = excluded.owner, \
                     device = excluded.device",
                    &[
                        (actor, Type::BYTEA),
                        (&owner.user, Type::TEXT),
                        (&owner.device, Type::TEXT),
                    ],
                )
                .map_err(engine)?;
            }
            tx.commit().map_err(engine)?;
            let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
            if own.len() < 1_000_000 {
                own.push(seq);
            }
            Ok(seq)
        })
    }

    fn facts(&self, id: &DocId) -> Result<Option<Vec<u8>>, StoreError> {
        let id = id.to_string();
        self.with(|c| {
            Ok(
                c.query_opt("select record from facts where id = $1", &[&id])
                    .map_err(engine)?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn facts_many(&self, ids: &[DocId]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.with(|c| {
            let mut found: std::collections::HashMap<String, Vec<u8>> = c
                .query_typed(
                    "select id, record from facts where id = any($1)",
                    &[(&texts, Type::TEXT_ARRAY)],
                )
                .map_err(engine)?
                .into_iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            Ok(texts.iter().map(|id| found.remove(id)).collect())
        })
    }

    fn facts_records(&self) -> Result<Vec<(DocId, Vec<u8>)>, StoreError> {
        self.with(|c| {
            let mut out = Vec::new();
            for r in c
                .query("select id, record from facts", &[])
                .map_err(engine)?
            {
                match r.get::<_, &str>(0).parse() {
                    Ok(id) => out.push((id, r.get(1))),
                    Err(_) => tracing::error!("a facts record's id does not parse: passed over"),
                }
            }
            Ok(out)
        })
    }

    fn put_facts(&self, id: &DocId, record: Option<&[u8]>) -> Result<(), StoreError> {
        let id = id.to_string();
        self.with(|c| {
            match record {
                Some(record) => c.execute(
                    "insert into facts (id, record) values ($1, $2) \
                     on conflict (id) do update set record = excluded.record",
                    &[&id, &record],
                ),
                None => c.execute("delete from facts where id = $1", &[&id]),
            }
            .map_err(engine)?;
            Ok(())
        })
    }

    fn facts_stamp(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.meta("facts")
    }

    fn put_facts_stamp(&self, stamp: &[u8]) -> Result<(), StoreError> {
        self.with(|c| Self::put_meta(c, "facts", stamp))
    }

    fn changed_after(&self, cursor: u64, limit: usize) -> Result<Vec<(u64, DocId)>, StoreError> {
        self.with(|c| {
            let rows = c
                .query_typed(
                    "select seq, id from docs where seq > $1 order by seq limit $2",
                    &[
                        (&db_seq(cursor), Type::INT8),
                        (&(limit.min(i64::MAX as usize) as i64), Type::INT8),
                    ],
                )
                .map_err(engine)?;
            Ok(rows
                .iter()
                .filter_map(|r| {
                    let seq = seq_of(r.get(0));
                    match r.get::<_, &str>(1).parse() {
                        Ok(id) => Some((seq, id)),
                        Err(_) => {
                            tracing::error!(
                                seq,
                                "a stored document id does not parse: passed over"
                            );
                            None
                        }
                    }
                })
                .collect())
        })
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        match self.meta("seq")? {
            Some(v) => be_u64(b"m\0seq", &v),
            None => Ok(0),
        }
    }

    fn heads_at(&self, id: &DocId, seq: u64) -> Result<Option<Vec<ChangeHash>>, StoreError> {
        let id = id.to_string();
        self.with(|c| {
            c.query_opt(
                "select heads from heads where id = $1 and seq <= $2 order by seq desc limit 1",
                &[&id, &db_seq(seq)],
            )
            .map_err(engine)?
            .map(|r| heads_from_bytes(&id, r.get(0)))
            .transpose()
        })
    }

    fn actor_owner(&self, actor: &[u8]) -> Result<Option<ActorOwner>, StoreError> {
        self.with(|c| {
            Ok(c.query_typed_opt(
                "select owner, device from actors where actor = $1",
                &[(&actor, Type::BYTEA)],
            )
            .map_err(engine)?
            .map(|r| ActorOwner {
                user: r.get(0),
                device: r.get::<_, Option<String>>(1).unwrap_or_default(),
            }))
        })
    }

    fn keep_refused(&self, refused: &RefusedRecord, per_user: usize) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            tx.execute(
                "insert into refused (owner, at, record) values ($1, $2, $3)",
                &[&refused.user, &refused.at, &encode(refused)],
            )
            .map_err(engine)?;
            tx.execute(
                "delete from refused where owner = $1 and n not in \
                 (select n from refused where owner = $1 order by n desc limit $2)",
                &[&refused.user, &(per_user.min(i64::MAX as usize) as i64)],
            )
            .map_err(engine)?;
            tx.commit().map_err(engine)
        })
    }

    fn refused(&self) -> Result<Vec<RefusedRecord>, StoreError> {
        self.with(|c| {
            c.query(
                "select record from refused order by owner collate \"C\", n",
                &[],
            )
            .map_err(engine)?
            .iter()
            .map(|r| decode("refused", r.get::<_, &str>(0)))
            .collect()
        })
    }

    fn prune_refused(&self, before: i64) -> Result<usize, StoreError> {
        self.with(|c| {
            let n = c
                .execute("delete from refused where at < $1", &[&before])
                .map_err(engine)?;
            Ok(n as usize)
        })
    }

    fn device(&self, key: &str) -> Result<Option<DeviceRecord>, StoreError> {
        self.with(|c| {
            c.query_opt("select record from devices where key = $1", &[&key])
                .map_err(engine)?
                .map(|r| decode(key, r.get::<_, &str>(0)))
                .transpose()
        })
    }

    fn put_device(&self, record: &DeviceRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "insert into devices (key, record) values ($1, $2) \
                 on conflict (key) do update set record = excluded.record",
                &[&record.key, &encode(record)],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn update_device(
        &self,
        key: &str,
        change: &mut dyn FnMut(Option<DeviceRecord>) -> Option<DeviceRecord>,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            // The row locked from the read to the commit; a missing row's key locked through
            // an advisory lock on its hash, so that two first registrations do not race.
            tx.execute(
                "select pg_advisory_xact_lock(hashtext('zp-device:' || $1))",
                &[&key],
            )
            .map_err(engine)?;
            let record = tx
                .query_opt(
                    "select record from devices where key = $1 for update",
                    &[&key],
                )
                .map_err(engine)?
                .map(|r| decode::<DeviceRecord>(key, r.get::<_, &str>(0)))
                .transpose()?;
            let Some(new) = change(record.clone()) else {
                return Ok(record);
            };
            tx.execute(
                "insert into devices (key, record) values ($1, $2) \
                 on conflict (key) do update set record = excluded.record",
                &[&key, &encode(&new)],
            )
            .map_err(engine)?;
            tx.commit().map_err(engine)?;
            Ok(Some(new))
        })
    }

    fn devices(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.with(|c| {
            c.query("select key, record from devices order by key", &[])
                .map_err(engine)?
                .iter()
                .map(|r| decode(r.get::<_, &str>(0), r.get::<_, &str>(1)))
                .collect()
        })
    }

    fn server_seed(&self, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
        if let Some(seed) = self.server_seed.get() {
            return Ok(*seed);
        }
        let seed = self.with(|c| {
            // Kept only if none is: every instance's first call agrees on one.
            c.execute(
                "insert into meta (key, value) values ('server-key', $1) \
                 on conflict (key) do nothing",
                &[&&fresh[..]],
            )
            .map_err(engine)?;
            let kept: Vec<u8> = c
                .query_one("select value from meta where key = 'server-key'", &[])
                .map_err(engine)?
                .get(0);
            <[u8; 32]>::try_from(&kept[..]).map_err(|_| damaged("m\0server-key", "not 32 bytes"))
        })?;
        Ok(*self.server_seed.get_or_init(|| seed))
    }

    fn log_after(&self, after: u64, limit: usize) -> Result<Vec<LogRecord>, StoreError> {
        self.with(|c| {
            c.query(
                "select seq, link, body from log where seq > $1 order by seq limit $2",
                &[&db_seq(after), &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .map_err(engine)?
            .iter()
            .map(|r| {
                let seq = seq_of(r.get(0));
                let link = super::link_of(seq, r.get(1))?;
                Ok(LogRecord {
                    seq,
                    link,
                    body: r.get(2),
                })
            })
            .collect()
        })
    }

    fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "insert into checkpoints (seq, record) values ($1, $2) \
                 on conflict (seq) do nothing",
                &[&db_seq(checkpoint.seq), &encode(checkpoint)],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn checkpoints_after(&self, after: u64, limit: usize) -> Result<Vec<Checkpoint>, StoreError> {
        self.with(|c| {
            c.query(
                "select seq, record from checkpoints where seq > $1 order by seq limit $2",
                &[&db_seq(after), &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .map_err(engine)?
            .iter()
            .map(|r| {
                decode(
                    format!("checkpoint {}", r.get::<_, i64>(0)),
                    r.get::<_, &str>(1),
                )
            })
            .collect()
        })
    }

    fn log_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        self.meta("log")?
            .map(|v| super::log_head_of(&v))
            .transpose()
    }

    fn keep_activity(&self, record: &ActivityRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "insert into activity (at, record) values ($1, $2)",
                &[&record.at, &encode(record)],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn activity(&self, limit: usize) -> Result<Vec<ActivityRecord>, StoreError> {
        self.with(|c| {
            c.query(
                "select record from activity order by at desc, n desc limit $1",
                &[&(limit.min(i64::MAX as usize) as i64)],
            )
            .map_err(engine)?
            .iter()
            .map(|r| decode("activity", r.get::<_, &str>(0)))
            .collect()
        })
    }

    fn blob(&self, hash: &str) -> Result<Option<BlobMeta>, StoreError> {
        self.with(|c| {
            c.query_opt("select record from blobs where hash = $1", &[&hash])
                .map_err(engine)?
                .map(|r| decode(hash, r.get::<_, &str>(0)))
                .transpose()
        })
    }

    fn put_blob(&self, hash: &str, meta: &BlobMeta) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "insert into blobs (hash, record) values ($1, $2) \
                 on conflict (hash) do update set record = excluded.record",
                &[&hash, &encode(meta)],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        // Every write committed before it returned: PostgreSQL made it durable then.
        Ok(())
    }

    fn pool(&self) -> Option<PoolStats> {
        Some(self.stats())
    }

    fn shared(&self) -> bool {
        true
    }

    fn login_counts(&self) -> Option<&dyn super::LoginCounts> {
        Some(self)
    }

    fn own_writes(&self) -> Vec<u64> {
        std::mem::take(&mut *self.own.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn hold_writes(&self) -> Result<super::WriteHold<'_>, StoreError> {
        use std::sync::atomic::Ordering;
        // One connection of its own, outside the pool: the lock is its session's, and a
        // connection that could not let go is closed, which lets go.
        let mut held = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        let start = Instant::now();
        let locked = blocking(|| -> Result<(), StoreError> {
            // A connection the server closed meanwhile (a restart of the database, an idle
            // timeout) fails its first statement: try once more on a new one.
            let mut last = None;
            for _ in 0..2 {
                if held.as_ref().is_none_or(|c| c.is_closed()) {
                    let mut client = self.config.connect(NoTls).map_err(|e| {
                        StoreError::Database(format!("no database connection: {e}"))
                    })?;
                    // Waiting longer than this for another instance means something is
                    // wrong with it: the request is answered busy and tried again.
                    client
                        .batch_execute(&format!("set lock_timeout = '{}s'", HOLD_WAIT.as_secs()))
                        .map_err(engine)?;
                    *held = Some(client);
                }
                let client = held.as_mut().ok_or_else(|| engine("no connection"))?;
                match client.execute_typed(
                    "select pg_advisory_lock($1)",
                    &[(&self.locks.push, Type::INT8)],
                ) {
                    Ok(_) => return Ok(()),
                    Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                        return Err(StoreError::Busy(format!(
                            "another instance has held the database's write lock for {} s",
                            HOLD_WAIT.as_secs()
                        )));
                    }
                    Err(e) => {
                        *held = None;
                        last = Some(e);
                    }
                }
            }
            Err(engine(last.map_or_else(
                || "no connection".to_owned(),
                |e| e.to_string(),
            )))
        });
        locked?;
        self.own.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.lock_wait_micros
            .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(super::WriteHold::releasing(move || {
            let mut held = held;
            let released = blocking(|| {
                held.as_mut().map(|c| {
                    c.execute_typed(
                        "select pg_advisory_unlock($1)",
                        &[(&self.locks.push, Type::INT8)],
                    )
                })
            });
            if !matches!(released, Some(Ok(_))) {
                tracing::warn!(
                    "could not let go of the database's write lock: closing its connection"
                );
                *held = None;
            }
        }))
    }
}

/// The schema version the database holds.
pub fn schema_version(store: &PgStore) -> Result<i32, StoreError> {
    store.with(|c| {
        Ok(
            c.query_one("select coalesce(max(version), 0) from zp_schema", &[])
                .map_err(engine)?
                .get(0),
        )
    })
}
