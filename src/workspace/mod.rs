//! Lane workspaces: one git worktree per code lane, the main checkout for planning.
//!
//! A code lane `lane-a` of mission `001-x` works in `.worktrees/001-x-lane-a` on
//! branch `kitty/mission-001-x-lane-a`, created from the mission's target branch
//! the first time a WP of the lane starts. Creating it never touches the main
//! checkout's HEAD, index or working tree, and never commits. `.worktrees/` is
//! listed in `.git/info/exclude` so it never shows up as untracked.

use std::fs;
use std::path::{Path, PathBuf};

pub mod action;

use git2::{BranchType, Repository, WorktreeAddOptions};
use serde::Serialize;

use crate::error::{Error, IoContext, Result};
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::lanes::model::{lane_branch, worktree_path, LanesManifest, PLANNING_LANE};
use crate::mission::Mission;
use crate::project::Project;
use crate::tasks_md::WpFile;

/// Where a work package is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workspace {
    /// `repo_root` (planning work in the main checkout) or `lane_workspace`.
    pub kind: &'static str,
    pub path: PathBuf,
    pub lane_id: String,
    /// The lane branch; None for the main checkout.
    pub branch: Option<String>,
    /// The branch the lane starts from and merges back into.
    pub base_branch: String,
    /// True when this call created the worktree.
    pub created: bool,
}

/// Read lanes.json, or explain how to get one.
pub fn require_lanes(mission: &Mission) -> Result<LanesManifest> {
    LanesManifest::read(&mission.lanes_file())?.ok_or_else(|| {
        Error::user(format!("{} has no lanes.json yet", mission.slug)).with_hint(format!(
            "run `spec-kitty agent mission finalize-tasks --mission {}` first",
            mission.slug
        ))
    })
}

/// The workspace of a WP, without creating anything.
pub fn resolve(
    project: &Project,
    mission: &Mission,
    lanes: &LanesManifest,
    wp: &WpFile,
) -> Result<Workspace> {
    let base_branch = mission
        .target_branch()
        .map(str::to_string)
        .or_else(|| (!lanes.target_branch.is_empty()).then(|| lanes.target_branch.clone()))
        .unwrap_or_else(|| "main".into());
    let lane = lanes.lane_for_wp(&wp.id);
    let planning = wp.is_planning_artifact() || lane.is_some_and(|l| l.lane_id == PLANNING_LANE);
    if planning {
        return Ok(Workspace {
            kind: "repo_root",
            path: project.root.clone(),
            lane_id: PLANNING_LANE.into(),
            branch: None,
            base_branch,
            created: false,
        });
    }
    let lane = lane.ok_or_else(|| {
        Error::user(format!(
            "{} is not in any lane of {}",
            wp.id,
            mission.lanes_file().display()
        ))
        .with_hint(format!(
            "re-run `spec-kitty agent mission finalize-tasks --mission {}`",
            mission.slug
        ))
    })?;
    Ok(Workspace {
        kind: "lane_workspace",
        path: worktree_path(&project.root, &mission.slug, &lane.lane_id),
        lane_id: lane.lane_id.clone(),
        branch: Some(lane_branch(&mission.slug, &lane.lane_id)),
        base_branch,
        created: false,
    })
}

fn open_main(project: &Project) -> Result<Repository> {
    if !project.is_git() {
        return Err(Error::user(format!(
            "{} is not a git repository; code lanes need git worktrees",
            project.root.display()
        ))
        .with_hint("run `git init` and make a first commit, or mark the WP execution_mode: planning_artifact"));
    }
    Ok(Repository::open(&project.root)?)
}

/// The branch a worktree has checked out, if any.
fn worktree_branch(path: &Path) -> Option<String> {
    let repo = Repository::open(path).ok()?;
    let head = repo.head().ok()?;
    head.shorthand().map(str::to_string)
}

/// Make sure the WP's workspace exists: create the lane worktree and branch on
/// first use, reuse them afterwards, and refuse a broken or foreign one.
pub fn ensure(
    project: &Project,
    mission: &Mission,
    lanes: &LanesManifest,
    wp: &WpFile,
) -> Result<Workspace> {
    let mut ws = resolve(project, mission, lanes, wp)?;
    let Some(branch) = ws.branch.clone() else {
        return Ok(ws);
    };
    let _lock = FileLock::acquire(
        &project
            .locks_dir()
            .join(format!("worktree-{}-{}.lock", mission.slug, ws.lane_id)),
        LOCK_TIMEOUT,
        "the lane worktree",
    )?;
    if ws.path.exists() {
        return match worktree_branch(&ws.path) {
            Some(b) if b == branch => Ok(ws),
            Some(other) => Err(Error::user(format!(
                "{} exists but is on branch {other}, not {branch}",
                ws.path.display()
            ))
            .with_hint(format!("switch it back with `git -C {} switch {branch}`", ws.path.display()))),
            None => Err(Error::user(format!(
                "{} exists but is not a working git worktree",
                ws.path.display()
            ))
            .with_hint(format!(
                "move it away, then run `git worktree prune` and try again (it is recreated on {branch})"
            ))),
        };
    }
    let repo = open_main(project)?;
    exclude_worktrees_dir(project)?;
    let target = repo
        .find_branch(&ws.base_branch, BranchType::Local)
        .map_err(|_| {
            Error::user(format!(
                "target branch {} of {} does not exist",
                ws.base_branch, mission.slug
            ))
            .with_hint("create it, or set target_branch in the mission's meta.json")
        })?;
    let base = target.get().peel_to_commit().map_err(|_| {
        Error::user(format!(
            "target branch {} has no commits yet",
            ws.base_branch
        ))
        .with_hint("make a first commit on it")
    })?;
    let local = match repo.find_branch(&branch, BranchType::Local) {
        Ok(b) => b,
        Err(_) => repo.branch(&branch, &base, false)?,
    };
    let reference = local.into_reference();
    fsutil::create_dir_all(&project.worktrees_dir())?;
    let name = format!("{}-{}", mission.slug, ws.lane_id);
    // A stale registration (directory deleted by hand) would block the name.
    if let Ok(old) = repo.find_worktree(&name) {
        if old.validate().is_err() {
            let _ = old.prune(Some(
                git2::WorktreePruneOptions::new()
                    .valid(true)
                    .working_tree(true),
            ));
        }
    }
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(&reference));
    repo.worktree(&name, &ws.path, Some(&opts)).map_err(|e| {
        Error::user(format!(
            "cannot create worktree {}: {}",
            ws.path.display(),
            e.message()
        ))
        .with_hint(format!(
            "check `git worktree list`; `git worktree prune` clears stale entries for {name}"
        ))
    })?;
    ws.created = true;
    Ok(ws)
}

