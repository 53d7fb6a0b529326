//! The Zone Patrol field app.
//!
//! A library (device core: store, sync client, photos, state) with the Dioxus UI on top; the
//! UI never touches storage or the network itself. The platform features `desktop` and
//! `mobile` are off by default, so `cargo test --workspace` needs no WebKit or GTK.
//!
//! The device core is here: the sled repository of documents, photos, photo outbox and
//! quarantine ([`store`]), the photo pipeline ([`photo`]), and the sync engine on reqwest with
//! rustls ([`sync`]). The screens come next
//! (see `ARCHITECTURE.md`).
//!
//! # Layout
//!
//! - [`photo`]: camera photo to a small JPEG and a thumbnail, named by SHA-256, off the UI
//!   thread.
//! - [`i18n`]: every string the app shows, Chinese first.
//! - [`index`]: the summaries of patrols and problems that lists read.
//! - [`store`]: the device's repository; a write returns once it is on disk.
//! - [`sync`]: the sync engine, its progress and state.
//! - [`records`]: the records people make, one module per record (patrol, score sheet,
//!   problem, monthly assessment, cleanup, ranking), as plain functions over the store with one
//!   error, [`records::RecordError`].
//! - [`platform`]: where the app keeps its data on Android, iOS and the desktop.
//! - [`ui`]: the screens, and [`App`], the root component.

#[cfg(feature = "e2e")]
pub mod e2e;
pub mod i18n;
pub mod index;
pub mod photo;
pub mod platform;
pub mod qr;
pub mod records;
pub mod store;
pub mod sync;
pub mod ui;

pub use ui::App;

/// The app's name as users see it.
pub const TITLE_ZH: &str = "党员责任区巡查";
