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
