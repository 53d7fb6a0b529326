//! One phone shared underground: people who signed in on it online before hand it over and sign
//! in on the phone alone while the server is down; each works under their own name and sees
//! only what they may read; when the server is back, everyone's work reaches it under the right
//! name, whoever holds the phone then.

use std::sync::Arc;

use zonepatrol_app::photo::{self, PhotoSettings};
use zonepatrol_app::records::problem as records;
use zonepatrol_app::store::Unlock;
use zonepatrol_app::sync::SyncError;
use zonepatrol_server::seed::DEMO_PASSWORD;
use zonepatrol_shared::docs::{Day, FreeText, Patrol, Problem, Sheet, ZoneSheet};
use zonepatrol_shared::{Actor, PatrolKind, Role};

use crate::support::{Device, TestServer, id, raise, today};

const PHOTO: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp-orient6.jpg");
const SHEET: &str = "sheet:zcyd:p1:zhao";
const PROBLEM: &str = "problem:zcyd:shared";

async fn hand_over(phone: &Device, user: &str) -> bool {
    phone.client.switch_user().expect("hand over");
    phone
        .client
        .sign_in(&url_of(phone), user, DEMO_PASSWORD, "phone")
        .await
        .expect("signed in")
        .offline
}

fn url_of(phone: &Device) -> String {
    phone.repo.last_server().expect("read").expect("a server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_hand_a_phone_over_offline_and_each_one_s_work_reaches_the_server_as_theirs() {
    let server = TestServer::start().await;
    let url = server.url.clone();

    // The secretary plans a patrol with Zhao; Zhao and the holder sign in on the same phone
    // while the server is reachable.
    let phone = Device::new(&url, "sec").await;
    phone
        .repo
        .edit::<Patrol, _>(&id("patrol:zcyd:p1"), |p| {
            p.plan.kind = PatrolKind::Weekly;
            p.plan.date = Some(Day(today()));
            p.plan.leader = "sec".into();
            p.plan.inspectors.insert("zhao".into(), true);
            p.plan.zones.insert("z1".into(), 1);
        })
        .expect("planned");
    phone.sync().await;
    for user in ["zhao", "h2"] {
        assert!(!hand_over(&phone, user).await, "{user} signs in online");
        phone.sync().await;
    }

    // The server goes down.
    let kept = server.stop_keeping_data().await;

    // Zhao scores, offline.
    assert!(
        hand_over(&phone, "zhao").await,
        "Zhao signs in on the phone alone"
    );
    phone
        .repo
        .edit::<Sheet, _>(&id(SHEET), |s| {
            let mut zone = ZoneSheet {
                template: "t1".into(),
                ..Default::default()
            };
            zone.note = FreeText::from("电缆吊挂不齐");
            s.zones.insert("z1".into(), zone);
        })
        .expect("scored");

    // A wrong password does not open the phone, and says how many tries are left.
    phone.client.switch_user().expect("hand over");
    let wrong = phone
        .client
        .sign_in(&url, "sec", "not the password", "phone")
        .await
        .expect_err("wrong password");
    assert!(
        matches!(wrong, SyncError::Unlock(Unlock::Wrong { left: 4 })),
        "{wrong}"
    );
    // Someone who never signed in on this phone needs the server.
    let stranger = phone
        .client
        .sign_in(&url, "qian", DEMO_PASSWORD, "phone")
        .await
        .expect_err("never signed in here");
    assert!(matches!(stranger, SyncError::Offline(_)), "{stranger}");

    // The secretary does not see Zhao's sheet, which stays on the phone; she raises a problem.
    assert!(hand_over(&phone, "sec").await);
    assert!(
        phone
            .repo
            .read::<Sheet>(&id(SHEET))
            .expect("read")
            .is_none()
    );
    assert!(
        phone
            .repo
            .ids_with_prefix("sheet:")
            .expect("ids")
            .is_empty()
    );
    assert!(phone.repo.ids().expect("ids").contains(&SHEET.to_owned()));
    raise(&phone, PROBLEM, "sec", "z2", "h2");

    // The holder fixes it on top of the secretary's unsent problem, with a photo.
    assert!(hand_over(&phone, "h2").await);
    let after = photo::import(
        Arc::clone(&phone.repo),
        PHOTO.to_vec(),
        PhotoSettings::default(),
    )
    .await
    .expect("photo");
    records::rectify(
        &phone.repo,
        &Actor::new("h2", Role::ZoneHolder, "zcyd"),
        "shared",
        "已重新吊挂",
        std::slice::from_ref(&after),
    )
    .expect("fixed");
    assert!(
        matches!(phone.try_sync().await, Err(SyncError::Offline(_))),
        "the server is down"
    );

    // The server comes back where the phone knows it; the holder's sync sends everyone's work.
    let server = TestServer::start_in_at(kept, &url).await;
    let progress = phone.sync().await;
    assert_eq!(
        progress.refused,
        0,
        "{progress:?} {:?}",
        phone.repo.quarantine()
    );
    assert!(!phone.repo.has_unsent().expect("unsent"), "everything went");
    assert!(phone.repo.quarantine().expect("quarantine").is_empty());

    // Zhao's sheet is on the server as his: only he reads it, on a new phone.
    let zhao = Device::new(&server.url, "zhao").await;
    zhao.sync().await;
    let sheet = zhao
        .repo
        .read::<Sheet>(&id(SHEET))
        .expect("read")
        .expect("Zhao's sheet reached the server");
    assert_eq!(sheet.zones["z1"].note.0, "电缆吊挂不齐");
    // The problem is the secretary's, the fix the holder's.
    let sec = Device::new(&server.url, "sec").await;
    sec.sync().await;
    let problem = sec
        .repo
        .read::<Problem>(&id(PROBLEM))
        .expect("read")
        .expect("the problem reached the server");
    assert_eq!(problem.finding.raised_by, "sec");
    let fixes: Vec<&str> = problem.fixes().map(|(_, r)| r.by.as_str()).collect();
    assert_eq!(fixes, vec!["h2"]);
    assert!(sec.repo.read::<Sheet>(&id(SHEET)).expect("read").is_none());
    server.stop().await;
}
