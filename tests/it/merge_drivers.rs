//! Mission state in git, one clone at a time: the event-log merge driver
//! against the reference's own output, driver registration, auto_commit,
//! `agent mission record`, `repair-status`, concurrent transitions in
//! validate-workflow, and the instruction before the first code lane.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::flow::{action, move_task};
use crate::common::snap::{assert_out, assert_run};
use crate::common::{stderr, write, TestEnv, WpDef};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/event-log-merge")
        .join(name)
}

#[test]
fn event_log_driver_writes_the_references_bytes() {
    let env = TestEnv::new();
    let dir = env.work.join("d");
    fs::create_dir_all(&dir).unwrap();
    for f in [
        "base.jsonl",
        "ours.jsonl",
        "theirs.jsonl",
        "conflict-theirs.jsonl",
    ] {
        fs::copy(fixture(f), dir.join(f)).unwrap();
    }
    let expected = fs::read(fixture("expected.jsonl")).unwrap();
    env.ok(
        &dir,
        &[
            "merge-driver-event-log",
            "base.jsonl",
            "ours.jsonl",
            "theirs.jsonl",
        ],
    );
    assert_eq!(
        String::from_utf8(fs::read(dir.join("ours.jsonl")).unwrap()).unwrap(),
        String::from_utf8(expected.clone()).unwrap()
    );
    // The other way round gives the same bytes, and merging again changes nothing.
    fs::copy(fixture("theirs.jsonl"), dir.join("t2.jsonl")).unwrap();
    env.ok(
        &dir,
        &[
            "merge-driver-event-log",
            "base.jsonl",
            "t2.jsonl",
            "ours.jsonl",
        ],
    );
    assert_eq!(fs::read(dir.join("t2.jsonl")).unwrap(), expected);
    env.ok(
        &dir,
        &["merge-driver-event-log", "t2.jsonl", "t2.jsonl", "t2.jsonl"],
    );
    assert_eq!(fs::read(dir.join("t2.jsonl")).unwrap(), expected);

    // The same id with another payload: exit 1, OURS untouched (as the reference).
    fs::copy(fixture("ours.jsonl"), dir.join("o.jsonl")).unwrap();
    let out = assert_run!(
        env,
        &dir,
        "event_log_same_id_other_payload",
        [
            "merge-driver-event-log",
            "base.jsonl",
            "o.jsonl",
            "conflict-theirs.jsonl",
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    // The snapshot filters ids; the message names this one.
    let err = stderr(&out);
    assert!(err.contains("01KNS00000000000000000000A"), "{err}");
    assert_eq!(
        fs::read(dir.join("o.jsonl")).unwrap(),
        fs::read(fixture("ours.jsonl")).unwrap()
    );
    // A missing side (file added on both branches) is an empty log.
    fs::copy(fixture("ours.jsonl"), dir.join("o.jsonl")).unwrap();
    env.ok(
        &dir,
        &[
            "merge-driver-event-log",
            "absent",
            "o.jsonl",
            "theirs.jsonl",
        ],
    );
    assert_eq!(fs::read(dir.join("o.jsonl")).unwrap(), expected);
}

#[test]
fn init_in_a_git_repository_registers_the_drivers_once() {
    let env = TestEnv::new();
    let dir = env.work.join("p");
    fs::create_dir_all(&dir).unwrap();
    env.git(&dir, &["init", "-q"]);
    let init = ["init", ".", "--ai", "codex", "--non-interactive"];
    let out = assert_run!(env, &dir, "init_registers_the_drivers", init);
    assert!(out.status.success());
    let cfg = env.git(&dir, &["config", "--local", "--get-regexp", "^merge\\."]);
    let dc = crate::common::driver_command;
    for line in [
        "merge.spec-kitty-event-log.name Spec Kitty event log union merge".to_string(),
        format!(
            "merge.spec-kitty-event-log.driver {}",
            crate::common::event_log_driver_command()
        ),
        format!(
            "merge.spec-kitty-status-json.driver {}",
            dc("merge-driver-status-json %O %A %B %P")
        ),
        format!(
            "merge.spec-kitty-wp.driver {}",
            dc("merge-driver-wp %O %A %B %P")
        ),
    ] {
        assert!(
            cfg.lines().any(|l| l == line),
            "{line} missing from:\n{cfg}"
        );
    }
    let attrs = fs::read_to_string(dir.join(".gitattributes")).unwrap();
    assert_eq!(
        attrs,
        "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n\
         kitty-specs/**/status.json merge=spec-kitty-status-json\n\
         kitty-specs/**/tasks/WP*.md merge=spec-kitty-wp\n"
    );
    let again = assert_run!(env, &dir, "init_again_registers_nothing", init);
    assert!(again.status.success());
    // Nothing was committed and git has no commit at all.
    assert!(env.git(&dir, &["rev-list", "--all"]).trim().is_empty());

    // A clone has no drivers: the first state-writing command registers them
    // and says so, once; read-only commands do not.
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    // (create and finalize-tasks registered them; a fresh clone has none)
    for d in [
        "spec-kitty-event-log",
        "spec-kitty-status-json",
        "spec-kitty-wp",
    ] {
        env.git(
            &root,
            &[
                "config",
                "--local",
                "--remove-section",
                &format!("merge.{d}"),
            ],
        );
    }
    let read = env
        .sk(&root, &["agent", "tasks", "status", "--mission", "demo"])
        .output()
        .unwrap();
    assert!(!stderr(&read).contains("registered"), "{}", stderr(&read));
    let first = env
        .sk(
            &root,
            &[
                "agent",
                "tasks",
                "add-history",
                "WP01",
                "--mission",
                &m.slug,
                "--note",
                "hi",
            ],
        )
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert_out!(
        env,
        "first_write_registers_the_drivers",
        [
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--mission",
            &m.slug,
            "--note",
            "hi",
        ],
        &first
    );
    let second = env
        .sk(
            &root,
            &[
                "agent",
                "tasks",
                "add-history",
                "WP01",
                "--mission",
                &m.slug,
                "--note",
                "ho",
            ],
        )
        .output()
        .unwrap();
    assert!(
        !stderr(&second).contains("registered"),
        "{}",
        stderr(&second)
    );
}

fn enable_auto_commit(env: &TestEnv, root: &Path) {
    let cfg = root.join(".kittify/config.yaml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(&cfg, format!("{text}  auto_commit: true\n")).unwrap();
    env.git(root, &["add", "-A"]);
    env.git(root, &["commit", "-qm", "enable auto_commit"]);
}

fn head(env: &TestEnv, root: &Path) -> String {
    env.git(root, &["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn auto_commit_commits_exactly_what_the_command_changed() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::planning(
        "WP01",
        "Notes",
        "kitty-specs/{slug}/notes.md",
        &[],
    )]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    // Default: a move commits nothing.
    let before = head(&env, &root);
    env.ok(&root, &move_task("WP01", "claimed", &[], "demo"));
    assert_eq!(head(&env, &root), before);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "state"]);

    enable_auto_commit(&env, &root);
    // The user's own edits, inside the mission and outside it, stay theirs.
    fs::write(m.dir.join("spec.md"), "# Spec\n\nedited by hand\n").unwrap();
    fs::write(root.join("README.md"), "edited\n").unwrap();
    let before = head(&env, &root);
    let out = env
        .sk(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                "in_progress",
                "--mission",
                "demo",
            ],
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_out!(
        env,
        "auto_commit_committed",
        [
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "in_progress",
            "--mission",
            "demo",
        ],
        &out
    );
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^"]).trim(), before);
    assert_eq!(
        env.git(&root, &["log", "-1", "--format=%s"]).trim(),
        "spec-kitty agent tasks move-task WP01 (001-demo)"
    );
    let files = env.git(&root, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        files,
        "kitty-specs/001-demo/status.events.jsonl\nkitty-specs/001-demo/status.json\nkitty-specs/001-demo/tasks/WP01-notes.md\n"
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain"]),
        " M README.md\n M kitty-specs/001-demo/spec.md\n"
    );

    // Other files staged: nothing is committed, and the command says why
    // and fails (its own change stands; the commit did not happen).
    env.git(&root, &["add", "README.md"]);
    let before = head(&env, &root);
    let out = env
        .sk(
            &root,
            &[
                "agent",
                "tasks",
                "add-history",
                "WP01",
                "--mission",
                "demo",
                "--note",
                "n",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_out!(
        env,
        "auto_commit_other_files_staged",
        [
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--mission",
            "demo",
            "--note",
            "n",
        ],
        &out
    );
    assert_eq!(head(&env, &root), before);
    assert_eq!(
        env.git(&root, &["status", "--porcelain"]),
        "M  README.md\n M kitty-specs/001-demo/spec.md\n M kitty-specs/001-demo/tasks/WP01-notes.md\n"
    );
}

#[test]
fn record_commits_the_missions_own_files_and_nothing_else() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    fs::write(root.join("README.md"), "edited\n").unwrap();
    fs::write(root.join("scratch.txt"), "mine\n").unwrap();
    let before = head(&env, &root);
    let v = env.json(
        &root,
        &["agent", "mission", "record", "--mission", "demo", "--json"],
    );
    assert_eq!(v["branch"], "main");
    assert!(v["commit"].is_string(), "{v}");
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^"]).trim(), before);
    let files = env.git(&root, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(files.lines().count() >= 6, "{files}");
    assert!(
        files
            .lines()
            .all(|f| f.starts_with("kitty-specs/001-demo/")),
        "{files}"
    );
    assert_eq!(
        env.git(&root, &["log", "-1", "--format=%s"]).trim(),
        "Record mission 001-demo state"
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain"]),
        " M README.md\n?? scratch.txt\n"
    );
    // Nothing new: no commit.
    let v = env.json(
        &root,
        &["agent", "mission", "record", "--mission", "demo", "--json"],
    );
    assert_eq!(v["commit"], Value::Null);
    // A staged file elsewhere: refused, nothing committed.
    env.ok(
        &root,
        &[
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--mission",
            &m.slug,
            "--note",
            "n",
        ],
    );
    env.git(&root, &["add", "scratch.txt"]);
    let h = head(&env, &root);
    let out = assert_run!(
        env,
        &root,
        "record_other_files_staged",
        ["agent", "mission", "record", "--mission", "demo"]
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(head(&env, &root), h);
}

/// The log's lines and events of a mission.
fn events(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join("status.events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn repair_status_mends_a_text_merged_log_and_validate_reports_the_race() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "Cli", "src/cli/**", &[]),
    ]);
    env.ok(&root, &move_task("WP01", "claimed", &[], "demo"));
    let log_path = m.dir.join("status.events.jsonl");
    let text = fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // What a text merge of two clones that both moved WP01 out of planned leaves.
    let mut theirs: Value = serde_json::from_str(lines[2]).unwrap();
    theirs["event_id"] = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ".into();
    theirs["to_lane"] = "blocked".into();
    // The same moment, a later id: it sorts right after ours.
    let broken = format!(
        "{}\n{}\n<<<<<<< HEAD\n{}\n=======\n{}\n{}\n>>>>>>> origin/main\n",
        lines[0],
        lines[1],
        lines[2],
        serde_json::to_string(&theirs).unwrap(),
        lines[1]
    );
    fs::write(&log_path, &broken).unwrap();

    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "repair-status",
            "--mission",
            "demo",
            "--json",
        ],
    );
    assert_eq!(v["markers_dropped"], 3, "{v}");
    assert_eq!(v["duplicates_dropped"], 1, "{v}");
    assert_eq!(v["events"], 4, "{v}");
    let repaired = fs::read_to_string(&log_path).unwrap();
    assert!(!repaired.contains("<<<<<<<") && !repaired.contains("======="));
    let ids: Vec<String> = events(&m.dir)
        .iter()
        .map(|e| e["event_id"].to_string())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len());
    // status.json is the reducer's output: materialize changes nothing.
    let snap = fs::read(m.dir.join("status.json")).unwrap();
    env.ok(&root, &["materialize", "--mission", "demo"]);
    assert_eq!(fs::read(m.dir.join("status.json")).unwrap(), snap);

    // Both clones moved WP01 out of planned: validate-workflow says so.
    let validate = ["agent", "tasks", "validate-workflow", "--mission", "demo"];
    let out = assert_run!(env, &root, "concurrent_transition", validate);
    assert_eq!(out.status.code(), Some(1));
    let said = crate::common::stdout(&out);
    assert!(
        said.contains("event 7ZZZZZZZZZZZZZZZZZZZZZZZZZ moves it"),
        "{said}"
    );
    // A forced move settles it.
    env.ok(
        &root,
        &move_task(
            "WP01",
            "claimed",
            &["--force", "--reason", "agreed"],
            "demo",
        ),
    );
    let out = assert_run!(env, &root, "concurrent_transition_settled", validate);
    assert!(out.status.success());
}

#[test]
fn implement_stops_before_the_first_code_lane_when_project_files_were_never_committed() {
    let env = TestEnv::new();
    let root = env.work.join("p");
    fs::create_dir_all(&root).unwrap();
    env.git(&root, &["init", "-q"]);
    write(&root.join("README.md"), "demo\n");
    env.git(&root, &["add", "README.md"]);
    env.git(&root, &["commit", "-qm", "initial"]);
    env.ok(&root, &["init", ".", "--ai", "codex", "--non-interactive"]);
    let m = env.create_mission(&root, "demo");
    crate::common::write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );

    let args = action("implement", "WP01", "codex");
    let out = assert_run!(env, &root, "implement_project_files_uncommitted", args);
    assert_eq!(out.status.code(), Some(1));
    assert!(!root.join(".worktrees").exists(), "no lane was created");

    // Project files committed, mission files not: it goes ahead and says so.
    env.git(&root, &["add", ".kittify", ".gitignore", ".gitattributes"]);
    env.git(&root, &["commit", "-qm", "spec-kitty project"]);
    let out = env.sk(&root, &args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_out!(
        env,
        "implement_mission_files_uncommitted",
        args,
        &crate::common::snap::summary(&out)
    );
    assert!(root.join(".worktrees/001-demo-lane-a").is_dir());
}
