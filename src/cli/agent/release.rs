//! `spec-kitty agent release prep|validate`.

use clap::Subcommand;

use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Check version files, changelog and tags agree
    Validate {
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_ctx: &Ctx, _cmd: ReleaseCommand) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
