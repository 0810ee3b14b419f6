//! `spec-kitty agent tasks ...`: dispatch only; the commands live in
//! `tasks_status` (lanes and board) and `taskgraph` (finalize and dependencies).

use clap::Subcommand;

use super::{taskgraph, tasks_status};
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Show the kanban board of a mission's work packages
    Status(tasks_status::StatusArgs),
    /// Same as `agent mission finalize-tasks`
    FinalizeTasks(taskgraph::FinalizeArgs),
}

pub fn run(ctx: &Ctx, cmd: TasksCommand) -> Result<()> {
    match cmd {
        TasksCommand::Status(a) => tasks_status::run_status(ctx, &a),
        TasksCommand::FinalizeTasks(a) => taskgraph::run_finalize(ctx, &a),
    }
}
