//! Setting up and keeping a mine: the domain operations behind the dashboard's console.
//!
//! Whatever belongs in a document (a branch's directory: its name and category, zones, posts,
//! members and checklist templates) is changed as an automerge change made by the signed-in
//! person, with an actor of their own, and handed to the sync path as that person's push
//! ([`edit_document`]): it is validated by `shared::validate` exactly as a phone's change is,
//! written by the one document writer, and reaches the phones by the ordinary sync. Accounts,
//! which are no document, are changed here under the rules of [`accounts`]. Every change is
//! kept on the record ([`activity`]).
//!
//! # Layout
//!
//! - here: [`AdminError`], [`edit_document`], and who may open the console.
//! - `directory`: branches, zones, posts, members and templates.
//! - `accounts`: accounts with several roles, passwords, devices, the last admin.
//! - `activity`: the record of administrative changes, filtered for the activity page.
//! - `mutual`: the mutual evaluation's marks (a branch's secretary) and bonuses (managers).
//! - `inbox`: `user add` beside a running server.
//! - `import`: the branches, zones and members of a workbook, previewed, then applied.
//! - `rules`: the mine's rules, a new version from a month onward.
//! - `input`: what people type, tidied (stray and full-width spaces, full-width digits).

pub mod accounts;
pub mod activity;
pub mod directory;
pub mod import;
pub mod inbox;
pub mod input;
pub mod mutual;
pub mod rules;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use zonepatrol_shared::docs::{self, DocId, Document};
use zonepatrol_shared::labels::Lang;
use zonepatrol_shared::protocol::{Outcome, Push, SyncRequest, b64, heads_to_hex};
use zonepatrol_shared::validate::{Refusal, RefusalCode};
use zonepatrol_shared::{Actor, Role};

use crate::State;
use crate::store::{ActivityRecord, StoreError};

/// Why an administrative change was not made. Nothing is changed when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The person may not make this change; in Chinese and English.
    #[error("{1}")]
    Forbidden(String, String),
    /// What was asked is wrong (a missing name, an unknown member…): what to do, in Chinese
    /// and English.
    #[error("{1}")]
    Invalid(String, String),
    /// The validator refused the change, as it would refuse a phone's.
    #[error("{0}")]
    Refused(Refusal),
    /// The server failed.
    #[error("{0}")]
    Failed(String),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> AdminError {
        AdminError::Failed(e.to_string())
    }
}

impl AdminError {
    /// A refusal of the person's request, in both languages.
    pub fn forbidden(zh: impl Into<String>, en: impl Into<String>) -> AdminError {
        AdminError::Forbidden(zh.into(), en.into())
    }

    /// A mistake in what was asked, in both languages.
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> AdminError {
        AdminError::Invalid(zh.into(), en.into())
    }

    /// Whether the person is at fault (the answer says what to do), not the server.
    pub fn is_client(&self) -> bool {
        !matches!(self, AdminError::Failed(_))
    }

    /// What to tell the person, in their language.
    pub fn says(&self, lang: Lang) -> String {
        match self {
            AdminError::Forbidden(zh, en) | AdminError::Invalid(zh, en) => {
                lang.pick(zh, en).to_owned()
            }
            AdminError::Refused(r) => {
                let why = match r.code {
                    RefusalCode::NotWriter | RefusalCode::WrongBranch => lang.pick(
                        "您的角色不能做这项修改",
                        "Your role may not make this change",
                    ),
                    RefusalCode::Locked => {
                        lang.pick("该期间已发布，不能修改", "That period is published")
                    }
                    _ => lang.pick(
                        "内容不符合规则，未保存",
                        "This breaks a rule and was not saved",
                    ),
                };
                format!("{why}: {}", r.reason)
            }
            AdminError::Failed(_) => lang
                .pick("服务器出错，请重试。", "The server failed: try again.")
                .to_owned(),
        }
    }
}

/// Whether someone may change anything in the console: admins (every branch) and
/// secretaries (their own).
pub fn may_administer(who: &Actor) -> bool {
    who.roles().any(&[Role::Admin, Role::Secretary])
}

/// Whether someone may open the console: those who may change things, and managers, who see
/// every branch's set-up without changing it.
pub fn may_open_console(who: &Actor) -> bool {
    may_administer(who) || who.has(Role::Manager)
}

