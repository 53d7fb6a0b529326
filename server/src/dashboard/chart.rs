//! Charts as inline SVG: no script, no front-end build, readable on a phone and in print.

use std::fmt::Write;

use maud::{Markup, PreEscaped};

/// One bar: a label, the value in hundredths, a link, and a mark for praised or named.
pub struct Bar {
    /// The zone's name.
    pub label: String,
    /// The score, in hundredths of a point.
    pub value: i64,
    /// The text printed at the bar's end.
    pub text: String,
    /// Where the bar links to.
    pub href: String,
    /// The bar's colour.
    pub tone: Tone,
}

/// A bar's colour: praised, named or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// Neither praised nor named.
    #[default]
    Plain,
    /// Praised in the notice.
    Good,
    /// Named in the notice.
    Bad,
}

impl Tone {
    /// The CSS class that colours it.
    fn class(self) -> &'static str {
        match self {
            Tone::Plain => "",
            Tone::Good => "good",
            Tone::Bad => "bad",
        }
    }
}

/// A trend line's colour: what it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// The final (branch) monthly score.
    Final,
    /// The holder's self-score.
    SelfScore,
    /// The weekly inspection.
    Inspection,
}

impl Line {
    /// The CSS class that colours it.
    fn class(self) -> &'static str {
        match self {
            Line::Final => "final",
            Line::SelfScore => "self",
            Line::Inspection => "insp",
        }
    }
}

fn esc(s: &str) -> String {
    maud::html! { (s) }.into_string()
}

/// A horizontal bar chart, one bar per row, on a 0–100 scale.
pub fn bars(title: &str, bars: &[Bar]) -> Markup {
    let row = 28;
    let label_w = 130;
    let width = 560;
    let plot = width - label_w - 110;
    let height = row * bars.len().max(1) + 10;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"><title>{}</title>"#,
        esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = i * row + 5;
        let w = (b.value.clamp(0, 10_000) as usize * plot) / 10_000;
        let _ = write!(
            svg,
            r#"<a href="{href}"><text x="{lx}" y="{ty}" text-anchor="end" class="label">{label}</text><rect class="bar {tone}" x="{label_w}" y="{y}" width="{w}" height="{bh}" rx="3"><title>{label} {text}</title></rect><text x="{vx}" y="{ty}" class="value">{text}</text></a>"#,
            href = esc(&b.href),
            lx = label_w - 8,
            ty = y + 15,
            label = esc(&b.label),
            tone = b.tone.class(),
            bh = row - 8,
            vx = label_w + w + 6,
            text = esc(&b.text),
        );
    }
    svg.push_str("</svg>");
    PreEscaped(svg)
}

/// A line of a trend: its name, colour and one optional value per column.
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// Its colour.
    pub line: Line,
    /// Values in hundredths, one per column.
    pub values: Vec<Option<i64>>,
}

/// A line chart over columns (months), scaled to the values shown.
pub fn lines(title: &str, columns: &[String], series: &[Series]) -> Markup {
    let (width, height, left, top, bottom) = (600usize, 240usize, 40usize, 16usize, 36usize);
    let all: Vec<i64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .collect();
    let lo = all.iter().copied().min().unwrap_or(6_000).min(8_000) / 1_000 * 1_000;
    let hi = 10_000i64;
    let plot_h = (height - top - bottom) as i64;
    let step = (width - left - 10) / columns.len().max(1);
    let y = |v: i64| top as i64 + (hi - v.clamp(lo, hi)) * plot_h / (hi - lo).max(1);
    let x = |i: usize| left + step * i + step / 2;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%"><title>{}</title>"#,
        esc(title)
    );
    let mut tick = lo;
    while tick <= hi {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{yy}" y2="{yy}"/><text class="axis" x="{}" y="{}" text-anchor="end">{}</text>"#,
            width - 10,
            left - 4,
            y(tick) + 4,
            tick / 100,
            yy = y(tick),
        );
        tick += 1_000;
    }
    for (i, c) in columns.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x(i),
            height - bottom + 16,
            esc(c)
        );
    }
    for (n, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{},{}", x(i), y(v))))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="line {}" fill="none" points="{}"/>"#,
            s.line.class(),
            points.join(" ")
        );
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    svg,
                    r#"<circle class="dot {}" cx="{}" cy="{}" r="4"><title>{} {} {}</title></circle>"#,
                    s.line.class(),
                    x(i),
                    y(*v),
                    esc(&s.name),
                    esc(&columns[i]),
                    zonepatrol_shared::Points(*v)
                );
            }
        }
        let _ = write!(
            svg,
            r#"<rect class="dot {}" x="{}" y="{}" width="10" height="10"/><text class="axis" x="{}" y="{}">{}</text>"#,
            s.line.class(),
            left + 10 + n * 120,
            height - 14,
            left + 24 + n * 120,
            height - 5,
            esc(&s.name)
        );
    }
    svg.push_str("</svg>");
    PreEscaped(svg)
}
