//! A refused edit comes back (issue 19): the secretary assesses a zone on the phone offline
//! while a manager publishes the month on the dashboard; the push is refused, and the phone
//! shows what the edit was (which field, the value typed) and why. Applied again while the
//! month is still published, it is refused again; once the manager reopens the month it is
//! applied again with one call, accepted, and counts in the month's report. Another user
//! signing in on the phone does not wipe it, and does not see it.

use reqwest::StatusCode;
use zonepatrol_app::records::assessment::Scorer;
use zonepatrol_shared::docs::{DocId, Report};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{Actor, Points, Role};

use crate::dashboard::Browser;
use crate::scenario::items_for;
use crate::support::{Device, TestServer, today};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_edit_is_shown_and_applied_again_once_the_month_is_reopened() {
    let server = TestServer::start().await;
    let url = &server.url;
    let demo = zonepatrol_server::seed::DEMO_PASSWORD;
    let month = Period::containing(PeriodKind::Month, today());
    let sec = Device::new(url, "sec").await;
    sec.sync().await;

    // Offline, the secretary gives 三水平上车场 (z1) 97 with a remark.
    let me = Actor::new("sec", Role::Secretary, "zcyd");
    Scorer::Secretary
        .save(
            &sec.repo,
            &me,
            "z1",
            month,
            &items_for("97"),
            "电缆吊挂已整改",
        )
        .expect("saved on the phone");

    // Meanwhile the manager publishes the month.
    let mgr = Browser::sign_in(url, "mgr", demo).await.expect("mgr");
    let publish = |action: &'static str| {
        let mgr = &mgr;
        async move {
            let (status, body) = mgr
                .post_page(
                    "/dash/publish",
                    &format!("branch=zcyd&period={month}&action={action}"),
                )
                .await;
            assert!(status.is_redirection(), "{action}: {status}: {body}");
        }
    };
    publish("publish").await;

    // The push is refused: the phone says which edit, the value typed, and why.
    sec.sync().await;
    let refused = sec.repo.quarantine_of("sec").expect("quarantine");
    assert_eq!(refused.len(), 1, "{refused:?}");
    let edit = &refused[0];
    assert_eq!(edit.refusal.code, RefusalCode::Locked, "{edit:?}");
    assert!(
        edit.changed
            .iter()
            .any(|c| c.value.as_deref() == Some("电缆吊挂已整改")),
        "the remark typed: {:?}",
        edit.changed
    );
    let report =
        || -> Option<Report> { sec.repo.read(&DocId::report("zcyd", month)).expect("read") };
    let final_of_z1 = || report().and_then(|r| r.zones.get("z1").and_then(|z| z.score));
    assert_eq!(final_of_z1(), None, "nothing of it counts");

    // Another user signs in on the phone (after the secretary signed out): the edit stays,
    // and is not theirs to see.
    sec.client.logout().await.expect("sign out");
    let h1 = sec
        .client
        .login(url, "h1", demo, "phone")
        .await
        .expect("h1 signs in on the same phone");
    drop(h1);
    assert!(sec.repo.quarantine_of("h1").expect("quarantine").is_empty());
    assert_eq!(sec.repo.quarantine().expect("quarantine").len(), 1);
    sec.client.logout().await.expect("sign out");
    sec.client
        .login(url, "sec", demo, "phone")
        .await
        .expect("the secretary again");
    sec.sync().await;
    let key = sec.repo.quarantine_of("sec").expect("quarantine")[0].key;

    // Applied again while the month is published: refused again, with the same reason.
    sec.repo.reapply(key).expect("applied again");
    assert!(
        sec.repo
            .quarantine_of("sec")
            .expect("quarantine")
            .is_empty()
    );
    sec.sync().await;
    let again = sec.repo.quarantine_of("sec").expect("quarantine");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].refusal.code, RefusalCode::Locked);

    // The manager reopens the month; one tap applies the edit again, and it counts.
    publish("reopen").await;
    sec.repo.reapply(again[0].key).expect("applied again");
    sec.sync().await;
    sec.sync().await;
    assert!(
        sec.repo
            .quarantine_of("sec")
            .expect("quarantine")
            .is_empty(),
        "accepted"
    );
    assert_eq!(final_of_z1(), Some(Points::whole(97)));
    let (status, _) = mgr.get(&format!("/dash/ledger/zcyd/{month}")).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

