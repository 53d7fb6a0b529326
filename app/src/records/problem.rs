//! A problem found in a zone: raising it, the holder's list (overdue first), recording the fix
//! with its after-photos, and verifying or reopening a fix. Requests for more time are in
//! [`super::extension`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{
    Day, DocId, DocKind, Finding, FreeText, Marks, Outcome, PhotoRef, Problem, Rectification,
    Verification,
};
use zonepatrol_shared::rules::problem::{ProblemStatus, Step, StepActor, is_overdue, may_take};
use zonepatrol_shared::{Actor, Severity};

use super::{RecordError, directory, members, new_name, photo_refs};
use crate::i18n::T;
use crate::index::{ExtensionSummary, Summary};
use crate::store::{PhotoRecord, Repo, now_millis};

/// Whether the user (by any of their roles) raises problems.
pub fn raises_problems(me: &Actor) -> bool {
    may_take(
        Step::Raise,
        StepActor {
            roles: me.roles(),
            is_responsible: false,
            is_raiser: true,
            rectified_it: false,
        },
    )
    .is_ok()
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
    /// What the user marked on them, by photo.
    pub marks: BTreeMap<String, Marks>,
}

/// Checks a problem before it is raised.
pub fn check_problem(input: &ProblemInput, today: NaiveDate) -> Result<(), RecordError> {
    if input.description.trim().is_empty() {
        return Err(RecordError::Input(T::DescribeProblem));
    }
    if input.responsible.is_empty() {
        return Err(RecordError::Input(T::ChooseResponsible));
    }
    match input.deadline {
        None => Err(RecordError::Input(T::ChooseDeadline)),
        Some(d) if d < today => Err(RecordError::Input(T::DeadlinePast)),
        Some(_) => Ok(()),
    }
}

/// Raises a problem; returns its name.
pub fn raise_problem(
    repo: &Repo,
    me: &Actor,
    input: &ProblemInput,
    today: NaiveDate,
) -> Result<String, RecordError> {
    check_problem(input, today)?;
    if !raises_problems(me) {
        return Err(RecordError::Input(T::OnlyInspectorsRaise));
    }
    let dir = directory(repo, &me.branch)?;
    if !dir.zones.contains_key(&input.zone) {
        return Err(RecordError::Missing {
            what: "zone",
            id: input.zone.clone(),
        });
    }
    let name = new_name(today);
    let id = DocId::problem(&me.branch, &name);
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
            photos: photo_refs(&input.photos, &input.marks),
        };
    })?;
    Ok(name)
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
    /// Its photos: thumbnails (SHA-256 of the thumbnail files), sizes and marks.
    pub thumbs: Vec<PhotoRef>,
    /// While reopened, what is still wrong.
    pub reopen_note: Option<String>,
    /// The latest request for more time and its answer.
    pub extension: Option<ExtensionSummary>,
}

/// The problems the user must fix: overdue first, then by deadline; fixed ones last. Read
/// from the summaries.
pub fn my_problems(
    repo: &Repo,
    me: &Actor,
    today: NaiveDate,
) -> Result<Vec<ProblemRow>, RecordError> {
    let prefix = DocId::prefix(DocKind::Problem, &me.branch);
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
            reopen_note: p.reopen_note,
            extension: p.extension,
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
) -> Result<(), RecordError> {
    rectify_marked(repo, me, problem, note, photos, &BTreeMap::new())
}

/// The same, with what the user marked on the after-photos, by photo.
pub fn rectify_marked(
    repo: &Repo,
    me: &Actor,
    problem: &str,
    note: &str,
    photos: &[PhotoRecord],
    marks: &BTreeMap<String, Marks>,
) -> Result<(), RecordError> {
    if photos.is_empty() {
        return Err(RecordError::Input(T::NeedAfterPhoto));
    }
    let id = DocId::problem(&me.branch, problem);
    let p = repo
        .read::<Problem>(&id)?
        .ok_or_else(|| RecordError::Missing {
            what: "problem",
            id: problem.to_owned(),
        })?;
    if p.finding.responsible != me.user {
        return Err(RecordError::Input(T::OnlyResponsibleFixes));
    }
    // After every record already there, whatever this phone's clock says: a fix placed before
    // the reopening it answers would be passed over, and a fix is never moved afterwards.
    let latest = p
        .rectifications
        .values()
        .map(|r| r.at)
        .chain(p.verifications.values().map(|v| v.at))
        .max()
        .unwrap_or(0);
    let at = now_millis().max(latest + 1);
    repo.edit_as::<Problem, _>(me, &id, |p| {
        p.rectifications.insert(
            format!("{}-{at}", me.user),
            Rectification {
                at,
                by: me.user.clone(),
                note: FreeText(note.trim().to_owned()),
                photos: photo_refs(photos, marks),
                extension: None,
            },
        );
    })?;
    Ok(())
}

