//! End-to-end tests: one binary, one module per story.

mod dependencies;
mod support;
mod sync;
