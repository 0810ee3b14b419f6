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
}
