//! finalize-tasks: parsing bounds, dependency rules, errors with file and line,
//! lanes compatible with the reference, idempotence and all-or-nothing writes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::snap::{assert_out, assert_run};
use crate::common::{copy_dir, finalize_tasks, snapshot, stderr, stdout, TestEnv};

fn write(p: &Path, text: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// A project with mission `001-m` holding `tasks_md` and WP files `(file, frontmatter extra, body)`.
fn mission(env: &TestEnv, tasks_md: &str, wps: &[(&str, &str, &str)]) -> (PathBuf, PathBuf) {
    let root = env.project("p");
    let v = env.json(&root, &["agent", "mission", "create", "m", "--json"]);
    let dir = PathBuf::from(v["feature_dir"].as_str().unwrap());
    write(
        &dir.join("spec.md"),
        "# Spec\n\n| FR-001 | a |\n| FR-002 | b |\n| FR-003 | c |\n",
    );
    write(&dir.join("tasks.md"), tasks_md);
    for (file, extra, body) in wps {
        let id = &file[..4];
        write(
            &dir.join("tasks").join(file),
            &format!(
                "---\nwork_package_id: {id}\ntitle: {id} title\n{extra}---\n\n# {id}\n\n{body}\n"
            ),
        );
    }
    (root, dir)
}

/// Paths whose bytes differ (or that exist on one side only).
fn changed(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let mut keys: Vec<&PathBuf> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// `finalize-tasks` refused (exit 1); its message snapshotted as `name`.
fn finalize_refused(env: &TestEnv, root: &Path, name: &str) {
    let out = assert_run!(
        env,
        root,
        name,
        ["agent", "mission", "finalize-tasks", "--mission", "m"]
    );
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(&out));
}

#[test]
fn trailing_prose_never_becomes_a_dependency() {
    for trailer in ["## Notes", "### Notes", "# Appendix"] {
        let env = TestEnv::new();
        let tasks = format!(
            "# WPs\n\n## WP01: Alpha\n\n**Requirement Refs**: FR-001\n\n## WP02: Beta\n\n**Requirement Refs**: FR-002\n\n{trailer}\n\nBeta relates to alpha. Depends on WP01 in spirit only.\n"
        );
        let (root, dir) = mission(
            &env,
            &tasks,
            &[
                ("WP01-alpha.md", "", "Create `src/alpha/core.py`."),
                ("WP02-beta.md", "", "Create `src/beta/core.py`."),
            ],
        );
        let v = env.json(&root, &finalize_tasks("m"));
        assert_eq!(
            v["dependencies_parsed"]["WP02"],
            serde_json::json!([]),
            "{trailer}: {v}"
        );
        let wp2 = fs::read_to_string(dir.join("tasks/WP02-beta.md")).unwrap();
        assert!(wp2.contains("dependencies: []"), "{wp2}");
        let board = stdout(&env.run(&root, &["agent", "tasks", "status", "--mission", "m"]));
        let line = board.lines().find(|l| l.contains("WP02")).unwrap();
        assert!(line.contains("deps: none"), "{board}");
    }
}

#[test]
fn explicit_frontmatter_dependencies_win_even_empty() {
    let env = TestEnv::new();
    let (root, _) = mission(
        &env,
        "## WP01: A\n**Requirement Refs**: FR-001\n\n## WP02: B\n**Requirement Refs**: FR-002\nDepends on WP01\n\n## WP03: C\n**Requirement Refs**: FR-003\nDepends on WP01\n",
        &[
            ("WP01-a.md", "", "`src/a/`"),
            ("WP02-b.md", "dependencies: []\n", "`src/b/`"),
            ("WP03-c.md", "", "`src/c/`"),
        ],
    );
    let out = env.run(&root, &finalize_tasks("m"));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dependencies_parsed"]["WP02"], serde_json::json!([]));
    assert_eq!(
        v["dependencies_parsed"]["WP03"],
        serde_json::json!(["WP01"])
    );
    assert_eq!(v["preserved_wps"], serde_json::json!(["WP02"]));
    assert_out!(
        env,
        "frontmatter_dependencies_win_warning",
        [
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "m",
            "--json"
        ],
        &crate::common::snap::stderr_only(&out)
    );
}

#[test]
fn errors_name_file_and_line_and_change_nothing() {
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str, &'static str)>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "## WP01: A\nDepends on WP07\n",
            vec![("WP01-a.md", "", "`src/a/`")],
            "unknown_dependency",
        ),
        (
            "## WP01: A\n",
            vec![("WP01-a.md", "dependencies:\n- WP01\n", "`src/a/`")],
            "self_dependency",
        ),
        (
            "## WP01: A\n\n## WP01: again\n",
            vec![("WP01-a.md", "", "`src/a/`")],
            "second_section",
        ),
        (
            "## WP01: A\n\n## WP02: B\n",
            vec![("WP01-a.md", "", "`src/a/`")],
            "no_prompt_file",
        ),
        (
            "## WP01: A\n",
            vec![("WP01-a.md", "title: [unclosed\n", "`src/a/`")],
            "bad_yaml",
        ),
        (
            "## WP01: A\n\n## WP02: B\n",
            vec![
                ("WP01-a.md", "", "Build `src/shared/`"),
                ("WP02-b.md", "", "Build `src/shared/x.rs`"),
            ],
            "overlapping_paths",
        ),
        (
            "## WP01: A\n**Requirement Refs**: FR-009\n",
            vec![("WP01-a.md", "", "`src/a/`")],
            "undefined_requirement",
        ),
    ];
    for (tasks, wps, name) in cases {
        let env = TestEnv::new();
        let (root, dir) = mission(&env, tasks, &wps);
        let before = snapshot(&dir);
        finalize_refused(&env, &root, &format!("finalize_error_{name}"));
        assert_eq!(
            changed(&snapshot(&dir), &before),
            Vec::<PathBuf>::new(),
            "{name}: files changed on error"
        );
    }
}

