//! A year of data on a phone: how long the home screen and a zone's score screen take to get
//! their data and render, with 10,000 documents in the device's store.
//!
//! Run with `cargo bench -p zonepatrol-tests --bench year`. The store is filled the way sync
//! fills it (batches of changes from the server), then each screen is measured as the app
//! builds it: the store reads, then the component rendered to HTML by dioxus-ssr. Anchors in
//! the same run: one document read from the store (the floor of any screen), and the home
//! screen's lists read the naive way, by loading every patrol and problem document.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use chrono::{Days, NaiveDate};
use dioxus::prelude::*;
use zonepatrol_app::i18n::Lang;
use zonepatrol_app::records::sheet::{self, Mark, zone_view};
use zonepatrol_app::records::{patrol, problem};
use zonepatrol_app::store::{Incoming, Repo};
use zonepatrol_app::ui::home::Home;
use zonepatrol_app::ui::score::ScoreZone;
use zonepatrol_shared::docs::{
    self, Assessment, Cleanup, Day, DeductionRule, Directory, DocId, Document, FreeText, Patrol,
    Problem, Report, Sheet, Template, TemplateItem, Zone, ZoneResult, ZoneSheet,
};
use zonepatrol_shared::protocol::{b64, heads_to_hex};
use zonepatrol_shared::{Actor, PatrolKind, Points, Role, Severity};

const ZONES: usize = 40;
const PATROLS: usize = 156;
const PROBLEMS: usize = 6_000;
const CLEANUPS: usize = 3_110;
const RUNS: usize = 50;

fn template() -> Template {
    let items = (0..20)
        .map(|i| {
            let rules = (0..3)
                .map(|r| {
                    (
                        format!("r{r}"),
                        DeductionRule {
                            text: format!("第{i}项不合格情形{r}"),
                            points: Points::whole(1 + r),
                            needs_photo: r == 0,
                        },
                    )
                })
                .collect();
            (
                format!("i{i:02}"),
                TemplateItem {
                    order: i,
                    category: "安全".into(),
                    text: format!("检查项目{i}：巷道整洁、设备完好、支护符合规程"),
                    max: Points::whole(5),
                    rules,
                },
            )
        })
        .collect();
    Template {
        name: "责任区检查表".into(),
        supersedes: String::new(),
        items,
    }
}

/// A document as the server would send it: genesis, then one change with its content.
fn doc<D: Document>(id: &DocId, fill: impl FnOnce(&mut D)) -> (String, Vec<String>, String) {
    let mut doc: AutoCommit = docs::genesis::<D>(id).expect("genesis");
    doc.set_actor(automerge::ActorId::from(&b"year-bench-server"[..]));
    let mut value: D = docs::read(&doc, id).expect("read");
    fill(&mut value);
    docs::write(&mut doc, &value).expect("write");
    doc.commit();
    (
        id.to_string(),
        heads_to_hex(&doc.get_heads()),
        b64::encode(&doc.save()),
    )
}

fn day(n: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.checked_add_days(Days::new(n as u64 % 365)))
        .expect("day")
}

