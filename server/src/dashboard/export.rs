//! Exports a manager would otherwise type by hand: the monthly ledger and the weekly notice
//! as Excel workbooks, and a zone's placard as a printable SVG page; and the handlers that
//! answer their downloads (`/dash/export/…`, `/dash/placard/…`).

use std::sync::Arc;

use axum::extract::{Path, State as Shared};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qrcode::QrCode;
use qrcode::render::svg;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use zonepatrol_shared::docs::{PhotoRef, PostStatus};
use zonepatrol_shared::labels::post_status_label;
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Fen, Points};

use super::labels::{Lang, l, period_label};
use super::layout::fail;
use super::pages::branch_page;
use super::session::Viewer;
use super::views::{Ledger, Notice, Placard, branch_name, holders, ledger, notice};
use crate::State;
use crate::consolidate::Consolidator;

fn pts(p: Option<Points>) -> Option<f64> {
    p.map(|p| p.0 as f64 / 100.0)
}

/// The row of column headings in both workbooks (under the title and a blank row).
const HEADINGS_ROW: u32 = 2;

/// Printing as a manager would set it up by hand: A4, one page wide, the column headings
/// repeated on every page, the page number in the footer; the headings frozen on screen.
fn page_setup(ws: &mut Worksheet, lang: Lang, landscape: bool) -> Result<(), XlsxError> {
    const A4: u8 = 9;
    ws.set_paper_size(A4);
    if landscape {
        ws.set_landscape();
    }
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_repeat_rows(HEADINGS_ROW, HEADINGS_ROW)?;
    ws.set_footer(l(lang, "&C第 &P 页，共 &N 页", "&CPage &P of &N"));
    ws.set_freeze_panes(HEADINGS_ROW + 1, 0)?;
    Ok(())
}

/// The group overview: one row per mine for a period, numbers as numbers (Excel sums them).
pub(crate) fn group_xlsx(
    lines: &[(&crate::group::Mine, super::pages::group::MineLine)],
    period_label: &str,
    lang: Lang,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(l(lang, "集团总览", "Group overview"))?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_border(rust_xlsxwriter::FormatBorder::Thin)
        .set_text_wrap();
    let num = Format::new()
        .set_num_format("0.00")
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let whole = Format::new()
        .set_num_format("0")
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let text = Format::new().set_border(rust_xlsxwriter::FormatBorder::Thin);
    ws.write_string_with_format(
        0,
        0,
        format!("{} · {period_label}", l(lang, "集团总览", "Group overview")),
        &title,
    )?;
    let headings = [
        l(lang, "矿", "Mine"),
        l(lang, "支部", "Branches"),
        l(lang, "有成绩的支部", "Branches scored"),
        l(lang, "平均得分", "Mean score"),
        zonepatrol_shared::labels::grade_label(lang, zonepatrol_shared::rules::Grade::Excellent),
        zonepatrol_shared::labels::grade_label(lang, zonepatrol_shared::rules::Grade::Pass),
        zonepatrol_shared::labels::grade_label(lang, zonepatrol_shared::rules::Grade::Fail),
        l(lang, "有成绩的责任区", "Zones scored"),
        l(lang, "奖罚（元）", "Bonus / penalty (yuan)"),
        l(lang, "未整改问题", "Open problems"),
        l(lang, "其中超期", "Of them overdue"),
    ];
    for (c, h) in (0u16..).zip(headings) {
        ws.write_string_with_format(HEADINGS_ROW, c, h, &head)?;
    }
    let mut row = HEADINGS_ROW + 1;
    for (mine, line) in lines {
        ws.write_string_with_format(row, 0, &mine.name, &text)?;
        if !line.ready {
            ws.write_string_with_format(
                row,
                1,
                l(lang, "暂时无法读取", "cannot be read just now"),
                &text,
            )?;
            row += 1;
            continue;
        }
        let counts = [
            (1, line.branches as f64),
            (2, line.scored as f64),
            (4, line.grades[0] as f64),
            (5, line.grades[1] as f64),
            (6, line.grades[2] as f64),
            (7, line.zones as f64),
            (9, line.open as f64),
            (10, line.overdue as f64),
        ];
        for (c, n) in counts {
            ws.write_number_with_format(row, c, n, &whole)?;
        }
        match pts(line.score) {
            Some(score) => ws.write_number_with_format(row, 3, score, &num)?,
            None => ws.write_string_with_format(row, 3, "—", &text)?,
        };
        ws.write_number_with_format(row, 8, line.money_fen as f64 / 100.0, &num)?;
        row += 1;
    }
    ws.set_column_width(0, 16)?;
    ws.set_column_range_width(1, 10, 11)?;
    page_setup(ws, lang, true)?;
    wb.save_to_buffer()
}

