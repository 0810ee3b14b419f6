//! `agent mission sync-team`: share a mission with teammates' clones through
//! git in one safe step (see [`crate::ops::team_sync`]).

use clap::Args;
use serde_json::json;

use crate::cli::output::{style, Render};
use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::team_sync;

#[derive(Debug, Args)]
pub struct SyncTeamArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// The git remote (default: the current branch's upstream remote, else origin)
    #[arg(long)]
    pub remote: Option<String>,
    /// Show the git steps it would run; record, fetch, merge and push nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Ctx, a: &SyncTeamArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    let exe = crate::env::current_exe();
    let r = team_sync::sync(
        project,
        &mission,
        &team_sync::Options {
            remote: a.remote.as_deref(),
            dry_run: a.dry_run,
            exe: exe.as_deref(),
        },
    )?;
    ctx.render(&r)
}

impl Render for team_sync::TeamSync {
    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let serde_json::Value::Object(o) = &mut v {
            o.insert("result".into(), json!("success"));
        }
        v
    }

    fn human(&self, ctx: &Ctx) {
        let r = self;
        let head = if r.dry_run { "Would sync" } else { "Synced" };
        ctx.say(format!(
            "{} {} on {} with {}",
            ctx.paint(head, style::SUCCESS),
            r.mission_slug,
            r.branch,
            r.remote
        ));
        if !r.drivers_registered.is_empty() {
            let verb = if r.dry_run {
                "would register"
            } else {
                "registered"
            };
            ctx.say(format!(
                "  {verb} the merge drivers {}",
                r.drivers_registered.join(", ")
            ));
        }
        match (&r.recorded_commit, r.recorded_files.is_empty()) {
            (_, true) => ctx.say("  record: nothing to record"),
            (Some(c), false) => ctx.say(format!(
                "  record: {} file(s) committed ({})",
                r.recorded_files.len(),
                crate::git::short(c)
            )),
            (None, false) => ctx.say(format!(
                "  record: would commit {} file(s)",
                r.recorded_files.len()
            )),
        }
        for f in &r.recorded_files {
            ctx.say(format!("    {f}"));
        }
        for s in &r.steps {
            ctx.say(format!("  {}: {}", s.command, s.outcome));
        }
        for b in &r.lanes_updated {
            ctx.say(format!("  lane branch {b}: brought up to the remote's"));
        }
        for b in &r.lanes_kept {
            ctx.say(format!("  kept {b}"));
        }
        if !r.dry_run {
            if r.pushed.is_empty() {
                ctx.say("  pushed: nothing (the remote has everything)");
            } else {
                ctx.say(format!("  pushed: {}", r.pushed.join(", ")));
            }
        }
    }
}
