//! What every engine behind [`Storage`] must do, as one suite of checks that any engine runs.
//!
//! Each check takes a way to open the engine on a directory (`open`) and an empty directory of
//! its own; it panics, naming what the engine got wrong, when the engine does not behave as
//! the server relies on. [`storage_conformance!`](crate::storage_conformance) turns the suite
//! into one test per check for an engine:
//!
//! ```ignore
//! zonepatrol_server::storage_conformance!(|dir: &std::path::Path| {
//!     zonepatrol_server::store::SledStore::open(dir).expect("opens")
//! });
//! ```
//!
//! The crash check runs the test binary again as a child that writes until it is killed, then
//! opens what it left: every document the engine lists must load whole, with the heads it
//! records. An engine that cannot be killed mid-write (a server engine) passes it trivially.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ROOT};
use zonepatrol_shared::Role;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::validate::{Refusal, RefusalCode};

use super::writer::{self, Chunk, Claims};
use zonepatrol_shared::signing::{LogEntry, log_link};

use super::{
    ActivityRecord, ActorOwner, BlobMeta, DeviceRecord, RefusedRecord, Storage, TokenRecord,
    UserRecord,
};

/// A log entry for a write of `id` in these checks.
fn entry(id: &DocId) -> LogEntry {
    LogEntry {
        doc: id.to_string(),
        at: 1,
        by: "conformance".into(),
        changes: Vec::new(),
        signed: Vec::new(),
        via: None,
    }
}

/// Opens an engine on a directory.
pub type Open<'a> = &'a dyn Fn(&Path) -> Box<dyn Storage>;

/// The environment variable that makes the crash check's child write until killed.
pub const CRASH_CHILD: &str = "ZONEPATROL_CONFORMANCE_CRASH_DIR";

fn problem(n: usize) -> DocId {
    DocId::problem("zcyd", format!("p{n}"))
}

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

/// A document with one more change: `n` put under `key`.
fn change(doc: &mut AutoCommit, key: &str, n: i64) {
    doc.put(ROOT, key, n).expect("put");
    doc.commit();
}

/// The facts record these checks keep beside a document: its heads, so that a record can be
/// told to belong to the write it came with.
fn facts_of(heads: &[ChangeHash]) -> Vec<u8> {
    let mut heads = heads.to_vec();
    heads.sort();
    heads.iter().flat_map(|h| h.0).collect()
}

/// Writes what `doc` gained since the store's copy, through the server's writer, with a facts
/// record made of its heads.
fn write(store: &dyn Storage, id: &DocId, doc: &mut AutoCommit, actors: Claims) {
    let (stored, chunks) = match store.doc(id).expect("reads") {
        Some(s) => (s.heads, s.chunks),
        None => (Vec::new(), 0),
    };
    let chunk = Chunk::between(doc, &stored, chunks);
    let facts = facts_of(&chunk.heads);
    writer::commit(store, id, chunk, actors, Some(facts), &entry(id)).expect("writes");
}

/// Every write keeps its log entry under its sequence number, each chained to the one before
/// from 32 zero bytes, whatever documents the writes were of; the head is the last entry, and
/// reading after a number goes on from there.
pub fn log_chain(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    assert_eq!(
        store.log_head().expect("reads"),
        None,
        "an empty store has no log"
    );
    let mut docs: Vec<AutoCommit> = (0..3).map(|_| AutoCommit::new()).collect();
    for round in 0..4 {
        for (n, doc) in docs.iter_mut().enumerate() {
            change(doc, "n", round);
            write(&*store, &problem(n), doc, Vec::new());
        }
    }
    let log = store.log_after(0, 1000).expect("reads the log");
    assert_eq!(log.len(), 12, "one entry a write");
    let mut prev = [0; 32];
    for (i, record) in log.iter().enumerate() {
        assert_eq!(record.seq, i as u64 + 1, "entries by sequence number");
        assert_eq!(
            record.link,
            log_link(&prev, record.seq, "zcyd", &record.body),
            "entry {i}'s link"
        );
        let body = LogEntry::from_bytes(&record.body).expect("the entry reads");
        assert_eq!(body.doc, problem(i % 3).to_string());
        prev = record.link;
    }
    assert_eq!(store.log_head().expect("reads"), Some((12, prev)));
    let tail = store.log_after(10, 1000).expect("reads");
    assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![11, 12]);
    assert_eq!(
        store.log_after(0, 5).expect("reads").len(),
        5,
        "the limit holds"
    );
    // Kept through a reopening.
    store.flush().expect("flushes");
    drop(store);
    let store = open(dir);
    assert_eq!(store.log_after(0, 1000).expect("reads"), log);
}