/// The monthly ledger (责任区月度考评台账): one row per zone, self vs branch vs final and the
/// money, with totals. Numbers are numbers, so Excel sums and sorts them.
pub fn ledger_xlsx(ledger: &Ledger, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(l(lang, "月度考评台账", "Monthly ledger"))?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_align(FormatAlign::Center)
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let num = Format::new()
        .set_num_format("0.00")
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let text = Format::new().set_border(rust_xlsxwriter::FormatBorder::Thin);
    let bold_num = num.clone().set_bold();
    ws.write_string_with_format(
        0,
        0,
        format!(
            "{} · {} · {}",
            ledger.branch_name,
            ledger.month_label,
            l(lang, "责任区月度考评台账", "monthly zone assessment ledger")
        ),
        &title,
    )?;
    let headers = [
        l(lang, "名次", "Rank"),
        l(lang, "责任区", "Zone"),
        l(lang, "责任人", "Holders"),
        l(lang, "自评分", "Self-score"),
        l(lang, "支部评分（最终）", "Branch score (final)"),
        l(lang, "差值", "Difference"),
        l(lang, "奖罚（元）", "Bonus / penalty (yuan)"),
        l(lang, "月自查", "Monthly self-check"),
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(HEADINGS_ROW, c as u16, *h, &head)?;
    }
    let mut row = HEADINGS_ROW + 1;
    for r in &ledger.rows {
        if r.rank > 0 {
            ws.write_number_with_format(row, 0, r.rank as f64, &text)?;
        } else {
            ws.write_string_with_format(row, 0, "", &text)?;
        }
        ws.write_string_with_format(row, 1, &r.zone, &text)?;
        ws.write_string_with_format(row, 2, &r.holders, &text)?;
        for (c, v) in [
            (3u16, pts(r.self_score)),
            (4, pts(r.final_score)),
            (5, r.difference().and_then(|d| pts(Some(d)))),
        ] {
            match v {
                Some(v) => ws.write_number_with_format(row, c, v, &num)?,
                None => ws.write_string_with_format(row, c, "", &text)?,
            };
        }
        ws.write_number_with_format(row, 6, r.money_fen as f64 / 100.0, &num)?;
        match pts(r.self_check) {
            Some(v) => ws.write_number_with_format(row, 7, v, &num)?,
            None => ws.write_string_with_format(row, 7, "", &text)?,
        };
        row += 1;
    }
    ws.write_string_with_format(row, 1, l(lang, "合计", "Total"), &head)?;
    ws.write_number_with_format(row, 6, ledger.total_fen() as f64 / 100.0, &bold_num)?;
    row += 2;
    let branch = match ledger.branch_score {
        Some(s) => format!(
            "{} {} · {} · {}",
            l(lang, "支部得分", "Branch score"),
            s,
            ledger.grade_label,
            ledger.rank_label
        ),
        None => l(lang, "支部得分：暂无", "Branch score: none yet").to_owned(),
    };
    ws.write_string(row, 0, branch)?;
    if let Some(q) = &ledger.composite {
        row += 1;
        ws.write_string(row, 0, q)?;
    }
    if let Some(p) = &ledger.published {
        ws.write_string(row + 1, 0, p)?;
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 22)?;
    ws.set_column_width(2, 18)?;
    for c in 3..=7 {
        ws.set_column_width(c, 16)?;
    }
    page_setup(ws, lang, true)?;

    // The member ledger (党员业绩考核台帐): one row per member, what their zones paid them.
    let ws = wb.add_worksheet();
    ws.set_name(l(lang, "党员业绩考核台帐", "Money per member"))?;
    ws.write_string_with_format(
        0,
        0,
        format!(
            "{} · {} · {}",
            ledger.branch_name,
            ledger.month_label,
            l(lang, "党员业绩考核台帐", "money per member")
        ),
        &title,
    )?;
    let headers = [
        l(lang, "序号", "No."),
        l(lang, "党员", "Member"),
        l(
            lang,
            "责任区 · 最终得分 · 所得",
            "Zones · final score · their part",
        ),
        l(lang, "奖罚（元）", "Bonus / penalty (yuan)"),
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(HEADINGS_ROW, c as u16, *h, &head)?;
    }
    let mut row = HEADINGS_ROW + 1;
    for (n, m) in ledger.members.iter().enumerate() {
        ws.write_number_with_format(row, 0, (n + 1) as f64, &text)?;
        ws.write_string_with_format(row, 1, &m.name, &text)?;
        ws.write_string_with_format(row, 2, m.zones_label(), &text)?;
        ws.write_number_with_format(row, 3, m.money_fen as f64 / 100.0, &num)?;
        row += 1;
    }
    ws.write_string_with_format(row, 1, l(lang, "合计", "Total"), &head)?;
    let paid: i64 = ledger.members.iter().map(|m| m.money_fen).sum();
    ws.write_number_with_format(row, 3, paid as f64 / 100.0, &bold_num)?;
    if ledger.unassigned_fen() != 0 {
        ws.write_string(
            row + 2,
            0,
            format!(
                "{} {}",
                l(
                    lang,
                    "没有责任人的责任区的奖罚（元）：",
                    "Money of zones without a holder (yuan):"
                ),
                yuan(ledger.unassigned_fen())
            ),
        )?;
    }
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 14)?;
    ws.set_column_width(2, 48)?;
    ws.set_column_width(3, 18)?;
    page_setup(ws, lang, false)?;
    wb.save_to_buffer()
}

