//! `zonepatrol`: the field app's entry point.

/// The device core on the platform's data directory (see `platform`).
#[cfg(any(feature = "desktop", feature = "mobile"))]
fn services() -> Result<zonepatrol_app::ui::Services, String> {
    use std::sync::Arc;
    let dir = zonepatrol_app::platform::data_dir()?;
    zonepatrol_app::sync::install_crypto();
    let repo = Arc::new(
        zonepatrol_app::store::Repo::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?,
    );
    let client = zonepatrol_app::sync::SyncClient::new(repo.clone()).map_err(|e| e.to_string())?;
    Ok(zonepatrol_app::ui::Services {
        repo,
        client: Arc::new(client),
        wake: Arc::new(tokio::sync::Notify::new()),
    })
}

#[cfg(feature = "desktop")]
fn main() {
    use dioxus::desktop::{Config, LogicalSize, WindowBuilder};
    let services = match services() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", zonepatrol_app::TITLE_ZH);
            std::process::exit(1);
        }
    };
    // A phone-sized window: the app is made for phones, the desktop build is for development
    // and the end-to-end test.
    let window = WindowBuilder::new()
        .with_title(zonepatrol_app::TITLE_ZH)
        .with_inner_size(LogicalSize::new(400.0, 850.0))
        .with_resizable(true);
    let config = Config::new().with_window(window).with_menu(None);
    let launch = dioxus::LaunchBuilder::desktop()
        .with_cfg(config)
        .with_context(services);
    #[cfg(feature = "e2e")]
    if let Some(scenario) = zonepatrol_app::e2e::Scenario::from_env() {
        let scenario = scenario.unwrap_or_else(|e| {
            eprintln!("e2e: {e}");
            std::process::exit(2);
        });
        launch
            .with_context(scenario)
            .launch(zonepatrol_app::e2e::Root);
        return;
    }
    launch.launch(zonepatrol_app::App);
}

#[cfg(all(feature = "mobile", not(feature = "desktop")))]
fn main() {
    // Without its store the app shows only its title, so say why in the log.
    let launch = dioxus::LaunchBuilder::mobile();
    match services() {
        Ok(services) => launch.with_context(services).launch(zonepatrol_app::App),
        Err(e) => {
            eprintln!("{}: {e}", zonepatrol_app::TITLE_ZH);
            launch.launch(zonepatrol_app::App);
        }
    }
}

#[cfg(not(any(feature = "desktop", feature = "mobile")))]
fn main() {
    eprintln!(
        "{}: this build has no platform; run `cargo run -p zonepatrol-app --features desktop`",
        zonepatrol_app::TITLE_ZH
    );
    std::process::exit(2);
}
