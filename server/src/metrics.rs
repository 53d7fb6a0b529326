//! What an operator's Prometheus scrapes at `GET /metrics`: the `metrics` facade, recorded
//! where things happen, rendered by `metrics-exporter-prometheus` as Prometheus text. Labels
//! carry results and reasons, never a person's or a zone's name. `docs/OPERATIONS.md` lists
//! every series with an example alert.
//!
//! The recorder is the process's: one server per process, as a mine runs it (the tests run
//! several in one process, and read the series as they move).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::metrics::{counter, gauge, histogram};
use axum::extract::State as Shared;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use zonepatrol_shared::protocol::{Outcome, SyncRequest, SyncResponse};

use crate::State;

/// Sync requests by result (`ok`, `client_error`, `busy`, `server_error`).
pub const SYNC_REQUESTS: &str = "zonepatrol_sync_requests_total";
/// How long sync requests take, in seconds.
pub const SYNC_SECONDS: &str = "zonepatrol_sync_request_duration_seconds";
/// Documents pushed in and sent out (`direction`).
pub const SYNC_DOCUMENTS: &str = "zonepatrol_sync_documents_total";
/// Bytes of automerge changes pushed in and sent out, as sent (base64) (`direction`).
pub const SYNC_BYTES: &str = "zonepatrol_sync_bytes_total";
/// Pushed changes refused by the rules, by reason (the refusal's code).
pub const REFUSED: &str = "zonepatrol_refused_changes_total";
/// Photo bytes stored (uploads taken in) and served.
pub const BLOB_BYTES: &str = "zonepatrol_blob_bytes_total";
/// Sign-ins by result (`ok`, `refused`, `throttled`, `busy`).
pub const LOGINS: &str = "zonepatrol_logins_total";
/// Connections open now.
pub const CONNECTIONS: &str = "zonepatrol_open_connections";
/// Stored documents not yet read into the results (while they are rebuilt at start).
pub const LAG: &str = "zonepatrol_consolidation_lag_documents";
/// Whether a report waits to be written again (1) or not (0).
pub const UNWRITTEN: &str = "zonepatrol_reports_unwritten";
/// Stored documents left out of the results.
pub const LEFT_OUT: &str = "zonepatrol_documents_left_out";
/// Whether `/ready` answers 200 (1) or 503 (0).
pub const READY: &str = "zonepatrol_ready";
/// The PostgreSQL engine's connections, by state (`in_use`, `idle`).
pub const DB_CONNECTIONS: &str = "zonepatrol_db_connections";
/// Times a request waited for a database connection.
pub const DB_WAITS: &str = "zonepatrol_db_connection_waits_total";
/// Time spent waiting for database connections.
pub const DB_WAIT_SECONDS: &str = "zonepatrol_db_connection_wait_seconds_total";
/// Time document writes waited for the database's write lock (another instance's or
/// request's write holding it).
pub const DB_LOCK_WAIT_SECONDS: &str = "zonepatrol_db_write_lock_wait_seconds_total";

/// The process's recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(SYNC_SECONDS.to_owned()),
                &[
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Only this function installs a recorder; should another be there already, the
        // series are still rendered from ours (and stay at zero).
        let _ = metrics::set_global_recorder(recorder);
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            })
            .ok();
        handle
    })
}

/// Installs the recorder (at start, so that the first requests are counted), with every
/// counter at zero, so that an alert on a rate has a series to look at from the start.
pub fn install() {
    let _ = handle();
    for result in ["ok", "client_error", "busy", "server_error"] {
        counter!(SYNC_REQUESTS, "result" => result).increment(0);
    }
    for direction in ["in", "out"] {
        counter!(SYNC_DOCUMENTS, "direction" => direction).increment(0);
        counter!(SYNC_BYTES, "direction" => direction).increment(0);
    }
    for direction in ["stored", "served"] {
        counter!(BLOB_BYTES, "direction" => direction).increment(0);
    }
    for result in ["ok", "refused", "failed", "throttled", "busy"] {
        counter!(LOGINS, "result" => result).increment(0);
    }
    gauge!(CONNECTIONS).increment(0.0);
}

