//! The screens. Each is a component that takes its data as props and reports what the user
//! did through event handlers; the root [`App`] holds the state and talks to the device core
//! (store, sync, photos). Nothing here touches sled or the network itself.

// `rsx!` expands event handlers into fully qualified paths.
#![allow(unused_qualifications)]

pub mod cleanup;
pub mod home;
pub mod login;
pub mod month;
pub mod patrol;
pub mod photo;
pub mod problem;
pub mod ranking;
pub mod score;
pub mod settings;
pub mod status;
pub mod theme;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use dioxus::prelude::*;
use tokio::sync::Notify;

use chrono::TimeZone;
use zonepatrol_shared::rules::period::{MineClock, Period};

use crate::field::{self, FieldError, ProblemInput};
use crate::i18n::{Lang, T, tr};
use crate::photo::{PhotoError, PhotoSettings};
use crate::store::{PhotoRecord, Repo, Session, now_millis};
use crate::sync::{SyncClient, SyncStatus};
use home::{Go, Home};
use login::LoginForm;
use patrol::{PatrolZones, StartPatrol};
use photo::Picked;
use problem::{ProblemList, RaiseProblem, RectifyProblem};
use score::ScoreZone;
use settings::{QuarantineList, Settings};
use status::SyncBanner;

/// What the platform shell gives the screens: the device core.
#[derive(Clone)]
pub struct Services {
    /// The device's store.
    pub repo: Arc<Repo>,
    /// The sync engine.
    pub client: Arc<SyncClient>,
    /// Wakes the background sync (after an edit, or when the user asks).
    pub wake: Arc<Notify>,
}

/// The same services: the same store.
impl PartialEq for Services {
    fn eq(&self, other: &Services) -> bool {
        Arc::ptr_eq(&self.repo, &other.repo)
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Services")
    }
}

/// The root component.
#[allow(non_snake_case)]
pub fn App() -> Element {
    let services = try_consume_context::<Services>();
    let saved = services
        .as_ref()
        .and_then(|s| s.repo.preference(LANG).ok().flatten());
    let lang = use_signal(move || saved.map(|c| Lang::from_code(&c)).unwrap_or_default());
    rsx! {
        style { {theme::CSS} }
        main { lang: lang().code(),
            match services {
                Some(services) => rsx! { Shell { lang, services } },
                None => rsx! { h1 { {tr(lang(), T::AppTitle)} } },
            }
        }
    }
}

/// The preference that keeps the language.
const LANG: &str = "lang";

/// Where the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// The home screen.
    Home,
    /// Starting a patrol.
    StartPatrol,
    /// A patrol's zones.
    Patrol(String),
    /// Scoring a zone of a patrol.
    Zone {
        /// The patrol.
        patrol: String,
        /// The zone.
        zone: String,
    },
    /// Raising a problem from a zone (and item) of a patrol.
    Raise {
        /// The patrol.
        patrol: String,
        /// The zone.
        zone: String,
        /// The checklist item.
        item: Option<String>,
    },
    /// The problems the user must fix.
    Problems,
    /// One of them.
    Problem(String),
    /// Settings.
    Settings,
    /// The refused edits.
    Quarantine,
    /// The zones to score this month or last: self-scores, or the secretary's assessment.
    Month {
        /// The secretary's assessment rather than the holder's self-score.
        assess: bool,
        /// This month rather than last.
        this_month: bool,
    },
    /// One zone's score form for a month.
    MonthZone {
        /// The secretary's assessment rather than the holder's self-score.
        assess: bool,
        /// The zone.
        zone: String,
        /// The month.
        month: Period,
    },
    /// Logging a cleanup.
    Cleanup,
    /// Rankings of a branch (the user's own unless chosen).
    Rankings(Option<String>),
}

/// What every page shares: the language, where the user is, a revision that moves with every
/// saved edit and every sync (pages re-read the store when it moves), and the last notice.
#[derive(Clone, Copy)]
struct Ui {
    lang: Signal<Lang>,
    screen: Signal<Screen>,
    revision: Signal<u64>,
    notice: Signal<Option<(bool, String)>>,
    services: Signal<Services>,
}

