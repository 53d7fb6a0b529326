//! A week and a month in the demo branch, entered on real devices and synced: the weekly
//! inspection by five inspectors, the holders' self-scores, the secretary's assessments, a
//! problem and a cleanup. The expected figures below are worked out by hand from the marks.

use std::collections::BTreeMap;

use zonepatrol_app::records::assessment::Scorer;
use zonepatrol_app::records::cleanup::{self, CleanupInput};
use zonepatrol_shared::docs::{Day, DocId, ItemEntry, Patrol, Sheet, Tally, WorkItem, ZoneSheet};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::rules::suggest::AssessmentItem;
use zonepatrol_shared::{Actor, PatrolKind, Points, Role};

use crate::support::{Device, Routes, id, raise, today};

/// The inspectors of the weekly patrol.
pub const INSPECTORS: [&str; 5] = ["zhao", "qian", "sun", "li", "zhou"];

/// One inspector's deductions in a zone: (item number, count).
pub type Taps = &'static [(u32, i64)];

/// Deductions (item, count) by zone, then inspector. Every rule `r1` of the demo template;
/// the items' rule points are i1 2, i2 2, i3 1, i4 2, i5 3, i6 1, i7 2, i8 1, i9 5, i10 1.
pub const MARKS: [(&str, [Taps; 5]); 4] = [
    ("z1", [&[], &[(2, 1)], &[], &[(3, 1)], &[]]),
    (
        "z2",
        [
            &[(1, 2), (5, 1)],
            &[(1, 1)],
            &[(1, 3)],
            &[(1, 2), (9, 1)],
            &[(1, 1), (4, 1)],
        ],
    ),
    ("z3", [&[(6, 1)], &[(3, 1)], &[], &[(6, 1)], &[(8, 1)]]),
    (
        "z4",
        [
            &[(4, 2), (9, 1)],
            &[(4, 1), (2, 2)],
            &[(4, 3), (9, 2)],
            &[(4, 1)],
            &[(4, 2), (7, 2), (2, 1)],
        ],
    ),
];

/// The weekly results by hand. Each inspector's total out of 100, the highest and lowest of
/// five dropped, the mean of the other three:
/// - z1: 100 98 100 99 100 → 99 100 100 → 99.67
/// - z2: 93 98 94 91 96 → 93 94 96 → 94.33
/// - z3: 99 99 100 99 99 → 99 99 99 → 99
/// - z4: 91 94 84 98 90 → 90 91 94 → 91.67
///
/// So z1 ranks first and is praised, z4 last and is named.
pub const WEEK: [(&str, &str, u64); 4] = [
    ("z1", "99.67", 1),
    ("z3", "99", 2),
    ("z2", "94.33", 3),
    ("z4", "91.67", 4),
];

/// The month: zone, self-score, final (branch) score, rank, money in fen. Above 95 earns 10
/// yuan a point, below 85 costs 10 yuan a point: z1 97 → +20 yuan, z2 80 → −50 yuan.
pub const MONTH: [(&str, &str, &str, u64, i64); 4] = [
    ("z1", "98", "97", 1, 2000),
    ("z3", "96", "95", 2, 0),
    ("z4", "88", "85.5", 3, 0),
    ("z2", "90", "80", 4, -5000),
];

/// The branch's month: the mean of the finals, (97 + 95 + 85.5 + 80) / 4 = 89.375 → 89.38,
/// a pass in category 1 (80 to pass, 90 for excellent).
pub const BRANCH_MONTH: &str = "89.38";

/// The patrol's name.
pub const PATROL: &str = "w-scenario";

/// This week and this month at the mine.
pub fn week_and_month() -> (Period, Period) {
    let day = today();
    (
        Period::containing(PeriodKind::Week, day),
        Period::containing(PeriodKind::Month, day),
    )
}

