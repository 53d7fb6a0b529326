//! The mutual evaluation page (`/admin/branch/{branch}/mutual?quarter=2026-Q4`): the branch's
//! secretary marks the other branches back to back (the only person who sees those marks);
//! managers record special-activity bonuses with a reason; everyone who may see the branch
//! reads its own result (the aggregate of the marks it received, never one branch's mark).

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State as Shared};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use zonepatrol_shared::Role;
use zonepatrol_shared::labels::{Lang, period_label};
use zonepatrol_shared::rules::mutual::MIN_GIVERS;
use zonepatrol_shared::rules::period::{Period, PeriodKind};

use super::branch::check_branch;
use super::post::today;
use super::{Fields, frame, run, show, when};
use crate::admin::mutual;
use crate::dashboard::labels::{l, show as shown};
use crate::dashboard::session::Viewer;
use crate::dashboard::views::branch_name;
use crate::{State, reports};

#[derive(Deserialize, Default)]
pub(super) struct MutualQuery {
    quarter: Option<String>,
}

pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(branch): Path<String>,
    Query(q): Query<MutualQuery>,
) -> Response {
    show(state, viewer, move |state, viewer| {
        check_branch(viewer, &branch)?;
        let lang = viewer.lang;
        let this = Period::containing(PeriodKind::Quarter, today(state));
        let quarter = match q.quarter.as_deref() {
            Some(text) => mutual::quarter(text)?,
            None => this,
        };
        let secretary = viewer.actor.has(Role::Secretary) && viewer.actor.branch == branch;
        let manager = viewer.actor.has(Role::Manager);
        let evaluation = mutual::given(state, &branch, quarter)?;
        let others = mutual::others(state, &branch);
        let (name, result) = {
            let c = reports::lock(state);
            (
                branch_name(&c, &branch),
                c.current(&branch, quarter).map(|r| r.branch.clone()),
            )
        };
        let givers = result.as_ref().map_or(0, |r| r.givers);
        let too_few = match lang {
            Lang::Zh => format!(
                "（已有 {givers} 个支部打分；其他支部全部打分、且不少于 {MIN_GIVERS} 个后才计入）"
            ),
            Lang::En => format!(
                "({givers} branches have marked it; it counts once every other branch has, \
                 and no fewer than {MIN_GIVERS})"
            ),
        };
        let here = |p: Period| format!("/admin/branch/{branch}/mutual?quarter={p}");
        let body = html! {
            nav.tabs {
                a href=(link(&here(quarter.prev()))) { "‹ " (period_label(lang, quarter.prev())) }
                a.on href=(link(&here(quarter))) { (period_label(lang, quarter)) }
                @if quarter < this { a href=(link(&here(quarter.next()))) { (period_label(lang, quarter.next())) " ›" } }
            }
            section #mutual-result {
                h2 { (l(lang, "本支部的互评与综合得分", "This branch's evaluation and composite")) }
                @match &result {
                    Some(r) => {
                        table {
                            tr { th { (l(lang, "工作得分", "Work score")) } td.n { (shown(r.work)) } }
                            tr { th { (l(lang, "互评得分", "Mutual evaluation")) } td.n #mutual-score {
                                (shown(r.mutual))
                                @if r.mutual.is_none() { " " span.muted { (too_few) } }
                            } }
                            tr { th { (l(lang, "特色活动加分", "Special-activity bonus")) } td.n { (r.bonus) } }
                            tr { th { (l(lang, "综合得分", "Composite")) } td.n #composite { (shown(r.score)) } }
                        }
                    }
                    None => { p.muted { (l(lang, "该季度还没有结果。", "No results for this quarter yet.")) } }
                }
            }
            @if secretary {
                section #mutual-marks {
                    h2 { (l(lang, "为其他支部打分（背靠背）", "Mark the other branches (back to back)")) }
                    p.muted { (l(lang, "只有您看得到本支部给出的分数；各支部只看到汇总结果。分数一经保存不能修改；所有支部打分后结果才计入。", "Only you see the marks your branch gives; each branch sees only its aggregate. A mark once saved is kept; the result counts once every branch has marked.")) }
                    @if others.is_empty() {
                        p.muted { (l(lang, "还没有其他支部。", "There are no other branches yet.")) }
                    } @else {
                        form method="post" action=(link(&format!("/admin/branch/{branch}/mutual/marks?quarter={quarter}"))) {
                            table {
                                tr { th { (l(lang, "支部", "Branch")) } th { (l(lang, "分数（0–100）", "Mark (0–100)")) } }
                                @for (id, other) in &others {
                                    tr {
                                        td { (other) input type="hidden" name="to" value=(id); }
                                        td { input name="mark" inputmode="decimal" size="6" data-branch=(id)
                                            readonly[evaluation.marks.contains_key(id)]
                                            value=(evaluation.marks.get(id).map(|m| m.points.to_string()).unwrap_or_default()); }
                                    }
                                }
                            }
                            div.actions { button.primary type="submit" { (l(lang, "保存互评", "Save the marks")) } }
                        }
                    }
                }
            }
            section #bonuses {
                h2 { (l(lang, "特色活动加分", "Special-activity bonuses")) }
                @if evaluation.bonuses.is_empty() {
                    p.muted { (l(lang, "本季度没有加分。", "No bonus this quarter.")) }
                } @else {
                    table {
                        tr { th { (l(lang, "时间", "When")) } th.n { (l(lang, "加分", "Points")) } th { (l(lang, "活动与理由", "Activity and why")) } th { (l(lang, "记录人", "By")) } }
                        @for b in evaluation.bonuses.values() {
                            tr { td { (when(state, b.at)) } td.n { "+" (b.points) } td { (b.reason.as_str()) } td { (b.by) } }
                        }
                    }
                }
                @if manager {
                    form method="post" action=(link(&format!("/admin/branch/{branch}/mutual/bonus?quarter={quarter}"))) #bonus-form {
                        label { (l(lang, "加分", "Points")) " " input name="points" inputmode="decimal" size="5" required; } " "
                        label { (l(lang, "活动与理由", "Activity and why")) " " input name="reason" required maxlength="400" size="40"; }
                        div.actions { button type="submit" { (l(lang, "记录加分", "Record the bonus")) } }
                    }
                }
            }
        };
        let title = format!("{name} · {} · {}", l(lang, "互动评价", "Mutual evaluation"), period_label(lang, quarter));
        Ok(frame(viewer, &title, body))
    })
    .await
}

pub(super) async fn marks(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(branch): Path<String>,
    Query(q): Query<MutualQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let text = q.quarter.unwrap_or_default();
    let back = format!("/admin/branch/{branch}/mutual?quarter={text}");
    run(state, viewer.lang, back.clone(), move |state| {
        let quarter = mutual::quarter(&text)?;
        let pairs: Vec<(String, String)> = f
            .all("to")
            .into_iter()
            .zip(f.all("mark"))
            .map(|(to, mark)| (to.to_owned(), mark.to_owned()))
            .collect();
        mutual::give_marks(state, &viewer.actor, &branch, quarter, &pairs)?;
        Ok(back)
    })
    .await
}

pub(super) async fn bonus(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(branch): Path<String>,
    Query(q): Query<MutualQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let text = q.quarter.unwrap_or_default();
    let back = format!("/admin/branch/{branch}/mutual?quarter={text}");
    run(state, viewer.lang, back.clone(), move |state| {
        let quarter = mutual::quarter(&text)?;
        mutual::give_bonus(
            state,
            &viewer.actor,
            &branch,
            quarter,
            f.get("points"),
            f.get("reason"),
        )?;
        Ok(back)
    })
    .await
}
