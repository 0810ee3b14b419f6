//! `lanes.json`, in the reference's schema and key order.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{LanesError, Result};
use crate::fsutil;
use crate::ids::{self, IdKind};
use crate::mission::Mission;

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
        let Ok(md) = std::fs::metadata(path) else {
            return Ok(None);
        };
        // A command reads lanes.json several times (the pick, the
        // workspace, the claim's re-check): the same file is parsed once.
        let stamp = fsutil::file_stamp(&md);
        if let Some(known) = remembered(path, stamp) {
            return Ok(Some(known));
        }
        let text = fsutil::read_to_string(path)?;
        let manifest = Self::parse(path, &text)?;
        if std::fs::metadata(path).is_ok_and(|m| fsutil::file_stamp(&m) == stamp) {
            remember(path, stamp, &manifest);
        }
        Ok(Some(manifest))
    }

    /// Parse and check the text of `lanes.json` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<LanesManifest> {
        let manifest: LanesManifest =
            crate::bounds::json(text).map_err(|source| LanesError::ManifestJson {
                path: path.to_path_buf(),
                line: source.line().unwrap_or(1),
                source,
            })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    /// Read the mission's `lanes.json` and check that it is this mission's: its
    /// `mission_slug` is the directory's name and its `mission_id` (when both
    /// sides have one) is meta.json's. A manifest copied from another mission,
    /// or left behind by a renumbered directory, is refused, never acted on.
    pub fn for_mission(mission: &Mission) -> Result<Option<LanesManifest>> {
        let path = mission.lanes_file();
        let Some(manifest) = Self::read(&path)? else {
            return Ok(None);
        };
        manifest.check_belongs_to(mission, &path)?;
        Ok(Some(manifest))
    }

    /// Every id in the manifest follows its grammar ([`crate::ids`]): the
    /// mission slug, lane ids, WP ids and branch names build paths and refs.
    pub fn validate(&self, path: &Path) -> Result<()> {
        ids::check(
            IdKind::MissionSlug,
            &self.mission_slug,
            path,
            "mission_slug",
        )?;
        for (field, value) in [
            ("mission_branch", &self.mission_branch),
            ("target_branch", &self.target_branch),
        ] {
            if !value.is_empty() {
                ids::check(IdKind::Branch, value, path, field)?;
            }
        }
        for (i, lane) in self.lanes.iter().enumerate() {
            ids::check(
                IdKind::Lane,
                &lane.lane_id,
                path,
                &format!("lanes[{i}].lane_id"),
            )?;
            for (j, wp) in lane.wp_ids.iter().enumerate() {
                ids::check(IdKind::Wp, wp, path, &format!("lanes[{i}].wp_ids[{j}]"))?;
            }
            for (j, dep) in lane.depends_on_lanes.iter().enumerate() {
                ids::check(
                    IdKind::Lane,
                    dep,
                    path,
                    &format!("lanes[{i}].depends_on_lanes[{j}]"),
                )?;
            }
        }
        for (i, wp) in self.planning_artifact_wps.iter().enumerate() {
            ids::check(IdKind::Wp, wp, path, &format!("planning_artifact_wps[{i}]"))?;
        }
        Ok(())
    }

    /// The manifest names `mission` (slug and, when both have one, mission_id).
    pub fn check_belongs_to(&self, mission: &Mission, path: &Path) -> Result<()> {
        if self.mission_slug != mission.slug {
            return Err(LanesError::OtherMissionSlug {
                path: path.to_path_buf(),
                found: self.mission_slug.clone(),
                slug: mission.slug.clone(),
            });
        }
        if let Some(id) = mission.mission_id() {
            if !self.mission_id.is_empty() && self.mission_id != id {
                return Err(LanesError::OtherMissionId {
                    path: path.to_path_buf(),
                    found: self.mission_id.clone(),
                    slug: mission.slug.clone(),
                    id: id.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Write atomically with indent 2 and a trailing newline.
    pub fn write(&self, path: &Path) -> Result<()> {
        Ok(fsutil::atomic_write(path, self.render().as_bytes())?)
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

/// The lanes.json this process last read and validated, with the stamp of
/// its file ([`fsutil::file_stamp`]); a file with another stamp is read again.
static READ: std::sync::Mutex<Option<(std::path::PathBuf, fsutil::FileStamp, LanesManifest)>> =
    std::sync::Mutex::new(None);

fn remember(path: &Path, stamp: fsutil::FileStamp, manifest: &LanesManifest) {
    if let Ok(mut m) = READ.lock() {
        *m = Some((path.to_path_buf(), stamp, manifest.clone()));
    }
}

fn remembered(path: &Path, stamp: fsutil::FileStamp) -> Option<LanesManifest> {
    let m = READ.lock().ok()?;
    m.as_ref()
        .filter(|(p, st, _)| p == path && *st == stamp)
        .map(|(_, _, manifest)| manifest.clone())
}
