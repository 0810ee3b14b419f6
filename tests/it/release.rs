//! agent release validate|prep on throwaway repositories.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::snap::assert_out;
use crate::common::{stderr, stdout, TestEnv};

fn repo(env: &TestEnv, manifest: &str, meta_version: &str, changelog: &str) -> PathBuf {
    let root = env.work.join("r");
    fs::create_dir_all(root.join(".kittify")).unwrap();
    let (name, text) = if manifest == "python" {
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\nversion = \"1.2.0\"\n".to_string(),
        )
    } else {
        ("Cargo.toml", "[package]\nname = \"x\"\nversion = \"1.2.0\"\nedition = \"2021\"\n\n[dependencies]\nfoo = { version = \"1.2.0\" }\n".to_string())
    };
    fs::write(root.join(name), text).unwrap();
    fs::write(
        root.join(".kittify/metadata.yaml"),
        format!("# managed\nspec_kitty:\n  version: {meta_version}\n  initialized_at: '2026-01-01T00:00:00'\n"),
    )
    .unwrap();
    fs::write(root.join("CHANGELOG.md"), changelog).unwrap();
    env.git(&root, &["init", "-q"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "release commit"]);
    root
}

const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n\n### Fixed\n- a bug\n\n## [1.2.0] - 2026-01-01\n\n### Added\n- first\n";

const VALIDATE: [&str; 3] = ["agent", "release", "validate"];

/// `agent release validate` with `--json` and without: the exit code, the
/// JSON report, and the human run (for a snapshot).
fn validate(env: &TestEnv, root: &Path) -> (i32, serde_json::Value, std::process::Output) {
    let out = env.run(root, &["agent", "release", "validate", "--json"]);
    let human = env.run(root, &VALIDATE);
    assert_eq!(human.status.code(), out.status.code());
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
        human,
    )
}

#[test]
fn coherent_repo_passes_and_equal_tag_on_head_is_fine() {
    let env = TestEnv::new();
    let root = repo(&env, "cargo", "1.2.0", CHANGELOG);
    let (code, v, _) = validate(&env, &root);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["gates"].as_array().unwrap().len(), 3);
    env.git(&root, &["tag", "v1.2.0"]);
    assert_eq!(validate(&env, &root).0, 0);
    // One more commit after the tag: 1.2.0 is no longer newer than v1.2.0.
    fs::write(root.join("README.md"), "x\n").unwrap();
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "more"]);
    let (code, v, human) = validate(&env, &root);
    assert_eq!(code, 1);
    assert_eq!(v["gates"][2]["ok"], false);
    assert_out!(env, "validate_not_newer_than_tag", VALIDATE, &human);
}

#[test]
fn mismatch_names_both_files_and_values() {
    let env = TestEnv::new();
    let root = repo(&env, "cargo", "1.1.9", CHANGELOG);
    let (code, _, human) = validate(&env, &root);
    assert_eq!(code, 1);
    assert_out!(env, "validate_mismatch_cargo", VALIDATE, &human);
    let py = TestEnv::new();
    let root = repo(&py, "python", "1.1.9", CHANGELOG);
    let (code, _, human) = validate(&py, &root);
    assert_eq!(code, 1);
    assert_out!(py, "validate_mismatch_python", VALIDATE, &human);
}

#[test]
fn missing_changelog_entry_fails() {
    let env = TestEnv::new();
    let root = repo(
        &env,
        "cargo",
        "1.2.0",
        "# Changelog\n\n## [1.1.0] - 2025-01-01\n",
    );
    let (code, v, human) = validate(&env, &root);
    assert_eq!(code, 1);
    assert_eq!(v["gates"][1]["name"], "changelog_entry");
    assert_out!(env, "validate_missing_changelog_entry", VALIDATE, &human);
}

