//! Who writes which part of each document, and what values each part may hold: the table of
//! writers here, one file a document kind for its checks.
//!
//! # Layout
//!
//! - [`new_document`]: what a new document's id must name (a branch, a begun month, a zone).
//! - [`directory`], [`patrol`], [`sheet`], [`problem`], [`cleanup`], [`assessment`]: one
//!   checker a kind, called with the change read as that kind.
//! - [`publication`]: the server's reports (read-only) and the managers' publish and reopen
//!   events.
//! - [`rules`]: the mine's rules, versions written by admins from this month onward.
//! - [`evaluation`]: the mutual evaluation's marks (a branch's secretary) and bonuses
//!   (managers).
//!
//! The small refusals and value checks every checker uses live in this file.

mod assessment;
mod cleanup;
mod directory;
mod evaluation;
mod new_document;
mod patrol;
mod problem;
mod publication;
mod rules;
mod sheet;

use std::collections::BTreeMap;

use super::limits::{self, KEY_CHARS, text};
use super::{Change, Refusal, RefusalCode};
use crate::docs::{DocKind, PhotoRef};
use crate::domain::Role;

pub(super) use assessment::assessment;
pub(super) use cleanup::cleanup;
pub(super) use directory::directory;
pub(super) use evaluation::evaluation;
pub(super) use new_document::new_document;
pub(super) use patrol::patrol;
pub(super) use problem::problem;
pub(super) use publication::{publication, report};
pub(super) use rules::rules;
pub(super) use sheet::sheet;

/// Who writes a part: the one writer role of each part of each document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Nobody: fixed at genesis.
    Nobody,
    /// The server alone.
    Server,
    /// Admins.
    Admin,
    /// The branch secretary and admins.
    SecretaryOrAdmin,
    /// A branch's demonstration posts: members apply, the secretary or an admin decides,
    /// managers review and withdraw titles (step by step in `directory.rs`).
    Posts,
    /// The patrol's leader (a secretary, inspector or manager).
    PatrolLeader,
    /// The sheet's own inspector.
    SheetInspector,
    /// Whoever raised the problem (a secretary or inspector).
    Raiser,
    /// The member responsible for the problem.
    Responsible,
    /// A secretary or inspector who did not rectify it.
    Verifier,
    /// The cleanup's team leader.
    CleanupLeader,
    /// A responsible member of the zone.
    ZoneHolder,
    /// The branch secretary.
    Secretary,
    /// Managers.
    Manager,
}

/// The parts of a document kind, besides its header.
pub fn parts_of(kind: DocKind) -> &'static [&'static str] {
    match kind {
        DocKind::Directory => &["info", "zones", "posts", "members", "templates"],
        DocKind::Patrol => &["plan", "notes", "closed_at"],
        DocKind::Sheet => &["zones", "submitted_at"],
        DocKind::Problem => &["finding", "rectifications", "verifications"],
        DocKind::Cleanup => &["log"],
        DocKind::Assessment => &["self_score", "branch_score"],
        DocKind::Report => &[
            "updated_at",
            "zones",
            "open_problems",
            "overdue_problems",
            "branch",
            "cleanups",
            "published",
        ],
        DocKind::Publication => &["events"],
        DocKind::Rules => &["versions"],
        DocKind::Evaluation => &["marks", "bonuses"],
    }
}

/// The writer of a part of a document kind.
pub fn writer_of(kind: DocKind, part: &str) -> Writer {
    match (kind, part) {
        (_, "header") => Writer::Nobody,
        (DocKind::Directory, "info") => Writer::Admin,
        (DocKind::Directory, "posts") => Writer::Posts,
        (DocKind::Directory, _) => Writer::SecretaryOrAdmin,
        (DocKind::Patrol, _) => Writer::PatrolLeader,
        (DocKind::Sheet, _) => Writer::SheetInspector,
        (DocKind::Problem, "finding") => Writer::Raiser,
        (DocKind::Problem, "rectifications") => Writer::Responsible,
        (DocKind::Problem, _) => Writer::Verifier,
        (DocKind::Cleanup, _) => Writer::CleanupLeader,
        (DocKind::Assessment, "self_score") => Writer::ZoneHolder,
        (DocKind::Assessment, _) => Writer::Secretary,
        (DocKind::Report, _) => Writer::Server,
        (DocKind::Publication, _) => Writer::Manager,
        (DocKind::Rules, _) => Writer::Admin,
        (DocKind::Evaluation, "marks") => Writer::Secretary,
        (DocKind::Evaluation, _) => Writer::Manager,
    }
}

fn refuse(code: RefusalCode, part: &str, reason: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal::new(code, part, reason))
}

fn not_writer(part: &str, reason: impl Into<String>) -> Result<(), Refusal> {
    refuse(RefusalCode::NotWriter, part, reason)
}

fn out_of_range(part: &str, reason: impl Into<String>) -> Result<(), Refusal> {
    refuse(RefusalCode::OutOfRange, part, reason)
}

fn photos_ok(part: &str, photos: &BTreeMap<String, PhotoRef>) -> Result<(), Refusal> {
    limits::photos(part, photos)
}

/// A reference to a user or a record by key: no longer than a key can be.
fn key_ok(part: &str, what: &str, key: &str) -> Result<(), Refusal> {
    text(part, what, key, KEY_CHARS)
}

fn role_in(
    c: &Change<'_, impl Sized>,
    part: &str,
    roles: &[Role],
    who: &str,
) -> Result<(), Refusal> {
    if c.actor.roles().any(roles) {
        Ok(())
    } else {
        not_writer(
            part,
            format!(
                "only {who} may change this; you are signed in as {}",
                c.actor.roles_zh()
            ),
        )
    }
}
