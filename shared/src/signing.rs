//! Signatures over changes, and the server's hash-chained log of what it accepted.
//!
//! Every phone holds an Ed25519 key of its own ([`DeviceKey`], made on first start, registered
//! with the server when someone signs in on it). Every change a phone sends travels with a
//! signature: one per document and batch, over the hashes of the changes in it
//! ([`SignedChanges`], message [`change_message`]). The server checks it before anything else,
//! refuses changes no registered, unrevoked key of their author signed, and keeps the
//! signatures beside the changes in an append-only log, each entry chained to the one before
//! ([`log_link`]). The server signs what it writes itself (reports, the console's edits) with a
//! key of its own, naming the person it wrote for. `docs/PROTOCOL.md` describes the same for
//! anyone writing a client or an auditor.
//!
//! Everything here is pure: the keys' random seeds come from the caller.

use automerge::ChangeHash;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What every change signature's message starts with: a signature made for something else can
/// never pass for one over changes.
pub const CHANGE_CONTEXT: &[u8] = b"zonepatrol-change-v1\0";
/// What every log link's hash starts with.
pub const LOG_CONTEXT: &[u8] = b"zonepatrol-log-v1\0";
/// What every checkpoint signature's message starts with.
pub const CHECKPOINT_CONTEXT: &[u8] = b"zonepatrol-checkpoint-v2\0";
/// What every registration proof's message starts with.
pub const REGISTER_CONTEXT: &[u8] = b"zonepatrol-register-v1\0";

/// Signed batches one pushed document may carry: a phone signs its own changes in one, a
/// carrier adds one for each phone it carries for.
pub const MAX_SIGNED_PER_PUSH: usize = 16;

/// A public key: what names a device (or the server), 64 lowercase hex digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 32]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl std::str::FromStr for KeyId {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<KeyId, SignatureError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| SignatureError::BadKey(cut(s)))?;
        // A point that is not on the curve is no key at all.
        VerifyingKey::from_bytes(&bytes).map_err(|_| SignatureError::BadKey(cut(s)))?;
        Ok(KeyId(bytes))
    }
}

/// A key (or hash) written in hex, cut to its first 8 digits: enough to tell a person's phones
/// apart on a page or in a message.
pub fn short(hex: &str) -> &str {
    hex.get(..8).unwrap_or(hex)
}

/// Text from outside, cut short enough to quote in an error.
fn cut(s: &str) -> String {
    s.chars().take(80).collect()
}

/// A private key: a phone's or the server's. Its `Debug` shows the public half alone.
#[derive(Clone)]
pub struct DeviceKey(SigningKey);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey({})", self.id())
    }
}

impl DeviceKey {
    /// The key from its 32-byte secret seed (random, from the caller).
    pub fn from_seed(seed: [u8; 32]) -> DeviceKey {
        DeviceKey(SigningKey::from_bytes(&seed))
    }

    /// The secret seed, to keep.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The X25519 secret of this key (the Montgomery form of its public half is its public
    /// key): what opens envelopes sealed to it ([`crate::relay::seal`]).
    pub fn scalar_bytes(&self) -> [u8; 32] {
        self.0.to_scalar_bytes()
    }

    /// The public key.
    pub fn id(&self) -> KeyId {
        KeyId(self.0.verifying_key().to_bytes())
    }

    /// Signs a message.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Proves, when registering this key for `user`, that the phone holds its private half
    /// ([`register_message`]), base64.
    pub fn prove(&self, user: &str) -> String {
        crate::protocol::b64::encode(&self.sign(&register_message(user, &self.id())))
    }

    /// Signs changes to document `doc` made by (or, for the server's key, for) `user`.
    pub fn sign_changes(&self, doc: &str, user: &str, hashes: &[ChangeHash]) -> SignedChanges {
        let sig = self.sign(&change_message(doc, user, hashes));
        SignedChanges {
            key: self.id().to_string(),
            user: user.to_owned(),
            hashes: hashes.iter().map(ToString::to_string).collect(),
            sig: crate::protocol::b64::encode(&sig),
        }
    }
}

