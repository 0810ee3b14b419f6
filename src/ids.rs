//! The grammar of every id that repo content hands us.
//!
//! A lane id, a mission slug, a WP id, a subtask id or a branch name read from a
//! file (lanes.json, meta.json, WP frontmatter, tasks.md) is checked here before
//! it builds a path, a git ref, a lock name or a glob. A value that fails is an
//! error naming the file and the field, raised before anything is created,
//! deleted or locked. Every other module asks this one; none re-implements a rule.
//!
//! | id | grammar |
//! |----|---------|
//! | lane | `lane-[a-z]+` (the planning lane is `lane-planning`) |
//! | mission slug | `[0-9]{3,}-` then kebab-case (`[a-z0-9]+` joined by single `-`) |
//! | work package | `WP[0-9]+` |
//! | subtask | `T[0-9]+` |
//! | branch | git's ref rules (`git check-ref-format --branch`), ASCII, no leading `-` |

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Diagnose;

/// An id read from repo content that does not follow its grammar.
#[derive(Debug, thiserror::Error)]
pub enum IdError {
    /// `value`, read from `field` of `file`, is not a `kind`.
    #[error("{}: `{field}` is {value:?}, which is not {}", .file.display(), .kind.grammar())]
    Invalid {
        kind: IdKind,
        value: String,
        file: PathBuf,
        field: String,
    },
}

impl Diagnose for IdError {
    fn hint(&self) -> Option<String> {
        let IdError::Invalid { file, field, .. } = self;
        Some(format!(
            "fix `{field}` in {}; spec-kitty builds paths, branches and locks from it, so it refuses anything else",
            file.display()
        ))
    }

    fn details(&self) -> Option<serde_json::Value> {
        let IdError::Invalid {
            kind,
            value,
            file,
            field,
        } = self;
        Some(serde_json::json!({
            "file": file,
            "field": field,
            "value": value,
            "expected": kind.to_string(),
        }))
    }
}

/// Which grammar a value must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Lane,
    MissionSlug,
    Wp,
    Subtask,
    Branch,
}

impl IdKind {
    /// Does `s` follow this grammar?
    pub fn accepts(self, s: &str) -> bool {
        match self {
            IdKind::Lane => is_lane_id(s),
            IdKind::MissionSlug => is_mission_slug(s),
            IdKind::Wp => is_wp_id(s),
            IdKind::Subtask => is_subtask_id(s),
            IdKind::Branch => is_branch_name(s),
        }
    }

    /// The grammar in words, for error messages.
    pub fn grammar(self) -> &'static str {
        match self {
            IdKind::Lane => "a lane id (`lane-` and lowercase letters, e.g. lane-a)",
            IdKind::MissionSlug => {
                "a mission slug (three or more digits, `-`, then kebab-case, e.g. 001-user-auth)"
            }
            IdKind::Wp => "a work package id (`WP` and digits, e.g. WP01)",
            IdKind::Subtask => "a subtask id (`T` and digits, e.g. T001)",
            IdKind::Branch => "a git branch name (git check-ref-format rules)",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Lane => "lane id",
            IdKind::MissionSlug => "mission slug",
            IdKind::Wp => "work package id",
            IdKind::Subtask => "subtask id",
            IdKind::Branch => "branch name",
        })
    }
}

/// Check `value` (read from `field` of `file`) against `kind`'s grammar.
pub fn check(kind: IdKind, value: &str, file: &Path, field: &str) -> Result<(), IdError> {
    if kind.accepts(value) {
        return Ok(());
    }
    Err(IdError::Invalid {
        kind,
        value: value.to_string(),
        file: file.to_path_buf(),
        field: field.to_string(),
    })
}

/// `lane-[a-z]+`.
pub fn is_lane_id(s: &str) -> bool {
    s.strip_prefix("lane-")
        .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_lowercase()))
}

/// `[0-9]{3,}-kebab`.
#[allow(clippy::string_slice)] // `digits` counts leading ASCII digits, then an ASCII '-': char boundaries
pub fn is_mission_slug(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits >= 3 && s.as_bytes().get(digits) == Some(&b'-') && is_kebab(&s[digits + 1..])
}

/// `[a-z0-9]+` joined by single hyphens.
pub fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn prefixed_number(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
}

/// `WP[0-9]+`.
pub fn is_wp_id(s: &str) -> bool {
    prefixed_number(s, "WP")
}

/// `T[0-9]+`.
pub fn is_subtask_id(s: &str) -> bool {
    prefixed_number(s, "T")
}

