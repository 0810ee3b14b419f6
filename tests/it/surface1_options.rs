//! The part-1 options of the commands we already had, each shown to act:
//! `merge --target/--push/--keep-branch/--keep-worktree/--keep-workspace/
//! --resume/--context`, `agent mission merge --auto-retry/--no-auto-retry`,
//! `merge --dry-run` on a mission that is not ready. Reference facts come from
//! tests/fixtures/surface1 (see its README); tests never run the reference.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::reference::{self, has_reference_keys, parse};
use crate::common::snap::assert_run;
use crate::common::{stderr, stdout, TestEnv};
use crate::merge::{accept, branch, build_lanes, planned, rev, Fx, SLUG};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface1")
}

fn branch_exists(env: &TestEnv, root: &Path, b: &str) -> bool {
    !env.git(root, &["branch", "--list", b]).trim().is_empty()
}

/// Two independent lanes, built, approved and accepted.
fn accepted(env: &TestEnv) -> Fx {
    let fx = planned(env, 2, false);
    build_lanes(env, &fx, 2, false);
    assert_eq!(accept(env, &fx)["accepted"], true);
    fx
}

/// A bare repository added to the project as `origin`.
fn with_origin(env: &TestEnv, fx: &Fx) -> PathBuf {
    env.add_bare_origin(&fx.root, "origin.git")
}

/// `--target` lands on another branch (main stays), `--keep-branch` keeps the
/// lane branches while their worktrees go, `--push` sends the target to the
/// upstream it tracks (a differently named remote branch).
#[test]
fn merge_target_keep_branch_and_push_act() {
    let env = TestEnv::new();
    let fx = accepted(&env);
    env.git(&fx.root, &["branch", "release"]);
    let bare = with_origin(&env, &fx);
    env.git(&fx.root, &["push", "-q", "origin", "release:rel-up"]);
    env.git(
        &fx.root,
        &["branch", "--set-upstream-to=origin/rel-up", "release"],
    );
    let main_before = rev(&env, &fx.root, "main");

    let v = env.json(
        &fx.root,
        &[
            "merge",
            "--mission",
            "m",
            "--target",
            "release",
            "--keep-branch",
            "--push",
            "--json",
        ],
    );
    assert_eq!(v["result"], "success", "{v}");
    assert_eq!(v["target_branch"], "release");
    assert_eq!(v["delete_branch"], false);
    assert_eq!(v["remove_worktree"], true);
    assert_eq!(v["pushed"]["remote"], "origin", "{v}");
    assert_eq!(v["pushed"]["remote_branch"], "rel-up", "{v}");
    // main did not move; release holds both lanes' work and the record commit.
    assert_eq!(rev(&env, &fx.root, "main"), main_before);
    for i in [1, 2] {
        assert_eq!(
            env.git(&fx.root, &["show", &format!("release:src/p{i}/lib.txt")]),
            format!("package {i}\n")
        );
    }
    let meta: Value = serde_json::from_str(&env.git(
        &fx.root,
        &["show", &format!("release:kitty-specs/{SLUG}/meta.json")],
    ))
    .unwrap();
    assert_eq!(meta["merged_into"], "release");
    // Pushed: the remote branch is the local release tip.
    assert_eq!(
        env.git(&bare, &["rev-parse", "rel-up"]).trim(),
        rev(&env, &fx.root, "release")
    );
    // Worktrees removed, lane branches kept.
    for lane in ["lane-a", "lane-b"] {
        assert!(!fx.worktree(lane).exists(), "{lane} worktree stayed");
        assert!(
            branch_exists(&env, &fx.root, &branch(lane)),
            "{lane} branch gone"
        );
    }
}

