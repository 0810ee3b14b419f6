//! Bounded cost on hostile input: the size and nesting limits checked before
//! repo content is parsed, so no file makes a command super-linear.
//!
//! * Text files spec-kitty parses (tasks.md, WP files, spec.md, meta.json,
//!   lanes.json, YAML config) are read through [`crate::fsutil::read_to_string`],
//!   which refuses a file over [`MAX_TEXT_BYTES`] before reading it.
//! * WP frontmatter over [`MAX_FRONTMATTER_BYTES`], or YAML whose flow
//!   collections (`[`, `{`) nest deeper than [`MAX_YAML_DEPTH`], is refused
//!   before the YAML parser sees it (libyaml's scanner is quadratic in the flow
//!   depth: 100 000 nested `[` took over 50 s of CPU). Block nesting and alias
//!   expansion are bounded by serde_yaml itself (recursion and repetition limits).

/// Largest text file spec-kitty parses: 16 MiB.
pub const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// Largest WP frontmatter: 1 MiB.
pub const MAX_FRONTMATTER_BYTES: usize = 1024 * 1024;

/// Deepest nesting of YAML flow collections accepted.
pub const MAX_YAML_DEPTH: usize = 64;

/// The line (1-based) where YAML flow nesting first goes deeper than `max`, if
/// it does. One pass over the bytes; quoted scalars and comments are skipped.
pub fn yaml_too_deep(text: &str, max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut line = 1;
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let mut prev = b'\n';
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            // A quoted scalar may span lines: its state is kept.
            line += 1;
            comment = false;
        } else if comment {
            // Skipped to the end of the line.
        } else if let Some(q) = quote {
            if b == b'\\' && q == b'"' {
                i += 1;
            } else if b == q {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 1;
                } else {
                    quote = None;
                }
            }
        } else {
            match b {
                b'#' if prev.is_ascii_whitespace() => comment = true,
                b'"' | b'\''
                    if matches!(prev, b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b':') =>
                {
                    quote = Some(b)
                }
                b'[' | b'{' => {
                    depth += 1;
                    if depth > max {
                        return Some(line);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        prev = b;
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_depth() {
        assert_eq!(yaml_too_deep("a: [[1], {b: [2]}]\n", 3), None);
        assert_eq!(yaml_too_deep("a: [[[[1]]]]\n", 3), Some(1));
        assert_eq!(yaml_too_deep("x: 1\na: [[[[1]]]]\n", 3), Some(2));
        assert_eq!(yaml_too_deep("a: '[[[[['\nb: \"[[[[\\\"[[\"\n", 3), None);
        assert_eq!(yaml_too_deep("a: 1 # [[[[[[\n", 3), None);
        assert_eq!(yaml_too_deep("title: it's [[[[ok\n", 3), Some(1));
        let deep = format!("x: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(yaml_too_deep(&deep, MAX_YAML_DEPTH), Some(1));
    }
}
