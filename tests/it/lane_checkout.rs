//! A new lane worktree holds what `git worktree add` writes for the same
//! commit: the same bytes, executable bits, links and index entries, whether
//! the checkout skips libgit2's filters (no filter can apply: the usual case,
//! a `.gitattributes` of merge drivers only) or runs them (an attribute or
//! `core.autocrlf` that converts). The crash step `worktree-checkout:<how>`
//! names the way the checkout went.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::{write, TestEnv, WpDef};

/// One entry of a checked-out tree.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    /// A file's bytes and whether it is executable.
    File(Vec<u8>, bool),
    /// A symbolic link's target.
    Link(PathBuf),
    Dir,
}

/// Every entry under `dir` but its `.git` pointer file, by relative path.
fn tree_of(dir: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if rel == Path::new(".git") {
                continue;
            }
            let meta = fs::symlink_metadata(&p).unwrap();
            let entry = if meta.file_type().is_symlink() {
                Entry::Link(fs::read_link(&p).unwrap())
            } else if meta.is_dir() {
                stack.push(p.clone());
                Entry::Dir
            } else {
                Entry::File(
                    fs::read(&p).unwrap(),
                    meta.permissions().mode() & 0o111 != 0,
                )
            };
            out.insert(rel, entry);
        }
    }
    out
}

/// The size each index entry of the worktree `wt` records (`git ls-files
/// --debug`), by path.
fn index_sizes(env: &TestEnv, wt: &Path) -> BTreeMap<String, u64> {
    let debug = env.git(wt, &["ls-files", "--debug"]);
    let mut out = BTreeMap::new();
    let mut path = None;
    for line in debug.lines() {
        if !line.starts_with(' ') {
            path = Some(line.to_string());
        } else if let Some(size) = line.trim().strip_prefix("size: ") {
            let size = size.split_whitespace().next().unwrap().parse().unwrap();
            out.insert(path.take().unwrap(), size);
        }
    }
    out
}

/// A one-WP project whose main branch also holds `files` (path, bytes,
/// executable), a link `link.txt` to `src/lf.txt`, and `attributes` as its
/// `.gitattributes` (none when empty); `config` is set (`git config`)
/// once they are committed.
fn project_with(env: &TestEnv, attributes: &str, config: &[(&str, &str)]) -> (PathBuf, String) {
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let files: [(&str, &[u8], bool); 7] = [
        ("src/lf.txt", b"one\ntwo\n", false),
        ("src/crlf.txt", b"one\r\ntwo\r\n", false),
        ("src/mixed.txt", b"one\ntwo\r\nthree\n", false),
        ("src/deep/er/id.c", b"/* $Id$ */\nint x;\n", false),
        ("bin/run.sh", b"#!/bin/sh\necho run\n", true),
        ("data.bin", b"\x00\x01\n\x02\r\n\xff", false),
        ("empty.txt", b"", false),
    ];
    for (path, bytes, exec) in files {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
        if exec {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    std::os::unix::fs::symlink("src/lf.txt", root.join("link.txt")).unwrap();
    if !attributes.is_empty() {
        write(&root.join(".gitattributes"), attributes);
    }
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "files"]);
    // After the commit: the blobs hold the bytes above, CRLFs included.
    for (k, v) in config {
        env.git(&root, &["config", k, v]);
    }
    (root, m.slug)
}

/// `agent action implement WP01` (a new lane worktree) and, beside it, `git
/// worktree add` of the same commit: both trees, the crash steps of the
/// implement, and the lane worktree's path.
fn ours_and_gits(env: &TestEnv, root: &Path, slug: &str) -> (Vec<String>, PathBuf, PathBuf) {
    let args = crate::common::implement_args("WP01", slug, "codex");
    let (steps, _) = env.traced(root, &args);
    let wt = root.join(".worktrees").join(format!("{slug}-lane-a"));
    let branch = format!("kitty/mission-{slug}-lane-a");
    let reference = env.work.join("by-git");
    env.git(
        root,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            reference.to_str().unwrap(),
            &branch,
        ],
    );
    (steps, wt, reference)
}

/// The lane worktree `wt` holds what git's `reference` holds, its index
/// names the same blobs and modes, records every file's real size (no entry
/// smudged for git to hash again) and `git status` finds it clean.
fn assert_same_as_git(env: &TestEnv, wt: &Path, reference: &Path) {
    let ours = tree_of(wt);
    let gits = tree_of(reference);
    let differ: Vec<_> = ours
        .keys()
        .chain(gits.keys())
        .filter(|p| ours.get(*p) != gits.get(*p))
        .collect();
    assert!(
        differ.is_empty(),
        "the lane worktree differs from git's checkout at {differ:?}"
    );
    assert_eq!(
        env.git(wt, &["ls-files", "-s"]),
        env.git(reference, &["ls-files", "-s"]),
        "the index names other blobs or modes"
    );
    let sizes = index_sizes(env, wt);
    assert_eq!(
        sizes.len(),
        ours.values().filter(|e| **e != Entry::Dir).count()
    );
    for (path, size) in &sizes {
        let on_disk = fs::symlink_metadata(wt.join(path)).unwrap().len();
        assert_eq!(*size, on_disk, "{path}: the index records another size");
    }
    // Both indexes dated before every file: each entry is "racily clean"
    // and git status reads its content through the filters instead of
    // trusting its stat. Whether git's own checkout came out racy depended
    // on the clock (a CRLF file it then called modified), not on the
    // checkout.
    for dir in [wt, reference] {
        let index = env.git(dir, &["rev-parse", "--git-path", "index"]);
        let index = dir.join(index.trim());
        fs::File::options()
            .write(true)
            .open(&index)
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1))
            .unwrap();
    }
    assert_eq!(
        env.git(wt, &["status", "--porcelain"]),
        env.git(reference, &["status", "--porcelain"]),
        "git status differs from the one of git's checkout"
    );
}

