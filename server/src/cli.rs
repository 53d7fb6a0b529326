//! The command line: `serve`, `demo`, `user add`, `figures`. `main.rs` only calls [`main`].

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use zonepatrol_shared::Role;

use crate::admin::inbox;
use crate::store::{SledStore, Storage, StoreError};
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
    /// How the log is written to stderr: `text` (one line per event) or `json` (one JSON
    /// object per line, for log collectors).
    #[arg(
        long,
        global = true,
        env = "ZONEPATROL_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    /// A TOML file of settings (listen, data, time_zone, tls_cert, tls_key, max_connections,
    /// max_blob_mib, token_days, log_format); flags and environment variables win over it.
    /// `backup` reads the data directory from it too.
    #[arg(long, global = true, env = "ZONEPATROL_CONFIG")]
    config: Option<PathBuf>,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// One line of text per event.
    Text,
    /// One JSON object per line.
    Json,
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
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. SIGHUP reloads both.
    #[arg(long, env = "ZONEPATROL_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "ZONEPATROL_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Connections served at once; more wait in the listen queue.
    #[arg(long, env = "ZONEPATROL_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// The largest photo taken, in MiB.
    #[arg(long, env = "ZONEPATROL_MAX_BLOB_MIB", default_value_t = 25)]
    max_blob_mib: u64,
    /// How many days a sign-in lasts.
    #[arg(long, env = "ZONEPATROL_TOKEN_DAYS", default_value_t = 30)]
    token_days: u64,
    /// Check the settings, print them (secrets hidden) and exit: 0 when they would start.
    #[arg(long)]
    check_config: bool,
    /// Rebuild the results from every stored document instead of the facts kept beside
    /// them (slow: every stored document is read); the start does so by itself when the
    /// facts are missing, damaged or of another version.
    #[arg(long, env = "ZONEPATROL_REBUILD_RESULTS")]
    rebuild_results: bool,
    /// Keep the store in this PostgreSQL database (`postgres://USER:PASSWORD@HOST:PORT/DB`)
    /// instead of the data directory, which then keeps the photos. Several servers may share
    /// one database (docs/OPERATIONS.md).
    #[arg(long, env = "ZONEPATROL_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// A mining group's mines, served together: `ID=NAME` pairs separated by commas
    /// (`dongtan=东滩煤矿,baodian=鲍店煤矿`). Each is served under `/m/ID/` with a store of its
    /// own; the group's managers sign in at the root. Without it, one mine is served at the
    /// root.
    #[arg(long, env = "ZONEPATROL_MINES")]
    mines: Option<String>,
    /// Connections to the database at most.
    #[arg(long, env = "ZONEPATROL_DATABASE_CONNECTIONS", default_value_t = 16)]
    database_connections: u32,
}