/// Changes to one document, signed by one key: the device that made them, or the server for
/// the person it made them for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedChanges {
    /// The signing key ([`KeyId`], hex).
    pub key: String,
    /// Whom the changes are by: the person signed in on the device when they were made.
    pub user: String,
    /// The changes' hashes, hex, in the order signed.
    pub hashes: Vec<String>,
    /// The Ed25519 signature over [`change_message`], base64.
    pub sig: String,
}

/// What a change signature signs: [`CHANGE_CONTEXT`], the document id, a zero byte, the user,
/// a zero byte, then each change hash's 32 bytes in order.
pub fn change_message(doc: &str, user: &str, hashes: &[ChangeHash]) -> Vec<u8> {
    let mut m =
        Vec::with_capacity(CHANGE_CONTEXT.len() + doc.len() + user.len() + 2 + 32 * hashes.len());
    m.extend_from_slice(CHANGE_CONTEXT);
    m.extend_from_slice(doc.as_bytes());
    m.push(0);
    m.extend_from_slice(user.as_bytes());
    m.push(0);
    for h in hashes {
        m.extend_from_slice(&h.0);
    }
    m
}

/// What a registration proof signs: [`REGISTER_CONTEXT`], the user, a zero byte, and the key's
/// 32 bytes. Nobody can register another phone's public key for themselves.
pub fn register_message(user: &str, key: &KeyId) -> Vec<u8> {
    let mut m = REGISTER_CONTEXT.to_vec();
    m.extend_from_slice(user.as_bytes());
    m.push(0);
    m.extend_from_slice(&key.0);
    m
}

/// Checks a registration proof (base64) of `key` for `user`.
pub fn check_proof(user: &str, key: &KeyId, proof: &str) -> Result<(), SignatureError> {
    let sig = crate::protocol::b64::decode(proof).map_err(|_| SignatureError::Malformed)?;
    verify(key, &register_message(user, key), &sig)
}

/// Why a signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not a public key.
    #[error("“{0}” is not a device key (64 hex digits of an Ed25519 public key)")]
    BadKey(String),
    /// Not a change hash.
    #[error("“{0}” is not a change hash (64 hex digits)")]
    BadHash(String),
    /// Not 64 bytes of base64.
    #[error("a signature is not 64 bytes of base64")]
    Malformed,
    /// Well formed, but not made by that key over that message.
    #[error("a signature does not match what it signs: the changes or their author were altered")]
    Wrong,
}

/// Checks an Ed25519 signature strictly (no malleable or weak-key signatures pass).
pub fn verify(key: &KeyId, message: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
    let key = verifying_key(key)?;
    let sig = <[u8; 64]>::try_from(sig).map_err(|_| SignatureError::Malformed)?;
    key.verify_strict(message, &Signature::from_bytes(&sig))
        .map_err(|_| SignatureError::Wrong)
}

/// How many decompressed keys [`verifying_key`] keeps: a branch's phones and then some.
const KEYS_KEPT: usize = 4_096;

/// A key as a point on the curve, decompressed once and kept (the same few keys sign every
/// change a server sees): decompressing costs about a fifth of a verification.
fn verifying_key(key: &KeyId) -> Result<VerifyingKey, SignatureError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static KEPT: OnceLock<Mutex<HashMap<[u8; 32], VerifyingKey>>> = OnceLock::new();
    let kept = KEPT.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = kept.lock().unwrap_or_else(|e| e.into_inner()).get(&key.0) {
        return Ok(*found);
    }
    let decompressed =
        VerifyingKey::from_bytes(&key.0).map_err(|_| SignatureError::BadKey(key.to_string()))?;
    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() >= KEYS_KEPT {
        kept.clear();
    }
    kept.insert(key.0, decompressed);
    Ok(decompressed)
}

