//! `spec-kitty agent mission delete`: argument parsing and output; the deletion
//! itself (confined to the project's own areas) is [`crate::ops::delete`].

use clap::Args;

use serde_json::json;

use crate::cli::Ctx;
use crate::error::Result;

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

pub fn run(ctx: &Ctx, args: &DeleteArgs) -> Result<()> {
    let selector = args.target.as_deref().or(args.mission.as_deref());
    let (project, mission) = ctx.mission(selector)?;
    let done = crate::ops::delete::delete(project, &mission, args.force)?;
    for w in &done.warnings {
        ctx.warn(w);
    }
    for b in &done.kept_branches {
        ctx.warn(format!(
            "kept branch {b}: it is checked out in the main checkout; switch away and run `git branch -D {b}`"
        ));
    }
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success", "mission_slug": mission.slug, "removed_dir": done.removed_dir,
            "removed_worktrees": done.removed_worktrees, "removed_branches": done.removed_branches,
            "kept_branches": done.kept_branches, "discarded": done.discarded,
        }));
    } else {
        ctx.say(format!("deleted {}", mission.slug));
        for w in &done.removed_worktrees {
            ctx.say(format!("  removed worktree {}", ctx.rel(w)));
        }
        for b in &done.removed_branches {
            ctx.say(format!("  deleted branch {b}"));
        }
    }
    Ok(())
}
