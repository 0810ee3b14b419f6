//! `tasks.md`: work package sections, dependency prose, requirement refs and
//! subtask checkboxes.
//!
//! A WP section starts at a WP heading (`## WP01: ...`, `## Work Package WP01 ...`,
//! `### WP01`) and ends at the next heading of any level, except a
//! `Dependencies`, `Subtasks` or `Included Subtasks` heading, whose list belongs
//! to the WP. So trailing prose
//! (`## Notes`, `### Notes`, `# Appendix`, a coverage table under its own heading)
//! never leaks into the WP above it. Line numbers are 1-based.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

pub(super) fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are literals in this file; a bad one fails every test.
    // The test build has regex's `unicode-case` (through dev-dependencies),
    // the release build not: a `(?i)` pattern would pass every test and fail
    // in the release binary, so it is refused here, in every test run.
    debug_assert!(
        !pattern.contains("(?i"),
        "a case-insensitive pattern goes through re_ci: {pattern}"
    );
    #[allow(clippy::expect_used)]
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex literal"))
}

/// [`re`] of `pattern` matched case-insensitively, exactly as `(?i)pattern`
/// matches (Unicode simple case folding), through [`fold_case`]: the binary is
/// built without regex's `unicode-case` tables, whose 2,938-entry fold table
/// of pointers the loader relocated at every start (twice: two copies).
pub(super) fn re_ci(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    #[allow(clippy::expect_used)]
    cell.get_or_init(|| Regex::new(&fold_case(pattern)).expect("valid regex literal"))
}

/// `pattern` with each ASCII letter outside an escape and a class replaced by
/// the class of the letters `(?i)` matches for it: both ASCII cases, and also
/// LATIN SMALL LETTER LONG S for `s` and KELVIN SIGN for `k`, the only
/// non-ASCII letters whose simple case fold is an ASCII letter (the test
/// `fold_case_matches_as_unicode_case_insensitive_regexes` checks every code
/// point). For this file's literal patterns: an escape is a backslash and one
/// character (`\b`, `\d`, `\t`), and a class (`[...]`) holds no letter.
fn fold_case(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() * 3);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                out.extend(chars.next());
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            c if c.is_ascii_alphabetic() && !in_class => {
                out.push('[');
                out.push(c.to_ascii_lowercase());
                out.push(c.to_ascii_uppercase());
                match c.to_ascii_lowercase() {
                    's' => out.push('\u{17f}'),
                    'k' => out.push('\u{212a}'),
                    _ => {}
                }
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

pub(super) fn wp_heading_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^(?:##[ \t]+(?:Work[ \t]+Package[ \t]+)?|###[ \t]+)(WP\d{2,})(?:\b|:)",
    )
}

/// The pattern [`is_heading`] matches by hand (kept to test it against).
#[cfg(test)]
fn heading_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^#{1,6}[ \t]")
}

/// A heading that belongs to the WP section above it: `### Dependencies`,
/// `### Subtasks` or `### Included Subtasks`.
fn inner_heading_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(
        &R,
        r"^#{1,4}[ \t]*(?:\*\*)?[ \t]*(?:dependencies|(?:included[ \t]+)?subtasks)[ \t]*(?:\*\*)?[ \t]*:?[ \t]*$",
    )
}

fn deps_heading_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(
        &R,
        r"^#{1,4}[ \t]*(?:\*\*)?[ \t]*dependencies[ \t]*(?:\*\*)?[ \t]*:?[ \t]*$",
    )
}

pub(super) fn depends_on_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(
        &R,
        r"\bdepends?[ \t]+on[ \t]+(WP\d{2,}(?:[ \t]*(?:,|and)[ \t]*WP\d{2,})*)",
    )
}

pub(super) fn deps_line_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(
        &R,
        r"^[ \t>*-]*(?:\*\*)?dependencies(?:\*\*)?[ \t]*:(?:\*\*)?(.*)$",
    )
}

fn bullet_wp_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[ \t]*[-*][ \t]+(WP\d{2,})\b")
}

pub(super) fn wp_token_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"WP\d{2,}")
}

pub(super) fn refs_line_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(
        &R,
        r"^[ \t>*-]*(?:\*\*)?requirements?(?:[ \t]+refs?)?(?:\*\*)?[ \t]*:(?:\*\*)?(.*)$",
    )
}

