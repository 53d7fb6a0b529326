//! A demonstration post's life over real HTTP, each person on their own phone: two holders
//! apply offline with the five clears; the secretary approves one and turns the other down with
//! a reason; the month's assessment puts the post's zone under its pass mark, so the quarter's
//! ranking flags it; a manager withdraws the title (摘牌) with a reason on the dashboard, and
//! the phones and the placard follow. The server refuses a phone that approves its own
//! application, whatever the phone claims.

use chrono::Days;
use rand::seq::SliceRandom;
use zonepatrol_app::records::RecordError;
use zonepatrol_app::records::assessment::Scorer;
use zonepatrol_app::records::post::{self, Application, PostAction};
use zonepatrol_shared::docs::{Directory, DocId, PostEvent, PostStatus, PostStep, Report};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{Actor, Points, Role};

use crate::dashboard::Browser;
use crate::scenario::items_for;
use crate::support::{Device, TestServer, today};

fn actor(user: &str, role: Role) -> Actor {
    Actor::new(user, role, "zcyd")
}

fn application(zone: &str, title: &str) -> Application {
    let day = today();
    Application {
        title: title.into(),
        zone: zone.into(),
        others: Vec::new(),
        standard: "煤矿安全质量标准化运输专业标准".into(),
        duty: "巷道整洁、设备完好、隐患当班整改".into(),
        assessor: "王书记".into(),
        assessment: "每月按示范岗考核办法考核一次".into(),
        // In force from the start of this quarter, for a year.
        starts: Some(Period::containing(PeriodKind::Quarter, day).first_day()),
        ends: day.checked_add_days(Days::new(365)),
    }
}

fn status(device: &Device, me: &Actor, id: &str) -> PostStatus {
    post::post(&device.repo, me, id, today())
        .unwrap_or_else(|| panic!("post {id} is on {}'s phone", me.user))
        .status
}

