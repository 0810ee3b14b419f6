//! `spec-kitty merge` killed at every named step while it lands and finishes: whatever the
//! kill left behind, the next command says to `--continue` or `--abort` (and
//! never to commit or stash the merge's own half-written files), `--continue`
//! lands every lane's work exactly once on a clean tree, and `--abort` puts the
//! repository back exactly as it was before the merge.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

/// Work packages, one code lane each.
const LANES: usize = 3;
/// Files each lane adds: enough for a checkout to be cut half-way.
const FILES: usize = 20;

struct Fx {
    root: PathBuf,
    slug: String,
    files: usize,
}

impl Fx {
    fn state_file(&self) -> PathBuf {
        self.root
            .join(".git/spec-kitty-merge")
            .join(format!("{}.json", self.slug))
    }

    /// The phase recorded in the merge state file, if a merge is in progress.
    fn phase(&self) -> Option<String> {
        let text = fs::read_to_string(self.state_file()).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        v["phase"].as_str().map(str::to_string)
    }
}

fn file_text(lane: usize, k: usize) -> String {
    format!("lane {lane} file {k}\n")
}

/// A project with an accepted mission of [`LANES`] independent code work
/// packages, each lane adding `files` files in one commit; the main checkout
/// is on `main`, the merge's target.
fn accepted_mission(env: &TestEnv, name: &str, files: usize) -> Fx {
    let root = env.project(name);
    let m = env.create_mission(&root, "m");
    let wps: Vec<WpDef> = (1..=LANES)
        .map(|i| {
            WpDef::code(
                &format!("WP{i:02}"),
                &format!("Part {i}"),
                &format!("src/p{i}/**"),
                &[],
            )
        })
        .collect();
    write_mission(&m.dir, &m.slug, &wps);
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan mission m"]);
    for (i, wp) in wps.iter().enumerate() {
        let i = i + 1;
        let v = env.json(
            &root,
            &crate::common::implement_args(&wp.id, &m.slug, "codex"),
        );
        let wt = PathBuf::from(v["workspace"].as_str().unwrap());
        for k in 0..files {
            write(
                &wt.join(format!("src/p{i}/d{}/f{k}.txt", k % 10)),
                &file_text(i, k),
            );
        }
        env.git(&wt, &["add", "-A"]);
        env.git(&wt, &["commit", "-qm", &format!("WP{i:02}: part {i}")]);
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
            env.ok(
                &root,
                &[
                    "agent",
                    "tasks",
                    "move-task",
                    &wp.id,
                    "--to",
                    to,
                    "--agent",
                    agent,
                    "--note",
                    "ok",
                    "--mission",
                    &m.slug,
                ],
            );
        }
    }
    env.json(&root, &["accept", "--mission", &m.slug, "--json"]);
    Fx {
        root,
        slug: m.slug,
        files,
    }
}

/// What `--abort` must bring back: every ref, HEAD, and the status of every
/// file of the main checkout.
fn pre_merge(env: &TestEnv, root: &Path) -> (String, String, String) {
    (
        env.git(root, &["for-each-ref", "--format=%(refname) %(objectname)"]),
        env.git(root, &["symbolic-ref", "HEAD"]),
        env.git(root, &["status", "--porcelain", "--untracked-files=all"]),
    )
}

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}):\nstdout: {}\nstderr: {}",
            stdout(o),
            stderr(o)
        )
    })
}

/// A hint that would have the user commit, stash or discard files: after a
/// kill, the only dirt the merge may find is its own.
fn blames_the_user(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("commit, stash") || t.contains("stash") || t.contains("discard")
}

