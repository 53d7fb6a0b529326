//! Accounts: argon2 password hashes, computed in working memory the thread keeps, and users.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, PasswordHash, SaltString};

use sha2::{Digest, Sha256};
use zonepatrol_shared::Role;
use zonepatrol_shared::docs::is_valid_name;

use crate::store::{Storage, StoreError, UserRecord};

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The name cannot be a user id.
    #[error("“{0}” cannot be a login name: use 1–64 letters, digits, '-', '_' or '.'")]
    BadName(String),
    /// The password is too short.
    #[error("the password must have at least 8 characters")]
    ShortPassword,
    /// No role was given.
    #[error("name at least one role")]
    NoRole,
    /// Hashing failed.
    #[error("could not hash the password: {0}")]
    Hash(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs argon2 in working memory that the calling thread keeps: allocating and freeing
/// 19 MiB for every hash leaves the allocator holding freed blocks (300 MiB after seeding the
/// demo mine's accounts, and more with every sign-in, when each check had its own).
pub(super) fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
    thread_local! {
        static MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        f(&mut memory[..blocks])
    })
}

/// Hashes a password with argon2id (the library's default parameters) and a random salt, as
/// a PHC string.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let fail = |e: password_hash::Error| AccountError::Hash(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_bytes).map_err(fail)?;
    let params = argon2::Params::default();
    let (algorithm, version) = (argon2::Algorithm::Argon2id, argon2::Version::V0x13);
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
    })
    .map_err(|e| AccountError::Hash(e.to_string()))?;
    let hash = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: password_hash::ParamsString::try_from(&params).map_err(fail)?,
        salt: Some(salt.as_salt()),
        hash: Some(password_hash::Output::new(&out).map_err(fail)?),
    };
    Ok(hash.to_string())
}

/// Checks a password against its PHC string, in argon2's working memory kept by the calling
/// thread (a [`Logins`] worker).
pub(super) fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = hash
        .version
        .and_then(|v| argon2::Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let done = with_memory(blocks, |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
    });
    // `Output`'s comparison takes the same time wherever the bytes differ.
    done.is_ok() && password_hash::Output::new(&out).is_ok_and(|out| out == expected)
}

/// Checks a new account's name, branch and password.
pub fn check_new_account(name: &str, password: &str, branch: &str) -> Result<(), AccountError> {
    if !is_valid_name(name) {
        return Err(AccountError::BadName(name.to_owned()));
    }
    if !is_valid_name(branch) {
        return Err(AccountError::BadName(branch.to_owned()));
    }
    if password.chars().count() < 8 {
        return Err(AccountError::ShortPassword);
    }
    Ok(())
}

/// Adds a user, or replaces one of the same name (a new password, roles or branch; the old
/// sign-ins end). `roles` holds at least one role, the main one first.
pub fn add_user(
    store: &dyn Storage,
    name: &str,
    password: &str,
    roles: &[Role],
    branch: &str,
    now: i64,
) -> Result<(), AccountError> {
    check_new_account(name, password, branch)?;
    let Some((&role, more)) = roles.split_first() else {
        return Err(AccountError::NoRole);
    };
    let actor = zonepatrol_shared::Actor::new(name, role, branch).also(more);
    store.put_user(&UserRecord {
        user: name.to_owned(),
        role,
        also: actor.also,
        branch: branch.to_owned(),
        password: hash_password(password)?,
        created_at: now,
        disabled: false,
    })?;
    sign_out_user(store, name)?;
    store.flush()?;
    Ok(())
}

/// Ends every sign-in of a user (a new password, a disabled or replaced account).
pub fn sign_out_user(store: &dyn Storage, user: &str) -> Result<(), StoreError> {
    for (hash, _) in store.tokens_of(user)? {
        store.remove_token(&hash)?;
    }
    Ok(())
}

/// The SHA-256 of a token's text: what the store keys tokens by.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
