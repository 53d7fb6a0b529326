//! The field actions on a real sled store: what each screen saves, checks and lists.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use zonepatrol_app::i18n::{Lang, T};
use zonepatrol_app::photo::{PhotoSettings, process};
use zonepatrol_app::records::patrol::{self, PatrolInput};
use zonepatrol_app::records::problem::{self, ProblemInput};
use zonepatrol_app::records::sheet::{ItemEdit, Mark};
use zonepatrol_app::records::{self, RecordError, sheet};
use zonepatrol_app::store::{PhotoRecord, Repo};
use zonepatrol_shared::docs::{
    Day, DeductionRule, DocId, Member, Patrol, Problem, Sheet, Template, TemplateItem, Zone,
};
use zonepatrol_shared::docs::{Directory, Rectification};
use zonepatrol_shared::rules::problem::ProblemStatus;
use zonepatrol_shared::{Actor, PatrolKind, Points, Role, Severity};

const PHOTO: &str = "../tests/fixtures/photos/phone-12mp.jpg";

fn sec() -> Actor {
    Actor::new("sec", Role::Secretary, "b1")
}

fn holder() -> Actor {
    Actor::new("h1", Role::ZoneHolder, "b1")
}

fn template() -> Template {
    let rule = |text: &str, points: i64| DeductionRule {
        text: text.to_owned(),
        points: Points::whole(points),
        needs_photo: false,
    };
    Template {
        name: "标准".to_owned(),
        supersedes: String::new(),
        items: BTreeMap::from([
            (
                "i1".to_owned(),
                TemplateItem {
                    order: 1,
                    category: "安全".to_owned(),
                    text: "电缆吊挂整齐".to_owned(),
                    max: Points::whole(10),
                    rules: BTreeMap::from([("r1".to_owned(), rule("吊挂不规范", 2))]),
                },
            ),
            (
                "i2".to_owned(),
                TemplateItem {
                    order: 2,
                    category: "文明生产".to_owned(),
                    text: "巷道无杂物".to_owned(),
                    max: Points::whole(5),
                    rules: BTreeMap::from([("r1".to_owned(), rule("有杂物", 1))]),
                },
            ),
        ]),
    }
}

/// A device store holding branch b1's directory: zones z1 (held by h1) and z2, template t1.
fn device() -> (tempfile::TempDir, Arc<Repo>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Arc::new(Repo::open(dir.path()).expect("open"));
    put_directory(&repo);
    (dir, repo)
}

fn put_directory(repo: &Repo) {
    repo.edit::<Directory, _>(
        &DocId::Directory {
            branch: "b1".into(),
        },
        |d| {
            d.templates.insert("t1".into(), template());
            for (id, name, holder) in [("z1", "三水平上车场", "h1"), ("z2", "802溜子道", "h2")]
            {
                d.zones.insert(
                    id.into(),
                    Zone {
                        name: name.into(),
                        location: "-350".into(),
                        holders: BTreeMap::from([(holder.to_owned(), true)]),
                        teams: BTreeMap::new(),
                        template: "t1".into(),
                        active: true,
                        shares: Default::default(),
                    },
                );
            }
            for (id, name) in [("sec", "书记"), ("h1", "张三"), ("h2", "李四")] {
                d.members.insert(
                    id.into(),
                    Member {
                        name: name.into(),
                        ..Member::default()
                    },
                );
            }
        },
    )
    .expect("directory");
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("day")
}

fn input(zones: &[&str]) -> PatrolInput {
    PatrolInput {
        kind: PatrolKind::Weekly,
        date: Some(day("2026-11-20")),
        zones: zones.iter().map(|z| (*z).to_owned()).collect(),
        inspectors: vec!["h2".into()],
    }
}

fn photo(repo: &Repo) -> PhotoRecord {
    let bytes = std::fs::read(PHOTO).expect("fixture photo");
    let processed = process(&bytes, &PhotoSettings::default()).expect("process");
    repo.add_photo(&processed).expect("store photo")
}

/// Opens a store again in the same process. sled lets go of its file lock from its flusher
/// thread shortly after the last handle is dropped, so the first tries may find it held.
fn reopen(path: &std::path::Path) -> Repo {
    for _ in 0..50 {
        match Repo::open(path) {
            Ok(repo) => return repo,
            Err(e) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("reopen: {e}"),
        }
    }
    panic!("the store stayed locked")
}

