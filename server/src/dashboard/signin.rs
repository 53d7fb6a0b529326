//! The sign-in room: the sign-in page and form, signing in and out, and choosing the language.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State as Shared};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::labels::{Lang, l};
use super::layout::{fail, layout};
use super::session::{LANG, LangOnly, Viewer, cross_site, safe_back, secure, session_cookie};
use crate::State;

#[derive(Deserialize)]
pub(super) struct BackQuery {
    back: Option<String>,
}

fn login_form(lang: Lang, back: &str, error: Option<&str>, first: Option<&str>) -> Markup {
    layout(
        lang,
        None,
        l(lang, "登录", "Sign in"),
        html! {
            section.login {
                h1 { (l(lang, "管理看板登录", "Sign in to the dashboard")) }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                @if let Some(first) = first { pre #first-start style="white-space:pre-wrap" { (first) } }
                form method="post" action=(link("/login")) {
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

pub(super) async fn login_page(
    Shared(state): Shared<Arc<State>>,
    LangOnly(lang): LangOnly,
    Query(q): Query<BackQuery>,
) -> Markup {
    let how = first_account(&state);
    let empty = tokio::task::spawn_blocking(move || {
        crate::admin::accounts::any_account(&state).is_ok_and(|any| !any)
    })
    .await
    .unwrap_or(false);
    let first = empty.then(|| {
        let words = match lang {
            Lang::Zh => crate::admin::accounts::FIRST_ADMIN_ZH,
            Lang::En => crate::admin::accounts::FIRST_ADMIN_EN,
        };
        how(words)
    });
    login_form(lang, &safe_back(q.back.as_deref()), None, first.as_deref())
}

/// How the first account of a store is made, as the sign-in page says it: the command for its
/// directory or database, its mine, or the group's manager.
fn first_account(state: &State) -> impl Fn(&str) -> String + Send + 'static {
    use crate::group::Place;
    let settings = &state.settings;
    // A group's stores are in its data directory's `group/` and `mines/ID/`.
    let group_data = match settings.place {
        Place::Alone => settings.data_dir.clone(),
        Place::Group => settings
            .data_dir
            .parent()
            .map(|p| p.to_owned())
            .unwrap_or_default(),
        Place::Mine(_) => settings
            .data_dir
            .parent()
            .and_then(|p| p.parent())
            .map(|p| p.to_owned())
            .unwrap_or_default(),
    };
    let whose = match &settings.database {
        Some(_) => "--database 'postgres://…'".to_owned(),
        None => format!("--data {}", group_data.display()),
    };
    let place = settings.place.clone();
    move |words: &str| {
        let words = words.replace("--data DATA", &whose);
        match &place {
            Place::Alone => words,
            Place::Mine(mine) => words
                .replace("--name admin", &format!("--mine {} --name admin", mine.id))
                .replace(" /login", &format!(" {}/login", mine.base())),
            Place::Group => words
                .replace(
                    "--name admin --role admin --branch hq",
                    "--group --name NAME --role manager",
                )
                .replace("Create the first admin", "Create the group's first manager")
                .replace("请先建立第一个管理员", "请先建立集团的第一个管理人员")
                .lines()
                .take(2)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    user: String,
    password: String,
    back: Option<String>,
}

pub(super) async fn login(
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
    let done =
        crate::auth::login(&state, &user, &form.password, super::DEVICE, None, address).await;
    match done {
        Ok(Some((token, record, _))) => {
            let max_age = (record.expires_at - crate::now_millis()).max(0) / 1000;
            let cookie = session_cookie(&state, &token, max_age, secure(&headers));
            let mut r = Redirect::to(&link(&back)).into_response();
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
                None,
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
                login_form(lang, &back, Some(message), None),
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
                login_form(lang, &back, Some(&message), None),
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

pub(super) async fn logout(Shared(state): Shared<Arc<State>>, viewer: Viewer) -> Response {
    let hash = viewer.token_hash;
    let signing_out = state.clone();
    match tokio::task::spawn_blocking(move || crate::auth::sign_out(&signing_out, &hash)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "a dashboard sign-out was not stored"),
        Err(e) => tracing::warn!(error = %e, "a dashboard sign-out failed"),
    }
    let mut r = Redirect::to(&link("/login")).into_response();
    if let Ok(ended) = HeaderValue::from_str(&session_cookie(&state, "", 0, "")) {
        r.headers_mut().insert(header::SET_COOKIE, ended);
    }
    r
}

pub(super) async fn set_lang(
    Path(lang): Path<String>,
    Query(q): Query<BackQuery>,
    headers: HeaderMap,
) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    // Back to the page the link was on: its address as the browser had it (the mine's place
    // in it), else one named within the mine.
    let referred = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest.to_owned()))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()));
    let to = match (q.back, referred) {
        (Some(back), _) => link(&safe_back(Some(&back))),
        (None, Some(referred)) if safe_back(Some(&referred)) == referred => referred,
        (None, _) => link(&safe_back(None)),
    };
    let mut r = Redirect::to(&to).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG}={value}; Path=/; SameSite=Lax; Max-Age=31536000"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
