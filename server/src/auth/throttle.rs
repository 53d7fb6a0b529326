//! The waits after wrong passwords, per name and address, per address and per name.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use std::sync::Arc;

use crate::store::{LoginCounts, MissRule, Storage};

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
pub(super) const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How long an address where a name signed in stays exempt from that name's wait everywhere.
const TRUST_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Entries kept at most in each table; a new one beyond pushes out the one wrong longest ago.
pub(super) const MAX_TRACKED: usize = 10_000;

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
/// SHA-256 digests, so a long name costs no more than a short one. In memory (a restart
/// forgives), or, when several instances share a database, in the database
/// ([`Storage::login_counts`], timed by its clock), so that N instances do not allow N times
/// the guesses; should the database fail, the counts in memory stand in.
#[derive(Default)]
pub struct LoginThrottle {
    pub(super) pairs: Table,
    pub(super) names: Table,
    addresses: Table,
    trusted: Mutex<HashMap<[u8; 32], Instant>>,
    shared: Option<Arc<dyn Storage>>,
}

/// One count of wrong passwords in a row per key.
#[derive(Debug, Default)]
pub(super) struct Table {
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
        if let Some(wait) = rule(free).wait(misses.count) {
            misses.until = now + wait;
        }
    }

    fn forget(&self, key: &[u8; 32]) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(key);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The rule of a count with `free` wrong passwords before its first wait.
fn rule(free: u32) -> MissRule {
    MissRule {
        free,
        first: FIRST_WAIT,
        longest: LONGEST_WAIT,
        forget_after: FORGET_AFTER,
    }
}

pub(super) fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

pub(super) fn address_bytes(address: Option<IpAddr>) -> Vec<u8> {
    match address {
        // An IPv6 client can pick any address in its /64: count the /64.
        Some(IpAddr::V6(v6)) => v6.octets()[..8].to_vec(),
        Some(IpAddr::V4(v4)) => v4.octets().to_vec(),
        None => Vec::new(),
    }
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// Counting in the store's shared counts when it keeps them, else in memory.
    pub fn over(store: Arc<dyn Storage>) -> LoginThrottle {
        LoginThrottle {
            shared: store.login_counts().is_some().then_some(store),
            ..Default::default()
        }
    }

    fn counts(&self) -> Option<&dyn LoginCounts> {
        self.shared.as_deref().and_then(|s| s.login_counts())
    }

    /// The wait from the shared counts; `None` when they cannot be read.
    fn shared_wait(
        counts: &dyn LoginCounts,
        (pair, whole, addr): ([u8; 32], [u8; 32], [u8; 32]),
    ) -> Result<Option<Duration>, crate::store::StoreError> {
        let trusted = counts.trusted(&pair, TRUST_FOR)?;
        let mut waits = vec![counts.wait("pair", &pair)?];
        if !trusted {
            waits.push(counts.wait("name", &whole)?);
            waits.push(counts.wait("addr", &addr)?);
        }
        Ok(waits.into_iter().flatten().max())
    }

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
        // The database's counts, and beside them this process's, which stand in for them
        // while the database cannot count: the longer wait holds.
        let shared = self.counts().and_then(|counts| {
            Self::shared_wait(counts, Self::keys(name, address))
                .inspect_err(|e| {
                    tracing::error!(error = %e, "the shared login counts do not read: counting here");
                })
                .ok()
                .flatten()
        });
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
        [self.pairs.wait(&pair, now), address_wait, name_wait, shared]
            .into_iter()
            .flatten()
            .max()
    }

    /// Counts a wrong password for `name` from `address`.
    pub fn wrong(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        let (pair, whole, addr) = Self::keys(name, address);
        if let Some(counts) = self.counts() {
            let counted = counts
                .wrong("pair", &pair, rule(FREE_ATTEMPTS))
                .and_then(|()| counts.wrong("name", &whole, rule(FREE_ATTEMPTS_ANYWHERE)))
                .and_then(|()| counts.wrong("addr", &addr, rule(FREE_ATTEMPTS_PER_ADDRESS)));
            match counted {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(error = %e, "could not count a wrong password in the database: counting here")
                }
            }
        }
        self.pairs.wrong(pair, FREE_ATTEMPTS, now);
        self.names.wrong(whole, FREE_ATTEMPTS_ANYWHERE, now);
        self.addresses.wrong(addr, FREE_ATTEMPTS_PER_ADDRESS, now);
    }

    /// Forgets the wrong passwords of `name` and of `address` after a right password, and
    /// trusts the address for the name.
    pub fn passed(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        let (pair, whole, addr) = Self::keys(name, address);
        if let Some(counts) = self.counts() {
            let forgotten = counts
                .forget("pair", &pair)
                .and_then(|()| counts.forget("name", &whole))
                .and_then(|()| counts.forget("addr", &addr))
                .and_then(|()| counts.trust(&pair));
            if let Err(e) = forgotten {
                tracing::error!(error = %e, "could not forget wrong passwords in the database");
            }
        }
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
