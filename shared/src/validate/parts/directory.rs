//! The branch directory: zones, posts, members and templates.

use super::{Writer, key_ok, not_writer, out_of_range, role_in, writer_of};
use crate::docs::{Directory, DocKind, Post, PostEvent, PostStatus, PostStep};
use crate::domain::Role;
use crate::points::Points;
use crate::validate::limits::{
    EVENTS_PER_RECORD, ITEMS_PER_TEMPLATE, MEMBERS_PER_BRANCH, NAME_CHARS, PEOPLE_PER_RECORD,
    POST_TERM_DAYS_AHEAD, RULES_PER_ITEM, TEMPLATE_VERSIONS_PER_BRANCH, TEMPLATES_PER_BRANCH,
    TEXT_CHARS, ZONES_PER_BRANCH, records, text,
};
use crate::validate::{Change, Refusal};

pub(in crate::validate) fn directory(c: &Change<'_, Directory>) -> Result<(), Refusal> {
    for part in c.touched.keys() {
        match writer_of(DocKind::Directory, part) {
            Writer::Admin => role_in(c, part, &[Role::Admin], "an admin")?,
            // Who may record which step of a post's life is checked post by post below.
            Writer::Posts => {}
            _ => role_in(
                c,
                part,
                &[Role::Secretary, Role::Admin],
                "the branch secretary or an admin",
            )?,
        }
    }
    let d = &c.after;
    if d.info.category > 4 {
        out_of_range("info", "a branch category is 1, 2, 3 or 4")?;
    }
    text("info", "the branch's name", &d.info.name, NAME_CHARS)?;
    records("zones", "zones in a branch", &d.zones, ZONES_PER_BRANCH)?;
    records("posts", "posts in a branch", &d.posts, ZONES_PER_BRANCH)?;
    records(
        "members",
        "members in a branch",
        &d.members,
        MEMBERS_PER_BRANCH,
    )?;
    records(
        "templates",
        "checklist templates with their versions",
        &d.templates,
        TEMPLATE_VERSIONS_PER_BRANCH,
    )?;
    let superseded: std::collections::BTreeSet<&String> =
        d.templates.values().map(|t| &t.supersedes).collect();
    let current = d
        .templates
        .keys()
        .filter(|id| !superseded.contains(id))
        .count();
    if current > TEMPLATES_PER_BRANCH {
        out_of_range(
            "templates",
            format!("a branch uses at most {TEMPLATES_PER_BRANCH} checklist templates at once"),
        )?;
    }
    for zone in d.zones.values() {
        text("zones", "a zone's name", &zone.name, NAME_CHARS)?;
        text("zones", "a zone's location", &zone.location, NAME_CHARS)?;
        key_ok("zones", "a zone's template", &zone.template)?;
        records(
            "zones",
            "a zone's holders",
            &zone.holders,
            PEOPLE_PER_RECORD,
        )?;
        records("zones", "a zone's teams", &zone.teams, PEOPLE_PER_RECORD)?;
    }
    for member in d.members.values() {
        text("members", "a member's name", &member.name, NAME_CHARS)?;
        text(
            "members",
            "a member's party group",
            &member.group,
            NAME_CHARS,
        )?;
        text("members", "a member's team", &member.team, NAME_CHARS)?;
    }
    for post in d.posts.values() {
        key_ok("posts", "a post's zone", &post.zone)?;
        text("posts", "a post's title", &post.title, NAME_CHARS)?;
        records(
            "posts",
            "a post's demonstrators",
            &post.demonstrators,
            PEOPLE_PER_RECORD,
        )?;
        text("posts", "a post's standard", &post.standard, TEXT_CHARS)?;
        text("posts", "a post's assessor", &post.assessor, NAME_CHARS)?;
        text(
            "posts",
            "a post's assessment standard",
            &post.assessment,
            TEXT_CHARS,
        )?;
        for day in [post.starts, post.ends].into_iter().flatten() {
            c.bounds
                .day("posts", "a post's term", day.0, POST_TERM_DAYS_AHEAD)?;
        }
        records("posts", "a post's events", &post.events, EVENTS_PER_RECORD)?;
        for event in post.events.values() {
            c.bounds.moment("posts", "a post's event", event.at)?;
            key_ok("posts", "who recorded a post's event", &event.by)?;
            text("posts", "a post event's reason", &event.reason, TEXT_CHARS)?;
        }
    }
    for (id, template) in &d.templates {
        text("templates", "a template's name", &template.name, NAME_CHARS)?;
        records(
            "templates",
            "items of a template",
            &template.items,
            ITEMS_PER_TEMPLATE,
        )?;
        for item in template.items.values() {
            text(
                "templates",
                "an item's category",
                &item.category,
                NAME_CHARS,
            )?;
            text("templates", "an item's text", &item.text, TEXT_CHARS)?;
            records(
                "templates",
                "deductions of an item",
                &item.rules,
                RULES_PER_ITEM,
            )?;
            for rule in item.rules.values() {
                text("templates", "a deduction's text", &rule.text, TEXT_CHARS)?;
            }
            if item.max <= Points::ZERO || item.max > Points::whole(100) {
                out_of_range(
                    "templates",
                    format!("template {id}: an item's maximum must be above 0 and at most 100"),
                )?;
            }
            if item
                .rules
                .values()
                .any(|r| r.points <= Points::ZERO || r.points > item.max)
            {
                out_of_range(
                    "templates",
                    format!(
                        "template {id}: a deduction must be above 0 and at most the item's maximum"
                    ),
                )?;
            }
        }
    }
    posts(c)?;
    // A post's life is on the record: its events are never changed or removed, and a new one
    // is signed by whoever records it.
    for (id, before) in &c.before.posts {
        let after = d.posts.get(id);
        let kept = after.is_some_and(|a| {
            before
                .events
                .iter()
                .all(|(k, e)| a.events.get(k) == Some(e))
        });
        if !kept {
            not_writer(
                "posts",
                format!("post {id}'s events are on the record: they cannot be changed or removed"),
            )?;
        }
    }
    for (id, post) in &d.posts {
        let before = c.before.posts.get(id);
        for (key, event) in &post.events {
            let new = before.is_none_or(|b| !b.events.contains_key(key));
            if new && event.by != c.actor.user {
                not_writer(
                    "posts",
                    format!("a new event of post {id} is signed by whoever records it"),
                )?;
            }
        }
    }
    for (id, before) in &c.before.templates {
        match d.templates.get(id) {
            None => out_of_range(
                "templates",
                format!("template {id} cannot be removed: sheets may be scored on it"),
            )?,
            Some(after) if after.items != before.items || after.supersedes != before.supersedes => {
                out_of_range(
                    "templates",
                    format!(
                        "template {id} is stored already and cannot be changed in place: save \
                         the new items as a new version that supersedes it"
                    ),
                )?;
            }
            Some(_) => {}
        }
    }
    for (id, template) in &d.templates {
        if !template.supersedes.is_empty() && !d.templates.contains_key(&template.supersedes) {
            out_of_range(
                "templates",
                format!(
                    "template {id} supersedes {}, which does not exist",
                    template.supersedes
                ),
            )?;
        }
    }
    for zone in d.zones.values() {
        if !zone.template.is_empty() && !d.templates.contains_key(&zone.template) {
            out_of_range(
                "zones",
                format!(
                    "zone “{}” uses template {}, which does not exist",
                    zone.name, zone.template
                ),
            )?;
        }
    }
    Ok(())
}

