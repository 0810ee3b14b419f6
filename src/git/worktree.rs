//! Linked worktrees as git registers them: which directories are worktrees
//! of a repository, and dropping a registration.

use std::path::{Path, PathBuf};

use git2::Repository;

/// The directories of the worktrees registered in the repository at `root`
/// (as git records them; empty when it is not a repository).
pub fn registered_paths(root: &Path) -> Vec<PathBuf> {
    let Ok(repo) = Repository::open(root) else {
        return Vec::new();
    };
    let Ok(names) = repo.worktrees() else {
        return Vec::new();
    };
    names
        .iter()
        .flatten()
        .filter_map(|n| repo.find_worktree(n).ok().map(|w| w.path().to_path_buf()))
        .collect()
}

/// Drop the registration of worktree `name` of the repository at `root`,
/// its directory included when git still has one; best effort (a missing
/// repository or registration is nothing to do).
pub fn prune(root: &Path, name: &str) {
    if let Ok(repo) = Repository::open(root) {
        if let Ok(wt) = repo.find_worktree(name) {
            let _ = wt.prune(Some(
                git2::WorktreePruneOptions::new()
                    .valid(true)
                    .working_tree(true),
            ));
        }
    }
}
