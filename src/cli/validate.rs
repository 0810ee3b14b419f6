//! `validate-encoding`, `validate-tasks` and `list-legacy-features`: the
//! reference's health checks of mission files. Each checks one mission
//! (`--mission`, or the one the working directory implies) or, with `--all`,
//! every mission; a finding exits 1 unless `--fix` repaired it.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::mission::Mission;
use crate::ops::{encoding, legacy_lanes, repair};
use crate::project::Project;

#[derive(Debug, Args)]
pub struct EncodingArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Replace the characters found (and decode Windows-1252 files to UTF-8)
    #[arg(long)]
    pub fix: bool,
    /// Check every mission, not just one
    #[arg(long)]
    pub all: bool,
    /// Keep a `<file>.bak` copy of each file before fixing it (the default)
    #[arg(long, overrides_with = "no_backup")]
    pub backup: bool,
    /// Fix without `.bak` copies
    #[arg(long, overrides_with = "backup")]
    pub no_backup: bool,
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Set each mismatched `lane` to its directory's lane
    #[arg(long)]
    pub fix: bool,
    /// Check every mission (lane worktrees' copies included), not just one
    #[arg(long)]
    pub all: bool,
    /// Agent named in the repair's activity-log entry [default: system]
    #[arg(long)]
    pub agent: Option<String>,
    /// Shell PID named in the repair's activity-log entry [default: this process]
    #[arg(long)]
    pub shell_pid: Option<String>,
}

#[derive(Debug, Args)]
pub struct LegacyArgs {}

/// The missions a command covers.
fn missions(ctx: &Ctx, selector: Option<&str>, all: bool) -> Result<Vec<Mission>> {
    if !all {
        let (_, m) = ctx.mission(selector)?;
        return Ok(vec![m]);
    }
    Ok(crate::mission::list(ctx.project()?)?)
}

pub fn run_encoding(ctx: &Ctx, a: &EncodingArgs) -> Result<()> {
    let backup = !a.no_backup;
    let dirs = missions(ctx, a.mission.as_deref(), a.all)?;
    let project = ctx.project()?;
    ctx.warn_version_skew(project);
    let mut reports = Vec::new();
    for m in &dirs {
        reports.push(encoding::check_mission(project, m, a.fix, backup)?);
    }
    let issues: usize = reports
        .iter()
        .map(encoding::MissionReport::with_issues)
        .sum();
    let fixed: usize = reports.iter().map(encoding::MissionReport::fixed).sum();
    let errors: usize = reports.iter().map(encoding::MissionReport::errors).sum();
    if ctx.json {
        ctx.json_out(&json!({
            "ok": issues == fixed && errors == 0,
            "fix": a.fix, "backup": backup && a.fix,
            "files_with_issues": issues, "files_fixed": fixed, "errors": errors,
            "missions": reports,
        }));
    } else {
        if dirs.is_empty() {
            ctx.say("No missions found.");
        }
        for r in &reports {
            ctx.say(format!("Checking: {}", r.mission_slug));
            if r.files.is_empty() {
                ctx.say("  ✓ all Markdown files are clean UTF-8");
            }
            for f in &r.files {
                let state = match (&f.error, f.fixed) {
                    (Some(e), _) => format!("error: {e}"),
                    (None, true) => "fixed".to_string(),
                    (None, false) => "needs fix".to_string(),
                };
                let what = match (f.not_utf8, f.issues.len()) {
                    (true, n) => format!("not UTF-8 (Windows-1252), {n} character(s)"),
                    (false, n) => format!("{n} character(s)"),
                };
                ctx.say(format!("  {}  {what}  {state}", f.path));
                if !a.fix {
                    for i in f.issues.iter().take(5) {
                        ctx.say(format!(
                            "    line {}, col {}: '{}' ({}) -> '{}'",
                            i.line, i.column, i.character, i.codepoint, i.replacement
                        ));
                    }
                    if f.issues.len() > 5 {
                        ctx.say(format!("    ... and {} more", f.issues.len() - 5));
                    }
                }
            }
        }
        if a.all {
            ctx.say(format!(
                "Summary: {} mission(s), {issues} file(s) with issues, {fixed} fixed",
                dirs.len()
            ));
        }
        if fixed > 0 {
            ctx.say(format!("✓ Fixed {fixed} file(s)."));
            if backup {
                ctx.say("The originals are kept as <file>.bak.");
            }
        } else if issues == 0 && errors == 0 {
            ctx.say("✓ All files are properly UTF-8 encoded.");
        }
    }
    if errors > 0 {
        return Err(Error::user(format!(
            "{errors} file(s) could not be checked or fixed (listed above)"
        )));
    }
    if issues > fixed {
        return Err(
            Error::user(format!("found {issues} file(s) with encoding issues")).with_hint(
                "run it again with --fix to repair them (--no-backup skips the .bak copies)",
            ),
        );
    }
    Ok(())
}

