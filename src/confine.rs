//! The one place that decides whether spec-kitty may delete something.
//!
//! Every removal of a directory tree or a file that repo content can name goes
//! through [`confined`]: the path, after following symlinks, must lie inside one
//! of the project's own areas ([`Area`]), and a lane worktree must also be one
//! that git lists as a worktree of this repository. Anything else is refused
//! with a message saying what was found and how to clean it up by hand; nothing
//! is removed.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Diagnose;
use crate::git::Repo;
use crate::project::Project;
use crate::shell::{printable, printable_path};

/// Why a removal was refused or failed. Every refusal removed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    /// The operating system failed while looking at or removing `path`.
    #[error("cannot {action} {}: {source}", printable_path(.path))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link where a lane worktree or mission directory (or the
    /// folder that holds them) should be.
    #[error("refusing to {verb} {}: it is a symbolic link, not {what} (it points to {})", printable_path(.path), printable(.target))]
    Symlink {
        /// `remove` or `create`.
        verb: &'static str,
        path: PathBuf,
        what: &'static str,
        target: String,
    },
    /// The directory resolves somewhere other than directly inside `allowed`.
    #[error("refusing to {verb} {}: it resolves to {}, which is not directly inside {}", printable_path(.path), printable_path(.real), printable_path(.allowed))]
    NotDirectlyInside {
        /// `remove` or `create`.
        verb: &'static str,
        path: PathBuf,
        real: PathBuf,
        allowed: PathBuf,
    },
    /// git does not list the directory as a worktree of the project.
    #[error("refusing to remove {}: git does not list it as a worktree of {} (`git worktree list`)", printable_path(.path), printable_path(.root))]
    NotAWorktree { path: PathBuf, root: PathBuf },
    /// A directory where a file was to be removed.
    #[error("refusing to remove {}: it is a directory", printable_path(.path))]
    IsDirectory { path: PathBuf },
    /// The path has no parent directory to resolve.
    #[error("refusing to remove {}: it has no parent directory", printable_path(.path))]
    NoParent { path: PathBuf },
    /// The file's directory resolves outside the project.
    #[error("refusing to remove {}: its directory resolves to {}, outside the project", printable_path(.path), printable_path(.parent))]
    Outside { path: PathBuf, parent: PathBuf },
}

impl Diagnose for ConfineError {
    fn hint(&self) -> Option<String> {
        match self {
            ConfineError::Io { path, source, .. } => crate::error::io_hint(path, source.kind()),
            ConfineError::Symlink { verb: "create", path, .. }
            | ConfineError::NotDirectlyInside { verb: "create", path, .. } => Some(format!(
                "spec-kitty only creates lane worktrees and missions in the project's own folders; replace {} with a real folder inside the project (or remove it) and run the command again",
                printable_path(path)
            )),
            _ => Some("spec-kitty only removes what it created inside the project; look at it and remove it by hand if it should go".into()),
        }
    }
}

type Result<T, E = ConfineError> = std::result::Result<T, E>;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ConfineError {
    let path = path.to_path_buf();
    move |source| ConfineError::Io {
        action,
        path,
        source,
    }
}

/// Where a removal may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// A lane worktree: a direct child of `<root>/.worktrees/` that git lists as
    /// one of this repository's worktrees.
    Worktree,
    /// A mission directory: a direct child of `<root>/kitty-specs/`.
    MissionDir,
    /// A file (or a link itself, never its target) anywhere under the project
    /// root or the git common directory, reached without leaving them.
    ProjectFile,
}

/// Check that removing `path` stays inside `area` of `project`; returns the
/// canonical path to remove. `Ok(None)` when nothing is there.
pub fn confined(project: &Project, path: &Path, area: Area) -> Result<Option<PathBuf>> {
    check(project, None, path, area)
}

/// [`confined`], asking the command's open repository (the main checkout's)
/// which worktrees git lists instead of opening it again.
pub fn confined_in(
    project: &Project,
    repo: &Repo,
    path: &Path,
    area: Area,
) -> Result<Option<PathBuf>> {
    check(project, Some(repo), path, area)
}

fn check(
    project: &Project,
    repo: Option<&Repo>,
    path: &Path,
    area: Area,
) -> Result<Option<PathBuf>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("inspect", path)(e)),
    };
    let path_buf = || path.to_path_buf();
    let root = canonical(&project.root)?;
    match area {
        Area::Worktree | Area::MissionDir => {
            let (parent, what) = match area {
                Area::Worktree => (".worktrees", "a lane worktree"),
                _ => ("kitty-specs", "a mission directory"),
            };
            if meta.file_type().is_symlink() {
                return Err(ConfineError::Symlink {
                    verb: "remove",
                    path: path_buf(),
                    what,
                    target: fs::read_link(path)
                        .map(|t| t.display().to_string())
                        .unwrap_or_default(),
                });
            }
            let real = canonical(path)?;
            let allowed = root.join(parent);
            if real.parent() != Some(allowed.as_path()) || canonical(&allowed)? != allowed {
                return Err(ConfineError::NotDirectlyInside {
                    verb: "remove",
                    path: path_buf(),
                    real,
                    allowed,
                });
            }
            if area == Area::Worktree && !listed_worktree(project, repo, &real) {
                return Err(ConfineError::NotAWorktree {
                    path: path_buf(),
                    root: project.root.clone(),
                });
            }
            Ok(Some(real))
        }
        Area::ProjectFile => {
            if meta.is_dir() {
                return Err(ConfineError::IsDirectory { path: path_buf() });
            }
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(ConfineError::NoParent { path: path_buf() });
            };
            let parent = canonical(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })?;
            let inside = parent.starts_with(&root)
                || project
                    .git_common_dir
                    .as_deref()
                    .and_then(|g| canonical(g).ok())
                    .is_some_and(|g| parent.starts_with(g));
            if !inside {
                return Err(ConfineError::Outside {
                    path: path_buf(),
                    parent,
                });
            }
            Ok(Some(parent.join(name)))
        }
    }
}

