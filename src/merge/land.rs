//! `merge`: land a mission's accepted lanes on its target branch without losing
//! work, and `--continue` / `--abort` for a merge that stopped part-way.
//!
//! The order of a merge:
//!
//! 1. Preconditions, all collected before anything changes: the mission was
//!    accepted and its lanes have not moved since; work packages are approved or
//!    done; lane branches exist and their worktrees hold nothing uncommitted;
//!    every lane contains the tips of the lanes it depends on; the main checkout,
//!    when it is on the target branch, has no uncommitted change or untracked
//!    file at a path the merge writes (what git itself would refuse; anything
//!    else may stay modified, staged or untracked).
//! 2. The whole integration is computed with an in-memory object database, so a
//!    conflict is reported with its files and leaves the repository untouched.
//! 3. The new objects are written as one pack; the state file
//!    `<git-common-dir>/spec-kitty-merge/<slug>.json` records the refs before
//!    and after; then the mission branch moves, then the main checkout's files
//!    (only the paths the merge changes) and the target ref.
//! 4. Finishing: work packages move to done, meta.json records the merge, one
//!    record commit on the target holds the mission's final `kitty-specs/<slug>/`
//!    files (so the tree is clean afterwards), lane worktrees and branches are
//!    removed (unless kept), the state file goes.
//!
//! If the process stops during 3, `--abort` puts both refs and those files back
//! exactly as they were, and `--continue` completes it. Once finishing has
//! started, only `--continue` applies.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use git2::{build::CheckoutBuilder, Oid, Repository, Signature, Status, StatusOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::accept::{dependency_problems, recorded, unfinished_wps};
use super::integrate::{self, Input, LaneInput, Outcome, Party, Stuck};
use super::{
    branch_tip, code_lanes, open_repo, short, short_str, target_branch, CodeLane, LaneAction,
    Strategy,
};
use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::mission::{read_meta, write_meta_file, Mission};
use crate::project::Project;
use crate::status::ops::{self, MoveRequest};
use crate::status::{Lane, StatusStore};
use crate::tasks_md::wp;
use crate::workspace;

#[derive(Debug, Clone, Copy)]
pub struct MergeOptions {
    pub strategy: Strategy,
    pub dry_run: bool,
    pub keep_worktrees: bool,
}

/// A precondition that does not hold.
#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub gate: &'static str,
    pub problem: String,
}

/// Two parties of the merge that change the same files incompatibly.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictPair {
    /// Lane ids, the mission branch or the target branch.
    pub between: [String; 2],
    /// The commit that did not replay (rebase), if that is where it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub files: Vec<String>,
}

/// What the merge did (or would do) with one lane.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaneOutcome {
    pub lane_id: String,
    pub branch: String,
    pub tip: Option<String>,
    pub wp_ids: Vec<String>,
    pub depends_on: Vec<String>,
    pub action: LaneAction,
    /// Lane commits that were not on the mission branch yet.
    pub commits: usize,
    /// Files the lane changes.
    pub files: Vec<String>,
}

/// The result of `merge`, `merge --dry-run` and `merge --continue`.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    pub mission_slug: String,
    pub strategy: Strategy,
    pub dry_run: bool,
    /// Dry run: whether the merge would go through. Otherwise true.
    pub would_merge: bool,
    pub target_branch: String,
    pub mission_branch: String,
    /// Code lanes in the order they merge.
    pub order: Vec<String>,
    pub lanes: Vec<LaneOutcome>,
    pub target_before: Option<String>,
    pub target_after: Option<String>,
    pub mission_branch_before: Option<String>,
    pub mission_branch_after: Option<String>,
    pub commits_created: Vec<String>,
    /// The commit on the target holding the mission's final kitty-specs files.
    pub record_commit: Option<String>,
    /// Dry run: the commits the merge would create, in order (`<branch>: <message>`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned_commits: Vec<String>,
    /// The branch the main checkout is on (None when detached).
    pub head_branch: Option<String>,
    /// The main checkout's files were updated (it is on the target branch).
    pub checked_out: bool,
    pub blockers: Vec<Blocker>,
    pub conflicts: Vec<ConflictPair>,
    pub wps_done: Vec<String>,
    pub removed_worktrees: Vec<PathBuf>,
    pub removed_branches: Vec<String>,
    /// Lanes whose worktree or branch was left in place, and why.
    pub kept: Vec<String>,
    pub notes: Vec<String>,
    /// Work packages whose handed-in work changes files they do not own.
    pub out_of_scope: Vec<crate::status::work::ScopeFinding>,
}

/// The result of `merge --abort`.
#[derive(Debug, Clone, Serialize)]
pub struct AbortReport {
    pub mission_slug: String,
    pub target_branch: String,
    pub target_restored_to: String,
    pub mission_branch: String,
    /// None when the mission branch did not exist before and was deleted.
    pub mission_branch_restored_to: Option<String>,
    pub checked_out: bool,
    pub files_restored: Vec<String>,
}

/// How far a merge in progress got (serialised as `landing`, `landed`,
/// `finishing` in the state file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// The refs and the main checkout's files are being updated.
    Landing,
    /// Refs and files landed; finishing has not started.
    Landed,
    /// Work packages, meta.json and lane clean-up.
    Finishing,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Landing => "landing",
            Phase::Landed => "landed",
            Phase::Finishing => "finishing",
        })
    }
}

/// What a merge in progress remembers (`<git-common-dir>/spec-kitty-merge/<slug>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MergeState {
    version: u32,
    mission_slug: String,
    strategy: Strategy,
    phase: Phase,
    started_at: String,
    target_branch: String,
    target_before: String,
    target_after: String,
    mission_branch: String,
    mission_before: Option<String>,
    mission_after: String,
    keep_worktrees: bool,
    actor: String,
    order: Vec<String>,
    lanes: Vec<StateLane>,
    outcomes: Vec<LaneOutcome>,
    commits_created: Vec<String>,
    notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StateLane {
    lane_id: String,
    branch: String,
    tip: String,
    worktree: PathBuf,
    worktree_name: String,
}

