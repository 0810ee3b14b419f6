//! Deleting a mission: its directory, its lane worktrees and branches, its
//! mission branch and its run log. Every removal goes through
//! [`crate::confine`], so nothing outside `.worktrees/`, the mission directory
//! and spec-kitty's own runtime files is ever removed, and only worktrees git
//! lists for this repository.

use std::path::PathBuf;

use serde::Serialize;

use super::OpError;
use crate::mission::{Mission, MissionError};

type Result<T, E = OpError> = std::result::Result<T, E>;
use crate::confine;
use crate::git::branches::BranchRemoval;
use crate::git::Repo;
use crate::lanes::model::{lane_branch, worktree_path};
use crate::lanes::{LanesManifest, PLANNING_LANE};
use crate::project::Project;
use crate::workspace;

/// What a deletion did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Deleted {
    pub removed_dir: PathBuf,
    pub removed_worktrees: Vec<PathBuf>,
    pub removed_branches: Vec<String>,
    /// Branches kept because the main checkout has them checked out.
    pub kept_branches: Vec<String>,
    /// Unmerged or uncommitted work that `force` discarded.
    pub discarded: Vec<String>,
    /// Things the caller should tell the user (an unusable lanes.json).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `lane-<letters>` after `<slug>-`: the lane id of one of this mission's
/// worktree directories or lane branches (never another mission's).
fn lane_suffix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(prefix)?;
    crate::ids::is_lane_id(rest).then_some(rest)
}

/// The code lanes of a mission: those in lanes.json plus any lane worktree
/// directory, worktree registration or lane branch found by name (lanes.json
/// may be gone or out of date).
fn lane_ids(
    project: &Project,
    mission: &Mission,
    lanes: Option<&LanesManifest>,
    repo: &Repo,
) -> Vec<String> {
    let mut ids: Vec<String> = lanes
        .map(|l| {
            l.lanes
                .iter()
                .map(|l| l.lane_id.clone())
                .filter(|id| id != PLANNING_LANE)
                .collect()
        })
        .unwrap_or_default();
    let mut found = Vec::new();
    let dir_prefix = format!("{}-", mission.slug);
    if let Ok(rd) = std::fs::read_dir(project.worktrees_dir()) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            found.extend(lane_suffix(&name, &dir_prefix).map(str::to_string));
        }
    }
    for name in repo.worktree_names() {
        found.extend(lane_suffix(&name, &dir_prefix).map(str::to_string));
    }
    let branch_prefix = format!("{}-", mission.mission_branch());
    for name in repo.local_branch_names() {
        found.extend(lane_suffix(&name, &branch_prefix).map(str::to_string));
    }
    for id in found {
        if id != PLANNING_LANE && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Delete `mission`. Unmerged lane commits, uncommitted worktree changes, and
/// anything the confinement rule refuses stop it before anything is removed;
/// `force` discards the first two, never the third.
pub fn delete(project: &Project, mission: &Mission, force: bool) -> Result<Deleted> {
    let mut out = Deleted {
        removed_dir: mission.dir.clone(),
        ..Deleted::default()
    };
    let lanes = LanesManifest::for_mission(mission).unwrap_or_else(|e| {
        out.warnings.push(format!(
            "{e}; looking for the mission's lanes by name instead"
        ));
        None
    });
    let target = crate::lanes::target_branch(mission, lanes.as_ref());
    let repo = if project.is_git() {
        Some(Repo::open(&project.root)?)
    } else {
        None
    };
    let mut worktrees: Vec<(String, PathBuf)> = Vec::new();
    let mut branches = Vec::new();
    let mut problems = Vec::new();
    let mut refused = Vec::new();
    if let Some(repo) = &repo {
        for lane_id in lane_ids(project, mission, lanes.as_ref(), repo) {
            let path = worktree_path(&project.root, &mission.slug, &lane_id);
            let branch = lane_branch(&mission.slug, &lane_id);
            match confine::confined_in(project, repo, &path, confine::Area::Worktree) {
                Ok(Some(_)) => match workspace::is_dirty(&path) {
                    Ok(false) => {}
                    Ok(true) => {
                        problems.push(format!("{} has uncommitted changes", path.display()))
                    }
                    Err(e) => problems.push(format!(
                        "{} cannot be read as a git worktree ({e})",
                        path.display(),
                    )),
                },
                Ok(None) => {}
                Err(e) => refused.push(e.to_string()),
            }
            let ahead = repo.unmerged_commit_count(&branch, &target)?;
            if ahead > 0 {
                problems.push(format!(
                    "{branch} has {ahead} commit(s) not merged into {target}"
                ));
            }
            worktrees.push((format!("{}-{lane_id}", mission.slug), path));
            branches.push(branch);
        }
        branches.push(mission.mission_branch());
    }
    if let Err(e) = confine::confined(project, &mission.dir, confine::Area::MissionDir) {
        refused.push(e.to_string());
    }
    if !refused.is_empty() {
        return Err(MissionError::DeleteRefused {
            mission: mission.slug.clone(),
            reasons: refused,
        }
        .into());
    }
    if !problems.is_empty() && !force {
        return Err(MissionError::UnsavedWork {
            mission: mission.slug.clone(),
            problems,
        }
        .into());
    }
    if let Some(repo) = &repo {
        for (name, path) in &worktrees {
            if confine::remove_worktree_in(project, repo, name, path)
                .map_err(MissionError::Confine)?
            {
                out.removed_worktrees.push(path.clone());
            }
        }
    }
    if let Some(repo) = &repo {
        for b in &branches {
            match repo.remove_branch(b)? {
                BranchRemoval::Removed => out.removed_branches.push(b.clone()),
                BranchRemoval::CheckedOut => out.kept_branches.push(b.clone()),
                BranchRemoval::Missing => {}
            }
        }
    }
    confine::remove_mission_dir(project, &mission.dir).map_err(MissionError::Confine)?;
    // What spec-kitty kept about the mission outside it: its run log, and an
    // empty `.worktrees/` once the last lane worktree is gone.
    let log = crate::mission::run_log_path(project, mission);
    let memo = crate::mission::run_log_memo_path(&log);
    for p in [log.clone(), log.with_extension("lock"), memo] {
        confine::remove_file(project, &p).map_err(MissionError::Confine)?;
    }
    let wt_dir = project.worktrees_dir();
    let is_real_dir = std::fs::symlink_metadata(&wt_dir).is_ok_and(|m| m.is_dir());
    if is_real_dir && std::fs::read_dir(&wt_dir).is_ok_and(|mut rd| rd.next().is_none()) {
        // remove_dir removes only an empty directory, never a link's target.
        let _ = std::fs::remove_dir(&wt_dir);
    }
    if force {
        out.discarded = problems;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::lane_suffix;

    #[test]
    fn only_this_missions_lanes_match() {
        assert_eq!(lane_suffix("001-demo-lane-a", "001-demo-"), Some("lane-a"));
        assert_eq!(
            lane_suffix("001-demo-lane-ab", "001-demo-"),
            Some("lane-ab")
        );
        assert_eq!(lane_suffix("001-demo-x-lane-a", "001-demo-"), None);
        assert_eq!(lane_suffix("001-demo-lane-lane-a", "001-demo-"), None);
        assert_eq!(lane_suffix("001-demo-lane-", "001-demo-"), None);
        assert_eq!(
            lane_suffix("001-demo-lane-planning", "001-demo-"),
            Some("lane-planning")
        );
        assert_eq!(
            lane_suffix("kitty/mission-001-demo-lane-b", "kitty/mission-001-demo-"),
            Some("lane-b")
        );
    }
}
