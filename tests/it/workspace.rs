//! Lane workspaces, `agent action implement|review`, legacy `implement` and
//! `agent mission delete`, driven through the built binary on real git repos.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::flow::{action, action_json, move_task, Flow};
use crate::common::snap::assert_run;
use crate::common::{
    hold_and_contend, three_wps, write, write_mission, MissionInfo, TestEnv, WpDef, PLAN_MARKER,
    SPEC_MARKER,
};

/// `spec-kitty ARGS` in `dir` is refused (exit 1); its message is snapshot `name`.
fn refused_snap(env: &TestEnv, dir: &Path, name: &str, args: &[&str]) {
    let out = assert_run!(env, dir, name, args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
}

fn canon(p: impl AsRef<Path>) -> PathBuf {
    fs::canonicalize(p.as_ref())
        .unwrap_or_else(|e| panic!("canonicalize {}: {e}", p.as_ref().display()))
}

fn lane_of(env: &TestEnv, root: &Path, slug: &str, wp: &str) -> String {
    let v = env.json(
        root,
        &["agent", "tasks", "status", "--mission", slug, "--json"],
    );
    v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == wp)
        .unwrap_or_else(|| panic!("{wp} not on the board: {v}"))["lane"]
        .as_str()
        .unwrap()
        .to_string()
}

fn implement_json(env: &TestEnv, dir: &Path, slug: &str, wp: Option<&str>) -> Value {
    let mut args = vec!["agent", "action", "implement"];
    args.extend(wp);
    args.extend(["--mission", slug, "--agent", "codex", "--json"]);
    env.json(dir, &args)
}

fn review_json(env: &TestEnv, dir: &Path, slug: &str, wp: Option<&str>) -> Value {
    let mut args = vec!["agent", "action", "review"];
    args.extend(wp);
    args.extend(["--mission", slug, "--agent", "claude", "--json"]);
    env.json(dir, &args)
}

/// Hand an in_progress WP to review the way the implement prompt says
/// ([`Flow::submit`], as codex).
fn hand_in(env: &TestEnv, dir: &Path, slug: &str, wp: &str) {
    Flow::new(env, dir, slug).submit(wp, "codex");
}

/// Hand-in, `agent action review` and approval ([`Flow::finish`]).
fn finish(env: &TestEnv, dir: &Path, slug: &str, wp: &str) {
    Flow::new(env, dir, slug).finish(wp);
}

/// Commit `file` with `text` in the worktree `wt`.
fn commit_in(env: &TestEnv, wt: &Path, file: &str, text: &str) -> String {
    write(&wt.join(file), text);
    env.git(wt, &["add", "-A"]);
    env.git(wt, &["commit", "-qm", &format!("add {file}")]);
    env.git(wt, &["rev-parse", "HEAD"]).trim().to_string()
}

fn rev(env: &TestEnv, root: &Path, r: &str) -> String {
    env.git(root, &["rev-parse", r]).trim().to_string()
}

fn branches(env: &TestEnv, root: &Path) -> Vec<String> {
    env.git(root, &["branch", "--list", "--format=%(refname:short)"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The three-WP mission with WP01 (planning) implemented and approved.
fn after_planning(env: &TestEnv) -> (PathBuf, MissionInfo) {
    let (root, m) = env.three_wp_mission();
    implement_json(env, &root, &m.slug, Some("WP01"));
    write(&m.dir.join("research.md"), "notes\n");
    finish(env, &root, &m.slug, "WP01");
    (root, m)
}

#[test]
fn code_lane_gets_its_worktree_and_branch_from_the_target() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    let before = env.git_state(&root);
    let main_tip = rev(&env, &root, "main");

    let v = implement_json(&env, &root, &m.slug, None);
    let wt = root.join(".worktrees/001-demo-lane-a");
    assert_eq!(v["wp_id"], "WP02", "{v}");
    assert_eq!(v["lane_id"], "lane-a");
    assert_eq!(v["branch"], "kitty/mission-001-demo-lane-a");
    assert_eq!(v["base_branch"], "main");
    assert_eq!(v["worktree_created"], true);
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&wt), "{v}");
    // A real worktree of the main repository, on the lane branch, at main's tip.
    let list = env.git(&root, &["worktree", "list", "--porcelain"]);
    assert!(
        list.contains(&format!("worktree {}", canon(&wt).display()))
            && list.contains("branch refs/heads/kitty/mission-001-demo-lane-a"),
        "{list}"
    );
    assert_eq!(
        env.git(&wt, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/kitty/mission-001-demo-lane-a"
    );
    assert_eq!(rev(&env, &root, "kitty/mission-001-demo-lane-a"), main_tip);
    assert!(wt.join("README.md").is_file(), "the checkout is populated");
    assert_eq!(env.git(&wt, &["status", "--porcelain"]), "");
    // The main checkout is untouched and `.worktrees/` never shows up.
    assert_eq!(env.git_state(&root), before);
    assert_eq!(rev(&env, &root, "main"), main_tip);
    let status = env.git(&root, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(!status.contains(".worktrees"), "{status}");
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "in_progress");
    assert!(env.home_files().is_empty(), "{:?}", env.home_files());
}

#[test]
fn an_existing_lane_worktree_is_reused() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    // Legacy implement creates it without claiming ...
    let v = env.json(&root, &["implement", "WP02", "--mission", "001", "--json"]);
    assert_eq!(v["created"], true, "{v}");
    assert_eq!(v["branch"], "kitty/mission-001-demo-lane-a");
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "planned");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    let tip = commit_in(&env, &wt, "src/core/lib.rs", "pub fn core() {}\n");
    write(&wt.join("scratch.txt"), "uncommitted work\n");
    // ... and every later call reuses it as it is.
    let v = env.json(&root, &["implement", "WP02", "--mission", "001", "--json"]);
    assert_eq!(v["created"], false, "{v}");
    let v = implement_json(&env, &root, &m.slug, Some("WP02"));
    assert_eq!(v["worktree_created"], false, "{v}");
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&wt));
    let v = implement_json(&env, &root, &m.slug, Some("WP02"));
    assert_eq!(v["from_lane"], "in_progress", "a second claim is a no-op");
    assert_eq!(rev(&env, &wt, "HEAD"), tip);
    assert!(wt.join("scratch.txt").is_file());
    let worktrees = env.git(&root, &["worktree", "list", "--porcelain"]);
    assert_eq!(worktrees.matches("worktree ").count(), 2, "{worktrees}");
}

