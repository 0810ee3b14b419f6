//! `spec-kitty agent tasks map-requirements`: requirement refs into WP
//! frontmatter, and the coverage of the spec's functional requirements.

use clap::Args;
use serde_json::json;

use crate::cli::Ctx;
use crate::error::{Error, Result};
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
    let batch: Vec<(String, Vec<String>)> = match (&a.wp, &a.batch) {
        (Some(wp), _) => vec![(wp.clone(), a.refs.clone())],
        (None, Some(text)) => {
            let map: serde_json::Map<String, serde_json::Value> = crate::bounds::json(text)
                .map_err(|e| {
                    Error::usage(format!("--batch is not a JSON object: {e}"))
                        .with_hint("e.g. --batch '{\"WP01\":[\"FR-001\"]}'")
                })?;
            map.into_iter()
                .map(|(wp, v)| {
                    let refs = v
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|r| r.as_str().map(str::to_string))
                                .collect()
                        })
                        .filter(|r: &Vec<String>| r.len() == v.as_array().map_or(0, Vec::len))
                        .ok_or_else(|| {
                            Error::usage(format!("--batch: {wp} must map to a list of strings"))
                        })?;
                    Ok((wp, refs))
                })
                .collect::<Result<_>>()?
        }
        (None, None) => unreachable!("clap requires --wp or --batch"),
    };
    ctx.warn_version_skew(project)?;
    let r = requirements::map(project, &m, &batch, a.replace)?;
    let c = &r.coverage;
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success", "success": true, "mission_slug": m.slug,
            "mapped": batch.iter().map(|(wp, _)| (wp.to_ascii_uppercase(), json!(r.refs.get(&wp.to_ascii_uppercase())))).collect::<serde_json::Map<_, _>>(),
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
        }));
        return Ok(());
    }
    for (wp, _) in &batch {
        let id = wp.to_ascii_uppercase();
        let refs = r.refs.get(&id).map(|v| v.join(", ")).unwrap_or_default();
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
    Ok(())
}
