//! Why tasks.md, a WP file or finalize-tasks failed: [`TasksError`], with
//! [`Diagnose`] beside it. Every message names the file and, where known, the
//! line (`path:line: ...`).

use std::path::{Path, PathBuf};

use crate::error::{located, Diagnose, Kind};
use crate::fsutil::{FsError, LockError};

fn at(path: &Path, line: Option<usize>) -> String {
    located(path, line)
}

/// A failure reading, checking or finalizing a mission's work packages.
#[derive(Debug, thiserror::Error)]
pub enum TasksError {
    /// The operating system failed on the tasks directory.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Two WP files carry one id.
    #[error("{}: duplicate work package id {id}: {} has it too", .path.display(), .other.display())]
    DuplicateWpFile {
        path: PathBuf,
        id: String,
        other: PathBuf,
    },
    #[error("{}: not a work package file name", .path.display())]
    NotWpFileName { path: PathBuf },
    #[error("{}:1: missing YAML frontmatter: the file must start with a `---` line and the frontmatter must end with another `---` line", .path.display())]
    NoFrontmatter { path: PathBuf },
    #[error("{}:2: the frontmatter is {size} bytes, over the {max}-byte limit", .path.display())]
    FrontmatterTooBig {
        path: PathBuf,
        size: usize,
        max: usize,
    },
    #[error("{}:{line}: the frontmatter nests `[`/`{{` deeper than {max} levels", .path.display())]
    FrontmatterTooDeep {
        path: PathBuf,
        line: usize,
        max: usize,
    },
    #[error("{}:2: frontmatter must be a YAML mapping (key: value lines)", .path.display())]
    FrontmatterNotMapping { path: PathBuf },
    #[error("{}: malformed frontmatter: {source}", at(.path, *.line))]
    FrontmatterYaml {
        path: PathBuf,
        line: Option<usize>,
        #[source]
        source: serde_yaml::Error,
    },
    /// A list field (dependencies, owned_files, ...) holds something else.
    #[error("{}: `{key}` must be a list, found {found}", at(.path, *.line))]
    FieldNotList {
        path: PathBuf,
        line: Option<usize>,
        key: &'static str,
        found: &'static str,
    },
    /// A list field holds a nested list or mapping.
    #[error("{}: `{key}` must be a list of plain values; one entry is {found}", at(.path, *.line))]
    FieldEntryNotPlain {
        path: PathBuf,
        line: Option<usize>,
        key: &'static str,
        found: &'static str,
    },
    /// A text field holds a list or mapping.
    #[error("{}: `{key}` must be text, found {found}", at(.path, *.line))]
    FieldNotText {
        path: PathBuf,
        line: Option<usize>,
        key: &'static str,
        found: &'static str,
    },
    /// serde_yaml could not render a frontmatter (a bug).
    #[error("cannot serialise frontmatter of {}: {source}", .path.display())]
    SerializeFrontmatter {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    /// serde_yaml could not render one key (a bug).
    #[error("cannot serialise `{key}` for {}: {source}", .path.display())]
    SerializeKey {
        path: PathBuf,
        key: String,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("{}:{line}: {id} has a second section (the first is at line {first})", .path.display())]
    DuplicateSection {
        path: PathBuf,
        line: usize,
        id: String,
        first: usize,
    },
    #[error("{}:{line}: {id} has a section but no prompt file", .path.display())]
    OrphanSection {
        path: PathBuf,
        line: usize,
        id: String,
    },
    #[error("{}: {wp}: `{dep}` is not a work package id", at(.path, *.line))]
    DependencyNotWpId {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
        dep: String,
    },
    #[error("{}: {wp} depends on itself", at(.path, *.line))]
    SelfDependency {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
    },
    #[error("{}: {wp} depends on {dep}, which does not exist", at(.path, *.line))]
    UnknownDependency {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
        dep: String,
        known: Vec<String>,
    },
    #[error("{}: {wp} refers to {requirement}, which spec.md does not define", at(.path, *.line))]
    UnknownRequirement {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
        requirement: String,
    },
    #[error("{}: {wp}: an owned_files entry is {len} bytes long (at most {max})", at(.path, *.line))]
    OwnedGlobTooLong {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
        len: usize,
        max: usize,
    },
    #[error("{}: {wp}: owned_files entry `{glob}` {why}", at(.path, *.line))]
    OwnedGlobEscapes {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
        glob: String,
        why: &'static str,
    },
    #[error("{}: {wp}: subtask `{subtask}` is not {}", at(.path, *.line), crate::ids::IdKind::Subtask.grammar())]
    BadSubtaskId {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
        subtask: String,
    },
    #[error("{}: dependency cycle: {}", .path.display(), .cycle.join(" -> "))]
    DependencyCycle { path: PathBuf, cycle: Vec<String> },
    /// The new plan would move started work out of the lane whose worktree
    /// holds it.
    #[error("{}: the new plan would move started work to another lane, so nothing was written: {}", .lanes_file.display(), .problems.join("; "))]
    ReplanMovesStartedWork {
        lanes_file: PathBuf,
        slug: String,
        problems: Vec<String>,
    },
    #[error("{}: {wp}: authoritative_surface is empty", at(.path, *.line))]
    EmptySurface {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
    },
    #[error("{}: {wp}: authoritative_surface `{surface}` is not inside any owned_files glob ({})", at(.path, *.line), .owned.join(", "))]
    SurfaceOutsideOwned {
        path: PathBuf,
        line: Option<usize>,
        wp: String,
        surface: String,
        owned: Vec<String>,
    },
    /// Two WPs that may run at once own overlapping paths.
    #[error("{}: {a} ('{}') and {b} ('{}') can run in parallel but own overlapping paths", at(.path, *.line), .globs.0, .globs.1)]
    OverlappingOwnership {
        path: PathBuf,
        line: Option<usize>,
        a: String,
        b: String,
        /// The overlapping globs of `a` and of `b` (boxed: the error stays small).
        globs: Box<(String, String)>,
    },
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Lock(#[from] LockError),
}

impl Diagnose for TasksError {
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            TasksError::Fs(e) => e,
            TasksError::Lock(e) => e,
            _ => return None,
        })
    }

    fn kind(&self) -> Kind {
        match self {
            TasksError::SerializeFrontmatter { .. } | TasksError::SerializeKey { .. } => {
                Kind::Internal
            }
            _ => self.wrapped().map_or(Kind::User, Diagnose::kind),
        }
    }

    fn hint(&self) -> Option<String> {
        use TasksError::*;
        Some(match self {
            Io { path, source, .. } => return crate::error::io_hint(path, source.kind()),
            DuplicateWpFile { .. } => "give each WP file its own id (WP01, WP02, ...)".into(),
            NotWpFileName { .. } => "name it WPxx-short-title.md (e.g. WP01-setup.md)".into(),
            FrontmatterTooBig { .. } => {
                "keep long text in the body below the closing `---`".into()
            }
            FrontmatterTooDeep { .. } => "frontmatter values are flat lists and text".into(),
            FieldNotList { path, key, .. }
            | FieldEntryNotPlain { path, key, .. }
            | FieldNotText { path, key, .. } => {
                format!("fix `{key}` in the frontmatter of {}", path.display())
            }
            DuplicateSection { .. } => "merge the two sections or renumber one of them".into(),
            OrphanSection { id, .. } => format!(
                "create tasks/{id}-<short-title>.md with `work_package_id: {id}` frontmatter, or remove the section"
            ),
            DependencyNotWpId { .. } => "dependencies are WP ids such as WP01".into(),
            SelfDependency { .. } => "remove it from its own dependencies".into(),
            UnknownDependency { known, .. } => {
                format!("known work packages: {}", known.join(", "))
            }
            UnknownRequirement { .. } => {
                "add the requirement to spec.md or fix the reference".into()
            }
            OwnedGlobTooLong { .. } => {
                "owned_files are paths or globs such as src/module/**".into()
            }
            OwnedGlobEscapes { .. } => "owned_files are paths or globs relative to the repository root, such as src/module/**".into(),
            BadSubtaskId { .. } => {
                "subtask ids are T and digits (T001); they appear in the commands agents run"
                    .into()
            }
            DependencyCycle { .. } => "remove one of the dependencies in the cycle".into(),
            ReplanMovesStartedWork { slug, .. } => format!(
                "keep those work packages' dependencies and owned files as they were; or, once their lane's work is committed, send them back with `spec-kitty agent tasks move-task <WP> --to planned --mission {slug} --note \"re-plan\"` and finalize again"
            ),
            EmptySurface { .. } => {
                "set it to the directory the WP mainly changes, e.g. src/module/".into()
            }
            SurfaceOutsideOwned { .. } => {
                "make it the common directory of owned_files, or add the path to owned_files"
                    .into()
            }
            OverlappingOwnership { a, b, .. } => {
                format!("narrow owned_files in one of them, or make {b} depend on {a}")
            }
            NoFrontmatter { .. }
            | FrontmatterNotMapping { .. }
            | FrontmatterYaml { .. }
            | SerializeFrontmatter { .. }
            | SerializeKey { .. } => return None,
            Fs(_) | Lock(_) => return self.wrapped().and_then(Diagnose::hint),
        })
    }

    fn details(&self) -> Option<serde_json::Value> {
        self.wrapped().and_then(Diagnose::details)
    }
}

