//! `spec-kitty mission list|current|info`: the mission types a mission can have.

use clap::Subcommand;
use serde_json::{json, Value};

use super::Ctx;
use crate::error::{Error, Result};
use crate::mission::MISSION_TYPES;

#[derive(Debug, Subcommand)]
pub enum MissionTypeCommand {
    /// List the mission types
    List {},
    /// Show the mission type of a mission (default: the one inferred from the working directory)
    Current {
        /// Mission: 079, 079-slug, slug or mission_id
        #[arg(long)]
        mission: Option<String>,
    },
    /// Describe one mission type: its purpose and its steps
    Info {
        /// software-dev, research, documentation or plan
        mission_type: String,
    },
}

struct TypeInfo {
    key: &'static str,
    name: &'static str,
    purpose: &'static str,
    steps: &'static [&'static str],
}

const TYPES: &[TypeInfo] = &[
    TypeInfo {
        key: "software-dev",
        name: "Software development",
        purpose: "Build or change software: specify, plan, split into work packages, implement in lanes, review, accept, merge.",
        steps: &["specify", "plan", "tasks", "finalize-tasks", "implement", "review", "accept", "merge"],
    },
    TypeInfo {
        key: "research",
        name: "Research",
        purpose: "Answer a question with sources: scope it, plan the method, gather evidence, synthesise findings.",
        steps: &["specify", "plan", "tasks", "finalize-tasks", "implement", "review", "accept"],
    },
    TypeInfo {
        key: "documentation",
        name: "Documentation",
        purpose: "Write or overhaul documentation: audience, structure, drafts, review.",
        steps: &["specify", "plan", "tasks", "finalize-tasks", "implement", "review", "accept"],
    },
    TypeInfo {
        key: "plan",
        name: "Planning",
        purpose: "Produce a plan rather than code: goals, research, structure, draft, review.",
        steps: &["specify", "plan", "tasks", "finalize-tasks", "implement", "review", "accept"],
    },
];

fn find(key: &str) -> Result<&'static TypeInfo> {
    TYPES.iter().find(|t| t.key == key).ok_or_else(|| {
        Error::user(format!("unknown mission type {key:?}"))
            .with_hint(format!("choose one of: {}", MISSION_TYPES.join(", ")))
    })
}

fn to_json(t: &TypeInfo) -> Value {
    json!({ "key": t.key, "name": t.name, "purpose": t.purpose, "steps": t.steps })
}

fn print(ctx: &Ctx, t: &TypeInfo) {
    ctx.say(format!("{} ({})", ctx.bold(t.key), t.name));
    ctx.say(format!("  {}", t.purpose));
    ctx.say(format!("  steps: {}", t.steps.join(" -> ")));
}

pub fn run(ctx: &Ctx, cmd: MissionTypeCommand) -> Result<()> {
    match cmd {
        MissionTypeCommand::List { .. } => {
            if ctx.json {
                ctx.json_out(
                    &json!({ "mission_types": TYPES.iter().map(to_json).collect::<Vec<_>>() }),
                );
            } else {
                for t in TYPES {
                    ctx.say(format!("{:<14} {}", t.key, t.name));
                }
            }
        }
        MissionTypeCommand::Current { mission, .. } => {
            let (_, m) = ctx.mission(mission.as_deref())?;
            let t = find(m.mission_type())?;
            if ctx.json {
                ctx.json_out(&json!({ "mission_slug": m.slug, "mission_type": to_json(t) }));
            } else {
                ctx.say(format!("Mission {} is of type:", m.slug));
                print(ctx, t);
            }
        }
        MissionTypeCommand::Info { mission_type, .. } => {
            let t = find(&mission_type)?;
            if ctx.json {
                ctx.json_out(&to_json(t));
            } else {
                print(ctx, t);
            }
        }
    }
    Ok(())
}
