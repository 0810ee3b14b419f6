//! Reading history by commit ids: whether a commit is there, how far one
//! commit is ahead of another, the files and patch between two commits, and
//! the files a range of a branch's own commits changed. Read-only.

use git2::{BranchType, Diff, DiffFormat, Repository};

use super::error::Result;
use super::{Oid, Repo};

/// The difference between two commits as a reviewer reads it.
#[derive(Debug, Clone, Default)]
pub struct PatchText {
    /// `Added src/x.rs`, `Modified ...`: git's kind of change, then the path
    /// (the new one, else the old one), one per file.
    pub files: Vec<String>,
    /// The patch text, cut once it is longer than the limit asked for.
    pub patch: String,
    /// True when the patch was cut.
    pub truncated: bool,
}

impl Repo {
    /// Is `commit` a commit this repository has?
    pub fn has_commit(&self, commit: Oid) -> bool {
        self.git.find_commit(commit).is_ok()
    }

    /// The merge base of `tip` and `other` and how many commits `tip` has
    /// beyond it; None when they share no history.
    pub fn merge_base_and_ahead(&self, tip: Oid, other: Oid) -> Result<Option<(Oid, usize)>> {
        let Ok(mb) = self.git.merge_base(tip, other) else {
            return Ok(None);
        };
        let (ahead, _) = self.git.graph_ahead_behind(tip, mb)?;
        Ok(Some((mb, ahead)))
    }

    /// The paths two commits' trees differ in (both sides of a rename, as
    /// git spells them), sorted, once each.
    pub fn changed_paths(&self, from: Oid, to: Oid) -> Result<Vec<String>> {
        let a = self.git.find_commit(from)?.tree()?;
        let b = self.git.find_commit(to)?.tree()?;
        tree_changes(&self.git, &a, &b)
    }

    /// The files and the patch between two commits, the patch cut once it is
    /// longer than `max_bytes`.
    pub fn patch_between(&self, old: Oid, new: Oid, max_bytes: usize) -> Result<PatchText> {
        let diff = self.tree_diff(old, new)?;
        let mut out = PatchText::default();
        for d in diff.deltas() {
            if let Some(p) = d.new_file().path().or_else(|| d.old_file().path()) {
                out.files.push(format!("{:?} {}", d.status(), p.display()));
            }
        }
        let (patch, truncated) = (&mut out.patch, &mut out.truncated);
        diff.print(DiffFormat::Patch, |_, _, line| {
            if patch.len() > max_bytes {
                *truncated = true;
                return false;
            }
            if matches!(line.origin(), '+' | '-' | ' ') {
                patch.push(line.origin());
            }
            patch.push_str(&String::from_utf8_lossy(line.content()));
            true
        })
        .or_else(|e| if out.truncated { Ok(()) } else { Err(e) })?;
        Ok(out)
    }

    /// The files changed by the non-merge commits of `from..to` that are on
    /// none of `hide_tips` and on no local branch whose name starts with
    /// `hide_prefix` other than `keep_branch`. Sorted, once each.
    pub fn own_commit_changes(
        &self,
        from: Oid,
        to: Oid,
        hide_tips: &[Oid],
        hide_prefix: &str,
        keep_branch: Option<&str>,
    ) -> Result<Vec<String>> {
        let git = &self.git;
        let mut walk = git.revwalk()?;
        walk.push(to)?;
        walk.hide(from)?;
        for t in hide_tips {
            let _ = walk.hide(*t);
        }
        for b in git.branches(Some(BranchType::Local))?.flatten() {
            let Ok(Some(name)) = b.0.name() else { continue };
            if name.starts_with(hide_prefix) && Some(name) != keep_branch {
                if let Some(t) = b.0.get().target() {
                    let _ = walk.hide(t);
                }
            }
        }
        let mut out: Vec<String> = Vec::new();
        for oid in walk {
            let c = git.find_commit(oid?)?;
            if c.parent_count() != 1 {
                continue;
            }
            for f in self.changed_paths(c.parent_id(0)?, c.id())? {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn tree_diff(&self, from: Oid, to: Oid) -> Result<Diff<'_>> {
        let old = self.git.find_commit(from)?.tree()?;
        let new = self.git.find_commit(to)?.tree()?;
        Ok(self.git.diff_tree_to_tree(Some(&old), Some(&new), None)?)
    }
}

/// Paths that differ between two trees (both sides of a rename), sorted,
/// once each.
pub(super) fn tree_changes(
    repo: &Repository,
    a: &git2::Tree<'_>,
    b: &git2::Tree<'_>,
) -> Result<Vec<String>> {
    let diff = repo.diff_tree_to_tree(Some(a), Some(b), None)?;
    let mut out = Vec::new();
    for d in diff.deltas() {
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path() {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
