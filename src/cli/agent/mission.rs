//! `spec-kitty agent mission ...`: create, list, backfill-identity, setup-plan,
//! check-prerequisites, and dispatch to finalize-tasks, accept, merge, delete.

use crate::cli::output::{style, Render};
use crate::ops::{missions, setup_plan};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{branch_context, delete, merge, prereq, record, sync_team, taskgraph};
use crate::cli::compat;
use crate::cli::Ctx;
use crate::error::Result;
use crate::mission::branch::TargetSource;
use crate::mission::{self, CreateOptions, Mission};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum MissionCommand {
    /// Create kitty-specs/NNN-<slug>/ with meta.json (a fresh ULID mission_id) and spec.md
    Create(CreateArgs),
    /// Parse tasks.md and the WP files, write dependencies and lanes.json
    FinalizeTasks(taskgraph::FinalizeArgs),
    /// List the project's missions with their ids and lane counts
    List {},
    /// Give missions made before mission_id existed a ULID (nothing else changes)
    BackfillIdentity(BackfillArgs),
    /// Create plan.md from the mission type's template (if it does not exist)
    SetupPlan(SelectArgs),
    /// Report which of a mission's artifacts exist and which are missing
    CheckPrerequisites(prereq::PrereqArgs),
    /// The branch contract: current, planning and merge-target branches
    BranchContext(branch_context::BranchContextArgs),
    /// Check a mission is ready to merge
    Accept(merge::AcceptArgs),
    /// Merge a mission's lanes into its target branch and record the mission (it commits)
    Merge(merge::MergeArgs),
    /// Delete a mission directory, its lane worktrees and lane branches
    Delete(delete::DeleteArgs),
    /// Commit the mission's kitty-specs/<mission>/ files, .kittify/ and .gitattributes on the current branch
    Record(record::RecordArgs),
    /// Drop conflict markers and duplicate events from the status log; rebuild status.json
    RepairStatus(record::RepairArgs),
    /// Share the mission with teammates through git: record its files, pull with merge, push (refuses over a conflict)
    SyncTeam(sync_team::SyncTeamArgs),
}

