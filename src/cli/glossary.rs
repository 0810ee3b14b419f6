//! `spec-kitty glossary ...`: the project glossary under `.kittify/`, in the
//! reference's files (see `crate::ops::glossary`).

use clap::Subcommand;

use serde_json::Value;

use super::output::{style, Render};
use super::Ctx;
use crate::error::{Error, Result};
use crate::ops::glossary::{self, Choice};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum GlossaryCommand {
    /// List the terms: seed files plus senses the glossary event logs add
    List {
        /// Only this scope (mission_local, team_domain, audience_domain, spec_kitty_core)
        #[arg(long)]
        scope: Option<String>,
        /// Only this status (active, deprecated, draft)
        #[arg(long)]
        status: Option<String>,
    },
    /// Show the conflict history from the glossary event logs
    Conflicts {
        /// Only conflicts of this mission id
        #[arg(long, alias = "feature")]
        mission: Option<String>,
        /// Only unresolved conflicts
        #[arg(long)]
        unresolved: bool,
        /// Only conflicts checked at this strictness (off, medium, max)
        #[arg(long)]
        strictness: Option<String>,
    },
    /// Resolve a conflict: pick a candidate sense or give a definition (asked at a terminal)
    Resolve {
        /// The conflict id (from `glossary conflicts`)
        conflict_id: String,
        /// Mission id whose glossary log records the resolution (default: the conflict's)
        #[arg(long, alias = "feature")]
        mission: Option<String>,
        /// Pick candidate N (1-based) without asking
        #[arg(long, value_name = "N", conflicts_with = "custom")]
        select: Option<usize>,
        /// Resolve with this definition (added as a team_domain sense) without asking
        #[arg(long, value_name = "DEFINITION")]
        custom: Option<String>,
        /// Resolve again a conflict that is already resolved, without asking
        #[arg(long)]
        again: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: GlossaryCommand) -> Result<()> {
    let project = ctx.project()?;
    match cmd {
        GlossaryCommand::List { scope, status } => ctx.render(&Terms(glossary::list(
            project,
            scope.as_deref(),
            status.as_deref(),
        )?)),
        GlossaryCommand::Conflicts {
            mission,
            unresolved,
            strictness,
        } => ctx.render(&Conflicts(glossary::conflicts(
            project,
            mission.as_deref(),
            unresolved,
            strictness.as_deref(),
        )?)),
        GlossaryCommand::Resolve {
            conflict_id,
            mission,
            select,
            custom,
            again,
        } => {
            let open = glossary::open_conflict(project, &conflict_id)?;
            let asking = select.is_none() && custom.is_none();
            if asking && !ctx.can_prompt() {
                return Err(Error::user(
                    "glossary resolve needs a choice: nobody is at a terminal to ask",
                )
                .with_hint(
                    "pass --select N (a candidate from the list) or --custom \"definition\"",
                ));
            }
            if open.already_resolved && !again {
                if !ctx.can_prompt() {
                    return Err(Error::user(format!(
                        "Conflict '{conflict_id}' is already resolved"
                    ))
                    .with_hint("pass --again to record another resolution"));
                }
                let a = ctx.ask(
                    &format!("Conflict '{conflict_id}' already resolved. Resolve again? (y/N)"),
                    "N",
                );
                if !a.is_some_and(|a| a.eq_ignore_ascii_case("y")) {
                    return Ok(());
                }
            }
            let choice = if let Some(n) = select {
                Choice::Candidate(n)
            } else if let Some(def) = custom {
                Choice::Custom(def)
            } else {
                match ask_choice(ctx, &conflict_id, &open)? {
                    Some(choice) => choice,
                    None => {
                        ctx.say("Conflict deferred (no resolution made)");
                        return Ok(());
                    }
                }
            };
            ctx.render(&glossary::resolve(
                project,
                &open,
                mission.as_deref(),
                &choice,
                &crate::timefmt::now_iso(),
            )?)
        }
    }
}

/// The interview at a terminal: the conflict, its candidates, the choice
/// (None: deferred).
fn ask_choice(
    ctx: &Ctx,
    conflict_id: &str,
    open: &glossary::OpenConflict,
) -> Result<Option<Choice>> {
    ctx.say(ctx.bold(&format!(
        "Conflict: {}",
        crate::shell::one_line(conflict_id)
    )));
    ctx.say(format!("Term: {}", crate::shell::one_line(&open.term)));
    if !open.candidates.is_empty() {
        ctx.say("Candidate senses:");
        for (i, c) in open.candidates.iter().enumerate() {
            let scope = c.get("scope").and_then(|v| v.as_str()).unwrap_or("?");
            let def = c
                .get("definition")
                .and_then(|v| v.as_str())
                .unwrap_or("No definition");
            ctx.say(format!(
                "  {}. [{}] {}",
                i + 1,
                crate::shell::one_line(scope),
                crate::shell::one_line(def)
            ));
        }
    }
    let a = ctx
        .ask(
            "Resolution: a candidate number, C for a custom definition, D to defer",
            "D",
        )
        .unwrap_or_default();
    if a.eq_ignore_ascii_case("d") || a.is_empty() {
        return Ok(None);
    }
    if a.eq_ignore_ascii_case("c") {
        return Ok(Some(Choice::Custom(
            ctx.ask("Enter custom definition", "").unwrap_or_default(),
        )));
    }
    Ok(Some(Choice::Candidate(a.parse().map_err(|_| {
        Error::user(format!("Invalid choice '{a}'"))
    })?)))
}

/// `glossary list`.
struct Terms(Vec<glossary::Term>);

impl Render for Terms {
    fn json(&self) -> Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let terms = &self.0;
        if terms.is_empty() {
            ctx.say("No terms found");
            return;
        }
        ctx.say(ctx.bold("Glossary Terms"));
        for t in terms {
            let mut def = crate::shell::one_line(&t.definition);
            if def.chars().count() > 60 {
                def = format!("{}...", def.chars().take(60).collect::<String>());
            }
            ctx.say(format!(
                "  {:<16} {:<20} {def}  [{}, {:.2}]",
                t.scope,
                crate::shell::one_line(&t.surface),
                t.status,
                t.confidence
            ));
        }
        ctx.say("");
        ctx.say(format!("Total: {} term(s)", terms.len()));
    }
}

/// `glossary conflicts`.
struct Conflicts(Vec<glossary::Conflict>);

impl Render for Conflicts {
    fn json(&self) -> Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let list = &self.0;
        if list.is_empty() {
            ctx.say("No conflicts found");
            return;
        }
        ctx.say(ctx.bold("Conflict History"));
        for c in list {
            let id: String = c.conflict_id.chars().take(20).collect();
            let ts: String = c.timestamp.chars().take(19).collect();
            ctx.say(format!(
                "  {} {} type={} severity={} {} strictness={} mission={} {}",
                crate::shell::one_line(&id),
                crate::shell::one_line(&c.term),
                crate::shell::one_line(&c.kind),
                crate::shell::one_line(&c.severity),
                c.status,
                crate::shell::one_line(&c.effective_strictness),
                crate::shell::one_line(&c.mission_id),
                crate::shell::one_line(&ts)
            ));
        }
        ctx.say("");
        ctx.say(format!("Total: {} conflict(s)", list.len()));
        let open = list.iter().filter(|c| c.status == "unresolved").count();
        if open > 0 {
            ctx.say(ctx.paint(&format!("Unresolved: {open}"), style::BAD));
        }
    }
}

impl Render for glossary::Resolution {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "{} Conflict resolved successfully ({})",
            ctx.paint("✓", style::GOOD),
            ctx.rel(&self.event_log)
        ));
    }
}
