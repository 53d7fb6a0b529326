//! Import from Excel (`/admin/import`): the template workbook to download, a filled one
//! uploaded and previewed (every row's result, every error by sheet, row and column), then
//! applied on confirmation. The uploaded file waits in the data directory's `imports/` under
//! its SHA-256 until it is applied (at most [`KEPT`] wait, none longer than an hour).

use crate::dashboard::base::link;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, Multipart, State as Shared};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use sha2::{Digest, Sha256};
use zonepatrol_shared::labels::Lang;

use super::{Fields, frame, refused, show};
use crate::State;
use crate::admin::AdminError;
use crate::admin::import::{self, Action, MAX_BYTES, Plan};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

/// Uploaded workbooks kept waiting for confirmation.
const KEPT: usize = 16;
/// How long an uploaded workbook waits.
const WAIT: Duration = Duration::from_secs(3600);

fn dir(state: &State) -> PathBuf {
    state.settings.data_dir.join("imports")
}

/// Keeps an upload under its hash, dropping the stale and the oldest beyond [`KEPT`].
fn keep(state: &State, bytes: &[u8]) -> std::io::Result<String> {
    let dir = dir(state);
    std::fs::create_dir_all(&dir)?;
    let mut waiting: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    waiting.sort();
    let now = std::time::SystemTime::now();
    let excess = waiting.len().saturating_sub(KEPT - 1);
    for (n, (at, path)) in waiting.iter().enumerate() {
        if n < excess || now.duration_since(*at).unwrap_or_default() > WAIT {
            let _ = std::fs::remove_file(path);
        }
    }
    let hash = hex::encode(Sha256::digest(bytes));
    let tmp = dir.join(format!("{hash}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(format!("{hash}.xlsx")))?;
    Ok(hash)
}

fn kept(state: &State, hash: &str) -> Option<Vec<u8>> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let path = dir(state).join(format!("{hash}.xlsx"));
    let age = std::fs::metadata(&path)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    if age > WAIT {
        let _ = std::fs::remove_file(&path);
        return None;
    }
    std::fs::read(path).ok()
}

pub(super) async fn page(Shared(state): Shared<Arc<State>>, viewer: Viewer) -> Response {
    show(state, viewer, |_, viewer| {
        let lang = viewer.lang;
        let body = html! {
            section {
                ol {
                    li { a #import-template href=(link("/admin/import/template.xlsx")) download { (l(lang, "下载模板工作簿", "Download the template workbook")) }
                        " " span.muted { (l(lang, "（支部、责任区、成员三张表，第 1 行是标题，不要改动）", "(sheets for branches, zones and members; keep row 1 as it is)")) } }
                    li { (l(lang, "在 Excel 或 WPS 中填写，保存为 .xlsx。", "Fill it in with Excel or WPS and save it as .xlsx.")) }
                    li { (l(lang, "上传后先预览：每一行的结果和每个错误都会列出，确认后才会保存。", "Upload it: you see every row's result and every error first; nothing is saved until you confirm.")) }
                }
                form method="post" action=(link("/admin/import")) enctype="multipart/form-data" #import-form {
                    input type="file" name="workbook" accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required;
                    div.actions { button.primary type="submit" { (l(lang, "上传并预览", "Upload and preview")) } }
                }
            }
        };
        Ok(frame(viewer, l(lang, "从 Excel 导入", "Import from Excel"), body))
    })
    .await
}

pub(super) async fn template(viewer: Viewer) -> Response {
    let lang = viewer.lang;
    if let Some(closed) = super::closed_to(&viewer) {
        return closed;
    }
    match import::template_workbook() {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"zonepatrol-import.xlsx\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => refused(lang, &e, "/admin/import"),
    }
}

fn action_label(lang: Lang, a: Action) -> &'static str {
    match a {
        Action::New => l(lang, "新增", "New"),
        Action::Change => l(lang, "修改", "Change"),
        Action::Same => l(lang, "无变化", "No change"),
    }
}

