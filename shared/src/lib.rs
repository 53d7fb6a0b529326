//! Zone Patrol's shared core: domain types, document schema, rules, validation.
//!
//! Both the field app and the server call this crate, so a score, a ranking, a refusal or a
//! sum of money is computed by the same code everywhere. It does no IO: no files, no network,
//! no async runtime. `cargo tree -p zonepatrol-shared` shows no tokio, sled, reqwest or axum,
//! and a test in `tests/` keeps it so.
//!
//! # Layout
//!
//! - [`points`]: exact points (hundredths) and money (fen).
//! - [`domain`]: roles, actors, branch categories, patrol kinds, severities.
//! - [`docs`]: the automerge documents, their ids, genesis and Rust shapes.
//! - [`validate`]: may this person make this change? The server's authority, the app's warning.
//! - [`rules`]: checklist scoring, weekly aggregation and ranking, money, grades, periods,
//!   the problem lifecycle and suggested monthly scores.

pub mod docs;
pub mod domain;
pub mod points;
pub mod rules;

pub use domain::{Actor, BranchCategory, PatrolKind, Role, Severity};
pub use points::{Fen, Points};
pub mod validate;
