//! The one place that prints. Human text goes to stdout, diagnostics to stderr,
//! and `--json` prints exactly one JSON document on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)] // the one printer

use std::cell::OnceCell;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::project::Project;

/// Named text styles, so every command colours the same thing the same way.
pub mod style {
    use anstyle::{AnsiColor, Style};

    pub const BOLD: Style = Style::new().bold();
    pub const SUCCESS: Style = AnsiColor::Green.on_default().bold();
    pub const GOOD: Style = AnsiColor::Green.on_default();
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    pub const CAUTION: Style = AnsiColor::Yellow.on_default();
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const BAD: Style = AnsiColor::Red.on_default();
    pub const HINT: Style = AnsiColor::Cyan.on_default();
    pub const PLAIN: Style = AnsiColor::White.on_default();
    pub const DIM: Style = AnsiColor::BrightBlack.on_default();
}

/// `--color`: when to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Options every command takes, parsed once by clap before any command runs.
/// Help lists them under their own heading, after the command's own options.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = GLOBAL_OPTIONS)]
pub struct GlobalArgs {
    /// Print exactly one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// When to use colour; `auto` colours a terminal and honours NO_COLOR and CLICOLOR_FORCE
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The help heading of [`GlobalArgs`].
pub const GLOBAL_OPTIONS: &str = "Global options";

/// Per-invocation context: output mode, colour per stream, working directory,
/// the project (found lazily, once).
pub struct Ctx {
    pub json: bool,
    /// Colour on stdout.
    pub color: bool,
    /// Colour on stderr (decided separately: `cmd 2>log` keeps stdout coloured).
    pub color_err: bool,
    pub cwd: PathBuf,
    project: OnceCell<Project>,
    /// The project's metadata.yaml as parsed the first time a step asked.
    metadata: OnceCell<crate::config::Metadata>,
}

impl Ctx {
    pub fn new(global: &GlobalArgs) -> Ctx {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Ctx::in_dir(global, cwd)
    }

    /// The context of a command run in `cwd`: every command takes its
    /// directory from here, never from the process.
    pub fn in_dir(global: &GlobalArgs, cwd: PathBuf) -> Ctx {
        let decide = |auto: anstream::ColorChoice| match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => auto != anstream::ColorChoice::Never,
        };
        let color = decide(anstream::AutoStream::choice(&std::io::stdout()));
        let color_err = decide(anstream::AutoStream::choice(&std::io::stderr()));
        Ctx {
            json: global.json,
            color,
            color_err,
            cwd,
            project: OnceCell::new(),
            metadata: OnceCell::new(),
        }
    }

