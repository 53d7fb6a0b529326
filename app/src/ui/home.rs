//! The home screen: who is signed in, the one main action for their role, the other things
//! they do, and the patrols they are on.

use dioxus::prelude::*;
use zonepatrol_shared::Role;

use crate::i18n::{self, Lang, T, tr};
use crate::records::cadence::due_for;
use crate::records::draft::{DraftRow, Form};
use crate::records::extension::more_time_requests;
use crate::records::patrol::{PatrolRow, my_patrols};
use crate::records::post::waiting_posts;
use crate::records::problem::{my_problems, open_and_overdue, to_verify};
use crate::records::today;
use crate::store::Session;
use crate::ui::pick::Pick;
use crate::ui::{Screen, Ui};
use zonepatrol_shared::labels::due_label;

/// Where the home screen can go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Go {
    /// Start a patrol.
    StartPatrol,
    /// Open a patrol.
    Patrol(String),
    /// The problems to fix.
    Problems,
    /// The fixes to verify.
    Verify,
    /// The requests for more time to answer.
    MoreTime,
    /// The branch's demonstration posts.
    Posts,
    /// Settings.
    Settings,
    /// The refused edits.
    Quarantine,
    /// The monthly self-score.
    SelfScore,
    /// The secretary's monthly assessment.
    Assess,
    /// Logging a cleanup.
    Cleanup,
    /// Rankings and points.
    Rankings,
    /// Open a draft's form again.
    Draft(Form),
    /// Throw a draft away.
    DiscardDraft(Form),
}

/// The actions of a role, the main one first.
pub fn actions(role: Role) -> Vec<(T, Go)> {
    let mut out = match role {
        Role::Secretary => vec![
            (T::StartPatrol, Go::StartPatrol),
            (T::MonthlyAssessment, Go::Assess),
            (T::ToVerify, Go::Verify),
            (T::MoreTimeRequests, Go::MoreTime),
            (T::Posts, Go::Posts),
            (T::MyProblems, Go::Problems),
            (T::Rankings, Go::Rankings),
        ],
        Role::Inspector => vec![
            (T::StartPatrol, Go::StartPatrol),
            (T::ToVerify, Go::Verify),
            (T::MyProblems, Go::Problems),
            (T::SelfScore, Go::SelfScore),
            (T::Rankings, Go::Rankings),
            (T::Posts, Go::Posts),
        ],
        Role::ZoneHolder => vec![
            (T::MyProblems, Go::Problems),
            (T::SelfScore, Go::SelfScore),
            (T::Rankings, Go::Rankings),
            (T::Posts, Go::Posts),
        ],
        Role::TeamLeader => vec![
            (T::LogCleanup, Go::Cleanup),
            (T::MyProblems, Go::Problems),
            (T::SelfScore, Go::SelfScore),
            (T::Rankings, Go::Rankings),
            (T::Posts, Go::Posts),
        ],
        Role::Manager => vec![
            (T::Rankings, Go::Rankings),
            (T::StartPatrol, Go::StartPatrol),
        ],
        Role::Admin => vec![(T::Rankings, Go::Rankings)],
    };
    out.push((T::Settings, Go::Settings));
    out
}

/// The actions of someone holding several roles: the main role's first, then what the others
/// add, each once, settings last.
pub fn actions_of(role: Role, also: &[Role]) -> Vec<(T, Go)> {
    let mut out: Vec<(T, Go)> = Vec::new();
    for r in std::iter::once(role).chain(also.iter().copied()) {
        for action in actions(r) {
            if action.1 != Go::Settings && !out.contains(&action) {
                out.push(action);
            }
        }
    }
    out.push((T::Settings, Go::Settings));
    out
}

impl Go {
    /// A stable name, for the end-to-end script.
    pub fn name(&self) -> &'static str {
        match self {
            Go::StartPatrol => "start-patrol",
            Go::Patrol(_) => "patrol",
            Go::Problems => "problems",
            Go::Verify => "verify",
            Go::MoreTime => "more-time",
            Go::Posts => "posts",
            Go::Settings => "settings",
            Go::Quarantine => "quarantine",
            Go::SelfScore => "self-score",
            Go::Assess => "assess",
            Go::Cleanup => "cleanup",
            Go::Rankings => "rankings",
            Go::Draft(_) => "draft",
            Go::DiscardDraft(_) => "discard-draft",
        }
    }
}

