//! Opening a group's stores and serving them: each mine's routes under `/m/ID/`, the group's
//! own pages and the operator's routes (every mine's health, readiness and metrics) at the
//! root.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{Mine, Place, group_dir};
use crate::{Common, LaunchError, Settings, State};

/// A group's stores, opened.
pub(crate) struct Group {
    /// The group's own accounts (its managers).
    pub(crate) accounts: Arc<State>,
    /// Each mine's store, in the order of the settings.
    pub(crate) mines: Vec<(Mine, Arc<State>)>,
}

/// Opens the group's accounts and every mine's store (a directory of its own under the data
/// directory, or a schema of its own in the database).
pub(crate) fn open(settings: &Settings, common: &Common) -> Result<Group, LaunchError> {
    super::check_layout(settings)?;
    let mut own = settings.clone();
    own.place = Place::Group;
    own.data_dir = group_dir(&settings.data_dir);
    own.demo = false;
    own.demo_history = false;
    let accounts = Arc::new(State::open_in(own, common, None)?);
    let mut mines = Vec::with_capacity(settings.mines.len());
    for mine in &settings.mines {
        let mut its = settings.clone();
        its.place = Place::Mine(mine.clone());
        its.data_dir = mine.dir(&settings.data_dir);
        its.mines = Vec::new();
        let state = State::open_in(its, common, Some(accounts.clone()))?;
        tracing::info!(mine = %mine.id, name = %mine.name, "mine opened");
        mines.push((mine.clone(), Arc::new(state)));
    }
    Ok(Group { accounts, mines })
}

/// The group's routes: each mine's own under its place, the group's pages and the operator's
/// routes at the root.
pub(crate) fn router(group: &Group) -> Router {
    let mines: crate::dashboard::GroupMines = Arc::new(group.mines.clone());
    let ready = mines.clone();
    let scraped = mines.clone();
    let accounts = group.accounts.clone();
    let ready_accounts = group.accounts.clone();
    let mut app = Router::new()
        .merge(crate::dashboard::group_router(mines))
        .route("/health", get(crate::health::health))
        .route(
            "/ready",
            get(move || ready_all(ready.clone(), ready_accounts.clone())),
        )
        .route(
            "/metrics",
            get(move || {
                let mut stores: Vec<Arc<State>> = scraped.iter().map(|(_, s)| s.clone()).collect();
                stores.push(accounts.clone());
                async move { crate::metrics::render(&stores) }
            }),
        )
        .fallback(crate::routes::not_found)
        .layer(axum::middleware::from_fn_with_state(
            group.accounts.clone(),
            crate::health::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            group.accounts.clone(),
            crate::dashboard::base::place,
        ))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(group.accounts.clone());
    for (mine, state) in &group.mines {
        app = app.nest(&mine.base(), crate::routes::router(state.clone()));
    }
    app
}

/// `GET /ready` at a group's root: 200 when every mine is ready, else 503 with each mine's
/// answer.
async fn ready_all(mines: crate::dashboard::GroupMines, accounts: Arc<State>) -> Response {
    let answers = tokio::task::spawn_blocking(move || {
        mines
            .iter()
            .map(|(mine, state)| (mine.id.clone(), crate::health::assess(state)))
            .chain([("group".to_owned(), crate::health::assess(&accounts))])
            .collect::<std::collections::BTreeMap<_, _>>()
    })
    .await;
    let Ok(answers) = answers else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the readiness check failed",
        )
            .into_response();
    };
    let ready = answers.values().all(|a| a.ready);
    // The group serves once every mine (and its own accounts) does; it failed if one did.
    let phase = ["failed", "starting"]
        .into_iter()
        .find(|p| answers.values().any(|a| a.phase == *p))
        .unwrap_or("serving");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "ready": ready, "phase": phase, "mines": answers })),
    )
        .into_response()
}
