//! The record of administrative changes, as the activity page lists it: who changed what and
//! when, filtered by branch and by person, only what the viewer may see.

use zonepatrol_shared::Actor;

use super::{AdminError, may_see_branch};
use crate::State;
use crate::store::ActivityRecord;

/// The most changes the activity page shows.
pub const SHOWN: usize = 500;
/// The latest changes looked through for them.
const SCANNED: usize = 20_000;

/// What the activity page is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this branch's changes.
    pub branch: Option<String>,
    /// Only this person's changes.
    pub by: Option<String>,
}

/// The latest changes `who` may see (an admin all, a secretary their own branch's), newest
/// first, that match `filter`.
pub fn list(
    state: &State,
    who: &Actor,
    filter: &Filter,
) -> Result<Vec<ActivityRecord>, AdminError> {
    let records = state.store.activity(SCANNED)?;
    Ok(records
        .into_iter()
        .filter(|r| {
            may_see_branch(who, &r.branch) || (r.branch.is_empty() && who.is_company_wide())
        })
        .filter(|r| filter.branch.as_ref().is_none_or(|b| *b == r.branch))
        .filter(|r| filter.by.as_ref().is_none_or(|b| *b == r.by))
        .take(SHOWN)
        .collect())
}
