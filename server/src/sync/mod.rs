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

mod carried;
mod check;
mod commit;
mod prepare;
mod pull;

use std::collections::{HashSet, VecDeque};

use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{ErrorCode, Push, SyncRequest, SyncResponse, b64, heads_to_hex};

use self::check::{Checked, ContextCache, check_actors, depends_on, read_and_check, still_signed};
use self::commit::{Progress, REFUSED_KEPT_PER_REQUEST, commit, keep_damaged};
use self::prepare::Prepared;
use self::pull::pull;
use crate::State;
use crate::error::ApiError;
use crate::store::Storage;

pub use self::check::check_push;

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
///
/// `key`: the device key the sign-in is bound to (it names the phone's people, whose work
/// handed on may be asked about). `by_server`: the server makes this push itself, for `user`
/// (a console edit): its own key may sign it. Never for a request from outside.
pub(crate) fn sync(
    state: &State,
    user: &Actor,
    device: &str,
    key: Option<&str>,
    request: SyncRequest,
    by_server: bool,
) -> Result<SyncResponse, ApiError> {
    let store = &*state.store;
    let mut progress = Progress::default();
    // Work carried for others first: a document of this request's own may build on it.
    let (carried, carried_wrote, refused) = carried::take(state, user, device, request.carried)?;
    // One bound on the refusals a request keeps, carried or not.
    progress.refused = refused;
    if !request.push.is_empty() {
        push_all(state, user, device, request.push, by_server, &mut progress)?;
    }
    // What this request wrote is in the log: the server signs where the log stands.
    let checkpoint = if progress.pushed.is_empty() && !carried_wrote {
        None
    } else {
        checkpoint(store)?
    };

    let read = state.docs.read().unwrap_or_else(|e| e.into_inner());
    // What other instances sharing the store wrote: who may read what depends on it. The
    // pull goes only as far as the results have taken in, read now, before the visits.
    crate::reports::catch_up(state, false)?;
    let upto = if store.shared() {
        state
            .results
            .seen
            .load(std::sync::atomic::Ordering::Acquire)
    } else {
        u64::MAX
    };
    let budget = request
        .max_bytes
        .unwrap_or(state.settings.max_response_bytes)
        .clamp(1, state.settings.max_response_bytes);
    // A cursor from beyond what this store has given out, or from the numbers only the lost
    // server gave out after the backup this store was restored from: start that device over,
    // so that it misses nothing and sends back what the backup lacks.
    let lost = store.restored_at()?.is_some_and(|b| {
        request.cursor > b && request.cursor <= b.saturating_add(crate::store::RESTORE_SEQ_GAP)
    });
    let since = if lost || request.cursor > store.last_seq()? {
        0
    } else {
        request.cursor
    };
    // A copy (as good as empty but on a damaged store): a writer marking a document
    // unreadable does not wait for the pull.
    let unreadable = state
        .results
        .unreadable
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    // Worked out again after the push: a patrol it stored may have made the user a visitor.
    let visits = crate::reports::visits(state, user, crate::now_millis());
    // On a database shared by several instances, what is committed is durable and the pull
    // stops at what the results have taken in (`upto`), whoever writes meanwhile: this
    // process's writers need not wait for the pull (holding the database's write lock all
    // the while, which would stall every instance's pushes behind this one's pulls). On the
    // embedded store the lock keeps out writes not yet flushed.
    if store.shared() {
        drop(read);
    }
    let pulled = pull(
        store,
        user,
        &visits,
        since,
        upto,
        budget,
        &progress.pushed,
        &unreadable,
        &request.whole,
    )?;
    // Found damaged since the start: left out and no longer sent, and its kept facts dropped,
    // so that the next start reads it (and finds it damaged) rather than trusting them. With
    // this process's writers kept out again meanwhile (on a database the pull ran without).
    let _again = (store.shared() && !pulled.damaged.is_empty())
        .then(|| state.docs.read().unwrap_or_else(|e| e.into_inner()));
    for (id, reason) in pulled.damaged {
        if let Ok(doc_id) = id.parse::<DocId>()
            && let Err(e) = store.put_facts(&doc_id, None)
        {
            tracing::warn!(doc = %id, error = %e, "could not drop a damaged document's facts");
        }
        crate::reports::unreadable(state, &id, reason);
    }
    let (docs, cursor, more) = (pulled.docs, pulled.cursor, pulled.more);
    let handed = carried::outcomes(state, key, &request.handed)?;
    let devices = match &request.devices {
        Some(held) => carried::device_list(state, user, held)?,
        None => None,
    };
    Ok(SyncResponse {
        cursor,
        more,
        acks: progress.acks,
        docs,
        time_zone: Some(state.settings.clock.tz.name().to_owned()),
        checkpoint,
        carried,
        handed,
        devices,
    })
}

