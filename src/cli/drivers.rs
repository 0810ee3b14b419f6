//! The git merge drivers (hidden commands git runs, registered per clone in
//! `.git/config`): `merge-driver-event-log`, `merge-driver-status-json` and
//! `merge-driver-wp`, each called as `%O %A %B [%P]` and writing the result to
//! `%A`. Each maps to one operation of [`crate::ops::merge_driver`].

use std::path::PathBuf;

use clap::Args;

use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::merge_driver::{self, DriverFiles};

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

impl DriverArgs {
    fn files(&self) -> DriverFiles {
        DriverFiles {
            base: self.base.clone(),
            ours: self.ours.clone(),
            theirs: self.theirs.clone(),
            path: self.path.clone(),
        }
    }
}

/// The union of the three event logs (see [`merge_driver::event_log`]); on an
/// error OURS is left untouched and the exit code is 1, so git reports a
/// conflict.
pub fn run_event_log(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    merge_driver::event_log(&a.files())
}

/// status.json, derived from the log (see [`merge_driver::status_json`]).
pub fn run_status_json(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    merge_driver::status_json(&a.files())
}

/// A WP file (see [`merge_driver::wp`]): real conflicts are written with
/// markers and exit 1.
pub fn run_wp(_ctx: &Ctx, a: &DriverArgs) -> Result<()> {
    merge_driver::wp(&a.files())
}
