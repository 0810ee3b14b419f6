//! Writes and worktrees stay inside the project (issue 25): the confinement
//! root is the project root, fixed once per command from its canonical path. A
//! linked folder that holds its own `.kittify/` (every user of the Python tool
//! has `~/.kittify/`) is not a project root of its own, a committed
//! `.worktrees` link never places a lane checkout, and `init` checks every
//! input it would write through before writing anything.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{snapshot, stderr, stdout, write_mission, TestEnv, WpDef};

/// A folder outside the project that looks like a home with the Python tool
/// installed: it holds `.kittify/` and one precious file. Canonical path.
fn fake_home(env: &TestEnv, name: &str) -> PathBuf {
    let dir = env.work.join(name);
    fs::create_dir_all(dir.join(".kittify")).unwrap();
    fs::write(dir.join("precious.txt"), "keep me\n").unwrap();
    fs::canonicalize(dir).unwrap()
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_keys()
        .map(|p| p.strip_prefix(dir).unwrap().to_path_buf())
        .collect()
}

/// Exit 1 with one JSON error document naming every needle.
fn refused(out: &std::process::Output, needles: &[&str]) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let msg = v["error"].as_str().unwrap_or_default().to_string();
    for n in needles {
        assert!(msg.contains(n), "{n:?} not in {msg}");
    }
    msg
}

#[test]
fn a_linked_folder_holding_its_own_kittify_never_becomes_the_write_root() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    let home = fake_home(&env, "home-1");
    let before = files(&home);

    // 1. research/ is a link to the home: the research scaffold refuses, writes nothing.
    let _ = fs::remove_dir_all(m.dir.join("research"));
    symlink(&home, m.dir.join("research")).unwrap();
    let out = env.run(
        &root,
        &["research", "--mission", &m.slug, "--force", "--json"],
    );
    let msg = refused(&out, &["refusing to write", &home.display().to_string()]);
    assert!(msg.contains("outside"), "{msg}");
    assert_eq!(files(&home), before, "nothing written in the linked folder");
    assert!(!m.dir.join("research.md").exists(), "nothing half-written");
    fs::remove_file(m.dir.join("research")).unwrap();

    // 2. tasks/ is a link to a home that holds the WP file: finalize refuses.
    let home2 = fake_home(&env, "home-2");
    for e in fs::read_dir(m.dir.join("tasks")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), home2.join(e.file_name())).unwrap();
    }
    fs::rename(m.dir.join("tasks"), env.work.join("tasks-saved")).unwrap();
    symlink(&home2, m.dir.join("tasks")).unwrap();
    let before2 = snapshot(&home2);
    let out = env.run(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    refused(&out, &["refusing to write", &home2.display().to_string()]);
    assert_eq!(
        snapshot(&home2),
        before2,
        "the WP file outside is untouched"
    );
    assert!(!m.dir.join("lanes.json").exists(), "nothing half-written");

    // 3. A linked folder is not a project root when a command starts inside it
    //    either: the project is found from the canonical working directory.
    let out = env.run(
        &m.dir.join("tasks"),
        &["research", "--mission", &m.slug, "--json"],
    );
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(snapshot(&home2), before2);
}

#[test]
fn init_never_writes_agent_folders_through_a_link_to_a_folder_with_its_own_kittify() {
    let env = TestEnv::new();
    let home = fake_home(&env, "home");
    let before = files(&home);
    let dir = env.work.join("proj");
    fs::create_dir_all(&dir).unwrap();
    symlink(&home, dir.join(".codex")).unwrap();
    let out = env.run(&dir, &["init", ".", "--ai", "codex", "--json"]);
    refused(
        &out,
        &["refusing to write", ".codex", &home.display().to_string()],
    );
    assert_eq!(files(&home), before, "nothing written in the linked folder");
    // Checked before anything is written.
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from(".codex")], "{left:?}");
}

#[test]
fn init_refused_by_a_linked_gitignore_or_gitattributes_writes_nothing() {
    for name in [".gitignore", ".gitattributes"] {
        let env = TestEnv::new();
        let outside = env.work.join("outside");
        fs::create_dir_all(&outside).unwrap();
        let victim = outside.join("victim");
        fs::write(&victim, "keep me\n").unwrap();
        let dir = env.work.join("proj");
        fs::create_dir_all(&dir).unwrap();
        env.git(&dir, &["init", "-q"]);
        symlink(&victim, dir.join(name)).unwrap();
        let out = env.run(&dir, &["init", ".", "--ai", "codex", "--json"]);
        refused(&out, &["refusing to write", name]);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me\n");
        let mut left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec![".git".to_string(), name.to_string()], "{name}");
        let config = fs::read_to_string(dir.join(".git/config")).unwrap();
        assert!(!config.contains("spec-kitty"), "{name}: {config}");
    }
}

#[test]
fn a_committed_worktrees_link_never_places_a_lane_checkout() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let outside = env.work.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("precious.txt"), "keep me\n").unwrap();
    let outside = fs::canonicalize(outside).unwrap();
    symlink(&outside, root.join(".worktrees")).unwrap();
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "hostile"]);
    let branches = env.git(&root, &["branch", "--list"]);
    let out = env.run(
        &root,
        &crate::common::implement_args("WP01", &m.slug, "codex"),
    );
    refused(
        &out,
        &[
            ".worktrees",
            "symbolic link",
            &outside.display().to_string(),
        ],
    );
    assert_eq!(
        files(&outside),
        vec![PathBuf::from("precious.txt")],
        "no checkout outside"
    );
    assert_eq!(
        env.git(&root, &["branch", "--list"]),
        branches,
        "no branch made"
    );
    assert!(env.git(&root, &["worktree", "list"]).lines().count() == 1);

    // A lane folder that is a link inside a real .worktrees/ is refused the same way.
    fs::remove_file(root.join(".worktrees")).unwrap();
    fs::create_dir_all(root.join(".worktrees")).unwrap();
    symlink(&outside, root.join(format!(".worktrees/{}-lane-a", m.slug))).unwrap();
    let out = env.run(
        &root,
        &crate::common::implement_args("WP01", &m.slug, "codex"),
    );
    refused(&out, &["symbolic link", &outside.display().to_string()]);
    assert_eq!(files(&outside), vec![PathBuf::from("precious.txt")]);
}

#[test]
fn a_refusal_prints_repo_chosen_link_targets_escaped() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    let evil = env.work.join("evil\x1b[31m\x07dir");
    fs::create_dir_all(evil.join(".kittify")).unwrap();
    let _ = fs::remove_dir_all(m.dir.join("research"));
    symlink(&evil, m.dir.join("research")).unwrap();
    let out = env.run(&root, &["research", "--mission", &m.slug, "--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("refusing to write"), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("evil\\u{1b}[31m\\u{7}dir"), "{err}");
    assert_eq!(files(&evil), Vec::<PathBuf>::new());
}

#[test]
fn a_linked_kitty_specs_never_receives_a_new_mission() {
    let env = TestEnv::new();
    let root = env.project("p");
    let home = fake_home(&env, "home");
    let before = files(&home);
    symlink(&home, root.join("kitty-specs")).unwrap();
    let out = env.run(&root, &["agent", "mission", "create", "demo", "--json"]);
    refused(&out, &["kitty-specs", &home.display().to_string()]);
    assert_eq!(files(&home), before, "no mission made in the linked folder");
}
