//! `spec-kitty agent mission delete`.

use clap::Args;

use serde_json::json;

use crate::cli::Ctx;
use crate::error::{Error, IoContext, Result};
use crate::lanes::{LanesManifest, PLANNING_LANE};
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
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &DeleteArgs) -> Result<()> {
    let selector = args.target.as_deref().or(args.mission.as_deref());
    let (project, mission) = ctx.mission(selector)?;
    let lanes = LanesManifest::read(&mission.lanes_file())?;
    let target = mission.target_branch().unwrap_or("main").to_string();
    let repo = if project.is_git() {
        Some(git2::Repository::open(&project.root)?)
    } else {
        None
    };
    let mut worktrees = Vec::new();
    let mut branches = Vec::new();
    let mut problems = Vec::new();
    if let (Some(lanes), Some(repo)) = (&lanes, &repo) {
        for lane in lanes.lanes.iter().filter(|l| l.lane_id != PLANNING_LANE) {
            let path = lanes.worktree_path(&project.root, &lane.lane_id);
            let branch = lanes.lane_branch(&lane.lane_id);
            if path.exists() && workspace::is_dirty(&path).unwrap_or(true) {
                problems.push(format!("{} has uncommitted changes", path.display()));
            }
            let ahead = workspace::unmerged_commits(repo, &branch, &target)?;
            if ahead > 0 {
                problems.push(format!(
                    "{branch} has {ahead} commit(s) not merged into {target}"
                ));
            }
            worktrees.push((format!("{}-{}", mission.slug, lane.lane_id), path));
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
        if path.exists() {
            removed_worktrees.push(path.clone());
        }
        workspace::remove_worktree(project, name, path)?;
    }
    let mut removed_branches = Vec::new();
    if let Some(repo) = &repo {
        for b in &branches {
            if delete_branch(repo, b)? {
                removed_branches.push(b.clone());
            }
        }
    }
    std::fs::remove_dir_all(&mission.dir).with_path("remove", &mission.dir)?;
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success", "mission_slug": mission.slug, "removed_dir": mission.dir,
            "removed_worktrees": removed_worktrees, "removed_branches": removed_branches,
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