/// Device keys are kept, listed and changed; the server's seed is made once and kept, whatever
/// a later caller offers.
pub fn devices_and_server_key(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    let device = |key: &str, users: &[&str]| DeviceRecord {
        key: key.into(),
        name: "phone".into(),
        users: users.iter().map(|u| (*u).to_owned()).collect(),
        registered_at: 5,
        last_sign_in: 6,
        revoked_at: None,
        revoked_by: String::new(),
    };
    assert_eq!(store.device("aa").expect("reads"), None);
    store.put_device(&device("aa", &["sec"])).expect("put");
    store.put_device(&device("bb", &["h1", "h2"])).expect("put");
    let mut revoked = device("aa", &["sec"]);
    revoked.revoked_at = Some(9);
    revoked.revoked_by = "admin".into();
    store.put_device(&revoked).expect("put");
    assert_eq!(store.device("aa").expect("reads"), Some(revoked.clone()));
    let mut all = store.devices().expect("lists");
    all.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(all, vec![revoked, device("bb", &["h1", "h2"])]);
    let seed = store.server_seed([7; 32]).expect("made");
    assert_eq!(seed, [7; 32], "the first seed offered is kept");
    assert_eq!(store.server_seed([8; 32]).expect("kept"), [7; 32]);
    store.flush().expect("flushes");
    drop(store);
    let store = open(dir);
    assert_eq!(
        store.server_seed([9; 32]).expect("kept"),
        [7; 32],
        "kept through a reopening"
    );
    assert_eq!(store.devices().expect("lists").len(), 2);
}

/// A document loads back from what was written, chunk after chunk and once compacted.
pub fn write_and_read_back(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    let id = problem(1);
    assert!(store.doc(&id).expect("reads").is_none(), "no document yet");
    let mut doc = AutoCommit::new();
    for n in 0..40 {
        change(&mut doc, "n", n);
        write(&*store, &id, &mut doc, Vec::new());
        let stored = store.doc(&id).expect("reads").expect("written");
        assert_eq!(stored.heads, doc.get_heads(), "heads after write {n}");
        let mut loaded = AutoCommit::load(&stored.bytes).expect("the chunks load as one document");
        assert_eq!(
            sorted(loaded.get_heads()),
            sorted(doc.get_heads()),
            "what loads after write {n}"
        );
        assert!(
            (1..zonepatrol_shared::docs::COMPACT_AT).contains(&stored.chunks),
            "write {n} left {} chunks",
            stored.chunks
        );
    }
    // A compacting write replaces every chunk.
    let whole = Chunk {
        bytes: doc.save(),
        compact: true,
        heads: doc.get_heads(),
    };
    writer::commit(&*store, &id, whole, Vec::new(), None, &entry(&id)).expect("writes");
    assert_eq!(store.doc(&id).expect("reads").expect("kept").chunks, 1);
    assert!(
        store.doc(&problem(2)).expect("reads").is_none(),
        "only what was written"
    );
}

/// A document's facts record is written with it and goes with a write that carries none; the
/// start's own records and the stamp they were made under are kept.
pub fn facts_records(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    let records = |store: &dyn Storage| -> Vec<(DocId, Vec<u8>)> {
        let mut r = store.facts_records().expect("reads");
        r.sort();
        r
    };
    assert!(records(&*store).is_empty());
    assert_eq!(store.facts_stamp().expect("reads"), None);
    let (mut one, mut two) = (AutoCommit::new(), AutoCommit::new());
    change(&mut one, "n", 1);
    change(&mut two, "n", 2);
    write(&*store, &problem(1), &mut one, Vec::new());
    write(&*store, &problem(2), &mut two, Vec::new());
    assert_eq!(
        records(&*store),
        vec![
            (problem(1), facts_of(&one.get_heads())),
            (problem(2), facts_of(&two.get_heads()))
        ]
    );
    // A later write replaces the record; a write with none removes it.
    change(&mut one, "n", 3);
    write(&*store, &problem(1), &mut one, Vec::new());
    change(&mut two, "n", 4);
    let (stored, chunks) = store
        .doc(&problem(2))
        .expect("reads")
        .map(|s| (s.heads, s.chunks))
        .expect("kept");
    let chunk = Chunk::between(&mut two, &stored, chunks);
    writer::commit(
        &*store,
        &problem(2),
        chunk,
        Vec::new(),
        None,
        &entry(&problem(2)),
    )
    .expect("writes");
    assert_eq!(
        records(&*store),
        vec![(problem(1), facts_of(&one.get_heads()))]
    );
    // The start keeps records of its own, and the stamp once they are all made.
    store
        .put_facts(&problem(2), Some(b"made at start"))
        .expect("kept");
    store.put_facts_stamp(b"settings").expect("kept");
    store.flush().expect("flushed");
    drop(store);
    let store = reopen(open, dir);
    assert_eq!(records(&*store)[1], (problem(2), b"made at start".to_vec()));
    assert_eq!(
        store.facts_stamp().expect("reads"),
        Some(b"settings".to_vec())
    );
    store.put_facts(&problem(2), None).expect("removed");
    assert_eq!(records(&*store).len(), 1);
}

