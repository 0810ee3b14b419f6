//! The libgit2 opens of the git layer's own path-taking helpers
//! (`worktree::registered_paths`, `compare::*`, `is_ignored`...): each passes
//! the `git-open` step as [`super::Repo::open`] does, so a test counting the
//! repository opens of a command sees every one of them.

use std::path::Path;

use git2::Repository;

/// `Repository::open(dir)`, counted as a `git-open` step.
pub(in crate::git) fn open(dir: &Path) -> Result<Repository, git2::Error> {
    crate::env::crash_step("git-open", Some(dir));
    Repository::open(dir)
}

/// `Repository::discover(dir)`, counted as a `git-open` step.
pub(in crate::git) fn discover(dir: &Path) -> Result<Repository, git2::Error> {
    crate::env::crash_step("git-open", Some(dir));
    Repository::discover(dir)
}
