//! Work carried for others: a phone that meets another underground takes its signed changes
//! and sealed envelopes and hands them to the server when it reaches it.
//!
//! What travels is always a [`Push`] as its author's phone would send it, signed by that phone
//! for its person ([`crate::signing::SignedChanges`]): the server checks it as if the author had
//! sent it (their key, their roles), whoever carries it. A record the carrier's person may not
//! read (an inspector's own sheet) travels sealed to the server's key ([`seal`]): the carrier
//! holds bytes it cannot open. Who may take part is the branch's signed list of phones
//! ([`SignedDeviceList`]), which each phone receives from the server.
//!
//! No IO here: the phone's store and channel and the server's route use these.

use crypto_box::aead::rand_core::CryptoRngCore;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::protocol::{Push, b64};
use crate::signing::{DeviceKey, KeyId, SignatureError};
use crate::validate::Refusal;

/// Items one sync request may carry for others.
pub const MAX_CARRIED: usize = 200;

/// Handed-on items one sync request may ask about.
pub const MAX_HANDED: usize = 500;

/// The largest envelope (base64 characters) the server opens.
pub const MAX_ENVELOPE: usize = 8 * 1024 * 1024;

/// What a phone carries for someone else: their push, open (the carrier's person may read the
/// document) or sealed to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Carried {
    /// A push the carrier's person may read: its author's changes and signature.
    Open {
        /// The push as its author's phone made it.
        push: Push,
    },
    /// A push sealed to the server's key ([`seal`]): only the server opens it.
    Sealed {
        /// The document it is for (so the carrier can tell two apart and the server can say
        /// what it refused; the server checks it against what it opens).
        doc: String,
        /// The author's person, as above.
        user: String,
        /// The sealed push, base64.
        envelope: String,
    },
}

impl Carried {
    /// The document the item is for.
    pub fn doc(&self) -> &str {
        match self {
            Carried::Open { push } => &push.id,
            Carried::Sealed { doc, .. } => doc,
        }
    }

    /// Whom the item is by, as it claims: the person its first signature names.
    pub fn author(&self) -> &str {
        match self {
            Carried::Open { push } => push.signed.first().map_or("", |s| s.user.as_str()),
            Carried::Sealed { user, .. } => user,
        }
    }

    /// The size of what it carries as sent (base64 characters of its changes or envelope).
    pub fn payload_len(&self) -> usize {
        match self {
            Carried::Open { push } => push.changes.len(),
            Carried::Sealed { envelope, .. } => envelope.len(),
        }
    }

    /// What names the item wherever it goes: the SHA-256 of its kind, document and content,
    /// hex. The carrier's answer and the phones' lists use it.
    pub fn item_id(&self) -> String {
        let mut h = sha2::Sha256::new();
        match self {
            Carried::Open { push } => {
                h.update(b"open\0");
                h.update(push.id.as_bytes());
                for head in push.base.iter().chain([&String::new()]).chain(&push.have) {
                    h.update([0]);
                    h.update(head.as_bytes());
                }
                h.update([0]);
                h.update(push.changes.as_bytes());
                for s in &push.signed {
                    h.update([0]);
                    h.update(s.sig.as_bytes());
                }
            }
            Carried::Sealed {
                doc,
                user,
                envelope,
            } => {
                h.update(b"sealed\0");
                h.update(doc.as_bytes());
                h.update([0]);
                h.update(user.as_bytes());
                h.update([0]);
                h.update(envelope.as_bytes());
            }
        }
        hex::encode(h.finalize())
    }
}

/// The server's answer to one carried item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedAck {
    /// [`Carried::item_id`].
    pub item: String,
    /// What became of it.
    pub outcome: HandOutcome,
}

/// What became of work handed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum HandOutcome {
    /// Its changes are on the server (from this carrier or another way).
    Accepted,
    /// Refused, with the reason; kept on the server's record.
    Refused {
        /// Why.
        refusal: Refusal,
        /// Who carried it.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        carrier: String,
    },
    /// The server has not received it yet.
    Pending,
}

