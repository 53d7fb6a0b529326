//! Starting a patrol, and a patrol's zone list: open a zone from the list or by scanning the
//! QR code on its placard, see what is scored, close the patrol.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use dioxus::prelude::*;
use zonepatrol_shared::PatrolKind;

use crate::field::{PatrolInput, ZoneRow};
use crate::i18n::{self, Lang, T, tr};
use crate::ui::photo::{PhotoButton, Picked};

/// The kinds of patrol, in the order the screen offers them.
pub const KINDS: [PatrolKind; 4] = [
    PatrolKind::Weekly,
    PatrolKind::TenDay,
    PatrolKind::MonthlySelfCheck,
    PatrolKind::SpotCheck,
];

/// What the start screen hands over: the zones in the directory's order, those chosen.
pub fn patrol_input(
    kind: PatrolKind,
    day: &str,
    zones: &[(String, String)],
    chosen: &BTreeSet<String>,
    inspectors: &BTreeSet<String>,
) -> PatrolInput {
    PatrolInput {
        kind,
        date: NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok(),
        zones: zones
            .iter()
            .filter(|(id, _)| chosen.contains(id))
            .map(|(id, _)| id.clone())
            .collect(),
        inspectors: inspectors.iter().cloned().collect(),
    }
}

/// Starting a patrol: kind, day, zones (all, to begin with) and the other inspectors.
#[component]
pub fn StartPatrol(
    lang: Lang,
    today: NaiveDate,
    zones: Vec<(String, String)>,
    members: Vec<(String, String)>,
    error: Option<String>,
    on_start: EventHandler<PatrolInput>,
    on_back: EventHandler<()>,
) -> Element {
    let mut kind = use_signal(|| PatrolKind::Weekly);
    let mut day = use_signal(|| today.format("%Y-%m-%d").to_string());
    let all: BTreeSet<String> = zones.iter().map(|(id, _)| id.clone()).collect();
    let mut chosen = use_signal(move || all);
    let mut inspectors = use_signal(BTreeSet::<String>::new);
    let order = zones.clone();
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Back)}" }
        h1 { {tr(lang, T::StartPatrol)} }
        h2 { {tr(lang, T::ChoosePatrolKind)} }
        div { class: "choices",
            for k in KINDS {
                button { key: "{k:?}", class: "choice", "aria-pressed": "{kind() == k}",
                    "data-testid": "kind-{k:?}",
                    onclick: move |_| kind.set(k),
                    {i18n::patrol_kind(lang, k)}
                }
            }
        }
        label { r#for: "day", {tr(lang, T::Day)} }
        input { id: "day", r#type: "date", initial_value: "{day}", oninput: move |e| day.set(e.value()) }
        h2 { {tr(lang, T::Zones)} }
        for (id, name) in zones {
            button { key: "{id}", class: "check", "aria-pressed": "{chosen().contains(&id)}",
                "data-testid": "zone-{id}",
                onclick: {
                    let id = id.clone();
                    move |_| {
                        let mut set = chosen.write();
                        if !set.remove(&id) {
                            set.insert(id.clone());
                        }
                    }
                },
                "{name}"
            }
        }
        if !members.is_empty() {
            h2 { {tr(lang, T::Inspectors)} }
            for (id, name) in members {
                button { key: "{id}", class: "check", "aria-pressed": "{inspectors().contains(&id)}",
                    "data-testid": "inspector-{id}",
                    onclick: {
                        let id = id.clone();
                        move |_| {
                            let mut set = inspectors.write();
                            if !set.remove(&id) {
                                set.insert(id.clone());
                            }
                        }
                    },
                    "{name}"
                }
            }
        }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        button { class: "primary", "data-testid": "start",
            onclick: move |_| on_start.call(patrol_input(kind(), &day(), &order, &chosen(), &inspectors())),
            {tr(lang, T::Start)}
        }
    }
}

/// A patrol's zones: tap one to score it, or scan its placard.
#[component]
pub fn PatrolZones(
    lang: Lang,
    kind: PatrolKind,
    day: Option<NaiveDate>,
    rows: Vec<ZoneRow>,
    leader: bool,
    closed: bool,
    scanning: bool,
    error: Option<String>,
    on_open: EventHandler<String>,
    on_scan: EventHandler<Vec<Picked>>,
    on_close: EventHandler<()>,
    on_back: EventHandler<()>,
) -> Element {
    let day = day
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {i18n::patrol_kind(lang, kind)} " " span { class: "dim", "{day}" } }
        if closed {
            p { class: "dim", {tr(lang, T::PatrolClosed)} }
        } else {
            PhotoButton { lang, label: T::ScanPlacard, testid: "scan", busy: scanning, on_pick: on_scan }
        }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        h2 { {tr(lang, T::Zones)} }
        for row in rows {
            button { key: "{row.id}", class: "row", "data-testid": "open-{row.id}",
                onclick: {
                    let id = row.id.clone();
                    move |_| on_open.call(id.clone())
                },
                span { class: "row-main", "{row.name}" }
                span { class: "row-sub",
                    if !row.location.is_empty() { "{row.location} · " }
                    match &row.score {
                        Some((total, max)) => rsx! { strong { "{total}" } " / {max}" },
                        None => rsx! { {tr(lang, T::NotScored)} },
                    }
                }
            }
        }
        if leader && !closed {
            button { class: "wide", "data-testid": "close-patrol", onclick: move |_| on_close.call(()),
                {tr(lang, T::ClosePatrol)}
            }
        }
    }
}
