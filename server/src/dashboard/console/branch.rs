//! One branch in the console (`/admin/branch/{branch}`): its name and category (admins),
//! its zones, members (with or without an account) and checklist templates.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, Path, State as Shared};
use axum::response::Response;
use maud::{Markup, html};
use zonepatrol_shared::labels::{Lang, role_label};
use zonepatrol_shared::{Actor, BranchCategory, Role};

use super::branches::{branch_input, category_select};
use super::{Fields, frame, run, show};
use crate::State;
use crate::admin::accounts::{self, AccountInput, grantable};
use crate::admin::directory::{self, MemberInput, current_templates};
use crate::admin::{AdminError, may_administer_branch};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

pub(super) fn no_branch(branch: &str) -> AdminError {
    AdminError::invalid(
        format!("没有编号为“{branch}”的支部。"),
        format!("There is no branch “{branch}”."),
    )
}

/// Whether the viewer may see the branch's set-up (changing it is the operations' question).
pub(super) fn check_branch(viewer: &Viewer, branch: &str) -> Result<(), AdminError> {
    if crate::admin::may_see_branch(&viewer.actor, branch) {
        Ok(())
    } else {
        Err(AdminError::forbidden(
            "您只能维护本支部。",
            "You can keep only your own branch.",
        ))
    }
}

/// The roles `who` may grant, as checkboxes named `role`.
pub(super) fn role_boxes(lang: Lang, who: &Actor, held: &[Role]) -> Markup {
    let allowed = grantable(who);
    html! {
        span.roles {
            @for r in allowed.iter() {
                label { input type="checkbox" name="role" value=(r.as_str()) checked[held.contains(&r)]; " " (role_label(lang, r)) } " "
            }
        }
    }
}

/// The roles ticked in a form, in the order of [`Role::ALL`].
pub(super) fn roles_ticked(f: &Fields) -> Vec<Role> {
    let ticked = f.all("role");
    Role::ALL
        .into_iter()
        .filter(|r| ticked.contains(&r.as_str()))
        .collect()
}

pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(branch): Path<String>,
) -> Response {
    show(state, viewer, move |state, viewer| {
        check_branch(viewer, &branch)?;
        let lang = viewer.lang;
        let dir = directory::directory(state, &branch)?.ok_or_else(|| no_branch(&branch))?;
        let today = super::post::today(state);
        let is_admin = viewer.actor.has(Role::Admin);
        let logins = accounts::of_branch(state, &viewer.actor, &branch)?;
        let can_edit = may_administer_branch(&viewer.actor, &branch);
        let category = u8::try_from(dir.info.category)
            .ok()
            .and_then(|n| BranchCategory::try_from(n).ok());
        let member_name = |id: &str| dir.members.get(id).map_or(id.to_owned(), |m| m.name.clone());
        let templates = current_templates(&dir);
        let mut zones: Vec<_> = dir.zones.iter().collect();
        zones.sort_by(|a, b| (!a.1.active, &a.1.name).cmp(&(!b.1.active, &b.1.name)));
        let body = html! {
            @if is_admin {
                section {
                    h2 { (l(lang, "名称与类别", "Name and category")) }
                    form method="post" action=(link(&format!("/admin/branch/{branch}"))) #branch-info {
                        label { (l(lang, "名称", "Name")) " " input name="name" required maxlength="100" value=(dir.info.name); }
                        " "
                        label { (l(lang, "类别", "Category")) " " (category_select(lang, category)) }
                        " "
                        label { input type="checkbox" name="retired" checked[dir.info.retired]; " " (l(lang, "停用（保留历史）", "Retired (history kept)")) }
                        div.actions { button.primary type="submit" { (l(lang, "保存", "Save")) } }
                    }
                }
            }
            section {
                h2 { (l(lang, "责任区", "Zones")) }
                table #zones {
                    tr { th { (l(lang, "名称", "Name")) } th { (l(lang, "位置", "Location")) } th { (l(lang, "责任人", "Holders")) } th { (l(lang, "状态", "State")) } th {} }
                    @for (id, z) in &zones {
                        tr {
                            td { a href=(link(&format!("/admin/branch/{branch}/zone/{id}"))) { (z.name) } }
                            td { (z.location) }
                            td { (z.holders.keys().map(|h| member_name(h)).collect::<Vec<_>>().join("、")) }
                            td { @if z.active { (l(lang, "在用", "In use")) } @else { span.badge.warn { (l(lang, "已停用", "Retired")) } } }
                            td { a href=(link(&format!("/dash/placard/{branch}/{id}"))) download { (l(lang, "责任牌", "Placard")) } }
                        }
                    }
                }
                @if can_edit {
                    div.actions { a #new-zone href=(link(&format!("/admin/branch/{branch}/zone/new"))) { (l(lang, "新建责任区", "New zone")) } }
                }
            }
            section {
                h2 { (l(lang, "党员示范岗", "Demonstration posts")) }
                table #posts {
                    tr { th { (l(lang, "名称", "Title")) } th { (l(lang, "责任区", "Zone")) } th { (l(lang, "示范者", "Demonstrators")) } th { (l(lang, "状态", "Status")) } }
                    @for (id, p) in &dir.posts {
                        tr {
                            td { a href=(link(&format!("/admin/branch/{branch}/post/{id}"))) { (p.title) } }
                            td { (dir.zones.get(&p.zone).map_or(p.zone.as_str(), |z| z.name.as_str())) }
                            td { (p.demonstrators.keys().map(|h| member_name(h)).collect::<Vec<_>>().join("、")) }
                            td { (zonepatrol_shared::labels::post_status_label(lang, p.status_on(today))) }
                        }
                    }
                }
                @if can_edit {
                    div.actions { a #new-post href=(link(&format!("/admin/branch/{branch}/post/new"))) { (l(lang, "新建示范岗", "New post")) } }
                }
            }
            section {
                h2 { (l(lang, "检查标准", "Checklist templates")) }
                table #templates {
                    tr { th { (l(lang, "名称", "Name")) } th.n { (l(lang, "项数", "Items")) } }
                    @for (id, t) in &templates {
                        tr {
                            td { a href=(link(&format!("/admin/branch/{branch}/template/{id}"))) { (t.name) } }
                            td.n { (t.items.len()) }
                        }
                    }
                }
                @if can_edit {
                    div.actions { a #new-template href=(link(&format!("/admin/branch/{branch}/template/new"))) { (l(lang, "新建检查标准", "New template")) } }
                }
            }
            section {
                h2 { (l(lang, "成员", "Members")) }
                table #members {
                    tr { th { (l(lang, "登录名", "Login")) } th { (l(lang, "姓名", "Name")) } th { (l(lang, "党小组", "Party group")) } th { (l(lang, "班组", "Team")) } th { (l(lang, "账号", "Account")) } }
                    @for (id, m) in &dir.members {
                        tr {
                            td { (id) }
                            td { (m.name) }
                            td { (m.group) }
                            td { (m.team) }
                            td {
                                @if let Some(a) = logins.iter().find(|a| a.user == *id) {
                                    @let roles = a.actor().roles().iter().map(|r| role_label(lang, r)).collect::<Vec<_>>().join("、");
                                    @if accounts::may_manage(&viewer.actor, a) {
                                        a href=(link(&format!("/admin/account/{id}"))) { (roles) }
                                    } @else {
                                        (roles)
                                    }
                                    @if a.disabled { " " span.badge.warn { (l(lang, "已停用", "Disabled")) } }
                                } @else {
                                    span.muted { (l(lang, "无账号", "None")) }
                                }
                            }
                        }
                    }
                }
                @if can_edit {
                h2 { (l(lang, "添加或修改成员", "Add or change a member")) }
                form method="post" action=(link(&format!("/admin/branch/{branch}/member"))) #member-form {
                    label { (l(lang, "登录名（拼音）", "Login (e.g. wangwei)")) " " input name="id" required maxlength="64"; }
                    " "
                    label { (l(lang, "姓名", "Name")) " " input name="name" required maxlength="100"; }
                    " "
                    label { (l(lang, "党小组", "Party group")) " " input name="group" maxlength="100"; }
                    " "
                    label { (l(lang, "班组", "Team")) " " input name="team" maxlength="100"; }
                    p { (l(lang, "开通账号（可不选）：", "Open an account (optional):")) " " (role_boxes(lang, &viewer.actor, &[])) }
                    label { (l(lang, "初始密码（至少 8 位）", "First password (8+ characters)")) " " input name="password" type="password" autocomplete="new-password" minlength="8"; }
                    div.actions { button.primary type="submit" { (l(lang, "保存成员", "Save member")) } }
                }
                }
            }
        };
        let title = format!("{} · {}", dir.info.name, l(lang, "支部设置", "Branch set-up"));
        Ok(frame(viewer, &title, body))
    })
    .await
}

pub(super) async fn update(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(branch): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/branch/{branch}");
    run(state, viewer.lang, back.clone(), move |state| {
        let input = branch_input(&f)?;
        directory::update_branch(state, &viewer.actor, &branch, &input)?;
        Ok(back)
    })
    .await
}

pub(super) async fn member(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(branch): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/branch/{branch}");
    run(state, viewer.lang, back.clone(), move |state| {
        let roles = roles_ticked(&f);
        let password = Some(f.get("password")).filter(|p| !p.is_empty());
        let input = MemberInput {
            id: f.get("id").to_owned(),
            name: f.get("name").to_owned(),
            group: f.get("group").to_owned(),
            team: f.get("team").to_owned(),
        };
        if !roles.is_empty() || password.is_some() {
            // The account is checked first, so that a refused one adds no member either.
            let account = AccountInput {
                user: crate::admin::input::code(&input.id),
                branch: branch.clone(),
                roles,
                password: password.map(str::to_owned),
            };
            let checked = accounts::check_account(state, &viewer.actor, &account)?;
            directory::save_member(state, &viewer.actor, &branch, &input)?;
            accounts::store_account(state, &viewer.actor, checked)?;
        } else {
            directory::save_member(state, &viewer.actor, &branch, &input)?;
        }
        Ok(back)
    })
    .await
}
