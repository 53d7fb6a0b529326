//! A branch's audit export, and its verification with nothing but the export in hand.
//!
//! The server writes an [`AuditExport`] (`zonepatrol-server audit export`): the branch's
//! documents whole, every device key it knows, whom each automerge actor of those documents
//! belongs to, the server's whole log (entries of the branch's documents in full, the others by
//! their digest alone, so that the chain still checks without showing other branches' work),
//! and its signed checkpoints, the last one made at export time. [`verify`] (the
//! `zonepatrol-audit` program) checks, and names the place of each thing that does not hold:
//!
//! - the log is one unbroken chain from its first entry, and every checkpoint is signed by the
//!   server's key and matches the chain where it stands;
//! - every change the log accepted for a document is signed by a key registered to the person
//!   it is attributed to (not revoked before it), or by the server's key for the person the
//!   server wrote it for;
//! - every document's history is exactly what the log accepted for it, and each change's
//!   automerge actor belongs to the person its signature names.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::docs::{DocId, genesis_actor, server_actor};
use crate::protocol::b64;
use crate::signing::{Checkpoint, KeyId, LogEntry, body_digest, link_over_digest, short};

/// What the export's `format` says.
pub const FORMAT: &str = "zonepatrol-audit-v1";

/// One branch's audit export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditExport {
    /// [`FORMAT`].
    pub format: String,
    /// The branch.
    pub branch: String,
    /// When it was written (ms).
    pub exported_at: i64,
    /// The server's public key, hex.
    pub server_key: String,
    /// Every device key the server knows.
    pub devices: Vec<AuditDevice>,
    /// Whom each automerge actor of the exported documents belongs to.
    pub actors: Vec<AuditActor>,
    /// The whole log, oldest first.
    pub log: Vec<AuditEntry>,
    /// The server's checkpoints of the log, oldest first.
    pub checkpoints: Vec<Checkpoint>,
    /// The branch's documents.
    pub documents: Vec<AuditDocument>,
}

/// A device key as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDevice {
    /// The public key, hex.
    pub key: String,
    /// The name the device gave.
    pub name: String,
    /// The people it is registered for.
    pub users: Vec<String>,
    /// When it was revoked (ms), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// Whom an automerge actor belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    /// The actor, hex.
    pub actor: String,
    /// The person.
    pub user: String,
    /// The key (or, for actors from before keys, the device name) it was first seen with.
    pub device: String,
}

/// One log entry as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its sequence number.
    pub seq: u64,
    /// Its link, hex.
    pub link: String,
    /// The branch of its document (empty for the mine's rules): part of the link, so that an
    /// entry of the exported branch cannot be given by its digest alone.
    pub branch: String,
    /// The entry itself (its exact bytes, as text), for the branch's documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Its digest, hex, for other documents' entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A document as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDocument {
    /// Its id.
    pub id: String,
    /// The whole document (automerge `save()`), base64.
    pub bytes: String,
}

/// Something that does not hold, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where: `log entry 17`, `checkpoint 40`, `document problem:b1:x`, `device …`.
    pub place: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.problem)
    }
}

/// What a passing verification counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Log entries checked (all of them).
    pub entries: usize,
    /// Of which, entries of the branch's documents, read in full.
    pub branch_entries: usize,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Documents checked.
    pub documents: usize,
    /// Changes checked, each against its signature and its author.
    pub changes: usize,
    /// Of which, signed by a device (the rest by the server, for someone).
    pub device_signed: usize,
    /// The last checkpoint's number and time (ms): how recent the log vouched for is.
    pub vouched: Option<(u64, i64)>,
}

/// Checks an export; every finding, or what was checked. `server`: the server's public key as
/// the auditor knows it (from a phone, or the operator); without it the export's own is taken,
/// and the checkpoints vouch only for what that key signed.
pub fn verify(export: &AuditExport, server: Option<&KeyId>) -> Result<Summary, Vec<Finding>> {
    let mut v = Verifier::default();
    if let Some(expected) = server
        && export.server_key != expected.to_string()
    {
        v.find(
            "export",
            format!(
                "signed by the server key {}, not the server's {}: it was made or re-signed \
                 elsewhere",
                short(&export.server_key),
                short(&expected.to_string())
            ),
        );
    }
    v.run(export);
    if v.findings.is_empty() {
        Ok(v.summary)
    } else {
        Err(v.findings)
    }
}

#[derive(Default)]
struct Verifier {
    findings: Vec<Finding>,
    summary: Summary,
}

/// Who a change was accepted as, from the log.
struct Accepted {
    /// The entry that accepted it.
    seq: u64,
    /// The person its signature names.
    user: String,
    /// Whether the server's key signed it.
    by_server: bool,
}

impl Verifier {
    fn find(&mut self, place: impl Into<String>, problem: impl Into<String>) {
        self.findings.push(Finding {
            place: place.into(),
            problem: problem.into(),
        });
    }

