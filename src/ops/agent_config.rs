//! `agent config list|add|remove|set|status|sync`: the project's agent set in
//! `.kittify/config.yaml` (`agents.available`, `agents.auto_commit`) and the
//! slash-command files spec-kitty writes for each agent inside the project.
//!
//! Unlike the reference, which deletes an agent's whole top-level folder
//! (`.claude/`, `.github/`...), removal here touches only the command files
//! spec-kitty generated (recorded in `.kittify/managed-files.json`, or named
//! `spec-kitty.*` in the agent's command folder) and leaves files the user
//! edited; nothing is written outside the project.

use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::init::agents::{self, Agent, AGENTS};
use crate::init::manifest::{content_hash, Manifest};
use crate::init::{self, InitOptions, CONFIG_PATH};
use crate::project::Project;

/// One agent's place in the project.
#[derive(Debug, Clone, Serialize)]
pub struct AgentState {
    pub key: String,
    /// The agent's command folder, project-relative (`.claude/commands`).
    pub directory: String,
    pub configured: bool,
    /// The command folder exists.
    pub exists: bool,
    /// spec-kitty command files present in the folder.
    pub command_files: usize,
    /// `ok`, `missing`, `orphaned` or `not_used`.
    pub status: &'static str,
}

/// The whole agent set: every known agent, the configured ones first in config order.
#[derive(Debug, Clone, Serialize)]
pub struct AgentSet {
    pub configured: Vec<AgentState>,
    /// Keys in `agents.available` this build does not know.
    pub unknown: Vec<String>,
    /// Known agents not configured (sorted).
    pub not_configured: Vec<AgentState>,
    pub auto_commit: bool,
}

impl AgentSet {
    /// Every known agent, sorted by key (the `status` table).
    pub fn all_sorted(&self) -> Vec<&AgentState> {
        let mut v: Vec<&AgentState> = self.configured.iter().chain(&self.not_configured).collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    pub fn orphaned(&self) -> Vec<&AgentState> {
        self.all_sorted()
            .into_iter()
            .filter(|a| a.status == "orphaned")
            .collect()
    }
}

fn spec_kitty_files(root: &Path, agent: &Agent) -> Vec<String> {
    let dir = root.join(agent.command_dir);
    let Ok(rd) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.starts_with("spec-kitty.") && n.ends_with(agent.ext))
        .map(|n| format!("{}/{n}", agent.command_dir))
        .collect();
    out.sort();
    out
}

fn state_of(root: &Path, agent: &Agent, configured: bool) -> AgentState {
    let exists = root.join(agent.command_dir).is_dir();
    let files = spec_kitty_files(root, agent).len();
    let status = match (configured, exists, files > 0) {
        (true, true, _) => "ok",
        (true, false, _) => "missing",
        (false, _, true) => "orphaned",
        (false, _, false) => "not_used",
    };
    AgentState {
        key: agent.key.to_string(),
        directory: agent.command_dir.to_string(),
        configured,
        exists,
        command_files: files,
        status,
    }
}

/// Read the agent set of the project.
pub fn list(project: &Project) -> Result<AgentSet> {
    let root = &project.root;
    let state = init::inspect(root, true, false)?;
    if !state.is_project {
        return Err(Error::user(format!(
            "{CONFIG_PATH} is missing: not a spec-kitty project"
        ))
        .with_hint("run `spec-kitty init .` first"));
    }
    let configured: Vec<AgentState> = state
        .configured_agents
        .iter()
        .map(|a| state_of(root, a, true))
        .collect();
    let mut not_configured: Vec<AgentState> = AGENTS
        .iter()
        .filter(|a| !state.configured_agents.contains(a))
        .map(|a| state_of(root, a, false))
        .collect();
    not_configured.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(AgentSet {
        configured,
        unknown: state.unknown_configured,
        not_configured,
        auto_commit: crate::config::auto_commit_enabled(root)?,
    })
}

