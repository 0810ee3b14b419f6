//! `agent status validate`: check a mission's event log and its snapshot
//! (each event's fields, the legality of each unforced move, the evidence of
//! each unforced move to done, and whether status.json still describes the
//! log). Writes nothing.
//!
//! Pass and fail agree with the reference 3.1.1 on the same log: the moves it
//! calls legal are its table plus ours (every move our commands record
//! without `--force`). What only we see (two clones moving a WP at the same
//! time, unreadable lines we skip) is reported as a warning, which never fails.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{Lane, StatusStore};

/// The reference's own table of unforced moves (from, to).
pub const REFERENCE_ALLOWED: &[(&str, &str)] = &[
    ("planned", "claimed"),
    ("claimed", "in_progress"),
    ("in_progress", "for_review"),
    ("for_review", "in_review"),
    ("in_review", "approved"),
    ("in_review", "done"),
    ("in_review", "in_progress"),
    ("in_review", "planned"),
    ("in_progress", "approved"),
    ("approved", "done"),
    ("approved", "in_progress"),
    ("approved", "planned"),
    ("in_progress", "planned"),
    ("planned", "blocked"),
    ("claimed", "blocked"),
    ("in_progress", "blocked"),
    ("for_review", "blocked"),
    ("in_review", "blocked"),
    ("approved", "blocked"),
    ("blocked", "in_progress"),
    ("planned", "canceled"),
    ("claimed", "canceled"),
    ("in_progress", "canceled"),
    ("for_review", "canceled"),
    ("in_review", "canceled"),
    ("approved", "canceled"),
    ("blocked", "canceled"),
];

/// Whether an unforced `from -> to` is legal for either tool.
pub fn legal(from: &str, to: &str) -> bool {
    if REFERENCE_ALLOWED.contains(&(from, to)) {
        return true;
    }
    match (Lane::parse(from), Lane::parse(to)) {
        (Ok(f), Ok(t)) => crate::status::transitions::rule(f, t).is_some(),
        _ => false,
    }
}

/// What `agent status validate` found.
#[derive(Debug, Clone, Serialize)]
pub struct StatusValidation {
    pub mission_slug: String,
    pub passed: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub error_count: usize,
    pub warning_count: usize,
    /// How many events the log holds (0: nothing to validate).
    #[serde(skip)]
    pub event_count: usize,
}

/// One line of the log as JSON, or why it is not an object.
fn raw_events(path: &Path) -> Result<(Vec<Value>, Vec<String>)> {
    let text = match crate::fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)? {
        Some(t) => t,
        None => return Ok((Vec::new(), Vec::new())),
    };
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // bounds: one line of the append-only log (serde_json's depth limit).
        match serde_json::from_str::<Value>(line) {
            Ok(v @ Value::Object(_)) => events.push(v),
            Ok(_) => bad.push(format!("line {}: not a JSON object", i + 1)),
            Err(e) => bad.push(format!("line {}: not JSON ({e})", i + 1)),
        }
    }
    Ok((events, bad))
}

fn is_event_id(s: &str) -> bool {
    if s.len() == 26 && ulid::Ulid::from_string(s).is_ok() {
        return true;
    }
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let dashed = s.len() == 36
        && s.char_indices()
            .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) && (dashed || s.len() == 32)
}

fn is_iso8601(s: &str) -> bool {
    let t = s.replace('Z', "+00:00");
    chrono::DateTime::parse_from_rfc3339(&t).is_ok()
        || chrono::DateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f%:z").is_ok()
        || chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").is_ok()
}

fn text<'a>(e: &'a Value, key: &str) -> Option<&'a str> {
    e.get(key).and_then(Value::as_str)
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
    }
}

