//! `spec-kitty agent release validate|prep`.

use crate::cli::output::style;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::release;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ReleaseCommand {
    /// Check version coherence, the changelog entry and tag progression
    Validate(ValidateArgs),
    /// Draft the changelog block and version bump for the next release
    Prep(PrepArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Channel {
    Stable,
    Rc,
    Alpha,
    Beta,
}

#[derive(Debug, Args)]
pub struct PrepArgs {
    /// Release channel
    #[arg(long, value_enum, default_value = "stable")]
    pub channel: Channel,
    /// Apply the block to CHANGELOG.md and bump the version files (all or nothing)
    #[arg(long)]
    pub write: bool,
    /// Repository root to prepare (default: the current directory)
    #[arg(long, value_name = "PATH")]
    pub repo: Option<std::path::PathBuf>,
}

pub fn run(ctx: &Ctx, cmd: ReleaseCommand) -> Result<()> {
    match cmd {
        ReleaseCommand::Validate(_) => run_validate(ctx),
        ReleaseCommand::Prep(a) => run_prep(ctx, &a),
    }
}

fn run_validate(ctx: &Ctx) -> Result<()> {
    let repo = release::open(&ctx.cwd)?;
    let gates = release::validate(&repo)?;
    let ok = gates.iter().all(|g| g.ok);
    let report = json!({
        "result": if ok { "success" } else { "failure" },
        "ok": ok,
        "version": repo.version,
        "manifest": repo.manifest_name(),
        "gates": gates,
    });
    if !ctx.json {
        for g in &gates {
            let mark = if g.ok {
                ctx.paint("PASS", style::GOOD)
            } else {
                ctx.paint("FAIL", style::ERROR)
            };
            ctx.say(format!("{mark} {:<20} {}", g.name, g.detail));
        }
    }
    if ok {
        if ctx.json {
            ctx.json_out(&report);
        }
        return Ok(());
    }
    let failed: Vec<&str> = gates
        .iter()
        .filter(|g| !g.ok)
        .map(|g| g.detail.as_str())
        .collect();
    // With --json the gates travel in the error object: still one document.
    Err(
        Error::user(format!("release validation failed: {}", failed.join("; ")))
            .with_details(report),
    )
}

fn run_prep(ctx: &Ctx, a: &PrepArgs) -> Result<()> {
    let root = match &a.repo {
        Some(r) => ctx.cwd.join(r),
        None => ctx.cwd.clone(),
    };
    crate::fsutil::fix_confinement_root(&root);
    let repo = release::open(&root)?;
    let channel = match a.channel {
        Channel::Stable => "stable",
        Channel::Rc => "rc",
        Channel::Alpha => "alpha",
        Channel::Beta => "beta",
    };
    let p = release::prep(&repo, channel, a.write)?;
    if ctx.json {
        let mut out = serde_json::to_value(&p).map_err(|e| Error::internal(e.to_string()))?;
        crate::cli::compat::extend(&mut out, compat_prep_keys(&p, &root));
        ctx.json_out(&out);
        return Ok(());
    }
    ctx.say(format!(
        "{} {} -> {} ({channel})",
        ctx.bold("Release"),
        p.current_version,
        p.target_version
    ));
    ctx.say(format!("version files: {}", p.version_files.join(", ")));
    ctx.say("");
    ctx.say(p.proposed_changelog_block.trim_end());
    for w in &p.warnings {
        ctx.warn(w);
    }
    if a.write {
        if p.written.is_empty() {
            ctx.say("\nnothing to write");
        } else {
            ctx.say(format!("\nwrote {}", p.written.join(", ")));
        }
    } else {
        ctx.say("\n(dry run: pass --write to apply)");
    }
    Ok(())
}

/// The reference's release-prep keys (see `cli::compat`).
fn compat_prep_keys(
    p: &release::Prep,
    root: &std::path::Path,
) -> serde_json::Map<String, serde_json::Value> {
    let slugs: Vec<&str> = p.missions.iter().map(|m| m.slug.as_str()).collect();
    let target = crate::project::Project::discover(root)
        .ok()
        .and_then(|pr| pr.current_branch())
        .unwrap_or_else(|| "main".into());
    let v = json!({
        "repo": root,
        "proposed_version": p.target_version,
        "changelog_block": p.proposed_changelog_block,
        "mission_slug_list": slugs,
        "target_branch": target,
        "structured_inputs": {
            "version": p.target_version,
            "tag_name": format!("v{}", p.target_version),
            "release_title": format!("Release v{}", p.target_version),
            "release_notes_body": p.proposed_changelog_block,
            "mission_slug_list": slugs.join(", "),
        },
    });
    v.as_object().cloned().unwrap_or_default()
}
