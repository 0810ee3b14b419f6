//! `spec-kitty agent mission check-prerequisites`: which of a mission's artifacts
//! exist, with the reference's path keys alongside ours (see `cli::compat`).

use clap::Args;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

use crate::cli::output::style;
use crate::cli::{compat, Ctx};
use crate::error::Result;
use crate::mission::branch::BranchContext;

#[derive(Debug, Args)]
pub struct PrereqArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Report the mission's paths only: missing artifacts are not errors
    #[arg(long)]
    pub paths_only: bool,
    /// Also require tasks.md (and list it in available_docs); `--require-tasks` is its deprecated, hidden alias
    #[arg(long, alias = "require-tasks")]
    pub include_tasks: bool,
}

/// Optional design documents an agent reads when present, in the order listed.
const DOCS: &[&str] = &[
    "research.md",
    "data-model.md",
    "contracts/",
    "quickstart.md",
];

fn nonempty(p: &Path) -> bool {
    std::fs::metadata(p)
        .map(|md| md.is_file() && md.len() > 0)
        .unwrap_or(false)
}

pub fn run(ctx: &Ctx, a: &PrereqArgs) -> Result<()> {
    let (project, m) = ctx.mission(a.mission.as_deref())?;
    let wp_files = std::fs::read_dir(m.tasks_dir())
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.starts_with("WP") && n.ends_with(".md")
                })
                .count()
        })
        .unwrap_or(0);
    let checks: Vec<(&str, PathBuf, bool)> = vec![
        (
            "meta.json",
            m.meta_file(),
            m.meta_error.is_none() && m.meta_file().exists(),
        ),
        ("spec.md", m.spec_file(), nonempty(&m.spec_file())),
        ("plan.md", m.plan_file(), nonempty(&m.plan_file())),
        ("tasks.md", m.tasks_file(), nonempty(&m.tasks_file())),
        ("tasks/WP*.md", m.tasks_dir(), wp_files > 0),
        ("lanes.json", m.lanes_file(), m.lanes_file().is_file()),
    ];
    let missing: Vec<&str> = checks.iter().filter(|c| !c.2).map(|c| c.0).collect();
    if !ctx.json {
        ctx.say(format!("Mission {}", ctx.bold(&m.slug)));
        for (name, _, ok) in &checks {
            let mark = if *ok {
                ctx.paint("present", style::GOOD)
            } else {
                ctx.paint("missing", style::CAUTION)
            };
            ctx.say(format!("  {name:<14} {mark}"));
        }
        if let Some(e) = &m.meta_error {
            ctx.warn(e);
        }
        return Ok(());
    }
    let artifacts: Map<String, Value> = checks
        .iter()
        .map(|(n, p, ok)| (n.to_string(), json!({"path": p, "present": ok})))
        .collect();
    let mut out = json!({
        "mission_slug": m.slug, "feature_dir": m.dir, "artifacts": artifacts,
        "wp_count": wp_files, "missing": missing, "meta_error": m.meta_error,
    });

    // The reference's keys.
    let present = |n: &str| checks.iter().any(|c| c.0 == n && c.2);
    let mut required = vec!["spec.md", "plan.md"];
    if a.include_tasks {
        required.push("tasks.md");
    }
    let errors: Vec<String> = if a.paths_only {
        Vec::new()
    } else {
        required
            .iter()
            .filter(|n| !present(n))
            .map(|n| format!("{n} is missing or empty in {}", m.dir.display()))
            .collect()
    };
    let mut available: Vec<&str> = DOCS
        .iter()
        .copied()
        .filter(|d| match d.strip_suffix('/') {
            Some(dir) => m.dir.join(dir).is_dir(),
            None => nonempty(&m.dir.join(d)),
        })
        .collect();
    for n in ["spec.md", "plan.md"] {
        if present(n) {
            available.push(n);
        }
    }
    if a.include_tasks && present("tasks.md") {
        available.push("tasks.md");
    }
    available.sort_unstable();
    let dirs = json!({
        "checklists_dir": m.dir.join("checklists"),
        "research_dir": m.dir.join("research"),
        "tasks_dir": m.tasks_dir(),
        "feature_dir": m.dir,
    });
    let mut files = json!({"spec_file": m.spec_file(), "plan_file": m.plan_file()});
    if a.include_tasks {
        files["tasks_file"] = json!(m.tasks_file());
    }
    let mut paths = files.clone();
    compat::extend(&mut paths, dirs.as_object().cloned().unwrap_or_default());
    let tasks_file = if a.include_tasks && present("tasks.md") {
        m.tasks_file().display().to_string()
    } else {
        String::new()
    };
    let mut extra = json!({
        "valid": errors.is_empty(),
        "errors": errors,
        "warnings": [],
        "paths": paths,
        "artifact_files": files,
        "artifact_dirs": dirs,
        "available_docs": available,
        "FEATURE_DIR": m.dir,
        "AVAILABLE_DOCS": available,
        "spec_kitty_version": crate::VERSION,
    });
    if a.paths_only {
        compat::extend(&mut extra, paths.as_object().cloned().unwrap_or_default());
        compat::extend(
            &mut extra,
            json!({
                "SPEC_FILE": m.spec_file(), "PLAN_FILE": m.plan_file(), "TASKS_FILE": tasks_file,
                "FEATURE_SPEC": m.spec_file(), "IMPL_PLAN": m.plan_file(), "TASKS": tasks_file,
                "SPECS_DIR": project.specs_dir(),
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
    }
    compat::extend(&mut out, extra.as_object().cloned().unwrap_or_default());
    compat::extend(
        &mut out,
        compat::branch_keys(&BranchContext::for_mission(project, &m)),
    );
    ctx.json_out(&out);
    Ok(())
}
