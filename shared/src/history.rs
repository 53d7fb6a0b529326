//! A record's history, read from its automerge changes: each change with the actor that made
//! it, when, and what it changed, field by field; and who may read a record's history.
//!
//! The phone and the dashboard show the same history: the phone names the actors of the people
//! who signed in on it, the server names every actor from its registry (each actor belongs to
//! the one person who first wrote with it, from one device). The field names are read through
//! [`crate::labels::path_label`].
//!
//! ```
//! use zonepatrol_shared::docs::{self, DocId};
//! use zonepatrol_shared::history;
//!
//! let id: DocId = "problem:b1:p1".parse().unwrap();
//! let mut doc = docs::genesis_of(&id).unwrap();
//! let h = history::history(doc.document(), &id);
//! assert_eq!(h.entries.len(), 1);
//! assert!(h.entries[0].genesis);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use automerge::{Automerge, ChangeHash, PatchAction, Prop, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

use crate::Actor;
use crate::docs::{DocId, genesis_actor, server_actor};

/// How many fields of one change are described; a change that touches more says so.
pub const DESCRIBED: usize = 24;
/// How much of a typed value is kept in a description.
pub const VALUE_CHARS: usize = 200;
/// How many of a record's latest changes a history shows; the older ones are counted. Each
/// is one diff of the document, so this bounds the work a history asks of the server.
pub const ENTRIES: usize = 100;

/// One field a change set: where in the record, and the value it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// The keys from the document's root to the field (record ids among them); list positions
    /// count from 1.
    pub path: Vec<String>,
    /// The value as written; `None` when the change removed the field.
    pub value: Option<String>,
}

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The change's hash (hex).
    pub hash: String,
    /// The automerge actor that made it (hex): one person on one device.
    pub actor: String,
    /// When it was made, in milliseconds since the epoch, by the clock of the device that
    /// made it; `0` for the genesis change.
    pub at: i64,
    /// The record's first change, which every device makes alike from the record's id.
    pub genesis: bool,
    /// Made by the server itself.
    pub server: bool,
    /// What it set, field by field (at most [`DESCRIBED`]).
    pub changed: Vec<Changed>,
    /// How many more fields it set than are described.
    pub more: usize,
}

/// A record's history: its latest changes, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct History {
    /// At most [`ENTRIES`] changes, oldest first.
    pub entries: Vec<Entry>,
    /// How many older changes are left out.
    pub older: usize,
}

/// Why a history is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Another inspector's scores: a sheet is its inspector's alone, even to managers.
    OthersSheet,
    /// The marks a branch gives in the back-to-back mutual evaluation: its secretary's alone.
    Marks,
    /// The server's results: their history would show each sheet as it arrived.
    Results,
    /// The person may not read the record at all.
    NotReadable,
}

/// Whether a person may read a record's history. Everyone who may read a record reads its
/// history, except that a sheet's history is its inspector's alone, a branch's mutual
/// evaluation marks its secretary's alone (managers read the aggregate, never who gave what),
/// and a report's (the server's results, which change sheet by sheet) is nobody's.
pub fn may_see_history(user: &Actor, id: &DocId) -> Result<(), Hidden> {
    match id {
        // Their own sheet, on another branch's patrol too.
        DocId::Sheet { inspector, .. } if *inspector == user.user => Ok(()),
        DocId::Sheet { .. } => Err(Hidden::OthersSheet),
        DocId::Evaluation { branch, .. }
            if !(user.branch == *branch && user.has(crate::Role::Secretary)) =>
        {
            Err(Hidden::Marks)
        }
        DocId::Report { .. } => Err(Hidden::Results),
        _ if crate::protocol::may_read(user, id) => Ok(()),
        _ => Err(Hidden::NotReadable),
    }
}

/// A record's history, oldest first: its latest [`ENTRIES`] changes, each with what it set.
/// Changes made at the same moment by different people are both listed, in the order the
/// document applies them.
pub fn history(doc: &Automerge, id: &DocId) -> History {
    let genesis = genesis_actor(id);
    let server = server_actor();
    let metas = doc.get_changes_meta(&[]);
    let older = metas.len().saturating_sub(ENTRIES);
    let entries = metas
        .iter()
        .skip(older)
        .map(|m| {
            let (changed, more) = changes(doc, &m.deps, &[m.hash]);
            Entry {
                hash: m.hash.to_string(),
                actor: m.actor.to_hex_string(),
                at: m.timestamp.saturating_mul(1000),
                genesis: *m.actor == genesis,
                server: *m.actor == server,
                changed,
                more,
            }
        })
        .collect();
    History { entries, older }
}

