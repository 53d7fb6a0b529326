//! Issue 21, phone to phone: work travels up the mine with whoever goes up first. Three real
//! phones (the app core, real sled stores) meet over real sockets on loopback; phone A never
//! reaches the server, B meets A underground, C meets B and reaches the server. Run over random
//! meeting orders with a printed seed (`ZONEPATROL_RELAY_SEED` repeats one).

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use zonepatrol_app::records::patrol::{PatrolInput, start_patrol};
use zonepatrol_app::records::problem::Judgement;
use zonepatrol_app::records::sheet::{Mark, mark};
use zonepatrol_app::relay::{Invite, RelayError, exchange, listen};
use zonepatrol_app::store::Repo;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_server::store::{SledStore, Storage};
use zonepatrol_shared::docs::{Directory, DocId, Problem};
use zonepatrol_shared::protocol::b64;
use zonepatrol_shared::relay::{Carried, HandOutcome};
use zonepatrol_shared::signing::LogEntry;
use zonepatrol_shared::{Actor, PatrolKind, Role};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, raise, today};

type Met = Result<zonepatrol_app::relay::Exchanged, RelayError>;

/// Two phones try to meet: `listener` waits on a loopback port, `caller` connects; what each
/// side's exchange came to (the caller's, the listener's).
async fn attempt(listener: &Arc<Repo>, caller: &Arc<Repo>) -> (Met, Met) {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let invite = Invite::new(socket.local_addr().expect("addr"));
    let l = listener.clone();
    let code = invite.code.clone();
    let serve = tokio::spawn(async move {
        let (stream, _) = socket.accept().await.expect("accept");
        exchange(l, stream, false, &code).await
    });
    let stream = tokio::net::TcpStream::connect(invite.addr)
        .await
        .expect("connect");
    let called = exchange(caller.clone(), stream, true, &invite.code).await;
    (called, serve.await.expect("joined"))
}

/// Two phones meet, as [`attempt`], and both exchange.
async fn meet(listener: &Arc<Repo>, caller: &Arc<Repo>) -> (usize, usize) {
    let (called, served) = attempt(listener, caller).await;
    let called = called.expect("the caller's exchange");
    let served = served.expect("the listener's exchange");
    assert_eq!(served.peer_key, caller.device_key().id().to_string());
    assert_eq!(called.peer_key, listener.device_key().id().to_string());
    assert!(served.taken.refused.is_empty(), "{:?}", served.taken);
    assert!(called.taken.refused.is_empty(), "{:?}", called.taken);
    (called.taken.took, served.taken.took)
}

/// Meets in either direction, as the seed says.
async fn meet_either(rng: &mut StdRng, a: &Arc<Repo>, b: &Arc<Repo>) {
    if rng.random_bool(0.5) {
        meet(a, b).await;
    } else {
        meet(b, a).await;
    }
}

struct World {
    server: TestServer,
    /// Phone A: shared by h1 (a zone holder) and zhao (an inspector); never reaches the server
    /// after the first morning.
    a: Device,
    /// Phone B: the secretary's.
    b: Device,
    /// Phone C: inspector qian's.
    c: Device,
    patrol: String,
    problem: String,
}

const H1: &str = "h1";

/// One way of tampering with an audit export.
type Tamper = Box<dyn Fn(&mut zonepatrol_shared::audit::AuditExport)>;

fn h1() -> Actor {
    Actor::new("h1", Role::ZoneHolder, "zcyd")
}

fn zhao() -> Actor {
    Actor::new("zhao", Role::Inspector, "zcyd")
}

