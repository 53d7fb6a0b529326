//! The month's work on a real store: self-scores, the secretary's assessment with the
//! suggestions, cleanups, and the ranking from the server's reports.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use zonepatrol_app::i18n::T;
use zonepatrol_app::records::RecordError;
use zonepatrol_app::records::assessment::{self, Scorer};
use zonepatrol_app::records::cleanup::{self, CleanupInput};
use zonepatrol_app::records::ranking;
use zonepatrol_app::store::Repo;
use zonepatrol_shared::docs::{
    Assessment, Cleanup, Day, Directory, DocId, Problem, Report, RuleVersion, Rules, WorkItem,
    Zone, ZoneResult,
};
use zonepatrol_shared::rules::period::Period;
use zonepatrol_shared::rules::suggest::AssessmentItem;
use zonepatrol_shared::rules::{AssessmentForm, RulesConfig};
use zonepatrol_shared::{Actor, Points, Role, Severity};

fn device() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repo::open(dir.path()).expect("open");
    repo.edit::<Directory, _>(
        &DocId::Directory {
            branch: "b1".into(),
        },
        |d| {
            d.info.name = "综采一队".into();
            for (id, name, holder) in [("z1", "三水平上车场", "h1"), ("z2", "802溜子道", "h2")]
            {
                d.zones.insert(
                    id.into(),
                    Zone {
                        name: name.into(),
                        holders: BTreeMap::from([(holder.to_owned(), true)]),
                        template: "t1".into(),
                        active: true,
                        shares: Default::default(),
                        ..Zone::default()
                    },
                );
            }
        },
    )
    .expect("directory");
    (dir, repo)
}

fn month() -> Period {
    "2026-11".parse().expect("month")
}

fn all(points: i64) -> BTreeMap<String, Points> {
    AssessmentItem::ALL
        .iter()
        .map(|i| (i.key().to_owned(), Points::whole(points)))
        .collect()
}

