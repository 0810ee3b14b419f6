//! The lifecycle of a work package: one table of the moves that are allowed,
//! what each needs (its guard) and who may make it. `move-task`, the action
//! verbs, `next`, `accept` and `validate-workflow` all read this table, and
//! `agent tasks move-task --help` prints it.
//!
//! It is the reference's nine lanes and guarded transitions, made stricter:
//! nothing skips review (no `in_progress -> approved`, no `in_review -> done`),
//! `done` needs the approved work merged, and a reviewer is never the
//! implementer.

use serde_json::Value;

use super::error::{Result, StatusError};
use super::model::Lane;

/// What a move needs before it is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Someone takes the WP: an actor (`--agent`).
    Claim,
    /// The WP has a workspace to work in.
    Workspace,
    /// Subtasks ticked; for a code WP a commit on the lane branch since the
    /// claim and no uncommitted change to the WP's owned files.
    HandIn,
    /// A reviewer who is not the implementer takes the review.
    ReviewClaim,
    /// A review verdict by a reviewer who is not the implementer.
    Verdict,
    /// Review feedback saying what must change.
    Feedback,
    /// The approved work is merged into the target branch (a planning WP:
    /// its files are committed or present in the main checkout).
    Merged,
    /// A reason (`--note`).
    Reason,
    /// Nothing.
    Free,
}

impl Guard {
    /// The rule's name, as refusals quote it.
    pub fn name(self) -> &'static str {
        match self {
            Guard::Claim => "claim",
            Guard::Workspace => "workspace",
            Guard::HandIn => "hand-in",
            Guard::ReviewClaim => "review-claim",
            Guard::Verdict => "review-verdict",
            Guard::Feedback => "review-feedback",
            Guard::Merged => "merged",
            Guard::Reason => "reason",
            Guard::Free => "free",
        }
    }

    /// What the guard needs, in a few words.
    pub fn needs(self) -> &'static str {
        match self {
            Guard::Claim => "an agent taking it (--agent)",
            Guard::Workspace => "its workspace (lane worktree or main checkout)",
            Guard::HandIn => {
                "subtasks ticked; code WP: a commit on the lane branch since the claim, owned files committed"
            }
            Guard::ReviewClaim => "a reviewer who is not the implementer",
            Guard::Verdict => "a verdict by a reviewer who is not the implementer",
            Guard::Feedback => "review feedback (--review-feedback)",
            Guard::Merged => "approved work merged into the target (planning WP: files in the main checkout)",
            Guard::Reason => "a reason (--note)",
            Guard::Free => "-",
        }
    }
}

/// Who may make a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The agent that claimed the WP.
    Implementer,
    /// Anyone but the implementer.
    Reviewer,
    /// `spec-kitty merge` (or anyone, once the work is in the target).
    Merge,
    Anyone,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Implementer => "implementer",
            Role::Reviewer => "reviewer",
            Role::Merge => "merge",
            Role::Anyone => "anyone",
        }
    }
}

/// One row of the lifecycle.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub from: &'static [Lane],
    pub to: Lane,
    pub guard: Guard,
    pub role: Role,
    /// The command that makes the move.
    pub via: &'static str,
}

use Lane::*;

