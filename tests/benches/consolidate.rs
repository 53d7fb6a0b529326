//! Consolidation at company scale: 100 branches of 50 zones (5,000 zones), one year of weekly
//! inspections by five inspectors each (1.3 million inspector × zone scores), monthly
//! assessments of every zone, problems and cleanups.
//!
//! Run with `cargo bench -p zonepatrol-tests --bench consolidate`. It prints:
//! - the full recompute: taking in every document's facts, then computing every report
//!   (100 branches × 69 periods), and the same aggregation done by SQLite (bundled rusqlite,
//!   in memory) on the same data, side by side; the two results are checked against each
//!   other;
//! - one incremental update after one sheet arrives: the real automerge document read,
//!   its facts replaced, the reports it touches computed again; then writing the changed
//!   report documents to a sled store;
//! - rendering the overview page from the consolidated results.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use chrono::{Datelike, NaiveDate, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zonepatrol_server::consolidate::{
    BranchFacts, CleanupFacts, Consolidator, Facts, PatrolFacts, PostFacts, ProblemFacts, ZoneFacts,
};
use zonepatrol_server::dashboard::{Lang, OverviewQuery, Viewer, overview_page};
use zonepatrol_server::store::SledStore;
use zonepatrol_shared::docs::{self, DocId, ItemEntry, PostStep, Sheet, Tally, ZoneSheet};
use zonepatrol_shared::rules::ProblemStatus;
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, BranchCategory, PatrolKind, Points, Role};

const BRANCHES: usize = 100;
const ZONES: usize = 50;
const INSPECTORS: usize = 5;
const WEEKS: u32 = 52;
const YEAR: i32 = 2026;
const RUNS: usize = 30;

fn branch(b: usize) -> String {
    format!("b{b:03}")
}

fn zone(z: usize) -> String {
    format!("z{z:02}")
}

fn patrol(w: u32) -> String {
    format!("w{w:02}")
}

fn day(w: u32) -> NaiveDate {
    NaiveDate::from_isoywd_opt(YEAR, w, Weekday::Wed).expect("a day")
}

fn category(b: usize) -> BranchCategory {
    BranchCategory::try_from((b % 4) as u8 + 1).expect("category")
}

/// Everything the year holds, as the facts the documents give, plus the same rows for SQLite.
struct Data {
    facts: Vec<(DocId, Facts)>,
    sheets: Vec<(usize, u32, usize, usize, i64)>,
    assessments: Vec<(usize, u32, usize, i64, i64)>,
    problems: Vec<(usize, NaiveDate, bool)>,
    cleanups: Vec<(usize, NaiveDate, u64)>,
}

