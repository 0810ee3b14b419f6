//! Operations: one module per user-level verb, composed from the data layer
//! (status, lanes, workspace, merge). Surfaces (the CLI, `orchestrator-api`,
//! MCP) map their input to one call here and render its typed outcome.

pub mod orchestrator;
