//! A photo taken on a phone, from camera bytes to the server: processed on the device, kept in
//! its store, referred to by a problem, and sent once over real HTTP with its thumbnail.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use zonepatrol_app::photo::{self, PhotoSettings};
use zonepatrol_shared::docs::Problem;

use crate::support::{Device, TestServer, http, id, raise};

const UPRIGHT: &[u8] = include_bytes!("../../fixtures/photos/phone-12mp-orient6.jpg");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_on_a_problem_reaches_the_server_once_with_its_thumbnail() {
    let server = TestServer::start().await;
    let sec = Device::new(&server.url, "sec").await;
    let holder = Device::new(&server.url, "h1").await;

    let record = photo::import(
        Arc::clone(&sec.repo),
        UPRIGHT.to_vec(),
        PhotoSettings::default(),
    )
    .await
    .expect("photo added");
    assert_eq!((record.width, record.height), (1200, 1600));
    raise(&sec, "problem:zcyd:photo1", "sec", "z1", "h1");
    sec.repo
        .edit::<Problem, _>(&id("problem:zcyd:photo1"), |p| {
            p.finding
                .photos
                .insert(record.hash.clone(), record.reference());
        })
        .expect("saved");

    let first = sec.sync().await;
    assert_eq!(first.blobs_up, 2, "the photo and its thumbnail");
    assert!(sec.repo.outbox().expect("outbox").is_empty());
    let again = sec.sync().await;
    assert_eq!(again.blobs_up, 0, "each photo is sent once");

    // The server holds exactly the bytes the phone made, for the holder to fetch.
    holder.sync().await;
    let problem: Problem = holder
        .repo
        .read(&id("problem:zcyd:photo1"))
        .expect("read")
        .expect("the holder has the problem");
    let reference = problem.finding.photos.get(&record.hash).expect("photo ref");
    assert_eq!(reference.thumb, record.thumb);
    let token = holder
        .repo
        .session()
        .expect("session")
        .expect("signed in")
        .token;
    for hash in [&record.hash, &record.thumb] {
        let response = http()
            .get(format!("{}/v1/blobs/{hash}", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("fetch");
        assert!(response.status().is_success(), "{}", response.status());
        let bytes = response.bytes().await.expect("body");
        assert_eq!(&hex::encode(Sha256::digest(&bytes)), hash);
        assert_eq!(
            bytes.as_ref(),
            std::fs::read(sec.repo.blob_path(hash))
                .expect("kept")
                .as_slice()
        );
    }
    server.stop().await;
}