/// `--keep-worktree` keeps worktrees (and so their branches); the agent
/// spelling `agent mission merge --keep-worktree --keep-branch` too; the
/// default removes both. `--keep-workspace` is `--keep-worktree`.
#[test]
fn merge_keep_worktree_and_keep_workspace_keep_the_lane_worktrees() {
    for args in [
        vec!["merge", "--mission", "m", "--keep-worktree", "--json"],
        vec!["merge", "--mission", "m", "--keep-workspace", "--json"],
        vec![
            "agent",
            "mission",
            "merge",
            "--mission",
            "m",
            "--keep-worktree",
            "--keep-branch",
            "--json",
        ],
    ] {
        let env = TestEnv::new();
        let fx = accepted(&env);
        let v = env.json(&fx.root, &args);
        assert_eq!(v["remove_worktree"], false, "{args:?}: {v}");
        assert_eq!(v["removed_worktrees"], serde_json::json!([]), "{args:?}");
        for lane in ["lane-a", "lane-b"] {
            assert!(fx.worktree(lane).is_dir(), "{args:?}: {lane} removed");
            assert!(branch_exists(&env, &fx.root, &branch(lane)), "{args:?}");
        }
    }
    // The last of --keep-branch / --delete-branch wins; with the defaults
    // every lane worktree and branch goes.
    let env = TestEnv::new();
    let fx = accepted(&env);
    let v = env.json(
        &fx.root,
        &[
            "merge",
            "--mission",
            "m",
            "--keep-branch",
            "--delete-branch",
            "--json",
        ],
    );
    assert_eq!(v["delete_branch"], true);
    for lane in ["lane-a", "lane-b"] {
        assert!(!fx.worktree(lane).exists());
        assert!(!branch_exists(&env, &fx.root, &branch(lane)), "{lane}");
    }
}

