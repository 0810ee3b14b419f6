//! Scratch worktrees: a detached checkout of one commit under the project's
//! `.worktrees/`, for running a command on work that no lane worktree holds
//! (the mission's lanes merged together, a hand-in under review). Nobody's
//! work lives there: it is made fresh each time and removed with
//! [`crate::confine`] (only a folder directly inside `.worktrees/` that git
//! lists as a worktree of this repository).

use std::path::{Path, PathBuf};

use git2::{BranchType, Oid, Repository, WorktreeAddOptions};

use crate::confine::{self, Area, ConfineError};
use crate::error::Diagnose;
use crate::fsutil::FsError;
use crate::project::Project;

/// Why a scratch worktree could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error(transparent)]
    Confine(#[from] ConfineError),
    #[error(transparent)]
    Fs(#[from] FsError),
}

impl Diagnose for ScratchError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            ScratchError::Git(_) => crate::error::Kind::User,
            ScratchError::Confine(e) => e.kind(),
            ScratchError::Fs(e) => e.kind(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ScratchError::Git(_) => {
                Some("check `git worktree list`; `git worktree prune` clears stale entries".into())
            }
            ScratchError::Confine(e) => e.hint(),
            ScratchError::Fs(e) => e.hint(),
        }
    }
}

/// A detached worktree at one commit. Dropping it removes the folder and its
/// registration (even when the command run there failed), unless [`kept`].
///
/// [`kept`]: Scratch::keep
#[derive(Debug)]
pub struct Scratch {
    project: Project,
    name: String,
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    /// Check out `commit` (detached) in `.worktrees/<name>`, registered as
    /// worktree `name`. A scratch worktree of that name left by an earlier run
    /// is removed first; anything else in the way is refused.
    pub fn create(
        project: &Project,
        repo: &Repository,
        name: &str,
        commit: Oid,
    ) -> Result<Scratch, ScratchError> {
        let path = project.worktrees_dir().join(name);
        confine::creatable(project, &path, Area::Worktree)?;
        // A leftover of ours (a killed run): git lists it, so confine allows it.
        confine::remove_worktree(project, name, &path)?;
        crate::fsutil::create_dir_all(&project.worktrees_dir())?;
        let c = repo.find_commit(commit)?;
        // libgit2 adds a worktree on a branch only: make a throwaway one, then
        // detach the new worktree's HEAD and delete the branch.
        let temp = format!("kitty/scratch-{name}");
        let branch = repo.branch(&temp, &c, true)?;
        let mut opts = WorktreeAddOptions::new();
        opts.reference(Some(branch.get()));
        let added = repo.worktree(name, &path, Some(&opts));
        let scratch = Scratch {
            project: project.clone(),
            name: name.to_string(),
            path: path.clone(),
            keep: false,
        };
        let detached = added.and_then(|wt| {
            let r = Repository::open_from_worktree(&wt)?;
            r.set_head_detached(commit)
        });
        if let Ok(mut b) = repo.find_branch(&temp, BranchType::Local) {
            let _ = b.delete();
        }
        detached?;
        Ok(scratch)
    }

    /// Where the checkout is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keep the worktree (it is the caller's to hand out); returns its path.
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = confine::remove_worktree(&self.project, &self.name, &self.path);
        }
    }
}
