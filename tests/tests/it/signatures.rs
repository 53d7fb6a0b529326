//! Issue 21, signed changes: every change a phone sends is signed by the phone's own key,
//! registered when someone signs in on it; the server refuses what no registered, unrevoked key
//! of the author signed, keeps every accepted change in a hash-chained log with its signatures,
//! signs its own changes and checkpoints, and writes a branch's audit export that
//! `zonepatrol-audit verify` checks with nothing else, naming every place that was tampered
//! with. Over real HTTP, real sled stores and the real command lines.

use std::path::Path;
use std::process::Command;

use automerge::{ActorId, AutoCommit};
use reqwest::StatusCode;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_server::store::{SledStore, Storage};
use zonepatrol_shared::audit::{AuditExport, verify};
use zonepatrol_shared::docs::{self, Day, DocId, FreeText, Problem};
use zonepatrol_shared::protocol::{LoginResponse, Outcome, SyncResponse, b64, heads_to_hex};
use zonepatrol_shared::signing::{DeviceKey, LogEntry, SignedChanges, link_over_digest};
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{Severity, signing};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, http, id, raise, test_key, today};

const AUDIT: &str = env!("CARGO_BIN_EXE_zonepatrol-audit-under-test");

/// Signs in over HTTP with a device key (or none); the token and the server's key.
async fn sign_in(url: &str, user: &str, key: Option<&DeviceKey>) -> (String, String) {
    let mut body = serde_json::json!({"user": user, "password": DEMO_PASSWORD, "device": "raw"});
    if let Some(key) = key {
        body["device_key"] = key.id().to_string().into();
        body["device_proof"] = key.prove(user).into();
    }
    let r = http()
        .post(format!("{url}/v1/login"))
        .json(&body)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK);
    let answer: LoginResponse = r.json().await.expect("login body");
    (answer.token, answer.server_key.expect("the server's key"))
}

/// A new problem raised by `user`, as a phone makes it.
fn problem(name: &str, user: &str, text: &str) -> (DocId, AutoCommit) {
    let id = id(&format!("problem:zcyd:{name}"));
    let mut doc = docs::genesis::<Problem>(&id).expect("genesis");
    doc.set_actor(ActorId::random());
    let mut p: Problem = docs::read(&doc, &id).expect("read");
    p.finding.zone = "z1".into();
    p.finding.raised_by = user.into();
    p.finding.raised_at = zonepatrol_app::store::now_millis();
    p.finding.description = FreeText::from(text);
    p.finding.severity = Severity::General;
    p.finding.responsible = "h1".into();
    p.finding.deadline = Some(Day(today()));
    docs::write(&mut doc, &p).expect("write");
    doc.commit();
    (id, doc)
}

fn hashes(doc: &mut AutoCommit) -> Vec<automerge::ChangeHash> {
    doc.get_changes(&[]).iter().map(|c| c.hash()).collect()
}

/// Pushes a whole document with these signatures (and, once, a key to bind the sign-in to);
/// the one ack.
async fn push(
    url: &str,
    token: &str,
    id: &DocId,
    doc: &mut AutoCommit,
    signed: Vec<SignedChanges>,
    key: Option<(&DeviceKey, &str)>,
) -> (Outcome, SyncResponse) {
    let mut body = serde_json::json!({
        "cursor": 0,
        "push": [{
            "id": id.to_string(),
            "base": [],
            "have": heads_to_hex(&doc.get_heads()),
            "changes": b64::encode(&doc.save()),
            "signed": signed,
        }],
        "max_bytes": 1,
    });
    if let Some((key, user)) = key {
        body["device_key"] = key.id().to_string().into();
        body["device_proof"] = key.prove(user).into();
    }
    let r = http()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sync");
    assert_eq!(r.status(), StatusCode::OK);
    let answer: SyncResponse = r.json().await.expect("answer");
    (answer.acks[0].outcome.clone(), answer)
}

