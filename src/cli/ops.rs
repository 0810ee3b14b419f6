//! `spec-kitty ops log|undo`: the operation history (git's reflog) and the
//! undo of spec-kitty's own last commit (see `crate::ops::ops_history`).

use clap::Subcommand;

use serde_json::Value;

use super::output::{style, Render};
use super::Ctx;
use crate::error::Result;
use crate::ops::ops_history;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum OpsCommand {
    /// Show the operation history (git reflog of HEAD); entries spec-kitty made are marked
    Log {
        /// How many operations to show
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        /// Also list the full commit ids of the first five
        #[arg(long, short = 'v')]
        verbose: bool,
    },
    /// Take back spec-kitty's last commit on this branch (kept as uncommitted changes); refuses anything else
    Undo {},
}

pub fn run(ctx: &Ctx, cmd: OpsCommand) -> Result<()> {
    match cmd {
        OpsCommand::Log { limit, verbose } => ctx.render(&Log {
            history: ops_history::log(&ctx.cwd, limit)?,
            verbose,
        }),
        OpsCommand::Undo {} => ctx.render(&ops_history::undo(&ctx.cwd)?),
    }
}

/// `ops log`: the history, and whether to list full ids.
struct Log {
    history: ops_history::History,
    verbose: bool,
}

impl Render for Log {
    fn json(&self) -> Value {
        serde_json::to_value(&self.history).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let h = &self.history;
        ctx.say("");
        ctx.say(format!("{} git", ctx.paint("Backend:", style::HINT)));
        ctx.say("");
        if h.operations.is_empty() {
            ctx.say("No operations found");
            ctx.say("");
            return;
        }
        ctx.say(ctx.bold("Operation History (git reflog)"));
        ctx.say(format!(
            "  {:<10} {:<12} {:<16} Description",
            "ID", "Commit", "Time"
        ));
        for o in &h.operations {
            let desc: String = if o.description.chars().count() > 60 {
                format!("{}...", o.description.chars().take(60).collect::<String>())
            } else {
                o.description.clone()
            };
            let mark = if o.by_spec_kitty { "*" } else { " " };
            ctx.say(format!(
                "{mark} {:<10} {:<12} {:<16} {desc}",
                o.id,
                ops_history::short(&o.commit),
                o.time
            ));
        }
        ctx.say("* made by spec-kitty");
        if self.verbose {
            ctx.say("");
            ctx.say("Full operation IDs:");
            for o in h.operations.iter().take(5) {
                ctx.say(format!("  {} {}", o.id, o.commit));
            }
        }
        ctx.say("");
    }
}

impl Render for ops_history::Undone {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let u = self;
        ctx.say(format!(
            "{} Undid {} on {}: {}",
            ctx.paint("✓", style::GOOD),
            ops_history::short(&u.undone_commit),
            u.branch,
            u.description
        ));
        ctx.say(format!(
            "{} now points at {}; the {} file(s) it recorded are uncommitted changes again:",
            u.branch,
            ops_history::short(&u.restored_commit),
            u.files.len()
        ));
        for f in &u.files {
            ctx.say(format!("  {}", crate::shell::one_line(f)));
        }
        ctx.say(format!(
            "The commit stays reachable: `git reset {}` brings it back.",
            ops_history::short(&u.undone_commit)
        ));
    }
}
