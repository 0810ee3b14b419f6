//! The frontmatter `finalize-tasks` writes, read without the YAML parser.
//!
//! A WP file's frontmatter is nearly always a flat mapping of plain words and
//! sentences and of lists of them (`work_package_id: WP01`, `dependencies:`
//! then `- WP01` lines). [`parse`] reads exactly that shape and answers
//! `None` for anything else (a quote, a comment, a blank line, a number, a
//! word YAML reads as null or a boolean, a nested mapping, a non-ASCII
//! character...), and the caller then asks `serde_yaml`. What it does answer is
//! the mapping `serde_yaml` makes of the same text (a unit test holds the two
//! to the same values): setting the parser up and walking its events was most
//! of what `agent tasks status` and `next` spent on a mission's WP files.

use serde_yaml::{Mapping, Value};

/// A plain scalar YAML reads as text, whatever the context: an ASCII letter
/// first (no indicator, sign, digit or dot, so never a number), then letters,
/// digits, blanks inside and a few punctuation marks that are never special
/// in a block scalar; not a word that reads as null or a boolean (nor the
/// YAML 1.1 ones, to be safe).
fn plain_text(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    first.is_ascii_alphabetic()
        && *last != b' '
        && b.iter().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b' ' | b'_' | b'-' | b'.' | b'/' | b'*' | b'(' | b')' | b',' | b'\''
                )
        })
        && !(b.len() <= 5
            && ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
                .iter()
                .any(|w| s.eq_ignore_ascii_case(w)))
}

