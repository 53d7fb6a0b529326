//! Two devices edit the same document while apart and merge in both orders: both end
//! identical and nothing either wrote is lost. Devices create the document on their own,
//! through genesis, without ever having met.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit};
use proptest::prelude::*;

use super::*;
use crate::domain::{PatrolKind, Severity};
use crate::points::Points;

/// A device's copy of a document, born on its own.
fn device<D: Document>(id: &DocId, n: u8) -> AutoCommit {
    let mut doc = genesis::<D>(id).expect("genesis");
    doc.set_actor(ActorId::from([n; 16]));
    doc
}

/// Reads, edits and writes back as a device would.
pub(crate) fn edit<D: Document>(doc: &mut AutoCommit, id: &DocId, f: impl FnOnce(&mut D)) {
    let mut value: D = read(doc, id).expect("read");
    f(&mut value);
    write(doc, &value).expect("write");
    doc.commit();
}

/// Merges both ways, checks the two results are the same document, and returns it.
fn merge_both_ways<D: Document + PartialEq + std::fmt::Debug>(
    id: &DocId,
    a: &mut AutoCommit,
    b: &mut AutoCommit,
) -> D {
    let mut ab = a.fork();
    ab.merge(b).expect("merge b into a");
    let mut ba = b.fork();
    ba.merge(a).expect("merge a into b");
    assert_eq!(ab.get_heads(), ba.get_heads(), "same history");
    let x: D = read(&ab, id).expect("read ab");
    let y: D = read(&ba, id).expect("read ba");
    assert_eq!(x, y, "same state");
    // Merging again changes nothing.
    let heads = ab.get_heads();
    ab.merge(&mut ba).expect("merge again");
    assert_eq!(ab.get_heads(), heads);
    x
}

fn id(text: &str) -> DocId {
    text.parse().expect("test id")
}

fn day(s: &str) -> Option<Day> {
    Some(Day(s.parse().expect("test date")))
}

#[test]
fn genesis_is_the_same_change_on_every_device() {
    for text in [
        "directory:b1",
        "patrol:b1:p1",
        "sheet:b1:p1:wang",
        "problem:b1:x1",
        "cleanup:b1:c1",
        "assessment:b1:z1:2026-11",
        "report:b1:2026-W47",
        "publication:b1",
    ] {
        let id = id(text);
        let heads = genesis_heads(&id).expect("genesis");
        assert_eq!(heads.len(), 1, "{text}: one change");
        assert_eq!(
            genesis_heads(&id).expect("genesis"),
            heads,
            "{text}: same hash"
        );
        let other = genesis_heads(&self::id(&text.replace("b1", "b2"))).expect("genesis");
        assert_ne!(other, heads, "{text}: another id, another change");
    }
}

#[test]
fn reading_checks_the_header() {
    let id = id("assessment:b1:z1:2026-11");
    let doc = genesis::<Assessment>(&id).expect("genesis");
    let other = self::id("assessment:b1:z2:2026-11");
    let err = read::<Assessment, _>(&doc, &other).expect_err("another id");
    assert!(
        err.to_string().contains("expected the assessment document"),
        "{err}"
    );
    let err = read::<Problem, _>(&doc, &id).expect_err("another kind");
    assert!(
        err.to_string().contains("problem schema") || err.to_string().contains("expected"),
        "{err}"
    );
    assert!(genesis::<Problem>(&id).is_err());
}

#[test]
fn directory_secretary_and_admin_apart() {
    let id = id("directory:b1");
    let mut a = device::<Directory>(&id, 1);
    let mut b = device::<Directory>(&id, 2);
    edit(&mut a, &id, |d: &mut Directory| {
        d.zones.insert(
            "z1".into(),
            Zone {
                name: "三水平上车场".into(),
                active: true,
                ..Default::default()
            },
        );
        d.members.insert(
            "wang".into(),
            Member {
                name: "王伟".into(),
                ..Default::default()
            },
        );
    });
    edit(&mut b, &id, |d: &mut Directory| {
        d.info = BranchInfo {
            name: "综采一队党支部".into(),
            category: 1,
            retired: false,
        };
        d.templates.insert(
            "t1".into(),
            Template {
                name: "标准".into(),
                supersedes: String::new(),
                items: BTreeMap::new(),
            },
        );
        d.members.insert(
            "li".into(),
            Member {
                name: "李强".into(),
                ..Default::default()
            },
        );
    });
    let d: Directory = merge_both_ways(&id, &mut a, &mut b);
    assert_eq!(d.zones["z1"].name, "三水平上车场");
    assert_eq!(d.info.name, "综采一队党支部");
    assert!(d.templates.contains_key("t1"));
    assert_eq!(d.members.len(), 2);
}

