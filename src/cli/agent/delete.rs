//! `spec-kitty agent mission delete`.

use std::path::PathBuf;

use clap::Args;

use serde_json::json;

use crate::cli::Ctx;
use crate::error::{Error, IoContext, Result};
use crate::lanes::{LanesManifest, PLANNING_LANE};
use crate::mission::Mission;
use crate::project::Project;
use crate::workspace;

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(value_name = "MISSION", required_unless_present = "mission")]
    pub target: Option<String>,
    /// Same as the positional MISSION
    #[arg(long, conflicts_with = "target")]
    pub mission: Option<String>,
    /// Delete even if a lane branch has commits that are not merged
    #[arg(long)]
    pub force: bool,
}

/// `lane-<letters>` after `<slug>-`: the lane id of one of this mission's
/// worktree directories or lane branches (never another mission's).
fn lane_suffix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(prefix)?;
    let id = rest.strip_prefix("lane-")?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase())).then_some(rest)
}

/// The code lanes of a mission: those in lanes.json plus any lane worktree
/// directory, worktree registration or lane branch found by name (lanes.json
/// may be gone or out of date).
fn lane_ids(
    project: &Project,
    mission: &Mission,
    lanes: Option<&LanesManifest>,
    repo: Option<&git2::Repository>,
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
    if let Some(repo) = repo {
        if let Ok(names) = repo.worktrees() {
            for name in names.iter().flatten() {
                found.extend(lane_suffix(name, &dir_prefix).map(str::to_string));
            }
        }
        let branch_prefix = format!("{}-", mission.mission_branch());
        if let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) {
            for (b, _) in branches.flatten() {
                if let Ok(Some(name)) = b.name() {
                    found.extend(lane_suffix(name, &branch_prefix).map(str::to_string));
                }
            }
        }
    }
    for id in found {
        if id != PLANNING_LANE && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

pub fn run(ctx: &Ctx, args: &DeleteArgs) -> Result<()> {
    let selector = args.target.as_deref().or(args.mission.as_deref());
    let (project, mission) = ctx.mission(selector)?;
    let lanes = LanesManifest::read(&mission.lanes_file()).unwrap_or_else(|e| {
        ctx.warn(format!(
            "{}; looking for the mission's lanes by name instead",
            e.message
        ));
        None
    });
    let target = workspace::target_branch(&mission, lanes.as_ref());
    let repo = if project.is_git() {
        Some(git2::Repository::open(&project.root)?)
    } else {
        None
    };
    let mut worktrees: Vec<(String, PathBuf)> = Vec::new();
    let mut branches = Vec::new();
    let mut problems = Vec::new();
    if let Some(repo) = &repo {
        for lane_id in lane_ids(project, &mission, lanes.as_ref(), Some(repo)) {
            let path = crate::lanes::model::worktree_path(&project.root, &mission.slug, &lane_id);
            let branch = crate::lanes::model::lane_branch(&mission.slug, &lane_id);
            if path.exists() {
                match workspace::is_dirty(&path) {
                    Ok(false) => {}
                    Ok(true) => {
                        problems.push(format!("{} has uncommitted changes", path.display()))
                    }
                    Err(e) => problems.push(format!(
                        "{} cannot be read as a git worktree ({})",
                        path.display(),
                        e.message
                    )),
                }
            }
            let ahead = workspace::unmerged_commits(repo, &branch, &target)?;
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
    if !problems.is_empty() && !args.force {
        return Err(Error::user(format!(
            "refusing to delete {}: {}",
            mission.slug,
            problems.join("; ")
        ))
        .with_hint("merge or save that work first, or pass --force to discard it"));
    }
    let mut removed_worktrees = Vec::new();
    for (name, path) in &worktrees {
        let existed = path.exists();
        workspace::remove_worktree(project, name, path)?;
        if existed {
            removed_worktrees.push(path.clone());
        }
    }
    let mut removed_branches = Vec::new();
    let mut kept_branches = Vec::new();
    if let Some(repo) = &repo {
        for b in &branches {
            if let Ok(br) = repo.find_branch(b, git2::BranchType::Local) {
                if br.is_head() {
                    kept_branches.push(b.clone());
                    continue;
                }
            }
            if delete_branch(repo, b)? {
                removed_branches.push(b.clone());
            }
        }
    }
    std::fs::remove_dir_all(&mission.dir).with_path("remove", &mission.dir)?;
    // What spec-kitty kept about the mission outside it: its run log, and an
    // empty `.worktrees/` once the last lane worktree is gone.
    let log = crate::next::run_log_path(project, &mission);
    for p in [log.clone(), log.with_extension("lock")] {
        if p.exists() {
            std::fs::remove_file(&p).with_path("remove", &p)?;
        }
    }
    let wt_dir = project.worktrees_dir();
    if std::fs::read_dir(&wt_dir).is_ok_and(|mut rd| rd.next().is_none()) {
        std::fs::remove_dir(&wt_dir).with_path("remove", &wt_dir)?;
    }
    for b in &kept_branches {
        ctx.warn(format!(
            "kept branch {b}: it is checked out in the main checkout; switch away and run `git branch -D {b}`"
        ));
    }
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success", "mission_slug": mission.slug, "removed_dir": mission.dir,
            "removed_worktrees": removed_worktrees, "removed_branches": removed_branches,
            "kept_branches": kept_branches,
            "discarded": if args.force { problems } else { Vec::new() },
        }));
    } else {
        ctx.say(format!("deleted {}", mission.slug));
        for w in &removed_worktrees {
            ctx.say(format!("  removed worktree {}", ctx.rel(w)));
        }
        for b in &removed_branches {
            ctx.say(format!("  deleted branch {b}"));
        }
    }
    Ok(())
}

/// Delete a local branch unless it is checked out in the main checkout; true
/// when it was deleted.
pub fn delete_branch(repo: &git2::Repository, branch: &str) -> Result<bool> {
    match repo.find_branch(branch, git2::BranchType::Local) {
        Ok(mut br) if !br.is_head() => {
            br.delete()?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Remove one lane's worktree (and its registration), then its branch. Returns
/// what was actually removed.
pub fn remove_lane_workspace(
    project: &crate::project::Project,
    repo: &git2::Repository,
    worktree_name: &str,
    worktree: &std::path::Path,
    branch: &str,
) -> Result<(Option<std::path::PathBuf>, Option<String>)> {
    let existed = worktree.exists();
    workspace::remove_worktree(project, worktree_name, worktree)?;
    let deleted = delete_branch(repo, branch)?;
    Ok((
        existed.then(|| worktree.to_path_buf()),
        deleted.then(|| branch.to_string()),
    ))
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
