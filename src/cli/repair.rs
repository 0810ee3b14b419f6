//! `repair repair` (broken slash-command files) and `repair worktree`
//! (what lane worktrees carry of `kitty-specs/`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::repair;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum RepairCommand {
    /// Regenerate slash-command files broken by the 0.10.0-0.10.8 bundling bug (they call scripts/bash/*.sh)
    Repair(RepairArgs),
    /// Say which lane worktrees carry kitty-specs/ copies (informational; changes nothing)
    Worktree(WorktreeArgs),
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The project to repair [default: the current directory's project]
    #[arg(long, short = 'p')]
    pub project_path: Option<PathBuf>,
    /// Show what would be regenerated; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct WorktreeArgs {
    /// Check every worktree in .worktrees/
    #[arg(long)]
    pub all: bool,
    /// The worktree to check [default: the one the current directory is in]
    pub worktree_path: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, cmd: RepairCommand) -> Result<()> {
    match cmd {
        RepairCommand::Repair(a) => run_repair(ctx, &a),
        RepairCommand::Worktree(a) => run_worktree(ctx, &a),
    }
}

fn run_repair(ctx: &Ctx, a: &RepairArgs) -> Result<()> {
    let root = repair::project_root(&ctx.cwd, a.project_path.as_deref())?;
    ctx.render(&repair::templates(&root, a.dry_run)?)
}

fn run_worktree(ctx: &Ctx, a: &WorktreeArgs) -> Result<()> {
    let project = ctx.project()?;
    ctx.render(&repair::worktree_report(
        project,
        &ctx.cwd,
        a.all,
        a.worktree_path.as_deref(),
    )?)
}

impl Render for repair::TemplateRepair {
    fn json(&self) -> Value {
        let r = self;
        json!({
            "project_path": r.project_path, "dry_run": r.dry_run,
            "needs_repair": !r.broken.is_empty(),
            "broken": r.broken, "repaired": r.repaired, "warnings": r.warnings,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let r = self;
        ctx.say("Spec Kitty Template Repair");
        for w in &r.warnings {
            ctx.warn(w);
        }
        if r.broken.is_empty() {
            ctx.say("✓ No broken templates detected - project is healthy!");
            return;
        }
        ctx.say(format!(
            "⚠ {} slash-command file(s) call scripts that no longer exist:",
            r.broken.len()
        ));
        for b in &r.broken {
            ctx.say(format!("  • {b}"));
        }
        if r.dry_run {
            ctx.say("Dry run: nothing written. Run it without --dry-run to regenerate them.");
        } else {
            ctx.say(format!("✓ Regenerated {} file(s).", r.repaired.len()));
        }
    }
}

impl Render for repair::WorktreeReport {
    fn json(&self) -> Value {
        json!({ "worktrees": self.worktrees.as_deref().unwrap_or_default(), "in_worktree": self.in_worktree })
    }

    fn human(&self, ctx: &Ctx) {
        let Some(states) = &self.worktrees else {
            ctx.say("Not in a worktree. Use --all to check all worktrees.");
            return;
        };
        ctx.say("Spec Kitty Worktree Diagnostics");
        if states.is_empty() {
            ctx.say("No worktrees found in .worktrees/");
            return;
        }
        ctx.say(format!("Found {} worktree(s) to check", states.len()));
        for s in states {
            ctx.say(&s.name);
            if !s.has_kitty_specs {
                ctx.say("  No kitty-specs/ directory");
            } else if s.stale_task_files > 0 {
                ctx.say(format!(
                    "  kitty-specs/: present; tasks/*.md: {} stale cop(ies)",
                    s.stale_task_files
                ));
            } else {
                ctx.say("  kitty-specs/: present; tasks/*.md: none");
            }
        }
        ctx.say("How WP operations work:");
        ctx.say("  • move-task always updates the main checkout's kitty-specs/");
        ctx.say("  • research artifacts can be added to a worktree's kitty-specs/");
        ctx.say("  • stale WP files in worktrees are ignored by lane operations");
        ctx.say("No repair needed - this is informational only.");
    }
}