fn state_path(project: &Project, slug: &str) -> Result<PathBuf> {
    let common = project.git_common_dir.as_ref().ok_or_else(|| {
        Error::user(format!(
            "{} is not a git repository",
            project.root.display()
        ))
    })?;
    Ok(common.join("spec-kitty-merge").join(format!("{slug}.json")))
}

fn read_state(project: &Project, slug: &str) -> Result<Option<MergeState>> {
    let path = state_path(project, slug)?;
    if !path.exists() {
        return Ok(None);
    }
    let text = fsutil::read_to_string(&path)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| {
            Error::parse(&path, Some(e.line()), format!("invalid merge state: {e}")).with_hint(
                "it records a merge that stopped part-way; restore it, or remove it once you have checked the target and mission branches by hand",
            )
        })
}

fn write_state(project: &Project, state: &MergeState) -> Result<()> {
    let path = state_path(project, &state.mission_slug)?;
    if let Some(dir) = path.parent() {
        fsutil::create_dir_all(dir)?;
    }
    Ok(fsutil::atomic_write(
        &path,
        crate::jsonfmt::pretty(state).as_bytes(),
    )?)
}

fn remove_state(project: &Project, slug: &str) -> Result<()> {
    let path = state_path(project, slug)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", &path, e)),
    }
}

fn merge_lock(project: &Project) -> Result<FileLock> {
    FileLock::acquire(
        &project.locks_dir().join("merge.lock"),
        LOCK_TIMEOUT,
        "merges in this repository",
    )
    .map_err(Error::from)
}

fn oid(s: &str) -> Result<Oid> {
    Oid::from_str(s).map_err(|_| Error::internal(format!("bad commit id {s:?} in merge state")))
}

/// The branch HEAD of the main checkout points at, if it is on a branch.
fn head_branch(repo: &Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    head.symbolic_target()?
        .strip_prefix("refs/heads/")
        .map(str::to_string)
}

fn identity(repo: &Repository) -> Result<Signature<'static>> {
    match super::git_identity(repo)? {
        (Some(name), Some(email)) => Ok(Signature::now(&name, &email)?),
        _ => Err(Error::user(
            "git has no identity to commit the merge with: user.name and user.email are not set",
        )
        .with_hint(
            "set them, e.g. `git config user.name \"Your Name\"` and `git config user.email you@example.com`",
        )),
    }
}

/// Every path of the main checkout git reports as changed, staged or
/// untracked (ignored files and lane worktrees left out).
fn main_checkout_dirt(repo: &Repository) -> Result<Vec<String>> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let mut dirt = Vec::new();
    for e in repo.statuses(Some(&mut opts))?.iter() {
        let path = String::from_utf8_lossy(e.path_bytes()).into_owned();
        let st = e.status();
        if st.is_empty() || st == Status::IGNORED || path.starts_with(".worktrees/") {
            continue;
        }
        dirt.push(path);
    }
    Ok(dirt)
}

/// The dirty paths that stand where the merge writes: the same path, or a
/// file where the merge needs a directory (and the other way round).
fn in_the_way(dirty: &[String], changed: &[String]) -> Vec<String> {
    dirty
        .iter()
        .filter(|d| {
            changed.iter().any(|c| {
                c == *d || c.starts_with(&format!("{d}/")) || d.starts_with(&format!("{c}/"))
            })
        })
        .cloned()
        .collect()
}

/// Branches checked out in linked worktrees: refs/heads/<name> → worktree path.
fn linked_checkouts(repo: &Repository) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let Ok(names) = repo.worktrees() else {
        return out;
    };
    for name in names.iter().flatten() {
        let Ok(wt) = repo.find_worktree(name) else {
            continue;
        };
        let Ok(r) = Repository::open_from_worktree(&wt) else {
            continue;
        };
        if let Some(b) = head_branch(&r) {
            out.insert(b, wt.path().to_path_buf());
        }
    }
    out
}

fn list_some(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}

/// What a merge works from, read once.
struct Setup {
    code: Vec<CodeLane>,
    tips: Vec<Option<Oid>>,
    target: String,
    target_tip: Oid,
    mission_branch: String,
    mission_tip: Option<Oid>,
    head: Option<String>,
}

impl Setup {
    fn on_target(&self) -> bool {
        self.head.as_deref() == Some(self.target.as_str())
    }
}

/// Merge (or, with `dry_run`, forecast) the mission's lanes into its target.
///
/// A dry run returns its report even when the merge would fail (see
/// `would_merge`, `blockers` and `conflicts`). A real merge returns an error
/// carrying the same report when a precondition fails or lanes conflict, and
/// changes nothing in that case.
pub fn merge(project: &Project, mission: &Mission, opts: &MergeOptions) -> Result<MergeReport> {
    let repo = open_repo(project)?;
    let _lock = if opts.dry_run {
        None
    } else {
        Some(merge_lock(project)?)
    };
    refuse_in_progress(project, mission)?;
    let lanes = workspace::require_lanes(mission)?;
    let (snap, _) = StatusStore::for_mission(project, mission).snapshot()?;
    let (code, notes) = code_lanes(project, mission, &lanes, &snap)?;
    let setup = Setup::resolve(&repo, mission, &lanes, code)?;
    let mut report = new_report(mission, &setup, opts, notes);
    let (mut blockers, tolerated) =
        preconditions(mission, &repo, &setup, &snap, &mut report.notes)?;
    let sig = signature(&repo, opts.dry_run, &mut blockers)?;
    let integrated = if setup.tips.iter().all(Option::is_some) {
        simulate(
            project,
            &repo,
            mission,
            &setup,
            opts,
            &sig,
            &tolerated,
            &mut blockers,
            &mut report,
        )?
    } else {
        None
    };
    report.blockers = blockers;
    report.out_of_scope = crate::status::work::out_of_scope(project, mission)?;
    report.would_merge = report.blockers.is_empty() && report.conflicts.is_empty();
    if opts.dry_run {
        return Ok(report);
    }
    refuse_blockers(mission, &report)?;
    let Some(done) = integrated else {
        return Err(conflict_error(mission, &report, &setup.code));
    };
    let state = landing_state(mission, &setup, opts, &sig, &done, &report);
    write_state(project, &state)?;
    run_to_end(project, mission, &repo, state, false)
}

