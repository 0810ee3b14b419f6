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

/// The body of a slash-command template (`templates/agents/<name>.md`), with its
/// placeholders (`{{AGENT}}`, `{{ARGS}}`, `{{CMD:<name>}}`, `{{FORMAT:<name>}}`)
/// still in it.
pub fn agent_command(name: &str) -> Option<&'static str> {
    Some(match name {
        "specify" => include_str!("../templates/agents/specify.md"),
        "clarify" => include_str!("../templates/agents/clarify.md"),
        "plan" => include_str!("../templates/agents/plan.md"),
        "research" => include_str!("../templates/agents/research.md"),
        "charter" => include_str!("../templates/agents/charter.md"),
        "tasks" => include_str!("../templates/agents/tasks.md"),
        "tasks-finalize" => include_str!("../templates/agents/tasks-finalize.md"),
        "implement" => include_str!("../templates/agents/implement.md"),
        "review" => include_str!("../templates/agents/review.md"),
        "analyze" => include_str!("../templates/agents/analyze.md"),
        "checklist" => include_str!("../templates/agents/checklist.md"),
        "accept" => include_str!("../templates/agents/accept.md"),
        "merge" => include_str!("../templates/agents/merge.md"),
        "status" => include_str!("../templates/agents/status.md"),
        "dashboard" => include_str!("../templates/agents/dashboard.md"),
        "next" => include_str!("../templates/agents/next.md"),
        _ => return None,
    })
}

/// The formats an agent writes, one source of truth each
/// (`templates/formats/<name>.md`), every one with a worked example. Prompts
/// pull them in with `{{FORMAT:<name>}}`.
pub const FORMATS: [&str; 5] = ["spec", "plan", "research", "tasks", "work-package"];

/// One format document by name (see [`FORMATS`]).
pub fn format(name: &str) -> Option<&'static str> {
    Some(match name {
        "spec" => include_str!("../templates/formats/spec.md"),
        "plan" => include_str!("../templates/formats/plan.md"),
        "research" => include_str!("../templates/formats/research.md"),
        "tasks" => include_str!("../templates/formats/tasks.md"),
        "work-package" => include_str!("../templates/formats/work-package.md"),
        _ => return None,
    })
}

/// Replace every `{{FORMAT:<name>}}` with that format document. An unknown
/// name is left as it is (a unit test keeps every template's names known).
pub fn expand_formats(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{FORMAT:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "{{FORMAT:".len()..];
        match after
            .find("}}")
            .and_then(|j| format(&after[..j]).map(|f| (j, f)))
        {
            Some((j, doc)) => {
                out.push_str(doc.trim_end());
                rest = &after[j + 2..];
            }
            None => {
                out.push_str("{{FORMAT:");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_expand_and_unknown_names_stay() {
        let out = expand_formats("a\n{{FORMAT:research}}\nb {{FORMAT:nope}}");
        assert!(out.starts_with("a\n## Format: research.md"));
        assert!(out.ends_with("\nb {{FORMAT:nope}}"));
        for f in FORMATS {
            assert!(
                format(f).is_some_and(|t| t.starts_with("## Format:")),
                "{f}"
            );
        }
    }
}
