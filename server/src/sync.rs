//! The sync route's work: take in pushed changes, check them, store them, and send back what
//! changed since the device's cursor.
//!
//! A request is handled in three steps. First every pushed document is read and its changes
//! are applied to a copy of the stored document; damaged or incomplete data refuses the whole
//! request before anything is stored. Then each copy is checked (actors, then the shared
//! validation) and either stored or refused; the store is flushed before the answer is
//! built, so an acknowledged change is durable. Last, the documents changed after the cursor
//! that the user may read are gathered, up to a byte budget.
//!
//! Pushes hold the documents' write lock for the first two steps; pulls take it shared.

use std::collections::{BTreeMap, HashMap};

use automerge::{AutoCommit, ChangeHash, ReadDoc};
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::{
    self, Directory, DocId, DocKind, Document, Lock, Patrol, Publication, genesis_actor,
};
use zonepatrol_shared::protocol::{
    Ack, DocUpdate, ErrorCode, Outcome, Push, SyncRequest, SyncResponse, b64, heads_from_hex,
    heads_to_hex, may_read,
};
use zonepatrol_shared::validate::{Context, Refusal, RefusalCode, validate_change};

use crate::State;
use crate::error::ApiError;
use crate::store::{DocWrite, RefusedRecord, Storage, StoredDoc};

/// A document kept in more chunks than this is rewritten as one snapshot.
const COMPACT_AT: u32 = 16;

/// What one pushed document became after the first step.
enum Prepared {
    /// The user may not read it, so may not write it either.
    Unreadable { push: Push, id: DocId },
    /// The server lacks the base the device built on.
    MissingBase {
        id: String,
        stored: Option<StoredDoc>,
    },
    /// Ready to check.
    Ready(Box<Ready>),
}

struct Ready {
    id: DocId,
    text_id: String,
    stored: Option<StoredDoc>,
    before: AutoCommit,
    after: AutoCommit,
    base: Vec<ChangeHash>,
    have: Vec<ChangeHash>,
    changes: Vec<u8>,
}

fn bad_changes(id: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::BadChanges,
        format!("the changes sent for {id} {why}: nothing in this request was stored; sync again"),
    )
}

fn load_stored(stored: Option<&StoredDoc>) -> Result<AutoCommit, ApiError> {
    match stored {
        Some(s) => AutoCommit::load(&s.bytes).map_err(|e| ApiError::internal(&e)),
        None => Ok(AutoCommit::new()),
    }
}

fn prepare(store: &dyn Storage, user: &Actor, n: usize, push: Push) -> Result<Prepared, ApiError> {
    let id: DocId = push
        .id
        .parse()
        .map_err(|e| ApiError::bad_request(format!("push {n}: {e}")))?;
    if id.to_string() != push.id {
        return Err(ApiError::bad_request(format!(
            "push {n}: write the id “{}” as “{id}”",
            push.id
        )));
    }
    let base = heads_from_hex(&push.base)
        .map_err(|e| ApiError::bad_request(format!("push {n} ({id}), base: {e}")))?;
    let have = heads_from_hex(&push.have)
        .map_err(|e| ApiError::bad_request(format!("push {n} ({id}), have: {e}")))?;
    let changes = b64::decode(&push.changes).map_err(|e| {
        ApiError::bad_request(format!("push {n} ({id}): changes are not base64: {e}"))
    })?;
    if !may_read(user, &id) {
        return Ok(Prepared::Unreadable { push, id });
    }
    let stored = store.doc(&push.id)?;
    let before = load_stored(stored.as_ref())?;
    let mut after = before.clone();
    after
        .load_incremental(&changes)
        .map_err(|e| bad_changes(&push.id, format_args!("cannot be read ({e})")))?;
    let known = |h: &ChangeHash| after.document().get_change_by_hash(h).is_some();
    if !base.iter().all(known) || !after.get_missing_deps(&[]).is_empty() {
        return Ok(Prepared::MissingBase {
            id: push.id,
            stored,
        });
    }
    let known = |h: &ChangeHash| after.document().get_change_by_hash(h).is_some();
    if !have.iter().all(known) {
        return Err(bad_changes(
            &push.id,
            "are incomplete or damaged (the heads they claim are not in them)",
        ));
    }
    Ok(Prepared::Ready(Box::new(Ready {
        text_id: push.id,
        id,
        stored,
        before,
        after,
        base,
        have,
        changes,
    })))
}

