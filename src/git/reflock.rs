//! Ref lock files (`refs/heads/<branch>.lock`) that a killed spec-kitty
//! process left behind. git writes a ref's new value into `<ref>.lock` and
//! renames it over the ref; a kill in between leaves the lock, and every later
//! update of that branch fails. One mechanism for every committer: a lock is
//! removed only when its caller proves it is its own (merge: its state file;
//! a record or auto_commit commit: its intent record with a dead pid),
//! anything else is reported, never removed.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

use super::error::{GitError, Result};
use crate::fsutil;

/// What was found at a branch's ref lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefLock {
    /// No lock file.
    Free,
    /// A lock proven ours, removed.
    Cleared(PathBuf),
    /// A lock that is not provably ours, left in place.
    Foreign(PathBuf),
}

/// `refs/heads/<branch>.lock` of the repository (None for a name that is not
/// a valid branch name: it never builds a path).
pub fn lock_path(repo: &Repository, branch: &str) -> Option<PathBuf> {
    if !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
        return None;
    }
    Some(
        repo.commondir()
            .join("refs/heads")
            .join(format!("{branch}.lock")),
    )
}

/// Remove `branch`'s ref lock when `is_ours` says the text in it (trimmed;
/// empty when git had not written the new value yet) is ours. A lock that is
/// not a small regular file is never ours.
pub fn clear_if_ours(
    repo: &Repository,
    branch: &str,
    is_ours: impl Fn(&str) -> bool,
) -> Result<RefLock> {
    let Some(lock) = lock_path(repo, branch) else {
        return Ok(RefLock::Free);
    };
    let Ok(meta) = std::fs::symlink_metadata(&lock) else {
        return Ok(RefLock::Free);
    };
    if !meta.is_file() || meta.len() > 128 {
        return Ok(RefLock::Foreign(lock));
    }
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    if !is_ours(text.trim()) {
        return Ok(RefLock::Foreign(lock));
    }
    match std::fs::remove_file(&lock) {
        Ok(()) => Ok(RefLock::Cleared(lock)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RefLock::Free),
        Err(source) => Err(GitError::Io {
            action: "remove",
            path: lock,
            source,
        }),
    }
}

/// What a spec-kitty commit is about to do to a branch, written before it
/// locks the ref and removed once the branch moved: the proof that a lock a
/// kill left is ours.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Intent {
    pid: u32,
    branch: String,
    tip: String,
    commit: String,
}

fn intents_dir(repo: &Repository) -> PathBuf {
    repo.commondir().join("spec-kitty-commit")
}

fn intent_path(repo: &Repository) -> PathBuf {
    intents_dir(repo).join(format!("{}.json", std::process::id()))
}

