//! `spec-kitty mission list|current|info`: the mission types.

use clap::Subcommand;

use super::Ctx;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum MissionTypeCommand {
    /// List the mission types
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_ctx: &Ctx, _cmd: MissionTypeCommand) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
