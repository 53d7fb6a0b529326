//! A patrol: one walk of a branch's zones. Starting it, the user's patrols, its zones with the
//! user's score on each, finding a zone from a scanned placard, and closing it.

use std::sync::Arc;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{Day, Directory, DocId, DocKind, Patrol, Sheet};
use zonepatrol_shared::{Actor, PatrolKind, Points};

use super::sheet::{scores_zones, sheet_id};
use super::{RecordError, check_unlocked, directory, members, new_name};
use crate::i18n::T;
use crate::index::Summary;
use crate::store::{Repo, now_millis};

/// The id of a patrol of the user's branch.
pub fn patrol_id(me: &Actor, patrol: &str) -> DocId {
    DocId::patrol(&me.branch, patrol)
}

/// What the start-patrol screen collects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolInput {
    /// Weekly, ten-day, monthly self-check or spot check.
    pub kind: PatrolKind,
    /// The day of the walk.
    pub date: Option<NaiveDate>,
    /// The zones to visit, in order.
    pub zones: Vec<String>,
    /// The other inspectors (the leader is always one).
    pub inspectors: Vec<String>,
}

/// Starts a patrol led by the user; returns its name.
pub fn start_patrol(repo: &Repo, me: &Actor, input: &PatrolInput) -> Result<String, RecordError> {
    let date = input.date.ok_or(RecordError::Input(T::ChooseDay))?;
    if input.zones.is_empty() {
        return Err(RecordError::Input(T::ChooseZones));
    }
    if !me.roles().iter().any(scores_zones) {
        return Err(RecordError::Input(T::OnlyInspectorsScore));
    }
    check_unlocked(repo, &me.branch, date)?;
    let dir = directory(repo, &me.branch)?;
    if let Some(zone) = input.zones.iter().find(|z| !dir.zones.contains_key(*z)) {
        return Err(RecordError::Missing {
            what: "zone",
            id: zone.clone(),
        });
    }
    let name = new_name(date);
    repo.edit_as::<Patrol, _>(me, &patrol_id(me, &name), |p| {
        p.plan.kind = input.kind;
        p.plan.date = Some(Day(date));
        p.plan.leader = me.user.clone();
        p.plan.inspectors = std::iter::once(me.user.clone())
            .chain(input.inspectors.iter().cloned())
            .map(|u| (u, true))
            .collect();
        p.plan.zones = (0..)
            .zip(&input.zones)
            .map(|(i, z)| (z.clone(), i))
            .collect();
    })?;
    Ok(name)
}

/// A patrol as the home screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolRow {
    /// Its name (the last part of its id).
    pub name: String,
    /// Its kind.
    pub kind: PatrolKind,
    /// The day of the walk.
    pub date: Option<NaiveDate>,
    /// How many zones are on it.
    pub zones: usize,
    /// Whether its leader closed it.
    pub closed: bool,
}

/// The user's patrols: those they lead or inspect on, open ones first, newest first. Read
/// from the summaries, so it stays quick with a year of patrols on the phone.
pub fn my_patrols(repo: &Repo, me: &Actor) -> Result<Vec<PatrolRow>, RecordError> {
    let prefix = DocId::prefix(DocKind::Patrol, &me.branch);
    let mut rows = Vec::new();
    for (id, summary) in repo.summaries(&prefix)? {
        let Summary::Patrol(p) = summary else {
            continue;
        };
        if p.leader != me.user && !p.inspectors.contains(&me.user) {
            continue;
        }
        rows.push(PatrolRow {
            name: id[prefix.len()..].to_owned(),
            kind: p.kind,
            date: p.date,
            zones: p.zones,
            closed: p.closed,
        });
    }
    rows.sort_by(|a, b| {
        a.closed
            .cmp(&b.closed)
            .then(b.date.cmp(&a.date))
            .then(b.name.cmp(&a.name))
    });
    Ok(rows)
}

/// A patrol.
pub fn patrol(repo: &Repo, me: &Actor, name: &str) -> Result<Patrol, RecordError> {
    kept_patrol(repo, me, name).map(|p| (*p).clone())
}

/// A patrol of the user's branch, decoded once and kept until it changes: for the checks
/// every tap makes.
pub fn kept_patrol(repo: &Repo, me: &Actor, name: &str) -> Result<Arc<Patrol>, RecordError> {
    repo.read_kept::<Patrol>(&patrol_id(me, name))?
        .ok_or_else(|| RecordError::Missing {
            what: "patrol",
            id: name.to_owned(),
        })
}

