//! Every role against every document part, allowed and refused, with the reason checked; then
//! creation, branches, records signed by others, value ranges, locked periods, bad data.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ScalarValue};

use super::*;
use crate::docs::tests::edit;
use crate::docs::*;
use crate::domain::{Actor, Role};
use crate::points::Points;
use crate::rules::period::Period;
use crate::rules::problem::ProblemStatus;
use crate::rules::suggest::AssessmentItem;

/// 2026-11-21 12:00 at the mine.
const NOW: i64 = 1_795_233_600_000;

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn user(role: Role) -> &'static str {
    match role {
        Role::Secretary => "sec",
        Role::Inspector => "insp",
        Role::ZoneHolder => "holder",
        Role::TeamLeader => "leader",
        Role::Manager => "mgr",
        Role::Admin => "admin",
    }
}

fn actor(role: Role, branch: &str) -> Actor {
    Actor::new(user(role), role, branch)
}

fn day(s: &str) -> Option<Day> {
    Some(Day(s.parse().expect("test date")))
}

fn directory() -> Directory {
    let id: DocId = "directory:b1".parse().expect("id");
    let mut d: Directory = read(&genesis::<Directory>(&id).expect("genesis"), &id).expect("read");
    let mut rules = BTreeMap::new();
    rules.insert(
        "r1".to_owned(),
        DeductionRule {
            text: "电缆吊挂不规范".into(),
            points: Points::whole(2),
            needs_photo: false,
        },
    );
    let mut items = BTreeMap::new();
    items.insert(
        "i1".to_owned(),
        TemplateItem {
            order: 1,
            category: "文明生产".into(),
            text: "电缆吊挂".into(),
            max: Points::whole(10),
            rules,
        },
    );
    d.templates.insert(
        "t1".into(),
        Template {
            name: "责任区检查标准".into(),
            supersedes: String::new(),
            items,
        },
    );
    let mut zone = Zone {
        name: "三水平上车场".into(),
        template: "t1".into(),
        active: true,
        ..Default::default()
    };
    zone.holders.insert("holder".into(), true);
    d.zones.insert("z1".into(), zone);
    // The branch's inspector, named on its patrols.
    d.members.insert(
        "insp".into(),
        Member {
            name: "检查员".into(),
            ..Default::default()
        },
    );
    d
}

fn patrol_base(p: &mut Patrol) {
    p.plan.leader = "sec".into();
    p.plan.date = day("2026-11-20");
    p.plan.inspectors.insert("insp".into(), true);
    p.plan.zones.insert("z1".into(), 1);
}

fn patrol() -> Patrol {
    let id: DocId = "patrol:b1:p1".parse().expect("id");
    let mut p: Patrol = read(&genesis::<Patrol>(&id).expect("genesis"), &id).expect("read");
    patrol_base(&mut p);
    p
}

fn problem_base(p: &mut Problem) {
    p.finding.zone = "z1".into();
    p.finding.raised_by = "insp".into();
    p.finding.raised_at = NOW - 1_000;
    p.finding.responsible = "holder".into();
    p.finding.description = "电缆未吊挂".into();
    p.finding.deadline = day("2026-11-25");
    p.rectifications.insert(
        "r0".into(),
        Rectification {
            at: NOW - 900_000 + 5,
            by: "holder".into(),
            note: "已整改".into(),
            photos: BTreeMap::new(),
            extension: None,
        },
    );
}

/// A document's state before the change a test tries.
type Base = fn(&mut AutoCommit, &DocId);

/// A fix with no note or photo, `at` milliseconds into the test's last quarter-hour.
fn rectification(at: i64, by: &str) -> Rectification {
    Rectification {
        at: NOW - 900_000 + at,
        by: by.to_owned(),
        note: FreeText::default(),
        photos: BTreeMap::new(),
        extension: None,
    }
}

/// A verification with no note, `at` milliseconds into the test's last quarter-hour.
fn verification(at: i64, by: &str, outcome: Outcome) -> Verification {
    Verification {
        at: NOW - 900_000 + at,
        by: by.to_owned(),
        outcome,
        note: FreeText::default(),
        deadline: None,
        request: None,
    }
}

fn cleanup_base(c: &mut Cleanup) {
    c.log.leader = "leader".into();
    c.log.zone = "z1".into();
    c.log.date = day("2026-11-20");
}

fn scores(by: &str, points: i64) -> Scores {
    let mut s = Scores {
        by: by.to_owned(),
        at: Some(NOW - 1_000),
        ..Default::default()
    };
    for item in AssessmentItem::ALL {
        s.items.insert(item.key().into(), Points::whole(points));
    }
    s
}

/// The context the tests check with: the test directory and patrol, at [`NOW`].
fn context<'a>(directory: &'a Directory, patrol: &'a Patrol, locks: &'a [Lock]) -> Context<'a> {
    Context {
        directory: Some(directory),
        patrol: Some(patrol),
        locks,
        rules: None,
        now_millis: Some(NOW),
        clock: Default::default(),
    }
}

/// The server's copy: genesis plus a base state written earlier.
fn stored(id: &DocId, base: fn(&mut AutoCommit, &DocId)) -> AutoCommit {
    let mut doc = genesis_of(id).expect("genesis");
    doc.set_actor(ActorId::from([9; 16]));
    base(&mut doc, id);
    doc
}

/// Applies a device's edit on top of the stored document and validates it.
fn attempt(
    id: &DocId,
    base: fn(&mut AutoCommit, &DocId),
    edit: &dyn Fn(&mut AutoCommit, &DocId, &Actor),
    who: &Actor,
    locks: &[Lock],
) -> Result<(), Refusal> {
    attempt_on(id, base, edit, who, locks, &patrol())
}

/// [`attempt`] with the given patrol in the context.
fn attempt_on(
    id: &DocId,
    base: fn(&mut AutoCommit, &DocId),
    edit: &dyn Fn(&mut AutoCommit, &DocId, &Actor),
    who: &Actor,
    locks: &[Lock],
    patrol: &Patrol,
) -> Result<(), Refusal> {
    let mut before = stored(id, base);
    let mut after = before.fork();
    after.set_actor(ActorId::from([7; 16]));
    edit(&mut after, id, who);
    let directory = directory();
    let ctx = context(&directory, patrol, locks);
    validate_change(who, id, &before.document().clone(), after.document(), &ctx)
}

fn no_base(_: &mut AutoCommit, _: &DocId) {}

type Edit = Box<dyn Fn(&mut AutoCommit, &DocId, &Actor)>;

/// One row of the matrix: a document part, how to touch it, and for each role in
/// [`Role::ALL`] order either `None` (allowed) or part of the refusal reason.
struct Row {
    id: &'static str,
    part: &'static str,
    base: fn(&mut AutoCommit, &DocId),
    edit: Edit,
    expect: [Option<&'static str>; 6],
}

fn rows() -> Vec<Row> {
    const SEC_OR_ADMIN: &str = "only the branch secretary or an admin";
    const LEADER: &str = "only the patrol's leader";
    const OWN_SHEET: &str = "written by its own inspector alone";
    const RAISE: &str = "only a secretary or an inspector raises";
    const RESPONSIBLE: &str = "only the member responsible";
    const VERIFY: &str = "only a secretary or an inspector verifies";
    const SERVER: &str = "written by the server alone";
    let dir = |part: &'static str, edit: fn(&mut Directory), expect| Row {
        id: "directory:b1",
        part,
        base: no_base,
        edit: Box::new(move |doc, id, _| edit_dir(doc, id, edit)),
        expect,
    };
    fn edit_dir(doc: &mut AutoCommit, id: &DocId, f: fn(&mut Directory)) {
        edit(doc, id, f);
    }
    let patrol_row = |part, change: fn(&mut Patrol)| Row {
        id: "patrol:b1:p1",
        part,
        base: |doc, id| edit(doc, id, patrol_base),
        edit: Box::new(move |doc, id, _| edit(doc, id, change)),
        expect: [
            None,
            Some(LEADER),
            Some(LEADER),
            Some(LEADER),
            Some(LEADER),
            Some(LEADER),
        ],
    };
    let sheet_row = |part, change: fn(&mut Sheet)| Row {
        id: "sheet:b1:p1:insp",
        part,
        base: no_base,
        edit: Box::new(move |doc, id, _| edit(doc, id, change)),
        expect: [
            Some(OWN_SHEET),
            None,
            Some(OWN_SHEET),
            Some(OWN_SHEET),
            Some(OWN_SHEET),
            Some(OWN_SHEET),
        ],
    };
    let report_row = |part, change: fn(&mut Report)| Row {
        id: "report:b1:2026-11",
        part,
        base: no_base,
        edit: Box::new(move |doc, id, _| edit(doc, id, change)),
        expect: [Some(SERVER); 6],
    };
    vec![
        dir(
            "info",
            |d| d.info.name = "综采一队党支部".into(),
            [
                Some("only an admin"),
                Some("only an admin"),
                Some("only an admin"),
                Some("only an admin"),
                Some("only an admin"),
                None,
            ],
        ),
        dir(
            "zones",
            |d| {
                d.zones.insert(
                    "z9".into(),
                    Zone {
                        name: "802溜子道".into(),
                        ..Default::default()
                    },
                );
            },
            [
                None,
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                None,
            ],
        ),
        // A post set up with its five clears (no application): the secretary's or an admin's.
        Row {
            id: "directory:b1",
            part: "posts",
            base: posts_base,
            edit: Box::new(|doc, id, _| {
                edit_dir(doc, id, |d| {
                    let mut post = applied_post("leader", 100);
                    post.events.clear();
                    d.posts.insert("p8".into(), post);
                })
            }),
            expect: [
                None,
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                None,
            ],
        },
        dir(
            "members",
            |d| {
                d.members.insert(
                    "wang".into(),
                    Member {
                        name: "王伟".into(),
                        ..Default::default()
                    },
                );
            },
            [
                None,
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                None,
            ],
        ),
        dir(
            "templates",
            |d| {
                d.templates.insert(
                    "t2".into(),
                    Template {
                        name: "示范岗标准".into(),
                        supersedes: String::new(),
                        items: BTreeMap::new(),
                    },
                );
            },
            [
                None,
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                Some(SEC_OR_ADMIN),
                None,
            ],
        ),
        patrol_row("plan", |p| {
            p.plan.zones.insert("z2".into(), 2);
        }),
        patrol_row("notes", |p| p.notes = "巷道积水".into()),
        patrol_row("closed_at", |p| p.closed_at = Some(NOW - 99)),
        sheet_row("zones", |s| {
            let mut item = ItemEntry::default();
            item.deductions.insert("r1".into(), Tally::new(1));
            let mut zone = ZoneSheet {
                template: "t1".into(),
                ..Default::default()
            };
            zone.items.insert("i1".into(), item);
            s.zones.insert("z1".into(), zone);
        }),
        sheet_row("submitted_at", |s| s.submitted_at = Some(NOW - 5)),
        Row {
            id: "problem:b1:x1",
            part: "finding",
            base: |doc, id| edit(doc, id, problem_base),
            edit: Box::new(|doc, id, _| {
                edit(doc, id, |p: &mut Problem| {
                    p.finding.measure = "重新吊挂".into()
                })
            }),
            expect: [
                Some("only whoever raised the problem"),
                None,
                Some(RAISE),
                Some(RAISE),
                Some(RAISE),
                Some(RAISE),
            ],
        },
        Row {
            id: "problem:b1:x1",
            part: "rectifications",
            base: |doc, id| edit(doc, id, problem_base),
            edit: Box::new(|doc, id, who| {
                edit(doc, id, |p: &mut Problem| {
                    p.rectifications.insert(
                        format!("r-{}", who.user),
                        Rectification {
                            at: NOW - 800,
                            by: who.user.clone(),
                            note: "再次整改".into(),
                            photos: BTreeMap::new(),
                            extension: None,
                        },
                    );
                })
            }),
            expect: [
                Some(RESPONSIBLE),
                Some(RESPONSIBLE),
                None,
                Some(RESPONSIBLE),
                Some(RESPONSIBLE),
                Some(RESPONSIBLE),
            ],
        },
        Row {
            id: "problem:b1:x1",
            part: "verifications",
            base: |doc, id| edit(doc, id, problem_base),
            edit: Box::new(|doc, id, who| {
                edit(doc, id, |p: &mut Problem| {
                    p.verifications.insert(
                        format!("v-{}", who.user),
                        verification(30, &who.user, Outcome::Verified),
                    );
                })
            }),
            expect: [
                None,
                None,
                Some(VERIFY),
                Some(VERIFY),
                Some(VERIFY),
                Some(VERIFY),
            ],
        },
        Row {
            id: "cleanup:b1:c1",
            part: "log",
            base: |doc, id| edit(doc, id, cleanup_base),
            edit: Box::new(|doc, id, _| edit(doc, id, |c: &mut Cleanup| c.log.person_times = 12)),
            expect: {
                const TL: Option<&str> = Some("only the team leader who logs the cleanup");
                [TL, TL, TL, None, TL, TL]
            },
        },
        Row {
            id: "assessment:b1:z1:2026-11",
            part: "self_score",
            base: no_base,
            edit: Box::new(|doc, id, who| {
                edit(doc, id, |a: &mut Assessment| {
                    a.self_score = scores(&who.user, 9)
                })
            }),
            expect: {
                const H: Option<&str> = Some("only a member responsible for the zone");
                [H, H, None, H, H, H]
            },
        },
        Row {
            id: "assessment:b1:z1:2026-11",
            part: "branch_score",
            base: no_base,
            edit: Box::new(|doc, id, who| {
                edit(doc, id, |a: &mut Assessment| {
                    a.branch_score = scores(&who.user, 8)
                })
            }),
            expect: {
                const S: Option<&str> = Some("only the branch secretary");
                [None, S, S, S, S, S]
            },
        },
        report_row("zones", |r| {
            r.zones.insert(
                "z1".into(),
                ZoneResult {
                    score: Some(Points::whole(97)),
                    rank: 1,
                    money_fen: 2000,
                    ..Default::default()
                },
            );
        }),
        report_row("open_problems", |r| r.open_problems = 2),
        report_row("updated_at", |r| r.updated_at = Some(2)),
        report_row("overdue_problems", |r| r.overdue_problems = 1),
        report_row("branch", |r| r.branch.rank = 1),
        report_row("cleanups", |r| r.cleanups.person_times = 6),
        report_row("published", |r| {
            r.published = Some(Published {
                by: "mgr".into(),
                at: 1,
            })
        }),
        Row {
            id: "publication:b1",
            part: "events",
            base: no_base,
            edit: Box::new(|doc, id, who| {
                edit(doc, id, |p: &mut Publication| {
                    p.events.insert(
                        format!("e-{}", who.user),
                        LockEvent {
                            period: "2026-10".into(),
                            action: LockAction::Publish,
                            by: who.user.clone(),
                            at: NOW,
                            seq: 1,
                        },
                    );
                })
            }),
            expect: {
                const M: Option<&str> = Some("only a manager");
                [M, M, M, M, None, M]
            },
        },
        Row {
            id: "evaluation:b1:2026-Q4",
            part: "marks",
            base: no_base,
            edit: Box::new(|doc, id, who| {
                edit(doc, id, |e: &mut Evaluation| {
                    e.marks.insert(
                        "b3".into(),
                        GivenMark {
                            points: Points::whole(88),
                            by: who.user.clone(),
                            at: NOW,
                        },
                    );
                })
            }),
            expect: {
                const S: Option<&str> = Some("only the branch secretary");
                [None, S, S, S, S, S]
            },
        },
        Row {
            id: "evaluation:b1:2026-Q4",
            part: "bonuses",
            base: no_base,
            edit: Box::new(|doc, id, who| {
                edit(doc, id, |e: &mut Evaluation| {
                    e.bonuses.insert(
                        format!("x-{}", who.user),
                        Bonus {
                            points: Points::whole(2),
                            reason: "党员形象设计特色活动".into(),
                            by: who.user.clone(),
                            at: NOW,
                        },
                    );
                })
            }),
            expect: {
                const M: Option<&str> = Some("only a manager");
                [M, M, M, M, None, M]
            },
        },
        Row {
            id: "rules",
            part: "versions",
            base: no_base,
            edit: Box::new(|doc, id, who| {
                let version = rules_version("2026-12", &who.user);
                edit(doc, id, move |r: &mut Rules| {
                    r.versions.insert(format!("v-{}", version.by), version);
                })
            }),
            expect: {
                const A: Option<&str> = Some("only an admin");
                [A, A, A, A, A, None]
            },
        },
    ]
}

