//! Marks drawn on a photo of a problem: circles, arrows and short labels, kept as a vector
//! overlay beside the photo, never burnt into it. Positions are in thousandths of the photo's
//! width and height, so the marks sit on the same spot of the photo at any size; the photo's
//! size in pixels, kept with its reference, gives the overlay its shape.
//!
//! [`overlay_svg`] draws them, the one drawing the phone, the dashboard and the exports show.

use std::collections::BTreeMap;
use std::fmt::Write;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// Positions run from 0 to this along each side of the photo.
pub const SCALE: u16 = 1000;
/// At most this many marks on one photo.
pub const MARKS_PER_PHOTO: usize = 20;
/// A label has at most this many characters.
pub const LABEL_CHARS: usize = 20;

/// The marks on a photo by key; drawn in key order, so keys are zero-padded numbers in the
/// order the marks were made ([`mark_key`]).
pub type Marks = BTreeMap<String, PhotoMark>;

/// What a mark is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, Reconcile, Hydrate,
)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// An ellipse inside the box from one corner to the other.
    #[default]
    Circle,
    /// An arrow from the first point to the second, which it points at.
    Arrow,
    /// Words written at the first point (the second is not used).
    Label,
}

/// One mark on a photo.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct PhotoMark {
    /// What it is.
    pub kind: MarkKind,
    /// The first point, across (0 = left edge, [`SCALE`] = right edge).
    pub x1: u16,
    /// The first point, down (0 = top edge, [`SCALE`] = bottom edge).
    pub y1: u16,
    /// The second point, across.
    pub x2: u16,
    /// The second point, down.
    pub y2: u16,
    /// A label's words (empty for the other kinds).
    pub text: String,
}

impl PhotoMark {
    /// A mark of `kind` from one point to another (across, down), with a label's words.
    pub fn new(kind: MarkKind, (x1, y1): (u16, u16), (x2, y2): (u16, u16), text: &str) -> Self {
        PhotoMark {
            kind,
            x1,
            y1,
            x2,
            y2,
            text: text.to_owned(),
        }
    }
}

/// The key of the `n`th mark made (from 0): zero-padded so that keys sort in order.
pub fn mark_key(n: usize) -> String {
    format!("{n:02}")
}

/// Marks in the order given, keyed by [`mark_key`].
pub fn keyed(marks: impl IntoIterator<Item = PhotoMark>) -> Marks {
    marks
        .into_iter()
        .enumerate()
        .map(|(n, m)| (mark_key(n), m))
        .collect()
}

/// What is wrong with a photo's marks, in words a person can act on, if anything.
pub fn marks_problem(marks: &Marks) -> Option<String> {
    if marks.len() > MARKS_PER_PHOTO {
        return Some(format!(
            "at most {MARKS_PER_PHOTO} marks on one photo, and there are {}: remove some",
            marks.len()
        ));
    }
    for m in marks.values() {
        if [m.x1, m.y1, m.x2, m.y2].iter().any(|&v| v > SCALE) {
            return Some("a mark lies outside its photo: draw it again".to_owned());
        }
        match m.kind {
            MarkKind::Label if m.text.trim().is_empty() => {
                return Some("a label needs its words: type them or remove the label".to_owned());
            }
            MarkKind::Label if m.text.chars().nth(LABEL_CHARS).is_some() => {
                return Some(format!(
                    "a label has at most {LABEL_CHARS} characters: shorten it"
                ));
            }
            MarkKind::Circle | MarkKind::Arrow if !m.text.is_empty() => {
                return Some("only a label carries words".to_owned());
            }
            _ => {}
        }
    }
    None
}

/// The overlay's height when its width is [`SCALE`]: the photo's shape, or square when its
/// size is not known.
fn frame_height(width: u32, height: u32) -> f64 {
    if width == 0 || height == 0 {
        f64::from(SCALE)
    } else {
        // Kept within reason: a photo 50 times longer than wide is not a photo.
        (f64::from(SCALE) * f64::from(height) / f64::from(width)).clamp(20.0, 50_000.0)
    }
}

/// How a page fits a photo into its box, which the overlay laid over it must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Cropped to fill the box (`object-fit: cover`, a square thumbnail), or a box of the
    /// photo's own shape.
    Cover,
    /// Shown whole inside the box (`object-fit: contain`), bands beside or above it.
    Contain,
}

