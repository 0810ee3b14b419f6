//! Linked worktrees as git registers them: which directories are worktrees
//! of a repository, and dropping a registration.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::{BranchType, Oid, Repository, WorktreeAddOptions};

/// How many [`ObjectChecksOff`] are alive in the process.
static CHECKS_OFF: Mutex<usize> = Mutex::new(0);

/// While alive, libgit2 skips two checks of its own that a new worktree's
/// checkout would otherwise make once per file, and that `git worktree add`
/// does not make: hashing every object it reads again to compare it with its
/// id (strict hash verification; zlib's checksum still catches a damaged
/// object), and reading every blob's header again before the new index may
/// name it (strict object creation; the blob was just read from the tree
/// being checked out). At 5,000 files they were a fifth of the checkout's
/// instructions and an extra open and read per file. Process-wide libgit2
/// settings: the first guard turns them off, the last one dropped turns
/// them back on.
pub(in crate::git) struct ObjectChecksOff(());

impl ObjectChecksOff {
    pub(in crate::git) fn new() -> ObjectChecksOff {
        let mut n = CHECKS_OFF.lock().unwrap_or_else(|e| e.into_inner());
        if *n == 0 {
            git2::opts::strict_hash_verification(false);
            git2::opts::strict_object_creation(false);
        }
        *n += 1;
        ObjectChecksOff(())
    }
}

impl Drop for ObjectChecksOff {
    fn drop(&mut self) {
        let mut n = CHECKS_OFF.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
        if *n == 0 {
            git2::opts::strict_hash_verification(true);
            git2::opts::strict_object_creation(true);
        }
    }
}

/// A libgit2 object freed when dropped.
struct Owned<T> {
    ptr: *mut T,
    free: unsafe extern "C" fn(*mut T),
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: `ptr` came from the libgit2 call that allocated it,
            // `free` is that object's free function, and nothing else frees it
            // or uses it after this drop.
            unsafe { (self.free)(self.ptr) }
        }
    }
}

/// libgit2's return code as a git2 error (the message libgit2 left).
fn check(code: std::os::raw::c_int) -> Result<(), git2::Error> {
    if code < 0 {
        Err(git2::Error::last_error(code))
    } else {
        Ok(())
    }
}

/// A path as libgit2 takes it.
fn c_path(path: &Path) -> Result<std::ffi::CString, git2::Error> {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| git2::Error::from_str("the path is not valid unicode"))?
        .as_bytes()
        .to_vec();
    Ok(std::ffi::CString::new(bytes)?)
}

/// Register worktree `name` at `path` in the repository whose git directory
/// is `git_dir`, its HEAD on the branch `reference` names (`refs/heads/...`):
/// libgit2's `git_worktree_add` with its checkout turned off (no file, no
/// index written), so the caller checks the files out with the options it
/// chooses. The new directory holds git's `.git` pointer file
/// only; the worktree's git directory has `HEAD`, `commondir` and `gitdir`.
/// git2 exposes no checkout options for a worktree add, hence the raw call.
pub(in crate::git) fn register_unchecked_out(
    git_dir: &Path,
    name: &str,
    path: &Path,
    reference: &str,
) -> Result<(), git2::Error> {
    use libgit2_sys as raw;
    let c_dir = c_path(git_dir)?;
    let c_name = std::ffi::CString::new(name)?;
    let c_wt = c_path(path)?;
    let c_ref = std::ffi::CString::new(reference)?;
    raw::init();
    let mut repo = Owned {
        ptr: std::ptr::null_mut(),
        free: raw::git_repository_free,
    };
    // SAFETY: the out pointer is valid for the write and the path a NUL-ended
    // string that outlives the call; on success `repo` owns the result.
    check(unsafe { raw::git_repository_open(&mut repo.ptr, c_dir.as_ptr()) })?;
    let mut branch = Owned {
        ptr: std::ptr::null_mut(),
        free: raw::git_reference_free,
    };
    // SAFETY: `repo.ptr` is an open repository (the call above succeeded);
    // the out pointer and the NUL-ended name are valid for the call.
    check(unsafe { raw::git_reference_lookup(&mut branch.ptr, repo.ptr, c_ref.as_ptr()) })?;
    crate::env::pause_at(crate::env::PausePoint::WorktreeBeforeAdd);
    // SAFETY: `repo.ptr` is open; libgit2 returns a NUL-ended path it owns
    // for as long as the repository, read (and copied) right here.
    let common = unsafe { raw::git_repository_commondir(repo.ptr) };
    if !common.is_null() {
        // SAFETY: non-null, NUL-ended, alive while `repo` is (see above).
        let common = unsafe { std::ffi::CStr::from_ptr(common) };
        worktrees_dir_ready(Path::new(&*common.to_string_lossy()))?;
    }
    // SAFETY: an all-zero `git_worktree_add_options` is a valid value of
    // this plain C struct (null pointers, zero numbers); libgit2 fills in its
    // defaults right after.
    let mut opts: raw::git_worktree_add_options = unsafe { std::mem::zeroed() };
    // SAFETY: `opts` is a valid, writable options struct of the version asked.
    check(unsafe {
        raw::git_worktree_add_options_init(&mut opts, raw::GIT_WORKTREE_ADD_OPTIONS_VERSION)
    })?;
    opts.reference = branch.ptr;
    // Plan nothing, write nothing (no file, no index: an index on disk would
    // make the later checkout take HEAD's tree as what is already there).
    // The pathspec only keeps libgit2 from diffing the whole tree for a
    // checkout that does nothing: `.git` is never checked out.
    opts.checkout_options.checkout_strategy = (raw::GIT_CHECKOUT_NONE
        | raw::GIT_CHECKOUT_DONT_UPDATE_INDEX
        | raw::GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH)
        as std::os::raw::c_uint;
    let mut nothing = [c".git".as_ptr().cast_mut()];
    opts.checkout_options.paths = raw::git_strarray {
        strings: nothing.as_mut_ptr(),
        count: 1,
    };
    let mut wt = Owned {
        ptr: std::ptr::null_mut(),
        free: raw::git_worktree_free,
    };
    // SAFETY: `repo.ptr` is open, `opts.reference` is a live reference of
    // it (freed only when `branch` drops, after this call), the strings (the
    // pathspec's `nothing` array and its static string too) are NUL-ended
    // and outlive the call, libgit2 only reads the pathspec, and the out
    // pointer is valid; libgit2 keeps no pointer into the options.
    check(unsafe {
        raw::git_worktree_add(&mut wt.ptr, repo.ptr, c_name.as_ptr(), c_wt.as_ptr(), &opts)
    })?;
    drop(wt);
    drop(branch);
    drop(repo);
    Ok(())
}

