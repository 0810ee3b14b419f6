//! Execution lanes: groups of work packages that run in parallel, each code
//! lane in its own worktree, planning work in the main checkout.

pub mod model;
pub mod plan;

pub use model::{CollapseEvent, CollapseReport, ExecLane, LanesManifest, PLANNING_LANE};
