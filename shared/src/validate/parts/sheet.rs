//! A score sheet: its own inspector, on its patrol's zones and their templates.

use super::{not_writer, out_of_range, photos_ok, role_in};
use crate::docs::{DocId, Sheet};
use crate::domain::Role;
use crate::validate::limits::{
    ITEMS_PER_TEMPLATE, RULES_PER_ITEM, TEXT_CHARS, ZONES_PER_PATROL, records, text,
};
use crate::validate::locks::check_unlocked;
use crate::validate::{Change, Refusal};

pub(in crate::validate) fn sheet(c: &Change<'_, Sheet>) -> Result<(), Refusal> {
    let DocId::Sheet {
        patrol: patrol_id,
        inspector,
        ..
    } = c.id
    else {
        return out_of_range("document", "not a sheet id");
    };
    for part in c.touched.keys() {
        if *inspector != c.actor.user {
            not_writer(part, "a score sheet is written by its own inspector alone")?;
        }
        role_in(
            c,
            part,
            &[Role::Secretary, Role::Inspector, Role::Manager],
            "an inspector",
        )?;
    }
    let (Some(patrol), Some(directory)) = (c.ctx.patrol, c.ctx.directory) else {
        return not_writer(
            "zones",
            "the patrol and the branch directory are needed to check a sheet: sync first",
        );
    };
    {
        let expected = DocId::Patrol {
            branch: c.id.branch().to_owned(),
            patrol: patrol_id.clone(),
        };
        if patrol.header.id != expected.to_string() {
            return out_of_range("document", "the patrol given does not match the sheet");
        }
        let listed =
            patrol.plan.inspectors.contains_key(inspector) || patrol.plan.leader == *inspector;
        if !listed {
            not_writer(
                "zones",
                "you are not an inspector on this patrol: ask its leader to add you",
            )?;
        }
        if let Some(day) = patrol.plan.date {
            check_unlocked("zones", day.0, c.ctx.locks)?;
        }
    }
    records(
        "zones",
        "zones on a sheet",
        &c.after.zones,
        ZONES_PER_PATROL,
    )?;
    if let Some(at) = c.after.submitted_at {
        c.bounds
            .moment("submitted_at", "submitting the sheet", at)?;
    }
    for (zone_id, zone) in &c.after.zones {
        text("zones", "a zone's note", zone.note.as_str(), TEXT_CHARS)?;
        records("zones", "items of a zone", &zone.items, ITEMS_PER_TEMPLATE)?;
        if !patrol.plan.zones.contains_key(zone_id) {
            return out_of_range(
                "zones",
                format!("zone {zone_id} is not on this patrol: ask its leader to add it"),
            );
        }
        if !directory.templates.contains_key(&zone.template) {
            return out_of_range(
                "zones",
                format!(
                    "zone {zone_id} is scored on template {}, which does not exist",
                    zone.template
                ),
            );
        }
        for (item_id, item) in &zone.items {
            text("zones", "an item's note", item.note.as_str(), TEXT_CHARS)?;
            records(
                "zones",
                "deductions of an item",
                &item.deductions,
                RULES_PER_ITEM,
            )?;
            if item
                .deductions
                .values()
                .any(|n| !(0..=1000).contains(&n.value()))
            {
                out_of_range("zones", "a deduction is counted from 0 to 1000 times")?;
            }
            photos_ok("zones", &item.photos)?;
            let Some(directory) = c.ctx.directory else {
                continue;
            };
            let Some(template) = directory.templates.get(&zone.template) else {
                continue;
            };
            let Some(t_item) = template.items.get(item_id) else {
                return out_of_range(
                    "zones",
                    format!(
                        "checklist item {item_id} is not on template {}",
                        zone.template
                    ),
                );
            };
            if let Some(rule) = item
                .deductions
                .keys()
                .find(|r| !t_item.rules.contains_key(*r))
            {
                return out_of_range(
                    "zones",
                    format!("deduction {rule} is not a rule of item {item_id}"),
                );
            }
            // A deduction the template wants a photo of comes with one: a count that grows
            // on an item with no photo is refused (taking one back never is).
            if item.photos.is_empty() {
                let before = c
                    .before
                    .zones
                    .get(zone_id)
                    .and_then(|z| z.items.get(item_id));
                for (rule_id, count) in &item.deductions {
                    let was = before
                        .and_then(|b| b.deductions.get(rule_id))
                        .map_or(0, |t| t.value());
                    let wants_photo = t_item.rules.get(rule_id).is_some_and(|r| r.needs_photo);
                    if wants_photo && count.value() > was {
                        return out_of_range(
                            "zones",
                            format!(
                                "deduction {rule_id} of item {item_id} needs a photo: take the \
                                 photo of the item first, then deduct"
                            ),
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
