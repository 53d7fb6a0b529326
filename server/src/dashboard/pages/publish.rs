//! The publish and reopen buttons (`POST /dash/publish`): the form, checked, handed to the
//! domain operation [`crate::publish::record`].

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zonepatrol_shared::Role;
use zonepatrol_shared::docs::LockAction;
use zonepatrol_shared::rules::period::Period;

use crate::State;
use crate::dashboard::labels::{Lang, l};
use crate::dashboard::layout::fail;
use crate::dashboard::session::{Viewer, safe_back};
use crate::publish::{self, PublishError};
use crate::reports;

#[derive(Deserialize)]
pub(crate) struct PublishForm {
    branch: String,
    period: String,
    action: String,
    back: Option<String>,
}

pub(crate) async fn publish(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Form(form): Form<PublishForm>,
) -> Response {
    let lang = viewer.lang;
    if !viewer.actor.has(Role::Manager) {
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
    let done = tokio::task::spawn_blocking(move || {
        publish::record(&state, &branch, period, action, &user)
    })
    .await;
    match done {
        Ok(Ok(())) => Redirect::to(&link(&back)).into_response(),
        Ok(Err(e)) if e.is_conflict() => fail(StatusCode::CONFLICT, lang, &refused(lang, &e)),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a period could not be published or reopened");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                l(
                    lang,
                    "服务器出错，请重试。",
                    "The server failed: try again.",
                ),
            )
        }
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

/// Why a publish or reopen was refused, in the viewer's language.
fn refused(lang: Lang, e: &PublishError) -> String {
    match (lang, e) {
        (Lang::Zh, PublishError::NoBranch(b)) => format!("没有支部“{b}”。"),
        (Lang::Zh, PublishError::AlreadyPublished(p)) => format!("{p} 已经发布。"),
        (Lang::Zh, PublishError::NotPublished(p)) => format!("{p} 尚未发布，无需重新开放。"),
        (_, e) => e.to_string(),
    }
}
