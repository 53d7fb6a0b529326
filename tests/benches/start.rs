//! Cold start at company scale: how long after the server process starts it answers a
//! phone's first sync and a manager's first dashboard page, with the consolidated facts kept
//! beside the documents and, in the same run, with every document read again.
//!
//! Run with `cargo bench -p zonepatrol-tests --bench start`. The data are those of
//! `benches/consolidate.rs` as real automerge documents in a real sled store: 100 branches of
//! 50 zones (5,000 zones), a year of weekly inspections by five inspectors (26,000 sheets of
//! 50 zones), monthly self-scores and assessments of every zone, problems and cleanups;
//! about 110,000 documents, written through the server's writer without facts, as a server of
//! format 1 left them once migrated (the migration's backup is not measured here). A signed-in
//! secretary's phone and a manager's browser session are in the store, as on the morning after
//! an upgrade. The real server binary is started on the directory four times, each right after
//! the last (warm starts: the store is in the page cache):
//!
//! 1. the first start after the upgrade: no facts kept, every document is read and its
//!    facts written (the reports, new here, are written too);
//! 2. a restart: the facts are read back;
//! 3. `serve --rebuild-results`: every document is read again (the full rebuild, the anchor);
//! 4. a restart again.
//!
//! With `ZONEPATROL_TEST_POSTGRES` set, the store is then moved into PostgreSQL with
//! `migrate` and the server started on the database twice (goal: serving within 2 s, as on
//! sled).
//!
//! Each start prints the milliseconds from spawning the process to its first sync answered
//! (200, the phone's cursor from its last sync), to the overview page answered (200), the
//! documents read whole (from the server's log) and the process's peak memory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use chrono::{NaiveDate, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zonepatrol_server::store::writer::{self, Chunk};
use zonepatrol_server::store::{SledStore, Storage, TokenRecord, UserRecord, format};
use zonepatrol_shared::docs::{
    self, Assessment, Cleanup, Day, Directory, DocId, Document, FreeText, ItemEntry, Patrol,
    Problem, Sheet, Tally, Zone, ZoneSheet,
};
use zonepatrol_shared::rules::period::Period;
use zonepatrol_shared::{PatrolKind, Role, Severity};

const BIN: &str = env!("CARGO_BIN_EXE_zonepatrol-server-under-test");
const BRANCHES: usize = 100;
const ZONES: usize = 50;
const INSPECTORS: usize = 5;
const WEEKS: u32 = 52;
const YEAR: i32 = 2026;
const PHONE: &str = "start-bench-phone-token";
const BROWSER: &str = "start-bench-browser-token";

fn branch(b: usize) -> String {
    format!("b{b:03}")
}

fn zone(z: usize) -> String {
    format!("z{z:02}")
}

fn week_day(w: u32) -> NaiveDate {
    NaiveDate::from_isoywd_opt(YEAR, w, Weekday::Wed).expect("a day")
}

fn millis(day: NaiveDate) -> i64 {
    day.and_hms_opt(10, 0, 0)
        .expect("a time")
        .and_utc()
        .timestamp_millis()
}

/// A document as a phone leaves it: genesis, then one change with its content.
fn made<D: Document>(id: &DocId, fill: impl FnOnce(&mut D)) -> AutoCommit {
    let mut doc: AutoCommit = docs::genesis::<D>(id).expect("genesis");
    doc.set_actor(automerge::ActorId::from(&b"start-bench-phone"[..]));
    let mut value: D = docs::read(&doc, id).expect("read");
    fill(&mut value);
    docs::write(&mut doc, &value).expect("write");
    doc.commit();
    doc
}

/// Stores a document through the server's one writer, without facts (as format 1 did).
fn keep(store: &SledStore, id: &DocId, mut doc: AutoCommit) {
    let chunk = Chunk::between(&mut doc, &[], 0);
    let log = zonepatrol_shared::signing::LogEntry {
        doc: id.to_string(),
        at: 0,
        by: "start-bench".into(),
        changes: doc
            .get_changes(&[])
            .iter()
            .map(|c| c.hash().to_string())
            .collect(),
        signed: Vec::new(),
        via: None,
    };
    writer::commit(store, id, chunk, Vec::new(), None, &log).expect("stored");
}

