//! The shift change: a mine's phones come up at once, each pushing a shift's work and pulling,
//! against the server on its embedded store, one server on PostgreSQL and three servers sharing
//! one PostgreSQL database, in one run.
//!
//! Run with `ZONEPATROL_TEST_POSTGRES=postgres://… cargo bench -p zonepatrol-tests --bench shift`
//! (`scripts/pg-cluster start` gives a throwaway server; without one only the sled server
//! runs). Bounded: every request has a timeout and every phone does one shift's work.
//!
//! The mine: the demo branch with 40 zones and 300 inspectors (directory members, accounts
//! and sign-ins made beforehand), ten patrols of thirty inspectors over the 40 zones. Each
//! phone, all at once: one sync pushing its sheet (40 zones scored, a deduction on each) and
//! five problems, each with a photo; the photos and their thumbnails uploaded (a real photo
//! through the app's pipeline, made unique per problem); then pulls until it has everything.
//!
//! It prints, per engine: the total time until the last phone is done, throughput (phones a
//! second), p50/p99/max of a phone's time, errors (any answer but success, any refused
//! change), and the servers' peak resident memory (summed over the instances). Goals (issue
//! 20): no errors; each PostgreSQL run within 2× the sled run's total time; every phone done
//! within 30 s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use automerge::ActorId;
use sha2::Digest;
use zonepatrol_server::admin::directory::{MemberInput, ZoneInput, save_member, save_zone};
use zonepatrol_server::store::{TokenRecord, UserRecord};
use zonepatrol_server::{Database, Settings, State, auth, reports, seed};
use zonepatrol_shared::docs::{
    self, Day, DocId, FreeText, ItemEntry, Patrol, PhotoRef, Problem, Sheet, Tally, ZoneSheet,
};
use zonepatrol_shared::protocol::{Outcome, SyncResponse, b64, heads_to_hex};
use zonepatrol_shared::{Actor, PatrolKind, Role, Severity};

const PHONES: usize = 300;
const ZONES: usize = 40;
const PROBLEMS: usize = 5;
const PER_PATROL: usize = 30;
const BRANCH: &str = "zcyd";

/// One phone's shift: who, its sign-in, and what it pushes and uploads.
struct Phone {
    token: String,
    push: serde_json::Value,
    blobs: Vec<(String, Vec<u8>)>,
}

fn today() -> chrono::NaiveDate {
    zonepatrol_shared::rules::MineClock::default()
        .date_of_millis(zonepatrol_app::store::now_millis())
        .unwrap_or_else(|| chrono::Utc::now().date_naive())
}

fn inspector(n: usize) -> String {
    format!("ins{n:03}")
}

fn patrol_of(n: usize) -> String {
    format!("shift-{}", n / PER_PATROL)
}

/// Sets the mine up in a store (in this process): the demo branch, 40 zones, 300 inspectors
/// with their sign-ins, ten patrols. Returns the sign-in tokens.
fn set_up(settings: Settings) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let state = State::open(settings)?;
    seed::demo_mine(&*state.store)?;
    reports::load(&state, false)?;
    let admin = Actor::new("admin", Role::Admin, "hq");
    for z in 5..=ZONES {
        save_zone(
            &state,
            &admin,
            BRANCH,
            None,
            &ZoneInput {
                name: format!("责任区 {z}"),
                location: format!("-650 运输巷 {z}00 m"),
                holders: vec!["h1".into()],
                teams: Vec::new(),
                template: "t1".into(),
                active: true,
                shares: BTreeMap::new(),
            },
        )?;
    }
    let zones: Vec<String> = zonepatrol_server::admin::directory::directory(&state, BRANCH)?
        .ok_or_else(|| anyhow::anyhow!("no directory"))?
        .zones
        .into_keys()
        .collect();
    anyhow::ensure!(zones.len() >= ZONES, "{} zones", zones.len());
    let phc = auth::hash_password(seed::DEMO_PASSWORD)?;
    let now = zonepatrol_app::store::now_millis();
    let mut tokens = Vec::new();
    for n in 0..PHONES {
        let user = inspector(n);
        save_member(
            &state,
            &admin,
            BRANCH,
            &MemberInput {
                id: user.clone(),
                name: format!("检查员{n}"),
                group: String::new(),
                team: String::new(),
            },
        )?;
        state.store.put_user(&UserRecord {
            user: user.clone(),
            role: Role::Inspector,
            also: Vec::new(),
            branch: BRANCH.into(),
            password: phc.clone(),
            created_at: now,
            disabled: false,
        })?;
        let token = hex::encode(rand::random::<[u8; 32]>());
        // Each phone's key, registered as its sign-in would.
        let key = key_of(&user).id().to_string();
        auth::register_device(&*state.store, &key, "shift phone", &user, now)?;
        state.store.put_token(
            &auth::token_hash(&token),
            &TokenRecord {
                user,
                device: "shift phone".into(),
                created_at: now,
                expires_at: now + 86_400_000,
                key: Some(key),
            },
        )?;
        tokens.push(token);
    }
    let sec = Actor::new("sec", Role::Secretary, BRANCH);
    for p in 0..PHONES.div_ceil(PER_PATROL) {
        let id = DocId::patrol(BRANCH, patrol_of(p * PER_PATROL));
        zonepatrol_server::admin::edit_document::<Patrol>(&state, &sec, &id, "plan", |plan| {
            plan.plan.kind = PatrolKind::Weekly;
            plan.plan.date = Some(Day(today()));
            plan.plan.leader = "sec".into();
            for n in p * PER_PATROL..((p + 1) * PER_PATROL).min(PHONES) {
                plan.plan.inspectors.insert(inspector(n), true);
            }
            for (order, zone) in zones.iter().take(ZONES).enumerate() {
                plan.plan.zones.insert(zone.clone(), order as u64);
            }
            Ok(())
        })?;
    }
    state.store.flush()?;
    Ok((tokens, zones))
}

