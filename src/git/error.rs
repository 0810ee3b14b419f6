//! The failures of the git layer: each class with its data, message
//! (`Display`), hint and kind beside it ([`Diagnose`]). Modules above wrap a
//! [`GitError`] whole; a libgit2 failure stays a `git2::Error` inside
//! ([`GitError::Git`]).

use std::path::PathBuf;

use git2::Oid;

use crate::error::{io_hint, Diagnose, Kind};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("the repository has no working tree")]
    NoWorkdir,

    /// A directory that should lie inside the repository's working tree.
    #[error("{} is outside the project {}", dir.display(), root.display())]
    OutsideProject { dir: PathBuf, root: PathBuf },

    #[error("git has no identity to commit with: user.name and user.email are not set")]
    NoCommitIdentity,

    #[error("the main checkout is on a detached HEAD; there is no branch to commit on")]
    DetachedHead,

    #[error("the branch {name} has no commit yet; there is nothing to add a record to")]
    UnbornBranch { name: String },

    #[error("branch {branch} does not exist")]
    NoBranch { branch: String },

    /// `refs/heads/<branch>.lock` is there and is not provably a lock a killed
    /// spec-kitty commit left: nothing was committed.
    #[error("nothing committed on {branch}: git's lock file {} exists (a git command is updating {branch}, or one was killed while it did)", lock.display())]
    RefLocked { branch: String, lock: PathBuf },

    /// The main checkout's `.git/index.lock` is there and is not provably one
    /// a killed spec-kitty command left: nothing was changed.
    #[error("git's index lock {} exists (a git command is writing the index of the main checkout, or one was killed while it did)", lock.display())]
    IndexLocked { lock: PathBuf },

    /// The branch moved between reading its tip and locking it.
    #[error("nothing committed on {branch}: it moved while spec-kitty was committing (now {}, was {})", super::short(*now), super::short(*before))]
    BranchMoved {
        branch: String,
        now: Oid,
        before: Oid,
    },

    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An atomic write through [`crate::fsutil`].
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),

    /// The lock spec-kitty's own commits take in turn ([`super::commit::lock_commits`]).
    #[error(transparent)]
    Lock(#[from] crate::fsutil::LockError),

    /// A libgit2 failure, shown as `git: <what git said>`.
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
}

pub type Result<T, E = GitError> = std::result::Result<T, E>;

impl GitError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        GitError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// libgit2's error class code, when this is a libgit2 failure.
    pub fn code(&self) -> Option<git2::ErrorCode> {
        match self {
            GitError::Git(e) => Some(e.code()),
            _ => None,
        }
    }
}

impl Diagnose for GitError {
    /// The error of another module this one only carries.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        match self {
            GitError::Fs(e) => Some(e),
            GitError::Lock(e) => Some(e),
            _ => None,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            GitError::OutsideProject { .. } => Kind::Internal,
            e => e.wrapped().map_or(Kind::User, Diagnose::kind),
        }
    }

    fn hint(&self) -> Option<String> {
        if let Some(inner) = self.wrapped() {
            return inner.hint();
        }
        Some(match self {
            GitError::NoCommitIdentity => "set them, e.g. `git config user.name \"Your Name\"` and `git config user.email you@example.com`".into(),
            GitError::RefLocked { lock, .. } => format!(
                "if no git command is running, remove it (`rm {}`), then run the command again; the files stay uncommitted until then (`spec-kitty agent mission record --mission <slug>` commits them)",
                lock.display()
            ),
            GitError::IndexLocked { lock } => format!(
                "if no git command is running in this repository, remove it (`rm {}`), then run the command again",
                lock.display()
            ),
            GitError::BranchMoved { .. } => {
                "run the command again; it commits on top of the new tip".into()
            }
            GitError::DetachedHead => {
                "switch to a branch (`git switch <branch>`) and run the command again".into()
            }
            GitError::UnbornBranch { .. } => {
                "make a first commit of the project (`git add -A && git commit`)".into()
            }
            GitError::Io { path, source, .. } => return io_hint(path, source.kind()),
            GitError::Git(e) => return locked_hint(e),
            GitError::NoWorkdir
            | GitError::OutsideProject { .. }
            | GitError::NoBranch { .. }
            | GitError::Fs(_)
            | GitError::Lock(_) => return None,
        })
    }

    fn details(&self) -> Option<serde_json::Value> {
        self.wrapped().and_then(Diagnose::details)
    }
}

/// How to get past a libgit2 failure, where there is a known way: a lock
/// another git command holds (or a killed one left).
fn locked_hint(e: &git2::Error) -> Option<String> {
    (e.code() == git2::ErrorCode::Locked).then(|| {
        "another git command holds that lock, or a killed one left it behind; if no git command is running in this repository, remove the .lock file named above".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_git2_error_stays_a_git2_error_inside() {
        use std::error::Error as _;
        let e = Error::from(GitError::from(git2::Error::from_str("bad ref")));
        assert_eq!(e.message, "git: bad ref");
        let Some(GitError::Git(g)) = e.typed::<GitError>() else {
            panic!("not typed")
        };
        assert_eq!(g.message(), "bad ref");
        assert!(e.source().is_some());
    }

    /// The crate error's old reading of a libgit2 failure is GitError's own:
    /// `git: <message>`, a user error, and the lock hint for a held lock.
    #[test]
    fn a_held_lock_gets_the_lock_hint() {
        let locked = git2::Error::new(
            git2::ErrorCode::Locked,
            git2::ErrorClass::Reference,
            "failed to lock file 'x.lock' for writing",
        );
        let e = Error::from(GitError::from(locked));
        assert_eq!(e.message, "git: failed to lock file 'x.lock' for writing");
        assert_eq!(e.kind, Kind::User);
        assert!(e
            .hint
            .unwrap()
            .contains("remove the .lock file named above"));
        let other = Error::from(GitError::from(git2::Error::from_str("bad ref")));
        assert_eq!(other.hint, None);
        assert_eq!(other.kind, Kind::User);
    }

    #[test]
    fn kinds_and_hints_follow_the_class() {
        let e = Error::from(GitError::OutsideProject {
            dir: "/elsewhere".into(),
            root: "/r".into(),
        });
        assert_eq!(e.kind, Kind::Internal);
        let e = Error::from(GitError::IndexLocked {
            lock: "/r/.git/index.lock".into(),
        });
        assert_eq!(e.kind, Kind::User);
        assert!(e.hint.unwrap().contains("rm /r/.git/index.lock"));
    }
}
