//! The mission types: the one catalogue every command reads (creation checks,
//! `spec-kitty mission list|info|current`, templates).

use serde::Serialize;

use super::MissionError;

/// One mission type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MissionType {
    /// `software-dev`, as written in meta.json's `mission_type`.
    pub key: &'static str,
    pub name: &'static str,
    pub purpose: &'static str,
    /// The workflow steps, in order.
    pub steps: &'static [&'static str],
}

/// The type of a mission that names none.
pub const DEFAULT: &str = "software-dev";

const STEPS_WITHOUT_MERGE: &[&str] = &[
    "specify",
    "plan",
    "tasks",
    "finalize-tasks",
    "implement",
    "review",
    "accept",
];

/// Every mission type, in the order they are listed.
pub const ALL: &[MissionType] = &[
    MissionType {
        key: "software-dev",
        name: "Software development",
        purpose: "Build or change software: specify, plan, split into work packages, implement in lanes, review, accept, merge.",
        steps: &["specify", "plan", "tasks", "finalize-tasks", "implement", "review", "accept", "merge"],
    },
    MissionType {
        key: "research",
        name: "Research",
        purpose: "Answer a question with sources: scope it, plan the method, gather evidence, synthesise findings.",
        steps: STEPS_WITHOUT_MERGE,
    },
    MissionType {
        key: "documentation",
        name: "Documentation",
        purpose: "Write or overhaul documentation: audience, structure, drafts, review.",
        steps: STEPS_WITHOUT_MERGE,
    },
    MissionType {
        key: "plan",
        name: "Planning",
        purpose: "Produce a plan rather than code: goals, research, structure, draft, review.",
        steps: STEPS_WITHOUT_MERGE,
    },
];

/// The keys of every mission type.
pub fn keys() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|t| t.key)
}

/// The mission type `key`, if there is one.
pub fn find(key: &str) -> Option<&'static MissionType> {
    ALL.iter().find(|t| t.key == key)
}

/// The mission type `key`, or an error listing the known ones.
pub fn lookup(key: &str) -> Result<&'static MissionType, MissionError> {
    find(key).ok_or_else(|| MissionError::UnknownType {
        key: key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_type_has_its_templates_and_the_default_exists() {
        assert!(super::find(super::DEFAULT).is_some());
        for t in super::ALL {
            for kind in ["spec", "plan", "tasks", "wp"] {
                assert!(
                    crate::templates::mission_template(t.key, kind).is_some(),
                    "{} {kind}",
                    t.key
                );
            }
        }
        let e = super::lookup("nope").unwrap_err();
        assert!(matches!(&e, super::MissionError::UnknownType { key } if key == "nope"));
        let e = crate::Error::from(e);
        assert!(e
            .hint
            .unwrap()
            .contains("software-dev, research, documentation, plan"));
    }
}
