//! A mining group on one server (issue 20): each mine under `/m/ID/` with a store of its own,
//! the group's managers at the root. Over real HTTP: a mine's people reach nothing of another
//! mine on any route, whatever they send; a group manager reads every mine and changes none;
//! every link a mine's page carries stays in that mine.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use zonepatrol_server::seed::DEMO_PASSWORD;

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, http, raise};

const MINES: &str = "east=东滩煤矿,west=鲍店煤矿";
const GROUP_PASSWORD: &str = "group-manager-pw";

/// Adds the group's manager through the command line, as an operator does beside the running
/// server (the request goes through the group's inbox).
fn add_group_manager(data: &std::path::Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonepatrol-server-under-test"))
        .args(["user", "add", "--data"])
        .arg(data)
        .args(["--group", "--name", "gm", "--role", "manager"])
        .env("ZONEPATROL_PASSWORD", GROUP_PASSWORD)
        // The test's own store, whatever the machine's environment names.
        .env_remove("ZONEPATROL_DATABASE")
        .env_remove("ZONEPATROL_MINES")
        .output()
        .expect("user add runs");
    assert!(
        out.status.success(),
        "user add --group: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Signs in at a path of the server with a form; the cookie (name=value) it sets and where.
async fn form_sign_in(url: &str, user: &str, password: &str) -> Option<(String, String)> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = client
        .post(format!("{url}/login"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("user={user}&password={password}&back=%2Fdash"))
        .send()
        .await
        .expect("answered");
    if r.status() != StatusCode::SEE_OTHER {
        return None;
    }
    let set = r.headers()[SET_COOKIE].to_str().expect("cookie").to_owned();
    let cookie = set.split(';').next().expect("value").to_owned();
    Some((cookie, set))
}

/// The bearer token of a sign-in on a mine's API.
async fn token(url: &str, user: &str) -> String {
    let r = http()
        .post(format!("{url}/v1/login"))
        .json(&serde_json::json!({"user": user, "password": DEMO_PASSWORD, "device": "t"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK, "{user} signs in at {url}");
    r.json::<serde_json::Value>().await.expect("json")["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// Every route of a mine, with parameters that name real records of the demo mine.
fn mine_routes() -> Vec<(&'static str, String)> {
    use zonepatrol_shared::rules::period::{Period, PeriodKind};
    let hash = "a".repeat(64);
    let today = crate::support::today();
    let week = Period::containing(PeriodKind::Week, today);
    let month = Period::containing(PeriodKind::Month, today);
    let ten_day = Period::containing(PeriodKind::TenDay, today);
    let mut routes: Vec<(&'static str, String)> = [
        ("GET", "/v1/me"),
        ("POST", "/v1/sync"),
        ("POST", "/v1/logout"),
        ("POST", "/v1/blobs/check"),
        ("GET", "/dash"),
        ("GET", "/dash/zone/zcyd/z1"),
        ("GET", "/dash/rankings"),
        ("POST", "/dash/publish"),
        ("GET", "/dash/problem/zcyd/p-east"),
        ("GET", "/dash/history/directory:zcyd"),
        ("GET", "/dash/placard/zcyd/z1"),
        ("GET", "/dash/export/problem/zcyd/p-east"),
        ("GET", "/admin"),
        ("POST", "/admin/branch"),
        ("GET", "/admin/branch/zcyd"),
        ("POST", "/admin/branch/zcyd"),
        ("POST", "/admin/branch/zcyd/member"),
        ("GET", "/admin/branch/zcyd/zone/z1"),
        ("POST", "/admin/branch/zcyd/zone/z1"),
        ("GET", "/admin/branch/zcyd/post/new"),
        ("POST", "/admin/branch/zcyd/post/new"),
        ("POST", "/admin/branch/zcyd/post/p1/decide"),
        ("GET", "/admin/branch/zcyd/mutual"),
        ("POST", "/admin/branch/zcyd/mutual/marks"),
        ("POST", "/admin/branch/zcyd/mutual/bonus"),
        ("GET", "/admin/branch/zcyd/template/t1"),
        ("POST", "/admin/branch/zcyd/template/t1"),
        ("GET", "/admin/accounts"),
        ("GET", "/admin/account/sec"),
        ("POST", "/admin/account/sec"),
        ("POST", "/admin/account/sec/password"),
        ("POST", "/admin/account/sec/disable"),
        ("POST", "/admin/account/sec/device"),
        ("GET", "/admin/activity"),
        ("GET", "/admin/rules"),
        ("POST", "/admin/rules"),
        ("GET", "/admin/import"),
        ("POST", "/admin/import"),
        ("GET", "/admin/import/template.xlsx"),
        ("POST", "/admin/import/apply"),
    ]
    .into_iter()
    .map(|(m, p)| (m, p.to_owned()))
    .collect();
    routes.push(("GET", format!("/dash/ledger/zcyd/{month}")));
    routes.push(("GET", format!("/dash/export/ledger/zcyd/{month}")));
    routes.push(("GET", format!("/dash/export/notice/zcyd/{week}")));
    routes.push(("GET", format!("/dash/export/tenday/zcyd/{ten_day}")));
    routes.push(("GET", format!("/v1/blobs/{hash}")));
    routes.push(("HEAD", format!("/v1/blobs/{hash}")));
    routes.push(("PUT", format!("/v1/blobs/{hash}")));
    routes.push(("GET", format!("/dash/photo/zcyd/{hash}")));
    routes
}

/// Sends a route with a bearer token and a session cookie; the status and the body.
async fn send(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    bearer: &str,
    cookie: &str,
) -> (StatusCode, String, Option<String>) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let body = if url.contains("/v1/sync") {
        r#"{"cursor":0,"push":[]}"#.to_owned()
    } else if url.contains("/v1/blobs/check") {
        r#"{"hashes":[]}"#.to_owned()
    } else if url.contains("/v1/") {
        String::new()
    } else {
        "name=x&title=x&score=1".to_owned()
    };
    let kind = if url.contains("/v1/") {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let r = client
        .request(method, url)
        .bearer_auth(bearer)
        .header("cookie", cookie)
        .header(CONTENT_TYPE, kind)
        .body(body)
        .send()
        .await
        .expect("answered");
    let status = r.status();
    let to = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().expect("location").to_owned());
    (status, r.text().await.unwrap_or_default(), to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mines_people_reach_nothing_of_another_mine_and_the_group_reads_them_all() {
    let server = TestServer::start_with(|s| {
        s.mines = zonepatrol_server::group::Mine::parse_list(MINES).expect("mines");
    })
    .await;
    let east = format!("{}/m/east", server.url);
    let west = format!("{}/m/west", server.url);

    // Each mine was seeded with the demo mine: the same names, different people.
    let sec_east = Device::new(&east, "sec").await;
    sec_east.sync().await;
    raise(&sec_east, "problem:zcyd:p-east", "sec", "z1", "h1");
    sec_east.sync().await;
    assert!(
        sec_east
            .state()
            .iter()
            .any(|(id, _)| id == "problem:zcyd:p-east")
    );
    let sec_west = Device::new(&west, "sec").await;
    sec_west.sync().await;
    let west_docs = sec_west.state();
    assert!(
        !west_docs.iter().any(|(id, _)| id == "problem:zcyd:p-east"),
        "west's secretary receives nothing of east"
    );
    // The same id raised in west is west's own record; east's is untouched.
    let before_east = sec_east.state();
    raise(&sec_west, "problem:zcyd:p-east", "sec", "z1", "h1");
    sec_west.sync().await;
    let fresh_east = Device::new(&east, "mgr").await;
    fresh_east.sync().await;
    let east_problem = |state: &[(String, Vec<automerge::ChangeHash>)]| {
        state
            .iter()
            .find(|(id, _)| id == "problem:zcyd:p-east")
            .map(|(_, h)| h.clone())
    };
    assert_eq!(
        east_problem(&fresh_east.state()),
        east_problem(&before_east),
        "west's record of the same id never reaches east's"
    );

    // East's credentials on every one of west's routes: refused, whatever the route.
    let east_token = token(&east, "admin").await;
    let (east_cookie, east_set) = form_sign_in(&east, "admin", DEMO_PASSWORD)
        .await
        .expect("east's admin signs in at east");
    assert!(
        east_set.contains("Path=/m/east/"),
        "east's session stays in east's pages: {east_set}"
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (method, path) in mine_routes() {
        let (status, body, to) = send(
            &client,
            method,
            &format!("{west}{path}"),
            &east_token,
            &east_cookie,
        )
        .await;
        let refused = status == StatusCode::UNAUTHORIZED
            || (status == StatusCode::SEE_OTHER
                && to
                    .as_deref()
                    .is_some_and(|t| t.starts_with("/m/west/login")));
        assert!(
            refused,
            "{method} {path} on west with east's sign-in: {status} {to:?} {}",
            body.chars().take(200).collect::<String>()
        );
        assert!(!body.contains("p-east") && !body.contains("皮带机托辊缺失"));
    }
    // The same routes with east's sign-in on east do answer (the list is of real routes).
    let (status, _, _) = send(&client, "GET", &format!("{east}/v1/me"), &east_token, "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, page, _) = send(&client, "GET", &format!("{east}/dash"), "", &east_cookie).await;
    assert_eq!(status, StatusCode::OK);

    // Every link of east's pages stays in east.
    let browser = Browser::sign_in(&east, "admin", DEMO_PASSWORD)
        .await
        .expect("east admin");
    for path in [
        "/dash",
        "/dash/zone/zcyd/z1",
        "/dash/rankings",
        "/dash/problem/zcyd/p-east",
        "/admin",
        "/admin/branch/zcyd",
        "/admin/accounts",
    ] {
        let page = browser.page(path).await;
        for attr in ["href=\"/", "action=\"/", "src=\"/"] {
            for (at, _) in page.match_indices(attr) {
                let rest = &page[at + attr.len() - 1..];
                assert!(
                    rest.starts_with("/m/east/") && !rest.starts_with("/m/east/m/"),
                    "{path}: a link out of the mine: {}",
                    rest.chars().take(60).collect::<String>()
                );
            }
        }
    }
    assert!(page.contains("东滩煤矿"), "a mine's pages name it");
    let (status, to) = browser.post("/logout", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some("/m/east/login"));

    // The group's manager: signs in at the root, reads each mine's results side by side, each
    // mine's pages, and changes nothing.
    assert!(
        form_sign_in(&server.url, "admin", DEMO_PASSWORD)
            .await
            .is_none(),
        "a mine's account is not the group's"
    );
    add_group_manager(&server.data);
    let (group_cookie, group_set) = form_sign_in(&server.url, "gm", GROUP_PASSWORD)
        .await
        .expect("the group's manager signs in");
    assert!(group_cookie.starts_with("zp_group="), "{group_set}");
    let (status, overview, _) = send(
        &client,
        "GET",
        &format!("{}/dash", server.url),
        "",
        &group_cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    for (id, name, open) in [("east", "东滩煤矿", 1), ("west", "鲍店煤矿", 1)] {
        let row_at = overview
            .find(&format!("data-mine=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} in the overview"));
        let row = &overview[row_at..];
        let row = &row[..row.find("</tr>").expect("row end")];
        assert!(row.contains(name), "{row}");
        assert!(row.contains(&format!("href=\"/m/{id}/dash\"")), "{row}");
        // Two branches each; one problem open in each (east's, and west's of the same id).
        assert!(row.contains(">2 ("), "two branches: {row}");
        assert!(row.contains(&format!(">{open} / ")), "open problems: {row}");
    }
    // The same side by side as a workbook, numbers as numbers.
    let workbook = client
        .get(format!("{}/dash/export/group", server.url))
        .header("cookie", &group_cookie)
        .send()
        .await
        .expect("export");
    assert_eq!(workbook.status(), StatusCode::OK);
    let rows = crate::dashboard::cells(&workbook.bytes().await.expect("bytes"));
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.first().is_some_and(|c| c == name))
            .unwrap_or_else(|| panic!("{name} in {rows:?}"))
            .clone()
    };
    for name in ["东滩煤矿", "鲍店煤矿"] {
        let r = row(name);
        assert_eq!(r[1], "2", "branches: {r:?}");
        assert_eq!(r[9], "1", "open problems: {r:?}");
    }
    let (status, page, _) = send(&client, "GET", &format!("{east}/dash"), "", &group_cookie).await;
    assert_eq!(status, StatusCode::OK, "the group reads east's overview");
    assert!(page.contains("group-link"));
    let (status, page, _) = send(
        &client,
        "GET",
        &format!("{west}/dash/problem/zcyd/p-east"),
        "",
        &group_cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for (method, path) in mine_routes() {
        let (status, body, to) =
            send(&client, method, &format!("{east}{path}"), "", &group_cookie).await;
        let may_read = method == "GET" && path.starts_with("/dash");
        if may_read {
            // Every page and export answers; only the photo that is not there does not.
            let missing = path.starts_with("/dash/photo/");
            assert_eq!(
                status,
                if missing {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::OK
                },
                "the group's manager reads {path}: {to:?}"
            );
            continue;
        }
        assert!(
            matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                || (status == StatusCode::SEE_OTHER
                    && to
                        .as_deref()
                        .is_some_and(|t| t.starts_with("/m/east/login"))),
            "the group's manager on {method} {path}: {status} {to:?} {}",
            body.chars().take(200).collect::<String>()
        );
    }
    // A mine's manager does not read the group's overview, even with the mine's token sent
    // as the group's cookie; nor does a mine take a token of another as the group's.
    let (mgr_cookie, _) = form_sign_in(&east, "mgr", DEMO_PASSWORD)
        .await
        .expect("mgr");
    let (status, _, to) = send(
        &client,
        "GET",
        &format!("{}/dash", server.url),
        "",
        &mgr_cookie,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.is_some_and(|t| t.starts_with("/login")));
    let disguised = mgr_cookie.replacen("zp_session=", "zp_group=", 1);
    for url in [
        format!("{}/dash", server.url),
        format!("{east}/dash"),
        format!("{west}/dash"),
    ] {
        let (status, _, to) = send(&client, "GET", &url, "", &disguised).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{url} with a mine's token as the group's"
        );
        assert!(to.is_some_and(|t| t.contains("login")));
    }
    // The language link goes back within the mine.
    let (status, _, to) = send(&client, "GET", &format!("{east}/lang/en"), "", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some("/m/east/dash"));

    // The operator: the group's readiness and metrics name each mine.
    let ready = client
        .get(format!("{}/ready", server.url))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(ready["mines"]["east"]["phase"], "serving");
    assert_eq!(ready["mines"]["west"]["phase"], "serving");
    let metrics = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let mine_metrics = client
        .get(format!("{east}/metrics"))
        .send()
        .await
        .expect("a mine's metrics");
    assert_eq!(
        mine_metrics.status(),
        StatusCode::NOT_FOUND,
        "the process's series are served once, at the root"
    );
    assert_eq!(ready["mines"]["group"]["phase"], "serving");
    for id in ["east", "west"] {
        assert!(
            metrics.contains(&format!("zonepatrol_ready{{mine=\"{id}\"}} 1")),
            "{metrics}"
        );
    }
    server.stop().await;
}
