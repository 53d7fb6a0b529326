//! Money follows points (seed 001): a bonus above one threshold, a penalty below another.

use std::collections::BTreeMap;

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

/// How a zone's money is shared among its holders: the secretary's percentages, or equal parts
/// when none are set (seed 001's member ledger, 党员业绩考核台帐, pays each member).
///
/// Shares, when set, name every holder and no one else, each 0–100, and come to 100.
pub fn check_shares<'a>(
    holders: impl IntoIterator<Item = &'a String>,
    shares: &BTreeMap<String, u64>,
) -> Result<(), SharesError> {
    if shares.is_empty() {
        return Ok(());
    }
    let holders: Vec<&String> = holders.into_iter().collect();
    if let Some(stranger) = shares.keys().find(|s| !holders.contains(s)) {
        return Err(SharesError::NotAHolder(stranger.clone()));
    }
    if let Some(missing) = holders.iter().find(|h| !shares.contains_key(**h)) {
        return Err(SharesError::Missing((*missing).clone()));
    }
    if let Some((who, share)) = shares.iter().find(|(_, v)| **v > 100) {
        return Err(SharesError::OverWhole(who.clone(), *share));
    }
    let total: u64 = shares.values().sum();
    if total != 100 {
        return Err(SharesError::Total(total));
    }
    Ok(())
}

/// Why a zone's shares cannot stand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SharesError {
    /// A share for someone who does not hold the zone.
    #[error("“{0}” has a share but does not hold the zone")]
    NotAHolder(String),
    /// A holder without a share, while others have one.
    #[error("holder “{0}” has no share: give every holder one, or none for equal parts")]
    Missing(String),
    /// One share above 100%.
    #[error("“{0}” has a share of {1}%: a share is 0–100%")]
    OverWhole(String, u64),
    /// The shares do not come to 100%.
    #[error("the shares come to {0}%, not 100%")]
    Total(u64),
}

