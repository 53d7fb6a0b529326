//! What a validation needs besides the document itself: which other documents ([`needs`]),
//! and the [`Context`] made of them once read ([`Gathered`]).
//!
//! The server (the context cache of its sync route, `server/src/sync/check.rs`) and the app
//! (`Repo::edit_as` in `app/src/store/edit.rs`) both check changes with
//! [`validate_change`](super::validate_change). Which documents a check reads is the
//! validator's business, so it is decided here; each side only says how to read a document
//! from its own storage, by implementing [`Source`].
//!
//! ```
//! use zonepatrol_shared::docs::DocId;
//! use zonepatrol_shared::validate::needs;
//!
//! let sheet: DocId = "sheet:b1:p1:wang".parse()?;
//! let ids: Vec<String> = needs(&sheet).ids().map(|id| id.to_string()).collect();
//! assert_eq!(ids, ["directory:b1", "publication:b1", "patrol:b1:p1"]);
//! # Ok::<(), zonepatrol_shared::docs::DocIdError>(())
//! ```

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::Context;
use crate::docs::{Directory, DocId, Document, Lock, Patrol, Publication, Rules};
use crate::rules::period::MineClock;

/// The other documents whose state a document's validation reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Needs {
    /// The branch directory (every kind): a new document's branch, zone holders, members,
    /// checklist templates.
    pub directory: DocId,
    /// The branch publication (every kind): the periods published now, which lock records.
    pub publication: DocId,
    /// For a sheet, its patrol: the inspectors, the zones and the day of the walk.
    pub patrol: Option<DocId>,
    /// For an assessment, the mine's rules: the items of the month's form and their points.
    pub rules: Option<DocId>,
}

impl Needs {
    /// Every id needed, the directory first.
    pub fn ids(&self) -> impl Iterator<Item = &DocId> {
        [&self.directory, &self.publication]
            .into_iter()
            .chain(&self.patrol)
            .chain(&self.rules)
    }
}

/// The documents the validation of a change to `id` reads, besides `id` itself.
pub fn needs(id: &DocId) -> Needs {
    Needs {
        directory: id.branch_directory(),
        publication: id.branch_publication(),
        patrol: id.sheet_patrol(),
        rules: matches!(id, DocId::Assessment { .. }).then(DocId::rules),
    }
}

/// Where the needed documents come from: the server's store, the app's repo.
pub trait Source {
    /// What reading can fail with (storage errors; not a document that does not decode).
    type Error;

    /// Reads a document as its kind. `Ok(None)` when it is not there, and also when it does
    /// not read as its kind: such a document cannot vouch for anything.
    fn read<D: Document>(&mut self, id: &DocId) -> Result<Option<D>, Self::Error>;
}

/// The needed documents, read and decoded, for any number of documents checked: a
/// directory, a publication or a patrol shared by several is read once. Fill it with
/// [`Gathered::gather`] for each document, then lend it with [`Gathered::context`].
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    directories: BTreeMap<DocId, Option<Directory>>,
    locks: BTreeMap<DocId, Vec<Lock>>,
    patrols: BTreeMap<DocId, Option<Patrol>>,
    rules: Option<Option<Rules>>,
}

impl Gathered {
    /// Nothing read yet.
    pub fn new() -> Gathered {
        Gathered::default()
    }

    /// What the validation of `id` needs, read from `source`.
    pub fn of<S: Source>(id: &DocId, source: &mut S) -> Result<Gathered, S::Error> {
        let mut gathered = Gathered::new();
        gathered.gather(id, source)?;
        Ok(gathered)
    }

    /// Reads from `source` whatever the validation of `id` needs and is not held yet.
    pub fn gather<S: Source>(&mut self, id: &DocId, source: &mut S) -> Result<(), S::Error> {
        let Needs {
            directory,
            publication,
            patrol,
            rules,
        } = needs(id);
        if let Some(rules) = rules
            && self.rules.is_none()
        {
            self.rules = Some(source.read::<Rules>(&rules)?);
        }
        if let Entry::Vacant(slot) = self.directories.entry(directory) {
            let read = source.read::<Directory>(slot.key())?;
            slot.insert(read);
        }
        if let Entry::Vacant(slot) = self.locks.entry(publication) {
            let read = source.read::<Publication>(slot.key())?;
            slot.insert(read.map(|p| p.locks()).unwrap_or_default());
        }
        if let Some(patrol) = patrol
            && let Entry::Vacant(slot) = self.patrols.entry(patrol)
        {
            let read = source.read::<Patrol>(slot.key())?;
            slot.insert(read);
        }
        Ok(())
    }

