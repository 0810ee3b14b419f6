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
#[allow(clippy::string_slice)] // `i` is a match_indices offset and `word.len()` its length: char boundaries
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
#[allow(clippy::string_slice)] // `i` comes from char_indices/match_indices: a char boundary
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
#[allow(clippy::string_slice)] // the cut is where find() met an ASCII glob character: a char boundary
pub fn literal_prefix(glob: &str) -> &str {
    let cut = glob.find(WILDCARDS).unwrap_or(glob.len());
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

/// The characters that make a glob more than a literal path.
const WILDCARDS: [char; 4] = ['*', '?', '[', '{'];

/// Glob match (globset): `*`, `?` and `[ab]`/`[!a]` classes within a segment,
/// `{a,b}` alternatives, `**` across segments (as a whole segment; elsewhere it
/// is a `*`). Backslashes are literal. A glob globset rejects (an unclosed
/// `[`) matches only the identical path.
///
/// The literal head of the pattern is compared byte for byte and only the rest
/// is compiled, and compiled matchers are cached per thread, so a long glob
/// from a WP file costs its length once.
#[allow(clippy::string_slice)] // `wild` is where find() met an ASCII glob character: a char boundary
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let Some(wild) = pattern.find(WILDCARDS) else {
        return pattern == path;
    };
    // A `**` is recursive only at the start of a segment, so the head is cut at
    // a `/` before one; any other wildcard stays within the segment it is in.
    let cut = if pattern[wild..].starts_with("**") {
        pattern[..wild].rfind('/').map_or(0, |i| i + 1)
    } else {
        wild
    };
    let (head, rest) = pattern.split_at(cut);
    let Some(path_rest) = path.strip_prefix(head) else {
        return false;
    };
    with_matcher(rest, |m| match m {
        Some(m) => m.is_match(path_rest),
        None => rest == path_rest,
    })
}

fn with_matcher<T>(glob: &str, f: impl FnOnce(Option<&globset::GlobMatcher>) -> T) -> T {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const CAP: usize = 4096;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<globset::GlobMatcher>>> =
            RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if !cache.contains_key(glob) {
            if cache.len() >= CAP {
                cache.clear();
            }
            let m = globset::GlobBuilder::new(glob)
                .literal_separator(true)
                .backslash_escape(false)
                .build()
                .ok()
                .map(|g| g.compile_matcher());
            cache.insert(glob.to_string(), m);
        }
        f(cache.get(glob).and_then(Option::as_ref))
    })
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
        (true, false) => glob_names_under(a, pa, pb),
        (false, true) => glob_names_under(b, pb, pa),
        (true, true) => under(pa, pb) || under(pb, pa),
    }
}

/// Can wildcard glob `glob` (literal head `head`) name `path` or, when `path`
/// is a directory, a file inside it? Matched by the same matcher as
/// [`glob_match`], so classes and alternatives count the same way here.
#[allow(clippy::string_slice)] // the cut is where rfind met '/', a char boundary
fn glob_names_under(glob: &str, head: &str, path: &str) -> bool {
    if glob_match(glob, path) {
        return true;
    }
    let Some(dir_glob) = glob
        .strip_suffix("/**")
        .or_else(|| glob.strip_suffix("**").filter(|g| g.is_empty()))
    else {
        return false;
    };
    // `path` is a directory holding the glob's head, or sits in a directory
    // the glob covers whole.
    head == path
        || is_under(head, path)
        || dir_glob.is_empty()
        || std::iter::successors(Some(path), |p| p.rfind('/').map(|i| &p[..i]))
            .any(|d| glob_match(dir_glob, d))
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

    /// A plain recursive matcher for `*`, `?` and whole-segment `**`, to check
    /// the globset one against.
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
        let mut next = crate::testutil::xorshift(0xdead_beef_cafe_f00d);
        // `**` only as a whole segment, and never two `*` side by side otherwise.
        let seg_parts = ["*", "?", "a", "b", ".rs", "ü"];
        let path_parts = ["a", "b", "/", ".rs", "ab", "ü"];
        let (mut matched, mut missed) = (0, 0);
        for _ in 0..5_000 {
            let segs: Vec<String> = (0..1 + next(4))
                .map(|_| {
                    if next(4) == 0 {
                        return "**".to_string();
                    }
                    let mut seg = String::new();
                    for _ in 0..1 + next(3) {
                        let part = seg_parts[next(seg_parts.len() as u64) as usize];
                        if !(part == "*" && seg.ends_with('*')) {
                            seg.push_str(part);
                        }
                    }
                    seg
                })
                .collect();
            let p = segs.join("/");
            let s: String = (0..next(7))
                .map(|_| path_parts[next(path_parts.len() as u64) as usize])
                .collect();
            let got = glob_match(&p, &s);
            assert_eq!(got, glob_match_recursive(&p, &s), "{p:?} vs {s:?}");
            if got {
                matched += 1;
            } else {
                missed += 1;
            }
        }
        // Both arms were exercised, not just one.
        assert!(
            matched > 200 && missed > 200,
            "{matched} matched, {missed} missed"
        );
    }

    #[test]
    fn classes_and_alternatives_match_and_overlap_alike() {
        assert!(glob_match("src/[ab].rs", "src/a.rs"));
        assert!(!glob_match("src/[ab].rs", "src/c.rs"));
        assert!(glob_match("src/[!a].rs", "src/b.rs"));
        assert!(!glob_match("src/[!a].rs", "src/a.rs"));
        assert!(glob_match("src/{x,y}/**", "src/y/z.rs"));
        assert!(!glob_match("src/[ab]/*", "src/a/b/c"));
        for (glob, path) in [
            ("src/[ab].rs", "src/a.rs"),
            ("src/[ab].rs", "src/c.rs"),
            ("src/[!a].rs", "src/a.rs"),
            ("src/{x,y}/**", "src/y/z.rs"),
            ("src/{x,y}/**", "src/z/z.rs"),
            ("[ab]/**", "a/q"),
        ] {
            assert_eq!(
                globs_overlap(glob, path),
                glob_match(glob, path),
                "{glob} vs {path}"
            );
            assert_eq!(globs_overlap(path, glob), globs_overlap(glob, path));
        }
        // A glob globset rejects matches only itself.
        assert!(glob_match("src/[a", "src/[a"));
        assert!(!glob_match("src/[a", "src/a"));
        // `**` inside a segment is a `*`.
        assert!(glob_match("src/a**", "src/abc"));
        assert!(!glob_match("src/a**", "src/a/b"));
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
