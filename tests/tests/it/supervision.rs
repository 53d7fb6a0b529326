//! The ten-day supervision (旬督导) and the monthly self-check (月自查) over real HTTP, each
//! person on their own phone: two supervisors score a ten-day walk, synced in a random order,
//! and its results are ranked in the ten-day period's own report; the secretary's self-check
//! shows in the month's report beside the assessment, its rectification measure and deadline
//! a problem to fix; neither touches the weekly inspection's figures. The dashboard shows the
//! ten-day ranking and exports it.

use chrono::Days;
use rand::seq::SliceRandom;
use zonepatrol_shared::docs::{
    Day, DocId, FreeText, ItemEntry, Patrol, Problem, Report, Sheet, Tally, ZoneSheet,
};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, PatrolKind, Points, Role};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, id, today};

/// Plans a walk of zones z1 and z2 led by the secretary.
pub fn plan(device: &Device, name: &str, kind: PatrolKind, inspectors: &[&str]) {
    device
        .repo
        .edit::<Patrol, _>(&DocId::patrol("zcyd", name), |p| {
            p.plan.kind = kind;
            p.plan.date = Some(Day(today()));
            p.plan.leader = "sec".into();
            for who in inspectors {
                p.plan.inspectors.insert((*who).into(), true);
            }
            p.plan.zones.insert("z1".into(), 0);
            p.plan.zones.insert("z2".into(), 1);
        })
        .expect("patrol saved");
}

/// One inspector's sheet: deductions on rule r1 of the demo template, (zone, item, count).
pub fn mark(device: &Device, patrol: &str, inspector: &str, taps: &[(&str, u32, i64)]) {
    let sheet = DocId::Sheet {
        branch: "zcyd".into(),
        patrol: patrol.into(),
        inspector: inspector.into(),
    };
    device
        .repo
        .edit::<Sheet, _>(&sheet, |s| {
            for (zone, item, count) in taps {
                let z = s.zones.entry((*zone).into()).or_insert_with(|| ZoneSheet {
                    template: "t1".into(),
                    ..Default::default()
                });
                let mut entry = ItemEntry::default();
                entry.deductions.insert("r1".into(), Tally::new(*count));
                z.items.insert(format!("i{item}"), entry);
            }
        })
        .expect("sheet saved");
}

fn report(device: &Device, period: Period) -> Report {
    device
        .repo
        .read::<Report>(&DocId::Report {
            branch: "zcyd".into(),
            period,
        })
        .expect("read")
        .unwrap_or_else(|| panic!("the report of {period} is on the phone"))
}

