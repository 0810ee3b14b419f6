//! Who owns which files: inferring `execution_mode`, `owned_files` and
//! `authoritative_surface` from a WP's text, and checking two WPs' globs for
//! overlap.

use std::collections::BTreeSet;

/// `code_change` or `planning_artifact`, with the globs the WP may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    pub execution_mode: String,
    pub owned_files: Vec<String>,
    pub authoritative_surface: String,
    /// Set when nothing in the text named a path and the broad fallback was used.
    pub fallback: bool,
}

pub const PLANNING: &str = "planning_artifact";
pub const CODE: &str = "code_change";

/// Path prefixes that name files a WP writes.
const PATH_PREFIXES: &[&str] = &[
    "src/",
    "tests/",
    "test/",
    "kitty-specs/",
    "docs/",
    "benches/",
    "templates/",
    "scripts/",
    "crates/",
    "lib/",
];

const PLANNING_WORDS: &[&str] = &[
    "kitty-specs/",
    "spec.md",
    "plan.md",
    "tasks.md",
    "research.md",
    "data-model.md",
    "quickstart.md",
];

const CODE_WORDS: &[&str] = &[
    "src/", "test/", "tests/", ".py", ".ts", ".js", ".rs", ".go", ".java", ".rb", ".tsx", ".jsx",
    ".c", ".cpp", ".h",
];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Does `word` occur in `text` not glued to a longer word on its open side(s)?
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before_ok = word.starts_with('.')
            || text[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !is_word_char(c) && c != '/');
        let after_ok = word.ends_with('/')
            || text[i + word.len()..]
                .chars()
                .next()
                .is_none_or(|c| !is_word_char(c));
        before_ok && after_ok
    })
}

/// Path tokens (`src/gamma/`, `tests/x.rs`) in the text, as globs.
pub fn path_globs(text: &str) -> Vec<String> {
    let mut found = BTreeSet::new();
    for prefix in PATH_PREFIXES {
        for (i, _) in text.match_indices(prefix) {
            if text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| is_word_char(c) || c == '/' || c == '.' || c == '-')
            {
                continue;
            }
            let token: String = text[i..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"`'\")]>,;".contains(*c))
                .collect();
            let token = token.trim_end_matches(['.', ':']);
            if token.len() <= prefix.len() && !token.ends_with('/') {
                continue;
            }
            found.insert(to_glob(token));
        }
    }
    // Drop globs already covered by a shorter one (`src/a/**` covers `src/a/b.rs`).
    let all: Vec<String> = found.into_iter().collect();
    let mut out: Vec<String> = Vec::new();
    for g in &all {
        if !all.iter().any(|o| o != g && covers(o, g)) {
            out.push(g.clone());
        }
    }
    out
}

fn to_glob(token: &str) -> String {
    if token.contains('*') {
        return token.to_string();
    }
    if let Some(dir) = token.strip_suffix('/') {
        return format!("{dir}/**");
    }
    let last = token.rsplit('/').next().unwrap_or(token);
    if last.contains('.') {
        token.to_string()
    } else {
        format!("{token}/**")
    }
}

/// Does glob `a` (a `dir/**` glob) cover everything glob `b` names?
fn covers(a: &str, b: &str) -> bool {
    match a.strip_suffix("/**") {
        Some(dir) => is_under(b, dir),
        None => false,
    }
}

/// Is `path` strictly below directory `dir` (`src/a/b` is below `src/a`, `src/ab` is not)?
fn is_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// Infer ownership from the WP's whole text (frontmatter and body).
pub fn infer(text: &str, mission_slug: &str) -> Ownership {
    let globs = path_globs(text);
    let planning_glob = format!("kitty-specs/{mission_slug}/**");
    let all_planning = !globs.is_empty() && globs.iter().all(|g| g.starts_with("kitty-specs/"));
    let words_planning = globs.is_empty()
        && PLANNING_WORDS.iter().any(|w| contains_word(text, w))
        && !CODE_WORDS.iter().any(|w| contains_word(text, w));
    if all_planning || words_planning {
        return Ownership {
            execution_mode: PLANNING.into(),
            authoritative_surface: surface(std::slice::from_ref(&planning_glob)),
            owned_files: vec![planning_glob],
            fallback: false,
        };
    }
    let code: Vec<String> = globs
        .into_iter()
        .filter(|g| !g.starts_with("kitty-specs/"))
        .collect();
    let (owned_files, fallback) = if code.is_empty() {
        (vec!["src/**".to_string()], true)
    } else {
        (code, false)
    };
    Ownership {
        execution_mode: CODE.into(),
        authoritative_surface: surface(&owned_files),
        owned_files,
        fallback,
    }
}

