//! [`Repo`]: a repository opened once per command and handed down to every
//! layer that reads or writes git state. Modules above the git layer hold a
//! `&Repo` and call its methods (or the git module's functions taking one);
//! the libgit2 handle inside never leaves `src/git`.

use std::path::Path;

use git2::Repository;

use super::error::Result;
use super::Oid;

/// An open repository: the main checkout's, or a lane worktree's.
pub struct Repo {
    /// The libgit2 handle, for the git layer's own functions only.
    pub(in crate::git) git: Repository,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("path", &self.git.path())
            .finish()
    }
}

impl Repo {
    /// Open the repository whose working tree (or git directory) is `dir`.
    pub fn open(dir: &Path) -> Result<Repo> {
        crate::env::crash_step("git-open", Some(dir));
        Ok(Repo {
            git: Repository::open(dir)?,
        })
    }

    /// Open the repository that contains `dir` (searching its parents).
    pub fn discover(dir: &Path) -> Result<Repo> {
        crate::env::crash_step("git-open", Some(dir));
        Ok(Repo {
            git: Repository::discover(dir)?,
        })
    }

    /// The working tree, None for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.git.workdir()
    }

    /// The git directory (`.git`, or `.git/worktrees/<name>` for a linked worktree).
    pub fn git_dir(&self) -> &Path {
        self.git.path()
    }

    /// The git directory shared by every worktree of the repository.
    pub fn common_dir(&self) -> &Path {
        self.git.commondir()
    }

    /// The commit HEAD points at; None on an unborn branch.
    pub fn head_commit(&self) -> Option<Oid> {
        self.git.head().ok()?.peel_to_commit().ok().map(|c| c.id())
    }

    /// The tip of a local branch, if the branch exists.
    pub fn branch_tip(&self, branch: &str) -> Option<Oid> {
        super::branch_tip(&self.git, branch)
    }

    /// The commit a user-given revision names; see [`super::resolve_commit`].
    pub fn resolve_commit(&self, spec: &str) -> Option<Oid> {
        super::resolve_commit(&self.git, spec)
    }

    /// Does `commit` contain `ancestor` (equal, or a descendant of it)?
    pub fn contains(&self, commit: Oid, ancestor: Oid) -> Result<bool> {
        Ok(super::contains(&self.git, commit, ancestor)?)
    }

    /// `user.name` and `user.email` the way git resolves the committer.
    pub fn identity(&self) -> Result<(Option<String>, Option<String>)> {
        Ok(super::identity(&self.git)?)
    }
}