impl Ui {
    fn go(mut self, screen: Screen) {
        self.notice.set(None);
        self.screen.set(screen);
    }

    /// Reports an edit: "saved" with the time, or what went wrong. Returns the value on success.
    fn saved<V>(mut self, result: Result<V, FieldError>) -> Option<V> {
        let lang = (self.lang)();
        match result {
            Ok(value) => {
                let at = self
                    .repo()
                    .clock()
                    .tz
                    .timestamp_millis_opt(now_millis())
                    .single()
                    .map(|t| t.format("%H:%M:%S").to_string())
                    .unwrap_or_default();
                self.notice
                    .set(Some((true, format!("✓ {} {at}", tr(lang, T::Saved)))));
                *self.revision.write() += 1;
                self.services.peek().wake.notify_one();
                Some(value)
            }
            Err(e) => {
                self.notice.set(Some((false, e.message(lang))));
                None
            }
        }
    }

    fn failed(mut self, message: String) {
        self.notice.set(Some((false, message)));
    }

    fn repo(&self) -> Arc<Repo> {
        self.services.peek().repo.clone()
    }
}

/// Processes and stores photos the user gave, one at a time off the UI thread.
async fn import(repo: Arc<Repo>, picked: Vec<Picked>) -> Result<Vec<PhotoRecord>, PhotoError> {
    let mut out = Vec::new();
    for p in picked {
        let settings = PhotoSettings {
            time_zone: repo.clock().tz,
            ..PhotoSettings::default()
        };
        out.push(match p {
            Picked::Path(path) => crate::photo::import_file(repo.clone(), path, settings).await?,
            Picked::Bytes(bytes) => crate::photo::import(repo.clone(), bytes, settings).await?,
        });
    }
    Ok(out)
}

