//! Committing a mission's own files, and nothing else: the record commit
//! `merge` makes when it lands a mission, `agent mission record`, and
//! `auto_commit: true`.
//!
//! The commit's tree is the branch tip's tree with exactly the chosen paths
//! taken from the working tree (added, changed or removed); the index is never
//! used to build it, and other staged changes refuse the commit rather than
//! ride along. When the branch is the one checked out, the index entries of
//! those paths are updated so `git status` agrees with the commit.

use std::path::Path;

use git2::{build::TreeUpdateBuilder, FileMode, ObjectType, Oid, Repository, Signature};

use super::error::MergeError;
type Result<T, E = MergeError> = std::result::Result<T, E>;

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> MergeError {
    MergeError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The mission directory relative to the repository root, `/`-separated with
/// a trailing slash (`kitty-specs/001-x/`).
pub fn mission_prefix(root: &Path, mission_dir: &Path) -> Result<String> {
    let rel = mission_dir
        .strip_prefix(root)
        .map_err(|_| MergeError::OutsideProject {
            dir: mission_dir.to_path_buf(),
            root: root.to_path_buf(),
        })?;
    Ok(format!(
        "{}/",
        rel.to_string_lossy()
            .replace('\\', "/")
            .trim_end_matches('/')
    ))
}

/// The paths under `prefix` whose working-tree state differs from `tree`:
/// files added or changed on disk (ignored files left out) and files of the
/// tree gone from disk. Sorted.
pub fn changed_under(
    repo: &Repository,
    tree: Option<&git2::Tree<'_>>,
    prefix: &str,
) -> Result<Vec<String>> {
    let workdir = repo.workdir().ok_or(MergeError::NoWorkdir)?.to_path_buf();
    let mut out = Vec::new();
    let mut on_disk = std::collections::BTreeSet::new();
    let mut stack = vec![workdir.join(prefix.trim_end_matches('/'))];
    while let Some(dir) = stack.pop() {
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error("read", &dir, e)),
        };
        for entry in rd {
            let entry = entry.map_err(|e| io_error("read", &dir, e))?;
            let path = entry.path();
            let rel = path
                .strip_prefix(&workdir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let ft = entry.file_type().map_err(|e| io_error("stat", &path, e))?;
            // An atomic write's temp file (a live writer's, or one a kill
            // left) is never part of the mission's state: never committed.
            if !ft.is_dir() && crate::fsutil::is_temp_name(&entry.file_name().to_string_lossy()) {
                continue;
            }
            if repo.is_path_ignored(Path::new(&rel)).unwrap_or(false) {
                continue;
            }
            if ft.is_dir() {
                stack.push(path);
                continue;
            }
            on_disk.insert(rel.clone());
            let disk = Oid::hash_file(ObjectType::Blob, &path)?;
            let committed = tree
                .and_then(|t| t.get_path(Path::new(&rel)).ok())
                .map(|e| e.id());
            if committed != Some(disk) {
                out.push(rel);
            }
        }
    }
    if let Some(tree) = tree {
        if let Ok(entry) = tree.get_path(Path::new(prefix.trim_end_matches('/'))) {
            let sub = entry.to_object(repo)?.peel_to_tree()?;
            sub.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                if e.kind() == Some(ObjectType::Blob) {
                    let rel = format!("{prefix}{dir}{}", e.name().unwrap_or(""));
                    if !on_disk.contains(&rel) {
                        out.push(rel);
                    }
                }
                git2::TreeWalkResult::Ok
            })?;
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The signature commits are made with (git's committer identity).
pub fn signature(repo: &Repository) -> Result<Signature<'static>> {
    match super::git_identity(repo)? {
        (Some(name), Some(email)) => Ok(Signature::now(&name, &email)?),
        _ => Err(MergeError::NoCommitIdentity),
    }
}

/// The branch the main checkout is on; an error when detached or unborn.
pub fn current_branch(repo: &Repository) -> Result<String> {
    let head = repo.find_reference("HEAD")?;
    let name = head
        .symbolic_target()
        .and_then(|t| t.strip_prefix("refs/heads/"))
        .map(str::to_string)
        .ok_or(MergeError::DetachedHead)?;
    if super::branch_tip(repo, &name).is_none() {
        return Err(MergeError::UnbornBranch { name });
    }
    Ok(name)
}

/// Staged changes (index against the tip of HEAD) outside `paths`.
pub fn staged_elsewhere(repo: &Repository, paths: &[String]) -> Result<Vec<String>> {
    let head_tree = repo.head()?.peel_to_tree()?;
    let index = repo.index()?;
    let mut out = Vec::new();
    if index.has_conflicts() {
        for c in index.conflicts()?.flatten() {
            if let Some(e) = c.our.or(c.their).or(c.ancestor) {
                out.push(String::from_utf8_lossy(&e.path).into_owned());
            }
        }
    }
    let diff = repo.diff_tree_to_index(Some(&head_tree), Some(&index), None)?;
    for d in diff.deltas() {
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path() {
                let p = p.to_string_lossy().replace('\\', "/");
                if !paths.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Refuse, naming it, when `.git/index.lock` is there: libgit2's own error
/// says only "the index is locked".
pub fn index_lock_free(repo: &Repository) -> Result<()> {
    let lock = repo.path().join("index.lock");
    if lock.symlink_metadata().is_ok() {
        return Err(MergeError::IndexLocked { lock });
    }
    Ok(())
}

/// Commit the working-tree state of exactly `paths` on `branch`, with the
/// parent the branch's tip. `update_index`: the branch is checked out in the
/// main checkout, so its index entries for `paths` follow. Returns None when
/// the paths already match the tip (nothing to record).
pub fn commit_paths(
    repo: &Repository,
    branch: &str,
    paths: &[String],
    message: &str,
    update_index: bool,
) -> Result<Option<Oid>> {
    if update_index {
        index_lock_free(repo)?;
    }
    let workdir = repo.workdir().ok_or(MergeError::NoWorkdir)?.to_path_buf();
    let tip = super::branch_tip(repo, branch).ok_or_else(|| MergeError::NoBranch {
        branch: branch.to_string(),
    })?;
    let parent = repo.find_commit(tip)?;
    let base = parent.tree()?;
    let mut update = TreeUpdateBuilder::new();
    for p in paths {
        let full = workdir.join(p);
        match full.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&full).map_err(|e| io_error("read", &full, e))?;
                let blob = repo.blob(target.to_string_lossy().as_bytes())?;
                update.upsert(p, blob, FileMode::Link);
            }
            Ok(meta) if meta.is_file() => {
                let blob = repo.blob_path(&full)?;
                update.upsert(p, blob, file_mode(&meta));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                update.remove(p);
            }
            Err(e) => return Err(io_error("stat", &full, e)),
        }
    }
    let tree_id = update.create_updated(repo, &base)?;
    if tree_id == base.id() {
        return Ok(None);
    }
    let tree = repo.find_tree(tree_id)?;
    let sig = signature(repo)?;
    let commit = repo.commit(None, &sig, &sig, message, &tree, &[&parent])?;
    super::reflock::move_branch(
        repo,
        branch,
        tip,
        commit,
        &sig,
        &format!("spec-kitty: {}", message.lines().next().unwrap_or("record")),
    )?;
    crate::env::crash_point(crate::env::CrashPoint::RecordRefMoved);
    if update_index {
        let mut index = repo.index()?;
        for p in paths {
            if workdir.join(p).symlink_metadata().is_ok() {
                index.add_path(Path::new(p))?;
            } else if index.get_path(Path::new(p), 0).is_some() {
                index.remove_path(Path::new(p))?;
            }
        }
        index.write()?;
    }
    super::reflock::commit_finished(repo)?;
    Ok(Some(commit))
}

/// Make the index entries under `prefix` those of `tree` (whose files the
/// working tree already holds): what [`commit_paths`] does last, for a commit
/// whose index update was cut short.
pub fn index_follows(repo: &Repository, tree: &git2::Tree<'_>, prefix: &str) -> Result<()> {
    let mut index = repo.index()?;
    let mut wanted = std::collections::BTreeMap::new();
    if let Ok(entry) = tree.get_path(Path::new(prefix.trim_end_matches('/'))) {
        let sub = entry.to_object(repo)?.peel_to_tree()?;
        sub.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(ObjectType::Blob) {
                wanted.insert(format!("{prefix}{dir}{}", e.name().unwrap_or("")), e.id());
            }
            git2::TreeWalkResult::Ok
        })?;
    }
    let stale: Vec<String> = index
        .iter()
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        .filter(|p| p.starts_with(prefix) && !wanted.contains_key(p))
        .collect();
    let mut changed = !stale.is_empty();
    for p in &stale {
        index.remove_path(Path::new(p))?;
    }
    for (p, id) in &wanted {
        if index.get_path(Path::new(p), 0).map(|e| e.id) != Some(*id) {
            index.add_path(Path::new(p))?;
            changed = true;
        }
    }
    if changed {
        index.write()?;
    }
    Ok(())
}

