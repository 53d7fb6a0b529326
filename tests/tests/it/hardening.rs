//! Issue 14, hardening: no record can stop the server, no stranger can exhaust it, no one can
//! stall or fill it. One test per finding, over real HTTP, each asserting the exact answer and
//! that nothing stored was lost or changed.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use automerge::{ActorId, AutoCommit};
use chrono::{Datelike, NaiveDate};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zonepatrol_app::store::now_millis;
use zonepatrol_server::seed::{DEMO_PASSWORD, store_server_doc};
use zonepatrol_server::store::{SledStore, Storage};
use zonepatrol_shared::docs::{
    self, Assessment, Cleanup, Day, DocId, Document, FreeText, LockAction, LockEvent, Patrol,
    PhotoRef, Problem, Publication,
};
use zonepatrol_shared::protocol::{
    ErrorBody, ErrorCode, LoginResponse, Outcome, SyncResponse, b64, heads_to_hex,
};
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{PatrolKind, Severity};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, http, id, today};

/// Signs in over HTTP from a given loopback address; returns the status and the token.
async fn sign_in(
    url: &str,
    from: Ipv4Addr,
    user: &str,
    password: &str,
) -> (StatusCode, Option<String>, Option<String>) {
    zonepatrol_app::sync::install_crypto();
    let client = reqwest::Client::builder()
        .local_address(IpAddr::V4(from))
        .build()
        .expect("client");
    let response = client
        .post(format!("{url}/v1/login"))
        .json(&serde_json::json!({
            "user": user,
            "password": password,
            "device": "t",
            "device_key": crate::support::test_key(user).id().to_string(),
            "device_proof": crate::support::test_key(user).prove(user),
        }))
        .send()
        .await
        .expect("login sent");
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let token = if status == StatusCode::OK {
        let body: LoginResponse = response.json().await.expect("login body");
        crate::support::remember_token(&body.token, &body.user.user);
        Some(body.token)
    } else {
        let body: ErrorBody = response.json().await.expect("error body");
        assert!(!body.message.is_empty());
        None
    };
    (status, token, retry)
}

