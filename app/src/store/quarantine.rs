//! Edits the server refused, kept with its reason for the user to see.

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};
use zonepatrol_shared::history::{self, Changed};
use zonepatrol_shared::protocol::{b64, heads_from_hex};
use zonepatrol_shared::validate::Refusal;

use super::codec::{damaged, decode_all, encode};
use super::docs::DocRecord;
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
    /// One edit of several refused together, waiting to be sent again alone (see
    /// `store::replay`); not shown to the user unless refused alone.
    #[serde(default)]
    pub probation: bool,
    /// On probation: the fields the edit changed.
    #[serde(default)]
    pub fields: Vec<Vec<String>>,
    /// On probation: the record as it stood after the edit (automerge, base64).
    #[serde(default)]
    pub after: String,
}

/// What a refused edit changed, at most [`history::DESCRIBED`] fields of it.
fn describe(doc: &mut AutoCommit, base: &[ChangeHash], heads: &[ChangeHash]) -> Vec<Changed> {
    history::changes(doc.document(), base, heads).0
}

/// The heads the refused edits lead to, from `base`.
fn refused_heads(base: &[ChangeHash], edits: &[(Vec<ChangeHash>, ChangeHash)]) -> Vec<ChangeHash> {
    let mut heads: std::collections::BTreeSet<ChangeHash> = base.iter().copied().collect();
    for (deps, hash) in edits {
        for d in deps {
            heads.remove(d);
        }
        heads.insert(*hash);
    }
    heads.into_iter().collect()
}

