//! Missions: `kitty-specs/NNN-slug/` directories, their `meta.json`, ULID
//! identity, creation under a lock, and resolving what a user typed into one.

pub mod branch;
mod create;
mod error;
mod select;
pub mod types;

pub use create::{backfill_identity, create, validate_slug, Backfilled, CreateOptions, Created};
pub use error::{Listed, MissionError};
pub use select::{infer_from_path, resolve, Selector};

/// The actions an agent can ask context for.
pub const ACTIONS: &[&str] = &[
    "specify",
    "plan",
    "tasks",
    "tasks_outline",
    "tasks_packages",
    "implement",
    "review",
    "accept",
    "merge",
];

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::fsutil;
use crate::jsonfmt;
use crate::project::Project;

type Result<T, E = MissionError> = std::result::Result<T, E>;

/// One mission directory and what its `meta.json` says.
#[derive(Debug, Clone)]
pub struct Mission {
    pub dir: PathBuf,
    /// Directory name, `NNN-slug`.
    pub slug: String,
    /// The numeric prefix (`"079"`), if the directory has one.
    pub number: Option<String>,
    /// `meta.json` contents; empty when the file is missing or unreadable.
    pub meta: Map<String, Value>,
    /// Why `meta.json` could not be used, if it could not.
    pub meta_error: Option<String>,
}

impl Mission {
    /// Load the mission in `dir`. A missing or corrupt `meta.json` is recorded in
    /// `meta_error` rather than failing, so one broken mission never hides the others.
    pub fn load(dir: &Path) -> Mission {
        let slug = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let number = split_number(&slug).map(|(n, _)| n.to_string());
        let meta_path = dir.join("meta.json");
        let (meta, meta_error) = match read_meta(&meta_path) {
            Ok(m) => (m, None),
            Err(e) => (Map::new(), Some(e.to_string())),
        };
        Mission {
            dir: dir.to_path_buf(),
            slug,
            number,
            meta,
            meta_error,
        }
    }

    /// The slug without its number: `post-555-release-hardening`.
    pub fn short_slug(&self) -> &str {
        split_number(&self.slug)
            .map(|(_, s)| s)
            .unwrap_or(&self.slug)
    }

