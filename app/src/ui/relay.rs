//! Phone to phone: wait for another phone (showing this phone's address as a QR code) or
//! connect to one, then the record of it all: whom this phone met, what it carries for others
//! and what became of it, and what of its people's work it handed on.

use dioxus::prelude::*;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::labels::moment_label;
use zonepatrol_shared::relay::{Carried, HandOutcome};
use zonepatrol_shared::rules::MineClock;
use zonepatrol_shared::signing::short;

use crate::i18n::{Lang, T, doc_kind, tr};
use crate::relay::{Invite, RelayError, exchange, listen};
use crate::store::{CarryItem, HandedRecord, Meeting};
use crate::ui::{Screen, Ui};

/// What the page shows while a meeting is being set up.
#[derive(Debug, Clone, PartialEq)]
pub enum Waiting {
    /// Nothing going on.
    Idle,
    /// Listening: the address to give the other phone, and its QR code as SVG.
    Listening {
        /// The address and the code, as a person types them (`IP:PORT  1234 5678`).
        invite: String,
        /// The QR code of it.
        svg: String,
    },
    /// Connecting to the other phone.
    Connecting,
}

/// The page's view.
#[component]
pub fn RelayView(
    lang: Lang,
    waiting: Waiting,
    meetings: Vec<Meeting>,
    carrying: Vec<CarryItem>,
    handed: Vec<HandedRecord>,
    on_listen: EventHandler<()>,
    on_connect: EventHandler<String>,
    on_back: EventHandler<()>,
    /// The mine's time zone.
    #[props(default = chrono_tz::Asia::Shanghai)]
    tz: chrono_tz::Tz,
) -> Element {
    let clock = MineClock { tz };
    let mut address = use_signal(String::new);
    let busy = waiting != Waiting::Idle;
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Settings)}" }
        h1 { {tr(lang, T::Relay)} }
        p { class: "hint", {tr(lang, T::RelayHint)} }
        match &waiting {
            Waiting::Listening { invite, svg } => rsx! {
                div { class: "item", "data-testid": "relay-listening",
                    p { {tr(lang, T::RelayShowCode)} }
                    div { class: "qr", dangerous_inner_html: "{svg}" }
                    p { class: "dim", "{invite}" }
                }
            },
            Waiting::Connecting => rsx! { p { class: "dim", {tr(lang, T::RelayConnecting)} } },
            Waiting::Idle => rsx! {
                button { class: "wide primary", "data-testid": "relay-listen",
                    onclick: move |_| on_listen.call(()), {tr(lang, T::RelayListen)} }
                label { r#for: "relay-address", {tr(lang, T::RelayAddress)} }
                input { id: "relay-address", r#type: "text", inputmode: "url",
                    placeholder: "192.168.43.1:47800 1234 5678", value: "{address}",
                    oninput: move |e| address.set(e.value()) }
                button { class: "wide", "data-testid": "relay-connect", disabled: busy,
                    onclick: move |_| on_connect.call(address()), {tr(lang, T::RelayConnect)} }
            },
        }
        h2 { {tr(lang, T::RelayCarrying)} }
        if carrying.is_empty() {
            p { class: "dim", {tr(lang, T::RelayNothing)} }
        }
        for c in carrying {
            div { key: "{c.item.item_id()}", class: "item", "data-testid": "carrying",
                p {
                    strong { {kind_of(lang, c.item.doc())} }
                    " · "
                    {c.item.author()}
                    if matches!(c.item, Carried::Sealed { .. }) {
                        " · "
                        span { class: "dim", {tr(lang, T::RelaySealed)} }
                    }
                }
                p { class: "dim",
                    "{tr(lang, T::RelayFrom)} {c.from_user} · {moment_label(clock, c.at)}"
                }
                match &c.delivered {
                    Some((at, outcome)) => rsx! {
                        p { class: if matches!(outcome, HandOutcome::Refused { .. }) { "error" } else { "ok" },
                            "{tr(lang, T::RelayDelivered)} {moment_label(clock, *at)}: {outcome_text(lang, outcome)}"
                        }
                    },
                    None => rsx! { p { class: "dim", {tr(lang, T::RelayToServer)} } },
                }
            }
        }
        h2 { {tr(lang, T::RelayHanded)} }
        if handed.is_empty() {
            p { class: "dim", {tr(lang, T::RelayNothing)} }
        }
        for h in handed {
            div { key: "{h.handed.sig}", class: "item", "data-testid": "handed",
                p {
                    strong { {kind_of(lang, &h.handed.doc)} }
                    " · {h.handed.user}"
                }
                for (i, (user, key, at)) in h.to.iter().enumerate() {
                    p { key: "{i}", class: "dim",
                        "{tr(lang, T::RelayHandedTo)} {user} ({short(key)}) · {moment_label(clock, *at)}"
                    }
                }
                p { class: if matches!(h.outcome, HandOutcome::Refused { .. }) { "error" } else { "dim" },
                    {outcome_text(lang, &h.outcome)}
                }
            }
        }
        h2 { {tr(lang, T::RelayMeetings)} }
        if meetings.is_empty() {
            p { class: "dim", {tr(lang, T::RelayNothing)} }
        }
        for (i, m) in meetings.into_iter().enumerate() {
            div { key: "{i}", class: "item", "data-testid": "meeting",
                p { strong { "{m.user}" } span { class: "dim", " ({short(&m.key)})" } }
                p { class: "dim",
                    "{moment_label(clock, m.at)} · {tr(lang, T::RelayGave)} {m.gave} · {tr(lang, T::RelayTook)} {m.took}"
                    if m.shown > 0 {
                        " ({tr(lang, T::RelayShown)} {m.shown})"
                    }
                }
                for (j, why) in m.refused.iter().enumerate() {
                    p { key: "{j}", class: "error", "{tr(lang, T::RelayNotTaken)}: {why}" }
                }
            }
        }
    }
}