/// Whether someone may see a branch's set-up: managers and admins every branch, a secretary
/// their own.
pub fn may_see_branch(who: &Actor, branch: &str) -> bool {
    who.is_company_wide() || (who.has(Role::Secretary) && who.branch == branch)
}

/// Whether someone may administer a branch: an admin any, a secretary their own.
pub fn may_administer_branch(who: &Actor, branch: &str) -> bool {
    who.has(Role::Admin) || (who.has(Role::Secretary) && who.branch == branch)
}

/// What an edit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// The change was validated and stored.
    Saved,
    /// The document already said so: nothing to store.
    Unchanged,
}

/// Changes a document on behalf of `who`: reads it as stored (or born at genesis), applies
/// `change` to its value, commits with a fresh actor of `who`'s (claimed for them on first
/// use) and the words `message`, and pushes the change through the sync path, which validates
/// it as a phone's and stores it. The change's own error, or the validator's refusal, leaves
/// the document as it was.
pub fn edit_document<D: Document>(
    state: &State,
    who: &Actor,
    id: &DocId,
    message: &str,
    change: impl FnOnce(&mut D) -> Result<(), AdminError>,
) -> Result<Edited, AdminError> {
    let stored = state.store.doc(id)?;
    let failed = |e: &dyn std::fmt::Display| AdminError::Failed(format!("{id}: {e}"));
    let (mut doc, base) = match &stored {
        Some(s) => (s.load().map_err(|e| failed(&e))?, s.heads.clone()),
        None => (docs::genesis::<D>(id).map_err(|e| failed(&e))?, Vec::new()),
    };
    // A fresh actor for each change: unguessable, so nobody can claim it first.
    doc.set_actor(ActorId::random());
    let mut value: D = docs::read(&doc, id).map_err(|e| failed(&e))?;
    change(&mut value)?;
    docs::write(&mut doc, &value).map_err(|e| failed(&e))?;
    commit(&mut doc, message);
    let have = doc.get_heads();
    if have == base {
        return Ok(Edited::Unchanged);
    }
    let changes = if base.is_empty() {
        doc.save()
    } else {
        doc.save_after(&base)
    };
    // Made by the server for `who`: signed with the server's key, naming them.
    let hashes: Vec<_> = doc.get_changes(&base).iter().map(|c| c.hash()).collect();
    let signed = crate::store::writer::server_key(&*state.store)?.sign_changes(
        &id.to_string(),
        &who.user,
        &hashes,
    );
    let request = SyncRequest {
        cursor: state.store.last_seq()?,
        push: vec![Push {
            id: id.to_string(),
            base: heads_to_hex(&base),
            have: heads_to_hex(&have),
            changes: b64::encode(&changes),
            signed: vec![signed],
        }],
        max_bytes: Some(1),
        ..SyncRequest::default()
    };
    let answer = crate::sync::sync(state, who, crate::dashboard::DEVICE, None, request, true)
        .map_err(|e| AdminError::Failed(e.body.message.clone()))?;
    match answer.acks.into_iter().next().map(|a| a.outcome) {
        Some(Outcome::Accepted) => Ok(Edited::Saved),
        Some(Outcome::Refused { refusal, .. }) => Err(AdminError::Refused(refusal)),
        other => Err(AdminError::Failed(format!(
            "{id}: unexpected answer {other:?}"
        ))),
    }
}

fn commit(doc: &mut AutoCommit, message: &str) {
    doc.commit_with(
        CommitOptions::default()
            .with_message(message.to_owned())
            .with_time(crate::now_millis() / 1000),
    );
}

/// Keeps a change on the record and makes it durable.
pub(crate) fn on_record(
    state: &State,
    who: &Actor,
    branch: &str,
    what: &str,
    subject: &str,
    summary: String,
) -> Result<(), AdminError> {
    state.store.keep_activity(&ActivityRecord {
        at: crate::now_millis(),
        by: who.user.clone(),
        branch: branch.to_owned(),
        what: what.to_owned(),
        subject: subject.to_owned(),
        summary,
    })?;
    state.store.flush()?;
    Ok(())
}
