//! `spec-kitty agent release validate|prep`.

use crate::cli::output::{error_json, style, Render};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::ops::release as ops;

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
    ctx.render(&ops::validate(&ctx.cwd)?)
}

impl Render for ops::Validated {
    fn json(&self) -> Value {
        match self.verdict() {
            Ok(()) => report(self),
            Err(e) => error_json(&e),
        }
    }

    fn human(&self, ctx: &Ctx) {
        for g in &self.gates {
            let mark = if g.ok {
                ctx.paint("PASS", style::GOOD)
            } else {
                ctx.paint("FAIL", style::ERROR)
            };
            ctx.say(format!("{mark} {:<20} {}", g.name, g.detail));
        }
    }

    /// A failed gate fails the command; with --json the gates travel in the
    /// error document: still one document.
    fn verdict(&self) -> Result<()> {
        if self.ok() {
            return Ok(());
        }
        let failed: Vec<&str> = self
            .gates
            .iter()
            .filter(|g| !g.ok)
            .map(|g| g.detail.as_str())
            .collect();
        Err(
            Error::user(format!("release validation failed: {}", failed.join("; ")))
                .with_details(report(self)),
        )
    }
}

/// The gates as the one JSON report.
fn report(v: &ops::Validated) -> Value {
    let ok = v.ok();
    json!({
        "result": if ok { "success" } else { "failure" },
        "ok": ok,
        "version": v.version,
        "manifest": v.manifest,
        "gates": v.gates,
    })
}

fn run_prep(ctx: &Ctx, a: &PrepArgs) -> Result<()> {
    let root = match &a.repo {
        Some(r) => ctx.cwd.join(r),
        None => ctx.cwd.clone(),
    };
    let channel = match a.channel {
        Channel::Stable => "stable",
        Channel::Rc => "rc",
        Channel::Alpha => "alpha",
        Channel::Beta => "beta",
    };
    ctx.render(&PrepView {
        p: ops::prep(&root, channel, a.write)?,
        write: a.write,
    })
}

/// A proposed release, as the CLI shows it.
struct PrepView {
    p: ops::Prepared,
    write: bool,
}

impl Render for PrepView {
    fn json(&self) -> Value {
        let mut out = serde_json::to_value(&self.p.prep).unwrap_or_default();
        crate::cli::compat::extend(&mut out, compat_prep_keys(&self.p));
        out
    }

    fn human(&self, ctx: &Ctx) {
        let p = &self.p.prep;
        ctx.say(format!(
            "{} {} -> {} ({})",
            ctx.bold("Release"),
            p.current_version,
            p.target_version,
            p.channel
        ));
        ctx.say(format!("version files: {}", p.version_files.join(", ")));
        ctx.say("");
        ctx.say(p.proposed_changelog_block.trim_end());
        for w in &p.warnings {
            ctx.warn(w);
        }
        if self.write {
            if p.written.is_empty() {
                ctx.say("\nnothing to write");
            } else {
                ctx.say(format!("\nwrote {}", p.written.join(", ")));
            }
        } else {
            ctx.say("\n(dry run: pass --write to apply)");
        }
    }
}

/// The reference's release-prep keys (see `cli::compat`).
fn compat_prep_keys(p: &ops::Prepared) -> serde_json::Map<String, Value> {
    let (root, p, target) = (&p.root, &p.prep, &p.target_branch);
    let slugs: Vec<&str> = p.missions.iter().map(|m| m.slug.as_str()).collect();
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