/// Every key named must be a known agent: one error naming the unknown ones.
fn parse_keys(keys: &[String]) -> Result<Vec<&'static Agent>> {
    let mut out: Vec<&'static Agent> = Vec::new();
    let mut bad = Vec::new();
    for k in keys {
        match agents::find(k) {
            Some(a) if !out.contains(&a) => out.push(a),
            Some(_) => {}
            None => bad.push(format!("{k:?}")),
        }
    }
    if !bad.is_empty() {
        let mut valid: Vec<&str> = AGENTS.iter().map(|a| a.key).collect();
        valid.sort_unstable();
        return Err(
            Error::user(format!("Invalid agent keys: {}", bad.join(", ")))
                .with_hint(format!("Valid agents: {}", valid.join(", "))),
        );
    }
    Ok(out)
}

/// What `add` did.
#[derive(Debug, Clone, Serialize)]
pub struct Added {
    pub added: Vec<String>,
    pub already_configured: Vec<String>,
    /// Command files written (project-relative).
    pub files_written: Vec<String>,
    /// Files left alone because the user edited them or they were not spec-kitty's.
    pub files_skipped: Vec<String>,
}

/// Add agents: record them in `agents.available` and write their command files
/// (the same planner as `init`, so user-edited files are never overwritten).
pub fn add(project: &Project, keys: &[String]) -> Result<Added> {
    let wanted = parse_keys(keys)?;
    let before = list(project)?;
    let already: Vec<String> = wanted
        .iter()
        .filter(|a| before.configured.iter().any(|c| c.key == a.key))
        .map(|a| a.key.to_string())
        .collect();
    let new: Vec<&'static Agent> = wanted
        .into_iter()
        .filter(|a| !already.iter().any(|k| k == a.key))
        .collect();
    if new.is_empty() {
        return Ok(Added {
            added: Vec::new(),
            already_configured: already,
            files_written: Vec::new(),
            files_skipped: Vec::new(),
        });
    }
    let report = init::init(&InitOptions {
        root: project.root.clone(),
        here: true,
        agents: Some(new.clone()),
        force: false,
    })?;
    let prefixes: Vec<&str> = new.iter().map(|a| a.command_dir).collect();
    let mine = |f: &&String| prefixes.iter().any(|p| f.starts_with(&format!("{p}/")));
    Ok(Added {
        added: report.agents_added,
        already_configured: already,
        files_written: report.files_written.iter().filter(mine).cloned().collect(),
        files_skipped: report
            .files_skipped_user_modified
            .iter()
            .filter(mine)
            .cloned()
            .collect(),
    })
}

/// What removing one agent's command files did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cleared {
    pub files_removed: Vec<String>,
    /// Edited since spec-kitty wrote them: kept.
    pub files_kept_user_modified: Vec<String>,
    /// The command folder was left empty and removed.
    pub directory_removed: bool,
}

/// Remove the spec-kitty command files of `agent` (unedited ones), drop them
/// from the manifest, and remove the command folder when nothing else is in it.
fn clear_agent(project: &Project, manifest: &mut Manifest, agent: &Agent) -> Result<Cleared> {
    let root = &project.root;
    let mut out = Cleared::default();
    let mut candidates = spec_kitty_files(root, agent);
    let prefix = format!("{}/", agent.command_dir);
    for (rel, rec) in &manifest.files {
        // The manifest is repo content: only its entries inside this agent's
        // command folder are looked at.
        if rec.agent == agent.key
            && rel.starts_with(&prefix)
            && crate::init::manifest::is_safe_rel(rel)
            && !candidates.contains(rel)
        {
            candidates.push(rel.clone());
        }
    }
    candidates.sort();
    for rel in candidates {
        let path = root.join(&rel);
        let bytes = match fsutil::read_capped(&path, crate::bounds::MAX_TEXT_BYTES) {
            Ok(Some(t)) => Some(t.into_bytes()),
            _ => None,
        };
        let unedited = match (&bytes, manifest.files.get(&rel)) {
            (Some(b), Some(rec)) => rec.hash == content_hash(b),
            // Not recorded: spec-kitty's name in spec-kitty's folder, and it
            // carries the version marker every generated command has.
            (Some(b), None) => String::from_utf8_lossy(b).contains("spec-kitty-command-version"),
            (None, _) => true,
        };
        if !unedited {
            out.files_kept_user_modified.push(rel);
            continue;
        }
        if crate::confine::remove_file(project, &path)? {
            out.files_removed.push(rel.clone());
        }
        manifest.files.remove(&rel);
    }
    let dir = root.join(agent.command_dir);
    let dir_is_real = fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir());
    if dir_is_real && fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_none()) {
        out.directory_removed = fs::remove_dir(&dir).is_ok();
        // The agent's top folder too (`.claude/`), when that left it empty.
        if let Some(parent) = dir.parent().filter(|p| *p != root.as_path()) {
            if fs::read_dir(parent).is_ok_and(|mut d| d.next().is_none()) {
                let _ = fs::remove_dir(parent);
            }
        }
    }
    Ok(out)
}