#[cfg(unix)]
fn file_mode(meta: &std::fs::Metadata) -> FileMode {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 != 0 {
        FileMode::BlobExecutable
    } else {
        FileMode::Blob
    }
}

#[cfg(not(unix))]
fn file_mode(_: &std::fs::Metadata) -> FileMode {
    FileMode::Blob
}

/// What [`record_mission`] committed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    pub mission_slug: String,
    pub branch: String,
    /// None when the mission's files already matched the branch.
    pub commit: Option<String>,
    pub files: Vec<String>,
}

/// Commit the mission's own files (everything under `kitty-specs/<slug>/`
/// that differs from the current branch) on the main checkout's current
/// branch. `only`: just these paths (auto_commit: the files a command wrote).
/// Refuses, committing nothing, when other files are staged.
pub fn record_mission(
    project: &crate::project::Project,
    mission: &crate::mission::Mission,
    only: Option<&[String]>,
    message: &str,
) -> Result<Recorded> {
    let repo = super::open_repo(project)?;
    // A commit a kill cut short may have left the index behind its branch.
    super::reflock::recover_killed_commits(&repo)?;
    let branch = current_branch(&repo)?;
    let prefix = mission_prefix(&project.root, &mission.dir)?;
    let tree = repo.head()?.peel_to_tree()?;
    let mut files = changed_under(&repo, Some(&tree), &prefix)?;
    if let Some(only) = only {
        files.retain(|f| only.contains(f));
    }
    let others = staged_elsewhere(&repo, &files)?;
    if !others.is_empty() {
        return Err(MergeError::StagedElsewhere {
            slug: mission.slug.clone(),
            others,
        });
    }
    let commit = if files.is_empty() {
        None
    } else {
        commit_paths(&repo, &branch, &files, message, true)?
    };
    Ok(Recorded {
        mission_slug: mission.slug.clone(),
        branch,
        commit: commit.map(|c| c.to_string()),
        files,
    })
}

