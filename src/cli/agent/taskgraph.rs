//! `finalize-tasks`, `list-dependents`, `mark-status`: the dependency graph.

use crate::cli::output::{error_json, style, Render};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::lanes::Strategy;
use crate::ops::{finalize, mark_status};

// The `agent tasks` subcommands about the dependency graph. (A plain comment:
// a doc comment here would become the help text of `agent tasks`.)
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
    ctx.render(&Finalized {
        r: finalize::finalize(project, &mission, a.validate_only, strategy)?,
        root: &project.root,
        mission: &mission,
        validate_only: a.validate_only,
    })
}

/// What finalize did (or would do), as the CLI shows it.
struct Finalized<'a> {
    r: finalize::Report,
    root: &'a std::path::Path,
    mission: &'a crate::mission::Mission,
    validate_only: bool,
}

impl Render for Finalized<'_> {
    fn warnings(&self) -> Vec<String> {
        self.r.warnings.clone()
    }

    fn json(&self) -> Value {
        let (r, validate_only) = (&self.r, self.validate_only);
        let lanes = if r.wp_count == 0 {
            json!({"computed": false})
        } else {
            json!(r.lanes)
        };
        // The reference's validate-only keys: what finalizing would seed and
        // compute, and which WP files it would leave or preserve.
        let preview = |v: Value| if validate_only { v } else { Value::Null };
        json!({
            "validation": preview(json!({
                "bootstrap_preview": r.bootstrap,
                "lanes_preview": lanes,
            })),
            "unchanged": preview(json!(r.unchanged_wps)),
            "would_preserve": preview(json!(r.preserved_wps)),
            "message": if validate_only {
                "Validation passed; run without --validate-only to write the work packages and lanes."
            } else {
                "Finalized."
            },
            "result": if validate_only { "validation_passed" } else { "success" },
            "mission_slug": self.mission.slug,
            "wp_count": r.wp_count,
            "updated_wp_count": r.modified_wps.len(),
            "modified_wps": r.modified_wps,
            "unchanged_wps": r.unchanged_wps,
            "preserved_wps": r.preserved_wps,
            "validate_only": validate_only,
            "would_modify": if validate_only { json!(r.would_modify) } else { json!([]) },
            "tasks_dir": self.mission.tasks_dir(),
            "commit_created": false,
            "commit_hash": null,
            "files_written": r.files_written.iter().map(|p| finalize::rel(self.root, p)).collect::<Vec<_>>(),
            "dependencies_parsed": r.dependencies_parsed,
            "requirement_refs_parsed": r.requirement_refs_parsed,
            "bootstrap": r.bootstrap,
            "lanes": lanes,
            "ownership_warnings": [],
            "warnings": r.warnings,
            "spec_kitty_version": crate::VERSION,
        })
    }

    fn json_text(&self) -> Option<String> {
        serde_json::to_string_pretty(&self.doc()).ok()
    }

    fn human(&self, ctx: &Ctx) {
        let (r, validate_only) = (&self.r, self.validate_only);
        let verb = if validate_only {
            "would update"
        } else {
            "updated"
        };
        if r.wp_count == 0 {
            // Finalize's warning (on stderr, above) already said there is nothing
            // to finalize and what to write first; saying it again on stdout
            // would tell a person the same thing twice.
            return;
        }
        ctx.say(format!(
            "{} {} work packages of {}",
            ctx.paint(
                if validate_only {
                    "Checked"
                } else {
                    "Finalized"
                },
                style::SUCCESS
            ),
            r.wp_count,
            ctx.bold(&self.mission.slug)
        ));
        // One line per WP, said in one write (a thousand WPs: one system call,
        // not a thousand).
        let mut lines = String::new();
        for (wp, deps) in &r.dependencies_parsed {
            let deps = if deps.is_empty() {
                "none".to_string()
            } else {
                deps.join(", ")
            };
            if !lines.is_empty() {
                lines.push('\n');
            }
            lines.push_str(&format!("  {wp}  deps: {deps}"));
        }
        if !lines.is_empty() {
            ctx.say(lines);
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
        if validate_only {
            ctx.say("  --validate-only: nothing was written");
        } else {
            ctx.say("  nothing was committed");
        }
    }
}

