//! The screens without a window: components rendered to HTML by `dioxus-ssr`, and the plain
//! functions behind them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use dioxus::prelude::*;
use zonepatrol_app::i18n::{Lang, T};
use zonepatrol_app::index::{AnswerSummary, ExtensionSummary};
use zonepatrol_app::records::extension::MoreTimeRow;
use zonepatrol_app::records::patrol::{PatrolRow, ZoneRow, ZoneScore};
use zonepatrol_app::records::problem::{ProblemRow, VerifyRow};
use zonepatrol_app::records::sheet::{Mark, apply, zone_view};
use zonepatrol_app::sync::{Progress, SyncState, SyncStatus};
use zonepatrol_app::ui::extension::{MoreTimeAnswer, MoreTimeAsk, MoreTimeList};
use zonepatrol_app::ui::home::{Go, Home, actions};
use zonepatrol_app::ui::login::{LoginForm, LoginInput, check};
use zonepatrol_app::ui::patrol::{PatrolZones, StartPatrol, patrol_input};
use zonepatrol_app::ui::problem::{ProblemList, RaiseProblem, RectifyProblem, default_deadline};
use zonepatrol_app::ui::score::ScoreZone;
use zonepatrol_app::ui::settings::{QuarantineList, Settings};
use zonepatrol_app::ui::status::{SyncBanner, status_line};
use zonepatrol_app::ui::verify::{VerifyFix, VerifyList};
use zonepatrol_shared::docs::{DeductionRule, Template, TemplateItem, ZoneSheet};
use zonepatrol_shared::rules::problem::ProblemStatus;
use zonepatrol_shared::{PatrolKind, Points, Role, Severity};

fn render(element: fn() -> Element) -> String {
    let mut dom = VirtualDom::new(element);
    dom.rebuild_in_place();
    dioxus_ssr::render(&dom)
}

#[test]
fn the_sign_in_form_speaks_chinese_by_default() {
    let zh = render(|| {
        rsx! { LoginForm { lang: Lang::Zh, server: "", error: None, busy: false, on_submit: |_| {} } }
    });
    for text in ["登录", "服务器地址", "用户名", "密码"] {
        assert!(zh.contains(text), "{text} in {zh}");
    }
    assert!(zh.contains(r#"type="password""#));
    let en = render(|| {
        rsx! { LoginForm { lang: Lang::En, server: "http://10.0.0.5:8080", error: Some("wrong password".to_string()), busy: true, on_submit: |_| {} } }
    });
    for text in [
        "Server address",
        "Signing in…",
        "wrong password",
        "http://10.0.0.5:8080",
    ] {
        assert!(en.contains(text), "{text} in {en}");
    }
    assert!(en.contains("disabled"), "no second tap while signing in");
}

#[test]
fn the_sign_in_page_takes_the_mines_own_certificate() {
    let none = render(|| {
        rsx! { LoginForm { lang: Lang::Zh, server: "", error: None, busy: false, on_submit: |_| {} } }
    });
    for text in ["矿井内部证书", "信任此证书", "-----BEGIN CERTIFICATE-----"] {
        assert!(none.contains(text), "{text} in {none}");
    }
    assert!(!none.contains("不再信任"), "nothing trusted yet");
    let trusted = render(|| {
        rsx! { LoginForm { lang: Lang::Zh, server: "https://10.0.0.5:8443", error: None, busy: false, on_submit: |_| {},
        authority: Some("AB:CD:EF".to_string()), on_trust: |_| {} } }
    });
    for text in ["已信任，指纹", "AB:CD:EF", "不再信任"] {
        assert!(trusted.contains(text), "{text} in {trusted}");
    }
}

#[test]
fn the_sign_in_form_says_what_is_missing() {
    type Case<'a> = ((&'a str, &'a str, &'a str), Result<(&'a str, &'a str), T>);
    let cases: &[Case] = &[
        (("", "sec", "pw"), Err(T::NeedServer)),
        (("10.0.0.5:8080", "", "pw"), Err(T::NeedUserName)),
        (("10.0.0.5:8080", "sec", ""), Err(T::NeedPassword)),
        (
            ("10.0.0.5:8080/", " sec ", "pw"),
            Ok(("http://10.0.0.5:8080", "sec")),
        ),
        (
            ("https://zp.mine.cn", "sec", "pw"),
            Ok(("https://zp.mine.cn", "sec")),
        ),
    ];
    for ((server, user, password), expected) in cases {
        let got =
            check(server, user, password).map(|LoginInput { server, user, .. }| (server, user));
        let expected = expected.map(|(s, u)| (s.to_owned(), u.to_owned()));
        assert_eq!(got, expected, "{server:?} {user:?}");
    }
}

fn status(state: SyncState, progress: Progress) -> SyncStatus {
    SyncStatus { state, progress }
}

