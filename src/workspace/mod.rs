//! Lane workspaces: one git worktree per code lane, the main checkout for planning.
//!
//! A code lane `lane-a` of mission `001-x` works in `.worktrees/001-x-lane-a` on
//! branch `kitty/mission-001-x-lane-a`, created the first time a WP of the lane
//! starts, from the mission's target branch. Before a WP is handed out, the
//! approved work of the WPs it depends on in other lanes is merged into its lane
//! branch ([`handoff`]); that merge is the only commit spec-kitty makes outside
//! `merge`, and only ever on a lane branch. Creating it never touches the main
//! checkout's HEAD, index or working tree. `.worktrees/` is
//! listed in `.git/info/exclude` so it never shows up as untracked.

use std::fs;
use std::path::{Path, PathBuf};

pub mod action;
pub mod error;
pub mod handoff;
pub mod scratch;

pub use error::WorkspaceError;

type Result<T, E = WorkspaceError> = std::result::Result<T, E>;

use serde::Serialize;

use crate::git::checkout::HeadState;
use crate::git::{GitError, Oid, Repo};

use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::lanes::model::{lane_branch, worktree_path, ExecLane, PLANNING_LANE};
use crate::lanes::{ActingLanes, LanesManifest};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::WpListing;
use crate::status::StatusStore;
use crate::tasks_md::WpFile;

/// Where a work package is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workspace {
    /// `repo_root` (planning work in the main checkout) or `lane_workspace`.
    pub kind: &'static str,
    pub path: PathBuf,
    pub lane_id: String,
    /// The lane branch; None for the main checkout.
    pub branch: Option<String>,
    /// The branch the lane starts from: the target branch, or the lane branch of
    /// a finished lane it depends on.
    pub base_branch: String,
    /// The branch finished work lands on (the mission's target branch).
    pub target_branch: String,
    /// True when this call created the worktree.
    pub created: bool,
    /// Work of other lanes merged into the lane branch by this call, because
    /// the WP depends on it.
    pub merged_in: Vec<handoff::MergedIn>,
}

/// Read lanes.json, or explain how to get one: as a command acting on the
/// lanes reads it ([`LanesManifest::for_mission_acting`]: no
/// `collapse_report`, shared with the process's memo of the file).
pub fn require_lanes(project: &Project, mission: &Mission) -> Result<std::sync::Arc<ActingLanes>> {
    LanesManifest::for_mission_acting(project, mission)?.ok_or_else(|| WorkspaceError::NoLanes {
        slug: mission.slug.clone(),
    })
}

pub use crate::lanes::target_branch;

/// The workspace of a WP, without creating anything.
pub fn resolve(
    project: &Project,
    mission: &Mission,
    lanes: &ActingLanes,
    wp: &WpFile,
) -> Result<Workspace> {
    let base_branch = target_branch(mission, Some(lanes));
    let lane = lanes.lane_for_wp(&wp.id);
    let planning = wp.is_planning_artifact() || lane.is_some_and(|l| l.lane_id == PLANNING_LANE);
    if planning {
        return Ok(Workspace {
            kind: "repo_root",
            path: project.root.clone(),
            lane_id: PLANNING_LANE.into(),
            branch: None,
            target_branch: base_branch.clone(),
            base_branch,
            created: false,
            merged_in: Vec::new(),
        });
    }
    let lane = lane.ok_or_else(|| WorkspaceError::NotInAnyLane {
        wp: wp.id.clone(),
        lanes_file: mission.lanes_file(),
        slug: mission.slug.clone(),
    })?;
    Ok(Workspace {
        kind: "lane_workspace",
        path: worktree_path(&project.root, &mission.slug, &lane.lane_id),
        lane_id: lane.lane_id.clone(),
        branch: Some(lane_branch(&mission.slug, &lane.lane_id)),
        target_branch: base_branch.clone(),
        base_branch,
        created: false,
        merged_in: Vec::new(),
    })
}

/// Open the main checkout's repository, once per command: lane workspaces
/// need git.
pub fn open_main(project: &Project) -> Result<Repo> {
    if !project.is_git() {
        return Err(WorkspaceError::NeedsGit {
            root: project.root.clone(),
        });
    }
    Ok(Repo::open(&project.root)?)
}

/// The main checkout's repository when the project is a git repository
/// (opened once per command); None when it is not.
pub fn open_main_if_git(project: &Project) -> Result<Option<Repo>> {
    if !project.is_git() {
        return Ok(None);
    }
    open_main(project).map(Some)
}

