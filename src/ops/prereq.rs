//! `agent mission check-prerequisites`: which of a mission's artifacts exist
//! (walks the mission's directory; writes nothing).

use std::path::{Path, PathBuf};

use crate::mission::branch::BranchContext;
use crate::mission::Mission;
use crate::project::Project;

/// Optional design documents an agent reads when present, in the order listed.
pub const DOCS: &[&str] = &[
    "research.md",
    "data-model.md",
    "contracts/",
    "quickstart.md",
];

/// What the caller asks to check.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrereqRequest {
    /// Missing artifacts are not errors.
    pub paths_only: bool,
    /// tasks.md is required too (and listed among the available documents).
    pub include_tasks: bool,
}

/// One artifact: its name, where it is, whether it is there (and not empty).
#[derive(Debug, Clone)]
pub struct Artifact {
    pub name: &'static str,
    pub path: PathBuf,
    pub present: bool,
}

/// The mission's artifacts, checked.
#[derive(Debug, Clone)]
pub struct Prerequisites {
    pub request: PrereqRequest,
    pub mission_slug: String,
    pub feature_dir: PathBuf,
    pub specs_dir: PathBuf,
    pub spec_file: PathBuf,
    pub plan_file: PathBuf,
    pub tasks_file: PathBuf,
    pub tasks_dir: PathBuf,
    pub meta_error: Option<String>,
    pub artifacts: Vec<Artifact>,
    pub wp_count: usize,
    /// Names of the artifacts missing.
    pub missing: Vec<&'static str>,
    /// A required artifact missing or empty, one sentence each (none with
    /// `paths_only`).
    pub errors: Vec<String>,
    /// The documents present, sorted (DOCS, spec.md, plan.md, and tasks.md
    /// when asked for).
    pub available_docs: Vec<&'static str>,
    pub branch: BranchContext,
}

impl Prerequisites {
    pub fn present(&self, name: &str) -> bool {
        self.artifacts.iter().any(|a| a.name == name && a.present)
    }
}

fn nonempty(p: &Path) -> bool {
    std::fs::metadata(p)
        .map(|md| md.is_file() && md.len() > 0)
        .unwrap_or(false)
}

/// Check the artifacts of `m`.
pub fn check(project: &Project, m: &Mission, request: PrereqRequest) -> Prerequisites {
    let wp_count = std::fs::read_dir(m.tasks_dir())
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.starts_with("WP") && n.ends_with(".md")
                })
                .count()
        })
        .unwrap_or(0);
    let artifact = |name, path, present| Artifact {
        name,
        path,
        present,
    };
    let artifacts = vec![
        artifact(
            "meta.json",
            m.meta_file(),
            m.meta_error.is_none() && m.meta_file().exists(),
        ),
        artifact("spec.md", m.spec_file(), nonempty(&m.spec_file())),
        artifact("plan.md", m.plan_file(), nonempty(&m.plan_file())),
        artifact("tasks.md", m.tasks_file(), nonempty(&m.tasks_file())),
        artifact("tasks/WP*.md", m.tasks_dir(), wp_count > 0),
        artifact("lanes.json", m.lanes_file(), m.lanes_file().is_file()),
    ];
    let missing = artifacts
        .iter()
        .filter(|a| !a.present)
        .map(|a| a.name)
        .collect();
    let present = |n: &str| artifacts.iter().any(|a| a.name == n && a.present);
    let mut required = vec!["spec.md", "plan.md"];
    if request.include_tasks {
        required.push("tasks.md");
    }
    let errors = if request.paths_only {
        Vec::new()
    } else {
        required
            .iter()
            .filter(|n| !present(n))
            .map(|n| format!("{n} is missing or empty in {}", m.dir.display()))
            .collect()
    };
    let mut available_docs: Vec<&'static str> = DOCS
        .iter()
        .copied()
        .filter(|d| match d.strip_suffix('/') {
            Some(dir) => m.dir.join(dir).is_dir(),
            None => nonempty(&m.dir.join(d)),
        })
        .collect();
    for n in ["spec.md", "plan.md"] {
        if present(n) {
            available_docs.push(n);
        }
    }
    if request.include_tasks && present("tasks.md") {
        available_docs.push("tasks.md");
    }
    available_docs.sort_unstable();
    Prerequisites {
        request,
        mission_slug: m.slug.clone(),
        feature_dir: m.dir.clone(),
        specs_dir: project.specs_dir(),
        spec_file: m.spec_file(),
        plan_file: m.plan_file(),
        tasks_file: m.tasks_file(),
        tasks_dir: m.tasks_dir(),
        meta_error: m.meta_error.clone(),
        artifacts,
        wp_count,
        missing,
        errors,
        available_docs,
        branch: BranchContext::for_mission(project, m),
    }
}
