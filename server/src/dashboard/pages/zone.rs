//! The zone page (`/dash/zone/{branch}/{zone}`): the monthly trend, inspections, problems
//! with photos and cleanups.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use zonepatrol_shared::docs::{DocId, ZoneResult};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Points, Severity};

use super::branch_page;
use crate::State;
use crate::dashboard::chart;
use crate::dashboard::labels::{l, period_label, problem_status_label, severity_label, show};
use crate::dashboard::layout::{fail, layout};
use crate::dashboard::session::Viewer;
use crate::dashboard::views::{branch_name, holders};

pub(crate) async fn zone_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, zone)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    branch_page(state, viewer, branch, move |c, viewer, branch| {
        let Some(facts) = c.branches()[&branch].zones.get(&zone).cloned() else {
            return fail(
                StatusCode::NOT_FOUND,
                lang,
                l(lang, "没有这个责任区。", "There is no such zone."),
            );
        };
        let today = c.today(crate::now_millis());
        // The last twelve months, oldest first.
        let mut months = vec![Period::containing(PeriodKind::Month, today)];
        while months.len() < 12 {
            let first = months[0].prev();
            months.insert(0, first);
        }
        let pick = |m: &Period, f: fn(&ZoneResult) -> Option<Points>| {
            c.current(&branch, *m)
                .and_then(|r| r.zones.get(&zone))
                .and_then(f)
                .map(|p| p.0)
        };
        let columns: Vec<String> = months
            .iter()
            .map(|m| match m {
                Period::Month { month, .. } => format!("{month}{}", l(lang, "月", "")),
                _ => m.to_string(),
            })
            .collect();
        let series = [
            chart::Series {
                name: l(lang, "最终得分", "Final").to_owned(),
                line: chart::Line::Final,
                values: months.iter().map(|m| pick(m, |z| z.score)).collect(),
            },
            chart::Series {
                name: l(lang, "自评", "Self").to_owned(),
                line: chart::Line::SelfScore,
                values: months.iter().map(|m| pick(m, |z| z.self_score)).collect(),
            },
            chart::Series {
                name: l(lang, "周检查", "Inspection").to_owned(),
                line: chart::Line::Inspection,
                values: months.iter().map(|m| pick(m, |z| z.inspection)).collect(),
            },
        ];
        let weeks: Vec<(Period, ZoneResult)> = c
            .reports_of_kind(&branch, PeriodKind::Week)
            .into_iter()
            .rev()
            .filter_map(|r| {
                let DocId::Report { period: p, .. } = r.header.id.parse().ok()? else {
                    return None;
                };
                let z = r.zones.get(&zone)?;
                z.score.map(|_| (p, z.clone()))
            })
            .take(26)
            .collect();
        let problems = c.zone_problems(&branch, &zone);
        let cleanups = c.zone_cleanups(&branch, &zone);
        let body = html! {
            h1 { (facts.name) }
            p.muted { (branch_name(&c, &branch))
                @if !facts.location.is_empty() { " · " (facts.location) }
                " · " (l(lang, "责任人：", "Holders: ")) (holders(&c, &branch, &zone))
            }
            div.actions {
                a href=(link(&format!("/dash?branch={branch}"))) { "‹ " (l(lang, "看板", "Overview")) }
                a #placard href=(link(&format!("/dash/placard/{branch}/{zone}"))) { (l(lang, "打印公示牌（二维码）", "Print placard (QR)")) }
            }
            section #trend {
                h2 { (l(lang, "月度得分趋势", "Monthly score trend")) }
                (chart::lines(l(lang, "月度得分趋势", "Monthly trend"), &columns, &series))
            }
            div.grid2 {
                section #inspections {
                    h2 { (l(lang, "周检查", "Weekly inspections")) }
                    table {
                        thead { tr { th { (l(lang, "周", "Week")) } th.n { (l(lang, "得分", "Score")) } th.n { (l(lang, "名次", "Rank")) } th.n { (l(lang, "评分表", "Sheets")) } } }
                        tbody {
                            @for (p, z) in &weeks {
                                tr { td { (period_label(lang, *p)) } td.n { (show(z.score)) } td.n { (z.rank) } td.n { (z.sheets) } }
                            }
                        }
                    }
                    @if weeks.is_empty() { p.muted { (l(lang, "还没有检查结果。", "No inspections yet.")) } }
                }
                section #zone-problems {
                    h2 { (l(lang, "问题", "Problems")) }
                    @for (name, p) in &problems {
                        @let late = p.deadline.is_some_and(|d| zonepatrol_shared::rules::problem::is_overdue(p.status, d, today));
                        div {
                            p {
                                @if p.major { span.badge.bad { (severity_label(lang, Severity::Major)) } " " }
                                a href=(link(&format!("/dash/problem/{branch}/{name}"))) { (p.description) } " · " (p.raised.to_string())
                                " · " (problem_status_label(lang, p.status))
                                @if late { " " span.badge.bad { (l(lang, "超期", "overdue")) } }
                            }
                            div.photos {
                                @for h in &p.photos {
                                    a href=(link(&format!("/dash/photo/{branch}/{h}"))) { img src=(link(&format!("/dash/photo/{branch}/{h}"))) alt=(l(lang, "问题照片", "problem photo")) loading="lazy"; }
                                }
                            }
                        }
                    }
                    @if problems.is_empty() { p.muted { (l(lang, "没有问题记录。", "No problems recorded.")) } }
                }
            }
            section #zone-cleanups {
                h2 { (l(lang, "整治记录", "Cleanups")) }
                ul {
                    @for cl in &cleanups {
                        li { (cl.date.to_string()) " · " (cl.person_times) (l(lang, "人次", " person-times"))
                            @for (what, unit, milli) in &cl.items { " · " (what) " " (Points(milli / 10)) (unit) } }
                    }
                }
                @if cleanups.is_empty() { p.muted { (l(lang, "没有整治记录。", "No cleanups recorded.")) } }
            }
        };
        layout(lang, Some(&viewer), &facts.name, body).into_response()
    })
    .await
}
