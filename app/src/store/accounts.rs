//! The people who have signed in on this phone: the `accounts` tree, by user name.
//!
//! A branch's phones are shared and offline for days. For each person who has signed in here,
//! the phone keeps what lets them sign in again without the server — a salted argon2 hash of
//! their password, never the password — their own automerge actors (the server ties an actor
//! to one person, so each person's edits go up under their own name), and their token while
//! they have not signed out, so that their unsent work can go to the server when it is
//! reachable again whoever holds the phone then.

use std::collections::BTreeSet;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use automerge::ActorId;
use serde::{Deserialize, Serialize};
use zonepatrol_shared::Actor;

use super::codec::{decode, decode_all, encode};
use super::session::Session;
use super::{Repo, StoreError, now_millis};

/// How long after the server last checked a person's password the phone still lets them in
/// offline: long enough for weeks underground, short enough that a password changed or an
/// account closed on the server stops working on a lost phone.
pub const OFFLINE_DAYS: i64 = 30;
/// Wrong passwords in a row before the phone makes the next try wait.
pub const FREE_TRIES: u32 = 5;
/// The first wait, doubled with each wrong password after that, up to [`LONGEST_WAIT_MS`].
const FIRST_WAIT_MS: i64 = 30_000;
const LONGEST_WAIT_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// A person who has signed in on this phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Who they are, as the server said at their last sign-in.
    pub user: Actor,
    /// The server they signed in to.
    pub server: String,
    /// Their token, while they have not signed out (empty after).
    #[serde(default)]
    token: String,
    /// The mine's time zone, as the server said.
    #[serde(default = "zonepatrol_shared::protocol::default_time_zone")]
    pub time_zone: String,
    /// The server's public key, as it said at their last online sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_key: Option<String>,
    /// The argon2 hash of their password (PHC string), from their last online sign-in.
    #[serde(default)]
    verifier: String,
    /// When the server last checked their password (ms).
    #[serde(default)]
    checked_at: i64,
    /// The automerge actors they wrote with on this phone (hex), the current one last.
    #[serde(default)]
    actors: Vec<String>,
    /// Wrong passwords in a row, offline.
    #[serde(default)]
    failures: u32,
    /// No offline try before this (ms).
    #[serde(default)]
    wait_until: i64,
    /// The latest time the phone's clock showed at a sign-in (ms): a clock set back does not
    /// shorten a wait or stretch the days offline.
    #[serde(default)]
    seen: i64,
}

impl Account {
    /// Whether they may sign in on this phone without the server.
    pub fn unlocks_offline(&self) -> bool {
        !self.verifier.is_empty()
    }

    /// The session to sync their work under, while they keep a token.
    pub fn kept_session(&self) -> Option<Session> {
        (!self.token.is_empty()).then(|| self.session())
    }

    /// The session they sign in to offline: their token if they kept one.
    fn session(&self) -> Session {
        Session {
            server: self.server.clone(),
            token: self.token.clone(),
            user: self.user.clone(),
            time_zone: self.time_zone.clone(),
            server_key: self.server_key.clone(),
        }
    }

    /// The actors they have written with on this phone, the current one last.
    pub fn actor_ids(&self) -> impl Iterator<Item = ActorId> + '_ {
        self.actors
            .iter()
            .filter_map(|hex| hex::decode(hex).ok())
            .map(|bytes| ActorId::from(bytes.as_slice()))
    }
}

/// Why an offline sign-in did not open.
#[derive(Debug, thiserror::Error)]
pub enum Unlock {
    /// They never signed in on this phone with the server reachable.
    #[error(
        "{0} has not signed in on this phone before: sign in once where the server is reachable"
    )]
    Unknown(String),
    /// They did, to another server.
    #[error("{user} signed in to {server} on this phone, not to this server: check the address")]
    OtherServer {
        /// Who.
        user: String,
        /// The server they signed in to.
        server: String,
    },
    /// The server has not checked their password for too long.
    #[error(
        "the server has not checked this password for over {OFFLINE_DAYS} days: sign in where the server is reachable"
    )]
    TooOld,
    /// Wrong password.
    #[error("wrong password ({left} tries before the phone makes you wait)")]
    Wrong {
        /// Tries left before a wait.
        left: u32,
    },
    /// Too many wrong passwords: wait.
    #[error("too many wrong passwords: try again in {seconds} seconds")]
    Wait {
        /// Seconds to wait.
        seconds: u64,
    },
    /// The phone's storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn account_key(user: &str) -> &[u8] {
    user.as_bytes()
}

