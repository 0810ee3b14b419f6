//! `spec-kitty config --show-origin`: where each asset spec-kitty uses comes
//! from. This build compiles its templates, slash-command bodies and mission
//! types into the binary (tier `package_default`); the project's own files are
//! tier `project`. Nothing is read from `$HOME` (the reference's `global` tiers).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::init::commands::COMMANDS;
use crate::mission::types;
use crate::project::Project;

/// One asset and where it resolves (the reference's columns).
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    /// `template`, `command`, `mission` or `file`.
    pub asset_type: &'static str,
    pub name: String,
    /// `project` or `package_default`; `None` when not found.
    pub tier: Option<&'static str>,
    /// Project-relative for project files; `<built-in>/...` for assets in the binary.
    pub resolved_path: Option<String>,
    pub error: Option<String>,
}

/// The template files a mission type has, as (reference name, our kind).
const TEMPLATES: &[(&str, &str)] = &[
    ("plan-template.md", "plan"),
    ("spec-template.md", "spec"),
    ("task-prompt-template.md", "wp"),
    ("tasks-template.md", "tasks"),
];

/// The project's own files that change how spec-kitty behaves.
const PROJECT_FILES: &[&str] = &[
    ".kittify/config.yaml",
    ".kittify/metadata.yaml",
    ".kittify/managed-files.json",
    ".kittify/charter/charter.md",
    ".kittify/charter/interview/answers.yaml",
    ".kittify/doctrine",
];

/// Every asset for `mission_type`, in the reference's order: templates,
/// commands, missions, files.
pub fn origins(project: &Project, mission_type: &str) -> Result<Vec<Origin>> {
    let t = types::find(mission_type).ok_or_else(|| {
        let keys: Vec<&str> = types::ALL.iter().map(|t| t.key).collect();
        Error::user(format!("unknown mission type {mission_type:?}"))
            .with_hint(format!("known mission types: {}", keys.join(", ")))
    })?;
    let builtin = |asset_type, name: String, path: String| Origin {
        asset_type,
        name,
        tier: Some("package_default"),
        resolved_path: Some(path),
        error: None,
    };
    let mut out = Vec::new();
    for (name, kind) in TEMPLATES {
        if crate::templates::mission_template(t.key, kind).is_some() {
            out.push(builtin(
                "template",
                name.to_string(),
                format!("<built-in>/templates/missions/{}/{kind}.md", t.key),
            ));
        }
    }
    let mut cmds: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    cmds.sort_unstable();
    for c in cmds {
        out.push(builtin(
            "command",
            format!("{c}.md"),
            format!("<built-in>/templates/agents/{c}.md"),
        ));
    }
    let mut keys: Vec<&str> = types::ALL.iter().map(|t| t.key).collect();
    keys.sort_unstable();
    for k in keys {
        out.push(builtin(
            "mission",
            k.to_string(),
            format!("<built-in>/missions/{k}"),
        ));
    }
    for rel in PROJECT_FILES {
        let here = project.root.join(rel).exists();
        out.push(Origin {
            asset_type: "file",
            name: rel.rsplit('/').next().unwrap_or(rel).to_string(),
            tier: here.then_some("project"),
            resolved_path: here.then(|| rel.to_string()),
            error: (!here).then(|| format!("{rel} does not exist")),
        });
    }
    Ok(out)
}
