//! `materialize` and `agent status materialize`: rebuild a mission's
//! status.json from its event log (under the status lock).

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{LogWarning, Snapshot, StatusStore};

/// A rebuilt status.json.
#[derive(Debug, Clone)]
pub struct Materialized {
    pub mission_slug: String,
    pub mission_number: String,
    pub mission_type: String,
    pub status_file: PathBuf,
    pub snapshot: Snapshot,
    /// Lines of the log that could not be read (and were skipped).
    pub skipped: Vec<LogWarning>,
    /// When it was rebuilt (ISO 8601).
    pub at: String,
}

/// Rebuild `mission`'s status.json from its event log. With `require_log`, a
/// mission without an event log is an error that says how to start one
/// (`agent status materialize`); without, an empty log gives an empty snapshot.
pub fn materialize(
    project: &Project,
    mission: &Mission,
    require_log: bool,
) -> Result<Materialized> {
    let store = StatusStore::for_mission(project, mission);
    if require_log && !store.events_path.is_file() {
        return Err(Error::user(format!(
            "No event log found at {}",
            store.events_path.display()
        ))
        .with_hint(format!(
            "run `spec-kitty agent mission finalize-tasks --mission {}` to start it, or `spec-kitty agent status migrate --mission {}` for an old mission",
            mission.slug, mission.slug
        )));
    }
    let (snapshot, skipped) = store.materialize()?;
    Ok(Materialized {
        mission_slug: mission.slug.clone(),
        mission_number: store.mission_number,
        mission_type: store.mission_type,
        status_file: store.snapshot_path,
        snapshot,
        skipped,
        at: crate::timefmt::now_iso(),
    })
}
