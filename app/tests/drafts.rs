//! Drafts on a real sled store: each form's draft survives the app killed with SIGKILL (a real
//! process, killed mid-work), comes back to its own user only, and a discarded draft takes
//! its photos with it; collection removes photos nothing holds and never one a document, a
//! draft or a refused edit still holds.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use zonepatrol_app::photo::{PhotoSettings, process};
use zonepatrol_app::records::draft::{self, CleanupBody, FixBody, Form, RaiseBody, ScoreBody};
use zonepatrol_app::store::{Jpeg, PhotoRecord, Processed, Repo};
use zonepatrol_shared::docs::marks::keyed;
use zonepatrol_shared::docs::{DocId, MarkKind, Marks, PhotoMark, Problem};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Points, Severity};

const PHOTO: &str = "../tests/fixtures/photos/phone-12mp.jpg";
/// Set in the child process: the store it writes its drafts to.
const CHILD: &str = "ZONEPATROL_DRAFT_CHILD";

fn month() -> Period {
    Period::containing(PeriodKind::Month, "2026-11-15".parse().expect("day"))
}

/// The four forms, each with what a person typed into it.
fn forms() -> (
    Form,
    RaiseBody,
    Form,
    FixBody,
    Form,
    CleanupBody,
    Form,
    ScoreBody,
) {
    (
        Form::Raise {
            patrol: "p1".into(),
            zone: "z1".into(),
            item: Some("i1".into()),
        },
        RaiseBody {
            description: "电缆吊挂不规范，第三架".into(),
            severity: Some(Severity::Major),
            responsible: "h1".into(),
            measure: "重新吊挂".into(),
            deadline: "2026-11-23".into(),
        },
        Form::Fix {
            problem: "20261120-abc".into(),
        },
        FixBody {
            note: "已重新吊挂并绑扎".into(),
        },
        Form::Cleanup,
        CleanupBody {
            zone: "z1".into(),
            team: "综采一班".into(),
            day: "2026-11-20".into(),
            people: vec!["h1".into(), "h2".into()],
            extra: 3,
            items: vec![("清理浮煤".into(), "2.5".into(), "吨".into())],
            note: "交班前完成".into(),
            after: Vec::new(),
        },
        Form::Score {
            assess: false,
            zone: "z1".into(),
            month: month(),
        },
        ScoreBody {
            values: [("i1".to_owned(), Points::whole(8))].into(),
            note: "电缆已整改".into(),
        },
    )
}

/// No marks on any photo.
const NONE: BTreeMap<String, Marks> = BTreeMap::new();

/// A circle and a label on the photo `hash`.
fn marked(hash: &str) -> BTreeMap<String, Marks> {
    let circle = PhotoMark {
        kind: MarkKind::Circle,
        x1: 100,
        y1: 200,
        x2: 300,
        y2: 400,
        text: String::new(),
    };
    let label = PhotoMark {
        kind: MarkKind::Label,
        x1: 500,
        y1: 500,
        text: "漏点".into(),
        ..Default::default()
    };
    [(hash.to_owned(), keyed([circle, label]))].into()
}

