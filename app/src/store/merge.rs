//! Another person's work carried here, shown: an open carried item this phone can check is
//! merged into the phone's own copy of its document, as the server would merge it, so that
//! the people here see the fix before anyone reaches the surface; taken out again if the
//! server refuses it.
//!
//! The actors such work was written with are kept (`a\0ACTOR` in the `carry` tree, hex): the
//! phone never sends that work as its own people's ([`Repo::others_actors`]), and their edits
//! built on it wait until the server has it, as edits built on another person's unsent work
//! always do. So are the changes each item added (`g\0ITEM`, their hashes): only those are
//! taken out if the server refuses the item, whatever else its signature names.

use std::collections::{BTreeSet, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{ActorId, AutoCommit, ChangeHash};
use zonepatrol_shared::docs::{DocId, genesis_actor, genesis_heads, server_actor};
use zonepatrol_shared::protocol::{Push, b64, heads_from_hex};
use zonepatrol_shared::relay::DeviceList;
use zonepatrol_shared::validate::{Refusal, validate_change};

use super::codec::{damaged, encode, key, reader_key};
use super::{Repo, StoreError};

/// The prefix of the foreign actors' keys in the `carry` tree.
const FOREIGN: &[u8] = b"a\0";

/// The most actors one item's changes may be written with to be shown (a person writes with
/// one actor a phone, and a new one after each refusal).
const MAX_ACTORS: usize = 8;

impl Repo {
    /// Merges an open carried item into this phone's copy of its document, for `reader` (the
    /// person signed in, who may read it) to see, when every change it adds is one its
    /// signatures cover, it builds on nothing the phone lacks, none was written with an actor
    /// of this phone's own people, and the document so changed passes the server's rules as
    /// its author (a person on the device list) against this phone's copies of what they
    /// need; none may be written with the server's actor, nor with the document's genesis
    /// actor but its genesis change, as the server requires. Returns the changes merged (hex),
    /// none when it added nothing or was not merged: an item that is not merged is carried all
    /// the same, and the server decides. `item` is the item's id, under which the changes
    /// merged are kept.
    pub(super) fn merge_carried(
        &self,
        reader: &str,
        list: &DeviceList,
        push: &Push,
        item: &str,
    ) -> Result<Vec<String>, StoreError> {
        let none = Ok(Vec::new());
        let Some(author) = push.signed.first().and_then(|s| list.person(&s.user)) else {
            return none;
        };
        let Ok(id) = push.id.parse::<DocId>() else {
            return none;
        };
        let Ok(bytes) = b64::decode(&push.changes) else {
            return none;
        };
        let Some(checks) = self.checks(&id) else {
            // Without the branch directory nothing can be checked here: carried only.
            return none;
        };
        let signed: HashSet<&str> = push
            .signed
            .iter()
            .flat_map(|s| s.hashes.iter().map(String::as_str))
            .collect();
        let mine = self.own_actors()?;
        let genesis = genesis_actor(&id);
        let born: HashSet<ChangeHash> = genesis_heads(&id)
            .map(|h| h.into_iter().collect())
            .unwrap_or_default();
        let server = server_actor();
        let context = checks.context(self.clock());
        let _guard = self.lock();
        let record = self.record(&push.id)?;
        let mut doc = match &record {
            Some(_) => AutoCommit::load(&self.bytes(&push.id)?)
                .map_err(|e| damaged(push.id.as_bytes(), e))?,
            None => AutoCommit::new(),
        };
        let before = doc.get_heads();
        // Another phone's bytes: whatever they hold, they do not take this phone down.
        let checked = catch_unwind(AssertUnwindSafe(|| {
            let mut after = doc.fork();
            after.load_incremental(&bytes).ok()?;
            if !after.get_missing_deps(&[]).is_empty() {
                return None;
            }
            let added = after.get_changes(&before);
            let actors: HashSet<&ActorId> = added.iter().map(|c| c.actor_id()).collect();
            let fits = !added.is_empty()
                && actors.len() <= MAX_ACTORS
                && added.iter().all(|c| {
                    let actor = c.actor_id();
                    signed.contains(c.hash().to_string().as_str())
                        && !mine.contains(actor)
                        && *actor != server
                        && (*actor != genesis || born.contains(&c.hash()))
                });
            if !fits {
                return None;
            }
            validate_change(author, &id, doc.document(), after.document(), &context).ok()?;
            Some(after)
        }));
        let Ok(Some(mut after)) = checked else {
            return none;
        };
        let mut chunk = Vec::new();
        let mut merged = Vec::new();
        let mut foreign = sled::Batch::default();
        for mut c in after.get_changes(&before) {
            chunk.extend_from_slice(&c.bytes());
            // The genesis change is everyone's: it is never taken out again.
            if c.actor_id() != &genesis {
                merged.push(c.hash().to_string());
                foreign.insert(foreign_key(c.actor_id()), &[]);
            }
        }
        foreign.insert(key(b'g', item), encode(&merged));
        let mut record = record.unwrap_or_default();
        record.dirty = true;
        let mut batch = sled::Batch::default();
        self.append_to(&mut batch, &push.id, &mut record, &mut after, chunk)?;
        batch.insert(reader_key(&push.id, reader), &[]);
        // The actors and the changes first: the phone never holds such work without knowing it
        // is not its own, and what to take out should the server refuse it.
        self.carry.apply_batch(foreign)?;
        self.carry.flush()?;
        self.docs.apply_batch(batch)?;
        self.decoded.forget(&push.id);
        self.db.flush()?;
        Ok(merged)
    }

    /// Takes the changes carried item `item` merged into document `id` out again: the server
    /// refused it. Whatever was built on them goes with them: other carried work is the
    /// server's to judge when its carrier hands it on; an edit of this phone's people goes to
    /// the quarantine with the refusal, to be re-made alone when they next sync. Changes the
    /// server has (another copy of the same work reached it) stay; so does the genesis change,
    /// unless nothing else is left of a document the server never sent.
    pub(super) fn unmerge(
        &self,
        id: &str,
        item: &str,
        refusal: &Refusal,
    ) -> Result<(), StoreError> {
        let _guard = self.lock();
        let merged_key = key(b'g', item);
        let hashes: Vec<String> = match self.carry.get(&merged_key)? {
            Some(v) => super::codec::decode(&merged_key, &v)?,
            None => return Ok(()),
        };
        let Some(record) = self.record(id)? else {
            self.carry.remove(&merged_key)?;
            return Ok(());
        };
        let mut doc = AutoCommit::load(&self.bytes(id)?).map_err(|e| damaged(id.as_bytes(), e))?;
        let acked = heads_from_hex(&record.acked).map_err(|e| damaged(id.as_bytes(), e))?;
        let unacked = doc.get_changes(&acked);
        let waiting: HashSet<ChangeHash> = unacked.iter().map(automerge::Change::hash).collect();
        let mut gone: HashSet<ChangeHash> = hashes
            .iter()
            .filter_map(|h| h.parse().ok())
            .filter(|h| waiting.contains(h))
            .collect();
        if gone.is_empty() {
            self.carry.remove(&merged_key)?;
            return Ok(());
        }
        // Only another person's changes, merged by this item, are taken out (with what was
        // built on them).
        let foreign = self.foreign_actors()?;
        gone.retain(|h| {
            doc.get_change_by_hash(h)
                .is_some_and(|c| foreign.contains(c.actor_id()))
        });
        if gone.is_empty() {
            self.carry.remove(&merged_key)?;
            return Ok(());
        }
        let owners = self.actor_owners("")?;
        let mut theirs = Vec::new();
        let mut kept = Vec::new();
        for mut c in unacked {
            if gone.contains(&c.hash()) || c.deps().iter().any(|d| gone.contains(d)) {
                gone.insert(c.hash());
                if let Some(owner) = owners.get(c.actor_id()) {
                    theirs.push((owner.clone(), c.deps().to_vec(), c.hash()));
                }
            } else {
                kept.extend_from_slice(&c.bytes());
            }
        }
        let photos: Vec<String> = zonepatrol_shared::docs::values::photo_hashes(&doc)
            .into_iter()
            .collect();
        let mut entries = Vec::new();
        for (owner, deps, hash) in &theirs {
            entries.push(self.remade(&mut doc, id, owner, deps, *hash, refusal, &photos)?);
        }
        let mut rewound = if acked.is_empty() {
            AutoCommit::new()
        } else {
            doc.fork_at(&acked).map_err(|e| damaged(id.as_bytes(), e))?
        };
        if !kept.is_empty() {
            rewound
                .load_incremental(&kept)
                .map_err(|e| damaged(id.as_bytes(), e))?;
        }
        // A document the server never sent, of which only its genesis is left, goes.
        let genesis = id.parse::<DocId>().ok().map(|d| genesis_actor(&d));
        let only_genesis = acked.is_empty()
            && rewound
                .get_changes(&[])
                .iter()
                .all(|c| Some(c.actor_id()) == genesis.as_ref());
        let mut batch = sled::Batch::default();
        let dirty = rewound.get_heads() != acked;
        let left = (!only_genesis).then_some(&mut rewound);
        self.rewrite_into(&mut batch, id, left, record.acked, dirty)?;
        let mut held = sled::Batch::default();
        for entry in &entries {
            held.insert(&entry.key.to_be_bytes(), encode(entry));
        }
        // Fresh actors first, so that nothing written after a crash here clashes with the
        // edits re-made.
        let mut owners: Vec<&String> = theirs.iter().map(|(owner, _, _)| owner).collect();
        owners.sort();
        owners.dedup();
        for owner in owners {
            self.new_actor_of(owner)?;
        }
        self.quarantine.apply_batch(held)?;
        self.docs.apply_batch(batch)?;
        self.carry.remove(&merged_key)?;
        self.decoded.forget(id);
        self.db.flush()?;
        Ok(())
    }

    /// Forgets what item `item` merged: the server has it.
    pub(super) fn merged_settled(&self, item: &str) -> Result<(), StoreError> {
        self.carry.remove(key(b'g', item))?;
        Ok(())
    }

    /// The actors of other people's work merged here.
    pub(super) fn foreign_actors(&self) -> Result<BTreeSet<ActorId>, StoreError> {
        let mut out = BTreeSet::new();
        for k in self.carry.scan_prefix(FOREIGN).keys() {
            let k = k?;
            if let Ok(bytes) = hex::decode(&k[FOREIGN.len()..]) {
                out.insert(ActorId::from(bytes));
            }
        }
        Ok(out)
    }

    /// Every actor this phone's own people write with, and the phone's own.
    fn own_actors(&self) -> Result<HashSet<ActorId>, StoreError> {
        let mut out: HashSet<ActorId> = self.actor_owners("")?.into_keys().collect();
        out.insert(self.device_actor()?);
        Ok(out)
    }
}

fn foreign_key(actor: &ActorId) -> Vec<u8> {
    key(b'a', &actor.to_hex_string())
}
