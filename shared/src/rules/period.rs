//! Periods in the mine's time zone: ISO week, ten-day period (旬), month, quarter, year.
//!
//! A moment becomes a date only through a [`MineClock`], which knows the mine's time zone
//! (default Asia/Shanghai): an inspection at 23:30 UTC on 31 March is on 1 April at the mine,
//! and belongs to April, to the second quarter and to the first ten-day period of April.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The mine's clock: turns moments into local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MineClock {
    /// The mine's time zone.
    pub tz: Tz,
}

impl Default for MineClock {
    fn default() -> MineClock {
        MineClock {
            tz: chrono_tz::Asia::Shanghai,
        }
    }
}

impl MineClock {
    /// A clock in the named IANA time zone, such as `Asia/Urumqi`.
    pub fn named(name: &str) -> Result<MineClock, PeriodError> {
        name.parse::<Tz>()
            .map(|tz| MineClock { tz })
            .map_err(|_| PeriodError::UnknownTimeZone(name.to_owned()))
    }

    /// The local date at the mine of a moment given in milliseconds since the Unix epoch.
    pub fn date_of_millis(&self, unix_millis: i64) -> Option<NaiveDate> {
        let utc = DateTime::<Utc>::from_timestamp_millis(unix_millis)?;
        Some(self.tz.from_utc_datetime(&utc.naive_utc()).date_naive())
    }

    /// The period of the given kind that contains a moment.
    pub fn period_of_millis(&self, kind: PeriodKind, unix_millis: i64) -> Option<Period> {
        self.date_of_millis(unix_millis)
            .map(|d| Period::containing(kind, d))
    }
}

/// The kinds of period the cadence knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// ISO week, Monday to Sunday.
    Week,
    /// 旬: days 1–10, 11–20, 21 to the end of the month.
    TenDay,
    /// Calendar month.
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl PeriodKind {
    /// Every kind, shortest first.
    pub const ALL: [PeriodKind; 5] = [
        PeriodKind::Week,
        PeriodKind::TenDay,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::Year,
    ];

    /// The kinds of period that get a report, shortest first: every kind (a ten-day period's
    /// report ranks the ten-day supervision, 旬督导).
    pub const REPORTED: [PeriodKind; 5] = [
        PeriodKind::Week,
        PeriodKind::TenDay,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::Year,
    ];
}

/// The period of each reported kind ([`PeriodKind::REPORTED`]) that contains a date, shortest
/// first.
pub fn report_periods(date: NaiveDate) -> [Period; 5] {
    PeriodKind::REPORTED.map(|kind| Period::containing(kind, date))
}

/// The reported periods a month counts in, as its assessments do: itself, its quarter and its
/// year.
pub fn periods_of_month(month: Period) -> [Period; 3] {
    let day = month.first_day();
    [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year]
        .map(|kind| Period::containing(kind, day))
}

/// The months of a month, quarter or year, in order; none for a week or a ten-day period.
pub fn months_of(period: Period) -> Vec<Period> {
    match period {
        Period::Month { .. } => vec![period],
        Period::Quarter { year, quarter } => (1..=3)
            .map(|m| Period::Month {
                year,
                month: (quarter - 1) * 3 + m,
            })
            .collect(),
        Period::Year { year } => (1..=12)
            .map(|month| Period::Month { year, month })
            .collect(),
        _ => Vec::new(),
    }
}

/// One period. Its text form (`2026-W47`, `2026-11-D2`, `2026-11`, `2026-Q4`, `2026`) is used
/// in document ids and sorts correctly within a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// An ISO week of an ISO week-numbering year.
    Week { year: i32, week: u32 },
    /// A ten-day period: `part` 1 (days 1–10), 2 (11–20) or 3 (21–end).
    TenDay { year: i32, month: u32, part: u32 },
    /// A month, 1–12.
    Month { year: i32, month: u32 },
    /// A quarter, 1–4.
    Quarter { year: i32, quarter: u32 },
    /// A year.
    Year { year: i32 },
}

/// What can go wrong with periods.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The text is not a period.
    #[error(
        "“{0}” is not a period: write 2026-W47 (week), 2026-11-D2 (ten days), 2026-11 (month), 2026-Q4 (quarter) or 2026 (year)"
    )]
    Malformed(String),
    /// The time zone name is not in the database.
    #[error("unknown time zone “{0}”: use an IANA name such as Asia/Shanghai")]
    UnknownTimeZone(String),
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    // Callers only pass days that exist; fall back to the earliest date rather than panic.
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    ymd(year, month, 1)
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

