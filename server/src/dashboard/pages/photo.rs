//! A problem's photo (`/dash/photo/{branch}/{hash}`), for those who may see the branch.

use std::sync::Arc;

use axum::extract::{Path, State as Shared};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use zonepatrol_shared::docs;

use crate::State;
use crate::dashboard::labels::l;
use crate::dashboard::layout::fail;
use crate::dashboard::session::Viewer;
use crate::reports;

pub(crate) async fn photo(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, hash)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    // The consolidator may be busy with a push: wait for it off the async workers.
    let allowed = {
        let state = state.clone();
        let (branch, hash) = (branch.clone(), hash.clone());
        let may_view = viewer.may_view(&branch);
        tokio::task::spawn_blocking(move || {
            may_view
                && docs::values::is_sha256_hex(&hash)
                && reports::lock(&state).problem_photo(&branch, &hash)
        })
        .await
        .unwrap_or(false)
    };
    if !allowed {
        return fail(
            StatusCode::NOT_FOUND,
            lang,
            l(lang, "没有这张照片。", "No such photo."),
        );
    }
    let blobs = state.blobs.clone();
    let opened = tokio::task::spawn_blocking(move || blobs.read(&hash))
        .await
        .map_err(std::io::Error::other)
        .and_then(|read| read);
    match opened {
        Ok(Some(body)) => {
            let mut r = crate::routes::blob_response(body, "image/jpeg");
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            );
            r
        }
        Ok(None) | Err(_) => fail(
            StatusCode::NOT_FOUND,
            lang,
            l(
                lang,
                "照片还没有上传到服务器。",
                "The photo has not reached the server yet.",
            ),
        ),
    }
}
