//! [`InitError`]: why `init`, `upgrade` or the removal of stale prompts stopped.

use std::path::{Path, PathBuf};

use super::agents::valid_keys;
use super::manifest::MANIFEST_PATH;
use crate::confine::ConfineError;
use crate::error::Diagnose;
use crate::fsutil::{FsError, LockError};
use crate::status::StatusError;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// `init ""`: an empty project name.
    #[error("the project name is empty")]
    EmptyName,
    /// `--ai` named keys no agent has.
    #[error("unknown agent{} {}; valid agents are: {}", if .keys.len() == 1 { "" } else { "s" }, .keys.join(", "), valid_keys())]
    UnknownAgents { keys: Vec<String> },
    /// `--ai` with nothing but separators.
    #[error("--ai names no agent; valid agents are: {}", valid_keys())]
    NoAgentNamed,
    /// Neither `--ai` nor a configured agent.
    #[error("no agent selected; valid agents are: {}", valid_keys())]
    NoAgentSelected,
    #[error("{} exists and is not a directory", .path.display())]
    NotADirectory { path: PathBuf },
    /// A named target that holds other files and is not a project.
    #[error("directory {} already exists, is not empty ({}) and is not a spec-kitty project", .root.display(), shown(.entries))]
    NotEmpty { root: PathBuf, entries: Vec<String> },
    /// Files not written by spec-kitty where its slash commands go.
    #[error("{} already has files where spec-kitty writes its slash commands: {}", .root.display(), .conflicts.join(", "))]
    Conflicts {
        root: PathBuf,
        conflicts: Vec<String>,
    },
    /// `upgrade` of a project set up by a newer spec-kitty.
    #[error(
        "this project is at spec-kitty {version}, newer than this binary ({})",
        crate::VERSION
    )]
    NewerProject { version: String },
    /// `.kittify/config.yaml` cannot be read, is not YAML, or cannot take
    /// the added agents ([`crate::config`] says which).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// `.kittify/managed-files.json` is not the manifest's JSON.
    #[error("{}: {source}", crate::error::located(.path, .source.line()))]
    BadManifest {
        path: PathBuf,
        #[source]
        source: crate::bounds::DocError,
    },
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Lock(#[from] LockError),
    // The failures of the modules set-up calls, each kept whole (its message,
    // hint and details are its own).
    /// A read or write through [`crate::fsutil`].
    #[error("{0}")]
    Fs(#[from] FsError),
    /// Removing a file the manifest lists ([`crate::confine`]).
    #[error("{0}")]
    Confine(#[from] ConfineError),
    /// Registering the merge drivers ([`crate::status::drivers`]).
    #[error("{0}")]
    Status(#[from] StatusError),
}

/// The first five entries, and how many more there are.
fn shown(entries: &[String]) -> String {
    let mut s = entries
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if entries.len() > 5 {
        s.push_str(&format!(" and {} more", entries.len() - 5));
    }
    s
}

impl InitError {
    pub(super) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        InitError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl Diagnose for InitError {
    /// The wrapped error of another module, which speaks for itself.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        match self {
            InitError::Fs(e) => Some(e),
            InitError::Config(e) => Some(e),
            InitError::Confine(e) => Some(e),
            InitError::Status(e) => Some(e),
            InitError::Lock(e) => Some(e),
            _ => None,
        }
    }

    fn kind(&self) -> crate::error::Kind {
        match (self, self.wrapped()) {
            (InitError::EmptyName, _) => crate::error::Kind::Usage,
            (_, Some(e)) => e.kind(),
            _ => crate::error::Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        use InitError::*;
        if let Some(e) = self.wrapped() {
            return e.hint();
        }
        Some(match self {
            UnknownAgents { .. } => {
                "pass one or more of them, comma-separated, e.g. --ai codex,claude".into()
            }
            EmptyName => "use `.` for the current directory".into(),
            NoAgentNamed => "e.g. --ai codex".into(),
            NoAgentSelected => "pass --ai, e.g. --ai codex".into(),
            NotADirectory { .. } => "choose another project name".into(),
            NotEmpty { .. } => "choose another name, run `spec-kitty init .` inside it, or pass --force to set it up anyway (your other files are kept)".into(),
            Conflicts { .. } => "move them away, or pass --force to replace them".into(),
            NewerProject { .. } => "install a newer spec-kitty; nothing was changed".into(),
            BadManifest { .. } => format!(
                "delete {MANIFEST_PATH} and run `spec-kitty init .` again; files you edited are then left alone and reported"
            ),
            Io { path, source, .. } => crate::error::io_hint(path, source.kind())?,
            _ => return None,
        })
    }
    fn details(&self) -> Option<serde_json::Value> {
        if let Some(e) = self.wrapped() {
            return e.details();
        }
        match self {
            InitError::NotEmpty { entries, .. } => {
                Some(serde_json::json!({ "conflicts": entries }))
            }
            InitError::Conflicts { conflicts, .. } => {
                Some(serde_json::json!({ "conflicts": conflicts }))
            }
            _ => None,
        }
    }
}