#[test]
fn patrol_leader_on_two_phones() {
    let id = id("patrol:b1:p1");
    let mut a = device::<Patrol>(&id, 1);
    let mut b = device::<Patrol>(&id, 2);
    edit(&mut a, &id, |p: &mut Patrol| {
        p.plan.leader = "zhao".into();
        p.plan.date = day("2026-11-21");
        p.plan.inspectors.insert("wang".into(), true);
        p.notes = "北翼巷道积水。".into();
    });
    edit(&mut b, &id, |p: &mut Patrol| {
        p.plan.kind = PatrolKind::TenDay;
        p.plan.zones.insert("z1".into(), 1);
        p.plan.inspectors.insert("li".into(), true);
        p.notes = "南翼照明不足。".into();
        p.closed_at = Some(1_700_000_000_000);
    });
    let p: Patrol = merge_both_ways(&id, &mut a, &mut b);
    assert_eq!(p.plan.leader, "zhao");
    assert_eq!(p.plan.kind, PatrolKind::TenDay);
    assert_eq!(p.plan.inspectors.len(), 2);
    assert_eq!(p.plan.zones.get("z1"), Some(&1));
    assert!(
        p.notes.as_str().contains("北翼巷道积水。"),
        "{}",
        p.notes.as_str()
    );
    assert!(
        p.notes.as_str().contains("南翼照明不足。"),
        "{}",
        p.notes.as_str()
    );
    assert_eq!(p.closed_at, Some(1_700_000_000_000));
}

#[test]
fn sheet_deductions_add_up() {
    let id = id("sheet:b1:p1:wang");
    let mut a = device::<Sheet>(&id, 1);
    // The zone was opened on one phone and synced to the other before they parted.
    edit(&mut a, &id, |s: &mut Sheet| {
        let mut zone = ZoneSheet {
            template: "t1".into(),
            ..Default::default()
        };
        let mut item = ItemEntry::default();
        item.deductions.insert("cable".into(), Tally::new(1));
        zone.items.insert("i1".into(), item);
        s.zones.insert("z1".into(), zone);
    });
    let mut b = a.fork();
    b.set_actor(ActorId::from([2; 16]));
    edit(&mut a, &id, |s: &mut Sheet| {
        let z = s.zones.get_mut("z1").expect("zone");
        z.items
            .get_mut("i1")
            .expect("item")
            .deductions
            .get_mut("cable")
            .expect("rule")
            .add(2);
        z.note = "电缆吊挂不规范".into();
    });
    edit(&mut b, &id, |s: &mut Sheet| {
        let z = s.zones.get_mut("z1").expect("zone");
        z.items
            .get_mut("i1")
            .expect("item")
            .deductions
            .get_mut("cable")
            .expect("rule")
            .add(1);
        z.items.insert(
            "i2".into(),
            ItemEntry {
                not_applicable: true,
                ..Default::default()
            },
        );
        s.submitted_at = Some(5);
    });
    let s: Sheet = merge_both_ways(&id, &mut a, &mut b);
    let z = &s.zones["z1"];
    assert_eq!(z.items["i1"].deductions["cable"].value(), 4);
    assert!(z.items["i2"].not_applicable);
    assert_eq!(z.note.as_str(), "电缆吊挂不规范");
    assert_eq!(s.submitted_at, Some(5));
}

