//! The labels room: the dashboard's language and how things are shown in it (scores, money,
//! grades). The names of domain values (periods, grades, problem statuses) come from
//! [`zonepatrol_shared::labels`], so the dashboard and the app say the same thing.

use zonepatrol_shared::Points;
use zonepatrol_shared::labels::grade_label;
pub use zonepatrol_shared::labels::{Lang, period_label, problem_status_label, severity_label};
use zonepatrol_shared::rules::Grade;

/// The text in the language.
pub fn l(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    lang.pick(zh, en)
}

/// A branch's grade, or a dash without one.
pub(super) fn show_grade(lang: Lang, grade: Option<Grade>) -> &'static str {
    grade.map_or("—", |g| grade_label(lang, g))
}

pub(super) fn show(p: Option<Points>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| p.to_string())
}

pub(super) fn money_class(fen: i64) -> &'static str {
    match fen {
        f if f > 0 => "money plus",
        f if f < 0 => "money minus",
        _ => "money",
    }
}
