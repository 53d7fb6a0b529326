//! The cadence (seed 003: 周检查、旬督导、月考核、季讲评、年总评): what is due and by when, for
//! the phone's home screen and the dashboard's list of what each branch has not done yet.
//!
//! The rules are plain functions of the mine's date and of what is done; the callers say what
//! is done from the records they hold (the phone from its documents, offline; the server from
//! its consolidated facts).
//!
//! ```
//! use chrono::NaiveDate;
//! use zonepatrol_shared::rules::cadence::{Due, Done, due};
//!
//! let day = |s: &str| s.parse::<NaiveDate>().unwrap();
//! // 28 November: one zone's self-score is still to give, due on the 30th.
//! let month = "2026-11".parse().unwrap();
//! let done = Done {
//!     weekly: true,
//!     ten_day: true,
//!     self_scores_left: vec![(month, 1)],
//!     ..Done::default()
//! };
//! let list = due(day("2026-11-28"), &done);
//! assert_eq!(list, [Due::SelfScores { month, by: day("2026-11-30"), left: 1 }]);
//! ```

use chrono::{Days, NaiveDate};

use super::period::{Period, PeriodKind};

/// Days before its deadline a problem shows as due soon.
pub const SOON_DAYS: u64 = 3;
/// The last days of a month in which its self-scores and assessments show as due.
pub const MONTH_END_DAYS: u64 = 7;
/// The first days of a month in which last month's are still asked for.
pub const GRACE_DAYS: u32 = 5;

/// Something due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// This week's inspection (周检查) has no closed walk yet; due by the week's last day.
    WeeklyInspection {
        /// The week.
        week: Period,
        /// Its last day.
        by: NaiveDate,
    },
    /// The ten-day supervision (旬督导) of the current ten-day period.
    TenDaySupervision {
        /// The ten-day period.
        period: Period,
        /// Its last day.
        by: NaiveDate,
    },
    /// Self-scores of the month still to give, due at its end.
    SelfScores {
        /// The month.
        month: Period,
        /// Its last day.
        by: NaiveDate,
        /// How many zones are left.
        left: usize,
    },
    /// The branch's monthly self-check (月自查) has no closed walk in the month yet, due at its
    /// end.
    SelfCheck {
        /// The month.
        month: Period,
        /// Its last day.
        by: NaiveDate,
    },
    /// The secretary's assessments of the month still to give.
    Assessments {
        /// The month.
        month: Period,
        /// Its last day.
        by: NaiveDate,
        /// How many zones are left.
        left: usize,
    },
    /// Problems whose deadline falls within [`SOON_DAYS`] days.
    ProblemsSoon {
        /// How many.
        count: usize,
        /// The earliest deadline among them.
        by: NaiveDate,
    },
    /// Problems past their deadline.
    ProblemsOverdue {
        /// How many.
        count: usize,
    },
}

impl Due {
    /// Whether its day has passed (or it is overdue).
    pub fn late(&self, today: NaiveDate) -> bool {
        match self {
            Due::ProblemsOverdue { .. } => true,
            Due::WeeklyInspection { by, .. }
            | Due::TenDaySupervision { by, .. }
            | Due::SelfScores { by, .. }
            | Due::SelfCheck { by, .. }
            | Due::Assessments { by, .. }
            | Due::ProblemsSoon { by, .. } => *by < today,
        }
    }
}

/// What is done, as far as the caller's user is concerned: `weekly` and `ten_day` are true when
/// the walk is done or not theirs to lead; the lists name only what is still owed, so left
/// empty they ask nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Done {
    /// This week's inspection is done, or not theirs to do.
    pub weekly: bool,
    /// The current ten-day supervision is done, or not theirs to do.
    pub ten_day: bool,
    /// Per month asked for ([`months_due`]): zones whose self-score is still to give.
    pub self_scores_left: Vec<(Period, usize)>,
    /// Per month asked for: zones whose assessment is still to give.
    pub assessments_left: Vec<(Period, usize)>,
    /// Months asked for whose self-check walk is still to do.
    pub self_checks_missing: Vec<Period>,
    /// The deadlines of the problems waiting for their fix.
    pub problem_deadlines: Vec<NaiveDate>,
}

/// The months whose self-scores and assessments are asked for on `today`: this month in its
/// last [`MONTH_END_DAYS`] days, last month in this month's first [`GRACE_DAYS`] days.
pub fn months_due(today: NaiveDate) -> Vec<Period> {
    let month = Period::containing(PeriodKind::Month, today);
    let mut out = Vec::new();
    if chrono::Datelike::day(&today) <= GRACE_DAYS {
        out.push(month.prev());
    }
    if month
        .last_day()
        .checked_sub_days(Days::new(MONTH_END_DAYS - 1))
        .is_some_and(|from| today >= from)
    {
        out.push(month);
    }
    out
}

