//! `spec-kitty upgrade`: the project's metadata and generated files
//! ([`crate::init::upgrade`]), then each lane worktree under `.worktrees/`
//! that is a spec-kitty checkout gets its agents' slash-command files
//! refreshed (they are git-ignored, so the lane's tracked files and history
//! are untouched; `--no-worktrees` skips this), then the Python reference's
//! global slash commands in the home directory are reported (and removed
//! only when asked).

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::init::{self, CONFIG_PATH};
use crate::project::Project;

/// What `upgrade` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct UpgradeRequest {
    pub dry_run: bool,
    /// Leave the lane worktrees alone.
    pub no_worktrees: bool,
    /// Delete the reference's global slash commands (never on a dry run).
    pub remove_global_prompts: bool,
    /// The home directory the reference's global slash commands are in.
    pub home: Option<PathBuf>,
}

/// What `upgrade` did (or, on a dry run, would do).
#[derive(Debug, Clone)]
pub struct Upgraded {
    pub project: init::UpgradeReport,
    /// Each lane worktree refreshed (none with `no_worktrees`).
    pub worktrees: Vec<WorktreeUpgrade>,
    pub worktrees_skipped: bool,
    /// The reference's global slash commands found in the home directory.
    pub global_prompts: Vec<init::stale::StaleFolder>,
    /// How many of them were removed.
    pub global_prompts_removed: usize,
}

/// `--target`: a project can be upgraded only to this binary's own version.
pub fn check_target(target: &str) -> Result<()> {
    let t = target.trim().trim_start_matches('v');
    if t != crate::VERSION {
        return Err(crate::Error::user(format!(
            "this spec-kitty is {}; it cannot upgrade a project to {t}",
            crate::VERSION
        ))
        .with_hint(
            "install the spec-kitty of that version and run its upgrade, or leave out --target",
        ));
    }
    Ok(())
}

/// Upgrade the project, its lane worktrees, and report (or remove) the
/// reference's global slash commands.
pub fn upgrade(project: &Project, req: &UpgradeRequest) -> Result<Upgraded> {
    let up = init::upgrade(project, req.dry_run)?;
    let worktrees = if req.no_worktrees {
        Vec::new()
    } else {
        worktrees(project, req.dry_run)?
    };
    let stale = req
        .home
        .as_deref()
        .map(|h| init::stale::find(h, &project.root))
        .unwrap_or_default();
    let removed = if req.remove_global_prompts && !req.dry_run {
        init::stale::remove(&stale)?
    } else {
        0
    };
    Ok(Upgraded {
        project: up,
        worktrees,
        worktrees_skipped: req.no_worktrees,
        global_prompts: stale,
        global_prompts_removed: removed,
    })
}

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