    fn run(&mut self, export: &AuditExport) {
        if export.format != FORMAT {
            self.find(
                "export",
                format!("the format is “{}”, not {FORMAT}", export.format),
            );
            return;
        }
        let Ok(server) = export.server_key.parse::<KeyId>() else {
            self.find("export", "the server's key is not a key");
            return;
        };
        let links = self.chain(export);
        self.checkpoints(export, &server, &links);
        let devices: BTreeMap<&str, &AuditDevice> =
            export.devices.iter().map(|d| (d.key.as_str(), d)).collect();
        let accepted = self.entries(export, &server, &devices);
        self.documents(export, &accepted);
    }

    /// The chain, entry by entry; the links by sequence number.
    fn chain(&mut self, export: &AuditExport) -> BTreeMap<u64, [u8; 32]> {
        let mut links = BTreeMap::new();
        let mut prev = [0u8; 32];
        let mut last_seq = None;
        for e in &export.log {
            let place = format!("log entry {}", e.seq);
            if last_seq.is_some_and(|s| e.seq <= s) {
                self.find(
                    &place,
                    "out of order: its number is not above the one before",
                );
            }
            last_seq = Some(e.seq);
            if e.branch == export.branch && e.body.is_none() {
                self.find(
                    &place,
                    "an entry of this branch is given by its digest alone: what it accepted is \
                     hidden",
                );
            }
            let digest = match (&e.body, &e.digest) {
                (Some(body), _) => body_digest(body.as_bytes()),
                (None, Some(d)) => match hex32(d) {
                    Some(d) => d,
                    None => {
                        self.find(&place, "its digest is not 32 bytes of hex");
                        continue;
                    }
                },
                (None, None) => {
                    self.find(&place, "it has neither its entry nor its digest");
                    continue;
                }
            };
            let Some(link) = hex32(&e.link) else {
                self.find(&place, "its link is not 32 bytes of hex");
                continue;
            };
            if link_over_digest(&prev, e.seq, &e.branch, &digest) != link {
                self.find(
                    &place,
                    "the chain breaks here: this entry, or one before it, was removed, added, \
                     reordered or altered",
                );
            }
            links.insert(e.seq, link);
            // Go on from the link as given, so that one break is named once.
            prev = link;
        }
        self.summary.entries = export.log.len();
        links
    }

    fn checkpoints(
        &mut self,
        export: &AuditExport,
        server: &KeyId,
        links: &BTreeMap<u64, [u8; 32]>,
    ) {
        for c in &export.checkpoints {
            let place = format!("checkpoint {}", c.seq);
            if c.verify(server).is_err() {
                self.find(&place, "not signed by the server's key");
            }
            match (links.get(&c.seq), c.link_bytes()) {
                (None, _) => self.find(
                    &place,
                    "the log has no entry with this number: entries were removed",
                ),
                (Some(link), Some(signed)) if *link != signed => self.find(
                    &place,
                    "the server signed another log here: the log was rewritten after it",
                ),
                _ => {}
            }
        }
        match (export.checkpoints.last(), export.log.last()) {
            (Some(c), Some(e)) if c.seq != e.seq => self.find(
                format!("log entry {}", e.seq),
                format!(
                    "the export's last checkpoint is at {}: the log's end is not vouched for \
                     (entries were added or removed at the end)",
                    c.seq
                ),
            ),
            (None, Some(_)) => self.find("export", "no checkpoint vouches for the log"),
            _ => {}
        }
        self.summary.checkpoints = export.checkpoints.len();
        self.summary.vouched = export.checkpoints.last().map(|c| (c.seq, c.at));
    }

