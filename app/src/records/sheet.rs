//! An inspector's score sheet on a patrol: scoring a zone on a walk as plain data and
//! functions, and saving it. What the score screen shows and what each tap does to the sheet:
//! the screen renders [`zone_view`] and sends [`Mark`]s; [`apply`] is what the store runs inside
//! `Repo::edit` on the sheet, so every tap is saved at once and merges with the same
//! inspector's taps on another phone (counters add up).

use zonepatrol_shared::docs::{
    Directory, DocId, FreeText, ItemEntry, Marks, PhotoRef, Sheet, Tally, Template, ZoneSheet,
    in_order_taken,
};
use zonepatrol_shared::rules::scoring::{ItemMark, ItemScore, SheetScore};
use zonepatrol_shared::{Actor, Points, Role};

use super::patrol::{kept_patrol, patrol, zone_order};
use super::{RecordError, check_unlocked, directory};
use crate::i18n::T;
use crate::store::{PhotoRecord, Repo};

/// Whether the user's role scores zones on patrols (the server takes sheets from these alone).
pub fn scores_zones(role: Role) -> bool {
    matches!(role, Role::Secretary | Role::Inspector | Role::Manager)
}

/// The id of the user's own sheet on the patrol a key names (see
/// [`super::patrol::patrol_ref`]).
pub fn sheet_id(me: &Actor, patrol: &str) -> DocId {
    let (branch, name) = super::patrol::patrol_ref(me, patrol);
    DocId::sheet(branch, name, &me.user)
}

/// Everything the score screen of a zone needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneWork {
    /// The zone's name.
    pub name: String,
    /// The template it is scored on.
    pub template_id: String,
    /// The template.
    pub template: Template,
    /// The user's marks so far.
    pub marks: ZoneSheet,
    /// The zone's holders, who are the usual responsible members of a problem.
    pub holders: Vec<String>,
}

/// Opens a zone of a patrol for scoring.
pub fn zone_work(
    repo: &Repo,
    me: &Actor,
    patrol: &str,
    zone: &str,
) -> Result<ZoneWork, RecordError> {
    let dir = directory(repo, super::patrol::patrol_ref(me, patrol).0)?;
    let sheet = repo.read::<Sheet>(&sheet_id(me, patrol))?;
    work_of(&dir, sheet.as_ref(), zone)
}

/// The score screen of a zone: its work and the next zone on the patrol, reading the
/// directory, the patrol and the sheet once each.
pub fn zone_screen(
    repo: &Repo,
    me: &Actor,
    patrol_name: &str,
    zone: &str,
) -> Result<(ZoneWork, Option<String>), RecordError> {
    let dir = directory(repo, super::patrol::patrol_ref(me, patrol_name).0)?;
    let p = patrol(repo, me, patrol_name)?;
    let sheet = repo.read::<Sheet>(&sheet_id(me, patrol_name))?;
    let work = work_of(&dir, sheet.as_ref(), zone)?;
    let next = zone_order(&p)
        .into_iter()
        .skip_while(|id| *id != zone)
        .nth(1)
        .cloned();
    Ok((work, next))
}

fn work_of(dir: &Directory, sheet: Option<&Sheet>, zone: &str) -> Result<ZoneWork, RecordError> {
    let z = dir.zones.get(zone).ok_or_else(|| RecordError::Missing {
        what: "zone",
        id: zone.to_owned(),
    })?;
    let marks = sheet
        .and_then(|s| s.zones.get(zone).cloned())
        .unwrap_or_default();
    // A zone once scored stays on the template it was scored against.
    let template_id = if marks.template.is_empty() {
        z.template.clone()
    } else {
        marks.template.clone()
    };
    let template =
        dir.templates
            .get(&template_id)
            .cloned()
            .ok_or_else(|| RecordError::Missing {
                what: "checklist",
                id: template_id.clone(),
            })?;
    Ok(ZoneWork {
        name: z.name.clone(),
        template_id,
        template,
        marks,
        holders: z
            .holders
            .iter()
            .filter(|(_, on)| **on)
            .map(|(h, _)| h.clone())
            .collect(),
    })
}

