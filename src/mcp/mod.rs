//! `spec-kitty mcp`: a Model Context Protocol server over stdio, so MCP hosts
//! (Claude Code, Codex, Cursor...) call spec-kitty as tools and read its state
//! as resources, with pushed updates when the state changes on disk.
//!
//! A surface: [`server`] maps each request to one operation and renders its
//! outcome; [`tools`] declares the tools and their typed inputs; [`resources`]
//! the readable URIs; [`subs`] the pushed updates (`resources/subscribe` for
//! 2025-11-25 clients, `subscriptions/listen` for 2026-07-28 ones, both through
//! rmcp's handler hooks; the dashboard's watcher finds the changes).
//!
//! The protocol is rmcp's (modelcontextprotocol/rust-sdk). This module owns the
//! process around it: stdin and stdout go through [`stdio`], which answers
//! unparsable lines with a JSON-RPC parse error (rmcp drops them silently) and
//! is the only writer of stdout, so nothing but protocol ever reaches it; logs go
//! to stderr; EOF on stdin, SIGTERM and SIGINT end the server cleanly (exit 0).

/// The server's one way to say something: a line on stderr (stdout carries
/// only the protocol).
macro_rules! log {
    ($($arg:tt)*) => {{
        #[allow(clippy::print_stderr)]
        {
            eprintln!($($arg)*);
        }
    }};
}
pub(crate) use log;

pub mod resources;
pub mod server;
pub mod stdio;
pub mod subs;
pub mod tools;

use rmcp::service::{ServerInitializeError, ServiceExt};

use crate::project::Project;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot listen for signals: {0}")]
    Signal(#[source] std::io::Error),
    #[error("the MCP session failed: {0}")]
    Session(String),
}

impl crate::error::Diagnose for McpError {
    fn hint(&self) -> Option<String> {
        None
    }
}

/// Serve `project` on stdin/stdout until the client goes away or a signal.
pub fn serve(project: Project) -> Result<(), McpError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(McpError::Runtime)?;
    let result = runtime.block_on(run(project));
    // A read of stdin may still be blocked in its thread: do not wait for it.
    runtime.shutdown_background();
    result
}

async fn run(project: Project) -> Result<(), McpError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(McpError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(McpError::Signal)?;
    let io = stdio::Stdio::start(tokio::io::stdin(), tokio::io::stdout());
    crate::mcp::log!(
        "spec-kitty mcp {}: serving {} on stdio",
        crate::VERSION,
        project.root.display()
    );
    let server = server::Server::new(project);
    let drained = server.drained();
    let serving = server.serve(io.transport);
    let running = tokio::select! {
        r = serving => r,
        _ = term.recv() => return finish(io.writer, "SIGTERM").await,
        _ = int.recv() => return finish(io.writer, "SIGINT").await,
    };
    let running = match running {
        Ok(r) => r,
        // The client left before (or instead of) initializing.
        Err(ServerInitializeError::ConnectionClosed(_)) | Err(ServerInitializeError::Cancelled) => {
            return finish(io.writer, "end of input").await
        }
        Err(e) => return Err(McpError::Session(e.to_string())),
    };
    let ct = running.cancellation_token();
    let why = tokio::select! {
        r = running.waiting() => match r {
            Ok(_) => "end of input",
            Err(e) => return Err(McpError::Session(e.to_string())),
        },
        _ = term.recv() => { ct.cancel(); "SIGTERM" }
        _ = int.recv() => { ct.cancel(); "SIGINT" }
    };
    // An operation already running (a merge, a transition) finishes first.
    if why != "end of input" {
        crate::mcp::log!("spec-kitty mcp: {why} received; finishing any running operation first");
    }
    drained.await;
    finish(io.writer, why).await
}

async fn finish(writer: stdio::Writer, why: &str) -> Result<(), McpError> {
    writer.flush_and_close().await;
    crate::mcp::log!("spec-kitty mcp: stopped ({why})");
    Ok(())
}