#[test]
fn cycles_are_printed_as_a_path() {
    let env = TestEnv::new();
    let (root, _) = mission(
        &env,
        "## WP01: A\n\n## WP02: B\nDepends on WP04\n\n## WP03: C\n\n## WP04: D\nDepends on WP02\n",
        &[
            ("WP01-a.md", "", "`src/a/`"),
            ("WP02-b.md", "", "`src/b/`"),
            ("WP03-c.md", "", "`src/c/`"),
            ("WP04-d.md", "", "`src/d/`"),
        ],
    );
    finalize_refused(&env, &root, "finalize_error_cycle");
}

#[test]
fn reference_fixture_gets_the_reference_lanes_and_stays_unchanged() {
    let env = TestEnv::new();
    let root = env.project("p");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/taskgraph/001-dogfood-track2");
    let dest = root.join("kitty-specs/001-dogfood-track2");
    env.git(&root, &["init", "-q"]);
    copy_dir(&fixture, &dest);
    let before = snapshot(&dest);
    let v = env.json(&root, &finalize_tasks("dogfood-track2"));
    assert_eq!(
        v["lanes"]["lane_ids"],
        serde_json::json!(["lane-a", "lane-b", "lane-planning"])
    );
    assert_eq!(v["modified_wps"], serde_json::json!([]));
    // Only the derived status.json (left out of the fixture) appears.
    assert_eq!(
        changed(&snapshot(&dest), &before),
        vec![dest.join("status.json")]
    );

    // From scratch: lanes.json equals the reference's apart from computed_at.
    fs::remove_file(dest.join("lanes.json")).unwrap();
    env.json(&root, &finalize_tasks("001"));
    let strip = |p: &Path| {
        let mut v: serde_json::Value = serde_json::from_slice(&fs::read(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("computed_at");
        v
    };
    assert_eq!(
        strip(&dest.join("lanes.json")),
        strip(&fixture.join("lanes.json"))
    );
}

#[test]
fn planning_lane_idempotence_and_validate_only() {
    let env = TestEnv::new();
    let (root, dir) = mission(
        &env,
        "## WP01: Gamma\n**Requirement Refs**: FR-001\n- [ ] T001 build it\n\n## WP02: Notes\n**Requirement Refs**: FR-002\n\n## WP03: Delta\n**Requirement Refs**: FR-003\nDepends on WP02\n",
        &[
            ("WP01-gamma.md", "", "Create the `src/gamma/` package."),
            ("WP02-notes.md", "", "Write `kitty-specs/001-m/research.md` and keep plan.md consistent."),
            ("WP03-delta.md", "", "Create the `src/delta/` package."),
        ],
    );
    let before = snapshot(&dir);
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "m",
            "--validate-only",
            "--json",
        ],
    );
    assert_eq!(v["result"], "validation_passed");
    assert_eq!(v["would_modify"].as_array().unwrap().len(), 3);
    assert_eq!(
        changed(&snapshot(&dir), &before),
        Vec::<PathBuf>::new(),
        "--validate-only wrote something"
    );

    let v = env.json(&root, &finalize_tasks("m"));
    assert_eq!(v["bootstrap"]["newly_seeded"], 3);
    let lanes: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("lanes.json")).unwrap()).unwrap();
    let lanes = lanes["lanes"].as_array().unwrap();
    let by_id = |id: &str| lanes.iter().find(|l| l["lane_id"] == id).unwrap().clone();
    assert_eq!(
        by_id("lane-planning")["wp_ids"],
        serde_json::json!(["WP02"])
    );
    assert_eq!(by_id("lane-a")["wp_ids"], serde_json::json!(["WP01"]));
    // WP03 waits for the planning lane.
    assert_eq!(
        by_id("lane-b")["depends_on_lanes"],
        serde_json::json!(["lane-planning"])
    );
    assert_eq!(by_id("lane-b")["parallel_group"], 1);
    let wp1 = fs::read_to_string(dir.join("tasks/WP01-gamma.md")).unwrap();
    assert!(
        wp1.contains("subtasks:\n- T001") && wp1.contains("execution_mode: code_change"),
        "{wp1}"
    );

    let after_first = snapshot(&dir);
    let v = env.json(&root, &finalize_tasks("m"));
    assert_eq!(v["modified_wps"], serde_json::json!([]));
    assert_eq!(
        changed(&snapshot(&dir), &after_first),
        Vec::<PathBuf>::new(),
        "second run changed a file"
    );
}

