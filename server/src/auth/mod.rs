//! Accounts: argon2 password hashes, random bearer tokens stored only as their SHA-256, and
//! the extractor that every route but login goes through.
//!
//! # Layout
//!
//! - `accounts`: argon2 password hashes in kept memory, adding users, token hashes.
//! - `throttle`: [`LoginThrottle`], the waits after wrong passwords.
//! - `workers`: [`Logins`], the bounded password checks on threads of their own.
//! - here: signing in, the client's address, and the authenticated-user extractor.

mod accounts;
mod throttle;
mod workers;

use std::sync::Arc;
use std::time::Instant;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use rand::RngCore;
use zonepatrol_shared::Actor;

use crate::State;
use crate::error::ApiError;
use crate::store::{DeviceRecord, TokenRecord, UserRecord};

use accounts::verify_password;
pub use accounts::{
    AccountError, add_user, check_new_account, hash_password, sign_out_user, token_hash,
};
pub use throttle::*;
pub use workers::Logins;
use workers::busy;

/// What guards signing in, in the server's state.
#[derive(Debug)]
pub struct Guard {
    /// A password hash to check against when the user does not exist, so that a wrong name
    /// takes as long as a wrong password.
    pub(crate) dummy_hash: String,
    /// Names and addresses with recent wrong passwords, which must wait before the next try.
    pub(crate) throttle: LoginThrottle,
    /// Password checks in progress, bounded.
    pub(crate) logins: Arc<Logins>,
}

/// Checks a password and, if right, issues a token and registers the device's key (when it
/// sent one) for the person. `None` for a wrong name or password,
/// which take the same time so that names cannot be guessed. A try that must wait (see
/// [`LoginThrottle`]) is answered 429 without checking; one that finds the server too busy to
/// check it soon is answered 503. The password work runs on the blocking pool.
pub async fn login(
    state: &Arc<State>,
    name: &str,
    password: &str,
    device: &str,
    device_key: Option<(&str, &str)>,
    address: Option<IpAddr>,
) -> Result<Option<(String, TokenRecord, UserRecord)>, ApiError> {
    let device_key = device_key
        .map(|(key, proof)| proven_key(name, key, proof))
        .transpose()?;
    let refuse_if_waiting = || match state.guard.throttle.wait(name, address, Instant::now()) {
        Some(wait) => Err(ApiError::too_many_attempts(wait)),
        None => Ok(()),
    };
    refuse_if_waiting()?;
    let _name_turn = tokio::time::timeout(
        state.settings.login_wait,
        state.guard.logins.turn(&format!("{}\0{name}", state.base)),
    )
    .await
    .map_err(|_| busy())?;
    // The tries before this one have counted by now.
    refuse_if_waiting()?;
    let turn = tokio::time::timeout(
        state.settings.login_wait,
        state.guard.logins.checks.clone().acquire_owned(),
    )
    .await
    .map_err(|_| busy())?
    .map_err(|e| ApiError::internal(&e))?;
    let (user, ok) = {
        let shared = state.clone();
        let name = name.to_owned();
        let password = password.to_owned();
        state
            .guard
            .logins
            .run(turn, move || {
                let user = shared.store.user(&name)?;
                let phc = user
                    .as_ref()
                    .map_or(shared.guard.dummy_hash.as_str(), |u| &u.password);
                let ok = verify_password(&password, phc);
                Ok::<_, ApiError>((user, ok))
            })
            .await
            .ok_or_else(|| ApiError::internal(&"the password workers stopped"))??
    };
    let now = Instant::now();
    // A disabled account's right password counts as wrong: nothing tells it apart.
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        state.guard.throttle.wrong(name, address, now);
        return Ok(None);
    };
    state.guard.throttle.passed(name, address, now);
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let now = crate::now_millis();
    let ttl = i64::try_from(state.settings.token_ttl.as_millis()).unwrap_or(i64::MAX);
    let record = TokenRecord {
        user: user.user.clone(),
        // As the device named itself, without control or direction marks (it is shown in a
        // record's history).
        device: device
            .chars()
            .filter(|c| {
                !c.is_control()
                    && !matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                        | '\u{2060}'..='\u{2069}' | '\u{feff}')
            })
            .take(100)
            .collect(),
        created_at: now,
        expires_at: now.saturating_add(ttl),
        key: device_key.clone(),
    };
    let store = state.store.clone();
    let hash = token_hash(&token);
    let stored = record.clone();
    let person = user.user.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(key) = &device_key {
            register_device(&*store, key, &stored.device, &person, now)?;
        }
        store.put_token(&hash, &stored)?;
        store.flush()
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(Some((token, record, user)))
}