/// The user's score on a zone so far, out of the maximum of the items that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneScore {
    /// The points so far.
    pub total: Points,
    /// The most there are.
    pub max: Points,
}

/// A zone on the patrol's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where it is.
    pub location: String,
    /// The user's score so far, once they marked anything.
    pub score: Option<ZoneScore>,
}

/// The zones of a patrol in its order, with the user's score on each.
pub fn patrol_zones(repo: &Repo, me: &Actor, name: &str) -> Result<Vec<ZoneRow>, RecordError> {
    let p = patrol(repo, me, name)?;
    let dir = directory(repo, &me.branch)?;
    let sheet = repo.read::<Sheet>(&sheet_id(me, name))?;
    Ok(zone_rows(&p, &dir, sheet.as_ref()))
}

pub(super) fn zone_order(p: &Patrol) -> Vec<&String> {
    let mut order: Vec<(&String, &u64)> = p.plan.zones.iter().collect();
    order.sort_by_key(|(id, n)| (**n, (*id).clone()));
    order.into_iter().map(|(id, _)| id).collect()
}

fn zone_rows(p: &Patrol, dir: &Directory, sheet: Option<&Sheet>) -> Vec<ZoneRow> {
    zone_order(p)
        .into_iter()
        .map(|id| {
            let zone = dir.zones.get(id);
            let score = sheet.and_then(|s| s.zones.get(id)).and_then(|z| {
                dir.templates.get(&z.template).map(|t| {
                    let s = z.score(t);
                    ZoneScore {
                        total: s.total,
                        max: s.max,
                    }
                })
            });
            ZoneRow {
                id: id.clone(),
                name: zone.map_or_else(|| id.clone(), |z| z.name.clone()),
                location: zone.map(|z| z.location.clone()).unwrap_or_default(),
                score,
            }
        })
        .collect()
}

/// Finds the zone a scanned placard names on the patrol. A placard's QR code holds the zone's
/// id, alone or as `zonepatrol:zone:BRANCH:ZONE`; another branch's placard is refused.
pub fn zone_from_code(code: &str, branch: &str, rows: &[ZoneRow]) -> Result<String, T> {
    let code = code.trim();
    let id = match code.split(':').collect::<Vec<_>>().as_slice() {
        ["zonepatrol", "zone", b, zone] if *b == branch => *zone,
        ["zonepatrol", "zone", _, _] => return Err(T::OtherBranchPlacard),
        _ => code,
    };
    rows.iter()
        .find(|r| r.id == id)
        .map(|r| r.id.clone())
        .ok_or(T::CodeNotOnPatrol)
}

/// Closes a patrol the user leads.
pub fn close_patrol(repo: &Repo, me: &Actor, name: &str) -> Result<(), RecordError> {
    let p = patrol(repo, me, name)?;
    if p.plan.leader != me.user {
        return Err(RecordError::Input(T::OnlyLeaderCloses));
    }
    if let Some(day) = p.plan.date {
        check_unlocked(repo, &me.branch, day.0)?;
    }
    repo.edit_as::<Patrol, _>(me, &patrol_id(me, name), |p| {
        p.closed_at.get_or_insert(now_millis());
    })?;
    Ok(())
}

/// What the start-patrol screen offers: the active zones by name, and the other members who
/// may join as inspectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartChoices {
    /// Active zones (id, name), by name.
    pub zones: Vec<(String, String)>,
    /// Every member but the user (id, name).
    pub members: Vec<(String, String)>,
}

/// The choices of the start-patrol screen, from the branch's directory.
pub fn start_choices(repo: &Repo, me: &Actor) -> Result<StartChoices, RecordError> {
    let dir = directory(repo, &me.branch)?;
    let mut zones: Vec<_> = dir.zones.iter().filter(|(_, z)| z.active).collect();
    zones.sort_by(|a, b| a.1.name.cmp(&b.1.name).then(a.0.cmp(b.0)));
    Ok(StartChoices {
        zones: zones
            .into_iter()
            .map(|(id, z)| (id.clone(), z.name.clone()))
            .collect(),
        members: members(&dir)
            .into_iter()
            .filter(|(id, _)| *id != me.user)
            .collect(),
    })
}
