//! `finalize-tasks`, `list-dependents`, `mark-status`: the dependency graph.

use crate::cli::output::{style, Render};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::lanes::Strategy;
use crate::ops::{finalize, mark_status};
use crate::tasks_md::wp;

/// The `agent tasks` subcommands about the dependency graph.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum GraphCommand {
    /// Same as `agent mission finalize-tasks`
    FinalizeTasks(FinalizeArgs),
    /// List the work packages that depend on a work package
    ListDependents(DependentsArgs),
    /// Tick or untick subtask checkboxes (T001 ...) in tasks.md
    MarkStatus(MarkArgs),
    /// Check tasks, WP files, lanes and status for consistency; writes nothing
    ValidateWorkflow(ValidateArgs),
}

pub fn run(ctx: &Ctx, cmd: GraphCommand) -> Result<()> {
    match cmd {
        GraphCommand::FinalizeTasks(a) => run_finalize(ctx, &a),
        GraphCommand::ListDependents(a) => run_dependents(ctx, &a),
        GraphCommand::MarkStatus(a) => run_mark(ctx, &a),
        GraphCommand::ValidateWorkflow(a) => run_validate(ctx, &a),
    }
}

// Validate tasks.md and the WP files, complete their frontmatter, seed the
// status log and compute lanes.json. Never commits.
#[derive(Debug, Args)]
pub struct FinalizeArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Run every check and report what would change; write nothing
    #[arg(long)]
    pub validate_only: bool,
    /// How work packages are grouped into lanes [default: `lane_strategy` in
    /// .kittify/config.yaml, else parallel]. `parallel`: lanes follow dependency
    /// chains, so the mission can finish in as many steps as its longest chain;
    /// a WP whose dependency is in another lane gets that work merged into its
    /// lane when it starts. `components`: every dependency joins one lane, as
    /// the Python spec-kitty 3.1.1 plans them; choose it when teammates run the
    /// reference on the same mission, or you want no cross-lane merges
    #[arg(long, value_name = "STRATEGY", value_parser = ["parallel", "components"])]
    pub lane_strategy: Option<String>,
}

pub fn run_finalize(ctx: &Ctx, a: &FinalizeArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    let strategy = match &a.lane_strategy {
        Some(s) => Strategy::parse(s).unwrap_or_default(),
        None => Strategy::configured(project)?,
    };
    let r = finalize::finalize(project, &mission, a.validate_only, strategy)?;
    for w in &r.warnings {
        ctx.warn(w);
    }
    if ctx.json {
        let rel = |p: &std::path::Path| finalize::rel(&project.root, p);
        let lanes = if r.wp_count == 0 {
            json!({"computed": false})
        } else {
            json!(r.lanes)
        };
        // The reference's validate-only keys: what finalizing would seed and
        // compute, and which WP files it would leave or preserve.
        let preview = |v: Value| if a.validate_only { v } else { Value::Null };
        ctx.json_out(&json!({
            "validation": preview(json!({
                "bootstrap_preview": r.bootstrap,
                "lanes_preview": lanes,
            })),
            "unchanged": preview(json!(r.unchanged_wps)),
            "would_preserve": preview(json!(r.preserved_wps)),
            "message": if a.validate_only {
                "Validation passed; run without --validate-only to write the work packages and lanes."
            } else {
                "Finalized."
            },
            "result": if a.validate_only { "validation_passed" } else { "success" },
            "mission_slug": mission.slug,
            "wp_count": r.wp_count,
            "updated_wp_count": r.modified_wps.len(),
            "modified_wps": r.modified_wps,
            "unchanged_wps": r.unchanged_wps,
            "preserved_wps": r.preserved_wps,
            "validate_only": a.validate_only,
            "would_modify": if a.validate_only { json!(r.would_modify) } else { json!([]) },
            "tasks_dir": mission.tasks_dir(),
            "commit_created": false,
            "commit_hash": null,
            "files_written": r.files_written.iter().map(|p| rel(p)).collect::<Vec<_>>(),
            "dependencies_parsed": r.dependencies_parsed,
            "requirement_refs_parsed": r.requirement_refs_parsed,
            "bootstrap": r.bootstrap,
            "lanes": lanes,
            "ownership_warnings": [],
            "warnings": r.warnings,
            "spec_kitty_version": crate::VERSION,
        }));
        return Ok(());
    }
    let verb = if a.validate_only {
        "would update"
    } else {
        "updated"
    };
    if r.wp_count == 0 {
        // Finalize's warning (on stderr, above) already said there is nothing
        // to finalize and what to write first; saying it again on stdout
        // would tell a person the same thing twice.
        return Ok(());
    }
    ctx.say(format!(
        "{} {} work packages of {}",
        ctx.paint(
            if a.validate_only {
                "Checked"
            } else {
                "Finalized"
            },
            style::SUCCESS
        ),
        r.wp_count,
        ctx.bold(&mission.slug)
    ));
    for (wp, deps) in &r.dependencies_parsed {
        let deps = if deps.is_empty() {
            "none".to_string()
        } else {
            deps.join(", ")
        };
        ctx.say(format!("  {wp}  deps: {deps}"));
    }
    if r.modified_wps.is_empty() {
        ctx.say("  WP files unchanged");
    } else {
        ctx.say(format!("  {verb}: {}", r.modified_wps.join(", ")));
    }
    ctx.say(format!(
        "  status: {} seeded, {} already tracked",
        r.bootstrap.newly_seeded, r.bootstrap.already_initialized
    ));
    ctx.say(format!(
        "  lanes: {} ({}){}",
        r.lanes.count,
        r.lanes.lane_ids.join(", "),
        if r.lanes.changed { "" } else { ", unchanged" }
    ));
    if let Some(strategy) = r.lanes.strategy {
        ctx.say(format!(
            "  plan: {}, {} step(s) with one agent per lane (critical path {}), {} cross-lane hand-off(s)",
            strategy.as_str(),
            r.lanes
                .makespan
                .map(|m| m.to_string())
                .unwrap_or_else(|| "?".into()),
            r.lanes.critical_path,
            r.lanes.handoffs
        ));
    }
    if a.validate_only {
        ctx.say("  --validate-only: nothing was written");
    } else {
        ctx.say("  nothing was committed");
    }
    Ok(())
}

