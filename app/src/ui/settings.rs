//! Settings (language, signing out) and the list of edits the server refused, with reasons.

use chrono::TimeZone;
use dioxus::prelude::*;

use zonepatrol_shared::docs::DocId;

use crate::i18n::{Lang, T, doc_kind, refusal, tr};
use crate::store::Quarantined;

/// Settings.
#[component]
pub fn Settings(
    lang: Lang,
    user: String,
    server: String,
    refused: usize,
    on_lang: EventHandler<Lang>,
    on_quarantine: EventHandler<()>,
    on_sign_out: EventHandler<()>,
    on_back: EventHandler<()>,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::Settings)} }
        h2 { {tr(lang, T::Language)} }
        div { class: "choices",
            for (l, t) in [(Lang::Zh, T::Chinese), (Lang::En, T::English)] {
                button { key: "{l:?}", class: "choice", "aria-pressed": "{lang == l}",
                    "data-testid": "lang-{l.code()}",
                    onclick: move |_| on_lang.call(l),
                    {tr(lang, t)}
                }
            }
        }
        button { class: "wide", "data-testid": "quarantine", onclick: move |_| on_quarantine.call(()),
            "{tr(lang, T::Quarantine)} ({refused})"
        }
        p { class: "dim", "{tr(lang, T::SignedInAs)}: {user} · {server}" }
        button { class: "wide", "data-testid": "sign-out", onclick: move |_| on_sign_out.call(()),
            {tr(lang, T::SignOut)}
        }
    }
}

/// The edits the server refused: which record, why, when.
#[component]
pub fn QuarantineList(
    lang: Lang,
    items: Vec<Quarantined>,
    on_dismiss: EventHandler<u64>,
    on_back: EventHandler<()>,
    /// The mine's time zone, for when each edit was refused.
    #[props(default = chrono_tz::Asia::Shanghai)]
    tz: chrono_tz::Tz,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Settings)}" }
        h1 { {tr(lang, T::Quarantine)} }
        if items.is_empty() {
            p { class: "dim", {tr(lang, T::NothingRefused)} }
        }
        for q in items {
            div { key: "{q.key}", class: "item", "data-testid": "refused-{q.key}",
                p {
                    if let Ok(id) = q.id.parse::<DocId>() {
                        strong { {doc_kind(lang, id.kind())} }
                        " "
                    }
                    span { class: "dim", "{q.id}" }
                }
                p { class: "error", {refusal(lang, &q.refusal)} }
                if lang == Lang::Zh {
                    p { class: "dim", "{tr(lang, T::ServerSays)}：{q.refusal.reason}" }
                }
                p { class: "dim",
                    {tz.timestamp_millis_opt(q.at).single()
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()}
                }
                button { onclick: move |_| on_dismiss.call(q.key), {tr(lang, T::Dismiss)} }
            }
        }
    }
}
