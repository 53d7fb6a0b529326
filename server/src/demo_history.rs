//! The demo mine's living history: what a branch records over two months, written on first
//! start of `demo` so that the dashboard and the app show what the product does.
//!
//! Every record is made as the person who makes it on a phone and goes through the same path
//! as a phone's push ([`admin::edit_document`]: real automerge changes, validated by
//! `shared::validate`, stored by the one writer, consolidated): eight weeks of weekly
//! inspections by five inspectors (the current one included), a ten-day supervision, three
//! months of self-scores and assessments, problems in every state (open, overdue, fixed,
//! verified, reopened) with photos and a request for more time waiting for the secretary,
//! cleanups, demonstration posts (one in force, an application waiting, a title withdrawn),
//! and last month published by the manager. The photos are the repository's own
//! (`server/demo-photos/`, CC-BY-SA, with their attribution).

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use sha2::{Digest, Sha256};
use zonepatrol_shared::docs::{
    Assessment, Cleanup, Day, Directory, DocId, Document, FreeText, ItemEntry, LockAction,
    MarkKind, Outcome, Patrol, PhotoMark, PhotoRef, Post, PostEvent, PostStep, Problem,
    Rectification, Sheet, Tally, Verification, WorkItem, ZoneSheet, marks,
};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::rules::suggest::AssessmentItem;
use zonepatrol_shared::{Actor, PatrolKind, Points, Role, Severity};

use crate::State;
use crate::admin::{self, AdminError};
use crate::demo::{INSPECTORS, ZONES};
use crate::store::BlobMeta;

/// The branch the history is written for.
const BRANCH: &str = "zcyd";
/// The zone holders of [`ZONES`], in order.
const HOLDERS: [&str; 4] = ["h1", "h2", "h3", "h4"];
/// Weeks of weekly inspections, the current one included.
const WEEKS: u64 = 8;

/// A photo of the history: the file and its thumbnail, as the app's pipeline makes them.
struct Photo {
    bytes: &'static [u8],
    thumb: &'static [u8],
    /// The full-size photo's width and height in pixels.
    size: (u32, u32),
}

const BEFORE: Photo = Photo {
    bytes: include_bytes!("../demo-photos/before.jpg"),
    thumb: include_bytes!("../demo-photos/before-thumb.jpg"),
    size: (1422, 1600),
};
const AFTER: Photo = Photo {
    bytes: include_bytes!("../demo-photos/after.jpg"),
    thumb: include_bytes!("../demo-photos/after-thumb.jpg"),
    size: (1422, 1600),
};

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn failed(e: impl std::fmt::Display) -> AdminError {
    AdminError::Failed(e.to_string())
}

/// Stores a photo's two files as a phone's upload would leave them; returns the reference a
/// document keeps.
fn store_photo(
    state: &State,
    photo: &Photo,
    by: &str,
    at: i64,
) -> Result<(String, PhotoRef), AdminError> {
    for bytes in [photo.bytes, photo.thumb] {
        let h = hash(bytes);
        if !state.blobs.has(&h) {
            state.blobs.put(&h, bytes).map_err(failed)?;
        }
        if state.store.blob(&h)?.is_none() {
            state.store.put_blob(
                &h,
                &BlobMeta {
                    size: bytes.len() as u64,
                    branch: BRANCH.to_owned(),
                    by: by.to_owned(),
                    at,
                    also: Vec::new(),
                },
            )?;
        }
    }
    Ok((
        hash(photo.bytes),
        PhotoRef {
            thumb: hash(photo.thumb),
            taken_at: Some(at),
            width: photo.size.0,
            height: photo.size.1,
            marks: Default::default(),
        },
    ))
}

/// A moment on a day at the mine, `hour` o'clock.
fn at(state: &State, day: NaiveDate, hour: u32) -> i64 {
    let naive = day.and_hms_opt(hour, 0, 0).unwrap_or_default();
    naive
        .and_local_timezone(state.settings.clock.tz)
        .earliest()
        .map_or(0, |t| t.timestamp_millis())
}

fn person(user: &str, role: Role) -> Actor {
    Actor::new(user, role, BRANCH)
}

/// Writes a record as `who` through the phones' path.
fn record<D: Document>(
    state: &State,
    who: &Actor,
    id: &DocId,
    change: impl FnOnce(&mut D),
) -> Result<(), AdminError> {
    admin::edit_document::<D>(state, who, id, "demo", |d| {
        change(d);
        Ok(())
    })
    .map(|_| ())
}

/// A small, fixed spread of deductions: the same history on every start.
fn count(week: u64, inspector: usize, zone: usize, item: usize) -> i64 {
    let x = (week * 31 + inspector as u64 * 7 + zone as u64 * 13 + item as u64 * 3) % 17;
    match x {
        0 => 2,
        1..=3 => 1,
        _ => 0,
    }
}