// Work packages that depend on WP, directly and transitively.
#[derive(Debug, Args)]
pub struct DependentsArgs {
    /// Work package id, e.g. WP01
    pub wp_id: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Also list the transitive dependents (what depends on the dependents)
    #[arg(long)]
    pub all: bool,
}

fn run_dependents(ctx: &Ctx, a: &DependentsArgs) -> Result<()> {
    let (_, mission) = ctx.mission(a.mission.as_deref())?;
    let files = wp::load_all(&mission.tasks_dir())?;
    let wp_id = a.wp_id.to_ascii_uppercase();
    if !files.iter().any(|f| f.id == wp_id) {
        let known: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
        return Err(
            Error::user(format!("{} has no work package {wp_id}", mission.slug))
                .with_hint(format!("known work packages: {}", known.join(", "))),
        );
    }
    let (direct, all) = finalize::dependents(&files, &wp_id);
    let listed = if a.all { &all } else { &direct };
    let depends_on = files
        .iter()
        .find(|f| f.id == wp_id)
        .map(|f| f.dependencies())
        .unwrap_or_default();
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success", "wp_id": wp_id, "mission_slug": mission.slug,
            "depends_on": depends_on,
            "transitive": a.all, "dependents": listed,
            "direct_dependents": direct, "all_dependents": all,
        }));
    } else if listed.is_empty() {
        ctx.say(format!("nothing depends on {wp_id}"));
    } else {
        ctx.say(listed.join("\n"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MarkTo {
    Done,
    Pending,
}

// Tick (done) or untick (pending) subtasks in tasks.md.
#[derive(Debug, Args)]
pub struct MarkArgs {
    /// Subtask ids, e.g. T001 T002
    #[arg(required = true)]
    pub task_ids: Vec<String>,
    #[arg(long, value_enum)]
    pub status: MarkTo,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    #[command(flatten)]
    pub commit: crate::cli::state::AutoCommitFlag,
}

fn run_mark(ctx: &Ctx, a: &MarkArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    let done = matches!(a.status, MarkTo::Done);
    ctx.render(&mark_status::mark(project, &mission, &a.task_ids, done)?)
}

impl Render for mark_status::Marked {
    fn json(&self) -> Value {
        json!({
            "result": "success", "updated": self.updated, "not_found": self.not_found,
            "status": self.status(), "count": self.updated.len(),
        })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "marked {} as {}",
            self.updated.join(", "),
            self.status()
        ));
        if !self.not_found.is_empty() {
            ctx.warn(format!("not found: {}", self.not_found.join(", ")));
        }
    }
}

// Check a mission's tasks.md, WP files, lanes.json and status log against each
// other without writing anything. Exits 1 when a check fails.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Only this work package (for example WP01); all of them when omitted
    pub wp_id: Option<String>,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
}

pub fn run_validate(ctx: &Ctx, a: &ValidateArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    let r = crate::ops::validate::validate_workflow(project, &mission, a.wp_id.as_deref())?;
    let report = json!({
        "result": if r.valid { "success" } else { "failure" },
        "mission_slug": mission.slug,
        "valid": r.valid,
        "errors": r.errors,
        "warnings": r.warnings,
        "work_packages": r.work_packages,
    });
    // For one work package, the reference's top-level `task_id` and `lane`.
    let mut report = report;
    if let (Some(_), [one], Some(o)) =
        (&a.wp_id, r.work_packages.as_slice(), report.as_object_mut())
    {
        o.insert("task_id".into(), json!(one.id));
        o.insert("lane".into(), json!(one.lane));
    }
    if !ctx.json {
        for e in &r.errors {
            ctx.say(format!("{} {e}", ctx.paint("ERROR", style::ERROR)));
        }
        for w in &r.warnings {
            ctx.say(format!("{} {w}", ctx.paint("WARN ", style::CAUTION)));
        }
        for wp in &r.work_packages {
            let mark = if wp.valid {
                ctx.paint("ok   ", style::GOOD)
            } else {
                ctx.paint("FAIL ", style::ERROR)
            };
            ctx.say(format!("{mark} {}  {}", wp.id, wp.lane));
            for e in &wp.errors {
                ctx.say(format!("      error: {e}"));
            }
            for w in &wp.warnings {
                ctx.say(format!("      warning: {w}"));
            }
        }
    }
    if r.valid {
        if ctx.json {
            ctx.json_out(&report);
        } else {
            ctx.say(format!("{}: workflow is consistent", mission.slug));
        }
        return Ok(());
    }
    let n = r.errors.len()
        + r.work_packages
            .iter()
            .map(|w| w.errors.len())
            .sum::<usize>();
    Err(
        Error::user(format!("{}: {n} workflow check(s) failed", mission.slug))
            .with_hint("fix the errors listed, then run validate-workflow again")
            .with_details(report),
    )
}
