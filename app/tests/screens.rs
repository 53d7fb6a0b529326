//! The screens without a window: components rendered to HTML by `dioxus-ssr`, and the plain
//! functions behind them.

use std::collections::BTreeMap;

use dioxus::prelude::*;
use zonepatrol_app::i18n::{Lang, T};
use zonepatrol_app::sync::{Progress, SyncState, SyncStatus};
use zonepatrol_app::ui::login::{LoginForm, LoginInput, check};
use zonepatrol_app::ui::score::ScoreZone;
use zonepatrol_app::ui::status::{SyncBanner, status_line};
use zonepatrol_app::walk::{Mark, apply, zone_view};
use zonepatrol_shared::Points;
use zonepatrol_shared::docs::{DeductionRule, Template, TemplateItem, ZoneSheet};

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
                    reason: "请重新登录".into(),
                },
                busy,
            ),
            0,
            "bad",
            "同步失败: 请重新登录",
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
}

fn template() -> Template {
    let p = |s: &str| -> Points { s.parse().expect("points") };
    Template {
        name: "责任区检查表".into(),
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