/// Ten items summing to `total`: tens first, the rest on the next item.
pub fn items_for(total: &str) -> BTreeMap<String, Points> {
    let mut left: Points = total.parse().expect("points");
    AssessmentItem::ALL
        .iter()
        .map(|item| {
            let take = if left >= Points::whole(10) {
                Points::whole(10)
            } else {
                left
            };
            left = left - take;
            (item.key().to_owned(), take)
        })
        .collect()
}

pub fn actor(user: &str, role: Role) -> Actor {
    Actor::new(user, role, "zcyd")
}

/// Enters and syncs the whole scenario against the server at `url`.
pub async fn enter(url: &str) {
    enter_via(&Routes::one(url)).await;
}

/// Enters and syncs the whole scenario, each sign-in and sync through the server `routes`
/// picks.
pub async fn enter_via(routes: &Routes) {
    let (_, month) = week_and_month();
    let sec = Device::new(&routes.pick(), "sec").await;
    sec.repo
        .edit::<Patrol, _>(&DocId::patrol("zcyd", PATROL), |p| {
            p.plan.kind = PatrolKind::Weekly;
            p.plan.date = Some(Day(today()));
            p.plan.leader = "sec".into();
            for inspector in INSPECTORS {
                p.plan.inspectors.insert(inspector.into(), true);
            }
            for (n, (zone, _)) in MARKS.iter().enumerate() {
                p.plan.zones.insert((*zone).into(), n as u64);
            }
        })
        .expect("patrol saved");
    sec.sync_via(&routes.pick()).await;

    for (i, inspector) in INSPECTORS.iter().enumerate() {
        let device = Device::new(&routes.pick(), inspector).await;
        device.sync_via(&routes.pick()).await;
        let sheet = DocId::Sheet {
            branch: "zcyd".into(),
            patrol: PATROL.into(),
            inspector: (*inspector).into(),
        };
        device
            .repo
            .edit::<Sheet, _>(&sheet, |s| {
                for (zone, marks) in MARKS {
                    let mut z = ZoneSheet {
                        template: "t1".into(),
                        ..Default::default()
                    };
                    for &(item, count) in marks[i] {
                        let mut entry = ItemEntry::default();
                        entry.deductions.insert("r1".into(), Tally::new(count));
                        z.items.insert(format!("i{item}"), entry);
                    }
                    s.zones.insert(zone.into(), z);
                }
            })
            .expect("sheet saved");
        device.sync_via(&routes.pick()).await;
        assert!(
            device.repo.quarantine().expect("quarantine").is_empty(),
            "{inspector}'s sheet was refused"
        );
    }

    // The leader closes the walk: only now do its results count, all at once.
    sec.sync_via(&routes.pick()).await;
    zonepatrol_app::records::patrol::close_patrol(
        &sec.repo,
        &actor("sec", Role::Secretary),
        PATROL,
    )
    .expect("closed");
    sec.sync_via(&routes.pick()).await;

    for (n, (zone, own, _, _, _)) in MONTH.iter().enumerate() {
        let holder = ["h1", "h2", "h3", "h4"][zone[1..].parse::<usize>().expect("zone") - 1];
        let device = Device::new(&routes.pick(), holder).await;
        device.sync_via(&routes.pick()).await;
        Scorer::Holder
            .save(
                &device.repo,
                &actor(holder, Role::ZoneHolder),
                zone,
                month,
                &items_for(own),
                "",
            )
            .unwrap_or_else(|e| panic!("self-score {n}: {e:?}"));
        device.sync_via(&routes.pick()).await;
    }
    sec.sync_via(&routes.pick()).await;
    for (zone, _, fin, _, _) in MONTH {
        Scorer::Secretary
            .save(
                &sec.repo,
                &actor("sec", Role::Secretary),
                zone,
                month,
                &items_for(fin),
                "",
            )
            .expect("assessed");
    }
    raise(&sec, "problem:zcyd:p-scenario", "sec", "z2", "h2");
    sec.sync_via(&routes.pick()).await;
    assert!(
        sec.repo.quarantine().expect("quarantine").is_empty(),
        "the secretary's edits were refused"
    );

    let tl = Device::new(&routes.pick(), "tl").await;
    tl.sync_via(&routes.pick()).await;
    cleanup::log_cleanup(
        &tl.repo,
        &actor("tl", Role::TeamLeader),
        &CleanupInput {
            zone: "z1".into(),
            team: "综采一班".into(),
            date: Some(today()),
            participants: vec!["张三".into(), "李四".into(), "王五".into()],
            person_times: 6,
            items: vec![WorkItem {
                what: "电缆重新吊挂".into(),
                quantity_milli: 120_000,
                unit: "m".into(),
            }],
            before: Vec::new(),
            after: Vec::new(),
            marks: Default::default(),
            note: String::new(),
        },
    )
    .expect("cleanup logged");
    tl.sync_via(&routes.pick()).await;
}

