//! `agent tasks move-task`: move a work package to another lane. The
//! operation reads the review feedback file (capped), derives the reason a
//! forced move records, checks the extra keys recorded on its events, and
//! hands the move to [`crate::status::ops::move_wp`].

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::{self, MoveOutcome, MoveRequest};

/// The largest review feedback file read (feedback is prose, not a dump).
pub const FEEDBACK_LIMIT: u64 = 1 << 20;

/// The largest `assignee`/`reviewer`/`approval_ref` recorded.
pub const NAME_LIMIT: usize = 200;

/// A move as the caller asks for it.
#[derive(Debug, Clone, Default)]
pub struct MoveTask {
    pub wp_id: String,
    pub to: String,
    pub agent: Option<String>,
    pub note: Option<String>,
    pub review_feedback: Option<String>,
    /// Review feedback read from this file (instead of `review_feedback`).
    pub review_feedback_file: Option<PathBuf>,
    pub force: bool,
    pub reason: Option<String>,
    pub done_override_reason: Option<String>,
    pub assignee: Option<String>,
    pub shell_pid: Option<u32>,
    pub reviewer: Option<String>,
    pub approval_ref: Option<String>,
}

/// The move done (or found done already: no events).
#[derive(Debug, Clone)]
pub struct Moved {
    pub mission_slug: String,
    pub outcome: MoveOutcome,
    /// The WP file, when it can be found after the move.
    pub path: Option<PathBuf>,
}

/// The review feedback file's text, refused when missing, empty or over
/// [`FEEDBACK_LIMIT`].
pub fn read_feedback_file(p: &Path) -> Result<String> {
    let len = std::fs::metadata(p)
        .map_err(|e| {
            Error::user(format!(
                "cannot read review feedback file {}: {e}",
                p.display()
            ))
            .with_hint("write the feedback to that file first, or pass --review-feedback \"text\"")
        })?
        .len();
    if len > FEEDBACK_LIMIT {
        return Err(Error::user(format!(
            "review feedback file {} is {len} bytes; the limit is {FEEDBACK_LIMIT}",
            p.display()
        ))
        .with_hint("keep feedback to what must change"));
    }
    let text = crate::fsutil::read_to_string(p)?;
    if text.trim().is_empty() {
        return Err(
            Error::user(format!("review feedback file {} is empty", p.display()))
                .with_hint("say what must change"),
        );
    }
    Ok(text.trim_end().to_string())
}

/// `assignee`, `shell_pid`, `reviewer`, `approval_ref`: keys recorded on
/// every event of the move (one line of printable text each).
fn extra_keys(m: &MoveTask) -> Result<Map<String, Value>> {
    let mut extra = Map::new();
    for (key, value) in [
        ("assignee", &m.assignee),
        ("reviewer", &m.reviewer),
        ("approval_ref", &m.approval_ref),
    ] {
        let Some(v) = value else { continue };
        let v = v.trim();
        if v.is_empty() || v.chars().count() > NAME_LIMIT || v.chars().any(char::is_control) {
            return Err(Error::usage(format!(
                "--{} must be one line of 1 to {NAME_LIMIT} printable characters",
                key.replace('_', "-")
            )));
        }
        extra.insert(key.into(), json!(v));
    }
    if let Some(pid) = m.shell_pid {
        extra.insert("shell_pid".into(), json!(pid));
    }
    Ok(extra)
}

/// Move the work package.
pub fn move_task(project: &Project, mission: &Mission, m: &MoveTask) -> Result<Moved> {
    let review_feedback = match &m.review_feedback_file {
        Some(p) => Some(read_feedback_file(p)?),
        None => m.review_feedback.clone(),
    };
    let reason = m
        .reason
        .clone()
        .or_else(|| m.done_override_reason.clone())
        .or_else(|| m.note.clone().filter(|_| m.force))
        .or_else(|| {
            let f = review_feedback.as_deref().filter(|_| m.force)?;
            Some(format!(
                "review feedback: {}",
                f.lines().next().unwrap_or_default()
            ))
        });
    let outcome = ops::move_wp(
        crate::status::work::open(project).as_ref(),
        project,
        mission,
        &MoveRequest {
            wp_id: m.wp_id.clone(),
            to: m.to.clone(),
            agent: m.agent.clone(),
            note: m.note.clone(),
            review_feedback,
            force: m.force,
            reason,
            workspace: None,
            landed: None,
            expect_lane: None,
            extra: extra_keys(m)?,
        },
    )?;
    // The file the move found and wrote (a move does not rename it).
    let path = Some(outcome.path.clone()).filter(|p| p.is_file());
    Ok(Moved {
        mission_slug: mission.slug.clone(),
        outcome,
        path,
    })
}
