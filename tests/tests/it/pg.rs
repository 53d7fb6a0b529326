//! The PostgreSQL engine against a real PostgreSQL server: the storage conformance suite, and
//! what only a shared database shows. The server is given by `ZONEPATROL_TEST_POSTGRES` (a
//! `postgres://` URL of a role that may create schemas; `scripts/pg-cluster` starts a
//! throwaway one). Without it these tests say SKIPPED and pass, unless
//! `ZONEPATROL_REQUIRE_POSTGRES` is set (CI sets it), when they fail.

use std::path::Path;
use std::time::Duration;

use sha2::Digest;

/// The test server's URL, or `None` (said once per test) when there is none.
pub fn url() -> Option<String> {
    match std::env::var("ZONEPATROL_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("ZONEPATROL_REQUIRE_POSTGRES").is_none(),
                "ZONEPATROL_REQUIRE_POSTGRES is set but ZONEPATROL_TEST_POSTGRES is not: \
                 start a server with scripts/pg-cluster"
            );
            eprintln!(
                "SKIPPED: no PostgreSQL (set ZONEPATROL_TEST_POSTGRES, see scripts/pg-cluster)"
            );
            None
        }
    }
}

/// Runs blocking database work on a thread of its own (the synchronous client blocks on a
/// runtime of its own, which it may not do on an async test's thread).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("the database work"))
}

/// A schema of its own for a directory (the same directory, the same schema: a reopened
/// engine finds what it wrote), made if missing; the URL that puts the engine in it.
pub fn schema_url(url: &str, dir: &Path) -> String {
    let digest = sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let schema = format!("zp_test_{}", hex::encode(&digest[..10]));
    off_runtime(|| {
        let mut client =
            postgres::Client::connect(url, postgres::NoTls).expect("the test database");
        client
            .batch_execute(&format!("create schema if not exists {schema}"))
            .expect("a schema");
    });
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

mod conformance {
    zonepatrol_server::storage_conformance!(
        |dir: &std::path::Path| {
            let url = super::schema_url(&super::url().expect("checked"), dir);
            zonepatrol_server::store::PgStore::open(&url, 4).expect("the PostgreSQL store opens")
        },
        || super::url().is_some()
    );
}

/// A server process on PostgreSQL: writes a device's work, is killed with SIGKILL, and
/// another process on the same database serves it to a new device; `/ready` and `/metrics`
/// speak of the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_postgresql_keeps_what_it_acknowledged() {
    use crate::operations::{Server, series};
    let Some(url) = url() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8");
    let client = crate::support::http();
    let server = Server::start(
        &["demo", "--no-history", "--data", data, "--database", &db],
        &dir.path().join("1.log"),
    );
    server.serving(&client).await;
    let device = crate::support::Device::new(&server.url, "sec").await;
    device.sync().await;
    crate::support::raise(&device, "problem:zcyd:pg-1", "sec", "z1", "h1");
    device.sync().await;
    let before = device.state();
    assert!(before.iter().any(|(id, _)| id == "problem:zcyd:pg-1"));
    server.signal("KILL");
    drop(server);

    // A second process, serving (not seeding) the same database.
    let server = Server::start(
        &["serve", "--data", data, "--database", &db],
        &dir.path().join("2.log"),
    );
    server.serving(&client).await;
    let fresh = crate::support::Device::new(&server.url, "sec").await;
    fresh.sync().await;
    assert_eq!(fresh.state(), before, "what the first process acknowledged");
    let ready = client
        .get(format!("{}/ready", server.url))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
    let metrics = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let series = series(&metrics);
    let open = series
        .iter()
        .filter(|(k, _)| k.starts_with("zonepatrol_db_connections{"))
        .map(|(_, v)| v)
        .sum::<f64>();
    assert!(open >= 1.0, "the pool's connections are shown: {metrics}");
    assert!(series.contains_key("zonepatrol_db_write_lock_wait_seconds_total"));
    // A stop is clean: the database's clients are let go off the runtime.
    let mut server = server;
    server.signal("TERM");
    let status = server.wait(Duration::from_secs(30));
    assert!(status.success(), "stopped with {status:?}");
}

