//! The Zone Patrol field app.
//!
//! A library (device core: store, sync client, photos, state) with the Dioxus UI on top; the
//! UI never touches storage or the network itself. The platform features `desktop` and
//! `mobile` are off by default, so `cargo test --workspace` needs no WebKit or GTK.
//!
//! Today the crate holds the app's shell: the root component and the platform entry point.
//! The device core and the screens are built on it next (see `ARCHITECTURE.md`).
//!
//! # Layout
//!
//! - [`App`]: the root component.

use dioxus::prelude::*;

/// The app's name as users see it.
pub const TITLE_ZH: &str = "党员责任区巡查";

/// The root component.
#[allow(non_snake_case)]
pub fn App() -> Element {
    rsx! {
        main { lang: "zh-CN",
            h1 { "{TITLE_ZH}" }
        }
    }
}
