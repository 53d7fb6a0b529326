//! The screens. Each is a component that takes its data as props and reports what the user
//! did through event handlers; the root [`App`] holds the state and talks to the device core
//! (store, sync, photos). Nothing here touches sled or the network itself.

// `rsx!` expands event handlers into fully qualified paths.
#![allow(unused_qualifications)]

pub mod login;
pub mod score;
pub mod status;
pub mod theme;

use std::sync::Arc;
use std::time::Duration;

use dioxus::prelude::*;
use tokio::sync::Notify;

use crate::i18n::{Lang, T, tr};
use crate::store::Repo;
use crate::sync::{SyncClient, SyncStatus};
use login::LoginForm;
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
    let lang = use_signal(Lang::default);
    let services = try_consume_context::<Services>();
    rsx! {
        style { {theme::CSS} }
        main { lang: lang().code(),
            match services {
                Some(services) => rsx! { Shell { lang: lang(), services } },
                None => rsx! { h1 { {tr(lang(), T::AppTitle)} } },
            }
        }
    }
}

#[component]
fn Shell(lang: Lang, services: Services) -> Element {
    let repo = services.repo.clone();
    let mut session = use_signal(move || repo.session().ok().flatten());
    let mut error = use_signal(|| None::<String>);
    let mut busy = use_signal(|| false);
    let mut status = use_signal(SyncStatus::default);
    let quarantine_repo = services.repo.clone();
    let mut refused = use_signal(move || quarantine_repo.quarantine().map_or(0, |q| q.len()));

    // Background sync for as long as the app runs; its status feeds the banner.
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
                status.set(now);
                // A sync may have put edits in quarantine: the banner counts them.
                refused.set(services.repo.quarantine().map_or(0, |q| q.len()));
            }
        }
    });

    let signed_in = session();
    match signed_in {
        None => {
            let client = services.client.clone();
            let wake = services.wake.clone();
            rsx! {
                LoginForm {
                    lang,
                    server: String::new(),
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
                                Err(e) => error.set(Some(e.to_string())),
                            }
                        });
                    },
                }
            }
        }
        Some(session) => rsx! {
            SyncBanner { lang, status: status(), refused: refused() }
            h1 { {tr(lang, T::AppTitle)} }
            p { "{session.user.user} · {crate::i18n::role(lang, session.user.role)}" }
            button { class: "primary", "data-testid": "start-patrol", {tr(lang, T::StartPatrol)} }
        },
    }
}
