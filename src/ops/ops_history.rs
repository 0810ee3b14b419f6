//! `ops log` and `ops undo`: the repository's operation history (git's
//! reflog of HEAD) and the undo of the one kind of operation that is
//! provably ours and safe to take back.
//!
//! Undo takes back the latest commit spec-kitty recorded on the checked-out
//! branch (a record or auto-commit: its reflog entry says `spec-kitty: ...`)
//! by moving the branch back to the commit before it and putting the index
//! back with it. The working tree is never touched, so the recorded files
//! stay as they are, now uncommitted: nothing anyone wrote is lost. Anything
//! else is refused with the reason: a commit a person made, a merge (it also
//! moved status and removed lanes), a branch that moved since, a commit
//! already pushed to the branch's upstream, or staged changes the index
//! reset would drop.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::reflog::Head;
use crate::git::Repo;

/// One entry of the history.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// `HEAD@{N}`.
    pub id: String,
    pub commit: String,
    /// Local time of the entry, `YYYY-MM-DD HH:MM`.
    pub time: String,
    pub description: String,
    /// Written by spec-kitty (its reflog messages start with `spec-kitty`).
    pub by_spec_kitty: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub backend: &'static str,
    pub operations: Vec<Operation>,
}

fn repo_at(dir: &Path) -> Result<Repo> {
    Repo::discover(dir).map_err(|e| {
        Error::user(format!("not in a git repository: {}", e.reason()))
            .with_hint("run this inside the project's git checkout")
    })
}

fn ours(message: &str) -> bool {
    message.starts_with("spec-kitty")
}

fn local_time(seconds: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(seconds, 0)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The newest `limit` entries of HEAD's reflog.
pub fn log(dir: &Path, limit: usize) -> Result<History> {
    let repo = repo_at(dir)?;
    let operations = repo
        .reflog_entries("HEAD", limit)?
        .into_iter()
        .enumerate()
        .map(|(i, e)| Operation {
            id: format!("HEAD@{{{i}}}"),
            commit: e.new.to_string(),
            time: local_time(e.seconds),
            by_spec_kitty: ours(&e.message),
            description: crate::shell::one_line(&e.message),
        })
        .collect();
    Ok(History {
        backend: "git",
        operations,
    })
}

/// What `ops undo` took back.
#[derive(Debug, Clone, Serialize)]
pub struct Undone {
    pub branch: String,
    /// The commit taken back (still reachable through the reflog).
    pub undone_commit: String,
    /// Where the branch points now.
    pub restored_commit: String,
    pub description: String,
    /// Files of the undone commit, now uncommitted changes.
    pub files: Vec<String>,
}

fn refuse(reason: String) -> Error {
    Error::user(format!("nothing undone: {reason}")).with_hint(
        "take back anything else with git yourself (`git revert <commit>` keeps history; `git reflog` lists earlier states)",
    )
}

/// Undo the latest spec-kitty commit on the checked-out branch, if safe.
pub fn undo(dir: &Path) -> Result<Undone> {
    let repo = repo_at(dir)?;
    let (refname, branch, tip) = match repo.head_ref()? {
        Head::Unborn => return Err(refuse("the repository has no commit yet".into())),
        Head::Detached => {
            return Err(refuse(
                "HEAD is detached; undo works on a checked-out branch".into(),
            ))
        }
        Head::Branch { refname, name, tip } => (refname, name, tip),
    };
    let Some(last) = repo.reflog_entries(&refname, 1)?.into_iter().next() else {
        return Err(refuse(format!("{branch} has no recorded history (reflog)")));
    };
    let message = last.message;
    let said = crate::shell::one_line(&message);
    if !ours(&message) {
        return Err(refuse(format!(
            "the last change to {branch} ({said}) was not made by spec-kitty"
        )));
    }
    if message.starts_with("spec-kitty ops undo") {
        return Err(refuse(format!(
            "the last change to {branch} was already an undo ({said}); undo takes back one commit, never two"
        )));
    }
    // The merge's own record commit ("Record mission <slug> merged into
    // <target>") is the last step of a merge: part of it.
    let merge_record =
        message.starts_with("spec-kitty: Record mission ") && message.contains(" merged into ");
    if message.starts_with("spec-kitty merge") || merge_record {
        return Err(refuse(format!(
            "the last change to {branch} is a merge ({said}); a merge also moved work package status and removed lanes, so moving the branch back would not undo it"
        ))
        .with_hint("to take a merge back, `git revert -m 1 <merge commit>` (history kept)"));
    }
    if last.new != tip {
        return Err(refuse(format!(
            "{branch} moved since spec-kitty's last commit"
        )));
    }
    let old = last.old;
    if old.is_zero() {
        return Err(refuse(format!(
            "{said} created {branch}; there is nothing before it"
        )));
    }
    if !repo.parent_ids(tip)?.contains(&old) {
        return Err(refuse(format!(
            "the last spec-kitty change to {branch} ({said}) was not a commit on top of the previous tip"
        )));
    }
    if let Some(upstream) = repo.upstream_holding(&refname, tip)? {
        return Err(refuse(format!(
            "the commit is already in {upstream} (pushed); teammates may have it"
        ))
        .with_hint("take it back with `git revert <commit>` and push that"));
    }
    // The index must match the tip: resetting it must not drop staged work.
    let staged = repo.staged_against(tip)?;
    if staged > 0 {
        return Err(refuse(format!(
            "{staged} staged change(s) would be lost from the index"
        ))
        .with_hint("commit or unstage them (`git restore --staged <path>`), then run `spec-kitty ops undo` again"));
    }
    let files = repo.diff_paths(old, tip)?;
    // Compare-and-swap: refused if the branch moved in the meantime.
    repo.move_branch_back(
        &refname,
        tip,
        old,
        &format!("spec-kitty ops undo: {}", said),
    )?;
    Ok(Undone {
        branch,
        undone_commit: tip.to_string(),
        restored_commit: old.to_string(),
        description: said,
        files,
    })
}

/// The id as git abbreviates it in listings.
pub fn short(id: &str) -> String {
    crate::git::short12(id).to_string()
}
