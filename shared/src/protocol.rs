//! The wire protocol between devices and the server: routes, bodies and errors.
//!
//! Every body is JSON. Automerge data travels as standard base64 (with padding) inside it, and
//! change hashes as 64 lowercase hex digits. `docs/PROTOCOL.md` describes the same in prose for
//! anyone writing a client; the types here are the single source of truth for ours.
//!
//! Sync is built on a **server cursor**: every time a document changes on the server it takes
//! the next number of one server-wide sequence. A device remembers the highest number it has
//! taken in, and asks for what changed after it. For each document the server also keeps the
//! heads it had at each of its numbers, so it can send a device just the changes after the
//! state the device already has (automerge's `save_after`). A device that has nothing to send
//! and nothing to fetch makes one small request and gets one small answer.

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

use crate::docs::DocId;
use crate::domain::Actor;
use crate::validate::Refusal;

/// The prefix of every route.
pub const API: &str = "/v1";

/// The header a resumable blob upload states its starting offset in.
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// The header a blob upload states the blob's whole length in.
pub const UPLOAD_LENGTH: &str = "upload-length";

/// `POST /v1/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The login name.
    pub user: String,
    /// The password.
    pub password: String,
    /// A name for the device, shown when tokens are listed; free text.
    #[serde(default)]
    pub device: String,
    /// The device's public key ([`crate::signing::KeyId`], hex): signing in registers it for
    /// this person, and the changes it signs are theirs. A sign-in without one can read but not
    /// push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// With `device_key`: the key's signature over [`crate::signing::register_message`] for
    /// `user`, base64, proving the device holds the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_proof: Option<String>,
}

/// The answer to a login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The bearer token for every other request.
    pub token: String,
    /// When it stops working, in milliseconds since the Unix epoch.
    pub expires_at: i64,
    /// Who logged in.
    pub user: Actor,
    /// The mine's time zone (IANA name, e.g. `Asia/Shanghai`): the app dates records and
    /// reckons weeks and months in it. Absent from older servers: Asia/Shanghai.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// The server's public key, hex: what signs its own changes and its log's checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_key: Option<String>,
}

/// The time zone of a server that does not say.
pub fn default_time_zone() -> String {
    "Asia/Shanghai".to_owned()
}

/// How many documents one sync request may ask for whole ([`SyncRequest::whole`]).
pub const MAX_WHOLE: usize = 64;

/// `POST /v1/sync`: what the device sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The highest server sequence number the device has taken in; 0 at first.
    pub cursor: u64,
    /// Local changes, one entry per document.
    #[serde(default)]
    pub push: Vec<Push>,
    /// The most document bytes the device wants back in this answer; the server caps it.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// The device's public key, hex. A sign-in made before the device had a key (an older
    /// app) is bound to the first key it names here, registered for its person as at sign-in;
    /// otherwise it is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// With `device_key`: its proof for the signed-in person, as at login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_proof: Option<String>,
    /// Work this phone carries for other people's phones (at most
    /// [`crate::relay::MAX_CARRIED`]): each checked as its author's, before this request's own
    /// pushes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried: Vec<crate::relay::Carried>,
    /// Work this phone handed to others, asked about (at most [`crate::relay::MAX_HANDED`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handed: Vec<crate::relay::Handed>,
    /// Documents the phone asks for whole (at most [`MAX_WHOLE`] are heeded): answers of
    /// earlier syncs that did not connect to what it holds, so that it missed nothing of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whole: Vec<String>,
    /// The version of the branch's device list the phone holds
    /// ([`crate::relay::SignedDeviceList::version`]; empty for none): the answer brings the
    /// list when it changed. Absent: the phone wants none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<String>,
}

/// A device's local changes to one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    /// The document id.
    pub id: String,
    /// The heads the server last acknowledged for this document (empty if never).
    pub base: Vec<String>,
    /// The device's heads once these changes are applied.
    pub have: Vec<String>,
    /// The changes after `base` (automerge `save_after(base)`), base64.
    pub changes: String,
    /// The signatures that cover the changes: every change the server does not hold yet must
    /// be covered by one, made by a key registered to the change's author (at most
    /// [`crate::signing::MAX_SIGNED_PER_PUSH`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signed: Vec<crate::signing::SignedChanges>,
}

/// `POST /v1/sync`: the server's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The cursor to send next time.
    pub cursor: u64,
    /// Whether more documents changed than fit in this answer: ask again with the new cursor.
    pub more: bool,
    /// One answer per pushed document, in the order pushed.
    pub acks: Vec<Ack>,
    /// Documents that changed after the cursor and that the user may read.
    pub docs: Vec<DocUpdate>,
    /// The mine's time zone, as in the login answer, so that a phone signed in before it was
    /// changed follows it. Absent from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// When this request wrote: the server's signed word of where its log stands now. A device
    /// keeps the latest it received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<crate::signing::Checkpoint>,
    /// One answer per carried item, in the order sent; none of the documents' content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried: Vec<crate::relay::CarriedAck>,
    /// One answer per handed-on item asked about, in the order asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handed: Vec<crate::relay::HandedOutcome>,
    /// The branch's device list, signed by the server, when the phone asked and its version
    /// differs from the phone's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<crate::relay::SignedDeviceList>,
}

