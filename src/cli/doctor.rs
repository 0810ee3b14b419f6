//! `spec-kitty doctor command-files|state-roots`: render [`crate::ops::doctor`].

use clap::Subcommand;

use super::output::{esc, style};
use super::Ctx;
use crate::error::{Error, Result};
use crate::ops::doctor;

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
            let issues = doctor::command_files(project)?;
            if ctx.json {
                ctx.json_out(&issues);
            } else if issues.is_empty() {
                ctx.say(format!(
                    "Command Files: {}",
                    ctx.paint("all files healthy", style::GOOD)
                ));
            } else {
                ctx.say(ctx.bold(&format!("Command Files — {} issue(s) found", issues.len())));
                ctx.say("");
                for i in &issues {
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
            if issues.is_empty() {
                return Ok(());
            }
            Err(
                Error::user(format!("{} command file issue(s) found", issues.len())).with_hint(
                    "run `spec-kitty upgrade` to rewrite the files spec-kitty generated",
                ),
            )
        }
        DoctorCommand::StateRoots {} => {
            let r = doctor::state_roots(project)?;
            if ctx.json {
                ctx.json_out(&r);
            } else {
                ctx.say(ctx.bold("State Roots"));
                for root in &r.roots {
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
                    for sf in r.surfaces.iter().filter(|s| s.root == key) {
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
                if r.warnings.is_empty() {
                    ctx.say(ctx.paint(
                        "No warnings -- all runtime surfaces are properly covered.",
                        style::GOOD,
                    ));
                } else {
                    ctx.say(ctx.bold("Warnings"));
                    for w in &r.warnings {
                        ctx.say(format!("  ! {w}"));
                    }
                }
            }
            if r.healthy {
                return Ok(());
            }
            Err(
                Error::user(format!("{} state warning(s)", r.warnings.len())).with_hint(
                    "add the paths to .gitignore (`spec-kitty upgrade` adds spec-kitty's)",
                ),
            )
        }
    }
}