#[test]
fn wrong_branch_and_broken_worktrees_are_clear_errors() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    env.json(&root, &["implement", "WP02", "--mission", "001", "--json"]);
    let wt = root.join(".worktrees/001-demo-lane-a");
    let tip = commit_in(&env, &wt, "src/core/lib.rs", "pub fn core() {}\n");

    // On another branch: refused, with the command that fixes it; nothing claimed.
    env.git(&wt, &["switch", "-q", "-c", "someone-elses"]);
    refused_snap(
        &env,
        &root,
        "wrong_branch_action",
        &[
            "agent",
            "action",
            "implement",
            "WP02",
            "--mission",
            "001",
            "--agent",
            "codex",
        ],
    );
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "planned");
    refused_snap(
        &env,
        &root,
        "wrong_branch_implement",
        &["implement", "WP02", "--mission", "001"],
    );

    // Detached HEAD: also refused, and said so.
    env.git(&wt, &["switch", "-q", "--detach"]);
    refused_snap(
        &env,
        &root,
        "detached_head",
        &["implement", "WP02", "--mission", "001"],
    );
    env.git(&wt, &["switch", "-q", "kitty/mission-001-demo-lane-a"]);

    // A corrupt `.git` file: refused with the way out.
    let dotgit = wt.join(".git");
    let good = fs::read_to_string(&dotgit).unwrap();
    fs::write(&dotgit, "this is not a gitdir pointer\n").unwrap();
    let out = env.run(
        &root,
        &crate::common::implement_args("WP02", "001", "codex"),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON error object");
    assert_eq!(v["result"], "error");
    let msg = format!("{} {}", v["error"], v["hint"]);
    assert!(
        msg.contains("not a working git worktree") && msg.contains("git worktree prune"),
        "{msg}"
    );
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "planned");
    fs::write(&dotgit, good).unwrap();

    // A different repository sitting at the path, even on a same-named branch: refused.
    fs::rename(&wt, root.join("moved-away")).unwrap();
    fs::create_dir_all(&wt).unwrap();
    env.git(&wt, &["init", "-q", "-b", "kitty/mission-001-demo-lane-a"]);
    refused_snap(
        &env,
        &root,
        "another_repository_at_the_path",
        &["implement", "WP02", "--mission", "001"],
    );
    fs::remove_dir_all(&wt).unwrap();
    // An empty directory in the way: not a worktree either.
    fs::create_dir_all(&wt).unwrap();
    refused_snap(
        &env,
        &root,
        "empty_directory_at_the_path",
        &["implement", "WP02", "--mission", "001"],
    );
    fs::remove_dir_all(&wt).unwrap();
    fs::rename(root.join("moved-away"), &wt).unwrap();

    // Deleted by hand: recreated on the same branch, its commits intact.
    fs::remove_dir_all(&wt).unwrap();
    let v = env.json(&root, &["implement", "WP02", "--mission", "001", "--json"]);
    assert_eq!(v["created"], true, "{v}");
    assert_eq!(rev(&env, &wt, "HEAD"), tip);
    assert!(wt.join("src/core/lib.rs").is_file());
    let worktrees = env.git(&root, &["worktree", "list", "--porcelain"]);
    assert_eq!(worktrees.matches("worktree ").count(), 2, "{worktrees}");
}

#[test]
fn planning_work_runs_in_the_main_checkout() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let before = env.git_state(&root);
    let v = implement_json(&env, &root, &m.slug, None);
    assert_eq!(v["wp_id"], "WP01", "{v}");
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&root));
    assert_eq!(v["workspace_kind"], "repo_root");
    assert_eq!(v["lane_id"], "lane-planning");
    assert_eq!(v["branch"], Value::Null);
    let v = env.json(&root, &["implement", "WP01", "--mission", "demo", "--json"]);
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&root));
    assert_eq!(v["branch"], Value::Null);
    let human = assert_run!(
        env,
        &root,
        "legacy_implement_planning",
        ["implement", "WP01", "--mission", "demo"]
    );
    assert!(human.status.success());
    assert!(!root.join(".worktrees").exists());
    assert!(!root.join(".worktrees/001-demo-lane-planning").exists());
    assert!(
        branches(&env, &root)
            .iter()
            .all(|b| !b.starts_with("kitty/")),
        "{:?}",
        branches(&env, &root)
    );
    assert_eq!(env.git_state(&root), before);
    // Its review is of the mission's files in the main checkout.
    hand_in(&env, &root, &m.slug, "WP01");
    let v = review_json(&env, &root, &m.slug, None);
    assert_eq!(v["wp_id"], "WP01");
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&root));
    assert!(
        v["prompt"].as_str().unwrap().contains("main checkout"),
        "{}",
        v["prompt"]
    );
    assert!(!root.join(".worktrees").exists());
}

