//! `doctrine status|promote|curate|reset`: curation of doctrine artifacts
//! (directives, tactics, styleguides, ...) from `_proposed/` to `shipped/`.
//!
//! The reference curates the doctrine inside its own installed package (it
//! moves and deletes files in site-packages, outside any project). This build
//! ships no doctrine library: it curates the project's own,
//! `.kittify/doctrine/<type>/{_proposed,shipped}/`, with the reference's file
//! patterns (`*.directive.yaml`, ...). The session is the reference's file,
//! `.kittify/curation/state.json`, in its format, so a mixed team sees the
//! same progress from both tools. Every write stays inside the project.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::project::Project;

/// (type directory, file suffix), the reference's curate-able kinds.
pub const KINDS: &[(&str, &str)] = &[
    ("directives", ".directive.yaml"),
    ("tactics", ".tactic.yaml"),
    ("styleguides", ".styleguide.yaml"),
    ("toolguides", ".toolguide.yaml"),
    ("paradigms", ".paradigm.yaml"),
    ("procedures", ".procedure.yaml"),
    ("agent_profiles", ".agent.yaml"),
    ("mission_step_contracts", ".step-contract.yaml"),
];

const MAX_ARTIFACT: u64 = 1 << 20;
const MAX_DEPTH: usize = 8;

pub fn doctrine_dir(project: &Project) -> PathBuf {
    project.kittify_dir().join("doctrine")
}

pub fn state_file(project: &Project) -> PathBuf {
    project.kittify_dir().join("curation").join("state.json")
}

fn check_type(t: &str) -> Result<&'static str> {
    KINDS
        .iter()
        .find(|(k, _)| *k == t)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            Error::user(format!("unknown artifact type {t:?}"))
                .with_hint(format!("one of: {}", names.join(", ")))
        })
}

/// One artifact file.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub artifact_type: String,
    pub artifact_id: String,
    pub filename: String,
    pub path: PathBuf,
    pub title: String,
    /// intent, purpose, summary, ... as the reference presents them.
    pub summary: Vec<(String, String)>,
}

fn files_under(dir: &Path, suffix: &str, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            files_under(&p, suffix, depth + 1, out);
        } else if ft.is_file() && e.file_name().to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn read_artifact(kind: &str, path: &Path) -> Option<Artifact> {
    let t = crate::fsutil::read_capped(path, MAX_ARTIFACT).ok()??;
    let y: serde_yaml::Value = crate::bounds::yaml(&t).ok()?;
    let data: Map<String, Value> = match serde_json::to_value(y).ok()? {
        Value::Object(m) => m,
        _ => return None,
    };
    let filename = path.file_name()?.to_string_lossy().into_owned();
    let stem = filename
        .strip_suffix(".yaml")
        .unwrap_or(&filename)
        .to_string();
    let id = data.get("id").map(text).unwrap_or(stem);
    let title = ["title", "name", "profile-id"]
        .iter()
        .find_map(|k| data.get(*k).filter(|v| !v.is_null()).map(text))
        .unwrap_or_else(|| id.clone());
    let mut summary = Vec::new();
    for k in [
        "intent",
        "purpose",
        "summary",
        "description",
        "enforcement",
        "scope",
        "tool",
        "entry_condition",
        "exit_condition",
    ] {
        if let Some(v) = data.get(k).filter(|v| !v.is_null()) {
            summary.push((k.to_string(), text(v)));
        }
    }
    if let Some(Value::Array(refs)) = data.get("tactic_refs") {
        summary.push((
            "tactic_refs".into(),
            refs.iter().map(text).collect::<Vec<_>>().join(", "),
        ));
    }
    for (k, what) in [("steps", "steps"), ("principles", "principles")] {
        if let Some(Value::Array(a)) = data.get(k) {
            summary.push((k.into(), format!("{} {what}", a.len())));
        }
    }
    Some(Artifact {
        artifact_type: kind.to_string(),
        artifact_id: id,
        filename,
        path: path.to_path_buf(),
        title,
        summary,
    })
}

/// The artifacts of `area` (`_proposed` or `shipped`).
fn discover(project: &Project, area: &str) -> Vec<Artifact> {
    let root = doctrine_dir(project);
    let mut out = Vec::new();
    for (kind, suffix) in KINDS {
        let mut files = Vec::new();
        files_under(&root.join(kind).join(area), suffix, 0, &mut files);
        out.extend(files.iter().filter_map(|p| read_artifact(kind, p)));
    }
    out
}

/// `.kittify/curation/state.json`, kept as JSON so keys this build does not
/// know survive a rewrite.
#[derive(Debug, Clone)]
pub struct Session {
    pub doc: Map<String, Value>,
}

/// Progress of a session.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Progress {
    pub accepted: usize,
    pub dropped: usize,
    pub skipped: usize,
    pub pending: usize,
    pub total: usize,
    pub progress_percent: f64,
}

