//! A problem's page (`/dash/problem/{branch}/{problem}`): its whole loop as a timeline — the
//! finding with its photos, each fix with its after-photos, each verification or reopening with
//! what is still wrong, each request for more time and the secretary's answer — with who and
//! when, in the mine's time zone.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use zonepatrol_shared::docs::{self, DocId, Outcome, PhotoRef, Problem};
use zonepatrol_shared::labels::moment_label;
use zonepatrol_shared::rules::problem::{ProblemStatus, timeline};

use super::{blocking, check_branch};
use crate::State;
use crate::dashboard::labels::{l, problem_status_label, severity_label};
use crate::dashboard::layout::{fail, layout};
use crate::dashboard::session::Viewer;
use crate::dashboard::views::branch_name;
use crate::reports;

pub(crate) async fn problem_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, name)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
        let c = reports::lock(state);
        if let Err(r) = check_branch(&c, &viewer, &branch) {
            return r;
        }
        let missing = || {
            fail(
                StatusCode::NOT_FOUND,
                lang,
                l(lang, "没有这个问题。", "There is no such problem."),
            )
        };
        let Some(zone_id) = c.problem(&branch, &name).map(|p| p.zone.clone()) else {
            return missing();
        };
        let facts = &c.branches()[&branch];
        let zone = facts.zones.get(&zone_id).map(|z| z.name.clone());
        let people = facts.members.clone();
        let (clock, branch_title) = (c.clock(), branch_name(&c, &branch));
        let today = c.today(crate::now_millis());
        drop(c);
        // The document itself, for the times, authors and notes the facts do not keep.
        let id = DocId::problem(&branch, &name);
        let problem = match state.store.doc(&id) {
            Ok(Some(stored)) => stored
                .load()
                .ok()
                .and_then(|doc| docs::read::<Problem, _>(&doc, &id).ok()),
            _ => None,
        };
        let Some(problem) = problem else {
            return missing();
        };
        let who = |user: &str| people.get(user).cloned().unwrap_or_else(|| user.to_owned());
        let when = |ms: i64| moment_label(clock, ms);
        let photos = |refs: &BTreeMap<String, PhotoRef>| -> Markup {
            html! {
                div.photos {
                    @for h in refs.keys() {
                        a href=(format!("/dash/photo/{branch}/{h}")) { img src=(format!("/dash/photo/{branch}/{h}")) alt=(l(lang, "照片", "photo")) loading="lazy"; }
                    }
                }
            }
        };
        let f = &problem.finding;
        let status = problem.status();
        let facts = problem.facts();
        // Whether each fix and judgement took effect where it falls in the loop.
        let applied: BTreeMap<&str, bool> = timeline(&facts)
            .into_iter()
            .map(|(f, now)| (f.id.as_str(), now.is_some()))
            .collect();
        // Every record in time order: fixes and requests for more time, judgements and answers.
        let mut entries: Vec<(i64, &str, bool)> = problem
            .rectifications
            .iter()
            .map(|(id, r)| (r.at, id.as_str(), true))
            .chain(problem.verifications.iter().map(|(id, v)| (v.at, id.as_str(), false)))
            .collect();
        entries.sort();
        let pending = problem.pending_extension().and_then(|e| e.request.extension);
        let body = html! {
            p {
                a href=(format!("/dash/zone/{branch}/{}", f.zone)) { (branch_title) " · " (zone.clone().unwrap_or_else(|| f.zone.clone())) }
                " · " a #history-link href=(super::history::history_link(&id)) { (l(lang, "修改历史", "History")) }
            }
            h1 {
                (f.description.as_str()) " "
                span.badge.(status_class(status)) #status { (problem_status_label(lang, status)) }
                @if problem.is_overdue(today) { " " span.badge.bad { (l(lang, "超期", "overdue")) } }
                @if let Some(until) = pending { " " span.badge.warn #pending-extension { (l(lang, "延期申请待批复：", "More time asked: ")) (until.to_string()) } }
            }
            p {
                (severity_label(lang, f.severity)) " · " (l(lang, "责任人", "Responsible")) " " (who(&f.responsible))
                " · " (l(lang, "期限", "Deadline")) " " (problem.deadline().map(|d| d.to_string()).unwrap_or_default())
            }
            ol #timeline {
                li.raised {
                    b { (l(lang, "提出问题", "Raised")) } " · " (who(&f.raised_by)) " · " (when(f.raised_at))
                    @if !f.measure.as_str().is_empty() { p { (l(lang, "整改措施：", "Measure: ")) (f.measure.as_str()) } }
                    p { (l(lang, "整改期限：", "Deadline: ")) (f.deadline.map(|d| d.to_string()).unwrap_or_default()) }
                    (photos(&f.photos))
                }
                @for (at, id, is_record) in &entries {
                    @if *is_record {
                        @if let Some(r) = problem.rectifications.get(*id) {
                            @if let Some(until) = r.extension {
                                li.asked {
                                    b { (l(lang, "申请延期至 ", "Asked for more time until ")) (until.to_string()) } " · " (who(&r.by)) " · " (when(*at))
                                    p { (r.note.as_str()) }
                                }
                            } @else {
                                li.fix {
                                    b { (l(lang, "整改", "Fixed")) } " · " (who(&r.by)) " · " (when(*at))
                                    @if !r.note.as_str().is_empty() { p { (r.note.as_str()) } }
                                    (photos(&r.photos))
                                }
                            }
                        }
                    } @else if let Some(v) = problem.verifications.get(*id) {
                        @match v.outcome {
                            Outcome::Verified | Outcome::Reopened => {
                                li.(if v.outcome == Outcome::Verified { "verified" } else { "reopened" }) {
                                    b {
                                        @if v.outcome == Outcome::Verified { (l(lang, "验证通过（销号）", "Verified (closed)")) }
                                        @else { (l(lang, "退回重新整改", "Reopened")) }
                                    }
                                    " · " (who(&v.by)) " · " (when(*at))
                                    @if applied.get(*id) != Some(&true) { " " span.muted { (l(lang, "（未生效：当时没有待验证的整改）", "(no effect: there was no fix to judge then)")) } }
                                    @if !v.note.as_str().is_empty() { p { (v.note.as_str()) } }
                                    @if let Some(d) = v.deadline { p { (l(lang, "新的整改期限：", "New deadline: ")) (d.to_string()) } }
                                }
                            }
                            Outcome::Extended => {
                                li.extended {
                                    b { (l(lang, "同意延期至 ", "More time granted until ")) (v.deadline.map(|d| d.to_string()).unwrap_or_default()) }
                                    " · " (who(&v.by)) " · " (when(*at))
                                    @if !v.note.as_str().is_empty() { p { (v.note.as_str()) } }
                                }
                            }
                            Outcome::NotExtended => {
                                li.refused {
                                    b { (l(lang, "不同意延期", "More time refused")) } " · " (who(&v.by)) " · " (when(*at))
                                    p { (v.note.as_str()) }
                                }
                            }
                        }
                    }
                }
            }
        };
        layout(
            lang,
            Some(&viewer),
            &format!("{} · {}", l(lang, "问题", "Problem"), f.description.as_str()),
            body,
        )
        .into_response()
    })
    .await
}

fn status_class(status: ProblemStatus) -> &'static str {
    match status {
        ProblemStatus::Verified => "good",
        ProblemStatus::Rectified => "warn",
        ProblemStatus::Open | ProblemStatus::Reopened => "bad",
    }
}
