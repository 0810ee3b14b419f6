//! Linked worktrees as git registers them: which directories are worktrees
//! of a repository, and dropping a registration.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::{BranchType, Oid, Repository, WorktreeAddOptions};

/// How many [`ObjectChecksOff`] are alive in the process.
static CHECKS_OFF: Mutex<usize> = Mutex::new(0);

/// While alive, libgit2 skips two checks of its own that a new worktree's
/// checkout would otherwise make once per file, and that `git worktree add`
/// does not make: hashing every object it reads again to compare it with its
/// id (strict hash verification; zlib's checksum still catches a damaged
/// object), and reading every blob's header again before the new index may
/// name it (strict object creation; the blob was just read from the tree
/// being checked out). At 5,000 files they were a fifth of the checkout's
/// instructions and an extra open and read per file. Process-wide libgit2
/// settings: the first guard turns them off, the last one dropped turns
/// them back on.
pub(in crate::git) struct ObjectChecksOff(());

impl ObjectChecksOff {
    pub(in crate::git) fn new() -> ObjectChecksOff {
        let mut n = CHECKS_OFF.lock().unwrap_or_else(|e| e.into_inner());
        if *n == 0 {
            git2::opts::strict_hash_verification(false);
            git2::opts::strict_object_creation(false);
        }
        *n += 1;
        ObjectChecksOff(())
    }
}

impl Drop for ObjectChecksOff {
    fn drop(&mut self) {
        let mut n = CHECKS_OFF.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
        if *n == 0 {
            git2::opts::strict_hash_verification(true);
            git2::opts::strict_object_creation(true);
        }
    }
}

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
    let checks_off = ObjectChecksOff::new();
    let detached = repo.worktree(name, path, Some(&opts)).and_then(|wt| {
        let r = Repository::open_from_worktree(&wt)?;
        r.set_head_detached(commit)
    });
    drop(checks_off);
    if let Ok(mut b) = repo.find_branch(&temp, BranchType::Local) {
        let _ = b.delete();
    }
    detached
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks are off while a guard lives and back on once the last one
    /// is dropped: a loose object whose content is not what its id names is
    /// read while they are off, refused after.
    #[test]
    fn object_checks_come_back_after_the_last_guard() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let one = repo.blob(b"one\n").unwrap();
        let two = repo.blob(b"two\n").unwrap();
        let file = |id: Oid| {
            let hex = id.to_string();
            let (fan, rest) = hex.split_at_checked(2).unwrap();
            dir.path().join(".git/objects").join(fan).join(rest)
        };
        std::fs::remove_file(file(two)).unwrap();
        std::fs::copy(file(one), file(two)).unwrap();
        // A fresh open each time: no object cache in between.
        let read = || Repository::open(dir.path()).unwrap().find_blob(two).is_ok();
        {
            let _outer = ObjectChecksOff::new();
            drop(ObjectChecksOff::new());
            assert!(read(), "the checks came back while a guard was alive");
        }
        // Another test's guard may be alive: read while none is (the lock
        // keeps one from starting meanwhile).
        loop {
            let alive = CHECKS_OFF.lock().unwrap_or_else(|e| e.into_inner());
            if *alive == 0 {
                assert!(!read(), "the hash check did not come back");
                break;
            }
            drop(alive);
            std::thread::yield_now();
        }
    }
}
