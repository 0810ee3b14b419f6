//! `agent action implement|review`: pick a work package, prepare its
//! workspace, record the claim, and build the prompt the agent works from.

use std::path::PathBuf;

use serde::Serialize;

use super::{ensure, lane_diff, require_lanes, resolve, Workspace};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::{self, MoveRequest};
use crate::status::{Lane, StatusStore};
use crate::tasks_md::{wp, WpFile};

/// The prompt handed to an agent, and where it was saved.
#[derive(Debug, Clone, Serialize)]
pub struct Handoff {
    pub action: &'static str,
    pub wp_id: String,
    pub title: String,
    pub mission_slug: String,
    pub agent: String,
    pub workspace: Workspace,
    pub prompt_file: PathBuf,
    pub prompt: String,
    pub from_lane: String,
    pub lane: String,
}

fn lanes_of(project: &Project, mission: &Mission) -> Result<crate::status::Snapshot> {
    Ok(StatusStore::for_mission(project, mission).snapshot()?.0)
}

/// WP files whose dependencies are not all approved or done.
pub fn unmet_dependencies(snap: &crate::status::Snapshot, wp: &WpFile) -> Vec<String> {
    wp.dependencies()
        .into_iter()
        .filter(|d| !matches!(snap.lane_of(d), Some(Lane::Done | Lane::Approved)))
        .collect()
}

/// The prompt directory: `$TMPDIR/spec-kitty/` (never inside the project).
fn prompt_path(mission: &Mission, wp_id: &str, action: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join("spec-kitty");
    fsutil::create_dir_all(&dir)?;
    Ok(dir.join(format!("{}-{wp_id}-{action}.md", mission.slug)))
}

fn read_or_empty(p: &std::path::Path) -> String {
    fsutil::read_to_string(p).unwrap_or_default()
}

/// Claim a WP for implementation and build its prompt.
pub fn implement(
    project: &Project,
    mission: &Mission,
    wp_id: Option<&str>,
    agent: &str,
) -> Result<Handoff> {
    let lanes = require_lanes(mission)?;
    let snap = lanes_of(project, mission)?;
    let files = wp::load_all(&mission.tasks_dir())?;
    let file = match wp_id {
        Some(id) => ops::find_wp(mission, id)?,
        None => files
            .iter()
            .find(|f| snap.lane_of(&f.id).unwrap_or(Lane::Planned) == Lane::Planned && unmet_dependencies(&snap, f).is_empty())
            .cloned()
            .ok_or_else(|| {
                Error::user(format!("no work package of {} is ready to start", mission.slug)).with_hint(format!(
                    "see `spec-kitty agent tasks status --mission {}` (planned WPs wait for their dependencies)",
                    mission.slug
                ))
            })?,
    };
    let from = snap.lane_of(&file.id).unwrap_or(Lane::Planned);
    let unmet = unmet_dependencies(&snap, &file);
    if !unmet.is_empty() && matches!(from, Lane::Planned | Lane::Claimed) {
        return Err(Error::user(format!(
            "{} depends on {}, which {} not approved or done yet",
            file.id,
            unmet.join(", "),
            if unmet.len() == 1 { "is" } else { "are" }
        ))
        .with_hint("finish those first; `spec-kitty next` names what is ready"));
    }
    if !matches!(from, Lane::Planned | Lane::Claimed | Lane::InProgress) {
        return Err(Error::user(format!("{} is {from}; only planned work can be implemented", file.id))
            .with_hint(format!(
                "to redo it, send it back: `spec-kitty agent tasks move-task {} --to planned --review-feedback \"why\" --mission {}`",
                file.id, mission.slug
            )));
    }
    let ws = ensure(project, mission, &lanes, &file)?;
    if from != Lane::InProgress {
        ops::move_wp(
            project,
            mission,
            &MoveRequest {
                wp_id: file.id.clone(),
                to: "in_progress".into(),
                agent: Some(agent.to_string()),
                workspace: Some(ws.path.display().to_string()),
                ..Default::default()
            },
        )?;
    }
    let fresh = WpFile::read(&file.path)?;
    let prompt = implement_prompt(mission, &fresh, &ws, agent)?;
    let prompt_file = prompt_path(mission, &file.id, "implement")?;
    fsutil::atomic_write(&prompt_file, prompt.as_bytes())?;
    Ok(Handoff {
        action: "implement",
        wp_id: file.id.clone(),
        title: fresh.title().unwrap_or_default(),
        mission_slug: mission.slug.clone(),
        agent: agent.to_string(),
        workspace: ws,
        prompt_file,
        prompt,
        from_lane: from.to_string(),
        lane: Lane::InProgress.to_string(),
    })
}

fn file_text(f: &WpFile) -> String {
    read_or_empty(&f.path)
}

