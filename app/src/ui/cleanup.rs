//! The team leader's cleanup log: zone, team, day, who took part (person-times), the work done
//! with quantity and unit, photos before and after.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use dioxus::prelude::*;
use zonepatrol_shared::docs::WorkItem;

use crate::i18n::{Lang, T, tr};
use crate::records::cleanup::{CleanupInput, cleanup_choices, log_cleanup, quantity_milli};
use crate::records::today;
use crate::store::{PhotoRecord, Session};
use crate::ui::photo::{PhotoButton, Picked, use_photo_import};
use crate::ui::pick::{Pick, toggle};
use crate::ui::{Screen, Ui, Unavailable};

/// What the form hands over; the caller adds the photos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupDraft {
    /// The zone.
    pub zone: String,
    /// The team.
    pub team: String,
    /// The day.
    pub date: Option<NaiveDate>,
    /// Who took part.
    pub participants: Vec<String>,
    /// Person-times.
    pub person_times: u64,
    /// Work items as typed: what, quantity, unit.
    pub items: Vec<(String, String, String)>,
    /// Notes.
    pub note: String,
}

/// The work items as typed, made into records: rows left empty are dropped; a row with a
/// quantity that is not a number is an error.
pub fn work_items(rows: &[(String, String, String)]) -> Result<Vec<WorkItem>, T> {
    rows.iter()
        .filter(|(what, qty, unit)| {
            !(what.trim().is_empty() && qty.trim().is_empty() && unit.trim().is_empty())
        })
        .map(|(what, qty, unit)| {
            let quantity_milli = quantity_milli(qty).ok_or(T::WorkItemIncomplete)?;
            Ok(WorkItem {
                what: what.trim().to_owned(),
                quantity_milli,
                unit: unit.trim().to_owned(),
            })
        })
        .collect()
}