fn refused_for(outcome: &Outcome, words: &str) {
    match outcome {
        Outcome::Refused { refusal } => {
            assert_eq!(refusal.code, RefusalCode::NotWriter, "{refusal:?}");
            assert_eq!(refusal.part, "signature", "{refusal:?}");
            assert!(refusal.reason.contains(words), "“{words}” in {refusal:?}");
        }
        other => panic!("expected a refusal for “{words}”, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_no_registered_key_of_their_author_signed_are_refused_and_kept() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec_key = test_key("sec");
    let h1_key = test_key("h1");
    let (sec, server_key) = sign_in(url, "sec", Some(&sec_key)).await;
    let _ = sign_in(url, "h1", Some(&h1_key)).await;

    // Unsigned.
    let (id1, mut doc) = problem("unsigned", "sec", "未签名");
    let (outcome, _) = push(url, &sec, &id1, &mut doc, Vec::new(), None).await;
    refused_for(&outcome, "is not signed");

    // Signed by a key nobody registered.
    let stranger = DeviceKey::from_seed([5; 32]);
    let (id2, mut doc) = problem("stranger", "sec", "陌生手机");
    let signed = stranger.sign_changes(&id2.to_string(), "sec", &hashes(&mut doc));
    let (outcome, _) = push(url, &sec, &id2, &mut doc, vec![signed], None).await;
    refused_for(&outcome, "not registered");

    // Signed for sec by a phone registered to h1 alone.
    let (id3, mut doc) = problem("other-phone", "sec", "别人的手机");
    let signed = h1_key.sign_changes(&id3.to_string(), "sec", &hashes(&mut doc));
    let (outcome, _) = push(url, &sec, &id3, &mut doc, vec![signed], None).await;
    refused_for(&outcome, "not registered for sec");

    // Signed for another person than the one who sends it.
    let (id4, mut doc) = problem("for-h1", "sec", "替别人签");
    let signed = h1_key.sign_changes(&id4.to_string(), "h1", &hashes(&mut doc));
    let (outcome, _) = push(url, &sec, &id4, &mut doc, vec![signed], None).await;
    refused_for(&outcome, "signed for h1, but sec sent them");

    // Signed, then altered: the altered change is not the one signed.
    let (id5, mut doc) = problem("altered", "sec", "原来的描述");
    let signed = sec_key.sign_changes(&id5.to_string(), "sec", &hashes(&mut doc));
    let mut p: Problem = docs::read(&doc, &id5).expect("read");
    p.finding.description = FreeText::from("改过的描述");
    docs::write(&mut doc, &p).expect("write");
    doc.commit();
    let (outcome, _) = push(url, &sec, &id5, &mut doc, vec![signed], None).await;
    refused_for(&outcome, "is not signed");

    // A signature that does not match its changes.
    let (id6, mut doc) = problem("forged", "sec", "伪造签名");
    let mut signed = sec_key.sign_changes(&id6.to_string(), "sec", &hashes(&mut doc));
    signed.sig = b64::encode(&[7u8; 64]);
    let (outcome, _) = push(url, &sec, &id6, &mut doc, vec![signed], None).await;
    refused_for(&outcome, "does not match");

    // Signed properly: accepted, with a checkpoint the server's key signed.
    let (id7, mut doc) = problem("signed", "sec", "签名正确");
    let signed = sec_key.sign_changes(&id7.to_string(), "sec", &hashes(&mut doc));
    let (outcome, answer) = push(url, &sec, &id7, &mut doc, vec![signed], None).await;
    assert_eq!(outcome, Outcome::Accepted);
    let checkpoint = answer.checkpoint.expect("a checkpoint");
    checkpoint
        .verify(&server_key.parse().expect("a key"))
        .expect("signed by the server's key");
    // Sent again whole with one more change (an answer lost on the way): the signature names
    // changes the server holds too, and is taken.
    let mut p: Problem = docs::read(&doc, &id7).expect("read");
    p.finding.measure = FreeText::from("补充措施");
    docs::write(&mut doc, &p).expect("write");
    doc.commit();
    let signed = sec_key.sign_changes(&id7.to_string(), "sec", &hashes(&mut doc));
    let (outcome, _) = push(url, &sec, &id7, &mut doc, vec![signed], None).await;
    assert_eq!(outcome, Outcome::Accepted, "a whole document sent again");

    // A sign-in from before keys (an older app) is bound to the first key its phone names.
    let legacy_key = DeviceKey::from_seed([6; 32]);
    let (legacy, _) = sign_in(url, "sec", None).await;
    let (id8, mut doc) = problem("legacy", "sec", "旧版本");
    let signed = legacy_key.sign_changes(&id8.to_string(), "sec", &hashes(&mut doc));
    let (outcome, _) = push(
        url,
        &legacy,
        &id8,
        &mut doc,
        vec![signed],
        Some((&legacy_key, "sec")),
    )
    .await;
    assert_eq!(outcome, Outcome::Accepted, "bound to the key it named");
    let other = DeviceKey::from_seed([9; 32]);
    let (id9, mut doc) = problem("rebind", "sec", "换钥匙");
    let signed = other.sign_changes(&id9.to_string(), "sec", &hashes(&mut doc));
    let (outcome, _) = push(
        url,
        &legacy,
        &id9,
        &mut doc,
        vec![signed],
        Some((&other, "sec")),
    )
    .await;
    refused_for(&outcome, "not registered");

    // The server's own key signs only what the server pushes itself: its signature, were it
    // ever copied, is refused from outside.
    let (id10, mut doc) = problem("server-key", "sec", "服务器钥匙");
    let mut forged = sec_key.sign_changes(&id10.to_string(), "sec", &hashes(&mut doc));
    forged.key = server_key.clone();
    let (outcome, _) = push(url, &sec, &id10, &mut doc, vec![forged], None).await;
    refused_for(&outcome, "server's own key");

    // A signature may name only the changes it comes with, each once.
    let (id11, mut doc) = problem("padded", "sec", "多余的哈希");
    let mut padded = hashes(&mut doc);
    padded.push(automerge::ChangeHash([3; 32]));
    let signed = sec_key.sign_changes(&id11.to_string(), "sec", &padded);
    let (outcome, _) = push(url, &sec, &id11, &mut doc, vec![signed], None).await;
    refused_for(&outcome, "not in this push");

    // Nobody registers another phone's public key: the proof is the phone's own.
    let r = http()
        .post(format!("{url}/v1/login"))
        .json(&serde_json::json!({
            "user": "h1", "password": DEMO_PASSWORD, "device": "thief",
            "device_key": sec_key.id().to_string(),
            "device_proof": h1_key.prove("h1"),
        }))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Every refusal is on the record, nothing refused was stored.
    let dir = server.stop_keeping_data().await;
    let store = SledStore::open(&dir.path().join("server/store")).expect("store");
    let refused = store.refused().expect("refused");
    let device = store
        .device(&sec_key.id().to_string())
        .expect("reads")
        .expect("sec's phone");
    assert_eq!(
        device.users,
        vec!["sec".to_owned()],
        "h1 never registered it"
    );
    for id in [&id1, &id2, &id3, &id4, &id5, &id6, &id9, &id10, &id11] {
        assert!(
            refused
                .iter()
                .any(|r| r.id == id.to_string() && r.user == "sec"),
            "{id} on the record"
        );
        assert!(store.doc(id).expect("reads").is_none(), "{id} not stored");
    }
    assert!(store.doc(&id7).expect("reads").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_is_refused_from_then_on_and_its_earlier_work_stays_its() {
    let server = TestServer::start().await;
    let url = &server.url;
    let phone = Device::named(url, "sec", DEMO_PASSWORD, "Android lost").await;
    phone.sync().await;
    raise(&phone, "problem:zcyd:before", "sec", "z1", "h1");
    assert_eq!(phone.sync().await.refused, 0);
    let key = phone.repo.device_key().id().to_string();

    // The admin sees the phone on sec's account and revokes it.
    let admin = Browser::sign_in(url, "admin", DEMO_PASSWORD)
        .await
        .expect("signed in");
    let page = admin.page("/admin/account/sec").await;
    assert!(page.contains("Android lost"), "{page}");
    assert!(page.contains(&key[..8]), "{page}");
    let (status, _) = admin
        .post("/admin/account/sec/phone", &format!("key={key}"))
        .await;
    assert!(
        status.is_redirection() || status == StatusCode::OK,
        "{status}"
    );
    let page = admin.page("/admin/account/sec").await;
    assert!(page.contains("已吊销"), "{page}");

    // Its sign-in ended; signed in again, what it signs is refused and comes back to it.
    raise(&phone, "problem:zcyd:after", "sec", "z1", "h1");
    assert!(
        phone.try_sync().await.is_err(),
        "the revoked phone's sign-in ended"
    );
    phone
        .client
        .login(url, "sec", DEMO_PASSWORD, "Android lost")
        .await
        .expect("signs in again");
    assert_eq!(phone.sync().await.refused, 1);
    let kept = phone.repo.quarantine_of("sec").expect("quarantine");
    assert_eq!(kept.len(), 1);
    assert!(
        kept[0].refusal.reason.contains("revoked"),
        "{:?}",
        kept[0].refusal
    );

    // Another phone of sec's goes on.
    let other = Device::named(url, "sec", DEMO_PASSWORD, "Android new").await;
    other.sync().await;
    raise(&other, "problem:zcyd:new-phone", "sec", "z1", "h1");
    assert_eq!(other.sync().await.refused, 0);

    // The earlier change stays attributed to the revoked phone, in the log and the history.
    let history = admin.page("/dash/history/problem:zcyd:before").await;
    assert!(history.contains("Android lost"), "{history}");
    let dir = server.stop_keeping_data().await;
    let store = SledStore::open(&dir.path().join("server/store")).expect("store");
    let entry = log_of(&store, "problem:zcyd:before");
    assert_eq!(entry.signed[0].key, key);
    assert!(
        store
            .doc(&id("problem:zcyd:after"))
            .expect("reads")
            .is_none()
    );
}

/// The log entry of a document's first write.
fn log_of(store: &dyn Storage, doc: &str) -> LogEntry {
    store
        .log_after(0, 100_000)
        .expect("the log")
        .into_iter()
        .filter_map(|r| LogEntry::from_bytes(&r.body).ok())
        .find(|e| e.doc == doc)
        .unwrap_or_else(|| panic!("{doc} in the log"))
}

/// Runs `zonepatrol-audit verify` (with the server's key as a phone knows it, if given); its
/// exit code and what it printed.
fn audit_with(file: &Path, server_key: Option<&str>) -> (i32, String) {
    let mut command = Command::new(AUDIT);
    command.arg("verify").arg(file);
    if let Some(key) = server_key {
        command.args(["--server-key", key]);
    }
    let out = command.output().expect("zonepatrol-audit runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn audit(file: &Path) -> (i32, String) {
    audit_with(file, None)
}

/// Writes an export and checks it.
fn audit_of(dir: &Path, name: &str, export: &AuditExport) -> (i32, String) {
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_vec(export).expect("json")).expect("written");
    audit(&file)
}

/// Recomputes every link after an edit, as a tamperer would: only checkpoints and signatures
/// can tell then.
fn relink(export: &mut AuditExport) {
    let mut prev = [0u8; 32];
    for e in &mut export.log {
        let branch = e.branch.clone();
        let digest = match &e.body {
            Some(body) => signing::body_digest(body.as_bytes()),
            None => {
                let mut d = [0u8; 32];
                hex::decode_to_slice(e.digest.as_deref().expect("a digest"), &mut d).expect("hex");
                d
            }
        };
        let link = link_over_digest(&prev, e.seq, &branch, &digest);
        e.link = hex::encode(link);
        prev = link;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_export_verifies_and_every_tampering_is_named() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::named(url, "sec", DEMO_PASSWORD, "Android sec").await;
    let h1 = Device::named(url, "h1", DEMO_PASSWORD, "Android h1").await;
    sec.sync().await;
    raise(&sec, "problem:zcyd:audit", "sec", "z1", "h1");
    raise(&sec, "problem:zcyd:audit-2", "sec", "z1", "h1");
    assert_eq!(sec.sync().await.refused, 0);
    h1.sync().await;
    let after = zonepatrol_app::photo::import(
        std::sync::Arc::clone(&h1.repo),
        include_bytes!("../../fixtures/photos/phone-12mp-orient6.jpg").to_vec(),
        zonepatrol_app::photo::PhotoSettings::default(),
    )
    .await
    .expect("photo");
    zonepatrol_app::records::problem::rectify(
        &h1.repo,
        &zonepatrol_shared::Actor::new("h1", zonepatrol_shared::Role::ZoneHolder, "zcyd"),
        "audit",
        "已整改",
        &[after],
    )
    .expect("fixed");
    assert_eq!(h1.sync().await.refused, 0);
    // An edit in the console, made by the server for the admin.
    let admin = Browser::sign_in(url, "admin", DEMO_PASSWORD)
        .await
        .expect("signed in");
    let (status, _) = admin
        .post(
            "/admin/branch/zcyd/zone/new",
            "name=%E6%96%B0%E5%8C%BA&active=on",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the zone is saved");
    let sec_key = sec.repo.device_key().id().to_string();
    let data = server.stop_keeping_data().await;

    // The export, by the server's command line, and its check, by the auditor's.
    let work = tempfile::tempdir().expect("dir");
    let file = work.path().join("zcyd.json");
    let server_dir = data.path().join("server");
    let export = crate::support::audit_export(&["--data".as_ref(), server_dir.as_os_str()], &file);
    let (code, said) = audit(&file);
    assert_eq!(code, 0, "{said}");
    assert!(said.starts_with("OK: branch zcyd"), "{said}");
    let server_key = sec
        .repo
        .session()
        .expect("reads")
        .and_then(|s| s.server_key)
        .expect("the phone knows the server's key");
    let (code, said) = audit_with(&file, Some(&server_key));
    assert_eq!(code, 0, "{said}");
    assert!(!said.contains("note:"), "{said}");
    let summary = verify(&export, Some(&server_key.parse().expect("a key"))).expect("verifies");
    assert!(
        sec.repo.checkpoint().expect("reads").is_some(),
        "the phone kept the server's checkpoint"
    );
    assert!(summary.device_signed >= 3, "{summary:?}");
    assert!(
        summary.changes > summary.device_signed,
        "server-signed reports too: {summary:?}"
    );
    let store_dir = data.path().join("server/store");
    let entry = {
        let store = SledStore::open(&store_dir).expect("store");
        log_of(&store, "problem:zcyd:audit")
    };
    assert_eq!(entry.by, "sec");
    assert_eq!(entry.signed[0].key, sec_key, "attributed to sec's phone");

    // Where the problem's first entry and its document are.
    let at = export
        .log
        .iter()
        .position(|e| {
            e.body
                .as_deref()
                .is_some_and(|b| b.contains("\"doc\":\"problem:zcyd:audit\""))
        })
        .expect("the problem's entry");
    let seq = export.log[at].seq;
    let doc_at = export
        .documents
        .iter()
        .position(|d| d.id == "problem:zcyd:audit")
        .expect("the problem");

    // 1. A flipped byte in a change.
    let mut t = export.clone();
    let mut bytes = b64::decode(&t.documents[doc_at].bytes).expect("b64");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    t.documents[doc_at].bytes = b64::encode(&bytes);
    let (code, said) = audit_of(work.path(), "flipped.json", &t);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("document problem:zcyd:audit"), "{said}");

    // 2. A removed log entry: the chain breaks right after it.
    let mut t = export.clone();
    let next = t.log[at + 1].seq;
    t.log.remove(at);
    let (code, said) = audit_of(work.path(), "removed.json", &t);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&format!("log entry {next}: the chain breaks")),
        "{said}"
    );
    assert!(said.contains("document problem:zcyd:audit"), "{said}");
    // The last entry removed: the checkpoint made at export time no longer matches.
    let mut t = export.clone();
    let last = t.log.pop().expect("an entry").seq;
    let (code, said) = audit_of(work.path(), "removed-last.json", &t);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains(&format!("checkpoint {last}")), "{said}");

    // 3. A signature from another device (h1's phone, a real signature), links recomputed.
    let h1_phone = test_key("h1-phone-in-audit");
    let mut t = export.clone();
    t.devices.push(zonepatrol_shared::audit::AuditDevice {
        key: h1_phone.id().to_string(),
        name: "Android h1".into(),
        users: vec!["h1".into()],
        revoked_at: None,
    });
    let mut body =
        LogEntry::from_bytes(t.log[at].body.as_deref().expect("body").as_bytes()).expect("entry");
    let changes: Vec<automerge::ChangeHash> = body
        .changes
        .iter()
        .map(|h| h.parse().expect("hash"))
        .collect();
    body.signed = vec![h1_phone.sign_changes(&body.doc, "sec", &changes)];
    t.log[at].body = Some(String::from_utf8(body.to_bytes()).expect("utf-8"));
    relink(&mut t);
    let (code, said) = audit_of(work.path(), "other-device.json", &t);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&format!(
            "log entry {seq} (problem:zcyd:audit): signed by key"
        )) && said.contains("not registered to sec"),
        "{said}"
    );
    assert!(
        said.contains("the server signed another log here"),
        "{said}"
    );

    // 4. A change re-attributed to another person, signed by that person's real key.
    let mut t = export.clone();
    t.devices.push(zonepatrol_shared::audit::AuditDevice {
        key: h1_phone.id().to_string(),
        name: "Android h1".into(),
        users: vec!["h1".into()],
        revoked_at: None,
    });
    body.signed = vec![h1_phone.sign_changes(&body.doc, "h1", &changes)];
    t.log[at].body = Some(String::from_utf8(body.to_bytes()).expect("utf-8"));
    relink(&mut t);
    let (code, said) = audit_of(work.path(), "reattributed.json", &t);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("document problem:zcyd:audit") && said.contains("re-attributed"),
        "{said}"
    );
    // Or in the actors' registry.
    let mut t = export.clone();
    for a in &mut t.actors {
        if a.user == "sec" {
            a.user = "h1".into();
        }
    }
    let (code, said) = audit_of(work.path(), "actors.json", &t);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("re-attributed"), "{said}");

    // 5. An entry of the branch given by its digest alone, its change taken out of the
    //    document: named, though the chain still holds.
    let mut t = export.clone();
    let digest = signing::body_digest(t.log[at].body.as_deref().expect("body").as_bytes());
    t.log[at].body = None;
    t.log[at].digest = Some(hex::encode(digest));
    let (code, said) = audit_of(work.path(), "hidden.json", &t);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(&format!("log entry {seq}: an entry of this branch")),
        "{said}"
    );

    // 6. An export re-signed with a key of its own: the key the phone knows tells.
    let mut t = export.clone();
    let forger = DeviceKey::from_seed([11; 32]);
    t.server_key = forger.id().to_string();
    for c in &mut t.checkpoints {
        let link = c.link_bytes().expect("a link");
        *c = signing::Checkpoint::sign(&forger, c.seq, &link, c.at);
    }
    let forged = work.path().join("forged.json");
    std::fs::write(&forged, serde_json::to_vec(&t).expect("json")).expect("written");
    let (code, said) = audit_with(&forged, Some(&server_key));
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("made or re-signed elsewhere"), "{said}");

    // A file cut short is not an export.
    let bytes = std::fs::read(&file).expect("read");
    let cut = work.path().join("cut.json");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("written");
    let (code, _) = audit(&cut);
    assert_eq!(code, 1);
}
