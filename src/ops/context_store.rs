//! The `context` group: workspace contexts (what each lane worktree is for)
//! and MissionContext tokens (a bound identity for one work package that other
//! commands can be handed as `--context <token>`).
//!
//! Workspace contexts: the reference writes `.kittify/workspaces/<name>.json`
//! when it creates a workspace; ours derives the same record from
//! `lanes.json` and the lane worktrees that exist, and also reads the files a
//! reference-made project carries. A file whose worktree is gone is orphaned;
//! `cleanup` removes those files (never a live one, never anything else).
//!
//! Tokens: `ctx-<ULID>`, stored as `.kittify/runtime/contexts/<token>.json`
//! (the reference's layout and keys). A token from the command line is checked
//! against that form before it names a file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::lanes::LanesManifest;
use crate::mission::Mission;
use crate::project::Project;

/// Context files read from `.kittify/workspaces/` at most.
const MAX_CONTEXT_FILES: usize = 10_000;

/// The reference's workspace context record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkspaceContext {
    pub wp_id: String,
    pub mission_slug: String,
    pub worktree_path: String,
    pub branch_name: String,
    pub base_branch: String,
    pub base_commit: String,
    pub dependencies: Vec<String>,
    pub created_at: String,
    pub created_by: String,
    pub vcs_backend: String,
    pub lane_id: String,
    pub lane_wp_ids: Vec<String>,
    #[serde(default)]
    pub current_wp: Option<String>,
}

/// A workspace context with where it came from and whether it is live.
#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    /// `<mission>-<lane>`, the reference's workspace name.
    pub name: String,
    pub context: WorkspaceContext,
    /// The worktree exists.
    pub active: bool,
    /// Read from `.kittify/workspaces/<name>.json` (else derived from lanes.json).
    pub file: Option<PathBuf>,
}

fn workspaces_dir(project: &Project) -> PathBuf {
    project.kittify_dir().join("workspaces")
}

/// A workspace name from the command line or a file name: one path
/// component of plain characters.
pub fn check_workspace_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::user(format!(
            "{:?} is not a workspace name (expected <mission>-<lane>, e.g. 010-feature-lane-a)",
            name
        ))
        .with_hint("list the workspaces with `spec-kitty context list`"))
    }
}

/// Every workspace: the context files, then the live lane worktrees without one.
pub fn list(project: &Project) -> Result<Vec<Workspace>> {
    let mut out = from_files(project)?;
    for m in crate::mission::list(project)? {
        for w in derived(project, &m) {
            if !out.iter().any(|o| o.name == w.name) {
                out.push(w);
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.context.mission_slug, &a.context.wp_id)
            .cmp(&(&b.context.mission_slug, &b.context.wp_id))
    });
    Ok(out)
}

/// The workspace called `name`, if there is one.
pub fn find(project: &Project, name: &str) -> Result<Option<Workspace>> {
    check_workspace_name(name)?;
    Ok(list(project)?.into_iter().find(|w| w.name == name))
}

/// The workspace called `name`, or (without one) the lane worktree `cwd` is
/// in; not finding it is an error that says how to name one.
pub fn info(project: &Project, cwd: &Path, name: Option<&str>) -> Result<Workspace> {
    let name = match name {
        Some(w) => w.to_string(),
        None => crate::ops::repair::enclosing_worktree(cwd)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .ok_or_else(|| {
                Error::user("not inside a worktree and no --workspace given").with_hint(
                    "run it inside a lane worktree, or name one: `spec-kitty context info --workspace 010-feature-lane-a` (see `spec-kitty context list`)",
                )
            })?,
    };
    find(project, &name)?.ok_or_else(|| {
        Error::user(format!("no context found for workspace {name}"))
            .with_hint("see the workspaces with `spec-kitty context list`")
    })
}

/// Context files whose worktree is gone.
pub fn orphaned(project: &Project) -> Result<Vec<Workspace>> {
    Ok(from_files(project)?
        .into_iter()
        .filter(|w| !w.active)
        .collect())
}

/// Remove the orphaned context files; returns those removed.
pub fn cleanup(project: &Project) -> Result<Vec<Workspace>> {
    let gone = orphaned(project)?;
    for w in &gone {
        if let Some(f) = &w.file {
            fsutil::check_write(f)?;
            match std::fs::remove_file(f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", f, e)),
            }
        }
    }
    Ok(gone)
}

