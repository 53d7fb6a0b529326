//! Accounts: argon2 password hashes, random bearer tokens stored only as their SHA-256, and
//! the extractor that every route but login goes through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zonepatrol_shared::Actor;
use zonepatrol_shared::Role;
use zonepatrol_shared::docs::is_valid_name;

use crate::State;
use crate::error::ApiError;
use crate::store::{Storage, StoreError, TokenRecord, UserRecord};

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The name cannot be a user id.
    #[error("“{0}” cannot be a login name: use 1–64 letters, digits, '-', '_' or '.'")]
    BadName(String),
    /// The password is too short.
    #[error("the password must have at least 8 characters")]
    ShortPassword,
    /// Hashing failed.
    #[error("could not hash the password: {0}")]
    Hash(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Adds a user, or replaces one of the same name (a new password, role or branch).
pub fn add_user(
    store: &dyn Storage,
    name: &str,
    password: &str,
    role: Role,
    branch: &str,
    now: i64,
) -> Result<(), AccountError> {
    if !is_valid_name(name) {
        return Err(AccountError::BadName(name.to_owned()));
    }
    if !is_valid_name(branch) {
        return Err(AccountError::BadName(branch.to_owned()));
    }
    if password.chars().count() < 8 {
        return Err(AccountError::ShortPassword);
    }
    store.put_user(&UserRecord {
        user: name.to_owned(),
        role,
        branch: branch.to_owned(),
        password: hash_password(password)?,
        created_at: now,
    })?;
    store.flush()?;
    Ok(())
}

/// The SHA-256 of a token's text: what the store keys tokens by.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Wrong passwords a name may have in a row before it must wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// The wait after [`FREE_ATTEMPTS`] wrong passwords; each further one doubles it.
pub const FIRST_WAIT: Duration = Duration::from_secs(60);
/// The longest wait.
pub const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// A name whose last wrong password is older than this starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// Names tracked at most; a new one beyond pushes out the one wrong longest ago.
const MAX_TRACKED: usize = 10_000;

/// Slows down password guessing: after [`FREE_ATTEMPTS`] wrong passwords in a row, a name
/// must wait before its password is checked again, one minute doubling up to fifteen. Kept
/// per name (not per address: a shift shares one address behind the mine's gateway), for
/// names that exist and names that do not alike, so that waiting says nothing about which
/// names exist. A try is counted before its password is checked, so that many tries sent at
/// once cannot all pass before the first is counted; a right password then forgets them.
/// Names are kept as their SHA-256, so a long name costs no more than a short one. In memory
/// only: a restart forgives.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    names: Mutex<HashMap<[u8; 32], Misses>>,
}

#[derive(Debug, Clone, Copy)]
struct Misses {
    count: u32,
    last: Instant,
    until: Instant,
}

impl LoginThrottle {
    fn key(name: &str) -> [u8; 32] {
        Sha256::digest(name.as_bytes()).into()
    }

    /// How long `name` must still wait before its password is checked, if at all.
    pub fn wait(&self, name: &str, now: Instant) -> Option<Duration> {
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let misses = names.get(&Self::key(name))?;
        let wait = misses.until.saturating_duration_since(now);
        (!wait.is_zero()).then_some(wait)
    }

    /// Counts a try for `name` as wrong until [`LoginThrottle::passed`] says otherwise, or
    /// answers how long it must wait first.
    pub fn try_once(&self, name: &str, now: Instant) -> Result<(), Duration> {
        let key = Self::key(name);
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(misses) = names.get(&key) {
            let wait = misses.until.saturating_duration_since(now);
            if !wait.is_zero() {
                return Err(wait);
            }
        }
        if names.len() >= MAX_TRACKED && !names.contains_key(&key) {
            // Make room: a name whose wait is over goes first, then the one wrong longest ago.
            let victim = names
                .iter()
                .min_by_key(|(_, m)| (m.until > now, m.last))
                .map(|(k, _)| *k);
            if let Some(victim) = victim {
                names.remove(&victim);
            }
        }
        let misses = names.entry(key).or_insert(Misses {
            count: 0,
            last: now,
            until: now,
        });
        if now.saturating_duration_since(misses.last) > FORGET_AFTER {
            misses.count = 0;
        }
        misses.count = misses.count.saturating_add(1);
        misses.last = now;
        if let Some(beyond) = misses.count.checked_sub(FREE_ATTEMPTS) {
            let wait = FIRST_WAIT
                .saturating_mul(1 << beyond.min(10))
                .min(LONGEST_WAIT);
            misses.until = now + wait;
        }
        Ok(())
    }

