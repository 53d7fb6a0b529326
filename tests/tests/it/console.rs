//! Setting up a real mine from an empty server, over real HTTP: the first admin made with
//! `user add` while the server runs, a workbook imported (its errors first), a template made
//! and edited after a sheet used it, accounts with several roles, a password reset, and every
//! refusal the console owes: another branch, a field role, a forged post, the last admin,
//! bad workbooks.

use std::process::Command;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use rust_xlsxwriter::Workbook;
use zonepatrol_app::records::patrol::{PatrolInput, start_patrol};
use zonepatrol_app::records::sheet::{Mark, mark};
use zonepatrol_shared::docs::{Directory, DocId, Sheet};
use zonepatrol_shared::{Actor, PatrolKind, Role};

use crate::dashboard::Browser;
use crate::support::{Device, TestServer, today};

/// The password every imported account gets.
pub const PASSWORD: &str = "kaishi-2026";

impl Browser {
    /// POSTs a workbook as the upload form does; the status and the page.
    pub async fn upload(&self, path: &str, bytes: &[u8]) -> (StatusCode, String) {
        let boundary = "----zonepatrol-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"workbook\"; \
                 filename=\"mine.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .client()
            .post(format!("{}{path}", self.base()))
            .header("cookie", self.cookie())
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("answered");
        (r.status(), r.text().await.expect("text"))
    }
}

/// A workbook of the mine: two branches, ten zones, twenty members. `bad_branch` names an
/// unknown branch on one zone row; `sloppy` writes the same values with full-width digits and
/// stray spaces.
pub fn mine_workbook(bad_branch: bool, sloppy: bool) -> Vec<u8> {
    let mut book = Workbook::new();
    let s = |t: &str| {
        if sloppy {
            format!(" {}\u{3000}", t.replace('1', "１").replace('2', "２"))
        } else {
            t.to_owned()
        }
    };
    let branches = book.add_worksheet();
    branches.set_name("支部").expect("name");
    for (c, h) in ["编号", "名称", "类别"].iter().enumerate() {
        branches.write_string(0, c as u16, *h).expect("cell");
    }
    for (r, (code, name, cat)) in [
        ("zc1", "综采一队党支部", "1"),
        ("jd2", "机电二队党支部", "2"),
    ]
    .iter()
    .enumerate()
    {
        let r = r as u32 + 1;
        branches.write_string(r, 0, *code).expect("cell");
        branches.write_string(r, 1, s(name)).expect("cell");
        branches.write_string(r, 2, s(cat)).expect("cell");
    }
    let members = book.add_worksheet();
    members.set_name("成员").expect("name");
    for (c, h) in [
        "支部",
        "登录名",
        "姓名",
        "党小组",
        "班组",
        "角色",
        "初始密码",
    ]
    .iter()
    .enumerate()
    {
        members.write_string(0, c as u16, *h).expect("cell");
    }
    for n in 0..20u32 {
        let branch = if n < 10 { "zc1" } else { "jd2" };
        let role = match n % 10 {
            0 => "支部书记、检查人员",
            1 => "检查人员",
            2 => "班组长、责任区负责人",
            _ => "责任区负责人",
        };
        let r = n + 1;
        members.write_string(r, 0, branch).expect("cell");
        members
            .write_string(r, 1, format!("m{n:02}"))
            .expect("cell");
        members
            .write_string(r, 2, s(&format!("成员{n}")))
            .expect("cell");
        members.write_string(r, 3, s("第1党小组")).expect("cell");
        members.write_string(r, 4, s("综采1班")).expect("cell");
        members.write_string(r, 5, role).expect("cell");
        members.write_string(r, 6, PASSWORD).expect("cell");
    }
    let zones = book.add_worksheet();
    zones.set_name("责任区").expect("name");
    for (c, h) in ["支部", "名称", "位置", "责任人", "覆盖班组", "检查标准"]
        .iter()
        .enumerate()
    {
        zones.write_string(0, c as u16, *h).expect("cell");
    }
    for n in 0..10u32 {
        let (branch, holder) = if n < 5 {
            ("zc1", format!("m{:02}", n + 2))
        } else {
            ("jd2", format!("m{:02}", n + 7))
        };
        let branch = if bad_branch && n == 7 { "kd9" } else { branch };
        let r = n + 1;
        zones.write_string(r, 0, branch).expect("cell");
        zones
            .write_string(r, 1, s(&format!("{n}号责任区")))
            .expect("cell");
        zones
            .write_string(r, 2, s("-350 水平 轨道巷"))
            .expect("cell");
        zones.write_string(r, 3, &holder).expect("cell");
        zones.write_string(r, 4, s("综采1班")).expect("cell");
    }
    book.save_to_buffer().expect("workbook")
}

