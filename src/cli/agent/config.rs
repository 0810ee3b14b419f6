//! `spec-kitty agent config list|add|remove|status|sync|set`: parse, call
//! [`crate::ops::agent_config`], render.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::output::esc;
use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::agent_config as op;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ConfigCommand {
    /// List the configured agents, the auto-commit setting and the agents not configured
    List {},
    /// Add agents: record them in .kittify/config.yaml and write their slash commands
    Add(AddArgs),
    /// Remove agents: their spec-kitty slash commands and their config entry
    Remove(RemoveArgs),
    /// Show every agent: configured, folder present, and OK / Missing / Orphaned / Not used
    Status {},
    /// Bring the agent folders in line with .kittify/config.yaml
    Sync(SyncArgs),
    /// Set a project-level agent setting (auto_commit true|false)
    Set(SetArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Agent keys to add (e.g. claude codex)
    #[arg(required = true)]
    pub agents: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Agent keys to remove
    #[arg(required = true)]
    pub agents: Vec<String>,
    /// Keep the agents in .kittify/config.yaml; remove only their command files
    #[arg(long)]
    pub keep_config: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Write the slash commands of configured agents whose folder is missing
    #[arg(long)]
    pub create_missing: bool,
    /// Remove spec-kitty's command files of agents not configured (the default)
    #[arg(long, overrides_with = "keep_orphaned")]
    pub remove_orphaned: bool,
    /// Leave the command files of agents not configured alone
    #[arg(long, overrides_with = "remove_orphaned")]
    pub keep_orphaned: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Configuration key (auto_commit)
    pub key: String,
    /// Value (true, false)
    pub value: String,
}

pub fn run(ctx: &Ctx, cmd: ConfigCommand) -> Result<()> {
    let project = ctx.project()?;
    match cmd {
        ConfigCommand::List {} => {
            let set = op::list(project)?;
            if ctx.json {
                ctx.json_out(&set);
                return Ok(());
            }
            if set.configured.is_empty() && set.unknown.is_empty() {
                ctx.say("No agents configured.");
                ctx.say("");
                ctx.say(
                    "Run 'spec-kitty init' or use 'spec-kitty agent config add' to add agents.",
                );
                return Ok(());
            }
            ctx.say("Configured agents:");
            for a in &set.configured {
                let mark = if a.exists { "✓" } else { "⚠" };
                ctx.say(format!("  {mark} {} ({}/)", a.key, a.directory));
            }
            for k in &set.unknown {
                ctx.say(format!("  ✗ {} (unknown agent)", esc(k)));
            }
            ctx.say("");
            if set.auto_commit {
                ctx.say("Auto-commit: enabled");
            } else {
                ctx.say("Auto-commit: disabled");
                ctx.say("  spec-kitty changes mission files but commits nothing unless asked.");
                ctx.say("  Override per command with --auto-commit.");
            }
            if !set.not_configured.is_empty() {
                ctx.say("");
                ctx.say("Available but not configured:");
                for a in &set.not_configured {
                    ctx.say(format!("  - {}", a.key));
                }
            }
        }
        ConfigCommand::Status {} => {
            let set = op::list(project)?;
            if ctx.json {
                ctx.json_out(&json!({
                    "agents": set.all_sorted(),
                    "unknown_configured": set.unknown,
                    "orphaned": set.orphaned().iter().map(|a| &a.key).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            ctx.say(format!(
                "{:<12} {:<20} {:<10} {:<6} Status",
                "Agent Key", "Directory", "Configured", "Exists"
            ));
            for a in set.all_sorted() {
                let status = match a.status {
                    "ok" => "OK",
                    "missing" => "Missing",
                    "orphaned" => "Orphaned",
                    _ => "Not used",
                };
                ctx.say(format!(
                    "{:<12} {:<20} {:<10} {:<6} {status}",
                    a.key,
                    a.directory,
                    if a.configured { "✓" } else { "✗" },
                    if a.exists { "✓" } else { "✗" },
                ));
            }
            for k in &set.unknown {
                ctx.say(format!("{:<12} (unknown agent in config.yaml)", esc(k)));
            }
            let orphaned = set.orphaned();
            if !orphaned.is_empty() {
                ctx.say("");
                ctx.say(format!(
                    "⚠ {} orphaned agent folder(s) hold spec-kitty commands (present but not configured)",
                    orphaned.len()
                ));
                ctx.say("Run 'spec-kitty agent config sync --remove-orphaned' to clean up");
            }
        }
        ConfigCommand::Add(a) => {
            let out = op::add(project, &a.agents)?;
            if ctx.json {
                ctx.json_out(&out);
                return Ok(());
            }
            for key in &out.added {
                if let Some(agent) = crate::init::agents::find(key) {
                    ctx.say(format!("✓ Added {}/", agent.command_dir));
                }
            }
            if !out.added.is_empty() {
                ctx.say("");
                ctx.say(format!(
                    "Updated config.yaml: added {} ({} command files written)",
                    out.added.join(", "),
                    out.files_written.len()
                ));
            }
            for f in &out.files_skipped {
                ctx.say(format!(
                    "• kept {} (not written by spec-kitty, or edited)",
                    esc(f)
                ));
            }
            if !out.already_configured.is_empty() {
                ctx.say("");
                ctx.say(format!(
                    "Already configured: {}",
                    out.already_configured.join(", ")
                ));
            }
        }
        ConfigCommand::Remove(a) => {
            let out = op::remove(project, &a.agents, a.keep_config)?;
            if ctx.json {
                ctx.json_out(&out);
                return Ok(());
            }
            for key in &out.removed {
                let dir = crate::init::agents::find(key).map_or("", |a| a.command_dir);
                let n = out
                    .files_removed
                    .iter()
                    .filter(|f| f.starts_with(&format!("{dir}/")))
                    .count();
                if n > 0 {
                    ctx.say(format!(
                        "✓ Removed {n} spec-kitty command files from {dir}/"
                    ));
                } else {
                    ctx.say(format!("• {dir}/ has no spec-kitty command files"));
                }
            }
            for f in &out.files_kept_user_modified {
                ctx.say(format!(
                    "• kept {} (edited since spec-kitty wrote it)",
                    esc(f)
                ));
            }
            if !out.unconfigured.is_empty() {
                ctx.say("");
                ctx.say(format!(
                    "Updated config.yaml: removed {}",
                    out.unconfigured.join(", ")
                ));
            }
        }
        ConfigCommand::Sync(a) => {
            let remove_orphaned = !a.keep_orphaned;
            let out = op::sync(project, a.create_missing, remove_orphaned)?;
            if ctx.json {
                ctx.json_out(&out);
                return Ok(());
            }
            if remove_orphaned {
                ctx.say("Checking for orphaned agent folders...");
                for key in &out.orphans_removed {
                    let dir = crate::init::agents::find(key).map_or("", |a| a.command_dir);
                    ctx.say(format!(
                        "  ✓ Removed spec-kitty commands of {key} from {dir}/"
                    ));
                }
                for f in &out.files_kept_user_modified {
                    ctx.say(format!(
                        "  • kept {} (edited, or not written by spec-kitty)",
                        esc(f)
                    ));
                }
            }
            if a.create_missing {
                ctx.say("Checking for missing agent folders...");
                for key in &out.created {
                    let dir = crate::init::agents::find(key).map_or("", |a| a.command_dir);
                    ctx.say(format!("  ✓ Created {dir}/"));
                }
            }
            for k in &out.unknown_configured {
                ctx.say(format!("  ⚠ Unknown agent: {}", esc(k)));
            }
            if out.changed() {
                ctx.say("");
                ctx.say("✓ Sync complete");
            } else {
                ctx.say("No changes needed - the agent folders match config.yaml");
            }
        }
        ConfigCommand::Set(a) => {
            let on = op::set(project, &a.key, &a.value)?;
            if ctx.json {
                ctx.json_out(&json!({ "key": a.key, "value": on }));
                return Ok(());
            }
            ctx.say(format!(
                "✓ auto_commit set to {}",
                if on { "enabled" } else { "disabled" }
            ));
            if !on {
                ctx.say("spec-kitty changes mission files but commits nothing unless asked.");
                ctx.say(
                    "Per-command flags (--auto-commit/--no-auto-commit) override this setting.",
                );
            }
        }
    }
    Ok(())
}
