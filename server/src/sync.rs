//! The sync route's work: take in pushed changes, check them, store them, and send back what
//! changed since the device's cursor.
//!
//! A request is handled in three steps. First every pushed document is read, its changes are
//! applied to a copy of the stored document and the copy is checked (actors, then the shared
//! validation), without any lock; damaged or incomplete data refuses the whole request before
//! anything is stored, and a document whose changes are larger than the server takes is
//! refused alone. Then, holding the documents' write lock, each copy is stored or refused
//! (checked again first if the store moved under it); the store is flushed before the answer
//! is built, so an acknowledged change is durable. Last, under the lock shared, the documents
//! changed after the cursor that the user may read are gathered, up to a byte budget.

use std::collections::{BTreeMap, HashMap};

use automerge::{AutoCommit, ChangeHash, ReadDoc};
use sha2::{Digest, Sha256};
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::{
    self, Directory, DocId, Document, Lock, Patrol, Publication, genesis_actor,
};
use zonepatrol_shared::protocol::{
    Ack, DocUpdate, ErrorCode, Outcome, Push, SyncRequest, SyncResponse, b64, heads_from_hex,
    heads_to_hex, may_read,
};
use zonepatrol_shared::rules::period::MineClock;
use zonepatrol_shared::validate::{Context, Refusal, RefusalCode, validate_change};

use crate::error::ApiError;
use crate::store::{DocWrite, RefusedRecord, Storage, StoredDoc};
use crate::{State, consolidate};

/// A document kept in more chunks than this is rewritten as one snapshot.
const COMPACT_AT: u32 = 16;

/// What one pushed document became after the first step.
enum Prepared {
    /// Refused: the user may not read it (so may not write it either), its changes are
    /// larger than the server takes, or the checks refused it. Only what the answer and the
    /// record need is kept, not the documents, so that a request's refused documents do not
    /// stay in memory until it is done.
    Refused(Box<Judged>),
    /// The server lacks the base the device built on.
    MissingBase {
        id: String,
        stored: Option<StoredDoc>,
    },
    /// Ready to check.
    Ready(Box<Ready>),
}

struct Judged {
    id: String,
    /// For a refusal by the checks: what to check again if the store moves under it.
    retry: Option<(DocId, Vec<ChangeHash>, Vec<ChangeHash>)>,
    changes: Vec<u8>,
    refusal: Refusal,
    /// The server's heads and the changes after the device's base, for the answer.
    heads: Vec<String>,
    answer: String,
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
    /// Once accepted by the checks: what to store and what to answer, made before the lock.
    write: Option<Written>,
}

/// An accepted document's write, made and proven loadable before the lock is taken.
struct Written {
    /// The chunk to store: the whole document, or the changes after the stored heads; empty
    /// when the push brought nothing new.
    chunk: Vec<u8>,
    compact: bool,
    heads: Vec<ChangeHash>,
    /// The changes the device lacks, for the answer.
    answer: Vec<u8>,
}

fn bad_changes(id: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::BadChanges,
        format!("the changes sent for {id} {why}: nothing in this request was stored; sync again"),
    )
}

/// The stored document, or `None` if it does not load (stored by an earlier version: the
/// server now loads back every document before it stores it).
fn load_stored(stored: Option<&StoredDoc>) -> Option<AutoCommit> {
    match stored {
        Some(s) => std::panic::catch_unwind(|| AutoCommit::load(&s.bytes))
            .ok()?
            .ok(),
        None => Some(AutoCommit::new()),
    }
}

