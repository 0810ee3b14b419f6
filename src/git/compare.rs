//! Comparing two revisions: their merge base, the files that differ, a file's
//! text at a revision, the tracked files. Read-only.

use std::path::Path;

use git2::DiffOptions;

/// Largest blob read as text.
const MAX_BLOB_BYTES: usize = 4 * 1024 * 1024;

/// The merge base of two revisions, as a full hex id.
pub fn merge_base(repo: &Path, a: &str, b: &str) -> Option<String> {
    let repo = super::traced_open::open(repo).ok()?;
    let a = repo.revparse_single(a).ok()?.peel_to_commit().ok()?.id();
    let b = repo.revparse_single(b).ok()?.peel_to_commit().ok()?.id();
    repo.merge_base(a, b).ok().map(|o| o.to_string())
}

/// One file that differs between two revisions.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The path at `base` (else at `head`), with `/`.
    pub path: String,
    pub added_lines: usize,
    pub removed_lines: usize,
}

/// The files that differ between the trees of `base` and `head`.
pub fn changed_files(repo: &Path, base: &str, head: &str) -> Result<Vec<Changed>, git2::Error> {
    let repo = super::traced_open::open(repo)?;
    let a = repo.revparse_single(base)?.peel_to_tree()?;
    let b = repo.revparse_single(head)?.peel_to_tree()?;
    let mut opts = DiffOptions::new();
    let diff = repo.diff_tree_to_tree(Some(&a), Some(&b), Some(&mut opts))?;
    let mut out = Vec::new();
    for (i, d) in diff.deltas().enumerate() {
        let path = d
            .old_file()
            .path()
            .or_else(|| d.new_file().path())
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let (mut added, mut removed) = (0, 0);
        if let Ok(Some(patch)) = git2::Patch::from_diff(&diff, i) {
            if let Ok((_, add, del)) = patch.line_stats() {
                added = add;
                removed = del;
            }
        }
        out.push(Changed {
            path,
            added_lines: added,
            removed_lines: removed,
        });
    }
    Ok(out)
}

/// The text of `path` at revision `rev`; None when absent, binary-looking or too big.
pub fn text_at(repo: &Path, rev: &str, path: &str) -> Option<String> {
    let repo = super::traced_open::open(repo).ok()?;
    let tree = repo.revparse_single(rev).ok()?.peel_to_tree().ok()?;
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = entry.to_object(&repo).ok()?.peel_to_blob().ok()?;
    if blob.size() > MAX_BLOB_BYTES || blob.is_binary() {
        return None;
    }
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

/// Does `rev` name a commit in the repository at `repo`?
pub fn resolves(repo: &Path, rev: &str) -> bool {
    super::traced_open::open(repo)
        .ok()
        .and_then(|r| {
            r.revparse_single(rev)
                .ok()
                .and_then(|o| o.peel_to_commit().ok())
                .map(|_| ())
        })
        .is_some()
}

/// The paths in the index (tracked files), with `/`.
pub fn tracked_files(repo: &Path) -> Result<Vec<String>, git2::Error> {
    let repo = super::traced_open::open(repo)?;
    let index = repo.index()?;
    Ok(index
        .iter()
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        .collect())
}
