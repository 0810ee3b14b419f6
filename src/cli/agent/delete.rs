//! `spec-kitty agent mission delete`.

use clap::Args;

use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: String,
    /// Delete even if a lane branch has commits that are not merged
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(_ctx: &Ctx, _args: &DeleteArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
