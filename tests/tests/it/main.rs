//! End-to-end tests: one binary, one module per story.

mod access;
mod browser;
mod cadence;
mod committee;
mod console;
mod dashboard;
mod dependencies;
mod device;
mod faults;
mod figures;
mod hardening;
mod history;
mod money;
mod mutual;
mod operations;
mod photos;
mod posts;
mod refused;
mod reports;
mod scenario;
mod shared_phone;
mod storage;
mod supervision;
mod support;
mod sync;
mod verification;
