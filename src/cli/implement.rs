//! Legacy top-level `spec-kitty implement`.

use clap::Args;
use serde_json::json;

use super::Ctx;
use crate::error::Result;
use crate::status::ops::find_wp;
use crate::workspace;

// Internal: prepare the workspace of a work package (no status change).
//
// This is internal infrastructure, the implementation detail of
// `spec-kitty agent action implement`, kept for scripts that call it directly.
// Agents and people should loop with `spec-kitty next` and take work with
// `spec-kitty agent action implement`, which also claims the work package and
// prints its prompt.
#[derive(Debug, Args)]
#[command(
    after_help = "This is internal infrastructure. Use instead:\n  spec-kitty next --agent <agent> --mission <slug>          (the loop entry)\n  spec-kitty agent action implement <WP> --agent <agent>    (take a work package)"
)]
pub struct ImplementArgs {
    /// Work package id (for example WP01)
    pub wp_id: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
}

pub fn run(ctx: &Ctx, args: &ImplementArgs) -> Result<()> {
    let (project, mission) = ctx.mission(args.mission.as_deref())?;
    let lanes = workspace::require_lanes(&mission)?;
    let wp = find_wp(&mission, &args.wp_id)?;
    let ws = workspace::ensure(project, &mission, &lanes, &wp)?;
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success",
            "mission_slug": mission.slug,
            "wp_id": wp.id,
            "workspace": ws.path,
            "workspace_kind": ws.kind,
            "lane_id": ws.lane_id,
            "branch": ws.branch,
            "base_branch": ws.base_branch,
            "target_branch": ws.target_branch,
            "created": ws.created,
            "merged_in": ws.merged_in,
        }));
    } else {
        ctx.say(format!("{} workspace: {}", wp.id, ws.path.display()));
        match &ws.branch {
            Some(b) => ctx.say(format!(
                "  lane {} on branch {b} (started from {})",
                ws.lane_id, ws.base_branch
            )),
            None => ctx.say("  planning work runs in the main checkout (no worktree)"),
        }
        for line in merged_in_lines(&ws) {
            ctx.say(line);
        }
        ctx.say(format!(
            "  to claim it and get its prompt: spec-kitty agent action implement {} --mission {} --agent <agent>",
            wp.id, mission.slug
        ));
    }
    Ok(())
}

/// Human lines for the dependency work merged into a lane branch.
pub fn merged_in_lines(ws: &workspace::Workspace) -> Vec<String> {
    let Some(branch) = &ws.branch else {
        return Vec::new();
    };
    ws.merged_in
        .iter()
        .map(|m| {
            format!(
                "Merged {}'s {} work from {} ({}) into {branch}: {}",
                m.wp_id,
                if m.source == "approved" {
                    "approved"
                } else {
                    "latest"
                },
                m.lane_id,
                crate::merge::short_str(&m.commit),
                if m.how == "branch_start" {
                    "the lane branch starts there".to_string()
                } else if m.how == "fast_forward" {
                    "fast-forward".to_string()
                } else {
                    format!("merge commit {}", crate::merge::short_str(&m.lane_commit))
                }
            )
        })
        .collect()
}
