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
        #[arg(long, short = 'f')]
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
    /// Paradigm ids the charter selects, comma-separated
    #[arg(long, value_name = "IDS")]
    pub selected_paradigms: Option<String>,
    /// Directive ids the charter selects, comma-separated
    #[arg(long, value_name = "IDS")]
    pub selected_directives: Option<String>,
    /// The tools the project uses, comma-separated (default: detected from the repository)
    #[arg(long, value_name = "TOOLS")]
    pub available_tools: Option<String>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Use the interview answers when there are some, else the defaults (the default)
    #[arg(long, overrides_with = "no_from_interview")]
    pub from_interview: bool,
    /// Ignore the interview answers; generate from the --profile defaults
    #[arg(long, overrides_with = "from_interview")]
    pub no_from_interview: bool,
    /// Interview profile of the defaults used without answers: minimal or comprehensive
    #[arg(long, default_value = "minimal")]
    pub profile: String,
    /// Template set recorded in the charter: <mission-type>-default (default: the mission type's)
    #[arg(long, value_name = "NAME")]
    pub template_set: Option<String>,
    /// Replace an existing charter.md
    #[arg(long, short = 'f')]
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
    /// Record the first load, so later calls give the summary (the default)
    #[arg(long, overrides_with = "no_mark_loaded")]
    pub mark_loaded: bool,
    /// Do not record the load: the next call is a first load again
    #[arg(long, overrides_with = "mark_loaded")]
    pub no_mark_loaded: bool,
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
            let mut answers =
                charter::interview(project, &a.mission, &a.profile, &given, |q, d| {
                    if a.defaults || ctx.json {
                        return None;
                    }
                    ctx.ask(q.prompt, d)
                })?;
            charter::apply_overrides(
                &mut answers,
                charter::csv(a.selected_paradigms.as_deref()),
                charter::csv(a.selected_directives.as_deref()),
                charter::csv(a.available_tools.as_deref()),
            );
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
                    "selected_paradigms": charter::selected(&answers, "selected_paradigms"),
                    "selected_directives": charter::selected(&answers, "selected_directives"),
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
            let g = charter::generate(
                project,
                &charter::GenerateRequest {
                    mission: a.mission.as_deref(),
                    from_interview: !a.no_from_interview,
                    profile: &a.profile,
                    template_set: a.template_set.as_deref(),
                    force: a.force,
                },
            )?;
            let source = if g.from_interview {
                "interview"
            } else {
                "defaults"
            };
            if ctx.json {
                ctx.json_out(&json!({
                    "result": "success", "success": true,
                    "charter_path": ctx.rel(&g.charter_file), "charter_file": g.charter_file,
                    "interview_source": source,
                    "mission": g.answers.mission, "profile": g.answers.profile,
                    "template_set": g.template_set,
                    "selected_paradigms": charter::selected(&g.answers, "selected_paradigms"),
                    "selected_directives": charter::selected(&g.answers, "selected_directives"),
                    "available_tools": g.answers.available_tools,
                    "references_count": 0,
                    "library_files": [],
                    "files_written": g.files_written.iter().map(|p| ctx.rel(p).into_owned()).collect::<Vec<_>>(),
                    "diagnostics": [],
                }));
            } else {
                ctx.say(format!(
                    "Wrote {} from the {source} ({} profile, template set {}).",
                    ctx.rel(&g.charter_file),
                    g.answers.profile,
                    g.template_set
                ));
            }
        }
        CharterCommand::Status {} => {
            let s = charter::status(project)?;
            if ctx.json {
                let files: Vec<_> = s
                    .files
                    .iter()
                    .map(|(n, e, size)| json!({"name": n, "exists": e, "size_bytes": size, "size_kb": *size as f64 / 1024.0}))
                    .collect();
                ctx.json_out(&json!({
                    "result": "success",
                    "charter_path": ctx.rel(&s.charter_file), "charter_file": s.charter_file,
                    "exists": s.status != "missing", "status": s.status,
                    "current_hash": s.current_hash, "stored_hash": s.stored_hash,
                    "last_sync": s.last_sync, "answers_file": s.answers_file,
                    "library_docs": s.library_docs,
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
            let r = charter::sync(project, force)?;
            if ctx.json {
                // The reference's keys: `noop` and success false when nothing
                // needed recording; the charter's hash is what is recorded.
                ctx.json_out(&json!({
                    "result": if r.changed { "success" } else { "noop" },
                    "success": r.changed,
                    "stale_before": r.stale_before,
                    "files_written": if r.changed { vec!["metadata.yaml"] } else { vec![] },
                    "extraction_mode": if r.changed { "hash" } else { "" },
                    "error": null,
                    "synced": true, "changed": r.changed,
                    "charter_path": ".kittify/charter/charter.md",
                }));
            } else if r.changed {
                ctx.say("Recorded the current charter.md; `charter status` now says synced.");
            } else {
                ctx.say("charter.md is already in sync.");
            }
        }
        CharterCommand::Context(a) => {
            let c = charter::context(project, &a.action, !a.no_mark_loaded)?;
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
