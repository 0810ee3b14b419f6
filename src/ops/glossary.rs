//! `glossary list|conflicts|resolve`: the project glossary the reference keeps
//! under `.kittify/`, read and written in its formats so a mixed team sees
//! the same terms and conflicts from both tools:
//! - seed files `.kittify/glossaries/<scope>.yaml` (`terms: [{surface,
//!   definition, confidence?, status?}]`), one per scope;
//! - event logs `.kittify/events/glossary/<mission>.events.jsonl`, one JSON
//!   object a line (`GlossarySenseUpdated`, `GlossaryClarificationRequested`,
//!   `GlossaryClarificationResolved`, `SemanticCheckEvaluated`, ...).
//!
//! Terms are the seeds plus the senses the logs add; a conflict is a
//! clarification request, resolved once a resolution with its id is logged.
//! `resolve` appends the reference's resolution event (and, for a custom
//! definition, the sense it adds) under a lock; nothing else is written.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::project::Project;

/// The scopes, in the reference's order.
pub const SCOPES: &[&str] = &[
    "mission_local",
    "team_domain",
    "audience_domain",
    "spec_kitty_core",
];
pub const STATUSES: &[&str] = &["active", "deprecated", "draft"];
pub const STRICTNESS: &[&str] = &["off", "medium", "max"];

/// The largest seed file or event log read.
const MAX_FILE: u64 = 16 << 20;

/// One sense of a term, in the reference's `glossary list --json` shape.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Term {
    pub surface: String,
    pub scope: String,
    pub definition: String,
    pub status: String,
    pub confidence: f64,
}

fn glossaries_dir(project: &Project) -> PathBuf {
    project.kittify_dir().join("glossaries")
}

fn events_dir(project: &Project) -> PathBuf {
    project.kittify_dir().join("events").join("glossary")
}

fn status_of(v: Option<&Value>) -> String {
    match v.and_then(Value::as_str) {
        Some(s) if STATUSES.contains(&s) => s.to_string(),
        _ => "draft".to_string(),
    }
}

fn confidence_of(v: Option<&Value>) -> f64 {
    v.and_then(Value::as_f64).unwrap_or(1.0)
}

fn one_of(what: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let mut sorted = allowed.to_vec();
    sorted.sort();
    Err(Error::user(format!(
        "Invalid {what} '{value}'. Valid {what}s: {}",
        sorted.join(", ")
    )))
}

/// A seed file's terms; an error names the file and the entry.
fn load_seed(path: &Path, scope: &str) -> Result<Vec<Term>> {
    let Some(text) = crate::fsutil::read_capped(path, MAX_FILE)? else {
        return Ok(Vec::new());
    };
    let doc: serde_yaml::Value =
        crate::bounds::yaml(&text).map_err(|e| Error::parse(path, e.line(), e))?;
    let Some(terms) = doc.get("terms") else {
        return Err(Error::parse(
            path,
            None,
            "a seed file needs a `terms:` list",
        ));
    };
    let Some(list) = terms.as_sequence() else {
        return Err(Error::parse(path, None, "`terms` must be a list"));
    };
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let v: Value = serde_json::to_value(t).unwrap_or(Value::Null);
        let (Some(surface), Some(definition)) = (
            v.get("surface").and_then(Value::as_str),
            v.get("definition").and_then(Value::as_str),
        ) else {
            return Err(Error::parse(
                path,
                None,
                format!("term {} needs `surface` and `definition`", i + 1),
            ));
        };
        if surface != surface.trim().to_lowercase() {
            return Err(Error::parse(
                path,
                None,
                format!(
                    "term {}: surface {surface:?} must be lower case without surrounding blanks",
                    i + 1
                ),
            ));
        }
        out.push(Term {
            surface: surface.to_string(),
            scope: scope.to_string(),
            definition: definition.to_string(),
            status: status_of(v.get("status")),
            confidence: confidence_of(v.get("confidence")),
        });
    }
    Ok(out)
}