async fn token(url: &str, user: &str) -> String {
    let (status, token, _) = sign_in(url, Ipv4Addr::LOCALHOST, user, DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{user} signs in");
    token.expect("token")
}

/// A new document as a device would make it: genesis, then `edit` with the device's actor.
fn new_doc<D: Document>(id: &DocId, edit: impl FnOnce(&mut D)) -> AutoCommit {
    let mut doc = docs::genesis::<D>(id).expect("genesis");
    doc.set_actor(ActorId::random());
    let mut value: D = docs::read(&doc, id).expect("read");
    edit(&mut value);
    docs::write(&mut doc, &value).expect("write");
    doc.commit();
    doc
}

/// Pushes a whole new document over HTTP; returns the status and the answer.
async fn push(url: &str, token: &str, id: &DocId, doc: &mut AutoCommit) -> reqwest::Response {
    let whole = doc.save();
    let body = serde_json::json!({
        "cursor": 0,
        "push": [{
            "id": id.to_string(),
            "base": [],
            "have": heads_to_hex(&doc.get_heads()),
            "changes": b64::encode(&whole),
            "signed": crate::support::signatures(token, &id.to_string(), &whole),
        }]
    });
    http()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sync sent")
}

/// Pushes a new document and expects it refused with `code`; returns the reason.
async fn expect_refused(
    url: &str,
    token: &str,
    id: &DocId,
    doc: &mut AutoCommit,
    code: RefusalCode,
) -> String {
    let response = push(url, token, id, doc).await;
    assert_eq!(response.status(), StatusCode::OK, "{id}");
    let answer: SyncResponse = response.json().await.expect("sync answer");
    match &answer.acks[0].outcome {
        Outcome::Refused { refusal } => {
            assert_eq!(refusal.code, code, "{id}: {refusal}");
            refusal.reason.clone()
        }
        other => panic!("{id} was not refused: {other:?}"),
    }
}

async fn expect_accepted(url: &str, token: &str, id: &DocId, doc: &mut AutoCommit) {
    let response = push(url, token, id, doc).await;
    assert_eq!(response.status(), StatusCode::OK, "{id}");
    let answer: SyncResponse = response.json().await.expect("sync answer");
    assert!(
        matches!(answer.acks[0].outcome, Outcome::Accepted),
        "{id}: {:?}",
        answer.acks[0].outcome
    );
}

/// The ids of the documents a fresh device of `user` receives.
async fn server_ids(url: &str, user: &str) -> Vec<String> {
    let device = Device::new(url, user).await;
    device.sync().await;
    device.state().into_iter().map(|(id, _)| id).collect()
}

fn day(y: i32, m: u32, d: u32) -> Day {
    Day(NaiveDate::from_ymd_opt(y, m, d).expect("a date"))
}

fn cleanup(zone: &str, date: Day, person_times: u64) -> impl FnOnce(&mut Cleanup) {
    let zone = zone.to_owned();
    move |c: &mut Cleanup| {
        c.log.zone = zone;
        c.log.team = "一班".into();
        c.log.date = Some(date);
        c.log.leader = "tl".into();
        c.log.person_times = person_times;
    }
}

fn patrol_on(date: Day) -> impl FnOnce(&mut Patrol) {
    move |p: &mut Patrol| {
        p.plan.kind = PatrolKind::Weekly;
        p.plan.date = Some(date);
        p.plan.leader = "sec".into();
        p.plan.zones.insert("z1".into(), 1);
    }
}

fn problem(responsible: &str, deadline: Day, description: String) -> impl FnOnce(&mut Problem) {
    let responsible = responsible.to_owned();
    move |p: &mut Problem| {
        p.finding.zone = "z1".into();
        p.finding.raised_by = "sec".into();
        p.finding.raised_at = now_millis();
        p.finding.description = FreeText(description);
        p.finding.severity = Severity::General;
        p.finding.responsible = responsible;
        p.finding.deadline = Some(deadline);
    }
}

/// 1. Far-dated records are refused by the validator, whatever the kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_1_far_dated_records_are_refused() {
    let server = TestServer::start().await;
    let url = &server.url;
    let tl = token(url, "tl").await;
    let sec = token(url, "sec").await;
    let h1 = token(url, "h1").await;
    let far_cleanups = [
        ("cleanup:zcyd:far-future", day(10000, 1, 1)),
        ("cleanup:zcyd:far-past", day(-1, 1, 1)),
        ("cleanup:zcyd:five-years", day(today().year() + 5, 1, 1)),
        ("cleanup:zcyd:before-history", day(1999, 12, 31)),
    ];
    for (text, date) in far_cleanups {
        let mut doc = new_doc(&id(text), cleanup("z1", date, 3));
        let reason = expect_refused(url, &tl, &id(text), &mut doc, RefusalCode::OutOfRange).await;
        assert!(reason.contains("the cleanup's day"), "{reason}");
    }
    let mut doc = new_doc(&id("patrol:zcyd:far"), patrol_on(day(20000, 3, 1)));
    expect_refused(
        url,
        &sec,
        &id("patrol:zcyd:far"),
        &mut doc,
        RefusalCode::OutOfRange,
    )
    .await;
    let text = "problem:zcyd:deadline-2099";
    let mut doc = new_doc(&id(text), problem("h1", day(2099, 1, 1), "托辊缺失".into()));
    let reason = expect_refused(url, &sec, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    assert!(reason.contains("deadline"), "{reason}");
    let text = "assessment:zcyd:z1:2099-01";
    let mut doc = new_doc(&id(text), |a: &mut Assessment| {
        a.self_score.by = "h1".into();
        a.self_score.note = FreeText::from("很好");
    });
    expect_refused(url, &h1, &id(text), &mut doc, RefusalCode::OutOfRange).await;

    // The same records dated today go through, and none of the far ones was stored.
    let mut doc = new_doc(&id("cleanup:zcyd:today"), cleanup("z1", Day(today()), 3));
    expect_accepted(url, &tl, &id("cleanup:zcyd:today"), &mut doc).await;
    let ids = server_ids(url, "mgr").await;
    assert!(ids.contains(&"cleanup:zcyd:today".to_owned()));
    for stored in &ids {
        assert!(
            !stored.contains("far") && !stored.contains("2099") && !stored.contains("years"),
            "{stored} was stored"
        );
    }
    server.stop().await;
}

/// 1. A store holding odd documents accepted by an earlier version (far dates, genesis only,
/// damaged bytes) starts, serves, and says which documents it left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_1_a_store_with_odd_documents_starts_serves_and_reports_them() {
    let server = TestServer::start().await;
    let dir = server.stop_keeping_data().await;
    {
        let store = open_store(&dir.path().join("server").join("store"));
        let now = now_millis();
        let odd: Vec<(&str, OddWrite)> = vec![
            (
                "cleanup:zcyd:year-10000",
                Box::new(move |s| {
                    let mut c = Cleanup::born(docs::Header::for_id(&id("cleanup:zcyd:year-10000")));
                    cleanup("z1", day(10000, 1, 1), 3)(&mut c);
                    store_server_doc(s, &c, now).expect("stored");
                }),
            ),
            (
                "cleanup:zcyd:year-minus-1",
                Box::new(move |s| {
                    let mut c =
                        Cleanup::born(docs::Header::for_id(&id("cleanup:zcyd:year-minus-1")));
                    cleanup("z1", day(-1, 1, 1), 3)(&mut c);
                    store_server_doc(s, &c, now).expect("stored");
                }),
            ),
            (
                "patrol:zcyd:year-20000",
                Box::new(move |s| {
                    let mut p = Patrol::born(docs::Header::for_id(&id("patrol:zcyd:year-20000")));
                    patrol_on(day(20000, 3, 1))(&mut p);
                    p.closed_at = Some(now);
                    store_server_doc(s, &p, now).expect("stored");
                }),
            ),
            (
                "problem:zcyd:genesis-only",
                Box::new(|s| {
                    let doc = docs::genesis::<Problem>(&id("problem:zcyd:genesis-only"))
                        .expect("genesis");
                    write_raw(s, "problem:zcyd:genesis-only", doc);
                }),
            ),
            (
                "assessment:zcyd:z1:2099-01",
                Box::new(move |s| {
                    let mut a =
                        Assessment::born(docs::Header::for_id(&id("assessment:zcyd:z1:2099-01")));
                    a.branch_score.by = "sec".into();
                    a.branch_score.at = Some(now);
                    store_server_doc(s, &a, now).expect("stored");
                }),
            ),
        ];
        for (_, write) in &odd {
            write(&store);
        }
        // Bytes that are not automerge at all.
        store
            .write_doc(&zonepatrol_server::store::DocWrite {
                id: "problem:zcyd:garbage".parse().expect("an id"),
                chunk: b"\x85\x6f\x4a\x83 not a document".to_vec(),
                compact: true,
                heads: Vec::new(),
                actors: Vec::new(),
                facts: None,
                log: Vec::new(),
            })
            .expect("garbage stored");
        store.flush().expect("flush");
    }
    let server = TestServer::start_in(dir, |_| {}).await;
    // It serves: a device syncs, and a new record still goes through.
    let tl = Device::new(&server.url, "tl").await;
    tl.sync().await;
    let mut doc = new_doc(&id("cleanup:zcyd:after"), cleanup("z1", Day(today()), 3));
    let tl_token = token(&server.url, "tl").await;
    expect_accepted(&server.url, &tl_token, &id("cleanup:zcyd:after"), &mut doc).await;
    // And the dashboard says which documents it left out.
    let page = dashboard_page(&server.url, "mgr", "/dash?branch=zcyd").await;
    assert!(page.contains("left-out"), "no left-out section");
    for left in [
        "cleanup:zcyd:year-10000",
        "cleanup:zcyd:year-minus-1",
        "patrol:zcyd:year-20000",
        "assessment:zcyd:z1:2099-01",
        "problem:zcyd:garbage",
    ] {
        assert!(page.contains(left), "{left} is not reported");
    }
    // A restart finds the same and starts again.
    let dir = server.stop_keeping_data().await;
    let server = TestServer::start_in(dir, |_| {}).await;
    token(&server.url, "mgr").await;
    server.stop().await;
}

