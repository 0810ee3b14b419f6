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

pub fn run(ctx: &Ctx, cmd: TasksCommand) -> Result<()> {
    match cmd {
        TasksCommand::Board(c) => tasks_status::run(ctx, c),
        TasksCommand::Graph(c) => taskgraph::run(ctx, c),
        TasksCommand::MapRequirements(a) => requirements::run(ctx, &a),
    }
}