fn config_lock(project: &Project) -> Result<fsutil::FileLock> {
    Ok(fsutil::FileLock::acquire(
        &project.locks_dir().join("init.lock"),
        fsutil::LOCK_TIMEOUT,
        "project set-up (another `spec-kitty init`, `upgrade` or `agent config` is running)",
    )?)
}

/// Read `.kittify/config.yaml` (through [`crate::config::Config`]), change
/// its top-level mapping, write it back atomically.
fn edit_config(root: &Path, change: impl FnOnce(&mut serde_yaml::Mapping)) -> Result<()> {
    let config = crate::config::Config::load(root)?;
    if !config.exists {
        // Nothing to edit: the error a read of the missing file gives.
        fsutil::read_to_string(&config.path)?;
    }
    let out = config.edited(|map| {
        change(map);
        Ok(())
    })?;
    fsutil::atomic_write(&config.path, out.as_bytes())?;
    Ok(())
}

fn agents_map(map: &mut serde_yaml::Mapping) -> Option<&mut serde_yaml::Mapping> {
    let v = map
        .entry("agents".into())
        .or_insert_with(|| serde_yaml::Value::Mapping(Default::default()));
    if !v.is_mapping() {
        *v = serde_yaml::Value::Mapping(Default::default());
    }
    v.as_mapping_mut()
}

/// What `remove` did.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// Agents whose files were removed (or were already absent).
    pub removed: Vec<String>,
    /// Agents taken out of `agents.available`.
    pub unconfigured: Vec<String>,
    pub config_kept: bool,
    pub files_removed: Vec<String>,
    pub files_kept_user_modified: Vec<String>,
}

/// Remove agents: their spec-kitty command files and (unless `keep_config`)
/// their entry in `agents.available`.
pub fn remove(project: &Project, keys: &[String], keep_config: bool) -> Result<Removed> {
    let wanted = parse_keys(keys)?;
    list(project)?;
    let _lock = config_lock(project)?;
    let root = &project.root;
    let mut manifest = Manifest::load(root)?;
    let mut out = Removed {
        removed: Vec::new(),
        unconfigured: Vec::new(),
        config_kept: keep_config,
        files_removed: Vec::new(),
        files_kept_user_modified: Vec::new(),
    };
    for agent in &wanted {
        let c = clear_agent(project, &mut manifest, agent)?;
        out.removed.push(agent.key.to_string());
        out.files_removed.extend(c.files_removed);
        out.files_kept_user_modified
            .extend(c.files_kept_user_modified);
    }
    manifest.save(root)?;
    if !keep_config {
        let state = init::inspect(root, true, false)?;
        let configured: Vec<&str> = state.configured_agents.iter().map(|a| a.key).collect();
        out.unconfigured = wanted
            .iter()
            .filter(|a| configured.contains(&a.key))
            .map(|a| a.key.to_string())
            .collect();
        if !out.unconfigured.is_empty() {
            let drop = out.unconfigured.clone();
            edit_config(root, |map| {
                if let Some(seq) = agents_map(map)
                    .and_then(|a| a.get_mut("available"))
                    .and_then(|v| v.as_sequence_mut())
                {
                    seq.retain(|v| {
                        v.as_str()
                            .is_none_or(|s| !drop.iter().any(|d| d.eq_ignore_ascii_case(s.trim())))
                    });
                }
            })?;
        }
    }
    Ok(out)
}