/// The field checks of one event.
fn schema(e: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for f in [
        "event_id",
        "wp_id",
        "from_lane",
        "to_lane",
        "at",
        "actor",
        "force",
        "execution_mode",
    ] {
        if e.get(f).is_none() {
            out.push(format!("Missing required field: {f}"));
        }
    }
    if e.get("mission_slug").is_none() && e.get("feature_slug").is_none() {
        out.push("Missing required field: mission_slug (or legacy feature_slug)".into());
    }
    let id = e.get("event_id").map(value_text).unwrap_or_default();
    if !id.is_empty() && !is_event_id(&id) {
        out.push(format!("Invalid event ID format: {id}"));
    }
    for f in ["from_lane", "to_lane"] {
        if let Some(v) = e.get(f).filter(|v| !v.is_null()) {
            let s = value_text(v);
            if !crate::status::LANES.iter().any(|l| l.as_str() == s) {
                out.push(format!("{f} is not canonical: {s}"));
            }
        }
    }
    if let Some(at) = e.get("at").filter(|v| !v.is_null()) {
        let at = value_text(at);
        if !is_iso8601(&at) {
            out.push(format!("Event {id}: invalid ISO 8601 timestamp: {at}"));
        }
    }
    if let Some(f) = e.get("force").filter(|v| !v.is_null() && !v.is_boolean()) {
        out.push(format!(
            "Event {id}: force must be boolean, got {}",
            kind_name(f)
        ));
    }
    if let Some(m) = e.get("execution_mode").filter(|v| !v.is_null()) {
        let m = value_text(m);
        if m != "worktree" && m != "direct_repo" {
            out.push(format!(
                "Event {id}: execution_mode must be 'worktree' or 'direct_repo', got '{m}'"
            ));
        }
    }
    if e.get("force") == Some(&Value::Bool(true)) && !truthy(e.get("reason")) {
        out.push(format!("Event {id}: force=true without reason"));
    }
    if text(e, "from_lane") == Some("for_review")
        && text(e, "to_lane") == Some("in_progress")
        && !truthy(e.get("review_ref"))
    {
        out.push(format!(
            "Event {id}: for_review->in_progress without review_ref"
        ));
    }
    out
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn sort_key(e: &Value) -> (String, String) {
    (
        e.get("at").map(value_text).unwrap_or_default(),
        e.get("event_id").map(value_text).unwrap_or_default(),
    )
}

/// Unforced moves neither tool allows.
fn legality(events: &[Value]) -> Vec<String> {
    let mut sorted: Vec<&Value> = events.iter().collect();
    sorted.sort_by_key(|e| sort_key(e));
    sorted
        .into_iter()
        .filter(|e| !truthy(e.get("force")))
        .filter_map(|e| {
            let (from, to) = (text(e, "from_lane")?, text(e, "to_lane")?);
            let id = e
                .get("event_id")
                .map(value_text)
                .unwrap_or("unknown".into());
            (!legal(from, to)).then(|| format!("Event {id}: illegal transition {from} -> {to}"))
        })
        .collect()
}

/// Unforced moves to done without the review evidence.
fn done_evidence(events: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for e in events {
        if text(e, "to_lane") != Some("done") || truthy(e.get("force")) {
            continue;
        }
        let id = e
            .get("event_id")
            .map(value_text)
            .unwrap_or("unknown".into());
        let ev = e.get("evidence");
        if !truthy(ev) {
            out.push(format!("Event {id}: done without evidence (not forced)"));
            continue;
        }
        let Some(ev) = ev.and_then(Value::as_object) else {
            out.push(format!("Event {id}: done evidence is not a dict"));
            continue;
        };
        match ev.get("review") {
            r if !truthy(r) => {
                out.push(format!("Event {id}: done evidence missing review section"))
            }
            Some(Value::Object(r)) => {
                for (k, what) in [
                    ("reviewer", "reviewer identity"),
                    ("verdict", "verdict"),
                    ("reference", "approval reference"),
                ] {
                    if !truthy(r.get(k)) {
                        out.push(format!("Event {id}: done evidence missing {what}"));
                    }
                }
            }
            _ => out.push(format!("Event {id}: done evidence review is not a dict")),
        }
    }
    out
}

/// Where status.json no longer describes the log (empty: it does).
pub fn drift(store: &StatusStore) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let events_there = store.events_path.is_file();
    let snap_there = store.snapshot_path.is_file();
    if !events_there {
        if snap_there {
            out.push("status.json exists but status.events.jsonl is missing".into());
        }
        return Ok(out);
    }
    if !snap_there {
        out.push("status.events.jsonl exists but status.json is missing (run 'spec-kitty agent status materialize' to generate)".into());
        return Ok(out);
    }
    let disk: Value =
        crate::fsutil::read_capped(&store.snapshot_path, crate::bounds::MAX_TEXT_BYTES)?
            .and_then(|t| crate::bounds::json(&t).ok())
            .unwrap_or(Value::Null);
    // What the log reduces to: the saved fold plus the lines after it (a
    // fold that does not fit the log is folded again from the start).
    let expected = store.state()?.0;
    let empty = serde_json::Map::new();
    let disk_wps = disk
        .get("work_packages")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut ids: std::collections::BTreeSet<&str> = disk_wps.keys().map(String::as_str).collect();
    ids.extend(expected.work_packages.keys().map(String::as_str));
    for id in ids {
        let want = expected
            .work_packages
            .get(id)
            .map(|w| serde_json::to_value(w).unwrap_or_default());
        match (disk_wps.get(id), want) {
            (None, Some(w)) => out.push(format!(
                "Materialization drift: {id} missing from status.json (expected lane={})",
                w.get("lane").map(value_text).unwrap_or("?".into())
            )),
            (Some(_), None) => out.push(format!(
                "Materialization drift: {id} in status.json but not in reducer output"
            )),
            (Some(d), Some(w)) if d.get("lane") != w.get("lane") => out.push(format!(
                "Materialization drift: {id} lane={} in status.json but reducer says lane={}",
                d.get("lane").map(value_text).unwrap_or("None".into()),
                w.get("lane").map(value_text).unwrap_or("None".into())
            )),
            (Some(d), Some(w)) if *d != w => out.push(format!(
                "Materialization drift: {id} state differs between status.json and reducer output"
            )),
            _ => {}
        }
    }
    let count = disk.get("event_count");
    if count.and_then(Value::as_u64) != Some(expected.event_count as u64) {
        out.push(format!(
            "Materialization drift: event_count={} in status.json but reducer counted {}",
            count.map(value_text).unwrap_or("None".into()),
            expected.event_count
        ));
    }
    if disk.get("last_event_id").and_then(Value::as_str) != expected.last_event_id.as_deref() {
        out.push(
            "Materialization drift: last_event_id mismatch between status.json and reducer output"
                .into(),
        );
    }
    Ok(out)
}

