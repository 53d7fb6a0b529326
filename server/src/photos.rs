//! Which documents point at each photo: who may read a document that points at a photo may
//! read the photo, and nobody else but its uploader. Kept in memory, filled at start from every
//! stored document and kept in step with every accepted write.

use std::collections::{BTreeSet, HashMap};

use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{Visits, may_read_visiting};

/// The photos each document points at, and the documents that point at each photo.
#[derive(Debug, Default)]
pub struct PhotoIndex {
    by_photo: HashMap<String, BTreeSet<DocId>>,
    by_doc: HashMap<DocId, BTreeSet<String>>,
}

impl PhotoIndex {
    /// Records the photos a document points at now, replacing what it pointed at before.
    pub fn replace(&mut self, id: &DocId, photos: BTreeSet<String>) {
        if let Some(old) = self.by_doc.remove(id) {
            for hash in old.difference(&photos) {
                if let Some(docs) = self.by_photo.get_mut(hash) {
                    docs.remove(id);
                    if docs.is_empty() {
                        self.by_photo.remove(hash);
                    }
                }
            }
        }
        for hash in &photos {
            self.by_photo
                .entry(hash.clone())
                .or_default()
                .insert(id.clone());
        }
        if !photos.is_empty() {
            self.by_doc.insert(id.clone(), photos);
        }
    }

    /// Whether a stored document points at the photo.
    pub fn holds(&self, hash: &str) -> bool {
        self.by_photo.contains_key(hash)
    }

    /// Whether `user` may read a document that points at the photo (as a visitor too).
    pub fn may_read(&self, user: &Actor, visits: &Visits, hash: &str) -> bool {
        self.by_photo
            .get(hash)
            .is_some_and(|docs| docs.iter().any(|id| may_read_visiting(user, id, visits)))
    }
}
