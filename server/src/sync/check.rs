//! Checking a prepared push: its signatures, its actors, then the shared validation, with the
//! documents the validation reads (and the device keys the signatures name) fetched once per
//! request.

use std::collections::{BTreeMap, HashMap, HashSet};

use automerge::ReadDoc;
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::{self, DocId, Document, genesis_actor};
use zonepatrol_shared::protocol::{Push, Visits, b64, heads_to_hex};
use zonepatrol_shared::rules::period::MineClock;
use zonepatrol_shared::signing::short;
use zonepatrol_shared::validate::{
    Context, Gathered, Refusal, RefusalCode, Source, needs, validate_change,
};

use super::prepare::{
    Judged, NewChange, Prepared, Ready, Written, bad_changes, catch_damage, load_stored, prepare,
};
use crate::State;
use crate::error::ApiError;
use crate::store::writer::{Chunk, Claims};
use crate::store::{ActorOwner, DeviceRecord, Storage};

/// Documents the validator needs (which ones is the validator's to say:
/// [`zonepatrol_shared::validate::needs`]), read from the store once per request.
pub(super) struct ContextCache {
    clock: MineClock,
    gathered: Gathered,
    /// Device keys read so far (hex; `None`: not registered).
    devices: HashMap<String, Option<DeviceRecord>>,
    /// The server's own public key, once read.
    server_key: Option<String>,
    /// Whether signatures are checked (see `Settings::verify_signatures`).
    verify: bool,
    /// Whether the server's own key may sign: only for a push the server makes itself.
    server_signs: bool,
}

/// The store as the validator's source of documents.
struct StoreSource<'a>(&'a dyn Storage);

impl Source for StoreSource<'_> {
    type Error = ApiError;

    fn read<D: Document>(&mut self, id: &DocId) -> Result<Option<D>, ApiError> {
        let Some(stored) = self.0.doc(id)? else {
            return Ok(None);
        };
        // A stored document that does not load or read as its kind cannot vouch for anything.
        Ok(load_stored(Some(&stored)).and_then(|doc| docs::read::<D, _>(&doc, id).ok()))
    }
}

impl ContextCache {
    pub(super) fn new(clock: MineClock) -> ContextCache {
        ContextCache {
            clock,
            gathered: Gathered::new(),
            devices: HashMap::new(),
            server_key: None,
            verify: true,
            server_signs: false,
        }
    }

    /// As [`ContextCache::new`], checking signatures as the settings say; `by_server`: the
    /// push is the server's own (a console edit), which its key may sign.
    pub(super) fn for_state(state: &State, by_server: bool) -> ContextCache {
        let mut cache = ContextCache::new(state.settings.clock);
        cache.verify = state.settings.verify_signatures;
        cache.server_signs = by_server;
        cache
    }

    fn device(
        &mut self,
        store: &dyn Storage,
        key: &str,
    ) -> Result<Option<&DeviceRecord>, ApiError> {
        if !self.devices.contains_key(key) {
            let record = store.device(key)?;
            self.devices.insert(key.to_owned(), record);
        }
        Ok(self.devices.get(key).and_then(Option::as_ref))
    }

    fn server_key(&mut self, store: &dyn Storage) -> Result<&str, ApiError> {
        if self.server_key.is_none() {
            let key = crate::store::writer::server_key(store)?;
            self.server_key = Some(key.id().to_string());
        }
        Ok(self.server_key.as_deref().unwrap_or_default())
    }

    pub(super) fn fill(&mut self, store: &dyn Storage, id: &DocId) -> Result<(), ApiError> {
        self.gathered.gather(id, &mut StoreSource(store))
    }

    pub(super) fn context(&self, id: &DocId, now: i64) -> Context<'_> {
        self.gathered.context(id, Some(now), self.clock)
    }
}

/// Automerge actors in the new changes (`r.new`, from [`check_signatures`]): the genesis actor
/// only for the genesis change, and any other actor belongs to one user, the first who wrote
/// with it, on the device whose key signed its first change.
pub(super) fn check_actors(
    store: &dyn Storage,
    user: &Actor,
    r: &mut Ready,
) -> Result<Result<Claims, Refusal>, ApiError> {
    let genesis = genesis_actor(&r.id).to_bytes().to_vec();
    let server = docs::server_actor().to_bytes().to_vec();
    let genesis_heads = docs::genesis_heads(&r.id).map_err(|e| ApiError::internal(&e))?;
    let mut claimed: BTreeMap<Vec<u8>, ActorOwner> = BTreeMap::new();
    for NewChange { actor, hash, key } in &r.new {
        let (actor, hash) = (actor.clone(), *hash);
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
        if actor == server {
            return Ok(Err(Refusal {
                code: RefusalCode::NotWriter,
                part: "document".into(),
                reason: "a change is signed with the server's own actor: only the server \
                         writes with it; update the app"
                    .into(),
            }));
        }
        let bytes = actor;
        if claimed.contains_key(&bytes) {
            continue;
        }
        match store.actor_owner(&bytes)? {
            Some(ActorOwner { user: owner, .. }) if owner != user.user => {
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
                claimed.insert(
                    bytes,
                    ActorOwner {
                        user: user.user.clone(),
                        device: key.clone(),
                    },
                );
            }
        }
    }
    Ok(Ok(claimed.into_iter().collect()))
}