#[test]
fn implement_json_prompt_and_claim() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    let wps = three_wps();
    let v = implement_json(&env, &root, &m.slug, None);
    for key in [
        "workspace",
        "wp_id",
        "lane_id",
        "branch",
        "prompt_file",
        "prompt",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
    assert_eq!(v["wp_id"], "WP02");
    assert_eq!(v["from_lane"], "planned");
    assert_eq!(v["lane"], "in_progress");
    let prompt = v["prompt"].as_str().unwrap();
    let file = PathBuf::from(v["prompt_file"].as_str().unwrap());
    assert_eq!(fs::read_to_string(&file).unwrap(), prompt);
    assert!(
        file.starts_with(root.join(".git/spec-kitty/prompts")),
        "prompts go to the git directory, never a shared /tmp: {}",
        file.display()
    );
    assert!(!prompt.contains("Review feedback"), "first round: {prompt}");
    // The WP file, the mission's spec and plan, and the exact commands for the end.
    assert!(prompt.contains(&wps[1].marker()), "{prompt}");
    assert!(prompt.contains(&wps[1].acceptance()), "{prompt}");
    assert!(!prompt.contains(&wps[2].marker()), "only this WP: {prompt}");
    assert!(prompt.contains(SPEC_MARKER), "spec context: {prompt}");
    assert!(prompt.contains(PLAN_MARKER), "plan context: {prompt}");
    assert!(prompt.contains(".worktrees/001-demo-lane-a"), "{prompt}");
    assert!(
        prompt.contains("agent tasks move-task WP02 --to for_review"),
        "{prompt}"
    );
    assert!(
        prompt.contains("agent tasks mark-status T002 --status done"),
        "{prompt}"
    );
    assert!(
        prompt.contains("git commit") || prompt.contains("commit"),
        "{prompt}"
    );
    // The claim: in_progress, by the agent, recorded in the WP file.
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "in_progress");
    let text = fs::read_to_string(m.dir.join("tasks/WP02-core.md")).unwrap();
    assert!(text.contains("agent: codex"), "{text}");
    let log = fs::read_to_string(m.dir.join("status.events.jsonl")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("\"WP02\"")
            && l.contains("\"to_lane\": \"in_progress\"")
            && l.contains("\"actor\": \"codex\"")),
        "{log}"
    );

    // Human output: the workspace path and the prompt.
    let out = assert_run!(
        env,
        &root,
        "implement_again",
        action("implement", "WP02", "codex")
    );
    assert!(out.status.success());
}

#[test]
fn implement_refuses_unmet_dependencies_and_picks_the_first_ready() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    // WP03 waits for WP02, and WP02 for WP01: each refusal names what is missing.
    refused_snap(
        &env,
        &root,
        "dependency_not_done",
        &action("implement", "WP03", "codex"),
    );
    let out = env.run(&root, &action_json("implement", "WP02", "codex"));
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["result"], "error");
    assert!(v["error"].as_str().unwrap().contains("WP01"), "{v}");
    assert!(!root.join(".worktrees").exists(), "nothing allocated");
    for wp in ["WP01", "WP02", "WP03"] {
        assert_eq!(lane_of(&env, &root, &m.slug, wp), "planned");
    }

    // Without a WP: the first ready one. WP01 is planned and ready.
    let v = implement_json(&env, &root, &m.slug, None);
    assert_eq!(v["wp_id"], "WP01");
    // Now nothing is ready: WP02 waits for WP01's review.
    refused_snap(
        &env,
        &root,
        "nothing_ready",
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
    hand_in(&env, &root, &m.slug, "WP01");
    // for_review work is not implemented again without being sent back.
    refused_snap(
        &env,
        &root,
        "already_for_review",
        &action("implement", "WP01", "codex"),
    );
    refused_snap(
        &env,
        &root,
        "unknown_wp",
        &action("implement", "WP09", "codex"),
    );
}

