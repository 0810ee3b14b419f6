//! `accept` / `agent mission accept`: the gates ([`crate::merge::accept`]) and
//! the readiness summary the reference prints beside them (paths, the work
//! packages by lane, optional artifacts, clarification markers), so a script
//! reading either document finds its keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::merge::{self, AcceptOptions, AcceptReport};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{Lane, StatusStore, LANES};
use crate::tasks_md::wp;

/// One work package as the summary lists it.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryWp {
    pub id: String,
    pub lane: String,
    pub title: String,
    /// Relative to the project root.
    pub path: String,
    pub latest_lane: String,
    /// The status log has an event for it.
    pub has_lane_entry: bool,
    pub metadata: BTreeMap<&'static str, Option<String>>,
}

/// The reference's acceptance summary.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptSummary {
    pub feature_dir: PathBuf,
    pub tasks_dir: PathBuf,
    pub repo_root: PathBuf,
    pub primary_repo_root: PathBuf,
    pub worktree_root: PathBuf,
    pub mission_number: String,
    pub mission_type: String,
    /// The branch the main checkout is on (None when detached).
    pub branch: Option<String>,
    /// Lane → work package ids (every lane, empty ones too).
    pub lanes_by_lane: BTreeMap<String, Vec<String>>,
    pub work_packages: Vec<SummaryWp>,
    /// Work packages not approved or done.
    pub activity_issues: Vec<String>,
    /// This build keeps assignee and shell pid on the status events, so it
    /// asks nothing of the frontmatter: always empty.
    pub metadata_issues: Vec<String>,
    /// Mission files holding a `[NEEDS CLARIFICATION` marker.
    pub needs_clarification: Vec<PathBuf>,
    /// quickstart.md, data-model.md, research.md, contracts: those absent.
    pub optional_missing: Vec<String>,
    /// The reference's mission path conventions; this build has none: empty.
    pub path_violations: Vec<String>,
}

/// An acceptance run: the gates, the reference's summary, and what to run next.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub report: AcceptReport,
    pub summary: AcceptSummary,
    /// The command that lands the mission (a pull request's steps with `--mode pr`).
    pub next_step: String,
}

/// Run the gates and build the summary.
pub fn accept(project: &Project, mission: &Mission, opts: &AcceptOptions) -> Result<Accepted> {
    let report = merge::accept(project, mission, opts)?;
    let summary = summary(project, mission)?;
    let pr = opts.mode.as_deref() == Some("pr");
    let next_step = next_step(project, mission, &report, pr);
    Ok(Accepted {
        report,
        summary,
        next_step,
    })
}

fn summary(project: &Project, mission: &Mission) -> Result<AcceptSummary> {
    let (snap, _) = StatusStore::for_mission(project, mission).snapshot()?;
    let files = if mission.tasks_dir().is_dir() {
        wp::load_all(&mission.tasks_dir())?
    } else {
        Vec::new()
    };
    let mut by_lane: BTreeMap<String, Vec<String>> =
        LANES.iter().map(|l| (l.to_string(), Vec::new())).collect();
    let mut wps = Vec::new();
    let mut activity = Vec::new();
    for f in &files {
        let lane = snap.lane_of(&f.id).unwrap_or(Lane::Planned);
        by_lane
            .entry(lane.to_string())
            .or_default()
            .push(f.id.clone());
        if !matches!(lane, Lane::Approved | Lane::Done) {
            activity.push(format!(
                "{}: lane is '{lane}', expected 'approved' or 'done'",
                f.id
            ));
        }
        let path = f
            .path
            .strip_prefix(&project.root)
            .unwrap_or(&f.path)
            .display()
            .to_string();
        wps.push(SummaryWp {
            id: f.id.clone(),
            lane: lane.to_string(),
            title: f.title().unwrap_or_default(),
            path,
            latest_lane: lane.to_string(),
            has_lane_entry: snap.lane_of(&f.id).is_some(),
            metadata: [
                ("lane", Some(lane.to_string())),
                ("agent", f.get_str("agent")),
                ("assignee", f.get_str("assignee")),
                ("shell_pid", f.get_str("shell_pid")),
            ]
            .into_iter()
            .collect(),
        });
    }
    let mut needs_clarification = Vec::new();
    for name in [
        "spec.md",
        "plan.md",
        "quickstart.md",
        "tasks.md",
        "research.md",
        "data-model.md",
    ] {
        let p = mission.dir.join(name);
        if let Ok(Some(text)) = crate::fsutil::read_capped(&p, crate::bounds::MAX_TEXT_BYTES) {
            if text.contains("[NEEDS CLARIFICATION") {
                needs_clarification.push(p);
            }
        }
    }
    let optional_missing = ["quickstart.md", "data-model.md", "research.md", "contracts"]
        .into_iter()
        .filter(|n| !mission.dir.join(n).exists())
        .map(str::to_string)
        .collect();
    Ok(AcceptSummary {
        feature_dir: mission.dir.clone(),
        tasks_dir: mission.tasks_dir(),
        repo_root: project.root.clone(),
        primary_repo_root: project.root.clone(),
        worktree_root: project
            .worktree
            .clone()
            .unwrap_or_else(|| project.root.clone()),
        mission_number: mission.number.clone().unwrap_or_default(),
        mission_type: mission.mission_type().to_string(),
        branch: project.current_branch(),
        lanes_by_lane: by_lane,
        work_packages: wps,
        activity_issues: activity,
        metadata_issues: Vec::new(),
        needs_clarification,
        optional_missing,
        path_violations: Vec::new(),
    })
}

/// What to do once the gates ran: merge (dry run first), or, with `pr`, which
/// branches to push for pull requests as the repository stands.
pub fn next_step(project: &Project, mission: &Mission, report: &AcceptReport, pr: bool) -> String {
    if pr {
        pr_next_step(project, mission, report)
    } else {
        format!(
            "`spec-kitty merge --mission {} --dry-run`, then without --dry-run",
            report.mission_slug
        )
    }
}

/// What to push for a pull request, as the repository stands: the mission
/// branch once it holds every accepted lane (after `merge`); until then the accepted lane
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
    // The mission branch exists from the first lane on; it is the one to push
    // once it holds every accepted lane (after `merge`).
    let holds_lanes = repo.as_ref().is_some_and(|repo| {
        repo.branch_tip(&branch).is_some_and(|tip| {
            report.lanes.iter().all(|l| {
                l.tip
                    .as_deref()
                    .and_then(|t| crate::git::Oid::from_str(t).ok())
                    .is_some_and(|t| repo.contains(tip, t).unwrap_or(false))
            })
        })
    });
    if holds_lanes {
        return format!("push {branch} and open a pull request into {target} ({dry_run})");
    }
    let lane_branches: Vec<&str> = report.lanes.iter().map(|l| l.branch.as_str()).collect();
    if lane_branches.is_empty() {
        // Every WP ran in the main checkout: its work is on the branch there.
        let current = repo
            .as_ref()
            .and_then(|r| r.head_commit().and(r.head_branch()));
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
        "push {} and open a pull request into {target} for each, in that order ({dry_run}); {branch} holds them only once `spec-kitty merge` has merged them",
        lane_branches.join(", ")
    )
}
