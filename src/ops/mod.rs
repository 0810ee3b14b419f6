//! Operations: one module per user-level verb, composed from the data layer
//! (status, lanes, workspace, merge). Surfaces (the CLI, `orchestrator-api`,
//! MCP) map their input to one call here and render its typed outcome.

pub mod accept;
pub mod agent_config;
pub mod auto_commit;
pub mod board;
pub mod charter;
pub mod config_show;
pub mod context;
pub mod context_store;
pub mod delete;
pub mod doctor;
pub mod doctrine;
pub mod encoding;
pub mod finalize;
pub mod glossary;
pub mod implement;
pub mod legacy_lanes;
pub mod mark_status;
pub mod materialize;
pub mod merge;
pub mod merge_cleanup;
pub mod merge_driver;
pub mod migrate;
pub mod mission_type;
pub mod missions;
pub mod move_task;
pub mod next;
pub mod ops_history;
pub mod orchestrator;
pub mod prereq;
pub mod release;
pub mod repair;
pub mod repair_status;
pub mod requirements;
pub mod review;
pub mod setup_plan;
pub mod stale;
pub mod stale_check;
pub mod status_doctor;
pub mod status_emit;
pub mod status_migrate;
pub mod status_validate;
pub mod sync;
pub mod team_sync;
pub mod upgrade;
pub mod validate;
pub mod verify_setup;

use crate::error::Diagnose;

/// The error of an operation that composes several data modules: the typed
/// error of the module that failed, kept whole. Its message is that error's
/// text; kind (exit code), hint and `--json` details are its own.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Mission(Box<crate::mission::MissionError>),
    #[error(transparent)]
    Status(Box<crate::status::StatusError>),
    #[error(transparent)]
    Lanes(Box<crate::lanes::LanesError>),
    #[error(transparent)]
    Tasks(Box<crate::tasks_md::TasksError>),
    #[error(transparent)]
    Workspace(Box<crate::workspace::WorkspaceError>),
    #[error(transparent)]
    Git(Box<crate::git::GitError>),
}

crate::error::wraps!(OpError {
    Mission(crate::mission::MissionError),
    Status(crate::status::StatusError),
    Lanes(crate::lanes::LanesError),
    Tasks(crate::tasks_md::TasksError),
    Workspace(crate::workspace::WorkspaceError),
    Git(crate::git::GitError),
});

impl Diagnose for OpError {
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            OpError::Mission(e) => e.as_ref(),
            OpError::Status(e) => e.as_ref(),
            OpError::Lanes(e) => e.as_ref(),
            OpError::Tasks(e) => e.as_ref(),
            OpError::Workspace(e) => e.as_ref(),
            OpError::Git(e) => e.as_ref(),
        })
    }
}

/// The failures of the ground floor reach an operation's caller as the mission
/// error they always were (same message, kind and hint).
macro_rules! through_mission {
    ($($t:ty),*) => {$(
        impl From<$t> for OpError {
            fn from(e: $t) -> Self {
                OpError::from(crate::mission::MissionError::from(e))
            }
        }
    )*};
}
through_mission!(
    crate::fsutil::LockError,
    crate::fsutil::FsError,
    crate::confine::ConfineError,
    crate::ids::IdError
);
