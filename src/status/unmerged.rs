//! An event log git left unmerged in the index.
//!
//! When a merge driver cannot run (git started from an IDE or cron job
//! without spec-kitty on its PATH, or another tool that lacks the driver),
//! git records a conflict for `status.events.jsonl` in the index (stages 1, 2
//! and 3) but may leave the working file holding only our side, without
//! conflict markers. The working file then looks sound while the teammate's
//! events exist only in the index. Every reader therefore asks the index
//! first: when the log is unmerged, the log is the union of its stages and of
//! the working file (events appended since the conflict), never the working
//! file alone.

use std::path::Path;

use super::error::Result;
use super::logmerge;

/// The log's text when git left it unmerged: the union of the index stages
/// (base, ours, theirs) and of the working file. `None` when the file is not
/// in a git work tree or is not unmerged. A working file git filled with
/// conflict markers contributes the events it still holds; the stages hold
/// every event either way.
pub fn union_if_unmerged(path: &Path) -> Result<Option<String>> {
    let Some(stages) = stages(path) else {
        return Ok(None);
    };
    let label = path.display().to_string();
    let working = std::fs::read(path).unwrap_or_default();
    let mut groups = Vec::new();
    for (side, bytes) in stages.iter() {
        groups.push(logmerge::read(
            &format!("{label} ({side} in the git index)"),
            bytes,
        )?);
    }
    if logmerge::has_markers(&working) {
        let (text, _) = logmerge::repair(&label, &working)?;
        groups.push(logmerge::read(&label, text.as_bytes())?);
    } else {
        groups.push(logmerge::read(&label, &working)?);
    }
    let refs: Vec<&[logmerge::Payload]> = groups.iter().map(Vec::as_slice).collect();
    Ok(Some(logmerge::render(&logmerge::union(&refs)?)))
}

/// Whether git holds `path` unmerged in its index.
pub fn is_unmerged(path: &Path) -> bool {
    stages(path).is_some()
}

/// The blobs of the index stages of `path` when it is unmerged.
fn stages(path: &Path) -> Option<Vec<(&'static str, Vec<u8>)>> {
    crate::git::conflict_stages(path)
}
