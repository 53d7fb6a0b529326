//! A patrol: one inspection walk, planned and closed by its leader.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::Header;
use super::values::{Day, FreeText};
use crate::domain::PatrolKind;

/// One inspection walk. Written by its leader alone.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Patrol {
    /// Fixed at genesis.
    pub header: Header,
    /// What, when, who and where.
    pub plan: PatrolPlan,
    /// The leader's notes.
    pub notes: FreeText,
    /// When the leader closed the patrol, in milliseconds since the Unix epoch.
    pub closed_at: Option<i64>,
}

/// A patrol's plan.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct PatrolPlan {
    /// Weekly inspection, ten-day supervision, monthly self-check or spot check.
    pub kind: PatrolKind,
    /// The day of the walk at the mine; decides the periods it counts for.
    pub date: Option<Day>,
    /// The leader's user id: the patrol's only writer.
    pub leader: String,
    /// The inspectors' user ids (the value is always `true`).
    pub inspectors: BTreeMap<String, bool>,
    /// The zones to visit, with their order.
    pub zones: BTreeMap<String, u64>,
}

document!(Patrol, |header| {
    Patrol {
        header,
        plan: PatrolPlan {
            kind: PatrolKind::Weekly,
            date: None,
            leader: String::new(),
            inspectors: BTreeMap::new(),
            zones: BTreeMap::new(),
        },
        notes: FreeText::default(),
        closed_at: None,
    }
});
