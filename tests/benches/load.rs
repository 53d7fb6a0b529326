//! Load benchmark: a flood of sign-ins and a stream of syncs against the real server process
//! on loopback, with its resident memory sampled throughout.
//!
//! Run with `cargo bench -p zonepatrol-tests --bench load`. Bounded: about a minute in all,
//! every loop ends by itself. It prints, for each phase, the answers by status, the sync
//! latencies (p50, p99, max) and the server's peak resident memory, beside an anchor measured
//! in the same run: the same syncs with nothing else going on.
//!
//! 1. Anchor: 200 clients sync (an empty sync every half second each) for 5 s.
//! 2. 250 sign-ins at once with random names, each from its own loopback address.
//! 3. The 200 clients sync for 20 s while 50 others sign in in a loop (random names from their
//!    own addresses, and right passwords of real accounts).
//! 4. The stall: 20 clients' empty syncs, first alone (anchor), then while one client pushes the
//!    largest request the limits allow (8 MiB of changes in documents of up to 2 MiB each),
//!    which the server decodes and checks.
//!
//! Goals (issue 14): resident memory under 512 MiB throughout; no answers but 200, 401 and the
//! intended 429 and 503; sync p99 under 250 ms while the sign-ins run; empty-sync p99 under
//! 100 ms while the largest push is checked.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::ActorId;
use rand::Rng;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_shared::Severity;
use zonepatrol_shared::docs::{self, Day, DocId, FreeText, Problem};
use zonepatrol_shared::protocol::{SyncResponse, b64, heads_to_hex};

const SYNC_CLIENTS: usize = 200;
const LOGIN_LOOPERS: usize = 50;
const ACCOUNTS: [&str; 6] = ["sec", "zhao", "qian", "sun", "h1", "tl"];

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &std::path::Path) -> anyhow::Result<Server> {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_zonepatrol-server-under-test"))
        .args(["demo", "--no-history", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| anyhow::anyhow!("unexpected first line {line:?}"))?
        .to_owned();
    Ok(Server { child, url })
}

/// The server's resident memory now, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples the server's memory every 20 ms into a peak that each phase reads and resets.
fn sample(pid: u32, peak: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}

fn client(from: Option<Ipv4Addr>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(60));
    if let Some(from) = from {
        builder = builder.local_address(IpAddr::V4(from));
    }
    builder.build().unwrap_or_default()
}

/// Answers by status, and sync latencies.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    latencies: Vec<Duration>,
    failures: u64,
}

impl Tally {
    fn status(&mut self, status: u16) {
        *self.statuses.entry(status).or_default() += 1;
    }
}

type Shared = Arc<Mutex<Tally>>;

fn tally(shared: &Shared) -> std::sync::MutexGuard<'_, Tally> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The device key each account signs in and signs with here: one per name.
fn key_of(user: &str) -> zonepatrol_shared::signing::DeviceKey {
    use sha2::Digest;
    let seed: [u8; 32] = sha2::Sha256::digest(format!("load bench key of {user}")).into();
    zonepatrol_shared::signing::DeviceKey::from_seed(seed)
}

async fn login(
    http: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
) -> (u16, Option<String>) {
    let body = serde_json::json!({
        "user": user,
        "password": password,
        "device": "load",
        "device_key": key_of(user).id().to_string(),
        "device_proof": key_of(user).prove(user),
    });
    match http
        .post(format!("{url}/v1/login"))
        .json(&body)
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            let token = if status == 200 {
                r.json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["token"].as_str().map(str::to_owned))
            } else {
                None
            };
            (status, token)
        }
        Err(_) => (0, None),
    }
}

async fn sync(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> (u16, Option<SyncResponse>) {
    match http
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json::<SyncResponse>().await.ok())
        }
        Err(_) => (0, None),
    }
}

/// One client that syncs every `every` until `until`, starting from a full first sync.
async fn syncer(url: String, token: String, every: Duration, until: Instant, out: Shared) {
    let http = client(None);
    let (_, first) = sync(&http, &url, &token, &serde_json::json!({"cursor": 0})).await;
    let mut cursor = first.map_or(0, |r| r.cursor);
    // Spread the clients over the interval.
    let offset = rand::rng().random_range(0..every.as_millis().max(1) as u64);
    tokio::time::sleep(Duration::from_millis(offset)).await;
    while Instant::now() < until {
        let started = Instant::now();
        let (status, answer) =
            sync(&http, &url, &token, &serde_json::json!({"cursor": cursor})).await;
        let took = started.elapsed();
        {
            let mut t = tally(&out);
            t.status(status);
            if status == 200 {
                t.latencies.push(took);
            } else {
                t.failures += 1;
            }
        }
        if let Some(answer) = answer {
            cursor = answer.cursor;
        }
        tokio::time::sleep(every.saturating_sub(took)).await;
    }
}