#[test]
fn review_shows_the_lane_diff_and_the_verdict_commands() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    let wps = three_wps();
    refused_snap(
        &env,
        &root,
        "review_nothing_waiting",
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
    let v = implement_json(&env, &root, &m.slug, None);
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(
        &env,
        &wt,
        "src/core/engine.rs",
        "pub fn distinctive_engine_marker() -> u32 { 42 }\n",
    );
    // A reviewer cannot take work that is still being implemented.
    refused_snap(
        &env,
        &root,
        "review_still_in_progress",
        &action("review", "WP02", "claude"),
    );
    hand_in(&env, &root, &m.slug, "WP02");

    let v = review_json(&env, &root, &m.slug, None);
    assert_eq!(v["wp_id"], "WP02", "{v}");
    assert_eq!(v["from_lane"], "for_review");
    assert_eq!(v["lane"], "in_review");
    assert_eq!(v["branch"], "kitty/mission-001-demo-lane-a");
    // The reviewer reads the hand-in commit from the main checkout and is never
    // sent into the implementer's lane worktree.
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&root));
    assert_eq!(v["workspace_kind"], "review_view");
    assert_eq!(
        v["review_range"]["hand_in_commit"].as_str().unwrap(),
        rev(&env, &root, "kitty/mission-001-demo-lane-a")
    );
    assert!(!v["prompt"]
        .as_str()
        .unwrap()
        .contains(&format!("cd {}", wt.display())));
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "in_review");
    let prompt = v["prompt"].as_str().unwrap();
    assert_eq!(
        fs::read_to_string(v["prompt_file"].as_str().unwrap()).unwrap(),
        prompt
    );
    assert!(prompt.contains("src/core/engine.rs"), "{prompt}");
    assert!(
        prompt.contains("+pub fn distinctive_engine_marker() -> u32 { 42 }"),
        "the patch itself: {prompt}"
    );
    assert!(prompt.contains(&wps[1].acceptance()), "{prompt}");
    assert!(
        prompt.contains("agent tasks move-task WP02 --to approved"),
        "{prompt}"
    );
    assert!(
        prompt.contains("agent tasks move-task WP02 --to planned")
            && prompt.contains("--review-feedback"),
        "{prompt}"
    );
    // Uncommitted work in the worktree is not in the diff; the prompt says so.
    write(&wt.join("src/core/forgotten.rs"), "// not committed\n");
    let v = review_json(&env, &root, &m.slug, Some("WP02"));
    assert_eq!(v["from_lane"], "in_review", "re-running keeps the claim");
    let prompt = v["prompt"].as_str().unwrap();
    assert!(prompt.contains("uncommitted"), "{prompt}");
    fs::remove_file(wt.join("src/core/forgotten.rs")).unwrap();

    // Sent back with feedback: it is ready again and goes to the same worktree.
    env.ok(
        &root,
        &move_task(
            "WP02",
            "planned",
            &[
                "--agent",
                "claude",
                "--review-feedback",
                "name the function better",
            ],
            "demo",
        ),
    );
    let v = implement_json(&env, &root, &m.slug, None);
    assert_eq!(v["wp_id"], "WP02");
    assert_eq!(v["worktree_created"], false);
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&wt));
    // The new prompt carries the reviewer's feedback.
    let prompt = v["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("Review feedback") && prompt.contains("claude: name the function better"),
        "{prompt}"
    );

    // Handing it in again needs a new commit since this claim.
    refused_snap(
        &env,
        &root,
        "hand_in_again_no_new_commit",
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "for_review",
            "--agent",
            "codex",
            "--mission",
            "demo",
        ],
    );
    commit_in(
        &env,
        &wt,
        "src/core/engine.rs",
        "pub fn distinctive_engine_marker() -> u32 { 43 }\n",
    );
    // Human output of review names the workspace and prints the prompt.
    hand_in(&env, &root, &m.slug, "WP02");
    let out = assert_run!(
        env,
        &root,
        "review_second_round",
        [
            "agent",
            "action",
            "review",
            "--mission",
            "demo",
            "--agent",
            "claude",
        ]
    );
    assert!(out.status.success());
}

/// lane-a holds WP02 and lane-b holds WP03, which depends on WP02 (a lanes.json
/// the planner would only write if the two did not share a dependency edge; here
/// it is written by hand, as a person may).
fn split_lanes(m: &MissionInfo) {
    let path = m.dir.join("lanes.json");
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let lanes = v["lanes"].as_array_mut().unwrap();
    let planning = lanes
        .iter()
        .find(|l| l["lane_id"] == "lane-planning")
        .cloned()
        .unwrap();
    *lanes = vec![
        serde_json::json!({"lane_id": "lane-a", "wp_ids": ["WP02"], "write_scope": ["src/core/**"],
            "predicted_surfaces": [], "depends_on_lanes": [], "parallel_group": 0}),
        serde_json::json!({"lane_id": "lane-b", "wp_ids": ["WP03"], "write_scope": ["src/cli/**"],
            "predicted_surfaces": [], "depends_on_lanes": ["lane-a"], "parallel_group": 1}),
        planning,
    ];
    fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn a_dependent_lane_starts_from_the_finished_lane_it_depends_on() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    split_lanes(&m);
    let v = implement_json(&env, &root, &m.slug, None);
    assert_eq!(v["lane_id"], "lane-a");
    let wt_a = PathBuf::from(v["workspace"].as_str().unwrap());
    let tip_a = commit_in(&env, &wt_a, "src/core/lib.rs", "pub fn core_marker() {}\n");
    finish(&env, &root, &m.slug, "WP02");
    // main moved on meanwhile (someone else's commit): lane-b still starts from lane-a.
    write(&root.join("NOTES.md"), "unrelated\n");
    env.git(&root, &["add", "NOTES.md"]);
    env.git(&root, &["commit", "-qm", "unrelated"]);

    let v = implement_json(&env, &root, &m.slug, None);
    assert_eq!(v["wp_id"], "WP03", "{v}");
    assert_eq!(v["lane_id"], "lane-b");
    assert_eq!(v["branch"], "kitty/mission-001-demo-lane-b");
    assert_eq!(v["base_branch"], "kitty/mission-001-demo-lane-a", "{v}");
    let wt_b = PathBuf::from(v["workspace"].as_str().unwrap());
    assert_eq!(canon(&wt_b), canon(root.join(".worktrees/001-demo-lane-b")));
    assert_eq!(rev(&env, &root, "kitty/mission-001-demo-lane-b"), tip_a);
    assert!(
        wt_b.join("src/core/lib.rs").is_file(),
        "lane-a's work is there"
    );

    // Its review shows only its own change, not lane-a's.
    commit_in(&env, &wt_b, "src/cli/main.rs", "fn cli_marker() {}\n");
    hand_in(&env, &wt_b, &m.slug, "WP03");
    let v = review_json(&env, &root, &m.slug, None);
    let prompt = v["prompt"].as_str().unwrap();
    assert!(prompt.contains("src/cli/main.rs"), "{prompt}");
    assert!(!prompt.contains("core_marker"), "{prompt}");
    // Measured from WP03's claim commit (lane-a's tip, where lane-b started).
    assert!(
        prompt.contains(&format!("claim ({})", &tip_a[..12])),
        "{prompt}"
    );
    assert_eq!(v["review_range"]["claim_commit"], tip_a.as_str());
}