/// A photo and its thumbnail as the app makes them, from a real camera photo.
fn camera_photo() -> anyhow::Result<(Vec<u8>, Vec<u8>, u32, u32)> {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/phone-12mp.jpg"),
    )?;
    let p = zonepatrol_app::photo::process(&bytes, &Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((p.full.bytes, p.thumb.bytes, p.full.width, p.full.height))
}

/// Bytes made unique by a tail after the JPEG's end, which decoders pass over.
fn unique(bytes: &[u8], tag: &str) -> (String, Vec<u8>) {
    let mut b = bytes.to_vec();
    b.extend_from_slice(tag.as_bytes());
    (hex::encode(sha2::Sha256::digest(&b)), b)
}

/// Each phone's device key: one per inspector.
fn key_of(user: &str) -> zonepatrol_shared::signing::DeviceKey {
    let seed: [u8; 32] = sha2::Sha256::digest(format!("shift bench key of {user}")).into();
    zonepatrol_shared::signing::DeviceKey::from_seed(seed)
}

/// A whole new document's push, signed by `user`'s phone as the app signs.
fn push_of(user: &str, id: &DocId, doc: &mut automerge::AutoCommit) -> serde_json::Value {
    let hashes: Vec<_> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
    let signed = key_of(user).sign_changes(&id.to_string(), user, &hashes);
    serde_json::json!({
        "id": id.to_string(),
        "base": [],
        "have": heads_to_hex(&doc.get_heads()),
        "changes": b64::encode(&doc.save()),
        "signed": [signed],
    })
}

/// Each phone's shift, built before the clock starts.
fn shifts(tokens: &[String], zones: &[String]) -> anyhow::Result<Vec<Phone>> {
    let (full, thumb, width, height) = camera_photo()?;
    let now = zonepatrol_app::store::now_millis();
    let mut phones = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let user = inspector(n);
        let mut pushes = Vec::new();
        let id = DocId::sheet(BRANCH, patrol_of(n), &user);
        let mut doc = docs::genesis::<Sheet>(&id)?;
        doc.set_actor(ActorId::random());
        let mut sheet: Sheet = docs::read(&doc, &id)?;
        for zone in zones.iter().take(ZONES) {
            let mut z = ZoneSheet {
                template: "t1".into(),
                ..Default::default()
            };
            let mut entry = ItemEntry::default();
            entry
                .deductions
                .insert("r1".into(), Tally::new(1 + (n % 3) as i64));
            z.items.insert(format!("i{}", 1 + n % 5), entry);
            sheet.zones.insert(zone.clone(), z);
        }
        sheet.submitted_at = Some(now);
        docs::write(&mut doc, &sheet)?;
        doc.commit();
        pushes.push(push_of(&user, &id, &mut doc));
        let mut blobs = Vec::new();
        for k in 0..PROBLEMS {
            let (photo_hash, photo) = unique(&full, &format!("{user}-{k}"));
            let (thumb_hash, thumb_bytes) = unique(&thumb, &format!("{user}-{k}-thumb"));
            let id = DocId::problem(BRANCH, format!("{user}-{k}"));
            let mut doc = docs::genesis::<Problem>(&id)?;
            doc.set_actor(ActorId::random());
            let mut p: Problem = docs::read(&doc, &id)?;
            p.finding.zone = zones[(n + k) % ZONES].clone();
            p.finding.raised_by = user.clone();
            p.finding.raised_at = now;
            p.finding.description = FreeText::from("皮带机托辊缺失，需更换");
            p.finding.severity = Severity::General;
            p.finding.responsible = "h1".into();
            p.finding.measure = FreeText::from("更换托辊");
            p.finding.deadline = Some(Day(today()));
            p.finding.photos.insert(
                photo_hash.clone(),
                PhotoRef {
                    thumb: thumb_hash.clone(),
                    taken_at: Some(now),
                    width,
                    height,
                    marks: Default::default(),
                },
            );
            docs::write(&mut doc, &p)?;
            doc.commit();
            pushes.push(push_of(&user, &id, &mut doc));
            blobs.push((photo_hash, photo));
            blobs.push((thumb_hash, thumb_bytes));
        }
        phones.push(Phone {
            token: token.clone(),
            push: serde_json::json!({ "cursor": 0, "push": pushes }),
            blobs,
        });
    }
    Ok(phones)
}

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