    pub fn meta_str(&self, key: &str) -> Option<&str> {
        self.meta
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn mission_id(&self) -> Option<&str> {
        self.meta_str("mission_id")
    }

    /// `mission_type`, then the legacy `mission` key, else `software-dev`.
    pub fn mission_type(&self) -> &str {
        self.meta_str("mission_type")
            .or_else(|| self.meta_str("mission"))
            .unwrap_or(types::DEFAULT)
    }

    pub fn friendly_name(&self) -> String {
        self.meta_str("friendly_name")
            .map(str::to_string)
            .unwrap_or_else(|| self.short_slug().replace('-', " "))
    }

    pub fn target_branch(&self) -> Option<&str> {
        self.meta_str("target_branch")
    }

    /// `meta.json`, or a clear error if it is missing or corrupt.
    pub fn require_meta(&self) -> Result<&Map<String, Value>> {
        match &self.meta_error {
            Some(e) => Err(MissionError::UnusableMeta {
                path: self.meta_file(),
                reason: e.clone(),
            }),
            None => Ok(&self.meta),
        }
    }

    pub fn meta_file(&self) -> PathBuf {
        self.dir.join("meta.json")
    }
    pub fn spec_file(&self) -> PathBuf {
        self.dir.join("spec.md")
    }
    pub fn plan_file(&self) -> PathBuf {
        self.dir.join("plan.md")
    }
    pub fn tasks_file(&self) -> PathBuf {
        self.dir.join("tasks.md")
    }
    pub fn tasks_dir(&self) -> PathBuf {
        self.dir.join("tasks")
    }
    pub fn lanes_file(&self) -> PathBuf {
        self.dir.join("lanes.json")
    }

    /// The lock that guards this mission's status log, shared with the reference
    /// (`<git-common-dir>/spec-kitty-locks/<slug>.status.lock`).
    pub fn status_lock_path(&self, project: &Project) -> PathBuf {
        project
            .locks_dir()
            .join(format!("{}.status.lock", self.slug))
    }

    /// The mission branch: `kitty/mission-<slug>`.
    pub fn mission_branch(&self) -> String {
        format!("kitty/mission-{}", self.slug)
    }

    /// Write `meta` back atomically, keys sorted, 2-space indent, trailing newline.
    pub fn write_meta(&self, meta: &Map<String, Value>) -> Result<()> {
        write_meta_file(&self.meta_file(), meta)
    }
}

/// Serialise meta.json the way the reference does (sorted keys, indent 2, `\n`).
pub fn write_meta_file(path: &Path, meta: &Map<String, Value>) -> Result<()> {
    let v = jsonfmt::sorted(&Value::Object(meta.clone()));
    fsutil::atomic_write(path, jsonfmt::pretty(&v).as_bytes()).map_err(MissionError::Fs)
}

/// Read and check `meta.json`. Errors name the file and what is wrong with it.
pub fn read_meta(path: &Path) -> Result<Map<String, Value>> {
    let text = fsutil::read_to_string(path).map_err(MissionError::Fs)?;
    let value: Value =
        crate::bounds::json(&text).map_err(|source| MissionError::InvalidMetaJson {
            path: path.to_path_buf(),
            source,
        })?;
    let Value::Object(map) = value else {
        return Err(MissionError::MetaNotAnObject {
            path: path.to_path_buf(),
        });
    };
    for key in [
        "mission_number",
        "slug",
        "mission_slug",
        "friendly_name",
        "mission_type",
        "target_branch",
        "created_at",
    ] {
        if let Some(v) = map.get(key) {
            if !v.is_string() && !v.is_null() {
                return Err(MissionError::MetaWrongType {
                    path: path.to_path_buf(),
                    key,
                    found: type_name(v),
                });
            }
        }
    }
    if let Some(Value::String(b)) = map.get("target_branch") {
        if !b.is_empty() {
            crate::ids::check(crate::ids::IdKind::Branch, b, path, "target_branch")
                .map_err(MissionError::Ids)?;
        }
    }
    if let Some(id) = map.get("mission_id") {
        match id {
            Value::String(s) if is_ulid(s) => {}
            Value::String(s) => {
                return Err(MissionError::NotAUlid {
                    path: path.to_path_buf(),
                    id: s.clone(),
                })
            }
            Value::Null => {}
            other => {
                return Err(MissionError::MetaWrongType {
                    path: path.to_path_buf(),
                    key: "mission_id",
                    found: type_name(other),
                })
            }
        }
    }
    Ok(map)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// True for a canonical ULID: 26 characters, Crockford base32, first char 0-7.
pub fn is_ulid(s: &str) -> bool {
    s.len() == 26
        && s.bytes().enumerate().all(|(i, b)| {
            let ok = matches!(b, b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z');
            ok && (i != 0 || b <= b'7')
        })
}

/// Split `079-post-555` into `("079", "post-555")`. The number is every leading digit.
#[allow(clippy::string_slice)] // `digits` counts leading ASCII digits, then an ASCII '-': char boundaries
pub fn split_number(slug: &str) -> Option<(&str, &str)> {
    let digits = slug.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || slug.as_bytes().get(digits) != Some(&b'-') {
        return None;
    }
    Some((&slug[..digits], &slug[digits + 1..]))
}

/// Every mission under `kitty-specs/`, sorted by directory name.
pub fn list(project: &Project) -> Result<Vec<Mission>> {
    Ok(list_dirs(project)?
        .iter()
        .map(|p| Mission::load(p))
        .collect())
}

/// The directories [`list`] loads, sorted by name, without reading any
/// `meta.json`: real directories under `kitty-specs/`, not hidden.
pub fn list_dirs(project: &Project) -> Result<Vec<PathBuf>> {
    let specs = project.specs_dir();
    Ok(list_dir_names(project)?
        .into_iter()
        .map(|n| specs.join(n))
        .collect())
}

/// The names of [`list_dirs`] in `kitty-specs/`, in its order.
pub fn list_dir_names(project: &Project) -> Result<Vec<std::ffi::OsString>> {
    let specs = project.specs_dir();
    let entries = match std::fs::read_dir(&specs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(MissionError::io("read", &specs, e)),
    };
    let mut names: Vec<std::ffi::OsString> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name())
        .filter(|n| !n.as_encoded_bytes().starts_with(b"."))
        .collect();
    // By name: the order of the paths (one parent), without comparing them
    // component by component (most of a listing of hundreds of missions).
    names.sort_unstable();
    Ok(names)
}

/// The run log of a mission: in the git directory, or without one in
/// `.kittify/runtime/next/` (which init's .gitignore covers); never in tracked files.
pub fn run_log_path(project: &crate::project::Project, mission: &Mission) -> std::path::PathBuf {
    match &project.git_common_dir {
        Some(g) => g.join("spec-kitty").join("runs"),
        None => project.kittify_dir().join("runtime").join("next"),
    }
    .join(format!("{}.jsonl", mission.slug))
}

/// The memo beside the run log at `log`: derived positions in it that spare
/// `next` a read of the whole log (see `crate::next`), rebuilt from the log
/// whenever it is missing or does not hold.
pub fn run_log_memo_path(log: &std::path::Path) -> std::path::PathBuf {
    log.with_extension("memo.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_shape() {
        assert!(is_ulid("01M867R2T8RDB4R11T4GJDK4V8"));
        assert!(!is_ulid("01M867R2T8RDB4R11T4GJDK4V"));
        assert!(!is_ulid("81M867R2T8RDB4R11T4GJDK4V8"));
        assert!(!is_ulid("01M867R2T8RDB4R11T4GJDK4VI"));
        assert!(is_ulid(&crate::ids::new_ulid()));
    }

    #[test]
    fn meta_json_failures_are_typed_and_keep_their_source() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.json");
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            read_meta(&path).unwrap_err()
        };
        let e = read("{\n  \"slug\": \n");
        assert!(matches!(&e, MissionError::InvalidMetaJson { .. }), "{e:?}");
        assert!(e
            .source()
            .unwrap()
            .source()
            .unwrap()
            .downcast_ref::<serde_json::Error>()
            .is_some());
        assert!(
            e.to_string()
                .starts_with(&format!("{}:3: invalid JSON: ", path.display())),
            "{e}"
        );
        assert!(matches!(read("[]"), MissionError::MetaNotAnObject { .. }));
        let e = read("{\"slug\": 7}");
        assert!(
            matches!(
                &e,
                MissionError::MetaWrongType {
                    key: "slug",
                    found: "a number",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(matches!(
            read("{\"mission_id\": \"nope\"}"),
            MissionError::NotAUlid { .. }
        ));
        // A bad target_branch is the ids module's refusal, kept whole.
        let e = read("{\"target_branch\": \"a..b\"}");
        assert!(
            matches!(&e, MissionError::Ids(crate::ids::IdError::Invalid { field, .. }) if field == "target_branch"),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert_eq!(e.details.unwrap()["field"], "target_branch");

        // A missing file is fsutil's error, with the io error under it.
        std::fs::remove_file(&path).unwrap();
        let e = read_meta(&path).unwrap_err();
        assert!(matches!(&e, MissionError::Fs(_)), "{e:?}");
        let io = e.source().and_then(|s| s.source()).unwrap();
        assert_eq!(
            io.downcast_ref::<std::io::Error>().unwrap().kind(),
            std::io::ErrorKind::NotFound
        );

        // A mission with a corrupt meta.json loads; requiring its meta fails typed.
        let m = dir.path().join("kitty-specs/001-x");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("meta.json"), "{").unwrap();
        let e = Mission::load(&m).require_meta().unwrap_err();
        assert!(
            matches!(&e, MissionError::UnusableMeta { reason, .. } if reason.contains("invalid JSON")),
            "{e:?}"
        );
        assert!(crate::Error::from(e)
            .hint
            .unwrap()
            .ends_with("other missions are unaffected"));
    }

    #[test]
    fn number_split() {
        assert_eq!(split_number("079-post-555"), Some(("079", "post-555")));
        assert_eq!(split_number("1000-x"), Some(("1000", "x")));
        assert_eq!(split_number("post-555"), None);
        assert_eq!(split_number("079"), None);
    }
}
