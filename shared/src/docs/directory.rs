//! The branch directory: zones, demonstration posts, members and checklist templates.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Header;
use super::values::Day;
use crate::points::Points;

/// One per branch. Written by its secretary and by admins.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Directory {
    /// Fixed at genesis.
    pub header: Header,
    /// The branch's name and category: set by admins.
    pub info: BranchInfo,
    /// Zones by id.
    pub zones: BTreeMap<String, Zone>,
    /// Demonstration posts by id.
    pub posts: BTreeMap<String, Post>,
    /// Members by id (the user id where they have one).
    pub members: BTreeMap<String, Member>,
    /// Checklist templates by id.
    pub templates: BTreeMap<String, Template>,
}

/// A branch's name and category.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct BranchInfo {
    /// The branch's name (党支部名称).
    pub name: String,
    /// Its category, 1–4; 0 until an admin sets it.
    pub category: u64,
    /// Retired: kept with its history, no longer in use (absent in directories made before it
    /// existed: in use).
    #[autosurgeon(missing = "Default::default")]
    pub retired: bool,
}

/// A responsibility zone (党员责任区).
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct Zone {
    /// Its name, as on the placard: "三水平上车场".
    pub name: String,
    /// Level, roadway, chainage.
    pub location: String,
    /// The user ids of its responsible members (the value is always `true`).
    pub holders: BTreeMap<String, bool>,
    /// The teams it covers.
    pub teams: BTreeMap<String, bool>,
    /// The checklist template it is scored on.
    pub template: String,
    /// Whether it is in use; a retired zone keeps its history.
    pub active: bool,
    /// How its money is shared: percent by holder, set by the secretary; empty for equal
    /// parts ([`crate::rules::money::check_shares`]; absent in zones made before it existed).
    #[autosurgeon(missing = "Default::default")]
    pub shares: BTreeMap<String, u64>,
}

/// A member of the branch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct Member {
    /// Their name.
    pub name: String,
    /// Their party group (党小组).
    pub group: String,
    /// Their team (班组).
    pub team: String,
}

/// A demonstration post (党员示范岗) with its "five clears" (五明确).
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct Post {
    /// Clear area: the zone it stands in.
    pub zone: String,
    /// Its title.
    pub title: String,
    /// Clear demonstrators: user ids.
    pub demonstrators: BTreeMap<String, bool>,
    /// Clear basis and standard.
    pub standard: String,
    /// Clear assessor.
    pub assessor: String,
    /// Clear assessment standard.
    pub assessment: String,
    /// Clear start date.
    pub starts: Option<Day>,
    /// Clear end date.
    pub ends: Option<Day>,
    /// Its lifecycle, as facts by id; the status is derived from them and the dates.
    pub events: BTreeMap<String, PostEvent>,
    /// The duty its demonstrators answer for (亮职责), as the placard shows it (absent in posts
    /// made before it existed: none written).
    #[autosurgeon(missing = "Default::default")]
    pub duty: String,
}

/// A step in a post's life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Reconcile,
    Hydrate,
    Serialize,
    Deserialize,
)]
pub enum PostStep {
    /// A member applied (申报).
    Propose,
    /// The secretary approved the application.
    Approve,
    /// The secretary rejected it (with a reason).
    Reject,
    /// The post started.
    Activate,
    /// The honour was withdrawn because quality slipped (with a reason).
    Revoke,
    /// The post was ended before its end date (it also ends by itself on that date).
    End,
    /// The quarterly review (季讲评) of an active post: a note on how it is doing.
    Review,
}

impl PostStep {
    /// Whether the step must say why.
    pub fn needs_reason(self) -> bool {
        matches!(self, PostStep::Reject | PostStep::Revoke | PostStep::Review)
    }
}

/// One fact in a post's life.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct PostEvent {
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// Who recorded it.
    pub by: String,
    /// What happened.
    pub step: PostStep,
    /// Why (required for rejecting and revoking; the note of a review).
    pub reason: String,
}

/// Where a post stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostStatus {
    /// Applied, waiting for review.
    Proposed,
    /// Approved, not started.
    Approved,
    /// Rejected.
    Rejected,
    /// Active.
    Active,
    /// Honour withdrawn.
    Revoked,
    /// Over.
    Ended,
}

