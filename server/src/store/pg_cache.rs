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
//! One cache for the process, whatever the number of mines it serves (each mine's store
//! names its documents by a number of its own), bounded by bytes: the least recently used
//! documents go first.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use lru::LruCache;

use super::StoredDoc;

/// The bytes of documents the process keeps: a large mine's documents a shift pulls (some
/// 1,500 problems and the patrols) are a few MiB.
pub(super) const BUDGET: usize = 64 << 20;

/// The process's cache.
pub(super) static CACHE: LazyLock<DocCache> = LazyLock::new(|| DocCache::new(BUDGET));

/// A number for each store opened in the process, naming its documents in the cache.
pub(super) fn store_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// What one entry costs beside its bytes: its key, heads and the map's own.
const OVERHEAD: usize = 128;

/// The documents kept.
pub(super) struct DocCache {
    budget: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    docs: LruCache<(u64, String), Arc<Kept>>,
    bytes: usize,
}

/// A document as read, with the row it was read at.
pub(super) struct Kept {
    /// The heads as the row stores them.
    pub heads: Vec<u8>,
    /// The document.
    pub doc: StoredDoc,
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

    /// The copy store `store` kept of `id`, with the heads (as stored) it was read at: good
    /// for a row of the database with those heads and its chunk count.
    pub(super) fn get(&self, store: u64, id: &str) -> Option<Arc<Kept>> {
        self.inner().docs.get(&(store, id.to_owned())).cloned()
    }

    /// Keeps `doc` of store `store`, read at a row with these heads; a document larger than
    /// an eighth of the budget is not kept (it would push out many others).
    pub(super) fn put(&self, store: u64, id: &str, heads: &[u8], doc: &StoredDoc) {
        let kept = Kept {
            heads: heads.to_vec(),
            doc: doc.clone(),
        };
        let cost = kept.cost(id);
        if cost > self.budget / 8 {
            return;
        }
        let mut inner = self.inner();
        if let Some(old) = inner.docs.put((store, id.to_owned()), Arc::new(kept)) {
            inner.bytes -= old.cost(id);
        }
        inner.bytes += cost;
        while inner.bytes > self.budget {
            let Some(((_, id), old)) = inner.docs.pop_lru() else {
                break;
            };
            inner.bytes -= old.cost(&id);
        }
    }

    /// Forgets what store `store` kept (its database was emptied).
    pub(super) fn clear(&self, store: u64) {
        let mut inner = self.inner();
        let theirs: Vec<(u64, String)> = inner
            .docs
            .iter()
            .filter(|((s, _), _)| *s == store)
            .map(|(k, _)| k.clone())
            .collect();
        for key in theirs {
            if let Some(old) = inner.docs.pop(&key) {
                inner.bytes -= old.cost(&key.1);
            }
        }
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
            .get(1, id)
            .filter(|kept| kept.heads == heads && kept.doc.chunks == chunks)
            .map(|kept| kept.doc.clone())
    }

    #[test]
    fn a_kept_document_serves_only_the_row_it_was_read_at() {
        let cache = DocCache::new(1 << 20);
        cache.put(1, "a", &[1; 32], &doc(100, 2));
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
        cache.put(1, "a", &[2; 32], &doc(50, 1));
        assert!(hit(&cache, "a", &[1; 32], 2).is_none());
        assert_eq!(
            hit(&cache, "a", &[2; 32], 1).map(|d| d.bytes.len()),
            Some(50)
        );
        // Another store's document of the same id is its own.
        cache.put(2, "a", &[2; 32], &doc(70, 1));
        assert_eq!(
            hit(&cache, "a", &[2; 32], 1).map(|d| d.bytes.len()),
            Some(50)
        );
        cache.clear(1);
        assert!(hit(&cache, "a", &[2; 32], 1).is_none());
        assert!(cache.get(2, "a").is_some(), "the other store's stays");
        cache.clear(2);
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn the_budget_holds_and_the_least_used_go_first() {
        let cache = DocCache::new(10_000);
        for n in 0..100 {
            cache.put(1, &format!("d{n}"), &[n as u8; 32], &doc(500, 1));
            // The first stays in use.
            assert!(hit(&cache, "d0", &[0; 32], 1).is_some(), "after {n}");
            assert!(cache.bytes() <= 10_000);
        }
        assert!(hit(&cache, "d1", &[1; 32], 1).is_none());
        assert!(hit(&cache, "d99", &[99; 32], 1).is_some());
        // Too large to keep.
        cache.put(1, "big", &[0; 32], &doc(5_000, 1));
        assert!(hit(&cache, "big", &[0; 32], 1).is_none());
        assert!(cache.bytes() <= 10_000);
    }
}
