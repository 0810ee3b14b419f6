//! `spec-kitty agent mission branch-context`: the branch contract before a
//! mission exists (what `create` would plan on), for the specify prompt.

use clap::Args;
use serde_json::json;

use crate::cli::{compat, Ctx};
use crate::error::Result;
use crate::mission::branch::BranchContext;

#[derive(Debug, Args)]
pub struct BranchContextArgs {
    /// The branch the work should land on (default: the branch checked out now)
    #[arg(long)]
    pub target_branch: Option<String>,
}

pub fn run(ctx: &Ctx, a: &BranchContextArgs) -> Result<()> {
    let project = ctx.project()?;
    let bc = BranchContext::for_project(project, a.target_branch.as_deref());
    if ctx.json {
        let mut out = json!({
            "result": "success",
            "repo_root": project.root,
            "next_step": "Use these branch values while specifying and planning; pass --target-branch to `agent mission create` if the target is not the one you want.",
            "spec_kitty_version": crate::VERSION,
        });
        compat::extend(&mut out, compat::branch_keys(&bc));
        ctx.json_out(&out);
        return Ok(());
    }
    ctx.say(format!(
        "current branch:      {}",
        bc.current_branch.as_deref().unwrap_or("(detached HEAD)")
    ));
    ctx.say(format!("planning/base branch: {}", bc.target_branch));
    ctx.say(format!("merge target branch:  {}", bc.target_branch));
    ctx.say(format!(
        "matches target:       {}",
        if bc.matches_target() { "yes" } else { "no" }
    ));
    Ok(())
}