impl PostStatus {
    /// Where a post stands after `step`, or `None` when the step does not apply here.
    pub fn after(self, step: PostStep) -> Option<PostStatus> {
        use PostStatus as S;
        use PostStep as E;
        match (self, step) {
            (S::Proposed | S::Rejected, E::Propose) => Some(S::Proposed),
            (S::Proposed, E::Approve) => Some(S::Approved),
            (S::Proposed, E::Reject) => Some(S::Rejected),
            (S::Approved, E::Activate) => Some(S::Active),
            (S::Active, E::Review) => Some(S::Active),
            (S::Active | S::Approved, E::Revoke) => Some(S::Revoked),
            (S::Active | S::Approved, E::End) => Some(S::Ended),
            _ => None,
        }
    }

    /// The status the recorded steps lead to, in time order; steps that do not apply where
    /// they fall are ignored. With no steps: proposed.
    pub fn fold(steps: impl IntoIterator<Item = PostStep>) -> PostStatus {
        steps.into_iter().fold(PostStatus::Proposed, |now, step| {
            now.after(step).unwrap_or(now)
        })
    }

    /// The status on `day` of a post whose steps led to `self`: an approved post starts on
    /// its start date (at once without one), and one in force ends after its end date.
    pub fn on(self, day: NaiveDate, starts: Option<Day>, ends: Option<Day>) -> PostStatus {
        let over = ends.is_some_and(|e| day > e.0);
        match self {
            PostStatus::Approved | PostStatus::Active if over => PostStatus::Ended,
            PostStatus::Approved if starts.is_none_or(|s| s.0 <= day) => PostStatus::Active,
            other => other,
        }
    }

    /// Whether the post holds its title: approved and not yet over, withdrawn or rejected.
    pub fn in_force(self) -> bool {
        self == PostStatus::Active
    }
}

impl Post {
    /// The events in the order they happened (by time, then by id).
    pub fn events_in_order(&self) -> Vec<(&String, &PostEvent)> {
        let mut events: Vec<(&String, &PostEvent)> = self.events.iter().collect();
        events.sort_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0)));
        events
    }

    /// The status the recorded events lead to, before the dates apply: see [`Post::status_on`].
    pub fn status(&self) -> PostStatus {
        PostStatus::fold(self.events_in_order().into_iter().map(|(_, e)| e.step))
    }

    /// The status on `today` at the mine: the events, then the start and end dates.
    pub fn status_on(&self, today: NaiveDate) -> PostStatus {
        self.status().on(today, self.starts, self.ends)
    }

    /// Who applied for the post most recently (empty when nobody did: set up directly).
    pub fn applicant(&self) -> &str {
        self.events_in_order()
            .into_iter()
            .rev()
            .find(|(_, e)| e.step == PostStep::Propose)
            .map_or("", |(_, e)| e.by.as_str())
    }

    /// Whether `user` is named on the post: among its demonstrators, or an applicant for it at
    /// any time. Nobody decides on a post that names them.
    pub fn names(&self, user: &str) -> bool {
        self.demonstrators.get(user).copied().unwrap_or(false)
            || self
                .events
                .values()
                .any(|e| e.step == PostStep::Propose && e.by == user)
    }

    /// The time of its latest event (0 without any).
    pub fn latest_event(&self) -> i64 {
        self.events.values().map(|e| e.at).max().unwrap_or(0)
    }

    /// Whether all five clears are filled: area, demonstrators, basis and standard, assessor
    /// and assessment standard, a start and an end date in order; the first missing one.
    pub fn missing_clear(&self) -> Option<&'static str> {
        if self.title.trim().is_empty() {
            Some("a title")
        } else if self.zone.is_empty() {
            Some("its zone (clear area)")
        } else if self.demonstrators.values().all(|on| !on) {
            Some("its demonstrators")
        } else if self.standard.trim().is_empty() {
            Some("its basis and standard")
        } else if self.assessor.trim().is_empty() {
            Some("its assessor")
        } else if self.assessment.trim().is_empty() {
            Some("its assessment standard")
        } else {
            match (self.starts, self.ends) {
                (Some(s), Some(e)) if s.0 <= e.0 => None,
                (Some(_), Some(_)) => Some("an end date on or after its start date"),
                _ => Some("its start and end dates"),
            }
        }
    }

    /// Whether two states of a post say the same five clears, title and duty.
    pub fn same_clears(&self, other: &Post) -> bool {
        self.zone == other.zone
            && self.title == other.title
            && self.demonstrators == other.demonstrators
            && self.standard == other.standard
            && self.assessor == other.assessor
            && self.assessment == other.assessment
            && self.starts == other.starts
            && self.ends == other.ends
            && self.duty == other.duty
    }
}