pub(super) fn req_token_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(&R, r"\b(?:NFR|FR|C)-\d+\b")
}

pub(super) fn subtask_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[ \t]*[-*][ \t]*\[([ xX])\][ \t]*(T\d+)\b")
}

/// What a hand-written matcher says of a line: the pattern matches (with
/// the byte offsets it captured), it does not, or the line holds a non-ASCII
/// character where the pattern's Unicode classes (`\d`, `\b`) decide, so
/// only the regex can say.
#[derive(Debug, PartialEq, Eq)]
enum Quick<T> {
    Yes(T),
    No,
    Ask,
}

/// Whether the byte after an ASCII digit run ends the pattern's `\d+\b`:
/// `Yes` at the end of the line or before an ASCII character that is not a
/// word character, `No` before an ASCII word character (the run is maximal,
/// so no shorter run ends on a boundary either), `Ask` before a non-ASCII
/// character (a Unicode digit or word character, or not).
fn ends_word(next: Option<&u8>) -> Quick<()> {
    match next {
        None => Quick::Yes(()),
        Some(b) if !b.is_ascii() => Quick::Ask,
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => Quick::No,
        Some(_) => Quick::Yes(()),
    }
}

/// `ID\d+` (at least `min` digits) then a word boundary, at `p` of `b`: the
/// end of the digits.
fn id_at(b: &[u8], p: usize, id: &[u8], min: usize) -> Quick<usize> {
    if !b.get(p..).is_some_and(|r| r.starts_with(id)) {
        return Quick::No;
    }
    let digits = p + id.len();
    let end = digits
        + b[digits..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
    match ends_word(b.get(end)) {
        Quick::Ask => Quick::Ask,
        _ if end - digits < min => Quick::No,
        Quick::Yes(()) => Quick::Yes(end),
        Quick::No => Quick::No,
    }
}

fn skip_blanks(b: &[u8], p: usize) -> usize {
    p + b[p.min(b.len())..]
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t'))
        .count()
}

/// [`subtask_re`] without the regex: `Yes((checkbox offset, id start, id end))`.
fn subtask_quick(l: &str) -> Quick<(usize, usize, usize)> {
    let b = l.as_bytes();
    let p = skip_blanks(b, 0);
    if !matches!(b.get(p), Some(b'-' | b'*')) {
        return Quick::No;
    }
    let p = skip_blanks(b, p + 1);
    if b.get(p) != Some(&b'[')
        || !matches!(b.get(p + 1), Some(b' ' | b'x' | b'X'))
        || b.get(p + 2) != Some(&b']')
    {
        return Quick::No;
    }
    let id = skip_blanks(b, p + 3);
    match id_at(b, id, b"T", 1) {
        Quick::Yes(end) => Quick::Yes((p + 1, id, end)),
        Quick::No => Quick::No,
        Quick::Ask => Quick::Ask,
    }
}

/// A subtask checkbox line ([`subtask_re`]): whether it is ticked, its id,
/// and the byte range of the checkbox character. Most lines are answered
/// without the regex (compiling its Unicode classes cost a command that
/// reads one WP's checkboxes more than the reading).
#[allow(clippy::string_slice)] // the cuts are ASCII bytes found by the matcher, or a regex match's bounds: char boundaries
fn subtask_line(l: &str) -> Option<(bool, String, std::ops::Range<usize>)> {
    match subtask_quick(l) {
        Quick::Yes((box_at, id, end)) => Some((
            l.as_bytes()[box_at] != b' ',
            l[id..end].to_string(),
            box_at..box_at + 1,
        )),
        Quick::No => None,
        Quick::Ask => {
            let c = subtask_re().captures(l)?;
            let m = c.get(1)?;
            Some((&c[1] != " ", c[2].to_string(), m.range()))
        }
    }
}

/// [`wp_heading_re`] without the regex: `Yes((id start, id end))`; the
/// match ends where the id does.
fn wp_heading_quick(l: &str) -> Quick<(usize, usize)> {
    let b = l.as_bytes();
    let after_hashes = if b.starts_with(b"##") && matches!(b.get(2), Some(b' ' | b'\t')) {
        2
    } else if b.starts_with(b"###") && matches!(b.get(3), Some(b' ' | b'\t')) {
        3
    } else {
        return Quick::No;
    };
    let p = skip_blanks(b, after_hashes);
    if after_hashes == 2 {
        // `(?:Work[ \t]+Package[ \t]+)?` first, then without it.
        let r = &b[p..];
        if r.starts_with(b"Work") && matches!(r.get(4), Some(b' ' | b'\t')) {
            let q = skip_blanks(b, p + 4);
            if b[q..].starts_with(b"Package") && matches!(b.get(q + 7), Some(b' ' | b'\t')) {
                let q = skip_blanks(b, q + 7);
                match id_at(b, q, b"WP", 2) {
                    Quick::Yes(end) => return Quick::Yes((q, end)),
                    Quick::Ask => return Quick::Ask,
                    Quick::No => {}
                }
            }
        }
    }
    match id_at(b, p, b"WP", 2) {
        Quick::Yes(end) => Quick::Yes((p, end)),
        Quick::No => Quick::No,
        Quick::Ask => Quick::Ask,
    }
}

/// A WP heading line ([`wp_heading_re`]): its id and where the match ends.
#[allow(clippy::string_slice)] // the cuts are ASCII bytes found by the matcher: char boundaries
fn wp_heading(l: &str) -> Option<(String, usize)> {
    match wp_heading_quick(l) {
        Quick::Yes((start, end)) => Some((l[start..end].to_string(), end)),
        Quick::No => None,
        Quick::Ask => {
            let c = wp_heading_re().captures(l)?;
            Some((c[1].to_string(), c.get(0).map_or(0, |m| m.end())))
        }
    }
}

/// [`heading_re`] (`^#{1,6}[ \t]`) without the regex (it is ASCII only).
fn is_heading(l: &str) -> bool {
    let n = l.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&n) && matches!(l.as_bytes().get(n), Some(b' ' | b'\t'))
}