/// A merge of this mission that stopped part-way must be resumed or aborted first.
fn refuse_in_progress(project: &Project, mission: &Mission) -> Result<()> {
    let Some(state) = read_state(project, &mission.slug)? else {
        return Ok(());
    };
    Err(Error::user(format!(
        "a merge of {} into {} is in progress (stopped while {})",
        mission.slug, state.target_branch, state.phase
    ))
    .with_hint(in_progress_hint(&mission.slug, state.phase)))
}

impl Setup {
    /// The branches and tips the merge works with; refuses a mission merged
    /// before whose lane branches are gone, and a missing target branch.
    fn resolve(
        repo: &Repository,
        mission: &Mission,
        lanes: &crate::lanes::model::LanesManifest,
        code: Vec<CodeLane>,
    ) -> Result<Setup> {
        let target = target_branch(mission, Some(lanes));
        let tips: Vec<Option<Oid>> = code.iter().map(|l| branch_tip(repo, &l.branch)).collect();
        if let Some(at) = mission.meta_str("merged_at") {
            if !code.is_empty() && tips.iter().all(Option::is_none) {
                return Err(Error::user(format!(
                    "{} was already merged into {} at {at}{}",
                    mission.slug,
                    mission.meta_str("merged_into").unwrap_or(&target),
                    mission
                        .meta_str("merged_commit")
                        .map(|c| format!(" (commit {})", short_str(c)))
                        .unwrap_or_default()
                ))
                .with_hint("its lane branches are gone; there is nothing left to merge"));
            }
        }
        let target_tip = branch_tip(repo, &target).ok_or_else(|| {
            Error::user(format!(
                "target branch {target} of {} does not exist",
                mission.slug
            ))
            .with_hint("create it, or set target_branch in the mission's meta.json")
        })?;
        let mission_branch = mission.mission_branch();
        Ok(Setup {
            mission_tip: branch_tip(repo, &mission_branch),
            head: head_branch(repo),
            code,
            tips,
            target,
            target_tip,
            mission_branch,
        })
    }
}

/// The committer identity; a dry run without one reports it as a blocker and
/// forecasts with a placeholder.
fn signature(
    repo: &Repository,
    dry_run: bool,
    blockers: &mut Vec<Blocker>,
) -> Result<Signature<'static>> {
    match identity(repo) {
        Ok(s) => Ok(s),
        Err(e) if dry_run => {
            blockers.push(Blocker {
                gate: "identity",
                problem: e.message.clone(),
            });
            Ok(Signature::now("spec-kitty", "spec-kitty@localhost")?)
        }
        Err(e) => Err(e),
    }
}

/// A real merge with any blocker stops here, before anything changes.
fn refuse_blockers(mission: &Mission, report: &MergeReport) -> Result<()> {
    if report.blockers.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = report
        .blockers
        .iter()
        .map(|b| format!("  - {}", b.problem))
        .collect();
    Err(Error::user(format!(
        "cannot merge {}; nothing was changed:\n{}",
        mission.slug,
        lines.join("\n")
    ))
    .with_hint(
        "fix the problems above and run the merge again; `--dry-run` shows the full forecast",
    )
    .with_details(report_details(report)))
}

/// The state file written before landing: everything needed to finish,
/// resume or abort the merge.
fn landing_state(
    mission: &Mission,
    setup: &Setup,
    opts: &MergeOptions,
    sig: &Signature<'static>,
    done: &integrate::Integrated,
    report: &MergeReport,
) -> MergeState {
    let actor = mission
        .meta_str("accepted_by")
        .map(str::to_string)
        .or_else(|| sig.name().map(str::to_string))
        .unwrap_or_else(|| "user".into());
    MergeState {
        version: 1,
        mission_slug: mission.slug.clone(),
        strategy: opts.strategy,
        phase: Phase::Landing,
        started_at: crate::timefmt::now_iso(),
        target_branch: setup.target.clone(),
        target_before: setup.target_tip.to_string(),
        target_after: done.target_after.to_string(),
        mission_branch: setup.mission_branch.clone(),
        mission_before: setup.mission_tip.map(|o| o.to_string()),
        mission_after: done.mission_after.to_string(),
        keep_worktrees: opts.keep_worktrees,
        actor,
        order: report.order.clone(),
        lanes: setup
            .code
            .iter()
            .zip(&setup.tips)
            .filter_map(|(l, t)| {
                t.map(|tip| StateLane {
                    lane_id: l.lane_id.clone(),
                    branch: l.branch.clone(),
                    tip: tip.to_string(),
                    worktree: l.worktree.clone(),
                    worktree_name: l.worktree_name.clone(),
                })
            })
            .collect(),
        outcomes: report.lanes.clone(),
        commits_created: report.commits_created.clone(),
        notes: report.notes.clone(),
    }
}

