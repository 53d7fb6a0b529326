//! The screens. Each view is a component that takes its data as props and reports what the
//! user did through event handlers; beside each view, in the same file, is its page: the
//! component that reads the device core (through [`crate::records`]) and hands the view its
//! props. The root [`App`] holds the shared state; nothing here touches sled or the network
//! itself.

// `rsx!` expands event handlers into fully qualified paths.
#![allow(unused_qualifications)]

pub mod annotate;
pub mod cleanup;
pub mod date;
mod draft;
pub mod extension;
pub mod history;
pub mod home;
pub mod login;
pub mod month;
pub mod patrol;
pub mod photo;
pub mod pick;
pub mod post;
pub mod problem;
pub mod ranking;
pub mod relay;
pub mod score;
pub mod settings;
pub mod status;
pub mod theme;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use dioxus::prelude::*;
use tokio::sync::Notify;

use chrono::TimeZone;
use zonepatrol_shared::rules::period::Period;

use crate::i18n::{Lang, LangCode, T, tr};
use crate::records::RecordError;
use crate::store::{Repo, now_millis};
use crate::sync::{SyncClient, SyncStatus};
use cleanup::CleanupPage;
use extension::{MoreTimeListPage, MoreTimePage};
use history::HistoryPage;
use home::HomePage;
use login::LoginPage;
use month::{MonthPage, MonthZonePage};
use patrol::{PatrolPage, StartPage};
use post::{ApplyPage, PostListPage, PostPage};
use problem::{FixPage, ProblemsPage, RaisePage};
use ranking::{RankingsPage, ZoneMonthsPage};
use relay::RelayPage;
use score::ZonePage;
use settings::{QuarantinePage, SettingsPage};
use status::SyncBanner;
use verify::{VerifyListPage, VerifyPage};

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
    /// The fixes the user may verify.
    ToVerify,
    /// One of them.
    Verify(String),
    /// The requests for more time the secretary answers.
    MoreTimeList,
    /// One of them.
    MoreTime(String),
    /// The branch's demonstration posts.
    Posts,
    /// One of them.
    Post(String),
    /// Applying for a post.
    ApplyPost,
    /// Settings.
    Settings,
    /// The refused edits.
    Quarantine,
    /// Phone to phone: meeting other phones, what this one carries and handed on.
    Relay,
    /// A record's history.
    History {
        /// The record.
        id: String,
        /// Where back goes.
        back: Box<Screen>,
    },
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
    /// A zone of a branch month by month.
    ZoneTrend {
        /// The branch.
        branch: String,
        /// The zone.
        zone: String,
    },
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
    fn saved<V>(mut self, result: Result<V, RecordError>) -> Option<V> {
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

    /// Shows that something went well, after the page it leads to is open.
    fn confirm(mut self, done: T) {
        let text = format!("✓ {}", tr((self.lang)(), done));
        self.notice.set(Some((true, text)));
    }

    /// The same, with words of the page's own.
    fn confirm_text(mut self, text: String) {
        self.notice.set(Some((true, format!("✓ {text}"))));
    }

    fn repo(&self) -> Arc<Repo> {
        self.services.peek().repo.clone()
    }
}

/// How many of the signed-in user's edits the server refused.
fn refused_count(repo: &Repo) -> usize {
    let Ok(Some(session)) = repo.session() else {
        return 0;
    };
    repo.quarantine_of(&session.user.user)
        .map_or(0, |q| q.len())
}

/// How long a photo nothing holds is kept before it is collected: one just taken is on its
/// form's draft within a second, so three days is ample.
const PHOTO_GRACE: Duration = Duration::from_secs(3 * 24 * 3600);

#[component]
fn Shell(lang: Signal<Lang>, services: Services) -> Element {
    let repo = services.repo.clone();
    let mut session = use_signal(move || repo.session().ok().flatten());
    let mut status = use_signal(SyncStatus::default);
    let quarantine_repo = services.repo.clone();
    let mut refused = use_signal(move || refused_count(&quarantine_repo));
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
    // Photo files nothing holds any more (a draft's thrown away, a photo taken off a form
    // while the app was killed) are collected once at start, off the UI thread.
    let collecting = services.repo.clone();
    use_hook(move || {
        std::thread::spawn(move || {
            if let Err(e) = collecting.collect_photos(PHOTO_GRACE) {
                eprintln!("zonepatrol: unused photos could not be collected: {e}");
            }
        });
    });
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
                refused.set(refused_count(&services.repo));
                if done {
                    *revision.write() += 1;
                }
            }
        }
    });

    let lang_now = lang();
    let signed_in = session();
    match signed_in {
        None => rsx! { LoginPage { session } },
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
                Screen::ToVerify => rsx! { VerifyListPage { session: me } },
                Screen::Verify(name) => rsx! { VerifyPage { key: "{name}", session: me, name } },
                Screen::MoreTimeList => rsx! { MoreTimeListPage { session: me } },
                Screen::History { id, back } => {
                    rsx! { HistoryPage { key: "{id}", session: me, id, back: *back } }
                }
                Screen::Posts => rsx! { PostListPage { session: me } },
                Screen::Post(id) => rsx! { PostPage { key: "{id}", session: me, id } },
                Screen::ApplyPost => rsx! { ApplyPage { session: me } },
                Screen::MoreTime(name) => {
                    rsx! { MoreTimePage { key: "{name}", session: me, name } }
                }
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
                        on_switch_user: move |_| {
                            let client = ui.services.peek().client.clone();
                            match client.switch_user() {
                                Ok(()) => {
                                    ui.go(Screen::Home);
                                    session.set(None);
                                }
                                Err(e) => ui.failed(crate::i18n::sync_error((ui.lang)(), &e)),
                            }
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
                Screen::ZoneTrend { branch, zone } => {
                    rsx! { ZoneMonthsPage { key: "{branch}/{zone}", branch, zone } }
                }
                Screen::Relay => rsx! { RelayPage {} },
                Screen::Quarantine => rsx! {
                    QuarantinePage {
                        on_change: move |_| {
                            refused.set(refused_count(&ui.repo()));
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
