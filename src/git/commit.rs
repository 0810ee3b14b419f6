//! Committing given paths, and nothing else: what the record commit `merge`
//! makes when it lands a mission, `agent mission record` and
//! `auto_commit: true` are built from.
//!
//! The commit's tree is the branch tip's tree with exactly the chosen paths
//! taken from the working tree (added, changed or removed); the index is never
//! used to build it, and other staged changes refuse the commit rather than
//! ride along. When the branch is the one checked out, the index entries of
//! those paths are updated so `git status` agrees with the commit.

use std::path::Path;

use git2::{build::TreeUpdateBuilder, FileMode, ObjectType, Oid, Repository, Signature};

use super::error::{GitError, Result};

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> GitError {
    GitError::io(action, path, source)
}

/// A directory relative to the repository root, `/`-separated with a
/// trailing slash (`kitty-specs/001-x/`).
pub fn dir_prefix(root: &Path, mission_dir: &Path) -> Result<String> {
    let rel = mission_dir
        .strip_prefix(root)
        .map_err(|_| GitError::OutsideProject {
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

/// The blobs of `tree` under `prefix` (`dir/`-style), by repository path:
/// one walk of the subtree, so every object is read once.
fn blobs_under(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
) -> Result<std::collections::HashMap<String, Oid>> {
    let mut out = std::collections::HashMap::new();
    if let Ok(entry) = tree.get_path(Path::new(prefix.trim_end_matches('/'))) {
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(out);
        }
        let sub = entry.to_object(repo)?.peel_to_tree()?;
        sub.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(ObjectType::Blob) {
                out.insert(format!("{prefix}{dir}{}", e.name().unwrap_or("")), e.id());
            }
            git2::TreeWalkResult::Ok
        })?;
    }
    Ok(out)
}

/// The index as a stat cache, the way `git status` uses it: an entry whose
/// stat data still matches the file on disk, written before the index file
/// was (a file changed in the same instant is "racily clean" and gets
/// hashed), holds the file's blob id without reading the file.
///
/// A file whose stat data no longer matches only because its ctime moved (a
/// chmod, a hard link, a restore: the content is the same) is hashed once;
/// `git status` would write the refreshed entry back to the index, libgit2
/// does not, so a large file (the status log) would be hashed again on every
/// call. Its blob id is remembered instead in a derived file of the
/// repository's git directory ([`HashMemo`]), under the same stat data and
/// the same racy-clean rule, never trusted over the file.
struct StatCache {
    index: Option<git2::Index>,
    /// When the index file was written (seconds, nanoseconds).
    written: Option<(i64, i64)>,
    memo: HashMemo,
    /// Hash a file by writing its blob (a commit of it follows), and keep
    /// what was written: the commit takes those blobs rather than hashing
    /// the files again ([`KnownBlobs`]).
    writes: Option<KnownBlobs>,
}

/// Blobs [`changed_among_writing`] wrote into the object database, with the
/// stat data each file had when it was read: [`commit_paths_known`] takes a
/// file's blob from here while its stat data is unchanged, so a commit hashes
/// each changed file once (as `git add` + `git commit` do), not once to
/// learn that it changed and again to commit it.
#[derive(Debug, Default, Clone)]
pub struct KnownBlobs(std::collections::HashMap<String, (Stamp, Oid)>);

impl KnownBlobs {
    /// The blob of `rel` when `meta` (the file's stat data now) is what it
    /// was when the blob was written.
    fn get(&self, rel: &str, meta: &std::fs::Metadata) -> Option<Oid> {
        let (st, id) = self.0.get(rel)?;
        (stat_times(meta).as_ref() == Some(st)).then_some(*id)
    }
}

/// (mtime, ctime, inode, size) of a file.
type Stamp = ((i64, i64), (i64, i64), u64, u64);

/// Blob ids of large working-tree files the index did not vouch for, by
/// repository path and stat data (see [`StatCache`]): a derived file,
/// `<git dir>/spec-kitty/hash-memo`, one line per file
/// (`<oid> <mtime s> <ns> <ctime s> <ns> <inode> <size> <path>`). A missing,
/// unreadable or malformed file (or line) is no entry: the file is hashed.
struct HashMemo {
    path: Option<std::path::PathBuf>,
    entries: std::collections::BTreeMap<String, (Stamp, Oid)>,
    /// When the memo file was written: an entry for a file modified at or
    /// after it is racily clean (not trusted).
    written: Option<(i64, i64)>,
    changed: bool,
}

