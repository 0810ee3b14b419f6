//! `agent mission record` (commit a mission's own state on demand) and
//! `agent mission repair-status` (mend a status log a text merge broke).

use clap::Args;
use serde_json::json;

use crate::cli::output::{style, Render};
use crate::cli::Ctx;
use crate::error::Result;
use crate::merge::record;
use crate::ops::repair_status;

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Commit message (default: "Record mission <slug> state")
    #[arg(long, short = 'm')]
    pub message: Option<String>,
}

/// Commit everything under kitty-specs/<mission>/ that differs from the
/// current branch, with `.kittify/` and `.gitattributes` (what a fresh clone
/// needs), and nothing else.
pub fn run_record(ctx: &Ctx, a: &RecordArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    let message = a
        .message
        .clone()
        .unwrap_or_else(|| format!("Record mission {} state", mission.slug));
    ctx.render(&record::record_mission(project, &mission, None, &message)?)
}

impl Render for record::Recorded {
    fn json(&self) -> serde_json::Value {
        json!({
            "result": "success",
            "mission_slug": self.mission_slug,
            "branch": self.branch,
            "commit": self.commit,
            "files": self.files,
        })
    }

    fn human(&self, ctx: &Ctx) {
        match &self.commit {
            Some(c) => {
                ctx.say(format!(
                    "{} {} on {} ({}): {} file(s)",
                    ctx.paint("Recorded", style::SUCCESS),
                    self.mission_slug,
                    self.branch,
                    crate::git::short(c),
                    self.files.len()
                ));
                for f in &self.files {
                    ctx.say(format!("  {f}"));
                }
            }
            None => ctx.say(format!(
                "Nothing to record: kitty-specs/{}/ matches {}.",
                self.mission_slug, self.branch
            )),
        }
    }
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Report what would change; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Drop conflict-marker lines and duplicate events from status.events.jsonl
/// (under the status lock), then rebuild status.json ([`repair_status`]).
pub fn run_repair(ctx: &Ctx, a: &RepairArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&repair_status::repair(project, &mission, a.dry_run)?)
}

impl Render for repair_status::Repaired {
    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.report).unwrap_or_default();
        if let serde_json::Value::Object(o) = &mut v {
            o.insert("result".into(), json!("success"));
            o.insert("mission_slug".into(), json!(self.mission_slug));
            o.insert("dry_run".into(), json!(self.dry_run));
            o.insert("unmerged_in_index".into(), json!(self.unmerged));
        }
        v
    }

    fn human(&self, ctx: &Ctx) {
        let report = &self.report;
        let log = ctx.rel(&self.events_path);
        let verb = if self.dry_run {
            "Would repair"
        } else {
            "Repaired"
        };
        if self.unmerged {
            ctx.say(format!(
                "{} {log}: unmerged in the git index (its merge driver did not run); the union of both sides holds {} event(s).",
                ctx.paint(verb, style::SUCCESS),
                report.events
            ));
            if !self.dry_run {
                ctx.say(format!(
                    "status.json rebuilt from it. Now `git add {log}` and status.json, then commit the merge."
                ));
            }
        } else if report.changed {
            ctx.say(format!(
                "{} {log}: {} conflict-marker line(s) and {} duplicate event(s) dropped; {} event(s) kept.",
                ctx.paint(verb, style::SUCCESS),
                report.markers_dropped,
                report.duplicates_dropped,
                report.events
            ));
            for line in &report.torn_lines_dropped {
                ctx.say(format!(
                    "  line {line}: an event cut short (a crash or a full disk) was dropped; its move did not happen"
                ));
            }
            if !self.dry_run {
                ctx.say("status.json rebuilt from it. If a git merge is in progress: `git add` both files, then commit.");
            }
        } else {
            let then = if self.dry_run {
                "nothing to repair"
            } else {
                "status.json rebuilt from it"
            };
            ctx.say(format!(
                "{log} is sound ({} events); {then}.",
                report.events
            ));
        }
    }
}
