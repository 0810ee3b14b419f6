//! The one place that prints. Human text goes to stdout, diagnostics to stderr,
//! and `--json` prints exactly one JSON document on stdout.

use std::cell::OnceCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::project::Project;

/// Per-invocation context: output mode, colour, working directory, the project
/// (found lazily, once).
pub struct Ctx {
    pub json: bool,
    pub color: bool,
    pub cwd: PathBuf,
    project: OnceCell<Project>,
}

impl Ctx {
    pub fn new(json: bool) -> Ctx {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true);
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Ctx {
            json,
            color,
            cwd,
            project: OnceCell::new(),
        }
    }

    /// The project containing the working directory.
    pub fn project(&self) -> Result<&Project> {
        if let Some(p) = self.project.get() {
            return Ok(p);
        }
        let p = Project::discover(&self.cwd)?;
        Ok(self.project.get_or_init(|| p))
    }

    /// Resolve `--mission` (or infer it from the working directory) to one mission.
    pub fn mission(&self, selector: Option<&str>) -> Result<(&Project, crate::mission::Mission)> {
        let project = self.project()?;
        let sel = match selector {
            Some(s) => crate::mission::Selector::Given(s),
            None => crate::mission::Selector::Infer { cwd: &self.cwd },
        };
        Ok((project, crate::mission::resolve(project, sel)?))
    }

    /// Print one JSON document on stdout.
    pub fn json_out(&self, value: &impl serde::Serialize) {
        print_json(value);
    }

    /// A line of human output on stdout (suppressed in `--json` mode).
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", line.as_ref());
        }
    }

    /// A warning on stderr (both modes: stdout stays clean).
    pub fn warn(&self, msg: impl AsRef<str>) {
        let prefix = self.paint("warning:", "33;1");
        eprintln!("{prefix} {}", msg.as_ref());
    }

    /// Wrap `text` in an ANSI style when colour is on.
    pub fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(text, "1")
    }

    /// Warn when this binary and the project's metadata.yaml disagree on the version.
    /// Called by commands that change project files.
    pub fn warn_version_skew(&self, project: &Project) {
        if let Some(skew) = project.version_skew() {
            self.warn(skew.message());
        }
    }

    /// Path relative to the working directory when it is inside it.
    pub fn rel<'a>(&self, p: &'a Path) -> std::borrow::Cow<'a, str> {
        match p.strip_prefix(&self.cwd) {
            Ok(r) if !r.as_os_str().is_empty() => r.to_string_lossy(),
            _ => p.to_string_lossy(),
        }
    }
}

/// Print a serialisable value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    let mut out = std::io::stdout().lock();
    let text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise output: {e}\"}}"));
    let _ = writeln!(out, "{text}");
}

/// The JSON form of an error: `{"error", "hint"?, ...details, "spec_kitty_version"}` on stdout.
pub fn print_json_error(e: &Error) {
    let mut obj = serde_json::Map::new();
    obj.insert("result".into(), Value::String("error".into()));
    obj.insert("error".into(), Value::String(e.message.clone()));
    if let Some(h) = &e.hint {
        obj.insert("hint".into(), Value::String(h.clone()));
    }
    if let Some(Value::Object(d)) = e.details.as_deref() {
        for (k, v) in d {
            obj.insert(k.clone(), v.clone());
        }
    }
    obj.insert(
        "spec_kitty_version".into(),
        Value::String(crate::VERSION.into()),
    );
    print_json(&Value::Object(obj));
}

/// The human form of an error on stderr: `error: ...` then `hint: ...`.
pub fn print_error(ctx: &Ctx, e: &Error) {
    let label = ctx.paint("error:", "31;1");
    eprintln!("{label} {}", e.message);
    if let Some(h) = &e.hint {
        eprintln!("{} {h}", ctx.paint("hint:", "36"));
    }
}
