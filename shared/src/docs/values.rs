//! Value types as they are stored in documents.
//!
//! - [`Points`] is stored as an integer number of hundredths.
//! - [`Day`] is a calendar date at the mine, stored as `YYYY-MM-DD`.
//! - [`Tally`] is an automerge counter: concurrent increments add up.
//! - [`FreeText`] is an automerge text object: two people typing into the same note merge
//!   character by character.

use std::fmt;

use automerge::ObjId;
use autosurgeon::reconcile::{CounterReconciler, NoKey, TextReconciler};
use autosurgeon::{Hydrate, HydrateError, ReadDoc, Reconcile, Reconciler};
use chrono::NaiveDate;

use crate::points::Points;

impl Reconcile for Points {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.i64(self.0)
    }
}

impl Hydrate for Points {
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        Ok(Points(i))
    }
}

/// A calendar date at the mine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub NaiveDate);

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Reconcile for Day {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for Day {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Day)
            .map_err(|_| HydrateError::unexpected("a date as YYYY-MM-DD", s.to_owned()))
    }
}

/// A number that several writers add to: an automerge counter.
///
/// Remembers the value it was loaded with, so that saving writes only the change made since,
/// as an increment that merges with everyone else's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    value: i64,
    loaded: Option<i64>,
}

impl Tally {
    /// A new tally with a starting value.
    pub fn new(value: i64) -> Tally {
        Tally {
            value,
            loaded: None,
        }
    }

    /// The current value.
    pub fn value(&self) -> i64 {
        self.value
    }

    /// Adds (or, with a negative number, takes away).
    pub fn add(&mut self, by: i64) {
        self.value = self.value.saturating_add(by);
    }
}

impl PartialEq for Tally {
    fn eq(&self, other: &Tally) -> bool {
        self.value == other.value
    }
}

impl Eq for Tally {}

impl Reconcile for Tally {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        let mut counter = reconciler.counter()?;
        match self.loaded {
            Some(loaded) if loaded == self.value => Ok(()),
            Some(loaded) => counter.increment(self.value.saturating_sub(loaded)),
            None => counter.set(self.value),
        }
    }
}

impl Hydrate for Tally {
    fn hydrate_counter(c: i64) -> Result<Self, HydrateError> {
        Ok(Tally {
            value: c,
            loaded: Some(c),
        })
    }
}

/// Free text that two people may edit at once, stored as an automerge text object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FreeText(pub String);

impl FreeText {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for FreeText {
    fn from(s: &str) -> FreeText {
        FreeText(s.to_owned())
    }
}

impl Reconcile for FreeText {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        // `update` goes to automerge's own text diff, which keeps concurrent edits and counts
        // positions the way automerge does, whatever the script.
        reconciler.text()?.update(&self.0)
    }
}

impl Hydrate for FreeText {
    fn hydrate_text<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
        Ok(FreeText(doc.text(obj)?))
    }
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        Ok(FreeText(s.to_owned()))
    }
}

/// Keys of photo maps: a photo is known by the SHA-256 of its bytes.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Every photo a document points at: the keys of its photo maps (`photos`, and a cleanup's
/// `before` and `after`) and their `thumb`s, wherever those maps stand in the document, so that
/// a new kind of record with photos needs no change here. Whoever may read the document may
/// read these photos. A SHA-256 written anywhere else (in a note, say) points at nothing.
pub fn photo_hashes<D: automerge::ReadDoc>(doc: &D) -> std::collections::BTreeSet<String> {
    use automerge::{ObjType, ReadDoc as Read, Value, ValueRef};
    type Found = std::collections::BTreeSet<String>;
    const PHOTO_MAPS: [&str; 3] = ["photos", "before", "after"];
    fn walk<D: Read>(doc: &D, obj: &ObjId, photo_map: bool, depth: usize, out: &mut Found) {
        // Documents are a few levels deep; a deeper one is not ours and is not followed.
        if depth > 16 {
            return;
        }
        for item in Read::map_range(doc, obj, ..) {
            let ValueRef::Object(ObjType::Map | ObjType::Table) = item.value else {
                continue;
            };
            if photo_map && is_sha256_hex(&item.key) {
                out.insert(item.key.to_string());
                if let Ok(Some((Value::Scalar(thumb), _))) = Read::get(doc, item.id(), "thumb")
                    && let Some(thumb) = thumb.as_str()
                    && is_sha256_hex(thumb)
                {
                    out.insert(thumb.to_owned());
                }
            } else {
                let photos = PHOTO_MAPS.contains(&item.key.as_ref());
                walk(doc, &item.id(), photos, depth + 1, out);
            }
        }
    }
    let mut out = Found::new();
    walk(doc, &automerge::ROOT, false, 0, &mut out);
    out
}
