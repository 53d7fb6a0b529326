//! What a stored document contributes, read from it: a sheet's marks scored against its
//! branch's templates, the parts of a directory, a patrol, a problem or a cleanup that the
//! results use.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use chrono::NaiveDate;
use zonepatrol_shared::docs::{
    self, Assessment, Cleanup, Directory, DocId, Evaluation, ItemEntry, Patrol, Problem,
    Publication, Rules, Tally, ZoneSheet,
};
use zonepatrol_shared::rules::period::MineClock;
use zonepatrol_shared::{BranchCategory, Severity};

use super::{
    BranchFacts, CleanupFacts, DESCRIPTION_CHARS, EvaluationFacts, Facts, PatrolFacts, PostFacts,
    ProblemFacts, ZoneFacts,
};
use crate::consolidate::{Consolidator, shorten};

impl BranchFacts {
    /// What a directory gives: its zones, posts, members and templates; the clock places a
    /// post's steps on their days.
    fn of(d: Directory, clock: MineClock) -> BranchFacts {
        let zone = |z: &docs::Zone| ZoneFacts {
            name: z.name.clone(),
            location: z.location.clone(),
            active: z.active,
            holders: on(&z.holders),
            shares: z.shares.clone(),
            template: d
                .templates
                .get(&z.template)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
        };
        BranchFacts {
            name: d.info.name.clone(),
            category: u8::try_from(d.info.category)
                .ok()
                .and_then(|n| BranchCategory::try_from(n).ok()),
            zones: d
                .zones
                .iter()
                .map(|(id, z)| (id.clone(), zone(z)))
                .collect(),
            posts: d
                .posts
                .iter()
                .map(|(id, p)| {
                    let post = PostFacts {
                        zone: p.zone.clone(),
                        title: p.title.clone(),
                        standard: p.standard.clone(),
                        duty: p.duty.clone(),
                        assessor: p.assessor.clone(),
                        starts: p.starts.map(|d| d.0),
                        ends: p.ends.map(|d| d.0),
                        steps: p
                            .events_in_order()
                            .into_iter()
                            .filter_map(|(_, e)| Some((clock.date_of_millis(e.at)?, e.step)))
                            .collect(),
                    };
                    (id.clone(), post)
                })
                .collect(),
            members: d
                .members
                .iter()
                .map(|(id, m)| (id.clone(), m.name.clone()))
                .collect(),
            templates: d.templates,
        }
    }
}

/// The user ids switched on in a set of them.
fn on(users: &BTreeMap<String, bool>) -> Vec<String> {
    users
        .iter()
        .filter(|(_, on)| **on)
        .map(|(u, _)| u.clone())
        .collect()
}

impl PatrolFacts {
    /// What a patrol gives: its plan (the leader counts as an inspector) and whether it is
    /// closed.
    fn of(p: Patrol) -> PatrolFacts {
        PatrolFacts {
            kind: p.plan.kind,
            date: p.plan.date.map(|d| d.0),
            inspectors: on(&p.plan.inspectors)
                .into_iter()
                .chain([p.plan.leader.clone()])
                .collect(),
            zones: p.plan.zones.keys().cloned().collect(),
            closed: p.closed_at.is_some(),
        }
    }
}

impl ProblemFacts {
    /// What a problem raised on `raised` gives; `None` when it has no zone.
    fn of(p: Problem, raised: NaiveDate) -> Option<ProblemFacts> {
        if p.finding.zone.is_empty() {
            return None;
        }
        Some(ProblemFacts {
            status: p.status(),
            zone: p.finding.zone.clone(),
            raised,
            deadline: p.deadline().map(|d| d.0),
            description: shorten(&p.finding.description.0, DESCRIPTION_CHARS),
            responsible: p.finding.responsible.clone(),
            major: p.finding.severity == Severity::Major,
            photos: p
                .finding
                .photos
                .keys()
                .chain(p.rectifications.values().flat_map(|r| r.photos.keys()))
                .cloned()
                .collect(),
        })
    }
}

impl CleanupFacts {
    /// What a cleanup gives; `None` when it has no day or no zone.
    fn of(c: Cleanup) -> Option<CleanupFacts> {
        match c.log.date {
            Some(day) if !c.log.zone.is_empty() => Some(CleanupFacts {
                zone: c.log.zone.clone(),
                date: day.0,
                person_times: c.log.person_times,
                items: c
                    .log
                    .items
                    .values()
                    .map(|w| (w.what.clone(), w.unit.clone(), w.quantity_milli))
                    .collect(),
            }),
            _ => None,
        }
    }
}

