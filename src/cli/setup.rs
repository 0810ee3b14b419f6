//! `spec-kitty config`, `verify-setup` and `migrate`: parse, call the
//! operation ([`crate::ops::config_show`], [`crate::ops::verify_setup`],
//! [`crate::ops::migrate`]), render.

use clap::Args;
use serde_json::{json, Value};

use super::output::{esc, style, Render};
use super::Ctx;
use crate::error::{Error, Result};
use crate::ops::{config_show, migrate, verify_setup};

#[derive(Debug, Args)]
pub struct ConfigArgs {
    // Reference: without --show-origin the command only says to use it.
    /// Show where each asset comes from (tier and path)
    #[arg(long)]
    pub show_origin: bool,
    /// Mission type to resolve the assets for
    #[arg(long, short = 'm', alias = "feature", default_value = crate::mission::types::DEFAULT)]
    pub mission: String,
}

pub fn run_config(ctx: &Ctx, a: &ConfigArgs) -> Result<()> {
    if !a.show_origin {
        return ctx.render(&Origins(None));
    }
    let project = ctx.project()?;
    let entries = config_show::origins(project, &a.mission)?;
    ctx.render(&Origins(Some(OriginTable {
        mission: a.mission.clone(),
        entries,
        skew: crate::config::version_skew(&project.root)?,
    })))
}

/// `config`: without `--show-origin`, only the hint to use it.
struct Origins(Option<OriginTable>);

/// `config --show-origin`: where each asset of a mission type comes from.
struct OriginTable {
    mission: String,
    entries: Vec<config_show::Origin>,
    /// Said after the table, in human output only.
    skew: Option<crate::project::VersionSkew>,
}

const SHOW_ORIGIN_HINT: &str = "Use --show-origin to display asset resolution details.";

impl Render for Origins {
    fn json(&self) -> Value {
        match &self.0 {
            None => json!({"hint": SHOW_ORIGIN_HINT}),
            Some(t) => json!({"mission": t.mission, "entries": t.entries}),
        }
    }

    fn human(&self, ctx: &Ctx) {
        let Some(t) = &self.0 else {
            ctx.say(SHOW_ORIGIN_HINT);
            return;
        };
        ctx.say(ctx.bold("Asset Resolution Origins"));
        ctx.say(format!(
            "{:<10} {:<26} {:<16} Resolved Path",
            "Type", "Name", "Tier"
        ));
        for e in &t.entries {
            let mut kind = e.asset_type.to_string();
            if let Some(c) = kind.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            ctx.say(format!(
                "{kind:<10} {:<26} {:<16} {}",
                e.name,
                e.tier.unwrap_or("not found"),
                e.resolved_path
                    .as_deref()
                    .or(e.error.as_deref())
                    .unwrap_or("")
            ));
        }
        if let Some(skew) = &t.skew {
            ctx.warn(skew.message());
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Mission to verify: 079, 079-slug, slug or mission_id
    #[arg(long, alias = "feature")]
    pub mission: Option<String>,
    /// Check the agents' command files (on by default)
    #[arg(long, overrides_with = "no_check_files")]
    pub check_files: bool,
    /// Skip the command-file check
    #[arg(long, overrides_with = "check_files")]
    pub no_check_files: bool,
    /// Look for the development tools on PATH (on by default)
    #[arg(long, overrides_with = "no_check_tools")]
    pub check_tools: bool,
    /// Skip the tool check
    #[arg(long, overrides_with = "check_tools")]
    pub no_check_tools: bool,
    /// Detailed diagnostics: every mission, worktrees and the dashboard's health
    #[arg(long)]
    pub diagnostics: bool,
}

/// What `verify-setup` is asked: the flags, and the command's directory
/// (the context's, as for every command, not the process's).
fn verify_request(ctx: &Ctx, a: &VerifyArgs) -> verify_setup::VerifyRequest {
    verify_setup::VerifyRequest {
        mission: a.mission.clone(),
        check_files: !a.no_check_files,
        check_tools: !a.no_check_tools,
        diagnostics: a.diagnostics,
        cwd: ctx.cwd.clone(),
    }
}

pub fn run_verify(ctx: &Ctx, a: &VerifyArgs) -> Result<()> {
    let req = verify_request(ctx, a);
    let project = match ctx.project() {
        Ok(p) => p,
        // The reference reports the tools even outside a project.
        Err(e) => {
            return ctx.render(&NoProject {
                tools: req.check_tools.then(verify_setup::tools),
                message: e.message.clone(),
                error: std::cell::Cell::new(Some(e)),
            })
        }
    };
    ctx.warn_version_skew(project)?;
    ctx.render(&Verified {
        report: verify_setup::verify(project, &req)?,
        diagnostics: a.diagnostics,
    })
}

/// `verify-setup` outside a project: the tools (unless skipped), then the error.
struct NoProject {
    tools: Option<std::collections::BTreeMap<&'static str, bool>>,
    message: String,
    /// The error the command ends with, once its output is out.
    error: std::cell::Cell<Option<Error>>,
}

impl Render for NoProject {
    fn json(&self) -> Value {
        let mut out = json!({"error": self.message});
        if let Some(t) = &self.tools {
            out["tools"] = tools_json(t);
        }
        out
    }

    fn human(&self, ctx: &Ctx) {
        if let Some(t) = &self.tools {
            say_tools(ctx, t);
        }
    }

    fn verdict(&self) -> Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Err(Error::user(self.message.clone())),
        }
    }
}

