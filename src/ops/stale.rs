//! `agent tasks status --stale-threshold`: which work packages in progress
//! show no activity for longer than the threshold. Activity is the later of
//! the work package's last status change (claim, start, review sent back...)
//! and the last commit its lane branch made since it left its base; a lane
//! branch without commits of its own counts from the status change alone.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::lanes::{LanesManifest, PLANNING_LANE};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{Lane, StatusStore};

/// The stale state of one work package in progress (the reference's `stale` object).
#[derive(Debug, Clone, Serialize)]
pub struct StaleState {
    /// `stale` or `fresh`.
    pub status: &'static str,
    pub reason: Option<String>,
    /// Minutes since the last activity, to one decimal.
    pub minutes_since_commit: Option<f64>,
    /// The last commit of the lane branch's own, if any.
    pub last_commit_time: Option<String>,
    /// The work package's last status change.
    pub last_transition_at: String,
}

/// One work package in progress, checked.
#[derive(Debug, Clone, Serialize)]
pub struct StaleCheck {
    pub wp_id: String,
    pub stale: StaleState,
    pub is_stale: bool,
    pub minutes_since_commit: Option<f64>,
    pub worktree_exists: bool,
}

/// Check every work package in `in_progress`; `threshold_minutes` of no
/// activity makes one stale. `now` is passed in (tests, one clock per run).
pub fn check(
    project: &Project,
    mission: &Mission,
    threshold_minutes: u64,
    now: DateTime<Utc>,
) -> Result<Vec<StaleCheck>> {
    let store = StatusStore::for_mission(project, mission);
    let (snap, _) = store.snapshot()?;
    let lanes = LanesManifest::for_mission(mission).ok().flatten();
    let repo = if project.is_git() {
        crate::git::Repo::open(&project.root).ok()
    } else {
        None
    };
    let target = crate::lanes::target_branch(mission, lanes.as_ref());
    let mut out = Vec::new();
    for (id, wp) in &snap.work_packages {
        if wp.lane != Lane::InProgress {
            continue;
        }
        let lane = lanes
            .as_ref()
            .and_then(|l| l.lane_for_wp(id))
            .filter(|l| l.lane_id != PLANNING_LANE);
        let (worktree_exists, commit_time) = match (lane, lanes.as_ref(), repo.as_ref()) {
            (Some(l), Some(m), Some(repo)) => (
                m.worktree_path(&project.root, &l.lane_id).is_dir(),
                repo.own_tip_time(&m.lane_branch(&l.lane_id), &target),
            ),
            _ => (false, None),
        };
        let event_time = crate::timefmt::parse_iso(&wp.last_transition_at);
        let last = [event_time, commit_time].into_iter().flatten().max();
        let minutes = last.map(|t| {
            let m = (now - t).num_milliseconds() as f64 / 60_000.0;
            (m * 10.0).round() / 10.0
        });
        let elapsed_ms = last.map(|t| (now - t).num_milliseconds());
        let is_stale =
            elapsed_ms.is_some_and(|ms| ms > (threshold_minutes as i64).saturating_mul(60_000));
        let reason = if is_stale {
            Some(format!(
                "no status change or commit for {} minutes (threshold {threshold_minutes})",
                minutes.unwrap_or_default()
            ))
        } else if last.is_none() {
            Some("no readable time of its last activity".into())
        } else {
            None
        };
        let stale = StaleState {
            status: if is_stale { "stale" } else { "fresh" },
            reason,
            minutes_since_commit: minutes,
            last_commit_time: commit_time.map(|t| t.to_rfc3339()),
            last_transition_at: wp.last_transition_at.clone(),
        };
        out.push(StaleCheck {
            wp_id: id.clone(),
            is_stale,
            minutes_since_commit: minutes,
            worktree_exists,
            stale,
        });
    }
    Ok(out)
}
