//! The reflog, as `ops log` reads it and `ops undo` takes one commit back
//! with it: the entries of a reference, where HEAD stands, the upstream
//! holding a commit, and moving a branch back one commit with its index.

use super::error::Result;
use super::{Oid, Repo};

/// One reflog entry.
#[derive(Debug, Clone)]
pub struct ReflogEntry {
    /// Where the reference pointed before (zero when the entry created it).
    pub old: Oid,
    /// Where the entry moved it.
    pub new: Oid,
    pub message: String,
    /// When, in seconds since the epoch (the entry's committer time).
    pub seconds: i64,
}

/// What HEAD is.
#[derive(Debug, Clone)]
pub enum Head {
    /// No commit yet (or HEAD cannot be read).
    Unborn,
    Detached,
    /// On a branch: its full reference name, its short name and its tip.
    Branch {
        refname: String,
        name: String,
        tip: Oid,
    },
}

impl Repo {
    /// The newest `limit` entries of the reflog of `refname` (`HEAD`,
    /// `refs/heads/main`), newest first.
    pub fn reflog_entries(&self, refname: &str, limit: usize) -> Result<Vec<ReflogEntry>> {
        let reflog = self.git.reflog(refname)?;
        Ok(reflog
            .iter()
            .take(limit)
            .map(|e| ReflogEntry {
                old: e.id_old(),
                new: e.id_new(),
                message: e.message().unwrap_or_default().to_string(),
                seconds: e.committer().when().seconds(),
            })
            .collect())
    }

    /// Where HEAD stands.
    pub fn head_ref(&self) -> Result<Head> {
        let Ok(head) = self.git.head() else {
            return Ok(Head::Unborn);
        };
        if !head.is_branch() {
            return Ok(Head::Detached);
        }
        Ok(Head::Branch {
            refname: head.name().unwrap_or_default().to_string(),
            name: head.shorthand().unwrap_or_default().to_string(),
            tip: head.peel_to_commit()?.id(),
        })
    }

    /// The parents of `commit`.
    pub fn parent_ids(&self, commit: Oid) -> Result<Vec<Oid>> {
        Ok(self.git.find_commit(commit)?.parent_ids().collect())
    }

    /// The short name of the upstream of branch `refname` when that upstream
    /// already holds `commit` (points at it or past it); None when there is
    /// no upstream or it lacks the commit.
    pub fn upstream_holding(&self, refname: &str, commit: Oid) -> Result<Option<String>> {
        let Ok(up) = self.git.branch_upstream_name(refname) else {
            return Ok(None);
        };
        let up = up.as_str().unwrap_or_default().to_string();
        let Ok(r) = self.git.find_reference(&up) else {
            return Ok(None);
        };
        let Ok(upstream) = r.peel_to_commit() else {
            return Ok(None);
        };
        let u = upstream.id();
        if u == commit || self.git.graph_descendant_of(u, commit)? {
            return Ok(Some(r.shorthand().unwrap_or(&up).to_string()));
        }
        Ok(None)
    }

    /// How many changes the index has staged against the tree of `commit`.
    pub fn staged_against(&self, commit: Oid) -> Result<usize> {
        let tree = self.git.find_commit(commit)?.tree()?;
        Ok(self
            .git
            .diff_tree_to_index(Some(&tree), None, None)?
            .deltas()
            .len())
    }

    /// The paths that differ between the trees of two commits (the new
    /// path of a renamed file), as text.
    pub fn diff_paths(&self, from: Oid, to: Oid) -> Result<Vec<String>> {
        let a = self.git.find_commit(from)?.tree()?;
        let b = self.git.find_commit(to)?.tree()?;
        Ok(self
            .git
            .diff_tree_to_tree(Some(&a), Some(&b), None)?
            .deltas()
            .filter_map(|d| {
                d.new_file()
                    .path()
                    .or(d.old_file().path())
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .collect())
    }

    /// Move branch `refname` from `from` back to `to` (refused by git when
    /// it no longer points at `from`), logging `message`, and put the index
    /// back to `to`'s tree (a bare repository has none). The working tree
    /// is not touched.
    pub fn move_branch_back(&self, refname: &str, from: Oid, to: Oid, message: &str) -> Result<()> {
        let tree = self.git.find_commit(to)?.tree()?;
        self.git
            .reference_matching(refname, to, true, from, message)?;
        if !self.git.is_bare() {
            let mut index = self.git.index()?;
            index.read_tree(&tree)?;
            index.write()?;
        }
        Ok(())
    }
}
