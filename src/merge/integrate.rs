//! Computing the result of a merge without touching refs or files: the merges
//! and replays happen on commit objects, conflicts come back as file lists.
//! Callers point the repository's object database at an in-memory backend first
//! when nothing may be written at all.

use git2::{Commit, Oid, Repository, Signature, Sort};

use super::MergeError;
use super::{contains, short, LaneAction, Strategy};
type Result<T, E = MergeError> = std::result::Result<T, E>;

/// A lane to integrate.
#[derive(Debug, Clone)]
pub(crate) struct LaneInput {
    pub lane_id: String,
    pub branch: String,
    pub tip: Oid,
    pub wp_ids: Vec<String>,
}

/// Everything the integration needs.
pub(crate) struct Input<'a> {
    pub strategy: Strategy,
    pub mission_slug: &'a str,
    pub target_branch: &'a str,
    pub target_tip: Oid,
    pub mission_branch: &'a str,
    pub mission_tip: Option<Oid>,
    pub lanes: &'a [LaneInput],
    pub sig: &'a Signature<'static>,
}

/// What happened to one lane.
#[derive(Debug, Clone)]
pub(crate) struct LaneStep {
    pub lane_id: String,
    /// Merged, AlreadyMerged or NoChanges.
    pub action: LaneAction,
    /// Commits of the lane that were not in the mission branch yet.
    pub commits: usize,
    /// Files the lane changed relative to what it was merged into.
    pub files: Vec<String>,
}

/// A clean integration: where the mission branch and the target end up.
#[derive(Debug, Clone)]
pub(crate) struct Integrated {
    pub mission_after: Oid,
    pub target_after: Oid,
    pub steps: Vec<LaneStep>,
    /// Every commit created, oldest first.
    pub created: Vec<Oid>,
}

/// Where an integration stopped on a conflict.
#[derive(Debug, Clone)]
pub(crate) struct Stuck {
    /// The lane (or the mission branch) being brought in.
    pub what: String,
    /// What it was being merged into.
    pub into: String,
    /// For a replay: the commit that did not apply.
    pub commit: Option<String>,
    pub files: Vec<String>,
    /// The lanes handled before the conflict.
    pub done: Vec<LaneStep>,
}

pub(crate) enum Outcome {
    Clean(Integrated),
    Conflict(Stuck),
}

/// Integrate the lanes in the given order with the chosen strategy: settle
/// where the mission branch starts, bring each lane into it, then bring the
/// mission branch onto the target. The first conflict stops the run.
pub(crate) fn integrate(repo: &Repository, input: &Input<'_>) -> Result<Outcome> {
    let mut run = Run::new(repo, input);
    let mut current = match run.mission_start()? {
        Ok(tip) => tip,
        Err(stuck) => return Ok(Outcome::Conflict(stuck)),
    };
    for lane in input.lanes {
        current = match run.bring_in(lane, current)? {
            Ok(tip) => tip,
            Err(stuck) => return Ok(Outcome::Conflict(stuck)),
        };
    }
    let (mission_after, target_after) = match run.onto_target(current)? {
        Ok(tips) => tips,
        Err(stuck) => return Ok(Outcome::Conflict(stuck)),
    };
    Ok(Outcome::Clean(Integrated {
        mission_after,
        target_after,
        steps: run.steps,
        created: run.created,
    }))
}

/// A step's result: the new tip, or where it stopped on a conflict.
type Step<T> = std::result::Result<T, Stuck>;

/// The state of one integration as it goes.
struct Run<'r, 'i> {
    repo: &'r Repository,
    input: &'i Input<'i>,
    /// Every commit created, oldest first.
    created: Vec<Oid>,
    /// What happened to each lane handled so far.
    steps: Vec<LaneStep>,
    /// The target, the mission branch and every lane handled so far.
    integrated_tips: Vec<Oid>,
}

impl<'r, 'i> Run<'r, 'i> {
    fn new(repo: &'r Repository, input: &'i Input<'i>) -> Self {
        let mut integrated_tips: Vec<Oid> = vec![input.target_tip];
        if let Some(m) = input.mission_tip {
            integrated_tips.push(m);
        }
        Run {
            repo,
            input,
            created: Vec::new(),
            steps: Vec::new(),
            integrated_tips,
        }
    }

