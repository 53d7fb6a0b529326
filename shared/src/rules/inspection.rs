//! The weekly inspection: inspectors' totals become a zone's result, and zones are ranked.

use serde::{Deserialize, Serialize};

use crate::points::{Points, div_round};

/// How a zone's result is aggregated from the inspectors' scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRule {
    /// With at least this many inspectors, the single highest and single lowest scores are
    /// dropped before the mean (seed 003: five).
    pub trim_from: usize,
    /// The fewest inspectors' sheets a zone's weekly result needs (three).
    #[serde(default = "default_min_sheets")]
    pub min_sheets: usize,
}

fn default_min_sheets() -> usize {
    3
}

impl Default for InspectionRule {
    fn default() -> InspectionRule {
        InspectionRule {
            trim_from: 5,
            min_sheets: default_min_sheets(),
        }
    }
}

impl InspectionRule {
    /// The zone's result: the mean of the inspectors' scores, rounded half up to the
    /// hundredth, after dropping one highest and one lowest when there are
    /// [`trim_from`](Self::trim_from) or more. `None` when nobody scored the zone.
    pub fn zone_result(&self, scores: &[Points]) -> Option<Points> {
        if scores.is_empty() {
            return None;
        }
        let mut sorted = scores.to_vec();
        sorted.sort_unstable();
        let kept = if sorted.len() >= self.trim_from.max(3) {
            &sorted[1..sorted.len() - 1]
        } else {
            &sorted[..]
        };
        let sum: i128 = kept.iter().map(|p| i128::from(p.0)).sum();
        Some(Points(div_round(sum, kept.len() as i128) as i64))
    }
}

/// One entry of a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranked<K> {
    /// What is ranked (a zone, a post, a branch).
    pub key: K,
    /// Its score.
    pub score: Points,
    /// Its place: 1 is best; equal scores share a place and the next place is skipped
    /// (1, 2, 2, 4).
    pub rank: usize,
}

/// Ranks by score, highest first, with shared places for ties (1, 2, 2, 4). Entries with
/// equal scores keep the order of their keys so that every device lists them alike.
pub fn rank<K: Ord + Clone>(entries: &[(K, Points)]) -> Vec<Ranked<K>> {
    let mut sorted: Vec<&(K, Points)> = entries.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out: Vec<Ranked<K>> = Vec::with_capacity(sorted.len());
    for (i, (key, score)) in sorted.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.score == *score => prev.rank,
            _ => i + 1,
        };
        out.push(Ranked {
            key: key.clone(),
            score: *score,
            rank,
        });
    }
    out
}

