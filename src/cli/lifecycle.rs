//! The reference's top-level entry points `specify`, `plan` and `tasks`: the
//! same commands as `agent mission create`, `agent mission setup-plan` and
//! `agent mission finalize-tasks`.

use clap::Args;

use super::agent::{mission, taskgraph};
use super::Ctx;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct SpecifyArgs {
    // A free-form name is made kebab-case: "User Auth!" becomes user-auth.
    /// Mission name or slug (e.g. user-authentication)
    #[arg(value_parser = slug_of_name)]
    pub feature: String,
    /// software-dev, research, documentation or plan (`--mission` is its deprecated, hidden alias)
    #[arg(long, alias = "mission", default_value = crate::mission::types::DEFAULT)]
    pub mission_type: String,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    // The reference takes no --mission here and so always needs the mission
    // inferred; this build also takes one.
    /// Mission: 079, 079-slug, slug or mission_id (default: inferred from the working directory)
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
}

/// `My Feature!` -> `my-feature`: lower case, every run of other characters one `-`.
fn slug_of_name(name: &str) -> std::result::Result<String, String> {
    let mut slug = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        return Err("the mission name has no letters or digits".into());
    }
    Ok(slug)
}

pub fn run_specify(ctx: &Ctx, a: &SpecifyArgs) -> Result<()> {
    mission::run_create(
        ctx,
        &mission::CreateArgs {
            slug: a.feature.clone(),
            mission_type: a.mission_type.clone(),
            target_branch: None,
            number: None,
        },
    )
}

pub fn run_plan(ctx: &Ctx, a: &PlanArgs) -> Result<()> {
    mission::run_setup_plan(
        ctx,
        &mission::SelectArgs {
            mission: a.mission.clone(),
        },
    )
}

pub fn run_tasks(ctx: &Ctx, a: &TasksArgs) -> Result<()> {
    taskgraph::run_finalize(
        ctx,
        &taskgraph::FinalizeArgs {
            mission: a.mission.clone(),
            validate_only: false,
            lane_strategy: None,
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_become_kebab_slugs() {
        assert_eq!(super::slug_of_name("My Feature!").unwrap(), "my-feature");
        assert_eq!(super::slug_of_name("  --a__b  ").unwrap(), "a-b");
        assert_eq!(super::slug_of_name("Ünï 2").unwrap(), "n-2");
        assert!(super::slug_of_name(" !! ").is_err());
    }
}
