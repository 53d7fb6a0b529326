//! More time for a fix (延期): on the holder's fix screen, where the latest request stands and
//! the form to ask (before the deadline, with a reason); for the secretary, the requests
//! waiting for an answer and the screen that grants (with the new deadline) or refuses (with a
//! reason).

use chrono::{Days, NaiveDate};
use dioxus::prelude::*;

use crate::ui::date::{DateField, parse_date};

use crate::i18n::{Lang, T, colon, tr};
use crate::index::ExtensionSummary;
use crate::records::extension::{
    MoreTime, MoreTimeRow, answer_more_time, ask_more_time, more_time_request, more_time_requests,
};
use crate::records::problem::my_problem;
use crate::records::today;
use crate::store::Session;
use crate::ui::pick::Pick;
use crate::ui::{Screen, Ui, Unavailable};

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Where the latest request for more time stands, in a line.
#[component]
pub fn MoreTimeState(lang: Lang, extension: ExtensionSummary) -> Element {
    let text = match &extension.answer {
        _ if extension.pending => format!(
            "{}{}{} {}",
            tr(lang, T::MoreTimePending),
            colon(lang),
            tr(lang, T::MoreTimeUntil),
            day_text(extension.until)
        ),
        Some(a) if a.granted => format!(
            "{} {}",
            tr(lang, T::MoreTimeGranted),
            a.until.map(day_text).unwrap_or_default()
        ),
        Some(a) => format!("{}{}{}", tr(lang, T::MoreTimeRefused), colon(lang), a.note),
        None => return rsx! {},
    };
    let class = if extension.answer.as_ref().is_some_and(|a| !a.granted) {
        "error"
    } else {
        "dim"
    };
    rsx! { p { class, "data-testid": "more-time-state", "{text}" } }
}

/// The holder's request for more time, below the fix: asked for only while the problem waits
/// for its fix, before its deadline, one request at a time.
#[component]
pub fn MoreTimeAsk(
    lang: Lang,
    deadline: Option<NaiveDate>,
    waiting_for_fix: bool,
    overdue: bool,
    extension: Option<ExtensionSummary>,
    on_ask: EventHandler<(Option<NaiveDate>, String)>,
) -> Element {
    let mut until = use_signal(String::new);
    let mut reason = use_signal(String::new);
    let pending = extension.as_ref().is_some_and(|e| e.pending);
    let earliest = deadline
        .and_then(|d| d.checked_add_days(Days::new(1)))
        .map(day_text)
        .unwrap_or_default();
    rsx! {
        if let Some(extension) = extension {
            MoreTimeState { lang, extension }
        }
        if waiting_for_fix && !pending {
            if overdue {
                p { class: "dim", {tr(lang, T::DeadlinePassedNoMoreTime)} }
            } else {
                details { class: "more-time",
                    summary { "data-testid": "ask-more-time", {tr(lang, T::AskMoreTime)} }
                    label { r#for: "more-time-until", {tr(lang, T::MoreTimeUntil)} }
                    DateField { lang, id: "more-time-until", value: until(), min: parse_date(&earliest),
                        on_change: move |v| until.set(v) }
                    label { r#for: "more-time-reason", {tr(lang, T::MoreTimeReason)} }
                    textarea { id: "more-time-reason", rows: "3",
                        oninput: move |e| reason.set(e.value()) }
                    button { class: "wide", "data-testid": "submit-more-time",
                        onclick: move |_| on_ask.call((parse_date(&until()), reason())),
                        {tr(lang, T::SubmitMoreTime)}
                    }
                }
            }
        }
    }
}

/// The holder's part of the fix page: the request for more time.
#[component]
pub(crate) fn MoreTimeAskPart(session: Session, name: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let repo = ui.repo();
    let me = session.user;
    let day = today(&repo.clock());
    let Some(row) = my_problem(&repo, &me, &name, day) else {
        return rsx! {};
    };
    rsx! {
        MoreTimeAsk {
            lang: (ui.lang)(),
            deadline: row.deadline,
            waiting_for_fix: row.status.awaits_rectification(),
            overdue: row.overdue,
            extension: row.extension,
            on_ask: move |(until, reason): (Option<NaiveDate>, String)| {
                let repo = ui.repo();
                let done = ask_more_time(&repo, &me, &name, until, &reason, today(&repo.clock()));
                if ui.saved(done).is_some() {
                    ui.confirm(T::MoreTimeAsked);
                }
            },
        }
    }
}

/// The requests for more time waiting for the secretary, the oldest first.
#[component]
pub fn MoreTimeList(
    lang: Lang,
    rows: Vec<MoreTimeRow>,
    on_open: EventHandler<String>,
    on_back: EventHandler<()>,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::MoreTimeRequests)} }
        if rows.is_empty() {
            p { class: "dim", {tr(lang, T::NothingToAnswer)} }
        }
        for row in rows {
            Pick { key: "{row.name}", id: row.name.clone(), class: "row",
                testid: "more-time-{row.name}",
                on_pick: on_open,
                span { class: "row-main", "{row.description}" }
                span { class: "row-sub",
                    "{row.zone} · {row.asked_by} · {tr(lang, T::MoreTimeUntil)} {day_text(row.until)}"
                }
            }
        }
    }
}

