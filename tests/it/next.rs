//! `spec-kitty next`: every state read off the mission's artifacts, the
//! decision JSON, `--result`, errors, and the end-to-end loop of issue 7.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::flow::{action, move_task, subtask_of, Flow};
use crate::common::snap::assert_run;
use crate::common::{
    spec_kitty_commands, stderr, stdout, three_wps, write, write_mission, TestEnv,
};

/// The keys of a decision, in the order of the reference's schema (section 6.5).
const SCHEMA_KEYS: [&str; 24] = [
    "kind",
    "agent",
    "mission_slug",
    "mission_number",
    "mission_type",
    "mission",
    "mission_state",
    "timestamp",
    "action",
    "wp_id",
    "workspace_path",
    "prompt_file",
    "reason",
    "guard_failures",
    "progress",
    "origin",
    "run_id",
    "step_id",
    "decision_id",
    "input_key",
    "question",
    "options",
    "is_query",
    "preview_step",
];

fn state(d: &Value) -> (&str, &str) {
    (
        d["mission_state"].as_str().unwrap_or("?"),
        d["action"].as_str().unwrap_or("-"),
    )
}

/// Run a `spec-kitty ...` argument list as printed by a prompt or decision.
fn run_cmd(env: &TestEnv, dir: &Path, cmd: &[String], json: bool) -> String {
    let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
    if json {
        args.push("--json");
    }
    env.ok(dir, &args)
}

fn canon(p: impl AsRef<Path>) -> PathBuf {
    fs::canonicalize(p).unwrap()
}

/// Commit a file the code WP owns on its lane branch (WP02 `src/core/**`,
/// WP03 `src/cli/**` of the three-WP mission, both in lane-a).
fn build(env: &TestEnv, root: &Path, wp: &str) {
    let wt = root.join(".worktrees/001-demo-lane-a");
    let dir = if wp == "WP02" { "core" } else { "cli" };
    write(
        &wt.join(format!("src/{dir}/{}.rs", wp.to_lowercase())),
        "// work\n",
    );
    env.git(&wt, &["add", "-A"]);
    env.git(&wt, &["commit", "-qm", &format!("{wp}: work")]);
}

