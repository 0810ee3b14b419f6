//! Bounded cost on hostile input: the size and nesting limits checked before
//! repo content is parsed, so no file makes a command super-linear.
//!
//! * Text files spec-kitty parses (tasks.md, WP files, spec.md, meta.json,
//!   lanes.json, YAML config) are read through [`crate::fsutil::read_to_string`],
//!   which refuses a file over [`MAX_TEXT_BYTES`] before reading it.
//! * Every YAML and JSON document read from a project or a server is parsed
//!   through [`yaml`] or [`json`] (one mechanism; a unit test keeps it so): YAML
//!   over [`MAX_YAML_BYTES`], JSON over [`MAX_JSON_BYTES`], or either nesting
//!   deeper than [`MAX_YAML_DEPTH`], is refused before the parser sees it
//!   (libyaml's scanner is quadratic in the flow depth: 100 000 nested `[` took
//!   over 50 s of CPU, and a 50 KB `metadata.yaml` made every command take
//!   minutes). Block nesting and alias expansion are bounded by serde_yaml
//!   itself (recursion and repetition limits). Lines of the append-only logs
//!   are parsed one at a time, each under serde_json's own depth limit.

/// Largest text file spec-kitty parses: 16 MiB.
pub const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// Largest WP frontmatter: 1 MiB.
pub const MAX_FRONTMATTER_BYTES: usize = 1024 * 1024;

/// Deepest nesting of YAML flow collections (and of JSON arrays and objects)
/// accepted.
pub const MAX_YAML_DEPTH: usize = 64;

/// Largest YAML document (config.yaml, metadata.yaml, charter answers, WP
/// frontmatter): 1 MiB.
pub const MAX_YAML_BYTES: usize = MAX_FRONTMATTER_BYTES;

/// Largest JSON document (meta.json, lanes.json, status.json, a server's
/// answer is capped lower by its reader): 16 MiB.
pub const MAX_JSON_BYTES: usize = MAX_TEXT_BYTES as usize;

/// Why a YAML or JSON document was not read.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("it is {size} bytes, over the {max}-byte limit for this file")]
    TooBig { size: usize, max: usize },
    #[error("line {line} nests `[`/`{{` deeper than {max} levels")]
    TooDeep { line: usize, max: usize },
    #[error("{0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

impl DocError {
    /// The 1-based line the problem is on, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            DocError::TooBig { .. } => None,
            DocError::TooDeep { line, .. } => Some(*line),
            DocError::Yaml(e) => e.location().map(|l| l.line()),
            DocError::Json(e) => Some(e.line()),
        }
    }

    /// Is this the parser's complaint (not a cap)?
    pub fn is_syntax(&self) -> bool {
        matches!(self, DocError::Yaml(_) | DocError::Json(_))
    }
}

/// Parse a YAML document under the size and depth caps.
pub fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DocError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(DocError::TooBig {
            size: text.len(),
            max: MAX_YAML_BYTES,
        });
    }
    if let Some(line) = yaml_too_deep(text, MAX_YAML_DEPTH) {
        return Err(DocError::TooDeep {
            line,
            max: MAX_YAML_DEPTH,
        });
    }
    Ok(serde_yaml::from_str(text)?)
}

/// Parse a JSON document under the size and depth caps.
pub fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DocError> {
    check_json(text.as_bytes(), MAX_JSON_BYTES)?;
    // Text is UTF-8 already: the parser does not check each string again
    // (it did for bytes: a twentieth of reading a 1 MB document).
    Ok(serde_json::from_str(text)?)
}

/// [`json`] for bytes (not necessarily UTF-8: the parser says where not).
pub fn json_bytes<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DocError> {
    json_capped(bytes, MAX_JSON_BYTES)
}

/// [`json_bytes`] with a tighter size cap (a server's answer).
pub fn json_capped<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    max: usize,
) -> Result<T, DocError> {
    check_json(bytes, max)?;
    Ok(serde_json::from_slice(bytes)?)
}

/// The caps a JSON document is held to before it is parsed: `max` bytes and
/// [`MAX_YAML_DEPTH`] levels of nesting.
fn check_json(bytes: &[u8], max: usize) -> Result<(), DocError> {
    if bytes.len() > max {
        return Err(DocError::TooBig {
            size: bytes.len(),
            max,
        });
    }
    if let Some(line) = json_too_deep(bytes, MAX_YAML_DEPTH) {
        return Err(DocError::TooDeep {
            line,
            max: MAX_YAML_DEPTH,
        });
    }
    Ok(())
}

