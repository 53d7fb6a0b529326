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
fn refused_item(reason: impl Into<String>) -> Refusal {
    Refusal {
        code: RefusalCode::NotWriter,
        part: "carried".into(),
        reason: reason.into(),
    }
}

/// Checks and stores the items a carrier brings, each alone; returns an answer per item
/// taken (an item left unanswered is sent again at the next sync), whether any was written,
/// and how many refusals the request has counted. Nothing a carried item holds fails the
/// carrier's own request: its own work goes whatever it carries.
pub(super) fn take(
    state: &State,
    carrier: &Actor,
    device: &str,
    items: Vec<Carried>,
) -> Result<(Vec<CarriedAck>, bool, usize), ApiError> {
    if items.is_empty() {
        return Ok((Vec::new(), false, 0));
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
    let mut seen = std::collections::HashSet::new();
    // Refusals kept for the record: one bound for the whole request, as for a phone's own.
    let mut refused = 0;
    // Carried bytes have a budget of their own, the size of a push: what does not fit waits
    // for the next sync.
    let mut budget = state.settings.max_push_bytes;
    for item in items {
        let id = item.item_id();
        if !seen.insert(id.clone()) {
            continue;
        }
        let size = item.payload_len() / 4 * 3;
        if size > state.settings.max_push_doc_bytes * 2 {
            acks.push(CarriedAck {
                item: id,
                outcome: HandOutcome::Refused {
                    refusal: refused_item(format!(
                        "carried changes of {} KiB, more than the server takes for one document",
                        size / 1024
                    )),
                    carrier: carrier.user.clone(),
                },
            });
            continue;
        }
        if size > budget {
            continue;
        }
        budget -= size;
        let doc = item.doc().chars().take(200).collect::<String>();
        let sealed = matches!(item, Carried::Sealed { .. });
        let outcome = match take_one(state, carrier, device, item, &mut refused) {
            Ok((outcome, w)) => {
                wrote |= w;
                outcome
            }
            Err(Refused::Item(refusal)) => {
                // On the carrier's record: nothing vouches that it is anyone else's.
                tracing::info!(carrier = %carrier.user, %doc, %refusal, "carried item refused");
                refused += 1;
                if refused <= super::commit::REFUSED_KEPT_PER_REQUEST {
                    let by = CarriedBy {
                        carrier: carrier.user.clone(),
                        sig: String::new(),
                    };
                    let record = keep_refused(state, carrier, &doc, &refusal, &[], now, Some(&by));
                    if let Err(e) = record {
                        tracing::warn!(error = ?e.body, "could not keep a refused carried item");
                    }
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
            Err(Refused::Api(e)) => {
                // The server's own trouble: not the item's, and not the carrier's request's.
                tracing::warn!(carrier = %carrier.user, %doc, error = ?e.body, "a carried item could not be checked");
                continue;
            }
        };
        // A sealed record's reasons may quote what the carrier may not read: it learns only
        // that it was refused; the author's phone learns why.
        let outcome = match outcome {
            HandOutcome::Refused { refusal, carrier } if sealed => HandOutcome::Refused {
                refusal: Refusal {
                    code: refusal.code,
                    part: "carried".into(),
                    reason: "refused: its author's phone is told why at its next sync".into(),
                },
                carrier,
            },
            other => other,
        };
        acks.push(CarriedAck { item: id, outcome });
    }
    Ok((acks, wrote, refused))
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

fn take_one(
    state: &State,
    carrier: &Actor,
    device: &str,
    item: Carried,
    refused: &mut usize,
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
                .map_err(|e| Refused::Item(refused_item(e.to_string())))?;
            if push.id != doc || push.signed.first().is_none_or(|s| s.user != user) {
                return Err(Refused::Item(refused_item(
                    "an envelope holds another document or author than it says: it was \
                     altered on the way",
                )));
            }
            push
        }
    };
    let Some(first) = push.signed.first().cloned() else {
        return Err(Refused::Item(refused_item(
            "carried changes without their author's signature: only signed work can be \
             carried",
        )));
    };
    let author = first.user.clone();
    if push.signed.iter().any(|s| s.user != author) {
        return Err(Refused::Item(refused_item(
            "carried changes signed for several people: each person's work travels alone",
        )));
    }
    let account = match store.user(&author).map_err(ApiError::from)? {
        Some(account) if !account.disabled => account,
        _ => {
            return Err(Refused::Item(refused_item(format!(
                "carried changes name {author}, who has no account here that may write: they \
                 were not made on this mine's phones"
            ))));
        }
    };
    if account.branch != carrier.branch {
        return Err(Refused::Item(refused_item(
            "carried changes of another branch's person: phones carry only their own branch's \
             work",
        )));
    }
    // Only what the author's phone really signed goes on the author's record: every
    // signature must hold, by a key registered to them (revoked or not: a revoked phone's work
    // is refused below, and the author is told).
    for s in &push.signed {
        // The signature first: it parses the key, before the key is looked up.
        let holds = s.verify(&push.id).is_ok();
        let registered = holds
            && store
                .device(&s.key)
                .map_err(ApiError::from)?
                .is_some_and(|d| d.users.contains(&author));
        if !registered {
            return Err(Refused::Item(refused_item(format!(
                "a signature on carried changes does not hold, or its phone is not {author}'s: \
                 they were forged or altered on the way"
            ))));
        }
    }
    let actor = account.actor();
    let label = format!("{device} · carried by {}", carrier.user);
    let mut progress = Progress {
        carried: Some(CarriedBy {
            carrier: carrier.user.clone(),
            sig: first.sig,
        }),
        refused: *refused,
        ..Progress::default()
    };
    let pushed = push_all(state, &actor, &label, vec![push], false, &mut progress);
    *refused = progress.refused;
    pushed?;
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

/// What became of the work handed on by the people who signed in on the asking phone (`key`,
/// the key its sign-in is bound to): accepted (the document holds every change it covers),
/// refused (a carried copy with the author's signature is on the author's record), or not
/// arrived yet.
pub(super) fn outcomes(
    state: &State,
    key: Option<&str>,
    asked: &[Handed],
) -> Result<Vec<HandedOutcome>, ApiError> {
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
    let people: Vec<String> = match key {
        Some(key) => store.device(key)?.map(|d| d.users).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut refusals: HashMap<(String, String, String), (Refusal, String)> = HashMap::new();
    if asked.iter().any(|h| people.contains(&h.user)) {
        for r in store.refused()? {
            if people.contains(&r.user)
                && let Some(by) = r.carried
                && !by.sig.is_empty()
            {
                refusals.insert((r.user, r.id, by.sig), (r.refusal, by.carrier));
            }
        }
    }
    let mut out = Vec::with_capacity(asked.len());
    let mut docs: HashMap<String, Option<automerge::AutoCommit>> = HashMap::new();
    for h in asked {
        if !people.contains(&h.user) {
            continue;
        }
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
        // A refused copy is told even when the author's own sync delivered the work since:
        // someone altered what they carried. Its record is on the author's record only when
        // the author's signature held over what it names.
        let outcome = if let Some((refusal, carrier)) =
            refusals.get(&(h.user.clone(), h.doc.clone(), h.sig.clone()))
        {
            HandOutcome::Refused {
                refusal: refusal.clone(),
                carrier: carrier.clone(),
            }
        } else if present {
            HandOutcome::Accepted
        } else {
            HandOutcome::Pending
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
