//! `agent tasks mark-status`: tick (done) or untick (pending) subtask
//! checkboxes (`- [ ] T001 ...`) in a mission's tasks.md, under the mission's
//! status lock, written atomically.

use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::mission::Mission;
use crate::project::Project;
use crate::tasks_md::parse;

/// Which subtasks were marked, and which were not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    /// The ids ticked or unticked, upper-cased, in tasks.md order.
    pub updated: Vec<String>,
    /// The ids asked for that have no checkbox line.
    pub not_found: Vec<String>,
    pub done: bool,
}

impl Marked {
    /// `done` or `pending`, as the command names the new state.
    pub fn status(&self) -> &'static str {
        if self.done {
            "done"
        } else {
            "pending"
        }
    }
}

/// Mark `task_ids` done (or pending) in the tasks.md of `mission`. None of
/// them found is an error naming the file; nothing is written then.
pub fn mark(
    project: &Project,
    mission: &Mission,
    task_ids: &[String],
    done: bool,
) -> Result<Marked> {
    let path = mission.tasks_file();
    let _lock = FileLock::acquire(
        &mission.status_lock_path(project),
        LOCK_TIMEOUT,
        "the mission's status",
    )?;
    let text = fsutil::read_to_string(&path)?;
    let ids: Vec<String> = task_ids.iter().map(|t| t.to_ascii_uppercase()).collect();
    let (out, found) = parse::set_subtasks(&text, &ids, done);
    if found.is_empty() {
        return Err(Error::user(format!(
            "{}: no checkbox line for {}",
            path.display(),
            ids.join(", ")
        ))
        .with_hint("subtask lines look like `- [ ] T001 description`"));
    }
    fsutil::write_if_changed(&path, out.as_bytes())?;
    let not_found = ids.iter().filter(|i| !found.contains(i)).cloned().collect();
    Ok(Marked {
        updated: found,
        not_found,
        done,
    })
}