fn preview(viewer: &Viewer, plan: &Plan, hash: &str) -> Response {
    let lang = viewer.lang;
    let body = html! {
        @if !plan.errors.is_empty() {
            section {
                h2 { (l(lang, "错误：改正后重新上传，什么都没有保存", "Errors: fix them and upload again; nothing was saved")) }
                table #import-errors {
                    tr { th { (l(lang, "表", "Sheet")) } th.n { (l(lang, "行", "Row")) } th { (l(lang, "列", "Column")) } th { (l(lang, "问题与办法", "What to do")) } }
                    @for e in &plan.errors {
                        tr {
                            td { (e.sheet) }
                            td.n { @if e.row > 0 { (e.row) } }
                            td { (e.column) }
                            td { (lang.pick(&e.zh, &e.en)) }
                        }
                    }
                }
                div.actions { a href=(link("/admin/import")) { (l(lang, "重新上传", "Upload again")) } }
            }
        }
        section {
            h2 { (l(lang, "预览", "Preview")) }
            table #import-rows {
                tr { th { (l(lang, "表", "Sheet")) } th.n { (l(lang, "行", "Row")) } th { (l(lang, "内容", "What")) } th { (l(lang, "结果", "Result")) } }
                @for r in &plan.rows {
                    tr {
                        td { (r.sheet) }
                        td.n { (r.row) }
                        td { (r.subject) }
                        td { (action_label(lang, r.action)) }
                    }
                }
            }
            @if plan.errors.is_empty() {
                @if plan.changes_something() {
                    form method="post" action=(link("/admin/import/apply")) #import-apply {
                        input type="hidden" name="workbook" value=(hash);
                        div.actions { button.primary type="submit" { (l(lang, "确认导入", "Apply")) } }
                    }
                } @else {
                    p #import-nothing { (l(lang, "工作簿与现有设置完全一致，没有需要导入的内容。", "The workbook matches the mine as it is: nothing to import.")) }
                }
            }
        }
    };
    frame(viewer, l(lang, "导入预览", "Import preview"), body)
}

fn too_large() -> AdminError {
    let (zh, en) = import::too_large_words();
    AdminError::invalid(zh, en)
}

/// Reads the uploaded file, at most [`MAX_BYTES`] and one more byte to tell it is too large.
async fn upload(mut form: Multipart) -> Result<Vec<u8>, AdminError> {
    let bad = || {
        AdminError::invalid(
            "没有收到工作簿：请选择一个 .xlsx 文件再上传。",
            "No workbook arrived: choose an .xlsx file and upload it.",
        )
    };
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(bad()),
        };
        if field.name() != Some("workbook") {
            continue;
        }
        let mut bytes = Vec::new();
        let mut over = false;
        loop {
            match field.chunk().await {
                // Past the largest workbook, the rest is read and dropped, so that the
                // browser gets the answer instead of a cut connection.
                Ok(Some(_)) if over => {}
                Ok(Some(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_BYTES {
                        over = true;
                        bytes = Vec::new();
                    }
                }
                Ok(None) if over => return Err(too_large()),
                Ok(None) => return Ok(bytes),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(_) => return Err(bad()),
            }
        }
    }
    Err(bad())
}

pub(super) async fn preview_upload(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    form: Multipart,
) -> Response {
    let lang = viewer.lang;
    if !crate::admin::may_administer(&viewer.actor) {
        return refused(
            lang,
            &AdminError::forbidden(
                "设置控制台供管理员和支部书记使用。",
                "The console is for admins and branch secretaries.",
            ),
            "/dash",
        );
    }
    let bytes = match upload(form).await {
        Ok(b) => b,
        Err(e) => return refused(lang, &e, "/admin/import"),
    };
    show(state, viewer, move |state, viewer| {
        let plan = import::plan(state, &viewer.actor, &bytes)?;
        let hash = if plan.errors.is_empty() {
            keep(state, &bytes).map_err(|e| AdminError::Failed(e.to_string()))?
        } else {
            String::new()
        };
        let mut r = preview(viewer, &plan, &hash);
        if !plan.errors.is_empty() {
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        Ok(r)
    })
    .await
}

pub(super) async fn apply(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let lang = viewer.lang;
    let hash = f.get("workbook").to_owned();
    show(state, viewer, move |state, viewer| {
        let bytes = kept(state, &hash).ok_or_else(|| {
            AdminError::invalid(
                "上传的工作簿已过期或已导入：请重新上传。",
                "The uploaded workbook expired or was applied already: upload it again.",
            )
        })?;
        // Taken out of waiting first, so that a second confirmation finds nothing.
        let _ = std::fs::remove_file(dir(state).join(format!("{hash}.xlsx")));
        // Checked again against the mine as it is now, and applied in the same turn.
        let changed = match import::plan_and_apply(state, &viewer.actor, &bytes)? {
            Ok(changed) => changed,
            Err(plan) => return Ok(preview(viewer, &plan, "")),
        };
        let body = html! {
            section {
                p #import-done { (l(lang, "已导入，改变了", "Imported; rows that changed something: ")) " " (changed) " " (l(lang, "行。", "")) }
                div.actions { a href=(link("/admin")) { (l(lang, "查看支部", "See the branches")) } }
            }
        };
        Ok(frame(viewer, l(lang, "导入完成", "Import done"), body))
    })
    .await
}
