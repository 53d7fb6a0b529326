//! Accounts in the console: the list (`/admin/accounts`), one account (`/admin/account/{user}`)
//! with its roles and branch, a new password, disabling, and its signed-in devices.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, Path, State as Shared};
use axum::response::Response;
use maud::html;
use zonepatrol_shared::labels::role_label;
use zonepatrol_shared::{Actor, Role};

use super::branch::{role_boxes, roles_ticked};
use super::{Fields, frame, run, show, when};
use crate::State;
use crate::admin::AdminError;
use crate::admin::accounts::{self, AccountInput};
use crate::admin::directory;
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

pub(super) async fn list(Shared(state): Shared<Arc<State>>, viewer: Viewer) -> Response {
    show(state, viewer, |state, viewer| {
        let lang = viewer.lang;
        let list = accounts::accounts(state, &viewer.actor)?;
        let body = html! {
            section {
                table #accounts {
                    tr { th { (l(lang, "登录名", "Login")) } th { (l(lang, "支部", "Branch")) } th { (l(lang, "角色", "Roles")) } th { (l(lang, "状态", "State")) } }
                    @for a in &list {
                        tr {
                            td { a href=(link(&format!("/admin/account/{}", a.user))) { (a.user) } }
                            td { (a.branch) }
                            td { (a.actor().roles().iter().map(|r| role_label(lang, r)).collect::<Vec<_>>().join("、")) }
                            td { @if a.disabled { span.badge.warn { (l(lang, "已停用", "Disabled")) } } @else { (l(lang, "可登录", "Active")) } }
                        }
                    }
                }
                p.muted { (l(lang, "新账号在支部页面的“添加或修改成员”中开通。", "New accounts are opened with a member, on the branch page.")) }
            }
        };
        Ok(frame(viewer, l(lang, "账号", "Accounts"), body))
    })
    .await
}

pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(user): Path<String>,
) -> Response {
    show(state, viewer, move |state, viewer| {
        let lang = viewer.lang;
        let a = accounts::account(state, &viewer.actor, &user)?;
        let devices = accounts::devices(state, &viewer.actor, &user)?;
        let phones = accounts::phones(state, &viewer.actor, &user)?;
        let held: Vec<Role> = a.actor().roles().iter().collect();
        let branches = directory::branches(state, &viewer.actor)?;
        let is_admin = viewer.actor.has(Role::Admin);
        let body = html! {
            section {
                h2 { (l(lang, "支部与角色", "Branch and roles")) }
                form method="post" action=(link(&format!("/admin/account/{user}"))) #account-form {
                    p { label { (l(lang, "支部", "Branch")) " "
                        @if is_admin {
                            select name="branch" {
                                @for (id, info) in &branches { option value=(id) selected[*id == a.branch] { (info.name) " (" (id) ")" } }
                                @if !branches.iter().any(|(id, _)| *id == a.branch) { option value=(a.branch) selected { (a.branch) } }
                            }
                        } @else {
                            input type="hidden" name="branch" value=(a.branch);
                            (a.branch)
                        }
                    } }
                    p { (l(lang, "角色（可多选）：", "Roles (several allowed):")) " " (role_boxes(lang, &viewer.actor, &held)) }
                    div.actions { button.primary type="submit" { (l(lang, "保存", "Save")) } }
                }
            }
            section {
                h2 { (l(lang, "重设密码", "Reset the password")) }
                p.muted { (l(lang, "重设后，这个账号在所有设备上的登录立即失效。", "Every device signed in with the old password is signed out at once.")) }
                form method="post" action=(link(&format!("/admin/account/{user}/password"))) #password-form {
                    label { (l(lang, "新密码（至少 8 位）", "New password (8+ characters)")) " " input name="password" type="password" autocomplete="new-password" required minlength="8"; }
                    div.actions { button.primary type="submit" { (l(lang, "重设", "Reset")) } }
                }
            }
            section {
                h2 { (l(lang, "停用", "Disable")) }
                form method="post" action=(link(&format!("/admin/account/{user}/disable"))) #disable-form {
                    @if a.disabled {
                        p { span.badge.warn { (l(lang, "已停用", "Disabled")) } }
                        input type="hidden" name="disabled" value="no";
                        div.actions { button type="submit" { (l(lang, "重新启用", "Enable again")) } }
                    } @else {
                        input type="hidden" name="disabled" value="yes";
                        div.actions { button type="submit" { (l(lang, "停用这个账号", "Disable this account")) } }
                    }
                }
            }
            section {
                h2 { (l(lang, "已登录的设备", "Signed-in devices")) }
                @if devices.is_empty() {
                    p.muted #no-devices { (l(lang, "没有已登录的设备。", "No device is signed in.")) }
                } @else {
                    table #devices {
                        tr { th { (l(lang, "设备", "Device")) } th { (l(lang, "登录于", "Signed in")) } th { (l(lang, "有效至", "Until")) } th {} }
                        @for (hash, t) in &devices {
                            tr {
                                td { (t.device) }
                                td { (when(state, t.created_at)) }
                                td { (when(state, t.expires_at)) }
                                td { form method="post" action=(link(&format!("/admin/account/{user}/device"))) {
                                    input type="hidden" name="device" value=(hash);
                                    div.actions { button type="submit" { (l(lang, "退出登录", "Sign out")) } }
                                } }
                            }
                        }
                    }
                }
            }
            section {
                h2 { (l(lang, "手机密钥", "Phone keys")) }
                p.muted { (l(lang, "这个人在这些手机上登录过；他的每一条修改都由其中一台手机签名。手机丢失或转交他人时吊销它：之后它签名的修改一律拒收，之前的仍记在它名下。", "This person signed in on these phones; each of their changes is signed by one of them. Revoke a phone that was lost or handed on: every change it signs from then on is refused, and those it signed before stay attributed to it.")) }
                @if phones.is_empty() {
                    p.muted #no-phones { (l(lang, "还没有登记的手机。", "No phone is registered yet.")) }
                } @else {
                    table #phones {
                        tr { th { (l(lang, "手机", "Phone")) } th { (l(lang, "密钥", "Key")) } th { (l(lang, "登记于", "Registered")) } th { (l(lang, "最近登录", "Last sign-in")) } th { (l(lang, "状态", "State")) } th {} }
                        @for p in &phones {
                            tr {
                                td { (p.name) }
                                td { code title=(p.key) { (zonepatrol_shared::signing::short(&p.key)) } }
                                td { (when(state, p.registered_at)) }
                                td { (when(state, p.last_sign_in)) }
                                @if let Some(at) = p.revoked_at {
                                    td { span.badge.warn { (l(lang, "已吊销", "Revoked")) } " " (when(state, at)) " " (p.revoked_by) }
                                    td {}
                                } @else {
                                    td { (l(lang, "有效", "Valid")) }
                                    td { form method="post" action=(link(&format!("/admin/account/{user}/phone"))) {
                                        input type="hidden" name="key" value=(p.key);
                                        div.actions { button type="submit" { (l(lang, "吊销", "Revoke")) } }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        };
        let title = format!("{} · {}", a.user, l(lang, "账号", "Account"));
        Ok(frame(viewer, &title, body))
    })
    .await
}

/// A form posted to an account's page: the operation runs with the viewer, the account's
/// name and the fields, and the page is shown again.
async fn on_account(
    state: Arc<State>,
    viewer: Viewer,
    user: String,
    fields: Vec<(String, String)>,
    op: impl FnOnce(&State, &Actor, &str, &Fields) -> Result<(), AdminError> + Send + 'static,
) -> Response {
    let f = Fields::new(fields);
    let back = format!("/admin/account/{user}");
    run(state, viewer.lang, back.clone(), move |state| {
        op(state, &viewer.actor, &user, &f)?;
        Ok(back)
    })
    .await
}

pub(super) async fn save(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(user): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    on_account(state, viewer, user, fields, |state, who, user, f| {
        accounts::account(state, who, user)?;
        let input = AccountInput {
            user: user.to_owned(),
            branch: f.get("branch").to_owned(),
            roles: roles_ticked(f),
            password: None,
        };
        accounts::save_account(state, who, &input)
    })
    .await
}

pub(super) async fn password(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(user): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    on_account(state, viewer, user, fields, |state, who, user, f| {
        accounts::reset_password(state, who, user, f.get("password"))
    })
    .await
}

pub(super) async fn disable(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(user): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    on_account(state, viewer, user, fields, |state, who, user, f| {
        accounts::set_disabled(state, who, user, f.get("disabled") == "yes")
    })
    .await
}

pub(super) async fn device(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(user): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    on_account(state, viewer, user, fields, |state, who, user, f| {
        accounts::sign_out_device(state, who, user, f.get("device"))
    })
    .await
}

pub(super) async fn phone(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Path(user): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    on_account(state, viewer, user, fields, |state, who, user, f| {
        accounts::revoke_phone(state, who, user, f.get("key"))
    })
    .await
}
