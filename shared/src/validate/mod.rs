//! Validation: may this person make this change to this document?
//!
//! The server calls [`validate_change`] on every incoming change before it stores it, and is
//! the authority. The app calls it too, before it saves an edit (`Repo::edit_as`), against its
//! own copies of the directory, the patrol and the published periods, so that what the server
//! would refuse is refused at once, with the reason. It looks at
//! what the change does (the automerge patches from the stored state to the new one), maps
//! each patch to the document part it touches, and checks, in order:
//!
//! 1. a new document begins with its own genesis change ([`crate::docs::genesis`]);
//! 2. the writer belongs to the document's branch (managers and admins work company-wide; outside
//!    their own branch a person acts only in those roles);
//! 3. the header is never written, and only known parts are;
//! 4. each touched part is written by its one writer role (see the table in
//!    `ARCHITECTURE.md`), and records signed by someone are changed only by them;
//! 5. values are in range (a score inside `0..=max`, counts not negative, known items);
//! 6. no touched document falls in a period that a manager has published ([`locks`]).
//!
//! The first failure is returned as a [`Refusal`] whose reason says what to do.

pub mod limits;
pub mod locks;
mod needs;
mod parts;

use std::collections::{BTreeMap, BTreeSet};

use automerge::{Automerge, ChangeHash, Patch, PatchAction, Prop, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

use crate::docs::{
    self, Directory, DocError, DocId, DocKind, Document, Header, Lock, Patrol, Rules,
};
use crate::domain::Actor;
use crate::rules::period::MineClock;

pub use needs::{Gathered, Needs, Source, needs};
pub use parts::{Writer, parts_of, writer_of};

/// What the validator needs to know besides the document itself. Which documents these are
/// is [`needs`]; [`Gathered::context`] builds one from them once read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The branch directory: zone holders and checklist templates.
    pub directory: Option<&'a Directory>,
    /// For a sheet, its patrol: the inspectors and the date.
    pub patrol: Option<&'a Patrol>,
    /// The periods of the document's branch that are published now.
    pub locks: &'a [Lock],
    /// For an assessment, the mine's rules: the month's form. `None` is the default form.
    pub rules: Option<&'a Rules>,
    /// The time now (milliseconds since the Unix epoch), to refuse records dated in the
    /// future; `None` skips that check.
    pub now_millis: Option<i64>,
    /// The mine's clock, which makes `now_millis` a date for the checks of days.
    pub clock: MineClock,
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The document or its data cannot be read as its kind.
    Malformed,
    /// A new document does not begin with its genesis change.
    NotGenesis,
    /// The writer is not of the document's branch.
    WrongBranch,
    /// The writer may not write this part.
    NotWriter,
    /// The header or an unknown part was written.
    Immutable,
    /// A value is out of range or refers to something that does not exist.
    OutOfRange,
    /// The document falls in a published period.
    Locked,
}

/// A refused change: which part, and why, in words that say what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{part}: {reason}")]
pub struct Refusal {
    /// The kind of refusal.
    pub code: RefusalCode,
    /// The document part concerned (`finding`, `self_score`…), or `document`.
    pub part: String,
    /// The reason.
    pub reason: String,
}

