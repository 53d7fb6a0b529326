//! Demonstration posts (党员示范岗): a member of the branch applies for one with its five clears
//! (五明确), naming themselves among its demonstrators; the branch secretary approves it or
//! turns it down with a reason (never their own); a post in force is reviewed each quarter
//! (季讲评) and may lose its title (摘牌) with a reason. Every step is a record in the branch's
//! directory, checked again by the server; the dates start and end a post by themselves.

use chrono::NaiveDate;
use zonepatrol_shared::docs::{Day, DocId, Post, PostEvent, PostStatus, PostStep};
use zonepatrol_shared::{Actor, Role};

use super::{RecordError, directory, new_name};
use crate::i18n::T;
use crate::store::{Repo, now_millis};

/// A post as the list and its page show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    /// Its id in the directory.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The zone's name.
    pub zone: String,
    /// Where it stands today.
    pub status: PostStatus,
    /// The demonstrators' names.
    pub demonstrators: Vec<String>,
    /// Clear basis and standard.
    pub standard: String,
    /// The duty its placard shows.
    pub duty: String,
    /// Clear assessor.
    pub assessor: String,
    /// Clear assessment standard.
    pub assessment: String,
    /// Its term.
    pub starts: Option<NaiveDate>,
    /// The last day of its term.
    pub ends: Option<NaiveDate>,
    /// Its steps, the oldest first: what, who (by name), the reason or note.
    pub history: Vec<(PostStep, String, String)>,
    /// The user is among its demonstrators or applied for it.
    pub mine: bool,
    /// It waits for the user's decision.
    pub to_decide: bool,
}

/// What the user may do to a post on this phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAction {
    /// Approve the application.
    Approve,
    /// Turn it down.
    Reject,
    /// Record the quarterly review.
    Review,
    /// Withdraw the title.
    Revoke,
}

impl PostAction {
    fn step(self) -> PostStep {
        match self {
            PostAction::Approve => PostStep::Approve,
            PostAction::Reject => PostStep::Reject,
            PostAction::Review => PostStep::Review,
            PostAction::Revoke => PostStep::Revoke,
        }
    }
}

/// Whether the user decides on applications: the branch secretary.
pub fn decides_posts(me: &Actor) -> bool {
    me.has(Role::Secretary)
}

/// Whether the user reviews posts and may withdraw a title: the secretary or a manager.
pub fn reviews_posts(me: &Actor) -> bool {
    me.roles().any(&[Role::Secretary, Role::Manager])
}

/// What the user may do to a post standing at `status`.
pub fn actions(me: &Actor, row: &PostRow) -> Vec<PostAction> {
    let mut out = Vec::new();
    if row.status == PostStatus::Proposed && decides_posts(me) && !row.mine {
        out.extend([PostAction::Approve, PostAction::Reject]);
    }
    if reviews_posts(me) {
        if row.status == PostStatus::Active {
            out.push(PostAction::Review);
        }
        if matches!(row.status, PostStatus::Active | PostStatus::Approved) {
            out.push(PostAction::Revoke);
        }
    }
    out
}

fn row(
    me: &Actor,
    dir: &zonepatrol_shared::docs::Directory,
    id: &str,
    p: &Post,
    today: NaiveDate,
) -> PostRow {
    let name = |u: &str| {
        dir.members
            .get(u)
            .map(|m| m.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| u.to_owned())
    };
    let status = p.status_on(today);
    let mine = p.names(&me.user);
    PostRow {
        id: id.to_owned(),
        title: p.title.clone(),
        zone: dir
            .zones
            .get(&p.zone)
            .map_or_else(|| p.zone.clone(), |z| z.name.clone()),
        status,
        demonstrators: p.demonstrators.keys().map(|u| name(u)).collect(),
        standard: p.standard.clone(),
        duty: p.duty.clone(),
        assessor: p.assessor.clone(),
        assessment: p.assessment.clone(),
        starts: p.starts.map(|d| d.0),
        ends: p.ends.map(|d| d.0),
        history: p
            .events_in_order()
            .into_iter()
            .map(|(_, e)| (e.step, name(&e.by), e.reason.clone()))
            .collect(),
        mine,
        to_decide: status == PostStatus::Proposed && decides_posts(me) && !mine,
    }
}

/// The branch's posts: those waiting for the user's decision first, then the user's own, then
/// those in force, then the rest; by title within each.
pub fn posts(repo: &Repo, me: &Actor, today: NaiveDate) -> Result<Vec<PostRow>, RecordError> {
    let dir = directory(repo, &me.branch)?;
    let mut rows: Vec<PostRow> = dir
        .posts
        .iter()
        .map(|(id, p)| row(me, &dir, id, p, today))
        .collect();
    rows.sort_by_key(|r| {
        (
            !r.to_decide,
            !r.mine,
            r.status != PostStatus::Active,
            r.title.clone(),
        )
    });
    Ok(rows)
}

/// One post of the branch, if it is on the phone.
pub fn post(repo: &Repo, me: &Actor, id: &str, today: NaiveDate) -> Option<PostRow> {
    let dir = directory(repo, &me.branch).ok()?;
    dir.posts.get(id).map(|p| row(me, &dir, id, p, today))
}

