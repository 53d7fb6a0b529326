//! Money per member over real HTTP (党员业绩考核台帐): the secretary sets how a zone's money is
//! shared among its holders on the console (or leaves it equal); holders self-score and the
//! secretary assesses on phones offline, synced in a random order; the month's report on the
//! phone, the ledger page and its export say what each member receives, to the fen.

use rand::seq::SliceRandom;
use reqwest::StatusCode;
use zonepatrol_app::records::assessment::Scorer;
use zonepatrol_shared::docs::{DocId, Report};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, Role};

use crate::dashboard::{Browser, cells_of};
use crate::scenario::items_for;
use crate::support::{Device, TestServer, today};

/// The zone form with its name, template and the given holders and shares.
fn zone_form(name: &str, holders: &[(&str, &str)]) -> String {
    let mut form = format!("name={name}&template=t1&active=on");
    for (h, share) in holders {
        form.push_str(&format!("&holder={h}&share-{h}={share}"));
    }
    form
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_s_money_goes_to_its_holders_equally_or_in_the_secretary_s_shares() {
    let server = TestServer::start().await;
    let url = &server.url;
    let demo = zonepatrol_server::seed::DEMO_PASSWORD;
    let web = Browser::sign_in(url, "sec", demo).await.expect("sec");

    // Shares that cannot stand are refused, each with what to do.
    for (holders, says) in [
        (vec![("h1", "70"), ("h2", "20")], "份额合计 90%"),
        (vec![("h1", "100"), ("h2", "")], "没有填写份额"),
        (vec![("h1", "六十"), ("h2", "40")], "0 到 100 的整数"),
        (vec![("h1", "160"), ("h2", "-60")], "0 到 100 的整数"),
    ] {
        let (status, body) = web
            .post_page("/admin/branch/zcyd/zone/z1", &zone_form("z1x", &holders))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{holders:?}");
        assert!(body.contains(says), "{holders:?}: {body}");
    }
    // 三水平上车场 (z1): 张师傅 (h1) 60%, 刘师傅 (h2) 40%. 802溜子道 (z2): h2, h3, h4 in equal
    // parts. 中央变电所 (z3): h3 alone, as seeded. 综采工作面 (z4): nobody holds it.
    for (zone, name, holders) in [
        ("z1", "三水平上车场", vec![("h1", "60"), ("h2", "40")]),
        ("z2", "802溜子道", vec![("h2", ""), ("h3", ""), ("h4", "")]),
        ("z4", "综采工作面", vec![]),
    ] {
        let (status, body) = web
            .post_page(
                &format!("/admin/branch/zcyd/zone/{zone}"),
                &zone_form(name, &holders),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{zone}: {body}");
    }
    let page = web.page("/admin/branch/zcyd/zone/z1").await;
    assert!(
        page.contains(r#"name="share-h1" min="0" max="100""#),
        "{page}"
    );
    assert!(page.contains(r#"value="60""#), "{page}");

    // The phones take the directory, then work offline: 张师傅 self-scores z1, 陈师傅 (h3)
    // z2; the secretary gives the finals — z1 97, z2 96.01, z3 80, z4 84.
    let month = Period::containing(PeriodKind::Month, today());
    let sec = Device::new(url, "sec").await;
    let h1 = Device::new(url, "h1").await;
    let h3 = Device::new(url, "h3").await;
    for d in [&sec, &h1, &h3] {
        d.sync().await;
    }
    Scorer::Holder
        .save(
            &h1.repo,
            &Actor::new("h1", Role::ZoneHolder, "zcyd"),
            "z1",
            month,
            &items_for("98"),
            "",
        )
        .expect("h1's self-score");
    Scorer::Holder
        .save(
            &h3.repo,
            &Actor::new("h3", Role::ZoneHolder, "zcyd"),
            "z2",
            month,
            &items_for("97"),
            "",
        )
        .expect("h3's self-score");
    let me = Actor::new("sec", Role::Secretary, "zcyd");
    for (zone, fin) in [("z1", "97"), ("z2", "96.01"), ("z3", "80"), ("z4", "84")] {
        Scorer::Secretary
            .save(&sec.repo, &me, zone, month, &items_for(fin), "")
            .unwrap_or_else(|e| panic!("{zone}: {e:?}"));
    }
    let mut order = vec![&sec, &h1, &h3];
    order.shuffle(&mut rand::rng());
    for d in order {
        d.sync().await;
    }
    sec.sync().await;
    for d in [&sec, &h1, &h3] {
        assert!(d.repo.quarantine().expect("quarantine").is_empty());
    }

    // By hand (10 yuan a point above 95 or below 85):
    // z1 97    → +20.00: h1 60% = +12.00, h2 40% = +8.00.
    // z2 96.01 → +10.10 = 1,010 fen in three: 336.67 each, so 336 each and the two fen left
    //            to the first two holders: h2 +3.37, h3 +3.37, h4 +3.36.
    // z3 80    → −50.00: h3 −50.00.
    // z4 84    → −10.00: nobody holds it; it goes to no one.
    // Members: h1 +12.00; h2 8.00 + 3.37 = +11.37; h4 +3.36; h3 3.37 − 50.00 = −46.63.
    let report: Report = sec
        .repo
        .read(&DocId::report("zcyd", month))
        .expect("read")
        .expect("the month's report");
    let payees = |zone: &str| -> Vec<(String, i64)> {
        report.zones[zone]
            .payees
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    let want = |list: &[(&str, i64)]| -> Vec<(String, i64)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    assert_eq!(payees("z1"), want(&[("h1", 1200), ("h2", 800)]));
    assert_eq!(payees("z2"), want(&[("h2", 337), ("h3", 337), ("h4", 336)]));
    assert_eq!(payees("z3"), want(&[("h3", -5000)]));
    assert_eq!(payees("z4"), want(&[]));
    assert_eq!(report.zones["z4"].money_fen, -1000);
    // The quarter adds its months up: one month so far.
    let quarter = quarter_of(&sec);
    assert_eq!(quarter.zones["z2"].payees, report.zones["z2"].payees);

    // The ledger page: the shares beside the holders, then one line per member.
    let page = web.page(&format!("/dash/ledger/zcyd/{month}")).await;
    assert!(page.contains("张师傅（60%）、刘师傅（40%）"), "{page}");
    for (member, money) in [
        ("h1", "+12.00"),
        ("h2", "+11.37"),
        ("h3", "-46.63"),
        ("h4", "+3.36"),
    ] {
        let row = member_row(&page, member);
        assert_eq!(last_cell(row), money, "{member}: {row}");
    }
    let unassigned = page
        .split("id=\"unassigned\"")
        .nth(1)
        .and_then(|r| r.split("</p>").next())
        .unwrap_or_else(|| panic!("the warning of money nobody receives: {page}"));
    assert!(unassigned.contains("-10.00"), "{unassigned}");

    // Members who hold no zone have no line (the team leader).
    assert!(!page.contains(r#"data-member="tl""#), "{page}");

    // The export's member sheet: one row per member who holds a zone, by money, adding up to
    // what the holders receive (−19.90; the −10.00 of z4 goes to nobody).
    let (status, bytes) = web.get(&format!("/dash/export/ledger/zcyd/{month}")).await;
    assert_eq!(status, StatusCode::OK);
    let rows = cells_of(&bytes, 1);
    let members: Vec<(String, String)> = rows
        .iter()
        .skip(3)
        .take_while(|r| r.get(1).is_some_and(|c| c != "合计"))
        .map(|r| (r[1].clone(), r[3].clone()))
        .collect();
    let want: Vec<(String, String)> = [
        ("张师傅", "12"),
        ("刘师傅", "11.37"),
        ("杨师傅", "3.36"),
        ("陈师傅", "-46.63"),
    ]
    .iter()
    .map(|(n, m)| ((*n).to_owned(), (*m).to_owned()))
    .collect();
    assert_eq!(members, want, "{rows:?}");
    let total = rows
        .iter()
        .find(|r| r.get(1).is_some_and(|c| c == "合计"))
        .expect("a total row");
    assert_eq!(total[3], "-19.9");
    assert!(
        rows.iter()
            .flatten()
            .any(|c| c.contains("没有责任人的责任区") && c.contains("-10.00")),
        "{rows:?}"
    );
    let zcyd_zone_line = rows
        .iter()
        .find(|r| r[1] == "刘师傅")
        .expect("刘师傅's row");
    assert!(
        zcyd_zone_line[2].contains("三水平上车场 97 +8.00")
            && zcyd_zone_line[2].contains("802溜子道 96.01 +3.37"),
        "{zcyd_zone_line:?}"
    );

    // The manager publishes the month; then the secretary hands z1 to 杨师傅 (h4) alone. The
    // published month pays whom it paid: its member lines and its quarter stay as they were,
    // and 杨师傅 gains no line for z1 in it.
    let mgr = Browser::sign_in(url, "mgr", demo).await.expect("mgr");
    let (status, body) = mgr
        .post_page(
            "/dash/publish",
            &format!("branch=zcyd&period={month}&action=publish"),
        )
        .await;
    assert!(status.is_redirection(), "{status}: {body}");
    let (status, body) = web
        .post_page(
            "/admin/branch/zcyd/zone/z1",
            &zone_form("三水平上车场", &[("h4", "")]),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    sec.sync().await;
    let quarter_after = quarter_of(&sec);
    assert_eq!(
        quarter_after.zones["z1"].payees, report.zones["z1"].payees,
        "the quarter keeps the published month's payees"
    );
    let page = web.page(&format!("/dash/ledger/zcyd/{month}")).await;
    for (member, money) in [("h1", "+12.00"), ("h2", "+11.37"), ("h4", "+3.36")] {
        let row = member_row(&page, member);
        assert_eq!(last_cell(row), money, "{member}: {row}");
        if member == "h4" {
            assert!(!row.contains("三水平上车场"), "{row}");
        }
    }
    server.stop().await;
}

/// This quarter's report of the branch, as the phone has it.
fn quarter_of(device: &Device) -> Report {
    device
        .repo
        .read(&DocId::report(
            "zcyd",
            Period::containing(PeriodKind::Quarter, today()),
        ))
        .expect("read")
        .expect("the quarter's report")
}

/// A member's line of the ledger page.
fn member_row<'a>(page: &'a str, member: &str) -> &'a str {
    page.split(&format!(r#"data-member="{member}""#))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("{member}'s line: {page}"))
}

/// The text of a table row's last cell.
fn last_cell(row: &str) -> String {
    let cell = row.rsplit("<td").next().unwrap_or_default();
    let text = cell.split_once('>').map_or("", |(_, t)| t);
    text.split("</td>")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}
