//! Money follows points (seed 001): a bonus above one threshold, a penalty below another.

use serde::{Deserialize, Serialize};

use crate::points::{Fen, Points, div_round};

/// The bonus and penalty rule for a final monthly score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyRule {
    /// Points above this earn the bonus (default 95).
    pub bonus_above: Points,
    /// Points below this cost the penalty (default 85).
    pub penalty_below: Points,
    /// Fen per whole point, for both bonus and penalty (default 1,000 fen = 10 yuan).
    pub fen_per_point: i64,
}

impl Default for MoneyRule {
    fn default() -> MoneyRule {
        MoneyRule {
            bonus_above: Points::whole(95),
            penalty_below: Points::whole(85),
            fen_per_point: 1_000,
        }
    }
}

impl MoneyRule {
    /// The money a final monthly score brings: positive is a bonus, negative a penalty.
    /// Fractions of a point count proportionally, rounded half away from zero to the fen.
    pub fn money(&self, score: Points) -> Fen {
        let beyond = if score > self.bonus_above {
            score - self.bonus_above
        } else if score < self.penalty_below {
            score - self.penalty_below
        } else {
            return Fen(0);
        };
        Fen(div_round(i128::from(beyond.0) * i128::from(self.fen_per_point), 100) as i64)
    }
}

// Amounts in the tests are written yuan_fen: 20_00 is 20.00 yuan.
#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    #[test]
    fn money_from_final_scores() {
        let rule = MoneyRule::default();
        let cases = [
            // Seed figures.
            ("97", 20_00),
            ("95", 0),
            ("85", 0),
            ("80", -50_00),
            // Edges and fractions.
            ("100", 50_00),
            ("95.01", 10),
            ("95.5", 5_00),
            ("96.25", 12_50),
            ("90", 0),
            ("84.99", -10),
            ("84.5", -5_00),
            ("0", -850_00),
        ];
        for (score, fen) in cases {
            let score: Points = score.parse().expect("test points");
            assert_eq!(rule.money(score), Fen(fen), "{score}");
        }
    }

    #[test]
    fn thresholds_and_rate_are_configuration() {
        let rule = MoneyRule {
            bonus_above: Points::whole(90),
            penalty_below: Points::whole(80),
            fen_per_point: 333,
        };
        let cases = [
            ("92", 6_66),
            ("90.01", 3),
            ("90.02", 7),
            ("79", -3_33),
            ("85", 0),
        ];
        for (score, fen) in cases {
            let score: Points = score.parse().expect("test points");
            assert_eq!(rule.money(score), Fen(fen), "{score}");
        }
    }
}