/// Opens a stopped server's store, waiting a moment for the server to let go of its lock.
fn open_store(path: &std::path::Path) -> SledStore {
    for _ in 0..100 {
        if let Ok(store) = SledStore::open(path) {
            return store;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    SledStore::open(path).expect("store")
}

/// Writes one odd document straight into the store, as an earlier version might have.
type OddWrite = Box<dyn Fn(&dyn Storage)>;

fn write_raw(store: &dyn Storage, text: &str, mut doc: AutoCommit) {
    store
        .write_doc(&zonepatrol_server::store::DocWrite {
            id: text.parse().expect("an id"),
            chunk: doc.save(),
            compact: true,
            heads: doc.get_heads(),
            actors: Vec::new(),
            facts: None,
            log: Vec::new(),
        })
        .expect("stored");
}

/// The dashboard page at `path` for a signed-in user.
async fn dashboard_page(url: &str, user: &str, path: &str) -> String {
    Browser::sign_in(url, user, DEMO_PASSWORD)
        .await
        .expect("signed in")
        .page(path)
        .await
}

/// 2. Many correct sign-ins at once for one name all pass; a stranger's wrong passwords at
/// one address do not lock the user out at theirs; a flood of sign-ins is answered 503 with
/// Retry-After rather than piling up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_2_sign_ins_cannot_lock_out_or_exhaust() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    // Twelve correct sign-ins at once: none is counted as a wrong password.
    let tries = (0..12).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { sign_in(&url, Ipv4Addr::LOCALHOST, "mgr", DEMO_PASSWORD).await })
    });
    for t in futures_join(tries).await {
        assert_eq!(t.0, StatusCode::OK);
    }
    // A stranger guesses the manager's password from another address: after five wrong ones
    // they wait there, and a right password from there waits too.
    let stranger = Ipv4Addr::new(127, 0, 0, 66);
    for _ in 0..5 {
        let (status, ..) = sign_in(&url, stranger, "mgr", "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, retry) = sign_in(&url, stranger, "mgr", "wrong password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0)));
    let (status, ..) = sign_in(&url, stranger, "mgr", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The manager, on their own phone, signs in as usual.
    let (status, ..) = sign_in(&url, Ipv4Addr::LOCALHOST, "mgr", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;

    // One password check at a time and a short wait for a turn: a burst of sign-ins with
    // random names gets 401 or 503 (with Retry-After), never anything else, and the server
    // answers a right password afterwards.
    let server = TestServer::start_with(|s| {
        s.password_checks = 1;
        s.login_wait = Duration::from_millis(30);
    })
    .await;
    let url = server.url.clone();
    let tries = (0..24).map(|i| {
        let url = url.clone();
        tokio::spawn(async move {
            let from = Ipv4Addr::new(127, 0, 1, u8::try_from(i).unwrap_or(1));
            sign_in(&url, from, &format!("nobody{i}"), "wrong password").await
        })
    });
    let answers = futures_join(tries).await;
    let busy = answers
        .iter()
        .filter(|a| a.0 == StatusCode::SERVICE_UNAVAILABLE)
        .inspect(|a| assert_eq!(a.2.as_deref(), Some("2"), "Retry-After"))
        .count();
    assert!(
        answers.iter().all(|a| matches!(
            a.0,
            StatusCode::UNAUTHORIZED | StatusCode::SERVICE_UNAVAILABLE
        )),
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert!(
        busy > 0,
        "some of 24 sign-ins at once wait too long for one check at a time"
    );
    let (status, ..) = sign_in(&url, Ipv4Addr::LOCALHOST, "sec", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.expect("task"));
    }
    out
}

/// 3. Free text and record counts are bounded by the validator; a document's changes are
/// bounded in bytes; pages show long text shortened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_3_long_text_and_huge_pushes_are_refused() {
    let server = TestServer::start_with(|s| s.max_push_doc_bytes = 64 * 1024).await;
    let url = &server.url;
    let sec = token(url, "sec").await;
    let limit = zonepatrol_shared::validate::limits::TEXT_CHARS;
    let deadline = Day(today());
    let text = "problem:zcyd:too-long";
    let mut doc = new_doc(&id(text), problem("h1", deadline, "长".repeat(limit + 1)));
    let reason = expect_refused(url, &sec, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    assert!(reason.contains(&limit.to_string()), "{reason}");
    // Exactly the limit is fine, and the dashboard shows it shortened.
    let text = "problem:zcyd:just-right";
    let mut doc = new_doc(&id(text), problem("h1", deadline, "长".repeat(limit)));
    expect_accepted(url, &sec, &id(text), &mut doc).await;
    let page = dashboard_page(url, "mgr", "/dash?branch=zcyd").await;
    assert!(page.contains(&format!("{}…", "长".repeat(120))));
    assert!(!page.contains(&"长".repeat(121)));
    // A document's changes beyond the server's limit are refused alone, before decoding.
    let text = "problem:zcyd:huge-history";
    let mut doc = new_doc(&id(text), problem("h1", deadline, noise(300_000)));
    assert!(doc.save().len() > 64 * 1024);
    let reason = expect_refused(url, &sec, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    assert!(reason.contains("KiB"), "{reason}");
    let ids = server_ids(url, "mgr").await;
    assert!(ids.contains(&"problem:zcyd:just-right".to_owned()));
    assert!(
        !ids.iter()
            .any(|i| i.contains("too-long") || i.contains("huge"))
    );
    server.stop().await;
}

/// 4. Refused pushes are kept as records with a bounded sample, at most a quota per user;
/// unfinished uploads are tied to their uploader, bounded per user, and removed when stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_4_refused_pushes_and_unfinished_uploads_do_not_fill_the_disk() {
    let server = TestServer::start_with(|s| {
        s.refused_per_user = 3;
        s.uploads_per_user = 2;
    })
    .await;
    let url = server.url.clone();
    let h1 = token(&url, "h1").await;
    // Six refused pushes of about a megabyte each: a zone holder may not raise problems.
    for n in 0..6 {
        let text = DocId::problem("zcyd", format!("refused-{n}")).to_string();
        let mut doc = new_doc(&id(&text), problem("h1", Day(today()), noise(600_000)));
        expect_refused(&url, &h1, &id(&text), &mut doc, RefusalCode::NotWriter).await;
    }
    // Three unfinished uploads, each with some bytes: the oldest is dropped.
    let sec = token(&url, "sec").await;
    for n in 0..3u8 {
        let bytes = vec![n; 1000];
        let hash = hex::encode(Sha256::digest(&bytes));
        let response = http()
            .put(format!("{url}/v1/blobs/{hash}"))
            .bearer_auth(&sec)
            .header("upload-length", "1000")
            .body(bytes[..400].to_vec())
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let dir = server.stop_keeping_data().await;
    let data = dir.path().join("server");
    let partials: Vec<_> = std::fs::read_dir(data.join("blobs/partial").join(hex::encode("sec")))
        .expect("sec's uploads")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".len"))
        .collect();
    assert_eq!(partials.len(), 2, "{partials:?}");
    {
        let store = open_store(&data.join("store"));
        let refused: Vec<_> = store
            .refused()
            .expect("refused")
            .into_iter()
            .filter(|r| r.user == "h1")
            .collect();
        assert_eq!(refused.len(), 3, "the quota");
        for r in &refused {
            assert!(r.bytes > 200_000, "the size is on the record");
            assert_eq!(r.sha256.len(), 64);
            assert!(b64::decode(&r.changes).expect("sample").len() <= 16 * 1024);
            assert!(r.id.starts_with("problem:zcyd:refused-"));
        }
        // The newest are kept.
        assert!(refused.iter().any(|r| r.id == "problem:zcyd:refused-5"));
        assert!(!refused.iter().any(|r| r.id == "problem:zcyd:refused-0"));
    }
    // A restart that counts every unfinished upload as stale removes them.
    let server = TestServer::start_in(dir, |s| s.upload_keep = Duration::ZERO).await;
    let partial = server.data.join("blobs/partial");
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = walk_files(&partial);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "stale uploads are removed");
    server.stop().await;
}