#[component]
fn Shell(lang: Signal<Lang>, services: Services) -> Element {
    let repo = services.repo.clone();
    let mut session = use_signal(move || repo.session().ok().flatten());
    let mut error = use_signal(|| None::<String>);
    let mut busy = use_signal(|| false);
    let mut status = use_signal(SyncStatus::default);
    let quarantine_repo = services.repo.clone();
    let mut refused = use_signal(move || quarantine_repo.quarantine().map_or(0, |q| q.len()));
    let ui = Ui {
        lang,
        screen: use_signal(|| Screen::Home),
        revision: use_signal(|| 0),
        notice: use_signal(|| None),
        services: use_signal({
            let services = services.clone();
            move || services
        }),
    };
    use_context_provider(|| ui);
    let mut revision = ui.revision;

    // Background sync for as long as the app runs; its status feeds the banner, and what it
    // brings in shows on the page.
    let background = services.clone();
    use_future(move || {
        let services = background.clone();
        async move {
            let mut watch = services.client.status();
            let client = services.client.clone();
            let wake = services.wake.clone();
            spawn(async move {
                client
                    .run(wake, Duration::from_secs(60), std::future::pending())
                    .await;
            });
            while watch.changed().await.is_ok() {
                let now = watch.borrow_and_update().clone();
                let done = matches!(now.state, crate::sync::SyncState::Done { .. });
                status.set(now);
                // A sync may have put edits in quarantine: the banner counts them.
                refused.set(services.repo.quarantine().map_or(0, |q| q.len()));
                if done {
                    *revision.write() += 1;
                }
            }
        }
    });

    let lang_now = lang();
    let signed_in = session();
    match signed_in {
        None => {
            let client = services.client.clone();
            let wake = services.wake.clone();
            rsx! {
                LoginForm {
                    lang: lang_now,
                    server: services.repo.last_server().ok().flatten().unwrap_or_default(),
                    error: error(),
                    busy: busy(),
                    on_submit: move |input: login::LoginInput| {
                        let client = client.clone();
                        let wake = wake.clone();
                        busy.set(true);
                        spawn(async move {
                            let result = client
                                .login(&input.server, &input.user, &input.password, "phone")
                                .await;
                            busy.set(false);
                            match result {
                                Ok(_) => {
                                    error.set(None);
                                    session.set(client.repo().session().ok().flatten());
                                    wake.notify_one();
                                }
                                Err(e) => error.set(Some(crate::i18n::sync_error(lang(), &e))),
                            }
                        });
                    },
                }
            }
        }
        Some(me) => {
            let notice = (ui.notice)();
            let screen = (ui.screen)();
            let page = match screen {
                Screen::Home => rsx! { HomePage { session: me } },
                Screen::StartPatrol => rsx! { StartPage { session: me } },
                // Keyed, so that a page for another patrol, zone or problem starts afresh
                // (text fields, photos in progress).
                Screen::Patrol(patrol) => {
                    rsx! { PatrolPage { key: "{patrol}", session: me, patrol } }
                }
                Screen::Zone { patrol, zone } => {
                    rsx! { ZonePage { key: "{patrol}/{zone}", session: me, patrol, zone } }
                }
                Screen::Raise { patrol, zone, item } => {
                    let key = format!("{patrol}/{zone}/{}", item.as_deref().unwrap_or_default());
                    rsx! { RaisePage { key: "{key}", session: me, patrol, zone, item } }
                }
                Screen::Problems => rsx! { ProblemsPage { session: me } },
                Screen::Problem(name) => rsx! { FixPage { key: "{name}", session: me, name } },
                Screen::Settings => rsx! {
                    SettingsPage {
                        session: me,
                        refused: refused(),
                        on_sign_out: move |_| {
                            let client = ui.services.peek().client.clone();
                            spawn(async move {
                                match client.logout().await {
                                    Ok(()) => {
                                        ui.go(Screen::Home);
                                        session.set(None);
                                    }
                                    Err(e) => ui.failed(crate::i18n::sync_error((ui.lang)(), &e)),
                                }
                            });
                        },
                    }
                },
                Screen::Month { assess, this_month } => {
                    rsx! { MonthPage { session: me, assess, this_month } }
                }
                Screen::MonthZone {
                    assess,
                    zone,
                    month,
                } => {
                    let key = format!("{assess}/{zone}/{month}");
                    rsx! { MonthZonePage { key: "{key}", session: me, assess, zone, month } }
                }
                Screen::Cleanup => rsx! { CleanupPage { session: me } },
                Screen::Rankings(branch) => rsx! { RankingsPage { session: me, branch } },
                Screen::Quarantine => rsx! {
                    QuarantinePage {
                        on_change: move |_| {
                            refused.set(ui.repo().quarantine().map_or(0, |q| q.len()));
                        },
                    }
                },
            };
            rsx! {
                SyncBanner {
                    lang: lang_now,
                    status: status(),
                    refused: refused(),
                    on_tap: move |_| ui.services.peek().wake.notify_one(),
                    tz: services.repo.clock().tz,
                }
                if let Some((ok, text)) = notice {
                    p { class: if ok { "notice ok" } else { "notice bad" }, role: "status",
                        "data-testid": if ok { "saved" } else { "not-saved" }, "{text}" }
                }
                {page}
            }
        }
    }
}

/// A page that cannot be shown: what went wrong, and the way back.
#[component]
fn Unavailable(message: String, back: Screen, label: T) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    rsx! {
        button { class: "back", onclick: move |_| ui.go(back.clone()), "‹ {tr(lang, label)}" }
        p { class: "error", role: "alert", "{message}" }
    }
}

#[component]
fn HomePage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let repo = ui.repo();
    let me = session.user;
    let patrols = field::my_patrols(&repo, &me).unwrap_or_default();
    let problems =
        field::my_problems(&repo, &me, field::today(&ui.repo().clock())).unwrap_or_default();
    let open = problems
        .iter()
        .filter(|p| p.status.awaits_rectification())
        .count();
    let overdue = problems.iter().filter(|p| p.overdue).count();
    rsx! {
        Home {
            lang: (ui.lang)(),
            user: me.user.clone(),
            role: me.role,
            patrols,
            problems: open,
            overdue,
            on_go: move |go| {
                ui.go(match go {
                    Go::StartPatrol => Screen::StartPatrol,
                    Go::Patrol(name) => Screen::Patrol(name),
                    Go::Problems => Screen::Problems,
                    Go::Settings => Screen::Settings,
                    Go::Quarantine => Screen::Quarantine,
                    Go::SelfScore => Screen::Month { assess: false, this_month: true },
                    Go::Assess => Screen::Month { assess: true, this_month: true },
                    Go::Cleanup => Screen::Cleanup,
                    Go::Rankings => Screen::Rankings(None),
                })
            },
        }
    }
}

