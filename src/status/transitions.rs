//! Which lane moves are allowed, and what each one needs.

use serde_json::Value;

use super::model::Lane;
use crate::error::{Error, Result};

/// What the caller knows about a move, checked against the guards.
#[derive(Debug, Clone, Default)]
pub struct TransitionContext {
    pub actor: String,
    pub reason: Option<String>,
    pub review_ref: Option<String>,
    pub evidence: Option<Value>,
    pub workspace_context: Option<String>,
    /// Every subtask of the WP is ticked (needed for in_progress -> for_review).
    pub subtasks_complete: bool,
    /// There is implementation work to review (needed for in_progress -> for_review).
    pub implementation_evidence: bool,
}

fn nonempty(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// Whether the review evidence has a non-blank value for every key in `keys`.
fn review_has(ctx: &TransitionContext, keys: &[&str]) -> bool {
    let Some(review) = ctx.evidence.as_ref().and_then(|e| e.get("review")) else {
        return false;
    };
    keys.iter().all(|k| {
        review
            .get(*k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    })
}

fn has_review_evidence(ctx: &TransitionContext) -> bool {
    review_has(ctx, &["reviewer", "reference"])
}

fn has_review_result(ctx: &TransitionContext) -> bool {
    review_has(ctx, &["reviewer", "reference", "verdict"])
}

/// The guard of `from -> to`: `None` if the pair is not allowed at all, else the
/// check and what it needs.
type Guard = (fn(&TransitionContext) -> bool, &'static str);

fn guard(from: Lane, to: Lane) -> Option<Guard> {
    use Lane::*;
    let always: fn(&TransitionContext) -> bool = |_| true;
    Some(match (from, to) {
        (Planned, Claimed) => (|c| !c.actor.trim().is_empty(), "an actor (--agent)"),
        (Claimed, InProgress) => (|c| nonempty(&c.workspace_context), "a workspace"),
        (InProgress, ForReview) => (
            |c| c.subtasks_complete && c.implementation_evidence,
            "every subtask checked off in tasks.md and implementation work to review",
        ),
        (ForReview, InReview) => (|c| !c.actor.trim().is_empty(), "a reviewer (--agent)"),
        (InReview, Approved | Done | InProgress | Planned | Blocked | Canceled) => (
            has_review_result,
            "a review result (reviewer, verdict and reference)",
        ),
        (InProgress, Approved) | (Approved, Done) => {
            (has_review_evidence, "reviewer approval evidence")
        }
        (Approved, InProgress | Planned) => {
            (|c| nonempty(&c.review_ref), "a review reference (feedback)")
        }
        (InProgress, Planned) => (|c| nonempty(&c.reason), "a reason (--note)"),
        (Planned | Claimed | InProgress | ForReview | Approved, Blocked)
        | (Blocked, InProgress) => (always, ""),
        (Planned | Claimed | InProgress | ForReview | Approved | Blocked, Canceled) => (always, ""),
        _ => return None,
    })
}

/// The lanes reachable from `from` without `--force`.
pub fn allowed_targets(from: Lane) -> Vec<Lane> {
    super::LANES
        .iter()
        .copied()
        .filter(|&to| guard(from, to).is_some())
        .collect()
}

/// Check a move. Forced moves skip the table and guards but need an actor and a reason.
pub fn validate(from: Lane, to: Lane, force: bool, ctx: &TransitionContext) -> Result<()> {
    if force {
        if ctx.actor.trim().is_empty() || !nonempty(&ctx.reason) {
            return Err(Error::user("a forced move needs an actor and a reason")
                .with_hint("pass --force together with --reason \"why\" (and --agent)"));
        }
        return Ok(());
    }
    match guard(from, to) {
        Some((check, needs)) => {
            if check(ctx) {
                Ok(())
            } else {
                Err(
                    Error::user(format!("cannot move {from} -> {to}: it needs {needs}"))
                        .with_hint("provide it, or override with --force --reason \"why\""),
                )
            }
        }
        None => {
            let allowed = allowed_targets(from);
            let list = if allowed.is_empty() {
                "none (it is terminal)".to_string()
            } else {
                allowed
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Err(Error::user(format!(
                "illegal transition {from} -> {to}; allowed from {from}: {list}"
            ))
            .with_hint("override with --force --reason \"why\""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_guards() {
        let ctx = TransitionContext {
            actor: "codex".into(),
            ..Default::default()
        };
        assert!(validate(Lane::Planned, Lane::Claimed, false, &ctx).is_ok());
        let e = validate(Lane::Planned, Lane::Done, false, &ctx).unwrap_err();
        assert!(
            e.message
                .contains("allowed from planned: claimed, blocked, canceled"),
            "{}",
            e.message
        );
        assert!(validate(Lane::InProgress, Lane::ForReview, false, &ctx).is_err());
        assert!(validate(Lane::Done, Lane::Planned, false, &ctx)
            .unwrap_err()
            .message
            .contains("terminal"));
        assert!(
            validate(Lane::Done, Lane::Planned, true, &ctx).is_err(),
            "force needs a reason"
        );
        let forced = TransitionContext {
            reason: Some("redo".into()),
            ..ctx
        };
        assert!(validate(Lane::Done, Lane::Planned, true, &forced).is_ok());
    }
}
