//! Execution lanes: groups of work packages that run in parallel, each code
//! lane in its own worktree, planning work in the main checkout.
//!
//! * [`plan`] computes lanes.json from the dependency graph, with a [`Strategy`]:
//!   `parallel` (the default, [`parallel`]) finishes a mission in as many steps
//!   as its longest dependency chain; `components` keeps the reference's
//!   grouping (every dependency joins one lane).
//! * [`schedule`] measures a plan: critical path, makespan, lanes, hand-offs.
//! * [`model`] is lanes.json itself, in the reference's schema; [`acting`]
//!   is how a command acting on the lanes reads it, [`memo`] keeps that read
//!   between commands.

pub mod acting;
pub mod memo;
pub mod model;
mod parallel;
pub mod pin;
pub mod plan;
pub mod schedule;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use acting::{ActingLanes, LaneMap};
pub use model::{CollapseEvent, CollapseReport, ExecLane, LanesManifest, PLANNING_LANE};

use crate::error::{Diagnose, Kind};
use crate::fsutil::FsError;
use crate::ids::IdError;

/// Why lanes.json or the lane strategy could not be read, checked or written.
#[derive(Debug, thiserror::Error)]
pub enum LanesError {
    /// `.kittify/config.yaml` cannot be read, or `lane_strategy` in it is
    /// not one of [`Strategy::NAMES`].
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// lanes.json is not JSON in its schema.
    #[error("{}:{line}: invalid lanes.json: {source}", .path.display())]
    ManifestJson {
        path: PathBuf,
        line: usize,
        #[source]
        source: crate::bounds::DocError,
    },
    /// lanes.json names another mission's directory.
    #[error("{}: `mission_slug` is {found:?} but the file is in mission {slug}; it was copied from another mission or the directory was renumbered", .path.display())]
    OtherMissionSlug {
        path: PathBuf,
        found: String,
        slug: String,
    },
    /// lanes.json carries another mission's id.
    #[error("{}: `mission_id` is {found} but meta.json of {slug} says {id}; the file belongs to another mission", .path.display())]
    OtherMissionId {
        path: PathBuf,
        found: String,
        slug: String,
        id: String,
    },
    /// An id in lanes.json does not follow its grammar.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Reading or writing lanes.json failed.
    #[error(transparent)]
    Fs(#[from] FsError),
}

impl Diagnose for LanesError {
    fn kind(&self) -> Kind {
        match self {
            LanesError::Id(e) => e.kind(),
            LanesError::Fs(e) => e.kind(),
            LanesError::Config(e) => e.kind(),
            _ => Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            LanesError::Config(e) => e.hint(),
            LanesError::ManifestJson { .. } => Some(
                "re-run `spec-kitty agent mission finalize-tasks` to recompute it".into(),
            ),
            LanesError::OtherMissionSlug { slug, .. } | LanesError::OtherMissionId { slug, .. } => {
                Some(format!(
                    "lanes.json belongs to its mission's directory; re-run `spec-kitty agent mission finalize-tasks --mission {slug}` to recompute it (nothing was merged, deleted or created)"
                ))
            }
            LanesError::Id(e) => e.hint(),
            LanesError::Fs(e) => e.hint(),
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            LanesError::Id(e) => e.details(),
            LanesError::Fs(e) => e.details(),
            _ => None,
        }
    }
}

type Result<T, E = LanesError> = std::result::Result<T, E>;

/// How finalize-tasks groups work packages into lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
        let config = crate::config::Config::load(&project.root)?;
        let name = config.lane_strategy(
            &Strategy::NAMES,
            "`parallel` (the default) or `components` (the Python reference's grouping)",
        )?;
        Ok(name.and_then(Strategy::parse).unwrap_or_default())
    }
}

/// The branch a mission's work lands on: meta.json's `target_branch`, else the
/// branch lanes.json was computed on, else `main`.
pub fn target_branch<L: LaneMap + ?Sized>(
    mission: &crate::mission::Mission,
    lanes: Option<&L>,
) -> String {
    mission
        .target_branch()
        .map(str::to_string)
        .or_else(|| {
            lanes
                .map(|l| l.target().to_string())
                .filter(|t| !t.is_empty())
        })
        .unwrap_or_else(|| "main".into())
}

/// The tip of the lane branch a code WP works on, if the branch exists:
/// `(branch, commit)`. `repo` is the main checkout's, opened by the command.
pub fn lane_tip_of(
    project: &crate::project::Project,
    repo: &crate::git::Repo,
    mission: &crate::mission::Mission,
    wp_id: &str,
) -> Option<(String, crate::git::Oid)> {
    let lanes = LanesManifest::for_mission_acting(project, mission).ok()??;
    let lane = lanes.lane_for_wp(wp_id)?;
    if lane.lane_id == PLANNING_LANE {
        return None;
    }
    let branch = model::lane_branch(&mission.slug, &lane.lane_id);
    let tip = repo.branch_tip(&branch)?;
    Some((branch, tip))
}

#[cfg(test)]
mod error_tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_bad_manifest_is_typed_and_keeps_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lanes.json");
        std::fs::write(&p, "{\n  \"version\": 1,\n  oops\n}\n").unwrap();
        let e = LanesManifest::read(&p).unwrap_err();
        assert!(
            matches!(e, LanesError::ManifestJson { line: 3, .. }),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .source()
            .unwrap()
            .is::<serde_json::Error>());
        let e = crate::Error::from(e);
        assert!(
            e.message.contains("lanes.json:3: invalid lanes.json: "),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("finalize-tasks"));

        // A hostile id: the id error inside, its hint and details passed through.
        std::fs::write(
            &p,
            r#"{"mission_slug": "001-x", "lanes": [{"lane_id": "../x", "wp_ids": []}]}"#,
        )
        .unwrap();
        let e = LanesManifest::read(&p).unwrap_err();
        assert!(
            matches!(e, LanesError::Id(IdError::Invalid { .. })),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert_eq!(e.details.as_ref().unwrap()["field"], "lanes[0].lane_id");
        assert!(e
            .hint
            .as_deref()
            .unwrap()
            .starts_with("fix `lanes[0].lane_id`"));
        assert!(e.typed::<LanesError>().is_some());
    }

    #[test]
    fn a_bad_strategy_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let p = dir.path().join(crate::config::CONFIG_PATH);
        std::fs::write(&p, "agents: []\nlane_strategy: fastest\n").unwrap();
        let project = crate::project::Project::at(dir.path());
        let p = project.root.join(crate::config::CONFIG_PATH);
        let e = Strategy::configured(&project).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:2: lane_strategy must be one of parallel, components",
                p.display()
            )
        );
        assert!(e.hint().unwrap().starts_with("`parallel` (the default)"));
        std::fs::write(&p, "a: [\n").unwrap();
        let e = Strategy::configured(&project).unwrap_err();
        assert!(
            matches!(
                e,
                LanesError::Config(crate::config::ConfigError::Yaml { .. })
            ),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .source()
            .unwrap()
            .is::<serde_yaml::Error>());
    }
}
