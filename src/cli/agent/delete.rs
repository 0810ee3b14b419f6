//! `spec-kitty agent mission delete`: argument parsing and output; the deletion
//! itself (confined to the project's own areas) is [`crate::ops::delete`].

use clap::Args;

use serde_json::json;

use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(value_name = "MISSION", required_unless_present = "mission")]
    pub target: Option<String>,
    /// Same as the positional MISSION
    #[arg(long, alias = "feature", conflicts_with = "target")]
    pub mission: Option<String>,
    /// Delete even if a lane branch has commits that are not merged
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Ctx, args: &DeleteArgs) -> Result<()> {
    let selector = args.target.as_deref().or(args.mission.as_deref());
    let (project, mission) = ctx.mission(selector)?;
    ctx.render(&Gone {
        mission_slug: &mission.slug,
        done: crate::ops::delete::delete(project, &mission, args.force)?,
    })
}

/// A deleted mission, as the CLI shows it.
struct Gone<'a> {
    mission_slug: &'a str,
    done: crate::ops::delete::Deleted,
}

impl Render for Gone<'_> {
    fn warnings(&self) -> Vec<String> {
        let kept = self.done.kept_branches.iter().map(|b| format!(
            "kept branch {b}: it is checked out in the main checkout; switch away and run `git branch -D {b}`"
        ));
        self.done.warnings.iter().cloned().chain(kept).collect()
    }

    fn json(&self) -> serde_json::Value {
        let done = &self.done;
        json!({
            "result": "success", "mission_slug": self.mission_slug, "removed_dir": done.removed_dir,
            "removed_worktrees": done.removed_worktrees, "removed_branches": done.removed_branches,
            "kept_branches": done.kept_branches, "discarded": done.discarded,
        })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!("deleted {}", self.mission_slug));
        for w in &self.done.removed_worktrees {
            ctx.say(format!("  removed worktree {}", ctx.rel(w)));
        }
        for b in &self.done.removed_branches {
            ctx.say(format!("  deleted branch {b}"));
        }
    }
}