/// The line (1-based) where JSON nesting first goes deeper than `max`, if it
/// does. One pass; strings are skipped (a jump to their next quote or
/// backslash), and lines are counted only when the answer is a line: the
/// bytes of a JSON document are mostly strings (lanes.json, a saved status
/// fold of 5,000 WPs: about 1 MB each), and a byte-by-byte walk of them cost
/// a command at that size about a tenth of its instructions.
pub fn json_too_deep(bytes: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // To the quote that closes it: a backslash escapes the byte after it.
                let mut j = i + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', bytes.get(j..).unwrap_or_default()) {
                        Some(k) if bytes.get(j + k) == Some(&b'\\') => j += k + 2,
                        Some(k) => {
                            j += k + 1;
                            break;
                        }
                        None => return None,
                    }
                }
                i = j;
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    let before = bytes.get(..i).unwrap_or_default();
                    return Some(1 + memchr::memchr_iter(b'\n', before).count());
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The line (1-based) where YAML flow nesting first goes deeper than `max`, if
/// it does. One pass over the bytes; quoted scalars and comments are skipped.
/// Text without a `[` or `{` nests nothing: answered by one `memchr2` instead
/// of the byte-by-byte pass (a WP's block-style frontmatter, every call of
/// `agent tasks status`).
pub fn yaml_too_deep(text: &str, max: usize) -> Option<usize> {
    memchr::memchr2(b'[', b'{', text.as_bytes())?;
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
        // No `[` or `{` at all (the fast path): nothing nests, whatever max.
        assert_eq!(yaml_too_deep("a: 1\nb:\n- x\n# }}\n", 0), None);
        // Only braces: the full pass still runs.
        assert_eq!(yaml_too_deep("a: 1\nb: {c: {d: 1}}\n", 1), Some(2));
    }

    #[test]
    fn json_depth() {
        assert_eq!(json_too_deep(br#"{"a": [[1], {"b": [2]}]}"#, 4), None);
        assert_eq!(json_too_deep(b"{\n\"a\": [[[1]]]}", 3), Some(2));
        assert_eq!(json_too_deep(br#"{"a": "[[[[\"[[[["}"#, 3), None);
    }

    /// The byte-by-byte walk `json_too_deep` replaced, line counted as it goes.
    fn json_too_deep_bytewise(bytes: &[u8], max: usize) -> Option<usize> {
        let (mut depth, mut line, mut in_string, mut escaped) = (0usize, 1, false, false);
        for &b in bytes {
            if b == b'\n' {
                line += 1;
            }
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
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
        None
    }

    #[test]
    fn json_depth_answers_as_the_bytewise_walk() {
        // Random documents over the bytes that matter (unterminated strings,
        // a trailing backslash, escaped quotes and newlines in strings).
        let alphabet = b"\"\\[]{}\na ";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let doc: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            for max in 0..4 {
                assert_eq!(
                    json_too_deep(&doc, max),
                    json_too_deep_bytewise(&doc, max),
                    "{:?} max {max}",
                    String::from_utf8_lossy(&doc)
                );
            }
        }
    }

    #[test]
    fn documents_are_capped_before_parsing() {
        let v: serde_yaml::Value = yaml("a: [1, {b: 2}]\n").unwrap();
        assert_eq!(v["a"][1]["b"], 2);
        let deep = format!("x: {}{}\n", "[".repeat(65), "]".repeat(65));
        let e = yaml::<serde_yaml::Value>(&deep).unwrap_err();
        assert!(matches!(e, DocError::TooDeep { line: 1, max: 64 }), "{e:?}");
        assert_eq!(e.to_string(), "line 1 nests `[`/`{` deeper than 64 levels");
        let big = format!("a: '{}'\n", "x".repeat(MAX_YAML_BYTES));
        assert!(matches!(
            yaml::<serde_yaml::Value>(&big),
            Err(DocError::TooBig { .. })
        ));
        let v: serde_json::Value = json(r#"{"a": [1]}"#).unwrap();
        assert_eq!(v["a"][0], 1);
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(matches!(
            json::<serde_json::Value>(&deep),
            Err(DocError::TooDeep { .. })
        ));
        assert!(matches!(
            json_capped::<serde_json::Value>(b"[1, 2]", 3),
            Err(DocError::TooBig { size: 6, max: 3 })
        ));
        let e = json::<serde_json::Value>("{\n  nope").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.is_syntax());
    }

    /// Every YAML and JSON document goes through [`yaml`] / [`json`]: a direct
    /// serde_yaml / serde_json parse outside this file is allowed only on a
    /// line saying why (`// bounds: ...`, e.g. one line of an append-only log).
    #[test]
    fn every_document_is_parsed_here() {
        fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    rust_files(&p, out);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    out.push(p);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut offenders = Vec::new();
        for f in files {
            if f.ends_with("src/bounds.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            // Unit tests parse their own literals.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let lines: Vec<&str> = code.lines().collect();
            for (n, line) in lines.iter().enumerate() {
                let parses = [
                    "serde_yaml::from_",
                    "serde_json::from_",
                    "toml::from_",
                    ".json::<",
                    ".json()",
                ]
                .iter()
                .any(|p| line.contains(p))
                    && !line.contains("from_value(");
                let said = |l: Option<&&str>| l.is_some_and(|l| l.contains("// bounds:"));
                if parses && !said(Some(line)) && !said(n.checked_sub(1).and_then(|i| lines.get(i)))
                {
                    offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "parse YAML/JSON through crate::bounds::yaml / json:\n{}",
            offenders.join("\n")
        );
    }
}
