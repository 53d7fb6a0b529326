//! Consolidation: after devices sync a week and a month, the server's reports reach the
//! secretary's phone with the ranking, the notice, the money and the branch's grade.

use zonepatrol_shared::Points;
use zonepatrol_shared::docs::{DocId, Report};

use crate::scenario::{self, BRANCH_MONTH, MONTH, WEEK};
use crate::support::{Device, TestServer};

fn points(s: &str) -> Option<Points> {
    Some(s.parse().expect("points"))
}

fn report(device: &Device, period: zonepatrol_shared::rules::Period) -> Report {
    let id = DocId::Report {
        branch: "zcyd".into(),
        period,
    };
    device
        .repo
        .read::<Report>(&id)
        .expect("read")
        .unwrap_or_else(|| panic!("{id} has not reached the device"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_the_secretary_with_ranking_notice_and_money() {
    let server = TestServer::start().await;
    scenario::enter(&server.url).await;
    let sec = Device::new(&server.url, "sec").await;
    sec.sync().await;
    scenario_figures(&sec);
    server.stop().await;
}

/// The scenario's figures, worked out by hand in `scenario`, as the secretary's phone holds
/// them.
pub fn scenario_figures(sec: &Device) {
    let (week, month) = scenario::week_and_month();
    let weekly = report(sec, week);
    for (zone, score, rank) in WEEK {
        let z = &weekly.zones[zone];
        assert_eq!(
            (z.score, z.rank),
            (points(score), rank),
            "{zone} in the week"
        );
        assert_eq!(z.sheets, 5, "{zone}: five inspectors' sheets");
    }
    assert!(weekly.zones["z1"].praised && !weekly.zones["z1"].named);
    assert!(weekly.zones["z4"].named && !weekly.zones["z4"].praised);
    assert!(!weekly.zones["z2"].praised && !weekly.zones["z2"].named);
    assert_eq!(
        (weekly.open_problems, weekly.zones["z2"].open_problems),
        (1, 1)
    );
    assert_eq!(weekly.cleanups.person_times, 6);
    assert_eq!(weekly.cleanups.quantities["m|电缆重新吊挂"].milli, 120_000);

    let monthly = report(sec, month);
    for (zone, own, fin, rank, fen) in MONTH {
        let z = &monthly.zones[zone];
        assert_eq!(
            (z.self_score, z.score, z.rank, z.money_fen),
            (points(own), points(fin), rank, fen),
            "{zone} in the month"
        );
    }
    assert_eq!(monthly.branch.score, points(BRANCH_MONTH));
    assert_eq!(monthly.branch.grade, "pass");
    assert_eq!(
        (
            monthly.branch.rank,
            monthly.branch.of,
            monthly.branch.category
        ),
        (1, 1, 1)
    );
    assert_eq!(monthly.zones["z1"].inspection, points("99.67"));

    // The phone's ranking screen reads them: the week's order and notice, the branch's grade.
    let rankings = zonepatrol_app::records::ranking::rankings(&sec.repo, "zcyd").expect("rankings");
    let week_rows = &rankings
        .iter()
        .find(|r| r.period == week)
        .expect("the week")
        .rows;
    let order: Vec<(&str, bool, bool)> = week_rows
        .iter()
        .map(|r| (r.zone.as_str(), r.praised, r.named))
        .collect();
    assert_eq!(
        order,
        vec![
            ("z1", true, false),
            ("z3", false, false),
            ("z2", false, false),
            ("z4", false, true)
        ]
    );
    let month_ranking = rankings
        .iter()
        .find(|r| r.period == month)
        .expect("the month");
    assert_eq!(month_ranking.branch.grade, "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_recomputes_the_same_reports() {
    let server = TestServer::start().await;
    scenario::enter(&server.url).await;
    let (_, month) = scenario::week_and_month();
    let data = server.data.clone();
    let before = Device::new(&server.url, "sec").await;
    before.sync().await;
    let first = report(&before, month);
    let _kept = server.stop_keeping_data().await;
    use zonepatrol_server::{Settings, State, reports};
    // The same data directory, opened again: the results come from the facts kept beside
    // the documents. Every document has them: those the server seeded got theirs at the first
    // start, and every write since (pushes, reports) kept its own in its batch.
    let state = State::open(Settings::new(&data)).expect("reopen");
    let kept = reports::load(&state, false).expect("load");
    assert!(kept.documents > 10, "{kept:?}");
    assert_eq!(kept.read_whole, 0, "every document's facts were kept");
    assert_eq!(
        kept.written, 0,
        "nothing changed, so no report is written again"
    );
    let again = reports::current(&state, &("zcyd".into(), month)).expect("the month's report");
    assert_eq!(again, first);
    let from_facts = reports::all_current(&state);
    assert!(from_facts.len() >= 2, "{}", from_facts.len());
    // A rebuild from every document's history gives the same reports.
    drop(state);
    let state = State::open(Settings::new(&data)).expect("reopen");
    let rebuilt = reports::load(&state, true).expect("rebuild");
    assert_eq!(rebuilt.read_whole, rebuilt.documents, "{rebuilt:?}");
    assert_eq!(rebuilt.written, 0);
    assert_eq!(reports::all_current(&state), from_facts);
    // A damaged record: that document alone is read again.
    let (id, _) = state.store.facts_records().expect("records")[0].clone();
    state
        .store
        .put_facts(&id, Some(b"\x01 not facts"))
        .expect("damaged");
    state.store.flush().expect("flushed");
    drop(state);
    let state = State::open(Settings::new(&data)).expect("reopen");
    let mended = reports::load(&state, false).expect("load");
    assert_eq!(mended.read_whole, 1, "{mended:?}");
    assert_eq!(reports::all_current(&state), from_facts);
    drop(state);
    // Other settings (another time zone): every document is read again, once.
    let mut other = Settings::new(&data);
    other.clock = zonepatrol_shared::rules::MineClock {
        tz: chrono_tz::Asia::Urumqi,
    };
    let state = State::open(other.clone()).expect("reopen");
    let moved = reports::load(&state, false).expect("load");
    assert_eq!(moved.read_whole, moved.documents, "{moved:?}");
    drop(state);
    let state = State::open(other).expect("reopen");
    assert_eq!(reports::load(&state, false).expect("load").read_whole, 0);
}
