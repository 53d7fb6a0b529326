//! What people type, tidied once for the console's forms and the workbook import alike: a
//! name copied from a document keeps no stray or full-width spaces, and a code typed on a
//! Chinese keyboard keeps no full-width digits or letters.

use zonepatrol_shared::BranchCategory;
use zonepatrol_shared::labels::{Lang, category_label};

/// Text with its spaces tidied and full-width letters, digits and signs (a Chinese keyboard's
/// "综采１班") made half-width, so that the same name typed twice is the same: no space before
/// or after, one between words, the ideographic space (U+3000), no-break spaces and tabs
/// counted as spaces, line breaks and other control characters dropped.
pub fn tidy(s: &str) -> String {
    let spaced: String = s
        .chars()
        .filter_map(|c| match c {
            c if c.is_whitespace() => Some(' '),
            c if c.is_control() => None,
            // Zero-width spaces and joiners, and the byte-order mark, as pasted from the web.
            '\u{200b}'..='\u{200d}' | '\u{feff}' => None,
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0),
            c => Some(c),
        })
        .collect();
    spaced
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The same as [`tidy`]: for codes and numbers, where the half-width matters most.
pub fn half_width(s: &str) -> String {
    tidy(s)
}

/// A login name or code as typed: half-width, and no spaces inside.
pub fn code(s: &str) -> String {
    half_width(s).replace(' ', "")
}

/// A branch category from what a person types: 1–4 (full-width too), or its Chinese name.
pub fn category(s: &str) -> Option<BranchCategory> {
    let s = half_width(s);
    let named = BranchCategory::ALL.into_iter().find(|c| {
        [Lang::Zh, Lang::En]
            .iter()
            .any(|lang| category_label(*lang, *c).eq_ignore_ascii_case(&s))
    });
    if named.is_some() {
        return named;
    }
    let n: u8 = s.trim_end_matches('类').parse().ok()?;
    BranchCategory::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_are_tidied() {
        assert_eq!(tidy("  三水平\u{3000}上车场 \t "), "三水平 上车场");
        assert_eq!(tidy("a\u{200b}b\nc"), "ab c");
        assert_eq!(tidy("\u{3000}"), "");
    }

    #[test]
    fn full_width_becomes_half_width() {
        assert_eq!(half_width("ＺＨ１２"), "ZH12");
        assert_eq!(code(" li ming\u{3000}"), "liming");
        assert_eq!(code("ｗａｎｇ．ｗｅｉ"), "wang.wei");
    }

    #[test]
    fn categories_by_number_or_name() {
        assert_eq!(category("１"), Some(BranchCategory::MainProduction));
        assert_eq!(category(" 3 "), Some(BranchCategory::Service));
        assert_eq!(category("4类"), Some(BranchCategory::Offices));
        assert_eq!(
            category("辅助生产"),
            Some(BranchCategory::AuxiliaryProduction)
        );
        assert_eq!(category("5"), None);
        assert_eq!(category("矿山"), None);
    }
}
