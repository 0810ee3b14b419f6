//! Text that reaches a shell: every value spec-kitty interpolates into a
//! command line it prints for an agent or a person to run goes through
//! [`quote`], unless its grammar ([`crate::ids`]) already makes it one plain word.

use std::path::Path;

/// `s` as one POSIX shell word: as is when every character is plain, else in
/// single quotes (a `'` inside becomes `'\''`). Newlines and control characters
/// are kept inside the quotes, so they can never start a second command.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c))
        && !s.starts_with('-')
        && !s.starts_with('=')
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A path as one shell word.
pub fn quote_path(p: &Path) -> String {
    quote(&p.display().to_string())
}

/// `s` with newlines, tabs and other control characters turned into spaces: for
/// free text (a title) shown inside a quoted argument, so a printed command
/// stays on one line.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `s` safe to show on a terminal: every control character (ESC, BEL, CR,
/// newline, ...) written as its Rust escape (`\u{1b}`, `\u{7}`, `\r`, `\n`),
/// so text from repo content (a path, a link target) can never move the
/// cursor, recolour the screen or fake a second line. Everything else is kept.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A path as [`printable`] text.
pub fn printable_path(p: &Path) -> String {
    printable(&p.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("/a/b-c/.worktrees/x"), "/a/b-c/.worktrees/x");
        assert_eq!(quote("WP01"), "WP01");
        assert_eq!(quote("/a b/c"), "'/a b/c'");
        assert_eq!(quote("/it's"), "'/it'\\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("-rf"), "'-rf'");
        assert_eq!(quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(quote("a\nb"), "'a\nb'");
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }

    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(printable("/a/b c/é"), "/a/b c/é");
        assert_eq!(
            printable("x\u{1b}[31m\u{7}y\r\nz"),
            "x\\u{1b}[31m\\u{7}y\\r\\nz"
        );
        assert_eq!(printable_path(Path::new("/t/\u{1b}]0;t")), "/t/\\u{1b}]0;t");
    }
}