pub fn run_tasks(ctx: &Ctx, a: &TasksArgs) -> Result<()> {
    let dirs = missions(ctx, a.mission.as_deref(), a.all)?;
    let project = ctx.project()?;
    ctx.warn_version_skew(project);
    let copies = if a.all {
        worktree_missions(project)
    } else {
        Vec::new()
    };
    let agent = a.agent.clone().unwrap_or_else(|| "system".to_string());
    let pid = a
        .shell_pid
        .clone()
        .unwrap_or_else(|| std::process::id().to_string());
    let who = legacy_lanes::Repairer {
        agent: &agent,
        shell_pid: &pid,
    };
    let mut reports = Vec::new();
    for m in &dirs {
        reports.push(legacy_lanes::check_mission(
            project,
            m,
            a.fix.then_some(&who),
        )?);
    }
    for (slug, dir) in &copies {
        reports.push(legacy_lanes::check_dir(slug, dir, a.fix.then_some(&who))?);
    }
    let found: usize = reports.iter().map(|r| r.mismatches.len()).sum();
    let fixed: usize = reports.iter().map(legacy_lanes::MissionReport::fixed).sum();
    if ctx.json {
        ctx.json_out(&json!({
            "ok": found == fixed, "fix": a.fix,
            "mismatches_found": found, "mismatches_fixed": fixed,
            "missions": reports,
        }));
    } else {
        for r in &reports {
            ctx.say(format!("Checking: {}", r.mission_slug));
            if r.mismatches.is_empty() {
                ctx.say("  ✓ no lane mismatches");
            }
            for m in &r.mismatches {
                let state = match (&m.error, m.fixed) {
                    (Some(e), _) => format!("error: {e}"),
                    (None, true) => "fixed".to_string(),
                    (None, false) => "needs fix".to_string(),
                };
                ctx.say(format!(
                    "  {}  in {}/ but lane: {}  {state}",
                    m.file,
                    m.expected_lane,
                    m.actual_lane.as_deref().unwrap_or("(none)")
                ));
            }
        }
        if a.all {
            ctx.say(format!(
                "Summary: {} mission(s), {found} mismatch(es), {fixed} fixed",
                reports.len()
            ));
        }
        if fixed > 0 {
            ctx.say(format!("✓ Fixed {fixed} lane mismatch(es)."));
        } else if found == 0 {
            ctx.say("✓ All task metadata is consistent.");
        }
    }
    if found > fixed {
        return Err(
            Error::user(format!("found {} lane mismatch(es)", found - fixed))
                .with_hint("run it again with --fix to set each lane to its directory's"),
        );
    }
    Ok(())
}

/// The mission directories inside lane worktrees (`.worktrees/*/kitty-specs/*`).
fn worktree_missions(project: &Project) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(project.worktrees_dir()) else {
        return out;
    };
    let mut wts: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    wts.sort();
    for wt in wts {
        let Ok(specs) = std::fs::read_dir(wt.join("kitty-specs")) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = specs
            .flatten()
            .map(|e| e.path())
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
            .collect();
        dirs.sort();
        for d in dirs {
            let name = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let wt_name = wt
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((format!("{name} (in .worktrees/{wt_name})"), d));
        }
    }
    out
}

pub fn run_legacy(ctx: &Ctx, _a: &LegacyArgs) -> Result<()> {
    let project = ctx.project()?;
    let legacy = repair::legacy_worktrees(&project.root);
    if ctx.json {
        ctx.json_out(&json!({ "legacy_worktrees": legacy, "count": legacy.len() }));
        return Ok(());
    }
    if legacy.is_empty() {
        ctx.say("✓ No legacy worktrees found");
        ctx.say("Project is ready for the per-lane workspace layout");
        return Ok(());
    }
    ctx.say(format!("Legacy worktrees found: {}", legacy.len()));
    for w in &legacy {
        ctx.say(format!("  - {w}"));
    }
    ctx.say("Action required (for each):");
    ctx.say("  Complete: spec-kitty merge --mission <mission>");
    ctx.say("  OR delete: git worktree remove .worktrees/<mission>");
    Ok(())
}