/// Letters that do not compress.
fn noise(chars: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..chars)
        .map(|_| char::from(rng.random_range(b'a'..=b'z')))
        .collect()
}

fn walk_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| {
            if e.path().is_dir() {
                walk_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// Uploads `bytes` whole as `token`'s user; returns the status.
async fn upload(url: &str, token: &str, bytes: &[u8]) -> StatusCode {
    let hash = hex::encode(Sha256::digest(bytes));
    http()
        .put(format!("{url}/v1/blobs/{hash}"))
        .bearer_auth(token)
        .header("upload-length", bytes.len())
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload")
        .status()
}

async fn read_blob(url: &str, token: &str, hash: &str) -> (StatusCode, Vec<u8>) {
    let response = http()
        .get(format!("{url}/v1/blobs/{hash}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("read");
    (
        response.status(),
        response.bytes().await.expect("body").to_vec(),
    )
}

/// A problem in `branch` that shows the photo `hash`.
fn problem_with_photo(
    branch_zone: &str,
    raiser: &str,
    holder: &str,
    hash: &str,
) -> impl FnOnce(&mut Problem) {
    let (zone, raiser, holder, hash) = (
        branch_zone.to_owned(),
        raiser.to_owned(),
        holder.to_owned(),
        hash.to_owned(),
    );
    move |p: &mut Problem| {
        p.finding.zone = zone;
        p.finding.raised_by = raiser;
        p.finding.raised_at = now_millis();
        p.finding.description = FreeText::from("照片");
        p.finding.severity = Severity::General;
        p.finding.responsible = holder;
        p.finding.deadline = Some(Day(today()));
        p.finding.photos.insert(hash, PhotoRef::default());
    }
}

/// 5. Photos are read through the documents that point at them; nobody writes into another's
/// upload, and "stored" is told only to whoever may read the photo or sent it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_5_photos_are_read_through_their_documents() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let sec = token(&url, "sec").await;
    let sec2 = token(&url, "sec2").await;
    let zhao = token(&url, "zhao").await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let hash = hex::encode(Sha256::digest(&bytes));

    // The secretary of zcyd starts an upload; the other branch's secretary writes into the
    // same hash: their bytes go to their own upload, and the first upload still ends well.
    let put = |token: String, body: Vec<u8>, offset: usize, length: usize| {
        let url = url.clone();
        let hash = hash.clone();
        async move {
            http()
                .put(format!("{url}/v1/blobs/{hash}"))
                .bearer_auth(token)
                .header("upload-length", length)
                .header("upload-offset", offset)
                .body(body)
                .send()
                .await
                .expect("put")
        }
    };
    let accepted = StatusCode::ACCEPTED;
    assert_eq!(
        put(sec.clone(), bytes[..20_000].to_vec(), 0, 50_000)
            .await
            .status(),
        accepted
    );
    assert_eq!(
        put(sec2.clone(), vec![0; 20_000], 0, 40_000).await.status(),
        accepted
    );
    assert_eq!(
        put(sec.clone(), bytes[20_000..].to_vec(), 20_000, 50_000)
            .await
            .status(),
        StatusCode::CREATED
    );

    // Before any document points at it, only its uploader reads it.
    assert_eq!(read_blob(&url, &sec, &hash).await.0, StatusCode::OK);
    assert_eq!(read_blob(&url, &zhao, &hash).await.0, StatusCode::NOT_FOUND);
    // A problem of zcyd points at it: zcyd's inspector reads it, jdyd's secretary does not,
    // and is not told it exists.
    let text = "problem:zcyd:with-photo";
    let mut doc = new_doc(&id(text), problem_with_photo("z1", "sec", "h1", &hash));
    expect_accepted(&url, &sec, &id(text), &mut doc).await;
    let (status, read) = read_blob(&url, &zhao, &hash).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, bytes);
    assert_eq!(read_blob(&url, &sec2, &hash).await.0, StatusCode::NOT_FOUND);
    let head = http()
        .head(format!("{url}/v1/blobs/{hash}"))
        .bearer_auth(&sec2)
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        head.headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok()),
        Some("20000"),
        "sec2 is told only of their own upload"
    );
    let empty = http()
        .put(format!("{url}/v1/blobs/{hash}"))
        .bearer_auth(&sec2)
        .header("upload-length", 50_000)
        .header("upload-offset", 0)
        .body(Vec::new())
        .send()
        .await
        .expect("put");
    assert_eq!(
        empty.status(),
        StatusCode::ACCEPTED,
        "no `stored: true` without the bytes"
    );
    // The other branch took the same photo: it sends it whole, is told it is stored (201),
    // and reads it, as it would had it been first.
    assert_eq!(upload(&url, &sec2, &bytes).await, StatusCode::CREATED);
    assert_eq!(read_blob(&url, &sec2, &hash).await.0, StatusCode::OK);
    // A hash written into a note points at nothing: jdyd's inspector learns nothing from it.
    let zhu = token(&url, "zhu").await;
    let text = "problem:jdyd:hash-in-note";
    let mut doc = new_doc(&id(text), problem("h5", Day(today()), hash.clone()));
    let mut p: Problem = docs::read(&doc, &id(text)).expect("read");
    p.finding.zone = "j1".into();
    p.finding.raised_by = "zhu".into();
    docs::write(&mut doc, &p).expect("write");
    doc.commit();
    expect_accepted(&url, &zhu, &id(text), &mut doc).await;
    assert_eq!(read_blob(&url, &zhu, &hash).await.0, StatusCode::NOT_FOUND);
    let text = "problem:jdyd:same-photo";
    let mut doc = new_doc(&id(text), problem_with_photo("j1", "sec2", "h5", &hash));
    expect_accepted(&url, &sec2, &id(text), &mut doc).await;
    assert_eq!(
        upload(&url, &sec2, &bytes).await,
        StatusCode::OK,
        "stored, and theirs to read"
    );
    let (status, read) = read_blob(&url, &sec2, &hash).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, bytes);
    // Stored once.
    let stored = std::fs::read(server.data.join("blobs").join(&hash)).expect("file");
    assert_eq!(stored, bytes);
    server.stop().await;
}