/// The merge finished: the record commit on a clean tree, every WP done,
/// every lane's files on `main` once, each lane commit in its history once, no
/// state file, no lane worktree left behind.
fn assert_landed(env: &TestEnv, fx: &Fx, round: usize) {
    let landed = assert_recorded(env, &fx.root, "main", &fx.slug);
    assert!(!landed.is_empty());
    assert!(
        !fx.state_file().exists(),
        "round {round}: the state file is left"
    );
    let all = env.git(&fx.root, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        !all.lines().any(|l| l.ends_with(".tmp")),
        "round {round}: a temp file was committed:\n{all}"
    );
    let files = env.git(&fx.root, &["ls-tree", "-r", "--name-only", "main", "src"]);
    for i in 1..=LANES {
        let prefix = format!("src/p{i}/");
        assert_eq!(
            files.lines().filter(|l| l.starts_with(&prefix)).count(),
            fx.files,
            "round {round}: lane {i}'s files on main"
        );
        for k in [0, fx.files / 2, fx.files - 1] {
            let p = format!("src/p{i}/d{}/f{k}.txt", k % 10);
            assert_eq!(
                fs::read_to_string(fx.root.join(&p)).unwrap(),
                file_text(i, k),
                "round {round}: {p}"
            );
        }
    }
    let log = env.git(&fx.root, &["log", "--format=%s", "main"]);
    for i in 1..=LANES {
        let subject = format!("WP{i:02}: part {i}");
        assert_eq!(
            log.lines().filter(|l| *l == subject).count(),
            1,
            "round {round}: {subject} on main:\n{log}"
        );
    }
    assert_eq!(
        log.lines()
            .filter(|l| l.starts_with("Record mission"))
            .count(),
        1,
        "round {round}: one record commit:\n{log}"
    );
    let v = env.json(
        &fx.root,
        &["agent", "tasks", "status", "--mission", &fx.slug, "--json"],
    );
    for wp in v["work_packages"].as_array().unwrap() {
        assert_eq!(wp["lane"], "done", "round {round}: {v}");
    }
    let worktrees = fx.root.join(".worktrees");
    let left: Vec<_> = fs::read_dir(&worktrees)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "round {round}: lane worktrees left behind: {left:?}"
    );
    let lanes = format!("kitty/mission-{}-lane-*", fx.slug);
    let branches = env.git(&fx.root, &["branch", "--list", &lanes]);
    assert_eq!(branches, "", "round {round}: lane branches left behind");
}

/// Where a merge is killed: a test variable and its value, and the phase the
/// state file is left in (None: no merge in progress).
struct Kill {
    var: &'static str,
    value: String,
    phase: Option<&'static str>,
}

/// Every named step of landing and finishing, in the order a merge passes
/// them, plus the kills inside the steps a hook can reach: inside a status
/// move (its events half-written), inside git's ref update of the record
/// commit (the branch's `.lock` held), inside atomic writes (a temp file left
/// before its rename).
fn every_kill(slug: &str) -> Vec<Kill> {
    let merge = |value: &str, phase| Kill {
        var: "SPEC_KITTY_TEST_MERGE_INTERRUPT",
        value: value.to_string(),
        phase: Some(phase),
    };
    let mut kills = vec![
        // The state file's own first write, cut before its rename.
        Kill {
            var: "SPEC_KITTY_TEST_WRITE_CRASH",
            value: format!("{slug}.json"),
            phase: None,
        },
        merge("before-land", "landing"),
        merge("mission-ref", "landing"),
        merge("checkout-half", "landing"),
        merge("checkout-done", "landing"),
        merge("files-switched", "landing"),
        merge("target-ref", "landing"),
        merge("landed-state", "landed"),
        merge("finishing", "finishing"),
    ];
    for (var, value) in [
        ("SPEC_KITTY_TEST_MOVE_CRASH", "before-append"),
        ("SPEC_KITTY_TEST_MOVE_CRASH", "after-append"),
    ] {
        kills.push(Kill {
            var,
            value: value.into(),
            phase: Some("finishing"),
        });
    }
    kills.push(merge("wps-done", "finishing"));
    kills.push(Kill {
        var: "SPEC_KITTY_TEST_WRITE_CRASH",
        value: "meta.json".into(),
        phase: Some("finishing"),
    });
    kills.push(merge("meta", "finishing"));
    kills.push(Kill {
        var: "SPEC_KITTY_TEST_COMMIT_CRASH",
        value: "ref-locked".into(),
        phase: Some("finishing"),
    });
    for step in [
        "record-ref",
        "lane-removing",
        "lane-worktree-removed",
        "before-state-removed",
    ] {
        kills.push(merge(step, "finishing"));
    }
    kills
}