/// In the child: a real photo on each form with text, as the screens keep them; then it
/// says so and waits to be killed.
#[test]
fn draft_child() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let repo = Repo::open(Path::new(&dir)).expect("open");
    let bytes = std::fs::read(PHOTO).expect("fixture photo");
    let photo = repo
        .add_photo(&process(&bytes, &PhotoSettings::default()).expect("process"))
        .expect("store photo");
    let photos = std::slice::from_ref(&photo);
    let (raise, raise_body, fix, fix_body, cleanup, mut cleanup_body, score, score_body) = forms();
    let marks = marked(&photo.hash);
    draft::save(&repo, "h1", &raise, &raise_body, photos, &marks).expect("raise");
    draft::save(&repo, "h1", &fix, &fix_body, photos, &NONE).expect("fix");
    cleanup_body.after = vec![photo.hash.clone()];
    draft::save(&repo, "h1", &cleanup, &cleanup_body, photos, &NONE).expect("cleanup");
    draft::save(&repo, "h1", &score, &score_body, &[], &NONE).expect("score");
    println!("kept {}", photo.hash);
    // Long enough to be killed; not forever, should the parent be gone.
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn each_form_s_draft_survives_the_app_killed() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // Under an emulator (the aarch64 tests under qemu) the child runs under it too.
    let me = std::env::current_exe().expect("this test");
    let runner = std::env::var("ZONEPATROL_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(&me);
            c
        }
        None => Command::new(&me),
    };
    let mut child = command
        .args(["--exact", "draft_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child");
    let mut said = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    // The test harness may print the test's name on the same line first.
    while !said.contains("kept ") {
        said.clear();
        assert!(
            out.read_line(&mut said).expect("read") > 0,
            "the child ended"
        );
    }
    let hash = said
        .trim()
        .rsplit("kept ")
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(hash.len(), 64, "{said}");
    // SIGKILL: no destructor, no flush on the way out.
    child.kill().expect("kill");
    child.wait().expect("reaped");

    let repo = reopen(dir.path());
    let (raise, raise_body, fix, fix_body, cleanup, mut cleanup_body, score, score_body) = forms();
    cleanup_body.after = vec![hash.clone()];
    let got = draft::load::<RaiseBody>(&repo, "h1", &raise)
        .expect("read")
        .expect("the raise draft");
    assert_eq!(got.body, raise_body);
    assert_eq!(hashes(&got.photos), vec![hash.clone()]);
    assert_eq!(got.marks, marked(&hash), "the marks drawn on the photo");
    assert!(repo.blob_path(&hash).exists(), "the photo's file");
    assert!(
        repo.blob_path(&got.photos[0].thumb).exists(),
        "its thumbnail"
    );
    let got = draft::load::<FixBody>(&repo, "h1", &fix)
        .expect("read")
        .expect("fix");
    assert_eq!(
        (got.body, hashes(&got.photos)),
        (fix_body, vec![hash.clone()])
    );
    let got = draft::load::<CleanupBody>(&repo, "h1", &cleanup)
        .expect("read")
        .expect("cleanup");
    assert_eq!(
        (got.body, hashes(&got.photos)),
        (cleanup_body, vec![hash.clone()])
    );
    let got = draft::load::<ScoreBody>(&repo, "h1", &score)
        .expect("read")
        .expect("score");
    assert_eq!(got.body, score_body);

    // They are h1's own: another user on the phone has none.
    assert!(
        draft::load::<RaiseBody>(&repo, "h2", &raise)
            .expect("read")
            .is_none()
    );
    assert!(repo.drafts("h2").expect("drafts").is_empty());
    assert_eq!(repo.drafts("h1").expect("drafts").len(), 4);

    // Submitted, a draft goes and its photo stays (the record holds it now).
    draft::finish(&repo, "h1", &fix).expect("finish");
    assert!(
        draft::load::<FixBody>(&repo, "h1", &fix)
            .expect("read")
            .is_none()
    );
    assert!(repo.photo(&hash).expect("read").is_some());
    // A draft never goes to the server: nothing of it waits to be sent but its photo.
    assert!(
        repo.outgoing("h1", usize::MAX)
            .expect("outgoing")
            .is_empty()
    );
}

/// Sled lets go of its file lock from its flusher thread shortly after the last handle is
/// dropped; after a kill the lock is free at once, but a reopen in this process may wait.
fn reopen(path: &Path) -> Repo {
    for _ in 0..50 {
        match Repo::open(path) {
            Ok(repo) => return repo,
            Err(e) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("reopen: {e}"),
        }
    }
    panic!("the store stayed locked")
}

fn hashes(photos: &[PhotoRecord]) -> Vec<String> {
    photos.iter().map(|p| p.hash.clone()).collect()
}

/// A small distinct photo, stored as the pipeline would (the store does not look inside).
fn stored(repo: &Repo, n: u8) -> PhotoRecord {
    let jpeg = |tag: u8| Jpeg {
        bytes: vec![0xff, 0xd8, n, tag, 0xff, 0xd9],
        width: 4,
        height: 3,
    };
    repo.add_photo(&Processed {
        full: jpeg(1),
        thumb: jpeg(2),
        taken_at: None,
    })
    .expect("store photo")
}

