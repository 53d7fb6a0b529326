//! What people do in the field, as plain functions over the device's store: start a patrol,
//! score a zone, attach photos, raise a problem, close the patrol; the holder's problems and
//! their fixes. The screens call these and render what they return; every function that
//! changes something returns only once the change is on disk.
//!
//! The inputs are checked here, before anything is written, with messages that say what to do;
//! the server checks again on sync and is the authority.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{
    Day, DocId, Finding, FreeText, Patrol, PhotoRef, Problem, Publication, Rectification, Sheet,
    ZoneSheet,
};
use zonepatrol_shared::docs::{Directory, Template};
use zonepatrol_shared::rules::period::MineClock;
use zonepatrol_shared::rules::problem::{ProblemStatus, Step, StepActor, is_overdue, may_take};
use zonepatrol_shared::{Actor, PatrolKind, Role, Severity};

use crate::i18n::{Lang, T, tr};
use crate::index::Summary;
use crate::store::{PhotoRecord, Repo, StoreError, now_millis};
use crate::walk::{self, Mark};

/// Why an action was not taken. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    /// The input is incomplete or wrong; the message says what to fill in.
    #[error("{}", tr(Lang::En, *.0))]
    Input(T),
    /// The branch's directory is not on this phone yet.
    #[error("the branch's zones are not on this phone yet: connect once to sync")]
    NoDirectory,
    /// Something named does not exist on this phone.
    #[error("{what} {id} is not on this phone: sync and try again")]
    Missing {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FieldError {
    /// The message for the user, in their language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            FieldError::Input(t) => tr(lang, *t).to_owned(),
            FieldError::NoDirectory => tr(lang, T::NoDirectory).to_owned(),
            FieldError::Missing { id, .. } => format!("{} ({id})", tr(lang, T::NotOnPhone)),
            FieldError::Store(StoreError::Refused(r)) => {
                format!(
                    "{}: {}",
                    tr(lang, T::NotSaved),
                    crate::i18n::refusal(lang, r)
                )
            }
            FieldError::Store(e) => format!("{}: {e}", tr(lang, T::NotSaved)),
        }
    }
}

/// Today at the mine.
pub fn today(clock: &MineClock) -> NaiveDate {
    clock.date_of_millis(now_millis()).unwrap_or(NaiveDate::MIN)
}

/// A fresh name for a new document: the day, then random hex. Two phones never pick the same.
pub fn new_name(day: NaiveDate) -> String {
    let random = automerge::ActorId::random().to_hex_string();
    format!("{}-{}", day.format("%Y%m%d"), &random[..12])
}

/// The branch's directory, as synced.
pub fn directory(repo: &Repo, branch: &str) -> Result<Directory, FieldError> {
    repo.read::<Directory>(&DocId::Directory {
        branch: branch.to_owned(),
    })?
    .ok_or(FieldError::NoDirectory)
}