pub(crate) type Result<T, E = TasksError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks_md::WpFile;
    use std::error::Error as _;

    #[test]
    fn wp_file_failures_are_typed_and_keep_their_source() {
        let p = Path::new("tasks/WP02-b.md");
        let e = WpFile::parse(p, "---\ntitle: [unclosed\n---\n").unwrap_err();
        assert!(
            matches!(&e, TasksError::FrontmatterYaml { line: Some(_), .. }),
            "{e:?}"
        );
        assert!(e.source().unwrap().is::<serde_yaml::Error>());
        assert!(e.to_string().starts_with("tasks/WP02-b.md:"), "{e}");

        let e = WpFile::parse(p, "no frontmatter").unwrap_err();
        assert!(matches!(e, TasksError::NoFrontmatter { .. }), "{e:?}");
        assert_eq!(crate::Error::from(e).hint, None);

        let e = WpFile::parse(p, "---\nwork_package_id: WP02\nowned_files:\n  a: b\n---\n")
            .unwrap_err();
        assert!(
            matches!(
                e,
                TasksError::FieldNotList {
                    key: "owned_files",
                    found: "a mapping",
                    line: Some(3),
                    ..
                }
            ),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert_eq!(
            e.message,
            "tasks/WP02-b.md:3: `owned_files` must be a list, found a mapping"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("fix `owned_files` in the frontmatter of tasks/WP02-b.md")
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tasks");
        std::fs::write(&file, "not a directory").unwrap();
        let e = crate::tasks_md::load_all(&file).unwrap_err();
        assert!(matches!(e, TasksError::Io { action: "read", .. }), "{e:?}");
        assert!(e.source().unwrap().is::<std::io::Error>());
    }

    #[test]
    fn over_the_bounds_reads_as_before() {
        let p = Path::new("tasks/WP01-a.md");
        let deep = format!("---\nx: {}\n---\n", "[".repeat(65));
        let e = WpFile::parse(p, &deep).unwrap_err();
        assert!(
            matches!(
                e,
                TasksError::FrontmatterTooDeep {
                    line: 2,
                    max: 64,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "tasks/WP01-a.md:2: the frontmatter nests `[`/`{` deeper than 64 levels"
        );
        let big = format!(
            "---\nx: {}\n---\n",
            "a".repeat(crate::bounds::MAX_FRONTMATTER_BYTES)
        );
        let e = WpFile::parse(p, &big).unwrap_err();
        assert!(matches!(e, TasksError::FrontmatterTooBig { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("tasks/WP01-a.md:2: the frontmatter is "),
            "{e}"
        );
    }

    #[test]
    fn a_lock_error_under_finalize_keeps_its_hint() {
        let lock = TasksError::from(LockError::Timeout {
            what: "finalize-tasks for this mission".into(),
            path: "/x/finalize.lock".into(),
            waited: std::time::Duration::from_secs(1),
        });
        assert!(lock.hint().unwrap().contains("another spec-kitty process"));
    }
}
