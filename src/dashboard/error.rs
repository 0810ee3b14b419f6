//! Why starting, finding or stopping a dashboard failed: [`DashboardError`],
//! with [`Diagnose`] beside it; and why a page could not show a file:
//! [`ReadProblem`].

use std::path::PathBuf;
use std::process::ExitStatus;

use crate::error::{Diagnose, Kind};
use crate::fsutil::FsError;

/// A failure of the dashboard's own process management (the pages themselves
/// never fail a command: what they cannot read is a [`ReadProblem`] on the page).
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// Writing `.kittify/.dashboard`.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// The operating system gave no random bytes for the access token.
    #[error("no random bytes for the dashboard token: {0}")]
    NoRandom(#[source] getrandom::Error),
    /// No port could be bound; `what` names the port or the range tried,
    /// `last` is the error of the last attempt.
    #[error("cannot listen on 127.0.0.1 {what}: {}", last_error(.last))]
    Bind {
        what: String,
        #[source]
        last: Option<std::io::Error>,
    },
    /// The bound listener could not be set up (`step` says which part).
    #[error("{step}: {source}")]
    Listener {
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot start the file watcher thread: {0}")]
    Watcher(#[source] std::io::Error),
    /// The HTTP server stopped with an error.
    #[error("dashboard server: {0}")]
    Serve(#[source] std::io::Error),
    #[error("cannot find this executable: {0}")]
    CurrentExe(#[source] std::io::Error),
    #[error("cannot start the dashboard process: {0}")]
    Spawn(#[source] std::io::Error),
    /// The background process ended before it answered.
    #[error("the background dashboard exited at once ({status})")]
    ExitedAtOnce { status: ExitStatus },
    /// The background process runs but never answered.
    #[error("the background dashboard (PID {pid}) did not answer within 15 s")]
    NoAnswer { pid: u32 },
    #[error("the dashboard on port {port} refused the shutdown request")]
    ShutdownRefused { port: u16 },
    #[error("the dashboard on port {port} accepted the shutdown but is still running")]
    StillRunning { port: u16 },
    #[error("dashboard process {pid} did not stop after SIGTERM")]
    IgnoredSigterm { pid: u32 },
    /// No browser could be started for `url`.
    #[error("cannot open a browser with `{program}`: {source}")]
    Browser {
        program: &'static str,
        url: String,
        #[source]
        source: std::io::Error,
    },
}

fn last_error(last: &Option<std::io::Error>) -> String {
    last.as_ref().map(|e| e.to_string()).unwrap_or_default()
}

impl Diagnose for DashboardError {
    fn kind(&self) -> Kind {
        match self {
            DashboardError::Fs(e) => e.kind(),
            DashboardError::Bind { .. }
            | DashboardError::ExitedAtOnce { .. }
            | DashboardError::ShutdownRefused { .. }
            | DashboardError::StillRunning { .. }
            | DashboardError::IgnoredSigterm { .. }
            | DashboardError::Browser { .. } => Kind::User,
            DashboardError::NoRandom(_)
            | DashboardError::Listener { .. }
            | DashboardError::Runtime(_)
            | DashboardError::Watcher(_)
            | DashboardError::Serve(_)
            | DashboardError::CurrentExe(_)
            | DashboardError::Spawn(_)
            | DashboardError::NoAnswer { .. } => Kind::Internal,
        }
    }

    fn message(&self) -> String {
        match self {
            DashboardError::Fs(e) => e.message(),
            _ => self.to_string(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            DashboardError::Fs(e) => e.hint(),
            DashboardError::Bind { .. } => Some("pick a free port with --port N".into()),
            DashboardError::ExitedAtOnce { .. } => {
                Some("run `spec-kitty dashboard` in the foreground to see why".into())
            }
            DashboardError::Browser { url, .. } => Some(format!("open {url} yourself")),
            _ => None,
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            DashboardError::Fs(e) => e.details(),
            _ => None,
        }
    }
}

/// Why a page cannot show a file (shown on the page as "<file>: <problem>").
#[derive(Debug, thiserror::Error)]
pub enum ReadProblem {
    /// Its real location (links resolved) is outside the project.
    #[error("links outside the project; not read")]
    OutsideProject { real: PathBuf },
    /// Bigger than [`super::model::MAX_TEXT_FILE`].
    #[error("is larger than {} MiB; not shown", .limit >> 20)]
    TooLarge { limit: u64 },
    /// The operating system refused to resolve or read it.
    #[error("cannot be read: {0}")]
    Unreadable(#[source] std::io::Error),
    /// A directory that could not be listed.
    #[error("{0}")]
    Unlisted(#[source] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::error::Error as _;

    #[test]
    fn bind_failure_keeps_the_last_io_error_and_the_hint() {
        let e = DashboardError::Bind {
            what: "port 1".into(),
            last: Some(std::io::Error::from(std::io::ErrorKind::AddrInUse)),
        };
        assert!(e.source().is_some());
        let err = Error::from(e);
        assert_eq!(err.kind, Kind::User);
        assert_eq!(err.hint.as_deref(), Some("pick a free port with --port N"));
        assert!(err
            .message
            .starts_with("cannot listen on 127.0.0.1 port 1: "));
        assert!(matches!(
            err.typed::<DashboardError>(),
            Some(DashboardError::Bind { last: Some(_), .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_project_is_a_typed_read_problem() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let root_real = std::fs::canonicalize(root.path()).unwrap();
        std::fs::write(outside.path().join("secret.md"), "x").unwrap();
        let link = root_real.join("spec.md");
        std::os::unix::fs::symlink(outside.path().join("secret.md"), &link).unwrap();
        let problem = super::super::model::read_confined(&root_real, &link).unwrap_err();
        assert!(matches!(problem, ReadProblem::OutsideProject { .. }));
        assert_eq!(problem.to_string(), "links outside the project; not read");
        let big = root_real.join("big.md");
        let limit = super::super::model::MAX_TEXT_FILE;
        std::fs::File::create(&big)
            .unwrap()
            .set_len(limit + 1)
            .unwrap();
        let problem = super::super::model::read_confined(&root_real, &big).unwrap_err();
        assert!(matches!(problem, ReadProblem::TooLarge { .. }));
        assert_eq!(problem.to_string(), "is larger than 4 MiB; not shown");
    }

    #[test]
    fn wrapped_fs_errors_keep_their_own_diagnosis() {
        let fs = FsError::ReadOnly {
            path: PathBuf::from("/p/.kittify/.dashboard"),
        };
        let (kind, message, hint) = (fs.kind(), fs.message(), fs.hint());
        let e = DashboardError::from(fs);
        assert_eq!((e.kind(), e.message(), e.hint()), (kind, message, hint));
        assert!(matches!(e, DashboardError::Fs(FsError::ReadOnly { .. })));
    }
}
