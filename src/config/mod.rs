//! The project's configuration files, on the ground floor: where they live,
//! and the one loader of `.kittify/config.yaml` (and of
//! `.kittify/metadata.yaml`) every layer reads it through.
//!
//! One error policy: a missing file is the empty configuration (spec-kitty's
//! defaults); a file that cannot be read or is not YAML is an error naming the
//! file and line and saying how to fix it, for every command that reads it (a
//! writer does not silently stop committing, `next` does not silently lose
//! its reviewers). A setting of the wrong shape is an error naming the file,
//! the setting's line and its allowed values, raised by the command that uses
//! the setting.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{located, Diagnose, Kind};
use crate::fsutil::FsError;

/// The project configuration, relative to the project root.
pub const CONFIG_PATH: &str = ".kittify/config.yaml";
/// The project metadata (version, migrations), relative to the project root.
pub const METADATA_PATH: &str = ".kittify/metadata.yaml";

/// Why `.kittify/config.yaml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read (permissions, size cap).
    #[error(transparent)]
    Read(#[from] FsError),
    /// The file is not YAML (or nests too deep).
    #[error("{}: {source}", located(.path, *.line))]
    Yaml {
        path: PathBuf,
        line: Option<usize>,
        #[source]
        source: crate::bounds::DocError,
    },
    /// A setting has the wrong shape or value.
    #[error("{}: {key} must be {expected}", located(.path, *.line))]
    Setting {
        path: PathBuf,
        line: Option<usize>,
        key: &'static str,
        expected: String,
        fix: String,
    },
    /// The file is YAML but not a mapping, so a setting cannot be added to it.
    #[error("{}: expected a mapping with agents.available as a list", .path.display())]
    Shape { path: PathBuf },
    /// The updated file could not be rendered (a bug).
    #[error("cannot write {}: {source}", .path.display())]
    Render {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
}

impl Diagnose for ConfigError {
    fn kind(&self) -> Kind {
        match self {
            ConfigError::Read(e) => e.kind(),
            ConfigError::Render { .. } => Kind::Internal,
            _ => Kind::User,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read(e) => e.hint(),
            ConfigError::Yaml { path, .. } if path.ends_with(METADATA_PATH) => Some(
                "fix the YAML syntax of .kittify/metadata.yaml (spec_kitty.version), or delete it and run `spec-kitty upgrade` to write it again; nothing was changed"
                    .into(),
            ),
            ConfigError::Yaml { .. } => Some(
                "fix the YAML syntax of .kittify/config.yaml (agents.available, agents.reviewers, agents.auto_commit, lane_strategy); nothing was changed"
                    .into(),
            ),
            ConfigError::Setting { fix, .. } => Some(fix.clone()),
            ConfigError::Shape { .. } => Some(
                "make .kittify/config.yaml a mapping, e.g. `agents:` then `  available: [claude]`"
                    .into(),
            ),
            ConfigError::Render { .. } => None,
        }
    }
}

/// `.kittify/config.yaml`, loaded and checked once: the settings every layer
/// reads, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the file is (whether or not it exists).
    pub path: PathBuf,
    /// The file exists (it is what marks a directory as a project).
    pub exists: bool,
    text: String,
    doc: serde_yaml::Value,
}

/// The last configuration parsed: a command that asks again (the hook
/// around a writer, then the writer) reads the small file but does not parse
/// it again while its text is the same; a long-running process (dashboard,
/// MCP) sees every edit.
static LAST: Mutex<Option<Arc<Config>>> = Mutex::new(None);

impl Config {
    /// The configuration of the project at `root` (a missing file is the
    /// empty configuration), parsed once per text.
    pub fn load(root: &Path) -> Result<Arc<Config>, ConfigError> {
        let path = root.join(CONFIG_PATH);
        let text = crate::fsutil::read_capped(&path, crate::bounds::MAX_TEXT_BYTES)?;
        if let (Ok(last), Some(t)) = (LAST.lock(), &text) {
            if let Some(c) = last
                .as_ref()
                .filter(|c| c.path == path && c.exists && c.text == *t)
            {
                return Ok(c.clone());
            }
        }
        let config = Arc::new(Config::parse(path, text)?);
        if let Ok(mut last) = LAST.lock() {
            *last = Some(config.clone());
        }
        Ok(config)
    }

