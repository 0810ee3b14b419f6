//! Merging status event logs the way git needs them merged, and repairing a log
//! that a plain text merge already broke.
//!
//! The log is a set of events keyed by `event_id`: the merge of any number of
//! logs is their union, each id once, ordered by (`at`, `event_id`), written one
//! event a line in the reference's format (sorted keys, Python's `", "` and
//! `": "` separators, ASCII escapes). So merging is commutative, associative and
//! idempotent, and loses no event; the reference's driver writes the same bytes.
//! The same id with two different payloads is a real conflict and an error.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::{Result, StatusError};

/// One event as the merge sees it: every key kept, whatever it is.
pub type Payload = Map<String, Value>;

/// Read a log's events; `label` names the file in errors. Blank lines are
/// skipped; every other line must be a JSON object with a non-empty string
/// `event_id` and `at`.
pub fn read(label: &str, bytes: &[u8]) -> Result<Vec<Payload>> {
    let text = utf8(label, bytes)?;
    let mut out = Vec::new();
    for (i, raw) in lines(text).enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        // bounds: one line of the append-only log (serde_json's depth limit).
        let v: Value = serde_json::from_str(line).map_err(|source| StatusError::LogJson {
            label: label.to_string(),
            line: n,
            source,
        })?;
        let Value::Object(m) = v else {
            return Err(StatusError::LogNotObject {
                label: label.to_string(),
                line: n,
            });
        };
        for key in ["event_id", "at"] {
            let ok = m
                .get(key)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty());
            if !ok {
                return Err(StatusError::LogMissingKey {
                    label: label.to_string(),
                    line: n,
                    key,
                });
            }
        }
        out.push(m);
    }
    Ok(out)
}

fn utf8<'a>(label: &str, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|source| StatusError::LogNotUtf8 {
        label: label.to_string(),
        source,
    })
}

/// Lines split the way Python's text mode splits them (`\n`, `\r\n` and `\r`).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
}

fn id_of(p: &Payload) -> &str {
    p.get("event_id").and_then(Value::as_str).unwrap_or("")
}

fn at_of(p: &Payload) -> &str {
    p.get("at").and_then(Value::as_str).unwrap_or("")
}

/// The union of `groups`, each event id once, ordered by (`at`, `event_id`).
/// The same id with a different payload is an error naming the id.
pub fn union(groups: &[&[Payload]]) -> Result<Vec<Payload>> {
    let mut seen: HashMap<&str, &Payload> = HashMap::new();
    let mut out: Vec<&Payload> = Vec::new();
    for group in groups {
        for e in group.iter() {
            match seen.get(id_of(e)) {
                Some(prev) if *prev != e => {
                    return Err(StatusError::ConflictingEvent {
                        event_id: id_of(e).to_string(),
                    })
                }
                Some(_) => {}
                None => {
                    seen.insert(id_of(e), e);
                    out.push(e);
                }
            }
        }
    }
    out.sort_by(|a, b| (at_of(a), id_of(a)).cmp(&(at_of(b), id_of(b))));
    Ok(out.into_iter().cloned().collect())
}

/// The log's text: one event a line, keys sorted, the reference's separators.
pub fn render(events: &[Payload]) -> String {
    let mut out = String::with_capacity(events.len() * 400);
    for e in events {
        out.push_str(&crate::jsonfmt::py_line(&crate::jsonfmt::sorted(
            &Value::Object(e.clone()),
        )));
        out.push('\n');
    }
    out
}

/// Merge three versions of a log (git's `%O %A %B`): the merged text.
pub fn merge3(base: &[u8], ours: &[u8], theirs: &[u8]) -> Result<String> {
    let b = read("base", base)?;
    let o = read("ours", ours)?;
    let t = read("theirs", theirs)?;
    Ok(render(&union(&[&b, &o, &t])?))
}

/// What [`repair`] did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Repair {
    /// Conflict-marker lines dropped (`<<<<<<<`, `|||||||`, `=======`, `>>>>>>>`).
    pub markers_dropped: usize,
    /// Lines that repeated an event already kept.
    pub duplicates_dropped: usize,
    /// Torn lines dropped (1-based line numbers): the start of an event whose
    /// write was cut short by a crash or a full disk (JSON that stops early,
    /// or a last line that stops inside a character).
    pub torn_lines_dropped: Vec<usize>,
    /// Events in the repaired log.
    pub events: usize,
    /// Whether the text changes.
    pub changed: bool,
}

fn is_marker(line: &str) -> bool {
    ["<<<<<<<", "|||||||", "=======", ">>>>>>>"]
        .iter()
        .any(|m| line.starts_with(m))
}

/// Is this line the start of an event whose write was cut short: JSON that
/// begins an object and stops before it ends?
fn is_torn(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('{')
        // bounds: one line of the append-only log (serde_json's depth limit).
        && serde_json::from_str::<Value>(line)
            .is_err_and(|e| e.classify() == serde_json::error::Category::Eof)
}

