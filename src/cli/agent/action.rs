//! `spec-kitty agent action implement|review`.

use clap::Subcommand;

use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Claim a work package, prepare its workspace and print the implementation prompt
    Implement {
        /// Work package id (default: the first ready one)
        wp_id: Option<String>,
        /// Mission: 079, 079-slug, slug or mission_id
        #[arg(long)]
        mission: Option<String>,
        /// Agent doing the work
        #[arg(long)]
        agent: Option<String>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Claim a work package for review and print the review prompt
    Review {
        /// Work package id (default: the first one in for_review)
        wp_id: Option<String>,
        /// Mission: 079, 079-slug, slug or mission_id
        #[arg(long)]
        mission: Option<String>,
        /// Agent doing the review
        #[arg(long)]
        agent: Option<String>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_ctx: &Ctx, _cmd: ActionCommand) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