#[test]
fn problem_raiser_holder_and_inspector_apart() {
    let id = id("problem:b1:x1");
    let mut a = device::<Problem>(&id, 1);
    edit(&mut a, &id, |p: &mut Problem| {
        p.finding.zone = "z1".into();
        p.finding.raised_by = "zhao".into();
        p.finding.responsible = "wang".into();
        p.finding.description = "电缆未按规定吊挂".into();
        p.finding.deadline = day("2026-11-25");
    });
    // Synced once; then the raiser, the holder and an inspector act apart.
    let mut b = a.fork();
    b.set_actor(ActorId::from([2; 16]));
    let mut c = a.fork();
    c.set_actor(ActorId::from([3; 16]));
    edit(&mut a, &id, |p: &mut Problem| {
        p.finding.severity = Severity::Major;
        p.finding.measure = "重新吊挂".into();
    });
    edit(&mut b, &id, |p: &mut Problem| {
        p.rectifications.insert(
            "r1".into(),
            Rectification {
                at: 10,
                by: "wang".into(),
                note: "已整改".into(),
                photos: BTreeMap::new(),
                extension: None,
            },
        );
    });
    edit(&mut c, &id, |p: &mut Problem| {
        p.verifications.insert(
            "v1".into(),
            Verification {
                at: 20,
                by: "li".into(),
                outcome: Outcome::Verified,
                note: "".into(),
                deadline: None,
                request: None,
            },
        );
    });
    let mut ab = a.fork();
    ab.merge(&mut b).expect("merge");
    let p: Problem = merge_both_ways(&id, &mut ab, &mut c);
    assert_eq!(p.finding.severity, Severity::Major);
    assert_eq!(p.finding.measure.as_str(), "重新吊挂");
    assert_eq!(p.rectifications.len(), 1);
    assert_eq!(p.verifications.len(), 1);
    assert_eq!(p.status(), crate::rules::ProblemStatus::Verified);
}

#[test]
fn cleanup_leader_on_two_phones() {
    let id = id("cleanup:b1:c1");
    let mut a = device::<Cleanup>(&id, 1);
    let mut b = device::<Cleanup>(&id, 2);
    edit(&mut a, &id, |c: &mut Cleanup| {
        c.log.leader = "zhou".into();
        c.log.participants.insert("王伟".into(), true);
        c.log.items.insert(
            "w1".into(),
            WorkItem {
                what: "电缆重新吊挂".into(),
                quantity_milli: 120_000,
                unit: "m".into(),
            },
        );
    });
    edit(&mut b, &id, |c: &mut Cleanup| {
        c.log.date = day("2026-11-20");
        c.log.participants.insert("李强".into(), true);
        c.log.person_times = 47;
        c.log.items.insert(
            "w2".into(),
            WorkItem {
                what: "清理浮煤".into(),
                quantity_milli: 1_500,
                unit: "t".into(),
            },
        );
    });
    let c: Cleanup = merge_both_ways(&id, &mut a, &mut b);
    assert_eq!(c.log.leader, "zhou");
    assert_eq!(c.log.date, day("2026-11-20"));
    assert_eq!(c.log.participants.len(), 2);
    assert_eq!(c.log.items.len(), 2);
    assert_eq!(c.log.person_times, 47);
}

#[test]
fn assessment_holder_and_secretary_start_it_apart() {
    let id = id("assessment:b1:z1:2026-11");
    let mut a = device::<Assessment>(&id, 1);
    let mut b = device::<Assessment>(&id, 2);
    edit(&mut a, &id, |x: &mut Assessment| {
        for item in crate::rules::suggest::AssessmentItem::ALL {
            x.self_score
                .items
                .insert(item.key().into(), Points::whole(10));
        }
        x.self_score.by = "wang".into();
    });
    edit(&mut b, &id, |x: &mut Assessment| {
        for item in crate::rules::suggest::AssessmentItem::ALL {
            x.branch_score
                .items
                .insert(item.key().into(), Points::whole(9));
        }
        x.branch_score.by = "zhao".into();
        x.branch_score.note = "安全管理需加强".into();
    });
    let x: Assessment = merge_both_ways(&id, &mut a, &mut b);
    let form = crate::rules::AssessmentForm::default();
    assert_eq!(x.self_score.total(&form), Some(Points::whole(100)));
    assert_eq!(x.final_score(&form), Some(Points::whole(90)));
    assert_eq!(x.branch_score.note.as_str(), "安全管理需加强");
}

