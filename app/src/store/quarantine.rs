//! Edits the server refused, kept with its reason for the user to see.

use automerge::{AutoCommit, ChangeHash, PatchAction, Prop, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};
use zonepatrol_shared::protocol::{b64, heads_from_hex};
use zonepatrol_shared::validate::Refusal;

use super::codec::{chunk_key, damaged, decode_all, encode, key};
use super::docs::{DocRecord, summarize_into};
use super::sync_state::Incoming;
use super::{Repo, StoreError, now_millis};

/// An edit the server refused, kept for the user to see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// Its key in the quarantine, to dismiss it.
    pub key: u64,
    /// The document.
    pub id: String,
    /// When it was refused (ms).
    pub at: i64,
    /// Why.
    pub refusal: Refusal,
    /// The refused changes (automerge `save_after` form), base64.
    pub changes: String,
    /// The photos the document held with the refused changes: kept on the phone while the
    /// edit is.
    #[serde(default)]
    pub photos: Vec<String>,
    /// Who made the edit: only they see it and may re-apply it (their actor signs it).
    #[serde(default)]
    pub user: String,
    /// What the edit changed, field by field, for the user to read.
    #[serde(default)]
    pub changed: Vec<Changed>,
}

/// One field a refused edit changed: where in the record, and the value typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// The keys from the document's root to the field (record ids among them).
    pub path: Vec<String>,
    /// The value as typed; `None` when the edit removed the field.
    pub value: Option<String>,
}

/// How many fields of a refused edit are described; the rest is counted.
const DESCRIBED: usize = 24;
/// How much of a typed value is kept in the description.
const VALUE_CHARS: usize = 200;

/// What the changes from `base` to the document's heads changed, field by field: each field
/// once, with its value at the heads (a text typed in many keystrokes is one field).
fn describe(doc: &mut AutoCommit, base: &[ChangeHash]) -> Vec<Changed> {
    let heads = doc.get_heads();
    let patches = doc.diff(base, &heads);
    let mut out: Vec<Changed> = Vec::new();
    let mut push = |path: Vec<String>, value: Option<String>| {
        if let Some(same) = out.iter_mut().find(|c| c.path == path) {
            same.value = value;
        } else if out.len() < DESCRIBED {
            out.push(Changed { path, value });
        }
    };
    for patch in patches {
        let mut path: Vec<String> = patch.path.iter().map(|(_, prop)| prop_name(prop)).collect();
        match patch.action {
            PatchAction::PutMap { key, value, .. } => {
                if let Value::Scalar(v) = value.0 {
                    path.push(key);
                    push(path, Some(scalar_text(&v)));
                }
            }
            PatchAction::SpliceText { .. } => {
                let text = doc.text(&patch.obj).unwrap_or_default();
                push(path, Some(text.chars().take(VALUE_CHARS).collect()));
            }
            PatchAction::DeleteMap { key } => {
                path.push(key);
                push(path, None);
            }
            PatchAction::Increment { prop, value } => {
                path.push(prop_name(&prop));
                push(path, Some(value.to_string()));
            }
            _ => {}
        }
    }
    out
}

fn prop_name(prop: &Prop) -> String {
    match prop {
        Prop::Map(key) => key.clone(),
        Prop::Seq(i) => (i + 1).to_string(),
    }
}

fn scalar_text(v: &ScalarValue) -> String {
    let text = match v {
        ScalarValue::Str(s) => s.to_string(),
        ScalarValue::Boolean(b) => if *b { "✓" } else { "✗" }.to_owned(),
        other => other.to_string(),
    };
    text.chars().take(VALUE_CHARS).collect()
}

