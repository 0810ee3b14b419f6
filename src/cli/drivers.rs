//! The git merge drivers (hidden commands git runs, registered per clone in
//! `.git/config`): `merge-driver-event-log`, `merge-driver-status-json` and
//! `merge-driver-wp`, each called as `%O %A %B` and writing the result to `%A`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::status::{logmerge, wpmerge};

// git's three versions of the file being merged.
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
}

/// A missing input is an empty file (git passes one when a side has no file).
fn read(path: &Path) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// The union of the three event logs, by event id, in (at, event_id) order.
/// On an error (a bad line, one id with two payloads) OURS is left untouched
/// and the exit code is 1, so git reports a conflict.
pub fn run_event_log(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    let label = |p: &Path| p.display().to_string();
    let base = logmerge::read(&label(&a.base), &read(&a.base)?)?;
    let ours = logmerge::read(&label(&a.ours), &read(&a.ours)?)?;
    let theirs = logmerge::read(&label(&a.theirs), &read(&a.theirs)?)?;
    let merged = logmerge::union(&[&base, &ours, &theirs])?;
    Ok(fsutil::atomic_write(
        &a.ours,
        logmerge::render(&merged).as_bytes(),
    )?)
}

/// status.json is derived from the log: merged without ever conflicting.
pub fn run_status_json(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    let out = logmerge::merge_snapshots(&read(&a.base)?, &read(&a.ours)?, &read(&a.theirs)?);
    Ok(fsutil::atomic_write(&a.ours, out.as_bytes())?)
}

/// A WP file: the activity log by union, the rest merged line by line. Real
/// conflicts elsewhere are written with markers and exit 1.
pub fn run_wp(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    let text = |p: &Path| -> Result<String> {
        String::from_utf8(read(p)?)
            .map_err(|_| Error::user(format!("{}: not UTF-8 text", p.display())))
    };
    let dir = a
        .ours
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (merged, conflicted) =
        wpmerge::merge3(&text(&a.base)?, &text(&a.ours)?, &text(&a.theirs)?, dir)?;
    fsutil::atomic_write(&a.ours, merged.as_bytes())?;
    if conflicted {
        return Err(Error::user(format!(
            "{}: both sides changed the same lines outside the activity log",
            a.ours.display()
        )));
    }
    Ok(())
}
