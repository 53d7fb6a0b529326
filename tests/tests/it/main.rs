//! End-to-end tests: one binary, one module per story.

mod access;
mod dependencies;
mod faults;
mod support;
mod sync;