fn report(phase: &str, t: &Tally, peak_kib: u64) {
    let mut l = t.latencies.clone();
    l.sort();
    let at = |q: f64| {
        l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let statuses: Vec<String> = t.statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
    println!(
        "{phase:<52} syncs {:>6}  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  peak RSS {:>6.1} MiB  answers {}",
        l.len(),
        at(0.5),
        at(0.99),
        l.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        peak_kib as f64 / 1024.0,
        statuses.join(" ")
    );
}

async fn tokens(url: &str) -> anyhow::Result<Vec<String>> {
    let http = client(None);
    let mut out = Vec::new();
    for user in ACCOUNTS {
        let (status, token) = login(&http, url, user, DEMO_PASSWORD).await;
        out.push(token.ok_or_else(|| anyhow::anyhow!("{user} could not sign in: {status}"))?);
    }
    Ok(out)
}

async fn run_syncers(
    url: &str,
    tokens: &[String],
    n: usize,
    every: Duration,
    for_: Duration,
) -> Tally {
    let out: Shared = Arc::default();
    let until = Instant::now() + for_;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            tokio::spawn(syncer(
                url.to_owned(),
                tokens[i % tokens.len()].clone(),
                every,
                until,
                out.clone(),
            ))
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    std::mem::take(&mut *tally(&out))
}

fn random_name() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(rng.random_range(b'a'..=b'z')))
        .collect()
}

