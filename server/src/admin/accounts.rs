//! Accounts from the console: one account, several roles; passwords reset (the old sign-ins
//! stop at once), accounts disabled, signed-in devices seen and signed out.
//!
//! Who may do what: an admin manages every account; a secretary the accounts of their own
//! branch that hold only field roles (inspector, zone holder, team leader), and may grant
//! only those. Nobody disables, demotes or locks out the last admin who can still sign in.

use zonepatrol_shared::docs::is_valid_name;
use zonepatrol_shared::{Actor, Role, Roles};

use super::input::code;
use super::{AdminError, directory, on_record};
use crate::State;
use crate::auth::hash_password;
use crate::store::{DeviceRecord, TokenRecord, UserRecord};

/// One account change at a time, so that two admins demoting each other at once cannot both
/// pass the last-admin check.
static ACCOUNTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The branch an account's changes are filed under in the activity record: none for a
/// company-wide account, so that no branch's secretary reads about it.
fn filed_under(account: &UserRecord) -> &str {
    if account.actor().is_company_wide() {
        ""
    } else {
        &account.branch
    }
}

/// The roles a secretary may grant in their own branch.
const FIELD_ROLES: &[Role] = &[Role::Inspector, Role::ZoneHolder, Role::TeamLeader];

/// The roles `who` may grant.
pub fn grantable(who: &Actor) -> Roles {
    if who.has(Role::Admin) {
        Role::ALL.into_iter().collect()
    } else if who.has(Role::Secretary) {
        FIELD_ROLES.iter().copied().collect()
    } else {
        Roles::NONE
    }
}

/// Whether `who` may manage `account`.
pub fn may_manage(who: &Actor, account: &UserRecord) -> bool {
    if who.has(Role::Admin) {
        return true;
    }
    who.has(Role::Secretary)
        && account.branch == who.branch
        && account
            .actor()
            .roles()
            .iter()
            .all(|r| FIELD_ROLES.contains(&r))
}

/// The accounts `who` may manage, by login name.
pub fn accounts(state: &State, who: &Actor) -> Result<Vec<UserRecord>, AdminError> {
    let mut out: Vec<UserRecord> = state
        .store
        .users()?
        .into_iter()
        .filter(|u| may_manage(who, u))
        .collect();
    out.sort_by(|a, b| (&a.branch, &a.user).cmp(&(&b.branch, &b.user)));
    Ok(out)
}

/// The accounts of a branch, for whoever may see its set-up (managers too, who manage none).
pub fn of_branch(state: &State, who: &Actor, branch: &str) -> Result<Vec<UserRecord>, AdminError> {
    if !super::may_see_branch(who, branch) {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .users()?
        .into_iter()
        .filter(|u| u.branch == branch)
        .collect())
}

/// One account `who` may manage.
pub fn account(state: &State, who: &Actor, name: &str) -> Result<UserRecord, AdminError> {
    let account = state.store.user(name)?.ok_or_else(|| {
        AdminError::invalid(
            format!("没有登录名为“{name}”的账号。"),
            format!("There is no account “{name}”."),
        )
    })?;
    if !may_manage(who, &account) {
        return Err(AdminError::forbidden(
            "您不能管理这个账号。",
            "That account is not yours to manage.",
        ));
    }
    Ok(account)
}

/// An account as the console sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInput {
    /// The login name.
    pub user: String,
    /// The branch.
    pub branch: String,
    /// Every role held, the main one first.
    pub roles: Vec<Role>,
    /// A new password (for a new account, or a reset); `None` keeps the one it has.
    pub password: Option<String>,
}

fn check_password(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < 8 {
        return Err(AdminError::invalid(
            "密码至少 8 个字符。",
            "A password needs at least 8 characters.",
        ));
    }
    Ok(())
}

/// Admins who can still sign in, other than `except`.
fn other_admins(state: &State, except: &str) -> Result<usize, AdminError> {
    Ok(state
        .store
        .users()?
        .iter()
        .filter(|u| u.user != except && !u.disabled && u.actor().has(Role::Admin))
        .count())
}

