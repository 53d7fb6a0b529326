//! The branch's current ranking and points, from the server's report documents; readable
//! offline once synced.

use chrono::TimeZone;
use dioxus::prelude::*;
use zonepatrol_shared::points::Fen;

use crate::i18n::{self, Lang, T, tr};
use crate::records::ranking::{Ranking, branches, chosen_branch, rankings};
use crate::store::Session;
use crate::ui::pick::Pick;
use crate::ui::{Screen, Ui};

fn updated(tz: chrono_tz::Tz, at: Option<i64>) -> Option<String> {
    let at = tz.timestamp_millis_opt(at?).single()?;
    Some(at.format("%m-%d %H:%M").to_string())
}

/// Rankings of a branch: the latest week, supervised ten-day period, month and quarter on the
/// phone.
#[component]
pub fn Rankings(
    lang: Lang,
    branches: Vec<(String, String)>,
    branch: String,
    rankings: Vec<Ranking>,
    on_branch: EventHandler<String>,
    on_back: EventHandler<()>,
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
                                td { "{row.name}"
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
    rsx! {
        Rankings {
            tz: repo.clock().tz,
            lang,
            branches,
            branch,
            rankings,
            on_branch: move |b| ui.go(Screen::Rankings(Some(b))),
            on_back: move |_| ui.go(Screen::Home),
        }
    }
}