fn start(data: &Path, database: Option<&str>) -> anyhow::Result<Server> {
    use std::io::BufRead;
    let mut command = Command::new(env!("CARGO_BIN_EXE_zonepatrol-server-under-test"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data);
    if let Some(db) = database {
        command.args(["--database", db]);
    }
    let mut child = command
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

async fn serving(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for _ in 0..1200 {
        if let Ok(r) = http.get(format!("{url}/ready")).send().await
            && r.status() == 200
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("{url} did not come up")
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// How long each part of a phone's shift took: the push, the photos, the pulls.
#[derive(Default, Clone, Copy)]
struct Phases {
    push: Duration,
    photos: Duration,
    pulls: Duration,
}

/// One phone's shift through `url`: the push, the photos, the pull. Its errors, and how long
/// each part took.
async fn shift(http: &reqwest::Client, url: &str, phone: &Phone) -> (u64, Phases) {
    let mut errors = 0;
    let mut phases = Phases::default();
    let mut began = Instant::now();
    let answer = http
        .post(format!("{url}/v1/sync"))
        .bearer_auth(&phone.token)
        .json(&phone.push)
        .send()
        .await;
    let mut cursor = 0;
    let mut more = true;
    match answer {
        Ok(r) if r.status() == 200 => match r.json::<SyncResponse>().await {
            Ok(a) => {
                errors += a
                    .acks
                    .iter()
                    .filter(|a| !matches!(a.outcome, Outcome::Accepted))
                    .count() as u64;
                if a.acks.len() != 1 + PROBLEMS {
                    errors += 1;
                }
                cursor = a.cursor;
                more = a.more;
            }
            Err(_) => errors += 1,
        },
        Ok(r) => {
            eprintln!("push answered {}", r.status());
            errors += 1;
        }
        Err(e) => {
            eprintln!("push failed: {e}");
            errors += 1;
        }
    }
    phases.push = began.elapsed();
    began = Instant::now();
    for (hash, bytes) in &phone.blobs {
        let sent = http
            .put(format!("{url}/v1/blobs/{hash}"))
            .bearer_auth(&phone.token)
            .header("Upload-Length", bytes.len().to_string())
            .body(bytes.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                eprintln!("photo answered {}", r.status());
                errors += 1;
            }
            Err(e) => {
                eprintln!("photo failed: {e}");
                errors += 1;
            }
        }
    }
    phases.photos = began.elapsed();
    began = Instant::now();
    let mut rounds = 0;
    while more && rounds < 100 {
        rounds += 1;
        let answer = http
            .post(format!("{url}/v1/sync"))
            .bearer_auth(&phone.token)
            .json(&serde_json::json!({ "cursor": cursor }))
            .send()
            .await;
        match answer {
            Ok(r) if r.status() == 200 => match r.json::<SyncResponse>().await {
                Ok(a) => {
                    cursor = a.cursor;
                    more = a.more;
                }
                Err(_) => {
                    errors += 1;
                    break;
                }
            },
            _ => {
                errors += 1;
                break;
            }
        }
    }
    phases.pulls = began.elapsed();
    (errors, phases)
}

/// The shift change against `urls` (phones spread over them in turn), with the servers'
/// memory sampled; prints its line and returns the total time.
async fn run(name: &str, urls: &[String], pids: &[u32], phones: Arc<Vec<Phone>>) -> Duration {
    let peak = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop, pids) = (peak.clone(), stop.clone(), pids.to_vec());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let sum: u64 = pids.iter().map(|p| rss_kib(*p)).sum();
                peak.fetch_max(sum, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..phones.len() {
        let url = urls[n % urls.len()].clone();
        let phones = phones.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .pool_max_idle_per_host(1)
                .build()
                .unwrap_or_default();
            let t = Instant::now();
            let (errors, phases) = shift(&http, &url, &phones[n]).await;
            (t.elapsed(), errors, phases)
        }));
    }
    let mut times = Vec::new();
    let mut parts: Vec<Phases> = Vec::new();
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok((t, e, phases)) => {
                times.push(t);
                parts.push(phases);
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    let total = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{name:<28} total {:>6.2} s  {:>6.1} phones/s  p50 {:>6.2} s  p99 {:>6.2} s  max {:>6.2} s  errors {errors}  peak RSS {} MiB",
        total.as_secs_f64(),
        phones.len() as f64 / total.as_secs_f64(),
        at(0.5).as_secs_f64(),
        at(0.99).as_secs_f64(),
        times.last().copied().unwrap_or_default().as_secs_f64(),
        peak.load(Ordering::Relaxed) / 1024,
    );
    // Where a phone's time went: each part's median and slowest.
    let part = |of: fn(&Phases) -> Duration| {
        let mut d: Vec<Duration> = parts.iter().map(of).collect();
        d.sort();
        let p50 = d.get(d.len() / 2).copied().unwrap_or_default();
        let max = d.last().copied().unwrap_or_default();
        format!("{:>5.2} / {:>5.2} s", p50.as_secs_f64(), max.as_secs_f64())
    };
    println!(
        "{:<28} p50 / max: push (its answer the first pull) {}  photos {}  later pulls {}",
        "",
        part(|p| p.push),
        part(|p| p.photos),
        part(|p| p.pulls),
    );
    total
}