impl Repo {
    /// The server refused the changes after `base`: puts them in quarantine with the reason,
    /// and rewinds the document to `base` plus the server's `changes` (which bring it to
    /// `heads`). A single edit waits in the quarantine for the user; several are put on
    /// probation, to be sent again one at a time, so that only the refused one stays out.
    /// Either way the person writes with a fresh actor from here on, so that the edits made
    /// afterwards never clash with the refused ones applied again. Another person's unsent
    /// edits of the document stay, unless they build on the refused ones (then they go with
    /// them).
    pub fn refused(
        &self,
        user: &str,
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
        let others = self.others_actors(user)?;
        let (sent, _) = super::sync_state::sendable(id, &mut doc, &base, &others);
        // What goes: the person's edits that were sent, and whatever builds on them — theirs,
        // and other people's, which go on probation as those people's own.
        let owners = self.actor_owners(user)?;
        let mut gone: std::collections::HashSet<ChangeHash> =
            sent.iter().map(automerge::Change::hash).collect();
        let mut edits: Vec<(Vec<ChangeHash>, ChangeHash)> = Vec::new();
        let mut theirs: Vec<(String, Vec<ChangeHash>, ChangeHash)> = Vec::new();
        let mut kept: Vec<automerge::Change> = Vec::new();
        let mut refused = Vec::new();
        // Another person's work carried here and merged on top goes too; its carrier hands it
        // to the server all the same, and the server judges it alone.
        let foreign = self.foreign_actors()?;
        for mut c in doc.get_changes(&base) {
            if gone.contains(&c.hash()) || c.deps().iter().any(|d| gone.contains(d)) {
                gone.insert(c.hash());
                if foreign.contains(c.actor_id()) {
                    continue;
                }
                match owners.get(c.actor_id()) {
                    Some(owner) => theirs.push((owner.clone(), c.deps().to_vec(), c.hash())),
                    None => {
                        edits.push((c.deps().to_vec(), c.hash()));
                        refused.extend_from_slice(&c.bytes());
                    }
                }
            } else {
                kept.push(c);
            }
        }
        let heads = refused_heads(&base, &edits);
        let photos: Vec<String> = zonepatrol_shared::docs::values::photo_hashes(&doc)
            .into_iter()
            .collect();
        let user = user.to_owned();
        let mut entries = Vec::new();
        // A record the server does not have yet goes back whole: its first change (its
        // birth) cannot be sent without the edits made with it. So do edits that change a
        // list: a list is copied whole, which would drop what others added to it meanwhile.
        let units: Vec<(
            Vec<ChangeHash>,
            ChangeHash,
            Option<Vec<super::replay::FieldPath>>,
        )> = edits
            .iter()
            .map(|(deps, hash)| {
                let fields = super::replay::changed_paths(&mut doc, deps, &[*hash]);
                (deps.clone(), *hash, fields)
            })
            .collect();
        let apart = units.len() > 1 && !base.is_empty() && units.iter().all(|u| u.2.is_some());
        if apart {
            for (deps, hash, fields) in &units {
                let after = [*hash];
                let fields = fields.clone().unwrap_or_default();
                let snapshot = doc
                    .fork_at(&after)
                    .map_err(|e| damaged(id.as_bytes(), e))?
                    .save();
                entries.push(Quarantined {
                    key: self.db.generate_id()?,
                    id: id.to_owned(),
                    at: now_millis(),
                    refusal: refusal.clone(),
                    changes: String::new(),
                    photos: photos.clone(),
                    user: user.clone(),
                    changed: describe(&mut doc, deps, &after),
                    probation: true,
                    fields,
                    after: b64::encode(&snapshot),
                });
            }
        } else {
            entries.push(Quarantined {
                key: self.db.generate_id()?,
                id: id.to_owned(),
                at: now_millis(),
                refusal: refusal.clone(),
                changes: b64::encode(&refused),
                photos: photos.clone(),
                user: user.clone(),
                changed: describe(&mut doc, &base, &heads),
                probation: false,
                fields: Vec::new(),
                after: String::new(),
            });
        }
        // Another person's edit made on top of the refused ones is re-made as theirs, alone,
        // when they next sync; one that changed a list can only be shown to them.
        for (owner, deps, hash) in &theirs {
            entries.push(self.remade(&mut doc, id, owner, deps, *hash, refusal, &photos)?);
        }
        let mut batch = sled::Batch::default();
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
        let mut others_unsent = Vec::new();
        for c in &mut kept {
            others_unsent.extend_from_slice(&c.bytes());
        }
        if !others_unsent.is_empty() {
            rewound
                .load_incremental(&others_unsent)
                .map_err(|e| damaged(id.as_bytes(), e))?;
        }
        self.rewrite_into(
            &mut batch,
            id,
            Some(&mut rewound),
            server.heads.to_vec(),
            !kept.is_empty(),
        )?;
        drop(record);
        let mut held = sled::Batch::default();
        for entry in &entries {
            held.insert(&entry.key.to_be_bytes(), encode(entry));
        }
        self.quarantine.apply_batch(held)?;
        self.docs.apply_batch(batch)?;
        self.decoded.forget(id);
        self.new_actor_of(&user)?;
        // Theirs are re-made as fresh edits too: never a sequence number used again.
        let mut owners: Vec<&String> = theirs.iter().map(|(owner, _, _)| owner).collect();
        owners.sort();
        owners.dedup();
        for owner in owners {
            self.new_actor_of(owner)?;
        }
        Ok(())
    }

