//! Scoring one zone: every item of its checklist with its deductions, a tap to deduct, a tap
//! to take one back, N/A, a note and photos on each item, a problem raised from any item, and
//! the running total always on screen.

use std::rc::Rc;

use dioxus::prelude::*;
use zonepatrol_shared::docs::Marks;
use zonepatrol_shared::rules::scoring::ItemScore;

use crate::i18n::{Lang, T, tr};
use crate::records::problem::raises_problems;
use crate::records::sheet::{ItemEdit, Mark, ZoneView, edit_item, mark, zone_screen, zone_view};
use crate::store::Session;
use crate::ui::photo::{PhotoButton, PhotoStrip, Picked, Shown, data_address, use_photo_import};
use crate::ui::{Screen, Ui, Unavailable};

/// The score screen of a zone. Every tap is sent as a [`Mark`]; the caller saves it.
/// `busy_item` is the item whose photo is being processed.
#[component]
pub fn ScoreZone(
    lang: Lang,
    zone_name: String,
    view: ZoneView,
    #[props(default)] busy_item: Option<String>,
    on_mark: EventHandler<Mark>,
    #[props(default)] on_photo: EventHandler<(String, Vec<Picked>)>,
    /// The items' thumbnails as `data:` addresses, by the thumbnail's hash.
    #[props(default)]
    thumbs: std::collections::BTreeMap<String, String>,
    /// A photo taken off an item: (item, the photo's hash).
    #[props(default)]
    on_remove_photo: EventHandler<(String, String)>,
    /// What the inspector marked on an item's photo: (item, the photo's hash, the marks).
    #[props(default)]
    on_mark_photo: EventHandler<(String, String, Marks)>,
    #[props(default)] on_note: EventHandler<(String, String)>,
    #[props(default = true)] can_raise: bool,
    #[props(default)] on_raise: EventHandler<String>,
    #[props(default)] next: Option<String>,
    #[props(default)] on_next: EventHandler<String>,
    #[props(default)] on_back: EventHandler<()>,
) -> Element {
    let total = view.score.total;
    let max = view.score.max;
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Zones)}" }
        h1 { "{zone_name}" }
        for item in view.items.iter().cloned() {
            div {
                key: "{item.id}",
                class: if item.not_applicable { "item na" } else { "item" },
                "data-testid": "item-{item.id}",
                div { class: "item-head",
                    span { "{item.text}" }
                    span { class: "item-score",
                        match item.score {
                            ItemScore::Scored(s) => rsx! { "{s}/{item.max}" },
                            ItemScore::NotApplicable => rsx! { {tr(lang, T::NotApplicable)} },
                        }
                    }
                }
                if !item.not_applicable {
                    for rule in item.rules.iter().cloned() {
                        div { class: "rule", key: "{rule.id}",
                            span { class: "rule-text",
                                "{rule.text} −{rule.points}"
                                if rule.needs_photo && item.photos.is_empty() {
                                    span { class: "warn", " · {tr(lang, T::PhotoNeeded)}" }
                                }
                            }
                            button {
                                "aria-label": "−1",
                                "data-testid": "undo-{item.id}-{rule.id}",
                                disabled: rule.count == 0,
                                onclick: {
                                    let (item, rule) = (item.id.clone(), rule.id.clone());
                                    move |_| on_mark.call(Mark::Undo { item: item.clone(), rule: rule.clone() })
                                },
                                "−"
                            }
                            span { class: "count", "data-testid": "count-{item.id}-{rule.id}", "{rule.count}" }
                            button {
                                "aria-label": "+1",
                                "data-testid": "deduct-{item.id}-{rule.id}",
                                onclick: {
                                    let (item, rule) = (item.id.clone(), rule.id.clone());
                                    move |_| on_mark.call(Mark::Deduct { item: item.clone(), rule: rule.clone() })
                                },
                                "+"
                            }
                        }
                    }
                }
                div { class: "item-tools",
                    button {
                        "data-testid": "na-{item.id}",
                        "aria-pressed": "{item.not_applicable}",
                        onclick: {
                            let (id, on) = (item.id.clone(), !item.not_applicable);
                            move |_| on_mark.call(Mark::NotApplicable { item: id.clone(), on })
                        },
                        {tr(lang, T::NotApplicable)}
                    }
                    PhotoButton {
                        lang,
                        label: T::AddPhoto,
                        testid: "photo-{item.id}",
                        busy: busy_item.as_deref() == Some(item.id.as_str()),
                        on_pick: {
                            let id = item.id.clone();
                            move |picked| on_photo.call((id.clone(), picked))
                        },
                    }
                    if !item.photos.is_empty() {
                        span { class: "photos", "data-testid": "photos-{item.id}", "{tr(lang, T::PhotoCount)} {item.photos.len()}" }
                        PhotoStrip { lang, testid: "thumbs-{item.id}",
                            photos: item.photos.iter().map(|p| Shown {
                                hash: p.hash.clone(),
                                thumb: thumbs.get(&p.thumb).cloned(),
                                size: p.size,
                                marks: p.marks.clone(),
                            }).collect::<Vec<_>>(),
                            removable: true,
                            on_remove: {
                                let id = item.id.clone();
                                move |hash: String| on_remove_photo.call((id.clone(), hash))
                            },
                            markable: true,
                            on_mark: {
                                let id = item.id.clone();
                                move |(hash, marks): (String, Marks)| on_mark_photo.call((id.clone(), hash, marks))
                            },
                        }
                    }
                    if can_raise { button {
                        "data-testid": "raise-{item.id}",
                        onclick: {
                            let id = item.id.clone();
                            move |_| on_raise.call(id.clone())
                        },
                        {tr(lang, T::RaiseProblem)}
                    } }
                }
                textarea {
                    class: "note",
                    "aria-label": tr(lang, T::ItemNote),
                    placeholder: tr(lang, T::ItemNote),
                    "data-testid": "note-{item.id}",
                    rows: "1",
                    initial_value: "{item.note}",
                    // Saved when the field is left; typing is never slowed by saving.
                    onchange: {
                        let id = item.id.clone();
                        move |e: FormEvent| on_note.call((id.clone(), e.value()))
                    },
                }
            }
        }
        if let Some(next) = next {
            button { class: "wide", "data-testid": "next-zone", onclick: move |_| on_next.call(next.clone()),
                {tr(lang, T::NextZone)} " ›"
            }
        }
        div { class: "total", role: "status", "data-testid": "running-total",
            span { {tr(lang, T::RunningTotal)} }
            span { strong { "{total}" } " / {max}" }
        }
    }
}

