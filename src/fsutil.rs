//! Every file write and every lock goes through here.
//!
//! * [`atomic_write`]: temp file in the same directory, fsync, rename, fsync the
//!   directory. Readers see the old file or the new one, never a partial one,
//!   and once it returns the new file survives a power cut.
//! * [`FileLock`]: an exclusive `fs2` lock on a sibling `.lock` file with a
//!   bounded wait and a clear timeout error.
//! * [`WriteJournal`]: while one is open, every file this process writes,
//!   appends to, moves into place or removes is recorded, so `auto_commit`
//!   commits what the command wrote without looking at every other file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;

use crate::error::{Diagnose, Kind};
use crate::shell::printable_path;

/// Why a write or a read through this module failed. Converts into
/// [`crate::Error`] through [`Diagnose`] (the message is the `Display` text).
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The operating system refused or failed (`action` says what we were doing).
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An append failed part way; the file was cut back to what it was.
    #[error("cannot append to {}: {source}; the file is unchanged", .path.display())]
    AppendUndone {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A directory is where a file should be written.
    #[error("cannot write {}: it is a directory", .path.display())]
    IsDirectory { path: PathBuf },
    /// The file is read-only; spec-kitty does not silently replace it.
    #[error("cannot write {}: the file is read-only", .path.display())]
    ReadOnly { path: PathBuf },
    /// The write would go through a link (or a linked directory) out of the
    /// confinement root (see [`confinement_root`]).
    #[error("refusing to write {}: {what} {}, outside {}", printable_path(.path), printable_path(.to), printable_path(.root))]
    Outside {
        path: PathBuf,
        what: &'static str,
        to: PathBuf,
        root: PathBuf,
    },
    /// The file is bigger than the cap for it.
    #[error("{} is {size} bytes or more, over the {max}-byte limit for this file", .path.display())]
    TooBig { path: PathBuf, size: u64, max: u64 },
    /// The file is not UTF-8 text.
    #[error("{}: not valid UTF-8 (byte {})", .path.display(), .source.utf8_error().valid_up_to())]
    NotUtf8 {
        path: PathBuf,
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// A private directory is a link or a file.
    #[error("refusing to use {}: it is not a directory (a link or a file was put there)", .dir.display())]
    NotADirectory { dir: PathBuf },
    /// A private directory belongs to another user.
    #[error("refusing to use {}: it belongs to another user", .dir.display())]
    OtherOwner { dir: PathBuf },
    /// A writer thread of [`atomic_write_all`] panicked.
    #[error("writing {} failed", .path.display())]
    WriterPanicked { path: PathBuf },
}

impl Diagnose for FsError {
    fn kind(&self) -> Kind {
        match self {
            FsError::WriterPanicked { .. } => Kind::Internal,
            _ => Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            FsError::Io { path, source, .. } | FsError::AppendUndone { path, source } => {
                crate::error::io_hint(path, source.kind())
            }
            FsError::ReadOnly { path } => Some(format!(
                "make it writable (chmod u+w '{}') and run the command again",
                path.display()
            )),
            FsError::Outside { path, .. } => Some(format!(
                "spec-kitty never writes through a link that leaves the project; replace the link on the way to {} with a real file or folder (or remove it) and run the command again",
                printable_path(path)
            )),
            FsError::NotADirectory { dir } | FsError::OtherOwner { dir } => Some(format!(
                "remove {} and run the command again",
                dir.display()
            )),
            _ => None,
        }
    }
}

type Result<T, E = FsError> = std::result::Result<T, E>;

/// Attach an action and a path to an `io::Result`.
trait IoContext<T> {
    fn with_path(self, action: &'static str, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn with_path(self, action: &'static str, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|source| io_error(action, path.as_ref(), source))
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> FsError {
    FsError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Default bounded wait for locks on project state.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Write `contents` to `path` atomically (temp file + fsync + rename).
///
/// An existing file keeps its permissions; a read-only one is refused with a
/// clear error rather than silently replaced. A symlink whose target resolves
/// inside the project (see [`confinement_root`]) is followed, so the file it
/// points to is replaced and the link stays; one that resolves outside is
/// refused and nothing is written (see `prepare_target`).
pub fn atomic_write(path: &Path, contents: &[u8]) -> Result<()> {
    let (real, existing_mode) = prepare_target(path, true)?;
    replace_with(path, &real, contents, existing_mode)
}

/// Like [`atomic_write`], and set unix permissions `mode` on the new file before it
/// becomes visible (the caller decides the mode, so a read-only file is replaced).
pub fn atomic_write_mode(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<()> {
    let (real, existing_mode) = prepare_target(path, mode.is_none())?;
    replace_with(path, &real, contents, mode.or(existing_mode))
}

/// Write a derived file (a saved fold, a regenerated prompt) atomically but
/// without making it durable: a reader sees the old file or the new one, never
/// a torn one (temp file + rename, links treated as by [`atomic_write`]), but
/// neither the file nor its directory is synced, so a crash may leave the old
/// file, no file or an empty one. Only for files that are rebuilt when they
/// are missing, stale or unreadable: each sync is a journal commit the command
/// would wait for, for a file nobody needs to survive a power cut.
pub fn write_derived(path: &Path, contents: &[u8]) -> Result<()> {
    replace_unsynced(path, contents, true)
}

/// [`write_derived`] for a small memo that only spares a later command work
/// (what a file said when it had a given stat): the same temp file and
/// rename, without the named crash steps, so the steps a crash test walks
/// stay those of the state it guards. A kill leaves the old memo, none, or
/// (never synced) an empty one: each is read as no memo.
pub fn write_memo(path: &Path, contents: &[u8]) -> Result<()> {
    replace_unsynced(path, contents, false)
}

/// A temp file renamed over `path`, neither synced; `crash_steps`: the
/// named crash steps of a write are taken.
fn replace_unsynced(path: &Path, contents: &[u8], crash_steps: bool) -> Result<()> {
    let (real, existing_mode) = prepare_target(path, true)?;
    let tmp = write_temp_synced(&real, contents, existing_mode, false)?;
    if crash_steps {
        crate::env::crash_before_rename(&real);
        crate::env::crash_step("write-temp", Some(&real));
    }
    fs::rename(&tmp, &real)
        .with_path("replace", path)
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
    note_written(&real);
    if crash_steps {
        crate::env::crash_step("write-done", Some(&real));
    }
    Ok(())
}

fn replace_with(path: &Path, real: &Path, contents: &[u8], mode: Option<u32>) -> Result<()> {
    let tmp = write_temp(real, contents, mode)?;
    crate::env::crash_before_rename(real);
    crate::env::crash_step("write-temp", Some(real));
    fs::rename(&tmp, real)
        .with_path("replace", path)
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
    note_written(real);
    sync_dir(&parent_dir(real))?;
    crate::env::crash_step("write-done", Some(real));
    Ok(())
}

/// Make the renames into `dir` durable: fsync the directory itself (Unix; a
/// no-op elsewhere). A filesystem that cannot sync directories is not an error.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let d = File::open(dir).with_path("open directory", dir)?;
        match d.sync_all() {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
                ) => {}
            Err(e) => return Err(io_error("sync directory", dir, e)),
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Where a write to `path` really goes, and the mode of the file there now.
/// With `refuse_read_only`, a read-only file is an error.
///
/// The safe-write rule: a symlink is followed only when its target resolves
/// inside the write's confinement root ([`confinement_root`]: the project that
/// holds the path, else the path's own directory). A link that leads outside it,
/// dangling or not, is refused and nothing is written; so is a path whose
/// directory resolves outside it (a linked parent directory).
fn prepare_target(path: &Path, refuse_read_only: bool) -> Result<(PathBuf, Option<u32>)> {
    prepare_target_in(path, refuse_read_only, &mut None)
}

/// [`prepare_target`] for one of several files written together
/// ([`atomic_write_all`]): `checked` is the directory (as named) whose
/// resolution was last found inside the confinement root, so a run of files
/// in one directory resolves it once (the check follows every link on the
/// way, a `readlink` per component). Links are still followed and checked
/// file by file.
fn prepare_target_in(
    path: &Path,
    refuse_read_only: bool,
    checked: &mut Option<PathBuf>,
) -> Result<(PathBuf, Option<u32>)> {
    let here = fs::symlink_metadata(path);
    let real = match &here {
        Ok(m) if m.file_type().is_symlink() => follow_inside(path)?,
        _ => {
            let dir = path.parent();
            if dir.is_none() || checked.as_deref() != dir {
                check_parent_inside(path)?;
                *checked = dir.map(Path::to_path_buf);
            }
            path.to_path_buf()
        }
    };
    // Not a link: what `symlink_metadata` found is the file's own metadata.
    let md = match here {
        Ok(m) if !m.file_type().is_symlink() => Ok(m),
        _ => fs::metadata(&real),
    };
    match md {
        Ok(m) if m.is_dir() => Err(FsError::IsDirectory {
            path: path.to_path_buf(),
        }),
        Ok(m) if refuse_read_only && m.permissions().readonly() => Err(FsError::ReadOnly {
            path: path.to_path_buf(),
        }),
        Ok(m) => Ok((real, file_mode(&m))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((real, None)),
        Err(e) => Err(io_error("read the permissions of", path, e)),
    }
}

/// The project root of this command: every write, directory creation and lock
/// under it stays inside it. Fixed once per command by [`fix_confinement_root`].
static FIXED_ROOT: std::sync::RwLock<Option<FixedRoot>> = std::sync::RwLock::new(None);

#[derive(Debug, Clone)]
struct FixedRoot {
    /// The root as the command named it (absolute, `.`/`..` removed).
    given: PathBuf,
    /// Where it really is: links resolved (as far as it exists).
    canonical: PathBuf,
}

/// Fix the confinement root of this command: the project root, taken from its
/// canonical path. Surfaces call it once, right after they find the project
/// (or, for `init`, name the directory to set up). From then on every write
/// through this module to a path under the root (named either way) must land
/// inside the canonical root: a link anywhere on the way (a linked folder, one
/// that holds its own `.kittify/` included) that leads out is refused with the
/// path it resolves to. Writes elsewhere (`~/.spec-kitty/`, a git directory
/// kept outside the checkout) keep the per-path rule of [`confinement_root`].
/// Returns the canonical root.
pub fn fix_confinement_root(root: &Path) -> PathBuf {
    let given = absolute(root);
    let canonical = resolved(&given);
    if let Ok(mut fixed) = FIXED_ROOT.write() {
        *fixed = Some(FixedRoot {
            given,
            canonical: canonical.clone(),
        });
    }
    canonical
}

/// The fixed root ([`fix_confinement_root`]) when the absolute `abs` lies under it.
fn fixed_root_for(abs: &Path) -> Option<PathBuf> {
    let fixed = FIXED_ROOT.read().ok()?;
    let r = fixed.as_ref()?;
    (abs.starts_with(&r.given) || abs.starts_with(&r.canonical)).then(|| r.canonical.clone())
}

/// `p` (absolute) with links resolved as far as it exists: the canonical path
/// of its nearest existing ancestor, then the rest of it as written. This is
/// where creating `p` (and any missing folders on the way) would really land.
fn resolved(p: &Path) -> PathBuf {
    let mut existing = p;
    loop {
        if fs::symlink_metadata(existing).is_ok() {
            if let Ok(real) = fs::canonicalize(existing) {
                let rest = p.strip_prefix(existing).unwrap_or(Path::new(""));
                return if rest.as_os_str().is_empty() {
                    real
                } else {
                    real.join(rest)
                };
            }
        }
        match existing.parent() {
            Some(up) => existing = up,
            None => return p.to_path_buf(),
        }
    }
}

/// The root that governs writes in directory `dir` (absolute): the fixed
/// project root when `dir` is under it, else the nearest ancestor that is a
/// real directory (not a link) holding `.kittify/`. Canonical. None when
/// neither applies.
fn governing_root(dir: &Path) -> Option<PathBuf> {
    if let Some(root) = fixed_root_for(dir) {
        return Some(root);
    }
    let root = dir.ancestors().find(|a| {
        a.join(".kittify").is_dir() && fs::symlink_metadata(a).is_ok_and(|m| m.is_dir())
    })?;
    Some(fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()))
}

/// The directory a write to `path` must stay inside: the command's project root
/// when one is fixed and `path` is under it ([`fix_confinement_root`]), else the
/// nearest ancestor that is a real directory holding `.kittify/` (a linked
/// folder never counts, whatever it holds), else the path's own directory.
/// Canonical.
pub fn confinement_root(path: &Path) -> PathBuf {
    let dir = parent_dir(&absolute(path));
    governing_root(&dir).unwrap_or_else(|| fs::canonicalize(&dir).unwrap_or(dir))
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        crate::project::normalize(p)
    } else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        crate::project::normalize(&cwd.join(p))
    }
}

fn outside_error(path: &Path, to: &Path, root: &Path, what: &'static str) -> FsError {
    FsError::Outside {
        path: path.to_path_buf(),
        what,
        to: to.to_path_buf(),
        root: root.to_path_buf(),
    }
}

/// The target of the symlink `path` when it resolves inside the confinement
/// root; a dangling link inside is replaced (the path itself is returned).
fn follow_inside(path: &Path) -> Result<PathBuf> {
    check_parent_inside(path)?;
    let root = confinement_root(path);
    match fs::canonicalize(path) {
        Ok(target) if target.starts_with(&root) => Ok(target),
        Ok(target) => Err(outside_error(
            path,
            &target,
            &root,
            "it is a symbolic link to",
        )),
        Err(_) => {
            let link = fs::read_link(path).with_path("read the link", path)?;
            let dir =
                fs::canonicalize(parent_dir(&absolute(path))).unwrap_or_else(|_| parent_dir(path));
            let target = crate::project::normalize(&dir.join(link));
            if target.starts_with(&root) {
                Ok(path.to_path_buf())
            } else {
                Err(outside_error(
                    path,
                    &target,
                    &root,
                    "it is a dangling symbolic link to",
                ))
            }
        }
    }
}

/// The directory `path` is written in resolves inside the confinement root.
fn check_parent_inside(path: &Path) -> Result<()> {
    let dir = parent_dir(&absolute(path));
    match governing_root(&dir) {
        Some(root) => check_dir_within(
            path,
            &dir,
            &root,
            "its directory is a link that resolves to",
        ),
        // Confined to its own directory: nothing to check.
        None => Ok(()),
    }
}

/// Creating or writing in directory `dir` (absolute) lands inside `root`: its
/// nearest existing ancestor resolves inside it (missing folders below that are
/// created as real ones). `path` is what the error names.
fn check_dir_within(path: &Path, dir: &Path, root: &Path, what: &'static str) -> Result<()> {
    let real = resolved(dir);
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(outside_error(path, &real, root, what))
    }
}

/// Would a write to `path` be allowed? The checks of [`atomic_write`] (a link
/// that leads out of the project, a folder on the way that resolves outside
/// it, a directory where the file should be), made without writing anything,
/// for a command that must check every input before it writes the first file.
pub fn check_write(path: &Path) -> Result<()> {
    prepare_target(path, false).map(|_| ())
}

#[cfg(unix)]
fn file_mode(m: &fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn file_mode(_: &fs::Metadata) -> Option<u32> {
    None
}

/// Append `contents` to `path` with one write and sync it (append-only logs).
/// The file is created when missing. The safe-write rule of [`atomic_write`]
/// holds: a link that leads outside the project is refused, never written through.
///
/// All or nothing: when the write or its sync fails (a full disk, a file size
/// limit), the file is cut back to the length it had, so a failed append
/// never leaves a torn line behind. The caller holds the file's lock (the
/// cut-back would otherwise drop another writer's bytes).
pub fn append(path: &Path, contents: &[u8]) -> Result<()> {
    let (real, _) = prepare_target(path, true)?;
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&real)
        .with_path("open", path)?;
    let before = f.metadata().with_path("inspect", path)?.len();
    // Recorded before the bytes go out: a failed append is cut back, and a
    // file recorded but unchanged is simply not committed.
    note_written(&real);
    crate::env::crash_step("append-start", Some(&real));
    // Test hook: a kill in mid-write leaves every line but the last whole
    // and the last one cut in half.
    crate::env::crash_step_then("append-torn", Some(&real), || {
        let body = contents.strip_suffix(b"\n").unwrap_or(contents);
        let last = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let cut = last + (body.len() - last) / 2;
        let _ = f.write_all(contents.get(..cut).unwrap_or(contents));
        let _ = f.sync_data();
    });
    let written = write_appended(&mut f, contents).and_then(|()| f.sync_data());
    if let Err(source) = written {
        let restored = f.set_len(before).and_then(|()| f.sync_data());
        return Err(match restored {
            Ok(()) => FsError::AppendUndone {
                path: path.to_path_buf(),
                source,
            },
            Err(_) => io_error("append to", path, source),
        });
    }
    crate::env::crash_step("append-done", Some(&real));
    Ok(())
}

/// `write_all`, except that the `SPEC_KITTY_TEST_APPEND_FAIL_AFTER` test hook
/// makes it write only that many bytes and then fail as a full disk would.
fn write_appended(f: &mut File, contents: &[u8]) -> std::io::Result<()> {
    if let Some(n) = crate::env::append_fails_after() {
        f.write_all(contents.get(..n).unwrap_or(contents))?;
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    f.write_all(contents)
}

/// Most files written at once by [`atomic_write_all`] get their own thread up to
/// this many: syncing is waiting on the disk, and overlapping the waits lets the
/// filesystem commit them together.
const SYNC_THREADS: usize = 8;

/// Replace several files as one step. Every new file is first written in full to
/// a temp file beside its target and synced (the syncs overlap on a few threads);
/// only when all of them are safely on disk are they renamed into place, in the
/// order given. An error while writing (a full disk, a read-only file or
/// directory) leaves every target untouched and removes the temp files. Each
/// rename is atomic, so a reader or a crash sees every file either old or new.
pub fn atomic_write_all(files: &[(&Path, &[u8])]) -> Result<()> {
    // Every target is checked (read-only? a directory?) before anything is written.
    let mut checked = None;
    let targets: Vec<(PathBuf, Option<u32>)> = files
        .iter()
        .map(|(p, _)| prepare_target_in(p, true, &mut checked))
        .collect::<Result<_>>()?;
    let jobs: Vec<(&Path, &Path, &[u8], Option<u32>)> = files
        .iter()
        .zip(&targets)
        .map(|((p, c), (real, mode))| (*p, real.as_path(), *c, *mode))
        .collect();
    let write =
        |(_, real, c, mode): &(&Path, &Path, &[u8], Option<u32>)| write_temp(real, c, *mode);
    let temps: Vec<Result<PathBuf>> = if jobs.len() < 2 {
        jobs.iter().map(write).collect()
    } else {
        let per_thread = jobs.len().div_ceil(SYNC_THREADS);
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(per_thread)
                .map(|chunk| scope.spawn(move || chunk.iter().map(write).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .zip(jobs.chunks(per_thread))
                .flat_map(|(h, chunk)| {
                    h.join().unwrap_or_else(|_| {
                        chunk
                            .iter()
                            .map(|(p, ..)| {
                                Err(FsError::WriterPanicked {
                                    path: p.to_path_buf(),
                                })
                            })
                            .collect()
                    })
                })
                .collect()
        })
    };
    let mut first_error = None;
    let mut written = Vec::with_capacity(temps.len());
    for t in temps {
        match t {
            Ok(tmp) => written.push(tmp),
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    if let Some(e) = first_error {
        for tmp in written {
            let _ = fs::remove_file(tmp);
        }
        return Err(e);
    }
    let temps = written;
    for (k, ((path, real, ..), tmp)) in jobs.iter().zip(&temps).enumerate() {
        crate::env::crash_before_rename(real);
        crate::env::crash_step("write-temp", Some(real));
        if let Err(e) = fs::rename(tmp, real) {
            for t in &temps[k..] {
                let _ = fs::remove_file(t);
            }
            return Err(io_error("replace", path, e));
        }
        note_written(real);
        crate::env::crash_step("write-done", Some(real));
    }
    let dirs: std::collections::BTreeSet<PathBuf> =
        jobs.iter().map(|(_, real, ..)| parent_dir(real)).collect();
    for dir in dirs {
        sync_dir(&dir)?;
    }
    Ok(())
}

/// Write `contents` to a new temp file beside `path` (`.<name>.<pid>.<n>.tmp`) and
/// sync it; returns the temp file's path. Errors name `path`, the file the user
/// knows; on error nothing is left behind.
fn write_temp(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<PathBuf> {
    write_temp_synced(path, contents, mode, true)
}

/// [`write_temp`], synced to disk or (`sync` false, for [`write_derived`]) not.
fn write_temp_synced(
    path: &Path,
    contents: &[u8],
    mode: Option<u32>,
    sync: bool,
) -> Result<PathBuf> {
    let dir = parent_dir(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        unique_suffix()
    ));
    let result = (|| -> Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_path("write", path)?;
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(mode))
                .with_path("set permissions on", path)?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        f.write_all(contents).with_path("write", path)?;
        if sync {
            f.sync_all().with_path("write", path)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Remove temp files that [`atomic_write`] left in `dir` when its process was
/// killed before the rename. Temp files of processes still running are kept.
/// Best effort: returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(rd) = fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten().filter(remove_if_stale_temp).count()
}

/// Remove the directory entry `e` when it is a temp file [`atomic_write`]
/// left behind in a process that is no longer running (as
/// [`remove_stale_temps`] does for each entry of a directory, for a caller
/// listing it anyway). Returns whether it was removed.
pub fn remove_if_stale_temp(e: &fs::DirEntry) -> bool {
    let Some(pid) = e.file_name().to_str().and_then(temp_owner) else {
        return false;
    };
    !process_alive(pid) && fs::remove_file(e.path()).is_ok()
}

/// [`remove_stale_temps`] in `dir` and every directory below it (at most 8
/// levels; symlinks are not followed). Returns how many were removed.
pub fn remove_stale_temps_under(dir: &Path) -> usize {
    let mut removed = 0;
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    // One listing per directory finds both its temp files and its subdirectories.
    while let Some((d, depth)) = stack.pop() {
        let mut subdirs = Vec::new();
        let _ = for_each_entry(&d, |name, kind| {
            // Temp files begin with a dot: other names (5,000 WP files) are
            // not read as text.
            let owner = (name.as_encoded_bytes().first() == Some(&b'.'))
                .then(|| name.to_str().and_then(temp_owner))
                .flatten();
            if let Some(pid) = owner {
                if !process_alive(pid) && fs::remove_file(d.join(name)).is_ok() {
                    removed += 1;
                    return;
                }
            }
            if depth < 8 && kind == EntryKind::Dir {
                subdirs.push(d.join(name));
            }
        });
        stack.extend(subdirs.into_iter().map(|s| (s, depth + 1)));
    }
    removed
}

/// What a directory listing says an entry is, without following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// Anything else (a socket, a device...), or an entry gone before it
    /// could be looked at.
    Other,
}

/// Call `f` with the name and kind of every entry of `dir` (not `.` and
/// `..`), in the order the directory gives them, from one pass and without
/// allocating per entry: std's listing allocates each name twice, which was
/// most of listing a mission's 5,000 WP files. The kind comes from the
/// listing when the file system gives it, else from an `lstat`, as std's
/// `DirEntry::file_type` does. Entries that cannot be read are skipped, as
/// `read_dir(..).flatten()` skips them.
#[cfg(any(target_os = "linux", target_os = "macos"))]
pub fn for_each_entry(
    dir: &Path,
    mut f: impl FnMut(&std::ffi::OsStr, EntryKind),
) -> std::io::Result<()> {
    use std::ffi::{CStr, CString, OsStr};
    use std::os::unix::ffi::OsStrExt;

    let c = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: `c` is a NUL-terminated path; a null stream is an error.
    let stream = unsafe { libc::opendir(c.as_ptr()) };
    if stream.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    struct Stream(*mut libc::DIR);
    impl Drop for Stream {
        fn drop(&mut self) {
            // SAFETY: opened above, closed once, here.
            unsafe { libc::closedir(self.0) };
        }
    }
    let stream = Stream(stream);
    loop {
        // SAFETY: the stream is open; the entry it returns stays valid until
        // the next readdir on it, and is only read before that.
        let entry = unsafe { libc::readdir(stream.0) };
        if entry.is_null() {
            return Ok(());
        }
        // SAFETY: d_name is NUL-terminated within the entry.
        let (name, d_type) = unsafe { (CStr::from_ptr((*entry).d_name.as_ptr()), (*entry).d_type) };
        let name = name.to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match d_type {
            libc::DT_REG => EntryKind::File,
            libc::DT_DIR => EntryKind::Dir,
            libc::DT_LNK => EntryKind::Symlink,
            libc::DT_UNKNOWN => match fs::symlink_metadata(dir.join(OsStr::from_bytes(name))) {
                Ok(md) if md.file_type().is_file() => EntryKind::File,
                Ok(md) if md.file_type().is_dir() => EntryKind::Dir,
                Ok(md) if md.file_type().is_symlink() => EntryKind::Symlink,
                _ => EntryKind::Other,
            },
            _ => EntryKind::Other,
        };
        f(OsStr::from_bytes(name), kind);
    }
}

/// [`for_each_entry`] through std's listing elsewhere.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn for_each_entry(
    dir: &Path,
    mut f: impl FnMut(&std::ffi::OsStr, EntryKind),
) -> std::io::Result<()> {
    for e in fs::read_dir(dir)?.flatten() {
        let kind = match e.file_type() {
            Ok(t) if t.is_file() => EntryKind::File,
            Ok(t) if t.is_dir() => EntryKind::Dir,
            Ok(t) if t.is_symlink() => EntryKind::Symlink,
            _ => EntryKind::Other,
        };
        f(&e.file_name(), kind);
    }
    Ok(())
}

/// Whether `name` is the name of an [`atomic_write`] temp file
/// (`.<name>.<pid>.<n>.tmp`): never content, never committed.
pub fn is_temp_name(name: &str) -> bool {
    temp_owner(name).is_some()
}

/// The pid in a temp file name `.<name>.<pid>.<n>.tmp`.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let n = parts.next()?;
    let pid = parts.next()?;
    let _target = parts.next().filter(|t| !t.is_empty())?;
    if !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` is running (this process always is; where there is no
/// cheap check, every process counts as running).
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Without a cheap liveness check, keep everything.
        true
    }
}

/// Write only when the content differs; returns whether the file changed.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<bool> {
    if let Ok(old) = fs::read(path) {
        if old == contents {
            return Ok(false);
        }
    }
    atomic_write(path, contents)?;
    Ok(true)
}

/// Read a file of at most `max` bytes as UTF-8; None when it does not exist.
/// A bigger file is refused before it is read (its size is checked on the open
/// file, and the read stops at the cap, so a growing file cannot slip past).
pub fn read_capped(path: &Path, max: u64) -> Result<Option<String>> {
    use std::io::Read;
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, e)),
    };
    let too_big = |size: u64| FsError::TooBig {
        path: path.to_path_buf(),
        size,
        max,
    };
    let len = f.metadata().with_path("read", path)?.len();
    if len > max {
        return Err(too_big(len));
    }
    // One read sized by the stat, asking one byte more to see the end: a file
    // that gives exactly its size is read whole (no second read to learn it is
    // at its end). One that gave less (a short read, it shrank) or more (it
    // grew, or does not know its size, as /proc files) is read on to the end,
    // still stopping at the cap.
    let want = usize::try_from(len).unwrap_or(usize::MAX).saturating_add(1);
    let mut bytes = vec![0u8; want];
    let got = loop {
        match (&f).read(&mut bytes) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error("read", path, e)),
        }
    };
    bytes.truncate(got);
    if got as u64 != len {
        (&f).take((max + 1).saturating_sub(got as u64))
            .read_to_end(&mut bytes)
            .with_path("read", path)?;
    }
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|source| FsError::NotUtf8 {
            path: path.to_path_buf(),
            source,
        })
}

/// Read a file as UTF-8 (a leading BOM is dropped), naming the file on error.
/// A file over [`crate::bounds::MAX_TEXT_BYTES`] is refused before it is read.
pub fn read_to_string(path: &Path) -> Result<String> {
    read_capped(path, crate::bounds::MAX_TEXT_BYTES)?.ok_or_else(|| {
        io_error(
            "read",
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })
}

/// Create `dir` (and its parents) as a private directory: mode 0700, a real
/// directory (a link there is refused, never followed), owned by this user. An
/// existing one that is wider is narrowed to 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent() {
        create_dir_all(parent)?;
    }
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    match b.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error("create directory", dir, e)),
    }
    let meta = fs::symlink_metadata(dir).with_path("inspect", dir)?;
    if !meta.is_dir() {
        return Err(FsError::NotADirectory {
            dir: dir.to_path_buf(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // The directory must be ours: another user could read or swap our prompts.
        let me = current_uid();
        if me.is_some_and(|uid| uid != meta.uid()) {
            return Err(FsError::OtherOwner {
                dir: dir.to_path_buf(),
            });
        }
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .with_path("set permissions on", dir)?;
        }
    }
    Ok(())
}

/// This process's user id: the owner of `/proc/self` (Linux); None elsewhere.
#[cfg(unix)]
fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// Write `contents` to `path` (mode 0600) without ever following what is there:
/// a file, or a link planted at `path`, is replaced by the new regular file,
/// and the target of such a link is never touched. For files in a private
/// directory ([`create_private_dir`]) that a command writes again each time it
/// hands them out (prompts): atomic, not synced (see [`write_derived`]).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    check_parent_inside(path)?;
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(FsError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    // A prompt is written again by every command that hands it out: atomic
    // (never torn), not synced (see [`write_derived`]).
    let tmp = write_temp_synced(path, contents, Some(0o600), false)?;
    fs::rename(&tmp, path)
        .with_path("replace", path)
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
    note_written(path);
    Ok(())
}

/// A file's identity and version: device, inode, size and modification time
/// (ns). Every write here is an atomic replace (a new inode) or an append
/// (a new size), so two reads of a file with the same stamp read the same
/// bytes: what a command parsed once it need not parse again.
pub type FileStamp = (u64, u64, u64, u64);

/// The [`FileStamp`] of `md`.
pub fn file_stamp(md: &fs::Metadata) -> FileStamp {
    let (dev, ino) = dev_ino(md);
    (dev, ino, md.len(), mtime_ns(md))
}

/// A file's device and inode (0, 0 where the platform has none).
pub fn dev_ino(md: &fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (md.dev(), md.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = md;
        (0, 0)
    }
}

/// A file's modification time in ns since the epoch (0 when unknown).
pub fn mtime_ns(md: &fs::Metadata) -> u64 {
    md.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Read `buf.len()` bytes of `file` at `offset` (fewer at its end), without
/// moving a shared cursor where the platform allows.
pub fn read_at(file: &fs::File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        #[cfg(unix)]
        let got = {
            use std::os::unix::fs::FileExt;
            file.read_at(&mut buf[filled..], offset + filled as u64)
        };
        #[cfg(not(unix))]
        let got = {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = file;
            f.seek(SeekFrom::Start(offset + filled as u64))
                .and_then(|_| f.read(&mut buf[filled..]))
        };
        match got {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What `stat` says of a file, for a caller that keys derived state on it:
/// device, inode, size, modification and change times (ns since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatId {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

/// An open directory whose entries are stat'ed by a path relative to it: the
/// kernel walks only the relative part (a listing stats three files in each
/// of hundreds of directories; walking each absolute path from the root was
/// most of its system time).
#[derive(Debug)]
pub struct DirStat {
    #[cfg(unix)]
    dir: File,
}

impl DirStat {
    /// Open `dir`; None when it cannot be opened, or on a system without
    /// `fstatat` (the caller stats absolute paths then).
    pub fn open(dir: &Path) -> Option<DirStat> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let dir = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY)
                .open(dir)
                .ok()?;
            Some(DirStat { dir })
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            None
        }
    }

    /// The [`StatId`] of `rel` (a relative path, links followed): None when
    /// it does not exist, Err when it cannot be stat'ed.
    pub fn stat(&self, rel: &Path) -> std::io::Result<Option<StatId>> {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            use std::os::unix::io::AsRawFd;
            let c = std::ffi::CString::new(rel.as_os_str().as_bytes())
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
            if rel.is_absolute() {
                return Err(std::io::ErrorKind::InvalidInput.into());
            }
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            // SAFETY: a valid directory descriptor (owned by self), a
            // NUL-terminated path and a buffer of the size fstatat writes.
            let r = unsafe { libc::fstatat(self.dir.as_raw_fd(), c.as_ptr(), st.as_mut_ptr(), 0) };
            if r != 0 {
                let e = std::io::Error::last_os_error();
                return match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(None),
                    _ => Err(e),
                };
            }
            // SAFETY: fstatat returned 0, so it filled the buffer.
            let st = unsafe { st.assume_init() };
            let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
            #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
            Ok(Some(StatId {
                dev: st.st_dev as u64,
                ino: st.st_ino as u64,
                size: u64::try_from(st.st_size).unwrap_or(0),
                mtime_ns: ns(st.st_mtime as i64, st.st_mtime_nsec as i64),
                ctime_ns: ns(st.st_ctime as i64, st.st_ctime_nsec as i64),
            }))
        }
        #[cfg(not(unix))]
        {
            let _ = rel;
            Err(std::io::ErrorKind::Unsupported.into())
        }
    }
}

/// The files written while a [`WriteJournal`] is open (None: none is open).
static JOURNAL: std::sync::Mutex<Option<std::collections::BTreeSet<PathBuf>>> =
    std::sync::Mutex::new(None);

/// A record of every file this process writes, appends to, moves into place
/// or removes while it is open: [`atomic_write`] and its kin, [`append`],
/// [`write_private`], the removals of [`crate::confine`] and a new mission's
/// directory (`mission::create`). A command's surface opens one before the
/// command runs and closes it after, to learn what the command changed (what
/// `auto_commit` commits) without stamping every file of the project. One is
/// open at a time in a process; opening another starts a fresh record.
#[derive(Debug)]
pub struct WriteJournal(());

impl WriteJournal {
    /// Start recording.
    pub fn open() -> WriteJournal {
        if let Ok(mut j) = JOURNAL.lock() {
            *j = Some(std::collections::BTreeSet::new());
        }
        WriteJournal(())
    }

    /// Stop recording; the absolute paths written since [`WriteJournal::open`],
    /// sorted, each once (a directory stands for everything in it).
    pub fn close(self) -> Vec<PathBuf> {
        JOURNAL
            .lock()
            .ok()
            .and_then(|mut j| j.take())
            .map(|set| set.into_iter().collect())
            .unwrap_or_default()
    }
}

/// Record `path` (a file or a directory this process just wrote, moved into
/// place or removed) in the open [`WriteJournal`], if any.
pub fn note_written(path: &Path) {
    let Ok(mut j) = JOURNAL.lock() else { return };
    if let Some(set) = j.as_mut() {
        set.insert(absolute(path));
    }
}

/// Create a directory and its parents, naming it on error. Under the project
/// (see [`confinement_root`]) the directory must land inside it: a link on the
/// way that leads out is refused and nothing is created.
pub fn create_dir_all(path: &Path) -> Result<()> {
    let abs = absolute(path);
    if let Some(root) = governing_root(&abs) {
        check_dir_within(path, &abs, &root, "it is reached through a link to")?;
    }
    fs::create_dir_all(path).with_path("create directory", path)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32)
}

/// An exclusive advisory lock held until dropped.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

/// Why a [`FileLock`] could not be taken. Converts into [`Error`] through
/// [`Diagnose`](crate::error::Diagnose), keeping the I/O error as its source.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process held the lock for the whole wait.
    #[error("timed out after {:.1}s waiting for the lock on {what} ({})", .waited.as_secs_f64(), .path.display())]
    Timeout {
        what: String,
        path: PathBuf,
        waited: Duration,
    },
    /// The lock file or its directory would be reached through a link that
    /// leads out of the project ([`FsError::Outside`]).
    #[error("{0}")]
    Confined(Box<FsError>),
    /// The lock file or its directory could not be made, opened or locked.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl crate::error::Diagnose for LockError {
    fn hint(&self) -> Option<String> {
        match self {
            LockError::Timeout { .. } => Some(
                "another spec-kitty process holds it; wait for it to finish and try again".into(),
            ),
            LockError::Io { path, source, .. } => crate::error::io_hint(path, source.kind()),
            LockError::Confined(e) => e.hint(),
        }
    }
}

impl FileLock {
    /// Take an exclusive lock on `lock_path` (created if missing), waiting at most
    /// `timeout`. `what` names the protected state in the timeout message.
    pub fn acquire(
        lock_path: &Path,
        timeout: Duration,
        what: &str,
    ) -> std::result::Result<FileLock, LockError> {
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io {
                action,
                path,
                source,
            }
        };
        // A lock file is a write like any other: never through a link out.
        if let Some(dir) = lock_path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                create_dir_all(dir).map_err(|e| match e {
                    FsError::Io { source, .. } => io("create directory", dir)(source),
                    other => LockError::Confined(Box::new(other)),
                })?;
            }
        }
        prepare_target(lock_path, false).map_err(|e| LockError::Confined(Box::new(e)))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(io("open lock file", lock_path))?;
        let start = Instant::now();
        let mut backoff = Duration::from_millis(1);
        let mut first_wait = true;
        loop {
            match file.try_lock_exclusive() {
                Ok(()) => {
                    return Ok(FileLock {
                        file,
                        path: lock_path.to_path_buf(),
                    })
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.raw_os_error() == fs2::lock_contended_error().raw_os_error() =>
                {
                    if first_wait {
                        // Test hook: tell a test this process now waits here.
                        first_wait = false;
                        crate::env::pause_at(crate::env::PausePoint::LockBusy);
                    }
                    if start.elapsed() >= timeout {
                        return Err(LockError::Timeout {
                            what: what.to_string(),
                            path: lock_path.to_path_buf(),
                            waited: timeout,
                        });
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(25));
                }
                Err(e) => return Err(io("lock", lock_path)(e)),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listing gives every entry std's gives, with the same kind, names
    /// that are not UTF-8 included, and nothing for `.` and `..`.
    #[cfg(unix)]
    #[test]
    fn each_entry_is_listed_once_with_its_kind() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("file.md"), "x").unwrap();
        fs::write(d.join(std::ffi::OsStr::from_bytes(b"WP01-\xff.md")), "x").unwrap();
        fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink(d.join("file.md"), d.join("link")).unwrap();
        std::os::unix::fs::symlink(d.join("missing"), d.join("dangling")).unwrap();
        let fifo = std::ffi::CString::new(d.join("fifo").as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let mut ours = Vec::new();
        for_each_entry(d, |name, kind| ours.push((name.to_os_string(), kind))).unwrap();
        ours.sort();
        let mut std_: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                let kind = if t.is_file() {
                    EntryKind::File
                } else if t.is_dir() {
                    EntryKind::Dir
                } else if t.is_symlink() {
                    EntryKind::Symlink
                } else {
                    EntryKind::Other
                };
                (e.file_name(), kind)
            })
            .collect();
        std_.sort();
        assert_eq!(ours.len(), 6, "{ours:?}");
        assert_eq!(ours, std_);
        let missing = for_each_entry(&d.join("nope"), |_, _| {}).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        let not_a_dir = for_each_entry(&d.join("file.md"), |_, _| {}).unwrap_err();
        assert_ne!(not_a_dir.kind(), std::io::ErrorKind::NotFound);
    }

    /// A stat relative to an open directory is the file's own stat (links
    /// followed); a missing file is None; an absolute path is refused.
    #[cfg(unix)]
    #[test]
    fn dir_stat_matches_the_file() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("a")).unwrap();
        fs::write(tmp.path().join("a/f.txt"), "hello").unwrap();
        std::os::unix::fs::symlink("f.txt", tmp.path().join("a/link")).unwrap();
        let d = DirStat::open(tmp.path()).unwrap();
        let md = fs::metadata(tmp.path().join("a/f.txt")).unwrap();
        let want = StatId {
            dev: md.dev(),
            ino: md.ino(),
            size: 5,
            mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
            ctime_ns: md.ctime() * 1_000_000_000 + md.ctime_nsec(),
        };
        assert_eq!(d.stat(Path::new("a/f.txt")).unwrap(), Some(want));
        assert_eq!(d.stat(Path::new("a/link")).unwrap(), Some(want));
        assert_eq!(d.stat(Path::new("a/missing")).unwrap(), None);
        assert!(d.stat(&tmp.path().join("a/f.txt")).is_err());
        assert!(d.stat(Path::new("a/f.txt/x")).is_err(), "not a directory");
        assert!(DirStat::open(&tmp.path().join("a/f.txt")).is_none());
    }

    #[test]
    fn directories_are_synced_after_the_rename() {
        let dir = tempfile::tempdir().unwrap();
        assert!(sync_dir(dir.path()).is_ok());
        let gone = dir.path().join("gone");
        let e = sync_dir(&gone).unwrap_err();
        assert!(
            matches!(&e, FsError::Io { action: "open directory", path, source }
                if path == &gone && source.kind() == std::io::ErrorKind::NotFound),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert!(e.message.contains("gone"), "{}", e.message);
        assert!(e.typed::<FsError>().is_some());
        // Both write paths sync the target's directory, also for a bare file name.
        atomic_write(&dir.path().join("a"), b"1").unwrap();
        let (a, b) = (dir.path().join("x"), dir.path().join("y"));
        atomic_write_all(&[(&a, b"1"), (&b, b"2")]).unwrap();
        assert_eq!(fs::read(&b).unwrap(), b"2");
    }

    #[test]
    fn atomic_write_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        atomic_write(&p, b"one").unwrap();
        atomic_write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp files left behind");
    }

    #[test]
    fn write_all_replaces_every_file_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..20).map(|i| dir.path().join(format!("f{i}"))).collect();
        for p in &paths {
            fs::write(p, "old").unwrap();
        }
        let files: Vec<(&Path, &[u8])> = paths.iter().map(|p| (p.as_path(), &b"new"[..])).collect();
        atomic_write_all(&files).unwrap();
        for p in &paths {
            assert_eq!(fs::read(p).unwrap(), b"new");
        }
        // One target cannot be written (its directory is missing): nothing changes.
        let missing = dir.path().join("no-such-dir/f");
        let mut files: Vec<(&Path, &[u8])> =
            paths.iter().map(|p| (p.as_path(), &b"newer"[..])).collect();
        files.insert(7, (missing.as_path(), b"x"));
        let err = atomic_write_all(&files).unwrap_err();
        assert!(matches!(err, FsError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        for p in &paths {
            assert_eq!(fs::read(p).unwrap(), b"new");
        }
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            20,
            "no temp files left"
        );
        atomic_write_all(&[]).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn read_only_refused_mode_kept_symlink_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ro = dir.path().join("ro.md");
        fs::write(&ro, "old").unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).unwrap();
        let other = dir.path().join("other.md");
        fs::write(&other, "old").unwrap();
        for result in [
            atomic_write(&ro, b"new"),
            atomic_write_all(&[(other.as_path(), b"new"), (ro.as_path(), b"new")]),
        ] {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, FsError::ReadOnly { path } if path == &ro),
                "{err:?}"
            );
            let err = crate::Error::from(err);
            assert!(
                err.message.contains("ro.md") && err.message.contains("read-only"),
                "{}",
                err.message
            );
            assert!(err.hint.unwrap().contains("chmod u+w"));
        }
        assert_eq!(fs::read(&ro).unwrap(), b"old");
        assert_eq!(
            fs::read(&other).unwrap(),
            b"old",
            "nothing written before the check"
        );
        // An explicit mode (credentials) is the caller's decision.
        atomic_write_mode(&ro, b"new", Some(0o600)).unwrap();
        assert_eq!(
            fs::metadata(&ro).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let script = dir.path().join("run.sh");
        fs::write(&script, "old").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o751)).unwrap();
        atomic_write(&script, b"new").unwrap();
        assert_eq!(
            fs::metadata(&script).unwrap().permissions().mode() & 0o777,
            0o751
        );

        let real = dir.path().join("real.md");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        atomic_write_all(&[(link.as_path(), b"via link")]).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"via link");

        let err = atomic_write(dir.path(), b"x").unwrap_err();
        assert!(matches!(err, FsError::IsDirectory { .. }), "{err:?}");
        assert!(err.to_string().contains("directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_project_are_refused_inside_followed() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        fs::create_dir_all(root.join(".kittify")).unwrap();
        fs::create_dir_all(root.join("sub")).unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, "keep").unwrap();
        let link = root.join("sub/out.md");
        symlink(&outside, &link).unwrap();
        for r in [
            atomic_write(&link, b"x"),
            atomic_write_all(&[(link.as_path(), b"x")]),
            append(&link, b"x"),
        ] {
            let e = r.unwrap_err();
            assert!(matches!(e, FsError::Outside { .. }), "{e:?}");
            let e = crate::Error::from(e);
            assert!(e.message.contains("refusing to write"), "{}", e.message);
            assert!(e.hint.unwrap().contains("never writes through a link"));
        }
        assert_eq!(fs::read(&outside).unwrap(), b"keep");
        // Dangling, pointing outside: refused too (nothing created there).
        let dangling = root.join("sub/dangling.md");
        symlink(dir.path().join("new.txt"), &dangling).unwrap();
        assert!(atomic_write(&dangling, b"x").is_err());
        assert!(!dir.path().join("new.txt").exists());
        // A linked parent directory leading out.
        let out_dir = dir.path().join("elsewhere");
        fs::create_dir_all(&out_dir).unwrap();
        symlink(&out_dir, root.join("linked")).unwrap();
        assert!(atomic_write(&root.join("linked/f.md"), b"x").is_err());
        assert!(!out_dir.join("f.md").exists());
        // Inside the project a link is followed.
        let real = root.join("real.md");
        fs::write(&real, "old").unwrap();
        let inside = root.join("sub/in.md");
        symlink(&real, &inside).unwrap();
        atomic_write(&inside, b"new").unwrap();
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert!(fs::symlink_metadata(&inside)
            .unwrap()
            .file_type()
            .is_symlink());
        // write_private never follows: the link itself is replaced.
        write_private(&link, b"private").unwrap();
        assert_eq!(fs::read(&outside).unwrap(), b"keep");
        assert!(fs::symlink_metadata(&link).unwrap().is_file());
    }

    /// A batch resolves each directory once, and still refuses every file
    /// whose directory (or whose own link) leads out of the project, wherever
    /// it comes in the batch: nothing of the batch is written.
    #[cfg(unix)]
    #[test]
    fn a_batch_checks_each_directory_and_each_link() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        fs::create_dir_all(root.join(".kittify")).unwrap();
        fs::create_dir_all(root.join("tasks")).unwrap();
        let out_dir = dir.path().join("elsewhere");
        fs::create_dir_all(&out_dir).unwrap();
        symlink(&out_dir, root.join("linked")).unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, "keep").unwrap();
        symlink(&outside, root.join("tasks/out.md")).unwrap();
        let (a, b, c) = (
            root.join("tasks/a.md"),
            root.join("tasks/b.md"),
            root.join("c.md"),
        );
        let linked = root.join("linked/f.md");
        let link_out = root.join("tasks/out.md");
        for batch in [
            vec![a.as_path(), b.as_path(), linked.as_path()],
            vec![linked.as_path(), a.as_path()],
            vec![a.as_path(), c.as_path(), linked.as_path(), b.as_path()],
            vec![a.as_path(), link_out.as_path(), b.as_path()],
        ] {
            let files: Vec<(&Path, &[u8])> = batch.iter().map(|p| (*p, &b"x"[..])).collect();
            let e = atomic_write_all(&files).unwrap_err();
            assert!(matches!(e, FsError::Outside { .. }), "{e:?}");
            assert!(!a.exists() && !b.exists() && !c.exists(), "nothing written");
            assert!(!out_dir.join("f.md").exists());
            assert_eq!(fs::read(&outside).unwrap(), b"keep");
        }
        // A link that stays inside, among plain files of the same directory.
        let real = root.join("real.md");
        fs::write(&real, "old").unwrap();
        symlink(&real, root.join("tasks/in.md")).unwrap();
        let inside = root.join("tasks/in.md");
        atomic_write_all(&[
            (a.as_path(), b"a"),
            (inside.as_path(), b"new"),
            (b.as_path(), b"b"),
        ])
        .unwrap();
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(fs::read(&a).unwrap(), b"a");
        assert_eq!(fs::read(&b).unwrap(), b"b");
        assert!(fs::symlink_metadata(&inside)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_folder_holding_its_own_kittify_is_never_a_write_root() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        fs::create_dir_all(root.join(".kittify")).unwrap();
        let home = dir.path().join("home");
        fs::create_dir_all(home.join(".kittify")).unwrap();
        let home = fs::canonicalize(home).unwrap();
        symlink(&home, root.join("research")).unwrap();
        let file = root.join("research/evidence.csv");
        let e = atomic_write(&file, b"x").unwrap_err();
        match &e {
            FsError::Outside { to, root: r, .. } => {
                assert_eq!(to, &home, "names where the link resolves");
                assert_eq!(r, &fs::canonicalize(&root).unwrap());
            }
            other => panic!("{other:?}"),
        }
        let e = create_dir_all(&root.join("research/sub")).unwrap_err();
        assert!(matches!(e, FsError::Outside { .. }), "{e:?}");
        assert!(check_write(&file).is_err());
        let lock = FileLock::acquire(&root.join("research/x.lock"), LOCK_TIMEOUT, "x");
        assert!(matches!(lock, Err(LockError::Confined(_))), "{lock:?}");
        assert_eq!(
            fs::read_dir(&home).unwrap().count(),
            1,
            "only .kittify there"
        );
        // A folder that does not exist yet resolves through its existing parent.
        assert_eq!(resolved(&root.join("research/a/b")), home.join("a/b"));
    }

    #[test]
    fn stale_temps_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir
            .path()
            .join(format!(".a.md.{}.7.tmp", std::process::id()));
        // No process has pid 4194304 + 1 (above the Linux maximum).
        let dead = dir.path().join(".a.md.4194305.7.tmp");
        let other = dir.path().join(".a.md.x.tmp");
        for p in [&mine, &dead, &other] {
            fs::write(p, "x").unwrap();
        }
        let removed = remove_stale_temps(dir.path());
        assert!(mine.exists());
        assert!(other.exists());
        if cfg!(target_os = "linux") {
            assert_eq!(removed, 1);
            assert!(!dead.exists());
        }
        assert_eq!(temp_owner(".WP01-a.md.123.456.tmp"), Some(123));
        assert_eq!(temp_owner(".123.456.tmp"), None);
        assert_eq!(temp_owner("WP01.md"), None);
    }

    #[test]
    fn stale_temps_are_removed_in_every_directory_below_up_to_eight_levels() {
        let dir = tempfile::tempdir().unwrap();
        let live = format!(".a.md.{}.7.tmp", std::process::id());
        let mut dirs = vec![dir.path().to_path_buf()];
        for depth in 1..=10 {
            dirs.push(dirs[depth - 1].join(format!("d{depth}")));
        }
        fs::create_dir_all(&dirs[10]).unwrap();
        // A directory with a temp file's name is not a file to remove: it is
        // searched like any other.
        let odd = dir.path().join(".b.md.4194305.1.tmp");
        fs::create_dir(&odd).unwrap();
        for d in dirs.iter().chain([&odd]) {
            fs::write(d.join(".a.md.4194305.7.tmp"), "x").unwrap();
            fs::write(d.join(&live), "x").unwrap();
            fs::write(d.join("WP01-a.md"), "x").unwrap();
        }
        let removed = remove_stale_temps_under(dir.path());
        if !cfg!(target_os = "linux") {
            return;
        }
        // The root (depth 0) through depth 8, and the odd directory (depth 1).
        assert_eq!(removed, 10);
        for (depth, d) in dirs.iter().enumerate() {
            let dead = d.join(".a.md.4194305.7.tmp");
            assert_eq!(dead.exists(), depth > 8, "{}", dead.display());
            assert!(d.join(&live).exists() && d.join("WP01-a.md").exists());
        }
        assert!(odd.is_dir() && !odd.join(".a.md.4194305.7.tmp").exists());
    }

    #[test]
    fn reads_over_the_cap_or_not_utf8_are_typed_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.md");
        fs::write(&big, "x".repeat(11)).unwrap();
        let e = read_capped(&big, 10).unwrap_err();
        assert!(
            matches!(
                e,
                FsError::TooBig {
                    size: 11,
                    max: 10,
                    ..
                }
            ),
            "{e:?}"
        );
        let bad = dir.path().join("bad.md");
        fs::write(&bad, b"ok\xff").unwrap();
        let e = read_to_string(&bad).unwrap_err();
        assert!(matches!(e, FsError::NotUtf8 { .. }), "{e:?}");
        assert!(
            e.to_string().ends_with("bad.md: not valid UTF-8 (byte 2)"),
            "{e}"
        );
        use std::error::Error as _;
        assert!(e
            .source()
            .unwrap()
            .downcast_ref::<std::string::FromUtf8Error>()
            .is_some());
        let e = read_to_string(&dir.path().join("none.md")).unwrap_err();
        assert!(
            matches!(&e, FsError::Io { action: "read", source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{e:?}"
        );
    }

    #[test]
    fn lock_times_out_with_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let _held = FileLock::acquire(&p, LOCK_TIMEOUT, "test state").unwrap();
        let err = FileLock::acquire(&p, Duration::from_millis(30), "test state").unwrap_err();
        assert!(matches!(err, LockError::Timeout { .. }), "{err:?}");
        let err = crate::Error::from(err);
        assert!(err.message.contains("timed out"), "{}", err.message);
        assert!(err.message.contains("x.lock"));
        assert!(err.hint.unwrap().contains("another spec-kitty process"));
    }
}
