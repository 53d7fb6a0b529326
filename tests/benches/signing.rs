//! What signing and verifying cost (issue 21): a phone's first sync sending 2,000 documents,
//! a new phone's first sync receiving them, and a checked tap, each beside the unsigned path
//! in the same run.
//!
//! Two servers run side by side in this process on loopback, each with its own sled directory:
//! one checks every signature (as in service), the other is the anchor, the same code with the
//! check off (`Settings::verify_signatures`), fed by phones that do not sign
//! (`Repo::sign_pushes(false)`), both started afresh each round (a first sync brings all the
//! server holds, so a server that grew would make each round slower than the one before). Each
//! round, a fresh phone on each raises 2,000 problems and
//! sends them; the two are timed in turn so that whatever else the machine does falls on
//! both alike, each after a pause for the disk writes before it to finish; each round's own
//! ratio is printed beside the ratio of the medians, and the sending side's processor time
//! (the process's, phone and server together) beside its wall-clock time. A tap is not signed when it is saved (its change is signed when it is sent),
//! so the tap's line adds the signature its change will need to the checked tap's time.
//!
//! Run with `cargo bench -p zonepatrol-tests --bench signing`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use zonepatrol_app::store::{Repo, now_millis};
use zonepatrol_app::sync::SyncClient;
use zonepatrol_server::Settings;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_shared::Severity;
use zonepatrol_shared::docs::{Day, DocId, FreeText, Problem};
use zonepatrol_shared::rules::period::MineClock;

const DOCS: usize = 2_000;
const ROUNDS: usize = 9;
const TAPS: usize = 200;

/// A server on loopback with the demo mine, and how to stop it.
struct Server {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), zonepatrol_server::LaunchError>>,
}

