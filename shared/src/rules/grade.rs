//! Grades by branch category (seed 002), and rankings within a category.

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
    /// At or above excellent (优秀).
    Excellent,
}

impl Grade {
    /// The name in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            Grade::Fail => "不合格",
            Grade::Pass => "合格",
            Grade::Excellent => "优秀",
        }
    }
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

    /// The grade of a score in a category; reaching a threshold counts.
    pub fn grade(&self, category: BranchCategory, score: Points) -> Grade {
        let (pass, excellent) = self.thresholds(category);
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
