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

thread_local! {
    /// The repositories [`with_discovered`] found, by the directory asked
    /// about (a few at most: the main checkout, a lane worktree).
    static DISCOVERED: std::cell::RefCell<Vec<(std::path::PathBuf, Repository)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// How many directories [`with_discovered`] remembers per thread.
const DISCOVERED_CAP: usize = 8;

/// Run `f` on the repository containing `dir`, discovered once per thread:
/// a command that reads the status log many times (each read asks the index
/// whether git left the log unmerged) opens the repository for it once. The
/// index is read again from disk whenever it changed since (`f` sees the
/// current one). None when `dir` is in no repository.
pub(in crate::git) fn with_discovered<T>(
    dir: &Path,
    f: impl FnOnce(&Repository) -> Option<T>,
) -> Option<T> {
    DISCOVERED.with(|cell| {
        let mut cache = cell.borrow_mut();
        let at = match cache.iter().position(|(d, _)| d == dir) {
            Some(i) => i,
            None => {
                let repo = discover(dir).ok()?;
                if cache.len() >= DISCOVERED_CAP {
                    cache.remove(0);
                }
                cache.push((dir.to_path_buf(), repo));
                cache.len() - 1
            }
        };
        let repo = &cache.get(at)?.1;
        // The cached index follows the file on disk (read only when changed).
        if let Ok(mut index) = repo.index() {
            let _ = index.read(false);
        }
        f(repo)
    })
}
