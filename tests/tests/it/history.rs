//! A record's history over real HTTP: each change with who made it, from which device, when
//! and what it set, on the dashboard (names and devices from the server's actor registry) and
//! on the phone offline (the people who signed in on it named, others by their actor). A
//! sheet's history is its inspector's alone, even to a manager.

use std::sync::Arc;

use zonepatrol_app::photo::{self, PhotoSettings};
use zonepatrol_app::records::problem as records;
use zonepatrol_app::ui::history::{Author, rows};
use zonepatrol_shared::history::{self, Hidden};
use zonepatrol_shared::labels::Lang;
use zonepatrol_shared::rules::MineClock;
use zonepatrol_shared::{Actor, Role};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, id, raise};
use zonepatrol_server::seed::DEMO_PASSWORD;

const PHOTO: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp-orient6.jpg");
const NAME: &str = "p-history";
const ID: &str = "problem:zcyd:p-history";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_history_names_each_person_their_device_and_each_field() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::named(url, "sec", DEMO_PASSWORD, "Android 0a1b2c3d").await;
    let holder = Device::named(url, "h2", DEMO_PASSWORD, "Android 99887766").await;
    sec.sync().await;
    raise(&sec, ID, "sec", "z2", "h2");
    sec.sync().await;
    holder.sync().await;
    let after = photo::import(
        Arc::clone(&holder.repo),
        PHOTO.to_vec(),
        PhotoSettings::default(),
    )
    .await
    .expect("photo");
    let h2 = Actor::new("h2", Role::ZoneHolder, "zcyd");
    records::rectify(&holder.repo, &h2, NAME, "托辊已补齐", &[after]).expect("fixed");
    assert_eq!(holder.sync().await.refused, 0);

    // The dashboard: newest first, each change with the person's name, their device and the
    // fields in words.
    let browser = Browser::sign_in(url, "mgr", "zonepatrol")
        .await
        .expect("signed in");
    let problem = browser.page(&format!("/dash/problem/zcyd/{NAME}")).await;
    assert!(
        problem.contains(&format!("/dash/history/{ID}")),
        "the problem links to its history: {problem}"
    );
    let page = browser.page(&format!("/dash/history/{ID}")).await;
    let list = &page[page.find(r#"id="history""#).expect("the history")..];
    let order: Vec<usize> = [
        "刘师傅",
        "Android 99887766",
        "整改 › ",
        "托辊已补齐",
        "王书记",
        "Android 0a1b2c3d",
        "问题 › 问题描述",
        "皮带机托辊缺失",
        "建立记录",
    ]
    .iter()
    .map(|text| {
        list.find(text)
            .unwrap_or_else(|| panic!("{text} in {page}"))
    })
    .collect();
    assert!(order.is_sorted(), "newest first: {order:?}\n{page}");
    assert_eq!(list.matches(r#"class="change""#).count(), 3, "{page}");

    // Another branch's secretary reads neither the problem nor its history; nobody reads
    // another inspector's sheet's history, a manager neither; results have none.
    let other = Browser::sign_in(url, "sec2", "zonepatrol")
        .await
        .expect("signed in");
    let (code, _) = other.get(&format!("/dash/history/{ID}")).await;
    assert_eq!(code, reqwest::StatusCode::FORBIDDEN);
    let (code, body) = browser.get("/dash/history/sheet:zcyd:w1:zhao").await;
    assert_eq!(code, reqwest::StatusCode::FORBIDDEN);
    assert!(
        String::from_utf8_lossy(&body).contains("只有本人可见"),
        "says why"
    );
    let (code, _) = browser.get("/dash/history/problem:zcyd:nothing-here").await;
    assert_eq!(code, reqwest::StatusCode::NOT_FOUND);
    let (code, _) = browser.get("/dash/history/not-an-id").await;
    assert_eq!(code, reqwest::StatusCode::NOT_FOUND);

    // The holder's phone, with the server gone: the holder's own change is named, the
    // secretary's came from another phone.
    drop(server);
    let mut doc = holder.repo.load(ID).expect("read").expect("on the phone");
    let record = history::history(doc.document(), &id(ID));
    let here = holder.repo.account_actors().expect("accounts");
    let shown = rows(Lang::Zh, MineClock::default(), &record, &here);
    assert_eq!(shown.len(), 3);
    assert_eq!(shown[0].author, Author::Here("h2".into()));
    assert!(
        shown[0]
            .fields
            .iter()
            .any(|(label, value)| label.starts_with("整改 › ")
                && label.ends_with("说明")
                && value.as_deref() == Some("托辊已补齐")),
        "{:?}",
        shown[0].fields
    );
    assert!(matches!(shown[1].author, Author::Elsewhere(_)));
    assert_eq!(shown[2].author, Author::Genesis);
    let zhao = Actor::new("zhao", Role::Inspector, "zcyd");
    assert_eq!(
        history::may_see_history(&h2, &id("sheet:zcyd:w1:zhao")),
        Err(Hidden::OthersSheet)
    );
    assert_eq!(
        history::may_see_history(&zhao, &id("sheet:zcyd:w1:zhao")),
        Ok(())
    );
}
