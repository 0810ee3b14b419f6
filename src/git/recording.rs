//! [`Repo`] forms of the record-commit functions ([`super::commit`],
//! [`super::reflock`]): committing given paths on a branch, what differs from
//! a commit under a directory, the ref and index locks a killed command left.
//! Commits are named by their ids; trees never leave the git layer.

use std::path::PathBuf;

use super::commit;
use super::error::Result;
use super::reflock::{self, RefLock};
use super::{Oid, Repo};

impl Repo {
    /// The commit HEAD points at; git's error when HEAD names none.
    pub fn head_commit_required(&self) -> Result<Oid> {
        Ok(self.git.head()?.peel_to_commit()?.id())
    }

    /// The branch the checkout is on; an error when detached or unborn
    /// ([`commit::current_branch`]).
    pub fn current_branch(&self) -> Result<String> {
        commit::current_branch(&self.git)
    }

    /// [`commit::changed_under`] against the tree of `commit` (None: an
    /// empty tree, every file counts as added).
    pub fn changed_under(&self, commit: Option<Oid>, prefix: &str) -> Result<Vec<String>> {
        let tree = commit
            .map(|c| self.git.find_commit(c).and_then(|c| c.tree()))
            .transpose()?;
        commit::changed_under(&self.git, tree.as_ref(), prefix)
    }

    /// [`commit::changed_among`] against the tree of `commit`.
    pub fn changed_among(
        &self,
        commit: Oid,
        prefix: &str,
        paths: &[String],
    ) -> Result<Vec<String>> {
        let tree = self.git.find_commit(commit)?.tree()?;
        commit::changed_among(&self.git, &tree, prefix, paths)
    }

    /// [`commit::changed_among_writing`] against the tree of `commit`: the
    /// changed paths, and the blobs written to learn it for
    /// [`Repo::commit_paths_known`].
    pub fn changed_among_writing(
        &self,
        commit: Oid,
        prefix: &str,
        paths: &[String],
    ) -> Result<(Vec<String>, commit::KnownBlobs)> {
        let tree = self.git.find_commit(commit)?.tree()?;
        commit::changed_among_writing(&self.git, &tree, prefix, paths)
    }

    /// [`commit::file_changed`] against the tree of `commit`.
    pub fn file_changed(&self, commit: Option<Oid>, rel: &str) -> Result<bool> {
        let tree = commit
            .map(|c| self.git.find_commit(c).and_then(|c| c.tree()))
            .transpose()?;
        commit::file_changed(&self.git, tree.as_ref(), rel)
    }

    /// Staged changes outside `paths` ([`commit::staged_elsewhere`]).
    pub fn staged_elsewhere(&self, paths: &[String]) -> Result<Vec<String>> {
        commit::staged_elsewhere(&self.git, paths)
    }

    /// The lock spec-kitty's own commits take in turn ([`commit::lock_commits`]).
    pub fn lock_commits(&self) -> Result<crate::fsutil::FileLock> {
        commit::lock_commits(&self.git)
    }

    /// Commit exactly `paths` on `branch` ([`commit::commit_paths`]).
    pub fn commit_paths(
        &self,
        branch: &str,
        paths: &[String],
        message: &str,
        update_index: bool,
    ) -> Result<Option<Oid>> {
        commit::commit_paths(&self.git, branch, paths, message, update_index)
    }

    /// [`Repo::commit_paths`] taking the blobs in `known` for files whose
    /// stat data did not change since ([`commit::commit_paths_known`]).
    pub fn commit_paths_known(
        &self,
        branch: &str,
        paths: &[String],
        message: &str,
        update_index: bool,
        known: &commit::KnownBlobs,
    ) -> Result<Option<Oid>> {
        commit::commit_paths_known(&self.git, branch, paths, message, update_index, known)
    }

    /// Make the index entries under `prefix` those of `commit`'s tree
    /// ([`commit::index_follows`]).
    pub fn index_follows(&self, commit: Oid, prefix: &str) -> Result<()> {
        let tree = self.git.find_commit(commit)?.tree()?;
        commit::index_follows(&self.git, &tree, prefix)
    }

    /// Clear the ref locks killed spec-kitty commits left
    /// ([`reflock::recover_killed_commits`]).
    pub fn recover_killed_commits(&self) -> Result<Vec<PathBuf>> {
        reflock::recover_killed_commits(&self.git)
    }

    /// Remove `branch`'s ref lock when `is_ours` says its text is ours
    /// ([`reflock::clear_if_ours`]).
    pub fn clear_ref_lock_if_ours(
        &self,
        branch: &str,
        is_ours: impl Fn(&str) -> bool,
    ) -> Result<RefLock> {
        reflock::clear_if_ours(&self.git, branch, is_ours)
    }
}
