//! The figures on the phone, offline: after one sync, with the server gone, a phone reads the
//! latest week, ten-day period, month, quarter and year, a zone's months with their changes,
//! the branch's place in its category, its open and overdue problems, and the holder's own
//! money — all from the report documents it holds. The demo mine's history gives three months
//! of assessments (`demo_history`), worked out by hand below.

use zonepatrol_app::records::ranking::{rankings, standing, zone_trend};
use zonepatrol_shared::Points;
use zonepatrol_shared::rules::period::{Period, PeriodKind};

use crate::support::{Device, TestServer, today};

fn points(s: &str) -> Option<Points> {
    Some(s.parse().expect("points"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_reads_the_year_a_zone_s_months_the_branch_s_place_and_problems_offline() {
    let server = TestServer::start_with(|s| s.demo_history = true).await;
    let h1 = Device::new(&server.url, "h1").await;
    h1.sync().await;
    // Underground: no server from here on.
    server.stop().await;

    let this = Period::containing(PeriodKind::Month, today());
    let (m0, m1, m2) = (this.prev().prev(), this.prev(), this);

    // Every kind of period, the year included.
    let kinds: Vec<PeriodKind> = rankings(&h1.repo, "zcyd")
        .expect("rankings")
        .iter()
        .map(|r| r.period.kind())
        .collect();
    for kind in [
        PeriodKind::Week,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::Year,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }

    // 三水平上车场 (z1) over the months, by the history's formulas (own = 97 − (3z + m) mod 9,
    // final = own − (z + m) mod 4, z = 0 for z1, m = 0, 1, 2 from two months ago):
    //   m0: 97 − 0 = 97; m1: 96 − 1 = 95; m2: 95 − 2 = 93 — changes −2 and −2.
    // The other zones' finals: m0 z2 93, z3 89, z4 94 → z1 first of 4; m1 z2 91, z3 87,
    // z4 96 → z1 second; m2 z2 89, z3 89, z4 94 → z1 second. Money: 97 → +20.00, 95 and 93
    // → nothing.
    let trend = zone_trend(&h1.repo, "zcyd", "z1").expect("trend");
    assert_eq!(trend.name, "三水平上车场");
    let month = |m: Period| {
        trend
            .months
            .iter()
            .find(|t| t.month == m)
            .unwrap_or_else(|| panic!("{m} in {:?}", trend.months))
    };
    let got: Vec<_> = [m0, m1, m2]
        .iter()
        .map(|m| {
            let t = month(*m);
            (t.score, t.rank, t.of, t.money_fen)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (points("97"), 1, 4, 2000),
            (points("95"), 2, 4, 0),
            (points("93"), 2, 4, 0),
        ]
    );
    assert_eq!(month(m1).change, points("-2"));
    assert_eq!(month(m2).change, points("-2"));
    assert!(
        trend
            .months
            .windows(2)
            .all(|w| w[0].month.first_day() < w[1].month.first_day()),
        "oldest first"
    );

    // The branch at a glance: the year's place among category 1 (掘进一队 has no score, so
    // first of one); the history's problems, on the phone: open, overdue and reopened wait for
    // a fix (3), the
    // overdue one and the reopened one are past their deadlines (2); 张师傅 (h1) holds z1
    // alone, and this month's 93 brings nothing.
    let glance = standing(&h1.repo, "zcyd", "h1", today()).expect("standing");
    assert_eq!(
        glance.period.map(|p| p.kind()),
        Some(PeriodKind::Year),
        "{glance:?}"
    );
    assert_eq!((glance.branch.rank, glance.branch.of), (1, 1), "{glance:?}");
    assert_eq!(
        (glance.open_problems, glance.overdue_problems),
        (3, 2),
        "{glance:?}"
    );
    assert_eq!(glance.my_money, Some((m2, 0)));
    // Someone who holds no zone has no money line.
    assert_eq!(
        standing(&h1.repo, "zcyd", "tl", today())
            .expect("standing")
            .my_money,
        None
    );
}
