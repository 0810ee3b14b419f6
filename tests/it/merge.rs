//! accept and merge, end to end: real git repositories, real lane worktrees made
//! by `agent action implement`, commits made with the git CLI, and the built
//! binary doing the accepting and merging.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::snap::{assert_out, assert_run};
use crate::common::{assert_recorded, finalize_tasks, stderr, stdout, steps_of, TestEnv};

pub(crate) const SLUG: &str = "001-m";

pub(crate) struct Fx {
    pub(crate) root: PathBuf,
    pub(crate) dir: PathBuf,
}

impl Fx {
    pub(crate) fn worktree(&self, lane: &str) -> PathBuf {
        self.root.join(".worktrees").join(format!("{SLUG}-{lane}"))
    }
}

pub(crate) fn branch(lane: &str) -> String {
    format!("kitty/mission-{SLUG}-{lane}")
}

fn write(p: &Path, text: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// Mission `001-m` with `n` independent code WPs (one lane each: lane-a, lane-b,
/// ...), planned and committed on main. With `chain`, lanes.json says lane-b
/// depends on lane-a and lane-c on lane-b.
pub(crate) fn planned(env: &TestEnv, n: usize, chain: bool) -> Fx {
    planned_with(env, n, chain, false)
}

/// [`planned`], plus (with `planning`) one planning-artifact WP after the code
/// WPs, which lands in lane-planning.
pub(crate) fn planned_with(env: &TestEnv, n: usize, chain: bool, planning: bool) -> Fx {
    let root = env.project("p");
    let v = env.json(&root, &["agent", "mission", "create", "m", "--json"]);
    let dir = PathBuf::from(v["feature_dir"].as_str().unwrap());
    write(&dir.join("spec.md"), "# Spec\n\nThe thing.\n");
    write(&dir.join("plan.md"), "# Plan\n\nBuild it.\n");
    let mut tasks = String::from("# Work Packages\n");
    for i in 1..=n {
        tasks.push_str(&format!(
            "\n## WP{i:02}: Package {i}\n\n- [ ] T{i:03} build package {i}\n"
        ));
        write(
            &dir.join(format!("tasks/WP{i:02}-p{i}.md")),
            &format!(
                "---\nwork_package_id: WP{i:02}\ntitle: Package {i}\n---\n\nBuild `src/p{i}/`.\n"
            ),
        );
    }
    if planning {
        let i = n + 1;
        tasks.push_str(&format!(
            "\n## WP{i:02}: Research\n\n- [ ] T{i:03} write the notes\n"
        ));
        write(
            &dir.join(format!("tasks/WP{i:02}-research.md")),
            &format!(
                "---\nwork_package_id: WP{i:02}\ntitle: Research\n---\n\nWrite `kitty-specs/{SLUG}/research.md`.\n"
            ),
        );
    }
    write(&dir.join("tasks.md"), &tasks);
    env.json(&root, &finalize_tasks("m"));
    if chain {
        let path = dir.join("lanes.json");
        let mut lanes: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        for l in lanes["lanes"].as_array_mut().unwrap() {
            let deps = match l["lane_id"].as_str().unwrap() {
                "lane-b" => vec!["lane-a"],
                "lane-c" => vec!["lane-b"],
                _ => vec![],
            };
            l["depends_on_lanes"] = serde_json::json!(deps);
        }
        fs::write(&path, serde_json::to_string_pretty(&lanes).unwrap()).unwrap();
    }
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan mission m"]);
    Fx { root, dir }
}

/// Start WP `i` (creates its lane worktree) and return the worktree.
pub(crate) fn implement(env: &TestEnv, fx: &Fx, i: usize) -> PathBuf {
    let v = env.json(
        &fx.root,
        &crate::common::implement_args(&format!("WP{i:02}"), "m", "codex"),
    );
    PathBuf::from(v["workspace"].as_str().unwrap())
}

/// Record in WP `i`'s file that it may change `glob` beyond what it owns (the
/// accept scope gate reads `## Scope allowance`), committed on main.
fn allow(env: &TestEnv, fx: &Fx, i: usize, glob: &str) {
    let path = fx.dir.join(format!("tasks/WP{i:02}-p{i}.md"));
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n## Scope allowance\n\n- `{glob}` needed by this test\n"
    ));
    fs::write(&path, text).unwrap();
    env.git(&fx.root, &["add", "-A"]);
    env.git(
        &fx.root,
        &["commit", "-qm", &format!("allow {glob} for WP{i:02}")],
    );
}

pub(crate) fn commit_file(env: &TestEnv, wt: &Path, file: &str, text: &str, msg: &str) {
    write(&wt.join(file), text);
    env.git(wt, &["add", "-A"]);
    env.git(wt, &["commit", "-qm", msg]);
}

