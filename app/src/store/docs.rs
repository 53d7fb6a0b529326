//! Documents as chunks: reading, appending, compaction past [`COMPACT_AT`], and the summaries
//! that lists read.

use automerge::{AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::{self, DocId, Document};

use super::codec::{chunk_key, chunk_prefix, damaged, decode, encode, id_of, key};
use super::{Repo, StoreError};
use crate::index::Summary;

/// A document is rewritten as one snapshot when it would be kept in this many chunks: the
/// server's policy, from `shared`.
pub use zonepatrol_shared::docs::COMPACT_AT;

/// The device's record of one document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct DocRecord {
    /// How many chunks the document is kept in.
    pub(super) chunks: u32,
    /// The heads the server last acknowledged (hex); empty if it never has.
    pub(super) acked: Vec<String>,
    /// Whether there are local changes the server has not acknowledged.
    pub(super) dirty: bool,
}

/// A document's heads, and the heads the server acknowledged (hex).
pub type Heads = (Vec<ChangeHash>, Vec<String>);

/// Puts a document's summary (or its absence) in a batch.
pub(super) fn summarize_into(batch: &mut sled::Batch, id: &str, doc: &AutoCommit) {
    match crate::index::summarize(id, doc) {
        Some(summary) => batch.insert(key(b's', id), encode(&summary)),
        None => batch.remove(key(b's', id)),
    }
}

impl Repo {
    /// The document's record, if the device has it.
    pub(super) fn record(&self, id: &str) -> Result<Option<DocRecord>, StoreError> {
        let k = key(b'd', id);
        self.docs.get(&k)?.map(|v| decode(&k, &v)).transpose()
    }

    /// The document's chunks, concatenated: they load as one.
    pub(super) fn bytes(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        for kv in self.docs.scan_prefix(chunk_prefix(id)) {
            bytes.extend_from_slice(&kv?.1);
        }
        Ok(bytes)
    }

    /// The ids of every document on the device, whoever may see them.
    pub fn ids(&self) -> Result<Vec<String>, StoreError> {
        self.docs
            .scan_prefix(key(b'd', ""))
            .map(|kv| id_of(&kv?.0))
            .collect()
    }

