//! `agent status doctor`: a health report of one mission's status (claims and
//! work in progress left too long, lane worktrees left behind by a finished
//! mission, a status.json that no longer describes the log) and of this
//! installation. Writes nothing.
//!
//! The reference's "global runtime" checks look at (and create) `~/.kittify/`;
//! this build keeps no runtime there, so its installation checks are about the
//! project and the binary: the version the project was set up with and the
//! mission types its missions name.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{Lane, StatusStore};

/// One installation check, in the reference's `global_runtime` shape.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeCheck {
    pub name: String,
    pub passed: bool,
    pub message: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
}

/// One finding about the mission.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `warning` or `error`.
    pub severity: String,
    /// `stale_claim`, `orphan_workspace`, `materialization_drift`.
    pub category: String,
    pub wp_id: Option<String>,
    pub message: String,
    pub recommended_action: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub mission_slug: String,
    pub healthy: bool,
    pub global_runtime: Vec<RuntimeCheck>,
    pub findings: Vec<Finding>,
}

/// Thresholds, in whole days.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub claimed_days: i64,
    pub in_progress_days: i64,
}

fn check(name: &str, passed: bool, message: String, severity: &str) -> RuntimeCheck {
    RuntimeCheck {
        name: name.into(),
        passed,
        message,
        severity: severity.into(),
    }
}

fn installation(project: &Project) -> Result<Vec<RuntimeCheck>> {
    let mut out = vec![check(
        "global_runtime",
        true,
        "This build keeps no global runtime in ~/.kittify (mission types are built in)".into(),
        "info",
    )];
    out.push(match crate::config::version_skew(&project.root)? {
        None => check(
            "version_lock",
            true,
            format!("Version lock: {} (matches CLI)", crate::VERSION),
            "info",
        ),
        Some(skew) => check("version_lock", false, skew.message(), "warning"),
    });
    let missions = crate::mission::list(project)?;
    let unknown: Vec<String> = missions
        .iter()
        .filter(|m| crate::mission::types::find(m.mission_type()).is_none())
        .map(|m| format!("{} ({})", m.slug, m.mission_type()))
        .collect();
    out.push(if unknown.is_empty() {
        check(
            "mission_integrity",
            true,
            format!(
                "{} mission types built in; every mission names one",
                crate::mission::types::ALL.len()
            ),
            "info",
        )
    } else {
        check(
            "mission_integrity",
            false,
            format!("missions of an unknown type: {}", unknown.join(", ")),
            "error",
        )
    });
    Ok(out)
}

fn age_days(at: &str, now: DateTime<Utc>) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(&at.replace('Z', "+00:00")).ok()?;
    Some((now - t.with_timezone(&Utc)).num_days())
}

/// Run the checks.
pub fn doctor(
    project: &Project,
    mission: &Mission,
    limits: Thresholds,
    now: DateTime<Utc>,
) -> Result<DoctorReport> {
    let store = StatusStore::for_mission(project, mission);
    // The saved fold plus the new lines (status.json left as it is).
    let (snap, unreadable) = store.state_and_warnings()?;
    let mut findings = Vec::new();
    for (id, wp) in &snap.work_packages {
        let (limit, stuck, action) = match wp.lane {
            Lane::Claimed => (
                limits.claimed_days,
                "claimed",
                format!("Either begin work on {id} (move to in_progress) or release the claim (move back to planned)."),
            ),
            Lane::InProgress => (
                limits.in_progress_days,
                "in_progress",
                format!("Check if {id} is blocked (move to blocked with reason) or complete the work (move to for_review)."),
            ),
            _ => continue,
        };
        let Some(age) = age_days(&wp.last_transition_at, now) else {
            continue;
        };
        if age > limit {
            findings.push(Finding {
                severity: "warning".into(),
                category: "stale_claim".into(),
                wp_id: Some(id.clone()),
                message: format!(
                    "{id} has been in '{stuck}' for {age} days (threshold: {limit} days). Actor: {}",
                    wp.actor
                ),
                recommended_action: action,
            });
        }
    }
    let all_finished = !snap.work_packages.is_empty()
        && snap
            .work_packages
            .values()
            .all(|w| matches!(w.lane, Lane::Done | Lane::Canceled));
    if all_finished {
        let prefix = format!("{}-lane-", mission.slug);
        if let Ok(rd) = std::fs::read_dir(project.worktrees_dir()) {
            let mut names: Vec<String> = rd
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect();
            names.sort();
            for n in names {
                findings.push(Finding {
                    severity: "warning".into(),
                    category: "orphan_workspace".into(),
                    wp_id: None,
                    message: format!(
                        "Worktree '{n}' exists but all WPs in '{}' are terminal (canceled, done). Path: .worktrees/{n}",
                        mission.slug
                    ),
                    recommended_action: format!("Remove the orphan worktree: git worktree remove .worktrees/{n}"),
                });
            }
        }
    }
    if crate::status::unmerged::is_unmerged(&store.events_path) {
        findings.push(Finding {
            severity: "error".into(),
            category: "unmerged_event_log".into(),
            wp_id: None,
            message: format!(
                "{} is unmerged in the git index (its merge driver did not run); the board reads the union of both sides, the working file may hold only one",
                store.events_path.display()
            ),
            recommended_action: format!(
                "Run 'spec-kitty agent mission repair-status --mission {}', then 'git add' the log and status.json and commit.",
                mission.slug
            ),
        });
    } else if !unreadable.is_empty()
        // A marker line is never a readable event: only a log with
        // unreadable lines is read for them.
        && crate::status::logmerge::file_has_markers(&store.events_path)
    {
        findings.push(Finding {
            severity: "error".into(),
            category: "damaged_event_log".into(),
            wp_id: None,
            message: format!("{} holds conflict markers", store.events_path.display()),
            recommended_action: format!(
                "Run 'spec-kitty agent mission repair-status --mission {}'.",
                mission.slug
            ),
        });
    }
    for m in super::status_validate::drift(&store)? {
        findings.push(Finding {
            severity: "warning".into(),
            category: "materialization_drift".into(),
            wp_id: None,
            message: m,
            recommended_action: "Run 'spec-kitty agent status materialize' to regenerate status.json from the canonical event log.".into(),
        });
    }
    let global_runtime = installation(project)?;
    Ok(DoctorReport {
        mission_slug: mission.slug.clone(),
        healthy: findings.is_empty() && global_runtime.iter().all(|c| c.passed),
        global_runtime,
        findings,
    })
}
