//! Work that travels between phones (the `carry` tree): what this phone carries for others,
//! what it handed on of its own people's work and what became of it, the phones it met, and
//! the branch's signed device list it checks them against.
//!
//! Keys: `i\0ITEM` a carried item ([`CarryItem`], by [`Carried::item_id`]), `h\0SIG` work
//! handed on ([`HandedRecord`], by its signature), `x\0AT` a meeting ([`Meeting`]), and
//! `m\0devices` the device list as the server signed it.

use serde::{Deserialize, Serialize};
use zonepatrol_shared::Actor;
use zonepatrol_shared::protocol::{Push, may_read};
use zonepatrol_shared::relay::{
    Carried, CarriedAck, DeviceList, HandOutcome, Handed, HandedOutcome, MAX_CARRIED, MAX_HANDED,
    SignedDeviceList, seal,
};
use zonepatrol_shared::signing::KeyId;
use zonepatrol_shared::validate::Refusal;

use super::codec::{decode, encode, key};
use super::{Repo, StoreError, now_millis};

const DEVICES: &[u8] = b"m\0devices";
/// When the device list was last received (ms, big-endian).
const DEVICES_AT: &[u8] = b"m\0devices-at";

/// How old a device list may be for the phone to meet others with it: a phone revoked since
/// would otherwise still be taken.
pub const DEVICE_LIST_DAYS: i64 = 14;

/// Something this phone carries for another phone's person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarryItem {
    /// The item as received (whose work it is: [`Carried::author`]).
    pub item: Carried,
    /// The phone it was received from: its person and key.
    pub from_user: String,
    /// That phone's key (hex).
    pub from_key: String,
    /// When it was received (ms).
    pub at: i64,
    /// When it was handed to the server, and what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<(i64, HandOutcome)>,
}

/// Work of this phone's people handed to another phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandedRecord {
    /// What the server is asked about it by (and whose work it is, `handed.user`).
    pub handed: Handed,
    /// The phones it was handed to: person, key, when.
    pub to: Vec<(String, String, i64)>,
    /// What the server said of it last.
    pub outcome: HandOutcome,
    /// The envelope it went in, when it went sealed (the other phone could not read it): the
    /// same one goes to every phone, so that the carriers hold one item, not one per meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
}

/// A meeting with another phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// When (ms).
    pub at: i64,
    /// The other phone's person.
    pub user: String,
    /// The other phone's key (hex).
    pub key: String,
    /// Items given to it.
    pub gave: usize,
    /// Items taken from it.
    pub took: usize,
    /// Items of its not taken, with why.
    pub refused: Vec<String>,
    /// Items taken that were also merged into this phone's documents (shown here).
    #[serde(default)]
    pub shown: usize,
}

/// What a phone gave to another, and what it took.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Taken {
    /// Items kept to carry.
    pub took: usize,
    /// Items not kept, with why (a signature that does not hold, a phone not on the list…).
    pub refused: Vec<String>,
    /// Items kept that were also merged into this phone's documents (see `store::merge`).
    pub shown: usize,
}

impl Repo {
    /// The records of the `carry` tree under `prefix`, each with its key.
    fn records<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<(sled::IVec, T)>, StoreError> {
        self.carry
            .scan_prefix(prefix)
            .map(|kv| {
                let (k, v) = kv?;
                let record = decode(&k, &v)?;
                Ok((k, record))
            })
            .collect()
    }

