//! Bringing a branch up to date with another inside its own worktree, the
//! way `sync workspace` does: the operation git has in progress there, the
//! commits the branch lacks, and checking the result out (the merge commit
//! itself is [`Repo::merge_into_new_commit`]).

use git2::{build::CheckoutBuilder, RepositoryState};

use super::error::Result;
use super::{Oid, Repo};

/// The operation git has in progress in a worktree (named as git2 names it,
/// which is how messages show it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoState {
    Clean,
    Merge,
    Revert,
    RevertSequence,
    CherryPick,
    CherryPickSequence,
    Bisect,
    Rebase,
    RebaseInteractive,
    RebaseMerge,
    ApplyMailbox,
    ApplyMailboxOrRebase,
}

impl RepoState {
    /// The operation under way as libgit2 names it (`Merge`, `RebaseMerge`,
    /// `CherryPick`...), None when there is none.
    pub fn operation(self) -> Option<String> {
        (self != RepoState::Clean).then(|| format!("{self:?}"))
    }
}

impl Repo {
    /// The operation in progress.
    pub fn state(&self) -> RepoState {
        match self.git.state() {
            RepositoryState::Clean => RepoState::Clean,
            RepositoryState::Merge => RepoState::Merge,
            RepositoryState::Revert => RepoState::Revert,
            RepositoryState::RevertSequence => RepoState::RevertSequence,
            RepositoryState::CherryPick => RepoState::CherryPick,
            RepositoryState::CherryPickSequence => RepoState::CherryPickSequence,
            RepositoryState::Bisect => RepoState::Bisect,
            RepositoryState::Rebase => RepoState::Rebase,
            RepositoryState::RebaseInteractive => RepoState::RebaseInteractive,
            RepositoryState::RebaseMerge => RepoState::RebaseMerge,
            RepositoryState::ApplyMailbox => RepoState::ApplyMailbox,
            RepositoryState::ApplyMailboxOrRebase => RepoState::ApplyMailboxOrRebase,
        }
    }

    /// HEAD's short name (`main`, or `HEAD` when detached) and the commit it
    /// points at; an error on an unborn branch.
    pub fn head_name_and_tip(&self) -> Result<(Option<String>, Oid)> {
        let head = self.git.head()?;
        let name = head.shorthand().map(str::to_string);
        Ok((name, head.peel_to_commit()?.id()))
    }

    /// The commits `to` has that `from` lacks, newest first, at most
    /// `limit`: each id and summary line.
    pub fn commits_missing(&self, from: Oid, to: Oid, limit: usize) -> Result<Vec<(Oid, String)>> {
        let mut walk = self.git.revwalk()?;
        walk.push(to)?;
        walk.hide(from)?;
        let mut out = Vec::new();
        for id in walk.take(limit) {
            let c = self.git.find_commit(id?)?;
            out.push((c.id(), c.summary().unwrap_or_default().to_string()));
        }
        Ok(out)
    }

    /// Check `commit` out in this worktree (safely: a local change in the
    /// way stops it) and move local `branch` there, logging `message`.
    pub fn check_out_onto(&self, branch: &str, commit: Oid, message: &str) -> Result<()> {
        let obj = self.git.find_object(commit, None)?;
        let mut co = CheckoutBuilder::new();
        co.safe();
        self.git.checkout_tree(&obj, Some(&mut co))?;
        let mut r = self.git.find_reference(&format!("refs/heads/{branch}"))?;
        r.set_target(commit, message)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::RepoState;

    /// The name an operation is shown by is libgit2's (as `state_name` was).
    #[test]
    fn an_operation_is_named_as_libgit2_names_it() {
        assert_eq!(RepoState::Clean.operation(), None);
        assert_eq!(RepoState::Merge.operation().as_deref(), Some("Merge"));
        assert_eq!(
            RepoState::RebaseMerge.operation().as_deref(),
            Some(format!("{:?}", git2::RepositoryState::RebaseMerge).as_str())
        );
    }
}