/// Checks and stores the pushes of one request as `user`'s (see [`sync`]), adding to
/// `progress`.
fn push_all(
    state: &State,
    user: &Actor,
    device: &str,
    pushes: Vec<Push>,
    by_server: bool,
    progress: &mut Progress,
) -> Result<(), ApiError> {
    let store = &*state.store;
    let mut ids = HashSet::new();
    if pushes.len() > MAX_PUSHES {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!(
                "this request pushes {} documents, more than the {MAX_PUSHES} the server \
                 takes at once: send fewer documents at a time",
                pushes.len()
            ),
        ));
    }
    if let Some(twice) = pushes.iter().find(|p| !ids.insert(p.id.as_str())) {
        return Err(ApiError::bad_request(format!(
            "{} is pushed twice in one request: send each document once",
            twice.id
        )));
    }
    let sent: usize = pushes.iter().map(|p| p.changes.len() / 4 * 3).sum();
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
    let visits = crate::reports::visits(state, user, now);
    let mut cache = ContextCache::for_state(state, by_server);
    let mut pending = VecDeque::with_capacity(pushes.len());
    for (n, push) in pushes.into_iter().enumerate() {
        let id = push.id.clone();
        match read_and_check(state, user, &visits, n, push, &mut cache, now) {
            Ok(c) => pending.push_back((n, c)),
            Err(e) => {
                // Damaged pushes count against the request's bound on refusals kept.
                progress.refused += 1;
                if progress.refused <= REFUSED_KEPT_PER_REQUEST {
                    keep_damaged(state, user, &id, &e, now, progress.carried.as_ref());
                }
                return Err(e);
            }
        }
    }

    let mut round = 0;
    loop {
        let write = state.writing()?;
        let stale = written_after(store, snapshot)?;
        // Device keys as they stand now, under the lock: read once a round.
        let mut devices = std::collections::HashMap::new();
        let last_round = round >= RECHECK_ROUNDS;
        // Whatever happens below, what was written is flushed before the lock is
        // released, so that no other request can serve a write that a crash could still
        // take back.
        let done = (|| -> Result<(), ApiError> {
            while let Some((n, c)) = pending.pop_front() {
                let moved = |id: &DocId| {
                    stale.as_ref().is_none_or(|s| s.contains(id))
                        || progress.written_since.contains(id)
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
                    let mut cache = ContextCache::for_state(state, by_server);
                    let c = read_and_check(state, user, &visits, n, push, &mut cache, now)?;
                    commit(state, user, device, c, now, progress)?;
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
                        // Actors may have been claimed meanwhile by someone else, and a
                        // phone revoked.
                        let outcome = match c.outcome {
                            Some(Ok(_)) => {
                                match still_signed(store, user, &r, &mut cache, &mut devices)? {
                                    Ok(()) => Some(check_actors(store, user, &mut r)?),
                                    Err(refusal) => Some(Err(refusal)),
                                }
                            }
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
                commit(state, user, device, c, now, progress)?;
            }
            Ok(())
        })();
        // The reports the push changed go out with this same response.
        crate::reports::write_dirty(state, std::mem::take(&mut progress.dirty), now);
        store.flush()?;
        done?;
        if pending.is_empty() {
            break;
        }
        snapshot = store.last_seq()?;
        drop(write);
        progress.written_since.clear();
        round += 1;
        let mut cache = ContextCache::for_state(state, by_server);
        let mut again = VecDeque::with_capacity(pending.len());
        for (n, c) in pending {
            let c = match checked_on(&c) {
                Some(_) => read_and_check(state, user, &visits, n, push_of(c)?, &mut cache, now)?,
                None => c,
            };
            again.push_back((n, c));
        }
        pending = again;
    }
    if progress.refused > REFUSED_KEPT_PER_REQUEST {
        tracing::info!(user = %user.user, refused = progress.refused, "refused pushes beyond the first were not kept");
    }
    Ok(())
}

/// Signs and keeps a checkpoint of the log as it stands (none while the log is empty). The
/// chain up to any entry never changes, so no lock is needed: another request's later entries
/// get a checkpoint of their own.
pub(crate) fn checkpoint(
    store: &dyn Storage,
) -> Result<Option<zonepatrol_shared::signing::Checkpoint>, ApiError> {
    let Some((seq, link)) = store.log_head()? else {
        return Ok(None);
    };
    let key = crate::store::writer::server_key(store)?;
    let checkpoint =
        zonepatrol_shared::signing::Checkpoint::sign(&key, seq, &link, crate::now_millis());
    store.put_checkpoint(&checkpoint)?;
    Ok(Some(checkpoint))
}

/// Times the documents of one request are checked again outside the lock when the store moved
/// under them, before the last check is made under it.
const RECHECK_ROUNDS: usize = 3;

/// The documents written after `seq`; `None` when so many were that everything counts as moved.
fn written_after(store: &dyn Storage, seq: u64) -> Result<Option<HashSet<DocId>>, ApiError> {
    let mut set = HashSet::new();
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
            signed: r.signed,
        }),
        Prepared::Refused(j) => match j.retry {
            Some((_, base, have)) => Ok(Push {
                id: j.id,
                base: heads_to_hex(&base),
                have: heads_to_hex(&have),
                changes: b64::encode(&j.changes),
                signed: j.signed,
            }),
            None => Err(ApiError::internal(&"a refusal without its push")),
        },
        Prepared::MissingBase { .. } => Err(ApiError::internal(&"no push to check again")),
    }
}

/// Documents one request may push.
const MAX_PUSHES: usize = 5_000;
