//! The failures of making and handing out lane workspaces that are the
//! workspace module's own: each class with its data, message (`Display`),
//! hint and kind beside it ([`Diagnose`]). git failures stay [`GitError`]s inside.

use std::path::PathBuf;

use crate::error::{Diagnose, Kind};
use crate::git::GitError;

/// The data of [`WorkspaceError::DependencyConflict`].
#[derive(Debug)]
pub struct DependencyConflict {
    pub for_wp: String,
    pub wp: String,
    pub lane: String,
    pub branch: String,
    pub commit: String,
    pub files: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("{slug} has no lanes.json yet")]
    NoLanes { slug: String },

    #[error("{wp} is not in any lane of {}", lanes_file.display())]
    NotInAnyLane {
        wp: String,
        lanes_file: PathBuf,
        slug: String,
    },

    #[error("{} is not a git repository; code lanes need git worktrees", root.display())]
    NeedsGit { root: PathBuf },

    #[error("the lane branch has no common history with {target}")]
    NoCommonHistory { target: String },

    #[error("lane {lane} vanished")]
    LaneVanished { lane: String },

    /// The WP needs other lanes' approved work merged into a worktree that has
    /// uncommitted changes.
    #[error("{wp} needs work approved in {} merged into {worktree}, which has uncommitted changes", lanes.join(", "))]
    DirtyForDependencies {
        wp: String,
        lanes: Vec<String>,
        worktree: String,
    },

    #[error("{path} exists but is on branch {other}, not {branch}")]
    OtherBranch {
        path: String,
        other: String,
        branch: String,
    },

    #[error("{path} exists but its HEAD is detached at {at}, not on {branch}")]
    Detached {
        path: String,
        at: String,
        branch: String,
    },

    #[error("{path} is a git checkout, but not a worktree of {}", root.display())]
    Foreign {
        path: String,
        root: PathBuf,
        branch: String,
    },

    #[error("{path} exists but is not a working git worktree")]
    Broken { path: String, branch: String },

    /// git's index lock of a lane worktree is held and is not provably a
    /// leftover of our own cut-short creation.
    #[error("the index of {worktree} is locked: {} exists (a git command is running there, or one was killed)", lock.display())]
    IndexLocked { worktree: PathBuf, lock: PathBuf },

    #[error("target branch {target} of {slug} does not exist or has no commits")]
    NoTarget { target: String, slug: String },

    #[error("cannot create worktree {}: {}", path.display(), source.git_message())]
    CreateWorktree {
        path: PathBuf,
        name: String,
        /// Boxed: kept off the size of every workspace `Result`.
        #[source]
        source: Box<GitError>,
    },

    #[error("planning work has no lane branch")]
    PlanningHasNoBranch,

    #[error("lane branch {branch} does not exist yet")]
    NoLaneBranch { branch: String },

    #[error("{id:?} is not a commit id")]
    NotACommit { id: String },

    /// An approval names a commit this clone does not have.
    #[error("{wp} was approved at commit {}, which this repository does not have", commit.chars().take(12).collect::<String>())]
    MissingApproved {
        wp: String,
        commit: String,
        lane: String,
    },

    /// Merging a dependency's approved work into the lane branch conflicts
    /// (boxed: the largest payload, kept off every `Result`'s size).
    #[error("{} needs {}'s work from {}, but merging it into {} conflicts in: {}", .0.for_wp, .0.wp, .0.lane, .0.branch, .0.files.join(", "))]
    DependencyConflict(Box<DependencyConflict>),

    #[error("cannot update {} to the merged work: {}", worktree.display(), source.git_message())]
    AdvanceWorktree {
        worktree: PathBuf,
        /// Boxed: kept off the size of every workspace `Result`.
        #[source]
        source: Box<GitError>,
    },

    // Handing out a WP (action.rs).
    #[error("no work package of {slug} is ready to start")]
    NothingReady { slug: String },

    /// The WP waits for other work (`why` says which).
    #[error("{why}")]
    Waiting { why: String },

    #[error("{wp} is {lane}; only planned work can be implemented")]
    NotPlanned {
        wp: String,
        lane: crate::status::Lane,
        slug: String,
    },

    #[error("{wp} is in progress, claimed by {owner}")]
    ClaimedBy { wp: String, owner: String },

    #[error("{wp} was claimed by {owner} a moment ago")]
    ClaimedJustNow { wp: String, owner: String },

    #[error("no work package of {slug} is waiting for review")]
    NothingToReview { slug: String },

    #[error("{wp} is {lane}, not waiting for review")]
    NotForReview {
        wp: String,
        lane: crate::status::Lane,
    },

    #[error("{wp} was taken for review by {owner} a moment ago")]
    TakenForReview { wp: String, owner: String },

    /// `.kittify/`, `.gitignore` or `.gitattributes` never committed on the
    /// target a lane would branch from.
    #[error("the project's spec-kitty files are not committed on {target}: {}. Lane worktrees branch from the last commit of {target}, so the lane would start without them, and they would stay uncommitted after the merge", files.join(", "))]
    ProjectFilesUncommitted {
        target: String,
        files: Vec<String>,
        /// The paths for the `git add` of the hint.
        add: Vec<String>,
    },

    /// A git failure ([`crate::git`]), shown as `git: <what git said>`.
    #[error(transparent)]
    Git(#[from] GitError),

    // The failures of the modules a workspace is made through, each kept
    // whole (its message, kind, hint and details are its own).
    /// A write through [`crate::fsutil`].
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
    /// The lane worktree lock.
    #[error(transparent)]
    Lock(#[from] crate::fsutil::LockError),
    /// A confined removal ([`crate::confine`]).
    #[error(transparent)]
    Confine(#[from] crate::confine::ConfineError),
    /// lanes.json ([`crate::lanes`]).
    #[error(transparent)]
    Lanes(#[from] crate::lanes::LanesError),
    /// WP files ([`crate::tasks_md`]).
    #[error(transparent)]
    Tasks(#[from] crate::tasks_md::TasksError),
    /// The status log ([`crate::status`]).
    #[error(transparent)]
    Status(#[from] crate::status::StatusError),
    /// Mission files ([`crate::mission`]).
    #[error(transparent)]
    Mission(Box<crate::mission::MissionError>),
}

crate::error::wraps!(WorkspaceError {
    Mission(crate::mission::MissionError)
});

impl Diagnose for WorkspaceError {
    /// The typed error underneath a wrapped one, which speaks for itself.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        use WorkspaceError::*;
        Some(match self {
            Git(e) => e,
            Fs(e) => e,
            Lock(e) => e,
            Confine(e) => e,
            Lanes(e) => e,
            Tasks(e) => e,
            Status(e) => e,
            Mission(e) => e.as_ref(),
            _ => return None,
        })
    }

    fn kind(&self) -> Kind {
        if let Some(e) = self.wrapped() {
            return e.kind();
        }
        match self {
            WorkspaceError::LaneVanished { .. } => Kind::Internal,
            _ => Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            WorkspaceError::NoLanes { slug } => {
                format!("run `spec-kitty agent mission finalize-tasks --mission {slug}` first")
            }
            WorkspaceError::NotInAnyLane { slug, .. } => {
                format!("re-run `spec-kitty agent mission finalize-tasks --mission {slug}`")
            }
            WorkspaceError::NeedsGit { .. } => "run `git init` and make a first commit, or mark the WP execution_mode: planning_artifact".into(),
            WorkspaceError::NoCommonHistory { target } => {
                format!("check `git log {target}` and the lane branch")
            }
            WorkspaceError::DirtyForDependencies { worktree, .. } => format!(
                "nothing was changed: commit or stash the changes in {worktree}, then run this again"
            ),
            WorkspaceError::OtherBranch { path, branch, .. } => {
                format!("switch it back with `git -C {path} switch {branch}`")
            }
            WorkspaceError::Detached { path, branch, .. } => format!(
                "keep any commits you made there on a branch, then `git -C {path} switch {branch}`"
            ),
            WorkspaceError::Foreign { branch, .. } => format!(
                "move it out of .worktrees/ and run this again (the lane worktree is recreated on {branch})"
            ),
            WorkspaceError::IndexLocked { lock, .. } => format!(
                "if no git command is running in that worktree, remove the lock (`rm {}`) and run this again",
                lock.display()
            ),
            WorkspaceError::Broken { branch, .. } => format!(
                "move it away, run `git worktree prune`, and run this again (it is recreated on {branch}; commits on the branch are kept)"
            ),
            WorkspaceError::NoTarget { .. } => "create it (make a first commit), or set target_branch in the mission's meta.json".into(),
            WorkspaceError::CreateWorktree { name, .. } => format!(
                "check `git worktree list`; `git worktree prune` clears stale entries for {name}"
            ),
            WorkspaceError::NoLaneBranch { .. } => {
                "it is created by `spec-kitty agent action implement`".into()
            }
            WorkspaceError::MissingApproved { lane, .. } => format!(
                "fetch the branch of {lane} (`git fetch` from the clone where it was approved), then run this again"
            ),
            WorkspaceError::DependencyConflict(c) => format!(
                "nothing was changed. Two lanes changed the same files, so ownership was broken: merge {commit} into {branch} yourself (`git merge {commit}` in the lane worktree), or fix owned_files and re-run finalize-tasks",
                commit = c.commit,
                branch = c.branch,
            ),
            WorkspaceError::AdvanceWorktree { .. } => {
                "commit or stash the changes there, then run this again".into()
            }
            WorkspaceError::ProjectFilesUncommitted { add, .. } => format!(
                "commit them once, then run this again: `git add {} && git commit -m \"Add spec-kitty project files\"`",
                add.join(" ")
            ),
            WorkspaceError::NothingReady { slug } => format!(
                "see `spec-kitty agent tasks status --mission {slug}` (planned WPs wait for their dependencies, and for their lane's worktree to be free)"
            ),
            WorkspaceError::Waiting { .. } => {
                "finish those first; `spec-kitty next` names what is ready".into()
            }
            WorkspaceError::NotPlanned { wp, slug, .. } => format!(
                "to redo it, send it back: `spec-kitty agent tasks move-task {wp} --to planned --review-feedback \"why\" --mission {slug}`"
            ),
            WorkspaceError::ClaimedBy { .. }
            | WorkspaceError::ClaimedJustNow { .. }
            | WorkspaceError::TakenForReview { .. } => {
                "ask `spec-kitty next` for other work".into()
            }
            WorkspaceError::NothingToReview { .. } => "work packages reach for_review with `move-task WPxx --to for_review`; nobody is handed their own work to review".into(),
            WorkspaceError::NotForReview { .. } => "only for_review work can be reviewed".into(),
            WorkspaceError::Git(_)
            | WorkspaceError::Fs(_)
            | WorkspaceError::Lock(_)
            | WorkspaceError::Confine(_)
            | WorkspaceError::Lanes(_)
            | WorkspaceError::Tasks(_)
            | WorkspaceError::Status(_)
            | WorkspaceError::Mission(_) => return self.wrapped().and_then(Diagnose::hint),
            WorkspaceError::LaneVanished { .. }
            | WorkspaceError::PlanningHasNoBranch
            | WorkspaceError::NotACommit { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_failed_worktree_creation_keeps_the_git2_error() {
        use std::error::Error as _;
        let e = Error::from(WorkspaceError::CreateWorktree {
            path: "/p/.worktrees/001-x-lane-a".into(),
            name: "001-x-lane-a".into(),
            source: Box::new(git2::Error::from_str("exists").into()),
        });
        assert_eq!(
            e.message,
            "cannot create worktree /p/.worktrees/001-x-lane-a: exists"
        );
        assert!(e.hint.as_deref().unwrap().contains("git worktree prune"));
        let Some(WorkspaceError::CreateWorktree { source, .. }) = e.typed::<WorkspaceError>()
        else {
            panic!("not typed: {e:?}")
        };
        assert_eq!(source.git_message(), "exists");
        assert!(e.source().unwrap().source().is_some(), "git2 kept inside");
    }

    #[test]
    fn messages_and_kinds_follow_the_class() {
        let e = Error::from(WorkspaceError::MissingApproved {
            wp: "WP01".into(),
            commit: "0123456789abcdef0123".into(),
            lane: "lane-a".into(),
        });
        assert_eq!(
            e.message,
            "WP01 was approved at commit 0123456789ab, which this repository does not have"
        );
        assert_eq!(e.kind, Kind::User);
        let e = Error::from(WorkspaceError::LaneVanished {
            lane: "lane-b".into(),
        });
        assert_eq!(e.kind, Kind::Internal);
        assert!(e.hint.is_none());
    }

    #[test]
    fn workspace_calls_fail_with_the_typed_variant() {
        let tmp = tempfile::tempdir().unwrap();
        let project = crate::project::Project::at(tmp.path());
        let Err(e) = super::super::open_main(&project) else {
            panic!("opened a repository in a plain directory")
        };
        assert!(matches!(e, WorkspaceError::NeedsGit { .. }), "{e:?}");
        assert!(e.hint().unwrap().contains("git init"));
        git2::Repository::init(tmp.path()).unwrap();
        let project = crate::project::Project::at(tmp.path());
        let repo = super::super::open_main(&project).unwrap();
        let e = super::super::commit_diff(&repo, "nope", "nope", 10).unwrap_err();
        assert!(matches!(
            &e,
            WorkspaceError::NotACommit { id } if id == "nope"
        ));
        let e = Error::from(e);
        assert_eq!(e.message, "\"nope\" is not a commit id");
    }

    #[test]
    fn handing_out_failures_keep_their_messages_and_hints() {
        let e = Error::from(WorkspaceError::NotPlanned {
            wp: "WP02".into(),
            lane: crate::status::Lane::Done,
            slug: "001-x".into(),
        });
        assert_eq!(
            e.message,
            "WP02 is done; only planned work can be implemented"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("to redo it, send it back: `spec-kitty agent tasks move-task WP02 --to planned --review-feedback \"why\" --mission 001-x`")
        );
        assert_eq!(e.kind, Kind::User);
        let e = Error::from(WorkspaceError::ClaimedJustNow {
            wp: "WP01".into(),
            owner: "claude".into(),
        });
        assert_eq!(e.message, "WP01 was claimed by claude a moment ago");
        assert_eq!(
            e.hint.as_deref(),
            Some("ask `spec-kitty next` for other work")
        );
    }

    #[test]
    fn wrapped_errors_speak_for_themselves_and_stay_typed() {
        let lock = crate::fsutil::LockError::Timeout {
            what: "the lane worktree".into(),
            path: "/p/.kittify/locks/worktree.lock".into(),
            waited: std::time::Duration::from_secs(1),
        };
        let direct = Error::from(crate::fsutil::LockError::Timeout {
            what: "the lane worktree".into(),
            path: "/p/.kittify/locks/worktree.lock".into(),
            waited: std::time::Duration::from_secs(1),
        });
        let e = Error::from(WorkspaceError::from(lock));
        assert_eq!(e.message, direct.message);
        assert_eq!(e.hint, direct.hint);
        assert_eq!(e.kind, direct.kind);
        assert!(matches!(
            e.typed::<WorkspaceError>(),
            Some(WorkspaceError::Lock(
                crate::fsutil::LockError::Timeout { .. }
            ))
        ));
        // A git failure reads `git: ...` whether shown on its own or wrapped
        // by a module that calls the workspace.
        let ws = WorkspaceError::from(GitError::from(git2::Error::from_str("bad ref")));
        assert_eq!(ws.to_string(), "git: bad ref");
        let m = Error::from(crate::ops::OpError::from(ws));
        assert_eq!(m.message, "git: bad ref");
    }
}
