//! Every file write and every lock goes through here.
//!
//! * [`atomic_write`]: temp file in the same directory, fsync, rename. Readers
//!   see the old file or the new one, never a partial one.
//! * [`FileLock`]: an exclusive `fs2` lock on a sibling `.lock` file with a
//!   bounded wait and a clear timeout error.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;

use crate::error::{Error, IoContext, Result};

/// Default bounded wait for locks on project state.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Write `contents` to `path` atomically (temp file + fsync + rename).
pub fn atomic_write(path: &Path, contents: &[u8]) -> Result<()> {
    atomic_write_mode(path, contents, None)
}

/// Like [`atomic_write`], and set unix permissions `mode` on the new file before it
/// becomes visible.
pub fn atomic_write_mode(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<()> {
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
            .with_path("create", &tmp)?;
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(mode))
                .with_path("set permissions on", &tmp)?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        f.write_all(contents).with_path("write", &tmp)?;
        f.sync_all().with_path("sync", &tmp)?;
        drop(f);
        fs::rename(&tmp, path).with_path("replace", path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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

/// Read a file as UTF-8 (a leading BOM is dropped), naming the file on error.
pub fn read_to_string(path: &Path) -> Result<String> {
    let bytes = fs::read(path).with_path("read", path)?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        Error::parse(
            path,
            None,
            format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

/// Create a directory and its parents, naming it on error.
pub fn create_dir_all(path: &Path) -> Result<()> {
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

impl FileLock {
    /// Take an exclusive lock on `lock_path` (created if missing), waiting at most
    /// `timeout`. `what` names the protected state in the timeout message.
    pub fn acquire(lock_path: &Path, timeout: Duration, what: &str) -> Result<FileLock> {
        if let Some(dir) = lock_path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                create_dir_all(dir)?;
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .with_path("open lock file", lock_path)?;
        let start = Instant::now();
        let mut backoff = Duration::from_millis(1);
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
                    if start.elapsed() >= timeout {
                        return Err(Error::user(format!(
                            "timed out after {:.1}s waiting for the lock on {what} ({})",
                            timeout.as_secs_f64(),
                            lock_path.display()
                        ))
                        .with_hint("another spec-kitty process holds it; wait for it to finish and try again"));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(25));
                }
                Err(e) => return Err(Error::io("lock", lock_path, e)),
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
    fn lock_times_out_with_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let _held = FileLock::acquire(&p, LOCK_TIMEOUT, "test state").unwrap();
        let err = FileLock::acquire(&p, Duration::from_millis(30), "test state").unwrap_err();
        assert!(err.message.contains("timed out"), "{}", err.message);
        assert!(err.message.contains("x.lock"));
    }
}
