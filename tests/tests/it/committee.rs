//! The party committee's weekly inspection over real HTTP: a manager leads one walk over zones
//! of two branches with inspectors drawn from both, each on their own phone. Each inspector
//! reads what scoring another branch's zones needs, and nothing more; the sheets, synced in a
//! random order, give each zone a result in its own branch's report. A branch's own patrol
//! with two sheets has no result, and the dashboard says why.

use rand::seq::SliceRandom;
use zonepatrol_app::records::patrol::{PatrolInput, close_patrol, my_patrols, start_patrol};
use zonepatrol_shared::docs::{Day, DocId, ItemEntry, Patrol, Report, Sheet, Tally, ZoneSheet};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, PatrolKind, Points, Role};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, raise, today};

/// One inspector's sheet on a branch's part of a walk: deductions on rule r1 of the demo
/// template, (zone, item, count).
fn mark(device: &Device, branch: &str, patrol: &str, taps: &[(&str, u32, i64)]) {
    let sheet = DocId::sheet(branch, patrol, &device.user);
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

fn week_report(device: &Device, branch: &str) -> Report {
    let period = Period::containing(PeriodKind::Week, today());
    device
        .repo
        .read::<Report>(&DocId::report(branch, period))
        .expect("read")
        .unwrap_or_else(|| panic!("{branch}'s report of {period} is on the phone"))
}

fn points(s: &str) -> Option<Points> {
    Some(s.parse().expect("points"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committee_patrol_scores_zones_of_several_branches_into_their_own_results() {
    let server = TestServer::start().await;
    let url = &server.url;
    let mgr = Device::new(url, "mgr").await;
    let zhao = Device::new(url, "zhao").await;
    let qian = Device::new(url, "qian").await;
    let zhu = Device::new(url, "zhu").await;
    let leader = Actor::new("mgr", Role::Manager, "hq");

    // The manager plans the week's walk on the phone: two zones of 综采一队 (zcyd) and one of
    // 掘进一队 (jdyd), with Zhao and Qian of zcyd and Zhu of jdyd. It is written as one patrol
    // in each branch, under one name.
    mgr.sync().await;
    let input = PatrolInput {
        kind: PatrolKind::Weekly,
        date: Some(today()),
        zones: vec!["zcyd:z1".into(), "zcyd:z2".into(), "jdyd:j1".into()],
        inspectors: vec!["zhao".into(), "qian".into(), "zhu".into()],
    };
    let first = start_patrol(&mgr.repo, &leader, &input).expect("the walk is planned");
    let (_, name) = first.split_once(':').expect("another branch's key");
    let name = name.to_owned();
    for branch in ["zcyd", "jdyd"] {
        let leg = mgr
            .repo
            .read::<Patrol>(&DocId::patrol(branch, &name))
            .expect("read")
            .expect("one patrol in each branch");
        assert_eq!(leg.plan.leader, "mgr");
        assert_eq!(
            leg.plan.inspectors.len(),
            4,
            "the leader and three inspectors"
        );
    }
    mgr.sync().await;
    assert!(mgr.repo.quarantine().expect("quarantine").is_empty());

    // Each inspector's phone gets both parts: its own branch's and, as a visitor, the other's
    // with that branch's directory (zones and checklists), which it did not hold before.
    for device in [&zhao, &qian, &zhu] {
        device.sync().await;
        let home = if device.user == "zhu" { "jdyd" } else { "zcyd" };
        let me = Actor::new(device.user.as_str(), Role::Inspector, home);
        let rows = my_patrols(&device.repo, &me).expect("patrols");
        assert_eq!(rows.len(), 2, "{}: {rows:?}", device.user);
        let away = rows
            .iter()
            .find(|r| r.branch.is_some())
            .expect("the other branch's part");
        let other = if home == "zcyd" { "jdyd" } else { "zcyd" };
        assert_eq!(away.name, format!("{other}:{name}"));
        assert!(
            device
                .repo
                .read::<zonepatrol_shared::docs::Directory>(&DocId::directory(other))
                .expect("read")
                .is_some(),
            "{} holds {other}'s directory to score its zones",
            device.user
        );
    }
    // The visitor reads nothing else of that branch: not its problems, not its members' work.
    raise(&zhao, "problem:zcyd:c-found", "zhao", "z2", "h2");
    zhao.sync().await;
    zhu.sync().await;
    assert!(
        zhu.repo
            .read::<zonepatrol_shared::docs::Problem>(&"problem:zcyd:c-found".parse().expect("id"))
            .expect("read")
            .is_none(),
        "a visitor does not receive the branch's problems"
    );

    // Scored offline with the demo template (i1 2, i4 2, i5 3, i9 5 points a deduction), three
    // sheets on each zone, fewer than five so none is dropped: the mean.
    // - z1: Zhao i1×1 → 98, Qian i5×2 → 94, Zhu i1×2 → 96: (98+94+96)/3 = 96.
    // - z2: Zhao i9×2 → 90, Qian i4×1 → 98, Zhu i5×1 → 97: (90+98+97)/3 = 95.
    // - j1: Zhao i4×1 → 98, Qian i1×2 → 96, Zhu i5×1 → 97: (98+96+97)/3 = 97.
    mark(&zhao, "zcyd", &name, &[("z1", 1, 1), ("z2", 9, 2)]);
    mark(&zhao, "jdyd", &name, &[("j1", 4, 1)]);
    mark(&qian, "zcyd", &name, &[("z1", 5, 2), ("z2", 4, 1)]);
    mark(&qian, "jdyd", &name, &[("j1", 1, 2)]);
    mark(&zhu, "zcyd", &name, &[("z1", 1, 2), ("z2", 5, 1)]);
    mark(&zhu, "jdyd", &name, &[("j1", 5, 1)]);
    let mut order = [&zhao, &qian, &zhu];
    order.shuffle(&mut rand::rng());
    for device in order {
        device.sync().await;
        let refused = device.repo.quarantine().expect("quarantine");
        assert!(refused.is_empty(), "{}: {refused:?}", device.user);
    }
    // A visitor's sheet is theirs alone: another inspector's stays off their phone.
    zhu.sync().await;
    assert!(
        zhu.repo
            .read::<Sheet>(&DocId::sheet("zcyd", &name, "zhao"))
            .expect("read")
            .is_none()
    );

    // A branch's own walk with two inspectors: closed with two sheets, it has no result.
    let sec = Device::new(url, "sec").await;
    sec.sync().await;
    sec.repo
        .edit::<Patrol, _>(&DocId::patrol("zcyd", "small"), |p| {
            p.plan.kind = PatrolKind::Weekly;
            p.plan.date = Some(Day(today()));
            p.plan.leader = "sec".into();
            p.plan.inspectors.insert("zhao".into(), true);
            p.plan.inspectors.insert("qian".into(), true);
            p.plan.zones.insert("z3".into(), 0);
        })
        .expect("patrol saved");
    sec.sync().await;
    for device in [&zhao, &qian] {
        device.sync().await;
        mark(device, "zcyd", "small", &[("z3", 1, 1)]);
        device.sync().await;
    }
    let sec_actor = Actor::new("sec", Role::Secretary, "zcyd");
    close_patrol(&sec.repo, &sec_actor, "small").expect("closed");
    sec.sync().await;

    // The manager closes both parts of the walk: the results go to each zone's own branch.
    mgr.sync().await;
    for leg in [format!("zcyd:{name}"), format!("jdyd:{name}")] {
        close_patrol(&mgr.repo, &leader, &leg).expect("closed");
    }
    mgr.sync().await;
    let refused = mgr.repo.quarantine().expect("quarantine");
    assert!(refused.is_empty(), "{refused:?}");
    let zcyd = week_report(&mgr, "zcyd");
    assert_eq!(
        (zcyd.zones["z1"].inspection, zcyd.zones["z1"].sheets),
        (points("96"), 3)
    );
    assert_eq!(
        (zcyd.zones["z2"].inspection, zcyd.zones["z2"].sheets),
        (points("95"), 3)
    );
    assert_eq!(
        zcyd.zones["z3"].inspection, None,
        "two sheets are no result"
    );
    let jdyd = week_report(&mgr, "jdyd");
    assert_eq!(
        (jdyd.zones["j1"].inspection, jdyd.zones["j1"].sheets),
        (points("97"), 3)
    );

    // A visitor may write their sheet there, nothing else: a problem raised in the other
    // branch is refused.
    raise(&zhu, "problem:zcyd:from-zhu", "zhu", "z1", "h1");
    zhu.sync().await;
    let refused = zhu.repo.quarantine().expect("quarantine");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].id, "problem:zcyd:from-zhu");

    // The dashboard says why a zone has no result this week.
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let browser = Browser::sign_in(url, "mgr", pw).await.expect("manager");
    let page = browser.page("/dash?branch=zcyd").await;
    let why = page
        .split("id=\"no-result\"")
        .nth(1)
        .expect("the zones with no result");
    let why = why.split("</div>").next().unwrap_or_default();
    assert!(why.contains("只有 2 份评分表，至少需要 3 份"), "{why}");
    assert!(why.contains("本期未检查"), "z4 was not on any walk: {why}");
    server.stop().await;
}
