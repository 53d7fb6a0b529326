//! Zone Patrol's shared core: domain types, document schema, rules, validation.
//!
//! Both the field app and the server call this crate, so a score, a ranking, a refusal or a
//! sum of money is computed by the same code everywhere. It does no IO: no files, no network,
//! no async runtime. `cargo tree -p zonepatrol-shared` shows no tokio, sled, reqwest or axum,
//! and a test in `tests/` keeps it so.
//!
//! ```
//! use zonepatrol_shared::rules::{InspectionRule, MoneyRule};
//! use zonepatrol_shared::Points;
//!
//! // Five inspectors: the highest and the lowest are dropped, the rest averaged.
//! let scores: Vec<Points> = ["70", "80", "85", "90", "95"]
//!     .iter()
//!     .map(|s| s.parse())
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(InspectionRule::default().zone_result(&scores), Some(Points::whole(85)));
//!
//! // 97 points in the month earn 10 yuan for each point above 95.
//! assert_eq!(MoneyRule::default().money(Points::whole(97)).to_string(), "+20.00");
//! # Ok::<(), zonepatrol_shared::points::ParsePointsError>(())
//! ```
//!
//! # Layout
//!
//! - [`points`]: exact points (hundredths) and money (fen).
//! - [`domain`]: roles, actors, branch categories, patrol kinds, severities.
//! - [`docs`]: the automerge documents, their ids, genesis and Rust shapes.
//! - [`protocol`]: the sync protocol's bodies, errors and who may read which document.
//! - [`signing`]: device and server keys, signatures over changes, the server's chained log.
//! - [`audit`]: a branch's audit export and its verification, from the export alone.
//! - [`validate`]: may this person make this change? The server's authority, the app's warning;
//!   which documents a check needs ([`validate::needs`]) and the lock check ([`validate::locks`]).
//! - [`labels`]: the names of roles, periods, grades and kinds of record, in Chinese and English.
//! - [`rules`]: checklist scoring, weekly aggregation and ranking, money, grades, periods,
//!   the problem lifecycle and suggested monthly scores.

pub mod audit;
pub mod docs;
pub mod domain;
pub mod history;
pub mod labels;
pub mod points;
pub mod protocol;
pub mod relay;
pub mod rules;
pub mod signing;

pub use domain::{Actor, BranchCategory, PatrolKind, Role, Roles, Severity};
pub use points::{Fen, Points};
pub mod validate;
