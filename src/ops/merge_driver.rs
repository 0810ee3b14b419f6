//! The git merge drivers git runs (`merge-driver-event-log`,
//! `merge-driver-status-json`, `merge-driver-wp`): read git's three versions
//! of a file, merge them with [`crate::status::drivers`] (which refuses input
//! that is not its own format), and only then write the result over OURS.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::status::drivers;

/// The files git hands a driver (`%O %A %B [%P]`).
#[derive(Debug, Clone)]
pub struct DriverFiles {
    /// The common ancestor's version.
    pub base: PathBuf,
    /// Our version; the result is written here.
    pub ours: PathBuf,
    /// Their version.
    pub theirs: PathBuf,
    /// The path of the file being merged, named in errors.
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
fn with_inputs<T>(
    files: &DriverFiles,
    f: impl FnOnce(&drivers::Inputs<'_>) -> Result<T>,
) -> Result<T> {
    let (base, ours, theirs) = (read(&files.base)?, read(&files.ours)?, read(&files.theirs)?);
    f(&drivers::Inputs {
        path: files.path.as_deref(),
        base: &base,
        ours: &ours,
        theirs: &theirs,
    })
}

/// The union of the three event logs, by event id, in (at, event_id) order.
/// On an error (not an event log, one id with two payloads) OURS is left
/// untouched.
pub fn event_log(files: &DriverFiles) -> Result<()> {
    let merged = with_inputs(files, |i| Ok(drivers::merge_event_log(i)?))?;
    Ok(fsutil::atomic_write(&files.ours, merged.as_bytes())?)
}

/// status.json is derived from the log: merged without conflicting, when all
/// three versions are status snapshots (anything else: an error, OURS untouched).
pub fn status_json(files: &DriverFiles) -> Result<()> {
    let merged = with_inputs(files, |i| Ok(drivers::merge_status_json(i)?))?;
    Ok(fsutil::atomic_write(&files.ours, merged.as_bytes())?)
}

/// A WP file: the activity log by union, the rest merged line by line. Real
/// conflicts elsewhere are written with markers and are an error; input that
/// is not a WP file is refused (OURS untouched).
pub fn wp(files: &DriverFiles) -> Result<()> {
    let dir = files
        .ours
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (merged, conflicted) = with_inputs(files, |i| Ok(drivers::merge_wp(i, dir)?))?;
    fsutil::atomic_write(&files.ours, merged.as_bytes())?;
    if conflicted {
        let file = files
            .path
            .as_deref()
            .map(crate::shell::printable)
            .unwrap_or_else(|| crate::shell::printable_path(&files.ours).into());
        return Err(Error::user(format!(
            "{file}: both sides changed the same lines outside the activity log"
        )));
    }
    Ok(())
}
