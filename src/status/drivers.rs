//! The git merge drivers that let mission state travel through git: their
//! `.gitattributes` lines and their registration in the repository's own
//! configuration (`.git/config`; git never reads drivers from the repository's
//! files, so each clone registers them once).
//!
//! * `status.events.jsonl`: the union of both sides by `event_id`
//!   ([`super::logmerge::merge3`]), the driver the reference names.
//! * `status.json`: derived from the log; merged without conflict
//!   ([`super::logmerge::merge_snapshots`]) and rebuilt by readers when older.
//! * `tasks/WP*.md`: the activity log section is merged by union, the rest of
//!   the file line by line ([`super::wpmerge`]).
//!
//! A `.gitattributes` line is repo content: one pushed line can route any file
//! to these drivers. So each driver first checks that all three versions are
//! its own format ([`merge_event_log`], [`merge_status_json`], [`merge_wp`])
//! and refuses anything else, so git keeps the file as a conflict. spec-kitty
//! registers every driver with git's path placeholder (`%P`) as a fourth
//! argument, so errors name the file git is merging, never its temp copy.
//! Every driver also takes the three-argument form (`%O %A %B`) the Python
//! tool registers for the event log; its errors then say git passed no path.
//! When the binary a registration names is gone, the event-log driver falls
//! back to `spec-kitty` on PATH with the reference's exact three arguments,
//! so a PATH holding the Python tool still merges.

use std::path::Path;

use super::error::{Result, StatusError};
use crate::git::config_file::ConfigFile;

/// A merge driver spec-kitty ships.
#[derive(Debug, Clone, Copy)]
pub struct Driver {
    /// The `merge=<name>` attribute value and `merge.<name>.*` config section.
    pub name: &'static str,
    /// `merge.<name>.name`.
    pub label: &'static str,
    /// `merge.<name>.driver` (run by the running binary's path, see [`command_for`]).
    pub command: &'static str,
    /// What runs when that binary is gone: `spec-kitty` on PATH, with
    /// arguments every spec-kitty of that name takes.
    pub fallback: &'static str,
    /// The `.gitattributes` line.
    pub attributes: &'static str,
}

/// Every driver; the first is the reference's (its name, label and
/// attribute line are the reference's exact strings; its command adds `%P`).
pub const DRIVERS: [Driver; 3] = [
    Driver {
        name: "spec-kitty-event-log",
        label: "Spec Kitty event log union merge",
        command: "spec-kitty merge-driver-event-log %O %A %B %P",
        fallback: "spec-kitty merge-driver-event-log %O %A %B",
        attributes: "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log",
    },
    Driver {
        name: "spec-kitty-status-json",
        label: "Spec Kitty derived status snapshot merge",
        command: "spec-kitty merge-driver-status-json %O %A %B %P",
        fallback: "spec-kitty merge-driver-status-json %O %A %B %P",
        attributes: "kitty-specs/**/status.json merge=spec-kitty-status-json",
    },
    Driver {
        name: "spec-kitty-wp",
        label: "Spec Kitty work package merge (activity log by union)",
        command: "spec-kitty merge-driver-wp %O %A %B %P",
        fallback: "spec-kitty merge-driver-wp %O %A %B %P",
        attributes: "kitty-specs/**/tasks/WP*.md merge=spec-kitty-wp",
    },
];

/// `merge.<name>.driver` as registered: git runs it through `sh`, so it names
/// the running binary by its absolute path (git started from an IDE or a cron
/// job has no spec-kitty on its PATH, and a PATH holding the Python tool lacks
/// two of the drivers), and falls back to `spec-kitty` on PATH when that file
/// is gone ([`Driver::fallback`]). A path `sh` cannot take safely inside
/// single quotes (a quote, a newline), or no path at all, gives the plain
/// fallback command.
pub fn command_for(d: &Driver, exe: Option<&Path>) -> String {
    let Some(exe) = exe.and_then(Path::to_str) else {
        return d.fallback.to_string();
    };
    if exe.is_empty() || exe.chars().any(|c| c == '\'' || c.is_control()) {
        return d.fallback.to_string();
    }
    let args = d.command.strip_prefix("spec-kitty ").unwrap_or(d.command);
    // Forward slashes: the `sh` of git for Windows takes them too.
    let exe = exe.replace('\\', "/");
    if d.fallback == d.command {
        format!("sk='{exe}'; [ -x \"$sk\" ] || sk=spec-kitty; \"$sk\" {args}")
    } else {
        format!(
            "sk='{exe}'; if [ -x \"$sk\" ]; then \"$sk\" {args}; else {}; fi",
            d.fallback
        )
    }
}

