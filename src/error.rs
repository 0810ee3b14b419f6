//! The library error type, and the one place typed core errors (git, lock
//! errors) become it: exit code (kind), message and hint, with the typed error
//! kept as the source.
//!
//! Every error carries a [`Kind`] (which decides the exit code) and an optional
//! hint telling the user how to fix it. Messages name the file and, where known,
//! the line.

use std::fmt;
use std::path::Path;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, from the user's point of view. Decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad input, missing files, refused transitions: exit 1.
    User,
    /// Bad command-line usage: exit 2.
    Usage,
    /// A bug or an environment failure we did not expect: exit 3.
    Internal,
}

impl Kind {
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::User => 1,
            Kind::Usage => 2,
            Kind::Internal => 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    /// Extra machine-readable fields merged into the `--json` error object.
    pub details: Option<Box<serde_json::Value>>,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            details: None,
            source: None,
        }
    }

    /// A user-facing error: bad input or a refused operation (exit 1).
    pub fn user(message: impl Into<String>) -> Self {
        Self::new(Kind::User, message)
    }

    /// A usage error: wrong flags or arguments (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    /// Something we did not expect (exit 3).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// An I/O failure on `path`, phrased for a human: "cannot read <path>: <why>".
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        let hint = io_hint(path, err.kind());
        let mut e = Error::new(
            Kind::User,
            format!("cannot {action} {}: {err}", path.display()),
        )
        .with_source(err);
        e.hint = hint;
        e
    }

    /// A parse failure in `path` (optionally at `line`).
    pub fn parse(path: &Path, line: Option<usize>, what: impl fmt::Display) -> Self {
        match line {
            Some(n) => Error::user(format!("{}:{n}: {what}", path.display())),
            None => Error::user(format!("{}: {what}", path.display())),
        }
    }
}

/// `path:line`, or `path` when the line is not known: how messages name a place
/// in a file.
pub fn located(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(n) => format!("{}:{n}", path.display()),
        None => path.display().to_string(),
    }
}

/// How to fix an I/O failure of `kind` on `path`, where there is a known fix.
pub fn io_hint(path: &Path, kind: std::io::ErrorKind) -> Option<String> {
    match kind {
        std::io::ErrorKind::PermissionDenied => {
            Some(format!("check the permissions of {}", path.display()))
        }
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge => {
            Some("free some disk space and run the command again".to_string())
        }
        _ => None,
    }
}

/// The 1-based line a TOML parse error points at in `text`, if it says. A span
/// off a char boundary or past the end counts as the last line, never a panic.
pub fn toml_error_line(text: &str, e: &toml::de::Error) -> Option<usize> {
    e.span()
        .map(|s| text.get(..s.start).unwrap_or(text).lines().count().max(1))
}

/// Helper trait: attach a path to an `io::Result`.
pub trait IoContext<T> {
    fn with_path(self, action: &str, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn with_path(self, action: &str, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(action, path.as_ref(), e))
    }
}

/// A typed core error that knows how it reads to a user. Each core module
/// defines a `thiserror` enum for its failures and implements this beside it:
/// the `Display` text is the message (naming file, line and field), `kind`
/// decides the exit code, `hint` says how to fix it, `details` adds fields to
/// the `--json` error object. Any such error converts into [`Error`] with `?`,
/// in one place (the blanket `From` below), and stays its `source`, so a caller
/// can still downcast to the typed error.
///
/// Wrapping is one mechanism: an enum that keeps another module's error whole
/// (a variant holding `FsError`, `Box<MissionError>`...) returns it from
/// [`Diagnose::wrapped`], and the provided methods speak for it: its kind,
/// message, hint and details. An enum overrides a method only for its own
/// variants (and falls back to the provided one for the rest). The boxed
/// `From`s of such variants are written with [`wraps!`]. An error wraps only
/// errors of its own floor or the floors below.
pub trait Diagnose: std::error::Error + Send + Sync + 'static {
    /// The error of another module this one keeps whole, if it is one.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        None
    }
    /// The exit code's kind: the wrapped error's, else a user error.
    fn kind(&self) -> Kind {
        self.wrapped().map_or(Kind::User, Diagnose::kind)
    }
    /// The one-line message: the wrapped error's, else the error's `Display`.
    fn message(&self) -> String {
        self.wrapped()
            .map_or_else(|| self.to_string(), Diagnose::message)
    }
    /// How to fix it: the wrapped error's hint, else none.
    fn hint(&self) -> Option<String> {
        self.wrapped().and_then(Diagnose::hint)
    }
    /// Fields for the `--json` error object: the wrapped error's, else none.
    fn details(&self) -> Option<serde_json::Value> {
        self.wrapped().and_then(Diagnose::details)
    }
}