/// Work the author's phone handed to another phone, asked about at its next sync: by the
/// signature it made (the one thing a carrier cannot change without the server refusing it)
/// and the changes it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handed {
    /// Whose work it is: the server answers only about the people of the asking phone.
    #[serde(default)]
    pub user: String,
    /// The document.
    pub doc: String,
    /// The signature (base64), as in [`crate::signing::SignedChanges::sig`].
    pub sig: String,
    /// The changes it covers, hex.
    pub hashes: Vec<String>,
}

/// The server's answer about one [`Handed`] item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandedOutcome {
    /// The signature it was asked by.
    pub sig: String,
    /// What became of it.
    pub outcome: HandOutcome,
}

/// One phone on the branch's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedDevice {
    /// Its key (hex).
    pub key: String,
    /// The people it signs for.
    pub users: Vec<String>,
    /// Revoked: it takes part in nothing.
    #[serde(default)]
    pub revoked: bool,
}

/// The phones of a branch as the server knows them, which phones check each other against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// The branch.
    pub branch: String,
    /// When a phone on it was last registered or revoked (ms): the list's age is when a phone
    /// last heard it from the server.
    pub at: i64,
    /// Its phones, by key.
    pub devices: Vec<ListedDevice>,
    /// The people they sign for, with their roles: what each may be given.
    #[serde(default)]
    pub people: Vec<crate::Actor>,
}

/// A [`DeviceList`] with the server's signature over its JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDeviceList {
    /// The list's JSON, exactly as signed.
    pub list: String,
    /// The server's signature over [`DEVICE_LIST_CONTEXT`] ‖ `list`, base64.
    pub sig: String,
}

/// The context a device list's signature is made in.
pub const DEVICE_LIST_CONTEXT: &[u8] = b"zonepatrol-devices-v1\0";

impl SignedDeviceList {
    /// The server signs a list.
    pub fn sign(key: &DeviceKey, list: &DeviceList) -> SignedDeviceList {
        let list = serde_json::to_string(list).unwrap_or_default();
        let sig = key.sign(&[DEVICE_LIST_CONTEXT, list.as_bytes()].concat());
        SignedDeviceList {
            list,
            sig: b64::encode(&sig),
        }
    }

    /// The list, if the server's key signed it.
    pub fn verify(&self, server: &KeyId) -> Result<DeviceList, SignatureError> {
        let sig = b64::decode(&self.sig).map_err(|_| SignatureError::Malformed)?;
        crate::signing::verify(
            server,
            &[DEVICE_LIST_CONTEXT, self.list.as_bytes()].concat(),
            &sig,
        )?;
        serde_json::from_str(&self.list).map_err(|_| SignatureError::Malformed)
    }

    /// A version of the list a phone names to be told only of a newer one: a digest of it.
    pub fn version(&self) -> String {
        hex::encode(&sha2::Sha256::digest(self.list.as_bytes())[..16])
    }
}

impl DeviceList {
    /// The person on the list, with their roles.
    pub fn person(&self, user: &str) -> Option<&crate::Actor> {
        self.people.iter().find(|p| p.user == user)
    }

    /// Whether `key` signs for `user` on this list (listed for them, not revoked).
    pub fn admits(&self, key: &str, user: &str) -> bool {
        self.devices
            .iter()
            .any(|d| d.key == key && !d.revoked && d.users.iter().any(|u| u == user))
    }
}

/// Why an envelope could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not the server's key.
    #[error("the server's key is not a valid key: sign in again where the server is reachable")]
    BadKey,
    /// Not base64 or too large.
    #[error("an envelope is not base64, or larger than the server opens")]
    Malformed,
    /// Not sealed to this server, or altered on the way.
    #[error(
        "an envelope does not open with the server's key: it was altered, or sealed to another server"
    )]
    Unopenable,
    /// Opened, but not a push.
    #[error("an envelope holds no valid push")]
    NotAPush,
}

