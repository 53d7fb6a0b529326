use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_shared::docs::{
    self, DocId, FreeText, Lock, PhotoRef, PostStep, Sheet, Tally, Template, ZoneSheet,
};
use zonepatrol_shared::rules::period::Period;
use zonepatrol_shared::{BranchCategory, PatrolKind, Points};

use super::{BranchFacts, Consolidator, Facts, PatrolFacts, PostFacts, ProblemFacts, ZoneFacts};

fn template() -> Template {
    crate::demo::template()
}

fn branch_facts() -> BranchFacts {
    BranchFacts {
        name: "b".into(),
        category: Some(BranchCategory::MainProduction),
        zones: ["z1", "z2"]
            .into_iter()
            .map(|z| {
                (
                    z.to_owned(),
                    ZoneFacts {
                        name: z.to_owned(),
                        active: true,
                        ..Default::default()
                    },
                )
            })
            .collect(),
        templates: BTreeMap::from([("t1".to_owned(), template())]),
        ..Default::default()
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

#[test]
fn a_sheet_read_for_its_marks_scores_as_the_whole_sheet_does() {
    let id: DocId = "sheet:b:p1:zhao".parse().expect("id");
    let mut doc = docs::genesis::<Sheet>(&id).expect("genesis");
    doc.set_actor(automerge::ActorId::from([3u8; 16]));
    let mut sheet: Sheet = docs::read(&doc, &id).expect("read");
    let mut z = ZoneSheet {
        template: "t1".into(),
        note: FreeText::from("巷道积水"),
        ..Default::default()
    };
    z.items.entry("i1".into()).or_default().not_applicable = true;
    let entry = z.items.entry("i5".into()).or_default();
    entry.deductions.insert("r1".into(), Tally::new(2));
    entry.deductions.insert("unknown".into(), Tally::new(9));
    entry.note = FreeText::from("支护");
    entry.photos.insert("ab".repeat(32), PhotoRef::default());
    z.items
        .entry("i9".into())
        .or_default()
        .deductions
        .insert("r1".into(), Tally::new(1));
    sheet.zones.insert("z1".into(), z);
    sheet.zones.insert(
        "z2".into(),
        ZoneSheet {
            template: "t1".into(),
            ..Default::default()
        },
    );
    docs::write(&mut doc, &sheet).expect("write");
    doc.commit();
    // A second device's counter taps merge into the same counter.
    let mut other = doc.fork().with_actor(automerge::ActorId::from([4u8; 16]));
    let mut s2: Sheet = docs::read(&other, &id).expect("read");
    if let Some(t) = s2
        .zones
        .get_mut("z1")
        .and_then(|z| z.items.get_mut("i9"))
        .and_then(|i| i.deductions.get_mut("r1"))
    {
        *t = Tally::new(t.value() + 1);
    }
    docs::write(&mut other, &s2).expect("write");
    other.commit();
    doc.merge(&mut other).expect("merge");

    let whole: Sheet = docs::read(&doc, &id).expect("read");
    let want: Vec<(String, Points)> = whole
        .zones
        .iter()
        .filter_map(|(zone, z)| Some((zone.clone(), z.score(&template()).percent?)))
        .collect();
    let mut c = Consolidator::default();
    c.apply(
        &"directory:b".parse().expect("id"),
        Facts::Directory(branch_facts()),
    );
    assert_eq!(c.facts(&id, &doc), Facts::Sheet(want.clone()));
    // 90 points apply (i1 N/A); i5 −6, i9 −10 (two taps of 5): 74/90.
    assert_eq!(want[0], ("z1".to_owned(), "82.22".parse().expect("points")));
    // Another document under the sheet's id gives nothing.
    let other_id: DocId = "sheet:b:p1:qian".parse().expect("id");
    assert_eq!(c.facts(&other_id, &doc), Facts::None);
}

fn problem(zone: &str, raised: &str, open: bool) -> Facts {
    Facts::Problem(ProblemFacts {
        zone: zone.into(),
        raised: day(raised),
        deadline: Some(day(raised)),
        status: if open {
            zonepatrol_shared::rules::ProblemStatus::Open
        } else {
            zonepatrol_shared::rules::ProblemStatus::Verified
        },
        description: String::new(),
        responsible: String::new(),
        major: false,
        photos: Vec::new(),
    })
}

#[test]
fn a_document_that_moves_leaves_its_old_period() {
    let mut c = Consolidator::default();
    c.apply(
        &"directory:b".parse().expect("id"),
        Facts::Directory(branch_facts()),
    );
    let today = day("2026-12-31");
    let patrol: DocId = "patrol:b:p1".parse().expect("id");
    let plan = |kind: PatrolKind, d: &str, closed: bool| {
        Facts::Patrol(PatrolFacts {
            kind,
            date: Some(day(d)),
            inspectors: ["a", "b", "c", "d"].map(String::from).into(),
            zones: ["z1", "z2"].map(String::from).into(),
            closed,
        })
    };
    let weekly = |d: &str| plan(PatrolKind::Weekly, d, true);
    c.apply(&patrol, plan(PatrolKind::Weekly, "2026-11-18", false));
    for (n, who) in ["a", "b", "c"].iter().enumerate() {
        let id = DocId::sheet("b", "p1", *who);
        c.apply(
            &id,
            Facts::Sheet(vec![("z1".into(), Points::whole(90 + n as i64))]),
        );
    }
    let p1: DocId = "problem:b:q1".parse().expect("id");
    c.apply(&p1, problem("z2", "2026-11-18", true));
    // A sheet from someone not on the plan, and a zone not on it, count for nothing.
    c.apply(
        &"sheet:b:p1:x".parse().expect("id"),
        Facts::Sheet(vec![("z1".into(), Points::whole(10))]),
    );
    c.apply(
        &"sheet:b:p1:d".parse().expect("id"),
        Facts::Sheet(vec![("z3".into(), Points::whole(10))]),
    );
    c.compute_all(today, 1);
    let w47: Period = "2026-W47".parse().expect("week");
    let w48: Period = "2026-W48".parse().expect("week");
    // Open: nothing shows until the leader closes the walk.
    assert_eq!(
        c.current("b", w47).expect("week 47").zones["z1"].score,
        None
    );
    let dirty = c.apply(&patrol, weekly("2026-11-18"));
    c.compute(dirty, today, 1);
    let week47 = c.current("b", w47).expect("week 47").clone();
    assert_eq!(week47.zones["z1"].score, Some(Points::whole(91)));
    assert_eq!(week47.zones["z1"].sheets, 3);
    assert_eq!(week47.open_problems, 1);
    assert_eq!(week47.overdue_problems, 1);

    // The patrol moves to the next week; the problem is verified.
    let dirty = c.apply(&patrol, weekly("2026-11-25"));
    let mut all = dirty;
    all.extend(c.apply(&p1, problem("z2", "2026-11-18", false)));
    assert!(all.contains(&("b".to_owned(), w47)) && all.contains(&("b".to_owned(), w48)));
    c.compute(all, today, 2);
    let week47 = c.current("b", w47).expect("week 47");
    assert_eq!(week47.zones["z1"].score, None, "the patrol left week 47");
    assert_eq!(week47.open_problems, 0);
    let week48 = c.current("b", w48).expect("week 48");
    assert_eq!(week48.zones["z1"].score, Some(Points::whole(91)));

    // A sheet that no longer reads takes its figures with it: two sheets are too few.
    let dirty = c.apply(&"sheet:b:p1:c".parse().expect("id"), Facts::None);
    c.compute(dirty, today, 3);
    assert_eq!(
        c.current("b", w48).expect("week 48").zones["z1"].score,
        None
    );
    let dirty = c.apply(
        &"sheet:b:p1:c".parse().expect("id"),
        Facts::Sheet(vec![("z1".into(), Points::whole(92))]),
    );
    c.compute(dirty, today, 3);
    assert_eq!(
        c.current("b", w48).expect("week 48").zones["z1"].score,
        Some(Points::whole(91))
    );

    // Not weekly any more: it is not ranked.
    let spot = plan(PatrolKind::SpotCheck, "2026-11-25", true);
    let dirty = c.apply(&patrol, spot);
    c.compute(dirty, today, 3);
    assert_eq!(
        c.current("b", w48).expect("week 48").zones["z1"].score,
        None
    );
}

#[test]
fn branches_rank_within_their_category_and_posts_below_the_pass_mark_are_flagged() {
    let mut c = Consolidator::default();
    let mut facts = branch_facts();
    // In force from the start of the quarter: approved on 1 October, for the year.
    facts.posts.insert(
        "post1".into(),
        PostFacts {
            zone: "z2".into(),
            starts: Some(day("2026-10-01")),
            ends: Some(day("2026-12-31")),
            steps: vec![(day("2026-10-01"), PostStep::Approve)],
            ..Default::default()
        },
    );
    c.apply(&"directory:b".parse().expect("id"), Facts::Directory(facts));
    c.apply(
        &"directory:c".parse().expect("id"),
        Facts::Directory(branch_facts()),
    );
    let assess = |c: &mut Consolidator, id: &str, fin: i64| {
        let id: DocId = id.parse().expect("id");
        c.apply(&id, Facts::Assessment(Default::default(), items_for(fin)))
    };
    assess(&mut c, "assessment:b:z1:2026-10", 96);
    assess(&mut c, "assessment:b:z2:2026-10", 78);
    assess(&mut c, "assessment:c:z1:2026-10", 90);
    let today = day("2026-12-31");
    c.compute_all(today, 1);
    let q4: Period = "2026-Q4".parse().expect("quarter");
    let oct: Period = "2026-10".parse().expect("month");
    let b = c.current("b", oct).expect("b october");
    assert_eq!(b.branch.score, Some(Points::whole(87)));
    assert_eq!(
        (b.branch.rank, b.branch.of, b.branch.grade.as_str()),
        (2, 2, "pass")
    );
    assert_eq!(b.zones["z1"].money_fen, 1000);
    assert_eq!(b.zones["z2"].money_fen, -7000);
    let quarter = c.current("b", q4).expect("b q4");
    assert!(
        quarter.zones["z2"].loses_title,
        "78 is under category 1's 80"
    );
    assert_eq!(quarter.zones["z2"].post, "post1");
    assert!(!quarter.zones["z1"].loses_title);
    // c overtakes b: b's report is taken up again for its rank alone.
    let dirty = assess(&mut c, "assessment:c:z2:2026-10", 50);
    let changed = c.compute(dirty, today, 2);
    assert!(changed.contains(&("b".to_owned(), oct)), "b moved up");
    assert_eq!(c.current("b", oct).expect("b").branch.rank, 1);
    assert_eq!(c.current("c", oct).expect("c").branch.rank, 2);
    // Published: the report keeps what it said.
    let lock = Lock {
        period: oct,
        by: "mgr".into(),
        at: 5,
    };
    let dirty = c.apply(
        &"publication:b".parse().expect("id"),
        Facts::Publication(vec![lock]),
    );
    c.compute(dirty, today, 3);
    let frozen = c.current("b", oct).expect("b").clone();
    assert_eq!(
        frozen.published.as_ref().map(|p| p.by.as_str()),
        Some("mgr")
    );
    let dirty = assess(&mut c, "assessment:b:z1:2026-10", 60);
    c.compute(dirty, today, 4);
    assert_eq!(c.current("b", oct).expect("b"), &frozen);
}

#[test]
fn new_rules_apply_from_their_month_and_a_published_month_keeps_its_own() {
    let mut c = Consolidator::default();
    c.apply(
        &"directory:b".parse().expect("id"),
        Facts::Directory(branch_facts()),
    );
    let assess = |c: &mut Consolidator, id: &str, fin: i64| {
        let id: DocId = id.parse().expect("id");
        c.apply(&id, Facts::Assessment(Default::default(), items_for(fin)))
    };
    for month in ["2026-10", "2026-11", "2026-12"] {
        assess(&mut c, &format!("assessment:b:z1:{month}"), 96);
    }
    let today = day("2026-12-31");
    c.compute_all(today, 1);
    let month = |m: &str| m.parse::<Period>().expect("month");
    let money =
        |c: &Consolidator, m: &str| c.current("b", month(m)).expect("report").zones["z1"].money_fen;
    assert_eq!(money(&c, "2026-11"), 1000, "10 yuan a point above 95");
    // October is published before the rules change.
    let lock = Lock {
        period: month("2026-10"),
        by: "mgr".into(),
        at: 5,
    };
    let dirty = c.apply(
        &"publication:b".parse().expect("id"),
        Facts::Publication(vec![lock]),
    );
    c.compute(dirty, today, 2);
    // 20 yuan a point from November; again in December, the same month written twice, the
    // later wins.
    let mut rules = zonepatrol_shared::rules::RulesConfig::default();
    rules.money.fen_per_point = 2_000;
    let mut later = rules.clone();
    later.money.fen_per_point = 3_000;
    let dirty = c.apply(
        &DocId::rules(),
        Facts::Rules(vec![(month("2026-11"), rules), (month("2026-12"), later)]),
    );
    c.compute(dirty, today, 3);
    assert_eq!(money(&c, "2026-10"), 1000, "published: its own rules");
    assert_eq!(money(&c, "2026-11"), 2000);
    assert_eq!(money(&c, "2026-12"), 3000);
    assert_eq!(
        c.current("b", month("2026-Q4")).expect("q4").zones["z1"].money_fen,
        6000
    );
    assert_eq!(
        c.rules_on(day("2026-09-30")).money.fen_per_point,
        1000,
        "before any version"
    );
}

/// Branch-score items on the default form that come to `total`.
fn items_for(total: i64) -> super::ScoreItems {
    let mut left = total;
    zonepatrol_shared::rules::AssessmentForm::default()
        .items
        .iter()
        .map(|i| {
            let take = left.clamp(0, 10);
            left -= take;
            (i.key.clone(), Points::whole(take))
        })
        .collect()
}

/// A post is flagged in the quarters it held its zone's title, even for a few days: the
/// quarter it slipped in keeps the flag after the title is withdrawn; the quarter before its
/// start date has none.
#[test]
fn a_post_is_flagged_only_in_the_quarters_it_held_its_title() {
    let mut c = Consolidator::default();
    let mut facts = branch_facts();
    facts.posts.insert(
        "post1".into(),
        PostFacts {
            zone: "z2".into(),
            title: "运输示范岗".into(),
            starts: Some(day("2026-07-01")),
            ends: Some(day("2027-06-30")),
            steps: vec![
                (day("2026-06-20"), PostStep::Propose),
                (day("2026-06-25"), PostStep::Approve),
                (day("2026-10-10"), PostStep::Revoke),
            ],
            ..Default::default()
        },
    );
    c.apply(&"directory:b".parse().expect("id"), Facts::Directory(facts));
    let assess = |c: &mut Consolidator, id: &str, fin: i64| {
        let id: DocId = id.parse().expect("id");
        c.apply(&id, Facts::Assessment(Default::default(), items_for(fin)))
    };
    // z2 scores 78 in June, August and November: under category 1's pass mark of 80.
    assess(&mut c, "assessment:b:z2:2026-06", 78);
    assess(&mut c, "assessment:b:z2:2026-08", 78);
    assess(&mut c, "assessment:b:z2:2026-11", 78);
    c.compute_all(day("2026-12-20"), 1);
    let q3 = c
        .current("b", "2026-Q3".parse().expect("q3"))
        .expect("q3")
        .zones["z2"]
        .clone();
    assert_eq!(q3.post, "post1", "in force on 30 September");
    assert!(q3.loses_title, "78 < 80 while it held the title");
    let q4 = c
        .current("b", "2026-Q4".parse().expect("q4"))
        .expect("q4")
        .zones["z2"]
        .clone();
    assert_eq!(q4.post, "post1", "it held the title until 10 October");
    assert!(q4.loses_title, "78 < 80 while it held the title");
    let q2 = c
        .current("b", "2026-Q2".parse().expect("q2"))
        .expect("q2")
        .zones["z2"]
        .clone();
    assert_eq!(q2.post, "", "approved in June, in force from 1 July");
    assert!(!q2.loses_title);
    // Before its start date (approved in June) it held no title in Q2.
    assert_eq!(
        PostFacts {
            starts: Some(day("2026-07-01")),
            steps: vec![(day("2026-06-25"), PostStep::Approve)],
            ..Default::default()
        }
        .status_on(day("2026-06-30")),
        docs::PostStatus::Approved
    );
}

/// A ten-day supervision is ranked in its own ten-day period and a monthly self-check shows in
/// its month, each on one named sheet; neither enters the weekly inspection's figures.
#[test]
fn ten_day_supervisions_and_monthly_self_checks_have_their_own_results() {
    let mut c = Consolidator::default();
    c.apply(
        &"directory:b".parse().expect("id"),
        Facts::Directory(branch_facts()),
    );
    let plan = |kind: PatrolKind, d: &str, who: &[&str]| {
        Facts::Patrol(PatrolFacts {
            kind,
            date: Some(day(d)),
            inspectors: who.iter().map(|w| (*w).to_owned()).collect(),
            zones: ["z1", "z2"].map(String::from).into(),
            closed: true,
        })
    };
    let sheet = |c: &mut Consolidator, patrol: &str, who: &str, z1: i64, z2: i64| {
        c.apply(
            &DocId::sheet("b", patrol, who),
            Facts::Sheet(vec![
                ("z1".into(), Points::whole(z1)),
                ("z2".into(), Points::whole(z2)),
            ]),
        );
    };
    // Ten-day supervisions on 5 November (D1) by one supervisor and on 15 November (D2) by
    // two: D1 z1 88, z2 93; D2 z1 (80+90)/2 = 85, z2 (70+76)/2 = 73.
    c.apply(
        &"patrol:b:t1".parse().expect("id"),
        plan(PatrolKind::TenDay, "2026-11-05", &["org"]),
    );
    sheet(&mut c, "t1", "org", 88, 93);
    c.apply(
        &"patrol:b:t2".parse().expect("id"),
        plan(PatrolKind::TenDay, "2026-11-15", &["org", "org2"]),
    );
    sheet(&mut c, "t2", "org", 80, 70);
    sheet(&mut c, "t2", "org2", 90, 76);
    // The branch's self-check on 28 November by the secretary: z1 95, z2 81.
    c.apply(
        &"patrol:b:s1".parse().expect("id"),
        plan(PatrolKind::MonthlySelfCheck, "2026-11-28", &["sec"]),
    );
    sheet(&mut c, "s1", "sec", 95, 81);
    c.compute_all(day("2026-12-31"), 1);
    let d1 = c
        .current("b", "2026-11-D1".parse().expect("d1"))
        .expect("D1");
    assert_eq!(
        (
            d1.zones["z1"].score,
            d1.zones["z1"].rank,
            d1.zones["z1"].sheets
        ),
        (Some(Points::whole(88)), 2, 1)
    );
    assert_eq!(
        (d1.zones["z2"].score, d1.zones["z2"].rank),
        (Some(Points::whole(93)), 1)
    );
    let d2 = c
        .current("b", "2026-11-D2".parse().expect("d2"))
        .expect("D2");
    assert_eq!(
        (d2.zones["z1"].score, d2.zones["z1"].rank),
        (Some(Points::whole(85)), 1)
    );
    assert_eq!(
        (d2.zones["z2"].score, d2.zones["z2"].rank),
        (Some(Points::whole(73)), 2)
    );
    assert!(
        c.current("b", "2026-11-D3".parse().expect("d3"))
            .is_none_or(|r| r.zones.values().all(|z| z.score.is_none()))
    );
    let month = c
        .current("b", "2026-11".parse().expect("month"))
        .expect("November");
    assert_eq!(month.zones["z1"].self_check, Some(Points::whole(95)));
    assert_eq!(month.zones["z2"].self_check, Some(Points::whole(81)));
    assert_eq!(
        month.zones["z1"].inspection, None,
        "no weekly inspection in November"
    );
    let week = c.current("b", "2026-W46".parse().expect("week"));
    assert!(week.is_none_or(|w| w.zones.values().all(|z| z.inspection.is_none())));
}
