//! Signing in: server address, user name, password. Once; the session is remembered. With the
//! server out of reach (underground), whoever signed in on this phone before signs in on the
//! phone alone; the people who have are listed, one tap to pick.

use dioxus::prelude::*;

use crate::i18n::{Lang, T, tr};
use crate::store::Session;
use crate::ui::Ui;

/// What the form hands over when it is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginInput {
    /// The server's base URL.
    pub server: String,
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

/// Checks the form; the error is the string to show.
pub fn check(server: &str, user: &str, password: &str) -> Result<LoginInput, T> {
    let server = server.trim().trim_end_matches('/');
    let server = if server.is_empty() {
        return Err(T::NeedServer);
    } else if server.starts_with("http://") || server.starts_with("https://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    };
    let user = user.trim();
    if user.is_empty() {
        return Err(T::NeedUserName);
    }
    if password.is_empty() {
        return Err(T::NeedPassword);
    }
    Ok(LoginInput {
        server,
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// The sign-in form. `error` is shown above the button; `busy` while the server is asked.
#[component]
pub fn LoginForm(
    lang: Lang,
    server: String,
    error: Option<String>,
    busy: bool,
    on_submit: EventHandler<LoginInput>,
    /// The fingerprint of the mine's own certificate authority, when the phone trusts one.
    #[props(default)]
    authority: Option<String>,
    /// Trust the pasted authority (`Some(pem)`), or stop trusting it (`None`).
    #[props(default)]
    on_trust: EventHandler<Option<String>>,
    /// The people who may sign in on this phone without the server.
    #[props(default)]
    known: Vec<String>,
) -> Element {
    let mut server = use_signal(|| server);
    let mut pem = use_signal(String::new);
    let trusted = authority.is_some();
    let mut user = use_signal(String::new);
    // A picked name is written into the field by making the field anew with it.
    let mut picked = use_signal(String::new);
    let mut password = use_signal(String::new);
    let mut problem = use_signal(|| None::<T>);
    let shown = problem().map(|t| tr(lang, t).to_owned()).or(error);
    rsx! {
        h1 { {tr(lang, T::SignInTitle)} }
        form {
            novalidate: true,
            onsubmit: move |e: FormEvent| {
                e.prevent_default();
                match check(&server(), &user(), &password()) {
                    Ok(input) => {
                        problem.set(None);
                        on_submit.call(input);
                    }
                    Err(t) => problem.set(Some(t)),
                }
            },
            // Uncontrolled fields: the page keeps what is typed, the signals follow it. Setting
            // the value back on every key loses keys when the phone is slow.
            label { r#for: "server", {tr(lang, T::Server)} }
            input { id: "server", name: "server", r#type: "text", inputmode: "url",
                autocomplete: "url", autocapitalize: "none", spellcheck: "false",
                initial_value: "{server}", oninput: move |e| server.set(e.value()) }
            label { r#for: "user", {tr(lang, T::UserName)} }
            if !known.is_empty() {
                div { class: "choices", role: "group", "aria-label": tr(lang, T::KnownUsers),
                    for name in known {
                        button { key: "{name}", r#type: "button", class: "choice",
                            "aria-pressed": "{user() == name}", "data-testid": "known-{name}",
                            onclick: move |_| {
                                user.set(name.clone());
                                picked.set(name.clone());
                            },
                            "{name}"
                        }
                    }
                }
            }
            input { key: "{picked}", id: "user", name: "user", autocomplete: "username",
                autocapitalize: "none", spellcheck: "false", initial_value: "{picked}",
                oninput: move |e| user.set(e.value()) }
            label { r#for: "password", {tr(lang, T::Password)} }
            input { id: "password", name: "password", r#type: "password",
                autocomplete: "current-password", oninput: move |e| password.set(e.value()) }
            if let Some(text) = shown {
                p { class: "error", role: "alert", "{text}" }
            }
            button { class: "primary", r#type: "submit", disabled: busy, "data-testid": "sign-in",
                if busy { {tr(lang, T::SigningIn)} } else { {tr(lang, T::SignIn)} }
            }
        }
        details { class: "authority", open: trusted,
            summary { {tr(lang, T::MineAuthority)} }
            if let Some(fingerprint) = authority {
                p { class: "dim", "data-testid": "authority",
                    "{tr(lang, T::AuthorityTrusted)} " code { "{fingerprint}" }
                }
                button { r#type: "button", onclick: move |_| on_trust.call(None),
                    {tr(lang, T::StopTrusting)}
                }
            }
            label { r#for: "pem", {tr(lang, T::AuthorityHint)} }
            textarea { id: "pem", rows: "4", spellcheck: "false", autocapitalize: "none",
                placeholder: "-----BEGIN CERTIFICATE-----",
                oninput: move |e| pem.set(e.value()) }
            button { r#type: "button", "data-testid": "trust",
                onclick: move |_| on_trust.call(Some(pem())),
                {tr(lang, T::TrustAuthority)}
            }
        }
    }
}

/// The sign-in page: the form, and the server asked with what it hands over. Signing in sets
/// `session`.
#[component]
pub(crate) fn LoginPage(session: Signal<Option<Session>>) -> Element {
    let ui = use_context::<Ui>();
    let mut error = use_signal(|| None::<String>);
    let mut busy = use_signal(|| false);
    let services = ui.services.peek().clone();
    let (client, wake) = (services.client.clone(), services.wake.clone());
    let mut trusted = use_signal(|| {
        client
            .trusted_authority()
            .ok()
            .flatten()
            .and_then(|pem| crate::sync::authority_fingerprint(&pem))
    });
    let trusting = client.clone();
    let known: Vec<String> = services
        .repo
        .accounts()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.unlocks_offline())
        .map(|a| a.user.user)
        .collect();
    rsx! {
        LoginForm {
            lang: (ui.lang)(),
            known,
            server: services.repo.last_server().ok().flatten().unwrap_or_default(),
            error: error(),
            busy: busy(),
            authority: trusted(),
            on_trust: move |pem: Option<String>| {
                match trusting.trust_authority(pem.as_deref()) {
                    Ok(()) => {
                        error.set(None);
                        trusted.set(pem.as_deref().and_then(crate::sync::authority_fingerprint));
                    }
                    Err(e) => error.set(Some(crate::i18n::sync_error((ui.lang)(), &e))),
                }
            },
            on_submit: move |input: LoginInput| {
                let client = client.clone();
                let wake = wake.clone();
                busy.set(true);
                spawn(async move {
                    let device = client.repo().device_name().unwrap_or_default();
                    let result = client
                        .sign_in(&input.server, &input.user, &input.password, &device)
                        .await;
                    busy.set(false);
                    match result {
                        Ok(signed_in) => {
                            error.set(None);
                            session.set(client.repo().session().ok().flatten());
                            if signed_in.offline {
                                ui.confirm(T::SignedInOffline);
                            }
                            wake.notify_one();
                        }
                        Err(e) => error.set(Some(crate::i18n::sync_error((ui.lang)(), &e))),
                    }
                });
            },
        }
    }
}
