//! `spec-kitty mission list|current|info`: the mission types a mission can have.

use clap::Subcommand;
use serde_json::{json, Value};

use super::Ctx;
use crate::error::Result;
use crate::mission::types::{self, MissionType};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum MissionTypeCommand {
    /// List the mission types
    List {},
    /// Show the mission type of a mission (default: the one inferred from the working directory)
    Current {
        /// Mission: 079, 079-slug, slug or mission_id (`-f` as in the reference's `mission-type current`)
        #[arg(long, short = 'f', alias = "feature")]
        mission: Option<String>,
    },
    /// Describe one mission type: its purpose and its steps
    Info {
        /// software-dev, research, documentation or plan
        mission_type: String,
    },
    /// Removed (a mission's type is chosen when it is created): explains and exits 1
    Switch {
        /// The mission type asked for
        mission_type: String,
        /// Accepted for compatibility; the command changes nothing either way
        #[arg(long, hide = true)]
        force: bool,
    },
}

fn to_json(t: &MissionType) -> Value {
    json!({ "key": t.key, "name": t.name, "purpose": t.purpose, "steps": t.steps })
}

fn print(ctx: &Ctx, t: &MissionType) {
    ctx.say(format!("{} ({})", ctx.bold(t.key), t.name));
    ctx.say(format!("  {}", t.purpose));
    ctx.say(format!("  steps: {}", t.steps.join(" -> ")));
}

pub fn run(ctx: &Ctx, cmd: MissionTypeCommand) -> Result<()> {
    match cmd {
        MissionTypeCommand::List { .. } => {
            if ctx.json {
                ctx.json_out(
                    &json!({ "mission_types": types::ALL.iter().map(to_json).collect::<Vec<_>>() }),
                );
            } else {
                for t in types::ALL {
                    ctx.say(format!("{:<14} {}", t.key, t.name));
                }
            }
        }
        MissionTypeCommand::Current { mission, .. } => {
            let (_, m) = ctx.mission(mission.as_deref())?;
            let t = types::lookup(m.mission_type())?;
            if ctx.json {
                ctx.json_out(&json!({ "mission_slug": m.slug, "mission_type": to_json(t) }));
            } else {
                ctx.say(format!("Mission {} is of type:", m.slug));
                print(ctx, t);
            }
        }
        MissionTypeCommand::Switch { mission_type, .. } => {
            crate::ops::mission_type::switch(&mission_type)?;
        }
        MissionTypeCommand::Info { mission_type, .. } => {
            let t = types::lookup(&mission_type)?;
            if ctx.json {
                ctx.json_out(&to_json(t));
            } else {
                print(ctx, t);
            }
        }
    }
    Ok(())
}