#[test]
fn a_lane_worktree_without_filters_holds_what_git_writes() {
    let env = TestEnv::new();
    // spec-kitty's own attributes (merge drivers) and a binary macro: no
    // filter can apply.
    let attributes = "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n\
                      kitty-specs/**/tasks/WP*.md merge=spec-kitty-wp\n\
                      *.bin binary\n";
    let (root, slug) = project_with(&env, attributes, &[("core.autocrlf", "input")]);
    let (steps, wt, reference) = ours_and_gits(&env, &root, &slug);
    assert!(
        steps.iter().any(|s| s == "worktree-checkout:unfiltered#1"),
        "the checkout ran libgit2's filters: {steps:?}"
    );
    assert_same_as_git(&env, &wt, &reference);
    assert_eq!(env.git(&wt, &["status", "--porcelain"]), "");
    // The blobs' own bytes, byte for byte.
    assert_eq!(
        fs::read(wt.join("src/crlf.txt")).unwrap(),
        b"one\r\ntwo\r\n"
    );
    assert_eq!(
        fs::read(wt.join("src/deep/er/id.c")).unwrap(),
        b"/* $Id$ */\nint x;\n"
    );
    assert_eq!(
        fs::read_link(wt.join("link.txt")).unwrap(),
        Path::new("src/lf.txt")
    );
}

#[test]
fn a_lane_worktree_with_filters_holds_what_git_writes() {
    let env = TestEnv::new();
    let attributes = "*.txt text eol=crlf\n*.c ident\n*.sh export-ignore\n";
    let (root, slug) = project_with(&env, attributes, &[("core.autocrlf", "true")]);
    let (steps, wt, reference) = ours_and_gits(&env, &root, &slug);
    assert!(
        steps.iter().any(|s| s == "worktree-checkout:filtered#1"),
        "the checkout skipped libgit2's filters: {steps:?}"
    );
    assert_same_as_git(&env, &wt, &reference);
    assert_eq!(fs::read(wt.join("src/lf.txt")).unwrap(), b"one\r\ntwo\r\n");
    let id = fs::read_to_string(wt.join("src/deep/er/id.c")).unwrap();
    assert!(id.starts_with("/* $Id: ") && id.len() > 20, "{id:?}");
}

/// Each thing that alone makes a filter apply sends the checkout through
/// libgit2's filters, and the result is git's.
#[test]
fn any_filter_source_keeps_the_filters() {
    type Setup = fn(&TestEnv, &Path);
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        Setup,
    );
    let cases: [Case; 5] = [
        ("autocrlf", "", &[("core.autocrlf", "true")], |_, _| {}),
        ("a nested .gitattributes", "", &[], |env, root| {
            write(&root.join("src/.gitattributes"), "lf.txt eol=crlf\n");
            env.git(root, &["add", "-A"]);
            env.git(root, &["commit", "-qm", "nested"]);
        }),
        ("info/attributes", "", &[], |_, root| {
            write(&root.join(".git/info/attributes"), "*.txt eol=crlf\n");
        }),
        ("core.attributesFile", "", &[], |env, root| {
            let global = env.work.join("global-attributes");
            write(&global, "*.c ident\n");
            env.git(
                root,
                &["config", "core.attributesFile", global.to_str().unwrap()],
            );
        }),
        (
            "a macro",
            "[attr]crlfy text eol=crlf\n*.txt crlfy\n",
            &[],
            |_, _| {},
        ),
    ];
    for (what, attributes, config, setup) in cases {
        let env = TestEnv::new();
        let (root, slug) = project_with(&env, attributes, config);
        setup(&env, &root);
        let (steps, wt, reference) = ours_and_gits(&env, &root, &slug);
        assert!(
            steps.iter().any(|s| s == "worktree-checkout:filtered#1"),
            "{what}: the checkout skipped libgit2's filters: {steps:?}"
        );
        assert_same_as_git(&env, &wt, &reference);
    }
}

/// Killed with the worktree registered and none of its files written: the
/// next implement finishes the checkout (the creation marker says it was
/// never handed out), and the worktree is git's.
#[test]
fn a_kill_before_the_checkout_is_finished_by_the_next_run() {
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::new();
    let (root, slug) = project_with(&env, "*.bin binary\n", &[]);
    let args = crate::common::implement_args("WP01", &slug, "codex");
    let out = env
        .sk(&root, &args)
        .env("SPEC_KITTY_TEST_CRASH", "worktree-checkout:unfiltered")
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "not killed there");
    let wt = root.join(".worktrees").join(format!("{slug}-lane-a"));
    let left: Vec<_> = fs::read_dir(&wt)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, [".git"], "the kill came before any file was written");
    let v = env.json(&root, &args);
    assert_eq!(v["wp_id"], "WP01", "{v}");
    let branch = format!("kitty/mission-{slug}-lane-a");
    let reference = env.work.join("by-git");
    env.git(
        &root,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            reference.to_str().unwrap(),
            &branch,
        ],
    );
    assert_same_as_git(&env, &wt, &reference);
}
