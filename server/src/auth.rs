//! Accounts: argon2 password hashes, random bearer tokens stored only as their SHA-256, and
//! the extractor that every route but login goes through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
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

/// Wrong passwords a name may have in a row from one address before it must wait there.
pub const FREE_ATTEMPTS: u32 = 5;
/// Wrong passwords a name may have in a row from all addresses together before it waits
/// everywhere but at the addresses it signed in from lately: guessing spread over many
/// addresses.
pub const FREE_ATTEMPTS_ANYWHERE: u32 = 50;
/// Wrong passwords one address may send in a row, whatever the names, before it waits: one
/// guesser trying many names.
pub const FREE_ATTEMPTS_PER_ADDRESS: u32 = 30;
/// The wait after the free attempts; each further wrong password doubles it.
pub const FIRST_WAIT: Duration = Duration::from_secs(60);
/// The longest wait.
pub const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// A count whose last wrong password is older than this starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How long an address where a name signed in stays exempt from that name's wait everywhere.
const TRUST_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Entries kept at most in each table; a new one beyond pushes out the one wrong longest ago.
const MAX_TRACKED: usize = 10_000;

/// Slows down password guessing without letting a guesser lock anyone out.
///
/// Three counts of wrong passwords in a row, each with its own wait (one minute after the
/// free attempts, doubling with each further wrong one, up to fifteen):
/// - per name and address ([`FREE_ATTEMPTS`]): a guesser at one address waits there, while
///   the person signs in from their own phone elsewhere as usual;
/// - per address ([`FREE_ATTEMPTS_PER_ADDRESS`]): one address trying many names;
/// - per name from anywhere ([`FREE_ATTEMPTS_ANYWHERE`]): guessing spread over many
///   addresses; addresses where the name signed in within [`TRUST_FOR`] are exempt.
///
/// Names that exist and names that do not are counted alike, so that waiting says nothing
/// about which names exist. A try is counted only after its password was checked, and tries
/// of one name are checked one at a time (see [`Logins`]), so a right password is never
/// counted as a wrong one and many tries sent at once cannot pass the count. Keys are
/// SHA-256 digests, so a long name costs no more than a short one. In memory only: a restart
/// forgives.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    pairs: Table,
    names: Table,
    addresses: Table,
    trusted: Mutex<HashMap<[u8; 32], Instant>>,
}

/// One count of wrong passwords in a row per key.
#[derive(Debug, Default)]
struct Table {
    map: Mutex<HashMap<[u8; 32], Misses>>,
}

#[derive(Debug, Clone, Copy)]
struct Misses {
    count: u32,
    last: Instant,
    until: Instant,
}

impl Table {
    fn wait(&self, key: &[u8; 32], now: Instant) -> Option<Duration> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = map.get(key)?.until.saturating_duration_since(now);
        (!wait.is_zero()).then_some(wait)
    }

    fn wrong(&self, key: [u8; 32], free: u32, now: Instant) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
            // Make room: an entry whose wait is over goes first, then the one wrong longest ago.
            let victim = map
                .iter()
                .min_by_key(|(_, m)| (m.until > now, m.last))
                .map(|(k, _)| *k);
            if let Some(victim) = victim {
                map.remove(&victim);
            }
        }
        let misses = map.entry(key).or_insert(Misses {
            count: 0,
            last: now,
            until: now,
        });
        if now.saturating_duration_since(misses.last) > FORGET_AFTER {
            misses.count = 0;
        }
        misses.count = misses.count.saturating_add(1);
        misses.last = now;
        if let Some(beyond) = misses.count.checked_sub(free) {
            let wait = FIRST_WAIT
                .saturating_mul(1 << beyond.min(10))
                .min(LONGEST_WAIT);
            misses.until = now + wait;
        }
    }

    fn forget(&self, key: &[u8; 32]) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

fn address_bytes(address: Option<IpAddr>) -> Vec<u8> {
    match address {
        // An IPv6 client can pick any address in its /64: count the /64.
        Some(IpAddr::V6(v6)) => v6.octets()[..8].to_vec(),
        Some(IpAddr::V4(v4)) => v4.octets().to_vec(),
        None => Vec::new(),
    }
}