/// The largest push the limits allow: documents of just under `doc_bytes` of changes each, as
/// many as fit in `total_bytes` of changes.
fn largest_push(doc_bytes: usize, total_bytes: usize) -> anyhow::Result<serde_json::Value> {
    let mut pushes = Vec::new();
    let mut used = 0;
    let mut n = 0;
    loop {
        let id = DocId::problem("zcyd", format!("load-{n}"));
        let mut doc = docs::genesis::<Problem>(&id)?;
        doc.set_actor(ActorId::random());
        let mut p: Problem = docs::read(&doc, &id)?;
        let mut rng = rand::rng();
        p.finding.zone = "z1".into();
        p.finding.raised_by = "sec".into();
        p.finding.raised_at = zonepatrol_app::store::now_millis();
        p.finding.severity = Severity::General;
        p.finding.responsible = "h1".into();
        p.finding.deadline = Some(Day(chrono::Utc::now().date_naive()));
        // Random letters compress to about five bits each: as many as fill the document.
        p.finding.description = FreeText(
            (0..doc_bytes * 8 / 5 - 4096)
                .map(|_| char::from(rng.random_range(b'a'..=b'z')))
                .collect(),
        );
        docs::write(&mut doc, &p)?;
        doc.commit();
        let changes = doc.save();
        anyhow::ensure!(
            changes.len() <= doc_bytes,
            "{} bytes of changes",
            changes.len()
        );
        if used + changes.len() > total_bytes {
            break;
        }
        used += changes.len();
        let encoded = b64::encode(&changes);
        // Signed as a phone signs, by the account that sends it (the first).
        let hashes: Vec<_> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
        let signed = key_of(ACCOUNTS[0]).sign_changes(&id.to_string(), ACCOUNTS[0], &hashes);
        pushes.push(serde_json::json!({
            "id": id.to_string(),
            "base": [],
            "have": heads_to_hex(&doc.get_heads()),
            "changes": encoded,
            "signed": [signed],
        }));
        n += 1;
    }
    Ok(serde_json::json!({"cursor": 0, "push": pushes}))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    zonepatrol_app::sync::install_crypto();
    let dir = tempfile::tempdir()?;
    let server = start(&dir.path().join("server"))?;
    let pid = server.child.id();
    let url = server.url.clone();
    // Up once the demo accounts exist.
    let mut up = false;
    for _ in 0..400 {
        if login(&client(None), &url, "admin", DEMO_PASSWORD).await.0 == 200 {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(up, "the server did not come up");
    let peak = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    sample(pid, peak.clone(), stop.clone());
    let tokens = tokens(&url).await?;
    let every = Duration::from_millis(500);
    println!(
        "server pid {pid}, resident at start {:.1} MiB",
        rss_kib(pid) as f64 / 1024.0
    );

    // 1. The anchor.
    peak.store(rss_kib(pid), Ordering::Relaxed);
    let t = run_syncers(&url, &tokens, SYNC_CLIENTS, every, Duration::from_secs(5)).await;
    report(
        "anchor: 200 clients syncing, no sign-ins",
        &t,
        peak.load(Ordering::Relaxed),
    );

    // 2. 250 sign-ins at once, random names, each from its own address.
    peak.store(rss_kib(pid), Ordering::Relaxed);
    let started = Instant::now();
    let logins: Vec<_> = (0..250u32)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let from = Ipv4Addr::new(127, 0, 3 + (i / 200) as u8, (i % 200 + 2) as u8);
                login(&client(Some(from)), &url, &random_name(), "wrong password")
                    .await
                    .0
            })
        })
        .collect();
    let mut t = Tally::default();
    for l in logins {
        t.status(l.await.unwrap_or(0));
    }
    report(
        &format!(
            "250 sign-ins at once ({:.1} s)",
            started.elapsed().as_secs_f64()
        ),
        &t,
        peak.load(Ordering::Relaxed),
    );

    // 3. 200 clients syncing while 50 sign in in a loop, 20 s.
    peak.store(rss_kib(pid), Ordering::Relaxed);
    let until = Instant::now() + Duration::from_secs(20);
    let login_tally: Shared = Arc::default();
    let loopers: Vec<_> = (0..LOGIN_LOOPERS)
        .map(|i| {
            let url = url.clone();
            let out = login_tally.clone();
            tokio::spawn(async move {
                let http = client(Some(Ipv4Addr::new(127, 0, 9, (i + 2) as u8)));
                let mut n = 0usize;
                while Instant::now() < until {
                    let (user, password) = if n.is_multiple_of(2) {
                        (random_name(), "wrong password")
                    } else {
                        (ACCOUNTS[n % ACCOUNTS.len()].to_owned(), DEMO_PASSWORD)
                    };
                    let (status, _) = login(&http, &url, &user, password).await;
                    tally(&out).status(status);
                    n += 1;
                }
            })
        })
        .collect();
    let t = run_syncers(&url, &tokens, SYNC_CLIENTS, every, Duration::from_secs(20)).await;
    for l in loopers {
        let _ = l.await;
    }
    let peak3 = peak.load(Ordering::Relaxed);
    report("200 clients syncing while 50 sign in in a loop", &t, peak3);
    report("  the 50 signing in", &tally(&login_tally), peak3);

    // 4. The stall.
    let body = largest_push(2 * 1024 * 1024, 8 * 1024 * 1024)?;
    let docs = body["push"].as_array().map_or(0, Vec::len);
    peak.store(rss_kib(pid), Ordering::Relaxed);
    let t = run_syncers(
        &url,
        &tokens,
        20,
        Duration::from_millis(100),
        Duration::from_secs(3),
    )
    .await;
    report(
        "anchor: 20 clients' empty syncs, nothing else",
        &t,
        peak.load(Ordering::Relaxed),
    );
    peak.store(rss_kib(pid), Ordering::Relaxed);
    let pusher = {
        let url = url.clone();
        let token = tokens[0].clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let http = client(None);
            let (status, answer) = sync(&http, &url, &token, &body).await;
            let refused = answer.map_or(0, |a| {
                a.acks
                    .iter()
                    .filter(|a| {
                        matches!(
                            a.outcome,
                            zonepatrol_shared::protocol::Outcome::Refused { .. }
                        )
                    })
                    .count()
            });
            (status, refused, started.elapsed())
        })
    };
    let out: Shared = Arc::default();
    let mut clients = Vec::new();
    let busy_until = Instant::now() + Duration::from_secs(120);
    for i in 0..20 {
        clients.push(tokio::spawn(syncer(
            url.clone(),
            tokens[i % tokens.len()].clone(),
            Duration::from_millis(100),
            busy_until,
            out.clone(),
        )));
    }
    let (status, refused, took) = pusher.await?;
    // The pushers stop with the push.
    let t = std::mem::take(&mut *tally(&out));
    for c in clients {
        c.abort();
    }
    report(
        &format!(
            "20 clients' empty syncs during the largest push ({docs} docs, {:.1} s, {status}, {refused} refused)",
            took.as_secs_f64()
        ),
        &t,
        peak.load(Ordering::Relaxed),
    );
    stop.store(true, Ordering::Relaxed);
    drop(server);
    Ok(())
}