/// Repair a log a text merge left with conflict markers, or a crash or a full
/// disk left with a torn line: drop the marker lines and the torn lines (an
/// event cut short, see [`is_torn`]; a last line cut inside a character),
/// keep every event once, and write the result in merge order and format. Any
/// other unreadable line, or one id with two payloads, is an error (nothing
/// is guessed).
pub fn repair(label: &str, bytes: &[u8]) -> Result<(String, Repair)> {
    let mut report = Repair::default();
    // A write cut inside a multi-byte character leaves invalid UTF-8 only at
    // the very end, on a line of its own: that line is torn.
    let text = match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let head = utf8(label, bytes.get(..start).unwrap_or_default())?;
            report.torn_lines_dropped.push(lines(head).count().max(1));
            head
        }
        _ => utf8(label, bytes)?,
    };
    let mut kept = String::with_capacity(text.len());
    for (i, line) in lines(text).enumerate() {
        if is_marker(line) {
            report.markers_dropped += 1;
        } else if is_torn(line) {
            report.torn_lines_dropped.push(i + 1);
        } else {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    report.torn_lines_dropped.sort_unstable();
    let events = read(label, kept.as_bytes())?;
    let merged = union(&[&events])?;
    report.duplicates_dropped = events.len() - merged.len();
    report.events = merged.len();
    let out = render(&merged);
    report.changed = out.as_bytes() != bytes;
    Ok((out, report))
}

/// Does this log text hold conflict markers?
pub fn has_markers(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).lines().any(is_marker)
}

/// Does the log file at `path` hold conflict markers? Read a line at a time
/// (memory bounded by its longest line); an unreadable file holds none.
pub fn file_has_markers(path: &std::path::Path) -> bool {
    use std::io::BufRead;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, f);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {
                if is_marker(&String::from_utf8_lossy(&line)) {
                    return true;
                }
            }
        }
    }
}

