//! A score sheet: one inspector's marks on one patrol. Nobody else ever reads it; reports
//! show aggregates only.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::values::{FreeText, Tally};
use super::{Header, Template};
use crate::rules::scoring::{ItemMark, SheetScore, sheet_score};

/// One inspector × patrol. Written by that inspector alone.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Sheet {
    /// Fixed at genesis; the patrol and the inspector are in the id.
    pub header: Header,
    /// The marks for each zone visited.
    pub zones: BTreeMap<String, ZoneSheet>,
    /// When the inspector handed the sheet in.
    pub submitted_at: Option<i64>,
}

/// The marks for one zone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct ZoneSheet {
    /// The id of the template scored against, taken from the zone when it is opened. The
    /// score is computed against that template as the directory holds it now, so a template
    /// once used must not change its points (a new version takes a new id).
    pub template: String,
    /// Marks by template item id; an item without marks has its full score.
    pub items: BTreeMap<String, ItemEntry>,
    /// A note on the zone as a whole.
    pub note: FreeText,
}

/// The marks on one item.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct ItemEntry {
    /// The item does not apply here (不涉及).
    pub not_applicable: bool,
    /// Occurrences per deduction rule id: a counter, so taps on the + and − add up.
    pub deductions: BTreeMap<String, Tally>,
    /// A note on the item.
    pub note: FreeText,
    /// Photos of the item by SHA-256.
    pub photos: BTreeMap<String, PhotoRef>,
}

/// A photo, stored once by content and referred to by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hydrate, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PhotoRef {
    /// SHA-256 of the thumbnail's bytes.
    pub thumb: String,
    /// When it was taken, from the camera, in milliseconds since the Unix epoch.
    pub taken_at: Option<i64>,
    /// The full-size photo's width in pixels (0 when not known): the shape of its marks.
    #[autosurgeon(missing = "Default::default")]
    pub width: u32,
    /// The full-size photo's height in pixels (0 when not known).
    #[autosurgeon(missing = "Default::default")]
    pub height: u32,
    /// What the person who took it marked on it (see [`super::marks`]).
    #[autosurgeon(missing = "Default::default")]
    pub marks: super::Marks,
}

/// Photos in the order taken: by the camera's time, those without one last, then by hash.
pub fn in_order_taken(photos: &BTreeMap<String, PhotoRef>) -> Vec<(&String, &PhotoRef)> {
    let mut taken: Vec<(&String, &PhotoRef)> = photos.iter().collect();
    taken.sort_by(|a, b| {
        (a.1.taken_at.is_none(), a.1.taken_at)
            .cmp(&(b.1.taken_at.is_none(), b.1.taken_at))
            .then_with(|| a.0.cmp(b.0))
    });
    taken
}

/// Written field by field, except that the size and the marks are left out while they say
/// nothing and the document does not hold them: a photo referred to before they existed is
/// written back as it was, so that someone else's edit of the record never touches a part
/// (a finding, a fix) it may not write.
impl Reconcile for PhotoRef {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: autosurgeon::Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        use autosurgeon::reconcile::MapReconciler;
        let mut m = reconciler.map()?;
        m.put("thumb", &self.thumb)?;
        m.put("taken_at", self.taken_at)?;
        if self.width != 0 || m.entry("width").is_some() {
            m.put("width", self.width)?;
        }
        if self.height != 0 || m.entry("height").is_some() {
            m.put("height", self.height)?;
        }
        if !self.marks.is_empty() || m.entry("marks").is_some() {
            m.put("marks", &self.marks)?;
        }
        Ok(())
    }
}

impl PhotoRef {
    /// Its marks as an overlay for a page that shows it cropped to its box or in a box of its
    /// own shape (see [`super::marks::overlay_svg`]).
    pub fn overlay(&self, class: &str) -> String {
        super::marks::overlay_svg(&self.marks, self.width, self.height, class)
    }

    /// The same for a page that shows it whole inside its box.
    pub fn overlay_contained(&self, class: &str) -> String {
        use super::marks::{Fit, overlay_svg_fit};
        overlay_svg_fit(&self.marks, self.width, self.height, class, Fit::Contain)
    }
}

impl ZoneSheet {
    /// Scores the zone against its template. Items of the template without marks count in
    /// full; marks on items or rules the template does not know count for nothing.
    pub fn score(&self, template: &Template) -> SheetScore {
        let marks: Vec<ItemMark> = template
            .items
            .iter()
            .map(|(id, item)| {
                let entry = self.items.get(id);
                ItemMark {
                    max: item.max,
                    not_applicable: entry.is_some_and(|e| e.not_applicable),
                    deductions: entry
                        .map(|e| {
                            e.deductions
                                .iter()
                                .filter_map(|(rule, n)| {
                                    item.rules.get(rule).map(|r| (r.points, n.value()))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
        sheet_score(&marks)
    }
}

document!(Sheet, |header| {
    Sheet {
        header,
        zones: BTreeMap::new(),
        submitted_at: None,
    }
});
