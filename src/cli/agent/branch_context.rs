//! `spec-kitty agent mission branch-context`: the branch contract before a
//! mission exists (what `create` would plan on), for the specify prompt.

use clap::Args;
use serde_json::json;

use crate::cli::output::Render;
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
    ctx.render(&Branches {
        repo_root: &project.root,
        bc: BranchContext::for_project(project, a.target_branch.as_deref()),
    })
}

/// The branch contract of a project, as the CLI shows it.
struct Branches<'a> {
    repo_root: &'a std::path::Path,
    bc: BranchContext,
}

impl Render for Branches<'_> {
    fn json(&self) -> serde_json::Value {
        let mut out = json!({
            "result": "success",
            "repo_root": self.repo_root,
            "next_step": "Use these branch values while specifying and planning; pass --target-branch to `agent mission create` if the target is not the one you want.",
            "spec_kitty_version": crate::VERSION,
        });
        compat::extend(&mut out, compat::branch_keys(&self.bc));
        out
    }

    fn human(&self, ctx: &Ctx) {
        let bc = &self.bc;
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
    }
}
