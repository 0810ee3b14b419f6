//! The tools: one per operation, each input a typed struct whose JSON schema is
//! generated from it (so what is advertised is what is parsed), each result the
//! operation's outcome as one JSON text block, each failure `isError: true` with
//! `{"error_code", "message", "hint"}`.
//!
//! Descriptions are short on purpose: the whole `tools/list` stays under 3,000
//! tokens (tests/it/mcp.rs measures it). Bulky reads are resources.

use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::mission::{self, Mission, MissionError, Selector};
use crate::ops::orchestrator::{self as orch, OrchError, Policy};
use crate::project::Project;
use crate::status::ops::Board;

/// A tool failure: the code agents branch on, the message, an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    /// The orchestrator contract's `data` on failure, when it says more than
    /// the message (incomplete WPs, preflight errors, versions).
    pub data: Option<Box<Value>>,
}

impl ToolError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ToolError {
        ToolError {
            code,
            message: message.into(),
            hint: None,
            data: None,
        }
    }
}

impl From<OrchError> for ToolError {
    fn from(e: OrchError) -> ToolError {
        ToolError {
            code: e.error_code(),
            message: e.message().to_string(),
            hint: None,
            data: e.details.clone().map(|d| Box::new(Value::Object(d))),
        }
    }
}

/// Why a call never reached an operation: answered as a JSON-RPC error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    UnknownTool(String),
    BadArguments(String),
}

/// The input schema of `T`: draft 2020-12 as MCP asks, without the `$schema`
/// and `title` keys (they cost tokens in every `tools/list` and say nothing).
pub fn schema<T: JsonSchema>() -> Arc<JsonObject> {
    let gen = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let root = gen.into_root_schema_for::<T>();
    let mut obj = match serde_json::to_value(root) {
        Ok(Value::Object(o)) => o,
        _ => JsonObject::new(),
    };
    obj.remove("$schema");
    obj.remove("title");
    strip_null_defaults(&mut obj);
    obj.entry("type").or_insert_with(|| json!("object"));
    Arc::new(obj)
}

/// `"default": null` says what leaving a field out already says.
fn strip_null_defaults(obj: &mut JsonObject) {
    if obj.get("default").is_some_and(Value::is_null) {
        obj.remove("default");
    }
    for v in obj.values_mut() {
        match v {
            Value::Object(o) => strip_null_defaults(o),
            Value::Array(a) => {
                for item in a {
                    if let Value::Object(o) = item {
                        strip_null_defaults(o);
                    }
                }
            }
            _ => {}
        }
    }
}

fn parse<T: DeserializeOwned>(args: Option<JsonObject>) -> Result<T, CallError> {
    let v = Value::Object(args.unwrap_or_default());
    serde_json::from_value(v).map_err(|e| CallError::BadArguments(e.to_string()))
}

/// How a tool behaves, for the host's approval prompts.
#[derive(Debug, Clone, Copy)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Writes mission state; calling again with the same input changes nothing more.
    WriteIdempotent,
    /// Writes mission state; not idempotent.
    Write,
    /// Writes and may destroy (merges, deletes branches).
    Destructive,
}

pub fn annotations(effect: Effect) -> ToolAnnotations {
    let (ro, destructive, idem) = match effect {
        Effect::Read => (true, false, true),
        Effect::WriteIdempotent => (false, false, true),
        Effect::Write => (false, false, false),
        Effect::Destructive => (false, true, false),
    };
    ToolAnnotations::new()
        .read_only(ro)
        .destructive(destructive)
        .idempotent(idem)
        .open_world(false)
}

fn tool<T: JsonSchema>(name: &'static str, description: &'static str, effect: Effect) -> Tool {
    Tool::new(name, description, schema::<T>()).with_annotations(annotations(effect))
}