fn new_report(
    mission: &Mission,
    setup: &Setup,
    opts: &MergeOptions,
    notes: Vec<String>,
) -> MergeReport {
    MergeReport {
        mission_slug: mission.slug.clone(),
        strategy: opts.strategy,
        dry_run: opts.dry_run,
        would_merge: false,
        target_branch: setup.target.clone(),
        mission_branch: setup.mission_branch.clone(),
        order: setup.code.iter().map(|l| l.lane_id.clone()).collect(),
        lanes: setup
            .code
            .iter()
            .zip(&setup.tips)
            .map(|(l, t)| LaneOutcome {
                lane_id: l.lane_id.clone(),
                branch: l.branch.clone(),
                tip: t.map(|o| o.to_string()),
                wp_ids: l.wp_ids.clone(),
                depends_on: l.depends_on.clone(),
                action: LaneAction::Pending,
                commits: 0,
                files: Vec::new(),
            })
            .collect(),
        target_before: Some(setup.target_tip.to_string()),
        target_after: None,
        mission_branch_before: setup.mission_tip.map(|o| o.to_string()),
        mission_branch_after: None,
        commits_created: Vec::new(),
        record_commit: None,
        planned_commits: Vec::new(),
        head_branch: setup.head.clone(),
        checked_out: false,
        blockers: Vec::new(),
        conflicts: Vec::new(),
        out_of_scope: Vec::new(),
        wps_done: Vec::new(),
        removed_worktrees: Vec::new(),
        removed_branches: Vec::new(),
        kept: Vec::new(),
        notes,
    }
}

/// Every precondition that does not hold, and the mission's own modified files
/// in the main checkout (allowed unless the merge changes them).
fn preconditions(
    mission: &Mission,
    repo: &Repository,
    setup: &Setup,
    snap: &crate::status::Snapshot,
    notes: &mut Vec<String>,
) -> Result<(Vec<Blocker>, Vec<String>)> {
    let mut blockers = Vec::new();
    let mut block = |gate, problem| blockers.push(Blocker { gate, problem });
    let (code, tips, target) = (&setup.code, &setup.tips, &setup.target);

    // Accepted, and nothing moved since.
    match recorded(mission)? {
        None => block(
            "accepted",
            format!(
                "{} has not been accepted; run `spec-kitty accept --mission {}` first",
                mission.slug, mission.slug
            ),
        ),
        Some((at, accepted)) => {
            for (lane, tip) in code.iter().zip(tips) {
                let Some(tip) = tip else { continue };
                match accepted.get(&lane.lane_id) {
                    Some(t) if *t == tip.to_string() => {}
                    Some(t) => block(
                        "accepted",
                        format!(
                            "{} changed since the mission was accepted at {at} (accepted {}, now {}); run `spec-kitty accept --mission {}` again",
                            lane.lane_id,
                            short_str(t),
                            short(*tip),
                            mission.slug
                        ),
                    ),
                    None => block(
                        "accepted",
                        format!(
                            "{} was not part of the acceptance at {at}; run `spec-kitty accept --mission {}` again",
                            lane.lane_id, mission.slug
                        ),
                    ),
                }
            }
        }
    }
    for p in unfinished_wps(mission, snap)?.1 {
        block(
            "work_packages",
            format!("{p}; every work package must be approved or done"),
        );
    }
    for (lane, tip) in code.iter().zip(tips) {
        if tip.is_none() {
            block(
                "lane_branches",
                format!("{}: branch {} does not exist", lane.lane_id, lane.branch),
            );
        }
        if lane.worktree.exists() && workspace::is_dirty(&lane.worktree).unwrap_or(true) {
            block(
                "lane_worktrees_clean",
                format!(
                    "{}: {} has uncommitted changes that would not be merged; commit them on {}",
                    lane.lane_id,
                    lane.worktree.display(),
                    lane.branch
                ),
            );
        }
    }
    for p in dependency_problems(mission, repo, code, tips)? {
        block("lost_work", p);
    }
    let linked = linked_checkouts(repo);
    for b in [target, &setup.mission_branch] {
        if let Some(path) = linked.get(b.as_str()) {
            block(
                "target",
                format!(
                    "{b} is checked out in the worktree {}; switch that worktree to another branch first",
                    path.display()
                ),
            );
        }
    }
    if setup.head.as_deref() == Some(setup.mission_branch.as_str()) {
        block(
            "target",
            format!(
                "the main checkout is on the mission branch {}, which the merge moves; switch it to {target} first (`git switch {target}`)",
                setup.mission_branch
            ),
        );
    }
    let mut tolerated = Vec::new();
    if setup.on_target() {
        if repo.state() != git2::RepositoryState::Clean {
            block(
                "target",
                format!(
                    "the main checkout is in the middle of a {:?} operation; finish or abort it first",
                    repo.state()
                ),
            );
        }
        // Whether they are in the way is known once the merge result is.
        tolerated = main_checkout_dirt(repo)?;
    } else {
        notes.push(match &setup.head {
            Some(b) => format!(
                "the main checkout is on {b}, not {target}: only the {target} branch moves; your working tree is left alone"
            ),
            None => format!(
                "the main checkout is detached: only the {target} branch moves; your working tree is left alone"
            ),
        });
    }
    Ok((blockers, tolerated))
}

