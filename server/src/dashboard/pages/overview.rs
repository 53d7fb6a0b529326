//! The overview page (`/dash`): the week's ranking and notice, the month's ledger, open
//! problems, cleanups and the branches by category; with the ledger table and the publish
//! form the other pages share.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Query, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{PatrolKind, Points, Role, Severity};

use super::blocking;
use crate::State;
use crate::consolidate::Consolidator;
use crate::dashboard::chart;
use crate::dashboard::export;
use crate::dashboard::labels::{
    Lang, l, money_class, period_label, severity_label, show, show_grade,
};
use crate::dashboard::layout::{fail, layout};
use crate::dashboard::session::Viewer;
use crate::dashboard::views::{Ledger, branch_name, by_category, by_rank, ledger, zone_name};
use crate::reports;
use zonepatrol_shared::labels::due_label;
use zonepatrol_shared::rules::cadence::Due;

/// What the overview shows: a branch, a week, a month and a ten-day period (text forms); the
/// defaults are the viewer's branch (or the first), this week, this month and this ten-day
/// period.
#[derive(Debug, Deserialize, Default)]
pub struct OverviewQuery {
    /// The branch id.
    pub branch: Option<String>,
    /// The week, as `2026-W47`.
    pub week: Option<String>,
    /// The month, as `2026-11`.
    pub month: Option<String>,
    /// The ten-day period (旬), as `2026-11-D2`.
    #[serde(default)]
    pub tenday: Option<String>,
}

fn parse_period(text: Option<&str>, kind: PeriodKind, today: chrono::NaiveDate) -> Period {
    text.and_then(|t| t.parse::<Period>().ok())
        .filter(|p| p.kind() == kind)
        .unwrap_or_else(|| Period::containing(kind, today))
}

pub(super) fn publish_form(
    c: &Consolidator,
    viewer: &Viewer,
    branch: &str,
    period: Period,
    back: &str,
) -> Markup {
    let lang = viewer.lang;
    let lock = c.lock(branch, period);
    // Not published itself, yet inside a published period: the validator's own rule.
    let locked_by_wider = lock.is_none()
        && zonepatrol_shared::validate::locks::locked_by(period, c.locks(branch)).is_some();
    html! {
        div.actions {
            @if let Some(lock) = lock {
                span.badge.warn { (l(lang, "已发布", "Published")) }
                span.muted { (lock.by) }
            } @else if locked_by_wider {
                span.badge.warn { (l(lang, "所在期间已发布", "Inside a published period")) }
            } @else {
                span.muted { (l(lang, "未发布，可修改", "Open for edits")) }
            }
            @if viewer.actor.has(Role::Manager) && viewer.visiting.is_none() {
                form method="post" action=(link("/dash/publish")) {
                    input type="hidden" name="branch" value=(branch);
                    input type="hidden" name="period" value=(period.to_string());
                    input type="hidden" name="back" value=(back);
                    @if lock.is_some() {
                        input type="hidden" name="action" value="reopen";
                        button.reopen type="submit" { (l(lang, "重新开放", "Reopen")) " " (period_label(lang, period)) }
                    } @else {
                        input type="hidden" name="action" value="publish";
                        button.primary.publish type="submit" { (l(lang, "发布并锁定", "Publish and lock")) " " (period_label(lang, period)) }
                    }
                }
            }
        }
    }
}

pub(crate) async fn overview(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<OverviewQuery>,
) -> Response {
    blocking(state, move |state| {
        let left_out = reports::left_out(state);
        let c = reports::lock(state);
        overview_page(&c, &viewer, q, crate::now_millis(), &left_out)
    })
    .await
}

