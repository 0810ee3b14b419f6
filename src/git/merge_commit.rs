//! Merging two commits in memory into a new commit that no ref points at
//! yet: how a lane branch gets the approved work of another lane before a
//! work package is handed out, and how `sync workspace` brings a lane up to
//! date with its target. A conflict writes nothing but objects.

use git2::Signature;

use super::error::Result;
use super::{Oid, Repo};

/// What merging two commits gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// The merge commit (parents: ours, theirs), on no branch yet.
    Commit(Oid),
    /// The merge conflicts in these paths (sorted, once each); no commit made.
    Conflicts(Vec<String>),
}

impl Repo {
    /// Merge `theirs` into `ours` in memory; without conflicts, write the
    /// merge commit with `message`, committed as git's own identity (else
    /// `spec-kitty <spec-kitty@localhost>`), and move no ref.
    pub fn merge_into_new_commit(&self, ours: Oid, theirs: Oid, message: &str) -> Result<Merged> {
        let git = &self.git;
        let ours = git.find_commit(ours)?;
        let theirs = git.find_commit(theirs)?;
        let mut index = git.merge_commits(&ours, &theirs, None)?;
        if index.has_conflicts() {
            return Ok(Merged::Conflicts(super::conflict_paths(&index)?));
        }
        let tree = git.find_tree(index.write_tree_to(git)?)?;
        let sig = self.merge_signature()?;
        Ok(Merged::Commit(git.commit(
            None,
            &sig,
            &sig,
            message,
            &tree,
            &[&ours, &theirs],
        )?))
    }

    fn merge_signature(&self) -> Result<Signature<'static>> {
        if let Ok((Some(name), Some(email))) = self.identity() {
            if let Ok(s) = Signature::now(&name, &email) {
                return Ok(s);
            }
        }
        Ok(Signature::now("spec-kitty", "spec-kitty@localhost")?)
    }
}
