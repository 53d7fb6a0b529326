//! The group overview (`/dash` at a group's root): each mine's results for a period side by
//! side, for the group's managers, with a link into each mine's own pages.

use std::sync::Arc;

use axum::Extension;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::html;
use serde::Deserialize;
use zonepatrol_shared::Points;
use zonepatrol_shared::labels::grade_label;
use zonepatrol_shared::rules::{Grade, Period, PeriodKind};

use super::super::export::yuan;
use super::super::labels::{l, money_class, period_label, show};
use super::super::layout::layout;
use super::super::session::Viewer;
use crate::State;
use crate::group::Mine;
use crate::reports;

/// The mines a group serves, for its overview.
pub(crate) type Mines = Arc<Vec<(Mine, Arc<State>)>>;

#[derive(Debug, Deserialize)]
pub(crate) struct GroupQuery {
    period: Option<String>,
}

/// One mine's line of the overview.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct MineLine {
    /// Its branches, and how many have a result in the period.
    pub branches: usize,
    pub scored: usize,
    /// The mean of its branches' scores in the period.
    pub score: Option<Points>,
    /// Its branches by grade: excellent, pass, fail.
    pub grades: [usize; 3],
    /// Its zones with a result in the period.
    pub zones: usize,
    /// The money its zones came to in the period, in fen.
    pub money_fen: i64,
    /// Problems open now, and of them overdue.
    pub open: u64,
    pub overdue: u64,
    /// Whether its results are read: `false` while the mine starts or cannot be read.
    pub ready: bool,
}

/// A mine's line for a period, from its consolidated results (caught up first when the mine's
/// store is shared with other instances).
pub(crate) fn mine_line(state: &State, period: Period, now: i64) -> MineLine {
    if !state.results.readiness.serving() || state.catch_up().is_err() {
        return MineLine::default();
    }
    let c = reports::lock(state);
    let today = c.today(now);
    let mut line = MineLine {
        branches: c.branches().len(),
        ready: true,
        ..MineLine::default()
    };
    let mut scores = Vec::new();
    for branch in c.branches().keys() {
        let Some(report) = c.current(branch, period) else {
            continue;
        };
        if let Some(score) = report.branch.score {
            scores.push(score);
            line.scored += 1;
        }
        match report.grade() {
            Some(Grade::Excellent) => line.grades[0] += 1,
            Some(Grade::Pass) => line.grades[1] += 1,
            Some(Grade::Fail) => line.grades[2] += 1,
            None => {}
        }
        line.zones += report.zones.values().filter(|z| z.score.is_some()).count();
        line.money_fen += report.zones.values().map(|z| z.money_fen).sum::<i64>();
    }
    line.score = Points::mean(&scores);
    for (open, overdue) in c.open_counts(today).values() {
        line.open += open;
        line.overdue += overdue;
    }
    line
}

pub(crate) async fn group_overview(
    viewer: Viewer,
    Extension(mines): Extension<Mines>,
    Query(q): Query<GroupQuery>,
) -> Response {
    let here = crate::dashboard::base::current();
    let lang = viewer.lang;
    tokio::task::spawn_blocking(move || {
        crate::dashboard::base::within(here, || group_page(&mines, &viewer, q.period.as_deref()))
    })
    .await
    .unwrap_or_else(|_| {
        super::super::layout::fail(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            l(
                lang,
                "服务器出错，请重试。",
                "The server failed: try again.",
            ),
        )
    })
}

/// The period the overview is asked for (a month, quarter or year), else this month.
fn period_asked(
    mines: &[(Mine, Arc<State>)],
    asked: Option<&str>,
    now: i64,
) -> (Period, NaiveDate) {
    let today = mines
        .first()
        .and_then(|(_, s)| s.settings.clock.date_of_millis(now))
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let period = asked
        .and_then(|p| p.parse::<Period>().ok())
        .filter(|p| {
            matches!(
                p.kind(),
                PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year
            )
        })
        .unwrap_or_else(|| Period::containing(PeriodKind::Month, today));
    (period, today)
}

