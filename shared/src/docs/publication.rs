//! Publication: a manager publishes a period (its results freeze and edits are refused) or
//! reopens it, on the record.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::{DocKind, Document, Header};
use crate::rules::period::Period;

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
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
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
    /// The periods locked now: those whose latest event is a publish.
    pub fn locks(&self) -> Vec<Lock> {
        let mut latest: BTreeMap<Period, (&String, &LockEvent)> = BTreeMap::new();
        for (id, e) in &self.events {
            let Ok(period) = e.period.parse::<Period>() else {
                continue;
            };
            let newer = latest
                .get(&period)
                .is_none_or(|(pid, pe)| (e.at, id) > (pe.at, *pid));
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

impl Document for Publication {
    const KIND: DocKind = DocKind::Publication;

    fn born(header: Header) -> Publication {
        Publication {
            header,
            events: BTreeMap::new(),
        }
    }

    fn header(&self) -> &Header {
        &self.header
    }
}