    /// Whether an edit on probation waits to be sent again, for a document on the phone: one
    /// person's, or anyone's.
    pub(super) fn probation_waits(&self, user: Option<&str>) -> Result<bool, StoreError> {
        for q in self.quarantine()? {
            if q.probation && user.is_none_or(|u| q.user == u) && self.record(&q.id)?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Re-makes the next edit on probation of each document that has nothing else waiting to
    /// be sent: its fields copied onto the document as it stands, as one fresh edit, sent with
    /// the next push and judged alone.
    pub(super) fn release_probation(&self, me: &str) -> Result<(), StoreError> {
        let _guard = self.lock();
        let mut released = std::collections::BTreeSet::new();
        for q in self.quarantine()? {
            if !q.probation || q.user != me || !released.insert(q.id.clone()) {
                continue;
            }
            let id = q.id.as_str();
            let Some(mut record) = self.record(id)? else {
                continue;
            };
            let mut doc =
                AutoCommit::load(&self.bytes(id)?).map_err(|e| damaged(id.as_bytes(), e))?;
            if record.dirty {
                // Only the person's own unsent edits hold the next one back.
                let base = heads_from_hex(&record.acked).map_err(|e| damaged(id.as_bytes(), e))?;
                let others = self.others_actors(me)?;
                if others.is_empty()
                    || !super::sync_state::sendable(id, &mut doc, &base, &others)
                        .0
                        .is_empty()
                {
                    continue;
                }
            }
            doc.set_actor(self.actor_of(me)?);
            let source = b64::decode(&q.after)
                .map_err(|e| e.to_string())
                .and_then(|b| AutoCommit::load(&b).map_err(|e| e.to_string()));
            let Ok(source) = source else {
                // A damaged entry is shown to the user as it is, never tried forever.
                let mut shown = q.clone();
                shown.probation = false;
                self.quarantine
                    .insert(q.key.to_be_bytes(), encode(&shown))?;
                continue;
            };
            let before = doc.get_heads();
            super::replay::copy_fields(&source, &mut doc, &q.fields);
            // Timed like every edit, so that the record's history says when.
            doc.commit_with(CommitOptions::default().with_time(now_millis() / 1000));
            let mut batch = sled::Batch::default();
            if doc.get_heads() != before {
                let chunk = doc.save_after(&before);
                record.dirty = true;
                self.append_to(&mut batch, id, &mut record, &mut doc, chunk)?;
            }
            self.docs.apply_batch(batch)?;
            self.requeue_photos(&q.photos)?;
            self.quarantine.remove(q.key.to_be_bytes())?;
            self.decoded.forget(id);
        }
        self.db.flush()?;
        Ok(())
    }

    /// An edit of `owner`'s (the change `hash`, on `deps`) that goes out of a document because
    /// what it was built on was refused: re-made alone as theirs when they next sync, on
    /// probation with the fields it changed; one that changed a list can only be shown to them.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn remade(
        &self,
        doc: &mut AutoCommit,
        id: &str,
        owner: &str,
        deps: &[ChangeHash],
        hash: ChangeHash,
        refusal: &Refusal,
        photos: &[String],
    ) -> Result<Quarantined, StoreError> {
        let after = [hash];
        let fields = super::replay::changed_paths(doc, deps, &after);
        let snapshot = doc
            .fork_at(&after)
            .map_err(|e| damaged(id.as_bytes(), e))?
            .save();
        let alone = doc
            .get_change_by_hash(&hash)
            .map(|mut c| c.bytes().to_vec())
            .unwrap_or_default();
        Ok(Quarantined {
            key: self.db.generate_id()?,
            id: id.to_owned(),
            at: now_millis(),
            refusal: refusal.clone(),
            changes: if fields.is_some() {
                String::new()
            } else {
                b64::encode(&alone)
            },
            photos: photos.to_vec(),
            user: owner.to_owned(),
            changed: describe(doc, deps, &after),
            probation: fields.is_some(),
            fields: fields.unwrap_or_default(),
            after: b64::encode(&snapshot),
        })
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
            .filter(|q| !q.probation && (q.user == user || q.user.is_empty()))
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
        // Only its own user applies an edit again (their actor signed it).
        let me = self.reader().map(|a| a.user).unwrap_or_default();
        if !entry.user.is_empty() && entry.user != me {
            return Ok(());
        }
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
        self.requeue_photos(&entry.photos)?;
        // Should the phone die between the two, the edit is applied and still listed: applying
        // it again changes nothing.
        self.quarantine.remove(k)?;
        self.decoded.forget(id);
        self.db.flush()?;
        Ok(())
    }

    /// Removes a refused edit its person has seen (nobody else's).
    pub fn dismiss(&self, key: u64) -> Result<(), StoreError> {
        let k = key.to_be_bytes();
        let Some(bytes) = self.quarantine.get(k)? else {
            return Ok(());
        };
        let entry: Quarantined = super::codec::decode(&k, &bytes)?;
        let me = self.reader().map(|a| a.user).unwrap_or_default();
        if !entry.user.is_empty() && entry.user != me && self.reader().is_some() {
            return Ok(());
        }
        self.quarantine.remove(k)?;
        self.db.flush()?;
        Ok(())
    }
}
