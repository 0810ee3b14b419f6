//! The operator walkthrough (`../shared/seed/000_c3556a257826b417.txt`),
//! sections 0-8 and 10, run against a throwaway clone of this repository with
//! the built binary. Cargo stands in for pip/pytest and `spec-kitty agent
//! release validate` for validate_release.py. Section 5's unit tests are
//! `tests/it/auth.rs`; 4's concurrency test is
//! `mission::parallel_creates_get_distinct_numbers_and_ids`; 7.6's
//! `cargo install` from a cold clone is what CI's build of a clean clone does.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{stderr, stdout, TestEnv};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Clone the repository's committed state into `dest` (the walkthrough works on
/// the release commit, never on a dirty tree).
fn clone_repo(env: &TestEnv, dest: &Path) {
    env.git(
        &env.work,
        &[
            "clone",
            "-q",
            "--no-hardlinks",
            repo_root().to_str().unwrap(),
            dest.to_str().unwrap(),
        ],
    );
    // A checkout on a detached HEAD (as many CI systems make) clones detached,
    // and a mission needs a branch to plan on: give the clone one.
    if env
        .git(dest, &["branch", "--show-current"])
        .trim()
        .is_empty()
    {
        env.git(dest, &["checkout", "-q", "-B", "main"]);
    }
}

