//! Publication: a manager publishes a period (its results freeze and edits are refused) or
//! reopens it, on the record.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::Header;
use crate::rules::period::{Period, PeriodError};

/// One per branch. Written by managers alone.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Publication {
    /// Fixed at genesis.
    pub header: Header,
    /// Publish and reopen events by id.
    pub events: BTreeMap<String, LockEvent>,
}

/// Publish or reopen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate)]
pub enum LockAction {
    /// Freeze the period.
    Publish,
    /// Open it again for edits.
    Reopen,
}

/// One publish or reopen, with who and when.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct LockEvent {
    /// The period, in its text form (`2026-11`).
    pub period: String,
    /// What was done.
    pub action: LockAction,
    /// Who (user id).
    pub by: String,
    /// When, in milliseconds since the Unix epoch: on the record, but not what orders events.
    pub at: i64,
    /// Its place in the branch's history of events: one more than the highest its writer had
    /// seen, which the validator checks. Events are ordered by it (then, for events written
    /// concurrently or before it existed, by time and id), so that a clock cannot make a
    /// later event count as an earlier one.
    #[autosurgeon(missing = "Default::default")]
    pub seq: u64,
}

impl LockEvent {
    /// An event about a period, written in its text form.
    pub fn new(
        period: Period,
        action: LockAction,
        by: impl Into<String>,
        at: i64,
        seq: u64,
    ) -> Self {
        LockEvent {
            period: period.to_string(),
            action,
            by: by.into(),
            at,
            seq,
        }
    }

    /// The period, typed. An event whose text is not a period (written by a faulty client,
    /// refused by the validator) counts for nothing in [`Publication::locks`].
    pub fn parsed_period(&self) -> Result<Period, PeriodError> {
        self.period.parse()
    }
}

/// A period that is locked now, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// The period.
    pub period: Period,
    /// The manager who published it.
    pub by: String,
    /// When.
    pub at: i64,
}

impl Publication {
    /// The `seq` the next event takes.
    pub fn next_seq(&self) -> u64 {
        self.events.values().map(|e| e.seq).max().unwrap_or(0) + 1
    }

    /// The periods locked now: those whose latest event is a publish.
    pub fn locks(&self) -> Vec<Lock> {
        let mut latest: BTreeMap<Period, (&String, &LockEvent)> = BTreeMap::new();
        for (id, e) in &self.events {
            let Ok(period) = e.parsed_period() else {
                continue;
            };
            let newer = latest
                .get(&period)
                .is_none_or(|(pid, pe)| (e.seq, e.at, id) > (pe.seq, pe.at, *pid));
            if newer {
                latest.insert(period, (id, e));
            }
        }
        latest
            .into_iter()
            .filter(|(_, (_, e))| e.action == LockAction::Publish)
            .map(|(period, (_, e))| Lock {
                period,
                by: e.by.clone(),
                at: e.at,
            })
            .collect()
    }
}

document!(Publication, |header| {
    Publication {
        header,
        events: BTreeMap::new(),
    }
});