/// The X25519 public key of an Ed25519 key (its Montgomery form), which envelopes are sealed to.
fn box_public(key: &KeyId) -> Result<crypto_box::PublicKey, EnvelopeError> {
    let bytes = x25519_public(key).ok_or(EnvelopeError::BadKey)?;
    Ok(crypto_box::PublicKey::from(bytes))
}

/// The X25519 public key of a signing key, as bytes: what its phone's channel handshake shows
/// (`None` if it is not a key).
pub fn x25519_public(key: &KeyId) -> Option<[u8; 32]> {
    let key = VerifyingKey::from_bytes(&key.0).ok()?;
    Some(key.to_montgomery().to_bytes())
}

/// The X25519 secret of an Ed25519 key (the first half of SHA-512 of its seed, as Ed25519 uses
/// it), which opens envelopes sealed to [`box_public`].
fn box_secret(key: &DeviceKey) -> crypto_box::SecretKey {
    crypto_box::SecretKey::from(key.scalar_bytes())
}

/// Seals a push to the server's key (a libsodium sealed box: X25519, XSalsa20-Poly1305, an
/// ephemeral key per envelope). Base64.
pub fn seal(
    server: &KeyId,
    push: &Push,
    rng: &mut impl CryptoRngCore,
) -> Result<String, EnvelopeError> {
    let json = serde_json::to_vec(push).map_err(|_| EnvelopeError::NotAPush)?;
    let sealed = box_public(server)?
        .seal(rng, &json)
        .map_err(|_| EnvelopeError::BadKey)?;
    Ok(b64::encode(&sealed))
}

/// Opens an envelope with the server's key.
pub fn open(server: &DeviceKey, envelope: &str) -> Result<Push, EnvelopeError> {
    if envelope.len() > MAX_ENVELOPE {
        return Err(EnvelopeError::Malformed);
    }
    let sealed = b64::decode(envelope).map_err(|_| EnvelopeError::Malformed)?;
    let json = box_secret(server)
        .unseal(&sealed)
        .map_err(|_| EnvelopeError::Unopenable)?;
    serde_json::from_slice(&json).map_err(|_| EnvelopeError::NotAPush)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push() -> Push {
        Push {
            id: "sheet:b1:p1:insp".into(),
            base: vec![],
            have: vec![],
            changes: b64::encode(b"changes"),
            signed: vec![],
        }
    }

    #[test]
    fn an_envelope_opens_with_the_servers_key_alone() {
        let server = DeviceKey::from_seed([7; 32]);
        let other = DeviceKey::from_seed([8; 32]);
        let mut rng = crypto_box::aead::OsRng;
        let sealed = seal(&server.id(), &push(), &mut rng).expect("holds");
        assert_eq!(
            open(&server, &sealed).expect("holds").id,
            "sheet:b1:p1:insp"
        );
        assert_eq!(open(&other, &sealed).err(), Some(EnvelopeError::Unopenable));
        let mut bytes = b64::decode(&sealed).expect("holds");
        let n = bytes.len() / 2;
        bytes[n] ^= 1;
        assert_eq!(
            open(&server, &b64::encode(&bytes)).err(),
            Some(EnvelopeError::Unopenable)
        );
        assert_eq!(open(&server, "!!").err(), Some(EnvelopeError::Malformed));
    }

    #[test]
    fn a_device_list_holds_only_with_the_servers_signature() {
        let server = DeviceKey::from_seed([7; 32]);
        let list = DeviceList {
            branch: "b1".into(),
            at: 1,
            devices: vec![ListedDevice {
                key: "aa".into(),
                users: vec!["zhang".into()],
                revoked: false,
            }],
            people: vec![],
        };
        let signed = SignedDeviceList::sign(&server, &list);
        assert_eq!(signed.verify(&server.id()).expect("holds"), list);
        assert!(list.admits("aa", "zhang"));
        assert!(!list.admits("aa", "li"));
        let mut forged = signed.clone();
        forged.list = forged.list.replace("zhang", "li");
        assert!(forged.verify(&server.id()).is_err());
        assert!(signed.verify(&DeviceKey::from_seed([9; 32]).id()).is_err());
    }
}