impl SignedChanges {
    /// The signing key.
    pub fn key_id(&self) -> Result<KeyId, SignatureError> {
        self.key.parse()
    }

    /// The signed hashes.
    pub fn change_hashes(&self) -> Result<Vec<ChangeHash>, SignatureError> {
        self.hashes
            .iter()
            .map(|h| h.parse().map_err(|_| SignatureError::BadHash(cut(h))))
            .collect()
    }

    /// Checks the signature for document `doc`; the key and the hashes it covers.
    pub fn verify(&self, doc: &str) -> Result<(KeyId, Vec<ChangeHash>), SignatureError> {
        let key = self.key_id()?;
        let hashes = self.change_hashes()?;
        let sig = crate::protocol::b64::decode(&self.sig).map_err(|_| SignatureError::Malformed)?;
        verify(&key, &change_message(doc, &self.user, &hashes), &sig)?;
        Ok((key, hashes))
    }
}

/// One entry of the server's log: one accepted write of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The document.
    pub doc: String,
    /// When the server accepted it (ms since the Unix epoch).
    pub at: i64,
    /// Who handed it to the server: the signed-in person whose request carried it, or
    /// `server` for the server's own writes.
    pub by: String,
    /// The hashes of the changes the write added, hex.
    pub changes: Vec<String>,
    /// The signatures that cover them (each change by at least one).
    pub signed: Vec<SignedChanges>,
    /// When another phone carried the changes to the server for their author (`by`): that
    /// phone's person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

impl LogEntry {
    /// The entry as stored and hashed: its JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// An entry from its stored bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<LogEntry, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// The hash that chains a log entry to the one before: SHA-256 of [`LOG_CONTEXT`], the previous
/// link (32 zero bytes for the first entry), the entry's sequence number (8 bytes, big-endian),
/// the branch of its document (one byte of length, then the name; empty for the mine's rules)
/// and the SHA-256 of the entry's bytes ([`body_digest`]). Removing, reordering or changing any
/// entry breaks every link after it. An export for one branch gives other branches' entries by
/// their branch and digest alone: the chain still checks, and an entry of the branch itself
/// cannot pass for another's.
pub fn log_link(prev: &[u8; 32], seq: u64, branch: &str, body: &[u8]) -> [u8; 32] {
    link_over_digest(prev, seq, branch, &body_digest(body))
}

/// The SHA-256 of a log entry's bytes.
pub fn body_digest(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

/// [`log_link`] from the entry's digest.
pub fn link_over_digest(prev: &[u8; 32], seq: u64, branch: &str, digest: &[u8; 32]) -> [u8; 32] {
    let branch = &branch.as_bytes()[..branch.len().min(255)];
    let mut h = Sha256::new();
    h.update(LOG_CONTEXT);
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update([branch.len() as u8]);
    h.update(branch);
    h.update(digest);
    h.finalize().into()
}

/// What a checkpoint signature signs: [`CHECKPOINT_CONTEXT`], the sequence number of the last
/// entry (8 bytes, big-endian), its link, and when (ms, 8 bytes big-endian, two's complement):
/// a checkpoint says how recent the log it vouches for is.
pub fn checkpoint_message(seq: u64, link: &[u8; 32], at: i64) -> Vec<u8> {
    let mut m = CHECKPOINT_CONTEXT.to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(link);
    m.extend_from_slice(&at.to_be_bytes());
    m
}

/// The server's signed word that its log stood at `seq` with `link`: made after each sync
/// request that wrote, kept by the server, and sent to the phone that made the request, so
/// that a log rewritten later no longer matches what phones hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The sequence number of the log's last entry.
    pub seq: u64,
    /// That entry's link, hex.
    pub link: String,
    /// When (ms).
    pub at: i64,
    /// The server's signature over [`checkpoint_message`], base64.
    pub sig: String,
}

impl Checkpoint {
    /// The server signs the log's head.
    pub fn sign(key: &DeviceKey, seq: u64, link: &[u8; 32], at: i64) -> Checkpoint {
        Checkpoint {
            seq,
            link: hex::encode(link),
            at,
            sig: crate::protocol::b64::encode(&key.sign(&checkpoint_message(seq, link, at))),
        }
    }

