//! Grades by branch category (seed 002), and rankings within a category.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use serde::{Deserialize, Serialize};

use crate::domain::BranchCategory;
use crate::points::Points;
use crate::rules::inspection::{Ranked, rank};

/// How a score stands against its category's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// Below the pass threshold (不合格).
    Fail,
    /// At or above pass (合格).
    Pass,
    /// At or above excellent (先进).
    Excellent,
}

impl Grade {
    /// Every grade, lowest first.
    pub const ALL: [Grade; 3] = [Grade::Fail, Grade::Pass, Grade::Excellent];

    /// The stable name written in reports and JSON: `fail`, `pass`, `excellent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Fail => "fail",
            Grade::Pass => "pass",
            Grade::Excellent => "excellent",
        }
    }

    /// The name in Chinese.
    pub fn label_zh(self) -> &'static str {
        crate::labels::grade_label(crate::labels::Lang::Zh, self)
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Grade::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grade “{0}”: use fail, pass or excellent")]
pub struct UnknownGrade(pub String);

impl FromStr for Grade {
    type Err = UnknownGrade;

    fn from_str(s: &str) -> Result<Grade, UnknownGrade> {
        Grade::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| UnknownGrade(s.chars().take(40).collect()))
    }
}

/// In a document a grade is its name, as serde writes it.
impl Reconcile for Grade {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.as_str())
    }
}

impl Hydrate for Grade {
    fn hydrate_string(s: &str) -> Result<Grade, HydrateError> {
        s.parse()
            .map_err(|e: UnknownGrade| HydrateError::unexpected("a grade", e.0))
    }
}

/// A category's two thresholds, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Thresholds {
    /// The lowest passing score (合格).
    pub pass: Points,
    /// The lowest excellent score (先进).
    pub excellent: Points,
}

/// Pass and excellent thresholds for categories 1–4, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeThresholds {
    /// `(pass, excellent)` for categories 1, 2, 3 and 4.
    pub by_category: [(Points, Points); 4],
}

impl Default for GradeThresholds {
    fn default() -> GradeThresholds {
        let t = |pass, excellent| (Points::whole(pass), Points::whole(excellent));
        GradeThresholds {
            by_category: [t(80, 90), t(75, 85), t(70, 80), t(65, 75)],
        }
    }
}

impl GradeThresholds {
    /// `(pass, excellent)` for a category.
    pub fn thresholds(&self, category: BranchCategory) -> (Points, Points) {
        self.by_category[usize::from(category.number() - 1)]
    }

    /// A category's thresholds, by name; the same figures as [`GradeThresholds::thresholds`].
    pub fn of(&self, category: BranchCategory) -> Thresholds {
        let (pass, excellent) = self.thresholds(category);
        Thresholds { pass, excellent }
    }

    /// The grade of a score in a category; reaching a threshold counts.
    pub fn grade(&self, category: BranchCategory, score: Points) -> Grade {
        let Thresholds { pass, excellent } = self.of(category);
        if score >= excellent {
            Grade::Excellent
        } else if score >= pass {
            Grade::Pass
        } else {
            Grade::Fail
        }
    }
}

/// Ranks branches within their own category: one ranking per category, in category order.
pub fn rank_by_category<K: Ord + Clone>(
    entries: &[(K, BranchCategory, Points)],
) -> Vec<(BranchCategory, Vec<Ranked<K>>)> {
    BranchCategory::ALL
        .into_iter()
        .filter_map(|category| {
            let members: Vec<(K, Points)> = entries
                .iter()
                .filter(|(_, c, _)| *c == category)
                .map(|(k, _, s)| (k.clone(), *s))
                .collect();
            (!members.is_empty()).then(|| (category, rank(&members)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use BranchCategory::*;

    #[test]
    fn grades_by_category() {
        let t = GradeThresholds::default();
        let cases = [
            (MainProduction, "79.99", Grade::Fail),
            (MainProduction, "80", Grade::Pass),
            (MainProduction, "89.99", Grade::Pass),
            (MainProduction, "90", Grade::Excellent),
            (AuxiliaryProduction, "74.99", Grade::Fail),
            (AuxiliaryProduction, "75", Grade::Pass),
            (AuxiliaryProduction, "85", Grade::Excellent),
            (Service, "69.99", Grade::Fail),
            (Service, "70", Grade::Pass),
            (Service, "80", Grade::Excellent),
            (Offices, "64.99", Grade::Fail),
            (Offices, "65", Grade::Pass),
            (Offices, "74.99", Grade::Pass),
            (Offices, "75", Grade::Excellent),
            (Offices, "100", Grade::Excellent),
            (MainProduction, "0", Grade::Fail),
        ];
        for (category, score, want) in cases {
            let score: Points = score.parse().expect("test points");
            assert_eq!(t.grade(category, score), want, "{category:?} {score}");
        }
    }

    #[test]
    fn grades_keep_their_names_in_json_and_documents() {
        use automerge::AutoCommit;
        use autosurgeon::{hydrate_prop, reconcile_prop};

        for (grade, name) in [
            (Grade::Fail, "fail"),
            (Grade::Pass, "pass"),
            (Grade::Excellent, "excellent"),
        ] {
            assert_eq!(grade.to_string(), name);
            assert_eq!(name.parse::<Grade>(), Ok(grade));
            let json = serde_json::to_string(&grade).expect("json");
            assert_eq!(json, format!("\"{name}\""));
            // Written as the same text a `String` field holds, and read back from it.
            let mut doc = AutoCommit::new();
            reconcile_prop(&mut doc, automerge::ROOT, "grade", grade).expect("reconcile");
            let text: String = hydrate_prop(&doc, automerge::ROOT, "grade").expect("text");
            assert_eq!(text, name);
            let back: Grade = hydrate_prop(&doc, automerge::ROOT, "grade").expect("grade");
            assert_eq!(back, grade);
        }
        assert!("".parse::<Grade>().is_err());
        assert!("Excellent".parse::<Grade>().is_err());
        let t = GradeThresholds::default().of(Offices);
        assert_eq!(
            (t.pass, t.excellent),
            (Points::whole(65), Points::whole(75))
        );
    }

    #[test]
    fn branches_rank_within_their_category() {
        let entries = vec![
            ("b1", MainProduction, Points::whole(88)),
            ("b2", Offices, Points::whole(99)),
            ("b3", MainProduction, Points::whole(91)),
            ("b4", Offices, Points::whole(60)),
            ("b5", MainProduction, Points::whole(88)),
        ];
        let got: Vec<(u8, Vec<(&str, usize)>)> = rank_by_category(&entries)
            .into_iter()
            .map(|(c, r)| (c.number(), r.into_iter().map(|e| (e.key, e.rank)).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, vec![("b3", 1), ("b1", 2), ("b5", 2)]),
                (4, vec![("b2", 1), ("b4", 2)])
            ]
        );
    }
}
