//! The command line: `serve`, `demo`, `user add`, `figures`. `main.rs` only calls [`main`].

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zonepatrol_shared::Role;

use crate::admin::inbox;
use crate::store::{SledStore, StoreError};
use crate::{Settings, auth, demo, launch, seed};

#[derive(Debug, Parser)]
#[command(
    name = "zonepatrol-server",
    version,
    about = "The Zone Patrol sync server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "ZONEPATROL_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The data directory (store and photos).
    #[arg(long, env = "ZONEPATROL_DATA", default_value = "zonepatrol-data")]
    data: PathBuf,
    /// The mine's time zone (IANA name): days, weeks and months are reckoned in it, on the
    /// server and on the phones.
    #[arg(long, env = "ZONEPATROL_TIME_ZONE", default_value = "Asia/Shanghai")]
    time_zone: chrono_tz::Tz,
    /// With `demo`: seed only the accounts and directories, without the living history
    /// (scripted runs that start from a bare mine).
    #[arg(long)]
    no_history: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve devices and managers.
    Serve(ServeArgs),
    /// Serve the demo mine, seeding its accounts and directories on first start.
    Demo(ServeArgs),
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the demo mine's weekly ranking and monthly money, computed with the shared rules.
    Figures,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user, or replace one of the same name (its sign-ins end). The password is read
    /// from the ZONEPATROL_PASSWORD environment variable or, if unset, from the first line of
    /// stdin. Works whether or not a server is running on the data directory.
    Add {
        /// The data directory.
        #[arg(long, env = "ZONEPATROL_DATA", default_value = "zonepatrol-data")]
        data: PathBuf,
        /// The login name.
        #[arg(long)]
        name: String,
        /// secretary, inspector, zone_holder, team_leader, manager or admin; repeat it for a
        /// person with several roles (the first is the main one).
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// The branch id.
        #[arg(long)]
        branch: String,
    },
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "zonepatrol_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zonepatrol-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args, false),
        Command::Demo(args) => serve(args, true),
        Command::User {
            command:
                UserCommand::Add {
                    data,
                    name,
                    roles,
                    branch,
                },
        } => {
            let password = match std::env::var("ZONEPATROL_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let roles_text = roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            match SledStore::open(&data.join("store")) {
                Ok(store) => {
                    auth::add_user(
                        &store,
                        &name,
                        &password,
                        &roles,
                        &branch,
                        crate::now_millis(),
                    )?;
                    println!("user {name} ({roles_text}, branch {branch}) saved");
                    Ok(())
                }
                Err(StoreError::Engine(sled::Error::Io(e)))
                    if e.to_string().contains("could not acquire lock") =>
                {
                    // A server runs on this directory: hand it the request.
                    auth::check_new_account(&name, &password, &branch)?;
                    let request = inbox::AccountRequest {
                        user: name.clone(),
                        roles,
                        branch: branch.clone(),
                        password_hash: auth::hash_password(&password)?,
                    };
                    match inbox::submit(&data, &request, std::time::Duration::from_secs(15))? {
                        Some(answer) if answer.ok => {
                            println!("{} (through the running server)", answer.message);
                            Ok(())
                        }
                        Some(answer) => {
                            anyhow::bail!("the running server refused: {}", answer.message)
                        }
                        None => anyhow::bail!(
                            "the store in {} is in use, and no server took the request within 15 s: \
                             is another program holding it?",
                            data.display()
                        ),
                    }
                }
                Err(e) => Err(anyhow::anyhow!(
                    "could not open the store in {}: {e}",
                    data.display()
                )),
            }
        }
        Command::Figures => {
            print!("{}", demo::report()?);
            Ok(())
        }
    }
}

fn serve(args: ServeArgs, demo_mine: bool) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr()?;
        let mut settings = Settings::new(&args.data);
        settings.demo = demo_mine;
        settings.demo_history = demo_mine && !args.no_history;
        settings.clock = zonepatrol_shared::rules::MineClock { tz: args.time_zone };
        // The first line names the address, so that scripts and tests can find a port 0.
        println!("listening on http://{addr}");
        if !demo_mine && first_start(&args.data) {
            println!(
                "{}",
                crate::admin::accounts::FIRST_ADMIN_EN
                    .replace("DATA", &args.data.display().to_string())
            );
            println!(
                "{}",
                crate::admin::accounts::FIRST_ADMIN_ZH
                    .replace("DATA", &args.data.display().to_string())
            );
        }
        if demo_mine {
            println!(
                "demo mine in {}: sign in as sec, zhao, h1, mgr or admin (and others, see seed.rs) \
                 with the password “{}”",
                args.data.display(),
                seed::DEMO_PASSWORD
            );
        }
        std::io::stdout().flush()?;
        launch(settings, listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Whether the data directory holds no account yet (checked before the server takes the store).
fn first_start(data: &std::path::Path) -> bool {
    SledStore::open(&data.join("store"))
        .ok()
        .and_then(|s| crate::store::Storage::users(&s).ok())
        .is_some_and(|u| u.is_empty())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