impl Session {
    fn fresh(now: &str) -> Session {
        let mut doc = Map::new();
        doc.insert("started_at".into(), now.into());
        doc.insert("updated_at".into(), now.into());
        doc.insert("decisions".into(), json!({}));
        Session { doc }
    }

    fn decisions(&self) -> impl Iterator<Item = &Value> {
        self.doc
            .get("decisions")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.values())
    }

    pub fn verdict(&self, kind: &str, id: &str) -> Option<String> {
        self.doc
            .get("decisions")?
            .get(format!("{kind}:{id}"))?
            .get("verdict")?
            .as_str()
            .map(str::to_string)
    }

    pub fn progress(&self) -> Progress {
        let mut p = Progress::default();
        for d in self.decisions() {
            p.total += 1;
            match d
                .get("verdict")
                .and_then(Value::as_str)
                .unwrap_or("pending")
            {
                "accepted" => p.accepted += 1,
                "dropped" => p.dropped += 1,
                "skipped" => p.skipped += 1,
                _ => p.pending += 1,
            }
        }
        if p.total > 0 {
            let decided = (p.total - p.pending) as f64;
            p.progress_percent = (decided / p.total as f64 * 1000.0).round() / 10.0;
        }
        p
    }

    fn record(&mut self, a: &Artifact, verdict: &str, now: &str) {
        let decisions = self.doc.entry("decisions").or_insert_with(|| json!({}));
        if !decisions.is_object() {
            *decisions = json!({});
        }
        if let Some(m) = decisions.as_object_mut() {
            m.insert(
                format!("{}:{}", a.artifact_type, a.artifact_id),
                json!({
                    "artifact_type": a.artifact_type,
                    "artifact_id": a.artifact_id,
                    "filename": a.filename,
                    "verdict": verdict,
                    "notes": "",
                    "decided_at": if verdict == "pending" { Value::Null } else { now.into() },
                }),
            );
        }
        self.doc.insert("updated_at".into(), now.into());
    }
}

/// Refuse a path whose existing part resolves outside the project.
fn inside(project: &Project, path: &Path) -> Result<()> {
    let root =
        std::fs::canonicalize(&project.root).map_err(|e| Error::io("resolve", &project.root, e))?;
    let mut probe = path.to_path_buf();
    loop {
        if let Ok(real) = std::fs::canonicalize(&probe) {
            if real.starts_with(&root) {
                return Ok(());
            }
            return Err(Error::user(format!(
                "refusing to write {}: it resolves to {}, outside the project",
                path.display(),
                real.display()
            )));
        }
        if !probe.pop() {
            return Err(Error::user(format!("cannot resolve {}", path.display())));
        }
    }
}

pub fn load_session(project: &Project) -> Result<Option<Session>> {
    let path = state_file(project);
    let Some(t) = crate::fsutil::read_capped(&path, 16 << 20)? else {
        return Ok(None);
    };
    // The reference treats an unreadable file as no session; so do we.
    Ok(match crate::bounds::json::<Value>(&t) {
        Ok(Value::Object(doc)) => Some(Session { doc }),
        _ => None,
    })
}

fn save_session(project: &Project, s: &Session) -> Result<PathBuf> {
    let path = state_file(project);
    inside(project, &path)?;
    let text = crate::jsonfmt::pretty(&Value::Object(s.doc.clone()));
    crate::fsutil::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    crate::fsutil::atomic_write(&path, text.as_bytes())?;
    Ok(path)
}

fn lock(project: &Project) -> Result<crate::fsutil::FileLock> {
    Ok(crate::fsutil::FileLock::acquire(
        &project.locks_dir().join("doctrine-curation.lock"),
        crate::fsutil::LOCK_TIMEOUT,
        "the doctrine curation session",
    )?)
}

/// `doctrine status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub doctrine_dir: PathBuf,
    /// Per type with any artifact: proposed and shipped counts.
    pub counts: BTreeMap<String, BTreeMap<&'static str, usize>>,
    pub total_proposed: usize,
    pub total_shipped: usize,
    pub session: Option<Progress>,
}

pub fn status(project: &Project) -> Result<Status> {
    let mut counts: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    for (area, key) in [("_proposed", "proposed"), ("shipped", "shipped")] {
        for a in discover(project, area) {
            let c = counts
                .entry(a.artifact_type)
                .or_insert_with(|| BTreeMap::from([("proposed", 0), ("shipped", 0)]));
            *c.entry(key).or_default() += 1;
        }
    }
    let total = |k: &str| {
        counts
            .values()
            .map(|c| c.get(k).copied().unwrap_or(0))
            .sum()
    };
    Ok(Status {
        doctrine_dir: doctrine_dir(project),
        total_proposed: total("proposed"),
        total_shipped: total("shipped"),
        counts,
        session: load_session(project)?.map(|s| s.progress()),
    })
}

