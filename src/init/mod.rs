//! Project set-up: `.kittify/`, the agents' slash commands, and the managed-files manifest.
//!
//! Everything is written inside the project directory; nothing runs git. The
//! same planner serves `init` (first run and re-runs) and `upgrade`: each
//! generated file is written when missing, left alone when identical, refreshed
//! when it still holds what spec-kitty last wrote, and never overwritten when the
//! user edited it (it is reported instead).

pub mod agents;
pub mod commands;
mod error;
pub mod manifest;
pub mod stale;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fsutil;
use crate::project::Project;
use agents::Agent;
use manifest::{content_hash, ManagedFile, Manifest};

pub use error::InitError;

type Result<T> = std::result::Result<T, InitError>;

pub use crate::config::{CONFIG_PATH, METADATA_PATH};

/// The line that marks the block of `.gitignore` entries spec-kitty maintains.
pub const GITIGNORE_MARKER: &str = "# Added by Spec Kitty CLI (auto-managed)";

/// Local state that must never be committed: agent directories, lane worktrees,
/// locks and runtime files.
pub fn gitignore_entries() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = agents::GITIGNORE_DIRS.to_vec();
    v.extend([
        ".worktrees/",
        ".kittify/.locks/",
        ".kittify/.dashboard",
        ".kittify/charter/context-state.json",
        ".kittify/charter/directives.yaml",
        ".kittify/charter/governance.yaml",
        ".kittify/charter/metadata.yaml",
        ".kittify/charter/references.yaml",
        ".kittify/dossiers/",
        ".kittify/events/",
        ".kittify/merge-state.json",
        ".kittify/missions/__pycache__/",
        ".kittify/runtime/",
        ".kittify/workspaces/",
    ]);
    v
}

/// The `.gitattributes` line that routes status event logs to the event-log merge driver.
pub const GITATTRIBUTES_LINE: &str =
    "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log";

/// What is at the target directory before anything is written.
#[derive(Debug, Clone, Default)]
pub struct TargetState {
    pub exists: bool,
    /// `.kittify/config.yaml` exists: a spec-kitty project.
    pub is_project: bool,
    /// Agents listed in `agents.available` (known keys only).
    pub configured_agents: Vec<&'static Agent>,
    /// Keys in `agents.available` this version does not know.
    pub unknown_configured: Vec<String>,
}

/// Look at `root` without writing. For a named target (`here == false`) that is
/// not a project, an existing non-empty directory is refused unless `force`.
pub fn inspect(root: &Path, here: bool, force: bool) -> Result<TargetState> {
    if !root.exists() {
        return Ok(TargetState::default());
    }
    if !root.is_dir() {
        return Err(InitError::NotADirectory {
            path: root.to_path_buf(),
        });
    }
    let config = root.join(CONFIG_PATH);
    if config.is_file() {
        let (configured_agents, unknown_configured) = read_configured_agents(root)?;
        return Ok(TargetState {
            exists: true,
            is_project: true,
            configured_agents,
            unknown_configured,
        });
    }
    if !here && !force {
        let mut entries: Vec<String> = fs::read_dir(root)
            .map_err(|e| InitError::io("list", root, e))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            // `.kittify/` alone is an interrupted init (or another init holding the lock).
            .filter(|n| n != ".kittify")
            .collect();
        entries.sort();
        if !entries.is_empty() {
            return Err(InitError::NotEmpty {
                root: root.to_path_buf(),
                entries,
            });
        }
    }
    Ok(TargetState {
        exists: true,
        ..Default::default()
    })
}

fn read_configured_agents(root: &Path) -> Result<(Vec<&'static Agent>, Vec<String>)> {
    let config = crate::config::Config::load(root)?;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for key in config.available_agents() {
        match agents::find(&key) {
            Some(a) if !known.contains(&a) => known.push(a),
            Some(_) => {}
            None => unknown.push(key),
        }
    }
    Ok((known, unknown))
}

/// Options for one `init` run.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub root: PathBuf,
    /// `init .` or no name: set up the current directory.
    pub here: bool,
    /// Agents asked for with `--ai`; `None` keeps the configured ones.
    pub agents: Option<Vec<&'static Agent>>,
    pub force: bool,
}

