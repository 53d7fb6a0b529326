//! The rankings page (`/dash/rankings`): quarterly and yearly rankings of the branches and of
//! a branch's zones, with posts flagged for losing their title.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Query, State as Shared};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use zonepatrol_shared::rules::period::{Period, PeriodKind};

use super::blocking;
use super::overview::publish_form;
use crate::State;
use crate::consolidate::months_of;
use crate::dashboard::export;
use crate::dashboard::labels::{l, money_class, period_label, show, show_grade};
use crate::dashboard::layout::layout;
use crate::dashboard::session::Viewer;
use crate::dashboard::views::{branch_name, by_category, by_rank, zone_name};
use crate::reports;

#[derive(Deserialize, Default)]
pub(crate) struct RankingsQuery {
    period: Option<String>,
    branch: Option<String>,
}

pub(crate) async fn rankings_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<RankingsQuery>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
        let c = reports::lock(state);
        let today = c.today(crate::now_millis());
        let period = q
            .period
            .and_then(|p| p.parse::<Period>().ok())
            .filter(|p| matches!(p.kind(), PeriodKind::Quarter | PeriodKind::Year))
            .unwrap_or_else(|| Period::containing(PeriodKind::Quarter, today));
        let visible: Vec<&String> = c.branches().keys().filter(|b| viewer.may_view(b)).collect();
        let branch = q
            .branch
            .filter(|b| visible.contains(&b))
            .or_else(|| {
                visible
                    .iter()
                    .find(|b| ***b == viewer.actor.branch)
                    .map(|b| (*b).clone())
            })
            .or_else(|| {
                visible
                    .iter()
                    .find(|b| c.current(b, period).is_some())
                    .map(|b| (*b).clone())
            })
            .or_else(|| visible.first().map(|b| (*b).clone()))
            .unwrap_or_default();
        let url = |p: Period, b: &str| format!("/dash/rankings?period={p}&branch={b}");
        let year = Period::containing(PeriodKind::Year, period.first_day());
        let quarters: Vec<Period> = (0..4)
            .map(|i| Period::containing(PeriodKind::Quarter, months_of(year)[i * 3].first_day()))
            .collect();
        let company = by_category(&c, &visible, period);
        let report = c.current(&branch, period);
        let here = url(period, &branch);
        let body = html! {
            h1 { (l(lang, "季度与年度排名", "Quarterly and yearly rankings")) " · " (period_label(lang, period)) }
            nav.tabs {
                a href=(link(&url(year.prev(), &branch))) { "‹ " (year.prev().to_string()) }
                @for qp in &quarters { a.on[*qp == period] href=(link(&url(*qp, &branch))) { (period_label(lang, *qp)) } }
                a.on[year == period] href=(link(&url(year, &branch))) { (period_label(lang, year)) }
            }
            section #branch-ranking {
                h2 { (l(lang, "支部（按类别）", "Branches by category")) }
                table {
                    thead { tr {
                        th { (l(lang, "类别", "Category")) } th { (l(lang, "支部", "Branch")) }
                        th.n { (l(lang, "工作得分", "Work")) } th.n { (l(lang, "互评", "Mutual")) } th.n { (l(lang, "加分", "Bonus")) }
                        th.n { (l(lang, "综合得分", "Composite")) } th { (l(lang, "等级", "Grade")) } th.n { (l(lang, "名次", "Rank")) }
                    } }
                    tbody { @for (b, r) in &company { tr data-branch=(b) {
                        td { (r.branch.category) } td { a href=(link(&url(period, b))) { (branch_name(&c, b)) } }
                        td.n.work { (show(r.branch.work)) }
                        td.n.mutual { (show(r.branch.mutual)) }
                        td.n.bonus { @if r.branch.bonus > zonepatrol_shared::Points::ZERO { "+" (r.branch.bonus) } }
                        td.n.composite { (show(r.branch.score)) } td { (show_grade(lang, r.grade())) }
                        td.n { @if r.branch.rank > 0 { (r.branch.rank) "/" (r.branch.of) } @else { "—" } }
                    } } }
                }
            }
            @if let Some(r) = report {
                p #composite-breakdown { (crate::dashboard::views::composite_label(&c, lang, period, r)) }
            }
            @if viewer.visiting.is_none() && crate::admin::may_see_branch(&viewer.actor, &branch) && period.kind() == PeriodKind::Quarter {
                p { a #mutual-link href=(link(&format!("/admin/branch/{branch}/mutual?quarter={period}"))) { (l(lang, "互动评价与特色活动加分", "Mutual evaluation and bonuses")) } }
            }
            section #zone-ranking {
                h2 { (branch_name(&c, &branch)) " · " (l(lang, "责任区排名", "Zones")) }
                @if let Some(r) = report {
                    table {
                        thead { tr { th.n { (l(lang, "名次", "Rank")) } th { (l(lang, "责任区", "Zone")) } th.n { (l(lang, "平均得分", "Mean final")) } th.n { (l(lang, "周检查", "Inspection")) } th.n { (l(lang, "奖罚（元）", "Money (yuan)")) } th { (l(lang, "示范岗", "Post")) } } }
                        tbody { @for (id, z) in by_rank(r) { tr {
                            td.n { @if z.rank > 0 { (z.rank) } @else { "—" } }
                            td { a href=(link(&format!("/dash/zone/{branch}/{id}"))) { (zone_name(&c, &branch, id)) } }
                            td.n { (show(z.score)) } td.n { (show(z.inspection)) }
                            td class=(format!("n {}", money_class(z.money_fen))) { (export::yuan(z.money_fen)) }
                            td { @if !z.post.is_empty() {
                                @let facts = c.branches().get(&branch).and_then(|b| b.posts.get(&z.post));
                                @let title = facts.map_or(z.post.as_str(), |p| p.title.as_str());
                                @let now = facts.map(|p| p.status_on(today));
                                @if crate::admin::may_open_console(&viewer.actor) && crate::admin::may_see_branch(&viewer.actor, &branch) {
                                    a.post href=(link(&format!("/admin/branch/{branch}/post/{}", z.post))) { (title) }
                                } @else { (title) }
                                @if let Some(now) = now.filter(|s| !s.in_force()) {
                                    " " span.badge.warn { (zonepatrol_shared::labels::post_status_label(lang, now)) }
                                }
                            } @if z.loses_title { " " span.badge.bad { (l(lang, "低于合格线，建议摘牌", "below the pass mark: title at risk")) } } }
                        } } }
                    }
                } @else { p.muted { (l(lang, "该期间还没有结果。", "No results for this period yet.")) } }
                (publish_form(&c, &viewer, &branch, period, &here))
            }
        };
        layout(lang, Some(&viewer), l(lang, "排名", "Rankings"), body).into_response()
    })
    .await
}