fn prepare(
    store: &dyn Storage,
    user: &Actor,
    n: usize,
    push: Push,
    max_bytes: usize,
) -> Result<Prepared, ApiError> {
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
        return Ok(Prepared::Refused(Box::new(Judged {
            refusal: Refusal {
                code: RefusalCode::WrongBranch,
                part: "document".into(),
                reason: format!(
                    "{id} is not yours to read or change: it belongs to another branch or \
                     another inspector"
                ),
            },
            id: push.id,
            retry: None,
            changes,
            heads: Vec::new(),
            answer: String::new(),
        })));
    }
    let stored = store.doc(&push.id)?;
    let grown = stored.as_ref().map_or(0, |s| s.bytes.len()) + changes.len();
    if changes.len() > max_bytes || grown > MAX_DOC_BYTES {
        return Ok(Prepared::Refused(Box::new(Judged {
            refusal: Refusal {
                code: RefusalCode::OutOfRange,
                part: "document".into(),
                reason: if changes.len() > max_bytes {
                    format!(
                        "the changes to {id} are {} KiB, more than the {} KiB the server takes \
                         for one document at a time: shorten the texts of this record",
                        changes.len() / 1024,
                        max_bytes / 1024
                    )
                } else {
                    format!(
                        "{id} would grow to {} MiB, more than the {} MiB the server keeps for \
                         one record: start a new record, or ask an admin",
                        grown / (1024 * 1024),
                        MAX_DOC_BYTES / (1024 * 1024)
                    )
                },
            },
            id: push.id,
            retry: None,
            changes,
            heads: stored.map(|s| heads_to_hex(&s.heads)).unwrap_or_default(),
            answer: String::new(),
        })));
    }
    let Some(before) = load_stored(stored.as_ref()) else {
        tracing::error!(doc = %id, "a stored document does not load: an admin must repair it");
        return Ok(Prepared::Refused(Box::new(Judged {
            refusal: Refusal {
                code: RefusalCode::Malformed,
                part: "document".into(),
                reason: format!(
                    "the server's copy of {id} is damaged: your edit is kept on this phone; ask \
                     an admin to repair the record"
                ),
            },
            id: push.id,
            retry: None,
            changes,
            heads: Vec::new(),
            answer: String::new(),
        })));
    };
    let mut after = before.clone();
    catch_damage(&push.id, || after.load_incremental(&changes))?
        .map_err(|e| bad_changes(&push.id, format_args!("cannot be read ({e})")))?;
    let complete = catch_damage(&push.id, || {
        let known = |h: &ChangeHash| after.document().get_change_by_hash(h).is_some();
        base.iter().all(known) && after.get_missing_deps(&[]).is_empty()
    })?;
    if !complete {
        return Ok(Prepared::MissingBase {
            id: push.id,
            stored,
        });
    }
    let whole = catch_damage(&push.id, || {
        let known = |h: &ChangeHash| after.document().get_change_by_hash(h).is_some();
        have.iter().all(known)
    })?;
    if !whole {
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
        write: None,
    })))
}

/// Documents the validator needs, read once per request.
struct ContextCache {
    clock: MineClock,
    directories: HashMap<String, Option<Directory>>,
    patrols: HashMap<String, Option<Patrol>>,
    locks: HashMap<String, Vec<Lock>>,
}

fn read_stored<D: Document>(store: &dyn Storage, id: &DocId) -> Result<Option<D>, ApiError> {
    let Some(stored) = store.doc(&id.to_string())? else {
        return Ok(None);
    };
    // A stored document that does not load or read as its kind cannot vouch for anything.
    Ok(load_stored(Some(&stored)).and_then(|doc| docs::read::<D, _>(&doc, id).ok()))
}