/// Each inspector's own percentage in the anonymity scenario: distinctive decimals that must
/// never appear on a page, in an export or in a report. N/A items change the maximum:
/// - zhao: i1 N/A, i2 −2 → 88/90 = 97.78
/// - qian: i1 N/A, i5 −3 → 87/90 = 96.67
/// - sun: i3 N/A, i9 −5 → 85/90 = 94.44
/// - li: i7 N/A, i5 −6 → 84/90 = 93.33
/// - zhou: i1 and i2 N/A, i3 −1 → 79/80 = 98.75
///
/// The zone's result drops 98.75 and 93.33 and is (94.44 + 96.67 + 97.78) / 3 = 96.30.
pub const PRIVATE: [&str; 5] = ["97.78", "96.67", "94.44", "93.33", "98.75"];

/// The aggregate the pages do show.
pub const AGGREGATE: &str = "96.3";

/// Enters the anonymity scenario: one weekly patrol of z1 by five inspectors.
pub async fn enter_private(url: &str) {
    let marks: [(&[u32], Taps); 5] = [
        (&[1], &[(2, 1)]),
        (&[1], &[(5, 1)]),
        (&[3], &[(9, 1)]),
        (&[7], &[(5, 2)]),
        (&[1, 2], &[(3, 1)]),
    ];
    let sec = Device::new(url, "sec").await;
    sec.repo
        .edit::<Patrol, _>(&id("patrol:zcyd:w-private"), |p| {
            p.plan.kind = PatrolKind::Weekly;
            p.plan.date = Some(Day(today()));
            p.plan.leader = "sec".into();
            for inspector in INSPECTORS {
                p.plan.inspectors.insert(inspector.into(), true);
            }
            p.plan.zones.insert("z1".into(), 0);
        })
        .expect("patrol saved");
    sec.sync().await;
    for (i, inspector) in INSPECTORS.iter().enumerate() {
        let device = Device::new(url, inspector).await;
        device.sync().await;
        let sheet = DocId::Sheet {
            branch: "zcyd".into(),
            patrol: "w-private".into(),
            inspector: (*inspector).into(),
        };
        let (na, deductions) = marks[i];
        device
            .repo
            .edit::<Sheet, _>(&sheet, |s| {
                let mut z = ZoneSheet {
                    template: "t1".into(),
                    ..Default::default()
                };
                for item in na {
                    z.items
                        .entry(format!("i{item}"))
                        .or_default()
                        .not_applicable = true;
                }
                for &(item, count) in deductions {
                    let entry = z.items.entry(format!("i{item}")).or_default();
                    entry.deductions.insert("r1".into(), Tally::new(count));
                }
                s.zones.insert("z1".into(), z);
            })
            .expect("sheet saved");
        device.sync().await;
        assert!(device.repo.quarantine().expect("quarantine").is_empty());
    }
    sec.sync().await;
    zonepatrol_app::records::patrol::close_patrol(
        &sec.repo,
        &actor("sec", Role::Secretary),
        "w-private",
    )
    .expect("closed");
    sec.sync().await;
}