/// The server's answer to one pushed document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ack {
    /// The document id.
    pub id: String,
    /// What happened.
    pub outcome: Outcome,
    /// The server's heads for the document now (empty if it has none).
    pub heads: Vec<String>,
    /// The changes the device lacks to reach `heads`, base64. When accepted, these are the
    /// changes after `have`; when refused, the changes after `base`.
    pub changes: String,
}

/// What became of a pushed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Checked, stored durably and merged.
    Accepted,
    /// Refused by the rules: nothing was merged. The device rewinds the document to `heads`
    /// and keeps its edit aside, with the reason, for the user.
    Refused {
        /// Why.
        refusal: Refusal,
    },
    /// The server does not have the `base` the device named (it was restored from a backup):
    /// send the whole document (`base` empty, `changes` = all changes) again.
    MissingBase,
}

/// A document that changed on the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocUpdate {
    /// The document id.
    pub id: String,
    /// The server's heads for it.
    pub heads: Vec<String>,
    /// The changes after the state the device's cursor stands for, or the whole document;
    /// either can be given to automerge's `load_incremental`. Base64.
    pub changes: String,
}

/// `POST /v1/blobs/check`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlobCheckRequest {
    /// SHA-256 digests, hex.
    pub hashes: Vec<String>,
}

/// The answer to a blob check: one entry per hash asked, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlobCheckResponse {
    /// Each blob's state.
    pub blobs: Vec<BlobState>,
}

/// Where the server stands with one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobState {
    /// The SHA-256, hex.
    pub hash: String,
    /// Whether it is stored whole.
    pub stored: bool,
    /// How many bytes of an unfinished upload the server holds: continue from here.
    pub offset: u64,
}

/// Every error body: a stable code for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code, see [`ErrorCode`].
    pub error: ErrorCode,
    /// What is wrong and what to do.
    pub message: String,
}

/// The error codes the server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not what the route takes.
    BadRequest,
    /// 400: automerge data is damaged or incomplete.
    BadChanges,
    /// 401: no token, an unknown, revoked or expired token, or a wrong password.
    Unauthorized,
    /// 403: the user may not do this.
    Forbidden,
    /// 404: no such route or blob.
    NotFound,
    /// 409: an upload continues from the wrong offset.
    WrongOffset,
    /// 413: the body or blob is larger than the server takes.
    TooLarge,
    /// 422: the uploaded bytes do not have the hash they were sent under.
    HashMismatch,
    /// 429: too many wrong passwords for this name; the `Retry-After` header says how many
    /// seconds to wait.
    TooManyAttempts,
    /// 503: the server is busy (too many sign-ins or pushes at once); the `Retry-After` header
    /// says how many seconds to wait before trying again.
    Busy,
    /// 500: the server failed; try again later.
    Internal,
}

/// Whether a user may read (and so receive, and push to) a document. Managers and admins read
/// the whole company; everyone else reads their own branch, and an inspector's sheet is read
/// by that inspector alone, so that scores stay independent.
pub fn may_read(user: &Actor, id: &DocId) -> bool {
    if user.is_company_wide() || matches!(id, DocId::Rules) {
        return true;
    }
    if id.branch() != user.branch {
        return false;
    }
    match id {
        DocId::Sheet { inspector, .. } => *inspector == user.user,
        // The marks a branch gives stay with its secretary.
        DocId::Evaluation { .. } => user.has(crate::domain::Role::Secretary),
        _ => true,
    }
}

/// The patrols of other branches a person walks on, as an inspector or their leader: the party
/// committee's weekly inspection draws inspectors from several branches. On such a patrol a
/// visitor reads the patrol and the branch's directory (its zones and checklists) and
/// publications (what is locked), and writes their own sheet; nothing else of that branch.
/// The server works it out from the patrols it holds ([`may_read_visiting`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visits {
    /// (branch, patrol) pairs.
    patrols: std::collections::BTreeSet<(String, String)>,
}

impl Visits {
    /// Visits on these (branch, patrol) pairs.
    pub fn new(patrols: impl IntoIterator<Item = (String, String)>) -> Visits {
        Visits {
            patrols: patrols.into_iter().collect(),
        }
    }

    /// Whether the person walks this patrol of that branch.
    pub fn walks(&self, branch: &str, patrol: &str) -> bool {
        self.patrols
            .contains(&(branch.to_owned(), patrol.to_owned()))
    }

