//! [`Repo`] forms of the remote questions a push and a team sync ask
//! ([`super::remote`]): where a branch pushes to, the remote it follows, how
//! a local commit stands against the remote's, and what an unfinished git
//! operation left in the checkout.

use super::error::Result;
use super::remote::{self, Standing};
use super::{Oid, Repo};

impl Repo {
    /// Where `git push` sends `branch` ([`remote::push_destination`]).
    pub fn push_destination(&self, branch: &str) -> Option<(String, String)> {
        remote::push_destination(&self.git, branch)
    }

    /// The remote `branch` follows, if set ([`remote::upstream_of`]).
    pub fn upstream_of(&self, branch: &str) -> Option<String> {
        remote::upstream_of(&self.git, branch)
    }

    /// How local commit `local` stands against the remote's `theirs`.
    pub fn standing(&self, local: Oid, theirs: Oid) -> Result<Standing> {
        Ok(remote::standing(&self.git, local, theirs)?)
    }

    /// The git operation in progress in the checkout (`merge`, `rebase`...).
    pub fn operation_in_progress(&self) -> Option<&'static str> {
        remote::operation_in_progress(&self.git)
    }

    /// The paths git left unmerged in the checkout's index.
    pub fn unmerged_paths(&self) -> Result<Vec<String>> {
        Ok(remote::unmerged_paths(&self.git)?)
    }
}
