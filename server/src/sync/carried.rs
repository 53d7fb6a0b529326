//! Work a phone carries for other people's phones (`SyncRequest.carried`), what became of work
//! a phone handed on (`handed`), and the branch's signed device list (`devices`).
//!
//! A carried push is checked exactly as if its author's phone had sent it: the author is the
//! person its signatures name, their key must be registered to them and not revoked, and the
//! validation runs with their roles. The carrier adds nothing and is answered nothing of the
//! document's content. A refusal is kept on the author's record, marked with who carried it and
//! the author's signature, so that the author's phone learns it at its next sync.

use std::collections::HashMap;

use automerge::ReadDoc;

use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::DocId;
use zonepatrol_shared::protocol::{ErrorCode, Outcome, Push};
use zonepatrol_shared::relay::{
    Carried, CarriedAck, DeviceList, HandOutcome, Handed, HandedOutcome, ListedDevice, MAX_CARRIED,
    MAX_HANDED, SignedDeviceList,
};
use zonepatrol_shared::validate::{Refusal, RefusalCode};

use super::commit::{Progress, keep_refused};
use super::push_all;
use crate::State;
use crate::error::ApiError;
use crate::store::CarriedBy;

/// A refusal of a carried item itself (not of its changes).
fn refused(reason: impl Into<String>) -> Refusal {
    Refusal {
        code: RefusalCode::NotWriter,
        part: "carried".into(),
        reason: reason.into(),
    }
}

/// Checks and stores the items a carrier brings, each alone; returns an answer per item and
/// whether any was written.
pub(super) fn take(
    state: &State,
    carrier: &Actor,
    device: &str,
    items: Vec<Carried>,
) -> Result<(Vec<CarriedAck>, bool), ApiError> {
    if items.is_empty() {
        return Ok((Vec::new(), false));
    }
    if items.len() > MAX_CARRIED {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!(
                "this request carries {} items for others, more than the {MAX_CARRIED} the \
                 server takes at once: send the rest at the next sync",
                items.len()
            ),
        ));
    }
    let now = crate::now_millis();
    let mut acks = Vec::with_capacity(items.len());
    let mut wrote = false;
    for item in items {
        let id = item.item_id();
        let doc = item.doc().chars().take(200).collect::<String>();
        let sig = first_sig(&item);
        let by = CarriedBy {
            carrier: carrier.user.clone(),
            sig: sig.clone(),
        };
        let outcome = match take_one(state, carrier, device, item, &by) {
            Ok((outcome, w)) => {
                wrote |= w;
                outcome
            }
            Err(Refused::Item(refusal)) => {
                // On the carrier's record: nothing says whose it really is.
                tracing::info!(carrier = %carrier.user, %doc, %refusal, "carried item refused");
                let record = keep_refused(state, carrier, &doc, &refusal, &[], now, Some(&by));
                if let Err(e) = record {
                    tracing::warn!(error = ?e.body, "could not keep a refused carried item");
                }
                HandOutcome::Refused {
                    refusal,
                    carrier: carrier.user.clone(),
                }
            }
            Err(Refused::Api(e)) if e.status.is_client_error() => HandOutcome::Refused {
                refusal: Refusal {
                    code: RefusalCode::Malformed,
                    part: "carried".into(),
                    reason: e.body.message,
                },
                carrier: carrier.user.clone(),
            },
            Err(Refused::Api(e)) => return Err(e),
        };
        acks.push(CarriedAck { item: id, outcome });
    }
    Ok((acks, wrote))
}

enum Refused {
    /// The item is refused before its changes are looked at.
    Item(Refusal),
    /// Its push could not be taken at all.
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Refused {
        Refused::Api(e)
    }
}

/// The author's first signature, which names the item for the author's phone.
fn first_sig(item: &Carried) -> String {
    match item {
        Carried::Open { push } => push.signed.first().map(|s| s.sig.clone()),
        Carried::Sealed { .. } => None,
    }
    .unwrap_or_default()
}