/// What sits at a lane's worktree path.
enum Existing {
    /// A worktree of this repository on the lane branch.
    Usable,
    /// A worktree of this repository on another branch.
    OtherBranch(String),
    /// A worktree of this repository with a detached HEAD at this commit.
    Detached(String),
    /// A working git repository, but not one of this repository's worktrees.
    Foreign,
    /// Not a working git checkout at all.
    Broken,
}

fn inspect(project: &Project, path: &Path, branch: &str) -> Existing {
    let Ok(repo) = Repo::open(path) else {
        return Existing::Broken;
    };
    let ours = match (&project.git_common_dir, fs::canonicalize(repo.common_dir())) {
        (Some(common), Ok(theirs)) => fs::canonicalize(common).is_ok_and(|c| c == theirs),
        _ => false,
    };
    if !ours {
        return Existing::Foreign;
    }
    // An unborn or unreadable HEAD still names its branch in the HEAD file.
    match repo.head_state() {
        HeadState::Detached(at) => Existing::Detached(
            at.map(|o| crate::git::short12(&o.to_string()).to_string())
                .unwrap_or_default(),
        ),
        HeadState::Branch(b) if b == branch => Existing::Usable,
        HeadState::Branch(b) => Existing::OtherBranch(b),
        HeadState::Unknown => Existing::Broken,
    }
}

/// The lanes a lane builds on: its `depends_on_lanes` plus the lanes holding the
/// WP's dependencies, without itself and without the planning lane (planning
/// work lives in the main checkout, so the target branch already stands for it).
fn dependency_lanes<'a>(lanes: &'a ActingLanes, lane: &ExecLane, wp: &WpFile) -> Vec<&'a ExecLane> {
    let mut ids: Vec<&str> = lane.depends_on_lanes.iter().map(String::as_str).collect();
    for dep in wp.dependencies() {
        if let Some(l) = lanes.lane_for_wp(&dep) {
            ids.push(&l.lane_id);
        }
    }
    let mut out: Vec<&ExecLane> = Vec::new();
    for id in ids {
        if id == lane.lane_id || id == PLANNING_LANE || out.iter().any(|l| l.lane_id == id) {
            continue;
        }
        if let Some(l) = lanes.lane(id) {
            out.push(l);
        }
    }
    out
}

/// The branch a lane was started from, judged from the commits: of the target
/// branch and the dependency lanes' branches, the one the lane has the fewest
/// commits beyond. Returns its name and the merge base.
fn lane_base(
    repo: &Repo,
    mission: &Mission,
    deps: &[&ExecLane],
    tip: Oid,
    target: &str,
) -> Result<(String, Oid)> {
    let mut best: Option<(String, Oid, usize)> = None;
    let candidates = std::iter::once(target.to_string())
        .chain(deps.iter().map(|l| lane_branch(&mission.slug, &l.lane_id)));
    for name in candidates {
        let Some(base) = repo.branch_tip(&name) else {
            continue;
        };
        let Some((mb, ahead)) = repo.merge_base_and_ahead(tip, base)? else {
            continue;
        };
        if best.as_ref().is_none_or(|(_, _, a)| ahead < *a) {
            best = Some((name, mb, ahead));
        }
    }
    best.map(|(n, mb, _)| (n, mb))
        .ok_or_else(|| WorkspaceError::NoCommonHistory {
            target: target.to_string(),
        })
}

/// Make sure the WP's workspace exists: create the lane worktree and branch on
/// first use, reuse them afterwards, and refuse a broken or foreign one.
/// `repo` is the main checkout's ([`open_main_if_git`]): a lane workspace
/// needs one.
pub fn ensure(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    lanes: &ActingLanes,
    wp: &WpFile,
) -> Result<Workspace> {
    ensure_from(repo, project, mission, lanes, wp, None)
}

/// [`ensure`], with a lane branch made now starting at `base` (plus the
/// approved work of the WPs it depends on) instead of the target branch. An
/// existing lane branch is not moved.
pub fn ensure_from(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    lanes: &ActingLanes,
    wp: &WpFile,
    base: Option<Oid>,
) -> Result<Workspace> {
    ensure_in(repo, project, mission, lanes, wp, base, None)
}

