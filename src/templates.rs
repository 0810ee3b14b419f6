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

/// `tasks/README.md` for a new mission; `{target_branch}` is substituted by the caller.
pub fn tasks_readme() -> &'static str {
    include_str!("../templates/missions/tasks-readme.md")
}