/// A key: a plain word ([`plain_text`] without blanks or punctuation but `_`
/// and `-`).
fn plain_key(s: &str) -> bool {
    plain_text(s)
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// The list entry of `line` at `indent` spaces (`- text`), if it is one.
fn entry(line: &str, indent: usize) -> Option<&str> {
    let rest = line.strip_prefix(&" ".repeat(indent))?.strip_prefix("- ")?;
    plain_text(rest).then_some(rest)
}

/// The lines `serde_yaml` writes for the one-entry mapping `key: value`, when
/// the key is a plain word and the value plain text, an empty list or a list
/// of plain text (the shapes [`parse`] reads); None for anything else (the
/// caller then asks `serde_yaml`). A unit test holds the two to the same bytes.
pub fn render(key: &str, value: &Value) -> Option<Vec<String>> {
    if !plain_key(key) {
        return None;
    }
    match value {
        Value::String(s) if plain_text(s) => Some(vec![format!("{key}: {s}")]),
        Value::Sequence(items) if items.is_empty() => Some(vec![format!("{key}: []")]),
        Value::Sequence(items) => {
            let mut lines = Vec::with_capacity(items.len() + 1);
            lines.push(format!("{key}:"));
            for item in items {
                match item {
                    Value::String(s) if plain_text(s) => lines.push(format!("- {s}")),
                    _ => return None,
                }
            }
            Some(lines)
        }
        _ => None,
    }
}

/// The value of a `key:` line after the colon: None when nothing but blanks
/// follow (a list on the next lines, or null), the text after one space otherwise.
fn after_colon(v: &str) -> Option<Option<&str>> {
    if v.bytes().all(|c| c == b' ') {
        return Some(None);
    }
    Some(Some(v.strip_prefix(' ')?))
}

/// The mapping `serde_yaml` reads from `yaml`, when it is a flat mapping of
/// plain text and of lists of plain text; None for anything else.
pub fn parse(yaml: &str) -> Option<Mapping> {
    if yaml.contains('\r') {
        return None;
    }
    let lines: Vec<&str> = yaml
        .strip_suffix('\n')
        .unwrap_or(yaml)
        .split('\n')
        .collect();
    let mut map = Mapping::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let (key, value) = match line.split_once(':') {
            Some((k, v)) => (k, after_colon(v)?),
            None => return None,
        };
        if !plain_key(key) {
            return None;
        }
        let value = match value {
            Some("[]") => Value::Sequence(Vec::new()),
            Some(v) if plain_text(v) => Value::String(v.to_string()),
            Some(_) => return None,
            None => {
                // A list at the key's column or two spaces in, else null.
                let indent = match lines.get(i) {
                    Some(l) if l.starts_with("- ") => 0,
                    Some(l) if l.starts_with("  - ") => 2,
                    _ => usize::MAX,
                };
                if indent == usize::MAX {
                    Value::Null
                } else {
                    let mut items = Vec::new();
                    while let Some(l) = lines.get(i) {
                        if !l.starts_with(' ') && !l.starts_with('-') {
                            break;
                        }
                        items.push(Value::String(entry(l, indent)?.to_string()));
                        i += 1;
                    }
                    Value::Sequence(items)
                }
            }
        };
        // A key given twice is not flat: the whole map is dropped, so the
        // insert that replaced the first value is never seen (one hash of
        // the key instead of a lookup and an insert).
        if map.insert(Value::String(key.to_string()), value).is_some() {
            return None;
        }
    }
    (!map.is_empty()).then_some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Option<Mapping> {
        match serde_yaml::from_str::<Value>(text) {
            Ok(Value::Mapping(m)) => Some(m),
            _ => None,
        }
    }

    /// serde_yaml's lines for a one-entry mapping.
    fn yaml_lines(key: &str, value: &Value) -> Vec<String> {
        let mut m = Mapping::new();
        m.insert(Value::String(key.to_string()), value.clone());
        serde_yaml::to_string(&m)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// What this writer answers, serde_yaml writes byte for byte: keys and
    /// values of every kind (long sentences past the emitter's line width,
    /// words YAML reads as something else, punctuation at every position),
    /// single values and lists; and what it writes, [`parse`] reads back.
    #[test]
    fn renders_what_serde_yaml_renders() {
        let mut next = crate::testutil::xorshift(0x0f1a_7ea1_5eed_0042);
        let alphabet: Vec<char> = "abcXYZ019 _-./*(),'\":#&!|>%@`[]{}?~=+\\\té"
            .chars()
            .collect();
        let mut words: Vec<String> = [
            "main",
            "WP01",
            "FR-001",
            "T001",
            "code_change",
            "planning_artifact",
            "src/chain0/part1/**",
            "kitty-specs/001-big/**",
            "src/pkg1/part02/",
            "feature/x-1.2",
            "Planned on main. A WP may start from a dependency's lane branch, but finished work lands on main unless a person chooses another branch.",
            "null",
            "Yes",
            "off",
            "inf",
            "nan",
            "e5",
            "a: b",
            "a #b",
            "x ",
            "",
            "- x",
            "1.5",
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..3_000 {
            let max = if next(4) == 0 { 200 } else { 12 };
            let len = 1 + next(max) as usize;
            let s: String = (0..len)
                .map(|_| {
                    // Mostly letters and blanks, so many strings are plain.
                    if next(3) > 0 {
                        ['a', 'b', ' ', 'W', '1'][next(5) as usize]
                    } else {
                        alphabet[next(alphabet.len() as u64) as usize]
                    }
                })
                .collect();
            words.push(s);
        }
        let keys = [
            "dependencies",
            "branch_strategy",
            "a-b",
            "x1",
            "null",
            "a b",
            "1a",
            "k:",
        ];
        let (mut answered, mut lists) = (0, 0);
        for (i, w) in words.iter().enumerate() {
            let key = keys[i % keys.len()];
            let n = next(4) as usize;
            let items: Vec<Value> = (0..n)
                .map(|_| Value::String(words[next(12) as usize].clone()))
                .collect();
            for value in [
                Value::String(w.clone()),
                Value::Sequence(items),
                Value::Sequence(vec![Value::String(w.clone())]),
            ] {
                let Some(lines) = render(key, &value) else {
                    continue;
                };
                answered += 1;
                lists += usize::from(matches!(&value, Value::Sequence(v) if v.len() > 1));
                assert_eq!(lines, yaml_lines(key, &value), "{key:?} {value:?}");
                let mut text = lines.join("\n");
                text.push('\n');
                let mut want = Mapping::new();
                want.insert(Value::String(key.to_string()), value.clone());
                assert_eq!(parse(&text), Some(want), "{text:?}");
            }
        }
        assert!(answered > 1_500 && lists > 300, "{answered} {lists}");
        // Other values are left to serde_yaml.
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Number(1.into()),
            Value::Sequence(vec![Value::Number(1.into())]),
            Value::Mapping(Mapping::new()),
        ] {
            assert_eq!(render("key", &v), None, "{v:?}");
        }
    }

    /// What this reader answers, serde_yaml answers the same (and it answers
    /// the frontmatter finalize-tasks writes).
    #[test]
    fn reads_what_serde_yaml_reads() {
        let finalized = "work_package_id: WP02\ntitle: Package 02\ndependencies:\n- WP01\nrequirement_refs:\n- FR-001\nplanning_base_branch: main\nbranch_strategy: Planned on main. A WP may start from a dependency's lane branch, but finished work lands on main unless a person chooses another branch.\nsubtasks:\n- T002\nauthoritative_surface: src/pkg1/part02/\nexecution_mode: code_change\nowned_files:\n- src/pkg1/part02/**\n";
        assert_eq!(parse(finalized), yaml(finalized));
        assert!(parse(finalized).is_some());
        let keys = [
            "title",
            "dependencies",
            "a_b",
            "x-y",
            "null",
            "True",
            "k9",
            "9k",
            "ké",
        ];
        let values = [
            "",
            " WP01",
            " []",
            " [ ]",
            " Package 02",
            " main",
            " null",
            " Null",
            " ~",
            " true",
            " FALSE",
            " yes",
            " n",
            " 1",
            " 1.5",
            " .inf",
            " inf",
            " nan",
            " e5",
            " 0x1F",
            " -1",
            " - x",
            " a: b",
            " a:b",
            " a #c",
            " a#c",
            " 'q'",
            " \"q\"",
            " it's",
            " a, b",
            " [a]",
            " {a: 1}",
            " &x a",
            " *x",
            " !t a",
            " |",
            " >",
            " a  b",
            " a ",
            "  a",
            " é",
            " a\tb",
            " src/**",
            " (x)",
            " %x",
            " @x",
            " `x`",
            " ",
            "   ",
            " \t",
        ];
        let lists = [
            "",
            "\n- a",
            "\n  - a\n  - b",
            "\n- a\n  - b",
            "\n- 1",
            "\n- null",
            "\n- a: b",
            "\n-  a",
            "\n- ",
            "\n-",
            "\n - a",
            "\n- a\n- b",
            "\n\n- a",
            "\n- a # c",
            "\n  - a\n- b",
            "\n- [a]",
            "\n- it's ok",
            " \n- a",
            "  \n  - a\n  - b",
            " \n",
            "\t\n- a",
        ];
        let mut docs = Vec::new();
        for k in keys {
            for v in values {
                docs.push(format!("{k}:{v}\n"));
                docs.push(format!("{k}:{v}\nother: x"));
                docs.push(format!("a: b\n{k}:{v}\nc: d\n"));
            }
            for l in lists {
                docs.push(format!("{k}:{l}\n"));
                docs.push(format!("{k}:{l}\nnext: x\n"));
            }
        }
        docs.extend(
            [
                "a: b\na: c\n",
                "a: b\n\nc: d\n",
                "a: b\n# c\n",
                "a: b\r\n",
                "a: b\n  c: d\n",
                "a:\n  b: c\n",
                "---\na: b\n",
                "a: b\n...\n",
                "- a\n",
                "a",
                "",
                "a: b\nc:\n",
                "a:\nb:\n",
            ]
            .map(String::from),
        );
        let mut answered = 0;
        for d in &docs {
            if let Some(m) = parse(d) {
                answered += 1;
                let keys: Vec<Value> = m.keys().cloned().collect();
                let want = yaml(d);
                assert_eq!(Some(m), want, "{d:?}");
                let want_keys: Option<Vec<Value>> = want.map(|w| w.keys().cloned().collect());
                assert_eq!(Some(keys), want_keys, "key order: {d:?}");
            }
        }
        // Most of these are left to serde_yaml; the plain ones are answered.
        assert!(answered > 100, "{answered}");
    }
}