/// `migrate` moves the demo mine's living history from sled into PostgreSQL: a manager's
/// device sees every document with the same heads afterwards (reports and figures
/// included), the devices that synced before go on from their cursors, the accounts sign in,
/// the photos are served, the sled copy is refused, and a second move into a full database
/// is refused with nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_the_demo_mine_whole() {
    use crate::operations::{Server, cli, said};
    let Some(url) = url() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let data = dir.path().join("data");
    let data_s = data.to_str().expect("utf-8");
    let client = crate::support::http();
    let mut server = Server::start(&["demo", "--data", data_s], &dir.path().join("1.log"));
    server.serving(&client).await;
    let mgr = crate::support::Device::new(&server.url, "mgr").await;
    mgr.sync().await;
    let sec = crate::support::Device::new(&server.url, "sec").await;
    sec.sync().await;
    let before = mgr.state();
    assert!(
        before.iter().any(|(id, _)| id.starts_with("report:")),
        "the demo's reports are there to move"
    );
    let photos: Vec<String> = std::fs::read_dir(data.join("blobs"))
        .expect("photos")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 64)
        .collect();
    assert!(!photos.is_empty(), "the demo mine has photos");

    // The server must be stopped first.
    let out = cli(&["migrate", "--from", data_s, "--to", &db]);
    assert!(!out.status.success(), "moved under a running server");
    assert!(said(&out).contains("stop it first"), "{}", said(&out));
    server.signal("TERM");
    server.wait(Duration::from_secs(30));
    drop(server);

    let out = cli(&["migrate", "--from", data_s, "--to", &db]);
    assert!(out.status.success(), "{}", said(&out));
    let words = said(&out);
    let before_count = docs_in(&db);
    assert!(
        words.contains(&format!("{before_count} documents")),
        "{words}"
    );
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
        .map(|(_, password)| password.to_owned())
        .expect("the test URL has a password");
    assert!(
        !words.contains(&password),
        "the password is never printed: {words}"
    );
    // A moved directory is not moved again; nor is any store into a database that holds one.
    let again = cli(&["migrate", "--from", data_s, "--to", &db]);
    assert!(!again.status.success());
    assert!(
        said(&again).contains("moved to PostgreSQL"),
        "{}",
        said(&again)
    );
    let marker = data.join("MOVED-TO-POSTGRESQL");
    let kept = std::fs::read(&marker).expect("the directory is marked moved");
    std::fs::remove_file(&marker).expect("unmarked");
    let again = cli(&["migrate", "--from", data_s, "--to", &db]);
    assert!(!again.status.success());
    assert!(
        said(&again).contains("already holds a store"),
        "{}",
        said(&again)
    );
    assert_eq!(docs_in(&db), before_count, "nothing changed");
    std::fs::write(&marker, kept).expect("marked again");
    // The copy left behind is not served.
    let out = cli(&["serve", "--data", data_s, "--check-config"]);
    assert!(!out.status.success());
    assert!(said(&out).contains("moved to PostgreSQL"), "{}", said(&out));

    // Served from a directory of its own: the photos moved into the database with the rest.
    let after = dir.path().join("after-move");
    let server = Server::start(
        &[
            "serve",
            "--data",
            after.to_str().expect("utf-8"),
            "--database",
            &db,
        ],
        &dir.path().join("2.log"),
    );
    server.serving(&client).await;
    let fresh = crate::support::Device::new(&server.url, "mgr").await;
    fresh.sync().await;
    assert_eq!(
        fresh.state(),
        before,
        "every document the same after the move"
    );
    // The devices that synced with the sled server go on from their cursors.
    let mut session = sec.repo.session().expect("reads").expect("signed in");
    session.server = server.url.clone();
    sec.repo.set_session(&session).expect("saved");
    crate::support::raise(&sec, "problem:zcyd:after-move", "sec", "z1", "h1");
    sec.sync().await;
    fresh.sync().await;
    assert!(
        fresh
            .state()
            .iter()
            .any(|(id, _)| id == "problem:zcyd:after-move")
    );
    // Every photo is served, its bytes its checksum.
    let token = login(&client, &server.url, "mgr").await;
    for hash in &photos {
        let got = client
            .get(format!("{}/v1/blobs/{hash}", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("photo");
        assert_eq!(got.status(), 200, "photo {hash}");
        let bytes = got.bytes().await.expect("bytes");
        assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), *hash);
    }
}

