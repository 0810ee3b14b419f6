//! `spec-kitty init`.

use clap::Args;

use super::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Project directory to create, or `.` for the current directory (the default)
    pub project_name: Option<String>,
    /// Comma-separated agents to set up (codex,claude,gemini,...)
    #[arg(long, value_name = "AGENT[,AGENT...]")]
    pub ai: Option<String>,
    /// Never prompt; --ai is then required
    #[arg(long, visible_alias = "yes")]
    pub non_interactive: bool,
    /// Initialise a non-empty directory that is not a spec-kitty project
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(_ctx: &Ctx, _args: &InitArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
