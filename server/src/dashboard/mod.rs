//! The managers' dashboard: server-rendered HTML pages with inline SVG charts, for any
//! browser and a phone, in Chinese by default and English on request.
//!
//! Every page reads the consolidated results ([`crate::consolidate`]); nothing here reads an
//! inspector's sheet. Sign-in sets an HttpOnly, SameSite=Strict cookie holding the same kind
//! of token the app uses; pages are for managers and admins (every branch) and secretaries
//! (their own branch); only managers publish and reopen.
//!
//! - `/dash`: this week's inspection ranking as a bar chart with the notice, this month's
//!   ledger, open and overdue problems, cleanups, and the branches ranked by category.
//! - `/dash/zone/{branch}/{zone}`: the monthly trend, inspections, problems with photos,
//!   cleanups and the placard.
//! - `/dash/ledger/{branch}/{month}`, `/dash/rankings?period=…`: the ledger; quarterly and
//!   yearly rankings with posts flagged for losing their title.
//! - `/dash/export/…`: the ledger and the notice as .xlsx, the placard as SVG.

mod chart;
pub mod export;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, Path, Query, State as Shared};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use zonepatrol_shared::docs::{self, DocId, LockAction, Report, ZoneResult};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, Points, Role};

use crate::State;
use crate::consolidate::{Consolidator, months_of};
use crate::reports;

const SESSION: &str = "zp_session";
const LANG: &str = "zp_lang";

/// The dashboard's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文, the default.
    Zh,
    /// English.
    En,
}

/// The text in the language.
pub fn l(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn period_label(lang: Lang, p: Period) -> String {
    match lang {
        Lang::Zh => p.label_zh(),
        Lang::En => match p {
            Period::Week { year, week } => format!("week {week} of {year}"),
            Period::Month { .. } => p.first_day().format("%B %Y").to_string(),
            Period::Quarter { year, quarter } => format!("Q{quarter} {year}"),
            Period::Year { year } => year.to_string(),
            Period::TenDay { .. } => p.to_string(),
        },
    }
}

fn grade_label(lang: Lang, grade: &str) -> &'static str {
    match grade {
        "excellent" => l(lang, "优秀", "excellent"),
        "pass" => l(lang, "合格", "pass"),
        "fail" => l(lang, "不合格", "fail"),
        _ => "—",
    }
}

fn show(p: Option<Points>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| p.to_string())
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

fn lang_of(headers: &HeaderMap) -> Lang {
    match cookies(headers).get(LANG).map(String::as_str) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// The language, for pages that need no sign-in.
#[derive(Debug)]
pub struct LangOnly(Lang);

impl<S: Send + Sync> FromRequestParts<S> for LangOnly {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<LangOnly, Self::Rejection> {
        Ok(LangOnly(lang_of(&parts.headers)))
    }
}

/// A signed-in manager, admin or secretary, and the language.
#[derive(Debug)]
pub struct Viewer {
    actor: Actor,
    token_hash: [u8; 32],
    lang: Lang,
}

impl Viewer {
    /// A viewer for a user, in a language (for tools and benchmarks that render pages).
    pub fn new(actor: Actor, lang: Lang) -> Viewer {
        Viewer {
            actor,
            token_hash: [0; 32],
            lang,
        }
    }

    fn may_view(&self, branch: &str) -> bool {
        self.actor.role.is_company_wide() || self.actor.branch == branch
    }
}

impl FromRequestParts<Arc<State>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Viewer, Response> {
        let lang = lang_of(&parts.headers);
        let token = cookies(&parts.headers).get(SESSION).cloned();
        let back = parts.uri.path().to_owned();
        let to_login = || Redirect::to(&format!("/login?back={}", encode(&back))).into_response();
        let Some(token) = token else {
            return Err(to_login());
        };
        let state = state.clone();
        let authed = tokio::task::spawn_blocking(move || crate::auth::check_token(&state, &token))
            .await
            .map_err(|_| to_login())?
            .map_err(|_| to_login())?;
        if !matches!(
            authed.actor.role,
            Role::Manager | Role::Admin | Role::Secretary
        ) {
            return Err(fail(
                StatusCode::FORBIDDEN,
                lang,
                l(
                    lang,
                    "看板供党委管理人员和支部书记使用；请在手机应用中查看本支部排名。",
                    "The dashboard is for managers and branch secretaries; see your branch's ranking in the app.",
                ),
            ));
        }
        // A form posted from another site carries no SameSite=Strict cookie; refuse one that
        // says it comes from elsewhere all the same.
        if parts.method == axum::http::Method::POST && cross_site(&parts.headers) {
            return Err(fail(
                StatusCode::FORBIDDEN,
                lang,
                l(
                    lang,
                    "请求来自其他网站，已拒绝。",
                    "Refused: the form came from another site.",
                ),
            ));
        }
        Ok(Viewer {
            actor: authed.actor,
            token_hash: authed.token_hash,
            lang,
        })
    }
}

/// A request that says it comes from a page of another site.
fn cross_site(headers: &HeaderMap) -> bool {
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
        _ => false,
    }
}

/// Cookies are marked Secure when the request came over HTTPS (through a proxy that says so).
fn secure(headers: &HeaderMap) -> &'static str {
    match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "; Secure",
        _ => "",
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A local path to go back to, never another site.
fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b)
            if b.starts_with('/')
                && !b[1..].starts_with(['/', '\\'])
                && b.len() < 512
                && b.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"/_.?=&%-".contains(&c)) =>
        {
            b.to_owned()
        }
        _ => "/dash".to_owned(),
    }
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
.login{max-width:360px;margin:40px auto}.login input{width:100%;padding:10px;font-size:18px;margin:4px 0 12px}.login button{width:100%;padding:12px;font-size:18px;background:#b71c1c;color:#fff;border:0;border-radius:6px}
.error{background:#ffebee;color:#b71c1c;padding:8px 12px;border-radius:6px}
@media (max-width:600px){th,td{padding:4px}main{padding:6px}}
"#;

fn layout(lang: Lang, viewer: Option<&Viewer>, title: &str, body: Markup) -> Markup {
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
                    a.brand href="/dash" { (l(lang, "区域巡查 · 管理看板", "Zone Patrol · Dashboard")) }
                    @if let Some(v) = viewer {
                        a href=(format!("/dash/rankings")) { (l(lang, "季度与年度排名", "Quarter & year")) }
                        span { (v.actor.user) }
                    }
                    a #lang href=(format!("/lang/{}", other.0)) { (other.1) }
                    @if viewer.is_some() {
                        form method="post" action="/logout" { button #logout type="submit" { (l(lang, "退出", "Sign out")) } }
                    }
                }
                main { (body) }
            }
        }
    }
}