/// Files smaller than this are hashed every time (cheaper than a memo entry).
const MEMO_MIN_BYTES: u64 = 256 << 10;
/// At most this many files are remembered (the status logs of the missions).
const MEMO_MAX_ENTRIES: usize = 64;
/// A memo file longer than this is not read.
const MEMO_MAX_BYTES: u64 = 64 << 10;

impl HashMemo {
    fn load(repo: &Repository) -> HashMemo {
        let path = repo.path().join("spec-kitty").join("hash-memo");
        let written = std::fs::metadata(&path)
            .ok()
            .and_then(|m| stat_times(&m).map(|t| t.0));
        let text = crate::fsutil::read_capped(&path, MEMO_MAX_BYTES)
            .ok()
            .flatten()
            .unwrap_or_default();
        let entries = text
            .lines()
            .filter_map(|line| {
                let mut f = line.splitn(8, ' ');
                let oid = Oid::from_str(f.next()?).ok()?;
                let mut n = || f.next()?.parse::<i64>().ok();
                let stamp = (
                    (n()?, n()?),
                    (n()?, n()?),
                    u64::try_from(n()?).ok()?,
                    u64::try_from(n()?).ok()?,
                );
                let rel = f.next().filter(|r| !r.is_empty())?;
                Some((rel.to_string(), (stamp, oid)))
            })
            .take(MEMO_MAX_ENTRIES)
            .collect();
        HashMemo {
            path: Some(path),
            entries,
            written,
            changed: false,
        }
    }

    fn known(&self, rel: &str, stamp: &Stamp) -> Option<Oid> {
        let (st, oid) = self.entries.get(rel)?;
        let racy = self.written.is_none_or(|w| stamp.0 >= w);
        (st == stamp && !racy).then_some(*oid)
    }

    fn remember(&mut self, rel: &str, stamp: Stamp, oid: Oid) {
        if stamp.3 < MEMO_MIN_BYTES || rel.contains('\n') {
            return;
        }
        if !self.entries.contains_key(rel) && self.entries.len() >= MEMO_MAX_ENTRIES {
            return;
        }
        self.entries.insert(rel.to_string(), (stamp, oid));
        self.changed = true;
    }

    /// Write the memo back when an entry was added; a failure only costs the
    /// next call a hash.
    fn save(&mut self) {
        let (true, Some(path)) = (self.changed, &self.path) else {
            return;
        };
        let mut text = String::new();
        for (rel, (((ms, mn), (cs, cn), ino, size), oid)) in &self.entries {
            text.push_str(&format!("{oid} {ms} {mn} {cs} {cn} {ino} {size} {rel}\n"));
        }
        if let Some(dir) = path.parent() {
            if crate::fsutil::create_dir_all(dir).is_err() {
                return;
            }
        }
        if crate::fsutil::write_derived(path, text.as_bytes()).is_ok() {
            self.changed = false;
        }
    }
}

impl StatCache {
    fn load(repo: &Repository) -> StatCache {
        let written = std::fs::metadata(repo.path().join("index"))
            .ok()
            .and_then(|m| stat_times(&m).map(|t| t.0));
        StatCache {
            index: repo.index().ok(),
            written,
            memo: HashMemo::load(repo),
            writes: None,
        }
    }

    /// The blob id of the file at `rel` (with metadata `meta`), when the index
    /// vouches for it.
    fn known(&self, rel: &str, meta: &std::fs::Metadata) -> Option<Oid> {
        let (index, written) = (self.index.as_ref()?, self.written?);
        let e = index.get_path(Path::new(rel), 0)?;
        let (mtime, ctime, ino, size) = stat_times(meta)?;
        let same = i64::from(e.mtime.seconds()) == mtime.0
            && i64::from(e.mtime.nanoseconds()) == mtime.1
            && i64::from(e.ctime.seconds()) == ctime.0
            && i64::from(e.ctime.nanoseconds()) == ctime.1
            && u64::from(e.ino) == ino & 0xffff_ffff
            && u64::from(e.file_size) == size & 0xffff_ffff;
        let racy = mtime >= written;
        (same && !racy).then_some(e.id)
    }