impl Refusal {
    fn new(code: RefusalCode, part: &str, reason: impl Into<String>) -> Refusal {
        Refusal {
            code,
            part: part.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The parts a change touches, with the record keys touched inside each part.
pub type Touched = BTreeMap<String, BTreeSet<String>>;

fn action_prop(action: &PatchAction) -> Option<String> {
    match action {
        PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => Some(key.clone()),
        PatchAction::Increment {
            prop: Prop::Map(key),
            ..
        }
        | PatchAction::Conflict {
            prop: Prop::Map(key),
        } => Some(key.clone()),
        _ => None,
    }
}

/// Whether a patch only writes null into a key the object did not have: what writing back a
/// record read without a field added since (`missing = default`) does. It changes nothing a
/// reader sees, so it touches nothing: a holder's fix must not count as touching an
/// inspector's old verification because the app wrote its new empty field.
fn fills_a_missing_field(
    doc: &Automerge,
    before: &[ChangeHash],
    after: &[ChangeHash],
    patch: &Patch,
) -> bool {
    // Only a field of a record (root → part → record → field): a null record, photo or part
    // would not read, and is a change like any other.
    if patch.path.len() != 2 {
        return false;
    }
    let is_null =
        |v: &Value<'_>| matches!(v, Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Null));
    let key = match &patch.action {
        PatchAction::PutMap {
            key,
            value: (value, _),
            ..
        } if is_null(value) => key,
        // Two phones filled the same field at once: every value there is null.
        PatchAction::Conflict {
            prop: Prop::Map(key),
        } => key,
        _ => return false,
    };
    let all_null = |heads: &[ChangeHash]| {
        doc.get_all_at(&patch.obj, key.as_str(), heads)
            .is_ok_and(|values| values.iter().all(|(v, _)| is_null(v)))
    };
    // Missing or null before (another phone filled it first), and null now.
    all_null(before) && all_null(after)
}

/// The parts touched between two states of a document, from automerge's own diff.
pub fn touched(doc: &Automerge, before: &[ChangeHash], after: &[ChangeHash]) -> Touched {
    touched_and_filled(doc, before, after).0
}

/// [`touched`], and whether any patch was passed over as filling a missing field (then the
/// state after must still read, which [`validate`] checks even when nothing else is touched).
fn touched_and_filled(
    doc: &Automerge,
    before: &[ChangeHash],
    after: &[ChangeHash],
) -> (Touched, bool) {
    let mut out = Touched::new();
    let mut filled = false;
    for patch in doc.diff(before, after) {
        if fills_a_missing_field(doc, before, after, &patch) {
            filled = true;
            continue;
        }
        let mut props = patch.path.iter().map(|(_, p)| match p {
            Prop::Map(k) => Some(k.clone()),
            Prop::Seq(_) => None,
        });
        let first = props.next();
        let second = props.next();
        let (part, record) = match (first, second) {
            (Some(Some(part)), Some(record)) => (part, record),
            (Some(Some(part)), None) => (part, action_prop(&patch.action)),
            (None, _) => match action_prop(&patch.action) {
                Some(part) => (part, None),
                None => continue,
            },
            (Some(None), _) => continue,
        };
        let entry = out.entry(part).or_default();
        if let Some(record) = record {
            entry.insert(record);
        }
    }
    (out, filled)
}

/// Checks a change: `before` is the document as the server has it (empty for a new one) and
/// `after` is the same document with the incoming changes applied.
pub fn validate_change(
    actor: &Actor,
    id: &DocId,
    before: &Automerge,
    after: &Automerge,
    ctx: &Context<'_>,
) -> Result<(), Refusal> {
    let heads = before.get_heads();
    validate(
        actor,
        id,
        &heads,
        State::Doc(before),
        after,
        State::Doc(after),
        ctx,
    )
}

/// Checks an edit made through a document's value, as the app makes every edit: the same
/// checks as [`validate_change`], given the values instead of documents to decode again —
/// `before` as read before the edit, with the heads the document had then (none for a new
/// document), and `after` as written into `after_doc`, the document with the edit committed
/// (the parts touched are taken from its history).
pub fn validate_edit<D: Document + Clone + 'static>(
    actor: &Actor,
    id: &DocId,
    before_heads: &[ChangeHash],
    before: &D,
    after_doc: &Automerge,
    after: &D,
    ctx: &Context<'_>,
) -> Result<(), Refusal> {
    let (before, after) = (State::Value(before), State::Value(after));
    validate(actor, id, before_heads, before, after_doc, after, ctx)
}

/// One state of a document, as the validator is given it.
#[derive(Clone, Copy)]
enum State<'a> {
    /// The document, to decode.
    Doc(&'a Automerge),
    /// The document's value, decoded already.
    Value(&'a dyn std::any::Any),
}

impl State<'_> {
    /// The state as its kind.
    fn decode<D: Document + Clone + 'static>(self, id: &DocId) -> Result<D, Refusal> {
        match self {
            State::Doc(doc) => docs::read(doc, id).map_err(|e| malformed(&e)),
            State::Value(value) => value.downcast_ref::<D>().cloned().ok_or_else(|| {
                Refusal::new(
                    RefusalCode::Malformed,
                    "document",
                    format!("the value checked is not a {}", id.kind()),
                )
            }),
        }
    }
}

fn validate(
    actor: &Actor,
    id: &DocId,
    before_heads: &[ChangeHash],
    before: State<'_>,
    after: &Automerge,
    after_value: State<'_>,
    ctx: &Context<'_>,
) -> Result<(), Refusal> {
    let before_heads = before_heads.to_vec();
    let after_heads = after.get_heads();
    let is_new = before_heads.is_empty();
    let base = if is_new {
        let genesis = docs::genesis_heads(id).map_err(|e| malformed(&e))?;
        if genesis
            .iter()
            .any(|h| after.get_change_by_hash(h).is_none())
        {
            return Err(Refusal::new(
                RefusalCode::NotGenesis,
                "document",
                format!(
                    "a new {} must begin with its genesis change: create it with the app",
                    id.kind()
                ),
            ));
        }
        genesis
    } else {
        before_heads
    };
    // Outside their own branch a person acts only in their company-wide roles: a manager who
    // is also a branch's secretary is not a secretary of every branch. The mine's rules
    // belong to no branch: who writes them is the writer table's question.
    // A visitor on a patrol of another branch (the party committee's inspection) writes their
    // own sheet on it, in their own roles, and nothing else there.
    let visiting = || match (id, ctx.patrol) {
        (
            DocId::Sheet {
                branch,
                patrol: name,
                inspector,
            },
            Some(patrol),
        ) if *inspector == actor.user
            && patrol.header.id == DocId::patrol(branch, name).to_string()
            && (patrol.plan.inspectors.get(&actor.user) == Some(&true)
                || patrol.plan.leader == actor.user) =>
        {
            Some(actor.clone())
        }
        _ => None,
    };
    let Some(acting) = actor.in_branch(id.branch()).or_else(visiting) else {
        return Err(Refusal::new(
            RefusalCode::WrongBranch,
            "document",
            format!(
                "this document belongs to branch {}, and you to branch {}: only your own branch's records can be changed",
                id.branch(),
                actor.branch
            ),
        ));
    };
    let actor = &acting;

    if is_new {
        parts::new_document(
            actor,
            id,
            ctx,
            &limits::Bounds::new(ctx.now_millis, ctx.clock),
        )?;
    }
    let (touched, filled) = touched_and_filled(after, &base, &after_heads);
    if touched.is_empty() {
        // Nothing a reader sees changed; the document must still read as its kind.
        return if filled {
            input_decodes(id, State::Doc(after))
        } else {
            Ok(())
        };
    }

    let known = parts_of(id.kind());
    for part in touched.keys() {
        whole_part_kept(after, &base, part)?;
        if part == "header" {
            return Err(Refusal::new(
                RefusalCode::Immutable,
                "header",
                "the header is fixed when the document is created and cannot be changed",
            ));
        }
        if !known.contains(&part.as_str()) {
            return Err(Refusal::new(
                RefusalCode::Immutable,
                part,
                format!("a {} has no part “{part}”: update the app", id.kind()),
            ));
        }
    }

    let input = Input {
        actor,
        id,
        before,
        after: after_value,
        is_new,
        touched: &touched,
        ctx,
    };
    match id.kind() {
        DocKind::Directory => input.check(parts::directory),
        DocKind::Patrol => input.check(parts::patrol),
        DocKind::Sheet => input.check(parts::sheet),
        DocKind::Problem => input.check(parts::problem),
        DocKind::Cleanup => input.check(parts::cleanup),
        DocKind::Assessment => input.check(parts::assessment),
        DocKind::Report => input.check(parts::report),
        DocKind::Publication => input.check(parts::publication),
        DocKind::Rules => input.check(parts::rules),
        DocKind::Evaluation => input.check(parts::evaluation),
    }
}

/// A part is edited in place, never replaced or shadowed: replacing a part's object would
/// drop every record in it without a patch for each, and a second concurrent value would hide
/// what the validator cannot see.
fn whole_part_kept(doc: &Automerge, base: &[ChangeHash], part: &str) -> Result<(), Refusal> {
    let all = doc
        .get_all(automerge::ROOT, part)
        .map_err(|e| malformed(&e.into()))?;
    if all.len() > 1 {
        return Err(Refusal::new(
            RefusalCode::Immutable,
            part,
            "this change makes a second, rival copy of the part: sync first, then edit",
        ));
    }
    let was = doc
        .get_at(automerge::ROOT, part, base)
        .map_err(|e| malformed(&e.into()))?;
    let is = all.into_iter().next();
    match (was, is) {
        (Some((Value::Object(_), old)), Some((_, new))) if old != new => Err(Refusal::new(
            RefusalCode::Immutable,
            part,
            "a part cannot be replaced as a whole: edit its records one by one",
        )),
        (Some((Value::Object(_), _)), None) => Err(Refusal::new(
            RefusalCode::Immutable,
            part,
            "a part cannot be removed",
        )),
        _ => Ok(()),
    }
}

fn malformed(e: &DocError) -> Refusal {
    Refusal::new(RefusalCode::Malformed, "document", format!("{e}"))
}

/// Whether a state reads as its document's kind.
fn input_decodes(id: &DocId, state: State<'_>) -> Result<(), Refusal> {
    match id.kind() {
        DocKind::Directory => state.decode::<Directory>(id).map(drop),
        DocKind::Patrol => state.decode::<Patrol>(id).map(drop),
        DocKind::Sheet => state.decode::<docs::Sheet>(id).map(drop),
        DocKind::Problem => state.decode::<docs::Problem>(id).map(drop),
        DocKind::Cleanup => state.decode::<docs::Cleanup>(id).map(drop),
        DocKind::Assessment => state.decode::<docs::Assessment>(id).map(drop),
        DocKind::Report => state.decode::<docs::Report>(id).map(drop),
        DocKind::Publication => state.decode::<docs::Publication>(id).map(drop),
        DocKind::Rules => state.decode::<Rules>(id).map(drop),
        DocKind::Evaluation => state.decode::<docs::Evaluation>(id).map(drop),
    }
}

/// What a per-kind checker sees.
pub(crate) struct Change<'a, D> {
    pub actor: &'a Actor,
    pub id: &'a DocId,
    /// The state before; for a new document, as born.
    pub before: D,
    pub after: D,
    pub touched: &'a Touched,
    pub ctx: &'a Context<'a>,
    /// The dates and times allowed now.
    pub bounds: limits::Bounds,
}

type Checker<D> = fn(&Change<'_, D>) -> Result<(), Refusal>;

/// A change as it arrived: the documents still in automerge form.
struct Input<'a> {
    actor: &'a Actor,
    id: &'a DocId,
    before: State<'a>,
    after: State<'a>,
    is_new: bool,
    touched: &'a Touched,
    ctx: &'a Context<'a>,
}

impl Input<'_> {
    /// Reads both states as the document kind the checker takes, and runs it.
    fn check<D: Document + Clone + 'static>(&self, checker: Checker<D>) -> Result<(), Refusal> {
        let before: D = if self.is_new {
            D::born(Header::for_id(self.id))
        } else {
            self.before.decode(self.id)?
        };
        let after: D = self.after.decode(self.id)?;
        checker(&Change {
            actor: self.actor,
            id: self.id,
            before,
            after,
            touched: self.touched,
            ctx: self.ctx,
            bounds: limits::Bounds::new(self.ctx.now_millis, self.ctx.clock),
        })
    }
}

#[cfg(test)]
mod tests;
