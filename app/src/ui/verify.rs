//! Verifying fixes: the "to verify" list of a secretary or an inspector, and one fix with the
//! finding, the measure, the before and after photos, where it is verified (销号) or sent back
//! to the holder with what is still wrong and, if given, a new deadline.

use chrono::NaiveDate;
use dioxus::prelude::*;

use crate::ui::date::{DateField, parse_date};
use zonepatrol_shared::Severity;
use zonepatrol_shared::docs::DocId;

use crate::i18n::{self, Lang, T, colon, tr};
use crate::records::problem::{Judgement, VerifyRow, judge, to_verify, to_verify_one};
use crate::records::today;
use crate::store::Session;
use crate::ui::history::HistoryLink;
use crate::ui::photo::{PhotoStrip, Shown, shown_thumbs};
use crate::ui::pick::Pick;
use crate::ui::{Screen, Ui, Unavailable};

/// A row of photos under a heading, with their marks, each opening full screen; a word where
/// a photo has not reached the phone.
#[component]
pub fn Thumbs(lang: Lang, label: T, photos: Vec<Shown>, testid: String) -> Element {
    rsx! {
        h2 { {tr(lang, label)} }
        PhotoStrip { lang, photos, testid }
    }
}

/// The fixes that wait for the user's verification, the oldest first.
#[component]
pub fn VerifyList(
    lang: Lang,
    rows: Vec<VerifyRow>,
    on_open: EventHandler<String>,
    on_back: EventHandler<()>,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::ToVerify)} }
        if rows.is_empty() {
            p { class: "dim", {tr(lang, T::NoFixesToVerify)} }
        }
        for row in rows {
            Pick { key: "{row.name}", id: row.name.clone(), class: "row",
                testid: "verify-{row.name}",
                on_pick: on_open,
                span { class: "row-main",
                    if row.severity == Severity::Major { span { class: "badge bad", {i18n::severity(lang, row.severity)} } " " }
                    "{row.description}"
                }
                span { class: "row-sub", "{row.zone} · {tr(lang, T::FixedBy)} {row.fixed_by}" }
            }
        }
    }
}

/// One fix to verify or send back.
#[component]
pub fn VerifyFix(
    lang: Lang,
    row: VerifyRow,
    before: Vec<Shown>,
    after: Vec<Shown>,
    error: Option<String>,
    on_judge: EventHandler<Judgement>,
    on_back: EventHandler<()>,
    /// Today at the mine, for the new deadline's quick picks.
    #[props(default)]
    today: Option<NaiveDate>,
) -> Element {
    let mut note = use_signal(String::new);
    let mut deadline = use_signal(String::new);
    let mut bad_date = use_signal(|| false);
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::ToVerify)}" }
        h1 { "{row.description}" }
        p { class: "dim",
            "{row.zone} · {i18n::severity(lang, row.severity)} · {tr(lang, T::DueOn)} "
            {row.deadline.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()}
        }
        if !row.measure.is_empty() {
            h2 { {tr(lang, T::Measure)} }
            p { "{row.measure}" }
        }
        Thumbs { lang, label: T::BeforePhotos, photos: before, testid: "before-photos" }
        Thumbs { lang, label: T::AfterPhotos, photos: after, testid: "after-photos" }
        p { "data-testid": "fix-note", "{tr(lang, T::FixedBy)} {row.fixed_by}"
            if !row.fix_note.is_empty() { "{colon(lang)}{row.fix_note}" }
        }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        button { class: "primary", "data-testid": "submit-verify",
            onclick: move |_| on_judge.call(Judgement::Verified),
            {tr(lang, T::VerifyFix)}
        }
        label { r#for: "reopen-note", {tr(lang, T::ReopenNote)} }
        textarea { id: "reopen-note", "data-testid": "reopen-note", rows: "3",
            oninput: move |e| note.set(e.value()) }
        label { r#for: "reopen-deadline", {tr(lang, T::NewDeadline)} }
        DateField { lang, id: "reopen-deadline", value: deadline(), today, picks: vec![3, 7, 15],
            min: today, on_change: move |v| deadline.set(v) }
        if bad_date() {
            p { class: "error", role: "alert", "data-testid": "reopen-bad-date", {tr(lang, T::DateFormat)} }
        }
        button { class: "wide", "data-testid": "submit-reopen",
            onclick: move |_| {
                // A deadline typed but not read is said, never dropped.
                let typed = deadline();
                let day = parse_date(&typed);
                bad_date.set(day.is_none() && !typed.trim().is_empty());
                if !bad_date() {
                    on_judge.call(Judgement::Reopened { note: note(), deadline: day });
                }
            },
            {tr(lang, T::ReopenFix)}
        }
    }
}

/// The page of the fixes the user may verify.
#[component]
pub(crate) fn VerifyListPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let rows = to_verify(&ui.repo(), &session.user).unwrap_or_default();
    rsx! {
        VerifyList {
            lang: (ui.lang)(),
            rows,
            on_open: move |name| ui.go(Screen::Verify(name)),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// The page that verifies or sends back one fix.
#[component]
pub(crate) fn VerifyPage(session: Session, name: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = session.user;
    let Some(row) = to_verify_one(&repo, &me, &name) else {
        return rsx! { Unavailable { message: tr(lang, T::NothingToVerify).to_owned(), back: Screen::ToVerify, label: T::ToVerify } };
    };
    let (before, after) = (
        shown_thumbs(&repo, &row.before),
        shown_thumbs(&repo, &row.after),
    );
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let record = DocId::problem(&me.branch, &name).to_string();
    let here = Screen::Verify(name.clone());
    rsx! {
        VerifyFix {
            lang,
            row,
            before,
            after,
            error,
            today: Some(today(&repo.clock())),
            on_judge: move |judgement: Judgement| {
                let repo = ui.repo();
                let done = judge(&repo, &me, &name, &judgement, today(&repo.clock()));
                if ui.saved(done).is_some() {
                    ui.go(Screen::ToVerify);
                    ui.confirm(match judgement {
                        Judgement::Verified => T::FixVerified,
                        Judgement::Reopened { .. } => T::FixReopened,
                    });
                }
            },
            on_back: move |_| ui.go(Screen::ToVerify),
        }
        HistoryLink { id: record, back: here }
    }
}
