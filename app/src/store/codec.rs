//! How records sit in sled: keys are a prefix byte, a zero and the name; values are JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// `PREFIX\0ID`.
pub(super) fn key(prefix: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + 3);
    k.push(prefix);
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

/// The key of a document's chunk `n`: `c\0ID\0N`.
pub(super) fn chunk_key(id: &str, n: u32) -> Vec<u8> {
    let mut k = chunk_prefix(id);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// What the keys of all a document's chunks start with: `c\0ID\0`.
pub(super) fn chunk_prefix(id: &str) -> Vec<u8> {
    let mut k = key(b'c', id);
    k.push(0);
    k
}

/// The mark that the server sent a document to a person: `r\0ID\0USER`.
pub(super) fn reader_key(id: &str, user: &str) -> Vec<u8> {
    let mut k = key(b'r', id);
    k.push(0);
    k.extend_from_slice(user.as_bytes());
    k
}

/// The id in a `PREFIX\0ID` key.
pub(super) fn id_of(k: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(k[2..].to_vec()).map_err(|e| damaged(k, e))
}

pub(super) fn damaged(key: &[u8], why: impl ToString) -> StoreError {
    StoreError::Damaged {
        key: String::from_utf8_lossy(key).into_owned(),
        why: why.to_string(),
    }
}

pub(super) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| damaged(key, e))
}

/// Every record of a tree, in key order.
pub(super) fn decode_all<T: DeserializeOwned>(tree: &sled::Tree) -> Result<Vec<T>, StoreError> {
    tree.iter()
        .map(|kv| {
            let (k, v) = kv?;
            decode(&k, &v)
        })
        .collect()
}

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our own plain records always serialize.
    serde_json::to_vec(value).unwrap_or_default()
}