/// Every event of every glossary log, logs in name order; unreadable lines
/// are skipped, as the reference skips them.
fn all_events(project: &Project) -> Result<Vec<Value>> {
    let dir = events_dir(project);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".events.jsonl"))
            })
            .collect(),
        Err(_) => return Ok(Vec::new()),
    };
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Some(text) = crate::fsutil::read_capped(&f, MAX_FILE)? else {
            continue;
        };
        out.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                // bounds: one line of an append-only log (serde_json's depth limit).
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(Value::is_object),
        );
    }
    Ok(out)
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `glossary list`.
pub fn list(project: &Project, scope: Option<&str>, status: Option<&str>) -> Result<Vec<Term>> {
    if let Some(sc) = scope {
        one_of("scope", sc, SCOPES)?;
    }
    if let Some(st) = status {
        one_of("status", st, STATUSES)?;
    }
    let dir = glossaries_dir(project);
    if !dir.is_dir() {
        return Err(Error::user(format!(
            "Glossary not initialized: {} does not exist",
            dir.display()
        ))
        .with_hint("add a seed file such as .kittify/glossaries/team_domain.yaml with `terms: [{surface: ..., definition: ...}]`"));
    }
    let mut terms = Vec::new();
    for sc in SCOPES {
        terms.extend(load_seed(&dir.join(format!("{sc}.yaml")), sc)?);
    }
    for e in all_events(project)? {
        let sense = match s(&e, "event_type") {
            Some("GlossarySenseUpdated") => {
                let n = e.get("new_sense").cloned().unwrap_or(json!({}));
                let surface = s(&n, "surface").or(s(&e, "term_surface")).unwrap_or("");
                let scope = s(&n, "scope").or(s(&e, "scope")).unwrap_or("team_domain");
                Some((
                    surface.to_string(),
                    scope.to_string(),
                    n.clone(),
                    status_of(n.get("status")),
                ))
            }
            Some("GlossaryClarificationResolved") => {
                let n = e.get("selected_sense").cloned().unwrap_or(json!({}));
                if s(&n, "definition").is_none() {
                    None
                } else {
                    let surface = s(&n, "surface").or(s(&e, "term_surface")).unwrap_or("");
                    let scope = s(&n, "scope").unwrap_or("team_domain");
                    Some((
                        surface.to_string(),
                        scope.to_string(),
                        n.clone(),
                        "active".into(),
                    ))
                }
            }
            _ => None,
        };
        let Some((surface, sc, n, st)) = sense else {
            continue;
        };
        let Some(definition) = s(&n, "definition") else {
            continue;
        };
        if surface.is_empty() || surface != surface.trim().to_lowercase() {
            continue;
        }
        terms.push(Term {
            surface,
            scope: sc,
            definition: definition.to_string(),
            status: st,
            confidence: confidence_of(n.get("confidence")),
        });
    }
    terms
        .retain(|t| scope.is_none_or(|sc| t.scope == sc) && status.is_none_or(|st| t.status == st));
    terms.sort_by(|a, b| (&a.scope, &a.surface).cmp(&(&b.scope, &b.surface)));
    Ok(terms)
}

/// One conflict, in the reference's `glossary conflicts --json` shape.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Conflict {
    pub conflict_id: String,
    pub term: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub severity: String,
    pub mission_id: String,
    pub timestamp: String,
    pub status: String,
    pub effective_strictness: String,
}

fn finding_term(f: &Value) -> String {
    match f.get("term") {
        Some(Value::Object(o)) => o
            .get("surface_text")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
        None => "unknown".into(),
    }
}

/// Findings of blocked semantic checks by (step, term), and check events by step.
type FindingIndex = (
    std::collections::HashMap<(String, String), Value>,
    std::collections::HashMap<String, Value>,
);

fn index_findings(events: &[Value]) -> FindingIndex {
    let mut findings = std::collections::HashMap::new();
    let mut checks = std::collections::HashMap::new();
    for e in events {
        if s(e, "event_type") == Some("SemanticCheckEvaluated")
            && e.get("blocked").and_then(Value::as_bool) == Some(true)
        {
            let step = s(e, "step_id").unwrap_or("unknown").to_string();
            checks.insert(step.clone(), e.clone());
            for f in e
                .get("findings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                findings.insert((step.clone(), finding_term(f)), f.clone());
            }
        }
    }
    (findings, checks)
}