/// The weekly notice (周检查通报): the ranking, then who is praised and who is named.
pub fn notice_xlsx(notice: &Notice, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let what = if notice.supervision {
        (
            l(lang, "旬督导通报", "Ten-day notice"),
            l(lang, "旬督导通报", "ten-day supervision notice"),
        )
    } else {
        (
            l(lang, "周检查通报", "Weekly notice"),
            l(lang, "周检查通报", "weekly inspection notice"),
        )
    };
    ws.set_name(what.0)?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let num = Format::new()
        .set_num_format("0.00")
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let text = Format::new().set_border(rust_xlsxwriter::FormatBorder::Thin);
    ws.write_string_with_format(
        0,
        0,
        format!(
            "{} · {} · {}",
            notice.branch_name, notice.week_label, what.1
        ),
        &title,
    )?;
    let headers = [
        l(lang, "名次", "Rank"),
        l(lang, "责任区", "Zone"),
        l(lang, "检查得分", "Inspection score"),
        l(lang, "评分表数", "Sheets"),
        l(lang, "通报", "Notice"),
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(HEADINGS_ROW, c as u16, *h, &head)?;
    }
    let mut row = HEADINGS_ROW + 1;
    for r in &notice.rows {
        if r.rank > 0 {
            ws.write_number_with_format(row, 0, r.rank as f64, &text)?;
        } else {
            ws.write_string_with_format(row, 0, "", &text)?;
        }
        ws.write_string_with_format(row, 1, &r.zone, &text)?;
        match pts(r.score) {
            Some(v) => ws.write_number_with_format(row, 2, v, &num)?,
            None => {
                ws.write_string_with_format(row, 2, l(lang, "未检查", "not inspected"), &text)?
            }
        };
        ws.write_number_with_format(row, 3, r.sheets as f64, &text)?;
        ws.write_string_with_format(row, 4, r.standing(lang), &text)?;
        row += 1;
    }
    row += 1;
    ws.write_string(
        row,
        0,
        format!(
            "{}：{}",
            l(lang, "表扬", "Praised"),
            notice.praised().join("、")
        ),
    )?;
    ws.write_string(
        row + 1,
        0,
        format!(
            "{}：{}",
            l(lang, "批评", "Named"),
            notice.named().join("、")
        ),
    )?;
    ws.write_string(
        row + 2,
        0,
        l(
            lang,
            "检查得分为各检查人员得分的平均分（5人及以上去掉一个最高分和一个最低分）。",
            "A score is the mean of the inspectors' totals (highest and lowest dropped with five or more).",
        ),
    )?;
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 22)?;
    ws.set_column_width(2, 14)?;
    ws.set_column_width(3, 10)?;
    ws.set_column_width(4, 12)?;
    page_setup(ws, lang, false)?;
    wb.save_to_buffer()
}

