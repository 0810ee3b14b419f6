//! A quick look at a git index for unmerged entries, before any libgit2 open.
//!
//! Every read of a status log asks whether git left the log unmerged
//! ([`super::conflict_stages`]). Opening the repository for that (its config
//! files) and reading the index through libgit2 (a SHA-1 of the whole file,
//! collision-detecting, so its cost grows with the repository's file count)
//! was a seventh of `agent tasks status` on a small mission. The index
//! format keeps each entry's merge stage in its flags, so one pass over the
//! entries answers "no unmerged entry at all", and only then is libgit2
//! skipped: an index with an unmerged entry, or one this pass does not fully
//! understand (another version, a truncated file), goes the libgit2 way as
//! before.

use std::path::Path;

/// Whether the index of the repository holding `dir` certainly records no
/// unmerged entry: the repository's git directory as libgit2 finds it (the
/// lane worktree's own for a worktree), its `index` read and every entry's
/// stage 0. False when unsure (no repository found is also false: the caller
/// asks libgit2, which decides as before).
pub(in crate::git) fn certainly_no_conflicts(dir: &Path) -> bool {
    let Ok(git_dir) = git2::Repository::discover_path(dir, std::iter::empty::<&str>()) else {
        return false;
    };
    let path = git_dir.join("index");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        // No index yet: nothing is unmerged (libgit2 reads it as empty).
        Err(e) => return e.kind() == std::io::ErrorKind::NotFound,
    };
    let Ok(md) = file.metadata() else {
        return false;
    };
    // A command asks once per read of a status log (seven times for one
    // claim): an index file this process already found clean, unchanged
    // since, is not read again.
    let key = clean_key(&path, &md);
    if CLEAN.lock().is_ok_and(|known| known.as_ref() == Some(&key)) {
        return true;
    }
    // Sized from the file's length (one read of the whole file, not a
    // doubling buffer's eight), still capped by the `take` below.
    let len = md.len().min(MAX_INDEX_BYTES);
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    let read = std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_INDEX_BYTES + 1),
        &mut bytes,
    );
    let clean = read.is_ok()
        && bytes.len() as u64 <= MAX_INDEX_BYTES
        && no_unmerged_entry(&bytes) == Some(true);
    // Remembered only when the file did not change while it was read.
    let unchanged = std::fs::metadata(&path).is_ok_and(|now| clean_key(&path, &now) == key);
    if clean && unchanged {
        if let Ok(mut known) = CLEAN.lock() {
            *known = Some(key);
        }
    }
    clean
}

/// The index file this process last found clean: its path, device, inode,
/// size, and modification and change times (ns). git replaces an index by
/// renaming a new file over it, so a rewrite is another inode, and a change
/// in place moves the change time.
type CleanKey = (std::path::PathBuf, u64, u64, u64, u64, i128);

static CLEAN: std::sync::Mutex<Option<CleanKey>> = std::sync::Mutex::new(None);

fn clean_key(path: &Path, md: &std::fs::Metadata) -> CleanKey {
    let (dev, ino) = crate::fsutil::dev_ino(md);
    #[cfg(unix)]
    let ctime = {
        use std::os::unix::fs::MetadataExt;
        i128::from(md.ctime()) * 1_000_000_000 + i128::from(md.ctime_nsec())
    };
    #[cfg(not(unix))]
    let ctime = 0;
    (
        path.to_path_buf(),
        dev,
        ino,
        md.len(),
        crate::fsutil::mtime_ns(md),
        ctime,
    )
}

/// A bigger index is left to libgit2 (an index of 100,000 paths is about 10 MB).
const MAX_INDEX_BYTES: u64 = 256 * 1024 * 1024;

