//! `spec-kitty next`.

use clap::Args;

use super::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct NextArgs {
    /// Agent name (required with --result)
    #[arg(long)]
    pub agent: Option<String>,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
    /// Outcome of the previous step: success, failed or blocked
    #[arg(long)]
    pub result: Option<String>,
    /// Print the decision as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(_ctx: &Ctx, _args: &NextArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