/// `context cleanup`: remove the orphaned context files, or with `dry_run`
/// only list them; returns them.
pub fn clean_up(project: &Project, dry_run: bool) -> Result<Vec<Workspace>> {
    if dry_run {
        orphaned(project)
    } else {
        cleanup(project)
    }
}

fn from_files(project: &Project) -> Result<Vec<Workspace>> {
    let dir = workspaces_dir(project);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", &dir, e)),
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .take(MAX_CONTEXT_FILES)
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Some(name) = f.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        if check_workspace_name(&name).is_err()
            || !std::fs::symlink_metadata(&f).is_ok_and(|m| m.is_file())
        {
            continue;
        }
        // An unreadable or foreign file is not a context (the reference skips it too).
        let Ok(Some(text)) = fsutil::read_capped(&f, 1024 * 1024) else {
            continue;
        };
        let Ok(ctx) = crate::bounds::json::<WorkspaceContext>(&text) else {
            continue;
        };
        if ctx.lane_id.is_empty() {
            continue;
        }
        let active = worktree_exists(project, &ctx.worktree_path);
        out.push(Workspace {
            name,
            context: ctx,
            active,
            file: Some(f),
        });
    }
    Ok(out)
}

/// A relative worktree path from a file, resolved under the project root only.
fn worktree_exists(project: &Project, rel: &str) -> bool {
    let p = Path::new(rel);
    if p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return false;
    }
    project.root.join(p).is_dir()
}

/// The live lane worktrees of `mission`, as workspace contexts.
fn derived(project: &Project, mission: &Mission) -> Vec<Workspace> {
    let Ok(Some(lanes)) = LanesManifest::for_mission(mission) else {
        return Vec::new();
    };
    let target = mission.target_branch().unwrap_or("main").to_string();
    let mut out = Vec::new();
    for lane in &lanes.lanes {
        let path = lanes.worktree_path(&project.root, &lane.lane_id);
        if !path.is_dir() {
            continue;
        }
        let rel = path
            .strip_prefix(&project.root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let branch = lanes.lane_branch(&lane.lane_id);
        let first = lane.wp_ids.first().cloned().unwrap_or_default();
        let deps = crate::status::ops::find_wp(mission, &first)
            .map(|f| f.dependencies())
            .unwrap_or_default();
        let base_commit = project
            .git_common_dir
            .as_ref()
            .and_then(|_| crate::git::compare::merge_base(&project.root, &branch, &target))
            .unwrap_or_default();
        let created_at = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339())
            .unwrap_or_default();
        out.push(Workspace {
            name: format!("{}-{}", mission.slug, lane.lane_id),
            context: WorkspaceContext {
                wp_id: first.clone(),
                mission_slug: mission.slug.clone(),
                worktree_path: rel,
                branch_name: branch,
                base_branch: target.clone(),
                base_commit,
                dependencies: deps,
                created_at,
                created_by: "implement-command".into(),
                vcs_backend: "git".into(),
                lane_id: lane.lane_id.clone(),
                lane_wp_ids: lane.wp_ids.clone(),
                current_wp: Some(first),
            },
            active: true,
            file: None,
        });
    }
    out
}

/// A token from the command line: `ctx-` and a ULID.
pub fn check_token(token: &str) -> Result<()> {
    let ok = token
        .strip_prefix("ctx-")
        .is_some_and(|u| ulid::Ulid::from_string(u).is_ok() && u.len() == 26);
    if ok {
        Ok(())
    } else {
        Err(Error::user(format!(
            "{token:?} is not a context token (expected ctx-<ULID>, as `spec-kitty context mission-resolve` prints)"
        )))
    }
}

fn token_path(project: &Project, token: &str) -> PathBuf {
    project
        .kittify_dir()
        .join("runtime")
        .join("contexts")
        .join(format!("{token}.json"))
}

