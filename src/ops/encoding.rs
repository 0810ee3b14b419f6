//! `validate-encoding`: find, and with `fix` replace, the characters that the
//! reference's tooling treats as encoding hazards in a mission's Markdown (smart
//! quotes, dashes, ellipses, no-break spaces...), and Markdown files that are not
//! UTF-8 at all (Windows-1252 text is decoded as such, then cleaned).
//!
//! A fix writes each file atomically, after an optional `<file>.bak` copy of the
//! original bytes. Symbolic links are reported and never followed or written.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil;

/// The characters replaced and what replaces them (the reference's table).
pub const REPLACEMENTS: &[(char, &str)] = &[
    ('\u{2018}', "'"),
    ('\u{2019}', "'"),
    ('\u{201c}', "\""),
    ('\u{201d}', "\""),
    ('\u{2013}', "--"),
    ('\u{2014}', "---"),
    ('\u{00b1}', "+/-"),
    ('\u{00d7}', "x"),
    ('\u{00f7}', "/"),
    ('\u{2026}', "..."),
    ('\u{2022}', "*"),
    ('\u{2023}', ">"),
    ('\u{00b0}', " degrees"),
    ('\u{00a0}', " "),
    ('\u{2122}', "(TM)"),
    ('\u{00a9}', "(C)"),
    ('\u{00ae}', "(R)"),
];

/// Directory levels walked below a mission directory.
const MAX_DEPTH: usize = 16;

fn replacement(c: char) -> Option<&'static str> {
    REPLACEMENTS.iter().find(|(k, _)| *k == c).map(|(_, r)| *r)
}

/// One character found, 1-based line and column (in characters).
#[derive(Debug, Clone, Serialize)]
pub struct CharIssue {
    pub line: usize,
    pub column: usize,
    pub character: String,
    pub codepoint: String,
    pub replacement: String,
}

/// A Markdown file that needs (or got) cleaning, or could not be handled.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Relative to the mission directory.
    pub path: String,
    /// The bytes were not UTF-8 (decoded as Windows-1252).
    pub not_utf8: bool,
    pub issues: Vec<CharIssue>,
    pub fixed: bool,
    pub backup: Option<String>,
    pub error: Option<String>,
}

/// The files of one mission directory with something to report.
#[derive(Debug, Clone, Serialize)]
pub struct MissionReport {
    pub mission_slug: String,
    pub feature_dir: PathBuf,
    pub files: Vec<FileReport>,
}

impl MissionReport {
    /// Files that need cleaning (or were cleaned).
    pub fn with_issues(&self) -> usize {
        self.files.iter().filter(|f| f.error.is_none()).count()
    }
    pub fn fixed(&self) -> usize {
        self.files.iter().filter(|f| f.fixed).count()
    }
    pub fn errors(&self) -> usize {
        self.files.iter().filter(|f| f.error.is_some()).count()
    }
}

/// Windows-1252 bytes 0x80..=0x9F; the five it leaves undefined keep their
/// Latin-1 meaning (as Python's cp1252-then-latin-1 fallback reads them).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// Decode Windows-1252 (every byte maps to one character).
pub fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// The hazards in `text`, in order.
pub fn detect(text: &str) -> Vec<CharIssue> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (col, c) in line.chars().enumerate() {
            if let Some(r) = replacement(c) {
                out.push(CharIssue {
                    line: i + 1,
                    column: col + 1,
                    character: c.to_string(),
                    codepoint: format!("U+{:04X}", u32::from(c)),
                    replacement: r.to_string(),
                });
            }
        }
    }
    out
}

/// `text` with every hazard replaced.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match replacement(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
    }
    out
}

/// Every `*.md` file under `dir` (sorted; links are listed, not followed).
fn markdown_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let meta = std::fs::symlink_metadata(&p).map_err(|e| Error::io("read", &p, e))?;
        if meta.is_dir() {
            markdown_files(&p, depth + 1, out)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")) {
            out.push(p);
        }
    }
    Ok(())
}

