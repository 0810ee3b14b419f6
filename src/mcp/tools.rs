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
use crate::project::Project;
use crate::status::ops::Board;

/// A tool failure: the code agents branch on, the message, an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl ToolError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ToolError {
        ToolError {
            code,
            message: message.into(),
            hint: None,
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
    obj.entry("type").or_insert_with(|| json!("object"));
    Arc::new(obj)
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
            let body = json!({"error_code": e.code, "message": e.message, "hint": e.hint});
            CallToolResult::error(vec![ContentBlock::text(
                serde_json::to_string(&body).unwrap_or_default(),
            )])
        }
    }
}
