//! `context info|list|cleanup|mission-resolve|mission-show`: workspace
//! contexts and MissionContext tokens (see [`crate::ops::context_store`]).

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::cli::Ctx;
use crate::error::{Error, Result};
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
    let name = match &a.workspace {
        Some(w) => w.clone(),
        None => crate::ops::repair::enclosing_worktree(&ctx.cwd)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .ok_or_else(|| {
                Error::user("not inside a worktree and no --workspace given").with_hint(
                    "run it inside a lane worktree, or name one: `spec-kitty context info --workspace 010-feature-lane-a` (see `spec-kitty context list`)",
                )
            })?,
    };
    let w = store::find(project, &name)?.ok_or_else(|| {
        Error::user(format!("no context found for workspace {name}"))
            .with_hint("see the workspaces with `spec-kitty context list`")
    })?;
    if ctx.json {
        ctx.json_out(&w.context);
        return Ok(());
    }
    let c = &w.context;
    ctx.say(format!("Workspace Context: {}", w.name));
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
    Ok(())
}

fn list(ctx: &Ctx, a: &ListArgs) -> Result<()> {
    let project = ctx.project()?;
    if a.orphaned {
        let o = store::orphaned(project)?;
        if ctx.json {
            let v: Vec<Value> = o
                .iter()
                .map(|w| json!({ "workspace": w.name, "context": w.context }))
                .collect();
            ctx.json_out(&v);
            return Ok(());
        }
        if o.is_empty() {
            ctx.say("✓ No orphaned contexts found");
            return Ok(());
        }
        ctx.say(format!("Found {} orphaned context(s)", o.len()));
        for w in &o {
            ctx.say(format!("  {}", w.name));
            ctx.say(format!(
                "    Worktree: {} (deleted)",
                w.context.worktree_path
            ));
            ctx.say(format!("    Created: {}", w.context.created_at));
        }
        ctx.say("Clean up with: spec-kitty context cleanup");
        return Ok(());
    }
    let all = store::list(project)?;
    if ctx.json {
        let v: Vec<&store::WorkspaceContext> = all.iter().map(|w| &w.context).collect();
        ctx.json_out(&v);
        return Ok(());
    }
    if all.is_empty() {
        ctx.say("No workspace contexts found");
        return Ok(());
    }
    ctx.say(format!("Workspace Contexts ({} total)", all.len()));
    ctx.say(format!(
        "  {:<6} {:<30} {:<24} {:<16} {}",
        "WP", "Mission", "Base", "Dependencies", "Status"
    ));
    for w in &all {
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
    Ok(())
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
    let gone = if a.dry_run {
        store::orphaned(project)?
    } else {
        store::cleanup(project)?
    };
    if ctx.json {
        let names: Vec<&str> = gone.iter().map(|w| w.name.as_str()).collect();
        ctx.json_out(&json!({
            "dry_run": a.dry_run, "orphaned": names,
            "removed": if a.dry_run { 0 } else { gone.len() },
        }));
        return Ok(());
    }
    if gone.is_empty() {
        ctx.say("✓ No orphaned contexts to clean up");
        return Ok(());
    }
    ctx.say(format!("Found {} orphaned context(s):", gone.len()));
    for w in &gone {
        ctx.say(format!("  {}", w.name));
        ctx.say(format!("    {}", w.context.worktree_path));
    }
    if a.dry_run {
        ctx.say("Dry run - no files deleted");
        ctx.say(format!("Would delete {} context file(s)", gone.len()));
    } else {
        ctx.say(format!("✓ Cleaned up {} orphaned context(s)", gone.len()));
    }
    Ok(())
}

fn resolve(ctx: &Ctx, a: &ResolveArgs) -> Result<()> {
    let (project, m) = ctx.mission(a.mission.as_deref())?;
    let doc = store::resolve(project, &m, &a.wp, a.agent.as_deref().unwrap_or("unknown"))?;
    if ctx.json {
        ctx.json_out(&doc);
    } else {
        ctx.say(doc["token"].as_str().unwrap_or_default());
    }
    Ok(())
}

fn show(ctx: &Ctx, a: &ShowArgs) -> Result<()> {
    let project = ctx.project()?;
    let doc = store::show(project, &a.token)?;
    if ctx.json {
        ctx.json_out(&doc);
        return Ok(());
    }
    let s = |k: &str| field(&doc, k);
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
    Ok(())
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