/// `From` for the variants of an error enum that keep another module's error
/// boxed (the enum stays small): `wraps!(OpError { Mission(MissionError) })`
/// writes `impl From<MissionError> for OpError` building
/// `OpError::Mission(Box::new(e))`.
macro_rules! wraps {
    ($outer:ident { $($variant:ident($t:ty)),* $(,)? }) => {$(
        impl From<$t> for $outer {
            fn from(e: $t) -> Self {
                $outer::$variant(Box::new(e))
            }
        }
    )*};
}
pub(crate) use wraps;

impl<E: Diagnose> From<E> for Error {
    fn from(e: E) -> Self {
        Error {
            kind: e.kind(),
            message: e.message(),
            hint: e.hint(),
            details: e.details().map(Box::new),
            source: Some(Box::new(e)),
        }
    }
}

impl Error {
    /// The typed core error this one was made from, if it was one of `E`.
    pub fn typed<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.source.as_deref().and_then(|s| s.downcast_ref::<E>())
    }
}

#[cfg(test)]
mod tests {
    use super::toml_error_line;

    #[test]
    fn toml_error_line_counts_lines_and_survives_multibyte_text() {
        let text = "a = 1\nb = \"é\"\nc = [\n";
        let e = text.parse::<toml::Table>().unwrap_err();
        assert_eq!(toml_error_line(text, &e), Some(3));
        let text = "ééé = \"x\" y\n";
        let e = text.parse::<toml::Table>().unwrap_err();
        assert_eq!(toml_error_line(text, &e), Some(1));
    }

    #[test]
    fn typed_errors_keep_their_source() {
        use std::error::Error as _;
        let g = crate::git::GitError::from(git2::Error::from_str("bad ref"));
        let e = super::Error::from(g);
        assert_eq!(e.message, "git: bad ref");
        let src = e.source().expect("source kept");
        assert!(
            src.downcast_ref::<crate::git::GitError>().is_some(),
            "{src:?}"
        );
        assert!(src.source().unwrap().is::<git2::Error>(), "{src:?}");

        let lock = crate::fsutil::LockError::Io {
            action: "open lock file",
            path: "/x/y.lock".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let e = super::Error::from(lock);
        assert!(
            e.message.starts_with("cannot open lock file /x/y.lock"),
            "{}",
            e.message
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("check the permissions of /x/y.lock")
        );
        assert!(e
            .source()
            .unwrap()
            .downcast_ref::<crate::fsutil::LockError>()
            .is_some());
    }

    /// One wrapping mechanism: a wrapper's provided methods speak for the
    /// error it keeps (message, kind, hint, details), through `wrapped()`.
    #[test]
    fn a_wrapper_speaks_for_the_error_it_keeps() {
        use super::Diagnose;
        let lock = || crate::fsutil::LockError::Io {
            action: "open lock file",
            path: "/x/y.lock".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let inner = super::Error::from(lock());
        let status = crate::status::StatusError::from(lock());
        let op = crate::ops::OpError::from(crate::status::StatusError::from(lock()));
        for (d, what) in [(&status as &dyn Diagnose, "status"), (&op, "op")] {
            assert_eq!(d.message(), inner.message, "{what}");
            assert_eq!(d.kind(), inner.kind, "{what}");
            assert_eq!(d.hint(), inner.hint, "{what}");
            assert!(d.wrapped().is_some(), "{what}");
        }
        let git = crate::ops::OpError::from(crate::mission::MissionError::from(
            git2::Error::from_str("bad ref"),
        ));
        assert_eq!(super::Error::from(git).message, "git: bad ref");
    }

    #[test]
    fn a_full_disk_gets_its_hint() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = super::Error::io("write", std::path::Path::new("f"), full);
        assert!(e.hint.unwrap().contains("free some disk space"));
        // ENOSPC from the OS is the same kind.
        #[cfg(target_os = "linux")]
        {
            let raw = std::io::Error::from_raw_os_error(28);
            let e = super::Error::io("write", std::path::Path::new("f"), raw);
            assert!(e.hint.unwrap().contains("free some disk space"));
        }
    }
}
