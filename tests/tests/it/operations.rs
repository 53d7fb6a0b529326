//! What an operator relies on, over real server processes and real HTTP(S) on loopback:
//! `/health` and `/ready` (503 while the start is under way, 200 after), `/metrics` as
//! Prometheus text that moves with a sync, HTTPS with a certificate made here (its reload on
//! SIGHUP and each refusal), a backup taken while twenty devices push and restored into an
//! empty directory, a damaged archive refused, SIGTERM during pushes losing nothing
//! acknowledged, the data format's fixture read and a newer store refused, and settings from
//! a file.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use automerge::ReadDoc;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use zonepatrol_shared::docs::DocId;

use crate::support::{Device, http, raise};

const PHOTO: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp.jpg");
const BIN: &str = env!("CARGO_BIN_EXE_zonepatrol-server-under-test");

/// A server process.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    pub(crate) log: PathBuf,
}

impl Server {
    /// Starts `zonepatrol-server ARGS --listen 127.0.0.1:0`, its log kept in `log`.
    pub(crate) fn start(args: &[&str], log: &Path) -> Server {
        let mut child = Command::new(BIN)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "zonepatrol_server=info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).expect("log file"))
            .spawn()
            .expect("server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("first line");
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                )
            })
            .to_owned();
        Server {
            child,
            url,
            log: log.to_owned(),
        }
    }

    /// Waits until every route is served.
    pub(crate) async fn serving(&self, client: &reqwest::Client) {
        for _ in 0..1200 {
            if let Ok(r) = client.get(format!("{}/ready", self.url)).send().await
                && let Ok(v) = r.json::<serde_json::Value>().await
                && v["phase"] == "serving"
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the server did not come up; log: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    pub(crate) fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not stop within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn cli(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("runs")
}

pub(crate) fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The series of a Prometheus text, `name{labels}` → value.
pub(crate) fn series(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("name and value");
            (name.to_owned(), value.parse::<f64>().expect("a number"))
        })
        .collect()
}

