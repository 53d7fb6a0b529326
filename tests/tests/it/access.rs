//! Who may do what: every route needs a live token, and a user reads and writes only their
//! branch's documents, and of sheets only their own.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use zonepatrol_app::store::now_millis;
use zonepatrol_shared::docs::{Day, FreeText, Patrol, Problem, Sheet, ZoneSheet};
use zonepatrol_shared::protocol::{ErrorBody, ErrorCode, LoginResponse};
use zonepatrol_shared::validate::RefusalCode;
use zonepatrol_shared::{PatrolKind, Severity};

use crate::support::{Device, TestServer, http, id, today};

const PHOTO: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp.jpg");

/// Every authenticated route, with a body it would accept.
fn routes(hash: &str) -> Vec<(Method, String, Option<serde_json::Value>)> {
    vec![
        (Method::GET, "/v1/me".into(), None),
        (
            Method::POST,
            "/v1/sync".into(),
            Some(serde_json::json!({"cursor": 0, "push": []})),
        ),
        (
            Method::POST,
            "/v1/blobs/check".into(),
            Some(serde_json::json!({ "hashes": [hash] })),
        ),
        (Method::HEAD, format!("/v1/blobs/{hash}"), None),
        (Method::GET, format!("/v1/blobs/{hash}"), None),
        (Method::PUT, format!("/v1/blobs/{hash}"), None),
        (Method::POST, "/v1/logout".into(), None),
    ]
}