// ---- read tools -------------------------------------------------------------

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextStepArgs {
    /// Your agent name, e.g. claude
    pub agent: String,
    /// Mission slug (optional with one mission)
    #[serde(default)]
    pub mission: Option<String>,
    /// Ask as implementer or reviewer (default from .kittify/config.yaml)
    #[serde(default)]
    pub role: Option<RoleArg>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleArg {
    Implement,
    Review,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardArgs {
    /// Mission slug (optional with one mission)
    #[serde(default)]
    pub mission: Option<String>,
}

// ---- the orchestrator-api verbs ---------------------------------------------
//
// One tool per verb of `spec-kitty orchestrator-api`, each calling the same
// operation in `crate::ops::orchestrator` with the same request, so the guards
// and error codes are the contract's. Arguments are typed for the host (enums
// for lanes, strategies and policy modes); values the contract itself
// validates (a lane name, a strategy, the policy) are handed to the operation,
// so a bad one is the contract's error code (`isError`), not a protocol error.

// The policy an orchestrator runs under, recorded with the events (the schema
// only; the operation validates it: POLICY_VALIDATION_FAILED). A `//` comment:
// a doc comment would be sent with every tools/list.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
pub struct PolicySchema {
    orchestrator_id: String,
    orchestrator_version: String,
    agent_family: String,
    approval_mode: ApprovalModeSchema,
    sandbox_mode: SandboxModeSchema,
    network_mode: NetworkModeSchema,
    dangerous_flags: Vec<String>,
    #[serde(default)]
    tool_restrictions: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ApprovalModeSchema {
    FullAuto,
    Interactive,
    Supervised,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum SandboxModeSchema {
    WorkspaceWrite,
    ReadOnly,
    None,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum NetworkModeSchema {
    Allowlist,
    None,
    Open,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum LaneSchema {
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum StrategySchema {
    Merge,
    Squash,
    Rebase,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractVersionArgs {
    /// Your provider version; refused below 0.1.0
    #[serde(default)]
    pub provider_version: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MissionArgs {
    /// Mission slug (kitty-specs/ directory name)
    pub mission: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    pub mission: String,
    /// WP id, e.g. WP01
    pub wp: String,
    pub actor: String,
    /// Required (POLICY_METADATA_REQUIRED without it)
    #[serde(default)]
    #[schemars(required, with = "PolicySchema")]
    pub policy: Option<Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    pub mission: String,
    pub wp: String,
    pub actor: String,
    /// Required (POLICY_METADATA_REQUIRED without it)
    #[serde(default)]
    #[schemars(required, with = "PolicySchema")]
    pub policy: Option<Value>,
    #[serde(default)]
    pub review_ref: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionArgs {
    pub mission: String,
    pub wp: String,
    #[schemars(with = "LaneSchema")]
    pub to: String,
    pub actor: String,
    #[serde(default)]
    pub note: Option<String>,
    /// Required for claimed..approved
    #[serde(default)]
    #[schemars(with = "Option<PolicySchema>")]
    pub policy: Option<Value>,
    /// Skip the lane table (needs note; hand-in and approval guards still hold)
    #[serde(default)]
    pub force: bool,
    /// Review verdict (approved/done) or feedback (sent back)
    #[serde(default)]
    pub review_ref: Option<String>,
    #[serde(default)]
    pub evidence: Option<JsonObject>,
    #[serde(default)]
    pub subtasks_complete: Option<bool>,
    #[serde(default)]
    pub implementation_evidence_present: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    pub mission: String,
    pub wp: String,
    pub actor: String,
    pub note: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptArgs {
    pub mission: String,
    pub actor: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeArgs {
    pub mission: String,
    /// Default: the mission's target branch
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default = "merge_default")]
    #[schemars(with = "Option<StrategySchema>")]
    pub strategy: String,
    /// Push the target to origin afterwards
    #[serde(default)]
    pub push: bool,
}

fn merge_default() -> String {
    "merge".into()
}

/// A policy argument through the contract's validation.
fn policy(v: Option<&Value>) -> Result<Option<Policy>, ToolError> {
    v.map(Policy::from_value)
        .transpose()
        .map_err(ToolError::from)
}

fn outcome<T: serde::Serialize>(r: Result<T, OrchError>) -> Result<Value, ToolError> {
    let v = r.map_err(ToolError::from)?;
    serde_json::to_value(v).map_err(failed)
}

/// Every tool this server offers, in `tools/list` order.
pub fn list() -> Vec<Tool> {
    vec![
        tool::<NextStepArgs>(
            "next_step",
            "The next step of a mission for an agent: action, WP, workspace, command, prompt file.",
            Effect::Read,
        ),
        tool::<BoardArgs>(
            "board",
            "A mission's kanban board: each WP's lane, agent, dependencies; ready WPs.",
            Effect::Read,
        ),
        tool::<ContractVersionArgs>(
            "contract_version",
            "orchestrator-api contract version (1.0.0).",
            Effect::Read,
        ),
        tool::<MissionArgs>(
            "mission_state",
            "Every WP of a mission: lane, dependencies, last actor.",
            Effect::Read,
        ),
        tool::<MissionArgs>(
            "list_ready",
            "Planned WPs whose dependencies are done.",
            Effect::Read,
        ),
        tool::<StartArgs>(
            "start_implementation",
            "Claim a WP and start it; returns its lane worktree and prompt.",
            Effect::WriteIdempotent,
        ),
        tool::<ReviewArgs>(
            "start_review",
            "Take a WP handed in for review (for_review -> in_review).",
            Effect::Write,
        ),
        tool::<TransitionArgs>(
            "transition",
            "Move a WP to another lane, under the lifecycle's guards.",
            Effect::Write,
        ),
        tool::<HistoryArgs>(
            "append_history",
            "Append a note to a WP's activity log.",
            Effect::Write,
        ),
        tool::<AcceptArgs>(
            "accept_mission",
            "Accept a mission whose WPs are all done.",
            Effect::Write,
        ),
        tool::<MergeArgs>(
            "merge_mission",
            "Merge every lane into the target branch, as spec-kitty merge (commits).",
            Effect::Destructive,
        ),
    ]
}

/// Resolve a mission argument; the server's directory is the project root, so
/// no argument means "the only mission".
pub fn resolve_mission(project: &Project, sel: Option<&str>) -> Result<Mission, ToolError> {
    let selector = match sel {
        Some(s) => Selector::Given(s),
        None => Selector::Infer { cwd: &project.root },
    };
    mission::resolve(project, selector).map_err(mission_error)
}

fn mission_error(e: MissionError) -> ToolError {
    let code = match e {
        MissionError::EmptySelector
        | MissionError::NoMissions
        | MissionError::NoMissionsToMatch { .. }
        | MissionError::MustChoose { .. }
        | MissionError::NoMatch { .. } => "MISSION_NOT_FOUND",
        _ => "MISSION_INVALID",
    };
    ToolError::new(code, e.to_string())
}

fn failed(e: impl std::fmt::Display) -> ToolError {
    ToolError::new("OPERATION_FAILED", e.to_string())
}

/// Run the tool `name` with `args`.
pub fn call(
    project: &Project,
    name: &str,
    args: Option<JsonObject>,
) -> Result<Result<Value, ToolError>, CallError> {
    Ok(match name {
        "next_step" => {
            let a: NextStepArgs = parse(args)?;
            next_step(project, &a)
        }
        "board" => {
            let a: BoardArgs = parse(args)?;
            board(project, &a)
        }
        "contract_version" => {
            let a: ContractVersionArgs = parse(args)?;
            outcome(orch::contract_version(&orch::ContractVersionRequest {
                provider_version: a.provider_version,
            }))
        }
        "mission_state" => {
            let a: MissionArgs = parse(args)?;
            outcome(orch::mission_state(
                project,
                &orch::MissionRequest { mission: a.mission },
            ))
        }
        "list_ready" => {
            let a: MissionArgs = parse(args)?;
            outcome(orch::list_ready(
                project,
                &orch::MissionRequest { mission: a.mission },
            ))
        }
        "start_implementation" => {
            let a: StartArgs = parse(args)?;
            policy(a.policy.as_ref()).and_then(|p| {
                outcome(orch::start_implementation(
                    project,
                    &orch::StartImplementationRequest {
                        mission: a.mission,
                        wp: a.wp,
                        actor: a.actor,
                        policy: p,
                    },
                ))
            })
        }
        "start_review" => {
            let a: ReviewArgs = parse(args)?;
            policy(a.policy.as_ref()).and_then(|p| {
                outcome(orch::start_review(
                    project,
                    &orch::StartReviewRequest {
                        mission: a.mission,
                        wp: a.wp,
                        actor: a.actor,
                        policy: p,
                        review_ref: a.review_ref,
                    },
                ))
            })
        }
        "transition" => {
            let a: TransitionArgs = parse(args)?;
            policy(a.policy.as_ref()).and_then(|p| {
                outcome(orch::transition(
                    project,
                    &orch::TransitionRequest {
                        mission: a.mission,
                        wp: a.wp,
                        to: a.to,
                        actor: a.actor,
                        note: a.note,
                        policy: p,
                        force: a.force,
                        review_ref: a.review_ref,
                        evidence: a.evidence.map(Value::Object),
                        subtasks_complete: a.subtasks_complete,
                        implementation_evidence_present: a.implementation_evidence_present,
                    },
                ))
            })
        }
        "append_history" => {
            let a: HistoryArgs = parse(args)?;
            outcome(orch::append_history(
                project,
                &orch::AppendHistoryRequest {
                    mission: a.mission,
                    wp: a.wp,
                    actor: a.actor,
                    note: a.note,
                },
            ))
        }
        "accept_mission" => {
            let a: AcceptArgs = parse(args)?;
            outcome(orch::accept_mission(
                project,
                &orch::AcceptMissionRequest {
                    mission: a.mission,
                    actor: a.actor,
                },
            ))
        }
        "merge_mission" => {
            let a: MergeArgs = parse(args)?;
            outcome(orch::merge_mission(
                project,
                &orch::MergeMissionRequest {
                    mission: a.mission,
                    target: a.target,
                    strategy: a.strategy,
                    push: a.push,
                },
            ))
        }
        other => return Err(CallError::UnknownTool(other.to_string())),
    })
}

fn next_step(project: &Project, a: &NextStepArgs) -> Result<Value, ToolError> {
    if a.agent.trim().is_empty() {
        return Err(ToolError::new("USAGE_ERROR", "agent must not be empty"));
    }
    let m = resolve_mission(project, a.mission.as_deref())?;
    let role = a.role.map(|r| match r {
        RoleArg::Implement => crate::next::Role::Implement,
        RoleArg::Review => crate::next::Role::Review,
    });
    let d = crate::next::decide(project, &m, Some(&a.agent), None, role).map_err(failed)?;
    serde_json::to_value(&d).map_err(failed)
}

fn board(project: &Project, a: &BoardArgs) -> Result<Value, ToolError> {
    let m = resolve_mission(project, a.mission.as_deref())?;
    let b = Board::load(project, &m).map_err(failed)?;
    Ok(super::resources::board_json(&b))
}

/// The MCP result of an outcome.
pub fn render(outcome: Result<Value, ToolError>) -> CallToolResult {
    match outcome {
        Ok(v) => CallToolResult::success(vec![ContentBlock::text(
            serde_json::to_string(&v).unwrap_or_default(),
        )]),
        Err(e) => {
            let mut body = json!({"error_code": e.code, "message": e.message});
            if let Some(h) = e.hint {
                body["hint"] = h.into();
            }
            if let Some(d) = e.data {
                body["data"] = *d;
            }
            CallToolResult::error(vec![ContentBlock::text(
                serde_json::to_string(&body).unwrap_or_default(),
            )])
        }
    }
}