/// Text made safe in markup; characters XML may not hold (which would make a downloaded SVG
/// unreadable) are left out.
fn esc(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|&c| zonepatrol_shared::docs::marks::xml_char(c))
        .collect();
    maud::html! { (kept) }.into_string()
}

/// The code a placard carries; the app's scanner reads it (`records::patrol::zone_from_code`).
pub fn zone_code(branch: &str, zone: &str) -> String {
    format!("zonepatrol:zone:{branch}:{zone}")
}

/// A zone's placard (责任区公示牌) on an A4 page: the "five shows" (五亮: identity, post,
/// duty, standard, performance) and the QR code the app scans to open the zone.
pub fn placard_svg(p: &Placard, lang: Lang) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::new(zone_code(&p.branch, &p.zone).as_bytes())?;
    let qr = code
        .render::<svg::Color>()
        .min_dimensions(300, 300)
        .quiet_zone(true)
        .build();
    let rows = [
        (l(lang, "亮身份", "Identity"), p.holders.clone()),
        (l(lang, "亮岗位", "Post"), p.post.clone()),
        (l(lang, "亮职责", "Duty"), p.duty.clone()),
        (l(lang, "亮标准", "Standard"), p.standard.clone()),
        (l(lang, "亮业绩", "Performance"), p.performance.clone()),
    ];
    let mut out = String::new();
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 794 1123" font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif">"#);
    out.push_str(r##"<rect x="20" y="20" width="754" height="1083" fill="#fff" stroke="#b71c1c" stroke-width="8"/>"##);
    out.push_str(r##"<rect x="20" y="20" width="754" height="130" fill="#b71c1c"/>"##);
    out.push_str(&format!(
        r##"<text x="397" y="80" text-anchor="middle" font-size="40" font-weight="bold" fill="#fff">{}</text>"##,
        esc(l(lang, "党员责任区", "Party member responsibility zone"))
    ));
    out.push_str(&format!(
        r##"<text x="397" y="128" text-anchor="middle" font-size="30" fill="#ffeb3b">{}</text>"##,
        esc(&p.zone_name)
    ));
    out.push_str(&format!(
        r##"<text x="60" y="200" font-size="22" fill="#333">{}</text>"##,
        esc(&[p.branch_name.as_str(), p.location.as_str()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" · "))
    ));
    let mut y = 260;
    for (head, value) in rows {
        out.push_str(&format!(
            r##"<rect x="60" y="{}" width="130" height="44" fill="#b71c1c" rx="6"/><text x="125" y="{}" text-anchor="middle" font-size="22" font-weight="bold" fill="#fff">{}</text>"##,
            y - 30,
            y,
            esc(head)
        ));
        let mut line_y = y;
        for line in wrap(&value, 24) {
            out.push_str(&format!(
                r##"<text x="205" y="{line_y}" font-size="22" fill="#111">{}</text>"##,
                esc(&line)
            ));
            line_y += 30;
        }
        y = line_y.max(y + 30) + 40;
    }
    // The code goes right under the five shows, big enough to scan from a metre away.
    let qr_y = y.max(600);
    out.push_str(&nested(
        &qr,
        &format!(r#"x="257" y="{qr_y}" width="280" height="280""#),
    ));
    out.push_str(&format!(
        r##"<text x="397" y="{}" text-anchor="middle" font-size="18" fill="#333">{}</text>"##,
        qr_y + 305,
        esc(l(
            lang,
            "巡查时扫码打开本责任区",
            "Scan to open this zone on patrol"
        ))
    ));
    out.push_str(&format!(
        r##"<text x="397" y="1080" text-anchor="middle" font-size="16" fill="#666">{}</text>"##,
        esc(&zone_code(&p.branch, &p.zone))
    ));
    out.push_str("</svg>");
    Ok(out)
}

/// A photo on a printed page: its JPEG when the server has it, and its reference (size and
/// marks).
#[derive(Debug, Clone)]
pub struct PrintedPhoto {
    /// The JPEG's bytes, if the photo has reached the server.
    pub jpeg: Option<Vec<u8>>,
    /// Its reference in the document.
    pub photo: PhotoRef,
}

/// What a problem's rectification notice (问题整改通知单) shows: the finding, the measure and
/// the deadline, the photos with what was marked on them, and the latest fix.
#[derive(Debug, Clone)]
pub struct ProblemNotice {
    /// The branch's name.
    pub branch_name: String,
    /// The zone's name.
    pub zone_name: String,
    /// What is wrong.
    pub description: String,
    /// Its severity, in words.
    pub severity: String,
    /// Where it stands, in words.
    pub status: String,
    /// The responsible member's name.
    pub responsible: String,
    /// The deadline in force.
    pub deadline: String,
    /// The rectification measure.
    pub measure: String,
    /// Who raised it and when.
    pub raised: String,
    /// The finding's photos.
    pub photos: Vec<PrintedPhoto>,
    /// The latest fix: who and when, its note, its after-photos.
    pub fix: Option<(String, String, Vec<PrintedPhoto>)>,
}

/// Photos a notice prints at most in each of its two rows of pictures.
pub const NOTICE_PHOTOS: usize = 4;
/// Where a notice's page ends, less its margin.
const PAGE_END: u32 = 1090;

/// A problem's rectification notice on an A4 page, to print and hand to the responsible
/// member: the photos carry their marks, drawn as vectors over them.
pub fn problem_svg(n: &ProblemNotice, lang: Lang) -> String {
    let mut out = String::new();
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 794 1123" font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif">"#);
    out.push_str(r##"<rect x="0" y="0" width="794" height="1123" fill="#fff"/>"##);
    out.push_str(&format!(
        r##"<text x="397" y="70" text-anchor="middle" font-size="34" font-weight="bold" fill="#111">{}</text>"##,
        esc(l(lang, "问题整改通知单", "Rectification notice"))
    ));
    out.push_str(&format!(
        r##"<text x="397" y="104" text-anchor="middle" font-size="18" fill="#444">{}</text>"##,
        esc(&format!("{} · {}", n.branch_name, n.zone_name))
    ));
    let rows = [
        (l(lang, "问题", "Problem"), &n.description),
        (l(lang, "严重程度", "Severity"), &n.severity),
        (l(lang, "责任人", "Responsible"), &n.responsible),
        (l(lang, "整改期限", "Deadline"), &n.deadline),
        (l(lang, "整改措施", "Measure"), &n.measure),
        (l(lang, "提出", "Raised"), &n.raised),
        (l(lang, "状态", "Status"), &n.status),
    ];
    let mut y = 150;
    for (head, value) in rows {
        out.push_str(&format!(
            r##"<text x="50" y="{y}" font-size="18" font-weight="bold" fill="#b71c1c">{}</text>"##,
            esc(head)
        ));
        let mut line_y = y;
        for line in wrap_lines(value, 34, 4) {
            out.push_str(&format!(
                r##"<text x="160" y="{line_y}" font-size="18" fill="#111">{}</text>"##,
                esc(&line)
            ));
            line_y += 26;
        }
        y = line_y.max(y + 26) + 6;
    }
    // With a fix to show, the finding's photos leave it room.
    let fix_room = if n.fix.is_some() { 300 } else { 0 };
    y = photo_row(&mut out, &n.photos, y + 10, PAGE_END - fix_room, lang);
    if let Some((by, note, photos)) = &n.fix {
        y += 24;
        out.push_str(&format!(
            r##"<text x="50" y="{y}" font-size="18" font-weight="bold" fill="#1b5e20">{}</text>"##,
            esc(l(lang, "整改", "Fix")),
        ));
        let mut line_y = y;
        let text = if note.is_empty() {
            by.clone()
        } else {
            format!("{by}{}{note}", l(lang, "：", ": "))
        };
        for line in wrap_lines(&text, 34, 3) {
            out.push_str(&format!(
                r##"<text x="160" y="{line_y}" font-size="18" fill="#111">{}</text>"##,
                esc(&line)
            ));
            line_y += 26;
        }
        photo_row(&mut out, photos, line_y, PAGE_END, lang);
    }
    out.push_str("</svg>");
    out
}

/// Prints up to [`NOTICE_PHOTOS`] photos side by side from `y`, each whole in its box with its
/// marks, no lower than `end`; returns where the page goes on.
fn photo_row(out: &mut String, photos: &[PrintedPhoto], y: u32, end: u32, lang: Lang) -> u32 {
    // A row lower than this would show nothing anyone could read.
    const LEAST: u32 = 90;
    if photos.is_empty() || y + LEAST > end {
        return y;
    }
    let shown = photos.len().min(NOTICE_PHOTOS) as u32;
    let gap = 14;
    let width = (694 - gap * (shown - 1)) / shown;
    let height = (width * 3 / 4).min(300).min(end - y - 10);
    for (i, p) in photos.iter().take(NOTICE_PHOTOS).enumerate() {
        let x = 50 + (width + gap) * i as u32;
        let place = format!(r#"x="{x}" y="{y}" width="{width}" height="{height}""#);
        match &p.jpeg {
            Some(jpeg) => out.push_str(&format!(
                r#"<image {place} preserveAspectRatio="xMidYMid meet" href="data:image/jpeg;base64,{}"/>"#,
                zonepatrol_shared::protocol::b64::encode(jpeg)
            )),
            None => out.push_str(&format!(
                r##"<rect {place} fill="#eee" stroke="#999"/><text x="{}" y="{}" text-anchor="middle" font-size="16" fill="#666">{}</text>"##,
                x + width / 2,
                y + height / 2,
                esc(l(lang, "照片尚未上传", "Photo not uploaded yet"))
            )),
        }
        out.push_str(&nested(&p.photo.overlay_contained("marks"), &place));
    }
    y + height + 10
}

/// The code's own SVG element placed inside the page: without its XML declaration, and with
/// its size and place replaced by `place`.
fn nested(svg: &str, place: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return String::new();
    };
    let svg = &svg[start..];
    let Some(end) = svg.find('>') else {
        return String::new();
    };
    let mut tag = String::from("<svg ");
    tag.push_str(place);
    // Keep every attribute of the opening tag but its own size.
    let mut rest = &svg[4..end];
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim();
        let after = &rest[eq + 1..];
        let Some(quote) = after.chars().next() else {
            break;
        };
        let Some(close) = after[1..].find(quote) else {
            break;
        };
        let value = &after[..close + 2];
        if name != "width" && name != "height" {
            tag.push(' ');
            tag.push_str(name);
            tag.push('=');
            tag.push_str(value);
        }
        rest = &after[close + 2..];
    }
    tag.push('>');
    tag.push_str(&svg[end + 1..]);
    tag
}

/// Splits text into lines of at most `width` characters (CJK text has no spaces to break at).
fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_lines(text, width, 2)
}

/// The same with at most `lines` lines, the last ending in an ellipsis when text is left out.
fn wrap_lines(text: &str, width: usize, lines: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    if chars.is_empty() {
        return vec!["—".to_owned()];
    }
    let mut out: Vec<String> = chars
        .chunks(width)
        .take(lines)
        .map(|c| c.iter().collect())
        .collect();
    if chars.len() > width * lines
        && let Some(last) = out.last_mut()
    {
        last.pop();
        last.push('…');
    }
    out
}

/// Money as the ledger shows it.
pub fn yuan(fen: i64) -> String {
    Fen(fen).to_string()
}

pub(super) fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"");
    let mut r = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

