//! `spec-kitty mission list|current|info`: the mission types a mission can have.

use clap::Subcommand;
use serde_json::{json, Value};

use super::output::Render;
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
        MissionTypeCommand::List { .. } => ctx.render(&List(types::ALL)),
        MissionTypeCommand::Current { mission, .. } => {
            let (_, m) = ctx.mission(mission.as_deref())?;
            ctx.render(&Current {
                mission_type: types::lookup(m.mission_type())?,
                mission_slug: m.slug,
            })
        }
        MissionTypeCommand::Switch { mission_type, .. } => {
            Ok(crate::ops::mission_type::switch(&mission_type)?)
        }
        MissionTypeCommand::Info { mission_type, .. } => {
            ctx.render(&Info(types::lookup(&mission_type)?))
        }
    }
}

/// `mission list`: every mission type.
struct List(&'static [MissionType]);

impl Render for List {
    fn json(&self) -> Value {
        json!({ "mission_types": self.0.iter().map(to_json).collect::<Vec<_>>() })
    }

    fn human(&self, ctx: &Ctx) {
        for t in self.0 {
            ctx.say(format!("{:<14} {}", t.key, t.name));
        }
    }
}

/// `mission current`: the type of one mission.
struct Current {
    mission_slug: String,
    mission_type: &'static MissionType,
}

impl Render for Current {
    fn json(&self) -> Value {
        json!({ "mission_slug": self.mission_slug, "mission_type": to_json(self.mission_type) })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!("Mission {} is of type:", self.mission_slug));
        print(ctx, self.mission_type);
    }
}

/// `mission info`: one mission type.
struct Info(&'static MissionType);

impl Render for Info {
    fn json(&self) -> Value {
        to_json(self.0)
    }

    fn human(&self, ctx: &Ctx) {
        print(ctx, self.0);
    }
}