#[test]
fn an_unfinished_dependency_lane_is_not_a_base() {
    // lane-b depends on lane-a by lanes.json only; WP03 itself has no dependency
    // on WP02. While lane-a is unfinished, lane-b starts from the target branch.
    let env = TestEnv::new();
    let wps = vec![
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "Extra", "src/extra/**", &[]),
        WpDef::code("WP03", "CLI", "src/cli/**", &[]),
    ];
    let (root, m) = env.finalized_mission(&wps);
    let path = m.dir.join("lanes.json");
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let lanes = v["lanes"].as_array_mut().unwrap();
    assert_eq!(lanes.len(), 3, "{lanes:?}");
    lanes[2]["depends_on_lanes"] = serde_json::json!(["lane-a"]);
    fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let v = implement_json(&env, &root, &m.slug, Some("WP01"));
    let wt_a = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(&env, &wt_a, "src/core/lib.rs", "fn a() {}\n");
    let v = implement_json(&env, &root, &m.slug, Some("WP03"));
    assert_eq!(v["lane_id"], "lane-c");
    assert_eq!(v["base_branch"], "main", "{v}");
    assert_eq!(
        rev(&env, &root, "kitty/mission-001-demo-lane-c"),
        rev(&env, &root, "main")
    );
}

#[test]
fn commands_inside_a_worktree_use_the_main_checkout() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    // Commit the mission so lane worktrees carry a copy of kitty-specs/ too.
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission files"]);
    let v = implement_json(&env, &root, &m.slug, None);
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    assert!(wt
        .join("kitty-specs/001-demo/status.events.jsonl")
        .is_file());
    let events = root.join("kitty-specs/001-demo/status.events.jsonl");
    let before = fs::read_to_string(&events).unwrap().lines().count();

    // No --mission: inferred from the worktree, read from the main checkout.
    let board = env.json(&wt, &["agent", "tasks", "status", "--json"]);
    let wp02 = board["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "WP02")
        .unwrap();
    assert_eq!(wp02["lane"], "in_progress", "{board}");
    let sub = wt.join("src/core");
    fs::create_dir_all(&sub).unwrap();
    commit_in(&env, &wt, "src/core/lib.rs", "fn core() {}\n");
    env.ok(
        &sub,
        &["agent", "tasks", "mark-status", "T002", "--status", "done"],
    );
    env.ok(
        &sub,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "for_review",
            "--agent",
            "codex",
            "--note",
            "done",
        ],
    );
    assert!(fs::read_to_string(&events).unwrap().lines().count() > before);
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "for_review");
    let tasks_md = fs::read_to_string(root.join("kitty-specs/001-demo/tasks.md")).unwrap();
    assert!(tasks_md.contains("- [x] T002"), "{tasks_md}");
    // The worktree's own copy of kitty-specs/ did not change.
    assert_eq!(
        env.git(&wt, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    // next and review from inside the worktree see the same mission.
    let d = env.json(&wt, &["next", "--agent", "claude", "--json"]);
    assert_eq!(d["action"], "review", "{d}");
    assert_eq!(d["wp_id"], "WP02");
    let v = env.json(
        &wt,
        &["agent", "action", "review", "--agent", "claude", "--json"],
    );
    assert_eq!(v["wp_id"], "WP02");
    assert_eq!(
        env.git(&wt, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    // A second lane's worktree made from inside the first goes under the main checkout.
    assert!(!wt.join(".worktrees").exists());
}

#[test]
fn no_command_moves_head_index_or_branches() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    // The user is on their own branch with a staged change while agents work.
    env.git(&root, &["switch", "-q", "-c", "topic"]);
    write(&root.join("staged.txt"), "mine\n");
    env.git(&root, &["add", "staged.txt"]);
    let before = env.git_state(&root);
    let main_tip = rev(&env, &root, "main");
    let commits_before = env.git(&root, &["rev-list", "--all", "--count"]);

    implement_json(&env, &root, &m.slug, None);
    finish(&env, &root, &m.slug, "WP01");
    let v = implement_json(&env, &root, &m.slug, None);
    assert_eq!(
        v["base_branch"], "main",
        "the mission's target, not the current branch"
    );
    assert_eq!(rev(&env, &root, "kitty/mission-001-demo-lane-a"), main_tip);
    // The agent's own commit of its work (on the lane branch, never main).
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(&env, &wt, "src/core/lib.rs", "// core\n");
    finish(&env, &root, &m.slug, "WP02");
    env.json(
        &root,
        &["next", "--agent", "codex", "--mission", "demo", "--json"],
    );
    env.json(
        &root,
        &[
            "next",
            "--agent",
            "codex",
            "--mission",
            "demo",
            "--result",
            "success",
            "--json",
        ],
    );
    env.json(&root, &["implement", "WP03", "--mission", "demo", "--json"]);

    assert_eq!(env.git_state(&root), before);
    assert_eq!(rev(&env, &root, "main"), main_tip);
    assert_eq!(
        env.git(&root, &["rev-list", "--all", "--count"]).trim(),
        (commits_before.trim().parse::<u32>().unwrap() + 1).to_string(),
        "no command made a commit (only the agent's own one)"
    );
}

#[test]
fn every_selector_form_reaches_the_mission() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    for sel in ["001", "001-demo", "demo", m.id.as_str(), &m.id[..10]] {
        let d = env.json(&root, &["next", "--agent", "a", "--mission", sel, "--json"]);
        assert_eq!(d["mission_slug"], "001-demo", "{sel}");
        let v = env.json(&root, &["implement", "WP01", "--mission", sel, "--json"]);
        assert_eq!(v["mission_slug"], "001-demo", "{sel}");
    }
    let v = implement_json(&env, &root, &m.id, None);
    assert_eq!(v["wp_id"], "WP01");
    hand_in(&env, &root, "001", "WP01");
    let v = review_json(&env, &root, "demo", None);
    assert_eq!(v["wp_id"], "WP01");
    refused_snap(
        &env,
        &root,
        "next_unknown_mission",
        &["next", "--agent", "a", "--mission", "nope"],
    );
}

#[test]
fn unnumbered_selector_dogfood_track2() {
    // Seed section 3 in a plain project: `--mission dogfood-track2` without its number.
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "dogfood-track2");
    write_mission(
        &m.dir,
        &m.slug,
        &[
            WpDef::code("WP01", "Gamma", "src/gamma/**", &[]),
            WpDef::planning(
                "WP02",
                "Research notes",
                "kitty-specs/{slug}/research.md",
                &[],
            ),
            WpDef::code("WP03", "Delta", "src/delta/**", &[]),
        ],
    );
    env.ok(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "dogfood-track2",
        ],
    );
    let out = env.ok(
        &root,
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
    assert!(out.contains(&root.display().to_string()), "{out}");
    assert!(!root
        .join(".worktrees/dogfood-track2-lane-planning")
        .exists());
    assert!(!root
        .join(format!(".worktrees/{}-lane-planning", m.slug))
        .exists());
    let v = env.json(
        &root,
        &["implement", "WP02", "--mission", "dogfood-track2", "--json"],
    );
    assert_eq!(canon(v["workspace"].as_str().unwrap()), canon(&root));
    let d = env.json(
        &root,
        &[
            "next",
            "--agent",
            "claude",
            "--mission",
            "dogfood-track2",
            "--json",
        ],
    );
    assert_eq!(d["action"], "implement");
    assert_eq!(d["wp_id"], "WP01");
    let v = implement_json(&env, &root, "dogfood-track2", None);
    assert_eq!(v["wp_id"], "WP01");
    assert_eq!(
        canon(v["workspace"].as_str().unwrap()),
        canon(root.join(".worktrees/001-dogfood-track2-lane-a"))
    );
}