    /// A conflict while bringing `what` into `into`, with the lanes done so far.
    fn stuck(
        &mut self,
        what: &str,
        into: &str,
        commit: Option<String>,
        files: Vec<String>,
    ) -> Stuck {
        Stuck {
            what: what.to_string(),
            into: into.to_string(),
            commit,
            files,
            done: std::mem::take(&mut self.steps),
        }
    }

    /// A conflict while bringing the mission branch onto the target.
    fn mission_stuck(&mut self, commit: Option<String>, files: Vec<String>) -> Stuck {
        let (what, into) = (self.input.mission_branch, self.input.target_branch);
        self.stuck(what, into, commit, files)
    }

    /// Where the mission branch starts: the target when there is no mission
    /// branch yet, else its tip (for a rebase, first replayed onto the target).
    fn mission_start(&mut self) -> Result<Step<Oid>> {
        let target = self.input.target_tip;
        let Some(m) = self.input.mission_tip else {
            return Ok(Ok(target));
        };
        if self.input.strategy != Strategy::Rebase || contains(self.repo, m, target)? {
            return Ok(Ok(m));
        }
        // Replay the mission branch's own commits onto the target first.
        match replay(
            self.repo,
            target,
            m,
            &[target],
            self.input.sig,
            &mut self.created,
        )? {
            Ok((tip, _, _)) => Ok(Ok(tip)),
            Err((commit, files)) => Ok(Err(self.mission_stuck(Some(commit), files))),
        }
    }

    /// Record a lane that brings nothing new.
    fn skip(&mut self, lane: &LaneInput, action: LaneAction) {
        self.steps.push(LaneStep {
            lane_id: lane.lane_id.clone(),
            action,
            commits: 0,
            files: Vec::new(),
        });
        self.integrated_tips.push(lane.tip);
    }

    /// Bring one lane into the mission branch at `current`; returns the new tip.
    fn bring_in(&mut self, lane: &LaneInput, current: Oid) -> Result<Step<Oid>> {
        let (repo, input) = (self.repo, self.input);
        if contains(repo, input.target_tip, lane.tip)? {
            self.skip(lane, LaneAction::NoChanges);
            return Ok(Ok(current));
        }
        let already = match input.strategy {
            Strategy::Rebase => {
                // Replayed commits are new objects, so ask whether the lane has
                // any commit that nothing integrated so far contains.
                count_new(repo, lane.tip, &self.integrated_tips)? == 0
            }
            _ => contains(repo, current, lane.tip)?,
        };
        if already {
            self.skip(lane, LaneAction::AlreadyMerged);
            return Ok(Ok(current));
        }
        let commits = count_new(repo, lane.tip, &self.integrated_tips)?;
        let after = match input.strategy {
            Strategy::Merge | Strategy::Squash => match self.merge_lane(lane, current)? {
                Ok(id) => id,
                Err(stuck) => return Ok(Err(stuck)),
            },
            Strategy::Rebase => match replay(
                repo,
                current,
                lane.tip,
                &self.integrated_tips,
                input.sig,
                &mut self.created,
            )? {
                Ok((tip, _, _)) => tip,
                Err((commit, files)) => {
                    return Ok(Err(self.stuck(
                        &lane.lane_id,
                        input.mission_branch,
                        Some(commit),
                        files,
                    )))
                }
            },
        };
        self.steps.push(LaneStep {
            lane_id: lane.lane_id.clone(),
            action: LaneAction::Merged,
            commits,
            files: changed_files(repo, current, after)?,
        });
        self.integrated_tips.push(lane.tip);
        Ok(Ok(after))
    }

    /// A merge commit of the lane into the mission branch at `current`.
    fn merge_lane(&mut self, lane: &LaneInput, current: Oid) -> Result<Step<Oid>> {
        let (repo, input) = (self.repo, self.input);
        let ours = repo.find_commit(current)?;
        let theirs = repo.find_commit(lane.tip)?;
        let tree = match merged_tree(repo, &ours, &theirs)? {
            Ok(t) => t,
            Err(files) => {
                return Ok(Err(self.stuck(
                    &lane.lane_id,
                    input.mission_branch,
                    None,
                    files,
                )))
            }
        };
        let msg = format!(
            "Merge {} into {}\n\nLane {} of mission {} ({}).\n",
            lane.branch,
            input.mission_branch,
            lane.lane_id,
            input.mission_slug,
            lane.wp_ids.join(", ")
        );
        let tree = repo.find_tree(tree)?;
        let id = repo.commit(None, input.sig, input.sig, &msg, &tree, &[&ours, &theirs])?;
        self.created.push(id);
        Ok(Ok(id))
    }

