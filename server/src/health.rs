//! Whether the server is alive and whether it is ready, for an operator's monitoring:
//! `GET /health` answers while the process runs; `GET /ready` answers 200 only when the store
//! reads, the results have been rebuilt at start and every report is written, and otherwise
//! 503 with the reasons in JSON. Neither needs a sign-in, and neither tells a person's name:
//! a document left out is named by its kind, branch and record, a score sheet without its
//! inspector.
//!
//! While the results are rebuilt at start the server already listens: these two answer, and
//! every other route answers 503 with `Retry-After` (the phones try again by themselves), so
//! that nobody reads half-built rankings.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::extract::{Request, State as Shared};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use zonepatrol_shared::docs::DocId;

use crate::State;
use crate::error::ApiError;

/// How far the start has come.
#[derive(Debug, Default)]
pub struct Readiness {
    /// The results are rebuilt and the server serves every route.
    serving: AtomicBool,
    /// Documents read into the results so far, while rebuilding.
    done: AtomicUsize,
    /// Documents to read while rebuilding.
    total: AtomicUsize,
    /// Why the start failed, if it did.
    failure: Mutex<Option<String>>,
}

impl Readiness {
    /// Whether every route is served.
    pub fn serving(&self) -> bool {
        self.serving.load(Ordering::Acquire)
    }

    /// The rebuild reads `total` documents.
    pub(crate) fn rebuilding(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    /// One more document read; returns how many so far.
    pub(crate) fn read_one(&self) -> usize {
        self.done.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Documents read and to read.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// The start is done: serve every route.
    pub(crate) fn serve(&self) {
        self.serving.store(true, Ordering::Release);
    }

    /// The start failed: say why on `/ready`, and keep every other route closed.
    pub(crate) fn fail(&self, why: String) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }

    /// A later attempt succeeded.
    pub(crate) fn clear_failure(&self) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// `/ready`'s answer.
#[derive(Debug, Serialize)]
pub(crate) struct ReadyAnswer {
    /// Whether everything is well.
    pub(crate) ready: bool,
    /// `starting` (rebuilding the results), `serving`, or `failed`.
    pub(crate) phase: &'static str,
    /// What is not well.
    reasons: Vec<Reason>,
}

/// One thing that is not well.
#[derive(Debug, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
enum Reason {
    /// The results are being rebuilt from the stored documents.
    Rebuilding {
        /// Documents read so far.
        done: usize,
        /// Documents to read.
        total: usize,
    },
    /// The start failed.
    StartFailed {
        /// Why.
        detail: String,
    },
    /// The store does not answer a read.
    StoreUnreadable {
        /// The store's error.
        detail: String,
    },
    /// Stored documents left out of the results (damaged, or dated out of range): the
    /// dashboard's 数据问题 lists them in full.
    DocumentsLeftOut {
        /// How many.
        count: usize,
        /// The first few, without names of people.
        documents: Vec<LeftOutDoc>,
    },
    /// A report could not be written and waits to be written again (within a minute).
    ReportsUnwritten,
    /// The results could not catch up with what other instances sharing the database wrote.
    Behind {
        /// Why.
        detail: String,
    },
}

/// A document left out, as `/ready` names it.
#[derive(Debug, Serialize)]
struct LeftOutDoc {
    /// The document, a score sheet without its inspector.
    id: String,
    /// Why.
    reason: String,
}

/// A document's id without a person's name in it.
fn impersonal(id: &str) -> String {
    match id.parse::<DocId>() {
        Ok(DocId::Sheet { branch, patrol, .. }) => format!("sheet:{branch}:{patrol}:…"),
        Ok(other) => other.to_string(),
        Err(_) => "(an id that does not read)".to_owned(),
    }
}

/// `GET /health`: the process runs.
pub(crate) async fn health() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({"status": "alive", "version": env!("CARGO_PKG_VERSION")})),
    )
        .into_response()
}

