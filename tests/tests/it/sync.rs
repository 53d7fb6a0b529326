//! Devices that work offline and sync later: edits merge without loss, in any order; a
//! refused edit goes to quarantine; a sync with nothing new is one small round trip.

use std::collections::BTreeMap;

use zonepatrol_app::store::now_millis;
use zonepatrol_shared::docs::{
    Assessment, Day, Directory, DocId, FreeText, LockAction, LockEvent, Patrol, Problem,
    Publication, Rectification,
};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{PatrolKind, Points, Severity};

use crate::support::{Device, TestServer, id, today};

const PATROL: &str = "patrol:zcyd:p1";
const PROBLEM: &str = "problem:zcyd:x1";

fn month() -> Period {
    Period::containing(PeriodKind::Month, today())
}

fn assessment() -> String {
    DocId::assessment("zcyd", "z1", month()).to_string()
}

/// The secretary plans a patrol, raises a problem for zone holder h1 and opens the month's
/// assessment of zone z1, and syncs.
async fn start_records(sec: &Device) {
    sec.repo
        .edit::<Patrol, _>(&id(PATROL), |p| {
            p.plan.kind = PatrolKind::Weekly;
            p.plan.date = Some(Day(today()));
            p.plan.leader = "sec".into();
            p.plan.inspectors.insert("zhao".into(), true);
            p.plan.zones.insert("z1".into(), 1);
        })
        .expect("patrol saved");
    sec.repo
        .edit::<Problem, _>(&id(PROBLEM), |p| {
            p.finding.zone = "z1".into();
            p.finding.raised_by = "sec".into();
            p.finding.raised_at = now_millis();
            p.finding.description = FreeText::from("巷道积水");
            p.finding.severity = Severity::General;
            p.finding.responsible = "h1".into();
            p.finding.deadline = Some(Day(today() + chrono::Days::new(7)));
        })
        .expect("problem saved");
    sec.repo
        .edit::<Assessment, _>(&id(&assessment()), |_| {})
        .expect("assessment saved");
    sec.sync().await;
}

/// Each device's offline edits to the same three documents.
fn edit_offline(device: &Device, who: usize) {
    let repo = &device.repo;
    match who {
        0 => {
            repo.edit::<Patrol, _>(&id(PATROL), |p| {
                p.plan.zones.insert("z2".into(), 2);
                p.notes = FreeText::from("甲：已到三水平");
            })
            .expect("saved");
            repo.edit::<Problem, _>(&id(PROBLEM), |p| {
                p.finding.measure = FreeText::from("清理积水，疏通水沟");
            })
            .expect("saved");
            repo.edit::<Assessment, _>(&id(&assessment()), |a| {
                a.branch_score.by = "sec".into();
                a.branch_score
                    .items
                    .insert("safety".into(), Points::whole(9));
            })
            .expect("saved");
        }
        1 => {
            repo.edit::<Patrol, _>(&id(PATROL), |p| {
                p.plan.inspectors.insert("qian".into(), true);
                p.notes = FreeText::from("乙：802溜子道");
            })
            .expect("saved");
            repo.edit::<Problem, _>(&id(PROBLEM), |p| {
                p.finding.description = FreeText::from("巷道积水，深约十厘米");
            })
            .expect("saved");
            repo.edit::<Assessment, _>(&id(&assessment()), |a| {
                a.branch_score.by = "sec".into();
                a.branch_score.items.insert("task".into(), Points::whole(8));
            })
            .expect("saved");
        }
        _ => {
            repo.edit::<Problem, _>(&id(PROBLEM), |p| {
                p.rectifications.insert(
                    "r1".into(),
                    Rectification {
                        at: now_millis(),
                        by: "h1".into(),
                        note: FreeText::from("已清理"),
                        photos: BTreeMap::new(),
                        extension: None,
                    },
                );
            })
            .expect("saved");
            repo.edit::<Assessment, _>(&id(&assessment()), |a| {
                a.self_score.by = "h1".into();
                a.self_score
                    .items
                    .insert("safety".into(), Points::whole(10));
                a.self_score.note = FreeText::from("自评");
            })
            .expect("saved");
        }
    }
}

