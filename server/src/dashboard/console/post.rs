//! The demonstration post form (`/admin/branch/{branch}/post/{post}`, `new` for a new one):
//! the five clears (area, demonstrators, basis and standard, assessor and assessment
//! standard, start and end dates) and the duty its placard shows; its life on the record;
//! approving or turning down an application (the secretary or an admin, never on their own
//! post), the quarterly review and withdrawing the title (摘牌, also a manager), ending it.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, Path, State as Shared};
use axum::response::Response;
use chrono::NaiveDate;
use maud::html;
use zonepatrol_shared::Role;
use zonepatrol_shared::docs::{Post, PostStatus};
use zonepatrol_shared::labels::{period_label, post_status_label, post_step_label};
use zonepatrol_shared::rules::period::{Period, PeriodKind};

use super::branch::{check_branch, no_branch};
use super::{Fields, frame, run, show};
use crate::admin::directory::{self, PostDecision, PostInput};
use crate::admin::{AdminError, may_administer_branch};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;
use crate::{State, reports};

/// Today at the mine.
pub(super) fn today(state: &State) -> NaiveDate {
    reports::lock(state).today(crate::now_millis())
}

/// The quarters (this one and the last) whose ranking flagged the post below its pass mark.
fn flagged(state: &State, branch: &str, post: &str, today: NaiveDate) -> Vec<Period> {
    let c = reports::lock(state);
    let this = Period::containing(PeriodKind::Quarter, today);
    [this.prev(), this]
        .into_iter()
        .filter(|q| {
            c.current(branch, *q)
                .is_some_and(|r| r.zones.values().any(|z| z.post == post && z.loses_title))
        })
        .collect()
}

pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, post)): Path<(String, String)>,
) -> Response {
    show(state, viewer, move |state, viewer| {
        check_branch(viewer, &branch)?;
        let lang = viewer.lang;
        let dir = directory::directory(state, &branch)?.ok_or_else(|| no_branch(&branch))?;
        let existing = if post == "new" {
            None
        } else {
            Some(dir.posts.get(&post).ok_or_else(|| {
                AdminError::invalid("本支部没有这个示范岗。", "The branch has no such post.")
            })?)
        };
        let p = existing.cloned().unwrap_or_else(Post::default);
        let today = today(state);
        let status = p.status_on(today);
        let keeper = may_administer_branch(&viewer.actor, &branch);
        let reviewer = keeper || viewer.actor.has(Role::Manager);
        let own = p.names(&viewer.actor.user);
        let flags = if existing.is_some() { flagged(state, &branch, &post, today) } else { Vec::new() };
        let name = |u: &str| dir.members.get(u).map_or_else(|| u.to_owned(), |m| m.name.clone());
        let clock = reports::lock(state).clock();
        let day = |d: Option<zonepatrol_shared::docs::Day>| d.map(|d| d.0.to_string()).unwrap_or_default();
        let decide = format!("/admin/branch/{branch}/post/{post}/decide");
        let body = html! {
            @if existing.is_some() {
                section #post-life {
                    p { (l(lang, "状态：", "Status: ")) strong #post-status { (post_status_label(lang, status)) } }
                    @for q in &flags {
                        p.flag { span.badge.bad { (period_label(lang, *q)) (l(lang, "排名低于合格线，建议摘牌", " ranking below the pass mark: title at risk")) } }
                    }
                    table #post-events {
                        tr { th { (l(lang, "日期", "Date")) } th { (l(lang, "事项", "Step")) } th { (l(lang, "记录人", "By")) } th { (l(lang, "原因或意见", "Reason or note")) } }
                        @for (_, e) in p.events_in_order() {
                            tr {
                                td { (clock.date_of_millis(e.at).map(|d| d.to_string()).unwrap_or_default()) }
                                td { (post_step_label(lang, e.step)) }
                                td { (name(&e.by)) }
                                td { (e.reason) }
                            }
                        }
                    }
                }
                @if keeper && status == PostStatus::Proposed && !own {
                    section #post-decide {
                        h2 { (l(lang, "审批申报", "Decide the application")) }
                        form method="post" action=(link(&decide)) #post-approve {
                            input type="hidden" name="step" value="approve";
                            div.actions { button.primary type="submit" { (l(lang, "批准", "Approve")) } }
                        }
                        form method="post" action=(link(&decide)) #post-reject {
                            input type="hidden" name="step" value="reject";
                            label { (l(lang, "不批准的原因", "Why it is turned down")) " " input name="reason" required maxlength="400" size="30"; }
                            div.actions { button type="submit" { (l(lang, "不批准", "Turn down")) } }
                        }
                    }
                }
                @if reviewer && matches!(status, PostStatus::Active | PostStatus::Approved) {
                    section #post-review {
                        h2 { (l(lang, "讲评与摘牌", "Review and withdrawal")) }
                        @if status == PostStatus::Active {
                            form method="post" action=(link(&decide)) #post-quarterly {
                                input type="hidden" name="step" value="review";
                                label { (l(lang, "季度讲评意见", "Quarterly review note")) " " input name="reason" required maxlength="400" size="40"; }
                                div.actions { button type="submit" { (l(lang, "记录讲评", "Record the review")) } }
                            }
                        }
                        form method="post" action=(link(&decide)) #post-revoke {
                            input type="hidden" name="step" value="revoke";
                            label { (l(lang, "摘牌原因", "Why the title is withdrawn")) " " input name="reason" required maxlength="400" size="40"; }
                            div.actions { button.danger type="submit" { (l(lang, "摘牌", "Withdraw the title")) } }
                        }
                        @if keeper {
                            form method="post" action=(link(&decide)) #post-end {
                                input type="hidden" name="step" value="end";
                                div.actions { button type="submit" { (l(lang, "提前结束", "End it now")) } }
                            }
                        }
                    }
                }
            }
            @if keeper {
                section {
                    form method="post" action=(link(&format!("/admin/branch/{branch}/post/{post}"))) #post-form {
                        p { label { (l(lang, "示范岗名称", "Title")) " " input name="title" required maxlength="100" size="30" value=(p.title); } }
                        p { label { (l(lang, "明确区域（责任区）", "Clear area (zone)")) " "
                            select name="zone" required {
                                @for (id, z) in &dir.zones {
                                    option value=(id) selected[p.zone == *id] { (z.name) }
                                }
                            }
                        } }
                        p { (l(lang, "明确示范者：", "Clear demonstrators:")) " "
                            @for (id, m) in &dir.members {
                                label { input type="checkbox" name="demonstrator" value=(id) checked[p.demonstrators.contains_key(id)]; " " (m.name) } " "
                            }
                        }
                        p { label { (l(lang, "明确依据和标准", "Clear basis and standard")) br; textarea name="standard" rows="3" cols="50" maxlength="2000" { (p.standard) } } }
                        p { label { (l(lang, "亮职责（公示牌上的职责）", "Duty (as the placard shows it)")) br; textarea name="duty" rows="2" cols="50" maxlength="2000" { (p.duty) } } }
                        p { label { (l(lang, "明确考核人", "Clear assessor")) " " input name="assessor" maxlength="100" value=(p.assessor); } }
                        p { label { (l(lang, "明确考核标准", "Clear assessment standard")) br; textarea name="assessment" rows="3" cols="50" maxlength="2000" { (p.assessment) } } }
                        p {
                            label { (l(lang, "开始日期", "Start")) " " input type="date" name="starts" value=(day(p.starts)); } " "
                            label { (l(lang, "结束日期", "End")) " " input type="date" name="ends" value=(day(p.ends)); }
                        }
                        div.actions {
                            button.primary type="submit" { (l(lang, "保存", "Save")) }
                            a href=(link(&format!("/admin/branch/{branch}"))) { (l(lang, "返回支部", "Back to the branch")) }
                        }
                    }
                }
            } @else {
                section #post-clears {
                    dl {
                        dt { (l(lang, "明确区域", "Clear area")) } dd { (dir.zones.get(&p.zone).map_or(p.zone.as_str(), |z| z.name.as_str())) }
                        dt { (l(lang, "明确示范者", "Clear demonstrators")) } dd { (p.demonstrators.keys().map(|u| name(u)).collect::<Vec<_>>().join("、")) }
                        dt { (l(lang, "明确依据和标准", "Clear basis and standard")) } dd { (p.standard) }
                        dt { (l(lang, "职责", "Duty")) } dd { (p.duty) }
                        dt { (l(lang, "明确考核人", "Clear assessor")) } dd { (p.assessor) }
                        dt { (l(lang, "明确考核标准", "Clear assessment standard")) } dd { (p.assessment) }
                        dt { (l(lang, "起止日期", "Term")) } dd { (day(p.starts)) " — " (day(p.ends)) }
                    }
                    a href=(link(&format!("/admin/branch/{branch}"))) { (l(lang, "返回支部", "Back to the branch")) }
                }
            }
        };
        let title = match existing {
            Some(p) => format!("{} · {}", p.title, l(lang, "示范岗", "Post")),
            None => l(lang, "新建示范岗", "New post").to_owned(),
        };
        Ok(frame(viewer, &title, body))
    })
    .await
}

pub(super) async fn save(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, post)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/branch/{branch}/post/{post}");
    run(state, viewer.lang, back, move |state| {
        let input = PostInput {
            zone: f.get("zone").to_owned(),
            title: f.get("title").to_owned(),
            demonstrators: f
                .all("demonstrator")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            standard: f.get("standard").to_owned(),
            assessor: f.get("assessor").to_owned(),
            assessment: f.get("assessment").to_owned(),
            starts: f.get("starts").to_owned(),
            ends: f.get("ends").to_owned(),
            duty: f.get("duty").to_owned(),
        };
        let which = (post != "new").then_some(post.as_str());
        let id = directory::save_post(state, &viewer.actor, &branch, which, &input)?;
        Ok(format!("/admin/branch/{branch}/post/{id}"))
    })
    .await
}

pub(super) async fn decide(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, post)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/branch/{branch}/post/{post}");
    run(state, viewer.lang, back.clone(), move |state| {
        let decision = match f.get("step") {
            "approve" => PostDecision::Approve,
            "reject" => PostDecision::Reject,
            "review" => PostDecision::Review,
            "revoke" => PostDecision::Revoke,
            "end" => PostDecision::End,
            _ => {
                return Err(AdminError::invalid(
                    "请选择要做的处理。",
                    "Choose what to record.",
                ));
            }
        };
        directory::decide_post(
            state,
            &viewer.actor,
            &branch,
            &post,
            decision,
            f.get("reason"),
        )?;
        Ok(back)
    })
    .await
}
