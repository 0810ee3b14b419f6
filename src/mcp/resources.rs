//! The resources: what an agent reads by URI instead of calling a tool.
//!
//! | URI | content |
//! | --- | --- |
//! | `spec-kitty://board` | every mission's board (JSON) |
//! | `spec-kitty://mission/<slug>/state` | the lane of every WP, folded from the log (`status.json`'s shape) |
//! | `spec-kitty://mission/<slug>/lanes` | `lanes.json` as written by finalize-tasks |
//! | `spec-kitty://mission/<slug>/events` | `status.events.jsonl` (its last 4 MiB on a longer log) |
//! | `spec-kitty://mission/<slug>/wp/<WPnn>` | the work package's markdown file |
//!
//! Every id in a URI is checked against the id grammar before it builds a path,
//! and every file is read through the dashboard's confined, size-capped reader.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rmcp::model::{Resource, ResourceTemplate};
use serde_json::{json, Value};

use crate::dashboard::model::{confined, read_confined, MAX_TEXT_FILE};
use crate::ids;
use crate::mission::{self, Mission, Selector};
use crate::project::Project;
use crate::status::ops::Board;
use crate::status::store::StatusStore;
use crate::tasks_md::wp;

pub const SCHEME: &str = "spec-kitty://";
pub const BOARD: &str = "spec-kitty://board";

/// A parsed resource URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    Board,
    State(String),
    Lanes(String),
    Events(String),
    Wp(String, String),
}

impl Uri {
    /// Parse one of our URIs; None for anything else (including ids that do not
    /// follow the grammar, so no path is ever built from them).
    pub fn parse(uri: &str) -> Option<Uri> {
        let rest = uri.strip_prefix(SCHEME)?;
        if rest == "board" {
            return Some(Uri::Board);
        }
        let rest = rest.strip_prefix("mission/")?;
        let mut parts = rest.split('/');
        let slug = parts.next()?;
        if !ids::is_mission_slug(slug) {
            return None;
        }
        let slug = slug.to_string();
        let uri = match (parts.next()?, parts.next(), parts.next()) {
            ("state", None, _) => Uri::State(slug),
            ("lanes", None, _) => Uri::Lanes(slug),
            ("events", None, _) => Uri::Events(slug),
            ("wp", Some(id), None) if ids::is_wp_id(id) => Uri::Wp(slug, id.to_string()),
            _ => return None,
        };
        Some(uri)
    }

    pub fn render(&self) -> String {
        match self {
            Uri::Board => BOARD.to_string(),
            Uri::State(s) => format!("{SCHEME}mission/{s}/state"),
            Uri::Lanes(s) => format!("{SCHEME}mission/{s}/lanes"),
            Uri::Events(s) => format!("{SCHEME}mission/{s}/events"),
            Uri::Wp(s, w) => format!("{SCHEME}mission/{s}/wp/{w}"),
        }
    }

    /// The mission the resource belongs to (None for the board).
    pub fn mission(&self) -> Option<&str> {
        match self {
            Uri::Board => None,
            Uri::State(s) | Uri::Lanes(s) | Uri::Events(s) | Uri::Wp(s, _) => Some(s),
        }
    }
}

/// Why a resource could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// No such mission, work package or file.
    NotFound(String),
    /// It exists but could not be read (too large, outside the project, bad data).
    Failed(String),
}

impl ReadError {
    pub fn message(&self) -> &str {
        match self {
            ReadError::NotFound(m) | ReadError::Failed(m) => m,
        }
    }
}

/// A resource's content: MIME type and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub mime: &'static str,
    pub text: String,
}

fn mission_exact(project: &Project, slug: &str) -> Result<Mission, ReadError> {
    match mission::resolve(project, Selector::Given(slug)) {
        Ok(m) if m.slug == slug => Ok(m),
        Ok(m) => Err(ReadError::NotFound(format!(
            "no mission {slug:?} (did you mean {:?}? resource URIs take the full slug)",
            m.slug
        ))),
        Err(e) => Err(ReadError::NotFound(e.to_string())),
    }
}