fn input_error(result: Result<impl std::fmt::Debug, RecordError>) -> T {
    match result {
        Err(RecordError::Input(t)) => t,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn a_patrol_starts_with_its_leader_inspectors_and_zones_in_order() {
    let (_dir, repo) = device();
    let me = sec();
    let name = patrol::start_patrol(&repo, &me, &input(&["z2", "z1"])).expect("start");
    let patrol: Patrol = repo
        .read(&patrol::patrol_id(&me, &name))
        .expect("read")
        .expect("patrol");
    assert_eq!(patrol.plan.leader, "sec");
    assert_eq!(patrol.plan.kind, PatrolKind::Weekly);
    assert_eq!(patrol.plan.date, Some(Day(day("2026-11-20"))));
    assert!(
        patrol.plan.inspectors.contains_key("sec") && patrol.plan.inspectors.contains_key("h2")
    );
    assert!(name.starts_with("20261120-"), "{name}");

    let rows = patrol::patrol_zones(&repo, &me, &name).expect("zones");
    let order: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["z2", "z1"], "the order chosen");
    assert_eq!(rows[0].name, "802溜子道");
    assert!(rows.iter().all(|r| r.score.is_none()), "nothing scored yet");

    let listed = patrol::my_patrols(&repo, &me).expect("patrols");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].zones, listed[0].closed), (2, false));
    // The other inspector sees it too; someone not on it does not.
    assert_eq!(
        patrol::my_patrols(&repo, &Actor::new("h2", Role::Inspector, "b1"))
            .expect("h2")
            .len(),
        1
    );
    assert!(patrol::my_patrols(&repo, &holder()).expect("h1").is_empty());
}

#[test]
fn a_patrol_is_not_started_without_its_day_zones_or_directory() {
    let (_dir, repo) = device();
    let me = sec();
    let mut no_day = input(&["z1"]);
    no_day.date = None;
    assert_eq!(
        input_error(patrol::start_patrol(&repo, &me, &no_day)),
        T::ChooseDay
    );
    assert_eq!(
        input_error(patrol::start_patrol(&repo, &me, &input(&[]))),
        T::ChooseZones
    );
    assert!(matches!(
        patrol::start_patrol(&repo, &me, &input(&["z9"])),
        Err(RecordError::Missing { .. })
    ));
    let other_branch = Actor::new("sec2", Role::Secretary, "b2");
    let err =
        patrol::start_patrol(&repo, &other_branch, &input(&["z1"])).expect_err("no directory");
    assert!(matches!(err, RecordError::NoDirectory));
    assert!(
        err.message(Lang::Zh).contains("同步"),
        "{}",
        err.message(Lang::Zh)
    );
    assert!(
        patrol::my_patrols(&repo, &me).expect("patrols").is_empty(),
        "nothing was written"
    );
}

#[test]
fn every_tap_note_and_photo_is_on_disk_when_the_call_returns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let me = sec();
    let (name, hash) = {
        let repo = Repo::open(dir.path()).expect("open");
        put_directory(&repo);
        let name = patrol::start_patrol(&repo, &me, &input(&["z1", "z2"])).expect("start");
        let work = sheet::zone_work(&repo, &me, &name, "z1").expect("work");
        assert_eq!(
            (work.name.as_str(), work.template_id.as_str()),
            ("三水平上车场", "t1")
        );
        assert_eq!(work.holders, ["h1"]);
        let deduct = Mark::Deduct {
            item: "i1".into(),
            rule: "r1".into(),
        };
        sheet::mark(&repo, &me, &name, "z1", "t1", &deduct).expect("deduct");
        sheet::mark(&repo, &me, &name, "z1", "t1", &deduct).expect("deduct");
        let marks = sheet::mark(
            &repo,
            &me,
            &name,
            "z1",
            "t1",
            &Mark::Undo {
                item: "i1".into(),
                rule: "r1".into(),
            },
        )
        .expect("undo");
        assert_eq!(marks.items["i1"].deductions["r1"].value(), 1);
        sheet::mark(
            &repo,
            &me,
            &name,
            "z1",
            "t1",
            &Mark::NotApplicable {
                item: "i2".into(),
                on: true,
            },
        )
        .expect("n/a");
        sheet::edit_item(
            &repo,
            &me,
            &name,
            "z1",
            "t1",
            "i1",
            ItemEdit::Note("  电缆吊挂不整齐 "),
        )
        .expect("note");
        let record = photo(&repo);
        sheet::edit_item(
            &repo,
            &me,
            &name,
            "z1",
            "t1",
            "i1",
            ItemEdit::Photo(&record),
        )
        .expect("photo");
        (name, record.hash)
        // The store is dropped here without any further call, as when the app is killed.
    };
    let repo = reopen(dir.path());
    let sheet: Sheet = repo
        .read(&sheet::sheet_id(&me, &name))
        .expect("read")
        .expect("sheet");
    let z1 = &sheet.zones["z1"];
    assert_eq!(z1.template, "t1");
    assert_eq!(z1.items["i1"].deductions["r1"].value(), 1);
    assert_eq!(z1.items["i1"].note.as_str(), "电缆吊挂不整齐");
    assert!(z1.items["i1"].photos.contains_key(&hash));
    assert!(z1.items["i2"].not_applicable);
    // The score screen shows the photo with its thumbnail; taken off, it is gone.
    let view = sheet::zone_view(
        &sheet::zone_screen(&repo, &me, &name, "z1")
            .expect("zone")
            .0
            .template,
        z1,
    );
    let item = view.items.iter().find(|i| i.id == "i1").expect("i1");
    assert_eq!(item.photos.len(), 1);
    assert_eq!(item.photos[0].hash, hash);
    assert!(repo.blob_path(&item.photos[0].thumb).exists());
    // The inspector marks the defect on it: the marks take the photo's shape with them, and
    // the photo added again keeps them.
    let marks = zonepatrol_shared::docs::marks::keyed([zonepatrol_shared::docs::PhotoMark {
        kind: zonepatrol_shared::docs::MarkKind::Arrow,
        x1: 100,
        y1: 100,
        x2: 400,
        y2: 500,
        text: String::new(),
    }]);
    let record = repo.photo(&hash).expect("read").expect("record");
    // As an older app wrote it: no size.
    repo.edit::<Sheet, _>(&sheet::sheet_id(&me, &name), |s| {
        if let Some(p) = s
            .zones
            .get_mut("z1")
            .and_then(|z| z.items.get_mut("i1"))
            .and_then(|i| i.photos.get_mut(&hash))
        {
            (p.width, p.height) = (0, 0);
        }
    })
    .expect("written");
    for edit in [ItemEdit::MarkPhoto(&hash, &marks), ItemEdit::Photo(&record)] {
        sheet::edit_item(&repo, &me, &name, "z1", "t1", "i1", edit).expect("marked");
        let sheet: Sheet = repo
            .read(&sheet::sheet_id(&me, &name))
            .expect("read")
            .expect("sheet");
        let kept = &sheet.zones["z1"].items["i1"].photos[&hash];
        assert_eq!(kept.marks, marks);
        assert_eq!((kept.width, kept.height), (record.width, record.height));
        assert!(kept.width > 0);
    }
    sheet::edit_item(
        &repo,
        &me,
        &name,
        "z1",
        "t1",
        "i1",
        ItemEdit::RemovePhoto(&hash),
    )
    .expect("removed");
    let sheet: Sheet = repo
        .read(&sheet::sheet_id(&me, &name))
        .expect("read")
        .expect("sheet");
    assert!(sheet.zones["z1"].items["i1"].photos.is_empty());
    // The zone list shows the score: 10 − 2 of 10, i2 not applicable.
    let rows = patrol::patrol_zones(&repo, &me, &name).expect("zones");
    let eight_of_ten = patrol::ZoneScore {
        total: Points::whole(8),
        max: Points::whole(10),
    };
    assert_eq!(rows[0].score, Some(eight_of_ten));
    assert_eq!(rows[1].score, None);
}

