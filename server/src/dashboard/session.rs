//! The session room: who is asking (a signed-in [`Viewer`] or just a [`LangOnly`] language),
//! read from the cookies, and the checks on where a request comes from and goes back to.

use crate::dashboard::base::link;
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use zonepatrol_shared::{Actor, Role};

use super::labels::{Lang, l};
use super::layout::{encode, fail};
use crate::State;

/// The session cookie of a mine's pages (at the root, or under its place in a group).
pub(super) const SESSION: &str = "zp_session";
/// The session cookie of a group's own accounts, at the root: a mine's pages under it read it
/// too, for the group's managers.
pub(super) const GROUP_SESSION: &str = "zp_group";

/// The session cookie's name for a store's pages.
pub(super) fn session_name(state: &State) -> &'static str {
    match state.settings.place {
        crate::group::Place::Group => GROUP_SESSION,
        _ => SESSION,
    }
}

/// A session cookie for a store's pages: on its own path, so that each mine of a group keeps
/// its own sign-in in a browser.
pub(super) fn session_cookie(state: &State, token: &str, max_age: i64, secure: &str) -> String {
    format!(
        "{}={token}; Path={}/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        session_name(state),
        state.base
    )
}
pub(super) const LANG: &str = "zp_lang";

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

/// Every value sent under a cookie name: a browser sends a mine's session cookie and an older
/// one of the same name on a wider path side by side (the longer path first).
fn cookie_values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_owned())
        })
        .take(4)
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
pub struct LangOnly(pub(super) Lang);

impl<S: Send + Sync> FromRequestParts<S> for LangOnly {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<LangOnly, Self::Rejection> {
        Ok(LangOnly(lang_of(&parts.headers)))
    }
}

/// A signed-in manager, admin or secretary, and the language.
#[derive(Debug)]
pub struct Viewer {
    pub(super) actor: Actor,
    pub(super) token_hash: [u8; 32],
    pub(super) lang: Lang,
    /// A group's manager reading a mine of the group: the mine's name.
    pub(super) visiting: Option<String>,
}

impl Viewer {
    /// A viewer for a user, in a language (for tools and benchmarks that render pages).
    pub fn new(actor: Actor, lang: Lang) -> Viewer {
        Viewer {
            actor,
            token_hash: [0; 32],
            lang,
            visiting: None,
        }
    }

    pub(super) fn may_view(&self, branch: &str) -> bool {
        self.actor.is_company_wide() || self.actor.branch == branch
    }
}

impl FromRequestParts<Arc<State>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Viewer, Response> {
        let lang = lang_of(&parts.headers);
        let back = parts.uri.path().to_owned();
        let to_login =
            || Redirect::to(&link(&format!("/login?back={}", encode(&back)))).into_response();
        // The mine's own sign-in first; on a mine of a group, a sign-in of the group's.
        let own = cookie_values(&parts.headers, session_name(state));
        let visited = match &state.group {
            Some(group) => Some((group.clone(), cookie_values(&parts.headers, GROUP_SESSION))),
            None => None,
        };
        let mine = state.clone();
        let found = tokio::task::spawn_blocking(move || {
            if let Some(authed) = own
                .iter()
                .find_map(|t| crate::auth::check_token(&mine, t).ok())
            {
                return Some((authed, None));
            }
            let (group, tokens) = visited?;
            let mut authed = tokens
                .iter()
                .find_map(|t| crate::auth::check_token(&group, t).ok())?;
            // Named as no person of the mine can be (a name has no `:`), so that nothing a
            // mine keeps for one of its people by name — an inspector's own sheet history —
            // opens to a group's manager of the same name.
            authed.actor.user = format!("group:{}", authed.actor.user);
            let name = match &mine.settings.place {
                crate::group::Place::Mine(m) => m.name.clone(),
                _ => String::new(),
            };
            Some((authed, Some(name)))
        })
        .await
        .ok()
        .flatten();
        let Some((authed, visiting)) = found else {
            return Err(to_login());
        };
        // A group's manager reads a mine's pages; what the mine decides (publishing, its
        // set-up) is its own people's.
        if visiting.is_some()
            && (parts.method != axum::http::Method::GET || !authed.actor.has(Role::Manager))
        {
            return Err(fail(
                StatusCode::FORBIDDEN,
                lang,
                l(
                    lang,
                    "集团管理人员只查看各矿的结果；发布、设置由本矿的管理人员办理。",
                    "A group manager reads a mine's results; publishing and set-up are the mine's own managers' to do.",
                ),
            ));
        }
        if !authed
            .actor
            .roles()
            .any(&[Role::Manager, Role::Admin, Role::Secretary])
        {
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
            visiting,
        })
    }
}

/// A request that says it comes from a page of another site.
pub(super) fn cross_site(headers: &HeaderMap) -> bool {
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
        _ => false,
    }
}

/// Cookies are marked Secure when the request came over HTTPS (through a proxy that says so).
pub(super) fn secure(headers: &HeaderMap) -> &'static str {
    match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "; Secure",
        _ => "",
    }
}

/// A local path to go back to, never another site.
pub(super) fn safe_back(back: Option<&str>) -> String {
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
