//! Changing a document: [`Repo::edit`], and [`Repo::edit_as`] which first checks the edit with
//! the rules the server applies.

use std::sync::Arc;

use automerge::AutoCommit;
use automerge::transaction::CommitOptions;
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::{self, DocId, Document};
use zonepatrol_shared::docs::{Directory, Patrol, Publication, Rules};
use zonepatrol_shared::validate::{Context, needs, validate_edit};

use super::codec::damaged;
use super::{Repo, StoreError, now_millis};

impl Repo {
    /// Edits a document (creating it at genesis if the device does not have it), and returns
    /// once the change is on disk. Unchecked: screens edit through [`Repo::edit_as`].
    pub fn edit<D: Document + Clone + 'static, T>(
        &self,
        id: &DocId,
        f: impl FnOnce(&mut D) -> T,
    ) -> Result<T, StoreError> {
        self.edit_checked(id, f, None)
    }

    /// Edits a document as `actor`, first checking the edit with the rules the server applies
    /// ([`validate_edit`]) against this phone's copies of what the validation needs
    /// ([`needs`]: the branch directory, the published periods, a sheet's patrol), decoded
    /// once and kept until they next change ([`Repo::read_kept`]). An edit the server would
    /// refuse is not saved: [`StoreError::Refused`] says why at once, instead of a refusal
    /// after the next sync. While the directory is not on the phone (or does not read), the
    /// server alone checks.
    pub fn edit_as<D: Document + Clone + 'static, T>(
        &self,
        actor: &Actor,
        id: &DocId,
        f: impl FnOnce(&mut D) -> T,
    ) -> Result<T, StoreError> {
        let Some(kept) = self.checks(id) else {
            return self.edit_checked(id, f, None);
        };
        self.edit_checked(id, f, Some((actor, kept.context(self.clock()))))
    }

    /// What checking a change of `id` with the server's rules needs, from this phone's copies
    /// ([`needs`]); `None` while the branch directory is not on the phone (or does not read).
    pub(super) fn checks(&self, id: &DocId) -> Option<Checks> {
        let needs = needs(id);
        let directory = self
            .read_kept::<Directory>(&needs.directory)
            .ok()
            .flatten()?;
        let patrol = match &needs.patrol {
            Some(patrol) => self.read_kept::<Patrol>(patrol).ok().flatten(),
            None => None,
        };
        let locks = self
            .read_kept::<Publication>(&needs.publication)
            .ok()
            .flatten()
            .map(|p| p.locks())
            .unwrap_or_default();
        let rules = match &needs.rules {
            Some(rules) => self.read_kept::<Rules>(rules).ok().flatten(),
            None => None,
        };
        Some(Checks {
            directory,
            patrol,
            locks,
            rules,
        })
    }

    fn edit_checked<D: Document + Clone + 'static, T>(
        &self,
        id: &DocId,
        f: impl FnOnce(&mut D) -> T,
        check: Option<(&Actor, Context<'_>)>,
    ) -> Result<T, StoreError> {
        let text_id = id.to_string();
        let _guard = self.lock();
        let record = self.record(&text_id)?;
        let (mut doc, old_heads) = match &record {
            Some(_) => {
                let bytes = self.bytes(&text_id)?;
                let mut doc =
                    AutoCommit::load(&bytes).map_err(|e| damaged(text_id.as_bytes(), e))?;
                let heads = doc.get_heads();
                (doc, Some(heads))
            }
            None => (docs::genesis::<D>(id)?, None),
        };
        doc.set_actor(self.actor()?);
        let mut value: D = docs::read(&doc, id)?;
        // The validator compares the value as read with the value as written: the document
        // is neither copied nor decoded again (the parts touched come from its history).
        let before = check.as_ref().map(|_| value.clone());
        let out = f(&mut value);
        docs::write(&mut doc, &value)?;
        doc.commit_with(CommitOptions::default().with_time(now_millis() / 1000));
        if old_heads.as_ref() == Some(&doc.get_heads()) {
            return Ok(out);
        }
        if let (Some((actor, context)), Some(before)) = (&check, &before) {
            let before_heads = old_heads.as_deref().unwrap_or_default();
            validate_edit(
                actor,
                id,
                before_heads,
                before,
                doc.document(),
                &value,
                context,
            )
            .map_err(StoreError::Refused)?;
        }
        let chunk = match &old_heads {
            Some(heads) => doc.save_after(heads),
            None => doc.save(),
        };
        let mut record = record.unwrap_or_default();
        record.dirty = true;
        self.append(&text_id, record, &mut doc, chunk)?;
        self.db.flush()?;
        Ok(out)
    }
}

/// This phone's copies of what the validator needs for one document (see [`Repo::checks`]).
pub(super) struct Checks {
    directory: Arc<Directory>,
    patrol: Option<Arc<Patrol>>,
    locks: Vec<docs::Lock>,
    rules: Option<Arc<Rules>>,
}

impl Checks {
    /// The validator's context, now.
    pub(super) fn context(
        &self,
        clock: zonepatrol_shared::rules::period::MineClock,
    ) -> Context<'_> {
        Context {
            directory: Some(&self.directory),
            patrol: self.patrol.as_deref(),
            locks: &self.locks,
            rules: self.rules.as_deref(),
            now_millis: Some(now_millis()),
            clock,
        }
    }
}
