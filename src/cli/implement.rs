//! Legacy top-level `spec-kitty implement`.

use clap::Args;

use super::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct ImplementArgs {
    /// Work package id (for example WP01)
    pub wp_id: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long)]
    pub mission: Option<String>,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(_ctx: &Ctx, _args: &ImplementArgs) -> Result<()> {
    Err(crate::Error::internal(
        "this command is being built in a parallel branch",
    ))
}
