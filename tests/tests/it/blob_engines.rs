//! The blob seam's two engines — files beside the embedded store, tables beside PostgreSQL —
//! held to the same behaviour: stored photos, uploads continued from where they stopped, an
//! upload that declares another length starting over, a body past its length cut back, a
//! hash mismatch dropped, each user's uploads bounded, stale uploads and orphan photos
//! removed.

use std::time::Duration;

use sha2::Digest;
use zonepatrol_server::blobs::{BlobFiles, Blobs};

fn hash(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn upload(blobs: &dyn Blobs, user: &str, bytes: &[u8], from: usize, to: usize, max: usize) {
    let mut up = blobs
        .begin(user, &hash(bytes), bytes.len() as u64, max)
        .expect("begin");
    // In pieces smaller and larger than an engine's part.
    for piece in bytes[from..to].chunks(100_000) {
        up.write(piece).expect("write");
    }
    up.sync().expect("sync");
}

/// What every engine must do.
fn behaves(blobs: &dyn Blobs) {
    let photo: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let h = hash(&photo);
    assert!(!blobs.has(&h));
    assert_eq!(blobs.partial_len("zhao", &h).expect("len"), 0);
    assert_eq!(blobs.declared_len("zhao", &h).expect("declared"), None);

    // Half, then the rest, then finished: stored under its hash.
    upload(blobs, "zhao", &photo, 0, 300_000, 16);
    assert_eq!(blobs.partial_len("zhao", &h).expect("len"), 300_000);
    assert_eq!(
        blobs.declared_len("zhao", &h).expect("declared"),
        Some(photo.len() as u64)
    );
    assert_eq!(blobs.partial_len("qian", &h).expect("another's"), 0);
    upload(blobs, "zhao", &photo, 300_000, photo.len(), 16);
    assert!(
        blobs.finish("zhao", &h).expect("finish"),
        "the hash matches"
    );
    assert!(blobs.has(&h));
    assert_eq!(blobs.size(&h).expect("size"), Some(photo.len() as u64));
    let read = blobs
        .read(&h)
        .expect("read")
        .expect("stored")
        .into_bytes()
        .expect("bytes");
    assert_eq!(read, photo);
    assert_eq!(blobs.partial_len("zhao", &h).expect("gone"), 0);
    assert_eq!(blobs.declared_len("zhao", &h).expect("gone"), None);

    // A whole blob in one request, stored at once where the engine holds it whole; bytes
    // that are not their name dropped either way.
    let small = b"a thumbnail, sent whole".to_vec();
    for (bytes, name, stored) in [
        (small.clone(), hash(&small), true),
        (b"other bytes".to_vec(), hash(b"not these"), false),
    ] {
        let mut up = blobs
            .begin("wu", &name, bytes.len() as u64, 16)
            .expect("begin");
        up.write(&bytes).expect("write");
        let matched = match up.complete(&name).expect("complete") {
            Some(matched) => matched,
            None => {
                up.sync().expect("sync");
                drop(up);
                blobs.finish("wu", &name).expect("finish")
            }
        };
        assert_eq!(matched, stored);
        assert_eq!(blobs.has(&name), stored);
        assert_eq!(blobs.partial_len("wu", &name).expect("len"), 0);
        assert_eq!(blobs.declared_len("wu", &name).expect("declared"), None);
    }

    // A body cut back into the middle of what arrived (past a part's start), then finished.
    let big: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    let b = hash(&big);
    upload(blobs, "li", &big, 0, big.len(), 16);
    blobs.truncate("li", &b, 450_000).expect("truncate");
    assert_eq!(blobs.partial_len("li", &b).expect("len"), 450_000);
    upload(blobs, "li", &big, 450_000, big.len(), 16);
    assert!(blobs.finish("li", &b).expect("finish"));
    let read = blobs.read(&b).expect("read").expect("stored");
    assert_eq!(read.into_bytes().expect("bytes"), big);

    // What a request wrote is kept when it ends without its sync (a request dropped).
    {
        let mut up = blobs
            .begin("zhou", &b, big.len() as u64, 16)
            .expect("begin");
        up.write(&big[..1000]).expect("write");
    }
    assert_eq!(blobs.partial_len("zhou", &b).expect("len"), 1000);
    blobs.remove("zhou", &b).expect("remove");
    assert_eq!(blobs.partial_len("zhou", &b).expect("len"), 0);

    // Another length declared: the upload starts over.
    let other: Vec<u8> = (0..50_000u32).map(|i| (i % 13) as u8).collect();
    let o = hash(&other);
    upload(blobs, "qian", &other, 0, 20_000, 16);
    let restarted = blobs.begin("qian", &o, 60_000, 16).expect("begin");
    drop(restarted);
    assert_eq!(
        blobs.partial_len("qian", &o).expect("len"),
        0,
        "started over"
    );

    // A body past its length is cut back; bytes that do not hash to the name are dropped.
    upload(blobs, "qian", &other, 0, 30_000, 16);
    blobs.truncate("qian", &o, 25_000).expect("truncate");
    assert_eq!(blobs.partial_len("qian", &o).expect("len"), 25_000);
    let mut wrong = blobs
        .begin("qian", &o, other.len() as u64, 16)
        .expect("begin");
    wrong
        .write(&vec![0u8; other.len() - 25_000])
        .expect("write");
    wrong.sync().expect("sync");
    drop(wrong);
    assert!(!blobs.finish("qian", &o).expect("finish"), "a mismatch");
    assert!(!blobs.has(&o));
    assert_eq!(blobs.partial_len("qian", &o).expect("dropped"), 0);

    // A user keeps at most so many unfinished uploads: the oldest goes.
    let pieces: Vec<Vec<u8>> = (0..3u8).map(|n| vec![n; 1000]).collect();
    for piece in &pieces {
        upload(blobs, "sun", piece, 0, 500, 2);
        // Apart by more than the file system's clock step (a jiffy) and a millisecond.
        std::thread::sleep(Duration::from_millis(50));
    }
    let held: Vec<u64> = pieces
        .iter()
        .map(|p| blobs.partial_len("sun", &hash(p)).expect("len"))
        .collect();
    assert_eq!(held, [0, 500, 500], "the oldest of three went");

    // Stale uploads go; a held photo stays, an orphan goes once old enough.
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        blobs
            .remove_stale(Duration::from_millis(10))
            .expect("stale")
            >= 2
    );
    assert_eq!(blobs.partial_len("sun", &hash(&pieces[2])).expect("len"), 0);
    let orphan = b"an orphan".to_vec();
    blobs.put(&hash(&orphan), &orphan).expect("put");
    assert_eq!(
        blobs
            .remove_orphans(Duration::from_secs(3600), &|_| false)
            .expect("young"),
        0,
        "nothing younger than the keep goes"
    );
    std::thread::sleep(Duration::from_millis(20));
    let keep = h.clone();
    let removed = blobs
        .remove_orphans(Duration::from_millis(10), &|x| x == keep)
        .expect("orphans");
    assert_eq!(
        removed, 3,
        "the orphan, the cut-back photo and the thumbnail"
    );
    assert!(blobs.has(&h) && !blobs.has(&hash(&orphan)) && !blobs.has(&b));
}

