//! `spec-kitty doctrine ...`: curation of the project's doctrine artifacts
//! (see `crate::ops::doctrine`).

use clap::Subcommand;

use serde_json::Value;

use super::output::{style, Render};
use super::Ctx;
use crate::error::{Error, Result};
use crate::ops::doctrine::{self, Verdict};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum DoctrineCommand {
    /// Interview: accept (promote), drop (delete) or skip each proposed artifact (needs a terminal)
    Curate {
        /// Only this artifact type (directives, tactics, styleguides, toolguides, paradigms, procedures, agent_profiles, mission_step_contracts)
        #[arg(long = "type", short = 't', value_name = "TYPE")]
        artifact_type: Option<String>,
        /// Resume the saved session (the default)
        #[arg(long, overrides_with = "fresh")]
        resume: bool,
        /// Start a new session, forgetting earlier verdicts
        #[arg(long, overrides_with = "resume")]
        fresh: bool,
    },
    /// Count proposed and shipped artifacts per type, and the session's progress
    Status {},
    /// Move one artifact from _proposed/ to shipped/
    Promote {
        /// The artifact's id (its `id:`, else its file name without .yaml)
        artifact_id: String,
        /// Its type (directives, tactics, ...)
        #[arg(long = "type", short = 't', value_name = "TYPE")]
        artifact_type: String,
    },
    /// Forget the curation session (artifacts stay where they are)
    Reset {
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

fn now() -> String {
    crate::timefmt::now_iso()
}

pub fn run(ctx: &Ctx, cmd: DoctrineCommand) -> Result<()> {
    let project = ctx.project()?;
    match cmd {
        DoctrineCommand::Status {} => ctx.render(&doctrine::status(project)?),
        DoctrineCommand::Promote {
            artifact_id,
            artifact_type,
        } => ctx.render(&doctrine::promote(
            project,
            &artifact_id,
            &artifact_type,
            &now(),
        )?),
        DoctrineCommand::Reset { yes } => {
            if !doctrine::has_session(project)? {
                return ctx.render(&Reset {
                    had_session: false,
                    cleared: false,
                });
            }
            if !yes {
                if !ctx.can_prompt() {
                    return Err(Error::user(
                        "doctrine reset asks before clearing the session; nobody is at a terminal",
                    )
                    .with_hint("pass --yes to clear it"));
                }
                let answer = ctx.ask("Clear curation session progress? (y/N)", "N");
                if !answer
                    .is_some_and(|a| a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes"))
                {
                    ctx.say("Kept the curation session.");
                    return Ok(());
                }
            }
            ctx.render(&Reset {
                had_session: true,
                cleared: doctrine::reset(project)?,
            })
        }
        DoctrineCommand::Curate {
            artifact_type,
            fresh,
            ..
        } => {
            if !ctx.can_prompt() {
                return Err(Error::user("doctrine curate is an interview: it needs a person at a terminal")
                    .with_hint("promote artifacts one by one with `spec-kitty doctrine promote <id> --type <type>`"));
            }
            let (pending, resumed, progress) =
                doctrine::curate_start(project, artifact_type.as_deref(), !fresh, &now())?;
            if resumed {
                ctx.say(format!(
                    "Resuming curation session — {:.1}% complete",
                    progress.progress_percent
                ));
            } else {
                ctx.say("Starting new curation session");
            }
            let total = pending.len();
            for (i, a) in pending.iter().enumerate() {
                ctx.say("");
                ctx.say(ctx.bold(&format!(
                    "[{}/{total}] {} — {}",
                    i + 1,
                    a.artifact_type.to_uppercase(),
                    crate::shell::one_line(&a.title)
                )));
                ctx.say(format!("  id: {}", crate::shell::one_line(&a.artifact_id)));
                ctx.say(format!("  file: {}", crate::shell::one_line(&a.filename)));
                for (k, v) in &a.summary {
                    let v: String = crate::shell::one_line(v).chars().take(200).collect();
                    ctx.say(format!("  {k}: {v}"));
                }
                let answer = ctx
                    .ask("[a]ccept / [d]rop / [s]kip / [q]uit", "s")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let verdict = match answer.as_str() {
                    "a" | "accept" => Verdict::Accepted,
                    "d" | "drop" => {
                        let sure =
                            ctx.ask(&format!("  Permanently delete {}? (y/N)", a.filename), "N");
                        if sure.is_some_and(|s| s.eq_ignore_ascii_case("y")) {
                            Verdict::Dropped
                        } else {
                            ctx.say("  → Skipped instead");
                            Verdict::Skipped
                        }
                    }
                    "q" | "quit" => {
                        ctx.say("Session saved. Resume with: spec-kitty doctrine curate");
                        return Ok(());
                    }
                    _ => Verdict::Skipped,
                };
                match doctrine::decide(project, a, verdict, &now())? {
                    Some(dest) => ctx.say(format!("  ✓ Promoted to {}", ctx.rel(&dest))),
                    None if verdict == Verdict::Dropped => {
                        ctx.say(format!("  ✗ Dropped {}", a.filename))
                    }
                    None => ctx.say("  → Skipped"),
                }
            }
            if let Some(s) = doctrine::load_session(project)? {
                let p = s.progress();
                ctx.say("");
                ctx.say(format!(
                    "  {:.1}% — {} accepted  {} dropped  {} skipped  {} pending",
                    p.progress_percent, p.accepted, p.dropped, p.skipped, p.pending
                ));
            }
            Ok(())
        }
    }
}

impl Render for doctrine::Status {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let s = self;
        if s.counts.is_empty() {
            ctx.say(format!(
                "No doctrine artifacts in {}",
                ctx.rel(&s.doctrine_dir)
            ));
        } else {
            ctx.say(ctx.bold("Doctrine Artifact Status"));
            ctx.say(format!(
                "  {:<24} {:>8} {:>8}",
                "Type", "Proposed", "Shipped"
            ));
            for (t, c) in &s.counts {
                ctx.say(format!(
                    "  {t:<24} {:>8} {:>8}",
                    c["proposed"], c["shipped"]
                ));
            }
            ctx.say(format!(
                "  {:<24} {:>8} {:>8}",
                "Total", s.total_proposed, s.total_shipped
            ));
        }
        if let Some(p) = &s.session {
            ctx.say("");
            ctx.say(format!(
                "Curation session: {:.1}% complete",
                p.progress_percent
            ));
            ctx.say(format!(
                "  {} accepted  {} dropped  {} skipped  {} pending",
                p.accepted, p.dropped, p.skipped, p.pending
            ));
        }
    }
}

impl Render for doctrine::Promoted {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "{} Promoted {} → {}",
            ctx.paint("✓", style::GOOD),
            self.artifact.filename,
            ctx.rel(&self.destination)
        ));
    }
}

/// `doctrine reset`: whether there was a session, and whether its file was removed.
struct Reset {
    had_session: bool,
    cleared: bool,
}

impl Render for Reset {
    fn json(&self) -> Value {
        serde_json::json!({"cleared": self.cleared})
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(if self.had_session {
            "Curation session cleared."
        } else {
            "No active curation session."
        });
    }
}
