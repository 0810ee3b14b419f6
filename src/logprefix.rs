//! What a derived record of an append-only log keeps to tell, later, whether
//! the log still begins with the bytes it was derived from.
//!
//! The saved status fold and `next`'s run-log memo each describe the prefix
//! of a log they folded ([`Prefix`]): its length and line count, the file's
//! device, inode, size and modification time, and a SHA-256 of sampled
//! windows of the prefix (its head, its tail and six windows between). A
//! log that was appended to still holds the prefix; one that was rewritten
//! (another inode, shorter, rewritten in place at the same size, other bytes
//! in a sampled window, or a prefix that no longer ends a line) does not,
//! and its reader folds it again from the start.

use std::fs::{File, Metadata};
use std::io;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::fsutil::{dev_ino, mtime_ns, read_at};

/// Bytes hashed per sampled window.
const WINDOW: u64 = 4096;

/// A prefix of a log file, as described when it was folded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefix {
    /// Bytes folded: 0 or just after a newline.
    len: u64,
    /// Newlines in the prefix.
    lines: usize,
    dev: u64,
    ino: u64,
    /// The file's size and modification time (ns) when it was described:
    /// the same size with another time is a rewrite in place.
    size: u64,
    mtime_ns: u64,
    /// SHA-256 (hex) of the sampled windows of the prefix.
    check: String,
}

impl Prefix {
    /// The first `len` bytes of `file` (whose metadata is `md`), holding
    /// `lines` newlines.
    pub fn of(file: &File, md: &Metadata, len: u64, lines: usize) -> io::Result<Prefix> {
        let (dev, ino) = dev_ino(md);
        Ok(Prefix {
            len,
            lines,
            dev,
            ino,
            size: md.len(),
            mtime_ns: mtime_ns(md),
            check: check_of(file, md, len)?.0,
        })
    }

    /// Whether `file` (whose metadata is `md`) still begins with this prefix.
    pub fn holds(&self, file: &File, md: &Metadata) -> io::Result<bool> {
        if !self.same_file(md)
            || self.len > md.len()
            || (md.len() == self.size && mtime_ns(md) != self.mtime_ns)
        {
            return Ok(false);
        }
        let (check, last) = check_of(file, md, self.len)?;
        Ok(check == self.check && (self.len == 0 || last == Some(b'\n')))
    }

    /// Whether it describes a prefix of the file whose metadata is `md`
    /// (the same device and inode), whatever its bytes.
    pub fn same_file(&self, md: &Metadata) -> bool {
        dev_ino(md) == (self.dev, self.ino)
    }

    /// Bytes of the log it covers.
    pub fn bytes(&self) -> u64 {
        self.len
    }

    /// Newlines in those bytes.
    pub fn lines(&self) -> usize {
        self.lines
    }
}

/// SHA-256 (hex) of the sampled windows of all of `file`'s bytes now: what
/// a record keyed on the whole log (not a prefix it folded) compares.
pub fn whole_check(file: &File, md: &Metadata) -> io::Result<String> {
    Ok(check_of(file, md, md.len())?.0)
}

/// What `stat` says of the file a check was taken of: device, inode, size,
/// modification and change times (ns), and the prefix length.
type CheckKey = (u64, u64, u64, u64, i128, u64);

/// A check and the prefix's last byte.
type Check = (String, Option<u8>);

/// The checks this process took ([`check_of`]), a few at most.
static CHECKS: Mutex<Vec<(CheckKey, Check)>> = Mutex::new(Vec::new());

/// The key of a check of the first `len` bytes of a file whose metadata is
/// `md`: any write to the file changes its change time (which no caller can
/// set), its size or both.
fn check_key(md: &Metadata, len: u64) -> CheckKey {
    let (dev, ino) = dev_ino(md);
    #[cfg(unix)]
    let ctime = {
        use std::os::unix::fs::MetadataExt;
        i128::from(md.ctime()) * 1_000_000_000 + i128::from(md.ctime_nsec())
    };
    #[cfg(not(unix))]
    let ctime = 0;
    (dev, ino, md.len(), mtime_ns(md), ctime, len)
}