/// [`ensure`] for a command that listed the mission's WP files already
/// (implement): the dependency walk finds them in `listing`.
pub fn ensure_listed(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    lanes: &ActingLanes,
    wp: &WpFile,
    listing: &WpListing,
) -> Result<Workspace> {
    ensure_in(repo, project, mission, lanes, wp, None, Some(listing))
}

fn ensure_in(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    lanes: &ActingLanes,
    wp: &WpFile,
    base: Option<Oid>,
    listing: Option<&WpListing>,
) -> Result<Workspace> {
    let mut ws = resolve(project, mission, lanes, wp)?;
    let Some(branch) = ws.branch.clone() else {
        return Ok(ws);
    };
    let lane = lanes
        .lane(&ws.lane_id)
        .cloned()
        .ok_or_else(|| WorkspaceError::LaneVanished {
            lane: ws.lane_id.clone(),
        })?;
    let deps = dependency_lanes(lanes, &lane, wp);
    let repo = repo.ok_or_else(|| WorkspaceError::NeedsGit {
        root: project.root.clone(),
    })?;
    let _lock = FileLock::acquire(
        &project
            .locks_dir()
            .join(format!("worktree-{}-{}.lock", mission.slug, ws.lane_id)),
        LOCK_TIMEOUT,
        "the lane worktree",
    )?;
    // Creation is confined exactly like removal: a committed `.worktrees`
    // link (or a lane folder that is one) is refused before any branch or
    // folder is made.
    crate::confine::creatable(project, &ws.path, crate::confine::Area::Worktree)?;
    let needed = {
        // Only the WP files the dependency walk reaches are read, and only
        // their lanes and roles are looked up in the fold (no snapshot of
        // every WP): handing out one WP costs its own dependencies.
        let mut files = match listing {
            Some(l) => handoff::WpIndex::from_listing(l)?,
            None => handoff::WpIndex::of(&mission.tasks_dir())?,
        };
        let fold = StatusStore::for_mission(project, mission).fold_view()?;
        handoff::needed_commits(repo, lanes, &mut files, &fold, wp, &ws.lane_id)?
    };
    // Present while a worktree is being created: a worktree found with it was
    // cut short (killed mid-checkout) and never handed out.
    let creating = project
        .locks_dir()
        .join(format!("worktree-{}-{}.creating", mission.slug, ws.lane_id));
    let name = format!("{}-{}", mission.slug, ws.lane_id);
    let found = ws
        .path
        .exists()
        .then(|| inspect(project, &ws.path, &branch));
    // A folder our own creation left before git registered it (the marker is
    // there, the folder holds at most git's pointer file) is removed and made
    // again; confine decides what is safely ours.
    let cut_short = matches!(found, Some(Existing::Broken))
        && creating.exists()
        && crate::confine::remove_cut_short_worktree(project, &name, &ws.path)?;
    if let Some(found) = found.filter(|_| !cut_short) {
        let shown = ws.path.display();
        return match found {
            Existing::Usable if creating.exists() => {
                finish_checkout(&ws.path)?;
                crate::confine::remove_file(project, &creating)?;
                Ok(ws)
            }
            Existing::Usable => {
                if let Some(tip) = repo.branch_tip(&branch) {
                    let (new, steps) = handoff::integrate(repo, tip, &needed, &wp.id, &branch)?;
                    if new != tip {
                        if is_dirty(&ws.path)? {
                            return Err(WorkspaceError::DirtyForDependencies {
                                wp: wp.id.clone(),
                                lanes: steps.iter().map(|s| s.lane_id.clone()).collect(),
                                worktree: shown.to_string(),
                            });
                        }
                        handoff::advance_worktree(&ws.path, &branch, tip, new)?;
                        ws.merged_in = steps;
                    }
                    if let Ok((base, _)) = lane_base(repo, mission, &deps, new, &ws.target_branch) {
                        ws.base_branch = base;
                    }
                }
                Ok(ws)
            }
            Existing::OtherBranch(other) => Err(WorkspaceError::OtherBranch {
                path: shown.to_string(),
                other,
                branch,
            }),
            Existing::Detached(at) => Err(WorkspaceError::Detached {
                path: shown.to_string(),
                at,
                branch,
            }),
            Existing::Foreign => Err(WorkspaceError::Foreign {
                path: shown.to_string(),
                root: project.root.clone(),
                branch,
            }),
            Existing::Broken => Err(WorkspaceError::Broken {
                path: shown.to_string(),
                branch,
            }),
        };
    }
    exclude_worktrees_dir(project)?;
    if repo.has_branch(&branch) {
        if let Some(tip) = repo.branch_tip(&branch) {
            let (new, steps) = handoff::integrate(repo, tip, &needed, &wp.id, &branch)?;
            if new != tip {
                // No worktree has it checked out: only the ref moves.
                repo.create_branch(&branch, new, true)?;
                ws.merged_in = steps;
            }
            if let Ok((base, _)) = lane_base(repo, mission, &deps, new, &ws.target_branch) {
                ws.base_branch = base;
            }
        }
    } else {
        // A new lane starts on the target branch, plus the approved work of
        // the WPs it depends on in other lanes.
        let target_tip =
            repo.branch_tip(&ws.target_branch)
                .ok_or_else(|| WorkspaceError::NoTarget {
                    target: ws.target_branch.clone(),
                    slug: mission.slug.clone(),
                })?;
        // The mission branch, as the Python tool expects it when it
        // merges lanes claimed through us: made with the first lane, at
        // the target's tip, and never moved here (only `merge` lands the
        // lanes on it).
        repo.ensure_branch(&mission.mission_branch(), target_tip)?;
        // Start from the approved commit that holds all the others, when
        // there is one: no merge commit needed.
        let (start, first) = match (base, handoff::covering(repo, &needed)) {
            (Some(b), _) => (b, None),
            (None, Some(n)) => (Oid::from_str(&n.commit).map_err(GitError::from)?, Some(n)),
            (None, None) => (target_tip, None),
        };
        let (new, mut steps) = handoff::integrate(repo, start, &needed, &wp.id, &branch)?;
        if let Some(n) = first {
            steps.insert(0, handoff::MergedIn::started_from(n));
        }
        if let Ok((base, _)) = lane_base(repo, mission, &deps, new, &ws.target_branch) {
            ws.base_branch = base;
        }
        ws.merged_in = steps;
        repo.create_branch(&branch, new, false)?;
    }
    fsutil::create_dir_all(&project.worktrees_dir())?;
    // A stale registration (directory deleted by hand) would block the name.
    repo.prune_stale_worktree(&name);
    fsutil::atomic_write(&creating, ws.path.display().to_string().as_bytes())?;
    repo.add_worktree_on(&name, &ws.path, &branch)
        .map_err(|source| WorkspaceError::CreateWorktree {
            path: ws.path.clone(),
            name: name.clone(),
            source: Box::new(source),
        })?;
    // Test hook: die with the worktree added and the marker still there.
    crate::env::crash_point(crate::env::CrashPoint::WorktreeAdded);
    crate::confine::remove_file(project, &creating)?;
    ws.created = true;
    Ok(ws)
}

