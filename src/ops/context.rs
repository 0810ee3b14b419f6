//! `agent context resolve`: where an agent is for an action, which work package
//! it concerns, and the exact commands to run next. Reads only.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::OpError;
use crate::lanes::LanesManifest;
use crate::mission::branch::BranchContext;
use crate::mission::{Mission, MissionError};
use crate::project::Project;
use crate::status::{Lane, StatusStore};
use crate::tasks_md::wp;

pub use crate::mission::ACTIONS;

/// The work package an implement or review action concerns.
#[derive(Debug, Clone)]
pub struct WpContext {
    pub wp_id: String,
    pub wp_file: PathBuf,
    pub lane: String,
    pub lane_id: Option<String>,
    pub branch_name: Option<String>,
    pub workspace_path: Option<PathBuf>,
    pub execution_mode: String,
    pub dependencies: Vec<String>,
}

/// What `resolve` found.
#[derive(Debug, Clone)]
pub struct ActionContext {
    pub action: String,
    pub mission_slug: String,
    pub feature_dir: PathBuf,
    pub branch: BranchContext,
    pub wp: Option<WpContext>,
    /// Command name → the exact command line.
    pub commands: BTreeMap<&'static str, String>,
}

/// Resolve `action` for `mission`. Implement needs a work package that is ready
/// (planned with its dependencies approved or done, or already in progress);
/// review needs one in for_review or in_review.
/// `wp_id` names the work package instead of picking the first ready one
/// (`wp01` and `WP01-slug` mean WP01); `agent` goes into the commands in place
/// of `<agent>`.
pub fn resolve(
    project: &Project,
    mission: &Mission,
    action: &str,
    wp_id: Option<&str>,
    agent: Option<&str>,
) -> Result<ActionContext, OpError> {
    let action = action.replace('-', "_");
    if !ACTIONS.contains(&action.as_str()) {
        return Err(MissionError::UnknownAction { action }.into());
    }
    let m = &mission.slug;
    let mut commands = BTreeMap::new();
    let check = format!(
        "spec-kitty agent mission check-prerequisites --json --paths-only --include-tasks --mission {m}"
    );
    let wp = match (action.as_str(), wp_id) {
        (_, Some(id)) => Some(wp_context(project, mission, named_wp(mission, id)?)?),
        ("implement" | "review", None) => Some(pick_wp(project, mission, &action)?),
        _ => None,
    };
    match action.as_str() {
        "specify" => {
            commands.insert(
                "branch_context",
                "spec-kitty agent mission branch-context --json".into(),
            );
            commands.insert("check_prerequisites", check);
        }
        "plan" => {
            commands.insert(
                "setup_plan",
                format!("spec-kitty agent mission setup-plan --mission {m} --json"),
            );
            commands.insert("check_prerequisites", check);
        }
        "tasks" | "tasks_outline" | "tasks_packages" => {
            commands.insert("check_prerequisites", check);
            commands.insert(
                "finalize_tasks",
                format!("spec-kitty agent mission finalize-tasks --mission {m} --json"),
            );
        }
        "implement" => {
            let id = wp.as_ref().map(|w| w.wp_id.as_str()).unwrap_or_default();
            commands.insert(
                "implement",
                format!("spec-kitty agent action implement {id} --mission {m} --agent <agent>"),
            );
            commands.insert("move_to_review", format!("spec-kitty agent tasks move-task {id} --to for_review --mission {m} --note \"Ready for review\""));
            commands.insert(
                "status",
                format!("spec-kitty agent tasks status --mission {m}"),
            );
        }
        "review" => {
            let id = wp.as_ref().map(|w| w.wp_id.as_str()).unwrap_or_default();
            commands.insert(
                "review",
                format!("spec-kitty agent action review {id} --mission {m} --agent <agent>"),
            );
            commands.insert("approve", format!("spec-kitty agent tasks move-task {id} --to approved --mission {m} --note \"Review passed\""));
            commands.insert("reject", format!("spec-kitty agent tasks move-task {id} --to planned --mission {m} --review-feedback-file <feedback.md>"));
        }
        "accept" => {
            commands.insert("accept", format!("spec-kitty accept --mission {m} --json"));
        }
        _ => {
            commands.insert("merge", format!("spec-kitty merge --mission {m} --dry-run"));
        }
    }
    if let Some(a) = agent {
        let a = crate::shell::quote(a);
        for c in commands.values_mut() {
            *c = c.replace("<agent>", &a);
        }
    }
    Ok(ActionContext {
        action,
        mission_slug: mission.slug.clone(),
        feature_dir: mission.dir.clone(),
        branch: BranchContext::for_mission(project, mission),
        wp,
        commands,
    })
}

fn pick_wp(project: &Project, mission: &Mission, action: &str) -> Result<WpContext, OpError> {
    let (snap, _) = StatusStore::for_mission(project, mission)
        .snapshot()
        .map_err(OpError::from)?;
    let files = wp::load_all(&mission.tasks_dir()).map_err(OpError::from)?;
    let ready = |f: &wp::WpFile| {
        let lane = snap.lane_of(&f.id).unwrap_or(Lane::Planned);
        let deps_met = f
            .dependencies()
            .iter()
            .all(|d| matches!(snap.lane_of(d), Some(Lane::Done | Lane::Approved)));
        match action {
            "implement" => {
                lane == Lane::InProgress
                    || (matches!(lane, Lane::Planned | Lane::Claimed) && deps_met)
            }
            _ => matches!(lane, Lane::ForReview | Lane::InReview),
        }
    };
    let file = files
        .into_iter()
        .find(|f| ready(f))
        .ok_or_else(|| MissionError::NothingReady {
            mission: mission.slug.clone(),
            action: action.to_string(),
        })?;
    wp_context(project, mission, file)
}

/// The work package `--wp-id` names: `WP01`, `wp01` or `WP01-some-slug`.
fn named_wp(mission: &Mission, given: &str) -> Result<wp::WpFile, OpError> {
    let id = given
        .split('-')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    crate::status::ops::find_wp(mission, &id).map_err(OpError::from)
}

fn wp_context(
    project: &Project,
    mission: &Mission,
    file: wp::WpFile,
) -> Result<WpContext, OpError> {
    let (snap, _) = StatusStore::for_mission(project, mission)
        .snapshot()
        .map_err(OpError::from)?;
    let lanes = LanesManifest::for_mission(mission).map_err(OpError::from)?;
    let lane = lanes.as_ref().and_then(|l| l.lane_for_wp(&file.id));
    let planning = file.is_planning_artifact();
    Ok(WpContext {
        wp_id: file.id.clone(),
        lane: snap.lane_of(&file.id).unwrap_or(Lane::Planned).to_string(),
        lane_id: lane.map(|l| l.lane_id.clone()),
        branch_name: match (lane, &lanes, planning) {
            (Some(l), Some(m), false) => Some(m.lane_branch(&l.lane_id)),
            _ => None,
        },
        workspace_path: match (lane, &lanes, planning) {
            (Some(l), Some(m), false) => Some(m.worktree_path(&project.root, &l.lane_id)),
            (_, _, true) => Some(project.root.clone()),
            _ => None,
        },
        execution_mode: file
            .execution_mode()
            .unwrap_or_else(|| "code_change".into()),
        dependencies: file.dependencies(),
        wp_file: file.path,
    })
}
