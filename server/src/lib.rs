//! The Zone Patrol server: accounts, the batched sync endpoint, validation of every incoming
//! change, the consolidated reports, the managers' dashboard, photos, and the demo mine.
//!
//! Everything starts at [`launch`], the one seam: the binary calls it with a listener bound
//! to the configured address, the tests with one bound to port 0.
//!
//! # Layout
//!
//! - [`routes`]: the HTTP routes and their bodies (described in `docs/PROTOCOL.md`).
//! - `serve`: the accept loop, with every connection bounded in time and all in number.
//! - `sync`: taking in pushed changes (prepare, check, commit through the document writer,
//!   flush, acknowledge) and sending back what changed after a device's cursor.
//! - [`auth`]: argon2 passwords, bearer tokens, the sign-in throttle and workers, the
//!   authenticated-user extractor.
//! - [`store`]: the [`store::Storage`] trait, its sled engine, the one document writer
//!   ([`store::writer`]) and the conformance suite every engine runs.
//! - [`consolidate`]: each document's contribution to the results, and the reports computed
//!   from them.
//! - [`reports`]: the report documents kept in step with the consolidated results.
//! - [`publish`]: publishing and reopening a branch's period.
//! - [`admin`]: setting up and keeping a mine (branches, zones, members, accounts, templates),
//!   every document change made as the signed-in person's validated change.
//! - [`dashboard`]: the managers' server-rendered pages and exports.
//! - [`photos`]: which documents point at each photo, for who may read it.
//! - [`blobs`]: photos as content-addressed files, with resumable uploads.
//! - [`error`]: the JSON error every route answers with.
//! - [`seed`]: the demo mine's accounts and directories.
//! - [`demo`]: the demo mine's figures, computed with the shared rules.
//! - [`demo_history`]: the demo mine's living history, written through the phones' path.
//! - [`cli`]: the command line (`serve`, `demo`, `user add`, `figures`).

pub mod admin;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod consolidate;
pub mod dashboard;
pub mod demo;
pub mod demo_history;
pub mod error;
pub mod group;
pub mod health;
pub mod metrics;
pub mod migrate;
pub mod photos;
pub mod publish;
pub mod reports;
pub mod routes;
pub mod seed;
mod serve;
pub mod store;
mod sync;
pub mod tls;
pub mod visits;

#[doc(hidden)]
pub use sync::check_push;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::blobs::BlobFiles;
use crate::store::{PgStore, SledStore, Storage, StoreError};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the store and the blobs live.
    pub data_dir: PathBuf,
    /// How long a login token works.
    pub token_ttl: Duration,
    /// The largest blob (photo) accepted, in bytes.
    pub max_blob_bytes: u64,
    /// The largest request body (a sync push), in bytes.
    pub max_request_bytes: usize,
    /// The most document bytes one sync answer carries; the device asks again for more.
    pub max_response_bytes: u64,
    /// The most bytes of automerge changes one pushed document may carry.
    pub max_push_doc_bytes: usize,
    /// Whether pushed changes must be signed (always, in service). Off only as the signing
    /// benchmark's anchor, the same path without the signatures' check; no command line or
    /// configuration file sets it.
    #[doc(hidden)]
    pub verify_signatures: bool,
    /// The most bytes of automerge changes one request may carry in all (the app sends at
    /// most 4 MiB at a time).
    pub max_push_bytes: usize,
    /// Memory for pushes being taken in, in bytes, across all requests: a push over 64 KiB
    /// reserves forty times its body (the body, its JSON, the decoded changes and automerge's
    /// documents) and waits for room, answered 503 if none comes soon; the largest a request
    /// may be takes it all.
    pub max_bodies_in_memory: usize,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// Connections from one address at once; more are closed.
    pub connections_per_address: usize,
    /// How long a client may take to send a request's headers, or to start the next request
    /// on a kept-alive connection.
    pub header_timeout: Duration,
    /// How long a request body may go without sending anything.
    pub body_timeout: Duration,
    /// Password checks at once (argon2 holds 19 MiB and a core for each).
    pub password_checks: usize,
    /// How long a sign-in waits for its turn before it is answered 503 (busy).
    pub login_wait: Duration,
    /// Refused pushes kept for the record, per user; the oldest go first.
    pub refused_per_user: usize,
    /// How long refused pushes are kept for the record.
    pub refused_keep: Duration,
    /// Unfinished photo uploads one user may have at once.
    pub uploads_per_user: usize,
    /// How long an unfinished upload is kept without a byte added.
    pub upload_keep: Duration,
    /// How long a stored photo that no document points at is kept: as long as a refused
    /// push is, so that an edit re-applied from a phone finds its photos.
    pub orphan_photo_keep: Duration,
    /// Seed the demo mine (accounts and directories) if the store has no users.
    pub demo: bool,
    /// With `demo`, also write the demo mine's living history when it is seeded
    /// ([`demo_history`]); the tests start the bare demo mine.
    pub demo_history: bool,
    /// The rules results are computed with (money, inspection, grades).
    pub rules: zonepatrol_shared::rules::RulesConfig,
    /// The mine's time zone, for dates and periods.
    pub clock: zonepatrol_shared::rules::MineClock,
    /// HTTPS with this certificate and key, or plain HTTP.
    pub tls: Option<tls::TlsFiles>,
    /// Rebuild the results from every stored document at start, not from the facts kept
    /// beside them.
    pub rebuild_results: bool,
    /// Keep the store in PostgreSQL (a mining group's servers) instead of the embedded sled
    /// store in the data directory (which then holds the inbox of command-line requests
    /// alone: the photos are in the database too).
    pub database: Option<Database>,
    /// A mining group's mines, each served under `/m/ID/` with a store of its own; none is
    /// one mine served alone at the root ([`group`]).
    pub mines: Vec<group::Mine>,
    /// What this store serves: set by [`launch`] for each store of a group.
    pub place: group::Place,
}