/// Run the integration against an in-memory object database, fill the report
/// (lane outcomes, conflicts, the refs after), add a blocker when modified
/// mission files would be overwritten, and, for a real merge that can go ahead,
/// write the new objects to the repository as one pack.
#[allow(clippy::too_many_arguments)]
fn simulate(
    project: &Project,
    repo: &Repository,
    mission: &Mission,
    setup: &Setup,
    opts: &MergeOptions,
    sig: &Signature<'static>,
    tolerated: &[String],
    blockers: &mut Vec<Blocker>,
    report: &mut MergeReport,
) -> Result<Option<integrate::Integrated>> {
    let sim = Repository::open(&project.root)?;
    let odb = sim.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    let inputs: Vec<LaneInput> = setup
        .code
        .iter()
        .zip(&setup.tips)
        .filter_map(|(l, t)| {
            t.map(|tip| LaneInput {
                lane_id: l.lane_id.clone(),
                branch: l.branch.clone(),
                tip,
                wp_ids: l.wp_ids.clone(),
            })
        })
        .collect();
    let input = Input {
        strategy: opts.strategy,
        mission_slug: &mission.slug,
        target_branch: &setup.target,
        target_tip: setup.target_tip,
        mission_branch: &setup.mission_branch,
        mission_tip: setup.mission_tip,
        lanes: &inputs,
        sig,
    };
    let outcome = integrate::integrate(&sim, &input)?;
    let stuck = match &outcome {
        Outcome::Conflict(s) => Some(s.clone()),
        Outcome::Clean(_) => None,
    };
    if let Some(s) = &stuck {
        record_steps(&mut report.lanes, &s.done);
        if let Some(l) = report.lanes.iter_mut().find(|l| l.lane_id == s.what) {
            l.action = LaneAction::Conflict;
        }
    }
    if stuck.is_some() || opts.dry_run {
        let mut parties = vec![Party {
            label: setup.target.clone(),
            tip: setup.target_tip,
        }];
        if let Some(m) = setup.mission_tip {
            parties.push(Party {
                label: setup.mission_branch.clone(),
                tip: m,
            });
        }
        parties.extend(inputs.iter().map(|l| Party {
            label: l.lane_id.clone(),
            tip: l.tip,
        }));
        report.conflicts = conflict_pairs(&sim, &parties, stuck.as_ref())?;
    }
    let Outcome::Clean(done) = outcome else {
        return Ok(None);
    };
    record_steps(&mut report.lanes, &done.steps);
    let before_tree = sim.find_commit(setup.target_tip)?.tree()?;
    let after_tree = sim.find_commit(done.target_after)?.tree()?;
    let changed = integrate::tree_changes(&sim, &before_tree, &after_tree)?;
    let overlap = in_the_way(tolerated, &changed);
    if !overlap.is_empty() {
        blockers.push(Blocker {
            gate: "target",
            problem: format!(
                "the main checkout ({}) has uncommitted changes or untracked files where the merge writes: {}; commit, stash or move them first",
                setup.target,
                overlap.join(", ")
            ),
        });
    }
    if opts.dry_run {
        for &c in &done.created {
            let commit = sim.find_commit(c)?;
            let on_mission =
                c == done.mission_after || sim.graph_descendant_of(done.mission_after, c)?;
            let branch = if on_mission && done.mission_after != done.target_after {
                &setup.mission_branch
            } else {
                &setup.target
            };
            report
                .planned_commits
                .push(format!("{branch}: {}", commit.summary().unwrap_or("")));
        }
        report.planned_commits.push(format!(
            "{}: {}",
            setup.target,
            record_summary(mission, &setup.target)
        ));
    }
    report.target_after = Some(done.target_after.to_string());
    report.mission_branch_after = Some(done.mission_after.to_string());
    if !opts.dry_run && blockers.is_empty() {
        // Write the new objects for real, as one pack.
        if !done.created.is_empty() {
            let mut buf = git2::Buf::new();
            mempack.dump(&sim, &mut buf)?;
            let real = repo.odb()?;
            let mut writer = real.packwriter()?;
            writer
                .write_all(&buf)
                .map_err(|e| Error::internal(format!("cannot write merge objects: {e}")))?;
            writer.commit()?;
        }
        report.commits_created = done.created.iter().map(Oid::to_string).collect();
    }
    Ok(Some(done))
}

fn record_steps(lanes: &mut [LaneOutcome], steps: &[integrate::LaneStep]) {
    for step in steps {
        if let Some(l) = lanes.iter_mut().find(|l| l.lane_id == step.lane_id) {
            l.action = step.action;
            l.commits = step.commits;
            l.files = step.files.clone();
        }
    }
}

/// Land and finish a merge whose state was written.
fn run_to_end(
    project: &Project,
    mission: &Mission,
    repo: &Repository,
    mut state: MergeState,
    keep: bool,
) -> Result<MergeReport> {
    let slug = mission.slug.clone();
    let stage = |phase: Phase, e: Error| -> Error {
        let hint = in_progress_hint(&slug, phase);
        let hint = match &e.hint {
            Some(h) => format!("{h}; then: {hint}"),
            None => hint,
        };
        Error {
            hint: Some(hint),
            ..e
        }
    };
    let checked_out = if state.phase == Phase::Landing {
        let on = land(repo, &state).map_err(|e| stage(Phase::Landing, e))?;
        state.phase = Phase::Landed;
        write_state(project, &state)?;
        // Test hook: stop here as a crash would, so the tests can drive
        // `--continue` and `--abort`. Compiled out of normal builds.
        if crate::env::merge_interrupt_after_landing() {
            return Err(stage(
                Phase::Landed,
                Error::internal(format!(
                    "merge stopped after landing on {} (merge-interrupt test hook)",
                    state.target_branch
                )),
            ));
        }
        on
    } else {
        head_branch(repo).as_deref() == Some(state.target_branch.as_str())
    };
    let finished =
        finish(project, mission, repo, &mut state, keep).map_err(|e| stage(Phase::Finishing, e))?;
    Ok(MergeReport {
        mission_slug: state.mission_slug.clone(),
        strategy: state.strategy,
        dry_run: false,
        would_merge: true,
        target_branch: state.target_branch.clone(),
        mission_branch: state.mission_branch.clone(),
        order: state.order.clone(),
        lanes: state.outcomes.clone(),
        target_before: Some(state.target_before.clone()),
        target_after: Some(state.target_after.clone()),
        mission_branch_before: state.mission_before.clone(),
        mission_branch_after: Some(state.mission_after.clone()),
        commits_created: state.commits_created.clone(),
        record_commit: finished.record_commit.map(|c| c.to_string()),
        planned_commits: Vec::new(),
        head_branch: head_branch(repo),
        checked_out,
        blockers: Vec::new(),
        conflicts: Vec::new(),
        wps_done: finished.wps_done,
        removed_worktrees: finished.removed_worktrees,
        removed_branches: finished.removed_branches,
        kept: finished.kept,
        notes: state.notes.clone(),
        out_of_scope: Vec::new(),
    })
}

