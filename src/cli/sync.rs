//! `spec-kitty sync ...`: the reference's sync group (see `crate::ops::sync`:
//! nothing is ever sent anywhere; teams sync through git).

use clap::{Args, Subcommand};

use super::output::style;
use super::Ctx;
use crate::error::Result;
use crate::ops::sync::{self, SyncSettings, WorkspaceResult, DISABLED};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SyncCommand {
    /// Bring the lane worktree you are in up to date with its mission's target branch (a local merge)
    Workspace(WorkspaceArgs),
    /// Show or set the sync server URL (~/.spec-kitty/config.toml, shared with `auth`)
    Server {
        /// The server URL to set (https://...)
        url: Option<String>,
    },
    /// Upload queued events: this build queues none (teams sync through git)
    Now(NowArgs),
    /// Show the sync queue, the feature flag, the stored login and the server URL
    Status {
        /// Test the connection to the server (refused with SPEC_KITTY_ENABLE_SAAS_SYNC set: nothing is sent)
        #[arg(long, short = 'c')]
        check: bool,
    },
    /// Validate queued events against the event schema (the queue is always empty here)
    Diagnose {},
    /// Diagnose sync health: queue, stored login, server
    Doctor {},
}

#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    /// Abort a merge, rebase or cherry-pick left half-done in the workspace (git's own abort; nothing else is reset)
    #[arg(long, short = 'r')]
    pub repair: bool,
    /// List the commits brought in
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct NowArgs {
    /// Where to write a report of failed uploads (none ever fail here: nothing is uploaded)
    #[arg(long, value_name = "PATH")]
    pub report: Option<std::path::PathBuf>,
    /// Exit non-zero on sync errors (the default)
    #[arg(long, overrides_with = "no_strict")]
    pub strict: bool,
    /// Exit 0 on sync errors
    #[arg(long, overrides_with = "strict")]
    pub no_strict: bool,
}

pub fn run(ctx: &Ctx, cmd: SyncCommand) -> Result<()> {
    match cmd {
        SyncCommand::Workspace(a) => run_workspace(ctx, &a),
        SyncCommand::Server { url } => run_server(ctx, url.as_deref()),
        SyncCommand::Now(a) => {
            sync::now(&SyncSettings::from_env()?)?;
            if ctx.json {
                ctx.json_out(&serde_json::json!({"synced": 0, "queue_size": 0, "saas_enabled": false, "message": DISABLED, "report_written": false}));
            } else {
                ctx.say(ctx.paint(DISABLED, style::CAUTION));
                ctx.say("Set SPEC_KITTY_ENABLE_SAAS_SYNC=1 to enable upload.");
                if a.report.is_some() {
                    ctx.say("No failures to report.");
                }
            }
            Ok(())
        }
        SyncCommand::Status { check } => run_status(ctx, check),
        SyncCommand::Diagnose {} => {
            let d = sync::diagnose();
            if ctx.json {
                ctx.json_out(&d);
            } else {
                ctx.say(ctx.paint("No pending events in queue.", style::GOOD));
            }
            Ok(())
        }
        SyncCommand::Doctor {} => run_doctor(ctx),
    }
}

/// The reference's two-column table without borders: one space, the key
/// padded to `width`, two spaces, the value.
fn row(ctx: &Ctx, width: usize, key: &str, value: &str) {
    let line = format!(" {key:<width$}  {value}");
    ctx.say(line.trim_end());
}

fn run_status(ctx: &Ctx, check: bool) -> Result<()> {
    let s = sync::status(&SyncSettings::from_env()?, check)?;
    if ctx.json {
        ctx.json_out(&s);
        return Ok(());
    }
    ctx.say("");
    ctx.say(ctx.paint("Spec Kitty Sync Status", style::HINT));
    ctx.say("");
    let w = 11;
    row(ctx, w, "Queue", &format!("{} event(s)", s.queue_size));
    if s.saas_enabled {
        row(ctx, w, "SaaS Sync", "Enabled");
    } else {
        row(
            ctx,
            w,
            "SaaS Sync",
            "Disabled (SPEC_KITTY_ENABLE_SAAS_SYNC=1)",
        );
    }
    row(ctx, w, "Daemon", "Stopped");
    row(ctx, w, "Sync Mode", "Queue only");
    row(ctx, w, "WebSocket", "Offline");
    row(ctx, w, "Last Sync", "Never");
    let auth = match &s.auth {
        None => "Disabled by feature flag",
        Some(Some(_)) => "Authenticated",
        Some(None) => "Not authenticated",
    };
    row(ctx, w, "Auth", auth);
    row(ctx, w, "Server URL", &s.server_url);
    row(ctx, w, "Config File", &s.config_file.to_string_lossy());
    if s.ping_disabled {
        row(ctx, w, "Ping", "Disabled");
        row(ctx, w, "", DISABLED);
    }
    ctx.say("");
    ctx.say(ctx.paint("Queue empty -- all events synced.", style::GOOD));
    ctx.say("");
    if !check {
        ctx.say("Use 'spec-kitty sync status --check' to test connectivity.");
        ctx.say("");
    }
    Ok(())
}

