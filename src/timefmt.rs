//! Timestamps in the formats the reference writes.

use chrono::{SecondsFormat, Utc};

/// `2026-11-24T07:36:25.672189+00:00`: UTC with microseconds, like Python's
/// `datetime.now(timezone.utc).isoformat()`.
pub fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// `2026-11-24T07:36:25Z`: UTC to the second.
pub fn now_iso_seconds_z() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `2026-11-24`: today's UTC date.
pub fn today() -> String {
    Utc::now().format("%Y-%m-%d").to_string()
}

/// Local naive time with microseconds (`initialized_at` in metadata.yaml).
pub fn now_local_naive() -> String {
    chrono::Local::now()
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

/// Parse an ISO-8601 timestamp; a trailing `Z` is accepted and a naive value is UTC.
pub fn parse_iso(s: &str) -> Option<chrono::DateTime<Utc>> {
    let s = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_has_micros_and_offset() {
        let s = now_iso();
        assert!(s.ends_with("+00:00"), "{s}");
        assert_eq!(s.len(), "2026-11-24T07:36:25.672189+00:00".len());
        assert!(parse_iso(&s).is_some());
        assert!(parse_iso("2026-01-01T00:00:00Z").is_some());
        assert!(parse_iso("2026-01-01T00:00:00").is_some());
        assert!(parse_iso("nope").is_none());
    }
}