impl MissionCommand {
    /// Does this command write mission state (see [`crate::cli::Command::writes`]).
    pub fn writes(&self) -> Option<crate::cli::state::Writes> {
        use crate::cli::state::Writes;
        match self {
            MissionCommand::Create(_)
            | MissionCommand::FinalizeTasks(_)
            | MissionCommand::Accept(_)
            | MissionCommand::RepairStatus(_)
            | MissionCommand::BackfillIdentity(_)
            | MissionCommand::SetupPlan(_) => Writes::state(),
            MissionCommand::SyncTeam(a) if a.dry_run => None,
            MissionCommand::Merge(_) | MissionCommand::Record(_) | MissionCommand::SyncTeam(_) => {
                Writes::committer()
            }
            MissionCommand::List {}
            | MissionCommand::CheckPrerequisites(_)
            | MissionCommand::BranchContext(_)
            | MissionCommand::Delete(_) => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Mission slug in kebab-case, e.g. user-auth
    pub slug: String,
    /// software-dev, research, documentation or plan (`--mission` is its deprecated, hidden alias)
    #[arg(long, alias = "mission", default_value = crate::mission::types::DEFAULT)]
    pub mission_type: String,
    /// Branch the work merges into (default: the current branch)
    #[arg(long)]
    pub target_branch: Option<String>,
    /// Use this mission number (must be free) instead of the next one
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub number: Option<u64>,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Only this mission (079, 079-slug, slug)
    #[arg(long, alias = "feature", conflicts_with = "all")]
    pub mission: Option<String>,
    /// Every mission without a mission_id
    #[arg(long)]
    pub all: bool,
    /// Report what would be written; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
}

pub fn run(ctx: &Ctx, cmd: MissionCommand) -> Result<()> {
    match cmd {
        MissionCommand::Create(a) => run_create(ctx, &a),
        MissionCommand::FinalizeTasks(a) => taskgraph::run_finalize(ctx, &a),
        MissionCommand::List { .. } => run_list(ctx),
        MissionCommand::BackfillIdentity(a) => run_backfill(ctx, &a),
        MissionCommand::SetupPlan(a) => run_setup_plan(ctx, &a),
        MissionCommand::CheckPrerequisites(a) => prereq::run(ctx, &a),
        MissionCommand::BranchContext(a) => branch_context::run(ctx, &a),
        MissionCommand::Accept(a) => merge::run_accept(ctx, &a),
        MissionCommand::Record(a) => record::run_record(ctx, &a),
        MissionCommand::RepairStatus(a) => record::run_repair(ctx, &a),
        MissionCommand::SyncTeam(a) => sync_team::run(ctx, &a),
        MissionCommand::Merge(a) => merge::run_merge(ctx, &a),
        MissionCommand::Delete(a) => delete::run(ctx, &a),
    }
}

pub(crate) fn run_create(ctx: &Ctx, a: &CreateArgs) -> Result<()> {
    let project = ctx.project()?;
    ctx.warn_version_skew(project)?;
    let opts = CreateOptions {
        slug: a.slug.clone(),
        mission_type: a.mission_type.clone(),
        target_branch: a.target_branch.clone(),
        number: a.number,
    };
    ctx.render(&CreatedView {
        c: mission::create(project, &opts)?,
        explicit_target: a.target_branch.is_some(),
    })
}

/// A created mission, as the CLI shows it.
struct CreatedView {
    c: mission::Created,
    /// Was the target branch given (`--target-branch`) rather than the current one?
    explicit_target: bool,
}

impl Render for CreatedView {
    fn json(&self) -> Value {
        let c = &self.c;
        let m = &c.mission;
        let current = c.current_branch.clone();
        let mut out = json!({
            "result": "success",
            "mission_slug": m.slug,
            "mission_number": m.number,
            "mission_id": c.mission_id,
            "mission_type": m.mission_type(),
            "slug": m.slug,
            "friendly_name": m.friendly_name(),
            "feature_dir": m.dir,
            "spec_file": m.spec_file(),
            "meta_file": m.meta_file(),
            "created_at": c.created_at,
            "created_files": c.created_files,
            "current_branch": current,
            "target_branch": c.target_branch,
            "base_branch": c.target_branch,
            "planning_base_branch": c.target_branch,
            "merge_target_branch": c.target_branch,
            "branch_matches_target": current.as_deref() == Some(c.target_branch.as_str()),
            "committed": false,
            "next_step": format!("Fill in spec.md, then run: spec-kitty next --agent <agent> --mission {}", m.slug),
            "spec_kitty_version": crate::VERSION,
        });
        let bc = crate::mission::branch::BranchContext {
            current_branch: c.current_branch.clone(),
            target_branch: c.target_branch.clone(),
            source: if self.explicit_target {
                TargetSource::Explicit
            } else {
                TargetSource::CurrentBranch
            },
        };
        let mut extra = compat::branch_keys(&bc);
        extra.insert("write_mode".into(), json!("update_existing_files"));
        compat::extend(&mut out, extra);
        out
    }

    fn human(&self, ctx: &Ctx) {
        let c = &self.c;
        let m = &c.mission;
        ctx.say(format!(
            "{} mission {} ({})",
            ctx.paint("Created", style::SUCCESS),
            ctx.bold(&m.slug),
            c.mission_id
        ));
        ctx.say(format!("  directory:     {}", ctx.rel(&m.dir)));
        ctx.say(format!("  target branch: {}", c.target_branch));
        ctx.say("  nothing was committed");
        ctx.say(format!(
            "Next: fill in spec.md, then run `spec-kitty next --agent <agent> --mission {}`",
            m.slug
        ));
    }
}

fn run_list(ctx: &Ctx) -> Result<()> {
    ctx.render(&MissionList(missions::list(ctx.project()?)?))
}

/// The project's missions, as the CLI shows them.
struct MissionList(Vec<missions::Listed>);

impl Render for MissionList {
    fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .0
            .iter()
            .map(|l| {
                let lanes: serde_json::Map<String, Value> = l
                    .lanes
                    .iter()
                    .map(|(lane, n)| (lane.clone(), Value::from(*n)))
                    .collect();
                json!({
                    "number": l.number,
                    "slug": l.slug,
                    "mission_id": l.mission_id,
                    "mission_type": l.mission_type,
                    "friendly_name": l.friendly_name,
                    "total_wps": l.total,
                    "lanes": lanes,
                    "meta_error": l.meta_error,
                })
            })
            .collect();
        json!({ "missions": rows, "count": self.0.len() })
    }

    /// The same document as `json`, pretty-printed as serde_json prints it,
    /// written straight from the rows (a `Value` of hundreds of rows cost
    /// more than the listing itself, and serde's writer of them a fifth of
    /// a warm listing). A test checks it byte for byte against `json`.
    fn json_text(&self) -> Option<String> {
        fn string(out: &mut String, s: &str) {
            crate::jsonfmt::write_json_str(s, out)
        }
        fn opt(out: &mut String, s: Option<&str>) {
            match s {
                Some(s) => string(out, s),
                None => out.push_str("null"),
            }
        }
        use std::fmt::Write;
        let mut out = String::with_capacity(64 + 320 * self.0.len());
        if self.0.is_empty() {
            out.push_str("{\n  \"missions\": [],\n");
        } else {
            out.push_str("{\n  \"missions\": [\n");
            for (i, l) in self.0.iter().enumerate() {
                out.push_str(if i == 0 { "    {" } else { ",\n    {" });
                out.push_str("\n      \"number\": ");
                opt(&mut out, l.number.as_deref());
                out.push_str(",\n      \"slug\": ");
                string(&mut out, &l.slug);
                out.push_str(",\n      \"mission_id\": ");
                opt(&mut out, l.mission_id.as_deref());
                out.push_str(",\n      \"mission_type\": ");
                string(&mut out, &l.mission_type);
                out.push_str(",\n      \"friendly_name\": ");
                string(&mut out, &l.friendly_name);
                let _ = write!(
                    out,
                    ",\n      \"total_wps\": {},\n      \"lanes\": ",
                    l.total
                );
                // As a JSON object keeps them: the first of a repeated name
                // holds its place, the last one's count wins.
                let mut lanes: Vec<(&str, usize)> = Vec::with_capacity(l.lanes.len());
                for (lane, n) in &l.lanes {
                    match lanes.iter_mut().find(|(k, _)| *k == lane.as_str()) {
                        Some(e) => e.1 = *n,
                        None => lanes.push((lane, *n)),
                    }
                }
                if lanes.is_empty() {
                    out.push_str("{}");
                } else {
                    out.push('{');
                    for (k, (lane, n)) in lanes.iter().enumerate() {
                        out.push_str(if k == 0 { "\n        " } else { ",\n        " });
                        string(&mut out, lane);
                        let _ = write!(out, ": {n}");
                    }
                    out.push_str("\n      }");
                }
                out.push_str(",\n      \"meta_error\": ");
                opt(&mut out, l.meta_error.as_deref());
                out.push_str("\n    }");
            }
            out.push_str("\n  ],\n");
        }
        let _ = write!(out, "  \"count\": {}\n}}", self.0.len());
        Some(out)
    }

    fn human(&self, ctx: &Ctx) {
        if self.0.is_empty() {
            ctx.say("No missions yet. Create one with `spec-kitty agent mission create <slug>`.");
            return;
        }
        for l in &self.0 {
            let lanes: Vec<String> = l.lanes.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let id = l.mission_id.as_deref().unwrap_or("(no mission_id)");
            ctx.say(format!(
                "{:<40} {:<26} {:<13} {} WPs{}",
                l.slug,
                id,
                l.mission_type,
                l.total,
                if lanes.is_empty() {
                    String::new()
                } else {
                    format!(": {}", lanes.join(", "))
                }
            ));
            if let Some(e) = &l.meta_error {
                ctx.warn(e);
            }
        }
    }
}

fn run_backfill(ctx: &Ctx, a: &BackfillArgs) -> Result<()> {
    let project = ctx.project()?;
    let targets: Vec<Mission> = if a.all {
        mission::list(project)?
    } else {
        vec![ctx.mission(a.mission.as_deref())?.1]
    };
    if !a.dry_run {
        ctx.warn_version_skew(project)?;
    }
    ctx.render(&BackfillView {
        done: mission::backfill_identity(project, &targets, a.dry_run)?,
        dry_run: a.dry_run,
    })
}

/// Missions given a mission_id, as the CLI shows them.
struct BackfillView {
    done: Vec<mission::Backfilled>,
    dry_run: bool,
}

impl Render for BackfillView {
    fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .done
            .iter()
            .map(|b| json!({"mission_slug": b.slug, "mission_id": b.mission_id, "meta_file": b.meta_file, "written": b.written}))
            .collect();
        json!({"result": "success", "dry_run": self.dry_run, "backfilled": rows})
    }

