//! The people, places and kinds of things Zone Patrol speaks of.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// What a person does in the product; decides which document parts they may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 支部书记: leads walks, scores, assigns fixes, assesses members, keeps the branch directory.
    Secretary,
    /// 检查人员: a member of an inspection team; scores anonymously.
    Inspector,
    /// 责任区负责人 (the zone's party member) / 示范者: responsible for a zone; self-scores and
    /// rectifies.
    ZoneHolder,
    /// 班组长: logs cleanups.
    TeamLeader,
    /// 党委 / 组织人事部: reads results, publishes and reopens periods.
    Manager,
    /// 管理员: users, branches, templates.
    Admin,
}

impl Role {
    /// Every role, for tables and tests.
    pub const ALL: [Role; 6] = [
        Role::Secretary,
        Role::Inspector,
        Role::ZoneHolder,
        Role::TeamLeader,
        Role::Manager,
        Role::Admin,
    ];

    /// The stable name used in documents, tokens and the protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Secretary => "secretary",
            Role::Inspector => "inspector",
            Role::ZoneHolder => "zone_holder",
            Role::TeamLeader => "team_leader",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// The name a Chinese-speaking user knows the role by.
    pub fn label_zh(self) -> &'static str {
        crate::labels::role_label(crate::labels::Lang::Zh, self)
    }

    /// Managers and admins work across the whole company, not inside one branch.
    pub fn is_company_wide(self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role “{0}”: use secretary, inspector, zone_holder, team_leader, manager or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A set of roles: one person may hold several (a secretary on the committee's inspection
/// team, a zone holder who leads a team), and each is checked as if held alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Roles(u8);

impl Roles {
    /// No role.
    pub const NONE: Roles = Roles(0);

    fn bit(role: Role) -> u8 {
        1 << Role::ALL.iter().position(|r| *r == role).unwrap_or(0)
    }

    /// The set holding `role` alone.
    pub fn only(role: Role) -> Roles {
        Roles(Roles::bit(role))
    }

    /// The set with `role` added.
    #[must_use]
    pub fn with(self, role: Role) -> Roles {
        Roles(self.0 | Roles::bit(role))
    }

    /// Whether `role` is held.
    pub fn has(self, role: Role) -> bool {
        self.0 & Roles::bit(role) != 0
    }

    /// Whether any of `roles` is held.
    pub fn any(self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Whether no role is held.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The roles held, in the order of [`Role::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.has(*r))
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Roles {
        iter.into_iter().fold(Roles::NONE, Roles::with)
    }
}

/// Who is writing: the identity the server has authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The user's stable id (the login name).
    pub user: String,
    /// What they mainly do: the role the app opens on.
    pub role: Role,
    /// The other roles they hold, each checked as if held alone (empty for most people).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Role>,
    /// The branch they belong to. Company-wide roles may still have a home branch.
    pub branch: String,
}

impl Actor {
    /// Builds an actor with one role; a convenience for tests and tools.
    pub fn new(user: impl Into<String>, role: Role, branch: impl Into<String>) -> Actor {
        Actor {
            user: user.into(),
            role,
            also: Vec::new(),
            branch: branch.into(),
        }
    }

    /// The same person holding `more` roles besides their main one.
    #[must_use]
    pub fn also(mut self, more: &[Role]) -> Actor {
        for role in more {
            if *role != self.role && !self.also.contains(role) {
                self.also.push(*role);
            }
        }
        self
    }

    /// Every role held.
    pub fn roles(&self) -> Roles {
        self.also
            .iter()
            .copied()
            .fold(Roles::only(self.role), Roles::with)
    }

    /// Whether they hold `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles().has(role)
    }

    /// The roles they act in on a branch's records: all of them in their own branch (and on
    /// records of no branch), only the company-wide ones elsewhere; `None` when that leaves
    /// none.
    pub fn in_branch(&self, branch: &str) -> Option<Actor> {
        if branch.is_empty() || branch == self.branch {
            return Some(self.clone());
        }
        let mut wide = self.roles().iter().filter(|r| r.is_company_wide());
        let main = wide.next()?;
        Some(Actor {
            user: self.user.clone(),
            role: main,
            also: wide.collect(),
            branch: self.branch.clone(),
        })
    }

    /// Whether they work across the whole company (a manager or an admin, whatever else).
    pub fn is_company_wide(&self) -> bool {
        self.roles().iter().any(Role::is_company_wide)
    }

    /// The names of their roles in Chinese, joined: "支部书记、检查人员".
    pub fn roles_zh(&self) -> String {
        self.roles()
            .iter()
            .map(Role::label_zh)
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// A branch's category (1–4), which sets its pass and excellent thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum BranchCategory {
    /// 1: main production (主要生产).
    MainProduction,
    /// 2: auxiliary production (辅助生产).
    AuxiliaryProduction,
    /// 3: logistics and service (后勤服务).
    Service,
    /// 4: offices (机关).
    Offices,
}

impl BranchCategory {
    /// Every category in order.
    pub const ALL: [BranchCategory; 4] = [
        BranchCategory::MainProduction,
        BranchCategory::AuxiliaryProduction,
        BranchCategory::Service,
        BranchCategory::Offices,
    ];

    /// The category's number, 1–4.
    pub fn number(self) -> u8 {
        match self {
            BranchCategory::MainProduction => 1,
            BranchCategory::AuxiliaryProduction => 2,
            BranchCategory::Service => 3,
            BranchCategory::Offices => 4,
        }
    }
}

impl From<BranchCategory> for u8 {
    fn from(c: BranchCategory) -> u8 {
        c.number()
    }
}

impl TryFrom<u8> for BranchCategory {
    type Error = String;
    fn try_from(n: u8) -> Result<BranchCategory, String> {
        BranchCategory::ALL
            .into_iter()
            .find(|c| c.number() == n)
            .ok_or_else(|| format!("branch category {n} does not exist: use 1, 2, 3 or 4"))
    }
}

/// The kind of an inspection walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
///
/// Stored and sent as its name in snake case.
#[derive(Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum PatrolKind {
    /// 周检查: the weekly inspection by a team of inspectors; its results are ranked.
    Weekly,
    /// 旬督导: ten-day supervision.
    TenDay,
    /// 月自查: the branch's monthly self-check.
    MonthlySelfCheck,
    /// 抽查: a spot check.
    SpotCheck,
}

impl PatrolKind {
    /// Every kind in order.
    pub const ALL: [PatrolKind; 4] = [
        PatrolKind::Weekly,
        PatrolKind::TenDay,
        PatrolKind::MonthlySelfCheck,
        PatrolKind::SpotCheck,
    ];

    /// The name in Chinese.
    pub fn label_zh(self) -> &'static str {
        crate::labels::patrol_kind_label(crate::labels::Lang::Zh, self)
    }
}

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
///
/// Stored and sent as its name in snake case.
#[derive(Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 一般.
    General,
    /// 重大.
    Major,
}

impl Severity {
    /// The name in Chinese.
    pub fn label_zh(self) -> &'static str {
        crate::labels::severity_label(crate::labels::Lang::Zh, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert!(!role.label_zh().is_empty());
        }
        let err = "boss".parse::<Role>().expect_err("not a role");
        let both =
            Actor::new("wang", Role::Secretary, "b1").also(&[Role::Inspector, Role::Secretary]);
        assert!(both.has(Role::Secretary) && both.has(Role::Inspector));
        assert!(!both.has(Role::Manager) && !both.is_company_wide());
        assert_eq!(both.also, vec![Role::Inspector]);
        assert_eq!(both.roles().iter().count(), 2);
        assert!(err.to_string().contains("use secretary"));
    }

    #[test]
    fn categories_are_numbered_one_to_four() {
        for (n, c) in (1u8..).zip(BranchCategory::ALL) {
            assert_eq!(c.number(), n);
            assert_eq!(BranchCategory::try_from(n), Ok(c));
        }
        assert!(BranchCategory::try_from(0).is_err());
        assert!(BranchCategory::try_from(5).is_err());
    }
}
