//! A phone shared by several people: signing in offline with what the phone keeps of each
//! person, each person's own actor and cursor, what each may see, and a refusal that touches
//! only the refused person's edits — real sled, no server (the server's side is in the
//! end-to-end tests).

use std::collections::BTreeMap;

use automerge::AutoCommit;
use zonepatrol_app::store::{Incoming, Repo, Session, Unlock, now_millis};
use zonepatrol_shared::docs::{DocId, Patrol, Sheet};
use zonepatrol_shared::protocol::{b64, heads_from_hex};
use zonepatrol_shared::validate::{Refusal, RefusalCode};
use zonepatrol_shared::{Actor, Role};

const SERVER: &str = "http://10.0.0.2:8080";

fn session(user: &str, role: Role) -> Session {
    Session {
        server: SERVER.into(),
        token: format!("token of {user}"),
        user: Actor::new(user, role, "b1"),
        time_zone: zonepatrol_shared::protocol::default_time_zone(),
        server_key: None,
    }
}

fn phone() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repo::open(dir.path()).expect("open");
    (dir, repo)
}

#[test]
fn a_person_signs_in_offline_with_the_password_the_server_last_took_and_guessing_is_slowed() {
    let (_dir, repo) = phone();
    // Nobody has signed in here: the phone cannot check anyone.
    assert!(matches!(
        repo.sign_in_offline(SERVER, "zhao", "pw", now_millis()),
        Err(Unlock::Unknown(_))
    ));
    repo.set_session(&session("zhao", Role::Inspector))
        .expect("online sign-in");
    repo.remember_password("zhao", "right horse").expect("kept");
    let kept = format!("{:?}", repo.account("zhao").expect("read"));
    assert!(!kept.contains("right horse"), "never the password itself");
    repo.park_session().expect("handed over");
    // The phone's clock from here on: never before the sign-in that kept the password.
    let now = now_millis();

    // The right password opens, with the token Zhao kept (he did not sign out).
    let s = repo
        .sign_in_offline(SERVER, "zhao", "right horse", now)
        .expect("opens");
    assert_eq!(s.token, "token of zhao");
    assert_eq!(repo.session().expect("read"), Some(s));
    repo.park_session().expect("handed over");

    // Another server's address does not open it.
    assert!(matches!(
        repo.sign_in_offline("http://evil:8080", "zhao", "right horse", now),
        Err(Unlock::OtherServer { .. })
    ));
    // Wrong passwords: four tries say how many are left, the fifth makes the next wait, and
    // while it lasts not even the right password opens.
    for left in (1..=4).rev() {
        assert!(matches!(
            repo.sign_in_offline(SERVER, "zhao", "guess", now),
            Err(Unlock::Wrong { left: l }) if l == left
        ));
    }
    assert!(matches!(
        repo.sign_in_offline(SERVER, "zhao", "guess", now),
        Err(Unlock::Wait { seconds: 30 })
    ));
    assert!(matches!(
        repo.sign_in_offline(SERVER, "zhao", "right horse", now + 10_000),
        Err(Unlock::Wait { seconds: 20 })
    ));
    // One more wrong after the wait doubles it.
    assert!(matches!(
        repo.sign_in_offline(SERVER, "zhao", "guess", now + 31_000),
        Err(Unlock::Wait { seconds: 60 })
    ));
    repo.sign_in_offline(SERVER, "zhao", "right horse", now + 92_000)
        .expect("opens after the wait");

    // Signed out, the token is gone and the password still opens the phone offline: the work
    // waits for an online sign-in.
    repo.clear_session().expect("signed out");
    let s = repo
        .sign_in_offline(SERVER, "zhao", "right horse", now + 93_000)
        .expect("opens");
    assert!(s.token.is_empty());
    // A month without the server checking the password, and it no longer opens.
    repo.park_session().expect("handed over");
    let month = 31 * 24 * 3600 * 1000;
    assert!(matches!(
        repo.sign_in_offline(SERVER, "zhao", "right horse", now + month),
        Err(Unlock::TooOld)
    ));
}

fn patrol_id() -> DocId {
    "patrol:b1:p1".parse().expect("id")
}

fn sheet_id(inspector: &str) -> DocId {
    format!("sheet:b1:p1:{inspector}").parse().expect("id")
}

/// The server takes in everything of `user`'s that is waiting.
fn accept(repo: &Repo, user: &str) {
    let pushes = repo.outgoing(user, usize::MAX).expect("outgoing");
    let acks: Vec<(String, Vec<String>)> = pushes.into_iter().map(|p| (p.id, p.have)).collect();
    let incoming: Vec<Incoming<'_>> = acks
        .iter()
        .map(|(id, have)| Incoming {
            id,
            heads: have,
            changes: "",
        })
        .collect();
    repo.take_in(user, &incoming, Some(1)).expect("taken in");
}