/// `GET /ready`: 200 when everything is well, otherwise 503 with the reasons.
pub(crate) async fn ready(Shared(state): Shared<Arc<State>>) -> Response {
    let answer = tokio::task::spawn_blocking(move || assess(&state))
        .await
        .unwrap_or_else(|e| ReadyAnswer {
            ready: false,
            phase: "failed",
            reasons: vec![Reason::StartFailed {
                detail: e.to_string(),
            }],
        });
    let status = if answer.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(answer),
    )
        .into_response()
}

pub(crate) fn assess(state: &State) -> ReadyAnswer {
    let readiness = &state.results.readiness;
    let mut reasons = Vec::new();
    let failure = readiness.failure();
    let phase = if let Some(detail) = failure {
        reasons.push(Reason::StartFailed { detail });
        "failed"
    } else if readiness.serving() {
        "serving"
    } else {
        let (done, total) = readiness.progress();
        reasons.push(Reason::Rebuilding { done, total });
        "starting"
    };
    // A cheap read: one key (on a database, a query: it is reachable).
    if let Err(e) = state.store.last_seq() {
        reasons.push(Reason::StoreUnreadable {
            detail: e.to_string(),
        });
    } else if readiness.serving()
        && let Err(e) = state.catch_up()
    {
        reasons.push(Reason::Behind {
            detail: e.to_string(),
        });
    }
    let (count, first) = crate::reports::left_out_first(state, 20);
    if count > 0 {
        reasons.push(Reason::DocumentsLeftOut {
            count,
            documents: first
                .iter()
                .map(|l| {
                    let shown = impersonal(&l.id);
                    LeftOutDoc {
                        // The reason may quote the id, inspector and all.
                        reason: l.reason.replace(&l.id, &shown),
                        id: shown,
                    }
                })
                .collect(),
        });
    }
    if state.results.unwritten.load(Ordering::Relaxed) {
        reasons.push(Reason::ReportsUnwritten);
    }
    ReadyAnswer {
        ready: reasons.is_empty(),
        phase,
        reasons,
    }
}

/// Routes an operator's monitoring reaches whatever the start's state.
fn always_open(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/metrics")
}

/// Until the start is done, every route but [`always_open`] ones answers 503 with
/// `Retry-After`: JSON for the API, a page that reloads itself for people.
pub(crate) async fn gate(
    Shared(state): Shared<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    if always_open(request.uri().path()) {
        return next.run(request).await;
    }
    if state.results.readiness.serving() {
        // Instances sharing a database answer from results caught up with every instance's
        // writes: a sync's checks and pull, a page, a photo whose readers the results know, a
        // console's checks. Signing in and out reads no results.
        let path = request.uri().path();
        let reads = !matches!(path, "/v1/login" | "/v1/logout" | "/login" | "/logout");
        if state.store.shared() && reads {
            let shared = state.clone();
            match tokio::task::spawn_blocking(move || shared.catch_up()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "could not catch up with the database");
                    return ApiError::busy(
                        5,
                        "the server cannot read its database just now: try again in a few seconds"
                            .to_owned(),
                    )
                    .into_response();
                }
                Err(e) => return ApiError::internal(&e).into_response(),
            }
        }
        return next.run(request).await;
    }
    let (done, total) = state.results.readiness.progress();
    if request
        .uri()
        .path()
        .starts_with(zonepatrol_shared::protocol::API)
    {
        return ApiError::busy(
            5,
            format!(
                "the server is starting ({done} of {total} records read): try again in a few \
                 seconds"
            ),
        )
        .into_response();
    }
    let page = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <meta http-equiv=\"refresh\" content=\"5\"><title>正在启动 · Starting</title></head>\
         <body><h1>服务器正在启动</h1><p>已读取 {done} / {total} 条记录，页面会自动刷新。</p>\
         <p lang=\"en\">The server is starting ({done} of {total} records read); this page \
         reloads by itself.</p></body></html>"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, "5"),
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        ],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_out_sheet_is_named_without_its_inspector() {
        assert_eq!(impersonal("sheet:zcyd:p1:zhao"), "sheet:zcyd:p1:…");
        assert_eq!(
            impersonal("assessment:zcyd:z1:2026-11"),
            "assessment:zcyd:z1:2026-11"
        );
        assert_eq!(impersonal("no such id"), "(an id that does not read)");
    }
}