impl ContextCache {
    fn new(clock: MineClock) -> ContextCache {
        ContextCache {
            clock,
            directories: HashMap::new(),
            patrols: HashMap::new(),
            locks: HashMap::new(),
        }
    }

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
            clock: self.clock,
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
    let text_id = r.text_id.clone();
    let changes = catch_damage(&text_id, || {
        r.after
            .get_changes(&before_heads)
            .into_iter()
            .map(|c| (c.actor_id().clone(), c.hash()))
            .collect::<Vec<_>>()
    })?;
    for (actor, hash) in changes {
        if actor == genesis {
            if !genesis_heads.contains(&hash) {
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

/// The documents whose stored state a pushed document's check depends on: itself, its
/// branch's directory and publication, and for a sheet its patrol.
fn depends_on(id: &DocId) -> Vec<String> {
    let branch = id.branch().to_owned();
    let mut ids = vec![
        id.to_string(),
        DocId::Directory {
            branch: branch.clone(),
        }
        .to_string(),
        DocId::Publication {
            branch: branch.clone(),
        }
        .to_string(),
    ];
    if let DocId::Sheet { patrol, .. } = id {
        ids.push(
            DocId::Patrol {
                branch,
                patrol: patrol.clone(),
            }
            .to_string(),
        );
    }
    ids
}

/// What the first step made of a push: read, applied and checked.
struct Checked {
    prepared: Prepared,
    /// For a ready document: the actors it claims, or why it is refused.
    outcome: Option<Result<Claims, Refusal>>,
}

/// Reads, applies and checks one push against the store as it is now.
fn read_and_check(
    state: &State,
    user: &Actor,
    n: usize,
    push: Push,
    cache: &mut ContextCache,
    now: i64,
) -> Result<Checked, ApiError> {
    let store = &*state.store;
    let mut prepared = prepare(store, user, n, push, state.settings.max_push_doc_bytes)?;
    let outcome = match &mut prepared {
        Prepared::Ready(r) => {
            cache.fill(store, &r.id)?;
            Some(check(store, user, r, &cache.context(&r.id, now))?)
        }
        _ => None,
    };
    Ok(match (prepared, outcome) {
        (Prepared::Ready(r), Some(Err(refusal))) => {
            let mut r = *r;
            let answer = b64::encode(&r.before.save_after(&r.base));
            Checked {
                prepared: Prepared::Refused(Box::new(Judged {
                    heads: heads_to_hex(&r.before.get_heads()),
                    answer,
                    id: r.text_id,
                    retry: Some((r.id, r.base, r.have)),
                    changes: r.changes,
                    refusal,
                })),
                outcome: None,
            }
        }
        (prepared, outcome) => Checked { prepared, outcome },
    })
}

/// Actors, then the shared validation; a panic inside automerge is a damaged change.
fn check(
    store: &dyn Storage,
    user: &Actor,
    r: &mut Ready,
    context: &Context<'_>,
) -> Result<Result<Claims, Refusal>, ApiError> {
    let actors = match check_actors(store, user, r)? {
        Err(refusal) => return Ok(Err(refusal)),
        Ok(actors) => actors,
    };
    let id = r.text_id.clone();
    let validated = catch_damage(&id, || {
        validate_change(
            user,
            &r.id,
            r.before.document(),
            r.after.document(),
            context,
        )
    })?;
    if validated.is_ok() {
        r.write = Some(catch_damage(&id, || written(r))??);
    }
    Ok(validated.map(|()| actors))
}

/// What storing an accepted document writes and answers. Some damaged data loads and passes
/// the checks, yet makes automerge panic when it is saved or loaded again; so the chunk is
/// loaded back on top of the stored document here, and a document the server stores always
/// loads.
fn written(r: &mut Ready) -> Result<Written, ApiError> {
    let before_heads = r.before.get_heads();
    let heads = r.after.get_heads();
    let chunks = r.stored.as_ref().map_or(0, |s| s.chunks);
    let compact = chunks + 1 >= COMPACT_AT || chunks == 0;
    let chunk = if heads == before_heads {
        Vec::new()
    } else if compact {
        r.after.save()
    } else {
        r.after.save_after(&before_heads)
    };
    if !chunk.is_empty() {
        let mut stored = match (&r.stored, compact) {
            (Some(s), false) => s.bytes.clone(),
            _ => Vec::new(),
        };
        stored.extend_from_slice(&chunk);
        let mut reloaded = AutoCommit::load(&stored)
            .map_err(|e| bad_changes(&r.text_id, format_args!("cannot be stored ({e})")))?;
        let sorted = |mut h: Vec<ChangeHash>| {
            h.sort();
            h
        };
        if sorted(reloaded.get_heads()) != sorted(heads.clone()) {
            return Err(bad_changes(&r.text_id, "do not survive being stored"));
        }
    }
    let answer = r.after.save_after(&r.have);
    Ok(Written {
        chunk,
        compact,
        heads,
        answer,
    })
}

/// Runs automerge work on data a client sent. Some damaged inputs make automerge 0.12 panic
/// instead of returning an error; such a panic is answered as the damaged change it is.
fn catch_damage<T>(id: &str, f: impl FnOnce() -> T) -> Result<T, ApiError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::warn!(doc = %id, panic = %what, "damaged changes made automerge panic");
        bad_changes(id, "are damaged")
    })
}

/// Handles one sync request for an authenticated user.
///
/// The expensive work (decoding the changes, applying them to a copy, the checks) is done
/// first without the documents' lock, so that one large push does not stall every other
/// client. The lock is then taken for writing only to commit, in order. When the store moved
/// under a document's check (it, or a document its check reads, was written after the check
/// began, by another request or earlier in this one, as a patrol and its sheet pushed
/// together), what came before it is committed and flushed, the lock is released, and it and
/// the rest are checked again outside it; after [`RECHECK_ROUNDS`] such rounds the check is made
/// under the lock.
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
        if request.push.len() > MAX_PUSHES {
            return Err(ApiError::new(
                ErrorCode::TooLarge,
                format!(
                    "this request pushes {} documents, more than the {MAX_PUSHES} the server \
                     takes at once: send fewer documents at a time",
                    request.push.len()
                ),
            ));
        }
        if let Some(twice) = request.push.iter().find(|p| !ids.insert(p.id.as_str())) {
            return Err(ApiError::bad_request(format!(
                "{} is pushed twice in one request: send each document once",
                twice.id
            )));
        }
        let sent: usize = request.push.iter().map(|p| p.changes.len() / 4 * 3).sum();
        if sent > state.settings.max_push_bytes {
            return Err(ApiError::new(
                ErrorCode::TooLarge,
                format!(
                    "this request carries {} KiB of changes, more than the {} KiB the server \
                     takes at once: send fewer documents at a time",
                    sent / 1024,
                    state.settings.max_push_bytes / 1024
                ),
            ));
        }
        let mut snapshot = store.last_seq()?;
        let now = crate::now_millis();
        let mut cache = ContextCache::new(state.settings.clock);
        let mut pending = std::collections::VecDeque::with_capacity(request.push.len());
        for (n, push) in request.push.into_iter().enumerate() {
            let id = push.id.clone();
            match read_and_check(state, user, n, push, &mut cache, now) {
                Ok(c) => pending.push_back((n, c)),
                Err(e) => {
                    keep_damaged(state, user, &id, &e, now);
                    return Err(e);
                }
            }
        }