#[test]
fn legacy_implement_help_is_internal_and_points_to_the_loop() {
    let env = TestEnv::new();
    let root = env.project("p");
    let help = env.ok(&root, &["implement", "--help"]);
    assert!(help.to_lowercase().contains("internal"), "{help}");
    assert!(
        help.contains("spec-kitty next") && help.contains("spec-kitty agent action implement"),
        "{help}"
    );
    for args in [
        &["next", "--help"][..],
        &["agent", "action", "implement", "--help"],
        &["agent", "action", "review", "--help"],
        &["agent", "mission", "delete", "--help"],
    ] {
        env.ok(&root, args);
    }
    let top = env.ok(&root, &["--help"]);
    let line = top
        .lines()
        .find(|l| l.trim_start().starts_with("implement"))
        .unwrap();
    assert!(line.contains("Internal"), "{line}");
}

#[test]
fn delete_refuses_unmerged_lane_work_unless_forced() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    let v = implement_json(&env, &root, &m.slug, None);
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(&env, &wt, "src/core/lib.rs", "fn core() {}\n");
    refused_snap(
        &env,
        &root,
        "delete_unmerged_commits",
        &["agent", "mission", "delete", "demo"],
    );
    assert!(m.dir.is_dir() && wt.is_dir(), "nothing removed");
    // Uncommitted work is named too.
    write(&wt.join("wip.txt"), "wip\n");
    refused_snap(
        &env,
        &root,
        "delete_uncommitted_work",
        &["agent", "mission", "delete", "--mission", "001"],
    );

    let v = env.json(
        &root,
        &["agent", "mission", "delete", &m.id, "--force", "--json"],
    );
    assert_eq!(v["result"], "success");
    assert_eq!(
        v["removed_branches"],
        serde_json::json!(["kitty/mission-001-demo-lane-a", "kitty/mission-001-demo"])
    );
    assert!(!m.dir.exists() && !wt.exists());
    assert!(branches(&env, &root)
        .iter()
        .all(|b| !b.starts_with("kitty/")));
    assert_eq!(
        env.git(&root, &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert!(
        !root.join(".worktrees").exists(),
        "the empty .worktrees/ goes too"
    );
    // A new mission with the same name starts from scratch.
    let again = env.create_mission(&root, "demo");
    assert_eq!(again.slug, "001-demo");
    let d = env.json(
        &root,
        &["next", "--agent", "a", "--mission", "demo", "--json"],
    );
    assert_eq!(d["action"], "specify");
}

#[test]
fn delete_without_lane_work_needs_no_force_and_finds_stray_lanes() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    implement_json(&env, &root, &m.slug, None);
    // lanes.json lost: the lane worktree and branch are still found by name.
    fs::remove_file(m.dir.join("lanes.json")).unwrap();
    let out = assert_run!(env, &root, "delete", ["agent", "mission", "delete", "demo"]);
    assert!(out.status.success());
    let out = crate::common::stdout(&out);
    assert!(!m.dir.exists());
    assert!(!root.join(".worktrees/001-demo-lane-a").exists(), "{out}");
    assert!(
        branches(&env, &root)
            .iter()
            .all(|b| !b.starts_with("kitty/")),
        "{out}"
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    refused_snap(
        &env,
        &root,
        "delete_missing_mission",
        &["agent", "mission", "delete", "demo"],
    );
}

#[test]
fn a_project_without_git_gets_a_clear_error_for_code_lanes() {
    let env = TestEnv::new();
    let root = env.work.join("nogit");
    fs::create_dir_all(root.join(".kittify")).unwrap();
    fs::write(root.join(".kittify/config.yaml"), "agents: {}\n").unwrap();
    let m = env.create_mission(&root, "demo");
    write_mission(&m.dir, &m.slug, &three_wps());
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );
    let v = implement_json(&env, &root, &m.slug, None);
    assert_eq!(v["wp_id"], "WP01", "planning work needs no git");
    finish(&env, &root, &m.slug, "WP01");
    refused_snap(
        &env,
        &root,
        "no_git_repository",
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
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "planned");
}