pub(super) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A branch and a period, as a download's address names them.
type BranchPeriod = Path<(String, String)>;

/// A workbook offered for download: the kind of period it covers, what to say when the
/// address names something else, and how to build it.
#[derive(Clone, Copy)]
struct XlsxExport {
    kind: PeriodKind,
    wrong: (&'static str, &'static str),
    build: BuildWorkbook,
}

/// Builds a branch's workbook for a period: its bytes and what it is (for the file name).
type BuildWorkbook =
    fn(&Consolidator, &str, Period, Lang) -> Result<(Vec<u8>, &'static str), XlsxError>;

/// The monthly ledger, as `ledger-BRANCH-MONTH.xlsx`.
const LEDGER: XlsxExport = XlsxExport {
    kind: PeriodKind::Month,
    wrong: ("月份应写成 2026-11。", "Write the month as 2026-11."),
    build: |c, b, p, lang| ledger_xlsx(&ledger(c, b, p, lang), lang).map(|x| (x, "ledger")),
};

/// The weekly notice, as `notice-BRANCH-WEEK.xlsx`.
const NOTICE: XlsxExport = XlsxExport {
    kind: PeriodKind::Week,
    wrong: ("周应写成 2026-W47。", "Write the week as 2026-W47."),
    build: |c, b, p, lang| notice_xlsx(&notice(c, b, p, lang), lang).map(|x| (x, "notice")),
};

/// The ten-day supervision's notice, as `tenday-BRANCH-PERIOD.xlsx`.
const TEN_DAY: XlsxExport = XlsxExport {
    kind: PeriodKind::TenDay,
    wrong: (
        "旬应写成 2026-11-D2。",
        "Write the ten-day period as 2026-11-D2.",
    ),
    build: |c, b, p, lang| notice_xlsx(&notice(c, b, p, lang), lang).map(|x| (x, "tenday")),
};

/// The ten-day supervision's download.
pub(super) async fn export_ten_day(s: Shared<Arc<State>>, v: Viewer, p: BranchPeriod) -> Response {
    export_xlsx(TEN_DAY, s, v, p).await
}

/// The monthly ledger's download.
pub(super) async fn export_ledger(s: Shared<Arc<State>>, v: Viewer, p: BranchPeriod) -> Response {
    export_xlsx(LEDGER, s, v, p).await
}

/// The weekly notice's download.
pub(super) async fn export_notice(s: Shared<Arc<State>>, v: Viewer, p: BranchPeriod) -> Response {
    export_xlsx(NOTICE, s, v, p).await
}

/// A branch's workbook for a period, as a download named `WHAT-BRANCH-PERIOD.xlsx`.
async fn export_xlsx(
    export: XlsxExport,
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, period)): BranchPeriod,
) -> Response {
    let XlsxExport { kind, wrong, build } = export;
    let lang = viewer.lang;
    branch_page(state, viewer, branch, move |c, _, branch| {
        let Some(period) = period.parse::<Period>().ok().filter(|p| p.kind() == kind) else {
            return fail(StatusCode::NOT_FOUND, lang, l(lang, wrong.0, wrong.1));
        };
        match build(&c, &branch, period, lang) {
            Ok((bytes, what)) => attachment(XLSX, &format!("{what}-{branch}-{period}.xlsx"), bytes),
            Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, lang, &e.to_string()),
        }
    })
    .await
}

