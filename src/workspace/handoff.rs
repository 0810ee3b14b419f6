//! Dependency-true workspaces: when a WP depends on work done in another lane,
//! its lane branch gets that work (the dependency's approved commit) before the
//! WP is handed out, and a WP is handed out only when its dependencies are
//! approved and its lane is free.
//!
//! * A WP's approved commit is the tip of its lane branch when it was approved,
//!   recorded in the approval event's `evidence.repos` (the reference's field).
//! * [`wait_reason`]: why a planned WP cannot start yet (which dependency, in
//!   which lane; or which WP holds its lane), None when it can.
//! * [`bring_in`]: merge what the lane branch lacks, in memory first; only the
//!   lane branch and its worktree change, never the user's branches. A conflict
//!   changes nothing and names the files.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

use super::{Result, WorkspaceError};
use crate::git::merge_commit::Merged;
use crate::git::{GitError, Oid, Repo};
use crate::lanes::model::lane_branch;
use crate::lanes::{ActingLanes, LaneMap, PLANNING_LANE};
use crate::status::ops::WpListing;
use crate::status::{Lane, LaneLookup};
use crate::tasks_md::{wp, TasksError, WpFile};

/// Lanes in which a WP holds its lane's worktree.
fn holds_lane(l: Lane) -> bool {
    matches!(
        l,
        Lane::Claimed | Lane::InProgress | Lane::ForReview | Lane::InReview
    )
}

fn finished(l: Option<Lane>) -> bool {
    matches!(l, Some(Lane::Approved | Lane::Done))
}

/// Why `wp` cannot be handed out for implementation yet, or None when it can:
/// a dependency that is not approved (named with its lane), or another WP that
/// holds the same code lane (one WP at a time per lane worktree).
pub fn wait_reason<L: LaneMap + ?Sized, S: LaneLookup + ?Sized>(
    lanes: &L,
    snap: &S,
    wp: &WpFile,
) -> Option<String> {
    let lane_name = |id: &str| {
        lanes
            .lane_for_wp(id)
            .map(|l| l.lane_id.clone())
            .unwrap_or_else(|| "no lane".into())
    };
    let unmet: Vec<String> = wp
        .dependencies()
        .into_iter()
        .filter(|d| !finished(snap.lane_of(d)))
        .map(|d| {
            let state = snap.lane_of(&d).unwrap_or(Lane::Planned);
            format!("{d} in {} ({state})", lane_name(&d))
        })
        .collect();
    if !unmet.is_empty() {
        return Some(format!(
            "{} waits on {}: {} must be approved first",
            wp.id,
            unmet.join(", "),
            if unmet.len() == 1 { "it" } else { "they" }
        ));
    }
    let lane = lanes.lane_for_wp(&wp.id)?;
    if lane.lane_id == PLANNING_LANE || wp.is_planning_artifact() {
        return None;
    }
    let holder = lane
        .wp_ids
        .iter()
        .find(|other| *other != &wp.id && snap.lane_of(other).is_some_and(holds_lane))?;
    Some(format!(
        "{} waits on {}: {holder} holds its worktree ({}); {} starts there once {holder} is approved",
        wp.id,
        lane.lane_id,
        snap.lane_of(holder).unwrap_or(Lane::Planned),
        wp.id
    ))
}

fn contains(repo: &Repo, a: Oid, b: Oid) -> bool {
    repo.contains(a, b).unwrap_or(false)
}

/// Work of another lane that a WP builds on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Needed {
    pub wp_id: String,
    pub lane_id: String,
    pub commit: String,
    /// `approved` (recorded at approval) or `lane_tip` (none recorded: the tip
    /// of its lane branch stands in).
    pub source: &'static str,
}

/// What the lane branch got for a WP before it was handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedIn {
    pub wp_id: String,
    pub lane_id: String,
    pub commit: String,
    pub source: &'static str,
    /// `branch_start` (a new lane branch starts at the commit), `fast_forward`
    /// or `merge_commit`.
    pub how: &'static str,
    /// The lane branch's commit after this step.
    pub lane_commit: String,
}

