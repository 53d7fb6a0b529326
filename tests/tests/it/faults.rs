//! Bad input, broken connections and a killed server: clear errors, nothing acknowledged
//! lost, and the server keeps serving.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use automerge::ReadDoc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use zonepatrol_app::store::now_millis;
use zonepatrol_shared::docs::{self, DocId, FreeText, PhotoRef, Problem};
use zonepatrol_shared::protocol::{ErrorBody, ErrorCode, b64, heads_to_hex};

use crate::support::{Device, TestServer, http, id, raise};

const PHOTO: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp.jpg");

/// The id of a problem of branch zcyd, as text.
fn zcyd_problem(name: &str) -> String {
    DocId::problem("zcyd", name).to_string()
}

async fn expect_error(response: reqwest::Response, status: StatusCode, code: ErrorCode) -> String {
    assert_eq!(response.status(), status);
    let error: ErrorBody = response.json().await.expect("a JSON error body");
    assert_eq!(error.error, code, "{}", error.message);
    assert!(!error.message.is_empty());
    error.message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_a_json_4xx_and_the_server_keeps_serving() {
    let server = TestServer::start_with(|s| {
        s.max_request_bytes = 256 * 1024;
        s.max_blob_bytes = 1024 * 1024;
    })
    .await;
    let url = &server.url;
    let device = Device::new(url, "sec").await;
    let token = device
        .repo
        .session()
        .expect("session")
        .expect("signed in")
        .token;
    let post = |body: Vec<u8>| {
        http()
            .post(format!("{url}/v1/sync"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    // Not JSON; JSON of the wrong shape; no content type.
    for body in [&b"{not json"[..], b"{\"cursor\": \"zero\"}", b"[]"] {
        let response = post(body.to_vec()).await.expect("sent");
        expect_error(response, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    }

    // A document id that is not one, hashes that are not hashes, changes that are not base64.
    let bad_pushes = [
        serde_json::json!({"id": "nonsense", "base": [], "have": [], "changes": ""}),
        serde_json::json!({"id": "problem:zcyd:a", "base": ["xyz"], "have": [], "changes": ""}),
        serde_json::json!({"id": "problem:zcyd:a", "base": [], "have": [], "changes": "***"}),
    ];
    for push in bad_pushes {
        let body =
            serde_json::to_vec(&serde_json::json!({"cursor": 0, "push": [push]})).expect("json");
        let response = post(body).await.expect("sent");
        expect_error(response, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    }

    // An id in a non-canonical form, and one document pushed twice in one request.
    let push =
        serde_json::json!({"id": "report:zcyd:2026-W7", "base": [], "have": [], "changes": ""});
    let body = serde_json::to_vec(&serde_json::json!({"cursor": 0, "push": [push]})).expect("json");
    let message = expect_error(
        post(body).await.expect("sent"),
        StatusCode::BAD_REQUEST,
        ErrorCode::BadRequest,
    )
    .await;
    assert!(message.contains("report:zcyd:2026-W7"), "{message}");
    let push = serde_json::json!({"id": "problem:zcyd:a", "base": [], "have": [], "changes": ""});
    let body = serde_json::to_vec(&serde_json::json!({"cursor": 0, "push": [push.clone(), push]}))
        .expect("json");
    expect_error(
        post(body).await.expect("sent"),
        StatusCode::BAD_REQUEST,
        ErrorCode::BadRequest,
    )
    .await;

    // Truncated and garbage automerge data.
    let problem = id("problem:zcyd:truncated");
    let mut doc = docs::genesis::<Problem>(&problem).expect("genesis");
    doc.set_actor(automerge::ActorId::random());
    let mut value: Problem = docs::read(&doc, &problem).expect("read");
    value.finding.description = FreeText("这是一段会被截断的描述".repeat(20));
    docs::write(&mut doc, &value).expect("write");
    doc.commit();
    let whole = doc.save();
    let heads = heads_to_hex(&doc.get_heads());
    for changes in [
        &whole[..whole.len() / 2],
        &whole[..whole.len() - 3],
        b"\x85\x6f\x4a\x83garbage",
    ] {
        let body = serde_json::to_vec(&serde_json::json!({
            "cursor": 0,
            "push": [{"id": problem.to_string(), "base": [], "have": heads, "changes": b64::encode(changes)}]
        }))
        .expect("json");
        let response = post(body).await.expect("sent");
        let message = expect_error(response, StatusCode::BAD_REQUEST, ErrorCode::BadChanges).await;
        assert!(message.contains("problem:zcyd:truncated"), "{message}");
    }

    // A body over the server's limit.
    let big =
        serde_json::to_vec(&serde_json::json!({"cursor": 0, "filler": "x".repeat(300 * 1024)}))
            .expect("json");
    let response = post(big).await.expect("sent");
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge).await;

    // Blobs: a wrong hash, no length, a length over the limit, a body longer than its length,
    // a hash that is not one.
    let put = |hash: String, length: Option<usize>, body: Vec<u8>| {
        let mut request = http()
            .put(format!("{url}/v1/blobs/{hash}"))
            .bearer_auth(&token)
            .body(body);
        if let Some(length) = length {
            request = request.header("upload-length", length);
        }
        request.send()
    };
    let small = &PHOTO[..100_000];
    let right = hex::encode(Sha256::digest(small));
    let wrong = hex::encode(Sha256::digest(b"something else"));
    let response = put(wrong.clone(), Some(small.len()), small.to_vec())
        .await
        .expect("sent");
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::HashMismatch,
    )
    .await;
    let response = put(right.clone(), None, small.to_vec())
        .await
        .expect("sent");
    expect_error(response, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    // (The body is the first part only: the server refuses on the declared length.)
    let response = put(
        hex::encode(Sha256::digest(PHOTO)),
        Some(PHOTO.len()),
        small.to_vec(),
    )
    .await
    .expect("sent");
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge).await;
    let response = put(right.clone(), Some(10), small.to_vec())
        .await
        .expect("sent");
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge).await;
    let response = put("../../etc/passwd".into(), Some(3), b"abc".to_vec())
        .await
        .expect("sent");
    assert!(response.status().is_client_error());
    let response = put("A".repeat(64), Some(3), b"abc".to_vec())
        .await
        .expect("sent");
    expect_error(response, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;

    // Nothing of the above was stored, and the server still serves: a real sync works, and
    // the right upload after the wrong ones is stored.
    raise(&device, "problem:zcyd:after", "sec", "z1", "h1");
    assert_eq!(device.sync().await.refused, 0);
    assert!(
        !device
            .repo
            .ids()
            .expect("ids")
            .contains(&"problem:zcyd:truncated".to_owned())
    );
    let response = put(right.clone(), Some(small.len()), small.to_vec())
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = put(right, Some(small.len()), small.to_vec())
        .await
        .expect("sent");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a second upload is a no-op"
    );
    server.stop().await;
}

/// A loopback proxy that cuts connections: each connection gets a byte budget (counting both
/// directions) after which both sides are dropped, or none.
async fn cutting_proxy(upstream: String, seed: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let upstream = upstream.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        let mut rng = StdRng::seed_from_u64(seed);
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            // Every connection is cut somewhere: half of them early (inside a request's
            // headers or a small body), half anywhere up to the photo's size.
            let budget: Option<usize> = match rng.random_range(0..2) {
                0 => Some(rng.random_range(0..4_000)),
                _ => Some(rng.random_range(0..PHOTO.len())),
            };
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                relay(client, server, budget).await;
            });
        }
    });
    url
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, left: Arc<AtomicUsize>) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut pass = n;
        let _ = left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| {
            pass = n.min(l);
            Some(l - pass)
        });
        if pass > 0 && to.write_all(&buf[..pass]).await.is_err() {
            return;
        }
        if pass < n {
            // The budget is spent: cut the connection mid-stream.
            return;
        }
    }
}

