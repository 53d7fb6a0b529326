//! The cadence over real HTTP: what is due shows on each person's phone from the documents it
//! holds, offline, and goes once done; the dashboard lists what each branch has still to do.

use chrono::Days;
use zonepatrol_app::records::cadence::due_for;
use zonepatrol_shared::docs::{Day, FreeText, Problem};
use zonepatrol_shared::rules::cadence::{Due, months_due};
use zonepatrol_shared::rules::period::{Period, PeriodKind};
use zonepatrol_shared::{Actor, PatrolKind, Role};

use crate::dashboard::Browser;
use crate::supervision::plan;
use crate::support::{Device, TestServer, id, today};

fn raise(device: &Device, name: &str, deadline: chrono::NaiveDate) {
    device
        .repo
        .edit::<Problem, _>(&id(&format!("problem:zcyd:{name}")), |p| {
            p.finding.zone = "z2".into();
            p.finding.raised_by = "sec".into();
            p.finding.raised_at = zonepatrol_app::store::now_millis();
            p.finding.description = FreeText::from("电缆吊挂不规范");
            p.finding.responsible = "h2".into();
            p.finding.measure = FreeText::from("按标准重新吊挂");
            p.finding.deadline = Some(Day(deadline));
        })
        .expect("raised");
}

/// What the phone shows as due for `me` today, as home reads it.
fn owed_by(device: &Device, me: &Actor) -> Vec<Due> {
    let day = today();
    let problems =
        zonepatrol_app::records::problem::my_problems(&device.repo, me, day).expect("problems");
    due_for(&device.repo, me, day, &problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_due_shows_on_the_phone_offline_and_on_the_dashboard_until_done() {
    let server = TestServer::start().await;
    let url = &server.url;
    let sec = Device::new(url, "sec").await;
    let h2 = Device::new(url, "h2").await;
    let (me_sec, me_h2) = (
        Actor::new("sec", Role::Secretary, "zcyd"),
        Actor::new("h2", Role::ZoneHolder, "zcyd"),
    );
    sec.sync().await;
    let day = today();
    let week = Period::containing(PeriodKind::Week, day);
    let ten_day = Period::containing(PeriodKind::TenDay, day);

    // Nothing walked yet: the secretary owes this week's inspection and this ten-day period's
    // supervision; at month end (or in the next month's first days) every zone's assessment.
    let owed = owed_by(&sec, &me_sec);
    assert!(owed.contains(&Due::WeeklyInspection {
        week,
        by: week.last_day()
    }));
    assert!(owed.contains(&Due::TenDaySupervision {
        period: ten_day,
        by: ten_day.last_day()
    }));
    for month in months_due(day) {
        assert!(owed.contains(&Due::SelfCheck {
            month,
            by: month.last_day()
        }));
        assert!(
            owed.contains(&Due::Assessments {
                month,
                by: month.last_day(),
                left: 4
            }),
            "the demo branch's four zones: {owed:?}"
        );
    }

    // Two problems for h2: one past its deadline, one due tomorrow.
    let yesterday = day - Days::new(1);
    let tomorrow = day + Days::new(1);
    raise(&sec, "late", yesterday);
    raise(&sec, "soon", tomorrow);
    sec.sync().await;
    assert!(sec.repo.quarantine().expect("quarantine").is_empty());
    h2.sync().await;
    // On h2's phone, offline: the problems, and the self-score of the zone h2 holds.
    let mine = owed_by(&h2, &me_h2);
    assert!(
        mine.contains(&Due::ProblemsOverdue { count: 1 }),
        "{mine:?}"
    );
    assert!(mine.contains(&Due::ProblemsSoon {
        count: 1,
        by: tomorrow
    }));
    assert!(
        !mine
            .iter()
            .any(|d| matches!(d, Due::WeeklyInspection { .. } | Due::Assessments { .. })),
        "a holder leads no walk and assesses nobody: {mine:?}"
    );
    for month in months_due(day) {
        assert!(mine.contains(&Due::SelfScores {
            month,
            by: month.last_day(),
            left: 1
        }));
    }

    // The secretary walks: both go from the list once the walks are closed.
    plan(&sec, "w-due", PatrolKind::Weekly, &["sec"]);
    plan(&sec, "t-due", PatrolKind::TenDay, &["sec"]);
    plan(&sec, "s-due", PatrolKind::MonthlySelfCheck, &["sec"]);
    for walk in ["w-due", "t-due", "s-due"] {
        zonepatrol_app::records::patrol::close_patrol(&sec.repo, &me_sec, walk).expect("closed");
    }
    let owed = owed_by(&sec, &me_sec);
    assert!(
        !owed.iter().any(|d| matches!(
            d,
            Due::WeeklyInspection { .. } | Due::TenDaySupervision { .. }
        ) || matches!(d, Due::SelfCheck { month, .. } if month.contains(day))),
        "done offline, before any sync: {owed:?}"
    );
    // Last month's self-check, asked for in this month's first days, is not done by a walk
    // today.
    for month in months_due(day).into_iter().filter(|m| !m.contains(day)) {
        assert!(owed.contains(&Due::SelfCheck {
            month,
            by: month.last_day()
        }));
    }
    sec.sync().await;

    // The dashboard: the branch walked this week and this ten-day period, the other did not;
    // the overdue problem shows against the branch.
    let pw = zonepatrol_server::seed::DEMO_PASSWORD;
    let mgr = Browser::sign_in(url, "mgr", pw).await.expect("manager");
    let page = mgr.page("/dash?branch=zcyd").await;
    let section = page.split("id=\"due\"").nth(1).expect("the due section");
    let row = |b: &str| {
        section
            .split(&format!("data-branch=\"{b}\""))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_else(|| panic!("{b}'s row"))
            .to_owned()
    };
    let zcyd = row("zcyd");
    assert_eq!(zcyd.matches("已完成").count(), 2, "{zcyd}");
    assert!(zcyd.contains("1项问题已超期"), "{zcyd}");
    let jdyd = row("jdyd");
    assert_eq!(jdyd.matches("未完成").count(), 2, "{jdyd}");
    server.stop().await;
}