#[test]
fn report_two_server_writes() {
    let id = id("report:b1:2026-11");
    let mut a = device::<Report>(&id, 1);
    let mut b = device::<Report>(&id, 2);
    edit(&mut a, &id, |r: &mut Report| {
        r.zones.insert(
            "z1".into(),
            ZoneResult {
                score: Some(Points::whole(97)),
                rank: 1,
                money_fen: 2000,
                ..Default::default()
            },
        );
    });
    edit(&mut b, &id, |r: &mut Report| {
        r.zones.insert(
            "z2".into(),
            ZoneResult {
                score: Some(Points::whole(80)),
                rank: 2,
                money_fen: -5000,
                ..Default::default()
            },
        );
        r.open_problems = 3;
    });
    let r: Report = merge_both_ways(&id, &mut a, &mut b);
    assert_eq!(r.zones.len(), 2);
    assert_eq!(r.open_problems, 3);
}

#[test]
fn publication_two_managers_apart() {
    let id = id("publication:b1");
    let mut a = device::<Publication>(&id, 1);
    let mut b = device::<Publication>(&id, 2);
    let event = |period: &str, action, by: &str, at| LockEvent {
        period: period.into(),
        action,
        by: by.into(),
        at,
        seq: 1,
    };
    edit(&mut a, &id, |p: &mut Publication| {
        p.events.insert(
            "e1".into(),
            event("2026-10", LockAction::Publish, "boss", 1),
        );
        p.events.insert(
            "e3".into(),
            event("2026-09", LockAction::Publish, "boss", 1),
        );
    });
    edit(&mut b, &id, |p: &mut Publication| {
        p.events.insert(
            "e2".into(),
            event("2026-W44", LockAction::Publish, "chief", 2),
        );
        p.events.insert(
            "e4".into(),
            event("2026-09", LockAction::Reopen, "chief", 3),
        );
    });
    let p: Publication = merge_both_ways(&id, &mut a, &mut b);
    assert_eq!(p.events.len(), 4);
    let locked: Vec<String> = p
        .locks()
        .into_iter()
        .map(|l| l.period.to_string())
        .collect();
    assert_eq!(locked, vec!["2026-W44", "2026-10"]);
}

/// A random edit that one device makes to a problem or a sheet.
#[derive(Debug, Clone)]
enum Op {
    Rectify,
    Verify(bool),
    AppendMeasure,
    Deduct(i64),
    Note,
    NotApplicable,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Rectify),
        any::<bool>().prop_map(Op::Verify),
        Just(Op::AppendMeasure),
        (-2i64..5).prop_map(Op::Deduct),
        Just(Op::Note),
        Just(Op::NotApplicable),
    ]
}

/// What a device wrote, to check against the merge.
#[derive(Default)]
struct Wrote {
    records: Vec<String>,
    tokens: Vec<String>,
    deducted: i64,
    na_items: Vec<String>,
}

