//! Starting a patrol, and a patrol's zone list: open a zone from the list or by scanning the
//! QR code on its placard, see what is scored, close the patrol.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use dioxus::prelude::*;

use crate::ui::date::{DateField, parse_date};
use zonepatrol_shared::PatrolKind;

use crate::i18n::{self, Lang, T, tr};
use crate::photo::{PhotoError, PhotoSettings};
use crate::records::patrol::{
    PatrolInput, ZoneRow, close_patrol, patrol_zones, start_choices, start_patrol, zone_from_code,
};
use crate::records::{self, today};
use crate::store::Session;
use crate::ui::photo::{PhotoButton, Picked};
use crate::ui::pick::{Pick, toggle};
use crate::ui::{Screen, Ui, Unavailable};

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
        date: parse_date(day),
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
        DateField { lang, id: "day", value: day(), today: Some(today), picks: vec![0], on_change: move |v| day.set(v) }
        h2 { {tr(lang, T::Zones)} }
        for (id, name) in zones {
            Pick { key: "{id}", id: id.clone(), class: "check", testid: "zone-{id}",
                pressed: chosen().contains(&id), on_pick: move |id| toggle(&mut chosen.write(), id),
                "{name}"
            }
        }
        if !members.is_empty() {
            h2 { {tr(lang, T::Inspectors)} }
            for (id, name) in members {
                Pick { key: "{id}", id: id.clone(), class: "check", testid: "inspector-{id}",
                    pressed: inspectors().contains(&id),
                    on_pick: move |id| toggle(&mut inspectors.write(), id),
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
            Pick { key: "{row.id}", id: row.id.clone(), class: "row", testid: "open-{row.id}",
                on_pick: on_open,
                span { class: "row-main", "{row.name}" }
                span { class: "row-sub",
                    if !row.location.is_empty() { "{row.location} · " }
                    match &row.score {
                        Some(s) => rsx! { strong { "{s.total}" } " / {s.max}" },
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

/// The start-patrol page.
#[component]
pub(crate) fn StartPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = session.user;
    let choices = match start_choices(&repo, &me) {
        Ok(c) => c,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        StartPatrol {
            lang,
            today: today(&repo.clock()),
            zones: choices.zones,
            members: choices.members,
            error,
            on_start: move |input: PatrolInput| {
                let repo = ui.repo();
                if let Some(name) = ui.saved(start_patrol(&repo, &me, &input)) {
                    let mut ui = ui;
                    ui.screen.set(Screen::Patrol(name));
                }
            },
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// A patrol's page: its zones, the placard scanner, closing it.
#[component]
pub(crate) fn PatrolPage(session: Session, patrol: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = crate::records::patrol::acting(&session.user, &patrol);
    let mut scanning = use_signal(|| false);
    let (p, rows) = match records::patrol::patrol(&repo, &me, &patrol)
        .and_then(|p| Ok((p, patrol_zones(&repo, &me, &patrol)?)))
    {
        Ok(x) => x,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let scan_rows = rows.clone();
    let scan_branch = me.branch.clone();
    let (open_patrol, scan_patrol, close_name) = (patrol.clone(), patrol.clone(), patrol);
    let close_me = me.clone();
    rsx! {
        PatrolZones {
            lang,
            kind: p.plan.kind,
            day: p.plan.date.map(|d| d.0),
            rows,
            leader: p.plan.leader == me.user,
            closed: p.closed_at.is_some(),
            scanning: scanning(),
            error,
            on_open: move |zone| ui.go(Screen::Zone { patrol: open_patrol.clone(), zone }),
            on_scan: move |picked: Vec<Picked>| {
                let rows = scan_rows.clone();
                let branch = scan_branch.clone();
                let patrol = scan_patrol.clone();
                scanning.set(true);
                spawn(async move {
                    let found = scan(picked).await;
                    scanning.set(false);
                    let lang = (ui.lang)();
                    match found {
                        Ok(Some(code)) => match zone_from_code(&code, &branch, &rows) {
                            Ok(zone) => ui.go(Screen::Zone { patrol, zone }),
                            Err(t) => ui.failed(format!("{}: {code}", tr(lang, t))),
                        },
                        Ok(None) => ui.failed(tr(lang, T::NoCodeFound).to_owned()),
                        Err(e) => ui.failed(crate::i18n::photo_error(lang, &e)),
                    }
                });
            },
            on_close: move |_| {
                let repo = ui.repo();
                if ui.saved(close_patrol(&repo, &close_me, &close_name)).is_some() {
                    ui.go(Screen::Home);
                }
            },
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// Reads the QR code in a photo of a placard, off the UI thread: the code's text, or none.
async fn scan(picked: Vec<Picked>) -> Result<Option<String>, PhotoError> {
    let Some(first) = picked.into_iter().next() else {
        return Ok(None);
    };
    tokio::task::spawn_blocking(move || {
        let settings = PhotoSettings::default();
        let bytes = match first {
            Picked::Path(path) => crate::photo::read_file(&path, &settings)?,
            Picked::Bytes(bytes) => bytes,
        };
        crate::qr::read(&bytes, &settings)
    })
    .await
    .map_err(|_| PhotoError::Interrupted)?
}
