//! The documents: each kind of record is its own automerge document.
//!
//! Every document is born from a **genesis change** that any device can make on its own and
//! that comes out byte for byte the same everywhere: a fixed actor derived from the document
//! id, time zero, and the header plus every part created empty. Two phones that start the same
//! assessment while offline therefore share its first change, and their edits land in the same
//! objects instead of two rival copies of which only one would survive a merge. After genesis
//! each device writes with its own actor.
//!
//! Each top-level key of a document is a **part** with one writer role (see
//! [`crate::validate`]); the header is fixed at genesis and never written again.

/// Implements [`Document`] for a type named like its [`DocKind`] whose header is its `header`
/// field: `born` builds the document as genesis creates it, from its header.
macro_rules! document {
    ($ty:ident, |$header:ident| $born:block) => {
        impl $crate::docs::Document for $ty {
            const KIND: $crate::docs::DocKind = $crate::docs::DocKind::$ty;

            fn born($header: $crate::docs::Header) -> $ty $born

            fn header(&self) -> &$crate::docs::Header {
                &self.header
            }
        }
    };
}

mod assessment;
mod chunks;
mod cleanup;
mod directory;
mod evaluation;
mod id;
pub mod marks;
mod patrol;
mod problem;
mod publication;
mod report;
mod rules;
mod sheet;
pub mod values;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash};
use autosurgeon::{Hydrate, HydrateError, Reconcile, ReconcileError};
use sha2::{Digest, Sha256};

pub use assessment::{Assessment, Scores};
pub use chunks::{COMPACT_AT, compact_due};
pub use cleanup::{Cleanup, CleanupLog, WorkItem};
pub use directory::{
    BranchInfo, DeductionRule, Directory, Member, Post, PostEvent, PostStatus, PostStep, Template,
    TemplateItem, Zone,
};
pub use evaluation::{Bonus, Evaluation, GivenMark};
pub use id::{DocId, DocIdError, DocKind, is_valid_name};
pub use marks::{MarkKind, Marks, PhotoMark};
pub use patrol::{Patrol, PatrolPlan};
pub use problem::{Extension, Finding, Outcome, Problem, Rectification, Verification};
pub use publication::{Lock, LockAction, LockEvent, Publication};
pub use report::{BranchResult, CleanupTotals, Published, Quantity, Report, ZoneResult};
pub use rules::{GradeMarks, RuleVersion, Rules};
pub use sheet::{ItemEntry, PhotoRef, Sheet, ZoneSheet, in_order_taken};
pub use values::{Day, FreeText, Tally};

/// The schema version this build writes and reads.
pub const SCHEMA: u64 = 1;

/// What every document carries at its root, fixed at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// The document kind, as in [`DocKind::as_str`].
    pub kind: String,
    /// The schema version it was born with.
    pub schema: u64,
    /// The document id; the kind-specific identity (patrol, inspector, zone, month…) is in it.
    pub id: String,
    /// The branch the document belongs to.
    pub branch: String,
}

impl Header {
    /// The header of the document with this id, as genesis writes it.
    pub fn for_id(id: &DocId) -> Header {
        Header {
            kind: id.kind().as_str().to_owned(),
            schema: SCHEMA,
            id: id.to_string(),
            branch: id.branch().to_owned(),
        }
    }
}

/// What can go wrong reading or writing a document.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The bytes are not an automerge document.
    #[error("the document data is damaged or not a Zone Patrol document: {0}")]
    Corrupt(Box<automerge::AutomergeError>),
    /// The document does not have the shape this kind requires.
    #[error("the document does not match the {kind} schema: {source}")]
    Shape {
        /// The kind expected.
        kind: DocKind,
        /// What did not fit.
        source: Box<HydrateError>,
    },
    /// The document is another kind, or another id, than expected.
    #[error("expected the {expected} document {id}, found “{found}”")]
    WrongDocument {
        /// The kind expected.
        expected: DocKind,
        /// The id expected.
        id: String,
        /// What the header says.
        found: String,
    },
    /// A newer app wrote this document.
    #[error("document {id} uses schema {found}, newer than this app's {SCHEMA}: update the app")]
    NewerSchema {
        /// The document id.
        id: String,
        /// Its schema version.
        found: u64,
    },
    /// Writing the document failed.
    #[error("could not write the document: {0}")]
    Write(Box<ReconcileError>),
}

