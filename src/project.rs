//! Finding the project: the main checkout that holds `.kittify/` and
//! `kitty-specs/`, also when a command runs inside a lane worktree.
//!
//! Discovery reads a few small files (`.git` pointers, `HEAD`) and never starts
//! libgit2, so it costs microseconds.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Diagnose;

/// Why no project could be found.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// Neither `start` nor any parent holds `.kittify/`.
    #[error("not inside a spec-kitty project: no .kittify/ directory in {} or any parent", .start.display())]
    NotAProject { start: PathBuf },
}

impl Diagnose for ProjectError {
    fn hint(&self) -> Option<String> {
        match self {
            ProjectError::NotAProject { .. } => {
                Some("run `spec-kitty init` to set one up, or cd into an existing project".into())
            }
        }
    }
}

/// A spec-kitty project, found once per command.
#[derive(Debug, Clone)]
pub struct Project {
    /// The main checkout: the directory that holds `.kittify/`.
    pub root: PathBuf,
    /// The lane worktree the command runs in, if any.
    pub worktree: Option<PathBuf>,
    /// The git common directory (`<root>/.git` for a normal repo), if this is a git repo.
    pub git_common_dir: Option<PathBuf>,
}

impl Project {
    /// Find the project that contains `start`. The search starts from the
    /// canonical path (links resolved), so a linked folder inside a project is
    /// never a project of its own, whatever it holds, and the root found is
    /// canonical: the confinement root of every write of the command
    /// ([`crate::fsutil::fix_confinement_root`]).
    pub fn discover(start: &Path) -> Result<Project, ProjectError> {
        let start = absolute(start);
        let start = fs::canonicalize(&start).unwrap_or(start);
        let mut dir: Option<&Path> = Some(&start);
        while let Some(d) = dir {
            let dotgit = d.join(".git");
            if dotgit.is_file() {
                // A linked worktree: follow the pointer back to the main checkout.
                if let Some(common) = worktree_common_dir(&dotgit) {
                    // The main checkout holds the git directory as `.git` ...
                    let mut main_root = common
                        .parent()
                        .filter(|r| r.join(".kittify").is_dir() && r.join(".git") == common)
                        .map(Path::to_path_buf);
                    // ... or, when it keeps it elsewhere (a submodule, or
                    // --separate-git-dir), holds this lane worktree in `.worktrees/`.
                    if main_root.is_none() {
                        main_root = d
                            .parent()
                            .filter(|p| p.file_name().is_some_and(|n| n == ".worktrees"))
                            .and_then(Path::parent)
                            .filter(|r| {
                                r.join(".kittify").is_dir()
                                    && git_dir_of(r).is_some_and(|g| same_dir(&g, &common))
                            })
                            .map(Path::to_path_buf);
                    }
                    if let Some(root) = main_root {
                        return Ok(Project {
                            root,
                            worktree: Some(d.to_path_buf()),
                            git_common_dir: Some(common),
                        });
                    }
                }
            }
            if d.join(".kittify").is_dir() {
                return Ok(Project {
                    root: d.to_path_buf(),
                    worktree: None,
                    git_common_dir: git_dir_of(d),
                });
            }
            dir = d.parent();
        }
        Err(ProjectError::NotAProject { start })
    }

    /// Build a project rooted at `root` without searching (used right after
    /// `init`). The root is canonical when it exists.
    pub fn at(root: &Path) -> Project {
        let root = absolute(root);
        let root = fs::canonicalize(&root).unwrap_or(root);
        let git_common_dir = git_dir_of(&root);
        Project {
            root,
            worktree: None,
            git_common_dir,
        }
    }

    pub fn kittify_dir(&self) -> PathBuf {
        self.root.join(".kittify")
    }

    pub fn specs_dir(&self) -> PathBuf {
        self.root.join("kitty-specs")
    }

    pub fn worktrees_dir(&self) -> PathBuf {
        self.root.join(".worktrees")
    }

    pub fn is_git(&self) -> bool {
        self.git_common_dir.is_some()
    }

    /// Where lock files for shared state live: inside the git common directory
    /// (shared by every worktree and never shown by `git status`), or
    /// `.kittify/.locks/` in a project without git.
    pub fn locks_dir(&self) -> PathBuf {
        match &self.git_common_dir {
            Some(common) => common.join("spec-kitty-locks"),
            None => self.kittify_dir().join(".locks"),
        }
    }