fn check(got: Result<(), Refusal>, want: Option<&str>, what: &str) {
    match (got, want) {
        (Ok(()), None) => {}
        (Err(refusal), Some(reason)) => {
            assert!(
                refusal.reason.contains(reason),
                "{what}: refused with “{refusal}”, expected “{reason}”"
            );
        }
        (got, want) => panic!("{what}: got {got:?}, expected {want:?}"),
    }
}

#[test]
fn every_role_against_every_part() {
    let rows = rows();
    // Every part of every kind has a row.
    for kind in DocKind::ALL {
        for part in parts_of(kind) {
            assert!(
                rows.iter()
                    .any(|r| r.part == *part && r.id.starts_with(kind.as_str())),
                "no row for {kind}.{part}"
            );
        }
    }
    for row in &rows {
        let id: DocId = row.id.parse().expect("id");
        for (role, want) in Role::ALL.into_iter().zip(row.expect) {
            let what = format!("{} {} by {role}", row.id, row.part);
            let got = attempt(&id, row.base, &*row.edit, &actor(role, "b1"), &[]);
            if let Err(refusal) = &got {
                assert_eq!(refusal.part, row.part, "{what}");
                assert_eq!(refusal.code, RefusalCode::NotWriter, "{what}");
            }
            check(got, want, &what);
        }
    }
}

#[test]
fn a_visitor_writes_only_their_own_sheet_on_a_patrol_they_are_named_on() {
    let visitor = actor(Role::Inspector, "b2");
    assert_eq!(visitor.user, "insp", "named on the patrol");
    let sheet: DocId = "sheet:b1:p1:insp".parse().expect("id");
    let score = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |s: &mut Sheet| {
            s.zones.insert(
                "z1".into(),
                ZoneSheet {
                    template: "t1".into(),
                    ..Default::default()
                },
            );
        });
    };
    let p = patrol();
    attempt_on(&sheet, no_base, &score, &visitor, &[], &p).expect("their sheet");
    // Taken off the plan, or on another patrol's sheet: the branch is not theirs.
    let mut off = p.clone();
    off.plan.inspectors.clear();
    let refused = attempt_on(&sheet, no_base, &score, &visitor, &[], &off).expect_err("not named");
    assert_eq!(refused.code, RefusalCode::WrongBranch);
    let other: DocId = "sheet:b1:p2:insp".parse().expect("id");
    let refused =
        attempt_on(&other, no_base, &score, &visitor, &[], &p).expect_err("another patrol");
    assert_eq!(refused.code, RefusalCode::WrongBranch);
    // Nothing else of the branch: not a problem.
    let problem: DocId = "problem:b1:x".parse().expect("id");
    let raise = |doc: &mut AutoCommit, id: &DocId, _: &Actor| edit(doc, id, problem_base);
    let refused = attempt_on(&problem, no_base, &raise, &visitor, &[], &p).expect_err("a problem");
    assert_eq!(refused.code, RefusalCode::WrongBranch);
}

#[test]
fn every_role_from_another_branch() {
    for row in rows() {
        let id: DocId = row.id.parse().expect("id");
        for (role, want) in Role::ALL.into_iter().zip(row.expect) {
            let what = format!("{} {} by {role} of b2", row.id, row.part);
            let got = attempt(&id, row.base, &*row.edit, &actor(role, "b2"), &[]);
            // The mine's rules belong to no branch: from any branch, the same as from b1. An
            // inspector named on the patrol writes their sheet from any branch (the party
            // committee's inspection draws inspectors from several).
            let visitor = matches!(&id, DocId::Sheet { inspector, .. } if *inspector == user(role));
            if role.is_company_wide() || id.branch().is_empty() || visitor {
                check(got, want, &what);
            } else {
                let refusal = got.expect_err(&what);
                assert_eq!(refusal.code, RefusalCode::WrongBranch, "{what}");
                assert!(
                    refusal.reason.contains("belongs to branch b1"),
                    "{what}: {refusal}"
                );
            }
        }
    }
}

#[test]
fn nobody_writes_a_header_or_an_unknown_part() {
    for kind in DocKind::ALL {
        let id: DocId = match kind {
            DocKind::Directory => "directory:b1",
            DocKind::Patrol => "patrol:b1:p1",
            DocKind::Sheet => "sheet:b1:p1:insp",
            DocKind::Problem => "problem:b1:x1",
            DocKind::Cleanup => "cleanup:b1:c1",
            DocKind::Assessment => "assessment:b1:z1:2026-11",
            DocKind::Report => "report:b1:2026-11",
            DocKind::Publication => "publication:b1",
            DocKind::Rules => "rules",
            DocKind::Evaluation => "evaluation:b1:2026-Q4",
        }
        .parse()
        .expect("id");
        for role in Role::ALL {
            let header = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
                let header = match doc.get(ROOT, "header").expect("get") {
                    Some((_, obj)) => obj,
                    None => panic!("no header"),
                };
                doc.put(&header, "branch", "b2").expect("put");
                doc.commit();
            };
            let refusal =
                attempt(&id, no_base, &header, &actor(role, "b1"), &[]).expect_err("header");
            assert_eq!(
                (refusal.code, refusal.part.as_str()),
                (RefusalCode::Immutable, "header")
            );
            assert!(refusal.reason.contains("the header is fixed"), "{refusal}");

            let extra = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
                doc.put(ROOT, "bonus", 1000).expect("put");
                doc.commit();
            };
            let refusal =
                attempt(&id, no_base, &extra, &actor(role, "b1"), &[]).expect_err("extra");
            assert_eq!(
                (refusal.code, refusal.part.as_str()),
                (RefusalCode::Immutable, "bonus")
            );
            assert!(refusal.reason.contains("has no part “bonus”"), "{refusal}");
        }
    }
}

#[test]
fn a_change_that_changes_nothing_is_accepted_from_the_branch_only() {
    let id: DocId = "report:b1:2026-11".parse().expect("id");
    let nothing = |_: &mut AutoCommit, _: &DocId, _: &Actor| {};
    assert_eq!(
        attempt(&id, no_base, &nothing, &actor(Role::ZoneHolder, "b1"), &[]),
        Ok(())
    );
    let refusal = attempt(&id, no_base, &nothing, &actor(Role::ZoneHolder, "b9"), &[]);
    assert_eq!(refusal.map_err(|r| r.code), Err(RefusalCode::WrongBranch));
}

/// Validates a brand-new document as the device created it.
fn create<D: Document>(id: &str, who: &Actor, f: impl FnOnce(&mut D)) -> Result<(), Refusal> {
    let id: DocId = id.parse().expect("id");
    let mut doc = genesis::<D>(&id).expect("genesis");
    doc.set_actor(ActorId::from([7; 16]));
    edit(&mut doc, &id, f);
    let (directory, patrol) = (directory(), patrol());
    let ctx = context(&directory, &patrol, &[]);
    validate_change(who, &id, &Automerge::new(), doc.document(), &ctx)
}

#[test]
fn creating_documents() {
    let insp = actor(Role::Inspector, "b1");
    let holder = actor(Role::ZoneHolder, "b1");
    let leader = actor(Role::TeamLeader, "b1");
    let sec = actor(Role::Secretary, "b1");
    let raise = |p: &mut Problem| {
        problem_base(p);
        p.rectifications.clear();
    };
    assert_eq!(create("problem:b1:n1", &insp, raise), Ok(()));
    let refusal = create("problem:b1:n1", &holder, |p: &mut Problem| {
        problem_base(p);
        p.finding.raised_by = "holder".into();
        p.rectifications.clear();
    })
    .expect_err("a holder does not raise problems");
    assert!(
        refusal
            .reason
            .contains("only a secretary or an inspector raises"),
        "{refusal}"
    );
    // Raising a problem in someone else's name.
    let refusal = create("problem:b1:n1", &sec, raise).expect_err("forged raiser");
    assert!(refusal.reason.contains("only whoever raised"), "{refusal}");
    // A problem needs its deadline.
    let refusal = create("problem:b1:n1", &insp, |p: &mut Problem| {
        raise(p);
        p.finding.deadline = None;
    })
    .expect_err("no deadline");
    assert_eq!(refusal.code, RefusalCode::OutOfRange);
    assert!(refusal.reason.contains("a deadline"), "{refusal}");

    assert_eq!(create("cleanup:b1:n1", &leader, cleanup_base), Ok(()));
    let refusal = create("cleanup:b1:n1", &sec, |c: &mut Cleanup| {
        cleanup_base(c);
        c.log.leader = "sec".into();
    })
    .expect_err("only team leaders log cleanups");
    assert!(refusal.reason.contains("only the team leader"), "{refusal}");

    assert_eq!(create("patrol:b1:n1", &sec, patrol_base), Ok(()));
    let refusal = create("patrol:b1:n1", &holder, |p: &mut Patrol| {
        patrol_base(p);
        p.plan.leader = "holder".into();
    })
    .expect_err("holders do not lead patrols");
    assert!(
        refusal
            .reason
            .contains("only a secretary, an inspector or a manager"),
        "{refusal}"
    );
    let refusal = create("patrol:b1:n1", &sec, |p: &mut Patrol| {
        patrol_base(p);
        p.plan.date = None;
    })
    .expect_err("no date");
    assert!(refusal.reason.contains("the day of the walk"), "{refusal}");
}

