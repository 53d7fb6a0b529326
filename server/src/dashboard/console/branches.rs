//! The console's first page (`/admin`): the branches the viewer keeps, and a new branch.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, State as Shared};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use zonepatrol_shared::labels::category_label;
use zonepatrol_shared::{BranchCategory, Role};

use super::{Fields, frame, run, show};
use crate::State;
use crate::admin::directory::{self, BranchInput};
use crate::admin::{AdminError, input};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

pub(super) async fn page(Shared(state): Shared<Arc<State>>, viewer: Viewer) -> Response {
    show(state, viewer, |state, viewer| {
        let lang = viewer.lang;
        let is_admin = viewer.actor.has(Role::Admin);
        if !viewer.actor.is_company_wide() {
            // A secretary keeps one branch: straight to it.
            return Ok(Redirect::to(&link(&format!("/admin/branch/{}", viewer.actor.branch))).into_response());
        }
        let list = directory::branches(state, &viewer.actor)?;
        let body = html! {
            section {
                h2 { (l(lang, "支部", "Branches")) }
                @if list.is_empty() {
                    p.muted #no-branches { (l(lang, "还没有支部：先在下面新建一个，或从 Excel 导入。", "No branches yet: create one below.")) }
                } @else {
                    table #branches {
                        tr { th { (l(lang, "编号", "Code")) } th { (l(lang, "名称", "Name")) } th { (l(lang, "类别", "Category")) } th { (l(lang, "状态", "State")) } }
                        @for (id, info) in &list {
                            tr {
                                td { (id) }
                                td { a href=(link(&format!("/admin/branch/{id}"))) { (info.name) } }
                                td { (u8::try_from(info.category).ok().and_then(|n| BranchCategory::try_from(n).ok()).map_or("—", |c| category_label(lang, c))) }
                                td { @if info.retired { span.badge.warn { (l(lang, "已停用", "Retired")) } } @else { (l(lang, "在用", "In use")) } }
                            }
                        }
                    }
                }
            }
            @if is_admin { section {
                h2 { (l(lang, "新建支部", "New branch")) }
                form method="post" action=(link("/admin/branch")) #new-branch {
                    label { (l(lang, "名称", "Name")) " " input name="name" required maxlength="100"; }
                    " "
                    label { (l(lang, "编号（可不填）", "Code (optional)")) " " input name="code" maxlength="64" pattern="[A-Za-z0-9._\\-]*"; }
                    " "
                    label { (l(lang, "类别", "Category")) " " (category_select(lang, None)) }
                    div.actions { button.primary type="submit" { (l(lang, "新建", "Create")) } }
                }
            } }
        };
        Ok(frame(viewer, l(lang, "设置控制台", "Set-up console"), body))
    })
    .await
}

/// The category as a choice of four.
pub(super) fn category_select(
    lang: zonepatrol_shared::labels::Lang,
    now: Option<BranchCategory>,
) -> maud::Markup {
    html! {
        select name="category" {
            @for c in BranchCategory::ALL {
                option value=(c.number()) selected[now == Some(c)] { (c.number()) " · " (category_label(lang, c)) }
            }
        }
    }
}

/// The branch's name, category and state from a posted form.
pub(super) fn branch_input(f: &Fields) -> Result<BranchInput, AdminError> {
    let category = input::category(f.get("category")).ok_or_else(|| {
        AdminError::invalid(
            "类别只能是 1–4（主要生产、辅助生产、后勤服务、机关）。",
            "The category is 1–4 (main production, auxiliary, service, offices).",
        )
    })?;
    Ok(BranchInput {
        name: f.get("name").to_owned(),
        category,
        retired: f.checked("retired"),
    })
}

pub(super) async fn create(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let lang = viewer.lang;
    run(state, lang, "/admin".into(), move |state| {
        let input = branch_input(&f)?;
        let code = Some(f.get("code")).filter(|c| !c.trim().is_empty());
        let id = directory::create_branch(state, &viewer.actor, code, &input)?;
        Ok(format!("/admin/branch/{id}"))
    })
    .await
}
