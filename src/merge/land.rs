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

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::accept::{dependency_problems, recorded, unfinished_wps};
use super::error::{ConflictFix, MergeError};
use super::integrate::{self, Input, LaneInput, Outcome, Party, Stuck};
use super::{code_lanes, open_repo, short, target_branch, CodeLane, LaneAction, Strategy};
use crate::git::merge_tree::Committer;
use crate::git::{Oid, Repo};
type Result<T, E = MergeError> = std::result::Result<T, E>;
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::mission::{read_meta, write_meta_file, Mission};
use crate::project::Project;
use crate::status::ops::{self, MoveRequest};
use crate::status::{Lane, StatusStore};
use crate::tasks_md::wp;
use crate::workspace;

#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    pub strategy: Strategy,
    pub dry_run: bool,
    /// Leave the lane worktrees in place after a successful merge.
    pub keep_worktrees: bool,
    /// Leave the lane branches in place after a successful merge (a branch
    /// checked out in a kept worktree stays anyway).
    pub keep_branches: bool,
    /// Land on this branch instead of the mission's target branch.
    pub target: Option<String>,
}

/// What to keep after a merge, for `--continue`: each flag adds to what the
/// interrupted run was told to keep.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep {
    pub worktrees: bool,
    pub branches: bool,
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
pub enum Phase {
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
    /// Older state files have no such key: they kept branches with worktrees.
    #[serde(default)]
    keep_branches: bool,
    actor: String,
    order: Vec<String>,
    lanes: Vec<StateLane>,
    outcomes: Vec<LaneOutcome>,
    commits_created: Vec<String>,
    notes: Vec<String>,
    /// Lanes whose workspace removal has started (finishing). A kill part-way
    /// through leaves a half-deleted worktree, which `--continue` finishes
    /// removing rather than keeping it for the "changes" the deletion made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    removing: Vec<String>,
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
    project
        .merge_state_path(slug)
        .ok_or_else(|| MergeError::NoGitDir {
            root: project.root.clone(),
        })
}