#[test]
fn a_new_document_must_begin_with_its_genesis() {
    let id: DocId = "problem:b1:n1".parse().expect("id");
    // Built by hand instead of through genesis: same content, another first change.
    let born = genesis::<Problem>(&id).expect("genesis");
    let mut value: Problem = read(&born, &id).expect("read");
    problem_base(&mut value);
    let mut forged = AutoCommit::new();
    write(&mut forged, &value).expect("write");
    forged.commit();
    let who = actor(Role::Inspector, "b1");
    let refusal = validate_change(
        &who,
        &id,
        &Automerge::new(),
        forged.document(),
        &Context::default(),
    )
    .expect_err("not genesis");
    assert_eq!(refusal.code, RefusalCode::NotGenesis);
    assert!(
        refusal
            .reason
            .contains("must begin with its genesis change"),
        "{refusal}"
    );

    // The genesis of another document does not do either.
    let other: DocId = "problem:b1:n2".parse().expect("id");
    let mut doc = genesis::<Problem>(&other).expect("genesis");
    let refusal = validate_change(
        &who,
        &id,
        &Automerge::new(),
        doc.document(),
        &Context::default(),
    )
    .expect_err("another genesis");
    assert_eq!(refusal.code, RefusalCode::NotGenesis);
}

#[test]
fn records_signed_by_someone_else() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let holder = actor(Role::ZoneHolder, "b1");
    let forged = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.rectifications
                .insert("r9".into(), rectification(20, "someone"));
        })
    };
    let refusal =
        attempt(&id, |d, i| edit(d, i, problem_base), &forged, &holder, &[]).expect_err("forged");
    assert!(refusal.reason.contains("signed by its author"), "{refusal}");

    // One inspector cannot overwrite another's verification.
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.verifications
                .insert("v1".into(), verification(30, "sec", Outcome::Verified));
        })
    };
    let overwrite = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            let v = p.verifications.get_mut("v1").expect("v1");
            v.outcome = Outcome::Reopened;
        })
    };
    let refusal =
        attempt(&id, base, &overwrite, &actor(Role::Inspector, "b1"), &[]).expect_err("overwrite");
    assert!(refusal.reason.contains("signed by its author"), "{refusal}");

    // Nobody verifies their own rectification, even a secretary.
    let sec_fixed = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "sec".into();
            p.rectifications
                .insert("r1".into(), rectification(11, "sec"));
        })
    };
    let verify = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.verifications
                .insert("v2".into(), verification(40, &who.user, Outcome::Verified));
        })
    };
    let refusal =
        attempt(&id, sec_fixed, &verify, &actor(Role::Secretary, "b1"), &[]).expect_err("own fix");
    assert!(
        refusal
            .reason
            .contains("nobody verifies their own rectification"),
        "{refusal}"
    );

    // Scores signed in someone else's name.
    let id: DocId = "assessment:b1:z1:2026-11".parse().expect("id");
    let other = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |a: &mut Assessment| {
            a.branch_score = scores("someone", 9)
        })
    };
    let refusal =
        attempt(&id, no_base, &other, &actor(Role::Secretary, "b1"), &[]).expect_err("forged");
    assert!(
        refusal.reason.contains("sign with your own name"),
        "{refusal}"
    );
}

#[test]
fn values_out_of_range() {
    let sec = actor(Role::Secretary, "b1");
    let insp = actor(Role::Inspector, "b1");
    let assessment: DocId = "assessment:b1:z1:2026-11".parse().expect("id");
    let sheet: DocId = "sheet:b1:p1:insp".parse().expect("id");
    type Case = (&'static DocId, &'static Actor, Edit, &'static str);
    let assessment: &'static DocId = Box::leak(Box::new(assessment));
    let sheet: &'static DocId = Box::leak(Box::new(sheet));
    let sec: &'static Actor = Box::leak(Box::new(sec));
    let insp: &'static Actor = Box::leak(Box::new(insp));
    let score = |key: &'static str, points: Points| -> Edit {
        Box::new(move |doc, id, who| {
            edit(doc, id, |a: &mut Assessment| {
                a.branch_score = scores(&who.user, 9);
                a.branch_score.items.insert(key.into(), points);
            })
        })
    };
    let sheet_edit = |f: fn(&mut ZoneSheet)| -> Edit {
        Box::new(move |doc, id, _| {
            edit(doc, id, |s: &mut Sheet| {
                let mut zone = ZoneSheet {
                    template: "t1".into(),
                    ..Default::default()
                };
                f(&mut zone);
                s.zones.insert("z1".into(), zone);
            })
        })
    };
    let cases: Vec<Case> = vec![
        (
            assessment,
            sec,
            score("safety", Points(1001)),
            "a score of safety must be from 0 to 10",
        ),
        (
            assessment,
            sec,
            score("safety", Points(-1)),
            "a score of safety must be from 0 to 10",
        ),
        (
            assessment,
            sec,
            score("bribery", Points::whole(5)),
            "not an item of this month's assessment form",
        ),
        (
            sheet,
            insp,
            sheet_edit(|z| {
                let mut item = ItemEntry::default();
                item.deductions.insert("r1".into(), Tally::new(-1));
                z.items.insert("i1".into(), item);
            }),
            "counted from 0 to 1000",
        ),
        (
            sheet,
            insp,
            sheet_edit(|z| {
                z.items.insert("i9".into(), ItemEntry::default());
            }),
            "checklist item i9 is not on template t1",
        ),
        (
            sheet,
            insp,
            sheet_edit(|z| {
                let mut item = ItemEntry::default();
                item.deductions.insert("r9".into(), Tally::new(1));
                z.items.insert("i1".into(), item);
            }),
            "deduction r9 is not a rule of item i1",
        ),
        (
            sheet,
            insp,
            sheet_edit(|z| z.template = "t9".into()),
            "template t9, which does not exist",
        ),
        (
            sheet,
            insp,
            sheet_edit(|z| {
                let mut item = ItemEntry::default();
                item.photos
                    .insert("../../etc/passwd".into(), PhotoRef::default());
                z.items.insert("i1".into(), item);
            }),
            "SHA-256",
        ),
    ];
    for (id, who, edit, reason) in cases {
        let refusal = attempt(id, no_base, &*edit, who, &[]).expect_err(reason);
        assert!(refusal.reason.contains(reason), "{reason}: {refusal}");
    }
    // The same with good values passes.
    let good = sheet_edit(|z| {
        let mut item = ItemEntry::default();
        item.deductions.insert("r1".into(), Tally::new(2));
        item.photos.insert(SHA.into(), PhotoRef::default());
        z.items.insert("i1".into(), item);
    });
    assert_eq!(attempt(sheet, no_base, &*good, insp, &[]), Ok(()));
}

#[test]
fn published_periods_are_locked() {
    let lock = |period: &str| Lock {
        period: period.parse::<Period>().expect("period"),
        by: "mgr".into(),
        at: 1,
    };
    let sec = actor(Role::Secretary, "b1");
    let assessment: DocId = "assessment:b1:z1:2026-11".parse().expect("id");
    let branch_score = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |a: &mut Assessment| {
            a.branch_score = scores(&who.user, 9)
        })
    };
    // (locks, locked?)
    let cases: &[(&[&str], bool)] = &[
        (&[], false),
        (&["2026-11"], true),
        (&["2026-Q4"], true),
        (&["2026"], true),
        (&["2026-10"], false),
        (&["2026-W47"], false),
        (&["2026-11-D2"], false),
    ];
    for (periods, locked) in cases {
        let locks: Vec<Lock> = periods.iter().map(|p| lock(p)).collect();
        let got = attempt(&assessment, no_base, &branch_score, &sec, &locks);
        if *locked {
            let refusal = got.expect_err("locked");
            assert_eq!(refusal.code, RefusalCode::Locked, "{periods:?}");
            assert!(
                refusal.reason.contains("ask a manager to reopen it"),
                "{refusal}"
            );
            assert!(refusal.reason.contains("published by mgr"), "{refusal}");
        } else {
            assert_eq!(got, Ok(()), "{periods:?}");
        }
    }
    let refusal = attempt(
        &assessment,
        no_base,
        &branch_score,
        &sec,
        &[lock("2026-11")],
    )
    .expect_err("locked");
    assert!(
        refusal
            .reason
            .starts_with("2026年11月 (2026-11) was published"),
        "{refusal}"
    );

    // A patrol and its sheets on 20 November fall in week 47, the middle ten days, November.
    let patrol_id: DocId = "patrol:b1:p1".parse().expect("id");
    let notes = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Patrol| p.notes = "补记".into())
    };
    let sheet_id: DocId = "sheet:b1:p1:insp".parse().expect("id");
    let submit = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |s: &mut Sheet| s.submitted_at = Some(NOW - 3))
    };
    let cleanup_id: DocId = "cleanup:b1:c1".parse().expect("id");
    let more = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |c: &mut Cleanup| c.log.person_times = 3)
    };
    for (period, locked) in [
        ("2026-W47", true),
        ("2026-11-D2", true),
        ("2026-11", true),
        ("2026-W48", false),
        ("2026-11-D3", false),
    ] {
        let locks = [lock(period)];
        let p = attempt(
            &patrol_id,
            |d, i| edit(d, i, patrol_base),
            &notes,
            &sec,
            &locks,
        );
        let s = attempt(
            &sheet_id,
            no_base,
            &submit,
            &actor(Role::Inspector, "b1"),
            &locks,
        );
        let c = attempt(
            &cleanup_id,
            |d, i| edit(d, i, cleanup_base),
            &more,
            &actor(Role::TeamLeader, "b1"),
            &locks,
        );
        for got in [p, s, c] {
            match got {
                Err(r) if locked => assert_eq!(r.code, RefusalCode::Locked, "{period}"),
                Ok(()) if !locked => {}
                other => panic!("{period}: {other:?}"),
            }
        }
    }
    // Moving a patrol out of a locked week is refused too.
    let move_out = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Patrol| p.plan.date = day("2026-12-01"))
    };
    let refusal = attempt(
        &patrol_id,
        |d, i| edit(d, i, patrol_base),
        &move_out,
        &sec,
        &[lock("2026-W47")],
    );
    assert_eq!(refusal.map_err(|r| r.code), Err(RefusalCode::Locked));

    // A problem's loop goes on whatever is published.
    let problem_id: DocId = "problem:b1:x1".parse().expect("id");
    let verify = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.verifications
                .insert("v".into(), verification(30, &who.user, Outcome::Verified));
        })
    };
    let got = attempt(
        &problem_id,
        |d, i| edit(d, i, problem_base),
        &verify,
        &sec,
        &[lock("2026-11")],
    );
    assert_eq!(got, Ok(()));
}

#[test]
fn data_of_the_wrong_shape_is_malformed() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let wrong = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
        let finding = match doc.get(ROOT, "finding").expect("get") {
            Some((_, obj)) => obj,
            None => panic!("no finding"),
        };
        doc.put(&finding, "severity", 5).expect("put");
        doc.commit();
    };
    let refusal = attempt(
        &id,
        |d, i| edit(d, i, problem_base),
        &wrong,
        &actor(Role::Inspector, "b1"),
        &[],
    )
    .expect_err("malformed");
    assert_eq!(refusal.code, RefusalCode::Malformed);
    assert!(
        refusal.reason.contains("does not match the problem schema"),
        "{refusal}"
    );
}

#[test]
fn refusals_serialize_for_the_protocol() {
    let refusal = Refusal::new(RefusalCode::Locked, "self_score", "locked");
    let json = serde_json::to_value(&refusal).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"code": "locked", "part": "self_score", "reason": "locked"})
    );
    assert_eq!(refusal.to_string(), "self_score: locked");
}

#[test]
fn a_part_is_never_replaced_removed_or_doubled() {
    use automerge::ObjType;
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.verifications
                .insert("v1".into(), verification(30, "sec", Outcome::Reopened));
        })
    };
    // Wiping everyone's verifications by putting a fresh map in their place.
    let replace = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
        doc.put_object(ROOT, "verifications", ObjType::Map)
            .expect("put");
        doc.commit();
    };
    let refusal =
        attempt(&id, base, &replace, &actor(Role::Inspector, "b1"), &[]).expect_err("replaced");
    assert_eq!(
        (refusal.code, refusal.part.as_str()),
        (RefusalCode::Immutable, "verifications")
    );
    assert!(
        refusal.reason.contains("cannot be replaced as a whole"),
        "{refusal}"
    );

    let remove = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
        doc.delete(ROOT, "verifications").expect("delete");
        doc.commit();
    };
    let refusal =
        attempt(&id, base, &remove, &actor(Role::Inspector, "b1"), &[]).expect_err("removed");
    assert!(refusal.reason.contains("cannot be removed"), "{refusal}");

    // A rival copy made concurrently with genesis.
    let mut before = stored(&id, base);
    let mut rival = AutoCommit::new().with_actor(ActorId::from([5; 16]));
    rival
        .put_object(ROOT, "verifications", ObjType::Map)
        .expect("put");
    rival.commit();
    let mut after = before.fork();
    after.merge(&mut rival).expect("merge");
    let directory = directory();
    let ctx = Context {
        directory: Some(&directory),
        now_millis: Some(NOW),
        clock: Default::default(),
        ..Context::default()
    };
    let who = actor(Role::Inspector, "b1");
    let refusal = validate_change(
        &who,
        &id,
        &before.document().clone(),
        after.document(),
        &ctx,
    )
    .expect_err("rival");
    assert!(refusal.reason.contains("rival copy"), "{refusal}");
}

#[test]
fn nobody_rectifies_and_verifies_in_one_change() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "insp".into();
        })
    };
    let both = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.rectifications
                .insert("r1".into(), rectification(20, &who.user));
            p.verifications
                .insert("v1".into(), verification(21, &who.user, Outcome::Verified));
        })
    };
    let refusal = attempt(&id, base, &both, &actor(Role::Inspector, "b1"), &[]).expect_err("both");
    assert!(
        refusal
            .reason
            .contains("nobody verifies their own rectification"),
        "{refusal}"
    );
}