/// `n` independent planning WPs (no git work needed, so claims race on the log alone).
fn planning_mission(env: &TestEnv, n: usize) -> (PathBuf, MissionInfo) {
    let wps: Vec<WpDef> = (1..=n)
        .map(|i| {
            WpDef::planning(
                &format!("WP{i:02}"),
                &format!("Notes {i}"),
                &format!("kitty-specs/{{slug}}/notes-{i}.md"),
                &[],
            )
        })
        .collect();
    env.finalized_mission(&wps)
}

/// `agents` agents run `agent action implement` (for `wp`, or the next ready
/// WP) at once: the first is held inside its claim, between reading the event
/// log and appending to it (under the status lock), while every other one
/// starts and waits for that lock ([`hold_and_contend`]).
fn parallel_implement(env: &TestEnv, root: &Path, wp: Option<&str>, agents: usize) -> Vec<Output> {
    let args = |i: usize| -> Vec<String> {
        let mut args: Vec<String> = ["agent", "action", "implement"].map(String::from).to_vec();
        args.extend(wp.map(String::from));
        args.extend(
            [
                "--mission",
                "demo",
                "--agent",
                &format!("agent{i}"),
                "--json",
            ]
            .map(String::from),
        );
        args
    };
    let first = args(0);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let others: Vec<Vec<String>> = (1..agents).map(args).collect();
    hold_and_contend(env, root, &first, "status-before-append", &others)
}

#[test]
fn parallel_agents_never_share_a_claim() {
    let env = TestEnv::new();
    // Four agents, four ready WPs, no WP named: each gets a different one.
    let (root, m) = planning_mission(&env, 4);
    let outs = parallel_implement(&env, &root, None, 4);
    let mut got: Vec<String> = outs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            v["wp_id"].as_str().unwrap().to_string()
        })
        .collect();
    got.sort();
    assert_eq!(got, ["WP01", "WP02", "WP03", "WP04"]);
    for wp in &got {
        assert_eq!(lane_of(&env, &root, &m.slug, wp), "in_progress");
    }

    // Four agents asking for the same WP: one claims it, the others are told who did.
    let env = TestEnv::new();
    let (root, m) = planning_mission(&env, 1);
    let outs = parallel_implement(&env, &root, Some("WP01"), 4);
    let winners: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(winners.len(), 1, "exactly one claim succeeds");
    let v: Value = serde_json::from_slice(&winners[0].stdout).unwrap();
    let winner = v["agent"].as_str().unwrap();
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(1));
        let e: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains(&format!("claimed by {winner}")),
            "{e}"
        );
    }
    let text = fs::read_to_string(m.dir.join("tasks/WP01-notes-1.md")).unwrap();
    assert!(text.contains(&format!("agent: {winner}")), "{text}");

    // Four reviewers for one WP in for_review: one takes it, the others find
    // nothing. The first is held inside its take-over, the others wait for it.
    Flow::new(&env, &root, &m.slug).submit("WP01", winner);
    let review = |i: usize| -> Vec<String> {
        [
            "agent",
            "action",
            "review",
            "--mission",
            "demo",
            "--agent",
            &format!("reviewer{i}"),
            "--json",
        ]
        .map(String::from)
        .to_vec()
    };
    let first = review(0);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let others: Vec<Vec<String>> = (1..4).map(review).collect();
    let outs = hold_and_contend(&env, &root, &first, "status-before-append", &others);
    assert!(outs[0].status.success(), "the held reviewer takes it");
    assert_eq!(outs.iter().filter(|o| o.status.success()).count(), 1);
    for o in outs.iter().filter(|o| !o.status.success()) {
        let e: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            e["error"].as_str().unwrap().contains("waiting for review"),
            "{e}"
        );
    }
}

#[test]
fn two_checkouts_with_the_same_mission_keep_their_prompts_apart() {
    let env = TestEnv::new();
    let mut files = Vec::new();
    for name in ["one", "two"] {
        let root = env.project(name);
        let m = env.create_mission(&root, "demo");
        write_mission(&m.dir, &m.slug, &three_wps());
        env.ok(
            &root,
            &["agent", "mission", "finalize-tasks", "--mission", "demo"],
        );
        let v = implement_json(&env, &root, &m.slug, None);
        files.push((root, PathBuf::from(v["prompt_file"].as_str().unwrap())));
    }
    assert_ne!(files[0].1, files[1].1);
    for (root, file) in &files {
        let text = fs::read_to_string(file).unwrap();
        assert!(text.contains(&format!("cd {}", root.display())), "{text}");
    }
}

