//! The managers' dashboard over real HTTP: who may see what, anonymity of the inspectors'
//! sheets in every page, export and report, and publishing a period.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use zonepatrol_app::records::assessment::Scorer;
use zonepatrol_shared::docs::{DocId, Report};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, Role};

use crate::scenario::{self, AGGREGATE, INSPECTORS, PRIVATE};
use crate::support::{Device, TestServer, today};

/// A browser-like client: signs in with the form and keeps the session cookie.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Browser {
    /// The client, without redirects followed.
    pub fn client(&self) -> &reqwest::Client {
        &self.http
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The session cookie, as sent.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Signs in as a demo user; `None` when the sign-in is refused.
    pub async fn sign_in(base: &str, user: &str, password: &str) -> Option<Browser> {
        zonepatrol_app::sync::install_crypto();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let r = http
            .post(format!("{base}/login"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("user={user}&password={password}&back=%2Fdash"))
            .send()
            .await
            .expect("login answered");
        if r.status() != StatusCode::SEE_OTHER {
            return None;
        }
        let cookie = r.headers()[SET_COOKIE]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("cookie value")
            .to_owned();
        Some(Browser {
            http,
            base: base.to_owned(),
            cookie,
        })
    }

    /// GETs a path; the status and the body.
    pub async fn get(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("answered");
        let status = r.status();
        (status, r.bytes().await.expect("body").to_vec())
    }

    /// GETs a page that must answer 200; its text.
    pub async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        String::from_utf8(body).expect("utf-8")
    }

    /// POSTs a form; the status and where it redirects.
    pub async fn post(&self, path: &str, form: &str) -> (StatusCode, Option<String>) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("answered");
        let to = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().expect("location").to_owned());
        (r.status(), to)
    }

    /// POSTs a form; the status and the page it answers with (empty for a redirect).
    pub async fn post_page(&self, path: &str, form: &str) -> (StatusCode, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("answered");
        let status = r.status();
        (status, r.text().await.expect("a body"))
    }
}

/// Every cell of a workbook's first sheet as text.
pub fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
    cells_of(bytes, 0)
}

