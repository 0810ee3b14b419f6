//! Operations: one module per user-level verb, composed from the data layer
//! (status, lanes, workspace, merge). Surfaces (the CLI, `orchestrator-api`,
//! MCP) map their input to one call here and render its typed outcome.

pub mod doctrine;
pub mod glossary;
pub mod merge_cleanup;
pub mod mission_type;
pub mod ops_history;
pub mod orchestrator;
pub mod status_doctor;
pub mod status_emit;
pub mod status_migrate;
pub mod status_validate;
pub mod sync;