    /// The project containing the working directory. Finding it fixes the
    /// command's confinement root: every write under the project stays inside
    /// its canonical root ([`crate::fsutil::fix_confinement_root`]).
    pub fn project(&self) -> Result<&Project> {
        if let Some(p) = self.project.get() {
            return Ok(p);
        }
        let p = Project::discover(&self.cwd)?;
        crate::fsutil::fix_confinement_root(&p.root);
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

    /// A line of human output on stdout (suppressed in `--json` mode),
    /// through [`terminal_safe`].
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", terminal_safe(line.as_ref()));
        }
    }

    /// Text written to stdout as it is (a generated script or page), in human mode.
    pub fn print_raw(&self, text: &str) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
        }
    }

    /// A warning on stderr (both modes: stdout stays clean).
    pub fn warn(&self, msg: impl AsRef<str>) {
        let prefix = paint(self.color_err, "warning:", style::WARNING);
        eprintln!("{prefix} {}", terminal_safe(msg.as_ref()));
    }

    /// Warnings on stderr as [`Ctx::warn`] writes them, in one write (stderr
    /// is unbuffered: a thousand warnings were four thousand system calls).
    pub fn warn_all(&self, msgs: Vec<String>) {
        if msgs.is_empty() {
            return;
        }
        let prefix = paint(self.color_err, "warning:", style::WARNING);
        let mut text = String::new();
        for m in &msgs {
            text.push_str(&prefix);
            text.push(' ');
            text.push_str(&terminal_safe(m));
            text.push('\n');
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// Is there a person to ask: stdin a terminal and SPEC_KITTY_NON_INTERACTIVE unset?
    pub fn can_ask(&self) -> bool {
        std::io::IsTerminal::is_terminal(&std::io::stdin()) && !crate::env::non_interactive()
    }

    /// Is there a person to ask, and is the output for a person (under
    /// `--json` nothing is asked: the caller is a program)?
    pub fn can_prompt(&self) -> bool {
        self.prompts_allowed() && self.can_ask()
    }

    /// May this command ask questions at all? Not under `--json`: its caller
    /// is a program reading one document, so defaults are kept silently.
    pub fn prompts_allowed(&self) -> bool {
        !self.json
    }

    /// Ask a person at a terminal: the question on stderr, one line from stdin.
    /// None (keep the default) when stdin is not a terminal, so nothing ever
    /// waits on a pipe, or on an empty answer or end of input.
    pub fn ask(&self, question: &str, default: &str) -> Option<String> {
        use std::io::BufRead;
        if !self.can_ask() {
            return None;
        }
        eprint!(
            "{}\n  [{}]\n> ",
            terminal_safe(question),
            terminal_safe(default)
        );
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        let line = line.trim();
        (!line.is_empty()).then(|| line.to_string())
    }

    /// Wrap `text` in a style when stdout is coloured.
    pub fn paint(&self, text: &str, style: anstyle::Style) -> String {
        paint(self.color, text, style)
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(text, style::BOLD)
    }

    /// Warn when this binary and the project's metadata.yaml disagree on the
    /// version. Called by commands that change project files; a corrupt
    /// metadata.yaml stops them (the policy of a corrupt config.yaml).
    pub fn warn_version_skew(&self, project: &Project) -> Result<()> {
        if let Some(skew) = self.metadata(project)?.version_skew() {
            self.warn(skew.message());
        }
        Ok(())
    }

    /// `project`'s `.kittify/metadata.yaml`, read and parsed once per
    /// command: the state hook checks it before a writer runs and the writer
    /// warns of its version skew from the same parse (nothing writes the file
    /// in between). A corrupt file is an error each time it is asked for.
    pub fn metadata(&self, project: &Project) -> Result<crate::config::Metadata> {
        let path = project.root.join(crate::config::METADATA_PATH);
        if let Some(m) = self.metadata.get().filter(|m| m.path == path) {
            return Ok(m.clone());
        }
        let m = crate::config::Metadata::load(&project.root)?;
        let _ = self.metadata.set(m.clone());
        Ok(m)
    }

    /// Path relative to the working directory when it is inside it.
    pub fn rel<'a>(&self, p: &'a Path) -> std::borrow::Cow<'a, str> {
        match p.strip_prefix(&self.cwd) {
            Ok(r) if !r.as_os_str().is_empty() => r.to_string_lossy(),
            _ => p.to_string_lossy(),
        }
    }
}

/// A command's typed outcome, rendered in one step: the human lines or the one
/// `--json` document. A command is: parse its arguments, call one operation,
/// `ctx.render(&outcome)`.
pub trait Render {
    /// The human form, written through `ctx` (`say`, `paint`, `warn`).
    fn human(&self, ctx: &Ctx);
    /// The `--json` document.
    fn json(&self) -> Value;
    /// The `--json` document already printed as [`print_json`] prints
    /// [`Render::json`], for an outcome that writes it without building the
    /// [`Value`] (a listing of hundreds of rows); None: print `json`.
    fn json_text(&self) -> Option<String> {
        None
    }
    /// Warnings said on stderr in both modes, before the outcome.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
    /// The command's result once its outcome is out: an outcome that reports a
    /// failure (a check that did not pass) returns the error that sets the
    /// exit code; its message is not printed again under `--json`.
    fn verdict(&self) -> Result<()> {
        Ok(())
    }
}

impl Ctx {
    /// Render a command's outcome: its warnings on stderr, then the human
    /// lines or the one JSON document; returns its [`Render::verdict`].
    pub fn render(&self, outcome: &impl Render) -> Result<()> {
        self.warn_all(outcome.warnings());
        if self.json {
            match outcome.json_text() {
                Some(text) => print_json_text(&text),
                // bounds: renders an outcome into JSON, parses nothing
                None => self.json_out(&outcome.json()),
            }
        } else {
            outcome.human(self);
        }
        outcome.verdict()
    }
}

impl Ctx {
    /// End the command: its error, if any, as the one JSON document (unless
    /// its own document is out already) or on stderr; its exit code.
    pub fn finish(&self, result: Result<()>) -> std::process::ExitCode {
        let Err(e) = result else {
            return std::process::ExitCode::SUCCESS;
        };
        if self.json {
            // A document already out stays the only one; the exit code still
            // says it failed.
            if !json_printed() {
                print_json_error(&e);
            }
        } else {
            print_error(self, &e);
        }
        std::process::ExitCode::from(e.kind.exit_code())
    }
}

