//! The human-readable output of every command, as insta snapshots of exit code,
//! stdout and stderr (`common::snap` filters out paths, ids, times, hashes and
//! ports). A reviewer sees any change to what a person reads as a `.snap` diff.
//! The commands run in the order a person would use them, on one realistic
//! project: init, a mission from create to merge, the project-wide commands,
//! a release, and the refusals people meet most.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::flow::Flow;
use crate::common::snap::{assert_out, assert_run};
use crate::common::{three_wps, write, write_mission, TestEnv};

const M: &str = "001-demo";

/// `init .` in a fresh repository with one commit of its own; the init files
/// committed afterwards, as a person would.
fn initialised(env: &TestEnv) -> PathBuf {
    let root = env.work.join("demo");
    fs::create_dir_all(&root).unwrap();
    env.git(&root, &["init", "-q"]);
    write(&root.join("README.md"), "# demo\n");
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "initial"]);
    assert_run!(
        env,
        &root,
        "init",
        ["init", ".", "--ai", "codex", "--non-interactive"]
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "spec-kitty init"]);
    root
}

/// Run a command that must exit 0 and snapshot it.
macro_rules! ok {
    ($env:expr, $dir:expr, $name:expr, $args:expr) => {{
        let out = assert_run!($env, $dir, $name, $args);
        assert!(
            out.status.success(),
            "{}: {}",
            $name,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }};
}

/// Run a command that must exit 0 and prints a long generated text (a
/// prompt) after its summary lines; snapshot the summary only.
macro_rules! brief {
    ($env:expr, $dir:expr, $name:expr, $args:expr) => {{
        let args: &[&str] = &$args;
        let out = $env.run($dir, args);
        assert!(
            out.status.success(),
            "{}: {}",
            $name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_out!($env, $name, args, &crate::common::snap::summary(&out));
        out
    }};
}

fn commit_in(env: &TestEnv, dir: &Path, file: &str, text: &str, msg: &str) {
    write(&dir.join(file), text);
    env.git(dir, &["add", "-A"]);
    env.git(dir, &["commit", "-qm", msg]);
}

/// The whole loop on one mission, every step's human output snapshotted:
/// create, plan, tasks, finalize, the board, `next`, implement and review of a
/// planning WP and two code WPs in one lane, accept (failing, then passing),
/// merge --dry-run, merge, and the board and `next` afterwards.
#[test]
fn a_mission_from_create_to_merge() {
    let env = TestEnv::new();
    let root = initialised(&env);
    let with = |args: &[&'static str]| -> Vec<&'static str> {
        let mut v = args.to_vec();
        v.extend(["--mission", M]);
        v
    };

    ok!(env, &root, "create", ["agent", "mission", "create", "demo"]);
    ok!(env, &root, "mission_list_one", ["agent", "mission", "list"]);
    ok!(
        env,
        &root,
        "next_specify",
        with(&["next", "--agent", "codex"])
    );
    ok!(
        env,
        &root,
        "setup_plan",
        with(&["agent", "mission", "setup-plan"])
    );
    let dir = root.join("kitty-specs").join(M);
    write_mission(&dir, M, &three_wps());
    ok!(
        env,
        &root,
        "check_prerequisites",
        with(&["agent", "mission", "check-prerequisites"])
    );
    ok!(
        env,
        &root,
        "finalize_tasks",
        with(&["agent", "mission", "finalize-tasks"])
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan the demo mission"]);

    ok!(
        env,
        &root,
        "status_planned",
        with(&["agent", "tasks", "status"])
    );
    ok!(
        env,
        &root,
        "list_tasks",
        with(&["agent", "tasks", "list-tasks"])
    );
    ok!(
        env,
        &root,
        "list_dependents",
        with(&["agent", "tasks", "list-dependents", "WP01"])
    );
    ok!(
        env,
        &root,
        "map_requirements",
        with(&[
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP01",
            "--refs",
            "FR-001"
        ])
    );
    ok!(
        env,
        &root,
        "context_resolve",
        with(&["agent", "context", "resolve", "--action", "implement"])
    );
    ok!(
        env,
        &root,
        "branch_context",
        ["agent", "mission", "branch-context"]
    );
    ok!(
        env,
        &root,
        "next_implement",
        with(&["next", "--agent", "codex"])
    );

    // WP01, a planning WP, in the main checkout.
    ok!(
        env,
        &root,
        "implement_planning",
        with(&["agent", "action", "implement", "WP01", "--agent", "codex"])
    );
    write(&dir.join("research.md"), "Findings.\n");
    let refused = assert_run!(
        env,
        &root,
        "refused_hand_in_unticked",
        with(&[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "for_review",
            "--agent",
            "codex"
        ])
    );
    assert_eq!(refused.status.code(), Some(1));
    ok!(
        env,
        &root,
        "mark_status",
        with(&["agent", "tasks", "mark-status", "T001", "--status", "done"])
    );
    ok!(
        env,
        &root,
        "hand_in",
        with(&[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "for_review",
            "--agent",
            "codex",
            "--note",
            "research written"
        ])
    );
    ok!(
        env,
        &root,
        "next_after_a_result",
        with(&["next", "--agent", "codex", "--result", "success"])
    );
    ok!(
        env,
        &root,
        "add_history",
        with(&[
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--note",
            "ready for a look",
            "--agent",
            "codex"
        ])
    );
    let own = assert_run!(
        env,
        &root,
        "refused_own_review",
        with(&["agent", "action", "review", "WP01", "--agent", "codex"])
    );
    assert_eq!(own.status.code(), Some(1));
    brief!(
        env,
        &root,
        "review_planning",
        with(&["agent", "action", "review", "WP01", "--agent", "claude"])
    );
    ok!(
        env,
        &root,
        "approve",
        with(&[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "approved",
            "--agent",
            "claude",
            "--note",
            "looks right"
        ])
    );

    // WP02 and WP03, code WPs in one lane worktree.
    ok!(
        env,
        &root,
        "implement_code",
        with(&["agent", "action", "implement", "WP02", "--agent", "codex"])
    );
    let wt = root.join(".worktrees").join(format!("{M}-lane-a"));
    assert!(wt.is_dir(), "no lane worktree at {}", wt.display());
    let skip = assert_run!(
        env,
        &root,
        "refused_skip_to_done",
        with(&["agent", "tasks", "move-task", "WP02", "--to", "done"])
    );
    assert_eq!(skip.status.code(), Some(1));
    commit_in(&env, &wt, "src/core/mod.rs", "// WP02\n", "WP02: core");
    ok!(
        env,
        &wt,
        "mark_status_in_lane",
        with(&["agent", "tasks", "mark-status", "T002", "--status", "done"])
    );
    ok!(
        env,
        &wt,
        "hand_in_code",
        with(&[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "for_review",
            "--agent",
            "codex",
            "--note",
            "core done"
        ])
    );
    ok!(
        env,
        &root,
        "status_mid",
        with(&["agent", "tasks", "status"])
    );
    ok!(
        env,
        &root,
        "next_review",
        with(&["next", "--agent", "claude"])
    );
    ok!(
        env,
        &root,
        "review_code",
        with(&["agent", "action", "review", "WP02", "--agent", "claude"])
    );
    ok!(
        env,
        &root,
        "send_back",
        with(&[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "in_progress",
            "--agent",
            "claude",
            "--review-feedback",
            "Name the module in a comment."
        ])
    );
    commit_in(
        &env,
        &wt,
        "src/core/mod.rs",
        "// WP02: core\n",
        "WP02: comment",
    );
    for (to, agent) in [("for_review", "codex"), ("approved", "claude")] {
        let out = env.run(
            &root,
            &with(&[
                "agent",
                "tasks",
                "move-task",
                "WP02",
                "--to",
                to,
                "--agent",
                agent,
                "--note",
                "ok",
            ]),
        );
        assert!(out.status.success(), "{}", crate::common::stderr(&out));
    }
    ok!(
        env,
        &root,
        "accept_failing",
        with(&["accept", "--allow-fail", "--no-commit"])
    );
    let refused = assert_run!(env, &root, "accept_refused", with(&["accept"]));
    assert_eq!(refused.status.code(), Some(1));

    brief!(
        env,
        &root,
        "implement_second_in_lane",
        with(&["agent", "action", "implement", "WP03", "--agent", "codex"])
    );
    commit_in(&env, &wt, "src/cli/mod.rs", "// WP03\n", "WP03: cli");
    env.ok(
        &wt,
        &with(&["agent", "tasks", "mark-status", "T003", "--status", "done"]),
    );
    for (to, agent) in [("for_review", "codex"), ("approved", "claude")] {
        env.ok(
            &root,
            &with(&[
                "agent",
                "tasks",
                "move-task",
                "WP03",
                "--to",
                to,
                "--agent",
                agent,
                "--note",
                "ok",
            ]),
        );
    }
    ok!(
        env,
        &root,
        "validate_workflow",
        with(&["agent", "tasks", "validate-workflow"])
    );
    ok!(
        env,
        &root,
        "status_approved",
        with(&["agent", "tasks", "status"])
    );
    ok!(
        env,
        &root,
        "next_accept",
        with(&["next", "--agent", "codex"])
    );
    ok!(
        env,
        &root,
        "accept",
        with(&["accept", "--agent", "operator"])
    );
    ok!(
        env,
        &root,
        "next_merge",
        with(&["next", "--agent", "codex"])
    );
    ok!(env, &root, "merge_dry_run", with(&["merge", "--dry-run"]));
    ok!(env, &root, "merge", with(&["merge"]));
    ok!(
        env,
        &root,
        "status_done",
        with(&["agent", "tasks", "status"])
    );
    ok!(
        env,
        &root,
        "next_terminal",
        with(&["next", "--agent", "codex"])
    );
    ok!(env, &root, "materialize", with(&["materialize"]));
    ok!(
        env,
        &root,
        "mission_list_merged",
        ["agent", "mission", "list"]
    );
}

/// The commands around missions: auth, mission types, charter, research,
/// upgrade, the dashboard, record, repair and delete.
#[test]
fn project_commands() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    assert_eq!(m.slug, M);
    let with = |args: &[&'static str]| -> Vec<&'static str> {
        let mut v = args.to_vec();
        v.extend(["--mission", M]);
        v
    };
    let run = |name: &str, args: &[&str]| assert_run!(env, &root, name, args);

    run("auth_status_logged_out", &["auth", "status"]);
    run("agent_auth_status", &["agent", "auth", "status"]);
    run("auth_logout_logged_out", &["auth", "logout"]);
    run("mission_types", &["mission", "list"]);
    run("mission_info", &["mission", "info", "research"]);
    run("mission_current", &with(&["mission", "current"]));

    run("charter_status_none", &["charter", "status"]);
    run("charter_interview", &["charter", "interview", "--defaults"]);
    run("charter_generate", &["charter", "generate"]);
    run("charter_status", &["charter", "status"]);
    run(
        "charter_context",
        &["charter", "context", "--action", "implement"],
    );
    run("charter_sync", &["charter", "sync"]);
    run("charter_generate_again", &["charter", "generate"]);

    run("research", &with(&["research"]));
    run("research_again", &with(&["research"]));

    run("upgrade_writes_slash_commands", &["upgrade"]);
    run("upgrade_current", &["upgrade"]);
    let meta = root.join(".kittify/metadata.yaml");
    let text = fs::read_to_string(&meta).unwrap();
    fs::write(&meta, text.replace(env!("CARGO_PKG_VERSION"), "3.0.0")).unwrap();
    run("upgrade_dry_run", &["upgrade", "--dry-run"]);
    run("upgrade", &["upgrade"]);

    run("dashboard_kill_nothing", &["dashboard", "--kill"]);

    brief!(
        env,
        &root,
        "implement_internal",
        ["implement", "WP01", "--mission", M]
    );
    run("version", &["--version"]);
    run(
        "agent_mission_accept_report",
        &with(&["agent", "mission", "accept", "--allow-fail", "--no-commit"]),
    );
    run(
        "agent_mission_merge_dry_run_blocked",
        &with(&["agent", "mission", "merge", "--dry-run"]),
    );
    run(
        "finalize_again",
        &with(&["agent", "tasks", "finalize-tasks"]),
    );
    run(
        "list_tasks_lane",
        &with(&["agent", "tasks", "list-tasks", "--lane", "planned"]),
    );
    run(
        "list_dependents_all",
        &with(&["agent", "tasks", "list-dependents", "WP01", "--all"]),
    );
    run(
        "charter_interview_unknown_key",
        &["charter", "interview", "--answer", "colour=blue"],
    );
    run(
        "charter_generate_force",
        &["charter", "generate", "--force"],
    );
    run("research_force", &with(&["research", "--force"]));
    let tasks_dir = root.join("kitty-specs").join(M).join("tasks");
    run("mission_current_inferred", &["mission", "current"]);
    let inside = assert_run!(
        env,
        &tasks_dir,
        "mission_current_in_mission_dir",
        ["mission", "current"]
    );
    assert!(inside.status.success());

    // Colour, when asked for: the styles show as escapes in the snapshot.
    run(
        "status_in_colour",
        &with(&["agent", "tasks", "status", "--color", "always"]),
    );
    run(
        "error_in_colour",
        &["mission", "info", "cooking", "--color", "always"],
    );

    // A status log a text merge left with conflict markers and a duplicate.
    let log = root.join("kitty-specs").join(M).join("status.events.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    let first = text.lines().next().unwrap();
    fs::write(
        &log,
        format!("<<<<<<< HEAD\n{text}=======\n{first}\n>>>>>>> theirs\n"),
    )
    .unwrap();
    run(
        "repair_status_markers_dry_run",
        &with(&["agent", "mission", "repair-status", "--dry-run"]),
    );
    run(
        "repair_status_markers",
        &with(&["agent", "mission", "repair-status"]),
    );

    // A mission made by an older tool: no mission_id yet.
    let old = env.create_mission(&root, "older");
    let meta = old.dir.join("meta.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&meta).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("mission_id");
    fs::write(&meta, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    run(
        "backfill_identity_needed_dry_run",
        &[
            "agent",
            "mission",
            "backfill-identity",
            "--all",
            "--dry-run",
        ],
    );
    run(
        "backfill_identity_written",
        &["agent", "mission", "backfill-identity", "--all"],
    );
    fs::remove_dir_all(&old.dir).unwrap();
    run(
        "repair_status_dry_run",
        &with(&["agent", "mission", "repair-status", "--dry-run"]),
    );
    run(
        "backfill_identity",
        &[
            "agent",
            "mission",
            "backfill-identity",
            "--all",
            "--dry-run",
        ],
    );
    run("record", &with(&["agent", "mission", "record"]));
    run("record_nothing_new", &with(&["agent", "mission", "record"]));
    run("delete", &with(&["agent", "mission", "delete"]));
}

/// A dashboard started in the background, found again, and stopped.
#[test]
fn dashboard_background_reuse_and_kill() {
    /// Stops the dashboard if a snapshot fails before `--kill` ran.
    struct Stop<'a>(&'a TestEnv, PathBuf);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.run(&self.1, &["dashboard", "--kill"]);
        }
    }
    let env = TestEnv::new();
    let root = env.project("p");
    let _stop = Stop(&env, root.clone());
    let start = assert_run!(
        env,
        &root,
        "dashboard_background",
        ["dashboard", "--background"]
    );
    assert!(start.status.success());
    assert_run!(
        env,
        &root,
        "dashboard_reused",
        ["dashboard", "--background"]
    );
    let kill = assert_run!(env, &root, "dashboard_kill", ["dashboard", "--kill"]);
    assert!(kill.status.success());
    assert_run!(env, &root, "dashboard_kill_again", ["dashboard", "--kill"]);
}

/// The refusals people meet most: outside a project, a mission that does not
/// exist or is ambiguous, an unknown work package, usage errors.
#[test]
fn common_refusals() {
    let env = TestEnv::new();
    let outside = env.work.join("empty");
    fs::create_dir_all(&outside).unwrap();
    let refused = |dir: &Path, name: &str, args: &[&str], code: i32| {
        let out = assert_run!(env, dir, name, args);
        assert_eq!(out.status.code(), Some(code), "{name}");
    };
    refused(&outside, "not_a_project", &["agent", "tasks", "status"], 1);
    refused(
        &outside,
        "next_not_a_project",
        &["next", "--agent", "codex"],
        1,
    );

    let (root, m) = env.three_wp_mission();
    refused(
        &root,
        "missing_mission",
        &["agent", "tasks", "status", "--mission", "042"],
        1,
    );
    refused(
        &root,
        "missing_mission_next",
        &["next", "--agent", "codex", "--mission", "nope"],
        1,
    );
    env.create_mission(&root, "other");
    refused(&root, "ambiguous_mission", &["agent", "tasks", "status"], 1);
    let wp = |name: &str, args: &[&str], code: i32| {
        let mut a = args.to_vec();
        a.extend(["--mission", m.slug.as_str()]);
        refused(&root, name, &a, code);
    };
    wp(
        "unknown_wp",
        &["agent", "tasks", "move-task", "WP09", "--to", "in_progress"],
        1,
    );
    wp(
        "unknown_lane",
        &["agent", "tasks", "move-task", "WP01", "--to", "someday"],
        1,
    );
    wp(
        "blocked_by_dependency",
        &["agent", "action", "implement", "WP02", "--agent", "codex"],
        1,
    );
    wp("merge_not_accepted", &["merge"], 1);
    wp("result_without_agent", &["next", "--result", "success"], 2);
    refused(
        &root,
        "bad_slug",
        &["agent", "mission", "create", "../evil"],
        1,
    );
    refused(
        &root,
        "unknown_mission_type",
        &["mission", "info", "cooking"],
        1,
    );

    refused(&root, "usage_unknown_command", &["frobnicate"], 2);
    refused(
        &root,
        "usage_missing_argument",
        &["agent", "tasks", "move-task", "WP01"],
        2,
    );
    refused(
        &root,
        "usage_unknown_flag",
        &["agent", "mission", "create", "x", "--bogus"],
        2,
    );
    refused(
        &root,
        "usage_bad_value",
        &["--color", "sometimes", "next"],
        2,
    );
    refused(&root, "usage_no_subcommand", &["agent"], 2);
}

/// A release cut by hand: validate an unreleased version, prep the block,
/// write it, validate again, and a version that does not match.
#[test]
fn release_prep_and_validate() {
    let env = TestEnv::new();
    let root = env.work.join("r");
    write(
        &root.join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = \"1.2.0\"\nedition = \"2021\"\n",
    );
    write(
        &root.join(".kittify/metadata.yaml"),
        "spec_kitty:\n  version: 1.2.0\n  initialized_at: '2026-01-01T00:00:00'\n",
    );
    write(
        &root.join("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n\n### Fixed\n- a bug\n\n## [1.1.0] - 2026-01-01\n\n### Added\n- first\n",
    );
    env.git(&root, &["init", "-q"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "release commit"]);
    env.git(&root, &["tag", "v1.1.0"]);

    let out = assert_run!(
        env,
        &root,
        "release_validate_no_entry",
        ["agent", "release", "validate"]
    );
    assert_eq!(out.status.code(), Some(1));
    ok!(env, &root, "release_prep", ["agent", "release", "prep"]);
    ok!(
        env,
        &root,
        "release_prep_rc",
        ["agent", "release", "prep", "--channel", "rc"]
    );
    ok!(
        env,
        &root,
        "release_prep_write",
        ["agent", "release", "prep", "--write"]
    );
    ok!(
        env,
        &root,
        "release_validate",
        ["agent", "release", "validate"]
    );
    write(
        &root.join(".kittify/metadata.yaml"),
        "spec_kitty:\n  version: 1.1.9\n  initialized_at: '2026-01-01T00:00:00'\n",
    );
    let out = assert_run!(
        env,
        &root,
        "release_validate_mismatch",
        ["agent", "release", "validate"]
    );
    assert_eq!(out.status.code(), Some(1));
    let out = assert_run!(
        env,
        &env.work,
        "release_prep_no_manifest",
        ["agent", "release", "prep"]
    );
    assert_eq!(out.status.code(), Some(1));
}

/// What a person reads when repository content is broken or hostile: each
/// file named, with the line and the fix where there is one. (The typed
/// errors behind these messages must keep them byte for byte.)
#[test]
fn broken_and_hostile_input_messages() {
    let env = TestEnv::new();
    let finalize = ["agent", "mission", "finalize-tasks", "--mission", M];
    let status = ["agent", "tasks", "status", "--mission", M];
    // Each case on a fresh, unfinalized three-WP mission.
    let case = |name: &str, break_it: &dyn Fn(&Path), args: &[&str]| {
        let env = TestEnv::new();
        let root = env.project("p");
        let m = env.create_mission(&root, "demo");
        write_mission(&m.dir, M, &three_wps());
        break_it(&m.dir);
        // The exit code is in the snapshot.
        assert_run!(env, &root, name, args);
    };
    let wp2 = |dir: &Path| dir.join("tasks/WP02-core.md");
    let edit_wp2 = |dir: &Path, from: &str, to: &str| {
        let text = fs::read_to_string(wp2(dir)).unwrap();
        assert!(text.contains(from), "{text}");
        fs::write(wp2(dir), text.replacen(from, to, 1)).unwrap();
    };

    case(
        "frontmatter_nested_too_deep",
        &|dir| {
            let deep = format!("tags: {}x{}\n", "[".repeat(100), "]".repeat(100));
            edit_wp2(dir, "owned_files:", &format!("{deep}owned_files:"));
        },
        &finalize,
    );
    case(
        "frontmatter_too_large",
        &|dir| {
            let big = format!("notes: '{}'\n", "x".repeat(1024 * 1024 + 1));
            edit_wp2(dir, "owned_files:", &format!("{big}owned_files:"));
        },
        &finalize,
    );
    case(
        "spec_too_large",
        &|dir| {
            let f = fs::File::create(dir.join("spec.md")).unwrap();
            f.set_len(16 * 1024 * 1024 + 1).unwrap();
        },
        &finalize,
    );
    case(
        "wp_id_disagrees_with_the_file_name",
        &|dir| edit_wp2(dir, "work_package_id: WP02", "work_package_id: ../WP02"),
        &finalize,
    );
    case(
        "frontmatter_not_yaml",
        &|dir| edit_wp2(dir, "title: Core", "title: [Core"),
        &finalize,
    );
    case(
        "meta_json_corrupt",
        &|dir| fs::write(dir.join("meta.json"), "{ not json").unwrap(),
        &status,
    );

    // Finalized missions whose derived files were damaged afterwards.
    let (root, m) = env.three_wp_mission();
    let lanes = m.dir.join("lanes.json");
    let good = fs::read_to_string(&lanes).unwrap();
    fs::write(&lanes, good.replace("\"lane-a\"", "\"../lane-a\"")).unwrap();
    let out = assert_run!(
        env,
        &root,
        "lanes_json_bad_lane_id",
        [
            "agent",
            "action",
            "implement",
            "WP01",
            "--mission",
            M,
            "--agent",
            "codex"
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    fs::write(&lanes, &good).unwrap();
    let log = m.dir.join("status.events.jsonl");
    let mut text = fs::read_to_string(&log).unwrap();
    text.push_str("{\"event_id\": \"not an event\"\n");
    fs::write(&log, text).unwrap();
    assert_run!(env, &root, "event_log_torn_line", status);
    // A corrupt config.yaml: `upgrade` and `next` (which reads
    // `agents.reviewers` from it) both name the file and line and stop.
    fs::write(root.join(".kittify/config.yaml"), "agents: [codex\n").unwrap();
    let out = assert_run!(env, &root, "config_yaml_corrupt_upgrade", ["upgrade"]);
    assert_eq!(out.status.code(), Some(1));
    let next = ["next", "--agent", "codex", "--mission", M];
    let out = assert_run!(env, &root, "config_yaml_corrupt_next", next);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", crate::common::stdout(&out));
    assert!(
        crate::common::stderr(&out).contains(".kittify/config.yaml:2: "),
        "{}",
        crate::common::stderr(&out)
    );
    // `--role` makes the reviewers list moot, not the broken file fine: the
    // same error, word for word, with or without an agent.
    for role in [
        &[
            "next",
            "--agent",
            "codex",
            "--role",
            "review",
            "--mission",
            M,
        ][..],
        &["next", "--role", "implement", "--mission", M],
    ] {
        let with_role = env.run(&root, role);
        assert_eq!(with_role.status.code(), Some(1), "{role:?}");
        assert!(with_role.stdout.is_empty(), "{role:?}");
        assert_eq!(
            crate::common::stderr(&with_role),
            crate::common::stderr(&out),
            "{role:?}"
        );
    }
}

/// The refusals that keep deletes and writes inside the project, as a person
/// reads them.
#[test]
fn confined_delete_and_write_messages() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();
    let (root, _m) = env.finalized_mission(&[crate::common::WpDef::code(
        "WP01",
        "Core",
        "src/core/**",
        &[],
    )]);
    let delete = ["agent", "mission", "delete", M, "--force"];
    let outside = env.work.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::create_dir_all(root.join(".worktrees")).unwrap();
    let lane = root.join(".worktrees").join(format!("{M}-lane-a"));
    symlink(&outside, &lane).unwrap();
    let out = assert_run!(env, &root, "delete_lane_worktree_is_a_link", delete);
    assert_eq!(out.status.code(), Some(1));
    fs::remove_file(&lane).unwrap();
    fs::create_dir_all(&lane).unwrap();
    write(&lane.join("notes.txt"), "mine\n");
    let out = assert_run!(env, &root, "delete_stray_directory", delete);
    assert_eq!(out.status.code(), Some(1));
    fs::remove_dir_all(root.join(".worktrees")).unwrap();

    // A WP file that is a link to a file outside the project, before finalize.
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        M,
        &[crate::common::WpDef::code(
            "WP01",
            "Core",
            "src/core/**",
            &[],
        )],
    );
    let outside = env.work.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let wp = m.dir.join("tasks/WP01-core.md");
    let victim = outside.join("WP01-core.md");
    fs::copy(&wp, &victim).unwrap();
    fs::remove_file(&wp).unwrap();
    symlink(&victim, &wp).unwrap();
    let out = assert_run!(
        env,
        &root,
        "write_through_a_link_outside",
        ["agent", "mission", "finalize-tasks", "--mission", M]
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Two independent code WPs in two lanes, built, reviewed and accepted, with
/// everything committed: ready to merge.
fn two_lanes_accepted(env: &TestEnv) -> PathBuf {
    let root = two_lanes_approved(env);
    env.ok(&root, &["accept", "--mission", M]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "accepted"]);
    root
}

/// Two independent code WPs in two lanes, built and approved, committed.
fn two_lanes_approved(env: &TestEnv) -> PathBuf {
    use crate::common::WpDef;
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "CLI", "src/cli/**", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    let f = Flow::new(env, &root, &m.slug);
    for (wp, dir) in [("WP01", "core"), ("WP02", "cli")] {
        let v = f.implement(wp, "codex");
        let wt = PathBuf::from(v["workspace"].as_str().unwrap());
        commit_in(
            env,
            &wt,
            &format!("src/{dir}/mod.rs"),
            &format!("// {wp}\n"),
            wp,
        );
        f.finish(wp);
    }
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "approved"]);
    root
}

/// accept's other modes: a test command run in every lane, the checklist
/// report, the pull-request route.
#[test]
fn accept_modes() {
    let env = TestEnv::new();
    let root = two_lanes_approved(&env);
    let accept = |extra: &[&str]| -> Vec<String> {
        ["accept", "--mission", M]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect()
    };
    for (name, extra) in [
        (
            "accept_test_fails",
            &[
                "--test",
                "test -f src/core/mod.rs && test -f src/missing.rs",
                "--no-commit",
            ][..],
        ),
        ("accept_checklist", &["--mode", "checklist"]),
        ("accept_pr", &["--mode", "pr", "--agent", "operator"]),
    ] {
        let args = accept(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_run!(env, &root, name, args);
    }
    // The pull-request route names only branches that exist: the lane
    // branches until `merge` makes the mission branch, then that one.
    let mission_branch = format!("kitty/mission-{M}");
    let pr = [
        "accept",
        "--mission",
        M,
        "--mode",
        "pr",
        "--agent",
        "operator",
    ];
    let out = env.ok(&root, &pr);
    let next = out.lines().find(|l| l.starts_with("Next: push ")).unwrap();
    for branch in next["Next: push ".len()..]
        .split(" and ")
        .next()
        .unwrap()
        .split(", ")
    {
        assert!(
            !env.git(&root, &["branch", "--list", branch]).is_empty(),
            "{branch} does not exist: {next}"
        );
    }
    assert!(!next.contains(&format!("push {mission_branch} ")), "{next}");
    // The mission branch exists from the first lane on; once it holds both
    // lanes, it is the one to push.
    assert!(!env
        .git(&root, &["branch", "--list", &mission_branch])
        .is_empty());
    let both = env.git(
        &root,
        &[
            "commit-tree",
            "-p",
            "kitty/mission-001-demo-lane-a",
            "-p",
            "kitty/mission-001-demo-lane-b",
            "-m",
            "both lanes",
            "kitty/mission-001-demo-lane-b^{tree}",
        ],
    );
    env.git(&root, &["branch", "-f", &mission_branch, both.trim()]);
    assert_run!(env, &root, "accept_pr_mission_branch_exists", pr);
}

/// A board row shows the whole dependency list beside who built and who
/// reviewed the WP: when the row would pass 80 columns the list moves under
/// the title and wraps between ids.
#[test]
fn board_rows_show_every_dependency() {
    use crate::common::WpDef;
    let env = TestEnv::new();
    let steps: Vec<String> = (1..=9).map(|i| format!("WP0{i}")).collect();
    let mut wps: Vec<WpDef> = steps
        .iter()
        .map(|id| {
            WpDef::planning(
                id,
                &format!("Step {id}"),
                &format!("kitty-specs/{{slug}}/{id}.md"),
                &[],
            )
        })
        .collect();
    let deps: Vec<&str> = steps.iter().map(String::as_str).collect();
    wps.push(WpDef::code("WP10", "Integration", "src/**", &deps));
    wps.push(WpDef::code("WP11", "Docs", "docs/**", &["WP01", "WP02"]));
    let (root, m) = env.finalized_mission(&wps);
    let f = Flow::new(&env, &root, &m.slug);
    for (wp, agent) in [
        ("WP11", "claude-reviewer-of-long-name"),
        ("WP10", "codex-builder"),
    ] {
        let extra = ["--agent", agent, "--force", "--reason", "test"];
        let out = f.move_task(wp, "claimed", &extra);
        assert!(out.status.success(), "{}", crate::common::stderr(&out));
    }
    let out = ok!(
        env,
        &root,
        "board_long_dependencies",
        ["agent", "tasks", "status", "--mission", M]
    );
    let board = crate::common::stdout(&out);
    assert!(board.lines().all(|l| l.chars().count() <= 80), "{board}");
    assert!(!board.contains('…'), "{board}");
    let wp10: String = board
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("WP10"))
        .take_while(|l| !l.trim_start().starts_with("WP11"))
        .collect();
    for dep in &steps {
        assert!(wp10.contains(dep.as_str()), "{dep} missing: {board}");
    }
}

/// merge with each strategy, and a merge stopped part-way, then aborted and
/// continued.
#[test]
fn merge_strategies_and_recovery() {
    for strategy in ["squash", "rebase"] {
        let env = TestEnv::new();
        let root = two_lanes_accepted(&env);
        ok!(
            env,
            &root,
            format!("merge_{strategy}_dry_run"),
            ["merge", "--mission", M, "--strategy", strategy, "--dry-run"]
        );
        ok!(
            env,
            &root,
            format!("merge_{strategy}"),
            ["merge", "--mission", M, "--strategy", strategy]
        );
    }
    let env = TestEnv::new();
    let root = two_lanes_accepted(&env);
    let merge = ["merge", "--mission", M, "--keep-worktrees"];
    let interrupted = || {
        env.sk(&root, &merge)
            .env("SPEC_KITTY_TEST_MERGE_INTERRUPT", "landed")
            .output()
            .unwrap()
    };
    let out = interrupted();
    assert_eq!(out.status.code(), Some(3));
    ok!(
        env,
        &root,
        "merge_abort",
        ["merge", "--mission", M, "--abort"]
    );
    assert_eq!(interrupted().status.code(), Some(3));
    ok!(
        env,
        &root,
        "merge_continue",
        ["merge", "--mission", M, "--continue"]
    );
}