const KEEPERS: &str = "only the branch secretary or an admin";

/// Who may do what to a post: a member of the branch applies for one with its five clears,
/// naming themselves among its demonstrators (again after a rejection); the secretary or an
/// admin sets posts up, changes their clears, approves or rejects applications (never their
/// own), and ends them; a manager, the secretary or an admin reviews an active post each
/// quarter and withdraws its title (摘牌) with a reason. Every step must apply to where the
/// post stands, and is dated after the steps already recorded.
fn posts(c: &Change<'_, Directory>) -> Result<(), Refusal> {
    let me = c.actor;
    let keeper = me.roles().any(&[Role::Secretary, Role::Admin]);
    let manager = me.has(Role::Manager);
    let member = c.before.members.contains_key(&me.user);
    for (id, post) in &c.after.posts {
        let before = c.before.posts.get(id);
        if before == Some(post) {
            continue;
        }
        let mut new: Vec<(&String, &PostEvent)> = post
            .events_in_order()
            .into_iter()
            .filter(|(k, _)| before.is_none_or(|b| !b.events.contains_key(*k)))
            .collect();
        new.sort_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0)));
        let applies = new.iter().any(|(_, e)| e.step == PostStep::Propose);
        if before.is_none_or(|b| !b.same_clears(post)) && !keeper {
            let reapplies = before.is_none_or(|b| b.status() == PostStatus::Rejected);
            let named = post.demonstrators.get(&me.user).copied().unwrap_or(false);
            if !(member && applies && reapplies && named) {
                not_writer(
                    "posts",
                    format!(
                        "{KEEPERS} may set up or change a post; a member of the branch applies                          for one, naming themselves among its demonstrators (post {id})"
                    ),
                )?;
            }
        }
        if applies && let Some(missing) = post.missing_clear() {
            out_of_range(
                "posts",
                format!("an application for a post names all five clears: fill in {missing}"),
            )?;
        }
        if applies && !c.after.zones.contains_key(&post.zone) {
            out_of_range(
                "posts",
                format!(
                    "post {id} stands in zone {}, which does not exist",
                    post.zone
                ),
            )?;
        }
        let latest = before.map_or(i64::MIN, Post::latest_event);
        let mut status = before.map_or(PostStatus::Proposed, Post::status);
        for (_, event) in new {
            step(c, id, post, event, keeper, manager)?;
            if event.at <= latest {
                out_of_range(
                    "posts",
                    format!(
                        "a new step of post {id} is dated before one already recorded: check the                          phone's clock"
                    ),
                )?;
            }
            // Past its end date a post is over: nothing more is applied for, approved, reviewed
            // or withdrawn (an application may still be turned down).
            let today = c.bounds.today;
            if event.step != PostStep::Reject
                && let (Some(today), Some(ends)) = (today, post.ends)
                && today > ends.0
            {
                out_of_range(
                    "posts",
                    format!("post {id}'s term ended on {}: it is over", ends.0),
                )?;
            }
            // An approved post is in force from its start date.
            if let Some(today) = c.bounds.today {
                status = status.on(today, post.starts, None);
            }
            status = match status.after(event.step) {
                Some(next) => next,
                None => {
                    return out_of_range(
                        "posts",
                        format!(
                            "post {id} is {}: it cannot be {} now",
                            status_words(status),
                            step_words(event.step)
                        ),
                    );
                }
            };
        }
    }
    Ok(())
}

