//! The month's scoring: the holder's self-score and the secretary's assessment of each zone,
//! with the self-score and the suggested scores (and why) beside each item.

use std::collections::BTreeMap;

use dioxus::prelude::*;
use zonepatrol_shared::Points;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::rules::AssessmentForm;
use zonepatrol_shared::rules::period::Period;
use zonepatrol_shared::rules::suggest::Suggestion;

use crate::i18n::{self, Lang, T, tr};
use crate::records::assessment::{
    MonthRow, Scorer, assessment_view, chosen_month, month_rows, score_form,
};
use crate::records::draft::{Form, ScoreBody};
use crate::store::Session;
use crate::ui::draft::use_draft;
use crate::ui::history::HistoryLink;
use crate::ui::pick::Pick;
use crate::ui::{Screen, Ui, Unavailable};

/// One tap on a score's − or +.
pub const STEP: Points = Points(50);

/// A score moved by one step, kept from 0 to the item's maximum.
pub fn stepped(points: Points, up: bool, max: Points) -> Points {
    let moved = if up { points + STEP } else { points - STEP };
    moved.at_least_zero().min(max)
}

/// The zones of the month with their scores so far.
#[component]
pub fn MonthList(
    lang: Lang,
    title: T,
    month: String,
    this_month: bool,
    rows: Vec<MonthRow>,
    on_month: EventHandler<bool>,
    on_open: EventHandler<String>,
    on_back: EventHandler<()>,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, title)} }
        div { class: "choices",
            button { class: "choice", "aria-pressed": "{this_month}", "data-testid": "this-month",
                onclick: move |_| on_month.call(true), {tr(lang, T::ThisMonth)} }
            button { class: "choice", "aria-pressed": "{!this_month}", "data-testid": "last-month",
                onclick: move |_| on_month.call(false), {tr(lang, T::LastMonth)} }
        }
        h2 { "{month}" }
        if rows.is_empty() {
            p { class: "dim", {tr(lang, T::NoZones)} }
        }
        for row in rows {
            Pick { key: "{row.zone}", id: row.zone.clone(), class: "row", testid: "month-{row.zone}",
                on_pick: on_open,
                span { class: "row-main", "{row.name}" }
                span { class: "row-sub",
                    "{tr(lang, T::SelfScoreShort)} "
                    {row.self_total.map_or_else(|| tr(lang, T::NotFilled).to_owned(), |p| p.to_string())}
                    " · {tr(lang, T::BranchScore)} "
                    {row.branch_total.map_or_else(|| tr(lang, T::NotFilled).to_owned(), |p| p.to_string())}
                }
            }
        }
    }
}

/// The score form of one zone for a month: the month's items (ten by default), each with −
/// and +, the self-score and the suggestion beside it when the secretary assesses.
#[component]
pub fn ScoreSheet(
    lang: Lang,
    title: T,
    zone_name: String,
    month: String,
    form: AssessmentForm,
    start: BTreeMap<String, Points>,
    #[props(default)] self_score: BTreeMap<String, Points>,
    #[props(default)] suggestions: Vec<Suggestion>,
    note: String,
    error: Option<String>,
    /// Every change, to keep the draft.
    #[props(default)]
    on_change: EventHandler<(BTreeMap<String, Points>, String)>,
    on_submit: EventHandler<(BTreeMap<String, Points>, String)>,
    on_back: EventHandler<()>,
) -> Element {
    let mut values = use_signal(move || start);
    let mut remarks = use_signal(move || note);
    let changed = move || on_change.call((values(), remarks()));
    let total: Points = values().values().copied().sum();
    let full = form.full();
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Back)}" }
        h1 { "{zone_name}" }
        p { class: "dim", "{tr(lang, title)} · {month}" }
        for item in form.items.iter().cloned() {
            div { key: "{item.key}", class: "item", "data-testid": "score-{item.key}",
                div { class: "rule",
                    span { class: "rule-text", {item.label(lang).to_owned()} " "
                        span { class: "dim", "/ {item.max}" }
                    }
                    button { "aria-label": "−", "data-testid": "down-{item.key}",
                        onclick: {
                            let (key, max) = (item.key.clone(), item.max);
                            move |_| {
                                {
                                    let mut v = values.write();
                                    let now = v.get(&key).copied().unwrap_or(max);
                                    v.insert(key.clone(), stepped(now, false, max));
                                }
                                changed();
                            }
                        },
                        "−"
                    }
                    span { class: "count", "data-testid": "value-{item.key}",
                        {values().get(&item.key).map(|p| p.to_string()).unwrap_or_default()}
                    }
                    button { "aria-label": "+", "data-testid": "up-{item.key}",
                        onclick: {
                            let (key, max) = (item.key.clone(), item.max);
                            move |_| {
                                {
                                    let mut v = values.write();
                                    let now = v.get(&key).copied().unwrap_or(max);
                                    v.insert(key.clone(), stepped(now, true, max));
                                }
                                changed();
                            }
                        },
                        "+"
                    }
                }
                if let Some(own) = self_score.get(&item.key) {
                    p { class: "dim", "{tr(lang, T::SelfScoreShort)} {own}" }
                }
                for s in suggestions.iter().filter(|s| s.item.key() == item.key) {
                    p { class: "hint",
                        "{tr(lang, T::Suggested)} {s.score}: "
                        {match lang { Lang::Zh => s.reason.text_zh(), Lang::En => s.reason.text_en() }}
                    }
                }
            }
        }
        label { r#for: "remarks", {tr(lang, T::Remarks)} }
        textarea { id: "remarks", "data-testid": "remarks", rows: "2", initial_value: "{remarks}",
            oninput: move |e| {
                remarks.set(e.value());
                changed();
            } }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        div { class: "total", role: "status",
            span { {tr(lang, T::Total)} }
            span { strong { "{total}" } " / {full}" }
        }
        button { class: "primary", "data-testid": "submit-scores",
            onclick: move |_| on_submit.call((values(), remarks())),
            {tr(lang, T::Submit)}
        }
    }
}

