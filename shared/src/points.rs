//! Exact quantities: points to the hundredth and money to the fen.
//!
//! Scores are kept as whole hundredths of a point (`Points(9750)` is 97.5 points) so that
//! sums, means and money are exact and every device computes the same figure. Floats never
//! enter a document or a rule.

use std::fmt;
use std::ops::{Add, Neg, Sub};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A score in hundredths of a point.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Points(pub i64);

impl Points {
    /// Zero points.
    pub const ZERO: Points = Points(0);

    /// Whole points: `Points::whole(10)` is 10.00 points.
    pub const fn whole(points: i64) -> Points {
        Points(points * 100)
    }

    /// The number of hundredths.
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// The larger of `self` and zero.
    pub fn at_least_zero(self) -> Points {
        Points(self.0.max(0))
    }

    /// The mean, rounded half away from zero to the hundredth; `None` for no scores.
    pub fn mean(scores: &[Points]) -> Option<Points> {
        if scores.is_empty() {
            return None;
        }
        let sum: i128 = scores.iter().map(|p| i128::from(p.0)).sum();
        Some(Points(div_round(sum, scores.len() as i128) as i64))
    }

    /// `self × count`, saturating rather than overflowing on absurd counts.
    pub fn times(self, count: i64) -> Points {
        Points(self.0.saturating_mul(count))
    }
}

impl Add for Points {
    type Output = Points;
    fn add(self, rhs: Points) -> Points {
        Points(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Points {
    type Output = Points;
    fn sub(self, rhs: Points) -> Points {
        Points(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for Points {
    type Output = Points;
    fn neg(self) -> Points {
        Points(-self.0)
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        iter.fold(Points::ZERO, Add::add)
    }
}

/// Shows the fewest decimals needed: `97`, `97.5`, `97.25`.
impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, frac) = (abs / 100, abs % 100);
        match frac {
            0 => write!(f, "{sign}{whole}"),
            f10 if f10 % 10 == 0 => write!(f, "{sign}{whole}.{}", f10 / 10),
            _ => write!(f, "{sign}{whole}.{frac:02}"),
        }
    }
}

/// Why a text is not a number of points.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not a score: write a number with at most two decimals, such as 8 or 7.5")]
pub struct ParsePointsError(pub String);

impl FromStr for Points {
    type Err = ParsePointsError;

    fn from_str(s: &str) -> Result<Points, ParsePointsError> {
        let err = || ParsePointsError(s.to_owned());
        let t = s.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && frac.is_empty()
            || frac.len() > 2
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || whole.len() > 12
        {
            return Err(err());
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err())?
        };
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac.parse().map_err(|_| err())?,
        };
        let value = whole * 100 + frac;
        Ok(Points(if negative { -value } else { value }))
    }
}

/// An amount of money in fen (1 yuan = 100 fen).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    /// Whole yuan.
    pub const fn yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0.saturating_add(rhs.0))
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen(0), Add::add)
    }
}

/// Signed yuan with two decimals: `+20.00`, `-50.00`, `0.00`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.0 {
            n if n > 0 => "+",
            n if n < 0 => "-",
            _ => "",
        };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// Divides and rounds half away from zero, the way a person rounds a bonus.
pub(crate) fn div_round(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let q = numerator / denominator;
    let r = numerator % denominator;
    if 2 * r.abs() >= denominator {
        q + numerator.signum()
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_and_display_round_trip() {
        let cases = [
            ("97", Points(9700), "97"),
            ("97.5", Points(9750), "97.5"),
            ("97.25", Points(9725), "97.25"),
            ("0.05", Points(5), "0.05"),
            (".5", Points(50), "0.5"),
            ("-2", Points(-200), "-2"),
            ("+3.1", Points(310), "3.1"),
            (" 10 ", Points(1000), "10"),
        ];
        for (text, points, shown) in cases {
            assert_eq!(text.parse::<Points>(), Ok(points), "{text}");
            assert_eq!(points.to_string(), shown, "{text}");
        }
    }

    #[test]
    fn points_refuse_what_is_not_a_score() {
        for text in [
            "",
            ".",
            "abc",
            "1.234",
            "1,5",
            "--1",
            "1e3",
            "９",
            "1234567890123",
        ] {
            let err = text.parse::<Points>().expect_err(text);
            assert!(err.to_string().contains("is not a score"), "{text}: {err}");
        }
    }

    #[test]
    fn fen_display() {
        let cases = [
            (Fen(2000), "+20.00"),
            (Fen(-5000), "-50.00"),
            (Fen(0), "0.00"),
            (Fen(-7), "-0.07"),
        ];
        for (fen, shown) in cases {
            assert_eq!(fen.to_string(), shown);
        }
    }

    #[test]
    fn div_round_is_half_away_from_zero() {
        let cases = [
            (5, 10, 1),
            (4, 10, 0),
            (-5, 10, -1),
            (-4, 10, 0),
            (15, 10, 2),
            (14, 10, 1),
            (0, 3, 0),
            (-15, 10, -2),
        ];
        for (n, d, want) in cases {
            assert_eq!(div_round(n, d), want, "{n}/{d}");
        }
    }
}