/// What the changes from `base` to `heads` set, field by field: each field once, with its
/// value at `heads` (a text typed in many keystrokes is one field); at most [`DESCRIBED`]
/// fields, with how many more there are.
pub fn changes(
    doc: &Automerge,
    base: &[ChangeHash],
    heads: &[ChangeHash],
) -> (Vec<Changed>, usize) {
    let mut out: Vec<Changed> = Vec::new();
    let mut at: HashMap<Vec<String>, usize> = HashMap::new();
    let mut others: HashSet<Vec<String>> = HashSet::new();
    // Photos are told by how many were added and removed, not field by field: a record's photo
    // map (`photos`, `before`, `after`) keyed by hashes nobody reads.
    let mut photos: BTreeMap<Vec<String>, [BTreeSet<String>; 3]> = BTreeMap::new();
    let mut push = |path: Vec<String>, value: Option<String>| {
        let (path, value) = match photo_path(&path) {
            Some((prefix, hash, whole)) => {
                let [added, removed, changed] = photos.entry(prefix.to_vec()).or_default();
                match (whole, value.is_some()) {
                    (true, true) => {
                        added.insert(hash.to_owned());
                    }
                    (true, false) => {
                        added.remove(hash);
                        removed.insert(hash.to_owned());
                    }
                    // A field of a photo (its marks, one day): changed, unless it came with it.
                    (false, _) => {
                        changed.insert(hash.to_owned());
                    }
                }
                (prefix.to_vec(), None)
            }
            None => (path, value),
        };
        if let Some(&i) = at.get(&path) {
            out[i].value = value;
        } else if out.len() < DESCRIBED {
            at.insert(path.clone(), out.len());
            out.push(Changed { path, value });
        } else {
            others.insert(path);
        }
    };
    for patch in doc.diff(base, heads) {
        let mut path: Vec<String> = patch.path.iter().map(|(_, prop)| prop_name(prop)).collect();
        match patch.action {
            PatchAction::PutMap { key, value, .. } => {
                path.push(key);
                match value.0 {
                    Value::Scalar(v) => push(path, Some(scalar_text(&v))),
                    // A photo put whole is a photo added; other objects are told by their fields.
                    Value::Object(_) if photo_path(&path).is_some_and(|(_, _, whole)| whole) => {
                        push(path, Some(String::new()));
                    }
                    Value::Object(_) => {}
                }
            }
            PatchAction::PutSeq { index, value, .. } => {
                if let Value::Scalar(v) = value.0 {
                    path.push((index + 1).to_string());
                    push(path, Some(scalar_text(&v)));
                }
            }
            PatchAction::Insert { index, values, .. } => {
                for (i, (v, _, _)) in values.iter().enumerate() {
                    if let Value::Scalar(v) = v {
                        let mut at = path.clone();
                        at.push((index + i + 1).to_string());
                        push(at, Some(scalar_text(v)));
                    }
                }
            }
            PatchAction::SpliceText { .. } => {
                let text = doc.text_at(&patch.obj, heads).unwrap_or_default();
                push(path, Some(text.chars().take(VALUE_CHARS).collect()));
            }
            PatchAction::DeleteMap { key } => {
                path.push(key);
                push(path, None);
            }
            PatchAction::DeleteSeq { index, .. } => {
                path.push((index + 1).to_string());
                push(path, None);
            }
            PatchAction::Increment { prop, .. } => {
                // The counter's value after the change, not the step.
                let now = match doc.get_at(&patch.obj, prop.clone(), heads) {
                    Ok(Some((Value::Scalar(v), _))) => Some(scalar_text(&v)),
                    _ => None,
                };
                path.push(prop_name(&prop));
                push(path, now);
            }
            _ => {}
        }
    }
    for c in &mut out {
        if let Some([added, removed, changed]) = photos.get(&c.path) {
            let changed = changed.difference(added).count();
            let told: Vec<String> = [("+", added.len()), ("−", removed.len()), ("✎", changed)]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(sign, n)| format!("{sign}{n}"))
                .collect();
            c.value = Some(told.join(" "));
        }
    }
    (out, others.len())
}