/// Mode from declared owned files: planning when every glob is under `kitty-specs/`.
pub fn mode_for(owned: &[String]) -> &'static str {
    if !owned.is_empty() && owned.iter().all(|g| g.starts_with("kitty-specs/")) {
        PLANNING
    } else {
        CODE
    }
}

/// The literal directory part of a glob (`src/a/**` → `src/a`).
pub fn literal_prefix(glob: &str) -> &str {
    let cut = glob.find(['*', '?', '[']).unwrap_or(glob.len());
    glob[..cut].trim_end_matches('/')
}

/// The longest common directory of the globs, with a trailing `/`; with no
/// common directory, the first glob's directory (never empty when globs exist).
pub fn surface(globs: &[String]) -> String {
    let mut common: Option<Vec<&str>> = None;
    for g in globs {
        let segs: Vec<&str> = literal_prefix(g)
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        common = Some(match common {
            None => segs,
            Some(c) => c
                .iter()
                .zip(&segs)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    match common {
        Some(c) if !c.is_empty() => {
            let joined = c.join("/");
            // The common path is itself an owned file: the surface is that file.
            if globs.contains(&joined) {
                joined
            } else {
                format!("{joined}/")
            }
        }
        // No common directory: the first glob's own surface. A plain file is its
        // own surface (`wc.py`, never `wc.py/`: the surface must be a literal
        // prefix of an owned_files entry, which the reference checks too).
        _ => globs
            .first()
            .map(|g| {
                if g.contains(['*', '?', '[']) {
                    format!("{}/", literal_prefix(g))
                } else {
                    g.clone()
                }
            })
            .filter(|s| s != "/")
            .unwrap_or_default(),
    }
}

/// Shell-style match: `*` and `?` within a segment, `**` across segments.
///
/// Dynamic programming over (pattern position, path position), one row per
/// pattern position from the end: time is pattern length × path length whatever
/// the globs look like, and nothing recurses, so a long or star-heavy glob from
/// a WP file can neither blow the stack nor take exponential time.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    // The literal prefix is matched byte for byte, so the table only covers the rest.
    let lit = pattern.find(['*', '?']).unwrap_or(pattern.len());
    let Some(s) = path.as_bytes().strip_prefix(&pattern.as_bytes()[..lit]) else {
        return false;
    };
    let p = &pattern.as_bytes()[lit..];
    let n = s.len();
    // rows[i % 4][j]: does p[i..] match s[j..]? A row needs rows up to 3 ahead.
    let mut rows = vec![vec![false; n + 1]; 4];
    rows[p.len() % 4][n] = true;
    for i in (0..p.len()).rev() {
        let mut row = std::mem::take(&mut rows[i % 4]);
        if p[i] == b'*' && p.get(i + 1) == Some(&b'*') {
            // `**`: the rest may start here, or after any `/`, or anywhere when
            // nothing follows.
            let r = if p.get(i + 2) == Some(&b'/') {
                i + 3
            } else {
                i + 2
            };
            let rest = &rows[r % 4];
            let rest_empty = r == p.len();
            let mut later = false; // some k > j with s[k-1] == '/' (or rest empty) matches
            for j in (0..=n).rev() {
                row[j] = rest[j] || later;
                if j > 0 && (rest_empty || s[j - 1] == b'/') && rest[j] {
                    later = true;
                }
            }
        } else if p[i] == b'*' {
            // `*`: any run of non-`/` bytes.
            let next = &rows[(i + 1) % 4];
            row[n] = next[n];
            for j in (0..n).rev() {
                row[j] = next[j] || (s[j] != b'/' && row[j + 1]);
            }
        } else {
            let next = &rows[(i + 1) % 4];
            for j in 0..=n {
                row[j] = j < n
                    && if p[i] == b'?' {
                        s[j] != b'/'
                    } else {
                        s[j] == p[i]
                    }
                    && next[j + 1];
            }
        }
        rows[i % 4] = row;
    }
    rows[0][0]
}

/// Could two globs name the same file?
pub fn globs_overlap(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (pa, pb) = (literal_prefix(a), literal_prefix(b));
    let a_wild = pa.len() < a.trim_end_matches('/').len();
    let b_wild = pb.len() < b.trim_end_matches('/').len();
    let under = |dir: &str, other: &str| dir.is_empty() || other == dir || is_under(other, dir);
    match (a_wild, b_wild) {
        (false, false) => pa == pb,
        (true, false) => glob_match(a, pb) || (under(pa, pb) && a.ends_with("**")),
        (false, true) => glob_match(b, pa) || (under(pb, pa) && b.ends_with("**")),
        (true, true) => under(pa, pb) || under(pb, pa),
    }
}

/// Every pair `(i, j)`, `i < j`, of `globs` that [`globs_overlap`], in ascending order.
///
/// Two globs can only overlap when the literal prefix of one is a string prefix
/// of the other's (every branch of [`globs_overlap`] needs it), so the globs are
/// sorted by literal prefix and each is compared only with the run of globs whose
/// prefix extends its own. For globs in distinct directories that is close to
/// linear, where comparing every pair is quadratic.
pub fn overlapping_pairs(globs: &[&str]) -> Vec<(usize, usize)> {
    let prefixes: Vec<&str> = globs.iter().map(|g| literal_prefix(g)).collect();
    let mut order: Vec<usize> = (0..globs.len()).collect();
    order.sort_by(|&a, &b| prefixes[a].cmp(prefixes[b]).then(a.cmp(&b)));
    let mut out = Vec::new();
    for (k, &a) in order.iter().enumerate() {
        for &b in order[k + 1..]
            .iter()
            .take_while(|&&b| prefixes[b].starts_with(prefixes[a]))
        {
            if globs_overlap(globs[a], globs[b]) {
                out.push((a.min(b), a.max(b)));
            }
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_code_and_planning() {
        let o = infer("Create the `src/gamma/` package.", "001-x");
        assert_eq!(o.execution_mode, CODE);
        assert_eq!(o.owned_files, vec!["src/gamma/**"]);
        assert_eq!(o.authoritative_surface, "src/gamma/");
        let o = infer(
            "Write `kitty-specs/001-x/research.md` and keep plan.md consistent.",
            "001-x",
        );
        assert_eq!(o.execution_mode, PLANNING);
        assert_eq!(o.owned_files, vec!["kitty-specs/001-x/**"]);
        let o = infer("Update plan.md only.", "001-x");
        assert_eq!(o.execution_mode, PLANNING);
        let o = infer("Do something vague.", "001-x");
        assert!(o.fallback);
        assert_eq!(o.owned_files, vec!["src/**"]);
    }

    #[test]
    fn paths_become_globs_and_nest() {
        assert_eq!(
            path_globs("`src/alpha/core.py` and src/alpha/ and tests/alpha_test.py, docs/x"),
            vec!["docs/x/**", "src/alpha/**", "tests/alpha_test.py"]
        );
        assert!(path_globs("mysrc/x and ./notsrc/").is_empty());
    }

    #[test]
    fn overlap_rules() {
        assert!(globs_overlap("src/a/**", "src/a/b.rs"));
        assert!(globs_overlap("src/**", "src/a/**"));
        assert!(!globs_overlap("src/a/**", "src/ab/**"));
        assert!(!globs_overlap("src/a.rs", "src/b.rs"));
        assert!(globs_overlap("src/*.rs", "src/main.rs"));
        assert!(!globs_overlap("src/*.rs", "tests/main.rs"));
    }

    #[test]
    fn overlapping_pairs_match_the_quadratic_scan() {
        let globs = [
            "src/a/**",
            "src/ab/**",
            "src/a/b.rs",
            "src/**",
            "tests/x.rs",
            "src/*.rs",
            "src/main.rs",
            "**",
            "tests/x.rs",
            "docs/",
            "src/a",
        ];
        let mut brute = Vec::new();
        for i in 0..globs.len() {
            for j in i + 1..globs.len() {
                if globs_overlap(globs[i], globs[j]) {
                    brute.push((i, j));
                }
            }
        }
        assert_eq!(overlapping_pairs(&globs), brute);
        assert!(overlapping_pairs(&[]).is_empty());
    }

    /// The recursive matcher this replaced, for comparison.
    fn glob_match_recursive(pattern: &str, path: &str) -> bool {
        fn rec(p: &[u8], s: &[u8]) -> bool {
            match p.first() {
                None => s.is_empty(),
                Some(b'*') if p.get(1) == Some(&b'*') => {
                    let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
                    (0..=s.len()).any(|i| {
                        (i == 0 || s[i - 1] == b'/' || rest.is_empty()) && rec(rest, &s[i..])
                    }) || rec(rest, s)
                }
                Some(b'*') => (0..=s.len())
                    .take_while(|&i| i == 0 || s[i - 1] != b'/')
                    .any(|i| rec(&p[1..], &s[i..])),
                Some(b'?') => !s.is_empty() && s[0] != b'/' && rec(&p[1..], &s[1..]),
                Some(c) => s.first() == Some(c) && rec(&p[1..], &s[1..]),
            }
        }
        rec(pattern.as_bytes(), path.as_bytes())
    }

    #[test]
    fn glob_matching_agrees_with_the_recursive_matcher() {
        let mut seed = 0xdead_beef_cafe_f00du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let pat_parts = ["*", "**", "?", "/", "a", "b", "**/", ".rs", "ü"];
        let path_parts = ["a", "b", "/", ".rs", "ab", "ü"];
        for _ in 0..20_000 {
            let p: String = (0..next(7))
                .map(|_| pat_parts[next(pat_parts.len() as u64) as usize])
                .collect();
            let s: String = (0..next(7))
                .map(|_| path_parts[next(path_parts.len() as u64) as usize])
                .collect();
            assert_eq!(
                glob_match(&p, &s),
                glob_match_recursive(&p, &s),
                "{p:?} vs {s:?}"
            );
        }
    }

    #[test]
    fn hostile_globs_are_fast_and_stack_safe() {
        // Each of these recursed once per byte or backtracked exponentially before.
        let long = "a".repeat(200_000);
        assert!(glob_match(&format!("{long}*"), &long));
        assert!(globs_overlap(&format!("{long}*"), &long));
        assert!(!glob_match(&("*a".repeat(40) + "b"), &"a".repeat(60)));
        assert!(glob_match(&"**/".repeat(300), &"x/".repeat(300)));
        let stars = "*?".repeat(500);
        assert!(!glob_match(&stars, &"y".repeat(499)));
        assert!(glob_match(&stars, &"y".repeat(1000)));
    }

    #[test]
    fn glob_matching() {
        assert!(glob_match("src/**", "src/a/b.rs"));
        assert!(glob_match("src/**/*.rs", "src/a/b.rs"));
        assert!(glob_match("src/*.rs", "src/b.rs"));
        assert!(!glob_match("src/*.rs", "src/a/b.rs"));
    }

    #[test]
    fn surfaces() {
        assert_eq!(surface(&["src/a/**".into(), "src/b/**".into()]), "src/");
        assert_eq!(surface(&["src/a/**".into(), "tests/a/**".into()]), "src/a/");
        assert_eq!(surface(&["src/a.rs".into()]), "src/a.rs");
        assert_eq!(
            surface(&["wc.py".into(), "tests/test_wc.py".into()]),
            "wc.py"
        );
        assert_eq!(surface(&["src/**".into(), "tests/**".into()]), "src/");
    }
}
