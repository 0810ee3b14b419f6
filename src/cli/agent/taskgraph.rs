//! `finalize-tasks`, `list-dependents`, `validate-workflow`, `mark-status`.

use clap::{Args, Subcommand};

use crate::cli::Ctx;
use crate::error::Result;

/// The `agent tasks` subcommands about the dependency graph.
#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Same as `agent mission finalize-tasks`
    FinalizeTasks(FinalizeArgs),
}

pub fn run(ctx: &Ctx, cmd: GraphCommand) -> Result<()> {
    match cmd {
        GraphCommand::FinalizeTasks(a) => run_finalize(ctx, &a),
    }
}

#[derive(Debug, Args)]
pub struct FinalizeArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
    /// Run every check and report what would change; write nothing
    #[arg(long)]
    pub validate_only: bool,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run_finalize(_ctx: &Ctx, _args: &FinalizeArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