/// What is due on `today`, given what is done: the walks of this week and ten-day period, the
/// month's self-check and scores, the problems due soon or overdue; what is late first, then
/// in that order.
pub fn due(today: NaiveDate, done: &Done) -> Vec<Due> {
    let mut out = Vec::new();
    let overdue = done
        .problem_deadlines
        .iter()
        .filter(|d| **d < today)
        .count();
    if overdue > 0 {
        out.push(Due::ProblemsOverdue { count: overdue });
    }
    let soon: Vec<NaiveDate> = done
        .problem_deadlines
        .iter()
        .copied()
        .filter(|d| *d >= today && *d <= today + Days::new(SOON_DAYS))
        .collect();
    if let Some(by) = soon.iter().min() {
        out.push(Due::ProblemsSoon {
            count: soon.len(),
            by: *by,
        });
    }
    if !done.weekly {
        let week = Period::containing(PeriodKind::Week, today);
        out.push(Due::WeeklyInspection {
            week,
            by: week.last_day(),
        });
    }
    if !done.ten_day {
        let period = Period::containing(PeriodKind::TenDay, today);
        out.push(Due::TenDaySupervision {
            period,
            by: period.last_day(),
        });
    }
    for (month, left) in &done.self_scores_left {
        if *left > 0 {
            out.push(Due::SelfScores {
                month: *month,
                by: month.last_day(),
                left: *left,
            });
        }
    }
    for month in &done.self_checks_missing {
        out.push(Due::SelfCheck {
            month: *month,
            by: month.last_day(),
        });
    }
    for (month, left) in &done.assessments_left {
        if *left > 0 {
            out.push(Due::Assessments {
                month: *month,
                by: month.last_day(),
                left: *left,
            });
        }
    }
    // Stable: within the late and within the rest, the order above.
    out.sort_by_key(|d| !d.late(today));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a day")
    }

    #[test]
    fn the_month_s_scores_are_asked_for_at_its_end_and_a_few_days_after() {
        let text = |d: &str| {
            months_due(day(d))
                .iter()
                .map(Period::to_string)
                .collect::<Vec<_>>()
        };
        assert!(text("2026-11-20").is_empty());
        assert_eq!(text("2026-11-24"), ["2026-11"]);
        assert_eq!(text("2026-11-30"), ["2026-11"]);
        assert_eq!(text("2026-12-05"), ["2026-11"]);
        assert!(text("2026-12-06").is_empty());
        // February: its last seven days.
        assert!(text("2027-02-21").is_empty());
        assert_eq!(text("2027-02-22"), ["2027-02"]);
    }

    #[test]
    fn what_is_due_most_pressing_first() {
        let today = day("2026-11-28");
        let done = Done {
            weekly: false,
            ten_day: true,
            self_scores_left: vec![("2026-11".parse().expect("month"), 2)],
            assessments_left: vec![("2026-11".parse().expect("month"), 0)],
            self_checks_missing: Vec::new(),
            problem_deadlines: vec![
                day("2026-11-20"),
                day("2026-11-30"),
                day("2026-12-01"),
                day("2026-12-09"),
            ],
        };
        let list = due(today, &done);
        assert_eq!(
            list,
            vec![
                Due::ProblemsOverdue { count: 1 },
                Due::ProblemsSoon {
                    count: 2,
                    by: day("2026-11-30")
                },
                Due::WeeklyInspection {
                    week: "2026-W48".parse().expect("week"),
                    by: day("2026-11-29")
                },
                Due::SelfScores {
                    month: "2026-11".parse().expect("month"),
                    by: day("2026-11-30"),
                    left: 2
                },
            ]
        );
        assert!(list[0].late(today) && !list[2].late(today));
        // Early December: November's scores are late and come before this week's walk.
        let december = due(
            day("2026-12-02"),
            &Done {
                weekly: false,
                ten_day: true,
                assessments_left: vec![("2026-11".parse().expect("month"), 3)],
                ..Done::default()
            },
        );
        assert!(
            matches!(december[0], Due::Assessments { left: 3, .. }),
            "{december:?}"
        );
        assert!(matches!(december[1], Due::WeeklyInspection { .. }));
        assert!(
            due(
                today,
                &Done {
                    weekly: true,
                    ten_day: true,
                    ..Done::default()
                }
            )
            .is_empty()
        );
    }
}
