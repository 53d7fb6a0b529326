//! What sync keeps: the cursor, the documents that await sending, and the server's changes
//! taken in.

use std::collections::{BTreeSet, HashSet};

use automerge::{ActorId, AutoCommit, Change, ChangeHash, ReadDoc};
use zonepatrol_shared::protocol::{Push, b64, heads_from_hex, heads_to_hex};

use super::codec::{damaged, decode, encode, id_of, key};
use super::docs::DocRecord;
use super::{Repo, StoreError};

/// In the `docs` tree, so that it moves in the same atomic batch as the documents it covers:
/// the phone's cursor before accounts (and of no one in particular); each person has their
/// own, `m\0cursor\0USER`, since each may read other documents.
const CURSOR: &[u8] = b"m\0cursor";

fn cursor_key(user: &str) -> Vec<u8> {
    if user.is_empty() {
        return CURSOR.to_vec();
    }
    let mut k = CURSOR.to_vec();
    k.push(0);
    k.extend_from_slice(user.as_bytes());
    k
}

/// `w\0USER\0ID`: a document the server sent a person that did not connect to what the phone
/// holds (built on a state the phone never had), to ask for whole at the next sync.
fn whole_key(user: &str, id: &str) -> Vec<u8> {
    let mut k = vec![b'w', 0];
    k.extend_from_slice(user.as_bytes());
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

/// What of the changes after `base` a person may send: their own — made with none of the
/// actors the phone's other people wrote with — that build on nothing another person has not
/// sent yet. A document's genesis change (signed with the document's own actor, see
/// [`zonepatrol_shared::docs::genesis_actor`]) goes with the first edit built on it. Returns
/// them (in an order they load in) and the heads they lead to; all the changes and the
/// document's heads when nobody else has unsent edits there.
pub(super) fn sendable(
    id: &str,
    doc: &mut AutoCommit,
    base: &[ChangeHash],
    others: &BTreeSet<ActorId>,
) -> (Vec<Change>, Vec<ChangeHash>) {
    let changes = doc.get_changes(base);
    if !changes.iter().any(|c| others.contains(c.actor_id())) {
        return (changes, doc.get_heads());
    }
    let genesis = id
        .parse::<zonepatrol_shared::docs::DocId>()
        .ok()
        .map(|d| zonepatrol_shared::docs::genesis_actor(&d));
    let after: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    let mut taken: HashSet<ChangeHash> = HashSet::new();
    let mut out = Vec::new();
    let mut rest: Vec<Change> = changes
        .into_iter()
        .filter(|c| !others.contains(c.actor_id()))
        .collect();
    loop {
        let (ready, waiting): (Vec<Change>, Vec<Change>) = rest.into_iter().partition(|c| {
            c.deps()
                .iter()
                .all(|d| !after.contains(d) || taken.contains(d))
        });
        if ready.is_empty() {
            break;
        }
        for c in ready {
            taken.insert(c.hash());
            out.push(c);
        }
        rest = waiting;
    }
    // A genesis change nobody's edit here builds on is not this person's to send.
    let needed: HashSet<ChangeHash> = {
        let mut needed = HashSet::new();
        let mut stack: Vec<ChangeHash> = out
            .iter()
            .filter(|c| Some(c.actor_id()) != genesis.as_ref())
            .map(Change::hash)
            .collect();
        while let Some(h) = stack.pop() {
            if needed.insert(h)
                && let Some(c) = out.iter().find(|c| c.hash() == h)
            {
                stack.extend(c.deps().iter().copied());
            }
        }
        needed
    };
    out.retain(|c| needed.contains(&c.hash()));
    let mut heads: BTreeSet<ChangeHash> = base.iter().copied().collect();
    for c in &out {
        for d in c.deps() {
            heads.remove(d);
        }
        heads.insert(c.hash());
    }
    (out, heads.into_iter().collect())
}

/// A document update to take in: from the server's pull, or its answer to a push.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The document.
    pub id: &'a str,
    /// The server's heads.
    pub heads: &'a [String],
    /// Changes (base64) that bring the local document to contain `heads`.
    pub changes: &'a str,
}

impl Repo {
    /// A person's sync cursor: the highest server sequence number taken in for them.
    pub fn cursor(&self, user: &str) -> Result<u64, StoreError> {
        let k = cursor_key(user);
        match self.docs.get(&k)? {
            Some(v) => {
                let arr: [u8; 8] = v.as_ref().try_into().map_err(|_| damaged(&k, "size"))?;
                Ok(u64::from_be_bytes(arr))
            }
            None => Ok(0),
        }
    }

