//! The orchestrator contract (`spec-kitty orchestrator-api`, contract 1.0.0 of
//! the reference): one function per verb, each taking the project and a typed
//! request and returning a typed outcome that serialises to exactly the
//! contract's `data` object, or an [`OrchError`] carrying the contract's error
//! code. The CLI surface and the MCP server both call these; every guard lives
//! in the core operations they reuse (`workspace::action::implement`,
//! `status::ops::move_wp`, `merge::accept`, `merge::merge`).
//!
//! Where one orchestrator identity does both roles, the role a verb plays
//! stands in for the actor: with a policy, the implementer is recorded as
//! `<actor>:<agent_family>:implementer` and the reviewer as
//! `<actor>:<agent_family>:reviewer`, so the orchestrator's distinct
//! implementation and review agents are not refused as self-review, while the
//! guards themselves (a commit on the lane since the claim before hand-in, an
//! approval before done) hold even with `--force`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Diagnose;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::MoveRequest;
use crate::status::{Lane, Snapshot, StatusStore};

/// The contract version this host speaks.
pub const CONTRACT_VERSION: &str = "1.0.0";
/// The oldest provider (orchestrator) version this host accepts.
pub const MIN_PROVIDER_VERSION: &str = "0.1.0";
/// The largest `--policy` document accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 16 * 1024;
/// The longest actor or agent name accepted, in characters.
const MAX_ACTOR_CHARS: usize = 200;
/// The longest note accepted, in bytes.
const MAX_NOTE_BYTES: usize = 16 * 1024;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The contract's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Usage,
    PolicyMetadataRequired,
    PolicyValidationFailed,
    MissionNotFound,
    WpNotFound,
    TransitionRejected,
    WpAlreadyClaimed,
    MissionNotReady,
    PreflightFailed,
    ContractVersionMismatch,
    UnsupportedStrategy,
    /// Not in the contract: something failed that no code above describes
    /// (an unreadable file, a git failure). The message says what.
    Internal,
}

impl ErrorCode {
    /// Every code, in the order the contract lists them.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Usage,
        ErrorCode::PolicyMetadataRequired,
        ErrorCode::PolicyValidationFailed,
        ErrorCode::MissionNotFound,
        ErrorCode::WpNotFound,
        ErrorCode::TransitionRejected,
        ErrorCode::WpAlreadyClaimed,
        ErrorCode::MissionNotReady,
        ErrorCode::PreflightFailed,
        ErrorCode::ContractVersionMismatch,
        ErrorCode::UnsupportedStrategy,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Usage => "USAGE_ERROR",
            ErrorCode::PolicyMetadataRequired => "POLICY_METADATA_REQUIRED",
            ErrorCode::PolicyValidationFailed => "POLICY_VALIDATION_FAILED",
            ErrorCode::MissionNotFound => "MISSION_NOT_FOUND",
            ErrorCode::WpNotFound => "WP_NOT_FOUND",
            ErrorCode::TransitionRejected => "TRANSITION_REJECTED",
            ErrorCode::WpAlreadyClaimed => "WP_ALREADY_CLAIMED",
            ErrorCode::MissionNotReady => "MISSION_NOT_READY",
            ErrorCode::PreflightFailed => "PREFLIGHT_FAILED",
            ErrorCode::ContractVersionMismatch => "CONTRACT_VERSION_MISMATCH",
            ErrorCode::UnsupportedStrategy => "UNSUPPORTED_STRATEGY",
            ErrorCode::Internal => "INTERNAL_ERROR",
        }
    }
}

/// A refused or failed verb: its contract error code, a message, and the
/// contract's `data` object when it is more than `{"message": ...}`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct OrchError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Map<String, Value>>,
}

impl OrchError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> OrchError {
        OrchError {
            code,
            message: message.into(),
            details: None,
        }
    }

    fn with(code: ErrorCode, message: impl Into<String>, details: Value) -> OrchError {
        OrchError {
            code,
            message: message.into(),
            details: match details {
                Value::Object(m) => Some(m),
                _ => None,
            },
        }
    }

    /// The contract's error code, e.g. `WP_NOT_FOUND`.
    pub fn error_code(&self) -> &'static str {
        self.code.as_str()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The envelope's `data` on failure: the details, else `{"message": ...}`.
    pub fn data(&self) -> Value {
        match &self.details {
            Some(m) => Value::Object(m.clone()),
            None => serde_json::json!({ "message": self.message }),
        }
    }

    /// A usage error of the surface (bad flag values, unparsable JSON).
    pub fn usage(message: impl Into<String>) -> OrchError {
        OrchError::new(ErrorCode::Usage, message)
    }
}

/// An error of a core operation, with its hint, as one line.
fn describe(e: &dyn Diagnose) -> String {
    let msg = e.message();
    match e.hint() {
        Some(h) if !h.is_empty() => format!("{msg} ({h})"),
        _ => msg,
    }
}

impl From<crate::status::StatusError> for OrchError {
    fn from(e: crate::status::StatusError) -> OrchError {
        use crate::status::StatusError as S;
        if let S::Refused { command, .. } = &e {
            // The CLI's hint offers --force --reason; here --force (with
            // --note) skips only the table, never the hand-in or approval.
            return OrchError::new(
                ErrorCode::TransitionRejected,
                format!("{} ({command})", e.message()),
            );
        }
        let code = match &e {
            S::NoSuchWp { .. } => ErrorCode::WpNotFound,
            S::Refused { .. } | S::ForceWithoutReason => ErrorCode::TransitionRejected,
            S::UnknownLane { .. } => ErrorCode::Usage,
            _ => ErrorCode::Internal,
        };
        OrchError::new(code, describe(&e))
    }
}