/// Changes a zone on the user's sheet, recording its template the first time; returns the
/// zone's marks as saved.
fn edit_zone(
    repo: &Repo,
    me: &Actor,
    patrol_name: &str,
    zone: &str,
    template: &str,
    f: impl FnOnce(&mut ZoneSheet),
) -> Result<ZoneSheet, RecordError> {
    if !me.roles().iter().any(scores_zones) {
        return Err(RecordError::Input(T::OnlyInspectorsScore));
    }
    if let Some(day) = kept_patrol(repo, me, patrol_name)?.plan.date {
        check_unlocked(repo, super::patrol::patrol_ref(me, patrol_name).0, day.0)?;
    }
    Ok(
        repo.edit_as::<Sheet, _>(me, &sheet_id(me, patrol_name), |s| {
            let z = s.zones.entry(zone.to_owned()).or_default();
            if z.template.is_empty() {
                z.template = template.to_owned();
            }
            f(z);
            z.clone()
        })?,
    )
}

/// Records a tap on the score screen; returns the zone's marks as saved. A deduction the
/// template wants a photo of waits for the item's photo (the server refuses it without one):
/// the user is told to take the photo first, and nothing is saved.
pub fn mark(
    repo: &Repo,
    me: &Actor,
    patrol: &str,
    zone: &str,
    template: &str,
    tap: &Mark,
) -> Result<ZoneSheet, RecordError> {
    if let Mark::Deduct { item, rule } = tap {
        let dir = directory(repo, super::patrol::patrol_ref(me, patrol).0)?;
        let wants_photo = dir
            .templates
            .get(template)
            .and_then(|t| t.items.get(item))
            .and_then(|i| i.rules.get(rule))
            .is_some_and(|r| r.needs_photo);
        if wants_photo {
            let sheet = repo.read::<Sheet>(&sheet_id(me, patrol))?;
            let has_photo = sheet
                .as_ref()
                .and_then(|s| s.zones.get(zone))
                .and_then(|z| z.items.get(item))
                .is_some_and(|i| !i.photos.is_empty());
            if !has_photo {
                return Err(RecordError::Input(T::PhotoFirst));
            }
        }
    }
    edit_zone(repo, me, patrol, zone, template, |z| {
        apply(z, template, tap)
    })
}

/// A change to one checklist item of a zone, besides its deductions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEdit<'a> {
    /// Attach a photo.
    Photo(&'a PhotoRecord),
    /// Set the note.
    Note(&'a str),
    /// Take a photo off the item (by the full-size photo's hash).
    RemovePhoto(&'a str),
    /// What the inspector marked on a photo of the item (by the full-size photo's hash).
    MarkPhoto(&'a str, &'a Marks),
}

/// Changes a checklist item: attaches a photo, takes one off or sets the note. Returns the
/// zone's marks as saved. The last photo of an item stays while a deduction the template wants
/// a photo of is counted on it (the evidence of the deduction): the user takes the deduction
/// back first, and nothing is saved.
pub fn edit_item(
    repo: &Repo,
    me: &Actor,
    patrol: &str,
    zone: &str,
    template: &str,
    item: &str,
    edit: ItemEdit<'_>,
) -> Result<ZoneSheet, RecordError> {
    if let ItemEdit::RemovePhoto(hash) = edit {
        let dir = directory(repo, super::patrol::patrol_ref(me, patrol).0)?;
        let rules = dir
            .templates
            .get(template)
            .and_then(|t| t.items.get(item))
            .map(|i| i.rules.clone())
            .unwrap_or_default();
        let sheet = repo.read::<Sheet>(&sheet_id(me, patrol))?;
        let entry = sheet
            .as_ref()
            .and_then(|s| s.zones.get(zone))
            .and_then(|z| z.items.get(item));
        let last = entry.is_some_and(|e| e.photos.len() == 1 && e.photos.contains_key(hash));
        let evidence = entry.is_some_and(|e| {
            e.deductions.iter().any(|(rule, count)| {
                count.value() > 0 && rules.get(rule).is_some_and(|r| r.needs_photo)
            })
        });
        if last && evidence {
            return Err(RecordError::Input(T::DeductionNeedsPhoto));
        }
    }
    // The photo's size, which its marks take their shape from, from the phone's record of it
    // (a reference written before marks existed has none).
    let size = match edit {
        ItemEdit::MarkPhoto(hash, _) => repo.photo(hash)?.map(|p| (p.width, p.height)),
        _ => None,
    };
    edit_zone(repo, me, patrol, zone, template, |z| {
        let entry = entry(z, item);
        match edit {
            ItemEdit::Photo(photo) => {
                // The same photo added again keeps what was marked on it.
                let marks = entry
                    .photos
                    .get(&photo.hash)
                    .map(|p| p.marks.clone())
                    .unwrap_or_default();
                let mut reference = photo.reference();
                reference.marks = marks;
                entry.photos.insert(photo.hash.clone(), reference);
            }
            ItemEdit::Note(note) => entry.note = FreeText(note.trim().to_owned()),
            ItemEdit::RemovePhoto(hash) => {
                entry.photos.remove(hash);
            }
            ItemEdit::MarkPhoto(hash, marks) => {
                if let Some(photo) = entry.photos.get_mut(hash) {
                    photo.marks = marks.clone();
                    if let Some((width, height)) = size
                        && photo.width == 0
                    {
                        (photo.width, photo.height) = (width, height);
                    }
                }
            }
        }
    })
}

/// The most times one deduction is counted on a zone (the server's limit).
pub const MAX_COUNT: i64 = 1000;

/// One tap on the score screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// One more occurrence of a deduction.
    Deduct {
        /// Template item.
        item: String,
        /// Deduction rule of the item.
        rule: String,
    },
    /// One occurrence fewer (never below zero).
    Undo {
        /// Template item.
        item: String,
        /// Deduction rule of the item.
        rule: String,
    },
    /// The item does not apply here, or does again.
    NotApplicable {
        /// Template item.
        item: String,
        /// Whether it does not apply.
        on: bool,
    },
}

/// Applies a tap to the zone's marks. `template` is the zone's template id, recorded the first
/// time the zone is marked so that the score is always computed against it.
pub fn apply(zone: &mut ZoneSheet, template: &str, mark: &Mark) {
    if zone.template.is_empty() {
        zone.template = template.to_owned();
    }
    match mark {
        Mark::Deduct { item, rule } => {
            let tally = entry(zone, item)
                .deductions
                .entry(rule.clone())
                .or_insert_with(|| Tally::new(0));
            // The server counts a deduction at most 1000 times.
            if tally.value() < MAX_COUNT {
                tally.add(1);
            }
        }
        Mark::Undo { item, rule } => {
            if let Some(tally) = entry(zone, item).deductions.get_mut(rule)
                && tally.value() > 0
            {
                tally.add(-1);
            }
        }
        Mark::NotApplicable { item, on } => entry(zone, item).not_applicable = *on,
    }
}

fn entry<'a>(zone: &'a mut ZoneSheet, item: &str) -> &'a mut ItemEntry {
    zone.items.entry(item.to_owned()).or_default()
}

