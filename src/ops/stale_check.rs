//! `agent tests stale-check`: which test assertions a change between two
//! revisions probably made stale. Python, as the reference analyses it: the
//! function and class names and the string literals that a changed source file
//! (outside `tests/`) had at `base` and no longer has at `head` are looked up
//! in the assertions (`assert ...` statements and `x.assert*(...)` calls) of
//! the tracked `tests/**.py` files. Confidence: high for a name used in the
//! asserted expression or the call's arguments, medium for a name elsewhere in
//! the assertion, low for a string literal. Nothing is run; git is only read.
//!
//! The files are read with a small Python tokenizer (names, strings, brackets,
//! logical lines), which is all these rules need.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::compare;

/// Findings per 100 changed lines above which the report warns.
pub const FP_CEILING: f64 = 5.0;

/// Largest test file read.
const MAX_TEST_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub test_file: PathBuf,
    pub test_line: usize,
    pub source_file: PathBuf,
    pub source_line: usize,
    pub changed_symbol: String,
    pub confidence: &'static str,
    pub hint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub base_ref: String,
    pub head_ref: String,
    pub repo_root: PathBuf,
    pub findings: Vec<Finding>,
    pub elapsed_seconds: f64,
    pub files_scanned: usize,
    pub findings_per_100_loc: f64,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    /// A plain (not bytes, not f-) string literal's value.
    Str(String),
    /// Bytes or f-strings: a literal, but not a str constant.
    OtherStr,
    Op(char),
    /// `==`, `<=`, `**`, ... (never a keyword-argument `=`).
    Op2,
    Other,
    /// The end of a logical line (or a `;`).
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Tokenize Python source; None when a string is left open (the file is skipped,
/// as the reference skips a file it cannot parse).
fn tokenize(src: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut depth: usize = 0;
    let push = |out: &mut Vec<Token>, tok: Tok, line: usize| out.push(Token { tok, line });
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                if depth == 0 {
                    push(&mut out, Tok::End, line);
                }
                line += 1;
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                line += 1;
                i += 2;
            }
            ';' => {
                push(&mut out, Tok::End, line);
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let quote = chars.get(i).copied();
                let lower = word.to_ascii_lowercase();
                let is_prefix = word.len() <= 2
                    && matches!(quote, Some('\'' | '"'))
                    && ["r", "u", "b", "f", "br", "rb", "fr", "rf"].contains(&lower.as_str());
                if is_prefix {
                    let start_line = line;
                    let (value, next, lines) = read_string(&chars, i, lower.contains('r'))?;
                    i = next;
                    line += lines;
                    let tok = if lower.contains('b') || lower.contains('f') {
                        Tok::OtherStr
                    } else {
                        Tok::Str(value)
                    };
                    push_str(&mut out, tok, start_line);
                } else {
                    push(&mut out, Tok::Name(word), line);
                }
            }
            '\'' | '"' => {
                let start_line = line;
                let (value, next, lines) = read_string(&chars, i, false)?;
                i = next;
                line += lines;
                push_str(&mut out, Tok::Str(value), start_line);
            }
            c if c.is_ascii_digit() => {
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_')
                {
                    i += 1;
                }
                push(&mut out, Tok::Other, line);
            }
            '(' | '[' | '{' => {
                depth += 1;
                push(&mut out, Tok::Op(c), line);
                i += 1;
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                push(&mut out, Tok::Op(c), line);
                i += 1;
            }
            _ => {
                let next = chars.get(i + 1).copied();
                let two = matches!(
                    (c, next),
                    ('=' | '!' | '<' | '>', Some('='))
                        | ('*', Some('*'))
                        | ('/', Some('/'))
                        | ('-', Some('>'))
                        | (':', Some('='))
                        | (
                            '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '@',
                            Some('=')
                        )
                );
                if two {
                    push(&mut out, Tok::Op2, line);
                    i += 2;
                } else {
                    push(&mut out, Tok::Op(c), line);
                    i += 1;
                }
            }
        }
    }
    push(&mut out, Tok::End, line);
    Some(out)
}

