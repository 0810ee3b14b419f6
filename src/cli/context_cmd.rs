//! `context info|list|cleanup|mission-resolve|mission-show`: workspace
//! contexts and MissionContext tokens (see [`crate::ops::context_store`]).

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::context_store::{self as store, Workspace};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ContextCommand {
    /// Show the context of the current (or a named) lane workspace
    Info(InfoArgs),
    /// List the workspace contexts (live lane worktrees and context files)
    List(ListArgs),
    /// Remove context files whose worktree is gone
    Cleanup(CleanupArgs),
    /// Bind a work package to a new context token, save it, and print the token
    MissionResolve(ResolveArgs),
    /// Show the fields of a saved context token
    MissionShow(ShowArgs),
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Workspace name, e.g. 010-feature-lane-a [default: the worktree the current directory is in]
    #[arg(long, short = 'w')]
    pub workspace: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the orphaned contexts (their worktree is gone)
    #[arg(long)]
    pub orphaned: bool,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Show what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Work package, e.g. WP01
    #[arg(long)]
    pub wp: String,
    /// Mission: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Agent recorded as the context's creator [default: unknown]
    #[arg(long)]
    pub agent: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The context token (ctx-<ULID>)
    #[arg(long = "context")]
    pub token: String,
}

pub fn run(ctx: &Ctx, cmd: Option<ContextCommand>) -> Result<()> {
    match cmd.unwrap_or(ContextCommand::Info(InfoArgs { workspace: None })) {
        ContextCommand::Info(a) => info(ctx, &a),
        ContextCommand::List(a) => list(ctx, &a),
        ContextCommand::Cleanup(a) => cleanup(ctx, &a),
        ContextCommand::MissionResolve(a) => resolve(ctx, &a),
        ContextCommand::MissionShow(a) => show(ctx, &a),
    }
}

fn info(ctx: &Ctx, a: &InfoArgs) -> Result<()> {
    let project = ctx.project()?;
    ctx.render(&store::info(project, &ctx.cwd, a.workspace.as_deref())?)
}

impl Render for Workspace {
    fn json(&self) -> Value {
        serde_json::to_value(&self.context).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let c = &self.context;
        ctx.say(format!("Workspace Context: {}", self.name));
        let deps = if c.dependencies.is_empty() {
            "none".to_string()
        } else {
            c.dependencies.join(", ")
        };
        for (k, v) in [
            ("Work Package", c.wp_id.as_str()),
            ("Mission", c.mission_slug.as_str()),
            ("Base Branch", c.base_branch.as_str()),
            ("Base Commit", crate::git::short12(&c.base_commit)),
            ("Dependencies", deps.as_str()),
            ("Created", c.created_at.as_str()),
            ("Worktree", c.worktree_path.as_str()),
            ("Branch", c.branch_name.as_str()),
            ("VCS Backend", c.vcs_backend.as_str()),
        ] {
            ctx.say(format!("  {k:<14}{v}"));
        }
        ctx.say(format!("  {:<14}{}", "Lane WPs", c.lane_wp_ids.join(", ")));
    }
}

fn list(ctx: &Ctx, a: &ListArgs) -> Result<()> {
    let project = ctx.project()?;
    if a.orphaned {
        ctx.render(&Orphans(store::orphaned(project)?))
    } else {
        ctx.render(&Contexts(store::list(project)?))
    }
}

/// `context list --orphaned`: context files whose worktree is gone.
struct Orphans(Vec<Workspace>);

impl Render for Orphans {
    fn json(&self) -> Value {
        let v: Vec<Value> = self
            .0
            .iter()
            .map(|w| json!({ "workspace": w.name, "context": w.context }))
            .collect();
        json!(v)
    }

    fn human(&self, ctx: &Ctx) {
        let o = &self.0;
        if o.is_empty() {
            ctx.say("✓ No orphaned contexts found");
            return;
        }
        ctx.say(format!("Found {} orphaned context(s)", o.len()));
        for w in o {
            ctx.say(format!("  {}", w.name));
            ctx.say(format!(
                "    Worktree: {} (deleted)",
                w.context.worktree_path
            ));
            ctx.say(format!("    Created: {}", w.context.created_at));
        }
        ctx.say("Clean up with: spec-kitty context cleanup");
    }
}

/// `context list`: every workspace context.
struct Contexts(Vec<Workspace>);

