//! Problems: raising one from a checklist item, the holder's list (overdue first), and
//! recording the fix with an after-photo.

use chrono::{Days, NaiveDate};
use dioxus::prelude::*;

use crate::ui::date::{DateField, parse_date};
use zonepatrol_shared::Severity;
use zonepatrol_shared::docs::{DocId, Marks};

use crate::i18n::{self, Lang, T, colon, tr};
use crate::records::draft::{FixBody, Form, RaiseBody};
use crate::records::problem::{
    ProblemInput, ProblemRow, my_problem, my_problems, raise_problem, raise_view, rectify_marked,
};
use crate::records::today;
use crate::store::Session;
use crate::ui::draft::use_draft;
use crate::ui::extension::MoreTimeAskPart;
use crate::ui::history::HistoryLink;
use crate::ui::photo::{
    PhotoButton, PhotoStrip, Picked, Shown, shown, shown_thumbs, use_photo_import,
};
use crate::ui::pick::Pick;
use crate::ui::{Screen, Ui, Unavailable};

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
    /// What a draft kept earlier holds.
    #[props(default)]
    start: RaiseBody,
    /// The photos taken so far, as thumbnails.
    #[props(default)]
    shown: Vec<Shown>,
    /// A photo taken off the form.
    #[props(default)]
    on_remove: EventHandler<String>,
    /// A photo's new marks.
    #[props(default)]
    on_mark: EventHandler<(String, Marks)>,
    on_photo: EventHandler<Vec<Picked>>,
    /// Every change, to keep the draft.
    #[props(default)]
    on_change: EventHandler<RaiseBody>,
    on_submit: EventHandler<Draft>,
    on_back: EventHandler<()>,
) -> Element {
    let first = start.clone();
    let mut description = use_signal(|| first.description);
    let mut measure = use_signal(|| first.measure);
    let mut severity = use_signal(|| first.severity.unwrap_or(Severity::General));
    let mut who = use_signal(move || {
        if first.responsible.is_empty() {
            responsible
        } else {
            first.responsible
        }
    });
    // The deadline follows the severity until the user picks one.
    let mut deadline_picked = use_signal(|| !start.deadline.is_empty());
    let mut deadline = use_signal(move || {
        if start.deadline.is_empty() {
            default_deadline(today, start.severity.unwrap_or(Severity::General))
                .format("%Y-%m-%d")
                .to_string()
        } else {
            start.deadline
        }
    });
    let changed = move || {
        on_change.call(RaiseBody {
            description: description(),
            severity: Some(severity()),
            responsible: who(),
            measure: measure(),
            deadline: if deadline_picked() {
                deadline()
            } else {
                String::new()
            },
        })
    };
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Back)}" }
        h1 { {tr(lang, T::RaiseProblem)} }
        p { class: "dim", "{zone_name}" if let Some(item) = item_text { " · {item}" } }
        label { r#for: "description", {tr(lang, T::Description)} }
        textarea { id: "description", "data-testid": "description", rows: "3",
            initial_value: "{description.peek()}",
            oninput: move |e| {
                description.set(e.value());
                changed();
            } }
        PhotoButton { lang, label: T::AddPhoto, testid: "problem-photo", busy: photo_busy, on_pick: on_photo }
        if photos > 0 {
            span { class: "photos", "data-testid": "problem-photos", "{tr(lang, T::PhotoCount)} {photos}" }
        }
        PhotoStrip { lang, photos: shown, testid: "problem-thumbs", removable: true, on_remove,
            markable: true, on_mark }
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
                        changed();
                    },
                    {i18n::severity(lang, s)}
                }
            }
        }
        h2 { {tr(lang, T::Responsible)} }
        for (id, name) in members {
            Pick { key: "{id}", id: id.clone(), class: "check", testid: "responsible-{id}",
                pressed: who() == id, on_pick: move |id| {
                    who.set(id);
                    changed();
                },
                "{name}"
            }
        }
        label { r#for: "measure", {tr(lang, T::Measure)} }
        textarea { id: "measure", "data-testid": "measure", rows: "2",
            initial_value: "{measure.peek()}",
            oninput: move |e| {
                measure.set(e.value());
                changed();
            } }
        label { r#for: "deadline", {tr(lang, T::Deadline)} }
        DateField { lang, id: "deadline", value: deadline(), today: Some(today), picks: vec![3, 7, 15, 30],
            min: Some(today),
            on_change: move |v| {
                deadline_picked.set(true);
                deadline.set(v);
                changed();
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
                deadline: parse_date(&deadline()),
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
            Pick { key: "{row.name}", id: row.name.clone(),
                class: if row.overdue { "row overdue" } else { "row" },
                testid: "problem-{row.name}",
                on_pick: on_open,
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
    /// The note a draft kept earlier holds.
    #[props(default)]
    start_note: String,
    /// The problem's photos (before), as thumbnails.
    #[props(default)]
    before: Vec<Shown>,
    /// The photos of the fix taken so far (after), as thumbnails.
    #[props(default)]
    shown: Vec<Shown>,
    /// A photo of the fix taken off the form.
    #[props(default)]
    on_remove: EventHandler<String>,
    /// A photo of the fix's new marks.
    #[props(default)]
    on_mark: EventHandler<(String, Marks)>,
    on_photo: EventHandler<Vec<Picked>>,
    /// Every change of the note, to keep the draft.
    #[props(default)]
    on_note: EventHandler<String>,
    on_submit: EventHandler<String>,
    on_back: EventHandler<()>,
) -> Element {
    let mut note = use_signal(move || start_note);
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
        if !before.is_empty() {
            h2 { {tr(lang, T::BeforePhotos)} }
            PhotoStrip { lang, photos: before, testid: "before-thumbs" }
        }
        p { class: "dim", {i18n::problem_status(lang, row.status)} }
        if let Some(still) = row.reopen_note.clone() {
            p { class: "error", "data-testid": "reopen-note",
                "{tr(lang, T::StillWrong)}{colon(lang)}{still}"
            }
        }
        if can_fix {
            label { r#for: "fix-note", {tr(lang, T::FixNote)} }
            textarea { id: "fix-note", "data-testid": "fix-note", rows: "3", initial_value: "{note.peek()}",
                oninput: move |e| {
                    note.set(e.value());
                    on_note.call(e.value());
                } }
            PhotoButton { lang, label: T::AfterPhoto, testid: "after-photo", busy: photo_busy, on_pick: on_photo }
            if photos > 0 {
                span { class: "photos", "data-testid": "fix-photos", "{tr(lang, T::PhotoCount)} {photos}" }
            }
            if !shown.is_empty() {
                h2 { {tr(lang, T::AfterPhotos)} }
                PhotoStrip { lang, photos: shown, testid: "after-thumbs", removable: true, on_remove,
                    markable: true, on_mark }
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

/// The raise-problem page of a zone (and item) on a patrol.
#[component]
pub(crate) fn RaisePage(
    session: Session,
    patrol: String,
    zone: String,
    item: Option<String>,
) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let repo = ui.repo();
    // On another branch's patrol (the committee's), the problem is that branch's.
    let visitor = crate::records::patrol::visitor(&session.user, &patrol);
    let me = crate::records::patrol::acting(&session.user, &patrol);
    let form = Form::Raise {
        patrol: patrol.clone(),
        zone: zone.clone(),
        item: item.clone(),
    };
    let draft = use_draft::<RaiseBody>(&session.user.user, form, Default::default);
    let photos = draft.photos;
    let import = use_photo_import::<()>();
    let back = Screen::Zone {
        patrol: patrol.clone(),
        zone: zone.clone(),
    };
    if visitor {
        return rsx! { Unavailable { message: tr(lang, T::VisitorNoProblems).to_owned(), back, label: T::Back } };
    }
    let view = match raise_view(&repo, &me, &zone, item.as_deref()) {
        Ok(v) => v,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back, label: T::Back } };
        }
    };
    let today = today(&repo.clock());
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let done = back.clone();
    let start = draft.body.peek().clone();
    rsx! {
        if draft.restored {
            p { class: "hint", "data-testid": "draft-restored", {tr(lang, T::DraftRestored)} }
        }
        RaiseProblem {
            lang,
            zone_name: view.zone_name,
            item_text: view.item_text,
            members: view.members,
            responsible: view.responsible,
            today,
            photos: photos().len(),
            photo_busy: import.busy().is_some(),
            error,
            start,
            shown: shown(&repo, &photos(), &(draft.marks)()),
            on_remove: {
                let draft = draft.clone();
                move |hash: String| draft.remove_photo(&hash)
            },
            on_mark: {
                let draft = draft.clone();
                move |(hash, marks): (String, Marks)| draft.set_marks(&hash, marks)
            },
            on_photo: {
                let draft = draft.clone();
                move |picked| {
                    let draft = draft.clone();
                    import.start((), picked, move |added| {
                        draft.add_photos(added);
                        ui.confirm(T::PhotoAdded);
                    });
                }
            },
            on_change: {
                let draft = draft.clone();
                move |body| draft.set(body)
            },
            on_submit: move |typed: Draft| {
                let input = ProblemInput {
                    zone: zone.clone(),
                    patrol: Some(crate::records::patrol::patrol_ref(&me, &patrol).1.to_owned()),
                    item: item.clone(),
                    description: typed.description,
                    severity: typed.severity,
                    responsible: typed.responsible,
                    measure: typed.measure,
                    deadline: typed.deadline,
                    photos: photos(),
                    marks: draft.marks.peek().clone(),
                };
                if ui.saved(raise_problem(&ui.repo(), &me, &input, today)).is_some() {
                    draft.finish();
                    let mut ui = ui;
                    ui.screen.set(done.clone());
                    ui.confirm(T::ProblemRaised);
                }
            },
            on_back: move |_| ui.go(back.clone()),
        }
    }
}

/// The page of the problems the user must fix.
#[component]
pub(crate) fn ProblemsPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let repo = ui.repo();
    let rows = my_problems(&repo, &session.user, today(&repo.clock())).unwrap_or_default();
    rsx! {
        ProblemList {
            lang: (ui.lang)(),
            rows,
            on_open: move |name| ui.go(Screen::Problem(name)),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// The page that records the fix of one of the user's problems.
#[component]
pub(crate) fn FixPage(session: Session, name: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let (session_copy, name_copy) = (session.clone(), name.clone());
    let me = session.user;
    let form = Form::Fix {
        problem: name.clone(),
    };
    let draft = use_draft::<FixBody>(&me.user, form, Default::default);
    let photos = draft.photos;
    let import = use_photo_import::<()>();
    let Some(row) = my_problem(&repo, &me, &name, today(&repo.clock())) else {
        return rsx! { Unavailable { message: tr(lang, T::NotOnPhone).to_owned(), back: Screen::Problems, label: T::MyProblems } };
    };

    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let start_note = draft.body.peek().note.clone();
    let before = shown_thumbs(&repo, &row.thumbs);
    let record = DocId::problem(&me.branch, &name).to_string();
    let here = Screen::Problem(name.clone());
    rsx! {
        if draft.restored {
            p { class: "hint", "data-testid": "draft-restored", {tr(lang, T::DraftRestored)} }
        }
        RectifyProblem {
            lang,
            row,
            photos: photos().len(),
            photo_busy: import.busy().is_some(),
            error,
            start_note,
            before,
            shown: shown(&repo, &photos(), &(draft.marks)()),
            on_remove: {
                let draft = draft.clone();
                move |hash: String| draft.remove_photo(&hash)
            },
            on_mark: {
                let draft = draft.clone();
                move |(hash, marks): (String, Marks)| draft.set_marks(&hash, marks)
            },
            on_photo: {
                let draft = draft.clone();
                move |picked| {
                    let draft = draft.clone();
                    import.start((), picked, move |added| draft.add_photos(added));
                }
            },
            on_note: {
                let draft = draft.clone();
                move |note| draft.set(FixBody { note })
            },
            on_submit: move |note: String| {
                let marks = draft.marks.peek().clone();
                if ui.saved(rectify_marked(&ui.repo(), &me, &name, &note, &photos(), &marks)).is_some() {
                    draft.finish();
                    ui.go(Screen::Problems);
                    ui.confirm(T::Rectified);
                }
            },
            on_back: move |_| ui.go(Screen::Problems),
        }
        MoreTimeAskPart { session: session_copy, name: name_copy }
        HistoryLink { id: record, back: here }
    }
}