/// Check (and with `fix`, clean) the Markdown files of one mission directory.
pub fn check_dir(slug: &str, dir: &Path, fix: bool, backup: bool) -> Result<MissionReport> {
    let mut files = Vec::new();
    markdown_files(dir, 0, &mut files)?;
    let mut report = MissionReport {
        mission_slug: slug.to_string(),
        feature_dir: dir.to_path_buf(),
        files: Vec::new(),
    };
    for path in files {
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if let Some(r) = check_file(&path, rel, fix, backup) {
            report.files.push(r);
        }
    }
    Ok(report)
}

fn check_file(path: &Path, rel: String, fix: bool, backup: bool) -> Option<FileReport> {
    let mut report = FileReport {
        path: rel,
        not_utf8: false,
        issues: Vec::new(),
        fixed: false,
        backup: None,
        error: None,
    };
    let failed = |mut r: FileReport, msg: String| {
        r.error = Some(msg);
        Some(r)
    };
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return failed(
            report,
            "a symbolic link: not followed, not rewritten".into(),
        );
    }
    let bytes = match read_bytes(path) {
        Ok(b) => b,
        Err(e) => return failed(report, e.to_string()),
    };
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_string(),
        Err(_) => {
            report.not_utf8 = true;
            decode_cp1252(body)
        }
    };
    report.issues = detect(&text);
    if report.issues.is_empty() && !report.not_utf8 {
        return None;
    }
    if fix {
        if backup {
            let bak = PathBuf::from(format!("{}.bak", path.display()));
            if let Err(e) = fsutil::atomic_write(&bak, &bytes) {
                return failed(report, e.to_string());
            }
            report.backup = bak.file_name().map(|n| n.to_string_lossy().into_owned());
        }
        if let Err(e) = fsutil::atomic_write(path, sanitize(&text).as_bytes()) {
            return failed(report, e.to_string());
        }
        report.fixed = true;
    }
    Some(report)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let max = crate::bounds::MAX_TEXT_BYTES;
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::user(format!(
            "{} is over the {max}-byte limit for a text file",
            path.display()
        )));
    }
    Ok(bytes)
}

/// [`check_dir`] on a mission of the project; a fix holds the mission's
/// status lock (the lock every writer of its work package files takes).
pub fn check_mission(
    project: &crate::project::Project,
    mission: &crate::mission::Mission,
    fix: bool,
    backup: bool,
) -> Result<MissionReport> {
    let _lock = if fix {
        let store = crate::status::StatusStore::for_mission(project, mission);
        Some(fsutil::FileLock::acquire(
            &store.lock_path,
            fsutil::LOCK_TIMEOUT,
            "the mission's status",
        )?)
    } else {
        None
    };
    check_dir(&mission.slug, &mission.dir, fix, backup)
}

/// `validate-encoding` over several missions: each mission's report, and
/// the totals.
#[derive(Debug, Clone)]
pub struct Run {
    pub reports: Vec<MissionReport>,
    /// Files with issues, fixed, and that could not be checked or fixed.
    pub issues: usize,
    pub fixed: usize,
    pub errors: usize,
    pub fix: bool,
    pub backup: bool,
}

/// [`check_mission`] on each of `missions`, with the totals.
pub fn check_missions(
    project: &crate::project::Project,
    missions: &[crate::mission::Mission],
    fix: bool,
    backup: bool,
) -> Result<Run> {
    let mut reports = Vec::new();
    for m in missions {
        reports.push(check_mission(project, m, fix, backup)?);
    }
    Ok(Run {
        issues: reports.iter().map(MissionReport::with_issues).sum(),
        fixed: reports.iter().map(MissionReport::fixed).sum(),
        errors: reports.iter().map(MissionReport::errors).sum(),
        reports,
        fix,
        backup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp1252_smart_quotes_decode() {
        assert_eq!(
            decode_cp1252(b"\x93q\x94 caf\xe9"),
            "\u{201c}q\u{201d} café"
        );
    }

    #[test]
    fn sanitize_replaces_each_hazard() {
        assert_eq!(
            sanitize("a\u{2014}b \u{2026} 5\u{00b0}"),
            "a---b ... 5 degrees"
        );
        let d = detect("x\n  \u{2019}");
        assert_eq!(
            (d[0].line, d[0].column, d[0].replacement.as_str()),
            (2, 3, "'")
        );
    }
}