/// Writes the history, as of today; returns how many records it wrote.
pub fn write(state: &State) -> Result<usize, AdminError> {
    let now = crate::now_millis();
    let clock = state.settings.clock;
    let today = clock
        .date_of_millis(now)
        .ok_or_else(|| failed("no date today"))?;
    let sec = person("sec", Role::Secretary);
    let mut written = 0;

    // Eight weeks of weekly inspections by five inspectors, each closed by the secretary.
    for w in 0..WEEKS {
        let day = Period::containing(PeriodKind::Week, today - Days::new(7 * w)).first_day();
        let name = format!("demo-{}", Period::containing(PeriodKind::Week, day));
        patrol(
            state,
            &sec,
            &name,
            PatrolKind::Weekly,
            day,
            &INSPECTORS,
            |i, z, item| count(w, i, z, item),
        )?;
        written += 1 + INSPECTORS.len();
    }
    // A ten-day supervision by the secretary this month.
    let day = today.with_day(1).unwrap_or(today).max(today - Days::new(3));
    patrol(
        state,
        &sec,
        "demo-ten-day",
        PatrolKind::TenDay,
        day,
        &["sec"],
        |_, z, item| count(99, 0, z, item),
    )?;
    written += 2;

    // Three months of self-scores and assessments.
    let this_month = Period::containing(PeriodKind::Month, today);
    let last_month = this_month.prev();
    for (m, month) in [last_month.prev(), last_month, this_month]
        .into_iter()
        .enumerate()
    {
        let day = if month == this_month {
            today
        } else {
            month.last_day()
        };
        for (z, ((zone, _), holder)) in ZONES.iter().zip(HOLDERS).enumerate() {
            let id = DocId::assessment(BRANCH, *zone, month);
            let own = 97 - (z as i64 * 3 + m as i64) % 9;
            let fin = own - (z as i64 + m as i64) % 4;
            let when = at(state, day, 9).min(now - 60_000);
            record::<Assessment>(state, &person(holder, Role::ZoneHolder), &id, |a| {
                a.self_score.items = items(own);
                a.self_score.by = holder.to_owned();
                a.self_score.at = Some(when);
            })?;
            record::<Assessment>(state, &sec, &id, |a| {
                a.branch_score.items = items(fin);
                a.branch_score.by = "sec".to_owned();
                a.branch_score.at = Some(when + 60_000.min(now - when));
            })?;
            written += 2;
        }
    }

    // Problems in every state, with photos.
    let (before, mut before_ref) = store_photo(state, &BEFORE, "sec", now - 30 * 86_400_000)?;
    // What the secretary marked on the photo: the defect circled, pointed at and named.
    let mark = PhotoMark::new;
    before_ref.marks = marks::keyed([
        mark(MarkKind::Circle, (800, 330), (1000, 690), ""),
        mark(MarkKind::Arrow, (500, 180), (790, 400), ""),
        mark(MarkKind::Label, (230, 140), (0, 0), "隐患"),
    ]);
    let (after, after_ref) = store_photo(state, &AFTER, "h1", now - 30 * 86_400_000)?;
    let cases: [(&str, usize, u64, i64, &str); 5] = [
        ("demo-open", 0, 2, 5, "皮带机托辊缺失"),
        ("demo-overdue", 1, 10, -3, "电缆吊挂不规范"),
        ("demo-fixed", 2, 8, 2, "巷道积水未排"),
        ("demo-verified", 3, 20, -10, "消防器材过期"),
        ("demo-reopened", 0, 12, -2, "物料码放混乱"),
    ];
    for (n, (name, z, raised_ago, due_in, what)) in cases.into_iter().enumerate() {
        let id = DocId::problem(BRANCH, name);
        let raised_day = today - Days::new(raised_ago);
        let raised = at(state, raised_day, 10).min(now - 3_600_000);
        let deadline = if due_in >= 0 {
            today + Days::new(due_in as u64)
        } else {
            today - Days::new(due_in.unsigned_abs())
        };
        let holder = HOLDERS[z];
        let (before, before_ref) = (before.clone(), before_ref.clone());
        record::<Problem>(state, &sec, &id, |p| {
            p.finding.zone = ZONES[z].0.to_owned();
            p.finding.raised_by = "sec".to_owned();
            p.finding.raised_at = raised;
            p.finding.description = FreeText::from(what);
            p.finding.severity = if n == 1 {
                Severity::Major
            } else {
                Severity::General
            };
            p.finding.responsible = holder.to_owned();
            p.finding.measure = FreeText::from("立即整改，拍照反馈");
            p.finding.deadline = Some(Day(deadline));
            p.finding.photos.insert(before, before_ref);
        })?;
        written += 1;
        if name == "demo-open" {
            // The holder asked for more time: it waits for the secretary's answer.
            let asked = now - 1_800_000;
            let until = deadline + Days::new(7);
            record::<Problem>(state, &person(holder, Role::ZoneHolder), &id, |p| {
                p.rectifications.insert(
                    format!("{holder}-ask-{asked}"),
                    Rectification {
                        at: asked,
                        by: holder.to_owned(),
                        note: FreeText::from("托辊配件未到货，申请延期一周"),
                        photos: BTreeMap::new(),
                        extension: Some(Day(until)),
                    },
                );
            })?;
            written += 1;
        }
        if matches!(name, "demo-fixed" | "demo-verified" | "demo-reopened") {
            let fixed = raised + 2 * 86_400_000;
            let (after, after_ref) = (after.clone(), after_ref.clone());
            record::<Problem>(state, &person(holder, Role::ZoneHolder), &id, |p| {
                p.rectifications.insert(
                    format!("{fixed}-{holder}"),
                    Rectification {
                        at: fixed,
                        by: holder.to_owned(),
                        note: FreeText::from("已整改完毕"),
                        photos: BTreeMap::from([(after, after_ref)]),
                        extension: None,
                    },
                );
            })?;
            written += 1;
            let outcome = match name {
                "demo-verified" => Some((Outcome::Verified, "zhao", "整改到位")),
                "demo-reopened" => Some((Outcome::Reopened, "qian", "整改不彻底，重新整改")),
                _ => None,
            };
            if let Some((outcome, by, note)) = outcome {
                let checked = fixed + 86_400_000;
                record::<Problem>(state, &person(by, Role::Inspector), &id, |p| {
                    p.verifications.insert(
                        format!("{checked}-{by}"),
                        Verification {
                            at: checked,
                            by: by.to_owned(),
                            outcome,
                            note: FreeText::from(note),
                            deadline: None,
                            request: None,
                        },
                    );
                })?;
                written += 1;
            }
        }
    }

    // Cleanups by the team leader.
    for (n, ago) in [1u64, 9, 16].into_iter().enumerate() {
        let day = today - Days::new(ago);
        let id = DocId::cleanup(BRANCH, format!("demo-{n}"));
        let (before, before_ref) = (before.clone(), before_ref.clone());
        let (after, after_ref) = (after.clone(), after_ref.clone());
        record::<Cleanup>(state, &person("tl", Role::TeamLeader), &id, |c| {
            c.log.zone = ZONES[n % ZONES.len()].0.to_owned();
            c.log.team = "综采一班".to_owned();
            c.log.date = Some(Day(day));
            c.log.leader = "tl".to_owned();
            for who in ["tl", "h1", "h2"] {
                c.log.participants.insert(who.to_owned(), true);
            }
            c.log.person_times = 3 + n as u64;
            c.log.items.insert(
                "w1".to_owned(),
                WorkItem {
                    what: "清理浮煤".to_owned(),
                    quantity_milli: 2_500 * (n as i64 + 1),
                    unit: "吨".to_owned(),
                },
            );
            c.log.before.insert(before, before_ref);
            c.log.after.insert(after, after_ref);
            c.log.note = FreeText::from("巷道清理干净");
        })?;
        written += 1;
    }

    written += posts(state, today, now)?;

    // Last month, published by the manager.
    crate::publish::record(state, BRANCH, last_month, LockAction::Publish, "mgr")
        .map_err(failed)?;
    Ok(written)
}