fn conflicts_of(events: &[Value]) -> Vec<Conflict> {
    let (findings, checks) = index_findings(events);
    let mut out: Vec<Conflict> = Vec::new();
    let mut resolved = std::collections::HashSet::new();
    for e in events {
        match s(e, "event_type") {
            Some("GlossaryClarificationRequested") => {
                let Some(cid) = s(e, "conflict_id").filter(|c| !c.is_empty()) else {
                    continue;
                };
                let term = s(e, "term").unwrap_or("unknown").to_string();
                let step = s(e, "step_id").unwrap_or("unknown").to_string();
                let f = findings.get(&(step.clone(), term.clone()));
                let fs = |k: &str| f.and_then(|f| s(f, k)).map(str::to_string);
                out.push(Conflict {
                    conflict_id: cid.to_string(),
                    term,
                    kind: fs("conflict_type").unwrap_or_else(|| "unknown".into()),
                    severity: s(e, "urgency")
                        .map(str::to_string)
                        .or_else(|| fs("severity"))
                        .unwrap_or_else(|| "unknown".into()),
                    mission_id: s(e, "mission_id").unwrap_or("").to_string(),
                    timestamp: s(e, "timestamp").unwrap_or("").to_string(),
                    status: "unresolved".into(),
                    effective_strictness: checks
                        .get(&step)
                        .and_then(|c| s(c, "effective_strictness"))
                        .unwrap_or("unknown")
                        .to_string(),
                });
            }
            Some("GlossaryClarificationResolved") => {
                if let Some(cid) = s(e, "conflict_id").filter(|c| !c.is_empty()) {
                    resolved.insert(cid.to_string());
                }
            }
            _ => {}
        }
    }
    // Resolutions of conflicts never requested (resolved on the spot).
    for e in events {
        if s(e, "event_type") != Some("GlossaryClarificationResolved") {
            continue;
        }
        let Some(cid) = s(e, "conflict_id").filter(|c| !c.is_empty()) else {
            continue;
        };
        if out.iter().any(|c| c.conflict_id == cid) {
            continue;
        }
        out.push(Conflict {
            conflict_id: cid.to_string(),
            term: s(e, "term_surface").unwrap_or("unknown").to_string(),
            kind: "unknown".into(),
            severity: "unknown".into(),
            mission_id: String::new(),
            timestamp: s(e, "timestamp").unwrap_or("").to_string(),
            status: "resolved".into(),
            effective_strictness: "unknown".into(),
        });
    }
    for c in &mut out {
        if resolved.contains(&c.conflict_id) {
            c.status = "resolved".into();
        }
    }
    out
}

/// `glossary conflicts`.
pub fn conflicts(
    project: &Project,
    mission: Option<&str>,
    unresolved_only: bool,
    strictness: Option<&str>,
) -> Result<Vec<Conflict>> {
    if let Some(st) = strictness {
        one_of("strictness", st, STRICTNESS)?;
    }
    let mut out = conflicts_of(&all_events(project)?);
    out.retain(|c| {
        mission.is_none_or(|m| c.mission_id == m)
            && (!unresolved_only || c.status == "unresolved")
            && strictness.is_none_or(|st| c.effective_strictness == st)
    });
    Ok(out)
}

/// A conflict to resolve, with the senses offered.
#[derive(Debug, Clone, Serialize)]
pub struct OpenConflict {
    pub conflict_id: String,
    pub term: String,
    pub mission_id: String,
    pub already_resolved: bool,
    /// `type`, `severity`, `context` of the finding, when the check logged one.
    pub finding: Option<Value>,
    pub urgency: Option<String>,
    /// Each `{surface, scope, definition, confidence}`.
    pub candidates: Vec<Value>,
}