/// Before the first code lane of a mission is created: lane worktrees branch
/// from the target's last commit, so whatever spec-kitty wrote that is not in
/// that commit is missing there. The project's own files (`.kittify/`,
/// `.gitignore`, `.gitattributes`) missing is an error with the command that
/// fixes it; the mission's files missing is a note (the prompt quotes them, and
/// `merge` commits them at the end).
pub fn check_committed_before_lanes(
    project: &crate::project::Project,
    mission: &crate::mission::Mission,
    target: &str,
) -> Result<Option<String>> {
    let repo = super::open_repo(project)?;
    let Some(tip) = super::branch_tip(&repo, target) else {
        return Ok(None);
    };
    let tree = repo.find_commit(tip)?.tree()?;
    let in_tree = |rel: &str| tree.get_path(Path::new(rel)).is_ok();
    let project_files: Vec<&str> = [
        ".kittify/config.yaml",
        ".kittify/metadata.yaml",
        ".gitignore",
        ".gitattributes",
    ]
    .into_iter()
    .filter(|rel| project.root.join(rel).is_file() && !in_tree(rel))
    .collect();
    let prefix = mission_prefix(&project.root, &mission.dir)?;
    if !project_files.is_empty() {
        let mut add: Vec<String> = project_files
            .iter()
            .map(|f| {
                if f.starts_with(".kittify/") {
                    ".kittify".to_string()
                } else {
                    f.to_string()
                }
            })
            .collect();
        add.dedup();
        add.push(prefix.trim_end_matches('/').to_string());
        return Err(MergeError::ProjectFilesUncommitted {
            target: target.to_string(),
            files: project_files.iter().map(|f| f.to_string()).collect(),
            add,
        });
    }
    let missing = changed_under(&repo, Some(&tree), &prefix)?;
    if missing.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{} file(s) of {prefix} are not committed on {target} (e.g. {}): the lane worktree branches from its last commit and will not contain them; `spec-kitty merge` commits them at the end, or share them now with `spec-kitty agent mission record --mission {}`",
        missing.len(),
        missing[0],
        mission.slug
    )))
}

#[cfg(test)]
mod typed_error_tests {
    use super::*;

    #[test]
    fn record_failures_come_back_typed() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(tmp.path()).unwrap();
        let e = current_branch(&repo).unwrap_err();
        assert!(matches!(e, MergeError::UnbornBranch { .. }), "{e:?}");
        let e = crate::Error::from(e);
        assert!(e.hint.as_deref().unwrap().contains("first commit"));
        let e = mission_prefix(tmp.path(), Path::new("/elsewhere/kitty-specs/001-x")).unwrap_err();
        assert!(matches!(e, MergeError::OutsideProject { .. }), "{e:?}");
        assert_eq!(crate::Error::from(e).kind, crate::error::Kind::Internal);
        let e = changed_under(&repo, None, "kitty-specs/001-x/").map(|_| ());
        assert!(e.is_ok(), "a missing mission directory is nothing changed");
    }
}