#[test]
fn a_zone_once_scored_stays_on_its_template() {
    let (_dir, repo) = device();
    let me = sec();
    let name = patrol::start_patrol(&repo, &me, &input(&["z1"])).expect("start");
    let tap = Mark::Deduct {
        item: "i1".into(),
        rule: "r1".into(),
    };
    sheet::mark(&repo, &me, &name, "z1", "t1", &tap).expect("mark");
    repo.edit::<Directory, _>(
        &DocId::Directory {
            branch: "b1".into(),
        },
        |d| {
            d.templates.insert("t2".into(), Template::default());
            if let Some(z) = d.zones.get_mut("z1") {
                z.template = "t2".into();
            }
        },
    )
    .expect("new template");
    let work = sheet::zone_work(&repo, &me, &name, "z1").expect("work");
    assert_eq!(work.template_id, "t1");
    assert_eq!(work.template.items.len(), 2);
}

#[test]
fn only_the_leader_closes_a_patrol() {
    let (_dir, repo) = device();
    let me = sec();
    let name = patrol::start_patrol(&repo, &me, &input(&["z1"])).expect("start");
    let inspector = Actor::new("h2", Role::Inspector, "b1");
    assert_eq!(
        input_error(patrol::close_patrol(&repo, &inspector, &name)),
        T::OnlyLeaderCloses
    );
    patrol::close_patrol(&repo, &me, &name).expect("close");
    let rows = patrol::my_patrols(&repo, &me).expect("patrols");
    assert!(rows[0].closed);
}

fn problem(description: &str, deadline: Option<NaiveDate>) -> ProblemInput {
    ProblemInput {
        zone: "z1".into(),
        patrol: Some("p".into()),
        item: Some("i1".into()),
        description: description.into(),
        severity: Severity::General,
        responsible: "h1".into(),
        measure: "重新吊挂".into(),
        deadline,
        photos: Vec::new(),
        marks: Default::default(),
    }
}

#[test]
fn a_problem_needs_a_description_someone_responsible_and_a_deadline_not_past() {
    let today = day("2026-11-21");
    let ok = problem("电缆掉落", Some(today));
    assert!(problem::check_problem(&ok, today).is_ok());
    let cases = [
        (problem("  ", Some(today)), T::DescribeProblem),
        (
            ProblemInput {
                responsible: String::new(),
                ..ok.clone()
            },
            T::ChooseResponsible,
        ),
        (problem("电缆掉落", None), T::ChooseDeadline),
        (
            problem("电缆掉落", Some(day("2026-11-20"))),
            T::DeadlinePast,
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            input_error(problem::check_problem(&input, today)),
            want,
            "{input:?}"
        );
    }
}

