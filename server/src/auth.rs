//! Accounts: argon2 password hashes, random bearer tokens stored only as their SHA-256, and
//! the extractor that every route but login goes through.

use std::sync::Arc;

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

/// Checks a password and, if right, issues a token. `None` for a wrong name or password,
/// which take the same time so that names cannot be guessed.
pub fn login(
    state: &State,
    name: &str,
    password: &str,
    device: &str,
) -> Result<Option<(String, TokenRecord, UserRecord)>, ApiError> {
    let user = state.store.user(name)?;
    let phc = user
        .as_ref()
        .map_or(state.dummy_hash.as_str(), |u| &u.password);
    let ok = verify_password(password, phc);
    let Some(user) = user.filter(|_| ok) else {
        return Ok(None);
    };
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
