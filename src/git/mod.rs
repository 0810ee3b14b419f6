//! Git, on the ground floor: the git2 calls every layer above shares (branch
//! tips, ancestry, the committer identity as git resolves it, short commit
//! ids, the paths of a conflicted index, commits of given paths, ref locks).
//! Modules above call these instead of keeping their own copies, and wrap a
//! [`GitError`] whole.

pub mod branches;
pub mod catch_up;
pub mod checkout;
pub mod cli;
pub mod commit;
pub mod config_file;
pub mod error;
mod filters;
pub mod history;
mod index_scan;
pub mod merge_commit;
pub mod reflock;
pub mod reflog;
pub mod repo;
pub mod tags;
pub mod traced_open;
pub mod worktree;

pub use error::GitError;
/// Commit and object ids, the git layer's value type for them.
pub use git2::Oid;
pub use repo::{Repo, Sharing};

pub mod compare;
pub mod merge_tree;
pub mod recording;
pub mod remote;
pub mod remote_repo;
pub mod switch;

use std::path::Path;

use git2::{BranchType, Index, Repository};

/// A branch name git accepts (`refs/heads/<name>` is a valid reference name).
/// Also refuses names starting with `-`, which a command line would read as an option.
pub fn valid_branch_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && git2::Reference::is_valid_name(&format!("refs/heads/{name}"))
}

/// The tip of a local branch, if the branch exists.
pub fn branch_tip(repo: &Repository, branch: &str) -> Option<Oid> {
    repo.find_branch(branch, BranchType::Local)
        .ok()?
        .get()
        .peel_to_commit()
        .ok()
        .map(|c| c.id())
}

/// The tip of local branch `branch` of the repository at `root`, if both exist.
pub fn branch_tip_at(root: &Path, branch: &str) -> Option<Oid> {
    branch_tip(&traced_open::open(root).ok()?, branch)
}

/// When `branch` last committed work of its own: the committer time of its
/// tip, unless the tip is already on `base` (the branch has no commits since
/// it left it). None when either branch is missing.
pub fn own_tip_time(
    repo: &Repository,
    branch: &str,
    base: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let tip = branch_tip(repo, branch)?;
    let base = branch_tip(repo, base)?;
    if contains(repo, base, tip).ok()? {
        return None;
    }
    let t = repo.find_commit(tip).ok()?.committer().when();
    chrono::DateTime::from_timestamp(t.seconds(), 0)
}

/// The commit a user-given revision names (`main`, `v1.2`, a commit id,
/// `main~2`); None when it names nothing. A revision starting with `-` is
/// refused (it would read as an option wherever it is shown again).
pub fn resolve_commit(repo: &Repository, spec: &str) -> Option<Oid> {
    if spec.is_empty() || spec.starts_with('-') || spec.len() > 256 {
        return None;
    }
    repo.revparse_single(spec)
        .ok()?
        .peel_to_commit()
        .ok()
        .map(|c| c.id())
}

/// Does `commit` contain `ancestor` (equal, or a descendant of it)?
pub fn contains(repo: &Repository, commit: Oid, ancestor: Oid) -> Result<bool, git2::Error> {
    Ok(commit == ancestor || repo.graph_descendant_of(commit, ancestor)?)
}

/// The repository's git configuration as git itself reads it: libgit2 does not
/// know `GIT_CONFIG_GLOBAL`, so when it is set, that file replaces the global level.
pub fn config(repo: &Repository) -> Result<git2::Config, git2::Error> {
    let mut cfg = repo.config()?;
    if let Some(path) = crate::env::git_config_global() {
        if path.is_file() {
            cfg.add_file(&path, git2::ConfigLevel::Global, true)?;
        }
    }
    cfg.snapshot()
}

/// `user.name` and `user.email` the way git resolves the committer:
/// `GIT_COMMITTER_NAME` / `GIT_COMMITTER_EMAIL`, then the configuration.
pub fn identity(repo: &Repository) -> Result<(Option<String>, Option<String>), git2::Error> {
    let cfg = config(repo)?;
    let (name, email) = crate::env::git_committer();
    let pick = |env: Option<String>, key: &str| {
        env.or_else(|| cfg.get_string(key).ok())
            .filter(|s| !s.trim().is_empty())
    };
    Ok((pick(name, "user.name"), pick(email, "user.email")))
}

/// The first seven characters of a commit id, an [`Oid`] or its text (git's
/// own short form: messages, reports, the merge's lines).
pub fn short(id: impl std::fmt::Display) -> String {
    id.to_string().chars().take(7).collect()
}

/// The first ten characters of a commit id given as text (how the
/// dashboard shows commits), or all of it when shorter.
pub fn short10(id: &str) -> &str {
    first_chars(id, 10)
}

/// The first twelve characters of a commit id given as text (how lane
/// handoffs, the work view and `ops log` name commits), or all of it when
/// shorter.
pub fn short12(id: &str) -> &str {
    first_chars(id, 12)
}

/// The first `n` characters of `text` (never split inside a character).
fn first_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