/// `--resume` finishes an interrupted merge (it is `--continue`), and takes
/// the keep flags for the clean-up it still has to do; with nothing to resume
/// it exits 1 like the reference.
#[test]
fn merge_resume_finishes_an_interrupted_merge() {
    let env = TestEnv::new();
    let fx = accepted(&env);
    let out = env
        .sk(&fx.root, &["merge", "--mission", "m"])
        .env("SPEC_KITTY_TEST_MERGE_INTERRUPT", "landed")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v = env.json(
        &fx.root,
        &[
            "merge",
            "--mission",
            "m",
            "--resume",
            "--keep-branch",
            "--json",
        ],
    );
    assert_eq!(v["result"], "success", "{v}");
    assert_eq!(v["wps_done"], serde_json::json!(["WP01", "WP02"]));
    assert!(!fx.worktree("lane-a").exists());
    assert!(branch_exists(&env, &fx.root, &branch("lane-a")));
    assert!(!fx.root.join(".git/spec-kitty-merge/001-m.json").exists());
    let out = env.run(&fx.root, &["merge", "--mission", "m", "--resume"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

/// `--push` when the push fails: exit 1 naming the remote, the merge stays
/// done; with no remote at all: the merge succeeds and says nothing was pushed.
#[test]
fn merge_push_failure_and_no_remote() {
    let env = TestEnv::new();
    let fx = accepted(&env);
    env.git(
        &fx.root,
        &[
            "remote",
            "add",
            "origin",
            env.work.join("nowhere.git").to_str().unwrap(),
        ],
    );
    let out = env.run(&fx.root, &["merge", "--mission", "m", "--push", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v = parse(&out);
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("pushing main to origin failed")
            || stdout(&out).contains("pushing main to origin failed"),
        "{v}"
    );
    assert_eq!(v["wps_done"], serde_json::json!(["WP01", "WP02"]), "{v}");
    assert_eq!(
        env.git(&fx.root, &["show", "main:src/p1/lib.txt"]),
        "package 1\n"
    );

    let env = TestEnv::new();
    let fx = accepted(&env);
    let v = env.json(&fx.root, &["merge", "--mission", "m", "--push", "--json"]);
    assert!(v.get("pushed").is_none(), "{v}");
    assert!(
        v["push_skipped"]
            .as_str()
            .unwrap()
            .contains("nothing was pushed"),
        "{v}"
    );
}

/// `--target` that is not a usable branch is refused before anything changes.
#[test]
fn merge_target_refuses_bad_or_missing_branches() {
    let env = TestEnv::new();
    let fx = accepted(&env);
    let before = crate::merge::repo_state(&env, &fx.root);
    for t in [
        "no-such-branch",
        "-x",
        "a..b",
        &branch("lane-a"),
        "kitty/mission-001-m",
    ] {
        let out = env.run(
            &fx.root,
            &[
                "merge",
                "--mission",
                "m",
                &format!("--target={t}"),
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{t}: {}", stdout(&out));
    }
    assert_eq!(crate::merge::repo_state(&env, &fx.root), before);
}

/// `--context TOKEN` selects the mission the token file names; a malformed
/// token, a missing file, or a token naming another mission than --mission
/// is refused.
#[test]
fn merge_context_token_selects_the_mission() {
    let env = TestEnv::new();
    let fx = planned(&env, 1, false);
    // A second mission, so inference alone could not choose.
    env.json(&fx.root, &["agent", "mission", "create", "other", "--json"]);
    let dir = fx.root.join(".kittify/runtime/contexts");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("ctx-01HV0TEST.json"),
        format!("{{\"token\": \"ctx-01HV0TEST\", \"mission_slug\": \"{SLUG}\"}}"),
    )
    .unwrap();
    fs::write(
        dir.join("ctx-01HVOTHER.json"),
        "{\"token\": \"ctx-01HVOTHER\", \"mission_slug\": \"002-other\"}",
    )
    .unwrap();
    let out = env.run(
        &fx.root,
        &["merge", "--context", "ctx-01HV0TEST", "--dry-run", "--json"],
    );
    let v = parse(&out);
    assert_eq!(v["mission_slug"], SLUG, "{v}");
    for (args, what) in [
        (
            vec!["merge", "--context", "../../etc/passwd", "--dry-run"],
            "not a context token",
        ),
        (
            vec!["merge", "--context", "ctx-01NOTHERE", "--dry-run"],
            "not found",
        ),
        (
            vec![
                "merge",
                "--context",
                "ctx-01HVOTHER",
                "--mission",
                "m",
                "--dry-run",
            ],
            "different missions",
        ),
    ] {
        let out = env.run(&fx.root, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(what), "{args:?}: {}", stderr(&out));
    }
}

/// Run from a lane worktree: `--no-auto-retry` refuses, `--auto-retry` (and
/// the default) merges from the main checkout and says so.
#[test]
fn agent_mission_merge_auto_retry_from_a_lane_worktree() {
    let env = TestEnv::new();
    let fx = accepted(&env);
    let wt = fx.worktree("lane-a");
    let out = env.run(
        &wt,
        &[
            "agent",
            "mission",
            "merge",
            "--mission",
            "m",
            "--no-auto-retry",
            "--dry-run",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--no-auto-retry"), "{}", stderr(&out));
    let v = env.json(
        &wt,
        &[
            "agent",
            "mission",
            "merge",
            "--mission",
            "m",
            "--auto-retry",
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(v["would_merge"], true, "{v}");
    assert!(
        v["location_note"]
            .as_str()
            .unwrap()
            .contains("main checkout"),
        "{v}"
    );
    // From the main checkout there is nothing to say.
    let v = env.json(
        &fx.root,
        &[
            "agent",
            "mission",
            "merge",
            "--mission",
            "m",
            "--no-auto-retry",
            "--dry-run",
            "--json",
        ],
    );
    assert!(v.get("location_note").is_none(), "{v}");
}

/// `merge --dry-run` on a mission that is not ready (not accepted, work
/// packages not approved) prints the plan and its blockers and exits 0 like
/// the reference; the JSON holds every key of the reference's dry run.
#[test]
fn merge_dry_run_not_ready_prints_the_plan_and_exits_0() {
    let env = TestEnv::new();
    let fx = planned(&env, 2, false);
    crate::merge::implement(&env, &fx, 1);
    let out = env.run(
        &fx.root,
        &["merge", "--mission", "m", "--dry-run", "--json"],
    );
    let r = reference::json_in(&fixtures(), "merge-dry-run-not-ready.json");
    assert_eq!(
        out.status.code(),
        Some(reference::exit_in(
            &fixtures(),
            "merge-dry-run-not-ready.json"
        )),
        "{}",
        stderr(&out)
    );
    let v = parse(&out);
    has_reference_keys(&v, &r, "merge --dry-run");
    assert_eq!(v["result"], "blocked");
    assert_eq!(v["would_merge"], false);
    assert!(!v["blockers"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["mission_branch"], "kitty/mission-001-m");
    has_reference_keys(&v["lanes"][0], &r["lanes"][0], "merge --dry-run lane");
    let human = assert_run!(
        env,
        &fx.root,
        "merge_dry_run_not_ready",
        ["merge", "--mission", "m", "--dry-run"]
    );
    assert_eq!(human.status.code(), Some(0));
}

/// `agent tasks status --stale-threshold MINUTES`: a work package in progress
/// whose last status change and lane commit are older than the threshold is
/// stale (JSON `stale_wps`, per WP `stale{...}`, `is_stale`; a human section);
/// a lane commit newer than the threshold keeps it fresh.
#[test]
fn tasks_status_stale_threshold_reports_idle_work_packages() {
    let env = TestEnv::new();
    let fx = planned(&env, 2, false);
    let wt = crate::merge::implement(&env, &fx, 1);
    let status = |threshold: &str| {
        env.json(
            &fx.root,
            &[
                "agent",
                "tasks",
                "status",
                "--mission",
                "m",
                "--stale-threshold",
                threshold,
                "--json",
            ],
        )
    };
    let wp1 = |v: &Value| -> Value {
        v["work_packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == "WP01")
            .cloned()
            .unwrap()
    };
    let v = status("0");
    assert_eq!(wp1(&v)["lane"], "in_progress", "{v}");
    assert_eq!(v["stale_wps"], 1, "{v}");
    assert_eq!(wp1(&v)["is_stale"], true);
    assert_eq!(wp1(&v)["stale"]["status"], "stale");
    assert_eq!(wp1(&v)["worktree_exists"], true);
    let wp2 = v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "WP02")
        .cloned()
        .unwrap();
    assert!(
        wp2.get("is_stale").is_none(),
        "only WPs in progress are checked: {wp2}"
    );
    let v = status("100000");
    assert_eq!(v["stale_wps"], 0, "{v}");
    assert_eq!(wp1(&v)["stale"]["status"], "fresh");

    let args = [
        "agent",
        "tasks",
        "status",
        "--mission",
        "m",
        "--stale-threshold",
        "0",
    ];
    let out = env.run(&fx.root, &args);
    let mut s = env.snap_settings();
    s.add_filter(
        r"activity \d+(\.\d+)? minutes ago",
        "activity [N] minutes ago",
    );
    s.bind(|| {
        insta::assert_snapshot!(
            "tasks_status_stale",
            crate::common::snap::transcript(&args, &out)
        );
    });

    // A lane commit (dated a day ahead) is activity: fresh again at threshold 0.
    fs::write(wt.join("work.txt"), "more\n").unwrap();
    env.git(&wt, &["add", "-A"]);
    let out = std::process::Command::new("git")
        .args(["commit", "-qm", "WP01: more"])
        .current_dir(&wt)
        .env("HOME", &env.home)
        .env("GIT_CONFIG_GLOBAL", &env.gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_COMMITTER_DATE", "2099-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v = status("0");
    assert_eq!(v["stale_wps"], 0, "{v}");
    assert!(wp1(&v)["stale"]["last_commit_time"]
        .as_str()
        .unwrap()
        .starts_with("2099-01-01"));
}

/// `agent context resolve --wp-id` names the work package (any case, with or
/// without its slug) instead of the first ready one; `--agent` is written
/// into the commands, quoted for the shell.
#[test]
fn context_resolve_wp_id_and_agent_act() {
    let env = TestEnv::new();
    let fx = planned(&env, 2, false);
    let resolve = |extra: &[&str]| {
        let mut args = vec![
            "agent",
            "context",
            "resolve",
            "--action",
            "implement",
            "--mission",
            "m",
            "--json",
        ];
        args.extend_from_slice(extra);
        env.run(&fx.root, &args)
    };
    let v = parse(&resolve(&[]));
    assert_eq!(v["wp_id"], "WP01", "{v}");
    assert!(v["commands"]["implement"]
        .as_str()
        .unwrap()
        .contains("--agent <agent>"));
    let v = parse(&resolve(&["--wp-id", "wp02-p2", "--agent", "claude"]));
    assert_eq!(v["wp_id"], "WP02", "{v}");
    assert_eq!(
        v["commands"]["implement"],
        "spec-kitty agent action implement WP02 --mission 001-m --agent claude"
    );
    let v = parse(&resolve(&["--agent", "x; rm -rf /"]));
    assert!(
        v["commands"]["implement"]
            .as_str()
            .unwrap()
            .ends_with("--agent 'x; rm -rf /'"),
        "{v}"
    );
    let out = resolve(&["--wp-id", "WP09"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let args = [
        "agent",
        "context",
        "resolve",
        "--action",
        "review",
        "--mission",
        "m",
        "--wp-id",
        "WP02",
        "--agent",
        "claude",
    ];
    assert_run!(env, &fx.root, "context_resolve_wp_id_agent", args);
}

/// `implement WP02 --base WP01` starts WP02's new lane from WP01's lane
/// branch (its work is there); a base naming nothing, or a lane that already
/// exists without it, is refused.
#[test]
fn implement_base_starts_a_new_lane_from_another_wps_work() {
    let env = TestEnv::new();
    let fx = planned(&env, 3, false);
    let wt1 = crate::merge::implement(&env, &fx, 1);
    crate::merge::commit_file(&env, &wt1, "src/p1/lib.txt", "package 1\n", "WP01: p1");
    let v = env.json(
        &fx.root,
        &[
            "implement",
            "WP02",
            "--mission",
            "m",
            "--base",
            "WP01",
            "--json",
        ],
    );
    assert_eq!(v["base"]["branch"], branch("lane-a"), "{v}");
    assert_eq!(v["base"]["applied"], true);
    assert_eq!(
        v["base"]["commit"],
        rev(&env, &fx.root, &branch("lane-a")).as_str()
    );
    let wt2 = fx.worktree("lane-b");
    assert_eq!(
        fs::read_to_string(wt2.join("src/p1/lib.txt")).unwrap(),
        "package 1\n"
    );
    assert_eq!(
        rev(&env, &fx.root, &branch("lane-b")),
        rev(&env, &fx.root, &branch("lane-a"))
    );
    // Again: the lane exists and holds the base; nothing moves.
    let v = env.json(
        &fx.root,
        &[
            "implement",
            "WP02",
            "--mission",
            "m",
            "--base",
            "WP01",
            "--json",
        ],
    );
    assert_eq!(v["base"]["applied"], false, "{v}");

    for (args, what) in [
        (
            vec![
                "implement",
                "WP03",
                "--mission",
                "m",
                "--base",
                "no-such-ref",
            ],
            "does not name a commit",
        ),
        (
            vec!["implement", "WP03", "--mission", "m", "--base=-x"],
            "does not name a commit",
        ),
        (
            vec!["implement", "WP03", "--mission", "m", "--base", "WP09"],
            "WP09",
        ),
    ] {
        let out = env.run(&fx.root, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains(what), "{args:?}: {}", stderr(&out));
        assert!(!fx.worktree("lane-c").exists(), "{args:?} made a worktree");
    }
    // lane-a moves on; lane-b (already made) does not hold its new tip.
    crate::merge::commit_file(&env, &wt1, "src/p1/more.txt", "more\n", "WP01: more");
    let out = env.run(
        &fx.root,
        &["implement", "WP02", "--mission", "m", "--base", "WP01"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("already exists and does not contain"),
        "{}",
        stderr(&out)
    );
    // A git revision works too.
    let v = env.json(
        &fx.root,
        &[
            "implement",
            "WP03",
            "--mission",
            "m",
            "--base",
            "main",
            "--json",
        ],
    );
    assert_eq!(v["base"]["commit"], rev(&env, &fx.root, "main").as_str());
}

/// `implement --recover`: a started WP whose lane worktree is gone gets it
/// back from its branch (work kept); a claimed WP whose lane holds commits
/// moves to in_progress; nothing to do says so.
#[test]
fn implement_recover_brings_back_lost_workspaces() {
    let env = TestEnv::new();
    let fx = planned(&env, 3, false);
    let wt1 = crate::merge::implement(&env, &fx, 1);
    crate::merge::commit_file(&env, &wt1, "src/p1/lib.txt", "package 1\n", "WP01: p1");
    fs::remove_dir_all(&wt1).unwrap();
    // WP02: claimed, its workspace made by the internal `implement`, work committed.
    env.json(
        &fx.root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "claimed",
            "--agent",
            "codex",
            "--mission",
            "m",
            "--json",
        ],
    );
    let v = env.json(&fx.root, &["implement", "WP02", "--mission", "m", "--json"]);
    let wt2 = PathBuf::from(v["workspace"].as_str().unwrap());
    crate::merge::commit_file(&env, &wt2, "src/p2/lib.txt", "package 2\n", "WP02: p2");

    // WP03: claimed, never started (no lane branch): nothing to recover there.
    env.json(
        &fx.root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP03",
            "--to",
            "claimed",
            "--agent",
            "codex",
            "--mission",
            "m",
            "--json",
        ],
    );
    let v = env.json(
        &fx.root,
        &["implement", "--recover", "--mission", "m", "--json"],
    );
    assert_eq!(v["status"], "ok", "{v}");
    assert_eq!(
        v["recovered_wps"],
        serde_json::json!(["WP01", "WP02"]),
        "{v}"
    );
    assert_eq!(v["worktrees_recreated"], 1);
    assert_eq!(v["transitions_emitted"], 1);
    assert_eq!(
        fs::read_to_string(wt1.join("src/p1/lib.txt")).unwrap(),
        "package 1\n"
    );
    let s = env.json(
        &fx.root,
        &["agent", "tasks", "status", "--mission", "m", "--json"],
    );
    let lane_of = |id: &str| {
        s["work_packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == id)
            .unwrap()["lane"]
            .clone()
    };
    assert_eq!(lane_of("WP02"), "in_progress");
    assert_eq!(lane_of("WP03"), "claimed");
    assert!(
        !fx.worktree("lane-c").exists(),
        "a lane never started was made"
    );
    let args = ["implement", "--recover", "--mission", "m"];
    let out = assert_run!(env, &fx.root, "implement_recover_nothing", args);
    assert_eq!(out.status.code(), Some(0));
}

/// `next --answer`: needs --result (query mode is read-only) and --agent, as
/// the reference checks; with both, there is no pending decision to answer
/// (decisions are read off the files), exit 1 naming the decision and
/// recording nothing. `--decision-id` without `--answer` is a usage error.
#[test]
fn next_answer_and_decision_id() {
    let env = TestEnv::new();
    let fx = planned(&env, 1, false);
    let before = fs::read_to_string(fx.dir.join("status.events.jsonl")).unwrap_or_default();
    for (args, what) in [
        (
            vec!["next", "--agent", "a", "--mission", "m", "--answer", "yes"],
            "requires --result",
        ),
        (
            vec![
                "next",
                "--agent",
                "a",
                "--mission",
                "m",
                "--answer",
                "yes",
                "--result",
                "success",
            ],
            "no pending decisions to answer",
        ),
        (
            vec![
                "next",
                "--agent",
                "a",
                "--mission",
                "m",
                "--answer",
                "approve",
                "--decision-id",
                "input:review",
                "--result",
                "success",
            ],
            "decision input:review is not pending",
        ),
    ] {
        let out = env.run(&fx.root, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(what), "{args:?}: {}", stderr(&out));
    }
    // Usage errors (exit 2): --decision-id alone; --result (so --answer) without --agent.
    for args in [
        vec!["next", "--mission", "m", "--decision-id", "x"],
        vec![
            "next",
            "--mission",
            "m",
            "--answer",
            "yes",
            "--result",
            "success",
        ],
    ] {
        let out = env.run(&fx.root, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    assert_eq!(
        fs::read_to_string(fx.dir.join("status.events.jsonl")).unwrap_or_default(),
        before,
        "an answer recorded something"
    );
    let args = [
        "next",
        "--agent",
        "a",
        "--mission",
        "m",
        "--answer",
        "yes",
        "--result",
        "success",
    ];
    assert_run!(env, &fx.root, "next_answer_nothing_pending", args);
}

/// A failing `accept --json` carries the reference's readiness summary:
/// paths, mission number and type, the work packages by lane (as
/// `lanes_by_lane`: our `lanes` lists lane tips), each WP's entry, activity
/// issues, optional artifacts missing. Same project state as make.sh's run.
#[test]
fn failing_accept_carries_the_reference_summary() {
    let env = TestEnv::new();
    let root = reference::surface2_project(&env);
    let m = "001-dogfood-track2";
    env.json(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "claimed",
            "--assignee",
            "alice",
            "--shell-pid",
            "42",
            "--no-auto-commit",
            "--mission",
            m,
            "--json",
        ],
    );
    let out = env.run(
        &root,
        &["agent", "mission", "accept", "--mission", m, "--json"],
    );
    let r = reference::json_in(&fixtures(), "accept-failing.json");
    assert_eq!(
        out.status.code(),
        Some(reference::exit_in(&fixtures(), "accept-failing.json"))
    );
    let v = parse(&out);
    has_reference_keys(&v, &r, "accept");
    assert_eq!(v["lanes_by_lane"], r["lanes"], "{v}");
    for k in [
        "mission_number",
        "mission_type",
        "optional_missing",
        "needs_clarification",
        "path_violations",
    ] {
        assert_eq!(v[k], r[k], "{k}");
    }
    let wp_issues = |x: &Value| {
        x["activity_issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i.as_str().unwrap().starts_with("WP"))
            .count()
    };
    assert_eq!(wp_issues(&v), wp_issues(&r));
    for (o, t) in v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["work_packages"].as_array().unwrap())
    {
        has_reference_keys(o, t, "accept work package");
        for k in [
            "id",
            "lane",
            "title",
            "path",
            "latest_lane",
            "has_lane_entry",
        ] {
            assert_eq!(o[k], t[k], "{k}");
        }
        assert_eq!(o["metadata"]["agent"], t["metadata"]["agent"]);
    }
    assert!(v["feature_dir"]
        .as_str()
        .unwrap()
        .ends_with("kitty-specs/001-dogfood-track2"));
}

/// `agent tasks status --json` on the reference-made project has every key of
/// the reference's, per work package too (`phase`, `agent_profile`,
/// `shell_pid`, and the stale fields on the one in progress). The values of
/// WP01 differ by design: its last status change is months old, which ours
/// counts as inactivity (the reference looks at lane commits only; it has none).
#[test]
fn tasks_status_json_has_the_reference_keys() {
    let env = TestEnv::new();
    let root = reference::surface2_project(&env);
    let m = "001-dogfood-track2";
    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "status",
            "--mission",
            m,
            "--stale-threshold",
            "10",
            "--json",
        ],
    );
    let r = reference::json_in(&fixtures(), "tasks-status.json");
    has_reference_keys(&v, &r, "tasks status");
    assert_eq!(v["total_wps"], r["total_wps"]);
    assert_eq!(v["by_lane"], r["by_lane"]);
    for (o, t) in v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["work_packages"].as_array().unwrap())
    {
        has_reference_keys(o, t, "tasks status work package");
        for k in [
            "id",
            "lane",
            "phase",
            "agent_profile",
            "shell_pid",
            "execution_mode",
            "workspace_kind",
        ] {
            assert_eq!(o[k], t[k], "{k} of {}", t["id"]);
        }
        if t.get("stale").is_some() {
            has_reference_keys(&o["stale"], &t["stale"], "stale");
        }
    }
    let wp1 = &v["work_packages"][0];
    assert_eq!(wp1["id"], "WP01");
    assert_eq!(wp1["is_stale"], true, "{wp1}");
    assert_eq!(v["stale_wps"], 1);
}