/// Everyone signs in and syncs once at the surface; then, underground, h1 fixes a problem and
/// zhao scores a zone on phone A.
async fn world(n: u64) -> World {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let b = Device::named(&url, "sec", DEMO_PASSWORD, "Android B").await;
    let problem = format!("relay{n}");
    raise(&b, &format!("problem:zcyd:{problem}"), "sec", "z1", H1);
    assert_eq!(b.sync().await.refused, 0);
    let a = Device::named(&url, H1, DEMO_PASSWORD, "Android A").await;
    a.client
        .login(&url, "zhao", DEMO_PASSWORD, "Android A")
        .await
        .expect("zhao signs in on A too");
    a.sync().await;
    let patrol = start_patrol(
        &a.repo,
        &zhao(),
        &PatrolInput {
            kind: PatrolKind::Weekly,
            date: Some(today()),
            zones: vec!["z1".into()],
            inspectors: vec![],
        },
    )
    .expect("patrol started");
    assert_eq!(a.sync().await.refused, 0);
    let c = Device::named(&url, "qian", DEMO_PASSWORD, "Android C").await;
    c.sync().await;
    // The device lists now name all three phones.
    b.sync().await;
    a.sync().await;

    // Underground: no server for A from here on. h1 takes the phone.
    a.repo
        .sign_in_offline(&url, H1, DEMO_PASSWORD, zonepatrol_app::store::now_millis())
        .expect("h1 on A");
    let after = zonepatrol_app::photo::import(
        a.repo.clone(),
        include_bytes!("../../fixtures/photos/phone-12mp-orient6.jpg").to_vec(),
        zonepatrol_app::photo::PhotoSettings::default(),
    )
    .await
    .expect("photo");
    zonepatrol_app::records::problem::rectify(&a.repo, &h1(), &problem, "托辊已补齐", &[after])
        .expect("fixed");
    a.repo
        .sign_in_offline(
            &url,
            "zhao",
            DEMO_PASSWORD,
            zonepatrol_app::store::now_millis(),
        )
        .expect("zhao on A");
    let dir: Directory = a
        .repo
        .read(&DocId::directory("zcyd"))
        .expect("read")
        .expect("directory");
    let template = dir.zones["z1"].template.clone();
    let item = dir.templates[&template]
        .items
        .keys()
        .next()
        .expect("an item")
        .clone();
    mark(
        &a.repo,
        &zhao(),
        &patrol,
        "z1",
        &template,
        &Mark::NotApplicable { item, on: true },
    )
    .expect("scored");
    World {
        server,
        a,
        b,
        c,
        patrol,
        problem,
    }
}

fn sheet_id(w: &World) -> String {
    zonepatrol_app::records::sheet::sheet_id(&zhao(), &w.patrol).to_string()
}

/// What A handed on, by document, and what the server said of it.
fn handed(repo: &Repo) -> Vec<(String, HandOutcome)> {
    let mut out: Vec<_> = repo
        .handed()
        .expect("handed")
        .into_iter()
        .map(|h| (h.handed.doc, h.outcome))
        .collect();
    out.sort_by(|x, y| x.0.cmp(&y.0));
    out
}

/// How many fixes a phone shows of a problem (`None`: it does not hold the problem).
fn fixes(repo: &Repo, id: &DocId) -> Option<usize> {
    repo.read::<Problem>(id)
        .expect("reads")
        .map(|p| p.rectifications.len())
}