#[test]
fn paths_with_spaces_work_and_are_quoted_in_prompts() {
    let env = TestEnv::new();
    let root = env.project("my project");
    let m = env.create_mission(&root, "demo");
    write_mission(&m.dir, &m.slug, &three_wps());
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );
    implement_json(&env, &root, &m.slug, None);
    finish(&env, &root, &m.slug, "WP01");
    let v = implement_json(&env, &root, &m.slug, None);
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    assert_eq!(canon(&wt), canon(root.join(".worktrees/001-demo-lane-a")));
    let prompt = v["prompt"].as_str().unwrap();
    assert!(
        prompt.contains(&format!("cd '{}'", wt.display())),
        "{prompt}"
    );
    // The printed git commands run as printed.
    write(&wt.join("src/core/lib.rs"), "fn f() {}\n");
    for line in prompt
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("git -C"))
    {
        let words = crate::common::shell_words(line);
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        env.git(&root, &args);
    }
    assert_eq!(env.git(&wt, &["status", "--porcelain"]), "");
    assert!(env
        .git(&wt, &["log", "-1", "--format=%s"])
        .starts_with("WP02: Core"));
}

#[test]
fn implement_before_finalize_says_how_to_get_lanes() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(&m.dir, &m.slug, &three_wps());
    for (name, args) in [
        ("no_lanes_implement", &action("implement", "WP01", "a")[..]),
        (
            "no_lanes_review",
            &[
                "agent",
                "action",
                "review",
                "--mission",
                "demo",
                "--agent",
                "a",
            ],
        ),
        (
            "no_lanes_legacy_implement",
            &["implement", "WP01", "--mission", "demo"],
        ),
    ] {
        refused_snap(&env, &root, name, args);
    }
}

#[test]
fn a_repository_with_a_git_file_gets_lane_worktrees_too() {
    // `git init --separate-git-dir` (like a submodule) leaves a `.git` file in
    // the checkout; that is a git project all the same.
    let env = TestEnv::new();
    let root = env.work.join("sep");
    let gitdir = env.work.join("sep.git");
    fs::create_dir_all(root.join(".kittify")).unwrap();
    fs::write(root.join(".kittify/config.yaml"), "agents: {}\n").unwrap();
    env.git(
        &env.work,
        &[
            "init",
            "-q",
            "--separate-git-dir",
            gitdir.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "initial"]);
    let m = env.create_mission(&root, "demo");
    write_mission(&m.dir, &m.slug, &three_wps());
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    implement_json(&env, &root, &m.slug, None);
    finish(&env, &root, &m.slug, "WP01");
    let v = implement_json(&env, &root, &m.slug, None);
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    assert_eq!(canon(&wt), canon(root.join(".worktrees/001-demo-lane-a")));
    assert!(wt.join("kitty-specs/001-demo/tasks.md").is_file());
    // From inside the lane worktree the mission is still the main checkout's.
    commit_in(&env, &wt, "src/core/lib.rs", "// core\n");
    hand_in(&env, &wt, "demo", "WP02");
    assert_eq!(lane_of(&env, &root, &m.slug, "WP02"), "for_review");
    assert_eq!(
        env.git(&wt, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    let status = env.git(&root, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(
        !status.contains(".worktrees") && !status.contains(".kittify"),
        "{status}"
    );
}

/// How often one run of `args` opened the repository whose directory is
/// named `dir_name` (the `git-open` step of `git::Repo::open`), and its
/// output, which must be a success.
fn opens_of(env: &TestEnv, dir: &Path, dir_name: &str, args: &[&str]) -> (usize, Output) {
    let (steps, out) = env.traced(dir, args);
    (crate::common::steps_of(&steps, "git-open", dir_name), out)
}

/// Handing out a code WP for implementation (a new lane worktree), handing
/// it in, handing it out for review and approving it each open the main
/// checkout's repository once, however many git questions they ask of it.
#[test]
fn hand_outs_and_moves_open_the_main_repository_once() {
    let env = TestEnv::new();
    let (root, m) = after_planning(&env);
    let slug = m.slug.as_str();
    // `agent action VERB WP02 --agent AGENT`, and `move-task WP02 --to TO`.
    let hand_out = |verb: &str, agent: &str| {
        let args = [
            "agent",
            "action",
            verb,
            "WP02",
            "--mission",
            slug,
            "--agent",
            agent,
            "--json",
        ];
        opens_of(&env, &root, "p", &args)
    };
    let moved = |to: &str, agent: &str, note: &str| {
        let args = move_task("WP02", to, &["--agent", agent, "--note", note], slug);
        opens_of(&env, &root, "p", &args)
    };
    let (n, out) = hand_out("implement", "codex");
    assert_eq!(n, 1, "implement opened the main repository {n} times");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["worktree_created"], true, "{v}");
    let wt = root.join(".worktrees/001-demo-lane-a");
    commit_in(&env, &wt, "src/core/lib.rs", "pub fn core() {}\n");
    Flow::new(&env, &root, slug).tick("T002");
    let (n, _) = moved("for_review", "codex", "ready");
    assert_eq!(n, 1, "the hand-in opened the main repository {n} times");
    let (n, out) = hand_out("review", "claude");
    assert_eq!(n, 1, "review opened the main repository {n} times");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let prompt = fs::read_to_string(v["prompt_file"].as_str().unwrap()).unwrap();
    assert!(
        prompt.contains("+pub fn core() {}"),
        "the review shows the diff"
    );
    assert_eq!(lane_of(&env, &root, slug, "WP02"), "in_review");
    // The approval records the lane's tip through the same handle.
    let (n, _) = moved("approved", "claude", "ok");
    assert_eq!(n, 1, "the approval opened the main repository {n} times");
    let log = fs::read_to_string(m.dir.join("status.events.jsonl")).unwrap();
    let approval = log.lines().last().unwrap();
    let tip = rev(&env, &root, "kitty/mission-001-demo-lane-a");
    assert!(
        approval.contains("\"approved\"") && approval.contains(&tip),
        "{approval}"
    );
}