    /// Bring the mission branch (at `mission_after`) onto the target; returns
    /// where the mission branch and the target end up.
    fn onto_target(&mut self, mission_after: Oid) -> Result<Step<(Oid, Oid)>> {
        let (repo, input) = (self.repo, self.input);
        let target = input.target_tip;
        let target_commit = repo.find_commit(target)?;
        if contains(repo, target, mission_after)? {
            return Ok(Ok((mission_after, target)));
        }
        match input.strategy {
            Strategy::Merge | Strategy::Squash => Ok(self
                .merge_onto_target(&target_commit, mission_after)?
                .map(|target_after| (mission_after, target_after))),
            Strategy::Rebase => {
                if contains(repo, mission_after, target)? {
                    return Ok(Ok((mission_after, mission_after)));
                }
                // The target moved on since the mission branch started:
                // replay the mission branch onto it.
                match replay(
                    repo,
                    target,
                    mission_after,
                    &[target],
                    input.sig,
                    &mut self.created,
                )? {
                    Ok((tip, _, _)) => Ok(Ok((tip, tip))),
                    Err((commit, files)) => Ok(Err(self.mission_stuck(Some(commit), files))),
                }
            }
        }
    }

    /// A merge (or squash) commit of the mission branch onto the target; a
    /// squash that changes nothing leaves the target where it is.
    fn merge_onto_target(
        &mut self,
        target_commit: &Commit<'_>,
        mission_after: Oid,
    ) -> Result<Step<Oid>> {
        let (repo, input) = (self.repo, self.input);
        let theirs = repo.find_commit(mission_after)?;
        let tree = match merged_tree(repo, target_commit, &theirs)? {
            Ok(t) => t,
            Err(files) => return Ok(Err(self.mission_stuck(None, files))),
        };
        if input.strategy == Strategy::Squash && tree == target_commit.tree_id() {
            return Ok(Ok(target_commit.id()));
        }
        let tree = repo.find_tree(tree)?;
        let id = if input.strategy == Strategy::Merge {
            let msg = self.mission_merge_message();
            repo.commit(
                None,
                input.sig,
                input.sig,
                &msg,
                &tree,
                &[target_commit, &theirs],
            )?
        } else {
            let msg = self.squash_message();
            repo.commit(None, input.sig, input.sig, &msg, &tree, &[target_commit])?
        };
        self.created.push(id);
        Ok(Ok(id))
    }

    fn mission_merge_message(&self) -> String {
        let input = self.input;
        let lane_ids: Vec<&str> = input.lanes.iter().map(|l| l.lane_id.as_str()).collect();
        format!(
            "Merge {} into {}\n\nMission {}: lanes {}.\n",
            input.mission_branch,
            input.target_branch,
            input.mission_slug,
            lane_ids.join(", ")
        )
    }

    /// Names the lanes merged in this run and their work packages.
    fn squash_message(&self) -> String {
        let input = self.input;
        let merged: Vec<&str> = self
            .steps
            .iter()
            .filter(|s| s.action == LaneAction::Merged)
            .map(|s| s.lane_id.as_str())
            .collect();
        let wps: Vec<String> = input
            .lanes
            .iter()
            .filter(|l| merged.contains(&l.lane_id.as_str()))
            .flat_map(|l| l.wp_ids.iter().cloned())
            .collect();
        format!(
            "{}: squash-merge of {}\n\nLanes: {}.\nWork packages: {}.\n",
            input.mission_slug,
            input.mission_branch,
            if merged.is_empty() {
                "(none new)".to_string()
            } else {
                merged.join(", ")
            },
            if wps.is_empty() {
                "(none)".to_string()
            } else {
                wps.join(", ")
            }
        )
    }
}

/// Commits reachable from `tip` and from none of `hide`.
fn count_new(repo: &Repository, tip: Oid, hide: &[Oid]) -> Result<usize> {
    let mut walk = repo.revwalk()?;
    walk.push(tip)?;
    for h in hide {
        walk.hide(*h)?;
    }
    let mut n = 0;
    for oid in walk {
        oid?;
        n += 1;
    }
    Ok(n)
}