impl ServeArgs {
    /// The server's settings from these arguments.
    fn settings(&self, demo_mine: bool) -> anyhow::Result<Settings> {
        let mut settings = Settings::new(&self.data);
        settings.demo = demo_mine;
        settings.demo_history = demo_mine && !self.no_history;
        settings.rebuild_results = self.rebuild_results;
        settings.mines = match &self.mines {
            Some(text) => {
                crate::group::Mine::parse_list(text).map_err(|e| anyhow::anyhow!("--mines: {e}"))?
            }
            None => Vec::new(),
        };
        settings.database = self.database.as_ref().map(|url| crate::Database {
            url: url.clone(),
            connections: self.database_connections.clamp(2, 1000),
        });
        settings.clock = zonepatrol_shared::rules::MineClock { tz: self.time_zone };
        settings.max_connections = self.max_connections.max(1);
        settings.max_blob_bytes = self.max_blob_mib.clamp(1, 1024) * 1024 * 1024;
        settings.token_ttl =
            std::time::Duration::from_secs(self.token_days.clamp(1, 3650) * 24 * 3600);
        settings.tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None) => None,
            _ => anyhow::bail!(
                "HTTPS needs both --tls-cert and --tls-key (the certificate and its private key)"
            ),
        };
        Ok(settings)
    }
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
    /// Audit exports: a branch's signed history, checked by `zonepatrol-audit`.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the demo mine's weekly ranking and monthly money, computed with the shared rules.
    Figures,
    /// Back up a data directory into one archive, whether or not a server runs on it.
    Backup {
        /// The data directory.
        #[arg(long, env = "ZONEPATROL_DATA", default_value = "zonepatrol-data")]
        data: PathBuf,
        /// The archive to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
        /// An earlier archive: photos it holds are left out of this one (an incremental
        /// backup, restored together with it).
        #[arg(long)]
        base: Option<PathBuf>,
    },
    /// Move a mine's store from its data directory into an empty PostgreSQL database, then
    /// check that nothing differs (every document's heads, every photo's checksum). The
    /// server must be stopped; afterwards serve with `--database` and the same `--data`,
    /// which keeps the photos.
    Migrate {
        /// The data directory.
        #[arg(long)]
        from: PathBuf,
        /// The database: `postgres://USER:PASSWORD@HOST:PORT/DB` (from the environment,
        /// to keep the password out of the process list).
        #[arg(long, env = "ZONEPATROL_DATABASE", hide_env_values = true)]
        to: String,
        /// Move it in as this mine of a group (`serve --mines`): into the mine's own schema,
        /// photos included.
        #[arg(long)]
        mine: Option<String>,
    },
    /// Check an archive without restoring it: every checksum, every photo.
    Verify {
        /// The archive.
        #[arg(long)]
        from: PathBuf,
        /// The archives an incremental one builds on.
        #[arg(long)]
        base: Vec<PathBuf>,
    },
    /// Restore an archive into an empty data directory.
    Restore {
        /// The archive.
        #[arg(long)]
        from: PathBuf,
        /// The archives an incremental one builds on.
        #[arg(long)]
        base: Vec<PathBuf>,
        /// The data directory to create; it must be empty or absent.
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Write one branch's audit export: its documents, the device keys, the log and the
    /// server's checkpoints, for `zonepatrol-audit verify` (which needs nothing else). On the
    /// embedded engine the server must be stopped (or export from a restored backup); on
    /// PostgreSQL other instances' writes wait while it is written.
    Export {
        /// The data directory.
        #[arg(long, env = "ZONEPATROL_DATA", default_value = "zonepatrol-data")]
        data: PathBuf,
        /// The PostgreSQL database the server keeps its store in, if it does.
        #[arg(long, env = "ZONEPATROL_DATABASE", hide_env_values = true)]
        database: Option<String>,
        /// The mine of a group (`serve --mines`) the branch belongs to.
        #[arg(long)]
        mine: Option<String>,
        /// The branch id.
        #[arg(long)]
        branch: String,
        /// The file to write (JSON); it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
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
        /// The branch id (not for a group's manager).
        #[arg(long, required_unless_present = "group")]
        branch: Option<String>,
        /// The PostgreSQL database the server keeps its store in, if it does
        /// (`serve --database`).
        #[arg(long, env = "ZONEPATROL_DATABASE", hide_env_values = true)]
        database: Option<String>,
        /// An account of this mine of a group (`serve --mines`).
        #[arg(long, conflicts_with = "group")]
        mine: Option<String>,
        /// An account of the group itself: a manager who reads every mine.
        #[arg(long)]
        group: bool,
    },
}