/// The directories of the worktrees registered in the repository at `root`
/// (as git records them; empty when it is not a repository).
pub fn registered_paths(root: &Path) -> Vec<PathBuf> {
    let Ok(repo) = super::traced_open::open(root) else {
        return Vec::new();
    };
    paths_of(&repo)
}

/// [`registered_paths`] of an open repository.
pub(in crate::git) fn paths_of(repo: &Repository) -> Vec<PathBuf> {
    let Ok(names) = repo.worktrees() else {
        return Vec::new();
    };
    names
        .iter()
        .flatten()
        .filter_map(|n| repo.find_worktree(n).ok().map(|w| w.path().to_path_buf()))
        .collect()
}

/// Drop the registration of worktree `name` of the repository at `root`,
/// its directory included when git still has one; best effort (a missing
/// repository or registration is nothing to do).
pub fn prune(root: &Path, name: &str) {
    if let Ok(repo) = super::traced_open::open(root) {
        prune_in(&repo, name);
    }
}

/// [`prune`] in an open repository.
pub(in crate::git) fn prune_in(repo: &Repository, name: &str) {
    if let Ok(wt) = repo.find_worktree(name) {
        let _ = wt.prune(Some(
            git2::WorktreePruneOptions::new()
                .valid(true)
                .working_tree(true),
        ));
    }
}

/// Make `<common>/worktrees` before libgit2 adds a worktree. libgit2 makes
/// it when it finds it missing, and fails with "directory exists" when
/// another process made it in between: two agents claiming the first two
/// lanes of a mission at once. Made here (an existing one is fine), libgit2
/// finds it.
fn worktrees_dir_ready(common: &Path) -> Result<(), git2::Error> {
    match std::fs::create_dir(common.join("worktrees")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(git2::Error::from_str(&format!(
            "cannot make {}: {e}",
            common.join("worktrees").display()
        ))),
    }
}

/// Register worktree `name` at `path` in the repository at `root`, checked
/// out detached at `commit`. libgit2 adds a worktree on a branch only: a
/// throwaway branch is made, the new worktree's HEAD detached, the branch
/// deleted (also when the add failed).
pub fn add_detached(root: &Path, name: &str, path: &Path, commit: Oid) -> Result<(), git2::Error> {
    let repo = super::traced_open::open(root)?;
    worktrees_dir_ready(repo.commondir())?;
    let c = repo.find_commit(commit)?;
    let temp = format!("kitty/scratch-{name}");
    let branch = repo.branch(&temp, &c, true)?;
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(branch.get()));
    let checks_off = ObjectChecksOff::new();
    let detached = repo.worktree(name, path, Some(&opts)).and_then(|wt| {
        let r = Repository::open_from_worktree(&wt)?;
        r.set_head_detached(commit)
    });
    drop(checks_off);
    if let Ok(mut b) = repo.find_branch(&temp, BranchType::Local) {
        let _ = b.delete();
    }
    detached
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks are off while a guard lives and back on once the last one
    /// is dropped: a loose object whose content is not what its id names is
    /// read while they are off, refused after.
    #[test]
    fn object_checks_come_back_after_the_last_guard() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let one = repo.blob(b"one\n").unwrap();
        let two = repo.blob(b"two\n").unwrap();
        let file = |id: Oid| {
            let hex = id.to_string();
            let (fan, rest) = hex.split_at_checked(2).unwrap();
            dir.path().join(".git/objects").join(fan).join(rest)
        };
        std::fs::remove_file(file(two)).unwrap();
        std::fs::copy(file(one), file(two)).unwrap();
        // A fresh open each time: no object cache in between.
        let read = || Repository::open(dir.path()).unwrap().find_blob(two).is_ok();
        {
            let _outer = ObjectChecksOff::new();
            drop(ObjectChecksOff::new());
            assert!(read(), "the checks came back while a guard was alive");
        }
        // Another test's guard may be alive: read while none is (the lock
        // keeps one from starting meanwhile).
        loop {
            let alive = CHECKS_OFF.lock().unwrap_or_else(|e| e.into_inner());
            if *alive == 0 {
                assert!(!read(), "the hash check did not come back");
                break;
            }
            drop(alive);
            std::thread::yield_now();
        }
    }
}
