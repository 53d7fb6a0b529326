//! The documents an instance read from PostgreSQL, kept in its memory: at a shift change every
//! phone pulls the same documents, and without this each pull would fetch every one's bytes
//! from the database again.
//!
//! A kept document is used only when the database's row names the same heads and chunk count
//! it was read with. Heads name a document's whole history (each hash covers every change
//! before it), so a kept copy with the row's heads holds exactly the stored changes, whichever
//! instance wrote them and whatever happened to the database meanwhile (a restore, a move); the
//! chunk count keeps a compaction visible to the sync route, which compacts by it. The row is
//! read in the same transaction as ever, so a pull still sees one snapshot, and a document
//! changed elsewhere is simply read again.
//!
//! Bounded by bytes: the least recently used documents go first.

use std::sync::Mutex;

use lru::LruCache;

use super::StoredDoc;

/// The bytes of documents one store (a mine) keeps: a large mine's documents a shift pulls
/// (some 1,500 problems and the patrols) are a few MiB.
pub(super) const BUDGET: usize = 64 << 20;

/// What one entry costs beside its bytes: its key, heads and the map's own.
const OVERHEAD: usize = 128;

/// The documents kept.
pub(super) struct DocCache {
    budget: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    docs: LruCache<String, Kept>,
    bytes: usize,
}

/// A document as read, with the row it was read at.
struct Kept {
    heads: Vec<u8>,
    doc: StoredDoc,
}

impl Kept {
    fn cost(&self, id: &str) -> usize {
        self.doc.bytes.len() + self.heads.len() + id.len() + OVERHEAD
    }
}

impl DocCache {
    /// An empty cache holding at most `budget` bytes.
    pub(super) fn new(budget: usize) -> DocCache {
        DocCache {
            budget,
            inner: Mutex::new(Inner {
                docs: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The copy kept of `id`, with the heads (as stored) it was read at: good for a row of
    /// the database with those heads and its chunk count.
    pub(super) fn get(&self, id: &str) -> Option<(Vec<u8>, StoredDoc)> {
        let mut inner = self.inner();
        let kept = inner.docs.get(id)?;
        Some((kept.heads.clone(), kept.doc.clone()))
    }

    /// Keeps `doc`, read at a row with these heads; a document larger than an eighth of the
    /// budget is not kept (it would push out many others).
    pub(super) fn put(&self, id: &str, heads: &[u8], doc: &StoredDoc) {
        let kept = Kept {
            heads: heads.to_vec(),
            doc: doc.clone(),
        };
        let cost = kept.cost(id);
        if cost > self.budget / 8 {
            return;
        }
        let mut inner = self.inner();
        if let Some(old) = inner.docs.put(id.to_owned(), kept) {
            inner.bytes -= old.cost(id);
        }
        inner.bytes += cost;
        while inner.bytes > self.budget {
            let Some((id, old)) = inner.docs.pop_lru() else {
                break;
            };
            inner.bytes -= old.cost(&id);
        }
    }

    /// Forgets everything (the database was emptied).
    pub(super) fn clear(&self) {
        let mut inner = self.inner();
        inner.docs.clear();
        inner.bytes = 0;
    }

    /// The bytes kept now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(len: usize, chunks: u32) -> StoredDoc {
        StoredDoc {
            bytes: vec![7; len],
            heads: Vec::new(),
            chunks,
        }
    }

    /// The document kept for `id` if good for a row with these heads and chunk count.
    fn hit(cache: &DocCache, id: &str, heads: &[u8], chunks: u32) -> Option<StoredDoc> {
        cache
            .get(id)
            .filter(|(kept, doc)| kept == heads && doc.chunks == chunks)
            .map(|(_, doc)| doc)
    }

    #[test]
    fn a_kept_document_serves_only_the_row_it_was_read_at() {
        let cache = DocCache::new(1 << 20);
        cache.put("a", &[1; 32], &doc(100, 2));
        assert_eq!(
            hit(&cache, "a", &[1; 32], 2).map(|d| d.bytes.len()),
            Some(100)
        );
        // Other heads (written since, or a restored database), another chunk count (compacted),
        // another document: read again.
        assert!(hit(&cache, "a", &[2; 32], 2).is_none());
        assert!(hit(&cache, "a", &[1; 32], 1).is_none());
        assert!(hit(&cache, "b", &[1; 32], 2).is_none());
        // A newer read replaces the older.
        cache.put("a", &[2; 32], &doc(50, 1));
        assert!(hit(&cache, "a", &[1; 32], 2).is_none());
        assert_eq!(
            hit(&cache, "a", &[2; 32], 1).map(|d| d.bytes.len()),
            Some(50)
        );
        cache.clear();
        assert!(hit(&cache, "a", &[2; 32], 1).is_none());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn the_budget_holds_and_the_least_used_go_first() {
        let cache = DocCache::new(10_000);
        for n in 0..100 {
            cache.put(&format!("d{n}"), &[n as u8; 32], &doc(500, 1));
            // The first stays in use.
            assert!(hit(&cache, "d0", &[0; 32], 1).is_some(), "after {n}");
            assert!(cache.bytes() <= 10_000);
        }
        assert!(hit(&cache, "d1", &[1; 32], 1).is_none());
        assert!(hit(&cache, "d99", &[99; 32], 1).is_some());
        // Too large to keep.
        cache.put("big", &[0; 32], &doc(5_000, 1));
        assert!(hit(&cache, "big", &[0; 32], 1).is_none());
        assert!(cache.bytes() <= 10_000);
    }
}