/// Reads the command line, with the configuration file it names as defaults (see
/// [`crate::config`]).
fn parse() -> Result<Cli, clap::Error> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let first = Cli::try_parse_from(&args)?;
    let Some(path) = first.config.clone() else {
        return Ok(first);
    };
    let file = crate::config::read(&path)
        .map_err(|e| Cli::command().error(clap::error::ErrorKind::InvalidValue, e))?;
    let command = crate::config::as_defaults(Cli::command(), &file);
    let matches = command.try_get_matches_from(&args)?;
    Cli::from_arg_matches(&matches)
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "zonepatrol_server=info".into());
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cli.log_format {
        LogFormat::Text => log.init(),
        LogFormat::Json => log.json().flatten_event(true).init(),
    }
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
                    database,
                    mine,
                    group,
                },
        } => {
            // A mine of a group, or the group's own accounts: their directory and schema.
            let (data, schema) = match (&mine, group) {
                (Some(id), _) => {
                    let mine = crate::group::Mine::from_id(id).map_err(anyhow::Error::msg)?;
                    (mine.dir(&data), Some(mine.schema()))
                }
                (None, true) => {
                    anyhow::ensure!(
                        roles == [Role::Manager],
                        "a group's account is a manager's (--role manager): it reads every \
                         mine; people of a mine are added with --mine ID"
                    );
                    (
                        crate::group::group_dir(&data),
                        Some(crate::group::GROUP_SCHEMA.to_owned()),
                    )
                }
                (None, false) => (data, None),
            };
            let branch = branch.unwrap_or_else(|| "group".to_owned());
            // A group's store on the embedded engine is made by its server's first start: a
            // mistyped mine, or a group on PostgreSQL named without its database, makes none.
            if database.is_none() && schema.is_some() && !data.join("store").exists() {
                anyhow::bail!(
                    "{} holds no store: start the server with --mines naming this mine first, \
                     check the mine's id, or name the group's database with --database",
                    data.display()
                );
            }
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
            if let Some(url) = database {
                // Any number of processes share a database: write the account directly.
                let store = open_database(&url, schema.as_deref())?;
                auth::add_user(
                    &store,
                    &name,
                    &password,
                    &roles,
                    &branch,
                    crate::now_millis(),
                )?;
                println!("user {name} ({roles_text}, branch {branch}) saved");
                return Ok(());
            }
            // A directory whose store moved to PostgreSQL, or a PostgreSQL group's photo
            // directory, must not get a store of its own.
            crate::store::format::check_not_moved(&data)?;
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
                    let request = inbox::Request::Account(request);
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
        Command::Audit {
            command:
                AuditCommand::Export {
                    data,
                    database,
                    mine,
                    branch,
                    to,
                },
        } => audit_export(&data, database.as_deref(), mine.as_deref(), &branch, &to),
        Command::Figures => {
            print!("{}", demo::report()?);
            Ok(())
        }
        Command::Backup { data, to, base } => backup(&data, &to, base.as_deref()),
        Command::Migrate { from, to, mine } => {
            let schema = match &mine {
                Some(id) => Some(
                    crate::group::Mine::from_id(id)
                        .map_err(anyhow::Error::msg)?
                        .schema(),
                ),
                None => None,
            };
            let moved = crate::migrate::to_postgres_in(&from, &to, schema.as_deref())?;
            println!(
                "moved the store in {} to {}: {}",
                from.display(),
                crate::Database::shown(&to),
                moved.summary()
            );
            match &mine {
                Some(id) => println!(
                    "serve it as the mine {id} of the group: zonepatrol-server serve --data \
                     GROUP-DATA --database '{}' --mines '{id}=NAME,…'",
                    crate::Database::shown(&to)
                ),
                None => println!(
                    "serve it with: zonepatrol-server serve --data {} --database '{}'",
                    from.display(),
                    crate::Database::shown(&to)
                ),
            }
            Ok(())
        }
        Command::Verify { from, base } => {
            let manifest = crate::backup::verify(&from, &base)?;
            println!(
                "{} is a good backup: {}",
                from.display(),
                manifest.summary()
            );
            Ok(())
        }
        Command::Restore { from, base, data } => {
            let manifest = crate::backup::restore(&from, &base, &data)?;
            println!(
                "restored {} into {}: {}",
                from.display(),
                data.display(),
                manifest.summary()
            );
            Ok(())
        }
    }
}