/// Demonstration posts in three states: 张师傅's in force since the quarter began (applied for,
/// approved by the secretary), 刘师傅's application waiting for the secretary, 陈师傅's title
/// withdrawn by the manager (摘牌) last week. Each step through the phones' path.
fn posts(state: &State, today: NaiveDate, now: i64) -> Result<usize, AdminError> {
    let quarter = Period::containing(PeriodKind::Quarter, today).first_day();
    let id = DocId::directory(BRANCH);
    // Who records the step after the application: the user, their role, the step, why.
    type Then = Option<(&'static str, Role, PostStep, &'static str)>;
    let cases: [(&str, usize, &str, u64, Then); 3] = [
        (
            "demo-post-1",
            0,
            "上车场文明生产示范岗",
            20,
            Some(("sec", Role::Secretary, PostStep::Approve, "")),
        ),
        ("demo-post-2", 1, "溜子道安全示范岗", 2, None),
        (
            "demo-post-3",
            2,
            "设备完好示范岗",
            30,
            Some((
                "mgr",
                Role::Manager,
                PostStep::Revoke,
                "质量标准化滑坡，取消示范荣誉",
            )),
        ),
    ];
    let mut written = 0;
    for (n, (post, z, title, ago, then)) in cases.into_iter().enumerate() {
        let holder = HOLDERS[z];
        let applied = at(state, today - Days::new(ago), 9).min(now - 7_200_000);
        record::<Directory>(state, &person(holder, Role::ZoneHolder), &id, |d| {
            let mut p = Post {
                zone: ZONES[z].0.to_owned(),
                title: title.to_owned(),
                standard: "煤矿安全质量标准化综采专业标准".to_owned(),
                assessor: "王书记".to_owned(),
                assessment: "按《党员示范岗管理考核办法》每月考核".to_owned(),
                starts: Some(Day(quarter)),
                ends: Some(Day(quarter + Days::new(364))),
                duty: "带头执行作业规程，巷道整洁、设备完好、隐患当班整改".to_owned(),
                ..Default::default()
            };
            p.demonstrators.insert(holder.to_owned(), true);
            p.events.insert(
                format!("{applied}-{holder}"),
                PostEvent {
                    at: applied,
                    by: holder.to_owned(),
                    step: PostStep::Propose,
                    reason: String::new(),
                },
            );
            d.posts.insert(post.to_owned(), p);
        })?;
        written += 1;
        let Some((by, role, step, reason)) = then else {
            continue;
        };
        if step == PostStep::Revoke {
            // Approved first, then withdrawn.
            let approved = applied + 86_400_000;
            record::<Directory>(state, &person("sec", Role::Secretary), &id, |d| {
                if let Some(p) = d.posts.get_mut(post) {
                    p.events.insert(
                        format!("{approved}-sec"),
                        PostEvent {
                            at: approved,
                            by: "sec".to_owned(),
                            step: PostStep::Approve,
                            reason: String::new(),
                        },
                    );
                }
            })?;
            written += 1;
        }
        let when = (applied + (2 + n as i64) * 86_400_000).min(now - 3_600_000);
        record::<Directory>(state, &person(by, role), &id, |d| {
            if let Some(p) = d.posts.get_mut(post) {
                p.events.insert(
                    format!("{when}-{by}"),
                    PostEvent {
                        at: when,
                        by: by.to_owned(),
                        step,
                        reason: reason.to_owned(),
                    },
                );
            }
        })?;
        written += 1;
    }
    Ok(written)
}

