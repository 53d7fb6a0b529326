//! The device on its own: a saved edit survives the app being killed, and the background sync
//! reports offline, retries, and finishes when the server is reachable.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use zonepatrol_app::store::{Repo, now_millis};
use zonepatrol_app::sync::SyncState;
use zonepatrol_shared::Severity;
use zonepatrol_shared::docs::{Day, DocId, FreeText, Problem};

use crate::support::{Device, TestServer, today};

const CHILD_DIR: &str = "ZP_CRASH_CHILD_DIR";

fn raise(repo: &Repo, n: usize) {
    repo.edit::<Problem, _>(&DocId::problem("zcyd", format!("k{n}")), |p| {
        p.finding.zone = "z1".into();
        p.finding.raised_by = "sec".into();
        p.finding.raised_at = now_millis();
        p.finding.description = FreeText(format!("第{n}处：风门关不严"));
        p.finding.severity = Severity::General;
        p.finding.responsible = "h1".into();
        p.finding.deadline = Some(Day(today()));
    })
    .expect("saved");
}

/// Not a test on its own: when the parent test runs this binary with `CHILD_DIR` set, it
/// saves edits one after another, saying "saved N" after each, until it is killed.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let repo = Repo::open(std::path::Path::new(&dir)).expect("open");
    for n in 0.. {
        raise(&repo, n);
        println!("saved {n}");
    }
}

#[test]
fn an_edit_shown_as_saved_survives_the_app_being_killed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "device::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut saved = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(n) = line.strip_prefix("saved ") {
            saved = n.parse::<usize>().ok();
            if saved >= Some(30) {
                // SIGKILL in the middle of the next edit: no destructor, no flush.
                child.kill().expect("kill");
                break;
            }
        }
    }
    child.wait().expect("reaped");
    let last = saved.expect("the child saved something");
    let repo = Repo::open(dir.path()).expect("reopen after the kill");
    for n in 0..=last {
        let problem: Problem = repo
            .read(&DocId::problem("zcyd", format!("k{n}")))
            .expect("readable")
            .unwrap_or_else(|| panic!("edit {n} was shown as saved and is gone"));
        assert_eq!(
            problem.finding.description.as_str(),
            format!("第{n}处：风门关不严")
        );
    }
    assert!(
        repo.has_unsent().expect("unsent"),
        "the edits are still to be sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_sync_reports_offline_then_catches_up_when_woken() {
    let server = TestServer::start().await;
    let device = Device::new(&server.url, "sec").await;
    raise(&device.repo, 1);

    // Point the device at a port where nobody listens.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let mut session = device.repo.session().expect("session").expect("signed in");
    let real = std::mem::replace(&mut session.server, dead);
    device.repo.set_session(&session).expect("saved");

    let wake = Arc::new(Notify::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let client = device.client.clone();
    let waker = wake.clone();
    let runner = tokio::spawn(async move {
        client
            .run(waker, Duration::from_secs(3600), async {
                let _ = stopped.await;
            })
            .await;
    });
    let mut status = device.client.status();
    let offline = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let SyncState::Offline { reason } = &status.borrow_and_update().state {
                return reason.clone();
            }
            status.changed().await.expect("status");
        }
    })
    .await
    .expect("reported offline");
    assert!(offline.contains("saved on this phone"), "{offline}");
    assert!(device.repo.has_unsent().expect("unsent"));

    // The connection comes back; the user taps "sync".
    session.server = real;
    device.repo.set_session(&session).expect("saved");
    wake.notify_one();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if matches!(status.borrow_and_update().state, SyncState::Done { .. }) {
                return;
            }
            status.changed().await.expect("status");
        }
    })
    .await
    .expect("synced once back online");
    assert!(!device.repo.has_unsent().expect("unsent"));
    assert_eq!(device.client.status().borrow().progress.docs_up, 1);
    let _ = stop.send(());
    runner.await.expect("runner stops");
    server.stop().await;
}

/// The phone reckons days, weeks and months in the mine's time zone, which the server says at
/// sign-in; a session saved by an older app, without it, is Asia/Shanghai.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_takes_the_mine_s_time_zone_from_the_server() {
    use zonepatrol_shared::rules::period::MineClock;
    let tz = chrono_tz::America::Santiago;
    let server = TestServer::start_with(|s| s.clock = MineClock { tz }).await;
    let device = Device::new(&server.url, "sec").await;
    let clock = device.repo.clock();
    assert_eq!(clock.tz, tz);
    // Two in the morning in Beijing on the 21st is still the 20th in Santiago.
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-21T02:00:00+08:00")
        .expect("time")
        .timestamp_millis();
    assert_eq!(
        clock.date_of_millis(at),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
    );
    let mut session = device.repo.session().expect("read").expect("signed in");
    assert_eq!(session.time_zone, "America/Santiago");

    // A phone signed in before the server's time zone was changed follows it at the next sync.
    session.time_zone = "Asia/Shanghai".into();
    device.repo.set_session(&session).expect("session");
    assert_eq!(device.repo.clock().tz, chrono_tz::Asia::Shanghai);
    device.sync().await;
    assert_eq!(device.repo.clock().tz, tz);

    let older: zonepatrol_app::store::Session = serde_json::from_value(serde_json::json!({
        "server": server.url,
        "token": "t",
        "user": {"user": "sec", "role": "secretary", "branch": "zcyd"},
    }))
    .expect("an older session still reads");
    assert_eq!(older.clock().tz, chrono_tz::Asia::Shanghai);
    server.stop().await;
}
