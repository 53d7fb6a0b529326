//! What a new document's id must name before anything else is checked.

use super::{not_writer, out_of_range};
use crate::docs::DocId;
use crate::domain::{Actor, Role};
use crate::validate::limits::{self, WORK_DAYS_AHEAD};
use crate::validate::{Context, Refusal};

/// What a new document's id must name, whatever the change holds (even nothing but the
/// genesis): a branch an admin set up, a month that has begun, a zone that exists; and only the
/// server makes reports.
pub(in crate::validate) fn new_document(
    actor: &Actor,
    id: &DocId,
    ctx: &Context<'_>,
    bounds: &limits::Bounds,
) -> Result<(), Refusal> {
    let no_branch = || {
        not_writer(
            "document",
            format!(
                "there is no branch {} on this phone: sync first, or ask an admin to set it up",
                id.branch()
            ),
        )
    };
    match id {
        DocId::Directory { .. } if !actor.has(Role::Admin) => {
            not_writer("document", "a new branch is set up by an admin")
        }
        DocId::Rules if !actor.has(Role::Admin) => {
            not_writer("document", "the mine's rules are set by an admin")
        }
        DocId::Report { .. } => not_writer(
            "document",
            "reports are written by the server alone and are read-only",
        ),
        DocId::Assessment { zone, month, .. } => {
            bounds.day("document", "the month", month.first_day(), WORK_DAYS_AHEAD)?;
            let Some(directory) = ctx.directory else {
                return no_branch();
            };
            if !directory.zones.contains_key(zone) {
                return out_of_range(
                    "document",
                    format!("zone {zone} is not in the branch directory"),
                );
            }
            Ok(())
        }
        DocId::Publication { .. } | DocId::Evaluation { .. } if ctx.directory.is_none() => {
            no_branch()
        }
        _ => Ok(()),
    }
}
