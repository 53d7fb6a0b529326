//! The Zone Patrol server.
//!
//! Today it holds the demo mine: a week of inspections and a month of assessments computed
//! with the shared rules, which `zonepatrol-server demo` prints. The sync server (accounts,
//! the batched sync endpoint, validation of every incoming change, consolidation) is built on
//! this crate next; see `ARCHITECTURE.md`.
//!
//! # Layout
//!
//! - [`demo`]: the demo mine and its figures.

pub mod demo;
