//! Races and kills that must never lose a decision: a review rejection racing
//! `merge`, a re-plan racing `implement`, a kill holding a ref lock in
//! `auto_commit`, a kill between an atomic write's temp file and its rename.
//! Orders are forced with named pause and crash points (src/env.rs), never
//! with sleeps or wall-clock kills.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

struct Fx {
    root: PathBuf,
    slug: String,
    dir: PathBuf,
}

fn mv(env: &TestEnv, fx: &Fx, wp: &str, to: &str, agent: &str) -> std::process::Output {
    env.run(
        &fx.root,
        &[
            "agent",
            "tasks",
            "move-task",
            wp,
            "--to",
            to,
            "--agent",
            agent,
            "--note",
            "ok",
            "--mission",
            &fx.slug,
        ],
    )
}

/// A project whose mission has two independent code work packages, each
/// implemented (one commit in its lane), approved, and the mission accepted:
/// ready to merge into `main`, the branch the main checkout is on.
fn accepted(env: &TestEnv) -> Fx {
    let root = env.project("p");
    let m = env.create_mission(&root, "m");
    let wps = [
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &[]),
    ];
    write_mission(&m.dir, &m.slug, &wps);
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan mission m"]);
    let fx = Fx {
        root: root.clone(),
        slug: m.slug.clone(),
        dir: m.dir.clone(),
    };
    for (i, wp) in wps.iter().enumerate() {
        let v = env.json(
            &root,
            &crate::common::implement_args(&wp.id, &m.slug, "codex"),
        );
        let wt = PathBuf::from(v["workspace"].as_str().unwrap());
        let part = if i == 0 { "one" } else { "two" };
        write(&wt.join(format!("src/{part}/lib.txt")), "work\n");
        env.git(&wt, &["add", "-A"]);
        env.git(&wt, &["commit", "-qm", &format!("{}: work", wp.id)]);
        env.ok(
            &root,
            &[
                "agent",
                "tasks",
                "mark-status",
                &wp.subtask(),
                "--status",
                "done",
                "--mission",
                &m.slug,
            ],
        );
        for (to, agent) in [("for_review", "codex"), ("approved", "reviewer")] {
            let o = mv(env, &fx, &wp.id, to, agent);
            assert!(o.status.success(), "{}", stderr(&o));
        }
    }
    env.json(&root, &["accept", "--mission", &m.slug, "--json"]);
    fx
}

fn lane_of(env: &TestEnv, fx: &Fx, wp: &str) -> String {
    let v = env.json(
        &fx.root,
        &["agent", "tasks", "status", "--mission", &fx.slug, "--json"],
    );
    v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == wp)
        .unwrap_or_else(|| panic!("no {wp} in {v}"))["lane"]
        .as_str()
        .unwrap()
        .to_string()
}

fn reject(env: &TestEnv, fx: &Fx) -> std::process::Output {
    env.run(
        &fx.root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "planned",
            "--review-feedback",
            "the parser drops the last line",
            "--agent",
            "reviewer",
            "--mission",
            &fx.slug,
            "--json",
        ],
    )
}

fn merge_args(fx: &Fx) -> Vec<&str> {
    vec!["merge", "--mission", &fx.slug, "--json"]
}

/// The review rejection gets in after merge checked its preconditions and
/// before it landed: the merge re-checks the approvals under the status lock
/// and refuses, naming the work package; main does not move, the mission is
/// not recorded merged, WP02 stays planned with its feedback.
#[test]
fn a_review_rejection_that_gets_in_first_makes_the_merge_refuse() {
    let env = TestEnv::new();
    let fx = accepted(&env);
    let main_before = env.git(&fx.root, &["rev-parse", "main"]);
    let pause = Pause::at("merge-before-landing");
    let (k, v) = pause.var();
    let mut merge = env.spawn_env(&fx.root, &merge_args(&fx), &[(k, &v)]);
    pause.reached(&mut merge);

    let rejected = reject(&env, &fx);
    pause.go();
    let merged = merge.wait_with_output().unwrap();

    assert!(
        rejected.status.success(),
        "the rejection got in first: {}",
        stderr(&rejected)
    );
    assert!(
        !merged.status.success(),
        "both the rejection and the merge succeeded: {}",
        stdout(&merged)
    );
    let e: Value = serde_json::from_slice(&merged.stdout).unwrap();
    let msg = e["error"].as_str().unwrap();
    assert!(msg.contains("WP02"), "the refusal names the WP: {e}");
    assert_eq!(env.git(&fx.root, &["rev-parse", "main"]), main_before);
    assert_eq!(lane_of(&env, &fx, "WP02"), "planned");
    assert_eq!(lane_of(&env, &fx, "WP01"), "approved");
    let meta = fs::read_to_string(fx.dir.join("meta.json")).unwrap();
    assert!(!meta.contains("merged_at"), "{meta}");
    assert!(
        !fx.root
            .join(".git/spec-kitty-merge")
            .join(format!("{}.json", fx.slug))
            .exists(),
        "no merge is left holding the mission"
    );
}