/// How many documents the database holds.
fn docs_in(db: &str) -> i64 {
    off_runtime(|| {
        let mut client = postgres::Client::connect(db, postgres::NoTls).expect("db");
        client
            .query_one("select count(*) from docs", &[])
            .expect("count")
            .get(0)
    })
}

async fn login(client: &reqwest::Client, url: &str, user: &str) -> String {
    let answer: serde_json::Value = client
        .post(format!("{url}/v1/login"))
        .json(&serde_json::json!({
            "user": user,
            "password": zonepatrol_server::seed::DEMO_PASSWORD,
            "device": "test",
        }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    answer["token"].as_str().expect("a token").to_owned()
}

/// The seed of a random run: `ZONEPATROL_SEED` repeats one, else a new one, printed.
fn seed() -> u64 {
    let seed = std::env::var("ZONEPATROL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("seed {seed} (ZONEPATROL_SEED={seed} repeats this run)");
    seed
}

/// Starts `n` server processes on one database and one photo directory (the first seeds the
/// bare demo mine), each serving.
async fn instances(dir: &Path, db: &str, n: usize) -> Vec<crate::operations::Server> {
    use crate::operations::Server;
    let data = dir.join("data");
    let data = data.to_str().expect("utf-8");
    let client = crate::support::http();
    let mut servers = Vec::new();
    for i in 0..n {
        let command = if i == 0 { "demo" } else { "serve" };
        let mut args = vec![command, "--data", data, "--database", db];
        if i == 0 {
            args.push("--no-history");
        }
        let server = Server::start(&args, &dir.join(format!("instance-{i}.log")));
        server.serving(&client).await;
        servers.push(server);
    }
    servers
}

/// The whole scenario (a week's inspection by five inspectors, a month's self-scores and
/// assessments, a problem, a cleanup) entered on devices that each sign in and sync through a
/// random one of three instances sharing one database: the figures are the ones worked out
/// by hand for a single server, and a device syncing through each instance ends with the
/// same documents, reports included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_end_as_one_server() {
    let Some(url) = url() else { return };
    let seed = seed();
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let servers = instances(dir.path(), &db, 3).await;
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let routes = crate::support::Routes::random(urls.clone(), seed);
    crate::scenario::enter_via(&routes).await;

    let sec = crate::support::Device::new(&routes.pick(), "sec").await;
    sec.sync_via(&routes.pick()).await;
    crate::reports::scenario_figures(&sec);

    let mut states = Vec::new();
    for url in &urls {
        let mgr = crate::support::Device::new(url, "mgr").await;
        mgr.sync_via(url).await;
        states.push(mgr.state());
    }
    assert!(
        states[0].len() > 10,
        "the scenario's documents: {}",
        states[0].len()
    );
    assert_eq!(
        states[0], states[1],
        "instances 1 and 2 serve the same (seed {seed})"
    );
    assert_eq!(
        states[0], states[2],
        "instances 1 and 3 serve the same (seed {seed})"
    );
}

/// Starts one more instance that rebuilds its results from every stored document, and
/// returns how many reports it found to differ from the stored ones (and wrote): 0 when the
/// instances that wrote them agreed with a single server's view of the whole store.
async fn reports_a_rebuild_rewrites(dir: &Path, db: &str) -> usize {
    use crate::operations::Server;
    let data = dir.join("data");
    let log = dir.join("rebuild.log");
    let server = Server::start(
        &[
            "serve",
            "--data",
            data.to_str().expect("utf-8"),
            "--database",
            db,
            "--rebuild-results",
        ],
        &log,
    );
    server.serving(&crate::support::http()).await;
    drop(server);
    let text = std::fs::read_to_string(&log).expect("log");
    let line = text
        .lines()
        .find(|l| l.contains("the results are ready"))
        .unwrap_or_else(|| panic!("no results line: {text}"));
    line.split("reports_written=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of reports written: {line}"))
}

/// Syncs through a random instance until one answers (an instance may have been killed).
async fn sync_somewhere(device: &crate::support::Device, routes: &crate::support::Routes) {
    for _ in 0..30 {
        let url = routes.pick();
        let mut session = device.repo.session().expect("reads").expect("signed in");
        session.server = url;
        device.repo.set_session(&session).expect("saved");
        if device.try_sync().await.is_ok() {
            return;
        }
    }
    panic!("{} found no instance to sync with", device.user);
}

/// Six devices raise problems and push them through random instances at once while a
/// manager's device pulls, and one instance is killed with SIGKILL halfway: every change
/// a device had acknowledged, and every change at all once each device synced again, is in
/// the database with the device's own heads; the manager's device ends with the same
/// documents as a fresh one; a rebuild agrees with the reports the instances wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_on_instances_and_a_kill_lose_nothing() {
    use crate::support::{Device, Routes, raise};
    let Some(url) = url() else { return };
    let seed = seed();
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let mut servers = instances(dir.path(), &db, 3).await;
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let routes = Routes::random(urls.clone(), seed);
    let users = ["sec", "zhao", "qian", "sun", "li", "zhou"];
    let mut devices = Vec::new();
    for user in users {
        devices.push(Device::new(&routes.pick(), user).await);
    }
    let mgr = Device::new(&urls[0], "mgr").await;
    const ROUNDS: usize = 6;
    let acked = std::sync::Mutex::new(Vec::<(String, Vec<automerge::ChangeHash>)>::new());
    let done = std::sync::atomic::AtomicBool::new(false);
    let pushes = async {
        for round in 0..ROUNDS {
            if round == ROUNDS / 2 {
                // Halfway: one instance dies mid-flight.
                servers[1].signal("KILL");
            }
            let batch = devices.iter().map(|device| {
                let routes = &routes;
                let acked = &acked;
                async move {
                    let id = format!("problem:zcyd:{}-{round}", device.user);
                    let zone = ["z1", "z2", "z3", "z4"][round % 4];
                    let holder = ["h1", "h2", "h3", "h4"][round % 4];
                    raise(device, &id, &device.user, zone, holder);
                    sync_somewhere(device, routes).await;
                    let (mut heads, _) = device.repo.heads(&id).expect("heads").expect("doc");
                    heads.sort();
                    acked.lock().expect("acked").push((id, heads));
                }
            });
            futures_util::future::join_all(batch).await;
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let pulls = async {
        let mut pulls = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            sync_somewhere(&mgr, &routes).await;
            pulls += 1;
        }
        pulls
    };
    let ((), pulls) = tokio::join!(pushes, pulls);
    assert!(pulls > 1, "the manager pulled while the others pushed");
    let _ = servers[1].wait(Duration::from_secs(10));

    let fresh = Device::new(&urls[0], "mgr").await;
    fresh.sync_via(&urls[0]).await;
    let held: std::collections::BTreeMap<String, Vec<automerge::ChangeHash>> =
        fresh.state().into_iter().collect();
    let acked = acked.into_inner().expect("acked");
    assert_eq!(acked.len(), users.len() * ROUNDS);
    for (id, heads) in &acked {
        assert_eq!(
            held.get(id),
            Some(heads),
            "{id}, acknowledged, is in the database as its device left it (seed {seed})"
        );
    }
    sync_somewhere(&mgr, &routes).await;
    mgr.sync_via(&urls[2]).await;
    assert_eq!(
        mgr.state(),
        fresh.state(),
        "the pulling device missed nothing (seed {seed})"
    );
    assert_eq!(
        reports_a_rebuild_rewrites(dir.path(), &db).await,
        0,
        "the reports the instances wrote are a single server's (seed {seed})"
    );
    // What the instances wrote (one killed mid-flight) is one unbroken log, every change in it
    // signed by its author's phone or by the server, and every document's history is the log's.
    let file = dir.path().join("zcyd-audit.json");
    let data = dir.path().join("audit-data");
    let export = crate::support::audit_export(
        &[
            "--database".as_ref(),
            db.as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
        ],
        &file,
    );
    let summary = zonepatrol_shared::audit::verify(&export, None)
        .unwrap_or_else(|f| panic!("the export verifies (seed {seed}): {f:#?}"));
    assert!(
        summary.device_signed >= users.len() * ROUNDS,
        "{summary:?} (seed {seed})"
    );
}

/// Five wrong passwords spread over three instances count as five: the next try, on any
/// instance, waits (429) — the right password too — while another name signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_spread_over_instances_are_throttled() {
    let Some(url) = url() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let servers = instances(dir.path(), &db, 3).await;
    let client = crate::support::http();
    let try_as = |n: usize, user: &'static str, password: &'static str| {
        let url = servers[n % servers.len()].url.clone();
        let client = client.clone();
        async move {
            client
                .post(format!("{url}/v1/login"))
                .json(&serde_json::json!({ "user": user, "password": password, "device": "t" }))
                .send()
                .await
                .expect("answered")
                .status()
        }
    };
    for n in 0..5 {
        assert_eq!(try_as(n, "sec", "guess").await, 401, "wrong password {n}");
    }
    for n in 0..3 {
        assert_eq!(
            try_as(n, "sec", "guess").await,
            429,
            "instance {n} makes it wait"
        );
    }
    let right = zonepatrol_server::seed::DEMO_PASSWORD;
    let right: &'static str = Box::leak(right.to_owned().into_boxed_str());
    assert_eq!(
        try_as(1, "sec", right).await,
        429,
        "even the right password waits"
    );
    assert_eq!(
        try_as(2, "zhao", right).await,
        200,
        "another name is not held up"
    );
}

