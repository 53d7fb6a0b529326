//! Taking one refused edit apart from the others. The server judges a push whole, so one bad
//! edit among a week's edits of a record would take the good ones down with it. When a push of
//! several edits is refused, each edit becomes a unit on probation: what it changed (the
//! fields, found from the automerge history) and the record as it stood after it. One unit at
//! a time is re-made as a fresh edit of the record as the server has it — its fields copied
//! over — and sent alone; the server accepts it, or refuses that edit alone, which then waits
//! in the quarantine like any refused edit.

use automerge::{
    AutoCommit, ObjId, ObjType, PatchAction, Prop, ROOT, ReadDoc, Value, transaction::Transactable,
};

/// A key on the way to a changed field.
pub(super) type FieldPath = Vec<String>;

/// The fields the changes from `before` to `after` changed: the map keys from the root to
/// each (a change inside a text names the text). `None` when they change a list: a list can
/// only be copied whole, which would drop what others added to it.
pub(super) fn changed_paths(
    doc: &mut AutoCommit,
    before: &[automerge::ChangeHash],
    after: &[automerge::ChangeHash],
) -> Option<Vec<FieldPath>> {
    let mut out: Vec<FieldPath> = Vec::new();
    for patch in doc.diff(before, after) {
        if matches!(
            patch.action,
            PatchAction::Insert { .. } | PatchAction::PutSeq { .. } | PatchAction::DeleteSeq { .. }
        ) {
            return None;
        }
        let mut path = Vec::new();
        for (_, prop) in &patch.path {
            match prop {
                Prop::Map(key) => path.push(key.clone()),
                Prop::Seq(_) => return None,
            }
        }
        match &patch.action {
            PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                path.push(key.clone())
            }
            PatchAction::Increment {
                prop: Prop::Map(key),
                ..
            } => path.push(key.clone()),
            _ => {}
        }
        if path.is_empty() {
            continue;
        }
        // A field inside one already listed is copied with it.
        if out.iter().any(|p| path.starts_with(p)) {
            continue;
        }
        out.retain(|p| !p.starts_with(&path));
        out.push(path);
    }
    Some(out)
}

