//! `lanes.json`, in the reference's schema and key order.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil;

/// The lane that holds planning-artifact work packages (runs in the main checkout).
pub const PLANNING_LANE: &str = "lane-planning";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanesManifest {
    #[serde(default = "one")]
    pub version: u32,
    pub mission_slug: String,
    #[serde(default)]
    pub mission_id: String,
    #[serde(default)]
    pub mission_branch: String,
    #[serde(default)]
    pub target_branch: String,
    pub lanes: Vec<ExecLane>,
    #[serde(default)]
    pub computed_at: String,
    #[serde(default)]
    pub computed_from: String,
    #[serde(default)]
    pub planning_artifact_wps: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse_report: Option<CollapseReport>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecLane {
    pub lane_id: String,
    pub wp_ids: Vec<String>,
    #[serde(default)]
    pub write_scope: Vec<String>,
    #[serde(default)]
    pub predicted_surfaces: Vec<String>,
    #[serde(default)]
    pub depends_on_lanes: Vec<String>,
    #[serde(default)]
    pub parallel_group: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollapseReport {
    pub events: Vec<CollapseEvent>,
    pub total_merges: u32,
    pub independent_wps_collapsed: u32,
    pub by_rule: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollapseEvent {
    pub wp_a: String,
    pub wp_b: String,
    pub rule: String,
    pub evidence: String,
}

impl LanesManifest {
    /// Read `lanes.json`; None when the file does not exist.
    pub fn read(path: &Path) -> Result<Option<LanesManifest>> {
        if !path.exists() {
            return Ok(None);
        }
        let text = fsutil::read_to_string(path)?;
        serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::parse(path, Some(e.line()), format!("invalid lanes.json: {e}"))
                .with_hint("re-run `spec-kitty agent mission finalize-tasks` to recompute it")
        })
    }

    /// Write atomically with indent 2 and a trailing newline.
    pub fn write(&self, path: &Path) -> Result<()> {
        fsutil::atomic_write(path, self.render().as_bytes())
    }

    /// The file's text: indent 2 and a trailing newline.
    pub fn render(&self) -> String {
        crate::jsonfmt::pretty(self)
    }

    pub fn lane_for_wp(&self, wp_id: &str) -> Option<&ExecLane> {
        self.lanes
            .iter()
            .find(|l| l.wp_ids.iter().any(|w| w == wp_id))
    }

    /// `<root>/.worktrees/<mission_slug>-<lane_id>`: where a code lane's worktree lives.
    pub fn worktree_path(&self, root: &Path, lane_id: &str) -> std::path::PathBuf {
        worktree_path(root, &self.mission_slug, lane_id)
    }

    /// `kitty/mission-<slug>-<lane_id>`.
    pub fn lane_branch(&self, lane_id: &str) -> String {
        format!("kitty/mission-{}-{lane_id}", self.mission_slug)
    }
}

/// `<root>/.worktrees/<mission_slug>-<lane_id>`.
pub fn worktree_path(root: &Path, mission_slug: &str, lane_id: &str) -> std::path::PathBuf {
    root.join(".worktrees")
        .join(format!("{mission_slug}-{lane_id}"))
}

/// `kitty/mission-<mission_slug>-<lane_id>`.
pub fn lane_branch(mission_slug: &str, lane_id: &str) -> String {
    format!("kitty/mission-{mission_slug}-{lane_id}")
}
