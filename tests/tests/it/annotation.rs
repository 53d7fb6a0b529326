//! Marks on a problem's photos over real HTTP: the secretary circles, points at and names the
//! defect on the phone; the marks travel as a vector overlay in the document (the photo's bytes
//! are untouched); the holder's phone shows them beside the fix; the dashboard draws them over
//! the photo and the printable rectification notice embeds the photo with them. A phone that
//! sends marks off the photo, too many or a label too long is refused, and words in a label
//! are shown, never run.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::Digest;
use zonepatrol_app::photo::{self, PhotoSettings};
use zonepatrol_app::records::RecordError;
use zonepatrol_app::records::problem::{self as records, ProblemInput};
use zonepatrol_app::store::StoreError;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_shared::docs::marks::keyed;
use zonepatrol_shared::docs::{MarkKind, Marks, PhotoMark, Problem};
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{Actor, Role, Severity};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, id, raise, today};

const PHOTO: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp-orient6.jpg");

fn defect() -> Marks {
    keyed([
        PhotoMark::new(MarkKind::Circle, (300, 400), (520, 610), ""),
        PhotoMark::new(MarkKind::Arrow, (80, 100), (290, 390), ""),
        PhotoMark::new(MarkKind::Label, (60, 80), (0, 0), "托辊<缺失>"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_drawn_on_the_phone_reach_the_holder_the_dashboard_and_the_printed_notice() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::new(url, "sec").await;
    let holder = Device::new(url, "h2").await;
    sec.sync().await;

    // The secretary raises the problem with a photo and marks the defect on it.
    let before = photo::import(
        Arc::clone(&sec.repo),
        PHOTO.to_vec(),
        PhotoSettings::default(),
    )
    .await
    .expect("photo");
    assert!(before.width > 0 && before.height > 0);
    let marks: BTreeMap<String, Marks> = [(before.hash.clone(), defect())].into();
    let me = Actor::new("sec", Role::Secretary, "zcyd");
    let name = records::raise_problem(
        &sec.repo,
        &me,
        &ProblemInput {
            zone: "z2".into(),
            patrol: None,
            item: None,
            description: "皮带机托辊缺失".into(),
            severity: Severity::General,
            responsible: "h2".into(),
            measure: "补齐托辊".into(),
            deadline: today().checked_add_days(chrono::Days::new(3)),
            photos: vec![before.clone()],
            marks,
        },
        today(),
    )
    .expect("raised");
    let progress = sec.sync().await;
    assert_eq!(progress.refused, 0, "{:?}", sec.repo.quarantine());

    // The photo's bytes are the camera's, unmarked: the marks live in the document.
    let stored =
        std::fs::read(sec.repo.photo_file(&before.hash).expect("on the phone")).expect("read");
    assert_eq!(hex::encode(sha2::Sha256::digest(&stored)), before.hash);

    // The holder's phone has the marks with the photo, for the fix screen.
    holder.sync().await;
    let h2 = Actor::new("h2", Role::ZoneHolder, "zcyd");
    let row = records::my_problem(&holder.repo, &h2, &name, today()).expect("on the list");
    assert_eq!(row.thumbs.len(), 1);
    assert_eq!(row.thumbs[0].marks, defect());
    assert_eq!(
        (row.thumbs[0].width, row.thumbs[0].height),
        (before.width, before.height)
    );
    // The holder fixes it and marks the new roller on the after-photo.
    let after = photo::import(
        Arc::clone(&holder.repo),
        PHOTO.to_vec(),
        PhotoSettings {
            long_edge: 1200,
            ..PhotoSettings::default()
        },
    )
    .await
    .expect("photo");
    let fixed = keyed([PhotoMark::new(MarkKind::Circle, (400, 400), (600, 600), "")]);
    records::rectify_marked(
        &holder.repo,
        &h2,
        &name,
        "已补齐",
        std::slice::from_ref(&after),
        &[(after.hash.clone(), fixed.clone())].into(),
    )
    .expect("fixed");
    assert_eq!(holder.sync().await.refused, 0);
    let kept = holder
        .repo
        .read::<Problem>(&id(&format!("problem:zcyd:{name}")))
        .expect("read")
        .expect("there");
    let fix = kept.fixes().next().expect("the fix").1;
    assert_eq!(fix.photos[&after.hash].marks, fixed);

    // The dashboard draws the marks over each photo, the label's words as text.
    let browser = Browser::sign_in(url, "mgr", DEMO_PASSWORD)
        .await
        .expect("signed in");
    let page = browser.page(&format!("/dash/problem/zcyd/{name}")).await;
    assert_eq!(page.matches(r#"class="marks""#).count(), 2, "{page}");
    assert!(page.contains("托辊&lt;缺失&gt;"), "{page}");
    assert!(!page.contains("<缺失>"), "{page}");
    assert!(page.contains("<ellipse"), "{page}");
    assert!(page.contains(&format!("/dash/export/problem/zcyd/{name}")));

    // The printed notice embeds both photos with their marks.
    let (code, bytes) = browser
        .get(&format!("/dash/export/problem/zcyd/{name}"))
        .await;
    assert_eq!(code, reqwest::StatusCode::OK);
    let svg = String::from_utf8(bytes).expect("text");
    assert!(svg.starts_with("<?xml"), "{}", &svg[..200.min(svg.len())]);
    assert_eq!(svg.matches("<image ").count(), 2, "both photos");
    assert!(svg.contains("data:image/jpeg;base64,"));
    assert_eq!(svg.matches(r#"class="marks""#).count(), 2);
    assert!(svg.contains("托辊&lt;缺失&gt;"));
    assert!(svg.contains("补齐托辊") && svg.contains("已补齐"));
    // Only for those who may see the branch.
    let other = Browser::sign_in(url, "sec2", DEMO_PASSWORD)
        .await
        .expect("signed in");
    let (code, _) = other
        .get(&format!("/dash/export/problem/zcyd/{name}"))
        .await;
    assert_eq!(
        code,
        reqwest::StatusCode::FORBIDDEN,
        "another branch's secretary"
    );
    // The photo the server serves is the camera's, unmarked.
    let (code, served) = browser
        .get(&format!("/dash/photo/zcyd/{}", before.hash))
        .await;
    assert_eq!(code, reqwest::StatusCode::OK);
    assert_eq!(served, stored);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_off_the_photo_too_many_or_too_long_are_refused_with_words() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::new(url, "sec").await;
    sec.sync().await;
    let photo = photo::import(
        Arc::clone(&sec.repo),
        PHOTO.to_vec(),
        PhotoSettings::default(),
    )
    .await
    .expect("photo");
    let me = Actor::new("sec", Role::Secretary, "zcyd");
    let input = |marks: Marks| ProblemInput {
        zone: "z2".into(),
        patrol: None,
        item: None,
        description: "电缆吊挂不规范".into(),
        severity: Severity::General,
        responsible: "h2".into(),
        measure: String::new(),
        deadline: Some(today()),
        photos: vec![photo.clone()],
        marks: [(photo.hash.clone(), marks)].into(),
    };
    let bad: [(Marks, &str); 3] = [
        (
            keyed([PhotoMark::new(MarkKind::Circle, (10, 10), (1400, 500), "")]),
            "outside its photo",
        ),
        (
            keyed((0..21).map(|i| PhotoMark::new(MarkKind::Circle, (i, i), (i + 50, i + 50), ""))),
            "at most 20 marks",
        ),
        (
            keyed([PhotoMark::new(
                MarkKind::Label,
                (10, 10),
                (0, 0),
                &"长".repeat(21),
            )]),
            "at most 20 characters",
        ),
    ];
    for (n, (marks, why)) in bad.into_iter().enumerate() {
        // The phone refuses them itself, and keeps nothing.
        let refused = records::raise_problem(&sec.repo, &me, &input(marks.clone()), today());
        match refused {
            Err(RecordError::Store(StoreError::Refused(r))) => {
                assert_eq!(r.code, RefusalCode::OutOfRange, "{why}");
                assert!(r.reason.contains(why), "{why}: {r}");
            }
            other => panic!("{why}: the phone took it: {other:?}"),
        }
        // A phone that writes them anyway is refused by the server, in words.
        let problem = format!("problem:zcyd:hostile{n}");
        raise(&sec, &problem, "sec", "z2", "h2");
        sec.repo
            .edit::<Problem, _>(&id(&problem), |p| {
                let mut r = photo.reference();
                r.marks = marks.clone();
                p.finding.photos.insert(photo.hash.clone(), r);
            })
            .expect("written on the phone");
        let progress = sec.sync().await;
        assert_eq!(progress.refused, 1, "{why}");
        let refusal = &sec.repo.quarantine().expect("quarantine")[0].refusal;
        assert_eq!(refusal.code, RefusalCode::OutOfRange, "{why}");
        assert!(
            refusal.reason.contains("marks on a photo"),
            "{why}: {refusal}"
        );
        assert!(refusal.reason.contains(why), "{why}: {refusal}");
        let key = sec.repo.quarantine().expect("quarantine")[0].key;
        sec.repo.dismiss(key).expect("dismissed");
    }
    // The same photo with good marks goes through.
    let name = records::raise_problem(&sec.repo, &me, &input(defect()), today()).expect("raised");
    assert_eq!(sec.sync().await.refused, 0);
    assert!(
        sec.repo
            .read::<Problem>(&id(&format!("problem:zcyd:{name}")))
            .expect("read")
            .is_some()
    );
    server.stop().await;
}