        let mut dirty = std::collections::BTreeSet::new();
        let mut kept = 0;
        // Documents this request wrote since `snapshot`.
        let mut written_since: std::collections::HashSet<String> = Default::default();
        let mut round = 0;
        loop {
            let write = state.docs.write().unwrap_or_else(|e| e.into_inner());
            let stale = written_after(store, snapshot)?;
            let last_round = round >= RECHECK_ROUNDS;
            // Whatever happens below, what was written is flushed before the lock is
            // released, so that no other request can serve a write that a crash could still
            // take back.
            let done = (|| -> Result<(), ApiError> {
                while let Some((n, c)) = pending.pop_front() {
                    let moved = |id: &String| {
                        stale.as_ref().is_none_or(|s| s.contains(id)) || written_since.contains(id)
                    };
                    if checked_on(&c).is_some_and(|id| depends_on(id).iter().any(moved)) {
                        if !last_round {
                            // The store moved under this check: check it again, and what comes
                            // after it, outside the lock.
                            pending.push_front((n, c));
                            return Ok(());
                        }
                        // Busy as it is, the store keeps moving: check it here.
                        let push = push_of(c)?;
                        let mut cache = ContextCache::new(state.settings.clock);
                        let c = read_and_check(state, user, n, push, &mut cache, now)?;
                        let ack =
                            commit(state, user, c, now, &mut pushed_now, &mut dirty, &mut kept)?;
                        if pushed_now.contains_key(&ack.id) {
                            written_since.insert(ack.id.clone());
                        }
                        acks.push(ack);
                        continue;
                    }
                    let c = match c.prepared {
                        Prepared::MissingBase { id, .. } if moved(&id) => Checked {
                            prepared: Prepared::MissingBase {
                                stored: store.doc(&id)?,
                                id,
                            },
                            outcome: None,
                        },
                        Prepared::Ready(mut r) => {
                            // Actors may have been claimed meanwhile by someone else.
                            let outcome = match c.outcome {
                                Some(Ok(_)) => Some(check_actors(store, user, &mut r)?),
                                other => other,
                            };
                            Checked {
                                prepared: Prepared::Ready(r),
                                outcome,
                            }
                        }
                        prepared => Checked {
                            prepared,
                            outcome: c.outcome,
                        },
                    };
                    let ack = commit(state, user, c, now, &mut pushed_now, &mut dirty, &mut kept)?;
                    if pushed_now.contains_key(&ack.id) {
                        written_since.insert(ack.id.clone());
                    }
                    acks.push(ack);
                }
                Ok(())
            })();
            // The reports the push changed go out with this same response.
            crate::reports::write_dirty(state, std::mem::take(&mut dirty), now);
            store.flush()?;
            done?;
            if pending.is_empty() {
                break;
            }
            snapshot = store.last_seq()?;
            drop(write);
            written_since.clear();
            round += 1;
            let mut cache = ContextCache::new(state.settings.clock);
            let mut again = std::collections::VecDeque::with_capacity(pending.len());
            for (n, c) in pending {
                let c = match checked_on(&c) {
                    Some(_) => read_and_check(state, user, n, push_of(c)?, &mut cache, now)?,
                    None => c,
                };
                again.push_back((n, c));
            }
            pending = again;
        }
        if kept > REFUSED_KEPT_PER_REQUEST {
            tracing::info!(user = %user.user, refused = kept, "refused pushes beyond the first were not kept");
        }
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
    let unreadable = state.unreadable.read().unwrap_or_else(|e| e.into_inner());
    let (docs, cursor, more) = pull(store, user, since, budget, &pushed_now, &unreadable)?;
    drop(unreadable);
    Ok(SyncResponse {
        cursor,
        more,
        acks,
        docs,
        time_zone: Some(state.settings.clock.tz.name().to_owned()),
    })
}