/// The paths of the conflicting entries of a merged index, sorted, once each.
pub fn conflict_paths(index: &Index) -> Result<Vec<String>, git2::Error> {
    let mut out = Vec::new();
    for c in index.conflicts()? {
        let c = c?;
        for entry in [&c.our, &c.their, &c.ancestor].into_iter().flatten() {
            out.push(String::from_utf8_lossy(&entry.path).into_owned());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether the index of the repository holding `dir` records any unmerged
/// path: one read of the index, for a caller about to read many status logs
/// (a clean index means none of them is unmerged). False outside a
/// repository (nothing there is unmerged); true when the index cannot be read,
/// so the caller asks path by path as before.
pub fn index_has_conflicts(dir: &Path) -> bool {
    if index_scan::certainly_no_conflicts(dir) {
        return false;
    }
    let Ok(repo) = Repository::discover(dir) else {
        return false;
    };
    repo.index().map_or(true, |index| index.has_conflicts())
}

/// The blobs of the index stages (`base`, `ours`, `theirs`) of `path` when
/// the repository it lies in holds it unmerged; None otherwise.
pub fn conflict_stages(path: &Path) -> Option<Vec<(&'static str, Vec<u8>)>> {
    let dir = path.parent()?;
    let dir = std::fs::canonicalize(dir).ok()?;
    let name = path.file_name()?;
    // An index without any unmerged entry answers without opening the
    // repository (the common case, asked on every read of a status log).
    if index_scan::certainly_no_conflicts(&dir) {
        return None;
    }
    traced_open::with_discovered(&dir, |repo| stages_of(repo, &dir.join(name)))
}

/// [`conflict_stages`] of the file at the canonical path `file` in `repo`.
fn stages_of(repo: &Repository, file: &Path) -> Option<Vec<(&'static str, Vec<u8>)>> {
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let rel = file.strip_prefix(&workdir).ok()?;
    let rel: Vec<u8> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .into_bytes();
    let index = repo.index().ok()?;
    if !index.has_conflicts() {
        return None;
    }
    for conflict in index.conflicts().ok()?.flatten() {
        let entries = [
            ("base", conflict.ancestor),
            ("ours", conflict.our),
            ("theirs", conflict.their),
        ];
        let hit = entries
            .iter()
            .any(|(_, e)| e.as_ref().is_some_and(|e| e.path == rel));
        if !hit {
            continue;
        }
        let mut out = Vec::new();
        for (side, entry) in entries {
            if let Some(e) = entry {
                let blob = repo.find_blob(e.id).ok()?;
                out.push((side, blob.content().to_vec()));
            }
        }
        return Some(out);
    }
    None
}

/// Create the local branch `name` at `at` unless it exists; true when it was
/// created. An existing branch is never moved.
pub fn ensure_branch(repo: &Repository, name: &str, at: Oid) -> Result<bool, git2::Error> {
    // Another process making the same branch holds its ref's lock file for
    // a moment (two agents claiming the first lanes of a mission at once):
    // as git does for a locked ref (core.filesRefLockTimeout), try again for
    // a while; once theirs exists, it stands.
    let deadline = std::time::Instant::now() + REF_LOCK_TIMEOUT;
    loop {
        if repo.find_branch(name, BranchType::Local).is_ok() {
            return Ok(false);
        }
        match repo.branch(name, &repo.find_commit(at)?, false) {
            Ok(_) => return Ok(true),
            // Made by someone else meanwhile: theirs stands.
            Err(e) if e.code() == git2::ErrorCode::Exists => return Ok(false),
            Err(e)
                if e.code() == git2::ErrorCode::Locked && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// How long a ref another process holds locked is waited for (git's own
/// default for `core.filesRefLockTimeout` is 100 ms; a claim's branch is
/// made once per lane, so a longer wait costs nothing in the common case).
const REF_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether git's ignore rules (`.gitignore`, `info/exclude`, the global
/// excludes file) cover `rel` in the repository at `root`; `None` when `root`
/// is not a git work tree or git cannot say.
pub fn is_ignored(root: &std::path::Path, rel: &str) -> Option<bool> {
    let repo = traced_open::open(root).ok()?;
    repo.is_path_ignored(std::path::Path::new(rel)).ok()
}

/// Whether local `branch` exists in the repository at `root`, and whether its
/// tip is contained in HEAD (merged). `(false, false)` outside a repository.
pub fn branch_state(root: &std::path::Path, branch: &str) -> (bool, bool) {
    let Ok(repo) = traced_open::open(root) else {
        return (false, false);
    };
    let tip = branch_tip(&repo, branch);
    let head = repo.head().ok().and_then(|h| h.target());
    let merged = match (tip, head) {
        (Some(t), Some(h)) => contains(&repo, h, t).unwrap_or(false),
        _ => false,
    };
    (tip.is_some(), merged)
}

#[cfg(test)]
mod tests {
    /// One function per length, each the same on an id and on hostile text.
    #[test]
    fn short_ids_take_whole_characters() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        let oid = super::Oid::from_str(id).unwrap();
        assert_eq!(super::short(oid), "0123456");
        assert_eq!(super::short(id), "0123456");
        assert_eq!(super::short10(id), "0123456789");
        assert_eq!(super::short12(id), "0123456789ab");
        assert_eq!(super::short12("abc"), "abc");
        assert_eq!(super::short10(""), "");
        // Never a panic, never half a character.
        let odd = "ééééééééééééééé";
        assert_eq!(super::short(odd), "ééééééé");
        assert_eq!(super::short10(odd), "éééééééééé");
        assert_eq!(super::short12(odd), "éééééééééééé");
    }
}