/// `backup`: through the running server if one holds the store, else directly.
fn backup(
    data: &std::path::Path,
    to: &std::path::Path,
    base: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let to = std::path::absolute(to)?;
    let base = base.map(std::path::absolute).transpose()?;
    if !data.join("store").exists() {
        anyhow::bail!(
            "{} holds no store: name the data directory with --data",
            data.display()
        );
    }
    let to = crate::backup::destination(data, &to)?;
    match SledStore::open(&data.join("store")) {
        Ok(store) => {
            let format = crate::store::format::read(data)?.unwrap_or(0);
            let blobs = crate::blobs::BlobFiles::open(&data.join("blobs"))?;
            let manifest =
                crate::backup::take(&store, &blobs, format, &to, base.as_deref(), || ())?;
            println!("backup written to {}: {}", to.display(), manifest.summary());
            Ok(())
        }
        Err(StoreError::Engine(sled::Error::Io(e)))
            if e.to_string().contains("could not acquire lock") =>
        {
            let request = inbox::Request::Backup(inbox::BackupRequest { to, base });
            match inbox::submit(data, &request, std::time::Duration::from_secs(6 * 3600))? {
                Some(answer) if answer.ok => {
                    println!("{} (through the running server)", answer.message);
                    Ok(())
                }
                Some(answer) => anyhow::bail!("{}", answer.message),
                None => anyhow::bail!(
                    "the store in {} is in use, and no server took the backup request: is another program holding it?",
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

/// `audit export`: opens the mine's store, writes the branch's export to a new file.
fn audit_export(
    data: &std::path::Path,
    database: Option<&str>,
    mine: Option<&str>,
    branch: &str,
    to: &std::path::Path,
) -> anyhow::Result<()> {
    let (data, schema) = match mine {
        Some(id) => {
            let mine = crate::group::Mine::from_id(id).map_err(anyhow::Error::msg)?;
            (mine.dir(data), Some(mine.schema()))
        }
        None => (data.to_path_buf(), None),
    };
    let store: Box<dyn Storage> = match database {
        Some(url) => Box::new(open_database(url, schema.as_deref())?),
        None => {
            if !data.join("store").exists() {
                anyhow::bail!(
                    "{} holds no store: name the data directory with --data (and --database \
                     if the server keeps its store in PostgreSQL)",
                    data.display()
                );
            }
            match SledStore::open(&data.join("store")) {
                Ok(store) => Box::new(store),
                Err(StoreError::Engine(sled::Error::Io(e)))
                    if e.to_string().contains("could not acquire lock") =>
                {
                    anyhow::bail!(
                        "a server is running on {}: stop it for the export, or restore a \
                         backup elsewhere and export from that",
                        data.display()
                    )
                }
                Err(e) => anyhow::bail!("could not open the store in {}: {e}", data.display()),
            }
        }
    };
    let _hold = store.hold_writes()?;
    let export = crate::audit::export(&*store, branch, crate::now_millis())?;
    anyhow::ensure!(
        !export.documents.is_empty() || export.log.iter().any(|e| e.body.is_some()),
        "branch {branch} has no documents here: check the branch id"
    );
    store.flush()?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e} (it must not exist)", to.display()))?;
    let mut out = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut out, &export)?;
    out.flush()?;
    out.into_inner()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .sync_all()?;
    println!(
        "audit export of branch {branch} written to {}: {} documents, {} log entries ({} of \
         the branch), {} checkpoints, {} device keys; check it with `zonepatrol-audit verify {}`",
        to.display(),
        export.documents.len(),
        export.log.len(),
        export.log.iter().filter(|e| e.body.is_some()).count(),
        export.checkpoints.len(),
        export.devices.len(),
        to.display()
    );
    Ok(())
}

/// A few connections to the database of `serve --database`, for a command line tool; the
/// error names the database without its password.
fn open_database(url: &str, schema: Option<&str>) -> anyhow::Result<crate::store::PgStore> {
    crate::store::PgStore::open_in(url, 2, schema).map_err(|e| {
        anyhow::anyhow!(
            "could not use the database {}: {e}",
            crate::Database::shown(url)
        )
    })
}

/// Checks what `serve` would start with and prints it; an error says what to fix.
fn check_config(args: &ServeArgs, settings: &Settings) -> anyhow::Result<()> {
    println!("listen           {}", args.listen);
    println!("data             {}", args.data.display());
    println!("time_zone        {}", args.time_zone.name());
    println!("max_connections  {}", settings.max_connections);
    println!(
        "max_blob_mib     {}",
        settings.max_blob_bytes / (1024 * 1024)
    );
    println!(
        "token_days       {}",
        settings.token_ttl.as_secs() / (24 * 3600)
    );
    match &settings.tls {
        Some(tls) => {
            println!("tls_cert         {}", tls.cert.display());
            println!("tls_key          {} (contents hidden)", tls.key.display());
        }
        None => println!(
            "tls              off (plain HTTP: put it behind a TLS proxy, or give --tls-cert and --tls-key)"
        ),
    }
    if settings.rebuild_results {
        println!("rebuild_results  yes (every stored document is read at start)");
    }
    if let Some(database) = &settings.database {
        println!(
            "database         {} ({} connections at most)",
            crate::Database::shown(&database.url),
            database.connections
        );
    }
    if let Some(tls) = &settings.tls {
        crate::tls::load(tls)?;
    }
    if !settings.mines.is_empty() {
        let names: Vec<String> = settings
            .mines
            .iter()
            .map(|m| format!("{}={}", m.id, m.name))
            .collect();
        println!(
            "mines            {} ({})",
            settings.mines.len(),
            names.join(", ")
        );
    }
    // The stores it would open: the one mine's, or the group's and each mine's.
    let mut places = vec![(String::new(), None, args.data.clone())];
    if !settings.mines.is_empty() {
        places = vec![(
            "group ".to_owned(),
            Some(crate::group::GROUP_SCHEMA.to_owned()),
            crate::group::group_dir(&args.data),
        )];
        for mine in &settings.mines {
            places.push((
                format!("{} ", mine.id),
                Some(mine.schema()),
                mine.dir(&args.data),
            ));
        }
    }
    for (label, schema, dir) in places {
        match &settings.database {
            Some(database) => {
                let store = open_database(&database.url, schema.as_deref())?;
                println!(
                    "{label}database schema {} (reachable)",
                    crate::store::pg_schema_version(&store)?
                );
            }
            None if dir.exists() || label.is_empty() => crate::store::format::check_dir(&dir)?,
            None => println!("{label}directory {} (made at start)", dir.display()),
        }
    }
    println!("ok: these settings would start");
    Ok(())
}

fn serve(args: ServeArgs, demo_mine: bool) -> anyhow::Result<()> {
    let settings = args.settings(demo_mine)?;
    if args.check_config {
        return check_config(&args, &settings);
    }
    if let Some(tls) = &settings.tls {
        crate::tls::load(tls)?;
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr()?;
        let scheme = if settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        // The first line names the address, so that scripts and tests can find a port 0.
        println!("listening on {scheme}://{addr}");
        if !demo_mine && settings.database.is_none() && first_start(&args.data) {
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
    // Opening a store creates one: a directory without a store is a first start as it is.
    if !data.join("store").exists() {
        return true;
    }
    SledStore::open(&data.join("store"))
        .ok()
        .and_then(|s| Storage::users(&s).ok())
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
    tracing::info!(
        "stopping: no new connections; requests under way finish (a second signal stops at once)"
    );
    // Everything acknowledged is already on disk (a push is flushed before its answer), so
    // a second signal may end the process at once.
    tokio::spawn(async {
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
            _ = tokio::signal::ctrl_c() => {},
            () = term => {},
        }
        tracing::warn!("a second signal: stopping at once");
        std::process::exit(1);
    });
}