/// Bind `wp` of `mission` to a new token, persist it, and return its document
/// (the reference's keys).
pub fn resolve(
    project: &Project,
    mission: &Mission,
    wp: &str,
    agent: &str,
) -> Result<Map<String, Value>> {
    let project_uuid = project_uuid(project)?;
    mission.require_meta()?;
    let file = crate::status::ops::find_wp(mission, wp)?;
    let lanes = LanesManifest::for_mission(mission)?.ok_or_else(|| {
        Error::user(format!("{} has no lanes.json", mission.slug)).with_hint(format!(
            "compute lanes with `spec-kitty agent mission finalize-tasks --mission {}`",
            mission.slug
        ))
    })?;
    let lane = lanes.lane_for_wp(&file.id).ok_or_else(|| {
        Error::user(format!(
            "{} has no lane in {}",
            file.id,
            mission.lanes_file().display()
        ))
        .with_hint(format!(
            "recompute lanes with `spec-kitty agent mission finalize-tasks --mission {}`",
            mission.slug
        ))
    })?;
    let target = mission.target_branch().unwrap_or("main").to_string();
    let authoritative_ref = if lane.lane_id == crate::lanes::model::PLANNING_LANE {
        target.clone()
    } else {
        lanes.lane_branch(&lane.lane_id)
    };
    let deps = file.dependencies();
    let token = format!("ctx-{}", crate::ids::new_ulid());
    let mut doc = Map::new();
    let mut put = |k: &str, v: Value| {
        doc.insert(k.to_string(), v);
    };
    put("token", token.clone().into());
    put(
        "project_uuid",
        project_uuid.map_or(Value::Null, Value::from),
    );
    put(
        "mission_id",
        mission.mission_id().unwrap_or(&mission.slug).into(),
    );
    put(
        "work_package_id",
        file.get_str("work_package_id")
            .unwrap_or(file.id.clone())
            .into(),
    );
    put("wp_code", file.id.clone().into());
    put("mission_slug", mission.slug.clone().into());
    put(
        "mission_number",
        mission.number.clone().map_or(Value::Null, Value::from),
    );
    put("mission_type", mission.mission_type().into());
    put("target_branch", target.into());
    put(
        "authoritative_repo",
        project.root.to_string_lossy().into_owned().into(),
    );
    put("authoritative_ref", authoritative_ref.into());
    put("owned_files", file.owned_files().into());
    put(
        "execution_mode",
        file.execution_mode()
            .unwrap_or_else(|| "code_change".into())
            .into(),
    );
    put(
        "dependency_mode",
        if deps.is_empty() {
            "independent"
        } else {
            "chained"
        }
        .into(),
    );
    put("created_at", crate::timefmt::now_iso().into());
    put("created_by", agent.into());
    let path = token_path(project, &token);
    let mut text =
        serde_json::to_string_pretty(&doc).map_err(|e| Error::internal(e.to_string()))?;
    text.push('\n');
    fsutil::create_dir_all(path.parent().unwrap_or(&project.root))?;
    fsutil::atomic_write(&path, text.as_bytes())?;
    Ok(doc)
}

/// The persisted document of `token`.
pub fn show(project: &Project, token: &str) -> Result<Map<String, Value>> {
    check_token(token)?;
    let path = token_path(project, token);
    let text = fsutil::read_capped(&path, 1024 * 1024)?.ok_or_else(|| {
        Error::user(format!(
            "context token '{token}' not found at {}",
            path.display()
        ))
        .with_hint(
            "create one with `spec-kitty context mission-resolve --wp <WP> --mission <slug>`",
        )
    })?;
    let doc: Map<String, Value> = crate::bounds::json(&text).map_err(|e| {
        Error::parse(
            &path,
            e.line(),
            format!("context token '{token}' is corrupted: {e}"),
        )
    })?;
    for key in [
        "token",
        "project_uuid",
        "mission_id",
        "work_package_id",
        "wp_code",
        "mission_slug",
        "target_branch",
        "authoritative_repo",
        "owned_files",
        "execution_mode",
        "dependency_mode",
        "created_at",
        "created_by",
    ] {
        if !doc.contains_key(key) {
            return Err(Error::parse(
                &path,
                None,
                format!("context token '{token}' is missing the field `{key}`"),
            ));
        }
    }
    Ok(doc)
}

/// `project.uuid` of `.kittify/config.yaml`, if the project has one (the
/// reference's `init` assigns it; ours does not, and a context without it is
/// still a context).
fn project_uuid(project: &Project) -> Result<Option<String>> {
    let path = project.kittify_dir().join("config.yaml");
    let Some(text) = fsutil::read_capped(&path, crate::bounds::MAX_YAML_BYTES as u64)? else {
        return Ok(None);
    };
    let doc: serde_yaml::Value =
        crate::bounds::yaml(&text).map_err(|e| Error::parse(&path, e.line(), e))?;
    Ok(match doc.get("project").and_then(|p| p.get("uuid")) {
        Some(serde_yaml::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    })
}
