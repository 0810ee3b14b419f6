//! Local and remote-tracking branches as the operations read and remove
//! them: which branches and worktrees a repository has, how far a branch is
//! ahead of another, when it last committed work of its own, and deleting a
//! branch that is not checked out.

use chrono::{DateTime, Utc};
use git2::BranchType;

use super::error::Result;
use super::{Oid, Repo};

/// What [`Repo::remove_branch`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchRemoval {
    Removed,
    /// The main checkout has it checked out: kept.
    CheckedOut,
    Missing,
}

impl Repo {
    /// The names of the local branches (names git cannot show as UTF-8 are left out).
    pub fn local_branch_names(&self) -> Vec<String> {
        let Ok(branches) = self.git.branches(Some(BranchType::Local)) else {
            return Vec::new();
        };
        branches
            .flatten()
            .filter_map(|(b, _)| b.name().ok().flatten().map(str::to_string))
            .collect()
    }

    /// The names of the linked worktrees git has registered.
    pub fn worktree_names(&self) -> Vec<String> {
        let Ok(names) = self.git.worktrees() else {
            return Vec::new();
        };
        names.iter().flatten().map(str::to_string).collect()
    }

    /// Delete local `branch` unless HEAD points at it.
    pub fn remove_branch(&self, branch: &str) -> Result<BranchRemoval> {
        match self.git.find_branch(branch, BranchType::Local) {
            Ok(b) if b.is_head() => Ok(BranchRemoval::CheckedOut),
            Ok(mut b) => {
                b.delete()?;
                Ok(BranchRemoval::Removed)
            }
            Err(_) => Ok(BranchRemoval::Missing),
        }
    }

    /// How many commits local `branch` has that local `target` lacks: 0
    /// when `branch` does not exist, 1 when `target` does not (all of it is
    /// unmerged then).
    pub fn unmerged_commit_count(&self, branch: &str, target: &str) -> Result<usize> {
        let Ok(b) = self.git.find_branch(branch, BranchType::Local) else {
            return Ok(0);
        };
        let tip = b.get().peel_to_commit()?.id();
        let Ok(t) = self.git.find_branch(target, BranchType::Local) else {
            return Ok(1);
        };
        let base = t.get().peel_to_commit()?.id();
        let (ahead, _) = self.git.graph_ahead_behind(tip, base)?;
        Ok(ahead)
    }

    /// When `branch` last committed work of its own; see [`super::own_tip_time`].
    pub fn own_tip_time(&self, branch: &str, base: &str) -> Option<DateTime<Utc>> {
        super::own_tip_time(&self.git, branch, base)
    }

    /// The directories of the linked worktrees git has registered (see
    /// [`super::worktree::registered_paths`]).
    pub fn worktree_paths(&self) -> Vec<std::path::PathBuf> {
        super::worktree::paths_of(&self.git)
    }

    /// Drop the registration of worktree `name`, its directory included when
    /// git still has one (see [`super::worktree::prune`]); best effort.
    pub fn drop_worktree(&self, name: &str) {
        super::worktree::prune_in(&self.git, name);
    }

    /// Is there a remote of this name in the clone?
    pub fn has_remote(&self, name: &str) -> bool {
        super::remote::exists(&self.git, name)
    }

    /// Where the remote-tracking branch `<remote>/<branch>` points, if this
    /// clone has it.
    pub fn tracking_tip(&self, remote: &str, branch: &str) -> Option<Oid> {
        super::remote::tracking_tip(&self.git, remote, branch)
    }
}
