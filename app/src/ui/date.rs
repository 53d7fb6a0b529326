//! The date field every form uses: the date written as the Chinese reader expects
//! (2026-12-03, with the weekday), whatever the phone's locale — a platform date input shows
//! 12/03/2026 on an English system — with large buttons a gloved finger can hit: a day earlier,
//! a day later, and quick picks counted from today ("+3天"). Typing works too, in the usual
//! ways of writing a date (2026-12-03, 2026/12/3, 2026.12.03, 20261203).

use chrono::{Days, NaiveDate};
use dioxus::prelude::*;
use zonepatrol_shared::labels::weekday_label;

use crate::i18n::{Lang, T, tr};

/// A date as people type it: `2026-12-03`, `2026/12/3`, `2026.12.03`, `2026年12月3日` or
/// `20261203`; `None` for anything else.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(text, "%Y%m%d").ok();
    }
    let parts: Vec<&str> = text
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    match parts[..] {
        // A year of four digits: "26-12-03" is not taken for the year 26.
        [y, m, d] if y.trim().len() == 4 => NaiveDate::from_ymd_opt(
            y.trim().parse().ok()?,
            m.trim().parse().ok()?,
            d.trim().parse().ok()?,
        ),
        _ => None,
    }
}

/// A date as the product writes it: `2026-12-03`.
pub fn date_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A date field. `value` is the text the form holds; every change (typed, stepped or picked)
/// is given to `on_change` as text, which the form reads with [`parse_date`].
#[component]
pub fn DateField(
    lang: Lang,
    /// The input's id, for its label.
    id: String,
    value: String,
    /// Today at the mine: quick picks count from it, and an empty field steps from it.
    #[props(default)]
    today: Option<NaiveDate>,
    /// Quick picks, in days after today (`0` is today).
    #[props(default)]
    picks: Vec<u64>,
    /// The earliest date the field offers (steps and picks stop there).
    #[props(default)]
    min: Option<NaiveDate>,
    /// The latest date the field offers.
    #[props(default)]
    max: Option<NaiveDate>,
    #[props(default)] testid: String,
    on_change: EventHandler<String>,
) -> Element {
    let parsed = parse_date(&value);
    let within = |d: &NaiveDate| min.is_none_or(|m| *d >= m) && max.is_none_or(|m| *d <= m);
    // An empty field steps to today (or the earliest date); a date steps a day either way,
    // within the bounds (a date before the earliest steps up to it).
    let start = today.or(min).map(|d| min.map_or(d, |m| d.max(m)));
    let (earlier, later) = match parsed {
        Some(d) => (
            d.checked_sub_days(Days::new(1)).filter(within),
            d.checked_add_days(Days::new(1))
                .map(|n| min.map_or(n, |m| n.max(m)))
                .filter(within),
        ),
        None => (start.filter(within), start.filter(within)),
    };
    let too_early = matches!((parsed, min), (Some(d), Some(m)) if d < m);
    let too_late = matches!((parsed, max), (Some(d), Some(m)) if d > m);
    let bounds = || {
        let mut said = Vec::new();
        if let Some(m) = min {
            said.push(format!("{} {}", tr(lang, T::Earliest), date_text(m)));
        }
        if let Some(m) = max {
            said.push(format!("{} {}", tr(lang, T::Latest), date_text(m)));
        }
        said.join(" · ")
    };
    let hint = match parsed {
        Some(_) if too_early || too_late => bounds(),
        // The date as read, so that a date typed another way shows how it was taken.
        Some(d) => format!("{} {}", date_text(d), weekday_label(lang, d)),
        None if value.trim().is_empty() => bounds(),
        None => tr(lang, T::DateFormat).to_owned(),
    };
    let wrong = too_early || too_late || (parsed.is_none() && !value.trim().is_empty());
    let testid = if testid.is_empty() {
        id.clone()
    } else {
        testid
    };
    rsx! {
        div { class: "date-field",
            button { class: "step", r#type: "button", "aria-label": tr(lang, T::DayEarlier),
                "data-testid": "{testid}-earlier",
                disabled: earlier.is_none(),
                onclick: move |_| if let Some(d) = earlier { on_change.call(date_text(d)) },
                "−"
            }
            input { id: "{id}", "data-testid": "{testid}", r#type: "text", inputmode: "numeric",
                autocomplete: "off", placeholder: "2026-12-03", maxlength: "20", value: "{value}",
                oninput: move |e| on_change.call(e.value()) }
            button { class: "step", r#type: "button", "aria-label": tr(lang, T::DayLater),
                "data-testid": "{testid}-later",
                disabled: later.is_none(),
                onclick: move |_| if let Some(d) = later { on_change.call(date_text(d)) },
                "+"
            }
        }
        p { class: if wrong { "error" } else { "dim" },
            "data-testid": "{testid}-hint", "{hint}" }
        if let (Some(today), false) = (today, picks.is_empty()) {
            div { class: "choices",
                for n in picks {
                    if let Some(d) = today.checked_add_days(Days::new(n)).filter(within) {
                        button { key: "{n}", class: "choice", r#type: "button",
                            "aria-pressed": "{parsed == Some(d)}",
                            onclick: move |_| on_change.call(date_text(d)),
                            if n == 0 { {tr(lang, T::Today)} } else { "+{n}{tr(lang, T::DaysShort)}" }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_people_type_them() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3);
        for text in [
            "2026-12-03",
            " 2026/12/3 ",
            "2026.12.03",
            "2026年12月3日",
            "20261203",
        ] {
            assert_eq!(parse_date(text), day, "{text}");
        }
        for text in [
            "",
            "12/03",
            "26-12-03",
            "2026-13-01",
            "2026-02-30",
            "tomorrow",
            "2026-12-03-04",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        assert_eq!(date_text(day.expect("a day")), "2026-12-03");
        assert_eq!(weekday_label(Lang::Zh, day.expect("a day")), "周四");
    }
}
