//! The demonstration post form (`/admin/branch/{branch}/post/{post}`, `new` for a new one):
//! the five clears (area, demonstrators, basis and standard, assessor and assessment
//! standard, start and end dates), and ending a post or withdrawing its honour.

use std::sync::Arc;

use axum::extract::{Form, Path, State as Shared};
use axum::response::Response;
use maud::html;
use zonepatrol_shared::docs::{Post, PostStatus};

use super::branch::{check_branch, no_branch};
use super::{Fields, frame, run, show};
use crate::State;
use crate::admin::AdminError;
use crate::admin::directory::{self, PostInput};
use crate::dashboard::labels::{Lang, l};
use crate::dashboard::session::Viewer;

/// A post's status in words.
pub(super) fn status_label(lang: Lang, s: PostStatus) -> &'static str {
    match s {
        PostStatus::Proposed => l(lang, "已申报", "Proposed"),
        PostStatus::Approved => l(lang, "已批准", "Approved"),
        PostStatus::Rejected => l(lang, "未批准", "Rejected"),
        PostStatus::Active => l(lang, "在岗", "Active"),
        PostStatus::Revoked => l(lang, "已撤销", "Revoked"),
        PostStatus::Ended => l(lang, "已结束", "Ended"),
    }
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
        let day = |d: Option<zonepatrol_shared::docs::Day>| d.map(|d| d.0.to_string()).unwrap_or_default();
        let body = html! {
            section {
                @if existing.is_some() {
                    p { (l(lang, "状态：", "Status: ")) strong #post-status { (status_label(lang, p.status())) } }
                }
                form method="post" action=(format!("/admin/branch/{branch}/post/{post}")) #post-form {
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
                    p { label { (l(lang, "明确考核人", "Clear assessor")) " " input name="assessor" maxlength="100" value=(p.assessor); } }
                    p { label { (l(lang, "明确考核标准", "Clear assessment standard")) br; textarea name="assessment" rows="3" cols="50" maxlength="2000" { (p.assessment) } } }
                    p {
                        label { (l(lang, "开始日期", "Start")) " " input type="date" name="starts" value=(day(p.starts)); } " "
                        label { (l(lang, "结束日期", "End")) " " input type="date" name="ends" value=(day(p.ends)); }
                    }
                    div.actions {
                        button.primary type="submit" { (l(lang, "保存", "Save")) }
                        a href=(format!("/admin/branch/{branch}")) { (l(lang, "返回支部", "Back to the branch")) }
                    }
                }
            }
            @if existing.is_some() && p.status() == PostStatus::Active {
                section {
                    h2 { (l(lang, "结束或撤销", "End or withdraw")) }
                    form method="post" action=(format!("/admin/branch/{branch}/post/{post}/end")) #post-end {
                        div.actions { button type="submit" { (l(lang, "到期结束", "End the post")) } }
                    }
                    form method="post" action=(format!("/admin/branch/{branch}/post/{post}/end")) #post-revoke {
                        label { (l(lang, "撤销称号的原因", "Why the honour is withdrawn")) " " input name="reason" required maxlength="400" size="30"; }
                        div.actions { button type="submit" { (l(lang, "撤销称号", "Withdraw the honour")) } }
                    }
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
        };
        let which = (post != "new").then_some(post.as_str());
        let id = directory::save_post(state, &viewer.actor, &branch, which, &input)?;
        Ok(format!("/admin/branch/{branch}/post/{id}"))
    })
    .await
}

pub(super) async fn end(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, post)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/branch/{branch}/post/{post}");
    run(state, viewer.lang, back.clone(), move |state| {
        let reason = f.checked("reason").then(|| f.get("reason"));
        directory::end_post(state, &viewer.actor, &branch, &post, reason)?;
        Ok(back)
    })
    .await
}
