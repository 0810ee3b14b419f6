//! The lane-worktree part of `spec-kitty upgrade`: each lane worktree under
//! `.worktrees/` that is a spec-kitty checkout gets its agents' slash-command
//! files refreshed (they are git-ignored, so the lane's tracked files and
//! history are untouched). `--no-worktrees` skips this.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::init::{self, CONFIG_PATH};
use crate::project::Project;

/// What the refresh did (or would do) in one lane worktree.
#[derive(Debug, Clone, Serialize)]
pub struct WorktreeUpgrade {
    pub path: PathBuf,
    pub files_written: Vec<String>,
    pub files_unchanged: Vec<String>,
    pub files_skipped_user_modified: Vec<String>,
    /// Why nothing was written there: an agent folder git would not ignore
    /// in that checkout (the files would show up as the lane's changes).
    pub skipped: Option<String>,
}

/// Refresh the command files of every lane worktree (a real directory directly
/// under `.worktrees/` holding `.kittify/config.yaml`), in name order.
pub fn worktrees(project: &Project, dry_run: bool) -> Result<Vec<WorktreeUpgrade>> {
    let Ok(rd) = std::fs::read_dir(project.worktrees_dir()) else {
        return Ok(Vec::new());
    };
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .take(10_000)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            std::fs::symlink_metadata(p.join(CONFIG_PATH)).is_ok_and(|m| m.file_type().is_file())
        })
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let state = init::inspect(&dir, true, true)?;
        let exposed: Vec<&str> = state
            .configured_agents
            .iter()
            .map(|a| a.command_dir)
            .filter(|d| crate::git::is_ignored(&dir, d) != Some(true))
            .collect();
        if !exposed.is_empty() {
            out.push(WorktreeUpgrade {
                path: dir,
                files_written: Vec::new(),
                files_unchanged: Vec::new(),
                files_skipped_user_modified: Vec::new(),
                skipped: Some(format!(
                    "{} not git-ignored in this checkout (commit the project's .gitignore, then merge it into the lane)",
                    exposed.join(", ")
                )),
            });
            continue;
        }
        let r = init::refresh_commands(&dir, dry_run)?;
        out.push(WorktreeUpgrade {
            path: dir,
            files_written: r.files_written,
            files_unchanged: r.files_unchanged,
            files_skipped_user_modified: r.files_skipped_user_modified,
            skipped: None,
        });
    }
    Ok(out)
}