fn check_every_edit_kept(device: &Device) {
    let who = &device.user;
    let patrol: Patrol = device
        .repo
        .read(&id(PATROL))
        .expect("read")
        .expect("patrol");
    assert!(
        patrol.plan.zones.contains_key("z1") && patrol.plan.zones.contains_key("z2"),
        "{who}: {patrol:?}"
    );
    assert!(
        patrol.plan.inspectors.contains_key("qian"),
        "{who}: {patrol:?}"
    );
    let notes = patrol.notes.as_str();
    assert!(
        notes.contains("甲：已到三水平") && notes.contains("乙：802溜子道"),
        "{who}: {notes}"
    );
    let problem: Problem = device
        .repo
        .read(&id(PROBLEM))
        .expect("read")
        .expect("problem");
    assert_eq!(
        problem.finding.measure.as_str(),
        "清理积水，疏通水沟",
        "{who}"
    );
    assert_eq!(
        problem.finding.description.as_str(),
        "巷道积水，深约十厘米",
        "{who}"
    );
    assert!(
        problem.rectifications.contains_key("r1"),
        "{who}: {problem:?}"
    );
    let a: Assessment = device
        .repo
        .read(&id(&assessment()))
        .expect("read")
        .expect("assessment");
    assert_eq!(
        a.branch_score.items.get("safety"),
        Some(&Points::whole(9)),
        "{who}"
    );
    assert_eq!(
        a.branch_score.items.get("task"),
        Some(&Points::whole(8)),
        "{who}"
    );
    assert_eq!(
        a.self_score.items.get("safety"),
        Some(&Points::whole(10)),
        "{who}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_devices_edit_offline_and_converge_in_every_order() {
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let server = TestServer::start().await;
        // The secretary's phone, the secretary's tablet, and zone holder h1's phone.
        let devices = [
            Device::new(&server.url, "sec").await,
            Device::new(&server.url, "sec").await,
            Device::new(&server.url, "h1").await,
        ];
        start_records(&devices[0]).await;
        devices[1].sync().await;
        devices[2].sync().await;
        for (who, device) in devices.iter().enumerate() {
            edit_offline(device, who);
        }
        for &n in &order {
            let progress = devices[n].sync().await;
            assert_eq!(progress.refused, 0, "order {order:?}: device {n} refused");
        }
        // One more round so the first to sync takes in what came after it.
        for device in &devices {
            device.sync().await;
        }
        let reference = devices[0].state();
        for device in &devices {
            assert_eq!(
                device.state(),
                reference,
                "order {order:?}: {} differs",
                device.user
            );
            check_every_edit_kept(device);
            assert!(device.repo.quarantine().expect("quarantine").is_empty());
            assert!(!device.repo.has_unsent().expect("unsent"));
        }
        // The server holds the same: a manager's new device receives exactly this state for
        // the three documents.
        let manager = Device::new(&server.url, "mgr").await;
        manager.sync().await;
        let theirs: Vec<_> = manager
            .state()
            .into_iter()
            .filter(|(id, _)| reference.iter().any(|(r, _)| r == id))
            .collect();
        assert_eq!(theirs, reference, "order {order:?}: the server differs");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_to_a_month_locked_while_offline_is_quarantined_and_nothing_else_is_lost() {
    let server = TestServer::start().await;
    let sec = Device::new(&server.url, "sec").await;
    start_records(&sec).await;

    // Offline: the secretary scores the month, and also notes where zone z1 is.
    sec.repo
        .edit::<Assessment, _>(&id(&assessment()), |a| {
            a.branch_score.by = "sec".into();
            a.branch_score
                .items
                .insert("safety".into(), Points::whole(7));
        })
        .expect("saved");
    sec.repo
        .edit::<Directory, _>(&id("directory:zcyd"), |d| {
            if let Some(zone) = d.zones.get_mut("z1") {
                zone.location = "三水平 +120m 车场".into();
            }
        })
        .expect("saved");

    // Meanwhile a manager publishes the month.
    let manager = Device::new(&server.url, "mgr").await;
    manager
        .repo
        .edit::<Publication, _>(&id("publication:zcyd"), |p| {
            p.events.insert(
                "e1".into(),
                LockEvent {
                    period: month().to_string(),
                    action: LockAction::Publish,
                    by: "mgr".into(),
                    at: now_millis(),
                    seq: 1,
                },
            );
        })
        .expect("saved");
    assert_eq!(manager.sync().await.refused, 0);

    // The secretary syncs: the assessment edit is refused, the directory edit goes through.
    let progress = sec.sync().await;
    let quarantine = sec.repo.quarantine().expect("quarantine");
    assert_eq!(quarantine.len(), 1, "{quarantine:?}");
    assert_eq!(progress.refused, 1);
    assert_eq!(quarantine[0].id, assessment());
    assert_eq!(quarantine[0].refusal.code, RefusalCode::Locked);
    assert!(
        quarantine[0]
            .refusal
            .reason
            .contains("ask a manager to reopen"),
        "{:?}",
        quarantine[0]
    );
    assert!(!quarantine[0].changes.is_empty());

    // The device rewound the assessment to the server's state…
    let a: Assessment = sec
        .repo
        .read(&id(&assessment()))
        .expect("read")
        .expect("doc");
    assert!(a.branch_score.items.is_empty(), "{a:?}");
    assert!(!sec.repo.has_unsent().expect("unsent"));
    // …and kept the rest, which the server took.
    manager.sync().await;
    let directory: Directory = manager
        .repo
        .read(&id("directory:zcyd"))
        .expect("read")
        .expect("directory");
    assert_eq!(directory.zones["z1"].location, "三水平 +120m 车场");
    let problem: Problem = sec.repo.read(&id(PROBLEM)).expect("read").expect("problem");
    assert_eq!(problem.finding.description.as_str(), "巷道积水");
    // The next sync is clean, and the quarantine stays until the user dismisses it.
    assert_eq!(sec.sync().await.refused, 0);
    assert_eq!(sec.repo.quarantine().expect("quarantine").len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_with_nothing_new_is_one_small_round_trip() {
    let server = TestServer::start().await;
    let sec = Device::new(&server.url, "sec").await;
    start_records(&sec).await;
    sec.sync().await;
    let progress = sec.sync().await;
    assert_eq!(progress.round_trips, 1, "{progress:?}");
    assert!(
        progress.bytes_up + progress.bytes_down < 1024,
        "{progress:?}"
    );
    assert_eq!(progress.docs_up + progress.docs_down, 0, "{progress:?}");
    server.stop().await;
}

/// A new phone's first sync, over many answers (a small answer budget): a document written
/// early and written again late moves to the end of the server's list, past the answers that
/// carry the documents first written around it. It must still arrive whole, and the sync end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_over_many_answers_brings_documents_written_again_whole() {
    let server = TestServer::start_with(|s| s.max_response_bytes = 16 * 1024).await;
    let sec = Device::new(&server.url, "sec").await;
    crate::support::raise(&sec, "problem:zcyd:early", "sec", "z1", "h1");
    sec.sync().await;
    for n in 0..40 {
        crate::support::raise(&sec, &format!("problem:zcyd:later{n}"), "sec", "z2", "h2");
    }
    sec.sync().await;
    let early = id("problem:zcyd:early");
    sec.repo
        .edit::<Problem, _>(&early, |p| {
            p.finding.description = FreeText("电缆吊挂不整齐，已补充说明".into());
        })
        .expect("edited");
    sec.sync().await;

    let new_phone = Device::new(&server.url, "sec").await;
    let progress = new_phone.try_sync().await.expect("the first sync ends");
    assert!(progress.docs_down > 40, "{progress:?}");
    let p: Problem = new_phone
        .repo
        .read(&early)
        .expect("reads")
        .expect("arrived");
    assert_eq!(p.finding.description.0, "电缆吊挂不整齐，已补充说明");
    assert_eq!(new_phone.state(), sec.state());
}
