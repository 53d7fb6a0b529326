//! The back-to-back mutual evaluation (互动评价, seed 002) and the branch composite (支部综合考核).
//!
//! Each quarter every branch's secretary marks the other branches, 0–100, without seeing any
//! other branch's marks. A branch's mutual result is the mean of the marks it received, with
//! the highest and lowest dropped like an inspection's from [`InspectionRule::trim_from`]
//! givers, and only from [`MIN_GIVERS`] givers, so that no giver's own mark can be worked out.
//! The composite blends the work score (the mean of its zones) with the mutual result at the
//! configured weight, and adds the special-activity bonuses (特色活动加分) managers gave:
//! `work × (100 − w)% + mutual × w% + bonus`. With no mutual result the work score stands
//! alone (plus any bonus). Branches are graded and ranked within their category on it.

use serde::{Deserialize, Serialize};

use super::InspectionRule;
use crate::points::{Points, div_round};

/// The fewest branches whose marks make a mutual result.
pub const MIN_GIVERS: usize = 3;

/// The mutual evaluation's weight in the composite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutualRule {
    /// Percent of the composite the mutual result makes (0–50; 20 by default).
    pub weight_percent: u64,
}

impl Default for MutualRule {
    fn default() -> MutualRule {
        MutualRule { weight_percent: 20 }
    }
}

/// The highest weight the rules may give the mutual evaluation.
pub const MAX_WEIGHT_PERCENT: u64 = 50;

impl MutualRule {
    /// A branch's mutual result from the marks it received: `None` from fewer than
    /// [`MIN_GIVERS`] branches.
    pub fn result(&self, marks: &[Points], trim: &InspectionRule) -> Option<Points> {
        if marks.len() < MIN_GIVERS {
            return None;
        }
        trim.zone_result(marks)
    }

    /// The composite: the work score blended with the mutual result, plus the bonus. `None`
    /// without a work score.
    pub fn composite(
        &self,
        work: Option<Points>,
        mutual: Option<Points>,
        bonus: Points,
    ) -> Option<Points> {
        let work = work?;
        let blended = match mutual {
            Some(m) => {
                let w = i128::from(self.weight_percent.min(100));
                let sum = i128::from(work.0) * (100 - w) + i128::from(m.0) * w;
                Points(div_round(sum, 100) as i64)
            }
            None => work,
        };
        Some(Points(blended.0 + bonus.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Points {
        s.parse().expect("points")
    }

    #[test]
    fn the_mutual_result_needs_three_givers_and_drops_the_extremes_from_five() {
        let rule = MutualRule::default();
        let trim = InspectionRule::default();
        assert_eq!(rule.result(&[p("90"), p("80")], &trim), None);
        assert_eq!(
            rule.result(&[p("90"), p("80"), p("85")], &trim),
            Some(p("85"))
        );
        // Five givers: 60 and 100 dropped, (80+85+90)/3 = 85.
        assert_eq!(
            rule.result(&[p("60"), p("80"), p("85"), p("90"), p("100")], &trim),
            Some(p("85"))
        );
    }

    #[test]
    fn the_composite_blends_work_and_mutual_and_adds_the_bonus() {
        let rule = MutualRule { weight_percent: 20 };
        // 90 × 80% + 80 × 20% = 72 + 16 = 88, plus 2.5.
        assert_eq!(
            rule.composite(Some(p("90")), Some(p("80")), p("2.5")),
            Some(p("90.5"))
        );
        assert_eq!(rule.composite(Some(p("90")), None, p("1")), Some(p("91")));
        assert_eq!(rule.composite(None, Some(p("80")), p("1")), None);
    }
}