/// The tree of merging `theirs` into `ours`, or the conflicting paths.
fn merged_tree(
    repo: &Repository,
    ours: &Commit<'_>,
    theirs: &Commit<'_>,
) -> Result<std::result::Result<Oid, Vec<String>>> {
    let mut index = repo.merge_commits(ours, theirs, None)?;
    if index.has_conflicts() {
        return Ok(Err(conflict_paths(&index)?));
    }
    Ok(Ok(index.write_tree_to(repo)?))
}

/// Replay the commits of `tip` that none of `hide` contains onto `onto`, oldest
/// first, one new commit each (author kept, committer `sig`). A merge commit is
/// replayed against its first parent; a commit that changes nothing any more is
/// dropped. Returns the new tip, the number replayed and dropped, or the commit
/// that conflicted and its files.
#[allow(clippy::type_complexity)]
fn replay(
    repo: &Repository,
    onto: Oid,
    tip: Oid,
    hide: &[Oid],
    sig: &Signature<'static>,
    created: &mut Vec<Oid>,
) -> Result<std::result::Result<(Oid, usize, usize), (String, Vec<String>)>> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    walk.push(tip)?;
    for h in hide {
        walk.hide(*h)?;
    }
    let mut todo = Vec::new();
    for oid in walk {
        todo.push(oid?);
    }
    let mut current = onto;
    let (mut replayed, mut dropped) = (0, 0);
    for oid in todo {
        let commit = repo.find_commit(oid)?;
        let base = repo.find_commit(current)?;
        let mainline = if commit.parent_count() > 1 { 1 } else { 0 };
        if commit.parent_count() == 0 {
            return Err(MergeError::RootCommit { commit: oid });
        }
        let mut index = repo.cherrypick_commit(&commit, &base, mainline, None)?;
        if index.has_conflicts() {
            let summary = commit.summary().unwrap_or("").to_string();
            return Ok(Err((
                format!("{} {summary}", short(oid)),
                conflict_paths(&index)?,
            )));
        }
        let tree = index.write_tree_to(repo)?;
        if tree == base.tree_id() {
            dropped += 1;
            continue;
        }
        let tree = repo.find_tree(tree)?;
        let message = String::from_utf8_lossy(commit.message_raw_bytes()).into_owned();
        let id = repo.commit(None, &commit.author(), sig, &message, &tree, &[&base])?;
        created.push(id);
        current = id;
        replayed += 1;
    }
    Ok(Ok((current, replayed, dropped)))
}

/// The paths with conflicts in a merge index, sorted and deduplicated.
pub(crate) use crate::git::conflict_paths;

/// Files that differ between two commits' trees.
pub(crate) fn changed_files(repo: &Repository, from: Oid, to: Oid) -> Result<Vec<String>> {
    let a = repo.find_commit(from)?.tree()?;
    let b = repo.find_commit(to)?.tree()?;
    tree_changes(repo, &a, &b)
}

/// Paths that differ between two trees (both sides of a rename).
pub(crate) fn tree_changes(
    repo: &Repository,
    a: &git2::Tree<'_>,
    b: &git2::Tree<'_>,
) -> Result<Vec<String>> {
    let diff = repo.diff_tree_to_tree(Some(a), Some(b), None)?;
    let mut out = Vec::new();
    for d in diff.deltas() {
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path() {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A party of the pairwise conflict forecast: the target, the mission branch, a lane.
#[derive(Debug, Clone)]
pub(crate) struct Party {
    pub label: String,
    pub tip: Oid,
}

/// Merge every pair of parties in memory and list the files each pair
/// conflicts on. Pairs where one side already contains the other never conflict
/// and are skipped.
pub(crate) fn pairwise_conflicts(
    repo: &Repository,
    parties: &[Party],
) -> Result<Vec<(String, String, Vec<String>)>> {
    let mut out = Vec::new();
    for (i, a) in parties.iter().enumerate() {
        for b in &parties[i + 1..] {
            if a.tip == b.tip || contains(repo, a.tip, b.tip)? || contains(repo, b.tip, a.tip)? {
                continue;
            }
            let ours = repo.find_commit(a.tip)?;
            let theirs = repo.find_commit(b.tip)?;
            if let Err(files) = merged_tree(repo, &ours, &theirs)? {
                out.push((a.label.clone(), b.label.clone(), files));
            }
        }
    }
    Ok(out)
}