/// Bring a worktree whose creation was cut short to its branch's tip: index
/// and files reset to HEAD, leftovers of the partial checkout removed. Only
/// for a worktree never handed out (nobody's work is in it).
fn finish_checkout(path: &Path) -> Result<()> {
    let repo = Repo::open(path)?;
    // libgit2 writes the checkout's index last, through `index.lock` in the
    // worktree's own git directory: a kill there leaves the lock, and every
    // later index write fails ("the index is locked"). The creation marker
    // proves the worktree was never handed out and the lane's worktree lock
    // is held, so nobody else's git is writing it: the lock is ours.
    let lock = repo.git_dir().join("index.lock");
    if lock.symlink_metadata().is_ok_and(|m| m.is_file()) {
        fs::remove_file(&lock).map_err(|source| crate::fsutil::FsError::Io {
            action: "remove",
            path: lock.clone(),
            source,
        })?;
    }
    repo.reset_hard_to_head()?;
    Ok(())
}

/// Add `.worktrees/` to `.git/info/exclude` (once), so lane worktrees never show
/// up as untracked files and nothing in the project has to change.
pub fn exclude_worktrees_dir(project: &Project) -> Result<()> {
    let Some(common) = &project.git_common_dir else {
        return Ok(());
    };
    let path = common.join("info").join("exclude");
    let text = fs::read_to_string(&path).unwrap_or_default();
    if text
        .lines()
        .any(|l| l.trim() == ".worktrees/" || l.trim() == "/.worktrees/")
    {
        return Ok(());
    }
    let mut out = text;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("# spec-kitty lane worktrees\n/.worktrees/\n");
    if let Some(dir) = path.parent() {
        fsutil::create_dir_all(dir)?;
    }
    Ok(fsutil::atomic_write(&path, out.as_bytes())?)
}