/// Every write takes the next number of one sequence; a document is listed once, at its last
/// write, in order; a cursor and a limit page through the list.
pub fn cursor_order(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    assert_eq!(
        store.last_seq().expect("seq"),
        0,
        "an empty store has given out nothing"
    );
    assert!(store.changed_after(0, 10).expect("lists").is_empty());
    let mut docs: Vec<AutoCommit> = (0..3).map(|_| AutoCommit::new()).collect();
    let order = [0, 1, 2, 0, 1, 0];
    for (n, &d) in order.iter().enumerate() {
        change(&mut docs[d], "n", n as i64);
        write(&*store, &problem(d), &mut docs[d], Vec::new());
        assert_eq!(store.last_seq().expect("seq"), n as u64 + 1, "write {n}");
    }
    let all = store.changed_after(0, 100).expect("lists");
    let ids: Vec<DocId> = all.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(
        ids,
        vec![problem(2), problem(1), problem(0)],
        "oldest last write first"
    );
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "numbers grow");
    assert_eq!(all.last().map(|l| l.0), Some(6));
    let first = store.changed_after(0, 1).expect("lists");
    assert_eq!(first.len(), 1, "the limit holds");
    let rest = store.changed_after(first[0].0, 100).expect("lists");
    assert_eq!(rest.len(), 2, "after the cursor only");
    assert!(store.changed_after(6, 100).expect("lists").is_empty());
    assert!(
        store
            .changed_after(u64::MAX, 100)
            .expect("lists")
            .is_empty()
    );
}

/// The heads a document had at each number stay known, for a device's cursor.
pub fn heads_history(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    let (a, b) = (problem(1), problem(2));
    let (mut da, mut db) = (AutoCommit::new(), AutoCommit::new());
    let mut history = Vec::new();
    for n in 0..5 {
        change(&mut da, "n", n);
        write(&*store, &a, &mut da, Vec::new());
        history.push((store.last_seq().expect("seq"), da.get_heads()));
        change(&mut db, "n", n);
        write(&*store, &b, &mut db, Vec::new());
    }
    for (seq, heads) in &history {
        assert_eq!(
            store.heads_at(&a, *seq).expect("reads").as_ref(),
            Some(heads),
            "at {seq}"
        );
        // The other document's write after it does not change what `a` had.
        assert_eq!(
            store.heads_at(&a, seq + 1).expect("reads").as_ref(),
            Some(heads),
            "at {} (a write of another document)",
            seq + 1
        );
    }
    let c = problem(3);
    let before = store.last_seq().expect("seq");
    let mut dc = AutoCommit::new();
    change(&mut dc, "n", 1);
    write(&*store, &c, &mut dc, Vec::new());
    assert_eq!(
        store.heads_at(&c, before).expect("reads"),
        None,
        "not yet born"
    );
    assert_eq!(
        store.heads_at(&c, u64::MAX).expect("reads"),
        Some(dc.get_heads())
    );
}

/// An automerge actor belongs to the user its first write claimed it for.
pub fn actor_claims(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    let mut doc = AutoCommit::new();
    let actor = doc.get_actor().to_bytes().to_vec();
    assert_eq!(store.actor_owner(&actor).expect("reads"), None);
    change(&mut doc, "n", 1);
    write(
        &*store,
        &problem(1),
        &mut doc,
        vec![(
            actor.clone(),
            ActorOwner {
                user: "sec".into(),
                device: "手机 ab12".into(),
            },
        )],
    );
    let owner = store.actor_owner(&actor).expect("reads").expect("claimed");
    assert_eq!(owner.user, "sec");
    assert_eq!(owner.device, "手机 ab12");
}

