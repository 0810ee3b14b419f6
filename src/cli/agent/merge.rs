//! `accept` and `merge` (top level and under `agent mission`).

use clap::Args;

use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
    /// Report what would happen and any conflicts; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run_accept(_ctx: &Ctx, _args: &AcceptArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}

pub fn run_merge(_ctx: &Ctx, _args: &MergeArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
