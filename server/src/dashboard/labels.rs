//! The labels room: the dashboard's language and how things are shown in it (periods, grades,
//! scores, money).

use zonepatrol_shared::Points;
use zonepatrol_shared::rules::period::Period;

/// The dashboard's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文, the default.
    Zh,
    /// English.
    En,
}

/// The text in the language.
pub fn l(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

pub(super) fn period_label(lang: Lang, p: Period) -> String {
    match lang {
        Lang::Zh => p.label_zh(),
        Lang::En => match p {
            Period::Week { year, week } => format!("week {week} of {year}"),
            Period::Month { .. } => p.first_day().format("%B %Y").to_string(),
            Period::Quarter { year, quarter } => format!("Q{quarter} {year}"),
            Period::Year { year } => year.to_string(),
            Period::TenDay { .. } => p.to_string(),
        },
    }
}

pub(super) fn grade_label(lang: Lang, grade: &str) -> &'static str {
    match grade {
        "excellent" => l(lang, "优秀", "excellent"),
        "pass" => l(lang, "合格", "pass"),
        "fail" => l(lang, "不合格", "fail"),
        _ => "—",
    }
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