fn refused(user: &str, at: i64) -> RefusedRecord {
    RefusedRecord {
        id: DocId::problem("zcyd", format!("{user}{at}")).to_string(),
        user: user.into(),
        at,
        refusal: Refusal {
            code: RefusalCode::NotWriter,
            part: "finding".into(),
            reason: format!("refused at {at}"),
        },
        changes: String::new(),
        bytes: 3,
        sha256: "00".repeat(32),
        carried: None,
    }
}

/// Refused changes are kept per user up to a bound (the oldest go first) and pruned by age.
pub fn refused_records(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    for at in 1..=5 {
        store.keep_refused(&refused("sec", at), 3).expect("kept");
    }
    store.keep_refused(&refused("h1", 10), 3).expect("kept");
    let mut kept: Vec<(String, i64)> = store
        .refused()
        .expect("lists")
        .into_iter()
        .map(|r| (r.user, r.at))
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        vec![
            ("h1".into(), 10),
            ("sec".into(), 3),
            ("sec".into(), 4),
            ("sec".into(), 5)
        ],
        "three of sec's, the newest"
    );
    let record = store
        .refused()
        .expect("lists")
        .into_iter()
        .find(|r| r.at == 10)
        .expect("kept");
    assert_eq!(record, refused("h1", 10), "kept as given");
    assert_eq!(store.prune_refused(5).expect("prunes"), 2);
    assert_eq!(store.refused().expect("lists").len(), 2);
}

fn user(name: &str, role: Role) -> UserRecord {
    UserRecord {
        user: name.into(),
        role,
        also: Vec::new(),
        branch: "zcyd".into(),
        password: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: 1,
        disabled: false,
    }
}

/// Users are stored, replaced and listed.
pub fn users(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    assert!(store.users().expect("lists").is_empty());
    assert_eq!(store.user("sec").expect("reads"), None);
    store.put_user(&user("sec", Role::Secretary)).expect("put");
    store.put_user(&user("h1", Role::ZoneHolder)).expect("put");
    store
        .put_user(&user("sec", Role::Inspector))
        .expect("replaced");
    assert_eq!(
        store.user("sec").expect("reads"),
        Some(user("sec", Role::Inspector))
    );
    let mut names: Vec<String> = store
        .users()
        .expect("lists")
        .into_iter()
        .map(|u| u.user)
        .collect();
    names.sort();
    assert_eq!(names, vec!["h1".to_owned(), "sec".to_owned()]);
}

/// Tokens are stored under their hash, revoked, and pruned once expired.
pub fn tokens(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    let token = |expires_at| TokenRecord {
        user: "sec".into(),
        device: "phone".into(),
        created_at: 1,
        expires_at,
        key: None,
    };
    store.put_token(&[1; 32], &token(100)).expect("put");
    store.put_token(&[2; 32], &token(300)).expect("put");
    store.put_token(&[3; 32], &token(300)).expect("put");
    assert_eq!(store.token(&[1; 32]).expect("reads"), Some(token(100)));
    assert_eq!(store.token(&[9; 32]).expect("reads"), None);
    store.remove_token(&[3; 32]).expect("removed");
    assert_eq!(store.token(&[3; 32]).expect("reads"), None);
    assert_eq!(store.prune_tokens(200).expect("prunes"), 1, "one expired");
    assert_eq!(store.token(&[1; 32]).expect("reads"), None);
    assert_eq!(store.token(&[2; 32]).expect("reads"), Some(token(300)));
    let other = TokenRecord {
        user: "h1".into(),
        ..token(400)
    };
    store.put_token(&[4; 32], &other).expect("put");
    assert_eq!(
        store.tokens_of("sec").expect("lists"),
        vec![([2; 32], token(300))],
        "a user's devices, and only theirs"
    );
    assert_eq!(store.tokens_of("nobody").expect("lists"), vec![]);
}

