//! The Python reference 3.1.1 dashboard's JSON API, read-only, in its shapes:
//! `GET /api/features` and `GET /api/kanban/<mission>`, so a teammate's
//! scripts (or the reference's own page) that read those paths keep working
//! against this server. The shapes were learned from the reference's answers
//! on one project (saved in `tests/fixtures/reference-dashboard/`).
//!
//! Both are built from the in-memory view plus a few `stat` calls (features)
//! or the mission's WP files (kanban), on the blocking pool, never on the
//! thread that answers every other request. Nothing here writes.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde_json::{json, Map, Value};

use super::model::{confined, read_confined, MissionView, ProjectView};
use crate::tasks_md::{self, WpFile};

/// The five columns of the reference's kanban, in its order.
const COLUMNS: [&str; 5] = ["planned", "doing", "for_review", "approved", "done"];

/// A path as the reference shows it: `~/...` under the home directory.
pub fn display_path(path: &Path, home: Option<&Path>) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if let Some(home) = home {
        let home = std::fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf());
        if let Ok(rel) = real.strip_prefix(&home) {
            let rel = rel.to_string_lossy();
            return if rel.is_empty() {
                "~".into()
            } else {
                format!("~{}{rel}", std::path::MAIN_SEPARATOR)
            };
        }
    }
    real.to_string_lossy().into_owned()
}

/// `{exists, mtime, size}` of one artifact (size only for files).
fn artifact_info(root: &Path, path: &Path) -> Value {
    let md = match confined(root, path) {
        Ok(Some(real)) => std::fs::metadata(real).ok(),
        _ => None,
    };
    match md {
        None => json!({"exists": false, "mtime": null, "size": null}),
        Some(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64());
            json!({
                "exists": true,
                "mtime": mtime,
                "size": if m.is_file() { Some(m.len()) } else { None },
            })
        }
    }
}

/// The reference's label: the name, prefixed with the mission number unless
/// the name already starts with it.
fn display_name(id: &str, name: &str) -> String {
    let label = if name.trim().is_empty() {
        id
    } else {
        name.trim()
    };
    let number: String = id.chars().take_while(char::is_ascii_digit).collect();
    if number.is_empty() {
        return label.to_string();
    }
    match label.strip_prefix(number.as_str()) {
        // The number followed by a word boundary or a separator.
        Some(rest) if !rest.starts_with(char::is_alphanumeric) => label.to_string(),
        _ => format!("{number} - {label}"),
    }
}

/// The reference's pre-lanes layout: WP files under `tasks/<lane>/`.
fn is_legacy(dir: &Path) -> bool {
    ["planned", "doing", "for_review", "done"]
        .iter()
        .any(|l| dir.join("tasks").join(l).is_dir())
}