/// A branch name git accepts (`git check-ref-format --branch`), restricted to
/// printable ASCII, and never starting with `-` (it would read as an option).
pub fn is_branch_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 || s.starts_with('-') || s == "@" || s == "HEAD" {
        return false;
    }
    if s.ends_with('/') || s.ends_with('.') || s.contains("..") || s.contains("@{") {
        return false;
    }
    let printable = s.bytes().all(|b| {
        (0x21..0x7f).contains(&b) && !matches!(b, b'~' | b'^' | b':' | b'?' | b'*' | b'[' | b'\\')
    });
    printable
        && s.split('/')
            .all(|c| !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock"))
}

/// A fresh ULID (time-ordered, 80 random bits) for `when`, as its 26-character
/// Crockford text. The random part comes from the OS (`getrandom`, already used
/// for the dashboard token); `ulid` is built without its `rand` feature so the
/// tree carries no second RNG stack. Should the OS source fail, the random bits
/// fall back to a process-unique mix (pid, a counter, the clock's nanoseconds):
/// still unique within this process and across concurrent ones, never a panic.
pub fn ulid_at(when: std::time::SystemTime) -> String {
    ulid_value_at(when).to_string()
}

/// A fresh ULID for now, as a value (see [`ulid_at`]).
pub fn fresh_ulid() -> ulid::Ulid {
    ulid_value_at(std::time::SystemTime::now())
}

fn ulid_value_at(when: std::time::SystemTime) -> ulid::Ulid {
    let ms = when
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut bytes = [0u8; 16];
    let random = if getrandom::fill(&mut bytes).is_ok() {
        u128::from_le_bytes(bytes)
    } else {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        (u128::from(std::process::id()) << 64) | (u128::from(n) << 32) | u128::from(nanos)
    };
    ulid::Ulid::from_parts(ms, random)
}

/// A fresh ULID for now (see [`ulid_at`]).
pub fn new_ulid() -> String {
    ulid_at(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes() {
        for ok in ["lane-a", "lane-planning", "lane-zz"] {
            assert!(is_lane_id(ok), "{ok}");
        }
        for bad in [
            "lane-",
            "lane-A",
            "lane-a/../../x",
            "../lane-a",
            "lane-1",
            "lane-a b",
            "a",
            "",
        ] {
            assert!(!is_lane_id(bad), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        for ok in ["001-demo", "079-post-555-release", "1000-x"] {
            assert!(is_mission_slug(ok), "{ok}");
        }
        for bad in [
            "01-demo", "001-", "001--x", "001-Demo", "001-../x", "001-a b", "demo", "001-x;rm",
            "001-x-",
        ] {
            assert!(!is_mission_slug(bad), "{bad}");
        }
    }

    #[test]
    fn wp_and_subtasks() {
        assert!(is_wp_id("WP01") && is_wp_id("WP123"));
        assert!(!is_wp_id("WP") && !is_wp_id("WP01/..") && !is_wp_id("wp01"));
        assert!(is_subtask_id("T001") && !is_subtask_id("T001;rm") && !is_subtask_id("T"));
    }

    #[test]
    fn branches() {
        for ok in ["main", "kitty/mission-001-x-lane-a", "release/3.1", "a-b_c"] {
            assert!(is_branch_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-rf",
            "a..b",
            "a/",
            "a.",
            "a//b",
            ".hidden",
            "a/.b",
            "x.lock",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a@{1}",
            "@",
            "HEAD",
            "$(touch x)",
            "ünï",
            "a\nb",
        ] {
            assert!(!is_branch_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn check_names_file_and_field() {
        let e = check(
            IdKind::Lane,
            "../x",
            Path::new("kitty-specs/001-a/lanes.json"),
            "lanes[0].lane_id",
        )
        .unwrap_err();
        assert!(
            matches!(&e, IdError::Invalid { kind: IdKind::Lane, value, .. } if value == "../x"),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert_eq!(e.details.as_ref().unwrap()["expected"], "lane id");
        assert!(e
            .hint
            .as_ref()
            .unwrap()
            .starts_with("fix `lanes[0].lane_id` in"));
        assert!(e.typed::<IdError>().is_some());
        assert!(e.message.contains("lanes.json"), "{}", e.message);
        assert!(e.message.contains("lanes[0].lane_id"), "{}", e.message);
        assert!(e.message.contains("\"../x\""), "{}", e.message);
    }

    #[test]
    fn fresh_ulids_parse_are_distinct_and_keep_their_time() {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let a = super::ulid_at(when);
        let b = super::ulid_at(when);
        assert_ne!(a, b);
        assert_eq!(a.len(), 26);
        let parsed = ulid::Ulid::from_string(&a).unwrap();
        assert_eq!(parsed.timestamp_ms(), 1_700_000_000_123);
        assert!(ulid::Ulid::from_string(&super::new_ulid()).is_ok());
    }
}
