//! `spec-kitty sync ...`: the reference's sync group (see `crate::ops::sync`:
//! nothing is ever sent anywhere; teams sync through git).

use clap::{Args, Subcommand};

use serde_json::{json, Value};

use super::output::{error_json, style, Render};
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
        SyncCommand::Workspace(a) => ctx.render(&WorkspaceView {
            o: sync::workspace(ctx.project()?, a.repair)?,
            verbose: a.verbose,
        }),
        SyncCommand::Server { url } => {
            ctx.render(&sync::server(&SyncSettings::from_env()?, url.as_deref())?)
        }
        SyncCommand::Now(a) => {
            sync::now(&SyncSettings::from_env()?)?;
            ctx.render(&Nothing {
                report: a.report.is_some(),
            })
        }
        SyncCommand::Status { check } => ctx.render(&StatusView {
            s: sync::status(&SyncSettings::from_env()?, check)?,
            check,
        }),
        SyncCommand::Diagnose {} => ctx.render(&sync::diagnose()),
        SyncCommand::Doctor {} => ctx.render(&sync::doctor(&SyncSettings::from_env()?)?),
    }
}

/// `sync now`: nothing is queued, so nothing is sent.
struct Nothing {
    /// `--report PATH` was given.
    report: bool,
}

impl Render for Nothing {
    fn json(&self) -> Value {
        json!({"synced": 0, "queue_size": 0, "saas_enabled": false, "message": DISABLED, "report_written": false})
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(ctx.paint(DISABLED, style::CAUTION));
        ctx.say("Set SPEC_KITTY_ENABLE_SAAS_SYNC=1 to enable upload.");
        if self.report {
            ctx.say("No failures to report.");
        }
    }
}

impl Render for sync::Diagnosis {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(ctx.paint("No pending events in queue.", style::GOOD));
    }
}

/// The reference's two-column table without borders: one space, the key
/// padded to `width`, two spaces, the value.
fn row(ctx: &Ctx, width: usize, key: &str, value: &str) {
    let line = format!(" {key:<width$}  {value}");
    ctx.say(line.trim_end());
}

/// `sync status`, as the CLI shows it.
struct StatusView {
    s: sync::SyncStatus,
    /// `--check` was given.
    check: bool,
}

impl Render for StatusView {
    fn json(&self) -> Value {
        serde_json::to_value(&self.s).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let s = &self.s;
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
        if !self.check {
            ctx.say("Use 'spec-kitty sync status --check' to test connectivity.");
            ctx.say("");
        }
    }
}

impl Render for sync::SyncDoctor {
    fn json(&self) -> Value {
        match self.verdict() {
            Ok(()) => serde_json::to_value(self).unwrap_or_default(),
            Err(e) => error_json(&e),
        }
    }

    fn human(&self, ctx: &Ctx) {
        let d = self;
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
    }

    /// With SPEC_KITTY_ENABLE_SAAS_SYNC set, the server check it asks for is
    /// refused (nothing is sent anywhere): exit 1, the report in the error's details.
    fn verdict(&self) -> Result<()> {
        if !self.saas_enabled {
            return Ok(());
        }
        Err(sync::no_hosted_service("`sync doctor`'s server check")
            .with_details(serde_json::to_value(self).unwrap_or_default()))
    }
}

impl Render for sync::ServerOutcome {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        if self.changed {
            ctx.say(format!(
                "{} Sync server set to {}",
                ctx.paint("✓", style::GOOD),
                self.server_url
            ));
            ctx.say("If you switched environments, run 'spec-kitty auth login --force' to refresh credentials.");
        } else {
            ctx.say(format!("Server URL: {}", self.server_url));
            ctx.say(format!("Config File: {}", self.config_file.display()));
        }
    }
}

/// `sync workspace`, as the CLI shows it.
struct WorkspaceView {
    o: sync::WorkspaceSync,
    /// `--verbose`: list the commits brought in.
    verbose: bool,
}

impl Render for WorkspaceView {
    fn json(&self) -> Value {
        serde_json::to_value(&self.o).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let o = &self.o;
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
                if self.verbose {
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
    }
}
