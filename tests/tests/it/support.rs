//! A real server on port 0 with its own sled directory, and devices with their own.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use zonepatrol_app::store::{Repo, now_millis};
use zonepatrol_app::sync::{Progress, SyncClient, SyncError};
use zonepatrol_server::Settings;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_shared::Severity;
use zonepatrol_shared::docs::{Day, DocId, FreeText, Problem};
use zonepatrol_shared::rules::period::MineClock;

/// A server running in this process on a loopback port.
pub struct TestServer {
    pub url: String,
    pub data: PathBuf,
    _dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// The demo mine on a fresh data directory.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server with no mine at all: an empty data directory, no demo.
    pub async fn start_empty() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("server");
        let mut settings = Settings::new(&data);
        settings.demo = false;
        TestServer::launch(dir, data, settings).await
    }

    /// The demo mine with adjusted settings.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> TestServer {
        TestServer::start_in(tempfile::tempdir().expect("temp dir"), adjust).await
    }

    /// The server on the data directory inside `dir` (kept by an earlier server, see
    /// [`TestServer::stop_keeping_data`]), with adjusted settings.
    pub async fn start_in(dir: TempDir, adjust: impl FnOnce(&mut Settings)) -> TestServer {
        let data = dir.path().join("server");
        let mut settings = Settings::new(&data);
        settings.demo = true;
        adjust(&mut settings);
        TestServer::launch(dir, data, settings).await
    }

    /// The demo mine's server on the data directory inside `dir`, at the address of `url` (a
    /// server that went away and came back where the phones know it).
    pub async fn start_in_at(dir: TempDir, url: &str) -> TestServer {
        let data = dir.path().join("server");
        let mut settings = Settings::new(&data);
        settings.demo = true;
        let address = url.trim_start_matches("http://");
        TestServer::launch_at(dir, data, settings, address).await
    }

    async fn launch(dir: TempDir, data: PathBuf, settings: Settings) -> TestServer {
        TestServer::launch_at(dir, data, settings, "127.0.0.1:0").await
    }

    async fn launch_at(
        dir: TempDir,
        data: PathBuf,
        settings: Settings,
        address: &str,
    ) -> TestServer {
        let demo = settings.demo;
        // A group's mines are under /m/ID: the first one answers for the server.
        let probe = settings.mines.first().map(|m| m.base()).unwrap_or_default();
        let listener = TcpListener::bind(address).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            zonepatrol_server::launch(settings, listener, shutdown)
                .await
                .expect("server runs");
        });
        let server = TestServer {
            url,
            data,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        };
        server.wait_ready(demo, &probe).await;
        server
    }

    async fn wait_ready(&self, demo: bool, probe: &str) {
        let http = http();
        for _ in 0..600 {
            // The demo accounts exist once seeding is done: a login answers 200. A server
            // without a mine is up when its sign-in page answers.
            let ok = if demo {
                http.post(format!("{}{probe}/v1/login", self.url))
                    .json(&serde_json::json!({"user": "admin", "password": DEMO_PASSWORD}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            } else {
                http.get(format!("{}{probe}/login", self.url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            };
            // A group's mines start each on their own: all of them, and the group, serve.
            let all = probe.is_empty()
                || http
                    .get(format!("{}/ready", self.url))
                    .send()
                    .await
                    .ok()
                    .is_some_and(|r| r.status().is_success());
            if ok && all {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the test server did not come up");
    }

    /// Stops the server and keeps its data directory, which is removed when the returned
    /// guard is dropped.
    pub async fn stop_keeping_data(mut self) -> TempDir {
        self.halt().await;
        std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"))
    }

    async fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }

    /// Stops the server and waits until its store is closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

/// A device: its own sled directory, signed in as one user.
pub struct Device {
    pub repo: Arc<Repo>,
    pub client: SyncClient,
    pub user: String,
    _dir: TempDir,
}

impl Device {
    /// A new device signed in to `url` as a demo user.
    pub async fn new(url: &str, user: &str) -> Device {
        Device::with_password(url, user, DEMO_PASSWORD).await
    }

    /// A new device signed in to `url` with a password.
    pub async fn with_password(url: &str, user: &str, password: &str) -> Device {
        Device::named(url, user, password, "test device").await
    }

    /// A new device that names itself `device` to the server, signed in with a password.
    pub async fn named(url: &str, user: &str, password: &str, device: &str) -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Arc::new(Repo::open(dir.path()).expect("open repo"));
        let client = SyncClient::new(repo.clone()).expect("client");
        client
            .login(url, user, password, device)
            .await
            .expect("login");
        Device {
            repo,
            client,
            user: user.to_owned(),
            _dir: dir,
        }
    }

    /// Syncs, expecting success.
    pub async fn sync(&self) -> Progress {
        match self.client.sync().await {
            Ok(p) => p,
            Err(e) => panic!("{} could not sync: {e}", self.user),
        }
    }

    /// Syncs through the server at `url` (another instance sharing the first one's
    /// database), expecting success.
    pub async fn sync_via(&self, url: &str) -> Progress {
        let mut session = self.repo.session().expect("reads").expect("signed in");
        if session.server != url {
            session.server = url.to_owned();
            self.repo.set_session(&session).expect("saved");
        }
        self.sync().await
    }

    /// Syncs, returning the error if any.
    pub async fn try_sync(&self) -> Result<Progress, SyncError> {
        self.client.sync().await
    }

    /// Every document's id and heads, sorted.
    pub fn state(&self) -> Vec<(String, Vec<automerge::ChangeHash>)> {
        let mut ids = self.repo.ids().expect("ids");
        ids.sort();
        ids.into_iter()
            .map(|id| {
                let (mut heads, _) = self.repo.heads(&id).expect("heads").expect("doc");
                heads.sort();
                (id, heads)
            })
            .collect()
    }
}

/// A plain HTTP client, for requests a device would not make.
pub fn http() -> reqwest::Client {
    zonepatrol_app::sync::install_crypto();
    reqwest::Client::new()
}

/// Today at the mine.
pub fn today() -> NaiveDate {
    MineClock::default()
        .date_of_millis(now_millis())
        .expect("a date")
}

/// Parses a document id.
pub fn id(text: &str) -> DocId {
    text.parse().expect("document id")
}

/// A problem raised on a device for a zone holder: major, due today.
pub fn raise(device: &Device, problem: &str, raiser: &str, zone: &str, holder: &str) {
    device
        .repo
        .edit::<Problem, _>(&id(problem), |p| {
            p.finding.zone = zone.into();
            p.finding.raised_by = raiser.into();
            p.finding.raised_at = now_millis();
            p.finding.description = FreeText::from("皮带机托辊缺失");
            p.finding.severity = Severity::Major;
            p.finding.responsible = holder.into();
            p.finding.deadline = Some(Day(today()));
        })
        .expect("saved");
}

/// Where a test's devices sync: one server, or, each time, a random one of several instances
/// sharing a database.
pub struct Routes {
    urls: Vec<String>,
    rng: std::sync::Mutex<rand::rngs::StdRng>,
}

impl Routes {
    /// Always the one server.
    pub fn one(url: &str) -> Routes {
        Routes::random(vec![url.to_owned()], 0)
    }

    /// A random one of `urls` each time, from `seed`.
    pub fn random(urls: Vec<String>, seed: u64) -> Routes {
        Routes {
            urls,
            rng: std::sync::Mutex::new(rand::SeedableRng::seed_from_u64(seed)),
        }
    }

    /// The server for the next request.
    pub fn pick(&self) -> String {
        let mut rng = self.rng.lock().expect("the routes");
        let n = rand::Rng::random_range(&mut *rng, 0..self.urls.len());
        self.urls[n].clone()
    }
}

/// The key a test signs in with as `user` over raw HTTP: one per person, made from their name,
/// so that a push can be signed knowing only the token it is sent with.
pub fn test_key(user: &str) -> zonepatrol_shared::signing::DeviceKey {
    use sha2::Digest;
    let seed: [u8; 32] = sha2::Sha256::digest(format!("zone patrol test key of {user}")).into();
    zonepatrol_shared::signing::DeviceKey::from_seed(seed)
}

/// Whose each raw-HTTP token is, for [`signatures`].
static TOKENS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

/// Notes whose a token is (a raw-HTTP sign-in with [`test_key`]).
pub fn remember_token(token: &str, user: &str) {
    TOKENS
        .lock()
        .expect("tokens")
        .insert(token.to_owned(), user.to_owned());
}

/// The signatures a phone would send with `changes` (a whole document, as `save()` gives it)
/// to `doc`, signed with the [`test_key`] of whoever `token` belongs to. Damaged bytes that do
/// not load are sent unsigned: the server refuses them before it looks at signatures.
pub fn signatures(
    token: &str,
    doc: &str,
    changes: &[u8],
) -> Vec<zonepatrol_shared::signing::SignedChanges> {
    let Some(user) = TOKENS.lock().expect("tokens").get(token).cloned() else {
        return Vec::new();
    };
    let hashes = std::panic::catch_unwind(|| {
        let mut loaded = automerge::AutoCommit::new();
        loaded.load_incremental(changes).ok()?;
        Some(
            loaded
                .get_changes(&[])
                .iter()
                .map(|c| c.hash())
                .collect::<Vec<_>>(),
        )
    })
    .ok()
    .flatten()
    .unwrap_or_default();
    vec![test_key(&user).sign_changes(doc, &user, &hashes)]
}

/// Writes branch `zcyd`'s audit export to `to` with the server's real command line (`store`:
/// how it finds the store, `--data DIR` and perhaps `--database URL`), expecting success; the
/// export read back.
pub fn audit_export(
    store: &[&std::ffi::OsStr],
    to: &std::path::Path,
) -> zonepatrol_shared::audit::AuditExport {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonepatrol-server-under-test"))
        .args(["audit", "export", "--branch", "zcyd"])
        .args(store)
        .arg("--to")
        .arg(to)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(to).expect("read")).expect("an export")
}