/// The home screen.
#[component]
pub fn Home(
    lang: Lang,
    user: String,
    role: Role,
    /// The other roles they hold.
    #[props(default)]
    also: Vec<Role>,
    patrols: Vec<PatrolRow>,
    problems: usize,
    overdue: usize,
    /// How many fixes wait for the user's verification.
    #[props(default)]
    to_verify: usize,
    /// How many requests for more time wait for the user's answer.
    #[props(default)]
    more_time: usize,
    /// How many applications for a post wait for the user's decision.
    #[props(default)]
    posts_waiting: usize,
    /// What is due for the user, in lines, with whether each is late.
    #[props(default)]
    due: Vec<(String, bool)>,
    /// The user's unfinished drafts, latest first.
    #[props(default)]
    drafts: Vec<DraftRow>,
    /// The mine's time zone, for the drafts' times.
    #[props(default)]
    tz: Option<chrono_tz::Tz>,
    on_go: EventHandler<Go>,
) -> Element {
    // The draft whose discarding waits for a second tap.
    let mut confirming = use_signal(|| None::<String>);
    let actions = actions_of(role, &also);
    let roles = std::iter::once(role)
        .chain(also.iter().copied())
        .map(|r| i18n::role(lang, r))
        .collect::<Vec<_>>()
        .join(" · ");
    rsx! {
        h1 { {tr(lang, T::AppTitle)} }
        p { class: "who", "{user} · {roles}" }
        if !due.is_empty() {
            section { class: "due", "data-testid": "due", role: "status",
                h2 { {tr(lang, T::Due)} }
                ul {
                    for (i, (line, late)) in due.into_iter().enumerate() {
                        li { key: "{i}", class: if late { "late" } else { "" }, "{line}" }
                    }
                }
            }
        }
        if !drafts.is_empty() {
            section { class: "drafts", "data-testid": "drafts",
                h2 { {tr(lang, T::Drafts)} }
                for (i, row) in drafts.into_iter().enumerate() {
                    div { key: "{i}", class: "draft",
                        button { class: "row", "data-testid": "draft-{i}",
                            onclick: {
                                let form = row.form.clone();
                                move |_| on_go.call(Go::Draft(form.clone()))
                            },
                            span { class: "row-main", {draft_kind(lang, &row.form)} " · {row.about}" }
                            span { class: "row-sub",
                                {saved_at(row.updated_at, tz)}
                                if !row.text.is_empty() { " · {row.text}" }
                                if row.photos > 0 { " · {row.photos} {tr(lang, T::DraftPhotos)}" }
                            }
                        }
                        if confirming().as_deref() == Some(row.form.key().as_str()) {
                            p { class: "error", role: "alert", {tr(lang, T::ConfirmDiscard)} }
                            div { class: "choices",
                                button { class: "choice bad", "data-testid": "confirm-discard-{i}",
                                    onclick: {
                                        let form = row.form.clone();
                                        move |_| {
                                            confirming.set(None);
                                            on_go.call(Go::DiscardDraft(form.clone()));
                                        }
                                    },
                                    {tr(lang, T::DiscardDraft)}
                                }
                                button { class: "choice", onclick: move |_| confirming.set(None), {tr(lang, T::KeepDraft)} }
                            }
                        } else {
                            button { class: "choice", "data-testid": "discard-draft-{i}",
                                onclick: {
                                    let key = row.form.key();
                                    move |_| confirming.set(Some(key.clone()))
                                },
                                {tr(lang, T::DiscardDraft)}
                            }
                        }
                    }
                }
            }
        }
        for (i, (label, go)) in actions.into_iter().enumerate() {
            button {
                key: "{i}",
                class: if i == 0 { "primary" } else { "wide" },
                "data-testid": "go-{go.name()}",
                onclick: move |_| on_go.call(go.clone()),
                {tr(lang, label)}
                if label == T::MyProblems && problems > 0 {
                    span { class: if overdue > 0 { "badge bad" } else { "badge" },
                        "{problems}"
                        if overdue > 0 { " · {overdue} {tr(lang, T::Overdue)}" }
                    }
                }
                if label == T::ToVerify && to_verify > 0 {
                    span { class: "badge", "{to_verify}" }
                }
                if label == T::MoreTimeRequests && more_time > 0 {
                    span { class: "badge", "{more_time}" }
                }
                if label == T::Posts && posts_waiting > 0 {
                    span { class: "badge", "{posts_waiting}" }
                }
            }
        }
        if !patrols.is_empty() {
            h2 { {tr(lang, T::MyPatrols)} }
            for row in patrols {
                Pick {
                    key: "{row.name}",
                    id: row.name.clone(),
                    class: if row.closed { "row closed" } else { "row" },
                    testid: "patrol-{row.name}",
                    on_pick: move |name| on_go.call(Go::Patrol(name)),
                    span { class: "row-main",
                        {i18n::patrol_kind(lang, row.kind)}
                        if let Some(branch) = &row.branch { " · {branch}" }
                    }
                    span { class: "row-sub",
                        {row.date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()}
                        " · {row.zones} {tr(lang, T::ZoneCount)} · "
                        if row.closed { {tr(lang, T::Closed)} } else { {tr(lang, T::InProgress)} }
                    }
                }
            }
        }
    }
}