/// A fixed problem waiting for someone to verify it, as the "to verify" list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRow {
    /// Its name.
    pub name: String,
    /// The zone's name.
    pub zone: String,
    /// What was found.
    pub description: String,
    /// What had to be done.
    pub measure: String,
    /// General or major.
    pub severity: Severity,
    /// The deadline in force.
    pub deadline: Option<NaiveDate>,
    /// Who fixed it (their name).
    pub fixed_by: String,
    /// When (ms).
    pub fixed_at: i64,
    /// What the holder says was done.
    pub fix_note: String,
    /// The photos taken when it was found (thumbnails, sizes, marks).
    pub before: Vec<PhotoRef>,
    /// The latest fix's after-photos.
    pub after: Vec<PhotoRef>,
}

/// Whether the user (by any of their roles) verifies fixes, leaving aside whose fix it is.
pub fn verifies_fixes(me: &Actor) -> bool {
    may_take(
        Step::Verify,
        StepActor {
            roles: me.roles(),
            is_responsible: false,
            is_raiser: false,
            rectified_it: false,
        },
    )
    .is_ok()
}

/// The fixed problems of the user's branch that wait for a verification the user may give
/// (not their own fixes), the oldest fix first. Read from the summaries.
pub fn to_verify(repo: &Repo, me: &Actor) -> Result<Vec<VerifyRow>, RecordError> {
    if !verifies_fixes(me) {
        return Ok(Vec::new());
    }
    let prefix = DocId::prefix(DocKind::Problem, &me.branch);
    let dir = directory(repo, &me.branch).ok();
    let name_of = |user: &str| {
        dir.as_ref()
            .and_then(|d| d.members.get(user))
            .map_or_else(|| user.to_owned(), |m| m.name.clone())
    };
    let mut rows = Vec::new();
    for (id, summary) in repo.summaries_containing(&prefix, br#""status":"rectified""#)? {
        let Summary::Problem(p) = summary else {
            continue;
        };
        if p.status != ProblemStatus::Rectified || p.rectifiers.contains(&me.user) {
            continue;
        }
        let Some(fix) = p.last_fix else {
            continue;
        };
        rows.push(VerifyRow {
            name: id[prefix.len()..].to_owned(),
            zone: dir
                .as_ref()
                .and_then(|d| d.zones.get(&p.zone))
                .map_or_else(|| p.zone.clone(), |z| z.name.clone()),
            description: p.description,
            measure: p.measure,
            severity: p.severity,
            deadline: p.deadline,
            fixed_by: name_of(&fix.by),
            fixed_at: fix.at,
            fix_note: fix.note,
            before: p.thumbs,
            after: fix.thumbs,
        });
    }
    rows.sort_by(|a, b| a.fixed_at.cmp(&b.fixed_at).then(a.name.cmp(&b.name)));
    Ok(rows)
}

/// The problem of the "to verify" list with this name, if it is on the phone.
pub fn to_verify_one(repo: &Repo, me: &Actor, name: &str) -> Option<VerifyRow> {
    to_verify(repo, me)
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.name == name)
}

/// A verifier's judgement of a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// The fix holds: the problem is closed (销号).
    Verified,
    /// The fix does not hold: back to the holder, with what is still wrong and, if given, a
    /// new deadline (otherwise the one in force stands).
    Reopened {
        /// What is still wrong.
        note: String,
        /// A new deadline.
        deadline: Option<NaiveDate>,
    },
}

