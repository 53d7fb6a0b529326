//! Published periods: a record that falls in one is locked until a manager reopens it.
//!
//! One rule, used on both sides so that they cannot drift apart:
//!
//! - the validator ([`crate::validate::validate_change`]) refuses a change to a patrol, a
//!   sheet, a cleanup or an assessment whose day or month is locked, on the server (the
//!   authority) and in the app's `Repo::edit_as`;
//! - the app's record actions (`records::check_unlocked` in `app/src/records/mod.rs`, with
//!   [`locked_by`]) ask before they write a patrol, a sheet, a cleanup or an assessment, so a
//!   locked period is refused before the person fills in a form.
//!
//! A record is locked when one published period covers the whole of its [`Span`]: a day
//! falls in a published week, ten days, month, quarter or year; a month (an assessment) only
//! in a published month, quarter or year — publishing a week inside it does not lock it.
//! The published periods are [`Publication::locks`](crate::docs::Publication::locks).
//!
//! ```
//! use chrono::NaiveDate;
//! use zonepatrol_shared::docs::Lock;
//! use zonepatrol_shared::rules::Period;
//! use zonepatrol_shared::validate::locks::{Span, check_unlocked};
//!
//! let period = |s: &str| s.parse::<Period>().unwrap();
//! let locks = [Lock { period: period("2026-W47"), by: "mgr".into(), at: 0 }];
//! let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
//! assert!(check_unlocked("plan", day, &locks).is_err());
//! // The month of November is not inside week 47: an assessment can still be written.
//! assert!(check_unlocked("branch_score", period("2026-11"), &locks).is_ok());
//! # let _ = Span::day(day);
//! ```

use chrono::NaiveDate;

use super::{Refusal, RefusalCode};
use crate::docs::Lock;
use crate::rules::period::Period;

/// The days a record falls on, for the lock check: one day (a patrol, its sheets, a cleanup)
/// or a whole period (an assessment's month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The first day, inclusive.
    pub first: NaiveDate,
    /// The last day, inclusive.
    pub last: NaiveDate,
}

impl Span {
    /// One day.
    pub fn day(day: NaiveDate) -> Span {
        Span {
            first: day,
            last: day,
        }
    }

    /// Every day of a period.
    pub fn period(period: &Period) -> Span {
        Span {
            first: period.first_day(),
            last: period.last_day(),
        }
    }

    /// Whether the period covers every day of the span.
    pub fn within(&self, period: &Period) -> bool {
        period.first_day() <= self.first && self.last <= period.last_day()
    }
}

impl From<NaiveDate> for Span {
    fn from(day: NaiveDate) -> Span {
        Span::day(day)
    }
}

impl From<Period> for Span {
    fn from(period: Period) -> Span {
        Span::period(&period)
    }
}

/// The published period that locks the span, if any.
pub fn locked_by(span: impl Into<Span>, locks: &[Lock]) -> Option<&Lock> {
    let span = span.into();
    locks.iter().find(|l| span.within(&l.period))
}

/// Refuses ([`RefusalCode::Locked`], on `part`) when a published period covers the span, with
/// a reason that names the period and the manager and says to ask for it to be reopened.
///
/// Used by the validator for every dated record; the app's record actions ask [`locked_by`],
/// the same rule, so both refuse the same edits.
pub fn check_unlocked(part: &str, span: impl Into<Span>, locks: &[Lock]) -> Result<(), Refusal> {
    match locked_by(span, locks) {
        Some(lock) => Err(locked(part, lock)),
        None => Ok(()),
    }
}

fn locked(part: &str, lock: &Lock) -> Refusal {
    Refusal::new(
        RefusalCode::Locked,
        part,
        format!(
            "{} ({}) was published by {} and is locked: ask a manager to reopen it first",
            lock.period.label_zh(),
            lock.period,
            lock.by
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(span: Span, published: &[&str], locked: bool) {
        let locks: Vec<Lock> = published
            .iter()
            .map(|p| Lock {
                period: p.parse().expect("period"),
                by: "mgr".into(),
                at: 0,
            })
            .collect();
        assert_eq!(
            check_unlocked("part", span, &locks).is_err(),
            locked,
            "{span:?} in {published:?}"
        );
    }

    #[test]
    fn a_span_is_locked_when_a_published_period_covers_all_of_it() {
        let day = Span::day("2026-11-20".parse().expect("date"));
        let month = Span::period(&"2026-11".parse().expect("period"));
        let cases: &[(Span, &[&str], bool)] = &[
            (day, &[], false),
            (day, &["2026-W47"], true),
            (day, &["2026-11-D2"], true),
            (day, &["2026-11"], true),
            (day, &["2026-Q4", "2027"], true),
            (day, &["2026-W48", "2026-11-D3"], false),
            (month, &["2026-W47"], false),
            (month, &["2026-11-D2"], false),
            (month, &["2026-11"], true),
            (month, &["2026-Q4"], true),
            (month, &["2026"], true),
            (month, &["2026-10"], false),
        ];
        for (span, published, locked) in cases {
            check(*span, published, *locked);
        }
    }
}