/// The corpus of damaged inputs: (file, document id) from a folder's manifest.
fn corpus(folder: &str) -> Vec<(Vec<u8>, String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corrupt")
        .join(folder);
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (file, doc) = (fields.next()?, fields.next()?);
            let bytes = std::fs::read(dir.join(file)).expect("corrupt input");
            Some((bytes, file.to_owned(), doc.to_owned()))
        })
        .collect()
}

async fn push_bytes(url: &str, token: &str, doc: &str, changes: &[u8]) -> reqwest::Response {
    let body = serde_json::json!({
        "cursor": 0,
        "push": [{
            "id": doc,
            "base": [],
            "have": [],
            "changes": b64::encode(changes),
            "signed": crate::support::signatures(token, doc, changes),
        }]
    });
    http()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sync")
}

/// 6. Damaged automerge data that makes automerge panic is answered 400 bad_changes, kept on
/// the record, and the server goes on serving; data that would store a document that does
/// not load again is never stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_6_damaged_changes_that_panic_automerge_answer_400() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let sec = token(&url, "sec").await;
    let tl = token(&url, "tl").await;
    let who = |doc: &str| {
        if doc.starts_with("cleanup") {
            tl.clone()
        } else {
            sec.clone()
        }
    };
    let panicking = corpus("");
    assert!(panicking.len() >= 30, "the corpus has {}", panicking.len());
    for (changes, file, doc) in &panicking {
        let response = push_bytes(&url, &who(doc), doc, changes).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{file}");
        let error: ErrorBody = response.json().await.expect("error");
        assert_eq!(
            error.error,
            ErrorCode::BadChanges,
            "{file}: {}",
            error.message
        );
    }
    // Inputs that panic only in debug builds, or that load and pass the checks but whose
    // snapshot would not load back: whatever the answer, nothing unloadable is stored.
    for (changes, file, doc) in corpus("debug-only")
        .into_iter()
        .chain(corpus("stored-unloadable"))
    {
        let response = push_bytes(&url, &who(&doc), &doc, &changes).await;
        let status = response.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{file}: {status}"
        );
    }
    // Still serving, and every document a fresh device receives loads.
    let device = Device::new(&url, "sec").await;
    device.sync().await;
    let dir = server.stop_keeping_data().await;
    let store = open_store(&dir.path().join("server/store"));
    let kept = store
        .refused()
        .expect("refused")
        .into_iter()
        .filter(|r| r.refusal.code == RefusalCode::Malformed)
        .count();
    assert!(kept >= panicking.len(), "{kept} kept on the record");
    let mut cursor = 0;
    loop {
        let batch = store.changed_after(cursor, 1000).expect("ids");
        let Some(last) = batch.last() else { break };
        cursor = last.0;
        for (_, doc) in batch {
            let stored = store.doc(&doc).expect("read").expect("doc");
            AutoCommit::load(&stored.bytes).unwrap_or_else(|e| panic!("{doc} does not load: {e}"));
        }
    }
}