impl Server {
    async fn start(dir: &std::path::Path, verify: bool) -> anyhow::Result<Server> {
        let mut settings = Settings::new(dir);
        settings.demo = true;
        settings.verify_signatures = verify;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(zonepatrol_server::launch(settings, listener, async move {
            let _ = stopped.await;
        }));
        Ok(Server { url, stop, task })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn phone(url: &str, dir: &std::path::Path, signs: bool) -> anyhow::Result<SyncClient> {
    let repo = Arc::new(Repo::open(dir)?);
    repo.sign_pushes(signs);
    let client = SyncClient::new(repo)?;
    for _ in 0..200 {
        if client
            .login(url, "sec", DEMO_PASSWORD, "bench")
            .await
            .is_ok()
        {
            return Ok(client);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server at {url} did not come up")
}

/// Raises `DOCS` problems on a phone (not timed).
async fn raise(phone: &SyncClient, round: usize) -> anyhow::Result<()> {
    let today = MineClock::default()
        .date_of_millis(now_millis())
        .ok_or_else(|| anyhow::anyhow!("no date"))?;
    let repo = phone.repo().clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for n in 0..DOCS {
            let id = DocId::problem("zcyd", format!("r{round}-{n}"));
            repo.edit::<Problem, _>(&id, |p| {
                p.finding.zone = format!("z{}", n % 4 + 1);
                p.finding.raised_by = "sec".into();
                p.finding.raised_at = now_millis();
                p.finding.description = FreeText(format!("第{n}号隐患：电缆吊挂不整齐，托辊缺失"));
                p.finding.severity = Severity::General;
                p.finding.responsible = "h1".into();
                p.finding.deadline = Some(Day(today));
            })?;
        }
        Ok(())
    })
    .await?
}

/// The processor time this process has used (user and system, all threads; Linux's
/// `/proc/self/stat`, in clock ticks of 10 ms): what a sync costs the machine, whatever the
/// disk and the other guests of the host do meanwhile. Zero where it cannot be read.
fn cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // After the command's name in parentheses: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Lets the disk writes of what came before (the phone's 2,000 edits, the other server's
/// last sync) finish before a timed sync, so that neither side pays for the other's.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
}

/// The median of the rounds' ratios, each round's signed time over the same round's
/// unsigned one: the two were measured seconds apart, so a slow spell of the machine falls on
/// both sides of one ratio rather than on one side of the medians.
fn paired(signed: &[Duration], unsigned: &[Duration]) -> f64 {
    let mut r: Vec<f64> = signed
        .iter()
        .zip(unsigned)
        .map(|(s, u)| s.as_secs_f64() / u.as_secs_f64())
        .collect();
    r.sort_by(f64::total_cmp);
    r[r.len() / 2]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn line(label: &str, signed: &[Duration], unsigned: &[Duration]) {
    let (s, u) = (median(signed.to_vec()), median(unsigned.to_vec()));
    println!(
        "{label:<48} {:>9.1} ms signed  {:>9.1} ms unsigned  {:>6.3}×  (rounds: {:.3}×)",
        ms(s),
        ms(u),
        s.as_secs_f64() / u.as_secs_f64(),
        paired(signed, unsigned)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;

    let (mut push_s, mut push_u, mut pull_s, mut pull_u) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_s, mut cpu_u) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Fresh servers each round, so that every round does the same work (a first sync also
        // brings everything the server holds).
        let signed = Server::start(&dir.path().join(format!("signed-{round}")), true).await?;
        let unsigned = Server::start(&dir.path().join(format!("unsigned-{round}")), false).await?;
        // In turn: signed first on even rounds, unsigned first on odd ones.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for signs in order {
            let url = if signs { &signed.url } else { &unsigned.url };
            let tag = if signs { "s" } else { "u" };
            let sender = phone(url, &dir.path().join(format!("send-{tag}-{round}")), signs).await?;
            raise(&sender, round).await?;
            settle().await;
            let (start, cpu_start) = (Instant::now(), cpu());
            let sent = sender.sync().await?;
            let took = start.elapsed();
            let took_cpu = cpu().saturating_sub(cpu_start);
            anyhow::ensure!(sent.refused == 0, "{tag}: refused {}", sent.refused);
            anyhow::ensure!(
                sent.docs_up as usize >= DOCS,
                "{tag}: sent {}",
                sent.docs_up
            );
            let receiver =
                phone(url, &dir.path().join(format!("recv-{tag}-{round}")), signs).await?;
            settle().await;
            let start = Instant::now();
            receiver.sync().await?;
            let pulled = start.elapsed();
            if signs {
                push_s.push(took);
                pull_s.push(pulled);
                cpu_s.push(took_cpu);
            } else {
                push_u.push(took);
                pull_u.push(pulled);
                cpu_u.push(took_cpu);
            }
        }
        signed.stop().await;
        unsigned.stop().await;
    }

    // A checked tap, and the signature its change needs when it is sent.
    let server = Server::start(&dir.path().join("taps"), true).await?;
    let tapper = phone(&server.url, &dir.path().join("tapper"), true).await?;
    let repo = tapper.repo().clone();
    let id = DocId::problem("zcyd", "tap");
    let (tap, sign) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let today = MineClock::default()
            .date_of_millis(now_millis())
            .ok_or_else(|| anyhow::anyhow!("no date"))?;
        let mut taps = Vec::new();
        let mut signs = Vec::new();
        for n in 0..TAPS {
            let start = Instant::now();
            repo.edit::<Problem, _>(&id, |p| {
                p.finding.zone = "z1".into();
                p.finding.raised_by = "sec".into();
                p.finding.raised_at = now_millis();
                p.finding.description = FreeText(format!("第{n}次修改"));
                p.finding.severity = Severity::General;
                p.finding.responsible = "h1".into();
                p.finding.deadline = Some(Day(today));
            })?;
            taps.push(start.elapsed());
            let (heads, _) = repo
                .heads(&id.to_string())?
                .ok_or_else(|| anyhow::anyhow!("no document"))?;
            let start = Instant::now();
            std::hint::black_box(
                repo.device_key()
                    .sign_changes(&id.to_string(), "sec", &heads),
            );
            signs.push(start.elapsed());
        }
        Ok((median(taps), median(signs)))
    })
    .await??;

    println!("each round, ms (signed/unsigned): sending | its processor time | receiving");
    for r in 0..ROUNDS {
        println!(
            "  round {r}: {:.0}/{:.0} | {:.0}/{:.0} | {:.0}/{:.0}",
            ms(push_s[r]),
            ms(push_u[r]),
            ms(cpu_s[r]),
            ms(cpu_u[r]),
            ms(pull_s[r]),
            ms(pull_u[r])
        );
    }
    println!(
        "median of {ROUNDS} rounds, {DOCS} documents a round, loopback HTTP, sled on disk, flushed:"
    );
    line(
        &format!("a phone's first sync sending {DOCS} documents"),
        &push_s,
        &push_u,
    );
    line("  its processor time (phone and server)", &cpu_s, &cpu_u);
    line(
        &format!("a new phone's first sync receiving {DOCS}+"),
        &pull_s,
        &pull_u,
    );
    line(
        &format!("a checked tap (median of {TAPS}) + its signature"),
        &[tap + sign],
        &[tap],
    );
    println!(
        "{:<48} {:>9.3} ms",
        "of which the signature (Ed25519, one change)",
        ms(sign)
    );
    println!(
        "goal: signing and verifying add at most 10% (a ratio of at most 1.100×; \"rounds\" is the median of each round's own ratio)"
    );
    Ok(())
}