impl MergedIn {
    /// A new lane branch created at `n`'s commit.
    pub fn started_from(n: &Needed) -> MergedIn {
        MergedIn {
            wp_id: n.wp_id.clone(),
            lane_id: n.lane_id.clone(),
            commit: n.commit.clone(),
            source: n.source,
            how: "branch_start",
            lane_commit: n.commit.clone(),
        }
    }
}

/// The needed commit that contains every other one, if any.
pub fn covering<'a>(repo: &Repo, needed: &'a [Needed]) -> Option<&'a Needed> {
    let oids: Vec<Oid> = needed
        .iter()
        .filter_map(|n| Oid::from_str(&n.commit).ok())
        .collect();
    if oids.len() != needed.len() || !repo.has_commit(*oids.first()?) {
        return None;
    }
    needed.iter().zip(&oids).find_map(|(n, &o)| {
        (repo.has_commit(o) && oids.iter().all(|&x| contains(repo, o, x))).then_some(n)
    })
}

/// The WP files of a tasks directory by id, each read on first use: the
/// dependency walk of one WP reads that WP's dependencies, not the whole
/// mission. Listing reads names only; two files with one WP id are the
/// error [`crate::tasks_md::wp::load_all`] gives.
pub struct WpIndex<'l> {
    source: Source<'l>,
    read: HashMap<String, Rc<WpFile>>,
}

/// Where a [`WpIndex`] finds the path of an id.
enum Source<'l> {
    Paths(HashMap<String, PathBuf>),
    Listing(&'l WpListing),
}

impl<'l> WpIndex<'l> {
    /// The index of a listing the command made already (see
    /// [`crate::status::ops::WpListing`]): two files with one WP id are the
    /// error [`WpIndex::of`] gives, and nothing is listed again.
    pub fn from_listing(listing: &'l WpListing) -> Result<WpIndex<'l>> {
        if let Some(e) = listing.duplicate() {
            return Err(e.into());
        }
        Ok(WpIndex {
            source: Source::Listing(listing),
            read: HashMap::new(),
        })
    }

    pub fn of(tasks_dir: &Path) -> Result<WpIndex<'static>> {
        let mut paths: HashMap<String, PathBuf> = HashMap::new();
        for p in wp::list_wp_files(tasks_dir)? {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            let Some(id) = wp::wp_id_from_filename(&name) else {
                continue;
            };
            if let Some(prev) = paths.get(&id) {
                // The listing is sorted: `prev` is the first, as load_all says.
                return Err(TasksError::DuplicateWpFile {
                    path: p.clone(),
                    id,
                    other: prev.clone(),
                }
                .into());
            }
            paths.insert(id, p);
        }
        Ok(WpIndex {
            source: Source::Paths(paths),
            read: HashMap::new(),
        })
    }

    /// The WP file of `id`, None when there is none.
    pub fn get(&mut self, id: &str) -> Result<Option<Rc<WpFile>>> {
        if let Some(f) = self.read.get(id) {
            return Ok(Some(f.clone()));
        }
        let path = match &self.source {
            Source::Paths(paths) => paths.get(id).cloned(),
            Source::Listing(listing) => listing.path_of(id),
        };
        let Some(path) = path else {
            return Ok(None);
        };
        let f = Rc::new(WpFile::read(&path)?);
        self.read.insert(id.to_string(), f.clone());
        Ok(Some(f))
    }
}