fn kind_of(lang: Lang, doc: &str) -> String {
    doc.parse::<DocId>()
        .map(|id| doc_kind(lang, id.kind()).to_owned())
        .unwrap_or_else(|_| doc.to_owned())
}

fn outcome_text(lang: Lang, outcome: &HandOutcome) -> String {
    match outcome {
        HandOutcome::Accepted => tr(lang, T::RelayAccepted).to_owned(),
        HandOutcome::Pending => tr(lang, T::RelayPending).to_owned(),
        HandOutcome::Refused { refusal, carrier } => {
            let by = if carrier.is_empty() {
                String::new()
            } else {
                format!(" ({carrier})")
            };
            format!(
                "{}{by}: {}",
                tr(lang, T::RelayRefused),
                crate::i18n::refusal(lang, refusal)
            )
        }
    }
}

/// How long a listening phone waits for the other.
const LISTEN_FOR: std::time::Duration = std::time::Duration::from_secs(300);

/// The port a phone listens on (another if it is taken).
const PORT: u16 = 47_800;

/// This phone's address on the local network: the one its traffic would leave from (no packet
/// is sent).
fn local_ip() -> std::net::IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("10.255.255.255:9")?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
}

fn qr_svg(text: &str) -> String {
    qrcode::QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .build()
        })
        .unwrap_or_default()
}

/// Ends a meeting: the notice, and the lists again.
fn finish(
    ui: Ui,
    mut waiting: Signal<Waiting>,
    result: Result<crate::relay::Exchanged, RelayError>,
) {
    waiting.set(Waiting::Idle);
    let lang = (ui.lang)();
    match result {
        Ok(x) => ui.confirm_text(format!(
            "{} {} · {} {} · {} {}",
            tr(lang, T::RelayDone),
            x.peer,
            tr(lang, T::RelayGave),
            x.gave,
            tr(lang, T::RelayTook),
            x.taken.took
        )),
        Err(e) => ui.failed(crate::i18n::relay_error(lang, &e)),
    }
    let mut revision = ui.revision;
    *revision.write() += 1;
}

/// The page.
#[component]
pub(crate) fn RelayPage() -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let mut waiting = use_signal(|| Waiting::Idle);
    let repo = ui.repo();
    rsx! {
        RelayView {
            lang: (ui.lang)(),
            tz: repo.clock().tz,
            waiting: waiting(),
            meetings: repo.meetings().unwrap_or_default(),
            carrying: repo.carrying().unwrap_or_default(),
            handed: repo.handed().unwrap_or_default(),
            on_listen: move |_| {
                let repo = ui.repo();
                spawn(async move {
                    let socket = match tokio::net::TcpListener::bind(("0.0.0.0", PORT)).await {
                        Ok(s) => Ok(s),
                        Err(_) => tokio::net::TcpListener::bind(("0.0.0.0", 0)).await,
                    };
                    let socket = match socket {
                        Ok(s) => s,
                        Err(e) => return finish(ui, waiting, Err(RelayError::from(e))),
                    };
                    let port = socket.local_addr().map(|a| a.port()).unwrap_or(PORT);
                    let invite = Invite::new(std::net::SocketAddr::new(local_ip(), port));
                    let text = invite.text();
                    waiting.set(Waiting::Listening {
                        svg: qr_svg(&text),
                        invite: format!("{}  {} {}", invite.addr, &invite.code[..4], &invite.code[4..]),
                    });
                    let result = listen(repo, socket, &invite.code, LISTEN_FOR).await;
                    finish(ui, waiting, result);
                });
            },
            on_connect: move |text: String| {
                let repo = ui.repo();
                let Some(invite) = Invite::parse(&text) else {
                    ui.failed(tr((ui.lang)(), T::RelayBadAddress).to_owned());
                    return;
                };
                waiting.set(Waiting::Connecting);
                spawn(async move {
                    let connected = tokio::time::timeout(
                        std::time::Duration::from_secs(15),
                        tokio::net::TcpStream::connect(invite.addr),
                    )
                    .await;
                    let result = match connected {
                        Ok(Ok(stream)) => exchange(repo, stream, true, &invite.code).await,
                        Ok(Err(e)) => Err(RelayError::from(e)),
                        Err(_) => Err(RelayError::Io("timed out".into())),
                    };
                    finish(ui, waiting, result);
                });
            },
            on_back: move |_| ui.go(Screen::Settings),
        }
    }
}