/// A dependency named in prose, with the line it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepRef {
    pub wp_id: String,
    pub line: usize,
}

/// A subtask checkbox line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subtask {
    pub id: String,
    pub done: bool,
    pub line: usize,
}

/// One WP section of tasks.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub wp_id: String,
    /// The heading text after the id, trimmed of `:`, `—` and `-` (`Alpha module`).
    pub title: String,
    /// Line of the WP heading.
    pub line: usize,
    /// Last line that belongs to the section.
    pub end_line: usize,
    pub dependencies: Vec<DepRef>,
    /// Requirement ids (`FR-001`), uppercased, first-seen order.
    pub requirement_refs: Vec<String>,
    pub subtasks: Vec<Subtask>,
}

/// The parsed tasks.md.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TasksDoc {
    /// Sections in file order. A WP heading that appears twice gives two entries;
    /// [`TasksDoc::duplicates`] reports them.
    pub sections: Vec<Section>,
}

impl TasksDoc {
    pub fn section(&self, wp_id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.wp_id == wp_id)
    }

    /// `(wp_id, first line, repeated line)` for every WP heading seen twice.
    pub fn duplicates(&self) -> Vec<(String, usize, usize)> {
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for s in &self.sections {
            match first.get(s.wp_id.as_str()) {
                Some(&l) => out.push((s.wp_id.clone(), l, s.line)),
                None => {
                    first.insert(&s.wp_id, s.line);
                }
            }
        }
        out
    }
}

/// Parse tasks.md text. Never fails: anything that is not a recognised
/// structure is prose.
pub fn parse(text: &str) -> TasksDoc {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    TasksDoc {
        sections: spans(&lines)
            .map(|(wp_id, title, start, end)| read_section(wp_id, title, &lines, start, end))
            .collect(),
    }
}

/// The subtasks of `wp_id`'s section, as `parse(text).section(wp_id)` has
/// them, without reading the rest of the section: a command that only needs
/// the checkboxes (implement's claim and prompt) never builds the
/// dependency and requirement patterns.
pub fn subtasks(text: &str, wp_id: &str) -> Option<Vec<Subtask>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let (_, _, start, end) = spans(&lines).find(|(id, ..)| id == wp_id)?;
    Some(section_subtasks(section_body(&lines, start, end), start))
}

