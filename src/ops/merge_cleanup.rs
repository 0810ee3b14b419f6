//! `merge --clean-up`: remove what a merged mission left in this clone (its
//! lane worktrees and local lane branches), and, only when asked, its lane
//! branches on a remote. A teammate's clone that pulled the merge has them;
//! re-running the merge there refuses (the mission is never merged or
//! recorded twice) and names this command.
//!
//! Nothing unmerged is removed: a lane whose branch holds commits the target
//! branch lacks, or whose worktree has uncommitted changes, is kept and said.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::cli::{self, NETWORK_TIMEOUT};
use crate::git::{Oid, Repo};
use crate::lanes::model::{lane_branch, worktree_path, LanesManifest, PLANNING_LANE};
use crate::mission::Mission;
use crate::project::Project;

/// What the clean-up did.
#[derive(Debug, Default, Serialize)]
pub struct CleanUp {
    pub mission_slug: String,
    pub target_branch: String,
    pub removed_worktrees: Vec<String>,
    pub removed_branches: Vec<String>,
    /// `<remote>/<branch>` deleted on the remote.
    pub removed_remote_branches: Vec<String>,
    /// What stayed, and why.
    pub kept: Vec<String>,
}

fn on(repo: &Repo, target: Oid, commit: Oid) -> bool {
    repo.contains(target, commit).unwrap_or(false)
}

/// A remote name as git accepts it, safe on a command line.
fn valid_remote(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

pub fn clean_up(project: &Project, mission: &Mission, remote: Option<&str>) -> Result<CleanUp> {
    if mission.meta_str("merged_at").is_none() {
        return Err(Error::user(format!(
            "{} has not been merged; --clean-up only removes what a merged mission left",
            mission.slug
        ))
        .with_hint(format!(
            "merge it first: `spec-kitty merge --mission {}`",
            mission.slug
        )));
    }
    let repo = Repo::open(&project.root).map_err(|e| {
        Error::user(format!(
            "cannot open the git repository: {}",
            e.git_message()
        ))
    })?;
    // Bridge until this function holds only a `git::Repo`.
    let main = crate::git::Repo::open(&project.root)?;
    let Some(lanes) = LanesManifest::for_mission(mission)? else {
        return Ok(CleanUp {
            mission_slug: mission.slug.clone(),
            ..Default::default()
        });
    };
    let target = crate::status::work::target_branch(project, mission)?;
    let target_tip = repo.branch_tip(&target).ok_or_else(|| {
        Error::user(format!(
            "the target branch {target} of {} does not exist here",
            mission.slug
        ))
    })?;
    if let Some(r) = remote {
        if !valid_remote(r) || !repo.has_remote(r) {
            return Err(
                Error::user(format!("no git remote named {r:?} in this clone"))
                    .with_hint("see `git remote -v`"),
            );
        }
    }
    let mut out = CleanUp {
        mission_slug: mission.slug.clone(),
        target_branch: target.clone(),
        ..Default::default()
    };
    for lane in lanes.lanes.iter().filter(|l| l.lane_id != PLANNING_LANE) {
        if !crate::ids::is_lane_id(&lane.lane_id) {
            out.kept
                .push(format!("{:?}: not a lane id; skipped", lane.lane_id));
            continue;
        }
        let branch = lane_branch(&mission.slug, &lane.lane_id);
        let worktree = worktree_path(&project.root, &mission.slug, &lane.lane_id);
        let name = format!("{}-{}", mission.slug, lane.lane_id);
        let local = repo.branch_tip(&branch);
        let merged = local.is_none_or(|t| on(&repo, target_tip, t));
        if !merged {
            out.kept.push(format!(
                "{branch}: has commits that are not on {target}; kept"
            ));
        } else if worktree.exists() && crate::workspace::is_dirty(&worktree).unwrap_or(true) {
            out.kept.push(format!(
                "{}: has uncommitted changes; kept",
                rel(project, &worktree)
            ));
        } else if local.is_some() || worktree.exists() {
            let (w, b) =
                crate::workspace::remove_lane_workspace(project, &main, &name, &worktree, &branch)?;
            out.removed_worktrees.extend(w.map(|p| rel(project, &p)));
            match b {
                Some(b) => out.removed_branches.push(b),
                None if repo.branch_tip(&branch).is_some() => out
                    .kept
                    .push(format!("{branch}: checked out in the main checkout; kept")),
                None => {}
            }
        }
        if let Some(r) = remote {
            clean_remote_branch(project, &repo, r, &branch, (&target, target_tip), &mut out)?;
        }
    }
    // Reviewers' scratch checkouts of hand-ins (`review --checkout`).
    if mission.tasks_dir().is_dir() {
        for wp in crate::tasks_md::wp::load_all(&mission.tasks_dir())? {
            if !crate::ids::is_wp_id(&wp.id) {
                continue;
            }
            let name = format!("{}-review-{}", mission.slug, wp.id);
            let path = project.worktrees_dir().join(&name);
            if path.exists() && crate::confine::remove_worktree_in(project, &repo, &name, &path)? {
                out.removed_worktrees.push(rel(project, &path));
            }
        }
    }
    // The mission branch (made with the first lane, as the Python tool expects).
    let branch = mission.mission_branch();
    match repo.branch_tip(&branch) {
        None => {}
        Some(t) if !on(&repo, target_tip, t) => out.kept.push(format!(
            "{branch}: has commits that are not on {target}; kept"
        )),
        Some(_) => {
            if crate::workspace::delete_branch(&main, &branch)? {
                out.removed_branches.push(branch.clone());
            } else {
                out.kept
                    .push(format!("{branch}: checked out in the main checkout; kept"));
            }
        }
    }
    if let Some(r) = remote {
        clean_remote_branch(project, &repo, r, &branch, (&target, target_tip), &mut out)?;
    }
    Ok(out)
}

/// `remote`'s copy of `branch`, as this clone last saw it: deleted from the
/// remote when the target (name, tip) holds all of it, else kept and said.
fn clean_remote_branch(
    project: &Project,
    repo: &Repo,
    remote: &str,
    branch: &str,
    (target, target_tip): (&str, Oid),
    out: &mut CleanUp,
) -> Result<()> {
    let tracking = format!("{remote}/{branch}");
    match repo.tracking_tip(remote, branch) {
        None => {}
        Some(t) if !on(repo, target_tip, t) => out.kept.push(format!(
            "{tracking}: has commits that are not on {target}; kept"
        )),
        Some(_) => {
            push_delete(&project.root, remote, branch)?;
            out.removed_remote_branches.push(tracking);
        }
    }
    Ok(())
}

fn rel(project: &Project, p: &Path) -> String {
    p.strip_prefix(&project.root)
        .unwrap_or(p)
        .display()
        .to_string()
}

/// `git push <remote> --delete <branch>` (git's own credentials and hooks),
/// never prompting and stopped after [`NETWORK_TIMEOUT`].
fn push_delete(root: &Path, remote: &str, branch: &str) -> Result<()> {
    let out = cli::run(
        root,
        &["push", "--quiet", remote, "--delete", branch],
        NETWORK_TIMEOUT,
    )?;
    if !out.success {
        return Err(Error::user(format!(
            "git push {remote} --delete {branch} failed: {}",
            crate::shell::one_line(&out.stderr)
        ))
        .with_hint(
            "the local clean-up above is done; delete the remote branch by hand or run this again",
        ));
    }
    Ok(())
}