/// Adjacent string literals are one constant in Python (`"a" "b"` is `"ab"`).
fn push_str(out: &mut Vec<Token>, tok: Tok, line: usize) {
    if let Some(last) = out.last_mut() {
        let merged = match (&last.tok, &tok) {
            (Tok::Str(a), Tok::Str(b)) => Some(Tok::Str(format!("{a}{b}"))),
            (Tok::Str(_) | Tok::OtherStr, Tok::Str(_) | Tok::OtherStr) => Some(Tok::OtherStr),
            _ => None,
        };
        if let Some(m) = merged {
            last.tok = m;
            return;
        }
    }
    out.push(Token { tok, line });
}

/// Read the string starting at `chars[i]` (a quote): its value, the index after
/// it, and the newlines it spans.
fn read_string(chars: &[char], i: usize, raw: bool) -> Option<(String, usize, usize)> {
    let q = chars[i];
    let triple = chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut value = String::new();
    let mut lines = 0;
    loop {
        let c = *chars.get(j)?;
        if c == '\\' {
            let n = *chars.get(j + 1)?;
            if n == '\n' {
                lines += 1;
                if raw {
                    value.push('\\');
                    value.push('\n');
                }
            } else if raw {
                value.push('\\');
                value.push(n);
            } else {
                match n {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    '0' => value.push('\0'),
                    '\\' | '\'' | '"' => value.push(n),
                    _ => {
                        value.push('\\');
                        value.push(n);
                    }
                }
            }
            j += 2;
            continue;
        }
        if c == q {
            if !triple {
                return Some((value, j + 1, lines));
            }
            if chars.get(j + 1) == Some(&q) && chars.get(j + 2) == Some(&q) {
                return Some((value, j + 3, lines));
            }
        }
        if c == '\n' {
            if !triple {
                return None;
            }
            lines += 1;
        }
        value.push(c);
        j += 1;
    }
}

/// `def NAME` / `class NAME` definitions: (name, line).
fn definitions(toks: &[Token]) -> Vec<(String, usize)> {
    toks.windows(2)
        .filter_map(|w| match (&w[0].tok, &w[1].tok) {
            (Tok::Name(k), Tok::Name(n)) if k == "def" || k == "class" => {
                Some((n.clone(), w[1].line))
            }
            _ => None,
        })
        .collect()
}

fn literals(toks: &[Token]) -> Vec<(String, usize)> {
    toks.iter()
        .filter_map(|t| match &t.tok {
            Tok::Str(s) => Some((s.clone(), t.line)),
            _ => None,
        })
        .collect()
}

/// A changed source symbol.
#[derive(Debug, Clone)]
struct Symbol {
    source_file: PathBuf,
    source_line: usize,
    literal: bool,
}

/// The identifiers (Python `Name` and attribute names) in `toks`, keyword
/// argument names left out.
fn names(toks: &[Token]) -> Vec<&str> {
    let mut out = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        if let Tok::Name(n) = &t.tok {
            if KEYWORDS.contains(&n.as_str()) {
                continue;
            }
            let kwarg = matches!(toks.get(k + 1).map(|t| &t.tok), Some(Tok::Op('=')))
                && matches!(
                    toks.get(k.wrapping_sub(1)).map(|t| &t.tok),
                    Some(Tok::Op('(' | ','))
                );
            if !kwarg {
                out.push(n.as_str());
            }
        }
    }
    out
}

