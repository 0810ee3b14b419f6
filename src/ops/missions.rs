//! `agent mission list`: the project's missions, each with its work packages
//! counted per lane from its status snapshot.

use crate::error::Result;
use crate::mission::{self, Mission};
use crate::project::Project;
use crate::status::StatusStore;

/// One mission of the list.
#[derive(Debug, Clone)]
pub struct Listed {
    pub mission: Mission,
    /// Lanes holding at least one work package, in the snapshot's order, with their count.
    pub lanes: Vec<(String, usize)>,
    /// Work packages in all lanes.
    pub total: usize,
}

/// Every mission of the project with its lane counts. A mission whose status
/// cannot be read counts no work packages (its `meta_error` says what is wrong
/// with its meta.json; the status log is checked by `agent status validate`).
pub fn list(project: &Project) -> Result<Vec<Listed>> {
    Ok(mission::list(project)?
        .into_iter()
        .map(|m| {
            let store = StatusStore::for_mission(project, &m);
            let mut lanes = Vec::new();
            let mut total = 0;
            if let Ok((snap, _)) = store.snapshot() {
                for (lane, n) in &snap.summary {
                    if *n > 0 {
                        lanes.push((lane.to_string(), *n));
                        total += n;
                    }
                }
            }
            Listed {
                mission: m,
                lanes,
                total,
            }
        })
        .collect())
}