fn input_error<V: std::fmt::Debug>(r: Result<V, RecordError>) -> T {
    match r {
        Err(RecordError::Input(t)) => t,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn a_holder_self_scores_only_their_zone_with_all_ten_items() {
    let (_dir, repo) = device();
    let h1 = Actor::new("h1", Role::ZoneHolder, "b1");
    let rows = assessment::month_rows(&repo, &h1, month()).expect("rows");
    assert_eq!(
        rows.iter().map(|r| r.zone.as_str()).collect::<Vec<_>>(),
        ["z1"],
        "only their own zone"
    );

    let mut nine = all(9);
    nine.remove("learning");
    assert_eq!(
        input_error(Scorer::Holder.save(&repo, &h1, "z1", month(), &nine, "")),
        T::ScoreEveryItem
    );
    let mut over = all(9);
    over.insert("safety".into(), Points::whole(11));
    assert_eq!(
        input_error(Scorer::Holder.save(&repo, &h1, "z1", month(), &over, "")),
        T::ScoreEveryItem
    );
    assert_eq!(
        input_error(Scorer::Holder.save(&repo, &h1, "z2", month(), &all(9), "")),
        T::OnlyHolderSelfScores
    );
    Scorer::Holder
        .save(&repo, &h1, "z1", month(), &all(9), " 本月无事故 ")
        .expect("self-score");
    let a: Assessment = repo
        .read(&DocId::Assessment {
            branch: "b1".into(),
            zone: "z1".into(),
            month: month(),
        })
        .expect("read")
        .expect("assessment");
    assert_eq!(
        a.self_score.total(&AssessmentForm::default()),
        Some(Points::whole(90))
    );
    assert_eq!(
        (a.self_score.by.as_str(), a.self_score.note.as_str()),
        ("h1", "本月无事故")
    );
    assert!(
        a.branch_score.items.is_empty(),
        "the holder never writes the branch score"
    );
    let rows = assessment::month_rows(&repo, &h1, month()).expect("rows");
    assert_eq!(rows[0].self_total, Some(Points::whole(90)));
}

#[test]
fn the_secretary_assesses_beside_the_self_score_and_suggestions_from_the_month() {
    let (_dir, repo) = device();
    let sec = Actor::new("sec", Role::Secretary, "b1");
    Scorer::Holder
        .save(
            &repo,
            &Actor::new("h1", Role::ZoneHolder, "b1"),
            "z1",
            month(),
            &all(10),
            "",
        )
        .expect("self-score");
    // The month's evidence: two weekly reports, a major problem, a cleanup.
    for (week, score) in [("2026-W46", "90"), ("2026-W47", "80"), ("2026-W40", "10")] {
        repo.edit::<Report, _>(
            &DocId::Report {
                branch: "b1".into(),
                period: week.parse().expect("week"),
            },
            |r| {
                r.zones.insert(
                    "z1".into(),
                    ZoneResult {
                        score: Some(score.parse().expect("points")),
                        rank: 1,
                        money_fen: 0,
                        ..Default::default()
                    },
                );
            },
        )
        .expect("report");
    }
    let raised = NaiveDate::from_ymd_opt(2026, 11, 10).expect("day");
    repo.edit::<Problem, _>(
        &DocId::Problem {
            branch: "b1".into(),
            problem: "p1".into(),
        },
        |p| {
            p.finding.zone = "z1".into();
            p.finding.severity = Severity::Major;
            p.finding.raised_by = "sec".into();
            p.finding.responsible = "h1".into();
            p.finding.raised_at = raised
                .and_hms_opt(2, 0, 0)
                .expect("time")
                .and_utc()
                .timestamp_millis();
            p.finding.deadline = Some(Day(NaiveDate::from_ymd_opt(2026, 11, 13).expect("day")));
        },
    )
    .expect("problem");
    repo.edit::<Cleanup, _>(
        &DocId::Cleanup {
            branch: "b1".into(),
            cleanup: "c1".into(),
        },
        |c| {
            c.log.zone = "z1".into();
            c.log.date = Some(Day(NaiveDate::from_ymd_opt(2026, 11, 12).expect("day")));
            c.log.person_times = 6;
        },
    )
    .expect("cleanup");

    let end_of_month = NaiveDate::from_ymd_opt(2026, 12, 5).expect("day");
    let evidence =
        assessment::month_evidence(&repo, &sec, "z1", month(), end_of_month).expect("evidence");
    assert_eq!(
        evidence.inspections,
        [Points::whole(90), Points::whole(80)],
        "only weeks ending in the month"
    );
    assert_eq!(evidence.problems.len(), 1);
    assert_eq!(evidence.cleanups, [6]);
    assert_eq!(evidence.month_end, NaiveDate::from_ymd_opt(2026, 11, 30));
    // Mid-month, a problem not yet due is not overdue yet.
    let mid = NaiveDate::from_ymd_opt(2026, 11, 12).expect("day");
    let so_far = assessment::month_evidence(&repo, &sec, "z1", month(), mid).expect("evidence");
    assert_eq!(so_far.month_end, Some(mid));

    let view = assessment::assessment_view(&repo, &sec, "z1", month()).expect("view");
    assert_eq!(view.name, "三水平上车场");
    assert_eq!(view.self_score.total(&view.form), Some(Points::whole(100)));
    let quality = view
        .suggestions
        .iter()
        .find(|s| s.item == AssessmentItem::QualityStandard)
        .expect("a quality suggestion from the inspections");
    assert_eq!(
        quality.score,
        "8.5".parse().expect("points"),
        "mean 85 of 100"
    );
    assert!(
        quality.reason.text_zh().contains("2次检查"),
        "{}",
        quality.reason.text_zh()
    );
    assert!(
        view.suggestions
            .iter()
            .any(|s| s.item == AssessmentItem::Safety && s.score < Points::whole(10))
    );

    let h1 = Actor::new("h1", Role::ZoneHolder, "b1");
    assert_eq!(
        input_error(Scorer::Secretary.save(&repo, &h1, "z1", month(), &all(8), "")),
        T::OnlySecretaryAssesses
    );
    Scorer::Secretary
        .save(&repo, &sec, "z1", month(), &all(8), "")
        .expect("assess");
    let rows = assessment::month_rows(&repo, &sec, month()).expect("rows");
    assert_eq!(rows.len(), 2, "the secretary sees every zone");
    assert_eq!(
        rows.iter()
            .find(|r| r.zone == "z1")
            .and_then(|r| r.branch_total),
        Some(Points::whole(80))
    );
}

#[test]
fn a_team_leader_logs_a_cleanup_with_work_items() {
    let (_dir, repo) = device();
    let tl = Actor::new("tl", Role::TeamLeader, "b1");
    let good = CleanupInput {
        zone: "z2".into(),
        team: " 综采一班 ".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 20),
        participants: vec!["h1".into(), "h2".into()],
        person_times: 3,
        items: vec![WorkItem {
            what: "清理浮煤".into(),
            quantity_milli: 1500,
            unit: "t".into(),
        }],
        ..CleanupInput::default()
    };
    let bad = [
        (
            CleanupInput {
                zone: String::new(),
                ..good.clone()
            },
            T::ChooseZone,
        ),
        (
            CleanupInput {
                date: None,
                ..good.clone()
            },
            T::ChooseCleanupDay,
        ),
        (
            CleanupInput {
                person_times: 0,
                ..good.clone()
            },
            T::PersonTimesRange,
        ),
        (
            CleanupInput {
                items: vec![WorkItem {
                    what: "清理浮煤".into(),
                    quantity_milli: 1,
                    unit: " ".into(),
                }],
                ..good.clone()
            },
            T::WorkItemIncomplete,
        ),
    ];
    for (input, want) in bad {
        assert_eq!(input_error(cleanup::log_cleanup(&repo, &tl, &input)), want);
    }
    let holder = Actor::new("h1", Role::ZoneHolder, "b1");
    assert_eq!(
        input_error(cleanup::log_cleanup(&repo, &holder, &good)),
        T::OnlyTeamLeaderLogs
    );
    let name = cleanup::log_cleanup(&repo, &tl, &good).expect("log");
    let c: Cleanup = repo
        .read(&DocId::Cleanup {
            branch: "b1".into(),
            cleanup: name,
        })
        .expect("read")
        .expect("cleanup");
    assert_eq!(
        (
            c.log.leader.as_str(),
            c.log.team.as_str(),
            c.log.person_times
        ),
        ("tl", "综采一班", 3)
    );
    assert_eq!(
        c.log.items.values().next().map(|i| i.quantity_milli),
        Some(1500)
    );
    assert_eq!(c.log.participants.len(), 2);
}

#[test]
fn quantities_are_read_as_people_type_them() {
    for (text, want) in [
        ("120", Some(120_000)),
        ("1.5", Some(1500)),
        ("0,75", Some(750)),
        (" .5 ", Some(500)),
        ("2.", Some(2000)),
        ("1.2345", None),
        ("", None),
        ("abc", None),
        ("-1", None),
        ("1e3", None),
    ] {
        assert_eq!(cleanup::quantity_milli(text), want, "{text:?}");
    }
}

#[test]
fn the_ranking_comes_from_the_latest_reports_with_zone_names_and_money() {
    let (_dir, repo) = device();
    assert!(ranking::rankings(&repo, "b1").expect("none").is_empty());
    for (period, z1, z2) in [
        ("2026-W46", 1_i64, 2_i64),
        ("2026-W47", 2, 1),
        ("2026-10", 1, 2),
    ] {
        repo.edit::<Report, _>(
            &DocId::Report {
                branch: "b1".into(),
                period: period.parse().expect("period"),
            },
            |r| {
                r.open_problems = 3;
                r.overdue_problems = 1;
                r.updated_at = Some(1);
                for (zone, rank) in [("z1", z1), ("z2", z2)] {
                    r.zones.insert(
                        zone.into(),
                        ZoneResult {
                            score: Some(Points::whole(90 - rank)),
                            rank: rank.unsigned_abs(),
                            money_fen: 5000 / rank,
                            ..Default::default()
                        },
                    );
                }
            },
        )
        .expect("report");
    }
    let rankings = ranking::rankings(&repo, "b1").expect("rankings");
    let periods: Vec<String> = rankings.iter().map(|r| r.period.to_string()).collect();
    assert_eq!(
        periods,
        ["2026-W47", "2026-10"],
        "the latest week, then the latest month"
    );
    let names: Vec<&str> = rankings[0].rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["802溜子道", "三水平上车场"], "by rank, with names");
    assert_eq!(rankings[1].rows[0].money_fen, 5000);
    assert_eq!(
        ranking::branches(&repo).expect("branches"),
        [("b1".to_owned(), "综采一队".to_owned())]
    );
}