/// Register every driver missing from (or different in) the repository's local
/// configuration at `<git_common_dir>/config`, naming `exe` (the running
/// binary, see [`command_for`]). Returns the names registered now (empty when
/// all were already there).
pub fn ensure_registered(git_common_dir: &Path, exe: Option<&Path>) -> Result<Vec<&'static str>> {
    let path = git_common_dir.join("config");
    let mut cfg = ConfigFile::open(&path)?;
    let mut added = Vec::new();
    for d in DRIVERS {
        let mut changed = false;
        let command = command_for(&d, exe);
        for (key, want) in [("name", d.label), ("driver", command.as_str())] {
            let full = format!("merge.{}.{key}", d.name);
            if cfg.get(&full).as_deref() != Some(want) {
                cfg.set(&full, want)?;
                changed = true;
            }
        }
        if changed {
            added.push(d.name);
        }
    }
    Ok(added)
}

/// The drivers not registered (or registered differently, or naming another
/// binary than `exe`) in this repository.
pub fn missing(git_common_dir: &Path, exe: Option<&Path>) -> Vec<&'static str> {
    // Read through the parse the command's own repository open made, when
    // it opened this repository (most do): one parse of .git/config.
    let Ok(cfg) = ConfigFile::open_for_reading(&git_common_dir.join("config")) else {
        return DRIVERS.iter().map(|d| d.name).collect();
    };
    DRIVERS
        .iter()
        .filter(|d| {
            cfg.get(&format!("merge.{}.driver", d.name)).as_deref()
                != Some(command_for(d, exe).as_str())
        })
        .map(|d| d.name)
        .collect()
}

/// git's three versions of one file, and the file's path in the repository
/// (`%P`) when git passed it.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub path: Option<&'a str>,
    pub base: &'a [u8],
    pub ours: &'a [u8],
    pub theirs: &'a [u8],
}

impl Inputs<'_> {
    /// How errors name the file: its path, never git's temp copy.
    fn file(&self, kind: &str) -> String {
        match self.path {
            Some(p) => p.to_string(),
            None => format!("the {kind} git is merging (git passed no path)"),
        }
    }

    fn sides(&self) -> [(&'static str, &[u8]); 3] {
        [
            ("base", self.base),
            ("ours", self.ours),
            ("theirs", self.theirs),
        ]
    }

    fn refuse(&self, kind: &str, reason: String) -> StatusError {
        StatusError::DriverRefused {
            file: self.file(kind),
            reason,
        }
    }
}