/// What kind of form a draft is of.
fn draft_kind(lang: Lang, form: &Form) -> &'static str {
    tr(
        lang,
        match form {
            Form::Raise { .. } => T::RaiseProblem,
            Form::Fix { .. } => T::Rectify,
            Form::Cleanup => T::LogCleanup,
            Form::Score { assess: true, .. } => T::MonthlyAssessment,
            Form::Score { assess: false, .. } => T::SelfScore,
        },
    )
}

/// When a draft was last kept, at the mine: "2026-12-03 14:05".
fn saved_at(millis: i64, tz: Option<chrono_tz::Tz>) -> String {
    let Some(at) = chrono::DateTime::from_timestamp_millis(millis) else {
        return String::new();
    };
    match tz {
        Some(tz) => at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        None => at.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// The screen that opens a draft's form.
fn draft_screen(form: Form) -> Screen {
    match form {
        Form::Raise { patrol, zone, item } => Screen::Raise { patrol, zone, item },
        Form::Fix { problem } => Screen::Problem(problem),
        Form::Cleanup => Screen::Cleanup,
        Form::Score {
            assess,
            zone,
            month,
        } => Screen::MonthZone {
            assess,
            zone,
            month,
        },
    }
}

/// The home page: the user's patrols and how many problems wait for them.
#[component]
pub(crate) fn HomePage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let repo = ui.repo();
    let me = session.user;
    let patrols = my_patrols(&repo, &me).unwrap_or_default();
    let day = today(&repo.clock());
    let problems = my_problems(&repo, &me, day).unwrap_or_default();
    let (open, overdue) = open_and_overdue(&problems);
    let waiting = to_verify(&repo, &me).map_or(0, |rows| rows.len());
    let asked = more_time_requests(&repo, &me).map_or(0, |rows| rows.len());
    let posts_waiting = waiting_posts(&repo, &me, day);
    let lang = (ui.lang)();
    let due = due_for(&repo, &me, day, &problems)
        .iter()
        .map(|d| (due_label(lang, d), d.late(day)))
        .collect();
    let drafts = crate::records::draft::list(&repo, &me).unwrap_or_default();
    let user = me.user.clone();
    rsx! {
        Home {
            lang,
            user: me.user.clone(),
            role: me.role,
            also: me.also.clone(),
            patrols,
            problems: open,
            overdue,
            to_verify: waiting,
            more_time: asked,
            posts_waiting,
            due,
            drafts,
            tz: Some(repo.clock().tz),
            on_go: move |go| {
                if let Go::DiscardDraft(form) = &go {
                    let mut ui = ui;
                    ui.saved(crate::records::draft::discard(&ui.repo(), &user, form));
                    *ui.revision.write() += 1;
                    return;
                }
                ui.go(match go {
                    Go::StartPatrol => Screen::StartPatrol,
                    Go::Patrol(name) => Screen::Patrol(name),
                    Go::Problems => Screen::Problems,
                    Go::Verify => Screen::ToVerify,
                    Go::MoreTime => Screen::MoreTimeList,
                    Go::Posts => Screen::Posts,
                    Go::Settings => Screen::Settings,
                    Go::Quarantine => Screen::Quarantine,
                    Go::SelfScore => Screen::Month { assess: false, this_month: true },
                    Go::Assess => Screen::Month { assess: true, this_month: true },
                    Go::Cleanup => Screen::Cleanup,
                    Go::Rankings => Screen::Rankings(None),
                    Go::Draft(form) => draft_screen(form),
                    Go::DiscardDraft(_) => Screen::Home,
                })
            },
        }
    }
}
