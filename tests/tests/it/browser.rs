//! The dashboard in a real browser: Debian's headless Chromium driven through chromedriver.
//! Devices sync the scenario; a manager signs in, reads the ranking and the money off the
//! overview, downloads the Excel ledger and checks its cells. Screenshots go to
//! `target/dashboard/`.
//!
//! Needs `chromium` and `chromium-driver` (Debian packages; `.ci/run` installs them).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calamine::Reader as _;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use zonepatrol_shared::rules::period::{Period, PeriodKind};

use crate::dashboard::cells;
use crate::scenario::{self, MONTH, WEEK};
use crate::support::{TestServer, today};

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "chromedriver did not start ({e}): install Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver), as .ci/run does"
            )
        });
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if http
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {}", driver.url);
}

async fn browser(driver: &Driver, downloads: &Path) -> Client {
    let profile = tempfile::tempdir().expect("profile dir").keep();
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
                "intl.accept_languages": "zh-CN,zh",
            },
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("dashboard");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(shots().join(format!("{name}.png")), png).expect("saved");
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} on the page: {e}"))
        .text()
        .await
        .expect("text")
}

async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.expect("elements") {
        out.push(e.text().await.expect("text"));
    }
    out
}

/// Waits for a finished download (Chromium writes `.crdownload` until done).
async fn downloaded(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "xlsx") {
                    return p;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no .xlsx arrived in {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reads_the_ranking_and_money_and_downloads_the_ledger_in_chromium() {
    let server = TestServer::start().await;
    scenario::enter(&server.url).await;
    // A ten-day supervision by Zhao alone: z1 i5×1 → 97, z2 i1×1 → 98.
    {
        use crate::supervision::{mark, plan};
        let sec = crate::support::Device::new(&server.url, "sec").await;
        let zhao = crate::support::Device::new(&server.url, "zhao").await;
        plan(
            &sec,
            "t-browser",
            zonepatrol_shared::PatrolKind::TenDay,
            &["zhao"],
        );
        sec.sync().await;
        zhao.sync().await;
        mark(&zhao, "t-browser", "zhao", &[("z1", 5, 1), ("z2", 1, 1)]);
        zhao.sync().await;
        sec.sync().await;
        let me = zonepatrol_shared::Actor::new("sec", zonepatrol_shared::Role::Secretary, "zcyd");
        zonepatrol_app::records::patrol::close_patrol(&sec.repo, &me, "t-browser").expect("closed");
        sec.sync().await;
    }
    let month = Period::containing(PeriodKind::Month, today());
    let driver = driver().await;
    let downloads = tempfile::tempdir().expect("downloads");
    let c = browser(&driver, downloads.path()).await;

    c.goto(&format!("{}/dash", server.url)).await.expect("open");
    // Not signed in: the sign-in form, in Chinese.
    c.wait()
        .for_element(Locator::Css("#signin"))
        .await
        .expect("the sign-in form");
    assert_eq!(text(&c, "#signin").await, "登录");
    shot(&c, "01-sign-in").await;
    c.find(Locator::Css("#user"))
        .await
        .expect("user")
        .send_keys("mgr")
        .await
        .expect("typed");
    c.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys("zonepatrol")
        .await
        .expect("typed");
    c.find(Locator::Css("#signin"))
        .await
        .expect("button")
        .click()
        .await
        .expect("clicked");
    // The manager sees every branch; the tabs choose one.
    c.wait()
        .for_element(Locator::LinkText("综采一队党支部"))
        .await
        .expect("the overview with the branches' tabs")
        .click()
        .await
        .expect("clicked");
    c.wait()
        .for_element(Locator::Css("#week svg"))
        .await
        .expect("the overview with its chart");

    // The weekly ranking chart: one bar per zone, best first, figures worked out by hand.
    let values = texts(&c, "#week svg text.value").await;
    let want: Vec<String> = WEEK
        .iter()
        .map(|(_, score, rank)| format!("{score} · {rank}名"))
        .collect();
    assert_eq!(values, want, "the bars' figures");
    let labels = texts(&c, "#week svg text.label").await;
    assert_eq!(
        labels,
        vec!["三水平上车场", "中央变电所", "802溜子道", "综采工作面"]
    );
    let notice = text(&c, "#week p").await;
    assert!(notice.contains("表扬 三水平上车场") && notice.contains("批评 综采工作面"));

    // The month's ledger: self, final and money per zone, and the total.
    for (zone, own, fin, rank, fen) in MONTH {
        let row = format!("#ledger tr[data-zone='{zone}']");
        assert_eq!(text(&c, &format!("{row} .rank")).await, rank.to_string());
        assert_eq!(text(&c, &format!("{row} .self")).await, own);
        assert_eq!(text(&c, &format!("{row} .final")).await, fin);
        let money = zonepatrol_shared::Fen(fen).to_string();
        assert_eq!(text(&c, &format!("{row} .money")).await, money, "{zone}");
    }
    assert_eq!(text(&c, "#money-total").await, "-30.00", "+20 − 50 yuan");
    assert_eq!(text(&c, "#branch-score").await, scenario::BRANCH_MONTH);
    assert_eq!(text(&c, "#open-count").await, "1");
    assert_eq!(text(&c, "#person-times").await, "6");
    // The company's branches: score, grade, place, open and overdue problems.
    let row = texts(&c, "#branches tbody td").await;
    assert_eq!(row[1..], ["综采一队党支部", "89.38", "达标", "1/1", "1/0"]);
    // The ten-day supervision, ranked beside the week.
    let ranking = "#ten-day-ranking tr[data-zone";
    assert_eq!(text(&c, &format!("{ranking}='z2'] .score")).await, "98");
    assert_eq!(text(&c, &format!("{ranking}='z1'] .score")).await, "97");
    let order = texts(&c, "#ten-day-ranking tbody td:first-child").await;
    assert_eq!(
        order,
        ["1", "2", "—", "—"],
        "best first; the zones not supervised last"
    );
    shot(&c, "02-overview").await;

    // The Excel ledger, downloaded by the browser.
    c.find(Locator::Css("#export-ledger"))
        .await
        .expect("export link")
        .click()
        .await
        .expect("clicked");
    let file = downloaded(downloads.path()).await;
    assert_eq!(
        file.file_name().and_then(|n| n.to_str()),
        Some(format!("ledger-zcyd-{month}.xlsx").as_str())
    );
    let bytes = std::fs::read(&file).expect("read");
    // Printed, the headings repeat on every page.
    let book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).expect("xlsx");
    assert!(
        book.defined_names()
            .iter()
            .any(|(name, rows)| name == "_xlnm.Print_Titles" && rows.ends_with("$3:$3")),
        "{:?}",
        book.defined_names()
    );
    let sheet = cells(&bytes);
    assert!(
        sheet[0][0].contains("综采一队党支部"),
        "title: {:?}",
        sheet[0]
    );
    assert_eq!(
        sheet[2][..7],
        [
            "名次",
            "责任区",
            "责任人",
            "自评分",
            "支部评分（最终）",
            "差值",
            "奖罚（元）"
        ]
    );
    let rows: Vec<(String, String, String, String, String, String)> = sheet[3..7]
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                r[1].clone(),
                r[3].clone(),
                r[4].clone(),
                r[5].clone(),
                r[6].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "1".into(),
                "三水平上车场".into(),
                "98".into(),
                "97".into(),
                "-1".into(),
                "20".into()
            ),
            (
                "2".into(),
                "中央变电所".into(),
                "96".into(),
                "95".into(),
                "-1".into(),
                "0".into()
            ),
            (
                "3".into(),
                "综采工作面".into(),
                "88".into(),
                "85.5".into(),
                "-2.5".into(),
                "0".into()
            ),
            (
                "4".into(),
                "802溜子道".into(),
                "90".into(),
                "80".into(),
                "-10".into(),
                "-50".into()
            ),
        ]
    );
    assert_eq!(sheet[7][1], "合计");
    assert_eq!(sheet[7][6], "-30");

    // A zone's page with its trend, the rankings, and the whole thing in English.
    c.goto(&format!("{}/dash/zone/zcyd/z2", server.url))
        .await
        .expect("zone page");
    c.wait()
        .for_element(Locator::Css("#trend svg"))
        .await
        .expect("trend chart");
    assert!(text(&c, "#zone-problems").await.contains("皮带机托辊缺失"));
    shot(&c, "03-zone").await;
    c.goto(&format!("{}/dash/rankings", server.url))
        .await
        .expect("rankings");
    c.wait()
        .for_element(Locator::Css("#zone-ranking"))
        .await
        .expect("rankings page");
    // The quarter's composite, broken down: the work score alone, since fewer than three
    // branches marked 综采一队 in the mutual evaluation, and no bonus.
    let breakdown = text(&c, "#composite-breakdown").await;
    assert!(
        breakdown.contains("综合")
            && breakdown.contains("工作")
            && breakdown.contains("互评不足 3 个支部"),
        "{breakdown}"
    );
    assert_eq!(
        text(&c, "#branch-ranking tr[data-branch='zcyd'] .composite").await,
        text(&c, "#branch-ranking tr[data-branch='zcyd'] .work").await,
        "no mutual result and no bonus: the composite is the work score"
    );
    shot(&c, "04-rankings").await;
    c.goto(&format!("{}/dash/placard/zcyd/z1", server.url))
        .await
        .expect("placard");
    shot(&c, "05-placard").await;
    // The placard's code, as a phone would scan it off the screen, opens the zone.
    let png = c.screenshot().await.expect("screenshot");
    let code = zonepatrol_app::qr::read(&png, &Default::default())
        .expect("the screenshot decodes")
        .expect("a QR code on the placard");
    assert_eq!(code, "zonepatrol:zone:zcyd:z1");
    let page = c.source().await.expect("the SVG");
    assert!(
        page.contains("亮身份") && page.contains("张师傅"),
        "the five shows"
    );
    c.goto(&format!("{}/dash?branch=zcyd", server.url))
        .await
        .expect("back");
    c.find(Locator::Css("#lang"))
        .await
        .expect("language link")
        .click()
        .await
        .expect("clicked");
    c.wait()
        .for_element(Locator::Css("#week svg"))
        .await
        .expect("overview again");
    assert!(
        text(&c, "#week h2")
            .await
            .starts_with("Weekly inspection ranking")
    );
    assert_eq!(text(&c, "#money-total").await, "-30.00");
    shot(&c, "06-overview-en").await;

    // Publishing the month from the browser.
    c.find(Locator::Css("#month button.publish"))
        .await
        .expect("publish button")
        .click()
        .await
        .expect("clicked");
    c.wait()
        .for_element(Locator::Css("#month button.reopen"))
        .await
        .expect("published: the button now reopens");
    shot(&c, "07-published").await;

    // On a phone: no page is wider than the screen; wide tables scroll inside their section.
    c.set_window_size(390, 844)
        .await
        .expect("phone-sized window");
    for (path, name) in [
        ("/dash?branch=zcyd", "08-phone-overview"),
        (
            &format!("/dash/ledger/zcyd/{month}") as &str,
            "09-phone-ledger",
        ),
        ("/dash/zone/zcyd/z2", "10-phone-zone"),
        ("/dash/rankings", "11-phone-rankings"),
    ] {
        c.goto(&format!("{}{path}", server.url))
            .await
            .expect("page");
        c.wait()
            .for_element(Locator::Css("main section"))
            .await
            .expect("the page");
        let widths = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .expect("widths");
        let widths: Vec<u64> = serde_json::from_value(widths).expect("two numbers");
        assert!(widths[1] <= 400, "the window is phone-sized: {widths:?}");
        assert!(
            widths[0] <= widths[1],
            "{path} is wider than a phone's screen: {widths:?}"
        );
        shot(&c, name).await;
    }
    c.close().await.expect("closed");
    server.stop().await;
}

