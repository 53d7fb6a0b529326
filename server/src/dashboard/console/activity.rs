//! The activity page (`/admin/activity?branch=…&by=…`): who changed what and when.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Query, State as Shared};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{frame, show, when};
use crate::State;
use crate::admin::activity::{self, Filter};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

#[derive(Deserialize)]
pub(super) struct ActivityQuery {
    branch: Option<String>,
    by: Option<String>,
}

pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<ActivityQuery>,
) -> Response {
    show(state, viewer, move |state, viewer| {
        let lang = viewer.lang;
        let filter = Filter {
            branch: q.branch.filter(|b| !b.trim().is_empty()),
            by: q.by.filter(|b| !b.trim().is_empty()),
        };
        let records = activity::list(state, &viewer.actor, &filter)?;
        let body = html! {
            section {
                form method="get" action=(link("/admin/activity")) #activity-filter {
                    label { (l(lang, "支部编号", "Branch code")) " " input name="branch" maxlength="64" value=(filter.branch.as_deref().unwrap_or_default()); }
                    " "
                    label { (l(lang, "修改人", "Changed by")) " " input name="by" maxlength="64" value=(filter.by.as_deref().unwrap_or_default()); }
                    div.actions { button type="submit" { (l(lang, "筛选", "Filter")) } }
                }
                @if records.is_empty() {
                    p.muted #no-activity { (l(lang, "没有修改记录。", "Nothing on the record.")) }
                } @else {
                    table #activity {
                        tr { th { (l(lang, "时间", "When")) } th { (l(lang, "修改人", "Who")) } th { (l(lang, "支部", "Branch")) } th { (l(lang, "内容", "What")) } }
                        @for r in &records {
                            tr {
                                td { (when(state, r.at)) }
                                td { a href=(link(&format!("/admin/activity?by={}", r.by))) { (r.by) } }
                                td { a href=(link(&format!("/admin/activity?branch={}", r.branch))) { (r.branch) } }
                                td { (r.summary) }
                            }
                        }
                    }
                }
            }
        };
        Ok(frame(viewer, l(lang, "修改记录", "Activity"), body))
    })
    .await
}