/// Validate the mission's status model.
pub fn validate(project: &Project, mission: &Mission) -> Result<StatusValidation> {
    let store = StatusStore::for_mission(project, mission);
    let (events, unreadable) = raw_events(&store.events_path)?;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    if !events.is_empty() {
        for e in &events {
            errors.extend(schema(e));
        }
        errors.extend(legality(&events));
        errors.extend(done_evidence(&events));
        errors.extend(drift(&store)?);
        let log = store.read()?;
        let (broken, settled) = super::validate::broken_chains(&log.events);
        warnings.extend(broken.into_iter().map(|(_, m)| m));
        warnings.extend(settled.into_iter().map(|(_, m)| m));
    }
    warnings.extend(
        unreadable
            .into_iter()
            .map(|m| format!("status.events.jsonl {m}: skipped by both tools")),
    );
    Ok(StatusValidation {
        mission_slug: mission.slug.clone(),
        passed: errors.is_empty(),
        error_count: errors.len(),
        warning_count: warnings.len(),
        errors,
        warnings,
        event_count: events.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_move_our_table_allows_is_legal() {
        for r in crate::status::LIFECYCLE {
            for from in r.from {
                assert!(legal(from.as_str(), r.to.as_str()), "{from} -> {}", r.to);
            }
        }
        assert!(!legal("planned", "done"));
        assert!(!legal("doing", "done"));
    }

    #[test]
    fn event_ids_and_timestamps() {
        assert!(is_event_id("01M87MNZ1JS6RW371M45A1KMMT"));
        assert!(is_event_id("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_event_id("nope"));
        assert!(!is_event_id("ééééééééééééééééééééééééé"));
        assert!(is_iso8601("2026-11-24T20:41:42.194262+00:00"));
        assert!(is_iso8601("2026-11-24T20:41:42Z"));
        assert!(!is_iso8601("yesterday"));
    }

    #[test]
    fn done_needs_review_evidence_unless_forced() {
        let e: Value = serde_json::json!({"event_id": "x", "to_lane": "done", "force": false});
        assert_eq!(done_evidence(&[e]).len(), 1);
        let e: Value = serde_json::json!({"event_id": "x", "to_lane": "done", "force": true});
        assert!(done_evidence(&[e]).is_empty());
        let e: Value = serde_json::json!({"event_id": "x", "to_lane": "done",
            "evidence": {"review": {"reviewer": "a", "verdict": "approved"}}});
        assert_eq!(
            done_evidence(&[e]),
            vec!["Event x: done evidence missing approval reference"]
        );
    }
}
