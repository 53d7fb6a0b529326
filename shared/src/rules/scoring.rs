//! Checklist scoring: an item's maximum minus its deductions, never below zero.

use serde::{Deserialize, Serialize};

use crate::points::{Points, div_round};

/// What an inspector marked on one checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemMark {
    /// The item's maximum from the template.
    pub max: Points,
    /// Each deduction rule used: points per occurrence and how many occurrences.
    pub deductions: Vec<(Points, i64)>,
    /// The item does not apply to this zone (不涉及): it leaves the maximum.
    pub not_applicable: bool,
}

/// An item's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemScore {
    /// Scored: between zero and the maximum.
    Scored(Points),
    /// Not applicable: counts neither in the total nor in the maximum.
    NotApplicable,
}

impl ItemMark {
    /// The item's score: maximum minus deductions, never below zero. Negative counts, which
    /// validation refuses, count as zero here so that a bad document cannot raise a score.
    pub fn score(&self) -> ItemScore {
        if self.not_applicable {
            return ItemScore::NotApplicable;
        }
        let deducted: Points = self
            .deductions
            .iter()
            .map(|&(per, count)| per.at_least_zero().times(count.max(0)))
            .sum();
        ItemScore::Scored((self.max - deducted).at_least_zero())
    }
}

/// A whole sheet's result for one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetScore {
    /// The sum of the applicable items' scores.
    pub total: Points,
    /// The sum of the applicable items' maximums.
    pub max: Points,
    /// `total / max` as a score out of 100, to the hundredth; `None` when nothing applies.
    ///
    /// This is the figure that is compared across inspectors and zones: two inspectors who
    /// mark different items N/A have totals out of different maximums, but percentages that
    /// mean the same thing. With a 100-point template and no N/A it equals the total.
    pub percent: Option<Points>,
}

/// Scores a sheet from its items' marks.
pub fn sheet_score<'a>(items: impl IntoIterator<Item = &'a ItemMark>) -> SheetScore {
    let mut total = Points::ZERO;
    let mut max = Points::ZERO;
    for item in items {
        if let ItemScore::Scored(score) = item.score() {
            total = total + score;
            max = max + item.max.at_least_zero();
        }
    }
    let percent = (max.0 > 0)
        .then(|| Points(div_round(i128::from(total.0) * 10_000, i128::from(max.0)) as i64));
    SheetScore {
        total,
        max,
        percent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Points {
        s.parse().expect("test points")
    }

    fn item(max: &str, deductions: &[(&str, i64)], na: bool) -> ItemMark {
        ItemMark {
            max: p(max),
            deductions: deductions.iter().map(|&(per, n)| (p(per), n)).collect(),
            not_applicable: na,
        }
    }

    #[test]
    fn item_scores() {
        let cases: &[(ItemMark, ItemScore)] = &[
            (item("10", &[], false), ItemScore::Scored(p("10"))),
            (item("10", &[("2", 1)], false), ItemScore::Scored(p("8"))),
            (
                item("10", &[("2", 3), ("0.5", 1)], false),
                ItemScore::Scored(p("3.5")),
            ),
            (item("10", &[("2", 5)], false), ItemScore::Scored(p("0"))),
            // Never below zero.
            (item("10", &[("2", 50)], false), ItemScore::Scored(p("0"))),
            (
                item("5", &[("3", 1), ("3", 1)], false),
                ItemScore::Scored(p("0")),
            ),
            // N/A regardless of deductions.
            (item("10", &[("2", 1)], true), ItemScore::NotApplicable),
            // A negative count or rule cannot add points.
            (item("10", &[("2", -3)], false), ItemScore::Scored(p("10"))),
            (item("10", &[("-2", 3)], false), ItemScore::Scored(p("10"))),
            // Absurd counts saturate instead of overflowing.
            (
                item("10", &[("2", i64::MAX)], false),
                ItemScore::Scored(p("0")),
            ),
        ];
        for (mark, want) in cases {
            assert_eq!(mark.score(), *want, "{mark:?}");
        }
    }

    #[test]
    fn sheet_totals_and_percentages() {
        let check = |items: &[ItemMark], total: &str, max: &str, percent: Option<&str>| {
            let got = sheet_score(items);
            assert_eq!(
                got,
                SheetScore {
                    total: p(total),
                    max: p(max),
                    percent: percent.map(p)
                },
                "{items:?}"
            );
        };
        check(&[], "0", "0", None);
        check(
            &[item("10", &[], false), item("10", &[("2", 1)], false)],
            "18",
            "20",
            Some("90"),
        );
        // N/A leaves the maximum: 8 of 10 is 80 %.
        check(
            &[item("10", &[("2", 1)], false), item("10", &[], true)],
            "8",
            "10",
            Some("80"),
        );
        check(&[item("10", &[], true)], "0", "0", None);
        // Rounded to the hundredth: 2/3 = 66.67 %.
        check(&[item("3", &[("1", 1)], false)], "2", "3", Some("66.67"));
        // A 100-point template with no N/A: the percentage equals the total.
        let ten: Vec<ItemMark> = (0..10)
            .map(|i| item("10", &[("1", i % 3)], false))
            .collect();
        check(&ten, "91", "100", Some("91"));
    }
}
