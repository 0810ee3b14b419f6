//! `spec-kitty agent status ...`: the event log and its snapshot (emit,
//! materialize, doctor, validate, migrate, reconcile). Each calls one
//! operation of `crate::ops` and renders its outcome.

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::cli::output::{error_json, style, Render};
use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::ops::{materialize, status_doctor, status_emit, status_migrate, status_validate};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum StatusCommand {
    /// Record one lane transition of a work package in the event log
    Emit(EmitArgs),
    /// Rebuild status.json from the event log
    Materialize(MissionArg),
    /// Health checks: stale claims, leftover lane worktrees, snapshot drift (exit 1 on issues)
    Doctor(DoctorArgs),
    /// Check the event log and snapshot: fields, legal moves, done evidence, drift (exit 1 on errors)
    Validate(MissionArg),
    /// Record the frontmatter `lane:` of WPs the event log does not know yet
    Migrate(MigrateArgs),
    /// Compare each WP's frontmatter `lane:` with the log; --apply rewrites the frontmatter
    Reconcile(ReconcileArgs),
}

pub fn run(ctx: &Ctx, cmd: StatusCommand) -> Result<()> {
    match cmd {
        StatusCommand::Emit(a) => run_emit(ctx, &a),
        StatusCommand::Materialize(a) => run_materialize(ctx, &a),
        StatusCommand::Doctor(a) => run_doctor(ctx, &a),
        StatusCommand::Validate(a) => run_validate(ctx, &a),
        StatusCommand::Migrate(a) => run_migrate(ctx, &a),
        StatusCommand::Reconcile(a) => run_reconcile(ctx, &a),
    }
}

#[derive(Debug, Args)]
pub struct MissionArg {
    /// Mission: 079, 079-slug, slug or mission_id (default: inferred from the working directory)
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
}

#[derive(Debug, Args)]
pub struct EmitArgs {
    /// Work package id, e.g. WP01
    pub wp_id: String,
    /// Target lane: planned, claimed, in_progress, for_review, in_review, approved, done, blocked, canceled
    #[arg(long)]
    pub to: String,
    /// Who makes the transition (recorded as the event's actor)
    #[arg(long)]
    pub actor: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Skip the lifecycle rules (needs --reason)
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why a forced transition is needed (recorded in the event)
    #[arg(long)]
    pub reason: Option<String>,
    /// Review evidence as a JSON object, e.g. '{"review": {"reviewer": "alice", "verdict": "approved", "reference": "PR#1"}}'
    #[arg(long, value_name = "JSON")]
    pub evidence_json: Option<String>,
    /// Review feedback reference (needed when sending work back)
    #[arg(long)]
    pub review_ref: Option<String>,
    /// The workspace the work package runs in (needed for claimed -> in_progress)
    #[arg(long)]
    pub workspace_context: Option<String>,
    /// State that the subtasks are complete (recorded on a move to for_review;
    /// tasks.md is checked all the same)
    #[arg(long)]
    pub subtasks_complete: bool,
    /// State that implementation evidence exists (recorded on a move to
    /// for_review; the lane branch is checked all the same)
    #[arg(long)]
    pub implementation_evidence_present: bool,
    /// worktree or direct_repo
    #[arg(long, default_value = "worktree")]
    pub execution_mode: String,
}

fn run_emit(ctx: &Ctx, a: &EmitArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    let e = status_emit::emit(
        project,
        &mission,
        &status_emit::EmitRequest {
            wp_id: a.wp_id.clone(),
            to: a.to.clone(),
            actor: a.actor.clone(),
            force: a.force,
            reason: a.reason.clone(),
            evidence_json: a.evidence_json.clone(),
            review_ref: a.review_ref.clone(),
            workspace_context: a.workspace_context.clone(),
            subtasks_complete: a.subtasks_complete,
            implementation_evidence_present: a.implementation_evidence_present,
            execution_mode: a.execution_mode.clone(),
        },
    )?;
    ctx.render(&e)
}

impl Render for status_emit::Emitted {
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let short: String = self.event_id.chars().take(12).collect();
        ctx.say(format!(
            "{} {}: {} -> {} (event: {short}...)",
            ctx.paint("OK", style::SUCCESS),
            self.wp_id,
            self.from_lane,
            self.to_lane
        ));
    }
}

fn run_materialize(ctx: &Ctx, a: &MissionArg) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&Materialized(materialize::materialize(
        project, &mission, true,
    )?))
}

/// A rebuilt status.json, as `agent status materialize` shows it: the
/// snapshot itself.
struct Materialized(materialize::Materialized);

impl Render for Materialized {
    fn warnings(&self) -> Vec<String> {
        self.0.skipped.iter().map(|w| w.to_string()).collect()
    }

