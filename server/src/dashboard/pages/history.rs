//! A record's history (`/dash/history/{id}`): every change, newest first, with who made it,
//! from which device, when, and what it set, field by field — read from the document's
//! automerge history and the server's actor registry. A sheet's history is its inspector's
//! alone and the server's results have none ([`history::may_see_history`]).

use crate::dashboard::base::link;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::history;
use zonepatrol_shared::labels::{hidden_label, kind_label, moment_label, path_label, value_label};

use super::blocking;
use crate::State;
use crate::dashboard::labels::l;
use crate::dashboard::layout::{fail, layout};
use crate::dashboard::session::Viewer;
use crate::reports;
use crate::store::ActorOwner;

/// A link to a record's history.
pub(crate) fn history_link(id: &DocId) -> String {
    link(&format!("/dash/history/{id}"))
}

pub(crate) async fn history_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(text): Path<String>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
        let missing = || {
            fail(
                StatusCode::NOT_FOUND,
                lang,
                l(lang, "没有这条记录。", "There is no such record."),
            )
        };
        let Ok(id) = text.parse::<DocId>() else {
            return missing();
        };
        if let Err(hidden) = history::may_see_history(&viewer.actor, &id) {
            let why = hidden_label(lang, hidden);
            return fail(StatusCode::FORBIDDEN, lang, why);
        }
        let doc = match state.store.doc(&id) {
            Ok(Some(stored)) => stored.load().ok(),
            _ => None,
        };
        let Some(mut doc) = doc else {
            return missing();
        };
        let record = history::history(doc.document(), &id);
        // Names of the branch's members; anyone else by their user id.
        let names: BTreeMap<String, String> = reports::lock(state)
            .branches()
            .get(id.branch())
            .map(|b| b.members.clone())
            .unwrap_or_default();
        let clock = state.settings.clock;
        let mut owners: BTreeMap<String, Option<ActorOwner>> = BTreeMap::new();
        for e in &record.entries {
            if !e.genesis && !e.server && !owners.contains_key(&e.actor) {
                let owner = hex::decode(&e.actor)
                    .ok()
                    .and_then(|bytes| state.store.actor_owner(&bytes).ok().flatten());
                owners.insert(e.actor.clone(), owner);
            }
        }
        let who = |actor: &str| -> (String, String) {
            match owners.get(actor).cloned().flatten() {
                Some(o) => (
                    names.get(&o.user).cloned().unwrap_or(o.user),
                    device_label(state, &o.device),
                ),
                None => (
                    format!(
                        "{} · {}",
                        l(lang, "未知", "Unknown"),
                        actor.get(..6).unwrap_or(actor)
                    ),
                    String::new(),
                ),
            }
        };
        let when = |ms: i64| moment_label(clock, ms);
        let title = format!("{} · {} {}", l(lang, "修改历史", "History"), kind_label(lang, id.kind()), id);
        let body = html! {
            h1 { (l(lang, "修改历史", "History")) " " span.muted { (kind_label(lang, id.kind())) " " (id.to_string()) } }
            p.muted { (l(lang, "每次修改：谁、在哪台设备、什么时间、改了什么。时间为设备记录的时间（矿区时区）。",
                "Each change: who, on which device, when, and what it set. Times are the device's clock, in the mine's time zone.")) }
            ol #history reversed {
                @for e in record.entries.iter().rev() {
                    li.change data-hash=(e.hash) {
                        @if e.genesis {
                            b { (l(lang, "建立记录", "Record created")) }
                            " " span.muted { (l(lang, "（由记录编号生成，各设备相同）", "(made from the record's id, alike on every device)")) }
                        } @else if e.server {
                            b.who { (l(lang, "服务器", "The server")) } " · " span.when { (when(e.at)) }
                        } @else {
                            @let (name, device) = who(&e.actor);
                            b.who { (name) }
                            @if !device.is_empty() { " · " span.device { (device) } }
                            " · " span.when { (when(e.at)) }
                        }
                        @if !e.changed.is_empty() && !e.genesis {
                            ul.fields {
                                @for c in &e.changed {
                                    li {
                                        span.muted { (path_label(lang, &c.path)) } (l(lang, "：", ": "))
                                        @match &c.value {
                                            Some(v) => b { (value_label(clock, &c.path, v)) },
                                            None => i { (l(lang, "已删除", "removed")) },
                                        }
                                    }
                                }
                                @if e.more > 0 {
                                    li.muted { (l(lang, "另有 ", "and ")) (e.more) (l(lang, " 项", " more")) }
                                }
                            }
                        }
                    }
                }
            }
            @if record.older > 0 {
                p.muted #older { (l(lang, "更早的修改 ", "Older changes not listed: ")) (record.older) (l(lang, " 次未列出。", ".")) }
            }
        };
        layout(lang, Some(&viewer), &title, body).into_response()
    })
    .await
}

/// How a device is named in a history: a registered phone by the name it gave and its key's
/// first digits; the server's own key as the console; an older record by the name it kept.
fn device_label(state: &State, device: &str) -> String {
    if device.parse::<zonepatrol_shared::signing::KeyId>().is_err() {
        return device.to_owned();
    }
    let short = zonepatrol_shared::signing::short(device);
    match state.store.device(device) {
        Ok(Some(d)) => format!("{} · {short}", d.name),
        _ => match crate::store::writer::server_key(&*state.store) {
            Ok(k) if k.id().to_string() == device => crate::dashboard::DEVICE.to_owned(),
            _ => short.to_owned(),
        },
    }
}
