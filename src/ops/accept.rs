//! `accept` / `agent mission accept`: run the acceptance gates
//! ([`crate::merge::accept`]) and say what to do next: merge, or, in `pr`
//! mode, which branches to push for pull requests as the repository stands.

use crate::error::Result;
use crate::merge::{self, AcceptOptions, AcceptReport};
use crate::mission::Mission;
use crate::project::Project;

/// The gates' report and the next step.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub report: AcceptReport,
    pub next_step: String,
}

/// Run the gates of `mission`; `pr` plans pull requests instead of a merge.
pub fn accept(
    project: &Project,
    mission: &Mission,
    options: &AcceptOptions,
    pr: bool,
) -> Result<Accepted> {
    let report = merge::accept(project, mission, options)?;
    let next_step = if pr {
        pr_next_step(project, mission, &report)
    } else {
        format!(
            "`spec-kitty merge --mission {} --dry-run`, then without --dry-run",
            report.mission_slug
        )
    };
    Ok(Accepted { report, next_step })
}

/// What to push for a pull request, as the repository stands: the mission
/// branch only once `merge` has made it; until then the accepted lane
/// branches, in dependency order (each holds the lanes it builds on).
fn pr_next_step(project: &Project, mission: &Mission, report: &AcceptReport) -> String {
    let slug = &report.mission_slug;
    let lanes = crate::lanes::LanesManifest::for_mission(mission)
        .ok()
        .flatten();
    let target = merge::target_branch(mission, lanes.as_ref());
    let dry_run = format!("`spec-kitty merge --mission {slug} --dry-run` lists conflicts first");
    let branch = mission.mission_branch();
    let repo = merge::open_repo(project).ok();
    let exists = repo
        .as_ref()
        .is_some_and(|repo| merge::branch_tip(repo, &branch).is_some());
    if exists {
        return format!("push {branch} and open a pull request into {target} ({dry_run})");
    }
    let lane_branches: Vec<&str> = report.lanes.iter().map(|l| l.branch.as_str()).collect();
    if lane_branches.is_empty() {
        // Every WP ran in the main checkout: its work is on the branch there.
        let current = repo.as_ref().and_then(|r| {
            r.head()
                .ok()
                .filter(|h| h.is_branch())
                .and_then(|h| h.shorthand().map(str::to_string))
        });
        return match current {
            Some(c) if c != target => format!(
                "every work package ran in the main checkout: push {c} and open a pull request into {target}"
            ),
            _ => format!(
                "no lane branch to push: every work package ran in the main checkout on {target}; `spec-kitty merge --mission {slug}` records the mission"
            ),
        };
    }
    format!(
        "push {} and open a pull request into {target} for each, in that order ({dry_run}); {branch} does not exist until `spec-kitty merge` creates it",
        lane_branches.join(", ")
    )
}
