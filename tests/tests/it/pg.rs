//! The PostgreSQL engine against a real PostgreSQL server: the storage conformance suite, and
//! what only a shared database shows. The server is given by `ZONEPATROL_TEST_POSTGRES` (a
//! `postgres://` URL of a role that may create schemas; `scripts/pg-cluster` starts a
//! throwaway one). Without it these tests say SKIPPED and pass, unless
//! `ZONEPATROL_REQUIRE_POSTGRES` is set (CI sets it), when they fail.

use std::path::Path;

use sha2::Digest;

/// The test server's URL, or `None` (said once per test) when there is none.
pub fn url() -> Option<String> {
    match std::env::var("ZONEPATROL_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("ZONEPATROL_REQUIRE_POSTGRES").is_none(),
                "ZONEPATROL_REQUIRE_POSTGRES is set but ZONEPATROL_TEST_POSTGRES is not: \
                 start a server with scripts/pg-cluster"
            );
            eprintln!("SKIPPED: no PostgreSQL (set ZONEPATROL_TEST_POSTGRES, see scripts/pg-cluster)");
            None
        }
    }
}

/// A schema of its own for a directory (the same directory, the same schema: a reopened
/// engine finds what it wrote), made if missing; the URL that puts the engine in it.
pub fn schema_url(url: &str, dir: &Path) -> String {
    let digest = sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let schema = format!("zp_test_{}", hex::encode(&digest[..10]));
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("the test database");
    client
        .batch_execute(&format!("create schema if not exists {schema}"))
        .expect("a schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

mod conformance {
    zonepatrol_server::storage_conformance!(
        |dir: &std::path::Path| {
            let url = super::schema_url(&super::url().expect("checked"), dir);
            zonepatrol_server::store::PgStore::open(&url, 4).expect("the PostgreSQL store opens")
        },
        || super::url().is_some()
    );
}