fn never_readable(w: &World, phone: &Device) {
    let sheet = sheet_id(w);
    assert!(
        !phone.repo.ids().expect("ids").contains(&sheet),
        "{} holds the sheet",
        phone.user
    );
    for c in phone.repo.carrying().expect("carrying") {
        if c.item.doc() == sheet {
            assert!(
                matches!(c.item, Carried::Sealed { .. }),
                "{} carries the sheet open",
                phone.user
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_travels_from_a_through_b_and_c_to_the_server_in_random_meeting_orders() {
    let seed: u64 = std::env::var("ZONEPATROL_RELAY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("relay scenario seed: {seed} (ZONEPATROL_RELAY_SEED={seed} repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..3 {
        let w = world(round).await;
        let (a, b, c) = (&w.a.repo, &w.b.repo, &w.c.repo);
        // A meets B, B meets C, in random directions, with random extra meetings (A again, C
        // with B twice), none of which may lose or duplicate anything.
        meet_either(&mut rng, a, b).await;
        if rng.random_bool(0.5) {
            meet_either(&mut rng, a, b).await;
        }
        meet_either(&mut rng, b, c).await;
        if rng.random_bool(0.5) {
            meet_either(&mut rng, c, b).await;
        }
        never_readable(&w, &w.b);
        never_readable(&w, &w.c);
        // The fix, which B and C may read, shows on both already, as h1 made it.
        let problem_id: DocId = format!("problem:zcyd:{}", w.problem).parse().expect("id");
        for phone in [&w.b, &w.c] {
            assert_eq!(
                fixes(&phone.repo, &problem_id),
                Some(1),
                "seed {seed}: {}",
                phone.user
            );
        }
        // B could read the fix: it carries it open; the sheet sealed.
        let kinds: Vec<(String, bool)> =
            w.b.repo
                .carrying()
                .expect("carrying")
                .iter()
                .map(|c| {
                    (
                        c.item.doc().to_owned(),
                        matches!(c.item, Carried::Open { .. }),
                    )
                })
                .collect();
        assert!(
            kinds.contains(&(format!("problem:zcyd:{}", w.problem), true)),
            "seed {seed}: {kinds:?}"
        );
        assert!(
            kinds.contains(&(sheet_id(&w), false)),
            "seed {seed}: {kinds:?}"
        );

        // C reaches the server; nothing it showed of others' work is left waiting on it.
        assert_eq!(w.c.sync().await.refused, 0, "seed {seed}");
        assert!(!w.c.repo.has_unsent().expect("reads"), "seed {seed}");
        assert_eq!(fixes(c, &problem_id), Some(1), "seed {seed}");
        let delivered = w.c.repo.carrying().expect("carrying");
        assert!(
            delivered
                .iter()
                .all(|d| matches!(d.delivered, Some((_, HandOutcome::Accepted)))),
            "seed {seed}: {delivered:?}"
        );

        // A syncs at last and sees its work acknowledged.
        w.a.sync().await;
        let said = handed(&w.a.repo);
        assert!(!said.is_empty(), "seed {seed}");
        assert!(
            said.iter().all(|(_, o)| *o == HandOutcome::Accepted),
            "seed {seed}: {said:?}"
        );

        // On the server: the fix is h1's and the sheet zhao's, from A's key, carried by qian.
        let a_key = a.device_key().id().to_string();
        let w_b_key = b.device_key().id().to_string();
        let sheet = sheet_id(&w);
        let dir = w.server.stop_keeping_data().await;
        let store = SledStore::open(&dir.path().join("server/store")).expect("store");
        let stored = store.doc(&problem_id).expect("reads").expect("stored");
        let doc = stored.load().expect("loads");
        let p: Problem = zonepatrol_shared::docs::read(&doc, &problem_id).expect("a problem");
        assert_eq!(p.rectifications.len(), 1, "seed {seed}");
        let carried: Vec<_> = store
            .log_after(0, 100_000)
            .expect("log")
            .into_iter()
            .filter_map(|r| LogEntry::from_bytes(&r.body).ok())
            .filter(|e| e.via.as_deref() == Some("qian"))
            .map(|e| (e.doc.clone(), e.by.clone(), e.signed[0].key.clone()))
            .collect();
        assert!(
            carried.contains(&(problem_id.to_string(), H1.to_owned(), a_key.clone())),
            "seed {seed}: {carried:?}"
        );
        assert!(
            carried.contains(&(sheet, "zhao".to_owned(), a_key.clone())),
            "seed {seed}: {carried:?}"
        );
        // The branch's audit export of all this verifies, with the key the phones know.
        drop(store);
        let work = tempfile::tempdir().expect("dir");
        let server_dir = dir.path().join("server");
        let export = crate::support::audit_export(
            &["--data".as_ref(), server_dir.as_os_str()],
            &work.path().join("zcyd.json"),
        );
        let server_key = a
            .session()
            .expect("reads")
            .and_then(|s| s.server_key)
            .and_then(|k| k.parse().ok())
            .expect("the server's key");
        if let Err(findings) = zonepatrol_shared::audit::verify(&export, Some(&server_key)) {
            panic!("seed {seed}: {findings:?}");
        }
        // Tampered with, it fails, naming the carried entry: a flipped byte, the entry
        // removed, a signature moved to another phone, the change given to another person.
        let carried_at = export
            .log
            .iter()
            .position(|e| {
                e.body
                    .as_deref()
                    .is_some_and(|b| b.contains("\"via\":\"qian\""))
            })
            .expect("a carried entry");
        let seq = export.log[carried_at].seq;
        let other_key = w_b_key.clone();
        let tampered: Vec<(&str, Tamper)> = vec![
            (
                "flipped byte",
                Box::new(move |x| {
                    let body = x.log[carried_at].body.as_mut().expect("body");
                    *body = body.replacen("\"via\":\"qian\"", "\"via\":\"qiam\"", 1);
                }),
            ),
            (
                "removed entry",
                Box::new(move |x| {
                    x.log.remove(carried_at);
                }),
            ),
            (
                "another phone's signature",
                Box::new(move |x| {
                    let body = x.log[carried_at].body.as_mut().expect("body");
                    let mut entry: LogEntry = serde_json::from_str(body).expect("entry");
                    entry.signed[0].key = other_key.clone();
                    *body = String::from_utf8(entry.to_bytes()).expect("text");
                }),
            ),
            (
                "re-attributed",
                Box::new(move |x| {
                    let body = x.log[carried_at].body.as_mut().expect("body");
                    let mut entry: LogEntry = serde_json::from_str(body).expect("entry");
                    let other = if entry.by == H1 { "h2" } else { "qian" };
                    entry.by = other.into();
                    entry.signed[0].user = other.into();
                    *body = String::from_utf8(entry.to_bytes()).expect("text");
                }),
            ),
        ];
        for (what, tamper) in tampered {
            let mut bad = export.clone();
            tamper(&mut bad);
            match zonepatrol_shared::audit::verify(&bad, Some(&server_key)) {
                Ok(_) => panic!("seed {seed}: {what} passed the audit"),
                // Where the chain breaks: the entry, or (removed) the one after it.
                Err(findings) => assert!(
                    findings
                        .iter()
                        .any(|f| f.place == format!("log entry {seq}")
                            || f.place == format!("log entry {}", seq + 1)),
                    "seed {seed}: {what}: {findings:?}"
                ),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_altered_on_the_way_is_refused_recorded_and_its_author_told() {
    let w = world(0).await;
    let (a, b, c) = (&w.a.repo, &w.b.repo, &w.c.repo);
    meet(b, a).await;
    // B flips a byte of A's change before it meets C.
    let fix = b
        .carrying()
        .expect("carrying")
        .into_iter()
        .find(|x| matches!(x.item, Carried::Open { .. }))
        .expect("the fix, open");
    let mut altered = fix.clone();
    if let Carried::Open { push } = &mut altered.item {
        let mut bytes = b64::decode(&push.changes).expect("base64");
        let n = bytes.len() - 3;
        bytes[n] ^= 0x01;
        push.changes = b64::encode(&bytes);
    }
    b.replace_carried(&fix.item.item_id(), &altered)
        .expect("tampered");
    meet(c, b).await;
    // C carries the altered change but does not show it: it is not what h1 signed.
    let problem_id: DocId = format!("problem:zcyd:{}", w.problem).parse().expect("id");
    assert_eq!(fixes(b, &problem_id), Some(1));
    assert_eq!(fixes(c, &problem_id), Some(0));
    // And C, dishonest too, makes up work for h2 out of h1's (a signature that cannot hold).
    let mut forged = fix.clone();
    if let Carried::Open { push } = &mut forged.item {
        push.signed[0].user = "h2".into();
    }
    c.replace_carried("none", &forged).expect("forged");
    // And something far too large, which must not hold back C's own work.
    let mut huge = fix.clone();
    if let Carried::Open { push } = &mut huge.item {
        push.changes = b64::encode(&vec![7u8; 5 * 1024 * 1024]);
    }
    c.replace_carried("none", &huge).expect("huge");
    raise(&w.c, "problem:zcyd:c-own", "qian", "z1", H1);
    w.c.sync().await;
    let refused =
        w.c.repo
            .carrying()
            .expect("carrying")
            .into_iter()
            .find(|x| x.item == altered.item)
            .and_then(|x| x.delivered)
            .expect("answered");
    assert!(
        matches!(refused.1, HandOutcome::Refused { .. }),
        "{refused:?}"
    );
    // Never sent: no server would take it.
    let huge_answer =
        w.c.repo
            .carrying()
            .expect("carrying")
            .into_iter()
            .find(|x| x.item == huge.item)
            .expect("kept");
    assert!(huge_answer.delivered.is_none());
    assert!(
        w.c.repo
            .quarantine_of("qian")
            .expect("quarantine")
            .is_empty(),
        "C's own problem went"
    );
    assert!(!w.c.repo.has_unsent().expect("reads"), "C's own work went");
    // The sheet, untouched, went through.
    let sheet =
        w.c.repo
            .carrying()
            .expect("carrying")
            .into_iter()
            .find(|x| x.item.doc() == sheet_id(&w))
            .and_then(|x| x.delivered)
            .expect("answered");
    assert_eq!(sheet.1, HandOutcome::Accepted);

    // A learns it at its next sync: the copy C carried was refused (its own, sent now, is
    // taken as it was made).
    w.a.sync().await;
    let said = handed(a);
    let problem = format!("problem:zcyd:{}", w.problem);
    let (_, outcome) = said
        .iter()
        .find(|(d, _)| *d == problem)
        .expect("the fix handed");
    match outcome {
        HandOutcome::Refused { carrier, refusal } => {
            assert_eq!(carrier, "qian");
            assert!(!refusal.reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // Kept on the record, on h1's.
    let dir = w.server.stop_keeping_data().await;
    let store = SledStore::open(&dir.path().join("server/store")).expect("store");
    let records = store.refused().expect("refused");
    assert!(
        records
            .iter()
            .any(|r| r.user == H1 && r.carried.as_ref().is_some_and(|x| x.carrier == "qian")),
        "{records:?}"
    );
    // The forgery is on the carrier's record, never on h2's.
    assert!(records.iter().all(|r| r.user != "h2"), "{records:?}");
    assert!(
        records
            .iter()
            .any(|r| r.user == "qian" && r.refusal.reason.contains("does not hold")),
        "{records:?}"
    );
    let _ = c;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phones_carried_work_is_refused_and_a_stranger_gets_nothing() {
    let w = world(0).await;
    let (a, b, c) = (&w.a.repo, &w.b.repo, &w.c.repo);
    meet(a, b).await;
    // The secretary on B sees h1's fix and passes it, on top of it, underground.
    let problem_id: DocId = format!("problem:zcyd:{}", w.problem).parse().expect("id");
    assert_eq!(fixes(b, &problem_id), Some(1));
    let sec = Actor::new("sec", Role::Secretary, "zcyd");
    zonepatrol_app::records::problem::judge(b, &sec, &w.problem, &Judgement::Verified, today())
        .expect("verified");
    meet(b, c).await;
    assert_eq!(fixes(c, &problem_id), Some(1));
    // A is revoked before C reaches the server.
    let key = a.device_key().id().to_string();
    let admin = Browser::sign_in(&w.server.url, "admin", DEMO_PASSWORD)
        .await
        .expect("signed in");
    let (status, _) = admin
        .post("/admin/account/h1/phone", &format!("key={key}"))
        .await;
    assert!(
        status.is_redirection() || status == StatusCode::OK,
        "{status}"
    );
    w.c.sync().await;
    let answers: Vec<_> =
        w.c.repo
            .carrying()
            .expect("carrying")
            .into_iter()
            .map(|x| (x.item, x.delivered.expect("answered").1))
            .collect();
    assert_eq!(answers.len(), 2, "{answers:?}");
    for (item, answer) in &answers {
        match (item, answer) {
            // The carrier reads why only of what it may read.
            (Carried::Open { .. }, HandOutcome::Refused { refusal, .. }) => {
                assert!(refusal.reason.contains("revoked"), "{refusal:?}")
            }
            (Carried::Sealed { .. }, HandOutcome::Refused { refusal, .. }) => {
                assert!(!refusal.reason.contains("revoked"), "{refusal:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    // C shows the fix no more; B, at its own sync, takes it out too, and the secretary's
    // verification built on it with it: re-made alone, the server refuses it (there is no
    // fix to verify), and it waits on B for the secretary with the reason.
    assert_eq!(fixes(c, &problem_id), Some(0));
    assert!(!c.has_unsent().expect("reads"));
    assert_eq!(w.b.sync().await.refused, 1);
    assert_eq!(fixes(b, &problem_id), Some(0));
    let kept: Vec<_> = b
        .quarantine()
        .expect("quarantine")
        .into_iter()
        .filter(|q| q.id == problem_id.to_string())
        .collect();
    assert!(
        kept.iter()
            .any(|q| q.user == "sec" && !q.probation && q.refusal.part == "verifications"),
        "{kept:?}"
    );

    // A, signed in again, is told why both were refused.
    w.a.client
        .login(&w.server.url, "zhao", DEMO_PASSWORD, "Android A")
        .await
        .expect("zhao signs in again");
    let _ = w.a.try_sync().await;
    let said = handed(a);
    assert_eq!(said.len(), 2, "{said:?}");
    for (doc, outcome) in &said {
        match outcome {
            HandOutcome::Refused { refusal, carrier } => {
                assert_eq!(carrier, "qian");
                assert!(refusal.reason.contains("revoked"), "{doc}: {refusal:?}");
            }
            other => panic!("{doc}: {other:?}"),
        }
    }

    // C's list, fresh from the server, no longer admits A: A gets nothing from C.
    match attempt(c, a).await.1 {
        Err(RelayError::Stranger(_)) => {}
        other => panic!("C took a revoked phone: {other:?}"),
    }
    let before = b.carrying().expect("carrying").len();
    // A stranger (a phone of another branch's person) is refused too.
    let stranger = Device::named(&w.server.url, "h5", DEMO_PASSWORD, "Android X").await;
    stranger.sync().await;
    let (called, served) = attempt(b, &stranger.repo).await;
    match called {
        Err(RelayError::Stranger(_)) => {}
        other => panic!("the stranger took B: {other:?}"),
    }
    // Whichever side saw it first, the channel closed before anything was offered.
    assert!(served.is_err());
    assert_eq!(b.carrying().expect("carrying").len(), before);
    let _ = (a, c);
}

/// The invitation's code keeps out whoever does not know it: a phone of the branch with a
/// wrong code, and bytes that are no handshake, learn nothing of the waiting phone and do not
/// use its invitation up; the phone with the code then meets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_without_the_invitations_code_gets_nothing_and_the_invitation_stays_open() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world(0).await;
    let (a, b) = (&w.a.repo, &w.b.repo);
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let invite = Invite::new(socket.local_addr().expect("addr"));
    let (l, code) = (b.clone(), invite.code.clone());
    let serve =
        tokio::spawn(
            async move { listen(l, socket, &code, std::time::Duration::from_secs(60)).await },
        );
    let connect = || tokio::net::TcpStream::connect(invite.addr);
    // Connections that say nothing, more than the waiting phone hears out at once, held open
    // to the end: they are closed unanswered after a few seconds and keep nobody out.
    let mut silent = Vec::new();
    for _ in 0..6 {
        silent.push(connect().await.expect("connect"));
    }

    // A listed phone with a wrong code: the waiting phone closes before it says anything.
    let wrong = if invite.code == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    match exchange(a.clone(), connect().await.expect("connect"), true, wrong).await {
        Err(RelayError::NoInvite) => {}
        other => panic!("met with a wrong code: {other:?}"),
    }
    // Bytes that are no handshake: nothing comes back but the end of the connection.
    let mut raw = connect().await.expect("connect");
    raw.write_all(&[0, 0, 0, 48]).await.expect("written");
    raw.write_all(&[7u8; 48]).await.expect("written");
    let mut back = Vec::new();
    let _ = raw.read_to_end(&mut back).await;
    assert!(
        back.is_empty(),
        "the waiting phone answered a stranger: {back:?}"
    );
    assert!(a.meetings().expect("meetings").is_empty());

    // The phone with the code meets it.
    let called = exchange(
        a.clone(),
        connect().await.expect("connect"),
        true,
        &invite.code,
    )
    .await
    .expect("met");
    let served = serve.await.expect("joined").expect("the waiting phone met");
    assert_eq!(called.peer_key, b.device_key().id().to_string());
    assert_eq!(served.peer_key, a.device_key().id().to_string());
    assert!(called.gave > 0);
    assert_eq!(b.meetings().expect("meetings").len(), 1);
    drop(silent);
}
