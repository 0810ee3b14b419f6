//! The failures of making and handing out lane workspaces that are the
//! workspace module's own: each class with its data, message (`Display`),
//! hint and kind beside it ([`Diagnose`]). git2 errors stay git2 errors inside.

use std::path::PathBuf;

use crate::error::{Diagnose, Kind};

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

    #[error("target branch {target} of {slug} does not exist or has no commits")]
    NoTarget { target: String, slug: String },

    #[error("cannot create worktree {}: {}", path.display(), source.message())]
    CreateWorktree {
        path: PathBuf,
        name: String,
        #[source]
        source: git2::Error,
    },

    #[error("planning work has no lane branch")]
    PlanningHasNoBranch,

    #[error("lane branch {branch} does not exist yet")]
    NoLaneBranch { branch: String },

    #[error("{id:?} is not a commit id")]
    NotACommit { id: String },

    /// An approval names a commit this clone does not have.
    #[error("{wp} was approved at commit {}, which this repository does not have", &commit[..12.min(commit.len())])]
    MissingApproved {
        wp: String,
        commit: String,
        lane: String,
    },

    /// Merging a dependency's approved work into the lane branch conflicts.
    #[error("{for_wp} needs {wp}'s work from {lane}, but merging it into {branch} conflicts in: {}", files.join(", "))]
    DependencyConflict {
        for_wp: String,
        wp: String,
        lane: String,
        branch: String,
        commit: String,
        files: Vec<String>,
    },

    #[error("cannot update {} to the merged work: {}", worktree.display(), source.message())]
    AdvanceWorktree {
        worktree: PathBuf,
        #[source]
        source: git2::Error,
    },

    #[error(transparent)]
    Git(#[from] git2::Error),
}

impl Diagnose for WorkspaceError {
    fn kind(&self) -> Kind {
        match self {
            WorkspaceError::LaneVanished { .. } => Kind::Internal,
            _ => Kind::User,
        }
    }

    fn message(&self) -> String {
        match self {
            WorkspaceError::Git(e) => Diagnose::message(e),
            _ => self.to_string(),
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
            WorkspaceError::DependencyConflict { branch, commit, .. } => format!(
                "nothing was changed. Two lanes changed the same files, so ownership was broken: merge {commit} into {branch} yourself (`git merge {commit}` in the lane worktree), or fix owned_files and re-run finalize-tasks"
            ),
            WorkspaceError::AdvanceWorktree { .. } => {
                "commit or stash the changes there, then run this again".into()
            }
            WorkspaceError::Git(e) => return e.hint(),
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
            source: git2::Error::from_str("exists"),
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
        assert_eq!(source.message(), "exists");
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
        assert!(
            matches!(
                e.typed::<WorkspaceError>(),
                Some(WorkspaceError::NeedsGit { .. })
            ),
            "{e:?}"
        );
        assert!(e.hint.as_deref().unwrap().contains("git init"));
        git2::Repository::init(tmp.path()).unwrap();
        let project = crate::project::Project::at(tmp.path());
        let e = super::super::commit_diff(&project, "nope", "nope", 10).unwrap_err();
        assert!(matches!(
            e.typed::<WorkspaceError>(),
            Some(WorkspaceError::NotACommit { id }) if id == "nope"
        ));
        assert_eq!(e.message, "\"nope\" is not a commit id");
    }
}