    /// The blob id of the working-tree file `path` (repository path `rel`):
    /// from the index's stat data, else the memo, else hashed (and a large
    /// file remembered). `meta`: the file's metadata, when it is a file.
    fn blob(
        &mut self,
        repo: &Repository,
        rel: &str,
        path: &Path,
        meta: Option<&std::fs::Metadata>,
    ) -> Result<Oid> {
        if let Some(id) = meta.and_then(|m| self.known(rel, m)) {
            return Ok(id);
        }
        let stamp = meta.and_then(stat_times);
        if let Some(id) = stamp.as_ref().and_then(|st| self.memo.known(rel, st)) {
            return Ok(id);
        }
        crate::env::crash_step("git-hash", Some(path));
        // Writing the blob hashes the file as hashing it alone would (a blob
        // the database holds already is not written again).
        let id = if self.writes.is_some() {
            repo.blob_path(path)?
        } else {
            Oid::hash_file(ObjectType::Blob, path)?
        };
        // Remembered only when the file did not change while it was read.
        let again = std::fs::metadata(path).ok().and_then(|m| stat_times(&m));
        if let (Some(st), true) = (stamp, again == stamp) {
            self.memo.remember(rel, st, id);
            if let Some(w) = self.writes.as_mut() {
                w.0.insert(rel.to_string(), (st, id));
            }
        }
        Ok(id)
    }
}

/// (mtime, ctime, inode, size) as the index records them.
#[cfg(unix)]
#[allow(clippy::type_complexity)]
fn stat_times(meta: &std::fs::Metadata) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    Some((
        (meta.mtime(), meta.mtime_nsec()),
        (meta.ctime(), meta.ctime_nsec()),
        meta.ino(),
        meta.size(),
    ))
}

#[cfg(not(unix))]
#[allow(clippy::type_complexity)]
fn stat_times(_: &std::fs::Metadata) -> Option<Stamp> {
    None
}

/// The paths under `prefix` whose working-tree state differs from `tree`:
/// files added or changed on disk (untracked ignored files left out) and
/// files of the tree gone from disk. Sorted.
///
/// The tree is walked once, and a file the index's stat data vouches for is
/// not read: the cost grows with the files under `prefix` that changed, not
/// with a lookup from the root per file.
pub fn changed_under(
    repo: &Repository,
    tree: Option<&git2::Tree<'_>>,
    prefix: &str,
) -> Result<Vec<String>> {
    changed_under_with(repo, tree, prefix, &mut StatCache::load(repo))
}

/// [`changed_under`] vouched for by `cache` (the index read once for
/// several questions).
fn changed_under_with(
    repo: &Repository,
    tree: Option<&git2::Tree<'_>>,
    prefix: &str,
    cache: &mut StatCache,
) -> Result<Vec<String>> {
    let workdir = repo.workdir().ok_or(GitError::NoWorkdir)?.to_path_buf();
    let committed = match tree {
        Some(t) => blobs_under(repo, t, prefix)?,
        None => Default::default(),
    };
    // Every directory holding a committed file (`a/`, `a/b/`), asked before
    // the ignore rules: a directory of the tree is walked whatever they say,
    // and loading the rules is most of a small walk's cost.
    let committed_dirs: std::collections::HashSet<&str> = committed
        .keys()
        .flat_map(|k| k.match_indices('/').filter_map(|(i, _)| k.get(..=i)))
        .collect();
    let mut out = Vec::new();
    let mut on_disk = std::collections::HashSet::new();
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
            // Ignore rules leave out untracked paths only, as in git: a
            // committed file stays tracked whatever .gitignore says, and so
            // does an ignored directory holding one.
            let ignored = || repo.is_path_ignored(Path::new(&rel)).unwrap_or(false);
            if ft.is_dir() {
                let dir = format!("{rel}/");
                // An empty directory adds nothing, ignored or not: the rules
                // are not asked of it (a new mission's research/, checklists/).
                let empty = || std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
                if committed_dirs.contains(dir.as_str()) || (!empty() && !ignored()) {
                    stack.push(path);
                }
                continue;
            }
            let Some(&want) = committed.get(&rel) else {
                if !ignored() {
                    on_disk.insert(rel.clone());
                    out.push(rel);
                }
                continue;
            };
            let meta = entry.metadata().ok().filter(|m| m.is_file());
            let disk = cache.blob(repo, &rel, &path, meta.as_ref())?;
            if disk != want {
                out.push(rel.clone());
            }
            on_disk.insert(rel);
        }
    }
    drop(committed_dirs);
    out.extend(committed.into_keys().filter(|p| !on_disk.contains(p)));
    cache.memo.save();
    out.sort();
    out.dedup();
    Ok(out)
}

