//! `agent tasks status` and `agent tasks list-tasks`: a mission's kanban
//! board, with the stale state of the work in progress.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::mission::Mission;
use crate::ops::stale::{self, StaleCheck};
use crate::project::Project;
use crate::status::ops::{Board, BoardWp};
use crate::status::Lane;

/// The board of `agent tasks status`.
#[derive(Debug, Clone)]
pub struct BoardReport {
    pub board: Board,
    /// The stale state of each work package in progress.
    pub stale: Vec<StaleCheck>,
    pub stale_threshold: u64,
    /// The project's `auto_commit` (a corrupt config.yaml is an error).
    pub auto_commit: bool,
}

impl BoardReport {
    /// How many work packages in progress are stale.
    pub fn stale_count(&self) -> usize {
        self.stale.iter().filter(|s| s.is_stale).count()
    }
}

/// The board of `mission`; `stale_threshold` minutes without a status change
/// or lane commit make a work package in progress stale.
pub fn board(
    project: &Project,
    mission: &Mission,
    stale_threshold: u64,
    now: DateTime<Utc>,
) -> Result<BoardReport> {
    let board = Board::load(project, mission)?;
    let stale = stale::check(project, mission, stale_threshold, now)?;
    let auto_commit = crate::config::auto_commit_enabled(&project.root)?;
    Ok(BoardReport {
        board,
        stale,
        stale_threshold,
        auto_commit,
    })
}

/// The work packages of `agent tasks list-tasks`.
#[derive(Debug, Clone)]
pub struct TaskList {
    pub mission_slug: String,
    /// Only this lane, when one was given.
    pub lane: Option<Lane>,
    pub tasks_dir: PathBuf,
    pub rows: Vec<BoardWp>,
}

/// `mission`'s work packages, only those in `lane` when one is given.
pub fn list(project: &Project, mission: &Mission, lane: Option<&str>) -> Result<TaskList> {
    let lane = lane.map(Lane::parse).transpose()?;
    let board = Board::load(project, mission)?;
    let rows = board
        .work_packages
        .into_iter()
        .filter(|w| lane.is_none_or(|l| w.lane == l))
        .collect();
    Ok(TaskList {
        mission_slug: mission.slug.clone(),
        lane,
        tasks_dir: mission.tasks_dir(),
        rows,
    })
}

/// A note added to a work package's activity log.
#[derive(Debug, Clone)]
pub struct Noted {
    pub wp_id: String,
    pub file: PathBuf,
    /// The note as written (with the shell's pid when one was given).
    pub note: String,
}

/// Add `note` by `actor` (default `user`) to the activity log of `wp_id`.
pub fn add_history(
    project: &Project,
    mission: &Mission,
    wp_id: &str,
    actor: Option<&str>,
    note: &str,
    shell_pid: Option<u32>,
) -> Result<Noted> {
    let note = match shell_pid {
        Some(pid) => format!("shell_pid={pid} – {note}"),
        None => note.to_string(),
    };
    let file =
        crate::status::ops::add_history(project, mission, wp_id, actor.unwrap_or("user"), &note)?;
    Ok(Noted {
        wp_id: wp_id.to_ascii_uppercase(),
        file,
        note,
    })
}