#[test]
fn the_holder_sees_their_problems_overdue_first_and_records_fixes_with_a_photo() {
    let (_dir, repo) = device();
    let me = sec();
    let today = day("2026-11-21");
    let mut with_photo = problem("电缆掉落", Some(day("2026-11-28")));
    let record = photo(&repo);
    with_photo.photos = vec![record.clone()];
    let later = problem::raise_problem(&repo, &me, &with_photo, today).expect("raise");
    let sooner = problem::raise_problem(
        &repo,
        &me,
        &problem("杂物堆积", Some(day("2026-11-23"))),
        today,
    )
    .expect("raise");
    let for_someone_else = ProblemInput {
        responsible: "h2".into(),
        ..problem("别人的", Some(today))
    };
    problem::raise_problem(&repo, &me, &for_someone_else, today).expect("raise");
    // One raised last week, now past its deadline.
    let overdue = DocId::Problem {
        branch: "b1".into(),
        problem: "old".into(),
    };
    repo.edit::<Problem, _>(&overdue, |p| {
        p.finding.zone = "z1".into();
        p.finding.raised_by = "sec".into();
        p.finding.responsible = "h1".into();
        p.finding.description = "旧问题".into();
        p.finding.deadline = Some(Day(day("2026-11-18")));
    })
    .expect("old problem");

    let h1 = holder();
    let rows = problem::my_problems(&repo, &h1, today).expect("problems");
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["old", sooner.as_str(), later.as_str()],
        "overdue, then by deadline"
    );
    assert!(rows[0].overdue && !rows[1].overdue);
    assert_eq!(rows[0].zone, "三水平上车场", "the zone's name, not its id");
    assert_eq!(rows[2].thumbs, std::slice::from_ref(&record.reference()));

    assert_eq!(
        input_error(problem::rectify(&repo, &h1, &sooner, "清理完毕", &[])),
        T::NeedAfterPhoto
    );
    assert_eq!(
        input_error(problem::rectify(
            &repo,
            &sec(),
            &sooner,
            "清理完毕",
            std::slice::from_ref(&record)
        )),
        T::OnlyResponsibleFixes
    );
    problem::rectify(
        &repo,
        &h1,
        &sooner,
        "清理完毕",
        std::slice::from_ref(&record),
    )
    .expect("fix");
    let rows = problem::my_problems(&repo, &h1, today).expect("problems");
    let fixed = rows
        .iter()
        .find(|r| r.name == sooner)
        .expect("still listed");
    assert_eq!(fixed.status, ProblemStatus::Rectified);
    assert_eq!(
        rows.last().map(|r| r.name.as_str()),
        Some(sooner.as_str()),
        "fixed ones last"
    );
    let stored: Problem = repo
        .read(&DocId::Problem {
            branch: "b1".into(),
            problem: sooner.clone(),
        })
        .expect("read")
        .expect("problem");
    let fix: &Rectification = stored.rectifications.values().next().expect("fix");
    assert_eq!((fix.by.as_str(), fix.note.as_str()), ("h1", "清理完毕"));
    assert!(fix.photos.contains_key(&record.hash));

    // The loop closes: the secretary sees the fix beside the finding, sends it back with what is
    // still wrong and a later deadline, the holder fixes again, the secretary verifies.
    assert!(
        problem::to_verify(&repo, &h1).expect("list").is_empty(),
        "a holder verifies nothing"
    );
    let waiting = problem::to_verify(&repo, &sec()).expect("list");
    assert_eq!(
        waiting.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        [sooner.as_str()]
    );
    let row = &waiting[0];
    assert_eq!(
        (row.fix_note.as_str(), row.zone.as_str()),
        ("清理完毕", "三水平上车场")
    );
    assert_eq!(row.after, std::slice::from_ref(&record.reference()));
    let reopen = |note: &str, deadline| problem::Judgement::Reopened {
        note: note.into(),
        deadline,
    };
    assert_eq!(
        input_error(problem::judge(
            &repo,
            &h1,
            &sooner,
            &problem::Judgement::Verified,
            today
        )),
        T::NotYourOwnFix
    );
    assert_eq!(
        input_error(problem::judge(
            &repo,
            &sec(),
            &sooner,
            &reopen("  ", None),
            today
        )),
        T::NeedReopenNote
    );
    assert_eq!(
        input_error(problem::judge(
            &repo,
            &sec(),
            &sooner,
            &reopen("还有杂物", Some(day("2026-11-01"))),
            today
        )),
        T::DeadlinePast
    );
    // The reopening is dated by the phone's clock, so its deadline comes after the real today.
    let later_day = records::today(&Default::default()) + Days::new(7);
    problem::judge(
        &repo,
        &sec(),
        &sooner,
        &reopen("还有杂物", Some(later_day)),
        today,
    )
    .expect("reopened");
    assert!(problem::to_verify(&repo, &sec()).expect("list").is_empty());
    let back = problem::my_problem(&repo, &h1, &sooner, today).expect("back on the list");
    assert_eq!(back.status, ProblemStatus::Reopened);
    assert_eq!(back.reopen_note.as_deref(), Some("还有杂物"));
    assert_eq!(
        back.deadline,
        Some(later_day),
        "the new deadline is in force"
    );
    assert_eq!(
        input_error(problem::judge(
            &repo,
            &sec(),
            &sooner,
            &problem::Judgement::Verified,
            today
        )),
        T::NothingToVerify
    );
    problem::rectify(
        &repo,
        &h1,
        &sooner,
        "彻底清理",
        std::slice::from_ref(&record),
    )
    .expect("fixed again");
    let again = problem::to_verify(&repo, &sec()).expect("list");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].fix_note, "彻底清理", "the latest fix is judged");
    problem::judge(&repo, &sec(), &sooner, &problem::Judgement::Verified, today).expect("verified");
    assert!(problem::to_verify(&repo, &sec()).expect("list").is_empty());
    let closed = problem::my_problem(&repo, &h1, &sooner, today).expect("listed");
    assert_eq!(closed.status, ProblemStatus::Verified);
    assert_eq!(closed.reopen_note, None);
}

