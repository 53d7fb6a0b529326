//! Who walks which patrol of another branch: the party committee's weekly inspection draws
//! inspectors from several branches, and a visitor reads what scoring that branch's zones needs
//! (see [`Visits`]). Kept in memory like the photo index: filled at start from every stored
//! patrol and kept in step with every accepted write.

use std::collections::{BTreeSet, HashMap};

use chrono::{Days, NaiveDate};
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::Visits;

use crate::consolidate::Facts;

/// How long after its day a patrol still lets its visitors in: long enough for a sheet to be
/// finished and corrected until its month is published (a month and the next), after which
/// the branch's records are no longer the visitor's to receive.
pub const VISIT_DAYS: u64 = 62;

/// Each patrol's day and walkers, and each person's patrols.
#[derive(Debug, Default)]
pub struct VisitIndex {
    patrols: HashMap<(String, String), (Option<NaiveDate>, BTreeSet<String>)>,
    by_user: HashMap<String, BTreeSet<(String, String)>>,
}

impl VisitIndex {
    /// Records who walks a patrol now, replacing what its plan said before; a patrol that no
    /// longer reads lets nobody in. Other documents change nothing.
    pub fn replace(&mut self, id: &DocId, facts: &Facts) {
        let DocId::Patrol { branch, patrol } = id else {
            return;
        };
        let none = BTreeSet::new();
        let (day, walkers) = match facts {
            Facts::Patrol(p) => (p.date, &p.inspectors),
            _ => (None, &none),
        };
        let key = (branch.clone(), patrol.clone());
        if let Some((_, before)) = self.patrols.remove(&key) {
            for user in before.difference(walkers) {
                if let Some(walks) = self.by_user.get_mut(user) {
                    walks.remove(&key);
                    if walks.is_empty() {
                        self.by_user.remove(user);
                    }
                }
            }
        }
        if walkers.is_empty() {
            return;
        }
        for user in walkers {
            self.by_user
                .entry(user.clone())
                .or_default()
                .insert(key.clone());
        }
        self.patrols.insert(key, (day, walkers.clone()));
    }

    /// The patrols of other branches `user` walks on that are not over by more than
    /// [`VISIT_DAYS`] on `today` (a patrol with no day yet counts).
    pub fn of(&self, user: &Actor, today: NaiveDate) -> Visits {
        let Some(walks) = self.by_user.get(&user.user) else {
            return Visits::default();
        };
        let since = today.checked_sub_days(Days::new(VISIT_DAYS));
        Visits::new(
            walks
                .iter()
                .filter(|(branch, _)| *branch != user.branch)
                .filter(|key| {
                    self.patrols
                        .get(*key)
                        .and_then(|(day, _)| *day)
                        .is_none_or(|day| since.is_none_or(|s| day >= s))
                })
                .cloned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use zonepatrol_shared::domain::{PatrolKind, Role};

    use super::*;
    use crate::consolidate::PatrolFacts;

    fn patrol(day: NaiveDate, walkers: &[&str]) -> Facts {
        Facts::Patrol(PatrolFacts {
            kind: PatrolKind::Weekly,
            date: Some(day),
            inspectors: walkers.iter().map(|w| (*w).to_owned()).collect(),
            zones: BTreeSet::new(),
            closed: false,
        })
    }

    #[test]
    fn a_visitor_walks_another_branch_s_patrol_while_it_is_recent() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("day");
        let mut index = VisitIndex::default();
        let id = DocId::patrol("b2", "p1");
        index.replace(&id, &patrol(day, &["mgr", "a1", "b2x"]));
        let a1 = Actor::new("a1", Role::Inspector, "b1");
        let home = Actor::new("b2x", Role::Inspector, "b2");
        assert!(index.of(&a1, day).walks("b2", "p1"));
        // At home it is no visit.
        assert!(index.of(&home, day).is_empty());
        // A month and more after the walk, the visit is over.
        let late = day
            .checked_add_days(Days::new(VISIT_DAYS + 1))
            .expect("day");
        assert!(index.of(&a1, late).is_empty());
        // Taken off the plan, the visitor walks it no longer.
        index.replace(&id, &patrol(day, &["mgr"]));
        assert!(index.of(&a1, day).is_empty());
        // Other documents change nothing; a patrol that no longer reads lets nobody in.
        index.replace(&id, &patrol(day, &["mgr", "a1"]));
        index.replace(&DocId::sheet("b2", "p1", "a1"), &Facts::None);
        assert!(index.of(&a1, day).walks("b2", "p1"));
        index.replace(&id, &Facts::None);
        assert!(index.of(&a1, day).is_empty());
    }
}
