//! `spec-kitty agent mission check-prerequisites`: which of a mission's artifacts
//! exist ([`crate::ops::prereq`]), with the reference's path keys alongside
//! ours (see `cli::compat`).

use clap::Args;
use serde_json::{json, Map, Value};

use crate::cli::output::{style, Render};
use crate::cli::{compat, Ctx};
use crate::error::Result;
use crate::ops::prereq::{self, PrereqRequest, Prerequisites};

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

pub fn run(ctx: &Ctx, a: &PrereqArgs) -> Result<()> {
    let (project, m) = ctx.mission(a.mission.as_deref())?;
    let request = PrereqRequest {
        paths_only: a.paths_only,
        include_tasks: a.include_tasks,
    };
    ctx.render(&prereq::check(project, &m, request))
}

impl Render for Prerequisites {
    fn human(&self, ctx: &Ctx) {
        ctx.say(format!("Mission {}", ctx.bold(&self.mission_slug)));
        for a in &self.artifacts {
            let mark = if a.present {
                ctx.paint("present", style::GOOD)
            } else {
                ctx.paint("missing", style::CAUTION)
            };
            ctx.say(format!("  {:<14} {mark}", a.name));
        }
        if let Some(e) = &self.meta_error {
            ctx.warn(e);
        }
    }

    fn json(&self) -> Value {
        let include_tasks = self.request.include_tasks;
        let artifacts: Map<String, Value> = self
            .artifacts
            .iter()
            .map(|a| {
                (
                    a.name.to_string(),
                    json!({"path": a.path, "present": a.present}),
                )
            })
            .collect();
        let mut out = json!({
            "mission_slug": self.mission_slug, "feature_dir": self.feature_dir, "artifacts": artifacts,
            "wp_count": self.wp_count, "missing": self.missing, "meta_error": self.meta_error,
        });
        // The reference's keys.
        let dirs = json!({
            "checklists_dir": self.feature_dir.join("checklists"),
            "research_dir": self.feature_dir.join("research"),
            "tasks_dir": self.tasks_dir,
            "feature_dir": self.feature_dir,
        });
        let mut files = json!({"spec_file": self.spec_file, "plan_file": self.plan_file});
        if include_tasks {
            files["tasks_file"] = json!(self.tasks_file);
        }
        let mut paths = files.clone();
        compat::extend(&mut paths, dirs.as_object().cloned().unwrap_or_default());
        let tasks_file = if include_tasks && self.present("tasks.md") {
            self.tasks_file.display().to_string()
        } else {
            String::new()
        };
        let mut extra = json!({
            "valid": self.errors.is_empty(),
            "errors": self.errors,
            "warnings": [],
            "paths": paths,
            "artifact_files": files,
            "artifact_dirs": dirs,
            "available_docs": self.available_docs,
            "FEATURE_DIR": self.feature_dir,
            "AVAILABLE_DOCS": self.available_docs,
            "spec_kitty_version": crate::VERSION,
        });
        if self.request.paths_only {
            compat::extend(&mut extra, paths.as_object().cloned().unwrap_or_default());
            compat::extend(
                &mut extra,
                json!({
                    "SPEC_FILE": self.spec_file, "PLAN_FILE": self.plan_file, "TASKS_FILE": tasks_file,
                    "FEATURE_SPEC": self.spec_file, "IMPL_PLAN": self.plan_file, "TASKS": tasks_file,
                    "SPECS_DIR": self.specs_dir,
                })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            );
        }
        compat::extend(&mut out, extra.as_object().cloned().unwrap_or_default());
        compat::extend(&mut out, compat::branch_keys(&self.branch));
        out
    }
}