/// Run `cmd` (a `merge`) with `kill` set: it must die by a signal (the step
/// was reached) and leave the state file in the expected phase; then, while a
/// merge is in progress, the next `merge` refuses, naming `--continue` (and
/// `--abort` while that applies), never blaming the user's files.
fn kill_and_check(env: &TestEnv, fx: &Fx, cmd: &[&str], kill: &Kill) {
    let what = format!("{} {}={}", cmd.join(" "), kill.var, kill.value);
    let o = env
        .sk(&fx.root, cmd)
        .env(kill.var, &kill.value)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        None,
        "{what}: not killed there (step not reached?): {}",
        stderr(&o)
    );
    assert_eq!(fx.phase().as_deref(), kill.phase, "{what}: phase left");
    if kill.value == "checkout-half" {
        let st = env.git(
            &fx.root,
            &["status", "--porcelain", "--untracked-files=all"],
        );
        assert!(
            st.lines().any(|l| l.contains("src/p")),
            "{what}: no half-landed files: {st}"
        );
    }
    let Some(phase) = kill.phase else {
        return;
    };
    let o = env.run(&fx.root, &["merge", "--mission", &fx.slug, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{what} ({phase})");
    let e = json_of(&o);
    let hint = e["hint"].as_str().unwrap_or_default();
    assert!(
        e["error"].as_str().unwrap().contains("in progress"),
        "{what}: {e}"
    );
    assert!(hint.contains("--continue"), "{what}: {e}");
    if phase != "finishing" {
        assert!(hint.contains("--abort"), "{what}: {e}");
    }
    assert!(!blames_the_user(hint), "{what}: {e}");
}

/// `merge` killed at every named step of landing and finishing (and inside
/// the status moves, git's ref update and the atomic writes it makes). On one
/// accepted mission every kill before finishing is made by a fresh `merge`
/// and followed by `--abort`, which must restore the exact refs, HEAD and file
/// status of before. On another the kills come one after the other, each
/// made by the `--continue` that recovers from the previous one (the first by
/// `merge`, and by `merge` again after a kill that left no merge in
/// progress), so `--continue` resumes from every state a kill leaves. After
/// every kill the next `merge` names `--continue` (and `--abort` before
/// finishing), never blaming the user's files; the last `--continue`
/// finishes with every lane's work on the target once, one record commit, a
/// clean tree and every WP done, and so does a merge after the aborts.
#[test]
fn merge_killed_at_every_named_step_is_always_recoverable() {
    let env = TestEnv::new();
    let fx = accepted_mission(&env, "p-abort", FILES);
    let merge = ["merge", "--mission", &fx.slug, "--json"];
    let before = pre_merge(&env, &fx.root);
    let mut aborted = 0;
    for kill in every_kill(&fx.slug) {
        if matches!(kill.phase, None | Some("finishing")) {
            continue;
        }
        let what = format!("{}={}", kill.var, kill.value);
        kill_and_check(&env, &fx, &merge, &kill);
        let o = env.run(
            &fx.root,
            &["merge", "--mission", &fx.slug, "--abort", "--json"],
        );
        let e = json_of(&o);
        assert!(o.status.success(), "{what}: --abort failed: {e}");
        assert_eq!(
            pre_merge(&env, &fx.root),
            before,
            "{what}: --abort did not restore the pre-merge state"
        );
        assert!(!fx.state_file().exists(), "{what}");
        aborted += 1;
    }
    assert_eq!(aborted, 7, "every kill before finishing was aborted");
    env.json(&fx.root, &merge);
    assert_landed(&env, &fx, 0);

    let fx = accepted_mission(&env, "p-continue", FILES);
    let merge = ["merge", "--mission", &fx.slug, "--json"];
    let resume = ["merge", "--mission", &fx.slug, "--continue", "--json"];
    let mut in_progress = false;
    for kill in every_kill(&fx.slug) {
        let cmd: &[&str] = if in_progress { &resume } else { &merge };
        kill_and_check(&env, &fx, cmd, &kill);
        in_progress = kill.phase.is_some();
    }
    let o = env.run(&fx.root, &resume);
    let e = json_of(&o);
    assert!(o.status.success(), "the last --continue failed: {e}");
    assert_landed(&env, &fx, 1);
}

/// Killed right after the record commit moved `main` and before the index
/// followed (a test hook aborts the process there): `--continue` brings the
/// index along, so the tree is clean, and reports that record commit.
#[test]
fn merge_killed_after_the_record_commit_is_finished_by_continue() {
    let env = TestEnv::new();
    let fx = accepted_mission(&env, "p", 3);
    let o = env
        .sk(&fx.root, &["merge", "--mission", &fx.slug, "--json"])
        .env("SPEC_KITTY_TEST_MERGE_INTERRUPT", "record-ref")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by a signal: {}", stderr(&o));
    assert_eq!(fx.phase().as_deref(), Some("finishing"));
    let head = env.git(&fx.root, &["log", "-1", "--format=%H %s", "main"]);
    assert!(head.contains("Record mission"), "{head}");
    let staged = env.git(&fx.root, &["diff", "--cached", "--name-only"]);
    assert!(
        staged.contains("kitty-specs/"),
        "the index lags behind the record commit: {staged:?}"
    );
    let o = env.run(&fx.root, &["merge", "--mission", &fx.slug, "--json"]);
    let e = json_of(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("--continue"), "{e}");
    assert!(!blames_the_user(e["hint"].as_str().unwrap()), "{e}");
    let v = env.json(
        &fx.root,
        &["merge", "--mission", &fx.slug, "--continue", "--json"],
    );
    assert_landed(&env, &fx, 0);
    assert_eq!(
        v["record_commit"].as_str(),
        Some(head.split(' ').next().unwrap()),
        "{v}"
    );
}

/// A kill inside git's ref update leaves `<ref>.lock` holding the new commit
/// id. `--continue` removes such a lock on the merge's own branches when it
/// holds what the merge planned (or nothing yet) and finishes; a lock holding
/// anything else is someone else's: left alone, with git's error and a hint.
#[test]
fn a_ref_lock_left_by_a_killed_merge_is_cleared_a_foreign_one_is_not() {
    let env = TestEnv::new();
    for (round, own) in [(0, "planned"), (1, "empty"), (2, "foreign")] {
        let fx = accepted_mission(&env, &format!("l{round}"), 2);
        let o = env
            .sk(&fx.root, &["merge", "--mission", &fx.slug, "--json"])
            .env("SPEC_KITTY_TEST_MERGE_INTERRUPT", "before-land")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), None, "killed by a signal: {}", stderr(&o));
        assert_eq!(fx.phase().as_deref(), Some("landing"));
        let state: Value =
            serde_json::from_str(&fs::read_to_string(fx.state_file()).unwrap()).unwrap();
        let branch = state["mission_branch"].as_str().unwrap();
        let lock = fx
            .root
            .join(".git/refs/heads")
            .join(format!("{branch}.lock"));
        fs::create_dir_all(lock.parent().unwrap()).unwrap();
        let content = match own {
            "planned" => format!("{}\n", state["mission_after"].as_str().unwrap()),
            "empty" => String::new(),
            _ => format!("{}\n", "1".repeat(40)),
        };
        fs::write(&lock, &content).unwrap();
        // Finishing deletes the lane branches; a kill there leaves an empty lock.
        let lane_branch = state["lanes"][0]["branch"].as_str().unwrap();
        let lane_lock = fx
            .root
            .join(".git/refs/heads")
            .join(format!("{lane_branch}.lock"));
        if own == "empty" {
            fs::write(&lane_lock, "").unwrap();
        }
        let o = env.run(
            &fx.root,
            &["merge", "--mission", &fx.slug, "--continue", "--json"],
        );
        if own == "foreign" {
            let e = json_of(&o);
            assert_eq!(o.status.code(), Some(1), "{e}");
            assert!(e["error"].as_str().unwrap().contains(".lock"), "{e}");
            let hint = e["hint"].as_str().unwrap();
            assert!(hint.contains("remove the .lock file"), "{e}");
            assert!(hint.contains("--continue"), "{e}");
            assert_eq!(fs::read_to_string(&lock).unwrap(), content, "left alone");
            fs::remove_file(&lock).unwrap();
            env.json(
                &fx.root,
                &["merge", "--mission", &fx.slug, "--continue", "--json"],
            );
        } else {
            assert!(o.status.success(), "{own}: {}", stderr(&o));
            assert!(!lock.exists(), "{own}: the merge's own lock is gone");
            assert!(!lane_lock.exists(), "{own}: the lane branch's lock is gone");
        }
        assert_landed(&env, &fx, round);
    }
}