/// Documents the validator needs, read once per request.
#[derive(Default)]
struct ContextCache {
    directories: HashMap<String, Option<Directory>>,
    patrols: HashMap<String, Option<Patrol>>,
    locks: HashMap<String, Vec<Lock>>,
}

fn read_stored<D: Document>(store: &dyn Storage, id: &DocId) -> Result<Option<D>, ApiError> {
    let Some(stored) = store.doc(&id.to_string())? else {
        return Ok(None);
    };
    let doc = AutoCommit::load(&stored.bytes).map_err(|e| ApiError::internal(&e))?;
    // A stored document that does not read as its kind cannot vouch for anything.
    Ok(docs::read::<D, _>(&doc, id).ok())
}

impl ContextCache {
    fn fill(&mut self, store: &dyn Storage, id: &DocId) -> Result<(), ApiError> {
        let branch = id.branch().to_owned();
        if !self.directories.contains_key(&branch) {
            let dir_id = DocId::Directory {
                branch: branch.clone(),
            };
            let dir = read_stored::<Directory>(store, &dir_id)?;
            self.directories.insert(branch.clone(), dir);
        }
        if !self.locks.contains_key(&branch) {
            let pub_id = DocId::Publication {
                branch: branch.clone(),
            };
            let locks = read_stored::<Publication>(store, &pub_id)?
                .map(|p| p.locks())
                .unwrap_or_default();
            self.locks.insert(branch.clone(), locks);
        }
        if let DocId::Sheet { branch, patrol, .. } = id {
            let patrol_id = DocId::Patrol {
                branch: branch.clone(),
                patrol: patrol.clone(),
            };
            let key = patrol_id.to_string();
            if let std::collections::hash_map::Entry::Vacant(slot) = self.patrols.entry(key) {
                slot.insert(read_stored::<Patrol>(store, &patrol_id)?);
            }
        }
        Ok(())
    }

    fn context(&self, id: &DocId, now: i64) -> Context<'_> {
        let patrol = match id {
            DocId::Sheet { branch, patrol, .. } => self
                .patrols
                .get(
                    &DocId::Patrol {
                        branch: branch.clone(),
                        patrol: patrol.clone(),
                    }
                    .to_string(),
                )
                .and_then(Option::as_ref),
            _ => None,
        };
        Context {
            directory: self.directories.get(id.branch()).and_then(Option::as_ref),
            patrol,
            locks: self
                .locks
                .get(id.branch())
                .map(Vec::as_slice)
                .unwrap_or_default(),
            now_millis: Some(now),
        }
    }

    /// Forgets what a stored write may have changed.
    fn written(&mut self, id: &DocId) {
        match id.kind() {
            DocKind::Directory => {
                self.directories.remove(id.branch());
            }
            DocKind::Publication => {
                self.locks.remove(id.branch());
            }
            DocKind::Patrol => {
                self.patrols.remove(&id.to_string());
            }
            _ => {}
        }
    }
}

/// Actors first seen in a push, with the user who now owns them.
type Claims = Vec<(Vec<u8>, String)>;