#[test]
fn records_dated_in_the_future_are_refused() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let late = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.rectifications
                .insert("r1".into(), rectification(900_000 + 3_600_000, &who.user));
        })
    };
    let refusal = attempt(
        &id,
        |d, i| edit(d, i, problem_base),
        &late,
        &actor(Role::ZoneHolder, "b1"),
        &[],
    )
    .expect_err("future");
    assert!(refusal.reason.contains("dated in the future"), "{refusal}");
    let soon = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.rectifications
                .insert("r1".into(), rectification(900_000 + 60_000, &who.user));
        })
    };
    let got = attempt(
        &id,
        |d, i| edit(d, i, problem_base),
        &soon,
        &actor(Role::ZoneHolder, "b1"),
        &[],
    );
    assert_eq!(got, Ok(()), "a minute of clock skew is tolerated");
}

#[test]
fn checks_that_need_context_refuse_without_it() {
    let sheet: DocId = "sheet:b1:p1:insp".parse().expect("id");
    let submit = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |s: &mut Sheet| s.submitted_at = Some(NOW - 3))
    };
    let mut before = stored(&sheet, no_base);
    let mut after = before.fork();
    submit(&mut after, &sheet);
    let who = actor(Role::Inspector, "b1");
    let refusal = validate_change(
        &who,
        &sheet,
        &before.document().clone(),
        after.document(),
        &Context::default(),
    )
    .expect_err("no context");
    assert!(refusal.reason.contains("sync first"), "{refusal}");

    // A sheet for a zone that is not on the patrol.
    let off_patrol = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |s: &mut Sheet| {
            s.zones.insert(
                "z7".into(),
                ZoneSheet {
                    template: "t1".into(),
                    ..Default::default()
                },
            );
        })
    };
    let refusal = attempt(&sheet, no_base, &off_patrol, &who, &[]).expect_err("off patrol");
    assert!(
        refusal.reason.contains("zone z7 is not on this patrol"),
        "{refusal}"
    );
}

#[test]
fn a_writer_is_who_the_document_names_whatever_their_role() {
    // Any secretary, inspector or manager may lead a patrol; it is theirs alone after that.
    for role in [Role::Secretary, Role::Inspector, Role::Manager] {
        let who = actor(role, "b1");
        let lead = |p: &mut Patrol| {
            patrol_base(p);
            p.plan.leader = who.user.clone();
        };
        assert_eq!(create("patrol:b1:n2", &who, lead), Ok(()), "{role} leads");
    }
    // A secretary who is the member responsible for a problem records its rectification.
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "sec".into();
        })
    };
    let rectify = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.rectifications
                .insert("r1".into(), rectification(20, &who.user));
        })
    };
    assert_eq!(
        attempt(&id, base, &rectify, &actor(Role::Secretary, "b1"), &[]),
        Ok(())
    );
}

/// The app's entry point, given the value as read before the edit and the heads then, judges
/// every edit as the server's does from the two documents.
#[test]
fn an_edit_checked_from_its_value_is_judged_as_the_change() {
    fn as_kind<D: Document + Clone + 'static>(
        who: &Actor,
        id: &DocId,
        before: &mut AutoCommit,
        after: &Automerge,
        ctx: &Context<'_>,
    ) -> Result<(), Refusal> {
        let value: D = read(&*before, id).expect("reads as its kind");
        // A value that does not read (refused as malformed by the change) is compared as
        // what the phone would have: the document as it reads after the edit.
        let Ok(after_value) = read::<D, _>(after, id) else {
            return validate_change(who, id, before.document(), after, ctx);
        };
        validate_edit(
            who,
            id,
            &before.get_heads(),
            &value,
            after,
            &after_value,
            ctx,
        )
    }
    let (directory, patrol) = (directory(), patrol());
    let ctx = context(&directory, &patrol, &[]);
    let mut compared = 0;
    for row in rows() {
        let id: DocId = row.id.parse().expect("id");
        for role in Role::ALL {
            for branch in ["b1", "b2"] {
                let who = actor(role, branch);
                let mut before = stored(&id, row.base);
                let mut after = before.fork();
                after.set_actor(ActorId::from([7; 16]));
                (row.edit)(&mut after, &id, &who);
                let after = after.document();
                let (w, b, c) = (&who, &mut before, &ctx);
                let edit = match id.kind() {
                    DocKind::Directory => as_kind::<Directory>(w, &id, b, after, c),
                    DocKind::Patrol => as_kind::<Patrol>(w, &id, b, after, c),
                    DocKind::Sheet => as_kind::<Sheet>(w, &id, b, after, c),
                    DocKind::Problem => as_kind::<Problem>(w, &id, b, after, c),
                    DocKind::Cleanup => as_kind::<Cleanup>(w, &id, b, after, c),
                    DocKind::Assessment => as_kind::<Assessment>(w, &id, b, after, c),
                    DocKind::Report => as_kind::<Report>(w, &id, b, after, c),
                    DocKind::Publication => as_kind::<Publication>(w, &id, b, after, c),
                    DocKind::Rules => as_kind::<Rules>(w, &id, b, after, c),
                    DocKind::Evaluation => as_kind::<Evaluation>(w, &id, b, after, c),
                };
                let change = attempt(&id, row.base, &*row.edit, &who, &[]);
                assert_eq!(
                    edit, change,
                    "{} {} by {role} of {branch}",
                    row.id, row.part
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "{compared} edits compared");
}

#[test]
fn a_stored_template_is_never_changed_in_place_nor_removed() {
    let id: DocId = "directory:b1".parse().expect("id");
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |d: &mut Directory| *d = directory());
    };
    let admin = actor(Role::Admin, "b1");
    let change_item = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            let item = d
                .templates
                .get_mut("t1")
                .and_then(|t| t.items.get_mut("i1"))
                .expect("item");
            item.max = Points::whole(20);
        });
    };
    let refused = attempt(&id, base, &change_item, &admin, &[]).expect_err("refused");
    assert!(
        refused.reason.contains("cannot be changed in place"),
        "{refused}"
    );
    let remove = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            d.zones.clear();
            d.templates.clear();
        });
    };
    let refused = attempt(&id, base, &remove, &admin, &[]).expect_err("refused");
    assert!(refused.reason.contains("cannot be removed"), "{refused}");
    // A new version beside it, and the zone moved to it; a new name in place.
    let new_version = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            let mut t = d.templates["t1"].clone();
            t.supersedes = "t1".into();
            if let Some(item) = t.items.get_mut("i1") {
                item.max = Points::whole(20);
            }
            d.templates.insert("t2".into(), t);
            d.templates.get_mut("t1").expect("t1").name = "旧标准".into();
            d.zones.get_mut("z1").expect("z1").template = "t2".into();
        });
    };
    attempt(&id, base, &new_version, &admin, &[]).expect("a new version is accepted");
    let dangling = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            let mut t = d.templates["t1"].clone();
            t.supersedes = "t9".into();
            d.templates.insert("t2".into(), t);
        });
    };
    assert!(attempt(&id, base, &dangling, &admin, &[]).is_err());
}

#[test]
fn a_zone_s_shares_name_its_holders_and_come_to_100() {
    let id: DocId = "directory:b1".parse().expect("id");
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |d: &mut Directory| {
            *d = directory();
            d.zones
                .get_mut("z1")
                .expect("z1")
                .holders
                .insert("h2".into(), true);
        });
    };
    let sec = actor(Role::Secretary, "b1");
    type Shares = fn(&mut Directory);
    let cases: [(Shares, Option<&str>); 7] = [
        (|_| {}, None),
        (
            |d| {
                d.zones.get_mut("z1").expect("z1").shares =
                    [("holder".into(), 70), ("h2".into(), 30)].into()
            },
            None,
        ),
        (
            |d| {
                d.zones.get_mut("z1").expect("z1").shares =
                    [("holder".into(), 70), ("h2".into(), 20)].into()
            },
            Some("come to 90%"),
        ),
        (
            |d| d.zones.get_mut("z1").expect("z1").shares = [("holder".into(), 100)].into(),
            Some("holder “h2” has no share"),
        ),
        (
            |d| {
                d.zones.get_mut("z1").expect("z1").shares =
                    [("holder".into(), 50), ("h2".into(), 40), ("x".into(), 10)].into()
            },
            Some("“x” has a share but does not hold the zone"),
        ),
        // One share above the whole (with the other at 0%, they come to 150%).
        (
            |d| {
                d.zones.get_mut("z1").expect("z1").shares =
                    [("holder".into(), 150), ("h2".into(), 0)].into()
            },
            Some("“holder” has a share of 150%"),
        ),
        // A holder taken off the zone (entry false) may not keep a share.
        (
            |d| {
                let z = d.zones.get_mut("z1").expect("z1");
                z.holders.insert("h2".into(), false);
                z.shares = [("holder".into(), 60), ("h2".into(), 40)].into();
            },
            Some("“h2” has a share but does not hold the zone"),
        ),
    ];
    for (n, (change, refused)) in cases.into_iter().enumerate() {
        let attempt_it = move |doc: &mut AutoCommit, id: &DocId, _: &Actor| edit(doc, id, change);
        match (attempt(&id, base, &attempt_it, &sec, &[]), refused) {
            (Ok(()), None) => {}
            (Err(e), Some(says)) => assert!(e.reason.contains(says), "case {n}: {e}"),
            (got, want) => panic!("case {n}: {got:?}, wanted a refusal saying {want:?}"),
        }
    }
}

#[test]
fn several_roles_each_count_as_if_held_alone() {
    let id: DocId = "directory:b1".parse().expect("id");
    let add_zone = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            d.zones.insert(
                "z9".into(),
                Zone {
                    name: "新责任区".into(),
                    ..Default::default()
                },
            );
        });
    };
    let holder = actor(Role::ZoneHolder, "b1");
    assert!(attempt(&id, no_base, &add_zone, &holder, &[]).is_err());
    let both = holder.clone().also(&[Role::Secretary]);
    attempt(&id, no_base, &add_zone, &both, &[]).expect("as the secretary they also are");
    let refused = attempt(
        &id,
        no_base,
        &add_zone,
        &holder.also(&[Role::TeamLeader]),
        &[],
    )
    .expect_err("neither role keeps the directory");
    assert!(refused.reason.contains("、"), "both roles named: {refused}");
}

fn rules_version(from: &str, by: &str) -> RuleVersion {
    RuleVersion::of(
        &crate::rules::RulesConfig::default(),
        from.parse().expect("month"),
        NOW - 1_000,
        by,
    )
}

#[test]
fn the_rules_are_versions_an_admin_adds_from_this_month_on() {
    let id = DocId::rules();
    let admin = actor(Role::Admin, "hq");
    let add = |v: RuleVersion| {
        move |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
            let v = v.clone();
            edit(doc, id, move |r: &mut Rules| {
                r.versions.insert("v2".into(), v);
            });
        }
    };
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |r: &mut Rules| {
            r.versions
                .insert("v1".into(), rules_version("2026-11", "admin"));
        });
    };
    attempt(
        &id,
        base,
        &add(rules_version("2026-12", "admin")),
        &admin,
        &[],
    )
    .expect("from next month");
    attempt(
        &id,
        base,
        &add(rules_version("2026-11", "admin")),
        &admin,
        &[],
    )
    .expect("from this month");
    let past = attempt(
        &id,
        base,
        &add(rules_version("2026-10", "admin")),
        &admin,
        &[],
    )
    .expect_err("a month already computed");
    assert!(past.reason.contains("this month"), "{past}");
    let manager = actor(Role::Manager, "hq");
    let signed = |by: &str| rules_version("2026-12", by);
    assert!(attempt(&id, base, &add(signed("mgr")), &manager, &[]).is_err());
    assert!(
        attempt(&id, base, &add(signed("someone")), &admin, &[]).is_err(),
        "signed by its writer"
    );
    let mut trimmed_to_one = rules_version("2026-12", "admin");
    trimmed_to_one.trim_from = 3;
    let refused = attempt(&id, base, &add(trimmed_to_one), &admin, &[])
        .expect_err("three sheets trimmed to one tell it");
    assert!(refused.reason.contains("from 5"), "{refused}");
    let mut partial = rules_version("2026-12", "admin");
    partial.grades.remove("4");
    assert!(
        attempt(&id, base, &add(partial), &admin, &[]).is_err(),
        "all four categories"
    );
    let mut few = rules_version("2026-12", "admin");
    few.min_sheets = 2;
    let refused = attempt(&id, base, &add(few), &admin, &[]).expect_err("two sheets tell");
    assert!(refused.reason.contains("3 to"), "{refused}");
    let mut upside_down = rules_version("2026-12", "admin");
    upside_down.penalty_below = Points::whole(99);
    assert!(attempt(&id, base, &add(upside_down), &admin, &[]).is_err());
    let rewrite = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |r: &mut Rules| {
            if let Some(v) = r.versions.get_mut("v1") {
                v.fen_per_point = 5;
            }
        });
    };
    let refused = attempt(&id, base, &rewrite, &admin, &[]).expect_err("on the record");
    assert!(refused.reason.contains("cannot be changed"), "{refused}");
    // Everyone may read the rules; only admins write them, from any branch.
    assert!(crate::protocol::may_read(
        &actor(Role::ZoneHolder, "b1"),
        &id
    ));
}