    fn parse(path: PathBuf, text: Option<String>) -> Result<Config, ConfigError> {
        let Some(text) = text else {
            return Ok(Config {
                path,
                exists: false,
                text: String::new(),
                doc: serde_yaml::Value::Null,
            });
        };
        let doc = crate::bounds::yaml(&text).map_err(|source| ConfigError::Yaml {
            line: source.line(),
            path: path.clone(),
            source,
        })?;
        Ok(Config {
            path,
            exists: true,
            text,
            doc,
        })
    }

    /// The 1-based line where `key:` starts a line (after indentation).
    fn line_of(&self, key: &str) -> Option<usize> {
        let prefix = format!("{key}:");
        self.text
            .lines()
            .position(|l| l.trim_start().starts_with(&prefix))
            .map(|i| i + 1)
    }

    fn setting(&self, key: &'static str, expected: &str, fix: &str) -> ConfigError {
        let short = key.rsplit('.').next().unwrap_or(key);
        ConfigError::Setting {
            path: self.path.clone(),
            line: self.line_of(short),
            key,
            expected: expected.to_string(),
            fix: fix.to_string(),
        }
    }

    /// `agents.auto_commit`, else a top-level `auto_commit` (where the
    /// reference looks). Absent: false, spec-kitty's default (nothing commits
    /// unless asked). Anything but true or false is an error.
    pub fn auto_commit(&self) -> Result<bool, ConfigError> {
        let (key, v) = match self.doc.get("agents").and_then(|a| a.get("auto_commit")) {
            Some(v) => ("agents.auto_commit", v),
            None => match self.doc.get("auto_commit") {
                Some(v) => ("auto_commit", v),
                None => return Ok(false),
            },
        };
        match v {
            serde_yaml::Value::Bool(b) => Ok(*b),
            serde_yaml::Value::Null => Ok(false),
            _ => Err(self.setting(
                key,
                "true or false",
                "write `auto_commit: true` (commit what each command changes) or `auto_commit: false` under `agents:`",
            )),
        }
    }

    /// `lane_strategy`, if set: one of `names`.
    pub fn lane_strategy<'n>(
        &self,
        names: &[&'n str],
        fix: &str,
    ) -> Result<Option<&'n str>, ConfigError> {
        let Some(v) = self.doc.get("lane_strategy") else {
            return Ok(None);
        };
        let bad = || {
            let mut e = self.setting(
                "lane_strategy",
                &format!("one of {}", names.join(", ")),
                fix,
            );
            // The reference writes it at the top level only.
            if let ConfigError::Setting { line, .. } = &mut e {
                *line = self
                    .text
                    .lines()
                    .position(|l| l.starts_with("lane_strategy:"))
                    .map(|i| i + 1);
            }
            e
        };
        match v {
            serde_yaml::Value::Null => Ok(None),
            serde_yaml::Value::String(s) => {
                let t = s.trim();
                names
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(t))
                    .copied()
                    .map(Some)
                    .ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    /// `agents.reviewers`: None when absent; an error when not a list of names.
    pub fn reviewers(&self) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(reviewers) = self.doc.get("agents").and_then(|a| a.get("reviewers")) else {
            return Ok(None);
        };
        match reviewers {
            serde_yaml::Value::Null => Ok(None),
            serde_yaml::Value::Sequence(s) if s.iter().all(|r| r.is_string()) => Ok(Some(
                s.iter()
                    .filter_map(|r| r.as_str().map(String::from))
                    .collect(),
            )),
            _ => Err(self.setting(
                "agents.reviewers",
                "a list of agent names",
                "write them as a list, e.g. `reviewers: [claude]` under `agents:`",
            )),
        }
    }