/// Each WP section as `(wp_id, title, heading index, last index)`, in file order.
#[allow(clippy::string_slice)] // the cut is a regex match end: a char boundary
fn spans<'a>(lines: &'a [&'a str]) -> impl Iterator<Item = (String, String, usize, usize)> + 'a {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < lines.len() {
            // Both heading forms start with `##`: other lines never reach the pattern.
            let found = match lines[i].starts_with("##") {
                true => wp_heading(lines[i]),
                false => None,
            };
            let Some((wp_id, matched_to)) = found else {
                i += 1;
                continue;
            };
            let title = lines[i][matched_to..]
                .trim_start_matches([':', ' ', '\t', '-', '—', '–'])
                .trim()
                .to_string();
            let start = i;
            let mut end = i;
            let mut j = i + 1;
            while j < lines.len() {
                let l = lines[j];
                if is_heading(l) && !is_inner_heading(l.trim_end()) {
                    break;
                }
                end = j;
                j += 1;
            }
            i = j;
            return Some((wp_id, title, start, end));
        }
        None
    })
}

/// `inner_heading_re`, asked only of a line that can match it: one holding
/// `dependencie` or `ubta` (of `subtasks`) in any ASCII case. Exact: under
/// `(?i)` the only letters with a non-ASCII case twin are `k` and `s`
/// (KELVIN SIGN, LONG S), and neither word part holds one.
fn is_inner_heading(l: &str) -> bool {
    let lower = l.to_ascii_lowercase();
    (lower.contains("dependencie") || lower.contains("ubta")) && inner_heading_re().is_match(l)
}