#[test]
fn a_scanned_placard_opens_its_zone() {
    let rows = vec![
        patrol::ZoneRow {
            id: "z1".into(),
            name: "三水平上车场".into(),
            location: String::new(),
            score: None,
        },
        patrol::ZoneRow {
            id: "z2".into(),
            name: "802溜子道".into(),
            location: String::new(),
            score: None,
        },
    ];
    assert_eq!(
        patrol::zone_from_code("zonepatrol:zone:b1:z2", "b1", &rows),
        Ok("z2".to_owned())
    );
    assert_eq!(
        patrol::zone_from_code(" z1\n", "b1", &rows),
        Ok("z1".to_owned())
    );
    assert_eq!(
        patrol::zone_from_code("zonepatrol:zone:b1:z9", "b1", &rows),
        Err(T::CodeNotOnPatrol)
    );
    assert_eq!(
        patrol::zone_from_code("zonepatrol:zone:b2:z2", "b1", &rows),
        Err(T::OtherBranchPlacard)
    );
    assert_eq!(
        patrol::zone_from_code("", "b1", &rows),
        Err(T::CodeNotOnPatrol)
    );
}

#[test]
fn a_deadline_is_a_day_at_the_mine() {
    let today = records::today(&Default::default());
    let tomorrow = today.checked_add_days(Days::new(1)).expect("tomorrow");
    assert!(problem::check_problem(&problem("x", Some(tomorrow)), today).is_ok());
}

#[test]
fn roles_the_server_would_refuse_are_stopped_before_anything_is_saved() {
    let (_dir, repo) = device();
    let me = sec();
    let name = patrol::start_patrol(&repo, &me, &input(&["z1"])).expect("start");
    let h1 = holder();
    assert_eq!(
        input_error(patrol::start_patrol(&repo, &h1, &input(&["z1"]))),
        T::OnlyInspectorsScore
    );
    let tap = Mark::Deduct {
        item: "i1".into(),
        rule: "r1".into(),
    };
    // A holder listed as an inspector still does not score: the server takes sheets from
    // secretaries, inspectors and managers.
    let on_patrol = Actor::new("h2", Role::ZoneHolder, "b1");
    assert_eq!(
        input_error(sheet::mark(&repo, &on_patrol, &name, "z1", "t1", &tap)),
        T::OnlyInspectorsScore
    );
    let manager = Actor::new("mgr", Role::Manager, "b1");
    assert_eq!(
        input_error(problem::raise_problem(
            &repo,
            &manager,
            &problem("x", Some(day("2026-12-01"))),
            day("2026-11-21")
        )),
        T::OnlyInspectorsRaise
    );
    assert!(
        problem::my_problems(&repo, &holder(), day("2026-11-21"))
            .expect("problems")
            .is_empty()
    );
}

#[test]
fn nothing_is_saved_in_a_published_period() {
    use zonepatrol_shared::docs::{LockAction, LockEvent, Publication};
    let (_dir, repo) = device();
    let me = sec();
    let name = patrol::start_patrol(&repo, &me, &input(&["z1"])).expect("start");
    repo.edit::<Publication, _>(
        &DocId::Publication {
            branch: "b1".into(),
        },
        |p| {
            p.events.insert(
                "e1".into(),
                LockEvent {
                    period: "2026-11".into(),
                    action: LockAction::Publish,
                    by: "mgr".into(),
                    at: 1,
                    seq: 1,
                },
            );
        },
    )
    .expect("publish");
    assert_eq!(
        input_error(patrol::start_patrol(&repo, &me, &input(&["z1"]))),
        T::PeriodPublished
    );
    let tap = Mark::Deduct {
        item: "i1".into(),
        rule: "r1".into(),
    };
    assert_eq!(
        input_error(sheet::mark(&repo, &me, &name, "z1", "t1", &tap)),
        T::PeriodPublished
    );
    let mut december = input(&["z1"]);
    december.date = Some(day("2026-12-01"));
    patrol::start_patrol(&repo, &me, &december).expect("the next month is open");
}

#[test]
fn a_deduction_is_counted_at_most_a_thousand_times() {
    let mut zone = zonepatrol_shared::docs::ZoneSheet::default();
    let tap = Mark::Deduct {
        item: "i1".into(),
        rule: "r1".into(),
    };
    for _ in 0..1005 {
        sheet::apply(&mut zone, "t1", &tap);
    }
    assert_eq!(zone.items["i1"].deductions["r1"].value(), sheet::MAX_COUNT);
}

