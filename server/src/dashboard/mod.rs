//! The managers' dashboard: server-rendered HTML pages with inline SVG charts, for any
//! browser and a phone, in Chinese by default and English on request.
//!
//! Every page reads the consolidated results ([`crate::consolidate`]); nothing here reads an
//! inspector's sheet. Sign-in sets an HttpOnly, SameSite=Strict cookie holding the same kind
//! of token the app uses; pages are for managers and admins (every branch) and secretaries
//! (their own branch); only managers publish and reopen.
//!
//! - `/dash`: what each branch has still to do by the cadence, this week's inspection
//!   ranking as a bar chart with the notice, this ten-day
//!   period's supervision ranking, this month's ledger (with the self-check), open and overdue
//!   problems, cleanups, and the branches ranked by category.
//! - `/dash/zone/{branch}/{zone}`: the monthly trend, inspections, problems with photos,
//!   cleanups and the placard.
//! - `/dash/problem/{branch}/{problem}`: a problem's whole loop as a timeline — the finding,
//!   each fix, each verification or reopening with its note and new deadline, with photos.
//! - `/dash/ledger/{branch}/{month}`, `/dash/rankings?period=…`: the ledger; quarterly and
//!   yearly rankings with posts flagged for losing their title.
//! - `/dash/export/…`: the ledger, the weekly notice and the ten-day notice as .xlsx, the
//!   placard as SVG.
//!
//! # Layout
//!
//! - `mod.rs`: the routes ([`router`]) and the headers on every answer.
//! - `session.rs`: who is asking ([`Viewer`], [`LangOnly`]), cookies, cross-site checks.
//! - `signin.rs`: signing in and out, choosing the language.
//! - `labels.rs`: the language ([`Lang`], [`l`]) and how periods, grades and money are shown.
//! - `views.rs`: what pages and exports show ([`Ledger`], [`Notice`], [`Placard`]).
//! - `layout.rs`: the page chrome and the error page.
//! - `pages/`: one file per page, with the publish and photo handlers.
//! - `export.rs`: the workbooks and the placard, and their downloads.
//! - `chart.rs`: the inline SVG charts.

pub(crate) mod base;
mod chart;
mod console;
pub mod export;
mod labels;
mod layout;
mod pages;
mod session;
mod signin;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

pub use labels::{Lang, l};
pub(crate) use pages::group::Mines as GroupMines;
pub use pages::overview::{OverviewQuery, overview_page};
pub use session::{LangOnly, Viewer};
pub use views::{Ledger, LedgerRow, Notice, NoticeRow, Placard};

use crate::State;

/// The device the dashboard's sign-ins and edits are recorded as coming from.
pub const DEVICE: &str = "dashboard";
use export::{export_ledger, export_notice, export_ten_day, placard};
use pages::history::history_page;
use pages::problem::{problem_notice, problem_page};
use pages::{ledger::ledger_page, overview::overview, photo::photo, publish::publish};
use pages::{rankings::rankings_page, zone::zone_page};
use signin::{login, login_page, logout, set_lang};

/// The dashboard's routes.
pub fn router() -> Router<Arc<State>> {
    Router::new()
        .route("/", get(|| async { Redirect::to(&base::link("/dash")) }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(set_lang))
        .route("/dash", get(overview))
        .route("/dash/zone/{branch}/{zone}", get(zone_page))
        .route("/dash/ledger/{branch}/{month}", get(ledger_page))
        .route("/dash/rankings", get(rankings_page))
        .route("/dash/publish", post(publish))
        .route("/dash/problem/{branch}/{problem}", get(problem_page))
        .route("/dash/history/{id}", get(history_page))
        .route("/dash/photo/{branch}/{hash}", get(photo))
        .route("/dash/export/ledger/{branch}/{month}", get(export_ledger))
        .route("/dash/export/notice/{branch}/{week}", get(export_notice))
        .route("/dash/export/tenday/{branch}/{period}", get(export_ten_day))
        .route("/dash/placard/{branch}/{zone}", get(placard))
        .route(
            "/dash/export/problem/{branch}/{problem}",
            get(problem_notice),
        )
        // Forms are a few fields: nothing more is read.
        .layer(DefaultBodyLimit::max(16 * 1024))
        .merge(console::router())
        .layer(axum::middleware::map_response(page_headers))
}

/// A group's own pages, at its root: its managers sign in, and read every mine side by side
/// (each mine's pages are under `/m/ID/`, in [`router`] of its own).
pub(crate) fn group_router(mines: pages::group::Mines) -> Router<Arc<State>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dash") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(set_lang))
        .route("/dash", get(pages::group::group_overview))
        .route("/dash/export/group", get(pages::group::group_export))
        .layer(axum::Extension(mines))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(axum::middleware::map_response(page_headers))
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
