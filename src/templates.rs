//! Templates compiled into the binary with `include_str!`.
//!
//! Nothing here is rendered at start-up: callers ask for one template when they
//! need it.

/// A mission-type template by kind (`spec`, `plan`, `tasks`, `wp`). An unknown
/// type gets the software-dev templates.
pub fn mission_template(mission_type: &str, kind: &str) -> Option<&'static str> {
    macro_rules! by_type {
        ($kind:literal) => {
            match mission_type {
                "research" => {
                    include_str!(concat!("../templates/missions/research/", $kind, ".md"))
                }
                "documentation" => {
                    include_str!(concat!(
                        "../templates/missions/documentation/",
                        $kind,
                        ".md"
                    ))
                }
                "plan" => include_str!(concat!("../templates/missions/plan/", $kind, ".md")),
                _ => include_str!(concat!("../templates/missions/software-dev/", $kind, ".md")),
            }
        };
    }
    Some(match kind {
        "spec" => by_type!("spec"),
        "plan" => by_type!("plan"),
        "tasks" => by_type!("tasks"),
        "wp" => by_type!("wp"),
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
#[allow(clippy::string_slice)] // indices come from find() of ASCII markers (`{{FORMAT:`, `}}`) and their ASCII lengths: char boundaries
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

    /// The headings of the `## Format: ...` table rows (`| `## Summary` | ...`).
    fn format_sections(doc: &str) -> Vec<String> {
        doc.lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .filter(|h| h.starts_with("## "))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn mission_templates_follow_the_formats_and_name_their_steps() {
        for t in crate::mission::types::keys() {
            for (kind, fmt) in [("spec", "spec"), ("plan", "plan")] {
                let text = mission_template(t, kind).unwrap();
                assert!(text.contains(&format!("Mission type: {t}.")), "{t}/{kind}");
                let allowed = format_sections(format(fmt).unwrap());
                assert!(allowed.len() >= 7, "{allowed:?}");
                for h in text.lines().filter(|l| l.starts_with("## ")) {
                    assert!(
                        allowed.iter().any(|a| a == h),
                        "{t}/{kind}: `{h}` is not in the {fmt} format"
                    );
                }
            }
            let spec = mission_template(t, "spec").unwrap();
            for step in ["specify", "plan", "tasks", "implement/review", "accept"] {
                assert!(spec.contains(&format!("  {step}")), "{t}: step {step}");
            }
            let wp = mission_template(t, "wp").unwrap();
            let mode = if matches!(t, "research" | "plan") {
                "planning_artifact"
            } else {
                "code_change"
            };
            assert!(wp.contains(&format!("execution_mode: {mode}")), "{t}");
            assert!(mission_template(t, "tasks")
                .unwrap()
                .contains("**Requirement Refs**: FR-001"));
        }
        assert_eq!(
            mission_template("unknown", "spec"),
            mission_template("software-dev", "spec")
        );
        assert!(mission_template("software-dev", "nope").is_none());
    }

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
