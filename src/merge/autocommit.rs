//! `auto_commit: true`: after a state-writing command, commit exactly the files
//! it changed under `kitty-specs/<mission>/`, one commit per mission, on the
//! current branch. The surface decides which commands write state and holds a
//! [`Changes`] open around the command; this module finds what changed and
//! commits it through [`record`].
//!
//! What a command changed is what it wrote: every write, append, removal and
//! new mission directory goes through `fsutil` or `confine`, which record the
//! path in the process's [`WriteJournal`] while one is open. So the cost is
//! the files the command wrote, not every file of the project (a 5,000-WP
//! mission's files were once stamped before and after every command). A file
//! someone else changed meanwhile is not the command's and is not committed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::MergeError;
use crate::fsutil::WriteJournal;
use crate::git::commit as record;
use crate::git::Repo;
use crate::project::Project;

/// The record of what a command writes, open while it runs.
#[derive(Debug)]
pub struct Changes(WriteJournal);

impl Changes {
    /// Start recording the files this process writes.
    pub fn start() -> Changes {
        Changes(WriteJournal::open())
    }

    /// Stop recording: the files written under `kitty-specs/<mission>/`,
    /// grouped by mission directory, as repository-relative paths with `/`
    /// separators. A directory written as a whole (a new mission) stands for
    /// every file in it; paths outside the project's `kitty-specs/` (lane
    /// worktrees, `.kittify/`, the git directory) are not a mission's.
    pub fn finish(self, project: &Project) -> BTreeMap<PathBuf, Vec<String>> {
        let mut by_mission: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        let specs = project.specs_dir();
        let real_specs = std::fs::canonicalize(&specs).ok();
        for path in self.0.close() {
            let Some(rel) = under(&specs, real_specs.as_deref(), &path) else {
                continue;
            };
            let mut parts = rel.components();
            let Some(mission) = parts.next() else {
                continue;
            };
            let dir = specs.join(mission.as_os_str());
            let mut add = |p: &Path| {
                if let Ok(r) = p.strip_prefix(&project.root) {
                    by_mission
                        .entry(dir.clone())
                        .or_default()
                        .push(r.to_string_lossy().replace('\\', "/"));
                }
            };
            let real = specs.join(&rel);
            if real.symlink_metadata().is_ok_and(|m| m.is_dir()) {
                for f in files_under(&real) {
                    add(&f);
                }
            } else {
                add(&real);
            }
        }
        for files in by_mission.values_mut() {
            files.sort();
            files.dedup();
        }
        by_mission
    }
}

/// `path` relative to `specs` (the project's `kitty-specs/`), when it lies
/// under it; a path spelled through another name of the same directory (a
/// linked working directory) is matched by its parent's real location.
fn under(specs: &Path, real_specs: Option<&Path>, path: &Path) -> Option<PathBuf> {
    if let Ok(rel) = path.strip_prefix(specs) {
        return Some(rel.to_path_buf());
    }
    let real_specs = real_specs?;
    let parent = std::fs::canonicalize(path.parent()?).ok()?;
    let rel = parent.join(path.file_name()?);
    rel.strip_prefix(real_specs).ok().map(Path::to_path_buf)
}

/// Every file under `dir` (links are not followed; unreadable directories
/// and entries are skipped: they cannot hold what was just written).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => out.push(e.path()),
                Err(_) => {}
            }
        }
    }
    out
}

/// What one mission's auto-commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub branch: String,
    pub files: usize,
}

/// What [`commit_mission`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoCommit {
    /// The files are committed.
    Committed(Committed),
    /// Nothing differs from HEAD.
    Nothing,
    /// The repository is in the middle of a git operation (a merge, a rebase,
    /// a cherry-pick): committing now would cut it in two, so the files are
    /// left for the commit that finishes it. `state` names the operation.
    Deferred { state: String },
}

/// The main checkout's repository for [`commit_mission`]: opened on the
/// first call and kept in `slot`, so a command committing several missions
/// opens it once.
pub fn repo_in<'a>(slot: &'a mut Option<Repo>, project: &Project) -> Result<&'a Repo, MergeError> {
    let repo = match slot.take() {
        Some(r) => r,
        None => super::open_repo(project)?,
    };
    Ok(slot.insert(repo))
}

/// Commit those of `touched` that differ from HEAD under the mission directory
/// `dir`, on the current branch, with `message`. Refused when the index holds
/// staged changes to other files (they would be swept into the commit);
/// deferred during a git merge, rebase or similar. `repo` is the main
/// checkout's, opened once by the caller for every mission it commits.
pub fn commit_mission(
    repo: &Repo,
    project: &Project,
    dir: &Path,
    touched: &[String],
    message: &str,
) -> Result<AutoCommit, MergeError> {
    if let Some(state) = repo.state().operation() {
        return Ok(AutoCommit::Deferred {
            state: state.to_lowercase(),
        });
    }
    // One spec-kitty commit at a time, from reading the tip to the index
    // following it; a commit someone else makes meanwhile is retried on.
    let _commits = repo.lock_commits()?;
    // A commit a kill cut short may have left the index behind its branch.
    repo.recover_killed_commits()?;
    let branch = repo.current_branch()?;
    let prefix = record::dir_prefix(&project.root, dir)?;
    let head = repo.head_commit_required()?;
    // A changed file is hashed once: the blob written to learn that it
    // changed is the one committed.
    let (files, known) = repo.changed_among_writing(head, &prefix, touched)?;
    if files.is_empty() {
        return Ok(AutoCommit::Nothing);
    }
    let others = repo.staged_elsewhere(&files)?;
    if !others.is_empty() {
        return Err(MergeError::AutoCommitStagedElsewhere { others });
    }
    let n = files.len();
    Ok(
        match repo.commit_paths_known(&branch, &files, message, true, &known)? {
            Some(_) => AutoCommit::Committed(Committed { branch, files: n }),
            None => AutoCommit::Nothing,
        },
    )
}