fn run_doctor(ctx: &Ctx) -> Result<()> {
    let settings = SyncSettings::from_env()?;
    let d = sync::doctor(&settings)?;
    if ctx.json {
        if d.saas_enabled {
            return Err(sync::no_hosted_service("`sync doctor`'s server check")
                .with_details(serde_json::to_value(&d).unwrap_or_default()));
        }
        ctx.json_out(&d);
        return Ok(());
    }
    ctx.say("");
    ctx.say(ctx.paint("Sync Doctor", style::HINT));
    ctx.say("");
    let w = 20;
    row(ctx, w, "Queue size", "0 (this build keeps no upload queue)");
    row(ctx, w, "Oldest event", "n/a (empty)");
    row(ctx, w, "Queue DB", "none");
    row(ctx, w, "Server URL", &d.server_url);
    match &d.auth {
        None => row(ctx, w, "Auth", "No credentials"),
        Some(a) => {
            let state = |valid: bool, at: &str| {
                if valid {
                    format!("Valid (expires {at})")
                } else {
                    format!("Expired ({at})")
                }
            };
            row(
                ctx,
                w,
                "Access token",
                &state(a.access_valid, &a.access_expires_at),
            );
            row(
                ctx,
                w,
                "Refresh token",
                &state(a.refresh_valid, &a.refresh_expires_at),
            );
            row(ctx, w, "User", &a.username);
            if let Some(t) = &a.team_slug {
                row(ctx, w, "Team", t);
            }
        }
    }
    if d.saas_enabled {
        row(ctx, w, "Server", "Not checked");
        row(
            ctx,
            w,
            "",
            "this build syncs teams through git and sends nothing anywhere",
        );
    } else {
        row(ctx, w, "Server", "Disabled");
        row(ctx, w, "", DISABLED);
    }
    ctx.say("");
    if d.issues.is_empty() {
        ctx.say(ctx.paint("No issues detected. Sync is healthy.", style::GOOD));
    } else {
        ctx.say(ctx.paint("Issues found:", style::WARNING));
        for i in &d.issues {
            ctx.say(format!("  {} {i}", ctx.paint("!", style::CAUTION)));
        }
    }
    ctx.say("");
    if d.saas_enabled {
        return Err(sync::no_hosted_service("`sync doctor`'s server check"));
    }
    Ok(())
}

fn run_server(ctx: &Ctx, url: Option<&str>) -> Result<()> {
    let o = sync::server(&SyncSettings::from_env()?, url)?;
    if ctx.json {
        ctx.json_out(&o);
    } else if o.changed {
        ctx.say(format!(
            "{} Sync server set to {}",
            ctx.paint("✓", style::GOOD),
            o.server_url
        ));
        ctx.say("If you switched environments, run 'spec-kitty auth login --force' to refresh credentials.");
    } else {
        ctx.say(format!("Server URL: {}", o.server_url));
        ctx.say(format!("Config File: {}", o.config_file.display()));
    }
    Ok(())
}

fn run_workspace(ctx: &Ctx, a: &WorkspaceArgs) -> Result<()> {
    let project = ctx.project()?;
    let o = sync::workspace(project, a.repair)?;
    if ctx.json {
        ctx.json_out(&o);
        return Ok(());
    }
    ctx.say("");
    ctx.say(format!(
        "{} {}",
        ctx.paint("Workspace:", style::HINT),
        o.workspace
    ));
    ctx.say(format!("{} git", ctx.paint("Backend:", style::HINT)));
    ctx.say(format!(
        "{} {} (local; fetch and pull it first to include teammates' work)",
        ctx.paint("Base:", style::HINT),
        o.base
    ));
    ctx.say("");
    let ok = ctx.paint("✓", style::GOOD);
    match o.result {
        WorkspaceResult::NothingToRepair => ctx.say(format!(
            "{ok} Nothing to repair: no merge, rebase or cherry-pick is in progress"
        )),
        WorkspaceResult::Repaired => {
            ctx.say(format!("{ok} Recovery successful"));
            ctx.say("The interrupted git operation was aborted; your other changes are kept.");
        }
        WorkspaceResult::UpToDate => ctx.say(format!("{ok} Already up to date")),
        WorkspaceResult::FastForward | WorkspaceResult::Merged => {
            let how = if matches!(o.result, WorkspaceResult::FastForward) {
                "fast-forward".to_string()
            } else {
                let c: String = o
                    .lane_commit
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(7)
                    .collect();
                format!("merge commit {c}")
            };
            ctx.say(format!(
                "{ok} Synced - {} file(s) changed ({how}), {} commit(s) from {}",
                o.files_changed,
                o.commits_integrated.len(),
                o.base
            ));
            if a.verbose {
                ctx.say("");
                ctx.say(ctx.paint(
                    &format!("Changes integrated ({}):", o.commits_integrated.len()),
                    style::HINT,
                ));
                for (id, msg) in o.commits_integrated.iter().take(5) {
                    ctx.say(format!("  • {id} {}", crate::shell::one_line(msg)));
                }
                if o.commits_integrated.len() > 5 {
                    ctx.say(format!("  ... and {} more", o.commits_integrated.len() - 5));
                }
            }
        }
    }
    ctx.say("");
    Ok(())
}