fn strings(toks: &[Token]) -> Vec<&str> {
    toks.iter()
        .filter_map(|t| match &t.tok {
            Tok::Str(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

/// One assertion: its line, all its tokens, and the part where a name is
/// "direct" (the asserted expression, or the call's arguments).
struct Assertion<'a> {
    line: usize,
    all: &'a [Token],
    direct: &'a [Token],
}

fn assertions(toks: &[Token]) -> Vec<Assertion<'_>> {
    let mut out = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        match &t.tok {
            // `assert test[, msg]` up to the end of the logical line.
            Tok::Name(n) if n == "assert" => {
                let end = toks[k..]
                    .iter()
                    .position(|t| t.tok == Tok::End)
                    .map_or(toks.len(), |p| k + p);
                let body = &toks[k + 1..end];
                let mut depth = 0i32;
                let mut test_end = body.len();
                for (p, t) in body.iter().enumerate() {
                    match t.tok {
                        Tok::Op('(' | '[' | '{') => depth += 1,
                        Tok::Op(')' | ']' | '}') => depth -= 1,
                        Tok::Op(',') if depth == 0 => {
                            test_end = p;
                            break;
                        }
                        _ => {}
                    }
                }
                out.push(Assertion {
                    line: t.line,
                    all: body,
                    direct: &body[..test_end],
                });
            }
            // `<primary>.assert*(args)`
            Tok::Name(n)
                if n.starts_with("assert")
                    && k > 0
                    && toks[k - 1].tok == Tok::Op('.')
                    && toks.get(k + 1).map(|t| &t.tok) == Some(&Tok::Op('(')) =>
            {
                // The call's arguments: to the matching parenthesis.
                let open = k + 1;
                let mut depth = 0i32;
                let mut close = toks.len();
                for (p, t) in toks[open..].iter().enumerate() {
                    match t.tok {
                        Tok::Op('(' | '[' | '{') => depth += 1,
                        Tok::Op(')' | ']' | '}') => {
                            depth -= 1;
                            if depth == 0 {
                                close = open + p;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                // The primary before the dot: names joined by dots.
                let mut start = k - 1;
                while start >= 1 && matches!(toks[start - 1].tok, Tok::Name(_)) {
                    start -= 1;
                    if start >= 1 && toks[start - 1].tok == Tok::Op('.') {
                        start -= 1;
                    } else {
                        break;
                    }
                }
                let end = (close + 1).min(toks.len());
                out.push(Assertion {
                    line: toks[start].line,
                    all: &toks[start..end],
                    direct: &toks[(open + 1).min(end)..close.min(end)],
                });
            }
            _ => {}
        }
    }
    out
}

/// Python's `repr` of a str, as the reference's hint shows it.
fn py_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Compare `base..head` in the repository at `repo` (a work tree's root;
/// its canonical path when it has one, so the findings' paths are under it).
pub fn run(repo: &Path, base: &str, head: &str) -> Result<Report> {
    let canonical = std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_path_buf());
    let repo = canonical.as_path();
    let started = Instant::now();
    for r in [base, head] {
        if !compare::resolves(repo, r) {
            return Err(Error::user(format!(
                "{r:?} is not a commit in the git repository at {}",
                repo.display()
            ))
            .with_hint("give --base (and --head) as a branch, tag or commit id; --repo names the repository"));
        }
    }
    let git_err = |e: crate::git::GitError| Error::user(e.to_string());
    let changed = compare::changed_files(repo, base, head).map_err(|e| git_err(e.into()))?;
    let py: Vec<&compare::Changed> = changed.iter().filter(|c| c.path.ends_with(".py")).collect();
    let loc: usize = py.iter().map(|c| c.added_lines + c.removed_lines).sum();

    // Removed names and literals per changed source file, by name (first line wins).
    let mut ids: BTreeMap<String, Symbol> = BTreeMap::new();
    let mut lits: BTreeMap<String, Symbol> = BTreeMap::new();
    for c in py.iter().filter(|c| !c.path.starts_with("tests/")) {
        let Some(base_toks) = compare::text_at(repo, base, &c.path).and_then(|t| tokenize(&t))
        else {
            continue;
        };
        let head_toks = compare::text_at(repo, head, &c.path)
            .and_then(|t| tokenize(&t))
            .unwrap_or_default();
        let abs = repo.join(&c.path);
        for (set, base_v, head_v, literal) in [
            (
                &mut ids,
                definitions(&base_toks),
                definitions(&head_toks),
                false,
            ),
            (&mut lits, literals(&base_toks), literals(&head_toks), true),
        ] {
            let now: std::collections::HashSet<&String> = head_v.iter().map(|(n, _)| n).collect();
            for (name, line) in &base_v {
                if now.contains(name) {
                    continue;
                }
                let sym = Symbol {
                    source_file: abs.clone(),
                    source_line: *line,
                    literal,
                };
                set.entry(name.clone())
                    .and_modify(|s| {
                        if (s.source_file.as_path(), s.source_line)
                            > (sym.source_file.as_path(), sym.source_line)
                        {
                            *s = sym.clone();
                        }
                    })
                    .or_insert(sym);
            }
        }
    }

    let mut tests: Vec<String> = compare::tracked_files(repo)
        .map_err(|e| git_err(e.into()))?
        .into_iter()
        .filter(|p| p.starts_with("tests/") && p.ends_with(".py"))
        .collect();
    tests.sort();
    let mut findings = Vec::new();
    let files_scanned = tests.len();
    if !ids.is_empty() || !lits.is_empty() {
        for t in &tests {
            let path = repo.join(t);
            let Ok(Some(text)) = crate::fsutil::read_capped(&path, MAX_TEST_BYTES) else {
                continue;
            };
            let Some(toks) = tokenize(&text) else {
                continue;
            };
            for a in assertions(&toks) {
                let all = names(a.all);
                let direct = names(a.direct);
                for (name, sym) in &ids {
                    if !all.contains(&name.as_str()) {
                        continue;
                    }
                    let high = direct.contains(&name.as_str());
                    findings.push(Finding {
                        test_file: path.clone(),
                        test_line: a.line,
                        source_file: sym.source_file.clone(),
                        source_line: sym.source_line,
                        changed_symbol: name.clone(),
                        confidence: if high { "high" } else { "medium" },
                        hint: format!(
                            "Assertion references '{name}' which was renamed/removed in {}:{}",
                            file_name(&sym.source_file),
                            sym.source_line
                        ),
                    });
                }
                let consts = strings(a.all);
                for (value, sym) in &lits {
                    debug_assert!(sym.literal);
                    if consts.contains(&value.as_str()) {
                        findings.push(Finding {
                            test_file: path.clone(),
                            test_line: a.line,
                            source_file: sym.source_file.clone(),
                            source_line: sym.source_line,
                            changed_symbol: value.clone(),
                            confidence: "low",
                            hint: format!(
                                "Assertion contains string literal {} which was removed from {}:{}",
                                py_repr(value).replace(['\n', '\r'], " "),
                                file_name(&sym.source_file),
                                sym.source_line
                            ),
                        });
                    }
                }
            }
        }
    }
    let per_100 = if loc > 0 {
        findings.len() as f64 / loc as f64 * 100.0
    } else {
        0.0
    };
    Ok(Report {
        base_ref: base.to_string(),
        head_ref: head.to_string(),
        repo_root: repo.to_path_buf(),
        findings,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        files_scanned,
        findings_per_100_loc: per_100,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token> {
        tokenize(s).unwrap()
    }

    #[test]
    fn definitions_and_literals() {
        let t = toks(
            "def foo(x):\n    return \"a\" 'b'\nclass Bar: pass\ns = r'\\d' + b'x' + f'{y}'\n",
        );
        assert_eq!(definitions(&t), vec![("foo".into(), 1), ("Bar".into(), 3)]);
        assert_eq!(literals(&t), vec![("ab".into(), 2), ("\\d".into(), 4)]);
    }

    #[test]
    fn assertion_kinds_and_direct_parts() {
        let t = toks("assert foo(1) == 2, bar\nself.assertEqual(baz(), 3, msg=qux)\nx = 1\n");
        let a = assertions(&t);
        assert_eq!(a.len(), 2);
        assert_eq!(names(a[0].direct), vec!["foo"]);
        assert!(names(a[0].all).contains(&"bar"));
        assert_eq!(a[1].line, 2);
        assert_eq!(names(a[1].direct), vec!["baz", "qux"]);
        assert!(names(a[1].all).contains(&"self"));
    }

    #[test]
    fn open_string_skips_the_file() {
        assert!(tokenize("x = 'open\n").is_none());
        assert!(tokenize("x = '''a\nb'''\n").is_some());
    }

    #[test]
    fn repr_like_python() {
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\""), "'a\\'\"'");
    }
}