/// What `init` or `upgrade` did (or, for `upgrade --dry-run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub project_path: String,
    pub already_initialized: bool,
    pub agents: Vec<String>,
    pub agents_added: Vec<String>,
    pub files_written: Vec<String>,
    pub files_unchanged: Vec<String>,
    pub files_skipped_user_modified: Vec<String>,
    pub files_removed: Vec<String>,
    pub gitignore_added: Vec<String>,
    pub gitattributes_updated: bool,
    /// Merge drivers registered in `.git/config` (the root is a git repository).
    pub drivers_registered: Vec<String>,
    pub config_written: bool,
    pub metadata_written: bool,
    pub warnings: Vec<String>,
}

/// Set up (or refresh) the project at `opts.root`.
pub fn init(opts: &InitOptions) -> Result<Report> {
    // Refuse early, before creating anything (not even the lock file).
    let early = inspect(&opts.root, opts.here, opts.force)?;
    if early.exists && !early.is_project && !opts.force {
        let requested = opts.agents.clone().unwrap_or_default();
        let plan = plan_files(&opts.root, &requested, &Manifest::load(&opts.root)?)?;
        refuse_conflicts(&opts.root, &plan.conflicts)?;
    }
    let mut every_agent = early.configured_agents.clone();
    every_agent.extend(opts.agents.iter().flatten());
    check_targets(&opts.root, &every_agent)?;
    fsutil::create_dir_all(&opts.root).map_err(InitError::Fs)?;
    let root = crate::project::normalize(&opts.root);
    let _lock = fsutil::FileLock::acquire(
        &Project::at(&root).locks_dir().join("init.lock"),
        fsutil::LOCK_TIMEOUT,
        "project set-up (another `spec-kitty init` or `upgrade` is running)",
    )?;
    // Look again under the lock: another init may have finished meanwhile.
    let state = inspect(&root, opts.here, opts.force)?;
    crate::env::pause_at(crate::env::PausePoint::InitBeforeWrite);

    let mut report = Report {
        project_path: root.to_string_lossy().into_owned(),
        already_initialized: state.is_project,
        ..Default::default()
    };
    for key in &state.unknown_configured {
        report.warnings.push(format!(
            "{CONFIG_PATH} lists unknown agent '{key}'; it is kept but gets no slash commands"
        ));
    }
    let mut selected: Vec<&'static Agent> = state.configured_agents.clone();
    for a in opts.agents.iter().flatten() {
        if !selected.contains(a) {
            selected.push(a);
            report.agents_added.push(a.key.to_string());
        }
    }
    if selected.is_empty() {
        return Err(InitError::NoAgentSelected);
    }
    report.agents = selected.iter().map(|a| a.key.to_string()).collect();

    let mut manifest = Manifest::load(&root)?;
    let plan = plan_files(&root, &selected, &manifest)?;
    if !state.is_project && !opts.force {
        refuse_conflicts(&root, &plan.conflicts)?;
    }
    apply_plan(&root, plan, opts.force, &mut manifest, &mut report)?;

    if !root.join(METADATA_PATH).exists() {
        fsutil::atomic_write(&root.join(METADATA_PATH), new_metadata().as_bytes())
            .map_err(InitError::Fs)?;
        report.metadata_written = true;
    }
    report.gitignore_added = ensure_gitignore(&root, false)?;
    report.gitattributes_updated = ensure_gitattributes(&root)?;
    report.drivers_registered = register_drivers(&root)?;
    // config.yaml last: it is what marks the directory as a project.
    let config = root.join(CONFIG_PATH);
    if !state.is_project {
        fsutil::atomic_write(&config, new_config(&selected).as_bytes()).map_err(InitError::Fs)?;
        report.config_written = true;
    } else if !report.agents_added.is_empty() {
        add_agents_to_config(&root, &report.agents_added)?;
        report.config_written = true;
    }
    Ok(report)
}

