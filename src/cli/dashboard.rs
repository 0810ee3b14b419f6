//! `spec-kitty dashboard`: serve the live kanban, or find, reuse and stop it.

use clap::Args;
use serde_json::json;

use crate::cli::Ctx;
use crate::dashboard::{self, Running, Server, Stopped};
use crate::error::Result;

#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Port on 127.0.0.1 (default: the first free one from 9237)
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Open the dashboard in the default browser once it answers
    #[arg(long)]
    pub open: bool,
    /// Start it detached and return (stop it with --kill)
    #[arg(long, conflicts_with = "kill")]
    pub background: bool,
    /// Stop this project's dashboard (only after checking it really is)
    #[arg(long, conflicts_with_all = ["open", "port"])]
    pub kill: bool,
}

pub fn run(ctx: &Ctx, a: &DashboardArgs) -> Result<()> {
    let project = ctx.project()?;
    if a.kill {
        return kill(ctx, project);
    }
    if let Some(r) = dashboard::find_running(project) {
        return announce(ctx, a, &r, true, false);
    }
    if a.background {
        let r = dashboard::spawn_background(project, a.port)?;
        return announce(ctx, a, &r, false, true);
    }
    let mut limits = dashboard::server::Limits::default();
    if let Some(t) = crate::env::dashboard_timeout() {
        limits.timeout = t;
    }
    let server = Server::start(project, a.port, limits, crate::env::home())?;
    server.record()?;
    let r = Running {
        url: server.url.clone(),
        port: server.port,
        pid: Some(server.pid),
    };
    announce(ctx, a, &r, false, false)?;
    if !ctx.json {
        ctx.say(ctx.paint("Press Ctrl-C to stop.", crate::cli::output::style::DIM));
    }
    Ok(server.run()?)
}

fn announce(
    ctx: &Ctx,
    a: &DashboardArgs,
    r: &Running,
    reused: bool,
    background: bool,
) -> Result<()> {
    if a.open {
        dashboard::open_browser(&r.url)?;
    }
    if ctx.json {
        ctx.json_out(&json!({
            "result": "success",
            "url": r.url,
            "port": r.port,
            "pid": r.pid,
            "reused": reused,
            "background": background || reused,
            "opened": a.open,
        }));
    } else if reused {
        ctx.say(format!(
            "Dashboard already running at {} (PID {})",
            ctx.bold(&r.url),
            r.pid.map_or("?".into(), |p| p.to_string())
        ));
    } else {
        ctx.say(format!("Dashboard running at {}", ctx.bold(&r.url)));
        if background {
            ctx.say(format!(
                "  PID {}; stop it with `spec-kitty dashboard --kill`",
                r.pid.map_or("?".into(), |p| p.to_string())
            ));
        }
    }
    Ok(())
}

fn kill(ctx: &Ctx, project: &crate::project::Project) -> Result<()> {
    let outcome = dashboard::stop(project)?;
    let (result, pid, text) = match outcome {
        Stopped::NotRunning => (
            "not_running",
            None,
            "No dashboard is recorded for this project".to_string(),
        ),
        Stopped::Shutdown { pid, port } => (
            "stopped",
            pid,
            format!("Stopped the dashboard on port {port}"),
        ),
        Stopped::Signalled { pid } => (
            "stopped",
            Some(pid),
            format!("Stopped dashboard process {pid} (it did not answer; sent SIGTERM)"),
        ),
        Stopped::Stale { pid } => (
            "stale",
            pid,
            format!(
                "The recorded dashboard{} is not running for this project; nothing was signalled and the stale record was removed",
                pid.map_or(String::new(), |p| format!(" (PID {p})"))
            ),
        ),
    };
    if ctx.json {
        ctx.json_out(&json!({ "result": result, "pid": pid }));
    } else {
        ctx.say(text);
    }
    Ok(())
}
