//! Decoded documents kept in memory until they next change on this phone.
//!
//! Every checked edit reads what its validation needs (the branch directory, the published
//! periods, a sheet's patrol) and the field actions read the same documents for their own
//! checks; decoding the directory alone costs more than the edit. [`Repo::read_kept`] decodes
//! a document once and lends it until a write of that document (or a sync) forgets it.
//!
//! A write forgets after its batch is applied, and bumps an epoch; a reader that loaded the
//! document before that write finished keeps its copy only if the epoch did not move, so a
//! stale copy is never kept.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zonepatrol_shared::docs::{self, DocId, Document};

use super::{Repo, StoreError};

/// How many documents stay decoded at most: a phone's checks need a few per branch.
const KEPT: usize = 64;

type Entry = Arc<dyn Any + Send + Sync>;

/// The decoded documents, and the epoch that every write moves.
#[derive(Default)]
pub(super) struct Decoded {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    epoch: u64,
    docs: HashMap<DocId, Entry>,
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoded")
            .field("kept", &self.inner().docs.len())
            .finish()
    }
}

impl Decoded {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets one document: call after a write of it is applied.
    pub(super) fn forget(&self, id: &str) {
        let mut inner = self.inner();
        inner.epoch += 1;
        if let Ok(id) = id.parse::<DocId>() {
            inner.docs.remove(&id);
        }
    }

    /// Forgets every document: call after a write of many is applied.
    pub(super) fn forget_all(&self) {
        let mut inner = self.inner();
        inner.epoch += 1;
        inner.docs.clear();
    }
}

impl Repo {
    /// A document decoded as its kind and shared, `None` if the phone does not have it; kept
    /// decoded until it next changes here. For what checks read again and again; a screen
    /// that shows a document reads it with [`Repo::read`].
    pub fn read_kept<D: Document + Send + Sync + 'static>(
        &self,
        id: &DocId,
    ) -> Result<Option<Arc<D>>, StoreError> {
        let epoch = {
            let inner = self.decoded.inner();
            if let Some(kept) = inner.docs.get(id)
                && let Some(value) = kept.downcast_ref::<Option<Arc<D>>>()
            {
                return Ok(value.clone());
            }
            inner.epoch
        };
        let value = match self.load(&id.to_string())? {
            Some(doc) => Some(Arc::new(docs::read::<D, _>(&doc, id)?)),
            None => None,
        };
        let mut inner = self.decoded.inner();
        if inner.epoch == epoch {
            if inner.docs.len() >= KEPT {
                inner.docs.clear();
            }
            inner.docs.insert(id.clone(), Arc::new(value.clone()));
        }
        Ok(value)
    }
}
