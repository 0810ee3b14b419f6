//! `spec-kitty verify-setup`: is this environment ready for spec-kitty? The
//! project, its missions and lane worktrees, the agents' command files, the
//! tools on PATH and (with `--diagnostics`) the dashboard. Read-only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::Result;
use crate::init::commands::{self, COMMANDS};
use crate::init::manifest::{content_hash, Manifest};
use crate::mission::{self, Mission};
use crate::project::Project;
use crate::status::StatusStore;

/// The tools looked for on PATH, with what they are (the reference's list).
pub const TOOLS: &[(&str, &str)] = &[
    ("git", "Git version control"),
    ("claude", "Claude Code CLI"),
    ("gemini", "Gemini CLI"),
    ("qwen", "Qwen Code CLI"),
    ("code", "Visual Studio Code"),
    ("code-insiders", "Visual Studio Code Insiders"),
    ("cursor-agent", "Cursor IDE agent"),
    ("windsurf", "Windsurf IDE"),
    ("kilocode", "Kilo Code IDE"),
    ("opencode", "opencode"),
    ("codex", "Codex CLI"),
    ("auggie", "Auggie CLI"),
    ("q", "Amazon Q Developer CLI"),
];

/// Whether an executable named `name` is on PATH (looked up, never run).
pub fn on_path(name: &str) -> bool {
    let Some(path) = crate::env::path() else {
        return false;
    };
    std::env::split_paths(&path).any(|d| {
        let p = d.join(name);
        std::fs::metadata(&p).is_ok_and(|m| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            }
            #[cfg(not(unix))]
            {
                m.is_file()
            }
        }) || d.join(format!("{name}.exe")).is_file()
    })
}

/// `{tool: {available}}` for every tool of [`TOOLS`].
pub fn tools() -> BTreeMap<&'static str, bool> {
    TOOLS.iter().map(|(k, _)| (*k, on_path(k))).collect()
}

/// One mission's state, as the reference's feature analysis reports it.
#[derive(Debug, Clone, Serialize)]
pub struct MissionState {
    pub name: String,
    pub branch_exists: bool,
    pub branch_merged: bool,
    pub worktree_exists: bool,
    pub worktree_path: Option<PathBuf>,
    pub artifacts_in_main: Vec<String>,
    pub artifacts_in_worktree: Vec<String>,
    pub last_activity: Option<String>,
    /// `not_started`, `in_development`, `ready_to_merge` or `merged`.
    pub state: &'static str,
    /// Work packages by lane (this build's addition).
    pub lanes: BTreeMap<String, usize>,
}

const ARTIFACTS: &[&str] = &[
    "spec.md",
    "plan.md",
    "tasks.md",
    "research.md",
    "data-model.md",
    "quickstart.md",
    "lanes.json",
];

fn worktrees_of(project: &Project, m: &Mission) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(project.worktrees_dir()) else {
        return Vec::new();
    };
    let prefix = format!("{}-", m.slug);
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n == m.slug || n.starts_with(&prefix)
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// The state of one mission.
pub fn mission_state(project: &Project, m: &Mission) -> MissionState {
    let mut lanes = BTreeMap::new();
    let mut last_activity = None;
    if let Ok((snap, _)) = StatusStore::for_mission(project, m).snapshot() {
        for (lane, n) in &snap.summary {
            if *n > 0 {
                lanes.insert(lane.to_string(), *n);
            }
        }
        last_activity = Some(snap.materialized_at.clone()).filter(|s| !s.is_empty());
    }
    let total: usize = lanes.values().sum();
    let count = |l: &str| lanes.get(l).copied().unwrap_or(0);
    let worktrees = worktrees_of(project, m);
    let branch = m.mission_branch();
    let (branch_exists, branch_merged) = crate::git::branch_state(&project.root, &branch);
    let done = count("done");
    let state = if total > 0 && done == total && worktrees.is_empty() {
        "merged"
    } else if total > 0 && done + count("approved") == total {
        "ready_to_merge"
    } else if !worktrees.is_empty() || lanes.keys().any(|l| l != "planned") {
        "in_development"
    } else {
        "not_started"
    };
    let listed = |dir: &Path| -> Vec<String> {
        ARTIFACTS
            .iter()
            .filter(|a| dir.join(a).is_file())
            .map(|a| a.to_string())
            .collect()
    };
    let artifacts_in_worktree = worktrees
        .first()
        .map(|w| listed(&w.join("kitty-specs").join(&m.slug)))
        .unwrap_or_default();
    MissionState {
        name: m.slug.clone(),
        branch_exists,
        branch_merged,
        worktree_exists: !worktrees.is_empty(),
        worktree_path: worktrees.first().cloned(),
        artifacts_in_main: listed(&m.dir),
        artifacts_in_worktree,
        last_activity,
        state,
        lanes,
    }
}