/// Check every path `init`/`upgrade` may write under `root` (for `agents`)
/// before writing any: a link among them, or a folder on the way, that leads
/// out of the project refuses the whole command with nothing written, not
/// half way through (a `.gitignore` link found after `.kittify/` and the agent
/// folders were made).
fn check_targets(root: &Path, agents: &[&'static Agent]) -> Result<()> {
    let mut rels: Vec<String> = [
        CONFIG_PATH,
        METADATA_PATH,
        manifest::MANIFEST_PATH,
        ".gitignore",
        ".gitattributes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for agent in agents {
        rels.extend(
            commands::COMMANDS
                .iter()
                .map(|c| commands::rel_path(agent, c)),
        );
    }
    let project = Project::at(root);
    let mut paths: Vec<PathBuf> = rels.iter().map(|r| root.join(r)).collect();
    paths.push(project.locks_dir().join("init.lock"));
    if let Some(common) = &project.git_common_dir {
        paths.push(common.join("config"));
    }
    for path in &paths {
        fsutil::check_write(path).map_err(InitError::Fs)?;
    }
    Ok(())
}

fn refuse_conflicts(root: &Path, conflicts: &[String]) -> Result<()> {
    if conflicts.is_empty() {
        return Ok(());
    }
    Err(InitError::Conflicts {
        root: root.to_path_buf(),
        conflicts: conflicts.to_vec(),
    })
}

/// What `upgrade` did (or, with `--dry-run`, would do).
#[derive(Debug, Clone)]
pub struct UpgradeReport {
    pub report: Report,
    pub from_version: Option<String>,
    pub to_version: String,
    pub metadata_updated: bool,
    pub dry_run: bool,
}

/// Bring the project's metadata and generated files up to this binary's version.
pub fn upgrade(project: &Project, dry_run: bool) -> Result<UpgradeReport> {
    let root = project.root.clone();
    let _lock = fsutil::FileLock::acquire(
        &project.locks_dir().join("init.lock"),
        fsutil::LOCK_TIMEOUT,
        "project set-up (another `spec-kitty init` or `upgrade` is running)",
    )?;
    let from_version = crate::config::Metadata::load(&root)?.version;
    if let Some(v) = &from_version {
        if crate::project::compare_versions(v, crate::VERSION) == Some(std::cmp::Ordering::Greater)
        {
            return Err(InitError::NewerProject { version: v.clone() });
        }
    }
    let state = inspect(&root, true, true)?;
    if !dry_run {
        check_targets(&root, &state.configured_agents)?;
    }
    let mut report = Report {
        project_path: root.to_string_lossy().into_owned(),
        already_initialized: state.is_project,
        agents: state
            .configured_agents
            .iter()
            .map(|a| a.key.to_string())
            .collect(),
        ..Default::default()
    };
    for key in &state.unknown_configured {
        report.warnings.push(format!(
            "{CONFIG_PATH} lists unknown agent '{key}'; it gets no slash commands"
        ));
    }
    if !state.is_project {
        report
            .warnings
            .push(format!("{CONFIG_PATH} is missing; no agents to refresh"));
    }
    let mut manifest = Manifest::load(&root)?;
    let plan = plan_files(&root, &state.configured_agents, &manifest)?;
    let metadata_path = root.join(METADATA_PATH);
    let new_meta = upgraded_metadata(&metadata_path)?;
    let metadata_updated = new_meta.is_some();
    if dry_run {
        report.files_written = plan.write.iter().map(|f| f.rel.clone()).collect();
        report.files_unchanged = plan.unchanged.iter().map(|f| f.rel.clone()).collect();
        report.files_skipped_user_modified = plan
            .user_modified
            .iter()
            .chain(&plan.conflicts)
            .cloned()
            .collect();
        report.files_removed = plan.remove.clone();
        report.gitignore_added = ensure_gitignore(&root, true)?;
    } else {
        // Files the user already has without a record count as their own here.
        apply_plan(&root, plan, false, &mut manifest, &mut report)?;
        report.gitignore_added = ensure_gitignore(&root, false)?;
        report.gitattributes_updated = ensure_gitattributes(&root)?;
        report.drivers_registered = register_drivers(&root)?;
        if let Some(text) = &new_meta {
            fsutil::atomic_write(&metadata_path, text.as_bytes()).map_err(InitError::Fs)?;
            report.metadata_written = true;
        }
    }
    Ok(UpgradeReport {
        report,
        from_version,
        to_version: crate::VERSION.to_string(),
        metadata_updated,
        dry_run,
    })
}

/// Refresh only the agents' slash-command files of the project at `root`
/// (written when missing or still as spec-kitty wrote them; edited ones are
/// left alone and reported). Nothing else is touched: no metadata, no manifest
/// (read, not written), no `.gitignore`, no git configuration. `upgrade` runs it in each lane worktree,
/// whose tracked files belong to the lane.
pub fn refresh_commands(root: &Path, dry_run: bool) -> Result<Report> {
    let project = Project::at(root);
    let _lock = fsutil::FileLock::acquire(
        &project.locks_dir().join("init.lock"),
        fsutil::LOCK_TIMEOUT,
        "project set-up (another `spec-kitty init` or `upgrade` is running)",
    )?;
    let state = inspect(root, true, true)?;
    let mut report = Report {
        project_path: root.to_string_lossy().into_owned(),
        already_initialized: state.is_project,
        agents: state
            .configured_agents
            .iter()
            .map(|a| a.key.to_string())
            .collect(),
        ..Default::default()
    };
    let mut manifest = Manifest::load(root)?;
    let plan = plan_files(root, &state.configured_agents, &manifest)?;
    if dry_run {
        report.files_written = plan.write.iter().map(|f| f.rel.clone()).collect();
        report.files_unchanged = plan.unchanged.iter().map(|f| f.rel.clone()).collect();
        report.files_skipped_user_modified = plan
            .user_modified
            .iter()
            .chain(&plan.conflicts)
            .cloned()
            .collect();
        return Ok(report);
    }
    check_targets(root, &state.configured_agents)?;
    apply_plan_to(root, plan, false, &mut manifest, &mut report, false)?;
    Ok(report)
}

/// One generated file and its desired content.
#[derive(Debug, Clone)]
struct Planned {
    rel: String,
    content: String,
    agent: &'static str,
    command: &'static str,
}

#[derive(Debug, Default)]
struct Plan {
    /// Missing, or still exactly what spec-kitty last wrote: (re)write.
    write: Vec<Planned>,
    unchanged: Vec<Planned>,
    /// Recorded in the manifest but edited since: leave alone.
    user_modified: Vec<String>,
    /// Present, different, and not recorded: someone else's file.
    conflicts: Vec<String>,
    conflict_files: Vec<Planned>,
    /// Recorded files this version no longer generates, unedited: delete.
    remove: Vec<String>,
}

fn plan_files(root: &Path, selected: &[&'static Agent], manifest: &Manifest) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut wanted = std::collections::BTreeSet::new();
    for agent in selected {
        for cmd in &commands::COMMANDS {
            let p = Planned {
                rel: commands::rel_path(agent, cmd),
                content: commands::render(agent, cmd),
                agent: agent.key,
                command: cmd.name,
            };
            wanted.insert(p.rel.clone());
            let path = root.join(&p.rel);
            let current = match fs::read(&path) {
                Ok(b) => Some(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(InitError::io("read", &path, e)),
            };
            match current {
                None => plan.write.push(p),
                Some(b) if b == p.content.as_bytes() => plan.unchanged.push(p),
                Some(b) => match manifest.files.get(&p.rel) {
                    Some(rec) if rec.hash == content_hash(&b) => plan.write.push(p),
                    Some(_) => plan.user_modified.push(p.rel),
                    None => {
                        plan.conflicts.push(p.rel.clone());
                        plan.conflict_files.push(p);
                    }
                },
            }
        }
    }
    let keys: Vec<&str> = selected.iter().map(|a| a.key).collect();
    for (rel, rec) in &manifest.files {
        if wanted.contains(rel) || !keys.contains(&rec.agent.as_str()) {
            continue;
        }
        match fs::read(root.join(rel)) {
            Ok(b) if content_hash(&b) == rec.hash => plan.remove.push(rel.clone()),
            Ok(_) => plan.user_modified.push(rel.clone()),
            Err(_) => plan.remove.push(rel.clone()),
        }
    }
    Ok(plan)
}

/// Carry out a plan: write, record, report. With `replace_conflicts`, files that
/// were there before spec-kitty are replaced; otherwise they are reported as the
/// user's and left alone.
fn apply_plan(
    root: &Path,
    plan: Plan,
    replace_conflicts: bool,
    manifest: &mut Manifest,
    report: &mut Report,
) -> Result<()> {
    apply_plan_to(root, plan, replace_conflicts, manifest, report, true)
}

/// [`apply_plan`], saving the manifest only when `save_manifest` (a lane
/// worktree's manifest is the lane's tracked file: it is read, never written).
fn apply_plan_to(
    root: &Path,
    plan: Plan,
    replace_conflicts: bool,
    manifest: &mut Manifest,
    report: &mut Report,
    save_manifest: bool,
) -> Result<()> {
    let mut write = plan.write;
    if replace_conflicts {
        write.extend(plan.conflict_files);
    } else {
        report
            .files_skipped_user_modified
            .extend(plan.conflicts.iter().cloned());
    }
    // One batch: temp files written in parallel, renamed, then each directory
    // synced once (not once per file).
    let paths: Vec<PathBuf> = write.iter().map(|p| root.join(&p.rel)).collect();
    for dir in paths.iter().filter_map(|p| p.parent()) {
        fsutil::create_dir_all(dir).map_err(InitError::Fs)?;
    }
    let files: Vec<(&Path, &[u8])> = paths
        .iter()
        .zip(&write)
        .map(|(path, p)| (path.as_path(), p.content.as_bytes()))
        .collect();
    fsutil::atomic_write_all(&files).map_err(InitError::Fs)?;
    for p in write.iter().chain(&plan.unchanged) {
        manifest.files.insert(
            p.rel.clone(),
            ManagedFile {
                hash: content_hash(p.content.as_bytes()),
                agent: p.agent.to_string(),
                command: p.command.to_string(),
            },
        );
    }
    for rel in &plan.remove {
        let path = root.join(rel);
        // The manifest is repo content: a `..` or linked entry never leads out.
        if crate::confine::remove_file(&Project::at(root), &path).map_err(InitError::Confine)? {
            report.files_removed.push(rel.clone());
        }
        manifest.files.remove(rel);
    }
    report.files_written = write.into_iter().map(|p| p.rel).collect();
    report.files_unchanged = plan.unchanged.into_iter().map(|p| p.rel).collect();
    report
        .files_skipped_user_modified
        .extend(plan.user_modified);
    if !save_manifest {
        return Ok(());
    }
    manifest.version = 1;
    if !report.files_written.is_empty() || manifest.spec_kitty_version.is_empty() {
        manifest.spec_kitty_version = crate::VERSION.to_string();
    }
    fsutil::create_dir_all(&root.join(".kittify")).map_err(InitError::Fs)?;
    manifest.save(root)?;
    Ok(())
}

/// Is a `git` executable on PATH? (Looked up, never run.)
pub fn git_on_path() -> bool {
    let Some(path) = crate::env::path() else {
        return false;
    };
    std::env::split_paths(&path).any(|d| d.join("git").is_file() || d.join("git.exe").is_file())
}

fn new_config(selected: &[&'static Agent]) -> String {
    let mut s = String::new();
    if git_on_path() {
        s.push_str("vcs:\n  type: git\n");
    }
    s.push_str("agents:\n  available:\n");
    for a in selected {
        s.push_str(&format!("  - {}\n", a.key));
    }
    // spec-kitty never commits on its own (only `merge` does).
    s.push_str("  auto_commit: false\n");
    s
}

/// Append agent keys to `agents.available`, keeping every other key of the
/// file (through [`crate::config::Config::with_agents`]).
fn add_agents_to_config(root: &Path, added: &[String]) -> Result<()> {
    let config = crate::config::Config::load(root)?;
    let out = config.with_agents(added)?;
    fsutil::atomic_write(&config.path, out.as_bytes()).map_err(InitError::Fs)
}

const METADATA_HEADER: &str =
    "# Spec Kitty Project Metadata\n# Auto-generated by spec-kitty init/upgrade\n# DO NOT EDIT MANUALLY\n";

fn new_metadata() -> String {
    format!(
        "{METADATA_HEADER}\nspec_kitty:\n  version: {}\n  initialized_at: '{}'\n  last_upgraded_at: null\nenvironment:\n  platform: {}\nmigrations:\n  applied: []\n",
        crate::VERSION,
        crate::timefmt::now_local_naive(),
        // The names Python's sys.platform uses, which the reference records.
        match std::env::consts::OS {
            "macos" => "darwin",
            "windows" => "win32",
            other => other,
        }
    )
}

/// The new text of metadata.yaml when its `spec_kitty.version` is not this
/// binary's (None when already current). Only the `version` and
/// `last_upgraded_at` lines change; comments and other keys are kept.
fn upgraded_metadata(path: &Path) -> Result<Option<String>> {
    if !path.exists() {
        return Ok(Some(new_metadata()));
    }
    let text = fsutil::read_to_string(path).map_err(InitError::Fs)?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == "spec_kitty:") else {
        let mut out = text.trim_end().to_string();
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "spec_kitty:\n  version: {}\n  initialized_at: null\n  last_upgraded_at: '{}'\n",
            crate::VERSION,
            crate::timefmt::now_local_naive()
        ));
        return Ok(Some(out));
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with([' ', '\t']) && !l.starts_with('#'))
        .map_or(lines.len(), |i| start + 1 + i);
    let find = |lines: &[String], key: &str| {
        (start + 1..end).find(|&i| lines[i].trim_start().starts_with(&format!("{key}:")))
    };
    let current = find(&lines, "version").map(|i| {
        lines[i]
            .trim_start()
            .trim_start_matches("version:")
            .trim()
            .trim_matches(['\'', '"'])
            .to_string()
    });
    if current.as_deref() == Some(crate::VERSION) {
        return Ok(None);
    }
    let version_line = format!("  version: {}", crate::VERSION);
    let upgraded_line = format!(
        "  last_upgraded_at: '{}'",
        crate::timefmt::now_local_naive()
    );
    match find(&lines, "last_upgraded_at") {
        Some(i) => lines[i] = upgraded_line,
        None => lines.insert(end, upgraded_line),
    }
    match find(&lines, "version") {
        Some(i) => lines[i] = version_line,
        None => lines.insert(start + 1, version_line),
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(Some(out))
}

/// Add missing entries to `.gitignore` (all agents' directories and local state).
/// Returns the entries added (or that would be, with `dry_run`).
fn ensure_gitignore(root: &Path, dry_run: bool) -> Result<Vec<String>> {
    let path = root.join(".gitignore");
    let existing = if path.exists() {
        fsutil::read_to_string(&path).map_err(InitError::Fs)?
    } else {
        String::new()
    };
    let present: std::collections::HashSet<&str> = existing.lines().map(str::trim).collect();
    let missing: Vec<String> = gitignore_entries()
        .into_iter()
        .filter(|e| !present.contains(e))
        .map(str::to_string)
        .collect();
    if missing.is_empty() || dry_run {
        return Ok(missing);
    }
    let nl = if existing.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = existing.clone();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    let last_blank = out.lines().last().is_none_or(|l| l.trim().is_empty());
    if !last_blank {
        out.push_str(nl);
    }
    if !present.contains(GITIGNORE_MARKER) {
        out.push_str(GITIGNORE_MARKER);
        out.push_str(nl);
    }
    for e in &missing {
        out.push_str(e);
        out.push_str(nl);
    }
    fsutil::atomic_write(&path, out.as_bytes()).map_err(InitError::Fs)?;
    Ok(missing)
}

/// Add the merge drivers' `.gitattributes` lines that are missing.
fn ensure_gitattributes(root: &Path) -> Result<bool> {
    let path = root.join(".gitattributes");
    let existing = if path.exists() {
        fsutil::read_to_string(&path).map_err(InitError::Fs)?
    } else {
        String::new()
    };
    let missing: Vec<&str> = crate::status::drivers::DRIVERS
        .iter()
        .map(|d| d.attributes)
        .filter(|line| !existing.lines().any(|l| l.trim() == *line))
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    let nl = if existing.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = existing;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    for line in missing {
        out.push_str(line);
        out.push_str(nl);
    }
    fsutil::atomic_write(&path, out.as_bytes()).map_err(InitError::Fs)?;
    Ok(true)
}

/// Register the merge drivers in the repository's own git configuration when
/// the project root is a git repository (writes `.git/config`; runs no git).
fn register_drivers(root: &Path) -> Result<Vec<String>> {
    match Project::at(root).git_common_dir {
        Some(common) => Ok(crate::status::drivers::ensure_registered(
            &common,
            crate::env::current_exe().as_deref(),
        )
        .map_err(InitError::Status)?
        .into_iter()
        .map(str::to_string)
        .collect()),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_non_empty_target_is_refused_with_its_entries_as_details() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["a", "b", "c", "d", "e", "f", "g"] {
            fs::write(dir.path().join(n), "").unwrap();
        }
        let e = inspect(dir.path(), false, false).unwrap_err();
        assert!(
            matches!(&e, InitError::NotEmpty { entries, .. } if entries.len() == 7),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert!(
            e.message
                .contains("is not empty (a, b, c, d, e and 2 more)"),
            "{}",
            e.message
        );
        assert_eq!(e.details.unwrap()["conflicts"].as_array().unwrap().len(), 7);
    }

    #[test]
    fn a_broken_config_or_manifest_keeps_the_parser_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        fs::write(dir.path().join(CONFIG_PATH), "agents: [codex\n").unwrap();
        let e = inspect(dir.path(), true, false).unwrap_err();
        assert!(
            matches!(
                &e,
                InitError::Config(crate::config::ConfigError::Yaml { line: Some(_), .. })
            ),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .source()
            .unwrap()
            .downcast_ref::<serde_yaml::Error>()
            .is_some());
        assert!(crate::Error::from(e)
            .hint
            .unwrap()
            .contains("agents.available"));

        fs::write(dir.path().join(manifest::MANIFEST_PATH), "{\"files\": 3}").unwrap();
        let e = Manifest::load(dir.path()).unwrap_err();
        assert!(matches!(&e, InitError::BadManifest { .. }), "{e:?}");
        assert!(e
            .source()
            .unwrap()
            .source()
            .unwrap()
            .downcast_ref::<serde_json::Error>()
            .is_some());
        let e = crate::Error::from(e);
        assert!(
            e.message.contains("managed-files.json:1: "),
            "{}",
            e.message
        );
    }

    #[test]
    fn metadata_upgrade_changes_only_two_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("metadata.yaml");
        fs::write(
            &p,
            "# c\n\nspec_kitty:\n  version: 3.0.2\n  initialized_at: '2026-01-01T00:00:00'\n  last_upgraded_at: null\nenvironment:\n  platform: linux\n",
        )
        .unwrap();
        let out = upgraded_metadata(&p).unwrap().unwrap();
        let doc: serde_yaml::Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(doc["spec_kitty"]["version"].as_str(), Some(crate::VERSION));
        assert!(doc["spec_kitty"]["last_upgraded_at"].as_str().is_some());
        assert_eq!(
            doc["spec_kitty"]["initialized_at"].as_str(),
            Some("2026-01-01T00:00:00")
        );
        assert!(out.starts_with("# c\n\nspec_kitty:\n"));
        assert!(out.contains("environment:\n  platform: linux\n"));
        fs::write(&p, &out).unwrap();
        assert!(upgraded_metadata(&p).unwrap().is_none());
    }

    #[test]
    fn gitignore_appends_once_and_keeps_crlf() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".gitignore"), "target/\r\n.codex/\r\n").unwrap();
        let added = ensure_gitignore(dir.path(), false).unwrap();
        assert!(!added.contains(&".codex/".to_string()));
        assert!(added.contains(&".worktrees/".to_string()));
        let text = fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert!(text.starts_with("target/\r\n.codex/\r\n\r\n# Added by Spec Kitty"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(ensure_gitignore(dir.path(), false).unwrap().is_empty());
    }
}