/// How many applications wait for the user's decision.
pub fn waiting_posts(repo: &Repo, me: &Actor, today: NaiveDate) -> usize {
    if !decides_posts(me) {
        return 0;
    }
    posts(repo, me, today).map_or(0, |rows| rows.iter().filter(|r| r.to_decide).count())
}

/// An application as typed: the five clears and the duty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Application {
    /// The post's title.
    pub title: String,
    /// Clear area: the zone's id.
    pub zone: String,
    /// Clear demonstrators besides the applicant: members' ids.
    pub others: Vec<String>,
    /// Clear basis and standard.
    pub standard: String,
    /// The duty the placard will show.
    pub duty: String,
    /// Clear assessor.
    pub assessor: String,
    /// Clear assessment standard.
    pub assessment: String,
    /// Clear start date.
    pub starts: Option<NaiveDate>,
    /// Clear end date.
    pub ends: Option<NaiveDate>,
}

/// A member of the branch applies for a post with its five clears, among its demonstrators;
/// returns the post's id.
pub fn apply(
    repo: &Repo,
    me: &Actor,
    form: &Application,
    today: NaiveDate,
) -> Result<String, RecordError> {
    let dir = directory(repo, &me.branch)?;
    if !dir.members.contains_key(&me.user) {
        return Err(RecordError::Input(T::OnlyMembersApply));
    }
    let waiting = dir
        .posts
        .values()
        .filter(|p| p.status() == PostStatus::Proposed && p.applicant() == me.user)
        .count();
    if waiting >= zonepatrol_shared::validate::limits::APPLICATIONS_WAITING {
        return Err(RecordError::Input(T::TooManyApplications));
    }
    let text = |s: &str| s.trim().to_owned();
    let mut post = Post {
        zone: form.zone.clone(),
        title: text(&form.title),
        demonstrators: std::iter::once(me.user.clone())
            .chain(form.others.iter().cloned())
            .filter(|u| dir.members.contains_key(u))
            .map(|u| (u, true))
            .collect(),
        standard: text(&form.standard),
        assessor: text(&form.assessor),
        assessment: text(&form.assessment),
        starts: form.starts.map(Day),
        ends: form.ends.map(Day),
        duty: text(&form.duty),
        events: Default::default(),
    };
    if post.title.is_empty() {
        return Err(RecordError::Input(T::NeedPostTitle));
    }
    if !dir.zones.contains_key(&post.zone) {
        return Err(RecordError::Input(T::ChooseZone));
    }
    if post.standard.is_empty() || post.assessor.is_empty() || post.assessment.is_empty() {
        return Err(RecordError::Input(T::FillFiveClears));
    }
    match (form.starts, form.ends) {
        (Some(s), Some(e)) if s <= e && e >= today => {}
        (Some(_), Some(e)) if e < today => return Err(RecordError::Input(T::PostTermOver)),
        _ => return Err(RecordError::Input(T::PostTermDates)),
    }
    if post.missing_clear().is_some() {
        return Err(RecordError::Input(T::FillFiveClears));
    }
    let id = format!("p{}", new_name(today));
    let at = now_millis();
    post.events.insert(
        format!("{at}-{}", me.user),
        PostEvent {
            at,
            by: me.user.clone(),
            step: PostStep::Propose,
            reason: String::new(),
        },
    );
    repo.edit_as::<zonepatrol_shared::docs::Directory, _>(
        me,
        &DocId::directory(&me.branch),
        |d| {
            d.posts.insert(id.clone(), post.clone());
        },
    )?;
    Ok(id)
}

/// Records the user's decision on a post: approval, turning it down (with a reason), the
/// quarterly review (with a note) or withdrawing its title (with a reason).
pub fn decide(
    repo: &Repo,
    me: &Actor,
    id: &str,
    action: PostAction,
    reason: &str,
    today: NaiveDate,
) -> Result<(), RecordError> {
    let dir = directory(repo, &me.branch)?;
    let Some(p) = dir.posts.get(id) else {
        return Err(RecordError::Missing {
            what: "post",
            id: id.to_owned(),
        });
    };
    let row = row(me, &dir, id, p, today);
    if !actions(me, &row).contains(&action) {
        return Err(RecordError::Input(match action {
            PostAction::Approve | PostAction::Reject if row.mine => T::NotYourOwnPost,
            PostAction::Approve | PostAction::Reject if decides_posts(me) => T::PostNotWaiting,
            PostAction::Approve | PostAction::Reject => T::OnlySecretaryDecidesPosts,
            _ if reviews_posts(me) => T::PostNotInForce,
            _ => T::OnlySecretaryDecidesPosts,
        }));
    }
    let reason = reason.trim();
    let step = action.step();
    if step.needs_reason() && reason.is_empty() {
        return Err(RecordError::Input(match action {
            PostAction::Review => T::NeedReviewNote,
            _ => T::NeedPostReason,
        }));
    }
    let latest = p.latest_event();
    // Never dated before a step already there, whatever this phone's clock says.
    let at = now_millis().max(latest + 1);
    repo.edit_as::<zonepatrol_shared::docs::Directory, _>(
        me,
        &DocId::directory(&me.branch),
        |d| {
            if let Some(p) = d.posts.get_mut(id) {
                p.events.insert(
                    format!("{at}-{}", me.user),
                    PostEvent {
                        at,
                        by: me.user.clone(),
                        step,
                        reason: reason.to_owned(),
                    },
                );
            }
        },
    )?;
    Ok(())
}