/// Whether the actor may record this step of the post, with what it needs.
fn step(
    c: &Change<'_, Directory>,
    id: &str,
    post: &Post,
    event: &PostEvent,
    keeper: bool,
    manager: bool,
) -> Result<(), Refusal> {
    let me = &c.actor.user;
    let allowed = match event.step {
        PostStep::Propose => keeper || post.demonstrators.get(me).copied().unwrap_or(false),
        PostStep::Approve | PostStep::Reject | PostStep::Activate | PostStep::End => keeper,
        PostStep::Review | PostStep::Revoke => keeper || manager,
    };
    if !allowed {
        let who = match event.step {
            PostStep::Propose => "a member among its demonstrators, the secretary or an admin",
            PostStep::Review | PostStep::Revoke => "a manager, the branch secretary or an admin",
            _ => "the branch secretary or an admin",
        };
        return not_writer(
            "posts",
            format!(
                "post {id} is {} only by {who}; you are signed in as {}",
                step_words(event.step),
                c.actor.roles_zh()
            ),
        );
    }
    if matches!(event.step, PostStep::Approve | PostStep::Reject)
        && (post.demonstrators.get(me).copied().unwrap_or(false) || post.applicant() == me)
    {
        return not_writer(
            "posts",
            format!(
                "nobody approves or rejects their own post: post {id} names you; another                  secretary or an admin decides"
            ),
        );
    }
    if event.step.needs_reason() && event.reason.trim().is_empty() {
        return out_of_range(
            "posts",
            format!("post {id} is {} only with a reason", step_words(event.step)),
        );
    }
    Ok(())
}

fn status_words(s: PostStatus) -> &'static str {
    match s {
        PostStatus::Proposed => "waiting for approval",
        PostStatus::Approved => "approved",
        PostStatus::Rejected => "rejected",
        PostStatus::Active => "in force",
        PostStatus::Revoked => "stripped of its title",
        PostStatus::Ended => "over",
    }
}

fn step_words(s: PostStep) -> &'static str {
    match s {
        PostStep::Propose => "applied for",
        PostStep::Approve => "approved",
        PostStep::Reject => "rejected",
        PostStep::Activate => "started",
        PostStep::Revoke => "stripped of its title",
        PostStep::End => "ended",
        PostStep::Review => "reviewed",
    }
}