fn feature(root: &Path, home: Option<&Path>, m: &MissionView) -> Value {
    let dir = &m.dir;
    let charter = root.join(".kittify/charter/charter.md");
    let mut artifacts = Map::new();
    for (key, path) in [
        ("charter", charter),
        ("spec", dir.join("spec.md")),
        ("plan", dir.join("plan.md")),
        ("tasks", dir.join("tasks.md")),
        ("research", dir.join("research.md")),
        ("quickstart", dir.join("quickstart.md")),
        ("data_model", dir.join("data-model.md")),
        ("contracts", dir.join("contracts")),
        ("checklists", dir.join("checklists")),
        ("kanban", dir.join("tasks")),
    ] {
        artifacts.insert(key.into(), artifact_info(root, &path));
    }
    let has = |k: &str| artifacts[k]["exists"] == true;
    let mut workflow = Map::new();
    let steps = ["specify", "plan", "tasks", "implement"];
    let done_steps = [has("spec"), has("plan"), has("tasks")]
        .iter()
        .take_while(|d| **d)
        .count();
    for (i, step) in steps.iter().enumerate() {
        let state = if i < done_steps {
            "complete"
        } else if i == 3 && done_steps == 3 && has("kanban") {
            "in_progress"
        } else {
            "pending"
        };
        workflow.insert((*step).into(), state.into());
    }
    let legacy = is_legacy(dir);
    let mut stats =
        json!({"total": 0, "planned": 0, "doing": 0, "for_review": 0, "approved": 0, "done": 0});
    if has("kanban") && !legacy {
        if m.has_event_log {
            for w in &m.work_packages {
                stats["total"] = (stats["total"].as_u64().unwrap_or(0) + 1).into();
                let col = reference_column(w.column);
                stats[col] = (stats[col].as_u64().unwrap_or(0) + 1).into();
            }
            stats["weighted_percentage"] = m.progress_percentage.into();
        } else {
            stats["error"] = format!(
                "Event log not found. Run: spec-kitty agent mission finalize-tasks --mission {}",
                m.slug
            )
            .into();
        }
    }
    let name = m
        .meta
        .get("friendly_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&m.slug)
        .to_string();
    let worktree = root.join(".worktrees").join(&m.slug);
    json!({
        "id": m.slug,
        "name": name,
        "display_name": display_name(&m.slug, &name),
        "path": format!("kitty-specs/{}", m.slug),
        "artifacts": artifacts,
        "workflow": workflow,
        "kanban_stats": stats,
        "meta": m.meta,
        "worktree": {
            "path": display_path(&worktree, home),
            "exists": worktree.exists(),
        },
        "is_legacy": legacy,
    })
}

/// Our board column as the reference names it (the same five).
fn reference_column(col: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|c| **c == col)
        .copied()
        .unwrap_or("planned")
}

/// `GET /api/features`.
pub fn features(
    view: &ProjectView,
    root: &Path,
    home: Option<&Path>,
    cwd: Option<PathBuf>,
) -> Value {
    let mut list: Vec<&std::sync::Arc<MissionView>> = view
        .missions
        .iter()
        .filter(|m| {
            m.slug.starts_with(|c: char| c.is_ascii_digit()) || m.dir.join("tasks").exists()
        })
        .collect();
    list.sort_by(|a, b| b.slug.cmp(&a.slug));
    let features: Vec<Value> = list.iter().map(|m| feature(root, home, m)).collect();
    let worktrees = root.join(".worktrees");
    let worktrees_root = worktrees.exists().then(|| display_path(&worktrees, home));
    let real_worktrees = std::fs::canonicalize(&worktrees).ok();
    let active_worktree = cwd.and_then(|cwd| {
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        let in_worktree = real_worktrees.as_ref().is_some_and(|w| cwd.starts_with(w));
        (in_worktree || cwd != root).then(|| display_path(&cwd, home))
    });
    json!({
        "features": features,
        "active_feature_id": null,
        "project_path": display_path(root, home),
        "worktrees_root": worktrees_root,
        "active_worktree": active_worktree,
        "active_mission": {
            "name": "No active feature",
            "domain": "unknown",
            "version": "",
            "slug": "",
            "description": "",
            "path": "",
        },
    })
}

/// The numbers of an id, for the reference's natural sort (WP2 before WP10).
fn natural_key(id: &str) -> (Vec<u64>, String) {
    let mut nums = Vec::new();
    let mut cur = String::new();
    for c in id.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
        } else if !cur.is_empty() {
            nums.push(cur.parse().unwrap_or(u64::MAX));
            cur.clear();
        }
    }
    if !cur.is_empty() {
        nums.push(cur.parse().unwrap_or(u64::MAX));
    }
    (nums, id.to_lowercase())
}

/// The title the reference shows: the `# Work Package Prompt: ...` heading,
/// else the file's stem.
fn prompt_title(text: &str, stem: &str) -> String {
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix('#')?.trim_start();
            let rest = rest.strip_prefix("Work Package Prompt:")?;
            let t = rest.trim();
            (!t.is_empty() && rest.starts_with(char::is_whitespace)).then(|| t.to_string())
        })
        .unwrap_or_else(|| stem.to_string())
}