fn year() -> Vec<(String, Vec<String>, String)> {
    let b = |f: &dyn Fn(String) -> DocId| f("b1".to_owned());
    let mut out = Vec::new();
    out.push(doc::<Directory>(
        &b(&|branch| DocId::Directory { branch }),
        |d| {
            d.templates.insert("t1".into(), template());
            for z in 0..ZONES {
                d.zones.insert(
                    format!("z{z:02}"),
                    Zone {
                        name: format!("第{z}责任区"),
                        location: format!("-{}m 水平", 300 + z),
                        holders: BTreeMap::from([(format!("h{}", z % 10), true)]),
                        template: "t1".into(),
                        active: true,
                        shares: Default::default(),
                        ..Zone::default()
                    },
                );
            }
        },
    ));
    let kinds = [
        PatrolKind::Weekly,
        PatrolKind::TenDay,
        PatrolKind::MonthlySelfCheck,
    ];
    for p in 0..PATROLS {
        let patrol = format!("p{p:04}");
        out.push(doc::<Patrol>(
            &b(&|branch| DocId::Patrol {
                branch,
                patrol: patrol.clone(),
            }),
            |d| {
                d.plan.kind = kinds[p % 3];
                d.plan.date = Some(Day(day(p * 2)));
                d.plan.leader = "sec".into();
                d.plan.inspectors =
                    BTreeMap::from([("sec".to_owned(), true), ("i1".to_owned(), true)]);
                d.plan.zones = (0..ZONES).map(|z| (format!("z{z:02}"), z as u64)).collect();
                d.closed_at = (p + 1 < PATROLS).then_some(1);
            },
        ));
        let sheet = DocId::Sheet {
            branch: "b1".into(),
            patrol: patrol.clone(),
            inspector: "sec".into(),
        };
        out.push(doc::<Sheet>(&sheet, |s| {
            for z in 0..ZONES {
                let mut zone = ZoneSheet {
                    template: "t1".into(),
                    ..ZoneSheet::default()
                };
                let entry = zone
                    .items
                    .entry(format!("i{:02}", (p + z) % 20))
                    .or_default();
                entry.deductions.insert("r1".into(), docs::Tally::new(1));
                s.zones.insert(format!("z{z:02}"), zone);
            }
        }));
    }
    for n in 0..PROBLEMS {
        let problem = format!("x{n:05}");
        out.push(doc::<Problem>(
            &b(&|branch| DocId::Problem {
                branch,
                problem: problem.clone(),
            }),
            |p| {
                p.finding.zone = format!("z{:02}", n % ZONES);
                p.finding.raised_by = "sec".into();
                p.finding.raised_at = 1_767_225_600_000 + n as i64 * 5_000_000;
                p.finding.description = FreeText(format!("电缆吊挂不规范，第{n}处"));
                p.finding.severity = if n % 7 == 0 {
                    Severity::Major
                } else {
                    Severity::General
                };
                p.finding.responsible = format!("h{}", n % 10);
                p.finding.measure = FreeText("按标准重新吊挂".into());
                p.finding.deadline = Some(Day(day(n / 16 + 7)));
            },
        ));
    }
    for n in 0..CLEANUPS {
        let cleanup = format!("c{n:05}");
        out.push(doc::<Cleanup>(
            &b(&|branch| DocId::Cleanup {
                branch,
                cleanup: cleanup.clone(),
            }),
            |c| {
                c.log.zone = format!("z{:02}", n % ZONES);
                c.log.date = Some(Day(day(n / 8)));
                c.log.leader = "tl".into();
                c.log.person_times = 6;
            },
        ));
    }
    for z in 0..ZONES {
        for m in 1..=12 {
            let month = format!("2026-{m:02}").parse().expect("month");
            out.push(doc::<Assessment>(
                &DocId::Assessment {
                    branch: "b1".into(),
                    zone: format!("z{z:02}"),
                    month,
                },
                |a| a.self_score.by = format!("h{}", z % 10),
            ));
        }
    }
    let periods: Vec<String> = (1..=52)
        .map(|w| format!("2026-W{w:02}"))
        .chain((1..=12).flat_map(|m| (1..=3).map(move |d| format!("2026-{m:02}-D{d}"))))
        .chain((1..=12).map(|m| format!("2026-{m:02}")))
        .chain((1..=4).map(|q| format!("2026-Q{q}")))
        .collect();
    for period in periods {
        let period = period.parse().expect("period");
        out.push(doc::<Report>(
            &DocId::Report {
                branch: "b1".into(),
                period,
            },
            |r| {
                for z in 0..ZONES {
                    r.zones.insert(
                        format!("z{z:02}"),
                        ZoneResult {
                            score: Some(Points::whole(90)),
                            rank: z as u64 + 1,
                            money_fen: 0,
                            ..Default::default()
                        },
                    );
                }
            },
        ));
    }
    out
}

/// The medians of two operations run in turn, `RUNS` times each.
fn time_both(mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let mut times = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    for _ in 0..RUNS {
        let start = Instant::now();
        a();
        times.0.push(start.elapsed());
        let start = Instant::now();
        b();
        times.1.push(start.elapsed());
    }
    times.0.sort();
    times.1.sort();
    (times.0[RUNS / 2], times.1[RUNS / 2])
}

fn time<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    (times[RUNS / 2], last.expect("runs"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Props, Clone, PartialEq)]
struct HomeData {
    patrols: Vec<patrol::PatrolRow>,
    problems: usize,
    overdue: usize,
}

#[allow(non_snake_case)]
fn HomeRoot(d: HomeData) -> Element {
    rsx! { Home { lang: Lang::Zh, user: "sec", role: Role::Secretary, patrols: d.patrols, problems: d.problems, overdue: d.overdue, on_go: |_| {} } }
}

#[derive(Props, Clone, PartialEq)]
struct ZoneData {
    name: String,
    view: sheet::ZoneView,
    next: Option<String>,
}

#[allow(non_snake_case)]
fn ZoneRoot(d: ZoneData) -> Element {
    rsx! { ScoreZone { lang: Lang::Zh, zone_name: d.name, view: d.view, next: d.next, on_mark: |_| {} } }
}