impl LoginThrottle {
    fn keys(name: &str, address: Option<IpAddr>) -> ([u8; 32], [u8; 32], [u8; 32]) {
        let addr = address_bytes(address);
        (
            digest(&[b"pair", name.as_bytes(), &addr]),
            digest(&[b"name", name.as_bytes()]),
            digest(&[b"addr", &addr]),
        )
    }

    /// How long a try for `name` from `address` must still wait before its password is
    /// checked, if at all.
    pub fn wait(&self, name: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let (pair, whole, addr) = Self::keys(name, address);
        let trusted = self
            .trusted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&pair)
            .is_some_and(|since| now.saturating_duration_since(*since) < TRUST_FOR);
        let name_wait = if trusted {
            None
        } else {
            self.names.wait(&whole, now)
        };
        [
            self.pairs.wait(&pair, now),
            self.addresses.wait(&addr, now),
            name_wait,
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// Counts a wrong password for `name` from `address`.
    pub fn wrong(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        let (pair, whole, addr) = Self::keys(name, address);
        self.pairs.wrong(pair, FREE_ATTEMPTS, now);
        self.names.wrong(whole, FREE_ATTEMPTS_ANYWHERE, now);
        self.addresses.wrong(addr, FREE_ATTEMPTS_PER_ADDRESS, now);
    }

    /// Forgets the wrong passwords of `name` and of `address` after a right password, and
    /// trusts the address for the name.
    pub fn passed(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        let (pair, whole, addr) = Self::keys(name, address);
        self.pairs.forget(&pair);
        self.names.forget(&whole);
        self.addresses.forget(&addr);
        let mut trusted = self.trusted.lock().unwrap_or_else(PoisonError::into_inner);
        if trusted.len() >= MAX_TRACKED && !trusted.contains_key(&pair) {
            let oldest = trusted.iter().min_by_key(|(_, at)| **at).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                trusted.remove(&oldest);
            }
        }
        trusted.insert(pair, now);
    }
}

/// Password checks in progress: bounded, so that a flood of sign-ins neither holds argon2's
/// memory (19 MiB each) without limit nor takes every core from the sync path, and one at a
/// time per name, so that the throttle sees each try's outcome before the next is let in.
#[derive(Debug)]
pub struct Logins {
    /// Password checks running at once.
    checks: tokio::sync::Semaphore,
    /// Names are spread over these locks by their digest.
    names: Vec<tokio::sync::Mutex<()>>,
}

