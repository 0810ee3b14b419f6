//! Merging a work package file (`tasks/WPxx-*.md`) so its activity log never
//! conflicts.
//!
//! Every move appends a line to the file's `## Activity Log` section, so two
//! clones moving the same work package both append at the same place and a
//! text merge conflicts there. This merge takes the section's entries by union
//! (ours in order, then theirs' new ones) and merges the rest of the file line
//! by line with `git merge-file`, so only real concurrent edits of the
//! frontmatter or prose still conflict.

use std::path::Path;
use std::process::Command;

use super::error::{Result, StatusError};
use crate::fsutil;

const HEADING: &str = "## Activity Log";
/// Stands for the section's entries while the rest of the file is merged.
const PLACEHOLDER: &str = "\u{1}spec-kitty-activity-log\u{1}";

/// The file with its activity entries replaced by [`PLACEHOLDER`], and the entries.
#[allow(clippy::string_slice)] // indices come from find() of ASCII headings and newlines: char boundaries
fn split(text: &str) -> (String, Vec<String>) {
    let start = if text.starts_with(HEADING) {
        Some(0)
    } else {
        text.find(&format!("\n{HEADING}")).map(|i| i + 1)
    };
    let Some(start) = start else {
        return (text.to_string(), Vec::new());
    };
    let heading_end = text[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .unwrap_or(text.len());
    let end = text[heading_end..]
        .find("\n## ")
        .map(|i| heading_end + i + 1)
        .unwrap_or(text.len());
    let entries = text[heading_end..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim_end().to_string())
        .collect();
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..heading_end]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(PLACEHOLDER);
    out.push('\n');
    if end < text.len() {
        out.push('\n');
        out.push_str(&text[end..]);
    }
    (out, entries)
}

fn join(merged: &str, entries: &[String]) -> String {
    let mut body = String::from("\n");
    for e in entries {
        body.push_str(e);
        body.push('\n');
    }
    merged.replacen(&format!("{PLACEHOLDER}\n"), &body, 1)
}

/// Merge three versions of a WP file; `work_dir` holds the temporary inputs of
/// `git merge-file` (the directory of git's `%A`). Returns the merged text and
/// whether conflicts (marked in the text, outside the activity log) remain.
pub fn merge3(base: &str, ours: &str, theirs: &str, work_dir: &Path) -> Result<(String, bool)> {
    let (b, be) = split(base);
    let (o, oe) = split(ours);
    let (t, te) = split(theirs);
    let mut entries = oe;
    for e in te.into_iter().chain(be) {
        if !entries.contains(&e) {
            entries.push(e);
        }
    }
    let (merged, conflicted) = if o == t || t == b {
        (o, false)
    } else if o == b {
        (t, false)
    } else {
        merge_file(&b, &o, &t, work_dir)?
    };
    Ok((join(&merged, &entries), conflicted))
}

fn merge_file(base: &str, ours: &str, theirs: &str, dir: &Path) -> Result<(String, bool)> {
    let tag = format!("{}-{}", std::process::id(), crate::ids::new_ulid());
    let paths: Vec<_> = ["ours", "base", "theirs"]
        .iter()
        .map(|n| dir.join(format!(".spec-kitty-wpmerge-{tag}-{n}")))
        .collect();
    let result = (|| {
        for (p, text) in paths.iter().zip([ours, base, theirs]) {
            fsutil::atomic_write(p, text.as_bytes())?;
        }
        let out = Command::new("git")
            .arg("merge-file")
            .arg("-p")
            .args(["-L", "ours", "-L", "base", "-L", "theirs"])
            .args(&paths)
            .output()
            .map_err(|source| StatusError::MergeFileSpawn {
                dir: dir.to_path_buf(),
                source,
            })?;
        match out.status.code() {
            Some(n) if (0..128).contains(&n) => {
                Ok((String::from_utf8_lossy(&out.stdout).into_owned(), n > 0))
            }
            _ => Err(StatusError::MergeFileFailed {
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }),
        }
    })();
    for p in &paths {
        let _ = std::fs::remove_file(p);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "---\nwork_package_id: WP01\nagent: a\n---\n\nBuild it.\n\n## Activity Log\n\n- 2026-01-01T00:00:00Z – a – Moved to claimed\n";

    #[test]
    fn both_sides_appending_entries_do_not_conflict() {
        let ours = format!("{BASE}- 2026-01-02T00:00:00Z – a – Moved to in_progress\n");
        let theirs = format!("{BASE}- 2026-01-03T00:00:00Z – b – a note\n");
        let dir = tempfile::tempdir().unwrap();
        let (out, conflict) = merge3(BASE, &ours, &theirs, dir.path()).unwrap();
        assert!(!conflict);
        assert_eq!(
            out,
            format!("{ours}- 2026-01-03T00:00:00Z – b – a note\n"),
            "{out}"
        );
        // One side's change elsewhere in the file is kept with both entries.
        let theirs2 = theirs.replace("Build it.", "Build it well.");
        let (out, conflict) = merge3(BASE, &ours, &theirs2, dir.path()).unwrap();
        assert!(!conflict && out.contains("Build it well.") && out.contains("in_progress"));
    }

    #[test]
    fn a_section_followed_by_another_heading_keeps_it() {
        let text = "x\n\n## Activity Log\n\n- e1\n\n## Notes\n\nn\n";
        let (p, e) = split(text);
        assert_eq!(e, ["- e1"]);
        assert_eq!(join(&p, &e), text);
        let (p, e) = split("no log\n");
        assert!(e.is_empty());
        assert_eq!(join(&p, &e), "no log\n");
    }
}
