//! A cleanup log (文明生产整治, 义务劳动).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::values::{Day, FreeText};
use super::{Header, PhotoRef};

/// One cleanup. Written by its team leader alone.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Cleanup {
    /// Fixed at genesis.
    pub header: Header,
    /// The log.
    pub log: CleanupLog,
}

/// What was done, where, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct CleanupLog {
    /// The zone.
    pub zone: String,
    /// The team.
    pub team: String,
    /// The day at the mine.
    pub date: Option<Day>,
    /// The team leader (user id): the log's only writer.
    pub leader: String,
    /// Participants by name (the value is always `true`).
    pub participants: BTreeMap<String, bool>,
    /// Person-times (人次): may exceed the participants when people came on several shifts.
    pub person_times: u64,
    /// Work items by id.
    pub items: BTreeMap<String, WorkItem>,
    /// Photos before.
    pub before: BTreeMap<String, PhotoRef>,
    /// Photos after.
    pub after: BTreeMap<String, PhotoRef>,
    /// Notes.
    pub note: FreeText,
}

/// A work item: "cable re-hung, 120 m".
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct WorkItem {
    /// What was done.
    pub what: String,
    /// How much, in thousandths of the unit (1.5 t is 1500).
    pub quantity_milli: i64,
    /// The unit: m, t, 盏, 件…
    pub unit: String,
}

document!(Cleanup, |header| {
    Cleanup {
        header,
        log: CleanupLog::default(),
    }
});