/// The marks of a sheet and nothing else (no notes, no photos): hydrating the whole sheet
/// costs several times more, and a sheet is read on every push that carries it. `None` when
/// the document is not this sheet.
fn sheet_marks(doc: &AutoCommit, id: &DocId) -> Option<Vec<(String, ZoneSheet)>> {
    use automerge::{ROOT, ReadDoc, Value};
    let header: docs::Header = autosurgeon::hydrate_prop(doc, ROOT, "header").ok()?;
    if header.kind != "sheet" || header.id != id.to_string() || header.schema > docs::SCHEMA {
        return None;
    }
    let object = |obj: &automerge::ObjId, key: &str| match doc.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    };
    let zones = object(&ROOT, "zones")?;
    let mut out = Vec::new();
    for zone in doc.keys(&zones) {
        let Some(z) = object(&zones, &zone) else {
            continue;
        };
        let mut sheet = ZoneSheet {
            template: match doc.get(&z, "template") {
                Ok(Some((v, _))) => v.as_str().unwrap_or_default().to_owned(),
                _ => String::new(),
            },
            ..ZoneSheet::default()
        };
        if let Some(items) = object(&z, "items") {
            for item in doc.keys(&items) {
                let Some(it) = object(&items, &item) else {
                    continue;
                };
                let mut entry = ItemEntry {
                    not_applicable: matches!(
                        doc.get(&it, "not_applicable"),
                        Ok(Some((v, _))) if v.as_bool() == Some(true)
                    ),
                    ..ItemEntry::default()
                };
                if let Some(deductions) = object(&it, "deductions") {
                    for rule in doc.keys(&deductions) {
                        if let Ok(Some((v, _))) = doc.get(&deductions, &rule) {
                            let n = v.as_i64().unwrap_or(0);
                            entry.deductions.insert(rule, Tally::new(n));
                        }
                    }
                }
                sheet.items.insert(item, entry);
            }
        }
        out.push((zone, sheet));
    }
    Some(out)
}

impl Consolidator {
    /// Reads what a document contributes. Sheets are scored against their branch's
    /// templates, so a branch's directory must be applied before its sheets.
    pub fn facts(&self, id: &DocId, doc: &AutoCommit) -> Facts {
        let facts = match id {
            DocId::Directory { .. } => {
                read(doc, id).map(|d| Facts::Directory(BranchFacts::of(d, self.clock)))
            }
            DocId::Patrol { .. } => read(doc, id).map(|p| Facts::Patrol(PatrolFacts::of(p))),
            DocId::Sheet { branch, .. } => self.sheet_facts(branch, id, doc),
            DocId::Assessment { .. } => read::<Assessment>(doc, id)
                .map(|a| Facts::Assessment(a.self_score.items, a.branch_score.items)),
            DocId::Problem { .. } => read::<Problem>(doc, id).and_then(|p| {
                let raised = self.clock.date_of_millis(p.finding.raised_at)?;
                ProblemFacts::of(p, raised).map(Facts::Problem)
            }),
            DocId::Cleanup { .. } => read(doc, id).and_then(CleanupFacts::of).map(Facts::Cleanup),
            DocId::Publication { .. } => {
                read::<Publication>(doc, id).map(|p| Facts::Publication(p.locks()))
            }
            DocId::Report { .. } => read(doc, id).map(|r| Facts::Report(Box::new(r))),
            DocId::Evaluation { branch, .. } => read::<Evaluation>(doc, id).map(|e| {
                Facts::Evaluation(EvaluationFacts {
                    bonus: e.bonus(),
                    marks: e
                        .marks
                        .into_iter()
                        .filter(|(to, _)| to != branch)
                        .map(|(to, m)| (to, m.points))
                        .collect(),
                })
            }),
            DocId::Rules => read::<Rules>(doc, id).map(|r| {
                Facts::Rules(
                    r.in_effect_order()
                        .into_iter()
                        .map(|(from, v)| (from, v.config(&self.rules)))
                        .collect(),
                )
            }),
        };
        facts.unwrap_or(Facts::None)
    }

    /// A sheet's percentage for each zone, scored against its branch's templates: `None` when
    /// the document is not this sheet or the branch is not known yet.
    fn sheet_facts(&self, branch: &str, id: &DocId, doc: &AutoCommit) -> Option<Facts> {
        let (zones, dir) = (sheet_marks(doc, id)?, self.branches.get(branch)?);
        let percents = zones.into_iter().filter_map(|(zone, z)| {
            let template = dir.templates.get(&z.template)?;
            Some((zone, z.score(template).percent?))
        });
        Some(Facts::Sheet(percents.collect()))
    }
}

/// The document read as its kind, or `None` when it does not read.
fn read<D: docs::Document>(doc: &AutoCommit, id: &DocId) -> Option<D> {
    docs::read(doc, id).ok()
}