/// The marks as an `<svg>` element that covers the photo it is laid over (the page sizes it
/// like the photo's box; `class` names it for the page's style). Each mark is drawn twice, dark
/// and wide under bright and narrow, so it shows on a dark roadway and on a whitewashed wall.
/// Empty when there are no marks.
pub fn overlay_svg(marks: &Marks, width: u32, height: u32, class: &str) -> String {
    overlay_svg_fit(marks, width, height, class, Fit::Cover)
}

/// The same, for a photo fitted into its box as `fit` says.
pub fn overlay_svg_fit(marks: &Marks, width: u32, height: u32, class: &str, fit: Fit) -> String {
    if marks.is_empty() {
        return String::new();
    }
    let w = f64::from(SCALE);
    let h = frame_height(width, height);
    let sx = |v: u16| f64::from(v.min(SCALE));
    let sy = |v: u16| f64::from(v.min(SCALE)) * h / w;
    let mut out = String::new();
    // Of the photo's shape, the overlay is cropped like a photo shown as `object-fit: cover`
    // (a square thumbnail) and fits one shown whole; of an unknown shape, it is stretched.
    let fit = match fit {
        _ if width == 0 || height == 0 => "none",
        Fit::Cover => "xMidYMid slice",
        Fit::Contain => "xMidYMid meet",
    };
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{}\" viewBox=\"0 0 {w} {h:.0}\" \
         preserveAspectRatio=\"{fit}\" aria-hidden=\"true\">",
        escape(class)
    );
    for m in marks.values().take(MARKS_PER_PHOTO) {
        let (x1, y1, x2, y2) = (sx(m.x1), sy(m.y1), sx(m.x2), sy(m.y2));
        let shape = match m.kind {
            MarkKind::Circle => format!(
                "<ellipse cx=\"{:.0}\" cy=\"{:.0}\" rx=\"{:.0}\" ry=\"{:.0}\" fill=\"none\"/>",
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0,
                ((x2 - x1).abs() / 2.0).max(4.0),
                ((y2 - y1).abs() / 2.0).max(4.0)
            ),
            MarkKind::Arrow => {
                let (head_a, head_b) = arrow_head(x1, y1, x2, y2);
                format!(
                    "<path d=\"M{x1:.0} {y1:.0} L{x2:.0} {y2:.0} M{:.0} {:.0} L{x2:.0} {y2:.0} \
                     L{:.0} {:.0}\" fill=\"none\"/>",
                    head_a.0, head_a.1, head_b.0, head_b.1
                )
            }
            MarkKind::Label => {
                let text: String = m.text.chars().take(LABEL_CHARS).collect();
                format!(
                    "<text x=\"{x1:.0}\" y=\"{y1:.0}\" font-size=\"56\" font-weight=\"bold\" \
                     dominant-baseline=\"middle\">{}</text>",
                    escape(&text)
                )
            }
        };
        // The dark outline under the bright line.
        let _ = write!(
            out,
            "<g stroke=\"#000\" stroke-width=\"{o}\" stroke-linecap=\"round\" \
             stroke-linejoin=\"round\" fill-opacity=\"0\" opacity=\"0.7\">{shape}</g>\
             <g stroke=\"#ffd400\" stroke-width=\"{i}\" stroke-linecap=\"round\" \
             stroke-linejoin=\"round\" fill=\"#ffd400\">{shape}</g>",
            o = if m.kind == MarkKind::Label { 14 } else { 20 },
            i = if m.kind == MarkKind::Label { 0 } else { 9 },
        );
    }
    out.push_str("</svg>");
    out
}

/// The two ends of an arrow's head at (x2, y2), coming from (x1, y1).
fn arrow_head(x1: f64, y1: f64, x2: f64, y2: f64) -> ((f64, f64), (f64, f64)) {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let size = (len * 0.35).clamp(20.0, 70.0);
    // Back along the shaft and out to each side, about 30° either way.
    let (bx, by) = (x2 - ux * size, y2 - uy * size);
    let (px, py) = (-uy * size * 0.6, ux * size * 0.6);
    ((bx + px, by + py), (bx - px, by - py))
}

