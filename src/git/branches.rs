//! Branches, worktrees and remotes as the operations list them: the local
//! branches and registered worktrees of a repository (and dropping one), the
//! remotes of a clone and where their tracking branches point.

use git2::BranchType;

use super::{Oid, Repo};

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