/// The lines after a section's heading, through its last line.
fn section_body<'a>(lines: &'a [&'a str], start: usize, end: usize) -> &'a [&'a str] {
    if end > start {
        &lines[start + 1..=end]
    } else {
        &[]
    }
}

/// The subtask checkboxes of a section body whose heading is at index `start`.
fn section_subtasks(body: &[&str], start: usize) -> Vec<Subtask> {
    let mut subtasks = Vec::new();
    for (k, l) in body.iter().enumerate() {
        if let Some((done, id, _)) = subtask_line(l) {
            subtasks.push(Subtask {
                id,
                done,
                line: start + 2 + k,
            });
        }
    }
    subtasks
}

fn push_dep(out: &mut Vec<DepRef>, wp_id: &str, line: usize) {
    if !out.iter().any(|d| d.wp_id == wp_id) {
        out.push(DepRef {
            wp_id: wp_id.to_string(),
            line,
        });
    }
}

fn read_section(wp_id: String, title: String, lines: &[&str], start: usize, end: usize) -> Section {
    let mut deps = Vec::new();
    let mut refs: Vec<String> = Vec::new();
    let body = section_body(lines, start, end);
    // P1: "Depends on WP01, WP02" anywhere in the section.
    for (k, l) in body.iter().enumerate() {
        let n = start + 2 + k;
        for c in depends_on_re().captures_iter(l) {
            for t in wp_token_re().find_iter(&c[1]) {
                push_dep(&mut deps, t.as_str(), n);
            }
        }
    }
    // P2: "**Dependencies**: WP01, WP02" lines (not headings).
    for (k, l) in body.iter().enumerate() {
        let n = start + 2 + k;
        if l.trim_start().starts_with('#') {
            continue;
        }
        if let Some(c) = deps_line_re().captures(l) {
            for t in wp_token_re().find_iter(&c[1]) {
                push_dep(&mut deps, t.as_str(), n);
            }
        }
    }
    // P3: a Dependencies heading followed by `- WP01` bullets.
    let mut k = 0;
    while k < body.len() {
        if deps_heading_re().is_match(body[k].trim_end()) {
            let mut m = k + 1;
            while m < body.len() {
                let l = body[m];
                if l.trim().is_empty() {
                    m += 1;
                    continue;
                }
                match bullet_wp_re().captures(l) {
                    Some(c) => push_dep(&mut deps, &c[1], start + 2 + m),
                    None => break,
                }
                m += 1;
            }
            k = m;
        } else {
            k += 1;
        }
    }
    for l in body {
        if let Some(c) = refs_line_re().captures(l) {
            for t in req_token_re().find_iter(&c[1]) {
                let id = t.as_str().to_ascii_uppercase();
                if !refs.contains(&id) {
                    refs.push(id);
                }
            }
        }
    }
    let subtasks = section_subtasks(body, start);
    Section {
        wp_id,
        title,
        line: start + 1,
        end_line: end + 1,
        dependencies: deps,
        requirement_refs: refs,
        subtasks,
    }
}

/// Every `FR-n`, `NFR-n` and `C-n` id in a spec, uppercased.
pub fn requirement_ids(spec: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in req_token_re().find_iter(spec) {
        let id = t.as_str().to_ascii_uppercase();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Rewrite the checkbox of every `- [ ] Txxx` line whose id is in `ids`.
/// Returns the new text and the ids that were found.
#[allow(clippy::string_slice)] // the cuts are a regex match's start and end: char boundaries
pub fn set_subtasks(text: &str, ids: &[String], done: bool) -> (String, Vec<String>) {
    let mut found = Vec::new();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if let Some((_, id, m)) = subtask_line(line) {
            if ids.contains(&id) {
                out.push_str(&line[..m.start]);
                out.push(if done { 'x' } else { ' ' });
                out.push_str(&line[m.end..]);
                if !found.contains(&id) {
                    found.push(id);
                }
                continue;
            }
        }
        out.push_str(line);
    }
    (out, found)
}

/// Test support: `re`, built by [`re_ci`], matches every line of a corpus of
/// the patterns' words in mixed case (with LONG S and KELVIN SIGN among the
/// letters) exactly as the `(?i)` form of its pattern does: the same match,
/// the same captures. The `(?i)` form needs regex's `unicode-case` tables,
/// which the test build has (the dev-dependencies turn them on).
#[cfg(test)]
pub(super) fn assert_folds_as_case_insensitive(re: &Regex) {
    let mut plain = re.as_str().to_string();
    for c in 'a'..='z' {
        let u = c.to_ascii_uppercase();
        let class = match c {
            's' => format!("[{c}{u}\u{17f}]"),
            'k' => format!("[{c}{u}\u{212a}]"),
            _ => format!("[{c}{u}]"),
        };
        plain = plain.replace(&class, &c.to_string());
    }
    assert_eq!(fold_case(&plain), re.as_str(), "{plain}");
    let want = Regex::new(&format!("(?i){plain}")).unwrap();
    let words = [
        "dependencies",
        "depends",
        "on",
        "included",
        "subtasks",
        "requirement",
        "requirements",
        "refs",
        "ref",
        "reqs",
        "cover",
        "traces",
        "implements",
        "satisf",
        "frs",
        "deps",
        "prereq",
        "requires",
        "blocked",
        "after",
        "needs",
        "work",
        "package",
        "and",
        "wp",
        "nfr",
        "fr",
        "c",
        "kelvin",
        "x",
    ];
    let pieces = [
        "#", "##", "####", "#######", " ", "\t", "**", ":", "-", ",", ">", "*", "01", "7",
        "\u{663}", "\u{e9}", "_",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % n as u64).unwrap()
    };
    for _ in 0..20_000 {
        let mut line = String::new();
        for _ in 0..1 + next(7) {
            if next(2) == 0 {
                line.push_str(pieces[next(pieces.len())]);
                continue;
            }
            for c in words[next(words.len())].chars() {
                line.push(match (c, next(5)) {
                    ('s', 0) => '\u{17f}',
                    ('k', 0) => '\u{212a}',
                    (c, 1 | 2) => c.to_ascii_uppercase(),
                    (c, _) => c,
                });
            }
        }
        let got = re
            .captures(&line)
            .map(|c| c.iter().map(|g| g.map(|g| g.range())).collect::<Vec<_>>());
        let expected = want
            .captures(&line)
            .map(|c| c.iter().map(|g| g.map(|g| g.range())).collect::<Vec<_>>());
        assert_eq!(got, expected, "{plain} on {line:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The letters `(?i)` matches for an ASCII letter, over every code point:
    /// both ASCII cases, plus LONG S for `s` and KELVIN SIGN for `k`, the
    /// classes [`fold_case`] writes; and this file's case-insensitive
    /// patterns match as their `(?i)` forms do.
    #[test]
    fn fold_case_matches_as_unicode_case_insensitive_regexes() {
        let any = Regex::new("(?i)^[a-z]$").unwrap();
        let folded: Vec<char> = (0..=0x10_ffff_u32)
            .filter_map(char::from_u32)
            .filter(|c| any.is_match(c.encode_utf8(&mut [0; 4])))
            .collect();
        for letter in 'a'..='z' {
            let one = Regex::new(&format!("(?i)^{letter}$")).unwrap();
            let mine = Regex::new(&format!("^{}$", fold_case(&letter.to_string()))).unwrap();
            for c in &folded {
                let s = c.to_string();
                assert_eq!(mine.is_match(&s), one.is_match(&s), "{letter} and {c:?}");
            }
            assert!(!mine.is_match("\u{130}") && !mine.is_match("\u{131}"));
        }
        assert_eq!(folded.len(), 54, "{folded:?}");
        assert_eq!(
            fold_case(r"^[ \t>*-]*(?:\*\*)?sk\b\d{2,}"),
            "^[ \\t>*-]*(?:\\*\\*)?[sS\u{17f}][kK\u{212a}]\\b\\d{2,}"
        );
        for re in [
            inner_heading_re(),
            deps_heading_re(),
            depends_on_re(),
            deps_line_re(),
            refs_line_re(),
            req_token_re(),
        ] {
            assert_folds_as_case_insensitive(re);
        }
    }

    fn deps(doc: &TasksDoc, wp: &str) -> Vec<String> {
        doc.section(wp)
            .map(|s| s.dependencies.iter().map(|d| d.wp_id.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn three_declaration_styles() {
        let doc = parse(
            "# Tasks\n\n## WP01: A\nnone\n\n## WP02: B\nDepends on WP01.\n\n## Work Package WP03: C\n**Dependencies**: WP01, WP02\n\n### WP04\n### Dependencies\n- WP01 (first)\n\n- WP03\n",
        );
        assert_eq!(deps(&doc, "WP01"), Vec::<String>::new());
        assert_eq!(deps(&doc, "WP02"), vec!["WP01"]);
        assert_eq!(deps(&doc, "WP03"), vec!["WP01", "WP02"]);
        assert_eq!(deps(&doc, "WP04"), vec!["WP01", "WP03"]);
        assert_eq!(doc.section("WP03").unwrap().title, "C");
    }

    #[test]
    fn trailing_prose_never_leaks() {
        for trailer in ["## Notes", "### Notes", "# Appendix", "#### Coverage"] {
            let doc = parse(&format!(
                "## WP01: A\n**Dependencies**: WP00\n\n## WP02: B\n**Dependencies**: []\n\n{trailer}\n\nDepends on WP01.\n"
            ));
            assert_eq!(deps(&doc, "WP01"), vec!["WP00"], "{trailer}");
            assert!(deps(&doc, "WP02").is_empty(), "{trailer}");
        }
    }

    #[test]
    fn prose_between_wps_is_bounded_too() {
        let doc = parse("## WP01: A\n\n## Notes\nDepends on WP02\n\n## WP02: B\n");
        assert!(deps(&doc, "WP01").is_empty());
    }

    #[test]
    fn dependencies_heading_stays_inside() {
        let doc = parse("## WP01: A\nbody\n\n## Dependencies\n- WP00\n");
        assert_eq!(deps(&doc, "WP01"), vec!["WP00"]);
    }

    #[test]
    fn subtasks_heading_stays_inside() {
        let doc = parse("## WP01: A\n### Included Subtasks\n- [ ] T001 a\n### Subtasks\n- [ ] T002 b\n### Notes\n- [ ] T003 c\n");
        let ids: Vec<&str> = doc.sections[0]
            .subtasks
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(ids, ["T001", "T002"]);
    }

    #[test]
    fn subtasks_alone_match_the_whole_parse() {
        // Inner headings in any case, the long s and the Kelvin sign that
        // `(?i)` folds to `s` and `k`, a BOM, CRLF, a repeated WP (the first
        // section counts), a heading-looking line of 7 `#`, an empty section.
        let texts = [
            "## WP01: A\n### Included Subtasks\n- [ ] T001 a\n### Subtasks\n- [ ] T002 b\n### Notes\n- [ ] T003 c\n",
            "\u{feff}## WP01: A\r\n- [x] T001 a\r\n### SUBTASKS\r\n* [X] T002 b\r\n## WP02\r\n- [ ] T003\r\n",
            "## WP01: A\n### \u{17f}ubta\u{17f}\u{212a}\u{17f}\n- [ ] T001 a\n### DEPENDENCIE\u{17f}\n- [ ] T002 b\n## WP02: B\n",
            "## WP01: A\n####### not a heading\n- [ ] T001\n## WP01: again\n- [ ] T009\n### WP02\n",
            "## WP01\n## WP02: B\n**Dependencies**: WP01\n- [ ] T004 x\n#### Subtasks:\n- [ ] T005\n",
            "# Tasks\n\nno sections at all\n- [ ] T001\n",
        ];
        for text in texts {
            let doc = parse(text);
            for wp in ["WP01", "WP02", "WP03"] {
                assert_eq!(
                    subtasks(text, wp),
                    doc.section(wp).map(|s| s.subtasks.clone()),
                    "{wp} in {text:?}"
                );
            }
        }
        // The long s and Kelvin sign headings stay inside their WP.
        let ids: Vec<String> = subtasks(texts[2], "WP01")
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["T001", "T002"]);
    }

    #[test]
    fn refs_subtasks_and_lines() {
        let doc = parse("## WP01: A\n\n**Requirement Refs**: FR-001, nfr-002\n\n- [ ] T001 do\n- [x] T002 done\n");
        let s = doc.section("WP01").unwrap();
        assert_eq!(s.requirement_refs, vec!["FR-001", "NFR-002"]);
        assert_eq!(s.subtasks.len(), 2);
        assert_eq!(s.subtasks[0].line, 5);
        assert!(s.subtasks[1].done);
        assert_eq!(s.line, 1);
    }

    #[test]
    fn duplicates_and_dedup() {
        let doc = parse("## WP01\nDepends on WP02, WP02\n## WP01\n");
        assert_eq!(doc.duplicates(), vec![("WP01".to_string(), 1, 3)]);
        assert_eq!(deps(&doc, "WP01"), vec!["WP02"]);
    }

    #[test]
    fn mark_subtasks() {
        let (out, found) = set_subtasks("- [ ] T001 a\n- [ ] T002 b\n", &["T002".into()], true);
        assert_eq!(out, "- [ ] T001 a\n- [x] T002 b\n");
        assert_eq!(found, vec!["T002"]);
    }

    /// Every line built from pieces that steer the three patterns (hashes,
    /// blanks, the literal words, ASCII and non-ASCII digits and word
    /// characters, punctuation), up to three pieces after a start that nearly
    /// matches one of them: the hand-written
    /// matchers answer exactly as the regexes do, captures and match ends
    /// included.
    #[test]
    fn hand_matchers_answer_as_the_regexes() {
        let pieces = [
            "#", "##", " ", "\t", "Work", "Package", "WP", "T", "0", "\u{663}", "\u{e9}", ":", "-",
            "[ ]", "_", "\n",
        ];
        let starts = [
            "",
            "- [ ] ",
            "-[x]",
            "  * [X]\t",
            "## ",
            "## Work Package ",
            "### ",
            "## WP",
        ];
        let mut lines: Vec<String> = starts.map(String::from).to_vec();
        let mut frontier = lines.clone();
        for _ in 0..3 {
            let mut next = Vec::new();
            for l in &frontier {
                for p in pieces {
                    next.push(format!("{l}{p}"));
                }
            }
            lines.extend(next.iter().cloned());
            frontier = next;
        }
        lines.extend(
            [
                "## WP01: Alpha",
                "## Work Package WP01 - x",
                "##  Work\tPackage  WP0123:",
                "## Work Package WP1",
                "### WP12\u{663}",
                "### WP12\u{e9}",
                "## WP\u{663}\u{664}",
                "- [ ] T001 do it",
                "  * [X]\tT9_",
                "- [x] T0\u{663}",
                "- [x] T\u{663}",
                "####### x",
                "###### x",
            ]
            .map(String::from),
        );
        for l in &lines {
            let want = subtask_re()
                .captures(l)
                .map(|c| (&c[1] != " ", c[2].to_string(), c.get(1).unwrap().range()));
            assert_eq!(subtask_line(l), want, "subtask: {l:?}");
            let want = wp_heading_re()
                .captures(l)
                .map(|c| (c[1].to_string(), c.get(0).unwrap().end()));
            assert_eq!(wp_heading(l), want, "wp heading: {l:?}");
            assert_eq!(is_heading(l), heading_re().is_match(l), "heading: {l:?}");
        }
        // The non-ASCII lines were asked of the regex, the others were not.
        assert_eq!(wp_heading_quick("## WP12\u{e9}"), Quick::Ask);
        assert_eq!(subtask_quick("- [ ] T1\u{663}"), Quick::Ask);
        assert_eq!(subtask_quick("- [ ] T1 x"), Quick::Yes((3, 6, 8)));
    }
}
