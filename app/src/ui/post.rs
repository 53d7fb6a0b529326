//! Demonstration posts (党员示范岗): the branch's posts with where each stands, the form a
//! member applies with (the five clears), and a post's page with its history and what the user
//! may do: approve or turn down an application (the secretary), record the quarterly review or
//! withdraw the title (the secretary or a manager).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use dioxus::prelude::*;

use crate::ui::date::{DateField, parse_date};
use zonepatrol_shared::docs::PostStatus;
use zonepatrol_shared::labels::{post_status_label, post_step_label};

use crate::i18n::{Lang, T, colon, tr};
use crate::records::post::{Application, PostAction, PostRow, actions, apply, decide, post, posts};
use crate::records::{directory, members, today};
use crate::store::Session;
use crate::ui::pick::{Pick, toggle};
use crate::ui::{Screen, Ui, Unavailable};

fn day_text(day: Option<NaiveDate>) -> String {
    day.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn status_class(status: PostStatus) -> &'static str {
    match status {
        PostStatus::Active => "badge",
        PostStatus::Proposed | PostStatus::Approved => "badge warn",
        _ => "badge bad",
    }
}

/// The branch's posts, with a button to apply for one.
#[component]
pub fn PostList(
    lang: Lang,
    rows: Vec<PostRow>,
    /// Whether the user may apply: a member of the branch.
    can_apply: bool,
    on_open: EventHandler<String>,
    on_apply: EventHandler<()>,
    on_back: EventHandler<()>,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::Posts)} }
        if can_apply {
            button { class: "wide", "data-testid": "apply-post", onclick: move |_| on_apply.call(()),
                {tr(lang, T::ApplyPost)}
            }
        }
        if rows.is_empty() {
            p { class: "dim", {tr(lang, T::NoPosts)} }
        }
        for row in rows {
            Pick { key: "{row.id}", id: row.id.clone(), class: "row", testid: "post-{row.id}",
                on_pick: on_open,
                span { class: "row-main", "{row.title} "
                    span { class: status_class(row.status), {post_status_label(lang, row.status)} }
                    if row.to_decide {
                        span { class: "badge", {tr(lang, T::PostToDecide)} }
                    }
                }
                span { class: "row-sub", "{row.zone} · {row.demonstrators.join(\"、\")}" }
            }
        }
    }
}