/// Every cell of a workbook's `n`th sheet (from 0) as text.
pub fn cells_of(bytes: &[u8], n: usize) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let range = wb
        .worksheet_range_at(n)
        .expect("a sheet")
        .expect("readable");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lets_in_managers_and_secretaries_of_their_own_branch() {
    let server = TestServer::start().await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in [
        "/dash",
        "/dash/export/ledger/zcyd/2026-11",
        "/dash/placard/zcyd/z1",
    ] {
        let r = anonymous
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .expect("answered");
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{path} without signing in"
        );
        assert!(
            r.headers()[LOCATION]
                .to_str()
                .expect("to")
                .starts_with("/login")
        );
    }
    assert!(
        Browser::sign_in(&server.url, "mgr", "wrong")
            .await
            .is_none(),
        "a wrong password is refused"
    );
    let holder = Browser::sign_in(&server.url, "h1", "zonepatrol")
        .await
        .expect("signed in");
    assert_eq!(holder.get("/dash").await.0, StatusCode::FORBIDDEN);
    let other = Browser::sign_in(&server.url, "sec2", "zonepatrol")
        .await
        .expect("signed in");
    assert_eq!(
        other.get("/dash?branch=zcyd").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other.get("/dash/export/ledger/zcyd/2026-11").await.0,
        StatusCode::FORBIDDEN
    );
    let own = other.page("/dash").await;
    assert!(own.contains("掘进一队党支部") && !own.contains("综采一队党支部"));
    // A secretary reads but does not publish.
    let (status, _) = other
        .post("/dash/publish", "branch=jdyd&period=2026-11&action=publish")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another site's form is refused even with the cookie.
    let mgr = Browser::sign_in(&server.url, "mgr", "zonepatrol")
        .await
        .expect("signed in");
    let r = mgr
        .http
        .post(format!("{}/dash/publish", server.url))
        .header("cookie", &mgr.cookie)
        .header("origin", "http://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("branch=zcyd&period=2026-11&action=publish")
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Going back after a sign-in or a language change stays on this site.
    for back in [
        "//evil.example",
        "/%09/evil.example",
        "/\\evil.example",
        "https://evil.example",
    ] {
        let r = anonymous
            .get(format!("{}/lang/en?back={back}", server.url))
            .send()
            .await
            .expect("answered");
        assert_eq!(r.headers()[LOCATION], "/dash", "back={back}");
    }
    let r = anonymous
        .post(format!("{}/login", server.url))
        .header("origin", "http://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("user=mgr&password=zonepatrol")
        .send()
        .await
        .expect("answered");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a sign-in form on another site"
    );
    // Signing out ends the session.
    let (status, _) = mgr.post("/logout", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(mgr.get("/dash").await.0, StatusCode::SEE_OTHER);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_export_or_report_carries_an_inspectors_own_score() {
    let server = TestServer::start().await;
    scenario::enter_private(&server.url).await;
    let day = today();
    let week = Period::containing(PeriodKind::Week, day);
    let month = Period::containing(PeriodKind::Month, day);
    let quarter = Period::containing(PeriodKind::Quarter, day);
    let year = Period::containing(PeriodKind::Year, day);
    let ten_day = Period::containing(PeriodKind::TenDay, day);
    let mgr = Browser::sign_in(&server.url, "mgr", "zonepatrol")
        .await
        .expect("signed in");

    let mut texts: Vec<(String, String)> = Vec::new();
    for path in [
        format!("/dash?branch=zcyd&week={week}&month={month}&tenday={ten_day}"),
        "/dash/zone/zcyd/z1".to_owned(),
        format!("/dash/ledger/zcyd/{month}"),
        format!("/dash/rankings?period={quarter}&branch=zcyd"),
        format!("/dash/rankings?period={year}&branch=zcyd"),
        "/dash/placard/zcyd/z1".to_owned(),
    ] {
        let page = mgr.page(&path).await;
        texts.push((path, page));
    }
    for path in [
        format!("/dash/export/notice/zcyd/{week}"),
        format!("/dash/export/ledger/zcyd/{month}"),
        format!("/dash/export/tenday/zcyd/{ten_day}"),
    ] {
        let (status, bytes) = mgr.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        let all = cells(&bytes)
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n");
        texts.push((path, all));
    }
    // The reports the phones receive, as the secretary's phone stores them.
    let sec = Device::new(&server.url, "sec").await;
    sec.sync().await;
    for period in [week, ten_day, month, quarter, year] {
        let id = DocId::Report {
            branch: "zcyd".into(),
            period,
        };
        // Every period has its report but the ten-day one: nothing was supervised.
        let Some(report) = sec.repo.read::<Report>(&id).expect("read") else {
            assert_eq!(period, ten_day, "{id} synced");
            continue;
        };
        texts.push((id.to_string(), format!("{report:?}")));
    }

    // The test can fail: the aggregate is there, where the week's ranking is.
    assert!(
        texts[0].1.contains(AGGREGATE),
        "the overview shows the zone's aggregate {AGGREGATE}"
    );
    assert!(
        texts
            .iter()
            .any(|(p, t)| p.contains("notice") && t.contains("96.3"))
    );
    for (place, text) in &texts {
        for private in PRIVATE {
            assert!(
                !text.contains(private),
                "{place} shows an inspector's own score {private}"
            );
        }
        for inspector in INSPECTORS {
            assert!(
                !text.contains(&format!("\"{inspector}\""))
                    && !text.contains(&format!(">{inspector}<")),
                "{place} names the inspector {inspector}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_month_freezes_until_a_manager_reopens_it() {
    let server = TestServer::start().await;
    scenario::enter(&server.url).await;
    let month = Period::containing(PeriodKind::Month, today());
    let mgr = Browser::sign_in(&server.url, "mgr", "zonepatrol")
        .await
        .expect("signed in");
    let (status, to) = mgr
        .post(
            "/dash/publish",
            &format!("branch=zcyd&period={month}&action=publish&back=%2Fdash%3Fbranch%3Dzcyd"),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some("/dash?branch=zcyd"));
    let page = mgr.page(&format!("/dash/ledger/zcyd/{month}")).await;
    assert!(
        page.contains("已发布") && page.contains("mgr"),
        "the ledger says who published"
    );
    // Publishing twice is refused.
    let (status, _) = mgr
        .post(
            "/dash/publish",
            &format!("branch=zcyd&period={month}&action=publish"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The secretary's change to the month is refused and the report stays as published.
    let sec = Device::new(&server.url, "sec").await;
    sec.sync().await;
    let id = DocId::Report {
        branch: "zcyd".into(),
        period: month,
    };
    let frozen: Report = sec.repo.read(&id).expect("read").expect("report");
    let published = frozen
        .published
        .clone()
        .expect("the report says it is published");
    assert_eq!(published.by, "mgr");
    let me = Actor::new("sec", Role::Secretary, "zcyd");
    // The app itself refuses, having synced the publication…
    assert!(
        Scorer::Secretary
            .save(&sec.repo, &me, "z2", month, &scenario::items_for("99"), "")
            .is_err(),
        "the app refuses to change a published month"
    );
    // …and the server refuses an edit made without that check.
    sec.repo
        .edit::<zonepatrol_shared::docs::Assessment, _>(
            &DocId::Assessment {
                branch: "zcyd".into(),
                zone: "z2".into(),
                month,
            },
            |a| {
                a.branch_score
                    .items
                    .insert("safety".into(), "1".parse().expect("points"));
            },
        )
        .expect("edited locally");
    sec.sync().await;
    assert_eq!(
        sec.repo.quarantine().expect("quarantine").len(),
        1,
        "refused"
    );
    let still: Report = sec.repo.read(&id).expect("read").expect("report");
    assert_eq!(still.zones, frozen.zones);

    // Reopened: the change goes through and the report follows it again.
    let (status, _) = mgr
        .post(
            "/dash/publish",
            &format!("branch=zcyd&period={month}&action=reopen"),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    sec.sync().await;
    Scorer::Secretary
        .save(&sec.repo, &me, "z2", month, &scenario::items_for("99"), "")
        .expect("open again");
    sec.sync().await;
    let reopened: Report = sec.repo.read(&id).expect("read").expect("report");
    assert!(reopened.published.is_none());
    assert_eq!(
        reopened.zones["z2"].score,
        Some("99".parse().expect("points"))
    );
    assert_eq!(
        reopened.zones["z2"].money_fen, 4000,
        "99 earns 4 points × 10 yuan"
    );
    let page = mgr.page(&format!("/dash/ledger/zcyd/{month}")).await;
    assert!(!page.contains("已发布："));
    server.stop().await;
}