    /// The ids of the documents whose id starts with `prefix` (such as `problem:BRANCH:`) that
    /// the person signed in may see, without reading the documents.
    pub fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for kv in self.docs.scan_prefix(key(b'd', prefix)) {
            let id = id_of(&kv?.0)?;
            if self.shows(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The summaries of the documents whose id starts with `prefix`, with their ids.
    pub fn summaries(&self, prefix: &str) -> Result<Vec<(String, Summary)>, StoreError> {
        self.summaries_containing(prefix, b"")
    }

    /// Like [`Repo::summaries`], decoding only the summaries whose stored form contains
    /// `needle` (such as `"responsible":"h3"`): a quick first cut before the real filter.
    pub fn summaries_containing(
        &self,
        prefix: &str,
        needle: &[u8],
    ) -> Result<Vec<(String, Summary)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.docs.scan_prefix(key(b's', prefix)) {
            let (k, v) = kv?;
            if !needle.is_empty() && !v.windows(needle.len()).any(|w| w == needle) {
                continue;
            }
            let id = id_of(&k)?;
            if self.shows(&id) {
                out.push((id, decode(&k, &v)?));
            }
        }
        Ok(out)
    }

    /// Writes every document's summary again (after an upgrade that changed them).
    pub(super) fn rebuild_summaries(&self) -> Result<(), StoreError> {
        let _guard = self.lock();
        let mut batch = sled::Batch::default();
        for kv in self.docs.scan_prefix([b's', 0]) {
            batch.remove(kv?.0);
        }
        for id in self.ids()? {
            // A damaged document keeps no summary; reading it says what is wrong.
            if let Ok(bytes) = self.bytes(&id)
                && let Ok(doc) = AutoCommit::load(&bytes)
            {
                summarize_into(&mut batch, &id, &doc);
            }
        }
        self.docs.apply_batch(batch)?;
        Ok(())
    }

    /// A document in automerge form, writing with the signed-in person's actor; `None` when
    /// the phone does not have it or the person may not see it.
    pub fn load(&self, id: &str) -> Result<Option<AutoCommit>, StoreError> {
        if !self.shows(id) {
            return Ok(None);
        }
        self.load_any(id)
    }

    /// A document in automerge form, whoever may see it: for the store's own upkeep.
    pub(super) fn load_any(&self, id: &str) -> Result<Option<AutoCommit>, StoreError> {
        if self.record(id)?.is_none() {
            return Ok(None);
        }
        let bytes = self.bytes(id)?;
        let mut doc = AutoCommit::load(&bytes).map_err(|e| damaged(id.as_bytes(), e))?;
        doc.set_actor(self.actor()?);
        Ok(Some(doc))
    }

    /// A document in its Rust shape.
    pub fn read<D: Document>(&self, id: &DocId) -> Result<Option<D>, StoreError> {
        match self.load(&id.to_string())? {
            Some(doc) => Ok(Some(docs::read(&doc, id)?)),
            None => Ok(None),
        }
    }

    /// Appends a chunk to a document (or rewrites it whole past [`COMPACT_AT`]) in one batch.
    pub(super) fn append(
        &self,
        id: &str,
        mut record: DocRecord,
        doc: &mut AutoCommit,
        chunk: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        self.append_to(&mut batch, id, &mut record, doc, chunk)?;
        self.docs.apply_batch(batch)?;
        self.decoded.forget(id);
        Ok(())
    }

    /// Like [`Repo::append`], into a batch the caller applies.
    pub(super) fn append_to(
        &self,
        batch: &mut sled::Batch,
        id: &str,
        record: &mut DocRecord,
        doc: &mut AutoCommit,
        chunk: Vec<u8>,
    ) -> Result<(), StoreError> {
        if docs::compact_due(record.chunks) {
            self.remove_chunks_into(batch, id)?;
            batch.insert(chunk_key(id, 0), doc.save());
            record.chunks = 1;
        } else {
            batch.insert(chunk_key(id, record.chunks), chunk);
            record.chunks += 1;
        }
        batch.insert(key(b'd', id), encode(record));
        summarize_into(batch, id, doc);
        Ok(())
    }

    /// Puts a document rewritten whole into a batch, in place of its chunks: one chunk, with
    /// the acknowledged heads and whether it has unsent changes; its record goes if nothing is
    /// left (`None`, or no heads).
    pub(super) fn rewrite_into(
        &self,
        batch: &mut sled::Batch,
        id: &str,
        doc: Option<&mut AutoCommit>,
        acked: Vec<String>,
        dirty: bool,
    ) -> Result<(), StoreError> {
        self.remove_chunks_into(batch, id)?;
        match doc.and_then(|doc| (!doc.get_heads().is_empty()).then_some(doc)) {
            Some(doc) => {
                summarize_into(batch, id, doc);
                batch.insert(chunk_key(id, 0), doc.save());
                let record = DocRecord {
                    chunks: 1,
                    acked,
                    dirty,
                };
                batch.insert(key(b'd', id), encode(&record));
            }
            None => {
                batch.remove(key(b'd', id));
                batch.remove(key(b's', id));
            }
        }
        Ok(())
    }

    /// Puts the removal of every chunk of a document in a batch.
    pub(super) fn remove_chunks_into(
        &self,
        batch: &mut sled::Batch,
        id: &str,
    ) -> Result<(), StoreError> {
        for kv in self.docs.scan_prefix(chunk_prefix(id)) {
            batch.remove(kv?.0);
        }
        Ok(())
    }

    /// A document's heads and acknowledged heads, for tests and diagnostics.
    pub fn heads(&self, id: &str) -> Result<Option<Heads>, StoreError> {
        let Some(record) = self.record(id)? else {
            return Ok(None);
        };
        let Some(mut doc) = self.load_any(id)? else {
            return Ok(None);
        };
        Ok(Some((doc.get_heads(), record.acked)))
    }
}
