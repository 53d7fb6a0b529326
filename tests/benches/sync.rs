//! Sync benchmark: a device's first sync of 2,000 documents, and a sync when nothing changed,
//! over real HTTP on loopback to a server with a real sled directory.
//!
//! Run with `cargo bench -p zonepatrol-tests --bench sync`. Prints time and bytes for each,
//! beside an anchor measured in the same run: automerge alone loading the same 2,000
//! documents from memory (no network, no disk), the floor any automerge sync stands on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use tokio::net::TcpListener;
use zonepatrol_app::store::{Repo, now_millis};
use zonepatrol_app::sync::{Progress, SyncClient};
use zonepatrol_server::Settings;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_shared::Severity;
use zonepatrol_shared::docs::{Day, DocId, FreeText, Problem};
use zonepatrol_shared::rules::period::MineClock;

const DOCS: usize = 2_000;
const RUNS: usize = 5;

async fn device(url: &str, dir: &std::path::Path) -> anyhow::Result<SyncClient> {
    let repo = Arc::new(Repo::open(dir)?);
    let client = SyncClient::new(repo)?;
    client.login(url, "sec", DEMO_PASSWORD, "bench").await?;
    Ok(client)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn show(label: &str, time: Duration, p: &Progress) {
    println!(
        "{label:<44} {:>9.1} ms  {:>4} round trips  {:>9} bytes up  {:>9} bytes down  {:>5} docs down",
        time.as_secs_f64() * 1000.0,
        p.round_trips,
        p.bytes_up,
        p.bytes_down,
        p.docs_down
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::new(dir.path().join("server"));
    settings.demo = true;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(zonepatrol_server::launch(
        settings,
        listener,
        std::future::pending(),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The secretary's first phone raises 2,000 problems and sends them (not timed).
    let seeder = loop {
        match device(&url, &dir.path().join("seeder")).await {
            Ok(d) => break d,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let today = MineClock::default()
        .date_of_millis(now_millis())
        .ok_or_else(|| anyhow::anyhow!("no date"))?;
    let repo = seeder.repo().clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for n in 0..DOCS {
            let id = DocId::problem("zcyd", format!("bench-{n}"));
            repo.edit::<Problem, _>(&id, |p| {
                p.finding.zone = format!("z{}", n % 4 + 1);
                p.finding.raised_by = "sec".into();
                p.finding.raised_at = now_millis();
                p.finding.description = FreeText(format!("第{n}号隐患：电缆吊挂不整齐，托辊缺失"));
                p.finding.measure = FreeText::from("重新吊挂，补齐托辊");
                p.finding.severity = Severity::General;
                p.finding.responsible = "h1".into();
                p.finding.deadline = Some(Day(today));
            })?;
        }
        Ok(())
    })
    .await??;
    let pushed = seeder.sync().await?;
    anyhow::ensure!(pushed.refused == 0, "the seed was refused");
    println!(
        "seeded {} documents ({} bytes sent by the seeding phone)",
        DOCS, pushed.bytes_up
    );

    // Anchor: automerge alone loads the same documents from bytes in memory.
    let bytes: Vec<Vec<u8>> = {
        let repo = seeder.repo();
        repo.ids()?
            .iter()
            .filter_map(|id| repo.load(id).ok().flatten())
            .map(|mut d| d.save())
            .collect()
    };
    let mut anchor = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        for b in &bytes {
            std::hint::black_box(AutoCommit::load(b)?);
        }
        anchor.push(start.elapsed());
    }
    let total: usize = bytes.iter().map(Vec::len).sum();

    // A new phone's first sync, several times on fresh phones; then a sync with nothing new.
    let mut first = Vec::new();
    let mut first_progress = Progress::default();
    let mut idle = Vec::new();
    let mut idle_progress = Progress::default();
    for run in 0..RUNS {
        let phone = device(&url, &dir.path().join(format!("phone-{run}"))).await?;
        let start = Instant::now();
        first_progress = phone.sync().await?;
        first.push(start.elapsed());
        anyhow::ensure!(
            phone.repo().ids()?.len() > DOCS,
            "the phone did not get everything"
        );
        let start = Instant::now();
        idle_progress = phone.sync().await?;
        idle.push(start.elapsed());
    }

    println!("median of {RUNS} runs, loopback HTTP, sled on disk, flushed:");
    show(
        &format!("first sync of {} documents", first_progress.docs_down),
        median(first),
        &first_progress,
    );
    show("sync with nothing changed", median(idle), &idle_progress);
    println!(
        "{:<44} {:>9.1} ms  ({} documents, {} bytes, in memory)",
        "anchor: automerge::AutoCommit::load alone",
        median(anchor).as_secs_f64() * 1000.0,
        bytes.len(),
        total
    );
    println!(
        "goal: first sync under 1000 ms (samod 0.16: 6700 ms, quoted by the issue, not run here);"
    );
    println!("      nothing changed: 1 round trip and under 65536 bytes");
    Ok(())
}
