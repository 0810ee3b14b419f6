//! `spec-kitty charter interview|generate|status|context`: the project charter.

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::charter;
use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::charter as ops;

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
            // Under --json (a program reads the one document) or with
            // --defaults, nobody is asked: unanswered questions keep their defaults.
            let asking = !a.defaults && ctx.prompts_allowed();
            let i = ops::interview(
                project,
                &ops::InterviewRequest {
                    mission: &a.mission,
                    profile: &a.profile,
                    answers: &a.answer,
                    selected_paradigms: a.selected_paradigms.as_deref(),
                    selected_directives: a.selected_directives.as_deref(),
                    available_tools: a.available_tools.as_deref(),
                },
                |q, d| if asking { ctx.ask(q.prompt, d) } else { None },
            )?;
            ctx.render(&InterviewView {
                interview_path: ctx.rel(&i.answers_file).into_owned(),
                i,
                no_terminal: asking && !ctx.can_ask(),
            })
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
            ctx.render(&GenerateView {
                charter_path: ctx.rel(&g.charter_file).into_owned(),
                files_written: g
                    .files_written
                    .iter()
                    .map(|p| ctx.rel(p).into_owned())
                    .collect(),
                g,
            })
        }
        CharterCommand::Status {} => {
            let s = charter::status(project)?;
            ctx.render(&StatusView {
                charter_path: ctx.rel(&s.charter_file).into_owned(),
                s,
            })
        }
        CharterCommand::Sync { force } => ctx.render(&SyncView(charter::sync(project, force)?)),
        CharterCommand::Context(a) => ctx.render(&ContextView(charter::context(
            project,
            &a.action,
            !a.no_mark_loaded,
        )?)),
    }
}

/// The saved interview, as the CLI shows it.
struct InterviewView {
    i: ops::Interviewed,
    /// answers.yaml relative to the working directory.
    interview_path: String,
    /// Questions were to be asked but there is no terminal to ask at.
    no_terminal: bool,
}

impl Render for InterviewView {
    fn warnings(&self) -> Vec<String> {
        if !self.no_terminal {
            return Vec::new();
        }
        vec!["no terminal to ask at: unanswered questions kept their defaults (answer with --answer KEY=VALUE)".into()]
    }

    fn json(&self) -> Value {
        let answers = &self.i.answers;
        json!({
            "result": "success", "success": true,
            "interview_path": self.interview_path, "answers_file": self.i.answers_file,
            "mission": answers.mission, "profile": answers.profile,
            "answers": answers.answers,
            "selected_paradigms": charter::selected(answers, "selected_paradigms"),
            "selected_directives": charter::selected(answers, "selected_directives"),
            "available_tools": answers.available_tools,
            "next_step": "spec-kitty charter generate --from-interview",
        })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "Saved {} answers to {}.",
            self.i.answers.answers.len(),
            self.interview_path
        ));
        ctx.say("Next: `spec-kitty charter generate --from-interview`");
    }
}

/// A generated charter, as the CLI shows it.
struct GenerateView {
    g: charter::Generated,
    /// charter.md and the files written, relative to the working directory.
    charter_path: String,
    files_written: Vec<String>,
}

impl GenerateView {
    fn source(&self) -> &'static str {
        if self.g.from_interview {
            "interview"
        } else {
            "defaults"
        }
    }
}

impl Render for GenerateView {
    fn json(&self) -> Value {
        let g = &self.g;
        json!({
            "result": "success", "success": true,
            "charter_path": self.charter_path, "charter_file": g.charter_file,
            "interview_source": self.source(),
            "mission": g.answers.mission, "profile": g.answers.profile,
            "template_set": g.template_set,
            "selected_paradigms": charter::selected(&g.answers, "selected_paradigms"),
            "selected_directives": charter::selected(&g.answers, "selected_directives"),
            "available_tools": g.answers.available_tools,
            "references_count": 0,
            "library_files": [],
            "files_written": self.files_written,
            "diagnostics": [],
        })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "Wrote {} from the {} ({} profile, template set {}).",
            self.charter_path,
            self.source(),
            self.g.answers.profile,
            self.g.template_set
        ));
    }
}

/// The charter's state, as the CLI shows it.
struct StatusView {
    s: charter::Status,
    /// charter.md relative to the working directory.
    charter_path: String,
}

impl Render for StatusView {
    fn json(&self) -> Value {
        let s = &self.s;
        let files: Vec<_> = s
            .files
            .iter()
            .map(|(n, e, size)| json!({"name": n, "exists": e, "size_bytes": size, "size_kb": *size as f64 / 1024.0}))
            .collect();
        json!({
            "result": "success",
            "charter_path": self.charter_path, "charter_file": s.charter_file,
            "exists": s.status != "missing", "status": s.status,
            "current_hash": s.current_hash, "stored_hash": s.stored_hash,
            "last_sync": s.last_sync, "answers_file": s.answers_file,
            "library_docs": s.library_docs,
            "files": files,
        })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!("{}: {}", self.charter_path, self.s.status));
        if self.s.status == "missing" {
            ctx.say("Create it: `spec-kitty charter interview`, then `spec-kitty charter generate --from-interview`.");
        }
    }
}

/// `charter sync`, as the CLI shows it.
struct SyncView(charter::Synced);

impl Render for SyncView {
    fn json(&self) -> Value {
        let r = &self.0;
        // The reference's keys: `noop` and success false when nothing
        // needed recording; the charter's hash is what is recorded.
        json!({
            "result": if r.changed { "success" } else { "noop" },
            "success": r.changed,
            "stale_before": r.stale_before,
            "files_written": if r.changed { vec!["metadata.yaml"] } else { vec![] },
            "extraction_mode": if r.changed { "hash" } else { "" },
            "error": null,
            "synced": true, "changed": r.changed,
            "charter_path": ".kittify/charter/charter.md",
        })
    }

    fn human(&self, ctx: &Ctx) {
        if self.0.changed {
            ctx.say("Recorded the current charter.md; `charter status` now says synced.");
        } else {
            ctx.say("charter.md is already in sync.");
        }
    }
}

/// The charter context for an action, as the CLI shows it.
struct ContextView(charter::Context);

impl Render for ContextView {
    fn json(&self) -> Value {
        let c = &self.0;
        json!({
            "result": "success", "success": true,
            "action": c.action, "mode": c.mode, "first_load": c.first_load,
            "references_count": 0, "charter_file": c.charter_file,
            "context": c.text, "text": c.text,
        })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(&self.0.text);
    }
}
