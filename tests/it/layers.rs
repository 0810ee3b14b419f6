//! The module graph holds its layers: every `crate::` path in non-test code
//! under `src/` (multi-line `use crate::{ ... }` lists and `super::` paths that
//! leave a top-level module included) is an edge between two top-level
//! modules; the graph has no cycle and no edge goes up a floor.
//!
//! [`FLOORS`] is the one floor table. [`KNOWN`] lists the edges that still
//! break a rule; it only shrinks: a listed edge that no longer exists fails
//! the test too, so the list stays exact.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Floors, bottom up. A module may name modules on its own floor (as long as
/// no cycle forms) and on the floors below, never above.
const FLOORS: &[(&str, &[&str])] = &[
    (
        "ground",
        &[
            "bounds",
            "confine",
            "config",
            "env",
            "error",
            "fsutil",
            "git",
            "ids",
            "jsonfmt",
            "logprefix",
            "project",
            "shell",
            "timefmt",
        ],
    ),
    (
        "data",
        &[
            "charter",
            "lanes",
            "mission",
            "research",
            "status",
            "tasks_md",
            "templates",
        ],
    ),
    (
        "operations",
        &[
            "auth",
            "init",
            "merge",
            "next",
            "ops",
            "release",
            "workspace",
        ],
    ),
    ("surfaces", &["cli", "dashboard", "mcp", "orchestrator_api"]),
];

/// Edges that break a rule today (upward, or inside a cycle), each to be
/// removed from here when the code stops making it. Nothing new goes in.
const KNOWN: &[(&str, &str)] = &[];

/// Items of the crate root that are re-exports of a module's items.
const ROOT_REEXPORTS: &[(&str, &str)] = &[("Error", "error"), ("Result", "error")];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Path, // `::`
    Punct(char),
}

