//! `spec-kitty init` and `spec-kitty upgrade`: seed section 1 (1, 1.A, 1.B), the
//! section 6 "bonus" greps, re-run safety, user edits, conflicts, git untouched,
//! all agents, errors, upgrade, concurrency, and an empty HOME throughout.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::snap::{assert_out, assert_run};
use crate::common::{hold_and_contend, stderr, stdout, TestEnv};

const ALL_AGENTS: [&str; 13] = [
    "copilot",
    "claude",
    "gemini",
    "cursor",
    "qwen",
    "opencode",
    "codex",
    "windsurf",
    "kilocode",
    "auggie",
    "roo",
    "q",
    "antigravity",
];

/// Every file under `dir` with its bytes (lock files excluded: they are empty
/// flock targets, not content).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == ".git") {
                    continue;
                }
                walk(base, &p, out);
            } else if p.extension().is_none_or(|x| x != "lock") {
                out.insert(
                    p.strip_prefix(base).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_home_empty(env: &TestEnv) {
    assert!(
        env.home_files().is_empty(),
        "HOME must stay empty: {:?}",
        env.home_files()
    );
}

/// `git ARGS` in `dir` that may fail, never looking above `ceiling`.
fn git_status_code(env: &TestEnv, dir: &Path, ceiling: &Path, args: &[&str]) -> bool {
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", &env.home)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
        .status
        .success()
}

/// The seed's section 1 and section 6 bonus checks for one agent.
fn seed_section_1(agent: &str, dir_glob: (&str, &str)) {
    let env = TestEnv::new();
    let out = assert_run!(
        env,
        &env.work,
        format!("init_{agent}"),
        ["init", "demo", "--ai", agent, "--non-interactive"]
    );
    assert!(out.status.success(), "init failed: {}", stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));

    // Next steps (the snapshot): what the walkthrough requires of them stays
    // asserted, so no snapshot update can drop it: the canonical loop and the
    // per-WP verbs, never top-level implement.
    assert!(
        text.contains("spec-kitty next --agent <agent> --mission <slug>"),
        "{text}"
    );
    for needle in [
        "spec-kitty next",
        "spec-kitty agent action implement",
        "spec-kitty agent action review",
    ] {
        assert!(
            text.lines().any(|l| l.contains(needle)),
            "no line names {needle}: {text}"
        );
    }
    assert!(!text.contains("spec-kitty implement WP"), "{text}");
    assert!(!text.contains("Initial commit from Specify template"));

    let demo = env.work.join("demo");
    assert!(!demo.join(".git").exists(), "no .git/ may be created");
    assert!(!demo.join(".agents/skills").exists());
    assert!(!demo.join(".agents").exists());
    assert!(
        !git_status_code(&env, &demo, &env.work, &["log"]),
        "there must be no git history"
    );
    assert!(demo.join(".kittify/config.yaml").is_file());
    let config = fs::read_to_string(demo.join(".kittify/config.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&config).unwrap();
    assert_eq!(doc["agents"]["available"][0].as_str(), Some(agent));
    let meta: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(demo.join(".kittify/metadata.yaml")).unwrap())
            .unwrap();
    assert_eq!(meta["spec_kitty"]["version"].as_str(), Some("3.1.1"));
    assert!(meta["spec_kitty"]["initialized_at"].as_str().is_some());

    let (dir, ext) = dir_glob;
    let files: Vec<String> = fs::read_dir(demo.join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("spec-kitty.") && n.ends_with(ext))
        .collect();
    assert_eq!(files.len(), 16, "{files:?}");
    let implement = files.iter().find(|f| f.contains(".implement.")).unwrap();
    let body = fs::read_to_string(demo.join(dir).join(implement)).unwrap();
    assert!(body.contains("spec-kitty agent action implement"), "{body}");
    assert!(body.contains(&format!("--agent {agent}")), "{body}");

    let gitignore = fs::read_to_string(demo.join(".gitignore")).unwrap();
    for e in [".worktrees/", ".codex/", ".claude/", ".kittify/.locks/"] {
        assert!(
            gitignore.lines().any(|l| l == e),
            "{e} missing: {gitignore}"
        );
    }
    assert_home_empty(&env);
}

#[test]
fn seed_1_codex() {
    seed_section_1("codex", (".codex/prompts", ".md"));
}

#[test]
fn seed_1_claude() {
    seed_section_1("claude", (".claude/commands", ".md"));
}

#[test]
fn seed_1_gemini() {
    seed_section_1("gemini", (".gemini/commands", ".toml"));
}

/// Seed 1.A: a second `init demo` exits 0 and changes no byte; so does `init .`.
#[test]
fn seed_1a_rerun_is_idempotent() {
    let env = TestEnv::new();
    let args = ["init", "demo", "--ai", "codex", "--non-interactive"];
    env.sk(&env.work, &args).assert().success();
    let demo = env.work.join("demo");
    let before = snapshot(&demo);
    let out = assert_run!(env, &env.work, "rerun", args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(snapshot(&demo), before, "second run changed files");

    let v = env.json(&demo, &["init", ".", "--json"]);
    assert_eq!(v["result"], "success");
    assert_eq!(v["already_initialized"], true);
    assert_eq!(v["agents"], serde_json::json!(["codex"]));
    assert_eq!(v["files_written"].as_array().unwrap().len(), 0);
    assert_eq!(v["files_unchanged"].as_array().unwrap().len(), 16);
    assert!(v["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().contains("spec-kitty next --agent")));
    assert_eq!(snapshot(&demo), before, "`init .` changed files");
    let abs = demo.to_string_lossy().into_owned();
    for name in ["./", abs.as_str()] {
        let v = env.json(&demo, &["init", name, "--json"]);
        assert_eq!(v["here"], true, "{name}");
        assert_eq!(v["already_initialized"], true);
    }
    assert_eq!(snapshot(&demo), before);
    assert_home_empty(&env);
}

/// Seed 1.B: inside an existing repo, HEAD, index, branches and history stay as they were.
#[test]
fn seed_1b_existing_repo_untouched() {
    let env = TestEnv::new();
    let repo = env.work.join("repo");
    fs::create_dir_all(&repo).unwrap();
    env.git(&repo, &["init", "-q"]);
    fs::write(repo.join("README.md"), "test\n").unwrap();
    env.git(&repo, &["add", "README.md"]);
    env.git(&repo, &["commit", "-qm", "user's own commit"]);
    env.git(&repo, &["branch", "feature-x"]);
    let head = env.git(&repo, &["rev-parse", "HEAD"]);
    let index = env.git(&repo, &["ls-files", "-s"]);
    let branches = env.git(&repo, &["branch", "-a", "-v"]);
    let index_bytes = fs::read(repo.join(".git/index")).unwrap();

    let out = assert_run!(
        env,
        &repo,
        "in_an_existing_repo",
        ["init", ".", "--ai", "codex", "--non-interactive"]
    );
    assert!(out.status.success(), "{}", stderr(&out));

    assert_eq!(env.git(&repo, &["rev-parse", "HEAD"]), head);
    assert_eq!(env.git(&repo, &["ls-files", "-s"]), index);
    assert_eq!(env.git(&repo, &["branch", "-a", "-v"]), branches);
    assert_eq!(fs::read(repo.join(".git/index")).unwrap(), index_bytes);
    assert_eq!(env.git(&repo, &["rev-list", "--count", "HEAD"]).trim(), "1");
    let status = env.git(&repo, &["status", "--porcelain"]);
    assert!(
        status.lines().all(|l| l.starts_with("??")),
        "only untracked files may appear: {status}"
    );
    assert_eq!(
        fs::read_to_string(repo.join("README.md")).unwrap(),
        "test\n"
    );
    assert!(repo.join(".codex/prompts/spec-kitty.next.md").is_file());
    assert_home_empty(&env);
}

#[test]
fn user_edits_are_kept_and_reported_and_stale_files_refreshed() {
    let env = TestEnv::new();
    env.sk(&env.work, &["init", "demo", "--ai", "codex", "--yes"])
        .assert()
        .success();
    let demo = env.work.join("demo");
    let plan = demo.join(".codex/prompts/spec-kitty.plan.md");
    let status_cmd = demo.join(".codex/prompts/spec-kitty.status.md");
    let review = demo.join(".codex/prompts/spec-kitty.review.md");
    let original_review = fs::read_to_string(&review).unwrap();
    fs::write(&plan, "my own plan prompt\n").unwrap();
    fs::remove_file(&status_cmd).unwrap();

    // Simulate a file an older spec-kitty wrote: content differs from today's,
    // and the manifest records exactly that content.
    let old = "<!-- spec-kitty-command-version: 3.0.0 -->\nold review\n";
    fs::write(&review, old).unwrap();
    let manifest_path = demo.join(".kittify/managed-files.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let old_hash = fnv(old.as_bytes());
    m["files"][".codex/prompts/spec-kitty.review.md"]["hash"] = serde_json::json!(old_hash);
    // A command an older version shipped and this one does not: removed when unedited.
    let retired = demo.join(".codex/prompts/spec-kitty.tasks_outline.md");
    fs::write(&retired, "outline\n").unwrap();
    m["files"][".codex/prompts/spec-kitty.tasks_outline.md"] = serde_json::json!({
        "hash": fnv(b"outline\n"), "agent": "codex", "command": "tasks-outline"
    });
    fs::write(&manifest_path, serde_json::to_string_pretty(&m).unwrap()).unwrap();

    let v = env.json(&demo, &["init", ".", "--ai", "codex", "--json"]);
    assert_eq!(
        v["files_skipped_user_modified"],
        serde_json::json!([".codex/prompts/spec-kitty.plan.md"])
    );
    let written: Vec<&str> = v["files_written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        written,
        [
            ".codex/prompts/spec-kitty.review.md",
            ".codex/prompts/spec-kitty.status.md"
        ]
    );
    assert_eq!(
        v["files_removed"],
        serde_json::json!([".codex/prompts/spec-kitty.tasks_outline.md"])
    );
    assert!(!retired.exists());
    assert_eq!(fs::read_to_string(&plan).unwrap(), "my own plan prompt\n");
    assert_eq!(fs::read_to_string(&review).unwrap(), original_review);
    assert!(status_cmd.is_file());

    // Human output names the kept file too, and a third run still keeps it.
    let out = assert_run!(env, &demo, "rerun_keeps_user_edits", ["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&plan).unwrap(), "my own plan prompt\n");
    assert_home_empty(&env);
}

/// The manifest's FNV-1a 64 (mirrors src/init/manifest.rs).
fn fnv(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

#[test]
fn non_empty_directory_is_refused_unless_force() {
    let env = TestEnv::new();
    let demo = env.work.join("demo");
    fs::create_dir_all(&demo).unwrap();
    fs::write(demo.join("notes.txt"), "mine\n").unwrap();

    let out = assert_run!(
        env,
        &env.work,
        "non_empty_directory",
        ["init", "demo", "--ai", "codex", "--yes"]
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(snapshot(&demo).len(), 1, "nothing may be written");

    let out = env.run(
        &env.work,
        &["init", "demo", "--ai", "codex", "--yes", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["conflicts"], serde_json::json!(["notes.txt"]));

    env.sk(
        &env.work,
        &["init", "demo", "--ai", "codex", "--yes", "--force"],
    )
    .assert()
    .success();
    assert_eq!(
        fs::read_to_string(demo.join("notes.txt")).unwrap(),
        "mine\n"
    );
    assert!(demo.join(".kittify/config.yaml").is_file());

    // A file already sitting where a slash command goes is a named conflict.
    let here = env.work.join("here");
    fs::create_dir_all(here.join(".claude/commands")).unwrap();
    fs::write(here.join(".claude/commands/spec-kitty.plan.md"), "theirs\n").unwrap();
    let out = assert_run!(
        env,
        &here,
        "slash_command_conflict",
        ["init", ".", "--ai", "claude", "--yes"]
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!here.join(".kittify").exists());
    env.sk(&here, &["init", ".", "--ai", "claude", "--yes", "--force"])
        .assert()
        .success();
    assert_ne!(
        fs::read_to_string(here.join(".claude/commands/spec-kitty.plan.md")).unwrap(),
        "theirs\n"
    );
    assert_home_empty(&env);
}

#[test]
fn all_thirteen_agents_get_files_in_their_formats() {
    let env = TestEnv::new();
    let list = ALL_AGENTS.join(",");
    let v = env.json(
        &env.work,
        &["init", "all", "--ai", &list, "--yes", "--json"],
    );
    assert_eq!(v["agents"].as_array().unwrap().len(), 13);
    assert_eq!(v["files_written"].as_array().unwrap().len(), 13 * 16);
    let root = env.work.join("all");
    let expect = [
        (".github/prompts", ".prompt.md"),
        (".claude/commands", ".md"),
        (".gemini/commands", ".toml"),
        (".cursor/commands", ".md"),
        (".qwen/commands", ".toml"),
        (".opencode/command", ".md"),
        (".codex/prompts", ".md"),
        (".windsurf/workflows", ".md"),
        (".kilocode/workflows", ".md"),
        (".augment/commands", ".md"),
        (".roo/commands", ".md"),
        (".amazonq/prompts", ".md"),
        (".agent/workflows", ".md"),
    ];
    for (agent, (dir, ext)) in ALL_AGENTS.iter().zip(expect) {
        let names: Vec<String> = fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 16, "{agent}: {names:?}");
        for n in &names {
            assert!(
                n.starts_with("spec-kitty.") && n.ends_with(ext),
                "{agent}: {n}"
            );
            let text = fs::read_to_string(root.join(dir).join(n)).unwrap();
            assert!(text.contains("<!-- spec-kitty-command-version: 3.1.1 -->"));
            assert!(!text.contains("spec-kitty implement"), "{agent}/{n}");
            if ext == ".toml" {
                let doc: toml::Value = toml::from_str(&text).unwrap();
                let prompt = doc["prompt"].as_str().unwrap();
                assert!(prompt.contains("{{args}}"), "{agent}/{n}");
            } else {
                assert!(text.starts_with("---\ndescription: "), "{agent}/{n}");
                assert!(text.contains("$ARGUMENTS"), "{agent}/{n}");
            }
        }
        let review = names.iter().find(|n| n.contains(".review.")).unwrap();
        let text = fs::read_to_string(root.join(dir).join(review)).unwrap();
        assert!(
            text.contains("spec-kitty agent action review")
                && text.contains(&format!("--agent {agent}")),
            "{agent}: {text}"
        );
    }
    assert!(root
        .join(".codex/prompts/spec-kitty.tasks_finalize.md")
        .is_file());
    assert!(root
        .join(".claude/commands/spec-kitty.tasks-finalize.md")
        .is_file());
    let next = fs::read_to_string(root.join(".claude/commands/spec-kitty.next.md")).unwrap();
    assert!(next.contains("spec-kitty next --agent claude --mission <mission_slug>"));
    let specify =
        fs::read_to_string(root.join(".gemini/commands/spec-kitty.specify.toml")).unwrap();
    assert!(specify.contains("spec-kitty agent mission create"));
    assert_home_empty(&env);
}

#[test]
fn agent_errors_list_the_valid_agents_and_never_prompt() {
    let env = TestEnv::new();
    let out = assert_run!(
        env,
        &env.work,
        "unknown_agent",
        ["init", "demo", "--ai", "codex,vim", "--yes"]
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!env.work.join("demo").exists(), "nothing may be created");

    // --non-interactive without --ai, and no TTY without --ai: errors, not prompts.
    for (name, args) in [
        (
            "no_agent_non_interactive",
            &["init", "demo", "--non-interactive"][..],
        ),
        ("no_agent_no_terminal", &["init", "demo"][..]),
    ] {
        let out = env.sk(&env.work, args).write_stdin("7\n").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_out!(env, name, args, &out);
        assert!(!stdout(&out).contains("Which AI agents"));
    }
    assert!(!env.work.join("demo").exists());

    let out = env.run(&env.work, &["init", "demo", "--ai", "nope", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("copilot, claude, gemini"));

    // Options the reference removed stay removed.
    let out = env.run(&env.work, &["init", "demo", "--ai", "codex", "--no-git"]);
    assert_eq!(out.status.code(), Some(2));
    assert_home_empty(&env);
}

#[test]
fn rerun_with_another_agent_adds_it() {
    let env = TestEnv::new();
    env.sk(&env.work, &["init", "demo", "--ai", "codex", "--yes"])
        .assert()
        .success();
    let demo = env.work.join("demo");
    let v = env.json(&demo, &["init", ".", "--ai", "claude", "--yes", "--json"]);
    assert_eq!(v["agents"], serde_json::json!(["codex", "claude"]));
    assert_eq!(v["agents_added"], serde_json::json!(["claude"]));
    assert_eq!(v["files_written"].as_array().unwrap().len(), 16);
    assert_eq!(v["files_unchanged"].as_array().unwrap().len(), 16);
    let config = fs::read_to_string(demo.join(".kittify/config.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&config).unwrap();
    assert_eq!(
        doc["agents"]["available"],
        serde_yaml::from_str::<serde_yaml::Value>("[codex, claude]").unwrap()
    );
    assert!(demo
        .join(".claude/commands/spec-kitty.specify.md")
        .is_file());
}

#[test]
fn upgrade_brings_metadata_and_commands_to_this_version() {
    let env = TestEnv::new();
    env.sk(
        &env.work,
        &["init", "demo", "--ai", "codex,gemini", "--yes"],
    )
    .assert()
    .success();
    let demo = env.work.join("demo");
    let meta_path = demo.join(".kittify/metadata.yaml");
    let meta = fs::read_to_string(&meta_path)
        .unwrap()
        .replace("version: 3.1.1", "version: 3.0.2");
    fs::write(&meta_path, &meta).unwrap();
    let edited = demo.join(".gemini/commands/spec-kitty.plan.toml");
    fs::write(&edited, "prompt = \"mine\"\n").unwrap();
    let missing = demo.join(".codex/prompts/spec-kitty.merge.md");
    fs::remove_file(&missing).unwrap();

    let before = snapshot(&demo);
    let v = env.json(&demo, &["upgrade", "--dry-run", "--json"]);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["from_version"], "3.0.2");
    assert_eq!(v["to_version"], "3.1.1");
    assert_eq!(v["metadata_updated"], true);
    assert_eq!(
        v["files_written"],
        serde_json::json!([".codex/prompts/spec-kitty.merge.md"])
    );
    assert_eq!(
        v["files_skipped_user_modified"],
        serde_json::json!([".gemini/commands/spec-kitty.plan.toml"])
    );
    assert_eq!(snapshot(&demo), before, "--dry-run wrote something");

    let out = assert_run!(env, &demo.join(".kittify"), "upgrade", ["upgrade"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(&meta_path).unwrap()).unwrap();
    assert_eq!(doc["spec_kitty"]["version"].as_str(), Some("3.1.1"));
    assert!(doc["spec_kitty"]["last_upgraded_at"].as_str().is_some());
    assert!(doc["spec_kitty"]["initialized_at"].as_str().is_some());
    assert!(fs::read_to_string(&meta_path)
        .unwrap()
        .starts_with("# Spec Kitty Project Metadata\n"));
    assert!(missing.is_file());
    assert_eq!(fs::read_to_string(&edited).unwrap(), "prompt = \"mine\"\n");

    let after = snapshot(&demo);
    let out = assert_run!(env, &demo, "upgrade_again", ["upgrade"]);
    assert!(out.status.success());
    assert_eq!(snapshot(&demo), after, "a second upgrade changed files");

    // Outside a project: a clear error.
    let out = assert_run!(env, &env.work, "upgrade_outside_a_project", ["upgrade"]);
    assert_eq!(out.status.code(), Some(1));

    // A project newer than this binary is refused, untouched.
    fs::write(&meta_path, "spec_kitty:\n  version: 9.0.0\n").unwrap();
    let out = assert_run!(env, &demo, "upgrade_newer_project", ["upgrade"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(&meta_path).unwrap(),
        "spec_kitty:\n  version: 9.0.0\n"
    );
    assert_home_empty(&env);
}

/// Six inits with different agents race on one directory. The first is held
/// inside the project set-up lock, between reading the project and writing it
/// (pause point `init-before-write`); the five others start and each waits for
/// that lock before the first goes on. Under the lock each sees the others'
/// results, so every agent ends up in config.yaml and the manifest; without
/// it the others would not wait (the test fails) and agents would be lost.
#[test]
fn parallel_inits_lose_no_agent() {
    let env = TestEnv::new();
    let dir = env.work.join("race");
    fs::create_dir_all(&dir).unwrap();
    let agents = ["codex", "claude", "gemini", "cursor", "qwen", "roo"];
    let init = |a: &str| -> Vec<String> {
        ["init", ".", "--ai", a, "--yes", "--json"]
            .map(str::to_string)
            .to_vec()
    };
    let others: Vec<Vec<String>> = agents[1..].iter().map(|a| init(a)).collect();
    let first: Vec<String> = init(agents[0]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let outs = hold_and_contend(&env, &dir, &first, "init-before-write", &others);
    let mut first_runs = 0;
    for (i, out) in outs.iter().enumerate() {
        assert!(out.status.success(), "{}", stderr(out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if v["already_initialized"] == false {
            first_runs += 1;
            assert_eq!(i, 0, "the held run set the project up");
        }
    }
    assert_eq!(first_runs, 1, "exactly one run may set the project up");
    let config = fs::read_to_string(dir.join(".kittify/config.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&config).unwrap();
    let listed: Vec<&str> = doc["agents"]["available"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for a in agents {
        assert!(listed.contains(&a), "{a} lost: {config}");
    }
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join(".kittify/managed-files.json")).unwrap())
            .unwrap();
    assert_eq!(m["files"].as_object().unwrap().len(), 6 * 16);
    assert_home_empty(&env);
}

#[test]
fn init_help_snapshot() {
    let env = TestEnv::new();
    let out = env.run(&env.work, &["init", "--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(!text.contains("spec-kitty implement"));
    insta::assert_snapshot!(text);
    assert_home_empty(&env);
}

/// With a terminal and no --ai, init asks (run under `script`, which gives the
/// child a pseudo-terminal; the answer is piped in).
#[test]
#[cfg_attr(
    not(has_script),
    ignore = "needs util-linux `script` for a pseudo-terminal (.ci/run installs it)"
)]
fn with_a_terminal_init_asks_for_agents() {
    let env = TestEnv::new();
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let mut child = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} init tty-demo", bin.display()),
            "/dev/null",
        ])
        .current_dir(&env.work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"7, claude\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("Which AI agents"), "{text}");
    let config = fs::read_to_string(env.work.join("tty-demo/.kittify/config.yaml")).unwrap();
    assert!(config.contains("- codex\n  - claude\n"), "{config}");
    assert_home_empty(&env);
}

/// Codex reads custom prompts from `$CODEX_HOME/prompts` only: `init --ai
/// codex` says how to point it at the project's prompts (its own CODEX_HOME,
/// or links into the user's), and writes nothing under HOME to do it.
#[test]
fn init_for_codex_says_how_codex_finds_the_project_prompts_without_touching_home() {
    let env = TestEnv::new();
    let v = env.json(
        &env.work,
        &[
            "init",
            "demo",
            "--ai",
            "codex",
            "--non-interactive",
            "--json",
        ],
    );
    let steps: Vec<&str> = v["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let text = steps.join("\n");
    assert!(text.contains("$CODEX_HOME/prompts"), "{text}");
    assert!(text.contains("CODEX_HOME=\"$PWD/.codex\" codex"), "{text}");
    assert!(
        text.contains("ln -s \"$PWD\"/.codex/prompts/spec-kitty.*.md ~/.codex/prompts/"),
        "{text}"
    );
    // What it points at is there, and git-ignored (Codex's login stays local).
    let demo = env.work.join("demo");
    assert!(demo
        .join(".codex/prompts/spec-kitty.implement.md")
        .is_file());
    let ignore = fs::read_to_string(demo.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == ".codex/"), "{ignore}");
    assert_home_empty(&env);
    // An agent other than Codex is not told about CODEX_HOME.
    let v = env.json(
        &env.work,
        &[
            "init",
            "other",
            "--ai",
            "claude",
            "--non-interactive",
            "--json",
        ],
    );
    assert!(!v["next_steps"].to_string().contains("CODEX_HOME"), "{v}");
}

/// An empty project name is a usage error (exit 2) that says to use `.`,
/// in both forms, and nothing is created.
#[test]
fn an_empty_project_name_is_a_usage_error() {
    let env = TestEnv::new();
    let args = ["init", "", "--ai", "codex", "--non-interactive"];
    let out = env.run(&env.work, &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: the project name is empty")
            && err.contains("hint: use `.` for the current directory"),
        "{err}"
    );
    let mut json = args.to_vec();
    json.push("--json");
    let out = env.run(&env.work, &json);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"], "the project name is empty", "{v}");
    assert_eq!(v["hint"], "use `.` for the current directory", "{v}");
    assert_eq!(fs::read_dir(&env.work).unwrap().count(), 0);
}