/// Clear the ref locks killed spec-kitty commits left: an intent record
/// whose process is gone, and a lock of its branch holding nothing yet or the
/// commit it was about to set; when the branch did move, the index entries
/// the kill left behind follow it. The records of finished processes go too.
/// Returns the locks removed.
pub fn recover_killed_commits(repo: &Repository) -> Result<Vec<PathBuf>> {
    let dir = intents_dir(repo);
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut cleared = Vec::new();
    for e in rd.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_suffix(".json")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || fsutil::process_alive(pid) {
            continue;
        }
        let intent: Option<Intent> = fsutil::read_capped(&path, 4096)
            .ok()
            .flatten()
            .and_then(|t| crate::bounds::json(&t).ok());
        if let Some(i) = intent.filter(|i| i.pid == pid) {
            if let RefLock::Cleared(lock) =
                clear_if_ours(repo, &i.branch, |t| t.is_empty() || t == i.commit)?
            {
                cleared.push(lock);
            }
            index_catch_up(repo, &i)?;
        }
        remove(&path)?;
    }
    Ok(cleared)
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(GitError::Io {
            action: "remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Move `branch` from `tip` to `commit` (a spec-kitty commit): recover the
/// locks killed commits left, refuse a lock that is someone else's (naming
/// it), record the intent, lock the ref, check it still points at `tip`, set
/// it, and drop the intent.
pub fn move_branch(
    repo: &Repository,
    branch: &str,
    tip: Oid,
    commit: Oid,
    sig: &git2::Signature<'_>,
    message: &str,
) -> Result<()> {
    recover_killed_commits(repo)?;
    let refname = format!("refs/heads/{branch}");
    if let Some(lock) = lock_path(repo, branch).filter(|l| l.symlink_metadata().is_ok()) {
        return Err(GitError::RefLocked {
            branch: branch.to_string(),
            lock,
        });
    }
    let intent = Intent {
        pid: std::process::id(),
        branch: branch.to_string(),
        tip: tip.to_string(),
        commit: commit.to_string(),
    };
    let path = intent_path(repo);
    fsutil::create_dir_all(&intents_dir(repo))?;
    fsutil::atomic_write(&path, crate::jsonfmt::pretty(&intent).as_bytes())?;
    let result = (|| -> Result<()> {
        let mut tx = repo.transaction()?;
        tx.lock_ref(&refname).map_err(|e| {
            match lock_path(repo, branch).filter(|l| l.symlink_metadata().is_ok()) {
                Some(lock) => GitError::RefLocked {
                    branch: branch.to_string(),
                    lock,
                },
                None => GitError::Git(e),
            }
        })?;
        // Test hook: die holding the ref lock, as a kill here would.
        crate::env::crash_point(crate::env::CrashPoint::CommitRefLocked);
        let now = repo.refname_to_id(&refname)?;
        if now != tip {
            return Err(GitError::BranchMoved {
                branch: branch.to_string(),
                now,
                before: tip,
            });
        }
        tx.set_target(&refname, commit, Some(sig), message)?;
        tx.commit()?;
        crate::env::crash_step("commit-ref-moved", None);
        Ok(())
    })();
    // Once the branch moved, the intent stays until the caller's index
    // follows ([`commit_finished`]): it proves a lagging index ours too.
    if result.is_err() {
        remove(&path)?;
    }
    result
}

/// The commit [`move_branch`] made is complete (the index, when it follows
/// the branch, is written): drop its intent record.
pub fn commit_finished(repo: &Repository) -> Result<()> {
    remove(&intent_path(repo))
}

/// A killed commit moved `intent.branch` to `intent.commit` and died before
/// the main checkout's index followed: every index entry the commit changed
/// that still holds the old tip's version (provably the kill's leftover, not
/// something you staged) takes the commit's version. Only when that branch
/// is checked out and the index is not locked.
fn index_catch_up(repo: &Repository, intent: &Intent) -> Result<()> {
    let (Ok(tip), Ok(commit)) = (Oid::from_str(&intent.tip), Oid::from_str(&intent.commit)) else {
        return Ok(());
    };
    let on_branch = repo
        .head()
        .ok()
        .and_then(|h| h.name().map(str::to_string))
        .is_some_and(|n| n == format!("refs/heads/{}", intent.branch));
    let now = repo
        .refname_to_id(&format!("refs/heads/{}", intent.branch))
        .ok();
    if repo.is_bare()
        || !on_branch
        || now != Some(commit)
        || repo.path().join("index.lock").symlink_metadata().is_ok()
    {
        return Ok(());
    }
    let old = repo.find_commit(tip)?.tree()?;
    let new = repo.find_commit(commit)?.tree()?;
    let diff = repo.diff_tree_to_tree(Some(&old), Some(&new), None)?;
    let mut index = repo.index()?;
    let mut changed = false;
    for delta in diff.deltas() {
        let (before, after) = (delta.old_file(), delta.new_file());
        let Some(path) = after.path().or_else(|| before.path()) else {
            continue;
        };
        let entry = index.get_path(path, 0).map(|e| e.id);
        let stale = if before.exists() {
            entry == Some(before.id())
        } else {
            entry.is_none()
        };
        if !stale {
            continue;
        }
        if after.exists() {
            let mut bytes = Vec::new();
            bytes.extend_from_slice(path.to_string_lossy().replace('\\', "/").as_bytes());
            index.add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: u32::from(after.mode()),
                uid: 0,
                gid: 0,
                file_size: 0,
                id: after.id(),
                flags: 0,
                flags_extended: 0,
                path: bytes,
            })?;
        } else {
            index.remove_path(path)?;
        }
        changed = true;
    }
    if changed {
        index.write()?;
    }
    Ok(())
}