/// Times the documents of one request are checked again outside the lock when the store moved
/// under them, before the last check is made under it.
const RECHECK_ROUNDS: usize = 3;

/// The documents written after `seq`; `None` when so many were that everything counts as moved.
fn written_after(
    store: &dyn Storage,
    seq: u64,
) -> Result<Option<std::collections::HashSet<String>>, ApiError> {
    let mut set = std::collections::HashSet::new();
    let mut after = seq;
    loop {
        let batch = store.changed_after(after, 4096)?;
        let Some(last) = batch.last() else {
            return Ok(Some(set));
        };
        after = last.0;
        if set.len() > 100_000 {
            return Ok(None);
        }
        set.extend(batch.into_iter().map(|(_, id)| id));
    }
}

/// The document a push was checked as, if its check read the store.
fn checked_on(c: &Checked) -> Option<&DocId> {
    match &c.prepared {
        Prepared::Ready(r) => Some(&r.id),
        Prepared::Refused(j) => j.retry.as_ref().map(|(id, ..)| id),
        Prepared::MissingBase { .. } => None,
    }
}

/// The push a checked document came from, to check it again.
fn push_of(c: Checked) -> Result<Push, ApiError> {
    match c.prepared {
        Prepared::Ready(r) => Ok(Push {
            id: r.text_id,
            base: heads_to_hex(&r.base),
            have: heads_to_hex(&r.have),
            changes: b64::encode(&r.changes),
        }),
        Prepared::Refused(j) => match j.retry {
            Some((_, base, have)) => Ok(Push {
                id: j.id,
                base: heads_to_hex(&base),
                have: heads_to_hex(&have),
                changes: b64::encode(&j.changes),
            }),
            None => Err(ApiError::internal(&"a refusal without its push")),
        },
        Prepared::MissingBase { .. } => Err(ApiError::internal(&"no push to check again")),
    }
}

/// Stores one checked document (or keeps its refusal) and says so; called under the lock.
fn commit(
    state: &State,
    user: &Actor,
    checked: Checked,
    now: i64,
    pushed_now: &mut HashMap<String, u64>,
    dirty: &mut std::collections::BTreeSet<consolidate::ReportKey>,
    kept: &mut usize,
) -> Result<Ack, ApiError> {
    let mut keep = |id: &str, refusal: &Refusal, changes: &[u8]| {
        *kept += 1;
        if *kept <= REFUSED_KEPT_PER_REQUEST {
            keep_refused(state, user, id, refusal, changes, now)
        } else {
            Ok(())
        }
    };
    let store = &*state.store;
    Ok(match checked.prepared {
        Prepared::Refused(j) => {
            let j = *j;
            if j.retry.is_some() {
                tracing::info!(doc = %j.id, user = %user.user, refusal = %j.refusal, "refused");
            }
            keep(&j.id, &j.refusal, &j.changes)?;
            Ack {
                id: j.id,
                outcome: Outcome::Refused { refusal: j.refusal },
                heads: j.heads,
                changes: j.answer,
            }
        }
        Prepared::MissingBase { id, stored } => Ack {
            id,
            outcome: Outcome::MissingBase,
            heads: stored.map(|s| heads_to_hex(&s.heads)).unwrap_or_default(),
            changes: String::new(),
        },
        Prepared::Ready(r) => match checked.outcome {
            Some(Ok(actors)) => {
                let r = *r;
                let Some(write) = r.write else {
                    return Err(ApiError::internal(&"an accepted push without its write"));
                };
                if !write.chunk.is_empty() {
                    let seq = store.write_doc(&DocWrite {
                        id: r.text_id.clone(),
                        chunk: write.chunk,
                        compact: write.compact,
                        heads: write.heads.clone(),
                        actors,
                    })?;
                    pushed_now.insert(r.text_id.clone(), seq);
                    dirty.extend(crate::reports::take_in(state, &r.id, &r.after));
                }
                Ack {
                    id: r.text_id,
                    outcome: Outcome::Accepted,
                    changes: b64::encode(&write.answer),
                    heads: heads_to_hex(&write.heads),
                }
            }
            outcome => {
                let r = *r;
                let refusal = match outcome {
                    Some(Err(refusal)) => refusal,
                    _ => Refusal {
                        code: RefusalCode::Malformed,
                        part: "document".into(),
                        reason: "the server could not check this change: sync again".into(),
                    },
                };
                tracing::info!(doc = %r.id, user = %user.user, %refusal, "refused");
                keep(&r.text_id, &refusal, &r.changes)?;
                let mut before = r.before;
                Ack {
                    id: r.text_id,
                    outcome: Outcome::Refused { refusal },
                    changes: b64::encode(&before.save_after(&r.base)),
                    heads: heads_to_hex(&before.get_heads()),
                }
            }
        },
    })
}