/// Add `.worktrees/` to `.git/info/exclude` (once), so lane worktrees never show
/// up as untracked files and nothing in the project has to change.
pub fn exclude_worktrees_dir(project: &Project) -> Result<()> {
    let Some(common) = &project.git_common_dir else {
        return Ok(());
    };
    let path = common.join("info").join("exclude");
    let text = fs::read_to_string(&path).unwrap_or_default();
    if text
        .lines()
        .any(|l| l.trim() == ".worktrees/" || l.trim() == "/.worktrees/")
    {
        return Ok(());
    }
    let mut out = text;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("# spec-kitty lane worktrees\n/.worktrees/\n");
    if let Some(dir) = path.parent() {
        fsutil::create_dir_all(dir)?;
    }
    fsutil::atomic_write(&path, out.as_bytes())
}

/// A lane branch's commits that the target branch does not contain.
pub fn unmerged_commits(repo: &Repository, branch: &str, target: &str) -> Result<usize> {
    let Ok(b) = repo.find_branch(branch, BranchType::Local) else {
        return Ok(0);
    };
    let tip = b.get().peel_to_commit()?.id();
    let Ok(t) = repo.find_branch(target, BranchType::Local) else {
        return Ok(1);
    };
    let base = t.get().peel_to_commit()?.id();
    let (ahead, _) = repo.graph_ahead_behind(tip, base)?;
    Ok(ahead)
}

/// Does the worktree have uncommitted changes (untracked files included)?
pub fn is_dirty(path: &Path) -> Result<bool> {
    let repo = Repository::open(path)?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(false);
    let dirty = !repo.statuses(Some(&mut opts))?.is_empty();
    Ok(dirty)
}

/// Remove a lane worktree and its registration.
pub fn remove_worktree(project: &Project, name: &str, path: &Path) -> Result<()> {
    if path.exists() {
        fs::remove_dir_all(path).with_path("remove", path)?;
    }
    if let Ok(repo) = Repository::open(&project.root) {
        if let Ok(wt) = repo.find_worktree(name) {
            let _ = wt.prune(Some(
                git2::WorktreePruneOptions::new()
                    .valid(true)
                    .working_tree(true),
            ));
        }
    }
    Ok(())
}

/// A short diff of a lane branch against its base: changed files and the patch
/// text, cut at `max_bytes`.
pub fn lane_diff(
    project: &Project,
    branch: &str,
    base: &str,
    max_bytes: usize,
) -> Result<(Vec<String>, String)> {
    let repo = open_main(project)?;
    let head = repo
        .find_branch(branch, BranchType::Local)?
        .get()
        .peel_to_commit()?;
    let base_commit = repo
        .find_branch(base, BranchType::Local)?
        .get()
        .peel_to_commit()?;
    let merge_base = repo.merge_base(head.id(), base_commit.id())?;
    let old = repo.find_commit(merge_base)?.tree()?;
    let new = head.tree()?;
    let diff = repo.diff_tree_to_tree(Some(&old), Some(&new), None)?;
    let mut files = Vec::new();
    for d in diff.deltas() {
        if let Some(p) = d.new_file().path().or_else(|| d.old_file().path()) {
            files.push(format!("{:?} {}", d.status(), p.display()));
        }
    }
    let mut patch = String::new();
    let mut truncated = false;
    diff.print(git2::DiffFormat::Patch, |_, _, line| {
        if patch.len() > max_bytes {
            truncated = true;
            return false;
        }
        if matches!(line.origin(), '+' | '-' | ' ') {
            patch.push(line.origin());
        }
        patch.push_str(&String::from_utf8_lossy(line.content()));
        true
    })
    .or_else(|e| if truncated { Ok(()) } else { Err(e) })?;
    if truncated {
        patch.push_str("\n[diff cut here; run the git diff command above for the rest]\n");
    }
    Ok((files, patch))
}