async fn fill(c: &Client, css: &str, value: &str) {
    let field = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} on the page: {e}"));
    field.clear().await.expect("cleared");
    field.send_keys(value).await.expect("typed");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} on the page: {e}"))
        .click()
        .await
        .expect("clicked");
}

/// Clicks a form's button and waits for the page it leads to: the old page's root element
/// goes stale. Waiting for an element instead proves nothing when the new page has one the
/// old page had too (a form that redirects back to itself).
async fn submit(c: &Client, button: &str) {
    let old = c.find(Locator::Css("html")).await.expect("the page");
    click(c, button).await;
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the page did not change after {button}: {}",
        c.source().await.unwrap_or_default()
    );
}

async fn wait_for(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"));
}

/// Uploads a workbook through the import page's file input and submits it.
async fn import(c: &Client, base: &str, workbook: &Path) {
    c.goto(&format!("{base}/admin/import")).await.expect("open");
    wait_for(c, "#import-form").await;
    c.find(Locator::Css("#import-form input[type=file]"))
        .await
        .expect("the file input")
        .send_keys(&workbook.display().to_string())
        .await
        .expect("file chosen");
    click(c, "#import-form button").await;
    wait_for(c, "#import-rows").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_an_empty_mine_in_chromium() {
    use zonepatrol_app::records::patrol::{PatrolInput, start_patrol};
    use zonepatrol_app::records::sheet::{Mark, mark};
    use zonepatrol_shared::docs::{Directory, DocId, Sheet};
    use zonepatrol_shared::{Actor, PatrolKind, Role};

    use crate::console::{PASSWORD, cli, mine_workbook};
    use crate::support::Device;

    let server = TestServer::start_empty().await;
    let data = server.data.display().to_string();
    let out = cli(
        &[
            "user", "add", "--data", &data, "--name", "boss", "--role", "admin", "--branch", "hq",
        ],
        "first-admin-pw",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let driver = driver().await;
    let downloads = tempfile::tempdir().expect("downloads");
    let files = tempfile::tempdir().expect("workbooks");
    let c = browser(&driver, downloads.path()).await;
    let base = server.url.clone();

    c.goto(&format!("{base}/admin")).await.expect("open");
    wait_for(&c, "#signin").await;
    fill(&c, "#user", "boss").await;
    fill(&c, "#password", "first-admin-pw").await;
    click(&c, "#signin").await;
    wait_for(&c, "#no-branches").await;
    let mut pages = vec![("/admin".to_owned(), "20-console-empty")];

    // A workbook with an error: where it is, in Chinese; then the fixed one, applied.
    let bad = files.path().join("mine-with-error.xlsx");
    std::fs::write(&bad, mine_workbook(true, false)).expect("written");
    import(&c, &base, &bad).await;
    wait_for(&c, "#import-errors").await;
    let errors = texts(&c, "#import-errors td").await.join(" ");
    assert!(
        errors.contains("kd9") && errors.contains("责任区"),
        "{errors}"
    );
    shot(&c, "21-import-errors").await;
    let good = files.path().join("mine.xlsx");
    std::fs::write(&good, mine_workbook(false, false)).expect("written");
    import(&c, &base, &good).await;
    shot(&c, "22-import-preview").await;
    click(&c, "#import-apply button").await;
    wait_for(&c, "#import-done").await;
    c.goto(&format!("{base}/admin/branch/zc1"))
        .await
        .expect("open");
    wait_for(&c, "#zones").await;
    assert_eq!(
        texts(&c, "#zones tr").await.len(),
        6,
        "five zones and the heading"
    );

    // A template, typed into the form, given to the imported zones.
    c.goto(&format!("{base}/admin/branch/zc1/template/new"))
        .await
        .expect("open");
    wait_for(&c, "#template-form").await;
    fill(&c, "#template-form input[name=name]", "综采区检查标准").await;
    fill(
        &c,
        "#template-rows tr:nth-child(2) input[name=category]",
        "安全",
    )
    .await;
    fill(
        &c,
        "#template-rows tr:nth-child(2) input[name=text]",
        "电缆吊挂",
    )
    .await;
    fill(&c, "#template-rows tr:nth-child(2) input[name=max]", "10").await;
    fill(
        &c,
        "#template-rows tr:nth-child(2) input[name=rule]",
        "吊挂不规范",
    )
    .await;
    fill(&c, "#template-rows tr:nth-child(2) input[name=points]", "2").await;
    submit(&c, "#template-form button.primary").await;
    wait_for(&c, "#template-form").await;
    let template = c
        .current_url()
        .await
        .expect("url")
        .path()
        .rsplit('/')
        .next()
        .expect("id")
        .to_owned();
    assert_ne!(
        template,
        "new",
        "the template was not saved: {}",
        c.source().await.unwrap_or_default()
    );
    pages.push(("/admin/branch/zc1".into(), "23-console-branch"));
    pages.push((
        format!("/admin/branch/zc1/template/{template}"),
        "24-console-template",
    ));

    // A phone signs in as an imported secretary, sees the zones and scores one.
    let phone = Device::with_password(&base, "m00", PASSWORD).await;
    phone.sync().await;
    let dir: Directory = phone
        .repo
        .read(&DocId::directory("zc1"))
        .expect("read")
        .expect("the directory");
    assert_eq!(dir.zones.len(), 5);
    let zone = dir.zones.keys().next().expect("a zone").clone();
    pages.push((format!("/admin/branch/zc1/zone/{zone}"), "25-console-zone"));
    let me = Actor::new("m00", Role::Secretary, "zc1").also(&[Role::Inspector]);
    let patrol = start_patrol(
        &phone.repo,
        &me,
        &PatrolInput {
            kind: PatrolKind::Weekly,
            date: Some(today()),
            zones: vec![zone.clone()],
            inspectors: vec![],
        },
    )
    .expect("patrol");
    let deduct = Mark::Deduct {
        item: "i01".into(),
        rule: "r01".into(),
    };
    let before = mark(&phone.repo, &me, &patrol, &zone, &template, &deduct)
        .expect("scored")
        .score(&dir.templates[&template]);
    phone.sync().await;
    assert!(phone.repo.quarantine().expect("quarantine").is_empty());

    // The template edited after the sheet used it.
    c.goto(&format!("{base}/admin/branch/zc1/template/{template}"))
        .await
        .expect("open");
    wait_for(&c, "#template-form").await;
    fill(&c, "#template-rows tr:nth-child(2) input[name=max]", "20").await;
    submit(&c, "#template-form button.primary").await;
    wait_for(&c, "#template-form").await;
    let newer = c
        .current_url()
        .await
        .expect("url")
        .path()
        .rsplit('/')
        .next()
        .expect("id")
        .to_owned();
    assert_ne!(
        newer,
        template,
        "a new version: {}",
        c.source().await.unwrap_or_default()
    );
    phone.sync().await;
    let dir: Directory = phone
        .repo
        .read(&DocId::directory("zc1"))
        .expect("read")
        .expect("dir");
    let sheet: Sheet = phone
        .repo
        .read(&DocId::sheet("zc1", &patrol, "m00"))
        .expect("read")
        .expect("sheet");
    let kept = &sheet.zones[&zone];
    assert_eq!(
        kept.score(&dir.templates[&kept.template]),
        before,
        "the old sheet's score"
    );
    assert_eq!(dir.zones[&zone].template, newer);

    // The money rate from next month, typed into the rules form.
    c.goto(&format!("{base}/admin/rules")).await.expect("open");
    wait_for(&c, "#rules-form").await;
    fill(&c, "#rules-form input[name=yuan_per_point]", "20").await;
    submit(&c, "#rules-form button.primary").await;
    wait_for(&c, "#rules-history").await;
    let next = Period::containing(PeriodKind::Month, today())
        .next()
        .to_string();
    let history = text(&c, "#rules-history").await;
    assert!(
        history.contains(&next) && history.contains(" 20"),
        "{history}"
    );
    let now = text(&c, "#rules-now").await;
    assert!(
        now.contains("每分金额（元） 10\n") || now.contains("每分金额（元） 10"),
        "this month keeps its rate: {now}"
    );
    pages.push(("/admin/rules".into(), "30-console-rules"));

    // A demonstration post with its five clears.
    c.goto(&format!("{base}/admin/branch/zc1/post/new"))
        .await
        .expect("open");
    wait_for(&c, "#post-form").await;
    fill(&c, "#post-form input[name=title]", "安全生产示范岗").await;
    fill(&c, "#post-form input[name=assessor]", "支部书记").await;
    fill(
        &c,
        "#post-form textarea[name=standard]",
        "煤矿安全质量标准化综采专业标准",
    )
    .await;
    fill(&c, "#post-form textarea[name=assessment]", "每月考核一次").await;
    // Date fields take their value as the page's script would set it, whatever the locale.
    c.execute(
        "document.querySelector('#post-form input[name=starts]').value = '2026-01-01';\
         document.querySelector('#post-form input[name=ends]').value = '2030-12-31';",
        vec![],
    )
    .await
    .expect("dates set");
    click(&c, "#post-form input[name=demonstrator]").await;
    click(&c, "#post-form button.primary").await;
    wait_for(&c, "#post-status").await;
    assert_eq!(text(&c, "#post-status").await, "在岗");
    let post = c.current_url().await.expect("url").path().to_owned();
    // Its quality slips: the title is withdrawn (摘牌) with a reason, on the record.
    fill(&c, "#post-revoke input[name=reason]", "季度排名低于合格线").await;
    submit(&c, "#post-revoke button").await;
    wait_for(&c, "#post-status").await;
    assert_eq!(text(&c, "#post-status").await, "已摘牌");
    let events = text(&c, "#post-events").await;
    assert!(
        events.contains("摘牌") && events.contains("季度排名低于合格线"),
        "{events}"
    );
    pages.push((post, "31-console-post-withdrawn"));

    // A password reset: the phone's sign-in ends.
    c.goto(&format!("{base}/admin/account/m00"))
        .await
        .expect("open");
    wait_for(&c, "#password-form").await;
    pages.push(("/admin/account/m00".into(), "26-console-account"));
    fill(&c, "#password-form input[name=password]", "another-pw-2026").await;
    submit(&c, "#password-form button").await;
    wait_for(&c, "#account-form").await;
    assert!(phone.try_sync().await.is_err(), "the old sign-in stopped");
    pages.push(("/admin/accounts".into(), "27-console-accounts"));
    pages.push(("/admin/import".into(), "28-console-import"));
    pages.push(("/admin/activity".into(), "29-console-activity"));

    // Every console page, on a desk and on a phone.
    for (width, height, suffix) in [(1280, 1000, "1280"), (390, 844, "390")] {
        c.set_window_size(width, height).await.expect("window");
        for (path, name) in &pages {
            c.goto(&format!("{base}{path}")).await.expect("page");
            wait_for(&c, "#console").await;
            let widths = c
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth]",
                    vec![],
                )
                .await
                .expect("widths");
            let widths: Vec<u64> = serde_json::from_value(widths).expect("two numbers");
            assert!(
                widths[0] <= widths[1],
                "{path} at {width} px is wider than the window: {widths:?}"
            );
            shot(&c, &format!("{name}-{suffix}")).await;
        }
    }
    let activity = text(&c, "#activity").await;
    assert!(activity.contains("重设账号 m00 的密码"), "{activity}");
    // The import's answers on a phone: the errors, and the same workbook again.
    import(&c, &base, &bad).await;
    shot(&c, "21-import-errors-390").await;
    import(&c, &base, &good).await;
    wait_for(&c, "#import-nothing").await;
    shot(&c, "22-import-preview-390").await;
    c.close().await.expect("closed");
    server.stop().await;
}