/// [`changed_under`] restricted to `paths` (repository paths under `prefix`,
/// e.g. the files a command wrote): the same answer as filtering
/// `changed_under`'s, reading only those paths, so its cost follows what
/// changed rather than the size of the directory.
pub fn changed_among(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
    paths: &[String],
) -> Result<Vec<String>> {
    Ok(changed_among_in(repo, tree, prefix, paths, false)?.0)
}

/// [`changed_among`] for a commit of the changed paths that follows: a file
/// hashed to learn whether it changed has its blob written, and the blobs
/// written are handed back for [`commit_paths_known`].
pub fn changed_among_writing(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
    paths: &[String],
) -> Result<(Vec<String>, KnownBlobs)> {
    changed_among_in(repo, tree, prefix, paths, true)
}

fn changed_among_in(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
    paths: &[String],
    write: bool,
) -> Result<(Vec<String>, KnownBlobs)> {
    let workdir = repo.workdir().ok_or(GitError::NoWorkdir)?.to_path_buf();
    let mut cache = StatCache::load(repo);
    if write {
        cache.writes = Some(KnownBlobs::default());
    }
    let mut out = Vec::new();
    for rel in paths {
        if !rel.starts_with(prefix) {
            continue;
        }
        let committed = tree
            .get_path(Path::new(rel))
            .ok()
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| e.id());
        let path = workdir.join(rel);
        let meta = match path.symlink_metadata() {
            Ok(m) => Some(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error("stat", &path, e)),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // What the directory walk of changed_under skips is not on disk for
        // it: a directory, an atomic write's temp file, an untracked ignored
        // path (and a committed file it skips counts as gone).
        let seen = meta.as_ref().filter(|m| {
            !m.is_dir()
                && !crate::fsutil::is_temp_name(&name)
                && (committed.is_some() || !repo.is_path_ignored(Path::new(rel)).unwrap_or(false))
        });
        let differs = match (seen, committed) {
            (None, None) => false,
            (None, Some(_)) => true,
            (Some(_), None) => true,
            (Some(m), Some(want)) => {
                let disk = cache.blob(repo, rel, &path, Some(m).filter(|m| m.is_file()))?;
                disk != want
            }
        };
        if differs {
            out.push(rel.clone());
        }
    }
    cache.memo.save();
    out.sort();
    out.dedup();
    Ok((out, cache.writes.unwrap_or_default()))
}

/// The tree of a branch's tip, for questions about what is committed there.
pub struct BranchTree<'r> {
    repo: &'r Repository,
    tree: git2::Tree<'r>,
    /// The index as a stat cache, read on the first [`Self::changed_under`]
    /// and kept for the next (nothing between them writes the index).
    cache: std::cell::RefCell<Option<StatCache>>,
}

impl<'r> BranchTree<'r> {
    /// The tree of `branch`'s tip; None when the branch does not exist.
    pub fn of(repo: &'r Repository, branch: &str) -> Result<Option<BranchTree<'r>>> {
        let Some(tip) = super::branch_tip(repo, branch) else {
            return Ok(None);
        };
        let tree = repo.find_commit(tip)?.tree()?;
        Ok(Some(BranchTree {
            repo,
            tree,
            cache: std::cell::RefCell::new(None),
        }))
    }

    /// Does the tree hold `rel` (a repository path)?
    pub fn has(&self, rel: &str) -> bool {
        self.tree.get_path(Path::new(rel)).is_ok()
    }

    /// [`changed_under`] against this tree.
    pub fn changed_under(&self, prefix: &str) -> Result<Vec<String>> {
        let mut cache = self.cache.borrow_mut();
        let cache = cache.get_or_insert_with(|| StatCache::load(self.repo));
        changed_under_with(self.repo, Some(&self.tree), prefix, cache)
    }

    /// [`file_changed`] against this tree.
    pub fn file_changed(&self, rel: &str) -> Result<bool> {
        file_changed(self.repo, Some(&self.tree), rel)
    }
}

/// Does the working tree's file `rel` (a repository path) differ from
/// `tree`, or is it missing there? A missing file, or an untracked ignored
/// one, is not a change (ignore rules do not apply to a committed file).
pub fn file_changed(repo: &Repository, tree: Option<&git2::Tree<'_>>, rel: &str) -> Result<bool> {
    let workdir = repo.workdir().ok_or(GitError::NoWorkdir)?.to_path_buf();
    let path = workdir.join(rel);
    if !path.symlink_metadata().is_ok_and(|m| m.is_file()) {
        return Ok(false);
    }
    let Some(entry) = tree.and_then(|t| t.get_path(Path::new(rel)).ok()) else {
        return Ok(!repo.is_path_ignored(Path::new(rel)).unwrap_or(false));
    };
    Ok(Oid::hash_file(ObjectType::Blob, &path)? != entry.id())
}

/// The signature commits are made with (git's committer identity).
pub fn signature(repo: &Repository) -> Result<Signature<'static>> {
    match super::identity(repo)? {
        (Some(name), Some(email)) => Ok(Signature::now(&name, &email)?),
        _ => Err(GitError::NoCommitIdentity),
    }
}

