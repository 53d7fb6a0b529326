//! A report: the server's consolidated results for a branch and period, read-only on devices.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Document, Header};
use crate::points::Points;

/// One branch × period. Written by the server alone.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Report {
    /// Fixed at genesis; the period is in the id.
    pub header: Header,
    /// When the server last updated it.
    pub updated_at: Option<i64>,
    /// Results by zone.
    pub zones: BTreeMap<String, ZoneResult>,
    /// Problems still waiting for their fix.
    pub open_problems: u64,
    /// Of those, how many are past their deadline.
    pub overdue_problems: u64,
}

/// A zone's result in the period: aggregates only, never an inspector's own marks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct ZoneResult {
    /// The aggregated score.
    pub score: Option<Points>,
    /// Its place in the branch.
    pub rank: u64,
    /// Money from the final monthly score, in fen (monthly reports).
    pub money_fen: i64,
}

impl Document for Report {
    const KIND: DocKind = DocKind::Report;

    fn born(header: Header) -> Report {
        Report {
            header,
            updated_at: None,
            zones: BTreeMap::new(),
            open_problems: 0,
            overdue_problems: 0,
        }
    }

    fn header(&self) -> &Header {
        &self.header
    }
}
