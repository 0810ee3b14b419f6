//! `repair repair`, `repair worktree` and `list-legacy-features`.
//!
//! `repair repair` looks for the broken slash-command files of the 0.10.0-0.10.8
//! bundling bug (they call `scripts/bash/*.sh` or `scripts/powershell/*.ps1`,
//! which spec-kitty no longer ships) among the files generated for the
//! project's configured agents, and regenerates them, recording the new
//! content in `.kittify/managed-files.json` as `upgrade` does. The reference
//! 3.1.1 never finds anything (its detector is permanently off); ours repairs.
//!
//! `repair worktree` reports, per lane worktree, whether it carries a
//! `kitty-specs/` copy and stale `tasks/*.md` (informational: lane changes
//! always use the main checkout's files). `list-legacy-features` names the
//! one-worktree-per-mission worktrees of pre-0.11 projects.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::init::{commands, manifest};

/// What a broken generated file calls.
const BROKEN_MARKERS: &[&str] = &["scripts/bash/", "scripts/powershell/"];

/// Directory levels walked below a worktree's `kitty-specs/`.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct TemplateRepair {
    pub project_path: PathBuf,
    /// Project-relative paths of the broken files found.
    pub broken: Vec<String>,
    /// Those regenerated (none under dry run).
    pub repaired: Vec<String>,
    pub dry_run: bool,
    pub warnings: Vec<String>,
}

/// The project root `repair repair --project-path` names: `given` (relative
/// to `cwd`) must be a project's root directory, which becomes the command's
/// confinement root. None: the project of `cwd`.
pub fn project_root(cwd: &Path, given: Option<&Path>) -> Result<PathBuf> {
    let Some(p) = given else {
        let project = crate::project::Project::discover(cwd)?;
        fsutil::fix_confinement_root(&project.root);
        return Ok(project.root);
    };
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    let project = crate::project::Project::discover(&p)?;
    if std::fs::canonicalize(&p).ok() != Some(project.root.clone()) {
        return Err(Error::user(format!(
            "{} is not a project's root directory (its project is {})",
            p.display(),
            project.root.display()
        ))
        .with_hint("name the directory that holds .kittify/"));
    }
    fsutil::fix_confinement_root(&project.root);
    Ok(project.root)
}

/// Find (and unless `dry_run`, regenerate) broken slash-command files.
pub fn templates(root: &Path, dry_run: bool) -> Result<TemplateRepair> {
    if !root.join(".kittify").is_dir() {
        return Err(Error::user(format!(
            "{} is not a spec-kitty project (no .kittify/ directory)",
            root.display()
        ))
        .with_hint("run it in a project, or name one with --project-path DIR"));
    }
    let state = crate::init::inspect(root, true, true)?;
    let mut out = TemplateRepair {
        project_path: root.to_path_buf(),
        broken: Vec::new(),
        repaired: Vec::new(),
        dry_run,
        warnings: Vec::new(),
    };
    for key in &state.unknown_configured {
        out.warnings.push(format!(
            ".kittify/config.yaml lists unknown agent '{key}'; its files were not checked"
        ));
    }
    let mut man = manifest::Manifest::load(root)?;
    let mut fixes = Vec::new();
    for agent in &state.configured_agents {
        for cmd in &commands::COMMANDS {
            let rel = commands::rel_path(agent, cmd);
            let path = root.join(&rel);
            let Some(text) = fsutil::read_capped(&path, crate::bounds::MAX_TEXT_BYTES)
                .ok()
                .flatten()
            else {
                continue;
            };
            if BROKEN_MARKERS.iter().any(|m| text.contains(m)) {
                out.broken.push(rel.clone());
                fixes.push((rel, path, commands::render(agent, cmd), agent.key, cmd.name));
            }
        }
    }
    if dry_run || fixes.is_empty() {
        return Ok(out);
    }
    for (rel, path, content, agent, command) in fixes {
        fsutil::atomic_write(&path, content.as_bytes())?;
        man.files.insert(
            rel.clone(),
            manifest::ManagedFile {
                hash: manifest::content_hash(content.as_bytes()),
                agent: agent.to_string(),
                command: command.to_string(),
            },
        );
        out.repaired.push(rel);
    }
    man.spec_kitty_version = crate::VERSION.to_string();
    man.save(root)?;
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct WorktreeState {
    pub name: String,
    pub path: PathBuf,
    pub has_kitty_specs: bool,
    /// `kitty-specs/**/tasks/*.md` copies (stale: lane changes use the main checkout).
    pub stale_task_files: usize,
}

/// Which worktrees `repair worktree` looks at.
pub enum WorktreeScope<'a> {
    All,
    One(&'a Path),
}

/// The kitty-specs state of the chosen worktrees. `All` lists the git
/// worktrees under `.worktrees/` of the main checkout at `main_root`.
pub fn worktrees(main_root: &Path, scope: WorktreeScope) -> Result<Vec<WorktreeState>> {
    let dirs: Vec<PathBuf> = match scope {
        WorktreeScope::One(p) => {
            if !p.is_dir() {
                return Err(Error::user(format!(
                    "worktree path does not exist: {}",
                    p.display()
                )));
            }
            vec![p.to_path_buf()]
        }
        WorktreeScope::All => {
            let base = main_root.join(".worktrees");
            let mut v: Vec<PathBuf> = match std::fs::read_dir(&base) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
                            && p.join(".git").exists()
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            v.sort();
            v
        }
    };
    Ok(dirs
        .into_iter()
        .map(|p| {
            let specs = p.join("kitty-specs");
            let has = std::fs::symlink_metadata(&specs).is_ok_and(|m| m.is_dir());
            let mut n = 0;
            if has {
                count_task_files(&specs, 0, false, &mut n);
            }
            WorktreeState {
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                path: p,
                has_kitty_specs: has,
                stale_task_files: n,
            }
        })
        .collect())
}

fn count_task_files(dir: &Path, depth: usize, in_tasks: bool, n: &mut usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            count_task_files(&p, depth + 1, e.file_name() == "tasks", n);
        } else if in_tasks && m.is_file() && p.extension().is_some_and(|x| x == "md") {
            *n += 1;
        }
    }
}