impl From<crate::workspace::WorkspaceError> for OrchError {
    fn from(e: crate::workspace::WorkspaceError) -> OrchError {
        use crate::workspace::WorkspaceError as W;
        match e {
            W::Status(s) => s.into(),
            other => {
                let code = match &other {
                    W::ClaimedBy { .. } | W::ClaimedJustNow { .. } | W::TakenForReview { .. } => {
                        ErrorCode::WpAlreadyClaimed
                    }
                    W::Waiting { .. }
                    | W::NotPlanned { .. }
                    | W::NothingReady { .. }
                    | W::NotForReview { .. }
                    | W::NothingToReview { .. } => ErrorCode::TransitionRejected,
                    W::NoLanes { .. } => ErrorCode::MissionNotReady,
                    _ => ErrorCode::Internal,
                };
                OrchError::new(code, describe(&other))
            }
        }
    }
}

impl From<crate::merge::MergeError> for OrchError {
    fn from(e: crate::merge::MergeError) -> OrchError {
        OrchError::new(ErrorCode::PreflightFailed, describe(&e))
    }
}

impl From<crate::mission::MissionError> for OrchError {
    fn from(e: crate::mission::MissionError) -> OrchError {
        OrchError::new(ErrorCode::Internal, describe(&e))
    }
}

impl From<crate::tasks_md::TasksError> for OrchError {
    fn from(e: crate::tasks_md::TasksError) -> OrchError {
        OrchError::new(ErrorCode::Internal, describe(&e))
    }
}

impl From<crate::config::ConfigError> for OrchError {
    fn from(e: crate::config::ConfigError) -> OrchError {
        OrchError::new(ErrorCode::PreflightFailed, describe(&e))
    }
}

impl From<crate::lanes::LanesError> for OrchError {
    fn from(e: crate::lanes::LanesError) -> OrchError {
        OrchError::new(ErrorCode::MissionNotReady, describe(&e))
    }
}

pub type Result<T, E = OrchError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    FullAuto,
    Interactive,
    Supervised,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    WorkspaceWrite,
    ReadOnly,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    Allowlist,
    None,
    Open,
}

/// An orchestrator's run policy (`--policy`), validated: every field present
/// and typed, the modes from their enumerations, nothing that looks like a
/// secret. Serialises to the object recorded with the events
/// (`policy_metadata`), field for field the reference's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub orchestrator_id: String,
    pub orchestrator_version: String,
    pub agent_family: String,
    pub approval_mode: ApprovalMode,
    pub sandbox_mode: SandboxMode,
    pub network_mode: NetworkMode,
    pub dangerous_flags: Vec<String>,
    pub tool_restrictions: Option<String>,
}

const REQUIRED_POLICY_FIELDS: [&str; 7] = [
    "orchestrator_id",
    "orchestrator_version",
    "agent_family",
    "approval_mode",
    "sandbox_mode",
    "network_mode",
    "dangerous_flags",
];

const SECRET_WORDS: [&str; 5] = ["token", "secret", "key", "password", "credential"];

fn looks_secret(s: &str) -> bool {
    let lower = s.to_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// The first string inside `v` (at any depth) that looks like a secret.
fn secret_in(v: &Value) -> bool {
    match v {
        Value::String(s) => looks_secret(s),
        Value::Array(a) => a.iter().any(secret_in),
        Value::Object(m) => m.values().any(secret_in),
        _ => false,
    }
}

fn policy_error(message: impl Into<String>) -> OrchError {
    OrchError::new(ErrorCode::PolicyValidationFailed, message)
}

impl Policy {
    /// Parse and validate a `--policy` document.
    pub fn parse(raw: &str) -> Result<Policy> {
        if raw.len() > MAX_POLICY_BYTES {
            return Err(policy_error(format!(
                "--policy is {} bytes; at most {MAX_POLICY_BYTES} are accepted",
                raw.len()
            )));
        }
        let value: Value = crate::bounds::json(raw)
            .map_err(|e| policy_error(format!("--policy is not valid JSON: {e}")))?;
        Policy::from_value(&value)
    }

    /// Validate an already-parsed policy object (the MCP surface's input).
    pub fn from_value(value: &Value) -> Result<Policy> {
        let Value::Object(map) = value else {
            return Err(policy_error("--policy must be a JSON object"));
        };
        for f in REQUIRED_POLICY_FIELDS {
            if !map.contains_key(f) {
                return Err(policy_error(format!(
                    "--policy missing required field: '{f}'"
                )));
            }
        }
        if !map["dangerous_flags"].is_array() {
            return Err(policy_error(
                "--policy.dangerous_flags must be a JSON array",
            ));
        }
        for (k, v) in map {
            if secret_in(v) {
                return Err(policy_error(format!(
                    "--policy field '{k}' appears to contain a secret (matched pattern: token|secret|key|password|credential). Do not pass secrets via --policy."
                )));
            }
        }
        let text = |f: &str| -> Result<String> {
            match &map[f] {
                Value::String(s) if !s.trim().is_empty() && !s.chars().any(char::is_control) => {
                    if s.chars().count() > MAX_ACTOR_CHARS {
                        Err(policy_error(format!(
                            "--policy field '{f}' is longer than {MAX_ACTOR_CHARS} characters"
                        )))
                    } else {
                        Ok(s.clone())
                    }
                }
                _ => Err(policy_error(format!(
                    "--policy field '{f}' must be a non-empty string without control characters"
                ))),
            }
        };
        fn mode<T: serde::de::DeserializeOwned>(
            map: &Map<String, Value>,
            f: &str,
            allowed: &str,
        ) -> Result<T> {
            serde_json::from_value(map[f].clone()).map_err(|_| {
                policy_error(format!(
                    "--policy field '{f}' must be one of {allowed} (got {})",
                    map[f]
                ))
            })
        }
        let mut dangerous_flags = Vec::new();
        for flag in map["dangerous_flags"].as_array().into_iter().flatten() {
            match flag {
                Value::String(s) if !s.chars().any(char::is_control) => {
                    dangerous_flags.push(s.clone())
                }
                _ => {
                    return Err(policy_error(
                        "--policy.dangerous_flags must be an array of strings",
                    ))
                }
            }
        }
        let tool_restrictions = match map.get("tool_restrictions") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(policy_error(
                    "--policy field 'tool_restrictions' must be a string or null",
                ))
            }
        };
        Ok(Policy {
            orchestrator_id: text("orchestrator_id")?,
            orchestrator_version: text("orchestrator_version")?,
            agent_family: text("agent_family")?,
            approval_mode: mode(map, "approval_mode", "full_auto, interactive, supervised")?,
            sandbox_mode: mode(map, "sandbox_mode", "workspace_write, read_only, none")?,
            network_mode: mode(map, "network_mode", "allowlist, none, open")?,
            dangerous_flags,
            tool_restrictions,
        })
    }

    /// The object recorded with the events.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The role a verb plays in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActingRole {
    Implementer,
    Reviewer,
    /// Neither (blocking, canceling, merging): the actor as given.
    Other,
}