/// A form of nine items: learning dropped, safety worth 20.
fn nine_items() -> Vec<crate::rules::FormItem> {
    let mut form = crate::rules::AssessmentForm::default();
    form.items.retain(|i| i.key != "learning");
    form.items[0].max = Points::whole(20);
    form.items
}

#[test]
fn the_assessment_form_changes_only_for_a_month_not_begun() {
    let id = DocId::rules();
    let admin = actor(Role::Admin, "hq");
    let add = |v: RuleVersion| {
        move |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
            let v = v.clone();
            edit(doc, id, move |r: &mut Rules| {
                r.versions.insert("v2".into(), v);
            });
        }
    };
    let with_form = |from: &str, items: Vec<crate::rules::FormItem>| {
        let mut v = rules_version(from, "admin");
        v.assessment = items;
        v
    };
    attempt(
        &id,
        no_base,
        &add(with_form("2026-12", nine_items())),
        &admin,
        &[],
    )
    .expect("next month's form");
    let refused = attempt(
        &id,
        no_base,
        &add(with_form("2026-11", nine_items())),
        &admin,
        &[],
    )
    .expect_err("this month's scoring has begun");
    assert!(refused.reason.contains("in use"), "{refused}");
    attempt(
        &id,
        no_base,
        &add(with_form(
            "2026-11",
            crate::rules::AssessmentForm::default().items,
        )),
        &admin,
        &[],
    )
    .expect("this month's form unchanged, other figures changed");
    let mut short = nine_items();
    short[0].max = Points::whole(15);
    let refused = attempt(&id, no_base, &add(with_form("2026-12", short)), &admin, &[])
        .expect_err("comes to 95");
    assert!(refused.reason.contains("come to 95"), "{refused}");
    let mut twice = nine_items();
    twice[1].key = "safety".into();
    assert!(attempt(&id, no_base, &add(with_form("2026-12", twice)), &admin, &[]).is_err());
}

#[test]
fn an_assessment_is_scored_on_its_months_form() {
    let id: DocId = "assessment:b1:z1:2026-11".parse().expect("id");
    let sec = actor(Role::Secretary, "b1");
    let mut rules: Rules = read(
        &genesis::<Rules>(&DocId::rules()).expect("genesis"),
        &DocId::rules(),
    )
    .expect("read");
    let mut v = rules_version("2026-11", "admin");
    v.assessment = nine_items();
    rules.versions.insert("v1".into(), v);
    let (directory, patrol) = (directory(), patrol());
    let try_scores = |f: &dyn Fn(&mut Scores)| {
        let mut before = stored(&id, no_base);
        let mut after = before.fork();
        after.set_actor(ActorId::from([7; 16]));
        edit(&mut after, &id, |a: &mut Assessment| {
            let mut s = scores(&sec.user, 9);
            s.items.remove("learning");
            f(&mut s);
            a.branch_score = s;
        });
        let ctx = Context {
            rules: Some(&rules),
            ..context(&directory, &patrol, &[])
        };
        validate_change(
            &sec,
            &id,
            &before.document().clone(),
            after.document(),
            &ctx,
        )
    };
    try_scores(&|s| {
        s.items.insert("safety".into(), Points::whole(18));
    })
    .expect("safety is worth 20 this month");
    let refused = try_scores(&|s| {
        s.items.insert("safety".into(), Points::whole(21));
    })
    .expect_err("above 20");
    assert!(refused.reason.contains("from 0 to 20"), "{refused}");
    let refused = try_scores(&|s| {
        s.items.insert("learning".into(), Points::whole(5));
    })
    .expect_err("not on this month's form");
    assert!(refused.reason.contains("learning"), "{refused}");
    let mut a: Assessment = read(&genesis::<Assessment>(&id).expect("genesis"), &id).expect("read");
    a.branch_score = scores(&sec.user, 9);
    a.branch_score.items.remove("learning");
    a.branch_score
        .items
        .insert("safety".into(), Points::whole(18));
    assert_eq!(
        a.final_score(&rules.form_for("2026-11".parse().expect("month"))),
        Some(Points::whole(90)),
        "18 + eight items at 9"
    );
    assert_eq!(
        a.final_score(&Default::default()),
        None,
        "learning unscored on the default form"
    );
}

#[test]
fn the_rules_in_effect_are_the_last_version_begun() {
    let mut rules: Rules = read(
        &genesis::<Rules>(&DocId::rules()).expect("genesis"),
        &DocId::rules(),
    )
    .expect("read");
    let mut dec = rules_version("2026-12", "admin");
    dec.fen_per_point = 2_000;
    let mut dec_later = dec.clone();
    dec_later.at += 5;
    dec_later.fen_per_point = 3_000;
    rules
        .versions
        .insert("a".into(), rules_version("2026-11", "admin"));
    rules.versions.insert("b".into(), dec);
    rules.versions.insert("c".into(), dec_later);
    let month = |m: &str| m.parse::<Period>().expect("month");
    assert_eq!(rules.version_for(month("2026-10")), None);
    assert_eq!(
        rules.version_for(month("2026-11")).map(|v| v.fen_per_point),
        Some(1_000)
    );
    assert_eq!(
        rules.version_for(month("2027-03")).map(|v| v.fen_per_point),
        Some(3_000),
        "the later of two for the same month"
    );
}

#[test]
fn outside_their_own_branch_a_person_acts_only_in_company_wide_roles() {
    let id: DocId = "directory:b1".parse().expect("id");
    let add_zone = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            d.zones.insert(
                "z9".into(),
                Zone {
                    name: "新责任区".into(),
                    ..Default::default()
                },
            );
        });
    };
    // A manager who is b2's secretary keeps b2's directory, not b1's.
    let manager_and_secretary = actor(Role::Manager, "b2").also(&[Role::Secretary]);
    let refused = attempt(&id, no_base, &add_zone, &manager_and_secretary, &[])
        .expect_err("not b1's secretary");
    assert_eq!(refused.code, RefusalCode::NotWriter, "{refused}");
    let mine = actor(Role::Manager, "b1").also(&[Role::Secretary]);
    attempt(&id, no_base, &add_zone, &mine, &[]).expect("their own branch");
    // An inspector of b2 with no company-wide role is of the wrong branch altogether.
    let refused = attempt(&id, no_base, &add_zone, &actor(Role::Inspector, "b2"), &[])
        .expect_err("wrong branch");
    assert_eq!(refused.code, RefusalCode::WrongBranch);
    // An admin who is also b2's secretary: in b1, as the admin.
    attempt(
        &id,
        no_base,
        &add_zone,
        &actor(Role::Secretary, "b2").also(&[Role::Admin]),
        &[],
    )
    .expect("as the admin");
}

#[test]
fn a_posts_life_is_on_the_record() {
    let id: DocId = "directory:b1".parse().expect("id");
    let base = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |d: &mut Directory| {
            *d = directory();
            let mut post = Post {
                zone: "z1".into(),
                title: "示范岗".into(),
                ..Default::default()
            };
            post.events.insert(
                "e1".into(),
                PostEvent {
                    at: NOW - 5_000,
                    by: "sec".into(),
                    step: PostStep::Approve,
                    reason: String::new(),
                },
            );
            d.posts.insert("p1".into(), post);
        });
    };
    let sec = actor(Role::Secretary, "b1");
    let undo = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            if let Some(p) = d.posts.get_mut("p1") {
                p.events.clear();
            }
        });
    };
    let refused = attempt(&id, base, &undo, &sec, &[]).expect_err("an approval stays");
    assert!(refused.reason.contains("on the record"), "{refused}");
    let forged = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |d: &mut Directory| {
            if let Some(p) = d.posts.get_mut("p1") {
                p.events.insert(
                    "e2".into(),
                    PostEvent {
                        at: NOW - 1_000,
                        by: "someone".into(),
                        step: PostStep::Propose,
                        reason: String::new(),
                    },
                );
            }
        });
    };
    assert!(
        attempt(&id, base, &forged, &sec, &[]).is_err(),
        "signed by its writer"
    );
    let own = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        let by = who.user.clone();
        edit(doc, id, move |d: &mut Directory| {
            if let Some(p) = d.posts.get_mut("p1") {
                p.events.insert(
                    "e2".into(),
                    PostEvent {
                        at: NOW - 1_000,
                        by: by.clone(),
                        step: PostStep::Revoke,
                        reason: "质量下滑".into(),
                    },
                );
            }
        });
    };
    attempt(&id, base, &own, &sec, &[]).expect("a new event of one's own");
}

#[test]
fn a_deduction_that_needs_a_photo_comes_with_one() {
    let id: DocId = "sheet:b1:p1:insp".parse().expect("id");
    let mut dir = directory();
    if let Some(rule) = dir
        .templates
        .get_mut("t1")
        .and_then(|t| t.items.get_mut("i1"))
        .and_then(|i| i.rules.get_mut("r1"))
    {
        rule.needs_photo = true;
    }
    let patrol = patrol();
    let ctx = context(&dir, &patrol, &[]);
    let insp = actor(Role::Inspector, "b1");
    let check = |base: fn(&mut AutoCommit, &DocId), change: fn(&mut Sheet)| {
        let mut before = stored(&id, base);
        let mut after = before.fork();
        after.set_actor(ActorId::from([7; 16]));
        edit(&mut after, &id, change);
        validate_change(
            &insp,
            &id,
            &before.document().clone(),
            after.document(),
            &ctx,
        )
    };
    fn deduct(s: &mut Sheet, n: i64, photo: bool) {
        let zone = s.zones.entry("z1".into()).or_insert_with(|| ZoneSheet {
            template: "t1".into(),
            ..Default::default()
        });
        let item = zone.items.entry("i1".into()).or_default();
        item.deductions.insert("r1".into(), Tally::new(n));
        if photo {
            item.photos.insert(
                SHA.into(),
                PhotoRef {
                    thumb: SHA.into(),
                    taken_at: None,
                    ..Default::default()
                },
            );
        }
    }
    let refused = check(no_base, |s| deduct(s, 1, false)).expect_err("no photo");
    assert!(refused.reason.contains("needs a photo"), "{refused}");
    check(no_base, |s| deduct(s, 1, true)).expect("with its photo, in the same change");
    // Taking a deduction back needs no photo, even where one was missing.
    fn one_without(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |s: &mut Sheet| deduct(s, 1, false));
    }
    check(one_without, |s| deduct(s, 0, false)).expect("undone");
    let refused = check(one_without, |s| deduct(s, 2, false)).expect_err("one more");
    assert!(refused.reason.contains("needs a photo"), "{refused}");
}

#[test]
fn a_verification_closes_or_reopens_the_loop_where_it_falls() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let insp = actor(Role::Inspector, "b1");
    fn open(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.rectifications.clear();
        })
    }
    fn fixed(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, problem_base)
    }
    fn verified(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.verifications
                .insert("v0".into(), verification(10, "sec", Outcome::Verified));
        })
    }
    type Judge = fn(&mut Verification);
    let cases: &[(&str, Base, Outcome, Judge, Option<&str>)] = &[
        ("verify a fix", fixed, Outcome::Verified, |_| {}, None),
        (
            "verify before any fix",
            open,
            Outcome::Verified,
            |_| {},
            Some("no fix waiting to be verified"),
        ),
        (
            "verify again",
            verified,
            Outcome::Verified,
            |_| {},
            Some("no fix waiting to be verified"),
        ),
        (
            "reopen without a fix",
            open,
            Outcome::Reopened,
            |v| v.note = "仍有浮煤".into(),
            Some("only a fixed or verified problem can be reopened"),
        ),
        (
            "reopen with no note",
            fixed,
            Outcome::Reopened,
            |v| v.note = "  ".into(),
            Some("says what is still wrong"),
        ),
        (
            "reopen a verified fix with a note",
            verified,
            Outcome::Reopened,
            |v| v.note = "电缆又掉下来了".into(),
            None,
        ),
        (
            "reopen with a new deadline",
            fixed,
            Outcome::Reopened,
            |v| {
                v.note = "仍有浮煤".into();
                v.deadline = day("2026-11-28");
            },
            None,
        ),
        (
            "reopen with a deadline already past",
            fixed,
            Outcome::Reopened,
            |v| {
                v.note = "仍有浮煤".into();
                v.deadline = day("2026-11-20");
            },
            Some("before the day of the reopening"),
        ),
        (
            "verify with a new deadline",
            fixed,
            Outcome::Verified,
            |v| v.deadline = day("2026-11-28"),
            Some("only a reopening sets a new deadline"),
        ),
        (
            "reopen dated under a verification already made",
            verified,
            Outcome::Reopened,
            |v| {
                v.note = "电缆又掉下来了".into();
                v.at -= 25;
            },
            Some("dated before the latest record"),
        ),
    ];
    for (what, base, outcome, judge, want) in cases {
        let write = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
            edit(doc, id, |p: &mut Problem| {
                let mut v = verification(30, &who.user, *outcome);
                judge(&mut v);
                p.verifications.insert("v1".into(), v);
            })
        };
        let got = attempt(&id, *base, &write, &insp, &[]);
        match (want, got) {
            (None, Ok(())) => {}
            (Some(want), Err(refusal)) => {
                assert!(refusal.reason.contains(want), "{what}: {refusal}");
                assert_eq!(refusal.part, "verifications", "{what}");
            }
            (want, got) => panic!("{what}: wanted {want:?}, got {got:?}"),
        }
    }

    // A verification is on the record: its author cannot change or take it back.
    fn own(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.verifications
                .insert("v0".into(), verification(10, "insp", Outcome::Verified));
        })
    }
    for (what, change) in [
        (
            "change",
            (|p: &mut Problem| {
                if let Some(v) = p.verifications.get_mut("v0") {
                    v.outcome = Outcome::Reopened;
                    v.note = "改主意了".into();
                }
            }) as fn(&mut Problem),
        ),
        ("remove", |p: &mut Problem| {
            p.verifications.remove("v0");
        }),
    ] {
        let write = |doc: &mut AutoCommit, id: &DocId, _: &Actor| edit(doc, id, change);
        let refusal = attempt(&id, own, &write, &insp, &[]).expect_err(what);
        assert!(
            refusal.reason.contains("on the record"),
            "{what}: {refusal}"
        );
    }
}

