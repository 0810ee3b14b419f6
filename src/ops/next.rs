//! `next [--claim]`: the next step for an agent and, with `--claim`, the work
//! package it hands out taken for that agent at once, under the mission's
//! status lock. Two agents asking at the same moment never get the same
//! work package: the second one's claim finds it taken and `next` decides
//! again for it.

use crate::mission::Mission;
use crate::next::{Decision, Role};
use crate::project::Project;
use crate::status::ops::{move_wp, MoveRequest};
use crate::status::{Lane, StatusStore};

/// How many times a claim that lost a race is decided again before `next`
/// answers without claiming (each loss means another agent took a WP).
const CLAIM_TRIES: usize = 16;

/// Decide the next step for `agent`; with `claim`, take the work package a
/// fresh implement (planned -> claimed) or review (for_review -> in_review)
/// step hands out. Work the agent already holds is handed out as it is.
pub fn next(
    project: &Project,
    mission: &Mission,
    agent: Option<&str>,
    result: Option<&str>,
    role: Option<Role>,
    claim: bool,
) -> Result<Decision, crate::Error> {
    // The main checkout's repository, opened at most once for the whole
    // command, and only when a claim or the check before the first lane
    // needs it (a review, a wait or the end of the mission never does).
    let repo = std::cell::OnceCell::new();
    let repo = || {
        repo.get_or_init(|| crate::status::work::open(project))
            .as_ref()
    };
    let mut d = decide_claiming(&repo, project, mission, agent, result, role, claim)?;
    if d.action == Some("implement") {
        d.warnings
            .extend(before_first_lane(repo(), project, mission)?);
    }
    Ok(d)
}

/// `next` as a command runs it: the decision and, for a named agent, its
/// record in the mission's run log.
#[derive(Debug, Clone)]
pub struct Step {
    pub decision: Decision,
    /// `path:line: why` for each unreadable line of the run log.
    pub log_warnings: Vec<String>,
}

/// [`next`], then (for a named agent) [`crate::next::record`] of the decision
/// and `result`.
pub fn step(
    project: &Project,
    mission: &Mission,
    agent: Option<&str>,
    result: Option<&str>,
    role: Option<Role>,
    claim: bool,
) -> Result<Step, crate::Error> {
    let decision = next(project, mission, agent, result, role, claim)?;
    let log_warnings = match agent {
        Some(agent) => crate::next::record(project, mission, agent, result, &decision)?.warnings,
        None => Vec::new(),
    };
    Ok(Step {
        decision,
        log_warnings,
    })
}

/// Before the mission's first lane exists: what the lane would lack because
/// it is not committed on the target (the project's `.kittify/`,
/// `.gitignore`, `.gitattributes`, and the mission's files).
fn before_first_lane(
    repo: Option<&crate::git::Repo>,
    project: &Project,
    mission: &Mission,
) -> Result<Vec<String>, crate::Error> {
    let Some(repo) = repo else {
        return Ok(Vec::new());
    };
    let Some(lanes) = crate::lanes::LanesManifest::for_mission_acting(project, mission)? else {
        return Ok(Vec::new());
    };
    let branches: Vec<String> = lanes.lane_ids().map(|l| lanes.lane_branch(l)).collect();
    if repo.any_branch(&branches) {
        return Ok(Vec::new());
    }
    let target = crate::lanes::target_branch(mission, Some(&*lanes));
    match crate::workspace::action::check_committed_before_lanes(repo, project, mission, &target) {
        Ok(note) => Ok(note.into_iter().collect()),
        Err(e) => {
            let e = crate::Error::from(e);
            Ok(vec![match e.hint {
                Some(h) => format!("{}; {h}", e.message),
                None => e.message,
            }])
        }
    }
}

fn decide_claiming<'r>(
    repo: &impl Fn() -> Option<&'r crate::git::Repo>,
    project: &Project,
    mission: &Mission,
    agent: Option<&str>,
    result: Option<&str>,
    role: Option<Role>,
    claim: bool,
) -> Result<Decision, crate::Error> {
    let store = StatusStore::for_mission(project, mission);
    for _ in 0..CLAIM_TRIES {
        let d = crate::next::decide(project, mission, agent, result, role)?;
        let (true, Some(agent), Some(wp)) = (claim, agent, d.wp_id.clone()) else {
            return Ok(d);
        };
        let (from, to) = match d.action {
            Some("implement") => (Lane::Planned, "claimed"),
            Some("review") => (Lane::ForReview, "in_review"),
            _ => return Ok(d),
        };
        let (snap, _) = store.snapshot()?;
        if snap.lane_of(&wp).unwrap_or(Lane::Planned) != from {
            // Already the agent's (claimed, in progress, in review by it).
            return Ok(d);
        }
        crate::env::pause_at(crate::env::PausePoint::NextBeforeClaim);
        // Under the status lock the move finds the WP where it is now: one
        // that another agent took meanwhile is refused or records nothing.
        let moved = move_wp(
            repo(),
            project,
            mission,
            &MoveRequest {
                wp_id: wp.clone(),
                to: to.into(),
                agent: Some(agent.to_string()),
                note: Some(format!("handed out by next to {agent}")),
                ..Default::default()
            },
        );
        if matches!(&moved, Ok(m) if !m.event_ids.is_empty()) {
            return Ok(d);
        }
        let (snap, _) = store.snapshot()?;
        let now = snap.work_packages.get(&wp);
        if now.is_some_and(|s| s.actor == agent && s.lane.to_string() == to) {
            return Ok(d);
        }
        // Refused while nobody took it (a guard): that is the answer.
        if let Err(e) = moved {
            if now.is_none_or(|s| s.lane == from) {
                return Err(e.into());
            }
        }
    }
    Ok(crate::next::decide(project, mission, agent, result, role)?)
}