    /// Forgets the tries of `name` after a right password.
    pub fn passed(&self, name: &str) {
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        names.remove(&Self::key(name));
    }
}

/// Checks a password and, if right, issues a token. `None` for a wrong name or password,
/// which take the same time so that names cannot be guessed. A name with too many wrong
/// passwords in a row is answered 429 without checking, until its wait is over.
pub fn login(
    state: &State,
    name: &str,
    password: &str,
    device: &str,
) -> Result<Option<(String, TokenRecord, UserRecord)>, ApiError> {
    state
        .login_throttle
        .try_once(name, Instant::now())
        .map_err(ApiError::too_many_attempts)?;
    let user = state.store.user(name)?;
    let phc = user
        .as_ref()
        .map_or(state.dummy_hash.as_str(), |u| &u.password);
    let ok = verify_password(password, phc);
    let Some(user) = user.filter(|_| ok) else {
        return Ok(None);
    };
    state.login_throttle.passed(name);
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let now = crate::now_millis();
    let ttl = i64::try_from(state.settings.token_ttl.as_millis()).unwrap_or(i64::MAX);
    let record = TokenRecord {
        user: user.user.clone(),
        device: device.chars().take(100).collect(),
        created_at: now,
        expires_at: now.saturating_add(ttl),
    };
    state.store.put_token(&token_hash(&token), &record)?;
    state.store.flush()?;
    Ok(Some((token, record, user)))
}

/// A request's authenticated user; extracting it answers 401 when there is none.
#[derive(Debug, Clone)]
pub struct Authed {
    /// Who.
    pub actor: Actor,
    /// The SHA-256 of the token used, to revoke it at logout.
    pub token_hash: [u8; 32],
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
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be “Bearer TOKEN”")
            })?;
        check_token(state, token)
    }
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
    Ok(Authed {
        actor: Actor {
            user: user.user,
            role: user.role,
            branch: user.branch,
        },
        token_hash: hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_waits_after_five_wrong_passwords_and_longer_after_each_more() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_ATTEMPTS - 1 {
            assert_eq!(throttle.try_once("sec", t0), Ok(()));
            assert_eq!(throttle.wait("sec", t0), None, "the first four are free");
        }
        assert_eq!(throttle.try_once("sec", t0), Ok(()), "the fifth is tried");
        assert_eq!(throttle.wait("sec", t0), Some(FIRST_WAIT));
        assert_eq!(
            throttle.try_once("sec", t0),
            Err(FIRST_WAIT),
            "the sixth waits"
        );
        assert_eq!(
            throttle.wait("Sec", t0),
            None,
            "names are exact, as accounts are"
        );
        let later = t0 + FIRST_WAIT;
        assert_eq!(throttle.wait("sec", later), None, "the wait ends");
        assert_eq!(throttle.try_once("sec", later), Ok(()));
        assert_eq!(throttle.wait("sec", later), Some(FIRST_WAIT * 2));
        let mut now = later;
        for _ in 0..10 {
            now += LONGEST_WAIT;
            assert_eq!(throttle.try_once("sec", now), Ok(()));
        }
        assert_eq!(throttle.wait("sec", now), Some(LONGEST_WAIT), "capped");
        throttle.passed("sec");
        assert_eq!(throttle.wait("sec", now), None, "a right password forgives");
    }

    #[test]
    fn tries_sent_at_once_are_counted_before_any_password_is_checked() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        let let_through = (0..100)
            .filter(|_| throttle.try_once("sec", t0).is_ok())
            .count();
        assert_eq!(let_through, FREE_ATTEMPTS as usize);
    }

    #[test]
    fn a_day_without_wrong_passwords_starts_the_count_afresh() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_ATTEMPTS - 1 {
            assert_eq!(throttle.try_once("sec", t0), Ok(()));
        }
        let next_day = t0 + FORGET_AFTER + Duration::from_secs(1);
        assert_eq!(throttle.try_once("sec", next_day), Ok(()));
        assert_eq!(throttle.wait("sec", next_day), None);
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_names_that_are_waiting() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(throttle.try_once("victim", t0), Ok(()));
        }
        let long_name = "x".repeat(1_000);
        for i in 0..MAX_TRACKED + 10 {
            let at = t0 + Duration::from_millis(u64::try_from(i).unwrap_or(0));
            let name = format!("{long_name}{i}");
            assert_eq!(throttle.try_once(&name, at), Ok(()));
        }
        let names = throttle
            .names
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        assert_eq!(names.len(), MAX_TRACKED);
        drop(names);
        assert!(
            throttle.wait("victim", t0).is_some(),
            "a waiting name is not pushed out by a flood of others"
        );
    }
}