/// The score page of a zone on a patrol: every tap, note and photo is saved at once.
#[component]
pub(crate) fn ZonePage(session: Session, patrol: String, zone: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let visitor = crate::records::patrol::visitor(&session.user, &patrol);
    let me = crate::records::patrol::acting(&session.user, &patrol);
    let photos = use_photo_import::<String>();
    let (work, next) = match zone_screen(&repo, &me, &patrol, &zone) {
        Ok(w) => w,
        Err(e) => {
            let back = patrol.clone();
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Patrol(back), label: T::Zones } };
        }
    };
    let view = zone_view(&work.template, &work.marks);
    let template = work.template_id.clone();
    let can_raise = raises_problems(&me) && !visitor;
    let ctx = Rc::new((me, patrol, zone, template));
    let (c1, c2, c3, c4, c5, c6, c7, c8) = (
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
    );
    // The stored thumbnails of the items' photos, read from the phone.
    let thumbs: std::collections::BTreeMap<String, String> = view
        .items
        .iter()
        .flat_map(|i| i.photos.iter())
        .filter_map(|p| data_address(&repo, &p.thumb).map(|a| (p.thumb.clone(), a)))
        .collect();
    rsx! {
        ScoreZone {
            lang,
            zone_name: work.name.clone(),
            view,
            busy_item: photos.busy(),
            on_mark: move |tap| {
                let (me, patrol, zone, template) = &*c1;
                ui.saved(mark(&ui.repo(), me, patrol, zone, template, &tap));
            },
            on_photo: move |(item, picked): (String, Vec<Picked>)| {
                let (me, patrol, zone, template) = (*c2).clone();
                let repo = ui.repo();
                // The photo is attached even if the inspector has moved on to another zone.
                photos.start_forever(item.clone(), picked, move |added| {
                    for photo in added {
                        let edit = ItemEdit::Photo(&photo);
                        let saved = edit_item(&repo, &me, &patrol, &zone, &template, &item, edit);
                        if ui.saved(saved).is_none() {
                            break;
                        }
                    }
                });
            },
            thumbs,
            on_remove_photo: move |(item, hash): (String, String)| {
                let (me, patrol, zone, template) = &*c7;
                let edit = ItemEdit::RemovePhoto(&hash);
                ui.saved(edit_item(&ui.repo(), me, patrol, zone, template, &item, edit));
            },
            on_mark_photo: move |(item, hash, marks): (String, String, Marks)| {
                let (me, patrol, zone, template) = &*c8;
                let edit = ItemEdit::MarkPhoto(&hash, &marks);
                ui.saved(edit_item(&ui.repo(), me, patrol, zone, template, &item, edit));
            },
            on_note: move |(item, note): (String, String)| {
                let (me, patrol, zone, template) = &*c3;
                let edit = ItemEdit::Note(&note);
                ui.saved(edit_item(&ui.repo(), me, patrol, zone, template, &item, edit));
            },
            can_raise,
            on_raise: move |item| {
                let (_, patrol, zone, _) = &*c4;
                ui.go(Screen::Raise { patrol: patrol.clone(), zone: zone.clone(), item: Some(item) });
            },
            next,
            on_next: move |zone| ui.go(Screen::Zone { patrol: c5.1.clone(), zone }),
            on_back: move |_| ui.go(Screen::Patrol(c6.1.clone())),
        }
    }
}