    /// The state file of a merge of mission `slug` in progress
    /// (`<git-common-dir>/spec-kitty-merge/<slug>.json`); while it exists the
    /// merge holds the mission and no other command moves its work packages.
    /// None without git. `slug` must be a validated mission slug.
    pub fn merge_state_path(&self, slug: &str) -> Option<PathBuf> {
        self.git_common_dir
            .as_ref()
            .map(|c| c.join("spec-kitty-merge").join(format!("{slug}.json")))
    }

    /// Where agent prompt files go: `<git-common-dir>/spec-kitty/prompts/` (never
    /// shown by `git status`, shared by the worktrees), or
    /// `.kittify/runtime/prompts/` (git-ignored by `init`) without git.
    pub fn prompts_dir(&self) -> PathBuf {
        match &self.git_common_dir {
            Some(common) => common.join("spec-kitty").join("prompts"),
            None => self.kittify_dir().join("runtime").join("prompts"),
        }
    }

    /// The branch checked out in the main checkout, if any (None when detached or not git).
    pub fn current_branch(&self) -> Option<String> {
        let head = fs::read_to_string(self.git_common_dir.as_ref()?.join("HEAD")).ok()?;
        head.trim()
            .strip_prefix("ref: refs/heads/")
            .map(str::to_string)
    }
}

/// The project's `.kittify/metadata.yaml` and this binary disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSkew {
    ProjectOlder { project: String, binary: String },
    ProjectNewer { project: String, binary: String },
}

impl VersionSkew {
    /// How a project's recorded `version` and this binary's differ, if they
    /// do (None when equal or when either does not parse).
    pub fn of(version: &str) -> Option<VersionSkew> {
        let ours = crate::VERSION;
        let skew = |project: &str| (project.to_string(), ours.to_string());
        match compare_versions(version, ours)? {
            std::cmp::Ordering::Less => {
                let (project, binary) = skew(version);
                Some(VersionSkew::ProjectOlder { project, binary })
            }
            std::cmp::Ordering::Greater => {
                let (project, binary) = skew(version);
                Some(VersionSkew::ProjectNewer { project, binary })
            }
            std::cmp::Ordering::Equal => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            VersionSkew::ProjectOlder { project, binary } => format!(
                "this project was set up with spec-kitty {project}; you are running {binary}. Run `spec-kitty upgrade` to bring it up to date."
            ),
            VersionSkew::ProjectNewer { project, binary } => format!(
                "this project was set up with spec-kitty {project}, newer than this binary ({binary}). Update spec-kitty before changing project files."
            ),
        }
    }
}

/// Compare two versions (see [`version_key`]). None if either does not parse.
pub fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    Some(version_key(a)?.cmp(&version_key(b)?))
}

/// A release version as a [`semver::Version`] for ordering: SemVer 2.0
/// (`3.2.0-rc.1`, build metadata ignored) or the Python form `3.1.1rc1`,
/// `3.1.1a2`, `3.1.1b1` (read as `3.1.1-rc.1`, `-a.2`, `-b.1`, which order the
/// same way). A leading `v` is allowed. A final release ranks above its
/// pre-releases.
pub fn version_key(v: &str) -> Option<semver::Version> {
    let v = v.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    let mut parsed = semver::Version::parse(v)
        .ok()
        .or_else(|| python_version(v))?;
    parsed.build = semver::BuildMetadata::EMPTY;
    Some(parsed)
}

/// `X.Y.Z` followed by `a`/`alpha`, `b`/`beta` or `rc` and an optional number.
fn python_version(v: &str) -> Option<semver::Version> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (core, pre) = v.split_at(split);
    let pre = pre.to_ascii_lowercase();
    let digits = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
    let (stage, num) = pre.split_at(digits);
    let stage = match stage {
        "a" | "alpha" => "a",
        "b" | "beta" => "b",
        "rc" => "rc",
        _ => return None,
    };
    let num: u64 = if num.is_empty() { 0 } else { num.parse().ok()? };
    semver::Version::parse(&format!("{core}-{stage}.{num}")).ok()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The git directory of a checkout at `root`: `.git` itself, or where a `.git`
