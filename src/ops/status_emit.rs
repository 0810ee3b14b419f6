//! `agent status emit`: record exactly one lane transition of a work package
//! in the event log (validated against the lifecycle and its guards, under the
//! mission's status lock) and rewrite status.json.
//!
//! Unlike `move-task` nothing is chained and nothing is inferred about the
//! review: the verdict evidence is what `--evidence-json` says. The guards
//! that read the repository (open subtasks in tasks.md, the hand-in commit,
//! the merge of approved work) still check it, whatever the caller claims.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::{find_wp, open_subtasks};
use crate::status::{work, Lane, StatusStore, Transition, TransitionContext};

/// What the caller asks to record.
#[derive(Debug, Clone, Default)]
pub struct EmitRequest {
    pub wp_id: String,
    pub to: String,
    pub actor: String,
    pub force: bool,
    pub reason: Option<String>,
    /// `--evidence-json`, as given.
    pub evidence_json: Option<String>,
    pub review_ref: Option<String>,
    pub workspace_context: Option<String>,
    /// The caller's statement that the subtasks are complete.
    pub subtasks_complete: bool,
    /// The caller's statement that implementation evidence exists.
    pub implementation_evidence_present: bool,
    /// `worktree` or `direct_repo`.
    pub execution_mode: String,
}

/// The event recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Emitted {
    pub event_id: String,
    pub wp_id: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub actor: String,
}

const EVIDENCE_EXAMPLE: &str =
    r#"{"review": {"reviewer": "alice", "verdict": "approved", "reference": "PR#1"}}"#;

/// Record the transition.
pub fn emit(project: &Project, mission: &Mission, req: &EmitRequest) -> Result<Emitted> {
    if req.execution_mode != "worktree" && req.execution_mode != "direct_repo" {
        return Err(Error::user(format!(
            "--execution-mode must be worktree or direct_repo, not {:?}",
            req.execution_mode
        )));
    }
    if req.actor.trim().is_empty() {
        return Err(Error::user("--actor must name who makes the transition"));
    }
    let evidence = match &req.evidence_json {
        None => None,
        Some(text) => match crate::bounds::json::<Value>(text) {
            Ok(v @ Value::Object(_)) => Some(v),
            Ok(_) => {
                return Err(Error::user("--evidence-json must be a JSON object")
                    .with_hint(format!("for example '{EVIDENCE_EXAMPLE}'")))
            }
            Err(e) => {
                return Err(Error::user(format!("Invalid JSON in --evidence-json: {e}"))
                    .with_hint(format!("for example '{EVIDENCE_EXAMPLE}'")))
            }
        },
    };
    let file = find_wp(mission, &req.wp_id)?;
    let to = Lane::parse(&req.to)?;
    let store = StatusStore::for_mission(project, mission);
    let (snap, _, mut roles) = store.snapshot_with_roles()?;
    let roles = roles.remove(&file.id).unwrap_or_default();
    let from = snap.lane_of(&file.id).unwrap_or(Lane::Planned);
    let mut work_problem = None;
    let mut merge_problem = None;
    let mut extra = Map::new();
    if !req.force && from != to {
        let repo = work::open(project);
        if to == Lane::InProgress && from == Lane::Claimed {
            extra = work::claim_keys(repo.as_ref(), project, mission, &file)?;
        }
        if to == Lane::ForReview {
            let h = work::hand_in(
                repo.as_ref(),
                project,
                mission,
                &file,
                roles.claim_commit.clone(),
            )?;
            work_problem = h.problem;
            extra = h.keys;
        }
        if to == Lane::Done {
            merge_problem = work::merge_problem(
                repo.as_ref(),
                project,
                mission,
                &file,
                roles.hand_in_commit.clone(),
            )?;
        }
    }
    if to == Lane::ForReview {
        if req.subtasks_complete {
            extra.insert("subtasks_complete".into(), true.into());
        }
        if req.implementation_evidence_present {
            extra.insert("implementation_evidence_present".into(), true.into());
        }
    }
    let ctx = TransitionContext {
        actor: req.actor.clone(),
        reason: req.reason.clone(),
        review_ref: req.review_ref.clone(),
        evidence,
        workspace_context: req.workspace_context.clone(),
        wp_id: file.id.clone(),
        mission_slug: mission.slug.clone(),
        open_subtasks: open_subtasks(mission, &file.id)?,
        implementer: roles.implementer.clone(),
        implementers: roles.implementers.clone(),
        work_problem,
        merge_problem,
    };
    let written = store.transition(&Transition {
        wp_id: file.id.clone(),
        to,
        // A move to the lane it is already in records nothing unless forced;
        // say so instead of printing an event that was never written.
        force: req.force,
        chain: false,
        execution_mode: req.execution_mode.clone(),
        ctx,
        extra,
    })?;
    let Some(e) = written.into_iter().last() else {
        return Err(
            Error::user(format!("{} is already {to}: nothing recorded", file.id))
                .with_hint("pass --force --reason \"...\" to record the same lane again"),
        );
    };
    Ok(Emitted {
        event_id: e.event_id,
        wp_id: e.wp_id,
        from_lane: e.from_lane,
        to_lane: e.to_lane,
        actor: e.actor,
    })
}
