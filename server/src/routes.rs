//! The HTTP routes. `docs/PROTOCOL.md` is their description for client writers.
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/login` | password → bearer token (the only route without a token) |
//! | `POST /v1/logout` | revokes the token used |
//! | `GET /v1/me` | who the token belongs to |
//! | `POST /v1/sync` | push local changes, pull what changed after the cursor |
//! | `POST /v1/blobs/check` | which blobs the server has, and how much of unfinished ones |
//! | `HEAD /v1/blobs/{hash}` | one blob's state |
//! | `GET /v1/blobs/{hash}` | one blob's bytes |
//! | `PUT /v1/blobs/{hash}` | upload a blob, or continue an upload |
//! | `GET /health`, `GET /ready` | alive; ready (both without a sign-in: `health`) |
//! | `GET /metrics` | Prometheus text (without a sign-in: `metrics`) |

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State as Shared};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::values::is_sha256_hex;
use zonepatrol_shared::protocol::{
    API, BlobCheckRequest, BlobCheckResponse, BlobState, ErrorCode, LoginRequest, LoginResponse,
    SyncRequest, SyncResponse, UPLOAD_LENGTH, UPLOAD_OFFSET,
};

use crate::State;
use crate::auth::{self, Authed, ClientAddr};
use crate::error::ApiError;
use crate::store::BlobMeta;

/// A JSON body whose rejections are our JSON errors.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(JsonBody(value))
    }
}

/// The router over a shared state.
pub fn router(state: Arc<State>) -> Router {
    let limit = state.settings.max_request_bytes;
    let api = Router::new()
        // A sign-in is a name and a password: no reason to read more before the throttle.
        .route("/login", post(login).layer(DefaultBodyLimit::max(4 * 1024)))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/sync", post(sync))
        .route(
            "/blobs/check",
            post(check_blobs).layer(DefaultBodyLimit::max(1024 * 1024)),
        )
        .route("/blobs/{hash}", get(get_blob).head(head_blob).put(put_blob));
    let mut routes = Router::new()
        .nest(API, api)
        .merge(crate::dashboard::router())
        .route("/health", get(crate::health::health))
        .route("/ready", get(crate::health::ready));
    // The process's series are one registry: a group serves them once, at its root, with
    // each mine's gauges labelled.
    if !matches!(state.settings.place, crate::group::Place::Mine(_)) {
        routes = routes.route("/metrics", get(crate::metrics::scrape));
    }
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::health::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::dashboard::base::place,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("there is no such route: see docs/PROTOCOL.md")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::BadRequest,
        "this route does not take that method: see docs/PROTOCOL.md",
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(&e))?
}

async fn login(
    Shared(state): Shared<Arc<State>>,
    ClientAddr(address): ClientAddr,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let time_zone = state.settings.clock.tz.name().to_owned();
    let done = auth::login(
        &state,
        &body.user,
        &body.password,
        &body.device,
        body.device_key
            .as_deref()
            .map(|k| (k, body.device_proof.as_deref().unwrap_or_default())),
        address,
    )
    .await
    .inspect_err(|e| {
        crate::metrics::login(match e.body.error {
            ErrorCode::TooManyAttempts => "throttled",
            ErrorCode::Busy => "busy",
            _ => "failed",
        })
    })?;
    crate::metrics::login(if done.is_some() { "ok" } else { "refused" });
    match done {
        Some((token, record, user)) => {
            tracing::info!(user = %user.user, "login");
            let store = state.store.clone();
            let server_key = blocking(move || Ok(crate::store::writer::server_key(&*store)?))
                .await?
                .id()
                .to_string();
            Ok(Json(LoginResponse {
                token,
                expires_at: record.expires_at,
                user: user.actor(),
                time_zone,
                server_key: Some(server_key),
            }))
        }
        None => {
            tracing::info!(user = %body.user.chars().take(64).collect::<String>(), "login refused");
            Err(ApiError::unauthorized(
                "wrong name or password: check both and try again",
            ))
        }
    }
}

async fn logout(Shared(state): Shared<Arc<State>>, authed: Authed) -> Result<StatusCode, ApiError> {
    let hash = authed.token_hash;
    tokio::task::spawn_blocking(move || auth::sign_out(&state, &hash))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(authed: Authed) -> Json<Actor> {
    Json(authed.actor)
}

async fn sync(
    shared: Shared<Arc<State>>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<SyncResponse>, ApiError> {
    let started = std::time::Instant::now();
    let answer = sync_request(shared, authed, headers, body).await;
    crate::metrics::sync_done(
        answer.as_ref().map(|a| &a.0).map_err(|e| e.status.as_u16()),
        started.elapsed(),
    );
    answer
}

async fn sync_request(
    Shared(state): Shared<Arc<State>>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<SyncResponse>, ApiError> {
    let limit = state.settings.max_request_bytes;
    let declared = number_header(&headers, header::CONTENT_LENGTH.as_str())?;
    if declared.is_some_and(|n| n > limit as u64) {
        drain(body, limit as u64).await;
        return Err(too_large_request());
    }
    // Room for the body and what it becomes once decoded into documents (see
    // `Settings::max_bodies_in_memory`), so that many large pushes at once wait their turn
    // instead of exhausting memory. A small body (an empty sync, a few edits) needs none, so
    // that it never waits behind a large push.
    let expected = declared.map_or(limit as u64, |n| n);
    let room = if expected <= SMALL_BODY {
        None
    } else {
        let total = (state.settings.max_bodies_in_memory / 1024).max(1) as u64;
        let wanted = (expected.saturating_mul(ROOM_PER_BODY_BYTE) / 1024).clamp(1, total);
        let wanted = u32::try_from(wanted).unwrap_or(u32::MAX);
        let room = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            state.body_room.clone().acquire_many_owned(wanted),
        )
        .await
        .map_err(|_| {
            ApiError::busy(
                5,
                "the server is busy taking in other pushes: try again in a few seconds",
            )
        })?
        .map_err(|e| ApiError::internal(&e))?;
        Some(room)
    };
    // However slowly it comes, a body is read within a bounded time, so that nobody holds the
    // room it reserved for longer.
    let read = tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| {
            ApiError::bad_request(
                "the request body came too slowly: send fewer documents at a time, or sync \
                 where the connection is better",
            )
        })?;
    let bytes = read.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            too_large_request()
        } else {
            ApiError::bad_request(format!(
                "the request body was cut off or too slow ({e}): sync again"
            ))
        }
    })?;
    let request: SyncRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))?;
    drop(bytes);
    crate::metrics::sync_in(&request);
    let span = tracing::info_span!("sync", user = %authed.actor.user, push = request.push.len(), cursor = request.cursor);
    let shared = state.clone();
    let response = blocking(move || {
        // The room is held until the work is done, even if the client went away meanwhile.
        let _held = room;
        let _span = span.enter();
        if authed.key.is_none()
            && let Some(key) = &request.device_key
        {
            let proof = request.device_proof.as_deref().unwrap_or_default();
            auth::bind_key(&shared, &authed, key, proof)?;
        }
        crate::sync::sync(
            &shared,
            &authed.actor,
            &authed.device,
            authed.key.as_deref(),
            request,
            false,
        )
    })
    .await?;
    Ok(Json(response))
}

/// A sync body this small reserves no room: its documents are a few hundred kilobytes at most.
const SMALL_BODY: u64 = 64 * 1024;

/// Memory a push takes for each byte of its body: the body, its JSON, the decoded changes and
/// automerge's documents (measured in `benches/load.rs`: 8 MiB of changes, about 11 MiB of
/// body, took the server from 60 to 433 MiB).
const ROOM_PER_BODY_BYTE: u64 = 40;

/// The longest a sync request's body may take to arrive.
const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

fn too_large_request() -> ApiError {
    ApiError::new(
        ErrorCode::TooLarge,
        "the request is larger than the server takes: send fewer documents at a time",
    )
}

fn valid_hash(hash: &str) -> Result<(), ApiError> {
    if is_sha256_hex(hash) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "“{hash}” is not a blob hash: use the SHA-256 of the bytes, 64 lowercase hex digits"
        )))
    }
}

/// A blob's state as `user` may know it: stored only if they may read it, otherwise how much
/// of their own upload the server holds. Whether someone else stored it is not told.
fn blob_state(state: &State, user: &Actor, hash: &str) -> Result<BlobState, ApiError> {
    let stored = state
        .store
        .blob(hash)?
        .filter(|meta| may_fetch(state, user, hash, meta));
    Ok(match stored {
        Some(meta) => BlobState {
            hash: hash.to_owned(),
            stored: true,
            offset: meta.size,
        },
        None => BlobState {
            hash: hash.to_owned(),
            stored: false,
            offset: state
                .blobs
                .partial_len(&user.user, hash)
                .map_err(|e| ApiError::internal(&e))?,
        },
    })
}

/// A photo is read by whoever may read a document that points at it, and by its uploader.
fn may_fetch(state: &State, user: &Actor, hash: &str, meta: &BlobMeta) -> bool {
    // A photo removed as nothing pointed at it is not stored, whatever its record says: a
    // phone that needs it again sends it again.
    if !state.blobs.has(hash) {
        return false;
    }
    if meta.uploaded_by(&user.user) {
        return true;
    }
    let visits = crate::reports::visits(state, user, crate::now_millis());
    state
        .results
        .photos
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .may_read(user, &visits, hash)
}

async fn check_blobs(
    Shared(state): Shared<Arc<State>>,
    authed: Authed,
    JsonBody(body): JsonBody<BlobCheckRequest>,
) -> Result<Json<BlobCheckResponse>, ApiError> {
    if body.hashes.len() > 10_000 {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            "ask about at most 10000 blobs at a time",
        ));
    }
    let blobs = body
        .hashes
        .iter()
        .map(|h| {
            valid_hash(h)?;
            blob_state(&state, &authed.actor, h)
        })
        .collect::<Result<_, _>>()?;
    Ok(Json(BlobCheckResponse { blobs }))
}

fn offset_header(offset: u64) -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::HeaderName::from_static(UPLOAD_OFFSET),
        HeaderValue::from(offset),
    )]
}

async fn head_blob(
    Shared(state): Shared<Arc<State>>,
    authed: Authed,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    valid_hash(&hash)?;
    let blob = blob_state(&state, &authed.actor, &hash)?;
    Ok(if blob.stored {
        (
            StatusCode::OK,
            [(header::CONTENT_LENGTH, HeaderValue::from(blob.offset))],
        )
            .into_response()
    } else {
        (StatusCode::NOT_FOUND, offset_header(blob.offset)).into_response()
    })
}

async fn get_blob(
    Shared(state): Shared<Arc<State>>,
    authed: Authed,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    valid_hash(&hash)?;
    let readable = state
        .store
        .blob(&hash)?
        .filter(|meta| may_fetch(&state, &authed.actor, &hash, meta));
    let Some(meta) = readable else {
        return Err(ApiError::not_found(
            "the server has no such photo for you: the device that took it has not sent it yet",
        ));
    };
    let blobs = state.blobs.clone();
    let read = tokio::task::spawn_blocking(move || blobs.read(&hash))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    let Some(body) = read else {
        return Err(ApiError::not_found(
            "the server has no such photo for you: the device that took it has not sent it yet",
        ));
    };
    crate::metrics::blob_bytes("served", meta.size);
    Ok(blob_response(body, "application/octet-stream"))
}

/// A stored blob as a response body: a file read as it is sent, or the bytes.
pub(crate) fn blob_response(body: crate::blobs::BlobBody, content_type: &'static str) -> Response {
    match body {
        crate::blobs::BlobBody::File(file, size) => {
            stream_file(tokio::fs::File::from_std(file), size, content_type)
        }
        crate::blobs::BlobBody::Pieces(next, size) => {
            // Each piece read off the async workers, as it is sent.
            let pieces = futures_util::stream::unfold(Some(next), |next| async move {
                let mut next = next?;
                let read = tokio::task::spawn_blocking(move || {
                    let piece = next();
                    (next, piece)
                })
                .await;
                match read {
                    Ok((next, Ok(Some(piece)))) => {
                        Some((Ok(axum::body::Bytes::from(piece)), Some(next)))
                    }
                    Ok((_, Ok(None))) => None,
                    Ok((_, Err(e))) => Some((Err(e), None)),
                    Err(e) => Some((Err(std::io::Error::other(e)), None)),
                }
            });
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (header::CONTENT_LENGTH, HeaderValue::from(size)),
                ],
                Body::from_stream(pieces),
            )
                .into_response()
        }
        crate::blobs::BlobBody::Bytes(bytes) => {
            let size = bytes.len() as u64;
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (header::CONTENT_LENGTH, HeaderValue::from(size)),
                ],
                bytes,
            )
                .into_response()
        }
    }
}

/// A file as a response body, read as it is sent rather than into memory first.
pub(crate) fn stream_file(
    file: tokio::fs::File,
    size: u64,
    content_type: &'static str,
) -> Response {
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_LENGTH, HeaderValue::from(size)),
        ],
        body,
    )
        .into_response()
}

fn number_header(headers: &HeaderMap, name: &str) -> Result<Option<u64>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("the {name} header must be a whole number"))
                })
        })
        .transpose()
}

/// The answer to an upload of a blob the server already has.
fn already_stored(hash: String, meta: &BlobMeta) -> Response {
    let state = BlobState {
        hash,
        stored: true,
        offset: meta.size,
    };
    (StatusCode::OK, Json(state)).into_response()
}

/// Reads and discards up to `limit` bytes of a body that is being refused, so that the client,
/// still sending, gets the answer rather than a broken connection.
async fn drain(body: Body, limit: u64) {
    drain_stream(&mut body.into_data_stream(), limit).await;
}

async fn drain_stream(stream: &mut axum::body::BodyDataStream, limit: u64) {
    let mut seen: u64 = 0;
    while let Some(Ok(bytes)) = stream.next().await {
        seen += bytes.len() as u64;
        if seen > limit {
            return;
        }
    }
}

/// An upload's bytes not kept: another request of the same upload (on another instance) wrote
/// it meanwhile, or it was dropped, is answered as the protocol says (409 with where it
/// stands); anything else is the server's failure.
fn upload_failed(
    state: &State,
    user: &str,
    hash: &str,
    e: &std::io::Error,
) -> Result<Response, ApiError> {
    if !matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::NotFound
    ) {
        return Err(ApiError::internal(e));
    }
    let held = state
        .blobs
        .partial_len(user, hash)
        .map_err(|e| ApiError::internal(&e))?;
    let mut response = ApiError::new(
        ErrorCode::WrongOffset,
        format!("{e}: the server holds {held} bytes of this blob; continue from byte {held}"),
    )
    .into_response();
    response.headers_mut().extend(offset_header(held));
    Ok(response)
}

/// Marks a user's upload of a blob as under way for as long as it lives.
struct UploadSlot<'a> {
    state: &'a State,
    slot: (String, String),
}

impl Drop for UploadSlot<'_> {
    fn drop(&mut self) {
        self.state
            .uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.slot);
    }
}

async fn put_blob(
    Shared(state): Shared<Arc<State>>,
    authed: Authed,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    valid_hash(&hash)?;
    let length = number_header(&headers, UPLOAD_LENGTH)?.ok_or_else(|| {
        ApiError::bad_request(format!(
            "an upload needs the {UPLOAD_LENGTH} header: the blob's whole size in bytes"
        ))
    })?;
    if length > state.settings.max_blob_bytes {
        drain(body, state.settings.max_blob_bytes).await;
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!(
                "the server takes blobs of at most {} bytes, and this one has {length}: \
                 take the photo again at a lower size",
                state.settings.max_blob_bytes
            ),
        ));
    }
    let user = authed.actor.user.clone();
    if let Some(meta) = state.store.blob(&hash)?
        && may_fetch(&state, &authed.actor, &hash, &meta)
    {
        // Already stored and theirs to read: the upload is done.
        return Ok(already_stored(hash, &meta));
    }
    let offset = number_header(&headers, UPLOAD_OFFSET)?.unwrap_or(0);
    let slot = (user.clone(), hash.clone());
    let inserted = state
        .uploads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(slot.clone());
    if !inserted {
        return Err(ApiError::new(
            ErrorCode::WrongOffset,
            "another upload of this blob from you is under way: try again in a moment",
        ));
    }
    let _slot = UploadSlot {
        state: &state,
        slot,
    };
    // Begun first, so that the offset is checked against where this very upload goes on.
    let mut upload = state
        .blobs
        .begin(&user, &hash, length, state.settings.uploads_per_user)
        .map_err(|e| ApiError::internal(&e))?;
    let held = upload.at();
    if offset != held {
        drop(upload);
        let mut response = ApiError::new(
            ErrorCode::WrongOffset,
            format!("the server holds {held} bytes of this blob: continue from byte {held}"),
        )
        .into_response();
        response.headers_mut().extend(offset_header(held));
        return Ok(response);
    }
    let mut received: u64 = 0;
    let mut stream = body.into_data_stream();
    let mut cut = None;
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(bytes) => {
                if held + received + bytes.len() as u64 > length {
                    if let Err(e) = upload.sync() {
                        drop(upload);
                        return upload_failed(&state, &user, &hash, &e);
                    }
                    drop(upload);
                    drain_stream(&mut stream, state.settings.max_blob_bytes).await;
                    state
                        .blobs
                        .truncate(&user, &hash, held + received)
                        .map_err(|e| ApiError::internal(&e))?;
                    return Err(ApiError::new(
                        ErrorCode::TooLarge,
                        format!(
                            "the body runs past the {length} bytes the {UPLOAD_LENGTH} header states"
                        ),
                    ));
                }
                if let Err(e) = upload.write(&bytes) {
                    drop(upload);
                    return upload_failed(&state, &user, &hash, &e);
                }
                received += bytes.len() as u64;
            }
            Err(e) => {
                cut = Some(e);
                break;
            }
        }
    }
    let now_held = held + received;
    // A whole blob in one request is stored at once where the engine can (it holds every
    // byte); otherwise what arrived is kept, whether or not the body was whole, and a whole
    // one finished below.
    let completed = if cut.is_none() && now_held == length {
        upload.complete(&hash).map_err(|e| ApiError::internal(&e))?
    } else {
        None
    };
    if completed.is_none()
        && let Err(e) = upload.sync()
    {
        drop(upload);
        return upload_failed(&state, &user, &hash, &e);
    }
    drop(upload);
    crate::metrics::blob_bytes("stored", received);
    if let Some(e) = cut {
        return Err(ApiError::bad_request(format!(
            "the upload was cut off after {now_held} bytes ({e}): continue from there"
        )));
    }
    if now_held < length {
        return Ok((
            StatusCode::ACCEPTED,
            offset_header(now_held),
            Json(BlobState {
                hash,
                stored: false,
                offset: now_held,
            }),
        )
            .into_response());
    }
    let matched = match completed {
        Some(matched) => matched,
        None => {
            let blobs = state.blobs.clone();
            let finish_hash = hash.clone();
            let finish_user = user.clone();
            tokio::task::spawn_blocking(move || blobs.finish(&finish_user, &finish_hash))
                .await
                .map_err(|e| ApiError::internal(&e))?
                .map_err(|e| ApiError::internal(&e))?
        }
    };
    if !matched {
        return Err(ApiError::new(
            ErrorCode::HashMismatch,
            "the bytes sent do not have the SHA-256 they were sent under: they were discarded; \
             send the blob again from the start",
        ));
    }
    // The first uploader is on the record, and a later one who sent the whole bytes too: they
    // hold the photo, so they read it, whoever stored it first.
    match state.store.blob(&hash)? {
        None => state.store.put_blob(
            &hash,
            &BlobMeta {
                size: length,
                branch: authed.actor.branch.clone(),
                by: authed.actor.user.clone(),
                at: crate::now_millis(),
                also: Vec::new(),
            },
        )?,
        Some(mut meta) => {
            if !meta.uploaded_by(&user) && meta.also.len() < BlobMeta::MORE_UPLOADERS {
                meta.also.push(user.clone());
                state.store.put_blob(&hash, &meta)?;
            }
        }
    }
    state.store.flush()?;
    tracing::info!(%hash, size = length, user = %authed.actor.user, "blob stored");
    Ok((
        StatusCode::CREATED,
        Json(BlobState {
            hash,
            stored: true,
            offset: length,
        }),
    )
        .into_response())
}