/// The branch the main checkout is on; an error when detached or unborn.
pub fn current_branch(repo: &Repository) -> Result<String> {
    let head = repo.find_reference("HEAD")?;
    let name = head
        .symbolic_target()
        .and_then(|t| t.strip_prefix("refs/heads/"))
        .map(str::to_string)
        .ok_or(GitError::DetachedHead)?;
    if super::branch_tip(repo, &name).is_none() {
        return Err(GitError::UnbornBranch { name });
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
        return Err(GitError::IndexLocked { lock });
    }
    Ok(())
}

/// How often a commit is made again on a branch that moved under it.
pub const MOVED_RETRIES: usize = 8;

/// The lock spec-kitty's own commits of given paths take in turn
/// (`<git-common-dir>/spec-kitty/commit.lock`): held from reading the tip and
/// checking the index to writing the index after the branch moved, so two
/// spec-kitty processes never see each other's half-made commit (a moved
/// branch whose index has not followed yet reads as changes staged elsewhere).
pub fn lock_commits(repo: &Repository) -> Result<crate::fsutil::FileLock> {
    let dir = repo.commondir().join("spec-kitty");
    crate::fsutil::create_dir_all(&dir)?;
    let lock = crate::fsutil::FileLock::acquire(
        &dir.join("commit.lock"),
        crate::fsutil::LOCK_TIMEOUT,
        "spec-kitty's commits",
    )?;
    // The index as it is now, under the lock: a handle the command opened
    // earlier (shared with its auto_commit, see `Repo::share`) may hold a
    // copy from before another commit moved the index. Best effort: an index
    // that cannot be read now fails the commit's own reads of it.
    if let Ok(mut index) = repo.index() {
        let _ = index.read(false);
    }
    Ok(lock)
}

/// Commit the working-tree state of exactly `paths` on `branch`, with the
/// parent the branch's tip. `update_index`: the branch is checked out in the
/// main checkout, so its index entries for `paths` follow. Returns None when
/// the paths already match the tip (nothing to record).
///
/// When the branch moves between reading its tip and locking its ref (a
/// commit someone made meanwhile: a `git commit`, a commit of another tool),
/// the commit is made again on the new tip, the paths read from the working
/// tree again (so a file the other commit also took is committed as it is
/// now, never as it was before), at most [`MOVED_RETRIES`] times. A branch
/// moved anywhere but forward (reset, rewound) is refused: nothing committed.
pub fn commit_paths(
    repo: &Repository,
    branch: &str,
    paths: &[String],
    message: &str,
    update_index: bool,
) -> Result<Option<Oid>> {
    commit_paths_known(
        repo,
        branch,
        paths,
        message,
        update_index,
        &KnownBlobs::default(),
    )
}

/// [`commit_paths`] taking the blob of a file from `known` (written by
/// [`changed_among_writing`]) while its stat data is what it was then.
pub fn commit_paths_known(
    repo: &Repository,
    branch: &str,
    paths: &[String],
    message: &str,
    update_index: bool,
    known: &KnownBlobs,
) -> Result<Option<Oid>> {
    let mut tries = 0;
    loop {
        match commit_paths_once(repo, branch, paths, message, update_index, known) {
            Err(GitError::BranchMoved { now, before, .. })
                if tries < MOVED_RETRIES && super::contains(repo, now, before).unwrap_or(false) =>
            {
                tries += 1;
            }
            other => return other,
        }
    }
}