/// A refusal of a push's signatures.
fn unsigned(reason: String) -> Refusal {
    Refusal {
        code: RefusalCode::NotWriter,
        part: "signature".into(),
        reason,
    }
}

/// Every change the store lacks must be covered by a signature that holds, made by a key
/// registered to the change's author and not revoked (or by the server's own key, for the
/// person it wrote for, only when the server itself makes the push). The sender is the author:
/// a signature for someone else is refused. A signature may name only changes of this push,
/// each once, so that what is logged stays the size of the document. The cheap checks come
/// before the signature's. On success the changes are kept in `r.new`, each with the key that
/// signed it, and `r.signed` keeps only the signatures that covered some of them.
pub(super) fn check_signatures(
    store: &dyn Storage,
    user: &Actor,
    r: &mut Ready,
    cache: &mut ContextCache,
) -> Result<Result<(), Refusal>, ApiError> {
    let before_heads = r.before.get_heads();
    let text_id = r.text_id.clone();
    let changes = catch_damage(&text_id, || {
        r.after
            .get_changes(&before_heads)
            .into_iter()
            .map(|c| (c.actor_id().to_bytes().to_vec(), c.hash()))
            .collect::<Vec<_>>()
    })?;
    if changes.is_empty() || !cache.verify {
        r.new = changes
            .into_iter()
            .map(|(actor, hash)| NewChange {
                actor,
                hash,
                key: String::new(),
            })
            .collect();
        return Ok(Ok(()));
    }
    let fresh: HashSet<automerge::ChangeHash> = changes.iter().map(|(_, h)| *h).collect();
    let mut signer: HashMap<automerge::ChangeHash, String> = HashMap::new();
    let mut used = vec![false; r.signed.len()];
    for (n, batch) in r.signed.iter().enumerate() {
        if batch.user != user.user {
            return Ok(Err(unsigned(format!(
                "these changes are signed for {}, but {} sent them: sign in as {} to send them",
                batch.user, user.user, batch.user
            ))));
        }
        let key = match batch.key_id() {
            Ok(key) => key.to_string(),
            Err(e) => return Ok(Err(unsigned(format!("{e}: update the app")))),
        };
        if key == cache.server_key(store)? {
            if !cache.server_signs {
                return Ok(Err(unsigned(
                    "these changes are signed with the server's own key: only the server \
                     signs so; update the app"
                        .into(),
                )));
            }
        } else if let Some(refusal) = device_refusal(cache.device(store, &key)?, &batch.user, &key)
        {
            return Ok(Err(refusal));
        }
        let hashes = match batch.change_hashes() {
            Ok(hashes) => hashes,
            Err(e) => return Ok(Err(unsigned(format!("{e}: update the app")))),
        };
        let mut seen = HashSet::with_capacity(hashes.len());
        let foreign = catch_damage(&text_id, || {
            hashes
                .iter()
                .any(|h| !seen.insert(*h) || r.after.document().get_change_by_hash(h).is_none())
        })?;
        if foreign {
            return Ok(Err(unsigned(
                "a signature names changes that are not in this push, or one twice: update \
                 the app and sync again"
                    .into(),
            )));
        }
        if let Err(e) = batch.verify(&text_id) {
            return Ok(Err(unsigned(format!(
                "{e}; these changes are kept on the record and not merged: if this phone \
                 sent them, sign in again and sync"
            ))));
        }
        // Only a change the store lacks makes a signature worth logging.
        for hash in hashes.into_iter().filter(|h| fresh.contains(h)) {
            signer.entry(hash).or_insert_with(|| {
                used[n] = true;
                key.clone()
            });
        }
    }
    let mut new = Vec::with_capacity(changes.len());
    for (actor, hash) in changes {
        let Some(key) = signer.get(&hash) else {
            return Ok(Err(unsigned(format!(
                "change {} is not signed: every change must be signed by the phone that made \
                 it; update the app and sync again",
                &hash.to_string()[..12]
            ))));
        };
        new.push(NewChange {
            actor,
            hash,
            key: key.clone(),
        });
    }
    r.new = new;
    // Only what vouches for a change the store takes goes into the log.
    let mut n = 0;
    r.signed.retain(|_| {
        n += 1;
        used[n - 1]
    });
    Ok(Ok(()))
}

