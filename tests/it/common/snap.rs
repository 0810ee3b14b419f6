//! Snapshots of human-readable output: a command's exit code, stdout and stderr
//! as one transcript, with everything that differs between machines and runs
//! (the temp directory, HOME, ULIDs, timestamps, durations, commit hashes,
//! ports, PIDs) replaced by insta filters. A UI change shows as a `.snap` diff.
//!
//! ```ignore
//! use crate::common::snap::assert_run;
//! let out = assert_run!(env, &root, "status_board", ["agent", "tasks", "status"]);
//! ```

use std::path::Path;
use std::process::Output;

use super::TestEnv;

/// `$ spec-kitty ARGS`, the exit code, then stdout and stderr (each section
/// only when the stream printed something).
pub fn transcript(args: &[&str], out: &Output) -> String {
    let line: Vec<String> = args.iter().map(|a| quote(a)).collect();
    let mut text = format!("$ spec-kitty {}\n", line.join(" "));
    match out.status.code() {
        Some(code) => text.push_str(&format!("exit: {code}\n")),
        None => text.push_str("exit: killed by a signal\n"),
    }
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if !bytes.is_empty() {
            text.push_str(&format!("--- {name}\n{}", String::from_utf8_lossy(bytes)));
            if !bytes.ends_with(b"\n") {
                text.push_str("\n[no newline at the end]\n");
            }
        }
    }
    // Colour escapes made visible, so a style change reads as a text diff.
    text.replace('\u{1b}', "␛")
}

/// `out` with stdout cut after its first paragraph (the summary lines a
/// command prints above a long generated text such as a prompt), and a line
/// saying how many lines were left out. Stderr and the exit code are kept.
pub fn summary(out: &Output) -> Output {
    let text = String::from_utf8_lossy(&out.stdout);
    let (head, rest) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut cut = format!("{head}\n");
    if !rest.is_empty() {
        cut.push_str(&format!("[{} more lines]\n", rest.lines().count() + 1));
    }
    Output {
        status: out.status,
        stdout: cut.into_bytes(),
        stderr: out.stderr.clone(),
    }
}

/// `out` with stdout left out (a `--json` document that other asserts check),
/// for a snapshot of what a person reads on stderr.
pub fn stderr_only(out: &Output) -> Output {
    Output {
        status: out.status,
        stdout: b"[stdout left out of this snapshot]\n".to_vec(),
        stderr: out.stderr.clone(),
    }
}

/// `word` as a POSIX shell would need it to stay one word.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A path both as given and canonical (macOS puts temp dirs behind /private).
fn spellings(p: &Path) -> Vec<String> {
    let mut out = vec![p.to_string_lossy().into_owned()];
    if let Ok(c) = p.canonicalize() {
        let c = c.to_string_lossy().into_owned();
        if !out.contains(&c) {
            out.insert(0, c);
        }
    }
    out
}

impl TestEnv {
    /// insta settings for transcripts of commands run in this environment.
    /// Filters run in order: paths first (HOME before the temp dir holding it),
    /// then ids and times, then ports and PIDs, durations, and commit hashes.
    pub fn snap_settings(&self) -> insta::Settings {
        let mut s = insta::Settings::clone_current();
        s.set_prepend_module_to_snapshot(true);
        s.set_omit_expression(true);
        for p in spellings(&self.home) {
            s.add_filter(&regex_escape(&p), "[HOME]");
        }
        for p in spellings(self.tmp.path()) {
            s.add_filter(&regex_escape(&p), "[TMP]");
        }
        // Crockford base32 ULIDs (mission ids, event ids).
        s.add_filter(r"\b[0-9A-HJKMNP-TV-Z]{26}\b", "[ULID]");
        // RFC 3339 timestamps, then bare dates.
        s.add_filter(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?",
            "[TIMESTAMP]",
        );
        s.add_filter(r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]");
        // Ports and process ids (before hashes: a PID can have 7 digits).
        s.add_filter(r"(127\.0\.0\.1|localhost):\d+", "$1:[PORT]");
        s.add_filter(r"\b(port|PID|pid|process) \d+", "$1 [N]");
        // Time left on a token or lock: `14 min left`, `6 days left`.
        s.add_filter(
            r"\b\d+ (s|sec|min|minutes?|h|hours?|days?|weeks?) left\b",
            "[N] $1 left",
        );
        // Durations: `12ms`, `0.31s`, `1.2 s`, `340µs`.
        s.add_filter(r"\b\d+(\.\d+)? ?(ns|µs|us|ms|s)\b", "[DURATION]");
        // Commit hashes, full or abbreviated (lower-case hex, 7 to 40 digits;
        // an abbreviation can be all decimal digits). Sizes (`1048577 bytes`,
        // a `16777216-byte limit`) are data: they are fenced off with a word
        // character first, so the hash pattern finds no boundary, and unfenced after.
        s.add_filter(r"\b(\d+)( bytes|-byte)", "${1}_SIZE_$2");
        s.add_filter(r"\b[0-9a-f]{7,40}\b", "[SHA]");
        s.add_filter(r"_SIZE_", "");
        s
    }
}

/// `regex::escape` without naming regex (insta brings it, the tests do not).
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Snapshot an [`Output`] already in hand: `assert_out!(env, "name", args, &out)`.
macro_rules! assert_out {
    ($env:expr, $name:expr, $args:expr, $out:expr) => {{
        let args: &[&str] = &$args;
        let text = $crate::common::snap::transcript(args, $out);
        $env.snap_settings().bind(|| {
            insta::assert_snapshot!($name, text);
        });
    }};
}

/// Run `spec-kitty ARGS` in `dir` and snapshot its transcript (any exit code,
/// which the snapshot records); returns the [`Output`].
macro_rules! assert_run {
    ($env:expr, $dir:expr, $name:expr, $args:expr) => {{
        let args: &[&str] = &$args;
        let out = $env.run($dir, args);
        $crate::common::snap::assert_out!($env, $name, args, &out);
        out
    }};
}

pub(crate) use assert_out;
pub(crate) use assert_run;