/// Merge three versions of `status.json` (git's `%O %A %B`) without ever
/// conflicting. The file is derived from the event log, which git merges with
/// [`merge3`]; this gives the snapshot that log reduces to whenever each side
/// only added events to the base: per work package the side that changed it
/// (both changed: the later transition), counts added up, the summary counted
/// again. Readers rebuild the file from the log when it is older, so an odd
/// case (a cherry-picked duplicate event) heals on the next command.
pub fn merge_snapshots(base: &[u8], ours: &[u8], theirs: &[u8]) -> String {
    let parse = |b: &[u8]| -> Map<String, Value> {
        match crate::bounds::json_bytes::<Value>(b) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    };
    let (b, o, t) = (parse(base), parse(ours), parse(theirs));
    if t.is_empty() || o == t {
        return crate::jsonfmt::pretty(&crate::jsonfmt::sorted(&Value::Object(o)));
    }
    if o.is_empty() {
        return crate::jsonfmt::pretty(&crate::jsonfmt::sorted(&Value::Object(t)));
    }
    let wps = |m: &Map<String, Value>| -> Map<String, Value> {
        m.get("work_packages")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (bw, ow, tw) = (wps(&b), wps(&o), wps(&t));
    let key = |v: &Value| {
        (
            v.get("last_transition_at")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            v.get("last_event_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    };
    let count = |v: Option<&Value>, k: &str| -> i64 {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let mut out_wps = Map::new();
    let mut ids: Vec<&String> = ow.keys().chain(tw.keys()).collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let (bv, ov, tv) = (bw.get(id), ow.get(id), tw.get(id));
        let pick = match (ov, tv) {
            (Some(_), Some(t)) if ov == bv => t.clone(),
            (Some(o), Some(t)) if tv == bv || o == t => o.clone(),
            (Some(o), Some(t)) => {
                let mut w = if key(t) > key(o) {
                    t.clone()
                } else {
                    o.clone()
                };
                let fc =
                    count(ov, "force_count") + count(tv, "force_count") - count(bv, "force_count");
                if let Value::Object(m) = &mut w {
                    m.insert("force_count".into(), fc.max(0).into());
                }
                w
            }
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => continue,
        };
        out_wps.insert(id.clone(), pick);
    }
    let mut out = o.clone();
    let later = |m: &Map<String, Value>| {
        (
            m.get("materialized_at")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            m.get("last_event_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    };
    if later(&t) > later(&o) {
        for k in ["materialized_at", "last_event_id"] {
            if let Some(v) = t.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
    }
    let ec = count(Some(&Value::Object(o.clone())), "event_count")
        + count(Some(&Value::Object(t.clone())), "event_count")
        - count(Some(&Value::Object(b.clone())), "event_count");
    out.insert("event_count".into(), ec.max(0).into());
    if let Some(Value::Object(summary)) = o.get("summary") {
        let mut s: Map<String, Value> = summary.keys().map(|k| (k.clone(), 0.into())).collect();
        for w in out_wps.values() {
            if let Some(lane) = w.get("lane").and_then(Value::as_str) {
                let n = s.get(lane).and_then(Value::as_i64).unwrap_or(0) + 1;
                s.insert(lane.to_string(), n.into());
            }
        }
        out.insert("summary".into(), Value::Object(s));
    }
    out.insert("work_packages".into(), Value::Object(out_wps));
    crate::jsonfmt::pretty(&crate::jsonfmt::sorted(&Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(id: &str, at: &str, wp: &str) -> Payload {
        let v = serde_json::json!({
            "event_id": id, "at": at, "wp_id": wp, "from_lane": "planned",
            "to_lane": "claimed", "actor": "a", "force": false, "reason": null,
        });
        v.as_object().cloned().unwrap()
    }

    fn merged(groups: &[&[Payload]]) -> String {
        render(&union(groups).unwrap())
    }

    #[test]
    #[allow(clippy::string_slice)] // test: ASCII event ids at offsets find() returned
    fn union_dedupes_orders_and_refuses_a_rewritten_event() {
        let a = vec![
            ev("B", "2026-01-01T00:00:02", "WP01"),
            ev("A", "2026-01-01T00:00:01", "WP01"),
        ];
        let b = vec![ev("C", "2026-01-01T00:00:01", "WP02"), a[0].clone()];
        let text = merged(&[&a, &b]);
        let ids: Vec<&str> = text
            .lines()
            .map(|l| &l[l.find("\"event_id\": \"").unwrap() + 13..][..1])
            .collect();
        assert_eq!(ids, ["A", "C", "B"]);
        let mut changed = a[0].clone();
        changed.insert("actor".into(), "someone else".into());
        let err = union(&[&a, &[changed]]).unwrap_err();
        assert!(err.to_string().contains("\"B\""), "{}", err.to_string());
    }

    #[test]
    fn read_requires_ids_and_times() {
        assert!(read("x", b"{\"at\": \"t\"}\n")
            .unwrap_err()
            .to_string()
            .contains("event_id"));
        assert!(read("x", b"{\"event_id\": \"E\", \"at\": \" \"}").is_err());
        assert!(read("x", b"[1]")
            .unwrap_err()
            .to_string()
            .contains("line 1 is not a JSON object"));
        assert_eq!(read("x", b"\n  \r\n").unwrap().len(), 0);
    }

    #[test]
    fn repair_drops_markers_and_duplicates() {
        let e1 = render(&[ev("A", "t1", "WP01")]);
        let e2 = render(&[ev("B", "t2", "WP01")]);
        let e3 = render(&[ev("C", "t3", "WP02")]);
        let broken = format!("{e1}<<<<<<< HEAD\n{e2}=======\n{e3}{e2}>>>>>>> theirs\n");
        let (fixed, r) = repair("log", broken.as_bytes()).unwrap();
        assert_eq!(fixed, format!("{e1}{e2}{e3}"));
        assert_eq!(r.markers_dropped, 3);
        assert_eq!(r.duplicates_dropped, 1);
        assert_eq!(r.events, 3);
        assert!(has_markers(broken.as_bytes()) && !has_markers(fixed.as_bytes()));
        let (again, r) = repair("log", fixed.as_bytes()).unwrap();
        assert_eq!(again, fixed);
        assert!(!r.changed);
    }

    fn log() -> impl Strategy<Value = Vec<Payload>> {
        // Few ids, so logs share events; the payload (and `at`, which often
        // ties) is a function of the id: one id, one event.
        prop::collection::vec(0u8..12, 0..10).prop_map(|v| {
            v.into_iter()
                .map(|n| {
                    ev(
                        &format!("01K{n:02}"),
                        &format!("2026-01-01T00:00:{:02}", n % 4),
                        &format!("WP0{}", n % 3),
                    )
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn merge_is_commutative(a in log(), b in log()) {
            prop_assert_eq!(merged(&[&a, &b]), merged(&[&b, &a]));
        }

        #[test]
        fn merge_is_associative(a in log(), b in log(), c in log()) {
            let ab = union(&[&a, &b]).unwrap();
            let bc = union(&[&b, &c]).unwrap();
            prop_assert_eq!(merged(&[&ab, &c]), merged(&[&a, &bc]));
        }

        #[test]
        fn merge_is_idempotent(a in log(), b in log()) {
            let ab = union(&[&a, &b]).unwrap();
            prop_assert_eq!(merged(&[&ab, &ab]), merged(&[&ab]));
            prop_assert_eq!(merged(&[&ab, &a]), merged(&[&ab]));
            // Re-reading the written text changes nothing.
            let text = merged(&[&ab]);
            let again = read("x", text.as_bytes()).unwrap();
            prop_assert_eq!(render(&again), text);
        }

        #[test]
        fn merge_loses_no_event(a in log(), b in log(), c in log()) {
            let text = merge3(render(&a).as_bytes(), render(&b).as_bytes(), render(&c).as_bytes()).unwrap();
            let out = read("x", text.as_bytes()).unwrap();
            let mut ids: Vec<&str> = out.iter().map(id_of).collect();
            let n = ids.len();
            ids.dedup();
            prop_assert_eq!(ids.len(), n, "an id twice");
            for e in a.iter().chain(&b).chain(&c) {
                prop_assert!(out.contains(e), "lost {}", id_of(e));
            }
        }
    }
}