    fn json(&self) -> Value {
        let m = &self.0;
        let mut v = m.snapshot.to_json(&m.mission_number, &m.mission_type);
        v["mission_slug"] = json!(m.mission_slug);
        v
    }

    fn human(&self, ctx: &Ctx) {
        let (m, snap) = (&self.0, &self.0.snapshot);
        ctx.say(format!(
            "{} {}: {} events -> {} WPs",
            ctx.paint("Materialized", style::SUCCESS),
            m.mission_slug,
            snap.event_count,
            snap.work_packages.len()
        ));
        let parts: Vec<String> = snap
            .summary
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(l, n)| format!("{l}: {n}"))
            .collect();
        if !parts.is_empty() {
            ctx.say(format!("  {}", parts.join(", ")));
        }
    }
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Days a work package may stay claimed before it is reported
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub stale_claimed_days: i64,
    /// Days a work package may stay in_progress before it is reported
    #[arg(long, default_value_t = 14, value_name = "DAYS")]
    pub stale_in_progress_days: i64,
}

fn run_doctor(ctx: &Ctx, a: &DoctorArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&status_doctor::doctor(
        project,
        &mission,
        status_doctor::Thresholds {
            claimed_days: a.stale_claimed_days,
            in_progress_days: a.stale_in_progress_days,
        },
        chrono::Utc::now(),
    )?)
}

impl Render for status_doctor::DoctorReport {
    fn json(&self) -> Value {
        match self.verdict() {
            Ok(()) => serde_json::to_value(self).unwrap_or_default(),
            Err(e) => error_json(&e),
        }
    }

    fn human(&self, ctx: &Ctx) {
        let r = self;
        ctx.say(ctx.bold("Installation:"));
        for c in &r.global_runtime {
            let mark = if c.passed {
                ctx.paint("✓", style::GOOD)
            } else if c.severity == "warning" {
                ctx.paint("⚠", style::CAUTION)
            } else {
                ctx.paint("✗", style::BAD)
            };
            ctx.say(format!("  {mark} {}", c.message));
        }
        ctx.say("");
        ctx.say(ctx.bold(&format!("Mission Status: {}", r.mission_slug)));
        if r.findings.is_empty() {
            ctx.say(format!("  {}", ctx.paint("Healthy", style::GOOD)));
        }
        for f in &r.findings {
            ctx.say(format!(
                "  {} [{}] {}{}",
                ctx.paint(&f.severity, style::CAUTION),
                f.category,
                f.wp_id
                    .as_deref()
                    .map(|w| format!("{w}: "))
                    .unwrap_or_default(),
                f.message
            ));
            ctx.say(format!("      -> {}", f.recommended_action));
        }
    }

    /// Issues found exit 1; under --json the report travels in the error document.
    fn verdict(&self) -> Result<()> {
        if self.healthy {
            return Ok(());
        }
        let n = self.findings.len() + self.global_runtime.iter().filter(|c| !c.passed).count();
        Err(
            Error::user(format!("{}: {n} issue(s) found", self.mission_slug))
                .with_hint("follow the action listed under each issue")
                .with_details(serde_json::to_value(self).unwrap_or_default()),
        )
    }
}

fn run_validate(ctx: &Ctx, a: &MissionArg) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&status_validate::validate(project, &mission)?)
}

impl Render for status_validate::StatusValidation {
    fn json(&self) -> Value {
        match self.verdict() {
            Ok(()) => serde_json::to_value(self).unwrap_or_default(),
            Err(e) => error_json(&e),
        }
    }

    fn human(&self, ctx: &Ctx) {
        let r = self;
        ctx.say(ctx.bold(&format!("Status Validation: {}", r.mission_slug)));
        ctx.say("-".repeat(50));
        if r.event_count == 0 {
            ctx.say("No events to validate.");
        }
        if !r.errors.is_empty() {
            ctx.say(ctx.paint(&format!("Errors: {}", r.errors.len()), style::BAD));
            for e in &r.errors {
                ctx.say(format!("  - {e}"));
            }
        }
        if !r.warnings.is_empty() {
            ctx.say(ctx.paint(&format!("Warnings: {}", r.warnings.len()), style::CAUTION));
            for w in &r.warnings {
                ctx.say(format!("  - {w}"));
            }
        }
        if !r.passed {
            return;
        }
        if r.warnings.is_empty() {
            ctx.say(format!("Result: {}", ctx.paint("PASS", style::GOOD)));
        } else {
            ctx.say(format!(
                "Result: {} ({} warning(s))",
                ctx.paint("PASS", style::GOOD),
                r.warnings.len()
            ));
        }
    }

