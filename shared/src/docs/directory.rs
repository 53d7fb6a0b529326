//! The branch directory: zones, demonstration posts, members and checklist templates.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
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
    /// Its lifecycle, as facts by id; the status is derived from them.
    pub events: BTreeMap<String, PostEvent>,
}

/// A step in a post's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Reconcile, Hydrate)]
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
    /// The post reached its end date.
    End,
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
    /// Why (required for rejecting and revoking).
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

impl Post {
    /// The status, folded from the events in time order; steps that do not apply where they
    /// fall are ignored. A post with no events is proposed.
    pub fn status(&self) -> PostStatus {
        use PostStatus as S;
        use PostStep as E;
        let mut events: Vec<(&String, &PostEvent)> = self.events.iter().collect();
        events.sort_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0)));
        events
            .into_iter()
            .fold(S::Proposed, |now, (_, e)| match (now, e.step) {
                (S::Proposed | S::Rejected, E::Propose) => S::Proposed,
                (S::Proposed, E::Approve) => S::Approved,
                (S::Proposed, E::Reject) => S::Rejected,
                (S::Approved, E::Activate) => S::Active,
                (S::Active | S::Approved, E::Revoke) => S::Revoked,
                (S::Active, E::End) => S::Ended,
                _ => now,
            })
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
