//! `spec-kitty agent tasks ...`: dispatch only; the commands live in
//! `tasks_status` (lanes and board) and `taskgraph` (finalize and dependencies).

use clap::Subcommand;

use super::{requirements, taskgraph, tasks_status};
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum TasksCommand {
    #[command(flatten)]
    Board(tasks_status::BoardCommand),
    #[command(flatten)]
    Graph(taskgraph::GraphCommand),
    /// Write requirement refs (FR-001 ...) into WP frontmatter and report coverage
    MapRequirements(requirements::MapArgs),
}

impl TasksCommand {
    /// Does this command write mission state (see [`crate::cli::Command::writes`]).
    pub fn writes(&self) -> Option<crate::cli::state::Writes> {
        use crate::cli::state::Writes;
        match self {
            TasksCommand::Board(c) => match c {
                tasks_status::BoardCommand::MoveTask(a) => {
                    Writes::on_wp(Some(&a.wp_id), Some(&a.commit))
                }
                tasks_status::BoardCommand::AddHistory(a) => Writes::on_wp(Some(&a.wp_id), None),
                tasks_status::BoardCommand::Status(_)
                | tasks_status::BoardCommand::ListTasks(_) => None,
            },
            TasksCommand::Graph(c) => match c {
                taskgraph::GraphCommand::FinalizeTasks(_) => Writes::state(),
                taskgraph::GraphCommand::MarkStatus(a) => Writes::with_flag(&a.commit),
                taskgraph::GraphCommand::ListDependents(_)
                | taskgraph::GraphCommand::ValidateWorkflow(_) => None,
            },
            TasksCommand::MapRequirements(a) => Writes::on_wp(a.wp.as_deref(), Some(&a.commit)),
        }
    }
}

pub fn run(ctx: &Ctx, cmd: TasksCommand) -> Result<()> {
    match cmd {
        TasksCommand::Board(c) => tasks_status::run(ctx, c),
        TasksCommand::Graph(c) => taskgraph::run(ctx, c),
        TasksCommand::MapRequirements(a) => requirements::run(ctx, &a),
    }
}