/// One request: the problem, the deadline in force, the day asked and why; grant or refuse.
#[component]
pub fn MoreTimeAnswer(
    lang: Lang,
    row: MoreTimeRow,
    error: Option<String>,
    on_answer: EventHandler<MoreTime>,
    on_back: EventHandler<()>,
) -> Element {
    let mut until = use_signal(|| day_text(row.until));
    let mut reason = use_signal(String::new);
    let earliest = row
        .deadline
        .and_then(|d| d.checked_add_days(Days::new(1)))
        .map(day_text)
        .unwrap_or_default();
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::MoreTimeRequests)}" }
        h1 { "{row.description}" }
        p { class: "dim", "{row.zone} · {tr(lang, T::AskedBy)} {row.asked_by}" }
        p { "data-testid": "more-time-asked",
            "{tr(lang, T::CurrentDeadline)} "
            {row.deadline.map(day_text).unwrap_or_default()}
            " → {tr(lang, T::MoreTimeUntil)} {day_text(row.until)}"
        }
        h2 { {tr(lang, T::MoreTimeReason)} }
        p { "data-testid": "more-time-reason", "{row.reason}" }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        label { r#for: "grant-until", {tr(lang, T::GrantUntil)} }
        DateField { lang, id: "grant-until", value: until(), min: parse_date(&earliest),
            on_change: move |v| until.set(v) }
        button { class: "primary", "data-testid": "grant-more-time",
            onclick: move |_| on_answer.call(MoreTime::Grant(parse_date(&until()))),
            {tr(lang, T::GrantMoreTime)}
        }
        label { r#for: "refuse-reason", {tr(lang, T::RefuseReason)} }
        textarea { id: "refuse-reason", rows: "3", oninput: move |e| reason.set(e.value()) }
        button { class: "wide", "data-testid": "refuse-more-time",
            onclick: move |_| on_answer.call(MoreTime::Refuse(reason())),
            {tr(lang, T::RefuseMoreTime)}
        }
    }
}

/// The secretary's page of the requests waiting for an answer.
#[component]
pub(crate) fn MoreTimeListPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let rows = more_time_requests(&ui.repo(), &session.user).unwrap_or_default();
    rsx! {
        MoreTimeList {
            lang: (ui.lang)(),
            rows,
            on_open: move |name| ui.go(Screen::MoreTime(name)),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// The secretary's page that answers one request.
#[component]
pub(crate) fn MoreTimePage(session: Session, name: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let me = session.user;
    let Some(row) = more_time_request(&ui.repo(), &me, &name) else {
        return rsx! { Unavailable { message: tr(lang, T::NothingToAnswer).to_owned(), back: Screen::MoreTimeList, label: T::MoreTimeRequests } };
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        MoreTimeAnswer {
            lang,
            row,
            error,
            on_answer: move |answer: MoreTime| {
                let repo = ui.repo();
                let done = answer_more_time(&repo, &me, &name, &answer, today(&repo.clock()));
                if ui.saved(done).is_some() {
                    ui.go(Screen::MoreTimeList);
                    ui.confirm(match answer {
                        MoreTime::Grant(_) => T::MoreTimeGrantedDone,
                        MoreTime::Refuse(_) => T::MoreTimeRefusedDone,
                    });
                }
            },
            on_back: move |_| ui.go(Screen::MoreTimeList),
        }
    }
}