fn fail(status: StatusCode, lang: Lang, message: &str) -> Response {
    let body = html! {
        section {
            h1 { (l(lang, "无法显示", "Cannot show this")) }
            p.error { (message) }
            p { a href="/dash" { (l(lang, "返回看板", "Back to the dashboard")) } }
        }
    };
    (status, layout(lang, None, l(lang, "错误", "Error"), body)).into_response()
}

/// The dashboard's routes.
pub fn router() -> Router<Arc<State>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dash") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(set_lang))
        .route("/dash", get(overview))
        .route("/dash/zone/{branch}/{zone}", get(zone_page))
        .route("/dash/ledger/{branch}/{month}", get(ledger_page))
        .route("/dash/rankings", get(rankings_page))
        .route("/dash/publish", post(publish))
        .route("/dash/photo/{branch}/{hash}", get(photo))
        .route("/dash/export/ledger/{branch}/{month}", get(export_ledger))
        .route("/dash/export/notice/{branch}/{week}", get(export_notice))
        .route("/dash/placard/{branch}/{zone}", get(placard))
        .layer(axum::middleware::map_response(page_headers))
        // Forms are a few fields: nothing more is read.
        .layer(DefaultBodyLimit::max(16 * 1024))
}

/// What every dashboard answer says to the browser: no scripts, no frames, no other sites'
/// resources, no referrer to other sites, no guessing of content types.
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[derive(Deserialize)]
struct BackQuery {
    back: Option<String>,
}

fn login_form(lang: Lang, back: &str, error: Option<&str>) -> Markup {
    layout(
        lang,
        None,
        l(lang, "登录", "Sign in"),
        html! {
            section.login {
                h1 { (l(lang, "管理看板登录", "Sign in to the dashboard")) }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form method="post" action="/login" {
                    input type="hidden" name="back" value=(back);
                    label for="user" { (l(lang, "用户名", "User name")) }
                    input #user name="user" autocomplete="username" required autofocus;
                    label for="password" { (l(lang, "密码", "Password")) }
                    input #password name="password" type="password" autocomplete="current-password" required;
                    button #signin type="submit" { (l(lang, "登录", "Sign in")) }
                }
            }
        },
    )
}

async fn login_page(LangOnly(lang): LangOnly, Query(q): Query<BackQuery>) -> Markup {
    login_form(lang, &safe_back(q.back.as_deref()), None)
}

#[derive(Deserialize)]
struct LoginForm {
    user: String,
    password: String,
    back: Option<String>,
}

async fn login(
    Shared(state): Shared<Arc<State>>,
    LangOnly(lang): LangOnly,
    crate::auth::ClientAddr(address): crate::auth::ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if cross_site(&headers) {
        return fail(
            StatusCode::FORBIDDEN,
            lang,
            l(
                lang,
                "请求来自其他网站，已拒绝。",
                "Refused: the form came from another site.",
            ),
        );
    }
    let back = safe_back(form.back.as_deref());
    let user = form.user.trim().to_owned();
    let done = crate::auth::login(&state, &user, &form.password, "dashboard", address).await;
    match done {
        Ok(Some((token, record, _))) => {
            let max_age = (record.expires_at - crate::now_millis()).max(0) / 1000;
            let cookie = format!(
                "{SESSION}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
                secure(&headers)
            );
            let mut r = Redirect::to(&back).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            login_form(
                lang,
                &back,
                Some(l(
                    lang,
                    "用户名或密码不对，请检查后重试。",
                    "Wrong name or password: check both and try again.",
                )),
            ),
        )
            .into_response(),
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => {
            let message = l(
                lang,
                "服务器正忙，请几秒钟后再试。",
                "The server is busy: try again in a few seconds.",
            );
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                login_form(lang, &back, Some(message)),
            )
                .into_response();
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(e.retry_after.unwrap_or(2)),
            );
            r
        }
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            let seconds = e.retry_after.unwrap_or(60);
            let minutes = seconds.div_ceil(60);
            let message = match lang {
                Lang::Zh => format!(
                    "这个用户名密码错误次数太多：请等 {minutes} 分钟后再试，或请管理员重设密码。"
                ),
                Lang::En => format!(
                    "Too many wrong passwords for this name: wait {minutes} min and try again, or ask an admin to set a new password."
                ),
            };
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                login_form(lang, &back, Some(&message)),
            )
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            r
        }
        _ => fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            l(
                lang,
                "服务器出错，请稍后重试。",
                "The server failed: try again shortly.",
            ),
        ),
    }
}

