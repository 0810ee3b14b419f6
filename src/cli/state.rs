//! Around every command that writes mission state: register the git merge
//! drivers in a clone that lacks them (said once, on stderr), and, with
//! `auto_commit: true` in `.kittify/config.yaml`, commit exactly the files the
//! command changed under `kitty-specs/<mission>/` on the current branch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cli::Ctx;
use crate::merge::record;
use crate::project::Project;
use crate::status::drivers;

/// Subcommand paths that write mission state.
const WRITERS: &[&[&str]] = &[
    &["next"],
    &["implement"],
    &["accept"],
    &["merge"],
    &["materialize"],
    &["agent", "action", "implement"],
    &["agent", "action", "review"],
    &["agent", "mission", "create"],
    &["agent", "mission", "finalize-tasks"],
    &["agent", "mission", "accept"],
    &["agent", "mission", "merge"],
    &["agent", "mission", "record"],
    &["agent", "mission", "repair-status"],
    &["agent", "mission", "backfill-identity"],
    &["agent", "mission", "setup-plan"],
    &["agent", "tasks", "move-task"],
    &["agent", "tasks", "mark-status"],
    &["agent", "tasks", "add-history"],
    &["agent", "tasks", "finalize-tasks"],
    &["agent", "tasks", "map-requirements"],
    &["research"],
];

/// Commands that commit by themselves: auto_commit leaves them alone.
const COMMITTERS: &[&[&str]] = &[
    &["merge"],
    &["agent", "mission", "merge"],
    &["agent", "mission", "record"],
];

/// A file's identity on disk: size, modification time, inode. Every write
/// spec-kitty makes is a rename or an append, so one of them changes.
type Stamp = (u64, Option<SystemTime>, u64);

/// What the hook remembers from before the command.
pub struct Before {
    path: Vec<String>,
    wp: Option<String>,
    project: Project,
    stamps: Option<BTreeMap<PathBuf, Stamp>>,
}

fn matches(list: &[&[&str]], path: &[String]) -> bool {
    list.iter()
        .any(|p| p.len() == path.len() && p.iter().zip(path).all(|(a, b)| a == b))
}

/// Called before a command runs; `path` is its subcommand chain, `args` argv.
pub fn before(ctx: &Ctx, path: Vec<String>, args: &[std::ffi::OsString]) -> Option<Before> {
    if !matches(WRITERS, &path) {
        return None;
    }
    let project = ctx.project().ok()?.clone();
    let stamps = (project.is_git()
        && !matches(COMMITTERS, &path)
        && record::auto_commit_enabled(&project.root))
    .then(|| stamp_all(&project.specs_dir()));
    let wp = args
        .iter()
        .filter_map(|a| a.to_str())
        .find(|a| {
            a.len() >= 3
                && a[..2].eq_ignore_ascii_case("WP")
                && a[2..].bytes().all(|b| b.is_ascii_digit())
        })
        .map(str::to_ascii_uppercase);
    Some(Before {
        path,
        wp,
        project,
        stamps,
    })
}

/// Called after the command succeeded.
pub fn after(ctx: &Ctx, b: Before) {
    if let Some(common) = &b.project.git_common_dir {
        if !drivers::missing(common).is_empty() {
            match drivers::ensure_registered(common) {
                Ok(names) if !names.is_empty() => ctx.warn(format!(
                    "registered the git merge drivers {} in this clone's .git/config, so status logs, status.json and work package activity logs merge without conflicts (once per clone)",
                    names.join(", ")
                )),
                Ok(_) => {}
                Err(e) => ctx.warn(format!(
                    "could not register the git merge drivers in .git/config: {}",
                    crate::Error::from(e).message
                )),
            }
        }
    }
    let Some(old) = b.stamps else { return };
    let new = stamp_all(&b.project.specs_dir());
    let mut by_mission: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (p, s) in old
        .iter()
        .filter(|(p, s)| new.get(*p) != Some(s))
        .chain(new.iter().filter(|(p, _)| !old.contains_key(*p)))
    {
        let _ = s;
        let Ok(rel) = p.strip_prefix(&b.project.root) else {
            continue;
        };
        let mut parts = rel.components();
        let (Some(_specs), Some(mission)) = (parts.next(), parts.next()) else {
            continue;
        };
        by_mission
            .entry(b.project.specs_dir().join(mission.as_os_str()))
            .or_default()
            .push(rel.to_string_lossy().replace('\\', "/"));
    }
    for (dir, files) in by_mission {
        let slug = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let wp = b.wp.as_deref().map(|w| format!(" {w}")).unwrap_or_default();
        let message = format!(
            "spec-kitty {}{wp} ({slug})\n\nCommitted by auto_commit: true in .kittify/config.yaml.\n",
            b.path.join(" ")
        );
        match commit(&b.project, &dir, &files, &message) {
            Ok(Some((branch, n))) => ctx.warn(format!(
                "auto_commit: committed {n} file(s) of kitty-specs/{slug}/ on {branch}"
            )),
            Ok(None) => {}
            Err(e) => ctx.warn(format!(
                "auto_commit: nothing committed for {slug}: {}{}",
                e.message,
                e.hint.map(|h| format!(" ({h})")).unwrap_or_default()
            )),
        }
    }
}

fn commit(
    project: &Project,
    dir: &Path,
    touched: &[String],
    message: &str,
) -> crate::Result<Option<(String, usize)>> {
    let repo = crate::merge::open_repo(project)?;
    let branch = record::current_branch(&repo)?;
    let prefix = record::mission_prefix(&project.root, dir)?;
    let tree = repo.head()?.peel_to_tree()?;
    let mut files = record::changed_under(&repo, Some(&tree), &prefix)?;
    files.retain(|f| touched.contains(f));
    if files.is_empty() {
        return Ok(None);
    }
    let others = record::staged_elsewhere(&repo, &files)?;
    if !others.is_empty() {
        return Err(crate::Error::user(format!(
            "the index holds staged changes to other files: {}",
            others.join(", ")
        ))
        .with_hint("commit or unstage them, then run `spec-kitty agent mission record`"));
    }
    Ok(record::commit_paths(&repo, &branch, &files, message, true)?.map(|_| (branch, files.len())))
}

/// Stamps of every file under `kitty-specs/`.
fn stamp_all(specs: &Path) -> BTreeMap<PathBuf, Stamp> {
    let mut out = BTreeMap::new();
    let mut stack = vec![specs.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.insert(e.path(), (meta.len(), meta.modified().ok(), inode(&meta)));
            }
        }
    }
    out
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}