fn json_text(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Read the resource `uri` of `project` (`root` is the canonical project root).
pub fn read(project: &Project, root: &Path, uri: &Uri) -> Result<Content, ReadError> {
    match uri {
        Uri::Board => Ok(Content {
            mime: "application/json",
            text: json_text(&board_all(project)?),
        }),
        Uri::State(slug) => {
            let m = mission_exact(project, slug)?;
            let (snap, _) = StatusStore::for_mission(project, &m)
                .snapshot()
                .map_err(|e| ReadError::Failed(e.to_string()))?;
            let v = snap.to_json(m.number.as_deref().unwrap_or(""), m.mission_type());
            Ok(Content {
                mime: "application/json",
                text: json_text(&v),
            })
        }
        Uri::Lanes(slug) => {
            let m = mission_exact(project, slug)?;
            let path = m.lanes_file();
            match read_confined(root, &path) {
                Ok(Some(text)) => Ok(Content {
                    mime: "application/json",
                    text,
                }),
                Ok(None) => Err(ReadError::NotFound(format!(
                    "{slug} has no lanes.json yet (finalize-tasks writes it)"
                ))),
                Err(e) => Err(ReadError::Failed(format!("{}: {e}", path.display()))),
            }
        }
        Uri::Events(slug) => {
            let m = mission_exact(project, slug)?;
            let path = m.dir.join("status.events.jsonl");
            Ok(Content {
                mime: "application/x-ndjson",
                text: read_tail(root, &path, MAX_TEXT_FILE)?,
            })
        }
        Uri::Wp(slug, id) => {
            let m = mission_exact(project, slug)?;
            let files =
                wp::list_wp_files(&m.tasks_dir()).map_err(|e| ReadError::Failed(e.to_string()))?;
            let path = files
                .iter()
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .and_then(wp::wp_id_from_filename)
                        .is_some_and(|w| w == *id)
                })
                .ok_or_else(|| ReadError::NotFound(format!("{slug} has no {id}")))?;
            match read_confined(root, path) {
                Ok(Some(text)) => Ok(Content {
                    mime: "text/markdown",
                    text,
                }),
                Ok(None) => Err(ReadError::NotFound(format!("{slug} has no {id}"))),
                Err(e) => Err(ReadError::Failed(format!("{}: {e}", path.display()))),
            }
        }
    }
}

/// The last `cap` bytes of a confined file, from a line start; "" when missing.
fn read_tail(root: &Path, path: &Path, cap: u64) -> Result<String, ReadError> {
    let fail = |e: &dyn std::fmt::Display| ReadError::Failed(format!("{}: {e}", path.display()));
    let Some(real) = confined(root, path).map_err(|e| fail(&e))? else {
        return Ok(String::new());
    };
    let mut f = std::fs::File::open(&real).map_err(|e| fail(&e))?;
    let len = f.metadata().map_err(|e| fail(&e))?.len();
    let start = len.saturating_sub(cap);
    f.seek(SeekFrom::Start(start)).map_err(|e| fail(&e))?;
    let mut buf = Vec::new();
    f.take(cap).read_to_end(&mut buf).map_err(|e| fail(&e))?;
    let from = if start > 0 {
        buf.iter()
            .position(|b| *b == b'\n')
            .map_or(buf.len(), |i| i + 1)
    } else {
        0
    };
    Ok(String::from_utf8_lossy(buf.get(from..).unwrap_or_default()).into_owned())
}

/// One mission's board as the `board` tool and resource show it.
pub fn board_json(board: &Board) -> Value {
    let mut by_lane = serde_json::Map::new();
    for w in &board.work_packages {
        let n = by_lane
            .get(w.lane.as_str())
            .and_then(Value::as_u64)
            .unwrap_or(0);
        by_lane.insert(w.lane.to_string(), (n + 1).into());
    }
    json!({
        "mission_slug": board.mission_slug,
        "mission_number": board.mission_number,
        "mission_type": board.mission_type,
        "total_wps": board.total,
        "done": board.done,
        "progress_percentage": board.progress_percentage,
        "by_lane": by_lane,
        "ready": board.ready,
        "work_packages": board.work_packages,
        "warnings": board.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
    })
}

