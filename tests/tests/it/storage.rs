//! The storage conformance suite (`zonepatrol_server::store::conformance`) against the sled
//! engine, on real sled files; a second engine runs the same suite.

zonepatrol_server::storage_conformance!(|dir: &std::path::Path| {
    // Reopened right after a drop, sled's flusher thread may hold the file lock a moment
    // longer: a busy machine waits for it, as the server's own start does.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match zonepatrol_server::store::SledStore::open(dir) {
            Ok(store) => break store,
            Err(e)
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("the sled store opens: {e}"),
        }
    }
});
