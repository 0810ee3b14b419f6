//! `spec-kitty auth` (also `spec-kitty agent auth`).

use clap::Subcommand;

use super::Ctx;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Show the stored session (never refreshes or clears it)
    Status {
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_ctx: &Ctx, _cmd: AuthCommand) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
