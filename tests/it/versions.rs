//! Version ordering in `agent release validate`: SemVer pre-releases and build
//! metadata (the semver crate), next to the Python forms.

use std::fs;
use std::path::PathBuf;

use crate::common::TestEnv;

/// A repository at `version` with a `v{tag}` tag on an earlier commit.
fn tagged_repo(env: &TestEnv, tag: &str, version: &str) -> PathBuf {
    let root = env.work.join("r");
    fs::create_dir_all(root.join(".kittify")).unwrap();
    let write = |version: &str| {
        fs::write(
            root.join("Cargo.toml"),
            format!("[package]\nname = \"x\"\nversion = \"{version}\"\nedition = \"2021\"\n"),
        )
        .unwrap();
        fs::write(
            root.join(".kittify/metadata.yaml"),
            format!("spec_kitty:\n  version: {version}\n"),
        )
        .unwrap();
        fs::write(
            root.join("CHANGELOG.md"),
            format!("# Changelog\n\n## [{version}] - 2026-01-01\n\n### Added\n- a thing\n"),
        )
        .unwrap();
    };
    write(tag);
    env.git(&root, &["init", "-q"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "release"]);
    env.git(&root, &["tag", &format!("v{tag}")]);
    write(version);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "next"]);
    root
}

fn progression(env: &TestEnv, tag: &str, version: &str) -> (i32, serde_json::Value) {
    let root = tagged_repo(env, tag, version);
    let out = env.run(&root, &["agent", "release", "validate", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gate = v["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "version_progression")
        .cloned()
        .unwrap_or_else(|| panic!("no version_progression gate: {v}"));
    (out.status.code().unwrap(), gate)
}

#[test]
fn a_semver_pre_release_of_the_next_version_follows_the_last_tag() {
    for (tag, version) in [
        ("3.1.1", "3.2.0-rc.1"),
        ("3.2.0-rc.1", "3.2.0-rc.2"),
        ("3.2.0-rc.2", "3.2.0-rc.10"),
        ("3.2.0-rc.1", "3.2.0"),
        ("3.1.1", "3.1.2+build.5"),
        ("3.1.1rc1", "3.1.1"),
    ] {
        let env = TestEnv::new();
        let (code, gate) = progression(&env, tag, version);
        assert_eq!(gate["ok"], true, "{version} after v{tag}: {gate}");
        assert_eq!(code, 0, "{version} after v{tag}: {gate}");
    }
}

#[test]
fn an_older_or_equal_version_does_not_follow_the_last_tag() {
    for (tag, version) in [
        ("3.2.0", "3.2.0-rc.1"),
        ("3.2.0-rc.10", "3.2.0-rc.2"),
        // Build metadata is ignored: this is the tagged version again.
        ("3.1.1", "3.1.1+build.5"),
        ("3.1.1", "3.1.1rc1"),
    ] {
        let env = TestEnv::new();
        let (code, gate) = progression(&env, tag, version);
        assert_eq!(gate["ok"], false, "{version} after v{tag}: {gate}");
        assert_eq!(code, 1, "{version} after v{tag}: {gate}");
    }
}