fn render<P: Clone + 'static>(root: fn(P) -> Element, props: P) -> String {
    let mut dom = VirtualDom::new_with_props(root, props);
    dom.rebuild_in_place();
    dioxus_ssr::render(&dom)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let docs = year();
    let started = Instant::now();
    {
        let repo = Repo::open(dir.path()).expect("open");
        for (n, batch) in docs.chunks(500).enumerate() {
            let incoming: Vec<Incoming<'_>> = batch
                .iter()
                .map(|(id, heads, changes)| Incoming { id, heads, changes })
                .collect();
            repo.take_in("", &incoming, Some(n as u64 + 1))
                .expect("take in");
        }
    }
    println!(
        "{} documents taken in, in {:.1} s",
        docs.len(),
        started.elapsed().as_secs_f64()
    );
    // Opening the store, as the app does at start: each store is closed before the next open.
    let mut opens: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let repo = Repo::open(dir.path()).expect("open");
            let took = start.elapsed();
            drop(repo);
            took
        })
        .collect();
    opens.sort();
    let open = opens[opens.len() / 2];
    let repo = Repo::open(dir.path()).expect("open");
    assert!(
        repo.ids().expect("ids").len() >= 10_000,
        "a year is 10,000 documents"
    );

    let sec = Actor::new("sec", Role::Secretary, "b1");
    let holder = Actor::new("h3", Role::ZoneHolder, "b1");
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("day");

    let (home, html) = time(|| {
        let patrols = patrol::my_patrols(&repo, &sec).expect("patrols");
        let problems = problem::my_problems(&repo, &holder, today).expect("problems");
        let overdue = problems.iter().filter(|p| p.overdue).count();
        render(
            HomeRoot,
            HomeData {
                patrols,
                problems: problems.len(),
                overdue,
            },
        )
    });
    assert!(html.contains("开始巡查") && html.contains("周检查"));
    let (problems, rows) = time(|| problem::my_problems(&repo, &holder, today).expect("problems"));
    assert_eq!(rows.len(), PROBLEMS / 10);

    let patrol = format!("p{:04}", PATROLS - 1);
    let (zone, html) = time(|| {
        let work = sheet::zone_work(&repo, &sec, &patrol, "z07").expect("work");
        let rows = patrol::patrol_zones(&repo, &sec, &patrol).expect("zones");
        let next = rows
            .iter()
            .skip_while(|r| r.id != "z07")
            .nth(1)
            .map(|r| r.id.clone());
        let view = zone_view(&work.template, &work.marks);
        render(
            ZoneRoot,
            ZoneData {
                name: work.name,
                view,
                next,
            },
        )
    });
    assert!(html.contains("第7责任区") && html.contains("当前得分"));

    let (zone_read, _) = time(|| sheet::zone_screen(&repo, &sec, &patrol, "z07").expect("work"));
    let sheet_id = DocId::Sheet {
        branch: "b1".into(),
        patrol: patrol.clone(),
        inspector: "sec".into(),
    };
    let (sheet_read, _) = time(|| repo.read::<Sheet>(&sheet_id).expect("read").expect("sheet"));
    let (one_doc, _) = time(|| {
        repo.read::<Directory>(&DocId::Directory {
            branch: "b1".into(),
        })
        .expect("read")
        .expect("directory")
    });
    // A tap on the score screen, saved and flushed: as the screen does it (checked by the
    // server's validator against the phone's directory, patrol and published periods), and
    // the same edit written unchecked.
    let taps = [
        Mark::Deduct {
            item: "i05".into(),
            rule: "r1".into(),
        },
        Mark::Undo {
            item: "i05".into(),
            rule: "r1".into(),
        },
    ];
    // The two are timed in turn, so that whatever else the machine does falls on both alike.
    let n = std::cell::Cell::new(3usize);
    // Deduct, deduct, undo, undo…: each run an edit, and both get deductions and undos.
    let next = || {
        n.set(n.get() + 1);
        &taps[(n.get() / 2) % 2]
    };
    let (tap_checked, tap_unchecked) = time_both(
        || {
            sheet::mark(&repo, &sec, &patrol, "z07", "t1", next()).expect("tap");
        },
        || {
            let tap = next();
            repo.edit::<Sheet, _>(&sheet_id, |s| {
                let z = s.zones.entry("z07".into()).or_default();
                sheet::apply(z, "t1", tap);
            })
            .expect("tap");
        },
    );
    let (naive, _) = time(|| {
        let mut n = 0;
        for prefix in ["patrol:b1:", "problem:b1:"] {
            for id in repo.ids_with_prefix(prefix).expect("ids") {
                let id: DocId = id.parse().expect("id");
                n += match id {
                    DocId::Patrol { .. } => {
                        repo.read::<Patrol>(&id).expect("read").map_or(0, |_| 1)
                    }
                    _ => repo.read::<Problem>(&id).expect("read").map_or(0, |_| 1),
                };
            }
        }
        n
    });

    let lines = [
        ("open the store (median of 5)", open),
        ("home screen (patrols, problems, render)", home),
        ("  of which the holder's problem list", problems),
        ("a zone's score screen (read, render)", zone),
        ("  of which reading the store", zone_read),
        ("    of which the sheet (40 zones scored)", sheet_read),
        ("a tap saved, checked by the validator", tap_checked),
        ("anchor: the same tap saved unchecked", tap_unchecked),
        ("anchor: one document read (the directory)", one_doc),
        ("anchor: home lists read by loading every doc", naive),
    ];
    println!(
        "medians of {RUNS} runs, {} documents on the device:",
        repo.ids().expect("ids").len()
    );
    for (label, took) in lines {
        println!("  {label:<46} {:>8.2} ms", ms(took));
    }
    println!(
        "  checked tap / unchecked tap: {:.2}× (goal: at most 1.3×)",
        ms(tap_checked) / ms(tap_unchecked)
    );
}