/// [`Finalized`]'s `--json` document, field for field as [`Render::json`]
/// builds it, serialized from the report without a [`Value`] tree (a
/// thousand-WP document is a third of a megabyte).
#[derive(serde::Serialize)]
struct FinalizedDoc<'a> {
    validation: Option<Preview<'a>>,
    unchanged: Option<&'a [String]>,
    would_preserve: Option<&'a [String]>,
    message: &'static str,
    result: &'static str,
    mission_slug: &'a str,
    wp_count: usize,
    updated_wp_count: usize,
    modified_wps: &'a [String],
    unchanged_wps: &'a [String],
    preserved_wps: &'a [String],
    validate_only: bool,
    would_modify: &'a [finalize::WpChange],
    tasks_dir: Value,
    commit_created: bool,
    commit_hash: Option<()>,
    files_written: Vec<String>,
    dependencies_parsed: &'a std::collections::BTreeMap<String, Vec<String>>,
    requirement_refs_parsed: &'a std::collections::BTreeMap<String, Vec<String>>,
    bootstrap: &'a finalize::Bootstrap,
    lanes: LanesDoc<'a>,
    ownership_warnings: [(); 0],
    warnings: &'a [String],
    spec_kitty_version: &'static str,
}

#[derive(serde::Serialize)]
struct Preview<'a> {
    bootstrap_preview: &'a finalize::Bootstrap,
    lanes_preview: LanesDoc<'a>,
}

/// The lanes: `{"computed": false}` without work packages.
#[derive(serde::Serialize, Clone, Copy)]
#[serde(untagged)]
enum LanesDoc<'a> {
    Planned(&'a finalize::LanesSummary),
    None { computed: bool },
}

impl Finalized<'_> {
    fn doc(&self) -> FinalizedDoc<'_> {
        let (r, validate_only) = (&self.r, self.validate_only);
        let lanes = if r.wp_count == 0 {
            LanesDoc::None { computed: false }
        } else {
            LanesDoc::Planned(&r.lanes)
        };
        FinalizedDoc {
            validation: validate_only.then_some(Preview {
                bootstrap_preview: &r.bootstrap,
                lanes_preview: lanes,
            }),
            unchanged: validate_only.then_some(&r.unchanged_wps[..]),
            would_preserve: validate_only.then_some(&r.preserved_wps[..]),
            message: if validate_only {
                "Validation passed; run without --validate-only to write the work packages and lanes."
            } else {
                "Finalized."
            },
            result: if validate_only {
                "validation_passed"
            } else {
                "success"
            },
            mission_slug: &self.mission.slug,
            wp_count: r.wp_count,
            updated_wp_count: r.modified_wps.len(),
            modified_wps: &r.modified_wps,
            unchanged_wps: &r.unchanged_wps,
            preserved_wps: &r.preserved_wps,
            validate_only,
            would_modify: if validate_only { &r.would_modify } else { &[] },
            tasks_dir: json!(self.mission.tasks_dir()),
            commit_created: false,
            commit_hash: None,
            files_written: r
                .files_written
                .iter()
                .map(|p| finalize::rel(self.root, p))
                .collect(),
            dependencies_parsed: &r.dependencies_parsed,
            requirement_refs_parsed: &r.requirement_refs_parsed,
            bootstrap: &r.bootstrap,
            lanes,
            ownership_warnings: [],
            warnings: &r.warnings,
            spec_kitty_version: crate::VERSION,
        }
    }
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
    ctx.render(&DependentsView {
        d: finalize::dependents_of(&mission, &a.wp_id)?,
        transitive: a.all,
    })
}

/// A work package's dependents, as the CLI shows them.
struct DependentsView {
    d: finalize::Dependents,
    /// `--all`: list the transitive dependents.
    transitive: bool,
}

impl DependentsView {
    fn listed(&self) -> &[String] {
        if self.transitive {
            &self.d.all
        } else {
            &self.d.direct
        }
    }
}