    /// The branch's entries: their signatures, keys and coverage. What each change was
    /// accepted as, by document.
    fn entries(
        &mut self,
        export: &AuditExport,
        server: &KeyId,
        devices: &BTreeMap<&str, &AuditDevice>,
    ) -> BTreeMap<String, BTreeMap<ChangeHash, Accepted>> {
        let mut accepted: BTreeMap<String, BTreeMap<ChangeHash, Accepted>> = BTreeMap::new();
        for e in &export.log {
            let Some(body) = &e.body else {
                continue;
            };
            self.summary.branch_entries += 1;
            let place = format!("log entry {}", e.seq);
            let entry = match LogEntry::from_bytes(body.as_bytes()) {
                Ok(entry) => entry,
                Err(why) => {
                    self.find(&place, format!("the entry does not read ({why})"));
                    continue;
                }
            };
            let place = format!("log entry {} ({})", e.seq, entry.doc);
            let in_branch = entry
                .doc
                .parse::<DocId>()
                .is_ok_and(|id| id.branch() == export.branch && id.branch() == e.branch);
            if !in_branch {
                self.find(&place, "not a document of this branch");
            }
            let mut signer: BTreeMap<ChangeHash, (String, bool)> = BTreeMap::new();
            for s in &entry.signed {
                let (key, hashes) = match s.verify(&entry.doc) {
                    Ok(v) => v,
                    Err(e) => {
                        self.find(&place, format!("signed by {}: {e}", short(&s.key)));
                        continue;
                    }
                };
                let by_server = key == *server;
                if !by_server {
                    match devices.get(s.key.as_str()) {
                        None => {
                            self.find(
                                &place,
                                format!("signed by key {}, which no device has", short(&s.key)),
                            );
                            continue;
                        }
                        Some(d) if !d.users.contains(&s.user) => {
                            self.find(
                                &place,
                                format!(
                                    "signed by key {} ({}), which is not registered to {}, the \
                                     person the changes are attributed to",
                                    short(&s.key),
                                    d.name,
                                    s.user
                                ),
                            );
                            continue;
                        }
                        Some(d) if d.revoked_at.is_some_and(|r| r <= entry.at) => {
                            self.find(
                                &place,
                                format!(
                                    "signed by key {} ({}) after it was revoked",
                                    short(&s.key),
                                    d.name
                                ),
                            );
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                for h in hashes {
                    signer
                        .entry(h)
                        .or_insert_with(|| (s.user.clone(), by_server));
                }
            }
            let doc = accepted.entry(entry.doc.clone()).or_default();
            for text in &entry.changes {
                let Ok(hash) = text.parse::<ChangeHash>() else {
                    self.find(&place, format!("“{}” is not a change hash", cut(text)));
                    continue;
                };
                match signer.get(&hash) {
                    None => self.find(
                        &place,
                        format!(
                            "change {} is not covered by a signature that holds",
                            short(text)
                        ),
                    ),
                    Some((user, by_server)) => {
                        self.summary.changes += 1;
                        if !by_server {
                            self.summary.device_signed += 1;
                        }
                        if doc
                            .insert(
                                hash,
                                Accepted {
                                    seq: e.seq,
                                    user: user.clone(),
                                    by_server: *by_server,
                                },
                            )
                            .is_some()
                        {
                            self.find(&place, format!("change {} is accepted twice", short(text)));
                        }
                    }
                }
            }
        }
        accepted
    }

    /// Each document against what the log accepted for it.
    fn documents(
        &mut self,
        export: &AuditExport,
        accepted: &BTreeMap<String, BTreeMap<ChangeHash, Accepted>>,
    ) {
        let actors: BTreeMap<&str, &AuditActor> = export
            .actors
            .iter()
            .map(|a| (a.actor.as_str(), a))
            .collect();
        let none = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for d in &export.documents {
            let place = format!("document {}", d.id);
            seen.insert(d.id.clone());
            let Ok(id) = d.id.parse::<DocId>() else {
                self.find(&place, "not a document id");
                continue;
            };
            // Loaded and read under a guard: damaged data may make automerge panic.
            let loaded = b64::decode(&d.bytes).ok().and_then(|bytes| {
                std::panic::catch_unwind(|| {
                    let mut doc = AutoCommit::load(&bytes).ok()?;
                    Some(
                        doc.get_changes(&[])
                            .iter()
                            .map(|c| (c.hash(), c.actor_id().clone()))
                            .collect::<Vec<_>>(),
                    )
                })
                .ok()
                .flatten()
            });
            let Some(changes) = loaded else {
                self.find(&place, "it does not load: its bytes were altered");
                continue;
            };
            self.summary.documents += 1;
            let log = accepted.get(&d.id).unwrap_or(&none);
            let (genesis, server) = (genesis_actor(&id), server_actor());
            let mut held = BTreeSet::new();
            for (hash, actor) in changes {
                held.insert(hash);
                let Some(a) = log.get(&hash) else {
                    self.find(
                        &place,
                        format!(
                            "change {} is in the document but the log never accepted it",
                            short(&hash.to_string())
                        ),
                    );
                    continue;
                };
                if actor == genesis {
                    continue;
                }
                if actor == server {
                    if !a.by_server {
                        self.find(
                            &place,
                            format!(
                                "change {} is written with the server's actor but not signed \
                                 by the server (log entry {})",
                                short(&hash.to_string()),
                                a.seq
                            ),
                        );
                    }
                    continue;
                }
                match actors.get(hex::encode(actor.to_bytes()).as_str()) {
                    None => self.find(
                        &place,
                        format!(
                            "the author of change {} (actor {}) is not known",
                            short(&hash.to_string()),
                            short(&actor.to_hex_string())
                        ),
                    ),
                    Some(owner) if owner.user != a.user => self.find(
                        &place,
                        format!(
                            "change {} is by {}'s actor, but signed for {} (log entry {}): it \
                             was re-attributed",
                            short(&hash.to_string()),
                            owner.user,
                            a.user,
                            a.seq
                        ),
                    ),
                    Some(_) => {}
                }
            }
            for (hash, a) in log {
                if !held.contains(hash) {
                    self.find(
                        &place,
                        format!(
                            "the log accepted change {} (entry {}) but the document lacks it",
                            short(&hash.to_string()),
                            a.seq
                        ),
                    );
                }
            }
        }
        for id in accepted.keys() {
            if !seen.contains(id) {
                self.find(
                    format!("document {id}"),
                    "the log accepted changes to it but the export lacks it",
                );
            }
        }
    }
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn cut(text: &str) -> String {
    text.chars().take(80).collect()
}