    /// Whether the person walks any patrol of that branch.
    pub fn visits(&self, branch: &str) -> bool {
        self.patrols.iter().any(|(b, _)| b == branch)
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.patrols.is_empty()
    }
}

/// Whether a user may read (and push to) a document, counting the patrols of other branches
/// they walk on: [`may_read`], plus, for a visitor, the patrol, their own sheet on it, and
/// the branch's directory and publications.
pub fn may_read_visiting(user: &Actor, id: &DocId, visits: &Visits) -> bool {
    may_read(user, id) || reads_as_visitor(user, id, visits)
}

/// Whether a user reads a document only as a visitor: not through [`may_read`], but through
/// a patrol of another branch. A visitor's device may not hold the document from before, so
/// the server sends it whole.
pub fn reads_as_visitor(user: &Actor, id: &DocId, visits: &Visits) -> bool {
    if visits.is_empty() || may_read(user, id) {
        return false;
    }
    match id {
        DocId::Patrol { branch, patrol } => visits.walks(branch, patrol),
        DocId::Sheet {
            branch,
            patrol,
            inspector,
        } => *inspector == user.user && visits.walks(branch, patrol),
        DocId::Directory { branch } | DocId::Publication { branch } => visits.visits(branch),
        _ => false,
    }
}

/// Change hashes as hex strings.
pub fn heads_to_hex(heads: &[ChangeHash]) -> Vec<String> {
    heads.iter().map(|h| h.to_string()).collect()
}

/// A hex string that is not a change hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not a change hash (64 hex digits)")]
pub struct BadHash(pub String);

/// Change hashes from hex strings.
pub fn heads_from_hex(heads: &[String]) -> Result<Vec<ChangeHash>, BadHash> {
    heads
        .iter()
        .map(|h| h.parse::<ChangeHash>().map_err(|_| BadHash(h.clone())))
        .collect()
}

/// Base64 as used in bodies: the standard alphabet with padding.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// Encodes bytes.
    pub fn encode(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    /// Decodes text, or says why not.
    pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn check(user: (&str, Role, &str), id: &str, expected: bool) {
        let actor = Actor::new(user.0, user.1, user.2);
        let id: DocId = id.parse().expect("id");
        assert_eq!(may_read(&actor, &id), expected, "{actor:?} reading {id}");
    }

    #[test]
    fn who_reads_what() {
        check(("sec", Role::Secretary, "b1"), "directory:b1", true);
        check(("sec", Role::Secretary, "b1"), "directory:b2", false);
        check(("sec", Role::Secretary, "b1"), "sheet:b1:p1:insp", false);
        check(("insp", Role::Inspector, "b1"), "sheet:b1:p1:insp", true);
        check(("insp", Role::Inspector, "b1"), "sheet:b1:p1:other", false);
        check(("insp", Role::Inspector, "b1"), "problem:b1:x", true);
        check(("mgr", Role::Manager, "hq"), "sheet:b2:p1:insp", true);
        check(("adm", Role::Admin, "hq"), "assessment:b3:z1:2026-11", true);
    }

    #[test]
    fn a_visitor_reads_the_patrol_they_walk_and_what_scoring_it_needs() {
        let insp = Actor::new("insp", Role::Inspector, "b1");
        let visits = Visits::new([("b2".to_owned(), "p7".to_owned())]);
        let reads = |id: &str| may_read_visiting(&insp, &id.parse().expect("id"), &visits);
        for id in [
            "patrol:b2:p7",
            "sheet:b2:p7:insp",
            "directory:b2",
            "publication:b2",
        ] {
            assert!(reads(id), "{id}");
            assert!(reads_as_visitor(&insp, &id.parse().expect("id"), &visits));
        }
        for id in [
            "patrol:b2:p8",
            "sheet:b2:p7:other",
            "sheet:b2:p8:insp",
            "problem:b2:x",
            "assessment:b2:z1:2026-11",
            "report:b2:2026-11",
            "directory:b3",
        ] {
            assert!(!reads(id), "{id}");
        }
        // At home nothing changes, and nothing reads "as a visitor".
        assert!(reads("directory:b1"));
        assert!(!reads_as_visitor(
            &insp,
            &"directory:b1".parse().expect("id"),
            &visits
        ));
        assert!(!reads("sheet:b1:p1:other"));
    }

    #[test]
    fn heads_round_trip_and_bad_hashes_are_named() {
        let hash = ChangeHash([7; 32]);
        let hex = heads_to_hex(&[hash]);
        assert_eq!(heads_from_hex(&hex), Ok(vec![hash]));
        let bad = vec!["xyz".to_owned()];
        assert_eq!(heads_from_hex(&bad), Err(BadHash("xyz".into())));
    }
}
