//! The pages room: one file per page, and what their handlers share (running off the async
//! workers, checking the branch).

use std::sync::{Arc, MutexGuard};

use axum::http::StatusCode;
use axum::response::Response;

use super::labels::{Lang, l};
use super::layout::fail;
use super::session::Viewer;
use crate::State;
use crate::consolidate::Consolidator;
use crate::reports;

pub(super) mod group;
pub(super) mod history;
pub(super) mod ledger;
pub(super) mod overview;
pub(super) mod photo;
pub(super) mod problem;
pub(super) mod publish;
pub(super) mod rankings;
pub(super) mod zone;

/// Runs a page's work off the async workers: it waits for the consolidator, which a push or
/// a refresh may hold for a while.
pub(super) async fn blocking(
    state: Arc<State>,
    page: impl FnOnce(&State) -> Response + Send + 'static,
) -> Response {
    let base = crate::dashboard::base::current();
    tokio::task::spawn_blocking(move || crate::dashboard::base::within(base, || page(&state)))
        .await
        .unwrap_or_else(|_| {
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                Lang::Zh,
                "服务器出错，请重试。The server failed: try again.",
            )
        })
}

/// Runs a branch's page off the async workers (as [`blocking`]) once the viewer may see the
/// branch and it exists; `page` gets the consolidator, still locked, the viewer and the branch.
pub(super) async fn branch_page(
    state: Arc<State>,
    viewer: Viewer,
    branch: String,
    page: impl FnOnce(MutexGuard<'_, Consolidator>, Viewer, String) -> Response + Send + 'static,
) -> Response {
    blocking(state, move |state| {
        let c = reports::lock(state);
        if let Err(r) = check_branch(&c, &viewer, &branch) {
            return r;
        }
        page(c, viewer, branch)
    })
    .await
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