/// A sync request read: the documents and bytes pushed in.
pub fn sync_in(request: &SyncRequest) {
    counter!(SYNC_DOCUMENTS, "direction" => "in").increment(request.push.len() as u64);
    let bytes: usize = request.push.iter().map(|p| p.changes.len()).sum();
    counter!(SYNC_BYTES, "direction" => "in").increment(bytes as u64);
}

/// One sync request answered (`Err` with the status of an error answer).
pub fn sync_done(answer: Result<&SyncResponse, u16>, took: Duration) {
    let result = match answer {
        Ok(_) => "ok",
        Err(503) => "busy",
        Err(status) if status >= 500 => "server_error",
        Err(_) => "client_error",
    };
    counter!(SYNC_REQUESTS, "result" => result).increment(1);
    histogram!(SYNC_SECONDS).record(took.as_secs_f64());
    if let Ok(answer) = answer {
        counter!(SYNC_DOCUMENTS, "direction" => "out").increment(answer.docs.len() as u64);
        let bytes: usize = answer.docs.iter().map(|d| d.changes.len()).sum::<usize>()
            + answer.acks.iter().map(|a| a.changes.len()).sum::<usize>();
        counter!(SYNC_BYTES, "direction" => "out").increment(bytes as u64);
        for ack in &answer.acks {
            if let Outcome::Refused { refusal } = &ack.outcome {
                let code = serde_json::to_value(refusal.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "other".to_owned());
                counter!(REFUSED, "reason" => code).increment(1);
            }
        }
    }
}

/// Photo bytes taken in or served.
pub fn blob_bytes(direction: &'static str, bytes: u64) {
    counter!(BLOB_BYTES, "direction" => direction).increment(bytes);
}

/// A sign-in's result.
pub fn login(result: &'static str) {
    counter!(LOGINS, "result" => result).increment(1);
}

/// A connection opened (`+1`) or closed (`-1`).
pub fn connections(delta: f64) {
    gauge!(CONNECTIONS).increment(delta);
}

/// `GET /metrics`: the series as Prometheus text, with the gauges read now.
pub(crate) async fn scrape(Shared(state): Shared<Arc<State>>) -> Response {
    render(std::slice::from_ref(&state))
}

/// The series as Prometheus text, with each store's gauges read now: labelled with its mine
/// (`mine="dongtan"`) when it is one of a group's.
pub(crate) fn render(stores: &[Arc<State>]) -> Response {
    for state in stores {
        store_gauges(state);
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        handle().render(),
    )
        .into_response()
}

/// One store's gauges.
fn store_gauges(state: &State) {
    let labels: Vec<::metrics::Label> = match &state.settings.place {
        crate::group::Place::Alone => Vec::new(),
        place => vec![::metrics::Label::new("mine", place.label().to_owned())],
    };
    let with = |more: (&'static str, &'static str)| {
        let mut all = labels.clone();
        all.push(::metrics::Label::new(more.0, more.1));
        all
    };
    let readiness = &state.results.readiness;
    let (done, total) = readiness.progress();
    let lag = if readiness.serving() {
        0
    } else {
        total.saturating_sub(done)
    };
    gauge!(LAG, labels.clone()).set(lag as f64);
    let unwritten = state
        .results
        .unwritten
        .load(std::sync::atomic::Ordering::Relaxed);
    gauge!(UNWRITTEN, labels.clone()).set(if unwritten { 1.0 } else { 0.0 });
    let (left_out, _) = crate::reports::left_out_first(state, 0);
    gauge!(LEFT_OUT, labels.clone()).set(left_out as f64);
    let ready = readiness.serving() && !unwritten && left_out == 0;
    gauge!(READY, labels.clone()).set(if ready { 1.0 } else { 0.0 });
    if let Some(pool) = state.store.pool() {
        gauge!(DB_CONNECTIONS, with(("state", "in_use")))
            .set(f64::from(pool.connections.saturating_sub(pool.idle)));
        gauge!(DB_CONNECTIONS, with(("state", "idle"))).set(f64::from(pool.idle));
        counter!(DB_WAITS, labels.clone()).absolute(pool.waits);
        gauge!(DB_WAIT_SECONDS, labels.clone()).set(pool.wait_micros as f64 / 1e6);
        gauge!(DB_LOCK_WAIT_SECONDS, labels).set(pool.lock_wait_micros as f64 / 1e6);
    }
}
