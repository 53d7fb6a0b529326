//! Bounds on what a document may hold: days within the mine's history and a short way ahead of
//! today, moments no earlier than that history and no later than the server's clock allows,
//! text and record counts generous for real use. The validator refuses a change that goes past
//! one (`docs/PROTOCOL.md` lists them, in words for client writers); the server uses the same
//! bounds to leave out a stored document that was accepted before they existed, rather than
//! computing reports for the year 20000.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use super::{Refusal, RefusalCode};
use crate::docs::PhotoRef;
use crate::rules::period::MineClock;

/// The first day the product keeps records for: nothing the mine does is dated earlier.
pub const EARLIEST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
/// [`EARLIEST_DAY`] at midnight UTC, in milliseconds since the Unix epoch.
pub const EARLIEST_MILLIS: i64 = 946_684_800_000;
/// How far ahead of the server's clock a phone's clock may run.
pub const MAX_CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

/// A cleanup is logged on its day, or the day after the phone's date if its clock or time
/// zone is a little off; an assessment's month may be the current one.
pub const WORK_DAYS_AHEAD: u64 = 1;
/// A patrol may be planned up to a month ahead.
pub const PLAN_DAYS_AHEAD: u64 = 31;
/// A problem's deadline lies at most a year ahead.
pub const DEADLINE_DAYS_AHEAD: u64 = 366;
/// Results reach at most a year ahead: a period published, or a record's place in the reports.
pub const RESULTS_DAYS_AHEAD: u64 = 366;
/// A step of a post's life is dated at most this many days ago (a phone a month offline).
pub const POST_STEP_DAYS_BEHIND: u64 = 31;
/// Applications of one member waiting for the secretary at once.
pub const APPLICATIONS_WAITING: usize = 5;
/// A demonstration post's term ends at most five years ahead.
pub const POST_TERM_DAYS_AHEAD: u64 = 5 * 366;

/// Names, titles, locations, units, checklist texts: characters at most.
pub const NAME_CHARS: usize = 200;
/// Descriptions, notes, measures, reasons: characters at most.
pub const TEXT_CHARS: usize = 4_000;
/// Keys of records (ids, user names): characters at most.
pub const KEY_CHARS: usize = 64;
/// The longest side a photo's reference may claim, in pixels.
pub const MAX_PHOTO_SIDE: u32 = 65_536;
/// Photos on one record (a checklist item, a finding, a fix, a cleanup's before or after).
pub const PHOTOS_PER_RECORD: usize = 20;
/// Zones, posts in a branch directory.
pub const ZONES_PER_BRANCH: usize = 2_000;
/// Members in a branch directory.
pub const MEMBERS_PER_BRANCH: usize = 5_000;
/// Checklist templates in a branch directory.
pub const TEMPLATES_PER_BRANCH: usize = 50;
/// Checklist templates a branch keeps with every version (a version is never removed).
pub const TEMPLATE_VERSIONS_PER_BRANCH: usize = 2_000;
/// Items of one checklist template, and deduction rules of one item.
pub const ITEMS_PER_TEMPLATE: usize = 200;
/// Deduction rules of one checklist item.
pub const RULES_PER_ITEM: usize = 50;
/// Holders, teams or demonstrators of one zone or post; inspectors of one patrol.
pub const PEOPLE_PER_RECORD: usize = 100;
/// Zones on one patrol (and so on one sheet).
pub const ZONES_PER_PATROL: usize = 500;
/// Fixes, verifications or post events on one record.
pub const EVENTS_PER_RECORD: usize = 200;
/// Publish and reopen events of one branch.
pub const LOCK_EVENTS: usize = 5_000;
/// Branches a mine has at most (marks one branch gives in the mutual evaluation).
pub const BRANCHES: usize = 1_000;
/// The largest special-activity bonus, in points.
pub const BONUS_MAX: i64 = 10;
/// Participants and work items of one cleanup.
pub const CLEANUP_PARTICIPANTS: usize = 500;
/// Work items of one cleanup.
pub const CLEANUP_ITEMS: usize = 100;
/// Person-times of one cleanup.
pub const PERSON_TIMES: u64 = 1_000;
/// A work item's quantity, in thousandths (one million units).
pub const QUANTITY_MILLI: i64 = 1_000_000_000;

/// The bounds in force for one change: today's date at the mine and the time now, when the
/// caller knows them (the server always does).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub now: Option<i64>,
    pub today: Option<NaiveDate>,
}

