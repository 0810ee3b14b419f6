//! `agent tasks validate-workflow`: structure and workflow checks that write nothing.
//!
//! Structure (tasks.md, WP frontmatter, dependencies, ownership) is checked by
//! running finalize in validate-only mode, so both commands agree on what is
//! valid. On top of that come the workflow checks finalize cannot make: a WP
//! that started before its dependencies finished, a WP missing from lanes.json,
//! an active WP with no agent, approved work with unticked subtasks.

use serde::Serialize;

use crate::status::StatusError;

type Result<T, E = StatusError> = std::result::Result<T, E>;
use crate::error::{Diagnose, Kind};
use crate::fsutil;
use crate::lanes::LanesManifest;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::Board;
use crate::status::{transitions, work, Lane};
use crate::tasks_md::parse;

use super::finalize;

/// The findings for one work package.
#[derive(Debug, Clone, Serialize)]
pub struct WpCheck {
    pub id: String,
    pub lane: String,
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Mission-wide findings plus one entry per checked work package.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowReport {
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub work_packages: Vec<WpCheck>,
}

/// Check the mission, or only `only` (a WP id, any case) when given.
pub fn validate_workflow(
    project: &Project,
    mission: &Mission,
    only: Option<&str>,
) -> Result<WorkflowReport> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    match finalize::finalize(
        project,
        mission,
        true,
        crate::lanes::Strategy::configured(project)?,
    ) {
        Ok(r) => {
            if !r.would_modify.is_empty() {
                let ids: Vec<&str> = r.would_modify.iter().map(|c| c.wp_id.as_str()).collect();
                warnings.push(format!(
                    "finalize-tasks would still update {}: run `spec-kitty agent mission finalize-tasks --mission {}`",
                    ids.join(", "),
                    mission.slug
                ));
            }
            if r.wp_count > 0 && r.lanes.changed {
                warnings.push(format!(
                    "lanes.json is missing or out of date: run `spec-kitty agent mission finalize-tasks --mission {}`",
                    mission.slug
                ));
            }
            warnings.extend(r.warnings);
        }
        // Structural errors are findings here, not failures of the command.
        Err(e) if e.kind() == Kind::User => errors.push(match e.hint() {
            Some(h) => format!("{} ({h})", e.message()),
            None => e.message(),
        }),
        Err(finalize::FinalizeError::Status(e)) => return Err(e),
        Err(finalize::FinalizeError::Tasks(e)) => return Err(e.into()),
    }

    let board = Board::load(project, mission)?;
    warnings.extend(board.warnings.iter().map(|w| w.to_string()));
    let log = crate::status::StatusStore::for_mission(project, mission).read()?;
    let (chain_errors, chain_warnings) = broken_chains(&log.events);
    let lanes = LanesManifest::for_mission(mission).unwrap_or_else(|e| {
        errors.push(e.to_string());
        None
    });
    let tasks_path = mission.tasks_file();
    let doc = if tasks_path.is_file() {
        parse::parse(&fsutil::read_to_string(&tasks_path)?)
    } else {
        parse::TasksDoc::default()
    };

    let only = only.map(str::to_ascii_uppercase);
    if let Some(id) = &only {
        if !board.work_packages.iter().any(|w| &w.id == id) {
            let known: Vec<&str> = board.work_packages.iter().map(|w| w.id.as_str()).collect();
            return Err(StatusError::NoSuchWp {
                slug: mission.slug.clone(),
                id: id.clone(),
                known: known.into_iter().map(str::to_string).collect(),
            });
        }
    }