async fn logout(Shared(state): Shared<Arc<State>>, viewer: Viewer) -> Response {
    let hash = viewer.token_hash;
    let _ = tokio::task::spawn_blocking(move || {
        state.store.remove_token(&hash)?;
        state.store.flush()
    })
    .await;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("zp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

async fn set_lang(
    Path(lang): Path<String>,
    Query(q): Query<BackQuery>,
    headers: HeaderMap,
) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    let back = q.back.or_else(|| {
        headers
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(|r| r.split_once("://").map(|(_, rest)| rest.to_owned()))
            .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
    });
    let mut r = Redirect::to(&safe_back(back.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG}={value}; Path=/; SameSite=Lax; Max-Age=31536000"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// What the overview shows: a branch, a week and a month (text forms); the defaults are the
/// viewer's branch (or the first), this week and this month.
#[derive(Debug, Deserialize, Default)]
pub struct OverviewQuery {
    /// The branch id.
    pub branch: Option<String>,
    /// The week, as `2026-W47`.
    pub week: Option<String>,
    /// The month, as `2026-11`.
    pub month: Option<String>,
}

fn parse_period(text: Option<&str>, kind: PeriodKind, today: chrono::NaiveDate) -> Period {
    text.and_then(|t| t.parse::<Period>().ok())
        .filter(|p| p.kind() == kind)
        .unwrap_or_else(|| Period::containing(kind, today))
}

fn zone_name(c: &Consolidator, branch: &str, zone: &str) -> String {
    c.branches()
        .get(branch)
        .and_then(|b| b.zones.get(zone))
        .map_or_else(|| zone.to_owned(), |z| z.name.clone())
}

fn branch_name(c: &Consolidator, branch: &str) -> String {
    c.branches()
        .get(branch)
        .map(|b| b.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| branch.to_owned())
}

fn holders(c: &Consolidator, branch: &str, zone: &str) -> String {
    let Some(b) = c.branches().get(branch) else {
        return String::new();
    };
    b.zones
        .get(zone)
        .map(|z| {
            z.holders
                .iter()
                .map(|h| b.members.get(h).cloned().unwrap_or_else(|| h.clone()))
                .collect::<Vec<_>>()
                .join("、")
        })
        .unwrap_or_default()
}

/// One row of the monthly ledger.
#[derive(Debug)]
pub struct LedgerRow {
    /// The zone's id.
    pub zone_id: String,
    /// The zone's name.
    pub zone: String,
    /// The holders' names.
    pub holders: String,
    /// The self-score.
    pub self_score: Option<Points>,
    /// The branch (final) score.
    pub final_score: Option<Points>,
    /// The place by the final score.
    pub rank: u64,
    /// The money it brings, in fen.
    pub money_fen: i64,
}

impl LedgerRow {
    /// Final minus self.
    pub fn difference(&self) -> Option<Points> {
        Some(self.final_score? - self.self_score?)
    }
}

/// The monthly ledger of a branch.
#[derive(Debug)]
pub struct Ledger {
    /// The branch's name.
    pub branch_name: String,
    /// The month, as shown.
    pub month_label: String,
    /// The zones, by rank.
    pub rows: Vec<LedgerRow>,
    /// The branch's score.
    pub branch_score: Option<Points>,
    /// Its grade, as shown.
    pub grade_label: String,
    /// Its place in its category, as shown.
    pub rank_label: String,
    /// Who published the month, as shown.
    pub published: Option<String>,
}

impl Ledger {
    /// The money of every zone, in fen.
    pub fn total_fen(&self) -> i64 {
        self.rows.iter().map(|r| r.money_fen).sum()
    }
}

fn by_rank(report: &Report) -> Vec<(&String, &ZoneResult)> {
    let mut zones: Vec<(&String, &ZoneResult)> = report.zones.iter().collect();
    zones.sort_by(|a, b| (a.1.rank == 0, a.1.rank, a.0).cmp(&(b.1.rank == 0, b.1.rank, b.0)));
    zones
}

fn published_label(lang: Lang, tz: chrono_tz::Tz, report: Option<&Report>) -> Option<String> {
    let p = report?.published.as_ref()?;
    let at = chrono::DateTime::from_timestamp_millis(p.at)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    Some(format!(
        "{} {} · {}",
        l(lang, "已发布：", "Published by"),
        p.by,
        at
    ))
}

fn rank_label(lang: Lang, report: &Report) -> String {
    if report.branch.rank == 0 {
        return "—".to_owned();
    }
    match lang {
        Lang::Zh => format!(
            "{}类支部第{}名（共{}个）",
            report.branch.category, report.branch.rank, report.branch.of
        ),
        Lang::En => format!(
            "#{} of {} in category {}",
            report.branch.rank, report.branch.of, report.branch.category
        ),
    }
}

fn ledger(c: &Consolidator, branch: &str, month: Period, lang: Lang) -> Ledger {
    let report = c.current(branch, month);
    Ledger {
        branch_name: branch_name(c, branch),
        month_label: period_label(lang, month),
        rows: report
            .map(|r| {
                by_rank(r)
                    .into_iter()
                    .map(|(id, z)| LedgerRow {
                        zone_id: id.clone(),
                        zone: zone_name(c, branch, id),
                        holders: holders(c, branch, id),
                        self_score: z.self_score,
                        final_score: z.score,
                        rank: z.rank,
                        money_fen: z.money_fen,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        branch_score: report.and_then(|r| r.branch.score),
        grade_label: report
            .map(|r| grade_label(lang, &r.branch.grade).to_owned())
            .unwrap_or_default(),
        rank_label: report.map(|r| rank_label(lang, r)).unwrap_or_default(),
        published: published_label(lang, c.clock().tz, report),
    }
}

/// One row of the weekly notice.
#[derive(Debug)]
pub struct NoticeRow {
    /// The place.
    pub rank: u64,
    /// The zone's name.
    pub zone: String,
    /// The inspection score.
    pub score: Option<Points>,
    /// How many inspectors' sheets went into it.
    pub sheets: u64,
    /// Praised.
    pub praised: bool,
    /// Named.
    pub named: bool,
}

impl NoticeRow {
    /// Praised, named or neither, as shown.
    pub fn standing(&self, lang: Lang) -> &'static str {
        if self.praised {
            l(lang, "表扬", "praised")
        } else if self.named {
            l(lang, "批评", "named")
        } else {
            ""
        }
    }
}

/// The weekly notice of a branch.
#[derive(Debug)]
pub struct Notice {
    /// The branch's name.
    pub branch_name: String,
    /// The week, as shown.
    pub week_label: String,
    /// The zones, by rank.
    pub rows: Vec<NoticeRow>,
}

impl Notice {
    /// The praised zones' names.
    pub fn praised(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.praised)
            .map(|r| r.zone.clone())
            .collect()
    }

    /// The named zones' names.
    pub fn named(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.named)
            .map(|r| r.zone.clone())
            .collect()
    }
}

fn notice(c: &Consolidator, branch: &str, week: Period, lang: Lang) -> Notice {
    Notice {
        branch_name: branch_name(c, branch),
        week_label: period_label(lang, week),
        rows: c
            .current(branch, week)
            .map(|r| {
                by_rank(r)
                    .into_iter()
                    .map(|(id, z)| NoticeRow {
                        rank: z.rank,
                        zone: zone_name(c, branch, id),
                        score: z.score,
                        sheets: z.sheets,
                        praised: z.praised,
                        named: z.named,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// What a placard shows.
#[derive(Debug)]
pub struct Placard {
    /// The branch id.
    pub branch: String,
    /// The branch's name.
    pub branch_name: String,
    /// The zone id.
    pub zone: String,
    /// The zone's name.
    pub zone_name: String,
    /// Where it is.
    pub location: String,
    /// 亮身份: the holders.
    pub holders: String,
    /// 亮岗位: the zone or post.
    pub post: String,
    /// 亮职责: the duty.
    pub duty: String,
    /// 亮标准: the standard.
    pub standard: String,
    /// 亮业绩: the latest results.
    pub performance: String,
}

fn money_class(fen: i64) -> &'static str {
    match fen {
        f if f > 0 => "money plus",
        f if f < 0 => "money minus",
        _ => "money",
    }
}

fn publish_form(
    c: &Consolidator,
    viewer: &Viewer,
    branch: &str,
    period: Period,
    back: &str,
) -> Markup {
    let lang = viewer.lang;
    let lock = c.lock(branch, period);
    let locked_by_wider = lock.is_none()
        && c.locks(branch).iter().any(|l| {
            l.period != period
                && l.period.first_day() <= period.first_day()
                && period.last_day() <= l.period.last_day()
        });
    html! {
        div.actions {
            @if let Some(lock) = lock {
                span.badge.warn { (l(lang, "已发布", "Published")) }
                span.muted { (lock.by) }
            } @else if locked_by_wider {
                span.badge.warn { (l(lang, "所在期间已发布", "Inside a published period")) }
            } @else {
                span.muted { (l(lang, "未发布，可修改", "Open for edits")) }
            }
            @if viewer.actor.role == Role::Manager {
                form method="post" action="/dash/publish" {
                    input type="hidden" name="branch" value=(branch);
                    input type="hidden" name="period" value=(period.to_string());
                    input type="hidden" name="back" value=(back);
                    @if lock.is_some() {
                        input type="hidden" name="action" value="reopen";
                        button.reopen type="submit" { (l(lang, "重新开放", "Reopen")) " " (period_label(lang, period)) }
                    } @else {
                        input type="hidden" name="action" value="publish";
                        button.primary.publish type="submit" { (l(lang, "发布并锁定", "Publish and lock")) " " (period_label(lang, period)) }
                    }
                }
            }
        }
    }
}

async fn overview(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<OverviewQuery>,
) -> Response {
    blocking(state, move |state| {
        let left_out = reports::left_out(state);
        let c = reports::lock(state);
        overview_page(&c, &viewer, q, crate::now_millis(), &left_out)
    })
    .await
}

/// Runs a page's work off the async workers: it waits for the consolidator, which a push or
/// a refresh may hold for a while.
async fn blocking(
    state: Arc<State>,
    page: impl FnOnce(&State) -> Response + Send + 'static,
) -> Response {
    tokio::task::spawn_blocking(move || page(&state))
        .await
        .unwrap_or_else(|_| {
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                Lang::Zh,
                "服务器出错，请重试。The server failed: try again.",
            )
        })
}

/// The overview page for a viewer, from the consolidated results (the benchmark times this).
pub fn overview_page(
    c: &Consolidator,
    viewer: &Viewer,
    q: OverviewQuery,
    now: i64,
    left_out: &[reports::LeftOut],
) -> Response {
    let lang = viewer.lang;
    let today = c.today(now);
    let week = parse_period(q.week.as_deref(), PeriodKind::Week, today);
    let month = parse_period(q.month.as_deref(), PeriodKind::Month, today);
    let visible: Vec<&String> = c.branches().keys().filter(|b| viewer.may_view(b)).collect();
    let branch = match q.branch {
        Some(b) if visible.contains(&&b) => b,
        Some(_) => {
            return fail(
                StatusCode::FORBIDDEN,
                lang,
                l(lang, "无权查看该支部。", "That branch is not yours to see."),
            );
        }
        None if visible.contains(&&viewer.actor.branch) => viewer.actor.branch.clone(),
        // A manager starts on the first branch with results this week or month.
        None => match visible
            .iter()
            .find(|b| c.current(b, week).is_some() || c.current(b, month).is_some())
            .or(visible.first())
        {
            Some(b) => (*b).clone(),
            None => {
                return fail(
                    StatusCode::NOT_FOUND,
                    lang,
                    l(lang, "还没有支部。", "There are no branches yet."),
                );
            }
        },
    };
    let query = |b: &str, w: Period, m: Period| format!("/dash?branch={b}&week={w}&month={m}");
    let here = query(&branch, week, month);
    let weekly = c.current(&branch, week);
    let monthly = c.current(&branch, month);
    let bars: Vec<chart::Bar> = weekly
        .map(|r| {
            by_rank(r)
                .into_iter()
                .filter_map(|(id, z)| {
                    let score = z.score?;
                    Some(chart::Bar {
                        label: zone_name(c, &branch, id),
                        value: score.0,
                        text: format!("{} · {}{}", score, z.rank, l(lang, "名", "")),
                        href: format!("/dash/zone/{branch}/{id}"),
                        tone: if z.praised {
                            "good"
                        } else if z.named {
                            "bad"
                        } else {
                            ""
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let unscored: Vec<String> = weekly
        .map(|r| {
            r.zones
                .iter()
                .filter(|(_, z)| z.score.is_none())
                .map(|(id, _)| zone_name(c, &branch, id))
                .collect()
        })
        .unwrap_or_default();
    let book = ledger(c, &branch, month, lang);
    let open = c.open_problems(&branch, None);
    let overdue = open
        .iter()
        .filter(|(_, p)| {
            p.deadline
                .is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today))
        })
        .count();
    let mut company: Vec<(&String, &Report)> = visible
        .iter()
        .filter_map(|b| c.current(b, month).map(|r| (*b, r)))
        .collect();
    company.sort_by_key(|(b, r)| {
        (
            r.branch.category,
            r.branch.rank == 0,
            r.branch.rank,
            (*b).clone(),
        )
    });
    let counts = c.open_counts(today);
    // Stored records the results leave out, for those who may see their branch.
    let left_out: Vec<&reports::LeftOut> = left_out
        .iter()
        .filter(|l| {
            l.id.parse::<DocId>()
                .map_or(viewer.actor.role.is_company_wide(), |id| {
                    viewer.may_view(id.branch())
                })
        })
        .collect();
    let body = html! {
        h1 { (branch_name(c, &branch)) }
        @if !left_out.is_empty() {
            section #left-out role="alert" {
                h2 { (l(lang, "未计入结果的记录", "Records left out of the results")) }
                p.error {
                    (left_out.len())
                    (l(lang, " 条已存储的记录无法计入结果，已被略过；请管理员修正或删除。",
                        " stored records could not be counted and were left out: ask an admin to repair or remove them."))
                }
                ul {
                    @for item in left_out.iter().take(50) {
                        li { code { (item.id) } " — " (item.reason) }
                    }
                }
            }
        }
        @if visible.len() > 1 {
            nav.tabs aria-label=(l(lang, "支部", "Branches")) {
                @for b in &visible {
                    a.on[**b == branch] href=(query(b, week, month)) { (branch_name(c, b)) }
                }
            }
        }
        div.grid2 {
            section #week {
                h2 { (l(lang, "周检查排名", "Weekly inspection ranking")) " · " (period_label(lang, week)) }
                nav.tabs {
                    a href=(query(&branch, week.prev(), month)) { "‹ " (l(lang, "上一周", "previous")) }
                    a href=(query(&branch, week.next(), month)) { (l(lang, "下一周", "next")) " ›" }
                }
                @if bars.is_empty() {
                    p.muted { (l(lang, "本周还没有检查结果。", "No inspection results this week yet.")) }
                } @else {
                    (chart::bars(l(lang, "周检查排名", "Weekly ranking"), &bars))
                    p {
                        span.badge.good { (l(lang, "表扬", "Praised")) }
                        " " (weekly.map(|r| r.zones.iter().filter(|(_, z)| z.praised).map(|(id, _)| zone_name(c, &branch, id)).collect::<Vec<_>>().join("、")).unwrap_or_default())
                        " · "
                        span.badge.bad { (l(lang, "批评", "Named")) }
                        " " (weekly.map(|r| r.zones.iter().filter(|(_, z)| z.named).map(|(id, _)| zone_name(c, &branch, id)).collect::<Vec<_>>().join("、")).unwrap_or_default())
                    }
                }
                @if !unscored.is_empty() {
                    p.muted { (l(lang, "未检查：", "Not inspected: ")) (unscored.join("、")) }
                }
                div.actions {
                    a #export-notice href=(format!("/dash/export/notice/{branch}/{week}")) download { (l(lang, "导出周通报 Excel", "Weekly notice (Excel)")) }
                }
                (publish_form(c, viewer, &branch, week, &here))
            }
            section #problems {
                h2 { (l(lang, "问题整改", "Problems")) }
                p {
                    span #open-count { (open.len()) } " " (l(lang, "项待整改", "waiting for a fix")) " · "
                    span #overdue-count class=(if overdue > 0 { "badge bad" } else { "badge good" }) { (overdue) } " " (l(lang, "项已超期", "overdue"))
                }
                table {
                    thead { tr { th { (l(lang, "责任区", "Zone")) } th { (l(lang, "问题", "Problem")) } th { (l(lang, "期限", "Deadline")) } th { (l(lang, "责任人", "Responsible")) } } }
                    tbody {
                        @for (_, p) in open.iter().take(20) {
                            @let late = p.deadline.is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today));
                            tr {
                                td { a href=(format!("/dash/zone/{branch}/{}", p.zone)) { (zone_name(c, &branch, &p.zone)) } }
                                td { @if p.major { span.badge.bad { (l(lang, "重大", "major")) } " " } (p.description) }
                                td { (p.deadline.map(|d| d.to_string()).unwrap_or_default()) @if late { " " span.badge.bad { (l(lang, "超期", "overdue")) } } }
                                td { (c.branches().get(&branch).and_then(|b| b.members.get(&p.responsible)).cloned().unwrap_or_else(|| p.responsible.clone())) }
                            }
                        }
                    }
                }
            }
        }
        section #month {
            h2 { (l(lang, "月度考评", "Monthly assessment")) " · " (period_label(lang, month)) }
            nav.tabs {
                a href=(query(&branch, week, month.prev())) { "‹ " (l(lang, "上月", "previous")) }
                a href=(query(&branch, week, month.next())) { (l(lang, "下月", "next")) " ›" }
            }
            (ledger_table(lang, &branch, &book))
            div.actions {
                a href=(format!("/dash/ledger/{branch}/{month}")) { (l(lang, "台账", "Ledger")) }
                a #export-ledger href=(format!("/dash/export/ledger/{branch}/{month}")) download { (l(lang, "导出月度台账 Excel", "Monthly ledger (Excel)")) }
            }
            (publish_form(c, viewer, &branch, month, &here))
        }
        div.grid2 {
            section #cleanups {
                h2 { (l(lang, "文明生产整治", "Cleanups")) " · " (period_label(lang, month)) }
                @if let Some(r) = monthly {
                    p { (r.cleanups.logs) " " (l(lang, "次整治，", "cleanups, ")) span #person-times { (r.cleanups.person_times) } " " (l(lang, "人次", "person-times")) }
                    ul { @for q in r.cleanups.quantities.values() { li { (q.what) "：" (Points(q.milli / 10)) " " (q.unit) } } }
                } @else { p.muted { (l(lang, "本月还没有整治记录。", "No cleanups this month yet.")) } }
            }
            section #branches {
                h2 { (l(lang, "支部分类排名", "Branches by category")) " · " (period_label(lang, month)) }
                table {
                    thead { tr { th { (l(lang, "类别", "Category")) } th { (l(lang, "支部", "Branch")) } th.n { (l(lang, "得分", "Score")) } th { (l(lang, "等级", "Grade")) } th.n { (l(lang, "名次", "Rank")) } th.n { (l(lang, "待整改/超期", "Open/overdue")) } } }
                    tbody {
                        @for (b, r) in &company {
                            @let (open, late) = counts.get(b.as_str()).copied().unwrap_or_default();
                            tr {
                                td { (r.branch.category) }
                                td { a href=(query(b, week, month)) { (branch_name(c, b)) } }
                                td.n { (show(r.branch.score)) }
                                td { (grade_label(lang, &r.branch.grade)) }
                                td.n { @if r.branch.rank > 0 { (r.branch.rank) "/" (r.branch.of) } @else { "—" } }
                                td.n { (open) "/" @if late > 0 { span.badge.bad { (late) } } @else { "0" } }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(lang, Some(viewer), l(lang, "看板", "Overview"), body).into_response()
}

fn ledger_table(lang: Lang, branch: &str, book: &Ledger) -> Markup {
    html! {
        @if book.rows.iter().all(|r| r.final_score.is_none() && r.self_score.is_none()) {
            p.muted { (l(lang, "本月还没有考评。", "No assessments this month yet.")) }
        }
        table #ledger {
            thead { tr {
                th.n { (l(lang, "名次", "Rank")) } th { (l(lang, "责任区", "Zone")) } th { (l(lang, "责任人", "Holders")) }
                th.n { (l(lang, "自评", "Self")) } th.n { (l(lang, "支部评分（最终）", "Branch (final)")) } th.n { (l(lang, "奖罚（元）", "Money (yuan)")) }
            } }
            tbody {
                @for r in &book.rows {
                    tr data-zone=(r.zone_id) {
                        td.n.rank { @if r.rank > 0 { (r.rank) } @else { "—" } }
                        td { a href=(format!("/dash/zone/{branch}/{}", r.zone_id)) { (r.zone) } }
                        td { (r.holders) }
                        td.n.self { (show(r.self_score)) }
                        td.n.final { (show(r.final_score)) }
                        td class=(format!("n {}", money_class(r.money_fen))) { (export::yuan(r.money_fen)) }
                    }
                }
            }
            tfoot { tr {
                td {} th { (l(lang, "合计", "Total")) } td {} td {}
                td.n { (l(lang, "支部得分 ", "Branch ")) span #branch-score { (show(book.branch_score)) } " " (book.grade_label) }
                td #money-total class=(format!("n {}", money_class(book.total_fen()))) { (export::yuan(book.total_fen())) }
            } }
        }
        p.muted { (book.rank_label) @if let Some(p) = &book.published { " · " (p) } }
    }
}

/// Whether the viewer may see the branch, and it exists; the error page otherwise.
#[allow(clippy::result_large_err)] // The error is the page to answer with, built once.
fn check_branch(c: &Consolidator, viewer: &Viewer, branch: &str) -> Result<(), Response> {
    let lang = viewer.lang;
    if !viewer.may_view(branch) {
        return Err(fail(
            StatusCode::FORBIDDEN,
            lang,
            l(lang, "无权查看该支部。", "That branch is not yours to see."),
        ));
    }
    if !c.branches().contains_key(branch) {
        return Err(fail(
            StatusCode::NOT_FOUND,
            lang,
            l(lang, "没有这个支部。", "There is no such branch."),
        ));
    }
    Ok(())
}

async fn zone_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, zone)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
    let c = reports::lock(state);
    if let Err(r) = check_branch(&c, &viewer, &branch) {
        return r;
    }
    let Some(facts) = c.branches()[&branch].zones.get(&zone).cloned() else {
        return fail(
            StatusCode::NOT_FOUND,
            lang,
            l(lang, "没有这个责任区。", "There is no such zone."),
        );
    };
    let today = c.today(crate::now_millis());
    // The last twelve months, oldest first.
    let mut months = vec![Period::containing(PeriodKind::Month, today)];
    while months.len() < 12 {
        let first = months[0].prev();
        months.insert(0, first);
    }
    let pick = |m: &Period, f: fn(&ZoneResult) -> Option<Points>| {
        c.current(&branch, *m)
            .and_then(|r| r.zones.get(&zone))
            .and_then(f)
            .map(|p| p.0)
    };
    let columns: Vec<String> = months
        .iter()
        .map(|m| match m {
            Period::Month { month, .. } => format!("{month}{}", l(lang, "月", "")),
            _ => m.to_string(),
        })
        .collect();
    let series = [
        chart::Series {
            name: l(lang, "最终得分", "Final").to_owned(),
            class: "final",
            values: months.iter().map(|m| pick(m, |z| z.score)).collect(),
        },
        chart::Series {
            name: l(lang, "自评", "Self").to_owned(),
            class: "self",
            values: months.iter().map(|m| pick(m, |z| z.self_score)).collect(),
        },
        chart::Series {
            name: l(lang, "周检查", "Inspection").to_owned(),
            class: "insp",
            values: months.iter().map(|m| pick(m, |z| z.inspection)).collect(),
        },
    ];
    let weeks: Vec<(Period, ZoneResult)> = c
        .reports_of_kind(&branch, PeriodKind::Week)
        .into_iter()
        .rev()
        .filter_map(|r| {
            let p = r.header.id.rsplit(':').next()?.parse::<Period>().ok()?;
            let z = r.zones.get(&zone)?;
            z.score.map(|_| (p, z.clone()))
        })
        .take(26)
        .collect();
    let problems = c.zone_problems(&branch, &zone);
    let cleanups = c.zone_cleanups(&branch, &zone);
    let body = html! {
        h1 { (facts.name) }
        p.muted { (branch_name(&c, &branch))
            @if !facts.location.is_empty() { " · " (facts.location) }
            " · " (l(lang, "责任人：", "Holders: ")) (holders(&c, &branch, &zone))
        }
        div.actions {
            a href=(format!("/dash?branch={branch}")) { "‹ " (l(lang, "看板", "Overview")) }
            a #placard href=(format!("/dash/placard/{branch}/{zone}")) { (l(lang, "打印公示牌（二维码）", "Print placard (QR)")) }
        }
        section #trend {
            h2 { (l(lang, "月度得分趋势", "Monthly score trend")) }
            (chart::lines(l(lang, "月度得分趋势", "Monthly trend"), &columns, &series))
        }
        div.grid2 {
            section #inspections {
                h2 { (l(lang, "周检查", "Weekly inspections")) }
                table {
                    thead { tr { th { (l(lang, "周", "Week")) } th.n { (l(lang, "得分", "Score")) } th.n { (l(lang, "名次", "Rank")) } th.n { (l(lang, "评分表", "Sheets")) } } }
                    tbody {
                        @for (p, z) in &weeks {
                            tr { td { (period_label(lang, *p)) } td.n { (show(z.score)) } td.n { (z.rank) } td.n { (z.sheets) } }
                        }
                    }
                }
                @if weeks.is_empty() { p.muted { (l(lang, "还没有检查结果。", "No inspections yet.")) } }
            }
            section #zone-problems {
                h2 { (l(lang, "问题", "Problems")) }
                @for (_, p) in &problems {
                    @let late = p.deadline.is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today));
                    div {
                        p {
                            @if p.major { span.badge.bad { (l(lang, "重大", "major")) } " " }
                            (p.description) " · " (p.raised.to_string())
                            " · " (match lang { Lang::Zh => p.status.label_zh().to_owned(), Lang::En => format!("{:?}", p.status).to_lowercase() })
                            @if late { " " span.badge.bad { (l(lang, "超期", "overdue")) } }
                        }
                        div.photos {
                            @for h in &p.photos {
                                a href=(format!("/dash/photo/{branch}/{h}")) { img src=(format!("/dash/photo/{branch}/{h}")) alt=(l(lang, "问题照片", "problem photo")) loading="lazy"; }
                            }
                        }
                    }
                }
                @if problems.is_empty() { p.muted { (l(lang, "没有问题记录。", "No problems recorded.")) } }
            }
        }
        section #zone-cleanups {
            h2 { (l(lang, "整治记录", "Cleanups")) }
            ul {
                @for cl in &cleanups {
                    li { (cl.date.to_string()) " · " (cl.person_times) (l(lang, "人次", " person-times"))
                        @for (what, unit, milli) in &cl.items { " · " (what) " " (Points(milli / 10)) (unit) } }
                }
            }
            @if cleanups.is_empty() { p.muted { (l(lang, "没有整治记录。", "No cleanups recorded.")) } }
        }
    };
    layout(lang, Some(&viewer), &facts.name, body).into_response()
    })
    .await
}

async fn ledger_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, month)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
    let c = reports::lock(state);
    if let Err(r) = check_branch(&c, &viewer, &branch) {
        return r;
    }
    let Some(month) = month
        .parse::<Period>()
        .ok()
        .filter(|p| p.kind() == PeriodKind::Month)
    else {
        return fail(
            StatusCode::NOT_FOUND,
            lang,
            l(lang, "月份应写成 2026-11。", "Write the month as 2026-11."),
        );
    };
    let book = ledger(&c, &branch, month, lang);
    let here = format!("/dash/ledger/{branch}/{month}");
    let body = html! {
        h1 { (book.branch_name) " · " (book.month_label) " · " (l(lang, "月度考评台账", "Monthly ledger")) }
        nav.tabs {
            a href=(format!("/dash/ledger/{branch}/{}", month.prev())) { "‹ " (l(lang, "上月", "previous")) }
            a href=(format!("/dash/ledger/{branch}/{}", month.next())) { (l(lang, "下月", "next")) " ›" }
        }
        section { (ledger_table(lang, &branch, &book))
            div.actions { a href=(format!("/dash/export/ledger/{branch}/{month}")) download { (l(lang, "导出 Excel", "Export to Excel")) } }
            (publish_form(&c, &viewer, &branch, month, &here))
        }
    };
    layout(
        lang,
        Some(&viewer),
        l(lang, "月度考评台账", "Monthly ledger"),
        body,
    )
    .into_response()
    })
    .await
}