#[test]
fn empty_mission_finalizes_cleanly() {
    let env = TestEnv::new();
    let root = env.project("p");
    env.json(
        &root,
        &["agent", "mission", "create", "dogfood-track7", "--json"],
    );
    let out = env.run(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "dogfood-track7",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Said once, as a warning on stderr; stdout stays empty.
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert_out!(
        env,
        "finalize_empty_mission",
        [
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "dogfood-track7"
        ],
        &out
    );
    let out = env.run(
        &root,
        &["agent", "tasks", "status", "--mission", "dogfood-track7"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!root
        .join("kitty-specs/001-dogfood-track7/lanes.json")
        .exists());
}

#[test]
fn list_dependents_and_mark_status() {
    let env = TestEnv::new();
    let (root, dir) = mission(
        &env,
        "## WP01: A\n- [ ] T001 one\n- [ ] T002 two\n\n## WP02: B\nDepends on WP01\n\n## WP03: C\nDepends on WP02\n",
        &[("WP01-a.md", "", "`src/a/`"), ("WP02-b.md", "", "`src/b/`"), ("WP03-c.md", "", "`src/c/`")],
    );
    env.json(&root, &finalize_tasks("m"));
    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "list-dependents",
            "WP01",
            "--mission",
            "m",
            "--json",
        ],
    );
    assert_eq!(v["direct_dependents"], serde_json::json!(["WP02"]));
    assert_eq!(v["all_dependents"], serde_json::json!(["WP02", "WP03"]));
    assert_eq!(v["dependents"], serde_json::json!(["WP02"]));
    // Human output: one id a line, direct only unless --all.
    let deps = |extra: &[&str]| {
        let mut args = vec![
            "agent",
            "tasks",
            "list-dependents",
            "wp01",
            "--mission",
            "m",
        ];
        args.extend_from_slice(extra);
        let o = env.run(&root, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(deps(&[]), "WP02\n");
    assert_eq!(deps(&["--all"]), "WP02\nWP03\n");
    let o = env.run(
        &root,
        &[
            "agent",
            "tasks",
            "list-dependents",
            "WP03",
            "--mission",
            "m",
        ],
    );
    assert_eq!(stdout(&o), "nothing depends on WP03\n");
    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "mark-status",
            "T002",
            "T009",
            "--status",
            "done",
            "--mission",
            "m",
            "--json",
        ],
    );
    assert_eq!(v["updated"], serde_json::json!(["T002"]));
    assert_eq!(v["not_found"], serde_json::json!(["T009"]));
    let tasks = fs::read_to_string(dir.join("tasks.md")).unwrap();
    assert!(tasks.contains("- [ ] T001 one\n- [x] T002 two"), "{tasks}");
}

