//! Publishing and reopening a period (`POST /dash/publish`), and [`record_lock`], which
//! writes it to the branch's publication document.

use std::sync::Arc;

use automerge::AutoCommit;
use automerge::transaction::CommitOptions;
use axum::extract::{Form, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zonepatrol_shared::Role;
use zonepatrol_shared::docs::{self, DocId, LockAction, LockEvent, Publication};
use zonepatrol_shared::rules::period::Period;

use crate::State;
use crate::dashboard::labels::l;
use crate::dashboard::layout::fail;
use crate::dashboard::session::{Viewer, safe_back};
use crate::reports;
use crate::seed::server_actor;
use crate::store::DocWrite;

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
    if viewer.actor.role != Role::Manager {
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
    let done =
        tokio::task::spawn_blocking(move || record_lock(&state, &branch, period, action, &user))
            .await;
    match done {
        Ok(Ok(())) => Redirect::to(&back).into_response(),
        Ok(Err(message)) => fail(StatusCode::CONFLICT, lang, &message),
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

/// Records a publish or reopen in the branch's publication document, on the record with who
/// and when, then freezes or recomputes the period's reports.
pub fn record_lock(
    state: &State,
    branch: &str,
    period: Period,
    action: LockAction,
    user: &str,
) -> Result<(), String> {
    let _write = state.docs.write().unwrap_or_else(|e| e.into_inner());
    if !reports::lock(state).branches().contains_key(branch) {
        return Err(format!("there is no branch “{branch}”"));
    }
    let id = DocId::Publication {
        branch: branch.to_owned(),
    };
    let text = id.to_string();
    let stored = state.store.doc(&text).map_err(|e| e.to_string())?;
    let mut doc = match &stored {
        Some(s) => AutoCommit::load(&s.bytes).map_err(|e| e.to_string())?,
        None => docs::genesis::<Publication>(&id).map_err(|e| e.to_string())?,
    };
    let before = doc.get_heads();
    let mut publication: Publication = docs::read(&doc, &id).map_err(|e| e.to_string())?;
    let locked = publication.locks().iter().any(|l| l.period == period);
    match (action, locked) {
        (LockAction::Publish, true) => return Err(format!("{period} is already published")),
        (LockAction::Reopen, false) => return Err(format!("{period} is not published")),
        _ => {}
    }
    let now = crate::now_millis();
    let seq = publication.next_seq();
    let mut raw = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    publication.events.insert(
        format!("{now}-{}", hex::encode(raw)),
        LockEvent {
            period: period.to_string(),
            action,
            by: user.to_owned(),
            at: now,
            seq,
        },
    );
    doc.set_actor(server_actor());
    docs::write(&mut doc, &publication).map_err(|e| e.to_string())?;
    doc.commit_with(CommitOptions::default().with_time(now / 1000));
    let after = doc.get_heads();
    state
        .store
        .write_doc(&DocWrite {
            id: text,
            chunk: if stored.is_some() {
                doc.save_after(&before)
            } else {
                doc.save()
            },
            compact: stored.is_none(),
            heads: after,
            actors: vec![(server_actor().to_bytes().to_vec(), "server".to_owned())],
        })
        .map_err(|e| e.to_string())?;
    let dirty = reports::take_in(state, &id, &doc);
    reports::write_dirty(state, dirty, now);
    state.store.flush().map_err(|e| e.to_string())?;
    tracing::info!(%branch, %period, ?action, by = %user, "period lock");
    Ok(())
}