/// The page of the zones to score this month or last.
#[component]
pub(crate) fn MonthPage(session: Session, assess: bool, this_month: bool) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let month = chosen_month(&session.clock(), this_month);
    let rows = match month_rows(&ui.repo(), &session.user, month) {
        Ok(rows) => rows,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    rsx! {
        MonthList {
            lang,
            title: if assess { T::MonthlyAssessment } else { T::SelfScore },
            month: i18n::period(lang, month),
            this_month,
            rows,
            on_month: move |this_month| ui.go(Screen::Month { assess, this_month }),
            on_open: move |zone| ui.go(Screen::MonthZone { assess, zone, month }),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// The page of one zone's score form for a month: the self-score, or the secretary's
/// assessment.
#[component]
pub(crate) fn MonthZonePage(
    session: Session,
    assess: bool,
    zone: String,
    month: Period,
) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let this_month = month == chosen_month(&session.clock(), true);
    let me = session.user;
    let back = Screen::Month { assess, this_month };
    let view = match assessment_view(&ui.repo(), &me, &zone, month) {
        Ok(v) => v,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back, label: T::Back } };
        }
    };
    let by = Scorer::of_form(assess);
    let form = score_form(&view, by);
    let draft = use_draft::<ScoreBody>(
        &me.user,
        Form::Score {
            assess,
            zone: zone.clone(),
            month,
        },
        Default::default,
    );
    // A draft kept earlier wins over what was saved before it.
    let (start, note) = if draft.restored {
        let body = draft.body.peek().clone();
        (body.values, body.note)
    } else {
        (form.start, form.note)
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let done = back.clone();
    let record = DocId::assessment(&me.branch, &zone, month).to_string();
    let saved = ui.repo().heads(&record).ok().flatten().is_some();
    let here = Screen::MonthZone {
        assess,
        zone: zone.clone(),
        month,
    };
    rsx! {
        if draft.restored {
            p { class: "hint", "data-testid": "draft-restored", {tr(lang, T::DraftRestored)} }
        }
        ScoreSheet {
            lang,
            title: if assess { T::MonthlyAssessment } else { T::SelfScore },
            zone_name: view.name.clone(),
            month: i18n::period(lang, month),
            form: view.form.clone(),
            start,
            self_score: form.self_score,
            suggestions: form.suggestions,
            note,
            error,
            on_change: {
                let draft = draft.clone();
                move |(values, note)| draft.set(ScoreBody { values, note })
            },
            on_submit: move |(items, note): (BTreeMap<_, _>, String)| {
                if ui.saved(by.save(&ui.repo(), &me, &zone, month, &items, &note)).is_some() {
                    draft.finish();
                    ui.go(done.clone());
                    ui.confirm(T::Scored);
                }
            },
            on_back: move |_| ui.go(back.clone()),
        }
        // Once the month's assessment exists on the phone.
        if saved {
            HistoryLink { id: record, back: here }
        }
    }
}
