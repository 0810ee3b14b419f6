//! `spec-kitty upgrade`.

use clap::Args;
use serde_json::{json, Value};

use super::output::Render;
use super::Ctx;
use crate::error::Result;
use crate::ops::upgrade;

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Show what would change without writing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete the Python reference's slash commands from your home directory
    /// (the ones `upgrade` reports; nothing else there is touched)
    #[arg(long)]
    pub remove_global_prompts: bool,
    /// Do not ask for confirmation at a terminal
    #[arg(long)]
    pub force: bool,
    /// Target version: this binary's own (it can upgrade a project only to itself)
    #[arg(long, value_name = "VERSION")]
    pub target: Option<String>,
    /// Also list the files that are already up to date
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Leave the lane worktrees under .worktrees/ alone (by default their
    /// git-ignored slash-command files are refreshed too)
    #[arg(long)]
    pub no_worktrees: bool,
}

/// The command that removes what `stale::find` reports.
const REMOVE_COMMAND: &str = "spec-kitty upgrade --remove-global-prompts";

pub fn run(ctx: &Ctx, args: &UpgradeArgs) -> Result<()> {
    let project = ctx.project()?;
    if let Some(t) = &args.target {
        upgrade::check_target(t)?;
    }
    if !args.dry_run && !args.force && ctx.can_prompt() {
        let answer = ctx.ask(
            "Upgrade this project's metadata and slash commands? [y/N]",
            "n",
        );
        if !answer.is_some_and(|a| matches!(a.trim(), "y" | "Y" | "yes")) {
            return Err(crate::Error::user("Upgrade cancelled.")
                .with_hint("pass --force to skip the question, or --dry-run to preview"));
        }
    }
    let request = upgrade::UpgradeRequest {
        dry_run: args.dry_run,
        no_worktrees: args.no_worktrees,
        remove_global_prompts: args.remove_global_prompts,
        home: crate::env::home(),
    };
    ctx.render(&View {
        upgraded: upgrade::upgrade(project, &request)?,
        verbose: args.verbose,
    })
}

/// What `upgrade` did, and whether to list what was already up to date.
struct View {
    upgraded: upgrade::Upgraded,
    verbose: bool,
}

impl Render for View {
    fn warnings(&self) -> Vec<String> {
        self.upgraded.project.report.warnings.clone()
    }

    fn json(&self) -> Value {
        let u = &self.upgraded;
        let (up, r) = (&u.project, &u.project.report);
        let stale_rows: Vec<Value> = u
            .global_prompts
            .iter()
            .map(|f| json!({"agent": f.agent, "folder": f.folder, "count": f.files.len()}))
            .collect();
        let mut v = serde_json::to_value(r).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("result".into(), json!("success"));
            o.insert("dry_run".into(), json!(up.dry_run));
            o.insert("from_version".into(), json!(up.from_version));
            o.insert("to_version".into(), json!(up.to_version));
            o.insert("metadata_updated".into(), json!(up.metadata_updated));
            o.insert("spec_kitty_version".into(), json!(crate::VERSION));
            o.insert("global_prompts".into(), json!(stale_rows));
            o.insert("worktrees".into(), json!(u.worktrees));
            o.insert("worktrees_skipped".into(), json!(u.worktrees_skipped));
            o.insert(
                "global_prompts_removed".into(),
                json!(u.global_prompts_removed),
            );
            o.insert(
                "global_prompts_remove_command".into(),
                json!(
                    (!u.global_prompts.is_empty() && u.global_prompts_removed == 0)
                        .then_some(REMOVE_COMMAND)
                ),
            );
        }
        v
    }

    fn human(&self, ctx: &Ctx) {
        let u = &self.upgraded;
        let (up, r) = (&u.project, &u.project.report);
        let (worktrees, stale, removed) =
            (&u.worktrees, &u.global_prompts, u.global_prompts_removed);
        let from = up.from_version.as_deref().unwrap_or("unknown");
        if up.metadata_updated {
            let note = if up.dry_run {
                " (would be updated)"
            } else {
                ""
            };
            ctx.say(format!(
                "Project version: {from} -> {}{note}",
                up.to_version
            ));
        } else {
            ctx.say(format!("Project version: {} (current)", up.to_version));
        }
        let verb = if up.dry_run {
            "would be written"
        } else {
            "written"
        };
        ctx.say(format!(
            "Slash commands for {}: {} {verb}, {} up to date",
            if r.agents.is_empty() {
                "no agents".to_string()
            } else {
                r.agents.join(", ")
            },
            r.files_written.len(),
            r.files_unchanged.len()
        ));
        for f in &r.files_written {
            ctx.say(format!("  + {f}"));
        }
        for f in &r.files_removed {
            ctx.say(format!("  - {f} (no longer shipped)"));
        }
        if self.verbose {
            for f in &r.files_unchanged {
                ctx.say(format!("  = {f}"));
            }
        }
        if !r.files_skipped_user_modified.is_empty() {
            ctx.say("Left alone because you edited them:");
            for f in &r.files_skipped_user_modified {
                ctx.say(format!("  ! {f}"));
            }
        }
        if !r.gitignore_added.is_empty() {
            ctx.say(format!(
                ".gitignore: {} entries {}added",
                r.gitignore_added.len(),
                if up.dry_run { "would be " } else { "" }
            ));
        }
        for w in worktrees {
            if let Some(why) = &w.skipped {
                ctx.say(format!(
                    "Lane worktree {}: left alone: {why}",
                    ctx.rel(&w.path)
                ));
                continue;
            }
            ctx.say(format!(
                "Lane worktree {}: {} {verb}, {} up to date",
                ctx.rel(&w.path),
                w.files_written.len(),
                w.files_unchanged.len()
            ));
            if self.verbose {
                for f in &w.files_written {
                    ctx.say(format!("  + {f}"));
                }
            }
            for f in &w.files_skipped_user_modified {
                ctx.say(format!("  ! {f} (edited; left alone)"));
            }
        }
        let nothing = !up.metadata_updated
            && r.files_written.is_empty()
            && r.files_removed.is_empty()
            && r.gitignore_added.is_empty()
            && worktrees.iter().all(|w| w.files_written.is_empty());
        if nothing {
            ctx.say("Already up to date.");
        }
        if !stale.is_empty() {
            let total: usize = stale.iter().map(|f| f.files.len()).sum();
            if removed > 0 {
                ctx.say(format!("Removed {removed} slash commands the Python spec-kitty installed in your home directory:"));
            } else {
                ctx.say(format!("{total} slash commands the Python spec-kitty installed in your home directory still call it with its own flags:"));
            }
            for f in stale {
                ctx.say(format!(
                    "  {} ({}): {}",
                    f.folder.display(),
                    f.agent,
                    f.files.len()
                ));
            }
            if removed == 0 {
                ctx.say(format!("Remove them with: {REMOVE_COMMAND}"));
            }
        }
        if up.dry_run {
            ctx.say("Dry run: nothing was written.");
        }
    }
}