#[test]
fn every_state_is_read_from_the_artifacts() {
    let env = TestEnv::new();
    let root = env.project("p");
    let f = Flow::new(&env, &root, "demo");
    let m = env.create_mission(&root, "demo");

    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("specify", "specify"), "{d}");
    assert_eq!(d["kind"], "step");
    // The mission exists: the step never says to create it again.
    assert_eq!(d["slash_command"], Value::Null);
    // Always an object, as the reference's: zeros before any work package.
    assert_eq!(d["progress"]["total_wps"], 0, "{d}");
    assert_eq!(d["progress"]["weighted_percentage"], 0.0, "{d}");
    assert_eq!(d["wp_id"], Value::Null);
    // An empty spec.md is no spec either.
    fs::write(m.dir.join("spec.md"), "\n").unwrap();
    assert_eq!(state(&f.next("codex", &[])).0, "specify");

    write(&m.dir.join("spec.md"), "# Spec\n\nReal requirements.\n");
    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("plan", "plan"), "{d}");
    assert_eq!(d["slash_command"], "/spec-kitty.plan");
    // The untouched plan template is not a plan.
    env.ok(
        &root,
        &["agent", "mission", "setup-plan", "--mission", "demo"],
    );
    assert!(m.dir.join("plan.md").is_file());
    assert_eq!(state(&f.next("codex", &[])).0, "plan");

    write(&m.dir.join("plan.md"), "# Plan\n\nHow.\n");
    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("tasks", "tasks"), "{d}");
    assert_eq!(d["slash_command"], "/spec-kitty.tasks");
    // tasks.md alone (no WP files) is not enough.
    write(&m.dir.join("tasks.md"), "# Work Packages\n\n## WP01: A\n");
    assert_eq!(state(&f.next("codex", &[])).0, "tasks");

    write_mission(&m.dir, &m.slug, &three_wps());
    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("tasks_finalize", "tasks-finalize"), "{d}");
    assert_eq!(
        d["command"],
        "spec-kitty agent mission finalize-tasks --mission 001-demo"
    );
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );

    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("implement", "implement"), "{d}");
    assert_eq!(d["wp_id"], "WP01");
    assert_eq!(canon(d["workspace_path"].as_str().unwrap()), canon(&root));
    assert_eq!(
        d["command"],
        "spec-kitty agent action implement WP01 --mission 001-demo --agent codex"
    );
    assert_eq!(d["progress"]["total_wps"], 3);
    assert_eq!(d["progress"]["planned_wps"], 3);

    // `next` itself changes nothing: same answer, same files.
    let log = fs::read_to_string(m.dir.join("status.events.jsonl")).unwrap();
    let porcelain = env.git(&root, &["status", "--porcelain", "--untracked-files=all"]);
    for _ in 0..3 {
        assert_eq!(state(&f.next("codex", &[])), ("implement", "implement"));
    }
    assert_eq!(
        fs::read_to_string(m.dir.join("status.events.jsonl")).unwrap(),
        log
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain", "--untracked-files=all"]),
        porcelain
    );

    // Claimed by codex: codex is told to carry on; another agent must wait.
    env.ok(
        &root,
        &[
            "agent",
            "action",
            "implement",
            "--mission",
            "demo",
            "--agent",
            "codex",
        ],
    );
    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("implement", "implement"), "{d}");
    assert_eq!(d["wp_id"], "WP01");
    let d = f.next("claude", &[]);
    assert_eq!(d["kind"], "blocked", "{d}");
    assert_eq!(d["action"], Value::Null);
    assert!(d["reason"].as_str().unwrap().contains("WP01"), "{d}");

    f.tick(&subtask_of("WP01"));
    f.moved("WP01", "for_review", "codex");
    let d = f.next("claude", &[]);
    assert_eq!(state(&d), ("review", "review"), "{d}");
    assert_eq!(d["wp_id"], "WP01");
    assert_eq!(
        d["command"],
        "spec-kitty agent action review WP01 --mission 001-demo --agent claude"
    );
    env.ok(
        &root,
        &[
            "agent",
            "action",
            "review",
            "--mission",
            "demo",
            "--agent",
            "claude",
        ],
    );
    f.moved("WP01", "approved", "claude");

    let d = f.next("codex", &[]);
    assert_eq!(
        (d["action"].as_str(), d["wp_id"].as_str()),
        (Some("implement"), Some("WP02"))
    );
    assert_eq!(
        canon(&root).join(".worktrees/001-demo-lane-a"),
        PathBuf::from(d["workspace_path"].as_str().unwrap()),
        "{d}"
    );
    assert!(!root.join(".worktrees").exists(), "next allocates nothing");
    for wp in ["WP02", "WP03"] {
        env.ok(&root, &action("implement", wp, "codex"));
        f.tick(&subtask_of(wp));
        build(&env, &root, wp);
        f.moved(wp, "for_review", "codex");
        env.ok(&root, &action("review", wp, "claude"));
        f.moved(wp, "approved", "claude");
    }
    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("accept", "accept"), "{d}");
    assert_eq!(
        d["command"],
        "spec-kitty agent mission accept --mission 001-demo"
    );
    assert_eq!(d["progress"]["approved_wps"], 3);

    // Once accepted, the next step is the merge (forecast first).
    env.ok(&root, &["accept", "--mission", "demo"]);
    let d = f.next("codex", &[]);
    assert_eq!(state(&d), ("merge", "merge"), "{d}");
    assert_eq!(
        d["command"],
        "spec-kitty merge --mission 001-demo --dry-run"
    );
    assert_eq!(d["slash_command"], "/spec-kitty.merge");

    // done needs the approved work merged: move-task refuses, merge lands it.
    let out = assert_run!(
        env,
        &root,
        "done_before_merge",
        [
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "done",
            "--mission",
            "demo",
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission state"]);
    env.ok(&root, &["merge", "--mission", "demo"]);
    let d = f.next("codex", &[]);
    assert_eq!(d["kind"], "terminal", "{d}");
    assert_eq!(d["mission_state"], "done");
    assert_eq!(d["action"], Value::Null);
    assert_eq!(d["progress"]["done_wps"], 3);
    assert_eq!(d["progress"]["weighted_percentage"], 100.0);
}

#[test]
fn new_or_unplanned_work_packages_need_finalizing_again() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let f = Flow::new(&env, &root, "demo");
    assert_eq!(state(&f.next("a", &[])).0, "implement");
    // A WP file added after finalize-tasks has no dependencies and no lane yet.
    write(
        &m.dir.join("tasks/WP04-docs.md"),
        "---\nwork_package_id: WP04\ntitle: Docs\n---\n\nWrite `docs/guide.md`.\n",
    );
    let d = f.next("a", &[]);
    assert_eq!(state(&d).0, "tasks_finalize", "{d}");
    // One that declares dependencies but is in no lane of lanes.json: the same.
    write(
        &m.dir.join("tasks/WP04-docs.md"),
        "---\nwork_package_id: WP04\ntitle: Docs\ndependencies: []\n---\n\nWrite `docs/guide.md`.\n",
    );
    let d = f.next("a", &[]);
    assert_eq!(state(&d).0, "tasks_finalize", "{d}");
    fs::remove_file(m.dir.join("lanes.json")).unwrap();
    fs::remove_file(m.dir.join("tasks/WP04-docs.md")).unwrap();
    assert_eq!(state(&f.next("a", &[])).0, "tasks_finalize");
}

