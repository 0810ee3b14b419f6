//! Top-level `implement`: prepare a work package's workspace (no status
//! change), optionally starting a new lane from a chosen base (`--base`: another
//! work package's work or any git revision), and `--recover`: bring back the
//! workspaces a crashed implement left half made or removed.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::lanes::PLANNING_LANE;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::{find_wp, MoveRequest};
use crate::status::{Lane, StatusStore};
use crate::workspace::{self, Workspace};

/// Where `--base` started the lane.
#[derive(Debug, Clone, Serialize)]
pub struct BaseChoice {
    /// What was given: a work package id or a git revision.
    pub given: String,
    /// The branch it named (a work package's lane branch), if any.
    pub branch: Option<String>,
    pub commit: String,
    /// False when the lane branch already existed (and already held the base).
    pub applied: bool,
}

/// What `implement` prepared.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub wp_id: String,
    pub workspace: Workspace,
    pub base: Option<BaseChoice>,
}

/// Prepare `wp_id`'s workspace; with `base`, a lane created now starts there.
pub fn prepare(
    project: &Project,
    mission: &Mission,
    wp_id: &str,
    base: Option<&str>,
) -> Result<Prepared> {
    let lanes = workspace::require_lanes(project, mission)?;
    let wp = find_wp(mission, wp_id)?;
    // The main checkout's repository, once for the command.
    let main = workspace::open_main_if_git(project)?;
    let Some(given) = base else {
        let ws = workspace::ensure(main.as_ref(), project, mission, &lanes, &wp)?;
        return Ok(Prepared {
            wp_id: wp.id,
            workspace: ws,
            base: None,
        });
    };
    let planned = workspace::resolve(project, mission, &lanes, &wp)?;
    let Some(lane_branch) = planned.branch.clone() else {
        return Err(Error::user(format!(
            "--base applies to lane workspaces; {} is planning work done in the main checkout",
            wp.id
        ))
        .with_hint("drop --base for this work package"));
    };
    let Some(repo) = main.as_ref() else {
        return Err(workspace::WorkspaceError::NeedsGit {
            root: project.root.clone(),
        }
        .into());
    };
    // A work package id: its lane branch (its work so far).
    let (branch, spec) = if crate::ids::is_wp_id(&given.to_ascii_uppercase()) {
        let other = find_wp(mission, given)?;
        let lane = lanes
            .lane_for_wp(&other.id)
            .filter(|l| l.lane_id != PLANNING_LANE)
            .ok_or_else(|| {
                Error::user(format!(
                    "--base {}: it has no lane branch (planning work, or not in lanes.json)",
                    other.id
                ))
                .with_hint("name a work package that runs in a lane, or a branch such as main")
            })?;
        let b = lanes.lane_branch(&lane.lane_id);
        (Some(b.clone()), b)
    } else {
        (None, given.to_string())
    };
    let commit = repo.resolve_commit(&spec).ok_or_else(|| {
        Error::user(format!(
            "--base {}: {} does not name a commit in this repository",
            crate::shell::printable(given),
            crate::shell::printable(&spec)
        ))
        .with_hint("see `git branch -a`; a work package's lane branch exists once it was started")
    })?;
    let exists = repo.branch_tip(&lane_branch);
    if let Some(tip) = exists {
        let holds = repo.contains(tip, commit).unwrap_or(false);
        if !holds {
            return Err(Error::user(format!(
                "{lane_branch} already exists and does not contain {} ({}); --base only chooses where a new lane starts",
                crate::shell::printable(given),
                crate::git::short(commit)
            ))
            .with_hint(format!(
                "merge it into the lane yourself (`git -C {} merge {}`), or implement without --base",
                planned.path.display(),
                crate::shell::quote(&spec)
            )));
        }
    }
    let ws = workspace::ensure_from(Some(repo), project, mission, &lanes, &wp, Some(commit))?;
    Ok(Prepared {
        wp_id: wp.id,
        workspace: ws,
        base: Some(BaseChoice {
            given: given.to_string(),
            branch,
            commit: commit.to_string(),
            applied: exists.is_none(),
        }),
    })
}

