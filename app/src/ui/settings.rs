//! Settings (language, signing out) and the list of edits the server refused, with reasons.

use dioxus::prelude::*;

use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::labels::{moment_label, path_label, value_label};
use zonepatrol_shared::rules::MineClock;

use crate::i18n::{Lang, LangCode, T, colon, doc_kind, refusal, tr};
use crate::store::{Quarantined, Session};
use crate::ui::{LANG, Screen, Ui};

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
    /// Hands the phone to someone else without signing out.
    #[props(default)]
    on_switch_user: EventHandler<()>,
    /// Opens phone to phone.
    #[props(default)]
    on_relay: EventHandler<()>,
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
        button { class: "wide", "data-testid": "relay", onclick: move |_| on_relay.call(()),
            {tr(lang, T::Relay)}
        }
        p { class: "dim", "{tr(lang, T::SignedInAs)}: {user} · {server}" }
        button { class: "wide primary", "data-testid": "switch-user",
            onclick: move |_| on_switch_user.call(()),
            {tr(lang, T::SwitchUser)}
        }
        p { class: "dim", {tr(lang, T::SwitchUserHint)} }
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
    /// Applies a refused edit again, once its cause is gone.
    #[props(default)]
    on_reapply: EventHandler<u64>,
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
                if !q.changed.is_empty() {
                    ul { class: "changed", "data-testid": "changed-{q.key}",
                        for (i, c) in q.changed.iter().enumerate() {
                            li { key: "{i}",
                                span { class: "dim", {path_label(lang, &c.path)} }
                                {colon(lang)}
                                match &c.value {
                                    Some(v) => rsx! { strong { {value_label(MineClock { tz }, &c.path, v)} } },
                                    None => rsx! { em { {tr(lang, T::Removed)} } },
                                }
                            }
                        }
                    }
                }
                p { class: "error", {refusal(lang, &q.refusal)} }
                if lang == Lang::Zh {
                    p { class: "dim", "{tr(lang, T::ServerSays)}：{q.refusal.reason}" }
                }
                p { class: "dim",
                    {moment_label(MineClock { tz }, q.at)}
                }
                p { class: "hint", {tr(lang, T::ReapplyHint)} }
                div { class: "choices",
                    button { class: "choice", "data-testid": "reapply-{q.key}",
                        onclick: move |_| on_reapply.call(q.key), {tr(lang, T::Reapply)} }
                    button { class: "choice", "data-testid": "dismiss-{q.key}",
                        onclick: move |_| on_dismiss.call(q.key), {tr(lang, T::Dismiss)} }
                }
            }
        }
    }
}

/// The settings page; the language chosen is kept on the phone.
#[component]
pub(crate) fn SettingsPage(
    session: Session,
    refused: usize,
    on_sign_out: EventHandler<()>,
    on_switch_user: EventHandler<()>,
) -> Element {
    let ui = use_context::<Ui>();
    rsx! {
        Settings {
            lang: (ui.lang)(),
            user: session.user.user.clone(),
            server: session.server.clone(),
            refused,
            on_lang: move |l: Lang| {
                let mut lang = ui.lang;
                lang.set(l);
                if let Err(e) = ui.repo().set_preference(LANG, l.code()) {
                    ui.failed(format!("{}: {e}", tr((ui.lang)(), T::NotSaved)));
                }
            },
            on_quarantine: move |_| ui.go(Screen::Quarantine),
            on_relay: move |_| ui.go(Screen::Relay),
            on_sign_out: move |_| on_sign_out.call(()),
            on_switch_user: move |_| on_switch_user.call(()),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// The page of the edits the server refused; dismissing one calls `on_change`.
#[component]
pub(crate) fn QuarantinePage(on_change: EventHandler<()>) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let user = ui
        .repo()
        .session()
        .ok()
        .flatten()
        .map(|s| s.user.user)
        .unwrap_or_default();
    let items = ui.repo().quarantine_of(&user).unwrap_or_default();
    rsx! {
        QuarantineList {
            lang: (ui.lang)(),
            tz: ui.repo().clock().tz,
            items,
            on_dismiss: move |key| {
                if let Err(e) = ui.repo().dismiss(key) {
                    ui.failed(format!("{}: {e}", tr((ui.lang)(), T::NotSaved)));
                }
                let mut revision = ui.revision;
                *revision.write() += 1;
                on_change.call(());
            },
            on_reapply: move |key| {
                match ui.repo().reapply(key) {
                    Ok(()) => {
                        ui.confirm(T::Reapplied);
                        // Sent now if there is a network; the server judges it again.
                        ui.services.peek().wake.notify_one();
                    }
                    Err(e) => ui.failed(format!("{}: {e}", tr((ui.lang)(), T::NotSaved))),
                }
                let mut revision = ui.revision;
                *revision.write() += 1;
                on_change.call(());
            },
            on_back: move |_| ui.go(Screen::Settings),
        }
    }
}