fn last_admin() -> AdminError {
    AdminError::forbidden(
        "这是最后一个可登录的管理员账号：请先为另一人开通管理员，再修改这个账号。",
        "This is the last admin who can sign in: make someone else an admin first.",
    )
}

/// Creates an account, or changes one's branch and roles (and password, when given).
pub fn save_account(state: &State, who: &Actor, input: &AccountInput) -> Result<(), AdminError> {
    let checked = check_account(state, who, input)?;
    store_account(state, who, checked)
}

/// An account change checked and ready to store.
#[derive(Debug)]
pub struct CheckedAccount {
    record: UserRecord,
    existed: bool,
    new_password: bool,
}

/// Checks an account change without storing anything.
pub fn check_account(
    state: &State,
    who: &Actor,
    input: &AccountInput,
) -> Result<CheckedAccount, AdminError> {
    let user = code(&input.user);
    if !is_valid_name(&user) {
        return Err(AdminError::invalid(
            format!("登录名“{user}”不可用：请用字母、数字、“-”“_”“.”（如拼音 wangwei）。"),
            format!("“{user}” cannot be a login name: use letters, digits, '-', '_' or '.'."),
        ));
    }
    let Some((&main, more)) = input.roles.split_first() else {
        return Err(AdminError::invalid(
            "请至少选择一个角色。",
            "Choose at least one role.",
        ));
    };
    let allowed = grantable(who);
    if let Some(r) = input.roles.iter().find(|r| !allowed.has(**r)) {
        return Err(AdminError::forbidden(
            format!("您不能授予“{}”角色。", r.label_zh()),
            format!("You may not grant the role {r}."),
        ));
    }
    let company_wide = input.roles.iter().any(|r| r.is_company_wide());
    if !is_valid_name(&input.branch) {
        return Err(AdminError::invalid(
            "支部编号不可用：请用字母、数字、“-”“_”“.”，如 hq。",
            "The branch code cannot be used: letters, digits, '-', '_' or '.', such as hq.",
        ));
    }
    if !company_wide && directory::directory(state, &input.branch)?.is_none() {
        return Err(AdminError::invalid(
            format!("没有编号为“{}”的支部。", input.branch),
            format!("There is no branch “{}”.", input.branch),
        ));
    }
    if !who.has(Role::Admin) && input.branch != who.branch {
        return Err(AdminError::forbidden(
            "您只能为本支部开通账号。",
            "You can open accounts in your own branch only.",
        ));
    }
    let existing = state.store.user(&user)?;
    if let Some(old) = &existing {
        if !may_manage(who, old) {
            return Err(AdminError::forbidden(
                "这个登录名已被另一个您不能管理的账号使用。",
                "That login name belongs to an account you cannot manage.",
            ));
        }
        let demoted = old.actor().has(Role::Admin) && !input.roles.contains(&Role::Admin);
        if demoted && !old.disabled && other_admins(state, &user)? == 0 {
            return Err(last_admin());
        }
    }
    let password = match (&input.password, &existing) {
        (Some(p), _) => {
            check_password(p)?;
            hash_password(p).map_err(|e| AdminError::Failed(e.to_string()))?
        }
        (None, Some(old)) => old.password.clone(),
        (None, None) => {
            return Err(AdminError::invalid(
                "新账号需要初始密码。",
                "A new account needs a first password.",
            ));
        }
    };
    let mut also: Vec<Role> = Vec::new();
    for r in more {
        if *r != main && !also.contains(r) {
            also.push(*r);
        }
    }
    let record = UserRecord {
        user: user.clone(),
        role: main,
        also,
        branch: input.branch.clone(),
        password,
        created_at: existing
            .as_ref()
            .map_or_else(crate::now_millis, |e| e.created_at),
        disabled: existing.as_ref().is_some_and(|e| e.disabled),
    };
    Ok(CheckedAccount {
        record,
        existed: existing.is_some(),
        new_password: input.password.is_some(),
    })
}