/// A manager publishes the month on one instance while the secretary's assessment of it is
/// pushed through another: either the assessment came first and the published month counts
/// it, or it is refused as published; never both, never neither; a rebuild agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_one_instance_races_a_push_on_another() {
    use crate::scenario::{actor, items_for};
    use zonepatrol_app::records::assessment::Scorer;
    use zonepatrol_shared::Role;
    use zonepatrol_shared::docs::{Assessment, DocId};
    let Some(url) = url() else { return };
    let seed = seed();
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let servers = instances(dir.path(), &db, 3).await;
    let (_, month) = crate::scenario::week_and_month();
    let sec = crate::support::Device::new(&servers[1].url, "sec").await;
    sec.sync_via(&servers[1].url).await;
    Scorer::Secretary
        .save(
            &sec.repo,
            &actor("sec", Role::Secretary),
            "z1",
            month,
            &items_for("91.5"),
            "",
        )
        .expect("assessed on the phone");
    let browser = crate::dashboard::Browser::sign_in(
        &servers[0].url,
        "mgr",
        zonepatrol_server::seed::DEMO_PASSWORD,
    )
    .await
    .expect("signed in");
    // Which goes first is up to the seed's small head start.
    let head_start = Duration::from_millis(seed % 40);
    let publish = async {
        tokio::time::sleep(head_start).await;
        browser
            .post(
                "/dash/publish",
                &format!("branch=zcyd&period={month}&action=publish&back=%2Fdash"),
            )
            .await
    };
    let push = sec.sync_via(&servers[2].url);
    let ((status, _), _) = tokio::join!(publish, push);
    assert_eq!(status, 303, "published");
    sec.sync_via(&servers[2].url).await;
    let id = DocId::Assessment {
        branch: "zcyd".into(),
        zone: "z1".into(),
        month,
    };
    let fresh = crate::support::Device::new(&servers[0].url, "mgr").await;
    fresh.sync_via(&servers[0].url).await;
    let on_server = fresh
        .repo
        .read::<Assessment>(&id)
        .expect("reads")
        .is_some_and(|a| !a.branch_score.items.is_empty());
    let refused = !sec.repo.quarantine().expect("quarantine").is_empty();
    assert!(
        on_server != refused,
        "either stored or refused: stored {on_server}, refused {refused} (seed {seed})"
    );
    let report = fresh
        .repo
        .read::<zonepatrol_shared::docs::Report>(&DocId::Report {
            branch: "zcyd".into(),
            period: month,
        })
        .expect("reads")
        .expect("the month's report");
    assert_eq!(
        report.zones.get("z1").and_then(|z| z.score).is_some(),
        on_server,
        "the published month counts the assessment exactly when it was stored (seed {seed})"
    );
    assert_eq!(
        reports_a_rebuild_rewrites(dir.path(), &db).await,
        0,
        "seed {seed}"
    );
}

