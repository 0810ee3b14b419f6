//! `spec-kitty next`: the loop entry. Reads the mission's artifacts and status
//! and names the exact command to run next.

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::output::Render;
use super::Ctx;
use crate::error::Result;
use crate::ops::next::Step;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StepResult {
    Success,
    Failed,
    Blocked,
}

impl StepResult {
    fn as_str(self) -> &'static str {
        match self {
            StepResult::Success => "success",
            StepResult::Failed => "failed",
            StepResult::Blocked => "blocked",
        }
    }
}

// Decide the next step of a mission for an agent.
//
// The decision is derived from the mission's files every time: spec, plan, work
// packages, lanes.json and the status log. Without --claim it never changes a
// work package's lane; `spec-kitty agent action implement|review` do that.
#[derive(Debug, Args)]
pub struct NextArgs {
    /// Agent name (required with --result)
    #[arg(long)]
    pub agent: Option<String>,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Outcome of the step this agent was given last, recorded outside the
    /// project's tracked files (the decision itself is always read off the files)
    #[arg(long, value_enum, requires = "agent")]
    pub result: Option<StepResult>,
    /// Ask as an implementer or a reviewer (default: `review` for agents listed
    /// under `agents.reviewers` in .kittify/config.yaml, else `implement`). A
    /// reviewer gets waiting reviews only; nobody is handed their own work to review.
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// Take the work package it hands out for this agent at once (implement:
    /// planned -> claimed; review: for_review -> in_review), under the mission's
    /// status lock, so two agents asking at the same time never get the same one
    #[arg(long, requires = "agent")]
    pub claim: bool,
    /// Answer to a pending decision (needs --agent and --result)
    #[arg(long)]
    pub answer: Option<String>,
    /// Which pending decision --answer answers (when several are pending)
    #[arg(long, requires = "answer")]
    pub decision_id: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Implement,
    Review,
}

pub fn run(ctx: &Ctx, args: &NextArgs) -> Result<()> {
    let (project, mission) = ctx.mission(args.mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    if args.answer.is_some() {
        return refuse_answer(args, &mission.slug);
    }
    let role = args.role.map(|r| match r {
        RoleArg::Implement => crate::next::Role::Implement,
        RoleArg::Review => crate::next::Role::Review,
    });
    ctx.render(&crate::ops::next::step(
        project,
        &mission,
        args.agent.as_deref(),
        args.result.map(StepResult::as_str),
        role,
        args.claim,
    )?)
}

impl Render for Step {
    fn warnings(&self) -> Vec<String> {
        self.log_warnings.clone()
    }

    /// The decision as it is (its warnings among its fields).
    fn json(&self) -> Value {
        serde_json::to_value(&self.decision).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let d = &self.decision;
        for w in &d.warnings {
            ctx.warn(w);
        }
        let state = if d.kind == crate::next::DecisionKind::Terminal {
            "done"
        } else {
            d.mission_state
        };
        ctx.say(format!(
            "[{}] {} @ {state}",
            d.kind.as_str().to_uppercase(),
            ctx.bold(&d.mission_slug)
        ));
        if let Some(a) = d.action {
            match &d.wp_id {
                Some(wp) => ctx.say(format!("Action: {a} {wp}")),
                None => ctx.say(format!("Action: {a}")),
            }
        }
        if let Some(ws) = &d.workspace_path {
            ctx.say(format!("Workspace: {}", ws.display()));
        }
        if let Some(r) = &d.reason {
            ctx.say(format!("Reason: {r}"));
        }
        let p = &d.progress;
        if p.total_wps > 0 {
            ctx.say(format!(
                "Progress: {:?}% ({}/{} done)",
                p.weighted_percentage, p.done_wps, p.total_wps
            ));
        }
        if let Some(c) = &d.command {
            ctx.say(format!("Next: {c}"));
        }
        if let Some(s) = &d.slash_command {
            ctx.say(format!("Slash command: {s}"));
        }
        if let Some(p) = &d.prompt_file {
            ctx.say(format!("Prompt: {}", p.display()));
        }
    }
}

/// `--answer`: the reference's check (a query is read-only; `--result`
/// itself needs `--agent`), then the answer itself. This build's `next`
/// derives every decision from the mission's files and never leaves one
/// pending (the reference's shipped missions never ask one either), so there
/// is nothing to answer: exit 1 as the reference does then, saying so.
fn refuse_answer(args: &NextArgs, slug: &str) -> Result<()> {
    use crate::error::Error;
    if args.result.is_none() {
        return Err(
            Error::user("--answer requires --result because query mode is read-only")
                .with_hint("add --result success (with --agent <name>)"),
        );
    }
    let what = match &args.decision_id {
        Some(id) => format!("decision {} is not pending", crate::shell::printable(id)),
        None => "no pending decisions to answer".to_string(),
    };
    Err(Error::user(format!(
        "{what} in {slug}: `next` reads each decision off the mission's files and never leaves one waiting for an answer"
    ))
    .with_hint(format!(
        "run `spec-kitty next --agent <name> --mission {slug}` and do what it names; nothing was recorded"
    )))
}
