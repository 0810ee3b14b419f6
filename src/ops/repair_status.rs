//! `agent mission repair-status`: mend a status log a text merge broke. Drop
//! conflict-marker lines, duplicate and torn events from
//! `status.events.jsonl` (or take the union of its stages when git left it
//! unmerged), under the mission's status lock, then rebuild status.json.

use std::path::PathBuf;

use crate::error::Result;
use crate::fsutil;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::logmerge::{self, Repair};
use crate::status::StatusStore;

/// What `repair-status` did (or, on a dry run, would do).
#[derive(Debug, Clone)]
pub struct Repaired {
    pub mission_slug: String,
    pub events_path: PathBuf,
    pub report: Repair,
    /// git left the log unmerged (its driver did not run): the repaired log
    /// is the union of the index stages.
    pub unmerged: bool,
    pub dry_run: bool,
}

/// Repair the status log of `mission`; with `dry_run`, write nothing.
pub fn repair(project: &Project, mission: &Mission, dry_run: bool) -> Result<Repaired> {
    let store = StatusStore::for_mission(project, mission);
    let (report, unmerged) = {
        let _lock = fsutil::FileLock::acquire(
            &store.lock_path,
            fsutil::LOCK_TIMEOUT,
            &format!("the status log of {}", mission.slug),
        )?;
        let bytes = match std::fs::read(&store.events_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(crate::Error::io("read", &store.events_path, e)),
        };
        let label = store.events_path.display().to_string();
        // git left the log unmerged (its driver did not run): the working
        // file may hold one side only; the log is the union of the stages.
        let union = crate::status::unmerged::union_if_unmerged(&store.events_path)?;
        let unmerged = union.is_some();
        let (text, mut report) =
            logmerge::repair(&label, union.as_deref().map_or(&bytes[..], str::as_bytes))?;
        report.changed = text.as_bytes() != &bytes[..];
        if report.changed && !dry_run {
            fsutil::atomic_write(&store.events_path, text.as_bytes())?;
        }
        (report, unmerged)
    };
    if !dry_run {
        store.materialize()?;
    }
    Ok(Repaired {
        mission_slug: mission.slug.clone(),
        events_path: store.events_path,
        report,
        unmerged,
        dry_run,
    })
}
