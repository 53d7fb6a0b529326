//! The checklist template form (`/admin/branch/{branch}/template/{template}`, `new` for a
//! new one): one row per deduction rule; rows of the same category and text make one item.
//! Saving new items over a stored template makes a new version (see
//! [`crate::admin::directory::save_template`]).

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, Path, State as Shared};
use axum::response::Response;
use maud::html;

use super::branch::{check_branch, no_branch};
use super::{Fields, frame, run, show};
use crate::State;
use crate::admin::AdminError;
use crate::admin::directory::{self, TemplateRow, template_rows};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

/// Empty rows offered below a template's own, to add items.
const SPARE_ROWS: usize = 8;

pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, template)): Path<(String, String)>,
) -> Response {
    show(state, viewer, move |state, viewer| {
        check_branch(viewer, &branch)?;
        let lang = viewer.lang;
        let dir = directory::directory(state, &branch)?.ok_or_else(|| no_branch(&branch))?;
        let existing = if template == "new" {
            None
        } else {
            Some(dir.templates.get(&template).ok_or_else(|| {
                AdminError::invalid("本支部没有这个检查标准。", "The branch has no such template.")
            })?)
        };
        let mut rows = existing.map(template_rows).unwrap_or_default();
        rows.extend(std::iter::repeat_n(TemplateRow::default(), SPARE_ROWS));
        let superseded_by = dir
            .templates
            .iter()
            .find(|(_, t)| t.supersedes == template)
            .map(|(id, _)| id.clone());
        let body = html! {
            section {
                @if let Some(newer) = &superseded_by {
                    p.error { (l(lang, "这是旧版本，已被新版本取代：", "This version is superseded by a newer one: "))
                        a href=(link(&format!("/admin/branch/{branch}/template/{newer}"))) { (l(lang, "打开新版本", "open it")) } }
                }
                @if existing.is_some() {
                    p.muted { (l(lang, "修改检查项会生成新版本：用这个标准的责任区改用新版本，已经打过的分仍按旧版本计算。只改名称则原地修改。",
                        "Changing the items makes a new version: zones on this template move to it, and sheets already scored keep their scores. Changing only the name renames it in place.")) }
                }
                form method="post" action=(link(&format!("/admin/branch/{branch}/template/{template}"))) #template-form {
                    p { label { (l(lang, "名称", "Name")) " " input name="name" required maxlength="100" value=(existing.map(|t| t.name.as_str()).unwrap_or_default()); } }
                    table #template-rows {
                        tr {
                            th { (l(lang, "类别", "Category")) } th { (l(lang, "检查内容", "What is checked")) } th { (l(lang, "分值", "Max")) }
                            th { (l(lang, "扣分项", "Deduction")) } th { (l(lang, "每次扣分", "Points off")) } th { (l(lang, "须拍照", "Photo")) }
                        }
                        @for (n, row) in rows.iter().enumerate() {
                            tr {
                                td { input name="category" maxlength="100" size="8" value=(row.category); }
                                td { input name="text" maxlength="400" size="24" value=(row.text); }
                                td { input name="max" maxlength="8" size="4" inputmode="decimal" value=(row.max); }
                                td { input name="rule" maxlength="400" size="20" value=(row.rule); }
                                td { input name="points" maxlength="8" size="4" inputmode="decimal" value=(row.points); }
                                td { input type="checkbox" name="photo" value=(n) checked[row.needs_photo]; }
                            }
                        }
                    }
                    p { label { input type="checkbox" name="assign" checked; " " (l(lang, "还没有检查标准的责任区都用这个标准", "Use it for every zone that has no template yet")) } }
                    div.actions {
                        button.primary type="submit" { (l(lang, "保存", "Save")) }
                        a href=(link(&format!("/admin/branch/{branch}"))) { (l(lang, "返回支部", "Back to the branch")) }
                    }
                }
            }
        };
        let title = match existing {
            Some(t) => format!("{} · {}", t.name, l(lang, "检查标准", "Template")),
            None => l(lang, "新建检查标准", "New template").to_owned(),
        };
        Ok(frame(viewer, &title, body))
    })
    .await
}

pub(super) async fn save(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, template)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/branch/{branch}/template/{template}");
    run(state, viewer.lang, back, move |state| {
        let column = |name: &str| f.all(name);
        let (categories, texts, maxes, rules, points) = (
            column("category"),
            column("text"),
            column("max"),
            column("rule"),
            column("points"),
        );
        let photos = column("photo");
        let count = categories.len();
        if [&texts, &maxes, &rules, &points]
            .iter()
            .any(|c| c.len() != count)
        {
            return Err(AdminError::invalid(
                "表格不完整：请刷新页面后重填。",
                "The form came incomplete: reload the page and fill it in again.",
            ));
        }
        let rows: Vec<TemplateRow> = (0..count)
            .map(|n| TemplateRow {
                category: categories[n].to_owned(),
                text: texts[n].to_owned(),
                max: maxes[n].to_owned(),
                rule: rules[n].to_owned(),
                points: points[n].to_owned(),
                needs_photo: photos.contains(&n.to_string().as_str()),
            })
            .collect();
        let which = (template != "new").then_some(template.as_str());
        let id = directory::save_template(
            state,
            &viewer.actor,
            &branch,
            which,
            f.get("name"),
            &rows,
            f.checked("assign"),
        )?;
        Ok(format!("/admin/branch/{branch}/template/{id}"))
    })
    .await
}
