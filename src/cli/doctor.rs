//! `spec-kitty doctor command-files|state-roots`: render [`crate::ops::doctor`].

use clap::Subcommand;
use serde_json::Value;

use super::output::{esc, style, Render};
use super::Ctx;
use crate::error::{Error, Result};
use crate::ops::doctor::{self, CommandFileIssue, StateRootsReport};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum DoctorCommand {
    /// Check every configured agent's slash-command files: present, current marker, as generated (exit 1 on issues)
    CommandFiles {},
    /// Show where spec-kitty keeps state, what is present, and runtime files git would not ignore (exit 1 on warnings)
    StateRoots {},
}

pub fn run(ctx: &Ctx, cmd: DoctorCommand) -> Result<()> {
    let project = ctx.project()?;
    match cmd {
        DoctorCommand::CommandFiles {} => {
            ctx.render(&CommandFiles(doctor::command_files(project)?))
        }
        DoctorCommand::StateRoots {} => ctx.render(&doctor::state_roots(project)?),
    }
}

/// The issues of `doctor command-files` (the reference prints the bare list).
struct CommandFiles(Vec<CommandFileIssue>);

impl Render for CommandFiles {
    fn human(&self, ctx: &Ctx) {
        let issues = &self.0;
        if issues.is_empty() {
            ctx.say(format!(
                "Command Files: {}",
                ctx.paint("all files healthy", style::GOOD)
            ));
            return;
        }
        ctx.say(ctx.bold(&format!("Command Files — {} issue(s) found", issues.len())));
        ctx.say("");
        for i in issues {
            ctx.say(format!(
                "  {:<10} {:<16} {:<8} {}",
                i.agent,
                i.command,
                i.severity,
                esc(&i.file)
            ));
            ctx.say(format!("      {}", i.issue));
        }
    }

    fn json(&self) -> Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn verdict(&self) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(
            Error::user(format!("{} command file issue(s) found", self.0.len()))
                .with_hint("run `spec-kitty upgrade` to rewrite the files spec-kitty generated"),
        )
    }
}

impl Render for StateRootsReport {
    fn human(&self, ctx: &Ctx) {
        ctx.say(ctx.bold("State Roots"));
        for root in &self.roots {
            ctx.say(format!(
                "  {:<20} {}  {}",
                root.name,
                esc(&root.resolved_path.to_string_lossy()),
                if root.exists { "exists" } else { "absent" }
            ));
        }
        for (key, label) in [
            ("project", "Project Surfaces (.kittify/, .worktrees/)"),
            ("feature", "Mission Surfaces (kitty-specs/)"),
            ("global_sync", "Global Sync (~/.spec-kitty/)"),
        ] {
            ctx.say("");
            ctx.say(ctx.bold(label));
            ctx.say(format!(
                "  {:<28} {:<16} {:<14} Present",
                "Name", "Authority", "Git Policy"
            ));
            for sf in self.surfaces.iter().filter(|s| s.root == key) {
                ctx.say(format!(
                    "  {:<28} {:<16} {:<14} {}",
                    sf.name,
                    sf.authority,
                    sf.git_class,
                    if sf.present { "Y" } else { "N" }
                ));
            }
        }
        ctx.say("");
        if self.warnings.is_empty() {
            ctx.say(ctx.paint(
                "No warnings -- all runtime surfaces are properly covered.",
                style::GOOD,
            ));
        } else {
            ctx.say(ctx.bold("Warnings"));
            for w in &self.warnings {
                ctx.say(format!("  ! {w}"));
            }
        }
    }

    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn verdict(&self) -> Result<()> {
        if self.healthy {
            return Ok(());
        }
        Err(
            Error::user(format!("{} state warning(s)", self.warnings.len()))
                .with_hint("add the paths to .gitignore (`spec-kitty upgrade` adds spec-kitty's)"),
        )
    }
}