#[test]
fn another_user_signing_in_keeps_the_first_user_s_unsent_work_hidden_and_theirs() {
    let (_dir, repo) = device();
    let session = |user: Actor| zonepatrol_app::store::Session {
        server: "http://127.0.0.1:9".into(),
        token: "t".into(),
        user,
        time_zone: zonepatrol_shared::protocol::default_time_zone(),
        server_key: None,
    };
    repo.set_session(&session(sec())).expect("session");
    patrol::start_patrol(&repo, &sec(), &input(&["z1"])).expect("unsent work");
    let sec_actor = repo.actor().expect("actor");
    repo.clear_session().expect("sign out");
    repo.set_session(&session(holder())).expect("another user");
    assert_ne!(
        repo.actor().expect("actor"),
        sec_actor,
        "each person writes as themselves"
    );
    // The secretary's patrol is readable by the holder (same branch); nothing of it is the
    // holder's to send (the directory the test wrote before anyone signed in is the device's).
    assert!(repo.has_unsent().expect("unsent"));
    let ids = |user: &str| -> Vec<String> {
        repo.outgoing(user, usize::MAX)
            .expect("outgoing")
            .into_iter()
            .map(|p| p.id)
            .filter(|id| id.starts_with("patrol:"))
            .collect()
    };
    assert!(ids("h1").is_empty());
    assert_eq!(ids("sec").len(), 1);
    repo.set_session(&session(sec())).expect("back");
    assert_eq!(repo.actor().expect("actor"), sec_actor);
    assert_eq!(
        patrol::my_patrols(&repo, &sec()).expect("patrols").len(),
        1,
        "the work is still there"
    );
}

#[test]
fn home_counts_the_holder_s_open_problems() {
    let (_dir, repo) = device();
    let today = records::today(&Default::default());
    let deadline = today.checked_add_days(Days::new(3));
    problem::raise_problem(&repo, &sec(), &problem("电缆掉落", deadline), today).expect("raise");
    repo.set_session(&zonepatrol_app::store::Session {
        server: "http://127.0.0.1:9".into(),
        token: "t".into(),
        user: holder(),
        time_zone: zonepatrol_shared::protocol::default_time_zone(),
        server_key: None,
    })
    .expect("session");
    zonepatrol_app::sync::install_crypto();
    let client = zonepatrol_app::sync::SyncClient::new(repo.clone()).expect("client");
    let services = zonepatrol_app::ui::Services {
        repo,
        client: Arc::new(client),
        wake: Arc::new(tokio::sync::Notify::new()),
    };
    let mut dom = dioxus::prelude::VirtualDom::new(zonepatrol_app::App).with_root_context(services);
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    assert!(
        html.contains("我的整改<span class=\"badge\">1</span>"),
        "{html}"
    );
}

#[tokio::test]
async fn the_last_sync_time_survives_a_restart_and_signing_out_forgets_the_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    zonepatrol_app::sync::install_crypto();
    {
        let repo = Arc::new(Repo::open(dir.path()).expect("open"));
        repo.set_session(&zonepatrol_app::store::Session {
            server: "http://127.0.0.1:9".into(),
            token: "secret-token".into(),
            user: sec(),
            time_zone: zonepatrol_shared::protocol::default_time_zone(),
            server_key: None,
        })
        .expect("session");
        repo.set_last_synced(1_795_134_600_000).expect("synced");
    }
    let repo = Arc::new(reopen(dir.path()));
    let client = zonepatrol_app::sync::SyncClient::new(repo.clone()).expect("client");
    assert_eq!(
        client.status().borrow().state,
        zonepatrol_app::sync::SyncState::Done {
            at: 1_795_134_600_000
        },
        "the banner starts from the last sync, not from 'never'"
    );
    // The server cannot be reached (port 9): the phone signs out anyway.
    client.logout().await.expect("logout");
    assert_eq!(repo.session().expect("session"), None);
    assert_eq!(
        repo.last_server().expect("server").as_deref(),
        Some("http://127.0.0.1:9")
    );
    assert!(
        client
            .login("http://127.0.0.1:9", "h2", "pw", "t")
            .await
            .is_err(),
        "offline"
    );
}