/// Why a device's key may not sign for `user` now, if it may not.
fn device_refusal(device: Option<&DeviceRecord>, user: &str, key: &str) -> Option<Refusal> {
    match device {
        None => Some(unsigned(format!(
            "the phone that signed these changes is not registered: sign in on it again while \
             online, then sync (key {})",
            short(key)
        ))),
        Some(d) if d.revoked_at.is_some() => {
            let when = d.revoked_at.unwrap_or_default();
            Some(unsigned(format!(
                "the phone that signed these changes was revoked{} at {}: its changes are no \
                 longer taken; they are kept on the record (key {})",
                if d.revoked_by.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", d.revoked_by)
                },
                chrono::DateTime::from_timestamp_millis(when)
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default(),
                short(key)
            )))
        }
        Some(d) if !d.signs_for(user) => Some(unsigned(format!(
            "the phone that signed these changes is not registered for {user}: sign in on it \
             as {user} while online, then sync (key {})",
            short(key)
        ))),
        Some(_) => None,
    }
}

/// Under the write lock, just before a checked push is stored: the keys that signed its new
/// changes still sign for the sender (a revocation may have come after the check). Each key
/// is read once per round (`cache`'s device records are from before the lock: `fresh` holds
/// this round's).
pub(super) fn still_signed(
    store: &dyn Storage,
    user: &Actor,
    r: &Ready,
    cache: &mut ContextCache,
    fresh: &mut HashMap<String, Option<DeviceRecord>>,
) -> Result<Result<(), Refusal>, ApiError> {
    for c in &r.new {
        if c.key.is_empty() || c.key == cache.server_key(store)? {
            continue;
        }
        if !fresh.contains_key(&c.key) {
            let record = store.device(&c.key)?;
            fresh.insert(c.key.clone(), record);
        }
        let device = fresh.get(&c.key).and_then(Option::as_ref);
        if let Some(refusal) = device_refusal(device, &user.user, &c.key) {
            return Ok(Err(refusal));
        }
    }
    Ok(Ok(()))
}

/// The documents whose stored state a pushed document's check depends on: itself and what
/// its validation needs.
pub(super) fn depends_on(id: &DocId) -> Vec<DocId> {
    std::iter::once(id.clone())
        .chain(needs(id).ids().cloned())
        .collect()
}

/// What the first step made of a push: read, applied and checked.
pub(super) struct Checked {
    pub(super) prepared: Prepared,
    /// For a ready document: the actors it claims, or why it is refused.
    pub(super) outcome: Option<Result<Claims, Refusal>>,
}

/// Reads, applies and checks one push against the store as it is now.
pub(super) fn read_and_check(
    state: &State,
    user: &Actor,
    visits: &Visits,
    n: usize,
    push: Push,
    cache: &mut ContextCache,
    now: i64,
) -> Result<Checked, ApiError> {
    let store = &*state.store;
    let mut prepared = prepare(
        store,
        user,
        visits,
        n,
        push,
        state.settings.max_push_doc_bytes,
    )?;
    let outcome = match &mut prepared {
        Prepared::Ready(r) => {
            cache.fill(store, &r.id)?;
            Some(check(store, user, r, cache, now)?)
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
                    signed: r.signed,
                    refusal,
                })),
                outcome: None,
            }
        }
        (prepared, outcome) => Checked { prepared, outcome },
    })
}

/// Signatures, actors, then the shared validation; a panic inside automerge is a damaged
/// change.
fn check(
    store: &dyn Storage,
    user: &Actor,
    r: &mut Ready,
    cache: &mut ContextCache,
    now: i64,
) -> Result<Result<Claims, Refusal>, ApiError> {
    if let Err(refusal) = check_signatures(store, user, r, cache)? {
        return Ok(Err(refusal));
    }
    let context = &cache.context(&r.id, now);
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

/// What storing an accepted document writes and answers, proven to load back on top of the
/// stored document before the lock is taken.
fn written(r: &mut Ready) -> Result<Written, ApiError> {
    let chunks = r.stored.as_ref().map_or(0, |s| s.chunks);
    let chunk = Chunk::between(&mut r.after, &r.before.get_heads(), chunks);
    chunk
        .check_loads_over(r.stored.as_ref())
        .map_err(|e| bad_changes(&r.text_id, format_args!("cannot be stored ({e})")))?;
    let answer = r.after.save_after(&r.have);
    Ok(Written { chunk, answer })
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
    let mut prepared = prepare(store, user, &Visits::default(), 0, push, max_bytes)?;
    match &mut prepared {
        Prepared::Ready(r) => {
            cache.fill(store, &r.id)?;
            Ok(check(store, user, r, &mut cache, crate::now_millis())?.is_ok())
        }
        _ => Ok(false),
    }
}
