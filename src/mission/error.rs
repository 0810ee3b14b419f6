//! [`MissionError`]: every way a mission command fails, with what a message,
//! hint or `--json` detail needs.

use std::path::{Path, PathBuf};

use crate::confine::ConfineError;
use crate::error::{Diagnose, Kind};
use crate::fsutil::{FsError, LockError};
use crate::ids::IdError;

/// A mission as an error lists it: its directory name and mission_id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub slug: String,
    pub mission_id: Option<String>,
}

impl Listed {
    pub(super) fn of(m: &super::Mission) -> Listed {
        Listed {
            slug: m.slug.clone(),
            mission_id: m.mission_id().map(str::to_string),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MissionError {
    // meta.json
    #[error("{}: invalid JSON: {source}", crate::error::located(.path, .source.line()))]
    InvalidMetaJson {
        path: PathBuf,
        #[source]
        source: crate::bounds::DocError,
    },
    #[error("{}: expected a JSON object", .path.display())]
    MetaNotAnObject { path: PathBuf },
    /// A meta.json key has the wrong JSON type (`found` is "a number", ...).
    #[error("{}: `{key}` must be a string, found {found}", .path.display())]
    MetaWrongType {
        path: PathBuf,
        key: &'static str,
        found: &'static str,
    },
    #[error("{}: `mission_id` {id:?} is not a ULID (26 characters of Crockford base32)", .path.display())]
    NotAUlid { path: PathBuf, id: String },
    /// A mission whose meta.json could not be used when it was loaded
    /// (`reason` is that error's message, kept in [`super::Mission::meta_error`]).
    #[error("{reason}")]
    UnusableMeta { path: PathBuf, reason: String },

    // Selecting a mission
    #[error("--mission needs a value")]
    EmptySelector,
    /// No `--mission` and nothing to infer from: no missions at all.
    #[error("this project has no missions yet")]
    NoMissions,
    /// `--mission X` in a project with no missions.
    #[error("no mission matches {selector:?}: this project has no missions yet")]
    NoMissionsToMatch { selector: String },
    /// No `--mission`, and more than one mission to choose from.
    #[error("{} missions exist; pass --mission to choose one:\n{}", .missions.len(), listing(.missions))]
    MustChoose { missions: Vec<Listed> },
    #[error("no mission matches {selector:?}. Missions in this project:\n{}", listing(.missions))]
    NoMatch {
        selector: String,
        missions: Vec<Listed>,
    },
    #[error("{selector:?} matches more than one mission:\n{}", listing(.candidates))]
    Ambiguous {
        selector: String,
        candidates: Vec<Listed>,
    },
    #[error("unknown mission type {key:?}")]
    UnknownType { key: String },

    // Creating one
    #[error("invalid mission slug {slug:?}: use kebab-case (lowercase letters and digits joined by single hyphens)")]
    BadSlug {
        slug: String,
        /// A corrected slug; empty when nothing usable is left.
        suggestion: String,
    },
    #[error("HEAD is detached, so there is no branch to plan on")]
    DetachedHead,
    #[error("a mission with slug {slug:?} already exists: {existing}")]
    SlugTaken { slug: String, existing: String },
    #[error("mission number {number:03} is already used by {by}")]
    NumberTaken { number: u64, by: String },
    /// The final directory appeared while the staging one was built (a bug:
    /// the numbering lock should make that impossible).
    #[error("{} appeared while creating it", .path.display())]
    AppearedWhileCreating { path: PathBuf },
    /// meta.json could not be rendered (a bug).
    #[error("cannot serialise {}: {source}", .path.display())]
    RenderMeta {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    // Context, requirements, deletion
    #[error("unknown action {action:?}")]
    UnknownAction { action: String },
    #[error("no work package of {mission} is ready for {action}")]
    NothingReady { mission: String, action: String },
    #[error("{given:?} is not a requirement id")]
    NotARequirement { given: String },
    #[error("{id} is not a requirement of {mission} (spec.md names: {})", if .known.is_empty() { "none".to_string() } else { .known.join(", ") })]
    UnknownRequirement {
        id: String,
        mission: String,
        known: Vec<String>,
    },
    /// Paths the confinement rule refuses to remove; nothing was removed.
    #[error("refusing to delete {mission}: {}", .reasons.join("; "))]
    DeleteRefused {
        mission: String,
        reasons: Vec<String>,
    },
    /// Unmerged or uncommitted work that only `--force` discards.
    #[error("refusing to delete {mission}: {}", .problems.join("; "))]
    UnsavedWork {
        mission: String,
        problems: Vec<String>,
    },

    // Failures of what a mission is made of
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Lock(#[from] LockError),
    /// A git failure ([`crate::git`]), read like every git error ("git: ...").
    #[error("{0}")]
    Git(#[from] crate::git::GitError),
    // The failures of the modules a mission command calls, each kept whole
    // (its message, hint and details are its own).
    /// A read or write through [`crate::fsutil`].
    #[error("{0}")]
    Fs(#[from] FsError),
    /// An id check ([`crate::ids`]).
    #[error("{0}")]
    Ids(#[from] IdError),
    /// A confined removal ([`crate::confine`]).
    #[error("{0}")]
    Confine(#[from] ConfineError),
}

fn listing(missions: &[Listed]) -> String {
    missions
        .iter()
        .map(|m| match &m.mission_id {
            Some(id) => format!("  - {}  ({id})", m.slug),
            None => format!("  - {}", m.slug),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn slugs(key: &str, missions: &[Listed]) -> serde_json::Value {
    let list: Vec<&str> = missions.iter().map(|m| m.slug.as_str()).collect();
    serde_json::json!({ key: list })
}

const CREATE_ONE: &str = "create one with `spec-kitty agent mission create <slug>`";

impl MissionError {
    pub(super) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        MissionError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl Diagnose for MissionError {
    /// The error of a lower module this one keeps whole.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        use MissionError::*;
        Some(match self {
            Fs(e) => e,
            Ids(e) => e,
            Confine(e) => e,
            Lock(e) => e,
            Git(e) => e,
            _ => return None,
        })
    }
    fn kind(&self) -> Kind {
        use MissionError::*;
        if let Some(e) = self.wrapped() {
            return e.kind();
        }
        match self {
            EmptySelector | UnknownAction { .. } | NotARequirement { .. } => Kind::Usage,
            AppearedWhileCreating { .. } | RenderMeta { .. } => Kind::Internal,
            _ => Kind::User,
        }
    }
    fn hint(&self) -> Option<String> {
        use MissionError::*;
        if let Some(e) = self.wrapped() {
            return e.hint();
        }
        Some(match self {
            UnusableMeta { path, .. } => format!(
                "fix or restore {}; other missions are unaffected",
                path.display()
            ),
            NoMissions | NoMissionsToMatch { .. } => CREATE_ONE.into(),
            MustChoose { .. } => "--mission accepts 079, 079-slug, slug or a mission_id".into(),
            NoMatch { .. } => {
                "--mission accepts 079, 079-slug, slug or a mission_id (or 8+ characters of one)"
                    .into()
            }
            Ambiguous { .. } => "pass the full NNN-slug or the mission_id".into(),
            UnknownType { .. } => format!(
                "choose one of: {}",
                super::types::keys().collect::<Vec<_>>().join(", ")
            ),
            BadSlug { suggestion, .. } if !suggestion.is_empty() => {
                format!("try `{suggestion}`")
            }
            DetachedHead => "check out a branch or pass --target-branch <branch>".into(),
            SlugTaken { existing, .. } => {
                format!("use `--mission {existing}` to work on it, or pick another slug")
            }
            NumberTaken { .. } => {
                "pick a free number, or leave out --number to take the next one".into()
            }
            UnknownAction { .. } => format!(
                "choose one of: {}",
                super::ACTIONS.join(", ")
            ),
            NothingReady { mission, .. } => format!(
                "see the board: `spec-kitty agent tasks status --mission {mission}`"
            ),
            NotARequirement { .. } => {
                "requirement ids look like FR-001, NFR-002 or C-003".into()
            }
            UnknownRequirement { .. } => "add it to spec.md first, or fix the id".into(),
            DeleteRefused { .. } => "nothing was removed; move those paths away by hand (spec-kitty only removes what resolves inside .worktrees/ or the mission directory), then run this again".into(),
            UnsavedWork { .. } => {
                "merge or save that work first, or pass --force to discard it".into()
            }
            Io { path, source, .. } => crate::error::io_hint(path, source.kind())?,
            _ => return None,
        })
    }
    fn details(&self) -> Option<serde_json::Value> {
        use MissionError::*;
        if let Some(e) = self.wrapped() {
            return e.details();
        }
        match self {
            MustChoose { missions } | NoMatch { missions, .. } => {
                Some(slugs("available_missions", missions))
            }
            Ambiguous { candidates, .. } => Some(slugs("candidates", candidates)),
            BadSlug { suggestion, .. } => Some(serde_json::json!({ "suggested_slug": suggestion })),
            _ => None,
        }
    }
}
