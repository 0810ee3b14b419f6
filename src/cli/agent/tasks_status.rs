//! `move-task`, `status`, `list-tasks`, `add-history`, `materialize`.

use crate::cli::output::{esc, style, Render};
use crate::ops::{board, materialize, move_task};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::Ctx;
use crate::error::Result;
use crate::status::ops::BoardWp;
use crate::status::{Lane, LANES};

// The `agent tasks` subcommands that track lanes and render the board. (A plain
// comment: a doc comment here would become the help text of `agent tasks`.)
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum BoardCommand {
    /// Move a work package to another lane (records a status event)
    #[command(after_help = crate::status::transitions::table_text())]
    MoveTask(MoveArgs),
    /// Show the kanban board of a mission's work packages
    Status(StatusArgs),
    /// List work packages, optionally only those in one lane
    ListTasks(ListArgs),
    /// Add a note to a work package's activity log
    AddHistory(HistoryArgs),
}

pub fn run(ctx: &Ctx, cmd: BoardCommand) -> Result<()> {
    match cmd {
        BoardCommand::MoveTask(a) => run_move(ctx, &a),
        BoardCommand::Status(a) => run_status(ctx, &a),
        BoardCommand::ListTasks(a) => run_list(ctx, &a),
        BoardCommand::AddHistory(a) => run_history(ctx, &a),
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("why").multiple(true)))]
pub struct MoveArgs {
    /// Work package id, e.g. WP01
    pub wp_id: String,
    /// Target lane: planned, claimed, in_progress (doing), for_review, in_review,
    /// approved, done, blocked, canceled
    #[arg(long)]
    pub to: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Who is moving it (recorded as the event's actor)
    #[arg(long)]
    pub agent: Option<String>,
    /// A note for the activity log (also the reason / review reference)
    #[arg(long, group = "why")]
    pub note: Option<String>,
    /// Review feedback when sending a work package back
    #[arg(long, group = "why", conflicts_with = "review_feedback_file")]
    pub review_feedback: Option<String>,
    /// Review feedback read from a file (e.g. one a reviewer wrote)
    #[arg(long, group = "why", value_name = "PATH")]
    pub review_feedback_file: Option<std::path::PathBuf>,
    /// Skip the transition rules (needs a why: --reason, --note, review feedback
    /// or --done-override-reason)
    #[arg(long, requires = "why")]
    pub force: bool,
    /// Why a forced move is needed
    #[arg(long, group = "why")]
    pub reason: Option<String>,
    /// Why a work package is moved to done without its merge being checked
    /// (recorded as the reason of the forced move)
    #[arg(long, group = "why")]
    pub done_override_reason: Option<String>,
    /// Who the work package is assigned to (recorded on the move's events)
    #[arg(long)]
    pub assignee: Option<String>,
    /// The agent's shell process id (recorded on the move's events)
    #[arg(long, value_parser = clap::value_parser!(u32))]
    pub shell_pid: Option<u32>,
    /// Who reviewed it (recorded on the move's events; default: none)
    #[arg(long)]
    pub reviewer: Option<String>,
    /// The approval's reference, e.g. PR#42 (recorded on the move's events)
    #[arg(long)]
    pub approval_ref: Option<String>,
    #[command(flatten)]
    pub commit: crate::cli::state::AutoCommitFlag,
}

fn run_move(ctx: &Ctx, a: &MoveArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    let request = move_task::MoveTask {
        wp_id: a.wp_id.clone(),
        to: a.to.clone(),
        agent: a.agent.clone(),
        note: a.note.clone(),
        review_feedback: a.review_feedback.clone(),
        review_feedback_file: a.review_feedback_file.clone(),
        force: a.force,
        reason: a.reason.clone(),
        done_override_reason: a.done_override_reason.clone(),
        assignee: a.assignee.clone(),
        shell_pid: a.shell_pid,
        reviewer: a.reviewer.clone(),
        approval_ref: a.approval_ref.clone(),
    };
    ctx.render(&move_task::move_task(project, &mission, &request)?)
}

impl Render for move_task::Moved {
    fn warnings(&self) -> Vec<String> {
        self.outcome.warnings.clone()
    }

