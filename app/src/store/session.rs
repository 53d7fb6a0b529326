//! Who is signed in, the last sync, and this phone's preferences: the `meta` tree.

use serde::{Deserialize, Serialize};
use zonepatrol_shared::Actor;
use zonepatrol_shared::rules::period::MineClock;

use super::codec::{decode, encode, key};
use super::{Repo, StoreError};

/// Who is signed in, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The server's base URL, e.g. `http://10.0.0.2:8080`.
    pub server: String,
    /// The bearer token.
    pub token: String,
    /// The user.
    pub user: Actor,
    /// The mine's time zone, as the server said at sign-in and at each sync since.
    #[serde(default = "zonepatrol_shared::protocol::default_time_zone")]
    pub time_zone: String,
    /// The server's public key, as it said at sign-in (absent from older sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_key: Option<String>,
}

impl Session {
    /// The mine's clock: the time zone the server gave (Asia/Shanghai if it is not one).
    pub fn clock(&self) -> MineClock {
        MineClock {
            tz: self.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
        }
    }
}

const SESSION: &[u8] = b"session";
/// The session of whoever signed out last.
const LAST_SESSION: &[u8] = b"last session";
/// When the last sync finished.
const LAST_SYNCED: &[u8] = b"last synced";

impl Repo {
    /// A preference of this phone's user (such as the language), if set.
    pub fn preference(&self, name: &str) -> Result<Option<String>, StoreError> {
        let k = key(b'p', name);
        self.meta.get(&k)?.map(|v| decode(&k, &v)).transpose()
    }

    /// Sets a preference.
    pub fn set_preference(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.meta.insert(key(b'p', name), encode(&value))?;
        self.db.flush()?;
        Ok(())
    }

    /// The mine's clock: the time zone the server gave at sign-in or, if it changed since, at
    /// the last sync (Asia/Shanghai before any sign-in).
    pub fn clock(&self) -> MineClock {
        self.session()
            .ok()
            .flatten()
            .map(|s| s.clock())
            .unwrap_or_default()
    }

    /// The signed-in session, if any.
    pub fn session(&self) -> Result<Option<Session>, StoreError> {
        self.meta
            .get(SESSION)?
            .map(|v| decode(SESSION, &v))
            .transpose()
    }

    /// Records a sign-in, online or offline, and notes it in the person's account. Nothing on
    /// the phone is deleted when the person changes: what another person wrote and has not
    /// sent stays, theirs to send; what this person may not read is not shown to them (see
    /// [`Repo::reader`]).
    pub fn set_session(&self, session: &Session) -> Result<(), StoreError> {
        let before = self.last_user()?;
        self.note_account(session)?;
        if before.as_ref().map(|a| &a.user) != Some(&session.user.user) {
            // The previous person's sync time is theirs, not the new person's.
            self.meta.remove(LAST_SYNCED)?;
        }
        self.meta.insert(SESSION, encode(session))?;
        self.set_reader(Some(session.user.clone()));
        self.db.flush()?;
        Ok(())
    }

    /// Signs out: forgets the session and the person's token (documents, unsent work, drafts
    /// and refused edits stay). Who signed out is kept, without the token, for the sign-in
    /// form; so is what lets them sign in again offline.
    pub fn clear_session(&self) -> Result<(), StoreError> {
        if let Some(session) = self.session()? {
            self.forget_token(&session.user.user)?;
        }
        self.park_session()
    }

    /// Hands the phone to someone else without signing out: the person's token stays in
    /// their account, so their unsent work still goes to the server when it is reachable.
    pub fn park_session(&self) -> Result<(), StoreError> {
        if let Some(bytes) = self.meta.remove(SESSION)? {
            // Who signed out, and where; never their token.
            let mut session: Session = decode(SESSION, &bytes)?;
            session.token.clear();
            self.meta.insert(LAST_SESSION, encode(&session))?;
        }
        self.set_reader(None);
        self.db.flush()?;
        Ok(())
    }

    /// The server address last used, for the sign-in form.
    pub fn last_server(&self) -> Result<Option<String>, StoreError> {
        Ok(self.current_or_last_session()?.map(|s| s.server))
    }

    /// When the last sync finished (ms), if ever.
    pub fn last_synced(&self) -> Result<Option<i64>, StoreError> {
        self.meta
            .get(LAST_SYNCED)?
            .map(|v| decode(LAST_SYNCED, &v))
            .transpose()
    }

    /// Notes when a sync finished.
    pub fn set_last_synced(&self, at: i64) -> Result<(), StoreError> {
        self.meta.insert(LAST_SYNCED, encode(&at))?;
        self.db.flush()?;
        Ok(())
    }

    /// The user signed in now, or the one who signed out last.
    pub fn last_user(&self) -> Result<Option<Actor>, StoreError> {
        Ok(self.current_or_last_session()?.map(|s| s.user))
    }

    /// The session signed in now or, failing that, the one that signed out last (its token
    /// cleared).
    pub(super) fn current_or_last_session(&self) -> Result<Option<Session>, StoreError> {
        if let Some(session) = self.session()? {
            return Ok(Some(session));
        }
        self.meta
            .get(LAST_SESSION)?
            .map(|v| decode(LAST_SESSION, &v))
            .transpose()
    }
}
