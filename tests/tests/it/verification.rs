//! A problem's loop over real HTTP, each person on their own phone: the secretary raises it,
//! the holder fixes it with a photo, one inspector sends it back with what is still wrong and a
//! later deadline, the holder fixes it again, another inspector verifies it. The server refuses
//! a verification by the one who fixed it and a change to a judgement already on the record,
//! whatever the phone claims; the dashboard shows the whole loop as a timeline.

use std::sync::Arc;

use chrono::Days;
use sha2::Digest;
use zonepatrol_app::photo::{self, PhotoSettings};
use zonepatrol_app::records::problem::{self as records, Judgement};
use zonepatrol_shared::docs::{FreeText, Outcome, Problem, Verification};
use zonepatrol_shared::rules::problem::ProblemStatus;
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{Actor, Role};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, id, raise, today};

const PHOTO: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp-orient6.jpg");
const NAME: &str = "p-loop";
const ID: &str = "problem:zcyd:p-loop";

fn actor(user: &str, role: Role) -> Actor {
    Actor::new(user, role, "zcyd")
}

fn status(device: &Device) -> ProblemStatus {
    device
        .repo
        .read::<Problem>(&id(ID))
        .expect("read")
        .expect("the problem is on the phone")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fix_is_sent_back_fixed_again_and_verified_and_the_dashboard_shows_the_loop() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::new(url, "sec").await;
    let holder = Device::new(url, "h2").await;
    let zhao = Device::new(url, "zhao").await;
    let qian = Device::new(url, "qian").await;
    sec.sync().await;
    raise(&sec, ID, "sec", "z2", "h2");
    sec.sync().await;

    // The holder fixes it with an after-photo.
    holder.sync().await;
    let h2 = actor("h2", Role::ZoneHolder);
    let after = photo::import(
        Arc::clone(&holder.repo),
        PHOTO.to_vec(),
        PhotoSettings::default(),
    )
    .await
    .expect("photo");
    records::rectify(
        &holder.repo,
        &h2,
        NAME,
        "托辊已补齐",
        std::slice::from_ref(&after),
    )
    .expect("fixed");
    holder.sync().await;

    // The holder cannot verify their own fix on the phone, and the server refuses it when a
    // phone writes it anyway.
    assert!(
        records::to_verify(&holder.repo, &h2)
            .expect("list")
            .is_empty()
    );
    let at = zonepatrol_app::store::now_millis() + 1;
    holder
        .repo
        .edit::<Problem, _>(&id(ID), |p| {
            p.verifications.insert(
                format!("h2-{at}"),
                Verification {
                    at,
                    by: "h2".into(),
                    outcome: Outcome::Verified,
                    note: FreeText::from(""),
                    deadline: None,
                    request: None,
                },
            );
        })
        .expect("written on the phone");
    let progress = holder.sync().await;
    assert_eq!(progress.refused, 1);
    let refused = holder.repo.quarantine().expect("quarantine");
    assert_eq!(refused[0].id, ID);
    assert_eq!(refused[0].refusal.code, RefusalCode::NotWriter);
    assert_eq!(status(&holder), ProblemStatus::Rectified, "rewound");

    // Qian sees the fix beside the finding and sends it back with a later deadline.
    qian.sync().await;
    let me = actor("qian", Role::Inspector);
    let waiting = records::to_verify(&qian.repo, &me).expect("list");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].fix_note, "托辊已补齐");
    assert_eq!(waiting[0].fixed_by, "刘师傅", "the holder's name");
    assert_eq!(waiting[0].after, std::slice::from_ref(&after.reference()));
    // The holder's after-photo reached Qian's phone as a thumbnail, checked against its name;
    // the full photo stays on the server.
    let thumb = std::fs::read(qian.repo.blob_path(&after.thumb)).expect("thumbnail fetched");
    assert_eq!(hex::encode(sha2::Sha256::digest(&thumb)), after.thumb);
    assert!(!qian.repo.blob_path(&after.hash).exists());
    assert!(
        qian.repo
            .thumbs_missing("zcyd")
            .expect("missing")
            .is_empty()
    );
    let later = today() + Days::new(5);
    records::judge(
        &qian.repo,
        &me,
        NAME,
        &Judgement::Reopened {
            note: "两组托辊仍缺".into(),
            deadline: Some(later),
        },
        today(),
    )
    .expect("sent back");
    let progress = qian.sync().await;
    assert_eq!(progress.refused, 0, "{:?}", qian.repo.quarantine());
    // Back among the open problems of the overview, linked to its page.
    let browser = Browser::sign_in(url, "mgr", "zonepatrol")
        .await
        .expect("signed in");
    let overview = browser.page("/dash?branch=zcyd").await;
    assert!(
        overview.contains(&format!("/dash/problem/zcyd/{NAME}")),
        "{overview}"
    );

    // A judgement on the record cannot be changed afterwards, even by its author.
    qian.repo
        .edit::<Problem, _>(&id(ID), |p| {
            let v = p.verifications.values_mut().next().expect("the reopening");
            v.note = FreeText::from("其实没问题");
        })
        .expect("written on the phone");
    assert_eq!(qian.sync().await.refused, 1);
    assert_eq!(
        qian.repo.quarantine().expect("quarantine")[0].refusal.code,
        RefusalCode::NotWriter
    );

    // The holder sees what is still wrong and the new deadline, and fixes it again.
    holder.sync().await;
    let back = records::my_problem(&holder.repo, &h2, NAME, today()).expect("on the list");
    assert_eq!(back.status, ProblemStatus::Reopened);
    assert_eq!(back.reopen_note.as_deref(), Some("两组托辊仍缺"));
    assert_eq!(back.deadline, Some(later));
    records::rectify(
        &holder.repo,
        &h2,
        NAME,
        "全部补齐",
        std::slice::from_ref(&after),
    )
    .expect("fixed again");
    holder.sync().await;

    // Zhao verifies the second fix: the problem is closed for everyone.
    zhao.sync().await;
    let me = actor("zhao", Role::Inspector);
    let waiting = records::to_verify(&zhao.repo, &me).expect("list");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].fix_note, "全部补齐", "the latest fix is judged");
    records::judge(&zhao.repo, &me, NAME, &Judgement::Verified, today()).expect("verified");
    assert_eq!(zhao.sync().await.refused, 0);
    sec.sync().await;
    assert_eq!(status(&sec), ProblemStatus::Verified);
    assert!(
        records::to_verify(&sec.repo, &actor("sec", Role::Secretary))
            .expect("list")
            .is_empty()
    );

    // The dashboard: the loop in order, with who, the note of the reopening and its deadline.
    let page = browser.page(&format!("/dash/problem/zcyd/{NAME}")).await;
    let status_at = page.find(r#"id="status""#).expect("status");
    assert!(
        page[status_at..].starts_with(r#"id="status">已销号"#),
        "{page}"
    );
    let timeline = &page[page.find(r#"id="timeline""#).expect("the timeline")..];
    let order: Vec<usize> = [
        r#"class="raised""#,
        "托辊已补齐",
        r#"class="reopened""#,
        "两组托辊仍缺",
        &later.to_string(),
        "全部补齐",
        r#"class="verified""#,
    ]
    .iter()
    .map(|text| {
        timeline
            .find(text)
            .unwrap_or_else(|| panic!("{text} in {page}"))
    })
    .collect();
    assert!(order.is_sorted(), "the loop in order: {order:?}\n{page}");
    for name in ["王书记", "刘师傅", "钱检查", "赵检查"] {
        assert!(page.contains(name), "{name} in {page}");
    }
    assert!(
        !page.contains("其实没问题"),
        "the refused change is not shown"
    );
    let overview = browser.page("/dash?branch=zcyd").await;
    assert!(
        !overview.contains(&format!("/dash/problem/zcyd/{NAME}")),
        "a closed problem is no longer among the open ones"
    );
    // A secretary of another branch does not see it; a problem that does not exist is a 404.
    let other = Browser::sign_in(url, "sec2", "zonepatrol")
        .await
        .expect("signed in");
    let (code, _) = other.get(&format!("/dash/problem/zcyd/{NAME}")).await;
    assert!(code.is_client_error(), "{code}");
    let (code, _) = browser.get("/dash/problem/zcyd/nothing-here").await;
    assert_eq!(code, reqwest::StatusCode::NOT_FOUND);

    // Someone who fixed a problem never verifies it, whatever their roles: an inspector
    // responsible for a problem writes a fix and a verification of it in one edit.
    raise(&sec, "problem:zcyd:p-own", "sec", "z1", "zhao");
    sec.sync().await;
    zhao.sync().await;
    let at = zonepatrol_app::store::now_millis();
    zhao.repo
        .edit::<Problem, _>(&id("problem:zcyd:p-own"), |p| {
            p.rectifications.insert(
                format!("zhao-{at}"),
                zonepatrol_shared::docs::Rectification {
                    at,
                    by: "zhao".into(),
                    note: FreeText::from("已清理"),
                    photos: Default::default(),
                    extension: None,
                },
            );
            p.verifications.insert(
                format!("zhao-{}", at + 1),
                Verification {
                    at: at + 1,
                    by: "zhao".into(),
                    outcome: Outcome::Verified,
                    note: FreeText::from(""),
                    deadline: None,
                    request: None,
                },
            );
        })
        .expect("written on the phone");
    assert_eq!(zhao.sync().await.refused, 1);
    let refused = zhao.repo.quarantine().expect("quarantine");
    let own = refused
        .iter()
        .find(|q| q.id == "problem:zcyd:p-own")
        .expect("refused");
    assert!(
        own.refusal.reason.contains("nobody verifies their own"),
        "{:?}",
        own.refusal
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_time_is_asked_on_one_phone_granted_on_another_and_overdue_follows() {
    use zonepatrol_app::records::extension::{self, MoreTime};
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::new(url, "sec").await;
    let holder = Device::new(url, "h2").await;
    let zhao = Device::new(url, "zhao").await;
    sec.sync().await;
    let day = |n: i64| {
        let t = today();
        if n >= 0 {
            t + Days::new(n.unsigned_abs())
        } else {
            t - Days::new(n.unsigned_abs())
        }
    };
    // One due today, one whose deadline passed two days ago.
    raise(&sec, "problem:zcyd:p-more", "sec", "z2", "h2");
    raise(&sec, "problem:zcyd:p-late", "sec", "z2", "h2");
    sec.repo
        .edit::<Problem, _>(&id("problem:zcyd:p-late"), |p| {
            p.finding.deadline = Some(zonepatrol_shared::docs::Day(day(-2)));
        })
        .expect("saved");
    sec.sync().await;

    // The holder asks for five more days, with a reason.
    holder.sync().await;
    let h2 = actor("h2", Role::ZoneHolder);
    extension::ask_more_time(
        &holder.repo,
        &h2,
        "p-more",
        Some(day(5)),
        "液压支架配件未到",
        today(),
    )
    .expect("asked");
    assert_eq!(holder.sync().await.refused, 0);
    // Asking after the deadline: the phone says so, and the server refuses it when a phone
    // writes it anyway.
    assert!(
        extension::ask_more_time(&holder.repo, &h2, "p-late", Some(day(5)), "来不及", today())
            .is_err()
    );
    let at = zonepatrol_app::store::now_millis();
    holder
        .repo
        .edit::<Problem, _>(&id("problem:zcyd:p-late"), |p| {
            p.rectifications.insert(
                format!("h2-ask-{at}"),
                zonepatrol_shared::docs::Rectification {
                    at,
                    by: "h2".into(),
                    note: FreeText::from("来不及"),
                    photos: Default::default(),
                    extension: Some(zonepatrol_shared::docs::Day(day(5))),
                },
            );
        })
        .expect("written on the phone");
    assert_eq!(holder.sync().await.refused, 1);
    let refused = holder.repo.quarantine().expect("quarantine");
    assert!(
        refused[0]
            .refusal
            .reason
            .contains("passed before the request"),
        "{:?}",
        refused[0].refusal
    );

    // An inspector cannot answer it; the secretary grants three days, not five.
    zhao.sync().await;
    let pending = zhao
        .repo
        .read::<Problem>(&id("problem:zcyd:p-more"))
        .expect("read")
        .expect("on the phone")
        .pending_extension()
        .map(|e| e.id.to_owned())
        .expect("the request arrived");
    let at = zonepatrol_app::store::now_millis() + 1;
    zhao.repo
        .edit::<Problem, _>(&id("problem:zcyd:p-more"), |p| {
            p.verifications.insert(
                format!("zhao-answer-{at}"),
                Verification {
                    at,
                    by: "zhao".into(),
                    outcome: Outcome::Extended,
                    note: FreeText::from(""),
                    deadline: Some(zonepatrol_shared::docs::Day(day(30))),
                    request: Some(pending.clone()),
                },
            );
        })
        .expect("written on the phone");
    assert_eq!(zhao.sync().await.refused, 1);
    assert!(
        zhao.repo.quarantine().expect("quarantine")[0]
            .refusal
            .reason
            .contains("only the branch secretary"),
    );
    sec.sync().await;
    let me = actor("sec", Role::Secretary);
    let waiting = extension::more_time_requests(&sec.repo, &me).expect("list");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].reason, "液压支架配件未到");
    assert_eq!(waiting[0].asked_by, "刘师傅");
    extension::answer_more_time(
        &sec.repo,
        &me,
        "p-more",
        &MoreTime::Grant(Some(day(3))),
        today(),
    )
    .expect("granted");
    assert_eq!(sec.sync().await.refused, 0);

    // The holder's phone and the server's figures follow the granted deadline.
    holder.sync().await;
    let row = zonepatrol_app::records::problem::my_problem(&holder.repo, &h2, "p-more", day(2))
        .expect("listed");
    assert_eq!(row.deadline, Some(day(3)));
    assert!(!row.overdue);
    let browser = Browser::sign_in(url, "mgr", "zonepatrol")
        .await
        .expect("signed in");
    let page = browser.page("/dash/problem/zcyd/p-more").await;
    for text in [
        format!("申请延期至 {}", day(5)),
        "液压支架配件未到".to_owned(),
        format!("同意延期至 {}", day(3)),
        format!("期限 {}", day(3)),
    ] {
        assert!(page.contains(&text), "{text} in {page}");
    }
    assert!(!page.contains("pending-extension"), "answered: {page}");
    let overview = browser.page("/dash?branch=zcyd").await;
    let at = overview
        .find(r#"id="overdue-count""#)
        .expect("overdue count");
    let count: String = overview[at..]
        .split('>')
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(count, "1", "only the problem past its deadline: {overview}");
    server.stop().await;
}
