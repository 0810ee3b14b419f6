//! Accepting a mission and landing its lanes on the target branch.
//!
//! * [`accept`] runs the readiness gates and, when every one passes, records the
//!   acceptance (and the lane tips it covered) in `meta.json`.
//! * [`land`] merges the accepted lanes into the mission branch in dependency
//!   order and the mission branch into the target branch. Every merge is computed
//!   in memory first (objects go to an in-memory object database), so a conflict
//!   or a refused precondition leaves the repository exactly as it was. Only a
//!   clean result is written: objects, then the mission branch, then the target
//!   (files of the main checkout, then the ref). A small state file in the git
//!   common directory makes that last stretch resumable (`--continue`) and
//!   reversible (`--abort`). Finishing records the mission: one commit on the
//!   target holds its final `kitty-specs/<slug>/` files ([`record`]).
//!
//! Nothing here prints; the CLI renders the typed reports.

pub mod accept;
pub mod autocommit;
pub(crate) mod combined;
pub mod error;
pub(crate) mod integrate;
pub mod land;
pub mod record;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::git::Repo;
use crate::lanes::{ExecLane, LanesManifest, PLANNING_LANE};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{Lane, Snapshot};

pub use accept::{accept, AcceptOptions, AcceptReport, Gate};
pub use error::MergeError;
pub use land::{
    abort, continue_merge, merge, AbortReport, Blocker, ConflictPair, Keep, LaneOutcome,
    MergeOptions, MergeReport,
};

type Result<T, E = MergeError> = std::result::Result<T, E>;

/// How lanes land.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// A merge commit per lane on the mission branch, and one on the target.
    #[default]
    Merge,
    /// Lanes combined on the mission branch; one ordinary commit on the target.
    Squash,
    /// Lane commits replayed one by one; the target moves forward linearly.
    Rebase,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Merge => "merge",
            Strategy::Squash => "squash",
            Strategy::Rebase => "rebase",
        }
    }
}

/// A code lane as accept and merge see it.
#[derive(Debug, Clone)]
pub struct CodeLane {
    pub lane_id: String,
    pub branch: String,
    pub worktree: PathBuf,
    /// `<mission_slug>-<lane_id>`: the git worktree's registered name.
    pub worktree_name: String,
    pub wp_ids: Vec<String>,
    /// Code lanes this lane builds on (the planning lane is left out).
    pub depends_on: Vec<String>,
}

pub use crate::lanes::target_branch;

/// The mission's code lanes in dependency order (a lane after every lane it
/// depends on; otherwise in lanes.json order), and notes about the lanes left
/// out: the planning lane, and lanes whose work packages are all canceled.
pub fn code_lanes(
    project: &Project,
    mission: &Mission,
    lanes: &LanesManifest,
    snap: &Snapshot,
) -> Result<(Vec<CodeLane>, Vec<String>)> {
    let mut notes = Vec::new();
    let mut chosen: Vec<&ExecLane> = Vec::new();
    for lane in &lanes.lanes {
        if lane.lane_id == PLANNING_LANE {
            notes.push(format!(
                "{PLANNING_LANE} ({}) has no branch: its work is already in the main checkout",
                lane.wp_ids.join(", ")
            ));
            continue;
        }
        let all_canceled = !lane.wp_ids.is_empty()
            && lane
                .wp_ids
                .iter()
                .all(|w| snap.lane_of(w) == Some(Lane::Canceled));
        if all_canceled {
            notes.push(format!(
                "{} is skipped: all its work packages are canceled",
                lane.lane_id
            ));
            continue;
        }
        chosen.push(lane);
    }
    let known: BTreeMap<&str, usize> = chosen
        .iter()
        .enumerate()
        .map(|(i, l)| (l.lane_id.as_str(), i))
        .collect();
    let all_ids: Vec<&str> = lanes.lanes.iter().map(|l| l.lane_id.as_str()).collect();
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(chosen.len());
    for lane in &chosen {
        let mut mine = Vec::new();
        for d in &lane.depends_on_lanes {
            match known.get(d.as_str()) {
                Some(&i) => mine.push(i),
                None if all_ids.contains(&d.as_str()) => {}
                None => {
                    return Err(MergeError::UnknownLane {
                        lanes_file: mission.lanes_file(),
                        lane: lane.lane_id.clone(),
                        dep: d.clone(),
                        slug: mission.slug.clone(),
                    })
                }
            }
        }
        deps.push(mine);
    }
    // Kahn's algorithm, always taking the first ready lane in file order. Two
    // lanes can wait on each other through different WPs (lane-a's WP02 feeds
    // lane-b, whose WP03 feeds lane-a's WP04); then the lane that starts first
    // (lowest parallel_group) goes first. That order loses nothing: a lane
    // holds the approved commits of the other lanes' WPs it builds on, so git
    // sees that work as already merged.
    let mut placed = vec![false; chosen.len()];
    let mut order = Vec::with_capacity(chosen.len());
    while order.len() < chosen.len() {
        let next = (0..chosen.len())
            .find(|&i| !placed[i] && deps[i].iter().all(|&d| placed[d]))
            .or_else(|| {
                (0..chosen.len())
                    .filter(|&i| !placed[i])
                    .min_by_key(|&i| (chosen[i].parallel_group, i))
            });
        let Some(i) = next else { break };
        if deps[i].iter().any(|&d| !placed[d]) {
            notes.push(format!(
                "{} and {} wait on each other through different work packages; {} merges first",
                chosen[i].lane_id,
                deps[i]
                    .iter()
                    .filter(|&&d| !placed[d])
                    .map(|&d| chosen[d].lane_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                chosen[i].lane_id
            ));
        }
        placed[i] = true;
        order.push(i);
    }
    let out = order
        .into_iter()
        .map(|i| {
            let l = chosen[i];
            CodeLane {
                lane_id: l.lane_id.clone(),
                branch: lanes.lane_branch(&l.lane_id),
                worktree: lanes.worktree_path(&project.root, &l.lane_id),
                worktree_name: format!("{}-{}", lanes.mission_slug, l.lane_id),
                wp_ids: l.wp_ids.clone(),
                depends_on: deps[i].iter().map(|&d| chosen[d].lane_id.clone()).collect(),
            }
        })
        .collect();
    Ok((out, notes))
}

pub use crate::git::short;

/// Open the main checkout's repository, or explain that lanes need git.
pub fn open_repo(project: &Project) -> Result<Repo> {
    if !project.is_git() {
        return Err(MergeError::NeedsGit {
            root: project.root.clone(),
        });
    }
    Ok(Repo::open(&project.root)?)
}

/// [`open_repo`] as a libgit2 handle, for the callers not moved onto
/// [`Repo`] yet (team sync, the merge's push).
pub fn open_repository(project: &Project) -> Result<git2::Repository> {
    if !project.is_git() {
        return Err(MergeError::NeedsGit {
            root: project.root.clone(),
        });
    }
    Ok(git2::Repository::open(&project.root).map_err(crate::git::GitError::from)?)
}

/// What a merge did (or would do) with one lane; serialised as the strings the
/// merge report and the state file have always used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneAction {
    /// Its new commits were integrated.
    Merged,
    /// The mission branch already held all of it.
    AlreadyMerged,
    /// The target already held all of it.
    NoChanges,
    /// It conflicts; the merge stopped here.
    Conflict,
    /// Not reached: the merge stopped before this lane.
    Pending,
}