/// Does the worktree have uncommitted changes (untracked files included)?
pub fn is_dirty(path: &Path) -> Result<bool> {
    Ok(Repo::open(path)?.has_uncommitted()?)
}

/// Remove a lane worktree and its registration; only a worktree inside
/// `.worktrees/` that git lists for this repository ([`crate::confine`]).
pub fn remove_worktree(project: &Project, name: &str, path: &Path) -> Result<()> {
    Ok(crate::confine::remove_worktree(project, name, path).map(|_| ())?)
}

/// Delete a local branch unless it is checked out in the main checkout; true
/// when it was deleted.
pub fn delete_branch(repo: &Repo, branch: &str) -> Result<bool> {
    Ok(repo.delete_branch_if_not_head(branch)?)
}

/// Remove one lane's worktree (confined, see [`crate::confine`]) and its
/// registration, then its branch. Returns what was actually removed.
pub fn remove_lane_workspace(
    project: &Project,
    repo: &Repo,
    worktree_name: &str,
    worktree: &Path,
    branch: &str,
) -> Result<(Option<PathBuf>, Option<String>)> {
    let removed = crate::confine::remove_worktree_in(project, repo, worktree_name, worktree)?;
    // Test hook: a merge's clean-up killed between the two removals.
    crate::env::crash_point(crate::env::CrashPoint::MergeStep("lane-worktree-removed"));
    let deleted = delete_branch(repo, branch)?;
    Ok((
        removed.then(|| worktree.to_path_buf()),
        deleted.then(|| branch.to_string()),
    ))
}

/// A lane branch's changes since it left its base.
#[derive(Debug, Clone)]
pub struct LaneDiff {
    /// The branch the changes are measured against.
    pub base: String,
    /// `Added src/x.rs`, `Modified ...`, one per file.
    pub files: Vec<String>,
    /// The patch text, cut at the requested size.
    pub patch: String,
}

/// The diff of a lane branch against its base (the target branch, or the lane
/// it was started from): changed files and the patch text, cut at `max_bytes`.
pub fn lane_diff(
    repo: &Repo,
    mission: &Mission,
    lanes: &ActingLanes,
    wp: &WpFile,
    ws: &Workspace,
    max_bytes: usize,
) -> Result<LaneDiff> {
    let Some(branch) = &ws.branch else {
        return Err(WorkspaceError::PlanningHasNoBranch);
    };
    if !repo.has_branch(branch) {
        return Err(WorkspaceError::NoLaneBranch {
            branch: branch.clone(),
        });
    }
    let head = repo
        .branch_tip(branch)
        .ok_or_else(|| WorkspaceError::NoLaneBranch {
            branch: branch.clone(),
        })?;
    let deps = match lanes.lane(&ws.lane_id) {
        Some(lane) => dependency_lanes(lanes, lane, wp),
        None => Vec::new(),
    };
    let (base, merge_base) = lane_base(repo, mission, &deps, head, &ws.target_branch)?;
    let (files, patch) = diff_commits(repo, merge_base, head, max_bytes)?;
    Ok(LaneDiff { base, files, patch })
}

/// The diff between two commits of the project: `Added src/x.rs`-style file
/// lines and the patch text, cut at `max_bytes`. This is what a reviewer reads
/// of a WP: its claim commit to its hand-in commit, never a live worktree.
pub fn commit_diff(repo: &Repo, from: &str, to: &str, max_bytes: usize) -> Result<LaneDiff> {
    let parse = |s: &str| -> Result<Oid> {
        Oid::from_str(s).map_err(|_| WorkspaceError::NotACommit { id: s.to_string() })
    };
    let (old, new) = (parse(from)?, parse(to)?);
    let (files, patch) = diff_commits(repo, old, new, max_bytes)?;
    Ok(LaneDiff {
        base: from.to_string(),
        files,
        patch,
    })
}

fn diff_commits(
    repo: &Repo,
    old: Oid,
    new: Oid,
    max_bytes: usize,
) -> Result<(Vec<String>, String)> {
    let mut d = repo.patch_between(old, new, max_bytes)?;
    if d.truncated {
        d.patch
            .push_str("\n[diff cut here; run the git diff command below for the rest]\n");
    }
    Ok((d.files, d.patch))
}