/// A kill inside libgit2's index write (no hook reaches it: the checkout
/// writes every file, then the index through `.git/index.lock`; the test
/// kills the merge at `checkout-done` and leaves the lock as git's write
/// would) leaves the files of the merge, the old index and `index.lock`:
/// `--continue` and `--abort` remove that lock as their own and finish.
/// (Before, both failed with "the index is locked", naming no file.)
#[test]
fn a_merge_killed_writing_the_index_is_finished_or_aborted() {
    let env = TestEnv::new();
    for (round, resume) in ["--continue", "--abort"].into_iter().enumerate() {
        let fx = accepted_mission(&env, &format!("i{round}"), 3);
        let before = pre_merge(&env, &fx.root);
        let o = env
            .sk(&fx.root, &["merge", "--mission", &fx.slug, "--json"])
            .env("SPEC_KITTY_TEST_MERGE_INTERRUPT", "checkout-done")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), None, "killed by a signal: {}", stderr(&o));
        let lock = fx.root.join(".git/index.lock");
        fs::write(&lock, b"DIRC\0\0\0\x02").unwrap();
        let o = env.run(
            &fx.root,
            &["merge", "--mission", &fx.slug, resume, "--json"],
        );
        let e = json_of(&o);
        assert!(o.status.success(), "{resume}: {e}");
        assert!(
            !lock.exists(),
            "{resume}: the merge's own index lock is gone"
        );
        if resume == "--abort" {
            assert_eq!(pre_merge(&env, &fx.root), before, "--abort restores");
            env.json(&fx.root, &["merge", "--mission", &fx.slug, "--json"]);
        }
        assert_landed(&env, &fx, round);
    }
}