/// A week's edits of one record, one of them refused: the others land, one at a time, and the
/// refused one alone waits, shown with its field and value; once its cause is gone (the zone
/// now has the holders its shares name) it is applied again and accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_edit_does_not_take_the_record_s_other_edits_down_with_it() {
    use zonepatrol_shared::docs::Directory;
    let server = TestServer::start().await;
    let url = &server.url;
    let demo = zonepatrol_server::seed::DEMO_PASSWORD;
    let sec = Device::new(url, "sec").await;
    sec.sync().await;
    let id = DocId::directory("zcyd");
    let me = Actor::new("sec", Role::Secretary, "zcyd");

    // Offline, three edits of the branch's directory. The second gives 三水平上车场 (z1) shares
    // for 刘师傅 (h2), who does not hold it: the server refuses that. It is written past the
    // phone's own check, as an older app would have (the server is the authority).
    sec.repo
        .edit_as::<Directory, _>(&me, &id, |d| {
            d.zones.get_mut("z2").expect("z2").location = "二水平".into()
        })
        .expect("edit 1");
    sec.repo
        .edit::<Directory, _>(&id, |d| {
            d.zones.get_mut("z1").expect("z1").shares =
                [("h1".into(), 60), ("h2".into(), 40)].into()
        })
        .expect("edit 2");
    sec.repo
        .edit::<Directory, _>(&id, |d| {
            d.zones.get_mut("z3").expect("z3").location = "中央变电所南侧".into()
        })
        .expect("edit 3");

    // One sync: the three are refused together, then sent again one at a time.
    sec.sync().await;
    let refused = sec.repo.quarantine_of("sec").expect("quarantine");
    assert_eq!(refused.len(), 1, "only the bad edit waits: {refused:?}");
    assert!(
        refused[0].changed.iter().any(|c| c
            .path
            .ends_with(&["shares".to_owned(), "h2".to_owned()])
            && c.value.as_deref() == Some("40")),
        "{:?}",
        refused[0].changed
    );
    assert!(!sec.repo.has_unsent().expect("unsent"));
    // The server has the two good edits and not the bad one.
    let web = Browser::sign_in(url, "sec", demo).await.expect("sec");
    let page = web.page("/admin/branch/zcyd/zone/z2").await;
    assert!(page.contains("二水平"), "edit 1 landed");
    let page = web.page("/admin/branch/zcyd/zone/z3").await;
    assert!(page.contains("中央变电所南侧"), "edit 3 landed");
    let other = Device::new(url, "h1").await;
    other.sync().await;
    let seen: Directory = other.repo.read(&id).expect("read").expect("directory");
    assert!(seen.zones["z1"].shares.is_empty(), "edit 2 did not");
    assert_eq!(seen.zones["z2"].location, "二水平");

    // The cause goes: the secretary names both holders of z1 on the console. Applied again,
    // the edit is accepted.
    let (status, body) = web
        .post_page(
            "/admin/branch/zcyd/zone/z1",
            "name=三水平上车场&template=t1&active=on&holder=h1&holder=h2&share-h1=&share-h2=",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    sec.sync().await;
    sec.repo.reapply(refused[0].key).expect("applied again");
    sec.sync().await;
    assert!(
        sec.repo
            .quarantine_of("sec")
            .expect("quarantine")
            .is_empty()
    );
    other.sync().await;
    let seen: Directory = other.repo.read(&id).expect("read").expect("directory");
    assert_eq!(
        seen.zones["z1"].shares.get("h2"),
        Some(&40),
        "{:?}",
        seen.zones["z1"]
    );
    server.stop().await;
}
