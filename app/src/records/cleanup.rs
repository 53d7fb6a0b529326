//! The team leader's cleanup log (文明生产整治): zone, team, day, who took part, the work done
//! with quantities, photos before and after.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{Cleanup, Day, DocId, FreeText, Marks, WorkItem};
use zonepatrol_shared::{Actor, Role};

use super::{RecordError, check_unlocked, directory, members, new_name, photo_refs};
use crate::i18n::T;
use crate::store::{PhotoRecord, Repo};

/// What the cleanup screen collects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CleanupInput {
    /// The zone.
    pub zone: String,
    /// The team.
    pub team: String,
    /// The day.
    pub date: Option<NaiveDate>,
    /// Who took part (member ids or names).
    pub participants: Vec<String>,
    /// Person-times; at least the participants.
    pub person_times: u64,
    /// Work done: what, quantity in thousandths, unit.
    pub items: Vec<WorkItem>,
    /// Photos before.
    pub before: Vec<PhotoRecord>,
    /// Photos after.
    pub after: Vec<PhotoRecord>,
    /// What the user marked on its photos, by photo.
    pub marks: BTreeMap<String, Marks>,
    /// Notes.
    pub note: String,
}

/// Checks a cleanup before it is logged.
pub fn check_cleanup(input: &CleanupInput) -> Result<(), RecordError> {
    if input.zone.is_empty() {
        return Err(RecordError::Input(T::ChooseZone));
    }
    if input.date.is_none() {
        return Err(RecordError::Input(T::ChooseCleanupDay));
    }
    if input.person_times == 0 || input.person_times > 100_000 {
        return Err(RecordError::Input(T::PersonTimesRange));
    }
    if input
        .items
        .iter()
        .any(|i| i.what.trim().is_empty() || i.unit.trim().is_empty() || i.quantity_milli < 0)
    {
        return Err(RecordError::Input(T::WorkItemIncomplete));
    }
    Ok(())
}

/// Logs a cleanup led by the user (a team leader); returns its name.
pub fn log_cleanup(repo: &Repo, me: &Actor, input: &CleanupInput) -> Result<String, RecordError> {
    check_cleanup(input)?;
    if !me.has(Role::TeamLeader) {
        return Err(RecordError::Input(T::OnlyTeamLeaderLogs));
    }
    let dir = directory(repo, &me.branch)?;
    if !dir.zones.contains_key(&input.zone) {
        return Err(RecordError::Missing {
            what: "zone",
            id: input.zone.clone(),
        });
    }
    let date = input.date.unwrap_or_default();
    check_unlocked(repo, &me.branch, date)?;
    let name = new_name(date);
    repo.edit_as::<Cleanup, _>(me, &DocId::cleanup(&me.branch, &name), |c| {
        c.log.zone = input.zone.clone();
        c.log.team = input.team.trim().to_owned();
        c.log.date = Some(Day(date));
        c.log.leader = me.user.clone();
        c.log.participants = input
            .participants
            .iter()
            .map(|p| (p.clone(), true))
            .collect();
        c.log.person_times = input.person_times;
        c.log.items = input
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                (
                    format!("{n:03}"),
                    WorkItem {
                        what: i.what.trim().to_owned(),
                        quantity_milli: i.quantity_milli,
                        unit: i.unit.trim().to_owned(),
                    },
                )
            })
            .collect();
        c.log.before = photo_refs(&input.before, &input.marks);
        c.log.after = photo_refs(&input.after, &input.marks);
        c.log.note = FreeText(input.note.trim().to_owned());
    })?;
    Ok(name)
}

/// Parses a quantity typed by a person ("120", "1.5", "0,75") into thousandths.
pub fn quantity_milli(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 3 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").parse().ok()?
    };
    (whole >= 0 && frac >= 0)
        .then(|| whole.checked_mul(1000)?.checked_add(frac))
        .flatten()
}

/// What the cleanup form offers: the active zones, the user's team and the branch's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupChoices {
    /// Active zones (id, name), in the directory's order.
    pub zones: Vec<(String, String)>,
    /// The user's team.
    pub team: String,
    /// The branch's members (id, name), to choose who took part.
    pub members: Vec<(String, String)>,
}

/// The choices of the cleanup form, from the branch's directory.
pub fn cleanup_choices(repo: &Repo, me: &Actor) -> Result<CleanupChoices, RecordError> {
    let dir = directory(repo, &me.branch)?;
    Ok(CleanupChoices {
        zones: dir
            .zones
            .iter()
            .filter(|(_, z)| z.active)
            .map(|(id, z)| (id.clone(), z.name.clone()))
            .collect(),
        team: dir
            .members
            .get(&me.user)
            .map(|m| m.team.clone())
            .unwrap_or_default(),
        members: members(&dir),
    })
}
