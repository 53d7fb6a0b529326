//! The data directory's format version, in the file `FORMAT` beside the store. A server reads
//! the formats up to its own: an older directory is migrated in place after a backup is taken
//! into `backups/` (said in the log), and a directory written by a newer server is refused
//! with nothing touched.
//!
//! | format | what changed |
//! |---|---|
//! | 0 | a directory from before format versions (no `FORMAT` file) |
//! | 1 | the `FORMAT` file; the store's trees as format 0 |
//! | 2 | each document's consolidated facts kept beside it (`f\0ID` in the `docs` tree, written in the document's batch) and the settings they were made under (`m\0facts`): a server of format 1 would write documents without them and leave the facts stale, so it must not open a format-2 directory |
//! | 3 | an automerge actor's registry record (`a\0ACTOR`) holds the device after the user (`user\0device`, for a record's history): a server of format 2 would read the whole value as the user's name and refuse that user's own changes, so it must not open a format-3 directory. Records written before stay as they are (no device) |
//! | 4 | the log of accepted writes (`l\0SEQ`, chained, its head `m\0log`), the server's checkpoints (`k\0SEQ`) and signing key (`m\0server-key`), and the `devices` tree of registered phone keys: a server of format 3 would store documents without their log entries and break the chain, so it must not open a format-4 directory. Documents written before keep no log entries (an audit export names their changes as never accepted by the log) |

use std::io;
use std::path::{Path, PathBuf};

/// The format this server writes.
pub const CURRENT: u32 = 4;
/// The file that says it.
pub const FILE: &str = "FORMAT";
/// The marker of a store moved to PostgreSQL (`migrate`): the sled store left behind is no
/// longer the mine's, and no server serves it.
pub const MOVED: &str = "MOVED-TO-POSTGRESQL";
/// The marker of a restore under way (or stopped halfway): no server starts on it.
pub const RESTORING: &str = "RESTORING";

/// What a data directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing yet: a new directory.
    New,
    /// This server's format.
    Current,
    /// An older format, to migrate.
    Older(u32),
}

/// Why a directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Written by a newer server.
    #[error(
        "the data directory {dir} was written by a newer Zone Patrol server (data format \
         {found}; this server reads formats up to {CURRENT}). Nothing was changed: run that \
         server or a newer one, or restore a backup taken before the upgrade"
    )]
    Newer {
        /// The directory.
        dir: PathBuf,
        /// Its format.
        found: u32,
    },
    /// A restore into the directory did not finish.
    #[error(
        "the data directory {dir} holds a restore that did not finish: remove the directory and \
         restore again"
    )]
    Unfinished {
        /// The directory.
        dir: PathBuf,
    },
    /// The store was moved to PostgreSQL.
    #[error(
        "the store in {dir} was moved to PostgreSQL ({what}): serve with --database and this \
         directory for the photos, or, to go back to this copy, remove {MOVED} (what was done \
         since the move is in PostgreSQL only)"
    )]
    Moved {
        /// The directory.
        dir: PathBuf,
        /// What the marker says.
        what: String,
    },
    /// The `FORMAT` file does not read.
    #[error(
        "the data directory's format file {path} does not read ({why}): it holds a number such as {CURRENT}"
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// The format file's number, if the file is there.
pub fn read(data: &Path) -> Result<Option<u32>, FormatError> {
    let path = data.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|e| FormatError::Unreadable {
                path,
                why: e.to_string(),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FormatError::Unreadable {
            path,
            why: e.to_string(),
        }),
    }
}

/// Writes the format file (beside, then renamed into place).
pub fn write(data: &Path, format: u32) -> io::Result<()> {
    let tmp = data.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, format!("{format}\n"))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, data.join(FILE))
}

/// What the directory holds, refusing a newer format before anything is opened.
pub fn found(data: &Path) -> Result<Found, FormatError> {
    check_not_moved(data)?;
    if data.join(RESTORING).exists() {
        return Err(FormatError::Unfinished {
            dir: data.to_owned(),
        });
    }
    match read(data)? {
        Some(n) if n > CURRENT => Err(FormatError::Newer {
            dir: data.to_owned(),
            found: n,
        }),
        Some(n) if n == CURRENT => Ok(Found::Current),
        Some(n) => Ok(Found::Older(n)),
        None if data.join("store").exists() => Ok(Found::Older(0)),
        None => Ok(Found::New),
    }
}

/// For `serve --check-config`: whether the directory would be served, and how.
pub fn check_dir(data: &Path) -> anyhow::Result<()> {
    match found(data)? {
        Found::New => println!("data format     new directory (format {CURRENT} will be written)"),
        Found::Current => println!("data format     {CURRENT}"),
        Found::Older(n) => println!(
            "data format     {n}: migrated to {CURRENT} at start, after a backup into {}",
            data.join("backups").display()
        ),
    }
    Ok(())
}

/// Migrates a directory of an older format to [`CURRENT`]; the caller took a backup.
pub fn migrate(data: &Path, from: u32) -> io::Result<()> {
    // Format 0 to 1 changed no record. 1 to 2 adds the facts records, which the start makes
    // for every document that lacks them. 2 to 3 changes no record: an actor's record without
    // a device reads as one. 3 to 4 adds the log and the device keys, from the next write on.
    // The file says the format from now on.
    let _ = from;
    write(data, CURRENT)
}

/// Refuses a directory whose store was moved to PostgreSQL.
pub fn check_not_moved(data: &Path) -> Result<(), FormatError> {
    match std::fs::read_to_string(data.join(MOVED)) {
        Ok(what) => Err(FormatError::Moved {
            dir: data.to_path_buf(),
            what: what.trim().to_owned(),
        }),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_says_its_format_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(found(dir.path()).expect("new"), Found::New);
        std::fs::create_dir(dir.path().join("store")).expect("store");
        assert_eq!(found(dir.path()).expect("old"), Found::Older(0));
        write(dir.path(), CURRENT).expect("write");
        assert_eq!(found(dir.path()).expect("current"), Found::Current);
        write(dir.path(), CURRENT + 1).expect("write");
        let e = found(dir.path()).expect_err("newer");
        assert!(e.to_string().contains("newer"), "{e}");
        std::fs::write(dir.path().join(FILE), "two").expect("write");
        assert!(found(dir.path()).is_err());
    }
}