/// Runs `scripts/pg-cluster ARGS`; its last line of output.
fn pg_cluster(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .expect("scripts/pg-cluster runs");
    assert!(
        out.status.success(),
        "scripts/pg-cluster {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_owned()
}

/// A primary with a synchronous standby made by `pg_basebackup`; a server pushes through the
/// primary, which then dies as in a power cut with the server; the standby is promoted and a
/// server on it has every push a phone was told was saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_to_a_synchronous_standby_loses_no_acknowledged_push() {
    use crate::operations::Server;
    use crate::support::{Device, raise};
    if url().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let primary_dir = dir.path().join("primary");
    let standby_dir = dir.path().join("standby");
    // Stopped however the test ends.
    let _clusters = Clusters(vec![primary_dir.clone(), standby_dir.clone()]);
    let primary = pg_cluster(&["start", primary_dir.to_str().expect("utf-8")]);
    let standby = pg_cluster(&[
        "standby",
        primary_dir.to_str().expect("utf-8"),
        standby_dir.to_str().expect("utf-8"),
    ]);
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8");
    let client = crate::support::http();
    let mut server = Server::start(
        &[
            "demo",
            "--no-history",
            "--data",
            data,
            "--database",
            &primary,
        ],
        &dir.path().join("1.log"),
    );
    server.serving(&client).await;
    let sec = Device::new(&server.url, "sec").await;
    for n in 0..5 {
        raise(&sec, &format!("problem:zcyd:fo-{n}"), "sec", "z1", "h1");
        sec.sync().await;
    }
    let acked = sec.state();
    // The primary's machine goes: the database and the server with it.
    pg_cluster(&["crash", primary_dir.to_str().expect("utf-8")]);
    server.signal("KILL");
    let _ = server.wait(Duration::from_secs(10));
    drop(server);
    pg_cluster(&["promote", standby_dir.to_str().expect("utf-8")]);
    let server = Server::start(
        &["serve", "--data", data, "--database", &standby],
        &dir.path().join("2.log"),
    );
    server.serving(&client).await;
    let fresh = Device::new(&server.url, "sec").await;
    fresh.sync().await;
    let held: std::collections::BTreeMap<_, _> = fresh.state().into_iter().collect();
    for (id, heads) in &acked {
        assert_eq!(held.get(id), Some(heads), "{id} after the failover");
    }
    assert!(held.contains_key("problem:zcyd:fo-4"));
    // The promoted standby takes writes.
    raise(&sec, "problem:zcyd:fo-after", "sec", "z1", "h1");
    sec.sync_via(&server.url).await;
}