#[test]
fn the_banner_tells_offline_syncing_synced_and_refused_apart() {
    let shanghai = chrono_tz::Asia::Shanghai;
    let busy = Progress {
        docs_up: 2,
        docs_down: 3,
        blobs_up: 1,
        bytes_up: 1000,
        bytes_down: 234,
        ..Progress::default()
    };
    let cases = [
        (
            status(SyncState::Idle, Progress::default()),
            0,
            "offline",
            "尚未同步",
        ),
        (
            status(SyncState::Syncing, busy),
            0,
            "busy",
            "正在同步 · 5 份记录 · 1 张照片 · 1234 字节",
        ),
        // 00:30 UTC is 08:30 at the mine.
        (
            status(
                SyncState::Done {
                    at: 1_795_134_600_000,
                },
                busy,
            ),
            0,
            "ok",
            "已同步 11-20 08:30",
        ),
        (
            status(
                SyncState::Offline {
                    reason: "timeout".into(),
                },
                busy,
            ),
            0,
            "offline",
            "离线",
        ),
        (
            status(
                SyncState::Failed {
                    reason: "the server does not accept this sign-in any more".into(),
                    fix: zonepatrol_app::sync::Fix::SignIn,
                },
                busy,
            ),
            0,
            "bad",
            "同步失败: 请在设置里退出后重新登录",
        ),
        (
            status(
                SyncState::Done {
                    at: 1_795_134_600_000,
                },
                busy,
            ),
            2,
            "bad",
            "2 条修改被服务器退回",
        ),
    ];
    for (status, refused, class, text) in cases {
        let (got_class, got_text) = status_line(Lang::Zh, &status, refused, shanghai);
        assert_eq!(got_class, class, "{got_text}");
        assert!(got_text.contains(text), "{got_text} lacks {text}");
    }
    let html = render(|| {
        rsx! { SyncBanner { lang: Lang::En, status: SyncStatus { state: SyncState::Offline { reason: String::new() }, progress: Progress::default() }, refused: 0 } }
    });
    assert!(
        html.contains("Offline") && html.contains(r#"role="status""#),
        "{html}"
    );
    assert!(
        html.contains("Sync now"),
        "a tap on the banner syncs: {html}"
    );
}

fn template() -> Template {
    let p = |s: &str| -> Points { s.parse().expect("points") };
    Template {
        name: "责任区检查表".into(),
        supersedes: String::new(),
        items: BTreeMap::from([(
            "clean".to_owned(),
            TemplateItem {
                order: 1,
                category: "文明生产".into(),
                text: "巷道清洁，无积水".into(),
                max: p("10"),
                rules: BTreeMap::from([
                    (
                        "water".to_owned(),
                        DeductionRule {
                            text: "积水".into(),
                            points: p("2"),
                            needs_photo: true,
                        },
                    ),
                    (
                        "dirt".to_owned(),
                        DeductionRule {
                            text: "浮煤".into(),
                            points: p("0.5"),
                            needs_photo: false,
                        },
                    ),
                ]),
            },
        )]),
    }
}

#[test]
fn the_score_screen_shows_counts_and_the_running_total() {
    fn screen() -> Element {
        let mut zone = ZoneSheet::default();
        for mark in [
            Mark::Deduct {
                item: "clean".into(),
                rule: "water".into(),
            },
            Mark::Deduct {
                item: "clean".into(),
                rule: "dirt".into(),
            },
        ] {
            apply(&mut zone, "t1", &mark);
        }
        let view = zone_view(&template(), &zone);
        rsx! { ScoreZone { lang: Lang::Zh, zone_name: "3号皮带巷", view, on_mark: |_| {} } }
    }
    let html = render(screen);
    for text in [
        "3号皮带巷",
        "巷道清洁，无积水",
        "积水 −2",
        "浮煤 −0.5",
        "7.5/10",
        "当前得分",
        "不涉及",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(html.contains(r#"data-testid="deduct-clean-water""#));
    assert!(html.contains(r#"<strong>7.5</strong>"#), "{html}");
}

#[test]
fn the_score_screen_asks_for_a_photo_and_offers_notes_problems_and_the_next_zone() {
    fn screen() -> Element {
        let mut zone = ZoneSheet::default();
        apply(
            &mut zone,
            "t1",
            &Mark::Deduct {
                item: "clean".into(),
                rule: "water".into(),
            },
        );
        let view = zone_view(&template(), &zone);
        rsx! { ScoreZone { lang: Lang::Zh, zone_name: "3号皮带巷", view, on_mark: |_| {}, next: "z2".to_string(), busy_item: "clean".to_string() } }
    }
    let html = render(screen);
    for text in [
        "需拍照",
        r#"type="file""#,
        r#"accept="image/*""#,
        r#"data-testid="raise-clean""#,
        "提出问题",
        r#"data-testid="note-clean""#,
        "下一个责任区",
        "正在处理照片…",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    // Without a next zone there is no such button, and a photo on the item clears the warning.
    fn last() -> Element {
        let mut zone = ZoneSheet::default();
        apply(
            &mut zone,
            "t1",
            &Mark::Deduct {
                item: "clean".into(),
                rule: "water".into(),
            },
        );
        let photos = &mut zone.items.get_mut("clean").expect("item").photos;
        // Taken second, then first: shown in the order taken.
        for (hash, thumb, taken_at) in [("a", "ta", 2_000), ("b", "tb", 1_000)] {
            photos.insert(
                hash.repeat(64),
                zonepatrol_shared::docs::PhotoRef {
                    thumb: thumb.repeat(32),
                    taken_at: Some(taken_at),
                    ..Default::default()
                },
            );
        }
        let view = zone_view(&template(), &zone);
        let thumbs = [("ta".repeat(32), "data:image/jpeg;base64,QQ==".to_owned())].into();
        rsx! { ScoreZone { lang: Lang::En, zone_name: "Belt 3", view, thumbs, on_mark: |_| {} } }
    }
    let html = render(last);
    // The item's photos as thumbnails, each with a remove button; one whose thumbnail is not
    // on the phone says so.
    let strip = &html[html
        .find(r#"data-testid="thumbs-clean""#)
        .expect("thumbnails")..];
    assert!(strip.contains("data:image/jpeg;base64,QQ=="), "{html}");
    // The first taken has no thumbnail here, the second has.
    let first = strip.find("thumb missing").expect("the photo taken first");
    let second = strip.find("data:image").expect("the photo taken second");
    assert!(first < second, "in the order taken: {strip}");
    assert!(
        strip.contains(r#"data-testid="thumbs-clean-remove-1""#),
        "{html}"
    );
    assert!(
        !html.contains("next-zone") && !html.contains("photo needed"),
        "{html}"
    );
    assert!(
        html.contains("Photos 2") && html.contains("Raise a problem"),
        "{html}"
    );
}

fn patrol_row(name: &str, closed: bool) -> PatrolRow {
    PatrolRow {
        name: name.into(),
        branch: None,
        kind: PatrolKind::TenDay,
        date: Some(NaiveDate::from_ymd_opt(2026, 11, 20).expect("day")),
        zones: 3,
        closed,
    }
}

#[test]
fn home_puts_each_role_s_main_action_first() {
    assert_eq!(
        actions(Role::Secretary)[0],
        (T::StartPatrol, Go::StartPatrol)
    );
    assert_eq!(actions(Role::Inspector)[0].1, Go::StartPatrol);
    assert_eq!(actions(Role::ZoneHolder)[0], (T::MyProblems, Go::Problems));
    assert!(
        actions(Role::ZoneHolder)
            .iter()
            .all(|a| a.1 != Go::StartPatrol)
    );
    assert!(actions(Role::Admin).iter().any(|a| a.1 == Go::Settings));
    assert!(actions(Role::ZoneHolder).contains(&(T::SelfScore, Go::SelfScore)));
    assert_eq!(actions(Role::TeamLeader)[0], (T::LogCleanup, Go::Cleanup));
    assert!(actions(Role::Secretary).contains(&(T::MonthlyAssessment, Go::Assess)));
    for role in [Role::Secretary, Role::Inspector] {
        assert!(
            actions(role).contains(&(T::ToVerify, Go::Verify)),
            "{role:?}"
        );
    }
    for role in [Role::ZoneHolder, Role::TeamLeader, Role::Manager] {
        assert!(actions(role).iter().all(|a| a.1 != Go::Verify), "{role:?}");
    }
    assert!(actions(Role::Secretary).contains(&(T::MoreTimeRequests, Go::MoreTime)));
    assert!(
        actions(Role::Inspector).iter().all(|a| a.1 != Go::MoreTime),
        "only the secretary answers requests for more time"
    );
    assert_eq!(actions(Role::Manager)[0], (T::Rankings, Go::Rankings));
    for role in [
        Role::Secretary,
        Role::Inspector,
        Role::ZoneHolder,
        Role::TeamLeader,
        Role::Manager,
    ] {
        assert!(
            actions(role).contains(&(T::Rankings, Go::Rankings)),
            "{role:?}"
        );
    }

    let html = render(|| {
        rsx! { Home { lang: Lang::Zh, user: "h1", role: Role::ZoneHolder, patrols: vec![], problems: 3, overdue: 1, on_go: |_| {} } }
    });
    assert!(html.contains("责任区负责人"), "{html}");
    let first = html.find("class=\"primary\"").expect("a main action");
    assert!(
        html[first..].starts_with("class=\"primary\" data-testid=\"go-problems\">我的整改"),
        "{html}"
    );
    assert!(html.contains("1 已超期"), "{html}");

    let html = render(|| {
        rsx! { Home { lang: Lang::Zh, user: "sec", role: Role::Secretary,
        patrols: vec![patrol_row("p1", false), patrol_row("p0", true), PatrolRow {
            name: "jdyd:p2".into(),
            branch: Some("掘进一队党支部".into()),
            ..patrol_row("p2", false)
        }], problems: 0, overdue: 0, on_go: |_| {} } }
    });
    for text in [
        "开始巡查",
        "我的巡查",
        "旬督导",
        "2026-11-20",
        "3 个责任区",
        "进行中",
        "已结束",
        "旬督导 · 掘进一队党支部",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(!html.contains("badge"), "no count without problems: {html}");
}

fn zones() -> Vec<(String, String)> {
    vec![
        ("z1".into(), "三水平上车场".into()),
        ("z2".into(), "802溜子道".into()),
    ]
}

#[test]
fn starting_a_patrol_offers_every_kind_and_every_zone() {
    let html = render(|| {
        rsx! { StartPatrol { lang: Lang::Zh, today: NaiveDate::from_ymd_opt(2026, 11, 21).expect("day"),
        zones: zones(), members: vec![("h2".to_string(), "李四 (h2)".to_string())], error: Some("请至少选择一个责任区".to_string()),
        on_start: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "周检查",
        "旬督导",
        "月自查",
        "抽查",
        "2026-11-21",
        "三水平上车场",
        "802溜子道",
        "李四 (h2)",
        "请至少选择一个责任区",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(
        html.contains(r#"aria-pressed="true" data-testid="kind-Weekly""#),
        "weekly by default: {html}"
    );
    assert!(
        html.contains(r#"aria-pressed="true" data-testid="zone-z2""#),
        "every zone to begin with: {html}"
    );
    assert!(
        html.contains(r#"aria-pressed="false" data-testid="inspector-h2""#),
        "{html}"
    );

    let chosen = ["z2".to_owned()].into_iter().collect();
    let inspectors = ["h2".to_owned()].into_iter().collect();
    let input = patrol_input(
        PatrolKind::SpotCheck,
        "2026-11-21",
        &zones(),
        &chosen,
        &inspectors,
    );
    assert_eq!(input.zones, ["z2"]);
    assert_eq!(input.inspectors, ["h2"]);
    assert_eq!(input.date, NaiveDate::from_ymd_opt(2026, 11, 21));
    assert_eq!(
        patrol_input(PatrolKind::Weekly, "", &zones(), &chosen, &inspectors).date,
        None
    );
}

#[test]
fn a_patrol_lists_its_zones_with_scores_and_its_leader_closes_it() {
    fn rows() -> Vec<ZoneRow> {
        vec![
            ZoneRow {
                id: "z1".into(),
                name: "三水平上车场".into(),
                location: "-350".into(),
                score: Some(ZoneScore {
                    total: Points::whole(8),
                    max: Points::whole(10),
                }),
            },
            ZoneRow {
                id: "z2".into(),
                name: "802溜子道".into(),
                location: String::new(),
                score: None,
            },
        ]
    }
    let html = render(|| {
        rsx! { PatrolZones { lang: Lang::Zh, kind: PatrolKind::Weekly, day: NaiveDate::from_ymd_opt(2026, 11, 21), rows: rows(),
        leader: true, closed: false, scanning: false, error: None, on_open: |_| {}, on_scan: |_| {}, on_close: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "周检查",
        "扫描责任区牌",
        "<strong>8</strong> / 10",
        "未评分",
        "结束巡查",
        r#"data-testid="open-z2""#,
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let html = render(|| {
        rsx! { PatrolZones { lang: Lang::Zh, kind: PatrolKind::Weekly, day: None, rows: rows(),
        leader: false, closed: false, scanning: true, error: Some("照片里没有找到二维码".to_string()), on_open: |_| {}, on_scan: |_| {}, on_close: |_| {}, on_back: |_| {} } }
    });
    assert!(!html.contains("结束巡查"), "only the leader closes: {html}");
    assert!(
        html.contains("正在处理照片…") && html.contains("照片里没有找到二维码"),
        "{html}"
    );
}

#[test]
fn raising_a_problem_starts_with_the_zone_holder_and_a_week() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("day");
    assert_eq!(
        default_deadline(today, Severity::General),
        NaiveDate::from_ymd_opt(2026, 11, 28).expect("day")
    );
    assert_eq!(
        default_deadline(today, Severity::Major),
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("day")
    );
    let html = render(|| {
        rsx! { RaiseProblem { lang: Lang::Zh, zone_name: "三水平上车场", item_text: Some("电缆吊挂整齐".to_string()),
        members: vec![("h1".to_string(), "张三 (h1)".to_string()), ("h2".to_string(), "李四 (h2)".to_string())],
        responsible: "h1", today: NaiveDate::from_ymd_opt(2026, 11, 21).expect("day"), photos: 1, photo_busy: false,
        error: None, on_photo: |_| {}, on_submit: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "提出问题",
        "三水平上车场 · 电缆吊挂整齐",
        "问题描述",
        "严重程度",
        "一般",
        "重大",
        "责任人",
        "整改措施",
        "整改期限",
        "2026-11-28",
        // The date written as the Chinese reader expects, with its weekday, and quick picks.
        "周六",
        "+7天",
        r#"inputmode="numeric""#,
        "照片 1",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(
        html.contains(r#"aria-pressed="true" data-testid="responsible-h1""#),
        "{html}"
    );
    assert!(
        html.contains(r#"aria-pressed="false" data-testid="responsible-h2""#),
        "{html}"
    );
    assert!(
        html.contains(r#"aria-pressed="true" data-testid="severity-General""#),
        "{html}"
    );
}

fn problem_row(name: &str, overdue: bool, status: ProblemStatus) -> ProblemRow {
    ProblemRow {
        name: name.into(),
        zone: "三水平上车场".into(),
        description: "电缆掉落".into(),
        measure: "重新吊挂".into(),
        severity: Severity::Major,
        deadline: NaiveDate::from_ymd_opt(2026, 11, 18),
        status,
        overdue,
        thumbs: vec![],
        reopen_note: None,
        extension: None,
    }
}

fn verify_row() -> VerifyRow {
    VerifyRow {
        name: "p7".into(),
        zone: "三水平上车场".into(),
        description: "电缆掉落".into(),
        measure: "重新吊挂".into(),
        severity: Severity::Major,
        deadline: NaiveDate::from_ymd_opt(2026, 11, 18),
        fixed_by: "赵六".into(),
        fixed_at: 1,
        fix_note: "已重新吊挂".into(),
        before: vec![zonepatrol_shared::docs::PhotoRef {
            thumb: "a".repeat(64),
            ..Default::default()
        }],
        after: vec![zonepatrol_shared::docs::PhotoRef {
            thumb: "b".repeat(64),
            ..Default::default()
        }],
    }
}

#[test]
fn the_verifier_sees_the_fix_beside_the_finding_and_may_send_it_back() {
    let html = render(|| {
        rsx! { VerifyList { lang: Lang::Zh, rows: vec![verify_row()], on_open: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "待验证",
        "电缆掉落",
        "重大",
        "三水平上车场",
        "赵六",
        r#"data-testid="verify-p7""#,
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let empty = render(
        || rsx! { VerifyList { lang: Lang::Zh, rows: vec![], on_open: |_| {}, on_back: |_| {} } },
    );
    assert!(
        !empty.contains("verify-p7") && empty.contains("没有"),
        "{empty}"
    );

    let html = render(|| {
        rsx! { VerifyFix { lang: Lang::Zh, row: verify_row(),
        before: vec![zonepatrol_app::ui::photo::Shown { hash: "a".repeat(64), thumb: Some("data:image/jpeg;base64,AAAA".to_string()), ..Default::default() }],
        after: vec![zonepatrol_app::ui::photo::Shown { hash: "b".repeat(64), ..Default::default() }],
        error: Some("请写明还有什么不对".to_string()), on_judge: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "重新吊挂",
        "已重新吊挂",
        "2026-11-18",
        r#"data-testid="before-photos""#,
        r#"data-testid="after-photos""#,
        "data:image/jpeg;base64,AAAA",
        r#"data-testid="submit-verify""#,
        r#"data-testid="submit-reopen""#,
        r#"data-testid="reopen-note""#,
        r#"class="date-field""#,
        "请写明还有什么不对",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    // The after-photo that has not reached this phone says so instead of showing nothing.
    assert!(html.contains("thumb missing"), "{html}");
}

#[test]
fn the_holder_s_list_marks_overdue_and_the_fix_screen_asks_for_an_after_photo() {
    let html = render(|| {
        rsx! { ProblemList { lang: Lang::Zh, rows: vec![problem_row("a", true, ProblemStatus::Open), problem_row("b", false, ProblemStatus::Rectified)], on_open: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "我的整改",
        "已超期",
        "重大",
        "电缆掉落",
        "期限 11-18",
        "待整改",
        "待验证",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(html.contains(r#"class="row overdue""#));
    let empty = render(
        || rsx! { ProblemList { lang: Lang::Zh, rows: vec![], on_open: |_| {}, on_back: |_| {} } },
    );
    assert!(empty.contains("没有待整改的问题"), "{empty}");

    let html = render(|| {
        rsx! { RectifyProblem { lang: Lang::Zh, row: problem_row("a", true, ProblemStatus::Open), photos: 0, photo_busy: false,
        error: Some("请拍一张整改后的照片".to_string()), on_photo: |_| {}, on_submit: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "重新吊挂",
        "整改后照片",
        "登记整改",
        "请拍一张整改后的照片",
        "已超期",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let done = render(|| {
        rsx! { RectifyProblem { lang: Lang::Zh, row: problem_row("a", false, ProblemStatus::Verified), photos: 0, photo_busy: false,
        error: None, on_photo: |_| {}, on_submit: |_| {}, on_back: |_| {} } }
    });
    assert!(
        done.contains("已销号") && !done.contains("submit-fix"),
        "nothing to fix: {done}"
    );

    // The problem's photos beside the fix's, as thumbnails in the order taken; only the fix's
    // may be taken off, and a photo not on the phone yet says so.
    let both = render(|| {
        use zonepatrol_app::ui::photo::Shown;
        let shown = |hash: &str, src: Option<&str>| Shown {
            hash: hash.to_owned(),
            thumb: src.map(str::to_owned),
            ..Default::default()
        };
        // The secretary circled the defect on the first before-photo.
        let circled = Shown {
            size: (4000, 3000),
            marks: zonepatrol_shared::docs::marks::keyed([zonepatrol_shared::docs::PhotoMark {
                kind: zonepatrol_shared::docs::MarkKind::Circle,
                x1: 100,
                y1: 100,
                x2: 300,
                y2: 300,
                text: String::new(),
            }]),
            ..shown("b1", Some("data:image/jpeg;base64,QkVGT1JF"))
        };
        rsx! { RectifyProblem { lang: Lang::Zh, row: problem_row("a", false, ProblemStatus::Open), photos: 2, photo_busy: false,
            error: None, on_photo: |_| {}, on_submit: |_| {}, on_back: |_| {},
            before: vec![circled, shown("b2", None)],
            shown: vec![shown("a1", Some("data:image/jpeg;base64,QUZURVIx")), shown("a2", Some("data:image/jpeg;base64,QUZURVIy"))],
        } }
    });
    let before = both
        .split(r#"data-testid="before-thumbs""#)
        .nth(1)
        .and_then(|r| r.split(r#"data-testid="after-thumbs""#).next())
        .unwrap_or_else(|| panic!("the before-photos first: {both}"));
    assert!(
        before.contains("QkVGT1JF") && before.contains("照片还没到这部手机"),
        "{before}"
    );
    assert!(
        !before.contains("remove"),
        "the finding's photos stay: {before}"
    );
    // Its marks are drawn over it, in the photo's shape.
    assert!(
        before.contains(r#"data-testid="before-thumbs-marks-0""#)
            && before.contains(r#"viewBox="0 0 1000 750""#)
            && before.contains("<ellipse"),
        "{before}"
    );
    assert!(!before.contains("before-thumbs-marks-1"), "{before}");
    let after = both
        .split(r#"data-testid="after-thumbs""#)
        .nth(1)
        .unwrap_or_default();
    let (one, two) = (after.find("QUZURVIx"), after.find("QUZURVIy"));
    assert!(one.is_some() && one < two, "in the order taken: {after}");
    assert!(
        after.contains(r#"data-testid="after-thumbs-remove-1""#),
        "{after}"
    );
}

#[test]
fn settings_switch_the_language_and_list_refused_edits_with_reasons() {
    let html = render(|| {
        rsx! { Settings { lang: Lang::En, user: "sec", server: "http://10.0.0.5:8080", refused: 2,
        on_lang: |_| {}, on_quarantine: |_| {}, on_sign_out: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "Language",
        "中文 (Chinese)",
        "Refused edits (2)",
        "Sign out",
        "http://10.0.0.5:8080",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(
        html.contains(r#"aria-pressed="true" data-testid="lang-en""#),
        "{html}"
    );

    fn refused() -> Element {
        let refusal: zonepatrol_shared::validate::Refusal = serde_json::from_value(serde_json::json!({
            "code": "not_writer", "part": "zones", "reason": "you are not an inspector on this patrol: ask its leader to add you"
        }))
        .expect("refusal");
        let items = vec![zonepatrol_app::store::Quarantined {
            photos: Vec::new(),
            key: 7,
            id: "sheet:zcyd:p1:zhao".into(),
            at: 1_795_134_600_000,
            refusal,
            changes: String::new(),
            user: "zhao".into(),
            probation: false,
            fields: Vec::new(),
            after: String::new(),
            changed: vec![
                zonepatrol_app::store::Changed {
                    path: vec!["zones".into(), "z1".into(), "remarks".into()],
                    value: Some("电缆吊挂不规范".into()),
                },
                zonepatrol_app::store::Changed {
                    path: vec!["zones".into(), "z2".into()],
                    value: None,
                },
            ],
        }];
        rsx! { QuarantineList { lang: Lang::Zh, items, on_dismiss: |_| {}, on_back: |_| {} } }
    }
    let html = render(refused);
    for text in [
        "被退回的修改",
        "检查评分表",
        "sheet:zcyd:p1:zhao",
        "你不能修改这一项（角色不符、不在巡查名单上，或手机上的资料还不全）",
        "服务器说明：you are not an inspector on this patrol: ask its leader to add you",
        "2026-11-20 08:30",
        "责任区 › z1 › 备注</span>：<strong>电缆吊挂不规范</strong>",
        "责任区 › z2</span>：<em>（删除）</em>",
        "重新提交",
        "放弃此修改",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let none = render(
        || rsx! { QuarantineList { lang: Lang::Zh, items: vec![], on_dismiss: |_| {}, on_back: |_| {} } },
    );
    assert!(none.contains("没有被退回的修改"), "{none}");
}

/// The whole app on a real store, without a window or a server.
fn app_html(repo: std::sync::Arc<zonepatrol_app::store::Repo>) -> String {
    zonepatrol_app::sync::install_crypto();
    let client = zonepatrol_app::sync::SyncClient::new(repo.clone()).expect("client");
    let services = zonepatrol_app::ui::Services {
        repo,
        client: std::sync::Arc::new(client),
        wake: std::sync::Arc::new(tokio::sync::Notify::new()),
    };
    let mut dom = VirtualDom::new(zonepatrol_app::App).with_root_context(services);
    dom.rebuild_in_place();
    dioxus_ssr::render(&dom)
}

#[test]
fn the_app_opens_on_sign_in_then_on_home_for_a_remembered_session_in_the_chosen_language() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = std::sync::Arc::new(zonepatrol_app::store::Repo::open(dir.path()).expect("open"));
    let html = app_html(repo.clone());
    assert!(
        html.contains(r#"lang="zh-CN""#) && html.contains(r#"data-testid="sign-in""#),
        "{html}"
    );

    repo.set_session(&zonepatrol_app::store::Session {
        server: "http://127.0.0.1:9".into(),
        token: "t".into(),
        user: zonepatrol_shared::Actor::new("sec", Role::Secretary, "zcyd"),
        time_zone: zonepatrol_shared::protocol::default_time_zone(),
        server_key: None,
    })
    .expect("session");
    let html = app_html(repo.clone());
    for text in ["尚未同步", "sec · 支部书记", "开始巡查", "我的整改", "设置"] {
        assert!(html.contains(text), "{text} in {html}");
    }
    repo.set_preference("lang", "en").expect("preference");
    let html = app_html(repo);
    assert!(
        html.contains(r#"lang="en""#) && html.contains("Start a patrol"),
        "{html}"
    );
}

#[test]
fn the_month_list_and_score_sheet_show_self_scores_and_suggestions_with_reasons() {
    use zonepatrol_app::records::assessment::MonthRow;
    use zonepatrol_app::records::assessment::start_scores;
    use zonepatrol_app::ui::month::{MonthList, ScoreSheet, stepped};
    use zonepatrol_shared::docs::Scores;
    use zonepatrol_shared::rules::AssessmentForm;
    use zonepatrol_shared::rules::suggest::{AssessmentItem, Reason, Suggestion};

    let html = render(|| {
        rsx! { MonthList { lang: Lang::Zh, title: T::MonthlyAssessment, month: "2026年11月", this_month: true,
        rows: vec![MonthRow { zone: "z1".into(), name: "三水平上车场".into(), self_total: Some(Points::whole(90)), branch_total: None }],
        on_month: |_| {}, on_open: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "月度考核",
        "2026年11月",
        "本月",
        "上月",
        "自评 90",
        "支部评分 未填",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }

    let p = |s: &str| -> Points { s.parse().expect("points") };
    let suggestion = Suggestion {
        item: AssessmentItem::QualityStandard,
        score: p("8.5"),
        reason: Reason::Inspections {
            count: 2,
            mean: p("85"),
        },
    };
    let own = Scores {
        items: BTreeMap::from([
            ("safety".to_owned(), p("9")),
            ("quality_standard".to_owned(), p("10")),
        ]),
        ..Scores::default()
    };
    let form = AssessmentForm::default();
    let start = start_scores(
        &form,
        &Scores::default(),
        &own,
        std::slice::from_ref(&suggestion),
    );
    assert_eq!(start["quality_standard"], p("8.5"), "the suggestion first");
    assert_eq!(start["safety"], p("9"), "then the self-score");
    assert_eq!(start["learning"], p("10"), "then full marks");
    // A form that makes safety worth 5 starts it at no more than 5.
    let mut small = form.clone();
    small.items[0].max = p("5");
    small.items[1].max = p("15");
    assert_eq!(
        start_scores(&small, &Scores::default(), &own, &[])["safety"],
        p("5")
    );
    let given = Scores {
        items: BTreeMap::from([("quality_standard".to_owned(), p("7"))]),
        ..Scores::default()
    };
    assert_eq!(
        start_scores(&form, &given, &own, &[suggestion])["quality_standard"],
        p("7"),
        "what was given stays"
    );
    assert_eq!(stepped(p("10"), true, p("10")), p("10"));
    assert_eq!(stepped(p("10"), true, p("20")), p("10.5"));
    assert_eq!(stepped(p("0"), false, p("10")), p("0"));
    assert_eq!(stepped(p("8.5"), false, p("10")), p("8"));

    fn sheet() -> Element {
        let p = |s: &str| -> Points { s.parse().expect("points") };
        let form = AssessmentForm::default();
        let start = form.items.iter().map(|i| (i.key.clone(), p("9"))).collect();
        let own = BTreeMap::from([("safety".to_owned(), p("10"))]);
        let suggestions = vec![Suggestion {
            item: AssessmentItem::QualityStandard,
            score: p("8.5"),
            reason: Reason::Inspections {
                count: 2,
                mean: p("85"),
            },
        }];
        rsx! { ScoreSheet { lang: Lang::Zh, title: T::MonthlyAssessment, zone_name: "三水平上车场", month: "2026年11月",
        form, start, self_score: own, suggestions, note: "", error: None, on_submit: |_| {}, on_back: |_| {} } }
    }
    let html = render(sheet);
    for text in [
        "安全",
        "队伍稳定",
        "质量标准化",
        "自评 10",
        "建议 8.5",
        "本月2次检查平均85分",
        "<strong>90</strong> / 100",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
}

#[test]
fn the_cleanup_form_counts_person_times_and_reads_work_items() {
    use zonepatrol_app::ui::cleanup::{CleanupForm, work_items};
    let html = render(|| {
        rsx! { CleanupForm { lang: Lang::Zh, zones: zones(), team: "综采一班", members: vec![("h1".to_string(), "张三 (h1)".to_string())],
        today: NaiveDate::from_ymd_opt(2026, 11, 21).expect("day"), before: 1, after: 0, busy: false, error: None,
        on_photo: |_| {}, on_submit: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "登记清理",
        "综采一班",
        "2026-11-21",
        "参加人员",
        "人次",
        "工作内容",
        "清理前照片",
        "清理后照片",
        "张三 (h1)",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(html.contains(r#"data-testid="person-times">0<"#), "{html}");
    let rows = vec![
        ("清理浮煤".to_owned(), "1.5".to_owned(), "t".to_owned()),
        (String::new(), " ".to_owned(), String::new()),
    ];
    let items = work_items(&rows).expect("items");
    assert_eq!(items.len(), 1, "empty rows are dropped");
    assert_eq!(items[0].quantity_milli, 1500);
    let bad = vec![("清理浮煤".to_owned(), "许多".to_owned(), "t".to_owned())];
    assert_eq!(work_items(&bad), Err(T::WorkItemIncomplete));
}

#[test]
fn rankings_show_rank_zone_score_and_money_or_say_none_yet() {
    use zonepatrol_app::records::ranking::{RankRow, Ranking};
    use zonepatrol_app::ui::ranking::Rankings;
    fn screen() -> Element {
        let rankings = vec![Ranking {
            period: "2026-10".parse().expect("month"),
            updated_at: Some(1_795_134_600_000),
            rows: vec![RankRow {
                zone: "z2".into(),
                rank: 1,
                name: "802溜子道".into(),
                score: Some(Points::whole(95)),
                money_fen: 20000,
                praised: true,
                named: false,
            }],
            open_problems: 4,
            overdue_problems: 1,
            branch: zonepatrol_shared::docs::BranchResult {
                category: 1,
                score: Some("89.38".parse().expect("points")),
                grade: "pass".into(),
                rank: 2,
                of: 5,
                ..Default::default()
            },
            published: true,
        }];
        rsx! { Rankings { lang: Lang::Zh, branches: vec![("b1".to_string(), "综采一队".to_string()), ("b2".to_string(), "掘进一队".to_string())],
        branch: "b1", rankings, on_branch: |_| {}, on_back: |_| {} } }
    }
    let html = render(screen);
    for text in [
        "排名与积分",
        "2026年10月",
        "未整改问题 4",
        "已超期 1",
        "更新于 11-20 08:30",
        "802溜子道",
        "95",
        "+200.00",
        "掘进一队",
        "表扬",
        "支部得分 89.38 · 达标 · 名次 2/5 · 已发布",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let none = render(
        || rsx! { Rankings { lang: Lang::En, branches: vec![], branch: "b1", rankings: vec![], on_branch: |_| {}, on_back: |_| {} } },
    );
    assert!(none.contains("No rankings yet"), "{none}");
}

#[test]
fn the_branch_at_a_glance_and_a_zone_s_months_read_on_the_phone() {
    use zonepatrol_app::records::ranking::{Standing, TrendMonth, ZoneTrend};
    use zonepatrol_app::ui::ranking::{Rankings, ZoneMonths};
    fn screen() -> Element {
        let rankings = vec![Ranking {
            period: "2026".parse().expect("year"),
            updated_at: None,
            rows: vec![RankRow {
                zone: "z1".into(),
                rank: 1,
                name: "三水平上车场".into(),
                score: Some(Points::whole(95)),
                money_fen: 0,
                praised: false,
                named: false,
            }],
            open_problems: 3,
            overdue_problems: 2,
            branch: Default::default(),
            published: false,
        }];
        let standing = Standing {
            category: Some(zonepatrol_shared::BranchCategory::MainProduction),
            period: Some("2026".parse().expect("year")),
            branch: zonepatrol_shared::docs::BranchResult {
                category: 1,
                score: Some(Points::whole(91)),
                grade: "excellent".into(),
                rank: 2,
                of: 3,
                ..Default::default()
            },
            open_problems: 3,
            overdue_problems: 2,
            my_money: Some(("2026-11".parse().expect("month"), 1200)),
        };
        rsx! { Rankings { lang: Lang::Zh, branches: vec![], branch: "b1", rankings, standing, on_branch: |_| {}, on_back: |_| {} } }
    }
    let html = render(screen);
    for text in [
        "2026年 · 主要生产 · 同类支部中名次 2/3 · 先进",
        "本支部未整改问题 3 · 已超期 2",
        "2026年11月 我的奖罚（元） +12.00",
        r#"data-testid="trend-z1""#,
        "点责任区名称看它逐月的得分",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    use zonepatrol_app::records::ranking::RankRow;
    use zonepatrol_app::records::ranking::Ranking;
    fn months() -> Element {
        let month = |m: &str, score: &str, change: Option<&str>, money_fen| TrendMonth {
            month: m.parse().expect("month"),
            score: Some(score.parse().expect("points")),
            change: change.map(|c| c.parse().expect("points")),
            rank: 2,
            of: 4,
            inspection: Some(Points::whole(90)),
            money_fen,
            open_problems: 1,
            overdue_problems: 1,
        };
        let trend = ZoneTrend {
            name: "三水平上车场".into(),
            months: vec![
                month("2026-10", "97", None, 2000),
                month("2026-11", "95.5", Some("-1.5"), 500),
            ],
        };
        rsx! { ZoneMonths { lang: Lang::Zh, trend, on_back: |_| {} } }
    }
    let html = render(months);
    for text in [
        "三水平上车场",
        "逐月得分",
        "2026年10月",
        "95.5",
        "-1.5",
        "2/4",
        "+20.00",
        "检查 90",
        "width: 95%",
        "未整改问题 1 · 已超期 1",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let none = render(|| {
        rsx! { ZoneMonths { lang: Lang::En, trend: ZoneTrend { name: "Belt 3".into(), months: vec![] }, on_back: |_| {} } }
    });
    assert!(none.contains("No monthly results"), "{none}");
}

fn asked(pending: bool, answer: Option<AnswerSummary>) -> ExtensionSummary {
    ExtensionSummary {
        id: "h1-ask-1".into(),
        by: "h1".into(),
        at: 1,
        until: NaiveDate::from_ymd_opt(2026, 11, 25).expect("day"),
        reason: "等配件".into(),
        pending,
        answer,
    }
}

fn more_time_row() -> MoreTimeRow {
    MoreTimeRow {
        name: "p7".into(),
        zone: "三水平上车场".into(),
        description: "支架歪斜".into(),
        asked_by: "张师傅".into(),
        deadline: NaiveDate::from_ymd_opt(2026, 11, 18),
        until: NaiveDate::from_ymd_opt(2026, 11, 25).expect("day"),
        reason: "液压支架配件未到".into(),
    }
}

#[test]
fn the_holder_asks_for_more_time_and_the_secretary_sees_what_was_asked() {
    let html = render(|| {
        rsx! { MoreTimeAsk { lang: Lang::Zh, deadline: NaiveDate::from_ymd_opt(2026, 11, 18),
        waiting_for_fix: true, overdue: false, extension: None, on_ask: |_| {} } }
    });
    for text in [
        "申请延期",
        "最早 2026-11-19",
        r#"data-testid="submit-more-time""#,
        "延期原因",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let late = render(|| {
        rsx! { MoreTimeAsk { lang: Lang::Zh, deadline: NaiveDate::from_ymd_opt(2026, 11, 18),
        waiting_for_fix: true, overdue: true, extension: None, on_ask: |_| {} } }
    });
    assert!(
        late.contains("整改期限已过") && !late.contains("submit-more-time"),
        "{late}"
    );
    let waiting = render(|| {
        rsx! { MoreTimeAsk { lang: Lang::Zh, deadline: NaiveDate::from_ymd_opt(2026, 11, 18),
        waiting_for_fix: true, overdue: false, extension: Some(asked(true, None)), on_ask: |_| {} } }
    });
    assert!(
        waiting.contains("延期申请待批复") && waiting.contains("2026-11-25"),
        "{waiting}"
    );
    assert!(
        !waiting.contains("submit-more-time"),
        "one request at a time"
    );
    let refused = render(|| {
        let no = AnswerSummary {
            granted: false,
            until: None,
            note: "本周内必须完成".into(),
        };
        rsx! { MoreTimeAsk { lang: Lang::Zh, deadline: NaiveDate::from_ymd_opt(2026, 11, 18),
        waiting_for_fix: true, overdue: false, extension: Some(asked(false, Some(no))), on_ask: |_| {} } }
    });
    assert!(
        refused.contains("延期未批准：本周内必须完成") && refused.contains("submit-more-time"),
        "{refused}"
    );

    let html = render(|| {
        rsx! { MoreTimeList { lang: Lang::Zh, rows: vec![more_time_row()], on_open: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "延期申请",
        "支架歪斜",
        "张师傅",
        "2026-11-25",
        r#"data-testid="more-time-p7""#,
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let html = render(|| {
        rsx! { MoreTimeAnswer { lang: Lang::Zh, row: more_time_row(), error: None, on_answer: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "现行期限 2026-11-18",
        "2026-11-25",
        "液压支架配件未到",
        r#"value="2026-11-25""#,
        r#"data-testid="grant-more-time""#,
        r#"data-testid="refuse-more-time""#,
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
}

fn post_row(
    status: zonepatrol_shared::docs::PostStatus,
    to_decide: bool,
) -> zonepatrol_app::records::post::PostRow {
    use zonepatrol_shared::docs::PostStep;
    zonepatrol_app::records::post::PostRow {
        id: "p7".into(),
        title: "三水平上车场示范岗".into(),
        zone: "三水平上车场".into(),
        status,
        demonstrators: vec!["张师傅".into(), "刘师傅".into()],
        standard: "运输专业质量标准".into(),
        duty: "巷道整洁、设备完好".into(),
        assessor: "王书记".into(),
        assessment: "每月考核一次".into(),
        starts: NaiveDate::from_ymd_opt(2026, 10, 1),
        ends: NaiveDate::from_ymd_opt(2027, 9, 30),
        history: vec![
            (PostStep::Propose, "张师傅".into(), String::new()),
            (
                PostStep::Revoke,
                "王书记".into(),
                "季度排名低于合格线".into(),
            ),
        ],
        mine: false,
        to_decide,
    }
}

/// The posts list says where each stands and which wait for a decision; a post's page shows
/// its five clears, its history with the reasons, and only the actions the user may take.
#[test]
fn posts_show_their_status_history_and_the_users_actions() {
    use zonepatrol_app::records::post::PostAction;
    use zonepatrol_app::ui::post::{ApplyForm, PostList, PostView};
    use zonepatrol_shared::docs::PostStatus;
    let html = render(|| {
        rsx! { PostList { lang: Lang::Zh, rows: vec![post_row(PostStatus::Proposed, true)],
        can_apply: true, on_open: |_| {}, on_apply: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "三水平上车场示范岗",
        "待审批",
        "张师傅、刘师傅",
        r#"data-testid="post-p7""#,
        r#"data-testid="apply-post""#,
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let html = render(|| {
        rsx! { PostView { lang: Lang::Zh, row: post_row(PostStatus::Proposed, true),
        actions: vec![PostAction::Approve, PostAction::Reject], error: None,
        on_act: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "明确依据和标准：运输专业质量标准",
        "亮职责（公示牌上的职责）：巷道整洁、设备完好",
        "2026-10-01 — 2027-09-30",
        "摘牌 · 王书记：季度排名低于合格线",
        r#"data-testid="post-approve""#,
        r#"data-testid="post-reject""#,
        "不批准的原因",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(
        !html.contains("post-revoke") && !html.contains("review-note"),
        "{html}"
    );
    let html = render(|| {
        rsx! { PostView { lang: Lang::Zh, row: post_row(PostStatus::Active, false),
        actions: vec![PostAction::Review, PostAction::Revoke], error: None,
        on_act: |_| {}, on_back: |_| {} } }
    });
    for text in ["季度讲评意见", "摘牌原因", r#"data-testid="post-revoke""#] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(
        !html.contains("post-revoke-confirm"),
        "withdrawing asks once more before it is done"
    );
    let html = render(|| {
        rsx! { PostList { lang: Lang::Zh, rows: vec![], can_apply: false,
        on_open: |_| {}, on_apply: |_| {}, on_back: |_| {} } }
    });
    assert!(
        html.contains("还没有示范岗") && !html.contains("apply-post"),
        "no application for someone outside the branch: {html}"
    );
    let html = render(|| {
        rsx! { PostView { lang: Lang::En, row: post_row(PostStatus::Revoked, false),
        actions: vec![], error: Some("Write the reason".into()),
        on_act: |_| {}, on_back: |_| {} } }
    });
    assert!(
        html.contains("Title withdrawn") && html.contains("Write the reason"),
        "{html}"
    );
    assert!(
        !html.contains("post-approve") && !html.contains("reject-reason"),
        "{html}"
    );
    let html = render(|| {
        rsx! { ApplyForm { lang: Lang::Zh,
        zones: vec![("z1".into(), "三水平上车场".into())],
        people: vec![("h2".into(), "刘师傅 (h2)".into())],
        error: None, on_apply: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "申报示范岗",
        "明确区域（责任区）",
        "三水平上车场",
        "刘师傅 (h2)",
        "明确考核人",
        "明确考核标准",
        r#"class="date-field""#,
        r#"data-testid="submit-post""#,
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
}

/// What is due sits at the top of home, the late lines marked; nothing due, no section.
#[test]
fn home_lists_what_is_due_the_late_first() {
    let html = render(|| {
        rsx! { Home { lang: Lang::Zh, user: "h2", role: Role::ZoneHolder, patrols: vec![],
        problems: 2, overdue: 1,
        due: vec![("1项问题已超期".to_owned(), true), ("2026年11月自评还差1个责任区，11-30前".to_owned(), false)],
        on_go: |_| {} } }
    });
    for text in [
        "待办",
        "1项问题已超期",
        "自评还差1个责任区",
        r#"class="late""#,
        r#"data-testid="due""#,
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let none = render(|| {
        rsx! { Home { lang: Lang::Zh, user: "h2", role: Role::ZoneHolder, patrols: vec![],
        problems: 0, overdue: 0, on_go: |_| {} } }
    });
    assert!(!none.contains("data-testid=\"due\""), "{none}");
}

#[test]
fn home_lists_unfinished_drafts_to_open_again_or_discard() {
    use zonepatrol_app::records::draft::{DraftRow, Form};
    fn screen() -> Element {
        let rows = vec![
            DraftRow {
                form: Form::Raise {
                    patrol: "p1".into(),
                    zone: "z1".into(),
                    item: None,
                },
                about: "三水平上车场".into(),
                text: "电缆吊挂不规范".into(),
                photos: 2,
                // 2025-12-03 06:05 UTC is 14:05 in Shanghai.
                updated_at: 1_764_741_900_000,
            },
            DraftRow {
                form: Form::Cleanup,
                about: "802溜子道".into(),
                text: String::new(),
                photos: 0,
                updated_at: 1_764_741_000_000,
            },
        ];
        rsx! { Home { lang: Lang::Zh, user: "h1", role: Role::ZoneHolder, patrols: vec![], problems: 0, overdue: 0,
        drafts: rows, tz: Some(chrono_tz::Asia::Shanghai), on_go: |_| {} } }
    }
    let html = render(screen);
    let drafts = html
        .split(r#"data-testid="drafts""#)
        .nth(1)
        .unwrap_or_else(|| panic!("a drafts section: {html}"));
    for text in [
        "未提交的草稿",
        "提出问题 · 三水平上车场",
        "2025-12-03 14:05 · 电缆吊挂不规范 · 2 张照片",
        "登记清理 · 802溜子道",
        r#"data-testid="discard-draft-1""#,
    ] {
        assert!(drafts.contains(text), "{text} in {drafts}");
    }
    // Discarding takes a second tap: nothing asks yet.
    assert!(!drafts.contains("确定放弃"), "{drafts}");
}

#[test]
fn the_marking_view_has_large_tools_the_photo_in_its_shape_and_the_last_marks_handles() {
    let html = render(|| {
        use zonepatrol_app::ui::annotate::Annotate;
        use zonepatrol_shared::docs::{MarkKind, PhotoMark, marks::keyed};
        let start = keyed([
            PhotoMark {
                kind: MarkKind::Label,
                x1: 100,
                y1: 100,
                text: "积水".into(),
                ..Default::default()
            },
            PhotoMark {
                kind: MarkKind::Arrow,
                x1: 200,
                y1: 200,
                x2: 500,
                y2: 600,
                text: String::new(),
            },
        ]);
        rsx! { Annotate { lang: Lang::Zh, src: "data:image/jpeg;base64,QQ==", width: 4000, height: 3000,
        start, on_done: |_| {}, on_cancel: |_| {} } }
    });
    for text in [
        r#"data-testid="annotate-circle""#,
        r#"data-testid="annotate-arrow""#,
        r#"data-testid="annotate-label""#,
        r#"data-testid="annotate-undo""#,
        r#"data-testid="annotate-clear""#,
        r#"data-testid="annotate-surface""#,
        "aspect-ratio: 4000 / 3000",
        "积水",
        "完成 (2)",
        // The arrow, the last mark, has its two handles where its ends are.
        r#"data-testid="annotate-handle-1""#,
        "left: 50%; top: 60%",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(!html.contains("annotate-handle-2"), "{html}");
}

#[test]
fn phone_to_phone_shows_whom_the_phone_met_what_it_carries_and_what_became_of_it() {
    use zonepatrol_app::relay::Invite;
    use zonepatrol_app::store::{CarryItem, HandedRecord, Meeting};
    use zonepatrol_app::ui::relay::{RelayView, Waiting};
    use zonepatrol_shared::protocol::Push;
    use zonepatrol_shared::relay::{Carried, HandOutcome, Handed};

    fn view() -> Element {
        let refusal: zonepatrol_shared::validate::Refusal = serde_json::from_value(
            serde_json::json!({"code": "not_writer", "part": "signature", "reason": "revoked"}),
        )
        .expect("refusal");
        let carrying = vec![
            CarryItem {
                item: Carried::Sealed {
                    doc: "sheet:zcyd:p1:zhao".into(),
                    user: "zhao".into(),
                    envelope: "AAAA".into(),
                },
                from_user: "sec".into(),
                from_key: "ab".repeat(32),
                at: 1_796_600_000_000,
                delivered: None,
            },
            CarryItem {
                item: Carried::Open {
                    push: Push {
                        id: "problem:zcyd:x1".into(),
                        base: vec![],
                        have: vec![],
                        changes: String::new(),
                        signed: vec![],
                    },
                },
                from_user: "sec".into(),
                from_key: "ab".repeat(32),
                at: 1_796_600_000_000,
                delivered: Some((1_796_700_000_000, HandOutcome::Accepted)),
            },
        ];
        let handed = vec![HandedRecord {
            handed: Handed {
                user: "h1".into(),
                doc: "problem:zcyd:x2".into(),
                sig: "s".into(),
                hashes: vec![],
            },
            to: vec![("sec".into(), "cd".repeat(32), 1_796_600_000_000)],
            outcome: HandOutcome::Refused {
                refusal,
                carrier: "qian".into(),
            },
            envelope: None,
        }];
        let meetings = vec![Meeting {
            at: 1_796_600_000_000,
            user: "sec".into(),
            key: "cd".repeat(32),
            gave: 2,
            took: 1,
            refused: vec!["problem:zcyd:x9 (li): a signature does not hold".into()],
            shown: 1,
        }];
        rsx! { RelayView { lang: Lang::Zh, waiting: Waiting::Idle, meetings, carrying, handed,
        on_listen: |_| {}, on_connect: |_| {}, on_back: |_| {} } }
    }
    let html = render(view);
    for text in [
        "与其他手机交换",
        "等待对方连接",
        "连接并交换",
        "代别人带的工作",
        "已密封，只有服务器能打开",
        "等到有网络时交给服务器",
        "服务器已收到",
        "托别人带出的工作",
        "交给 sec",
        "服务器拒收 (qian)",
        "交换记录",
        "给出 2",
        "收到 1",
        "(已显示在本机 1)",
        "a signature does not hold",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let listening = render(|| {
        rsx! { RelayView { lang: Lang::En,
        waiting: Waiting::Listening { invite: "192.168.43.1:47800  1234 5678".into(), svg: "<svg></svg>".into() },
        meetings: vec![], carrying: vec![], handed: vec![],
        on_listen: |_| {}, on_connect: |_| {}, on_back: |_| {} } }
    });
    for text in [
        "192.168.43.1:47800  1234 5678",
        "eight-digit code",
        "<svg>",
        "None yet",
    ] {
        assert!(listening.contains(text), "{text} in {listening}");
    }
    assert!(
        !listening.contains("relay-connect"),
        "no second meeting while one waits"
    );
    // The invitation as the QR code holds it, and as a person types it.
    let invite = Invite::new("192.168.43.1:47800".parse().expect("addr"));
    assert_eq!(invite.code.len(), 8);
    assert_eq!(Invite::parse(&invite.text()), Some(invite.clone()));
    for typed in [
        "192.168.43.1:47800 1234 5678",
        " 192.168.43.1:47800#12345678 ",
        "192.168.43.1:47800\u{3000}1234 5678",
        // As a Chinese keyboard types it: full-width digits, colon and space; a pasted tab.
        "１９２。１６８。４３。１：４７８００　１２３４　５６７８",
        "192.168.43.1:47800\t12345678\n",
    ] {
        let read = Invite::parse(typed).expect(typed);
        assert_eq!(read.addr, invite.addr, "{typed}");
        assert_eq!(read.code, "12345678", "{typed}");
    }
    for wrong in [
        "http://x",
        "192.168.43.1:47800",
        "zonepatrol-relay:192.168.43.1:47800",
        "192.168.43.1:47800 1234 567",
        "192.168.43.1:47800 1234 567x",
        "192.168.43.1 12345678",
    ] {
        assert_eq!(Invite::parse(wrong), None, "{wrong}");
    }
}