    fn json(&self) -> serde_json::Value {
        let out = &self.outcome;
        json!({
            "result": "success",
            "mission_slug": self.mission_slug,
            "wp_id": out.wp_id,
            "from_lane": out.from_lane,
            "to_lane": out.to_lane,
            "hops": out.hops,
            "event_ids": out.event_ids,
            "changed": !out.event_ids.is_empty(),
            "warnings": out.warnings,
            // Compatibility keys (see `cli::compat`).
            "success": true,
            "task_id": out.wp_id,
            "old_lane": out.from_lane,
            "new_lane": out.to_lane,
            "path": self.path,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let out = &self.outcome;
        if out.event_ids.is_empty() {
            ctx.say(format!("{} is already in {}", out.wp_id, out.to_lane));
        } else {
            ctx.say(format!(
                "{} {} -> {}",
                ctx.bold(&out.wp_id),
                out.from_lane,
                ctx.paint(out.to_lane.as_str(), lane_colour(out.to_lane))
            ));
        }
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Minutes without a status change or lane commit before a work package in progress counts as stale
    #[arg(long, value_name = "MINUTES", default_value_t = 10)]
    pub stale_threshold: u64,
}

fn lane_colour(lane: Lane) -> anstyle::Style {
    match lane {
        Lane::Planned => style::PLAIN,
        Lane::Claimed | Lane::InProgress => style::CAUTION,
        Lane::ForReview | Lane::InReview => style::HINT,
        Lane::Approved | Lane::Done => style::GOOD,
        Lane::Blocked => style::BAD,
        Lane::Canceled => style::DIM,
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The board is laid out for an 80-column terminal.
const BOARD_WIDTH: usize = 80;

/// A WP's board row: id, title, dependencies and who built and reviewed it
/// on one line when that fits in [`BOARD_WIDTH`]; otherwise the dependencies
/// move to lines of their own under the title, wrapped between ids, so the
/// whole list is always shown.
fn row(w: &BoardWp) -> Vec<String> {
    let deps = if w.dependencies.is_empty() {
        "none".to_string()
    } else {
        w.dependencies.join(", ")
    };
    // Who built it and who reviewed it; the frontmatter agent when the log
    // names nobody (a WP moved by another tool).
    let builder = if w.implementer.is_empty() {
        &w.agent
    } else {
        &w.implementer
    };
    let mut agent = String::new();
    if !builder.is_empty() {
        agent.push_str(&format!("  @{}", esc(builder)));
    }
    if !w.reviewer.is_empty() {
        agent.push_str(&format!(" reviewed by @{}", esc(&w.reviewer)));
    }
    let head = format!("  {:<5} {:<34}", w.id, truncate(&esc(&w.title), 34));
    let agent = truncate(&agent, BOARD_WIDTH - head.chars().count());
    let one = format!("{head} deps: {deps}{agent}");
    let mut lines = if one.chars().count() <= BOARD_WIDTH {
        vec![one]
    } else {
        let mut lines = vec![format!("{head}{agent}").trim_end().to_string()];
        let none = ["none".to_string()];
        let items = if w.dependencies.is_empty() {
            &none[..]
        } else {
            &w.dependencies[..]
        };
        lines.extend(wrap_list("        deps: ", items, BOARD_WIDTH));
        lines
    };
    // A WP a review sent back says so until its rework is handed in.
    if let Some(c) = &w.changes_requested {
        let first = c.feedback.lines().next().unwrap_or_default();
        let line = if first.is_empty() {
            format!("        changes requested by @{}", esc(&c.by))
        } else {
            format!(
                "        changes requested by @{}: {}",
                esc(&c.by),
                esc(first)
            )
        };
        lines.push(truncate(&line, BOARD_WIDTH));
    }
    lines
}

/// `items` joined by ", " after `prefix`, broken between items so no line is
/// wider than `width` (an item longer than a line gets a line of its own);
/// continuation lines are indented to line up under the first item.
fn wrap_list(prefix: &str, items: &[String], width: usize) -> Vec<String> {
    let indent = " ".repeat(prefix.chars().count());
    let mut lines = Vec::new();
    let mut line = prefix.to_string();
    let mut empty = true;
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        let sep = if empty { "" } else { " " };
        if !empty && line.chars().count() + sep.len() + piece.chars().count() > width {
            lines.push(std::mem::replace(&mut line, indent.clone()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&piece);
        empty = false;
    }
    lines.push(line);
    lines
}

pub fn run_status(ctx: &Ctx, args: &StatusArgs) -> Result<()> {
    let (project, mission) = ctx.mission(args.mission.as_deref())?;
    ctx.render(&board::board(
        project,
        &mission,
        args.stale_threshold,
        chrono::Utc::now(),
    )?)
}

impl Render for board::BoardReport {
    fn warnings(&self) -> Vec<String> {
        self.board.warnings.iter().map(|w| w.to_string()).collect()
    }

    fn json(&self) -> serde_json::Value {
        let board = &self.board;
        let mut by_lane = serde_json::Map::new();
        for w in &board.work_packages {
            let n = by_lane
                .get(w.lane.as_str())
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            by_lane.insert(w.lane.to_string(), (n + 1).into());
        }
        json!({
            "mission_slug": board.mission_slug,
            "mission_number": board.mission_number,
            "mission_type": board.mission_type,
            "total_wps": board.total,
            "by_lane": by_lane,
            "work_packages": with_stale(&board.work_packages, &self.stale),
            "progress_percentage": board.progress_percentage,
            "done": board.done,
            "ready": board.ready,
            "stale_wps": self.stale_count(),
            "stale_threshold_minutes": self.stale_threshold,
            "next_command": format!("spec-kitty next --agent <your-name> --mission {}", board.mission_slug),
            "auto_commit": self.auto_commit,
            "warnings": board.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        })
    }

    fn human(&self, ctx: &Ctx) {
        let board = &self.board;
        ctx.say(format!(
            "{}  {}/{} done, progress {}%",
            ctx.bold(&board.mission_slug),
            board.done,
            board.total,
            board.progress_percentage
        ));
        if board.total == 0 {
            ctx.say(
                "  no work packages yet: write tasks.md and tasks/WPxx-*.md, then run finalize-tasks",
            );
            return;
        }
        for lane in LANES {
            let rows: Vec<&BoardWp> = board
                .work_packages
                .iter()
                .filter(|w| w.lane == lane)
                .collect();
            if rows.is_empty() {
                continue;
            }
            ctx.say("");
            ctx.say(ctx.paint(&format!("{} ({})", lane, rows.len()), lane_colour(lane)));
            for w in rows {
                for line in row(w) {
                    ctx.say(line);
                }
            }
        }
        ctx.say("");
        let stale_count = self.stale_count();
        if stale_count > 0 {
            ctx.say(ctx.paint(
                &format!(
                    "Stale ({stale_count}): in progress with no status change or lane commit for more than {} minutes",
                    self.stale_threshold
                ),
                style::WARNING,
            ));
            for s in self.stale.iter().filter(|s| s.is_stale) {
                ctx.say(format!(
                    "  {:<5} last activity {} minutes ago",
                    s.wp_id,
                    s.minutes_since_commit.unwrap_or_default()
                ));
            }
            ctx.say("");
        }
        if board.ready.is_empty() {
            ctx.say("Ready to start: none");
        } else {
            ctx.say(format!("Ready to start: {}", board.ready.join(", ")));
        }
        ctx.say(format!(
            "Next: spec-kitty next --agent <your-name> --mission {}",
            board.mission_slug
        ));
    }
}

/// The board's work packages as JSON, each one in progress with its stale
/// state (`stale`, `is_stale`, `minutes_since_commit`, `worktree_exists`).
fn with_stale(wps: &[BoardWp], stale: &[crate::ops::stale::StaleCheck]) -> Vec<serde_json::Value> {
    wps.iter()
        .map(|w| {
            let mut v = serde_json::to_value(w).unwrap_or_default();
            if let (serde_json::Value::Object(o), Some(s)) =
                (&mut v, stale.iter().find(|s| s.wp_id == w.id))
            {
                o.insert(
                    "stale".into(),
                    serde_json::to_value(&s.stale).unwrap_or_default(),
                );
                o.insert("is_stale".into(), s.is_stale.into());
                o.insert("minutes_since_commit".into(), json!(s.minutes_since_commit));
                o.insert("worktree_exists".into(), s.worktree_exists.into());
            }
            v
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Only work packages in this lane
    #[arg(long)]
    pub lane: Option<String>,
}

fn run_list(ctx: &Ctx, a: &ListArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&board::list(project, &mission, a.lane.as_deref())?)
}

impl Render for board::TaskList {
    fn json(&self) -> serde_json::Value {
        // The reference's keys `work_package_id` and `path` (absolute) too.
        let tasks: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|w| {
                let mut v = json!(w);
                if let Some(o) = v.as_object_mut() {
                    o.insert("work_package_id".into(), json!(w.id));
                    o.insert("path".into(), json!(self.tasks_dir.join(&w.file)));
                }
                v
            })
            .collect();
        json!({
            "result": "success", "mission_slug": self.mission_slug,
            "lane": self.lane.map(|l| l.to_string()), "count": self.rows.len(), "tasks": tasks,
        })
    }

    fn human(&self, ctx: &Ctx) {
        if self.rows.is_empty() {
            ctx.say("no work packages match");
            return;
        }
        for w in &self.rows {
            ctx.say(format!(
                "{:<5} {:<12} {}",
                w.id,
                w.lane.as_str(),
                truncate(&w.title, 60)
            ));
        }
    }
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Work package id, e.g. WP01
    pub wp_id: String,
    /// The note to record
    #[arg(long)]
    pub note: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Who writes the note
    #[arg(long)]
    pub agent: Option<String>,
    /// The agent's shell process id (written into the activity line)
    #[arg(long, value_parser = clap::value_parser!(u32))]
    pub shell_pid: Option<u32>,
}

fn run_history(ctx: &Ctx, a: &HistoryArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    ctx.render(&board::add_history(
        project,
        &mission,
        &a.wp_id,
        a.agent.as_deref(),
        &a.note,
        a.shell_pid,
    )?)
}

impl Render for board::Noted {
    fn json(&self) -> serde_json::Value {
        let id = &self.wp_id;
        json!({"result": "success", "wp_id": id, "task_id": id, "file": self.file, "note": self.note})
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!("noted in {}", ctx.rel(&self.file)));
    }
}

#[derive(Debug, Args)]
pub struct MaterializeArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
}

pub fn run_materialize(ctx: &Ctx, a: &MaterializeArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&Rebuilt(materialize::materialize(
        project, &mission, false,
    )?))
}

/// A rebuilt status.json, as the top-level `materialize` shows it (the
/// reference's document).
struct Rebuilt(materialize::Materialized);

impl Render for Rebuilt {
    fn warnings(&self) -> Vec<String> {
        self.0.skipped.iter().map(|w| w.to_string()).collect()
    }

    fn json(&self) -> serde_json::Value {
        let m = &self.0;
        json!({
            "result": "success", "mission_slug": m.mission_slug,
            "status_file": m.status_file, "event_count": m.snapshot.event_count,
            "work_packages": m.snapshot.work_packages.len(),
            "skipped_lines": m.skipped.iter().map(|w| w.line).collect::<Vec<_>>(),
            // The reference's document: one mission processed, the files it
            // wrote (this build writes no `.kittify/derived/` views, so
            // `derived_dir` is null).
            "processed": 1, "errors": [],
            "missions": [{
                "mission_slug": m.mission_slug, "files_written": ["status.json"],
                "timestamp": m.at,
            }],
            "derived_dir": null,
        })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "rebuilt {} from {} events",
            ctx.rel(&self.0.status_file),
            self.0.snapshot.event_count
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_dependency_list_wraps_between_ids_and_keeps_every_id() {
        let ids: Vec<String> = (1..=30).map(|i| format!("WP{i:02}")).collect();
        let lines = wrap_list("        deps: ", &ids, BOARD_WIDTH);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(
            lines.iter().all(|l| l.chars().count() <= BOARD_WIDTH),
            "{lines:?}"
        );
        assert!(
            lines[0].starts_with("        deps: WP01, WP02"),
            "{lines:?}"
        );
        assert!(
            lines[1..].iter().all(|l| l.starts_with("              WP")),
            "{lines:?}"
        );
        let joined = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        assert_eq!(joined, format!("deps: {}", ids.join(", ")));
    }

    #[test]
    fn a_row_that_fits_stays_on_one_line() {
        let w = BoardWp {
            id: "WP02".into(),
            title: "Core".into(),
            lane: Lane::Planned,
            agent: String::new(),
            implementer: String::new(),
            reviewer: String::new(),
            changes_requested: None,
            dependencies: vec!["WP01".into()],
            execution_mode: String::new(),
            workspace_kind: String::new(),
            file: String::new(),
            ready: false,
            phase: String::new(),
            agent_profile: String::new(),
            shell_pid: String::new(),
        };
        assert_eq!(row(&w), vec![format!("  WP02  {:<34} deps: WP01", "Core")]);
    }
}
