//! The Zone Patrol field app.
//!
//! A library (device core: store, sync client, photos, records) with the Dioxus UI on top; the
//! UI never touches storage or the network itself. The platform features `desktop` and
//! `mobile` are off by default, so `cargo test --workspace` needs no WebKit or GTK.
//!
//! The device core is the sled repository of documents, photos, photo outbox and quarantine
//! ([`store`]), the photo pipeline ([`photo`]), the sync engine on reqwest with rustls
//! ([`sync`]) and the records people make ([`records`]); the screens ([`ui`]) read and write
//! through the records (see `ARCHITECTURE.md`).
//!
//! # Layout
//!
//! - [`store`]: the device's repository; a write returns once it is on disk.
//! - [`index`]: the summaries of patrols and problems that lists read.
//! - [`records`]: the records people make, one module per record (patrol, score sheet,
//!   problem, monthly assessment, cleanup, ranking), as plain functions over the store with one
//!   error, [`records::RecordError`].
//! - [`photo`]: camera photo to a small JPEG and a thumbnail, named by SHA-256, off the UI
//!   thread.
//! - [`qr`]: the QR code on a zone's placard, read from a photo.
//! - [`sync`]: the sync engine, its progress and state.
//! - [`relay`]: phone to phone with no server: an authenticated channel over which phones hand
//!   each other work to carry to the server.
//! - [`i18n`]: every string the app shows, Chinese first.
//! - [`platform`]: where the app keeps its data on Android, iOS and the desktop.
//! - [`ui`]: the screens, and [`App`], the root component.
//! - `e2e` (feature `e2e` only): the scripted end-to-end run of the desktop app.

#[cfg(feature = "e2e")]
pub mod e2e;
pub mod i18n;
pub mod index;
pub mod photo;
pub mod platform;
pub mod qr;
pub mod records;
pub mod relay;
pub mod store;
pub mod sync;
pub mod ui;

pub use ui::App;

/// The app's name as users see it.
pub const TITLE_ZH: &str = "党员责任区巡查";
