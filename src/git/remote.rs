//! Pushing a branch to a remote: the remote and branch it tracks, read from
//! the configuration as git reads it, and the push itself through the `git`
//! program (so the user's own credentials, hooks and transport settings apply;
//! libgit2 has none of them). And remote-tracking branches as a team sync
//! reads them: where `<remote>/<branch>` points, and how a local branch
//! stands against it.

use std::path::Path;

use git2::{BranchType, Oid, Repository, RepositoryState};

/// Where `git push` sends `branch`: its configured upstream
/// (`branch.<name>.remote` and `branch.<name>.merge`), else `origin` with the
/// same branch name. None when there is neither.
pub fn push_destination(repo: &Repository, branch: &str) -> Option<(String, String)> {
    let cfg = super::config(repo).ok();
    let get = |key: String| cfg.as_ref().and_then(|c| c.get_string(&key).ok());
    if let Some(remote) = get(format!("branch.{branch}.remote")) {
        if remote != "." && repo.find_remote(&remote).is_ok() && valid_remote_name(&remote) {
            let dest = get(format!("branch.{branch}.merge"))
                .and_then(|m| m.strip_prefix("refs/heads/").map(str::to_string))
                .filter(|b| super::valid_branch_name(b))
                .unwrap_or_else(|| branch.to_string());
            return Some((remote, dest));
        }
    }
    repo.find_remote("origin")
        .ok()
        .map(|_| ("origin".to_string(), branch.to_string()))
}

/// A remote name git accepts that a command line cannot take for an option.
pub fn valid_remote_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('-') && git2::Remote::is_valid_name(name)
}

/// `git push <remote> refs/heads/<branch>:refs/heads/<dest>` in `root`.
/// The error is git's own message.
pub fn push_branch(root: &Path, remote: &str, branch: &str, dest: &str) -> Result<(), String> {
    if !valid_remote_name(remote)
        || !super::valid_branch_name(branch)
        || !super::valid_branch_name(dest)
    {
        return Err(format!(
            "refusing to push {branch:?} to {remote:?}/{dest:?}: not a valid name"
        ));
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["push", "--quiet", "--", remote])
        .arg(format!("refs/heads/{branch}:refs/heads/{dest}"))
        .output()
        .map_err(|e| format!("could not run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Is there a remote of this name in the clone?
pub fn exists(repo: &Repository, name: &str) -> bool {
    valid_remote_name(name) && repo.find_remote(name).is_ok()
}

/// The remote `branch` follows (`branch.<name>.remote`), if set.
pub fn upstream_of(repo: &Repository, branch: &str) -> Option<String> {
    let cfg = super::config(repo).ok()?;
    cfg.get_string(&format!("branch.{branch}.remote"))
        .ok()
        .filter(|r| r != ".")
}

/// Where `<remote>/<branch>` points, if this clone has fetched it.
pub fn tracking_tip(repo: &Repository, remote: &str, branch: &str) -> Option<Oid> {
    repo.find_branch(&format!("{remote}/{branch}"), BranchType::Remote)
        .ok()?
        .get()
        .target()
}

/// How a local commit stands against the remote's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Same,
    /// The remote has commits the local branch lacks, and nothing else differs.
    Behind,
    /// The local branch has commits the remote lacks, and nothing else differs.
    Ahead,
    Diverged,
}

pub fn standing(repo: &Repository, local: Oid, remote: Oid) -> Result<Standing, git2::Error> {
    if local == remote {
        return Ok(Standing::Same);
    }
    if repo.graph_descendant_of(local, remote)? {
        return Ok(Standing::Ahead);
    }
    if repo.graph_descendant_of(remote, local)? {
        return Ok(Standing::Behind);
    }
    Ok(Standing::Diverged)
}

/// The git operation in progress in the main checkout (`merge`, `rebase`...), if any.
pub fn operation_in_progress(repo: &Repository) -> Option<&'static str> {
    Some(match repo.state() {
        RepositoryState::Clean => return None,
        RepositoryState::Merge => "merge",
        RepositoryState::Rebase
        | RepositoryState::RebaseInteractive
        | RepositoryState::RebaseMerge
        | RepositoryState::ApplyMailbox
        | RepositoryState::ApplyMailboxOrRebase => "rebase",
        RepositoryState::CherryPick | RepositoryState::CherryPickSequence => "cherry-pick",
        RepositoryState::Revert | RepositoryState::RevertSequence => "revert",
        RepositoryState::Bisect => "bisect",
    })
}

/// The paths git left unmerged in the main checkout's index.
pub fn unmerged_paths(repo: &Repository) -> Result<Vec<String>, git2::Error> {
    let index = repo.index()?;
    if !index.has_conflicts() {
        return Ok(Vec::new());
    }
    super::conflict_paths(&index)
}