    /// Starts a person's cursor over, so that their next sync receives every document whole.
    pub fn reset_cursor(&self, user: &str) -> Result<(), StoreError> {
        self.docs.remove(cursor_key(user))?;
        self.db.flush()?;
        Ok(())
    }

    /// The phone's cursor from before accounts becomes this person's.
    pub(super) fn adopt_cursor(&self, user: &str) -> Result<(), StoreError> {
        if let Some(v) = self.docs.get(CURSOR)? {
            self.docs.insert(cursor_key(user), v)?;
        }
        Ok(())
    }

    /// Whether anyone's changes on the phone have not reached the server.
    pub fn has_unsent(&self) -> Result<bool, StoreError> {
        Ok(!self.unsent_ids()?.is_empty() || self.probation_waits(None)?)
    }

    /// Whether a person has changes on the phone that can go to the server now: their own
    /// edits that build on nobody else's unsent ones.
    pub fn has_unsent_of(&self, user: &str) -> Result<bool, StoreError> {
        if self.probation_waits(Some(user))? {
            return Ok(true);
        }
        let others = self.others_actors(user)?;
        for id in self.unsent_ids()? {
            if others.is_empty() {
                return Ok(true);
            }
            let (Some(record), Some(mut doc)) = (self.record(&id)?, self.load_any(&id)?) else {
                continue;
            };
            let base = heads_from_hex(&record.acked).map_err(|e| damaged(id.as_bytes(), e))?;
            if !sendable(&id, &mut doc, &base, &others).0.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn unsent_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for kv in self.docs.scan_prefix([b'd', 0]) {
            let (k, v) = kv?;
            let record: DocRecord = decode(&k, &v)?;
            if record.dirty {
                out.push(id_of(&k)?);
            }
        }
        Ok(out)
    }

    /// A person's changes to send, one [`Push`] per document, up to about `max_bytes` of
    /// changes: their own edits that build on nobody else's unsent ones (see [`sendable`]).
    pub fn outgoing(&self, user: &str, max_bytes: usize) -> Result<Vec<Push>, StoreError> {
        self.release_probation(user)?;
        loop {
            let others = self.others_actors(user)?;
            let pushes = self.outgoing_with(user, max_bytes, &others)?;
            // Another person's work merged meanwhile (a meeting going on) is never sent as
            // this person's: made again with its actors known.
            if self.others_actors(user)? == others {
                return Ok(pushes);
            }
        }
    }

    fn outgoing_with(
        &self,
        user: &str,
        max_bytes: usize,
        others: &BTreeSet<ActorId>,
    ) -> Result<Vec<Push>, StoreError> {
        let mut pushes = Vec::new();
        let mut used = 0;
        for id in self.unsent_ids()? {
            let Some(record) = self.record(&id)? else {
                continue;
            };
            let Some(mut doc) = self.load_any(&id)? else {
                continue;
            };
            let base = heads_from_hex(&record.acked).map_err(|e| damaged(id.as_bytes(), e))?;
            let (changes, have, hashes) = if others.is_empty() {
                // The hashes only, from the changes' metadata (not the changes themselves,
                // which automerge would encode again).
                let hashes: Vec<_> = if self.signs_pushes() {
                    doc.get_changes_meta(&base)
                        .into_iter()
                        .map(|m| m.hash)
                        .collect()
                } else {
                    Vec::new()
                };
                (doc.save_after(&base), doc.get_heads(), hashes)
            } else {
                let (mut mine, have) = sendable(&id, &mut doc, &base, others);
                let mut bytes = Vec::new();
                for c in &mut mine {
                    bytes.extend_from_slice(&c.bytes());
                }
                let hashes = mine.iter().map(|c| c.hash()).collect();
                (bytes, have, hashes)
            };
            if changes.is_empty() && !others.is_empty() {
                continue;
            }
            if !pushes.is_empty() && used + changes.len() > max_bytes {
                break;
            }
            used += changes.len();
            // Signed by this phone for the person signed in: the server takes no change
            // without it.
            let signed = if self.signs_pushes() {
                vec![self.key.sign_changes(&id, user, &hashes)]
            } else {
                Vec::new()
            };
            pushes.push(Push {
                id,
                base: record.acked,
                have: heads_to_hex(&have),
                changes: b64::encode(&changes),
                signed,
            });
        }
        Ok(pushes)
    }

    /// Takes in server updates and moves a person's cursor, all in one batch and one flush.
    /// Each document's last update's heads become its acknowledged heads. An update that does
    /// not connect to what the phone holds (or does not load) is left out, and the document
    /// asked for whole at the next sync ([`Repo::wanted_whole`]): nothing else waits for it.
    pub fn take_in(
        &self,
        user: &str,
        updates: &[Incoming<'_>],
        cursor: Option<u64>,
    ) -> Result<(), StoreError> {
        let _guard = self.lock();
        let mut batch = sled::Batch::default();
        let mut ids: Vec<&str> = updates.iter().map(|u| u.id).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let mine: Vec<&Incoming<'_>> = updates.iter().filter(|u| u.id == id).collect();
            match self.take_in_one(&mut batch, id, &mine) {
                Ok(()) => {
                    batch.remove(whole_key(user, id));
                }
                Err(StoreError::BadRemote { .. }) => {
                    batch.insert(whole_key(user, id), &[]);
                    continue;
                }
                Err(e) => return Err(e),
            }
            // The server sent it to this person: they may see it (a visitor's patrol of
            // another branch among others).
            if !user.is_empty() {
                batch.insert(super::codec::reader_key(id, user), &[]);
            }
        }
        if let Some(cursor) = cursor {
            batch.insert(cursor_key(user), &cursor.to_be_bytes());
        }
        self.docs.apply_batch(batch)?;
        self.decoded.forget_all();
        self.db.flush()?;
        Ok(())
    }

    fn take_in_one(
        &self,
        batch: &mut sled::Batch,
        id: &str,
        updates: &[&Incoming<'_>],
    ) -> Result<(), StoreError> {
        let bad = |why: String| StoreError::BadRemote {
            id: id.to_owned(),
            why,
        };
        let record = self.record(id)?;
        let mut doc = match &record {
            Some(_) => self
                .load_any(id)?
                .ok_or_else(|| damaged(id.as_bytes(), "record without chunks"))?,
            None => AutoCommit::new(),
        };
        let mut received = Vec::new();
        let mut acked = None;
        for u in updates {
            let heads = heads_from_hex(u.heads).map_err(|e| bad(e.to_string()))?;
            let bytes = b64::decode(u.changes).map_err(|e| bad(e.to_string()))?;
            if !bytes.is_empty() {
                doc.load_incremental(&bytes)
                    .map_err(|e| bad(e.to_string()))?;
                received.extend_from_slice(&bytes);
            }
            if heads
                .iter()
                .any(|h| doc.document().get_change_by_hash(h).is_none())
                || !doc.get_missing_deps(&[]).is_empty()
            {
                return Err(bad("the changes are incomplete".into()));
            }
            acked = Some((heads, u.heads.to_vec()));
        }
        let Some((heads, acked_hex)) = acked else {
            return Ok(());
        };
        if record.is_none() && received.is_empty() {
            return Ok(());
        }
        let mut record = record.unwrap_or_default();
        record.dirty = doc.get_heads() != heads;
        record.acked = acked_hex;
        if received.is_empty() {
            batch.insert(key(b'd', id), encode(&record));
            Ok(())
        } else {
            self.append_to(batch, id, &mut record, &mut doc, received)
        }
    }

    /// The documents to ask the server for whole for a person (at most
    /// [`zonepatrol_shared::protocol::MAX_WHOLE`]): updates of theirs that did not connect.
    pub fn wanted_whole(&self, user: &str) -> Result<Vec<String>, StoreError> {
        let prefix = whole_key(user, "");
        let mut out = Vec::new();
        for k in self.docs.scan_prefix(&prefix).keys() {
            let k = k?;
            out.push(String::from_utf8_lossy(&k[prefix.len()..]).into_owned());
            if out.len() == zonepatrol_shared::protocol::MAX_WHOLE {
                break;
            }
        }
        Ok(out)
    }

    /// No longer asks for these documents whole for a person (the server did not send them).
    pub fn forget_whole(&self, user: &str, ids: &[&String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(whole_key(user, id));
        }
        self.docs.apply_batch(batch)?;
        Ok(())
    }

    /// Forgets the acknowledged heads of a document, so that it is sent whole next time (the
    /// server lost the state the device built on).
    pub fn resend_whole(&self, id: &str) -> Result<(), StoreError> {
        let _guard = self.lock();
        if let Some(mut record) = self.record(id)? {
            record.acked.clear();
            record.dirty = true;
            self.docs.insert(key(b'd', id), encode(&record))?;
            self.db.flush()?;
        }
        Ok(())
    }
}