impl Repo {
    /// The server refused the changes after `base`: puts them in quarantine with the reason,
    /// and rewinds the document to `base` plus the server's `changes` (which bring it to
    /// `heads`). Local changes made after the refused push are quarantined with it.
    pub fn refused(
        &self,
        id: &str,
        base: &[String],
        refusal: &Refusal,
        server: Incoming<'_>,
    ) -> Result<(), StoreError> {
        let _guard = self.lock();
        let Some(record) = self.record(id)? else {
            return Ok(());
        };
        let bytes = self.bytes(id)?;
        let mut doc = AutoCommit::load(&bytes).map_err(|e| damaged(id.as_bytes(), e))?;
        let base = heads_from_hex(base).map_err(|e| damaged(id.as_bytes(), e))?;
        let refused = doc.save_after(&base);
        let changed = describe(&mut doc, &base);
        let user = self.session()?.map(|s| s.user.user).unwrap_or_default();
        let n = self.db.generate_id()?;
        let entry = Quarantined {
            key: n,
            id: id.to_owned(),
            at: now_millis(),
            refusal: refusal.clone(),
            changes: b64::encode(&refused),
            photos: zonepatrol_shared::docs::values::photo_hashes(&doc)
                .into_iter()
                .collect(),
            user,
            changed,
        };
        let mut batch = sled::Batch::default();
        self.remove_chunks_into(&mut batch, id)?;
        let bad = |why: String| StoreError::BadRemote {
            id: id.to_owned(),
            why,
        };
        let server_changes = b64::decode(server.changes).map_err(|e| bad(e.to_string()))?;
        let mut rewound = if base.is_empty() {
            AutoCommit::new()
        } else {
            doc.fork_at(&base).map_err(|e| bad(e.to_string()))?
        };
        if !server_changes.is_empty() {
            rewound
                .load_incremental(&server_changes)
                .map_err(|e| bad(e.to_string()))?;
        }
        if rewound.get_heads().is_empty() {
            batch.remove(key(b'd', id));
            batch.remove(key(b's', id));
        } else {
            summarize_into(&mut batch, id, &rewound);
            batch.insert(chunk_key(id, 0), rewound.save());
            let record = DocRecord {
                chunks: 1,
                acked: server.heads.to_vec(),
                dirty: false,
            };
            batch.insert(key(b'd', id), encode(&record));
        }
        drop(record);
        self.quarantine.insert(n.to_be_bytes(), encode(&entry))?;
        self.docs.apply_batch(batch)?;
        self.decoded.forget(id);
        self.db.flush()?;
        Ok(())
    }

    /// Refused edits, oldest first.
    pub fn quarantine(&self) -> Result<Vec<Quarantined>, StoreError> {
        decode_all(&self.quarantine)
    }

    /// A user's refused edits, oldest first.
    pub fn quarantine_of(&self, user: &str) -> Result<Vec<Quarantined>, StoreError> {
        Ok(self
            .quarantine()?
            .into_iter()
            .filter(|q| q.user == user || q.user.is_empty())
            .collect())
    }

    /// Applies a refused edit again, now that its cause may be gone (a manager reopened the
    /// month; the directory has the member now): its changes merge into the document as it
    /// stands, are sent with the next sync, and leave the quarantine. The server judges them
    /// again; refused again, they come back here with the new reason.
    pub fn reapply(&self, key: u64) -> Result<(), StoreError> {
        let _guard = self.lock();
        let k = key.to_be_bytes();
        let Some(bytes) = self.quarantine.get(k)? else {
            return Ok(());
        };
        let entry: Quarantined = super::codec::decode(&k, &bytes)?;
        let id = entry.id.as_str();
        let changes = b64::decode(&entry.changes)
            .map_err(|e| damaged(format!("quarantine {key}").as_bytes(), e))?;
        let (mut doc, record) = match self.record(id)? {
            Some(record) => {
                let bytes = self.bytes(id)?;
                let doc = AutoCommit::load(&bytes).map_err(|e| damaged(id.as_bytes(), e))?;
                (doc, record)
            }
            None => (
                AutoCommit::new(),
                DocRecord {
                    chunks: 0,
                    acked: Vec::new(),
                    dirty: true,
                },
            ),
        };
        let before = doc.get_heads();
        doc.load_incremental(&changes)
            .map_err(|e| damaged(id.as_bytes(), e))?;
        if !doc.get_missing_deps(&[]).is_empty() {
            return Err(StoreError::Damaged {
                key: id.to_owned(),
                why: "the edit builds on a state of the record this phone no longer has: sync \
                      and try again"
                    .to_owned(),
            });
        }
        let chunk = doc.save_after(&before);
        let mut record = record;
        record.dirty = true;
        let mut batch = sled::Batch::default();
        self.append_to(&mut batch, id, &mut record, &mut doc, chunk)?;
        self.docs.apply_batch(batch)?;
        // Should the phone die between the two, the edit is applied and still listed: applying
        // it again changes nothing.
        self.quarantine.remove(k)?;
        self.decoded.forget(id);
        self.db.flush()?;
        Ok(())
    }

    /// Removes a refused edit the user has seen.
    pub fn dismiss(&self, key: u64) -> Result<(), StoreError> {
        self.quarantine.remove(key.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }
}
