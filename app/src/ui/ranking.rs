//! The branch's current ranking and points, from the server's report documents; readable
//! offline once synced.

use chrono::TimeZone;
use dioxus::prelude::*;
use zonepatrol_shared::Points;
use zonepatrol_shared::points::Fen;

use crate::i18n::{self, Lang, T, tr};
use crate::records::ranking::{
    Ranking, Standing, ZoneTrend, branches, chosen_branch, rankings, standing, zone_trend,
};
use crate::store::Session;
use crate::ui::pick::Pick;
use crate::ui::{Screen, Ui};

fn updated(tz: chrono_tz::Tz, at: Option<i64>) -> Option<String> {
    let at = tz.timestamp_millis_opt(at?).single()?;
    Some(at.format("%m-%d %H:%M").to_string())
}

/// The branch at a glance: its place in its category, its open and overdue problems, and the
/// user's own money in the latest month.
#[component]
fn StandingCard(lang: Lang, standing: Standing) -> Element {
    let b = &standing.branch;
    let place = standing.period.filter(|_| b.rank > 0).map(|p| {
        let category = standing
            .category
            .map(|c| format!("{} · ", i18n::category(lang, c)))
            .unwrap_or_default();
        let grade = b
            .grade()
            .map(|g| format!(" · {}", i18n::grade(lang, g)))
            .unwrap_or_default();
        format!(
            "{} · {category}{} {}/{}{grade}",
            i18n::period(lang, p),
            tr(lang, T::PlaceInCategory),
            b.rank,
            b.of
        )
    });
    let late = standing.overdue_problems > 0;
    rsx! {
        div { class: "standing", "data-testid": "standing",
            if let Some(place) = place {
                p { "data-testid": "place", "{place}" }
            }
            p { "data-testid": "branch-problems", class: if late { "warn" } else { "" },
                "{tr(lang, T::BranchProblems)} {standing.open_problems} · {tr(lang, T::Overdue)} {standing.overdue_problems}"
            }
            if let Some((month, fen)) = standing.my_money {
                p { "data-testid": "my-money",
                    "{i18n::period(lang, month)} {tr(lang, T::MyMoney)} {Fen(fen)}"
                }
            }
        }
    }
}