fn in_progress_hint(slug: &str, phase: Phase) -> String {
    if phase == Phase::Finishing {
        format!(
            "the merge already landed; run `spec-kitty merge --mission {slug} --continue` to finish it"
        )
    } else {
        format!(
            "run `spec-kitty merge --mission {slug} --continue` to finish it, or `spec-kitty merge --mission {slug} --abort` to put everything back as it was"
        )
    }
}

/// Move the mission branch, then the target (files first when the main
/// checkout is on it). Idempotent: a step already done is skipped. Returns
/// whether the main checkout's files were updated.
fn land(repo: &Repository, state: &MergeState) -> Result<bool> {
    let mission_after = oid(&state.mission_after)?;
    let mission_before = state.mission_before.as_deref().map(oid).transpose()?;
    let mref = format!("refs/heads/{}", state.mission_branch);
    let msg = format!("spec-kitty merge: {}", state.mission_slug);
    match branch_tip(repo, &state.mission_branch) {
        Some(t) if t == mission_after => {}
        // Nothing was integrated: no need for a mission branch.
        None if mission_before.is_none() && state.mission_after == state.target_before => {}
        None if mission_before.is_none() => {
            repo.reference(&mref, mission_after, false, &msg)?;
        }
        Some(t) if Some(t) == mission_before => {
            repo.reference_matching(&mref, mission_after, true, t, &msg)?;
        }
        other => {
            return Err(moved_error(
                &state.mission_branch,
                other,
                state.mission_before.as_deref(),
            ))
        }
    }
    let before = oid(&state.target_before)?;
    let after = oid(&state.target_after)?;
    let tref = format!("refs/heads/{}", state.target_branch);
    let on_target = head_branch(repo).as_deref() == Some(state.target_branch.as_str());
    match branch_tip(repo, &state.target_branch) {
        Some(t) if t == after => Ok(on_target),
        Some(t) if t == before => {
            if on_target {
                let from = repo.find_commit(before)?.tree()?;
                let to = repo.find_commit(after)?.tree()?;
                switch_files(repo, &from, &to)?;
            }
            repo.reference_matching(&tref, after, true, before, &msg)?;
            Ok(on_target)
        }
        other => Err(moved_error(
            &state.target_branch,
            other,
            Some(&state.target_before),
        )),
    }
}

fn moved_error(branch: &str, now: Option<Oid>, before: Option<&str>) -> Error {
    Error::user(format!(
        "{branch} moved while the merge was in progress (now {}, was {})",
        now.map(short).unwrap_or_else(|| "deleted".into()),
        before.map(short_str).unwrap_or_else(|| "absent".into())
    ))
    .with_hint("someone else changed it; check `git log` and resolve it by hand")
}

/// Make the main checkout's files (and index) go from tree `from` to tree `to`,
/// touching only the paths that differ between them. Every such path must hold
/// the content of one of the two trees, with the working file equal to the
/// index: anything else is somebody's edit, and nothing is changed.
fn switch_files(
    repo: &Repository,
    from: &git2::Tree<'_>,
    to: &git2::Tree<'_>,
) -> Result<Vec<String>> {
    let paths = integrate::tree_changes(repo, from, to)?;
    if paths.is_empty() {
        return Ok(paths);
    }
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::user("the repository has no working tree"))?
        .to_path_buf();
    let index = repo.index()?;
    let worktree_changed = Status::WT_NEW
        | Status::WT_MODIFIED
        | Status::WT_DELETED
        | Status::WT_TYPECHANGE
        | Status::WT_RENAMED
        | Status::CONFLICTED;
    let mut edited = Vec::new();
    for p in &paths {
        let path = Path::new(p);
        let st = match repo.status_file(path) {
            Ok(s) => s,
            Err(e) if e.code() == git2::ErrorCode::NotFound => Status::CURRENT,
            Err(e) => return Err(e.into()),
        };
        let in_index = index.get_path(path, 0).map(|e| e.id);
        let allowed = [
            from.get_path(path).ok().map(|e| e.id()),
            to.get_path(path).ok().map(|e| e.id()),
        ];
        if st.intersects(worktree_changed) || !allowed.contains(&in_index) {
            edited.push(p.clone());
        }
    }
    if !edited.is_empty() {
        return Err(Error::user(format!(
            "files the merge changes were edited in the main checkout: {}",
            list_some(&edited, 8)
        ))
        .with_hint("commit, stash or discard those edits, then run the command again"));
    }
    let mut cb = CheckoutBuilder::new();
    cb.force().disable_pathspec_match(true);
    for p in &paths {
        cb.path(p.as_str());
    }
    repo.checkout_tree(to.as_object(), Some(&mut cb))?;
    // Paths `to` does not have: make sure they are gone from disk and index.
    let mut index = repo.index()?;
    for p in &paths {
        let path = Path::new(p);
        if to.get_path(path).is_ok() {
            continue;
        }
        let full = workdir.join(path);
        // Confined: a directory link on the way never leads the removal out.
        crate::confine::remove_file(&Project::at(&workdir), &full)?;
        let mut dir = full.parent();
        while let Some(d) = dir {
            if d == workdir || std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        if index.get_path(path, 0).is_some() {
            index.remove_path(path)?;
        }
    }
    index.write()?;
    Ok(paths)
}

