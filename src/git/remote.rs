//! Remotes and remote-tracking branches, as a team sync reads them: which
//! remote a branch follows, where `<remote>/<branch>` points, and how a local
//! branch stands against it.

use git2::{BranchType, Oid, Repository, RepositoryState};

/// A remote name as git accepts it, safe on a command line.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// Is there a remote of this name in the clone?
pub fn exists(repo: &Repository, name: &str) -> bool {
    valid_name(name) && repo.find_remote(name).is_ok()
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