/// Rankings of a branch: the branch at a glance, then the latest week, supervised ten-day
/// period, month, quarter and year on the phone; a zone opens its months.
#[component]
pub fn Rankings(
    lang: Lang,
    branches: Vec<(String, String)>,
    branch: String,
    rankings: Vec<Ranking>,
    on_branch: EventHandler<String>,
    on_back: EventHandler<()>,
    /// The branch at a glance.
    #[props(default)]
    standing: Standing,
    /// A zone was tapped: open its months.
    #[props(default)]
    on_zone: EventHandler<String>,
    /// The mine's time zone, for when each ranking was updated.
    #[props(default = chrono_tz::Asia::Shanghai)]
    tz: chrono_tz::Tz,
) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Home)}" }
        h1 { {tr(lang, T::Rankings)} }
        if branches.len() > 1 {
            div { class: "choices",
                for (id, name) in branches {
                    Pick { key: "{id}", id: id.clone(), class: "choice", testid: "branch-{id}",
                        pressed: id == branch, on_pick: on_branch,
                        "{name}"
                    }
                }
            }
        }
        if rankings.is_empty() {
            p { class: "dim", {tr(lang, T::NoReports)} }
        } else {
            StandingCard { lang, standing }
            p { class: "dim", {tr(lang, T::TapZoneForTrend)} }
        }
        for r in rankings {
            div { key: "{r.period}", class: "item", "data-testid": "ranking-{r.period}",
                h2 { {i18n::period(lang, r.period)} }
                p { class: "dim",
                    "{tr(lang, T::OpenProblems)} {r.open_problems} · {tr(lang, T::Overdue)} {r.overdue_problems}"
                    if let Some(at) = updated(tz, r.updated_at) {
                        " · {tr(lang, T::UpdatedAt)} {at}"
                    }
                }
                if let Some(score) = r.branch.score {
                    p { "data-testid": "branch-result",
                        "{tr(lang, T::BranchResult)} {score}"
                        if let Some(grade) = r.branch.grade() {
                            " · {i18n::grade(lang, grade)}"
                        }
                        if r.branch.rank > 0 {
                            " · {tr(lang, T::Rank)} {r.branch.rank}/{r.branch.of}"
                        }
                        if r.published {
                            " · {tr(lang, T::Final)}"
                        }
                    }
                }
                table { class: "ranking",
                    thead { tr {
                        th { {tr(lang, T::Rank)} }
                        th { {tr(lang, T::Zones)} }
                        th { {tr(lang, T::Score)} }
                        th { {tr(lang, T::Money)} }
                    } }
                    tbody {
                        for row in r.rows {
                            tr { key: "{row.zone}",
                                td { if row.rank > 0 { "{row.rank}" } else { "–" } }
                                td {
                                    button { class: "zone-link", "data-testid": "trend-{row.zone}",
                                        onclick: {
                                            let zone = row.zone.clone();
                                            move |_| on_zone.call(zone.clone())
                                        },
                                        "{row.name}"
                                    }
                                    if row.praised { span { class: "badge good", {tr(lang, T::Praised)} } }
                                    if row.named { span { class: "badge bad", {tr(lang, T::Named)} } }
                                }
                                td { {row.score.map(|p| p.to_string()).unwrap_or_else(|| "–".to_owned())} }
                                td { if row.money_fen != 0 { {Fen(row.money_fen).to_string()} } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The rankings page of a branch: the one chosen, else the user's own.
#[component]
pub(crate) fn RankingsPage(session: Session, branch: Option<String>) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let repo = ui.repo();
    let branches = branches(&repo).unwrap_or_default();
    let branch = chosen_branch(branch, &session.user.branch, &branches);
    let rankings = rankings(&repo, &branch).unwrap_or_default();
    let today = crate::records::today(&repo.clock());
    let standing = standing(&repo, &branch, &session.user.user, today).unwrap_or_default();
    let of = branch.clone();
    rsx! {
        Rankings {
            tz: repo.clock().tz,
            lang,
            branches,
            branch,
            rankings,
            standing,
            on_branch: move |b| ui.go(Screen::Rankings(Some(b))),
            on_zone: move |zone| ui.go(Screen::ZoneTrend { branch: of.clone(), zone }),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}

/// A zone month by month: its final score with a bar, the change from the month before, its
/// place in the branch, its inspections and its money.
#[component]
pub fn ZoneMonths(lang: Lang, trend: ZoneTrend, on_back: EventHandler<()>) -> Element {
    rsx! {
        button { class: "back", onclick: move |_| on_back.call(()), "‹ {tr(lang, T::Rankings)}" }
        h1 { "{trend.name}" }
        h2 { {tr(lang, T::ZoneTrend)} }
        if trend.months.is_empty() {
            p { class: "dim", {tr(lang, T::NoMonths)} }
        }
        table { class: "ranking", "data-testid": "zone-months",
            thead { tr {
                th { {tr(lang, T::MonthColumn)} }
                th { {tr(lang, T::Score)} }
                th { {tr(lang, T::ChangeFromBefore)} }
                th { {tr(lang, T::Rank)} }
                th { {tr(lang, T::Money)} }
            } }
            tbody {
                for m in trend.months {
                    tr { key: "{m.month}", "data-testid": "month-{m.month}",
                        td { {i18n::period(lang, m.month)}
                            if m.open_problems > 0 {
                                div { class: if m.overdue_problems > 0 { "warn" } else { "dim" },
                                    "{tr(lang, T::OpenProblems)} {m.open_problems} · {tr(lang, T::Overdue)} {m.overdue_problems}"
                                }
                            }
                        }
                        td {
                            {m.score.map(|p| p.to_string()).unwrap_or_else(|| "–".to_owned())}
                            if let Some(score) = m.score {
                                div { class: "bar", style: "width: {bar(score)}%" }
                            }
                            if let Some(i) = m.inspection {
                                div { class: "dim", "{tr(lang, T::InspectionShort)} {i}" }
                            }
                        }
                        td {
                            match m.change {
                                Some(c) if c > Points::ZERO => rsx! { span { class: "up", "+{c}" } },
                                Some(c) if c < Points::ZERO => rsx! { span { class: "down", "{c}" } },
                                Some(_) => rsx! { "0" },
                                None => rsx! { "–" },
                            }
                        }
                        td { if m.rank > 0 { "{m.rank}/{m.of}" } else { "–" } }
                        td { if m.money_fen != 0 { {Fen(m.money_fen).to_string()} } }
                    }
                }
            }
        }
    }
}

/// A score as a bar's width in percent, 0–100.
fn bar(score: Points) -> i64 {
    (score.0 / 100).clamp(0, 100)
}

/// A zone's months, read from the reports on the phone.
#[component]
pub(crate) fn ZoneMonthsPage(branch: String, zone: String) -> Element {
    let ui = use_context::<Ui>();
    let _ = (ui.revision)();
    let lang = (ui.lang)();
    let trend = zone_trend(&ui.repo(), &branch, &zone).unwrap_or_else(|_| ZoneTrend {
        name: zone.clone(),
        months: Vec::new(),
    });
    rsx! {
        ZoneMonths { lang, trend, on_back: move |_| ui.go(Screen::Rankings(Some(branch.clone()))) }
    }
}
