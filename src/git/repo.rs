//! [`Repo`]: a repository opened once per command and handed down to every
//! layer that reads or writes git state. Modules above the git layer hold a
//! `&Repo` and call its methods (or the git module's functions taking one);
//! the libgit2 handle inside never leaves `src/git`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use git2::Repository;

use super::error::Result;
use super::Oid;

/// An open repository: the main checkout's, or a lane worktree's.
pub struct Repo {
    /// The libgit2 handle, for the git layer's own functions only (shared
    /// while a [`Sharing`] holds it, see [`Repo::share`]).
    pub(in crate::git) git: Rc<Repository>,
}

thread_local! {
    /// The directory a command shares the repository of, and that repository
    /// once opened (see [`Repo::share`]).
    static SHARED: RefCell<Option<(PathBuf, Option<Rc<Repository>>)>> = const { RefCell::new(None) };
}

/// While alive, [`Repo::open`] of the directory it names hands out one
/// repository, opened on the first call. Dropping it ends the sharing.
#[derive(Debug)]
#[must_use = "the sharing ends when this is dropped"]
pub struct Sharing(());

impl Drop for Sharing {
    fn drop(&mut self) {
        SHARED.with(|s| s.borrow_mut().take());
    }
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
        let shared = SHARED.with(|s| {
            s.borrow()
                .as_ref()
                .filter(|(at, _)| at == dir)
                .map(|(_, repo)| repo.clone())
        });
        match shared {
            Some(Some(git)) => Ok(Repo { git }),
            Some(None) => {
                crate::env::crash_step("git-open", Some(dir));
                let git = Rc::new(Repository::open(dir)?);
                super::config_file::remember_parsed(&git);
                SHARED.with(|s| {
                    if let Some((_, slot)) = s.borrow_mut().as_mut() {
                        *slot = Some(git.clone());
                    }
                });
                Ok(Repo { git })
            }
            None => {
                crate::env::crash_step("git-open", Some(dir));
                let git = Rc::new(Repository::open(dir)?);
                super::config_file::remember_parsed(&git);
                Ok(Repo { git })
            }
        }
    }

    /// Share the repository of `dir` (a command's main checkout) for as
    /// long as the returned [`Sharing`] lives: every [`Repo::open`] of `dir`
    /// on this thread gets the same handle, opened once. A command's surface
    /// holds one around the command and its `auto_commit`, so the commit
    /// after the command works through the repository the command opened.
    /// One directory at a time; a new sharing replaces the old.
    pub fn share(dir: &Path) -> Sharing {
        SHARED.with(|s| *s.borrow_mut() = Some((dir.to_path_buf(), None)));
        Sharing(())
    }

    /// Open the repository that contains `dir` (searching its parents).
    pub fn discover(dir: &Path) -> Result<Repo> {
        crate::env::crash_step("git-open", Some(dir));
        Ok(Repo {
            git: Rc::new(Repository::discover(dir)?),
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

    /// Does any of the local branches `branches` exist (with a commit at its
    /// tip)? The same answer as asking [`Repo::branch_tip`] of each, from
    /// one walk of the references they share a prefix with: each lookup of
    /// a branch that does not exist looked for the packed-refs file again.
    pub fn any_branch(&self, branches: &[String]) -> bool {
        let Some(glob) = shared_prefix_glob(branches) else {
            return branches.iter().any(|b| self.branch_tip(b).is_some());
        };
        let Ok(refs) = self.git.references_glob(&glob) else {
            return branches.iter().any(|b| self.branch_tip(b).is_some());
        };
        refs.flatten().any(|r| {
            r.name()
                .and_then(|n| n.strip_prefix("refs/heads/"))
                .is_some_and(|n| branches.iter().any(|b| b == n))
                && r.peel_to_commit().is_ok()
        })
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

/// `refs/heads/<prefix>*` for the longest prefix `branches` share, when it
/// holds no glob character (else None: the caller looks each one up).
fn shared_prefix_glob(branches: &[String]) -> Option<String> {
    let first = branches.first()?;
    let mut len = first.len();
    for b in &branches[1..] {
        len = len.min(
            first
                .bytes()
                .zip(b.bytes())
                .take_while(|(x, y)| x == y)
                .count(),
        );
    }
    let prefix = first.get(..len)?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.');
    prefix
        .chars()
        .all(plain)
        .then(|| format!("refs/heads/{prefix}*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_branch_answers_as_a_lookup_of_each() {
        let tmp = tempfile::tempdir().unwrap();
        let git = Repository::init(tmp.path()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let tree = git
            .find_tree(git.index().unwrap().write_tree().unwrap())
            .unwrap();
        let c = git.commit(None, &sig, &sig, "one", &tree, &[]).unwrap();
        let c = git.find_commit(c).unwrap();
        git.branch("kitty/mission-001-x-lane-b", &c, false).unwrap();
        git.branch("kitty/mission-001-x-lane-bb", &c, false)
            .unwrap();
        git.branch("other", &c, false).unwrap();
        let repo = Repo::open(tmp.path()).unwrap();
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for (asked, want) in [
            (names(&["kitty/mission-001-x-lane-a"]), false),
            (
                names(&["kitty/mission-001-x-lane-a", "kitty/mission-001-x-lane-b"]),
                true,
            ),
            // A longer branch sharing the prefix is not the one asked.
            (
                names(&["kitty/mission-001-x-lane-b", "kitty/mission-001-x-lane-c"]),
                true,
            ),
            (
                names(&["kitty/mission-001-x-lane-c", "kitty/mission-001-x-lane-d"]),
                false,
            ),
            (names(&["kitty/mission-001-x-lane-bbb"]), false),
            (names(&["other", "kitty/mission-001-x-lane-z"]), true),
            (names(&["kitty/mission-001-x-lane-[b]"]), false),
            (names(&["kitty/mission-001-x-lane-?"]), false),
            (Vec::new(), false),
        ] {
            let each = asked.iter().any(|b| repo.branch_tip(b).is_some());
            assert_eq!(each, want, "{asked:?}");
            assert_eq!(repo.any_branch(&asked), want, "{asked:?}");
        }
        // Packed refs answer the same.
        let out = std::process::Command::new("git")
            .args(["pack-refs", "--all"])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git pack-refs: {out:?}");
        assert!(!tmp.path().join(".git/refs/heads/other").exists());
        let repo = Repo::open(tmp.path()).unwrap();
        assert!(repo.any_branch(&names(&["kitty/mission-001-x-lane-b"])));
        assert!(repo.any_branch(&names(&["other", "kitty/mission-001-x-lane-z"])));
        assert!(!repo.any_branch(&names(&["kitty/mission-001-x-lane-c"])));
    }
}