/// A device key and its proof for `user` (see `signing::register_message`): the key in its
/// one written form, or why not.
fn proven_key(user: &str, key: &str, proof: &str) -> Result<String, ApiError> {
    let key = key
        .parse::<zonepatrol_shared::signing::KeyId>()
        .map_err(|e| ApiError::bad_request(format!("{e}: update the app")))?;
    zonepatrol_shared::signing::check_proof(user, &key, proof).map_err(|_| {
        ApiError::bad_request(
            "the device's proof of its key does not hold: it cannot register that key; update \
             the app",
        )
    })?;
    Ok(key.to_string())
}

/// The most people one device key is registered for: a phone shared by a team, not a crowd.
pub const MAX_USERS_PER_DEVICE: usize = 256;

/// Registers a device key for a person who just signed in on it (or notes the sign-in). A
/// revoked key stays revoked: signing in again does not bring it back.
pub fn register_device(
    store: &dyn crate::store::Storage,
    key: &str,
    name: &str,
    user: &str,
    now: i64,
) -> Result<(), crate::store::StoreError> {
    store.update_device(key, &mut |stored| {
        let mut record = stored.unwrap_or_else(|| DeviceRecord {
            key: key.to_owned(),
            name: name.to_owned(),
            users: Vec::new(),
            registered_at: now,
            last_sign_in: now,
            revoked_at: None,
            revoked_by: String::new(),
        });
        if !record.users.iter().any(|u| u == user) && record.users.len() < MAX_USERS_PER_DEVICE {
            record.users.push(user.to_owned());
        }
        record.last_sign_in = now;
        Some(record)
    })?;
    Ok(())
}

/// The address a request came from, when the server was started with it (see [`crate::launch`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<ClientAddr, std::convert::Infallible> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A request's authenticated user; extracting it answers 401 when there is none.
#[derive(Debug, Clone)]
pub struct Authed {
    /// Who.
    pub actor: Actor,
    /// The device they signed in on, as it named itself.
    pub device: String,
    /// The SHA-256 of the token used, to revoke it at logout.
    pub token_hash: [u8; 32],
    /// The device key registered at this sign-in, if any.
    pub key: Option<String>,
}

impl FromRequestParts<Arc<State>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Authed, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("sign in first: this needs a bearer token"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                // The scheme is case-insensitive (RFC 9110, 11.1).
                let (scheme, rest) = v.trim_start().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(rest)
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be “Bearer TOKEN”")
            })?;
        check_token(state, token)
    }
}

/// Signs a token out: it stops working at once, durably.
pub fn sign_out(state: &State, token_hash: &[u8; 32]) -> Result<(), crate::store::StoreError> {
    state.store.remove_token(token_hash)?;
    state.store.flush()
}

/// The user a token belongs to, if it is known and not expired.
pub fn check_token(state: &State, token: &str) -> Result<Authed, ApiError> {
    let hash = token_hash(token);
    let record = state.store.token(&hash)?.ok_or_else(|| {
        ApiError::unauthorized("this sign-in is not known or was ended: sign in again")
    })?;
    if record.expires_at <= crate::now_millis() {
        state.store.remove_token(&hash)?;
        return Err(ApiError::unauthorized(
            "this sign-in has expired: sign in again",
        ));
    }
    let user = state
        .store
        .user(&record.user)?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists: ask an admin"))?;
    if user.disabled {
        return Err(ApiError::unauthorized(
            "this account is disabled: ask an admin",
        ));
    }
    Ok(Authed {
        actor: user.actor(),
        device: record.device,
        token_hash: hash,
        key: record.key,
    })
}

/// Binds a sign-in made before its device had a key (an older app, upgraded since) to the key
/// the device now names, with its proof, registering it for the person as signing in does.
/// Once bound, a sign-in keeps its key; the dashboard's sign-ins are never bound (no phone
/// signs with them).
pub fn bind_key(state: &State, authed: &Authed, key: &str, proof: &str) -> Result<(), ApiError> {
    if authed.device == crate::dashboard::DEVICE {
        return Ok(());
    }
    let key = proven_key(&authed.actor.user, key, proof)?;
    let store = &*state.store;
    let Some(mut token) = store.token(&authed.token_hash)? else {
        return Ok(());
    };
    if token.key.is_some() {
        return Ok(());
    }
    register_device(
        store,
        &key,
        &token.device,
        &authed.actor.user,
        crate::now_millis(),
    )?;
    token.key = Some(key);
    store.put_token(&authed.token_hash, &token)?;
    store.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests;