/// Set once a JSON document went to stdout.
static JSON_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Has this process printed its JSON document?
pub fn json_printed() -> bool {
    JSON_PRINTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// What the last panic said, kept by the hook [`catch_panics`] installs.
pub struct Panicked(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl Panicked {
    /// The internal error a caught panic becomes (exit 3).
    pub fn error(&self) -> Error {
        let what = self
            .0
            .lock()
            .ok()
            .and_then(|m| m.clone())
            .unwrap_or_else(|| "unknown panic".into());
        Error::internal(format!("internal error: {what}"))
            .with_hint("this is a bug in spec-kitty; please report it with the command you ran")
    }
}

/// Replace the default panic message (printed raw, before any JSON) with a
/// hook that only remembers it, so the caller reports it as an error.
pub fn catch_panics() -> Panicked {
    let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = slot.clone();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut m) = keep.lock() {
            m.get_or_insert(format!("{msg}{at}"));
        }
    }));
    Panicked(slot)
}

/// Print a serialisable value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    JSON_PRINTED.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut out = std::io::stdout().lock();
    let text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise output: {e}\"}}"));
    let _ = writeln!(out, "{text}");
}

/// A JSON document already printed (pretty, as [`print_json`] prints one), on
/// stdout with its newline.
pub fn print_json_text(text: &str) {
    JSON_PRINTED.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// The JSON form of an error: `{"error", "hint"?, ...details, "spec_kitty_version"}` on stdout.
pub fn print_json_error(e: &Error) {
    print_json(&error_json(e));
}

/// The JSON document of an error (what [`print_json_error`] prints): an
/// outcome whose [`Render::verdict`] fails renders this as its `json`, so a
/// failed check prints the same document as any other error.
pub fn error_json(e: &Error) -> Value {
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
    Value::Object(obj)
}

/// The human form of an error on stderr: `error: ...` then `hint: ...`.
pub fn print_error(ctx: &Ctx, e: &Error) {
    let label = paint(ctx.color_err, "error:", style::ERROR);
    eprintln!("{label} {}", terminal_safe(&e.message));
    if let Some(h) = &e.hint {
        eprintln!(
            "{} {}",
            paint(ctx.color_err, "hint:", style::HINT),
            terminal_safe(h)
        );
    }
}

/// One value of repo or server text (a title, a name, a note) for a human
/// line: every control character, newlines included, written as an escape
/// (`\n`, `\u{1b}`), so the value stays on its line and cannot drive the
/// terminal. `--json` needs nothing: JSON strings escape them.
pub fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The last guard before the terminal, applied to every human line printed
/// (say, warn, errors, questions): control characters other than newline and
/// tab are written as escapes (`\r`, `\u{7}`, `\u{1b}`), so no text can move
/// the cursor, clear the screen, set the title or ring the bell. An escape
/// that is a plain colour sequence (`ESC [ digits ; m`, what `--color` writes)
/// is kept.
pub fn terminal_safe(line: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !line.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let sgr = (c == '\u{1b}')
            .then(|| sgr_len(rest))
            .flatten()
            .and_then(|n| rest.split_at_checked(n));
        if let Some((seq, after)) = sgr {
            out.push_str(seq);
            rest = after;
            continue;
        }
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    std::borrow::Cow::Owned(out)
}

/// The byte length of a colour sequence (`ESC [` digits and `;` then `m`) at
/// the start of `s`, if there is one.
fn sgr_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\u{1b}[")?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (body.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

fn paint(on: bool, text: &str, style: anstyle::Style) -> String {
    if on {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{esc, terminal_safe};

    #[test]
    fn values_are_escaped_whole_and_lines_keep_only_colour() {
        assert_eq!(esc("plain — ok"), "plain — ok");
        assert_eq!(esc("a\nb\r\u{7}\u{1b}[2J"), "a\\nb\\r\\u{7}\\u{1b}[2J");
        assert_eq!(terminal_safe("two\nlines\tok"), "two\nlines\tok");
        assert_eq!(
            terminal_safe("\u{1b}[1;32mok\u{1b}[0m \u{1b}]0;t\u{7}\u{1b}[2J\r\u{9b}x"),
            "\u{1b}[1;32mok\u{1b}[0m \\u{1b}]0;t\\u{7}\\u{1b}[2J\\r\\u{9b}x"
        );
        assert_eq!(terminal_safe("\u{1b}"), "\\u{1b}");
        assert_eq!(terminal_safe("\u{1b}[12"), "\\u{1b}[12");
    }
}