    /// The context for checking a change to `id`, from what was gathered for it; what is
    /// missing (not gathered, not stored, not readable) is `None` or no locks, and the
    /// validator refuses what it cannot check without it.
    pub fn context(&self, id: &DocId, now_millis: Option<i64>, clock: MineClock) -> Context<'_> {
        let Needs {
            directory,
            publication,
            patrol,
            rules,
        } = needs(id);
        Context {
            rules: rules.and(self.rules.as_ref()).and_then(Option::as_ref),
            directory: self.directories.get(&directory).and_then(Option::as_ref),
            patrol: patrol
                .and_then(|p| self.patrols.get(&p))
                .and_then(Option::as_ref),
            locks: self
                .locks
                .get(&publication)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            now_millis,
            clock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::AutoCommit;

    use crate::docs::{self, LockAction, LockEvent};

    /// A store of automerge documents that counts its reads.
    #[derive(Default)]
    struct Store {
        docs: BTreeMap<DocId, AutoCommit>,
        reads: Vec<String>,
    }

    impl Store {
        fn put<D: Document>(&mut self, id: &DocId, f: impl FnOnce(&mut D)) {
            let mut doc = docs::genesis::<D>(id).expect("genesis");
            let mut value: D = docs::read(&doc, id).expect("read");
            f(&mut value);
            docs::write(&mut doc, &value).expect("write");
            self.docs.insert(id.clone(), doc);
        }
    }

    impl Source for Store {
        type Error = std::convert::Infallible;

        fn read<D: Document>(&mut self, id: &DocId) -> Result<Option<D>, Self::Error> {
            self.reads.push(id.to_string());
            Ok(self.docs.get(id).and_then(|d| docs::read(d, id).ok()))
        }
    }

    fn check(id: &str, want: &[&str]) {
        let id: DocId = id.parse().expect("id");
        let got: Vec<String> = needs(&id).ids().map(DocId::to_string).collect();
        assert_eq!(got, want, "{id}");
    }

    #[test]
    fn every_document_needs_its_branch_and_a_sheet_its_patrol() {
        let branch = ["directory:b1", "publication:b1"];
        for id in [
            "directory:b1",
            "publication:b1",
            "patrol:b1:p1",
            "problem:b1:x",
            "cleanup:b1:c1",
            "report:b1:2026-W47",
        ] {
            check(id, &branch);
        }
        check(
            "assessment:b1:z1:2026-11",
            &["directory:b1", "publication:b1", "rules"],
        );
        check(
            "sheet:b1:p1:wang",
            &["directory:b1", "publication:b1", "patrol:b1:p1"],
        );
    }

    #[test]
    fn gathered_documents_are_read_once_and_lent_as_a_context() {
        let mut store = Store::default();
        store.put(&DocId::directory("b1"), |_: &mut Directory| {});
        store.put(&DocId::publication("b1"), |p: &mut Publication| {
            let publish = LockEvent {
                period: "2026-11".into(),
                action: LockAction::Publish,
                by: "mgr".into(),
                at: 1,
                seq: 1,
            };
            p.events.insert("e1".into(), publish);
        });
        store.put(&DocId::patrol("b1", "p1"), |_: &mut Patrol| {});
        // A document that does not read as its kind vouches for nothing.
        store.put(&DocId::directory("b2"), |_: &mut Directory| {});
        let damaged = store.docs.remove(&DocId::directory("b2")).expect("put");
        store.docs.insert(DocId::directory("b3"), damaged);

        let sheet = DocId::sheet("b1", "p1", "wang");
        let problem = DocId::problem("b1", "x");
        let other = DocId::problem("b3", "y");
        let mut gathered = Gathered::new();
        for id in [&sheet, &problem, &sheet, &other] {
            gathered.gather(id, &mut store).expect("infallible");
        }
        assert_eq!(
            store.reads,
            [
                "directory:b1",
                "publication:b1",
                "patrol:b1:p1",
                "directory:b3",
                "publication:b3"
            ]
        );
        let clock = MineClock::default();
        let ctx = gathered.context(&sheet, Some(5), clock);
        assert!(ctx.directory.is_some());
        assert_eq!(
            ctx.patrol.map(|p| p.header.id.as_str()),
            Some("patrol:b1:p1")
        );
        assert_eq!(ctx.locks.len(), 1);
        assert_eq!(ctx.now_millis, Some(5));
        let ctx = gathered.context(&problem, None, clock);
        assert!(ctx.patrol.is_none());
        let ctx = gathered.context(&other, None, clock);
        assert!(ctx.directory.is_none() && ctx.locks.is_empty());
        // Not gathered at all: nothing to lend.
        let nothing = Gathered::new();
        let ctx = nothing.context(&sheet, None, clock);
        assert!(ctx.directory.is_none() && ctx.patrol.is_none());
    }
}
