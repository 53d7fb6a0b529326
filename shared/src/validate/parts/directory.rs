//! The branch directory: zones, posts, members and templates.

use super::{Writer, key_ok, not_writer, out_of_range, role_in, writer_of};
use crate::docs::{Directory, DocKind, Post, PostEvent, PostStatus, PostStep};
use crate::domain::Role;
use crate::points::Points;
use crate::rules::check_shares;
use crate::validate::limits::{
    APPLICATIONS_WAITING, EVENTS_PER_RECORD, ITEMS_PER_TEMPLATE, MEMBERS_PER_BRANCH, NAME_CHARS,
    PEOPLE_PER_RECORD, POST_STEP_DAYS_BEHIND, POST_TERM_DAYS_AHEAD, RULES_PER_ITEM,
    TEMPLATE_VERSIONS_PER_BRANCH, TEMPLATES_PER_BRANCH, TEXT_CHARS, ZONES_PER_BRANCH, records,
    text,
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
        let holders = zone.holders.iter().filter(|(_, on)| **on).map(|(h, _)| h);
        if let Err(e) = check_shares(holders, &zone.shares) {
            out_of_range("zones", format!("zone “{}”: {e}", zone.name))?;
        }
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
/// naming themselves among its demonstrators (again after a turn-down, if they were named on
/// it); the secretary or an admin sets posts up, changes their clears, approves or turns down
/// applications (never one naming them, before or after the change), and ends them; a
/// manager, the secretary or an admin reviews a post in force each quarter and withdraws its
/// title (摘牌) with a reason. Every step must apply where the post stands on the day it is
/// recorded, and is dated after the steps already recorded (a review, which changes nothing,
/// may fall between them), at most [`POST_STEP_DAYS_BEHIND`] days ago.
fn posts(c: &Change<'_, Directory>) -> Result<(), Refusal> {
    let me = c.actor;
    let keeper = me.roles().any(&[Role::Secretary, Role::Admin]);
    let manager = me.has(Role::Manager);
    let member = c.before.members.contains_key(&me.user);
    // Anyone but the secretary or an admin touches only the posts they change as the rules
    // allow: nothing hidden in another's record.
    if !keeper {
        for key in c.touched.get("posts").into_iter().flatten() {
            let (before, after) = (c.before.posts.get(key), c.after.posts.get(key));
            if before == after {
                not_writer(
                    "posts",
                    format!("{KEEPERS} may change post {key} other than by a step of its life"),
                )?;
            }
        }
    }
    for (id, post) in &c.after.posts {
        let before = c.before.posts.get(id);
        if before == Some(post) {
            continue;
        }
        let new: Vec<(&String, &PostEvent)> = post
            .events_in_order()
            .into_iter()
            .filter(|(k, _)| before.is_none_or(|b| !b.events.contains_key(*k)))
            .collect();
        let applies = new.iter().any(|(_, e)| e.step == PostStep::Propose);
        let clears_changed = before.is_none_or(|b| !b.same_clears(post));
        if clears_changed && !keeper {
            // A new application, or one again after a turn-down by someone named on it.
            let again =
                before.is_none_or(|b| b.status() == PostStatus::Rejected && b.names(&me.user));
            let named = post.demonstrators.get(&me.user).copied().unwrap_or(false);
            if !(member && applies && again && named) {
                not_writer(
                    "posts",
                    format!(
                        "{KEEPERS} may set up or change a post; a member of the branch applies for \
                         one, naming themselves among its demonstrators, and applies again only \
                         for their own post after it was turned down (post {id})"
                    ),
                )?;
            }
        }
        // The secretary or an admin never adds themselves to a post in force: another decides.
        if keeper
            && before.is_some_and(|b| {
                matches!(b.status(), PostStatus::Approved | PostStatus::Active)
                    && !b.demonstrators.get(&me.user).copied().unwrap_or(false)
            })
            && post.demonstrators.get(&me.user).copied().unwrap_or(false)
        {
            not_writer(
                "posts",
                format!(
                    "nobody adds themselves to an approved post: post {id} is decided; an admin \
                     or another secretary changes its demonstrators"
                ),
            )?;
        }
        let approves = new.iter().any(|(_, e)| e.step == PostStep::Approve);
        if clears_changed || applies || approves {
            clears_ok(c, id, post, before)?;
        }
        if applies && !keeper {
            let waiting = c
                .after
                .posts
                .iter()
                .filter(|(_, p)| p.status() == PostStatus::Proposed && p.applicant() == me.user)
                .count();
            if waiting > APPLICATIONS_WAITING {
                out_of_range(
                    "posts",
                    format!(
                        "at most {APPLICATIONS_WAITING} applications of one member wait for the \
                         secretary at once: wait for their decision"
                    ),
                )?;
            }
        }
        let latest = before.map_or(i64::MIN, Post::latest_event);
        let mut status = before.map_or(PostStatus::Proposed, Post::status);
        let had_events = before.is_some_and(|b| !b.events.is_empty());
        for (_, event) in new {
            step(c, id, post, before, event, keeper, manager)?;
            if event.step != PostStep::Review && event.at <= latest {
                out_of_range(
                    "posts",
                    format!(
                        "a step of post {id} was recorded before one already on the record: sync \
                         and look at where the post stands now"
                    ),
                )?;
            }
            if let Some(now) = c.bounds.now
                && event.at < now.saturating_sub(POST_STEP_DAYS_BEHIND as i64 * 86_400_000)
            {
                out_of_range(
                    "posts",
                    format!(
                        "a step of post {id} is dated more than {POST_STEP_DAYS_BEHIND} days ago: \
                         record it again with today's date"
                    ),
                )?;
            }
            if event.step == PostStep::Propose && had_events && status != PostStatus::Rejected {
                out_of_range(
                    "posts",
                    format!(
                        "post {id} is {}: it is applied for again only after it was turned down",
                        status_words(status)
                    ),
                )?;
            }
            // Judged on the day it was recorded at the mine: a post is in force from its
            // start date and over after its end date (an application may still be turned
            // down).
            let day = c.ctx.clock.date_of_millis(event.at);
            if event.step != PostStep::Reject
                && let (Some(day), Some(ends)) = (day, post.ends)
                && day > ends.0
            {
                out_of_range(
                    "posts",
                    format!("post {id}'s term ended on {}: it is over", ends.0),
                )?;
            }
            if let Some(day) = day {
                status = status.on(day, post.starts, None);
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

/// A post's five clears, when they change, when it is applied for and when it is approved:
/// all filled, in a zone of the branch, its demonstrators members of the branch.
fn clears_ok(
    c: &Change<'_, Directory>,
    id: &str,
    post: &Post,
    before: Option<&Post>,
) -> Result<(), Refusal> {
    if let Some(missing) = post.missing_clear() {
        return out_of_range(
            "posts",
            format!("post {id} names all five clears: fill in {missing}"),
        );
    }
    if !c.after.zones.contains_key(&post.zone) {
        return out_of_range(
            "posts",
            format!(
                "post {id} stands in zone {}, which does not exist",
                post.zone
            ),
        );
    }
    let new_people = before.is_none_or(|b| b.demonstrators != post.demonstrators);
    if new_people
        && let Some(who) = post
            .demonstrators
            .keys()
            .find(|u| !c.after.members.contains_key(*u))
    {
        return out_of_range(
            "posts",
            format!("{who}, a demonstrator of post {id}, is not a member of the branch"),
        );
    }
    Ok(())
}

/// Whether the actor may record this step of the post, with what it needs.
fn step(
    c: &Change<'_, Directory>,
    id: &str,
    post: &Post,
    before: Option<&Post>,
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
    // Named on the post before or after this change, or its applicant at any time.
    if matches!(event.step, PostStep::Approve | PostStep::Reject)
        && (post.names(me) || before.is_some_and(|b| b.names(me)))
    {
        return not_writer(
            "posts",
            format!(
                "nobody approves or rejects their own post: post {id} names you; another \
                 secretary or an admin decides"
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
