//! What the crates may and may not depend on, read from `cargo tree`.

use std::process::Command;

/// The normal (non-dev) dependencies of a package, one name per line.
fn tree(args: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree", "--edges", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn check_absent(crates: &[String], forbidden: &[&str], what: &str) {
    assert!(
        crates.len() > 3,
        "{what}: cargo tree listed too little: {crates:?}"
    );
    for name in forbidden {
        assert!(
            !crates.iter().any(|c| c == name),
            "{what} depends on {name}"
        );
    }
}

#[test]
fn shared_does_no_io() {
    let crates = tree(&["-p", "zonepatrol-shared"]);
    assert!(crates.iter().any(|c| c == "automerge"), "{crates:?}");
    check_absent(
        &crates,
        &["tokio", "sled", "reqwest", "axum", "hyper", "mio"],
        "zonepatrol-shared",
    );
}

#[test]
fn the_app_has_no_openssl_on_android() {
    for features in ["", "mobile"] {
        let mut args = vec!["-p", "zonepatrol-app", "--target", "aarch64-linux-android"];
        if !features.is_empty() {
            args.extend(["--features", features]);
        }
        let crates = tree(&args);
        check_absent(
            &crates,
            &["openssl", "openssl-sys", "native-tls"],
            "zonepatrol-app for Android",
        );
    }
}