fn on_phone(repo: &Repo, p: &PhotoRecord) -> bool {
    repo.blob_path(&p.hash).exists()
        && repo.blob_path(&p.thumb).exists()
        && repo.photo(&p.hash).expect("read").is_some()
}

#[test]
fn a_discarded_draft_takes_its_photos_and_collection_keeps_whatever_is_held() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repo::open(dir.path()).expect("open");
    let (raise, raise_body, fix, fix_body, ..) = forms();
    // p1 on the raise draft; p2 on the fix draft and also on a document; p3 on a document
    // alone; p4 on nothing (a photo whose form was never kept).
    let [p1, p2, p3, p4] = [1, 2, 3, 4].map(|n| stored(&repo, n));
    draft::save(
        &repo,
        "h1",
        &raise,
        &raise_body,
        std::slice::from_ref(&p1),
        &NONE,
    )
    .expect("raise");
    draft::save(
        &repo,
        "h1",
        &fix,
        &fix_body,
        std::slice::from_ref(&p2),
        &NONE,
    )
    .expect("fix");
    let id = DocId::problem("b1", "20261120-abc");
    repo.edit::<Problem, _>(&id, |p| {
        p.finding.description = "电缆吊挂不规范".into();
        for photo in [&p2, &p3] {
            p.finding
                .photos
                .insert(photo.hash.clone(), photo.reference());
        }
    })
    .expect("a problem with two photos");

    // Within the grace period nothing goes, not even p4.
    assert_eq!(
        repo.collect_photos(Duration::from_secs(3600))
            .expect("collect"),
        0
    );
    assert!(on_phone(&repo, &p4));
    // Past it, p4 goes — both its files, its record and its place in the outbox — and
    // nothing else does.
    assert_eq!(repo.collect_photos(Duration::ZERO).expect("collect"), 2);
    assert!(!repo.blob_path(&p4.hash).exists() && !repo.blob_path(&p4.thumb).exists());
    assert!(repo.photo(&p4.hash).expect("read").is_none());
    let outbox: Vec<String> = repo
        .outbox()
        .expect("outbox")
        .into_iter()
        .map(|o| o.hash)
        .collect();
    assert!(
        !outbox.contains(&p4.hash) && !outbox.contains(&p4.thumb),
        "{outbox:?}"
    );
    for p in [&p1, &p2, &p3] {
        assert!(on_phone(&repo, p), "{p:?}");
    }

    // Discarding the raise draft takes p1; discarding the fix draft leaves p2, which the
    // problem holds.
    draft::discard(&repo, "h1", &raise).expect("discard");
    assert!(!on_phone(&repo, &p1) && !repo.blob_path(&p1.thumb).exists());
    draft::discard(&repo, "h1", &fix).expect("discard");
    assert!(on_phone(&repo, &p2) && on_phone(&repo, &p3));
    assert!(repo.drafts("h1").expect("drafts").is_empty());
    assert_eq!(repo.collect_photos(Duration::ZERO).expect("collect"), 0);
    assert!(on_phone(&repo, &p2) && on_phone(&repo, &p3));

    // A photo taken off a form goes at once; one the problem also holds stays.
    let p5 = stored(&repo, 5);
    draft::save(
        &repo,
        "h1",
        &raise,
        &raise_body,
        &[p5.clone(), p2.clone()],
        &marked(&p5.hash),
    )
    .expect("raise");
    let held = draft::load::<RaiseBody>(&repo, "h1", &raise)
        .expect("read")
        .expect("kept");
    assert_eq!(held.marks, marked(&p5.hash));
    // Only the marks of photos the draft holds are kept.
    draft::save(
        &repo,
        "h1",
        &raise,
        &raise_body,
        std::slice::from_ref(&p2),
        &marked(&p5.hash),
    )
    .expect("p5 taken off");
    let held = draft::load::<RaiseBody>(&repo, "h1", &raise)
        .expect("read")
        .expect("kept");
    assert!(held.marks.is_empty(), "{:?}", held.marks);
    draft::save(&repo, "h1", &raise, &raise_body, &[], &NONE).expect("both taken off");
    assert_eq!(
        repo.release_photos(&[p5.hash.clone(), p2.hash.clone()])
            .expect("release"),
        2
    );
    assert!(!on_phone(&repo, &p5) && on_phone(&repo, &p2));
}