fn implement_prompt(mission: &Mission, f: &WpFile, ws: &Workspace, agent: &str) -> Result<String> {
    let slug = &mission.slug;
    let id = &f.id;
    let place = match &ws.branch {
        Some(b) => format!(
            "the lane worktree {} on branch {b} (lane {}); commit your work there",
            ws.path.display(),
            ws.lane_id
        ),
        None => format!(
            "the main checkout {} (planning work: no worktree); edit only the mission's files",
            ws.path.display()
        ),
    };
    let subtasks = f.get_list("subtasks");
    let tick = if subtasks.is_empty() {
        String::new()
    } else {
        format!(
            "   spec-kitty agent tasks mark-status {} --status done --mission {slug}\n",
            subtasks.join(" ")
        )
    };
    Ok(format!(
        "# Implement {id}: {title}\n\n\
         Mission: {slug}\nAgent: {agent}\nWorkspace: {place}\n\n\
         Work in the workspace only:\n\n    cd {path}\n\n\
         Context: read {spec} and {plan} for the why and the how.\n\
         Stay within the files this work package owns: {owned}.\n\n\
         ---- work package {id} ----\n{text}\n---- end of {id} ----\n\n\
         When you are done:\n\n{tick}   spec-kitty agent tasks move-task {id} --to for_review --agent {agent} --mission {slug} --note \"what you did\"\n\n\
         Then ask for the next step: `spec-kitty next --agent {agent} --mission {slug}`.\n",
        title = f.title().unwrap_or_default(),
        path = ws.path.display(),
        spec = mission.spec_file().display(),
        plan = mission.plan_file().display(),
        owned = {
            let o = f.owned_files();
            if o.is_empty() { "(not declared)".to_string() } else { o.join(", ") }
        },
        text = file_text(f).trim_end(),
    ))
}

/// Claim a WP that waits for review and build the review prompt.
pub fn review(
    project: &Project,
    mission: &Mission,
    wp_id: Option<&str>,
    agent: &str,
) -> Result<Handoff> {
    let lanes = require_lanes(mission)?;
    let snap = lanes_of(project, mission)?;
    let files = wp::load_all(&mission.tasks_dir())?;
    let file = match wp_id {
        Some(id) => ops::find_wp(mission, id)?,
        None => files
            .iter()
            .find(|f| snap.lane_of(&f.id) == Some(Lane::ForReview))
            .cloned()
            .ok_or_else(|| {
                Error::user(format!(
                    "no work package of {} is waiting for review",
                    mission.slug
                ))
                .with_hint("work packages reach for_review with `move-task WPxx --to for_review`")
            })?,
    };
    let from = snap.lane_of(&file.id).unwrap_or(Lane::Planned);
    if !matches!(from, Lane::ForReview | Lane::InReview) {
        return Err(
            Error::user(format!("{} is {from}, not waiting for review", file.id))
                .with_hint("only for_review work can be reviewed"),
        );
    }
    let ws = resolve(project, mission, &lanes, &file)?;
    if from == Lane::ForReview {
        ops::move_wp(
            project,
            mission,
            &MoveRequest {
                wp_id: file.id.clone(),
                to: "in_review".into(),
                agent: Some(agent.to_string()),
                ..Default::default()
            },
        )?;
    }
    let diff = match &ws.branch {
        Some(b) => match lane_diff(project, b, &ws.base_branch, 200_000) {
            Ok((files, patch)) => format!(
                "Changes on {b} since it left {base} ({n} files):\n\n{list}\n\n```diff\n{patch}```\n\nFull diff: `git diff {base}...{b}`\n",
                base = ws.base_branch,
                n = files.len(),
                list = files.iter().map(|f| format!("- {f}")).collect::<Vec<_>>().join("\n"),
            ),
            Err(e) => format!("(no diff: {})\n", e.message),
        },
        None => format!(
            "Planning work in the main checkout: review the files under {} (`git diff` and `git status` there).\n",
            mission.dir.display()
        ),
    };
    let fresh = WpFile::read(&file.path)?;
    let slug = &mission.slug;
    let id = &file.id;
    let prompt = format!(
        "# Review {id}: {title}\n\nMission: {slug}\nReviewer: {agent}\nWorkspace: {path}\n\n{diff}\n\
         ---- work package {id} (its acceptance criteria) ----\n{text}\n---- end of {id} ----\n\n\
         Approve:\n\n    spec-kitty agent tasks move-task {id} --to approved --agent {agent} --mission {slug} --note \"why it is good\"\n\n\
         Or send it back with feedback:\n\n    spec-kitty agent tasks move-task {id} --to planned --agent {agent} --mission {slug} --review-feedback \"what must change\"\n",
        title = fresh.title().unwrap_or_default(),
        path = ws.path.display(),
        text = file_text(&fresh).trim_end(),
    );
    let prompt_file = prompt_path(mission, id, "review")?;
    fsutil::atomic_write(&prompt_file, prompt.as_bytes())?;
    Ok(Handoff {
        action: "review",
        wp_id: id.clone(),
        title: fresh.title().unwrap_or_default(),
        mission_slug: slug.clone(),
        agent: agent.to_string(),
        workspace: ws,
        prompt_file,
        prompt,
        from_lane: from.to_string(),
        lane: Lane::InReview.to_string(),
    })
}
