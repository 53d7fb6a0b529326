//! The layout room: the page chrome every page shares (header, style, the error page) and
//! the small text helpers it needs.

use crate::dashboard::base::{grouped, link, mine_name};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::labels::{Lang, l};
use super::session::Viewer;

pub(super) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const CSS: &str = r#"
*{box-sizing:border-box}body{margin:0;font:16px/1.5 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;color:#1b1b1b;background:#f4f5f7}
header{background:#b71c1c;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
header a,header button{color:#fff}header .brand{font-weight:bold;font-size:18px;margin-right:auto;text-decoration:none}
header form{display:inline;margin:0}header button{background:none;border:1px solid #fff;border-radius:4px;padding:2px 10px;font:inherit;cursor:pointer}
main{max-width:1100px;margin:0 auto;padding:12px}
section{background:#fff;border-radius:8px;padding:12px 16px;margin:12px 0;box-shadow:0 1px 2px #0002;overflow-x:auto}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:4px 0 8px}
table{border-collapse:collapse;width:100%}th,td{padding:6px 8px;border-bottom:1px solid #e3e3e3;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.tabs a{display:inline-block;padding:4px 10px;margin:2px;border-radius:14px;background:#eee;text-decoration:none;color:#222}.tabs a.on{background:#b71c1c;color:#fff}
.chart .label,.chart .value,.chart .axis{font-size:13px;fill:#333}.chart .bar{fill:#5c7cfa}.chart .bar.good{fill:#2e7d32}.chart .bar.bad{fill:#c62828}
.chart .grid{stroke:#ddd}.chart .line{stroke-width:2.5}.line.final,.dot.final{stroke:#b71c1c;fill:#b71c1c}.line.self,.dot.self{stroke:#1565c0;fill:#1565c0}.line.insp,.dot.insp{stroke:#2e7d32;fill:#2e7d32}
.chart polyline.line{fill:none}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:13px;color:#fff}.good{background:#2e7d32}.bad{background:#c62828}.warn{background:#ef6c00}.muted{color:#666}
.money.plus{color:#2e7d32}.money.minus{color:#c62828}
.actions{display:flex;flex-wrap:wrap;gap:8px;align-items:center}.actions a,.actions button{padding:6px 12px;border-radius:4px;border:1px solid #b71c1c;color:#b71c1c;background:#fff;text-decoration:none;font:inherit;cursor:pointer}
.actions button.primary{background:#b71c1c;color:#fff}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}
.photos img{width:120px;height:90px;object-fit:cover;border-radius:4px;margin:4px}
.photos .ph{position:relative;display:inline-block;margin:4px}.photos .ph img{display:block;margin:0}
.photos.big img{width:240px;height:180px;object-fit:contain;background:#222}
.photos .ph svg{position:absolute;inset:0;width:100%;height:100%;pointer-events:none;border-radius:4px}
.login{max-width:360px;margin:40px auto}.login input{width:100%;padding:10px;font-size:18px;margin:4px 0 12px}.login button{width:100%;padding:12px;font-size:18px;background:#b71c1c;color:#fff;border:0;border-radius:6px}
.error{background:#ffebee;color:#b71c1c;padding:8px 12px;border-radius:6px}
@media (max-width:600px){th,td{padding:4px}main{padding:6px}}
"#;

pub(super) fn layout(lang: Lang, viewer: Option<&Viewer>, title: &str, body: Markup) -> Markup {
    let other = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    html! {
        (DOCTYPE)
        html lang=(l(lang, "zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (l(lang, "区域巡查", "Zone Patrol")) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    a.brand href=(link("/dash")) {
                        (l(lang, "区域巡查 · 管理看板", "Zone Patrol · Dashboard"))
                        @if let Some(mine) = mine_name() { " · " span #mine-name { (mine) } }
                    }
                    @if let Some(v) = viewer {
                        @if v.visiting.is_some() {
                            // A group's manager: back to every mine; signed in at the group.
                            a #group-link href="/dash" { (l(lang, "集团总览", "Group overview")) }
                        }
                        @if !grouped() || mine_name().is_some() {
                            a href=(link("/dash/rankings")) { (l(lang, "季度与年度排名", "Quarter & year")) }
                        }
                        @if v.visiting.is_none() && crate::admin::may_open_console(&v.actor) {
                            a #console-link href=(link("/admin")) { (l(lang, "设置", "Set-up")) }
                        }
                        span { (v.actor.user) }
                    }
                    a #lang href=(link(&format!("/lang/{}", other.0))) { (other.1) }
                    @if let Some(v) = viewer {
                        form method="post" action=(if v.visiting.is_some() { "/logout".to_owned() } else { link("/logout") }) { button #logout type="submit" { (l(lang, "退出", "Sign out")) } }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub(super) fn fail(status: StatusCode, lang: Lang, message: &str) -> Response {
    let body = html! {
        section {
            h1 { (l(lang, "无法显示", "Cannot show this")) }
            p.error { (message) }
            p { a href=(link("/dash")) { (l(lang, "返回看板", "Back to the dashboard")) } }
        }
    };
    (status, layout(lang, None, l(lang, "错误", "Error"), body)).into_response()
}
