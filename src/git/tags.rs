//! Tags and what changed since one: what release preparation asks git.

use std::path::Path;

/// The tags matching `pattern` (a glob, e.g. `v*`) whose commit HEAD
/// contains, each with whether HEAD is that commit; `keep` filters names
/// first. Empty when the repository or HEAD is missing.
pub fn reachable_from_head(
    root: &Path,
    pattern: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<(String, bool)> {
    let Ok(repo) = super::traced_open::open(root) else {
        return Vec::new();
    };
    let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Ok(names) = repo.tag_names(Some(pattern)) {
        for name in names.iter().flatten() {
            if !keep(name) {
                continue;
            }
            let Ok(obj) = repo.revparse_single(&format!("refs/tags/{name}")) else {
                continue;
            };
            let Ok(commit) = obj.peel_to_commit() else {
                continue;
            };
            let on_head = commit.id() == head.id();
            if on_head
                || repo
                    .graph_descendant_of(head.id(), commit.id())
                    .unwrap_or(false)
            {
                out.push((name.to_string(), on_head));
            }
        }
    }
    out
}

/// The paths (new side) that differ between tag `tag`'s tree and HEAD's;
/// None when either cannot be read.
pub fn changed_since_tag(root: &Path, tag: &str) -> Option<Vec<String>> {
    let git = super::traced_open::open(root).ok()?;
    let old = git
        .revparse_single(&format!("refs/tags/{tag}"))
        .ok()?
        .peel_to_tree()
        .ok()?;
    let new = git.head().ok()?.peel_to_tree().ok()?;
    let diff = git.diff_tree_to_tree(Some(&old), Some(&new), None).ok()?;
    Some(
        diff.deltas()
            .filter_map(|d| {
                d.new_file()
                    .path()
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .collect(),
    )
}