/// A side git passes when the file does not exist there: empty.
fn absent(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Merge three status event logs by union (`merge-driver-event-log`). Every
/// version must be an event log (one JSON event with `event_id` and `at` a
/// line); anything else, or one id with two payloads, is refused.
pub fn merge_event_log(i: &Inputs<'_>) -> Result<String> {
    const KIND: &str = "status event log";
    let mut logs = Vec::with_capacity(3);
    for (side, bytes) in i.sides() {
        logs.push(super::logmerge::read(side, bytes).map_err(|e| match e {
            // A torn event is a damaged log of our own, not another
            // format: its hint is the repair.
            StatusError::LogJson { ref source, .. } if source.is_eof() => {
                StatusError::DriverConflict {
                    file: i.file(KIND),
                    source: Box::new(e),
                }
            }
            e => i.refuse(KIND, format!("not a {KIND} ({e})")),
        })?);
    }
    let merged = super::logmerge::union(&[&logs[0], &logs[1], &logs[2]]).map_err(|e| {
        StatusError::DriverConflict {
            file: i.file(KIND),
            source: Box::new(e),
        }
    })?;
    Ok(super::logmerge::render(&merged))
}

/// Merge three `status.json` snapshots (`merge-driver-status-json`). Every
/// version present must be a status snapshot: a JSON object whose
/// `work_packages` is an object. Anything else is refused.
pub fn merge_status_json(i: &Inputs<'_>) -> Result<String> {
    const KIND: &str = "status snapshot";
    for (side, bytes) in i.sides() {
        if absent(bytes) {
            continue;
        }
        let why = match crate::bounds::json_bytes::<serde_json::Value>(bytes) {
            Err(e) => Some(format!("not JSON: {e}")),
            Ok(serde_json::Value::Object(m)) => match m.get("work_packages") {
                Some(serde_json::Value::Object(_)) => None,
                _ => Some("no work_packages object".to_string()),
            },
            Ok(_) => Some("not a JSON object".to_string()),
        };
        if let Some(why) = why {
            return Err(i.refuse(KIND, format!("not a {KIND} ({side}: {why})")));
        }
    }
    Ok(super::logmerge::merge_snapshots(i.base, i.ours, i.theirs))
}

/// Merge three work package files (`merge-driver-wp`): the merged text and
/// whether conflicts remain (marked in the text). Every version present must
/// be a work package file: UTF-8 text opening with a `---` frontmatter block
/// that holds `work_package_id`. Anything else is refused. `work_dir` holds
/// the temporary inputs of `git merge-file`.
pub fn merge_wp(i: &Inputs<'_>, work_dir: &Path) -> Result<(String, bool)> {
    const KIND: &str = "work package file";
    let mut texts: Vec<&str> = Vec::with_capacity(3);
    for (side, bytes) in i.sides() {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| i.refuse(KIND, format!("not a {KIND} ({side}: not UTF-8 text)")))?;
        if !absent(bytes) && !is_wp_file(text) {
            return Err(i.refuse(
                KIND,
                format!("not a {KIND} ({side}: no frontmatter with work_package_id)"),
            ));
        }
        texts.push(text);
    }
    super::wpmerge::merge3(texts[0], texts[1], texts[2], work_dir)
}

/// Does `text` open with a `---` frontmatter block holding `work_package_id`?
fn is_wp_file(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return false;
    }
    for line in lines {
        if line.trim_end() == "---" {
            return false;
        }
        if line.starts_with("work_package_id:") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(base: &'a str, ours: &'a str, theirs: &'a str) -> Inputs<'a> {
        Inputs {
            path: Some("kitty-specs/001-x/f"),
            base: base.as_bytes(),
            ours: ours.as_bytes(),
            theirs: theirs.as_bytes(),
        }
    }

    #[test]
    fn each_driver_refuses_another_format_naming_the_path() {
        let src = "fn main() {}\n";
        let e = merge_status_json(&inputs("", src, "{\"work_packages\": {}}")).unwrap_err();
        assert!(
            matches!(&e, StatusError::DriverRefused { file, .. } if file == "kitty-specs/001-x/f")
        );
        assert!(
            e.to_string()
                .starts_with("kitty-specs/001-x/f: not a status snapshot (ours: not JSON"),
            "{e}"
        );
        let e = merge_wp(&inputs("", "---\ntitle: x\n---\n", ""), Path::new(".")).unwrap_err();
        assert!(
            e.to_string()
                .contains("not a work package file (ours: no frontmatter"),
            "{e}"
        );
        let no_path = Inputs {
            path: None,
            ..inputs("", src, "")
        };
        let e = merge_event_log(&no_path).unwrap_err();
        assert!(e.to_string().starts_with("the status event log git is merging (git passed no path): not a status event log (ours: invalid JSON on line 1"), "{e}");
        // A path from the repository is escaped for the terminal.
        let evil = Inputs {
            path: Some("a\u{1b}[2Jb"),
            ..inputs("", src, "")
        };
        assert!(merge_wp(&evil, Path::new("."))
            .unwrap_err()
            .to_string()
            .starts_with("a\\u{1b}[2Jb: "));
    }

    #[test]
    fn own_formats_and_absent_sides_pass_the_check() {
        assert!(is_wp_file(
            "\u{feff}---\r\nwork_package_id: WP01\r\n---\r\n"
        ));
        assert!(!is_wp_file("---\n---\nwork_package_id: WP01\n"));
        assert!(!is_wp_file("work_package_id: WP01\n"));
        let snap = "{\"work_packages\": {}}";
        assert!(merge_status_json(&inputs("", snap, snap)).is_ok());
        assert!(merge_event_log(&inputs("", "\n", "")).unwrap().is_empty());
    }
}