/// The reference's worktree summary over every mission.
pub fn summary(states: &[MissionState]) -> Value {
    let n = |s: &str| states.iter().filter(|m| m.state == s).count();
    json!({
        "total_features": states.len(),
        "active_worktrees": states.iter().filter(|m| m.worktree_exists).count(),
        "merged_features": n("merged"),
        "in_development": n("in_development"),
        "not_started": n("not_started"),
    })
}

/// The agents' command files: expected, present, and the missing ones by category.
#[derive(Debug, Clone, Default)]
pub struct Integrity {
    pub expected: Vec<String>,
    pub missing: Vec<String>,
}

pub fn integrity(project: &Project) -> Result<Integrity> {
    let state = crate::init::inspect(&project.root, true, false)?;
    let mut out = Integrity::default();
    for agent in &state.configured_agents {
        for cmd in &COMMANDS {
            let rel = commands::rel_path(agent, cmd);
            if !project.root.join(&rel).is_file() {
                out.missing.push(rel.clone());
            }
            out.expected.push(rel);
        }
    }
    Ok(out)
}

/// The managed-files manifest checked against the files (the reference's
/// `managed_skills` block: here the slash-command files spec-kitty wrote).
pub fn managed_files(project: &Project) -> Value {
    let manifest = match Manifest::load(&project.root) {
        Ok(m) => m,
        Err(e) => {
            return json!({"status": "error", "total_files": 0, "ok": 0, "missing": 0, "drifted": 0,
                "errors": 1, "missing_files": [], "drifted_files": [], "error_messages": [e.to_string()]})
        }
    };
    if manifest.files.is_empty() {
        return json!({"status": "no_manifest"});
    }
    let mut missing = Vec::new();
    let mut drifted = Vec::new();
    for (rel, rec) in &manifest.files {
        if !crate::init::manifest::is_safe_rel(rel) {
            missing.push(rel.clone());
            continue;
        }
        match crate::fsutil::read_capped(&project.root.join(rel), crate::bounds::MAX_TEXT_BYTES) {
            Ok(Some(t)) if content_hash(t.as_bytes()) == rec.hash => {}
            Ok(Some(_)) => drifted.push(rel.clone()),
            _ => missing.push(rel.clone()),
        }
    }
    let total = manifest.files.len();
    json!({
        "status": if missing.is_empty() && drifted.is_empty() { "ok" } else { "issues_found" },
        "total_files": total,
        "ok": total - missing.len() - drifted.len(),
        "missing": missing.len(),
        "drifted": drifted.len(),
        "errors": 0,
        "missing_files": missing,
        "drifted_files": drifted,
        "error_messages": [],
    })
}

/// What `verify-setup` was asked to check.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    pub mission: Option<String>,
    pub check_files: bool,
    pub check_tools: bool,
    pub diagnostics: bool,
    pub cwd: PathBuf,
}