fn apply(
    ops: &[Op],
    who: &str,
    problem: &mut AutoCommit,
    sheet: &mut AutoCommit,
    pid: &DocId,
    sid: &DocId,
) -> Wrote {
    let mut wrote = Wrote::default();
    for (n, op) in ops.iter().enumerate() {
        let tag = format!("{who}{n}");
        match op {
            Op::Rectify => edit(problem, pid, |p: &mut Problem| {
                p.rectifications.insert(
                    tag.clone(),
                    Rectification {
                        at: n as i64,
                        by: who.into(),
                        note: FreeText::default(),
                        photos: BTreeMap::new(),
                        extension: None,
                    },
                );
            }),
            Op::Verify(ok) => edit(problem, pid, |p: &mut Problem| {
                let outcome = if *ok {
                    Outcome::Verified
                } else {
                    Outcome::Reopened
                };
                p.verifications.insert(
                    tag.clone(),
                    Verification {
                        at: n as i64,
                        by: who.into(),
                        outcome,
                        note: FreeText::default(),
                        deadline: None,
                        request: None,
                    },
                );
            }),
            Op::AppendMeasure => edit(problem, pid, |p: &mut Problem| {
                p.finding.measure.0.push_str(&format!("[{tag}]"));
            }),
            Op::Deduct(by) => {
                edit(sheet, sid, |s: &mut Sheet| {
                    let zone = s.zones.get_mut("z1").expect("zone");
                    let item = zone.items.get_mut("i1").expect("item");
                    item.deductions.get_mut("r1").expect("rule").add(*by);
                });
                wrote.deducted += by;
                continue;
            }
            Op::Note => edit(sheet, sid, |s: &mut Sheet| {
                s.zones
                    .get_mut("z1")
                    .expect("zone")
                    .note
                    .0
                    .push_str(&format!("[{tag}]"));
            }),
            Op::NotApplicable => {
                edit(sheet, sid, |s: &mut Sheet| {
                    let zone = s.zones.get_mut("z1").expect("zone");
                    zone.items.insert(
                        tag.clone(),
                        ItemEntry {
                            not_applicable: true,
                            ..Default::default()
                        },
                    );
                });
                wrote.na_items.push(tag);
                continue;
            }
        }
        match op {
            Op::Rectify | Op::Verify(_) => wrote.records.push(tag),
            _ => wrote.tokens.push(format!("[{tag}]")),
        }
    }
    wrote
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_apart_merge_without_loss(
        ops_a in prop::collection::vec(op(), 0..12),
        ops_b in prop::collection::vec(op(), 0..12),
    ) {
        let pid = id("problem:b1:x1");
        let sid = id("sheet:b1:p1:wang");
        // Both problems are born apart; the sheet's zone was synced before the devices parted.
        let mut pa = device::<Problem>(&pid, 1);
        let mut pb = device::<Problem>(&pid, 2);
        let mut sa = device::<Sheet>(&sid, 1);
        edit(&mut sa, &sid, |s: &mut Sheet| {
            let mut item = ItemEntry::default();
            item.deductions.insert("r1".into(), Tally::new(3));
            let mut zone = ZoneSheet::default();
            zone.items.insert("i1".into(), item);
            s.zones.insert("z1".into(), zone);
        });
        let mut sb = sa.fork();
        sb.set_actor(ActorId::from([2; 16]));

        let wa = apply(&ops_a, "a", &mut pa, &mut sa, &pid, &sid);
        let wb = apply(&ops_b, "b", &mut pb, &mut sb, &pid, &sid);

        let p: Problem = merge_both_ways(&pid, &mut pa, &mut pb);
        let s: Sheet = merge_both_ways(&sid, &mut sa, &mut sb);

        for w in [&wa, &wb] {
            for r in &w.records {
                prop_assert!(p.rectifications.contains_key(r) || p.verifications.contains_key(r), "lost record {}", r);
            }
            for t in &w.tokens {
                let texts = format!("{}{}", p.finding.measure.as_str(), s.zones["z1"].note.as_str());
                prop_assert!(texts.contains(t.as_str()), "lost text {} in {}", t, texts);
            }
            for item in &w.na_items {
                prop_assert!(s.zones["z1"].items[item].not_applicable, "lost N/A {}", item);
            }
        }
        prop_assert_eq!(p.rectifications.len() + p.verifications.len(), wa.records.len() + wb.records.len());
        prop_assert_eq!(s.zones["z1"].items["i1"].deductions["r1"].value(), 3 + wa.deducted + wb.deducted);
    }
}

#[test]
fn a_document_points_at_the_photos_of_its_photo_maps_and_nothing_else() {
    let h = |c: char| c.to_string().repeat(64);
    let problem = id("problem:b1:x1");
    let mut doc = device::<Problem>(&problem, 1);
    edit(&mut doc, &problem, |p: &mut Problem| {
        p.finding.description = FreeText(format!("see {}", h('d')));
        p.finding.photos.insert(
            h('a'),
            PhotoRef {
                thumb: h('b'),
                taken_at: None,
                ..Default::default()
            },
        );
        p.rectifications.insert(
            "r1".into(),
            Rectification {
                at: 1,
                by: "h1".into(),
                note: FreeText(h('e')),
                photos: BTreeMap::from([(h('c'), PhotoRef::default())]),
                extension: None,
            },
        );
    });
    let found: Vec<String> = values::photo_hashes(&doc).into_iter().collect();
    assert_eq!(found, vec![h('a'), h('b'), h('c')]);
    let cleanup = id("cleanup:b1:c1");
    let mut doc = device::<Cleanup>(&cleanup, 1);
    edit(&mut doc, &cleanup, |c: &mut Cleanup| {
        c.log.before.insert(h('1'), PhotoRef::default());
        c.log.after.insert(h('2'), PhotoRef::default());
        c.log.zone = h('3');
    });
    let found: Vec<String> = values::photo_hashes(&doc).into_iter().collect();
    assert_eq!(found, vec![h('1'), h('2')]);
}