#[derive(Deserialize, Default)]
struct RankingsQuery {
    period: Option<String>,
    branch: Option<String>,
}

async fn rankings_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<RankingsQuery>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
    let c = reports::lock(state);
    let today = c.today(crate::now_millis());
    let period = q
        .period
        .and_then(|p| p.parse::<Period>().ok())
        .filter(|p| matches!(p.kind(), PeriodKind::Quarter | PeriodKind::Year))
        .unwrap_or_else(|| Period::containing(PeriodKind::Quarter, today));
    let visible: Vec<&String> = c.branches().keys().filter(|b| viewer.may_view(b)).collect();
    let branch = q
        .branch
        .filter(|b| visible.contains(&b))
        .or_else(|| {
            visible
                .iter()
                .find(|b| ***b == viewer.actor.branch)
                .map(|b| (*b).clone())
        })
        .or_else(|| {
            visible
                .iter()
                .find(|b| c.current(b, period).is_some())
                .map(|b| (*b).clone())
        })
        .or_else(|| visible.first().map(|b| (*b).clone()))
        .unwrap_or_default();
    let url = |p: Period, b: &str| format!("/dash/rankings?period={p}&branch={b}");
    let year = Period::containing(PeriodKind::Year, period.first_day());
    let quarters: Vec<Period> = (0..4)
        .map(|i| Period::containing(PeriodKind::Quarter, months_of(year)[i * 3].first_day()))
        .collect();
    let mut company: Vec<(&String, &Report)> = visible
        .iter()
        .filter_map(|b| c.current(b, period).map(|r| (*b, r)))
        .collect();
    company.sort_by_key(|(b, r)| {
        (
            r.branch.category,
            r.branch.rank == 0,
            r.branch.rank,
            (*b).clone(),
        )
    });
    let report = c.current(&branch, period);
    let here = url(period, &branch);
    let body = html! {
        h1 { (l(lang, "季度与年度排名", "Quarterly and yearly rankings")) " · " (period_label(lang, period)) }
        nav.tabs {
            a href=(url(year.prev(), &branch)) { "‹ " (year.prev().to_string()) }
            @for qp in &quarters { a.on[*qp == period] href=(url(*qp, &branch)) { (period_label(lang, *qp)) } }
            a.on[year == period] href=(url(year, &branch)) { (period_label(lang, year)) }
        }
        section #branch-ranking {
            h2 { (l(lang, "支部（按类别）", "Branches by category")) }
            table {
                thead { tr { th { (l(lang, "类别", "Category")) } th { (l(lang, "支部", "Branch")) } th.n { (l(lang, "得分", "Score")) } th { (l(lang, "等级", "Grade")) } th.n { (l(lang, "名次", "Rank")) } } }
                tbody { @for (b, r) in &company { tr {
                    td { (r.branch.category) } td { a href=(url(period, b)) { (branch_name(&c, b)) } }
                    td.n { (show(r.branch.score)) } td { (grade_label(lang, &r.branch.grade)) }
                    td.n { @if r.branch.rank > 0 { (r.branch.rank) "/" (r.branch.of) } @else { "—" } }
                } } }
            }
        }
        section #zone-ranking {
            h2 { (branch_name(&c, &branch)) " · " (l(lang, "责任区排名", "Zones")) }
            @if let Some(r) = report {
                table {
                    thead { tr { th.n { (l(lang, "名次", "Rank")) } th { (l(lang, "责任区", "Zone")) } th.n { (l(lang, "平均得分", "Mean final")) } th.n { (l(lang, "周检查", "Inspection")) } th.n { (l(lang, "奖罚（元）", "Money (yuan)")) } th { (l(lang, "示范岗", "Post")) } } }
                    tbody { @for (id, z) in by_rank(r) { tr {
                        td.n { @if z.rank > 0 { (z.rank) } @else { "—" } }
                        td { a href=(format!("/dash/zone/{branch}/{id}")) { (zone_name(&c, &branch, id)) } }
                        td.n { (show(z.score)) } td.n { (show(z.inspection)) }
                        td class=(format!("n {}", money_class(z.money_fen))) { (export::yuan(z.money_fen)) }
                        td { @if !z.post.is_empty() { (z.post) } @if z.loses_title { " " span.badge.bad { (l(lang, "低于合格线，建议摘牌", "below the pass mark: title at risk")) } } }
                    } } }
                }
            } @else { p.muted { (l(lang, "该期间还没有结果。", "No results for this period yet.")) } }
            (publish_form(&c, &viewer, &branch, period, &here))
        }
    };
    layout(lang, Some(&viewer), l(lang, "排名", "Rankings"), body).into_response()
    })
    .await
}

