//! A zone's monthly assessment (责任区月度考评): the holder's self-score beside the
//! secretary's branch score, which is final.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::Header;
use super::values::FreeText;
use crate::points::Points;
use crate::rules::AssessmentForm;

/// One zone × month; both are in the id.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Assessment {
    /// Fixed at genesis.
    pub header: Header,
    /// Written by a responsible member of the zone.
    pub self_score: Scores,
    /// Written by the branch secretary; final.
    pub branch_score: Scores,
}

/// One side's scores.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct Scores {
    /// Points by item key ([`FormItem::key`](crate::rules::FormItem::key)).
    pub items: BTreeMap<String, Points>,
    /// Remarks.
    pub note: FreeText,
    /// Who scored (user id).
    pub by: String,
    /// When they finished, in milliseconds since the Unix epoch.
    pub at: Option<i64>,
}

impl Scores {
    /// The total on the month's form, once every item of it is scored.
    pub fn total(&self, form: &AssessmentForm) -> Option<Points> {
        form.total(&self.items)
    }
}

impl Assessment {
    /// The final score: the branch score's total on the month's form, once complete.
    pub fn final_score(&self, form: &AssessmentForm) -> Option<Points> {
        self.branch_score.total(form)
    }
}

document!(Assessment, |header| {
    Assessment {
        header,
        self_score: Scores::default(),
        branch_score: Scores::default(),
    }
});