/// Copies each field from `source` into `target` (creating the maps on the way), or removes it
/// where `source` has none.
pub(super) fn copy_fields(source: &AutoCommit, target: &mut AutoCommit, paths: &[FieldPath]) {
    for path in paths {
        let Some((last, parents)) = path.split_last() else {
            continue;
        };
        let mut src = Some(ROOT);
        let mut dst = ROOT;
        let mut ok = true;
        for key in parents {
            src = src.and_then(|o| match source.get(&o, key.as_str()) {
                Ok(Some((Value::Object(ObjType::Map | ObjType::Table), id))) => Some(id),
                _ => None,
            });
            match object_at(target, &dst, key, ObjType::Map) {
                Some(id) => dst = id,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        match src {
            Some(src) => copy_value(source, &src, last, target, &dst),
            None => {
                let _ = target.delete(&dst, last.as_str());
            }
        }
    }
}

/// The object of type `kind` at `key` of map `dst` (a map may be a table), made there if
/// something else (or nothing) is there; `None` if it cannot be made.
fn object_at(target: &mut AutoCommit, dst: &ObjId, key: &str, kind: ObjType) -> Option<ObjId> {
    match target.get(dst, key) {
        Ok(Some((Value::Object(found), id)))
            if found == kind || (kind == ObjType::Map && found == ObjType::Table) =>
        {
            Some(id)
        }
        _ => target.put_object(dst, key, kind).ok(),
    }
}

/// Copies every key of map `src` into map `dst`.
fn copy_keys(source: &AutoCommit, src: &ObjId, target: &mut AutoCommit, dst: &ObjId) {
    let keys: Vec<String> = source.keys(src).collect();
    for k in keys {
        copy_value(source, src, &k, target, dst);
    }
}

/// Copies `key` of map `src` into map `dst`.
fn copy_value(source: &AutoCommit, src: &ObjId, key: &str, target: &mut AutoCommit, dst: &ObjId) {
    match source.get(src, key) {
        Ok(Some((Value::Scalar(v), _))) => {
            let _ = target.put(dst, key, v.into_owned());
        }
        Ok(Some((Value::Object(ObjType::Text), id))) => {
            if let Some(t) = object_at(target, dst, key, ObjType::Text) {
                let _ = target.update_text(&t, source.text(&id).unwrap_or_default());
            }
        }
        Ok(Some((Value::Object(ObjType::Map | ObjType::Table), id))) => {
            if let Some(m) = object_at(target, dst, key, ObjType::Map) {
                copy_keys(source, &id, target, &m);
            }
        }
        Ok(Some((Value::Object(ObjType::List), id))) => {
            let Ok(list) = target.put_object(dst, key, ObjType::List) else {
                return;
            };
            copy_list(source, &id, target, &list);
        }
        _ => {
            let _ = target.delete(dst, key);
        }
    }
}

/// Copies a list's items into an empty list.
fn copy_list(source: &AutoCommit, src: &ObjId, target: &mut AutoCommit, dst: &ObjId) {
    for i in 0..source.length(src) {
        match source.get(src, i) {
            Ok(Some((Value::Scalar(v), _))) => {
                let _ = target.insert(dst, i, v.into_owned());
            }
            Ok(Some((Value::Object(ObjType::Text), id))) => {
                if let Ok(t) = target.insert_object(dst, i, ObjType::Text) {
                    let _ = target.update_text(&t, source.text(&id).unwrap_or_default());
                }
            }
            Ok(Some((Value::Object(ObjType::List), id))) => {
                if let Ok(l) = target.insert_object(dst, i, ObjType::List) {
                    copy_list(source, &id, target, &l);
                }
            }
            Ok(Some((Value::Object(_), id))) => {
                if let Ok(m) = target.insert_object(dst, i, ObjType::Map) {
                    copy_keys(source, &id, target, &m);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_re_made_on_another_state_from_its_fields() {
        // The record as the server has it.
        let mut base = AutoCommit::new();
        let zones = base.put_object(ROOT, "zones", ObjType::Map).expect("zones");
        let z1 = base.put_object(&zones, "z1", ObjType::Map).expect("z1");
        base.put(&z1, "score", 90_i64).expect("score");
        base.commit();
        let base_heads = base.get_heads();
        // Two edits on the phone: one changes z1's score, the next adds z2 with a text.
        let mut local = base.fork();
        local.put(&z1, "score", 80_i64).expect("edit 1");
        local.commit();
        let after_one = local.get_heads();
        let z2 = local.put_object(&zones, "z2", ObjType::Map).expect("z2");
        let note = local.put_object(&z2, "note", ObjType::Text).expect("note");
        local.splice_text(&note, 0, 0, "电缆已整改").expect("type");
        local.put(&z2, "score", 95_i64).expect("score");
        local.commit();
        let after_two = local.get_heads();

        assert_eq!(
            changed_paths(&mut local, &base_heads, &after_one).expect("no list"),
            vec![vec![
                "zones".to_owned(),
                "z1".to_owned(),
                "score".to_owned()
            ]]
        );
        let second = changed_paths(&mut local, &after_one, &after_two).expect("no list");
        assert_eq!(second, vec![vec!["zones".to_owned(), "z2".to_owned()]]);

        // The second edit alone, re-made on the server's state: z2 comes, z1 stays 90.
        let source = local.fork_at(&after_two).expect("after the second");
        let mut target = base.fork();
        copy_fields(&source, &mut target, &second);
        target.commit();
        let get = |doc: &AutoCommit, path: &[&str]| -> Option<String> {
            let mut obj = ROOT;
            for key in &path[..path.len() - 1] {
                obj = match doc.get(&obj, *key).ok()?? {
                    (Value::Object(_), id) => id,
                    _ => return None,
                };
            }
            match doc.get(&obj, path[path.len() - 1]).ok()?? {
                (Value::Scalar(v), _) => Some(v.to_string()),
                (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
                _ => None,
            }
        };
        assert_eq!(
            get(&target, &["zones", "z1", "score"]).as_deref(),
            Some("90")
        );
        assert_eq!(
            get(&target, &["zones", "z2", "score"]).as_deref(),
            Some("95")
        );
        assert_eq!(
            get(&target, &["zones", "z2", "note"]).as_deref(),
            Some("电缆已整改")
        );
        // Nothing of the first edit came along: the new change depends on the base alone.
        let change = target.get_changes(&base_heads);
        assert_eq!(change.len(), 1);
        assert_eq!(change[0].deps(), base_heads.as_slice());

        // An edit of a list is not taken apart.
        let items = local
            .put_object(ROOT, "items", ObjType::List)
            .expect("list");
        local.commit();
        let before_insert = local.get_heads();
        local.insert(&items, 0, "清理浮煤").expect("insert");
        local.commit();
        let heads = local.get_heads();
        assert_eq!(changed_paths(&mut local, &before_insert, &heads), None);
    }
}