#[test]
fn the_month_is_scored_on_the_form_the_mines_rules_give_it() {
    let (_dir, repo) = device();
    // The mine's rules as the phone received them: from this month, learning is dropped and
    // safety is worth 20.
    let mut config = RulesConfig::default();
    config.assessment.items.retain(|i| i.key != "learning");
    config.assessment.items[0].max = Points::whole(20);
    repo.edit::<Rules, _>(&DocId::rules(), |r| {
        r.versions.insert(
            "v1".into(),
            RuleVersion::of(&config, month(), 1_790_000_000_000, "admin"),
        );
    })
    .expect("rules");
    let h1 = Actor::new("h1", Role::ZoneHolder, "b1");
    let view = assessment::assessment_view(&repo, &h1, "z1", month()).expect("view");
    assert_eq!(view.form, config.assessment);
    let form = assessment::score_form(&view, Scorer::Holder);
    assert_eq!(form.start.len(), 9);
    assert_eq!(
        form.start["safety"],
        Points::whole(20),
        "full marks to start"
    );

    assert_eq!(
        input_error(Scorer::Holder.save(&repo, &h1, "z1", month(), &all(9), "")),
        T::ScoreEveryItem,
        "learning is not on this month's form"
    );
    let mut nine = all(9);
    nine.remove("learning");
    nine.insert("safety".into(), Points::whole(18));
    Scorer::Holder
        .save(&repo, &h1, "z1", month(), &nine, "")
        .expect("scored on the month's form");
    let rows = assessment::month_rows(&repo, &h1, month()).expect("rows");
    assert_eq!(rows[0].self_total, Some(Points::whole(90)), "18 + 8 × 9");
    // The month before keeps the default form.
    let before = month().prev();
    assert_eq!(
        assessment::assessment_view(&repo, &h1, "z1", before)
            .expect("view")
            .form,
        AssessmentForm::default()
    );
}