fn points(s: &str) -> Option<Points> {
    Some(s.parse().expect("points"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_day_supervisions_and_self_checks_have_their_own_results() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::new(url, "sec").await;
    let zhao = Device::new(url, "zhao").await;
    let qian = Device::new(url, "qian").await;
    let me = Actor::new("sec", Role::Secretary, "zcyd");

    // The ten-day walk, scored by Zhao and Qian offline, synced in a random order. The demo
    // template's rule points: i1 2, i4 2, i5 3, i9 5 (each item 10 of 100).
    // - Zhao: z1 i1×1 → 98; z2 i9×2 → 90.
    // - Qian: z1 i5×2 → 94; z2 i4×1 → 98.
    // Results (two sheets, the mean): z1 (98+94)/2 = 96, first; z2 (90+98)/2 = 94, second.
    plan(&sec, "t-scenario", PatrolKind::TenDay, &["zhao", "qian"]);
    sec.sync().await;
    zhao.sync().await;
    qian.sync().await;
    mark(&zhao, "t-scenario", "zhao", &[("z1", 1, 1), ("z2", 9, 2)]);
    mark(&qian, "t-scenario", "qian", &[("z1", 5, 2), ("z2", 4, 1)]);
    let mut order = [&zhao, &qian];
    order.shuffle(&mut rand::rng());
    for device in order {
        device.sync().await;
        assert!(device.repo.quarantine().expect("quarantine").is_empty());
    }

    // The branch's self-check by the secretary alone: z1 i3×1 → 99; z2 i2×2 → 96. What it
    // finds wrong in z2 becomes a problem with its measure and deadline.
    plan(&sec, "s-scenario", PatrolKind::MonthlySelfCheck, &["sec"]);
    mark(&sec, "s-scenario", "sec", &[("z1", 3, 1), ("z2", 2, 2)]);
    let deadline = today() + Days::new(7);
    sec.repo
        .edit::<Problem, _>(&id("problem:zcyd:s-found"), |p| {
            p.finding.zone = "z2".into();
            p.finding.patrol = Some("s-scenario".into());
            p.finding.raised_by = "sec".into();
            p.finding.raised_at = zonepatrol_app::store::now_millis();
            p.finding.description = FreeText::from("风筒吊挂不平直");
            p.finding.responsible = "h2".into();
            p.finding.measure = FreeText::from("重新吊挂风筒，逢环必挂");
            p.finding.deadline = Some(Day(deadline));
        })
        .expect("problem raised");
    sec.sync().await;
    for walk in ["t-scenario", "s-scenario"] {
        zonepatrol_app::records::patrol::close_patrol(&sec.repo, &me, walk).expect("closed");
    }
    sec.sync().await;
    assert!(sec.repo.quarantine().expect("quarantine").is_empty());

    let day = today();
    let ten = report(&sec, Period::containing(PeriodKind::TenDay, day));
    assert_eq!(
        (
            ten.zones["z1"].score,
            ten.zones["z1"].rank,
            ten.zones["z1"].sheets
        ),
        (points("96"), 1, 2)
    );
    assert_eq!(
        (
            ten.zones["z2"].score,
            ten.zones["z2"].rank,
            ten.zones["z2"].sheets
        ),
        (points("94"), 2, 2)
    );
    let month = report(&sec, Period::containing(PeriodKind::Month, day));
    assert_eq!(month.zones["z1"].self_check, points("99"));
    assert_eq!(month.zones["z2"].self_check, points("96"));
    let week = report(&sec, Period::containing(PeriodKind::Week, day));
    for zone in ["z1", "z2"] {
        assert_eq!(
            week.zones[zone].inspection, None,
            "no weekly inspection this week"
        );
        assert_eq!(month.zones[zone].inspection, None);
    }
    // The phone's rankings carry the supervised ten-day period, readable offline.
    let rankings = zonepatrol_app::records::ranking::rankings(&sec.repo, "zcyd").expect("rankings");
    let supervised = rankings
        .iter()
        .find(|r| r.period.kind() == PeriodKind::TenDay)
        .expect("the ten-day ranking on the phone");
    assert_eq!(supervised.rows[0].zone, "z1");
    assert_eq!(supervised.rows[0].score, points("96"));
    // The self-check's finding waits for the holder's fix, with its measure and deadline.
    let h2 = Device::new(url, "h2").await;
    h2.sync().await;
    let mine = zonepatrol_app::records::problem::my_problems(
        &h2.repo,
        &Actor::new("h2", Role::ZoneHolder, "zcyd"),
        day,
    )
    .expect("problems");
    let found = mine
        .iter()
        .find(|p| p.name == "s-found")
        .expect("the self-check's problem is on the holder's phone");
    assert_eq!(found.deadline, Some(deadline));
    assert_eq!(found.measure, "重新吊挂风筒，逢环必挂");

    // The dashboard ranks the ten-day period beside the weekly one and exports it.
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let mgr = Browser::sign_in(url, "mgr", pw).await.expect("manager");
    let page = mgr.page("/dash?branch=zcyd").await;
    let section = page
        .split("id=\"ten-day\"")
        .nth(1)
        .expect("the ten-day section");
    assert!(section.contains("旬督导排名"));
    assert!(
        section.contains("data-zone=\"z1\"") && section.contains("96"),
        "{section}"
    );
    let ledger = page.split("id=\"ledger\"").nth(1).expect("the ledger");
    assert!(
        ledger.contains("月自查") && ledger.contains("99"),
        "{ledger}"
    );
    let ten_day = Period::containing(PeriodKind::TenDay, day);
    let (status, bytes) = mgr
        .get(&format!("/dash/export/tenday/zcyd/{ten_day}"))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(bytes.starts_with(b"PK"), "an .xlsx workbook");
    let (status, _) = mgr.get("/dash/export/tenday/zcyd/2026-W47").await;
    assert_eq!(
        status,
        reqwest::StatusCode::NOT_FOUND,
        "a week is not a ten-day period"
    );
    server.stop().await;
}
