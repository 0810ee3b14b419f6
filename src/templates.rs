//! Templates compiled into the binary with `include_str!`.
//!
//! Nothing here is rendered at start-up: callers ask for one template when they
//! need it.

/// A mission-type template by kind (`spec`, `plan`, `tasks`, `wp`).
pub fn mission_template(mission_type: &str, kind: &str) -> Option<&'static str> {
    Some(match (mission_type, kind) {
        ("software-dev", "spec") => include_str!("../templates/missions/software-dev/spec.md"),
        ("software-dev", "plan") => include_str!("../templates/missions/software-dev/plan.md"),
        ("software-dev", "tasks") => include_str!("../templates/missions/software-dev/tasks.md"),
        ("software-dev", "wp") => include_str!("../templates/missions/software-dev/wp.md"),
        ("research", "spec") => include_str!("../templates/missions/research/spec.md"),
        ("research", "plan") => include_str!("../templates/missions/research/plan.md"),
        ("documentation", "spec") => include_str!("../templates/missions/documentation/spec.md"),
        ("documentation", "plan") => include_str!("../templates/missions/documentation/plan.md"),
        ("plan", "spec") => include_str!("../templates/missions/plan/spec.md"),
        ("plan", "plan") => include_str!("../templates/missions/plan/plan.md"),
        (_, "tasks") => include_str!("../templates/missions/software-dev/tasks.md"),
        (_, "wp") => include_str!("../templates/missions/software-dev/wp.md"),
        _ => return None,
    })
}

/// A Phase 0 research file by its path in the mission (`research.md`,
/// `data-model.md`, `research/evidence-log.csv`, `research/source-register.csv`);
/// `{mission}` is substituted by the caller.
pub fn research_file(name: &str) -> Option<&'static str> {
    Some(match name {
        "research.md" => include_str!("../templates/missions/research-phase/research.md"),
        "data-model.md" => include_str!("../templates/missions/research-phase/data-model.md"),
        "research/evidence-log.csv" => {
            include_str!("../templates/missions/research-phase/evidence-log.csv")
        }
        "research/source-register.csv" => {
            include_str!("../templates/missions/research-phase/source-register.csv")
        }
        _ => return None,
    })
}

/// `tasks/README.md` for a new mission; `{target_branch}` is substituted by the caller.
pub fn tasks_readme() -> &'static str {
    include_str!("../templates/missions/tasks-readme.md")
}

/// The body of a slash-command template (`templates/agents/<name>.md`), with the
/// placeholders `{{AGENT}}` and `{{ARGS}}` still in it.
pub fn agent_command(name: &str) -> Option<&'static str> {
    Some(match name {
        "specify" => include_str!("../templates/agents/specify.md"),
        "plan" => include_str!("../templates/agents/plan.md"),
        "tasks" => include_str!("../templates/agents/tasks.md"),
        "tasks-finalize" => include_str!("../templates/agents/tasks-finalize.md"),
        "next" => include_str!("../templates/agents/next.md"),
        "implement" => include_str!("../templates/agents/implement.md"),
        "review" => include_str!("../templates/agents/review.md"),
        "accept" => include_str!("../templates/agents/accept.md"),
        "merge" => include_str!("../templates/agents/merge.md"),
        "status" => include_str!("../templates/agents/status.md"),
        _ => return None,
    })
}
