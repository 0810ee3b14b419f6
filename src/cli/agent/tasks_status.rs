//! `move-task`, `status`, `list-tasks`, `add-history`, `materialize`.

use clap::{Args, Subcommand};

use crate::cli::Ctx;
use crate::error::Result;

/// The `agent tasks` subcommands that track lanes and render the board.
#[derive(Debug, Subcommand)]
pub enum BoardCommand {
    /// Show the kanban board of a mission's work packages
    Status(StatusArgs),
}

pub fn run(ctx: &Ctx, cmd: BoardCommand) -> Result<()> {
    match cmd {
        BoardCommand::Status(a) => run_status(ctx, &a),
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MaterializeArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run_status(_ctx: &Ctx, _args: &StatusArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}

pub fn run_materialize(_ctx: &Ctx, _args: &MaterializeArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
