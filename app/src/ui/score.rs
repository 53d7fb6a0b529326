//! Scoring one zone: every item of its checklist with its deductions, a tap to deduct, a tap
//! to take one back, N/A, and the running total always on screen.

use dioxus::prelude::*;
use zonepatrol_shared::rules::scoring::ItemScore;

use crate::i18n::{Lang, T, tr};
use crate::walk::{Mark, ZoneView};

/// The score screen of a zone. Every tap is sent as a [`Mark`]; the caller saves it.
#[component]
pub fn ScoreZone(
    lang: Lang,
    zone_name: String,
    view: ZoneView,
    on_mark: EventHandler<Mark>,
) -> Element {
    let total = view.score.total;
    let max = view.score.max;
    rsx! {
        h1 { "{zone_name}" }
        for item in view.items.iter().cloned() {
            div {
                key: "{item.id}",
                class: if item.not_applicable { "item na" } else { "item" },
                "data-testid": "item-{item.id}",
                div { class: "item-head",
                    span { "{item.text}" }
                    span { class: "item-score",
                        match item.score {
                            ItemScore::Scored(s) => rsx! { "{s}/{item.max}" },
                            ItemScore::NotApplicable => rsx! { {tr(lang, T::NotApplicable)} },
                        }
                    }
                }
                if !item.not_applicable {
                    for rule in item.rules.iter().cloned() {
                        div { class: "rule", key: "{rule.id}",
                            span { class: "rule-text", "{rule.text} −{rule.points}" }
                            button {
                                "aria-label": "−1",
                                "data-testid": "undo-{item.id}-{rule.id}",
                                disabled: rule.count == 0,
                                onclick: {
                                    let (item, rule) = (item.id.clone(), rule.id.clone());
                                    move |_| on_mark.call(Mark::Undo { item: item.clone(), rule: rule.clone() })
                                },
                                "−"
                            }
                            span { class: "count", "{rule.count}" }
                            button {
                                "aria-label": "+1",
                                "data-testid": "deduct-{item.id}-{rule.id}",
                                onclick: {
                                    let (item, rule) = (item.id.clone(), rule.id.clone());
                                    move |_| on_mark.call(Mark::Deduct { item: item.clone(), rule: rule.clone() })
                                },
                                "+"
                            }
                        }
                    }
                }
                button {
                    "data-testid": "na-{item.id}",
                    "aria-pressed": "{item.not_applicable}",
                    onclick: {
                        let (id, on) = (item.id.clone(), !item.not_applicable);
                        move |_| on_mark.call(Mark::NotApplicable { item: id.clone(), on })
                    },
                    {tr(lang, T::NotApplicable)}
                }
            }
        }
        div { class: "total", role: "status", "data-testid": "running-total",
            span { {tr(lang, T::RunningTotal)} }
            span { strong { "{total}" } " / {max}" }
        }
    }
}