    fn human(&self, ctx: &Ctx) {
        if self.done.is_empty() {
            ctx.say("Every selected mission already has a mission_id.");
        }
        for b in &self.done {
            let verb = if b.written {
                "assigned"
            } else {
                "would assign"
            };
            ctx.say(format!("{}: {verb} mission_id {}", b.slug, b.mission_id));
        }
    }
}

pub(crate) fn run_setup_plan(ctx: &Ctx, a: &SelectArgs) -> Result<()> {
    let (project, m) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&setup_plan::setup_plan(project, &m)?)
}

impl Render for setup_plan::PlanSetUp {
    fn warnings(&self) -> Vec<String> {
        self.skew.iter().map(|s| s.message()).collect()
    }

    fn json(&self) -> Value {
        let mut out = json!({
            "result": "success", "mission_slug": self.mission_slug, "feature_dir": self.feature_dir,
            "plan_file": self.plan_file, "spec_file": self.spec_file, "created": self.created,
            "spec_kitty_version": crate::VERSION,
        });
        compat::extend(&mut out, compat::branch_keys(&self.branch));
        out
    }

    fn human(&self, ctx: &Ctx) {
        if self.created {
            ctx.say(format!(
                "Created {} from the {} template.",
                ctx.rel(&self.plan_file),
                self.mission_type
            ));
        } else {
            ctx.say(format!(
                "{} already exists; left as it is.",
                ctx.rel(&self.plan_file)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listing's JSON written straight from its rows is, byte for byte,
    /// the document its `Value` prints: every field, null ones, no lanes,
    /// escapes, text that is not ASCII, an empty list.
    #[test]
    fn mission_list_json_text_is_the_value_printed() {
        let row = |slug: &str, lanes: &[(&str, usize)]| missions::Listed {
            slug: slug.into(),
            number: slug.get(..3).map(str::to_string),
            mission_id: Some("01KB0000000000000000000001".into()),
            mission_type: "software-dev".into(),
            friendly_name: format!("{slug} \"quoted\" \u{1b}[31m é ✓"),
            meta_error: None,
            lanes: lanes.iter().map(|(l, n)| (l.to_string(), *n)).collect(),
            total: lanes.iter().map(|(_, n)| n).sum(),
        };
        let mut broken = row("no-number", &[]);
        broken.number = None;
        broken.mission_id = None;
        broken.meta_error = Some("meta.json: line 1: expected value\n\tfix it".into());
        // Every control character, the two that JSON escapes, DEL.
        let mut odd = row("002-odd", &[("done", 1), ("claimed", 2), ("done", 4)]);
        odd.friendly_name = (0u8..0x20)
            .map(char::from)
            .chain("\"\\/\u{7f}\u{2028}x".chars())
            .collect();
        odd.mission_type = "\\".into();
        let lists = [
            MissionList(vec![]),
            MissionList(vec![
                row("001-a", &[("claimed", 2), ("done", 3)]),
                broken,
                odd,
                row("010-b", &[("planned", 1)]),
            ]),
            MissionList(vec![row("001-a", &[])]),
        ];
        for list in &lists {
            let want = serde_json::to_string_pretty(&list.json()).unwrap();
            assert_eq!(list.json_text().as_deref(), Some(want.as_str()));
        }
    }
}
