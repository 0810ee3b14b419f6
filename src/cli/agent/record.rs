//! `agent mission record` (commit a mission's own state on demand) and
//! `agent mission repair-status` (mend a status log a text merge broke).

use clap::Args;
use serde_json::json;

use crate::cli::output::style;
use crate::cli::Ctx;
use crate::error::Result;
use crate::fsutil;
use crate::merge::record;
use crate::status::{logmerge, StatusStore};

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
    let r = record::record_mission(project, &mission, None, &message)?;
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success",
            "mission_slug": r.mission_slug,
            "branch": r.branch,
            "commit": r.commit,
            "files": r.files,
        }));
        return Ok(());
    }
    match &r.commit {
        Some(c) => {
            ctx.say(format!(
                "{} {} on {} ({}): {} file(s)",
                ctx.paint("Recorded", style::SUCCESS),
                r.mission_slug,
                r.branch,
                crate::merge::short_str(c),
                r.files.len()
            ));
            for f in &r.files {
                ctx.say(format!("  {f}"));
            }
        }
        None => ctx.say(format!(
            "Nothing to record: kitty-specs/{}/ matches {}.",
            r.mission_slug, r.branch
        )),
    }
    Ok(())
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
/// (under the status lock), then rebuild status.json from it.
pub fn run_repair(ctx: &Ctx, a: &RepairArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    let store = StatusStore::for_mission(project, &mission);
    let report = {
        let _lock = fsutil::FileLock::acquire(
            &store.lock_path,
            fsutil::LOCK_TIMEOUT,
            &format!("the status log of {}", mission.slug),
        )?;
        let bytes = match std::fs::read(&store.events_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(crate::Error::io("read", &store.events_path, e)),
        };
        let label = store.events_path.display().to_string();
        // git left the log unmerged (its driver did not run): the working
        // file may hold one side only; the log is the union of the stages.
        let union = crate::status::unmerged::union_if_unmerged(&store.events_path)?;
        let unmerged = union.is_some();
        let (text, mut report) =
            logmerge::repair(&label, union.as_deref().map_or(&bytes[..], str::as_bytes))?;
        report.changed = text.as_bytes() != &bytes[..];
        if report.changed && !a.dry_run {
            fsutil::atomic_write(&store.events_path, text.as_bytes())?;
        }
        (report, unmerged)
    };
    let (report, unmerged) = report;
    if !a.dry_run {
        store.materialize()?;
    }
    if ctx.json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        if let serde_json::Value::Object(o) = &mut v {
            o.insert("result".into(), json!("success"));
            o.insert("mission_slug".into(), json!(mission.slug));
            o.insert("dry_run".into(), json!(a.dry_run));
            o.insert("unmerged_in_index".into(), json!(unmerged));
        }
        ctx.json_out(&v);
        return Ok(());
    }
    let verb = if a.dry_run {
        "Would repair"
    } else {
        "Repaired"
    };
    if unmerged {
        ctx.say(format!(
            "{} {}: unmerged in the git index (its merge driver did not run); the union of both sides holds {} event(s).",
            ctx.paint(verb, style::SUCCESS),
            ctx.rel(&store.events_path),
            report.events
        ));
        if !a.dry_run {
            ctx.say(format!(
                "status.json rebuilt from it. Now `git add {}` and status.json, then commit the merge.",
                ctx.rel(&store.events_path)
            ));
        }
    } else if report.changed {
        ctx.say(format!(
            "{} {}: {} conflict-marker line(s) and {} duplicate event(s) dropped; {} event(s) kept.",
            ctx.paint(verb, style::SUCCESS),
            ctx.rel(&store.events_path),
            report.markers_dropped,
            report.duplicates_dropped,
            report.events
        ));
        for line in &report.torn_lines_dropped {
            ctx.say(format!(
                "  line {line}: an event cut short (a crash or a full disk) was dropped; its move did not happen"
            ));
        }
        if !a.dry_run {
            ctx.say("status.json rebuilt from it. If a git merge is in progress: `git add` both files, then commit.");
        }
    } else {
        let then = if a.dry_run {
            "nothing to repair"
        } else {
            "status.json rebuilt from it"
        };
        ctx.say(format!(
            "{} is sound ({} events); {then}.",
            ctx.rel(&store.events_path),
            report.events
        ));
    }
    Ok(())
}