pub(super) async fn placard(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, zone)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    branch_page(state, viewer, branch, move |c, _, branch| {
        let placard = {
            let facts = &c.branches()[&branch];
            let Some(z) = facts.zones.get(&zone) else {
                return fail(
                    StatusCode::NOT_FOUND,
                    lang,
                    l(lang, "没有这个责任区。", "There is no such zone."),
                );
            };
            let today = c.today(crate::now_millis());
            let last_month = Period::containing(PeriodKind::Month, today).prev();
            // The post holding the zone's title today; else the zone's latest post in the
            // making or just over, with its status, so the board never claims a title it
            // does not hold.
            let post = facts.post_on(&zone, today).or_else(|| {
                facts
                    .posts
                    .iter()
                    .filter(|(_, p)| p.zone == zone && p.status_on(today) != PostStatus::Rejected)
                    .max_by_key(|(_, p)| p.steps.last().map(|s| s.0))
            });
            let post_line = post.map(|(_, p)| {
                let status = post_status_label(lang, p.status_on(today));
                let term = match (p.starts, p.ends) {
                    (Some(s), Some(e)) => format!(" {s} — {e}"),
                    _ => String::new(),
                };
                format!("{}（{status}{term}）", p.title)
            });
            let post = post
                .map(|(_, p)| p)
                .filter(|p| p.status_on(today).in_force());
            let performance = c
                .current(&branch, last_month)
                .and_then(|r| r.zones.get(&zone))
                .and_then(|r| {
                    r.score.map(|s| match lang {
                        Lang::Zh => format!(
                            "{}考评 {}分，第{}名",
                            period_label(lang, last_month),
                            s,
                            r.rank
                        ),
                        Lang::En => format!(
                            "{}: {} points, #{}",
                            period_label(lang, last_month),
                            s,
                            r.rank
                        ),
                    })
                })
                .unwrap_or_else(|| {
                    l(lang, "本月考评后公布", "Shown after the month's assessment").to_owned()
                });
            Placard {
                branch: branch.clone(),
                branch_name: branch_name(&c, &branch),
                zone: zone.clone(),
                zone_name: z.name.clone(),
                location: z.location.clone(),
                holders: holders(&c, &branch, &zone),
                post: post_line.unwrap_or_else(|| z.name.clone()),
                duty: post
                    .map(|p| p.duty.clone())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| {
                        l(
                            lang,
                            "负责本区域安全生产、文明生产、设备完好和问题整改",
                            "Safety, housekeeping, equipment and fixing problems in this zone",
                        )
                        .to_owned()
                    }),
                standard: post
                    .map(|p| p.standard.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| z.template.clone()),
                performance,
            }
        };
        // The consolidator is free again before the page is drawn.
        drop(c);
        match placard_svg(&placard, lang) {
            Ok(svg) => (
                [
                    (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "inline"),
                ],
                svg,
            )
                .into_response(),
            Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, lang, &e.to_string()),
        }
    })
    .await
}
