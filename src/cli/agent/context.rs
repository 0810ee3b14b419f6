//! `spec-kitty agent context resolve --action A --mission M`: the mission, branch
//! and work package an action concerns, and the exact commands to run.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::output::Render;
use crate::cli::{compat, Ctx};
use crate::error::Result;
use crate::ops::context;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ContextCommand {
    /// Where the agent is for an action and which commands it runs next
    Resolve(ResolveArgs),
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// specify, plan, tasks, tasks_outline, tasks_packages, implement, review, accept, merge
    #[arg(long)]
    pub action: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Work package to resolve (WP01); default: the first one ready for the action
    #[arg(long, value_name = "WP")]
    pub wp_id: Option<String>,
    /// Agent name, written into the commands in place of <agent>
    #[arg(long)]
    pub agent: Option<String>,
}

pub fn run(ctx: &Ctx, cmd: ContextCommand) -> Result<()> {
    let ContextCommand::Resolve(a) = cmd;
    let (project, m) = ctx.mission(a.mission.as_deref())?;
    let c = context::resolve(
        project,
        &m,
        &a.action,
        a.wp_id.as_deref(),
        a.agent.as_deref(),
    )?;
    ctx.render(&Resolved {
        c: &c,
        explicit: a.mission.is_some(),
    })
}

/// An action's context, as the CLI shows it.
struct Resolved<'a> {
    c: &'a context::ActionContext,
    /// Was the mission named (`--mission`) rather than inferred?
    explicit: bool,
}

impl Render for Resolved<'_> {
    fn human(&self, ctx: &Ctx) {
        let c = self.c;
        ctx.say(format!("{} for {}", c.action, ctx.bold(&c.mission_slug)));
        ctx.say(format!("  feature dir:   {}", ctx.rel(&c.feature_dir)));
        ctx.say(format!("  target branch: {}", c.branch.target_branch));
        if let Some(w) = &c.wp {
            ctx.say(format!("  work package:  {} ({})", w.wp_id, w.lane));
        }
        for (name, cmd) in &c.commands {
            ctx.say(format!("  {name}: {cmd}"));
        }
    }

    fn json(&self) -> serde_json::Value {
        let c = self.c;
        let w = c.wp.as_ref();
        let mut out = json!({
            "result": "success",
            "success": true,
            "action": c.action,
            "mission_slug": c.mission_slug,
            "feature_dir": c.feature_dir,
            "detection_method": if self.explicit { "explicit" } else { "inferred" },
            "wp_id": w.map(|w| &w.wp_id),
            "wp_file": w.map(|w| &w.wp_file),
            "lane": w.map(|w| &w.lane),
            "lane_id": w.and_then(|w| w.lane_id.as_ref()),
            "branch_name": w.and_then(|w| w.branch_name.as_ref()),
            "execution_mode": w.map(|w| &w.execution_mode),
            "dependencies": w.map(|w| w.dependencies.clone()).unwrap_or_default(),
            "workspace_path": w.and_then(|w| w.workspace_path.as_ref()),
            "commands": c.commands,
            "warnings": [],
            "spec_kitty_version": crate::VERSION,
        });
        compat::extend(&mut out, compat::branch_keys(&c.branch));
        out
    }
}
