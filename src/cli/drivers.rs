//! The git merge drivers (hidden commands git runs, registered per clone in
//! `.git/config`): `merge-driver-event-log`, `merge-driver-status-json` and
//! `merge-driver-wp`, each called as `%O %A %B [%P]` and writing the result to
//! `%A`. Each maps to one function of [`crate::status::drivers`], which
//! refuses input that is not its own format.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::status::drivers;

// git's three versions of the file being merged, and its path.
#[derive(Debug, Args)]
pub struct DriverArgs {
    /// The common ancestor's version (%O)
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// Our version (%A); the result is written here
    #[arg(value_name = "OURS")]
    pub ours: PathBuf,
    /// Their version (%B)
    #[arg(value_name = "THEIRS")]
    pub theirs: PathBuf,
    /// The path of the file being merged (%P), named in errors
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
}

/// A missing input is an empty file (git passes one when a side has no file).
fn read(path: &Path) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Read git's three versions; `f` merges them (refusing what is not its own
/// format), and only then is OURS written.
fn with_inputs<T>(a: &DriverArgs, f: impl FnOnce(&drivers::Inputs<'_>) -> Result<T>) -> Result<T> {
    let (base, ours, theirs) = (read(&a.base)?, read(&a.ours)?, read(&a.theirs)?);
    f(&drivers::Inputs {
        path: a.path.as_deref(),
        base: &base,
        ours: &ours,
        theirs: &theirs,
    })
}

/// The union of the three event logs, by event id, in (at, event_id) order.
/// On an error (not an event log, one id with two payloads) OURS is left
/// untouched and the exit code is 1, so git reports a conflict.
pub fn run_event_log(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    let merged = with_inputs(a, |i| Ok(drivers::merge_event_log(i)?))?;
    Ok(fsutil::atomic_write(&a.ours, merged.as_bytes())?)
}

/// status.json is derived from the log: merged without conflicting, when all
/// three versions are status snapshots (anything else: exit 1, OURS untouched).
pub fn run_status_json(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    let merged = with_inputs(a, |i| Ok(drivers::merge_status_json(i)?))?;
    Ok(fsutil::atomic_write(&a.ours, merged.as_bytes())?)
}

/// A WP file: the activity log by union, the rest merged line by line. Real
/// conflicts elsewhere are written with markers and exit 1; input that is not
/// a WP file is refused (exit 1, OURS untouched).
pub fn run_wp(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    let dir = a
        .ours
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (merged, conflicted) = with_inputs(a, |i| Ok(drivers::merge_wp(i, dir)?))?;
    fsutil::atomic_write(&a.ours, merged.as_bytes())?;
    if conflicted {
        let file = a
            .path
            .as_deref()
            .map(crate::shell::printable)
            .unwrap_or_else(|| crate::shell::printable_path(&a.ours).into());
        return Err(Error::user(format!(
            "{file}: both sides changed the same lines outside the activity log"
        )));
    }
    Ok(())
}