impl Bounds {
    pub(crate) fn new(now: Option<i64>, clock: MineClock) -> Bounds {
        Bounds {
            now,
            today: now.and_then(|n| clock.date_of_millis(n)),
        }
    }

    /// The last day allowed `ahead` days after today.
    fn latest(&self, ahead: u64) -> Option<NaiveDate> {
        self.today
            .and_then(|t| t.checked_add_days(Days::new(ahead)))
    }

    /// A day no earlier than [`EARLIEST_DAY`] and at most `ahead` days after today.
    pub(crate) fn day(
        &self,
        part: &str,
        what: &str,
        day: NaiveDate,
        ahead: u64,
    ) -> Result<(), Refusal> {
        if day < EARLIEST_DAY {
            return out_of_range(
                part,
                format!("{what} {day} is before {EARLIEST_DAY}: check the date"),
            );
        }
        match self.latest(ahead) {
            Some(latest) if day > latest => out_of_range(
                part,
                format!(
                    "{what} {day} is too far ahead (the latest allowed is {latest}): check the \
                     date and the phone's clock"
                ),
            ),
            _ => Ok(()),
        }
    }

    /// A moment no earlier than [`EARLIEST_MILLIS`] and no later than the clock skew allows.
    pub(crate) fn moment(&self, part: &str, what: &str, at: i64) -> Result<(), Refusal> {
        if at < EARLIEST_MILLIS {
            return out_of_range(
                part,
                format!("{what} is dated before {EARLIEST_DAY}: check the phone's clock"),
            );
        }
        match self.now {
            Some(now) if at > now.saturating_add(MAX_CLOCK_SKEW_MS) => out_of_range(
                part,
                format!("{what} is dated in the future: check the phone's clock"),
            ),
            _ => Ok(()),
        }
    }
}

pub(crate) fn out_of_range(part: &str, reason: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal::new(RefusalCode::OutOfRange, part, reason))
}

/// Text of at most `max` characters.
pub(crate) fn text(part: &str, what: &str, s: &str, max: usize) -> Result<(), Refusal> {
    // Counting stops one past the limit, so a huge text costs no more than a long one.
    if s.chars().nth(max).is_some() {
        return out_of_range(
            part,
            format!("{what} is longer than {max} characters: shorten it"),
        );
    }
    Ok(())
}

/// At most `max` records, each keyed by at most [`KEY_CHARS`] characters.
pub(crate) fn records<T>(
    part: &str,
    what: &str,
    map: &BTreeMap<String, T>,
    max: usize,
) -> Result<(), Refusal> {
    if map.len() > max {
        return out_of_range(
            part,
            format!("{what}: at most {max}, and there are {}", map.len()),
        );
    }
    if map
        .keys()
        .any(|k| k.is_empty() || k.chars().nth(KEY_CHARS).is_some())
    {
        return out_of_range(
            part,
            format!("{what}: a record's key must have 1 to {KEY_CHARS} characters"),
        );
    }
    Ok(())
}

/// At most [`PHOTOS_PER_RECORD`] photos, each named by its SHA-256. (A camera's clock can say
/// anything, so the capture time is not judged.)
pub(crate) fn photos(part: &str, map: &BTreeMap<String, PhotoRef>) -> Result<(), Refusal> {
    if map.len() > PHOTOS_PER_RECORD {
        return out_of_range(
            part,
            format!("at most {PHOTOS_PER_RECORD} photos on one record: leave out the extra ones"),
        );
    }
    for (hash, photo) in map {
        let named = |h: &str| crate::docs::values::is_sha256_hex(h);
        if !named(hash) || !(photo.thumb.is_empty() || named(&photo.thumb)) {
            return out_of_range(
                part,
                "a photo must be named by the SHA-256 of its bytes: retake or re-add it",
            );
        }
        if photo.width > MAX_PHOTO_SIDE || photo.height > MAX_PHOTO_SIDE {
            return out_of_range(part, "a photo's size is not a camera's: re-add it");
        }
        if let Some(problem) = crate::docs::marks::marks_problem(&photo.marks) {
            return out_of_range(part, format!("the marks on a photo: {problem}"));
        }
        if photo
            .marks
            .keys()
            .any(|k| k.is_empty() || k.chars().nth(KEY_CHARS).is_some())
        {
            return out_of_range(
                part,
                format!("a mark's key must have 1 to {KEY_CHARS} characters"),
            );
        }
    }
    Ok(())
}

