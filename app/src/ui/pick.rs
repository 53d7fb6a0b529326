//! A button that hands over an id when tapped: a row of a list that opens what it names, or
//! one of a set of choices (with `aria-pressed` saying whether it is chosen).

use std::collections::BTreeSet;

use dioxus::prelude::*;

/// A button for `id`; what it shows is its children. `pressed` is left out for a row of a
/// list and given for a choice.
#[component]
pub fn Pick(
    id: String,
    #[props(into)] class: String,
    testid: String,
    #[props(default)] pressed: Option<bool>,
    on_pick: EventHandler<String>,
    children: Element,
) -> Element {
    rsx! {
        button { class: "{class}", "aria-pressed": pressed.map(|p| p.to_string()),
            "data-testid": "{testid}",
            onclick: move |_| on_pick.call(id.clone()),
            {children}
        }
    }
}

/// Chooses an id of a set of choices, or takes it out when it was chosen.
pub fn toggle(set: &mut BTreeSet<String>, id: String) {
    if !set.remove(&id) {
        set.insert(id);
    }
}