/// Administrative changes are kept and listed newest first, two in one millisecond alike.
pub fn activity_records(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    assert!(store.activity(10).expect("lists").is_empty());
    let record = |at, subject: &str| ActivityRecord {
        at,
        by: "admin".into(),
        branch: "zcyd".into(),
        what: "zone".into(),
        subject: subject.into(),
        summary: "新建".into(),
    };
    for (at, subject) in [(5, "z1"), (9, "z2"), (9, "z3"), (7, "z4")] {
        store.keep_activity(&record(at, subject)).expect("kept");
    }
    let listed = store.activity(10).expect("lists");
    let order: Vec<(i64, &str)> = listed.iter().map(|r| (r.at, r.subject.as_str())).collect();
    assert_eq!(order[0].0, 9);
    assert_eq!(order[1].0, 9);
    assert_eq!(&order[2..], &[(7, "z4"), (5, "z1")]);
    assert_eq!(
        store.activity(1).expect("lists").len(),
        1,
        "at most the limit"
    );
}

/// Blob records are stored and read back.
pub fn blob_records(open: Open<'_>, dir: &Path) {
    let store = open(dir);
    let meta = BlobMeta {
        size: 5,
        branch: "zcyd".into(),
        by: "sec".into(),
        at: 2,
        also: vec!["h1".into()],
    };
    assert_eq!(store.blob("ab").expect("reads"), None);
    store.put_blob("ab", &meta).expect("put");
    assert_eq!(store.blob("ab").expect("reads"), Some(meta));
}

/// What is written and flushed is there when the engine is opened again.
pub fn durable_after_flush(open: Open<'_>, dir: &Path) {
    let mut doc = AutoCommit::new();
    {
        let store = open(dir);
        change(&mut doc, "n", 1);
        write(&*store, &problem(1), &mut doc, Vec::new());
        store.put_user(&user("sec", Role::Secretary)).expect("put");
        store.flush().expect("flushed");
    }
    let store = reopen(open, dir);
    let stored = store.doc(&problem(1)).expect("reads").expect("kept");
    assert_eq!(stored.heads, doc.get_heads());
    assert_eq!(store.last_seq().expect("seq"), 1);
    assert!(store.user("sec").expect("reads").is_some());
}

/// Opens an engine a moment after the last handle on it was dropped (an engine may release
/// its lock from a background thread).
fn reopen(open: Open<'_>, dir: &Path) -> Box<dyn Storage> {
    let start = Instant::now();
    loop {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| open(dir))) {
            Ok(store) => return store,
            Err(panic) if start.elapsed() > Duration::from_secs(10) => {
                std::panic::resume_unwind(panic)
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A reader never sees half of a write: the chunks it reads load as the heads it reads with
/// them, whatever a writer does meanwhile. The writer goes on until the reader has read many
/// times while it wrote, and the reader must have seen the document change under it.
pub fn reads_never_see_half_a_write(open: Open<'_>, dir: &Path) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let store = open(dir);
    let id = problem(1);
    let mut doc = AutoCommit::new();
    change(&mut doc, "n", 0);
    write(&*store, &id, &mut doc, Vec::new());
    let store: &dyn Storage = &*store;
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = std::collections::HashSet::new();
            while !done.load(Ordering::Relaxed) {
                let stored = store.doc(&id).expect("reads").expect("written");
                let mut loaded = AutoCommit::load(&stored.bytes).expect("loads");
                assert_eq!(
                    sorted(loaded.get_heads()),
                    sorted(stored.heads.clone()),
                    "a read saw chunks and heads from different writes"
                );
                seen.insert(stored.heads);
                reads.fetch_add(1, Ordering::Relaxed);
            }
            seen.len()
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut n = 1;
        while n < 200 || (reads.load(Ordering::Relaxed) < 100 && Instant::now() < deadline) {
            change(&mut doc, "n", n);
            write(store, &id, &mut doc, Vec::new());
            n += 1;
        }
        done.store(true, Ordering::Relaxed);
        let versions = reader.join().expect("the reader");
        assert!(
            versions > 1,
            "the reader saw {versions} version(s) in {} reads: it never read during a write",
            reads.load(Ordering::Relaxed)
        );
    });
}

/// The documents the crash check's child writes, in turn.
const CHILD_DOCS: usize = 20;