fn ok(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.run(dir, args);
    assert!(
        out.status.success(),
        "spec-kitty {args:?} exited {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    format!("{}{}", stdout(&out), stderr(&out))
}

fn mission_dir(repo: &Path, short: &str) -> PathBuf {
    fs::read_dir(repo.join("kitty-specs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(&format!("-{short}"))
        })
        .unwrap_or_else(|| panic!("no mission *-{short}"))
}

fn write(p: &Path, text: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn wp(dir: &Path, file: &str, id: &str, title: &str, deps: Option<&str>, body: &str) {
    let deps = deps
        .map(|d| format!("dependencies: {d}\n"))
        .unwrap_or_default();
    write(
        &dir.join("tasks").join(file),
        &format!(
            "---\nwork_package_id: {id}\ntitle: {title}\n{deps}---\n\n# {id}: {title}\n\n{body}\n"
        ),
    );
}

#[test]
fn operator_walkthrough() {
    let env = TestEnv::new();
    let repo = env.work.join("spec-kitty");
    clone_repo(&env, &repo);

    // 0. Preflight: the version is 3.1.1, not a pre-release.
    let v = ok(&env, &repo, &["--version"]);
    assert!(
        v.contains("3.1.1") && !v.contains("3.1.1a") && !v.contains("3.1.1rc"),
        "{v}"
    );

    // 1. init coherence in a fresh empty directory.
    let t1 = env.work.join("init-verify");
    fs::create_dir_all(&t1).unwrap();
    let out = ok(
        &env,
        &t1,
        &["init", "demo", "--ai", "codex", "--non-interactive"],
    );
    assert!(
        out.contains("spec-kitty next --agent <agent> --mission <slug>"),
        "{out}"
    );
    assert!(
        out.contains("spec-kitty agent action implement")
            && out.contains("spec-kitty agent action review"),
        "{out}"
    );
    assert!(
        !out.contains("spec-kitty implement WP")
            && !out.contains("Initial commit from Specify template")
    );
    let demo = t1.join("demo");
    assert!(!demo.join(".git").exists() && !demo.join(".agents/skills").exists());
    assert!(demo.join(".kittify/config.yaml").is_file());
    let prompts: Vec<_> = fs::read_dir(demo.join(".codex/prompts"))
        .unwrap()
        .flatten()
        .collect();
    assert!(prompts
        .iter()
        .any(|e| e.file_name().to_string_lossy().starts_with("spec-kitty.")));
    // 1.A: a second run is idempotent.
    ok(
        &env,
        &t1,
        &["init", "demo", "--ai", "codex", "--non-interactive"],
    );
    // 1.B: init inside an existing repo leaves HEAD alone.
    let t1b = env.work.join("existing-repo");
    fs::create_dir_all(&t1b).unwrap();
    env.git(&t1b, &["init", "-q"]);
    fs::write(t1b.join("README.md"), "test\n").unwrap();
    env.git(&t1b, &["add", "README.md"]);
    env.git(&t1b, &["commit", "-qm", "user's own commit"]);
    let head = env.git(&t1b, &["rev-parse", "HEAD"]);
    ok(
        &env,
        &t1b,
        &["init", ".", "--ai", "codex", "--non-interactive"],
    );
    assert_eq!(env.git(&t1b, &["rev-parse", "HEAD"]), head);

    // 2. Track 4: the final WP keeps its explicit empty dependencies.
    let created = env.json(
        &repo,
        &["agent", "mission", "create", "dogfood-track4", "--json"],
    );
    let d4 = PathBuf::from(created["feature_dir"].as_str().unwrap());
    write(
        &d4.join("spec.md"),
        "# Spec\n\n| FR-001 | alpha |\n| FR-002 | beta |\n",
    );
    write(
        &d4.join("tasks.md"),
        "# Work Packages\n\n## WP01: Alpha\n\n**Requirement Refs**: FR-001\n\n- [ ] T001 Create `src/alpha/core.py`\n\n\
         ## WP02: Beta\n\n**Requirement Refs**: FR-002\n\n- [ ] T002 Create `src/beta/core.py`\n\n\
         ## Notes\n\nBeta is related to alpha. Depends on WP01 in spirit only.\n",
    );
    wp(
        &d4,
        "WP01-alpha.md",
        "WP01",
        "Alpha",
        Some("[]"),
        "Create `src/alpha/core.py`.",
    );
    wp(
        &d4,
        "WP02-beta.md",
        "WP02",
        "Beta",
        Some("[]"),
        "Create `src/beta/core.py`.",
    );
    ok(
        &env,
        &repo,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "dogfood-track4",
        ],
    );
    let board = ok(
        &env,
        &repo,
        &["agent", "tasks", "status", "--mission", "dogfood-track4"],
    );
    let wp02 = board
        .lines()
        .skip_while(|l| !l.contains("WP02"))
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        wp02.contains("deps: none") || wp02.contains("dependencies: none"),
        "WP02 on the board:\n{board}"
    );
    let status = env.json(
        &repo,
        &[
            "agent",
            "tasks",
            "status",
            "--mission",
            "dogfood-track4",
            "--json",
        ],
    );
    let w2 = status["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "WP02")
        .unwrap();
    assert_eq!(w2["dependencies"], serde_json::json!([]));
    fs::remove_dir_all(&d4).unwrap();

    // 3. Track 2: a planning-artifact WP goes to lane-planning and runs in the main checkout.
    let created = env.json(
        &repo,
        &["agent", "mission", "create", "dogfood-track2", "--json"],
    );
    let d2 = PathBuf::from(created["feature_dir"].as_str().unwrap());
    let slug2 = created["mission_slug"].as_str().unwrap().to_string();
    write(
        &d2.join("spec.md"),
        "# Spec\n\n| FR-001 | a |\n| FR-002 | b |\n| FR-003 | c |\n",
    );
    write(&d2.join("plan.md"), "# Plan\n");
    write(
        &d2.join("tasks.md"),
        "# Work Packages\n\n## WP01: Gamma\n\n**Requirement Refs**: FR-001\n**Dependencies**: none\n\n\
         ## WP02: Research notes\n\n**Requirement Refs**: FR-002\n**Dependencies**: none\n\n\
         ## WP03: Delta\n\n**Requirement Refs**: FR-003\n**Dependencies**: none\n",
    );
    wp(
        &d2,
        "WP01-gamma.md",
        "WP01",
        "Gamma",
        None,
        "Create the `src/gamma/` package.",
    );
    wp(
        &d2,
        "WP02-research.md",
        "WP02",
        "Research notes",
        None,
        &format!("Write `kitty-specs/{slug2}/research.md` and keep plan.md consistent."),
    );
    wp(
        &d2,
        "WP03-delta.md",
        "WP03",
        "Delta",
        None,
        "Create the `src/delta/` package.",
    );
    ok(
        &env,
        &repo,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "dogfood-track2",
        ],
    );
    let lanes: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d2.join("lanes.json")).unwrap()).unwrap();
    let lanes = lanes["lanes"].as_array().unwrap();
    let planning = lanes
        .iter()
        .find(|l| l["lane_id"] == "lane-planning")
        .expect("lane-planning");
    assert!(planning["wp_ids"]
        .as_array()
        .unwrap()
        .contains(&"WP02".into()));
    for (lane, wp) in [("lane-a", "WP01"), ("lane-b", "WP03")] {
        let l = lanes
            .iter()
            .find(|l| l["lane_id"] == lane)
            .unwrap_or_else(|| panic!("{lane}"));
        assert!(l["wp_ids"].as_array().unwrap().contains(&wp.into()));
    }
    let out = ok(
        &env,
        &repo,
        &[
            "agent",
            "action",
            "implement",
            "WP02",
            "--mission",
            "dogfood-track2",
            "--agent",
            "claude",
        ],
    );
    let root = fs::canonicalize(&repo).unwrap();
    assert!(
        out.contains(&root.display().to_string()) || out.contains(&repo.display().to_string()),
        "{out}"
    );
    assert!(!repo
        .join(".worktrees/dogfood-track2-lane-planning")
        .exists());
    assert!(!repo
        .join(format!(".worktrees/{slug2}-lane-planning"))
        .exists());
    let v = env.json(
        &repo,
        &["implement", "WP02", "--mission", "dogfood-track2", "--json"],
    );
    let ws = PathBuf::from(v["workspace"].as_str().unwrap());
    assert_eq!(fs::canonicalize(ws).unwrap(), root);
    fs::remove_dir_all(&d2).unwrap();

    // 4. Track 3: mission identity.
    let created = env.json(
        &repo,
        &["agent", "mission", "create", "dogfood-track3", "--json"],
    );
    let d3 = PathBuf::from(created["feature_dir"].as_str().unwrap());
    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d3.join("meta.json")).unwrap()).unwrap();
    let id = meta["mission_id"].as_str().unwrap();
    assert!(
        ulid::Ulid::from_string(id).is_ok() && id.len() == 26,
        "{id}"
    );
    let m079: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(repo.join("kitty-specs/079-post-555-release-hardening/meta.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(ulid::Ulid::from_string(m079["mission_id"].as_str().unwrap()).is_ok());
    fs::remove_dir_all(&d3).unwrap();

    // 5. Track 5: `agent auth status` exists and touches nothing.
    ok(&env, &repo, &["agent", "auth", "status"]);
    assert!(
        env.home_files().is_empty(),
        "HOME must stay empty: {:?}",
        env.home_files()
    );

    // 6. Track 6: top-level implement is internal; the canonical commands answer --help.
    let help = ok(&env, &repo, &["implement", "--help"]);
    assert!(help.to_lowercase().contains("internal"), "{help}");
    assert!(
        help.contains("spec-kitty next") && help.contains("spec-kitty agent action implement"),
        "{help}"
    );
    for args in [
        &["next", "--help"][..],
        &["agent", "action", "implement", "--help"],
        &["agent", "action", "review", "--help"],
    ] {
        ok(&env, &repo, args);
    }
    let readme = fs::read_to_string(repo.join("README.md")).unwrap();
    let canonical: String = readme
        .split("## Canonical workflow")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Canonical workflow section")
        .to_string();
    assert!(
        !canonical.contains("spec-kitty implement") && !canonical.contains("`implement`"),
        "{canonical}"
    );
    assert!(
        canonical.contains("spec-kitty next")
            && canonical.contains("spec-kitty agent action implement")
            && canonical.contains("spec-kitty agent action review")
    );
    let t6 = env.work.join("init-impl-check");
    fs::create_dir_all(&t6).unwrap();
    let out = ok(
        &env,
        &t6,
        &["init", "demo", "--ai", "codex", "--non-interactive"],
    );
    for needle in [
        "spec-kitty next",
        "spec-kitty agent action implement",
        "spec-kitty agent action review",
    ] {
        assert!(
            out.lines().any(|l| l.contains(needle)),
            "init output lacks {needle}"
        );
    }
    assert!(!out.contains("spec-kitty implement WP"));

    // 7.1 Version coherence.
    let cargo = fs::read_to_string(repo.join("Cargo.toml")).unwrap();
    let cargo_version = cargo
        .lines()
        .find(|l| l.starts_with("version"))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_string();
    let metadata: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(repo.join(".kittify/metadata.yaml")).unwrap())
            .unwrap();
    assert_eq!(
        metadata["spec_kitty"]["version"].as_str(),
        Some(cargo_version.as_str())
    );
    assert_eq!(cargo_version, "3.1.1");
    // 7.2 validate passes.
    ok(&env, &repo, &["agent", "release", "validate"]);
    // 7.3 A mismatch in a scratch clone fails, naming both files and both values.
    let scratch = env.work.join("scratch");
    clone_repo(&env, &scratch);
    let bumped = fs::read_to_string(scratch.join("Cargo.toml"))
        .unwrap()
        .replacen("version = \"3.1.1\"", "version = \"3.1.2\"", 1);
    fs::write(scratch.join("Cargo.toml"), bumped).unwrap();
    let out = env.run(&scratch, &["agent", "release", "validate"]);
    assert_ne!(out.status.code(), Some(0));
    let msg = format!("{}{}", stdout(&out), stderr(&out));
    for needle in ["Cargo.toml", ".kittify/metadata.yaml", "3.1.2", "3.1.1"] {
        assert!(
            msg.contains(needle),
            "validate output lacks {needle}: {msg}"
        );
    }
    // 7.4 release prep drafts a block for 3.1.1.
    let prep = env.json(
        &repo,
        &["agent", "release", "prep", "--channel", "stable", "--json"],
    );
    let block = prep["proposed_changelog_block"].as_str().unwrap();
    assert!(block.lines().next().unwrap().contains("3.1.1"), "{block}");
    // 7.5 The dogfood command set, with no version-skew complaint.
    for args in [
        &["--version"][..],
        &["agent", "mission", "create", "dogfood-track7", "--json"],
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "dogfood-track7",
        ],
        &["agent", "tasks", "status", "--mission", "dogfood-track7"],
    ] {
        let out = ok(&env, &repo, args);
        assert!(
            !out.to_lowercase().contains("skew") && !out.contains("spec-kitty upgrade"),
            "{args:?}: {out}"
        );
    }
    fs::remove_dir_all(mission_dir(&repo, "dogfood-track7")).unwrap();

    // 8. Scope audit: every committed kitty-specs path belongs to mission 079.
    let log = env.git(
        &repo,
        &["log", "--name-only", "--format=", "--", "kitty-specs/"],
    );
    for path in log.lines().filter(|l| !l.is_empty()) {
        assert!(
            path.starts_with("kitty-specs/079-post-555-release-hardening/"),
            "{path}"
        );
    }

    // 10. Reset: remove the dogfood missions; the tree is clean.
    for e in fs::read_dir(repo.join("kitty-specs")).unwrap().flatten() {
        if e.file_name().to_string_lossy().contains("dogfood-") {
            fs::remove_dir_all(e.path()).unwrap();
        }
    }
    assert_eq!(
        env.git(&repo, &["status", "--porcelain"]),
        "",
        "working tree must be clean"
    );
}