impl Render for Contexts {
    fn json(&self) -> Value {
        let v: Vec<&store::WorkspaceContext> = self.0.iter().map(|w| &w.context).collect();
        json!(v)
    }

    fn human(&self, ctx: &Ctx) {
        let all = &self.0;
        if all.is_empty() {
            ctx.say("No workspace contexts found");
            return;
        }
        ctx.say(format!("Workspace Contexts ({} total)", all.len()));
        ctx.say(format!(
            "  {:<6} {:<30} {:<24} {:<16} {}",
            "WP", "Mission", "Base", "Dependencies", "Status"
        ));
        for w in all {
            let c = &w.context;
            let deps = if c.dependencies.is_empty() {
                "none".to_string()
            } else {
                c.dependencies.join(", ")
            };
            ctx.say(format!(
                "  {:<6} {:<30} {:<24} {:<16} {}",
                c.wp_id,
                c.mission_slug,
                c.base_branch,
                deps,
                status(w)
            ));
        }
    }
}

fn status(w: &Workspace) -> &'static str {
    if w.active {
        "Active"
    } else {
        "Orphaned"
    }
}

fn cleanup(ctx: &Ctx, a: &CleanupArgs) -> Result<()> {
    let project = ctx.project()?;
    ctx.render(&Cleaned {
        gone: store::clean_up(project, a.dry_run)?,
        dry_run: a.dry_run,
    })
}

/// `context cleanup`: the orphaned contexts removed (or, dry run, that would be).
struct Cleaned {
    gone: Vec<Workspace>,
    dry_run: bool,
}

impl Render for Cleaned {
    fn json(&self) -> Value {
        let names: Vec<&str> = self.gone.iter().map(|w| w.name.as_str()).collect();
        json!({
            "dry_run": self.dry_run, "orphaned": names,
            "removed": if self.dry_run { 0 } else { self.gone.len() },
        })
    }

    fn human(&self, ctx: &Ctx) {
        let gone = &self.gone;
        if gone.is_empty() {
            ctx.say("✓ No orphaned contexts to clean up");
            return;
        }
        ctx.say(format!("Found {} orphaned context(s):", gone.len()));
        for w in gone {
            ctx.say(format!("  {}", w.name));
            ctx.say(format!("    {}", w.context.worktree_path));
        }
        if self.dry_run {
            ctx.say("Dry run - no files deleted");
            ctx.say(format!("Would delete {} context file(s)", gone.len()));
        } else {
            ctx.say(format!("✓ Cleaned up {} orphaned context(s)", gone.len()));
        }
    }
}

fn resolve(ctx: &Ctx, a: &ResolveArgs) -> Result<()> {
    let (project, m) = ctx.mission(a.mission.as_deref())?;
    ctx.render(&Token(store::resolve(
        project,
        &m,
        &a.wp,
        a.agent.as_deref().unwrap_or("unknown"),
    )?))
}

/// `context mission-resolve`: the new token's document; a person sees the token.
struct Token(Map<String, Value>);

impl Render for Token {
    fn json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(self.0["token"].as_str().unwrap_or_default());
    }
}

fn show(ctx: &Ctx, a: &ShowArgs) -> Result<()> {
    let project = ctx.project()?;
    ctx.render(&Shown(store::show(project, &a.token)?))
}

/// `context mission-show`: a saved token's fields.
struct Shown(Map<String, Value>);

impl Render for Shown {
    fn json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    fn human(&self, ctx: &Ctx) {
        let s = |k: &str| field(&self.0, k);
        ctx.say("MissionContext");
        for (label, key) in [
            ("Token", "token"),
            ("WP Code", "wp_code"),
            ("Mission Slug", "mission_slug"),
            ("Mission ID", "mission_id"),
            ("Work Package ID", "work_package_id"),
            ("Project UUID", "project_uuid"),
            ("Target Branch", "target_branch"),
            ("Authoritative Repo", "authoritative_repo"),
            ("Authoritative Ref", "authoritative_ref"),
            ("Execution Mode", "execution_mode"),
            ("Dependency Mode", "dependency_mode"),
            ("Created At", "created_at"),
            ("Created By", "created_by"),
            ("Owned Files", "owned_files"),
        ] {
            ctx.say(format!("  {label:<20}{}", s(key)));
        }
    }
}

fn field(doc: &Map<String, Value>, key: &str) -> String {
    match doc.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Null) | None => "none".into(),
        Some(Value::Array(_)) => "none".into(),
        Some(v) => v.to_string(),
    }
}