/// The most bytes one stored document may grow to: past it, its history is no longer a record
/// of real work.
const MAX_DOC_BYTES: usize = 32 * 1024 * 1024;

/// Documents one request may push.
const MAX_PUSHES: usize = 5_000;

/// Refused pushes of one request kept for the record; the rest are counted in the log.
const REFUSED_KEPT_PER_REQUEST: usize = 20;

/// How many bytes of a refused push are kept as a sample, for whoever looks into it.
const REFUSED_SAMPLE_BYTES: usize = 16 * 1024;

fn keep_refused(
    state: &State,
    user: &Actor,
    id: &str,
    refusal: &Refusal,
    changes: &[u8],
    now: i64,
) -> Result<(), ApiError> {
    let sample = &changes[..changes.len().min(REFUSED_SAMPLE_BYTES)];
    // A reason can quote what the client sent; the record keeps its start.
    let refusal = Refusal {
        reason: consolidate::shorten(&refusal.reason, 1000),
        part: consolidate::shorten(&refusal.part, 100),
        code: refusal.code,
    };
    state.store.keep_refused(
        &RefusedRecord {
            id: id.chars().take(200).collect(),
            user: user.user.clone(),
            at: now,
            refusal,
            changes: b64::encode(sample),
            bytes: changes.len() as u64,
            sha256: hex::encode(Sha256::digest(changes)),
        },
        state.settings.refused_per_user,
    )?;
    Ok(())
}

/// A damaged push refuses its whole request; it is kept for the record like a refused one.
fn keep_damaged(state: &State, user: &Actor, id: &str, error: &ApiError, now: i64) {
    if error.body.error != ErrorCode::BadChanges {
        return;
    }
    let refusal = Refusal {
        code: RefusalCode::Malformed,
        part: "document".into(),
        reason: error.body.message.clone(),
    };
    if let Err(e) = keep_refused(state, user, id, &refusal, &[], now) {
        tracing::warn!(error = ?e.body, "could not keep a damaged push for the record");
    }
}

/// The documents the user may read that changed after `since`, within a byte budget; at
/// least one document is sent, however large.
fn pull(
    store: &dyn Storage,
    user: &Actor,
    since: u64,
    budget: u64,
    pushed_now: &HashMap<String, u64>,
    unreadable: &std::collections::HashSet<String>,
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
            if !may_read(user, &id)
                || pushed_now.get(&text_id) == Some(&seq)
                || unreadable.contains(&text_id)
            {
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

/// The first step of a push as the sync route takes it (decode, apply to a copy, check actors
/// and validation, make the write), with nothing stored: what the fuzz target in `fuzz/` runs.
/// `Ok(true)` if the push would be accepted, `Ok(false)` if refused or lacking its base; an
/// error is the request's answer (400 for damaged data).
#[doc(hidden)]
pub fn check_push(
    store: &dyn Storage,
    clock: MineClock,
    user: &Actor,
    push: Push,
    max_bytes: usize,
) -> Result<bool, ApiError> {
    let mut cache = ContextCache::new(clock);
    let mut prepared = prepare(store, user, 0, push, max_bytes)?;
    match &mut prepared {
        Prepared::Ready(r) => {
            cache.fill(store, &r.id)?;
            let context = cache.context(&r.id, crate::now_millis());
            Ok(check(store, user, r, &context)?.is_ok())
        }
        _ => Ok(false),
    }
}
