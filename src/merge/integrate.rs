//! Computing the result of a merge without touching refs or files: the merges
//! and replays happen on commit objects, conflicts come back as file lists.
//! Callers point the repository's object database at an in-memory backend first
//! when nothing may be written at all.

use super::MergeError;
use super::{LaneAction, Strategy};
use crate::git::merge_tree::{Committer, Replayed};
use crate::git::{Oid, Repo};
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
    pub sig: &'a Committer,
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
pub(crate) fn integrate(repo: &Repo, input: &Input<'_>) -> Result<Outcome> {
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
    repo: &'r Repo,
    input: &'i Input<'i>,
    /// Every commit created, oldest first.
    created: Vec<Oid>,
    /// What happened to each lane handled so far.
    steps: Vec<LaneStep>,
    /// The target, the mission branch and every lane handled so far.
    integrated_tips: Vec<Oid>,
}

impl<'r, 'i> Run<'r, 'i> {
    fn new(repo: &'r Repo, input: &'i Input<'i>) -> Self {
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
        if self.input.strategy != Strategy::Rebase || self.repo.contains(m, target)? {
            return Ok(Ok(m));
        }
        // Replay the mission branch's own commits onto the target first.
        match self
            .repo
            .replay(target, m, &[target], self.input.sig, &mut self.created)?
        {
            Replayed::Done { tip, .. } => Ok(Ok(tip)),
            Replayed::Conflict { commit, files } => {
                Ok(Err(self.mission_stuck(Some(commit), files)))
            }
            Replayed::RootCommit(commit) => Err(MergeError::RootCommit { commit }),
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
        if repo.contains(input.target_tip, lane.tip)? {
            self.skip(lane, LaneAction::NoChanges);
            return Ok(Ok(current));
        }
        let already = match input.strategy {
            Strategy::Rebase => {
                // Replayed commits are new objects, so ask whether the lane has
                // any commit that nothing integrated so far contains.
                repo.count_new(lane.tip, &self.integrated_tips)? == 0
            }
            _ => repo.contains(current, lane.tip)?,
        };
        if already {
            self.skip(lane, LaneAction::AlreadyMerged);
            return Ok(Ok(current));
        }
        let commits = repo.count_new(lane.tip, &self.integrated_tips)?;
        let after = match input.strategy {
            Strategy::Merge | Strategy::Squash => match self.merge_lane(lane, current)? {
                Ok(id) => id,
                Err(stuck) => return Ok(Err(stuck)),
            },
            Strategy::Rebase => match repo.replay(
                current,
                lane.tip,
                &self.integrated_tips,
                input.sig,
                &mut self.created,
            )? {
                Replayed::Done { tip, .. } => tip,
                Replayed::Conflict { commit, files } => {
                    return Ok(Err(self.stuck(
                        &lane.lane_id,
                        input.mission_branch,
                        Some(commit),
                        files,
                    )))
                }
                Replayed::RootCommit(commit) => return Err(MergeError::RootCommit { commit }),
            },
        };
        self.steps.push(LaneStep {
            lane_id: lane.lane_id.clone(),
            action: LaneAction::Merged,
            commits,
            files: repo.changed_paths(current, after)?,
        });
        self.integrated_tips.push(lane.tip);
        Ok(Ok(after))
    }

    /// A merge commit of the lane into the mission branch at `current`.
    fn merge_lane(&mut self, lane: &LaneInput, current: Oid) -> Result<Step<Oid>> {
        let (repo, input) = (self.repo, self.input);
        let tree = match repo.merge_commits(current, lane.tip)? {
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
        let id = repo.commit_tree(tree, &[current, lane.tip], &msg, input.sig)?;
        self.created.push(id);
        Ok(Ok(id))
    }

    /// Bring the mission branch (at `mission_after`) onto the target; returns
    /// where the mission branch and the target end up.
    fn onto_target(&mut self, mission_after: Oid) -> Result<Step<(Oid, Oid)>> {
        let (repo, input) = (self.repo, self.input);
        let target = input.target_tip;
        if repo.contains(target, mission_after)? {
            return Ok(Ok((mission_after, target)));
        }
        match input.strategy {
            Strategy::Merge | Strategy::Squash => Ok(self
                .merge_onto_target(target, mission_after)?
                .map(|target_after| (mission_after, target_after))),
            Strategy::Rebase => {
                if repo.contains(mission_after, target)? {
                    return Ok(Ok((mission_after, mission_after)));
                }
                // The target moved on since the mission branch started:
                // replay the mission branch onto it.
                match repo.replay(
                    target,
                    mission_after,
                    &[target],
                    input.sig,
                    &mut self.created,
                )? {
                    Replayed::Done { tip, .. } => Ok(Ok((tip, tip))),
                    Replayed::Conflict { commit, files } => {
                        Ok(Err(self.mission_stuck(Some(commit), files)))
                    }
                    Replayed::RootCommit(commit) => Err(MergeError::RootCommit { commit }),
                }
            }
        }
    }

    /// A merge (or squash) commit of the mission branch onto the target; a
    /// squash that changes nothing leaves the target where it is.
    fn merge_onto_target(&mut self, target: Oid, mission_after: Oid) -> Result<Step<Oid>> {
        let (repo, input) = (self.repo, self.input);
        let tree = match repo.merge_commits(target, mission_after)? {
            Ok(t) => t,
            Err(files) => return Ok(Err(self.mission_stuck(None, files))),
        };
        if input.strategy == Strategy::Squash && tree == repo.tree_of(target)? {
            return Ok(Ok(target));
        }
        let id = if input.strategy == Strategy::Merge {
            let msg = self.mission_merge_message();
            repo.commit_tree(tree, &[target, mission_after], &msg, input.sig)?
        } else {
            let msg = self.squash_message();
            repo.commit_tree(tree, &[target], &msg, input.sig)?
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
    repo: &Repo,
    parties: &[Party],
) -> Result<Vec<(String, String, Vec<String>)>> {
    let mut out = Vec::new();
    for (i, a) in parties.iter().enumerate() {
        for b in &parties[i + 1..] {
            if a.tip == b.tip || repo.contains(a.tip, b.tip)? || repo.contains(b.tip, a.tip)? {
                continue;
            }
            if let Err(files) = repo.merge_commits(a.tip, b.tip)? {
                out.push((a.label.clone(), b.label.clone(), files));
            }
        }
    }
    Ok(out)
}
