//! The sync banner: at a glance, whether everything is on the server.

use chrono::TimeZone;
use chrono_tz::Tz;
use dioxus::prelude::*;

use crate::i18n::{Lang, T, tr};
use crate::sync::{Fix, SyncState, SyncStatus};

/// How the banner looks: a CSS class and the line of text.
pub fn status_line(
    lang: Lang,
    status: &SyncStatus,
    refused: usize,
    zone: Tz,
) -> (&'static str, String) {
    let p = &status.progress;
    let mut line = match &status.state {
        SyncState::Idle => (("offline"), tr(lang, T::NeverSynced).to_owned()),
        SyncState::Syncing => (
            "busy",
            format!(
                "{} · {} {} · {} {} · {} {}",
                tr(lang, T::Syncing),
                p.docs_up + p.docs_down,
                tr(lang, T::Docs),
                p.blobs_up,
                tr(lang, T::Photos),
                p.bytes_up + p.bytes_down,
                tr(lang, T::Bytes)
            ),
        ),
        SyncState::Done { at } => {
            let when = zone
                .timestamp_millis_opt(*at)
                .single()
                .map(|t| t.format("%m-%d %H:%M").to_string())
                .unwrap_or_default();
            ("ok", format!("{} {when}", tr(lang, T::SyncedAt)))
        }
        SyncState::Offline { .. } => ("offline", tr(lang, T::Offline).to_owned()),
        // Not a failure: the work is kept and waits for the person to sign in online.
        SyncState::Failed {
            fix: Fix::SignInOnline,
            ..
        } => ("offline", tr(lang, T::FixSignInOnline).to_owned()),
        SyncState::Failed { reason, fix } => {
            let what = match fix {
                Fix::SignIn | Fix::SignInOnline => tr(lang, T::FixSignIn).to_owned(),
                Fix::FreeSpace => tr(lang, T::FixFreeSpace).to_owned(),
                Fix::UpdateOrRetry => tr(lang, T::FixUpdate).to_owned(),
            };
            // In English the details follow, for support.
            let what = if lang == Lang::En {
                format!("{what} ({reason})")
            } else {
                what
            };
            ("bad", format!("{}: {what}", tr(lang, T::SyncFailed)))
        }
    };
    if refused > 0 {
        line.0 = "bad";
        line.1 = format!("{} · {refused} {}", line.1, tr(lang, T::Refused));
    }
    line
}

/// The banner at the top of every screen; a tap on it syncs now.
#[component]
pub fn SyncBanner(
    lang: Lang,
    status: SyncStatus,
    refused: usize,
    #[props(default)] on_tap: EventHandler<()>,
    /// The mine's time zone, for the time of the last sync.
    #[props(default = chrono_tz::Asia::Shanghai)]
    tz: chrono_tz::Tz,
) -> Element {
    let (class, text) = status_line(lang, &status, refused, tz);
    let busy = status.state == SyncState::Syncing;
    rsx! {
        div { class: "banner {class}", role: "status", "data-testid": "sync-banner",
            onclick: move |_| on_tap.call(()),
            span { "{text}" }
            if !busy {
                span { class: "sync-now", "aria-label": tr(lang, T::SyncNow), "{tr(lang, T::SyncNow)}" }
            }
        }
    }
}