/// Clusters of a test's own, stopped when it ends.
struct Clusters(Vec<std::path::PathBuf>);

impl Drop for Clusters {
    fn drop(&mut self) {
        for dir in &self.0 {
            let _ = std::process::Command::new("bash")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster"))
                .args(["stop", dir.to_str().unwrap_or_default()])
                .output();
        }
    }
}

/// A mining group on one database: two instances serve two mines, each mine in a schema of
/// its own. A mine's work reaches its people through either instance and never the other
/// mine's, in the API or the database; the group's manager, added on the command line, reads
/// both; the write lock's waits are reported per mine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_mines_on_one_database_keeps_each_mine_apart() {
    use crate::operations::Server;
    let Some(url) = url() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8");
    let client = crate::support::http();
    let mines = "east=东滩煤矿,west=鲍店煤矿";
    let mut servers = Vec::new();
    for (i, command) in ["demo", "serve"].into_iter().enumerate() {
        let mut args = vec![command, "--data", data, "--database", &db, "--mines", mines];
        if i == 0 {
            args.push("--no-history");
        }
        let server = Server::start(&args, &dir.path().join(format!("group-{i}.log")));
        server.serving(&client).await;
        servers.push(server);
    }
    let at = |i: usize, mine: &str| format!("{}/m/{mine}", servers[i].url);

    let east_a = crate::support::Device::new(&at(0, "east"), "sec").await;
    east_a.sync().await;
    crate::support::raise(&east_a, "problem:zcyd:pg-east", "sec", "z1", "h1");
    east_a.sync().await;
    let east_b = crate::support::Device::new(&at(1, "east"), "h1").await;
    east_b.sync().await;
    assert!(
        east_b
            .state()
            .iter()
            .any(|(id, _)| id == "problem:zcyd:pg-east"),
        "east's work reaches east's people through the other instance"
    );
    let west = crate::support::Device::new(&at(1, "west"), "sec").await;
    west.sync().await;
    assert!(
        !west
            .state()
            .iter()
            .any(|(id, _)| id == "problem:zcyd:pg-east")
    );
    let token = login(&client, &at(0, "east"), "sec").await;
    for i in 0..2 {
        let r = client
            .get(format!("{}/v1/me", at(i, "west")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("me");
        assert_eq!(r.status(), 401, "east's sign-in on west, instance {i}");
    }
    // In the database: east's record is in east's schema alone.
    let prefix = db
        .rsplit("search_path%3D")
        .next()
        .expect("the test's schema")
        .to_owned();
    let count = |schema: String, id: &str| {
        let url = url.clone();
        let id = id.to_owned();
        off_runtime(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("db");
            c.query_one(
                &format!("select count(*) from {schema}.docs where id = $1"),
                &[&id],
            )
            .expect("count")
            .get::<_, i64>(0)
        })
    };
    assert_eq!(
        count(format!("{prefix}_zp_mine_east"), "problem:zcyd:pg-east"),
        1
    );
    assert_eq!(
        count(format!("{prefix}_zp_mine_west"), "problem:zcyd:pg-east"),
        0
    );

    // Each mine's pushes wait only for that mine's: with east's write lock held elsewhere, a
    // push to west is stored at once, and one to east waits for the lock.
    let (hold, held) = std::sync::mpsc::channel::<()>();
    let (taken, is_taken) = std::sync::mpsc::channel::<()>();
    let holder_db = db.clone();
    let holder = std::thread::spawn(move || {
        use zonepatrol_server::store::Storage;
        let store = zonepatrol_server::store::PgStore::open_in(&holder_db, 2, Some("zp_mine_east"))
            .expect("east's store");
        let _hold = store.hold_writes().expect("east's write lock");
        taken.send(()).expect("taken");
        let _ = held.recv();
    });
    is_taken.recv().expect("the lock is held");
    crate::support::raise(&west, "problem:zcyd:pg-west", "sec", "z1", "h1");
    tokio::time::timeout(Duration::from_secs(10), west.sync())
        .await
        .expect("west's push is not held up by east's lock");
    crate::support::raise(&east_a, "problem:zcyd:pg-east-2", "sec", "z1", "h1");
    let east_push = east_a.sync();
    tokio::pin!(east_push);
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), &mut east_push)
            .await
            .is_err(),
        "east's push waits while east's write lock is held"
    );
    hold.send(()).expect("let go");
    holder.join().expect("holder");
    east_push.await;
    assert_eq!(
        count(format!("{prefix}_zp_mine_east"), "problem:zcyd:pg-east-2"),
        1
    );
    assert_eq!(
        count(format!("{prefix}_zp_mine_west"), "problem:zcyd:pg-west"),
        1
    );
    assert_eq!(
        count(format!("{prefix}_zp_mine_east"), "problem:zcyd:pg-west"),
        0
    );

    // The group's manager, added beside the running instances.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonepatrol-server-under-test"))
        .args(["user", "add", "--data", data, "--database", &db])
        .args(["--group", "--name", "gm", "--role", "manager"])
        .env("ZONEPATROL_PASSWORD", "group-manager-pw")
        .output()
        .expect("user add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let browser = crate::dashboard::Browser::sign_in(&servers[1].url, "gm", "group-manager-pw")
        .await
        .expect("the group's manager signs in on either instance");
    let overview = browser.page("/dash").await;
    assert!(overview.contains("东滩煤矿") && overview.contains("鲍店煤矿"));
    let east_row = &overview[overview.find("data-mine=\"east\"").expect("east")..];
    let east_row = &east_row[..east_row.find("</tr>").expect("row")];
    assert!(
        east_row.contains(">2 / "),
        "east's two open problems: {east_row}"
    );
    let metrics = client
        .get(format!("{}/metrics", servers[0].url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for mine in ["east", "west"] {
        assert!(
            metrics.contains(&format!(
                "zonepatrol_db_write_lock_wait_seconds_total{{mine=\"{mine}\"}}"
            )),
            "{metrics}"
        );
    }
}

/// An upload begun on one instance goes on from where it stopped on another, with nothing
/// shared but the database (each instance has a data directory of its own): the second finds
/// the bytes the first kept, and the photo is then served by both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_begun_on_one_instance_finishes_on_another() {
    use crate::operations::Server;
    let Some(url) = url() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let db = schema_url(&url, dir.path());
    let client = crate::support::http();
    let mut servers = Vec::new();
    for (i, command) in ["demo", "serve"].into_iter().enumerate() {
        let data = dir.path().join(format!("data-{i}"));
        let data = data.to_str().expect("utf-8");
        let mut args = vec![command, "--data", data, "--database", &db];
        if i == 0 {
            args.push("--no-history");
        }
        let server = Server::start(&args, &dir.path().join(format!("upload-{i}.log")));
        server.serving(&client).await;
        servers.push(server);
    }
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/phone-12mp.jpg"))
            .expect("a real photo");
    let hash = hex::encode(sha2::Sha256::digest(&bytes));
    let half = bytes.len() / 2;
    let token = login(&client, &servers[0].url, "sec").await;
    let put = |url: String, from: usize, to: usize| {
        client
            .put(format!("{url}/v1/blobs/{hash}"))
            .bearer_auth(&token)
            .header("Upload-Length", bytes.len().to_string())
            .header("Upload-Offset", from.to_string())
            .body(bytes[from..to].to_vec())
            .send()
    };
    let first = put(servers[0].url.clone(), 0, half)
        .await
        .expect("first half");
    assert_eq!(first.status(), 202, "the first half kept");
    // The other instance knows where the upload stands, and takes the rest.
    let head = client
        .head(format!("{}/v1/blobs/{hash}", servers[1].url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()
            .get("Upload-Offset")
            .and_then(|v| v.to_str().ok()),
        Some(half.to_string().as_str()),
        "the second instance sees what the first kept"
    );
    let rest = put(servers[1].url.clone(), half, bytes.len())
        .await
        .expect("the rest");
    assert_eq!(rest.status(), 201, "finished on the second instance");
    for server in &servers {
        let got = client
            .get(format!("{}/v1/blobs/{hash}", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(got.status(), 200);
        assert_eq!(got.bytes().await.expect("bytes").as_ref(), bytes.as_slice());
    }
}