fn commit_paths_once(
    repo: &Repository,
    branch: &str,
    paths: &[String],
    message: &str,
    update_index: bool,
    known: &KnownBlobs,
) -> Result<Option<Oid>> {
    if update_index {
        index_lock_free(repo)?;
    }
    let workdir = repo.workdir().ok_or(GitError::NoWorkdir)?.to_path_buf();
    let tip = super::branch_tip(repo, branch).ok_or_else(|| GitError::NoBranch {
        branch: branch.to_string(),
    })?;
    let parent = repo.find_commit(tip)?;
    let base = parent.tree()?;
    let mut update = TreeUpdateBuilder::new();
    // The blobs written, with the stat data read before each: the index
    // entries that follow the commit, without reading the files again.
    let mut written: Vec<(&String, Oid, FileMode, std::fs::Metadata)> = Vec::new();
    for p in paths {
        let full = workdir.join(p);
        match full.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&full).map_err(|e| io_error("read", &full, e))?;
                let blob = repo.blob(target.to_string_lossy().as_bytes())?;
                update.upsert(p, blob, FileMode::Link);
                written.push((p, blob, FileMode::Link, meta));
            }
            Ok(meta) if meta.is_file() => {
                let blob = match known.get(p, &meta) {
                    Some(id) => id,
                    None => repo.blob_path(&full)?,
                };
                update.upsert(p, blob, file_mode(&meta));
                written.push((p, blob, file_mode(&meta), meta));
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
    // Test hook: hold with the commit made on the tip read, the branch not
    // yet moved (a commit made meanwhile moves it under us).
    crate::env::pause_at(crate::env::PausePoint::CommitBeforeRef);
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
        // As it is on disk, not a copy from before: a commit made meanwhile
        // (the retry above) moved the index too, and a stale copy written
        // back would undo its entries. Read again only when the file changed
        // since this handle read it (libgit2 compares its stat data; a
        // rewrite is a rename, a new inode): reading and checking the whole
        // index again cost as much as the commit's own work at 5,000 WPs.
        index.read(false)?;
        for p in paths {
            if let Some((_, id, mode, meta)) = written.iter().find(|w| w.0 == p) {
                match index_entry(p, *id, *mode, meta) {
                    Some(entry) => index.add(&entry)?,
                    None => index.add_path(Path::new(p))?,
                }
            } else if workdir.join(p).symlink_metadata().is_ok() {
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

/// The index entry of a file committed as blob `id`, with the stat data
/// `meta` read before the blob was: a later change of the file shows as one.
#[cfg(unix)]
fn index_entry(
    path: &str,
    id: Oid,
    mode: FileMode,
    meta: &std::fs::Metadata,
) -> Option<git2::IndexEntry> {
    use std::os::unix::fs::MetadataExt;
    // The index keeps 32 bits of each; git compares them the same way.
    let time = |s: i64, ns: i64| git2::IndexTime::new(s as i32, ns as u32);
    Some(git2::IndexEntry {
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        mode: u32::try_from(i32::from(mode)).ok()?,
        uid: meta.uid(),
        gid: meta.gid(),
        file_size: meta.size() as u32,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    })
}

#[cfg(not(unix))]
fn index_entry(_: &str, _: Oid, _: FileMode, _: &std::fs::Metadata) -> Option<git2::IndexEntry> {
    None
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

#[cfg(test)]
mod typed_error_tests {
    use super::*;

    #[test]
    fn record_failures_come_back_typed() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(tmp.path()).unwrap();
        let e = current_branch(&repo).unwrap_err();
        assert!(matches!(e, GitError::UnbornBranch { .. }), "{e:?}");
        let e = crate::Error::from(e);
        assert!(e.hint.as_deref().unwrap().contains("first commit"));
        let e = dir_prefix(tmp.path(), Path::new("/elsewhere/kitty-specs/001-x")).unwrap_err();
        assert!(matches!(e, GitError::OutsideProject { .. }), "{e:?}");
        assert_eq!(crate::Error::from(e).kind, crate::error::Kind::Internal);
        let e = changed_under(&repo, None, "kitty-specs/001-x/").map(|_| ());
        assert!(e.is_ok(), "a missing mission directory is nothing changed");
    }
}

#[cfg(test)]
mod known_blob_tests {
    use super::*;

    fn committed(repo: &Repository, rel: &str) -> Vec<u8> {
        let tree = repo.head().unwrap().peel_to_tree().unwrap();
        let id = tree.get_path(Path::new(rel)).unwrap().id();
        repo.find_blob(id).unwrap().content().to_vec()
    }

    /// The blob written to learn that a file changed is the one committed
    /// while the file's stat data is unchanged; a file changed again in
    /// between is read again, never committed as it was.
    #[test]
    fn a_known_blob_is_committed_only_while_its_file_is_unchanged() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(tmp.path()).unwrap();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "T").unwrap();
        cfg.set_str("user.email", "t@example.com").unwrap();
        let dir = tmp.path().join("kitty-specs/001-x");
        std::fs::create_dir_all(&dir).unwrap();
        let rel = "kitty-specs/001-x/status.json".to_string();
        let file = tmp.path().join(&rel);
        std::fs::write(&file, "one\n").unwrap();
        let sig = signature(&repo).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new(&rel)).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
        let branch = current_branch(&repo).unwrap();
        let paths = vec![rel.clone()];

        // Unchanged since it was hashed: its written blob is committed.
        std::fs::write(&file, "two\n").unwrap();
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        let (files, known) =
            changed_among_writing(&repo, &head, "kitty-specs/001-x/", &paths).unwrap();
        assert_eq!(files, paths);
        let meta = std::fs::metadata(&file).unwrap();
        assert!(known.get(&rel, &meta).is_some(), "{known:?}");
        commit_paths_known(&repo, &branch, &files, "m", true, &known)
            .unwrap()
            .unwrap();
        assert_eq!(committed(&repo, &rel), b"two\n");

        // Changed after it was hashed: committed as it is now.
        std::fs::write(&file, "three, longer\n").unwrap();
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        let (files, known) =
            changed_among_writing(&repo, &head, "kitty-specs/001-x/", &paths).unwrap();
        std::fs::write(&file, "four, longer still\n").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        assert!(known.get(&rel, &meta).is_none());
        commit_paths_known(&repo, &branch, &files, "m", true, &known)
            .unwrap()
            .unwrap();
        assert_eq!(committed(&repo, &rel), b"four, longer still\n");
        // The index follows the commit.
        let index = repo.index().unwrap();
        let e = index.get_path(Path::new(&rel), 0).unwrap();
        assert_eq!(
            repo.find_blob(e.id).unwrap().content(),
            b"four, longer still\n"
        );
    }
}