/// The lifecycle. Any pair not listed needs `--force --reason`.
pub const LIFECYCLE: &[Rule] = &[
    Rule {
        from: &[Planned],
        to: Claimed,
        guard: Guard::Claim,
        role: Role::Anyone,
        via: "agent action implement",
    },
    Rule {
        from: &[Claimed],
        to: InProgress,
        guard: Guard::Workspace,
        role: Role::Implementer,
        via: "agent action implement",
    },
    Rule {
        from: &[InProgress],
        to: ForReview,
        guard: Guard::HandIn,
        role: Role::Implementer,
        via: "move-task --to for_review",
    },
    Rule {
        from: &[ForReview],
        to: InReview,
        guard: Guard::ReviewClaim,
        role: Role::Reviewer,
        via: "agent action review",
    },
    Rule {
        from: &[InReview],
        to: Approved,
        guard: Guard::Verdict,
        role: Role::Reviewer,
        via: "move-task --to approved",
    },
    Rule {
        from: &[InReview, Approved],
        to: Planned,
        guard: Guard::Feedback,
        role: Role::Reviewer,
        via: "move-task --to planned --review-feedback",
    },
    Rule {
        from: &[InReview, Approved],
        to: InProgress,
        guard: Guard::Feedback,
        role: Role::Reviewer,
        via: "move-task --to in_progress --review-feedback",
    },
    Rule {
        from: &[Approved],
        to: Done,
        guard: Guard::Merged,
        role: Role::Merge,
        via: "merge",
    },
    Rule {
        from: &[InProgress],
        to: Planned,
        guard: Guard::Reason,
        role: Role::Implementer,
        via: "move-task --to planned --note",
    },
    Rule {
        from: &[Planned, Claimed, InProgress, ForReview, InReview, Approved],
        to: Blocked,
        guard: Guard::Free,
        role: Role::Anyone,
        via: "move-task --to blocked",
    },
    Rule {
        from: &[Blocked],
        to: InProgress,
        guard: Guard::Free,
        role: Role::Implementer,
        via: "move-task --to in_progress",
    },
    Rule {
        from: &[
            Planned, Claimed, InProgress, ForReview, InReview, Approved, Blocked,
        ],
        to: Canceled,
        guard: Guard::Free,
        role: Role::Anyone,
        via: "move-task --to canceled",
    },
];

/// The rule for `from -> to`, if the pair is allowed without `--force`.
pub fn rule(from: Lane, to: Lane) -> Option<&'static Rule> {
    LIFECYCLE
        .iter()
        .find(|r| r.to == to && r.from.contains(&from))
}

/// The move the table offers from `from` under `guard`, if any: how `next`
/// asks which step a WP in that lane is waiting for (a claim, a review, a
/// verdict, a hand-in) and who may take it.
pub fn offered(from: Lane, guard: Guard) -> Option<&'static Rule> {
    offered_in(LIFECYCLE, from, guard)
}

fn offered_in(table: &[Rule], from: Lane, guard: Guard) -> Option<&Rule> {
    table
        .iter()
        .find(|r| r.guard == guard && r.from.contains(&from))
}

/// Whether a WP in `lane` is finished as far as acceptance goes: the lane is
/// terminal, or its only way on is the merge (`approved`). `next` and the
/// accept gate ask this rather than naming lanes.
pub fn settled(lane: Lane) -> bool {
    settled_in(LIFECYCLE, lane)
}

fn settled_in(table: &[Rule], lane: Lane) -> bool {
    lane.is_terminal()
        || offered_in(table, lane, Guard::Merged).is_some_and(|r| r.role == Role::Merge)
}

/// The lanes reachable from `from` without `--force`.
pub fn allowed_targets(from: Lane) -> Vec<Lane> {
    super::LANES
        .iter()
        .copied()
        .filter(|&to| rule(from, to).is_some())
        .collect()
}

/// The events one request records: a single hop, or one of the two shortcuts
/// that pass through a lane on the way (`planned -> in_progress` claims first;
/// a verdict straight from `for_review` takes the review first). Nothing else
/// is chained, so no request skips a guard.
pub fn route(from: Lane, to: Lane) -> Vec<Lane> {
    if rule(from, to).is_some() {
        return vec![to];
    }
    match (from, to) {
        (Planned, InProgress) => vec![Claimed, InProgress],
        (ForReview, Approved | Planned | InProgress) => vec![InReview, to],
        _ => vec![to],
    }
}

/// The lifecycle as text, for `move-task --help`.
pub fn table_text() -> String {
    let mut out = String::from("Lifecycle (from -> to: needs; who; command):\n");
    for r in LIFECYCLE {
        let from: Vec<&str> = r.from.iter().map(|l| l.as_str()).collect();
        out.push_str(&format!(
            "  {} -> {}: {}; {}; {}\n",
            from.join("|"),
            r.to,
            r.guard.needs(),
            r.role.name(),
            r.via
        ));
    }
    out.push_str(
        "Shortcuts: planned -> in_progress records the claim on the way; a verdict from for_review \
         records the review claim on the way. Nothing else is skipped.\n\
         Anything else, or a move whose guard fails, needs --force --reason \"why\" (recorded in the event).\n",
    );
    out
}

