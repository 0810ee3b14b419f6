//! `spec-kitty mcp`: start the MCP server on stdio (the work is in [`crate::mcp`]).

use std::path::PathBuf;

use clap::Args;

use crate::cli::Ctx;
use crate::error::Result;
use crate::project::Project;

/// How to register the server with the common hosts (the `--help` epilogue).
pub const AFTER_HELP: &str = r#"Register it with your MCP host (it runs in the project it is started in;
pass --project when the host starts servers elsewhere):

  Claude Code, one command:
    claude mcp add spec-kitty -- spec-kitty mcp
  or .mcp.json in the project:
    {"mcpServers": {"spec-kitty": {"command": "spec-kitty", "args": ["mcp"]}}}

  Codex, ~/.codex/config.toml:
    [mcp_servers.spec-kitty]
    command = "spec-kitty"
    args = ["mcp"]

  Cursor, .cursor/mcp.json in the project:
    {"mcpServers": {"spec-kitty": {"command": "spec-kitty",
      "args": ["mcp", "--project", "${workspaceFolder}"]}}}

Tools: one per orchestrator-api verb (same guards and error codes), plus
next_step and board. Resources: spec-kitty://board and
spec-kitty://mission/<slug>/state|lanes|events|wp/<WPnn>; subscribe to one
to be told when it changes (resources/subscribe on protocol 2025-11-25,
subscriptions/listen on 2026-07-28). stdout carries only the protocol; logs
go to stderr. It stops on end of input, SIGTERM or Ctrl-C."#;

// Serve spec-kitty to an MCP host over stdio.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The project to serve (default: the one containing the current directory)
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, a: &McpArgs) -> Result<()> {
    let project = match &a.project {
        Some(dir) => Project::discover(dir)?,
        None => ctx.project()?.clone(),
    };
    if let Some(skew) = crate::config::version_skew(&project.root)? {
        ctx.warn(skew.message());
    }
    Ok(crate::mcp::serve(project)?)
}
