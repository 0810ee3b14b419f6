//! Execution lanes: groups of work packages that run in parallel, each code
//! lane in its own worktree, planning work in the main checkout.
//!
//! * [`plan`] computes lanes.json from the dependency graph, with a [`Strategy`]:
//!   `parallel` (the default, [`parallel`]) finishes a mission in as many steps
//!   as its longest dependency chain; `components` keeps the reference's
//!   grouping (every dependency joins one lane).
//! * [`schedule`] measures a plan: critical path, makespan, lanes, hand-offs.
//! * [`model`] is lanes.json itself, in the reference's schema.

pub mod model;
mod parallel;
pub mod plan;
pub mod schedule;

use std::path::Path;

use serde::Serialize;

pub use model::{CollapseEvent, CollapseReport, ExecLane, LanesManifest, PLANNING_LANE};

use crate::error::{Error, Result};

/// How finalize-tasks groups work packages into lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Lanes follow dependency chains; a WP waits only for its own dependencies
    /// (their approved work is merged into its lane when it starts).
    #[default]
    Parallel,
    /// Every dependency and every write-scope overlap joins one lane, as the
    /// Python reference plans them.
    Components,
}

impl Strategy {
    pub const NAMES: [&'static str; 2] = ["parallel", "components"];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Parallel => "parallel",
            Strategy::Components => "components",
        }
    }

    pub fn parse(s: &str) -> Option<Strategy> {
        match s.trim().to_ascii_lowercase().as_str() {
            "parallel" => Some(Strategy::Parallel),
            "components" => Some(Strategy::Components),
            _ => None,
        }
    }

    /// The project's strategy: `lane_strategy` in `.kittify/config.yaml`, else `parallel`.
    pub fn configured(project: &crate::project::Project) -> Result<Strategy> {
        Ok(
            Strategy::from_config(&project.root.join(crate::init::CONFIG_PATH))?
                .unwrap_or_default(),
        )
    }

    /// `lane_strategy` in `.kittify/config.yaml`, if set.
    pub fn from_config(config: &Path) -> Result<Option<Strategy>> {
        let Ok(text) = std::fs::read_to_string(config) else {
            return Ok(None);
        };
        let doc: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|e| Error::parse(config, e.location().map(|l| l.line()), e.to_string()))?;
        let Some(v) = doc.get("lane_strategy") else {
            return Ok(None);
        };
        let line = text
            .lines()
            .position(|l| l.starts_with("lane_strategy:"))
            .map(|i| i + 1);
        let bad = || {
            Error::parse(
                config,
                line,
                format!(
                    "lane_strategy must be one of {}",
                    Strategy::NAMES.join(", ")
                ),
            )
            .with_hint("`parallel` (the default) or `components` (the Python reference's grouping)")
        };
        match v {
            serde_yaml::Value::Null => Ok(None),
            serde_yaml::Value::String(s) => Strategy::parse(s).map(Some).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}