/// The child's side of [`crash_safe_batch`]: writes documents until it is killed.
fn write_until_killed(open: Open<'_>, dir: &Path) -> ! {
    let store = open(dir);
    let mut docs: Vec<AutoCommit> = (0..CHILD_DOCS).map(|_| AutoCommit::new()).collect();
    let mut n: usize = 0;
    loop {
        let d = n % docs.len();
        // Some writes are large, so that a kill lands inside one.
        let text = "x".repeat(if n.is_multiple_of(7) { 200_000 } else { 100 });
        docs[d].put(ROOT, "text", text).expect("put");
        change(&mut docs[d], "n", n as i64);
        write(&*store, &problem(d), &mut docs[d], Vec::new());
        if n.is_multiple_of(10) {
            store.flush().expect("flushed");
        }
        if n == 30 {
            println!("writing");
        }
        n += 1;
    }
}

/// A copy of a document written from two places (two instances, each with the server's one
/// actor) takes in the other's writes before it writes again: by the chunks stored after its
/// own when the engine reads them apart ([`Storage::doc_tail`]), else read whole, compactions
/// between included. What both wrote loads as one document holding every change.
pub fn copies_catch_up(open: Open<'_>, dir: &Path) {
    use automerge::ReadDoc;
    use zonepatrol_shared::docs::Problem;

    use super::writer::ServerDoc;
    let store = open(dir);
    let id = problem(7);
    let put = |doc: &mut ServerDoc, key: &str, n: i64| {
        doc.edit(|d| d.put(ROOT, key, n)).expect("edits");
        doc.save(&*store, 1_000, None).expect("saves");
    };
    let int = |doc: &AutoCommit, key: &str| match doc.get(ROOT, key) {
        Ok(Some((automerge::Value::Scalar(v), _))) => v.as_i64(),
        _ => None,
    };
    let mut a = ServerDoc::born::<Problem>(&id).expect("born");
    put(&mut a, "a", 0);
    for round in 1..(3 * zonepatrol_shared::docs::COMPACT_AT as i64) {
        // The other copy, read now, writes over it.
        let mut b = ServerDoc::open::<Problem>(&*store, &id).expect("opens");
        put(&mut b, "b", round);
        let whole = store.doc(&id).expect("reads").expect("stored");
        if let Some(tail) = store.doc_tail(&id, 0).expect("reads") {
            assert_eq!(
                tail.bytes, whole.bytes,
                "every chunk from the first, round {round}"
            );
            assert_eq!(tail.heads, whole.heads, "the heads, round {round}");
            assert_eq!(tail.chunks, whole.chunks, "the chunk count, round {round}");
        }
        a.catch_up::<Problem>(&*store).expect("catches up");
        assert_eq!(
            sorted(a.doc().clone().get_heads()),
            sorted(whole.heads.clone()),
            "the copy holds what is stored, round {round}"
        );
        assert_eq!(int(a.doc(), "b"), Some(round), "round {round}");
        put(&mut a, "a", round);
        let stored = store.doc(&id).expect("reads").expect("stored");
        let loaded = stored.load().expect("what both wrote loads");
        assert_eq!(int(&loaded, "a"), Some(round), "round {round}");
        assert_eq!(int(&loaded, "b"), Some(round), "round {round}");
        // Caught up with nothing new: unchanged.
        a.catch_up::<Problem>(&*store).expect("catches up");
        assert_eq!(
            sorted(a.doc().clone().get_heads()),
            sorted(stored.heads),
            "round {round}"
        );
    }
}