/// The cleanup form.
#[component]
pub fn CleanupForm(
    lang: Lang,
    zones: Vec<(String, String)>,
    team: String,
    members: Vec<(String, String)>,
    today: NaiveDate,
    before: usize,
    after: usize,
    busy: bool,
    error: Option<String>,
    on_photo: EventHandler<(bool, Vec<Picked>)>,
    on_submit: EventHandler<CleanupDraft>,
    on_back: EventHandler<()>,
) -> Element {
    let first = if zones.len() == 1 {
        zones[0].0.clone()
    } else {
        String::new()
    };
    let mut zone = use_signal(move || first);
    let mut team = use_signal(move || team);
    let mut day = use_signal(move || today.format("%Y-%m-%d").to_string());
    let mut people = use_signal(BTreeSet::<String>::new);
    let mut extra = use_signal(|| 0u64);
    let mut items = use_signal(|| vec![(String::new(), String::new(), String::new())]);
    let mut note = use_signal(String::new);
    let person_times = people().len() as u64 + extra();
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::LogCleanup)} }
        h2 { {tr(lang, T::Zones)} }
        for (id, name) in zones {
            Pick { key: "{id}", id: id.clone(), class: "check", testid: "cleanup-zone-{id}",
                pressed: zone() == id, on_pick: move |id| zone.set(id),
                "{name}"
            }
        }
        label { r#for: "team", {tr(lang, T::Team)} }
        input { id: "team", initial_value: "{team}", oninput: move |e| team.set(e.value()) }
        label { r#for: "cleanup-day", {tr(lang, T::Day)} }
        input { id: "cleanup-day", r#type: "date", initial_value: "{day}", oninput: move |e| day.set(e.value()) }
        h2 { {tr(lang, T::Participants)} }
        for (id, name) in members {
            Pick { key: "{id}", id: id.clone(), class: "check", testid: "participant-{id}",
                pressed: people().contains(&id), on_pick: move |id| toggle(&mut people.write(), id),
                "{name}"
            }
        }
        div { class: "rule",
            span { class: "rule-text", {tr(lang, T::PersonTimes)} }
            button { "aria-label": "−1", disabled: extra() == 0, onclick: move |_| extra.set(extra().saturating_sub(1)), "−" }
            span { class: "count", "data-testid": "person-times", "{person_times}" }
            button { "aria-label": "+1", onclick: move |_| extra.set(extra() + 1), "+" }
        }
        h2 { {tr(lang, T::WorkItems)} }
        for (n, (what, qty, unit)) in items().into_iter().enumerate() {
            div { key: "{n}", class: "work",
                input { placeholder: tr(lang, T::What), "aria-label": tr(lang, T::What), initial_value: "{what}",
                    oninput: move |e| items.write()[n].0 = e.value() }
                input { placeholder: tr(lang, T::Quantity), "aria-label": tr(lang, T::Quantity), inputmode: "decimal",
                    initial_value: "{qty}", oninput: move |e| items.write()[n].1 = e.value() }
                input { placeholder: tr(lang, T::Unit), "aria-label": tr(lang, T::Unit), initial_value: "{unit}",
                    oninput: move |e| items.write()[n].2 = e.value() }
            }
        }
        button { class: "wide", onclick: move |_| items.write().push(Default::default()), "+ {tr(lang, T::AddWorkItem)}" }
        div { class: "item-tools",
            PhotoButton { lang, label: T::BeforePhoto, testid: "before-photo", busy,
                on_pick: move |p| on_photo.call((false, p)) }
            if before > 0 { span { class: "photos", "{before}" } }
            PhotoButton { lang, label: T::AfterCleanupPhoto, testid: "after-cleanup-photo", busy,
                on_pick: move |p| on_photo.call((true, p)) }
            if after > 0 { span { class: "photos", "{after}" } }
        }
        label { r#for: "cleanup-note", {tr(lang, T::Note)} }
        textarea { id: "cleanup-note", rows: "2", oninput: move |e| note.set(e.value()) }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        button { class: "primary", "data-testid": "submit-cleanup", disabled: busy,
            onclick: move |_| on_submit.call(CleanupDraft {
                zone: zone(),
                team: team(),
                date: NaiveDate::parse_from_str(day().trim(), "%Y-%m-%d").ok(),
                participants: people().into_iter().collect(),
                person_times,
                items: items(),
                note: note(),
            }),
            {tr(lang, T::Submit)}
        }
    }
}

/// The page that logs a cleanup led by the user.
#[component]
pub(crate) fn CleanupPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let me = session.user;
    let before = use_signal(Vec::<PhotoRecord>::new);
    let after = use_signal(Vec::<PhotoRecord>::new);
    // Whether the photos in progress are the "after" ones.
    let import = use_photo_import::<bool>();
    let choices = match cleanup_choices(&ui.repo(), &me) {
        Ok(c) => c,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        CleanupForm {
            lang,
            zones: choices.zones,
            team: choices.team,
            members: choices.members,
            today: today(&ui.repo().clock()),
            before: before().len(),
            after: after().len(),
            busy: import.busy().is_some(),
            error,
            on_photo: move |(is_after, picked): (bool, Vec<Picked>)| {
                let mut list = if is_after { after } else { before };
                import.start(is_after, picked, move |mut added| list.write().append(&mut added));
            },
            on_submit: move |draft: CleanupDraft| {
                let items = match work_items(&draft.items) {
                    Ok(items) => items,
                    Err(t) => {
                        ui.failed(tr(lang, t).to_owned());
                        return;
                    }
                };
                let input = CleanupInput {
                    zone: draft.zone,
                    team: draft.team,
                    date: draft.date,
                    participants: draft.participants,
                    person_times: draft.person_times,
                    items,
                    before: before(),
                    after: after(),
                    note: draft.note,
                };
                if ui.saved(log_cleanup(&ui.repo(), &me, &input)).is_some() {
                    ui.go(Screen::Home);
                    ui.confirm(T::CleanupLogged);
                }
            },
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}