/// Splits `fen` (a bonus or a penalty) among holders by weight, to the fen and exactly: each
/// gets the whole fen of their part, and the fen left over go one each to the largest
/// fractions (ties to the earlier holder). Equal parts without shares, or with shares that do
/// not pass [`check_shares`]; nothing without holders.
pub fn split(
    fen: i64,
    holders: &[String],
    shares: &BTreeMap<String, u64>,
) -> BTreeMap<String, i64> {
    let equal = check_shares(holders, shares).is_err() || shares.is_empty();
    let weights: Vec<u128> = holders
        .iter()
        .map(|h| {
            if equal {
                1
            } else {
                u128::from(shares.get(h).copied().unwrap_or(0))
            }
        })
        .collect();
    let whole: u128 = weights.iter().sum();
    if whole == 0 {
        return BTreeMap::new();
    }
    let amount = u128::from(fen.unsigned_abs());
    let mut parts: Vec<(u128, u128, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (amount * w / whole, amount * w % whole, i))
        .collect();
    let given: u128 = parts.iter().map(|p| p.0).sum();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|i| (std::cmp::Reverse(parts[*i].1), parts[*i].2));
    for i in order.into_iter().take((amount - given) as usize) {
        parts[i].0 += 1;
    }
    let sign = fen.signum();
    parts
        .into_iter()
        .map(|(part, _, i)| {
            // A part is at most |fen|, so with its sign it is an i64 again (i64::MIN included).
            let signed = i128::from(sign) * i128::try_from(part).unwrap_or(i128::MAX);
            let part = i64::try_from(signed).unwrap_or(if sign < 0 { i64::MIN } else { i64::MAX });
            (holders[i].clone(), part)
        })
        .collect()
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

    fn people(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn shares(of: &[(&str, u64)]) -> BTreeMap<String, u64> {
        of.iter().map(|(h, s)| ((*h).to_owned(), *s)).collect()
    }

    #[test]
    fn money_splits_to_the_fen_and_adds_up() {
        let abc = people(&["a", "b", "c"]);
        let ab = people(&["a", "b"]);
        type Case<'a> = (i64, &'a Vec<String>, BTreeMap<String, u64>, Vec<i64>);
        let one = people(&["a"]);
        let cases: [Case; 12] = [
            // 20.00 in three: 6.66 each and two fen left, to the first two (equal fractions).
            (20_00, &abc, shares(&[]), vec![6_67, 6_67, 6_66]),
            // A 50.00 penalty at 60/40.
            (
                -50_00,
                &ab,
                shares(&[("a", 60), ("b", 40)]),
                vec![-30_00, -20_00],
            ),
            // One fen in two.
            (1, &ab, shares(&[]), vec![1, 0]),
            // 10.00 at 33/33/34: exact.
            (
                10_00,
                &abc,
                shares(&[("a", 33), ("b", 33), ("c", 34)]),
                vec![3_30, 3_30, 3_40],
            ),
            // 10.01 at 50/50: 5.005 each, the fen to the first.
            (
                10_01,
                &ab,
                shares(&[("a", 50), ("b", 50)]),
                vec![5_01, 5_00],
            ),
            // 0.10 at 44/56: 4.4 and 5.6 fen, the fen left to the larger fraction.
            (10, &ab, shares(&[("a", 44), ("b", 56)]), vec![4, 6]),
            // Nothing to share.
            (0, &abc, shares(&[]), vec![0, 0, 0]),
            // A holder at 0%.
            (10_00, &ab, shares(&[("a", 0), ("b", 100)]), vec![0, 10_00]),
            // A 0.10 penalty at 44/56: -4.4 and -5.6 fen, the fen to the larger fraction.
            (-10, &ab, shares(&[("a", 44), ("b", 56)]), vec![-4, -6]),
            // The extremes stay exact and do not overflow.
            (i64::MIN, &one, shares(&[]), vec![i64::MIN]),
            (i64::MIN, &ab, shares(&[]), vec![i64::MIN / 2, i64::MIN / 2]),
            (
                i64::MAX,
                &ab,
                shares(&[]),
                vec![i64::MAX / 2 + 1, i64::MAX / 2],
            ),
        ];
        for (fen, holders, shares, want) in cases {
            let got = split(fen, holders, &shares);
            let want: BTreeMap<String, i64> = holders.iter().cloned().zip(want).collect();
            assert_eq!(got, want, "{fen} over {holders:?} at {shares:?}");
            assert_eq!(got.values().sum::<i64>(), fen);
        }
        assert!(split(20_00, &[], &BTreeMap::new()).is_empty());
        // Shares that do not stand (a holder added since) give way to equal parts.
        let got = split(9_00, &abc, &shares(&[("a", 50), ("b", 50)]));
        assert_eq!(
            got.values().copied().collect::<Vec<_>>(),
            vec![3_00, 3_00, 3_00]
        );
    }

    #[test]
    fn shares_name_every_holder_and_come_to_100() {
        let ab = people(&["a", "b"]);
        assert_eq!(check_shares(&ab, &shares(&[])), Ok(()));
        assert_eq!(check_shares(&ab, &shares(&[("a", 70), ("b", 30)])), Ok(()));
        assert_eq!(
            check_shares(&ab, &shares(&[("a", 70), ("b", 20)])),
            Err(SharesError::Total(90))
        );
        assert_eq!(
            check_shares(&ab, &shares(&[("a", 100)])),
            Err(SharesError::Missing("b".into()))
        );
        assert_eq!(
            check_shares(&ab, &shares(&[("a", 50), ("b", 40), ("x", 10)])),
            Err(SharesError::NotAHolder("x".into()))
        );
        assert_eq!(
            check_shares(&ab, &shares(&[("a", u64::MAX), ("b", 1)])),
            Err(SharesError::OverWhole("a".into(), u64::MAX))
        );
    }
}