/// The first `max` characters of a text, with an ellipsis if it was longer: what a page, a log
/// line or a record keeps of text a client sent.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Whether a day lies inside the product's range as of `today` with `ahead` days allowed:
/// what the server uses to leave out stored documents accepted before the bounds existed.
pub fn day_in_range(day: NaiveDate, today: NaiveDate, ahead: u64) -> bool {
    day >= EARLIEST_DAY
        && today
            .checked_add_days(Days::new(ahead))
            .is_some_and(|latest| day <= latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_233_600_000; // 2026-11-20 in the mine's time zone

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn days_lie_between_the_mines_history_and_a_short_way_past_today() {
        let b = Bounds::new(Some(NOW), MineClock::default());
        let today = b.today.unwrap_or(NaiveDate::MIN);
        for (day, ahead, ok) in [
            (today, 0, true),
            (today + Days::new(1), 1, true),
            (today + Days::new(2), 1, false),
            (EARLIEST_DAY, 0, true),
            (d(1999, 12, 31), 0, false),
            (d(-1, 1, 1), 0, false),
            (d(10000, 1, 1), 366, false),
            (d(20000, 3, 1), 31, false),
        ] {
            assert_eq!(
                b.day("p", "the day", day, ahead).is_ok(),
                ok,
                "{day} +{ahead}"
            );
            assert_eq!(day_in_range(day, today, ahead), ok, "{day} +{ahead}");
        }
        let unknown = Bounds::new(None, MineClock::default());
        assert!(
            unknown.day("p", "the day", d(2090, 1, 1), 0).is_ok(),
            "no clock, no ceiling"
        );
        assert!(
            unknown.day("p", "the day", d(1990, 1, 1), 0).is_err(),
            "the floor stays"
        );
    }

    #[test]
    fn moments_lie_between_the_mines_history_and_the_clock_skew() {
        let b = Bounds::new(Some(NOW), MineClock::default());
        for (at, ok) in [
            (NOW, true),
            (NOW + MAX_CLOCK_SKEW_MS, true),
            (NOW + MAX_CLOCK_SKEW_MS + 1, false),
            (EARLIEST_MILLIS, true),
            (EARLIEST_MILLIS - 1, false),
            (1, false),
            (i64::MAX, false),
            (i64::MIN, false),
        ] {
            assert_eq!(b.moment("p", "it", at).is_ok(), ok, "{at}");
        }
    }

    #[test]
    fn text_and_records_are_counted_without_reading_past_the_limit() {
        assert!(text("p", "it", &"字".repeat(TEXT_CHARS), TEXT_CHARS).is_ok());
        let refused = text("p", "it", &"字".repeat(TEXT_CHARS + 1), TEXT_CHARS);
        assert!(refused.is_err_and(|r| r.reason.contains("4000")));
        let map: BTreeMap<String, u8> = (0..3).map(|i| (format!("k{i}"), 0)).collect();
        assert!(records("p", "them", &map, 3).is_ok());
        assert!(records("p", "them", &map, 2).is_err());
        let long: BTreeMap<String, u8> = [("k".repeat(KEY_CHARS + 1), 0)].into();
        assert!(records("p", "them", &long, 3).is_err());
        let empty: BTreeMap<String, u8> = [(String::new(), 0)].into();
        assert!(records("p", "them", &empty, 3).is_err());
    }

    #[test]
    fn a_photos_marks_and_size_are_bounded() {
        use crate::docs::{MarkKind, PhotoMark};
        let sha = "a".repeat(64);
        let with = |marks: Vec<PhotoMark>, width: u32| -> BTreeMap<String, PhotoRef> {
            [(
                sha.clone(),
                PhotoRef {
                    thumb: sha.clone(),
                    width,
                    height: 3000,
                    marks: crate::docs::marks::keyed(marks),
                    ..Default::default()
                },
            )]
            .into()
        };
        let circle = PhotoMark {
            kind: MarkKind::Circle,
            x1: 10,
            y1: 10,
            x2: 400,
            y2: 300,
            text: String::new(),
        };
        assert!(photos("p", &with(vec![circle.clone()], 4000)).is_ok());
        let refused = photos("p", &with(vec![circle.clone(); 21], 4000));
        assert!(refused.is_err_and(|r| r.reason.contains("marks on a photo")));
        let outside = PhotoMark {
            x2: 5000,
            ..circle.clone()
        };
        assert!(photos("p", &with(vec![outside], 4000)).is_err());
        assert!(photos("p", &with(vec![circle], MAX_PHOTO_SIDE + 1)).is_err());
    }
}