/// The merge took the mission first: the rejection is refused (naming the
/// merge and how to get out of its way), the merge lands, every work package
/// ends done and the mission is recorded merged.
#[test]
fn a_merge_holding_the_mission_refuses_a_review_rejection() {
    let env = TestEnv::new();
    let fx = accepted(&env);
    let main_before = env.git(&fx.root, &["rev-parse", "main"]);
    let pause = Pause::at("merge-holds-mission");
    let (k, v) = pause.var();
    let mut merge = env.spawn_env(&fx.root, &merge_args(&fx), &[(k, &v)]);
    pause.reached(&mut merge);

    let rejected = reject(&env, &fx);
    pause.go();
    let merged = merge.wait_with_output().unwrap();

    assert!(merged.status.success(), "{}", stderr(&merged));
    assert!(
        !rejected.status.success(),
        "both the merge and the rejection succeeded: {}",
        stdout(&rejected)
    );
    let e: Value = serde_json::from_slice(&rejected.stdout).unwrap();
    let msg = e["error"].as_str().unwrap();
    assert!(msg.contains("merge") && msg.contains("WP02"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("--abort"), "{e}");
    assert_ne!(env.git(&fx.root, &["rev-parse", "main"]), main_before);
    assert_eq!(lane_of(&env, &fx, "WP01"), "done");
    assert_eq!(lane_of(&env, &fx, "WP02"), "done");
    let meta = fs::read_to_string(fx.dir.join("meta.json")).unwrap();
    assert!(meta.contains("merged_at"), "{meta}");
    assert!(
        !fx.root
            .join(".git/spec-kitty-merge")
            .join(format!("{}.json", fx.slug))
            .exists(),
        "the merge let go of the mission"
    );
}

fn enable_auto_commit(env: &TestEnv, root: &Path) {
    let cfg = root.join(".kittify/config.yaml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(&cfg, format!("{text}  auto_commit: true\n")).unwrap();
    env.git(root, &["add", ".kittify/config.yaml"]);
    env.git(root, &["commit", "-qm", "enable auto_commit"]);
}

fn head(env: &TestEnv, root: &Path) -> String {
    env.git(root, &["rev-parse", "HEAD"]).trim().to_string()
}

/// A planning mission, committed, with `auto_commit: true`.
fn auto_committing(env: &TestEnv) -> (PathBuf, MissionInfo) {
    let (root, m) = env.finalized_mission(&[WpDef::planning(
        "WP01",
        "Notes",
        "kitty-specs/{slug}/notes.md",
        &[],
    )]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    enable_auto_commit(env, &root);
    (root, m)
}

fn move_args<'a>(slug: &'a str, to: &'a str) -> Vec<&'a str> {
    vec![
        "agent",
        "tasks",
        "move-task",
        "WP01",
        "--to",
        to,
        "--force",
        "--note",
        "n",
        "--mission",
        slug,
    ]
}

/// auto_commit killed while it holds `refs/heads/main.lock`: the next command
/// proves the lock is the killed commit's (its intent record, its process
/// gone), removes it and commits; the user's own `git commit` works again. A
/// lock that is not provably ours is never removed: the command fails
/// (non-zero), naming the lock and the fix, and commits nothing.
#[test]
fn auto_commit_killed_holding_the_ref_lock_is_recovered_a_foreign_lock_fails_loudly() {
    let env = TestEnv::new();
    let (root, m) = auto_committing(&env);
    let lock = root.join(".git/refs/heads/main.lock");
    let before = head(&env, &root);
    let o = env
        .sk(&root, &move_args(&m.slug, "claimed"))
        .env("SPEC_KITTY_TEST_COMMIT_CRASH", "ref-locked")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by the hook: {}", stderr(&o));
    assert!(lock.is_file(), "the kill left the ref lock");
    assert_eq!(head(&env, &root), before);

    // The next command clears it and commits (its files include the killed
    // move's: the same log, snapshot and WP file).
    let o = env.run(&root, &move_args(&m.slug, "in_progress"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!lock.exists(), "the killed commit's lock was recovered");
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^"]).trim(), before);
    assert_eq!(env.git(&root, &["status", "--porcelain"]), "");
    assert!(!root
        .join(".git/spec-kitty-commit")
        .read_dir()
        .unwrap()
        .any(|_| true));
    // The user's own commits work.
    write(&root.join("NOTES.txt"), "mine\n");
    env.git(&root, &["add", "NOTES.txt"]);
    env.git(&root, &["commit", "-qm", "user commit"]);

    // A lock nobody can prove is ours (a git command of the user's, mid-update):
    // never removed, never reported as committed.
    for content in ["", "0123456789abcdef0123456789abcdef01234567\n"] {
        fs::write(&lock, content).unwrap();
        let before = head(&env, &root);
        let o = env.run(&root, &move_args(&m.slug, "for_review"));
        assert_ne!(
            o.status.code(),
            Some(0),
            "a commit that did not happen: {}",
            stderr(&o)
        );
        let err = stderr(&o);
        assert!(
            err.contains(&lock.display().to_string()),
            "names the lock: {err}"
        );
        assert!(err.contains("remove it"), "gives the fix: {err}");
        assert!(!err.contains("auto_commit: committed"), "{err}");
        assert_eq!(head(&env, &root), before);
        assert!(lock.is_file(), "a foreign lock is left alone");
        fs::remove_file(&lock).unwrap();
        // Undo the move for the next round.
        env.git(&root, &["checkout", "-q", "--", "."]);
    }
}

/// auto_commit killed after its commit moved the branch and before the
/// main checkout's index followed (crash step `commit-ref-moved`): the index
/// still holds the old versions, which read as staged changes reverting the
/// commit, and every later auto_commit refused them ("commit or unstage
/// them": committing them would have undone the move). The next command
/// proves them the kill's (the intent record of a dead process, entries
/// equal to the old tip's), brings the index along and commits for real.
#[test]
fn auto_commit_killed_before_the_index_followed_is_caught_up() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::planning("WP01", "Notes", "kitty-specs/{slug}/notes.md", &[]),
        WpDef::planning("WP02", "More", "kitty-specs/{slug}/more.md", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    enable_auto_commit(&env, &root);
    let before = head(&env, &root);
    let o = env
        .sk(&root, &move_args(&m.slug, "claimed"))
        .env("SPEC_KITTY_TEST_CRASH", "commit-ref-moved")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by the hook: {}", stderr(&o));
    let moved = head(&env, &root);
    assert_ne!(moved, before, "the kill came after the branch moved");
    let staged = env.git(&root, &["diff", "--cached", "--name-only"]);
    assert!(
        staged.contains("WP01"),
        "the kill left the index behind: {staged:?}"
    );

    // The next command moves another WP: WP01's file is not among its files.
    let mut args = move_args(&m.slug, "claimed");
    args[3] = "WP02";
    let o = env.run(&root, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^"]).trim(), moved);
    assert_eq!(env.git(&root, &["status", "--porcelain"]), "");
    let wp1 = env.git(&root, &["show", &format!("HEAD:{}", rel_wp1(&root, &m))]);
    assert!(wp1.contains("Moved to claimed"), "{wp1}");
}

/// WP01's file, relative to the project root.
fn rel_wp1(root: &Path, m: &MissionInfo) -> String {
    let dir = m.dir.join("tasks");
    let f = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("WP01-"))
        .unwrap()
        .path();
    let root = fs::canonicalize(root).unwrap();
    fs::canonicalize(f)
        .unwrap()
        .strip_prefix(&root)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// An atomic write killed between its temp file and the rename leaves
/// `.<name>.<pid>.<n>.tmp` in the mission directory: the next command removes
/// it (its process is dead), and no commit (record, auto_commit) ever takes a
/// temp file, even one of a writer still running.
#[test]
fn temp_files_of_a_killed_write_are_swept_and_never_committed() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::planning(
        "WP01",
        "Notes",
        "kitty-specs/{slug}/notes.md",
        &[],
    )]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    let temps = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
            .collect();
        v.sort();
        v
    };
    let o = env
        .sk(&root, &move_args(&m.slug, "claimed"))
        .env("SPEC_KITTY_TEST_WRITE_CRASH", "status.json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by the hook: {}", stderr(&o));
    let left = temps(&m.dir);
    assert_eq!(left.len(), 1, "the kill left its temp file: {left:?}");
    assert!(left[0].starts_with(".status.json."), "{left:?}");
    // A live writer's temp (this test's own pid): kept, and never committed.
    let live = format!(".notes.md.{}.7.tmp", std::process::id());
    fs::write(m.dir.join(&live), "half\n").unwrap();

    let v = env.json(
        &root,
        &["agent", "mission", "record", "--mission", &m.slug, "--json"],
    );
    let files = env.git(&root, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        !files.contains(".tmp"),
        "record committed a temp file: {files}\n{v}"
    );
    assert!(files.contains("status.events.jsonl"), "{files}");
    assert_eq!(
        temps(&m.dir),
        vec![live.clone()],
        "the dead writer's temp is gone"
    );

    // auto_commit: a killed write, then the next command commits.
    enable_auto_commit(&env, &root);
    let o = env
        .sk(&root, &move_args(&m.slug, "in_progress"))
        .env("SPEC_KITTY_TEST_WRITE_CRASH", "status.json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by the hook: {}", stderr(&o));
    assert_eq!(temps(&m.dir).len(), 2);
    let o = env.run(&root, &move_args(&m.slug, "for_review"));
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = env.git(&root, &["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(!tree.contains(".tmp"), "a temp file was committed: {tree}");
    assert_eq!(temps(&m.dir), vec![live]);
}

/// Three independent code work packages (lane-a, lane-b, lane-c), committed.
fn three_lanes(env: &TestEnv) -> (PathBuf, MissionInfo) {
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &[]),
        WpDef::code("WP03", "Three", "src/three/**", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    (root, m)
}

/// The lane lanes.json puts `wp` in.
fn planned_lane(m: &MissionInfo, wp: &str) -> String {
    let v: Value =
        serde_json::from_str(&fs::read_to_string(m.dir.join("lanes.json")).unwrap()).unwrap();
    v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["wp_ids"].as_array().unwrap().iter().any(|w| w == wp))
        .unwrap_or_else(|| panic!("{wp} is in no lane: {v}"))["lane_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Re-plan: `wp` (file `tasks/<file>`) now depends on `on`, in tasks.md and
/// its WP file.
fn make_depend(m: &MissionInfo, wp: &str, file: &str, on: &str) {
    let tasks = m.dir.join("tasks.md");
    let text = fs::read_to_string(&tasks).unwrap();
    let (head, tail) = text.split_once(&format!("## {wp}")).unwrap();
    let tail = tail.replacen(
        "**Dependencies**: none",
        &format!("**Dependencies**: {on}"),
        1,
    );
    fs::write(&tasks, format!("{head}## {wp}{tail}")).unwrap();
    let file = m.dir.join("tasks").join(file);
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("dependencies: []\n"), "{text}");
    fs::write(
        &file,
        text.replace("dependencies: []\n", &format!("dependencies:\n- {on}\n")),
    )
    .unwrap();
}

fn make_wp03_depend_on_wp01(m: &MissionInfo) {
    make_depend(m, "WP03", "WP03-three.md", "WP01");
}

fn finalize(env: &TestEnv, root: &Path, m: &MissionInfo) -> std::process::Output {
    env.run(
        root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            &m.slug,
            "--json",
        ],
    )
}

fn implement(env: &TestEnv, root: &Path, m: &MissionInfo, wp: &str) -> Value {
    env.json(root, &crate::common::implement_args(wp, &m.slug, "codex"))
}

fn status_of(env: &TestEnv, root: &Path, m: &MissionInfo, wp: &str) -> String {
    let v = env.json(
        root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == wp)
        .unwrap()["lane"]
        .as_str()
        .unwrap()
        .to_string()
}

/// WP03 is in progress in lane-c when a re-plan (WP03 now depends on WP01)
/// would put it in WP01's lane: finalize-tasks keeps it in lane-c, whose
/// worktree holds its work (WP01, not started, joins it there), and
/// implement hands out the same worktree again.
#[test]
fn a_replan_keeps_started_work_in_the_lane_whose_worktree_holds_it() {
    let env = TestEnv::new();
    let (root, m) = three_lanes(&env);
    let v = implement(&env, &root, &m, "WP03");
    let wt = v["workspace"].as_str().unwrap().to_string();
    assert_eq!(planned_lane(&m, "WP03"), "lane-c");
    assert!(wt.ends_with("-lane-c"), "{wt}");
    write(
        &Path::new(&wt).join("src/three/wip.txt"),
        "work in progress\n",
    );

    make_wp03_depend_on_wp01(&m);
    let o = finalize(&env, &root, &m);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        planned_lane(&m, "WP03"),
        "lane-c",
        "started work moved lanes"
    );
    assert_eq!(
        planned_lane(&m, "WP01"),
        "lane-c",
        "the dependency joins it"
    );
    assert_eq!(planned_lane(&m, "WP02"), "lane-a");
    let v = implement(&env, &root, &m, "WP03");
    assert_eq!(v["workspace"].as_str().unwrap(), wt);
    assert!(Path::new(&wt).join("src/three/wip.txt").is_file());
    // Settled: finalizing again changes nothing.
    let before = fs::read(m.dir.join("lanes.json")).unwrap();
    let o = finalize(&env, &root, &m);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read(m.dir.join("lanes.json")).unwrap(), before);
}

/// Two started work packages in two lanes that a re-plan would join: no
/// naming keeps both, so finalize-tasks refuses, naming both, and writes
/// nothing.
#[test]
fn a_replan_that_would_join_two_started_lanes_is_refused_naming_the_wps() {
    let env = TestEnv::new();
    let (root, m) = three_lanes(&env);
    implement(&env, &root, &m, "WP01");
    implement(&env, &root, &m, "WP03");
    make_wp03_depend_on_wp01(&m);
    let before = snapshot(&m.dir.join("tasks"));
    let lanes = fs::read(m.dir.join("lanes.json")).unwrap();
    let o = finalize(&env, &root, &m);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = e["error"].as_str().unwrap();
    assert!(msg.contains("WP01") && msg.contains("WP03"), "{e}");
    assert!(msg.contains("lane-a") && msg.contains("lane-c"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("move-task"), "{e}");
    assert_eq!(fs::read(m.dir.join("lanes.json")).unwrap(), lanes);
    assert_eq!(snapshot(&m.dir.join("tasks")), before);
}

/// finalize-tasks re-plans (WP01 now depends on WP03, so they share a lane,
/// lane-a) while implement has prepared WP03's lane (lane-c) and not yet
/// claimed it: the claim sees, under the status lock, that WP03 is no longer
/// in lane-c, and implement goes round again with the new lanes.
/// WP03 ends in progress in the lane lanes.json gives it, in that lane's
/// worktree.
#[test]
fn implement_racing_a_replan_claims_the_lane_of_the_new_plan() {
    let env = TestEnv::new();
    let (root, m) = three_lanes(&env);
    let pause = Pause::at("implement-before-claim");
    let (k, v) = pause.var();
    let mut imp = env.spawn_env(
        &root,
        &crate::common::implement_args("WP03", &m.slug, "codex"),
        &[(k, &v)],
    );
    pause.reached(&mut imp);
    make_depend(&m, "WP01", "WP01-one.md", "WP03");
    let o = finalize(&env, &root, &m);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        planned_lane(&m, "WP03"),
        "lane-a",
        "WP03 was not started yet"
    );
    pause.go();
    let o = imp.wait_with_output().unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let lane = planned_lane(&m, "WP03");
    assert!(
        v["workspace"]
            .as_str()
            .unwrap()
            .ends_with(&format!("-{lane}")),
        "implement handed out {} but lanes.json puts WP03 in {lane}",
        v["workspace"]
    );
    assert_eq!(status_of(&env, &root, &m, "WP03"), "in_progress");
    // And a later re-plan keeps it there.
    let o = finalize(&env, &root, &m);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(planned_lane(&m, "WP03"), lane);
}

/// A planning mission of two WPs, committed, with `auto_commit: true`.
fn auto_committing_two(env: &TestEnv) -> (PathBuf, MissionInfo) {
    let (root, m) = env.finalized_mission(&[
        WpDef::planning("WP01", "Notes", "kitty-specs/{slug}/notes.md", &[]),
        WpDef::planning("WP02", "More", "kitty-specs/{slug}/more.md", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    enable_auto_commit(env, &root);
    (root, m)
}

/// The status log as committed at `rev`.
fn committed_log(env: &TestEnv, root: &Path, m: &MissionInfo, rev: &str) -> String {
    env.git(
        root,
        &[
            "show",
            &format!("{rev}:kitty-specs/{}/status.events.jsonl", m.slug),
        ],
    )
}

/// Does the log text record `wp`'s move to claimed?
fn claimed_in(log: &str, wp: &str) -> bool {
    log.lines().any(|l| {
        serde_json::from_str::<Value>(l)
            .is_ok_and(|e| e["wp_id"] == wp && e["to_lane"] == "claimed")
    })
}

/// A commit someone makes while auto_commit is committing (held after its
/// commit is made on the tip it read, before the branch moves): the branch
/// moved under it, and instead of failing ("it moved while spec-kitty was
/// committing") the commit is made again on the new tip. Both commits land,
/// in order, nothing is left staged or uncommitted.
#[test]
fn auto_commit_retries_on_a_commit_made_meanwhile() {
    let env = TestEnv::new();
    let (root, m) = auto_committing_two(&env);
    let before = head(&env, &root);
    let hold = Pause::at("commit-before-ref");
    let (k, v) = hold.var();
    let args = move_args(&m.slug, "claimed");
    let mut a = env.spawn_env(&root, &args, &[(k, &v)]);
    hold.reached(&mut a);
    // The user's own commit, made meanwhile.
    write(&root.join("NOTES.txt"), "mine\n");
    env.git(&root, &["add", "NOTES.txt"]);
    env.git(&root, &["commit", "-qm", "user commit"]);
    let user = head(&env, &root);
    hold.go();
    let o = a.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("auto_commit: committed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^"]).trim(), user);
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^^"]).trim(), before);
    let log = committed_log(&env, &root, &m, "HEAD");
    assert!(claimed_in(&log, "WP01"), "{log}");
    assert_eq!(env.git(&root, &["show", "HEAD:NOTES.txt"]), "mine\n");
    assert_eq!(env.git(&root, &["status", "--porcelain"]), "");
    assert_eq!(env.git(&root, &["diff", "--cached", "--name-only"]), "");
}

/// A branch moved backwards while auto_commit was committing (a reset) is
/// not committed over: nothing is committed, the command says so (non-zero).
#[test]
fn auto_commit_does_not_commit_over_a_branch_reset_meanwhile() {
    let env = TestEnv::new();
    let (root, m) = auto_committing_two(&env);
    write(&root.join("NOTES.txt"), "mine\n");
    env.git(&root, &["add", "NOTES.txt"]);
    env.git(&root, &["commit", "-qm", "user commit"]);
    let parent = env.git(&root, &["rev-parse", "HEAD^"]).trim().to_string();
    let hold = Pause::at("commit-before-ref");
    let (k, v) = hold.var();
    let args = move_args(&m.slug, "claimed");
    let mut a = env.spawn_env(&root, &args, &[(k, &v)]);
    hold.reached(&mut a);
    env.git(&root, &["update-ref", "refs/heads/main", &parent]);
    hold.go();
    let o = a.wait_with_output().unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("moved while"), "{}", stderr(&o));
    assert_eq!(
        head(&env, &root),
        parent,
        "nothing committed over the reset"
    );
}

/// Two processes writing state with auto_commit at once: the second's commit
/// waits for the first's (one spec-kitty commit at a time, so neither sees
/// the other's branch moved before its index followed), both commits land,
/// the committed log holds both events, nothing is left staged.
#[test]
fn two_auto_commits_at_once_both_land_and_lose_no_event() {
    let env = TestEnv::new();
    let (root, m) = auto_committing_two(&env);
    let before = head(&env, &root);
    let first = move_args(&m.slug, "claimed");
    let mut second: Vec<String> = move_args(&m.slug, "claimed")
        .into_iter()
        .map(str::to_string)
        .collect();
    second[3] = "WP02".into();
    let outs = hold_and_contend(&env, &root, &first, "commit-before-ref", &[second]);
    for o in &outs {
        assert!(o.status.success(), "{}", stderr(o));
        assert!(
            stderr(o).contains("auto_commit: committed"),
            "{}",
            stderr(o)
        );
    }
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^^"]).trim(), before);
    let log = committed_log(&env, &root, &m, "HEAD");
    for wp in ["WP01", "WP02"] {
        assert!(
            claimed_in(&log, wp),
            "{wp} claimed in the committed log: {log}"
        );
    }
    assert_eq!(env.git(&root, &["status", "--porcelain"]), "");
    assert_eq!(env.git(&root, &["diff", "--cached", "--name-only"]), "");
}

/// auto_commit commits what the command wrote, not what changed while it
/// ran: a user's edit to a mission file and a new file in the mission,
/// made while the move is held under the status lock (between its read and
/// its append), are neither committed nor staged; the move's own files are.
#[test]
fn auto_commit_leaves_a_file_changed_by_someone_else_during_the_command() {
    let env = TestEnv::new();
    let (root, m) = auto_committing(&env);
    let before = head(&env, &root);
    let pause = Pause::at("status-before-append");
    let (k, v) = pause.var();
    let mut mv = env.spawn_env(&root, &move_args(&m.slug, "claimed"), &[(k, &v)]);
    pause.reached(&mut mv);
    fs::write(m.dir.join("spec.md"), "# Spec\n\nedited meanwhile\n").unwrap();
    fs::write(m.dir.join("scratch.md"), "a note of my own\n").unwrap();
    pause.go();
    let o = mv.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(env.git(&root, &["rev-parse", "HEAD^"]).trim(), before);
    let slug = &m.slug;
    assert_eq!(
        env.git(&root, &["show", "--name-only", "--format=", "HEAD"]),
        format!(
            "kitty-specs/{slug}/status.events.jsonl\nkitty-specs/{slug}/status.json\nkitty-specs/{slug}/tasks/WP01-notes.md\n"
        ),
        "only the move's own files are committed"
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain"]),
        format!(" M kitty-specs/{slug}/spec.md\n?? kitty-specs/{slug}/scratch.md\n"),
        "the edits made meanwhile stay the user's, unstaged"
    );
}

/// Two agents claiming the first WPs of two lanes at once, both held just
/// before git registers their worktrees and let go together: both get their
/// worktree. libgit2 makes `.git/worktrees` when it finds it missing and
/// failed with "directory exists" when the other claim made it in between.
#[test]
fn two_first_lanes_claimed_at_once_both_get_their_worktree() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &[]),
    ]);
    assert!(!root.join(".git/worktrees").exists());
    let (one, two) = (
        Pause::at("worktree-before-add"),
        Pause::at("worktree-before-add"),
    );
    let (k1, v1) = one.var();
    let (k2, v2) = two.var();
    let a1 = crate::common::implement_args("WP01", &m.slug, "alpha");
    let a2 = crate::common::implement_args("WP02", &m.slug, "beta");
    let mut a = env.spawn_env(&root, &a1, &[(k1, &v1)]);
    let mut b = env.spawn_env(&root, &a2, &[(k2, &v2)]);
    one.reached(&mut a);
    two.reached(&mut b);
    one.go();
    two.go();
    for (out, lane) in [
        (a.wait_with_output().unwrap(), "lane-a"),
        (b.wait_with_output().unwrap(), "lane-b"),
    ] {
        assert!(
            out.status.success(),
            "{}{}",
            stderr(&out),
            String::from_utf8_lossy(&out.stdout)
        );
        let wt = root.join(".worktrees").join(format!("{}-{lane}", m.slug));
        assert!(wt.join(".git").is_file(), "{}", wt.display());
    }
}
