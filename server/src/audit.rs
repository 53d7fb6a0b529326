//! A branch's audit export (`zonepatrol-server audit export`): its documents, the device keys
//! that signed its entries, the actors' owners, the log and the checkpoints, in the form `zonepatrol-audit verify`
//! checks ([`zonepatrol_shared::audit`]). A fresh checkpoint is signed for the log's end first,
//! so that nothing after the last one goes unvouched.

use std::collections::BTreeSet;

use zonepatrol_shared::audit::{
    AuditActor, AuditDevice, AuditDocument, AuditEntry, AuditExport, FORMAT,
};
use zonepatrol_shared::docs::{DocId, genesis_actor, server_actor};
use zonepatrol_shared::protocol::b64;
use zonepatrol_shared::signing::{LogEntry, body_digest};

use crate::store::{Storage, StoreError};

/// Log entries read at a time.
const PAGE: usize = 4096;

/// Writes the export of `branch` as it stands.
pub fn export(store: &dyn Storage, branch: &str, now: i64) -> Result<AuditExport, StoreError> {
    let key = crate::store::writer::server_key(store)?;
    if let Some((seq, link)) = store.log_head()? {
        let checkpoint = zonepatrol_shared::signing::Checkpoint::sign(&key, seq, &link, now);
        store.put_checkpoint(&checkpoint)?;
    }
    // The log first, then the documents as at least as new as it: a write in between adds a
    // change the log (read before) lacks, which verification would name; exporting from a
    // stopped server or a backup avoids it.
    let mut log = Vec::new();
    let mut after = 0;
    let mut ids: BTreeSet<String> = BTreeSet::new();
    // The keys that signed the branch's entries: only their devices are exported.
    let mut keys: BTreeSet<String> = BTreeSet::new();
    loop {
        let page = store.log_after(after, PAGE)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        for record in page {
            // Each entry read once: its document (and branch), and who signed it.
            let read = LogEntry::from_bytes(&record.body)
                .ok()
                .and_then(|e| Some((e.doc.parse::<DocId>().ok()?, e.signed)));
            let of = read.as_ref().map_or("", |(id, _)| id.branch()).to_owned();
            let entry = match read.filter(|(id, _)| id.branch() == branch) {
                Some((id, signed)) => {
                    ids.insert(id.to_string());
                    keys.extend(signed.into_iter().map(|s| s.key));
                    AuditEntry {
                        seq: record.seq,
                        link: hex::encode(record.link),
                        branch: of,
                        body: Some(String::from_utf8_lossy(&record.body).into_owned()),
                        digest: None,
                    }
                }
                None => AuditEntry {
                    seq: record.seq,
                    link: hex::encode(record.link),
                    branch: of,
                    body: None,
                    digest: Some(hex::encode(body_digest(&record.body))),
                },
            };
            log.push(entry);
        }
    }
    let mut checkpoints = Vec::new();
    let mut after = 0;
    loop {
        let page = store.checkpoints_after(after, PAGE)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        checkpoints.extend(page);
    }
    // Every document of the branch, whether or not the log names it.
    let mut cursor = 0;
    loop {
        let page = store.changed_after(cursor, PAGE)?;
        let Some(last) = page.last() else {
            break;
        };
        cursor = last.0;
        ids.extend(
            page.into_iter()
                .filter(|(_, id)| id.branch() == branch)
                .map(|(_, id)| id.to_string()),
        );
    }
    let mut documents = Vec::new();
    let mut actors = BTreeSet::new();
    for text in &ids {
        let Ok(id) = text.parse::<DocId>() else {
            continue;
        };
        let Some(stored) = store.doc(&id)? else {
            continue;
        };
        if let Ok(mut doc) = stored.load() {
            let (genesis, server) = (genesis_actor(&id), server_actor());
            for change in doc.get_changes(&[]) {
                let actor = change.actor_id();
                if *actor != genesis && *actor != server {
                    actors.insert(actor.to_bytes().to_vec());
                }
            }
        }
        documents.push(AuditDocument {
            id: text.clone(),
            bytes: b64::encode(&stored.bytes),
        });
    }
    let mut owners = Vec::new();
    for actor in actors {
        if let Some(owner) = store.actor_owner(&actor)? {
            owners.push(AuditActor {
                actor: hex::encode(&actor),
                user: owner.user,
                device: owner.device,
            });
        }
    }
    let devices = store
        .devices()?
        .into_iter()
        .filter(|d| keys.contains(&d.key))
        .map(|d| AuditDevice {
            key: d.key,
            name: d.name,
            users: d.users,
            revoked_at: d.revoked_at,
        })
        .collect();
    Ok(AuditExport {
        format: FORMAT.to_owned(),
        branch: branch.to_owned(),
        exported_at: now,
        server_key: key.id().to_string(),
        devices,
        actors: owners,
        log,
        checkpoints,
        documents,
    })
}