/// Automerge actors in the new changes: the genesis actor only for the genesis change, and any
/// other actor belongs to one user, the first who wrote with it.
fn check_actors(
    store: &dyn Storage,
    user: &Actor,
    r: &mut Ready,
) -> Result<Result<Claims, Refusal>, ApiError> {
    let before_heads = r.before.get_heads();
    let genesis = genesis_actor(&r.id);
    let genesis_heads = docs::genesis_heads(&r.id).map_err(|e| ApiError::internal(&e))?;
    let mut claimed: BTreeMap<Vec<u8>, String> = BTreeMap::new();
    for change in r.after.get_changes(&before_heads) {
        let actor = change.actor_id();
        if *actor == genesis {
            if !genesis_heads.contains(&change.hash()) {
                return Ok(Err(Refusal {
                    code: RefusalCode::Immutable,
                    part: "document".into(),
                    reason: "a change is signed with the document's genesis actor: only the \
                             document's first change may be; update the app"
                        .into(),
                }));
            }
            continue;
        }
        let bytes = actor.to_bytes().to_vec();
        if claimed.contains_key(&bytes) {
            continue;
        }
        match store.actor_owner(&bytes)? {
            Some(owner) if owner != user.user => {
                return Ok(Err(Refusal {
                    code: RefusalCode::NotWriter,
                    part: "document".into(),
                    reason: format!(
                        "these changes were made on a device signed in as {owner}: sign in as \
                         {owner} to send them"
                    ),
                }));
            }
            Some(_) => {}
            None => {
                claimed.insert(bytes, user.user.clone());
            }
        }
    }
    Ok(Ok(claimed.into_iter().collect()))
}

/// Handles one sync request for an authenticated user.
pub(crate) fn sync(
    state: &State,
    user: &Actor,
    request: SyncRequest,
) -> Result<SyncResponse, ApiError> {
    let store = &*state.store;
    let mut acks = Vec::with_capacity(request.push.len());
    let mut pushed_now: HashMap<String, u64> = HashMap::new();
    if !request.push.is_empty() {
        let mut ids = std::collections::HashSet::new();
        if let Some(twice) = request.push.iter().find(|p| !ids.insert(p.id.as_str())) {
            return Err(ApiError::bad_request(format!(
                "{} is pushed twice in one request: send each document once",
                twice.id
            )));
        }
        let _write = state.docs.write().unwrap_or_else(|e| e.into_inner());
        let prepared = request
            .push
            .into_iter()
            .enumerate()
            .map(|(n, push)| prepare(store, user, n, push))
            .collect::<Result<Vec<_>, _>>()?;
        let now = crate::now_millis();
        let mut cache = ContextCache::default();
        let mut dirty = std::collections::BTreeSet::new();
        // Whatever happens below, what was written is flushed before the lock is released,
        // so that no other request can serve a write that a crash could still take back.
        let written = (|| -> Result<(), ApiError> {
            for p in prepared {
                let ack = match p {
                    Prepared::Unreadable { push, id } => {
                        let refusal = Refusal {
                            code: RefusalCode::WrongBranch,
                            part: "document".into(),
                            reason: format!(
                                "{id} is not yours to read or change: it belongs to another branch or \
                             another inspector"
                            ),
                        };
                        keep_refused(store, user, &push.id, &refusal, push.changes, now)?;
                        Ack {
                            id: push.id,
                            outcome: Outcome::Refused { refusal },
                            heads: Vec::new(),
                            changes: String::new(),
                        }
                    }
                    Prepared::MissingBase { id, stored } => Ack {
                        id,
                        outcome: Outcome::MissingBase,
                        heads: stored.map(|s| heads_to_hex(&s.heads)).unwrap_or_default(),
                        changes: String::new(),
                    },
                    Prepared::Ready(mut r) => {
                        cache.fill(store, &r.id)?;
                        let checked = match check_actors(store, user, &mut r)? {
                            Err(refusal) => Err(refusal),
                            Ok(actors) => validate_change(
                                user,
                                &r.id,
                                r.before.document(),
                                r.after.document(),
                                &cache.context(&r.id, now),
                            )
                            .map(|()| actors),
                        };
                        match checked {
                            Ok(actors) => {
                                let before_heads = r.before.get_heads();
                                let after_heads = r.after.get_heads();
                                if before_heads != after_heads {
                                    let chunks = r.stored.as_ref().map_or(0, |s| s.chunks);
                                    let compact = chunks + 1 >= COMPACT_AT || chunks == 0;
                                    let chunk = if compact {
                                        r.after.save()
                                    } else {
                                        r.after.save_after(&before_heads)
                                    };
                                    let seq = store.write_doc(&DocWrite {
                                        id: r.text_id.clone(),
                                        chunk,
                                        compact,
                                        heads: after_heads.clone(),
                                        actors,
                                    })?;
                                    pushed_now.insert(r.text_id.clone(), seq);
                                    cache.written(&r.id);
                                    dirty.extend(crate::reports::take_in(state, &r.id, &r.after));
                                }
                                Ack {
                                    id: r.text_id,
                                    outcome: Outcome::Accepted,
                                    changes: b64::encode(&r.after.save_after(&r.have)),
                                    heads: heads_to_hex(&after_heads),
                                }
                            }
                            Err(refusal) => {
                                tracing::info!(doc = %r.id, user = %user.user, %refusal, "refused");
                                let changes = b64::encode(&r.changes);
                                keep_refused(store, user, &r.text_id, &refusal, changes, now)?;
                                Ack {
                                    id: r.text_id,
                                    outcome: Outcome::Refused { refusal },
                                    changes: b64::encode(&r.before.save_after(&r.base)),
                                    heads: heads_to_hex(&r.before.get_heads()),
                                }
                            }
                        }
                    }
                };
                acks.push(ack);
            }
            Ok(())
        })();
        // The reports the push changed go out with this same response.
        crate::reports::write_dirty(state, dirty, now);
        store.flush()?;
        written?;
    }

    let _read = state.docs.read().unwrap_or_else(|e| e.into_inner());
    let budget = request
        .max_bytes
        .unwrap_or(state.settings.max_response_bytes)
        .clamp(1, state.settings.max_response_bytes);
    // A cursor from beyond what this store has given out (it was restored from a backup):
    // start that device over, so that it misses nothing.
    let since = if request.cursor > store.last_seq()? {
        0
    } else {
        request.cursor
    };
    let (docs, cursor, more) = pull(store, user, since, budget, &pushed_now)?;
    Ok(SyncResponse {
        cursor,
        more,
        acks,
        docs,
        time_zone: Some(state.settings.clock.tz.name().to_owned()),
    })
}