/// What `--recover` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Recovery {
    pub status: &'static str,
    pub message: String,
    pub recovered_wps: Vec<String>,
    pub worktrees_recreated: usize,
    pub transitions_emitted: usize,
    pub errors: Vec<String>,
}

/// Every work package started (claimed or in progress) whose lane workspace
/// is missing or was cut short gets it back (from its lane branch, which keeps
/// the work); one still `claimed` whose lane branch already holds commits of
/// its own moves to `in_progress`, as the crashed implement would have.
/// With `only`, just that work package.
pub fn recover(project: &Project, mission: &Mission, only: Option<&str>) -> Result<Recovery> {
    let only = only.map(|w| find_wp(mission, w)).transpose()?.map(|f| f.id);
    let lanes = workspace::require_lanes(project, mission)?;
    let (snap, _) = StatusStore::for_mission(project, mission).snapshot()?;
    let repo = if project.is_git() {
        Repo::open(&project.root).ok()
    } else {
        None
    };
    let target = crate::lanes::target_branch(mission, Some(&*lanes));
    let mut out = Recovery {
        status: "ok",
        ..Default::default()
    };
    let mut done_lanes: Vec<String> = Vec::new();
    for (id, st) in &snap.work_packages {
        if !matches!(st.lane, Lane::Claimed | Lane::InProgress)
            || only.as_ref().is_some_and(|o| o != id)
        {
            continue;
        }
        let Some(lane) = lanes.lane_for_wp(id).filter(|l| l.lane_id != PLANNING_LANE) else {
            continue;
        };
        let path = lanes.worktree_path(&project.root, &lane.lane_id);
        let mut touched = false;
        // Cut short: the creation marker of a worktree never handed out.
        let creating = project.locks_dir().join(format!(
            "worktree-{}-{}.creating",
            mission.slug, lane.lane_id
        ));
        // Missing: its lane branch exists (work to bring back) but the
        // worktree does not. A lane never started is left for `implement`.
        let has_branch = repo
            .as_ref()
            .is_some_and(|r| r.branch_tip(&lanes.lane_branch(&lane.lane_id)).is_some());
        let broken = (has_branch && !path.join(".git").exists()) || creating.exists();
        if broken && !done_lanes.contains(&lane.lane_id) {
            let wp = find_wp(mission, id)?;
            match workspace::ensure(repo.as_ref(), project, mission, &lanes, &wp) {
                Ok(ws) => {
                    if ws.created {
                        out.worktrees_recreated += 1;
                        touched = true;
                    }
                    done_lanes.push(lane.lane_id.clone());
                }
                Err(e) => out
                    .errors
                    .push(format!("{id}: {}", crate::error::Diagnose::message(&e))),
            }
        }
        let branch = lanes.lane_branch(&lane.lane_id);
        let worked = repo
            .as_ref()
            .and_then(|r| r.own_tip_time(&branch, &target))
            .is_some();
        if st.lane == Lane::Claimed && worked {
            let req = MoveRequest {
                wp_id: id.clone(),
                to: "in_progress".into(),
                agent: Some(st.actor.clone()),
                note: Some(format!(
                    "recovered by implement --recover: {branch} holds commits of this work"
                )),
                workspace: Some(path.display().to_string()),
                ..Default::default()
            };
            match crate::status::ops::move_wp(repo.as_ref(), project, mission, &req) {
                Ok(_) => {
                    out.transitions_emitted += 1;
                    touched = true;
                }
                Err(e) => out
                    .errors
                    .push(format!("{id}: {}", crate::error::Diagnose::message(&e))),
            }
        }
        if touched {
            out.recovered_wps.push(id.clone());
        }
    }
    out.message = if out.recovered_wps.is_empty() && out.errors.is_empty() {
        "No crashed implementation sessions found.".into()
    } else {
        format!("{} work package(s) recovered", out.recovered_wps.len())
    };
    if !out.errors.is_empty() {
        out.status = "error";
    }
    Ok(out)
}