/// Stores a checked account change, on the record.
pub fn store_account(
    state: &State,
    who: &Actor,
    checked: CheckedAccount,
) -> Result<(), AdminError> {
    let CheckedAccount {
        record,
        existed,
        new_password,
    } = checked;
    let user = record.user.clone();
    let _turn = turn();
    // Checked again under the turn: another change may have left this the last admin.
    if let Some(now) = state.store.user(&user)?
        && now.actor().has(Role::Admin)
        && !now.disabled
        && !record.actor().has(Role::Admin)
        && other_admins(state, &user)? == 0
    {
        return Err(last_admin());
    }
    state.store.put_user(&record)?;
    if new_password && existed {
        // A new password ends every sign-in made with the old one.
        sign_out_everywhere(state, &user)?;
    }
    state.store.flush()?;
    let roles = record.actor().roles_zh();
    let summary = match (existed, new_password) {
        (false, _) => format!("开通账号 {user}（{roles}）"),
        (true, true) => format!("账号 {user}：角色 {roles}，重设密码"),
        (true, false) => format!("账号 {user}：角色 {roles}"),
    };
    on_record(state, who, filed_under(&record), "account", &user, summary)
}

/// Sets a new password: every device signed in with the old one is signed out at once.
pub fn reset_password(
    state: &State,
    who: &Actor,
    name: &str,
    password: &str,
) -> Result<(), AdminError> {
    check_password(password)?;
    let hash = hash_password(password).map_err(|e| AdminError::Failed(e.to_string()))?;
    let _turn = turn();
    let mut account = account(state, who, name)?;
    account.password = hash;
    state.store.put_user(&account)?;
    sign_out_everywhere(state, name)?;
    state.store.flush()?;
    on_record(
        state,
        who,
        filed_under(&account),
        "account",
        name,
        format!("重设账号 {name} 的密码"),
    )
}

/// Disables an account (its sign-ins stop at once) or enables it again.
pub fn set_disabled(
    state: &State,
    who: &Actor,
    name: &str,
    disabled: bool,
) -> Result<(), AdminError> {
    let _turn = turn();
    let mut account = account(state, who, name)?;
    if disabled && account.actor().has(Role::Admin) && other_admins(state, name)? == 0 {
        return Err(last_admin());
    }
    account.disabled = disabled;
    state.store.put_user(&account)?;
    if disabled {
        sign_out_everywhere(state, name)?;
    }
    state.store.flush()?;
    let verb = if disabled { "停用" } else { "启用" };
    on_record(
        state,
        who,
        filed_under(&account),
        "account",
        name,
        format!("{verb}账号 {name}"),
    )
}

/// The devices an account is signed in on: the token's hash (hex, to sign one out), the
/// device's name, when it signed in and until when.
pub fn devices(
    state: &State,
    who: &Actor,
    name: &str,
) -> Result<Vec<(String, TokenRecord)>, AdminError> {
    account(state, who, name)?;
    let mut out: Vec<(String, TokenRecord)> = state
        .store
        .tokens_of(name)?
        .into_iter()
        .map(|(hash, t)| (hex::encode(hash), t))
        .collect();
    out.sort_by_key(|(_, t)| std::cmp::Reverse(t.created_at));
    Ok(out)
}

/// Signs one device of an account out.
pub fn sign_out_device(
    state: &State,
    who: &Actor,
    name: &str,
    device: &str,
) -> Result<(), AdminError> {
    let account = account(state, who, name)?;
    let found = state
        .store
        .tokens_of(name)?
        .into_iter()
        .find(|(hash, _)| hex::encode(hash) == device);
    let Some((hash, token)) = found else {
        return Err(AdminError::invalid(
            "这台设备已经退出。",
            "That device is signed out already.",
        ));
    };
    state.store.remove_token(&hash)?;
    state.store.flush()?;
    on_record(
        state,
        who,
        filed_under(&account),
        "account",
        name,
        format!("让账号 {name} 的设备“{}”退出登录", token.device),
    )
}