struct Finished {
    record_commit: Option<Oid>,
    wps_done: Vec<String>,
    removed_worktrees: Vec<PathBuf>,
    removed_branches: Vec<String>,
    kept: Vec<String>,
}

/// After landing: work packages to done, meta.json, lane cleanup, state file.
fn finish(
    project: &Project,
    mission: &Mission,
    repo: &Repository,
    state: &mut MergeState,
    keep: bool,
) -> Result<Finished> {
    state.phase = Phase::Finishing;
    write_state(project, state)?;
    let keep = keep || state.keep_worktrees;
    let merged_short = short_str(&state.target_after);

    let store = StatusStore::for_mission(project, mission);
    let (snap, _) = store.snapshot()?;
    let files = if mission.tasks_dir().is_dir() {
        wp::load_all(&mission.tasks_dir())?
    } else {
        Vec::new()
    };
    let mut wps_done = Vec::new();
    for f in &files {
        if snap.lane_of(&f.id) == Some(Lane::Approved) {
            ops::move_wp(
                project,
                mission,
                &MoveRequest {
                    wp_id: f.id.clone(),
                    to: "done".into(),
                    agent: Some(state.actor.clone()),
                    note: Some(format!(
                        "merged into {} at {merged_short} by spec-kitty merge",
                        state.target_branch
                    )),
                    landed: Some(state.target_after.clone()),
                    ..Default::default()
                },
            )?;
            wps_done.push(f.id.clone());
        }
    }

    let recorded = mission.meta_str("merged_commit") == Some(state.target_after.as_str());
    if !recorded {
        let _lock = FileLock::acquire(
            &mission.status_lock_path(project),
            LOCK_TIMEOUT,
            &format!("mission {}", mission.slug),
        )?;
        let mut meta = read_meta(&mission.meta_file())?;
        meta.insert("merged_at".into(), Value::String(crate::timefmt::now_iso()));
        meta.insert("merged_by".into(), Value::String(state.actor.clone()));
        meta.insert(
            "merged_into".into(),
            Value::String(state.target_branch.clone()),
        );
        meta.insert(
            "merged_strategy".into(),
            Value::String(state.strategy.as_str().into()),
        );
        meta.insert(
            "merged_commit".into(),
            Value::String(state.target_after.clone()),
        );
        write_meta_file(&mission.meta_file(), &meta)?;
    }
    let record_commit = record_on_target(project, mission, repo, state)?;

    let mut removed_worktrees = Vec::new();
    let mut removed_branches = Vec::new();
    let mut kept = Vec::new();
    if keep {
        kept.extend(
            state
                .lanes
                .iter()
                .map(|l| format!("{}: kept (--keep-worktrees)", l.lane_id)),
        );
    } else {
        for lane in &state.lanes {
            if lane.worktree.exists() && workspace::is_dirty(&lane.worktree).unwrap_or(true) {
                kept.push(format!(
                    "{}: {} has uncommitted changes made after the merge; kept",
                    lane.lane_id,
                    lane.worktree.display()
                ));
                continue;
            }
            let now = branch_tip(repo, &lane.branch);
            if now.is_some_and(|t| t.to_string() != lane.tip) {
                kept.push(format!(
                    "{}: {} has commits made after the merge; kept",
                    lane.lane_id, lane.branch
                ));
                continue;
            }
            let (w, b) = workspace::remove_lane_workspace(
                project,
                repo,
                &lane.worktree_name,
                &lane.worktree,
                &lane.branch,
            )?;
            removed_worktrees.extend(w);
            match b {
                Some(b) => removed_branches.push(b),
                None if branch_tip(repo, &lane.branch).is_some() => kept.push(format!(
                    "{}: {} is checked out in the main checkout; kept",
                    lane.lane_id, lane.branch
                )),
                None => {}
            }
        }
    }
    remove_state(project, &mission.slug)?;
    Ok(Finished {
        record_commit,
        wps_done,
        removed_worktrees,
        removed_branches,
        kept,
    })
}

fn record_summary(mission: &Mission, target: &str) -> String {
    format!("Record mission {} merged into {target}", mission.slug)
}

/// Commit the mission's final `kitty-specs/<slug>/` files on the target: the
/// work packages done, the merge in meta.json, the status log. The files come
/// from the main checkout (where spec-kitty keeps them); its index follows
/// when it is on the target. None when the target already holds them.
fn record_on_target(
    project: &Project,
    mission: &Mission,
    repo: &Repository,
    state: &MergeState,
) -> Result<Option<Oid>> {
    let prefix = super::record::mission_prefix(&project.root, &mission.dir)?;
    let tip = branch_tip(repo, &state.target_branch).ok_or_else(|| {
        Error::user(format!(
            "target branch {} disappeared during the merge",
            state.target_branch
        ))
    })?;
    let tree = repo.find_commit(tip)?.tree()?;
    let files = super::record::changed_under(repo, Some(&tree), &prefix)?;
    if files.is_empty() {
        return Ok(None);
    }
    let on_target = head_branch(repo).as_deref() == Some(state.target_branch.as_str());
    let message = format!(
        "{}\n\nThe mission's final state, committed by `spec-kitty merge`: every work\npackage done, the merge recorded in meta.json, the status event log.\n",
        record_summary(mission, &state.target_branch)
    );
    super::record::commit_paths(repo, &state.target_branch, &files, &message, on_target)
}