/// `verify-setup` in a project: the report, plain or `--diagnostics`.
struct Verified {
    report: Value,
    diagnostics: bool,
}

impl Render for Verified {
    fn json(&self) -> Value {
        self.report.clone()
    }

    fn human(&self, ctx: &Ctx) {
        let r = &self.report;
        if let Some(t) = r.get("tools") {
            let tools = t
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.as_str(), v["available"] == true))
                        .collect::<std::collections::BTreeMap<_, _>>()
                })
                .unwrap_or_default();
            say_tools(ctx, &tools);
        }
        if self.diagnostics {
            say_diagnostics(ctx, r);
        } else {
            say_verify(ctx, r);
        }
    }
}

fn tools_json(t: &std::collections::BTreeMap<&str, bool>) -> Value {
    let mut m = serde_json::Map::new();
    for (k, _) in verify_setup::TOOLS {
        m.insert(
            k.to_string(),
            json!({"available": t.get(k).copied().unwrap_or(false)}),
        );
    }
    Value::Object(m)
}

fn say_tools(ctx: &Ctx, t: &std::collections::BTreeMap<&str, bool>) {
    ctx.say(ctx.bold("Checking for installed tools..."));
    for (k, label) in verify_setup::TOOLS {
        let ok = t.get(k).copied().unwrap_or(false);
        ctx.say(format!(
            "  {} {label} ({})",
            if ok {
                ctx.paint("●", style::GOOD)
            } else {
                ctx.paint("○", style::DIM)
            },
            if ok { "available" } else { "not found" }
        ));
    }
    if !t.get("git").copied().unwrap_or(false) {
        ctx.say("Tip: Install git for repository management");
    }
    if !t.iter().any(|(k, v)| *k != "git" && *v) {
        ctx.say("Tip: Install an AI assistant for the best experience");
    }
    ctx.say("");
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => esc(s).into_owned(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn say_verify(ctx: &Ctx, r: &Value) {
    let env = &r["environment"];
    ctx.say(ctx.bold("Environment"));
    ctx.say(format!("  Project root:   {}", s(&env["project_root"])));
    ctx.say(format!("  Current branch: {}", s(&env["current_branch"])));
    ctx.say(format!(
        "  In a lane worktree: {}",
        if env["in_worktree"] == true {
            "yes"
        } else {
            "no"
        }
    ));
    let fi = &r["file_integrity"];
    if fi.get("total_expected").is_some() {
        ctx.say("");
        ctx.say(ctx.bold("Command files"));
        ctx.say(format!(
            "  {}/{} present",
            s(&fi["total_present"]),
            s(&fi["total_expected"])
        ));
        if let Some(m) = fi["missing_files"].as_object() {
            for p in m.keys().take(5) {
                ctx.say(format!("  missing: {}", esc(p)));
            }
            if m.len() > 5 {
                ctx.say(format!("  ... and {} more", m.len() - 5));
            }
        }
    }
    let fd = &r["feature_detection"];
    ctx.say("");
    ctx.say(ctx.bold("Mission"));
    if fd["detected"] == true {
        let fa = &r["feature_analysis"];
        ctx.say(format!(
            "  {} ({}): {}",
            s(&fd["mission_slug"]),
            s(&fd["mission_type"]),
            s(&fa["state"])
        ));
        ctx.say(format!(
            "  Worktree: {}",
            if fa["worktree_exists"] == true {
                s(&fa["worktree_path"])
            } else {
                "none".into()
            }
        ));
        if let Some(a) = fa["artifacts_in_main"].as_array() {
            let names: Vec<String> = a.iter().map(s).collect();
            ctx.say(format!("  Artifacts: {}", names.join(", ")));
        }
    } else {
        ctx.say(format!("  {}", s(&fd["error"])));
    }
    let ws = &r["worktree_status"];
    ctx.say("");
    ctx.say(ctx.bold("Missions"));
    ctx.say(format!(
        "  {} total, {} with worktrees, {} merged, {} in development, {} not started",
        s(&ws["total_features"]),
        s(&ws["active_worktrees"]),
        s(&ws["merged_features"]),
        s(&ws["in_development"]),
        s(&ws["not_started"])
    ));
    let ms = &r["managed_skills"];
    if ms.get("total_files").is_some() {
        ctx.say(format!(
            "  Managed command files: {} ok, {} missing, {} edited",
            s(&ms["ok"]),
            s(&ms["missing"]),
            s(&ms["drifted"])
        ));
    }
    say_list(ctx, "Observations", &r["observations"]);
    say_list(ctx, "Recommendations", &r["recommendations"]);
}

fn say_list(ctx: &Ctx, title: &str, v: &Value) {
    if let Some(a) = v.as_array().filter(|a| !a.is_empty()) {
        ctx.say("");
        ctx.say(ctx.bold(title));
        for o in a {
            ctx.say(format!("  • {}", s(o)));
        }
    }
}

fn say_diagnostics(ctx: &Ctx, r: &Value) {
    ctx.say(ctx.bold("Project Information"));
    ctx.say(format!("  Project Path:      {}", s(&r["project_path"])));
    ctx.say(format!(
        "  Current Directory: {}",
        s(&r["current_working_directory"])
    ));
    ctx.say(format!("  Git Branch:        {}", s(&r["git_branch"])));
    ctx.say(format!("  Active Mission:    {}", s(&r["active_mission"])));
    let fi = &r["file_integrity"];
    ctx.say("");
    ctx.say(ctx.bold("File Integrity"));
    ctx.say(format!(
        "  Files: {}/{} present",
        s(&fi["total_present"]),
        s(&fi["total_expected"])
    ));
    let wo = &r["worktree_overview"];
    ctx.say("");
    ctx.say(ctx.bold("Worktrees"));
    ctx.say(format!(
        "  Worktrees Exist: {}",
        if r["worktrees_exist"] == true {
            "Yes"
        } else {
            "No"
        }
    ));
    ctx.say(format!(
        "  Currently in Worktree: {}",
        if r["in_worktree"] == true {
            "Yes"
        } else {
            "No"
        }
    ));
    ctx.say(format!(
        "  Active Worktrees: {}",
        s(&wo["active_worktrees"])
    ));
    ctx.say(format!("  Total Missions: {}", s(&wo["total_features"])));
    let dh = &r["dashboard_health"];
    ctx.say("");
    ctx.say(ctx.bold("Dashboard Health"));
    if dh["metadata_exists"] == true {
        ctx.say(format!("  Port: {}", s(&dh["port"])));
        ctx.say(format!("  Process PID: {}", s(&dh["pid"])));
        ctx.say(format!(
            "  Responding: {}",
            if dh["responding"] == true {
                "Yes"
            } else {
                "No"
            }
        ));
    } else {
        ctx.say("  Dashboard not running (start it with `spec-kitty dashboard`)");
    }
    if let Some(all) = r["all_features"].as_array().filter(|a| !a.is_empty()) {
        ctx.say("");
        ctx.say(ctx.bold("All Missions"));
        for f in all {
            ctx.say(format!("  {:<40} {}", s(&f["name"]), s(&f["state"])));
        }
    }
    say_list(ctx, "Observations", &r["observations"]);
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Show what would change; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// List every .kittify/ entry and every mission touched
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    pub force: bool,
}

pub fn run_migrate(ctx: &Ctx, a: &MigrateArgs) -> Result<()> {
    let project = ctx.project()?;
    if !project.kittify_dir().is_dir() {
        return Err(
            Error::user("No .kittify/ directory found in the current project")
                .with_hint("run `spec-kitty init .` first"),
        );
    }
    if !a.dry_run && !a.force && ctx.can_ask() {
        let answer = ctx.ask("Migrate this project to this build's layout? [y/N]", "n");
        if !answer.is_some_and(|s| matches!(s.trim(), "y" | "Y" | "yes")) {
            return Err(Error::user("Aborted.").with_hint("pass --force to skip the question"));
        }
    }
    ctx.render(&Migrated {
        report: migrate::migrate(project, a.dry_run)?,
        dry_run: a.dry_run,
        verbose: a.verbose,
    })
}

/// What `migrate` did (or would do), and how much of it to list.
struct Migrated {
    report: migrate::MigrateReport,
    dry_run: bool,
    verbose: bool,
}

impl Render for Migrated {
    fn json(&self) -> Value {
        serde_json::to_value(&self.report).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let r = &self.report;
        if self.dry_run {
            ctx.say(ctx.bold("Dry run -- no changes made"));
        }
        let (would, did) = if self.dry_run {
            ("would ", "")
        } else {
            ("", "d")
        };
        ctx.say(format!(
            "  {} missions without a mission_id -- {would}assign{}",
            r.identities.len(),
            if self.dry_run { "" } else { "ed" }
        ));
        ctx.say(format!(
            "  {} missions with lanes only in frontmatter -- {would}migrate{did} to the status log",
            r.status.summary.total_migrated
        ));
        ctx.say(format!(
            "  {} .kittify/ entries project-specific -- kept",
            r.count("project")
        ));
        if r.count("legacy_asset") > 0 {
            ctx.say(format!(
                "  {} .kittify/ entries are an older version's template copies this build does not read -- kept",
                r.count("legacy_asset")
            ));
        }
        if r.count("unknown") > 0 {
            ctx.say(format!(
                "  {} .kittify/ entries unknown -- kept",
                r.count("unknown")
            ));
        }
        if self.verbose {
            for i in &r.identities {
                ctx.say(format!(
                    "    mission_id: {} -> {}",
                    i.mission_slug, i.mission_id
                ));
            }
            for f in r.status.features.iter().filter(|f| f.status == "migrated") {
                ctx.say(format!(
                    "    status log: {} ({} WPs)",
                    f.mission_slug, f.wp_count
                ));
            }
            for e in &r.entries {
                ctx.say(format!("    {}: {}", e.class, esc(&e.path)));
            }
        }
        if !self.dry_run {
            ctx.say("");
            ctx.say(format!("Migration complete ({} change(s)).", r.changes()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::output::{ColorChoice, GlobalArgs};

    /// The context names a project in another directory than the process's
    /// (a test runs in the crate's): verify-setup checks that project and
    /// reports that directory.
    #[test]
    fn verify_setup_checks_the_contexts_directory_not_the_processs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let sub = root.join("docs");
        std::fs::create_dir_all(root.join(".kittify")).unwrap();
        std::fs::create_dir_all(&sub).unwrap();
        assert_ne!(std::env::current_dir().unwrap(), sub);
        let ctx = Ctx::in_dir(
            &GlobalArgs {
                json: true,
                color: ColorChoice::Never,
            },
            sub.clone(),
        );
        let args = VerifyArgs {
            mission: None,
            check_files: false,
            no_check_files: true,
            check_tools: false,
            no_check_tools: true,
            diagnostics: false,
        };
        let req = verify_request(&ctx, &args);
        assert_eq!(req.cwd, sub);
        let project = crate::project::Project::discover(&ctx.cwd).unwrap();
        let report = verify_setup::verify(&project, &req).unwrap();
        let env = &report["environment"];
        assert_eq!(env["working_directory"], json!(sub));
        assert_eq!(env["project_root"], json!(root));
    }
}