#[test]
fn a_reopening_sets_the_deadline_in_force() {
    let mut p = Problem::born(Header::for_id(&"problem:b1:x1".parse().expect("id")));
    problem_base(&mut p);
    assert_eq!(p.deadline(), day("2026-11-25"));
    let mut reopen = verification(30, "insp", Outcome::Reopened);
    reopen.deadline = day("2026-12-05");
    p.verifications.insert("v1".into(), reopen);
    assert_eq!(p.deadline(), day("2026-12-05"));
    let on = |s: &str| s.parse::<chrono::NaiveDate>().expect("day");
    assert!(p.is_overdue(on("2026-12-06")));
    assert!(!p.is_overdue(on("2026-11-30")));
    // A reopening the loop passes over (it falls before any fix) sets nothing.
    let mut early = verification(1, "insp", Outcome::Reopened);
    early.deadline = day("2027-01-05");
    p.verifications.insert("v0".into(), early);
    assert_eq!(p.deadline(), day("2026-12-05"));
}

/// A request for more time by the holder, `at` milliseconds into the last quarter-hour.
fn request(at: i64, until: &str, why: &str) -> Rectification {
    Rectification {
        extension: day(until),
        note: why.into(),
        ..rectification(at, "holder")
    }
}

/// An answer to the request `e0`.
fn answer(at: i64, by: &str, outcome: Outcome) -> Verification {
    Verification {
        request: Some("e0".into()),
        ..verification(at, by, outcome)
    }
}

fn waiting_for_a_fix(doc: &mut AutoCommit, id: &DocId) {
    edit(doc, id, |p: &mut Problem| {
        problem_base(p);
        p.rectifications.clear();
    })
}

fn asked_for_more_time(doc: &mut AutoCommit, id: &DocId) {
    edit(doc, id, |p: &mut Problem| {
        problem_base(p);
        p.rectifications.clear();
        p.rectifications
            .insert("e0".into(), request(10, "2026-12-05", "等待配件到货"));
    })
}

#[test]
fn more_time_is_asked_for_before_the_deadline_with_a_reason_one_request_at_a_time() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let holder = actor(Role::ZoneHolder, "b1");
    fn past_deadline(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.rectifications.clear();
            p.finding.deadline = day("2026-11-20");
        })
    }
    fn fixed(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, problem_base)
    }
    type Ask = fn(&mut Rectification);
    let cases: &[(&str, Base, Ask, Option<&str>)] = &[
        ("a request with a reason", waiting_for_a_fix, |_| {}, None),
        (
            "no reason",
            waiting_for_a_fix,
            |r| r.note = " ".into(),
            Some("says why"),
        ),
        (
            "after the deadline",
            past_deadline,
            |_| {},
            Some("passed before the request"),
        ),
        (
            "not later than the deadline",
            waiting_for_a_fix,
            |r| r.extension = day("2026-11-25"),
            Some("a day after the deadline in force (2026-11-25)"),
        ),
        (
            "a second request while one waits",
            asked_for_more_time,
            |_| {},
            Some("already waiting"),
        ),
        (
            "a fixed problem",
            fixed,
            |_| {},
            Some("waiting for its fix"),
        ),
        (
            "with a photo",
            waiting_for_a_fix,
            |r| {
                r.photos.insert(SHA.into(), Default::default());
            },
            Some("no photos"),
        ),
        (
            "years ahead",
            waiting_for_a_fix,
            |r| r.extension = day("2029-01-01"),
            Some("too far ahead"),
        ),
    ];
    for (what, base, ask, want) in cases {
        let write = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
            edit(doc, id, |p: &mut Problem| {
                let mut r = request(30, "2026-12-05", "配件未到");
                ask(&mut r);
                p.rectifications.insert("e1".into(), r);
            })
        };
        match (want, attempt(&id, *base, &write, &holder, &[])) {
            (None, Ok(())) => {}
            (Some(want), Err(refusal)) => {
                assert!(refusal.reason.contains(want), "{what}: {refusal}");
                assert_eq!(refusal.part, "rectifications", "{what}");
            }
            (want, got) => panic!("{what}: wanted {want:?}, got {got:?}"),
        }
    }
    // Only the responsible member asks, and a request on the record stays as it is.
    let ask = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.rectifications
                .insert("e1".into(), request(30, "2026-12-05", "配件未到"));
        })
    };
    let refusal = attempt(
        &id,
        waiting_for_a_fix,
        &ask,
        &actor(Role::Secretary, "b1"),
        &[],
    )
    .expect_err("the secretary is not responsible");
    assert_eq!(refusal.code, RefusalCode::NotWriter);
    let change = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            if let Some(r) = p.rectifications.get_mut("e0") {
                r.extension = day("2027-02-01");
            }
        })
    };
    let refusal =
        attempt(&id, asked_for_more_time, &change, &holder, &[]).expect_err("changed request");
    assert!(refusal.reason.contains("on the record"), "{refusal}");
}

#[test]
fn the_secretary_grants_with_a_new_deadline_or_refuses_with_a_reason() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    let sec = actor(Role::Secretary, "b1");
    fn answered(doc: &mut AutoCommit, id: &DocId) {
        asked_for_more_time(doc, id);
        edit(doc, id, |p: &mut Problem| {
            let mut no = answer(20, "sec", Outcome::NotExtended);
            no.note = "材料已到".into();
            p.verifications.insert("a0".into(), no);
        })
    }
    type Answer = fn(&mut Verification);
    let cases: &[(&str, Base, Outcome, Answer, Option<&str>)] = &[
        (
            "grant with a day",
            asked_for_more_time,
            Outcome::Extended,
            |v| v.deadline = day("2026-12-01"),
            None,
        ),
        (
            "grant without a day",
            asked_for_more_time,
            Outcome::Extended,
            |_| {},
            Some("gives the new deadline"),
        ),
        (
            "grant a day not after the deadline",
            asked_for_more_time,
            Outcome::Extended,
            |v| v.deadline = day("2026-11-24"),
            Some("after the deadline in force (2026-11-25)"),
        ),
        (
            "refuse with a reason",
            asked_for_more_time,
            Outcome::NotExtended,
            |v| v.note = "三天内可以完成".into(),
            None,
        ),
        (
            "refuse without a reason",
            asked_for_more_time,
            Outcome::NotExtended,
            |_| {},
            Some("says why"),
        ),
        (
            "refuse with a day",
            asked_for_more_time,
            Outcome::NotExtended,
            |v| {
                v.note = "不行".into();
                v.deadline = day("2026-12-01");
            },
            Some("sets no deadline"),
        ),
        (
            "answer a request that is not there",
            asked_for_more_time,
            Outcome::Extended,
            |v| {
                v.deadline = day("2026-12-01");
                v.request = Some("nope".into());
            },
            Some("no such request"),
        ),
        (
            "answer twice",
            answered,
            Outcome::Extended,
            |v| v.deadline = day("2026-12-01"),
            Some("already answered"),
        ),
        (
            "answer before the request",
            asked_for_more_time,
            Outcome::Extended,
            |v| {
                v.deadline = day("2026-12-01");
                v.at -= 25;
            },
            Some("before the request"),
        ),
        (
            "a verification naming a request",
            asked_for_more_time,
            Outcome::Verified,
            |_| {},
            Some("answers no request"),
        ),
    ];
    for (what, base, outcome, fill, want) in cases {
        let write = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
            edit(doc, id, |p: &mut Problem| {
                let mut v = answer(30, &who.user, *outcome);
                fill(&mut v);
                p.verifications.insert("a1".into(), v);
            })
        };
        match (want, attempt(&id, *base, &write, &sec, &[])) {
            (None, Ok(())) => {}
            (Some(want), Err(refusal)) => {
                assert!(refusal.reason.contains(want), "{what}: {refusal}");
                assert_eq!(refusal.part, "verifications", "{what}");
            }
            (want, got) => panic!("{what}: wanted {want:?}, got {got:?}"),
        }
    }
    // An inspector verifies fixes but does not answer requests for more time.
    let grant = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            let mut v = answer(30, &who.user, Outcome::Extended);
            v.deadline = day("2026-12-01");
            p.verifications.insert("a1".into(), v);
        })
    };
    let refusal = attempt(
        &id,
        asked_for_more_time,
        &grant,
        &actor(Role::Inspector, "b1"),
        &[],
    )
    .expect_err("an inspector grants");
    assert!(
        refusal.reason.contains("only the branch secretary"),
        "{refusal}"
    );
    // A secretary responsible for a zone does not grant their own request.
    fn asked_by_the_secretary(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "sec".into();
            p.rectifications.clear();
            p.rectifications.insert(
                "e0".into(),
                Rectification {
                    by: "sec".into(),
                    ..request(10, "2026-12-05", "等待配件到货")
                },
            );
        })
    }
    let refusal = attempt(&id, asked_by_the_secretary, &grant, &sec, &[])
        .expect_err("the secretary grants their own request");
    assert!(refusal.reason.contains("their own request"), "{refusal}");
}

#[test]
fn a_granted_request_moves_the_deadline_and_the_status_is_untouched() {
    let mut p = Problem::born(Header::for_id(&"problem:b1:x1".parse().expect("id")));
    problem_base(&mut p);
    p.rectifications.clear();
    p.rectifications
        .insert("e0".into(), request(10, "2026-12-05", "等待配件到货"));
    assert_eq!(p.status(), ProblemStatus::Open, "a request is not a fix");
    assert_eq!(p.pending_extension().map(|e| e.id), Some("e0"));
    assert_eq!(p.deadline(), day("2026-11-25"), "asking changes nothing");
    let on = |s: &str| s.parse::<chrono::NaiveDate>().expect("day");
    assert!(p.is_overdue(on("2026-11-26")));
    let mut yes = answer(20, "sec", Outcome::Extended);
    yes.deadline = day("2026-12-01");
    p.verifications.insert("a0".into(), yes);
    assert_eq!(
        p.status(),
        ProblemStatus::Open,
        "an answer is not a verification"
    );
    assert_eq!(p.pending_extension(), None);
    assert_eq!(
        p.deadline(),
        day("2026-12-01"),
        "the granted day, not the one asked"
    );
    assert!(
        !p.is_overdue(on("2026-11-26")),
        "overdue counts the granted deadline"
    );
    assert!(p.is_overdue(on("2026-12-02")));
    // A later answer to the same request does not count.
    let mut again = answer(25, "sec", Outcome::Extended);
    again.deadline = day("2027-01-01");
    p.verifications.insert("a1".into(), again);
    assert_eq!(p.deadline(), day("2026-12-01"));
    // A later reopening with its own deadline decides.
    p.rectifications
        .insert("r1".into(), rectification(40, "holder"));
    let mut reopen = verification(50, "insp", Outcome::Reopened);
    reopen.note = "仍有浮煤".into();
    reopen.deadline = day("2026-12-10");
    p.verifications.insert("v1".into(), reopen);
    assert_eq!(p.deadline(), day("2026-12-10"));
    assert_eq!(p.last_rectifier(), Some("holder"));
}