#[test]
fn validate_workflow_reports_without_writing() {
    let env = TestEnv::new();
    let (root, dir) = mission(
        &env,
        "## WP01: Alpha\n**Requirement Refs**: FR-001\n- [ ] T001 build it\n\n## WP02: Beta\n**Requirement Refs**: FR-002\nDepends on WP01\n\n## WP03: Gamma\n**Requirement Refs**: FR-003\n",
        &[
            ("WP01-alpha.md", "", "Create `src/alpha/`."),
            ("WP02-beta.md", "", "Create `src/beta/`."),
            ("WP03-gamma.md", "", "Create `src/gamma/`."),
        ],
    );
    let validate = |args: &[&str]| {
        let mut all = vec!["agent", "tasks", "validate-workflow"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--mission", "m", "--json"]);
        env.run(&root, &all)
    };
    let parse = |o: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout).expect("one JSON object on stdout")
    };

    // Not finalized yet: valid structure, but it says finalize-tasks is due.
    let before = snapshot(&dir);
    let o = validate(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = parse(&o);
    assert_eq!(v["valid"], true);
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("finalize-tasks would still update WP01, WP02, WP03"),
        "{warnings}"
    );
    assert!(warnings.contains("lanes.json is missing"), "{warnings}");
    assert!(
        changed(&snapshot(&dir), &before).is_empty(),
        "validate wrote files"
    );

    env.json(&root, &finalize_tasks("m"));
    let v = parse(&validate(&[]));
    assert_eq!(v["valid"], true);
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert_eq!(v["work_packages"].as_array().unwrap().len(), 3);

    // WP02 forced to in_progress while WP01 is planned: a workflow error.
    let o = env.run(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "in_progress",
            "--mission",
            "m",
            "--agent",
            "codex",
            "--force",
            "--reason",
            "test",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = snapshot(&dir);
    let o = validate(&["wp02"]);
    assert_eq!(o.status.code(), Some(1));
    let v = parse(&o);
    assert_eq!(v["result"], "failure");
    assert_eq!(v["valid"], false);
    assert_eq!(v["work_packages"][0]["id"], "WP02");
    assert_eq!(
        v["work_packages"][0]["errors"][0],
        "WP02 is in_progress but its dependency WP01 is still planned"
    );
    // The other WPs are fine on their own.
    assert!(validate(&["WP03"]).status.success());
    assert!(
        changed(&snapshot(&dir), &before).is_empty(),
        "validate wrote files"
    );

    // Approved with an unticked subtask: a warning naming the subtask and the fix.
    for lane in [
        "claimed",
        "in_progress",
        "for_review",
        "in_review",
        "approved",
    ] {
        let o = env.run(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                lane,
                "--mission",
                "m",
                "--agent",
                "codex",
                "--force",
                "--reason",
                "test",
            ],
        );
        assert!(o.status.success(), "{lane}: {}", stderr(&o));
    }
    let v = parse(&validate(&["WP01"]));
    let w = v["work_packages"][0]["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("unticked subtasks T001") && w.contains("mark-status T001"),
        "{w}"
    );

    // Human output names the failing WP and exits 1; an unknown WP lists the known ones.
    let o = env.run(
        &root,
        &["agent", "tasks", "validate-workflow", "--mission", "m"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = assert_run!(
        env,
        &root,
        "validate_workflow_unknown_wp",
        [
            "agent",
            "tasks",
            "validate-workflow",
            "WP09",
            "--mission",
            "m",
        ]
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn validate_workflow_turns_structural_errors_into_findings() {
    let env = TestEnv::new();
    let (root, dir) = mission(
        &env,
        "## WP01: Alpha\n**Requirement Refs**: FR-001\nDepends on WP02\n\n## WP02: Beta\n**Requirement Refs**: FR-002\nDepends on WP01\n",
        &[
            ("WP01-alpha.md", "", "Create `src/alpha/`."),
            ("WP02-beta.md", "", "Create `src/beta/`."),
        ],
    );
    let before = snapshot(&dir);
    let o = assert_run!(
        env,
        &root,
        "validate_workflow_cycle",
        ["agent", "tasks", "validate-workflow", "--mission", "m"]
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(changed(&snapshot(&dir), &before).is_empty());
}