/// The overview page for a viewer, from the consolidated results (the benchmark times this).
pub fn overview_page(
    c: &Consolidator,
    viewer: &Viewer,
    q: OverviewQuery,
    now: i64,
    left_out: &[reports::LeftOut],
) -> Response {
    let lang = viewer.lang;
    let today = c.today(now);
    let week = parse_period(q.week.as_deref(), PeriodKind::Week, today);
    let month = parse_period(q.month.as_deref(), PeriodKind::Month, today);
    let ten_day = parse_period(q.tenday.as_deref(), PeriodKind::TenDay, today);
    let visible: Vec<&String> = c.branches().keys().filter(|b| viewer.may_view(b)).collect();
    let branch = match q.branch {
        Some(b) if visible.contains(&&b) => b,
        Some(_) => {
            return fail(
                StatusCode::FORBIDDEN,
                lang,
                l(lang, "无权查看该支部。", "That branch is not yours to see."),
            );
        }
        None if visible.contains(&&viewer.actor.branch) => viewer.actor.branch.clone(),
        // A manager starts on the first branch with results this week or month.
        None => match visible
            .iter()
            .find(|b| c.current(b, week).is_some() || c.current(b, month).is_some())
            .or(visible.first())
        {
            Some(b) => (*b).clone(),
            None => {
                return fail(
                    StatusCode::NOT_FOUND,
                    lang,
                    l(lang, "还没有支部。", "There are no branches yet."),
                );
            }
        },
    };
    let query = |b: &str, w: Period, m: Period| {
        format!("/dash?branch={b}&week={w}&month={m}&tenday={ten_day}")
    };
    let here = query(&branch, week, month);
    let weekly = c.current(&branch, week);
    let monthly = c.current(&branch, month);
    let bars: Vec<chart::Bar> = weekly
        .map(|r| {
            by_rank(r)
                .into_iter()
                .filter_map(|(id, z)| {
                    let score = z.score?;
                    Some(chart::Bar {
                        label: zone_name(c, &branch, id),
                        value: score.0,
                        text: format!("{} · {}{}", score, z.rank, l(lang, "名", "")),
                        href: link(&format!("/dash/zone/{branch}/{id}")),
                        tone: if z.praised {
                            chart::Tone::Good
                        } else if z.named {
                            chart::Tone::Bad
                        } else {
                            chart::Tone::Plain
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    // Each zone with no result this week, and why: a small branch's patrol with two sheets
    // says so rather than leaving a blank.
    let unscored: Vec<(String, String)> = weekly
        .map(|r| {
            r.zones
                .iter()
                .filter(|(_, z)| z.score.is_none())
                .map(|(id, _)| {
                    let why = c
                        .no_result(&branch, week, PatrolKind::Weekly, id)
                        .map(|w| w.says(lang))
                        .unwrap_or_default();
                    (zone_name(c, &branch, id), why)
                })
                .collect()
        })
        .unwrap_or_default();
    let book = ledger(c, &branch, month, lang);
    let open = c.open_problems(&branch, None);
    let overdue = open
        .iter()
        .filter(|(_, p)| {
            p.deadline
                .is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today))
        })
        .count();
    let company = by_category(c, &visible, month);
    let counts = c.open_counts(today);
    // Stored records the results leave out, for those who may see their branch.
    let left_out: Vec<&reports::LeftOut> = left_out
        .iter()
        .filter(|l| {
            l.id.parse::<DocId>()
                .map_or(viewer.actor.is_company_wide(), |id| {
                    viewer.may_view(id.branch())
                })
        })
        .collect();
    let body = html! {
        h1 { (branch_name(c, &branch)) }
        @if !left_out.is_empty() {
            section #left-out role="alert" {
                h2 { (l(lang, "未计入结果的记录", "Records left out of the results")) }
                p.error {
                    (left_out.len())
                    (l(lang, " 条已存储的记录无法计入结果，已被略过；请管理员修正或删除。",
                        " stored records could not be counted and were left out: ask an admin to repair or remove them."))
                }
                ul {
                    @for item in left_out.iter().take(50) {
                        li { code { (item.id) } " — " (item.reason) }
                    }
                }
            }
        }
        @if visible.len() > 1 {
            nav.tabs aria-label=(l(lang, "支部", "Branches")) {
                @for b in &visible {
                    a.on[**b == branch] href=(link(&query(b, week, month))) { (branch_name(c, b)) }
                }
            }
        }
        div.grid2 {
            section #week {
                h2 { (l(lang, "周检查排名", "Weekly inspection ranking")) " · " (period_label(lang, week)) }
                nav.tabs {
                    a href=(link(&query(&branch, week.prev(), month))) { "‹ " (l(lang, "上一周", "previous")) }
                    a href=(link(&query(&branch, week.next(), month))) { (l(lang, "下一周", "next")) " ›" }
                }
                @if bars.is_empty() {
                    p.muted { (l(lang, "本周还没有检查结果。", "No inspection results this week yet.")) }
                } @else {
                    (chart::bars(l(lang, "周检查排名", "Weekly ranking"), &bars))
                    p {
                        span.badge.good { (l(lang, "表扬", "Praised")) }
                        " " (weekly.map(|r| r.zones.iter().filter(|(_, z)| z.praised).map(|(id, _)| zone_name(c, &branch, id)).collect::<Vec<_>>().join("、")).unwrap_or_default())
                        " · "
                        span.badge.bad { (l(lang, "批评", "Named")) }
                        " " (weekly.map(|r| r.zones.iter().filter(|(_, z)| z.named).map(|(id, _)| zone_name(c, &branch, id)).collect::<Vec<_>>().join("、")).unwrap_or_default())
                    }
                }
                @if !unscored.is_empty() {
                    div #no-result {
                        p.muted { (l(lang, "无结果的责任区：", "Zones with no result:")) }
                        ul.muted { @for (zone, why) in &unscored { li { (zone) " — " (why) } } }
                    }
                }
                div.actions {
                    a #export-notice href=(link(&format!("/dash/export/notice/{branch}/{week}"))) download { (l(lang, "导出周通报 Excel", "Weekly notice (Excel)")) }
                }
                (publish_form(c, viewer, &branch, week, &here))
            }
            section #problems {
                h2 { (l(lang, "问题整改", "Problems")) }
                p {
                    span #open-count { (open.len()) } " " (l(lang, "项待整改", "waiting for a fix")) " · "
                    span #overdue-count class=(if overdue > 0 { "badge bad" } else { "badge good" }) { (overdue) } " " (l(lang, "项已超期", "overdue"))
                }
                table {
                    thead { tr { th { (l(lang, "责任区", "Zone")) } th { (l(lang, "问题", "Problem")) } th { (l(lang, "期限", "Deadline")) } th { (l(lang, "责任人", "Responsible")) } } }
                    tbody {
                        @for (name, p) in open.iter().take(20) {
                            @let late = p.deadline.is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today));
                            tr {
                                td { a href=(link(&format!("/dash/zone/{branch}/{}", p.zone))) { (zone_name(c, &branch, &p.zone)) } }
                                td { @if p.major { span.badge.bad { (severity_label(lang, Severity::Major)) } " " } a href=(link(&format!("/dash/problem/{branch}/{name}"))) { (p.description) } }
                                td { (p.deadline.map(|d| d.to_string()).unwrap_or_default()) @if late { " " span.badge.bad { (l(lang, "超期", "overdue")) } } }
                                td { (c.branches().get(&branch).and_then(|b| b.members.get(&p.responsible)).cloned().unwrap_or_else(|| p.responsible.clone())) }
                            }
                        }
                    }
                }
            }
        }
        section #due {
            h2 { (l(lang, "各支部待办", "What each branch has still to do")) }
            table {
                thead { tr {
                    th { (l(lang, "支部", "Branch")) } th { (l(lang, "本周检查", "This week's inspection")) }
                    th { (l(lang, "本旬督导", "This ten-day supervision")) } th { (l(lang, "月底考评", "Month-end scores")) }
                    th { (l(lang, "问题期限", "Deadlines")) }
                } }
                @let all = c.undone(&visible, today);
                tbody { @for b in &visible {
                    @let undone = all.get(b.as_str()).cloned().unwrap_or_default();
                    @let list = zonepatrol_shared::rules::cadence::due(today, &undone);
                    tr data-branch=(b) {
                        td { a href=(link(&query(b, week, month))) { (branch_name(c, b)) } }
                        td.weekly { @if undone.weekly { span.badge.good { (l(lang, "已完成", "done")) } } @else { span.badge.warn { (l(lang, "未完成", "not yet")) } } }
                        td.tenday { @if undone.ten_day { span.badge.good { (l(lang, "已完成", "done")) } } @else { span.badge.warn { (l(lang, "未完成", "not yet")) } } }
                        td.month {
                            @for d in list.iter().filter(|d| matches!(d, Due::SelfScores { .. } | Due::Assessments { .. } | Due::SelfCheck { .. })) {
                                span class=(if d.late(today) { "badge bad" } else { "badge warn" }) { (due_label(lang, d)) } " "
                            }
                        }
                        td.deadlines {
                            @for d in list.iter().filter(|d| matches!(d, Due::ProblemsSoon { .. } | Due::ProblemsOverdue { .. })) {
                                span class=(if d.late(today) { "badge bad" } else { "badge warn" }) { (due_label(lang, d)) } " "
                            }
                        }
                    }
                } }
            }
        }
        section #ten-day {
            h2 { (l(lang, "旬督导排名", "Ten-day supervision ranking")) " · " (period_label(lang, ten_day)) }
            @let at = |t: Period| format!("/dash?branch={branch}&week={week}&month={month}&tenday={t}");
            nav.tabs {
                a href=(link(&at(ten_day.prev()))) { "‹ " (l(lang, "上一旬", "previous")) }
                a href=(link(&at(ten_day.next()))) { (l(lang, "下一旬", "next")) " ›" }
            }
            @let supervised = c.current(&branch, ten_day).map(by_rank).unwrap_or_default();
            @if supervised.iter().all(|(_, z)| z.score.is_none()) {
                p.muted { (l(lang, "本旬还没有督导结果。", "No supervision results in this ten-day period yet.")) }
            } @else {
                table #ten-day-ranking {
                    thead { tr { th.n { (l(lang, "名次", "Rank")) } th { (l(lang, "责任区", "Zone")) } th.n { (l(lang, "督导得分", "Score")) } th.n { (l(lang, "评分表数", "Sheets")) } } }
                    tbody { @for (id, z) in &supervised { tr data-zone=(id) {
                        td.n { @if z.rank > 0 { (z.rank) } @else { "—" } }
                        td { a href=(link(&format!("/dash/zone/{branch}/{id}"))) { (zone_name(c, &branch, id)) } }
                        td.n.score { (show(z.score)) } td.n { (z.sheets) }
                    } } }
                }
            }
            div.actions {
                a #export-ten-day href=(link(&format!("/dash/export/tenday/{branch}/{ten_day}"))) download { (l(lang, "导出旬督导通报 Excel", "Ten-day notice (Excel)")) }
            }
        }
        section #month {
            h2 { (l(lang, "月度考评", "Monthly assessment")) " · " (period_label(lang, month)) }
            nav.tabs {
                a href=(link(&query(&branch, week, month.prev()))) { "‹ " (l(lang, "上月", "previous")) }
                a href=(link(&query(&branch, week, month.next()))) { (l(lang, "下月", "next")) " ›" }
            }
            (ledger_table(lang, &branch, &book))
            div.actions {
                a href=(link(&format!("/dash/ledger/{branch}/{month}"))) { (l(lang, "台账", "Ledger")) }
                a #export-ledger href=(link(&format!("/dash/export/ledger/{branch}/{month}"))) download { (l(lang, "导出月度台账 Excel", "Monthly ledger (Excel)")) }
            }
            (publish_form(c, viewer, &branch, month, &here))
        }
        div.grid2 {
            section #cleanups {
                h2 { (l(lang, "文明生产整治", "Cleanups")) " · " (period_label(lang, month)) }
                @if let Some(r) = monthly {
                    p { (r.cleanups.logs) " " (l(lang, "次整治，", "cleanups, ")) span #person-times { (r.cleanups.person_times) } " " (l(lang, "人次", "person-times")) }
                    ul { @for q in r.cleanups.quantities.values() { li { (q.what) "：" (Points(q.milli / 10)) " " (q.unit) } } }
                } @else { p.muted { (l(lang, "本月还没有整治记录。", "No cleanups this month yet.")) } }
            }
            section #branches {
                h2 { (l(lang, "支部分类排名", "Branches by category")) " · " (period_label(lang, month)) }
                table {
                    thead { tr { th { (l(lang, "类别", "Category")) } th { (l(lang, "支部", "Branch")) } th.n { (l(lang, "得分", "Score")) } th { (l(lang, "等级", "Grade")) } th.n { (l(lang, "名次", "Rank")) } th.n { (l(lang, "待整改/超期", "Open/overdue")) } } }
                    tbody {
                        @for (b, r) in &company {
                            @let (open, late) = counts.get(b.as_str()).copied().unwrap_or_default();
                            tr {
                                td { (r.branch.category) }
                                td { a href=(link(&query(b, week, month))) { (branch_name(c, b)) } }
                                td.n { (show(r.branch.score)) }
                                td { (show_grade(lang, r.grade())) }
                                td.n { @if r.branch.rank > 0 { (r.branch.rank) "/" (r.branch.of) } @else { "—" } }
                                td.n { (open) "/" @if late > 0 { span.badge.bad { (late) } } @else { "0" } }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(lang, Some(viewer), l(lang, "看板", "Overview"), body).into_response()
}

pub(super) fn ledger_table(lang: Lang, branch: &str, book: &Ledger) -> Markup {
    html! {
        @if book.rows.iter().all(|r| r.final_score.is_none() && r.self_score.is_none()) {
            p.muted { (l(lang, "本月还没有考评。", "No assessments this month yet.")) }
        }
        table #ledger {
            thead { tr {
                th.n { (l(lang, "名次", "Rank")) } th { (l(lang, "责任区", "Zone")) } th { (l(lang, "责任人", "Holders")) }
                th.n { (l(lang, "自评", "Self")) } th.n { (l(lang, "支部评分（最终）", "Branch (final)")) } th.n { (l(lang, "奖罚（元）", "Money (yuan)")) } th.n { (l(lang, "月自查", "Self-check")) }
            } }
            tbody {
                @for r in &book.rows {
                    tr data-zone=(r.zone_id) {
                        td.n.rank { @if r.rank > 0 { (r.rank) } @else { "—" } }
                        td { a href=(link(&format!("/dash/zone/{branch}/{}", r.zone_id))) { (r.zone) } }
                        td { (r.holders) }
                        td.n.self { (show(r.self_score)) }
                        td.n.final { (show(r.final_score)) }
                        td class=(format!("n {}", money_class(r.money_fen))) { (export::yuan(r.money_fen)) }
                        td.n.check { (show(r.self_check)) }
                    }
                }
            }
            tfoot { tr {
                td {} th { (l(lang, "合计", "Total")) } td {} td {}
                td.n { (l(lang, "支部得分 ", "Branch ")) span #branch-score { (show(book.branch_score)) } " " (book.grade_label) }
                td #money-total class=(format!("n {}", money_class(book.total_fen()))) { (export::yuan(book.total_fen())) }
                td {}
            } }
        }
        p.muted { (book.rank_label) @if let Some(p) = &book.published { " · " (p) } }
        @if let Some(q) = &book.composite { p #quarter-composite { (q) } }
    }
}

/// The month's money member by member (党员业绩考核台帐): a zone's money goes to its holders,
/// equally or in the shares the secretary set on the zone.
pub(super) fn member_table(lang: Lang, book: &Ledger) -> Markup {
    html! {
        table #members {
            thead { tr {
                th { (l(lang, "党员", "Member")) } th { (l(lang, "责任区 · 最终得分 · 所得", "Zones · final score · their part")) }
                th.n { (l(lang, "奖罚（元）", "Money (yuan)")) }
            } }
            tbody {
                @for m in &book.members {
                    tr data-member=(m.member_id) {
                        td { (m.name) }
                        td { @if m.zones.is_empty() { span.muted { "—" } } @else { (m.zones_label()) } }
                        td class=(format!("n {}", money_class(m.money_fen))) { (export::yuan(m.money_fen)) }
                    }
                }
            }
        }
        @if book.unassigned_fen() != 0 {
            p.error #unassigned { (l(lang, "没有责任人的责任区的奖罚无人领取：", "Money of zones without a holder goes to nobody: "))
                (export::yuan(book.unassigned_fen())) " " (l(lang, "元。请在控制台为责任区指定责任人。", "yuan. Name the zones' holders in the console.")) }
        }
    }
}