/// The approved commits of `wp`'s code dependencies, transitive ones included,
/// that live in other lanes than `lane_id` and are approved or done.
pub fn needed_commits(
    repo: &Repo,
    lanes: &ActingLanes,
    files: &mut WpIndex<'_>,
    fold: &crate::status::cache::FoldState,
    wp: &WpFile,
    lane_id: &str,
) -> Result<Vec<Needed>> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = wp.dependencies();
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        if !seen.insert(d.clone()) {
            continue;
        }
        let Some(f) = files.get(&d)? else {
            continue;
        };
        stack.extend(f.dependencies());
        let Some(lane) = lanes.lane_for_wp(&d) else {
            continue;
        };
        if lane.lane_id == lane_id
            || lane.lane_id == PLANNING_LANE
            || f.is_planning_artifact()
            || !finished(fold.lane_of(&d))
        {
            continue;
        }
        let approved = fold
            .roles_of(&d)
            .approved_commit
            .and_then(|c| Oid::from_str(&c).ok());
        let (commit, source) = match approved {
            Some(c) => (Some(c), "approved"),
            None => (
                repo.branch_tip(&lane_branch(&lanes.mission_slug, &lane.lane_id)),
                "lane_tip",
            ),
        };
        if let Some(c) = commit {
            out.push(Needed {
                wp_id: d.clone(),
                lane_id: lane.lane_id.clone(),
                commit: c.to_string(),
                source,
            });
        }
    }
    out.sort_by(|a, b| a.wp_id.cmp(&b.wp_id));
    Ok(out)
}

/// The commit the lane branch moves to so it holds every `needed` commit
/// (fast-forward where it can, else a merge commit), computed without moving
/// any ref. `start` is the branch's current tip. A conflict returns an error
/// naming the files; only unreferenced objects were written.
pub fn integrate(
    repo: &Repo,
    start: Oid,
    needed: &[Needed],
    for_wp: &str,
    branch: &str,
) -> Result<(Oid, Vec<MergedIn>)> {
    let mut current = start;
    let mut steps = Vec::new();
    for n in needed {
        let c = Oid::from_str(&n.commit).map_err(GitError::from)?;
        if !repo.has_commit(c) {
            return Err(WorkspaceError::MissingApproved {
                wp: n.wp_id.clone(),
                commit: n.commit.clone(),
                lane: n.lane_id.clone(),
            });
        }
        if contains(repo, current, c) {
            continue;
        }
        let how = if contains(repo, c, current) {
            current = c;
            "fast_forward"
        } else {
            let msg = format!(
                "Merge {}'s approved work from {} into {branch}\n\n{for_wp} depends on it; merged by spec-kitty before {for_wp} was handed out.\n",
                n.wp_id, n.lane_id
            );
            match repo.merge_into_new_commit(current, c, &msg)? {
                Merged::Commit(m) => current = m,
                Merged::Conflicts(files) => {
                    return Err(WorkspaceError::DependencyConflict(Box::new(
                        super::error::DependencyConflict {
                            for_wp: for_wp.to_string(),
                            wp: n.wp_id.clone(),
                            lane: n.lane_id.clone(),
                            branch: branch.to_string(),
                            commit: n.commit.clone(),
                            files,
                        },
                    )));
                }
            }
            "merge_commit"
        };
        steps.push(MergedIn {
            wp_id: n.wp_id.clone(),
            lane_id: n.lane_id.clone(),
            commit: n.commit.clone(),
            source: n.source,
            how,
            lane_commit: current.to_string(),
        });
    }
    Ok((current, steps))
}

/// Move an existing, checked-out lane branch to `new` (which contains its
/// tip): the worktree's files first (it must hold no uncommitted changes),
/// then the branch.
pub fn advance_worktree(worktree: &Path, branch: &str, old: Oid, new: Oid) -> Result<()> {
    if old == new {
        return Ok(());
    }
    let repo = Repo::open(worktree)?;
    repo.checkout_commit_safely(new).map_err(|source| {
        let lock = repo.git_dir().join("index.lock");
        if source.is_locked() && lock.exists() {
            WorkspaceError::IndexLocked {
                worktree: worktree.to_path_buf(),
                lock,
            }
        } else {
            WorkspaceError::AdvanceWorktree {
                worktree: worktree.to_path_buf(),
                source: Box::new(source),
            }
        }
    })?;
    repo.set_branch_target(
        branch,
        new,
        "spec-kitty: merge dependency work into the lane",
    )?;
    Ok(())
}
