//! End-to-end tests: one binary, one module per story.

mod access;
mod dependencies;
mod device;
mod faults;
mod photos;
mod support;
mod sync;
