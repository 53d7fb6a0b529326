//! The zone form (`/admin/branch/{branch}/zone/{zone}`, `new` for a new one): name,
//! location, responsible members, teams, checklist template, in use or retired.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, Path, State as Shared};
use axum::response::Response;
use maud::html;

use super::branch::{check_branch, no_branch};
use super::{Fields, frame, run, show};
use crate::State;
use crate::admin::AdminError;
use crate::admin::directory::{self, ZoneInput, current_templates};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, zone)): Path<(String, String)>,
) -> Response {
    show(state, viewer, move |state, viewer| {
        check_branch(viewer, &branch)?;
        let lang = viewer.lang;
        let dir = directory::directory(state, &branch)?.ok_or_else(|| no_branch(&branch))?;
        let existing = if zone == "new" {
            None
        } else {
            Some(dir.zones.get(&zone).ok_or_else(|| {
                AdminError::invalid("本支部没有这个责任区。", "The branch has no such zone.")
            })?)
        };
        let z = existing.cloned().unwrap_or_else(|| zonepatrol_shared::docs::Zone {
            active: true,
            ..Default::default()
        });
        let mut templates = current_templates(&dir);
        if let Some(t) = dir.templates.get_key_value(&z.template)
            && !templates.iter().any(|(id, _)| *id == t.0)
        {
            templates.push(t);
        }
        let teams = z.teams.keys().cloned().collect::<Vec<_>>().join("，");
        let body = html! {
            section {
                form method="post" action=(link(&format!("/admin/branch/{branch}/zone/{zone}"))) #zone-form {
                    p { label { (l(lang, "名称", "Name")) " " input name="name" required maxlength="100" value=(z.name); } }
                    p { label { (l(lang, "位置（水平、巷道、里程）", "Location (level, roadway, chainage)")) " " input name="location" maxlength="100" size="40" value=(z.location); } }
                    fieldset #holders {
                        legend { (l(lang, "责任人及奖罚份额", "Responsible members and their share of the money")) }
                        @if dir.members.is_empty() { p.muted { (l(lang, "先在支部页面添加成员。", "Add members on the branch page first.")) } }
                        @for (id, m) in &dir.members {
                            p data-member=(id) {
                                label { input type="checkbox" name="holder" value=(id) checked[z.holders.contains_key(id)]; " " (m.name) } " "
                                label { (l(lang, "份额", "share")) " "
                                    input type="number" name=(format!("share-{id}")) min="0" max="100" step="1" inputmode="numeric" size="4"
                                        placeholder=(l(lang, "平分", "equal")) value=[z.shares.get(id)];
                                    " %" }
                            }
                        }
                        p.muted { (l(lang, "份额留空即由责任人平分奖罚；填写时每位责任人都要填，合计 100%。",
                            "Leave the shares empty to split the money equally; to set them, give every holder one, 100% in all.")) }
                    }
                    p { label { (l(lang, "覆盖班组（用逗号分开）", "Teams covered (comma-separated)")) " " input name="teams" maxlength="400" size="40" value=(teams); } }
                    p { label { (l(lang, "检查标准", "Checklist template")) " "
                        select name="template" {
                            option value="" { "—" }
                            @for (id, t) in &templates {
                                option value=(id) selected[z.template == **id] { (t.name) }
                            }
                        }
                    } }
                    p { label { input type="checkbox" name="active" checked[z.active]; " " (l(lang, "在用（不勾选即停用，历史保留）", "In use (untick to retire; history is kept)")) } }
                    div.actions {
                        button.primary type="submit" { (l(lang, "保存", "Save")) }
                        a href=(link(&format!("/admin/branch/{branch}"))) { (l(lang, "返回支部", "Back to the branch")) }
                        @if existing.is_some() {
                            a href=(link(&format!("/dash/placard/{branch}/{zone}"))) download { (l(lang, "下载责任牌", "Download the placard")) }
                        }
                    }
                }
            }
        };
        let title = if existing.is_some() {
            format!("{} · {}", z.name, l(lang, "责任区", "Zone"))
        } else {
            l(lang, "新建责任区", "New zone").to_owned()
        };
        Ok(frame(viewer, &title, body))
    })
    .await
}

pub(super) async fn save(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path((branch, zone)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/branch/{branch}/zone/{zone}");
    run(state, viewer.lang, back, move |state| {
        let holders: Vec<String> = f.all("holder").into_iter().map(str::to_owned).collect();
        let mut shares = std::collections::BTreeMap::new();
        for h in &holders {
            let typed = f.get(&format!("share-{h}")).trim();
            if typed.is_empty() {
                continue;
            }
            let share = typed
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= 100)
                .ok_or_else(|| {
                    AdminError::invalid(
                        format!("份额“{typed}”应为 0 到 100 的整数。"),
                        format!("A share is a whole number from 0 to 100, not “{typed}”."),
                    )
                })?;
            shares.insert(h.clone(), share);
        }
        let input = ZoneInput {
            name: f.get("name").to_owned(),
            location: f.get("location").to_owned(),
            holders,
            teams: f
                .get("teams")
                .split([',', '，', '、', ';', '；'])
                .map(str::to_owned)
                .collect(),
            template: f.get("template").to_owned(),
            active: f.checked("active"),
            shares,
        };
        let which = (zone != "new").then_some(zone.as_str());
        directory::save_zone(state, &viewer.actor, &branch, which, &input)?;
        Ok(format!("/admin/branch/{branch}"))
    })
    .await
}