/// What `sync` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Synced {
    /// Agents not configured whose spec-kitty command files were removed.
    pub orphans_removed: Vec<String>,
    pub files_removed: Vec<String>,
    pub files_kept_user_modified: Vec<String>,
    /// Configured agents whose missing command folder was created.
    pub created: Vec<String>,
    pub files_written: Vec<String>,
    pub unknown_configured: Vec<String>,
}

impl Synced {
    pub fn changed(&self) -> bool {
        !self.files_removed.is_empty() || !self.files_written.is_empty()
    }
}

/// Bring the agent folders in line with `agents.available`.
pub fn sync(project: &Project, create_missing: bool, remove_orphaned: bool) -> Result<Synced> {
    let set = list(project)?;
    let mut out = Synced {
        unknown_configured: set.unknown.clone(),
        ..Default::default()
    };
    if remove_orphaned {
        let _lock = config_lock(project)?;
        let mut manifest = Manifest::load(&project.root)?;
        for st in set.orphaned() {
            let Some(agent) = agents::find(&st.key) else {
                continue;
            };
            let c = clear_agent(project, &mut manifest, agent)?;
            if !c.files_removed.is_empty() {
                out.orphans_removed.push(st.key.clone());
            }
            out.files_removed.extend(c.files_removed);
            out.files_kept_user_modified
                .extend(c.files_kept_user_modified);
        }
        manifest.save(&project.root)?;
    }
    if create_missing {
        let missing: Vec<&AgentState> = set.configured.iter().filter(|a| !a.exists).collect();
        if !missing.is_empty() {
            let report = init::init(&InitOptions {
                root: project.root.clone(),
                here: true,
                agents: None,
                force: false,
            })?;
            for st in missing {
                let prefix = format!("{}/", st.directory);
                let written: Vec<String> = report
                    .files_written
                    .iter()
                    .filter(|f| f.starts_with(&prefix))
                    .cloned()
                    .collect();
                if !written.is_empty() {
                    out.created.push(st.key.clone());
                }
                out.files_written.extend(written);
            }
        }
    }
    Ok(out)
}

/// The keys `set` knows.
pub const SETTABLE: &[(&str, &str)] = &[(
    "auto_commit",
    "Enable/disable automatic commits of mission files by spec-kitty (true/false)",
)];

/// Set a project-level agent setting (`auto_commit`). Returns the value stored.
pub fn set(project: &Project, key: &str, value: &str) -> Result<bool> {
    list(project)?;
    if key != "auto_commit" {
        let keys: Vec<String> = SETTABLE
            .iter()
            .map(|(k, what)| format!("{k} ({what})"))
            .collect();
        return Err(Error::user(format!("Unknown configuration key: {key:?}"))
            .with_hint(format!("supported keys: {}", keys.join("; "))));
    }
    let on = match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => true,
        "false" | "0" | "no" | "off" => false,
        _ => {
            return Err(
                Error::user(format!("Invalid value for auto_commit: {value:?}"))
                    .with_hint("use true or false"),
            )
        }
    };
    let _lock = config_lock(project)?;
    edit_config(&project.root, |map| {
        // One place for the setting: a top-level `auto_commit` would be read
        // only when `agents.auto_commit` is absent, so it goes.
        map.remove("auto_commit");
        if let Some(agents) = agents_map(map) {
            agents.insert("auto_commit".into(), serde_yaml::Value::Bool(on));
        }
    })?;
    Ok(on)
}
