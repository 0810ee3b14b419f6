//! The main checkout as a merge sees it and moves it: which branch it is on,
//! whether a git operation is under way, what is dirty, which branches other
//! worktrees hold; and switching exactly the paths that differ between two
//! commits (files, then index), refusing somebody's edit. Also the branch ref
//! moves a merge makes, each one compare-and-swap against the tip it expects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{build::CheckoutBuilder, Repository, Status, StatusOptions};

use super::error::Result;
use super::{GitError, Oid, Repo};

/// The branch HEAD of a repository points at, if it is on a branch.
fn head_branch_of(repo: &Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    head.symbolic_target()?
        .strip_prefix("refs/heads/")
        .map(str::to_string)
}

impl Repo {
    /// The branch HEAD points at (even unborn), None when detached.
    pub fn head_branch(&self) -> Option<String> {
        head_branch_of(&self.git)
    }

    /// Branches checked out in linked worktrees: branch name → worktree path.
    pub fn linked_checkouts(&self) -> BTreeMap<String, PathBuf> {
        let mut out = BTreeMap::new();
        let Ok(names) = self.git.worktrees() else {
            return out;
        };
        for name in names.iter().flatten() {
            let Ok(wt) = self.git.find_worktree(name) else {
                continue;
            };
            let Ok(r) = Repository::open_from_worktree(&wt) else {
                continue;
            };
            if let Some(b) = head_branch_of(&r) {
                out.insert(b, wt.path().to_path_buf());
            }
        }
        out
    }

