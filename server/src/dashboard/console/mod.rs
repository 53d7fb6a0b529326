//! The set-up console (`/admin…`): branches, zones, members and accounts, checklist
//! templates and the activity record, for admins (every branch) and secretaries (their own).
//! Every form is handed to the domain operations of [`crate::admin`], which write documents
//! as the signed-in person's validated changes; nothing here touches storage.
//!
//! # Layout
//!
//! - here: the routes, the form fields ([`Fields`]), running an operation off the async
//!   workers and answering with its outcome.
//! - `branches`: the list of branches and creating one.
//! - `branch`: one branch: its name and category, zones, members, templates.
//! - `zone`, `post`, `template`: the zone, demonstration post and template forms.
//! - `accounts`: accounts, roles, passwords and devices.
//! - `import`: the workbook to fill in, a filled one previewed and applied.
//! - `rules`: the mine's rules in force, a new version, the history.
//! - `mutual`: the mutual evaluation: a secretary's marks for the other branches, managers'
//!   special-activity bonuses, the branch's own result.
//! - `activity`: who changed what and when.

mod accounts;
mod activity;
mod branch;
mod branches;
mod import;
mod mutual;
mod post;
mod rules;
mod template;
mod zone;

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::labels::{Lang, l};
use super::layout::{fail, layout};
use super::session::Viewer;
use crate::State;
use crate::admin::{self, AdminError};

/// The console's routes.
pub(super) fn router() -> Router<Arc<State>> {
    Router::new()
        .route("/admin", get(branches::page))
        .route("/admin/branch", post(branches::create))
        .route(
            "/admin/branch/{branch}",
            get(branch::page).post(branch::update),
        )
        .route("/admin/branch/{branch}/member", post(branch::member))
        .route(
            "/admin/branch/{branch}/zone/{zone}",
            get(zone::page).post(zone::save),
        )
        .route(
            "/admin/branch/{branch}/post/{post}",
            get(post::page).post(post::save),
        )
        .route(
            "/admin/branch/{branch}/post/{post}/decide",
            post(post::decide),
        )
        .route("/admin/branch/{branch}/mutual", get(mutual::page))
        .route("/admin/branch/{branch}/mutual/marks", post(mutual::marks))
        .route("/admin/branch/{branch}/mutual/bonus", post(mutual::bonus))
        .route(
            "/admin/branch/{branch}/template/{template}",
            get(template::page).post(template::save),
        )
        .route("/admin/accounts", get(accounts::list))
        .route(
            "/admin/account/{user}",
            get(accounts::page).post(accounts::save),
        )
        .route("/admin/account/{user}/password", post(accounts::password))
        .route("/admin/account/{user}/disable", post(accounts::disable))
        .route("/admin/account/{user}/device", post(accounts::device))
        .route("/admin/account/{user}/phone", post(accounts::phone))
        .route("/admin/activity", get(activity::page))
        .route("/admin/rules", get(rules::page).post(rules::save))
        .route(
            "/admin/import",
            get(import::page).post(import::preview_upload).layer(
                // A workbook and the form around it; a file up to four times too large is
                // read to the end to be answered so.
                DefaultBodyLimit::max(4 * admin::import::MAX_BYTES),
            ),
        )
        .route("/admin/import/template.xlsx", get(import::template))
        .route("/admin/import/apply", post(import::apply))
        // A template of forty rows in Chinese is tens of kilobytes, form-encoded.
        .layer(DefaultBodyLimit::max(256 * 1024))
}

/// A posted form's fields, in order, repeated names kept (checkboxes, rows).
#[derive(Debug, Default)]
pub(super) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(super) fn new(fields: Vec<(String, String)>) -> Fields {
        Fields(fields)
    }

    /// The first value of a field, or empty.
    pub(super) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a field.
    pub(super) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub(super) fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// The error page for a refused operation, in the viewer's language, with a way back.
pub(super) fn refused(lang: Lang, e: &AdminError, back: &str) -> Response {
    let status = match e {
        AdminError::Forbidden(..) => StatusCode::FORBIDDEN,
        AdminError::Invalid(..) => StatusCode::BAD_REQUEST,
        AdminError::Refused(_) => StatusCode::CONFLICT,
        AdminError::Failed(cause) => {
            tracing::error!(%cause, "an administrative change failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let body = html! {
        section {
            h1 { (l(lang, "没有保存", "Not saved")) }
            p.error #refusal { (e.says(lang)) }
            p { a href=(link(back)) { (l(lang, "返回修改", "Go back and fix it")) } }
        }
    };
    (
        status,
        layout(lang, None, l(lang, "没有保存", "Not saved"), body),
    )
        .into_response()
}

/// Runs an operation off the async workers; on success goes to `then`, else the refusal.
pub(super) async fn run(
    state: Arc<State>,
    lang: Lang,
    back: String,
    op: impl FnOnce(&State) -> Result<String, AdminError> + Send + 'static,
) -> Response {
    let base = crate::dashboard::base::current();
    let done =
        tokio::task::spawn_blocking(move || crate::dashboard::base::within(base, || op(&state)))
            .await;
    match done {
        Ok(Ok(then)) => Redirect::to(&link(&then)).into_response(),
        Ok(Err(e)) => refused(lang, &e, &back),
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

/// The console's refusal of a viewer it is not for: people who do not set up the mine, and a
/// group's managers (a mine's set-up is its own admins').
pub(super) fn closed_to(viewer: &Viewer) -> Option<Response> {
    let lang = viewer.lang;
    if viewer.visiting.is_some() || !admin::may_open_console(&viewer.actor) {
        return Some(fail(
            StatusCode::FORBIDDEN,
            lang,
            l(
                lang,
                "设置控制台供管理员和支部书记使用。",
                "The console is for admins and branch secretaries.",
            ),
        ));
    }
    None
}

/// Runs a page's reading off the async workers.
pub(super) async fn show(
    state: Arc<State>,
    viewer: Viewer,
    page: impl FnOnce(&State, &Viewer) -> Result<Response, AdminError> + Send + 'static,
) -> Response {
    let lang = viewer.lang;
    if let Some(closed) = closed_to(&viewer) {
        return closed;
    }
    let base = crate::dashboard::base::current();
    let done = tokio::task::spawn_blocking(move || {
        crate::dashboard::base::within(base, || page(&state, &viewer))
    })
    .await;
    match done {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => refused(lang, &e, "/admin"),
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

/// A moment as the mine reads it, in its own time zone.
pub(super) fn when(state: &State, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&state.settings.clock.tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// The console's page chrome: its own navigation above the body.
pub(super) fn frame(viewer: &Viewer, title: &str, body: Markup) -> Response {
    let lang = viewer.lang;
    let nav = html! {
        nav.tabs #console {
            a href=(link("/admin")) { (l(lang, "支部", "Branches")) }
            a href=(link("/admin/accounts")) { (l(lang, "账号", "Accounts")) }
            a href=(link("/admin/import")) { (l(lang, "从 Excel 导入", "Import from Excel")) }
            a href=(link("/admin/rules")) { (l(lang, "考评规则", "Rules")) }
            a href=(link("/admin/activity")) { (l(lang, "修改记录", "Activity")) }
        }
        h1 { (title) }
        (body)
    };
    layout(lang, Some(viewer), title, nav).into_response()
}
