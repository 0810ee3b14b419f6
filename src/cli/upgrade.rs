//! `spec-kitty upgrade`.

use clap::Args;

use super::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Show what would change without writing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(_ctx: &Ctx, _args: &UpgradeArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
