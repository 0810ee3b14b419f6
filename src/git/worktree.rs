//! Linked worktrees as git registers them: which directories are worktrees
//! of a repository, and dropping a registration.

use std::path::{Path, PathBuf};

use git2::{BranchType, Oid, Repository, WorktreeAddOptions};

/// The directories of the worktrees registered in the repository at `root`
/// (as git records them; empty when it is not a repository).
pub fn registered_paths(root: &Path) -> Vec<PathBuf> {
    let Ok(repo) = super::traced_open::open(root) else {
        return Vec::new();
    };
    paths_of(&repo)
}

/// [`registered_paths`] of an open repository.
pub(in crate::git) fn paths_of(repo: &Repository) -> Vec<PathBuf> {
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
    if let Ok(repo) = super::traced_open::open(root) {
        prune_in(&repo, name);
    }
}

/// [`prune`] in an open repository.
pub(in crate::git) fn prune_in(repo: &Repository, name: &str) {
    if let Ok(wt) = repo.find_worktree(name) {
        let _ = wt.prune(Some(
            git2::WorktreePruneOptions::new()
                .valid(true)
                .working_tree(true),
        ));
    }
}

/// Register worktree `name` at `path` in the repository at `root`, checked
/// out detached at `commit`. libgit2 adds a worktree on a branch only: a
/// throwaway branch is made, the new worktree's HEAD detached, the branch
/// deleted (also when the add failed).
pub fn add_detached(root: &Path, name: &str, path: &Path, commit: Oid) -> Result<(), git2::Error> {
    let repo = super::traced_open::open(root)?;
    let c = repo.find_commit(commit)?;
    let temp = format!("kitty/scratch-{name}");
    let branch = repo.branch(&temp, &c, true)?;
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(branch.get()));
    let detached = repo.worktree(name, path, Some(&opts)).and_then(|wt| {
        let r = Repository::open_from_worktree(&wt)?;
        r.set_head_detached(commit)
    });
    if let Ok(mut b) = repo.find_branch(&temp, BranchType::Local) {
        let _ = b.delete();
    }
    detached
}