    /// The keys listed under `agents.available` (strings only, in order).
    pub fn available_agents(&self) -> Vec<String> {
        self.doc
            .get("agents")
            .and_then(|a| a.get("available"))
            .and_then(|a| a.as_sequence())
            .map(|seq| {
                seq.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The file's text after `change` edited its top-level mapping (an
    /// empty file is an empty mapping), every other key kept: the one way a
    /// command rewrites the configuration. A top level that is not a mapping
    /// is an error naming the file.
    pub fn edited(
        &self,
        change: impl FnOnce(&mut serde_yaml::Mapping) -> Result<(), ConfigError>,
    ) -> Result<String, ConfigError> {
        let mut doc = self.doc.clone();
        if doc.is_null() {
            doc = serde_yaml::Value::Mapping(Default::default());
        }
        let map = doc.as_mapping_mut().ok_or_else(|| ConfigError::Shape {
            path: self.path.clone(),
        })?;
        change(map)?;
        serde_yaml::to_string(&doc).map_err(|source| ConfigError::Render {
            path: self.path.clone(),
            source,
        })
    }

    /// The file's text with `added` appended to `agents.available` (keys
    /// already listed are not repeated), every other key kept.
    pub fn with_agents(&self, added: &[String]) -> Result<String, ConfigError> {
        let bad = || ConfigError::Shape {
            path: self.path.clone(),
        };
        self.edited(|root| {
            let agents = root
                .entry("agents".into())
                .or_insert_with(|| serde_yaml::Value::Mapping(Default::default()));
            let agents = agents.as_mapping_mut().ok_or_else(bad)?;
            let available = agents
                .entry("available".into())
                .or_insert_with(|| serde_yaml::Value::Sequence(Vec::new()));
            let seq = available.as_sequence_mut().ok_or_else(bad)?;
            for key in added {
                let v = serde_yaml::Value::String(key.clone());
                if !seq.contains(&v) {
                    seq.push(v);
                }
            }
            Ok(())
        })
    }
}

/// `.kittify/metadata.yaml`, loaded and checked once: what the project
/// records of the spec-kitty that set it up. The same error policy as
/// [`Config`]: a missing file records nothing; a file that cannot be read or
/// is not YAML is an error naming the file and line; a version of the wrong
/// shape is an error naming its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Where the file is (whether or not it exists).
    pub path: PathBuf,
    /// The file exists.
    pub exists: bool,
    /// `spec_kitty.version` (written as a string or a number), if recorded.
    pub version: Option<String>,
}

impl Metadata {
    /// The metadata of the project at `root` (a missing file records nothing).
    /// Parsed once per text: a command that reads it twice (the state hook,
    /// then the version-skew warning) reads the file twice but parses it once.
    pub fn load(root: &Path) -> Result<Metadata, ConfigError> {
        static LAST_METADATA: Mutex<Option<(String, Metadata)>> = Mutex::new(None);
        let path = root.join(METADATA_PATH);
        let Some(text) = crate::fsutil::read_capped(&path, crate::bounds::MAX_TEXT_BYTES)? else {
            return Ok(Metadata {
                path,
                exists: false,
                version: None,
            });
        };
        if let Ok(last) = LAST_METADATA.lock() {
            if let Some((_, m)) = last.as_ref().filter(|(t, m)| m.path == path && *t == text) {
                return Ok(m.clone());
            }
        }
        let m = Metadata::parse(path, &text)?;
        if let Ok(mut last) = LAST_METADATA.lock() {
            *last = Some((text, m.clone()));
        }
        Ok(m)
    }

    fn parse(path: PathBuf, text: &str) -> Result<Metadata, ConfigError> {
        let doc: serde_yaml::Value =
            crate::bounds::yaml(text).map_err(|source| ConfigError::Yaml {
                line: source.line(),
                path: path.clone(),
                source,
            })?;
        let version = match doc.get("spec_kitty").and_then(|s| s.get("version")) {
            None | Some(serde_yaml::Value::Null) => None,
            Some(serde_yaml::Value::String(s)) => Some(s.clone()),
            Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                return Err(ConfigError::Setting {
                    line: text
                        .lines()
                        .position(|l| l.trim_start().starts_with("version:"))
                        .map(|i| i + 1),
                    path,
                    key: "spec_kitty.version",
                    expected: "a version such as 3.1.1".into(),
                    fix: "write `version: X.Y.Z` under `spec_kitty:` in .kittify/metadata.yaml, or run `spec-kitty upgrade`".into(),
                })
            }
        };
        Ok(Metadata {
            path,
            exists: true,
            version,
        })
    }

    /// How the recorded version and this binary's differ, if they do (None
    /// when nothing is recorded or the recorded version does not parse).
    pub fn version_skew(&self) -> Option<crate::project::VersionSkew> {
        crate::project::VersionSkew::of(self.version.as_deref()?)
    }
}

/// The version skew of the project at `root` (see [`Metadata::version_skew`]):
/// a corrupt metadata.yaml is an error, never a silent "no skew".
pub fn version_skew(root: &Path) -> Result<Option<crate::project::VersionSkew>, ConfigError> {
    Ok(Metadata::load(root)?.version_skew())
}

/// `auto_commit` of the project at `root` (see [`Config::auto_commit`]): a
/// corrupt file or a bad value is an error, never a silent false.
pub fn auto_commit_enabled(root: &Path) -> Result<bool, ConfigError> {
    Config::load(root)?.auto_commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> (tempfile::TempDir, Result<Arc<Config>, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        std::fs::write(dir.path().join(CONFIG_PATH), text).unwrap();
        let c = Config::load(dir.path());
        (dir, c)
    }

    #[test]
    fn a_missing_file_is_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert!(!c.exists);
        assert!(!c.auto_commit().unwrap());
        assert_eq!(c.reviewers().unwrap(), None);
        assert!(c.available_agents().is_empty());
        assert_eq!(c.lane_strategy(&["parallel"], "").unwrap(), None);
    }

