//! `spec-kitty charter interview|generate|status|context`: the project charter.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::charter;
use crate::cli::Ctx;
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum CharterCommand {
    /// Answer the charter questions (asks at a terminal; --defaults or --answer otherwise)
    Interview(InterviewArgs),
    /// Write .kittify/charter/charter.md from the interview answers
    Generate(GenerateArgs),
    /// Whether the charter exists and is as generated
    Status {},
    /// The charter text an agent applies to an action
    Context(ContextArgs),
    /// Accept a hand-edited charter.md as the current one (status: synced)
    Sync {
        /// Record it even when it is already in sync
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct InterviewArgs {
    /// Mission type the charter is for (`--mission` is its deprecated, hidden alias)
    #[arg(long = "mission-type", alias = "mission", default_value = crate::mission::types::DEFAULT)]
    pub mission: String,
    /// minimal (7 questions) or comprehensive (12)
    #[arg(long, default_value = "minimal")]
    pub profile: String,
    /// Accept every default answer without asking
    #[arg(long)]
    pub defaults: bool,
    /// Answer one question: KEY=VALUE (repeatable; see the question keys in the error for an unknown one)
    #[arg(long, value_name = "KEY=VALUE")]
    pub answer: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Require the interview answers (fail if there are none) instead of falling back to defaults
    #[arg(long)]
    pub from_interview: bool,
    /// Replace an existing charter.md
    #[arg(long)]
    pub force: bool,
    /// Mission type to record (default: the one in the answers; `--mission` is its deprecated, hidden alias)
    #[arg(long = "mission-type", alias = "mission")]
    pub mission: Option<String>,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// specify, plan, tasks, implement or review
    #[arg(long)]
    pub action: String,
}

pub fn run(ctx: &Ctx, cmd: CharterCommand) -> Result<()> {
    let project = ctx.project()?;
    match cmd {
        CharterCommand::Interview(a) => {
            let mut given = BTreeMap::new();
            for kv in &a.answer {
                let (k, v) = kv.split_once('=').ok_or_else(|| {
                    Error::usage(format!("--answer {kv:?} is not KEY=VALUE"))
                        .with_hint("e.g. --answer project_intent=\"A fast wc clone\"")
                })?;
                given.insert(k.trim().to_string(), v.to_string());
            }
            let answers = charter::interview(project, &a.mission, &a.profile, &given, |q, d| {
                if a.defaults || ctx.json {
                    return None;
                }
                ctx.ask(q.prompt, d)
            })?;
            let path = charter::save_answers(project, &answers)?;
            if !a.defaults && !ctx.json && !ctx.can_ask() {
                ctx.warn("no terminal to ask at: unanswered questions kept their defaults (answer with --answer KEY=VALUE)");
            }
            if ctx.json {
                ctx.json_out(&json!({
                    "result": "success", "success": true,
                    "interview_path": ctx.rel(&path), "answers_file": path,
                    "mission": answers.mission, "profile": answers.profile,
                    "answers": answers.answers,
                    "selected_paradigms": answers.extra.get("selected_paradigms").cloned().unwrap_or(serde_yaml::Value::Sequence(vec![])),
                    "selected_directives": answers.extra.get("selected_directives").cloned().unwrap_or(serde_yaml::Value::Sequence(vec![])),
                    "available_tools": answers.available_tools,
                    "next_step": "spec-kitty charter generate --from-interview",
                }));
            } else {
                ctx.say(format!(
                    "Saved {} answers to {}.",
                    answers.answers.len(),
                    ctx.rel(&path)
                ));
                ctx.say("Next: `spec-kitty charter generate --from-interview`");
            }
        }
        CharterCommand::Generate(a) => {
            let g = charter::generate(project, a.mission.as_deref(), a.from_interview, a.force)?;
            if ctx.json {
                ctx.json_out(&json!({
                    "result": "success", "success": true,
                    "charter_path": ctx.rel(&g.charter_file), "charter_file": g.charter_file,
                    "interview_source": if g.from_interview { "interview" } else { "answers_or_defaults" },
                    "mission": g.answers.mission, "profile": g.answers.profile,
                    "available_tools": g.answers.available_tools,
                    "files_written": g.files_written.iter().map(|p| ctx.rel(p).into_owned()).collect::<Vec<_>>(),
                    "references_count": 0,
                }));
            } else {
                ctx.say(format!("Wrote {}.", ctx.rel(&g.charter_file)));
            }
        }
        CharterCommand::Status {} => {
            let s = charter::status(project)?;
            if ctx.json {
                let files: Vec<_> = s
                    .files
                    .iter()
                    .map(|(n, e, size)| json!({"name": n, "exists": e, "size_bytes": size}))
                    .collect();
                ctx.json_out(&json!({
                    "result": "success",
                    "charter_path": ctx.rel(&s.charter_file), "charter_file": s.charter_file,
                    "exists": s.status != "missing", "status": s.status,
                    "current_hash": s.current_hash, "stored_hash": s.stored_hash,
                    "last_sync": s.last_sync, "answers_file": s.answers_file,
                    "files": files,
                }));
            } else {
                ctx.say(format!("{}: {}", ctx.rel(&s.charter_file), s.status));
                if s.status == "missing" {
                    ctx.say("Create it: `spec-kitty charter interview`, then `spec-kitty charter generate --from-interview`.");
                }
            }
        }
        CharterCommand::Sync { force } => {
            let changed = charter::sync(project, force)?;
            if ctx.json {
                ctx.json_out(&json!({
                    "result": "success", "success": true, "synced": true, "changed": changed,
                    "charter_path": ".kittify/charter/charter.md",
                }));
            } else if changed {
                ctx.say("Recorded the current charter.md; `charter status` now says synced.");
            } else {
                ctx.say("charter.md is already in sync.");
            }
        }
        CharterCommand::Context(a) => {
            let c = charter::context(project, &a.action)?;
            if ctx.json {
                ctx.json_out(&json!({
                    "result": "success", "success": true,
                    "action": c.action, "mode": c.mode, "first_load": c.first_load,
                    "references_count": 0, "charter_file": c.charter_file,
                    "context": c.text, "text": c.text,
                }));
            } else {
                ctx.say(&c.text);
            }
        }
    }
    Ok(())
}
