//! The storage conformance suite (`zonepatrol_server::store::conformance`) against the sled
//! engine, on real sled files; a second engine runs the same suite.

zonepatrol_server::storage_conformance!(|dir: &std::path::Path| {
    zonepatrol_server::store::SledStore::open(dir).expect("the sled store opens")
});