/// What `repair worktree` reports.
#[derive(Debug, Clone, Serialize)]
pub struct WorktreeReport {
    /// None: no worktree was named, `--all` was not given and the working
    /// directory is in none.
    pub worktrees: Option<Vec<WorktreeState>>,
    /// Whether one worktree (not `--all`) was checked.
    pub in_worktree: bool,
}

/// `repair worktree`: every worktree (`all`), the one at `given` (relative to
/// `cwd`), or the one `cwd` is in.
pub fn worktree_report(
    project: &crate::project::Project,
    cwd: &Path,
    all: bool,
    given: Option<&Path>,
) -> Result<WorktreeReport> {
    let one = if all {
        None
    } else if let Some(p) = given {
        Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        })
    } else {
        match project.worktree.clone().or_else(|| enclosing_worktree(cwd)) {
            Some(wt) => Some(wt),
            None => {
                return Ok(WorktreeReport {
                    worktrees: None,
                    in_worktree: false,
                })
            }
        }
    };
    let scope = match &one {
        Some(p) => WorktreeScope::One(p),
        None => WorktreeScope::All,
    };
    Ok(WorktreeReport {
        worktrees: Some(worktrees(&project.root, scope)?),
        in_worktree: !all,
    })
}

/// The worktree root containing `cwd` when it is inside `.worktrees/<name>/`.
pub fn enclosing_worktree(cwd: &Path) -> Option<PathBuf> {
    let mut acc = PathBuf::new();
    let mut parts = cwd.components();
    for c in parts.by_ref() {
        acc.push(c);
        if c.as_os_str() == ".worktrees" {
            let next = parts.next()?;
            acc.push(next);
            return Some(acc);
        }
    }
    None
}

/// `.worktrees/` entries of the pre-0.11 layout: one worktree per mission,
/// named after the mission itself (`001-slug`). Today's are per lane
/// (`001-slug-lane-a`) or, between 0.11 and 3.0, per work package
/// (`001-slug-WP01`).
pub fn legacy_worktrees(main_root: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(main_root.join(".worktrees")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_legacy_name(n))
        .collect();
    out.sort();
    out
}

fn is_legacy_name(name: &str) -> bool {
    let numbered = name.len() > 4
        && name.as_bytes()[..3].iter().all(u8::is_ascii_digit)
        && name.as_bytes()[3] == b'-';
    if !numbered {
        return false;
    }
    let per_lane = name.contains("-lane-");
    let per_wp = name
        .rsplit_once("-WP")
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    !per_lane && !per_wp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names() {
        assert!(is_legacy_name("001-auth"));
        assert!(!is_legacy_name("001-auth-lane-a"));
        assert!(!is_legacy_name("001-auth-WP02"));
        assert!(!is_legacy_name("scratch"));
    }

    #[test]
    fn worktree_of_cwd() {
        assert_eq!(
            enclosing_worktree(Path::new("/p/.worktrees/001-a-lane-a/src")),
            Some(PathBuf::from("/p/.worktrees/001-a-lane-a"))
        );
        assert_eq!(enclosing_worktree(Path::new("/p/src")), None);
    }
}