/// A checklist template (标准). Once stored its items never change (the validator refuses
/// it): a new version is a new template that names the one it supersedes, so that a sheet
/// keeps scoring on the version it was made with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Template {
    /// Its name.
    pub name: String,
    /// Its items by id.
    pub items: BTreeMap<String, TemplateItem>,
    /// The template this version replaces (empty: none).
    #[autosurgeon(missing = "Default::default")]
    pub supersedes: String,
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct TemplateItem {
    /// Position on the sheet.
    pub order: u64,
    /// Its category ("安全", "文明生产"…).
    pub category: String,
    /// What is checked.
    pub text: String,
    /// Maximum points.
    pub max: Points,
    /// Deduction rules by id.
    pub rules: BTreeMap<String, DeductionRule>,
}

/// A deduction rule: "cable not hung to spec: −2 each".
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct DeductionRule {
    /// What it is for.
    pub text: String,
    /// Points off per occurrence.
    pub points: Points,
    /// Whether a deduction must come with a photo.
    pub needs_photo: bool,
}

impl Directory {
    /// Whether a user is a responsible member of a zone.
    pub fn holds(&self, user: &str, zone: &str) -> bool {
        self.zones
            .get(zone)
            .is_some_and(|z| z.holders.get(user).copied().unwrap_or(false))
    }
}

document!(Directory, |header| {
    Directory {
        header,
        info: BranchInfo::default(),
        zones: BTreeMap::new(),
        posts: BTreeMap::new(),
        members: BTreeMap::new(),
        templates: BTreeMap::new(),
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a day")
    }

    fn event(at: i64, step: PostStep) -> PostEvent {
        PostEvent {
            at,
            by: "sec".into(),
            step,
            reason: String::new(),
        }
    }

    /// An application waits; approved, it is in force from its start date to its end date,
    /// then over; a withdrawal holds whatever the dates say; steps out of place are ignored.
    #[test]
    fn a_posts_status_follows_its_steps_and_its_dates() {
        let mut post = Post {
            starts: Some(Day(day("2026-12-01"))),
            ends: Some(Day(day("2027-02-28"))),
            ..Default::default()
        };
        post.events.insert("a".into(), event(1, PostStep::Propose));
        assert_eq!(post.status_on(day("2026-11-20")), PostStatus::Proposed);
        post.events.insert("b".into(), event(2, PostStep::Approve));
        assert_eq!(post.status_on(day("2026-11-20")), PostStatus::Approved);
        assert_eq!(post.status_on(day("2026-12-01")), PostStatus::Active);
        assert_eq!(post.status_on(day("2027-02-28")), PostStatus::Active);
        assert_eq!(post.status_on(day("2027-03-01")), PostStatus::Ended);
        // An approval again, out of place, changes nothing.
        post.events.insert("c".into(), event(3, PostStep::Approve));
        assert_eq!(post.status_on(day("2027-01-15")), PostStatus::Active);
        post.events.insert("d".into(), event(4, PostStep::Revoke));
        assert_eq!(post.status_on(day("2027-01-15")), PostStatus::Revoked);
        assert_eq!(post.status_on(day("2027-03-01")), PostStatus::Revoked);
        assert!(!post.status_on(day("2027-01-15")).in_force());
        let mut rejected = Post::default();
        rejected
            .events
            .insert("a".into(), event(1, PostStep::Propose));
        rejected
            .events
            .insert("b".into(), event(2, PostStep::Reject));
        assert_eq!(rejected.status_on(day("2026-12-01")), PostStatus::Rejected);
        rejected
            .events
            .insert("c".into(), event(3, PostStep::Propose));
        assert_eq!(rejected.status_on(day("2026-12-01")), PostStatus::Proposed);
        assert_eq!(rejected.applicant(), "sec");
    }
}
