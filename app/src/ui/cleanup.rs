//! The team leader's cleanup log: zone, team, day, who took part (person-times), the work done
//! with quantity and unit, photos before and after.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use dioxus::prelude::*;

use crate::ui::date::{DateField, parse_date};
use zonepatrol_shared::docs::{Marks, WorkItem};
use zonepatrol_shared::validate::limits::WORK_DAYS_AHEAD;

use crate::i18n::{Lang, T, tr};
use crate::records::cleanup::{CleanupInput, cleanup_choices, log_cleanup, quantity_milli};
use crate::records::draft::{CleanupBody, Form};
use crate::records::today;
use crate::store::{PhotoRecord, Session};
use crate::ui::draft::use_draft;
use crate::ui::photo::{PhotoButton, PhotoStrip, Picked, Shown, shown, use_photo_import};
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
    /// What a draft kept earlier holds.
    #[props(default)]
    start: CleanupBody,
    /// The before-photos taken so far, as thumbnails.
    #[props(default)]
    before_shown: Vec<Shown>,
    /// The after-photos taken so far, as thumbnails.
    #[props(default)]
    after_shown: Vec<Shown>,
    /// A photo taken off the form.
    #[props(default)]
    on_remove: EventHandler<String>,
    /// A photo's new marks.
    #[props(default)]
    on_mark: EventHandler<(String, Marks)>,
    on_photo: EventHandler<(bool, Vec<Picked>)>,
    /// Every change, to keep the draft (its photos are the page's).
    #[props(default)]
    on_change: EventHandler<CleanupBody>,
    on_submit: EventHandler<CleanupDraft>,
    on_back: EventHandler<()>,
) -> Element {
    let first = if !start.zone.is_empty() {
        start.zone.clone()
    } else if zones.len() == 1 {
        zones[0].0.clone()
    } else {
        String::new()
    };
    let CleanupBody {
        team: start_team,
        day: start_day,
        people: start_people,
        extra: start_extra,
        items: start_items,
        note: start_note,
        ..
    } = start;
    let mut zone = use_signal(move || first);
    let mut team = use_signal(move || {
        if start_team.is_empty() {
            team
        } else {
            start_team
        }
    });
    let mut day = use_signal(move || {
        if start_day.is_empty() {
            today.format("%Y-%m-%d").to_string()
        } else {
            start_day
        }
    });
    let mut people = use_signal(move || start_people.into_iter().collect::<BTreeSet<String>>());
    let mut extra = use_signal(move || start_extra);
    let mut items = use_signal(move || {
        if start_items.is_empty() {
            vec![(String::new(), String::new(), String::new())]
        } else {
            start_items
        }
    });
    let mut note = use_signal(move || start_note);
    let person_times = people().len() as u64 + extra();
    let changed = move || {
        on_change.call(CleanupBody {
            zone: zone(),
            team: team(),
            day: day(),
            people: people().into_iter().collect(),
            extra: extra(),
            items: items(),
            note: note(),
            after: Vec::new(),
        })
    };
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::LogCleanup)} }
        h2 { {tr(lang, T::Zones)} }
        for (id, name) in zones {
            Pick { key: "{id}", id: id.clone(), class: "check", testid: "cleanup-zone-{id}",
                pressed: zone() == id, on_pick: move |id| {
                    zone.set(id);
                    changed();
                },
                "{name}"
            }
        }
        label { r#for: "team", {tr(lang, T::Team)} }
        input { id: "team", initial_value: "{team}", oninput: move |e| {
            team.set(e.value());
            changed();
        } }
        label { r#for: "cleanup-day", {tr(lang, T::Day)} }
        DateField { lang, id: "cleanup-day", value: day(), today: Some(today), picks: vec![0],
            // A cleanup is logged for a day that has come (the server allows a day ahead).
            max: today.checked_add_days(chrono::Days::new(WORK_DAYS_AHEAD)),
            on_change: move |v| {
                day.set(v);
                changed();
            } }
        h2 { {tr(lang, T::Participants)} }
        for (id, name) in members {
            Pick { key: "{id}", id: id.clone(), class: "check", testid: "participant-{id}",
                pressed: people().contains(&id), on_pick: move |id| {
                    toggle(&mut people.write(), id);
                    changed();
                },
                "{name}"
            }
        }
        div { class: "rule",
            span { class: "rule-text", {tr(lang, T::PersonTimes)} }
            button { "aria-label": "−1", disabled: extra() == 0, onclick: move |_| {
                extra.set(extra().saturating_sub(1));
                changed();
            }, "−" }
            span { class: "count", "data-testid": "person-times", "{person_times}" }
            button { "aria-label": "+1", onclick: move |_| {
                extra.set(extra() + 1);
                changed();
            }, "+" }
        }
        h2 { {tr(lang, T::WorkItems)} }
        for (n, (what, qty, unit)) in items().into_iter().enumerate() {
            div { key: "{n}", class: "work",
                input { placeholder: tr(lang, T::What), "aria-label": tr(lang, T::What), initial_value: "{what}",
                    oninput: move |e| {
                        items.write()[n].0 = e.value();
                        changed();
                    } }
                input { placeholder: tr(lang, T::Quantity), "aria-label": tr(lang, T::Quantity), inputmode: "decimal",
                    initial_value: "{qty}", oninput: move |e| {
                        items.write()[n].1 = e.value();
                        changed();
                    } }
                input { placeholder: tr(lang, T::Unit), "aria-label": tr(lang, T::Unit), initial_value: "{unit}",
                    oninput: move |e| {
                        items.write()[n].2 = e.value();
                        changed();
                    } }
            }
        }
        button { class: "wide", onclick: move |_| {
            items.write().push(Default::default());
            changed();
        }, "+ {tr(lang, T::AddWorkItem)}" }
        div { class: "item-tools",
            PhotoButton { lang, label: T::BeforePhoto, testid: "before-photo", busy,
                on_pick: move |p| on_photo.call((false, p)) }
            if before > 0 { span { class: "photos", "{before}" } }
            PhotoButton { lang, label: T::AfterCleanupPhoto, testid: "after-cleanup-photo", busy,
                on_pick: move |p| on_photo.call((true, p)) }
            if after > 0 { span { class: "photos", "{after}" } }
        }
        if !before_shown.is_empty() {
            h2 { {tr(lang, T::BeforePhotos)} }
            PhotoStrip { lang, photos: before_shown, testid: "cleanup-before-thumbs", removable: true, on_remove,
                markable: true, on_mark }
        }
        if !after_shown.is_empty() {
            h2 { {tr(lang, T::AfterPhotos)} }
            PhotoStrip { lang, photos: after_shown, testid: "cleanup-after-thumbs", removable: true, on_remove,
                markable: true, on_mark }
        }
        label { r#for: "cleanup-note", {tr(lang, T::Note)} }
        textarea { id: "cleanup-note", "data-testid": "cleanup-note", rows: "2", initial_value: "{note.peek()}",
            oninput: move |e| {
                note.set(e.value());
                changed();
            } }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        button { class: "primary", "data-testid": "submit-cleanup", disabled: busy,
            onclick: move |_| on_submit.call(CleanupDraft {
                zone: zone(),
                team: team(),
                date: parse_date(&day()),
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
    let draft = use_draft::<CleanupBody>(&me.user, Form::Cleanup, Default::default);
    let (body, photos) = (draft.body, draft.photos);
    let is_after = move |p: &PhotoRecord| body.read().after.contains(&p.hash);
    let before: Vec<PhotoRecord> = photos().into_iter().filter(|p| !is_after(p)).collect();
    let after: Vec<PhotoRecord> = photos().into_iter().filter(|p| is_after(p)).collect();
    // Whether the photos in progress are the "after" ones.
    let import = use_photo_import::<bool>();
    let choices = match cleanup_choices(&ui.repo(), &me) {
        Ok(c) => c,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let start = body.peek().clone();
    rsx! {
        if draft.restored {
            p { class: "hint", "data-testid": "draft-restored", {tr(lang, T::DraftRestored)} }
        }
        CleanupForm {
            lang,
            zones: choices.zones,
            team: choices.team,
            members: choices.members,
            today: today(&ui.repo().clock()),
            before: before.len(),
            after: after.len(),
            busy: import.busy().is_some(),
            error,
            start,
            before_shown: shown(&ui.repo(), &before, &(draft.marks)()),
            after_shown: shown(&ui.repo(), &after, &(draft.marks)()),
            on_mark: {
                let draft = draft.clone();
                move |(hash, marks): (String, Marks)| draft.set_marks(&hash, marks)
            },
            on_remove: {
                let draft = draft.clone();
                move |hash: String| {
                    let mut body = draft.body;
                    body.write().after.retain(|h| *h != hash);
                    draft.remove_photo(&hash);
                }
            },
            on_photo: {
                let draft = draft.clone();
                move |(for_after, picked): (bool, Vec<Picked>)| {
                    let draft = draft.clone();
                    import.start(for_after, picked, move |added| {
                        if for_after {
                            let mut body = draft.body;
                            body.write().after.extend(added.iter().map(|p| p.hash.clone()));
                        }
                        draft.add_photos(added);
                    });
                }
            },
            on_change: {
                let draft = draft.clone();
                move |mut typed: CleanupBody| {
                    typed.after = draft.body.peek().after.clone();
                    draft.set(typed);
                }
            },
            on_submit: move |typed: CleanupDraft| {
                let items = match work_items(&typed.items) {
                    Ok(items) => items,
                    Err(t) => {
                        ui.failed(tr(lang, t).to_owned());
                        return;
                    }
                };
                let input = CleanupInput {
                    zone: typed.zone,
                    team: typed.team,
                    date: typed.date,
                    participants: typed.participants,
                    person_times: typed.person_times,
                    items,
                    before: before.clone(),
                    after: after.clone(),
                    marks: draft.marks.peek().clone(),
                    note: typed.note,
                };
                if ui.saved(log_cleanup(&ui.repo(), &me, &input)).is_some() {
                    draft.finish();
                    ui.go(Screen::Home);
                    ui.confirm(T::CleanupLogged);
                }
            },
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}