fn board_all(project: &Project) -> Result<Value, ReadError> {
    let missions = mission::list(project).map_err(|e| ReadError::Failed(e.to_string()))?;
    let boards: Vec<Value> = missions
        .iter()
        .map(|m| match Board::load(project, m) {
            Ok(b) => board_json(&b),
            Err(e) => json!({"mission_slug": m.slug, "problem": e.to_string()}),
        })
        .collect();
    Ok(json!({ "missions": boards }))
}

/// Every concrete resource of the project.
pub fn list(project: &Project) -> Vec<Resource> {
    let res = |uri: Uri, name: String, desc: &str, mime: &str| -> Resource {
        Resource::new(uri.render(), name)
            .with_description(desc)
            .with_mime_type(mime)
    };
    let mut out = vec![res(
        Uri::Board,
        "board".into(),
        "Every mission's kanban board",
        "application/json",
    )];
    let Ok(missions) = mission::list(project) else {
        return out;
    };
    for m in missions {
        if !ids::is_mission_slug(&m.slug) {
            continue;
        }
        let s = m.slug.clone();
        out.push(res(
            Uri::State(s.clone()),
            format!("{s} state"),
            "Lane of every work package",
            "application/json",
        ));
        if m.lanes_file().is_file() {
            out.push(res(
                Uri::Lanes(s.clone()),
                format!("{s} lanes"),
                "Execution lanes (lanes.json)",
                "application/json",
            ));
        }
        out.push(res(
            Uri::Events(s.clone()),
            format!("{s} events"),
            "Status event log (JSON lines)",
            "application/x-ndjson",
        ));
        if let Ok(files) = wp::list_wp_files(&m.tasks_dir()) {
            for f in files {
                let Some(id) = f
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(wp::wp_id_from_filename)
                else {
                    continue;
                };
                out.push(res(
                    Uri::Wp(s.clone(), id.clone()),
                    format!("{s} {id}"),
                    "Work package file",
                    "text/markdown",
                ));
            }
        }
    }
    out
}

/// The URI templates, for clients that build URIs themselves.
pub fn templates() -> Vec<ResourceTemplate> {
    let t = |uri: &str, name: &str, mime: &str| -> ResourceTemplate {
        ResourceTemplate::new(uri, name).with_mime_type(mime)
    };
    vec![
        t(
            "spec-kitty://mission/{slug}/state",
            "mission state",
            "application/json",
        ),
        t(
            "spec-kitty://mission/{slug}/lanes",
            "mission lanes",
            "application/json",
        ),
        t(
            "spec-kitty://mission/{slug}/events",
            "mission event log",
            "application/x-ndjson",
        ),
        t(
            "spec-kitty://mission/{slug}/wp/{wp_id}",
            "work package file",
            "text/markdown",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_and_refuse_bad_ids() {
        for u in [
            Uri::Board,
            Uri::State("001-demo".into()),
            Uri::Lanes("001-demo".into()),
            Uri::Events("001-demo".into()),
            Uri::Wp("001-demo".into(), "WP01".into()),
        ] {
            assert_eq!(Uri::parse(&u.render()), Some(u));
        }
        for bad in [
            "spec-kitty://mission/../etc/state",
            "spec-kitty://mission/001-demo/wp/../../x",
            "spec-kitty://mission/001-demo/wp/WP01/x",
            "spec-kitty://mission/001-demo/state/x",
            "spec-kitty://mission//state",
            "spec-kitty://boards",
            "file:///etc/passwd",
            "spec-kitty://mission/001-demo/wp/wp01",
        ] {
            assert_eq!(Uri::parse(bad), None, "{bad}");
        }
    }
}