/// Check that creating the directory `path` in `area` (a lane worktree or a
/// mission directory) stays inside the project exactly as removing it would:
/// the area's folder (`.worktrees/`, `kitty-specs/`) is missing or a real
/// directory that resolves to `<root>/<folder>` (never a link, even to a
/// place inside), and `path` is missing or a real directory directly inside
/// it. Returns the canonical path to create. Nothing is created.
pub fn creatable(project: &Project, path: &Path, area: Area) -> Result<PathBuf> {
    let (folder, what) = match area {
        Area::Worktree => (".worktrees", "a lane worktree"),
        Area::MissionDir => ("kitty-specs", "a mission directory"),
        Area::ProjectFile => {
            return Err(ConfineError::IsDirectory {
                path: path.to_path_buf(),
            })
        }
    };
    let root = canonical(&project.root)?;
    let allowed = root.join(folder);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(ConfineError::NoParent {
            path: path.to_path_buf(),
        });
    };
    let not_inside = |p: &Path, real: PathBuf| ConfineError::NotDirectlyInside {
        verb: "create",
        path: p.to_path_buf(),
        real,
        allowed: allowed.clone(),
    };
    for (p, what) in [(parent, "a folder of the project"), (path, what)] {
        match fs::symlink_metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("inspect", p)(e)),
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::canonicalize(p)
                    .or_else(|_| fs::read_link(p))
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                return Err(ConfineError::Symlink {
                    verb: "create",
                    path: p.to_path_buf(),
                    what,
                    target,
                });
            }
            Ok(_) => {
                let real = canonical(p)?;
                let ok = if p == parent {
                    real == allowed
                } else {
                    real.parent() == Some(allowed.as_path())
                };
                if !ok {
                    return Err(not_inside(p, real));
                }
            }
        }
    }
    // A missing folder is created by us as a real one; its parent is the root.
    if parent.parent().map(canonical).transpose()?.as_deref() != Some(root.as_path()) {
        let real = canonical(parent.parent().unwrap_or(parent))?;
        return Err(not_inside(parent, real));
    }
    Ok(allowed.join(name))
}

fn canonical(p: &Path) -> Result<PathBuf> {
    fs::canonicalize(p).map_err(io("resolve", p))
}

/// Does git list `real` (a canonical path) as a worktree of this repository?
/// Asks `repo` when the command has it open, else opens the project's.
fn listed_worktree(project: &Project, repo: Option<&Repo>, real: &Path) -> bool {
    let paths = match repo {
        Some(repo) => repo.worktree_paths(),
        None => crate::git::worktree::registered_paths(&project.root),
    };
    paths
        .iter()
        .any(|p| fs::canonicalize(p).is_ok_and(|p| p == real))
}

/// Remove a lane worktree (checked by [`confined`]) and its git registration.
/// A registration whose directory is already gone is pruned. Returns whether a
/// directory was removed.
pub fn remove_worktree(project: &Project, name: &str, path: &Path) -> Result<bool> {
    match Repo::open(&project.root) {
        Ok(repo) => remove_worktree_in(project, &repo, name, path),
        // No repository: nothing git lists, nothing to prune.
        Err(_) => Ok(match confined(project, path, Area::Worktree)? {
            Some(real) => {
                fs::remove_dir_all(&real).map_err(io("remove", &real))?;
                true
            }
            None => false,
        }),
    }
}

/// [`remove_worktree`] with the command's open repository (the main
/// checkout's), which is asked and pruned instead of opening it again.
pub fn remove_worktree_in(project: &Project, repo: &Repo, name: &str, path: &Path) -> Result<bool> {
    let removed = match confined_in(project, repo, path, Area::Worktree)? {
        Some(real) => {
            fs::remove_dir_all(&real).map_err(io("remove", &real))?;
            true
        }
        None => false,
    };
    repo.drop_worktree(name);
    Ok(removed)
}