/// A member's application: the five clears and the duty.
#[component]
pub fn ApplyForm(
    lang: Lang,
    /// The zones: id and name.
    zones: Vec<(String, String)>,
    /// The other members: id and name.
    people: Vec<(String, String)>,
    error: Option<String>,
    on_apply: EventHandler<Application>,
    on_back: EventHandler<()>,
    /// Today at the mine, for the start date's quick pick.
    #[props(default)]
    today: Option<NaiveDate>,
) -> Element {
    let mut title = use_signal(String::new);
    let mut zone = use_signal(|| zones.first().map(|z| z.0.clone()).unwrap_or_default());
    let mut others = use_signal(BTreeSet::<String>::new);
    let mut standard = use_signal(String::new);
    let mut duty = use_signal(String::new);
    let mut assessor = use_signal(String::new);
    let mut assessment = use_signal(String::new);
    let mut starts = use_signal(String::new);
    let mut ends = use_signal(String::new);
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Posts)}" }
        h1 { {tr(lang, T::ApplyPost)} }
        label { r#for: "post-title", {tr(lang, T::PostTitle)} }
        input { id: "post-title", value: "{title}", maxlength: "100",
            oninput: move |e| title.set(e.value()) }
        label { r#for: "post-zone", {tr(lang, T::PostZone)} }
        select { id: "post-zone", onchange: move |e| zone.set(e.value()),
            for (id, name) in zones {
                option { key: "{id}", value: "{id}", selected: zone() == id, "{name}" }
            }
        }
        p { {tr(lang, T::PostDemonstrators)} }
        div { class: "choices",
            for (id, name) in people {
                Pick { key: "{id}", id: id.clone(), class: "choice", testid: "with-{id}",
                    pressed: Some(others().contains(&id)),
                    on_pick: move |id| toggle(&mut others.write(), id),
                    "{name}"
                }
            }
        }
        label { r#for: "post-standard", {tr(lang, T::PostStandard)} }
        textarea { id: "post-standard", rows: "3", oninput: move |e| standard.set(e.value()) }
        label { r#for: "post-duty", {tr(lang, T::PostDuty)} }
        textarea { id: "post-duty", rows: "2", oninput: move |e| duty.set(e.value()) }
        label { r#for: "post-assessor", {tr(lang, T::PostAssessor)} }
        input { id: "post-assessor", value: "{assessor}", maxlength: "100",
            oninput: move |e| assessor.set(e.value()) }
        label { r#for: "post-assessment", {tr(lang, T::PostAssessment)} }
        textarea { id: "post-assessment", rows: "3", oninput: move |e| assessment.set(e.value()) }
        label { r#for: "post-starts", {tr(lang, T::PostStarts)} }
        DateField { lang, id: "post-starts", value: starts(), today, picks: vec![0], on_change: move |v| starts.set(v) }
        label { r#for: "post-ends", {tr(lang, T::PostEnds)} }
        DateField { lang, id: "post-ends", value: ends(), min: parse_date(&starts()), on_change: move |v| ends.set(v) }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        button { class: "primary", "data-testid": "submit-post",
            onclick: move |_| on_apply.call(Application {
                title: title(),
                zone: zone(),
                others: others().into_iter().collect(),
                standard: standard(),
                duty: duty(),
                assessor: assessor(),
                assessment: assessment(),
                starts: parse_date(&starts()),
                ends: parse_date(&ends()),
            }),
            {tr(lang, T::SubmitApplication)}
        }
    }
}

/// One post: its five clears, its history, and what the user may do. Each action that needs
/// words has its own box; withdrawing the title, which cannot be undone, asks once more.
#[component]
pub fn PostView(
    lang: Lang,
    row: PostRow,
    actions: Vec<PostAction>,
    error: Option<String>,
    on_act: EventHandler<(PostAction, String)>,
    on_back: EventHandler<()>,
) -> Element {
    let mut reject = use_signal(String::new);
    let mut review = use_signal(String::new);
    let mut revoke = use_signal(String::new);
    let mut confirming = use_signal(|| false);
    let c = colon(lang);
    let can = |a: PostAction| actions.contains(&a);
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Posts)}" }
        h1 { "{row.title}" }
        p { span { class: status_class(row.status), "data-testid": "post-status",
            {post_status_label(lang, row.status)} } }
        p { class: "dim", "{tr(lang, T::PostZone)}{c}{row.zone}" }
        p { "{tr(lang, T::PostDemonstrators)}{c}{row.demonstrators.join(\"、\")}" }
        p { "{tr(lang, T::PostStandard)}{c}{row.standard}" }
        if !row.duty.is_empty() {
            p { "{tr(lang, T::PostDuty)}{c}{row.duty}" }
        }
        p { "{tr(lang, T::PostAssessor)}{c}{row.assessor}" }
        p { "{tr(lang, T::PostAssessment)}{c}{row.assessment}" }
        p { "{tr(lang, T::PostTerm)}{c}{day_text(row.starts)} — {day_text(row.ends)}" }
        h2 { {tr(lang, T::PostHistory)} }
        ul { class: "history", "data-testid": "post-history",
            for (i, (step, by, why)) in row.history.iter().enumerate() {
                li { key: "{i}",
                    "{post_step_label(lang, *step)} · {by}"
                    if !why.is_empty() { "{c}{why}" }
                }
            }
        }
        if let Some(text) = error {
            p { class: "error", role: "alert", "{text}" }
        }
        if can(PostAction::Approve) {
            button { class: "primary", "data-testid": "post-approve",
                onclick: move |_| on_act.call((PostAction::Approve, String::new())),
                {tr(lang, T::ApprovePost)}
            }
        }
        if can(PostAction::Reject) {
            label { r#for: "reject-reason", {tr(lang, T::RejectReason)} }
            textarea { id: "reject-reason", rows: "2", oninput: move |e| reject.set(e.value()) }
            button { class: "wide", "data-testid": "post-reject",
                onclick: move |_| on_act.call((PostAction::Reject, reject())),
                {tr(lang, T::RejectPost)}
            }
        }
        if can(PostAction::Review) {
            label { r#for: "review-note", {tr(lang, T::ReviewNote)} }
            textarea { id: "review-note", rows: "2", oninput: move |e| review.set(e.value()) }
            button { class: "wide", "data-testid": "post-review",
                onclick: move |_| on_act.call((PostAction::Review, review())),
                {tr(lang, T::ReviewPost)}
            }
        }
        if can(PostAction::Revoke) {
            label { r#for: "revoke-reason", {tr(lang, T::RevokeReason)} }
            textarea { id: "revoke-reason", rows: "2", oninput: move |e| revoke.set(e.value()) }
            if confirming() {
                p { class: "error", {tr(lang, T::RevokeFinal)} }
                button { class: "wide danger", "data-testid": "post-revoke-confirm",
                    onclick: move |_| {
                        confirming.set(false);
                        on_act.call((PostAction::Revoke, revoke()));
                    },
                    {tr(lang, T::RevokeConfirm)}
                }
            } else {
                button { class: "wide", "data-testid": "post-revoke",
                    onclick: move |_| confirming.set(true),
                    {tr(lang, T::RevokePost)}
                }
            }
        }
    }
}

/// The page of the branch's posts.
#[component]
pub(crate) fn PostListPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let repo = ui.repo();
    let rows = posts(&repo, &session.user, today(&repo.clock())).unwrap_or_default();
    let can_apply = directory(&repo, &session.user.branch)
        .is_ok_and(|d| d.members.contains_key(&session.user.user));
    rsx! {
        PostList {
            lang: (ui.lang)(),
            rows,
            can_apply,
            on_open: move |id| ui.go(Screen::Post(id)),
            on_apply: move |_| ui.go(Screen::ApplyPost),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// The page a member applies for a post on.
#[component]
pub(crate) fn ApplyPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let me = session.user;
    let Ok(dir) = directory(&ui.repo(), &me.branch) else {
        return rsx! { Unavailable { message: tr(lang, T::NoDirectory).to_owned(), back: Screen::Posts, label: T::Posts } };
    };
    let zones = dir
        .zones
        .iter()
        .filter(|(_, z)| z.active)
        .map(|(id, z)| (id.clone(), z.name.clone()))
        .collect();
    let people = members(&dir)
        .into_iter()
        .filter(|(id, _)| *id != me.user)
        .collect();
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        ApplyForm {
            lang,
            zones,
            people,
            error,
            today: Some(today(&ui.repo().clock())),
            on_apply: move |form: Application| {
                let repo = ui.repo();
                if let Some(id) = ui.saved(apply(&repo, &me, &form, today(&repo.clock()))) {
                    ui.go(Screen::Post(id));
                    ui.confirm(T::PostApplied);
                }
            },
            on_back: move |_| ui.go(Screen::Posts),
        }
    }
}

/// One post's page.
#[component]
pub(crate) fn PostPage(session: Session, id: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let me = session.user;
    let repo = ui.repo();
    let Some(row) = post(&repo, &me, &id, today(&repo.clock())) else {
        return rsx! { Unavailable { message: tr(lang, T::NotOnPhone).to_owned(), back: Screen::Posts, label: T::Posts } };
    };
    let can = actions(&me, &row);
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    // A new step on the record starts the page afresh: the boxes empty, no double entry.
    let key = row.history.len();
    rsx! {
        PostView {
            key: "{key}",
            lang,
            row,
            actions: can,
            error,
            on_act: move |(action, reason): (PostAction, String)| {
                let repo = ui.repo();
                let done = decide(&repo, &me, &id, action, &reason, today(&repo.clock()));
                if ui.saved(done).is_some() {
                    ui.confirm(match action {
                        PostAction::Approve => T::PostApproved,
                        PostAction::Reject => T::PostRejected,
                        PostAction::Review => T::PostReviewed,
                        PostAction::Revoke => T::PostRevoked,
                    });
                }
            },
            on_back: move |_| ui.go(Screen::Posts),
        }
    }
}