#[derive(Deserialize)]
struct PublishForm {
    branch: String,
    period: String,
    action: String,
    back: Option<String>,
}

async fn publish(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Form(form): Form<PublishForm>,
) -> Response {
    let lang = viewer.lang;
    if viewer.actor.role != Role::Manager {
        return fail(
            StatusCode::FORBIDDEN,
            lang,
            l(
                lang,
                "只有党委管理人员可以发布或重新开放。",
                "Only managers publish and reopen periods.",
            ),
        );
    }
    let action = match form.action.as_str() {
        "publish" => LockAction::Publish,
        "reopen" => LockAction::Reopen,
        _ => {
            return fail(
                StatusCode::BAD_REQUEST,
                lang,
                l(lang, "未知操作。", "Unknown action."),
            );
        }
    };
    let Ok(period) = form.period.parse::<Period>() else {
        return fail(
            StatusCode::BAD_REQUEST,
            lang,
            l(lang, "期间格式不对。", "That is not a period."),
        );
    };
    let today = reports::lock(&state).today(crate::now_millis());
    let in_range = zonepatrol_shared::validate::limits::day_in_range(
        period.first_day(),
        today,
        zonepatrol_shared::validate::limits::RESULTS_DAYS_AHEAD,
    );
    if !in_range {
        return fail(
            StatusCode::BAD_REQUEST,
            lang,
            l(
                lang,
                "只能发布 2000 年以来、一年之内的期间。",
                "Only periods from 2000 to a year ahead can be published.",
            ),
        );
    }
    let back = safe_back(form.back.as_deref());
    let user = viewer.actor.user.clone();
    let branch = form.branch.clone();
    let done =
        tokio::task::spawn_blocking(move || record_lock(&state, &branch, period, action, &user))
            .await;
    match done {
        Ok(Ok(())) => Redirect::to(&back).into_response(),
        Ok(Err(message)) => fail(StatusCode::CONFLICT, lang, &message),
        Err(_) => fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            l(
                lang,
                "服务器出错，请重试。",
                "The server failed: try again.",
            ),
        ),
    }
}