fn yaml_str(f: &WpFile, key: &str) -> String {
    f.get_str(key).unwrap_or_default()
}

/// One card of the reference's kanban.
fn task(root: &Path, m: &MissionView, path: &Path) -> Option<(String, Value)> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let name = path.file_name()?.to_string_lossy().into_owned();
    let id = tasks_md::wp_id_from_filename(&name).unwrap_or_else(|| stem.clone());
    let rel = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let text = read_confined(root, path).ok().flatten()?;
    let f = WpFile::parse(path, &text).ok()?;
    let card = m.wp(&id);
    let lane = card.map_or("planned", |c| c.lane.as_str());
    let column = card.map_or("planned", |c| reference_column(c.column));
    let (agent, model) = match f.get("agent") {
        Some(serde_yaml::Value::Mapping(map)) => {
            let field = |k: &str| {
                map.get(serde_yaml::Value::String(k.into()))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            (field("tool"), field("model"))
        }
        _ => (yaml_str(&f, "agent"), String::new()),
    };
    let model = if model.is_empty() {
        yaml_str(&f, "model")
    } else {
        model
    };
    let value = json!({
        "id": id,
        "title": prompt_title(&text, &stem),
        "lane": lane,
        "subtasks": f.get_list("subtasks"),
        "agent": agent,
        "model": model,
        "agent_profile": yaml_str(&f, "agent_profile"),
        "role": yaml_str(&f, "role"),
        "assignee": yaml_str(&f, "assignee"),
        "phase": yaml_str(&f, "phase"),
        "prompt_markdown": f.body.trim(),
        "prompt_path": rel,
    });
    Some((column.to_string(), value))
}

/// `GET /api/kanban/<id>`: an unknown mission is the reference's empty board
/// (200), not an error.
pub fn kanban(view: &ProjectView, root: &Path, id: &str) -> Value {
    let mut lanes: Map<String, Value> = COLUMNS
        .iter()
        .map(|c| ((*c).to_string(), Value::Array(Vec::new())))
        .collect();
    let Some(m) = view.mission(id) else {
        return json!({"lanes": lanes, "is_legacy": false, "upgrade_needed": false, "weighted_percentage": null});
    };
    let legacy = is_legacy(&m.dir);
    let tasks_dir = m.dir.join("tasks");
    let mut cards: Vec<(String, Value)> = Vec::new();
    if !legacy && m.has_event_log && matches!(confined(root, &tasks_dir), Ok(Some(_))) {
        for p in tasks_md::list_wp_files(&tasks_dir).unwrap_or_default() {
            if let Some(c) = task(root, m, &p) {
                cards.push(c);
            }
        }
    }
    cards.sort_by_key(|(_, v)| natural_key(v["id"].as_str().unwrap_or_default()));
    for (col, v) in cards {
        if let Some(Value::Array(a)) = lanes.get_mut(&col) {
            a.push(v);
        }
    }
    json!({
        "lanes": lanes,
        "is_legacy": legacy,
        "upgrade_needed": legacy,
        "weighted_percentage": (!legacy && m.has_event_log).then_some(m.progress_percentage),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_titles_follow_the_reference() {
        assert_eq!(display_name("001-demo", "demo"), "001 - demo");
        assert_eq!(display_name("001-demo", "001 demo"), "001 demo");
        assert_eq!(display_name("001-demo", "0012 demo"), "001 - 0012 demo");
        assert_eq!(display_name("demo", "Demo"), "Demo");
        assert_eq!(
            prompt_title(
                "---\n---\n# Work Package Prompt: WP01 – Research\n",
                "WP01-x"
            ),
            "WP01 – Research"
        );
        assert_eq!(
            prompt_title("# WP01: Research\n", "WP01-research"),
            "WP01-research"
        );
        assert!(natural_key("WP2") < natural_key("WP10"));
    }
}