/// Find the conflict `conflict_id` and what could resolve it.
pub fn open_conflict(project: &Project, conflict_id: &str) -> Result<OpenConflict> {
    let events = all_events(project)?;
    let (findings, _) = index_findings(&events);
    let Some(req) = events.iter().find(|e| {
        s(e, "event_type") == Some("GlossaryClarificationRequested")
            && s(e, "conflict_id") == Some(conflict_id)
    }) else {
        return Err(Error::user(format!("Conflict '{conflict_id}' not found"))
            .with_hint("list them with `spec-kitty glossary conflicts`"));
    };
    let term = s(req, "term").unwrap_or("unknown").to_string();
    let step = s(req, "step_id").unwrap_or("unknown").to_string();
    let finding = findings.get(&(step, term.clone())).cloned();
    let mut candidates: Vec<Value> = finding
        .as_ref()
        .and_then(|f| f.get("candidate_senses"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if candidates.is_empty() {
        candidates = req
            .get("options")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|o| {
                json!({"surface": term, "scope": "unknown", "definition": o.as_str().map(Value::from).unwrap_or(o.clone()), "confidence": 0.5})
            })
            .collect();
    }
    Ok(OpenConflict {
        conflict_id: conflict_id.to_string(),
        mission_id: s(req, "mission_id").unwrap_or("unknown").to_string(),
        already_resolved: events.iter().any(|e| {
            s(e, "event_type") == Some("GlossaryClarificationResolved")
                && s(e, "conflict_id") == Some(conflict_id)
        }),
        urgency: s(req, "urgency").map(str::to_string),
        term,
        finding,
        candidates,
    })
}

/// How a conflict is resolved.
#[derive(Debug, Clone)]
pub enum Choice {
    /// The n-th candidate (1-based).
    Candidate(usize),
    /// A definition of one's own (added as a team_domain sense).
    Custom(String),
}

/// What `resolve` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    pub conflict_id: String,
    pub term: String,
    pub selected_sense: Value,
    pub event_log: PathBuf,
    pub events_written: usize,
}

/// The reference's file name for a mission's glossary log.
fn sanitize(mission: &str) -> String {
    mission
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Record the resolution of `open` in the mission's glossary log.
pub fn resolve(
    project: &Project,
    open: &OpenConflict,
    mission: Option<&str>,
    choice: &Choice,
    now: &str,
) -> Result<Resolution> {
    let selected = match choice {
        Choice::Candidate(n) => {
            open.candidates
                .get(n.wrapping_sub(1))
                .cloned()
                .ok_or_else(|| {
                    Error::user(format!(
                        "Invalid selection '{n}': choose 1-{}",
                        open.candidates.len()
                    ))
                })?
        }
        Choice::Custom(def) => {
            if def.trim().is_empty() {
                return Err(Error::user("the custom definition is empty"));
            }
            json!({"surface": open.term, "scope": "team_domain", "definition": def, "confidence": 1.0})
        }
    };
    let effective = mission.unwrap_or(&open.mission_id);
    let name = sanitize(if effective.is_empty() {
        "unknown"
    } else {
        effective
    });
    // `.` and `..` alone would name a directory, not a file in it.
    if name.trim_matches('.').is_empty() {
        return Err(Error::user(format!(
            "mission id {effective:?} cannot name a log file"
        )));
    }
    let dir = events_dir(project);
    let log = dir.join(format!("{name}.events.jsonl"));
    let actor = json!({"actor_id": "user:cli", "actor_type": "human", "display_name": "CLI User"});
    let provenance = json!({"source": "cli_resolve", "timestamp": "", "actor_id": "user:cli"});
    let mut lines = vec![json!({
        "event_type": "GlossaryClarificationResolved",
        "conflict_id": open.conflict_id,
        "term_surface": open.term,
        "selected_sense": selected,
        "actor": actor,
        "resolution_mode": "async",
        "provenance": provenance,
        "timestamp": now,
    })];
    if let Choice::Custom(def) = choice {
        lines.push(json!({
            "event_type": "GlossarySenseUpdated",
            "term_surface": open.term,
            "scope": "team_domain",
            "new_sense": {"surface": open.term, "scope": "team_domain", "definition": def, "confidence": 1.0, "status": "active"},
            "actor": actor,
            "update_type": "create",
            "provenance": provenance,
            "timestamp": now,
        }));
    }
    let mut text = String::new();
    for l in &lines {
        text.push_str(&crate::jsonfmt::py_line(&crate::jsonfmt::sorted(l)));
        text.push('\n');
    }
    crate::fsutil::create_dir_all(&dir)?;
    let _lock = crate::fsutil::FileLock::acquire(
        &project.locks_dir().join("glossary-events.lock"),
        crate::fsutil::LOCK_TIMEOUT,
        "the glossary event log",
    )?;
    crate::fsutil::append(&log, text.as_bytes())?;
    Ok(Resolution {
        conflict_id: open.conflict_id.clone(),
        term: open.term.clone(),
        selected_sense: selected,
        event_log: log,
        events_written: lines.len(),
    })
}