/// A path into a record's photo map: the map's path, the photo's hash, and whether the path
/// is the photo itself (not one of its fields).
fn photo_path(path: &[String]) -> Option<(&[String], &str, bool)> {
    let at = path
        .iter()
        .position(|k| matches!(k.as_str(), "photos" | "before" | "after"))?;
    let hash = path.get(at + 1)?;
    let is_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    is_hash.then_some((&path[..=at], hash.as_str(), path.len() == at + 2))
}

fn prop_name(prop: &Prop) -> String {
    match prop {
        Prop::Map(key) => key.clone(),
        Prop::Seq(i) => (i + 1).to_string(),
    }
}

fn scalar_text(v: &ScalarValue) -> String {
    let text = match v {
        ScalarValue::Str(s) => s.to_string(),
        ScalarValue::Boolean(b) => if *b { "✓" } else { "✗" }.to_owned(),
        ScalarValue::Null => "—".to_owned(),
        ScalarValue::Counter(c) => i64::from(c).to_string(),
        other => other.to_string(),
    };
    text.chars().take(VALUE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use crate::docs::{Problem, genesis};
    use automerge::transaction::CommitOptions;
    use automerge::{ActorId, AutoCommit, ObjType, ROOT, transaction::Transactable};

    fn edit(doc: &mut AutoCommit, actor: u8, at_s: i64, f: impl FnOnce(&mut AutoCommit)) {
        doc.set_actor(ActorId::from(vec![actor; 16]));
        f(doc);
        doc.commit_with(CommitOptions::default().with_time(at_s));
    }

    #[test]
    fn each_change_says_who_when_and_what_it_set() {
        let id: DocId = "problem:b1:p1".parse().expect("an id");
        let mut doc = genesis::<Problem>(&id).expect("writes");
        edit(&mut doc, 1, 1_800_000_000, |d| {
            d.put(ROOT, "finding", "顶板漏水").expect("writes");
            d.put(ROOT, "deadline", "2026-12-10").expect("writes");
        });
        edit(&mut doc, 2, 1_800_000_060, |d| {
            let fixes = d
                .put_object(ROOT, "rectifications", ObjType::List)
                .expect("writes");
            let fix = d.insert_object(&fixes, 0, ObjType::Map).expect("writes");
            d.put(&fix, "measure", "更换支护").expect("writes");
            let photos = d.put_object(&fix, "photos", ObjType::Map).expect("writes");
            for hash in ["a", "b"] {
                let p = d
                    .put_object(&photos, hash.repeat(64), ObjType::Map)
                    .expect("writes");
                d.put(&p, "thumb", "c".repeat(64)).expect("writes");
                d.put(&p, "taken_at", ()).expect("writes");
            }
            d.delete(ROOT, "deadline").expect("writes");
        });
        let h = history(doc.document(), &id);
        assert_eq!(h.older, 0);
        assert_eq!(h.entries.len(), 3);
        assert!(h.entries[0].genesis);
        assert_eq!(h.entries[0].at, 0);
        let first = &h.entries[1];
        assert!(!first.genesis);
        assert_eq!(first.actor, hex::encode([1u8; 16]));
        assert_eq!(first.at, 1_800_000_000_000);
        assert!(first.changed.contains(&Changed {
            path: vec!["finding".into()],
            value: Some("顶板漏水".into()),
        }));
        let second = &h.entries[2];
        assert_eq!(second.actor, hex::encode([2u8; 16]));
        assert!(second.changed.contains(&Changed {
            path: vec!["rectifications".into(), "1".into(), "measure".into()],
            value: Some("更换支护".into()),
        }));
        assert!(second.changed.contains(&Changed {
            path: vec!["deadline".into()],
            value: None,
        }));
        // Two photos are told as two, not field by field.
        assert!(second.changed.contains(&Changed {
            path: vec!["rectifications".into(), "1".into(), "photos".into()],
            value: Some("+2".into()),
        }));
        assert!(!second.changed.iter().any(|c| c.path.len() > 3));
        // The first change's fields are not repeated in the second.
        assert!(!second.changed.iter().any(|c| c.path == ["finding"]));
    }

    #[test]
    fn photos_are_told_by_how_many_were_added_removed_or_changed() {
        let id: DocId = "problem:b1:p1".parse().expect("an id");
        let mut doc = genesis::<Problem>(&id).expect("writes");
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        doc.set_actor(ActorId::from(vec![1; 16]));
        let photos = doc
            .put_object(ROOT, "photos", ObjType::Map)
            .expect("writes");
        let pa = doc.put_object(&photos, &a, ObjType::Map).expect("writes");
        doc.put(&pa, "thumb", "c".repeat(64)).expect("writes");
        doc.commit_with(CommitOptions::default().with_time(1));
        let pb = doc.put_object(&photos, &b, ObjType::Map).expect("writes");
        doc.put(&pb, "thumb", "d".repeat(64)).expect("writes");
        doc.put(&pa, "thumb", "e".repeat(64)).expect("writes");
        doc.delete(&photos, &a).expect("writes");
        doc.commit_with(CommitOptions::default().with_time(2));
        let p2 = doc.put_object(&photos, &a, ObjType::Map).expect("writes");
        doc.put(&p2, "thumb", "c".repeat(64)).expect("writes");
        doc.commit_with(CommitOptions::default().with_time(3));
        doc.put(&pb, "thumb", "f".repeat(64)).expect("writes");
        doc.commit_with(CommitOptions::default().with_time(4));
        let told: Vec<Option<String>> = history(doc.document(), &id)
            .entries
            .iter()
            .skip(1)
            .map(|e| {
                assert_eq!(e.changed.len(), 1, "{e:?}");
                assert_eq!(e.changed[0].path, ["photos"]);
                e.changed[0].value.clone()
            })
            .collect();
        let said = |s: &str| Some(s.to_owned());
        assert_eq!(told, [said("+1"), said("+1 −1"), said("+1"), said("✎1")]);
    }

    #[test]
    fn a_long_history_keeps_its_latest_changes_and_counts_the_rest() {
        let id: DocId = "problem:b1:p1".parse().expect("an id");
        let mut doc = genesis::<Problem>(&id).expect("writes");
        for i in 0..(ENTRIES + 5) {
            edit(&mut doc, 1, 1_800_000_000 + i as i64, |d| {
                d.put(ROOT, "finding", format!("第{i}次")).expect("writes");
            });
        }
        let h = history(doc.document(), &id);
        assert_eq!(h.entries.len(), ENTRIES);
        assert_eq!(h.older, 6);
        let last = h.entries.last().expect("an entry");
        assert_eq!(last.changed[0].value.as_deref(), Some("第104次"));
    }

    #[test]
    fn a_sheets_history_is_its_inspectors_alone_and_results_have_none() {
        let sheet: DocId = "sheet:b1:w1:zhao".parse().expect("an id");
        let zhao = Actor::new("zhao", Role::Inspector, "b1");
        let qian = Actor::new("qian", Role::Inspector, "b1");
        let manager = Actor::new("mgr", Role::Manager, "hq");
        assert_eq!(may_see_history(&zhao, &sheet), Ok(()));
        assert_eq!(may_see_history(&qian, &sheet), Err(Hidden::OthersSheet));
        assert_eq!(may_see_history(&manager, &sheet), Err(Hidden::OthersSheet));
        let report: DocId = DocId::Report {
            branch: "b1".into(),
            period: "2026-W47".parse().expect("an id"),
        };
        assert_eq!(may_see_history(&manager, &report), Err(Hidden::Results));
        let problem: DocId = "problem:b1:p1".parse().expect("an id");
        assert_eq!(may_see_history(&qian, &problem), Ok(()));
        assert_eq!(may_see_history(&manager, &problem), Ok(()));
        let marks: DocId = "evaluation:b1:2026-Q4".parse().expect("an id");
        let secretary = Actor::new("wang", Role::Secretary, "b1");
        assert_eq!(may_see_history(&secretary, &marks), Ok(()));
        assert_eq!(may_see_history(&manager, &marks), Err(Hidden::Marks));
        let elsewhere = Actor::new("li", Role::Secretary, "b2");
        assert_eq!(
            may_see_history(&elsewhere, &problem),
            Err(Hidden::NotReadable)
        );
    }
}