/// What the caller knows about a move, checked against the guards.
#[derive(Debug, Clone, Default)]
pub struct TransitionContext {
    pub actor: String,
    pub reason: Option<String>,
    pub review_ref: Option<String>,
    pub evidence: Option<Value>,
    pub workspace_context: Option<String>,
    /// The WP and mission, for the commands a refusal names.
    pub wp_id: String,
    pub mission_slug: String,
    /// Subtasks of the WP not ticked yet in tasks.md.
    pub open_subtasks: Vec<String>,
    /// Who claimed the WP for implementation, when known.
    pub implementer: Option<String>,
    /// Everyone who implemented it ([`super::work::implementers`]): none of
    /// them reviews it.
    pub implementers: Vec<String>,
    /// Why the hand-in evidence is missing, and the command that fixes it
    /// (None: the work is there).
    pub work_problem: Option<(String, String)>,
    /// Why the approved work is not merged yet, and the fix (None: it is).
    pub merge_problem: Option<(String, String)>,
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

/// A refused move: the rule, the lane the WP is in and the command that would
/// satisfy the rule.
fn refusal(
    ctx: &TransitionContext,
    from: Lane,
    to: Lane,
    rule: &str,
    problem: String,
    command: String,
) -> StatusError {
    let wp = if ctx.wp_id.is_empty() {
        "the work package"
    } else {
        ctx.wp_id.as_str()
    };
    StatusError::Refused {
        wp: wp.to_string(),
        from,
        to,
        rule: rule.to_string(),
        problem,
        command,
    }
}

/// The agent named in hints when the caller did not say.
fn who(ctx: &TransitionContext) -> &str {
    if ctx.actor.trim().is_empty() || ctx.actor == "user" {
        "<you>"
    } else {
        &ctx.actor
    }
}

/// An implementer recorded by a tool rather than an agent does not bind.
fn known_implementer(ctx: &TransitionContext) -> Option<&str> {
    ctx.implementer
        .as_deref()
        .filter(|i| !i.is_empty() && *i != "implement-command")
}

fn check_role(ctx: &TransitionContext, r: &Rule, from: Lane) -> Result<()> {
    let (wp, slug) = (&ctx.wp_id, &ctx.mission_slug);
    match (r.role, known_implementer(ctx)) {
        (Role::Implementer, Some(imp)) if ctx.actor != imp && ctx.actor != "user" => {
            Err(refusal(
                ctx,
                from,
                r.to,
                "implementer-only",
                format!("{wp} is being implemented by {imp}, not {}", ctx.actor),
                format!("let {imp} run `spec-kitty agent tasks move-task {wp} --to {} --agent {imp} --mission {slug}`", r.to),
            ))
        }
        (Role::Reviewer, Some(imp)) if ctx.actor == imp => Err(refusal(
            ctx,
            from,
            r.to,
            "no-self-review",
            format!("{imp} implemented {wp} and cannot review it"),
            format!("another agent runs `spec-kitty agent action review {wp} --mission {slug} --agent <reviewer>`"),
        )),
        (Role::Reviewer, _) if ctx.actor != "user" && ctx.implementers.contains(&ctx.actor) => Err(refusal(
            ctx,
            from,
            r.to,
            "no-self-review",
            format!("{} also implemented {} (implementers: {}) and cannot review it", ctx.actor, ctx.wp_id, ctx.implementers.join(", ")),
            format!("another agent runs `spec-kitty agent action review {wp} --mission {slug} --agent <reviewer>`"),
        )),
        _ => Ok(()),
    }
}

fn check_guard(ctx: &TransitionContext, r: &Rule, from: Lane) -> Result<()> {
    let (wp, slug) = (&ctx.wp_id, &ctx.mission_slug);
    let to = r.to;
    let fail = |problem: String, command: String| {
        Err(refusal(ctx, from, to, r.guard.name(), problem, command))
    };
    match r.guard {
        Guard::Claim if ctx.actor.trim().is_empty() => fail(
            "nobody is taking it".into(),
            format!("run `spec-kitty agent action implement {wp} --mission {slug} --agent <you>`"),
        ),
        Guard::Workspace if !nonempty(&ctx.workspace_context) => fail(
            "it has no workspace".into(),
            format!("run `spec-kitty agent action implement {wp} --mission {slug} --agent {}`", who(ctx)),
        ),
        Guard::HandIn if !ctx.open_subtasks.is_empty() => fail(
            format!("subtasks not ticked in tasks.md: {}", ctx.open_subtasks.join(", ")),
            format!(
                "run `spec-kitty agent tasks mark-status {} --status done --mission {slug}`",
                ctx.open_subtasks.join(" ")
            ),
        ),
        Guard::HandIn => match &ctx.work_problem {
            Some((problem, command)) => fail(problem.clone(), command.clone()),
            None => Ok(()),
        },
        Guard::ReviewClaim if ctx.actor.trim().is_empty() => fail(
            "no reviewer named".into(),
            format!("run `spec-kitty agent action review {wp} --mission {slug} --agent <reviewer>`"),
        ),
        Guard::Verdict if !review_has(ctx, &["reviewer", "reference", "verdict"]) => fail(
            "no review verdict".into(),
            format!("run `spec-kitty agent tasks move-task {wp} --to approved --agent <reviewer> --mission {slug} --note \"why it is good\"`"),
        ),
        Guard::Feedback if !nonempty(&ctx.review_ref) => fail(
            "no review feedback".into(),
            format!("run `spec-kitty agent tasks move-task {wp} --to {to} --agent <reviewer> --mission {slug} --review-feedback \"what must change\"`"),
        ),
        Guard::Merged => match &ctx.merge_problem {
            Some((problem, command)) => fail(problem.clone(), command.clone()),
            None => Ok(()),
        },
        Guard::Reason if !nonempty(&ctx.reason) => fail(
            "no reason given".into(),
            format!("add --note \"why\" to `spec-kitty agent tasks move-task {wp} --to {to} --mission {slug}`"),
        ),
        _ => Ok(()),
    }
}

/// The command that moves a WP in `from` on towards `to`, for a refusal of a
/// pair the table does not allow.
fn way_forward(ctx: &TransitionContext, from: Lane, to: Lane) -> String {
    let (wp, slug) = (&ctx.wp_id, &ctx.mission_slug);
    let me = who(ctx);
    match from {
        Planned => format!(
            "claim and build it first: `spec-kitty agent action implement {wp} --mission {slug} --agent {me}`"
        ),
        // Claimed already: what is left is building it (the claimant's
        // `implement` makes the workspace and moves it on to in_progress).
        Claimed => {
            let by = known_implementer(ctx).unwrap_or(me);
            let then = if to == Planned { "" } else { " first" };
            format!(
                "it is claimed already; build it{then}: `spec-kitty agent action implement {wp} --mission {slug} --agent {by}`"
            )
        }
        InProgress | Blocked if matches!(to, InReview | Approved | Done) => format!(
            "hand it in first: `spec-kitty agent tasks move-task {wp} --to for_review --agent {me} --mission {slug}`"
        ),
        ForReview if to == Done => format!(
            "have it reviewed first: `spec-kitty agent action review {wp} --mission {slug} --agent <reviewer>`"
        ),
        ForReview => format!(
            "a reviewer takes it: `spec-kitty agent action review {wp} --mission {slug} --agent <reviewer>`"
        ),
        InReview if to == Done => format!(
            "approve it, then merge: `spec-kitty agent tasks move-task {wp} --to approved --agent <reviewer> --mission {slug} --note \"why\"`"
        ),
        Approved if to == Done => format!("merge it: `spec-kitty merge --mission {slug}`"),
        _ => format!("pick an allowed lane: `spec-kitty agent tasks move-task {wp} --to <lane> --mission {slug}`"),
    }
}

/// A move back along the main path (planned .. done), e.g. `claimed ->
/// planned`. The side lanes (blocked, canceled) are on no side of it.
fn backward(from: Lane, to: Lane) -> bool {
    let on_path = |l: Lane| l <= Done;
    on_path(from) && on_path(to) && to < from
}

/// Check a move. Forced moves skip the table and guards but need an actor and a reason.
pub fn validate(from: Lane, to: Lane, force: bool, ctx: &TransitionContext) -> Result<()> {
    if force {
        if ctx.actor.trim().is_empty() || !nonempty(&ctx.reason) {
            return Err(StatusError::ForceWithoutReason);
        }
        return Ok(());
    }
    match rule(from, to) {
        Some(r) => {
            check_role(ctx, r, from)?;
            check_guard(ctx, r, from)
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
            let skip = if from.is_terminal() {
                "terminal"
            } else if backward(from, to) {
                "no-going-back"
            } else {
                "no-skipping"
            };
            Err(refusal(
                ctx,
                from,
                to,
                skip,
                format!("illegal transition {from} -> {to}; allowed from {from}: {list}"),
                way_forward(ctx, from, to),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Diagnose;

    fn ctx(actor: &str) -> TransitionContext {
        TransitionContext {
            actor: actor.into(),
            wp_id: "WP01".into(),
            mission_slug: "001-x".into(),
            ..Default::default()
        }
    }

    #[test]
    fn table_and_guards() {
        let c = ctx("codex");
        assert!(validate(Planned, Claimed, false, &c).is_ok());
        let e = validate(Planned, Done, false, &c).unwrap_err();
        assert!(
            e.to_string()
                .contains("allowed from planned: claimed, blocked, canceled"),
            "{}",
            e.to_string()
        );
        assert!(
            e.to_string().contains("rule: no-skipping"),
            "{}",
            e.to_string()
        );
        assert!(e.hint().unwrap().contains("agent action implement WP01"));
        assert!(validate(Done, Planned, false, &c)
            .unwrap_err()
            .to_string()
            .contains("terminal"));
        assert!(
            validate(Done, Planned, true, &c).is_err(),
            "force needs a reason"
        );
        let forced = TransitionContext {
            reason: Some("redo".into()),
            ..c.clone()
        };
        assert!(validate(Done, Planned, true, &forced).is_ok());
    }

    /// A refusal's hint fits the lane the WP is in: only a planned WP is
    /// told to claim it; a claimed one is told to build it, by its claimant.
    #[test]
    fn refusal_hints_fit_the_lane() {
        let c = TransitionContext {
            implementer: Some("codex".into()),
            ..ctx("claude")
        };
        for &from in super::super::LANES.iter() {
            for &to in super::super::LANES.iter() {
                if from == to || rule(from, to).is_some() {
                    continue;
                }
                let hint = validate(from, to, false, &c).unwrap_err().hint().unwrap();
                assert_eq!(
                    hint.contains("claim and build"),
                    from == Planned,
                    "{from} -> {to}: {hint}"
                );
            }
        }
        let hint = validate(Claimed, Planned, false, &c)
            .unwrap_err()
            .hint()
            .unwrap();
        assert!(
            hint.starts_with("it is claimed already; build it: `spec-kitty agent action implement WP01 --mission 001-x --agent codex`"),
            "{hint}"
        );
    }

    /// A refused move backwards is named as one, not as a skip; a refused
    /// move forwards or out of a side lane stays `no-skipping`.
    #[test]
    fn backward_refusals_say_so() {
        let c = ctx("codex");
        let rule_of = |from, to| match validate(from, to, false, &c).unwrap_err() {
            StatusError::Refused { rule, .. } => rule,
            e => panic!("{from} -> {to}: {e}"),
        };
        for (from, to) in [
            (Claimed, Planned),
            (ForReview, InProgress),
            (ForReview, Planned),
            (InReview, ForReview),
            (Approved, InReview),
        ] {
            assert_eq!(rule_of(from, to), "no-going-back", "{from} -> {to}");
        }
        for (from, to) in [(Planned, Done), (InProgress, Approved), (Blocked, Planned)] {
            assert_eq!(rule_of(from, to), "no-skipping", "{from} -> {to}");
        }
        assert_eq!(rule_of(Done, Planned), "terminal");
        // Every refused pair on the main path is one or the other, by direction.
        for from in [Planned, Claimed, InProgress, ForReview, InReview, Approved] {
            for to in [
                Planned, Claimed, InProgress, ForReview, InReview, Approved, Done,
            ] {
                if from == to || rule(from, to).is_some() {
                    continue;
                }
                let want = if to < from {
                    "no-going-back"
                } else {
                    "no-skipping"
                };
                assert_eq!(rule_of(from, to), want, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn nothing_skips_review_or_merge() {
        assert!(rule(InProgress, Approved).is_none());
        assert!(rule(InReview, Done).is_none());
        assert!(rule(ForReview, Done).is_none());
        assert!(rule(Planned, ForReview).is_none());
        // Every path to done passes through for_review, in_review and approved.
        for r in LIFECYCLE.iter().filter(|r| r.to == Done) {
            assert_eq!(r.from, &[Approved]);
        }
        assert_eq!(route(Planned, InProgress), vec![Claimed, InProgress]);
        assert_eq!(route(ForReview, Approved), vec![InReview, Approved]);
        assert_eq!(route(ForReview, Done), vec![Done]);
        assert_eq!(route(InProgress, Approved), vec![Approved]);
    }

    /// Every lookup `next` and the accept gate make, with the lane the table
    /// answers it for today. Each answer comes from LIFECYCLE: drop the row
    /// and the answer goes, so a change to the table changes them too.
    #[test]
    fn next_and_accept_read_the_table() {
        let asks = [
            (Planned, Guard::Claim, Claimed, Role::Anyone),
            (Claimed, Guard::Workspace, InProgress, Role::Implementer),
            (InProgress, Guard::HandIn, ForReview, Role::Implementer),
            (ForReview, Guard::ReviewClaim, InReview, Role::Reviewer),
            (InReview, Guard::Verdict, Approved, Role::Reviewer),
            (Approved, Guard::Merged, Done, Role::Merge),
        ];
        for (from, guard, to, role) in asks {
            let r = offered(from, guard).unwrap_or_else(|| panic!("{from} {guard:?}"));
            assert_eq!((r.to, r.role), (to, role));
            assert!(std::ptr::eq(r, rule(from, to).unwrap()));
            // The same guard is offered from no other lane.
            for other in super::super::LANES.iter().filter(|&&l| l != from) {
                assert!(offered(*other, guard).is_none(), "{other} {guard:?}");
            }
            let without: Vec<Rule> = LIFECYCLE
                .iter()
                .filter(|x| !(x.to == to && x.from.contains(&from)))
                .copied()
                .collect();
            assert!(offered_in(&without, from, guard).is_none());
        }
        let settled_lanes: Vec<Lane> = super::super::LANES
            .iter()
            .copied()
            .filter(|&l| settled(l))
            .collect();
        assert_eq!(settled_lanes, vec![Approved, Done, Canceled]);
        let no_merge: Vec<Rule> = LIFECYCLE.iter().filter(|r| r.to != Done).copied().collect();
        assert!(
            !settled_in(&no_merge, Approved),
            "approved counts only while the table merges it"
        );
        assert!(settled_in(&no_merge, Done) && settled_in(&no_merge, Canceled));
    }

    #[test]
    fn roles_and_hand_in() {
        let mut c = ctx("codex");
        c.implementer = Some("codex".into());
        let e = validate(ForReview, InReview, false, &c).unwrap_err();
        assert!(
            e.to_string().contains("no-self-review"),
            "{}",
            e.to_string()
        );
        c.actor = "claude".into();
        assert!(validate(ForReview, InReview, false, &c).is_ok());
        let e = validate(InProgress, ForReview, false, &c).unwrap_err();
        assert!(
            e.to_string().contains("implementer-only"),
            "{}",
            e.to_string()
        );
        c.actor = "codex".into();
        c.open_subtasks = vec!["T001".into()];
        let e = validate(InProgress, ForReview, false, &c).unwrap_err();
        assert!(e.hint().unwrap().contains("mark-status T001"));
        c.open_subtasks.clear();
        c.work_problem = Some(("no commit".into(), "commit it".into()));
        let e = validate(InProgress, ForReview, false, &c).unwrap_err();
        assert!(e.to_string().contains("rule: hand-in") && e.to_string().contains("no commit"));
        c.work_problem = None;
        assert!(validate(InProgress, ForReview, false, &c).is_ok());
        assert!(table_text().contains("in_progress -> for_review"));
    }
}
