//! `spec-kitty upgrade`.

use clap::Args;
use serde_json::json;

use super::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Show what would change without writing anything
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Ctx, args: &UpgradeArgs) -> Result<()> {
    let project = ctx.project()?;
    let up = crate::init::upgrade(project, args.dry_run)?;
    let r = &up.report;
    for w in &r.warnings {
        ctx.warn(w);
    }
    if ctx.json {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("result".into(), json!("success"));
            o.insert("dry_run".into(), json!(up.dry_run));
            o.insert("from_version".into(), json!(up.from_version));
            o.insert("to_version".into(), json!(up.to_version));
            o.insert("metadata_updated".into(), json!(up.metadata_updated));
            o.insert("spec_kitty_version".into(), json!(crate::VERSION));
        }
        ctx.json_out(&v);
        return Ok(());
    }
    let from = up.from_version.as_deref().unwrap_or("unknown");
    if up.metadata_updated {
        let note = if up.dry_run {
            " (would be updated)"
        } else {
            ""
        };
        ctx.say(format!(
            "Project version: {from} -> {}{note}",
            up.to_version
        ));
    } else {
        ctx.say(format!("Project version: {} (current)", up.to_version));
    }
    let verb = if up.dry_run {
        "would be written"
    } else {
        "written"
    };
    ctx.say(format!(
        "Slash commands for {}: {} {verb}, {} up to date",
        if r.agents.is_empty() {
            "no agents".to_string()
        } else {
            r.agents.join(", ")
        },
        r.files_written.len(),
        r.files_unchanged.len()
    ));
    for f in &r.files_written {
        ctx.say(format!("  + {f}"));
    }
    for f in &r.files_removed {
        ctx.say(format!("  - {f} (no longer shipped)"));
    }
    if !r.files_skipped_user_modified.is_empty() {
        ctx.say("Left alone because you edited them:");
        for f in &r.files_skipped_user_modified {
            ctx.say(format!("  ! {f}"));
        }
    }
    if !r.gitignore_added.is_empty() {
        ctx.say(format!(
            ".gitignore: {} entries {}added",
            r.gitignore_added.len(),
            if up.dry_run { "would be " } else { "" }
        ));
    }
    let nothing = !up.metadata_updated
        && r.files_written.is_empty()
        && r.files_removed.is_empty()
        && r.gitignore_added.is_empty();
    if nothing {
        ctx.say("Already up to date.");
    }
    if up.dry_run {
        ctx.say("Dry run: nothing was written.");
    }
    Ok(())
}