/// Behind the screens' own checks, every edit goes through the server's validator against the
/// phone's copy of the directory: what it would refuse is not saved, and the user is told why.
#[test]
fn an_edit_the_server_would_refuse_is_not_saved() {
    use zonepatrol_app::store::StoreError;
    use zonepatrol_shared::validate::RefusalCode;
    let (_dir, repo) = device();
    let id = DocId::Patrol {
        branch: "b1".into(),
        patrol: "20261120-abc".into(),
    };
    // A zone holder may not plan a patrol.
    let refused = repo
        .edit_as::<Patrol, _>(&holder(), &id, |p| {
            p.plan.kind = PatrolKind::Weekly;
            p.plan.date = Some(Day(day("2026-11-20")));
            p.plan.leader = "h1".into();
        })
        .expect_err("refused");
    let StoreError::Refused(refusal) = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(refusal.code, RefusalCode::NotWriter, "{refusal:?}");
    assert!(
        repo.read::<Patrol>(&id).expect("read").is_none(),
        "nothing saved"
    );
    let message = RecordError::Store(refused).message(Lang::Zh);
    assert!(
        message.starts_with("未能保存: 你不能修改这一项"),
        "{message}"
    );

    // The secretary plans it; the check can also pass.
    repo.edit_as::<Patrol, _>(&sec(), &id, |p| {
        p.plan.kind = PatrolKind::Weekly;
        p.plan.date = Some(Day(day("2026-11-20")));
        p.plan.leader = "sec".into();
        p.plan.zones.insert("z1".into(), 1);
    })
    .expect("saved");
    assert!(repo.read::<Patrol>(&id).expect("read").is_some());

    // A sheet scoring a zone that is not on the plan.
    let sheet = DocId::Sheet {
        branch: "b1".into(),
        patrol: "20261120-abc".into(),
        inspector: "sec".into(),
    };
    let refused = repo
        .edit_as::<Sheet, _>(&sec(), &sheet, |s| {
            s.zones.insert("z2".into(), Default::default());
        })
        .expect_err("refused");
    assert!(
        matches!(&refused, StoreError::Refused(r) if r.code == RefusalCode::OutOfRange),
        "{refused:?}"
    );
    assert!(repo.read::<Sheet>(&sheet).expect("read").is_none());
}

/// Before the first sync the phone has no directory: the edit is saved and the server checks.
#[test]
fn without_the_directory_the_server_alone_checks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repo::open(dir.path()).expect("open");
    let id = DocId::Patrol {
        branch: "b1".into(),
        patrol: "20261120-abc".into(),
    };
    repo.edit_as::<Patrol, _>(&holder(), &id, |p| p.plan.leader = "h1".into())
        .expect("saved, for the server to judge");
    assert!(repo.read::<Patrol>(&id).expect("read").is_some());
}

#[test]
fn a_kept_document_is_read_again_once_it_changes() {
    let (dir, repo) = device();
    let id = DocId::directory("b1");
    let first = repo
        .read_kept::<Directory>(&id)
        .expect("read")
        .expect("kept");
    assert_eq!(first.zones.len(), 2);
    let again = repo
        .read_kept::<Directory>(&id)
        .expect("read")
        .expect("kept");
    assert!(Arc::ptr_eq(&first, &again), "decoded once while unchanged");
    repo.edit::<Directory, _>(&id, |d| {
        d.zones.remove("z2");
    })
    .expect("edited");
    let now = repo
        .read_kept::<Directory>(&id)
        .expect("read")
        .expect("kept");
    assert_eq!(now.zones.len(), 1, "a write forgets the kept copy");
    let missing = DocId::directory("b2");
    assert!(
        repo.read_kept::<Directory>(&missing)
            .expect("read")
            .is_none()
    );
    drop(repo);
    let repo = reopen(dir.path());
    let reopened = repo
        .read_kept::<Directory>(&id)
        .expect("read")
        .expect("kept");
    assert_eq!(reopened.zones.len(), 1);
}

#[test]
fn a_deduction_that_needs_a_photo_waits_for_the_photo() {
    let (_dir, repo) = device();
    repo.edit::<Directory, _>(&DocId::directory("b1"), |d| {
        if let Some(rule) = d
            .templates
            .get_mut("t1")
            .and_then(|t| t.items.get_mut("i1"))
            .and_then(|i| i.rules.get_mut("r1"))
        {
            rule.needs_photo = true;
        }
    })
    .expect("saved");
    let me = sec();
    let name = patrol::start_patrol(&repo, &me, &input(&["z1"])).expect("start");
    let deduct = Mark::Deduct {
        item: "i1".into(),
        rule: "r1".into(),
    };
    assert_eq!(
        input_error(sheet::mark(&repo, &me, &name, "z1", "t1", &deduct)),
        T::PhotoFirst,
        "told to take the photo first"
    );
    assert!(
        repo.read::<Sheet>(&sheet::sheet_id(&me, &name))
            .expect("read")
            .is_none_or(|s| s.zones.get("z1").is_none_or(|z| z.items.is_empty())),
        "nothing saved"
    );
    let photo = photo(&repo);
    sheet::edit_item(&repo, &me, &name, "z1", "t1", "i1", ItemEdit::Photo(&photo))
        .expect("the photo");
    let marks = sheet::mark(&repo, &me, &name, "z1", "t1", &deduct).expect("then the deduction");
    assert_eq!(marks.items["i1"].deductions["r1"].value(), 1);
    // The photo is the deduction's evidence: it stays until the deduction is taken back.
    let remove = ItemEdit::RemovePhoto(&photo.hash);
    assert_eq!(
        input_error(sheet::edit_item(
            &repo, &me, &name, "z1", "t1", "i1", remove
        )),
        T::DeductionNeedsPhoto
    );
    let take_back = Mark::Undo {
        item: "i1".into(),
        rule: "r1".into(),
    };
    sheet::mark(&repo, &me, &name, "z1", "t1", &take_back).expect("taken back");
    let marks = sheet::edit_item(&repo, &me, &name, "z1", "t1", "i1", remove).expect("removed");
    assert!(marks.items["i1"].photos.is_empty());
    sheet::edit_item(&repo, &me, &name, "z1", "t1", "i1", ItemEdit::Photo(&photo))
        .expect("the photo again");
    sheet::mark(&repo, &me, &name, "z1", "t1", &deduct).expect("the deduction again");
    // Another item's deduction needs none.
    let other = Mark::Deduct {
        item: "i2".into(),
        rule: "r1".into(),
    };
    sheet::mark(&repo, &me, &name, "z1", "t1", &other).expect("no photo needed");
}