/// [`sampled`] of `file` (whose metadata is `md`), taken once per process
/// while the file is unchanged: a command reads a log several times (its
/// reads, the move under the lock, the settling after it), and on a short
/// log hashing the windows was a quarter of its instructions. The file is
/// stat'ed again after hashing: a check taken while it changed is not
/// remembered.
fn check_of(file: &File, md: &Metadata, len: u64) -> io::Result<Check> {
    let key = check_key(md, len);
    if let Ok(known) = CHECKS.lock() {
        if let Some((_, check)) = known.iter().find(|(k, _)| *k == key) {
            return Ok(check.clone());
        }
    }
    let check = sampled(file, len)?;
    let unchanged = file.metadata().is_ok_and(|now| check_key(&now, len) == key);
    if let (true, Ok(mut known)) = (unchanged, CHECKS.lock()) {
        if known.len() >= 8 {
            known.remove(0);
        }
        known.push((key, check.clone()));
    }
    Ok(check)
}

/// SHA-256 of `len` and the sampled windows of `file`'s first `len` bytes
/// (the head, the tail and six windows evenly between; they overlap on a
/// short log), and the last of those bytes. A file shorter than `len` gives
/// an empty check.
fn sampled(file: &File, len: u64) -> io::Result<Check> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&len.to_le_bytes());
    let mut buf = vec![0u8; WINDOW as usize];
    let mut starts: Vec<u64> = (0..8u64)
        .map(|k| (len.saturating_sub(WINDOW)) * k / 7)
        .collect();
    starts.dedup();
    let mut last = None;
    for start in starts {
        let want = WINDOW.min(len - start) as usize;
        let got = read_at(file, start, &mut buf[..want])?;
        if got < want {
            return Ok((String::new(), None));
        }
        ctx.update(&buf[..got]);
        last = buf[..got].last().copied();
    }
    let hex = ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((hex, last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn log(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn describe(path: &std::path::Path, len: u64, lines: usize) -> Prefix {
        let f = File::open(path).unwrap();
        Prefix::of(&f, &f.metadata().unwrap(), len, lines).unwrap()
    }

    fn holds(path: &std::path::Path, p: &Prefix) -> bool {
        let f = File::open(path).unwrap();
        p.holds(&f, &f.metadata().unwrap()).unwrap()
    }

    #[test]
    fn an_appended_log_holds_its_prefix_and_a_rewritten_one_does_not() {
        let body: Vec<u8> = (0..3000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let (_d, path) = log(&body);
        let p = describe(&path, body.len() as u64, 3000);
        assert!(holds(&path, &p));
        assert_eq!((p.bytes(), p.lines()), (body.len() as u64, 3000));

        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"n\":3000}\n")
            .unwrap();
        assert!(holds(&path, &p), "an append keeps the prefix");

        // One byte changed inside the sixth sampled window, at another size.
        let mut changed = body.clone();
        let at = (body.len() as u64 - WINDOW) as usize * 5 / 7 + 10;
        changed[at] ^= 1;
        changed.extend_from_slice(b"{}\n");
        std::fs::write(&path, &changed).unwrap();
        assert!(!holds(&path, &p), "a sampled window changed");

        std::fs::write(&path, &body[..body.len() - 11]).unwrap();
        assert!(!holds(&path, &p), "a shorter log");
    }

    #[test]
    fn a_prefix_that_no_longer_ends_a_line_does_not_hold() {
        let (_d, path) = log(b"{\"a\":1}\n{\"b\":2}\n");
        let p = describe(&path, 8, 1);
        assert!(holds(&path, &p));
        // A reader continues a prefix at a line's start: 7 bytes end inside
        // the first line.
        let q = describe(&path, 7, 0);
        assert!(!holds(&path, &q));
    }

    #[test]
    fn a_log_replaced_by_another_file_does_not_hold() {
        let (_d, path) = log(b"{\"a\":1}\n");
        let p = describe(&path, 8, 1);
        let other = path.with_extension("new");
        std::fs::write(&other, b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(!holds(&path, &p), "another inode");
    }
}
