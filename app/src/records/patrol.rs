//! A patrol: one walk of a branch's zones. Starting it, the user's patrols, its zones with the
//! user's score on each, finding a zone from a scanned placard, and closing it.

use std::sync::Arc;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{Day, Directory, DocId, DocKind, Patrol, Sheet};
use zonepatrol_shared::{Actor, PatrolKind, Points, Role};

use super::sheet::{scores_zones, sheet_id};
use super::{RecordError, check_unlocked, directory, members, new_name};
use crate::i18n::T;
use crate::index::Summary;
use crate::store::{Repo, now_millis};

/// The id of the patrol a key names (see [`patrol_ref`]).
pub fn patrol_id(me: &Actor, key: &str) -> DocId {
    let (branch, name) = patrol_ref(me, key);
    DocId::patrol(branch, name)
}

/// A patrol as the screens name it: its name when it is of the user's own branch,
/// `BRANCH:NAME` when it is another branch's — the party committee's inspection, which a
/// manager leads and inspectors from several branches walk.
pub fn patrol_key(me: &Actor, branch: &str, name: &str) -> String {
    if branch == me.branch {
        name.to_owned()
    } else {
        format!("{branch}:{name}")
    }
}

/// The branch and the name a patrol key stands for.
pub fn patrol_ref<'a>(me: &'a Actor, key: &'a str) -> (&'a str, &'a str) {
    key.split_once(':').unwrap_or((me.branch.as_str(), key))
}

/// The user as they act on the patrol a key names: in the patrol's branch, whose zones,
/// checklists and locks apply. The server still knows them as who they are.
pub fn acting(me: &Actor, key: &str) -> Actor {
    let branch = patrol_ref(me, key).0;
    // Outside their branch a person acts in their company-wide roles, or, named on the
    // patrol, as one of its inspectors: never as that branch's secretary.
    let roles = me
        .in_branch(branch)
        .unwrap_or_else(|| Actor::new(me.user.as_str(), Role::Inspector, branch));
    Actor {
        branch: branch.to_owned(),
        ..roles
    }
}

/// Whether the user walks the patrol as a visitor from another branch: they score its zones;
/// the branch's secretary or inspectors raise its problems.
pub fn visitor(me: &Actor, key: &str) -> bool {
    patrol_ref(me, key).0 != me.branch && !me.is_company_wide()
}

/// What the start-patrol screen collects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolInput {
    /// Weekly, ten-day, monthly self-check or spot check.
    pub kind: PatrolKind,
    /// The day of the walk.
    pub date: Option<NaiveDate>,
    /// The zones to visit, in order: their ids in the user's own branch, `BRANCH:ZONE` in
    /// another (a manager's committee patrol, see [`start_choices`]).
    pub zones: Vec<String>,
    /// The other inspectors (the leader is always one).
    pub inspectors: Vec<String>,
}

/// Starts a patrol led by the user; returns the key of its first (or only) part.
///
/// A manager's patrol may take zones of several branches (the party committee's weekly
/// inspection): it is written as one patrol in each of those branches, under one name, each
/// with that branch's zones and every inspector, so that each zone's result goes to its own
/// branch and each branch's records stay its own.
pub fn start_patrol(repo: &Repo, me: &Actor, input: &PatrolInput) -> Result<String, RecordError> {
    let date = input.date.ok_or(RecordError::Input(T::ChooseDay))?;
    if input.zones.is_empty() {
        return Err(RecordError::Input(T::ChooseZones));
    }
    if !me.roles().iter().any(scores_zones) {
        return Err(RecordError::Input(T::OnlyInspectorsScore));
    }
    // The zones by branch, each branch's in the order chosen.
    let mut legs: Vec<(String, Vec<String>)> = Vec::new();
    for key in &input.zones {
        let (branch, zone) = patrol_ref(me, key);
        if branch != me.branch && !me.is_company_wide() {
            return Err(RecordError::Input(T::OnlyManagersLeadCommittee));
        }
        match legs.iter_mut().find(|(b, _)| b == branch) {
            Some((_, zones)) => zones.push(zone.to_owned()),
            None => legs.push((branch.to_owned(), vec![zone.to_owned()])),
        }
    }
    for (branch, zones) in &legs {
        check_unlocked(repo, branch, date)?;
        let dir = directory(repo, branch)?;
        if let Some(zone) = zones.iter().find(|z| !dir.zones.contains_key(*z)) {
            return Err(RecordError::Missing {
                what: "zone",
                id: zone.clone(),
            });
        }
    }
    let name = new_name(date);
    for (branch, zones) in &legs {
        let key = patrol_key(me, branch, &name);
        repo.edit_as::<Patrol, _>(&acting(me, &key), &patrol_id(me, &key), |p| {
            p.plan.kind = input.kind;
            p.plan.date = Some(Day(date));
            p.plan.leader = me.user.clone();
            p.plan.inspectors = std::iter::once(me.user.clone())
                .chain(input.inspectors.iter().cloned())
                .map(|u| (u, true))
                .collect();
            p.plan.zones = (0..).zip(zones).map(|(i, z)| (z.clone(), i)).collect();
        })?;
    }
    Ok(patrol_key(me, &legs[0].0, &name))
}

/// A patrol as the home screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolRow {
    /// Its key (see [`patrol_key`]).
    pub name: String,
    /// Another branch's name, when the patrol is of another branch.
    pub branch: Option<String>,
    /// Its kind.
    pub kind: PatrolKind,
    /// The day of the walk.
    pub date: Option<NaiveDate>,
    /// How many zones are on it.
    pub zones: usize,
    /// Whether its leader closed it.
    pub closed: bool,
}