/// The phones whose keys are registered for an account (its changes are signed with them),
/// newest sign-in first, revoked ones with them.
pub fn phones(state: &State, who: &Actor, name: &str) -> Result<Vec<DeviceRecord>, AdminError> {
    account(state, who, name)?;
    let mut out: Vec<DeviceRecord> = state
        .store
        .devices()?
        .into_iter()
        .filter(|d| d.users.iter().any(|u| u == name))
        .collect();
    out.sort_by_key(|d| std::cmp::Reverse(d.last_sign_in));
    Ok(out)
}

/// Revokes a phone's key (lost, stolen, or handed on): every change it signs from now on is
/// refused, whoever signs in on it; the changes it signed before stay attributed to it. The
/// account's sign-ins made with that key end too. A revoked key stays revoked.
pub fn revoke_phone(state: &State, who: &Actor, name: &str, key: &str) -> Result<(), AdminError> {
    let account = account(state, who, name)?;
    let Some(found) = state
        .store
        .device(key)?
        .filter(|d| d.users.iter().any(|u| u == name))
    else {
        return Err(AdminError::invalid(
            "这个账号没有这台手机。",
            "This account has no such phone.",
        ));
    };
    if found.revoked_at.is_some() {
        return Err(AdminError::invalid(
            "这台手机已经吊销。",
            "That phone is revoked already.",
        ));
    }
    // Atomically: a sign-in on the phone meanwhile cannot write the record back unrevoked;
    // and with the documents held, so that no push checked before it is stored after it.
    let _writing = state
        .writing()
        .map_err(|e| AdminError::Failed(e.to_string()))?;
    let now = crate::now_millis();
    let phone = state
        .store
        .update_device(key, &mut |stored| {
            let mut record = stored?;
            if record.revoked_at.is_none() {
                record.revoked_at = Some(now);
                record.revoked_by = who.user.clone();
            }
            Some(record)
        })?
        .unwrap_or(found);
    // Its sign-ins end: those bound to its key, and those from before keys made on it (by its
    // name), which could otherwise bind a new key.
    for user in &phone.users {
        for (hash, token) in state.store.tokens_of(user)? {
            let on_it = match token.key.as_deref() {
                Some(k) => k == key,
                None => token.device == phone.name,
            };
            if on_it {
                state.store.remove_token(&hash)?;
            }
        }
    }
    state.store.flush()?;
    let short = zonepatrol_shared::signing::short(key);
    on_record(
        state,
        who,
        filed_under(&account),
        "account",
        name,
        format!("吊销账号 {name} 的手机“{}”（密钥 {short}）", phone.name),
    )
}

fn sign_out_everywhere(state: &State, name: &str) -> Result<(), AdminError> {
    Ok(crate::auth::sign_out_user(&*state.store, name)?)
}

/// How to make the first admin, in English (`DATA`: the data directory).
pub const FIRST_ADMIN_EN: &str = "No account exists yet. Create the first admin (this works while the server runs):\n  \
    ZONEPATROL_PASSWORD='a long password' zonepatrol-server user add --data DATA --name admin --role admin --branch hq\n\
    then sign in at /login and set up the mine under 设置 (Set-up).";

/// How to make the first admin, in Chinese (`DATA`: the data directory).
pub const FIRST_ADMIN_ZH: &str = "还没有任何账号。请先建立第一个管理员（服务器运行时也可以）：\n  \
    ZONEPATROL_PASSWORD='一个长密码' zonepatrol-server user add --data DATA --name admin --role admin --branch hq\n\
    然后在 /login 登录，在“设置”中建立支部、责任区和成员。";

/// Whether any account exists: a server without one tells how to make the first admin.
pub fn any_account(state: &State) -> Result<bool, AdminError> {
    Ok(!state.store.users()?.is_empty())
}