#[test]
fn blob_files_behave() {
    let dir = tempfile::tempdir().expect("dir");
    behaves(&BlobFiles::open(dir.path()).expect("open"));
}

#[test]
fn blobs_in_postgresql_behave() {
    let Some(url) = crate::pg::url() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let db = crate::pg::schema_url(&url, dir.path());
    let store = std::sync::Arc::new(
        zonepatrol_server::store::PgStore::open(&db, 4).expect("the PostgreSQL store"),
    );
    let blobs = zonepatrol_server::store::PgBlobs::new(store);
    behaves(&blobs);

    // A photo sent whole is stored by the upload itself, never written down as one.
    let photo = b"a photo sent whole".to_vec();
    let mut up = blobs
        .begin("wang", &hash(&photo), photo.len() as u64, 16)
        .expect("begin");
    assert_eq!(up.at(), 0);
    up.write(&photo).expect("write");
    assert_eq!(up.complete(&hash(&photo)).expect("complete"), Some(true));
    drop(up);
    assert!(blobs.has(&hash(&photo)));
    assert_eq!(
        blobs.declared_len("wang", &hash(&photo)).expect("declared"),
        None
    );

    // Two requests of one upload at once (a phone retrying on another instance): the later
    // writer is refused, never interleaved, and nothing acknowledged is lost.
    let big: Vec<u8> = (0..2_500_000u32).map(|i| (i % 239) as u8).collect();
    let b = hash(&big);
    let mut first = blobs
        .begin("wang", &b, big.len() as u64, 16)
        .expect("begin");
    let mut second = blobs
        .begin("wang", &b, big.len() as u64, 16)
        .expect("begin");
    first.write(&big[..1_200_000]).expect("first writes a part");
    let refused = second
        .write(&big[..1_200_000])
        .expect_err("the second, begun at the same place, is refused");
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::WouldBlock,
        "told apart from a failure (the route answers it 409): {refused}"
    );
    drop(second);
    first.sync().expect("sync");
    drop(first);
    assert_eq!(blobs.partial_len("wang", &b).expect("held"), 1_200_000);

    // A large blob is read a piece at a time, whole and in order.
    blobs.put(&b, &big).expect("put");
    let body = blobs.read(&b).expect("read").expect("stored");
    assert!(
        matches!(body, zonepatrol_server::blobs::BlobBody::Pieces(..)),
        "{body:?}"
    );
    assert_eq!(body.into_bytes().expect("bytes"), big);

    // Photo files an earlier version kept beside the database are taken in, once each.
    let files = dir.path().join("old-blobs");
    std::fs::create_dir_all(&files).expect("dir");
    let photo = b"a photo an earlier version kept".to_vec();
    std::fs::write(files.join(hash(&photo)), &photo).expect("write");
    std::fs::write(files.join(hash(b"other bytes")), b"not those bytes").expect("write");
    std::fs::write(files.join("notes.txt"), b"not a photo").expect("write");
    assert_eq!(blobs.take_in(&files).expect("take in"), 1);
    assert!(blobs.has(&hash(&photo)));
    assert!(
        !blobs.has(&hash(b"other bytes")),
        "a file that is not its name stays out"
    );
    assert_eq!(blobs.take_in(&files).expect("again"), 0);
}