    /// Keeps the branch's device list if the server's key signed it; whether it did.
    pub fn keep_device_list(
        &self,
        list: &SignedDeviceList,
        server: &KeyId,
    ) -> Result<bool, StoreError> {
        if list.verify(server).is_err() {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        batch.insert(DEVICES, encode(list));
        batch.insert(DEVICES_AT, &now_millis().to_be_bytes());
        self.carry.apply_batch(batch)?;
        self.carry.flush()?;
        Ok(true)
    }

    /// When the device list was last received from the server (ms), if ever: every sync
    /// renews it, changed or not.
    pub fn device_list_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .carry
            .get(DEVICES_AT)?
            .and_then(|v| <[u8; 8]>::try_from(&v[..]).ok())
            .map(i64::from_be_bytes))
    }

    /// Notes that the server confirmed the device list held is current.
    pub fn device_list_current(&self) -> Result<(), StoreError> {
        if self.carry.get(DEVICES)?.is_some() {
            self.carry.insert(DEVICES_AT, &now_millis().to_be_bytes())?;
        }
        Ok(())
    }

    /// The branch's device list last received, checked again against the server's key.
    pub fn device_list(&self, server: &KeyId) -> Result<Option<DeviceList>, StoreError> {
        let Some(bytes) = self.carry.get(DEVICES)? else {
            return Ok(None);
        };
        let signed: SignedDeviceList = decode(DEVICES, &bytes)?;
        Ok(signed.verify(server).ok())
    }

    /// The version of the device list held ("" for none), for the next sync.
    pub fn device_list_version(&self) -> Result<String, StoreError> {
        Ok(match self.carry.get(DEVICES)? {
            Some(bytes) => decode::<SignedDeviceList>(DEVICES, &bytes)?.version(),
            None => String::new(),
        })
    }

    /// What to give the phone of `peer` (whose key is `peer_key`): the unsent work of this
    /// phone's people — open where `peer` may read the document, sealed to the server's key
    /// where not — and what this phone carries that has not reached the server, never an open
    /// item `peer` may not read; at most [`MAX_OFFER_BYTES`] of it, its people's work first, then
    /// what it carries, the oldest first. Records what was handed on, to ask the server about
    /// it later.
    pub fn offer(
        &self,
        server: &KeyId,
        peer: &Actor,
        peer_key: &str,
    ) -> Result<Vec<Carried>, StoreError> {
        let now = now_millis();
        let mut out = Vec::new();
        let mut rng = crypto_box::aead::OsRng;
        // The JSON array's size: brackets, and each item with its comma.
        let mut size = 2usize;
        let mut fits = |item: &Carried| {
            let more = serde_json::to_vec(item).map_or(usize::MAX / 2, |v| v.len() + 1);
            size += more;
            if size > MAX_OFFER_BYTES {
                size -= more;
                false
            } else {
                true
            }
        };
        for account in self.accounts()? {
            let user = account.user.user.clone();
            if user == peer.user {
                continue;
            }
            for push in self.outgoing(&user, OFFER_BYTES)? {
                let Some(signed) = push.signed.first().cloned() else {
                    continue;
                };
                if signed.hashes.is_empty() {
                    continue;
                }
                let open = push
                    .id
                    .parse()
                    .is_ok_and(|id| may_read(peer, &id) && may_read(&account.user, &id));
                let item = if open {
                    Carried::Open { push: push.clone() }
                } else {
                    let kept = self
                        .carry
                        .get(key(b'h', &signed.sig))?
                        .map(|v| decode::<HandedRecord>(b"h", &v))
                        .transpose()?
                        .and_then(|h| h.envelope);
                    let envelope = match kept {
                        Some(envelope) => envelope,
                        None => seal(server, &push, &mut rng).map_err(|e| StoreError::Damaged {
                            key: "server key".into(),
                            why: e.to_string(),
                        })?,
                    };
                    Carried::Sealed {
                        doc: push.id.clone(),
                        user: user.clone(),
                        envelope,
                    }
                };
                if !fits(&item) {
                    continue;
                }
                self.note_handed(&push, &user, &item, peer, peer_key, now)?;
                out.push(item);
            }
        }
        let mut carried: Vec<CarryItem> = self
            .records::<CarryItem>(b"i\0")?
            .into_iter()
            .map(|(_, c)| c)
            .filter(|c| c.delivered.is_none() && c.item.author() != peer.user)
            .collect();
        carried.sort_by_key(|c| c.at);
        for c in carried {
            let pass = match &c.item {
                Carried::Open { push } => push.id.parse().is_ok_and(|id| may_read(peer, &id)),
                Carried::Sealed { .. } => true,
            };
            if pass && fits(&c.item) {
                out.push(c.item);
            }
        }
        Ok(out)
    }

    fn note_handed(
        &self,
        push: &Push,
        author: &str,
        item: &Carried,
        peer: &Actor,
        peer_key: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some(signed) = push.signed.first() else {
            return Ok(());
        };
        let k = key(b'h', &signed.sig);
        let mut record = match self.carry.get(&k)? {
            Some(v) => decode::<HandedRecord>(&k, &v)?,
            None => HandedRecord {
                handed: Handed {
                    user: author.to_owned(),
                    doc: push.id.clone(),
                    sig: signed.sig.clone(),
                    hashes: signed.hashes.clone(),
                },
                to: Vec::new(),
                outcome: HandOutcome::Pending,
                envelope: None,
            },
        };
        if let Carried::Sealed { envelope, .. } = item {
            record.envelope = Some(envelope.clone());
        }
        record
            .to
            .push((peer.user.clone(), peer_key.to_owned(), now));
        self.carry.insert(k, encode(&record))?;
        Ok(())
    }

    /// Takes what the phone of `peer` (key `peer_key`, checked against `list`) gave: each item
    /// kept to carry if its signature holds and its author's phone is on the list; an open item
    /// only if the person signed in here may read it, and then also merged into this phone's
    /// copy of the document where it checks (see `store::merge`). Records the meeting.
    pub fn take_offer(
        &self,
        me: &Actor,
        peer_user: &str,
        peer_key: &str,
        list: &DeviceList,
        items: Vec<Carried>,
        gave: usize,
    ) -> Result<Taken, StoreError> {
        let now = now_millis();
        let mut taken = Taken::default();
        let mine: Vec<String> = self.accounts()?.into_iter().map(|a| a.user.user).collect();
        let mut batch = sled::Batch::default();
        let mut to_merge = Vec::new();
        // What this phone already carries, unanswered: it takes no more than it can bring up.
        let (mut held, mut held_bytes) = (0usize, 0usize);
        for (_, c) in self.records::<CarryItem>(b"i\0")? {
            if c.delivered.is_none() {
                held += 1;
                held_bytes += item_bytes(&c.item);
            }
        }
        for item in items.into_iter().take(MAX_CARRIED * 5) {
            let author = item.author().to_owned();
            let why = match &item {
                _ if item_bytes(&item) > MAX_ITEM_BYTES => {
                    Some("larger than the server takes for one document".to_owned())
                }
                Carried::Open { push } => check_open(push, me, list).err(),
                Carried::Sealed { user, envelope, .. } => {
                    if list.person(user).is_none() {
                        Some(format!(
                            "an envelope names {user}, who has no phone on the list"
                        ))
                    } else if envelope.len() > zonepatrol_shared::relay::MAX_ENVELOPE {
                        Some("an envelope larger than the server opens".into())
                    } else {
                        None
                    }
                }
            };
            let why = why.or_else(|| {
                (held >= MAX_HELD || held_bytes + item_bytes(&item) > MAX_HELD_BYTES)
                    .then(|| "this phone carries as much as it can already".to_owned())
            });
            if let Some(why) = why {
                if taken.refused.len() < 20 {
                    let doc: String = item.doc().chars().take(120).collect();
                    let author: String = author.chars().take(60).collect();
                    taken.refused.push(format!("{doc} ({author}): {why}"));
                }
                continue;
            }
            if mine.contains(&author) {
                // This phone's own people's work: it has it already.
                continue;
            }
            let k = key(b'i', &item.item_id());
            if self.carry.get(&k)?.is_some() {
                continue;
            }
            held += 1;
            held_bytes += item_bytes(&item);
            if let Carried::Open { push } = &item {
                to_merge.push((push.clone(), item.item_id()));
            }
            batch.insert(
                k,
                encode(&CarryItem {
                    item,
                    from_user: peer_user.to_owned(),
                    from_key: peer_key.to_owned(),
                    at: now,
                    delivered: None,
                }),
            );
            taken.took += 1;
        }
        // Carried first, then shown: the phone never shows work it does not also carry (and so
        // hears the server's answer about, to take it out again if refused).
        self.carry.apply_batch(std::mem::take(&mut batch))?;
        self.carry.flush()?;
        for (push, item) in &to_merge {
            // A document of this phone's that does not load keeps only the merge from happening.
            if let Ok(merged) = self.merge_carried(&me.user, list, push, item)
                && !merged.is_empty()
            {
                taken.shown += 1;
            }
        }
        let meeting = Meeting {
            at: now,
            user: peer_user.to_owned(),
            key: peer_key.to_owned(),
            gave,
            took: taken.took,
            refused: taken.refused.clone(),
            shown: taken.shown,
        };
        let mut mk = b"x\0".to_vec();
        mk.extend_from_slice(&now.to_be_bytes());
        mk.extend_from_slice(&rand::random::<u32>().to_be_bytes());
        batch.insert(mk, encode(&meeting));
        // The latest meetings are kept, the rest go.
        let meetings: Vec<sled::IVec> = self
            .carry
            .scan_prefix(b"x\0")
            .keys()
            .collect::<Result<_, _>>()?;
        for k in meetings.iter().rev().skip(KEEP_MEETINGS - 1) {
            batch.remove(k.clone());
        }
        self.carry.apply_batch(batch)?;
        self.carry.flush()?;
        Ok(taken)
    }

    /// What this phone carries and has not yet handed to the server: at most one request's
    /// ([`MAX_CARRIED`] items, about [`CARRY_BYTES`], the oldest first), so that what it
    /// carries never keeps its own work from going.
    pub fn carried_out(&self) -> Result<Vec<Carried>, StoreError> {
        let mut waiting: Vec<CarryItem> = Vec::new();
        for (_, c) in self.records::<CarryItem>(b"i\0")? {
            if c.delivered.is_none() {
                waiting.push(c);
            }
        }
        waiting.sort_by_key(|c| c.at);
        let mut out = Vec::new();
        let mut used = 0;
        for c in waiting {
            let size = item_bytes(&c.item);
            if size > MAX_ITEM_BYTES {
                // Never taken at a meeting; one put here otherwise would never be taken above.
                continue;
            }
            if !out.is_empty() && used + size > CARRY_BYTES {
                break;
            }
            used += size;
            out.push(c.item);
            if out.len() == MAX_CARRIED {
                break;
            }
        }
        Ok(out)
    }

    /// Notes the server's answers to the items carried; what was answered long ago goes.
    pub fn settle_carried(&self, acks: &[CarriedAck]) -> Result<(), StoreError> {
        let now = now_millis();
        for (k, c) in self.records::<CarryItem>(b"i\0")? {
            let item = c.item.item_id();
            if c.delivered
                .as_ref()
                .is_some_and(|(at, _)| now.saturating_sub(*at) > KEEP_ANSWERED_MS)
            {
                self.carry.remove(k)?;
                self.merged_settled(&item)?;
            } else if let (Carried::Open { push }, Some((_, HandOutcome::Refused { refusal, .. }))) =
                (&c.item, &c.delivered)
                && self.carry.contains_key(key(b'g', &item))?
            {
                // Refused earlier, and what it showed could not be taken out then: again.
                let _ = self.unmerge(&push.id, &item, &carried_refusal(&c.item, refusal));
            }
        }
        for ack in acks {
            let k = key(b'i', &ack.item);
            if let Some(v) = self.carry.get(&k)? {
                let mut c: CarryItem = decode(&k, &v)?;
                // Refused: what of it was shown here goes. Called after the answer's documents
                // are taken in, so that what the server has by another way stays.
                if let (Carried::Open { push }, HandOutcome::Refused { refusal, .. }) =
                    (&c.item, &ack.outcome)
                {
                    // A document here that no longer loads is no reason to fail the sync: the
                    // answer is kept all the same, and the taking out tried again at the next
                    // sync (what it merged stays noted until it is done).
                    let _ = self.unmerge(&push.id, &ack.item, &carried_refusal(&c.item, refusal));
                } else if ack.outcome == HandOutcome::Accepted {
                    self.merged_settled(&ack.item)?;
                }
                c.delivered = Some((now, ack.outcome.clone()));
                self.carry.insert(k, encode(&c))?;
            }
        }
        self.carry.flush()?;
        Ok(())
    }

    /// The work of this phone's people handed on whose fate the server has not told yet:
    /// whoever syncs asks for all of them (the signature names each).
    pub fn handed_pending(&self) -> Result<Vec<Handed>, StoreError> {
        let mut out = Vec::new();
        for (_, h) in self.records::<HandedRecord>(b"h\0")? {
            if h.outcome == HandOutcome::Pending {
                out.push(h.handed);
                if out.len() == MAX_HANDED {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Notes what the server said of work handed on.
    pub fn settle_handed(&self, outcomes: &[HandedOutcome]) -> Result<(), StoreError> {
        // What the server answered long ago goes from the list.
        let now = now_millis();
        for (k, h) in self.records::<HandedRecord>(b"h\0")? {
            let last = h.to.iter().map(|t| t.2).max().unwrap_or(0);
            // Answered, or never arriving (the author's own push refused): forgotten in time.
            if now.saturating_sub(last) > KEEP_ANSWERED_MS {
                self.carry.remove(k)?;
            }
        }
        for o in outcomes {
            let k = key(b'h', &o.sig);
            if let Some(v) = self.carry.get(&k)? {
                let mut h: HandedRecord = decode(&k, &v)?;
                h.outcome = o.outcome.clone();
                self.carry.insert(k, encode(&h))?;
            }
        }
        self.carry.flush()?;
        Ok(())
    }

    /// Replaces a carried item by another: what a tampering phone does, for the tests that
    /// show the server refusing it.
    #[doc(hidden)]
    pub fn replace_carried(&self, item_id: &str, with: &CarryItem) -> Result<(), StoreError> {
        self.carry.remove(key(b'i', item_id))?;
        self.carry
            .insert(key(b'i', &with.item.item_id()), encode(with))?;
        self.carry.flush()?;
        Ok(())
    }

    /// Everything this phone carries or carried for others, newest first.
    pub fn carrying(&self) -> Result<Vec<CarryItem>, StoreError> {
        let mut out: Vec<CarryItem> = self.records(b"i\0")?.into_iter().map(|(_, c)| c).collect();
        out.sort_by_key(|c| std::cmp::Reverse(c.at));
        Ok(out)
    }

    /// This phone's people's work handed on, and what became of it.
    pub fn handed(&self) -> Result<Vec<HandedRecord>, StoreError> {
        Ok(self.records(b"h\0")?.into_iter().map(|(_, h)| h).collect())
    }

    /// The phones met, newest first.
    pub fn meetings(&self) -> Result<Vec<Meeting>, StoreError> {
        let mut out: Vec<Meeting> = self.records(b"x\0")?.into_iter().map(|(_, m)| m).collect();
        out.reverse();
        Ok(out)
    }
}

/// The most bytes of changes of one person's work offered at a meeting.
const OFFER_BYTES: usize = 4 * 1024 * 1024;

/// The most one offer to another phone holds, in bytes of JSON: what a phone takes at most.
pub const MAX_OFFER_BYTES: usize = 64 * 1024 * 1024;

/// The most bytes of carried items one sync sends (half the server's default push limit, so
/// that the phone's own work fits beside them).
pub const CARRY_BYTES: usize = 4 * 1024 * 1024;

/// The most items, and bytes, a phone carries unanswered at once.
const MAX_HELD: usize = 2_000;
const MAX_HELD_BYTES: usize = 64 * 1024 * 1024;

/// The largest item a phone takes to carry (base64 characters): what the server takes for one
/// document (2 MiB of changes by default), with room for its signatures.
const MAX_ITEM_BYTES: usize = 3 * 1024 * 1024;

/// How many meetings the list keeps.
const KEEP_MEETINGS: usize = 200;

/// How long an answered item stays in the list.
const KEEP_ANSWERED_MS: i64 = 30 * 24 * 3_600_000;

/// Why an edit built on a refused carried item goes: that refusal, naming whose work it was.
fn carried_refusal(item: &Carried, refusal: &Refusal) -> Refusal {
    Refusal {
        code: refusal.code,
        part: refusal.part.clone(),
        reason: format!(
            "built on {}'s work carried from another phone, which the server refused: {}",
            item.author(),
            refusal.reason
        ),
    }
}

/// An item's size as sent.
fn item_bytes(item: &Carried) -> usize {
    match item {
        Carried::Open { push } => item.payload_len() + push.id.len() + 200 * push.signed.len(),
        Carried::Sealed { doc, .. } => item.payload_len() + doc.len(),
    }
}

/// An open item is kept only if every signature holds, by a phone on the list for its person,
/// one person, and the person signed in here may read it.
fn check_open(push: &Push, me: &Actor, list: &DeviceList) -> Result<(), String> {
    let Some(first) = push.signed.first() else {
        return Err("no signature".into());
    };
    for s in &push.signed {
        if s.user != first.user {
            return Err("signed for several people".into());
        }
        s.verify(&push.id).map_err(|e| e.to_string())?;
        if !list.admits(&s.key, &s.user) {
            return Err(format!(
                "signed by a phone not on the branch's list for {}",
                s.user
            ));
        }
    }
    let readable = push.id.parse().is_ok_and(|id| may_read(me, &id));
    if !readable {
        return Err("a record the person signed in here may not read".into());
    }
    Ok(())
}