/// Runs the server's command line, as an operator would.
pub fn cli(args: &[&str], password: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zonepatrol-server-under-test"))
        .args(args)
        .env("ZONEPATROL_PASSWORD", password)
        .output()
        .expect("the command runs")
}

fn location(to: Option<String>) -> String {
    to.expect("redirected")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_a_mine_from_an_empty_server() {
    let server = TestServer::start_empty().await;
    let anonymous = reqwest::Client::new();
    let login = anonymous
        .get(format!("{}/login", server.url))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("page");
    assert!(
        login.contains("first-start") && login.contains("user add"),
        "the sign-in page of an empty server says how to make the first admin"
    );

    // The first admin, while the server runs.
    let data = server.data.display().to_string();
    let out = cli(
        &[
            "user", "add", "--data", &data, "--name", "boss", "--role", "admin", "--branch", "hq",
        ],
        "first-admin-pw",
    );
    assert!(
        out.status.success(),
        "user add beside the running server: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = Browser::sign_in(&server.url, "boss", "first-admin-pw")
        .await
        .expect("the first admin signs in");
    let console = admin.page("/admin").await;
    assert!(console.contains("no-branches"), "an empty mine");

    // A workbook with an unknown branch: the preview says where, and nothing changes.
    let (status, page) = admin
        .upload("/admin/import", &mine_workbook(true, false))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("import-errors"), "{page}");
    assert!(page.contains("kd9") && page.contains("责任区"), "{page}");
    assert!(
        !page.contains("import-apply"),
        "no way to apply a workbook with errors"
    );
    assert!(admin.page("/admin").await.contains("no-branches"));

    // Fixed: every row new; applied on confirmation.
    let (status, page) = admin
        .upload("/admin/import", &mine_workbook(false, false))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page.matches("<td>新增</td>").count(), 32, "{page}");
    let hash = page
        .split("name=\"workbook\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the confirmation carries the upload");
    let (status, _) = admin
        .post("/admin/import/apply", &format!("workbook={hash}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let branches = admin.page("/admin").await;
    assert!(branches.contains("综采一队党支部") && branches.contains("机电二队党支部"));

    // The same workbook again, even typed sloppily: nothing to import.
    for sloppy in [false, true] {
        let (status, page) = admin
            .upload("/admin/import", &mine_workbook(false, sloppy))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("import-nothing"), "sloppy {sloppy}: {page}");
    }

    // A template for the first branch, used by its zones that have none.
    let rows = "name=%E7%BB%BC%E9%87%87%E6%A0%87%E5%87%86&assign=on\
        &category=%E5%AE%89%E5%85%A8&text=%E7%94%B5%E7%BC%86%E5%90%8A%E6%8C%82&max=10&rule=%E4%B8%8D%E8%A7%84%E8%8C%83&points=2\
        &category=%E6%96%87%E6%98%8E&text=%E5%B7%B7%E9%81%93%E6%95%B4%E6%B4%81&max=5&rule=%E7%A7%AF%E6%B0%B4&points=1";
    let (status, to) = admin.post("/admin/branch/zc1/template/new", rows).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let template = location(to).rsplit('/').next().expect("id").to_owned();

    // The secretary's phone: signs in, sees the branch's five zones, scores one.
    let phone = Device::with_password(&server.url, "m00", PASSWORD).await;
    phone.sync().await;
    let dir: Directory = phone
        .repo
        .read(&DocId::directory("zc1"))
        .expect("read")
        .expect("the directory reached the phone");
    assert_eq!(dir.zones.len(), 5);
    assert!(dir.zones.values().all(|z| z.template == template));
    let me = Actor::new("m00", Role::Secretary, "zc1").also(&[Role::Inspector]);
    let zone = dir.zones.keys().next().expect("a zone").clone();
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
    .expect("patrol started");
    let deduct = Mark::Deduct {
        item: "i01".into(),
        rule: "r01".into(),
    };
    let marks = mark(&phone.repo, &me, &patrol, &zone, &template, &deduct).expect("scored");
    let before = marks.score(&dir.templates[&template]);
    phone.sync().await;
    assert!(phone.repo.quarantine().expect("quarantine").is_empty());

    // The template edited after the sheet used it: a new version; the sheet keeps its score.
    let edited = rows.replace("max=10", "max=20");
    let (status, to) = admin
        .post(&format!("/admin/branch/zc1/template/{template}"), &edited)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let newer = location(to).rsplit('/').next().expect("id").to_owned();
    assert_ne!(newer, template, "a new version");
    phone.sync().await;
    let dir: Directory = phone
        .repo
        .read(&DocId::directory("zc1"))
        .expect("read")
        .expect("dir");
    assert!(
        dir.zones.values().all(|z| z.template == newer),
        "zones move"
    );
    assert_eq!(
        dir.templates[&template].items[&"i01".to_owned()]
            .max
            .to_string(),
        "10"
    );
    let sheet: Sheet = phone
        .repo
        .read(&DocId::sheet("zc1", &patrol, "m00"))
        .expect("read")
        .expect("sheet");
    let kept = &sheet.zones[&zone];
    assert_eq!(kept.template, template);
    assert_eq!(
        kept.score(&dir.templates[&kept.template]),
        before,
        "unchanged"
    );

    // A password reset ends the phone's sign-in at once.
    let (status, _) = admin
        .post("/admin/account/m00/password", "password=another-pw-2026")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(phone.try_sync().await.is_err(), "the old sign-in stopped");
    assert!(
        Browser::sign_in(&server.url, "m00", "another-pw-2026")
            .await
            .is_some()
    );

    // On the record.
    let activity = admin.page("/admin/activity?branch=zc1").await;
    assert!(activity.contains("检查标准") && activity.contains("重设账号 m00 的密码"));
    assert!(!activity.contains("jd2\">jd2"), "filtered by branch");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_refuses_what_the_rules_do_not_allow() {
    let server = TestServer::start().await;
    let admin = Browser::sign_in(&server.url, "admin", zonepatrol_server::seed::DEMO_PASSWORD)
        .await
        .expect("admin");
    let sec = Browser::sign_in(&server.url, "sec", zonepatrol_server::seed::DEMO_PASSWORD)
        .await
        .expect("secretary");

    // A zone holder does not open the console.
    let holder = Browser::sign_in(&server.url, "h1", zonepatrol_server::seed::DEMO_PASSWORD)
        .await
        .expect("a zone holder signs in");
    assert_eq!(holder.get("/admin").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        holder.get("/admin/branch/zcyd").await.0,
        StatusCode::FORBIDDEN
    );
    // A manager sees every branch's set-up and changes none of it.
    let mgr = Browser::sign_in(&server.url, "mgr", zonepatrol_server::seed::DEMO_PASSWORD)
        .await
        .expect("manager");
    assert!(mgr.page("/admin").await.contains("掘进一队党支部"));
    let page = mgr.page("/admin/branch/zcyd").await;
    assert!(page.contains("id=\"zones\"") && !page.contains("member-form"));
    let (status, _) = mgr
        .post("/admin/branch/zcyd/zone/new", "name=x&active=on")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A secretary keeps their own branch only, and grants field roles only.
    assert_eq!(sec.get("/admin").await.0, StatusCode::SEE_OTHER);
    let others: Vec<String> = admin
        .page("/admin")
        .await
        .split("href=\"/admin/branch/")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .filter(|b| b != "zcyd")
        .collect();
    let other = others.first().expect("another branch");
    assert_eq!(
        sec.get(&format!("/admin/branch/{other}")).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = sec
        .post(
            &format!("/admin/branch/{other}/zone/new"),
            "name=x&active=on",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = sec
        .post(
            "/admin/branch/zcyd/member",
            "id=sneak&name=%E5%B0%8F%E7%8E%8B&role=admin&password=long-enough-1",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no admin from a secretary");
    assert!(
        !admin.page("/admin/branch/zcyd").await.contains(">sneak<"),
        "no member either"
    );
    let (status, _) = sec.post("/admin/branch/zcyd", "name=x&category=1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins rename branches");
    // What the secretary may do, they can.
    let (status, _) = sec
        .post(
            "/admin/branch/zcyd/member",
            "id=newbie&name=%E6%96%B0%E4%BA%BA&role=zone_holder&password=long-enough-1",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A form posted from another site.
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/admin/branch", server.url))
        .header("cookie", admin.cookie())
        .header("origin", "https://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("name=evil&category=1")
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(!admin.page("/admin").await.contains("evil"));

    // The last admin cannot lock themselves out.
    let (status, _) = admin
        .post("/admin/account/admin/disable", "disabled=yes")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin
        .post("/admin/account/admin", "branch=zcyd&role=manager")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // With a second admin, the first may step down; a disabled account cannot sign in.
    let (status, _) = admin
        .post(
            "/admin/branch/zcyd/member",
            "id=admin2&name=%E7%AE%A1%E7%90%86%E5%91%98&role=admin&password=long-enough-2",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = admin
        .post("/admin/account/newbie/disable", "disabled=yes")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        Browser::sign_in(&server.url, "newbie", "long-enough-1")
            .await
            .is_none()
    );

    // Bad workbooks: each told, nothing changed.
    let before = admin.page("/admin").await;
    let mut merged = Workbook::new();
    for name in ["支部", "成员", "责任区"] {
        let sheet = merged.add_worksheet();
        sheet.set_name(name).expect("name");
        sheet.write_string(0, 0, "编号").expect("cell");
    }
    merged
        .worksheet_from_index(0)
        .expect("sheet")
        .merge_range(1, 0, 2, 1, "合并", &rust_xlsxwriter::Format::new())
        .expect("merged");
    let merged = merged.save_to_buffer().expect("bytes");
    let mut empty = Workbook::new();
    for name in ["支部", "成员", "责任区"] {
        empty.add_worksheet().set_name(name).expect("name");
    }
    let empty_book = empty.save_to_buffer().expect("bytes");
    let huge = vec![b'P'; 6 * 1024 * 1024];
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "a PDF",
            b"%PDF-1.7 not a workbook".to_vec(),
            "不是 Excel 工作簿",
        ),
        ("an empty file", Vec::new(), "文件是空的"),
        ("a huge file", huge, "超过"),
        ("merged cells", merged, "合并单元格"),
        ("no rows", empty_book, "没有任何一行"),
    ];
    for (what, bytes, says) in cases {
        let (status, page) = admin.upload("/admin/import", &bytes).await;
        assert!(status.is_client_error(), "{what}: {status}");
        assert!(page.contains(says), "{what}: {page}");
    }
    assert_eq!(admin.page("/admin").await, before, "nothing changed");
    server.stop().await;
}

/// Who holds several roles acts in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_holds_several_roles() {
    let server = TestServer::start().await;
    let admin = Browser::sign_in(&server.url, "admin", zonepatrol_server::seed::DEMO_PASSWORD)
        .await
        .expect("admin");
    let (status, _) = admin
        .post(
            "/admin/branch/zcyd/member",
            "id=both&name=%E5%8F%8C%E8%81%8C&role=team_leader&role=zone_holder&password=long-enough-3",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/login", server.url))
        .json(&serde_json::json!({"user": "both", "password": "long-enough-3", "device": "t"}))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let user: Actor = serde_json::from_value(login["user"].clone()).expect("an actor");
    assert!(user.has(Role::TeamLeader) && user.has(Role::ZoneHolder));
    server.stop().await;
}

/// The money rate changed from next month: on the record, in force from then, and only an
/// admin may change it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rules_change_from_a_month_on() {
    use zonepatrol_shared::rules::period::{Period, PeriodKind};
    let server = TestServer::start().await;
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let admin = Browser::sign_in(&server.url, "admin", pw)
        .await
        .expect("admin");
    let sec = Browser::sign_in(&server.url, "sec", pw)
        .await
        .expect("secretary");
    let page = admin.page("/admin/rules").await;
    assert!(page.contains("no-versions") && page.contains("rules-form"));
    let next = Period::containing(PeriodKind::Month, today()).next();
    let form = format!(
        "from={next}&bonus_above=95&penalty_below=85&yuan_per_point=20&trim_from=5&min_sheets=3\
         &pass=80&excellent=90&pass=75&excellent=85&pass=70&excellent=80&pass=65&excellent=75"
    );
    let (status, _) = sec.post("/admin/rules", &form).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a secretary does not set the rules"
    );
    let (status, _) = admin
        .post(
            "/admin/rules",
            &form.replace("min_sheets=3", "min_sheets=1"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the validator keeps results anonymous"
    );
    // The mutual evaluation's weight: 0 to 50%, said so.
    let (status, body) = admin
        .post_page("/admin/rules", &format!("{form}&mutual_weight=60"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("0 到 50%"), "{body}");
    let (status, _) = admin
        .post("/admin/rules", &format!("{form}&mutual_weight=30"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = admin.page("/admin/rules").await;
    assert!(page.contains("rules-history") && page.contains(&next.to_string()));
    assert!(
        page.contains(r#"name="mutual_weight" size="3" inputmode="numeric" value="30""#),
        "the coming month's weight: {page}"
    );
    // In force from next month, not this one.
    let this_month = page.split("rules-now").nth(1).expect("the table");
    assert!(
        this_month.contains("10.00") || this_month.contains(">10<"),
        "{this_month}"
    );
    let activity = admin.page("/admin/activity").await;
    assert!(
        activity.contains(&format!("考评规则自 {next} 起")) && activity.contains("互评权重 30%"),
        "{activity}"
    );
    server.stop().await;
}

/// `demo` writes a living history through the phones' path: the dashboard's first look shows
/// this week's ranking, this month's ledger, problems, cleanups, and a published month; a
/// phone takes it all in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_mine_has_a_living_history() {
    use zonepatrol_shared::docs::{DocId, Problem};
    let server = TestServer::start_with(|s| s.demo_history = true).await;
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let mgr = Browser::sign_in(&server.url, "mgr", pw)
        .await
        .expect("manager");
    let overview = mgr.page("/dash?branch=zcyd").await;
    let week = overview.split("id=\"week\"").nth(1).expect("the week");
    assert!(
        week.matches("class=\"value\"").count() >= 4,
        "this week's ranking has its four zones"
    );
    let ledger = overview.split("id=\"ledger\"").nth(1).expect("the ledger");
    assert!(
        ledger.contains("三水平上车场") && ledger.contains("money"),
        "this month's ledger"
    );
    let open = overview
        .split("id=\"open-count\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("open count");
    assert!(
        open.parse::<u32>().expect("a number") >= 3,
        "open, overdue and reopened problems"
    );
    assert!(
        !overview.contains("id=\"person-times\">0<"),
        "cleanups this month"
    );
    // Last month is published.
    let last = zonepatrol_shared::rules::period::Period::containing(
        zonepatrol_shared::rules::period::PeriodKind::Month,
        today(),
    )
    .prev();
    let page = mgr.page(&format!("/dash/ledger/zcyd/{last}")).await;
    assert!(page.contains("已发布"), "last month is published");
    // A phone signs in and takes it in: problems in every state, their photos on the server.
    let phone = Device::new(&server.url, "sec").await;
    phone.sync().await;
    let mut states = std::collections::BTreeSet::new();
    for name in [
        "demo-open",
        "demo-overdue",
        "demo-fixed",
        "demo-verified",
        "demo-reopened",
    ] {
        let p: Problem = phone
            .repo
            .read(&DocId::problem("zcyd", name))
            .expect("read")
            .expect("on the phone");
        assert_eq!(p.finding.photos.len(), 1, "{name} has its photo");
        let hash = p.finding.photos.keys().next().expect("hash");
        let (status, body) = mgr.get(&format!("/dash/photo/zcyd/{hash}")).await;
        assert_eq!(status, StatusCode::OK, "{name}'s photo is served");
        assert!(body.starts_with(&[0xff, 0xd8]), "a JPEG");
        states.insert(format!("{:?}", p.status()));
        if name == "demo-overdue" {
            assert!(p.is_overdue(today()));
        }
        if name == "demo-open" {
            assert!(
                p.pending_extension().is_some(),
                "a request for more time waits for the secretary"
            );
        }
    }
    assert_eq!(
        states.len(),
        4,
        "open, fixed, verified and reopened: {states:?}"
    );
    // Demonstration posts in three states: in force, waiting for the secretary, withdrawn.
    let dir: Directory = phone
        .repo
        .read(&DocId::directory("zcyd"))
        .expect("read")
        .expect("the directory");
    let posts: Vec<_> = ["demo-post-1", "demo-post-2", "demo-post-3"]
        .iter()
        .map(|p| dir.posts[*p].status_on(today()))
        .collect();
    use zonepatrol_shared::docs::PostStatus as S;
    assert_eq!(posts, [S::Active, S::Proposed, S::Revoked]);
    let me = Actor::new("sec", Role::Secretary, "zcyd");
    assert_eq!(
        zonepatrol_app::records::post::waiting_posts(&phone.repo, &me, today()),
        1,
        "one application waits for the secretary"
    );
    server.stop().await;
}

/// A demonstration post set up with its five clears is in force; its honour is withdrawn
/// with a reason, on the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_is_set_up_with_its_five_clears_and_withdrawn() {
    use zonepatrol_shared::docs::{Directory, DocId, PostStatus};
    let server = TestServer::start().await;
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let sec = Browser::sign_in(&server.url, "sec", pw)
        .await
        .expect("secretary");
    let (status, _) = sec
        .post(
            "/admin/branch/zcyd/post/new",
            "title=%E5%AE%89%E5%85%A8%E7%A4%BA%E8%8C%83%E5%B2%97&zone=z1&demonstrator=h1\
             &standard=%E4%B8%89%E6%B2%A1%E6%9C%89&assessor=%E7%8E%8B%E4%B9%A6%E8%AE%B0\
             &assessment=%E6%AF%8F%E6%9C%88%E8%AF%84&starts=2026-12-01&ends=2026-01-01",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "ends before it starts");
    let (status, to) = sec
        .post(
            "/admin/branch/zcyd/post/new",
            "title=%E5%AE%89%E5%85%A8%E7%A4%BA%E8%8C%83%E5%B2%97&zone=z1&demonstrator=h1\
             &standard=%E4%B8%89%E6%B2%A1%E6%9C%89&assessor=%E7%8E%8B%E4%B9%A6%E8%AE%B0\
             &assessment=%E6%AF%8F%E6%9C%88%E8%AF%84&starts=2026-12-01&ends=2027-11-30",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = location(to);
    let post = path.rsplit('/').next().expect("id").to_owned();
    assert!(sec.page(&path).await.contains("在岗"));
    let phone = Device::new(&server.url, "h1").await;
    phone.sync().await;
    let dir: Directory = phone
        .repo
        .read(&DocId::directory("zcyd"))
        .expect("read")
        .expect("dir");
    assert_eq!(dir.posts[&post].status_on(today()), PostStatus::Active);
    assert!(dir.posts[&post].demonstrators.contains_key("h1"));
    let (status, _) = sec
        .post(&format!("{path}/decide"), "step=revoke&reason=")
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a withdrawal needs its reason"
    );
    let (status, _) = sec
        .post(
            &format!("{path}/decide"),
            "step=revoke&reason=%E8%B4%A8%E9%87%8F%E4%B8%8B%E6%BB%91",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    phone.sync().await;
    let dir: Directory = phone
        .repo
        .read(&DocId::directory("zcyd"))
        .expect("read")
        .expect("dir");
    assert_eq!(dir.posts[&post].status_on(today()), PostStatus::Revoked);
    assert!(sec.page("/admin/activity").await.contains("质量下滑"));
    server.stop().await;
}

/// A form field's value, percent-encoded.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The monthly assessment's items change from a month not begun: an item dropped, one
/// added, two re-weighed, still 100 in all; the phones score the month on its form, and this
/// month keeps the ten items it began with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assessment_items_change_for_a_month_not_begun() {
    use zonepatrol_app::records::assessment::assessment_view;
    use zonepatrol_shared::rules::AssessmentForm;
    use zonepatrol_shared::rules::period::{Period, PeriodKind};
    let server = TestServer::start().await;
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let admin = Browser::sign_in(&server.url, "admin", pw)
        .await
        .expect("admin");
    let page = admin.page("/admin/rules").await;
    assert!(
        page.contains("form-items") && page.contains("队伍稳定"),
        "{page}"
    );
    let this = Period::containing(PeriodKind::Month, today());
    let next = this.next();
    // A row's new name and points, by its key and name; `None` keeps it.
    type RowEdit<'a> = &'a dyn Fn(&str, &str) -> Option<(String, String)>;
    let rows = |edit: RowEdit<'_>, extra: &str| {
        let mut form = String::new();
        for item in AssessmentForm::default().items {
            let (zh, max) =
                edit(&item.key, &item.zh).unwrap_or((item.zh.clone(), item.max.to_string()));
            form.push_str(&format!(
                "&item_key={}&item_zh={}&item_en={}&item_max={}",
                item.key,
                enc(&zh),
                if zh.is_empty() {
                    String::new()
                } else {
                    enc(&item.en)
                },
                max
            ));
        }
        form + extra
    };
    let base = "bonus_above=95&penalty_below=85&yuan_per_point=10&trim_from=5&min_sheets=3\
         &pass=80&excellent=90&pass=75&excellent=85&pass=70&excellent=80&pass=65&excellent=75";
    let reweighed = |key: &str, _: &str| match key {
        "learning" => Some((String::new(), String::new())),
        "safety" => Some(("安全".into(), "20".into())),
        "task" => Some(("任务".into(), "5".into())),
        _ => None,
    };
    let added = format!(
        "&item_key=&item_zh={}&item_en=Hazard+checks&item_max=5&item_key=&item_zh=&item_en=&item_max=",
        enc("隐患排查")
    );
    // This month's scoring has begun: its items stay.
    let (status, body) = admin
        .post_page(
            "/admin/rules",
            &format!("from={this}&{base}{}", rows(&reweighed, &added)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("考评项目不能再改"), "{body}");
    // Items that do not come to 100.
    let (status, body) = admin
        .post_page(
            "/admin/rules",
            &format!("from={next}&{base}{}", rows(&reweighed, "")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("合计应为 100") && body.contains("95"),
        "{body}"
    );
    // A score of a whole form is a number.
    let (status, body) = admin
        .post_page(
            "/admin/rules",
            &format!(
                "from={next}&{base}{}",
                rows(
                    &|k, zh| (k == "cost").then(|| (zh.to_owned(), "十".into())),
                    ""
                )
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // From next month: saved, shown, on the record.
    let (status, body) = admin
        .post_page(
            "/admin/rules",
            &format!("from={next}&{base}{}", rows(&reweighed, &added)),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let page = admin.page("/admin/rules").await;
    let history = page.split("rules-history").nth(1).expect("history");
    assert!(
        history.contains("隐患排查 5") && history.contains("安全 20"),
        "{history}"
    );
    let now = page
        .split("form-now")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("in force");
    assert!(
        now.contains("学习") && !now.contains("隐患排查"),
        "this month keeps its ten"
    );
    let activity = admin.page("/admin/activity").await;
    assert!(activity.contains("隐患排查 5"), "{activity}");
    // The page now shows next month's items; sent back unchanged with this month chosen (to
    // change only the money rate, say), they keep this month's own.
    let (status, body) = admin
        .post_page(
            "/admin/rules",
            &format!(
                "from={this}&{}{}",
                base.replace("yuan_per_point=10", "yuan_per_point=12"),
                rows(&reweighed, &added)
            ),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");

    // A phone takes the rules in with the rest, and scores each month on its own form.
    let phone = Device::new(&server.url, "h1").await;
    phone.sync().await;
    let me = Actor::new("h1", Role::ZoneHolder, "zcyd");
    let form = assessment_view(&phone.repo, &me, "z1", next)
        .expect("next month")
        .form;
    let keys: Vec<&str> = form.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys.len(), 10, "{keys:?}");
    assert!(!keys.contains(&"learning"), "{keys:?}");
    assert_eq!(form.items.last().map(|i| i.zh.as_str()), Some("隐患排查"));
    assert_eq!(
        form.max_of("safety"),
        Some(zonepatrol_shared::Points::whole(20))
    );
    assert_eq!(
        assessment_view(&phone.repo, &me, "z1", this)
            .expect("this month")
            .form,
        AssessmentForm::default()
    );
    server.stop().await;
}