/// One pass over the entries of an index file (versions 2 to 4): Some(true)
/// when every entry is at stage 0, Some(false) at the first that is not, None
/// when the bytes are not an index this pass reads to its last entry.
pub(in crate::git) fn no_unmerged_entry(bytes: &[u8]) -> Option<bool> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(
            bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
        ))
    };
    if bytes.get(..4)? != b"DIRC" {
        return None;
    }
    let version = word(4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    // Each entry: 40 bytes of stat data, a 20-byte SHA-1 object id, 16 bits
    // of flags (the stage in bits 12-13, "extended" in bit 14), 16 more bits
    // of flags when extended (version 3 and later), then the path.
    const FLAGS_AT: usize = 60;
    const NAME_AT: usize = 62;
    let mut at = 12usize;
    for _ in 0..word(8)? {
        let flags = bytes.get(at + FLAGS_AT..at + NAME_AT)?;
        let flags = u16::from_be_bytes([flags[0], flags[1]]);
        if flags & 0x3000 != 0 {
            return Some(false);
        }
        let mut name = at + NAME_AT;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return None;
            }
            name += 2;
        }
        if version == 4 {
            // A varint (how much of the previous path to keep), then the rest
            // of the path up to its NUL; no padding.
            while *bytes.get(name)? & 0x80 != 0 {
                name += 1;
            }
            name += 1;
            let len = memchr::memchr(0, bytes.get(name..)?)?;
            at = name + len + 1;
        } else {
            // The path up to its NUL, padded with NULs so the entry's length
            // is a multiple of 8.
            let len = memchr::memchr(0, bytes.get(name..)?)?;
            at += (name - at + len + 8) & !7;
        }
    }
    // Extensions, then the 20-byte checksum, which must end the file. An
    // extension whose signature starts with a lower-case letter is one git
    // requires a reader to understand (`link`: a split index, whose other
    // entries are in a shared index file; `sdir`: a sparse index): not read
    // here. Bytes that do not end exactly (a SHA-256 repository's longer ids,
    // say) are not an index this pass reads.
    const CHECKSUM: usize = 20;
    while bytes.len().checked_sub(at)? > CHECKSUM {
        let signature = bytes.get(at..at + 4)?;
        if !signature[0].is_ascii_uppercase() {
            return None;
        }
        let size = usize::try_from(word(at + 4)?).ok()?;
        at = at.checked_add(8)?.checked_add(size)?;
    }
    (bytes.len().checked_sub(at)? == CHECKSUM).then_some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn index(dir: &Path) -> Vec<u8> {
        std::fs::read(dir.join(".git/index")).unwrap()
    }

    /// A repository with a few paths (one longer than a padding block, one
    /// nested) committed on main.
    /// `log` changed one way on a branch `other` and another way on main.
    fn diverge(d: &Path, log: &str) {
        git(d, &["checkout", "-q", "-b", "other"]);
        std::fs::write(d.join(log), "theirs\n").unwrap();
        git(d, &["commit", "-qam", "theirs"]);
        git(d, &["checkout", "-q", "main"]);
        std::fs::write(d.join(log), "ours\n").unwrap();
        git(d, &["commit", "-qam", "ours"]);
    }

    /// `git merge other` into main, which stops on the conflict.
    fn merge_with_conflict(d: &Path) {
        let merge = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(["merge", "-q", "other"])
            .current_dir(d)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(!merge.status.success(), "the merge conflicts");
    }

    fn repo() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        git(d, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(d.join("kitty-specs/001-a")).unwrap();
        std::fs::write(d.join("kitty-specs/001-a/status.events.jsonl"), "a\n").unwrap();
        std::fs::write(d.join("x"), "x\n").unwrap();
        std::fs::write(d.join("a-rather-long-file-name-of-thirty-odd.md"), "y\n").unwrap();
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "one"]);
        tmp
    }

    #[test]
    fn a_clean_index_of_each_version_reads_clean() {
        let tmp = repo();
        let d = tmp.path();
        assert_eq!(no_unmerged_entry(&index(d)), Some(true), "version 2");
        // An intent-to-add entry carries the extended flags (version 3).
        std::fs::write(d.join("new"), "n\n").unwrap();
        git(d, &["add", "-N", "new"]);
        assert_eq!(&index(d)[4..8], &[0, 0, 0, 3]);
        assert_eq!(no_unmerged_entry(&index(d)), Some(true), "version 3");
        git(d, &["update-index", "--index-version", "4"]);
        assert_eq!(&index(d)[4..8], &[0, 0, 0, 4]);
        assert_eq!(no_unmerged_entry(&index(d)), Some(true), "version 4");
        assert!(certainly_no_conflicts(&d.join("kitty-specs/001-a")));
    }

    #[test]
    fn an_index_found_clean_is_read_again_once_git_rewrites_it() {
        let tmp = repo();
        let d = tmp.path();
        let dir = d.join("kitty-specs/001-a");
        let log = "kitty-specs/001-a/status.events.jsonl";
        diverge(d, log);
        // Found clean twice (the second time from this process's memo).
        assert!(certainly_no_conflicts(&dir));
        assert!(certainly_no_conflicts(&dir));
        merge_with_conflict(d);
        assert!(
            !certainly_no_conflicts(&dir),
            "the rewritten index is read again"
        );
        git(d, &["checkout", "-q", "--theirs", log]);
        git(d, &["add", log]);
        assert!(certainly_no_conflicts(&dir), "resolved");
    }

    #[test]
    fn an_unmerged_entry_is_found_in_each_version() {
        let tmp = repo();
        let d = tmp.path();
        let log = "kitty-specs/001-a/status.events.jsonl";
        diverge(d, log);
        merge_with_conflict(d);
        for v in ["2", "3", "4"] {
            git(d, &["update-index", "--index-version", v]);
            assert_eq!(no_unmerged_entry(&index(d)), Some(false), "version {v}");
        }
        assert!(!certainly_no_conflicts(&d.join("kitty-specs/001-a")));
    }

    #[test]
    fn bytes_that_are_not_a_whole_index_are_not_called_clean() {
        let tmp = repo();
        let full = index(tmp.path());
        assert_ne!(no_unmerged_entry(b""), Some(true));
        assert_ne!(
            no_unmerged_entry(b"DIRC\0\0\0\x05\0\0\0\0"),
            Some(true),
            "version 5"
        );
        assert_ne!(no_unmerged_entry(b"NOPE\0\0\0\x02\0\0\0\0"), Some(true));
        // Cuts inside the first entry (104 bytes from offset 12) and the second.
        for cut in [12, 40, 70, 100, 130, 200] {
            assert_ne!(no_unmerged_entry(&full[..cut]), Some(true), "cut at {cut}");
        }
        // More entries announced than the file holds.
        let mut more = full.clone();
        more[11] += 1;
        assert_ne!(no_unmerged_entry(&more), Some(true));
    }

    #[test]
    fn a_split_index_and_a_sha256_index_are_left_to_libgit2() {
        let tmp = repo();
        let d = tmp.path();
        git(d, &["update-index", "--split-index"]);
        std::fs::write(d.join("x"), "changed\n").unwrap();
        git(d, &["add", "x"]);
        assert_eq!(no_unmerged_entry(&index(d)), None, "a `link` extension");
        assert!(!certainly_no_conflicts(d));
        // A SHA-256 repository's entries hold 32-byte ids.
        let sha = tempfile::tempdir().unwrap();
        let s = sha.path();
        git(s, &["init", "-q", "--object-format=sha256", "-b", "main"]);
        for name in ["a", "bb", "a-rather-long-file-name-of-thirty-odd.md"] {
            std::fs::write(s.join(name), "x\n").unwrap();
        }
        git(s, &["add", "-A"]);
        assert_ne!(no_unmerged_entry(&index(s)), Some(true), "SHA-256 ids");
    }

    #[test]
    fn outside_a_repository_nothing_is_certain() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!certainly_no_conflicts(tmp.path()));
    }
}
