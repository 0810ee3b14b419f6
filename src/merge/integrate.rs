//! Computing the result of a merge without touching refs or files: the merges
//! and replays happen on commit objects, conflicts come back as file lists.
//! Callers point the repository's object database at an in-memory backend first
//! when nothing may be written at all.

use git2::{Commit, Index, Oid, Repository, Signature, Sort};

use super::{contains, short, LaneAction, Strategy};
use crate::error::{Error, Result};

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

/// Integrate the lanes in the given order with the chosen strategy.
pub(crate) fn integrate(repo: &Repository, input: &Input<'_>) -> Result<Outcome> {
    let mut created = Vec::new();
    let mut steps = Vec::new();
    let target = input.target_tip;
    let lane_ids: Vec<&str> = input.lanes.iter().map(|l| l.lane_id.as_str()).collect();

    // Where the mission branch starts.
    let mut current = match (input.strategy, input.mission_tip) {
        (_, None) => target,
        (Strategy::Rebase, Some(m)) if !contains(repo, m, target)? => {
            // Replay the mission branch's own commits onto the target first.
            match replay(repo, target, m, &[target], input.sig, &mut created)? {
                Ok((tip, _, _)) => tip,
                Err((commit, files)) => {
                    return Ok(Outcome::Conflict(Stuck {
                        what: input.mission_branch.to_string(),
                        into: input.target_branch.to_string(),
                        commit: Some(commit),
                        files,
                        done: steps,
                    }))
                }
            }
        }
        (_, Some(m)) => m,
    };

    let mut integrated_tips: Vec<Oid> = vec![target];
    if let Some(m) = input.mission_tip {
        integrated_tips.push(m);
    }
    for lane in input.lanes {
        let into = input.mission_branch.to_string();
        let before = current;
        if contains(repo, target, lane.tip)? {
            steps.push(LaneStep {
                lane_id: lane.lane_id.clone(),
                action: LaneAction::NoChanges,
                commits: 0,
                files: Vec::new(),
            });
            integrated_tips.push(lane.tip);
            continue;
        }
        let already = match input.strategy {
            Strategy::Rebase => {
                // Replayed commits are new objects, so ask whether the lane has
                // any commit that nothing integrated so far contains.
                count_new(repo, lane.tip, &integrated_tips)? == 0
            }
            _ => contains(repo, current, lane.tip)?,
        };
        if already {
            steps.push(LaneStep {
                lane_id: lane.lane_id.clone(),
                action: LaneAction::AlreadyMerged,
                commits: 0,
                files: Vec::new(),
            });
            integrated_tips.push(lane.tip);
            continue;
        }
        let commits = count_new(repo, lane.tip, &integrated_tips)?;
        match input.strategy {
            Strategy::Merge | Strategy::Squash => {
                let ours = repo.find_commit(current)?;
                let theirs = repo.find_commit(lane.tip)?;
                let tree = match merged_tree(repo, &ours, &theirs)? {
                    Ok(t) => t,
                    Err(files) => {
                        return Ok(Outcome::Conflict(Stuck {
                            what: lane.lane_id.clone(),
                            into,
                            commit: None,
                            files,
                            done: steps,
                        }))
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
                created.push(id);
                current = id;
            }
            Strategy::Rebase => {
                match replay(
                    repo,
                    current,
                    lane.tip,
                    &integrated_tips,
                    input.sig,
                    &mut created,
                )? {
                    Ok((tip, _, _)) => current = tip,
                    Err((commit, files)) => {
                        return Ok(Outcome::Conflict(Stuck {
                            what: lane.lane_id.clone(),
                            into,
                            commit: Some(commit),
                            files,
                            done: steps,
                        }))
                    }
                }
            }
        }
        steps.push(LaneStep {
            lane_id: lane.lane_id.clone(),
            action: LaneAction::Merged,
            commits,
            files: changed_files(repo, before, current)?,
        });
        integrated_tips.push(lane.tip);
    }
    let mission_after = current;

    // The mission branch onto the target.
    let target_commit = repo.find_commit(target)?;
    let mut mission_final = mission_after;
    let target_after = if contains(repo, target, mission_after)? {
        target
    } else {
        match input.strategy {
            Strategy::Merge | Strategy::Squash => {
                let theirs = repo.find_commit(mission_after)?;
                let tree = match merged_tree(repo, &target_commit, &theirs)? {
                    Ok(t) => t,
                    Err(files) => {
                        return Ok(Outcome::Conflict(Stuck {
                            what: input.mission_branch.to_string(),
                            into: input.target_branch.to_string(),
                            commit: None,
                            files,
                            done: steps,
                        }))
                    }
                };
                if input.strategy == Strategy::Squash && tree == target_commit.tree_id() {
                    target
                } else {
                    let tree = repo.find_tree(tree)?;
                    let merged: Vec<&str> = steps
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
                    let id = if input.strategy == Strategy::Merge {
                        let msg = format!(
                            "Merge {} into {}\n\nMission {}: lanes {}.\n",
                            input.mission_branch,
                            input.target_branch,
                            input.mission_slug,
                            lane_ids.join(", ")
                        );
                        repo.commit(
                            None,
                            input.sig,
                            input.sig,
                            &msg,
                            &tree,
                            &[&target_commit, &theirs],
                        )?
                    } else {
                        let msg = format!(
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
                        );
                        repo.commit(None, input.sig, input.sig, &msg, &tree, &[&target_commit])?
                    };
                    created.push(id);
                    id
                }
            }
            Strategy::Rebase => {
                if contains(repo, mission_after, target)? {
                    mission_after
                } else {
                    // The target moved on since the mission branch started:
                    // replay the mission branch onto it.
                    match replay(
                        repo,
                        target,
                        mission_after,
                        &[target],
                        input.sig,
                        &mut created,
                    )? {
                        Ok((tip, _, _)) => {
                            mission_final = tip;
                            tip
                        }
                        Err((commit, files)) => {
                            return Ok(Outcome::Conflict(Stuck {
                                what: input.mission_branch.to_string(),
                                into: input.target_branch.to_string(),
                                commit: Some(commit),
                                files,
                                done: steps,
                            }))
                        }
                    }
                }
            }
        }
    };
    Ok(Outcome::Clean(Integrated {
        mission_after: mission_final,
        target_after,
        steps,
        created,
    }))
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
            return Err(Error::user(format!(
                "commit {} has no parent and cannot be replayed",
                short(oid)
            ))
            .with_hint("use --strategy merge for branches with unrelated histories"));
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
pub(crate) fn conflict_paths(index: &Index) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for c in index.conflicts()? {
        let c = c?;
        for entry in [&c.our, &c.their, &c.ancestor].into_iter().flatten() {
            out.push(String::from_utf8_lossy(&entry.path).into_owned());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

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