async fn scrape(client: &reqwest::Client, url: &str) -> BTreeMap<String, f64> {
    let r = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    series(&r.text().await.expect("text"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_and_metrics_tell_an_operator_how_the_server_is() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    // The demo's first start writes its history before it serves: the gate is closed meanwhile.
    let server = Server::start(&["demo", "--data", data_arg], &dir.path().join("log"));
    let client = http();
    let health = client
        .get(format!("{}/health", server.url))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let ready = client
        .get(format!("{}/ready", server.url))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["phase"], "starting", "{body}");
    assert_eq!(body["reasons"][0]["reason"], "rebuilding", "{body}");
    let login = client
        .post(format!("{}/v1/login", server.url))
        .json(&serde_json::json!({"user": "sec", "password": "zonepatrol"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(login.headers()["retry-after"], "5");
    let page = client
        .get(format!("{}/login", server.url))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.expect("text").contains("正在启动"));

    server.serving(&client).await;
    let ready = client
        .get(format!("{}/ready", server.url))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        ready.json::<serde_json::Value>().await.expect("json")["ready"],
        true
    );

    let before = scrape(&client, &server.url).await;
    let get = |m: &BTreeMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(0.0);
    let device = Device::new(&server.url, "sec").await;
    raise(&device, "problem:zcyd:metrics-1", "sec", "z1", "h1");
    device.sync().await;
    let bad = client
        .post(format!("{}/v1/login", server.url))
        .json(&serde_json::json!({"user": "sec", "password": "wrong"}))
        .send()
        .await
        .expect("login");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let after = scrape(&client, &server.url).await;
    let moved = |k: &str| get(&after, k) - get(&before, k);
    assert!(
        moved(r#"zonepatrol_sync_requests_total{result="ok"}"#) >= 1.0,
        "{after:#?}"
    );
    assert!(moved(r#"zonepatrol_sync_documents_total{direction="in"}"#) >= 1.0);
    assert!(moved(r#"zonepatrol_sync_documents_total{direction="out"}"#) >= 1.0);
    assert!(moved(r#"zonepatrol_sync_bytes_total{direction="in"}"#) > 0.0);
    assert!(moved(r#"zonepatrol_logins_total{result="ok"}"#) >= 1.0);
    assert!(moved(r#"zonepatrol_logins_total{result="refused"}"#) >= 1.0);
    assert!(moved("zonepatrol_sync_request_duration_seconds_count") >= 1.0);
    assert!(after.contains_key(r#"zonepatrol_sync_request_duration_seconds_bucket{le="0.1"}"#));
    assert_eq!(get(&after, "zonepatrol_ready"), 1.0);
    assert_eq!(get(&after, "zonepatrol_consolidation_lag_documents"), 0.0);
    assert!(get(&after, "zonepatrol_open_connections") >= 1.0);
    // Labels carry results and reasons, never people, zones or branches.
    for key in after.keys() {
        for name in ["sec", "zcyd", "z1", "h1", "张"] {
            assert!(
                !key.contains(&format!("\"{name}")),
                "a name in a label: {key}"
            );
        }
    }
}

/// A certificate authority and a server certificate for 127.0.0.1 it signs, as PEM.
fn authority_and_server() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "某矿 内部证书机构");
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("params");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let cert = params.signed_by(&key, &issuer).expect("signed");
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn trusting(ca_pem: &str) -> reqwest::Client {
    zonepatrol_app::sync::install_crypto();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca")])
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_mines_own_certificate_reloads_and_refuses_bad_pairs() {
    let dir = tempfile::tempdir().expect("dir");
    let (ca, cert, key) = authority_and_server();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, &cert).expect("cert");
    std::fs::write(&key_file, &key).expect("key");
    let data = dir.path().join("data");
    let args = |cert: &Path, key: &Path| -> Vec<String> {
        [
            "demo",
            "--no-history",
            "--data",
            data.to_str().expect("utf-8"),
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            key.to_str().expect("utf-8"),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let arg_refs = args(&cert_file, &key_file);
    let arg_refs: Vec<&str> = arg_refs.iter().map(String::as_str).collect();
    let server = Server::start(&arg_refs, &dir.path().join("log"));
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let client = trusting(&ca);
    server.serving(&client).await;
    let ok = client
        .get(format!("{}/health", server.url))
        .send()
        .await
        .expect("https");
    assert_eq!(ok.status(), StatusCode::OK);
    // A phone trusts the mine's own authority once it is given it, and keeps trusting it.
    {
        use zonepatrol_app::store::Repo;
        use zonepatrol_app::sync::{SyncClient, SyncError};
        let phone_dir = tempfile::tempdir().expect("phone");
        let repo = std::sync::Arc::new(Repo::open(phone_dir.path()).expect("repo"));
        let phone = SyncClient::new(repo.clone()).expect("client");
        let refused = phone
            .login(&server.url, "sec", "zonepatrol", "phone")
            .await
            .expect_err("an authority it does not know");
        assert!(matches!(refused, SyncError::Offline(_)), "{refused}");
        assert!(matches!(
            phone.trust_authority(Some("-----BEGIN CERTIFICATE-----\nhello\n")),
            Err(SyncError::BadAuthority)
        ));
        for pasted in [String::new(), format!("{ca}{key}"), "x".repeat(100_000)] {
            assert!(
                matches!(
                    phone.trust_authority(Some(&pasted)),
                    Err(SyncError::BadAuthority)
                ),
                "refused: {}",
                pasted.chars().take(40).collect::<String>()
            );
        }
        phone.trust_authority(Some(&ca)).expect("trust");
        let kept = phone.trusted_authority().expect("read").expect("kept");
        assert!(kept.starts_with("-----BEGIN CERTIFICATE-----") && !kept.contains("KEY"));
        phone
            .login(&server.url, "sec", "zonepatrol", "phone")
            .await
            .expect("signed in over HTTPS");
        phone.sync().await.expect("synced over HTTPS");
        let again = SyncClient::new(repo.clone()).expect("client");
        again.sync().await.expect("the trust is kept on the phone");
        assert!(
            zonepatrol_app::sync::authority_fingerprint(&ca)
                .is_some_and(|f| f.len() == 95 && f.contains(':'))
        );
    }
    // Plain HTTP on the HTTPS port gets nothing served.
    let plain = http()
        .get(server.url.replace("https://", "http://") + "/health")
        .send()
        .await;
    assert!(plain.is_err() || !plain.expect("answer").status().is_success());
    // A new pair from another authority, and SIGHUP: new connections get it.
    let (ca2, cert2, key2) = authority_and_server();
    std::fs::write(&cert_file, &cert2).expect("cert");
    std::fs::write(&key_file, &key2).expect("key");
    server.signal("HUP");
    let mut reloaded = false;
    for _ in 0..100 {
        if trusting(&ca2)
            .get(format!("{}/health", server.url))
            .send()
            .await
            .is_ok()
        {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reloaded, "the new certificate is served after SIGHUP");
    assert!(
        trusting(&ca)
            .get(format!("{}/health", server.url))
            .send()
            .await
            .is_err(),
        "the old one is not"
    );
    // A pair that does not load is refused on reload: the good one stays.
    std::fs::write(&key_file, "not a key").expect("key");
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        trusting(&ca2)
            .get(format!("{}/health", server.url))
            .send()
            .await
            .is_ok()
    );
    drop(server);

    // Each bad pair: the server refuses to start and says why.
    let (_, other_cert, _) = authority_and_server();
    let mismatched = dir.path().join("other.pem");
    std::fs::write(&mismatched, other_cert).expect("cert");
    std::fs::write(&key_file, &key2).expect("key");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64\n").expect("garbage");
    for (cert, key, says) in [
        (
            dir.path().join("absent.pem"),
            key_file.clone(),
            "cannot be read",
        ),
        (
            cert_file.clone(),
            dir.path().join("absent.pem"),
            "cannot be read",
        ),
        (mismatched.clone(), key_file.clone(), "does not belong"),
        (garbage.clone(), key_file.clone(), "PEM"),
        (cert_file.clone(), cert_file.clone(), "no private key"),
    ] {
        let mut a = args(&cert, &key);
        a.extend(["--listen".to_owned(), "127.0.0.1:0".to_owned()]);
        let out = Command::new(BIN).args(&a).output().expect("runs");
        assert!(!out.status.success(), "{a:?} started");
        let text = said(&out);
        assert!(text.contains(says), "{says} in {text}");
        assert!(!text.contains("listening on"), "{text}");
    }
}

/// Devices that raise problems and sync until told to stop; each returns what the server
/// acknowledged and when.
async fn writers(
    url: &str,
    count: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<(String, Vec<String>, std::time::Instant)>>> {
    let mut tasks = Vec::new();
    for n in 0..count {
        let (user, branch, zone, holder) = if n % 2 == 0 {
            ("sec", "zcyd", "z1", "h1")
        } else {
            ("zhao", "zcyd", "z2", "h2")
        };
        let device = Device::new(url, user).await;
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for k in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let problem = DocId::problem(branch, format!("w{n}-{k}")).to_string();
                raise(&device, &problem, user, zone, holder);
                match device.try_sync().await {
                    Ok(_) => {
                        let (_, heads) = device.repo.heads(&problem).expect("heads").expect("doc");
                        acked.push((problem, heads, std::time::Instant::now()));
                    }
                    Err(_) => break,
                }
            }
            acked
        }));
    }
    tasks
}

/// Every change in `acked` is in what `device` pulled.
async fn all_there(device: &Device, acked: &[(String, Vec<String>, std::time::Instant)]) {
    for (problem, heads, _) in acked {
        let doc = device
            .repo
            .load(problem)
            .expect("load")
            .unwrap_or_else(|| panic!("{problem} was acknowledged and is gone"));
        for head in heads {
            let hash: automerge::ChangeHash = head.parse().expect("hash");
            assert!(
                doc.get_change_by_hash(&hash).is_some(),
                "{problem}: {head} lost"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_twenty_devices_push_restores_every_acknowledged_change() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8").to_owned();
    let server = Server::start(
        &["demo", "--no-history", "--data", &data_arg],
        &dir.path().join("log"),
    );
    let client = http();
    server.serving(&client).await;
    // A photo stored before the backup.
    let photographer = Device::new(&server.url, "sec").await;
    let token = photographer
        .repo
        .session()
        .expect("session")
        .expect("signed in")
        .token;
    let hash = hex::encode(Sha256::digest(PHOTO));
    let put = client
        .put(format!("{}/v1/blobs/{hash}", server.url))
        .bearer_auth(&token)
        .header("upload-length", PHOTO.len())
        .body(PHOTO.to_vec())
        .send()
        .await
        .expect("upload");
    assert!(put.status().is_success(), "{}", put.status());

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks = writers(&server.url, 20, stop.clone()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let archive = dir.path().join("mine.zpbackup");
    let begun = std::time::Instant::now();
    let archive_arg = archive.to_str().expect("utf-8").to_owned();
    let backup = tokio::task::spawn_blocking({
        let data_arg = data_arg.clone();
        move || cli(&["backup", "--data", &data_arg, "--to", &archive_arg])
    })
    .await
    .expect("backup");
    assert!(backup.status.success(), "{}", said(&backup));
    assert!(
        said(&backup).contains("through the running server"),
        "{}",
        said(&backup)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut before_backup = Vec::new();
    let mut total = 0;
    for task in tasks {
        let acked = task.await.expect("writer");
        total += acked.len();
        before_backup.extend(acked.into_iter().filter(|(_, _, at)| *at < begun));
    }
    assert!(
        before_backup.len() >= 20,
        "only {} pushes before the backup",
        before_backup.len()
    );
    assert!(
        total > before_backup.len(),
        "pushes went on while the backup was taken"
    );
    // Two incremental backups on top, each with a photo of its own: a chain.
    let mut chain = vec![archive.clone()];
    let mut hashes = vec![hash.clone()];
    for n in 1..=2u8 {
        let mut photo = PHOTO.to_vec();
        photo.push(n);
        let h = hex::encode(Sha256::digest(&photo));
        let put = client
            .put(format!("{}/v1/blobs/{h}", server.url))
            .bearer_auth(&token)
            .header("upload-length", photo.len())
            .body(photo)
            .send()
            .await
            .expect("upload");
        assert!(put.status().is_success(), "{}", put.status());
        hashes.push(h);
        let next = dir.path().join(format!("incr-{n}.zpbackup"));
        let out = cli(&[
            "backup",
            "--data",
            &data_arg,
            "--to",
            next.to_str().expect("utf-8"),
            "--base",
            chain.last().expect("base").to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{}", said(&out));
        assert!(said(&out).contains("1 in this archive"), "{}", said(&out));
        chain.push(next);
    }
    // A phone that edits a record after the last backup: its change is lost with the server,
    // and comes back from the phone once it syncs with the restored one.
    let late = Device::new(&server.url, "zhao").await;
    late.sync().await;
    let edited = "problem:zcyd:w1-0";
    raise(&late, edited, "zhao", "z2", "h2");
    late.sync().await;
    let (_, late_heads) = late.repo.heads(edited).expect("heads").expect("doc");
    // Into the data directory, even by way of `..`: refused.
    let inside = data.join("blobs").join("..").join("x.zpbackup");
    let out = cli(&[
        "backup",
        "--data",
        &data_arg,
        "--to",
        inside.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success());
    assert!(
        said(&out).contains("outside the data directory"),
        "{}",
        said(&out)
    );
    drop(server);

    let with_bases = |verb: &str, first: &Path, extra: &[&str]| -> Output {
        let mut args: Vec<String> = vec![verb.into(), "--from".into(), first.display().to_string()];
        for base in chain.iter().rev().skip(1) {
            args.extend(["--base".into(), base.display().to_string()]);
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        Command::new(BIN).args(&args).output().expect("runs")
    };
    let newest = chain.last().expect("newest").clone();
    let verified = cli(&["verify", "--from", archive.to_str().expect("utf-8")]);
    assert!(verified.status.success(), "{}", said(&verified));
    let verified = with_bases("verify", &newest, &[]);
    assert!(verified.status.success(), "{}", said(&verified));
    let alone = cli(&["verify", "--from", newest.to_str().expect("utf-8")]);
    assert!(
        !alone.status.success(),
        "an incremental backup needs its bases"
    );
    let restored = dir.path().join("restored");
    let out = with_bases(
        "restore",
        &newest,
        &["--data", restored.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "{}", said(&out));
    for h in &hashes {
        assert!(
            restored.join("blobs").join(h).exists(),
            "photo {h} is restored"
        );
    }
    let server = Server::start(
        &["serve", "--data", restored.to_str().expect("utf-8")],
        &dir.path().join("log2"),
    );
    server.serving(&client).await;
    late.client
        .login(&server.url, "zhao", "zonepatrol", "test device")
        .await
        .expect("the same phone signs in to the restored server");
    late.sync().await;
    late.sync().await;
    let manager = Device::new(&server.url, "mgr").await;
    manager.sync().await;
    all_there(&manager, &before_backup).await;
    all_there(
        &manager,
        &[(edited.to_owned(), late_heads, std::time::Instant::now())],
    )
    .await;
    let token = Device::new(&server.url, "sec")
        .await
        .repo
        .session()
        .expect("session")
        .expect("signed in")
        .token;
    let photo = client
        .get(format!("{}/v1/blobs/{hash}", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("photo");
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(&photo.bytes().await.expect("bytes")[..], PHOTO);
    // Restoring again into the same directory is refused, and changes nothing.
    let again = cli(&[
        "restore",
        "--from",
        archive.to_str().expect("utf-8"),
        "--data",
        restored.to_str().expect("utf-8"),
    ]);
    assert!(!again.status.success());
    assert!(said(&again).contains("not empty"), "{}", said(&again));
    println!(
        "{} of {total} acknowledged pushes came before the backup; all restored",
        before_backup.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_foreign_archive_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8").to_owned();
    {
        let server = Server::start(
            &["demo", "--no-history", "--data", &data_arg],
            &dir.path().join("log"),
        );
        server.serving(&http()).await;
    }
    // With the server stopped, the command takes the backup itself.
    let archive = dir.path().join("a.zpbackup");
    let out = cli(&[
        "backup",
        "--data",
        &data_arg,
        "--to",
        archive.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", said(&out));
    let again = cli(&[
        "backup",
        "--data",
        &data_arg,
        "--to",
        archive.to_str().expect("utf-8"),
    ]);
    assert!(!again.status.success(), "an archive is never overwritten");
    let bytes = std::fs::read(&archive).expect("archive");
    // One byte changed inside the store's copy (the first entry, after its 512-byte header).
    let mut flipped = bytes.clone();
    flipped[512 + 100] ^= 0xff;
    let cut = bytes[..bytes.len() / 2].to_vec();
    for (name, content, says) in [
        ("flipped", flipped, "damaged"),
        ("cut", cut, "damaged"),
        (
            "foreign",
            b"PK\x03\x04 a zip, say".to_vec(),
            "not a Zone Patrol backup",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write");
        let verified = cli(&["verify", "--from", path.to_str().expect("utf-8")]);
        assert!(!verified.status.success(), "{name} verified");
        assert!(
            said(&verified).contains(says),
            "{name}: {}",
            said(&verified)
        );
        let target = dir.path().join(format!("restore-{name}"));
        let restored = cli(&[
            "restore",
            "--from",
            path.to_str().expect("utf-8"),
            "--data",
            target.to_str().expect("utf-8"),
        ]);
        assert!(!restored.status.success(), "{name} restored");
        assert!(!target.join("store").exists(), "{name}: nothing written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_pushes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8").to_owned();
    for second_signal in [false, true] {
        let mut server = Server::start(
            &["demo", "--no-history", "--data", &data_arg],
            &dir.path().join("log"),
        );
        let client = http();
        server.serving(&client).await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = writers(&server.url, 6, stop.clone()).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        server.signal("TERM");
        if second_signal {
            tokio::time::sleep(Duration::from_millis(50)).await;
            server.signal("TERM");
        }
        let status = server.wait(Duration::from_secs(40));
        if !second_signal {
            assert!(status.success(), "a stop exits 0: {status:?}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut acked = Vec::new();
        for task in tasks {
            acked.extend(task.await.expect("writer"));
        }
        assert!(acked.len() >= 6, "only {} pushes", acked.len());
        let server = Server::start(
            &["demo", "--no-history", "--data", &data_arg],
            &dir.path().join("log2"),
        );
        server.serving(&client).await;
        let manager = Device::new(&server.url, "mgr").await;
        manager.sync().await;
        all_there(&manager, &acked).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_format_fixture_is_read_an_older_directory_migrated_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().expect("dir");
    // The fixture: a backup of a demo mine in data format 1, restored and served.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/format-1.zpbackup");
    let data = dir.path().join("fixture");
    let out = cli(&[
        "restore",
        "--from",
        fixture.to_str().expect("utf-8"),
        "--data",
        data.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", said(&out));
    let server = Server::start(
        &["serve", "--data", data.to_str().expect("utf-8")],
        &dir.path().join("log"),
    );
    let client = http();
    server.serving(&client).await;
    let manager = Device::new(&server.url, "mgr").await;
    manager.sync().await;
    let directory: zonepatrol_shared::docs::Directory = manager
        .repo
        .read(&DocId::directory("zcyd"))
        .expect("read")
        .expect("the fixture's directory");
    assert_eq!(
        directory.zones.get("z1").map(|z| z.name.as_str()),
        Some("三水平上车场"),
        "the fixture's zones read"
    );
    drop(server);
    assert_eq!(
        std::fs::read_to_string(data.join("FORMAT"))
            .expect("format")
            .trim(),
        zonepatrol_server::store::format::CURRENT.to_string()
    );
    let backups = || std::fs::read_dir(data.join("backups")).map_or(0, |d| d.count());
    assert_eq!(backups(), 1, "format 1 migrated after a backup");
    let log = std::fs::read_to_string(dir.path().join("log")).expect("log");
    assert!(log.contains("migrat"), "{log}");
    // Format 1 kept no facts beside the documents: the first start read every document and
    // kept their facts, so that the next start reads none.
    assert!(log.contains("no facts are kept yet"), "{log}");
    let server = Server::start(
        &["serve", "--data", data.to_str().expect("utf-8")],
        &dir.path().join("log-again"),
    );
    server.serving(&client).await;
    drop(server);
    let log = std::fs::read_to_string(dir.path().join("log-again")).expect("log");
    assert!(log.contains("read_whole=0"), "{log}");

    // Format 0, a directory from before format versions: migrated after a backup.
    std::fs::remove_file(data.join("FORMAT")).expect("remove");
    let server = Server::start(
        &["serve", "--data", data.to_str().expect("utf-8")],
        &dir.path().join("log0"),
    );
    server.serving(&client).await;
    drop(server);
    assert_eq!(backups(), 2, "one more backup before the migration");
    let log = std::fs::read_to_string(dir.path().join("log0")).expect("log");
    assert!(log.contains("migrat") && log.contains("backup"), "{log}");

    // A newer format: refused, nothing touched.
    std::fs::write(data.join("FORMAT"), "99\n").expect("format");
    let listing = |d: &Path| -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = walk(d)
            .into_iter()
            .map(|p| {
                let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                (p.display().to_string(), len)
            })
            .collect();
        all.sort();
        all
    };
    let before = listing(&data);
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.to_str().expect("utf-8"),
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(said(&out).contains("newer"), "{}", said(&out));
    assert_eq!(listing(&data), before, "nothing touched");

    // A new directory is written in the current format, with nothing to migrate.
    let fresh = dir.path().join("fresh");
    let server = Server::start(
        &["serve", "--data", fresh.to_str().expect("utf-8")],
        &dir.path().join("log-fresh"),
    );
    server.serving(&client).await;
    drop(server);
    assert_eq!(
        std::fs::read_to_string(fresh.join("FORMAT"))
            .expect("format")
            .trim(),
        zonepatrol_server::store::format::CURRENT.to_string()
    );
    assert!(!fresh.join("backups").exists(), "nothing to migrate");
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(d) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn settings_come_from_a_file_and_are_checked() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("zonepatrol.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:18443\"\ndata = \"{}\"\nmax_connections = 300\nlog_format = \"json\"\n",
            data.display()
        ),
    )
    .expect("config");
    let out = cli(&[
        "serve",
        "--config",
        config.to_str().expect("utf-8"),
        "--check-config",
    ]);
    assert!(out.status.success(), "{}", said(&out));
    let text = said(&out);
    assert!(
        text.contains("127.0.0.1:18443") && text.contains("300"),
        "{text}"
    );
    // A flag wins over the file; an environment variable too.
    let out = Command::new(BIN)
        .args([
            "serve",
            "--config",
            config.to_str().expect("utf-8"),
            "--check-config",
            "--max-connections",
            "12",
        ])
        .env("ZONEPATROL_LISTEN", "127.0.0.1:19000")
        .output()
        .expect("runs");
    let text = said(&out);
    assert!(
        text.contains("12") && text.contains("127.0.0.1:19000"),
        "{text}"
    );
    // A typo is refused with the settings there are.
    std::fs::write(&config, "lisen = \"127.0.0.1:1\"\n").expect("config");
    let out = cli(&[
        "serve",
        "--config",
        config.to_str().expect("utf-8"),
        "--check-config",
    ]);
    assert!(!out.status.success());
    assert!(
        said(&out).contains("lisen") && said(&out).contains("listen"),
        "{}",
        said(&out)
    );
    // A key file that does not load fails the check.
    std::fs::write(
        &config,
        "tls_cert = \"/nonexistent/cert.pem\"\ntls_key = \"/nonexistent/key.pem\"\n",
    )
    .expect("config");
    let out = cli(&[
        "serve",
        "--config",
        config.to_str().expect("utf-8"),
        "--check-config",
    ]);
    assert!(!out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("cannot be read"), "{}", said(&out));
}