impl Period {
    /// The period of a kind that contains a date.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Period {
        let (year, month) = (date.year(), date.month());
        match kind {
            PeriodKind::Week => {
                let w = date.iso_week();
                Period::Week {
                    year: w.year(),
                    week: w.week(),
                }
            }
            PeriodKind::TenDay => Period::TenDay {
                year,
                month,
                part: ((date.day() - 1) / 10 + 1).min(3),
            },
            PeriodKind::Month => Period::Month { year, month },
            PeriodKind::Quarter => Period::Quarter {
                year,
                quarter: (month - 1) / 3 + 1,
            },
            PeriodKind::Year => Period::Year { year },
        }
    }

    /// The kind of this period.
    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Week { .. } => PeriodKind::Week,
            Period::TenDay { .. } => PeriodKind::TenDay,
            Period::Month { .. } => PeriodKind::Month,
            Period::Quarter { .. } => PeriodKind::Quarter,
            Period::Year { .. } => PeriodKind::Year,
        }
    }

    /// The first day of the period.
    pub fn first_day(&self) -> NaiveDate {
        match *self {
            Period::Week { year, week } => {
                NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).unwrap_or(NaiveDate::MIN)
            }
            Period::TenDay { year, month, part } => ymd(year, month, (part - 1) * 10 + 1),
            Period::Month { year, month } => ymd(year, month, 1),
            Period::Quarter { year, quarter } => ymd(year, (quarter - 1) * 3 + 1, 1),
            Period::Year { year } => ymd(year, 1, 1),
        }
    }

    /// The last day of the period, inclusive.
    pub fn last_day(&self) -> NaiveDate {
        match *self {
            Period::Week { .. } => self
                .first_day()
                .checked_add_days(Days::new(6))
                .unwrap_or(NaiveDate::MAX),
            Period::TenDay {
                year,
                month,
                part: 3,
            } => last_day_of_month(year, month),
            Period::TenDay { year, month, part } => ymd(year, month, part * 10),
            Period::Month { year, month } => last_day_of_month(year, month),
            Period::Quarter { year, quarter } => last_day_of_month(year, quarter * 3),
            Period::Year { year } => ymd(year, 12, 31),
        }
    }

    /// How many days the period has.
    pub fn days(&self) -> i64 {
        (self.last_day() - self.first_day()).num_days() + 1
    }

    /// Whether a date falls inside the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first_day() <= date && date <= self.last_day()
    }

    /// The period of the same kind that follows.
    pub fn next(&self) -> Period {
        Period::containing(
            self.kind(),
            self.last_day().succ_opt().unwrap_or(NaiveDate::MAX),
        )
    }

    /// The period of the same kind that precedes.
    pub fn prev(&self) -> Period {
        Period::containing(
            self.kind(),
            self.first_day().pred_opt().unwrap_or(NaiveDate::MIN),
        )
    }

    /// The period's name in Chinese, as shown to users: `2026年11月中旬`.
    pub fn label_zh(&self) -> String {
        match *self {
            Period::Week { year, week } => format!("{year}年第{week}周"),
            Period::TenDay { year, month, part } => {
                let which = ["上旬", "中旬", "下旬"][(part.clamp(1, 3) - 1) as usize];
                format!("{year}年{month}月{which}")
            }
            Period::Month { year, month } => format!("{year}年{month}月"),
            Period::Quarter { year, quarter } => {
                let which = ["一", "二", "三", "四"][(quarter.clamp(1, 4) - 1) as usize];
                format!("{year}年第{which}季度")
            }
            Period::Year { year } => format!("{year}年"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Week { year, week } => write!(f, "{year:04}-W{week:02}"),
            Period::TenDay { year, month, part } => write!(f, "{year:04}-{month:02}-D{part}"),
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Period::Year { year } => write!(f, "{year:04}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Period, PeriodError> {
        let err = || PeriodError::Malformed(s.to_owned());
        let num = |t: &str| -> Result<u32, PeriodError> {
            if t.is_empty() || t.len() > 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            t.parse().map_err(|_| err())
        };
        let mut parts = s.split('-');
        let year_text = parts.next().ok_or_else(err)?;
        if year_text.len() != 4 {
            return Err(err());
        }
        let year = num(year_text)? as i32;
        let second = parts.next();
        let third = parts.next();
        if parts.next().is_some() {
            return Err(err());
        }
        let period = match (second, third) {
            (None, None) => Period::Year { year },
            (Some(w), None) if w.starts_with('W') => {
                let week = num(&w[1..])?;
                NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(err)?;
                Period::Week { year, week }
            }
            (Some(q), None) if q.starts_with('Q') => {
                let quarter = num(&q[1..])?;
                if !(1..=4).contains(&quarter) {
                    return Err(err());
                }
                Period::Quarter { year, quarter }
            }
            (Some(m), rest) => {
                if m.len() != 2 {
                    return Err(err());
                }
                let month = num(m)?;
                if !(1..=12).contains(&month) {
                    return Err(err());
                }
                match rest {
                    None => Period::Month { year, month },
                    Some(d) if d.starts_with('D') => {
                        let part = num(&d[1..])?;
                        if !(1..=3).contains(&part) {
                            return Err(err());
                        }
                        Period::TenDay { year, month, part }
                    }
                    Some(_) => return Err(err()),
                }
            }
            (None, Some(_)) => return Err(err()),
        };
        // The canonical form only: "2026-W1" or "2026-1" are refused, so ids stay unique.
        if period.to_string() != s {
            return Err(err());
        }
        Ok(period)
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    /// Checks the period of each kind containing a date, and its bounds.
    fn check(date: &str, kind: PeriodKind, name: &str, first: &str, last: &str) {
        let p = Period::containing(kind, d(date));
        assert_eq!(p.to_string(), name, "{date} {kind:?}");
        assert_eq!(p.first_day(), d(first), "{name} first");
        assert_eq!(p.last_day(), d(last), "{name} last");
        assert!(p.contains(d(date)));
        assert_eq!(name.parse::<Period>(), Ok(p), "{name} parses");
        assert_eq!(
            p.next().first_day(),
            d(last).succ_opt().expect("date"),
            "{name} next"
        );
        assert_eq!(
            p.prev().last_day(),
            d(first).pred_opt().expect("date"),
            "{name} prev"
        );
    }

    #[test]
    fn weeks() {
        use PeriodKind::Week;
        check("2026-11-21", Week, "2026-W47", "2026-11-16", "2026-11-22");
        // Year end: 31 Dec 2026 is a Thursday, in week 53 of 2026.
        check("2026-12-31", Week, "2026-W53", "2026-12-28", "2027-01-03");
        check("2027-01-03", Week, "2026-W53", "2026-12-28", "2027-01-03");
        check("2027-01-04", Week, "2027-W01", "2027-01-04", "2027-01-10");
        // 1 Jan 2025 (Wednesday) is in week 1 of 2025, which began in 2024.
        check("2025-01-01", Week, "2025-W01", "2024-12-30", "2025-01-05");
        // 29 Feb 2028.
        check("2028-02-29", Week, "2028-W09", "2028-02-28", "2028-03-05");
    }

    #[test]
    fn ten_day_periods() {
        use PeriodKind::TenDay;
        check(
            "2026-11-01",
            TenDay,
            "2026-11-D1",
            "2026-11-01",
            "2026-11-10",
        );
        check(
            "2026-11-10",
            TenDay,
            "2026-11-D1",
            "2026-11-01",
            "2026-11-10",
        );
        check(
            "2026-11-11",
            TenDay,
            "2026-11-D2",
            "2026-11-11",
            "2026-11-20",
        );
        check(
            "2026-11-20",
            TenDay,
            "2026-11-D2",
            "2026-11-11",
            "2026-11-20",
        );
        check(
            "2026-11-21",
            TenDay,
            "2026-11-D3",
            "2026-11-21",
            "2026-11-30",
        );
        check(
            "2026-12-31",
            TenDay,
            "2026-12-D3",
            "2026-12-21",
            "2026-12-31",
        );
        check(
            "2027-02-28",
            TenDay,
            "2027-02-D3",
            "2027-02-21",
            "2027-02-28",
        );
        check(
            "2028-02-29",
            TenDay,
            "2028-02-D3",
            "2028-02-21",
            "2028-02-29",
        );
        assert_eq!(Period::containing(TenDay, d("2028-02-29")).days(), 9);
        assert_eq!(Period::containing(TenDay, d("2026-01-31")).days(), 11);
    }

    #[test]
    fn months_quarters_years() {
        use PeriodKind::*;
        check("2026-11-30", Month, "2026-11", "2026-11-01", "2026-11-30");
        check("2026-01-31", Month, "2026-01", "2026-01-01", "2026-01-31");
        check("2027-02-15", Month, "2027-02", "2027-02-01", "2027-02-28");
        check("2028-02-29", Month, "2028-02", "2028-02-01", "2028-02-29");
        check("2100-02-28", Month, "2100-02", "2100-02-01", "2100-02-28");
        check("2026-12-31", Month, "2026-12", "2026-12-01", "2026-12-31");
        check("2026-03-31", Quarter, "2026-Q1", "2026-01-01", "2026-03-31");
        check("2026-04-01", Quarter, "2026-Q2", "2026-04-01", "2026-06-30");
        check("2026-09-30", Quarter, "2026-Q3", "2026-07-01", "2026-09-30");
        check("2026-12-31", Quarter, "2026-Q4", "2026-10-01", "2026-12-31");
        check("2026-12-31", Year, "2026", "2026-01-01", "2026-12-31");
        check("2028-02-29", Year, "2028", "2028-01-01", "2028-12-31");
        assert_eq!(Period::Year { year: 2028 }.days(), 366);
    }

    #[test]
    fn moments_become_dates_in_the_mines_time_zone() {
        let clock = MineClock::default();
        let ms = |s: &str| {
            s.parse::<DateTime<Utc>>()
                .expect("test instant")
                .timestamp_millis()
        };
        // 16:00 UTC on 31 March is midnight on 1 April in Shanghai.
        assert_eq!(
            clock.date_of_millis(ms("2026-03-31T15:59:59Z")),
            Some(d("2026-03-31"))
        );
        assert_eq!(
            clock.date_of_millis(ms("2026-03-31T16:00:00Z")),
            Some(d("2026-04-01"))
        );
        assert_eq!(
            clock.period_of_millis(PeriodKind::Quarter, ms("2026-03-31T16:00:00Z")),
            Some(Period::Quarter {
                year: 2026,
                quarter: 2
            })
        );
        // New Year's Eve in UTC is already the new year at the mine.
        assert_eq!(
            clock.period_of_millis(PeriodKind::Year, ms("2026-12-31T20:00:00Z")),
            Some(Period::Year { year: 2027 })
        );
        let urumqi = MineClock::named("Asia/Urumqi").expect("known zone");
        assert_eq!(
            urumqi.date_of_millis(ms("2026-03-31T16:00:00Z")),
            Some(d("2026-03-31"))
        );
        assert!(MineClock::named("Mars/Olympus").is_err());
        assert_eq!(clock.date_of_millis(i64::MAX), None);
    }

    #[test]
    fn malformed_periods_are_refused() {
        for text in [
            "",
            "26",
            "2026-",
            "2026-13",
            "2026-00",
            "2026-1",
            "2026-W54",
            "2026-W00",
            "2025-W53",
            "2026-W1",
            "2026-Q5",
            "2026-Q0",
            "2026-11-D4",
            "2026-11-D0",
            "2026-11-X1",
            "2026-11-D1-1",
            "２０２６",
            "-2026",
            "2026-W+1",
        ] {
            let err = text.parse::<Period>().expect_err(text);
            assert!(err.to_string().contains("is not a period"), "{text}");
        }
        // 2026 has 53 ISO weeks.
        assert!("2026-W53".parse::<Period>().is_ok());
    }

    #[test]
    fn chinese_labels() {
        let cases = [
            ("2026-W47", "2026年第47周"),
            ("2026-11-D2", "2026年11月中旬"),
            ("2026-11-D3", "2026年11月下旬"),
            ("2026-11", "2026年11月"),
            ("2026-Q4", "2026年第四季度"),
            ("2026", "2026年"),
        ];
        for (text, label) in cases {
            assert_eq!(text.parse::<Period>().expect(text).label_zh(), label);
        }
    }

    #[test]
    fn serde_uses_the_text_form() {
        let p = Period::TenDay {
            year: 2026,
            month: 2,
            part: 3,
        };
        let json = serde_json::to_string(&p).expect("serialize");
        assert_eq!(json, "\"2026-02-D3\"");
        assert_eq!(
            serde_json::from_str::<Period>(&json).expect("deserialize"),
            p
        );
        assert!(serde_json::from_str::<Period>("\"2026-2\"").is_err());
    }

    #[test]
    fn reported_periods_and_the_months_they_hold() {
        let text = |ps: &[Period]| ps.iter().map(Period::to_string).collect::<Vec<_>>();
        assert_eq!(
            text(&report_periods(d("2026-12-31"))),
            ["2026-W53", "2026-12-D3", "2026-12", "2026-Q4", "2026"]
        );
        let months = |p: &str| text(&months_of(p.parse().expect(p)));
        assert_eq!(months("2026-11"), ["2026-11"]);
        assert_eq!(months("2026-Q4"), ["2026-10", "2026-11", "2026-12"]);
        assert_eq!(months("2026").len(), 12);
        assert_eq!(months("2026").last().map(String::as_str), Some("2026-12"));
        assert!(months("2026-W47").is_empty());
        assert!(months("2026-11-D2").is_empty());
    }
}