#[cfg(test)]
mod walk_tests {
    use super::*;

    /// What the walk reports does not depend on whether the ignore rules
    /// are asked of a directory holding committed files or of an empty one
    /// (neither is): a committed file under an ignored directory is still
    /// compared, an untracked file under an ignored directory is left out,
    /// an untracked one elsewhere is reported, and so are a changed and a
    /// deleted committed file; empty directories, ignored or not, add
    /// nothing.
    #[test]
    fn changed_under_reports_the_same_with_or_without_asking_ignore_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let repo = Repository::init(root).unwrap();
        let m = "kitty-specs/001-x/";
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(".gitignore", "ign/\n*.log\n");
        for rel in ["ign/kept.md", "tasks/WP01.md", "tasks/WP02.md", "gone.md"] {
            write(&format!("{m}{rel}"), "committed\n");
        }
        let mut index = repo.index().unwrap();
        index
            .add_all(["."], git2::IndexAddOption::FORCE, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        write(&format!("{m}tasks/WP02.md"), "changed\n");
        std::fs::remove_file(root.join(format!("{m}gone.md"))).unwrap();
        write(&format!("{m}ign/new.md"), "untracked, ignored dir\n");
        write(&format!("{m}other/new.md"), "untracked\n");
        write(&format!("{m}tasks/run.log"), "untracked, ignored\n");
        for dir in ["empty", "ign/empty", "other/empty"] {
            std::fs::create_dir_all(root.join(format!("{m}{dir}"))).unwrap();
        }
        let got = changed_under(&repo, Some(&tree), m).unwrap();
        assert_eq!(
            got,
            [
                "kitty-specs/001-x/gone.md",
                "kitty-specs/001-x/other/new.md",
                "kitty-specs/001-x/tasks/WP02.md",
            ]
        );
    }
}