/// 7. A client that sends its headers slowly, says nothing, or stalls its body is cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_7_slow_clients_are_cut_off() {
    let server = TestServer::start_with(|s| {
        // Long enough that a test thread slowed by the others still sends its headers in time.
        s.header_timeout = Duration::from_secs(2);
        s.body_timeout = Duration::from_millis(500);
    })
    .await;
    let address = server.url.trim_start_matches("http://").to_owned();
    // Headers a byte at a time.
    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    let mut cut = false;
    for byte in b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if slow.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest)).await;
    assert!(cut || closed.is_ok(), "the slow client is still connected");
    // A connection that says nothing is closed.
    let mut idle = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), idle.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "an idle connection stays open");
    // A body that stops coming.
    let mut stalled = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    stalled
        .write_all(b"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user\":")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let done =
        tokio::time::timeout(Duration::from_secs(10), stalled.read_to_end(&mut answer)).await;
    assert!(done.is_ok(), "a stalled body holds its connection");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    // Everyone else is served as usual.
    token(&server.url, "sec").await;
    server.stop().await;

    // One address holds at most its share of connections; another is served meanwhile.
    let server = TestServer::start_with(|s| s.connections_per_address = 3).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    let port: u16 = address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    // Three connections, each proven held by an answer on it: the start's own connections
    // (the readiness checks) may still count for a moment, and one refused because of them
    // is opened again.
    let mut held = Vec::new();
    for _ in 0..50 {
        if held.len() == 3 {
            break;
        }
        let mut c = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut first = [0u8; 12];
        let answered = tokio::time::timeout(Duration::from_secs(5), c.read_exact(&mut first)).await;
        if matches!(answered, Ok(Ok(_))) && first.starts_with(b"HTTP/1.1 200") {
            held.push(c);
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(held.len(), 3, "three connections held");
    let mut fourth = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let mut buf = Vec::new();
    // Closed (a FIN, or a reset), with nothing said.
    let closed = tokio::time::timeout(Duration::from_secs(5), fourth.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok() && buf.is_empty(),
        "the fourth is closed at once: {closed:?}"
    );
    let other = tokio::net::TcpSocket::new_v4().expect("socket");
    other
        .bind((Ipv4Addr::new(127, 0, 0, 2), 0).into())
        .expect("bind 127.0.0.2");
    let mut other = other
        .connect((Ipv4Addr::LOCALHOST, port).into())
        .await
        .expect("connect from 127.0.0.2");
    other
        .write_all(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), other.read_to_end(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 401"));
    drop(held);
    server.stop().await;
}

/// 8. The order of publish and reopen events follows their place in the record, not the time
/// a client wrote into them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_8_a_publish_locks_whatever_time_an_earlier_event_claims() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let mgr = token(&url, "mgr").await;
    let month = zonepatrol_shared::rules::Period::containing(
        zonepatrol_shared::rules::PeriodKind::Month,
        today(),
    );
    let event = |at: i64, seq: u64, action| LockEvent {
        period: month.to_string(),
        action,
        by: "mgr".into(),
        at,
        seq,
    };
    let text = "publication:zcyd";
    // Backdated, or out of order: refused.
    for (at, seq) in [(now_millis() - 3 * 86_400_000, 1), (now_millis(), 7)] {
        let mut doc = new_doc(&id(text), |p: &mut Publication| {
            p.events
                .insert("e-odd".into(), event(at, seq, LockAction::Reopen));
        });
        expect_refused(&url, &mgr, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    }
    // A reopen dated nine minutes ahead is accepted (within the clock skew)...
    let mut doc = new_doc(&id(text), |p: &mut Publication| {
        p.events.insert(
            "e-ahead".into(),
            event(now_millis() + 9 * 60_000, 1, LockAction::Reopen),
        );
    });
    expect_accepted(&url, &mgr, &id(text), &mut doc).await;
    // ...and a publish on the dashboard afterwards locks the month all the same.
    let page = dashboard_page(&url, "mgr", "/dash?branch=zcyd").await;
    assert!(page.contains("publish"), "the publish form");
    publish_on_dashboard(&url, month).await;
    let device = Device::new(&url, "sec").await;
    device.sync().await;
    let locks = device
        .repo
        .read::<Publication>(&id(text))
        .expect("read")
        .expect("publication")
        .locks();
    assert!(locks.iter().any(|l| l.period == month), "{locks:?}");
    server.stop().await;
}

async fn publish_on_dashboard(url: &str, month: zonepatrol_shared::rules::Period) {
    let browser = Browser::sign_in(url, "mgr", DEMO_PASSWORD)
        .await
        .expect("signed in");
    let (status, _) = browser
        .post(
            "/dash/publish",
            &format!("branch=zcyd&period={month}&action=publish&back=%2Fdash"),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// 9. References name what exists, and counts and quantities have sane bounds; a document
/// with nothing but its genesis counts for nothing and cannot name what does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_9_references_must_exist_and_counts_are_bounded() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let tl = token(&url, "tl").await;
    let sec = token(&url, "sec").await;
    let text = "cleanup:zcyd:no-such-zone";
    let mut doc = new_doc(&id(text), cleanup("z999", Day(today()), 3));
    let reason = expect_refused(&url, &tl, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    assert!(reason.contains("z999"), "{reason}");
    let text = "cleanup:zcyd:crowd";
    let mut doc = new_doc(&id(text), cleanup("z1", Day(today()), 99_999));
    expect_refused(&url, &tl, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    let text = "cleanup:zcyd:a-mountain";
    let mut doc = new_doc(&id(text), |c: &mut Cleanup| {
        cleanup("z1", Day(today()), 3)(c);
        c.log.items.insert(
            "i1".into(),
            docs::WorkItem {
                what: "清煤".into(),
                quantity_milli: 2_000_000_000,
                unit: "吨".into(),
            },
        );
    });
    expect_refused(&url, &tl, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    let text = "problem:zcyd:an-album";
    let mut doc = new_doc(&id(text), |p: &mut Problem| {
        problem("h1", Day(today()), "x".into())(p);
        for n in 0..21u8 {
            let hash = hex::encode(Sha256::digest([n]));
            p.finding.photos.insert(hash, PhotoRef::default());
        }
    });
    let reason = expect_refused(&url, &sec, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    assert!(reason.contains("20 photos"), "{reason}");
    let text = "problem:zcyd:nobody";
    let mut doc = new_doc(&id(text), problem("nobody", Day(today()), "x".into()));
    let reason = expect_refused(&url, &sec, &id(text), &mut doc, RefusalCode::OutOfRange).await;
    assert!(reason.contains("nobody"), "{reason}");
    // Documents with nothing but their genesis: inert ones are taken and count for nothing;
    // those whose id names a month ahead, a branch nobody set up, or a report, are refused.
    let before = dashboard_page(&url, "mgr", "/dash?branch=zcyd").await;
    let open_count = |page: &str| {
        page.split("id=\"open-count\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(str::to_owned)
    };
    let mgr = token(&url, "mgr").await;
    for (text, who, refused) in [
        ("problem:zcyd:empty", &sec, None),
        ("cleanup:zcyd:empty", &tl, None),
        ("patrol:zcyd:empty", &sec, None),
        (
            "assessment:zcyd:z1:2099-01",
            &sec,
            Some(RefusalCode::OutOfRange),
        ),
        (
            "assessment:zcyd:z999:2020-01",
            &sec,
            Some(RefusalCode::OutOfRange),
        ),
        ("directory:nobranch", &mgr, Some(RefusalCode::NotWriter)),
        ("publication:nobranch", &mgr, Some(RefusalCode::NotWriter)),
        ("report:zcyd:2030-01", &mgr, Some(RefusalCode::NotWriter)),
    ] {
        let doc_id = id(text);
        let mut doc = match doc_id.kind() {
            docs::DocKind::Problem => docs::genesis::<Problem>(&doc_id),
            docs::DocKind::Cleanup => docs::genesis::<Cleanup>(&doc_id),
            docs::DocKind::Patrol => docs::genesis::<Patrol>(&doc_id),
            docs::DocKind::Assessment => docs::genesis::<Assessment>(&doc_id),
            docs::DocKind::Directory => docs::genesis::<docs::Directory>(&doc_id),
            docs::DocKind::Report => docs::genesis::<docs::Report>(&doc_id),
            _ => docs::genesis::<Publication>(&doc_id),
        }
        .expect("genesis");
        match refused {
            Some(code) => {
                expect_refused(&url, who, &doc_id, &mut doc, code).await;
            }
            None => expect_accepted(&url, who, &doc_id, &mut doc).await,
        }
    }
    let after = dashboard_page(&url, "mgr", "/dash?branch=zcyd").await;
    assert!(open_count(&before).is_some());
    assert_eq!(
        open_count(&before),
        open_count(&after),
        "an empty problem counts for nothing"
    );
    assert!(!after.contains("nobranch"));
    let ids = server_ids(&url, "mgr").await;
    assert!(
        !ids.iter().any(|i| i.contains("nobody")
            || i.contains("crowd")
            || i.contains("z999")
            || i.contains("2099")
            || i.contains("nobranch")),
        "{ids:?}"
    );
    server.stop().await;
}

/// 10. The bearer scheme is case-insensitive; dashboard pages forbid scripts, frames and
/// referrers to other sites.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_10_lower_case_bearer_and_page_headers() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let sec = token(&url, "sec").await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let response = http()
            .get(format!("{url}/v1/me"))
            .header("authorization", format!("{scheme} {sec}"))
            .send()
            .await
            .expect("me");
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
    let response = http()
        .get(format!("{url}/login"))
        .send()
        .await
        .expect("page");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("CSP");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        headers.get("x-frame-options").and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
    assert_eq!(
        headers.get("referrer-policy").and_then(|v| v.to_str().ok()),
        Some("same-origin")
    );
    server.stop().await;
}

/// Syncs `token`'s device from `cursor` until nothing more waits; the ids received and the
/// last cursor.
async fn pull_all(url: &str, token: &str, mut cursor: u64) -> (Vec<String>, u64) {
    let mut ids = Vec::new();
    loop {
        let r = http()
            .post(format!("{url}/v1/sync"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "cursor": cursor }))
            .send()
            .await
            .expect("sync sent");
        assert_eq!(r.status(), StatusCode::OK, "the pull is answered");
        let answer: SyncResponse = r.json().await.expect("sync answer");
        ids.extend(answer.docs.into_iter().map(|d| d.id));
        cursor = answer.cursor;
        if !answer.more {
            return (ids, cursor);
        }
    }
}

/// The ids `/ready` names as left out.
async fn left_out_ids(url: &str) -> Vec<String> {
    let ready: serde_json::Value = http()
        .get(format!("{url}/ready"))
        .send()
        .await
        .expect("ready")
        .json()
        .await
        .expect("json");
    ready["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["reason"] == "documents_left_out")
        .flat_map(|r| r["documents"].as_array().cloned().unwrap_or_default())
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect()
}

/// A document damaged on disk after its facts were kept: a start trusts the kept facts (it no
/// longer reads every document), so the first pull that reaches the document passes it over
/// instead of failing, leaves it out and drops its facts; the next start reads it and leaves
/// it out too. Nothing else is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_damaged_after_its_facts_were_kept_is_passed_over() {
    let server = TestServer::start().await;
    let victim = id("cleanup:zcyd:damaged-later");
    let other = id("cleanup:zcyd:intact");
    let tl = token(&server.url, "tl").await;
    for doc_id in [&victim, &other] {
        let mut doc = new_doc(doc_id, cleanup("z1", Day(today()), 3));
        expect_accepted(&server.url, &tl, doc_id, &mut doc).await;
    }
    let sec = token(&server.url, "sec").await;
    let (ids, cursor) = pull_all(&server.url, &sec, 0).await;
    assert!(ids.contains(&victim.to_string()));
    let dir = server.stop_keeping_data().await;
    {
        let store = open_store(&dir.path().join("server").join("store"));
        let kept = store
            .facts_records()
            .expect("records")
            .into_iter()
            .find(|(i, _)| *i == victim)
            .expect("the cleanup's facts are kept")
            .1;
        // The bytes go bad; the record of its facts stays, as a disk fault would leave it.
        store
            .write_doc(&zonepatrol_server::store::DocWrite {
                id: victim.clone(),
                chunk: b"\x85\x6f\x4a\x83 damaged on disk".to_vec(),
                compact: true,
                heads: Vec::new(),
                actors: Vec::new(),
                facts: Some(kept),
                log: Vec::new(),
            })
            .expect("damaged");
        store.flush().expect("flush");
    }
    let server = TestServer::start_in(dir, |_| {}).await;
    let sec = token(&server.url, "sec").await;
    let (ids, _) = pull_all(&server.url, &sec, cursor).await;
    assert!(!ids.contains(&victim.to_string()), "{ids:?}");
    assert!(
        left_out_ids(&server.url)
            .await
            .contains(&victim.to_string())
    );
    // The other records are still there for a new device.
    let (all, _) = pull_all(&server.url, &sec, 0).await;
    assert!(all.contains(&other.to_string()));
    assert!(!all.contains(&victim.to_string()));
    // The next start no longer trusts its facts: it reads the document and leaves it out.
    let dir = server.stop_keeping_data().await;
    let server = TestServer::start_in(dir, |_| {}).await;
    token(&server.url, "mgr").await;
    assert!(
        left_out_ids(&server.url)
            .await
            .contains(&victim.to_string())
    );
    server.stop().await;
}
