//! Legacy top-level `spec-kitty implement`.

use clap::Args;
use serde_json::{json, Value};

use super::output::Render;
use super::Ctx;
use crate::error::Result;
use crate::ops::implement::Prepared;
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
    /// Work package id (for example WP01); with --recover, only that one
    #[arg(required_unless_present = "recover")]
    pub wp_id: Option<String>,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    #[command(flatten)]
    pub commit: crate::cli::state::AutoCommitFlag,
    /// Bring back the lane workspaces a crashed implement left missing or half
    /// made, and move a claimed WP whose lane holds commits to in_progress
    #[arg(long, conflicts_with = "base")]
    pub recover: bool,
    /// Start a new lane from this base instead of the target branch: a work
    /// package (its lane branch) or any git revision, e.g. --base WP01, --base main
    #[arg(long, value_name = "WP_OR_REF")]
    pub base: Option<String>,
}

pub fn run(ctx: &Ctx, args: &ImplementArgs) -> Result<()> {
    let (project, mission) = ctx.mission(args.mission.as_deref())?;
    if args.recover {
        let r = crate::ops::implement::recover(project, &mission, args.wp_id.as_deref())?;
        return ctx.render(&RecoveryView(&r));
    }
    let wp_id = args.wp_id.as_deref().unwrap_or_default();
    ctx.render(&PreparedView {
        prepared: crate::ops::implement::prepare(project, &mission, wp_id, args.base.as_deref())?,
        mission_slug: mission.slug,
    })
}

/// The workspace `implement` prepared, in its mission.
struct PreparedView {
    mission_slug: String,
    prepared: Prepared,
}

impl Render for PreparedView {
    fn json(&self) -> Value {
        let ws = &self.prepared.workspace;
        json!({
            "result": "success",
            "mission_slug": self.mission_slug,
            "base": self.prepared.base,
            "wp_id": self.prepared.wp_id,
            "workspace": ws.path,
            "workspace_kind": ws.kind,
            "lane_id": ws.lane_id,
            "branch": ws.branch,
            "base_branch": ws.base_branch,
            "target_branch": ws.target_branch,
            "created": ws.created,
            "merged_in": ws.merged_in,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let (ws, wp_id) = (&self.prepared.workspace, &self.prepared.wp_id);
        ctx.say(format!("{wp_id} workspace: {}", ws.path.display()));
        match &ws.branch {
            Some(b) => ctx.say(format!(
                "  lane {} on branch {b} (started from {})",
                ws.lane_id, ws.base_branch
            )),
            None => ctx.say("  planning work runs in the main checkout (no worktree)"),
        }
        if let Some(b) = &self.prepared.base {
            if b.applied {
                ctx.say(format!(
                    "  started from --base {} ({})",
                    b.given,
                    crate::git::short(&b.commit)
                ));
            } else {
                ctx.say(format!(
                    "  the lane already existed and holds --base {} ({})",
                    b.given,
                    crate::git::short(&b.commit)
                ));
            }
        }
        for line in merged_in_lines(ws) {
            ctx.say(line);
        }
        ctx.say(format!(
            "  to claim it and get its prompt: spec-kitty agent action implement {wp_id} --mission {} --agent <agent>",
            self.mission_slug
        ));
    }
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
                crate::git::short(&m.commit),
                if m.how == "branch_start" {
                    "the lane branch starts there".to_string()
                } else if m.how == "fast_forward" {
                    "fast-forward".to_string()
                } else {
                    format!("merge commit {}", crate::git::short(&m.lane_commit))
                }
            )
        })
        .collect()
}

/// What `implement --recover` did, as the CLI shows it.
struct RecoveryView<'a>(&'a crate::ops::implement::Recovery);

impl Render for RecoveryView<'_> {
    fn human(&self, ctx: &Ctx) {
        let r = self.0;
        ctx.say(&r.message);
        if !r.recovered_wps.is_empty() {
            ctx.say(format!(
                "  work packages recovered: {}",
                r.recovered_wps.join(", ")
            ));
        }
        ctx.say(format!("  worktrees recreated: {}", r.worktrees_recreated));
        ctx.say(format!(
            "  status transitions recorded: {}",
            r.transitions_emitted
        ));
        for e in &r.errors {
            ctx.say(format!("  error: {e}"));
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self.0).unwrap_or_default()
    }

    fn verdict(&self) -> Result<()> {
        if self.0.errors.is_empty() {
            return Ok(());
        }
        Err(crate::error::Error::user(format!(
            "{} work package(s) could not be recovered",
            self.0.errors.len()
        ))
        .with_hint("fix what the errors name and run implement --recover again"))
    }
}