/// Syncs the devices one after another in a random order.
async fn sync_all(devices: &[&Device]) {
    let mut order = devices.to_vec();
    order.shuffle(&mut rand::rng());
    for device in order {
        device.sync().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_is_applied_for_approved_flagged_in_its_quarter_and_stripped_of_its_title() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::new(url, "sec").await;
    let h1 = Device::new(url, "h1").await;
    let h2 = Device::new(url, "h2").await;
    sync_all(&[&sec, &h1, &h2]).await;
    let day = today();
    let (me_sec, me_h1, me_h2) = (
        actor("sec", Role::Secretary),
        actor("h1", Role::ZoneHolder),
        actor("h2", Role::ZoneHolder),
    );

    // Offline, the holders apply; a form missing a clear says what to fill in.
    let mut missing = application("z1", "三水平上车场示范岗");
    missing.assessor = " ".into();
    assert!(matches!(
        post::apply(&h1.repo, &me_h1, &missing, day),
        Err(RecordError::Input(zonepatrol_app::i18n::T::FillFiveClears))
    ));
    let p1 = post::apply(
        &h1.repo,
        &me_h1,
        &application("z1", "三水平上车场示范岗"),
        day,
    )
    .expect("h1 applies");
    let p2 = post::apply(&h2.repo, &me_h2, &application("z2", "802溜子道示范岗"), day)
        .expect("h2 applies");
    assert_eq!(status(&h1, &me_h1, &p1), PostStatus::Proposed);
    // Nobody decides on their own application, on the phone.
    assert!(post::actions(&me_h1, &post::post(&h1.repo, &me_h1, &p1, day).expect("p1")).is_empty());
    sync_all(&[&h1, &h2]).await;
    sec.sync().await;

    // The secretary sees both waiting, and decides offline.
    assert_eq!(post::waiting_posts(&sec.repo, &me_sec, day), 2);
    assert!(matches!(
        post::decide(&sec.repo, &me_sec, &p2, PostAction::Reject, "  ", day),
        Err(RecordError::Input(zonepatrol_app::i18n::T::NeedPostReason))
    ));
    post::decide(&sec.repo, &me_sec, &p1, PostAction::Approve, "", day).expect("approved");
    post::decide(
        &sec.repo,
        &me_sec,
        &p2,
        PostAction::Reject,
        "不在生产难点区域",
        day,
    )
    .expect("turned down");
    // The month's assessment: z1 at 76, z2 at 90.
    let month = Period::containing(PeriodKind::Month, day);
    for (zone, total) in [("z1", "76"), ("z2", "90")] {
        Scorer::Secretary
            .save(&sec.repo, &me_sec, zone, month, &items_for(total), "")
            .expect("assessed");
    }
    sec.sync().await;
    assert!(sec.repo.quarantine().expect("quarantine").is_empty());
    sync_all(&[&h1, &h2]).await;
    assert_eq!(
        status(&h1, &me_h1, &p1),
        PostStatus::Active,
        "from the quarter's start"
    );
    let turned_down = post::post(&h2.repo, &me_h2, &p2, day).expect("p2");
    assert_eq!(turned_down.status, PostStatus::Rejected);
    assert_eq!(
        turned_down.history.last().map(|h| (h.0, h.2.as_str())),
        Some((PostStep::Reject, "不在生产难点区域")),
        "h2 sees why"
    );

    // A phone that approves its own application is refused by the server and rewound; the
    // application made before it, in the same push, still lands (the edits are judged one by
    // one once the push is refused).
    let again = post::apply(&h2.repo, &me_h2, &application("z2", "802溜子道示范岗"), day)
        .expect("h2 applies again");
    let at = zonepatrol_app::store::now_millis() + 1;
    h2.repo
        .edit::<Directory, _>(&DocId::directory("zcyd"), |d| {
            if let Some(p) = d.posts.get_mut(&again) {
                p.events.insert(
                    format!("{at}-h2"),
                    PostEvent {
                        at,
                        by: "h2".into(),
                        step: PostStep::Approve,
                        reason: String::new(),
                    },
                );
            }
        })
        .expect("written on the phone");
    let progress = h2.sync().await;
    assert!(progress.refused >= 1, "{progress:?}");
    let refused = h2.repo.quarantine_of("h2").expect("quarantine");
    assert_eq!(refused.len(), 1, "the approval alone waits: {refused:?}");
    assert_eq!(
        refused[0].refusal.code,
        RefusalCode::NotWriter,
        "{:?}",
        refused[0].refusal
    );
    sec.sync().await;
    for (device, me) in [(&h2, &me_h2), (&sec, &me_sec)] {
        assert!(
            post::post(&device.repo, me, &again, day)
                .is_some_and(|r| r.status == PostStatus::Proposed),
            "the application is there and the approval rewound on {}",
            me.user
        );
    }

    // The quarter's ranking: z1's mean of monthly final scores is 76 (one month assessed),
    // under category 1's pass mark of 80, while p1 held the title: flagged. z2 has 90 and no
    // post in force.
    let quarter = Period::containing(PeriodKind::Quarter, day);
    let report = |device: &Device| -> Report {
        device
            .repo
            .read::<Report>(&DocId::Report {
                branch: "zcyd".into(),
                period: quarter,
            })
            .expect("read")
            .expect("the quarter's report is on the phone")
    };
    let q = report(&sec);
    assert_eq!(q.zones["z1"].score, Some(Points::whole(76)));
    assert_eq!(
        (q.zones["z1"].post.as_str(), q.zones["z1"].loses_title),
        (p1.as_str(), true)
    );
    assert_eq!(q.zones["z2"].score, Some(Points::whole(90)));
    assert_eq!(
        (q.zones["z2"].post.as_str(), q.zones["z2"].loses_title),
        ("", false)
    );

    // A manager sees the flag on the rankings and withdraws the title, with a reason.
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let mgr = Browser::sign_in(url, "mgr", pw).await.expect("manager");
    let rankings = mgr
        .page(&format!("/dash/rankings?period={quarter}&branch=zcyd"))
        .await;
    assert!(
        rankings.contains("三水平上车场示范岗"),
        "the post's title, not its id"
    );
    assert!(rankings.contains("低于合格线"));
    let page = format!("/admin/branch/zcyd/post/{p1}");
    assert!(mgr.page(&page).await.contains("摘牌"));
    let (code, _) = mgr.post(&format!("{page}/decide"), "step=approve").await;
    assert_eq!(
        code,
        reqwest::StatusCode::FORBIDDEN,
        "a manager does not approve"
    );
    let (code, _) = mgr
        .post(&format!("{page}/decide"), "step=revoke&reason=")
        .await;
    assert_eq!(
        code,
        reqwest::StatusCode::BAD_REQUEST,
        "a withdrawal needs its reason"
    );
    let (code, _) = mgr
        .post(
            &format!("{page}/decide"),
            "step=revoke&reason=%E5%AD%A3%E5%BA%A6%E6%8E%92%E5%90%8D%E4%BD%8E%E4%BA%8E%E5%90%88%E6%A0%BC%E7%BA%BF",
        )
        .await;
    assert_eq!(code, reqwest::StatusCode::SEE_OTHER);

    // The phones follow; the quarter keeps its flag (p1 held the title in it), the placard no
    // longer claims the title.
    sync_all(&[&sec, &h1, &h2]).await;
    assert_eq!(status(&h1, &me_h1, &p1), PostStatus::Revoked);
    let history = post::post(&h1.repo, &me_h1, &p1, day).expect("p1").history;
    assert_eq!(
        history.last().map(|h| (h.0, h.1.as_str(), h.2.as_str())),
        Some((PostStep::Revoke, "mgr", "季度排名低于合格线"))
    );
    assert!(
        post::actions(
            &me_sec,
            &post::post(&sec.repo, &me_sec, &p1, day).expect("p1")
        )
        .is_empty()
    );
    let q = report(&h1);
    assert!(q.zones["z1"].loses_title);
    let (code, svg) = mgr.get("/dash/placard/zcyd/z1").await;
    assert_eq!(code, reqwest::StatusCode::OK);
    let svg = String::from_utf8(svg).expect("utf-8");
    assert!(
        svg.contains("已摘牌"),
        "the placard says the title is withdrawn"
    );
    assert!(!svg.contains("在岗"));
    assert!(
        mgr.page("/admin/activity")
            .await
            .contains("季度排名低于合格线")
    );
    server.stop().await;
}