/// Rust source to tokens, without comments, strings and char literals.
fn tokenize(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if (ch == 'r' || (ch == 'b' && c.get(i + 1) == Some(&'r')))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
            && {
                let mut j = i + if ch == 'b' { 2 } else { 1 };
                while c.get(j) == Some(&'#') {
                    j += 1;
                }
                c.get(j) == Some(&'"')
            }
        {
            // raw string r#"..."#
            let mut j = i + if ch == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while c[j] == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
        } else if ch == '\'' {
            // char literal or lifetime
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1; // lifetime: the name follows as an identifier
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // b"..." byte strings: drop the prefix, the string follows.
            if word == "b" && c.get(i) == Some(&'"') {
                continue;
            }
            out.push(Tok::Ident(word));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok::Path);
            i += 2;
        } else if ch.is_whitespace() || ch.is_ascii_digit() {
            i += 1;
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

fn is_open(t: &Tok) -> bool {
    matches!(t, Tok::Punct('{' | '(' | '['))
}
fn is_close(t: &Tok) -> bool {
    matches!(t, Tok::Punct('}' | ')' | ']'))
}

/// The index after the bracketed group that opens at `i`.
fn skip_group(t: &[Tok], mut i: usize) -> usize {
    let mut depth = 0;
    while i < t.len() {
        if is_open(&t[i]) {
            depth += 1;
        } else if is_close(&t[i]) {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

/// Removes items behind `#[cfg(test)]` (or any `cfg` naming `test` without `not`).
fn strip_test_items(t: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if t[i] == Tok::Punct('#') && t.get(i + 1) == Some(&Tok::Punct('[')) {
            let end = skip_group(&t, i + 1);
            let attr = &t[i + 2..end.saturating_sub(1)];
            let is_test_cfg = attr.first() == Some(&Tok::Ident("cfg".into()))
                && attr.contains(&Tok::Ident("test".into()))
                && !attr.contains(&Tok::Ident("not".into()));
            if !is_test_cfg {
                out.extend_from_slice(&t[i..end]);
                i = end;
                continue;
            }
            // Skip further attributes, then the item: up to a `;` at depth 0
            // or the end of its first top-level `{...}` group.
            let mut j = end;
            while t.get(j) == Some(&Tok::Punct('#')) && t.get(j + 1) == Some(&Tok::Punct('[')) {
                j = skip_group(&t, j + 1);
            }
            while j < t.len() {
                if t[j] == Tok::Punct(';') {
                    j += 1;
                    break;
                }
                if t[j] == Tok::Punct('{') {
                    j = skip_group(&t, j);
                    break;
                }
                if is_open(&t[j]) {
                    j = skip_group(&t, j);
                } else {
                    j += 1;
                }
            }
            i = j;
        } else {
            out.push(t[i].clone());
            i += 1;
        }
    }
    out
}

/// The first segment of each path in the `{...}` group opening at `i`
/// (nested groups inside an element belong to that element).
fn group_heads(t: &[Tok], i: usize) -> Vec<String> {
    let end = skip_group(t, i);
    let mut heads = Vec::new();
    let mut expect_head = true;
    let mut depth = 0;
    for tok in &t[i + 1..end.saturating_sub(1)] {
        match tok {
            _ if is_open(tok) => depth += 1,
            _ if is_close(tok) => depth -= 1,
            Tok::Punct(',') if depth == 0 => expect_head = true,
            Tok::Ident(w) if expect_head && depth == 0 => {
                heads.push(w.clone());
                expect_head = false;
            }
            _ => {}
        }
    }
    heads
}

/// The top-level modules (or root items) that the source of module `module`
/// names through `crate::`, `$crate::` and `super::` paths.
fn targets(module: &[String], src: &str) -> BTreeSet<String> {
    let t = strip_test_items(tokenize(src));
    let mut found = BTreeSet::new();
    // Inline `mod name { ... }` blocks: (name, brace depth at which it opened).
    let mut inline: Vec<usize> = Vec::new();
    let mut inline_names: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let add = |t: &[Tok], at: usize, found: &mut BTreeSet<String>| match t.get(at) {
        Some(Tok::Ident(w)) => {
            found.insert(w.clone());
        }
        Some(Tok::Punct('{')) => found.extend(group_heads(t, at)),
        _ => {}
    };
    while i < t.len() {
        match &t[i] {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last() == Some(&depth) {
                    inline.pop();
                    inline_names.pop();
                }
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct('{'))) =
                    (t.get(i + 1), t.get(i + 2))
                {
                    inline.push(depth);
                    inline_names.push(name.clone());
                }
            }
            Tok::Ident(w) if w == "crate" && t.get(i + 1) == Some(&Tok::Path) => {
                let prev_is_path = i > 0 && t[i - 1] == Tok::Path;
                if !prev_is_path {
                    add(&t, i + 2, &mut found);
                }
            }
            Tok::Ident(w) if w == "super" && !(i > 0 && t[i - 1] == Tok::Path) => {
                let mut supers = 0;
                let mut j = i;
                while t.get(j) == Some(&Tok::Ident("super".into()))
                    && t.get(j + 1) == Some(&Tok::Path)
                {
                    supers += 1;
                    j += 2;
                }
                if supers == 0 {
                    i += 1; // `pub(super)`
                    continue;
                }
                if supers >= module.len() + inline_names.len() {
                    add(&t, j, &mut found);
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Top-level module -> the top-level modules it names (self edges dropped).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let name = first.trim_end_matches(".rs").to_string();
        if name != "lib" && name != "main" {
            modules.insert(name);
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let mut module: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        if module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        if module == ["lib"] || module == ["main"] {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let from = module[0].clone();
        let entry = graph.entry(from.clone()).or_default();
        for target in targets(&module, &text) {
            let to = ROOT_REEXPORTS
                .iter()
                .find(|(item, _)| *item == target)
                .map(|(_, m)| m.to_string())
                .unwrap_or(target);
            if modules.contains(&to) && to != from {
                entry.insert(to);
            }
        }
    }
    graph
}

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|(_, ms)| ms.contains(&module))
}

/// Pairs (a, b) with a path a -> ... -> b.
fn reachability(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<(String, String)> {
    let mut reach = BTreeSet::new();
    for start in graph.keys() {
        let mut stack: Vec<&String> = graph[start].iter().collect();
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) {
                reach.insert((start.clone(), n.clone()));
                if let Some(next) = graph.get(n) {
                    stack.extend(next.iter());
                }
            }
        }
    }
    reach
}

/// Every edge that goes up a floor or lies on a cycle.
fn violations(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<(String, String), String> {
    let reach = reachability(graph);
    let mut bad = BTreeMap::new();
    for (from, tos) in graph {
        for to in tos {
            let (ff, ft) = (floor_of(from).unwrap(), floor_of(to).unwrap());
            if ft > ff {
                bad.insert(
                    (from.clone(), to.clone()),
                    format!("goes up from {} to {}", FLOORS[ff].0, FLOORS[ft].0),
                );
            } else if reach.contains(&(to.clone(), from.clone())) {
                bad.insert((from.clone(), to.clone()), "lies on a cycle".to_string());
            }
        }
    }
    bad
}

#[test]
fn every_module_has_a_floor() {
    let graph = module_graph();
    let missing: Vec<&String> = graph.keys().filter(|m| floor_of(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "add these top-level modules to FLOORS in tests/it/layers.rs: {missing:?}"
    );
    assert!(
        graph.len() > 15,
        "found only {} top-level modules",
        graph.len()
    );
}

#[test]
fn the_module_graph_has_no_cycle_and_no_upward_edge() {
    let graph = module_graph();
    if graph.keys().any(|m| floor_of(m).is_none()) {
        return; // every_module_has_a_floor names them
    }
    let bad = violations(&graph);
    // LAYERS_DUMP=1 prints the violations in KNOWN's format and the graph.
    if std::env::var_os("LAYERS_DUMP").is_some() {
        for ((a, b), why) in &bad {
            println!("    (\"{a}\", \"{b}\"), // {why}");
        }
        for (a, bs) in &graph {
            println!("{a} -> {bs:?}");
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<String> = bad
        .iter()
        .filter(|(e, _)| !known.contains(*e))
        .map(|((a, b), why)| format!("{a} -> {b} ({why})"))
        .collect();
    let gone: Vec<String> = known
        .iter()
        .filter(|e| !bad.contains_key(*e))
        .map(|(a, b)| format!("(\"{a}\", \"{b}\")"))
        .collect();
    assert!(
        new.is_empty(),
        "module edges that break the layers (move the code down or the caller up):\n  {}",
        new.join("\n  ")
    );
    assert!(
        gone.is_empty(),
        "these edges are gone or fixed: delete them from KNOWN in tests/it/layers.rs:\n  {}",
        gone.join("\n  ")
    );
}

/// The parser itself: multi-line `use crate::{...}` lists, nested groups,
/// `super::` out of a top-level module, `$crate`, and what it must not count.
#[test]
fn the_path_parser_sees_every_form() {
    let src = r##"
        use crate::{
            cli::Ctx,
            status::{self, Lane},
            error::Error,
        };
        use super::merge::x;
        // crate::commented
        /* crate::blocked /* nested crate::deeper */ */
        const S: &str = "crate::quoted";
        const R: &str = r#"crate::raw"#;
        fn f<'a>(c: char) -> &'a str { let _ = 'c'; $crate::macro_target::f() }
        pub mod inner { use super::super::lanes; }
        #[cfg(test)]
        mod tests { use crate::test_only; }
        #[cfg(all(test, unix))]
        fn helper() { crate::also_test_only::f(); }
        #[cfg(not(test))]
        fn real() { crate::not_test::f(); }
        fn g() { other_crate::crate_like::f(); crate::git::short(x); }
    "##;
    let got = targets(&["mission".to_string()], src);
    let want: BTreeSet<String> = [
        "cli",
        "status",
        "error",
        "merge",
        "macro_target",
        "lanes",
        "not_test",
        "git",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
    // Inside src/mission/create.rs, `super::` is still mission.
    let inner = targets(
        &["mission".into(), "create".into()],
        "use super::select; use super::super::ids;",
    );
    assert_eq!(inner, ["ids".to_string()].into_iter().collect());
}

/// The check fails on what it should: an upward edge and a cycle.
#[test]
fn the_check_catches_an_upward_edge_and_a_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("ids".into()).or_default().insert("status".into());
    g.entry("status".into()).or_default().insert("lanes".into());
    g.entry("lanes".into()).or_default().insert("status".into());
    let bad = violations(&g);
    assert!(bad[&("ids".to_string(), "status".to_string())].contains("goes up"));
    assert!(bad[&("status".to_string(), "lanes".to_string())].contains("cycle"));
    assert!(bad[&("lanes".to_string(), "status".to_string())].contains("cycle"));
    assert_eq!(bad.len(), 3);
}

/// The `src/`-relative paths of the files whose non-test code names `git2` or `libgit2_sys`
/// (an identifier, so comments, strings and `#[cfg(test)]` items do not count).
fn files_naming_git2() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let code = strip_test_items(tokenize(&text));
            ["git2", "libgit2_sys"]
                .iter()
                .any(|name| code.contains(&Tok::Ident((*name).into())))
        })
        .map(|f| {
            f.strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

/// Every git2 call lives in `src/git/`: no other module names `git2` (or
/// its raw binding `libgit2_sys`) in non-test code.
#[test]
fn git2_is_named_only_in_the_git_module() {
    let naming = files_naming_git2();
    let outside: Vec<&str> = naming
        .iter()
        .filter(|f| !f.starts_with("git/"))
        .map(String::as_str)
        .collect();
    assert!(
        outside.is_empty(),
        "these files name git2 outside src/git: move the calls into the git module:\n  {}",
        outside.join("\n  ")
    );
    assert!(
        naming.iter().any(|f| f.starts_with("git/")),
        "the git module itself names git2"
    );
}

/// The check sees `git2` in code, not in comments, strings or test items.
#[test]
fn the_git2_check_reads_code_only() {
    let src = r#"
        // git2::Repository in a comment
        const S: &str = "git2::Oid";
        #[cfg(test)]
        mod tests { use git2::Repository; }
    "#;
    assert!(!strip_test_items(tokenize(src)).contains(&Tok::Ident("git2".into())));
    let code = "fn f() -> git2::Oid { todo!() }";
    assert!(strip_test_items(tokenize(code)).contains(&Tok::Ident("git2".into())));
}

/// Every regex is built by `tasks_md::parse` (`re`, which refuses `(?i)` in
/// debug builds, and `re_ci`): the release binary has no `unicode-case`
/// tables, which the test build gets through dev-dependencies, so a `(?i)`
/// pattern built anywhere else would pass the tests and fail when released.
#[test]
fn regexes_are_built_only_by_the_tasks_md_parser() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let builders: BTreeSet<String> = files
        .iter()
        .filter(|f| {
            let toks = strip_test_items(tokenize(&std::fs::read_to_string(f).unwrap()));
            toks.windows(3).any(|w| {
                matches!(&w[0], Tok::Ident(a) if a == "Regex" || a == "RegexBuilder" || a == "RegexSet")
                    && w[1] == Tok::Path
                    && matches!(&w[2], Tok::Ident(b) if b == "new")
            })
        })
        .map(|f| f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/"))
        .collect();
    assert_eq!(
        builders,
        BTreeSet::from(["tasks_md/parse.rs".to_string()]),
        "build regexes with tasks_md::parse::re or re_ci (a `(?i)` pattern needs re_ci)"
    );
}

/// Files of `src/cli/` that may still read `--json` themselves, each with
/// the reason: only a command that streams (writes as it goes, so it has no
/// one outcome to render) belongs here. Every other command maps its input to
/// one operation and renders the typed outcome with `ctx.render`.
const JSON_READ_ALLOWED: &[(&str, &str)] = &[];

/// The `src/cli/`-relative paths of the files whose non-test code reads
/// `--json` itself, with how often: `ctx.json`, any other `.json` field read
/// (not a `.json()` call), or printing a document past `ctx.render`
/// (`json_out`, `print_json`). `output.rs` defines `Ctx` and `render`, the
/// one place that decides.
fn cli_files_reading_json() -> BTreeMap<String, usize> {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    rust_files(&cli, &mut files);
    let mut out = BTreeMap::new();
    for f in &files {
        let rel = f
            .strip_prefix(&cli)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "output.rs" {
            continue;
        }
        let n = json_reads(&std::fs::read_to_string(f).unwrap());
        if n > 0 {
            out.insert(rel, n);
        }
    }
    out
}

/// How often non-test code reads `--json` itself (see [`cli_files_reading_json`]).
fn json_reads(src: &str) -> usize {
    let t = strip_test_items(tokenize(src));
    let json = Tok::Ident("json".into());
    (0..t.len())
        .filter(|&i| {
            let field = t[i] == Tok::Punct('.')
                && t.get(i + 1) == Some(&json)
                && t.get(i + 2) != Some(&Tok::Punct('('));
            let printer = matches!(&t[i], Tok::Ident(w) if w == "json_out" || w == "print_json");
            field || printer
        })
        .count()
}

/// `src/cli` holds argument types, one operation call per command and
/// rendering: no file but `output.rs` branches on `--json` or prints a JSON
/// document itself (except the streaming commands in [`JSON_READ_ALLOWED`]).
#[test]
fn src_cli_renders_every_outcome_through_ctx_render() {
    let reading = cli_files_reading_json();
    let allowed: BTreeSet<&str> = JSON_READ_ALLOWED.iter().map(|(f, _)| *f).collect();
    let new: Vec<String> = reading
        .iter()
        .filter(|(f, _)| !allowed.contains(f.as_str()))
        .map(|(f, n)| format!("{f} ({n})"))
        .collect();
    let gone: Vec<&&str> = allowed
        .iter()
        .filter(|f| !reading.contains_key(**f))
        .collect();
    assert!(
        new.is_empty(),
        "these src/cli files read --json themselves: return a typed outcome and `ctx.render` it (a Render impl), or, if the command streams, list it in JSON_READ_ALLOWED with why:\n  {}",
        new.join("\n  ")
    );
    assert!(
        gone.is_empty(),
        "these files no longer read --json: delete them from JSON_READ_ALLOWED in tests/it/layers.rs: {gone:?}"
    );
}

/// The check sees reads of `--json` in code, not in comments, strings, test
/// items or calls of `Render::json`.
#[test]
fn the_json_check_reads_code_only() {
    let quiet = r#"
        // if ctx.json { ctx.json_out(&v) }
        const S: &str = "ctx.json";
        fn json(&self) -> Value { self.outcome.json() }
        #[cfg(test)]
        mod tests { fn f(ctx: &Ctx) { assert!(ctx.json); } }
    "#;
    assert_eq!(json_reads(quiet), 0);
    let code = "fn f(ctx: &Ctx) { if ctx.json { ctx.json_out(&v); } else if a.global.json { print_json(&v) } }";
    assert_eq!(json_reads(code), 4);
}
