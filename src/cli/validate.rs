//! `validate-encoding`, `validate-tasks` and `list-legacy-features`: the
//! reference's health checks of mission files. Each checks one mission
//! (`--mission`, or the one the working directory implies) or, with `--all`,
//! every mission; a finding exits 1 unless `--fix` repaired it.

use clap::Args;
use serde_json::{json, Value};

use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::mission::Mission;
use crate::ops::{encoding, legacy_lanes, repair};

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
    ctx.warn_version_skew(project)?;
    ctx.render(&EncodingView {
        run: encoding::check_missions(project, &dirs, a.fix, backup)?,
        all: a.all,
    })
}

/// `validate-encoding`'s run, and whether it covered every mission.
struct EncodingView {
    run: encoding::Run,
    all: bool,
}

impl Render for EncodingView {
    fn json(&self) -> Value {
        let r = &self.run;
        json!({
            "ok": r.issues == r.fixed && r.errors == 0,
            "fix": r.fix, "backup": r.backup && r.fix,
            "files_with_issues": r.issues, "files_fixed": r.fixed, "errors": r.errors,
            "missions": r.reports,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let run = &self.run;
        let (issues, fixed, errors) = (run.issues, run.fixed, run.errors);
        if run.reports.is_empty() {
            ctx.say("No missions found.");
        }
        for r in &run.reports {
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
                if !run.fix {
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
        if self.all {
            ctx.say(format!(
                "Summary: {} mission(s), {issues} file(s) with issues, {fixed} fixed",
                run.reports.len()
            ));
        }
        if fixed > 0 {
            ctx.say(format!("✓ Fixed {fixed} file(s)."));
            if run.backup {
                ctx.say("The originals are kept as <file>.bak.");
            }
        } else if issues == 0 && errors == 0 {
            ctx.say("✓ All files are properly UTF-8 encoded.");
        }
    }

    fn verdict(&self) -> Result<()> {
        let r = &self.run;
        if r.errors > 0 {
            return Err(Error::user(format!(
                "{} file(s) could not be checked or fixed (listed above)",
                r.errors
            )));
        }
        if r.issues > r.fixed {
            return Err(
                Error::user(format!("found {} file(s) with encoding issues", r.issues)).with_hint(
                    "run it again with --fix to repair them (--no-backup skips the .bak copies)",
                ),
            );
        }
        Ok(())
    }
}

pub fn run_tasks(ctx: &Ctx, a: &TasksArgs) -> Result<()> {
    let dirs = missions(ctx, a.mission.as_deref(), a.all)?;
    let project = ctx.project()?;
    ctx.warn_version_skew(project)?;
    let agent = a.agent.clone().unwrap_or_else(|| "system".to_string());
    let pid = a
        .shell_pid
        .clone()
        .unwrap_or_else(|| std::process::id().to_string());
    let who = legacy_lanes::Repairer {
        agent: &agent,
        shell_pid: &pid,
    };
    ctx.render(&TasksView {
        run: legacy_lanes::check_missions(project, &dirs, a.all, a.fix.then_some(&who))?,
        all: a.all,
    })
}

/// `validate-tasks`'s run, and whether it covered every mission.
struct TasksView {
    run: legacy_lanes::Run,
    all: bool,
}

impl Render for TasksView {
    fn json(&self) -> Value {
        let r = &self.run;
        json!({
            "ok": r.found == r.fixed, "fix": r.fix,
            "mismatches_found": r.found, "mismatches_fixed": r.fixed,
            "missions": r.reports,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let (found, fixed) = (self.run.found, self.run.fixed);
        for r in &self.run.reports {
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
        if self.all {
            ctx.say(format!(
                "Summary: {} mission(s), {found} mismatch(es), {fixed} fixed",
                self.run.reports.len()
            ));
        }
        if fixed > 0 {
            ctx.say(format!("✓ Fixed {fixed} lane mismatch(es)."));
        } else if found == 0 {
            ctx.say("✓ All task metadata is consistent.");
        }
    }

    fn verdict(&self) -> Result<()> {
        let (found, fixed) = (self.run.found, self.run.fixed);
        if found > fixed {
            return Err(
                Error::user(format!("found {} lane mismatch(es)", found - fixed))
                    .with_hint("run it again with --fix to set each lane to its directory's"),
            );
        }
        Ok(())
    }
}

pub fn run_legacy(ctx: &Ctx, _a: &LegacyArgs) -> Result<()> {
    let project = ctx.project()?;
    ctx.render(&Legacy(repair::legacy_worktrees(&project.root)))
}

/// `list-legacy-features`: the pre-0.11 worktrees found.
struct Legacy(Vec<String>);

impl Render for Legacy {
    fn json(&self) -> Value {
        json!({ "legacy_worktrees": self.0, "count": self.0.len() })
    }

    fn human(&self, ctx: &Ctx) {
        let legacy = &self.0;
        if legacy.is_empty() {
            ctx.say("✓ No legacy worktrees found");
            ctx.say("Project is ready for the per-lane workspace layout");
            return;
        }
        ctx.say(format!("Legacy worktrees found: {}", legacy.len()));
        for w in legacy {
            ctx.say(format!("  - {w}"));
        }
        ctx.say("Action required (for each):");
        ctx.say("  Complete: spec-kitty merge --mission <mission>");
        ctx.say("  OR delete: git worktree remove .worktrees/<mission>");
    }
}