/// file points when that is a whole repository's directory (a submodule, or
/// `git init --separate-git-dir`) rather than a linked worktree's.
fn git_dir_of(root: &Path) -> Option<PathBuf> {
    let git = root.join(".git");
    if git.is_dir() {
        return Some(git);
    }
    let text = fs::read_to_string(&git).ok()?;
    let gitdir = text.trim().strip_prefix("gitdir:")?.trim();
    let gitdir = normalize(&absolute_from(root, Path::new(gitdir)));
    (gitdir.join("HEAD").is_file() && !gitdir.join("commondir").exists()).then_some(gitdir)
}

fn worktree_common_dir(dotgit_file: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(dotgit_file).ok()?;
    let gitdir = text.trim().strip_prefix("gitdir:")?.trim();
    let base = dotgit_file.parent()?;
    let gitdir = absolute_from(base, Path::new(gitdir));
    let common = match fs::read_to_string(gitdir.join("commondir")) {
        Ok(c) => absolute_from(&gitdir, Path::new(c.trim())),
        Err(_) => gitdir,
    };
    Some(normalize(&common))
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p)
    } else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        normalize(&cwd.join(p))
    }
}

fn absolute_from(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Lexically normalise `.` and `..` components (no symlink resolution).
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_like_pep440_subset() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("3.1.1", "3.1.1"), Some(Equal));
        assert_eq!(compare_versions("3.1.1a3", "3.1.1"), Some(Less));
        assert_eq!(compare_versions("3.1.1rc1", "3.1.1b2"), Some(Greater));
        assert_eq!(compare_versions("3.1.2", "3.1.10"), Some(Less));
        assert_eq!(compare_versions("v3.0.0", "3.1.1"), Some(Less));
        assert_eq!(compare_versions("3.1", "3.1.1"), None);
        // SemVer pre-releases and build metadata.
        assert_eq!(compare_versions("3.2.0-rc.1", "3.1.1"), Some(Greater));
        assert_eq!(compare_versions("3.2.0-rc.1", "3.2.0"), Some(Less));
        assert_eq!(compare_versions("3.2.0-rc.2", "3.2.0-rc.10"), Some(Less));
        assert_eq!(compare_versions("3.2.0-alpha.1", "3.2.0-beta"), Some(Less));
        assert_eq!(compare_versions("3.1.1+build.7", "3.1.1"), Some(Equal));
        assert_eq!(compare_versions("3.1.1+a", "3.1.1+b"), Some(Equal));
        assert_eq!(compare_versions("3.1.1-rc.1", "3.1.1rc1"), Some(Equal));
        assert_eq!(compare_versions("3.1.1x1", "3.1.1"), None);
    }

    #[test]
    fn outside_a_project_discovery_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = Project::discover(dir.path()).unwrap_err();
        let ProjectError::NotAProject { start } = &e;
        assert_eq!(start, &absolute(dir.path()));
        let e = crate::Error::from(e);
        assert_eq!(e.kind, crate::error::Kind::User);
        assert!(e.hint.unwrap().contains("spec-kitty init"));
    }

    #[test]
    fn a_git_file_pointing_at_a_whole_repository_counts_as_git() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let gd = dir.path().join("gd");
        fs::create_dir_all(root.join(".kittify")).unwrap();
        fs::create_dir_all(&gd).unwrap();
        fs::write(gd.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        fs::write(root.join(".git"), "gitdir: ../gd\n").unwrap();
        let p = Project::discover(&root).unwrap();
        assert_eq!(p.git_common_dir.as_deref(), Some(gd.as_path()));
        assert_eq!(p.current_branch().as_deref(), Some("main"));
        // A linked worktree's gitdir (it has a commondir file) is not taken as the repository.
        fs::write(gd.join("commondir"), "..\n").unwrap();
        assert_eq!(Project::discover(&root).unwrap().git_common_dir, None);
    }

    #[test]
    fn discover_finds_root_from_subdir_and_fails_outside() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        let p = Project::discover(&dir.path().join("a/b")).unwrap();
        assert_eq!(p.root, dir.path());
        let other = tempfile::tempdir().unwrap();
        let err = Project::discover(other.path()).unwrap_err();
        assert!(err.to_string().contains("no .kittify/"));
    }
}
