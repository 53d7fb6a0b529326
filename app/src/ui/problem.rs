//! Problems: raising one from a checklist item, the holder's list (overdue first), and
//! recording the fix with an after-photo.

use chrono::{Days, NaiveDate};
use dioxus::prelude::*;
use zonepatrol_shared::Severity;

use crate::field::ProblemRow;
use crate::i18n::{self, Lang, T, tr};
use crate::ui::photo::{PhotoButton, Picked};

/// What the raise screen hands over; the caller adds the zone, patrol, item and photos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// What is wrong.
    pub description: String,
    /// General or major.
    pub severity: Severity,
    /// Who must fix it.
    pub responsible: String,
    /// What must be done.
    pub measure: String,
    /// By when.
    pub deadline: Option<NaiveDate>,
}

/// The deadline offered at first: a week for a general problem, three days for a major one.
pub fn default_deadline(today: NaiveDate, severity: Severity) -> NaiveDate {
    let days = match severity {
        Severity::General => 7,
        Severity::Major => 3,
    };
    today.checked_add_days(Days::new(days)).unwrap_or(today)
}

/// Raising a problem.
#[component]
pub fn RaiseProblem(
    lang: Lang,
    zone_name: String,
    item_text: Option<String>,
    members: Vec<(String, String)>,
    responsible: String,
    today: NaiveDate,
    photos: usize,
    photo_busy: bool,
    error: Option<String>,
    on_photo: EventHandler<Vec<Picked>>,
    on_submit: EventHandler<Draft>,
    on_back: EventHandler<()>,
) -> Element {
    let mut description = use_signal(String::new);
    let mut measure = use_signal(String::new);
    let mut severity = use_signal(|| Severity::General);
    let mut who = use_signal(move || responsible);
    let mut deadline = use_signal(move || {
        default_deadline(today, Severity::General)
            .format("%Y-%m-%d")
            .to_string()
    });
    // The deadline follows the severity until the user picks one.
    let mut deadline_picked = use_signal(|| false);
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Back)}" }
        h1 { {tr(lang, T::RaiseProblem)} }
        p { class: "dim", "{zone_name}" if let Some(item) = item_text { " · {item}" } }
        label { r#for: "description", {tr(lang, T::Description)} }
        textarea { id: "description", "data-testid": "description", rows: "3",
            oninput: move |e| description.set(e.value()) }
        PhotoButton { lang, label: T::AddPhoto, testid: "problem-photo", busy: photo_busy, on_pick: on_photo }
        if photos > 0 {
            span { class: "photos", "data-testid": "problem-photos", "{tr(lang, T::PhotoCount)} {photos}" }
        }
        h2 { {tr(lang, T::Severity)} }
        div { class: "choices",
            for s in [Severity::General, Severity::Major] {
                button { key: "{s:?}", class: "choice", "aria-pressed": "{severity() == s}",
                    "data-testid": "severity-{s:?}",
                    onclick: move |_| {
                        severity.set(s);
                        if !deadline_picked() {
                            deadline.set(default_deadline(today, s).format("%Y-%m-%d").to_string());
                        }
                    },
                    {i18n::severity(lang, s)}
                }
            }
        }
        h2 { {tr(lang, T::Responsible)} }
        for (id, name) in members {
            button { key: "{id}", class: "check", "aria-pressed": "{who() == id}",
                "data-testid": "responsible-{id}",
                onclick: {
                    let id = id.clone();
                    move |_| who.set(id.clone())
                },
                "{name}"
            }
        }
        label { r#for: "measure", {tr(lang, T::Measure)} }
        textarea { id: "measure", "data-testid": "measure", rows: "2",
            oninput: move |e| measure.set(e.value()) }
        label { r#for: "deadline", {tr(lang, T::Deadline)} }
        input { id: "deadline", r#type: "date", "data-testid": "deadline", value: "{deadline}",
            oninput: move |e| {
                deadline_picked.set(true);
                deadline.set(e.value());
            } }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        button { class: "primary", "data-testid": "submit-problem", disabled: photo_busy,
            onclick: move |_| on_submit.call(Draft {
                description: description(),
                severity: severity(),
                responsible: who(),
                measure: measure(),
                deadline: NaiveDate::parse_from_str(deadline().trim(), "%Y-%m-%d").ok(),
            }),
            {tr(lang, T::Submit)}
        }
    }
}

/// The problems a holder must fix, overdue first.
#[component]
pub fn ProblemList(
    lang: Lang,
    rows: Vec<ProblemRow>,
    on_open: EventHandler<String>,
    on_back: EventHandler<()>,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::MyProblems)} }
        if rows.is_empty() {
            p { class: "dim", {tr(lang, T::NoProblems)} }
        }
        for row in rows {
            button { key: "{row.name}",
                class: if row.overdue { "row overdue" } else { "row" },
                "data-testid": "problem-{row.name}",
                onclick: {
                    let name = row.name.clone();
                    move |_| on_open.call(name.clone())
                },
                span { class: "row-main",
                    if row.overdue { span { class: "badge bad", {tr(lang, T::Overdue)} } " " }
                    if row.severity == Severity::Major { span { class: "badge bad", {i18n::severity(lang, row.severity)} } " " }
                    "{row.description}"
                }
                span { class: "row-sub",
                    "{row.zone} · {tr(lang, T::DueOn)} "
                    {row.deadline.map(|d| d.format("%m-%d").to_string()).unwrap_or_default()}
                    " · {i18n::problem_status(lang, row.status)}"
                }
            }
        }
    }
}

/// Recording the fix of a problem.
#[component]
pub fn RectifyProblem(
    lang: Lang,
    row: ProblemRow,
    photos: usize,
    photo_busy: bool,
    error: Option<String>,
    on_photo: EventHandler<Vec<Picked>>,
    on_submit: EventHandler<String>,
    on_back: EventHandler<()>,
) -> Element {
    let mut note = use_signal(String::new);
    let can_fix = row.status.awaits_rectification();
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::MyProblems)}" }
        h1 { "{row.description}" }
        p { class: "dim",
            "{row.zone} · {i18n::severity(lang, row.severity)} · {tr(lang, T::DueOn)} "
            {row.deadline.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()}
        }
        if row.overdue { p { class: "error", {tr(lang, T::Overdue)} } }
        if !row.measure.is_empty() {
            h2 { {tr(lang, T::Measure)} }
            p { "{row.measure}" }
        }
        p { class: "dim", {i18n::problem_status(lang, row.status)} }
        if can_fix {
            label { r#for: "fix-note", {tr(lang, T::FixNote)} }
            textarea { id: "fix-note", rows: "3", oninput: move |e| note.set(e.value()) }
            PhotoButton { lang, label: T::AfterPhoto, testid: "after-photo", busy: photo_busy, on_pick: on_photo }
            if photos > 0 {
                span { class: "photos", "{tr(lang, T::PhotoCount)} {photos}" }
            }
            if let Some(text) = error {
                p { class: "error", role: "alert", "{text}" }
            }
            button { class: "primary", "data-testid": "submit-fix", disabled: photo_busy,
                onclick: move |_| on_submit.call(note()),
                {tr(lang, T::Rectify)}
            }
        }
    }
}