/// Verifies or reopens the latest fix of a problem of the user's branch.
pub fn judge(
    repo: &Repo,
    me: &Actor,
    problem: &str,
    judgement: &Judgement,
    today: NaiveDate,
) -> Result<(), RecordError> {
    let id = DocId::problem(&me.branch, problem);
    let p = repo
        .read::<Problem>(&id)?
        .ok_or_else(|| RecordError::Missing {
            what: "problem",
            id: problem.to_owned(),
        })?;
    let status = p.status();
    let fixable = match judgement {
        Judgement::Verified => status == ProblemStatus::Rectified,
        Judgement::Reopened { .. } => {
            matches!(status, ProblemStatus::Rectified | ProblemStatus::Verified)
        }
    };
    if !fixable {
        return Err(RecordError::Input(T::NothingToVerify));
    }
    let who = StepActor {
        roles: me.roles(),
        is_responsible: p.finding.responsible == me.user,
        is_raiser: p.finding.raised_by == me.user,
        rectified_it: p.fixes().any(|(_, r)| r.by == me.user),
    };
    if who.rectified_it {
        return Err(RecordError::Input(T::NotYourOwnFix));
    }
    if may_take(Step::Verify, who).is_err() {
        return Err(RecordError::Input(T::OnlyInspectorsVerify));
    }
    let (outcome, note, deadline) = match judgement {
        Judgement::Verified => (Outcome::Verified, String::new(), None),
        Judgement::Reopened { note, deadline } => {
            if note.trim().is_empty() {
                return Err(RecordError::Input(T::NeedReopenNote));
            }
            if deadline.is_some_and(|d| d < today) {
                return Err(RecordError::Input(T::DeadlinePast));
            }
            (Outcome::Reopened, note.trim().to_owned(), *deadline)
        }
    };
    // After every fact already on the record, whatever this phone's clock says: a judgement
    // placed before the fix it judges would be passed over.
    let latest = p
        .rectifications
        .values()
        .map(|r| r.at)
        .chain(p.verifications.values().map(|v| v.at))
        .max()
        .unwrap_or(0);
    let at = now_millis().max(latest + 1);
    repo.edit_as::<Problem, _>(me, &id, |p| {
        p.verifications.insert(
            format!("{}-{at}", me.user),
            Verification {
                at,
                by: me.user.clone(),
                outcome,
                note: FreeText(note.clone()),
                deadline: deadline.map(Day),
                request: None,
            },
        );
    })?;
    Ok(())
}

/// The problem of the user's list with this name, if it is on the phone.
pub fn my_problem(repo: &Repo, me: &Actor, name: &str, today: NaiveDate) -> Option<ProblemRow> {
    my_problems(repo, me, today)
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.name == name)
}

/// How many of the listed problems still await a fix, and how many are overdue.
pub fn open_and_overdue(rows: &[ProblemRow]) -> (usize, usize) {
    let open = rows
        .iter()
        .filter(|p| p.status.awaits_rectification())
        .count();
    let overdue = rows.iter().filter(|p| p.overdue).count();
    (open, overdue)
}

/// What the raise-problem screen shows for a zone (and item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaiseView {
    /// The zone's name (empty when the zone is not in the directory).
    pub zone_name: String,
    /// The checklist item's requirement, when raised from an item.
    pub item_text: Option<String>,
    /// The branch's members (id, name), to choose who must fix it.
    pub members: Vec<(String, String)>,
    /// Who is chosen at first: the zone's first holder.
    pub responsible: String,
}

/// The raise-problem screen of a zone, from the branch's directory.
pub fn raise_view(
    repo: &Repo,
    me: &Actor,
    zone: &str,
    item: Option<&str>,
) -> Result<RaiseView, RecordError> {
    let dir = directory(repo, &me.branch)?;
    let z = dir.zones.get(zone).cloned().unwrap_or_default();
    let item_text = item.and_then(|i| {
        dir.templates
            .get(&z.template)
            .and_then(|t| t.items.get(i))
            .map(|t| t.text.clone())
    });
    let responsible = z
        .holders
        .iter()
        .find(|(_, on)| **on)
        .map(|(h, _)| h.clone())
        .unwrap_or_default();
    Ok(RaiseView {
        zone_name: z.name,
        item_text,
        members: members(&dir),
        responsible,
    })
}