/// A schema of its own in the test database for one engine's run.
async fn schema_url(url: &str, name: &str) -> anyhow::Result<String> {
    let schema = format!("zp_bench_{name}_{}", std::process::id());
    let (made, at) = (schema.clone(), url.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(&at, postgres::NoTls)?;
        client.batch_execute(&format!("create schema {made}"))?;
        Ok(())
    })
    .await??;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}

/// Sets up a mine, starts `instances` servers on it and runs the shift change.
async fn engine(
    name: &str,
    key: &str,
    dir: &Path,
    database: Option<String>,
    instances: usize,
) -> anyhow::Result<Duration> {
    let data: PathBuf = dir.join(key);
    let mut settings = Settings::new(&data);
    settings.demo = true;
    settings.database = database.clone().map(|url| Database {
        url,
        connections: 4,
    });
    let set_up_started = Instant::now();
    let (tokens, zones) = tokio::task::spawn_blocking(move || set_up(settings)).await??;
    let phones = Arc::new(shifts(&tokens, &zones)?);
    eprintln!(
        "{name}: mine set up in {:.1} s",
        set_up_started.elapsed().as_secs_f64()
    );
    let mut servers = Vec::new();
    for _ in 0..instances {
        let server = start(&data, database.as_deref())?;
        serving(&server.url).await?;
        servers.push(server);
    }
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    Ok(run(name, &urls, &pids, phones).await)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    zonepatrol_app::sync::install_crypto();
    let dir = tempfile::tempdir()?;
    println!(
        "the shift change: {PHONES} phones at once, each a sheet of {ZONES} zones and {PROBLEMS} problems with a photo, then a pull"
    );
    let sled = engine("sled", "sled", dir.path(), None, 1).await?;
    let Ok(pg) = std::env::var("ZONEPATROL_TEST_POSTGRES") else {
        println!("SKIPPED the PostgreSQL runs: set ZONEPATROL_TEST_POSTGRES (scripts/pg-cluster)");
        return Ok(());
    };
    let one = {
        let db = schema_url(&pg, "one").await?;
        engine("postgresql, one instance", "pg1", dir.path(), Some(db), 1).await?
    };
    let three = {
        let db = schema_url(&pg, "three").await?;
        engine(
            "postgresql, three instances",
            "pg3",
            dir.path(),
            Some(db),
            3,
        )
        .await?
    };
    println!(
        "PostgreSQL against sled: one instance {:.2}×, three instances {:.2}× (goal: within 2×)",
        one.as_secs_f64() / sled.as_secs_f64(),
        three.as_secs_f64() / sled.as_secs_f64()
    );
    Ok(())
}
