//! The server's push path on arbitrary bytes: decode (automerge `load_incremental`), apply to
//! a copy of a stored document or to a new one, check actors and the shared validation, and
//! make the write, exactly as `POST /v1/sync` does before it stores anything. Whatever the
//! bytes, the answer is accepted, refused, or a 4xx error: never a panic that escapes, an
//! abort, a hang or unbounded memory. (Panics the server catches, as it catches automerge's on
//! damaged data, are not findings: the target keeps the default hook quiet instead of letting
//! libFuzzer abort at them.)
//!
//! The first byte picks the case: a new problem, a new cleanup, or changes to a stored problem
//! (the demo mine's directory is in the store, so validation runs its full course). Changes
//! that load are signed as the sender's phone signs them (its key registered in the store), so
//! that the checks after the signatures' run too.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zonepatrol_server::store::{SledStore, Storage};
use zonepatrol_shared::docs::{self, Day, DocId, Document, FreeText, Problem};
use zonepatrol_shared::protocol::{Push, b64, heads_to_hex};
use zonepatrol_shared::rules::MineClock;
use zonepatrol_shared::{Actor, Role, Severity};

struct World {
    store: SledStore,
    _dir: std::path::PathBuf,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        // libFuzzer's hook aborts at every panic, even one the server catches (automerge 0.12
        // panics on some damaged data, and the server answers those 400). A panic that escapes
        // the target still aborts: libfuzzer-sys catches the unwinding and aborts.
        std::panic::set_hook(Box::new(|_| {}));
        let dir = std::env::temp_dir().join(format!("zonepatrol-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = SledStore::open(&dir).expect("a store in the temp dir");
        zonepatrol_server::seed::demo_mine(&store).expect("the demo mine");
        // A stored problem to push changes onto.
        let id: DocId = "problem:zcyd:stored".parse().expect("id");
        let mut p = Problem::born(docs::Header::for_id(&id));
        p.finding.zone = "z1".into();
        p.finding.raised_by = "sec".into();
        p.finding.raised_at = 1_795_000_000_000;
        p.finding.description = FreeText::from("托辊缺失");
        p.finding.severity = Severity::Major;
        p.finding.responsible = "h1".into();
        p.finding.deadline = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).map(Day);
        zonepatrol_server::seed::store_server_doc(&store, &p, 1_795_000_000_000)
            .expect("stored problem");
        for user in ["sec", "tl", "h1"] {
            zonepatrol_server::auth::register_device(
                &store,
                &key().id().to_string(),
                "fuzz",
                user,
                1_795_000_000_000,
            )
            .expect("a device");
        }
        World { store, _dir: dir }
    })
}

/// The fuzzing phone's key.
fn key() -> zonepatrol_shared::signing::DeviceKey {
    zonepatrol_shared::signing::DeviceKey::from_seed([42; 32])
}

/// The hashes of the changes `changes` adds to what the store holds of `id`, if they load.
fn new_hashes(store: &SledStore, id: &str, changes: &[u8]) -> Vec<automerge::ChangeHash> {
    let stored = store.doc(&id.parse().expect("an id")).ok().flatten();
    std::panic::catch_unwind(|| {
        let mut doc = match &stored {
            Some(s) => automerge::AutoCommit::load(&s.bytes).ok()?,
            None => automerge::AutoCommit::new(),
        };
        let before = doc.get_heads();
        doc.load_incremental(changes).ok()?;
        Some(doc.get_changes(&before).iter().map(|c| c.hash()).collect())
    })
    .ok()
    .flatten()
    .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Some((&case, changes)) = data.split_first() else {
        return;
    };
    let world = world();
    let (id, user) = match case % 3 {
        0 => ("problem:zcyd:fuzz", "sec"),
        1 => ("cleanup:zcyd:fuzz", "tl"),
        _ => ("problem:zcyd:stored", "h1"),
    };
    let base = match case % 3 {
        2 => world
            .store
            .doc(&id.parse().expect("an id"))
            .ok()
            .flatten()
            .map(|s| heads_to_hex(&s.heads))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let role = match user {
        "sec" => Role::Secretary,
        "tl" => Role::TeamLeader,
        _ => Role::ZoneHolder,
    };
    let actor = Actor::new(user, role, "zcyd");
    let hashes = new_hashes(&world.store, id, changes);
    let push = Push {
        id: id.into(),
        base,
        have: Vec::new(),
        changes: b64::encode(changes),
        signed: vec![key().sign_changes(id, user, &hashes)],
    };
    let _ = zonepatrol_server::check_push(
        &world.store,
        MineClock::default(),
        &actor,
        push,
        2 * 1024 * 1024,
    );
});