    /// The link it vouches for.
    pub fn link_bytes(&self) -> Option<[u8; 32]> {
        let mut link = [0u8; 32];
        hex::decode_to_slice(&self.link, &mut link).ok()?;
        Some(link)
    }

    /// Checks it was signed by `server`.
    pub fn verify(&self, server: &KeyId) -> Result<(), SignatureError> {
        let link = self
            .link_bytes()
            .ok_or_else(|| SignatureError::BadHash(cut(&self.link)))?;
        let sig = crate::protocol::b64::decode(&self.sig).map_err(|_| SignatureError::Malformed)?;
        verify(server, &checkpoint_message(self.seq, &link, self.at), &sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes() -> Vec<ChangeHash> {
        vec![ChangeHash([1; 32]), ChangeHash([2; 32])]
    }

    #[test]
    fn a_signature_holds_for_exactly_what_was_signed() {
        let key = DeviceKey::from_seed([9; 32]);
        let signed = key.sign_changes("problem:b1:x", "li", &hashes());
        assert_eq!(signed.verify("problem:b1:x"), Ok((key.id(), hashes())));
        // Another document, author, hash, order or key: refused.
        assert_eq!(signed.verify("problem:b1:y"), Err(SignatureError::Wrong));
        let mut other = signed.clone();
        other.user = "wang".into();
        assert_eq!(other.verify("problem:b1:x"), Err(SignatureError::Wrong));
        let mut other = signed.clone();
        other.hashes.reverse();
        assert_eq!(other.verify("problem:b1:x"), Err(SignatureError::Wrong));
        let mut other = signed.clone();
        other.key = DeviceKey::from_seed([8; 32]).id().to_string();
        assert_eq!(other.verify("problem:b1:x"), Err(SignatureError::Wrong));
        let mut other = signed;
        other.sig = "AAAA".into();
        assert_eq!(other.verify("problem:b1:x"), Err(SignatureError::Malformed));
    }

    #[test]
    fn keys_round_trip_and_bad_keys_are_named() {
        let key = DeviceKey::from_seed([3; 32]);
        let id = key.id();
        assert_eq!(id.to_string().parse::<KeyId>(), Ok(id));
        assert_eq!(DeviceKey::from_seed(key.seed()).id(), id);
        assert!(matches!(
            "zz".parse::<KeyId>(),
            Err(SignatureError::BadKey(_))
        ));
        assert!(!format!("{key:?}").contains(&hex::encode(key.seed())));
    }

    #[test]
    fn a_link_depends_on_everything_before_it() {
        let a = log_link(&[0; 32], 1, "b1", b"one");
        let b = log_link(&a, 2, "b1", b"two");
        assert_ne!(log_link(&[0; 32], 2, "b1", b"two"), b);
        assert_ne!(log_link(&a, 3, "b1", b"two"), b);
        assert_ne!(log_link(&a, 2, "b1", b"twO"), b);
        assert_ne!(log_link(&a, 2, "b2", b"two"), b);
    }

    #[test]
    fn a_proof_registers_only_the_key_that_made_it_for_its_user() {
        let key = DeviceKey::from_seed([4; 32]);
        let proof = key.prove("li");
        assert_eq!(check_proof("li", &key.id(), &proof), Ok(()));
        assert_eq!(
            check_proof("wang", &key.id(), &proof),
            Err(SignatureError::Wrong)
        );
        let other = DeviceKey::from_seed([5; 32]).id();
        assert_eq!(
            check_proof("li", &other, &proof),
            Err(SignatureError::Wrong)
        );
    }
}