/// An index lock that was there before the merge is not the merge's: the
/// merge stops before changing any file of the main checkout, naming the lock; `--continue`
/// leaves it alone and names it again with the fix; once the user removed
/// it, `--continue` finishes.
#[test]
fn a_foreign_index_lock_is_named_and_left_alone() {
    let env = TestEnv::new();
    let fx = accepted_mission(&env, "f", 3);
    let lock = fx.root.join(".git/index.lock");
    fs::write(&lock, b"someone else's").unwrap();
    let (_, _, status) = pre_merge(&env, &fx.root);
    for args in [
        vec!["merge", "--mission", &fx.slug, "--json"],
        vec!["merge", "--mission", &fx.slug, "--continue", "--json"],
    ] {
        let o = env.run(&fx.root, &args);
        let e = json_of(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
        let error = e["error"].as_str().unwrap();
        assert!(error.contains(lock.to_str().unwrap()), "{args:?}: {e}");
        let hint = e["hint"].as_str().unwrap();
        assert!(hint.contains("rm "), "{args:?}: {e}");
        assert!(hint.contains("--continue"), "{args:?}: {e}");
        assert_eq!(fs::read(&lock).unwrap(), b"someone else's", "left alone");
        assert_eq!(
            env.git(
                &fx.root,
                &["status", "--porcelain", "--untracked-files=all"]
            ),
            status,
            "{args:?}: no file changed"
        );
    }
    fs::remove_file(&lock).unwrap();
    env.json(
        &fx.root,
        &["merge", "--mission", &fx.slug, "--continue", "--json"],
    );
    assert_landed(&env, &fx, 0);
}
