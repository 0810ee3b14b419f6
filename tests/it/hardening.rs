//! Hardening: every help page answers, odd paths work, and a process killed at
//! a random point never leaves a half-written file behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::CommandFactory;

use crate::common::{stderr, stdout, TestEnv};

/// Every command path of the clap tree, e.g. `["agent", "tasks", "status"]`.
fn command_paths(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    for sub in cmd.get_subcommands() {
        let mut p = prefix.clone();
        p.push(sub.get_name().to_string());
        command_paths(sub, p, out);
    }
}

#[test]
fn every_help_page_exits_zero() {
    let env = TestEnv::new();
    let mut paths = Vec::new();
    command_paths(&spec_kitty::cli::Cli::command(), Vec::new(), &mut paths);
    assert!(paths.len() > 20, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = env.run(&env.work, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("Usage: spec-kitty"), "{args:?}: {text}");
        assert!(!text.to_lowercase().contains("not implemented"), "{args:?}");
    }
}

#[test]
fn version_is_plain_3_1_1() {
    let env = TestEnv::new();
    let out = env.run(&env.work, &["--version"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "spec-kitty 3.1.1");
}

#[test]
fn project_path_with_spaces_and_through_a_symlink() {
    let env = TestEnv::new();
    let root = env.project("my project dir ünïcode");
    let created = env.json(
        &root,
        &["agent", "mission", "create", "spaced-out", "--json"],
    );
    assert_eq!(created["mission_slug"], "001-spaced-out");
    assert!(Path::new(created["meta_file"].as_str().unwrap()).is_file());

    let link = env.work.join("linked");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    let listed = env.json(&link, &["agent", "mission", "list", "--json"]);
    assert!(listed.to_string().contains("001-spaced-out"), "{listed}");
    // Inferred from inside the mission directory, reached through the link.
    let inside = link.join("kitty-specs/001-spaced-out");
    let out = env.run(
        &inside,
        &["agent", "mission", "check-prerequisites", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn hostile_mission_names_are_refused_clearly() {
    let env = TestEnv::new();
    let root = env.project("p");
    for bad in ["../escape", "has space", "Ünïcode", "a/b", ".."] {
        let out = env.run(&root, &["agent", "mission", "create", bad, "--json"]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["result"], "error", "{bad}: {v}");
        assert!(v["error"].as_str().unwrap().contains("slug"), "{bad}: {v}");
    }
    assert!(!env.work.join("escape").exists());
    assert!(
        !root.join("kitty-specs").exists()
            || fs::read_dir(root.join("kitty-specs")).unwrap().count() == 0
    );
    // A selector with `..` never reaches outside kitty-specs.
    let out = env.run(
        &root,
        &[
            "agent",
            "mission",
            "check-prerequisites",
            "--mission",
            "../..",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_write_error_is_clear_and_leaves_no_partial_file() {
    let env = TestEnv::new();
    let root = env.project("p");
    // kitty-specs is a file: nothing can be created under it.
    fs::write(root.join("kitty-specs"), "not a directory\n").unwrap();
    let out = env.run(&root, &["agent", "mission", "create", "blocked", "--json"]);
    assert_ne!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"].as_str().unwrap().contains("kitty-specs"), "{v}");
    assert_eq!(
        fs::read_to_string(root.join("kitty-specs")).unwrap(),
        "not a directory\n"
    );
}

/// A deterministic pseudo-random sequence (xorshift), so failures replay.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Start `spec-kitty ARGS` and SIGKILL it after a random delay; the delay picks
/// the kill point, it synchronises nothing.
pub fn kill_at_random(env: &TestEnv, dir: &Path, args: &[&str], rng: &mut Rng, max_us: u64) {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("spec-kitty"));
    cmd.current_dir(dir)
        .args(args)
        .env("HOME", &env.home)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_micros(rng.next() % max_us));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn killed_mission_create_never_leaves_a_partial_mission() {
    let env = TestEnv::new();
    let root = env.project("p");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for i in 0..40 {
        let slug = format!("crash-{i}");
        kill_at_random(
            &env,
            &root,
            &["agent", "mission", "create", &slug, "--json"],
            &mut rng,
            6_000,
        );
    }
    // Every mission that became visible is complete and valid.
    let specs = root.join("kitty-specs");
    for e in fs::read_dir(&specs).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let meta: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(e.path().join("meta.json")).unwrap())
                .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(ulid::Ulid::from_string(meta["mission_id"].as_str().unwrap()).is_ok());
        assert!(e.path().join("spec.md").is_file() && e.path().join("tasks").is_dir());
    }
    // The lock is not stuck and leftovers of killed runs are cleaned up.
    let created = env.json(
        &root,
        &["agent", "mission", "create", "after-crash", "--json"],
    );
    assert!(created["mission_id"].is_string());
    let leftovers: Vec<_> = fs::read_dir(&specs)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".creating-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let list = env.json(&root, &["agent", "mission", "list", "--json"]);
    assert!(list.to_string().contains("after-crash"));
}
