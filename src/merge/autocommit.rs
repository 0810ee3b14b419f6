//! `auto_commit: true`: after a state-writing command, commit exactly the files
//! it changed under `kitty-specs/<mission>/`, one commit per mission, on the
//! current branch. The CLI decides which commands write state and takes the
//! two [`Stamps`]; this module finds what changed and commits it through
//! [`record`].
//!
//! A file's stamp is its size, modification time and inode: every write
//! spec-kitty makes is a rename or an append, so one of them changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::MergeError;
use crate::git::commit as record;
use crate::git::Repo;
use crate::project::Project;

type Stamp = (u64, Option<SystemTime>, u64);

/// The stamps of every file under `kitty-specs/`.
#[derive(Debug, Clone, Default)]
pub struct Stamps(BTreeMap<PathBuf, Stamp>);

impl Stamps {
    /// Stamp every file under the project's `kitty-specs/` (unreadable
    /// directories and entries are skipped: they cannot have been written).
    pub fn take(project: &Project) -> Stamps {
        let mut out = BTreeMap::new();
        let mut stack = vec![project.specs_dir()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(meta) = e.metadata() else { continue };
                if meta.is_dir() {
                    stack.push(e.path());
                } else {
                    out.insert(e.path(), (meta.len(), meta.modified().ok(), inode(&meta)));
                }
            }
        }
        Stamps(out)
    }

    /// Files changed or created since `self`, grouped by mission directory,
    /// as repository-relative paths with `/` separators.
    pub fn changed_since(&self, now: &Stamps, project: &Project) -> BTreeMap<PathBuf, Vec<String>> {
        let (old, new) = (&self.0, &now.0);
        let mut by_mission: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        let changed = old
            .iter()
            .filter(|(p, s)| new.get(*p) != Some(s))
            .chain(new.iter().filter(|(p, _)| !old.contains_key(*p)))
            .map(|(p, _)| p);
        for p in changed {
            let Ok(rel) = p.strip_prefix(&project.root) else {
                continue;
            };
            let mut parts = rel.components();
            let (Some(_specs), Some(mission)) = (parts.next(), parts.next()) else {
                continue;
            };
            by_mission
                .entry(project.specs_dir().join(mission.as_os_str()))
                .or_default()
                .push(rel.to_string_lossy().replace('\\', "/"));
        }
        by_mission
    }
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
    let files = repo.changed_among(head, &prefix, touched)?;
    if files.is_empty() {
        return Ok(AutoCommit::Nothing);
    }
    let others = repo.staged_elsewhere(&files)?;
    if !others.is_empty() {
        return Err(MergeError::AutoCommitStagedElsewhere { others });
    }
    let n = files.len();
    Ok(match repo.commit_paths(&branch, &files, message, true)? {
        Some(_) => AutoCommit::Committed(Committed { branch, files: n }),
        None => AutoCommit::Nothing,
    })
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}