async fn call(
    url: &str,
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    token: Option<&str>,
) -> (StatusCode, Vec<u8>) {
    let mut request = http().request(method.clone(), format!("{url}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    if method == Method::PUT {
        request = request.header("upload-length", "3").body("abc");
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.bytes().await.expect("body").to_vec())
}

async fn login(url: &str, user: &str) -> String {
    let response: LoginResponse = http()
        .post(format!("{url}/v1/login"))
        .json(&serde_json::json!({"user": user, "password": "zonepatrol", "device": "t"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    response.token
}

fn assert_unauthorized(what: &str, method: &Method, path: &str, status: StatusCode, body: &[u8]) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {method} {path}");
    if *method != Method::HEAD {
        let error: ErrorBody = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{what}: {method} {path}: not a JSON error: {e}"));
        assert_eq!(error.error, ErrorCode::Unauthorized);
        assert!(!error.message.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_missing_forged_revoked_and_expired_tokens() {
    let server = TestServer::start_with(|s| s.token_ttl = Duration::from_secs(2)).await;
    let url = &server.url;
    let hash = "ab".repeat(32);

    // With a live token no route answers 401: the checks below can fail.
    for (method, path, body) in routes(&hash) {
        let token = login(url, "sec").await;
        let (status, _) = call(url, method.clone(), &path, body.as_ref(), Some(&token)).await;
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }

    let expiring = login(url, "sec").await;
    let revoked = login(url, "sec").await;
    let (status, _) = call(url, Method::POST, "/v1/logout", None, Some(&revoked)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let forged = "0".repeat(64);
    tokio::time::sleep(Duration::from_millis(2100)).await;

    for (method, path, body) in routes(&hash) {
        let (status, bytes) = call(url, method.clone(), &path, body.as_ref(), None).await;
        assert_unauthorized("no token", &method, &path, status, &bytes);
        for (what, token) in [
            ("forged", forged.as_str()),
            ("revoked", revoked.as_str()),
            ("expired", expiring.as_str()),
            ("garbage", "not-a-token"),
        ] {
            let (status, bytes) =
                call(url, method.clone(), &path, body.as_ref(), Some(token)).await;
            assert_unauthorized(what, &method, &path, status, &bytes);
        }
        let mut request = http().request(method.clone(), format!("{url}{path}"));
        request = request.header("authorization", format!("Basic {forged}"));
        let status = request.send().await.expect("request").status();
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "basic auth: {method} {path}"
        );
    }

    // A wrong password, and an unknown user, get the same 401.
    for (user, password) in [("sec", "wrong password"), ("nobody", "zonepatrol")] {
        let response = http()
            .post(format!("{url}/v1/login"))
            .json(&serde_json::json!({"user": user, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let error: ErrorBody = response.json().await.expect("json error");
        assert_eq!(error.error, ErrorCode::Unauthorized);
    }
    server.stop().await;
}

async fn plan_patrol(sec: &Device) {
    sec.repo
        .edit::<Patrol, _>(&id("patrol:zcyd:p1"), |p| {
            p.plan.kind = PatrolKind::Weekly;
            p.plan.date = Some(Day(today()));
            p.plan.leader = "sec".into();
            p.plan.inspectors.insert("zhao".into(), true);
            p.plan.inspectors.insert("qian".into(), true);
            p.plan.zones.insert("z1".into(), 1);
        })
        .expect("saved");
    sec.sync().await;
}

fn score(device: &Device, sheet: &str) {
    device
        .repo
        .edit::<Sheet, _>(&id(sheet), |s| {
            let mut zone = ZoneSheet {
                template: "t1".into(),
                ..Default::default()
            };
            zone.note = FreeText::from("电缆吊挂不齐");
            s.zones.insert("z1".into(), zone);
        })
        .expect("saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_see_and_change_only_their_branch_and_their_own_sheets() {
    let server = TestServer::start().await;
    let sec = Device::new(&server.url, "sec").await;
    plan_patrol(&sec).await;
    let zhao = Device::new(&server.url, "zhao").await;
    let qian = Device::new(&server.url, "qian").await;
    let other_branch = Device::new(&server.url, "sec2").await;
    zhao.sync().await;

    // Zhao scores; his sheet reaches the server and nobody else's device.
    score(&zhao, "sheet:zcyd:p1:zhao");
    assert_eq!(zhao.sync().await.refused, 0);
    let zhao_sheet = zhao.state();
    for device in [&sec, &qian, &other_branch] {
        device.sync().await;
        let ids = device.repo.ids().expect("ids");
        assert!(
            !ids.iter().any(|i| i == "sheet:zcyd:p1:zhao"),
            "{}: {ids:?}",
            device.user
        );
    }
    // The other branch's secretary sees only her branch.
    let ids = other_branch.repo.ids().expect("ids");
    assert_eq!(ids, vec!["directory:jdyd".to_owned()]);
    assert!(
        sec.repo
            .ids()
            .expect("ids")
            .contains(&"patrol:zcyd:p1".to_owned())
    );

    // Qian writes into Zhao's sheet: refused, quarantined, and the server's sheet unchanged.
    score(&qian, "sheet:zcyd:p1:zhao");
    let progress = qian.sync().await;
    assert_eq!(progress.refused, 1);
    let quarantine = qian.repo.quarantine().expect("quarantine");
    assert_eq!(quarantine[0].id, "sheet:zcyd:p1:zhao");
    assert_eq!(quarantine[0].refusal.code, RefusalCode::WrongBranch);
    assert!(
        qian.repo
            .read::<Sheet>(&id("sheet:zcyd:p1:zhao"))
            .expect("read")
            .is_none()
    );
    zhao.sync().await;
    assert_eq!(zhao.state(), zhao_sheet);

    // The other branch raises a problem in zcyd: refused the same way.
    other_branch
        .repo
        .edit::<Problem, _>(&id("problem:zcyd:intruder"), |p| {
            p.finding.zone = "z1".into();
            p.finding.raised_by = "sec2".into();
            p.finding.raised_at = now_millis();
            p.finding.severity = Severity::General;
            p.finding.responsible = "h1".into();
            p.finding.deadline = Some(Day(today()));
        })
        .expect("saved");
    assert_eq!(other_branch.sync().await.refused, 1);
    sec.sync().await;
    assert!(
        !sec.repo
            .ids()
            .expect("ids")
            .contains(&"problem:zcyd:intruder".to_owned())
    );

    // Photos: read through the documents that show them: by their branch (and managers),
    // not by another branch.
    let hash = zhao.repo.add_blob(PHOTO).expect("photo kept");
    zhao.repo
        .edit::<Problem, _>(&id("problem:zcyd:with-photo"), |p| {
            p.finding.zone = "z1".into();
            p.finding.raised_by = "zhao".into();
            p.finding.raised_at = now_millis();
            p.finding.description = FreeText::from("照片");
            p.finding.severity = Severity::General;
            p.finding.responsible = "h1".into();
            p.finding.deadline = Some(Day(today()));
            p.finding
                .photos
                .insert(hash.clone(), zonepatrol_shared::docs::PhotoRef::default());
        })
        .expect("saved");
    assert_eq!(zhao.sync().await.blobs_up, 1);
    let path = format!("/v1/blobs/{hash}");
    let (status, bytes) = call(
        &server.url,
        Method::GET,
        &path,
        None,
        Some(&login(&server.url, "sec").await),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes.len(), PHOTO.len());
    let (status, _) = call(
        &server.url,
        Method::GET,
        &path,
        None,
        Some(&login(&server.url, "mgr").await),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, bytes) = call(
        &server.url,
        Method::GET,
        &path,
        None,
        Some(&login(&server.url, "sec2").await),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let error: ErrorBody = serde_json::from_slice(&bytes).expect("json error");
    assert_eq!(error.error, ErrorCode::NotFound);
    server.stop().await;
}

async fn api_login(url: &str, user: &str, password: &str) -> reqwest::Response {
    http()
        .post(format!("{url}/v1/login"))
        .json(&serde_json::json!({"user": user, "password": password, "device": "t"}))
        .send()
        .await
        .expect("login answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_make_a_name_wait_on_the_phone_and_the_dashboard() {
    use zonepatrol_server::auth::{FIRST_WAIT, FREE_ATTEMPTS};

    let server = TestServer::start().await;
    let url = &server.url;
    // Names that exist and names that do not are treated alike.
    for name in ["sec", "nobody"] {
        for _ in 0..FREE_ATTEMPTS {
            let r = api_login(url, name, "guess").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        }
        // Now even the right password is not checked until the wait is over.
        let r = api_login(url, name, "zonepatrol").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{name}");
        let seconds: u64 = r.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(
            seconds > 0 && seconds <= FIRST_WAIT.as_secs(),
            "{name}: {seconds}"
        );
        let error: ErrorBody = r.json().await.expect("json error");
        assert_eq!(error.error, ErrorCode::TooManyAttempts);
        assert!(error.message.contains("wait 1 min"), "{}", error.message);
    }

    // The app says so, in Chinese by default.
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = std::sync::Arc::new(zonepatrol_app::store::Repo::open(dir.path()).expect("repo"));
    let client = zonepatrol_app::sync::SyncClient::new(repo).expect("client");
    let e = client
        .login(url, "sec", "zonepatrol", "phone")
        .await
        .expect_err("refused while waiting");
    assert!(
        matches!(e, zonepatrol_app::sync::SyncError::TooManyAttempts(s) if s > 0),
        "{e:?}"
    );
    let zh = zonepatrol_app::i18n::sync_error(zonepatrol_app::i18n::Lang::Zh, &e);
    assert!(zh.contains("请等 1 分钟后再试"), "{zh}");

    // The dashboard's sign-in form too.
    let r = http()
        .post(format!("{url}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=sec&password=zonepatrol&back=%2Fdash")
        .send()
        .await
        .expect("dashboard login answered");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let page = r.text().await.expect("page");
    assert!(page.contains("请等 1 分钟后再试"), "{page}");

    // Other names are not held up.
    let r = api_login(url, "mgr", "zonepatrol").await;
    assert_eq!(r.status(), StatusCode::OK);
    server.stop().await;
}
