//! Work package status: an append-only event log (`status.events.jsonl`), the
//! transition rules, and the `status.json` snapshot derived from the log.

pub mod cache;
pub mod drivers;
mod error;
pub mod logmerge;
mod model;
pub mod ops;
mod packed;
pub mod reduce;
pub mod store;
pub mod transitions;
pub mod unmerged;
pub mod work;
pub mod wpmerge;

pub use error::StatusError;
pub use model::{EventFields, FoldEvent, Lane, RawEvent, StatusEvent, LANES};
pub use reduce::{reduce, reduce_events, reduce_pieces, LaneLookup, Snapshot, WpState};
pub use store::{EventLog, LogWarning, Roles, StatusStore, Transition};
pub use transitions::{allowed_targets, route, validate, TransitionContext, LIFECYCLE};