impl Logins {
    /// At most `checks` password checks at once (at least one).
    pub fn new(checks: usize) -> Logins {
        Logins {
            checks: tokio::sync::Semaphore::new(checks.max(1)),
            names: (0..256).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }
}

fn busy() -> ApiError {
    ApiError::busy(
        2,
        "the server is busy with other sign-ins: try again in a few seconds",
    )
}

/// Checks a password and, if right, issues a token. `None` for a wrong name or password,
/// which take the same time so that names cannot be guessed. A try that must wait (see
/// [`LoginThrottle`]) is answered 429 without checking; one that finds the server too busy to
/// check it soon is answered 503. The password work runs on the blocking pool.
pub async fn login(
    state: &Arc<State>,
    name: &str,
    password: &str,
    device: &str,
    address: Option<IpAddr>,
) -> Result<Option<(String, TokenRecord, UserRecord)>, ApiError> {
    let refuse_if_waiting = || match state.login_throttle.wait(name, address, Instant::now()) {
        Some(wait) => Err(ApiError::too_many_attempts(wait)),
        None => Ok(()),
    };
    refuse_if_waiting()?;
    let stripe = usize::from(digest(&[name.as_bytes()])[0]) % state.logins.names.len();
    let _name_turn =
        tokio::time::timeout(state.settings.login_wait, state.logins.names[stripe].lock())
            .await
            .map_err(|_| busy())?;
    // The tries before this one have counted by now.
    refuse_if_waiting()?;
    let _check_turn =
        tokio::time::timeout(state.settings.login_wait, state.logins.checks.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|e| ApiError::internal(&e))?;
    let (user, ok) = {
        let state = state.clone();
        let name = name.to_owned();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let user = state.store.user(&name)?;
            let phc = user
                .as_ref()
                .map_or(state.dummy_hash.as_str(), |u| &u.password);
            let ok = verify_password(&password, phc);
            Ok::<_, ApiError>((user, ok))
        })
        .await
        .map_err(|e| ApiError::internal(&e))??
    };
    let now = Instant::now();
    let Some(user) = user.filter(|_| ok) else {
        state.login_throttle.wrong(name, address, now);
        return Ok(None);
    };
    state.login_throttle.passed(name, address, now);
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
    let store = state.store.clone();
    let hash = token_hash(&token);
    let stored = record.clone();
    tokio::task::spawn_blocking(move || {
        store.put_token(&hash, &stored)?;
        store.flush()
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(Some((token, record, user)))
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

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const STRANGER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 66)));

    #[test]
    fn a_name_waits_at_an_address_after_five_wrong_passwords_and_longer_after_each_more() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_ATTEMPTS - 1 {
            throttle.wrong("sec", STRANGER, t0);
            assert_eq!(
                throttle.wait("sec", STRANGER, t0),
                None,
                "the first four are free"
            );
        }
        throttle.wrong("sec", STRANGER, t0);
        assert_eq!(throttle.wait("sec", STRANGER, t0), Some(FIRST_WAIT));
        assert_eq!(
            throttle.wait("sec", HOME, t0),
            None,
            "a stranger's guesses do not lock the user out at their own address"
        );
        assert_eq!(throttle.wait("Sec", STRANGER, t0), None, "names are exact");
        let later = t0 + FIRST_WAIT;
        assert_eq!(throttle.wait("sec", STRANGER, later), None, "the wait ends");
        throttle.wrong("sec", STRANGER, later);
        assert_eq!(throttle.wait("sec", STRANGER, later), Some(FIRST_WAIT * 2));
        let mut now = later;
        for _ in 0..10 {
            now += LONGEST_WAIT;
            throttle.wrong("sec", STRANGER, now);
        }
        assert_eq!(
            throttle.wait("sec", STRANGER, now),
            Some(LONGEST_WAIT),
            "capped"
        );
        throttle.passed("sec", STRANGER, now);
        assert_eq!(
            throttle.wait("sec", STRANGER, now),
            None,
            "a right password forgives"
        );
    }

    #[test]
    fn one_address_trying_many_names_waits() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for i in 0..FREE_ATTEMPTS_PER_ADDRESS {
            throttle.wrong(&format!("guess{i}"), STRANGER, t0);
        }
        assert_eq!(throttle.wait("anyone", STRANGER, t0), Some(FIRST_WAIT));
        assert_eq!(throttle.wait("anyone", HOME, t0), None);
    }

    #[test]
    fn guessing_one_name_from_many_addresses_spares_the_addresses_it_signed_in_from() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        throttle.passed("mgr", HOME, t0);
        for i in 0..FREE_ATTEMPTS_ANYWHERE {
            let octets = i.to_be_bytes();
            let address = IpAddr::V4(std::net::Ipv4Addr::new(172, 16, octets[2], octets[3]));
            throttle.wrong("mgr", Some(address), t0);
        }
        assert_eq!(throttle.wait("mgr", STRANGER, t0), Some(FIRST_WAIT));
        assert_eq!(
            throttle.wait("mgr", HOME, t0),
            None,
            "the user's own address"
        );
    }

    #[test]
    fn a_day_without_wrong_passwords_starts_the_count_afresh() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_ATTEMPTS - 1 {
            throttle.wrong("sec", STRANGER, t0);
        }
        let next_day = t0 + FORGET_AFTER + Duration::from_secs(1);
        throttle.wrong("sec", STRANGER, next_day);
        assert_eq!(throttle.wait("sec", STRANGER, next_day), None);
    }

    #[test]
    fn the_tables_stay_bounded_and_keep_entries_that_are_waiting() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_ATTEMPTS {
            throttle.wrong("victim", STRANGER, t0);
        }
        let long_name = "x".repeat(1_000);
        for i in 0..MAX_TRACKED + 10 {
            let at = t0 + Duration::from_millis(u64::try_from(i).unwrap_or(0));
            throttle.wrong(&format!("{long_name}{i}"), HOME, at);
        }
        assert_eq!(throttle.pairs.len(), MAX_TRACKED);
        assert_eq!(throttle.names.len(), MAX_TRACKED);
        assert!(
            throttle.wait("victim", STRANGER, t0).is_some(),
            "a waiting entry is not pushed out by a flood of others"
        );
    }
}
