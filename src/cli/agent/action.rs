//! `spec-kitty agent action implement|review`.

use crate::cli::output::{style, Render};
use clap::Subcommand;

use serde_json::json;

use crate::cli::Ctx;
use crate::error::Result;
use crate::workspace::action;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ActionCommand {
    /// Claim a work package, prepare its workspace and print the implementation prompt
    Implement {
        /// Work package id (default: the first ready one)
        wp_id: Option<String>,
        /// Mission: 079, 079-slug, slug or mission_id
        #[arg(long, alias = "feature")]
        mission: Option<String>,
        /// Agent doing the work
        #[arg(long)]
        agent: Option<String>,
    },
    /// Claim a work package for review and print the review prompt
    Review {
        /// Work package id (default: the first one in for_review)
        wp_id: Option<String>,
        /// Mission: 079, 079-slug, slug or mission_id
        #[arg(long, alias = "feature")]
        mission: Option<String>,
        /// Agent doing the review
        #[arg(long)]
        agent: Option<String>,
        /// Also check the hand-in commit out in a scratch worktree under
        /// .worktrees/ (made afresh each time) and print its path: run the tests there
        #[arg(long)]
        checkout: bool,
    },
}

impl ActionCommand {
    /// Both write mission state (they claim the work package).
    pub fn writes(&self) -> Option<crate::cli::state::Writes> {
        match self {
            ActionCommand::Implement { wp_id, .. } | ActionCommand::Review { wp_id, .. } => {
                crate::cli::state::Writes::on_wp(wp_id.as_deref(), None)
            }
        }
    }
}

pub fn run(ctx: &Ctx, cmd: ActionCommand) -> Result<()> {
    let (wp_id, mission, agent, review, checkout) = match cmd {
        ActionCommand::Implement {
            wp_id,
            mission,
            agent,
            ..
        } => (wp_id, mission, agent, false, false),
        ActionCommand::Review {
            wp_id,
            mission,
            agent,
            checkout,
        } => (wp_id, mission, agent, true, checkout),
    };
    let (project, m) = ctx.mission(mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    let agent = agent.unwrap_or_else(|| {
        if review {
            "reviewer".into()
        } else {
            "agent".into()
        }
    });
    if review {
        let r = crate::ops::review::review(project, &m, wp_id.as_deref(), &agent, checkout)?;
        ctx.render(&Handed {
            h: &r.handoff,
            checkout: r.checkout.as_ref(),
        })
    } else {
        let h = action::implement(project, &m, wp_id.as_deref(), &agent)?;
        ctx.render(&Handed {
            h: &h,
            checkout: None,
        })
    }
}

/// A work package handed to an agent (implement or review), as the CLI shows it.
struct Handed<'a> {
    h: &'a action::Handoff,
    checkout: Option<&'a crate::ops::review::Checkout>,
}

impl Render for Handed<'_> {
    fn warnings(&self) -> Vec<String> {
        self.h.notes.clone()
    }

    fn json(&self) -> serde_json::Value {
        let h = self.h;
        json!({
            "result": "success",
            "action": h.action,
            "mission_slug": h.mission_slug,
            "wp_id": h.wp_id,
            "title": h.title,
            "agent": h.agent,
            "workspace": h.workspace.path,
            "workspace_kind": h.workspace.kind,
            "lane_id": h.workspace.lane_id,
            "branch": h.workspace.branch,
            "base_branch": h.workspace.base_branch,
            "target_branch": h.workspace.target_branch,
            "worktree_created": h.workspace.created,
            "merged_in": h.workspace.merged_in,
            "from_lane": h.from_lane,
            "lane": h.lane,
            "prompt_file": h.prompt_file,
            "prompt": h.prompt,
            "notes": h.notes,
            "review_range": h.scope.as_ref().map(|s| json!({
                "claim_commit": s.claim_commit, "hand_in_commit": s.hand_in_commit,
            })),
            "changed_files": h.scope.as_ref().map(|s| s.changed.clone()),
            "out_of_scope": h.scope.as_ref().map(|s| s.out_of_scope.clone()).unwrap_or_default(),
            "scope_allowed": h.scope.as_ref().map(|s| s.allowed.clone()).unwrap_or_default(),
            "checkout": self.checkout,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let h = self.h;
        ctx.say(format!(
            "{} {} ({}): {} -> {}",
            ctx.paint(h.action, style::SUCCESS),
            ctx.bold(&h.wp_id),
            crate::cli::output::esc(&h.title),
            h.from_lane,
            h.lane
        ));
        ctx.say(format!("Workspace: {}", h.workspace.path.display()));
        if let Some(c) = self.checkout {
            ctx.say(format!(
                "Checkout of the hand-in ({}): {}",
                crate::git::short12(&c.commit),
                c.path.display()
            ));
        }
        if let Some(sc) = h.scope.as_ref().filter(|s| !s.out_of_scope.is_empty()) {
            ctx.warn(format!(
                "{} changed files outside what it owns: {}",
                h.wp_id,
                sc.out_of_scope.join(", ")
            ));
        }
        for line in crate::cli::implement::merged_in_lines(&h.workspace) {
            ctx.say(line);
        }
        ctx.say(format!("Prompt saved to {}", h.prompt_file.display()));
        ctx.say("");
        ctx.say(h.prompt.trim_end());
    }
}