/// Records a publish or reopen through [`crate::publish::record`]; the error is the message
/// shown to the manager.
pub fn record_lock(
    state: &State,
    branch: &str,
    period: Period,
    action: LockAction,
    user: &str,
) -> Result<(), String> {
    crate::publish::record(state, branch, period, action, user).map_err(|e| e.to_string())
}

async fn photo(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, hash)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    // The consolidator may be busy with a push: wait for it off the async workers.
    let allowed = {
        let state = state.clone();
        let (branch, hash) = (branch.clone(), hash.clone());
        let may_view = viewer.may_view(&branch);
        tokio::task::spawn_blocking(move || {
            may_view
                && docs::values::is_sha256_hex(&hash)
                && reports::lock(&state).problem_photo(&branch, &hash)
        })
        .await
        .unwrap_or(false)
    };
    if !allowed {
        return fail(
            StatusCode::NOT_FOUND,
            lang,
            l(lang, "没有这张照片。", "No such photo."),
        );
    }
    let opened = match tokio::fs::File::open(state.blobs.path(&hash)).await {
        Ok(file) => file.metadata().await.map(|m| (file, m.len())),
        Err(e) => Err(e),
    };
    match opened {
        Ok((file, size)) => {
            let mut r = crate::routes::stream_file(file, size, "image/jpeg");
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            );
            r
        }
        Err(_) => fail(
            StatusCode::NOT_FOUND,
            lang,
            l(
                lang,
                "照片还没有上传到服务器。",
                "The photo has not reached the server yet.",
            ),
        ),
    }
}

fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"");
    let mut r = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn export_ledger(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, month)): Path<(String, String)>,
) -> Response {
    let wrong = ("月份应写成 2026-11。", "Write the month as 2026-11.");
    export_xlsx(
        state,
        viewer,
        branch,
        month,
        PeriodKind::Month,
        wrong,
        |c, b, p, lang| export::ledger_xlsx(&ledger(c, b, p, lang), lang).map(|x| (x, "ledger")),
    )
    .await
}

async fn export_notice(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, week)): Path<(String, String)>,
) -> Response {
    let wrong = ("周应写成 2026-W47。", "Write the week as 2026-W47.");
    export_xlsx(
        state,
        viewer,
        branch,
        week,
        PeriodKind::Week,
        wrong,
        |c, b, p, lang| export::notice_xlsx(&notice(c, b, p, lang), lang).map(|x| (x, "notice")),
    )
    .await
}

/// Builds a branch's workbook for a period: its bytes and what it is (for the file name).
type Workbook = fn(
    &Consolidator,
    &str,
    Period,
    Lang,
) -> Result<(Vec<u8>, &'static str), rust_xlsxwriter::XlsxError>;

/// A branch's workbook for a period, as a download named `WHAT-BRANCH-PERIOD.xlsx`.
async fn export_xlsx(
    state: Arc<State>,
    viewer: Viewer,
    branch: String,
    period: String,
    kind: PeriodKind,
    wrong: (&'static str, &'static str),
    build: Workbook,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
        let c = reports::lock(state);
        if let Err(r) = check_branch(&c, &viewer, &branch) {
            return r;
        }
        let Some(period) = period.parse::<Period>().ok().filter(|p| p.kind() == kind) else {
            return fail(StatusCode::NOT_FOUND, lang, l(lang, wrong.0, wrong.1));
        };
        match build(&c, &branch, period, lang) {
            Ok((bytes, what)) => attachment(XLSX, &format!("{what}-{branch}-{period}.xlsx"), bytes),
            Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, lang, &e.to_string()),
        }
    })
    .await
}