/// A process killed in the middle of writing leaves an engine that opens, in which every
/// document listed loads whole with the heads recorded for it, and what was flushed is kept.
/// `test` is the name of the test that calls this, which the child runs.
pub fn crash_safe_batch(open: Open<'_>, dir: &Path, test: &str) {
    if let Some(child_dir) = std::env::var_os(CRASH_CHILD) {
        write_until_killed(open, Path::new(&child_dir));
    }
    for round in 0..3 {
        // Each round a store of its own: a child writes documents born anew, whose histories
        // would not follow on from an earlier round's under the same ids.
        let dir = &dir.join(format!("round-{round}"));
        let mut child = Command::new(std::env::current_exe().expect("the test binary"))
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CRASH_CHILD, dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the child starts");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        loop {
            line.clear();
            let read = std::io::BufRead::read_line(&mut out, &mut line).expect("reads");
            assert!(read > 0, "the child stopped before writing (round {round})");
            if line.contains("writing") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(150 + 120 * round));
        child.kill().expect("killed");
        child.wait().expect("reaped");
        let store = reopen(open, dir);
        let listed = store.changed_after(0, 1000).expect("lists");
        // The child wrote every one of its documents and flushed before it said "writing":
        // each is listed once, at its last write, whatever the kill cut.
        let ids: std::collections::BTreeSet<DocId> =
            listed.iter().map(|(_, id)| id.clone()).collect();
        let written: std::collections::BTreeSet<DocId> = (0..CHILD_DOCS).map(problem).collect();
        assert_eq!(
            ids, written,
            "every document once in the index (round {round})"
        );
        assert_eq!(
            listed.len(),
            CHILD_DOCS,
            "no document twice (round {round})"
        );
        let last = store.last_seq().expect("seq");
        let records: std::collections::HashMap<DocId, Vec<u8>> =
            store.facts_records().expect("reads").into_iter().collect();
        for (seq, id) in listed {
            assert!(seq <= last, "{id} at {seq}, past the last number {last}");
            let stored = store
                .doc(&id)
                .expect("reads")
                .expect("a listed document is kept");
            let mut loaded = AutoCommit::load(&stored.bytes)
                .unwrap_or_else(|e| panic!("{id} does not load after a crash: {e}"));
            assert_eq!(
                sorted(loaded.get_heads()),
                sorted(stored.heads.clone()),
                "{id}: chunks and heads from different writes after a crash"
            );
            assert_eq!(
                records.get(&id),
                Some(&facts_of(&stored.heads)),
                "{id}: its facts record and its chunks from different writes after a crash"
            );
            assert_eq!(
                store.heads_at(&id, seq).expect("reads"),
                Some(stored.heads),
                "{id}: its history ends at its last write"
            );
        }
    }
}

/// One test per conformance check for an engine: give it a closure that opens the engine on
/// a directory. Call it inside its own module; the calling crate needs `tempfile`.
#[macro_export]
macro_rules! storage_conformance {
    ($open:expr) => {
        $crate::storage_conformance!($open, || true);
    };
    // `$available`: whether the engine can be reached here; each check passes over it when not
    // (a server engine that is not installed), having said so.
    ($open:expr, $available:expr) => {
        fn open_engine(dir: &::std::path::Path) -> Box<dyn $crate::store::Storage> {
            Box::new(($open)(dir))
        }

        fn run(check: fn($crate::store::conformance::Open<'_>, &::std::path::Path)) {
            if !($available)() {
                return;
            }
            let dir = tempfile::tempdir().expect("a directory");
            check(&open_engine, dir.path());
        }

        #[test]
        fn write_and_read_back() {
            run($crate::store::conformance::write_and_read_back);
        }

        #[test]
        fn facts_records() {
            run($crate::store::conformance::facts_records);
        }

        #[test]
        fn cursor_order() {
            run($crate::store::conformance::cursor_order);
        }

        #[test]
        fn log_chain() {
            run($crate::store::conformance::log_chain);
        }

        #[test]
        fn devices_and_server_key() {
            run($crate::store::conformance::devices_and_server_key);
        }

        #[test]
        fn heads_history() {
            run($crate::store::conformance::heads_history);
        }

        #[test]
        fn actor_claims() {
            run($crate::store::conformance::actor_claims);
        }

        #[test]
        fn refused_records() {
            run($crate::store::conformance::refused_records);
        }

        #[test]
        fn users() {
            run($crate::store::conformance::users);
        }

        #[test]
        fn tokens() {
            run($crate::store::conformance::tokens);
        }

        #[test]
        fn activity_records() {
            run($crate::store::conformance::activity_records);
        }

        #[test]
        fn blob_records() {
            run($crate::store::conformance::blob_records);
        }

        #[test]
        fn durable_after_flush() {
            run($crate::store::conformance::durable_after_flush);
        }

        #[test]
        fn reads_never_see_half_a_write() {
            run($crate::store::conformance::reads_never_see_half_a_write);
        }

        #[test]
        fn copies_catch_up() {
            run($crate::store::conformance::copies_catch_up);
        }

        #[test]
        fn crash_safe_batch() {
            if !($available)() {
                return;
            }
            let dir = tempfile::tempdir().expect("a directory");
            let path = module_path!();
            let test = path.split_once("::").map_or(path, |(_, rest)| rest);
            $crate::store::conformance::crash_safe_batch(
                &open_engine,
                dir.path(),
                &format!("{test}::crash_safe_batch"),
            );
        }
    };
}