/// Remove a mission directory (checked by [`confined`]).
pub fn remove_mission_dir(project: &Project, dir: &Path) -> Result<bool> {
    match confined(project, dir, Area::MissionDir)? {
        Some(real) => {
            fs::remove_dir_all(&real).map_err(io("remove", &real))?;
            crate::fsutil::note_written(&real);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Remove one file (a link itself, never its target) inside the project or its
/// git directory (checked by [`confined`]). Returns whether it existed.
pub fn remove_file(project: &Project, path: &Path) -> Result<bool> {
    match confined(project, path, Area::ProjectFile)? {
        Some(real) => match fs::remove_file(&real) {
            Ok(()) => {
                crate::fsutil::note_written(&real);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io("remove", path)(e)),
        },
        None => Ok(false),
    }
}

/// Remove a lane worktree folder that `git worktree add` left behind when it
/// was killed before the worktree was registered, so it can be made again.
/// `name` is the worktree's registered name (`<mission>-<lane>`), `path` the
/// folder. Returns whether it was removed; `false` (nothing touched) unless
/// every one of these holds:
///
/// - `path` is a real directory (not a link) directly inside `.worktrees/`
///   and named `name`, and git does not list it as a worktree;
/// - it is empty or holds only `.git`, a regular file of at most 4 KiB: git
///   creates the folder, then writes that one-line pointer, and only checks
///   files out once the worktree is registered;
/// - git's half-made registration `<git-common-dir>/worktrees/<name>`, if
///   there, is a real directory without `HEAD` (so not a worktree git could
///   use) holding only its `commondir` and `gitdir` pointer files.
///
/// That is why deleting is safe: such a folder holds nothing but pointers git
/// wrote; no checkout ever happened in it, so no one's work can be there. A
/// single other file (an agent's notes, a user's copy) makes it not ours. Files
/// are removed one by one and the directories with `remove_dir`, so anything
/// that appears meanwhile stops the removal instead of going with it.
pub fn remove_cut_short_worktree(project: &Project, name: &str, path: &Path) -> Result<bool> {
    const POINTER_MAX: u64 = 4096;
    let is_small_file = |p: &Path| {
        fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file() && m.len() <= POINTER_MAX)
    };
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(false);
    };
    if !meta.file_type().is_dir() || path.file_name() != Some(std::ffi::OsStr::new(name)) {
        return Ok(false);
    }
    let root = canonical(&project.root)?;
    let allowed = root.join(".worktrees");
    let real = canonical(path)?;
    if real.parent() != Some(allowed.as_path())
        || canonical(&allowed)? != allowed
        || listed_worktree(project, None, &real)
    {
        return Ok(false);
    }
    let entries = fs::read_dir(&real)
        .map_err(io("read", &real))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io("read", &real))?;
    let dotgit = real.join(".git");
    match entries.as_slice() {
        [] => {}
        [one] if one == ".git" && is_small_file(&dotgit) => {}
        _ => return Ok(false),
    }
    let registration = project
        .git_common_dir
        .as_deref()
        .map(|g| g.join("worktrees").join(name));
    let mut pointers = Vec::new();
    if let Some(reg) = registration.as_deref() {
        match fs::symlink_metadata(reg) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("inspect", reg)(e)),
            Ok(m) if !m.file_type().is_dir() => return Ok(false),
            Ok(_) => {
                for entry in fs::read_dir(reg).map_err(io("read", reg))? {
                    let entry = entry.map_err(io("read", reg))?;
                    let file = entry.path();
                    let known = entry.file_name() == "commondir" || entry.file_name() == "gitdir";
                    if !known || !is_small_file(&file) {
                        return Ok(false);
                    }
                    pointers.push(file);
                }
            }
        }
    }
    if entries.len() == 1 {
        fs::remove_file(&dotgit).map_err(io("remove", &dotgit))?;
    }
    fs::remove_dir(&real).map_err(io("remove", &real))?;
    if let Some(reg) = registration.filter(|r| r.exists()) {
        for file in &pointers {
            fs::remove_file(file).map_err(io("remove", file))?;
        }
        fs::remove_dir(&reg).map_err(io("remove", &reg))?;
    }
    Ok(true)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_typed_and_remove_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        fs::create_dir_all(root.join(".kittify")).unwrap();
        fs::create_dir_all(root.join(".worktrees")).unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        let project = Project::at(&root);
        let link = root.join(".worktrees/001-a-lane-a");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let e = remove_worktree(&project, "001-a-lane-a", &link).unwrap_err();
        assert!(
            matches!(
                &e,
                ConfineError::Symlink {
                    what: "a lane worktree",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(outside.exists());
        let e = crate::Error::from(e);
        assert!(
            e.message.starts_with("refusing to remove "),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("remove it by hand"));

        let file = outside.join("f");
        fs::write(&file, "keep").unwrap();
        let e = remove_file(&project, &file).unwrap_err();
        assert!(matches!(e, ConfineError::Outside { .. }), "{e:?}");
        assert!(file.exists());
    }

    #[test]
    fn an_io_failure_keeps_its_source() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let project = Project::at(&dir.path().join("gone"));
        let p = dir.path().join("f");
        fs::write(&p, "x").unwrap();
        let e = confined(&project, &p, Area::ProjectFile).unwrap_err();
        assert!(
            matches!(
                e,
                ConfineError::Io {
                    action: "resolve",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .downcast_ref::<std::io::Error>()
            .is_some());
    }
}