/// The user's patrols, of their branch and of others (the committee's): those they lead or
/// inspect on, open ones first, newest first. Read from the summaries, so it stays quick with
/// a year of patrols on the phone.
pub fn my_patrols(repo: &Repo, me: &Actor) -> Result<Vec<PatrolRow>, RecordError> {
    let prefix = format!("{}:", DocKind::Patrol);
    let mut rows = Vec::new();
    let mut names = std::collections::BTreeMap::new();
    for (id, summary) in repo.summaries(&prefix)? {
        let Summary::Patrol(p) = summary else {
            continue;
        };
        if p.leader != me.user && !p.inspectors.contains(&me.user) {
            continue;
        }
        let Ok(DocId::Patrol { branch, patrol }) = id.parse::<DocId>() else {
            continue;
        };
        let other = (branch != me.branch).then(|| {
            names
                .entry(branch.clone())
                .or_insert_with(|| {
                    directory(repo, &branch)
                        .ok()
                        .map(|d| d.info.name)
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| branch.clone())
                })
                .clone()
        });
        rows.push(PatrolRow {
            name: patrol_key(me, &branch, &patrol),
            branch: other,
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
pub fn kept_patrol(repo: &Repo, me: &Actor, key: &str) -> Result<Arc<Patrol>, RecordError> {
    repo.read_kept::<Patrol>(&patrol_id(me, key))?
        .ok_or_else(|| RecordError::Missing {
            what: "patrol",
            id: key.to_owned(),
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
pub fn patrol_zones(repo: &Repo, me: &Actor, key: &str) -> Result<Vec<ZoneRow>, RecordError> {
    let p = patrol(repo, me, key)?;
    let dir = directory(repo, patrol_ref(me, key).0)?;
    let sheet = repo.read::<Sheet>(&sheet_id(me, key))?;
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

/// Closes a patrol the user leads, with every other part of the same walk they lead (a
/// committee patrol is one patrol per branch under one name: closed together, so that no
/// branch's part is forgotten and left without results).
pub fn close_patrol(repo: &Repo, me: &Actor, key: &str) -> Result<(), RecordError> {
    let p = patrol(repo, me, key)?;
    if p.plan.leader != me.user {
        return Err(RecordError::Input(T::OnlyLeaderCloses));
    }
    let name = patrol_ref(me, key).1.to_owned();
    let mut parts = vec![key.to_owned()];
    if me.is_company_wide() {
        for (id, summary) in repo.summaries(&format!("{}:", DocKind::Patrol))? {
            let (Ok(DocId::Patrol { branch, patrol }), Summary::Patrol(s)) =
                (id.parse::<DocId>(), summary)
            else {
                continue;
            };
            let other = patrol_key(me, &branch, &patrol);
            if patrol == name && s.leader == me.user && !s.closed && !parts.contains(&other) {
                parts.push(other);
            }
        }
    }
    for part in &parts {
        let p = patrol(repo, me, part)?;
        if let Some(day) = p.plan.date {
            check_unlocked(repo, patrol_ref(me, part).0, day.0)?;
        }
    }
    for part in &parts {
        repo.edit_as::<Patrol, _>(&acting(me, part), &patrol_id(me, part), |p| {
            p.closed_at.get_or_insert(now_millis());
        })?;
    }
    Ok(())
}

/// What the start-patrol screen offers: the active zones by name, and the other members who
/// may join as inspectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartChoices {
    /// Active zones (key, name), by name: for a manager, every branch's (the key and name
    /// then say the branch, as in [`PatrolInput::zones`]).
    pub zones: Vec<(String, String)>,
    /// Every member but the user (id, name): for a manager, of every branch.
    pub members: Vec<(String, String)>,
}

/// The choices of the start-patrol screen, from the branch's directory; a manager, who leads
/// the party committee's inspection, chooses from every branch the phone holds.
pub fn start_choices(repo: &Repo, me: &Actor) -> Result<StartChoices, RecordError> {
    let mut branches = vec![me.branch.clone()];
    if me.is_company_wide() {
        let prefix = format!("{}:", DocKind::Directory);
        for id in repo.ids_with_prefix(&prefix)? {
            if let Ok(DocId::Directory { branch }) = id.parse::<DocId>()
                && branch != me.branch
            {
                branches.push(branch);
            }
        }
    }
    let mut zones = Vec::new();
    let mut people = Vec::new();
    for branch in &branches {
        let dir = match directory(repo, branch) {
            Ok(dir) => dir,
            // A manager may have no home branch with a directory.
            Err(RecordError::NoDirectory) if *branch == me.branch && branches.len() > 1 => {
                continue;
            }
            Err(e) => return Err(e),
        };
        if dir.info.retired {
            continue;
        }
        let other = (*branch != me.branch).then(|| dir.info.name.clone());
        let named = |name: &str| match &other {
            Some(b) => format!("{b} · {name}"),
            None => name.to_owned(),
        };
        let mut mine: Vec<_> = dir.zones.iter().filter(|(_, z)| z.active).collect();
        mine.sort_by(|a, b| a.1.name.cmp(&b.1.name).then(a.0.cmp(b.0)));
        zones.extend(
            mine.into_iter()
                .map(|(id, z)| (patrol_key(me, branch, id), named(&z.name))),
        );
        people.extend(
            members(&dir)
                .into_iter()
                .filter(|(id, _)| *id != me.user)
                .map(|(id, name)| (id, named(&name))),
        );
    }
    // The home branch's first; a person listed in two branches once.
    let mut seen = std::collections::BTreeSet::new();
    people.retain(|(id, _)| seen.insert(id.clone()));
    Ok(StartChoices {
        zones,
        members: people,
    })
}