#[test]
fn photos_referred_to_before_marks_existed_are_written_back_untouched() {
    // A finding and a fix with photos written by an older app: no size, no marks. An
    // inspector's verification and the holder's request write the whole document back.
    let id: DocId = "problem:b1:x2".parse().expect("id");
    fn old_photo() -> PhotoRef {
        PhotoRef {
            thumb: SHA.into(),
            taken_at: Some(NOW - 2_000),
            ..Default::default()
        }
    }
    fn strip(doc: &mut AutoCommit, path: &[&str]) {
        let mut obj = ROOT;
        for key in path {
            obj = doc.get(&obj, *key).expect("get").expect("there").1;
        }
        for field in ["width", "height", "marks"] {
            doc.delete(&obj, field).expect("delete");
        }
        doc.commit();
    }
    fn by_an_older_app(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.photos.insert(SHA.into(), old_photo());
            if let Some(r) = p.rectifications.get_mut("r0") {
                r.photos.insert(SHA.into(), old_photo());
            }
        });
        strip(doc, &["finding", "photos", SHA]);
        strip(doc, &["rectifications", "r0", "photos", SHA]);
    }
    // Not fixed yet: the holder may ask for more time.
    fn unfixed_by_an_older_app(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.rectifications.clear();
            p.finding.photos.insert(SHA.into(), old_photo());
        });
        strip(doc, &["finding", "photos", SHA]);
    }
    let verify = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.verifications
                .insert("v1".into(), verification(50, &who.user, Outcome::Verified));
        })
    };
    let insp = Actor::new("insp2", Role::Inspector, "b1");
    assert_eq!(
        attempt(&id, by_an_older_app, &verify, &insp, &[]),
        Ok(()),
        "the finding's and the fix's photos are written back, not changed"
    );
    let ask = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            let mut r = rectification(60, &who.user);
            r.note = "需要更换托辊，备件未到".into();
            r.extension = day("2026-11-30");
            p.rectifications.insert("r9".into(), r);
        })
    };
    let holder = actor(Role::ZoneHolder, "b1");
    assert_eq!(
        attempt(&id, unfixed_by_an_older_app, &ask, &holder, &[]),
        Ok(()),
        "the holder's request writes the finding back, not changed"
    );
}

#[test]
fn records_written_before_a_field_was_added_are_not_touched_by_writing_them_back() {
    // Records written by an older app have no `deadline`, `request` or `extension` keys;
    // every edit writes the whole document back, nulls for the missing fields included.
    let id: DocId = "problem:b1:x1".parse().expect("id");
    fn strip(doc: &mut AutoCommit, part: &str, record: &str, fields: &[&str]) {
        let (_, part) = doc.get(ROOT, part).expect("get").expect("part");
        let (_, record) = doc.get(&part, record).expect("get").expect("record");
        for field in fields {
            doc.delete(&record, *field).expect("delete");
        }
        doc.commit();
    }
    // Fixed, reopened, fixed again: waiting for a verification.
    fn fixed_again_by_an_older_app(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            let mut v = verification(20, "insp", Outcome::Reopened);
            v.note = "仍有浮煤".into();
            p.verifications.insert("v0".into(), v);
            p.rectifications
                .insert("r1".into(), rectification(30, "holder"));
        });
        strip(doc, "verifications", "v0", &["deadline", "request"]);
        strip(doc, "rectifications", "r0", &["extension"]);
        strip(doc, "rectifications", "r1", &["extension"]);
    }
    let verify = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            p.verifications
                .insert("v1".into(), verification(50, &who.user, Outcome::Verified));
        })
    };
    let insp = actor(Role::Inspector, "b1");
    assert_eq!(
        attempt(&id, fixed_again_by_an_older_app, &verify, &insp, &[]),
        Ok(()),
        "the holder's old fixes are written back, not changed"
    );
    let reopen = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            let mut v = verification(50, &who.user, Outcome::Reopened);
            v.note = "还是不行".into();
            p.verifications.insert("v1".into(), v);
        })
    };
    let other = Actor::new("insp2", Role::Inspector, "b1");
    assert_eq!(
        attempt(&id, fixed_again_by_an_older_app, &reopen, &other, &[]),
        Ok(()),
        "another inspector's old reopening is written back, not changed"
    );
    // Two phones fill the same missing fields at once: the merge holds two nulls in each
    // (a conflict), which touches nothing either.
    let two_phones = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
        let mut other = doc.fork();
        edit(&mut other, id, |_: &mut Problem| {});
        edit(doc, id, |p: &mut Problem| {
            p.verifications
                .insert("v1".into(), verification(50, &who.user, Outcome::Verified));
        });
        doc.merge(&mut other).expect("merged");
    };
    assert_eq!(
        attempt(&id, fixed_again_by_an_older_app, &two_phones, &insp, &[]),
        Ok(()),
        "two phones writing the same old records back"
    );
    // A real change to an old record is still seen.
    let change = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Problem| {
            if let Some(v) = p.verifications.get_mut("v0") {
                v.deadline = day("2026-12-01");
            }
        })
    };
    let refusal = attempt(&id, fixed_again_by_an_older_app, &change, &insp, &[])
        .expect_err("a deadline added to a judgement on the record");
    assert!(refusal.reason.contains("on the record"), "{refusal}");
}

#[test]
fn a_null_where_a_record_or_a_photo_belongs_is_a_change_and_is_refused() {
    // Null puts on new keys that are not fields of a record: a record, a photo. They would
    // leave a document no reader can read, so they are changes, checked like any other.
    let id: DocId = "problem:b1:x1".parse().expect("id");
    fn open(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.rectifications.clear();
        })
    }
    let null_record = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
        let (_, part) = doc.get(ROOT, "verifications").expect("get").expect("part");
        doc.put(&part, "x", ScalarValue::Null).expect("put");
        doc.commit();
    };
    let insp = actor(Role::Inspector, "b1");
    let refusal = attempt(&id, open, &null_record, &insp, &[]).expect_err("a null record");
    assert_eq!(refusal.code, RefusalCode::Malformed, "{refusal}");
    let null_photo = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
        let (_, finding) = doc.get(ROOT, "finding").expect("get").expect("part");
        let (_, photos) = doc.get(&finding, "photos").expect("get").expect("photos");
        doc.put(&photos, SHA, ScalarValue::Null).expect("put");
        doc.commit();
    };
    let refusal = attempt(&id, open, &null_photo, &insp, &[]).expect_err("a null photo");
    assert_eq!(refusal.code, RefusalCode::Malformed, "{refusal}");
}

/// The wrong steps of a problem's loop, each refused with its reason: one table.
#[test]
fn each_wrong_step_of_a_problem_s_loop_is_refused_with_its_reason() {
    let id: DocId = "problem:b1:x1".parse().expect("id");
    // A secretary who holds the zone and fixed it, and asked for more time on another day.
    fn secretary_holds_it(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "sec".into();
            p.rectifications.clear();
            p.rectifications
                .insert("r0".into(), rectification(5, "sec"));
        })
    }
    fn secretary_asked(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "sec".into();
            p.rectifications.clear();
            p.rectifications.insert(
                "e0".into(),
                Rectification {
                    by: "sec".into(),
                    ..request(10, "2026-12-05", "等待配件到货")
                },
            );
        })
    }
    fn fixed(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, problem_base)
    }
    fn verified(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.verifications
                .insert("v0".into(), verification(10, "insp", Outcome::Verified));
        })
    }
    fn past_deadline(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.rectifications.clear();
            p.finding.deadline = day("2026-11-20");
        })
    }
    type Step = fn(&mut Problem, &str);
    let sec = actor(Role::Secretary, "b1");
    let insp = actor(Role::Inspector, "b1");
    let holder = actor(Role::ZoneHolder, "b1");
    let cases: Vec<(&str, Base, Step, &Actor, &str)> = vec![
        (
            "verify your own fix",
            secretary_holds_it,
            |p, me| {
                p.verifications
                    .insert("v1".into(), verification(30, me, Outcome::Verified));
            },
            &sec,
            "nobody verifies their own",
        ),
        (
            "grant your own request for more time",
            secretary_asked,
            |p, me| {
                let mut v = answer(30, me, Outcome::Extended);
                v.deadline = day("2026-12-01");
                p.verifications.insert("a1".into(), v);
            },
            &sec,
            "their own request",
        ),
        (
            "a holder verifies",
            fixed,
            |p, me| {
                p.verifications
                    .insert("v1".into(), verification(30, me, Outcome::Verified));
            },
            &holder,
            "only a secretary or an inspector verifies",
        ),
        (
            "an inspector grants more time",
            asked_for_more_time,
            |p, me| {
                let mut v = answer(30, me, Outcome::Extended);
                v.deadline = day("2026-12-01");
                p.verifications.insert("a1".into(), v);
            },
            &insp,
            "only the branch secretary",
        ),
        (
            "reopen without saying what is wrong",
            fixed,
            |p, me| {
                p.verifications
                    .insert("v1".into(), verification(30, me, Outcome::Reopened));
            },
            &insp,
            "says what is still wrong",
        ),
        (
            "take back a verification",
            verified,
            |p, _| {
                p.verifications.remove("v0");
            },
            &insp,
            "on the record",
        ),
        (
            "ask for more time after the deadline",
            past_deadline,
            |p, _| {
                p.rectifications
                    .insert("e1".into(), request(30, "2026-12-05", "来不及"));
            },
            &holder,
            "passed before the request",
        ),
        (
            "move a fix in time",
            fixed,
            |p, _| {
                if let Some(r) = p.rectifications.get_mut("r0") {
                    r.at += 50;
                }
            },
            &holder,
            "a fix is on the record",
        ),
    ];
    for (what, base, step, who, want) in cases {
        let write = |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
            edit(doc, id, |p: &mut Problem| step(p, &who.user))
        };
        let refusal = attempt(&id, base, &write, who, &[]).expect_err(what);
        assert!(refusal.reason.contains(want), "{what}: {refusal}");
    }
}

/// A post with its five clears, in zone z1, applied for by `by` (among its demonstrators) at
/// `at` milliseconds into the test's last quarter-hour.
fn applied_post(by: &str, at: i64) -> Post {
    let mut post = Post {
        zone: "z1".into(),
        title: "三水平上车场示范岗".into(),
        standard: "煤矿安全质量标准化运输专业标准".into(),
        duty: "巷道整洁、设备完好".into(),
        assessor: "支部书记".into(),
        assessment: "每月考核一次".into(),
        starts: day("2026-11-01"),
        ends: day("2027-06-30"),
        ..Default::default()
    };
    post.demonstrators.insert(by.to_owned(), true);
    post.events.insert(
        "e0".into(),
        PostEvent {
            at: NOW - 900_000 + at,
            by: by.to_owned(),
            step: PostStep::Propose,
            reason: String::new(),
        },
    );
    post
}

fn post_step(at: i64, by: &str, step: PostStep, reason: &str) -> PostEvent {
    PostEvent {
        at: NOW - 900_000 + at,
        by: by.to_owned(),
        step,
        reason: reason.to_owned(),
    }
}

/// The branch's members, and four posts: p1 applied for by a holder, p2 in force since
/// 1 November, p3 whose term ended on 10 November, p4 applied for by the secretary.
fn posts_base(doc: &mut AutoCommit, id: &DocId) {
    edit(doc, id, |d: &mut Directory| {
        *d = directory();
        for user in ["sec", "insp", "holder", "leader"] {
            d.members.insert(
                user.into(),
                Member {
                    name: user.into(),
                    ..Default::default()
                },
            );
        }
        d.posts.insert("p1".into(), applied_post("holder", 10));
        let mut p2 = applied_post("leader", 10);
        p2.events
            .insert("e1".into(), post_step(20, "admin", PostStep::Approve, ""));
        d.posts.insert("p2".into(), p2.clone());
        p2.ends = day("2026-11-10");
        d.posts.insert("p3".into(), p2);
        d.posts.insert("p4".into(), applied_post("sec", 10));
        let mut p5 = applied_post("insp", 10);
        p5.events.insert(
            "e1".into(),
            post_step(20, "sec", PostStep::Reject, "不在难点区域"),
        );
        d.posts.insert("p5".into(), p5);
    })
}