/// Whether XML may hold a character at all (control characters and the two non-characters
/// U+FFFE and U+FFFF may not: one of them would make a whole SVG file unreadable).
pub fn xml_char(c: char) -> bool {
    !(c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
}

/// Text made safe inside SVG and HTML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if !xml_char(c) => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(kind: MarkKind, x1: u16, y1: u16, x2: u16, y2: u16, text: &str) -> PhotoMark {
        PhotoMark::new(kind, (x1, y1), (x2, y2), text)
    }

    #[test]
    fn keys_sort_in_the_order_marks_were_made() {
        let marks = keyed((0..12).map(|i| mark(MarkKind::Circle, i, 0, 10, 10, "")));
        let xs: Vec<u16> = marks.values().map(|m| m.x1).collect();
        assert_eq!(xs, (0..12).collect::<Vec<u16>>());
    }

    #[test]
    fn marks_are_judged_in_words() {
        let ok = keyed([
            mark(MarkKind::Circle, 100, 100, 300, 250, ""),
            mark(MarkKind::Arrow, 0, 0, 1000, 1000, ""),
            mark(MarkKind::Label, 500, 500, 0, 0, "漏风点"),
        ]);
        assert_eq!(marks_problem(&ok), None);
        let outside = keyed([mark(MarkKind::Circle, 100, 100, 1001, 250, "")]);
        assert!(marks_problem(&outside).is_some_and(|p| p.contains("outside")));
        let empty_label = keyed([mark(MarkKind::Label, 1, 1, 0, 0, "  ")]);
        assert!(marks_problem(&empty_label).is_some_and(|p| p.contains("words")));
        let long = keyed([mark(MarkKind::Label, 1, 1, 0, 0, &"字".repeat(21))]);
        assert!(marks_problem(&long).is_some_and(|p| p.contains("20")));
        let words_on_circle = keyed([mark(MarkKind::Circle, 1, 1, 2, 2, "x")]);
        assert!(marks_problem(&words_on_circle).is_some());
        let many = keyed((0..21).map(|_| mark(MarkKind::Circle, 1, 1, 2, 2, "")));
        assert!(marks_problem(&many).is_some_and(|p| p.contains("at most 20")));
    }

    #[test]
    fn the_overlay_takes_the_photos_shape_and_escapes_words() {
        let marks = keyed([
            mark(MarkKind::Circle, 100, 100, 300, 300, ""),
            mark(MarkKind::Arrow, 0, 0, 500, 500, ""),
            mark(MarkKind::Label, 500, 500, 0, 0, "<b>漏\"点"),
        ]);
        let svg = overlay_svg(&marks, 4000, 3000, "marks");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("viewBox=\"0 0 1000 750\""), "{svg}");
        // A circle in a quarter-height photo: the box 100–300 down is 75–225 of 750.
        assert!(
            svg.contains("cx=\"200\" cy=\"150\" rx=\"100\" ry=\"75\""),
            "{svg}"
        );
        assert!(svg.contains("&lt;b&gt;漏&quot;点"), "{svg}");
        let odd = keyed([mark(MarkKind::Label, 1, 1, 0, 0, "漏\u{FFFF}点\u{7}")]);
        assert!(overlay_svg(&odd, 10, 10, "m").contains(">漏点<"));
        assert!(
            overlay_svg_fit(&marks, 4000, 3000, "m", Fit::Contain)
                .contains("preserveAspectRatio=\"xMidYMid meet\"")
        );
        assert!(!svg.contains("<b>"));
        assert_eq!(svg.matches("<ellipse").count(), 2, "outline and line");
        assert_eq!(overlay_svg(&Marks::new(), 4000, 3000, "marks"), "");
        // An unknown size draws square rather than failing.
        assert!(overlay_svg(&marks, 0, 0, "m").contains("viewBox=\"0 0 1000 1000\""));
    }

    #[test]
    fn an_arrow_head_points_back_along_the_shaft() {
        let ((ax, ay), (bx, by)) = arrow_head(0.0, 0.0, 100.0, 0.0);
        assert!(ax < 100.0 && bx < 100.0);
        assert!((ay + by).abs() < 1e-9 && ay.abs() > 1.0);
    }
}