/// A deduction rule as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleView {
    /// Rule id.
    pub id: String,
    /// What is wrong, as the template says.
    pub text: String,
    /// Points per occurrence.
    pub points: Points,
    /// Occurrences marked.
    pub count: i64,
    /// Whether a photo is expected with it.
    pub needs_photo: bool,
}

/// A checklist item as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView {
    /// Item id.
    pub id: String,
    /// Category heading.
    pub category: String,
    /// The requirement.
    pub text: String,
    /// Its maximum.
    pub max: Points,
    /// Its score now.
    pub score: ItemScore,
    /// Marked not applicable.
    pub not_applicable: bool,
    /// The ways to lose points.
    pub rules: Vec<RuleView>,
    /// Photos on the item, in the order taken.
    pub photos: Vec<ItemPhoto>,
    /// The inspector's note on the item.
    pub note: String,
}

/// A photo on a checklist item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPhoto {
    /// The full-size photo's SHA-256.
    pub hash: String,
    /// Its thumbnail's SHA-256.
    pub thumb: String,
    /// The full-size photo's width and height in pixels (0 when not known).
    pub size: (u32, u32),
    /// What the inspector marked on it.
    pub marks: Marks,
}

/// The score screen of one zone: items in template order and the running total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneView {
    /// The items.
    pub items: Vec<ItemView>,
    /// Total, maximum and percentage so far.
    pub score: SheetScore,
}

/// An item's photos in the order taken ([`in_order_taken`]).
fn item_photos(photos: &std::collections::BTreeMap<String, PhotoRef>) -> Vec<ItemPhoto> {
    in_order_taken(photos)
        .into_iter()
        .map(|(hash, p)| ItemPhoto {
            hash: hash.clone(),
            thumb: p.thumb.clone(),
            size: (p.width, p.height),
            marks: p.marks.clone(),
        })
        .collect()
}

