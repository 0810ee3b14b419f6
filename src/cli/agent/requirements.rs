//! `spec-kitty agent tasks map-requirements`: requirement refs into WP
//! frontmatter, and the coverage of the spec's functional requirements.

use clap::Args;
use serde_json::json;

use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::requirements;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["wp", "batch"])))]
pub struct MapArgs {
    /// The work package to map (with --refs)
    #[arg(long, requires = "refs")]
    pub wp: Option<String>,
    /// Comma-separated requirement ids, e.g. FR-001,FR-002
    #[arg(long, value_delimiter = ',')]
    pub refs: Vec<String>,
    /// Several WPs at once as JSON: '{"WP01":["FR-001"],"WP02":["FR-002"]}'
    #[arg(long, conflicts_with_all = ["wp", "refs"])]
    pub batch: Option<String>,
    /// Replace each WP's refs instead of adding to them
    #[arg(long)]
    pub replace: bool,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    #[command(flatten)]
    pub commit: crate::cli::state::AutoCommitFlag,
}

pub fn run(ctx: &Ctx, a: &MapArgs) -> Result<()> {
    let (project, m) = ctx.mission(a.mission.as_deref())?;
    let batch = requirements::batch(a.wp.as_deref(), &a.refs, a.batch.as_deref())?;
    ctx.warn_version_skew(project)?;
    let r = requirements::map(project, &m, &batch, a.replace)?;
    ctx.render(&MapView {
        mission: &m,
        batch: &batch,
        r: &r,
    })
}

/// Mapped requirement refs and the coverage after it, as the CLI shows them.
struct MapView<'a> {
    mission: &'a crate::mission::Mission,
    batch: &'a [(String, Vec<String>)],
    r: &'a requirements::Mapped,
}

impl Render for MapView<'_> {
    fn json(&self) -> serde_json::Value {
        let (m, r) = (self.mission, self.r);
        let c = &r.coverage;
        json!({
            "result": "success", "success": true, "mission_slug": m.slug,
            "mapped": self.batch.iter().map(|(wp, _)| (wp.to_ascii_uppercase(), json!(r.refs.get(&wp.to_ascii_uppercase())))).collect::<serde_json::Map<_, _>>(),
            "changed": r.changed,
            "requirement_refs": r.refs,
            "total_mappings": r.refs,
            "mission_number": m.number,
            "mission_type": m.mission_type(),
            "coverage": {
                "total_functional": c.functional.len(),
                "mapped_functional": c.mapped_functional.len(),
                "mapped_functional_ids": c.mapped_functional,
                "unmapped_functional": c.unmapped_functional,
                "unmapped": c.unmapped_all,
                "complete": c.unmapped_functional.is_empty(),
            },
        })
    }

    fn human(&self, ctx: &Ctx) {
        let c = &self.r.coverage;
        for (wp, _) in self.batch {
            let id = wp.to_ascii_uppercase();
            let refs = self
                .r
                .refs
                .get(&id)
                .map(|v| v.join(", "))
                .unwrap_or_default();
            ctx.say(format!("{id}: {refs}"));
        }
        if c.unmapped_functional.is_empty() {
            ctx.say(format!(
                "Every functional requirement ({}) is mapped.",
                c.functional.len()
            ));
        } else {
            ctx.say(format!(
                "Not mapped yet: {}",
                c.unmapped_functional.join(", ")
            ));
        }
    }
}