/// The report: the reference's document (its keys, in its order).
pub fn verify(project: &Project, req: &VerifyRequest) -> Result<Value> {
    let in_worktree = req.cwd.components().any(|c| c.as_os_str() == ".worktrees");
    let branch = project.current_branch();
    let missions = mission::list(project)?;
    let states: Vec<MissionState> = missions.iter().map(|m| mission_state(project, m)).collect();
    let selected: Option<Mission> = match &req.mission {
        Some(s) => Some(mission::resolve(project, mission::Selector::Given(s))?),
        None => None,
    };
    let active = selected
        .as_ref()
        .map_or("no feature context".to_string(), |m| {
            m.mission_type().to_string()
        });
    let files = if req.check_files {
        Some(integrity(project)?)
    } else {
        None
    };
    let skills = managed_files(project);
    let mut observations: Vec<String> = Vec::new();
    if in_worktree && matches!(branch.as_deref(), Some("main" | "master")) {
        observations.push("Unusual: In worktree but on main branch".into());
    }
    if let Some(f) = &files {
        if !f.missing.is_empty() {
            observations.push(format!(
                "Mission integrity: {} expected files not found",
                f.missing.len()
            ));
        }
    }
    if skills["status"] == "issues_found" {
        observations.push(
            "Managed command files: some are missing or edited (run spec-kitty upgrade to restore)"
                .into(),
        );
    }
    let tools = req.check_tools.then(tools);
    let tools_json = |t: &BTreeMap<&str, bool>| -> Value {
        let mut m = Map::new();
        for (k, _) in TOOLS {
            m.insert(
                k.to_string(),
                json!({"available": t.get(k).copied().unwrap_or(false)}),
            );
        }
        Value::Object(m)
    };
    let mut out = Map::new();
    if req.diagnostics {
        let fi = files.clone().unwrap_or_default();
        out.insert("project_path".into(), json!(project.root));
        out.insert("current_working_directory".into(), json!(req.cwd));
        out.insert("git_branch".into(), json!(branch));
        out.insert("in_worktree".into(), json!(in_worktree));
        out.insert(
            "worktrees_exist".into(),
            json!(project.worktrees_dir().is_dir()),
        );
        out.insert("active_mission".into(), json!(active));
        out.insert(
            "file_integrity".into(),
            json!({"total_expected": fi.expected.len(), "total_present": fi.expected.len() - fi.missing.len(),
                   "total_missing": fi.missing.len(), "missing_files": fi.missing}),
        );
        out.insert("worktree_overview".into(), summary(&states));
        let current = selected
            .as_ref()
            .and_then(|m| states.iter().find(|s| s.name == m.slug))
            .map_or(json!({}), |s| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["detected"] = json!(true);
                v
            });
        out.insert("current_feature".into(), current);
        out.insert(
            "all_features".into(),
            serde_json::to_value(&states).unwrap_or_default(),
        );
        out.insert("dashboard_health".into(), dashboard_health(project));
        out.insert("observations".into(), json!(observations));
        out.insert("issues".into(), json!([]));
        if let Some(t) = &tools {
            out.insert("tools".into(), tools_json(t));
        }
        return Ok(Value::Object(out));
    }
    out.insert(
        "environment".into(),
        json!({
            "working_directory": req.cwd,
            "repo_root": project.root,
            "project_root": project.root,
            "in_worktree": in_worktree,
            "current_branch": branch,
            "active_mission": active,
        }),
    );
    out.insert(
        "feature_detection".into(),
        match &selected {
            Some(m) => json!({
                "detected": true,
                "mission_slug": m.slug,
                "mission_number": mission::split_number(&m.slug).map(|(n, _)| n),
                "mission_type": m.mission_type(),
            }),
            None => json!({"detected": false, "error": "No --mission provided; skipping feature analysis."}),
        },
    );
    out.insert("worktree_status".into(), summary(&states));
    out.insert(
        "file_integrity".into(),
        match &files {
            Some(f) => {
                let missing: Map<String, Value> = f
                    .missing
                    .iter()
                    .map(|p| (p.clone(), json!("commands")))
                    .collect();
                json!({
                    "active_mission": active,
                    "total_expected": f.expected.len(),
                    "total_present": f.expected.len() - f.missing.len(),
                    "total_missing": f.missing.len(),
                    "missing_files": missing,
                    "categories": if f.expected.is_empty() { json!({}) } else { json!({"commands": {
                        "expected": f.expected.len(),
                        "present": f.expected.len() - f.missing.len(),
                        "missing": f.missing.len(),
                    }}) },
                })
            }
            None => json!({}),
        },
    );
    out.insert(
        "feature_analysis".into(),
        selected
            .as_ref()
            .and_then(|m| states.iter().find(|s| s.name == m.slug))
            .map_or(json!({}), |s| serde_json::to_value(s).unwrap_or_default()),
    );
    let mut recommendations: Vec<String> = Vec::new();
    if files.as_ref().is_some_and(|f| !f.missing.is_empty()) {
        recommendations.push("Run `spec-kitty upgrade` to write the missing command files".into());
    }
    out.insert("recommendations".into(), json!(recommendations));
    out.insert("managed_skills".into(), skills);
    out.insert("observations".into(), json!(observations));
    if let Some(t) = &tools {
        out.insert("tools".into(), tools_json(t));
    }
    Ok(Value::Object(out))
}

/// The dashboard as `.kittify/.dashboard` records it: whether a server is
/// recorded, its port and PID, and whether that process is alive and the
/// port accepts a connection. Nothing is started.
fn dashboard_health(project: &Project) -> Value {
    let path = project.kittify_dir().join(".dashboard");
    let Ok(Some(text)) = crate::fsutil::read_capped(&path, 4096) else {
        return json!({"metadata_exists": false, "startup_test": null});
    };
    let mut lines = text.lines();
    let _url = lines.next();
    let port: Option<u16> = lines.next().and_then(|l| l.trim().parse().ok());
    let _token = lines.next();
    let pid: Option<u32> = lines.next().and_then(|l| l.trim().parse().ok());
    let alive = pid.is_some_and(crate::fsutil::process_alive);
    let responding = port.is_some_and(|p| {
        std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], p)),
            std::time::Duration::from_millis(500),
        )
        .is_ok()
    });
    json!({"metadata_exists": true, "port": port, "pid": pid, "process_alive": alive, "responding": responding})
}
