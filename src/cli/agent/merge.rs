//! `accept` and `merge` (top level and under `agent mission`).

use crate::cli::output::style;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::merge::{self, AcceptOptions, LaneAction, MergeOptions, Strategy};

const ACCEPT_HELP: &str = "\
Gates (each reported as PASS or FAIL with its reasons):
  work_packages         every work package is approved or done (canceled ones are left out)
  lane_branches         every code lane has its branch
  lane_worktrees_clean  no lane worktree has uncommitted changes
  lane_dependencies     a lane contains the latest commit of every lane it depends on
  artifacts             meta.json, spec.md, plan.md, tasks.md, tasks/WP*.md, lanes.json
  tasks_checkboxes      every checkbox in tasks.md is ticked
  tests                 with --test CMD: CMD exits 0 on all lanes merged onto the target
                        (as merge would, in a scratch worktree under .worktrees/; sh -c)

When every gate passes, meta.json records accepted_at, accepted_by and the lane
tips that were accepted (accepted_lanes); `merge` lands exactly those tips. The
exit code is 1 when any gate fails. Nothing is committed.";

const MERGE_HELP: &str = "\
This command creates commits (the only others that do are `agent mission
record` and, with auto_commit: true, the state-writing commands). It uses your
git user.name and user.email.

What it does:
  1. Checks, before changing anything: the mission was accepted (`spec-kitty
     accept`) and no lane moved since; every work package is approved or done;
     no lane worktree has uncommitted changes; every lane contains the approved
     work of the other lanes' WPs it builds on (otherwise merging could undo
     work); the main checkout, when it is on the target branch, has no
     uncommitted change or untracked file at a path the merge writes (what git
     itself would refuse; the message lists those paths). Other local changes
     stay as they are.
  2. Computes the whole merge in memory: lanes into the mission branch
     kitty/mission-<mission> in dependency order, then the mission branch into
     the target branch. A conflict is reported with the lanes and files involved
     and nothing changes: no commit, no ref, no file.
  3. Moves the mission branch, then the target branch. When the main checkout is
     on the target branch, only the files the merge changes are updated; when it
     is on another branch, only the target branch ref moves.
  4. Moves the work packages to done, records merged_at in meta.json, and removes
     the lane worktrees and lane branches (--keep-worktree, --keep-branch or
     --keep-worktrees keep them), and records the mission: one commit on the
     target branch (\"Record mission <mission> merged into <target>\") holds its
     final kitty-specs/<mission>/ files, so the working tree is clean afterwards.
  5. With --push: pushes the target branch to its upstream (else to origin) with
     git itself; a failed push is an error, the local merge stays done.

--target BRANCH lands on another existing local branch than the mission's
target_branch (meta.json). --context TOKEN selects the mission a context token
names. Run from a lane worktree, the merge runs from the main checkout
(--no-auto-retry refuses instead).

Strategies:
  merge   a merge commit per lane on the mission branch and one on the target
  squash  lanes combined on the mission branch; one ordinary commit on the target
  rebase  lane commits replayed one by one; the target moves forward linearly

--dry-run runs the checks and the in-memory merge and reports blockers,
conflicts (files per pair of lanes) and the commits the merge would create; it
changes nothing. A mission that is not ready (blockers) exits 0 with the plan
and its blockers (would_merge: false); conflicting lanes exit 1.

If a merge stops part-way (a crash, a failed file write), the refs before and
after are kept in <git-common-dir>/spec-kitty-merge/<mission>.json:
--continue (or --resume) finishes it; --abort puts the target branch, the
mission branch and the main checkout's files back exactly as they were before
the merge (possible until work packages start moving to done).";

#[derive(Debug, Args)]
#[command(after_long_help = ACCEPT_HELP)]
pub struct AcceptArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Also run this shell command once on the mission as it will land (every lane
    /// merged onto the target in a scratch worktree, removed afterwards); it must exit 0
    #[arg(long, value_name = "CMD")]
    pub test: Option<String>,
    /// Who accepts (recorded as accepted_by; default: git user.name)
    #[arg(long, visible_alias = "actor")]
    pub agent: Option<String>,
    /// How the mission will land: auto or local (`spec-kitty merge`), pr (push the
    /// mission branch and open a pull request), checklist (report only)
    #[arg(long, value_enum, default_value = "auto")]
    pub mode: AcceptMode,
    /// Unticked tasks.md checkboxes are reported but do not fail acceptance
    #[arg(long)]
    pub lenient: bool,
    /// Report only: run the gates, record nothing and commit nothing
    #[arg(long)]
    pub no_commit: bool,
    /// Exit 0 with the full report even when gates fail (nothing is recorded then)
    #[arg(long)]
    pub allow_fail: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AcceptMode {
    Auto,
    Pr,
    Local,
    Checklist,
}

impl AcceptMode {
    fn as_str(self) -> &'static str {
        match self {
            AcceptMode::Auto => "auto",
            AcceptMode::Pr => "pr",
            AcceptMode::Local => "local",
            AcceptMode::Checklist => "checklist",
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    /// A merge commit per lane, and one on the target
    Merge,
    /// One ordinary commit on the target with the combined changes
    Squash,
    /// Lane commits replayed linearly onto the target
    Rebase,
}

#[derive(Debug, Args)]
#[command(after_long_help = MERGE_HELP)]
pub struct MergeArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// How lanes land on the target branch
    #[arg(long, value_enum, default_value = "merge")]
    pub strategy: StrategyArg,
    /// Report what would happen, the blockers and any conflicts; change nothing
    #[arg(long, conflicts_with_all = ["continue_merge", "abort"])]
    pub dry_run: bool,
    /// Land on this local branch instead of the mission's target branch
    #[arg(long, value_name = "BRANCH", conflicts_with_all = ["continue_merge", "abort", "clean_up"])]
    pub target: Option<String>,
    /// After the merge, push the target branch to its upstream (else origin)
    #[arg(long, conflicts_with_all = ["abort", "clean_up"])]
    pub push: bool,
    /// Keep the lane worktrees and branches after a successful merge
    #[arg(long, conflicts_with = "abort")]
    pub keep_worktrees: bool,
    /// Delete the lane branches after the merge (the default)
    #[arg(long, overrides_with = "keep_branch")]
    pub delete_branch: bool,
    /// Keep the lane branches after the merge
    #[arg(long, overrides_with = "delete_branch", conflicts_with = "abort")]
    pub keep_branch: bool,
    /// Remove the lane worktrees after the merge (the default)
    #[arg(long, overrides_with = "keep_worktree")]
    pub remove_worktree: bool,
    /// Keep the lane worktrees after the merge (their branches stay with them)
    #[arg(long, overrides_with = "remove_worktree", conflicts_with = "abort")]
    pub keep_worktree: bool,
    /// Keep the work packages' workspaces (the lane worktrees): same as --keep-worktree
    #[arg(long, conflicts_with = "abort")]
    pub keep_workspace: bool,
    /// Finish a merge that stopped part-way
    #[arg(long = "continue", visible_alias = "resume", conflicts_with_all = ["abort", "strategy"])]
    pub continue_merge: bool,
    /// Undo a merge that stopped part-way: restore the pre-merge refs and files
    #[arg(long, conflicts_with = "strategy")]
    pub abort: bool,
    /// Select the mission by a context token (ctx-...) instead of --mission
    #[arg(long, value_name = "TOKEN")]
    pub context: Option<String>,
    /// Run from a lane worktree: merge from the main checkout it belongs to (the default)
    #[arg(long, overrides_with = "no_auto_retry")]
    pub auto_retry: bool,
    /// Run from a lane worktree: refuse instead of merging from the main checkout
    #[arg(long, overrides_with = "auto_retry")]
    pub no_auto_retry: bool,
    /// Remove the lane worktrees and branches a merged mission left in this clone (kept when they hold unmerged work)
    #[arg(long = "clean-up", conflicts_with_all = ["abort", "continue_merge", "dry_run", "keep_worktrees"])]
    pub clean_up: bool,
    /// With --clean-up: also delete the mission's merged lane branches on this remote
    #[arg(long, requires = "clean_up", value_name = "REMOTE")]
    pub remote: Option<String>,
}

impl MergeArgs {
    fn keep_worktrees(&self) -> bool {
        self.keep_worktrees || self.keep_worktree || self.keep_workspace
    }

    fn keep_branches(&self) -> bool {
        self.keep_worktrees || self.keep_branch
    }

    /// `--auto-retry` / `--no-auto-retry`, None when neither was given.
    fn auto_retry(&self) -> Option<bool> {
        if self.auto_retry {
            Some(true)
        } else if self.no_auto_retry {
            Some(false)
        } else {
            None
        }
    }
}

pub fn run_accept(ctx: &Ctx, args: &AcceptArgs) -> Result<()> {
    let (project, mission) = ctx.mission(args.mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    ctx.render(&AcceptView {
        a: crate::ops::accept::accept(
            project,
            &mission,
            &AcceptOptions {
                test_command: args.test.clone(),
                actor: args.agent.clone(),
                report_only: args.no_commit || args.mode == AcceptMode::Checklist,
                lenient: args.lenient,
                mode: Some(args.mode.as_str().to_string()),
            },
        )?,
        mode: args.mode,
        allow_fail: args.allow_fail,
    })
}

/// An acceptance run, as the CLI shows it.
struct AcceptView {
    a: crate::ops::accept::Accepted,
    mode: AcceptMode,
    allow_fail: bool,
}

impl AcceptView {
    fn all_passed(&self) -> bool {
        self.a.report.gates.iter().all(|g| g.passed)
    }

    /// The report with the reference's keys (see `cli::compat`).
    fn report_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.a.report).unwrap_or(Value::Null);
        crate::cli::compat::extend(&mut v, self.compat_keys());
        v
    }

    /// The reference's accept keys (see `cli::compat`).
    fn compat_keys(&self) -> serde_json::Map<String, Value> {
        let r = &self.a.report;
        let ok = self.all_passed();
        let problems = |name: &str| -> Vec<String> {
            r.gates
                .iter()
                .filter(|g| g.name == name)
                .flat_map(|g| g.problems.clone())
                .collect()
        };
        let v = json!({
            "success": ok,
            "ok": ok,
            "all_done": problems("work_packages").is_empty(),
            "mode": self.mode.as_str(),
            "unchecked_tasks": problems("tasks_checkboxes"),
            "missing_artifacts": problems("artifacts"),
            "git_dirty": problems("lane_worktrees_clean"),
            "warnings": r.notes,
        });
        let mut out = v.as_object().cloned().unwrap_or_default();
        // The reference's summary; its `lanes` (lane -> WP ids) is `lanes_by_lane`
        // here, since our `lanes` lists the accepted lane tips.
        if let Ok(Value::Object(s)) = serde_json::to_value(&self.a.summary) {
            out.extend(s);
        }
        out
    }
}

impl crate::cli::output::Render for AcceptView {
    fn human(&self, ctx: &Ctx) {
        let report = &self.a.report;
        ctx.say(format!(
            "Acceptance gates for {}",
            ctx.bold(&report.mission_slug)
        ));
        for g in &report.gates {
            let mark = if g.passed {
                ctx.paint("PASS", style::GOOD)
            } else {
                ctx.paint("FAIL", style::ERROR)
            };
            if g.passed || g.problems.len() <= 1 {
                ctx.say(format!("  {mark} {:<21} {}", g.name, g.detail));
            } else {
                ctx.say(format!("  {mark} {}", g.name));
                for p in &g.problems {
                    ctx.say(format!("         - {p}"));
                }
            }
        }
        for n in &report.notes {
            ctx.say(format!("  note: {n}"));
        }
        if self.verdict().is_err() {
            return;
        }
        if report.accepted {
            ctx.say(format!(
                "{} {} at {} by {}; nothing was committed.",
                ctx.paint("Accepted", style::SUCCESS),
                report.mission_slug,
                report.accepted_at.as_deref().unwrap_or(""),
                report.accepted_by.as_deref().unwrap_or("")
            ));
            ctx.say(format!("Next: {}.", self.a.next_step));
        } else if self.all_passed() {
            ctx.say("Every gate passes. Report only: nothing was recorded.");
        } else {
            ctx.say("Gates failed (--allow-fail, so exit 0); nothing was recorded.");
        }
    }

    fn json(&self) -> Value {
        if let Err(e) = self.verdict() {
            return crate::cli::output::error_json(&e);
        }
        let mut v = serde_json::to_value(&self.a.report).unwrap_or(Value::Null);
        if let Value::Object(o) = &mut v {
            let result = if self.all_passed() {
                "success"
            } else {
                "failure"
            };
            o.insert("result".into(), json!(result));
            o.insert("next_step".into(), json!(self.a.next_step));
        }
        crate::cli::compat::extend(&mut v, self.compat_keys());
        v
    }

    /// Exit 0: accepted, a report-only run whose gates pass, or --allow-fail;
    /// otherwise exit 1 and, under --json, the error document with the
    /// reference's keys (`ok: false`, what is missing).
    fn verdict(&self) -> Result<()> {
        let report = &self.a.report;
        if report.accepted || self.all_passed() || self.allow_fail {
            return Ok(());
        }
        let failed: Vec<&str> = report
            .gates
            .iter()
            .filter(|g| !g.passed)
            .map(|g| g.name)
            .collect();
        Err(Error::user(format!(
            "{} is not ready to merge: {} gate(s) failed ({})",
            report.mission_slug,
            failed.len(),
            failed.join(", ")
        ))
        .with_hint("fix what the failed gates name and run accept again; nothing was recorded")
        .with_details(self.report_json()))
    }
}

pub fn run_merge(ctx: &Ctx, args: &MergeArgs) -> Result<()> {
    let project = ctx.project()?;
    let location_note = crate::ops::merge::check_location(project, args.auto_retry())?;
    let selector = crate::ops::merge::mission_selector(
        project,
        args.mission.as_deref(),
        args.context.as_deref(),
    )?;
    let (project, mission) = ctx.mission(selector.as_deref())?;
    let note = location_note.as_deref();
    if args.clean_up {
        let r = crate::ops::merge_cleanup::clean_up(project, &mission, args.remote.as_deref())?;
        return ctx.render(&Noted {
            note,
            inner: CleanedUp(r),
        });
    }
    if args.abort {
        ctx.warn_version_skew(project)?;
        let r = merge::abort(project, &mission)?;
        return ctx.render(&Noted {
            note,
            inner: Aborted(r),
        });
    }
    let strategy = match args.strategy {
        StrategyArg::Merge => Strategy::Merge,
        StrategyArg::Squash => Strategy::Squash,
        StrategyArg::Rebase => Strategy::Rebase,
    };
    if !args.dry_run {
        ctx.warn_version_skew(project)?;
    }
    let request = crate::ops::merge::MergeRequest {
        options: MergeOptions {
            strategy,
            dry_run: args.dry_run,
            keep_worktrees: args.keep_worktrees(),
            keep_branches: args.keep_branches(),
            target: args.target.clone(),
        },
        resume: args.continue_merge,
        push: args.push,
    };
    let out = crate::ops::merge::run(project, &mission, &request)?;
    ctx.render(&Noted {
        note,
        inner: MergeView {
            out: &out,
            args,
            location_note: note,
        },
    })
}

/// An outcome after the note on where the merge ran from (human form only;
/// the merge's JSON carries it as `location_note`).
struct Noted<'a, T> {
    note: Option<&'a str>,
    inner: T,
}

impl<T: crate::cli::output::Render> crate::cli::output::Render for Noted<'_, T> {
    fn human(&self, ctx: &Ctx) {
        if let Some(note) = self.note {
            ctx.say(format!("note: {note}"));
        }
        self.inner.human(ctx);
    }

    fn json(&self) -> Value {
        // bounds: renders an outcome into JSON, parses nothing
        self.inner.json()
    }

    fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }

    fn verdict(&self) -> Result<()> {
        self.inner.verdict()
    }
}

/// What `merge --clean-up` removed, as the CLI shows it.
struct CleanedUp(crate::ops::merge_cleanup::CleanUp);

impl crate::cli::output::Render for CleanedUp {
    fn json(&self) -> Value {
        let mut v = serde_json::to_value(&self.0).unwrap_or(Value::Null);
        if let Value::Object(o) = &mut v {
            o.insert("result".into(), json!("success"));
            o.insert("action".into(), json!("clean_up"));
        }
        v
    }

    fn human(&self, ctx: &Ctx) {
        let r = &self.0;
        let nothing = r.removed_worktrees.is_empty()
            && r.removed_branches.is_empty()
            && r.removed_remote_branches.is_empty();
        ctx.say(format!(
            "{} {} (merged into {}): {}",
            ctx.paint("Cleaned up", style::SUCCESS),
            r.mission_slug,
            r.target_branch,
            if nothing {
                "nothing left to remove"
            } else {
                "removed"
            }
        ));
        for w in &r.removed_worktrees {
            ctx.say(format!("  worktree {w}"));
        }
        for b in &r.removed_branches {
            ctx.say(format!("  branch {b}"));
        }
        for b in &r.removed_remote_branches {
            ctx.say(format!("  remote branch {b}"));
        }
        for k in &r.kept {
            ctx.say(format!("  {}", ctx.paint(k, style::WARNING)));
        }
    }
}

/// What `merge --abort` put back, as the CLI shows it.
struct Aborted(merge::AbortReport);

impl crate::cli::output::Render for Aborted {
    fn json(&self) -> Value {
        let mut v = serde_json::to_value(&self.0).unwrap_or(Value::Null);
        if let Value::Object(o) = &mut v {
            o.insert("result".into(), json!("success"));
            o.insert("action".into(), json!("abort"));
        }
        v
    }

    fn human(&self, ctx: &Ctx) {
        let r = &self.0;
        ctx.say(format!(
            "{} the merge of {}: {} is back at {}.",
            ctx.paint("Aborted", style::WARNING),
            r.mission_slug,
            r.target_branch,
            short(&r.target_restored_to)
        ));
        match &r.mission_branch_restored_to {
            Some(m) => ctx.say(format!("  {} is back at {}", r.mission_branch, short(m))),
            None => ctx.say(format!(
                "  {} did not exist before and was removed",
                r.mission_branch
            )),
        }
        if r.checked_out {
            ctx.say(format!(
                "  {} file(s) of the main checkout restored",
                r.files_restored.len()
            ));
        }
    }
}

/// A merge's outcome as the CLI shows it.
struct MergeView<'a> {
    out: &'a crate::ops::merge::MergeOutcome,
    args: &'a MergeArgs,
    location_note: Option<&'a str>,
}

impl crate::cli::output::Render for MergeView<'_> {
    fn human(&self, ctx: &Ctx) {
        let report = &self.out.report;
        render(ctx, report);
        if report.dry_run && !report.would_merge && report.conflicts.is_empty() {
            ctx.say(format!(
                "{} fix the blockers above, then run the dry run again (nothing was changed).",
                ctx.paint("Not ready to merge:", style::WARNING)
            ));
        }
        if let Some(p) = &self.out.pushed {
            ctx.say(format!(
                "  pushed {} to {}/{}",
                p.branch, p.remote, p.remote_branch
            ));
        }
        if let Some(why) = &self.out.push_skipped {
            ctx.say(format!("  {}", ctx.paint(why, style::WARNING)));
        }
    }

    fn json(&self) -> Value {
        let mut v = merge_json(self.out, self.args, self.location_note);
        // A failing dry run's document says why, as every error document does.
        if let (Err(e), Value::Object(o)) = (self.verdict(), &mut v) {
            o.insert("error".into(), json!(e.message));
            o.insert("hint".into(), json!(e.hint));
        }
        v
    }

    /// A dry run whose lanes conflict exits 1 (one that is only not ready
    /// yet exits 0, as the reference's).
    fn verdict(&self) -> Result<()> {
        let report = &self.out.report;
        if !report.dry_run || report.conflicts.is_empty() {
            return Ok(());
        }
        Err(Error::user(format!(
            "the merge of {} would not go through: {} conflict(s), {} blocker(s)",
            report.mission_slug,
            report.conflicts.len(),
            report.blockers.len()
        ))
        .with_hint(
            "resolve the conflicts on the lane branches and fix the blockers; nothing was changed",
        ))
    }
}

/// The merge outcome as JSON: ours, plus the keys the reference's dry run
/// prints (`delete_branch`, `remove_worktree`, `push`, `spec_kitty_version`).
fn merge_json(
    out: &crate::ops::merge::MergeOutcome,
    args: &MergeArgs,
    location_note: Option<&str>,
) -> Value {
    let mut v = serde_json::to_value(out).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        let result = if !out.report.dry_run || out.report.would_merge {
            "success"
        } else if out.report.conflicts.is_empty() {
            "blocked"
        } else {
            "error"
        };
        o.insert("result".into(), json!(result));
        o.insert("delete_branch".into(), json!(!args.keep_branches()));
        o.insert("remove_worktree".into(), json!(!args.keep_worktrees()));
        o.entry("spec_kitty_version")
            .or_insert_with(|| json!(env!("CARGO_PKG_VERSION")));
        if let Some(n) = location_note {
            o.insert("location_note".into(), json!(n));
        }
        // Each lane also carries its plan from lanes.json, as the reference's lanes do.
        if let Some(Value::Array(lanes)) = o.get_mut("lanes") {
            for lane in lanes.iter_mut() {
                let Value::Object(l) = lane else { continue };
                let id = l.get("lane_id").and_then(Value::as_str).unwrap_or_default();
                if let Some(p) = out.planned_lanes.iter().find(|p| p.lane_id == id) {
                    l.insert("write_scope".into(), json!(p.write_scope));
                    l.insert("predicted_surfaces".into(), json!(p.predicted_surfaces));
                    l.insert("depends_on_lanes".into(), json!(p.depends_on_lanes));
                    l.insert("parallel_group".into(), json!(p.parallel_group));
                }
            }
        }
    }
    v
}

fn short(s: &str) -> String {
    crate::git::short(s)
}

fn render(ctx: &Ctx, r: &merge::MergeReport) {
    let order = if r.order.is_empty() {
        "(no code lanes)".to_string()
    } else {
        r.order.join(" -> ")
    };
    if r.dry_run {
        ctx.say(format!(
            "Merge forecast for {} ({}): {order} into {}, then {}",
            ctx.bold(&r.mission_slug),
            r.strategy.as_str(),
            r.mission_branch,
            r.target_branch
        ));
    } else {
        ctx.say(format!(
            "{} {} into {} ({}): {} -> {}",
            ctx.paint("Merged", style::SUCCESS),
            ctx.bold(&r.mission_slug),
            r.target_branch,
            r.strategy.as_str(),
            r.target_before
                .as_deref()
                .map(short)
                .unwrap_or_else(|| "?".into()),
            r.target_after
                .as_deref()
                .map(short)
                .unwrap_or_else(|| "?".into()),
        ));
    }
    for l in &r.lanes {
        let what = match l.action {
            LaneAction::Merged if r.dry_run => format!(
                "would merge {} commit(s), {} file(s)",
                l.commits,
                l.files.len()
            ),
            LaneAction::Merged => {
                format!("merged {} commit(s), {} file(s)", l.commits, l.files.len())
            }
            LaneAction::AlreadyMerged => "already merged".into(),
            LaneAction::NoChanges => "no changes".into(),
            LaneAction::Conflict => "conflicts (see below)".into(),
            LaneAction::Pending => "not reached".into(),
        };
        let deps = if l.depends_on.is_empty() {
            String::new()
        } else {
            format!(" (after {})", l.depends_on.join(", "))
        };
        ctx.say(format!("  {:<14} {what}{deps}", l.lane_id));
    }
    if !r.conflicts.is_empty() {
        ctx.say("Conflicts:");
        for c in &r.conflicts {
            ctx.say(format!(
                "  {} and {}{}: {}",
                c.between[0],
                c.between[1],
                c.commit
                    .as_deref()
                    .map(|x| format!(" (at commit {x})"))
                    .unwrap_or_default(),
                c.files.join(", ")
            ));
        }
    }
    if !r.blockers.is_empty() {
        ctx.say("Blockers:");
        for b in &r.blockers {
            ctx.say(format!("  - {}", b.problem));
        }
    }
    for n in &r.notes {
        ctx.say(format!("  note: {n}"));
    }
    if !r.out_of_scope.is_empty() {
        ctx.say("Out of scope (changed outside the work package's owned_files):");
        for f in &r.out_of_scope {
            ctx.say(format!("  {}: {}", f.wp_id, f.files.join(", ")));
        }
    }
    if r.dry_run {
        if !r.planned_commits.is_empty() {
            ctx.say("Commits it would create:");
            for c in &r.planned_commits {
                ctx.say(format!("  {c}"));
            }
        }
        if r.would_merge {
            // The command that merges what was forecast: the same strategy.
            let strategy = match r.strategy {
                Strategy::Merge => String::new(),
                s => format!(" --strategy {}", s.as_str()),
            };
            ctx.say(format!(
                "The merge would go through. Run it without --dry-run (that commits): `spec-kitty merge --mission {}{strategy}`",
                r.mission_slug
            ));
        }
        return;
    }
    if r.checked_out {
        ctx.say("  main checkout updated to the merged tree");
    }
    if !r.wps_done.is_empty() {
        ctx.say(format!("  work packages done: {}", r.wps_done.join(", ")));
    }
    for w in &r.removed_worktrees {
        ctx.say(format!("  removed worktree {}", ctx.rel(w)));
    }
    for b in &r.removed_branches {
        ctx.say(format!("  deleted branch {b}"));
    }
    for k in &r.kept {
        ctx.say(format!("  {k}"));
    }
    match &r.record_commit {
        Some(c) => ctx.say(format!(
            "  recorded the mission's final state in kitty-specs/{}/ on {} ({})",
            r.mission_slug,
            r.target_branch,
            short(c)
        )),
        None => ctx.say(format!(
            "  kitty-specs/{}/ on {} already held the mission's final state",
            r.mission_slug, r.target_branch
        )),
    }
}
