//! `spec-kitty research --mission M [--force]`: the Phase 0 research scaffold.

use clap::Args;
use serde_json::{json, Value};

use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::Result;
use crate::mission::Mission;
use crate::research;

#[derive(Debug, Args)]
pub struct ResearchArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Overwrite research files that already exist
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Ctx, a: &ResearchArgs) -> Result<()> {
    let (project, mission) = ctx.mission(a.mission.as_deref())?;
    ctx.warn_version_skew(project)?;
    let scaffolded = research::scaffold(&mission, a.force)?;
    ctx.render(&View {
        mission,
        scaffolded,
    })
}

/// The scaffold, with the mission it was made for.
struct View {
    mission: Mission,
    scaffolded: research::Scaffolded,
}

impl Render for View {
    fn json(&self) -> Value {
        let (m, s) = (&self.mission, &self.scaffolded);
        json!({
            "result": "success", "mission_slug": m.slug, "feature_dir": m.dir,
            "research_file": m.dir.join("research.md"), "data_model_file": m.dir.join("data-model.md"),
            "research_dir": m.dir.join("research"),
            "created": s.created, "overwritten": s.overwritten, "kept": s.kept,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let s = &self.scaffolded;
        for p in &s.created {
            ctx.say(format!("created     {}", ctx.rel(p)));
        }
        for p in &s.overwritten {
            ctx.say(format!("overwritten {}", ctx.rel(p)));
        }
        for p in &s.kept {
            ctx.say(format!("kept        {} (--force replaces it)", ctx.rel(p)));
        }
        ctx.say(
            "Next: answer the plan's open questions in research.md, citing research/evidence-log.csv.",
        );
    }
}