#[test]
fn the_holder_asks_for_more_time_before_the_deadline_and_the_secretary_answers() {
    use zonepatrol_app::records::extension::{self, MoreTime};
    let (_dir, repo) = device();
    // The phone dates records by its own clock: the days here follow the real today.
    let today = records::today(&Default::default());
    let later = |n: u64| today + Days::new(n);
    let name = problem::raise_problem(&repo, &sec(), &problem("支架歪斜", Some(later(2))), today)
        .expect("raise");
    let h1 = holder();
    let ask = |until: Option<NaiveDate>, why: &str, on: NaiveDate| {
        extension::ask_more_time(&repo, &h1, &name, until, why, on)
    };
    assert_eq!(
        input_error(ask(Some(later(9)), "  ", today)),
        T::NeedMoreTimeReason
    );
    assert_eq!(input_error(ask(None, "等配件", today)), T::ChooseDeadline);
    assert_eq!(
        input_error(ask(Some(later(2)), "等配件", today)),
        T::LaterThanDeadline
    );
    assert_eq!(
        input_error(ask(Some(later(9)), "等配件", later(3))),
        T::DeadlinePassedNoMoreTime
    );
    assert_eq!(
        input_error(extension::ask_more_time(
            &repo,
            &sec(),
            &name,
            Some(later(9)),
            "等配件",
            today
        )),
        T::OnlyResponsibleFixes
    );
    assert!(
        extension::more_time_requests(&repo, &sec())
            .expect("list")
            .is_empty()
    );
    ask(Some(later(9)), "液压支架配件未到", today).expect("asked");
    assert_eq!(
        input_error(ask(Some(later(12)), "还要更久", today)),
        T::MoreTimeAlreadyAsked
    );
    let row = problem::my_problem(&repo, &h1, &name, today).expect("listed");
    let asked = row.extension.expect("the request on the holder's list");
    assert!(asked.pending && asked.answer.is_none());
    assert_eq!(asked.until, later(9));
    assert_eq!(row.deadline, Some(later(2)), "asking changes nothing yet");

    // Only the secretary answers, and sees it on their list.
    assert!(
        extension::more_time_requests(&repo, &holder())
            .expect("list")
            .is_empty()
    );
    let waiting = extension::more_time_requests(&repo, &sec()).expect("list");
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (
            waiting[0].reason.as_str(),
            waiting[0].until,
            waiting[0].deadline
        ),
        ("液压支架配件未到", later(9), Some(later(2)))
    );
    let inspector = Actor::new("insp", Role::Inspector, "b1");
    assert_eq!(
        input_error(extension::answer_more_time(
            &repo,
            &inspector,
            &name,
            &MoreTime::Grant(Some(later(7))),
            today
        )),
        T::OnlySecretaryAnswers
    );
    let answer = |a: &MoreTime| extension::answer_more_time(&repo, &sec(), &name, a, today);
    assert_eq!(
        input_error(answer(&MoreTime::Refuse(" ".into()))),
        T::NeedRefuseReason
    );
    assert_eq!(
        input_error(answer(&MoreTime::Grant(Some(later(1))))),
        T::LaterThanDeadline
    );
    // The secretary grants less than asked: the granted day is the deadline in force.
    answer(&MoreTime::Grant(Some(later(7)))).expect("granted");
    assert_eq!(
        input_error(answer(&MoreTime::Grant(Some(later(8))))),
        T::NothingToAnswer
    );
    assert!(
        extension::more_time_requests(&repo, &sec())
            .expect("list")
            .is_empty()
    );
    let row = problem::my_problem(&repo, &h1, &name, later(5)).expect("listed");
    assert_eq!(row.deadline, Some(later(7)));
    assert!(!row.overdue, "overdue counts the granted deadline");
    let granted = row.extension.expect("answered").answer.expect("answer");
    assert!(granted.granted);
    assert_eq!(granted.until, Some(later(7)));

    // A second request is refused with a reason; the deadline stays.
    ask(Some(later(20)), "人手不足", today).expect("asked again");
    answer(&MoreTime::Refuse("本周内必须完成".into())).expect("refused");
    let row = problem::my_problem(&repo, &h1, &name, today).expect("listed");
    assert_eq!(row.deadline, Some(later(7)));
    let refused = row.extension.expect("answered");
    assert!(!refused.pending);
    assert_eq!(
        refused.answer.map(|a| (a.granted, a.note)),
        Some((false, "本周内必须完成".to_owned()))
    );
    assert_eq!(row.status, ProblemStatus::Open, "requests are not fixes");
}
