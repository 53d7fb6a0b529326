//! A problem's page (`/dash/problem/{branch}/{problem}`): its whole loop as a timeline — the
//! finding with its photos, each fix with its after-photos, each verification or reopening with
//! what is still wrong, each request for more time and the secretary's answer — with who and
//! when, in the mine's time zone.

use crate::dashboard::base::link;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;

use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use zonepatrol_shared::docs::{self, DocId, Outcome, PhotoRef, Problem};
use zonepatrol_shared::labels::moment_label;
use zonepatrol_shared::rules::period::MineClock;
use zonepatrol_shared::rules::problem::{ProblemStatus, timeline};

use super::{blocking, check_branch};
use crate::State;
use crate::dashboard::export::{
    NOTICE_PHOTOS, PrintedPhoto, ProblemNotice, attachment, problem_svg,
};
use crate::dashboard::labels::{l, problem_status_label, severity_label};
use crate::dashboard::layout::{fail, layout};
use crate::dashboard::session::Viewer;
use crate::dashboard::views::branch_name;
use crate::reports;

/// A problem's document and what its pages name it by, read for a viewer who may see its
/// branch; the page to answer with when there is none.
pub(crate) struct Loaded {
    /// The problem as its document holds it.
    pub problem: Problem,
    /// Its document's id.
    pub id: DocId,
    /// The zone's name (its id when the directory no longer has it).
    pub zone_name: String,
    /// Members' names by user id.
    pub people: BTreeMap<String, String>,
    /// The mine's clock.
    pub clock: MineClock,
    /// The branch's name.
    pub branch_title: String,
    /// Today at the mine.
    pub today: NaiveDate,
}

impl Loaded {
    /// A member's name, or the user id of someone no longer in the directory.
    pub fn who(&self, user: &str) -> String {
        self.people
            .get(user)
            .cloned()
            .unwrap_or_else(|| user.to_owned())
    }
}

/// Reads the problem `name` of `branch` for the viewer (on a blocking thread).
#[allow(clippy::result_large_err)] // The error is the page to answer with, built once.
pub(crate) fn load(
    state: &State,
    viewer: &Viewer,
    branch: &str,
    name: &str,
) -> Result<Loaded, Response> {
    let lang = viewer.lang;
    let c = reports::lock(state);
    check_branch(&c, viewer, branch)?;
    let missing = || {
        fail(
            StatusCode::NOT_FOUND,
            lang,
            l(lang, "没有这个问题。", "There is no such problem."),
        )
    };
    let Some(zone_id) = c.problem(branch, name).map(|p| p.zone.clone()) else {
        return Err(missing());
    };
    let facts = &c.branches()[branch];
    let zone_name = facts
        .zones
        .get(&zone_id)
        .map_or_else(|| zone_id.clone(), |z| z.name.clone());
    let people = facts.members.clone();
    let (clock, branch_title) = (c.clock(), branch_name(&c, branch));
    let today = c.today(crate::now_millis());
    drop(c);
    // The document itself, for the times, authors, notes and photos the facts do not keep.
    let id = DocId::problem(branch, name);
    let problem = match state.store.doc(&id) {
        Ok(Some(stored)) => stored
            .load()
            .ok()
            .and_then(|doc| docs::read::<Problem, _>(&doc, &id).ok()),
        _ => None,
    };
    let Some(problem) = problem else {
        return Err(missing());
    };
    Ok(Loaded {
        problem,
        id,
        zone_name,
        people,
        clock,
        branch_title,
        today,
    })
}