    /// Every path git reports as changed, staged or untracked (untracked
    /// directories walked; ignored files left out).
    pub fn dirty_paths(&self) -> Result<Vec<String>> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false);
        let mut dirt = Vec::new();
        for e in self.git.statuses(Some(&mut opts))?.iter() {
            let st = e.status();
            if st.is_empty() || st == Status::IGNORED {
                continue;
            }
            dirt.push(String::from_utf8_lossy(e.path_bytes()).into_owned());
        }
        Ok(dirt)
    }

    /// Of the paths that differ between commits `from` and `to`, those the
    /// working tree holds somebody's edit of (see [`merge_own`]); and all of
    /// those paths. Refused, naming it, when `.git/index.lock` is there.
    pub fn switch_plan(&self, from: Oid, to: Oid) -> Result<SwitchPlan> {
        let repo = &self.git;
        let from = repo.find_commit(from)?.tree()?;
        let to = repo.find_commit(to)?.tree()?;
        let paths = super::history::tree_changes(repo, &from, &to)?;
        if paths.is_empty() {
            return Ok(SwitchPlan::default());
        }
        super::commit::index_lock_free(repo)?;
        let workdir = repo.workdir().ok_or(GitError::NoWorkdir)?.to_path_buf();
        let index = repo.index()?;
        let mut edited = Vec::new();
        for p in &paths {
            if !merge_own(repo, &index, &workdir, p, &from, &to)? {
                edited.push(p.clone());
            }
        }
        let gone = paths
            .iter()
            .filter(|p| to.get_path(Path::new(p.as_str())).is_err())
            .cloned()
            .collect();
        Ok(SwitchPlan {
            paths,
            edited,
            gone,
        })
    }

    /// Write the files of commit `to` at `paths` into the working tree and
    /// the index (forced: [`Repo::switch_plan`] checked them). `progress` is
    /// told (files done, files in all) as the checkout goes.
    pub fn checkout_paths(
        &self,
        to: Oid,
        paths: &[String],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<()> {
        let tree = self.git.find_commit(to)?.tree()?;
        let mut cb = CheckoutBuilder::new();
        cb.force().disable_pathspec_match(true);
        for p in paths {
            cb.path(p.as_str());
        }
        cb.progress(|_, done, total| progress(done, total));
        self.git.checkout_tree(tree.as_object(), Some(&mut cb))?;
        Ok(())
    }

    /// Remove `paths` from the index (those it holds), then write the index.
    pub fn unstage_removed(&self, paths: &[String]) -> Result<()> {
        let mut index = self.git.index()?;
        for p in paths {
            let path = Path::new(p);
            if index.get_path(path, 0).is_some() {
                index.remove_path(path)?;
            }
        }
        index.write()?;
        Ok(())
    }

    /// Create branch `branch` at `at`; fails if it exists.
    pub fn create_branch_ref(&self, branch: &str, at: Oid, log: &str) -> Result<()> {
        self.git
            .reference(&format!("refs/heads/{branch}"), at, false, log)?;
        Ok(())
    }

    /// Move branch `branch` from `expected` to `to`; fails when it is no
    /// longer at `expected`.
    pub fn move_branch_ref(&self, branch: &str, to: Oid, expected: Oid, log: &str) -> Result<()> {
        self.git
            .reference_matching(&format!("refs/heads/{branch}"), to, true, expected, log)?;
        Ok(())
    }

    /// Delete local branch `branch` unless it is missing or is HEAD of this
    /// checkout; true when it was deleted.
    pub fn delete_branch_if_not_head(&self, branch: &str) -> Result<bool> {
        match self.git.find_branch(branch, git2::BranchType::Local) {
            Ok(mut b) if !b.is_head() => {
                b.delete()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Delete the ref of branch `branch` (whatever it is checked out as).
    pub fn delete_branch_ref(&self, branch: &str) -> Result<()> {
        self.git
            .find_reference(&format!("refs/heads/{branch}"))?
            .delete()?;
        Ok(())
    }
}

/// What switching the main checkout between two commits touches.
#[derive(Debug, Clone, Default)]
pub struct SwitchPlan {
    /// Every path that differs between the two commits.
    pub paths: Vec<String>,
    /// Those of them holding somebody's edit: switching would lose it.
    pub edited: Vec<String>,
    /// Those of them the target commit does not have (to remove from disk).
    pub gone: Vec<String>,
}

/// Is `path` of the main checkout in a state this switch itself can leave,
/// so that overwriting it loses nothing? Its index entry holds the `from` or
/// the `to` version (or is absent where that tree has no such path), and its
/// working file holds one of them too, or the start of one: the file a
/// checkout was writing when it was killed. The checkout writes files in place
/// and the index last, so a kill leaves files of `to` (and one cut short) over
/// an index of `from`. Nothing in such a file is lost by replacing it: every
/// byte of it is in a commit. Anything else is somebody's edit.
fn merge_own(
    repo: &Repository,
    index: &git2::Index,
    workdir: &Path,
    p: &str,
    from: &git2::Tree<'_>,
    to: &git2::Tree<'_>,
) -> Result<bool> {
    let path = Path::new(p);
    let allowed = [
        from.get_path(path).ok().map(|e| e.id()),
        to.get_path(path).ok().map(|e| e.id()),
    ];
    if !allowed.contains(&index.get_path(path, 0).map(|e| e.id)) {
        return Ok(false);
    }
    let st = match repo.status_file(path) {
        Ok(s) => s,
        Err(e) if e.code() == git2::ErrorCode::NotFound => Status::CURRENT,
        Err(e) => return Err(e.into()),
    };
    let worktree_changed = Status::WT_NEW
        | Status::WT_MODIFIED
        | Status::WT_DELETED
        | Status::WT_TYPECHANGE
        | Status::WT_RENAMED
        | Status::CONFLICTED;
    if !st.intersects(worktree_changed) {
        // The working file is the index's version, one of the two.
        return Ok(true);
    }
    disk_holds_a_version(repo, &workdir.join(path), allowed)
}

/// The working file differs from the index: still the merge's own if it holds
/// (the start of) one of the `allowed` versions, or is absent where one of
/// them is. Compared as stored, with no filters applied, so a checkout that
/// converts line endings is taken for an edit (refused, never overwritten).
fn disk_holds_a_version(repo: &Repository, full: &Path, allowed: [Option<Oid>; 2]) -> Result<bool> {
    let on_disk = match std::fs::symlink_metadata(full) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(allowed.contains(&None)),
        Err(e) => return Err(GitError::io("inspect", full, e)),
        // A link is made in one step: never cut short.
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::read_link(full).map_err(|e| GitError::io("read", full, e))?;
            let id = Oid::hash_object(
                git2::ObjectType::Blob,
                target.as_os_str().as_encoded_bytes(),
            )?;
            return Ok(allowed.contains(&Some(id)));
        }
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Ok(false),
    };
    for id in allowed.into_iter().flatten() {
        let blob = repo.find_blob(id)?;
        let version = blob.content();
        if on_disk <= version.len() as u64 {
            let bytes = std::fs::read(full).map_err(|e| GitError::io("read", full, e))?;
            if version.starts_with(&bytes) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