impl Render for DependentsView {
    fn json(&self) -> Value {
        let d = &self.d;
        json!({
            "result": "success", "wp_id": d.wp_id, "mission_slug": d.mission_slug,
            "depends_on": d.depends_on,
            "transitive": self.transitive, "dependents": self.listed(),
            "direct_dependents": d.direct, "all_dependents": d.all,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let listed = self.listed();
        if listed.is_empty() {
            ctx.say(format!("nothing depends on {}", self.d.wp_id));
        } else {
            ctx.say(listed.join("\n"));
        }
    }
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
    ctx.render(&WorkflowView {
        r: crate::ops::validate::validate_workflow(project, &mission, a.wp_id.as_deref())?,
        mission_slug: &mission.slug,
        one_wp: a.wp_id.is_some(),
    })
}

/// A workflow check, as the CLI shows it.
struct WorkflowView<'a> {
    r: crate::ops::validate::WorkflowReport,
    mission_slug: &'a str,
    /// Only one work package was asked for.
    one_wp: bool,
}

impl WorkflowView<'_> {
    /// The report document (also the details of the failure's error).
    fn report(&self) -> Value {
        let r = &self.r;
        let mut report = json!({
            "result": if r.valid { "success" } else { "failure" },
            "mission_slug": self.mission_slug,
            "valid": r.valid,
            "errors": r.errors,
            "warnings": r.warnings,
            "work_packages": r.work_packages,
        });
        // For one work package, the reference's top-level `task_id` and `lane`.
        if let (true, [one], Some(o)) = (
            self.one_wp,
            r.work_packages.as_slice(),
            report.as_object_mut(),
        ) {
            o.insert("task_id".into(), json!(one.id));
            o.insert("lane".into(), json!(one.lane));
        }
        report
    }
}

impl Render for WorkflowView<'_> {
    fn json(&self) -> Value {
        match self.verdict() {
            Ok(()) => self.report(),
            Err(e) => error_json(&e),
        }
    }

    fn human(&self, ctx: &Ctx) {
        let r = &self.r;
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
        if r.valid {
            ctx.say(format!("{}: workflow is consistent", self.mission_slug));
        }
    }

    /// A failed check exits 1; under --json the report travels in the error document.
    fn verdict(&self) -> Result<()> {
        let r = &self.r;
        if r.valid {
            return Ok(());
        }
        let n = r.errors.len()
            + r.work_packages
                .iter()
                .map(|w| w.errors.len())
                .sum::<usize>();
        Err(Error::user(format!(
            "{}: {n} workflow check(s) failed",
            self.mission_slug
        ))
        .with_hint("fix the errors listed, then run validate-workflow again")
        .with_details(self.report()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document written straight from the report is byte for byte the
    /// pretty-printed `json()`, in every mode.
    #[test]
    fn the_finalize_document_is_written_as_json_builds_it() {
        let mission = crate::mission::Mission::load(std::path::Path::new("/p/kitty-specs/001-m"));
        let root = std::path::Path::new("/p");
        let mut full = finalize::Report {
            wp_count: 2,
            modified_wps: vec!["WP01".into()],
            unchanged_wps: vec!["WP02".into()],
            preserved_wps: vec!["WP02".into()],
            would_modify: vec![finalize::WpChange {
                wp_id: "WP01".into(),
                changes: [("dependencies".to_string(), json!(["WP02"]))].into(),
            }],
            dependencies_parsed: [
                ("WP01".to_string(), vec!["WP02".to_string()]),
                ("WP02".to_string(), Vec::new()),
            ]
            .into(),
            requirement_refs_parsed: [("WP01".to_string(), vec!["FR-001".to_string()])].into(),
            files_written: vec!["/p/kitty-specs/001-m/tasks/WP01-a.md".into()],
            warnings: vec!["a \"quoted\" \u{1b} warning".into()],
            ..Default::default()
        };
        full.bootstrap.total_wps = 2;
        full.lanes.computed = true;
        full.lanes.lane_ids = vec!["lane-a".into()];
        full.lanes.strategy = Some(Strategy::Parallel);
        for r in [full, finalize::Report::default()] {
            for validate_only in [false, true] {
                let f = Finalized {
                    r: r.clone(),
                    root,
                    mission: &mission,
                    validate_only,
                };
                assert_eq!(
                    f.json_text().unwrap(),
                    serde_json::to_string_pretty(&f.json()).unwrap(),
                    "validate_only {validate_only}, {} WPs",
                    r.wp_count
                );
            }
        }
    }
}