/// One branch's year; returns how many documents it stored.
fn write_branch(store: &SledStore, b: usize) -> usize {
    let mut rng = StdRng::seed_from_u64(47 + b as u64);
    let id = branch(b);
    let template = zonepatrol_server::demo::template();
    let mut n = 0;
    let mut put = |doc_id: DocId, doc: AutoCommit| {
        keep(store, &doc_id, doc);
        n += 1;
    };
    put(
        DocId::directory(&id),
        made::<Directory>(&DocId::directory(&id), |d| {
            d.info.name = format!("第{b}党支部");
            d.info.category = (b % 4) as u64 + 1;
            d.templates.insert("t1".into(), template.clone());
            for z in 0..ZONES {
                d.zones.insert(
                    zone(z),
                    Zone {
                        name: format!("{b}号支部{z}号责任区"),
                        location: "三水平".into(),
                        holders: [(format!("h{b}-{z}"), true)].into(),
                        template: "t1".into(),
                        active: true,
                        shares: Default::default(),
                        ..Zone::default()
                    },
                );
            }
        }),
    );
    let inspectors: Vec<String> = (0..INSPECTORS).map(|i| format!("i{i}")).collect();
    for w in 1..=WEEKS {
        let patrol = format!("w{w:02}");
        let patrol_id = DocId::patrol(&id, &patrol);
        put(
            patrol_id.clone(),
            made::<Patrol>(&patrol_id, |p| {
                p.plan.kind = PatrolKind::Weekly;
                p.plan.date = Some(Day(week_day(w)));
                p.plan.leader = "sec".into();
                p.plan.inspectors = inspectors.iter().map(|i| (i.clone(), true)).collect();
                p.plan.zones = (0..ZONES).map(|z| (zone(z), z as u64)).collect();
                p.closed_at = Some(millis(week_day(w)) + 6 * 3_600_000);
            }),
        );
        for inspector in &inspectors {
            let sheet_id = DocId::sheet(&id, &patrol, inspector);
            let marks: Vec<(usize, i64)> = (0..ZONES)
                .map(|_| (rng.random_range(1..=9), rng.random_range(0..3)))
                .collect();
            put(
                sheet_id.clone(),
                made::<Sheet>(&sheet_id, |s| {
                    for (z, (item, count)) in marks.iter().enumerate() {
                        let mut sheet = ZoneSheet {
                            template: "t1".into(),
                            ..ZoneSheet::default()
                        };
                        if *count > 0 {
                            let mut entry = ItemEntry::default();
                            entry.deductions.insert("r1".into(), Tally::new(*count));
                            sheet.items.insert(format!("i{item}"), entry);
                        }
                        s.zones.insert(zone(z), sheet);
                    }
                }),
            );
        }
    }
    for m in 1..=12u32 {
        let month = Period::Month {
            year: YEAR,
            month: m,
        };
        let end = month.last_day();
        for z in 0..ZONES {
            let own = rng.random_range(80..=100);
            let fin = (own - rng.random_range(0..=8)).max(70);
            let doc_id = DocId::assessment(&id, zone(z), month);
            put(
                doc_id.clone(),
                made::<Assessment>(&doc_id, |a| {
                    a.self_score.items = zonepatrol_server::demo_history::items(own);
                    a.self_score.by = format!("h{b}-{z}");
                    a.self_score.at = Some(millis(end));
                    a.branch_score.items = zonepatrol_server::demo_history::items(fin);
                    a.branch_score.by = "sec".into();
                    a.branch_score.at = Some(millis(end) + 60_000);
                }),
            );
        }
        for p in 0..10u32 {
            let raised = NaiveDate::from_ymd_opt(YEAR, m, 1 + p * 2).expect("day");
            let doc_id = DocId::problem(&id, format!("p{m}-{p}"));
            put(
                doc_id.clone(),
                made::<Problem>(&doc_id, |x| {
                    x.finding.zone = zone(p as usize);
                    x.finding.raised_by = "sec".into();
                    x.finding.raised_at = millis(raised);
                    x.finding.description = FreeText::from("托辊缺失");
                    x.finding.severity = Severity::General;
                    x.finding.responsible = format!("h{b}-{p}");
                    x.finding.measure = FreeText::from("立即整改");
                    x.finding.deadline = raised.checked_add_days(chrono::Days::new(7)).map(Day);
                }),
            );
        }
        for k in 0..5u32 {
            let date = NaiveDate::from_ymd_opt(YEAR, m, 3 + k * 5).expect("day");
            let doc_id = DocId::cleanup(&id, format!("c{m}-{k}"));
            let people = rng.random_range(2..20);
            put(
                doc_id.clone(),
                made::<Cleanup>(&doc_id, |c| {
                    c.log.zone = zone(k as usize);
                    c.log.date = Some(Day(date));
                    c.log.leader = "tl".into();
                    c.log.person_times = people;
                }),
            );
        }
    }
    n
}