/// Each step of a post's life is recorded by whom the rules allow, where the post stands, with
/// what it needs: one table, the right steps first, then each wrong one with its reason.
#[test]
fn each_step_of_a_posts_life_is_checked_and_each_wrong_one_refused_with_its_reason() {
    let id: DocId = "directory:b1".parse().expect("id");
    type Step = fn(&mut Directory, &str);
    let sec = actor(Role::Secretary, "b1");
    let holder = actor(Role::ZoneHolder, "b1");
    let mgr = actor(Role::Manager, "b1");
    let insp = actor(Role::Inspector, "b1");
    let cases: Vec<(&str, Step, &Actor, Option<&str>)> = vec![
        (
            "a member applies with the five clears",
            |d, me| {
                d.posts.insert("p9".into(), applied_post(me, 100));
            },
            &holder,
            None,
        ),
        (
            "the secretary approves an application",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p1") {
                    p.events
                        .insert("e1".into(), post_step(100, me, PostStep::Approve, ""));
                }
            },
            &sec,
            None,
        ),
        (
            "the secretary turns one down with a reason",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p1") {
                    p.events.insert(
                        "e1".into(),
                        post_step(100, me, PostStep::Reject, "不在生产难点区域"),
                    );
                }
            },
            &sec,
            None,
        ),
        (
            "a manager reviews a post in force",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.events.insert(
                        "e2".into(),
                        post_step(100, me, PostStep::Review, "巷道整洁，保持"),
                    );
                }
            },
            &mgr,
            None,
        ),
        (
            "a manager withdraws the title with a reason",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.events.insert(
                        "e2".into(),
                        post_step(100, me, PostStep::Revoke, "季度排名低于合格线"),
                    );
                }
            },
            &mgr,
            None,
        ),
        (
            "approve your own post",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p4") {
                    p.events
                        .insert("e1".into(), post_step(100, me, PostStep::Approve, ""));
                }
            },
            &sec,
            Some("nobody approves or rejects their own post"),
        ),
        (
            "a member approves their own application",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p1") {
                    p.events
                        .insert("e1".into(), post_step(100, me, PostStep::Approve, ""));
                }
            },
            &holder,
            Some("approved only by the branch secretary or an admin"),
        ),
        (
            "a manager approves",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p1") {
                    p.events
                        .insert("e1".into(), post_step(100, me, PostStep::Approve, ""));
                }
            },
            &mgr,
            Some("approved only by the branch secretary or an admin"),
        ),
        (
            "turn one down without a reason",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p1") {
                    p.events
                        .insert("e1".into(), post_step(100, me, PostStep::Reject, " "));
                }
            },
            &sec,
            Some("rejected only with a reason"),
        ),
        (
            "withdraw a title without a reason",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.events
                        .insert("e2".into(), post_step(100, me, PostStep::Revoke, ""));
                }
            },
            &mgr,
            Some("stripped of its title only with a reason"),
        ),
        (
            "an inspector withdraws a title",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.events.insert(
                        "e2".into(),
                        post_step(100, me, PostStep::Revoke, "质量下滑"),
                    );
                }
            },
            &insp,
            Some("only by a manager, the branch secretary or an admin"),
        ),
        (
            "apply without an assessor",
            |d, me| {
                let mut p = applied_post(me, 100);
                p.assessor.clear();
                d.posts.insert("p9".into(), p);
            },
            &holder,
            Some("fill in its assessor"),
        ),
        (
            "apply with the end before the start",
            |d, me| {
                let mut p = applied_post(me, 100);
                p.ends = day("2026-10-01");
                d.posts.insert("p9".into(), p);
            },
            &holder,
            Some("an end date on or after its start date"),
        ),
        (
            "apply for a post someone else demonstrates",
            |d, me| {
                let mut p = applied_post(me, 100);
                p.demonstrators = [("leader".to_owned(), true)].into();
                d.posts.insert("p9".into(), p);
            },
            &holder,
            Some("naming themselves among its demonstrators"),
        ),
        (
            "a member changes a post in force",
            |d, _| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.title = "改了名字".into();
                }
            },
            &holder,
            Some("only the branch secretary or an admin may set up or change a post"),
        ),
        (
            "a manager, not a member, applies",
            |d, me| {
                d.posts.insert("p9".into(), applied_post(me, 100));
            },
            &mgr,
            Some("only the branch secretary or an admin may set up or change a post"),
        ),
        (
            "approve a post already in force",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.events
                        .insert("e2".into(), post_step(100, me, PostStep::Approve, ""));
                }
            },
            &sec,
            Some("post p2 is in force: it cannot be approved now"),
        ),
        (
            "review a post whose term is over",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p3") {
                    p.events
                        .insert("e2".into(), post_step(100, me, PostStep::Review, "好"));
                }
            },
            &sec,
            Some("term ended on 2026-11-10"),
        ),
        (
            "approve dated before the application",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p1") {
                    p.events
                        .insert("e1".into(), post_step(5, me, PostStep::Approve, ""));
                }
            },
            &sec,
            Some("recorded before one already on the record"),
        ),
        (
            "apply and approve in one go",
            |d, me| {
                let mut p = applied_post(me, 100);
                p.events
                    .insert("e1".into(), post_step(110, me, PostStep::Approve, ""));
                d.posts.insert("p9".into(), p);
            },
            &holder,
            Some("approved only by the branch secretary or an admin"),
        ),
        (
            "a review recorded offline between two steps",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.events
                        .insert("e2".into(), post_step(15, me, PostStep::Review, "保持"));
                }
            },
            &mgr,
            None,
        ),
        (
            "a member applies again for their own post after it was turned down",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p5") {
                    p.standard = "改进后的标准".into();
                    p.events
                        .insert("e2".into(), post_step(100, me, PostStep::Propose, ""));
                }
            },
            &insp,
            None,
        ),
        (
            "take yourself off your own application and approve it at once",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p4") {
                    p.demonstrators = [("holder".to_owned(), true)].into();
                    p.events
                        .insert("e1".into(), post_step(100, me, PostStep::Approve, ""));
                }
            },
            &sec,
            Some("nobody approves or rejects their own post"),
        ),
        (
            "add yourself to a post in force",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.demonstrators.insert(me.to_owned(), true);
                }
            },
            &sec,
            Some("nobody adds themselves to an approved post"),
        ),
        (
            "take over someone else's turned-down post",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p5") {
                    p.demonstrators = [(me.to_owned(), true)].into();
                    p.events
                        .insert("e2".into(), post_step(100, me, PostStep::Propose, ""));
                }
            },
            &holder,
            Some("applies again only for their own post"),
        ),
        (
            "apply again for a post still waiting",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p1") {
                    p.events
                        .insert("e1".into(), post_step(100, me, PostStep::Propose, ""));
                }
            },
            &holder,
            Some("applied for again only after it was turned down"),
        ),
        (
            "name someone outside the branch",
            |d, me| {
                let mut p = applied_post(me, 100);
                p.demonstrators.insert("stranger".into(), true);
                d.posts.insert("p9".into(), p);
            },
            &holder,
            Some("stranger, a demonstrator of post p9, is not a member of the branch"),
        ),
        (
            "a step dated more than a month ago",
            |d, me| {
                if let Some(p) = d.posts.get_mut("p2") {
                    p.events.insert(
                        "e2".into(),
                        post_step(-40 * 86_400_000, me, PostStep::Review, "好"),
                    );
                }
            },
            &mgr,
            Some("more than 31 days ago"),
        ),
        (
            "flood the secretary with applications",
            |d, me| {
                for n in 0..5 {
                    d.posts
                        .insert(format!("p-flood-{n}"), applied_post(me, 100 + n));
                }
            },
            &holder,
            Some("at most 5 applications of one member"),
        ),
    ];
    for (what, step, who, want) in cases {
        let change = move |doc: &mut AutoCommit, id: &DocId, who: &Actor| {
            let me = who.user.clone();
            edit(doc, id, move |d: &mut Directory| step(d, &me));
        };
        let got = attempt(&id, posts_base, &change, who, &[]);
        check(got, want, what);
    } // Nothing hidden in another's post: a field no reader sees is still a change to it.
    let hidden = |doc: &mut AutoCommit, _: &DocId, _: &Actor| {
        let posts = match doc.get(ROOT, "posts") {
            Ok(Some((_, posts))) => posts,
            other => panic!("posts: {other:?}"),
        };
        let p2 = match doc.get(&posts, "p2") {
            Ok(Some((_, p2))) => p2,
            other => panic!("p2: {other:?}"),
        };
        doc.put(&p2, "note", ScalarValue::Str("悄悄写入".into()))
            .expect("put");
    };
    let refused = attempt(&id, posts_base, &hidden, &holder, &[]).expect_err("hidden field");
    assert!(refused.reason.contains("other than by a step"), "{refused}");
}

/// A patrol's kind decides how its sheets are shown (a weekly inspection's three or more
/// together): once planned it never changes.
#[test]
fn a_patrols_kind_is_fixed_once_planned() {
    let id: DocId = "patrol:b1:p1".parse().expect("id");
    let base = |doc: &mut AutoCommit, id: &DocId| edit(doc, id, patrol_base);
    let to_ten_day = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Patrol| {
            p.plan.kind = crate::PatrolKind::TenDay
        });
    };
    let refused = attempt(&id, base, &to_ten_day, &actor(Role::Secretary, "b1"), &[])
        .expect_err("a weekly inspection stays weekly");
    assert!(
        refused.reason.contains("kind cannot be changed"),
        "{refused}"
    );
    let notes = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Patrol| {
            p.notes = FreeText::from("巷道积水")
        });
    };
    attempt(&id, base, &notes, &actor(Role::Secretary, "b1"), &[]).expect("the rest may change");
}

/// The wrong steps the loops of the seeds must refuse, across records, each with its reason:
/// one table. Seeing another branch's marks is refused twice over: the document is not sent
/// ([`crate::protocol::may_read`]) and a write to it is another branch's.
#[test]
fn the_wrong_steps_of_every_loop_are_refused_with_their_reasons() {
    fn holds_and_fixed_it(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "sec".into();
            p.rectifications.clear();
            p.rectifications
                .insert("r0".into(), rectification(5, "sec"));
        })
    }
    fn asked_for_time(doc: &mut AutoCommit, id: &DocId) {
        edit(doc, id, |p: &mut Problem| {
            problem_base(p);
            p.finding.responsible = "sec".into();
            p.rectifications.clear();
            p.rectifications.insert(
                "e0".into(),
                Rectification {
                    by: "sec".into(),
                    ..request(10, "2026-12-05", "等待配件到货")
                },
            );
        })
    }
    fn mark(to: &'static str, by: &str) -> impl Fn(&mut Evaluation) {
        let by = by.to_owned();
        move |e: &mut Evaluation| {
            e.marks.insert(
                to.into(),
                GivenMark {
                    points: Points::whole(90),
                    by: by.clone(),
                    at: NOW,
                },
            );
        }
    }
    let sec = actor(Role::Secretary, "b1");
    let other_sec = actor(Role::Secretary, "b2");
    let visitor = actor(Role::Inspector, "b2");
    let table: Vec<(&str, &str, Base, Edit, &Actor, &str)> = vec![
        (
            "verify your own fix",
            "problem:b1:x1",
            holds_and_fixed_it,
            Box::new(|doc, id, who| {
                edit(doc, id, |p: &mut Problem| {
                    p.verifications
                        .insert("v1".into(), verification(30, &who.user, Outcome::Verified));
                })
            }),
            &sec,
            "nobody verifies their own",
        ),
        (
            "grant your own extension",
            "problem:b1:x1",
            asked_for_time,
            Box::new(|doc, id, who| {
                edit(doc, id, |p: &mut Problem| {
                    let mut v = answer(30, &who.user, Outcome::Extended);
                    v.deadline = day("2026-12-01");
                    p.verifications.insert("a1".into(), v);
                })
            }),
            &sec,
            "their own request",
        ),
        (
            "approve your own post",
            "directory:b1",
            posts_base,
            Box::new(|doc, id, who| {
                edit(doc, id, |d: &mut Directory| {
                    if let Some(p) = d.posts.get_mut("p4") {
                        p.events.insert(
                            "e1".into(),
                            post_step(100, &who.user, PostStep::Approve, ""),
                        );
                    }
                })
            }),
            &sec,
            "nobody approves or rejects their own post",
        ),
        (
            "score your own branch in mutual evaluation",
            "evaluation:b1:2026-Q4",
            no_base,
            Box::new(|doc, id, who| edit(doc, id, mark("b1", &who.user))),
            &sec,
            "does not mark itself",
        ),
        (
            "change a mark once given",
            "evaluation:b1:2026-Q4",
            |doc, id| edit(doc, id, mark("b3", "sec")),
            Box::new(|doc, id, who| {
                edit(doc, id, |e: &mut Evaluation| {
                    if let Some(m) = e.marks.get_mut("b3") {
                        m.points = Points::whole(60);
                        m.at = NOW;
                        m.by = who.user.clone();
                    }
                })
            }),
            &sec,
            "given once and kept",
        ),
        (
            "see (or write) another branch's mutual marks",
            "evaluation:b1:2026-Q4",
            no_base,
            Box::new(|doc, id, who| edit(doc, id, mark("b3", &who.user))),
            &other_sec,
            "belongs to branch b1",
        ),
        (
            "name another branch's inspector on a branch's own patrol",
            "patrol:b1:p1",
            |doc, id| edit(doc, id, patrol_base),
            Box::new(|doc, id, _| {
                edit(doc, id, |p: &mut Patrol| {
                    p.plan.inspectors.insert("outsider".into(), true);
                })
            }),
            &sec,
            "not a member of this branch",
        ),
        (
            "a visitor raises a problem in the branch they visit",
            "problem:b1:x9",
            no_base,
            Box::new(|doc, id, _| edit(doc, id, problem_base)),
            &visitor,
            "belongs to branch b1",
        ),
    ];
    for (what, id, base, step, who, want) in table {
        let id: DocId = id.parse().expect("id");
        let refusal = attempt(&id, base, &*step, who, &[]).expect_err(what);
        assert!(refusal.reason.contains(want), "{what}: {refusal}");
    }
    // Another branch's marks are never sent to its secretary's phone, nor anyone's but its
    // own branch's and the company-wide roles'.
    let marks: DocId = "evaluation:b1:2026-Q4".parse().expect("id");
    assert!(!crate::protocol::may_read(&other_sec, &marks));
    assert!(crate::protocol::may_read(&sec, &marks));
    assert!(crate::protocol::may_read(
        &actor(Role::Manager, "hq"),
        &marks
    ));
    // A manager's patrol draws inspectors from any branch.
    let id: DocId = "patrol:b1:p1".parse().expect("id");
    let outsider = |doc: &mut AutoCommit, id: &DocId, _: &Actor| {
        edit(doc, id, |p: &mut Patrol| {
            p.plan.inspectors.insert("outsider".into(), true);
        })
    };
    let mgr_leads = |doc: &mut AutoCommit, id: &DocId| {
        edit(doc, id, |p: &mut Patrol| {
            patrol_base(p);
            p.plan.leader = "mgr".into();
        })
    };
    attempt(&id, mgr_leads, &outsider, &actor(Role::Manager, "hq"), &[])
        .expect("a manager names an inspector of another branch");
}