    #[test]
    fn settings_are_typed_and_bad_ones_name_file_and_line() {
        let (_d, c) = config(
            "agents:\n  available: [claude, 3]\n  reviewers: [codex]\n  auto_commit: true\nlane_strategy: Components\n",
        );
        let c = c.unwrap();
        assert!(c.auto_commit().unwrap());
        assert_eq!(c.reviewers().unwrap(), Some(vec!["codex".to_string()]));
        assert_eq!(c.available_agents(), vec!["claude".to_string()]);
        let names = ["parallel", "components"];
        assert_eq!(c.lane_strategy(&names, "").unwrap(), Some("components"));

        let (_d, c) = config("agents:\n  auto_commit: yes please\n");
        let e = c.unwrap().auto_commit().unwrap_err();
        assert!(
            e.to_string()
                .ends_with("config.yaml:2: agents.auto_commit must be true or false"),
            "{e}"
        );
        let (_d, c) = config("agents:\n  reviewers: codex\n");
        let e = c.unwrap().reviewers().unwrap_err();
        assert!(e
            .to_string()
            .ends_with(":2: agents.reviewers must be a list of agent names"));
    }

    #[test]
    fn a_corrupt_file_is_one_error_naming_file_line_and_fix() {
        let (_d, c) = config("agents: [codex\n");
        let e = c.unwrap_err();
        assert!(
            matches!(e, ConfigError::Yaml { line: Some(2), .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains(".kittify/config.yaml:2: "), "{e}");
        assert!(e.hint().unwrap().starts_with("fix the YAML syntax"));
    }

    #[test]
    fn metadata_has_the_same_policy() {
        let dir = tempfile::tempdir().unwrap();
        let m = Metadata::load(dir.path()).unwrap();
        assert_eq!((m.exists, m.version), (false, None));
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let meta = dir.path().join(METADATA_PATH);
        std::fs::write(&meta, "spec_kitty:\n  version: 0.1.0\n").unwrap();
        let m = Metadata::load(dir.path()).unwrap();
        assert_eq!(m.version.as_deref(), Some("0.1.0"));
        assert!(m.version_skew().is_some());
        std::fs::write(&meta, "spec_kitty:\n  version: 3.1\n").unwrap();
        assert_eq!(
            Metadata::load(dir.path()).unwrap().version.as_deref(),
            Some("3.1")
        );
        std::fs::write(&meta, "spec_kitty:\n  version: [3\n").unwrap();
        let e = Metadata::load(dir.path()).unwrap_err();
        assert!(
            matches!(e, ConfigError::Yaml { line: Some(_), .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains(".kittify/metadata.yaml:"), "{e}");
        assert!(e.hint().unwrap().contains(".kittify/metadata.yaml"));
        std::fs::write(&meta, "spec_kitty:\n  version: {a: 1}\n").unwrap();
        let e = Metadata::load(dir.path()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("metadata.yaml:2: spec_kitty.version must be a version such as 3.1.1"),
            "{e}"
        );
    }

    #[test]
    fn an_edit_is_seen_by_the_next_load() {
        let (d, c) = config("agents:\n  auto_commit: false\n");
        assert!(!c.unwrap().auto_commit().unwrap());
        std::fs::write(
            d.path().join(CONFIG_PATH),
            "agents:\n  auto_commit: true\n  available: []\n",
        )
        .unwrap();
        assert!(Config::load(d.path()).unwrap().auto_commit().unwrap());
    }
}