fn generate() -> Data {
    let mut rng = StdRng::seed_from_u64(47);
    let template = zonepatrol_server::demo::template();
    let mut data = Data {
        facts: Vec::new(),
        sheets: Vec::new(),
        assessments: Vec::new(),
        problems: Vec::new(),
        cleanups: Vec::new(),
    };
    for b in 0..BRANCHES {
        let id = branch(b);
        let facts = BranchFacts {
            name: format!("第{b}党支部"),
            category: Some(category(b)),
            zones: (0..ZONES)
                .map(|z| {
                    (
                        zone(z),
                        ZoneFacts {
                            name: format!("{b}号支部{z}号责任区"),
                            location: "三水平".into(),
                            active: true,
                            holders: vec![format!("h{b}-{z}")],
                            shares: Default::default(),
                            template: template.name.clone(),
                        },
                    )
                })
                .collect(),
            posts: (0..ZONES)
                .step_by(10)
                .map(|z| {
                    (
                        format!("p{z}"),
                        PostFacts {
                            zone: zone(z),
                            title: "党员示范岗".into(),
                            // Approved on the year's first day, in force all year.
                            steps: vec![(
                                NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day"),
                                PostStep::Approve,
                            )],
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            members: BTreeMap::new(),
            templates: BTreeMap::from([("t1".to_owned(), template.clone())]),
        };
        data.facts.push((
            DocId::Directory { branch: id.clone() },
            Facts::Directory(facts),
        ));
        for w in 1..=WEEKS {
            data.facts.push((
                DocId::Patrol {
                    branch: id.clone(),
                    patrol: patrol(w),
                },
                Facts::Patrol(PatrolFacts {
                    kind: PatrolKind::Weekly,
                    date: Some(day(w)),
                    inspectors: (0..INSPECTORS).map(|i| format!("i{i}")).collect(),
                    zones: (0..ZONES).map(zone).collect(),
                    closed: true,
                }),
            ));
            for i in 0..INSPECTORS {
                let zones: Vec<(String, Points)> = (0..ZONES)
                    .map(|z| {
                        let pct = rng.random_range(8_000..=10_000);
                        data.sheets.push((b, w, z, i, pct));
                        (zone(z), Points(pct))
                    })
                    .collect();
                data.facts.push((
                    DocId::Sheet {
                        branch: id.clone(),
                        patrol: patrol(w),
                        inspector: format!("i{i}"),
                    },
                    Facts::Sheet(zones),
                ));
            }
        }
        for m in 1..=12u32 {
            let month = Period::Month {
                year: YEAR,
                month: m,
            };
            for z in 0..ZONES {
                let own = rng.random_range(8_000..=10_000);
                let fin = (own - rng.random_range(0..=800)).max(7_000);
                data.assessments.push((b, m, z, own, fin));
                data.facts.push((
                    DocId::Assessment {
                        branch: id.clone(),
                        zone: zone(z),
                        month,
                    },
                    Facts::Assessment(items(own), items(fin)),
                ));
            }
            for p in 0..10 {
                let raised = NaiveDate::from_ymd_opt(YEAR, m, 1 + p * 2).expect("day");
                let open = rng.random_bool(0.3);
                data.problems.push((b, raised, open));
                data.facts.push((
                    DocId::Problem {
                        branch: id.clone(),
                        problem: format!("p{m}-{p}"),
                    },
                    Facts::Problem(ProblemFacts {
                        zone: zone(p as usize),
                        raised,
                        deadline: raised.checked_add_days(chrono::Days::new(7)),
                        status: if open {
                            ProblemStatus::Open
                        } else {
                            ProblemStatus::Verified
                        },
                        description: "托辊缺失".into(),
                        responsible: String::new(),
                        major: false,
                        photos: Vec::new(),
                    }),
                ));
            }
            for k in 0..5 {
                let date = NaiveDate::from_ymd_opt(YEAR, m, 3 + k * 5).expect("day");
                let people = rng.random_range(2..20);
                data.cleanups.push((b, date, people));
                data.facts.push((
                    DocId::Cleanup {
                        branch: id.clone(),
                        cleanup: format!("c{m}-{k}"),
                    },
                    Facts::Cleanup(CleanupFacts {
                        zone: zone(k as usize),
                        date,
                        person_times: people,
                        items: vec![("电缆吊挂".into(), "m".into(), 50_000)],
                    }),
                ));
            }
        }
    }
    data
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The week results SQLite computed, by (branch, week, zone): score and rank.
type WeekResults = HashMap<(usize, u32, usize), (i64, i64)>;

fn sqlite(data: &Data) -> (Duration, Duration, WeekResults, i64) {
    let db = rusqlite::Connection::open_in_memory().expect("sqlite");
    let started = Instant::now();
    db.execute_batch(
        "CREATE TABLE branch(branch INT PRIMARY KEY, category INT);
         CREATE TABLE sheet(branch INT, patrol INT, week INT, month INT, quarter INT, zone INT,
                            inspector INT, pct INT);
         CREATE TABLE assessment(branch INT, month INT, quarter INT, zone INT, self INT,
                                 final INT);
         CREATE TABLE problem(branch INT, week INT, month INT, quarter INT, open INT);
         CREATE TABLE cleanup(branch INT, week INT, month INT, quarter INT, people INT);",
    )
    .expect("schema");
    let tx = db.unchecked_transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO branch VALUES (?1, ?2)")
            .expect("prepare");
        for b in 0..BRANCHES {
            ins.execute((b as i64, category(b).number()))
                .expect("insert");
        }
        let mut ins = tx
            .prepare("INSERT INTO sheet VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .expect("prepare");
        for &(b, w, z, i, pct) in &data.sheets {
            let d = day(w);
            ins.execute((
                b as i64,
                w,
                d.iso_week().week(),
                d.month(),
                (d.month() - 1) / 3 + 1,
                z as i64,
                i as i64,
                pct,
            ))
            .expect("insert");
        }
        let mut ins = tx
            .prepare("INSERT INTO assessment VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .expect("prepare");
        for &(b, m, z, own, fin) in &data.assessments {
            ins.execute((b as i64, m, (m - 1) / 3 + 1, z as i64, own, fin))
                .expect("insert");
        }
        let mut ins = tx
            .prepare("INSERT INTO problem VALUES (?1, ?2, ?3, ?4, ?5)")
            .expect("prepare");
        for &(b, d, open) in &data.problems {
            ins.execute((
                b as i64,
                d.iso_week().week(),
                d.month(),
                (d.month() - 1) / 3 + 1,
                open,
            ))
            .expect("insert");
        }
        let mut ins = tx
            .prepare("INSERT INTO cleanup VALUES (?1, ?2, ?3, ?4, ?5)")
            .expect("prepare");
        for &(b, d, people) in &data.cleanups {
            ins.execute((
                b as i64,
                d.iso_week().week(),
                d.month(),
                (d.month() - 1) / 3 + 1,
                people as i64,
            ))
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
    db.execute_batch("CREATE INDEX sheet_pz ON sheet(branch, patrol, zone);")
        .expect("index");
    let ingest = started.elapsed();

    let started = Instant::now();
    // Each patrol's zone result: the inspectors' mean, highest and lowest dropped from five.
    db.execute_batch(
        "CREATE TEMP TABLE pz AS
           SELECT branch, patrol, week, month, quarter, zone,
             CASE WHEN COUNT(*) >= 5
               THEN CAST(ROUND((SUM(pct) - MAX(pct) - MIN(pct)) * 1.0 / (COUNT(*) - 2)) AS INT)
               ELSE CAST(ROUND(SUM(pct) * 1.0 / COUNT(*)) AS INT) END AS result,
             COUNT(*) AS sheets
           FROM sheet GROUP BY branch, patrol, zone;
         CREATE TEMP TABLE money AS
           SELECT branch, month, quarter, zone, self, final,
             CASE WHEN final > 9500 THEN (final - 9500) * 10
                  WHEN final < 8500 THEN (final - 8500) * 10 ELSE 0 END AS fen
           FROM assessment;",
    )
    .expect("patrol results");
    let mut weeks: WeekResults = HashMap::new();
    let mut rows = 0usize;
    {
        let mut q = db
            .prepare(
                "SELECT branch, week, zone, score,
                   RANK() OVER (PARTITION BY branch, week ORDER BY score DESC) FROM (
                   SELECT branch, week, zone, CAST(ROUND(AVG(result)) AS INT) AS score
                   FROM pz GROUP BY branch, week, zone)",
            )
            .expect("weeks");
        let mut r = q.query([]).expect("query");
        while let Some(row) = r.next().expect("row") {
            let key: (usize, u32, usize) = (
                row.get::<_, i64>(0).expect("b") as usize,
                row.get(1).expect("w"),
                row.get::<_, i64>(2).expect("z") as usize,
            );
            weeks.insert(key, (row.get(3).expect("s"), row.get(4).expect("r")));
        }
    }
    let mut total_fen = 0i64;
    for sql in [
        // Months: the inspections' mean beside the self and final scores, money and rank.
        "SELECT m.branch, m.month, m.zone, m.self, m.final, m.fen, i.insp,
           RANK() OVER (PARTITION BY m.branch, m.month ORDER BY m.final DESC)
         FROM money m LEFT JOIN (SELECT branch, month, zone, CAST(ROUND(AVG(result)) AS INT) AS insp
                                 FROM pz GROUP BY branch, month, zone) i
           ON i.branch = m.branch AND i.month = m.month AND i.zone = m.zone",
        // Quarters and the year: the mean of the finals, the money summed, ranked.
        "SELECT branch, quarter, zone, s, fen, RANK() OVER (PARTITION BY branch, quarter ORDER BY s DESC)
         FROM (SELECT branch, quarter, zone, CAST(ROUND(AVG(final)) AS INT) AS s, SUM(fen) AS fen
               FROM money GROUP BY branch, quarter, zone)",
        "SELECT branch, zone, s, fen, RANK() OVER (PARTITION BY branch ORDER BY s DESC)
         FROM (SELECT branch, zone, CAST(ROUND(AVG(final)) AS INT) AS s, SUM(fen) AS fen
               FROM money GROUP BY branch, zone)",
        // Branches: the mean of their zones, ranked within their category, for each period.
        "SELECT b.branch, w.week, w.s, RANK() OVER (PARTITION BY b.category, w.week ORDER BY w.s DESC)
         FROM (SELECT branch, week, CAST(ROUND(AVG(score)) AS INT) AS s FROM (
                 SELECT branch, week, zone, CAST(ROUND(AVG(result)) AS INT) AS score
                 FROM pz GROUP BY branch, week, zone) GROUP BY branch, week) w
         JOIN branch b ON b.branch = w.branch",
        "SELECT b.branch, m.month, m.s, RANK() OVER (PARTITION BY b.category, m.month ORDER BY m.s DESC)
         FROM (SELECT branch, month, CAST(ROUND(AVG(final)) AS INT) AS s FROM money
               GROUP BY branch, month) m JOIN branch b ON b.branch = m.branch",
        "SELECT b.branch, q.quarter, q.s, RANK() OVER (PARTITION BY b.category, q.quarter ORDER BY q.s DESC)
         FROM (SELECT branch, quarter, CAST(ROUND(AVG(s)) AS INT) AS s FROM (
                 SELECT branch, quarter, zone, CAST(ROUND(AVG(final)) AS INT) AS s
                 FROM money GROUP BY branch, quarter, zone) GROUP BY branch, quarter) q
         JOIN branch b ON b.branch = q.branch",
        // Problems and cleanups by week, month and quarter.
        "SELECT branch, week, SUM(open), COUNT(*) FROM problem GROUP BY branch, week
         UNION ALL SELECT branch, month, SUM(open), COUNT(*) FROM problem GROUP BY branch, month
         UNION ALL SELECT branch, quarter, SUM(open), COUNT(*) FROM problem GROUP BY branch, quarter",
        "SELECT branch, week, SUM(people), COUNT(*) FROM cleanup GROUP BY branch, week
         UNION ALL SELECT branch, month, SUM(people), COUNT(*) FROM cleanup GROUP BY branch, month
         UNION ALL SELECT branch, quarter, SUM(people), COUNT(*) FROM cleanup GROUP BY branch, quarter",
    ] {
        let mut q = db.prepare(sql).expect("query");
        let columns = q.column_count();
        let mut r = q.query([]).expect("rows");
        while let Some(row) = r.next().expect("row") {
            rows += 1;
            if columns == 8 {
                total_fen += row.get::<_, i64>(5).expect("fen");
            }
        }
    }
    let aggregate = started.elapsed();
    assert!(rows > 0);
    (ingest, aggregate, weeks, total_fen)
}

fn sheet_doc(id: &DocId, deductions: i64) -> AutoCommit {
    let mut doc = docs::genesis::<Sheet>(id).expect("genesis");
    doc.set_actor(automerge::ActorId::from([7u8; 16]));
    let mut sheet: Sheet = docs::read(&doc, id).expect("read");
    for z in 0..ZONES {
        let mut zs = ZoneSheet {
            template: "t1".into(),
            ..Default::default()
        };
        let mut entry = ItemEntry::default();
        entry
            .deductions
            .insert("r1".into(), Tally::new(deductions + (z % 3) as i64));
        zs.items.insert("i2".into(), entry);
        sheet.zones.insert(zone(z), zs);
    }
    docs::write(&mut doc, &sheet).expect("write");
    doc.commit();
    doc
}

fn main() {
    println!(
        "generating {BRANCHES} branches × {ZONES} zones, {WEEKS} weekly patrols × {INSPECTORS} inspectors, 12 months of assessments…"
    );
    let data = generate();
    println!(
        "  {} documents' facts; {} inspector × zone scores; {} assessments; {} problems; {} cleanups",
        data.facts.len(),
        data.sheets.len(),
        data.assessments.len(),
        data.problems.len(),
        data.cleanups.len()
    );
    let rss_before = rss_mib();
    let now = chrono::Utc::now().timestamp_millis();
    let today = NaiveDate::from_ymd_opt(YEAR, 12, 31).expect("day");

    // Full recompute, ours.
    let started = Instant::now();
    let mut c = Consolidator::new(Default::default(), Default::default());
    for (id, facts) in data.facts.iter().cloned() {
        c.apply(&id, facts);
    }
    let ingest = started.elapsed();
    let started = Instant::now();
    let changed = c.compute_all(today, now);
    let aggregate = started.elapsed();
    let rss_after = rss_mib();
    println!(
        "full recompute (ours):   take in facts {}, compute {} reports {}, total {}; memory +{:.0} MiB",
        ms(ingest),
        changed.len(),
        ms(aggregate),
        ms(ingest + aggregate),
        rss_after - rss_before
    );

    // Full recompute, SQLite.
    let (sql_ingest, sql_aggregate, weeks, sql_fen) = sqlite(&data);
    println!(
        "full recompute (SQLite): insert rows {}, aggregate {}, total {}",
        ms(sql_ingest),
        ms(sql_aggregate),
        ms(sql_ingest + sql_aggregate)
    );
    println!(
        "  ours / SQLite: aggregation {:.2}×, total {:.2}×",
        aggregate.as_secs_f64() / sql_aggregate.as_secs_f64(),
        (ingest + aggregate).as_secs_f64() / (sql_ingest + sql_aggregate).as_secs_f64()
    );

    // The two agree: every zone's weekly score and rank, and the year's money.
    let mut checked = 0;
    for b in 0..BRANCHES {
        for w in 1..=WEEKS {
            let period = Period::containing(PeriodKind::Week, day(w));
            let report = c.current(&branch(b), period).expect("a week report");
            for z in 0..ZONES {
                let ours = &report.zones[&zone(z)];
                let theirs = weeks[&(b, w, z)];
                assert_eq!(
                    (ours.score.map(|p| p.0), ours.rank as i64),
                    (Some(theirs.0), theirs.1),
                    "branch {b} week {w} zone {z}"
                );
                checked += 1;
            }
        }
    }
    let our_fen: i64 = (0..BRANCHES)
        .map(|b| {
            c.current(&branch(b), Period::Year { year: YEAR })
                .expect("year report")
                .zones
                .values()
                .map(|z| z.money_fen)
                .sum::<i64>()
        })
        .sum();
    assert_eq!(our_fen, sql_fen, "the year's money");
    println!(
        "  checked: {checked} weekly zone results and ranks, and the year's money ({} yuan), agree",
        our_fen / 100
    );

    // One sheet arrives: a real document, its facts replaced, its reports computed again.
    let id = DocId::Sheet {
        branch: branch(7),
        patrol: patrol(30),
        inspector: "i2".into(),
    };
    let docs = [sheet_doc(&id, 1), sheet_doc(&id, 3)];
    let mut times = Vec::new();
    let mut touched = 0;
    for run in 0..RUNS {
        let doc = &docs[run % 2];
        let started = Instant::now();
        let facts = c.facts(&id, doc);
        let dirty = c.apply(&id, facts);
        let changed = c.compute(dirty, today, now);
        times.push(started.elapsed());
        touched = touched.max(changed.len());
    }
    let incremental = median(times);
    let mut reading = Vec::new();
    for run in 0..RUNS {
        let started = Instant::now();
        let facts = c.facts(&id, &docs[run % 2]);
        reading.push(started.elapsed());
        assert!(matches!(facts, Facts::Sheet(_)));
    }
    println!(
        "incremental update, one sheet of {ZONES} zones: {} (median of {RUNS}; up to {touched} reports changed)",
        ms(incremental)
    );
    println!(
        "  of which reading the sheet document (its marks, scored on 50 zones): {}",
        ms(median(reading))
    );

    // Writing the changed reports to a real sled store, on top of the stored documents.
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(&dir.path().join("store")).expect("sled");
    let mut report_docs = zonepatrol_server::reports::ReportDocs::default();
    let week = Period::containing(PeriodKind::Week, day(30));
    let keys: Vec<(String, Period)> = (0..BRANCHES)
        .filter(|b| category(*b) == category(7))
        .flat_map(|b| {
            [
                week,
                Period::containing(PeriodKind::Month, day(30)),
                Period::containing(PeriodKind::Quarter, day(30)),
                Period::Year { year: YEAR },
            ]
            .map(|p| (branch(b), p))
        })
        .collect();
    for (b, p) in &keys {
        if let Some(r) = c.current(b, *p) {
            report_docs.write(&store, r, now).expect("write");
        }
    }
    let mut times = Vec::new();
    for run in 0..RUNS {
        let doc = &docs[run % 2];
        let started = Instant::now();
        let facts = c.facts(&id, doc);
        let dirty = c.apply(&id, facts);
        let changed = c.compute(dirty, today, now);
        for (b, p) in &changed {
            let r = c.current(b, *p).expect("report");
            report_docs.write(&store, r, now).expect("write");
        }
        times.push(started.elapsed());
    }
    println!(
        "  with the changed report documents written to sled: {} (median of {RUNS})",
        ms(median(times))
    );

    // The overview page, rendered from the consolidated results.
    let viewer = Viewer::new(Actor::new("mgr", Role::Manager, "hq"), Lang::Zh);
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let page = overview_page(
            &c,
            &viewer,
            OverviewQuery {
                branch: Some(branch(7)),
                week: Some(week.to_string()),
                month: Some(format!("{YEAR}-07")),
                tenday: None,
            },
            now,
            &[],
        );
        times.push(started.elapsed());
        assert_eq!(page.status(), 200);
    }
    println!(
        "overview page (company of {BRANCHES} branches, one branch's week and month): {} (median of {RUNS})",
        ms(median(times))
    );
}

/// The ten default items coming to `total` hundredths of a point.
fn items(total: i64) -> BTreeMap<String, Points> {
    let form = zonepatrol_shared::rules::AssessmentForm::default();
    let each = total / 10;
    form.items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let extra = if n == 0 { total - each * 10 } else { 0 };
            (i.key.clone(), Points(each + extra))
        })
        .collect()
}