#[test]
fn prep_proposes_versions_per_channel_and_writes_atomically() {
    let env = TestEnv::new();
    let root = repo(&env, "cargo", "1.2.0", CHANGELOG);
    // Unreleased version: the block is for 1.2.0 itself.
    let v = env.json(
        &root,
        &["agent", "release", "prep", "--channel", "stable", "--json"],
    );
    assert_eq!(v["target_version"], "1.2.0");
    assert!(v["proposed_changelog_block"]
        .as_str()
        .unwrap()
        .starts_with("## [1.2.0] - "));
    for key in [
        "channel",
        "current_version",
        "version_files",
        "missions",
        "warnings",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    env.git(&root, &["tag", "v1.2.0"]);
    let v = env.json(
        &root,
        &["agent", "release", "prep", "--channel", "stable", "--json"],
    );
    assert_eq!(v["target_version"], "1.2.1");
    let block = v["proposed_changelog_block"].as_str().unwrap();
    assert!(block.contains("### Fixed\n- a bug"), "{block}");
    env.git(&root, &["tag", "v1.2.1-rc.1"]);
    let v = env.json(
        &root,
        &["agent", "release", "prep", "--channel", "rc", "--json"],
    );
    assert_eq!(v["target_version"], "1.2.1-rc.2");

    let v = env.json(
        &root,
        &[
            "agent",
            "release",
            "prep",
            "--channel",
            "stable",
            "--write",
            "--json",
        ],
    );
    assert_eq!(
        v["written"],
        serde_json::json!(["CHANGELOG.md", "Cargo.toml", ".kittify/metadata.yaml"])
    );
    let cargo = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains("version = \"1.2.1\"\nedition")
            && cargo.contains("foo = { version = \"1.2.0\" }"),
        "{cargo}"
    );
    assert!(fs::read_to_string(root.join(".kittify/metadata.yaml"))
        .unwrap()
        .contains("# managed\nspec_kitty:\n  version: 1.2.1\n"));
    let changelog = fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.contains("## [Unreleased]\n\n## [1.2.1] - "),
        "{changelog}"
    );
    assert_eq!(validate(&env, &root).0, 0, "the written release validates");
    // Idempotent: the version is now 1.2.1 and its heading exists; nothing to write.
    let before = fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    let v = env.json(
        &root,
        &[
            "agent",
            "release",
            "prep",
            "--channel",
            "stable",
            "--write",
            "--json",
        ],
    );
    assert_eq!(v["written"], serde_json::json!([]));
    assert_eq!(
        fs::read_to_string(root.join("CHANGELOG.md")).unwrap(),
        before
    );
}

#[test]
fn no_manifest_is_a_clear_error() {
    let env = TestEnv::new();
    let out = env.run(&env.work, &["agent", "release", "prep", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("no Cargo.toml or pyproject.toml"),
        "{v}"
    );
}

#[test]
fn this_repository_validates() {
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = env.run(root, &["agent", "release", "validate"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let v = env.json(
        root,
        &["agent", "release", "prep", "--channel", "stable", "--json"],
    );
    assert!(v["proposed_changelog_block"]
        .as_str()
        .unwrap()
        .starts_with("## [3.1.1] - "));
}

#[test]
fn version_skew_warns_on_commands_that_write() {
    let env = TestEnv::new();
    let root = env.project("p");
    let set_version = |v: &str| {
        std::fs::write(
            root.join(".kittify/metadata.yaml"),
            format!("spec_kitty:\n  version: {v}\n  initialized_at: '2026-11-24T00:00:00'\n"),
        )
        .unwrap();
    };
    let run = |args: &[&str]| {
        let o = env.run(&root, args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        o
    };

    // An older project: writes suggest `spec-kitty upgrade`; --json stdout stays one object.
    set_version("3.0.0");
    let create = ["agent", "mission", "create", "skew", "--json"];
    let o = run(&create);
    assert_out!(
        env,
        "skew_older_project",
        create,
        &crate::common::snap::stderr_only(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"], "success");
    std::fs::write(root.join("kitty-specs/001-skew/tasks.md"), "## WP01: One\n").unwrap();
    std::fs::write(
        root.join("kitty-specs/001-skew/tasks/WP01-one.md"),
        "---\nwork_package_id: WP01\ntitle: One\n---\nBuild `src/one/`.\n",
    )
    .unwrap();
    run(&["agent", "mission", "finalize-tasks", "--mission", "skew"]);

    // A newer project: writes say to update spec-kitty.
    set_version("9.0.0");
    let claim = [
        "agent",
        "tasks",
        "move-task",
        "WP01",
        "--to",
        "claimed",
        "--mission",
        "skew",
        "--agent",
        "codex",
    ];
    let o = run(&claim);
    assert_out!(env, "skew_newer_project", claim, &o);

    // Read-only commands stay quiet.
    for args in [
        &["agent", "tasks", "status", "--mission", "skew"][..],
        &["agent", "tasks", "list-tasks", "--mission", "skew"],
        &["agent", "mission", "list"],
    ] {
        let o = run(args);
        assert_eq!(stderr(&o), "", "{args:?}");
    }

    // The matching version: no warning anywhere.
    set_version(env!("CARGO_PKG_VERSION"));
    let o = run(&[
        "agent",
        "tasks",
        "move-task",
        "WP01",
        "--to",
        "in_progress",
        "--mission",
        "skew",
        "--agent",
        "codex",
    ]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}
