//! Operations: one module per user-level verb. Each takes typed input, does the
//! work through the data layers below, and returns a typed outcome; surfaces
//! (`src/cli`, ...) only map input to one operation and render its outcome.

pub mod doctrine;
pub mod glossary;
pub mod mission_type;
pub mod ops_history;
pub mod status_doctor;
pub mod status_emit;
pub mod status_migrate;
pub mod status_validate;
pub mod sync;
