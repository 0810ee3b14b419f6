//! `spec-kitty agent config list|add|remove|status|sync|set`: parse, call
//! [`crate::ops::agent_config`], render.

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::cli::output::{esc, Render};
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
        ConfigCommand::List {} => ctx.render(&List(op::list(project)?)),
        ConfigCommand::Status {} => ctx.render(&Status(op::list(project)?)),
        ConfigCommand::Add(a) => ctx.render(&op::add(project, &a.agents)?),
        ConfigCommand::Remove(a) => ctx.render(&op::remove(project, &a.agents, a.keep_config)?),
        ConfigCommand::Sync(a) => {
            let remove_orphaned = !a.keep_orphaned;
            ctx.render(&Sync {
                outcome: op::sync(project, a.create_missing, remove_orphaned)?,
                create_missing: a.create_missing,
                remove_orphaned,
            })
        }
        ConfigCommand::Set(a) => ctx.render(&Set {
            key: a.key.clone(),
            on: op::set(project, &a.key, &a.value)?,
        }),
    }
}

fn command_dir(key: &str) -> &'static str {
    crate::init::agents::find(key).map_or("", |a| a.command_dir)
}

struct List(op::AgentSet);

impl Render for List {
    fn human(&self, ctx: &Ctx) {
        let set = &self.0;
        if set.configured.is_empty() && set.unknown.is_empty() {
            ctx.say("No agents configured.");
            ctx.say("");
            ctx.say("Run 'spec-kitty init' or use 'spec-kitty agent config add' to add agents.");
            return;
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

    fn json(&self) -> Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }
}

struct Status(op::AgentSet);

impl Render for Status {
    fn human(&self, ctx: &Ctx) {
        let set = &self.0;
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

    fn json(&self) -> Value {
        let set = &self.0;
        json!({
            "agents": set.all_sorted(),
            "unknown_configured": set.unknown,
            "orphaned": set.orphaned().iter().map(|a| &a.key).collect::<Vec<_>>(),
        })
    }
}

impl Render for op::Added {
    fn human(&self, ctx: &Ctx) {
        for key in &self.added {
            ctx.say(format!("✓ Added {}/", command_dir(key)));
        }
        if !self.added.is_empty() {
            ctx.say("");
            ctx.say(format!(
                "Updated config.yaml: added {} ({} command files written)",
                self.added.join(", "),
                self.files_written.len()
            ));
        }
        for f in &self.files_skipped {
            ctx.say(format!(
                "• kept {} (not written by spec-kitty, or edited)",
                esc(f)
            ));
        }
        if !self.already_configured.is_empty() {
            ctx.say("");
            ctx.say(format!(
                "Already configured: {}",
                self.already_configured.join(", ")
            ));
        }
    }

    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Render for op::Removed {
    fn human(&self, ctx: &Ctx) {
        for key in &self.removed {
            let dir = command_dir(key);
            let n = self
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
        for f in &self.files_kept_user_modified {
            ctx.say(format!(
                "• kept {} (edited since spec-kitty wrote it)",
                esc(f)
            ));
        }
        if !self.unconfigured.is_empty() {
            ctx.say("");
            ctx.say(format!(
                "Updated config.yaml: removed {}",
                self.unconfigured.join(", ")
            ));
        }
    }

    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

struct Sync {
    outcome: op::Synced,
    create_missing: bool,
    remove_orphaned: bool,
}

impl Render for Sync {
    fn human(&self, ctx: &Ctx) {
        let out = &self.outcome;
        if self.remove_orphaned {
            ctx.say("Checking for orphaned agent folders...");
            for key in &out.orphans_removed {
                ctx.say(format!(
                    "  ✓ Removed spec-kitty commands of {key} from {}/",
                    command_dir(key)
                ));
            }
            for f in &out.files_kept_user_modified {
                ctx.say(format!(
                    "  • kept {} (edited, or not written by spec-kitty)",
                    esc(f)
                ));
            }
        }
        if self.create_missing {
            ctx.say("Checking for missing agent folders...");
            for key in &out.created {
                ctx.say(format!("  ✓ Created {}/", command_dir(key)));
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

    fn json(&self) -> Value {
        serde_json::to_value(&self.outcome).unwrap_or_default()
    }
}

struct Set {
    key: String,
    on: bool,
}

impl Render for Set {
    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "✓ auto_commit set to {}",
            if self.on { "enabled" } else { "disabled" }
        ));
        if !self.on {
            ctx.say("spec-kitty changes mission files but commits nothing unless asked.");
            ctx.say("Per-command flags (--auto-commit/--no-auto-commit) override this setting.");
        }
    }

    fn json(&self) -> Value {
        json!({ "key": self.key, "value": self.on })
    }
}