/// Ten assessment items summing to `total`: full marks but for what `total` leaves out.
pub fn items(total: i64) -> BTreeMap<String, Points> {
    let mut missing = 100 - total;
    AssessmentItem::ALL
        .iter()
        .map(|item| {
            let off = missing.clamp(0, 3);
            missing -= off;
            (item.key().to_owned(), Points::whole(10 - off))
        })
        .collect()
}

/// One patrol of the branch's four zones on `day`: planned and closed by `leader`, each
/// inspector's sheet with `marks(inspector, zone, item)` deductions of each item's rule.
fn patrol(
    state: &State,
    leader: &Actor,
    name: &str,
    kind: PatrolKind,
    day: NaiveDate,
    inspectors: &[&str],
    marks: impl Fn(usize, usize, usize) -> i64,
) -> Result<(), AdminError> {
    let now = crate::now_millis();
    let id = DocId::patrol(BRANCH, name);
    record::<Patrol>(state, leader, &id, |p| {
        p.plan.kind = kind;
        p.plan.date = Some(Day(day));
        p.plan.leader = leader.user.clone();
        for inspector in inspectors {
            p.plan.inspectors.insert((*inspector).to_owned(), true);
        }
        for (n, (zone, _)) in ZONES.iter().enumerate() {
            p.plan.zones.insert((*zone).to_owned(), n as u64);
        }
    })?;
    for (i, inspector) in inspectors.iter().enumerate() {
        let who = person(
            inspector,
            if *inspector == "sec" {
                Role::Secretary
            } else {
                Role::Inspector
            },
        );
        record::<Sheet>(state, &who, &DocId::sheet(BRANCH, name, *inspector), |s| {
            for (z, (zone, _)) in ZONES.iter().enumerate() {
                let mut sheet = ZoneSheet {
                    template: "t1".to_owned(),
                    ..ZoneSheet::default()
                };
                // The last item's deduction needs a photo: the history leaves it alone.
                for item in 0..9 {
                    let n = marks(i, z, item);
                    if n > 0 {
                        let mut entry = ItemEntry::default();
                        entry.deductions.insert("r1".to_owned(), Tally::new(n));
                        sheet.items.insert(format!("i{}", item + 1), entry);
                    }
                }
                s.zones.insert((*zone).to_owned(), sheet);
            }
        })?;
    }
    let closed = at(state, day, 16).min(now - 60_000);
    record::<Patrol>(state, leader, &id, |p| p.closed_at = Some(closed))
}