async fn placard(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, zone)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
        let placard = {
            let c = reports::lock(state);
            if let Err(r) = check_branch(&c, &viewer, &branch) {
                return r;
            }
            let facts = &c.branches()[&branch];
            let Some(z) = facts.zones.get(&zone) else {
                return fail(
                    StatusCode::NOT_FOUND,
                    lang,
                    l(lang, "没有这个责任区。", "There is no such zone."),
                );
            };
            let today = c.today(crate::now_millis());
            let last_month = Period::containing(PeriodKind::Month, today).prev();
            let post = facts.posts.get(&zone);
            let performance = c
                .current(&branch, last_month)
                .and_then(|r| r.zones.get(&zone))
                .and_then(|r| {
                    r.score.map(|s| match lang {
                        Lang::Zh => format!(
                            "{}考评 {}分，第{}名",
                            period_label(lang, last_month),
                            s,
                            r.rank
                        ),
                        Lang::En => format!(
                            "{}: {} points, #{}",
                            period_label(lang, last_month),
                            s,
                            r.rank
                        ),
                    })
                })
                .unwrap_or_else(|| {
                    l(lang, "本月考评后公布", "Shown after the month's assessment").to_owned()
                });
            Placard {
                branch: branch.clone(),
                branch_name: branch_name(&c, &branch),
                zone: zone.clone(),
                zone_name: z.name.clone(),
                location: z.location.clone(),
                holders: holders(&c, &branch, &zone),
                post: post.map_or_else(|| z.name.clone(), |p| p.title.clone()),
                duty: l(
                    lang,
                    "负责本区域安全生产、文明生产、设备完好和问题整改",
                    "Safety, housekeeping, equipment and fixing problems in this zone",
                )
                .to_owned(),
                standard: post
                    .map(|p| p.standard.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| z.template.clone()),
                performance,
            }
        };
        match export::placard_svg(&placard, lang) {
            Ok(svg) => (
                [
                    (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "inline"),
                ],
                svg,
            )
                .into_response(),
            Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, lang, &e.to_string()),
        }
    })
    .await
}
