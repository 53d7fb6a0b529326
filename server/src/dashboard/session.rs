//! The session room: who is asking (a signed-in [`Viewer`] or just a [`LangOnly`] language),
//! read from the cookies, and the checks on where a request comes from and goes back to.

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

pub(super) const SESSION: &str = "zp_session";
/// The cookie that ends the session in the browser (its name is [`SESSION`]).
pub(super) const SESSION_ENDED: &str = "zp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
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

    pub(super) fn may_view(&self, branch: &str) -> bool {
        self.actor.is_company_wide() || self.actor.branch == branch
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
