//! A checkout's own state and the changes to it the workspace layer makes:
//! what HEAD is on, the uncommitted paths, adding a lane worktree on its
//! branch, dropping a stale registration, moving a checkout to a commit.

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{BranchType, StatusOptions, WorktreePruneOptions};

use super::error::{GitError, Result};
use super::{Oid, Repo};

/// What the HEAD of a checkout is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadState {
    /// On this branch (unborn or unreadable HEADs name it from the HEAD file).
    Branch(String),
    /// Detached at this commit (None when HEAD cannot be read).
    Detached(Option<Oid>),
    /// Neither could be told.
    Unknown,
}

impl Repo {
    /// What HEAD is on.
    pub fn head_state(&self) -> HeadState {
        let git = &self.git;
        if git.head_detached().unwrap_or(false) {
            return HeadState::Detached(git.head().ok().and_then(|h| h.target()));
        }
        let name = match git.head() {
            Ok(h) => h.shorthand().map(str::to_string),
            Err(_) => std::fs::read_to_string(git.path().join("HEAD"))
                .ok()
                .and_then(|t| {
                    t.trim()
                        .strip_prefix("ref: refs/heads/")
                        .map(str::to_string)
                }),
        };
        name.map_or(HeadState::Unknown, HeadState::Branch)
    }

    /// Does the checkout hold uncommitted changes (untracked files included,
    /// an untracked directory counted once)?
    pub fn has_uncommitted(&self) -> Result<bool> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true).recurse_untracked_dirs(false);
        Ok(!self.git.statuses(Some(&mut opts))?.is_empty())
    }

    /// The paths of the checkout's uncommitted changes, untracked files
    /// inside untracked directories included.
    pub fn uncommitted_paths(&self) -> Result<Vec<String>> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true).recurse_untracked_dirs(true);
        Ok(self
            .git
            .statuses(Some(&mut opts))?
            .iter()
            .filter_map(|s| s.path().map(str::to_string))
            .collect())
    }

    /// Index and files reset to HEAD's commit, untracked files removed.
    pub fn reset_hard_to_head(&self) -> Result<()> {
        let head = self.git.head()?.peel_to_commit()?;
        let mut co = CheckoutBuilder::new();
        co.force().remove_untracked(true);
        self.git
            .reset(head.as_object(), git2::ResetType::Hard, Some(&mut co))?;
        Ok(())
    }

    /// Check out `commit`'s tree safely (local changes are never overwritten),
    /// without moving HEAD or any branch.
    pub fn checkout_commit_safely(&self, commit: Oid) -> Result<()> {
        let tree = self.git.find_commit(commit)?.into_object();
        let mut co = CheckoutBuilder::new();
        co.safe();
        self.git.checkout_tree(&tree, Some(&mut co))?;
        Ok(())
    }

    /// Point local branch `branch` at `commit`, logging `why` in its reflog.
    pub fn set_branch_target(&self, branch: &str, commit: Oid, why: &str) -> Result<()> {
        let mut r = self.git.find_reference(&format!("refs/heads/{branch}"))?;
        r.set_target(commit, why)?;
        Ok(())
    }

    /// Create local branch `branch` at `commit`; with `force`, an existing one
    /// is moved there.
    pub fn create_branch(&self, branch: &str, commit: Oid, force: bool) -> Result<()> {
        self.git
            .branch(branch, &self.git.find_commit(commit)?, force)?;
        Ok(())
    }

    /// Does local branch `branch` exist?
    pub fn has_branch(&self, branch: &str) -> bool {
        self.git.find_branch(branch, BranchType::Local).is_ok()
    }

    /// Drop the registration of worktree `name` when git finds it invalid
    /// (its directory deleted by hand); best effort.
    pub fn prune_stale_worktree(&self, name: &str) {
        if let Ok(old) = self.git.find_worktree(name) {
            if old.validate().is_err() {
                let _ = old.prune(Some(
                    WorktreePruneOptions::new().valid(true).working_tree(true),
                ));
            }
        }
    }

    /// Add worktree `name` at `path`, checked out on local branch `branch`:
    /// what libgit2's `git_worktree_add` does (the same registration, then
    /// the same checkout of HEAD into the empty directory), except that the
    /// checkout skips libgit2's filters when none of them can change a byte
    /// ([`super::filters`]): each costs an attribute lookup and a `realpath`
    /// per file. The files, modes, links and index are the same either way.
    pub fn add_worktree_on(&self, name: &str, path: &Path, branch: &str) -> Result<()> {
        let b = self.git.find_branch(branch, BranchType::Local)?;
        let reference = b.into_reference();
        let full = reference
            .name()
            .ok_or_else(|| git2::Error::from_str("the branch name is not valid UTF-8"))?;
        let _checks_off = super::worktree::ObjectChecksOff::new();
        super::worktree::register_unchecked_out(self.git.path(), name, path, full)?;
        let wt = super::traced_open::open(path)?;
        let unfiltered = super::filters::head_checkout_is_unfiltered(&wt);
        // Test hook: the worktree registered, none of its files written
        // (labelled `worktree-checkout:unfiltered` or `:filtered`, the way
        // the checkout goes).
        crate::env::crash_step(
            "worktree-checkout",
            Some(Path::new(if unfiltered {
                "unfiltered"
            } else {
                "filtered"
            })),
        );
        let mut co = CheckoutBuilder::new();
        co.disable_filters(unfiltered);
        wt.checkout_head(Some(&mut co))?;
        Ok(())
    }

    /// The names of the clone's remotes.
    pub fn remote_names(&self) -> Vec<String> {
        self.git
            .remotes()
            .map(|r| r.iter().flatten().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The remote local branch `branch` tracks (`branch.<name>.remote`), as
    /// libgit2 reads it; None when unset.
    pub fn upstream_remote(&self, branch: &str) -> Option<String> {
        self.git
            .branch_upstream_remote(&format!("refs/heads/{branch}"))
            .ok()
            .and_then(|b| b.as_str().map(str::to_string))
    }
}

impl GitError {
    /// What went wrong in git's own words: libgit2's message without the
    /// `git: ` the error's display adds; the display of any other failure.
    pub fn git_message(&self) -> String {
        match self {
            GitError::Git(e) => e.message().to_string(),
            e => e.to_string(),
        }
    }

    /// Did libgit2 fail because a lock file (e.g. `index.lock`) is held?
    pub fn is_locked(&self) -> bool {
        self.code() == Some(git2::ErrorCode::Locked)
    }
}

impl Repo {
    /// Create local branch `name` at `at` unless it exists; see [`super::ensure_branch`].
    pub fn ensure_branch(&self, name: &str, at: Oid) -> Result<bool> {
        Ok(super::ensure_branch(&self.git, name, at)?)
    }
}

impl Repo {
    /// The tree of `branch`'s tip, for questions about what is committed
    /// there; None when the branch does not exist.
    pub fn branch_tree(&self, branch: &str) -> Result<Option<super::commit::BranchTree<'_>>> {
        super::commit::BranchTree::of(&self.git, branch)
    }
}