pub(crate) async fn problem_page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, name)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
        let loaded = match load(state, &viewer, &branch, &name) {
            Ok(loaded) => loaded,
            Err(r) => return r,
        };
        let (clock, today) = (loaded.clock, loaded.today);
        let (id, problem) = (&loaded.id, &loaded.problem);
        let who = |user: &str| loaded.who(user);
        let when = |ms: i64| moment_label(clock, ms);
        // Each photo with what was marked on it drawn over it.
        let photos = |refs: &BTreeMap<String, PhotoRef>| -> Markup {
            html! {
                div.photos.big {
                    @for (h, r) in refs {
                        a.ph href=(link(&format!("/dash/photo/{branch}/{h}"))) {
                            img src=(link(&format!("/dash/photo/{branch}/{h}"))) alt=(l(lang, "照片", "photo")) loading="lazy";
                            (PreEscaped(r.overlay_contained("marks")))
                        }
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
                a href=(link(&format!("/dash/zone/{branch}/{}", f.zone))) { (loaded.branch_title) " · " (loaded.zone_name) }
                " · " a #history-link href=(super::history::history_link(id)) { (l(lang, "修改历史", "History")) }
                " · " a #notice-link href=(link(&format!("/dash/export/problem/{branch}/{name}"))) { (l(lang, "整改通知单（可打印）", "Rectification notice (printable)")) }
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

/// The photos a printed page may embed at full size: larger ones are printed from their
/// thumbnails, so that a page stays a few megabytes.
const PRINT_FULL_BYTES: u64 = 3 * 1024 * 1024;

/// A photo's JPEG for a printed page, if the server has it.
fn printed(state: &State, hash: &str, photo: &PhotoRef) -> PrintedPhoto {
    let read = |h: &str| -> Option<Vec<u8>> {
        let len = state.blobs.size(h).ok()??;
        (len <= PRINT_FULL_BYTES)
            .then(|| state.blobs.read(h).ok().flatten()?.into_bytes().ok())
            .flatten()
    };
    let jpeg = docs::values::is_sha256_hex(hash)
        .then(|| read(hash))
        .flatten()
        .or_else(|| {
            docs::values::is_sha256_hex(&photo.thumb)
                .then(|| read(&photo.thumb))
                .flatten()
        });
    PrintedPhoto {
        jpeg,
        photo: photo.clone(),
    }
}

/// A problem's rectification notice (`/dash/export/problem/{branch}/{problem}`): an A4 SVG to
/// print, its photos with their marks.
pub(crate) async fn problem_notice(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, name)): Path<(String, String)>,
) -> Response {
    let lang = viewer.lang;
    blocking(state, move |state| {
        let loaded = match load(state, &viewer, &branch, &name) {
            Ok(loaded) => loaded,
            Err(r) => return r,
        };
        let p = &loaded.problem;
        let f = &p.finding;
        // Only the photos the page prints are read, in the order taken.
        let photos = |refs: &BTreeMap<String, PhotoRef>| -> Vec<PrintedPhoto> {
            docs::in_order_taken(refs)
                .into_iter()
                .take(NOTICE_PHOTOS)
                .map(|(h, r)| printed(state, h, r))
                .collect()
        };
        let fix = p
            .fixes()
            .max_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0)))
            .map(|(_, r)| {
                (
                    format!(
                        "{} · {}",
                        loaded.who(&r.by),
                        moment_label(loaded.clock, r.at)
                    ),
                    r.note.as_str().to_owned(),
                    photos(&r.photos),
                )
            });
        let notice = ProblemNotice {
            branch_name: loaded.branch_title.clone(),
            zone_name: loaded.zone_name.clone(),
            description: f.description.as_str().to_owned(),
            severity: severity_label(lang, f.severity).to_owned(),
            status: problem_status_label(lang, p.status()).to_owned(),
            responsible: loaded.who(&f.responsible),
            deadline: p.deadline().map(|d| d.to_string()).unwrap_or_default(),
            measure: f.measure.as_str().to_owned(),
            raised: format!(
                "{} · {}",
                loaded.who(&f.raised_by),
                moment_label(loaded.clock, f.raised_at)
            ),
            photos: photos(&f.photos),
            fix,
        };
        let svg = problem_svg(&notice, lang);
        attachment(
            "image/svg+xml",
            &format!("problem-{branch}-{name}.svg"),
            svg.into_bytes(),
        )
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