impl Repo {
    /// Everyone who has signed in on this phone, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        decode_all(&self.accounts)
    }

    /// Whom each actor written with on this phone belongs to (actor in hex → user), to name
    /// the people in a record's history.
    pub fn account_actors(&self) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        Ok(self
            .accounts()?
            .iter()
            .flat_map(|a| {
                a.actor_ids()
                    .map(|actor| (actor.to_hex_string(), a.user.user.clone()))
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    /// One person's account on this phone.
    pub fn account(&self, user: &str) -> Result<Option<Account>, StoreError> {
        let k = account_key(user);
        self.accounts.get(k)?.map(|v| decode(k, &v)).transpose()
    }

    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.accounts
            .insert(account_key(&account.user.user), encode(account))?;
        Ok(())
    }

    /// Changes a person's account, one change at a time; `None` when they have none here.
    fn update_account<T>(
        &self,
        user: &str,
        f: impl FnOnce(&mut Account) -> T,
    ) -> Result<Option<T>, StoreError> {
        let _guard = self.account_lock.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut account) = self.account(user)? else {
            return Ok(None);
        };
        let out = f(&mut account);
        self.put_account(&account)?;
        self.db.flush()?;
        Ok(Some(out))
    }

    /// Notes a session in its person's account (made on first sign-in, with its own actor).
    /// Someone signing in with another role or branch than before, or to another server, may
    /// read other documents: their cursor starts over.
    pub(super) fn note_account(&self, session: &Session) -> Result<Account, StoreError> {
        let _guard = self.account_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut account = match self.account(&session.user.user)? {
            Some(a) => {
                if a.user != session.user || a.server != session.server {
                    self.reset_cursor(&session.user.user)?;
                }
                a
            }
            None => Account {
                user: session.user.clone(),
                server: session.server.clone(),
                token: String::new(),
                time_zone: session.time_zone.clone(),
                server_key: session.server_key.clone(),
                verifier: String::new(),
                checked_at: 0,
                actors: vec![hex::encode(ActorId::random().to_bytes())],
                failures: 0,
                wait_until: 0,
                seen: 0,
            },
        };
        if account.actors.is_empty() {
            account
                .actors
                .push(hex::encode(ActorId::random().to_bytes()));
        }
        if account.server != session.server {
            // Another server's password proves nothing here.
            account.verifier.clear();
        }
        account.user = session.user.clone();
        account.server = session.server.clone();
        account.token = session.token.clone();
        account.time_zone = session.time_zone.clone();
        if session.server_key.is_some() {
            account.server_key = session.server_key.clone();
        }
        self.put_account(&account)?;
        Ok(account)
    }

    /// After an online sign-in the server accepted: keeps a salted hash of the password so that
    /// the person can sign in on this phone offline. Slow on purpose (argon2): call it off the
    /// screen's thread.
    pub fn remember_password(&self, user: &str, password: &str) -> Result<(), StoreError> {
        let salt = SaltString::generate(&mut OsRng);
        // A password that does not hash leaves the phone unable to unlock offline, no worse.
        let verifier = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default();
        let now = now_millis();
        self.update_account(user, |account| {
            account.verifier = verifier;
            account.checked_at = now;
            account.seen = account.seen.max(now);
            account.failures = 0;
            account.wait_until = 0;
        })?;
        Ok(())
    }

    /// Signs a person in without the server, with the password they last signed in with here.
    /// Wrong passwords make the next try wait (30 s, doubling) after [`FREE_TRIES`]. Slow on
    /// purpose (argon2): call it off the screen's thread.
    pub fn sign_in_offline(
        &self,
        server: &str,
        user: &str,
        password: &str,
        now: i64,
    ) -> Result<Session, Unlock> {
        let account = match self.account(user)? {
            Some(a) if a.unlocks_offline() => a,
            _ => return Err(Unlock::Unknown(user.to_owned())),
        };
        if account.server.trim_end_matches('/') != server.trim_end_matches('/') {
            return Err(Unlock::OtherServer {
                user: user.to_owned(),
                server: account.server,
            });
        }
        // The phone's clock may have been set back: never earlier than it showed before.
        let now = now.max(account.seen);
        let wait = |until: i64| Unlock::Wait {
            seconds: u64::try_from((until - now + 999) / 1000).unwrap_or(1),
        };
        if now < account.wait_until {
            return Err(wait(account.wait_until));
        }
        if now - account.checked_at > OFFLINE_DAYS * DAY_MS {
            return Err(Unlock::TooOld);
        }
        // Slow on purpose; the account is read again after, for what changed meanwhile.
        let right = PasswordHash::new(&account.verifier).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
        let outcome = self.update_account(user, |account| {
            account.seen = account.seen.max(now);
            if right {
                account.failures = 0;
                account.wait_until = 0;
                return Ok(account.session());
            }
            account.failures = account.failures.saturating_add(1);
            if account.failures >= FREE_TRIES {
                let over = account.failures - FREE_TRIES;
                let pause = FIRST_WAIT_MS
                    .saturating_mul(1i64 << over.min(20))
                    .min(LONGEST_WAIT_MS);
                account.wait_until = now.saturating_add(pause);
            }
            Err(match FREE_TRIES.checked_sub(account.failures) {
                Some(left) if left > 0 => Unlock::Wrong { left },
                _ => wait(account.wait_until),
            })
        })?;
        let session = outcome.ok_or_else(|| Unlock::Unknown(user.to_owned()))??;
        self.set_session(&session)?;
        Ok(session)
    }

    /// The actor the signed-in person writes with on this phone (the device's own before
    /// anyone signs in).
    pub fn actor(&self) -> Result<ActorId, StoreError> {
        match self.reader() {
            Some(user) => self.actor_of(&user.user),
            None => self.device_actor(),
        }
    }

    /// The actor a person writes with on this phone (the device's own for someone without an
    /// account here).
    pub(super) fn actor_of(&self, user: &str) -> Result<ActorId, StoreError> {
        if let Some(account) = self.account(user)?
            && let Some(actor) = account.actor_ids().last()
        {
            return Ok(actor);
        }
        self.device_actor()
    }

    /// Gives a person a new actor: after a refusal, so that what they write next never
    /// clashes with the refused edit applied again.
    pub(super) fn new_actor_of(&self, user: &str) -> Result<(), StoreError> {
        let fresh = hex::encode(ActorId::random().to_bytes());
        if self
            .update_account(user, |account| account.actors.push(fresh))?
            .is_none()
        {
            self.new_device_actor()?;
        }
        Ok(())
    }

    /// The actors everyone but `user` wrote with on this phone, and those of other people's
    /// work carried here and merged (see `store::merge`): their edits are theirs to send.
    pub(super) fn others_actors(&self, user: &str) -> Result<BTreeSet<ActorId>, StoreError> {
        let mut out: BTreeSet<ActorId> = self.actor_owners(user)?.into_keys().collect();
        out.extend(self.foreign_actors()?);
        Ok(out)
    }

    /// Who wrote with each actor on this phone, but `user`.
    pub(super) fn actor_owners(
        &self,
        user: &str,
    ) -> Result<std::collections::HashMap<ActorId, String>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for account in self.accounts()? {
            if account.user.user != user {
                for actor in account.actor_ids() {
                    out.insert(actor, account.user.user.clone());
                }
            }
        }
        Ok(out)
    }

    /// A person's token, kept or not: cleared when the server no longer takes it.
    pub fn forget_token(&self, user: &str) -> Result<(), StoreError> {
        self.update_account(user, |account| account.token.clear())?;
        Ok(())
    }

    /// Before accounts: the phone had one actor and one cursor, those of the person signed in
    /// last. They become that person's.
    pub(super) fn adopt_device_state(&self) -> Result<(), StoreError> {
        if !self.accounts.is_empty() {
            return Ok(());
        }
        let Some(last) = self.current_or_last_session()? else {
            return Ok(());
        };
        let account = Account {
            user: last.user.clone(),
            server: last.server.clone(),
            token: last.token.clone(),
            time_zone: last.time_zone.clone(),
            server_key: last.server_key.clone(),
            verifier: String::new(),
            checked_at: 0,
            actors: vec![hex::encode(self.device_actor()?.to_bytes())],
            failures: 0,
            wait_until: 0,
            seen: 0,
        };
        self.put_account(&account)?;
        self.adopt_cursor(&last.user.user)?;
        // What the phone holds was sent to that person.
        let mut batch = sled::Batch::default();
        for id in self.ids()? {
            batch.insert(super::codec::reader_key(&id, &last.user.user), &[]);
        }
        self.docs.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }
}
