//! Accounts: argon2 password hashes, random bearer tokens stored only as their SHA-256, and
//! the extractor that every route but login goes through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, PasswordHash, SaltString};
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

/// Runs argon2 in working memory that the calling thread keeps: allocating and freeing
/// 19 MiB for every hash leaves the allocator holding freed blocks (300 MiB after seeding the
/// demo mine's accounts, and more with every sign-in, when each check had its own).
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
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
fn verify_password(password: &str, phc: &str) -> bool {
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
///   addresses.
///
/// A name signing in from an address where it signed in within [`TRUST_FOR`] waits only for
/// its own wrong passwords there, not for the address's or the name's counts.
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
        // A phone the name signed in from lately is not made to wait for others' guesses, from
        // elsewhere or from its own address (a mine's phones share one behind its gateway).
        let (name_wait, address_wait) = if trusted {
            (None, None)
        } else {
            (
                self.names.wait(&whole, now),
                self.addresses.wait(&addr, now),
            )
        };
        [self.pairs.wait(&pair, now), address_wait, name_wait]
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
/// The checks run on a few threads of their own, each keeping argon2's working memory, so that
/// the server's memory for passwords is that, whatever the number of sign-ins.
#[derive(Debug)]
pub struct Logins {
    /// Password checks running at once: a permit, held by the job until it is done (even if
    /// its client went away), then a worker.
    checks: Arc<tokio::sync::Semaphore>,
    /// A lock for each name being signed in now (by digest), so that one name's tries are
    /// checked one at a time and no other name's wait on them.
    names: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
    /// The workers' queue.
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

impl Logins {
    /// At most `checks` password checks at once (at least one), on as many threads.
    pub fn new(checks: usize) -> Logins {
        let checks = checks.max(1);
        let (send, receive) = std::sync::mpsc::channel::<Job>();
        let receive = Arc::new(Mutex::new(receive));
        for n in 0..checks {
            let receive = receive.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        let job = receive
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password worker");
            }
        }
        Logins {
            checks: Arc::new(tokio::sync::Semaphore::new(checks)),
            names: Mutex::default(),
            jobs: Mutex::new(send),
        }
    }

    /// Waits for `name`'s turn: the tries of one name are checked one after another.
    async fn turn(&self, name: &str) -> NameTurn<'_> {
        let key = digest(&[b"turn", name.as_bytes()]);
        let lock = {
            let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            if names.len() > 1024 {
                // Locks left by tries that gave up waiting: nobody holds or waits for them.
                names.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            names.entry(key).or_default().clone()
        };
        NameTurn {
            logins: self,
            key,
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Runs `f` on a password worker, holding `turn` until it is done, and waits for it. A job
    /// whose client went away before a worker took it is skipped.
    async fn run<T: Send + 'static>(
        &self,
        turn: tokio::sync::OwnedSemaphorePermit,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (send, receive) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if !send.is_closed() {
                let _ = send.send(f());
            }
            drop(turn);
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .ok()?;
        receive.await.ok()
    }
}

/// A name's turn to have its password checked; the name's lock is forgotten when nobody else
/// waits for it.
struct NameTurn<'a> {
    logins: &'a Logins,
    key: [u8; 32],
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for NameTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut names = self
            .logins
            .names
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if names
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            names.remove(&self.key);
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
    let _name_turn = tokio::time::timeout(state.settings.login_wait, state.logins.turn(name))
        .await
        .map_err(|_| busy())?;
    // The tries before this one have counted by now.
    refuse_if_waiting()?;
    let turn = tokio::time::timeout(
        state.settings.login_wait,
        state.logins.checks.clone().acquire_owned(),
    )
    .await
    .map_err(|_| busy())?
    .map_err(|e| ApiError::internal(&e))?;
    let (user, ok) = {
        let shared = state.clone();
        let name = name.to_owned();
        let password = password.to_owned();
        state
            .logins
            .run(turn, move || {
                let user = shared.store.user(&name)?;
                let phc = user
                    .as_ref()
                    .map_or(shared.dummy_hash.as_str(), |u| &u.password);
                let ok = verify_password(&password, phc);
                Ok::<_, ApiError>((user, ok))
            })
            .await
            .ok_or_else(|| ApiError::internal(&"the password workers stopped"))??
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
    fn passwords_hash_and_check_in_kept_memory_and_match_the_library() {
        let phc = hash_password("zonepatrol").expect("hashed");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("zonepatrol", &phc));
        assert!(!verify_password("zonepatrox", &phc));
        assert!(!verify_password("zonepatrol", "not a hash"));
        // The library's own check agrees, both ways.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let parsed = PasswordHash::new(&phc).expect("parsed");
        assert!(
            Argon2::default()
                .verify_password(b"zonepatrol", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"zonepatrol", &SaltString::generate(&mut OsRng))
            .expect("library hash")
            .to_string();
        assert!(verify_password("zonepatrol", &theirs));
    }

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
        // A name that signed in from that address lately (a phone behind the same gateway)
        // is not made to wait for the others' guesses.
        let throttle = LoginThrottle::default();
        throttle.passed("sec", STRANGER, t0);
        for i in 0..FREE_ATTEMPTS_PER_ADDRESS {
            throttle.wrong(&format!("guess{i}"), STRANGER, t0);
        }
        assert_eq!(throttle.wait("sec", STRANGER, t0), None);
        assert_eq!(throttle.wait("anyone", STRANGER, t0), Some(FIRST_WAIT));
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