impl From<automerge::AutomergeError> for DocError {
    fn from(e: automerge::AutomergeError) -> DocError {
        DocError::Corrupt(Box::new(e))
    }
}

impl From<ReconcileError> for DocError {
    fn from(e: ReconcileError) -> DocError {
        DocError::Write(Box::new(e))
    }
}

/// A kind of document with its Rust shape.
pub trait Document: Hydrate + Reconcile + Sized {
    /// Its kind.
    const KIND: DocKind;

    /// The document as it is at genesis: the header and every part empty.
    fn born(header: Header) -> Self;

    /// Its header.
    fn header(&self) -> &Header;
}

/// The actor that makes a document's genesis change: derived from the id, so every device
/// derives the same one.
pub fn genesis_actor(id: &DocId) -> ActorId {
    let digest = Sha256::digest(format!("zonepatrol genesis {id}").as_bytes());
    ActorId::from(&digest[..16])
}

/// The actor the server writes its own changes with (reports, publications it makes).
pub fn server_actor() -> ActorId {
    ActorId::from(&Sha256::digest(b"zonepatrol server")[..16])
}

/// Creates a document at its genesis. Every device that calls this with the same id gets the
/// same single change with the same hash. Call [`AutoCommit::set_actor`] with the device's own
/// actor before writing anything else.
pub fn genesis<D: Document>(id: &DocId) -> Result<AutoCommit, DocError> {
    if id.kind() != D::KIND {
        return Err(DocError::WrongDocument {
            expected: D::KIND,
            id: id.to_string(),
            found: id.kind().as_str().to_owned(),
        });
    }
    let mut doc = AutoCommit::new().with_actor(genesis_actor(id));
    autosurgeon::reconcile(&mut doc, D::born(Header::for_id(id)))?;
    doc.commit_with(CommitOptions::default().with_time(0));
    Ok(doc)
}

/// Creates a document of whatever kind its id names, at its genesis.
pub fn genesis_of(id: &DocId) -> Result<AutoCommit, DocError> {
    match id.kind() {
        DocKind::Directory => genesis::<Directory>(id),
        DocKind::Patrol => genesis::<Patrol>(id),
        DocKind::Sheet => genesis::<Sheet>(id),
        DocKind::Problem => genesis::<Problem>(id),
        DocKind::Cleanup => genesis::<Cleanup>(id),
        DocKind::Assessment => genesis::<Assessment>(id),
        DocKind::Report => genesis::<Report>(id),
        DocKind::Rules => genesis::<Rules>(id),
        DocKind::Publication => genesis::<Publication>(id),
        DocKind::Evaluation => genesis::<Evaluation>(id),
    }
}

/// The heads of a document right after genesis: the one genesis change.
pub fn genesis_heads(id: &DocId) -> Result<Vec<ChangeHash>, DocError> {
    Ok(genesis_of(id)?.get_heads())
}

/// Reads a document of a known kind and id, checking its header.
pub fn read<D: Document, R: autosurgeon::ReadDoc>(doc: &R, id: &DocId) -> Result<D, DocError> {
    let header: Header =
        autosurgeon::hydrate_prop(doc, automerge::ROOT, "header").map_err(|source| {
            DocError::Shape {
                kind: D::KIND,
                source: Box::new(source),
            }
        })?;
    if header.schema > SCHEMA {
        return Err(DocError::NewerSchema {
            id: header.id,
            found: header.schema,
        });
    }
    if header.kind != D::KIND.as_str() || header.id != id.to_string() {
        return Err(DocError::WrongDocument {
            expected: D::KIND,
            id: id.to_string(),
            found: format!("{} {}", header.kind, header.id),
        });
    }
    autosurgeon::hydrate(doc).map_err(|source| DocError::Shape {
        kind: D::KIND,
        source: Box::new(source),
    })
}

/// Writes a document's new state into an automerge document: only what changed becomes
/// operations, so concurrent edits elsewhere in the document are untouched.
pub fn write<D: Document>(doc: &mut AutoCommit, value: &D) -> Result<(), DocError> {
    autosurgeon::reconcile(doc, value)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