/// What the score screen shows for a zone's marks against its template.
pub fn zone_view(template: &Template, zone: &ZoneSheet) -> ZoneView {
    let mut items: Vec<ItemView> = template
        .items
        .iter()
        .map(|(id, item)| {
            let entry = zone.items.get(id);
            let count = |rule: &str| {
                entry
                    .and_then(|e| e.deductions.get(rule))
                    .map_or(0, |t| t.value().max(0))
            };
            let rules: Vec<RuleView> = item
                .rules
                .iter()
                .map(|(rule_id, rule)| RuleView {
                    id: rule_id.clone(),
                    text: rule.text.clone(),
                    points: rule.points,
                    count: count(rule_id),
                    needs_photo: rule.needs_photo,
                })
                .collect();
            let not_applicable = entry.is_some_and(|e| e.not_applicable);
            let mark = ItemMark {
                max: item.max,
                deductions: rules.iter().map(|r| (r.points, r.count)).collect(),
                not_applicable,
            };
            ItemView {
                id: id.clone(),
                category: item.category.clone(),
                text: item.text.clone(),
                max: item.max,
                score: mark.score(),
                not_applicable,
                rules,
                photos: entry.map(|e| item_photos(&e.photos)).unwrap_or_default(),
                note: entry.map(|e| e.note.0.clone()).unwrap_or_default(),
            }
        })
        .collect();
    items.sort_by(|a, b| {
        let order = |v: &ItemView| template.items.get(&v.id).map_or(u64::MAX, |i| i.order);
        order(a).cmp(&order(b)).then_with(|| a.id.cmp(&b.id))
    });
    ZoneView {
        items,
        score: zone.score(template),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use zonepatrol_shared::docs::{DeductionRule, TemplateItem};

    use super::*;

    fn p(s: &str) -> Points {
        s.parse().expect("points")
    }

    fn template() -> Template {
        let rule = |text: &str, points: &str| DeductionRule {
            text: text.into(),
            points: p(points),
            needs_photo: true,
        };
        let mut items = BTreeMap::new();
        items.insert(
            "b-clean".to_owned(),
            TemplateItem {
                order: 2,
                category: "文明生产".into(),
                text: "巷道清洁，无积水".into(),
                max: p("10"),
                rules: BTreeMap::from([
                    ("water".to_owned(), rule("积水", "2")),
                    ("dirt".to_owned(), rule("浮煤", "0.5")),
                ]),
            },
        );
        items.insert(
            "a-sign".to_owned(),
            TemplateItem {
                order: 1,
                category: "五公开".into(),
                text: "责任区牌板齐全".into(),
                max: p("5"),
                rules: BTreeMap::from([("missing".to_owned(), rule("牌板缺失", "5"))]),
            },
        );
        Template {
            name: "责任区检查表".into(),
            supersedes: String::new(),
            items,
        }
    }

    fn deduct(item: &str, rule: &str) -> Mark {
        Mark::Deduct {
            item: item.into(),
            rule: rule.into(),
        }
    }

    #[test]
    fn taps_change_the_running_total() {
        let template = template();
        let mut zone = ZoneSheet::default();
        let view = zone_view(&template, &zone);
        assert_eq!(view.score.total, p("15"));
        assert_eq!(view.items[0].id, "a-sign", "template order");

        for mark in [
            deduct("b-clean", "water"),
            deduct("b-clean", "water"),
            deduct("b-clean", "dirt"),
        ] {
            apply(&mut zone, "t1", &mark);
        }
        assert_eq!(zone.template, "t1");
        let view = zone_view(&template, &zone);
        assert_eq!(view.score.total, p("10.5"));
        assert_eq!(view.items[1].score, ItemScore::Scored(p("5.5")));
        assert_eq!(view.items[1].rules[1].count, 2, "water, after dirt by id");

        apply(
            &mut zone,
            "t1",
            &Mark::Undo {
                item: "b-clean".into(),
                rule: "water".into(),
            },
        );
        assert_eq!(zone_view(&template, &zone).score.total, p("12.5"));

        // N/A leaves the maximum: the percentage is of what applies.
        apply(
            &mut zone,
            "t1",
            &Mark::NotApplicable {
                item: "a-sign".into(),
                on: true,
            },
        );
        let view = zone_view(&template, &zone);
        assert_eq!((view.score.total, view.score.max), (p("7.5"), p("10")));
        assert_eq!(view.score.percent, Some(p("75")));
        assert_eq!(view.items[0].score, ItemScore::NotApplicable);
    }

    #[test]
    fn undo_never_goes_below_zero_and_deductions_stop_at_zero_points() {
        let template = template();
        let mut zone = ZoneSheet::default();
        let undo = Mark::Undo {
            item: "a-sign".into(),
            rule: "missing".into(),
        };
        apply(&mut zone, "t1", &undo);
        assert_eq!(zone_view(&template, &zone).items[0].rules[0].count, 0);
        for _ in 0..3 {
            apply(&mut zone, "t1", &deduct("a-sign", "missing"));
        }
        let view = zone_view(&template, &zone);
        assert_eq!(view.items[0].score, ItemScore::Scored(Points::ZERO));
        assert_eq!(view.score.total, p("10"));
    }
}
