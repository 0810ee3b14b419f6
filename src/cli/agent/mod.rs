//! `spec-kitty agent ...`: the commands AI agents call.

pub mod action;
pub mod branch_context;
pub mod config;
pub mod context;
pub mod delete;
pub mod merge;
pub mod mission;
pub mod prereq;
pub mod record;
pub mod release;
pub mod requirements;
pub mod status;
pub mod sync_team;
pub mod taskgraph;
pub mod tasks;
pub mod tasks_status;
pub mod tests_cmd;

use clap::Subcommand;

use super::{Ctx, Group};
use crate::error::Result;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AgentCommand {
    /// Hand a work package to an agent: implement or review
    Action(Group<action::ActionCommand>),
    /// Mission lifecycle: create, finalize-tasks, accept, merge, ...
    Mission(Group<mission::MissionCommand>),
    /// Work package workflow: move-task, status, list-tasks, ...
    Tasks(Group<tasks::TasksCommand>),
    /// Context for an action: the mission, branch, work package and next commands
    Context(Group<context::ContextCommand>),
    /// The event log and its snapshot: emit, materialize, doctor, validate, migrate, reconcile
    Status(Group<status::StatusCommand>),
    /// Release tooling: prep, validate
    Release(Group<release::ReleaseCommand>),
    /// The project's agents: list, add, remove, status, sync, set
    Config(Group<config::ConfigCommand>),
    /// Test-related commands: stale-check
    Tests(Group<tests_cmd::TestsCommand>),
    /// Same as `spec-kitty auth`
    Auth(Group<super::auth::AuthCommand>),
    /// Same as `agent mission check-prerequisites` (the reference's deprecated spelling)
    #[command(hide = true)]
    CheckPrerequisites(prereq::PrereqArgs),
}

impl AgentCommand {
    /// Does this command write mission state (see [`crate::cli::Command::writes`]).
    pub fn writes(&self) -> Option<crate::cli::state::Writes> {
        match self {
            AgentCommand::Action(c) => c.command.writes(),
            AgentCommand::Mission(c) => c.command.writes(),
            AgentCommand::Tasks(c) => c.command.writes(),
            AgentCommand::Context(_)
            | AgentCommand::Status(_)
            | AgentCommand::Release(_)
            | AgentCommand::Config(_)
            | AgentCommand::Auth(_)
            | AgentCommand::Tests(_)
            | AgentCommand::CheckPrerequisites(_) => None,
        }
    }
}

pub fn run(ctx: &Ctx, cmd: AgentCommand) -> Result<()> {
    match cmd {
        AgentCommand::Action(c) => action::run(ctx, c.command),
        AgentCommand::Mission(c) => mission::run(ctx, c.command),
        AgentCommand::Tasks(c) => tasks::run(ctx, c.command),
        AgentCommand::Context(c) => context::run(ctx, c.command),
        AgentCommand::Status(c) => status::run(ctx, c.command),
        AgentCommand::Release(c) => release::run(ctx, c.command),
        AgentCommand::Config(c) => config::run(ctx, c.command),
        AgentCommand::Tests(c) => tests_cmd::run(ctx, c.command),
        AgentCommand::Auth(c) => super::auth::run(ctx, c.command),
        AgentCommand::CheckPrerequisites(a) => prereq::run(ctx, &a),
    }
}