    let lane_of = |id: &str| {
        board
            .work_packages
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.lane)
    };
    let events = log.events;
    let scope: Vec<work::ScopeFinding> =
        work::out_of_scope(work::open(project).as_ref(), project, mission)?;
    let mut checks = Vec::new();
    for wp in &board.work_packages {
        if only.as_ref().is_some_and(|id| id != &wp.id) {
            continue;
        }
        let lane = wp.lane;
        let mut errs: Vec<String> = chain_errors
            .iter()
            .filter(|(id, _)| id == &wp.id)
            .map(|(_, m)| m.clone())
            .collect();
        let mut warns: Vec<String> = chain_warnings
            .iter()
            .filter(|(id, _)| id == &wp.id)
            .map(|(_, m)| m.clone())
            .collect();
        let started = !matches!(lane, Lane::Planned | Lane::Blocked | Lane::Canceled);
        if started {
            for dep in &wp.dependencies {
                match lane_of(dep) {
                    Some(Lane::Approved | Lane::Done) => {}
                    Some(l) => errs.push(format!(
                        "{} is {lane} but its dependency {dep} is still {l}",
                        wp.id
                    )),
                    None => errs.push(format!("{} depends on unknown {dep}", wp.id)),
                }
            }
        }
        if matches!(
            lane,
            Lane::Claimed | Lane::InProgress | Lane::ForReview | Lane::InReview
        ) && wp.agent.is_empty()
        {
            warns.push(format!("{} is {lane} but no agent is recorded", wp.id));
        }
        if wp.title.is_empty() {
            warns.push(format!(
                "{} has no title (add `title:` to tasks/{})",
                wp.id, wp.file
            ));
        }
        if let Some(m) = &lanes {
            let n = m.lanes.iter().filter(|l| l.wp_ids.contains(&wp.id)).count();
            if n != 1 {
                errs.push(format!(
                    "{} is in {n} lanes of lanes.json (expected exactly one)",
                    wp.id
                ));
            }
        }
        if matches!(lane, Lane::Approved | Lane::Done) {
            let open: Vec<&str> = doc
                .section(&wp.id)
                .map(|s| {
                    s.subtasks
                        .iter()
                        .filter(|t| !t.done)
                        .map(|t| t.id.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if !open.is_empty() {
                warns.push(format!(
                    "{} is {lane} with unticked subtasks {} (tick them with `spec-kitty agent tasks mark-status {} --status done --mission {}`)",
                    wp.id,
                    open.join(", "),
                    open.join(" "),
                    mission.slug
                ));
            }
        }
        // The recorded history against the lifecycle table.
        for e in events.iter().filter(|e| e.wp_id == wp.id) {
            if !e.force
                && e.from_lane != e.to_lane
                && transitions::rule(e.from_lane, e.to_lane).is_none()
            {
                warns.push(format!(
                    "{}: event {} records {} -> {} without --force, which the lifecycle does not allow (see `spec-kitty agent tasks move-task --help`)",
                    wp.id, e.event_id, e.from_lane, e.to_lane
                ));
            }
        }
        // A self-review that was not a recorded override (--force --reason):
        // the reviewer is anyone who implemented the WP (after a double claim
        // settled between clones, both claimants did), as the move guard says.
        let implementers = work::implementers(&events, &wp.id);
        let reviewer = events
            .iter()
            .rev()
            .find(|e| e.wp_id == wp.id && e.to_lane == Lane::InReview)
            .filter(|e| !e.force && e.actor != "user")
            .map(|e| e.actor.clone());
        if let Some(r) = reviewer.filter(|r| implementers.contains(r)) {
            if matches!(lane, Lane::InReview | Lane::Approved | Lane::Done) {
                errs.push(format!(
                    "{} was reviewed by {r}, who also implemented it (implementers: {})",
                    wp.id,
                    implementers.join(", ")
                ));
            }
        }
        if let Some(f) = scope.iter().find(|f| f.wp_id == wp.id) {
            warns.push(format!(
                "{} changed files outside its owned_files: {} (accept refuses this unless {} records them under `{}`)",
                wp.id,
                f.files.join(", "),
                f.wp_file.display(),
                work::ALLOWANCE_HEADING
            ));
        }
        checks.push(WpCheck {
            id: wp.id.clone(),
            lane: lane.to_string(),
            valid: errs.is_empty(),
            errors: errs,
            warnings: warns,
        });
    }
    let valid = errors.is_empty() && checks.iter().all(|c| c.valid);
    Ok(WorkflowReport {
        valid,
        errors,
        warnings,
        work_packages: checks,
    })
}

/// (work package id, message) pairs.
pub type Findings = Vec<(String, String)>;

/// Breaks in each work package's from/to chain, in log order (deduplicated,
/// sorted by `at` and `event_id`, as the reducer reads it): an event whose
/// `from_lane` is not where the previous event left the work package. That
/// happens when two clones moved it at the same time and git merged both
/// logs. A break is an error unless a later forced move settled the lane (a
/// warning then). Returns (wp id, message) pairs: errors, warnings.
pub fn broken_chains(events: &[crate::status::StatusEvent]) -> (Findings, Findings) {
    let mut seen = std::collections::HashSet::new();
    let mut sorted: Vec<&crate::status::StatusEvent> = events
        .iter()
        .filter(|e| seen.insert(e.event_id.as_str()))
        .collect();
    sorted.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
    let mut state: std::collections::BTreeMap<&str, (Lane, &str)> = Default::default();
    // wp -> the first unsettled break (message)
    let mut open: std::collections::BTreeMap<&str, String> = Default::default();
    let mut settled = Vec::new();
    for e in sorted {
        let (lane, prev_id) = state
            .get(e.wp_id.as_str())
            .copied()
            .unwrap_or((Lane::Planned, ""));
        if e.from_lane != lane && !open.contains_key(e.wp_id.as_str()) {
            open.insert(
                &e.wp_id,
                format!(
                    "{}: concurrent transition: event {} moves it {} -> {}, but event {} had left it {} (two clones moved it at the same time and their logs were merged)",
                    e.wp_id,
                    e.event_id,
                    e.from_lane,
                    e.to_lane,
                    if prev_id.is_empty() { "(none)" } else { prev_id },
                    lane
                ),
            );
        } else if e.force && e.from_lane == lane {
            if let Some(m) = open.remove(e.wp_id.as_str()) {
                settled.push((
                    e.wp_id.clone(),
                    format!("{m}; settled by the forced move {}", e.event_id),
                ));
            }
        }
        state.insert(&e.wp_id, (e.to_lane, &e.event_id));
    }
    let errors = open
        .into_iter()
        .map(|(id, m)| {
            (
                id.to_string(),
                format!("{m}; agree on its lane and record it with `spec-kitty agent tasks move-task {id} --to <lane> --force --reason \"...\"`"),
            )
        })
        .collect();
    (errors, settled)
}
