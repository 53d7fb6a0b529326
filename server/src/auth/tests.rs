//! Passwords, the throttle and the workers.

use super::accounts::*;
use super::throttle::*;
use super::*;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use std::time::Duration;

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