/// The entries to praise and to name in the weekly notice (通报): the `n` best places and the
/// `n` worst places, ties included, never the same entry in both.
pub fn notice<K: Ord + Clone>(ranking: &[Ranked<K>], n: usize) -> (Vec<Ranked<K>>, Vec<Ranked<K>>) {
    if ranking.is_empty() || n == 0 {
        return (Vec::new(), Vec::new());
    }
    // Best: fewer than `n` entries score higher. Worst: fewer than `n` entries score lower.
    let best: Vec<Ranked<K>> = ranking.iter().filter(|r| r.rank <= n).cloned().collect();
    let worst: Vec<Ranked<K>> = ranking
        .iter()
        .rev()
        .filter(|r| ranking.iter().filter(|o| o.score < r.score).count() < n && !best.contains(r))
        .cloned()
        .collect();
    (best, worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(xs: &[&str]) -> Vec<Points> {
        xs.iter().map(|s| s.parse().expect("test points")).collect()
    }

    #[test]
    fn zone_results() {
        let rule = InspectionRule::default();
        let cases: &[(&[&str], Option<&str>)] = &[
            // Seed figures.
            (&["80", "90", "85"], Some("85")),
            (&["70", "80", "85", "90", "95"], Some("85")),
            (&[], None),
            (&["77.5"], Some("77.5")),
            (&["80", "81"], Some("80.5")),
            // Four inspectors: nothing dropped.
            (&["60", "80", "90", "100"], Some("82.5")),
            // Five or more: only one highest and one lowest dropped, even when tied.
            (&["90", "90", "80", "70", "70"], Some("80")),
            (&["100", "100", "100", "100", "0", "0"], Some("75")),
            // Rounded half up to the hundredth: (80 + 80 + 81) / 3 = 80.333…
            (&["80", "80", "81"], Some("80.33")),
            (&["80", "81", "81"], Some("80.67")),
        ];
        for (scores, want) in cases {
            let want = want.map(|w| w.parse::<Points>().expect("test points"));
            assert_eq!(rule.zone_result(&pts(scores)), want, "{scores:?}");
        }
    }

    #[test]
    fn trimming_threshold_is_configurable() {
        let rule = InspectionRule {
            trim_from: 3,
            ..InspectionRule::default()
        };
        assert_eq!(
            rule.zone_result(&pts(&["80", "90", "85"])),
            Some(Points::whole(85))
        );
        assert_eq!(
            rule.zone_result(&pts(&["0", "90", "100"])),
            Some(Points::whole(90))
        );
        // Trimming two of two would leave nothing: a threshold below three acts as three.
        let rule = InspectionRule {
            trim_from: 1,
            ..InspectionRule::default()
        };
        assert_eq!(
            rule.zone_result(&pts(&["80", "90"])),
            Some(Points::whole(85))
        );
    }

    #[test]
    fn ranking_shares_places_for_ties() {
        let entries: Vec<(&str, Points)> = vec![
            ("d", Points::whole(80)),
            ("a", Points::whole(95)),
            ("c", Points::whole(90)),
            ("b", Points::whole(90)),
            ("e", Points::whole(70)),
        ];
        let got: Vec<(&str, usize)> = rank(&entries)
            .into_iter()
            .map(|r| (r.key, r.rank))
            .collect();
        assert_eq!(got, vec![("a", 1), ("b", 2), ("c", 2), ("d", 4), ("e", 5)]);

        let all_tied = vec![("x", Points::whole(1)), ("y", Points::whole(1))];
        let got: Vec<usize> = rank(&all_tied).into_iter().map(|r| r.rank).collect();
        assert_eq!(got, vec![1, 1]);
        assert!(rank::<&str>(&[]).is_empty());
    }

    #[test]
    fn notice_names_best_and_worst() {
        let entries: Vec<(&str, Points)> = [("a", 95), ("b", 90), ("c", 90), ("d", 80), ("e", 70)]
            .into_iter()
            .map(|(k, s)| (k, Points::whole(s)))
            .collect();
        let ranking = rank(&entries);
        fn keys(v: Vec<Ranked<&'static str>>) -> Vec<&'static str> {
            v.into_iter().map(|r| r.key).collect()
        }
        let (best, worst) = notice(&ranking, 1);
        assert_eq!((keys(best), keys(worst)), (vec!["a"], vec!["e"]));
        let (best, worst) = notice(&ranking, 2);
        assert_eq!(
            (keys(best), keys(worst)),
            (vec!["a", "b", "c"], vec!["e", "d"])
        );
        // Two zones, n = 2: each is best; nobody is named twice.
        let (best, worst) = notice(&rank(&entries[..2]), 2);
        assert_eq!((keys(best), keys(worst)), (vec!["a", "b"], vec![]));
        // Ties at the bottom are all named.
        let tied = rank(&[
            ("a", Points::whole(95)),
            ("b", Points::whole(90)),
            ("c", Points::whole(80)),
            ("d", Points::whole(80)),
        ]);
        let (best, worst) = notice(&tied, 1);
        assert_eq!((keys(best), keys(worst)), (vec!["a"], vec!["d", "c"]));
        let (best, worst) = notice(&ranking, 0);
        assert!(best.is_empty() && worst.is_empty());
    }
}