fn keep_refused(
    store: &dyn Storage,
    user: &Actor,
    id: &str,
    refusal: &Refusal,
    changes: String,
    now: i64,
) -> Result<(), ApiError> {
    store.keep_refused(&RefusedRecord {
        id: id.to_owned(),
        user: user.user.clone(),
        at: now,
        refusal: refusal.clone(),
        changes,
    })?;
    Ok(())
}

/// The documents the user may read that changed after `since`, within a byte budget; at
/// least one document is sent, however large.
fn pull(
    store: &dyn Storage,
    user: &Actor,
    since: u64,
    budget: u64,
    pushed_now: &HashMap<String, u64>,
) -> Result<(Vec<DocUpdate>, u64, bool), ApiError> {
    let mut docs = Vec::new();
    let mut used: u64 = 0;
    let mut cursor = since;
    loop {
        let batch = store.changed_after(cursor, 1024)?;
        if batch.is_empty() {
            return Ok((docs, cursor, false));
        }
        for (seq, text_id) in batch {
            let Ok(id) = text_id.parse::<DocId>() else {
                cursor = seq;
                continue;
            };
            if !may_read(user, &id) || pushed_now.get(&text_id) == Some(&seq) {
                cursor = seq;
                continue;
            }
            let Some(stored) = store.doc(&text_id)? else {
                cursor = seq;
                continue;
            };
            let known = if since == 0 {
                None
            } else {
                store.heads_at(&text_id, since)?
            };
            let bytes = match known {
                Some(heads) => {
                    let mut doc =
                        AutoCommit::load(&stored.bytes).map_err(|e| ApiError::internal(&e))?;
                    doc.save_after(&heads)
                }
                None => stored.bytes,
            };
            let size = bytes.len() as u64;
            if !docs.is_empty() && used + size > budget {
                return Ok((docs, cursor, true));
            }
            used += size;
            docs.push(DocUpdate {
                id: text_id,
                heads: heads_to_hex(&stored.heads),
                changes: b64::encode(&bytes),
            });
            cursor = seq;
        }
    }
}