/// The actors of a push's changes, read on top of the state the push builds on.
fn actors_of(repo: &Repo, push: &zonepatrol_shared::protocol::Push) -> Vec<automerge::ActorId> {
    let base = heads_from_hex(&push.base).expect("heads");
    let mut doc = match repo.load(&push.id).expect("load") {
        Some(mut doc) if !base.is_empty() => doc.fork_at(&base).expect("base"),
        _ => AutoCommit::new(),
    };
    doc.load_incremental(&b64::decode(&push.changes).expect("base64"))
        .expect("loads");
    assert!(doc.get_missing_deps(&[]).is_empty(), "the push is whole");
    doc.get_changes(&base)
        .iter()
        .map(|c| c.actor_id().clone())
        .collect()
}

#[test]
fn each_person_sends_their_own_edits_sees_only_theirs_and_a_refusal_takes_only_the_refused() {
    let (_dir, repo) = phone();
    let sec = session("sec", Role::Secretary);
    let zhao = session("zhao", Role::Inspector);

    // The secretary plans; the server has it.
    repo.set_session(&sec).expect("sec");
    let sec_actor = repo.actor().expect("actor");
    repo.edit::<Patrol, _>(&patrol_id(), |p| {
        p.plan.leader = "sec".into();
    })
    .expect("planned");
    accept(&repo, "sec");
    assert!(!repo.has_unsent().expect("unsent"));

    // Zhao takes the phone and scores his own sheet.
    repo.set_session(&zhao).expect("zhao");
    let zhao_actor = repo.actor().expect("actor");
    assert_ne!(zhao_actor, sec_actor);
    repo.edit::<Sheet, _>(&sheet_id("zhao"), |s| {
        s.zones.insert("z1".into(), Default::default());
    })
    .expect("scored");
    // The secretary is back: she does not see Zhao's sheet and has none of it to send; Zhao
    // has it all.
    repo.set_session(&sec).expect("sec");
    assert!(
        repo.read::<Sheet>(&sheet_id("zhao"))
            .expect("read")
            .is_none()
    );
    assert!(repo.summaries("sheet:").expect("list").is_empty());
    assert!(repo.outgoing("sec", usize::MAX).expect("out").is_empty());
    let zhao_out = repo.outgoing("zhao", usize::MAX).expect("out");
    assert_eq!(zhao_out.len(), 1);
    assert!(
        actors_of(&repo, &zhao_out[0]).contains(&zhao_actor),
        "his sheet goes as his"
    );
    assert!(!actors_of(&repo, &zhao_out[0]).contains(&sec_actor));

    // The secretary adds a zone to the plan, then Zhao adds one on top of hers.
    repo.edit::<Patrol, _>(&patrol_id(), |p| {
        p.plan.zones.insert("z1".into(), 1);
    })
    .expect("sec's edit");
    repo.set_session(&zhao).expect("zhao");
    repo.edit::<Patrol, _>(&patrol_id(), |p| {
        p.plan.zones.insert("z2".into(), 2);
    })
    .expect("zhao's edit");
    // Zhao's edit builds on hers: it waits until hers is sent.
    assert!(
        !repo
            .outgoing("zhao", usize::MAX)
            .expect("out")
            .iter()
            .any(|p| p.id == "patrol:b1:p1")
    );
    let sec_push = repo
        .outgoing("sec", usize::MAX)
        .expect("out")
        .into_iter()
        .find(|p| p.id == "patrol:b1:p1")
        .expect("hers goes");
    assert_eq!(actors_of(&repo, &sec_push), vec![sec_actor.clone()]);

    // The server refuses hers: it is hers to see; Zhao's edit on top of it is not lost but
    // waits to be made again as his own.
    let refusal = Refusal {
        code: RefusalCode::NotWriter,
        part: "plan".into(),
        reason: "test".into(),
    };
    repo.refused(
        "sec",
        "patrol:b1:p1",
        &sec_push.base,
        &refusal,
        Incoming {
            id: "patrol:b1:p1",
            heads: &sec_push.base,
            changes: "",
        },
    )
    .expect("refused");
    assert_eq!(repo.quarantine_of("sec").expect("read").len(), 1);
    assert!(repo.quarantine_of("zhao").expect("read").is_empty());
    let plan = repo
        .read::<Patrol>(&patrol_id())
        .expect("read")
        .expect("doc")
        .plan;
    assert!(plan.zones.is_empty(), "rewound to the server's: {plan:?}");
    // Zhao's sync makes his edit again, alone, with a fresh actor of his own (never a sequence
    // number used twice).
    let zhao_fresh = repo.actor().expect("actor");
    assert_ne!(zhao_fresh, zhao_actor);
    assert!(
        repo.account("zhao")
            .expect("read")
            .expect("his")
            .actor_ids()
            .any(|a| a == zhao_fresh)
    );
    let again = repo
        .outgoing("zhao", usize::MAX)
        .expect("out")
        .into_iter()
        .find(|p| p.id == "patrol:b1:p1")
        .expect("his goes");
    assert_eq!(actors_of(&repo, &again), vec![zhao_fresh]);
    let plan = repo
        .read::<Patrol>(&patrol_id())
        .expect("read")
        .expect("doc")
        .plan;
    assert_eq!(plan.zones, BTreeMap::from([("z2".to_owned(), 2)]));
}
