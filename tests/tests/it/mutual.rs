//! The back-to-back mutual evaluation and the branch composite over real HTTP: four branches,
//! each secretary marks the others on the dashboard without seeing anyone else's marks; a
//! manager gives a special-activity bonus; the quarter's composite, grade and rank follow,
//! on the phones (report documents), on the rankings page and in the ledger export. No
//! branch's marks reach another branch, on any page or phone.

use reqwest::StatusCode;
use zonepatrol_app::records::assessment::Scorer;
use zonepatrol_shared::docs::{DocId, Report};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, Points, Role};

use crate::dashboard::Browser;
use crate::scenario::items_for;
use crate::support::{Device, TestServer, today};

const PW: &str = "long-enough-2026";

fn points(s: &str) -> Option<Points> {
    Some(s.parse().expect("points"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_mark_each_other_back_to_back_and_the_composite_grades_them() {
    let server = TestServer::start().await;
    let url = &server.url;
    let demo = zonepatrol_server::seed::DEMO_PASSWORD;
    let admin = Browser::sign_in(url, "admin", demo).await.expect("admin");
    // Two more branches, each with a secretary: four branches mark each other.
    for (code, name, sec) in [
        ("zcez", "综采二队党支部", "sec3"),
        ("jdez", "掘进二队党支部", "sec4"),
    ] {
        let (status, _) = admin
            .post(
                "/admin/branch",
                &format!("code={code}&name={name}&category=1"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "branch {code}");
        let (status, _) = admin
            .post(
                &format!("/admin/branch/{code}/member"),
                &format!("id={sec}&name={sec}&role=secretary&password={PW}"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "secretary {sec}");
    }
    let quarter = Period::containing(PeriodKind::Quarter, today());
    let month = Period::containing(PeriodKind::Month, today());

    // 综采一队's work this quarter: one zone's final monthly score, 99.
    let sec = Device::new(url, "sec").await;
    sec.sync().await;
    let me = Actor::new("sec", Role::Secretary, "zcyd");
    Scorer::Secretary
        .save(&sec.repo, &me, "z1", month, &items_for("99"), "")
        .expect("the month's score");
    sec.sync().await;

    // Each other secretary marks 综采一队 (and the rest) on the dashboard, back to back:
    // 80, 90 and 88. Three branches: no mark is dropped; the mean is (80+90+88)/3 = 86.
    let marks = [
        (
            "sec2",
            demo,
            "jdyd",
            [("zcyd", "80"), ("zcez", "70"), ("jdez", "75")],
        ),
        (
            "sec3",
            PW,
            "zcez",
            [("zcyd", "90"), ("jdyd", "72"), ("jdez", "77")],
        ),
        (
            "sec4",
            PW,
            "jdez",
            [("zcyd", "88"), ("jdyd", "74"), ("zcez", "71")],
        ),
    ];
    for (who, pw, branch, given) in &marks {
        let b = Browser::sign_in(url, who, pw).await.expect("secretary");
        let form: Vec<String> = given
            .iter()
            .map(|(to, mark)| format!("to={to}&mark={mark}"))
            .collect();
        let (status, _) = b
            .post(
                &format!("/admin/branch/{branch}/mutual/marks?quarter={quarter}"),
                &form.join("&"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{who}'s marks");
        // Nobody marks their own branch.
        let (status, _) = b
            .post(
                &format!("/admin/branch/{branch}/mutual/marks?quarter={quarter}"),
                &format!("to={branch}&mark=100"),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{who} marks itself");
        // Nor sees another branch's marks.
        let (status, _) = b
            .get(&format!("/admin/branch/zcyd/mutual?quarter={quarter}"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} opens another's marks");
    }
    // 综采一队's own secretary marks too: its page shows its own marks, never those it got.
    let sec_web = Browser::sign_in(url, "sec", demo).await.expect("sec");
    let (status, _) = sec_web
        .post(
            &format!("/admin/branch/zcyd/mutual/marks?quarter={quarter}"),
            "to=jdyd&mark=73&to=zcez&mark=76&to=jdez&mark=79",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A manager's special-activity bonus, with its reason: +2.
    let mgr = Browser::sign_in(url, "mgr", demo).await.expect("manager");
    let (status, _) = mgr
        .post(
            &format!("/admin/branch/zcyd/mutual/bonus?quarter={quarter}"),
            "points=2&reason=%E5%85%9A%E5%91%98%E5%BD%A2%E8%B1%A1%E8%AE%BE%E8%AE%A1",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = sec_web
        .post(
            &format!("/admin/branch/zcyd/mutual/bonus?quarter={quarter}"),
            "points=5&reason=self",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a secretary gives no bonus");

    // The quarter on the phone: work 99; mutual 86 from three branches; bonus 2; composite at
    // the default weight of 20%: 99 × 80% + 86 × 20% + 2 = 79.2 + 17.2 + 2 = 98.4, excellent
    // in category 1 (90 and above), first of the branches with a score.
    sec.sync().await;
    let report: Report = sec
        .repo
        .read(&DocId::report("zcyd", quarter))
        .expect("read")
        .expect("the quarter's report");
    let b = &report.branch;
    assert_eq!(
        (b.work, b.mutual, b.givers),
        (points("99"), points("86"), 3)
    );
    assert_eq!(b.bonus, Points::whole(2));
    assert_eq!(b.score, points("98.4"));
    assert_eq!(b.grade, "excellent");
    assert_eq!(b.rank, 1);
    // The year: the mean of its quarters' mutual results (one), the bonuses summed.
    let year: Report = sec
        .repo
        .read(&DocId::report(
            "zcyd",
            Period::containing(PeriodKind::Year, today()),
        ))
        .expect("read")
        .expect("the year's report");
    assert_eq!(year.branch.mutual, points("86"));
    // The phone holds its own branch's evaluation, never another's.
    assert!(
        sec.repo
            .read::<zonepatrol_shared::docs::Evaluation>(&DocId::evaluation("zcyd", quarter))
            .expect("read")
            .is_some()
    );
    for other in ["jdyd", "zcez", "jdez"] {
        assert!(
            sec.repo
                .read::<zonepatrol_shared::docs::Evaluation>(&DocId::evaluation(other, quarter))
                .expect("read")
                .is_none(),
            "{other}'s marks are not on 综采一队's phone"
        );
    }

    // The dashboard: the breakdown on the rankings page and in the ledger.
    let page = mgr
        .page(&format!("/dash/rankings?period={quarter}&branch=zcyd"))
        .await;
    let row = page
        .split("data-branch=\"zcyd\"")
        .nth(1)
        .expect("综采一队's row")
        .split("</tr>")
        .next()
        .unwrap_or_default();
    for want in ["99", "86", "+2", "98.4", "先进"] {
        assert!(row.contains(want), "{want} in {row}");
    }
    let breakdown = page
        .split("id=\"composite-breakdown\"")
        .nth(1)
        .expect("the breakdown");
    assert!(breakdown.contains("互评 86 × 20%"), "{breakdown}");
    let overview = mgr.page(&format!("/dash?branch=zcyd&month={month}")).await;
    assert!(
        overview.contains("id=\"quarter-composite\""),
        "the ledger's quarter line"
    );
    let (status, bytes) = mgr.get(&format!("/dash/export/ledger/zcyd/{month}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"PK"));

    // No page shows one branch's marks to another: 综采一队's own page shows the marks it gave
    // (73, 76, 79) and its result, not the 80, 90 or 88 it received.
    let own = sec_web
        .page(&format!("/admin/branch/zcyd/mutual?quarter={quarter}"))
        .await;
    assert!(
        own.contains("value=\"73\"") && own.contains("value=\"79\""),
        "{own}"
    );
    for received in [
        "value=\"80\"",
        "value=\"90\"",
        "value=\"88\"",
        "data-branch=\"zcyd\"",
    ] {
        assert!(!own.contains(received), "{received} on {own}");
    }
    // A manager reads the branch's result and bonuses, not the marks it gave.
    let seen = mgr
        .page(&format!("/admin/branch/zcyd/mutual?quarter={quarter}"))
        .await;
    assert!(!seen.contains("id=\"mutual-marks\""), "{seen}");
    assert!(seen.contains("党员形象设计"));
    server.stop().await;
}
