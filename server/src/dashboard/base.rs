//! Where the pages being served live: at the root for a mine served alone or for the group,
//! under `/m/ID` for a mine of a group ([`crate::group`]). Pages name their links from the
//! mine's root (`/dash`, `/admin/branch/b1`); [`link`] puts the mine's place in front, read
//! from the request being answered, so a page never links into another mine.

use std::sync::Arc;

use axum::extract::{Request, State as Shared};
use axum::middleware::Next;
use axum::response::Response;

use crate::State;

/// The place of the pages being answered.
#[derive(Debug, Default)]
pub(crate) struct Here {
    /// Where its routes are: `` or `/m/ID`.
    base: Arc<str>,
    /// The mine's name, for a mine of a group.
    mine: Option<String>,
    /// Whether it is a group's (a mine of a group, or the group's own pages).
    grouped: bool,
}

tokio::task_local! {
    static HERE: Arc<Here>;
}

/// A path within the mine (`/dash/zone/b1/z1`) as the browser must ask for it.
pub(crate) fn link(path: &str) -> String {
    HERE.try_with(|here| format!("{}{path}", here.base))
        .unwrap_or_else(|_| path.to_owned())
}

/// The mine's name, for a mine of a group.
pub(crate) fn mine_name() -> Option<String> {
    HERE.try_with(|here| here.mine.clone()).ok().flatten()
}

/// Whether the pages are a group's (a mine of a group, or the group's own).
pub(crate) fn grouped() -> bool {
    HERE.try_with(|here| here.grouped).unwrap_or(false)
}

/// The place of the request being answered, to carry onto a blocking thread.
pub(crate) fn current() -> Arc<Here> {
    HERE.try_with(Arc::clone).unwrap_or_default()
}

/// Runs `f` (on a blocking thread) with the place of the request it works for.
pub(crate) fn within<T>(here: Arc<Here>, f: impl FnOnce() -> T) -> T {
    HERE.sync_scope(here, f)
}

/// Answers every request with its store's place known to [`link`].
pub(crate) async fn place(
    Shared(state): Shared<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    let here = Arc::new(Here {
        base: state.base.clone(),
        mine: match &state.settings.place {
            crate::group::Place::Mine(mine) => Some(mine.name.clone()),
            _ => None,
        },
        grouped: state.settings.place != crate::group::Place::Alone,
    });
    HERE.scope(here, next.run(request)).await
}