fn read_state(project: &Project, slug: &str) -> Result<Option<MergeState>> {
    let path = state_path(project, slug)?;
    if !path.exists() {
        return Ok(None);
    }
    let text = fsutil::read_to_string(&path)?;
    crate::bounds::json(&text)
        .map(Some)
        .map_err(|source| MergeError::BadState {
            line: source.line().unwrap_or(1),
            path,
            source,
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
    crate::confine::remove_file(project, &path)?;
    Ok(())
}

fn merge_lock(project: &Project) -> Result<FileLock> {
    FileLock::acquire(
        &project.locks_dir().join("merge.lock"),
        LOCK_TIMEOUT,
        "merges in this repository",
    )
    .map_err(MergeError::from)
}

fn oid(s: &str) -> Result<Oid> {
    Oid::from_str(s).map_err(|_| MergeError::BadCommitId { id: s.to_string() })
}

fn identity(repo: &Repo) -> Result<Committer> {
    repo.committer()?.ok_or(MergeError::NoIdentity)
}

/// Every path of the main checkout git reports as changed, staged or
/// untracked (ignored files and lane worktrees left out).
fn main_checkout_dirt(repo: &Repo) -> Result<Vec<String>> {
    let mut dirt = repo.dirty_paths()?;
    dirt.retain(|path| !path.starts_with(".worktrees/"));
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
    let lanes = workspace::require_lanes(project, mission)?;
    let (snap, _) = StatusStore::for_mission(project, mission).snapshot()?;
    // Merge walks every lane: the whole acting read.
    let lanes = lanes.manifest();
    let (code, notes) = code_lanes(project, mission, lanes, &snap)?;
    let setup = Setup::resolve(&repo, mission, lanes, code, opts.target.as_deref())?;
    let mut report = new_report(mission, &setup, opts, notes);
    let (mut blockers, tolerated) =
        preconditions(project, mission, &repo, &setup, &snap, &mut report.notes)?;
    let sig = signature(&repo, opts.dry_run, &mut blockers)?;
    let integrated = if setup.tips.iter().all(Option::is_some) {
        simulate(
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
    report.out_of_scope = crate::status::work::out_of_scope(Some(&repo), project, mission)?;
    report.would_merge = report.blockers.is_empty() && report.conflicts.is_empty();
    if opts.dry_run {
        return Ok(report);
    }
    refuse_blockers(mission, &report)?;
    let Some(done) = integrated else {
        return Err(conflict_error(mission, &report, &setup.code));
    };
    let state = landing_state(mission, &setup, opts, &sig, &done, &report);
    crate::env::pause_at(crate::env::PausePoint::MergeBeforeLanding);
    hold_mission(project, mission, &state, &mut report)?;
    crate::env::pause_at(crate::env::PausePoint::MergeHoldsMission);
    run_to_end(project, mission, &repo, state, Keep::default())
}

/// The moment the merge takes the mission: under the status lock, every work
/// package is checked again (a review may have sent one back since the
/// preconditions were read) and the state file is written. From then on
/// `move-task` refuses to move the mission's work packages until the merge
/// finished or was aborted; a move that got in first makes the merge refuse,
/// changing nothing. Exactly one of the two wins.
fn hold_mission(
    project: &Project,
    mission: &Mission,
    state: &MergeState,
    report: &mut MergeReport,
) -> Result<()> {
    let store = StatusStore::for_mission(project, mission);
    let held = store.hold()?;
    let snap = store.snapshot_held(&held)?;
    let late = work_package_blockers(mission, &snap)?;
    if !late.is_empty() {
        report.blockers = late;
        report.would_merge = false;
        return refuse_blockers(mission, report);
    }
    write_state(project, state)
}

/// A merge of this mission that stopped part-way must be resumed or aborted first.
fn refuse_in_progress(project: &Project, mission: &Mission) -> Result<()> {
    let Some(state) = read_state(project, &mission.slug)? else {
        return Ok(());
    };
    Err(MergeError::InProgress {
        slug: mission.slug.clone(),
        target: state.target_branch,
        phase: state.phase,
    })
}

impl Setup {
    /// The branches and tips the merge works with; refuses a mission merged
    /// before whose lane branches are gone, and a missing target branch.
    fn resolve(
        repo: &Repo,
        mission: &Mission,
        lanes: &crate::lanes::model::LanesManifest,
        code: Vec<CodeLane>,
        target_override: Option<&str>,
    ) -> Result<Setup> {
        let mission_branch = mission.mission_branch();
        let target = match target_override {
            Some(t) => {
                let lane_branch = code.iter().any(|l| l.branch == t);
                if !crate::git::valid_branch_name(t) || t == mission_branch || lane_branch {
                    return Err(MergeError::BadTarget {
                        target: t.to_string(),
                        slug: mission.slug.clone(),
                    });
                }
                t.to_string()
            }
            None => target_branch(mission, Some(lanes)),
        };
        let tips: Vec<Option<Oid>> = code.iter().map(|l| repo.branch_tip(&l.branch)).collect();
        let target_now = repo.branch_tip(&target);
        // Every lane tip still here already on the target: a teammate's clone
        // that pulled the merge. It is never merged (nor recorded) again.
        let all_landed = tips
            .iter()
            .flatten()
            .all(|t| target_now.is_some_and(|to| repo.contains(to, *t).unwrap_or(false)));
        if let Some(at) = mission.meta_str("merged_at") {
            if !code.is_empty() && all_landed {
                return Err(MergeError::AlreadyMerged {
                    slug: mission.slug.clone(),
                    into: mission
                        .meta_str("merged_into")
                        .unwrap_or(&target)
                        .to_string(),
                    at: at.to_string(),
                    commit: mission.meta_str("merged_commit").map(str::to_string),
                });
            }
        }
        let target_tip = repo
            .branch_tip(&target)
            .ok_or_else(|| MergeError::NoTarget {
                target: target.clone(),
                slug: mission.slug.clone(),
            })?;
        Ok(Setup {
            mission_tip: repo.branch_tip(&mission_branch),
            head: repo.head_branch(),
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
fn signature(repo: &Repo, dry_run: bool, blockers: &mut Vec<Blocker>) -> Result<Committer> {
    match identity(repo) {
        Ok(s) => Ok(s),
        Err(e) if dry_run => {
            blockers.push(Blocker {
                gate: "identity",
                problem: crate::error::Diagnose::message(&e),
            });
            Ok(Committer::now("spec-kitty", "spec-kitty@localhost")?)
        }
        Err(e) => Err(e),
    }
}

/// A real merge with any blocker stops here, before anything changes.
fn refuse_blockers(mission: &Mission, report: &MergeReport) -> Result<()> {
    if report.blockers.is_empty() {
        return Ok(());
    }
    Err(MergeError::Blocked {
        slug: mission.slug.clone(),
        problems: report.blockers.iter().map(|b| b.problem.clone()).collect(),
        details: report_details(report),
    })
}

/// The state file written before landing: everything needed to finish,
/// resume or abort the merge.
fn landing_state(
    mission: &Mission,
    setup: &Setup,
    opts: &MergeOptions,
    sig: &Committer,
    done: &integrate::Integrated,
    report: &MergeReport,
) -> MergeState {
    let actor = mission
        .meta_str("accepted_by")
        .map(str::to_string)
        .or_else(|| Some(sig.name.clone()))
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
        keep_branches: opts.keep_branches || opts.keep_worktrees,
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
        removing: Vec::new(),
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
    project: &Project,
    mission: &Mission,
    repo: &Repo,
    setup: &Setup,
    snap: &crate::status::Snapshot,
    notes: &mut Vec<String>,
) -> Result<(Vec<Blocker>, Vec<String>)> {
    let mut blockers = acceptance_blockers(mission, setup)?;
    blockers.extend(work_package_blockers(mission, snap)?);
    blockers.extend(lane_blockers(setup));
    blockers.extend(
        dependency_problems(project, mission, repo, &setup.code, &setup.tips)?
            .into_iter()
            .map(|p| blocker("lost_work", p)),
    );
    blockers.extend(checked_out_blockers(repo, setup));
    let tolerated = main_checkout_state(repo, setup, &mut blockers, notes)?;
    Ok((blockers, tolerated))
}

fn blocker(gate: &'static str, problem: String) -> Blocker {
    Blocker { gate, problem }
}

/// The mission was accepted, and no lane moved since.
fn acceptance_blockers(mission: &Mission, setup: &Setup) -> Result<Vec<Blocker>> {
    let slug = &mission.slug;
    let Some((at, accepted)) = recorded(mission)? else {
        return Ok(vec![blocker(
            "accepted",
            format!("{slug} has not been accepted; run `spec-kitty accept --mission {slug}` first"),
        )]);
    };
    let mut out = Vec::new();
    for (lane, tip) in setup.code.iter().zip(&setup.tips) {
        let Some(tip) = tip else { continue };
        match accepted.get(&lane.lane_id) {
            Some(t) if *t == tip.to_string() => {}
            Some(t) => out.push(blocker(
                "accepted",
                format!(
                    "{} changed since the mission was accepted at {at} (accepted {}, now {}); run `spec-kitty accept --mission {slug}` again",
                    lane.lane_id,
                    short(t),
                    short(*tip),
                ),
            )),
            None => out.push(blocker(
                "accepted",
                format!(
                    "{} was not part of the acceptance at {at}; run `spec-kitty accept --mission {slug}` again",
                    lane.lane_id
                ),
            )),
        }
    }
    Ok(out)
}

/// Every work package is approved or done.
fn work_package_blockers(
    mission: &Mission,
    snap: &crate::status::Snapshot,
) -> Result<Vec<Blocker>> {
    Ok(unfinished_wps(mission, snap)?
        .1
        .into_iter()
        .map(|p| {
            blocker(
                "work_packages",
                format!("{p}; every work package must be approved or done"),
            )
        })
        .collect())
}

/// Every lane branch exists and its worktree holds nothing uncommitted.
fn lane_blockers(setup: &Setup) -> Vec<Blocker> {
    let mut out = Vec::new();
    for (lane, tip) in setup.code.iter().zip(&setup.tips) {
        if tip.is_none() {
            out.push(blocker(
                "lane_branches",
                format!("{}: branch {} does not exist", lane.lane_id, lane.branch),
            ));
        }
        if lane.worktree.exists() && workspace::is_dirty(&lane.worktree).unwrap_or(true) {
            out.push(blocker(
                "lane_worktrees_clean",
                format!(
                    "{}: {} has uncommitted changes that would not be merged; commit them on {}",
                    lane.lane_id,
                    lane.worktree.display(),
                    lane.branch
                ),
            ));
        }
    }
    out
}

/// Neither branch the merge moves is checked out elsewhere: in a linked
/// worktree, or (the mission branch) in the main checkout.
fn checked_out_blockers(repo: &Repo, setup: &Setup) -> Vec<Blocker> {
    let target = &setup.target;
    let linked = repo.linked_checkouts();
    let mut out: Vec<Blocker> = [target, &setup.mission_branch]
        .into_iter()
        .filter_map(|b| {
            linked.get(b.as_str()).map(|path| {
                blocker(
                    "target",
                    format!(
                        "{b} is checked out in the worktree {}; switch that worktree to another branch first",
                        path.display()
                    ),
                )
            })
        })
        .collect();
    if setup.head.as_deref() == Some(setup.mission_branch.as_str()) {
        out.push(blocker(
            "target",
            format!(
                "the main checkout is on the mission branch {}, which the merge moves; switch it to {target} first (`git switch {target}`)",
                setup.mission_branch
            ),
        ));
    }
    out
}

/// On the target, the main checkout must not be mid-operation; its modified
/// and untracked files are returned (whether they are in the way is known once
/// the merge result is). Elsewhere only the ref moves, which a note says.
fn main_checkout_state(
    repo: &Repo,
    setup: &Setup,
    blockers: &mut Vec<Blocker>,
    notes: &mut Vec<String>,
) -> Result<Vec<String>> {
    let target = &setup.target;
    if !setup.on_target() {
        notes.push(match &setup.head {
            Some(b) => format!(
                "the main checkout is on {b}, not {target}: only the {target} branch moves; your working tree is left alone"
            ),
            None => format!(
                "the main checkout is detached: only the {target} branch moves; your working tree is left alone"
            ),
        });
        return Ok(Vec::new());
    }
    if let Some(state) = repo.state().operation() {
        blockers.push(blocker(
            "target",
            format!(
                "the main checkout is in the middle of a {state} operation; finish or abort it first"
            ),
        ));
    }
    main_checkout_dirt(repo)
}

/// Run the integration against an in-memory object database, fill the report
/// (lane outcomes, conflicts, the refs after), add a blocker when modified
/// mission files would be overwritten, and, for a real merge that can go ahead,
/// write the new objects to the repository as one pack.
#[allow(clippy::too_many_arguments)]
fn simulate(
    repo: &Repo,
    mission: &Mission,
    setup: &Setup,
    opts: &MergeOptions,
    sig: &Committer,
    tolerated: &[String],
    blockers: &mut Vec<Blocker>,
    report: &mut MergeReport,
) -> Result<Option<integrate::Integrated>> {
    let inputs = lane_inputs(setup);
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
    repo.in_memory(|sim, pending| {
        let outcome = integrate::integrate(sim, &input)?;
        let stuck = match &outcome {
            Outcome::Conflict(s) => Some(s.clone()),
            Outcome::Clean(_) => None,
        };
        if let Some(s) = &stuck {
            mark_stuck(&mut report.lanes, s);
        }
        if stuck.is_some() || opts.dry_run {
            report.conflicts = conflict_pairs(sim, &parties(setup, &inputs), stuck.as_ref())?;
        }
        let Outcome::Clean(done) = outcome else {
            return Ok(None);
        };
        record_steps(&mut report.lanes, &done.steps);
        blockers.extend(in_the_way_blocker(sim, setup, &done, tolerated)?);
        if opts.dry_run {
            report.planned_commits = planned_commits(sim, mission, setup, &done)?;
        }
        report.target_after = Some(done.target_after.to_string());
        report.mission_branch_after = Some(done.mission_after.to_string());
        if !opts.dry_run && blockers.is_empty() {
            if !done.created.is_empty() {
                pending
                    .write()?
                    .map_err(|source| MergeError::WriteObjects { source })?;
            }
            report.commits_created = done.created.iter().map(Oid::to_string).collect();
        }
        Ok(Some(done))
    })
}

/// The lanes that have a branch, as the integration takes them.
fn lane_inputs(setup: &Setup) -> Vec<LaneInput> {
    setup
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
        .collect()
}

/// The lanes merged before the integration stopped, and the one it stopped at.
fn mark_stuck(lanes: &mut [LaneOutcome], stuck: &Stuck) {
    record_steps(lanes, &stuck.done);
    if let Some(l) = lanes.iter_mut().find(|l| l.lane_id == stuck.what) {
        l.action = LaneAction::Conflict;
    }
}

/// Everything that takes part in the merge, for the pairwise conflict check:
/// the target, the mission branch (if it exists) and every lane.
fn parties(setup: &Setup, inputs: &[LaneInput]) -> Vec<Party> {
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
    parties
}

/// A blocker when uncommitted or untracked files of the main checkout stand
/// where the merge writes.
fn in_the_way_blocker(
    sim: &Repo,
    setup: &Setup,
    done: &integrate::Integrated,
    tolerated: &[String],
) -> Result<Option<Blocker>> {
    let changed = sim.changed_paths(setup.target_tip, done.target_after)?;
    let overlap = in_the_way(tolerated, &changed);
    Ok((!overlap.is_empty()).then(|| {
        blocker(
            "target",
            format!(
                "the main checkout ({}) has uncommitted changes or untracked files where the merge writes: {}; commit, stash or move them first",
                setup.target,
                overlap.join(", ")
            ),
        )
    }))
}

/// The commits a real merge would create (`<branch>: <summary>`), the record
/// commit last.
fn planned_commits(
    sim: &Repo,
    mission: &Mission,
    setup: &Setup,
    done: &integrate::Integrated,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for &c in &done.created {
        let summary = sim.summary(c)?;
        let on_mission = sim.contains(done.mission_after, c)?;
        let branch = if on_mission && done.mission_after != done.target_after {
            &setup.mission_branch
        } else {
            &setup.target
        };
        out.push(format!("{branch}: {}", summary.as_deref().unwrap_or("")));
    }
    out.push(format!(
        "{}: {}",
        setup.target,
        record_summary(mission, &setup.target)
    ));
    Ok(out)
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
    repo: &Repo,
    mut state: MergeState,
    keep: Keep,
) -> Result<MergeReport> {
    let checked_out = if state.phase == Phase::Landing {
        land_and_note(project, mission, repo, &mut state)?
    } else {
        repo.head_branch().as_deref() == Some(state.target_branch.as_str())
    };
    let finished = finish(project, mission, repo, &mut state, keep)
        .map_err(|e| resume_hint(&mission.slug, Phase::Finishing, e))?;
    Ok(finished_report(repo, &state, finished, checked_out))
}

/// An error of a merge in progress, its hint followed by how to resume.
fn resume_hint(slug: &str, phase: Phase, e: MergeError) -> MergeError {
    MergeError::Resumable {
        slug: slug.to_string(),
        phase,
        inner: Box::new(e),
    }
}

/// Land the refs and files, then note in the state file that they landed.
/// Returns whether the main checkout's files were updated.
fn land_and_note(
    project: &Project,
    mission: &Mission,
    repo: &Repo,
    state: &mut MergeState,
) -> Result<bool> {
    crate::env::crash_point(crate::env::CrashPoint::BeforeLanding);
    let on = land(repo, state).map_err(|e| resume_hint(&mission.slug, Phase::Landing, e))?;
    state.phase = Phase::Landed;
    write_state(project, state)?;
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("landed-state"));
    // Test hook: stop here as a crash would, so the tests can drive
    // `--continue` and `--abort`. Compiled out of normal builds.
    if crate::env::merge_interrupt_after_landing() {
        return Err(resume_hint(
            &mission.slug,
            Phase::Landed,
            MergeError::InterruptHook {
                target: state.target_branch.clone(),
            },
        ));
    }
    Ok(on)
}

/// The report of a merge that landed and finished.
fn finished_report(
    repo: &Repo,
    state: &MergeState,
    finished: Finished,
    checked_out: bool,
) -> MergeReport {
    MergeReport {
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
        head_branch: repo.head_branch(),
        checked_out,
        blockers: Vec::new(),
        conflicts: Vec::new(),
        wps_done: finished.wps_done,
        removed_worktrees: finished.removed_worktrees,
        removed_branches: finished.removed_branches,
        kept: finished.kept,
        notes: state.notes.clone(),
        out_of_scope: Vec::new(),
    }
}

/// Move the mission branch, then the target (files first when the main
/// checkout is on it). Idempotent: a step already done is skipped. Returns
/// whether the main checkout's files were updated.
fn land(repo: &Repo, state: &MergeState) -> Result<bool> {
    let mission_after = oid(&state.mission_after)?;
    let mission_before = state.mission_before.as_deref().map(oid).transpose()?;
    let msg = format!("spec-kitty merge: {}", state.mission_slug);
    match repo.branch_tip(&state.mission_branch) {
        Some(t) if t == mission_after => {}
        // Nothing was integrated: no need for a mission branch.
        None if mission_before.is_none() && state.mission_after == state.target_before => {}
        None if mission_before.is_none() => {
            repo.create_branch_ref(&state.mission_branch, mission_after, &msg)?;
        }
        Some(t) if Some(t) == mission_before => {
            repo.move_branch_ref(&state.mission_branch, mission_after, t, &msg)?;
        }
        other => {
            return Err(moved_error(
                &state.mission_branch,
                other,
                state.mission_before.as_deref(),
            ))
        }
    }
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("mission-ref"));
    let before = oid(&state.target_before)?;
    let after = oid(&state.target_after)?;
    let on_target = repo.head_branch().as_deref() == Some(state.target_branch.as_str());
    match repo.branch_tip(&state.target_branch) {
        Some(t) if t == after => Ok(on_target),
        Some(t) if t == before => {
            if on_target {
                switch_files(repo, before, after)?;
                crate::env::crash_point(crate::env::CrashPoint::MergeStep("files-switched"));
            }
            repo.move_branch_ref(&state.target_branch, after, before, &msg)?;
            crate::env::crash_point(crate::env::CrashPoint::MergeStep("target-ref"));
            Ok(on_target)
        }
        other => Err(moved_error(
            &state.target_branch,
            other,
            Some(&state.target_before),
        )),
    }
}

fn moved_error(branch: &str, now: Option<Oid>, before: Option<&str>) -> MergeError {
    MergeError::Moved {
        branch: branch.to_string(),
        now,
        before: before.map(str::to_string),
    }
}

/// Make the main checkout's files (and index) go from commit `from` to commit
/// `to`, touching only the paths that differ between them. Every such path
/// must hold the content of one of the two trees, with the working file equal
/// to the index: anything else is somebody's edit, and nothing is changed.
fn switch_files(repo: &Repo, from: Oid, to: Oid) -> Result<Vec<String>> {
    let plan = repo.switch_plan(from, to)?;
    if plan.paths.is_empty() {
        return Ok(plan.paths);
    }
    if !plan.edited.is_empty() {
        return Err(MergeError::Edited { paths: plan.edited });
    }
    // Test hooks: die with half the files written, or all of them and the
    // index not yet (libgit2 writes it last).
    repo.checkout_paths(to, &plan.paths, |done, total| {
        if total > 1 && done == total / 2 {
            crate::env::crash_point(crate::env::CrashPoint::MergeStep("checkout-half"));
        }
        if total > 0 && done == total {
            crate::env::crash_point(crate::env::CrashPoint::MergeStep("checkout-done"));
        }
    })?;
    let workdir = repo
        .workdir()
        .ok_or(crate::git::GitError::NoWorkdir)?
        .to_path_buf();
    remove_gone(repo, &workdir, &plan.gone)?;
    Ok(plan.paths)
}

/// Paths the target commit does not have: make sure they are gone from disk
/// and index (with the directories they leave empty).
fn remove_gone(repo: &Repo, workdir: &Path, gone: &[String]) -> Result<()> {
    for p in gone {
        let full = workdir.join(p);
        // Confined: a directory link on the way never leads the removal out.
        crate::confine::remove_file(&Project::at(workdir), &full)?;
        let mut dir = full.parent();
        while let Some(d) = dir {
            if d == workdir || std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    repo.unstage_removed(gone)?;
    Ok(())
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
    repo: &Repo,
    state: &mut MergeState,
    keep: Keep,
) -> Result<Finished> {
    state.phase = Phase::Finishing;
    write_state(project, state)?;
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("finishing"));
    let wps_done = approved_to_done(project, mission, repo, state)?;
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("wps-done"));
    record_merge_in_meta(project, mission, state)?;
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("meta"));
    let record_commit = record_on_target(project, mission, repo, state)?;
    let mut finished = Finished {
        record_commit,
        wps_done,
        removed_worktrees: Vec::new(),
        removed_branches: Vec::new(),
        kept: Vec::new(),
    };
    let keep_worktrees = keep.worktrees || state.keep_worktrees;
    let keep_branches = keep.branches || state.keep_branches;
    if keep_worktrees && keep_branches {
        finished.kept.extend(
            state
                .lanes
                .iter()
                .map(|l| format!("{}: worktree and branch kept (asked)", l.lane_id)),
        );
    } else {
        for lane in state.lanes.clone() {
            clean_up_lane(
                project,
                repo,
                state,
                &lane,
                Keep {
                    worktrees: keep_worktrees,
                    branches: keep_branches,
                },
                &mut finished,
            )?;
        }
    }
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("before-state-removed"));
    remove_state(project, &mission.slug)?;
    Ok(finished)
}

/// Move every approved work package to done, noting where it landed.
fn approved_to_done(
    project: &Project,
    mission: &Mission,
    repo: &Repo,
    state: &MergeState,
) -> Result<Vec<String>> {
    let merged_short = short(&state.target_after);
    let (snap, _) = StatusStore::for_mission(project, mission).snapshot()?;
    let files = if mission.tasks_dir().is_dir() {
        wp::load_all(&mission.tasks_dir())?
    } else {
        Vec::new()
    };
    let mut wps_done = Vec::new();
    for f in &files {
        if snap.lane_of(&f.id) == Some(Lane::Approved) {
            ops::move_wp(
                Some(repo),
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
    Ok(wps_done)
}

/// Record the merge in meta.json (once: a resumed merge finds it there).
fn record_merge_in_meta(project: &Project, mission: &Mission, state: &MergeState) -> Result<()> {
    if mission.meta_str("merged_commit") == Some(state.target_after.as_str()) {
        return Ok(());
    }
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
    Ok(write_meta_file(&mission.meta_file(), &meta)?)
}

/// Remove a merged lane's worktree and branch, unless work was added there
/// after the merge (then both stay, and `finished.kept` says why).
fn clean_up_lane(
    project: &Project,
    repo: &Repo,
    state: &mut MergeState,
    lane: &StateLane,
    keep: Keep,
    finished: &mut Finished,
) -> Result<()> {
    // Removal already started, by a run that found the worktree clean and was
    // killed deleting it: what looks changed is its own work.
    let resumed = state.removing.contains(&lane.lane_id);
    if !resumed && lane.worktree.exists() && workspace::is_dirty(&lane.worktree).unwrap_or(true) {
        finished.kept.push(format!(
            "{}: {} has uncommitted changes made after the merge; kept",
            lane.lane_id,
            lane.worktree.display()
        ));
        return Ok(());
    }
    let now = repo.branch_tip(&lane.branch);
    if now.is_some_and(|t| t.to_string() != lane.tip) {
        finished.kept.push(format!(
            "{}: {} has commits made after the merge; kept",
            lane.lane_id, lane.branch
        ));
        return Ok(());
    }
    if !resumed {
        state.removing.push(lane.lane_id.clone());
        write_state(project, state)?;
    }
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("lane-removing"));
    if keep.worktrees {
        // A branch checked out in a worktree cannot be deleted; keeping the
        // worktree keeps its branch.
        let there = lane.worktree.exists();
        finished.kept.push(if there {
            format!(
                "{}: worktree kept (asked); {} stays, it is checked out there",
                lane.lane_id, lane.branch
            )
        } else {
            format!("{}: worktree kept (asked)", lane.lane_id)
        });
        if !there && !keep.branches && repo.delete_branch_if_not_head(&lane.branch)? {
            finished.removed_branches.push(lane.branch.clone());
        }
        return Ok(());
    }
    if keep.branches {
        if crate::confine::remove_worktree_in(project, repo, &lane.worktree_name, &lane.worktree)? {
            finished.removed_worktrees.push(lane.worktree.clone());
        }
        finished.kept.push(format!(
            "{}: branch {} kept (asked)",
            lane.lane_id, lane.branch
        ));
        return Ok(());
    }
    // The worktree (confined, see [`crate::confine`]) and its registration,
    // then the branch.
    if crate::confine::remove_worktree_in(project, repo, &lane.worktree_name, &lane.worktree)? {
        finished.removed_worktrees.push(lane.worktree.clone());
    }
    // Test hook: a merge's clean-up killed between the two removals.
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("lane-worktree-removed"));
    match repo.delete_branch_if_not_head(&lane.branch)? {
        true => finished.removed_branches.push(lane.branch.clone()),
        false if repo.branch_tip(&lane.branch).is_some() => finished.kept.push(format!(
            "{}: {} is checked out in the main checkout; kept",
            lane.lane_id, lane.branch
        )),
        false => {}
    }
    Ok(())
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
    repo: &Repo,
    state: &MergeState,
) -> Result<Option<Oid>> {
    let prefix = crate::git::commit::dir_prefix(&project.root, &mission.dir)?;
    let _commits = repo.lock_commits()?;
    let tip =
        repo.branch_tip(&state.target_branch)
            .ok_or_else(|| MergeError::TargetDisappeared {
                target: state.target_branch.clone(),
            })?;
    let files = repo.changed_under(Some(tip), &prefix)?;
    let on_target = repo.head_branch().as_deref() == Some(state.target_branch.as_str());
    if files.is_empty() {
        // Nothing left to record. A run killed after the record commit moved
        // the target but before the index followed left that commit in place:
        // bring the index along and report it.
        let ours = repo.first_parent(tip)? == Some(oid(&state.target_after)?)
            && repo.summary(tip)?.as_deref()
                == Some(record_summary(mission, &state.target_branch).as_str());
        if !ours {
            return Ok(None);
        }
        if on_target {
            repo.index_follows(tip, &prefix)?;
        }
        return Ok(Some(tip));
    }
    let message = format!(
        "{}\n\nThe mission's final state, committed by `spec-kitty merge`: every work\npackage done, the merge recorded in meta.json, the status event log.\n",
        record_summary(mission, &state.target_branch)
    );
    Ok(repo.commit_paths(&state.target_branch, &files, &message, on_target)?)
}

/// Finish a merge that stopped part-way.
pub fn continue_merge(project: &Project, mission: &Mission, keep: Keep) -> Result<MergeReport> {
    let repo = open_repo(project)?;
    let _lock = merge_lock(project)?;
    let state = read_state(project, &mission.slug)?.ok_or_else(|| MergeError::NotInProgress {
        slug: mission.slug.clone(),
    })?;
    clear_own_ref_locks(&repo, &state)?;
    clear_own_index_lock(project, &repo, &state)
        .map_err(|e| resume_hint(&mission.slug, state.phase, e))?;
    run_to_end(project, mission, &repo, state, keep)
}

/// Remove the ref lock files a killed merge left on its own branches (target,
/// mission, and the lane branches finishing deletes).
/// git writes the new commit id into `<ref>.lock` and renames it over the ref,
/// so a kill in between leaves the lock, and every later update of that ref
/// fails. A lock counts as this merge's own only when it is a regular file
/// holding nothing yet, one of the commit ids the state file planned for that
/// ref, or a commit made on top of the planned target (the record commit);
/// anything else belongs to someone else and is left for git's own error.
/// The merge lock is held, so no other spec-kitty merge is writing them.
fn clear_own_ref_locks(repo: &Repo, state: &MergeState) -> Result<()> {
    let mut refs = vec![
        (
            &state.target_branch,
            vec![Some(&state.target_before), Some(&state.target_after)],
        ),
        (
            &state.mission_branch,
            vec![state.mission_before.as_ref(), Some(&state.mission_after)],
        ),
    ];
    // Finishing deletes the lane branches: git locks each (empty, or its tip).
    refs.extend(state.lanes.iter().map(|l| (&l.branch, vec![Some(&l.tip)])));
    let target_after = oid(&state.target_after)?;
    for (branch, planned) in refs {
        repo.clear_ref_lock_if_ours(branch, |text| {
            text.is_empty()
                || planned.iter().flatten().any(|o| o.as_str() == text)
                || Oid::from_str(text)
                    .ok()
                    .and_then(|o| repo.first_parent(o).ok())
                    .is_some_and(|p| p == Some(target_after))
        })?;
    }
    Ok(())
}

/// Remove the main checkout's `.git/index.lock` when a killed merge left it.
/// libgit2 writes the index last, through that lock, after the files of a
/// switch and of the record commit: a kill there leaves it, and every later
/// index write fails. It is the merge's own when the main checkout is on the
/// target (only then does the merge write that index) and the lock is a
/// regular file no older than the state file: the merge lock is held, so the
/// merge that wrote the state file is dead, and a lock from before it would
/// have stopped that merge at its first index write. A lock older than the
/// state file is someone else's: refused, naming it, nothing changed. (A git
/// command the user starts in the main checkout while `--continue` or
/// `--abort` starts could still hold a newer lock: do not run git there then.)
fn clear_own_index_lock(project: &Project, repo: &Repo, state: &MergeState) -> Result<()> {
    if repo.head_branch().as_deref() != Some(state.target_branch.as_str()) {
        return Ok(());
    }
    let lock = repo.git_dir().join("index.lock");
    let Ok(meta) = std::fs::symlink_metadata(&lock) else {
        return Ok(());
    };
    let state_written = std::fs::metadata(state_path(project, &state.mission_slug)?)
        .and_then(|m| m.modified())
        .ok();
    let ours = meta.is_file()
        && match (meta.modified().ok(), state_written) {
            (Some(l), Some(s)) => l >= s,
            _ => false,
        };
    if !ours {
        return Err(crate::git::GitError::IndexLocked { lock }.into());
    }
    match std::fs::remove_file(&lock) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("remove", &lock, e)),
    }
}

/// Undo a merge that stopped before finishing: the target and mission branches
/// go back to their exact pre-merge commits, and the main checkout's files the
/// merge changed go back with them.
pub fn abort(project: &Project, mission: &Mission) -> Result<AbortReport> {
    let repo = open_repo(project)?;
    let _lock = merge_lock(project)?;
    let state = abortable_state(project, mission)?;
    clear_own_ref_locks(&repo, &state)?;
    clear_own_index_lock(project, &repo, &state)?;
    let msg = format!("spec-kitty merge --abort: {}", state.mission_slug);
    let on_target = repo.head_branch().as_deref() == Some(state.target_branch.as_str());
    let files_restored = restore_target(&repo, &state, on_target, &msg)?;
    restore_mission_branch(&repo, &state, &msg)?;
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

/// The state of a merge in progress that has not started finishing.
fn abortable_state(project: &Project, mission: &Mission) -> Result<MergeState> {
    let state = read_state(project, &mission.slug)?.ok_or_else(|| MergeError::NothingToAbort {
        slug: mission.slug.clone(),
    })?;
    if state.phase == Phase::Finishing {
        return Err(MergeError::AlreadyFinishing {
            slug: mission.slug.clone(),
            target: state.target_branch,
        });
    }
    Ok(state)
}

/// The target back to its pre-merge commit and, when the main checkout is on
/// it, the files the merge changed back with it. Returns those files.
fn restore_target(
    repo: &Repo,
    state: &MergeState,
    on_target: bool,
    msg: &str,
) -> Result<Vec<String>> {
    let before = oid(&state.target_before)?;
    let after = oid(&state.target_after)?;
    match repo.branch_tip(&state.target_branch) {
        Some(t) if t == after || t == before => {
            if t == after && after != before {
                repo.move_branch_ref(&state.target_branch, before, after, msg)?;
            }
            if !on_target {
                return Ok(Vec::new());
            }
            switch_files(repo, after, before)
        }
        other => Err(moved_error(
            &state.target_branch,
            other,
            Some(&state.target_after),
        )),
    }
}

/// The mission branch back to its pre-merge commit, or gone when the merge
/// created it.
fn restore_mission_branch(repo: &Repo, state: &MergeState, msg: &str) -> Result<()> {
    let mission_after = oid(&state.mission_after)?;
    let mission_before = state.mission_before.as_deref().map(oid).transpose()?;
    match repo.branch_tip(&state.mission_branch) {
        Some(t) if t == mission_after && Some(t) != mission_before => match mission_before {
            Some(b) => {
                repo.move_branch_ref(&state.mission_branch, b, t, msg)?;
            }
            None => {
                repo.delete_branch_ref(&state.mission_branch)?;
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
    Ok(())
}

/// The conflict list: every pair that conflicts on its own, plus the step where
/// the integration stopped if no pair explains it.
fn conflict_pairs(
    repo: &Repo,
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

fn conflict_error(mission: &Mission, report: &MergeReport, code: &[CodeLane]) -> MergeError {
    let lane = |id: &str| code.iter().find(|l| l.lane_id == id);
    let fix = match report.conflicts.first() {
        Some(c) => match lane(&c.between[1]) {
            Some(l) => ConflictFix::InLane {
                worktree: l.worktree.display().to_string(),
                branch: lane(&c.between[0])
                    .map(|o| o.branch.clone())
                    .unwrap_or_else(|| c.between[0].clone()),
            },
            None => ConflictFix::OnLaneBranch,
        },
        None => ConflictFix::Unknown,
    };
    MergeError::Conflict {
        slug: mission.slug.clone(),
        conflicts: report.conflicts.clone(),
        fix: Box::new(fix),
        details: Box::new(report_details(report)),
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> MergeError {
    MergeError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The report as extra fields of a `--json` error object.
fn report_details(report: &MergeReport) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.remove("result");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_state_file_comes_back_typed_with_its_source() {
        let tmp = tempfile::tempdir().unwrap();
        git2::Repository::init(tmp.path()).unwrap();
        let project = Project::at(tmp.path());
        let path = state_path(&project, "001-x").unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\n  \"version\": 1,\n  oops\n").unwrap();
        let e = read_state(&project, "001-x").unwrap_err();
        let MergeError::BadState { path: p, line, .. } = &e else {
            panic!("not typed: {e:?}")
        };
        assert_eq!((p, *line), (&path, 3));
        assert!(std::error::Error::source(&e)
            .unwrap()
            .source()
            .unwrap()
            .downcast_ref::<serde_json::Error>()
            .is_some());
        assert_eq!(crate::Error::from(e).kind, crate::error::Kind::User);
    }

    #[test]
    fn state_failures_are_typed() {
        let e = oid("not-a-commit").unwrap_err();
        assert!(matches!(&e, MergeError::BadCommitId { id } if id == "not-a-commit"));
        let tmp = tempfile::tempdir().unwrap();
        let project = Project::at(tmp.path());
        let e = state_path(&project, "001-x").unwrap_err();
        assert!(matches!(e, MergeError::NoGitDir { .. }));
        let e = moved_error("main", None, Some("0123456789"));
        assert!(matches!(&e, MergeError::Moved { branch, now: None, .. } if branch == "main"));
    }

    /// A failure part-way through keeps the inner error's words and kind, and
    /// its hint is followed by how to resume.
    #[test]
    fn a_resumable_failure_keeps_its_inner_error_and_adds_the_resume_hint() {
        let inner = MergeError::from(crate::git::GitError::DetachedHead);
        let e = crate::Error::from(resume_hint("001-x", Phase::Landing, inner));
        assert_eq!(e.message, crate::git::GitError::DetachedHead.to_string());
        let hint = e.hint.as_deref().unwrap();
        assert!(hint.starts_with("switch to a branch"), "{hint}");
        assert!(
            hint.contains("; then: ") && hint.contains("--continue"),
            "{hint}"
        );
        let src = std::error::Error::source(&e).unwrap();
        assert!(matches!(
            src.downcast_ref::<MergeError>(),
            Some(MergeError::Resumable { inner, .. }) if matches!(**inner, MergeError::Git(crate::git::GitError::DetachedHead))
        ));
    }
}
