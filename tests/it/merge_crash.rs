//! `spec-kitty merge` killed at random points while it lands: whatever the
//! kill left behind, the next command says to `--continue` or `--abort` (and
//! never to commit or stash the merge's own half-written files), `--continue`
//! lands every lane's work exactly once on a clean tree, and `--abort` puts the
//! repository back exactly as it was before the merge.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// Work packages, one code lane each.
const LANES: usize = 3;
/// Files each lane adds: enough that landing them in the main checkout (and
/// removing the lane worktrees afterwards) takes a while.
const FILES: usize = 200;

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
            &[
                "agent",
                "action",
                "implement",
                &wp.id,
                "--mission",
                &m.slug,
                "--agent",
                "codex",
                "--json",
            ],
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

/// Poll until the merge's state file exists (landing has started); None when
/// the process ended first.
fn until_landing(fx: &Fx, child: &mut std::process::Child) -> Option<Instant> {
    loop {
        if fx.state_file().exists() {
            return Some(Instant::now());
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// `merge` killed at random delays across its whole run, many times, each time
/// on a fresh accepted mission. After every kill: `merge` refuses while the
/// stopped merge is in progress, naming `--continue` (and `--abort` while that
/// still applies) and never blaming the user's files; `--continue` finishes it;
/// on some rounds `--abort` restores the exact pre-merge state first and a new
/// merge then goes through.
#[test]
fn merge_killed_at_random_is_always_recoverable() {
    let env = TestEnv::new();
    let merge_args = |fx: &Fx| -> Vec<String> {
        ["merge", "--mission", &fx.slug, "--json"]
            .map(String::from)
            .to_vec()
    };

    // One whole merge: how long it takes, and how long from the moment its
    // state file appears (landing starts) to the end.
    let fx = accepted_mission(&env, "p-full", FILES);
    let args = merge_args(&fx);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = Instant::now();
    let mut child = env.spawn(&fx.root, &args);
    let landing = until_landing(&fx, &mut child).expect("the merge wrote its state file");
    assert!(child.wait().unwrap().success());
    let (full, tail) = (
        t.elapsed().as_micros() as u64,
        landing.elapsed().as_micros() as u64,
    );
    assert_landed(&env, &fx, usize::MAX);

    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut phases: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut killed, mut aborted, mut partial_files) = (0, 0, 0);
    let rounds = 12;
    for round in 0..rounds {
        let fx = accepted_mission(&env, &format!("p{round}"), FILES);
        let args = merge_args(&fx);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = pre_merge(&env, &fx.root);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut child = env.spawn(&fx.root, &args);
        // Every third round anywhere in the run; the others once landing has
        // started (where the interesting states are), one in three early on.
        let delay = match round % 3 {
            0 => rng % full.max(1),
            1 => {
                until_landing(&fx, &mut child);
                rng % (tail / 2).max(1)
            }
            _ => {
                until_landing(&fx, &mut child);
                rng % tail.max(1)
            }
        };
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.code().is_some() {
            // It finished before the kill: nothing to recover.
            assert_eq!(status.code(), Some(0), "round {round}");
            assert_landed(&env, &fx, round);
            continue;
        }
        killed += 1;
        let phase = fx.phase();
        *phases
            .entry(phase.clone().unwrap_or_else(|| "none".into()))
            .or_default() += 1;
        eprintln!("round {round}: killed after {delay} us while {phase:?}");
        if phase.as_deref() == Some("landing") {
            // Did the kill stop the main checkout's files half-way?
            let st = env.git(
                &fx.root,
                &["status", "--porcelain", "--untracked-files=all"],
            );
            if st.lines().any(|l| l.contains("src/p")) {
                partial_files += 1;
            }
        }

        // What the next `merge` says.
        let o = env.run(&fx.root, &args);
        match &phase {
            Some(p) => {
                assert_eq!(o.status.code(), Some(1), "round {round} ({p})");
                let e = json_of(&o);
                let hint = e["hint"].as_str().unwrap_or_default();
                assert!(
                    e["error"].as_str().unwrap().contains("in progress"),
                    "round {round}: {e}"
                );
                assert!(hint.contains("--continue"), "round {round}: {e}");
                if p != "finishing" {
                    assert!(hint.contains("--abort"), "round {round}: {e}");
                }
                assert!(!blames_the_user(hint), "round {round}: {e}");
            }
            None => {
                // Killed before the state file was written (nothing landed):
                // the merge simply runs; or after it was removed (all done).
                if !o.status.success() {
                    let e = json_of(&o);
                    assert!(
                        e["error"].as_str().unwrap().contains("already merged"),
                        "round {round}: {e}"
                    );
                }
                assert_landed(&env, &fx, round);
                continue;
            }
        }

        // Recover: abort on some rounds (while it applies), else continue.
        let phase = phase.unwrap();
        if phase != "finishing" && round % 3 == 1 {
            let o = env.run(
                &fx.root,
                &["merge", "--mission", &fx.slug, "--abort", "--json"],
            );
            let e = json_of(&o);
            assert!(
                o.status.success(),
                "round {round}: --abort after a kill while {phase} failed: {e}"
            );
            assert_eq!(
                pre_merge(&env, &fx.root),
                before,
                "round {round}: --abort did not restore the pre-merge state"
            );
            assert!(!fx.state_file().exists(), "round {round}");
            aborted += 1;
            env.json(&fx.root, &args);
        } else {
            let o = env.run(
                &fx.root,
                &["merge", "--mission", &fx.slug, "--continue", "--json"],
            );
            let e = json_of(&o);
            assert!(
                o.status.success(),
                "round {round}: --continue after a kill while {phase} failed: {e}"
            );
        }
        assert_landed(&env, &fx, round);
    }
    eprintln!(
        "full merge {full} us ({tail} us from landing on); killed {killed} of {rounds}, by phase {phases:?}, \
         {partial_files} with half-landed files, {aborted} aborted"
    );
    assert!(killed > 0, "no run was killed");
    assert!(
        phases.get("landing").copied().unwrap_or(0) > 0,
        "no kill landed mid-landing: {phases:?}"
    );
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
