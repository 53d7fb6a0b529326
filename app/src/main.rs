//! `zonepatrol`: the field app's entry point.

#[cfg(any(feature = "desktop", feature = "mobile"))]
fn main() {
    dioxus::launch(zonepatrol_app::App);
}

#[cfg(not(any(feature = "desktop", feature = "mobile")))]
fn main() {
    eprintln!(
        "{}: this build has no platform; run `cargo run -p zonepatrol-app --features desktop`",
        zonepatrol_app::TITLE_ZH
    );
    std::process::exit(2);
}
