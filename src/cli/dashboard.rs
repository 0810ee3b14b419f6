//! `spec-kitty dashboard`: serve the live kanban, or find, reuse and stop it.

use clap::Args;
use serde_json::{json, Value};

use crate::cli::output::Render;
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
        return ctx.render(&dashboard::stop(project)?);
    }
    if let Some(r) = dashboard::find_running(project) {
        return announce(ctx, a, r, How::Reused);
    }
    if a.background {
        let r = dashboard::spawn_background(project, a.port)?;
        return announce(ctx, a, r, How::Background);
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
    announce(ctx, a, r, How::Foreground)?;
    // Streams: it serves until stopped.
    Ok(server.run()?)
}

/// How the dashboard the command names came to run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// It was running already.
    Reused,
    /// Started detached by this command.
    Background,
    /// Served by this process, from now until Ctrl-C.
    Foreground,
}

/// The running dashboard, opened in the browser with `--open`.
struct Announced {
    running: Running,
    how: How,
    opened: bool,
}

fn announce(ctx: &Ctx, a: &DashboardArgs, running: Running, how: How) -> Result<()> {
    if a.open {
        dashboard::open_browser(&running.url)?;
    }
    ctx.render(&Announced {
        running,
        how,
        opened: a.open,
    })
}

impl Render for Announced {
    fn json(&self) -> Value {
        let r = &self.running;
        json!({
            "result": "success",
            "url": r.url,
            "port": r.port,
            "pid": r.pid,
            "reused": self.how == How::Reused,
            "background": self.how != How::Foreground,
            "opened": self.opened,
        })
    }

    fn human(&self, ctx: &Ctx) {
        let r = &self.running;
        let pid = r.pid.map_or("?".into(), |p| p.to_string());
        match self.how {
            How::Reused => ctx.say(format!(
                "Dashboard already running at {} (PID {pid})",
                ctx.bold(&r.url),
            )),
            How::Background => {
                ctx.say(format!("Dashboard running at {}", ctx.bold(&r.url)));
                ctx.say(format!(
                    "  PID {pid}; stop it with `spec-kitty dashboard --kill`"
                ));
            }
            How::Foreground => {
                ctx.say(format!("Dashboard running at {}", ctx.bold(&r.url)));
                ctx.say(ctx.paint("Press Ctrl-C to stop.", crate::cli::output::style::DIM));
            }
        }
    }
}

impl Render for Stopped {
    fn json(&self) -> Value {
        let (result, pid) = match *self {
            Stopped::NotRunning => ("not_running", None),
            Stopped::Shutdown { pid, .. } => ("stopped", pid),
            Stopped::Signalled { pid } => ("stopped", Some(pid)),
            Stopped::Stale { pid } => ("stale", pid),
        };
        json!({ "result": result, "pid": pid })
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(match *self {
            Stopped::NotRunning => "No dashboard is recorded for this project".to_string(),
            Stopped::Shutdown { port, .. } => format!("Stopped the dashboard on port {port}"),
            Stopped::Signalled { pid } => {
                format!("Stopped dashboard process {pid} (it did not answer; sent SIGTERM)")
            }
            Stopped::Stale { pid } => format!(
                "The recorded dashboard{} is not running for this project; nothing was signalled and the stale record was removed",
                pid.map_or(String::new(), |p| format!(" (PID {p})"))
            ),
        });
    }
}
