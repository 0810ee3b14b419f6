use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The nine lanes a work package moves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Planned,
    Claimed,
    InProgress,
    ForReview,
    InReview,
    Approved,
    Done,
    Blocked,
    Canceled,
}

/// All lanes, in canonical order.
pub const LANES: [Lane; 9] = [
    Lane::Planned,
    Lane::Claimed,
    Lane::InProgress,
    Lane::ForReview,
    Lane::InReview,
    Lane::Approved,
    Lane::Done,
    Lane::Blocked,
    Lane::Canceled,
];

impl Lane {
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Planned => "planned",
            Lane::Claimed => "claimed",
            Lane::InProgress => "in_progress",
            Lane::ForReview => "for_review",
            Lane::InReview => "in_review",
            Lane::Approved => "approved",
            Lane::Done => "done",
            Lane::Blocked => "blocked",
            Lane::Canceled => "canceled",
        }
    }

    /// Parse user input: trimmed, case-insensitive, `doing` means in_progress,
    /// `-` and spaces are accepted for `_`.
    pub fn parse(s: &str) -> Result<Lane> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match norm.as_str() {
            "planned" => Lane::Planned,
            "claimed" => Lane::Claimed,
            "in_progress" | "doing" => Lane::InProgress,
            "for_review" => Lane::ForReview,
            "in_review" => Lane::InReview,
            "approved" => Lane::Approved,
            "done" => Lane::Done,
            "blocked" => Lane::Blocked,
            "canceled" | "cancelled" => Lane::Canceled,
            _ => {
                return Err(
                    Error::user(format!("unknown lane {s:?}")).with_hint(format!(
                        "lanes are: {} (and `doing` for in_progress)",
                        LANES
                            .iter()
                            .map(|l| l.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                )
            }
        })
    }

    /// Terminal lanes: nothing moves out of them without `--force`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Lane::Done | Lane::Canceled)
    }

    /// Weight of the lane in weighted progress (the reference's weights).
    pub fn progress_weight(self) -> f64 {
        match self {
            Lane::Planned => 0.0,
            Lane::Claimed => 0.05,
            Lane::InProgress => 0.3,
            Lane::ForReview => 0.6,
            Lane::InReview => 0.7,
            Lane::Approved => 0.8,
            Lane::Done => 1.0,
            Lane::Blocked | Lane::Canceled => 0.0,
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of `status.events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub event_id: String,
    #[serde(default, alias = "feature_slug")]
    pub mission_slug: String,
    pub wp_id: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub at: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub force: bool,
    #[serde(default = "default_execution_mode")]
    pub execution_mode: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub review_ref: Option<String>,
    #[serde(default)]
    pub evidence: Option<Value>,
    #[serde(default)]
    pub policy_metadata: Option<Value>,
    /// Keys we do not know, kept so a rewrite loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn default_execution_mode() -> String {
    "worktree".to_string()
}

impl StatusEvent {
    /// The event as the reference writes it: sorted keys, Python separators, one line.
    pub fn to_line(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        crate::jsonfmt::py_line(&crate::jsonfmt::sorted(&v))
    }
}