/// A PostgreSQL database to keep the store in.
#[derive(Clone)]
pub struct Database {
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
    pub url: String,
    /// Connections the server keeps to it at most.
    pub connections: u32,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &Database::shown(&self.url))
            .field("connections", &self.connections)
            .finish()
    }
}

impl Database {
    /// A database address as it may be shown: any password replaced by `***`.
    pub fn shown(url: &str) -> String {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
            // The key=value form quotes and escapes its values: nothing of it is shown.
            return "(a key=value database address, not shown)".to_owned();
        }
        // The URL's parameters may carry a password, spelt or percent-encoded any way.
        let (base, query) = match url.split_once('?') {
            Some((base, _)) => (base, "?…"),
            None => (url, ""),
        };
        format!("{}{query}", Database::shown_userinfo(base))
    }

    fn shown_userinfo(url: &str) -> String {
        match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let creds = &url[scheme + 3..at];
                match creds.find(':') {
                    Some(colon) => format!(
                        "{}{}:***{}",
                        &url[..scheme + 3],
                        &creds[..colon],
                        &url[at..]
                    ),
                    None => url.to_owned(),
                }
            }
            _ => url.to_owned(),
        }
    }
}

impl Settings {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            data_dir: data_dir.into(),
            token_ttl: Duration::from_secs(30 * 24 * 3600),
            max_blob_bytes: 25 * 1024 * 1024,
            max_request_bytes: 16 * 1024 * 1024,
            max_response_bytes: 8 * 1024 * 1024,
            max_push_doc_bytes: 2 * 1024 * 1024,
            verify_signatures: true,
            max_push_bytes: 8 * 1024 * 1024,
            max_bodies_in_memory: 384 * 1024 * 1024,
            max_connections: 4096,
            connections_per_address: 512,
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            password_checks: std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            login_wait: Duration::from_secs(3),
            refused_per_user: 200,
            refused_keep: Duration::from_secs(90 * 24 * 3600),
            uploads_per_user: 16,
            upload_keep: Duration::from_secs(7 * 24 * 3600),
            orphan_photo_keep: Duration::from_secs(90 * 24 * 3600),
            demo: false,
            demo_history: false,
            rules: Default::default(),
            clock: Default::default(),
            tls: None,
            rebuild_results: false,
            database: None,
            mines: Vec::new(),
            place: group::Place::Alone,
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The store could not be opened.
    #[error("could not open the store in {dir}: {source} (is another server using it?)")]
    Store {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The data directory could not be used.
    #[error("could not use the data directory {dir}: {source}")]
    Io {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Seeding the demo mine failed.
    #[error("could not seed the demo mine: {0}")]
    Seed(#[from] seed::SeedError),
    /// The reports could not be computed or written at start.
    #[error("could not compute the reports: {0}")]
    Reports(#[from] reports::ReportError),
    /// Serving failed.
    #[error("serving failed: {0}")]
    Serve(std::io::Error),
    /// The data directory's format cannot be served.
    #[error(transparent)]
    Format(#[from] store::format::FormatError),
    /// The backup before a migration failed: nothing was migrated.
    #[error("could not take the backup before migrating the data directory: {0}")]
    Backup(backup::BackupError),
    /// The PostgreSQL store could not be opened.
    #[error("could not use the database {url}: {source}")]
    Database {
        /// The database, its password hidden.
        url: String,
        /// Why.
        source: StoreError,
    },
    /// The TLS certificate and key could not be used.
    #[error("{0:#}")]
    Tls(anyhow::Error),
}

/// What every route shares.
pub struct State {
    /// The store.
    pub store: Arc<dyn Storage>,
    /// The photos: files beside the embedded store, tables of the database beside PostgreSQL.
    pub blobs: Arc<dyn blobs::Blobs>,
    /// The settings.
    pub settings: Settings,
    /// Pushes hold this for writing, pulls for reading.
    pub(crate) docs: RwLock<()>,
    /// Uploads under way right now, by user and blob: one at a time for each.
    pub(crate) uploads: Mutex<std::collections::HashSet<(String, String)>>,
    /// What guards signing in.
    pub(crate) guard: auth::Guard,
    /// Room for request bodies in memory, in KiB.
    pub(crate) body_room: Arc<tokio::sync::Semaphore>,
    /// The consolidated results and what is kept in step with them.
    pub(crate) results: reports::Results,
    /// Where its routes are: `` at the root, `/m/ID` for a mine of a group.
    pub(crate) base: Arc<str>,
    /// For a mine of a group, the group's accounts: its managers read every mine's pages.
    pub(crate) group: Option<Arc<State>>,
}

/// What the stores a process serves share: the password checks' threads and the room for
/// request bodies in memory are the machine's, however many mines it serves.
#[derive(Clone)]
pub(crate) struct Common {
    logins: Arc<auth::Logins>,
    body_room: Arc<tokio::sync::Semaphore>,
}

impl Common {
    pub(crate) fn new(settings: &Settings) -> Common {
        Common {
            logins: Arc::new(auth::Logins::new(settings.password_checks)),
            body_room: Arc::new(tokio::sync::Semaphore::new(
                (settings.max_bodies_in_memory / 1024).clamp(1, u32::MAX as usize),
            )),
        }
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl State {
    /// Opens the store and blob files of a data directory.
    pub fn open(settings: Settings) -> Result<State, LaunchError> {
        let common = Common::new(&settings);
        State::open_in(settings, &common, None)
    }

    /// Opens the store and blob files of a data directory (or a schema of the database, for
    /// a store of a group), with what it shares with the others the process serves.
    pub(crate) fn open_in(
        settings: Settings,
        common: &Common,
        group: Option<Arc<State>>,
    ) -> Result<State, LaunchError> {
        let dir = settings.data_dir.clone();
        let io = |source| LaunchError::Io {
            dir: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        if let Some(database) = &settings.database {
            if dir.join("store").exists() && !dir.join(store::format::MOVED).exists() {
                return Err(LaunchError::Io {
                    dir: dir.clone(),
                    source: std::io::Error::other(
                        "it holds a mine's own store, not moved to PostgreSQL: move it with \
                         `zonepatrol-server migrate --from DIR --to postgres://…`, or give the \
                         servers on PostgreSQL a directory of their own for the photos",
                    ),
                });
            }
            let schema = settings.place.schema();
            let store = PgStore::open_in(&database.url, database.connections, schema.as_deref())
                .map_err(|source| LaunchError::Database {
                    url: Database::shown(&database.url),
                    source,
                })?;
            let store = Arc::new(store);
            let blobs = store::PgBlobs::new(store.clone());
            // Photos an earlier version kept as files beside the database move into it.
            if dir.join("blobs").is_dir() {
                let taken = blobs.take_in(&dir.join("blobs")).map_err(io)?;
                if taken > 0 {
                    tracing::info!(
                        photos = taken,
                        dir = %dir.join("blobs").display(),
                        "photo files taken into the database (keep the directory until no instance of an earlier version runs: docs/OPERATIONS.md §11)"
                    );
                }
            }
            return State::with_store(settings, store, Arc::new(blobs), common, group);
        }
        // A directory of a newer format is refused before its store is opened.
        let found = store::format::found(&dir)?;
        let store = open_store(&dir.join("store")).map_err(|source| LaunchError::Store {
            dir: dir.clone(),
            source,
        })?;
        let blobs = BlobFiles::open(&dir.join("blobs")).map_err(io)?;
        match found {
            store::format::Found::Current => {}
            store::format::Found::New => {
                store::format::write(&dir, store::format::CURRENT).map_err(io)?;
            }
            store::format::Found::Older(from) => {
                let backups = dir.join("backups");
                std::fs::create_dir_all(&backups).map_err(io)?;
                let to = backups.join(format!(
                    "before-format-{}-{}.zpbackup",
                    store::format::CURRENT,
                    now_millis()
                ));
                tracing::info!(from, to = store::format::CURRENT, backup = %to.display(), "the data directory is of an older format: taking a backup, then migrating it");
                let manifest = backup::take(&store, &blobs, from, &to, None, || ())
                    .map_err(LaunchError::Backup)?;
                tracing::info!(backup = %to.display(), summary = %manifest.summary(), "backup taken");
                store::format::migrate(&dir, from).map_err(io)?;
                tracing::info!(
                    format = store::format::CURRENT,
                    "the data directory is migrated"
                );
            }
        }
        State::with_store(settings, Arc::new(store), Arc::new(blobs), common, group)
    }

    /// The state around an opened store and blob files.
    fn with_store(
        settings: Settings,
        store: Arc<dyn Storage>,
        blobs: Arc<dyn blobs::Blobs>,
        common: &Common,
        group: Option<Arc<State>>,
    ) -> Result<State, LaunchError> {
        let dummy_hash = auth::hash_password("not anybody's password")
            .map_err(|e| LaunchError::Seed(seed::SeedError::Account(e)))?;
        let consolidator = consolidate::Consolidator::new(settings.rules.clone(), settings.clock);
        let throttle = auth::LoginThrottle::over(store.clone());
        // Made on the first start and kept in the store; said at every start, for audits.
        match store::writer::server_key(&*store) {
            Ok(key) => tracing::info!(
                place = %settings.place.base(),
                key = %key.id(),
                "the server's signing key (audits: zonepatrol-audit verify --server-key)"
            ),
            Err(e) => tracing::error!(error = %e, "the server's signing key could not be read"),
        }
        Ok(State {
            store,
            blobs,
            docs: RwLock::new(()),
            uploads: Mutex::new(Default::default()),
            results: reports::Results::new(consolidator),
            guard: auth::Guard {
                dummy_hash,
                throttle,
                logins: common.logins.clone(),
            },
            body_room: common.body_room.clone(),
            base: Arc::from(settings.place.base()),
            group,
            settings,
        })
    }
}

/// The documents held for writing: this process's other requests kept out by the documents'
/// lock, other instances sharing the store by [`Storage::hold_writes`], and the results caught
/// up with what they wrote. When dropped, the results take in what the holder wrote.
pub(crate) struct Writing<'a> {
    state: &'a State,
    // Dropped in this order: this process's lock, then the database's.
    _docs: std::sync::RwLockWriteGuard<'a, ()>,
    _hold: store::WriteHold<'a>,
}

impl State {
    /// Holds the documents for writing (see [`Writing`]).
    pub(crate) fn writing(&self) -> Result<Writing<'_>, reports::ReportError> {
        // The database's lock first: waiting for another instance must not keep this
        // process's readers out.
        let hold = self.store.hold_writes()?;
        let docs = self.docs.write().unwrap_or_else(|e| e.into_inner());
        reports::catch_up(self, true)?;
        Ok(Writing {
            state: self,
            _hold: hold,
            _docs: docs,
        })
    }

    /// Catches the results up with what other instances wrote (see [`reports::catch_up`]),
    /// holding the documents' lock shared meanwhile.
    pub(crate) fn catch_up(&self) -> Result<usize, reports::ReportError> {
        if !self.store.shared() {
            return Ok(0);
        }
        let _docs = self.docs.read().unwrap_or_else(|e| e.into_inner());
        reports::catch_up(self, false)
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        // Before the hold is let go (fields drop after this body).
        reports::settle(self.state);
    }
}

/// Opens the store, waiting a few seconds for its lock: a process that has just closed it (a
/// restart, or a tool run beside a stopped server) lets go of the lock a moment after it
/// returns. Another server still using it is told after the wait.
fn open_store(path: &std::path::Path) -> Result<SledStore, StoreError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match SledStore::open(path) {
            Err(StoreError::Engine(sled::Error::Io(e)))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            opened => return opened,
        }
    }
}

/// Removes stale unfinished uploads, photos no document has pointed at for long, old refused
/// pushes and expired sign-ins, at start and then hourly.
async fn housekeeping(state: std::sync::Weak<State>) {
    loop {
        let Some(strong) = state.upgrade() else {
            return;
        };
        let done = tokio::task::spawn_blocking(move || {
            let now = now_millis();
            let uploads = strong.blobs.remove_stale(strong.settings.upload_keep);
            // Only once every stored document has been read: before, the index of the photos
            // they point at is not whole.
            if strong.results.readiness.serving()
                && strong.results.unreadable.read().is_ok_and(|u| u.is_empty())
            {
                let held = |hash: &str| {
                    strong
                        .results
                        .photos
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .holds(hash)
                };
                let orphans = strong
                    .blobs
                    .remove_orphans(strong.settings.orphan_photo_keep, &held);
                match orphans {
                    Ok(n) if n > 0 => {
                        tracing::info!(photos = n, "removed photos nothing points at")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "could not remove photos nothing points at")
                    }
                }
            }
            let keep_ms =
                i64::try_from(strong.settings.refused_keep.as_millis()).unwrap_or(i64::MAX);
            let refused = strong.store.prune_refused(now.saturating_sub(keep_ms));
            if let Err(e) = strong.store.prune_tokens(now) {
                tracing::warn!(error = %e, "could not forget expired sign-ins");
            }
            (uploads, refused)
        })
        .await;
        match done {
            Ok((Ok(uploads), Ok(refused))) if uploads + refused > 0 => {
                tracing::info!(
                    uploads,
                    refused,
                    "removed stale uploads and old refused pushes"
                );
            }
            Ok((Ok(_), Ok(_))) => {}
            Ok((uploads, refused)) => tracing::warn!(
                uploads = ?uploads.err(),
                refused = ?refused.err(),
                "housekeeping failed; trying again in an hour"
            ),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Rebuilds the results from the stored documents, writes the demo mine's history on its first
/// start, then opens every route and keeps the reports in step with the date.
async fn warm_up(state: Arc<State>, seeded: bool) {
    // A rebuild that fails (the store failing to read) is tried again every half minute;
    // meanwhile `/ready` says why, and nothing but it, `/health` and `/metrics` is served.
    let weak = Arc::downgrade(&state);
    drop(state);
    let state = loop {
        // Held only while trying: a server that stops meanwhile is not kept waiting.
        let Some(state) = weak.upgrade() else {
            return;
        };
        let shared = state.clone();
        let rebuild = shared.settings.rebuild_results;
        let why = match tokio::task::spawn_blocking(move || reports::load(&shared, rebuild)).await {
            Ok(Ok(_)) => break state,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::error!(error = %why, "the results could not be rebuilt: trying again in 30 s; the server serves nothing but /health, /ready and /metrics meanwhile");
        state
            .results
            .readiness
            .fail(format!("the results could not be rebuilt: {why}"));
        drop(state);
        tokio::time::sleep(Duration::from_secs(30)).await;
    };
    state.results.readiness.clear_failure();
    if seeded && state.settings.demo_history {
        let shared = state.clone();
        match tokio::task::spawn_blocking(move || demo_history::write(&shared)).await {
            Ok(Ok(records)) => tracing::info!(records, "the demo mine's history written"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the demo mine's history could not be written")
            }
            Err(e) => tracing::error!(error = %e, "the demo mine's history could not be written"),
        }
    }
    state.results.readiness.serve();
    tracing::info!("serving");
    tokio::spawn(reports::refresh_daily(Arc::downgrade(&state)));
}

/// Runs the server on `listener` until `shutdown` completes; in-flight requests finish first.
/// With no mines in the settings it serves one mine at the root; with mines, a group
/// ([`group`]).
pub async fn launch(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaunchError> {
    metrics::install();
    let tls = match &settings.tls {
        Some(files) => Some(Arc::new(
            tls::Current::new(files.clone()).map_err(LaunchError::Tls)?,
        )),
        None => None,
    };
    if let Some(tls) = &tls {
        tokio::spawn(tls::reload_on_hangup(Arc::downgrade(tls)));
    }
    let common = Common::new(&settings);
    // Every store served, the group's accounts (which each mine holds) last.
    let (app, served) = if settings.mines.is_empty() {
        group::check_layout(&settings)?;
        let state = Arc::new(State::open_in(settings.clone(), &common, None)?);
        start(&state)?;
        (routes::router(state.clone()), vec![state])
    } else {
        let group = group::open(&settings, &common)?;
        let mut served: Vec<Arc<State>> = group.mines.iter().map(|(_, s)| s.clone()).collect();
        served.push(group.accounts.clone());
        for state in &served {
            start(state)?;
        }
        (group::router(&group), served)
    };
    serve::serve(listener, app, &settings, tls, shutdown)
        .await
        .map_err(LaunchError::Serve)?;
    // Connection tasks and work on the blocking pool may still hold a store for a moment:
    // wait for them (briefly), so that every store is closed when this returns and the next
    // server on the same directory can open it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for state in served {
        while Arc::strong_count(&state) > 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        state.store.flush().map_err(|source| LaunchError::Store {
            dir: state.settings.data_dir.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Seeds a store with the demo mine if asked, then starts its work in the background: the
/// rebuild of its results (the routes answer "starting" meanwhile), its housekeeping and its
/// inbox of workbooks.
fn start(state: &Arc<State>) -> Result<(), LaunchError> {
    let seeded = state.settings.demo && state.settings.place != group::Place::Group && {
        // Instances starting together on one database seed it once.
        let _hold = state
            .store
            .hold_writes()
            .map_err(|source| LaunchError::Database {
                url: "(the store)".to_owned(),
                source,
            })?;
        seed::demo_mine(&*state.store)?
    };
    // The server listens while the results are rebuilt: `/health` and `/ready` answer, and
    // every other route says it is starting (see `health`).
    tokio::spawn(warm_up(state.clone(), seeded));
    tokio::spawn(housekeeping(Arc::downgrade(state)));
    tokio::spawn(admin::inbox::watch(Arc::downgrade(state)));
    Ok(())
}

#[cfg(test)]
mod database_tests {
    use super::Database;

    #[test]
    fn a_database_address_is_shown_without_its_password() {
        for (url, shown) in [
            (
                "postgres://zp:secret@db:5432/zp",
                "postgres://zp:***@db:5432/zp",
            ),
            ("postgresql://zp:se:cret@db/zp", "postgresql://zp:***@db/zp"),
            (
                "postgres://zp@db/zp?password=secret",
                "postgres://zp@db/zp?…",
            ),
            (
                "postgres://zp@db/zp?pass%77ord=secret&x=1",
                "postgres://zp@db/zp?…",
            ),
            (
                "host=db user=zp password = 'a secret' dbname=zp",
                "(a key=value database address, not shown)",
            ),
            ("postgres://db/zp", "postgres://db/zp"),
        ] {
            assert_eq!(Database::shown(url), shown);
            assert!(!Database::shown(url).contains("secret"));
        }
    }
}