/// `/dash/export/group?period=…`: the overview as a workbook.
pub(crate) async fn group_export(
    viewer: Viewer,
    Extension(mines): Extension<Mines>,
    Query(q): Query<GroupQuery>,
) -> Response {
    let lang = viewer.lang;
    let made = tokio::task::spawn_blocking(move || {
        let now = crate::now_millis();
        let (period, _) = period_asked(&mines, q.period.as_deref(), now);
        let lines: Vec<(&Mine, MineLine)> = mines
            .iter()
            .map(|(mine, state)| (mine, mine_line(state, period, now)))
            .collect();
        super::super::export::group_xlsx(&lines, &period_label(lang, period), lang)
            .map(|bytes| (period, bytes))
    })
    .await;
    match made {
        Ok(Ok((period, bytes))) => super::super::export::attachment(
            super::super::export::XLSX,
            &format!("zonepatrol-group-{period}.xlsx"),
            bytes,
        ),
        _ => super::super::layout::fail(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            l(lang, "导出失败，请重试。", "The export failed: try again."),
        ),
    }
}

fn group_page(mines: &[(Mine, Arc<State>)], viewer: &Viewer, asked: Option<&str>) -> Response {
    let lang = viewer.lang;
    let now = crate::now_millis();
    let (period, today) = period_asked(mines, asked, now);
    let lines: Vec<(&Mine, MineLine)> = mines
        .iter()
        .map(|(mine, state)| (mine, mine_line(state, period, now)))
        .collect();
    let at = |p: Period| format!("/dash?period={p}");
    let month = Period::containing(PeriodKind::Month, today);
    let quarter = Period::containing(PeriodKind::Quarter, today);
    let year = Period::containing(PeriodKind::Year, today);
    let body = html! {
        section #group {
            h1 { (l(lang, "集团总览", "Group overview")) " · " (period_label(lang, period)) }
            nav.tabs {
                a href=(at(period.prev())) { "‹ " (period_label(lang, period.prev())) }
                a.on[period == month] href=(at(month)) { (l(lang, "本月", "This month")) }
                a.on[period == quarter] href=(at(quarter)) { (l(lang, "本季度", "This quarter")) }
                a.on[period == year] href=(at(year)) { (l(lang, "本年度", "This year")) }
                a href=(at(period.next())) { (period_label(lang, period.next())) " ›" }
            }
            table #mines {
                thead { tr {
                    th { (l(lang, "矿", "Mine")) }
                    th.n { (l(lang, "支部（有成绩）", "Branches (scored)")) }
                    th.n { (l(lang, "平均得分", "Mean score")) }
                    th.n { (grade_label(lang, Grade::Excellent)) " / " (grade_label(lang, Grade::Pass)) " / " (grade_label(lang, Grade::Fail)) }
                    th.n { (l(lang, "责任区（有成绩）", "Zones scored")) }
                    th.n { (l(lang, "奖罚（元）", "Bonus / penalty (yuan)")) }
                    th.n { (l(lang, "未整改 / 超期", "Open / overdue")) }
                } }
                tbody {
                    @for (mine, line) in &lines {
                        tr data-mine=(mine.id) {
                            td { a href=(format!("{}/dash", mine.base())) { (mine.name) } }
                            @if line.ready {
                                td.n { (line.branches) " (" (line.scored) ")" }
                                td.n { (show(line.score)) }
                                td.n { (line.grades[0]) " / " (line.grades[1]) " / " @if line.grades[2] > 0 { span.badge.bad { (line.grades[2]) } } @else { "0" } }
                                td.n { (line.zones) }
                                td class=(format!("n {}", money_class(line.money_fen))) { (yuan(line.money_fen)) }
                                td.n { (line.open) " / " @if line.overdue > 0 { span.badge.bad { (line.overdue) } } @else { "0" } }
                            } @else {
                                td.muted colspan="6" { (l(lang, "正在启动或暂时无法读取，请稍后刷新。", "Starting, or cannot be read just now: reload shortly.")) }
                            }
                        }
                    }
                }
            }
            div.actions { a #export-group href=(format!("/dash/export/group?period={period}")) download { (l(lang, "导出 Excel", "Export to Excel")) } }
            p.muted { (l(lang, "点击矿名，打开该矿的看板（只读）。", "Click a mine's name to open its dashboard (read-only).")) }
        }
    };
    layout(
        lang,
        Some(viewer),
        l(lang, "集团总览", "Group overview"),
        body,
    )
    .into_response()
}
