//! A record's history on the phone, offline: every change, newest first, with who made it,
//! when and what it set — read from the document's automerge history on the phone. The people
//! who signed in on this phone are named from their actors; changes from other phones show
//! the start of their actor (the dashboard names everyone, from the server's registry). A
//! sheet's history is its inspector's alone ([`history::may_see_history`]).

use std::collections::BTreeMap;

use dioxus::prelude::*;
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::history::{self, Hidden, History};
use zonepatrol_shared::labels::{hidden_label, kind_label, moment_label, path_label, value_label};
use zonepatrol_shared::rules::MineClock;

use crate::i18n::{Lang, T, colon, tr};
use crate::store::{Repo, Session};
use crate::ui::{Screen, Ui};

/// Who made a change, as this phone knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The record's first change, alike on every phone.
    Genesis,
    /// The server itself.
    Server,
    /// Someone who signed in on this phone.
    Here(String),
    /// Someone on another phone: the start of their actor.
    Elsewhere(String),
}

/// One change as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The change's hash, to tell rows apart.
    pub hash: String,
    /// Who.
    pub author: Author,
    /// When (ms).
    pub at: i64,
    /// The fields it set: label, value (`None`: removed).
    pub fields: Vec<(String, Option<String>)>,
    /// How many more fields it set.
    pub more: usize,
}

/// The rows of a history, newest first, with authors named from this phone's accounts.
pub fn rows(
    lang: Lang,
    clock: MineClock,
    record: &History,
    here: &BTreeMap<String, String>,
) -> Vec<Row> {
    record
        .entries
        .iter()
        .rev()
        .map(|e| Row {
            hash: e.hash.clone(),
            author: if e.genesis {
                Author::Genesis
            } else if e.server {
                Author::Server
            } else if let Some(user) = here.get(&e.actor) {
                Author::Here(user.clone())
            } else {
                Author::Elsewhere(e.actor.chars().take(6).collect())
            },
            at: e.at,
            fields: e
                .changed
                .iter()
                .map(|c| {
                    (
                        path_label(lang, &c.path),
                        c.value.as_ref().map(|v| value_label(clock, &c.path, v)),
                    )
                })
                .collect(),
            more: e.more,
        })
        .collect()
}

/// A record's history.
#[component]
pub fn HistoryList(
    lang: Lang,
    /// The record's kind and id, as a heading.
    title: String,
    rows: Vec<Row>,
    /// How many older changes are not listed.
    older: usize,
    /// Why the history is not shown, if it is not.
    hidden: Option<String>,
    on_back: EventHandler<()>,
    #[props(default = MineClock::default())] clock: MineClock,
) -> Element {
    let when = move |at: i64| moment_label(clock, at);
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Back)}" }
        h1 { {tr(lang, T::History)} }
        p { class: "dim", "{title}" }
        if let Some(why) = hidden {
            p { class: "error", "data-testid": "history-hidden", "{why}" }
        }
        ol { class: "history", "data-testid": "history",
            for row in rows {
                li { key: "{row.hash}", class: "item",
                    p {
                        match &row.author {
                            Author::Genesis => rsx! { strong { {tr(lang, T::RecordCreated)} } },
                            Author::Server => rsx! { strong { {tr(lang, T::TheServer)} } " · " span { class: "dim", {when(row.at)} } },
                            Author::Here(user) => rsx! { strong { "{user}" } " · " span { class: "dim", {tr(lang, T::ThisPhone)} " · " {when(row.at)} } },
                            Author::Elsewhere(actor) => rsx! { strong { {tr(lang, T::AnotherPhone)} " {actor}" } " · " span { class: "dim", {when(row.at)} } },
                        }
                    }
                    if !matches!(row.author, Author::Genesis) && !row.fields.is_empty() {
                        ul { class: "changed",
                            for (i, (label, value)) in row.fields.iter().enumerate() {
                                li { key: "{i}",
                                    span { class: "dim", "{label}" }
                                    {colon(lang)}
                                    match value {
                                        Some(v) => rsx! { strong { "{v}" } },
                                        None => rsx! { em { {tr(lang, T::Removed)} } },
                                    }
                                }
                            }
                            if row.more > 0 {
                                li { class: "dim", "+{row.more}" }
                            }
                        }
                    }
                }
            }
        }
        if older > 0 {
            p { class: "dim", "{tr(lang, T::OlderChanges)}{colon(lang)}{older}" }
        }
    }
}

/// The history of the record `id`, read on the phone; back goes to `back`.
#[component]
pub(crate) fn HistoryPage(session: Session, id: String, back: Screen) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let clock = repo.clock();
    let (title, rows, older, hidden) = match read(&repo, &session.user, lang, clock, &id) {
        Ok((title, rows, older)) => (title, rows, older, None),
        Err((title, why)) => (title, Vec::new(), 0, Some(why.to_owned())),
    };
    rsx! { HistoryList { lang, title, rows, older, hidden, on_back: move |_| ui.go(back.clone()), clock } }
}

/// The page's title, rows and count of older changes; or its title and why it shows none.
fn read(
    repo: &Repo,
    me: &Actor,
    lang: Lang,
    clock: MineClock,
    id: &str,
) -> Result<(String, Vec<Row>, usize), (String, &'static str)> {
    let Ok(doc_id) = id.parse::<DocId>() else {
        return Err((id.to_owned(), tr(lang, T::NotOnPhone)));
    };
    let title = format!("{} {id}", kind_label(lang, doc_id.kind()));
    if let Err(why) = history::may_see_history(me, &doc_id) {
        let why = match why {
            Hidden::NotReadable => tr(lang, T::NotOnPhone),
            other => hidden_label(lang, other),
        };
        return Err((title, why));
    }
    let Some(mut doc) = repo.load(id).ok().flatten() else {
        return Err((title, tr(lang, T::NotOnPhone)));
    };
    let record = history::history(doc.document(), &doc_id);
    let here = repo.account_actors().unwrap_or_default();
    Ok((title, rows(lang, clock, &record, &here), record.older))
}

/// A button that opens a record's history; back comes to `back`.
#[component]
pub(crate) fn HistoryLink(id: String, back: Screen) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    rsx! {
        button { class: "choice", "data-testid": "history-link",
            onclick: move |_| ui.go(Screen::History { id: id.clone(), back: Box::new(back.clone()) }),
            {tr(lang, T::History)}
        }
    }
}