/// Who a verb records as the actor: with a policy, the orchestrator's agent in
/// the verb's role (`<actor>:<agent_family>:implementer|reviewer`); the actor
/// as given otherwise.
pub fn acting_as(actor: &str, policy: Option<&Policy>, role: ActingRole) -> String {
    match (policy, role) {
        (Some(p), ActingRole::Implementer) => format!("{actor}:{}:implementer", p.agent_family),
        (Some(p), ActingRole::Reviewer) => format!("{actor}:{}:reviewer", p.agent_family),
        _ => actor.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Requests and outcomes
// ---------------------------------------------------------------------------

/// `mission_slug`, `mission_number`, `mission_type`: the head of every
/// mission-scoped `data` object.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MissionIdentity {
    pub mission_slug: String,
    pub mission_number: String,
    pub mission_type: String,
}

#[derive(Debug, Clone, Default)]
pub struct ContractVersionRequest {
    pub provider_version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContractVersionOutcome {
    pub api_version: String,
    pub min_supported_provider_version: String,
}

#[derive(Debug, Clone)]
pub struct MissionRequest {
    pub mission: String,
}

/// Lane counts in the reference's order.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LaneSummary {
    pub planned: usize,
    pub claimed: usize,
    pub in_progress: usize,
    pub for_review: usize,
    pub in_review: usize,
    pub approved: usize,
    pub done: usize,
    pub blocked: usize,
    pub canceled: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct WpStateOut {
    pub wp_id: String,
    pub lane: Lane,
    pub dependencies: Vec<String>,
    pub last_actor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissionStateOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub summary: LaneSummary,
    pub work_packages: Vec<WpStateOut>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReadyWp {
    pub wp_id: String,
    pub lane: Lane,
    pub dependencies_satisfied: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListReadyOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub ready_work_packages: Vec<ReadyWp>,
}

#[derive(Debug, Clone)]
pub struct StartImplementationRequest {
    pub mission: String,
    pub wp: String,
    pub actor: String,
    pub policy: Option<Policy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StartImplementationOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub wp_id: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    /// The lane worktree, created as `agent action implement` creates it.
    pub workspace_path: String,
    /// The WP file: the agent's prompt.
    pub prompt_path: String,
    pub policy_metadata_recorded: bool,
    pub no_op: bool,
}

#[derive(Debug, Clone)]
pub struct StartReviewRequest {
    pub mission: String,
    pub wp: String,
    pub actor: String,
    pub policy: Option<Policy>,
    pub review_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StartReviewOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub wp_id: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub prompt_path: String,
    pub policy_metadata_recorded: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TransitionRequest {
    pub mission: String,
    pub wp: String,
    /// The target lane as given (aliases such as `doing` are accepted).
    pub to: String,
    pub actor: String,
    pub note: Option<String>,
    pub policy: Option<Policy>,
    pub force: bool,
    pub review_ref: Option<String>,
    /// `--evidence-json`, parsed; must be an object.
    pub evidence: Option<Value>,
    pub subtasks_complete: Option<bool>,
    pub implementation_evidence_present: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransitionOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub wp_id: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub policy_metadata_recorded: bool,
}

#[derive(Debug, Clone)]
pub struct AppendHistoryRequest {
    pub mission: String,
    pub wp: String,
    pub actor: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppendHistoryOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub wp_id: String,
    pub history_entry_id: String,
}

#[derive(Debug, Clone)]
pub struct AcceptMissionRequest {
    pub mission: String,
    pub actor: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcceptMissionOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub accepted: bool,
    pub mode: String,
    pub accepted_at: String,
}

#[derive(Debug, Clone)]
pub struct MergeMissionRequest {
    pub mission: String,
    pub target: Option<String>,
    /// `merge`, `squash` or `rebase`.
    pub strategy: String,
    pub push: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MergeMissionOutcome {
    #[serde(flatten)]
    pub mission: MissionIdentity,
    pub merged: bool,
    pub target_branch: String,
    pub strategy: String,
    /// Every WP whose lane landed (the published orchestrator's client reads it).
    pub merged_wps: Vec<String>,
    pub worktree_removed: bool,
}

// ---------------------------------------------------------------------------
// Shared steps
// ---------------------------------------------------------------------------

fn check_actor(actor: &str) -> Result<()> {
    if actor.trim().is_empty()
        || actor.chars().any(char::is_control)
        || actor.chars().count() > MAX_ACTOR_CHARS
    {
        return Err(OrchError::usage(format!(
            "--actor must be a non-empty name of at most {MAX_ACTOR_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

fn check_text(flag: &str, text: &str) -> Result<()> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(OrchError::usage(format!(
            "{flag} is {} bytes; at most {MAX_NOTE_BYTES} are accepted",
            text.len()
        )));
    }
    Ok(())
}

/// `text` on one line: control characters (newlines included) become spaces,
/// so a note cannot forge lines of the WP file's activity log.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The largest `--evidence-json` object accepted, serialised, in bytes.
const MAX_EVIDENCE_BYTES: usize = 64 * 1024;

fn not_found(mission: &str) -> OrchError {
    OrchError::new(
        ErrorCode::MissionNotFound,
        format!("Mission '{mission}' not found in kitty-specs/"),
    )
}

/// The mission named exactly `slug` (the contract takes the directory name).
pub fn find_mission(project: &Project, slug: &str) -> Result<Mission> {
    if !crate::ids::is_mission_slug(slug) {
        return Err(not_found(slug));
    }
    if !project.specs_dir().join(slug).is_dir() {
        return Err(not_found(slug));
    }
    match crate::mission::resolve(project, crate::mission::Selector::Given(slug)) {
        Ok(m) if m.slug == slug => Ok(m),
        Ok(_) => Err(not_found(slug)),
        Err(e) => Err(e.into()),
    }
}

pub fn identity(mission: &Mission) -> MissionIdentity {
    let number = mission
        .meta_str("mission_number")
        .map(str::to_string)
        .or_else(|| mission.number.clone())
        .unwrap_or_default();
    MissionIdentity {
        mission_slug: mission.slug.clone(),
        mission_number: number,
        mission_type: mission.mission_type().to_string(),
    }
}

/// The WP file of `wp` (exact id, as the contract names it).
fn find_wp(mission: &Mission, wp: &str) -> Result<crate::tasks_md::WpFile> {
    let missing = || {
        OrchError::new(
            ErrorCode::WpNotFound,
            format!("Work package '{wp}' not found in {}", mission.slug),
        )
    };
    if !crate::ids::is_wp_id(wp) {
        return Err(missing());
    }
    match crate::status::ops::find_wp(mission, wp) {
        Ok(f) if f.id == wp => Ok(f),
        Ok(_) | Err(crate::status::StatusError::NoSuchWp { .. }) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// The mission's state and each WP's roles from the saved fold plus the
/// lines appended since (never the whole log; `status.json` left as it is).
fn snapshot(
    project: &Project,
    mission: &Mission,
) -> Result<(
    Snapshot,
    std::collections::BTreeMap<String, crate::status::Roles>,
)> {
    Ok(StatusStore::for_mission(project, mission).state()?)
}

fn require_policy(policy: Option<&Policy>, what: &str) -> Result<Value> {
    policy.map(Policy::to_value).ok_or_else(|| {
        OrchError::new(
            ErrorCode::PolicyMetadataRequired,
            format!("--policy is required {what}"),
        )
    })
}

// ---------------------------------------------------------------------------
// The verbs
// ---------------------------------------------------------------------------

/// `contract-version`: the contract this host speaks; with a provider version,
/// refuses one below [`MIN_PROVIDER_VERSION`] or one that is no version.
pub fn contract_version(req: &ContractVersionRequest) -> Result<ContractVersionOutcome> {
    if let Some(given) = &req.provider_version {
        let min = semver::Version::new(0, 1, 0);
        match parse_version(given) {
            Some(v) if v >= min => {}
            Some(_) => {
                return Err(OrchError::with(
                    ErrorCode::ContractVersionMismatch,
                    format!("Provider version '{given}' is below minimum '{MIN_PROVIDER_VERSION}'"),
                    serde_json::json!({
                        "provider_version": given,
                        "min_supported_provider_version": MIN_PROVIDER_VERSION,
                        "api_version": CONTRACT_VERSION,
                    }),
                ))
            }
            None => {
                return Err(OrchError::with(
                    ErrorCode::ContractVersionMismatch,
                    format!("Provider version '{given}' is not a valid version string"),
                    serde_json::json!({ "provider_version": given }),
                ))
            }
        }
    }
    Ok(ContractVersionOutcome {
        api_version: CONTRACT_VERSION.into(),
        min_supported_provider_version: MIN_PROVIDER_VERSION.into(),
    })
}

/// A version as the reference's PEP 440 parser reads the common forms:
/// `1`, `1.2`, `1.2.3`, with an optional leading `v` (pre-release and local
/// suffixes are not accepted).
fn parse_version(s: &str) -> Option<semver::Version> {
    let t = s.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    let parts: Vec<&str> = t.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        nums[i] = p.parse().ok()?;
    }
    Some(semver::Version::new(nums[0], nums[1], nums[2]))
}

/// `mission-state`: every WP (task files, the dependency graph and the log),
/// its lane, dependencies and the actor of its last event.
pub fn mission_state(project: &Project, req: &MissionRequest) -> Result<MissionStateOutcome> {
    let mission = find_mission(project, &req.mission)?;
    let (snap, _) = snapshot(project, &mission)?;
    let graph = dependency_graph(&mission)?;
    let mut ids: std::collections::BTreeSet<String> = graph.keys().cloned().collect();
    ids.extend(snap.work_packages.keys().cloned());
    let mut summary = LaneSummary::default();
    for (lane, n) in &snap.summary {
        let slot = match *lane {
            "planned" => &mut summary.planned,
            "claimed" => &mut summary.claimed,
            "in_progress" => &mut summary.in_progress,
            "for_review" => &mut summary.for_review,
            "in_review" => &mut summary.in_review,
            "approved" => &mut summary.approved,
            "done" => &mut summary.done,
            "blocked" => &mut summary.blocked,
            "canceled" => &mut summary.canceled,
            _ => continue,
        };
        *slot = *n;
    }
    let work_packages = ids
        .into_iter()
        .map(|id| {
            let state = snap.work_packages.get(&id);
            WpStateOut {
                lane: state.map(|s| s.lane).unwrap_or(Lane::Planned),
                dependencies: graph.get(&id).cloned().unwrap_or_default(),
                last_actor: state.map(|s| s.actor.clone()).filter(|a| !a.is_empty()),
                wp_id: id,
            }
        })
        .collect();
    Ok(MissionStateOutcome {
        mission: identity(&mission),
        summary,
        work_packages,
    })
}

/// Each WP file's id and its dependencies, in id order.
fn dependency_graph(mission: &Mission) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
    let dir = mission.tasks_dir();
    if !dir.is_dir() {
        return Ok(Default::default());
    }
    Ok(crate::tasks_md::load_all(&dir)?
        .into_iter()
        .map(|f| {
            let deps = f.dependencies();
            (f.id, deps)
        })
        .collect())
}

/// `list-ready`: planned WPs whose dependencies are all done.
///
/// A WP that shares its lane worktree with a WP still being worked on is not
/// ready either: `start-implementation` would refuse it until that one is
/// approved.
pub fn list_ready(project: &Project, req: &MissionRequest) -> Result<ListReadyOutcome> {
    let mission = find_mission(project, &req.mission)?;
    let (snap, _) = snapshot(project, &mission)?;
    let lanes = crate::lanes::LanesManifest::for_mission(&mission)?;
    let dir = mission.tasks_dir();
    let files = if dir.is_dir() {
        crate::tasks_md::load_all(&dir)?
    } else {
        Vec::new()
    };
    let mut ready = Vec::new();
    for f in &files {
        let lane = snap.lane_of(&f.id).unwrap_or(Lane::Planned);
        if lane != Lane::Planned {
            continue;
        }
        let deps_done = f
            .dependencies()
            .iter()
            .all(|d| snap.lane_of(d) == Some(Lane::Done));
        let free = lanes
            .as_ref()
            .is_none_or(|l| crate::workspace::handoff::wait_reason(l, &snap, f).is_none());
        if deps_done && free {
            ready.push(ReadyWp {
                wp_id: f.id.clone(),
                lane,
                dependencies_satisfied: true,
            });
        }
    }
    Ok(ListReadyOutcome {
        mission: identity(&mission),
        ready_work_packages: ready,
    })
}

/// `start-implementation`: planned -> claimed -> in_progress in one call
/// (idempotent for the same actor), handing out the WP's real lane worktree
/// as `agent action implement` creates it (with the approved work of every
/// dependency merged in).
pub fn start_implementation(
    project: &Project,
    req: &StartImplementationRequest,
) -> Result<StartImplementationOutcome> {
    let policy = require_policy(req.policy.as_ref(), "for start-implementation")?;
    check_actor(&req.actor)?;
    let mission = find_mission(project, &req.mission)?;
    let file = find_wp(&mission, &req.wp)?;
    let me = acting_as(&req.actor, req.policy.as_ref(), ActingRole::Implementer);
    let (snap, roles) = snapshot(project, &mission)?;
    let from = snap.lane_of(&file.id).unwrap_or(Lane::Planned);
    match from {
        Lane::Planned => {}
        Lane::Claimed | Lane::InProgress => {
            if let Some(owner) = roles
                .get(&file.id)
                .and_then(|r| r.implementer.clone())
                .filter(|o| !o.is_empty() && *o != me)
            {
                return Err(already_claimed(&mission, &file.id, from, &owner, &me));
            }
        }
        other => {
            return Err(OrchError::new(
                ErrorCode::TransitionRejected,
                format!(
                    "WP {} is in '{other}', cannot start implementation",
                    file.id
                ),
            ))
        }
    }
    let extra = policy_extra(Some(policy));
    let handoff = match crate::workspace::action::implement_with(
        project,
        &mission,
        Some(&file.id),
        &me,
        &extra,
    ) {
        Ok(h) => h,
        Err(
            crate::workspace::WorkspaceError::ClaimedBy { owner, .. }
            | crate::workspace::WorkspaceError::ClaimedJustNow { owner, .. },
        ) => return Err(already_claimed(&mission, &file.id, from, &owner, &me)),
        Err(e) => return Err(e.into()),
    };
    let no_op = from == Lane::InProgress;
    Ok(StartImplementationOutcome {
        mission: identity(&mission),
        wp_id: file.id.clone(),
        from_lane: from,
        to_lane: Lane::InProgress,
        workspace_path: handoff.workspace.path.display().to_string(),
        prompt_path: file.path.display().to_string(),
        policy_metadata_recorded: !no_op,
        no_op,
    })
}

fn already_claimed(mission: &Mission, wp: &str, lane: Lane, owner: &str, me: &str) -> OrchError {
    let state = if lane == Lane::InProgress {
        "in_progress"
    } else {
        "claimed"
    };
    let mut data = serde_json::to_value(identity(mission)).unwrap_or_default();
    if let Value::Object(m) = &mut data {
        m.insert("claimed_by".into(), owner.into());
        m.insert("requesting_actor".into(), me.into());
    }
    OrchError::with(
        ErrorCode::WpAlreadyClaimed,
        format!("WP {wp} is already {state} by '{owner}'"),
        data,
    )
}

/// The keys recorded with a move's events for a policy.
fn policy_extra(policy: Option<Value>) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(p) = policy {
        m.insert("policy_metadata".into(), p);
    }
    m
}

/// `start-review`: for_review -> in_review, the reviewer taking the review.
pub fn start_review(project: &Project, req: &StartReviewRequest) -> Result<StartReviewOutcome> {
    let policy = require_policy(req.policy.as_ref(), "for start-review")?;
    check_actor(&req.actor)?;
    if let Some(r) = &req.review_ref {
        check_text("--review-ref", r)?;
    }
    let mission = find_mission(project, &req.mission)?;
    let file = find_wp(&mission, &req.wp)?;
    let me = acting_as(&req.actor, req.policy.as_ref(), ActingRole::Reviewer);
    let moved = crate::status::ops::move_wp(
        crate::status::work::open(project).as_ref(),
        project,
        &mission,
        &MoveRequest {
            wp_id: file.id.clone(),
            to: Lane::InReview.to_string(),
            agent: Some(me),
            note: req.review_ref.as_deref().map(one_line),
            extra: policy_extra(Some(policy)),
            ..Default::default()
        },
    )?;
    Ok(StartReviewOutcome {
        mission: identity(&mission),
        wp_id: file.id.clone(),
        from_lane: moved.from_lane,
        to_lane: Lane::InReview,
        prompt_path: file.path.display().to_string(),
        policy_metadata_recorded: !moved.event_ids.is_empty(),
    })
}

/// Lanes whose moves need a policy (the reference's run-affecting lanes: a WP
/// being worked on or reviewed).
pub fn run_affecting(lane: Lane) -> bool {
    matches!(
        lane,
        Lane::Claimed | Lane::InProgress | Lane::ForReview | Lane::InReview | Lane::Approved
    )
}

/// The role a move from `from` to `to` is made in.
fn role_of(from: Lane, to: Lane) -> ActingRole {
    let reviewing = matches!(from, Lane::ForReview | Lane::InReview | Lane::Approved);
    match to {
        Lane::Claimed | Lane::ForReview => ActingRole::Implementer,
        Lane::InReview | Lane::Approved | Lane::Done => ActingRole::Reviewer,
        Lane::InProgress | Lane::Planned if reviewing => ActingRole::Reviewer,
        Lane::InProgress | Lane::Planned => ActingRole::Implementer,
        Lane::Blocked | Lane::Canceled => ActingRole::Other,
    }
}

fn rejected(message: impl Into<String>) -> OrchError {
    OrchError::new(ErrorCode::TransitionRejected, message)
}

/// `transition`: one lane move. `--force` skips the table's guards except two
/// that always hold: a hand-in (`for_review`) needs a commit on the lane since
/// the claim, and `approved`/`done` need a review verdict by a reviewer other
/// than the implementer. `done` records the approval, then the WP as done; its
/// work lands on the target with `merge-mission`.
pub fn transition(project: &Project, req: &TransitionRequest) -> Result<TransitionOutcome> {
    let to = Lane::parse(&req.to).map_err(|_| {
        OrchError::usage(format!(
            "unknown lane '{}'; lanes: planned, claimed, in_progress, for_review, in_review, approved, done, blocked, canceled",
            req.to
        ))
    })?;
    if run_affecting(to) && req.policy.is_none() {
        return Err(OrchError::new(
            ErrorCode::PolicyMetadataRequired,
            format!("--policy is required when transitioning to '{to}'"),
        ));
    }
    if let Some(e) = &req.evidence {
        if !e.is_object() {
            return Err(OrchError::usage(
                "--evidence-json must decode to a JSON object",
            ));
        }
        let size = e.to_string().len();
        if size > MAX_EVIDENCE_BYTES {
            return Err(OrchError::usage(format!(
                "--evidence-json is {size} bytes; at most {MAX_EVIDENCE_BYTES} are accepted"
            )));
        }
    }
    check_actor(&req.actor)?;
    for (flag, text) in [("--note", &req.note), ("--review-ref", &req.review_ref)] {
        if let Some(t) = text {
            check_text(flag, t)?;
        }
    }
    let mission = find_mission(project, &req.mission)?;
    let file = find_wp(&mission, &req.wp)?;
    let (snap, _) = snapshot(project, &mission)?;
    let from = snap.lane_of(&file.id).unwrap_or(Lane::Planned);
    let me = acting_as(&req.actor, req.policy.as_ref(), role_of(from, to));
    let mut extra = policy_extra(req.policy.as_ref().map(Policy::to_value));
    if let Some(e) = &req.evidence {
        extra.insert("orchestrator_evidence".into(), e.clone());
    }
    let req = &TransitionRequest {
        note: req.note.as_deref().map(one_line).filter(|n| !n.is_empty()),
        review_ref: req
            .review_ref
            .as_deref()
            .map(one_line)
            .filter(|r| !r.is_empty()),
        ..req.clone()
    };
    let base = MoveRequest {
        wp_id: file.id.clone(),
        agent: Some(me.clone()),
        note: req.note.clone(),
        extra: extra.clone(),
        ..Default::default()
    };
    let move_to = |lane: Lane, r: MoveRequest| -> Result<crate::status::ops::MoveOutcome> {
        Ok(crate::status::ops::move_wp(
            crate::status::work::open(project).as_ref(),
            project,
            &mission,
            &MoveRequest {
                to: lane.to_string(),
                ..r
            },
        )?)
    };
    let recorded = match to {
        Lane::ForReview => {
            if req.subtasks_complete == Some(false) {
                return Err(rejected(format!(
                    "{} cannot be handed in: the caller reports its subtasks are not complete",
                    file.id
                )));
            }
            if req.implementation_evidence_present == Some(false) {
                return Err(rejected(format!(
                    "{} cannot be handed in: the caller reports no implementation evidence",
                    file.id
                )));
            }
            // Never forced: the hand-in needs the work committed on the lane.
            move_to(to, base)?.event_ids.len()
        }
        Lane::Approved | Lane::Done => {
            let reviewing = matches!(from, Lane::ForReview | Lane::InReview);
            if !reviewing && from != Lane::Approved {
                return Err(rejected(format!(
                    "{} is {from}: no {to} without an approval; it must be handed in (for_review) and approved by a reviewer first",
                    file.id
                )));
            }
            let mut n = 0;
            if reviewing {
                let verdict = req
                    .review_ref
                    .clone()
                    .or_else(|| req.note.clone())
                    .or_else(|| req.evidence.as_ref().map(|e| e.to_string()))
                    .filter(|v| !v.trim().is_empty());
                let Some(verdict) = verdict else {
                    return Err(rejected(format!(
                        "{} needs a review verdict to be {to}: give --review-ref or --note",
                        file.id
                    )));
                };
                // Never forced: the verdict is the reviewer's (not the implementer's).
                n += move_to(
                    Lane::Approved,
                    MoveRequest {
                        review_feedback: Some(verdict),
                        ..base.clone()
                    },
                )?
                .event_ids
                .len();
            }
            if to == Lane::Done {
                let reason = format!(
                    "approved; recorded done by {me} through orchestrator-api (its work lands on the target with merge-mission)"
                );
                n += move_to(
                    Lane::Done,
                    MoveRequest {
                        force: true,
                        reason: Some(reason.clone()),
                        note: Some(req.note.clone().unwrap_or(reason)),
                        ..base
                    },
                )?
                .event_ids
                .len();
            }
            n
        }
        _ => {
            let reason = req.note.clone().or_else(|| req.review_ref.clone());
            move_to(
                to,
                MoveRequest {
                    force: req.force,
                    reason: if req.force { reason } else { None },
                    review_feedback: req.review_ref.clone(),
                    ..base
                },
            )?
            .event_ids
            .len()
        }
    };
    Ok(TransitionOutcome {
        mission: identity(&mission),
        wp_id: file.id.clone(),
        from_lane: from,
        to_lane: to,
        policy_metadata_recorded: req.policy.is_some() && recorded > 0,
    })
}

/// `append-history`: a line in the WP file's activity log.
pub fn append_history(
    project: &Project,
    req: &AppendHistoryRequest,
) -> Result<AppendHistoryOutcome> {
    check_actor(&req.actor)?;
    check_text("--note", &req.note)?;
    let mission = find_mission(project, &req.mission)?;
    let file = find_wp(&mission, &req.wp)?;
    let note = one_line(&req.note);
    crate::status::ops::add_history(project, &mission, &file.id, &req.actor, &note)?;
    Ok(AppendHistoryOutcome {
        mission: identity(&mission),
        wp_id: file.id.clone(),
        history_entry_id: format!("hist-{}", random_hex()?),
    })
}

/// 32 random hex digits.
fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| OrchError::new(ErrorCode::Internal, format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `accept-mission`: once every WP is done, run the acceptance gates of
/// `spec-kitty accept` and record the acceptance in meta.json.
pub fn accept_mission(
    project: &Project,
    req: &AcceptMissionRequest,
) -> Result<AcceptMissionOutcome> {
    check_actor(&req.actor)?;
    let mission = find_mission(project, &req.mission)?;
    let (snap, _) = snapshot(project, &mission)?;
    let mut ids: std::collections::BTreeSet<String> =
        dependency_graph(&mission)?.into_keys().collect();
    ids.extend(snap.work_packages.keys().cloned());
    let incomplete: Vec<String> = ids
        .into_iter()
        .filter(|id| snap.lane_of(id) != Some(Lane::Done))
        .collect();
    let not_ready = |message: String, incomplete: Vec<String>, problems: Vec<String>| {
        let mut data = serde_json::to_value(identity(&mission)).unwrap_or_default();
        if let Value::Object(m) = &mut data {
            m.insert("incomplete_wps".into(), incomplete.into());
            if !problems.is_empty() {
                m.insert("problems".into(), problems.into());
            }
        }
        OrchError::with(ErrorCode::MissionNotReady, message, data)
    };
    if !incomplete.is_empty() {
        return Err(not_ready(
            format!("Mission has {} incomplete WP(s)", incomplete.len()),
            incomplete,
            Vec::new(),
        ));
    }
    let report = crate::merge::accept(
        project,
        &mission,
        &crate::merge::AcceptOptions {
            actor: Some(req.actor.clone()),
            mode: Some("auto".into()),
            ..Default::default()
        },
    )?;
    if !report.accepted {
        let problems: Vec<String> = report
            .gates
            .iter()
            .filter(|g| !g.passed)
            .flat_map(|g| g.problems.iter().map(move |p| format!("{}: {p}", g.name)))
            .collect();
        return Err(not_ready(
            format!("Mission is not ready: {}", problems.join("; ")),
            Vec::new(),
            problems,
        ));
    }
    Ok(AcceptMissionOutcome {
        mission: identity(&mission),
        accepted: true,
        mode: "auto".into(),
        accepted_at: report.accepted_at.unwrap_or_default(),
    })
}

/// `merge-mission`: land every lane on the target as `spec-kitty merge` does
/// (each WP's work once, worktrees and lane branches removed, the tree clean),
/// then push the target when asked.
pub fn merge_mission(project: &Project, req: &MergeMissionRequest) -> Result<MergeMissionOutcome> {
    let strategy = match req.strategy.as_str() {
        "merge" => crate::merge::Strategy::Merge,
        "squash" => crate::merge::Strategy::Squash,
        "rebase" => crate::merge::Strategy::Rebase,
        other => {
            return Err(OrchError::with(
                ErrorCode::UnsupportedStrategy,
                format!(
                "Strategy '{other}' is not supported. Supported strategies: merge, rebase, squash"
            ),
                serde_json::json!({"strategy": other, "supported": ["merge", "rebase", "squash"]}),
            ))
        }
    };
    let mission = find_mission(project, &req.mission)?;
    let lanes = crate::lanes::LanesManifest::for_mission(&mission)?;
    let target = crate::merge::target_branch(&mission, lanes.as_ref());
    let preflight = |errors: Vec<String>| {
        let mut data = serde_json::to_value(identity(&mission)).unwrap_or_default();
        if let Value::Object(m) = &mut data {
            let shown = req.target.clone().unwrap_or_else(|| target.clone());
            m.insert("target_branch".into(), shown.into());
            m.insert("errors".into(), errors.into());
        }
        OrchError::with(ErrorCode::PreflightFailed, "Merge failed", data)
    };
    let mut errors = Vec::new();
    if let Some(t) = &req.target {
        if *t != target {
            errors.push(format!(
                "--target {t} is not the mission's target branch {target} (meta.json); merge-mission lands on {target}"
            ));
        }
    }
    if lanes.is_none() {
        errors.push(format!(
            "{} has no lanes.json; run `spec-kitty agent mission finalize-tasks --mission {}`",
            mission.slug, mission.slug
        ));
    }
    if !project.is_git() {
        errors.push(format!(
            "{} is not a git repository",
            project.root.display()
        ));
    } else if req.push && !crate::ids::is_branch_name(&target) {
        errors.push(format!(
            "--push: the target {target:?} is not a branch name git can push"
        ));
    } else if req.push && !has_origin(project) {
        errors.push(format!(
            "--push needs an `origin` remote to push {target} to, and this repository has none"
        ));
    }
    if !errors.is_empty() {
        return Err(preflight(errors));
    }
    let report = crate::merge::merge(
        project,
        &mission,
        &crate::merge::MergeOptions {
            strategy,
            dry_run: false,
            ..Default::default()
        },
    )
    .map_err(|e| preflight(vec![describe(&e)]))?;
    if req.push {
        push(project, &target).map_err(|e| preflight(vec![e]))?;
    }
    let mut merged_wps: Vec<String> = report
        .lanes
        .iter()
        .flat_map(|l| l.wp_ids.iter().cloned())
        .collect();
    merged_wps.sort();
    merged_wps.dedup();
    Ok(MergeMissionOutcome {
        mission: identity(&mission),
        merged: true,
        target_branch: report.target_branch.clone(),
        strategy: req.strategy.clone(),
        merged_wps,
        worktree_removed: !report.removed_worktrees.is_empty(),
    })
}

fn has_origin(project: &Project) -> bool {
    crate::git::Repo::open(&project.root).is_ok_and(|r| r.has_remote("origin"))
}

/// `git push origin <target>:<target>` (the caller checked `origin` exists).
fn push(project: &Project, target: &str) -> std::result::Result<(), String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(&project.root)
        .args(["push", "origin"])
        .arg(format!("refs/heads/{target}:refs/heads/{target}"))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("merged into {target}, but git push could not start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "merged into {target}, but git push origin {target} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}