#[test]
fn decision_json_follows_the_reference_schema() {
    let env = TestEnv::new();
    let (root, _m) = env.three_wp_mission();
    let out = env.run(
        &root,
        &["next", "--agent", "codex", "--mission", "demo", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Exactly one JSON document: it parses as a whole and nothing else is printed.
    let d: Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(text.trim_start().chars().next(), Some('{'));
    assert_eq!(text.trim_end().chars().last(), Some('}'));
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(&keys[..SCHEMA_KEYS.len()], &SCHEMA_KEYS[..], "{keys:?}");
    assert_eq!(d["kind"], "step");
    assert_eq!(d["agent"], "codex");
    assert_eq!(d["mission_slug"], "001-demo");
    assert_eq!(d["mission_number"], "001");
    assert_eq!(d["mission_type"], "software-dev");
    assert_eq!(d["mission"], "software-dev");
    assert_eq!(d["mission_state"], "implement");
    assert_eq!(d["step_id"], "implement");
    assert_eq!(d["guard_failures"], serde_json::json!([]));
    assert_eq!(d["is_query"], true);
    let ts = d["timestamp"].as_str().unwrap();
    assert!(
        chrono_like(ts),
        "timestamp is ISO 8601 with microseconds and +00:00: {ts}"
    );
    let progress = d["progress"].as_object().unwrap();
    let pkeys: Vec<&str> = progress.keys().map(String::as_str).collect();
    assert_eq!(
        pkeys,
        [
            "total_wps",
            "done_wps",
            "approved_wps",
            "in_progress_wps",
            "planned_wps",
            "for_review_wps",
            "weighted_percentage"
        ]
    );
    let origin = d["origin"].as_object().unwrap();
    assert!(
        [
            "override",
            "legacy",
            "global_mission",
            "global",
            "package_default",
            "unknown"
        ]
        .contains(&origin["mission_tier"].as_str().unwrap()),
        "{origin:?}"
    );
    assert!(origin.contains_key("mission_path"));
    // The exact command is named alongside the schema.
    assert!(d["command"]
        .as_str()
        .unwrap()
        .starts_with("spec-kitty agent action implement WP01"));

    // Human form.
    let out = assert_run!(
        env,
        &root,
        "human_step",
        ["next", "--agent", "codex", "--mission", "demo"]
    );
    assert!(out.status.success());
}

fn chrono_like(ts: &str) -> bool {
    let b = ts.as_bytes();
    ts.len() == 32
        && ts.ends_with("+00:00")
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && ts[20..26].bytes().all(|c| c.is_ascii_digit())
}

#[test]
fn result_is_recorded_outside_tracked_files() {
    let env = TestEnv::new();
    let (root, _m) = env.three_wp_mission();
    let f = Flow::new(&env, &root, "demo");
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let d = f.next("codex", &[]);
    assert_eq!(d["recorded_result"], Value::Null);
    env.ok(
        &root,
        &[
            "agent",
            "action",
            "implement",
            "--mission",
            "demo",
            "--agent",
            "codex",
        ],
    );
    let d = f.next("codex", &["--result", "success"]);
    assert_eq!(d["recorded_result"], "success");
    assert_eq!(d["is_query"], false);
    let d = f.next("codex", &["--result", "blocked"]);
    assert_eq!(d["recorded_result"], "blocked");
    let log = fs::read_to_string(root.join(".git/spec-kitty/runs/001-demo.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| l.contains("\"result\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[0]["agent"], "codex");
    assert_eq!(lines[0]["result"], "success");
    assert_eq!(lines[1]["result"], "blocked");
    // The result is about the step the agent was given before: implement WP01.
    assert_eq!(lines[0]["step"], "implement", "{log}");
    assert_eq!(lines[0]["step_wp_id"], "WP01", "{log}");
    // Tracked files are untouched except the WP's own status and claim.
    let status = env.git(&root, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(!status.contains("runs"), "{status}");
    let out = env.run(&root, &["next", "--mission", "demo", "--result", "success"]);
    assert_eq!(out.status.code(), Some(2), "--result needs --agent");
    let out = env.run(
        &root,
        &[
            "next",
            "--agent",
            "a",
            "--mission",
            "demo",
            "--result",
            "maybe",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_missing_mission_is_an_error() {
    let env = TestEnv::new();
    let root = env.project("p");
    let out = env.run(
        &root,
        &["next", "--agent", "a", "--mission", "ghost", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["result"], "error", "{v}");
    assert!(v["error"].as_str().unwrap().contains("ghost"), "{v}");
    assert!(!stdout(&out).contains("unknown"), "{}", stdout(&out));
    env.create_mission(&root, "real");
    let out = assert_run!(
        env,
        &root,
        "missing_mission",
        ["next", "--agent", "a", "--mission", "ghost"]
    );
    assert_eq!(out.status.code(), Some(1));
    // Outside any project: also an error.
    let elsewhere = env.work.join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    env.refused(&elsewhere, &["next", "--agent", "a", "--mission", "real"]);
}

/// Issue 7, "Done when": a 3-WP mission (one planning WP, two dependent code WPs)
/// from create to all approved using only `next` and `agent action` (plus the
/// commands their prompts print), with real worktrees; then `agent mission
/// delete` refuses the unmerged lane work, `--force` removes everything, and the
/// tree is clean.
/// Drive mission `m` with `next --agent codex` and the commands it and the
/// prompts print, doing each step's work, until the decision `stop_at`
/// (`accept`) or the end (`done`: accept and merge included). Returns the
/// decisions seen and the number of lane commits made.
fn drive(
    env: &TestEnv,
    root: &Path,
    m: &crate::common::MissionInfo,
    stop_at: &str,
) -> (Vec<String>, usize) {
    let wps = three_wps();
    let f = Flow::new(env, root, "demo");
    let mut result: Option<&str> = None;
    let mut log = Vec::new();
    let mut lane_commits = 0;
    for _ in 0..40 {
        let mut extra = vec![];
        if let Some(r) = result {
            extra = vec!["--result", r];
        }
        let mut d = f.next("codex", &extra);
        // codex never reviews its own work: while it waits, claude reviews.
        if d["kind"] == "blocked" {
            d = f.next("claude", &[]);
        }
        result = Some("success");
        let action = d["action"].as_str().unwrap_or("").to_string();
        log.push(format!("{} {}", action, d["wp_id"]));
        let command: Option<Vec<String>> = d["command"]
            .as_str()
            .and_then(|c| spec_kitty_commands(c).into_iter().next());
        // Every step names its prompt file and a command (the terminal
        // answer is not a step).
        assert!(
            d["kind"] == "terminal" || (d["prompt_file"].is_string() && d["command"].is_string()),
            "{d}"
        );
        match action.as_str() {
            "specify" => write(
                &m.dir.join("spec.md"),
                "# Spec\n\n| FR-001 | research |\n| FR-002 | core |\n| FR-003 | cli |\n",
            ),
            "plan" => write(
                &m.dir.join("plan.md"),
                "# Plan\n\nTwo code lanes after research.\n",
            ),
            "tasks" => write_mission(&m.dir, &m.slug, &wps),
            "tasks-finalize" => {
                run_cmd(env, root, command.as_ref().unwrap(), false);
            }
            "implement" => {
                let v: Value =
                    serde_json::from_str(&run_cmd(env, root, command.as_ref().unwrap(), true))
                        .unwrap();
                let ws = PathBuf::from(v["workspace"].as_str().unwrap());
                assert_eq!(canon(&ws), canon(d["workspace_path"].as_str().unwrap()));
                let wp = v["wp_id"].as_str().unwrap();
                if v["branch"].is_null() {
                    assert_eq!(canon(&ws), canon(root), "{v}");
                    write(&m.dir.join("research.md"), "Findings.\n");
                } else {
                    assert_eq!(canon(&ws), canon(root.join(".worktrees/001-demo-lane-a")));
                    let dir = if wp == "WP02" { "core" } else { "cli" };
                    write(&ws.join(format!("src/{dir}/mod.rs")), &format!("// {wp}\n"));
                    env.git(&ws, &["add", "-A"]);
                    env.git(&ws, &["commit", "-qm", wp]);
                    lane_commits += 1;
                }
                // Do what the prompt says when done, from the workspace.
                let done: Vec<Vec<String>> = spec_kitty_commands(v["prompt"].as_str().unwrap())
                    .into_iter()
                    .filter(|c| c.iter().any(|w| w == "mark-status" || w == "move-task"))
                    .collect();
                assert_eq!(done.len(), 2, "{}", v["prompt"]);
                for c in &done {
                    run_cmd(env, &ws, c, false);
                }
            }
            "review" => {
                let v: Value =
                    serde_json::from_str(&run_cmd(env, root, command.as_ref().unwrap(), true))
                        .unwrap();
                let wp = v["wp_id"].as_str().unwrap();
                let prompt = v["prompt"].as_str().unwrap();
                if wp != "WP01" {
                    assert!(prompt.contains(&format!("+// {wp}")), "{prompt}");
                }
                let approve: Vec<String> = spec_kitty_commands(prompt)
                    .into_iter()
                    .find(|c| c.iter().any(|w| w == "approved"))
                    .unwrap();
                run_cmd(env, root, &approve, false);
            }
            "accept" if stop_at == "accept" => break,
            "accept" => {
                run_cmd(env, root, command.as_ref().unwrap(), false);
            }
            "merge" => {
                // The printed command is the forecast; then the merge itself.
                let dry = command.as_ref().unwrap();
                assert!(dry.iter().any(|w| w == "--dry-run"), "{dry:?}");
                run_cmd(env, root, dry, false);
                let real: Vec<String> = dry.iter().filter(|w| *w != "--dry-run").cloned().collect();
                run_cmd(env, root, &real, false);
            }
            "" if d["kind"] == "terminal" => break,
            other => panic!("unexpected decision {other:?}: {d}\nso far: {log:?}"),
        }
    }
    (log, lane_commits)
}

#[test]
fn three_wp_mission_end_to_end() {
    let env = TestEnv::new();
    let root = env.project("p");
    let before = env.git_state(&root);
    let m = env.create_mission(&root, "demo");
    let (log, lane_commits) = drive(&env, &root, &m, "accept");
    assert_eq!(
        log,
        [
            "specify null",
            "plan null",
            "tasks null",
            "tasks-finalize null",
            "implement \"WP01\"",
            "review \"WP01\"",
            "implement \"WP02\"",
            "review \"WP02\"",
            "implement \"WP03\"",
            "review \"WP03\"",
            "accept null",
        ]
    );
    assert_eq!(lane_commits, 2);
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", "demo", "--json"],
    );
    for w in board["work_packages"].as_array().unwrap() {
        assert_eq!(w["lane"], "approved", "{board}");
    }
    assert!(!root.join(".worktrees/001-demo-lane-planning").exists());
    assert_eq!(
        env.git_state(&root),
        before,
        "HEAD, branch and index untouched"
    );

    // Delete: refused while lane-a holds unmerged commits, then forced.
    let out = assert_run!(
        env,
        &root,
        "delete_refused_unmerged_lane",
        ["agent", "mission", "delete", "demo"]
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(m.dir.is_dir());
    let v = env.json(
        &root,
        &["agent", "mission", "delete", "demo", "--force", "--json"],
    );
    assert_eq!(v["result"], "success", "{v}");
    assert!(!m.dir.exists());
    assert!(!root.join(".worktrees").exists());
    assert_eq!(
        env.git(&root, &["branch", "--list", "kitty/*"]),
        "",
        "lane branches removed"
    );
    assert_eq!(
        env.git(&root, &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert_eq!(
        env.git(
            &root,
            &[
                "status",
                "--porcelain",
                "--untracked-files=all",
                "--ignored"
            ]
        ),
        "",
        "the tree is clean"
    );
    assert_eq!(env.git_state(&root), before);
    assert!(env.home_files().is_empty(), "{:?}", env.home_files());
}

#[test]
fn claimed_work_stays_with_its_agent() {
    let env = TestEnv::new();
    let (root, _m) = env.three_wp_mission();
    let f = Flow::new(&env, &root, "demo");
    env.ok(
        &root,
        &[
            "agent",
            "action",
            "implement",
            "--mission",
            "demo",
            "--agent",
            "codex",
        ],
    );
    f.tick(&subtask_of("WP01"));
    f.moved("WP01", "for_review", "codex");
    env.ok(
        &root,
        &[
            "agent",
            "action",
            "review",
            "--mission",
            "demo",
            "--agent",
            "claude",
        ],
    );
    // The reviewer is told to finish the review; the implementer waits.
    let d = f.next("claude", &[]);
    assert_eq!(
        (state(&d).1, d["wp_id"].as_str()),
        ("review", Some("WP01")),
        "{d}"
    );
    assert_eq!(f.next("codex", &[])["kind"], "blocked");
    // Sent back to in_progress by the reviewer: the implementer carries on, not the reviewer.
    env.ok(
        &root,
        &move_task(
            "WP01",
            "in_progress",
            &["--agent", "claude", "--review-feedback", "add the sources"],
            "demo",
        ),
    );
    let d = f.next("codex", &[]);
    assert_eq!(
        (state(&d).1, d["wp_id"].as_str()),
        ("implement", Some("WP01")),
        "{d}"
    );
    assert!(d["reason"].as_str().unwrap().contains("codex"), "{d}");
    let d = f.next("claude", &[]);
    assert_eq!(d["kind"], "blocked", "{d}");
    // Without --agent nobody owns anything: the mission waits.
    let v: Value =
        serde_json::from_str(&env.ok(&root, &["next", "--mission", "demo", "--json"])).unwrap();
    assert_eq!(v["kind"], "blocked", "{v}");
    assert!(
        v["command"]
            .as_str()
            .unwrap()
            .contains("agent tasks status"),
        "{v}"
    );
}

#[test]
fn without_git_the_run_log_goes_to_the_ignored_runtime_dir() {
    let env = TestEnv::new();
    let root = env.work.join("nogit");
    let f = Flow::new(&env, &root, "demo");
    fs::create_dir_all(&root).unwrap();
    env.ok(&root, &["init", ".", "--ai", "codex", "--non-interactive"]);
    let gitignore = fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(
        gitignore.lines().any(|l| l == ".kittify/runtime/"),
        "{gitignore}"
    );
    env.create_mission(&root, "demo");
    let d = f.next("codex", &["--result", "failed"]);
    assert_eq!(d["action"], "specify");
    let log = fs::read_to_string(root.join(".kittify/runtime/next/001-demo.jsonl")).unwrap();
    assert!(log.contains("\"result\": \"failed\""), "{log}");
    assert!(!root.join(".kittify/.runtime").exists());
}

#[test]
fn three_wp_mission_from_next_to_merge_ends_with_a_clean_recorded_tree() {
    let env = TestEnv::new();
    let root = env.project("p");
    let f = Flow::new(&env, &root, "demo");
    let m = env.create_mission(&root, "demo");
    let (log, lane_commits) = drive(&env, &root, &m, "done");
    assert_eq!(lane_commits, 2);
    assert_eq!(
        &log[log.len() - 3..],
        ["accept null", "merge null", " null"]
    );
    // No manual `git add` anywhere: the merge recorded the mission itself.
    crate::common::assert_recorded(&env, &root, "main", &m.slug);
    assert_eq!(
        env.git(&root, &["show", "main:src/core/mod.rs"]),
        "// WP02\n"
    );
    assert!(env
        .git(
            &root,
            &[
                "ls-tree",
                "-r",
                "--name-only",
                "main",
                "kitty-specs/001-demo/"
            ]
        )
        .contains("kitty-specs/001-demo/research.md"));
    let d = f.next("codex", &[]);
    assert_eq!(d["kind"], "terminal", "{d}");
    assert!(env.home_files().is_empty(), "{:?}", env.home_files());
}

/// The `git-hash:<file>` steps of one run of `next` (each a blob hash of a
/// working-tree file: `SPEC_KITTY_TEST_CRASH_TRACE`), and its decision.
fn next_hashes(env: &TestEnv, root: &Path, slug: &str, file: &str) -> (usize, Value) {
    let args = ["next", "--json", "--agent", "a", "--mission", slug];
    let (steps, out) = env.traced(root, &args);
    let decision = serde_json::from_slice(&out.stdout).unwrap();
    (crate::common::steps_of(&steps, "git-hash", file), decision)
}

/// A committed status log whose ctime alone moved (a chmod, a hard link: the
/// index's stat data no longer matches, libgit2 does not refresh it) is
/// hashed by the first `next`, not by the ones after it (its blob id is
/// remembered by its stat data); a real change of its content is still seen.
#[test]
fn a_ctime_only_change_of_the_log_is_hashed_once() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(&m.dir, &m.slug, &three_wps());
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    // A log long enough to be remembered (256 KiB): old forced events of
    // WP01 before the finalize bootstrap, which still decides every lane.
    let log = m.dir.join("status.events.jsonl");
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!(
            "{{\"actor\": \"bench\", \"at\": \"2026-01-01T00:00:00.{i:06}+00:00\", \"event_id\": \"01AB{i:022}\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": true, \"from_lane\": \"planned\", \"mission_slug\": \"{slug}\", \"policy_metadata\": null, \"reason\": \"padding the log to a size worth remembering\", \"review_ref\": null, \"to_lane\": \"planned\", \"wp_id\": \"WP01\"}}\n",
            slug = m.slug
        ));
    }
    text.push_str(&fs::read_to_string(&log).unwrap());
    assert!(text.len() > 300_000);
    fs::write(&log, &text).unwrap();
    env.ok(&root, &["agent", "tasks", "status", "--mission", &m.slug]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let name = "status.events.jsonl";
    let (_, first) = next_hashes(&env, &root, &m.slug, name);
    assert_eq!(first["action"], "implement", "{first}");
    let committed_note = |d: &Value| d.to_string().contains("not committed on");
    assert!(!committed_note(&first), "{first}");

    // Only the ctime moves: hashed once, then remembered.
    fs::set_permissions(&log, fs::Permissions::from_mode(0o600)).unwrap();
    let (hashed, d) = next_hashes(&env, &root, &m.slug, name);
    assert_eq!(hashed, 1, "the first call after the chmod hashes the log");
    assert!(!committed_note(&d), "{d}");
    for _ in 0..2 {
        let (hashed, d) = next_hashes(&env, &root, &m.slug, name);
        assert_eq!(hashed, 0, "a later call does not hash it again");
        assert!(!committed_note(&d), "{d}");
    }
    fs::hard_link(&log, env.work.join("a-link")).unwrap();
    assert_eq!(next_hashes(&env, &root, &m.slug, name).0, 1);
    assert_eq!(next_hashes(&env, &root, &m.slug, name).0, 0);

    // A real change of the content (same length, same mtime as before) is
    // hashed and seen: the ctime and the memo's racy-clean rule catch it.
    let before = fs::metadata(&log).unwrap().modified().unwrap();
    fs::write(&log, text.replacen("padding the log", "PADDING the log", 1)).unwrap();
    fs::File::options()
        .write(true)
        .open(&log)
        .unwrap()
        .set_modified(before)
        .unwrap();
    let (hashed, d) = next_hashes(&env, &root, &m.slug, name);
    assert_eq!(hashed, 1);
    assert!(committed_note(&d), "the changed log is not committed: {d}");
    // A corrupt memo is no memo: the file is hashed, the answer the same.
    let memo = root.join(".git/spec-kitty/hash-memo");
    assert!(memo.is_file());
    fs::write(&memo, "garbage\n\0 1 2 3\n").unwrap();
    let (hashed, d) = next_hashes(&env, &root, &m.slug, name);
    assert_eq!(hashed, 1);
    assert!(committed_note(&d), "{d}");
}

// ---- The run log's memo: `next` parses only what was appended since the
// last call; the memo beside the log is derived and never trusted over it.

/// A decision line as `next` writes it, for `agent` at `state` on `wp`.
fn decision_line(agent: &str, state: &str, wp: &str) -> String {
    format!(
        "{{\"action\": \"implement\", \"agent\": \"{agent}\", \"at\": \"2026-01-01T00:00:00.000000+00:00\", \"event\": \"decision\", \"kind\": \"step\", \"mission_state\": \"{state}\", \"wp_id\": \"{wp}\"}}\n"
    )
}

/// `n` decisions of agent `filler`: enough log (over 8 KiB at 100) for a
/// memo to be written.
fn filler(n: usize) -> String {
    decision_line("filler", "fill", "WP00").repeat(n)
}

/// A finalized one-WP mission, its run log and the memo beside it.
fn run_log_mission(env: &TestEnv) -> (PathBuf, String, PathBuf, PathBuf) {
    let (root, m) = env.one_wp_mission();
    let dir = root.join(".git/spec-kitty/runs");
    fs::create_dir_all(&dir).unwrap();
    let log = dir.join(format!("{}.jsonl", m.slug));
    let memo = dir.join(format!("{}.memo.json", m.slug));
    (root, m.slug, log, memo)
}

/// `next --agent AGENT --json` (with `--result success` when `result`):
/// the step fields of the result line it recorded (when it recorded one)
/// and the run-log lines its warnings name, in order.
fn next_on_log(
    env: &TestEnv,
    root: &Path,
    slug: &str,
    agent: &str,
    result: bool,
) -> (Value, Vec<String>) {
    let mut args = vec!["next", "--agent", agent, "--mission", slug, "--json"];
    if result {
        args.extend(["--result", "success"]);
    }
    let before =
        fs::read(root.join(format!(".git/spec-kitty/runs/{slug}.jsonl"))).unwrap_or_default();
    let out = env.run(root, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = fs::read(root.join(format!(".git/spec-kitty/runs/{slug}.jsonl"))).unwrap();
    assert!(after.starts_with(&before), "append-only");
    let new = String::from_utf8_lossy(&after[before.len()..]).into_owned();
    let step = new
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "result")
        .map(|v| json_step(&v))
        .unwrap_or(Value::Null);
    let warned = stderr(&out)
        .lines()
        .filter_map(|l| {
            let at = l.find(".jsonl:")? + ".jsonl:".len();
            let rest = l.get(at..)?;
            Some(
                rest.strip_suffix("; the line is kept as it is")
                    .unwrap_or(rest)
                    .to_string(),
            )
        })
        .collect();
    (step, warned)
}

fn json_step(v: &Value) -> Value {
    serde_json::json!([v["step"], v["step_wp_id"]])
}

fn step(state: &str, wp: &str) -> Value {
    serde_json::json!([state, wp])
}

/// Another writer (an older binary, a hand edit) appends to the log
/// without touching the memo: the new lines are folded onto it, and the
/// answer and warnings are those of a full read.
#[test]
fn the_run_log_memo_folds_what_another_writer_appended() {
    let env = TestEnv::new();
    let (root, slug, log, memo) = run_log_mission(&env);
    let mut text = filler(100);
    text.push_str(&decision_line("codex", "alpha", "WP91"));
    text.push_str("{not json\n");
    fs::write(&log, &text).unwrap();
    let (_, warned) = next_on_log(&env, &root, &slug, "codex", false);
    assert_eq!(warned, ["102: key must be a string at line 1 column 2"]);
    let saved = fs::read(&memo).expect("a memo beside a log of over 8 KiB");
    // An older binary's append: codex's next decision and a bad line.
    let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
    use std::io::Write as _;
    f.write_all(decision_line("codex", "beta", "WP92").as_bytes())
        .unwrap();
    f.write_all(b"\xff\n").unwrap();
    drop(f);
    assert_eq!(fs::read(&memo).unwrap(), saved, "the memo was not touched");
    let (got, warned) = next_on_log(&env, &root, &slug, "codex", true);
    assert_eq!(got, step("beta", "WP92"));
    assert_eq!(
        warned,
        [
            "102: key must be a string at line 1 column 2",
            "105: not valid UTF-8 (byte 0)"
        ]
    );
    // The same from a full read of the log.
    let (_, cached) = next_on_log(&env, &root, &slug, "codex", false);
    fs::remove_file(&memo).unwrap();
    let (_, fresh) = next_on_log(&env, &root, &slug, "codex", false);
    assert_eq!(cached, fresh);
    assert_eq!(cached.len(), 2, "{cached:?}");
    // Deleting the mission removes its run log, lock and memo.
    assert!(memo.exists());
    let v = env.json(
        &root,
        &["agent", "mission", "delete", &slug, "--force", "--json"],
    );
    assert_eq!(v["result"], "success", "{v}");
    let left: Vec<_> = fs::read_dir(log.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A log rewritten shorter, or rewritten with other bytes at the end of the
/// prefix the memo describes, is read again from its first line.
#[test]
fn a_run_log_rewritten_under_its_memo_is_read_again() {
    let env = TestEnv::new();
    let (root, slug, log, memo) = run_log_mission(&env);
    let head = format!("{}{}", filler(100), decision_line("codex", "alpha", "WP91"));
    fs::write(
        &log,
        format!("{head}{}", decision_line("codex", "beta", "WP92")),
    )
    .unwrap();
    next_on_log(&env, &root, &slug, "codex", false);
    assert!(memo.exists());
    // Shorter, in place (a reset): codex's last decision is alpha again.
    fs::write(&log, &head).unwrap();
    let (got, warned) = next_on_log(&env, &root, &slug, "codex", true);
    assert_eq!(got, step("alpha", "WP91"));
    assert!(warned.is_empty(), "{warned:?}");

    // Other bytes inside the memo's prefix, and the log longer: a filler line
    // after codex's alpha replaced in place by a codex decision of the same
    // length, then one more line. The memo's prefix no longer ends as it did.
    let base = format!("{head}{}", filler(3));
    fs::write(&log, &base).unwrap();
    let _ = fs::remove_file(&memo);
    next_on_log(&env, &root, &slug, "other", false);
    let saved: Value = serde_json::from_slice(&fs::read(&memo).unwrap()).unwrap();
    let now = fs::read_to_string(&log).unwrap();
    assert_eq!(saved["log"]["len"], now.len(), "the memo covers the log");
    let fill = decision_line("filler", "fill", "WP00");
    let zeta = decision_line("codex", "zetaa", "WP99");
    assert_eq!(fill.len(), zeta.len());
    let at = head.len() + fill.len();
    let rewritten = format!(
        "{}{zeta}{}{}",
        &now[..at],
        &now[at + fill.len()..],
        decision_line("other", "x", "WP01")
    );
    fs::write(&log, rewritten).unwrap();
    let (got, _) = next_on_log(&env, &root, &slug, "codex", true);
    assert_eq!(got, step("zetaa", "WP99"));
}

/// A memo that says what the log does not: each lie is caught, the log read
/// whole, and the memo written anew.
#[test]
fn a_lying_run_log_memo_is_dropped() {
    let env = TestEnv::new();
    let (root, slug, log, memo) = run_log_mission(&env);
    let alpha = decision_line("codex", "alpha", "WP91");
    let other = decision_line("claude", "forged", "WP55");
    let text = format!("{}{alpha}{other}{{oops\n{}", filler(100), filler(5));
    let off = |line: &str| text.find(line).unwrap() as u64;
    let truth = (
        step("alpha", "WP91"),
        vec!["103: key must be a string at line 1 column 2".to_string()],
    );
    let outside = env.work.join("outside.json");
    // The memo as written holds.
    fs::write(&log, &text).unwrap();
    next_on_log(&env, &root, &slug, "claude", false);
    assert_eq!(next_on_log(&env, &root, &slug, "codex", true), truth);
    type Lie<'a> = Box<dyn Fn(&mut Value) + 'a>;
    let cases: Vec<(&str, Lie)> = vec![
        (
            "codex's last decision is claude's line",
            Box::new(|m| m["fold"]["last"]["codex"] = off(&other).into()),
        ),
        (
            "codex's last decision inside its line",
            Box::new(|m| m["fold"]["last"]["codex"] = (off(&alpha) + 1).into()),
        ),
        (
            "codex's last decision past the prefix",
            Box::new(|m| m["fold"]["last"]["codex"] = (text.len() as u64 + 10).into()),
        ),
        (
            "a readable line reported unreadable",
            Box::new(|m| {
                m["fold"]["bad"] = serde_json::json!([[101, off(&alpha)], [103, off("{oops")]])
            }),
        ),
        (
            "unreadable lines out of order",
            Box::new(|m| {
                m["fold"]["bad"] = serde_json::json!([[103, off("{oops")], [103, off("{oops")]])
            }),
        ),
        (
            "a prefix longer than the log",
            Box::new(|m| m["log"]["len"] = (text.len() as u64 * 2).into()),
        ),
        ("another file", Box::new(|m| m["log"]["ino"] = 1.into())),
        ("another version", Box::new(|m| m["version"] = 99.into())),
    ];
    for (what, lie) in cases {
        fs::write(&log, &text).unwrap();
        let _ = fs::remove_file(&memo);
        // claude's call writes the memo; codex's last decision is alpha.
        next_on_log(&env, &root, &slug, "claude", false);
        let mut m: Value = serde_json::from_slice(&fs::read(&memo).unwrap()).unwrap();
        assert_eq!(m["fold"]["last"]["codex"], off(&alpha), "{what}");
        lie(&mut m);
        fs::write(&memo, serde_json::to_vec(&m).unwrap()).unwrap();
        let got = next_on_log(&env, &root, &slug, "codex", true);
        assert_eq!(got, truth, "{what}");
        let again: Value = serde_json::from_slice(&fs::read(&memo).unwrap()).unwrap();
        assert_eq!(again["version"], 1, "{what}: written anew");
        assert_eq!(
            again["fold"]["last"]["codex"]
                .as_u64()
                .map(|o| o > off(&alpha)),
            Some(true),
            "{what}"
        );
    }
    // A link planted where the memo goes, to a forged memo outside: not
    // followed (nor written through), the log read whole.
    fs::write(&log, &text).unwrap();
    let _ = fs::remove_file(&memo);
    next_on_log(&env, &root, &slug, "claude", false);
    let mut m: Value = serde_json::from_slice(&fs::read(&memo).unwrap()).unwrap();
    m["fold"]["last"]["codex"] = off(&other).into();
    fs::write(&outside, serde_json::to_vec(&m).unwrap()).unwrap();
    let forged = fs::read(&outside).unwrap();
    fs::remove_file(&memo).unwrap();
    std::os::unix::fs::symlink(&outside, &memo).unwrap();
    assert_eq!(next_on_log(&env, &root, &slug, "codex", true), truth);
    assert_eq!(
        fs::read(&outside).unwrap(),
        forged,
        "nothing written outside"
    );
}

/// A memo cut short, emptied, or not JSON at all (a crash: it is written
/// without a sync), too big or too deep: the log is read whole and the memo
/// written anew.
#[test]
fn a_corrupt_run_log_memo_is_rebuilt() {
    let env = TestEnv::new();
    let (root, slug, log, memo) = run_log_mission(&env);
    let text = format!(
        "{}{}\u{1b}]0;pwned\u{7}\n",
        filler(100),
        decision_line("codex", "alpha", "WP91")
    );
    fs::write(&log, &text).unwrap();
    next_on_log(&env, &root, &slug, "claude", false);
    let sound = fs::read_to_string(&memo).unwrap();
    let half: String = sound.chars().take(sound.chars().count() / 2).collect();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for damage in [
        "",
        half.as_str(),
        "\0\0\0\0",
        "\u{1b}]0;pwned\u{7}",
        deep.as_str(),
    ] {
        fs::write(&log, &text).unwrap();
        let _ = fs::remove_file(&memo);
        next_on_log(&env, &root, &slug, "claude", false);
        fs::write(&memo, damage).unwrap();
        let (got, warned) = next_on_log(&env, &root, &slug, "codex", true);
        assert_eq!(got, step("alpha", "WP91"), "memo {damage:?}");
        assert_eq!(
            warned,
            ["102: expected value at line 1 column 1"],
            "memo {damage:?}"
        );
        let again: Value = serde_json::from_slice(&fs::read(&memo).unwrap()).unwrap();
        assert_eq!(again["version"], 1, "memo {damage:?}: written anew");
    }
    // Bigger than any memo: refused before it is read, then replaced.
    fs::write(&log, &text).unwrap();
    let _ = fs::remove_file(&memo);
    next_on_log(&env, &root, &slug, "claude", false);
    let f = fs::OpenOptions::new().write(true).open(&memo).unwrap();
    f.set_len(17 << 20).unwrap();
    drop(f);
    let (got, _) = next_on_log(&env, &root, &slug, "codex", true);
    assert_eq!(got, step("alpha", "WP91"));
    assert!(fs::metadata(&memo).unwrap().len() < 1 << 20);
}