    /// Errors exit 1; under --json the report travels in the error document.
    fn verdict(&self) -> Result<()> {
        if self.passed {
            return Ok(());
        }
        Err(
            Error::user(format!("{}: Result: FAIL ({} error(s))", self.mission_slug, self.error_count))
                .with_hint(format!(
                    "a drifted status.json is rebuilt by `spec-kitty agent status materialize --mission {}`; a bad event is settled by a forced move that says why",
                    self.mission_slug
                ))
                .with_details(serde_json::to_value(self).unwrap_or_default()),
        )
    }
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// One mission: 079, 079-slug, slug or mission_id
    #[arg(long, short = 'f', alias = "feature", conflicts_with = "all")]
    pub mission: Option<String>,
    /// Every mission in kitty-specs/
    #[arg(long)]
    pub all: bool,
    /// Show what would be recorded; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Actor of the recorded events
    #[arg(long, default_value = "migration")]
    pub actor: String,
}

fn run_migrate(ctx: &Ctx, a: &MigrateArgs) -> Result<()> {
    let missions = if a.all {
        crate::mission::list(ctx.project()?)?
    } else {
        vec![ctx.mission(a.mission.as_deref())?.1]
    };
    let project = ctx.project()?;
    ctx.warn_version_skew(project)?;
    ctx.render(&status_migrate::migrate(
        project, &missions, &a.actor, a.dry_run,
    )?)
}

impl Render for status_migrate::MigrationReport {
    fn json(&self) -> Value {
        match self.verdict() {
            Ok(()) => serde_json::to_value(self).unwrap_or_default(),
            Err(e) => error_json(&e),
        }
    }

    fn human(&self, ctx: &Ctx) {
        let r = self;
        let title = if r.dry_run {
            "Migration preview (dry-run, nothing written)"
        } else {
            "Migration results"
        };
        ctx.say(ctx.bold(title));
        for f in &r.features {
            let aliases = f.wp_details.iter().filter(|w| w.alias_resolved).count();
            ctx.say(format!(
                "  {:<32} {:<9} WPs: {:>2}  aliases resolved: {aliases}{}",
                f.mission_slug,
                f.status,
                f.wp_count,
                f.error
                    .as_deref()
                    .map(|e| format!("  {e}"))
                    .unwrap_or_default()
            ));
            for w in &f.wp_details {
                ctx.say(format!(
                    "    {} {} -> {}",
                    w.wp_id, w.original_lane, w.canonical_lane
                ));
            }
        }
        let s = &r.summary;
        ctx.say(format!(
            "Migrated: {}  Skipped: {}  Failed: {}  Aliases resolved: {}",
            s.total_migrated, s.total_skipped, s.total_failed, s.aliases_resolved
        ));
    }

    /// A mission that could not be migrated exits 1; under --json the report
    /// travels in the error document.
    fn verdict(&self) -> Result<()> {
        let failed = self.summary.total_failed;
        if failed == 0 {
            return Ok(());
        }
        Err(
            Error::user(format!("{failed} mission(s) could not be migrated"))
                .with_hint("fix the frontmatter lane named above and run migrate again")
                .with_details(serde_json::to_value(self).unwrap_or_default()),
        )
    }
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, short = 'f', alias = "feature")]
    pub mission: Option<String>,
    /// Only report (the default)
    #[arg(long, overrides_with = "apply")]
    pub dry_run: bool,
    /// Rewrite each drifted frontmatter `lane:` to the log's lane
    #[arg(long, overrides_with = "dry_run")]
    pub apply: bool,
    /// Other repositories to scan: not supported (refused with a reason)
    #[arg(long, short = 't', value_name = "PATH")]
    pub target_repo: Vec<std::path::PathBuf>,
}

fn run_reconcile(ctx: &Ctx, a: &ReconcileArgs) -> Result<()> {
    if !a.target_repo.is_empty() {
        return Err(Error::user(
            "--target-repo: this build reads and writes only the project it runs in",
        )
        .with_hint("run `spec-kitty agent status reconcile` inside each repository instead"));
    }
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&status_migrate::reconcile(project, &mission, a.apply)?)
}

impl Render for status_migrate::ReconcileReport {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let r = self;
        if r.drift.is_empty() {
            ctx.say(format!(
                "{}: every frontmatter lane agrees with the event log",
                r.mission_slug
            ));
            return;
        }
        for d in &r.drift {
            let what = if d.fixed { "rewritten" } else { "differs" };
            ctx.say(format!(
                "  {}: frontmatter lane {} {what}; the log says {} ({})",
                d.wp_id,
                d.frontmatter_lane,
                d.log_lane,
                ctx.rel(&d.file)
            ));
        }
        if r.dry_run {
            ctx.say(
                "Dry run: nothing written. --apply rewrites these frontmatter lanes to the log's.",
            );
        }
    }
}
