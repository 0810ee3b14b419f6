//! The failures of accepting and merging lanes that are the merge's own: each
//! class with the data it needs, its message (`Display`), hint and exit kind
//! beside it ([`Diagnose`]). Failures of the modules the merge calls (status,
//! workspace, mission files) keep their own errors; a git failure stays the
//! git layer's [`crate::git::GitError`] inside ([`MergeError::Git`]).

use std::path::PathBuf;

use crate::git::Oid;
use serde_json::Value;

use super::land::{ConflictPair, Phase};
use super::short;
use crate::error::{io_hint, Diagnose, Kind};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// `accept` and `merge` need the project in git.
    #[error("{} is not a git repository; accepting and merging lanes needs git", root.display())]
    NeedsGit { root: PathBuf },

    /// No git directory to keep the merge state in.
    #[error("{} is not a git repository", root.display())]
    NoGitDir { root: PathBuf },

    #[error("git has no identity to commit the merge with: user.name and user.email are not set")]
    NoIdentity,

    /// lanes.json names a lane dependency that is not one of its lanes.
    #[error("{}: {lane} depends on unknown lane {dep}", lanes_file.display())]
    UnknownLane {
        lanes_file: PathBuf,
        lane: String,
        dep: String,
        slug: String,
    },

    #[error("a merge of {slug} into {target} is in progress (stopped while {phase})")]
    InProgress {
        slug: String,
        target: String,
        phase: Phase,
    },

    #[error("no merge of {slug} is in progress")]
    NotInProgress { slug: String },

    #[error("no merge of {slug} is in progress; there is nothing to abort")]
    NothingToAbort { slug: String },

    #[error("the merge of {slug} already landed on {target} and is being finished; it cannot be aborted")]
    AlreadyFinishing { slug: String, target: String },

    /// Merged before, and its lane branches are gone.
    #[error("{slug} was already merged into {into} at {at}{}", commit.as_deref().map(|c| format!(" (commit {})", short(c))).unwrap_or_default())]
    AlreadyMerged {
        slug: String,
        into: String,
        at: String,
        commit: Option<String>,
    },

    #[error("target branch {target} of {slug} does not exist")]
    NoTarget { target: String, slug: String },

    /// `--target` names something a merge cannot land on.
    #[error("--target {target:?} cannot take the merge of {slug}: not a valid branch name, or the mission's own branch or one of its lane branches")]
    BadTarget { target: String, slug: String },

    #[error("target branch {target} disappeared during the merge")]
    TargetDisappeared { target: String },

    /// Preconditions that do not hold; nothing was changed.
    #[error("cannot merge {slug}; nothing was changed:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Blocked {
        slug: String,
        problems: Vec<String>,
        /// The merge report, as extra fields of a `--json` error object.
        details: Value,
    },

    /// Lanes conflict; nothing was changed.
    #[error(
        "cannot merge {slug}: lanes conflict; nothing was changed:\n{}",
        conflict_lines(conflicts)
    )]
    Conflict {
        slug: String,
        conflicts: Vec<ConflictPair>,
        // Boxed: the largest payloads, kept off every `Result`'s size.
        fix: Box<ConflictFix>,
        details: Box<Value>,
    },

    /// A branch the merge moves changed while it was in progress.
    #[error("{branch} moved while the merge was in progress (now {}, was {})", now.map(short).unwrap_or_else(|| "deleted".into()), before.as_deref().map(short).unwrap_or_else(|| "absent".into()))]
    Moved {
        branch: String,
        now: Option<Oid>,
        before: Option<String>,
    },

    /// Files the merge switches hold somebody's edits.
    #[error(
        "files the merge changes were edited in the main checkout: {}",
        list_some(paths, 8)
    )]
    Edited { paths: Vec<String> },

    #[error("{}:{line}: invalid merge state: {source}", path.display())]
    BadState {
        path: PathBuf,
        line: usize,
        #[source]
        source: crate::bounds::DocError,
    },

    #[error("bad commit id {id:?} in merge state")]
    BadCommitId { id: String },

    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write merge objects: {source}")]
    WriteObjects {
        #[source]
        source: std::io::Error,
    },

    /// `--strategy rebase` meets a commit without a parent.
    #[error("commit {} has no parent and cannot be replayed", short(*commit))]
    RootCommit { commit: Oid },

    /// The `test-hooks` stop right after landing.
    #[error("merge stopped after landing on {target} (merge-interrupt test hook)")]
    InterruptHook { target: String },

    #[error("not committing {slug}: the index holds staged changes to other files: {}", others.join(", "))]
    StagedElsewhere { slug: String, others: Vec<String> },

    /// auto_commit found staged changes to files the command did not write.
    #[error("the index holds staged changes to other files: {}", others.join(", "))]
    AutoCommitStagedElsewhere { others: Vec<String> },

    /// A git failure ([`crate::git`]), shown as `git: <what git said>` for a
    /// libgit2 one.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),

    /// meta.json could not be read for the recorded acceptance.
    #[error("{source}")]
    UnreadableMeta {
        path: PathBuf,
        #[source]
        source: Box<crate::mission::MissionError>,
    },

    /// A failure of a merge in progress: the inner error's own words, its hint
    /// followed by how to resume (`--continue` / `--abort`).
    #[error("{inner}")]
    Resumable {
        slug: String,
        phase: Phase,
        #[source]
        inner: Box<MergeError>,
    },

    // The modules the merge calls keep their own errors, which speak for themselves.
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
    #[error(transparent)]
    Lock(#[from] crate::fsutil::LockError),
    #[error(transparent)]
    Status(#[from] crate::status::StatusError),
    #[error(transparent)]
    Confine(#[from] crate::confine::ConfineError),
    #[error(transparent)]
    Lanes(#[from] crate::lanes::LanesError),
    #[error(transparent)]
    Tasks(#[from] crate::tasks_md::TasksError),
    #[error(transparent)]
    Mission(Box<crate::mission::MissionError>),
    #[error(transparent)]
    Workspace(Box<crate::workspace::WorkspaceError>),
}

crate::error::wraps!(MergeError {
    Mission(crate::mission::MissionError),
    Workspace(crate::workspace::WorkspaceError),
});

/// How a lane conflict gets resolved.
#[derive(Debug, Clone)]
pub enum ConflictFix {
    /// Merge `branch` into the lane worktree `worktree`.
    InLane { worktree: String, branch: String },
    /// The conflict is not a lane's own: resolve it on a lane branch.
    OnLaneBranch,
    /// No conflict pair to point at.
    Unknown,
}

fn conflict_lines(conflicts: &[ConflictPair]) -> String {
    conflicts
        .iter()
        .map(|c| {
            format!(
                "  - {} and {}{}: {}",
                c.between[0],
                c.between[1],
                c.commit
                    .as_deref()
                    .map(|x| format!(" (at commit {x})"))
                    .unwrap_or_default(),
                c.files.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first `max` items, then how many more.
pub(crate) fn list_some(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}

/// How to go on with a merge that stopped while `phase`.
pub(crate) fn in_progress_hint(slug: &str, phase: Phase) -> String {
    if phase == Phase::Finishing {
        format!(
            "the merge already landed; run `spec-kitty merge --mission {slug} --continue` to finish it"
        )
    } else {
        format!(
            "run `spec-kitty merge --mission {slug} --continue` to finish it, or `spec-kitty merge --mission {slug} --abort` to put everything back as it was"
        )
    }
}

impl Diagnose for MergeError {
    /// The error of another module this one only carries.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            MergeError::Git(e) => e,
            MergeError::Resumable { inner, .. } => inner.as_ref(),
            MergeError::Fs(e) => e,
            MergeError::Lock(e) => e,
            MergeError::Status(e) => e,
            MergeError::Confine(e) => e,
            MergeError::Lanes(e) => e,
            MergeError::Tasks(e) => e,
            MergeError::Mission(e) => e.as_ref(),
            MergeError::Workspace(e) => e.as_ref(),
            _ => return None,
        })
    }

    fn kind(&self) -> Kind {
        match self {
            MergeError::BadCommitId { .. }
            | MergeError::WriteObjects { .. }
            | MergeError::InterruptHook { .. } => Kind::Internal,
            e => e.wrapped().map_or(Kind::User, Diagnose::kind),
        }
    }

    fn message(&self) -> String {
        match self.wrapped() {
            Some(inner) => inner.message(),
            None => self.to_string(),
        }
    }

    fn hint(&self) -> Option<String> {
        if let MergeError::Resumable { slug, phase, inner } = self {
            let resume = in_progress_hint(slug, *phase);
            return Some(match inner.hint() {
                Some(h) => format!("{h}; then: {resume}"),
                None => resume,
            });
        }
        if let Some(inner) = self.wrapped() {
            return inner.hint();
        }
        Some(match self {
            MergeError::NeedsGit { .. } => "run `git init` and make a first commit".into(),
            MergeError::NoIdentity => "set them, e.g. `git config user.name \"Your Name\"` and `git config user.email you@example.com`".into(),
            MergeError::UnknownLane { slug, .. } => format!(
                "re-run `spec-kitty agent mission finalize-tasks --mission {slug}`"
            ),
            MergeError::InProgress { slug, phase, .. } => in_progress_hint(slug, *phase),
            MergeError::NotInProgress { slug } => {
                format!("start one with `spec-kitty merge --mission {slug}`")
            }
            MergeError::AlreadyFinishing { slug, .. } => in_progress_hint(slug, Phase::Finishing),
            MergeError::AlreadyMerged { slug, .. } => format!(
                "its lane work is already on the target; nothing is merged or recorded again. Leftover lane worktrees and branches of this clone: `spec-kitty merge --mission {slug} --clean-up` (add `--remote origin` to delete the lane branches on that remote too)"
            ),
            MergeError::NoTarget { .. } => {
                "create it, or set target_branch in the mission's meta.json (or pass --target <branch>)".into()
            }
            MergeError::BadTarget { .. } => {
                "name an existing local branch outside the mission, for example --target main".into()
            }
            MergeError::Blocked { .. } => {
                "fix the problems above and run the merge again; `--dry-run` shows the full forecast".into()
            }
            MergeError::Conflict { slug, fix, .. } => match fix.as_ref() {
                ConflictFix::InLane { worktree, branch } => format!(
                    "resolve it in a lane: `git -C {worktree} merge {branch}`, fix the files, commit; then `spec-kitty accept --mission {slug}` and merge again"
                ),
                ConflictFix::OnLaneBranch => format!(
                    "resolve it on a lane branch, then `spec-kitty accept --mission {slug}` and merge again"
                ),
                ConflictFix::Unknown => {
                    "resolve the conflict on a lane branch, accept again and merge again".into()
                }
            },
            MergeError::RootCommit { .. } => {
                "use --strategy merge for branches with unrelated histories".into()
            }
            MergeError::Moved { .. } => {
                "someone else changed it; check `git log` and resolve it by hand".into()
            }
            MergeError::Edited { .. } => {
                "commit, stash or discard those edits, then run the command again".into()
            }
            MergeError::BadState { .. } => "it records a merge that stopped part-way; restore it, or remove it once you have checked the target and mission branches by hand".into(),
            MergeError::StagedElsewhere { .. } => "commit or unstage them (`git restore --staged <file>`), then run `spec-kitty agent mission record` again".into(),
            MergeError::AutoCommitStagedElsewhere { .. } => {
                "commit or unstage them, then run `spec-kitty agent mission record`".into()
            }
            MergeError::Io { path, source, .. } => return io_hint(path, source.kind()),
            MergeError::UnreadableMeta { path, .. } => format!("fix or restore {}", path.display()),
            MergeError::Git(_)
            | MergeError::Resumable { .. }
            | MergeError::Fs(_)
            | MergeError::Lock(_)
            | MergeError::Status(_)
            | MergeError::Confine(_)
            | MergeError::Lanes(_)
            | MergeError::Tasks(_)
            | MergeError::Mission(_)
            | MergeError::Workspace(_)
            | MergeError::NoGitDir { .. }
            | MergeError::NothingToAbort { .. }
            | MergeError::TargetDisappeared { .. }
            | MergeError::BadCommitId { .. }
            | MergeError::WriteObjects { .. }
            | MergeError::InterruptHook { .. }
            => return None,
        })
    }

    fn details(&self) -> Option<Value> {
        match self {
            MergeError::Blocked { details, .. } => Some(details.clone()),
            MergeError::Conflict { details, .. } => Some(details.as_ref().clone()),
            e => e.wrapped().and_then(Diagnose::details),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_bad_state_file_is_typed_and_keeps_its_serde_source() {
        use std::error::Error as _;
        let source = serde_json::from_str::<Value>("{ nope").unwrap_err();
        let e = Error::from(MergeError::BadState {
            path: "/r/.git/spec-kitty-merge/001-x.json".into(),
            line: 1,
            source: source.into(),
        });
        assert!(
            e.message
                .starts_with("/r/.git/spec-kitty-merge/001-x.json:1: invalid merge state: "),
            "{}",
            e.message
        );
        assert!(e.hint.as_deref().unwrap().contains("stopped part-way"));
        let typed = e
            .source()
            .and_then(|s| s.downcast_ref::<MergeError>())
            .unwrap();
        let MergeError::BadState { source, .. } = typed else {
            panic!("{typed:?}")
        };
        assert!(matches!(source, crate::bounds::DocError::Json(_)));
    }

    #[test]
    fn a_git2_error_stays_a_git2_error_inside() {
        use std::error::Error as _;
        let e = Error::from(MergeError::from(crate::git::GitError::from(
            git2::Error::from_str("bad ref"),
        )));
        assert_eq!(e.message, "git: bad ref");
        let Some(MergeError::Git(crate::git::GitError::Git(g))) = e.typed::<MergeError>() else {
            panic!("not typed")
        };
        assert_eq!(g.message(), "bad ref");
        assert!(e.source().is_some());
    }

    #[test]
    fn kinds_and_hints_follow_the_class() {
        let e = Error::from(MergeError::BadCommitId { id: "zz".into() });
        assert_eq!(e.kind, Kind::Internal);
        assert_eq!(e.message, "bad commit id \"zz\" in merge state");
        let e = Error::from(MergeError::InProgress {
            slug: "001-x".into(),
            target: "main".into(),
            phase: Phase::Landing,
        });
        assert_eq!(e.kind, Kind::User);
        assert!(e.hint.unwrap().contains("--abort"));
        let e = Error::from(MergeError::Moved {
            branch: "main".into(),
            now: None,
            before: Some("0123456789abcdef".into()),
        });
        assert_eq!(
            e.message,
            "main moved while the merge was in progress (now deleted, was 0123456)"
        );
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = Error::from(MergeError::Io {
            action: "remove",
            path: "/x".into(),
            source: full,
        });
        assert!(e.hint.as_deref().unwrap().contains("free some disk space"));
        assert!(matches!(
            e.typed::<MergeError>(),
            Some(MergeError::Io { .. })
        ));
    }

    #[test]
    fn a_parentless_commit_under_rebase_is_typed() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let e = MergeError::RootCommit { commit: oid };
        let lib = Error::from(e);
        assert_eq!(
            lib.message,
            "commit 0123456 has no parent and cannot be replayed"
        );
        assert_eq!(
            lib.hint.as_deref(),
            Some("use --strategy merge for branches with unrelated histories")
        );
        assert!(matches!(
            lib.typed::<MergeError>(),
            Some(MergeError::RootCommit { commit }) if *commit == oid
        ));
    }
}