async fn relay(client: TcpStream, server: TcpStream, budget: Option<usize>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let left = Arc::new(AtomicUsize::new(budget.unwrap_or(usize::MAX)));
    let mut up = tokio::spawn(pump(client_read, server_write, left.clone()));
    let mut down = tokio::spawn(pump(server_read, client_write, left));
    // When either direction stops, both are dropped: the connection is gone both ways.
    tokio::select! {
        _ = &mut up => down.abort(),
        _ = &mut down => up.abort(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_cut_off_at_random_points_converge_and_store_each_photo_once() {
    let seed: u64 = std::env::var("ZP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("cutting proxy seed {seed} (set ZP_SEED to replay)");
    let server = TestServer::start().await;
    let proxy = cutting_proxy(server.url.clone(), seed).await;

    // Two devices work through the unreliable link; they sign in directly.
    let sec = Device::new(&server.url, "sec").await;
    let zhao = Device::new(&server.url, "zhao").await;
    for device in [&sec, &zhao] {
        let mut session = device.repo.session().expect("session").expect("signed in");
        session.server = proxy.clone();
        device.repo.set_session(&session).expect("session saved");
    }
    let photo = sec.repo.add_blob(PHOTO).expect("photo kept");
    for n in 0..20 {
        raise(&sec, &zcyd_problem(&format!("s{n}")), "sec", "z1", "h1");
        raise(&zhao, &zcyd_problem(&format!("z{n}")), "zhao", "z2", "h2");
    }
    sec.repo
        .edit::<Problem, _>(&id("problem:zcyd:s0"), |p| {
            p.finding.photos.insert(
                photo.clone(),
                PhotoRef {
                    thumb: photo.clone(),
                    taken_at: Some(now_millis()),
                    ..Default::default()
                },
            );
        })
        .expect("saved");

    let mut failures = BTreeMap::<&str, u32>::new();
    for device in [&sec, &zhao, &sec, &zhao] {
        let mut done = false;
        for _ in 0..300 {
            match device.try_sync().await {
                Ok(progress) => {
                    assert_eq!(progress.refused, 0);
                    done = true;
                    break;
                }
                Err(_) => *failures.entry(device.user.as_str()).or_default() += 1,
            }
        }
        assert!(done, "seed {seed}: {} never got through", device.user);
    }
    println!("failed attempts before success: {failures:?}");
    assert!(
        failures.values().sum::<u32>() > 0,
        "seed {seed}: the proxy never cut anything"
    );

    // Both devices and the server agree.
    assert!(sec.repo.outbox().expect("outbox").is_empty());
    assert!(!sec.repo.has_unsent().expect("unsent") && !zhao.repo.has_unsent().expect("unsent"));
    let manager = Device::new(&server.url, "mgr").await;
    manager.sync().await;
    let ours = sec.state();
    assert_eq!(zhao.state(), ours, "seed {seed}");
    let theirs: Vec<_> = manager
        .state()
        .into_iter()
        .filter(|(i, _)| ours.iter().any(|(o, _)| o == i))
        .collect();
    assert_eq!(theirs, ours, "seed {seed}");
    assert_eq!(
        ours.iter()
            .filter(|(i, _)| i.starts_with("problem:"))
            .count(),
        40
    );

    // The photo is stored once, whole, and no partial upload is left behind.
    let blobs = server.data.join("blobs");
    let stored: Vec<_> = std::fs::read_dir(&blobs)
        .expect("blob dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored, vec![photo.clone()]);
    let bytes = std::fs::read(blobs.join(&photo)).expect("photo");
    assert_eq!(hex::encode(Sha256::digest(&bytes)), photo);
    assert_eq!(
        std::fs::read_dir(blobs.join("partial"))
            .expect("partial dir")
            .count(),
        0
    );
    server.stop().await;
}

/// The server as a real process, on port 0, over a data directory.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start(data: &std::path::Path) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zonepatrol-server-under-test"))
            .args(["demo", "--no-history", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("first line");
        // Keep reading, so that the server never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        ServerProcess { child, url }
    }

    async fn ready(&self) {
        for _ in 0..400 {
            let ok = http()
                .post(format!("{}/v1/login", self.url))
                .json(&serde_json::json!({"user": "admin", "password": "zonepatrol"}))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server process did not come up");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_change_survives_a_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("server");
    let mut server = ServerProcess::start(&data);
    server.ready().await;

    // Three devices raise problems and sync as fast as they can.
    let writers = [
        ("sec", "zcyd", "z1", "h1"),
        ("zhao", "zcyd", "z2", "h2"),
        ("sec2", "jdyd", "j1", "h5"),
    ];
    let mut tasks = Vec::new();
    for (user, branch, zone, holder) in writers {
        let device = Device::new(&server.url, user).await;
        tasks.push(tokio::spawn(async move {
            let mut acknowledged: Vec<(String, Vec<String>)> = Vec::new();
            for n in 0.. {
                let problem = DocId::problem(branch, format!("{user}-{n}")).to_string();
                raise(&device, &problem, user, zone, holder);
                match device.try_sync().await {
                    Ok(_) => {
                        let (_, acked) = device.repo.heads(&problem).expect("heads").expect("doc");
                        assert!(!acked.is_empty());
                        acknowledged.push((problem, acked));
                    }
                    Err(_) => return (device, acknowledged),
                }
            }
            unreachable!()
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SIGKILL: no chance to flush anything.
    server.child.kill().expect("kill");
    server.child.wait().expect("reaped");

    let mut acknowledged = Vec::new();
    for task in tasks {
        let (_device, acked) = task.await.expect("writer");
        acknowledged.extend(acked);
    }
    assert!(
        acknowledged.len() >= 3,
        "only {} syncs before the kill",
        acknowledged.len()
    );

    let server = ServerProcess::start(&data);
    server.ready().await;
    let manager = Device::new(&server.url, "mgr").await;
    manager.sync().await;
    for (problem, heads) in &acknowledged {
        let doc = manager
            .repo
            .load(problem)
            .expect("load")
            .unwrap_or_else(|| panic!("{problem} was acknowledged and is gone"));
        for head in heads {
            let hash: automerge::ChangeHash = head.parse().expect("hash");
            assert!(
                doc.get_change_by_hash(&hash).is_some(),
                "{problem}: change {head} lost"
            );
        }
    }
    println!("{} acknowledged syncs all survived", acknowledged.len());
}