/// Tick the subtasks and take every WP through review to approved.
pub(crate) fn approve_all(env: &TestEnv, fx: &Fx, n: usize) {
    let ids: Vec<String> = (1..=n).map(|i| format!("T{i:03}")).collect();
    let mut args = vec!["agent", "tasks", "mark-status"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--status", "done", "--mission", "m", "--json"]);
    env.json(&fx.root, &args);
    for i in 1..=n {
        let wp = format!("WP{i:02}");
        for (to, agent) in [("for_review", "codex"), ("approved", "reviewer")] {
            let out = env.run(
                &fx.root,
                &[
                    "agent",
                    "tasks",
                    "move-task",
                    &wp,
                    "--to",
                    to,
                    "--agent",
                    agent,
                    "--note",
                    "ok",
                    "--mission",
                    "m",
                ],
            );
            assert!(out.status.success(), "move {wp} -> {to}: {}", stderr(&out));
        }
    }
}

/// Lanes with work: each lane adds `src/p<i>/lib.txt`. With `chain`, lane-b
/// commits its own work and then merges lane-a (a real merge commit); lane-c
/// starts from lane-b (fast-forward) and adds its own commit.
pub(crate) fn build_lanes(env: &TestEnv, fx: &Fx, n: usize, chain: bool) {
    for i in 1..=n {
        let wt = implement(env, fx, i);
        let lane = format!("lane-{}", (b'a' + (i as u8) - 1) as char);
        if chain && i == 3 {
            env.git(&wt, &["merge", "-q", "--no-edit", &branch("lane-b")]);
        }
        commit_file(
            env,
            &wt,
            &format!("src/p{i}/lib.txt"),
            &format!("package {i}\n"),
            &format!("WP{i:02}: package {i}"),
        );
        if chain && i == 2 {
            env.git(&wt, &["merge", "-q", "--no-edit", &branch("lane-a")]);
        }
        assert_eq!(wt, fx.worktree(&lane));
    }
    approve_all(env, fx, n);
}

/// Take planning WP `i` (done in the main checkout) through review.
fn approve_planning(env: &TestEnv, fx: &Fx, i: usize) {
    let t = format!("T{i:03}");
    env.json(
        &fx.root,
        &[
            "agent",
            "tasks",
            "mark-status",
            &t,
            "--status",
            "done",
            "--mission",
            "m",
            "--json",
        ],
    );
    for (to, agent) in [
        ("in_progress", "codex"),
        ("for_review", "codex"),
        ("approved", "reviewer"),
    ] {
        let out = env.run(
            &fx.root,
            &[
                "agent",
                "tasks",
                "move-task",
                &format!("WP{i:02}"),
                "--to",
                to,
                "--agent",
                agent,
                "--note",
                "ok",
                "--mission",
                "m",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

pub(crate) fn accept(env: &TestEnv, fx: &Fx) -> Value {
    env.json(&fx.root, &["accept", "--mission", "m", "--json"])
}

pub(crate) fn rev(env: &TestEnv, dir: &Path, r: &str) -> String {
    env.git(dir, &["rev-parse", r]).trim().to_string()
}

fn lanes_of(fx: &Fx) -> Value {
    serde_json::from_str(&fs::read_to_string(fx.dir.join("status.json")).unwrap()).unwrap()
}

/// Everything about the repository a failed merge must leave alone.
pub(crate) fn repo_state(env: &TestEnv, root: &Path) -> (String, String, String, String) {
    (
        env.git(root, &["for-each-ref", "--format=%(refname) %(objectname)"]),
        env.git(root, &["status", "--porcelain", "--untracked-files=all"]),
        env.git(root, &["count-objects", "-v"]),
        env.git(root, &["symbolic-ref", "HEAD"]),
    )
}

fn error_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", stdout(out)))
}

#[test]
fn three_dependent_lanes_merge_in_order_and_land_every_change() {
    let env = TestEnv::new();
    let fx = planned_with(&env, 3, true, true);
    build_lanes(&env, &fx, 3, true);
    approve_planning(&env, &fx, 4);
    let acc = accept(&env, &fx);
    assert_eq!(acc["accepted"], true);
    let main_before = rev(&env, &fx.root, "main");

    let dry = env.json(
        &fx.root,
        &["merge", "--mission", "m", "--dry-run", "--json"],
    );
    assert_eq!(dry["would_merge"], true, "{dry}");
    assert_eq!(dry["conflicts"], serde_json::json!([]));
    assert_eq!(
        rev(&env, &fx.root, "main"),
        main_before,
        "dry run moved main"
    );

    let v = env.json(
        &fx.root,
        &["agent", "mission", "merge", "--mission", "m", "--json"],
    );
    assert_eq!(v["result"], "success");
    assert_eq!(
        v["order"],
        serde_json::json!(["lane-a", "lane-b", "lane-c"])
    );
    assert_eq!(v["checked_out"], true);
    let actions: Vec<&str> = v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["merged", "merged", "merged"]);
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("lane-planning (WP04) has no branch"),
        "{v}"
    );

    // The target holds every lane's change, in the commit and on disk.
    for i in 1..=3 {
        let f = format!("src/p{i}/lib.txt");
        assert_eq!(
            env.git(&fx.root, &["show", &format!("main:{f}")]),
            format!("package {i}\n")
        );
        assert_eq!(
            fs::read_to_string(fx.root.join(&f)).unwrap(),
            format!("package {i}\n")
        );
    }
    // The dry run named every commit the merge made: the lane merges, the
    // target merge, the record.
    let mut range = vec![
        "log".to_string(),
        "--format=%s".to_string(),
        "main".to_string(),
        format!("^{main_before}"),
    ];
    for l in dry["lanes"].as_array().unwrap() {
        range.push(format!("^{}", l["tip"].as_str().unwrap()));
    }
    let range: Vec<&str> = range.iter().map(String::as_str).collect();
    let made = env.git(&fx.root, &range);
    let planned: Vec<&str> = dry["planned_commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().split_once(": ").unwrap().1)
        .collect();
    let mut made_sorted: Vec<&str> = made.lines().collect();
    made_sorted.sort();
    let mut planned_sorted = planned.clone();
    planned_sorted.sort();
    assert_eq!(planned_sorted, made_sorted, "{dry}");
    assert!(dry["planned_commits"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("main: Record mission 001-m merged into main"));
    // A merge commit per lane on the mission branch, one on main, then the
    // record commit; the tree is clean afterwards.
    let main_after = assert_recorded(&env, &fx.root, "main", SLUG);
    assert_eq!(v["target_after"], main_after.as_str());
    assert_eq!(v["record_commit"], rev(&env, &fx.root, "main").as_str());
    let parents = env.git(&fx.root, &["rev-list", "--parents", "-n", "1", "main^"]);
    assert_eq!(parents.split_whitespace().count(), 3, "main^ is a merge");
    let merges = env.git(
        &fx.root,
        &[
            "rev-list",
            "--merges",
            "--first-parent",
            &format!("main..kitty/mission-{SLUG}"),
        ],
    );
    assert_eq!(merges.lines().count(), 0, "mission branch is inside main");
    let lane_merges = env.git(
        &fx.root,
        &[
            "log",
            "--merges",
            "--format=%s",
            &format!("{main_before}..main"),
        ],
    );
    for lane in ["lane-a", "lane-b", "lane-c"] {
        assert!(
            lane_merges.contains(&format!("Merge {}", branch(lane))),
            "{lane_merges}"
        );
    }
    assert_eq!(
        env.git(&fx.root, &["log", "-1", "--format=%an <%ae>", "main"]),
        "Test Operator <test@example.com>\n"
    );
    // The record commit touches only the mission's own files.
    let recorded = env.git(&fx.root, &["diff", "--name-only", "main^", "main"]);
    assert!(
        !recorded.is_empty()
            && recorded
                .lines()
                .all(|l| l.starts_with(&format!("kitty-specs/{SLUG}/"))),
        "{recorded}"
    );
    // Work packages are done, through the status log.
    let st = lanes_of(&fx);
    for i in 1..=4 {
        assert_eq!(st["work_packages"][format!("WP{i:02}")]["lane"], "done");
    }
    let log = fs::read_to_string(fx.dir.join("status.events.jsonl")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("\"from_lane\": \"approved\", ")
                && l.contains("\"to_lane\": \"done\""))
            .count(),
        4,
        "{log}"
    );
    // Lane worktrees and branches are gone; the mission branch stays.
    for lane in ["lane-a", "lane-b", "lane-c"] {
        assert!(!fx.worktree(lane).exists());
        assert!(env
            .git(&fx.root, &["branch", "--list", &branch(lane)])
            .is_empty());
    }
    assert!(!env
        .git(
            &fx.root,
            &["branch", "--list", &format!("kitty/mission-{SLUG}")]
        )
        .is_empty());
    assert!(!env
        .git(&fx.root, &["worktree", "list"])
        .contains(".worktrees"));
    let meta: Value =
        serde_json::from_str(&fs::read_to_string(fx.dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["merged_commit"], main_after.as_str());
    assert_eq!(meta["merged_strategy"], "merge");
    assert!(meta["merged_at"].is_string());
    assert!(!fx
        .root
        .join(".git/spec-kitty-merge")
        .join(format!("{SLUG}.json"))
        .exists());

    // Merging again says so instead of doing anything.
    let out = assert_run!(env, &fx.root, "already_merged", ["merge", "--mission", "m"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn squash_lands_one_commit_and_keeps_newer_target_specs() {
    let env = TestEnv::new();
    let fx = planned(&env, 3, true);
    build_lanes(&env, &fx, 3, true);
    // The target moves on after the lanes branched: a newer spec.md.
    write(
        &fx.dir.join("spec.md"),
        "# Spec\n\nThe thing, revised on main.\n",
    );
    env.git(&fx.root, &["add", "kitty-specs/001-m/spec.md"]);
    env.git(&fx.root, &["commit", "-qm", "revise the spec on main"]);
    accept(&env, &fx);
    let before = rev(&env, &fx.root, "main");

    let v = env.json(
        &fx.root,
        &[
            "merge",
            "--mission",
            "m",
            "--strategy",
            "squash",
            "--keep-worktrees",
            "--json",
        ],
    );
    assert_eq!(v["strategy"], "squash");
    // Exactly one squashed commit on main, with a single parent (the old
    // tip), then the record commit.
    assert_eq!(
        env.git(&fx.root, &["rev-list", &format!("{before}..main")])
            .lines()
            .count(),
        2
    );
    assert_eq!(rev(&env, &fx.root, "main~2"), before);
    assert!(
        env.git(&fx.root, &["rev-list", "--parents", "-n", "1", "main^"])
            .split_whitespace()
            .count()
            == 2
    );
    for i in 1..=3 {
        assert_eq!(
            env.git(&fx.root, &["show", &format!("main:src/p{i}/lib.txt")]),
            format!("package {i}\n")
        );
    }
    // The lanes' older copy of spec.md did not replace the target's newer one.
    assert_eq!(
        env.git(&fx.root, &["show", "main:kitty-specs/001-m/spec.md"]),
        "# Spec\n\nThe thing, revised on main.\n"
    );
    // --keep-worktrees: lanes stay, work packages are still done.
    for lane in ["lane-a", "lane-b", "lane-c"] {
        assert!(fx.worktree(lane).is_dir());
    }
    assert_eq!(v["removed_branches"], serde_json::json!([]));
    assert_eq!(lanes_of(&fx)["work_packages"]["WP03"]["lane"], "done");
    assert_recorded(&env, &fx.root, "main", SLUG);
}

#[test]
fn rebase_replays_linearly_and_moves_only_the_ref_when_elsewhere() {
    let env = TestEnv::new();
    let fx = planned(&env, 3, true);
    build_lanes(&env, &fx, 3, true);
    accept(&env, &fx);
    let before = rev(&env, &fx.root, "main");
    // The main checkout is on another branch: only the main ref may move.
    env.git(&fx.root, &["switch", "-q", "-c", "elsewhere"]);

    let v = env.json(
        &fx.root,
        &["merge", "--mission", "m", "--strategy", "rebase", "--json"],
    );
    assert_eq!(v["checked_out"], false);
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("only the main branch moves")),
        "{v}"
    );
    assert_eq!(
        env.git(&fx.root, &["symbolic-ref", "--short", "HEAD"]),
        "elsewhere\n"
    );
    assert!(!fx.root.join("src/p1/lib.txt").exists());
    // Linear history: no merge commits, one replayed commit per lane change,
    // lane-b's merge of lane-a dropped because it adds nothing new.
    assert_eq!(
        env.git(
            &fx.root,
            &["rev-list", "--merges", &format!("{before}..main")]
        ),
        ""
    );
    let subjects = env.git(
        &fx.root,
        &[
            "log",
            "--reverse",
            "--format=%s",
            &format!("{before}..main"),
        ],
    );
    assert_eq!(
        subjects,
        "WP01: package 1\nWP02: package 2\nWP03: package 3\nRecord mission 001-m merged into main\n"
    );
    assert_eq!(
        rev(&env, &fx.root, "main^"),
        rev(&env, &fx.root, "kitty/mission-001-m")
    );
    // The record went onto main from the main checkout's mission files.
    let meta: Value =
        serde_json::from_str(&env.git(&fx.root, &["show", "main:kitty-specs/001-m/meta.json"]))
            .unwrap();
    assert_eq!(meta["merged_commit"], rev(&env, &fx.root, "main^").as_str());
    for i in 1..=3 {
        assert_eq!(
            env.git(&fx.root, &["show", &format!("main:src/p{i}/lib.txt")]),
            format!("package {i}\n")
        );
    }
    assert_eq!(
        env.git(
            &fx.root,
            &[
                "status",
                "--porcelain",
                "--untracked-files=all",
                "--",
                "src",
                "README.md"
            ]
        ),
        ""
    );
}

/// Two independent lanes that both rewrite README.md.
fn conflicting(env: &TestEnv) -> Fx {
    let fx = planned(env, 2, false);
    for i in 1..=2 {
        let wt = implement(env, &fx, i);
        commit_file(
            env,
            &wt,
            &format!("src/p{i}/lib.txt"),
            "ok\n",
            &format!("WP{i:02}: own file"),
        );
        commit_file(
            env,
            &wt,
            "README.md",
            &format!("demo, as lane {i} sees it\n"),
            &format!("WP{i:02}: readme"),
        );
    }
    approve_all(env, &fx, 2);
    allow(env, &fx, 1, "README.md");
    allow(env, &fx, 2, "README.md");
    accept(env, &fx);
    fx
}

#[test]
fn conflicting_pair_is_reported_and_nothing_changes() {
    let env = TestEnv::new();
    let fx = conflicting(&env);
    let before = repo_state(&env, &fx.root);

    // Dry run: exit 1, one JSON object naming the pair and the file.
    let out = env.run(
        &fx.root,
        &["merge", "--mission", "m", "--dry-run", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v = error_json(&out);
    assert_eq!(v["result"], "error");
    assert_eq!(v["would_merge"], false);
    let conflicts = v["conflicts"].as_array().unwrap();
    assert!(
        conflicts
            .iter()
            .any(|c| c["between"] == serde_json::json!(["lane-a", "lane-b"])
                && c["files"] == serde_json::json!(["README.md"])),
        "{v}"
    );
    let actions: Vec<&str> = v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["merged", "conflict"], "{v}");
    let human = assert_run!(
        env,
        &fx.root,
        "dry_run_conflict",
        ["merge", "--mission", "m", "--dry-run"]
    );
    assert_eq!(human.status.code(), Some(1));
    assert_eq!(
        repo_state(&env, &fx.root),
        before,
        "dry run changed the repo"
    );

    // A real merge, every strategy: refused with the files, repo untouched
    // (not even new objects), no merge in progress.
    for strategy in ["merge", "squash", "rebase"] {
        // The files, "nothing was changed", and a hint saying how to resolve.
        let out = assert_run!(
            env,
            &fx.root,
            format!("conflict_{strategy}"),
            ["merge", "--mission", "m", "--strategy", strategy]
        );
        assert_eq!(out.status.code(), Some(1), "{strategy}: {}", stdout(&out));
        assert_eq!(
            repo_state(&env, &fx.root),
            before,
            "{strategy} changed the repo"
        );
        assert!(!fx.root.join(".git/MERGE_HEAD").exists());
        assert!(!fx.root.join(".git/spec-kitty-merge/001-m.json").exists());
    }
    let out = assert_run!(
        env,
        &fx.root,
        "abort_nothing",
        ["merge", "--mission", "m", "--abort"]
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lanes_of(&fx)["work_packages"]["WP01"]["lane"], "approved");
    assert!(fx.worktree("lane-a").is_dir() && fx.worktree("lane-b").is_dir());
}

#[test]
fn abort_restores_the_exact_pre_merge_head_and_continue_finishes() {
    let env = TestEnv::new();
    let fx = planned(&env, 2, false);
    build_lanes(&env, &fx, 2, false);
    accept(&env, &fx);
    let head_before = rev(&env, &fx.root, "HEAD");
    // The first lane made the mission branch; the abort puts it back there.
    let mission_before = rev(&env, &fx.root, "kitty/mission-001-m");
    let (refs_before, status_before, _, _) = repo_state(&env, &fx.root);

    // Stop right after landing, as a crash there would.
    let interrupted = |env: &TestEnv| {
        env.sk(&fx.root, &["merge", "--mission", "m"])
            .env("SPEC_KITTY_TEST_MERGE_INTERRUPT", "landed")
            .output()
            .unwrap()
    };
    let out = interrupted(&env);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_out!(env, "interrupted", ["merge", "--mission", "m"], &out);
    assert_ne!(rev(&env, &fx.root, "HEAD"), head_before);
    assert!(fx.root.join("src/p1/lib.txt").exists());
    assert!(fx.root.join(".git/spec-kitty-merge/001-m.json").is_file());
    // A new merge refuses while one is in progress.
    let out = assert_run!(
        env,
        &fx.root,
        "merge_while_one_is_in_progress",
        ["merge", "--mission", "m"]
    );
    assert_eq!(out.status.code(), Some(1));

    let v = env.json(&fx.root, &["merge", "--mission", "m", "--abort", "--json"]);
    assert_eq!(v["target_restored_to"], head_before.as_str());
    assert_eq!(v["mission_branch_restored_to"], mission_before.as_str());
    assert_eq!(rev(&env, &fx.root, "HEAD"), head_before);
    let (refs_after, status_after, _, _) = repo_state(&env, &fx.root);
    assert_eq!(refs_after, refs_before, "every ref is back");
    assert_eq!(status_after, status_before, "the working tree is back");
    assert!(!fx.root.join("src/p1/lib.txt").exists());
    assert!(
        !fx.root.join("src").exists(),
        "emptied directories are gone"
    );
    assert!(!fx.root.join(".git/spec-kitty-merge/001-m.json").exists());
    assert_eq!(lanes_of(&fx)["work_packages"]["WP01"]["lane"], "approved");
    assert!(fx.worktree("lane-a").is_dir());

    // Interrupted again, --continue completes it.
    assert_eq!(interrupted(&env).status.code(), Some(3));
    let v = env.json(
        &fx.root,
        &["merge", "--mission", "m", "--continue", "--json"],
    );
    assert_eq!(v["result"], "success");
    assert_eq!(v["wps_done"], serde_json::json!(["WP01", "WP02"]));
    assert_eq!(
        v["target_after"],
        assert_recorded(&env, &fx.root, "main", SLUG).as_str()
    );
    assert!(!fx.worktree("lane-a").exists());
    assert_eq!(
        fs::read_to_string(fx.root.join("src/p2/lib.txt")).unwrap(),
        "package 2\n"
    );
    let out = assert_run!(
        env,
        &fx.root,
        "continue_nothing",
        ["merge", "--mission", "m", "--continue"]
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn dirty_target_refuses_with_a_clear_message() {
    let env = TestEnv::new();
    let fx = planned(&env, 2, false);
    build_lanes(&env, &fx, 2, false);
    accept(&env, &fx);
    let head = rev(&env, &fx.root, "HEAD");

    // No git identity: refused before anything happens.
    let bare = env.tmp.path().join("no-identity.gitconfig");
    fs::write(&bare, "[init]\n\tdefaultBranch = main\n").unwrap();
    let out = env
        .sk(&fx.root, &["merge", "--mission", "m"])
        .env("GIT_CONFIG_GLOBAL", &bare)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "no_git_identity", ["merge", "--mission", "m"], &out);

    // Unrelated local changes never block; files where the merge writes do,
    // and the message lists exactly those paths.
    fs::write(fx.root.join("README.md"), "local edit\n").unwrap();
    fs::write(fx.root.join("notes.txt"), "mine\n").unwrap();
    fs::write(fx.root.join("staged.txt"), "staged\n").unwrap();
    env.git(&fx.root, &["add", "staged.txt"]);
    write(&fx.root.join("src/p1/lib.txt"), "my own copy\n");
    fs::write(
        fx.root.join("src/p2"),
        "a file where the merge needs a directory\n",
    )
    .unwrap();
    let before = repo_state(&env, &fx.root);
    let out = assert_run!(env, &fx.root, "dirty_target", ["merge", "--mission", "m"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for unrelated in ["README.md", "notes.txt", "staged.txt"] {
        assert!(!err.contains(unrelated), "{unrelated} listed: {err}");
    }
    assert_eq!(repo_state(&env, &fx.root), before);
    assert_eq!(rev(&env, &fx.root, "HEAD"), head);
    assert_eq!(
        fs::read_to_string(fx.root.join("src/p1/lib.txt")).unwrap(),
        "my own copy\n"
    );

    let out = env.run(&fx.root, &["merge", "--mission", "m", "--json"]);
    let v = error_json(&out);
    assert!(
        v["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["gate"] == "target"),
        "{v}"
    );
    fs::remove_dir_all(fx.root.join("src")).unwrap();

    // The main checkout on the mission branch would be moved under its feet.
    env.git(&fx.root, &["checkout", "--", "README.md"]);
    // (The first lane made that branch, at main as it was then.)
    env.git(&fx.root, &["switch", "-q", "kitty/mission-001-m"]);
    let out = assert_run!(
        env,
        &fx.root,
        "checkout_on_the_mission_branch",
        ["merge", "--mission", "m"]
    );
    assert_eq!(out.status.code(), Some(1));
    env.git(&fx.root, &["switch", "-q", "main"]);

    // A modified mission file is fine when the merge does not touch it, and
    // the unrelated changes stay exactly as they were: only they remain.
    assert!(!env
        .git(&fx.root, &["status", "--porcelain", "--", "kitty-specs"])
        .is_empty());
    env.json(&fx.root, &["merge", "--mission", "m", "--json"]);
    assert_eq!(
        env.git(
            &fx.root,
            &["status", "--porcelain", "--untracked-files=all"]
        ),
        "A  staged.txt\n?? notes.txt\n"
    );
    let recorded = env.git(&fx.root, &["show", "--name-only", "--format=", "main"]);
    assert!(
        recorded
            .lines()
            .all(|l| l.starts_with("kitty-specs/001-m/")),
        "{recorded}"
    );
}

#[test]
fn merge_needs_acceptance_and_refuses_to_drop_a_dependency_lanes_work() {
    let env = TestEnv::new();
    let fx = planned(&env, 3, true);
    build_lanes(&env, &fx, 3, true);

    let out = assert_run!(env, &fx.root, "not_accepted", ["merge", "--mission", "m"]);
    assert_eq!(out.status.code(), Some(1));

    accept(&env, &fx);
    // lane-a moves on after lane-b took it in: lane-b no longer contains it.
    commit_file(
        &env,
        &fx.worktree("lane-a"),
        "src/p1/more.txt",
        "late work\n",
        "WP01: late work",
    );
    let before = repo_state(&env, &fx.root);
    let out = env.run(&fx.root, &["merge", "--mission", "m", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = error_json(&out);
    let problems: Vec<&str> = v["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["gate"] == "lost_work")
        .map(|b| b["problem"].as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 1, "{v}");
    assert!(
        problems[0].starts_with("lane-b depends on lane-a but does not contain its latest commit"),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].contains(&format!(
            "git -C {} merge {}",
            fx.worktree("lane-b").display(),
            branch("lane-a")
        )),
        "{}",
        problems[0]
    );
    assert!(
        v["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["gate"] == "accepted"
                && b["problem"]
                    .as_str()
                    .unwrap()
                    .contains("lane-a changed since")),
        "{v}"
    );
    assert_eq!(repo_state(&env, &fx.root), before);

    // accept names the same problem as a failed gate.
    let out = env.run(&fx.root, &["accept", "--mission", "m", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = error_json(&out);
    let gate = v["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "lane_dependencies")
        .unwrap()
        .clone();
    assert_eq!(gate["passed"], false);

    // Following the advice makes the merge go through, lane-a's late work included.
    env.git(
        &fx.worktree("lane-b"),
        &["merge", "-q", "--no-edit", &branch("lane-a")],
    );
    env.git(
        &fx.worktree("lane-c"),
        &["merge", "-q", "--no-edit", &branch("lane-b")],
    );
    accept(&env, &fx);
    env.json(&fx.root, &["merge", "--mission", "m", "--json"]);
    assert_eq!(
        env.git(&fx.root, &["show", "main:src/p1/more.txt"]),
        "late work\n"
    );
}

#[test]
fn accept_reports_every_gate_and_records_acceptance_only_when_all_pass() {
    let env = TestEnv::new();
    let fx = planned(&env, 2, false);
    for i in 1..=2 {
        let wt = implement(&env, &fx, i);
        commit_file(&env, &wt, &format!("src/p{i}/lib.txt"), "x\n", "work");
    }
    // WP02 stays in progress, T002 unticked, lane-a dirty, and a test that
    // fails on the lanes merged together (lane-a's marker alone is not enough).
    env.json(
        &fx.root,
        &[
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "--status",
            "done",
            "--mission",
            "m",
            "--json",
        ],
    );
    for (to, agent) in [("for_review", "codex"), ("approved", "reviewer")] {
        let out = env.run(
            &fx.root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                to,
                "--agent",
                agent,
                "--note",
                "ok",
                "--mission",
                "m",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    fs::write(fx.worktree("lane-a").join("scratch.txt"), "wip\n").unwrap();
    fs::write(fx.worktree("lane-a").join("marker"), "").unwrap();
    env.git(&fx.worktree("lane-a"), &["add", "marker"]);
    env.git(&fx.worktree("lane-a"), &["commit", "-qm", "marker"]);

    let meta_before = fs::read_to_string(fx.dir.join("meta.json")).unwrap();
    let out = env.run(
        &fx.root,
        &[
            "agent",
            "mission",
            "accept",
            "--mission",
            "m",
            "--test",
            "test -f marker && test -f marker-b",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = error_json(&out);
    assert_eq!(v["accepted"], false);
    let gate = |name: &str| {
        v["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("no gate {name}: {v}"))
            .clone()
    };
    assert_eq!(gate("work_packages")["passed"], false);
    assert!(gate("work_packages")["detail"]
        .as_str()
        .unwrap()
        .contains("WP02 is in_progress"));
    assert_eq!(gate("lane_worktrees_clean")["passed"], false);
    assert!(gate("lane_worktrees_clean")["detail"]
        .as_str()
        .unwrap()
        .starts_with("lane-a:"));
    assert_eq!(gate("tasks_checkboxes")["passed"], false);
    assert!(gate("tasks_checkboxes")["detail"]
        .as_str()
        .unwrap()
        .contains("T002"));
    assert_eq!(gate("tests")["passed"], false);
    let tests = gate("tests")["problems"].clone();
    assert_eq!(tests.as_array().unwrap().len(), 1, "{tests}");
    assert!(tests[0]
        .as_str()
        .unwrap()
        .starts_with("`test -f marker && test -f marker-b` failed with exit code 1 on lane-a, lane-b merged onto main"));
    assert_eq!(gate("lane_branches")["passed"], true);
    assert_eq!(gate("artifacts")["passed"], true);
    assert_eq!(
        fs::read_to_string(fx.dir.join("meta.json")).unwrap(),
        meta_before,
        "a failed accept records nothing"
    );
    // Human output lists PASS/FAIL per gate.
    let out = assert_run!(env, &fx.root, "accept_gates", ["accept", "--mission", "m"]);
    assert_eq!(out.status.code(), Some(1));

    // Fix everything; accept records who, when and the lane tips.
    allow(&env, &fx, 2, "marker-b");
    fs::remove_file(fx.worktree("lane-a").join("scratch.txt")).unwrap();
    fs::write(fx.worktree("lane-b").join("marker-b"), "").unwrap();
    env.git(&fx.worktree("lane-b"), &["add", "marker-b"]);
    env.git(&fx.worktree("lane-b"), &["commit", "-qm", "marker"]);
    env.json(
        &fx.root,
        &[
            "agent",
            "tasks",
            "mark-status",
            "T002",
            "--status",
            "done",
            "--mission",
            "m",
            "--json",
        ],
    );
    for (to, agent) in [("for_review", "codex"), ("approved", "reviewer")] {
        let out = env.run(
            &fx.root,
            &[
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
                "--mission",
                "m",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let v = env.json(
        &fx.root,
        &[
            "accept",
            "--mission",
            "m",
            "--test",
            "test -f marker && test -f marker-b",
            "--agent",
            "lead",
            "--json",
        ],
    );
    assert_eq!(v["result"], "success");
    assert!(v["gates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["passed"] == true));
    let meta: Value =
        serde_json::from_str(&fs::read_to_string(fx.dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["accepted_by"], "lead");
    assert!(meta["accepted_at"].as_str().unwrap().starts_with("20"));
    for lane in ["lane-a", "lane-b"] {
        assert_eq!(
            meta["accepted_lanes"][lane],
            rev(&env, &fx.root, &branch(lane)).as_str()
        );
    }
    assert!(
        meta["mission_id"].is_string(),
        "other keys are kept: {meta}"
    );
}

#[test]
fn planning_only_mission_merges_with_only_the_record_commit() {
    let env = TestEnv::new();
    let fx = planned_with(&env, 0, false, true);
    approve_planning(&env, &fx, 1);
    accept(&env, &fx);
    let refs = env.git(&fx.root, &["for-each-ref", "--exclude=refs/heads/main"]);
    let main_before = rev(&env, &fx.root, "main");
    let v = env.json(&fx.root, &["merge", "--mission", "m", "--json"]);
    assert_eq!(v["order"], serde_json::json!([]));
    assert_eq!(v["commits_created"], serde_json::json!([]));
    assert_eq!(v["target_after"], v["target_before"]);
    assert_eq!(
        env.git(&fx.root, &["for-each-ref", "--exclude=refs/heads/main"]),
        refs,
        "no other branch was made or moved"
    );
    assert_eq!(lanes_of(&fx)["work_packages"]["WP01"]["lane"], "done");
    // The only commit is the record of the mission on main.
    assert_eq!(assert_recorded(&env, &fx.root, "main", SLUG), main_before);
}

/// `accept --test` runs its command once, on the lanes merged together onto
/// main in a scratch worktree under .worktrees/ (removed afterwards, pass or
/// fail): a docs-only lane that would fail alone no longer fails it.
#[test]
fn accept_test_runs_once_on_the_lanes_merged_together() {
    let env = TestEnv::new();
    let fx = planned(&env, 2, false);
    let code = implement(&env, &fx, 1);
    commit_file(&env, &code, "src/p1/lib.txt", "package 1\n", "WP01: code");
    let docs = implement(&env, &fx, 2);
    commit_file(
        &env,
        &docs,
        "src/p2/USAGE.md",
        "using package 1\n",
        "WP02: docs",
    );
    approve_all(&env, &fx, 2);
    let ran_in = env.tmp.path().join("ran-in");
    let check = "test -f src/p1/lib.txt && test -f src/p2/USAGE.md";
    let cmd = format!("{check} && pwd > '{}'", ran_in.display());
    // Neither lane alone passes.
    for wt in [&code, &docs] {
        let st = std::process::Command::new("sh")
            .args(["-c", check])
            .current_dir(wt)
            .status()
            .unwrap();
        assert!(!st.success(), "{} alone passes", wt.display());
    }
    let refs_before = env.git(
        &fx.root,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    );
    let worktrees = |env: &TestEnv| env.git(&fx.root, &["worktree", "list", "--porcelain"]);
    let wt_before = worktrees(&env);
    // A failing command: the gate fails, names the combination, and the
    // scratch worktree is gone all the same.
    let out = env.run(
        &fx.root,
        &[
            "accept",
            "--mission",
            "m",
            "--test",
            "echo nope; exit 3",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let gate = v["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "tests")
        .unwrap()
        .clone();
    assert_eq!(gate["passed"], false, "{v}");
    let problem = gate["problems"][0].as_str().unwrap();
    assert!(
        problem.starts_with(
            "`echo nope; exit 3` failed with exit code 3 on lane-a, lane-b merged onto main"
        ),
        "{problem}"
    );
    assert!(problem.ends_with("nope"), "{problem}");
    assert_eq!(
        worktrees(&env),
        wt_before,
        "the scratch worktree is removed"
    );
    assert!(!fx.root.join(".worktrees/001-m-accept-test").exists());
    // The combination passes: accepted.
    let v = env.json(
        &fx.root,
        &["accept", "--mission", "m", "--test", &cmd, "--json"],
    );
    assert_eq!(v["result"], "success", "{v}");
    let gate = v["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "tests")
        .unwrap()
        .clone();
    assert_eq!(gate["passed"], true, "{v}");
    assert!(
        gate["detail"]
            .as_str()
            .unwrap()
            .contains("lane-a, lane-b merged onto main"),
        "{gate}"
    );
    // It ran in the scratch worktree under the project's .worktrees/.
    let dir = fs::read_to_string(&ran_in).unwrap();
    let expected = fs::canonicalize(&fx.root)
        .unwrap()
        .join(".worktrees/001-m-accept-test");
    assert_eq!(Path::new(dir.trim()), expected);
    assert!(!expected.exists(), "removed after the run");
    assert_eq!(worktrees(&env), wt_before);
    // No ref moved or was left behind (accept writes only meta.json).
    assert_eq!(
        env.git(
            &fx.root,
            &["for-each-ref", "--format=%(refname) %(objectname)"]
        ),
        refs_before
    );
}

/// The trace of one run of `args` (`SPEC_KITTY_TEST_CRASH_TRACE`): how often
/// it opened the main checkout's repository (`git-open:<its name>`), and how
/// often it made an in-memory handle on it (`git-in-memory:`).
fn opens_of_main(env: &TestEnv, fx: &Fx, args: &[&str]) -> (usize, usize, Value) {
    let (steps, out) = env.traced(&fx.root, args);
    let name = fx.root.file_name().unwrap().to_string_lossy().into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap();
    (
        steps_of(&steps, "git-open", &name),
        steps_of(&steps, "git-in-memory", &name),
        json,
    )
}

/// `accept` and `merge --dry-run` of three lanes open the main checkout's
/// repository once each and hand that one handle down (gates, dependency
/// checks, scope, the in-memory integration); the in-memory merge is one
/// more handle on it, traced apart.
#[test]
fn accept_and_a_merge_forecast_open_the_main_repository_once() {
    let env = TestEnv::new();
    let fx = planned(&env, 3, true);
    build_lanes(&env, &fx, 3, true);
    let (opens, in_memory, v) = opens_of_main(&env, &fx, &["accept", "--mission", "m", "--json"]);
    assert_eq!(v["accepted"], true, "{v}");
    assert_eq!((opens, in_memory), (1, 0));
    let (opens, in_memory, v) = opens_of_main(
        &env,
        &fx,
        &["merge", "--mission", "m", "--dry-run", "--json"],
    );
    assert_eq!(v["would_merge"], true, "{v}");
    assert_eq!((opens, in_memory), (1, 1));
}