/// The data directory of the year without facts kept (as a server of format 1 left it, once
/// migrated), with the two sign-ins.
fn write_year(data: &Path) -> usize {
    let store = SledStore::open(&data.join("store")).expect("store");
    let written = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..2 {
            let (store, written) = (&store, &written);
            s.spawn(move || {
                for b in (t..BRANCHES).step_by(2) {
                    let n = write_branch(store, b);
                    written.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    let now = chrono::Utc::now().timestamp_millis();
    let password = zonepatrol_server::auth::hash_password("start-bench-password").expect("a hash");
    for (user, role, token) in [
        ("sec", Role::Secretary, PHONE),
        ("mgr", Role::Manager, BROWSER),
    ] {
        store
            .put_user(&UserRecord {
                user: user.into(),
                role,
                also: Vec::new(),
                branch: branch(0),
                password: password.clone(),
                created_at: now,
                disabled: false,
            })
            .expect("user");
        store
            .put_token(
                &zonepatrol_server::auth::token_hash(token),
                &TokenRecord {
                    user: user.into(),
                    device: "start-bench".into(),
                    created_at: now,
                    expires_at: now + 30 * 86_400_000,
                    key: None,
                },
            )
            .expect("token");
    }
    store.flush().expect("flush");
    drop(store);
    format::write(data, format::CURRENT).expect("format file");
    written.into_inner()
}

/// What one start measured.
struct Started {
    sync: Duration,
    page: Duration,
    read_whole: String,
    /// The server's own account of its start (`load_seconds`, `seconds`), from its log.
    loaded: String,
    peak_mib: f64,
}

/// Starts the server on `data` with `extra` arguments, measures, stops it with SIGTERM.
/// `cursor` is the phone's: its first sync sends it, and it follows the answers.
fn start(rt: &tokio::runtime::Runtime, data: &Path, extra: &[&str], cursor: &mut u64) -> Started {
    let log_path = data.with_extension("log");
    let _ = std::fs::remove_file(&log_path);
    let began = Instant::now();
    let mut child = Command::new(BIN)
        .args(["serve", "--data", data.to_str().expect("utf-8")])
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "zonepatrol_server=info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).expect("log"))
        .spawn()
        .expect("server starts");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("first line");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            panic!(
                "unexpected first line {line:?}: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            )
        })
        .to_owned();
    let client = reqwest::Client::new();
    let (sync, page) = rt.block_on(async {
        let sync_body = |cursor: u64| {
            serde_json::json!({"cursor": cursor, "push": [], "max_bytes": 4_000_000}).to_string()
        };
        let deadline = Instant::now() + Duration::from_secs(1200);
        let sync = loop {
            assert!(Instant::now() < deadline, "no sync answered");
            let r = client
                .post(format!("{url}/v1/sync"))
                .bearer_auth(PHONE)
                .header("content-type", "application/json")
                .body(sync_body(*cursor))
                .send()
                .await;
            if let Ok(r) = r
                && r.status() == reqwest::StatusCode::OK
            {
                let at = began.elapsed();
                let v: serde_json::Value = r.json().await.expect("json");
                *cursor = v["cursor"].as_u64().expect("cursor");
                break at;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let page = loop {
            assert!(Instant::now() < deadline, "no page answered");
            let r = client
                .get(format!("{url}/dash"))
                .header("cookie", format!("zp_session={BROWSER}"))
                .send()
                .await;
            if let Ok(r) = r
                && r.status() == reqwest::StatusCode::OK
            {
                let body = r.text().await.expect("page");
                let at = began.elapsed();
                assert!(
                    body.contains("b001") || body.contains("第1党支部"),
                    "{body:.300}"
                );
                break at;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        // The phone catches up before the next start.
        loop {
            let v: serde_json::Value = client
                .post(format!("{url}/v1/sync"))
                .bearer_auth(PHONE)
                .header("content-type", "application/json")
                .body(sync_body(*cursor))
                .send()
                .await
                .expect("sync")
                .json()
                .await
                .expect("json");
            *cursor = v["cursor"].as_u64().expect("cursor");
            if v["more"] != true {
                break;
            }
        }
        (sync, page)
    });
    let peak_mib = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("exits");
    assert!(exit.success(), "{exit:?}");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let ready = log
        .lines()
        .find(|l| l.contains("the results are ready"))
        .unwrap_or_default();
    let field = |name: &str| {
        ready
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .unwrap_or("?")
            .to_owned()
    };
    let read_whole = field("read_whole=");
    let seconds = |name: &str| {
        field(name)
            .parse::<f64>()
            .map_or("?".to_owned(), |s| format!("{:.0}", s * 1000.0))
    };
    let loaded = format!("{} / {}", seconds("load_seconds="), seconds("seconds="));
    Started {
        sync,
        page,
        read_whole,
        loaded,
        peak_mib,
    }
}

fn main() {
    zonepatrol_app::sync::install_crypto();
    // ZONEPATROL_START_DATA=DIR keeps the year there and, when it is there already, runs the
    // restarts only (for working on the start itself).
    let dir = tempfile::tempdir().expect("dir");
    let (data, again) = match std::env::var_os("ZONEPATROL_START_DATA") {
        Some(kept) => {
            let data = std::path::PathBuf::from(kept);
            let again = data.join("store").exists();
            (data, again)
        }
        None => (dir.path().join("data"), false),
    };
    if !again {
        let made_at = Instant::now();
        let documents = write_year(&data);
        println!(
            "the year: {documents} documents, written in {:.0} s",
            made_at.elapsed().as_secs_f64()
        );
    }
    println!(
        "store {:.0} MiB",
        walk_size(&data.join("store")) as f64 / 1_048_576.0
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut cursor = 0;
    // The phone synced before the upgrade: its cursor is the store's last document.
    {
        let store = SledStore::open(&data.join("store")).expect("store");
        cursor = store.last_seq().expect("seq").max(cursor);
    }
    let all: [(&str, &[&str]); 4] = [
        ("first start after the upgrade (no facts kept)", &[]),
        ("restart (facts kept)", &[]),
        (
            "serve --rebuild-results (full rebuild)",
            &["--rebuild-results"],
        ),
        ("restart (facts kept)", &[]),
    ];
    let starts: &[(&str, &[&str])] = if again {
        &[("restart (facts kept)", &[]), ("restart (facts kept)", &[])]
    } else {
        &all
    };
    println!(
        "{:<48} {:>12} {:>12} {:>11} {:>17} {:>9}",
        "start", "first sync", "first page", "read whole", "load / ready ms", "peak MiB"
    );
    let show = |name: &str, s: Started| {
        println!(
            "{name:<48} {:>9.0} ms {:>9.0} ms {:>11} {:>17} {:>9.0}",
            s.sync.as_secs_f64() * 1000.0,
            s.page.as_secs_f64() * 1000.0,
            s.read_whole,
            s.loaded,
            s.peak_mib
        );
    };
    // ZONEPATROL_START_ENGINES=postgresql: the PostgreSQL starts alone (the store moved
    // before any start, so its first start keeps every record's facts, as sled's does).
    let sled = std::env::var("ZONEPATROL_START_ENGINES").map_or(true, |e| e.contains("sled"));
    if sled {
        for (name, extra) in starts {
            show(name, start(&rt, &data, extra, &mut cursor));
        }
    }
    // The same company on PostgreSQL: the store moved with `migrate`, then the server started
    // on the database twice.
    let Ok(pg) = std::env::var("ZONEPATROL_TEST_POSTGRES") else {
        println!(
            "SKIPPED the PostgreSQL starts: set ZONEPATROL_TEST_POSTGRES (scripts/pg-cluster)"
        );
        return;
    };
    if again {
        return;
    }
    let schema = format!("zp_bench_start_{}", std::process::id());
    postgres::Client::connect(&pg, postgres::NoTls)
        .and_then(|mut c| c.batch_execute(&format!("create schema {schema}")))
        .expect("a schema");
    let sep = if pg.contains('?') { '&' } else { '?' };
    let db = format!("{pg}{sep}options=-c%20search_path%3D{schema}");
    let moving = Instant::now();
    let out = Command::new(BIN)
        .args([
            "migrate",
            "--from",
            data.to_str().expect("utf-8"),
            "--to",
            &db,
        ])
        .output()
        .expect("migrate runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "moved to PostgreSQL and checked in {:.0} s",
        moving.elapsed().as_secs_f64()
    );
    let first = if sled {
        "PostgreSQL: first start after the move"
    } else {
        "PostgreSQL: first start (no facts kept)"
    };
    for name in [
        first,
        "PostgreSQL: restart (facts kept)",
        "PostgreSQL: restart (facts kept)",
    ] {
        show(name, start(&rt, &data, &["--database", &db], &mut cursor));
    }
}

fn walk_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