/// Move `a` from `_proposed/` to `shipped/`, keeping its subdirectory.
fn promote_file(project: &Project, a: &Artifact) -> Result<PathBuf> {
    let proposed = doctrine_dir(project)
        .join(&a.artifact_type)
        .join("_proposed");
    let rel = a.path.strip_prefix(&proposed).map_err(|_| {
        Error::internal(format!(
            "{} is not under {}",
            a.path.display(),
            proposed.display()
        ))
    })?;
    let dest = doctrine_dir(project)
        .join(&a.artifact_type)
        .join("shipped")
        .join(rel);
    if std::fs::symlink_metadata(&dest).is_ok() {
        return Err(Error::user(format!("{} already exists", dest.display()))
            .with_hint("remove or rename one of the two, then promote again"));
    }
    inside(project, &a.path)?;
    if let Some(parent) = dest.parent() {
        inside(project, parent)?;
        crate::fsutil::create_dir_all(parent)?;
        inside(project, parent)?;
    }
    std::fs::rename(&a.path, &dest).map_err(|e| Error::io("move", &a.path, e))?;
    Ok(dest)
}

/// What `promote` did.
#[derive(Debug, Clone, Serialize)]
pub struct Promoted {
    pub artifact: Artifact,
    pub destination: PathBuf,
    /// The curation session recorded it as accepted.
    pub session_updated: bool,
}

/// `doctrine promote ID --type T`.
pub fn promote(project: &Project, id: &str, kind: &str, now: &str) -> Result<Promoted> {
    check_type(kind)?;
    let _lock = lock(project)?;
    let Some(a) = discover(project, "_proposed")
        .into_iter()
        .find(|a| a.artifact_type == kind && a.artifact_id == id)
    else {
        return Err(Error::user(format!("{kind}/{id} not found in _proposed/")).with_hint(format!(
            "proposed artifacts live in .kittify/doctrine/{kind}/_proposed/; `spec-kitty doctrine status` counts them"
        )));
    };
    let destination = promote_file(project, &a)?;
    let mut session_updated = false;
    if let Some(mut s) = load_session(project)? {
        s.record(&a, "accepted", now);
        save_session(project, &s)?;
        session_updated = true;
    }
    Ok(Promoted {
        artifact: a,
        destination,
        session_updated,
    })
}

/// The artifacts a curation interview goes through, and whether a saved
/// session was resumed. Saves the session (every proposed artifact known,
/// new ones pending).
pub fn curate_start(
    project: &Project,
    kind: Option<&str>,
    resume: bool,
    now: &str,
) -> Result<(Vec<Artifact>, bool, Progress)> {
    if let Some(k) = kind {
        check_type(k)?;
    }
    let _lock = lock(project)?;
    let existing = if resume { load_session(project)? } else { None };
    let resumed = existing.is_some();
    let mut s = existing.unwrap_or_else(|| Session::fresh(now));
    let proposed = discover(project, "_proposed");
    for a in &proposed {
        if s.verdict(&a.artifact_type, &a.artifact_id).is_none() {
            s.record(a, "pending", now);
        }
    }
    let pending: Vec<Artifact> = proposed
        .into_iter()
        .filter(|a| kind.is_none_or(|k| a.artifact_type == k))
        .filter(|a| s.verdict(&a.artifact_type, &a.artifact_id).as_deref() == Some("pending"))
        .collect();
    if !pending.is_empty() || resumed {
        save_session(project, &s)?;
    }
    Ok((pending, resumed, s.progress()))
}

/// A verdict of the interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Dropped,
    Skipped,
}

/// Apply one verdict (promote, delete, or nothing) and save it in the session.
pub fn decide(project: &Project, a: &Artifact, v: Verdict, now: &str) -> Result<Option<PathBuf>> {
    let _lock = lock(project)?;
    let dest = match v {
        Verdict::Accepted => Some(promote_file(project, a)?),
        Verdict::Dropped => {
            crate::confine::remove_file(project, &a.path)?;
            None
        }
        Verdict::Skipped => None,
    };
    let mut s = load_session(project)?.unwrap_or_else(|| Session::fresh(now));
    let word = match v {
        Verdict::Accepted => "accepted",
        Verdict::Dropped => "dropped",
        Verdict::Skipped => "skipped",
    };
    s.record(a, word, now);
    save_session(project, &s)?;
    Ok(dest)
}

/// Is there a curation session to reset: one that loads, or a session file
/// at all (an unreadable one counts)?
pub fn has_session(project: &Project) -> Result<bool> {
    Ok(load_session(project)?.is_some() || state_file(project).exists())
}

/// `doctrine reset`: remove the session file (artifacts stay where they are).
/// False when there was none.
pub fn reset(project: &Project) -> Result<bool> {
    let _lock = lock(project)?;
    Ok(crate::confine::remove_file(project, &state_file(project))?)
}
