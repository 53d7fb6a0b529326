//! The ledger page (`/dash/ledger/{branch}/{month}`): a branch's monthly ledger.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use zonepatrol_shared::rules::period::{Period, PeriodKind};

use super::branch_page;
use super::overview::{ledger_table, member_table, publish_form};
use crate::State;
use crate::dashboard::labels::l;
use crate::dashboard::layout::{fail, layout};
use crate::dashboard::session::Viewer;
use crate::dashboard::views::ledger;

pub(crate) async fn ledger_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, month)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    branch_page(state, viewer, branch, move |c, viewer, branch| {
        let Some(month) = month
            .parse::<Period>()
            .ok()
            .filter(|p| p.kind() == PeriodKind::Month)
        else {
            return fail(
                StatusCode::NOT_FOUND,
                lang,
                l(lang, "月份应写成 2026-11。", "Write the month as 2026-11."),
            );
        };
        let book = ledger(&c, &branch, month, lang);
        let here = format!("/dash/ledger/{branch}/{month}");
        let body = html! {
            h1 { (book.branch_name) " · " (book.month_label) " · " (l(lang, "月度考评台账", "Monthly ledger")) }
            nav.tabs {
                a href=(link(&format!("/dash/ledger/{branch}/{}", month.prev()))) { "‹ " (l(lang, "上月", "previous")) }
                a href=(link(&format!("/dash/ledger/{branch}/{}", month.next()))) { (l(lang, "下月", "next")) " ›" }
            }
            section { (ledger_table(lang, &branch, &book))
                div.actions { a href=(link(&format!("/dash/export/ledger/{branch}/{month}"))) download { (l(lang, "导出 Excel", "Export to Excel")) } }
                (publish_form(&c, &viewer, &branch, month, &here))
            }
            section {
                h2 { (l(lang, "党员业绩考核台帐", "Money per member")) }
                (member_table(lang, &book))
            }
        };
        layout(
            lang,
            Some(&viewer),
            l(lang, "月度考评台账", "Monthly ledger"),
            body,
        )
        .into_response()
    })
    .await
}
