//! A monthly assessment: the holder's self-score and the secretary's branch score.

use super::{Writer, not_writer, out_of_range, role_in, writer_of};
use crate::docs::{Assessment, DocId, DocKind, Scores};
use crate::domain::Role;
use crate::points::Points;
use crate::rules::AssessmentForm;
use crate::validate::limits::{self, TEXT_CHARS, text};
use crate::validate::locks::check_unlocked;
use crate::validate::{Change, Refusal};

fn scores_ok(
    part: &str,
    scores: &Scores,
    actor: &str,
    bounds: &limits::Bounds,
    form: &AssessmentForm,
) -> Result<(), Refusal> {
    text(part, "the note", scores.note.as_str(), TEXT_CHARS)?;
    if let Some(at) = scores.at {
        bounds.moment(part, "the score", at)?;
    }
    for (key, points) in &scores.items {
        let Some(max) = form.max_of(key) else {
            return out_of_range(
                part,
                format!("“{key}” is not an item of this month's assessment form: sync, then score"),
            );
        };
        if *points < Points::ZERO || *points > max {
            out_of_range(
                part,
                format!("a score of {key} must be from 0 to {max}; it has {points}"),
            )?;
        }
    }
    if scores.by != actor {
        not_writer(
            part,
            "scores are signed by whoever gives them: sign with your own name",
        )?;
    }
    Ok(())
}

pub(in crate::validate) fn assessment(c: &Change<'_, Assessment>) -> Result<(), Refusal> {
    let DocId::Assessment { zone, month, .. } = c.id else {
        return out_of_range("document", "not an assessment id");
    };
    let form = c.ctx.rules.map(|r| r.form_for(*month)).unwrap_or_default();
    for part in c.touched.keys() {
        match writer_of(DocKind::Assessment, part) {
            Writer::ZoneHolder => {
                let Some(directory) = c.ctx.directory else {
                    return not_writer(
                        part,
                        "the branch directory is needed to know the zone's holders: sync first",
                    );
                };
                if !directory.holds(&c.actor.user, zone) {
                    not_writer(
                        part,
                        "only a member responsible for the zone gives its self-score",
                    )?;
                }
                scores_ok(part, &c.after.self_score, &c.actor.user, &c.bounds, &form)?;
            }
            _ => {
                role_in(c, part, &[Role::Secretary], "the branch secretary")?;
                scores_ok(part, &c.after.branch_score, &c.actor.user, &c.bounds, &form)?;
            }
        }
        check_unlocked(part, *month, c.ctx.locks)?;
    }
    Ok(())
}