fn take_one(
    state: &State,
    carrier: &Actor,
    device: &str,
    item: Carried,
    by: &CarriedBy,
) -> Result<(HandOutcome, bool), Refused> {
    let store = &*state.store;
    let push: Push = match item {
        Carried::Open { push } => push,
        Carried::Sealed {
            doc,
            user,
            envelope,
        } => {
            let key = crate::store::writer::server_key(store).map_err(ApiError::from)?;
            let push = zonepatrol_shared::relay::open(&key, &envelope)
                .map_err(|e| Refused::Item(refused(e.to_string())))?;
            if push.id != doc || push.signed.first().is_none_or(|s| s.user != user) {
                return Err(Refused::Item(refused(
                    "an envelope holds another document or author than it says: it was \
                     altered on the way",
                )));
            }
            push
        }
    };
    let by = CarriedBy {
        carrier: by.carrier.clone(),
        sig: push
            .signed
            .first()
            .map(|s| s.sig.clone())
            .unwrap_or_default(),
    };
    let Some(author) = push.signed.first().map(|s| s.user.clone()) else {
        return Err(Refused::Item(refused(
            "carried changes without their author's signature: only signed work can be \
             carried",
        )));
    };
    if push.signed.iter().any(|s| s.user != author) {
        return Err(Refused::Item(refused(
            "carried changes signed for several people: each person's work travels alone",
        )));
    }
    let account = match store.user(&author).map_err(ApiError::from)? {
        Some(account) if !account.disabled => account,
        _ => {
            return Err(Refused::Item(refused(format!(
                "carried changes name {author}, who has no account here that may write: they \
                 were not made on this mine's phones"
            ))));
        }
    };
    let actor = account.actor();
    let label = format!("{device} · carried by {}", carrier.user);
    let mut progress = Progress {
        carried: Some(by),
        ..Progress::default()
    };
    push_all(state, &actor, &label, vec![push], false, &mut progress)?;
    let wrote = !progress.pushed.is_empty();
    let outcome = match progress.acks.pop().map(|a| a.outcome) {
        Some(Outcome::Accepted) => HandOutcome::Accepted,
        Some(Outcome::Refused { refusal }) => HandOutcome::Refused {
            refusal,
            carrier: carrier.user.clone(),
        },
        Some(Outcome::MissingBase) | None => HandOutcome::Refused {
            refusal: Refusal {
                code: RefusalCode::Malformed,
                part: "carried".into(),
                reason: "the server lacks what these changes build on: their author's phone \
                         sends them whole at its next sync"
                    .into(),
            },
            carrier: carrier.user.clone(),
        },
    };
    Ok((outcome, wrote))
}

/// What became of the work a phone handed on: refused (on the record, found by the author's
/// signature, which only the phones that held the item know), accepted (every change it covers
/// is in the document), or not arrived yet.
pub(super) fn outcomes(state: &State, asked: &[Handed]) -> Result<Vec<HandedOutcome>, ApiError> {
    if asked.is_empty() {
        return Ok(Vec::new());
    }
    if asked.len() > MAX_HANDED {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!(
                "this request asks about {} items handed on, more than the {MAX_HANDED} the \
                 server answers at once",
                asked.len()
            ),
        ));
    }
    let store = &*state.store;
    let mut refusals: HashMap<String, (Refusal, String)> = HashMap::new();
    for r in store.refused()? {
        if let Some(by) = r.carried
            && !by.sig.is_empty()
        {
            refusals.insert(by.sig, (r.refusal, by.carrier));
        }
    }
    let mut out = Vec::with_capacity(asked.len());
    let mut docs: HashMap<String, Option<automerge::AutoCommit>> = HashMap::new();
    for h in asked {
        let outcome = if let Some((refusal, carrier)) = refusals.get(&h.sig) {
            HandOutcome::Refused {
                refusal: refusal.clone(),
                carrier: carrier.clone(),
            }
        } else {
            if !docs.contains_key(&h.doc) {
                let loaded = match h.doc.parse::<DocId>() {
                    Ok(id) => store.doc(&id)?.and_then(|s| s.load().ok()),
                    Err(_) => None,
                };
                docs.insert(h.doc.clone(), loaded);
            }
            let present = match docs.get_mut(&h.doc) {
                Some(Some(doc)) => {
                    let doc = doc.document();
                    !h.hashes.is_empty()
                        && h.hashes.iter().all(|x| {
                            x.parse::<automerge::ChangeHash>()
                                .is_ok_and(|x| doc.get_change_by_hash(&x).is_some())
                        })
                }
                _ => false,
            };
            if present {
                HandOutcome::Accepted
            } else {
                HandOutcome::Pending
            }
        };
        out.push(HandedOutcome {
            sig: h.sig.clone(),
            outcome,
        });
    }
    Ok(out)
}

/// The branch's phones, signed, unless the phone holds this version already.
pub(super) fn device_list(
    state: &State,
    user: &Actor,
    held: &str,
) -> Result<Option<SignedDeviceList>, ApiError> {
    let store = &*state.store;
    let mut people: Vec<Actor> = store
        .users()?
        .into_iter()
        .filter(|u| u.branch == user.branch && !u.disabled)
        .map(|u| u.actor())
        .collect();
    let names: std::collections::HashSet<String> = people.iter().map(|p| p.user.clone()).collect();
    let mut at = 0;
    let mut devices: Vec<ListedDevice> = store
        .devices()?
        .into_iter()
        .filter_map(|d| {
            let users: Vec<String> = d
                .users
                .iter()
                .filter(|u| names.contains(*u))
                .cloned()
                .collect();
            if users.is_empty() {
                return None;
            }
            at = at.max(d.registered_at).max(d.revoked_at.unwrap_or(0));
            Some(ListedDevice {
                key: d.key,
                users,
                revoked: d.revoked_at.is_some(),
            })
        })
        .collect();
    devices.sort_by(|a, b| a.key.cmp(&b.key));
    people.retain(|p| devices.iter().any(|d| d.users.contains(&p.user)));
    people.sort_by(|a, b| a.user.cmp(&b.user));
    let list = DeviceList {
        branch: user.branch.clone(),
        at,
        devices,
        people,
    };
    let key = crate::store::writer::server_key(store)?;
    let signed = SignedDeviceList::sign(&key, &list);
    Ok((signed.version() != held).then_some(signed))
}
