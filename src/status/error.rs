//! Why a status operation failed: [`StatusError`], with [`Diagnose`] beside it.

use std::path::PathBuf;

use serde_json::json;

use super::Lane;
use crate::confine::ConfineError;
use crate::error::{Diagnose, Kind};
use crate::fsutil::{FsError, LockError};
use crate::lanes::LanesError;
use crate::tasks_md::TasksError;

/// A failure of the status log, the transition rules, the board or the merge
/// drivers. Errors of the layers below are kept whole as the source.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The operating system failed on the event log.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A merge of the mission holds it (its state file exists): the work
    /// packages it lands are not moved under it.
    #[error("{wp_id} was not moved: a merge of {slug} holds the mission (it is landing the approved work packages)")]
    MergeHoldsMission { slug: String, wp_id: String },
    /// `implement` prepared a lane that a re-plan took the WP out of.
    #[error("{wp_id} was not claimed: the lanes were re-planned while its workspace in {lane} was prepared; it is now in {}", now.as_deref().unwrap_or("no lane"))]
    Replanned {
        wp_id: String,
        lane: String,
        now: Option<String>,
    },
    /// A review or an approval of work whose hand-in commit this clone does
    /// not have (the lane branch was never fetched here).
    #[error(
        "{wp} cannot be reviewed or approved here: its hand-in commit {} is not in this clone",
        short_id(commit)
    )]
    MissingHandIn {
        wp: String,
        commit: String,
        /// The exact command that brings it here (names the lane branch).
        fetch: String,
    },
    /// Input that names no lane.
    #[error("unknown lane {input:?}")]
    UnknownLane { input: String },
    /// The mission has no WP of that id.
    #[error("{slug} has no work package {id}")]
    NoSuchWp {
        slug: String,
        id: String,
        /// The WP ids the mission does have.
        known: Vec<String>,
    },
    /// A move of a WP that has no bootstrap event.
    #[error("{wp_id} has no status yet in {}", .log.display())]
    NoStatusYet { wp_id: String, log: PathBuf },
    /// A move the transition table or one of its guards refuses.
    #[error("cannot move {wp} {from} -> {to}: {problem} (rule: {rule}; {wp} is {from})")]
    Refused {
        wp: String,
        from: Lane,
        to: Lane,
        rule: String,
        /// What is missing, in words.
        problem: String,
        /// The command that satisfies the rule.
        command: String,
    },
    /// `--force` without an actor or a reason.
    #[error("a forced move needs an actor and a reason")]
    ForceWithoutReason,
    /// An event log (`label` names it: a path, or base/ours/theirs) is not UTF-8.
    #[error("{label}: not UTF-8 text ({source})")]
    LogNotUtf8 {
        label: String,
        #[source]
        source: std::str::Utf8Error,
    },
    /// A line of an event log is not JSON.
    #[error("{label}: invalid JSON on line {line}: {source}")]
    LogJson {
        label: String,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    /// A line of an event log is JSON but not an object.
    #[error("{label}: line {line} is not a JSON object")]
    LogNotObject { label: String, line: usize },
    /// A line of an event log lacks `event_id` or `at`.
    #[error("{label}: line {line} has no valid {key}")]
    LogMissingKey {
        label: String,
        line: usize,
        key: &'static str,
    },
    /// A merge driver refused its input: not its own format, or a conflict it
    /// cannot resolve. `file` is the path git is merging (`%P`), or says that
    /// git did not pass it; "ours" was left untouched.
    #[error("{}: {}", crate::shell::printable(.file), crate::shell::printable(.reason))]
    DriverRefused { file: String, reason: String },
    /// A merge driver met a conflict it cannot resolve in its own format
    /// (`file` as in [`StatusError::DriverRefused`]); "ours" was left untouched.
    #[error("{}: {source}", crate::shell::printable(.file))]
    DriverConflict {
        file: String,
        #[source]
        source: Box<StatusError>,
    },
    /// Two events with one id and different payloads.
    #[error(
        "conflicting payloads for event_id {event_id:?}: two different events carry the same id"
    )]
    ConflictingEvent { event_id: String },
    /// `git merge-file` could not be started.
    #[error("cannot run git merge-file for {}: {source}", .dir.display())]
    MergeFileSpawn {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `git merge-file` ended abnormally.
    #[error("git merge-file failed: {stderr}")]
    MergeFileFailed { stderr: String },
    /// A pending move record could not be serialised (a bug).
    #[error("{0}")]
    Serialize(#[source] serde_json::Error),
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A git failure ([`crate::git`]), shown as `git: <what git said>`.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Confine(#[from] ConfineError),
    #[error(transparent)]
    Lanes(#[from] LanesError),
    #[error(transparent)]
    Tasks(#[from] TasksError),
}

impl Diagnose for StatusError {
    /// The typed error underneath a wrapped one, for delegation.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            StatusError::Fs(e) => e,
            StatusError::Lock(e) => e,
            StatusError::Git(e) => e,
            StatusError::Confine(e) => e,
            StatusError::DriverConflict { source, .. } => source.as_ref(),
            StatusError::Lanes(e) => e,
            StatusError::Tasks(e) => e,
            _ => return None,
        })
    }

    /// A driver conflict says which file git was merging before the
    /// reason; every other wrapped error speaks for itself.
    fn message(&self) -> String {
        match (self, self.wrapped()) {
            (StatusError::DriverConflict { .. }, _) | (_, None) => self.to_string(),
            (_, Some(e)) => e.message(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            StatusError::MergeFileFailed { .. } | StatusError::Serialize(_) => Kind::Internal,
            _ => self.wrapped().map_or(Kind::User, Diagnose::kind),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            StatusError::Io { path, source, .. } => crate::error::io_hint(path, source.kind()),
            StatusError::MergeHoldsMission { slug, .. } => Some(format!(
                "let the merge finish (if it stopped: `spec-kitty merge --mission {slug} --continue`), or undo it with `spec-kitty merge --mission {slug} --abort`; then move the work package again"
            )),
            StatusError::Replanned { wp_id, .. } => Some(format!(
                "run `spec-kitty agent action implement {wp_id}` again: it prepares the lane of the new plan"
            )),
            StatusError::UnknownLane { .. } => Some(format!(
                "lanes are: {} (and `doing` for in_progress)",
                super::LANES
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            StatusError::NoSuchWp { known, .. } => Some(if known.is_empty() {
                "the mission has no tasks/WPxx-*.md files yet".to_string()
            } else {
                format!("known work packages: {}", known.join(", "))
            }),
            StatusError::MissingHandIn { fetch, .. } => Some(format!(
                "fetch it: `{fetch}`, then run this again (a review shows and an approval records exactly that commit)"
            )),
            StatusError::NoStatusYet { .. } => {
                Some("run `spec-kitty agent mission finalize-tasks` to initialise it".into())
            }
            StatusError::Refused { command, .. } => Some(format!(
                "{command}; or override with --force --reason \"why\" (recorded in the event)"
            )),
            StatusError::ForceWithoutReason => {
                Some("pass --force together with --reason \"why\" (and --agent)".into())
            }
            StatusError::ConflictingEvent { .. } => Some(
                "one side rewrote an event; keep the right line by hand, then `git add` the log"
                    .into(),
            ),
            StatusError::LogJson { source, .. } if source.is_eof() => Some(
                "that line is an event cut short (a crash or a full disk); `spec-kitty agent mission repair-status` drops it and reports it"
                    .into(),
            ),
            StatusError::DriverRefused { .. } => Some(
                "git keeps the file as a conflict: resolve it by hand. spec-kitty's merge drivers only merge their own files (status.events.jsonl, status.json, tasks/WP*.md); if .gitattributes routes other files to them, remove those lines".into(),
            ),
            StatusError::MergeFileSpawn { dir, source } => {
                crate::error::io_hint(dir, source.kind())
            }
            _ => self.wrapped().and_then(Diagnose::hint),
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            StatusError::Refused {
                rule,
                from,
                to,
                command,
                ..
            } => Some(json!({
                "rule": rule,
                "current_lane": from.as_str(),
                "requested_lane": to.as_str(),
                "command": command,
            })),
            _ => self.wrapped().and_then(Diagnose::details),
        }
    }
}

pub(crate) type Result<T, E = StatusError> = std::result::Result<T, E>;

/// Attach an action and a path to an `io::Result`.
pub(crate) fn io(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> StatusError {
    let path = path.to_path_buf();
    move |source| StatusError::Io {
        action,
        path,
        source,
    }
}

fn short_id(c: &str) -> &str {
    c.get(..12).unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{logmerge, transitions, TransitionContext};
    use std::error::Error as _;

    #[test]
    fn refusals_and_bad_input_are_typed() {
        let e = Lane::parse("sideways").unwrap_err();
        assert!(matches!(&e, StatusError::UnknownLane { input } if input == "sideways"));
        let e = crate::Error::from(e);
        assert_eq!(e.message, "unknown lane \"sideways\"");
        assert!(e.hint.unwrap().starts_with("lanes are: planned, "));

        let ctx = TransitionContext {
            actor: "codex".into(),
            wp_id: "WP01".into(),
            mission_slug: "001-x".into(),
            ..Default::default()
        };
        let e = transitions::validate(Lane::Planned, Lane::Done, false, &ctx).unwrap_err();
        assert!(
            matches!(&e, StatusError::Refused { rule, from: Lane::Planned, to: Lane::Done, .. } if rule == "no-skipping"),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        let details = e.details.as_deref().unwrap();
        assert_eq!(details["rule"], "no-skipping");
        assert_eq!(details["requested_lane"], "done");
        assert!(e.hint.unwrap().ends_with("(recorded in the event)"));
    }

    #[test]
    fn a_bad_log_line_keeps_the_json_error() {
        let e =
            logmerge::read("ours", b"{\"event_id\": \"E\", \"at\": \"t\"}\n{oops\n").unwrap_err();
        assert!(
            matches!(&e, StatusError::LogJson { label, line: 2, .. } if label == "ours"),
            "{e:?}"
        );
        assert!(e.source().unwrap().is::<serde_json::Error>());
        assert!(
            e.to_string().starts_with("ours: invalid JSON on line 2: "),
            "{e}"
        );
    }

    #[test]
    fn wrapped_errors_stay_whole_and_read_the_same() {
        // A git failure stays a git2::Error inside, with the house wording.
        let e = StatusError::from(crate::git::GitError::from(git2::Error::from_str("bad ref")));
        assert_eq!(e.to_string(), "git: bad ref");
        let lib = crate::Error::from(e);
        assert_eq!(lib.message, "git: bad ref");
        let typed = lib.typed::<StatusError>().unwrap();
        assert!(typed.source().unwrap().is::<git2::Error>());

        // A WP lookup in a mission without WP files names what exists.
        let dir = tempfile::tempdir().unwrap();
        let mission = crate::mission::Mission::load(&dir.path().join("001-x"));
        let e = crate::status::ops::find_wp(&mission, "wp09").unwrap_err();
        assert!(
            matches!(&e, StatusError::NoSuchWp { id, known, .. } if id == "WP09" && known.is_empty()),
            "{e:?}"
        );
        assert_eq!(
            e.hint().as_deref(),
            Some("the mission has no tasks/WPxx-*.md files yet")
        );

        // An fs error inside keeps its kind and hint.
        let e = StatusError::from(FsError::Io {
            action: "read",
            path: "/x/status.events.jsonl".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(
            e.hint().as_deref(),
            Some("check the permissions of /x/status.events.jsonl")
        );
        assert!(e.source().unwrap().is::<std::io::Error>());
    }
}