/// Refuses when a published period of the branch covers the day or the whole range given:
/// the server would refuse the edit, so it is not saved.
pub fn check_unlocked(
    repo: &Repo,
    branch: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<(), FieldError> {
    let Some(publication) = repo.read::<Publication>(&DocId::Publication {
        branch: branch.to_owned(),
    })?
    else {
        return Ok(());
    };
    let locked = publication.locks().iter().any(|l| {
        if first == last {
            l.period.contains(first)
        } else {
            l.period.first_day() <= first && last <= l.period.last_day()
        }
    });
    if locked {
        return Err(FieldError::Input(T::PeriodPublished));
    }
    Ok(())
}

/// Whether the user's role scores zones on patrols (the server takes sheets from these alone).
pub fn scores_zones(role: Role) -> bool {
    matches!(role, Role::Secretary | Role::Inspector | Role::Manager)
}

/// Whether the user's role raises problems.
pub fn raises_problems(role: Role) -> bool {
    may_take(
        Step::Raise,
        StepActor {
            role,
            is_responsible: false,
            is_raiser: true,
            rectified_it: false,
        },
    )
    .is_ok()
}

/// The id of a patrol of the user's branch.
pub fn patrol_id(me: &Actor, patrol: &str) -> DocId {
    DocId::Patrol {
        branch: me.branch.clone(),
        patrol: patrol.to_owned(),
    }
}

/// The id of the user's own sheet on a patrol.
pub fn sheet_id(me: &Actor, patrol: &str) -> DocId {
    DocId::Sheet {
        branch: me.branch.clone(),
        patrol: patrol.to_owned(),
        inspector: me.user.clone(),
    }
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
pub fn start_patrol(repo: &Repo, me: &Actor, input: &PatrolInput) -> Result<String, FieldError> {
    let date = input.date.ok_or(FieldError::Input(T::ChooseDay))?;
    if input.zones.is_empty() {
        return Err(FieldError::Input(T::ChooseZones));
    }
    if !scores_zones(me.role) {
        return Err(FieldError::Input(T::OnlyInspectorsScore));
    }
    check_unlocked(repo, &me.branch, date, date)?;
    let dir = directory(repo, &me.branch)?;
    if let Some(zone) = input.zones.iter().find(|z| !dir.zones.contains_key(*z)) {
        return Err(FieldError::Missing {
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
pub fn my_patrols(repo: &Repo, me: &Actor) -> Result<Vec<PatrolRow>, FieldError> {
    let prefix = format!("patrol:{}:", me.branch);
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
pub fn patrol(repo: &Repo, me: &Actor, name: &str) -> Result<Patrol, FieldError> {
    repo.read::<Patrol>(&patrol_id(me, name))?
        .ok_or_else(|| FieldError::Missing {
            what: "patrol",
            id: name.to_owned(),
        })
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
    /// The user's score so far, and the maximum, once they marked anything.
    pub score: Option<(String, String)>,
}

/// The zones of a patrol in its order, with the user's score on each.
pub fn patrol_zones(repo: &Repo, me: &Actor, name: &str) -> Result<Vec<ZoneRow>, FieldError> {
    let p = patrol(repo, me, name)?;
    let dir = directory(repo, &me.branch)?;
    let sheet = repo.read::<Sheet>(&sheet_id(me, name))?;
    Ok(zone_rows(&p, &dir, sheet.as_ref()))
}

fn zone_order(p: &Patrol) -> Vec<&String> {
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
                    (s.total.to_string(), s.max.to_string())
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
) -> Result<ZoneWork, FieldError> {
    let dir = directory(repo, &me.branch)?;
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
) -> Result<(ZoneWork, Option<String>), FieldError> {
    let dir = directory(repo, &me.branch)?;
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

fn work_of(dir: &Directory, sheet: Option<&Sheet>, zone: &str) -> Result<ZoneWork, FieldError> {
    let z = dir.zones.get(zone).ok_or_else(|| FieldError::Missing {
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
    let template = dir
        .templates
        .get(&template_id)
        .cloned()
        .ok_or_else(|| FieldError::Missing {
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

fn edit_zone<V>(
    repo: &Repo,
    me: &Actor,
    patrol_name: &str,
    zone: &str,
    template: &str,
    f: impl FnOnce(&mut ZoneSheet) -> V,
) -> Result<(V, ZoneSheet), FieldError> {
    if !scores_zones(me.role) {
        return Err(FieldError::Input(T::OnlyInspectorsScore));
    }
    if let Some(day) = patrol(repo, me, patrol_name)?.plan.date {
        check_unlocked(repo, &me.branch, day.0, day.0)?;
    }
    Ok(
        repo.edit_as::<Sheet, _>(me, &sheet_id(me, patrol_name), |s| {
            let z = s.zones.entry(zone.to_owned()).or_default();
            if z.template.is_empty() {
                z.template = template.to_owned();
            }
            let out = f(z);
            (out, z.clone())
        })?,
    )
}

/// Records a tap on the score screen; returns the zone's marks as saved.
pub fn mark(
    repo: &Repo,
    me: &Actor,
    patrol: &str,
    zone: &str,
    template: &str,
    tap: &Mark,
) -> Result<ZoneSheet, FieldError> {
    Ok(edit_zone(repo, me, patrol, zone, template, |z| {
        walk::apply(z, template, tap)
    })?
    .1)
}

/// Attaches a photo to a checklist item.
pub fn add_item_photo(
    repo: &Repo,
    me: &Actor,
    patrol: &str,
    zone: &str,
    template: &str,
    item: &str,
    photo: &PhotoRecord,
) -> Result<ZoneSheet, FieldError> {
    Ok(edit_zone(repo, me, patrol, zone, template, |z| {
        z.items
            .entry(item.to_owned())
            .or_default()
            .photos
            .insert(photo.hash.clone(), photo.reference());
    })?
    .1)
}

/// Sets the note on a checklist item.
pub fn set_item_note(
    repo: &Repo,
    me: &Actor,
    patrol: &str,
    zone: &str,
    template: &str,
    item: &str,
    note: &str,
) -> Result<ZoneSheet, FieldError> {
    Ok(edit_zone(repo, me, patrol, zone, template, |z| {
        z.items.entry(item.to_owned()).or_default().note = FreeText(note.trim().to_owned());
    })?
    .1)
}

/// Closes a patrol the user leads.
pub fn close_patrol(repo: &Repo, me: &Actor, name: &str) -> Result<(), FieldError> {
    let p = patrol(repo, me, name)?;
    if p.plan.leader != me.user {
        return Err(FieldError::Input(T::OnlyLeaderCloses));
    }
    if let Some(day) = p.plan.date {
        check_unlocked(repo, &me.branch, day.0, day.0)?;
    }
    repo.edit_as::<Patrol, _>(me, &patrol_id(me, name), |p| {
        p.closed_at.get_or_insert(now_millis());
    })?;
    Ok(())
}

/// What the raise-problem screen collects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemInput {
    /// The zone.
    pub zone: String,
    /// The patrol it was found on.
    pub patrol: Option<String>,
    /// The checklist item it was raised from.
    pub item: Option<String>,
    /// What is wrong.
    pub description: String,
    /// General or major.
    pub severity: Severity,
    /// The member who must fix it.
    pub responsible: String,
    /// What must be done.
    pub measure: String,
    /// By when.
    pub deadline: Option<NaiveDate>,
    /// Photos of it.
    pub photos: Vec<PhotoRecord>,
}

/// Checks a problem before it is raised.
pub fn check_problem(input: &ProblemInput, today: NaiveDate) -> Result<(), FieldError> {
    if input.description.trim().is_empty() {
        return Err(FieldError::Input(T::DescribeProblem));
    }
    if input.responsible.is_empty() {
        return Err(FieldError::Input(T::ChooseResponsible));
    }
    match input.deadline {
        None => Err(FieldError::Input(T::ChooseDeadline)),
        Some(d) if d < today => Err(FieldError::Input(T::DeadlinePast)),
        Some(_) => Ok(()),
    }
}

/// Raises a problem; returns its name.
pub fn raise_problem(
    repo: &Repo,
    me: &Actor,
    input: &ProblemInput,
    today: NaiveDate,
) -> Result<String, FieldError> {
    check_problem(input, today)?;
    if !raises_problems(me.role) {
        return Err(FieldError::Input(T::OnlyInspectorsRaise));
    }
    let dir = directory(repo, &me.branch)?;
    if !dir.zones.contains_key(&input.zone) {
        return Err(FieldError::Missing {
            what: "zone",
            id: input.zone.clone(),
        });
    }
    let name = new_name(today);
    let id = DocId::Problem {
        branch: me.branch.clone(),
        problem: name.clone(),
    };
    repo.edit_as::<Problem, _>(me, &id, |p| {
        p.finding = Finding {
            zone: input.zone.clone(),
            patrol: input.patrol.clone(),
            item: input.item.clone(),
            raised_by: me.user.clone(),
            raised_at: now_millis(),
            description: FreeText(input.description.trim().to_owned()),
            severity: input.severity,
            responsible: input.responsible.clone(),
            measure: FreeText(input.measure.trim().to_owned()),
            deadline: input.deadline.map(Day),
            photos: photo_refs(&input.photos),
        };
    })?;
    Ok(name)
}

fn photo_refs(photos: &[PhotoRecord]) -> BTreeMap<String, PhotoRef> {
    photos
        .iter()
        .map(|p| (p.hash.clone(), p.reference()))
        .collect()
}

/// A problem as the holder's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemRow {
    /// Its name.
    pub name: String,
    /// The zone's name.
    pub zone: String,
    /// What is wrong.
    pub description: String,
    /// What must be done.
    pub measure: String,
    /// General or major.
    pub severity: Severity,
    /// By when.
    pub deadline: Option<NaiveDate>,
    /// Where it stands.
    pub status: ProblemStatus,
    /// Past its deadline and not fixed.
    pub overdue: bool,
    /// Thumbnails of its photos (SHA-256 of the thumbnail files).
    pub thumbs: Vec<String>,
}

/// The problems the user must fix: overdue first, then by deadline; fixed ones last. Read
/// from the summaries.
pub fn my_problems(
    repo: &Repo,
    me: &Actor,
    today: NaiveDate,
) -> Result<Vec<ProblemRow>, FieldError> {
    let prefix = format!("problem:{}:", me.branch);
    let dir = directory(repo, &me.branch).ok();
    let mut rows = Vec::new();
    let needle = format!(
        "\"responsible\":{}",
        serde_json::Value::from(me.user.as_str())
    );
    for (id, summary) in repo.summaries_containing(&prefix, needle.as_bytes())? {
        let Summary::Problem(p) = summary else {
            continue;
        };
        if p.responsible != me.user {
            continue;
        }
        let overdue = p.deadline.is_some_and(|d| is_overdue(p.status, d, today));
        rows.push(ProblemRow {
            name: id[prefix.len()..].to_owned(),
            zone: dir
                .as_ref()
                .and_then(|d| d.zones.get(&p.zone))
                .map_or_else(|| p.zone.clone(), |z| z.name.clone()),
            description: p.description,
            measure: p.measure,
            severity: p.severity,
            deadline: p.deadline,
            status: p.status,
            overdue,
            thumbs: p.thumbs,
        });
    }
    rows.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(
                b.status
                    .awaits_rectification()
                    .cmp(&a.status.awaits_rectification()),
            )
            .then(a.deadline.cmp(&b.deadline))
            .then(a.name.cmp(&b.name))
    });
    Ok(rows)
}

/// Records the user's fix of a problem with its after-photos.
pub fn rectify(
    repo: &Repo,
    me: &Actor,
    problem: &str,
    note: &str,
    photos: &[PhotoRecord],
) -> Result<(), FieldError> {
    if photos.is_empty() {
        return Err(FieldError::Input(T::NeedAfterPhoto));
    }
    let id = DocId::Problem {
        branch: me.branch.clone(),
        problem: problem.to_owned(),
    };
    let p = repo
        .read::<Problem>(&id)?
        .ok_or_else(|| FieldError::Missing {
            what: "problem",
            id: problem.to_owned(),
        })?;
    if p.finding.responsible != me.user {
        return Err(FieldError::Input(T::OnlyResponsibleFixes));
    }
    let at = now_millis();
    repo.edit_as::<Problem, _>(me, &id, |p| {
        p.rectifications.insert(
            format!("{}-{at}", me.user),
            Rectification {
                at,
                by: me.user.clone(),
                note: FreeText(note.trim().to_owned()),
                photos: photo_refs(photos),
            },
        );
    })?;
    Ok(())
}