/// Finish a merge that stopped part-way.
pub fn continue_merge(project: &Project, mission: &Mission, keep: bool) -> Result<MergeReport> {
    let repo = open_repo(project)?;
    let _lock = merge_lock(project)?;
    let state = read_state(project, &mission.slug)?.ok_or_else(|| {
        Error::user(format!("no merge of {} is in progress", mission.slug)).with_hint(format!(
            "start one with `spec-kitty merge --mission {}`",
            mission.slug
        ))
    })?;
    run_to_end(project, mission, &repo, state, keep)
}

/// Undo a merge that stopped before finishing: the target and mission branches
/// go back to their exact pre-merge commits, and the main checkout's files the
/// merge changed go back with them.
pub fn abort(project: &Project, mission: &Mission) -> Result<AbortReport> {
    let repo = open_repo(project)?;
    let _lock = merge_lock(project)?;
    let state = read_state(project, &mission.slug)?.ok_or_else(|| {
        Error::user(format!(
            "no merge of {} is in progress; there is nothing to abort",
            mission.slug
        ))
    })?;
    if state.phase == Phase::Finishing {
        return Err(Error::user(format!(
            "the merge of {} already landed on {} and is being finished; it cannot be aborted",
            mission.slug, state.target_branch
        ))
        .with_hint(in_progress_hint(&mission.slug, Phase::Finishing)));
    }
    let before = oid(&state.target_before)?;
    let after = oid(&state.target_after)?;
    let msg = format!("spec-kitty merge --abort: {}", state.mission_slug);
    let on_target = head_branch(&repo).as_deref() == Some(state.target_branch.as_str());
    let tref = format!("refs/heads/{}", state.target_branch);
    let mut files_restored = Vec::new();
    match branch_tip(&repo, &state.target_branch) {
        Some(t) if t == after || t == before => {
            if t == after && after != before {
                repo.reference_matching(&tref, before, true, after, &msg)?;
            }
            if on_target {
                let from = repo.find_commit(after)?.tree()?;
                let to = repo.find_commit(before)?.tree()?;
                files_restored = switch_files(&repo, &from, &to)?;
            }
        }
        other => {
            return Err(moved_error(
                &state.target_branch,
                other,
                Some(&state.target_after),
            ))
        }
    }
    let mission_after = oid(&state.mission_after)?;
    let mission_before = state.mission_before.as_deref().map(oid).transpose()?;
    let mref = format!("refs/heads/{}", state.mission_branch);
    match branch_tip(&repo, &state.mission_branch) {
        Some(t) if t == mission_after && Some(t) != mission_before => match mission_before {
            Some(b) => {
                repo.reference_matching(&mref, b, true, t, &msg)?;
            }
            None => {
                repo.find_reference(&mref)?.delete()?;
            }
        },
        now if now == mission_before => {}
        other => {
            return Err(moved_error(
                &state.mission_branch,
                other,
                Some(&state.mission_after),
            ))
        }
    }
    remove_state(project, &mission.slug)?;
    Ok(AbortReport {
        mission_slug: mission.slug.clone(),
        target_branch: state.target_branch.clone(),
        target_restored_to: state.target_before.clone(),
        mission_branch: state.mission_branch.clone(),
        mission_branch_restored_to: state.mission_before.clone(),
        checked_out: on_target,
        files_restored,
    })
}

/// The conflict list: every pair that conflicts on its own, plus the step where
/// the integration stopped if no pair explains it.
fn conflict_pairs(
    repo: &Repository,
    parties: &[Party],
    stuck: Option<&Stuck>,
) -> Result<Vec<ConflictPair>> {
    let mut out: Vec<ConflictPair> = integrate::pairwise_conflicts(repo, parties)?
        .into_iter()
        .map(|(a, b, files)| ConflictPair {
            between: [a, b],
            commit: None,
            files,
        })
        .collect();
    if let Some(s) = stuck {
        let explained = out
            .iter()
            .any(|c| c.between.contains(&s.what) && s.files.iter().all(|f| c.files.contains(f)));
        if !explained || s.commit.is_some() {
            out.push(ConflictPair {
                between: [s.into.clone(), s.what.clone()],
                commit: s.commit.clone(),
                files: s.files.clone(),
            });
        }
    }
    Ok(out)
}

fn conflict_error(mission: &Mission, report: &MergeReport, code: &[CodeLane]) -> Error {
    let lines: Vec<String> = report
        .conflicts
        .iter()
        .map(|c| {
            format!(
                "  - {} and {}{}: {}",
                c.between[0],
                c.between[1],
                c.commit
                    .as_deref()
                    .map(|x| format!(" (at commit {x})"))
                    .unwrap_or_default(),
                c.files.join(", ")
            )
        })
        .collect();
    let worktree_of = |id: &str| {
        code.iter()
            .find(|l| l.lane_id == id)
            .map(|l| (l.worktree.display().to_string(), l.branch.clone()))
    };
    let branch_of = |id: &str| {
        code.iter()
            .find(|l| l.lane_id == id)
            .map(|l| l.branch.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let hint = match report.conflicts.first() {
        Some(c) => match worktree_of(&c.between[1]) {
            Some((wt, _)) => format!(
                "resolve it in a lane: `git -C {wt} merge {}`, fix the files, commit; then `spec-kitty accept --mission {}` and merge again",
                branch_of(&c.between[0]),
                mission.slug
            ),
            None => format!(
                "resolve it on a lane branch, then `spec-kitty accept --mission {}` and merge again",
                mission.slug
            ),
        },
        None => "resolve the conflict on a lane branch, accept again and merge again".into(),
    };
    Error::user(format!(
        "cannot merge {}: lanes conflict; nothing was changed:\n{}",
        mission.slug,
        lines.join("\n")
    ))
    .with_hint(hint)
    .with_details(report_details(report))
}

/// The report as extra fields of a `--json` error object.
fn report_details(report: &MergeReport) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.remove("result");
    }
    v
}
