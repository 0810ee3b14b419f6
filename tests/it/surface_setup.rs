//! The setup and health commands of the part-1 surface: `specify`, `plan`,
//! `tasks`, `config`, `agent config ...`, `doctor ...`, `verify-setup`,
//! `migrate`. Reference facts come from tests/fixtures/surface_setup (made by
//! its make.sh); tests never run the reference.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::reference::{self, has_reference_keys, keys, parse};
use crate::common::snap::assert_run;
use crate::common::{snapshot, stderr, stdout, TestEnv};

const M: &str = "001-dogfood-track2";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface_setup")
}

fn reference_json(name: &str) -> Value {
    reference::json_in(&fixtures(), name)
}

fn reference_exit(name: &str) -> i32 {
    reference::exit_in(&fixtures(), name)
}

/// A git copy of the reference-made project (mission 001-dogfood-track2).
fn reference_project(env: &TestEnv) -> PathBuf {
    reference::surface2_project(env)
}

/// The files under `root` outside `.git/` (lock files live there).
fn tree(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    snapshot(root)
        .into_iter()
        .filter(|(p, _)| !p.strip_prefix(root).unwrap().starts_with(".git"))
        .collect()
}

/// The paths whose content differs between two trees.
fn changed(
    a: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    b: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<PathBuf> {
    a.keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .cloned()
        .collect()
}

/// A project set up by our `init` for claude and codex, committed.
fn inited(env: &TestEnv) -> PathBuf {
    let root = env.work.join("p");
    fs::create_dir_all(&root).unwrap();
    env.git(&root, &["init", "-q"]);
    env.ok(&root, &["init", ".", "--ai", "claude,codex"]);
    root
}

fn config_agents(root: &Path) -> Vec<String> {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(root.join(".kittify/config.yaml")).unwrap())
            .unwrap();
    doc["agents"]["available"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// `specify` names a mission from free text like the reference (same keys as
/// its document), `plan` and `tasks` are setup-plan and finalize-tasks.
#[test]
fn specify_plan_and_tasks_are_the_mission_commands() {
    let env = TestEnv::new();
    let root = env.project("p");
    let out = env.run(&root, &["specify", "Second Feature!", "--json"]);
    assert_eq!(out.status.code(), Some(reference_exit("specify.json")));
    let v = parse(&out);
    let r = reference_json("specify.json");
    let missing: Vec<String> = keys(&r)
        .difference(&keys(&v))
        .filter(|k| !["write_mode"].contains(&k.as_str()))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "specify: missing {missing:?}");
    assert_eq!(v["mission_slug"], "001-second-feature");
    assert!(root
        .join("kitty-specs/001-second-feature/spec.md")
        .is_file());

    let v = env.json(&root, &["plan", "--feature", "001", "--json"]);
    let r = reference_json("plan.json");
    has_reference_keys(&v, &r, "plan");
    assert!(root
        .join("kitty-specs/001-second-feature/plan.md")
        .is_file());

    // `tasks`: finalize-tasks on the mission (no WPs yet: said, nothing written).
    let out = env.run(&root, &["tasks", "--mission", "001", "--json"]);
    let direct = env.run(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "001",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), direct.status.code());
    assert_eq!(keys(&parse(&out)), keys(&parse(&direct)));

    // A name with no letters or digits is a usage error, as in the reference.
    assert_run!(env, &root, "specify_empty_name", ["specify", " !! "]);
    assert_run!(
        env,
        &root,
        "specify_mission_type",
        ["specify", "Research It", "--mission-type", "research"]
    );
    let meta: Value = serde_json::from_str(
        &fs::read_to_string(root.join("kitty-specs/002-research-it/meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["mission_type"], "research");
}

/// `agent config` keeps .kittify/config.yaml and the command folders in step,
/// and never touches what is not spec-kitty's.
#[test]
fn agent_config_manages_the_project_agents() {
    let env = TestEnv::new();
    let root = inited(&env);
    assert_run!(env, &root, "agent_config_list", ["agent", "config", "list"]);

    // add: config entry and all command files; an unknown key refuses all.
    assert_run!(
        env,
        &root,
        "agent_config_add",
        ["agent", "config", "add", "gemini", "claude"]
    );
    assert_eq!(config_agents(&root), ["claude", "codex", "gemini"]);
    assert!(root
        .join(".gemini/commands/spec-kitty.specify.toml")
        .is_file());
    let before = tree(&root.join(".kittify"));
    assert_run!(
        env,
        &root,
        "agent_config_add_unknown",
        ["agent", "config", "add", "cursor", "vim"]
    );
    assert_eq!(
        changed(&before, &tree(&root.join(".kittify"))),
        Vec::<PathBuf>::new()
    );
    assert!(!root.join(".cursor").exists());

    // remove: spec-kitty's files go, an edited one and the user's own stay.
    let edited = root.join(".codex/prompts/spec-kitty.plan.md");
    fs::write(&edited, "my own plan prompt\n").unwrap();
    fs::write(root.join(".codex/prompts/mine.md"), "mine\n").unwrap();
    fs::write(root.join(".codex/config.toml"), "model = 'x'\n").unwrap();
    assert_run!(
        env,
        &root,
        "agent_config_remove",
        ["agent", "config", "remove", "codex"]
    );
    assert_eq!(config_agents(&root), ["claude", "gemini"]);
    assert!(edited.is_file());
    assert!(root.join(".codex/prompts/mine.md").is_file());
    assert!(root.join(".codex/config.toml").is_file());
    assert!(!root.join(".codex/prompts/spec-kitty.specify.md").exists());

    // --keep-config: files go, the entry stays; an emptied folder goes too.
    env.ok(
        &root,
        &["agent", "config", "remove", "gemini", "--keep-config"],
    );
    assert_eq!(config_agents(&root), ["claude", "gemini"]);
    assert!(!root.join(".gemini").exists());

    // status: gemini configured but missing; codex's leftover edited file is
    // spec-kitty-named, so codex shows as orphaned.
    assert_run!(
        env,
        &root,
        "agent_config_status",
        ["agent", "config", "status"]
    );
    let v = env.json(&root, &["--json", "agent", "config", "status"]);
    let status = |k: &str| {
        v["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == k)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("gemini"), "missing");
    assert_eq!(status("codex"), "orphaned");
    assert_eq!(status("claude"), "ok");

    // sync --keep-orphaned --create-missing: gemini back, codex untouched.
    env.ok(
        &root,
        &[
            "agent",
            "config",
            "sync",
            "--keep-orphaned",
            "--create-missing",
        ],
    );
    assert!(root
        .join(".gemini/commands/spec-kitty.specify.toml")
        .is_file());
    assert!(edited.is_file());
    // An orphan with spec-kitty's generated content is removed by the default sync.
    let orphan = root.join(".cursor/commands/spec-kitty.specify.md");
    fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    fs::write(
        &orphan,
        fs::read(root.join(".claude/commands/spec-kitty.specify.md")).unwrap(),
    )
    .unwrap();
    // Copilot not configured: its folder is the user's .github, never removed.
    fs::create_dir_all(root.join(".github/prompts")).unwrap();
    fs::write(root.join(".github/prompts/team.prompt.md"), "team\n").unwrap();
    fs::create_dir_all(root.join(".github/workflows")).unwrap();
    fs::write(root.join(".github/workflows/ci.yml"), "on: push\n").unwrap();
    assert_run!(env, &root, "agent_config_sync", ["agent", "config", "sync"]);
    assert!(!orphan.exists());
    assert!(!root.join(".cursor").exists());
    assert!(edited.is_file());
    assert!(root.join(".github/workflows/ci.yml").is_file());
    assert!(root.join(".github/prompts/team.prompt.md").is_file());
    assert_run!(
        env,
        &root,
        "agent_config_sync_nothing",
        ["agent", "config", "sync"]
    );

    // set auto_commit: one place in the file, read back by list.
    fs::write(
        root.join(".kittify/config.yaml"),
        format!(
            "auto_commit: false\n{}",
            fs::read_to_string(root.join(".kittify/config.yaml")).unwrap()
        ),
    )
    .unwrap();
    assert_run!(
        env,
        &root,
        "agent_config_set",
        ["agent", "config", "set", "auto_commit", "yes"]
    );
    let text = fs::read_to_string(root.join(".kittify/config.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(doc["agents"]["auto_commit"], serde_yaml::Value::Bool(true));
    assert!(doc.get("auto_commit").is_none(), "{text}");
    assert!(env
        .ok(&root, &["agent", "config", "list"])
        .contains("Auto-commit: enabled"));
    assert_run!(
        env,
        &root,
        "agent_config_set_bad_value",
        ["agent", "config", "set", "auto_commit", "maybe"]
    );
    assert_run!(
        env,
        &root,
        "agent_config_set_bad_key",
        ["agent", "config", "set", "colour", "red"]
    );
}

/// A broken config.yaml is named, and nothing is written.
#[test]
fn agent_config_refuses_a_broken_config() {
    let env = TestEnv::new();
    let root = inited(&env);
    fs::write(root.join(".kittify/config.yaml"), "agents: [claude\n").unwrap();
    let before = tree(&root);
    let err = env.refused(&root, &["agent", "config", "set", "auto_commit", "true"]);
    assert!(err.contains("config.yaml"), "{err}");
    env.refused(&root, &["agent", "config", "add", "gemini"]);
    env.refused(&root, &["agent", "config", "remove", "claude"]);
    assert_eq!(changed(&before, &tree(&root)), Vec::<PathBuf>::new());
}

/// `doctor command-files`: the reference's issue keys; exit 1 with issues.
#[test]
fn doctor_command_files_reports_missing_and_changed_files() {
    let env = TestEnv::new();
    let root = inited(&env);
    let out = env.run(&root, &["doctor", "command-files", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(reference_exit("doctor-command-files.json"))
    );
    assert_eq!(parse(&out), reference_json("doctor-command-files.json"));
    assert_run!(
        env,
        &root,
        "doctor_command_files_ok",
        ["doctor", "command-files"]
    );

    fs::remove_file(root.join(".claude/commands/spec-kitty.review.md")).unwrap();
    fs::write(root.join(".codex/prompts/spec-kitty.next.md"), "old\n").unwrap();
    let out = env.run(&root, &["doctor", "command-files", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = parse(&out);
    let issues = v.as_array().unwrap();
    for i in issues {
        assert_eq!(
            keys(i),
            ["agent", "command", "file", "issue", "severity"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        );
    }
    assert!(issues
        .iter()
        .any(|i| i["file"] == ".claude/commands/spec-kitty.review.md"
            && i["issue"] == "missing"
            && i["severity"] == "error"));
    assert!(issues
        .iter()
        .filter(|i| i["file"] == ".codex/prompts/spec-kitty.next.md")
        .all(|i| i["severity"] == "warning"));
    assert_eq!(
        issues
            .iter()
            .filter(|i| i["file"] == ".codex/prompts/spec-kitty.next.md")
            .count(),
        2
    );
    assert_run!(
        env,
        &root,
        "doctor_command_files_issues",
        ["doctor", "command-files"]
    );
    // upgrade restores the missing one (the edited one is the user's).
    env.ok(&root, &["upgrade"]);
    let v = env.run(&root, &["doctor", "command-files", "--json"]);
    let v = parse(&v);
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["file"] != ".claude/commands/spec-kitty.review.md"));
}

/// `doctor state-roots`: the reference's document; a runtime file git would
/// commit is a warning and exit 1.
#[test]
fn doctor_state_roots_warns_about_unignored_runtime_files() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let out = env.run(&root, &["doctor", "state-roots", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(reference_exit("doctor-state-roots.json"))
    );
    let v = parse(&out);
    let r = reference_json("doctor-state-roots.json");
    has_reference_keys(&v, &r, "state-roots");
    has_reference_keys(&v["roots"][0], &r["roots"][0], "state-roots root");
    has_reference_keys(&v["surfaces"][0], &r["surfaces"][0], "state-roots surface");
    assert_eq!(v["healthy"], true);
    // Names shared with the reference mean the same paths.
    for s in r["surfaces"].as_array().unwrap() {
        if let Some(o) = v["surfaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == s["name"])
        {
            assert_eq!(o["path_pattern"], s["path_pattern"], "{}", s["name"]);
            assert_eq!(o["authority"], s["authority"], "{}", s["name"]);
        }
    }
    let present = |v: &Value, name: &str| {
        v["surfaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["present"]
            .clone()
    };
    assert_eq!(present(&v, "canonical_status_log"), true);
    assert_eq!(present(&v, "dashboard_control"), false);

    // The reference project's .gitignore does not list .kittify/.dashboard.
    fs::write(root.join(".gitignore"), "").unwrap();
    fs::write(
        root.join(".kittify/.dashboard"),
        "http://127.0.0.1:1\n1\nt\n1\n",
    )
    .unwrap();
    let out = env.run(&root, &["doctor", "state-roots", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = parse(&out);
    assert_eq!(v["healthy"], false);
    assert_eq!(present(&v, "dashboard_control"), true);
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("dashboard_control (.kittify/.dashboard) is present but not gitignored"));
    env.ok(&root, &["upgrade"]);
    let out = env.run(&root, &["doctor", "state-roots"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// `verify-setup`: the reference's documents (plain, per mission, diagnostics);
/// --no-check-tools and --no-check-files leave their parts out.
#[test]
fn verify_setup_prints_the_reference_documents() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    for (name, args) in [
        ("verify-setup.json", vec!["verify-setup", "--json"]),
        (
            "verify-setup-mission.json",
            vec!["verify-setup", "--mission", M, "--json"],
        ),
        (
            "verify-setup-diagnostics.json",
            vec!["verify-setup", "--diagnostics", "--json"],
        ),
    ] {
        let out = env.run(&root, &args);
        assert_eq!(out.status.code(), Some(reference_exit(name)), "{name}");
        let v = parse(&out);
        let r = reference_json(name);
        has_reference_keys(&v, &r, name);
        assert_eq!(keys(&v["tools"]), keys(&r["tools"]), "{name}");
        for k in [
            "worktree_status",
            "worktree_overview",
            "feature_detection",
            "environment",
        ] {
            if r.get(k).is_some() {
                has_reference_keys(&v[k], &r[k], k);
            }
        }
    }
    let v = env.json(&root, &["verify-setup", "--mission", M, "--json"]);
    let r = reference_json("verify-setup-mission.json");
    assert_eq!(v["feature_detection"], r["feature_detection"]);
    has_reference_keys(
        &v["feature_analysis"],
        &r["feature_analysis"],
        "feature_analysis",
    );
    // The reference calls a mission with artifacts and no branch "merged";
    // ours reads the work packages: one is in progress.
    assert_eq!(r["feature_analysis"]["state"], "merged");
    assert_eq!(v["feature_analysis"]["state"], "in_development");
    assert_eq!(v["feature_analysis"]["lanes"]["in_progress"], 1);
    assert_eq!(v["worktree_status"]["in_development"], 1);

    let v = env.json(
        &root,
        &[
            "verify-setup",
            "--no-check-tools",
            "--no-check-files",
            "--json",
        ],
    );
    assert!(v.get("tools").is_none());
    assert_eq!(v["file_integrity"], serde_json::json!({}));

    // Our project: its command files are counted and missing ones named.
    let ours = inited(&env);
    fs::remove_file(ours.join(".claude/commands/spec-kitty.next.md")).unwrap();
    let v = env.json(&ours, &["verify-setup", "--check-files", "--json"]);
    assert_eq!(v["file_integrity"]["total_expected"], 32);
    assert_eq!(v["file_integrity"]["total_missing"], 1);
    assert!(v["file_integrity"]["missing_files"]
        .get(".claude/commands/spec-kitty.next.md")
        .is_some());
    assert_eq!(v["managed_skills"]["missing"], 1);
    assert_run!(
        env,
        &ours,
        "verify_setup_human",
        ["verify-setup", "--no-check-tools"]
    );

    // Outside a project: exit 1, the error and the tools.
    let out = env.run(&env.work, &["verify-setup", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = parse(&out);
    assert!(v["error"].is_string());
    assert!(v["tools"]["git"]["available"].is_boolean());
}

/// `verify-setup` run in a folder of the project checks the project it is in
/// and reports that folder, as the other commands take theirs.
#[test]
fn verify_setup_reports_the_directory_it_runs_in() {
    let env = TestEnv::new();
    let root = inited(&env);
    let sub = root.join("docs/notes");
    fs::create_dir_all(&sub).unwrap();
    let v = env.json(&sub, &["verify-setup", "--no-check-tools", "--json"]);
    let root = fs::canonicalize(&root).unwrap();
    let sub = fs::canonicalize(&sub).unwrap();
    assert_eq!(
        v["environment"]["working_directory"],
        serde_json::json!(sub)
    );
    assert_eq!(v["environment"]["project_root"], serde_json::json!(root));
    assert_eq!(v["environment"]["in_worktree"], false);
}

/// `config --show-origin`: every asset and where it comes from.
#[test]
fn config_shows_asset_origins() {
    let env = TestEnv::new();
    let root = inited(&env);
    assert_run!(env, &root, "config_no_flag", ["config"]);
    assert_run!(
        env,
        &root,
        "config_show_origin",
        ["config", "--show-origin"]
    );
    let v = env.json(
        &root,
        &["--json", "config", "--show-origin", "-m", "research"],
    );
    let entries = v["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["asset_type"] == "template"
        && e["resolved_path"] == "<built-in>/templates/missions/research/spec.md"));
    assert!(entries
        .iter()
        .any(|e| e["name"] == "config.yaml" && e["tier"] == "project"));
    assert!(entries
        .iter()
        .any(|e| e["name"] == "charter.md" && e["tier"].is_null()));
    assert_run!(
        env,
        &root,
        "config_unknown_mission",
        ["config", "--show-origin", "--mission", "cooking"]
    );
}

/// `migrate` gives missions their mission_id and status log; --dry-run writes nothing.
#[test]
fn migrate_brings_old_missions_up_to_date() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let dir = root.join("kitty-specs").join(M);
    // An older mission: no mission_id, no event log.
    let meta_path = dir.join("meta.json");
    let mut meta: Value = serde_json::from_str(&fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("mission_id");
    fs::write(&meta_path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    let _ = fs::remove_file(dir.join("status.events.jsonl"));
    let _ = fs::remove_file(dir.join("status.json"));
    fs::create_dir_all(root.join(".kittify/templates")).unwrap();
    fs::write(root.join(".kittify/templates/spec-template.md"), "old\n").unwrap();

    let before = tree(&root);
    let v = env.json(&root, &["--json", "migrate", "--dry-run"]);
    assert_eq!(changed(&before, &tree(&root)), Vec::<PathBuf>::new());
    assert_eq!(v["identities"].as_array().unwrap().len(), 1);
    assert_eq!(v["identities"][0]["written"], false);
    assert_eq!(v["status"]["summary"]["total_migrated"], 1);
    assert!(v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"] == ".kittify/templates/" && e["class"] == "legacy_asset"));

    assert_run!(env, &root, "migrate_force", ["migrate", "--force", "-v"]);
    let meta: Value = serde_json::from_str(&fs::read_to_string(&meta_path).unwrap()).unwrap();
    assert!(meta["mission_id"].is_string());
    assert!(dir.join("status.events.jsonl").is_file());
    assert!(root.join(".kittify/templates/spec-template.md").is_file());
    // Idempotent: a second run changes nothing.
    let before = tree(&root);
    let out = env.run(&root, &["migrate", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Migration complete (0 change(s))"));
    assert_eq!(changed(&before, &tree(&root)), Vec::<PathBuf>::new());
}

/// `upgrade --target` accepts only this version; `--verbose` lists the
/// unchanged files too; `--force` runs without a question.
#[test]
fn upgrade_takes_the_reference_flags() {
    let env = TestEnv::new();
    let root = inited(&env);
    let before = tree(&root);
    assert_run!(
        env,
        &root,
        "upgrade_other_target",
        ["upgrade", "--target", "0.6.5"]
    );
    assert_eq!(changed(&before, &tree(&root)), Vec::<PathBuf>::new());
    let out = env.ok(
        &root,
        &["upgrade", "--target", env!("CARGO_PKG_VERSION"), "--force"],
    );
    assert!(!out.contains("  = "), "{out}");
    let out = env.ok(&root, &["upgrade", "-v", "--dry-run"]);
    assert_eq!(out.lines().filter(|l| l.starts_with("  = ")).count(), 32);
}

/// The charter options of the reference act: interview overrides land in the
/// answers and the charter, generate falls back to the --profile defaults
/// without answers, --no-from-interview ignores them, --template-set is
/// checked and recorded, context --no-mark-loaded leaves the first load, and
/// status/sync print the reference's keys.
#[test]
fn charter_options_act_and_print_the_reference_keys() {
    let env = TestEnv::new();
    let root = env.project("p");
    // No answers yet: generate (even --from-interview) uses the defaults.
    let v = env.json(
        &root,
        &[
            "charter",
            "generate",
            "--from-interview",
            "--profile",
            "comprehensive",
            "--json",
        ],
    );
    has_reference_keys(
        &v,
        &reference_json("charter-generate-defaults.json"),
        "generate",
    );
    assert_eq!(v["interview_source"], "defaults");
    assert_eq!(v["profile"], "comprehensive");
    assert_eq!(v["template_set"], "software-dev-default");
    let v = env.json(&root, &["charter", "status", "--json"]);
    let r = reference_json("charter-status.json");
    has_reference_keys(&v, &r, "status");
    has_reference_keys(&v["files"][0], &r["files"][0], "status file");
    assert_eq!(v["status"], r["status"]);
    let v = env.json(&root, &["charter", "sync", "--json"]);
    let r = reference_json("charter-sync-noop.json");
    has_reference_keys(&v, &r, "sync noop");
    assert_eq!((&v["result"], &v["success"]), (&r["result"], &r["success"]));
    let v = env.json(&root, &["charter", "sync", "--force", "--json"]);
    let r = reference_json("charter-sync-force.json");
    assert_eq!((&v["result"], &v["success"]), (&r["result"], &r["success"]));
    assert_eq!(v["stale_before"], false);
    // A hand edit makes it stale, as the reference says.
    let path = root.join(".kittify/charter/charter.md");
    fs::write(
        &path,
        format!("{}\nEdited.\n", fs::read_to_string(&path).unwrap()),
    )
    .unwrap();
    assert_eq!(
        env.json(&root, &["charter", "status", "--json"])["status"],
        "stale"
    );
    let v = env.json(&root, &["charter", "sync", "--json"]);
    assert_eq!(
        (&v["success"], &v["stale_before"]),
        (&Value::Bool(true), &Value::Bool(true))
    );

    // interview overrides.
    let v = env.json(
        &root,
        &[
            "charter",
            "interview",
            "--defaults",
            "--selected-paradigms",
            "tdd, ddd,",
            "--selected-directives",
            "DIRECTIVE_001",
            "--available-tools",
            "git,cargo",
            "--json",
        ],
    );
    let r = reference_json("charter-interview.json");
    has_reference_keys(&v, &r, "interview");
    for k in [
        "selected_paradigms",
        "selected_directives",
        "available_tools",
    ] {
        assert_eq!(v[k], r[k], "{k}");
    }
    let answers = fs::read_to_string(root.join(".kittify/charter/interview/answers.yaml")).unwrap();
    assert!(answers.contains("- ddd"), "{answers}");
    let v = env.json(&root, &["charter", "generate", "-f", "--json"]);
    has_reference_keys(
        &v,
        &reference_json("charter-generate-interview.json"),
        "generate",
    );
    assert_eq!(v["interview_source"], "interview");
    assert_eq!(v["selected_paradigms"], serde_json::json!(["tdd", "ddd"]));
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("## Paradigms\n\ntdd, ddd\n"), "{text}");
    assert!(text.contains("## Tools\n\ngit, cargo\n"), "{text}");
    // --no-from-interview: the answers are ignored.
    let v = env.json(
        &root,
        &[
            "charter",
            "generate",
            "--force",
            "--no-from-interview",
            "--mission-type",
            "research",
            "--json",
        ],
    );
    assert_eq!(v["interview_source"], "defaults");
    assert_eq!(v["template_set"], "research-default");
    assert!(!fs::read_to_string(&path).unwrap().contains("## Paradigms"));
    // An unknown template set refuses, the charter untouched.
    let before = fs::read(&path).unwrap();
    assert_run!(
        env,
        &root,
        "charter_generate_unknown_template_set",
        [
            "charter",
            "generate",
            "--force",
            "--template-set",
            "cooking-default"
        ]
    );
    assert_eq!(before, fs::read(&path).unwrap());

    // context: --no-mark-loaded keeps it a first load.
    for _ in 0..2 {
        let v = env.json(
            &root,
            &[
                "charter",
                "context",
                "--action",
                "plan",
                "--no-mark-loaded",
                "--json",
            ],
        );
        has_reference_keys(&v, &reference_json("charter-context.json"), "context");
        assert_eq!(v["first_load"], true);
    }
    assert!(!root.join(".kittify/charter/context-state.json").exists());
    let v = env.json(
        &root,
        &[
            "charter",
            "context",
            "--action",
            "plan",
            "--mark-loaded",
            "--json",
        ],
    );
    assert_eq!(v["first_load"], true);
    let v = env.json(&root, &["charter", "context", "--action", "plan", "--json"]);
    assert_eq!(
        (&v["first_load"], &v["mode"]),
        (&Value::Bool(false), &Value::from("compact"))
    );
}

/// `upgrade` refreshes the git-ignored command files of each lane worktree
/// (the lane's tracked files stay as they are); `--no-worktrees` skips them;
/// a worktree whose checkout would not ignore them is left alone and named.
#[test]
fn upgrade_refreshes_lane_worktrees_unless_told_not_to() {
    let env = TestEnv::new();
    let root = env.project("p");
    let wt = root.join(".worktrees/001-demo-lane-a");
    // Without a committed .gitignore the lane would see the files as changes.
    env.git(
        &root,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "lane-a",
            wt.to_str().unwrap(),
        ],
    );
    let v = env.json(&root, &["upgrade", "--force", "--json"]);
    assert!(
        v["worktrees"][0]["skipped"]
            .as_str()
            .unwrap()
            .starts_with(".codex/prompts not git-ignored"),
        "{v}"
    );
    assert!(!wt.join(".codex").exists());
    env.git(&root, &["add", ".gitignore"]);
    env.git(&root, &["commit", "-qm", "ignore agent folders"]);
    env.git(&wt, &["merge", "-q", "main"]);
    let v = env.json(&root, &["upgrade", "--no-worktrees", "--json"]);
    assert_eq!(v["worktrees"], serde_json::json!([]));
    assert!(!wt.join(".codex").exists());
    let v = env.json(&root, &["upgrade", "--dry-run", "--json"]);
    assert_eq!(
        v["worktrees"][0]["files_written"].as_array().unwrap().len(),
        16
    );
    assert!(!wt.join(".codex").exists());
    let v = env.json(&root, &["upgrade", "--json"]);
    assert_eq!(
        v["worktrees"][0]["files_written"].as_array().unwrap().len(),
        16
    );
    assert!(wt.join(".codex/prompts/spec-kitty.implement.md").is_file());
    assert_eq!(env.git(&wt, &["status", "--porcelain"]), "");
    assert_run!(env, &root, "upgrade_worktrees_current", ["upgrade"]);
}

/// Hostile repo content: a manifest entry leading out of the agent's folder, a
/// command file that is a link to a file outside, and an agent folder that is
/// a link out of the project. Nothing outside is read as ours or removed.
#[test]
fn agent_config_removes_nothing_outside_the_agent_folder() {
    let env = TestEnv::new();
    let root = inited(&env);
    let outside = env.work.join("outside.md");
    fs::write(&outside, "precious\n").unwrap();
    let mut manifest: Value = serde_json::from_str(
        &fs::read_to_string(root.join(".kittify/managed-files.json")).unwrap(),
    )
    .unwrap();
    let hash = manifest["files"][".codex/prompts/spec-kitty.plan.md"]["hash"].clone();
    for bad in [
        "../outside.md",
        ".codex/prompts/../../../outside.md",
        "README.md",
    ] {
        manifest["files"][bad] =
            serde_json::json!({"hash": hash, "agent": "codex", "command": "plan"});
    }
    fs::write(
        root.join(".kittify/managed-files.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    fs::write(root.join("README.md"), "mine\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, root.join(".codex/prompts/spec-kitty.evil.md")).unwrap();
    env.ok(&root, &["agent", "config", "remove", "codex"]);
    assert_eq!(fs::read_to_string(&outside).unwrap(), "precious\n");
    assert_eq!(
        fs::read_to_string(root.join("README.md")).unwrap(),
        "mine\n"
    );
    assert!(!root.join(".codex/prompts/spec-kitty.plan.md").exists());

    // An orphaned agent folder that is a link out of the project: refused or
    // skipped, never emptied.
    #[cfg(unix)]
    {
        let away = env.work.join("away");
        fs::create_dir_all(&away).unwrap();
        let file = away.join("spec-kitty.specify.md");
        fs::write(
            &file,
            fs::read(root.join(".claude/commands/spec-kitty.specify.md")).unwrap(),
        )
        .unwrap();
        fs::create_dir_all(root.join(".cursor")).unwrap();
        std::os::unix::fs::symlink(&away, root.join(".cursor/commands")).unwrap();
        let out = env.run(&root, &["agent", "config", "sync"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("outside the project"),
            "{}",
            stderr(&out)
        );
        assert!(file.is_file(), "{}", stdout(&out));
        assert!(root.join(".cursor/commands").exists());
    }
}

/// Parallel `agent config` runs on one project: every change lands (the
/// config.yaml read-modify-write holds the set-up lock).
#[test]
fn parallel_agent_config_changes_all_land() {
    let env = TestEnv::new();
    let root = inited(&env);
    let runs: Vec<Vec<&str>> = vec![
        vec!["agent", "config", "add", "gemini"],
        vec!["agent", "config", "add", "cursor"],
        vec!["agent", "config", "set", "auto_commit", "true"],
        vec!["agent", "config", "remove", "codex"],
        vec!["agent", "config", "add", "roo"],
    ];
    let children: Vec<_> = runs.iter().map(|a| env.spawn(&root, a)).collect();
    for (c, a) in children.into_iter().zip(&runs) {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{a:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut agents = config_agents(&root);
    agents.sort();
    assert_eq!(agents, ["claude", "cursor", "gemini", "roo"]);
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(root.join(".kittify/config.yaml")).unwrap())
            .unwrap();
    assert_eq!(doc["agents"]["auto_commit"], serde_yaml::Value::Bool(true));
    for dir in [".gemini/commands", ".cursor/commands", ".roo/commands"] {
        assert_eq!(fs::read_dir(root.join(dir)).unwrap().count(), 16, "{dir}");
    }
    assert!(!root.join(".codex/prompts/spec-kitty.plan.md").exists());
}