/// Names of the directory's members, by id, for choosing people.
fn members(dir: &zonepatrol_shared::docs::Directory) -> Vec<(String, String)> {
    dir.members
        .iter()
        .map(|(id, m)| {
            let name = if m.name.is_empty() {
                id.clone()
            } else {
                format!("{} ({id})", m.name)
            };
            (id.clone(), name)
        })
        .collect()
}

#[component]
fn StartPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = session.user;
    let dir = match field::directory(&repo, &me.branch) {
        Ok(d) => d,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    let mut zones: Vec<(&String, &zonepatrol_shared::docs::Zone)> =
        dir.zones.iter().filter(|(_, z)| z.active).collect();
    zones.sort_by(|a, b| a.1.name.cmp(&b.1.name).then(a.0.cmp(b.0)));
    let zones: Vec<(String, String)> = zones
        .into_iter()
        .map(|(id, z)| (id.clone(), z.name.clone()))
        .collect();
    let others: Vec<(String, String)> = members(&dir)
        .into_iter()
        .filter(|(id, _)| *id != me.user)
        .collect();
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        StartPatrol {
            lang,
            today: field::today(&ui.repo().clock()),
            zones,
            members: others,
            error,
            on_start: move |input: field::PatrolInput| {
                let repo = ui.repo();
                if let Some(name) = ui.saved(field::start_patrol(&repo, &me, &input)) {
                    let mut ui = ui;
                    ui.screen.set(Screen::Patrol(name));
                }
            },
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

#[component]
fn PatrolPage(session: Session, patrol: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = session.user;
    let mut scanning = use_signal(|| false);
    let (p, rows) = match field::patrol(&repo, &me, &patrol)
        .and_then(|p| Ok((p, field::patrol_zones(&repo, &me, &patrol)?)))
    {
        Ok(x) => x,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let scan_rows = rows.clone();
    let scan_branch = me.branch.clone();
    let (open_patrol, scan_patrol, close_patrol) = (patrol.clone(), patrol.clone(), patrol.clone());
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
                        Ok(Some(code)) => match field::zone_from_code(&code, &branch, &rows) {
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
                if ui.saved(field::close_patrol(&repo, &close_me, &close_patrol)).is_some() {
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

#[component]
fn ZonePage(session: Session, patrol: String, zone: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = session.user;
    let mut busy_item = use_signal(|| None::<String>);
    let (work, next) = match field::zone_screen(&repo, &me, &patrol, &zone) {
        Ok(w) => w,
        Err(e) => {
            let back = patrol.clone();
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Patrol(back), label: T::Zones } };
        }
    };
    let view = crate::walk::zone_view(&work.template, &work.marks);
    let template = work.template_id.clone();
    let can_raise = field::raises_problems(me.role);
    let ctx = Rc::new((me, patrol, zone, template));
    let (c1, c2, c3, c4, c5, c6) = (
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
        ctx.clone(),
    );
    rsx! {
        ScoreZone {
            lang,
            zone_name: work.name.clone(),
            view,
            busy_item: busy_item(),
            on_mark: move |tap| {
                let (me, patrol, zone, template) = &*c1;
                ui.saved(field::mark(&ui.repo(), me, patrol, zone, template, &tap));
            },
            on_photo: move |(item, picked): (String, Vec<Picked>)| {
                let (me, patrol, zone, template) = (*c2).clone();
                busy_item.set(Some(item.clone()));
                let repo = ui.repo();
                // The photo is attached even if the inspector has moved on to another zone.
                dioxus::dioxus_core::spawn_forever(async move {
                    let result = import(repo.clone(), picked).await;
                    if let Ok(mut busy) = busy_item.try_write() {
                        *busy = None;
                    }
                    match result {
                        Ok(photos) => {
                            for photo in photos {
                                let saved = field::add_item_photo(&repo, &me, &patrol, &zone, &template, &item, &photo);
                                if ui.saved(saved).is_none() {
                                    break;
                                }
                            }
                        }
                        Err(e) => ui.failed(crate::i18n::photo_error((ui.lang)(), &e)),
                    }
                });
            },
            on_note: move |(item, note): (String, String)| {
                let (me, patrol, zone, template) = &*c3;
                ui.saved(field::set_item_note(&ui.repo(), me, patrol, zone, template, &item, &note));
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

#[component]
fn RaisePage(session: Session, patrol: String, zone: String, item: Option<String>) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = session.user;
    let mut photos = use_signal(Vec::<PhotoRecord>::new);
    let mut busy = use_signal(|| false);
    let dir = match field::directory(&repo, &me.branch) {
        Ok(d) => d,
        Err(e) => {
            let back = Screen::Zone {
                patrol: patrol.clone(),
                zone: zone.clone(),
            };
            return rsx! { Unavailable { message: e.message(lang), back, label: T::Back } };
        }
    };
    let z = dir.zones.get(&zone).cloned().unwrap_or_default();
    let item_text = item.as_ref().and_then(|i| {
        dir.templates
            .get(&z.template)
            .and_then(|t| t.items.get(i))
            .map(|t| t.text.clone())
    });
    let responsible = z
        .holders
        .iter()
        .find(|(_, on)| **on)
        .map(|(h, _)| h.clone())
        .unwrap_or_default();
    let today = field::today(&ui.repo().clock());
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    let back = Screen::Zone {
        patrol: patrol.clone(),
        zone: zone.clone(),
    };
    let done = back.clone();
    rsx! {
        RaiseProblem {
            lang,
            zone_name: z.name.clone(),
            item_text,
            members: members(&dir),
            responsible,
            today,
            photos: photos().len(),
            photo_busy: busy(),
            error,
            on_photo: move |picked| {
                busy.set(true);
                spawn(async move {
                    let result = import(ui.repo(), picked).await;
                    busy.set(false);
                    match result {
                        Ok(mut added) => {
                            photos.write().append(&mut added);
                            let mut notice = ui.notice;
                            notice.set(Some((true, format!("✓ {}", tr((ui.lang)(), T::PhotoAdded)))));
                        }
                        Err(e) => ui.failed(crate::i18n::photo_error((ui.lang)(), &e)),
                    }
                });
            },
            on_submit: move |draft: problem::Draft| {
                let input = ProblemInput {
                    zone: zone.clone(),
                    patrol: Some(patrol.clone()),
                    item: item.clone(),
                    description: draft.description,
                    severity: draft.severity,
                    responsible: draft.responsible,
                    measure: draft.measure,
                    deadline: draft.deadline,
                    photos: photos(),
                };
                if ui.saved(field::raise_problem(&ui.repo(), &me, &input, today)).is_some() {
                    let mut ui = ui;
                    ui.screen.set(done.clone());
                    let mut notice = ui.notice;
                    notice.set(Some((true, format!("✓ {}", tr(lang, T::ProblemRaised)))));
                }
            },
            on_back: move |_| ui.go(back.clone()),
        }
    }
}

#[component]
fn ProblemsPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let repo = ui.repo();
    let rows = field::my_problems(&repo, &session.user, field::today(&ui.repo().clock()))
        .unwrap_or_default();
    rsx! {
        ProblemList {
            lang: (ui.lang)(),
            rows,
            on_open: move |name| ui.go(Screen::Problem(name)),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

#[component]
fn FixPage(session: Session, name: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let me = session.user;
    let mut photos = use_signal(Vec::<PhotoRecord>::new);
    let mut busy = use_signal(|| false);
    let rows = field::my_problems(&repo, &me, field::today(&ui.repo().clock())).unwrap_or_default();
    let Some(row) = rows.into_iter().find(|r| r.name == name) else {
        return rsx! { Unavailable { message: tr(lang, T::NotOnPhone).to_owned(), back: Screen::Problems, label: T::MyProblems } };
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        RectifyProblem {
            lang,
            row,
            photos: photos().len(),
            photo_busy: busy(),
            error,
            on_photo: move |picked| {
                busy.set(true);
                spawn(async move {
                    let result = import(ui.repo(), picked).await;
                    busy.set(false);
                    match result {
                        Ok(mut added) => photos.write().append(&mut added),
                        Err(e) => ui.failed(crate::i18n::photo_error((ui.lang)(), &e)),
                    }
                });
            },
            on_submit: move |note: String| {
                if ui.saved(field::rectify(&ui.repo(), &me, &name, &note, &photos())).is_some() {
                    let mut notice = ui.notice;
                    ui.go(Screen::Problems);
                    notice.set(Some((true, format!("✓ {}", tr(lang, T::Rectified)))));
                }
            },
            on_back: move |_| ui.go(Screen::Problems),
        }
    }
}

#[component]
fn SettingsPage(session: Session, refused: usize, on_sign_out: EventHandler<()>) -> Element {
    let ui = use_context::<Ui>();
    rsx! {
        Settings {
            lang: (ui.lang)(),
            user: session.user.user.clone(),
            server: session.server.clone(),
            refused,
            on_lang: move |l: Lang| {
                let mut lang = ui.lang;
                lang.set(l);
                if let Err(e) = ui.repo().set_preference(LANG, l.code()) {
                    ui.failed(format!("{}: {e}", tr((ui.lang)(), T::NotSaved)));
                }
            },
            on_quarantine: move |_| ui.go(Screen::Quarantine),
            on_sign_out: move |_| on_sign_out.call(()),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

#[component]
fn QuarantinePage(on_change: EventHandler<()>) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let items = ui.repo().quarantine().unwrap_or_default();
    rsx! {
        QuarantineList {
            lang: (ui.lang)(),
            tz: ui.repo().clock().tz,
            items,
            on_dismiss: move |key| {
                if let Err(e) = ui.repo().dismiss(key) {
                    ui.failed(format!("{}: {e}", tr((ui.lang)(), T::NotSaved)));
                }
                let mut revision = ui.revision;
                *revision.write() += 1;
                on_change.call(());
            },
            on_back: move |_| ui.go(Screen::Settings),
        }
    }
}

/// The month a month list shows: this month at the mine, or the one before.
fn chosen_month(clock: &MineClock, this_month: bool) -> Period {
    let now = crate::monthly::month_of(field::today(clock));
    if this_month { now } else { now.prev() }
}

#[component]
fn MonthPage(session: Session, assess: bool, this_month: bool) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let month = chosen_month(&session.clock(), this_month);
    let rows = match crate::monthly::month_rows(&ui.repo(), &session.user, month) {
        Ok(rows) => rows,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    rsx! {
        month::MonthList {
            lang,
            title: if assess { T::MonthlyAssessment } else { T::SelfScore },
            month: crate::i18n::period(lang, month),
            this_month,
            rows,
            on_month: move |this_month| ui.go(Screen::Month { assess, this_month }),
            on_open: move |zone| ui.go(Screen::MonthZone { assess, zone, month }),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

#[component]
fn MonthZonePage(session: Session, assess: bool, zone: String, month: Period) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let this_month = month == chosen_month(&session.clock(), true);
    let me = session.user;
    let view = match crate::monthly::assessment_view(&ui.repo(), &me, &zone, month) {
        Ok(v) => v,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Month { assess, this_month }, label: T::Back } };
        }
    };
    let (start, self_items, suggestions, note) = if assess {
        (
            month::start_scores(&view.branch_score, &view.self_score, &view.suggestions),
            month::items_of(&view.self_score),
            view.suggestions.clone(),
            view.branch_score.note.0.clone(),
        )
    } else {
        (
            month::start_scores(&view.self_score, &Default::default(), &[]),
            Default::default(),
            Vec::new(),
            view.self_score.note.0.clone(),
        )
    };
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        month::ScoreSheet {
            lang,
            title: if assess { T::MonthlyAssessment } else { T::SelfScore },
            zone_name: view.name.clone(),
            month: crate::i18n::period(lang, month),
            start,
            self_score: self_items,
            suggestions,
            note,
            error,
            on_submit: move |(items, note): (std::collections::BTreeMap<_, _>, String)| {
                let repo = ui.repo();
                let result = if assess {
                    crate::monthly::assess(&repo, &me, &zone, month, &items, &note)
                } else {
                    crate::monthly::self_score(&repo, &me, &zone, month, &items, &note)
                };
                if ui.saved(result).is_some() {
                    ui.go(Screen::Month { assess, this_month });
                    let mut notice = ui.notice;
                    notice.set(Some((true, format!("✓ {}", tr(lang, T::Scored)))));
                }
            },
            on_back: move |_| ui.go(Screen::Month { assess, this_month }),
        }
    }
}

#[component]
fn CleanupPage(session: Session) -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let me = session.user;
    let mut before = use_signal(Vec::<PhotoRecord>::new);
    let mut after = use_signal(Vec::<PhotoRecord>::new);
    let mut busy = use_signal(|| false);
    let dir = match field::directory(&ui.repo(), &me.branch) {
        Ok(d) => d,
        Err(e) => {
            return rsx! { Unavailable { message: e.message(lang), back: Screen::Home, label: T::Home } };
        }
    };
    let team = dir
        .members
        .get(&me.user)
        .map(|m| m.team.clone())
        .unwrap_or_default();
    let zones: Vec<(String, String)> = dir
        .zones
        .iter()
        .filter(|(_, z)| z.active)
        .map(|(id, z)| (id.clone(), z.name.clone()))
        .collect();
    let error = (ui.notice)().filter(|n| !n.0).map(|n| n.1);
    rsx! {
        cleanup::CleanupForm {
            lang,
            zones,
            team,
            members: members(&dir),
            today: field::today(&ui.repo().clock()),
            before: before().len(),
            after: after().len(),
            busy: busy(),
            error,
            on_photo: move |(is_after, picked): (bool, Vec<Picked>)| {
                busy.set(true);
                spawn(async move {
                    let result = import(ui.repo(), picked).await;
                    busy.set(false);
                    match result {
                        Ok(mut added) if is_after => after.write().append(&mut added),
                        Ok(mut added) => before.write().append(&mut added),
                        Err(e) => ui.failed(crate::i18n::photo_error((ui.lang)(), &e)),
                    }
                });
            },
            on_submit: move |draft: cleanup::CleanupDraft| {
                let items = match cleanup::work_items(&draft.items) {
                    Ok(items) => items,
                    Err(t) => {
                        ui.failed(tr(lang, t).to_owned());
                        return;
                    }
                };
                let input = crate::monthly::CleanupInput {
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
                if ui.saved(crate::monthly::log_cleanup(&ui.repo(), &me, &input)).is_some() {
                    ui.go(Screen::Home);
                    let mut notice = ui.notice;
                    notice.set(Some((true, format!("✓ {}", tr(lang, T::CleanupLogged)))));
                }
            },
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

#[component]
fn RankingsPage(session: Session, branch: Option<String>) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let branches = crate::monthly::branches(&repo).unwrap_or_default();
    let branch = branch
        .or_else(|| {
            branches
                .iter()
                .any(|(b, _)| *b == session.user.branch)
                .then(|| session.user.branch.clone())
        })
        .or_else(|| branches.first().map(|(b, _)| b.clone()))
        .unwrap_or_default();
    let rankings = crate::monthly::rankings(&repo, &branch).unwrap_or_default();
    rsx! {
        ranking::Rankings {
            tz: ui.repo().clock().tz,
            lang,
            branches,
            branch,
            rankings,
            on_branch: move |b| ui.go(Screen::Rankings(Some(b))),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}
