//! `user add` and `backup` beside a running server: the store is the server's alone while it
//! runs, so the command leaves its request in the data directory's `inbox/` (a password
//! already hashed, the file readable by its owner only) and the server takes it in within a
//! second, answering beside it. Whoever may write the data directory may do this, as whoever may stop the server
//! and open its store: it is the host's administrator, and the way back in when every admin
//! account is lost.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zonepatrol_shared::docs::is_valid_name;
use zonepatrol_shared::{Actor, Role};

use crate::State;
use crate::store::UserRecord;

/// A request to add or replace an account, as left in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRequest {
    /// The login name.
    pub user: String,
    /// Every role, the main one first.
    pub roles: Vec<Role>,
    /// The branch.
    pub branch: String,
    /// The password's argon2 hash (PHC string): the password itself never reaches the disk.
    pub password_hash: String,
}

/// A backup to take, as left in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRequest {
    /// The archive to write (absolute; must not exist).
    pub to: PathBuf,
    /// An earlier archive whose photos this one leaves out.
    pub base: Option<PathBuf>,
}

/// What a command asks of the running server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Add or replace an account.
    Account(AccountRequest),
    /// Take a backup.
    Backup(BackupRequest),
}

/// The server's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Whether the account was saved.
    pub ok: bool,
    /// What happened, in words.
    pub message: String,
}

/// The largest request file taken in.
const MAX_REQUEST_BYTES: u64 = 8 * 1024;
/// Requests taken in at one look.
const PER_LOOK: usize = 16;

/// The inbox of a data directory.
pub fn dir(data: &Path) -> PathBuf {
    data.join("inbox")
}

/// Leaves a request in the inbox and waits for the running server's answer (`None` when none
/// came in `wait`).
pub fn submit(data: &Path, request: &Request, wait: Duration) -> std::io::Result<Option<Answer>> {
    let inbox = dir(data);
    std::fs::create_dir_all(&inbox)?;
    let name = format!("{}-{}", crate::now_millis(), std::process::id());
    let temp = inbox.join(format!("{name}.tmp"));
    let file = inbox.join(format!("{name}.json"));
    let answer = inbox.join(format!("{name}.answer"));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&temp)?;
        f.write_all(&serde_json::to_vec(request).unwrap_or_default())?;
        f.sync_all()?;
    }
    std::fs::rename(&temp, &file)?;
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Ok(bytes) = std::fs::read(&answer) {
            let _ = std::fs::remove_file(&answer);
            return Ok(serde_json::from_slice(&bytes).ok());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Nobody answered: take the request back, so that a server started later does not act
    // on a request its sender gave up on.
    let _ = std::fs::remove_file(&file);
    Ok(None)
}

/// Takes in what waits in the inbox: each request is applied (or refused), answered beside
/// it, and removed. Never fails: a request that cannot be read is answered so and removed.
pub fn take_in(state: &State) {
    let inbox = dir(&state.settings.data_dir);
    let Ok(entries) = std::fs::read_dir(&inbox) else {
        return;
    };
    let requests: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .take(PER_LOOK)
        .collect();
    for path in requests {
        // Taken out of the inbox first: a request that cannot be moved is not applied, so
        // that it is not applied again every second.
        let taken = path.with_extension("taking");
        if std::fs::rename(&path, &taken).is_err() {
            continue;
        }
        let answer = match read_request(&taken) {
            Ok(Request::Account(request)) => apply(state, &request),
            Ok(Request::Backup(request)) => backup(state, &request),
            Err(message) => Answer { ok: false, message },
        };
        let _ = std::fs::remove_file(&taken);
        let reply = path.with_extension("answer");
        let _ = std::fs::write(&reply, serde_json::to_vec(&answer).unwrap_or_default());
        tracing::info!(ok = answer.ok, message = %answer.message, "a request from the inbox");
    }
}

fn read_request(path: &Path) -> Result<Request, String> {
    use std::io::Read;
    // A plain file only: not a link to somewhere else, not a pipe that never ends.
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("the request is not a plain file".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_REQUEST_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_REQUEST_BYTES {
        return Err("the request is larger than an account takes".into());
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("the request does not read: {e}"))
}

/// Takes a backup while serving: pushes wait while the store is exported (the photos are
/// copied after, since they never change).
fn backup(state: &State, r: &BackupRequest) -> Answer {
    let refuse = |message: &str| Answer {
        ok: false,
        message: message.to_owned(),
    };
    if !state.results.readiness.serving() {
        return refuse("the server is starting: take the backup once /ready says it serves");
    }
    let to = match crate::backup::destination(&state.settings.data_dir, &r.to) {
        Ok(to) => to,
        Err(e) => return refuse(&e.to_string()),
    };
    let Some(files) = state.blobs.files() else {
        return refuse(
            "this server keeps its store in PostgreSQL: back up the database itself \
             (docs/OPERATIONS.md §11)",
        );
    };
    let started = Instant::now();
    let taken = crate::backup::take(
        &*state.store,
        files,
        crate::store::format::CURRENT,
        &to,
        r.base.as_deref(),
        || state.docs.write().unwrap_or_else(|e| e.into_inner()),
    );
    match taken {
        Ok(manifest) => Answer {
            ok: true,
            message: format!(
                "backup written to {} in {:.1} s: {}",
                to.display(),
                started.elapsed().as_secs_f64(),
                manifest.summary()
            ),
        },
        Err(e) => Answer {
            ok: false,
            message: format!("the backup failed: {e}"),
        },
    }
}

fn apply(state: &State, r: &AccountRequest) -> Answer {
    let refuse = |message: String| Answer { ok: false, message };
    if !is_valid_name(&r.user) || !is_valid_name(&r.branch) {
        return refuse("names are 1–64 letters, digits, '-', '_' or '.'".into());
    }
    let Some((&main, more)) = r.roles.split_first() else {
        return refuse("name at least one role".into());
    };
    if argon2::password_hash::PasswordHash::new(&r.password_hash).is_err() {
        return refuse("the password hash does not read".into());
    }
    let existing = match state.store.user(&r.user) {
        Ok(e) => e,
        Err(e) => return refuse(format!("the store failed: {e}")),
    };
    let actor = Actor::new(&r.user, main, &r.branch).also(more);
    let record = UserRecord {
        user: r.user.clone(),
        role: main,
        also: actor.also.clone(),
        branch: r.branch.clone(),
        password: r.password_hash.clone(),
        created_at: existing
            .as_ref()
            .map_or_else(crate::now_millis, |e| e.created_at),
        disabled: false,
    };
    let saved = (|| {
        state.store.put_user(&record)?;
        crate::auth::sign_out_user(&*state.store, &r.user)?;
        state.store.flush()
    })();
    if let Err(e) = saved {
        return refuse(format!("the store failed: {e}"));
    }
    let _ = super::on_record(
        state,
        &Actor::new("(command line)", Role::Admin, ""),
        &r.branch,
        "account",
        &r.user,
        format!("命令行保存账号 {}（{}）", r.user, actor.roles_zh()),
    );
    Answer {
        ok: true,
        message: format!("user {} ({}) saved", r.user, actor.roles_zh()),
    }
}

/// Looks into the inbox every second while the server runs.
pub async fn watch(state: std::sync::Weak<State>) {
    loop {
        let Some(strong) = state.upgrade() else {
            return;
        };
        let _ = tokio::task::spawn_blocking(move || take_in(&strong)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
