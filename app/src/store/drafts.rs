//! Drafts: what a person has typed into a form and not yet submitted, kept as they type so
//! that a killed app or a flat battery loses nothing. A draft belongs to the user who typed it
//! and never leaves the phone. Its contents are the form's own (JSON the store does not read);
//! the store knows only the photos it holds, so that they are kept while the draft is and
//! collected when it is discarded.
//!
//! Keys in the `drafts` tree: `USER\0FORM`, the form's key chosen by the caller.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::Marks;

use super::codec::{decode, encode};
use super::{Repo, StoreError, now_millis};

/// A form's unsubmitted input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDraft {
    /// Whose draft it is.
    pub user: String,
    /// Which form, as the caller names it.
    pub form: String,
    /// What was typed, in the form's own JSON.
    pub body: String,
    /// The photos the form holds (full-size SHA-256s), in the order taken.
    pub photos: Vec<String>,
    /// What the user marked on its photos, by photo.
    #[serde(default)]
    pub marks: BTreeMap<String, Marks>,
    /// When it was last saved (ms).
    pub updated_at: i64,
}

fn draft_key(user: &str, form: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(user.len() + form.len() + 1);
    k.extend_from_slice(user.as_bytes());
    k.push(0);
    k.extend_from_slice(form.as_bytes());
    k
}

fn user_prefix(user: &str) -> Vec<u8> {
    let mut k = user.as_bytes().to_vec();
    k.push(0);
    k
}

impl Repo {
    /// Keeps a draft, replacing the form's earlier one; on disk when this returns.
    pub fn save_draft(
        &self,
        user: &str,
        form: &str,
        body: &str,
        photos: &[String],
        marks: &BTreeMap<String, Marks>,
    ) -> Result<StoredDraft, StoreError> {
        let draft = StoredDraft {
            user: user.to_owned(),
            form: form.to_owned(),
            body: body.to_owned(),
            photos: photos.to_vec(),
            // Only the marks of photos the draft still holds.
            marks: marks
                .iter()
                .filter(|(hash, m)| !m.is_empty() && photos.contains(hash))
                .map(|(hash, m)| (hash.clone(), m.clone()))
                .collect(),
            updated_at: now_millis(),
        };
        self.drafts.insert(draft_key(user, form), encode(&draft))?;
        self.db.flush()?;
        Ok(draft)
    }

    /// The user's draft of a form, if there is one.
    pub fn draft(&self, user: &str, form: &str) -> Result<Option<StoredDraft>, StoreError> {
        let k = draft_key(user, form);
        self.drafts.get(&k)?.map(|v| decode(&k, &v)).transpose()
    }

    /// The user's drafts, latest first.
    pub fn drafts(&self, user: &str) -> Result<Vec<StoredDraft>, StoreError> {
        let mut out = Vec::new();
        for kv in self.drafts.scan_prefix(user_prefix(user)) {
            let (k, v) = kv?;
            out.push(decode::<StoredDraft>(&k, &v)?);
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.updated_at));
        Ok(out)
    }

    /// The form was submitted: its draft goes, and its photos stay (a document holds them).
    pub fn finish_draft(&self, user: &str, form: &str) -> Result<(), StoreError> {
        self.drafts.remove(draft_key(user, form))?;
        self.db.flush()?;
        Ok(())
    }

    /// The user threw the draft away: it goes, and so do its photos that nothing else holds
    /// (a document, another draft, a refused edit). Returns how many photo files went.
    pub fn discard_draft(&self, user: &str, form: &str) -> Result<usize, StoreError> {
        let Some(draft) = self.draft(user, form)? else {
            return Ok(0);
        };
        self.drafts.remove(draft_key(user, form))?;
        self.db.flush()?;
        self.release_photos(&draft.photos)
    }

    /// Photos taken off a form: their files go (with their thumbnails, records and place in
    /// the outbox) unless something else holds them. Returns how many files went.
    pub fn release_photos(&self, hashes: &[String]) -> Result<usize, StoreError> {
        let mut candidates: BTreeSet<String> = hashes.iter().cloned().collect();
        for hash in hashes {
            if let Some(record) = self.photo(hash)? {
                candidates.insert(record.thumb);
            }
        }
        self.collect(Some(&candidates), Duration::ZERO)
    }

    /// Removes photo files that nothing holds — no document, draft or refused edit — and that
    /// were stored longer than `grace` ago (a photo just taken may not be in its draft yet).
    /// With their files go their records and their place in the outbox. Returns how many files
    /// went.
    pub fn collect_photos(&self, grace: Duration) -> Result<usize, StoreError> {
        self.collect(None, grace)
    }

    /// Every photo something on the phone holds: the photo maps of every document, every
    /// draft's and refused edit's photos, and the thumbnails of those.
    fn held_photos(&self) -> Result<BTreeSet<String>, StoreError> {
        let mut held = BTreeSet::new();
        for id in self.ids()? {
            if let Some(doc) = self.load_any(&id)? {
                held.extend(zonepatrol_shared::docs::values::photo_hashes(&doc));
            }
        }
        for kv in self.drafts.iter() {
            let (k, v) = kv?;
            held.extend(decode::<StoredDraft>(&k, &v)?.photos);
        }
        for refused in self.quarantine()? {
            held.extend(refused.photos);
        }
        let thumbs: Vec<String> = held
            .iter()
            .filter_map(|h| self.photo(h).ok().flatten().map(|r| r.thumb))
            .collect();
        held.extend(thumbs);
        Ok(held)
    }

    fn collect(
        &self,
        only: Option<&BTreeSet<String>>,
        grace: Duration,
    ) -> Result<usize, StoreError> {
        let _turn = self.blob_write.lock().unwrap_or_else(|e| e.into_inner());
        // No document is written while what is held is worked out and the rest removed: a
        // record saved meanwhile (a form submitted, an edit applied again) would be missed.
        let _docs = self.lock();
        let held = self.held_photos()?;
        let now = SystemTime::now();
        let old_enough = |path: &std::path::Path| {
            grace.is_zero()
                || fs::metadata(path)
                    .and_then(|m| m.modified())
                    .map(|t| now.duration_since(t).unwrap_or_default() > grace)
                    .unwrap_or(false)
        };
        let names: Vec<String> = match only {
            Some(set) => set.iter().cloned().collect(),
            None => fs::read_dir(&self.blob_dir)?
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| super::blobs::is_hash(n))
                .collect(),
        };
        let mut removed = 0;
        for hash in names {
            let path = self.blob_path(&hash);
            if held.contains(&hash) || !path.exists() || !old_enough(&path) {
                continue;
            }
            self.photos.remove(hash.as_bytes())?;
            self.outbox.remove(hash.as_bytes())?;
            self.db.flush()?;
            fs::remove_file(&path)?;
            removed += 1;
        }
        Ok(removed)
    }
}
