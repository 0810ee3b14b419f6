//! Crash safety: concurrent writers that never lose each other's changes,
//! derived files rebuilt after a kill, and kills of `agent action implement`
//! that never leave a half-made workspace reported as ready.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::flow::action_json;
use crate::common::*;

/// The WP file of `wp` in the mission directory.
fn wp_file(dir: &Path, wp: &str) -> std::path::PathBuf {
    fs::read_dir(dir.join("tasks"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{wp}-"))
        })
        .unwrap_or_else(|| panic!("no file for {wp}"))
}

fn event_lines(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join("status.events.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// finalize-tasks rewrites WP files (it restores a frontmatter key removed by
/// hand) while move-task appends an event, sets `agent` and adds an activity
/// line to the same file. Each round holds one of them inside its
/// read-then-write window (a pause point, under the status lock), starts the
/// other and waits until that one found the lock held and waits for it, then
/// lets the first go on: finalize first on even rounds, move-task first on
/// odd ones. Every event and every one of both commands' file changes
/// survives; a broken lock lets the second write inside the first one's
/// window and loses a change (or never reaches the lock: the test says so).
#[test]
fn finalize_and_move_task_never_lose_each_others_writes() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::planning("WP01", "Notes", "kitty-specs/{slug}/notes.md", &[]),
        WpDef::planning("WP02", "More", "kitty-specs/{slug}/more.md", &[]),
    ]);
    let file = wp_file(&m.dir, "WP01");
    let events_before = event_lines(&m.dir).len();
    let rounds = 6;
    for r in 0..rounds {
        // Something for finalize to write back: drop a key it owns.
        let text = fs::read_to_string(&file).unwrap();
        let stripped: String = text
            .lines()
            .filter(|l| !l.starts_with("planning_base_branch:"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(stripped, text, "round {r}: the key was there to drop");
        fs::write(&file, &stripped).unwrap();

        let to = if r % 2 == 0 { "in_progress" } else { "planned" };
        let agent = format!("agent{r}");
        let note = format!("round {r}");
        let finalize = ["agent", "mission", "finalize-tasks", "--mission", &m.slug];
        let move_task = [
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            to,
            "--force",
            "--mission",
            &m.slug,
            "--agent",
            &agent,
            "--note",
            &note,
        ];
        let finalize_first = r % 2 == 0;
        let (first, second, (what1, what2), point): (&[&str], &[&str], _, _) = if finalize_first {
            (
                &finalize,
                &move_task,
                ("finalize-tasks", "move-task"),
                "finalize-before-write",
            )
        } else {
            (
                &move_task,
                &finalize,
                ("move-task", "finalize-tasks"),
                "status-before-append",
            )
        };
        let hold = Pause::at(point);
        let (k, v) = hold.var();
        let mut a = env.spawn_env(&root, first, &[(k, &v)]);
        hold.reached(&mut a);
        // The second only tells where it waits: its go is there already.
        let busy = Pause::at("lock-busy");
        busy.go();
        let (k, v) = busy.var();
        let mut b = env.spawn_env(&root, second, &[(k, &v)]);
        busy.reached(&mut b);
        hold.go();
        for (what, c) in [(what1, a), (what2, b)] {
            let o = c.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "round {r}: {what} failed: {}",
                stderr(&o)
            );
        }

        let text = fs::read_to_string(&file).unwrap();
        assert!(
            text.lines().any(|l| l.starts_with("planning_base_branch:")),
            "round {r}: finalize's change was lost:\n{text}"
        );
        assert!(
            text.contains(&format!("Moved to {to} – {note}")),
            "round {r}: move-task's activity line was lost:\n{text}"
        );
        if to == "in_progress" {
            assert!(
                text.contains(&format!("\nagent: {agent}\n")),
                "round {r}: move-task's agent was lost:\n{text}"
            );
        }
        // Every activity line of earlier rounds is still there too.
        for k in 0..=r {
            assert!(
                text.contains(&format!("– round {k}\n")),
                "round {r}: round {k} lost:\n{text}"
            );
        }
        let events = event_lines(&m.dir);
        assert_eq!(
            events.len(),
            events_before + r + 1,
            "round {r}: an event was lost"
        );
        assert_eq!(events.last().unwrap()["to_lane"], to);
    }
    let v = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    let wp1 = v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "WP01")
        .unwrap()
        .clone();
    assert_eq!(wp1["lane"], "planned", "{v}");
}

/// A move killed right after its event reached the log (status.json and the
/// WP file not yet written): the next command brings both up to date.
#[test]
fn a_move_killed_after_the_append_is_finished_by_the_next_command() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::planning(
        "WP01",
        "Notes",
        "kitty-specs/{slug}/notes.md",
        &[],
    )]);
    let file = wp_file(&m.dir, "WP01");
    let before = fs::read_to_string(&file).unwrap();
    let snapshot_before = fs::read_to_string(m.dir.join("status.json")).unwrap();
    let o = env
        .sk(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                "claimed",
                "--mission",
                &m.slug,
                "--agent",
                "crashy",
                "--note",
                "taking it",
            ],
        )
        .env("SPEC_KITTY_TEST_MOVE_CRASH", "after-append")
        .output()
        .unwrap();
    // The hook really killed it, after the event was written.
    assert!(
        !o.status.success(),
        "the crash hook did not fire: {}",
        stderr(&o)
    );
    assert_eq!(
        o.status.code(),
        None,
        "killed by a signal, not an error exit"
    );
    let events = event_lines(&m.dir);
    assert_eq!(events.last().unwrap()["to_lane"], "claimed");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        before,
        "the WP file was not written"
    );
    assert_eq!(
        fs::read_to_string(m.dir.join("status.json")).unwrap(),
        snapshot_before,
        "status.json was not written"
    );

    // The next command (the board) rebuilds the derived data.
    let v = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    assert_eq!(v["work_packages"][0]["lane"], "claimed", "{v}");
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("\nagent: crashy\n"), "{text}");
    assert_eq!(
        text.matches("– crashy – Moved to claimed – taking it\n")
            .count(),
        1,
        "{text}"
    );
    let snap = fs::read_to_string(m.dir.join("status.json")).unwrap();
    assert_ne!(snap, snapshot_before, "status.json was rebuilt");
    assert!(snap.contains("claimed"), "{snap}");
    let last = events.last().unwrap()["event_id"].as_str().unwrap();
    assert!(
        snap.contains(last),
        "status.json names the last event: {snap}"
    );

    // Settled once: more commands add nothing.
    env.ok(&root, &["agent", "tasks", "status", "--mission", &m.slug]);
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    let again = fs::read_to_string(&file).unwrap();
    assert_eq!(again.matches("Moved to claimed").count(), 1, "{again}");
}

/// A move killed after it noted the WP-file change but before its event was
/// appended never shows up: the log has no event, the WP file no activity line.
#[test]
fn a_move_killed_before_the_append_leaves_no_trace() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::planning(
        "WP01",
        "Notes",
        "kitty-specs/{slug}/notes.md",
        &[],
    )]);
    let file = wp_file(&m.dir, "WP01");
    let before = fs::read_to_string(&file).unwrap();
    let n = event_lines(&m.dir).len();
    let o = env
        .sk(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                "claimed",
                "--mission",
                &m.slug,
                "--agent",
                "crashy",
            ],
        )
        .env("SPEC_KITTY_TEST_MOVE_CRASH", "before-append")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by a signal: {}", stderr(&o));
    let v = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    assert_eq!(v["work_packages"][0]["lane"], "planned", "{v}");
    assert_eq!(event_lines(&m.dir).len(), n);
    assert_eq!(fs::read_to_string(&file).unwrap(), before);
    // And the next move works and is noted once.
    env.ok(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "claimed",
            "--mission",
            &m.slug,
            "--agent",
            "steady",
        ],
    );
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches("Moved to claimed").count(), 1, "{text}");
    assert!(text.contains("\nagent: steady\n"), "{text}");
}

/// An event appended by hand (as a pull or a kill of another tool leaves it)
/// with a stale status.json: the next read rebuilds the snapshot from the log.
#[test]
fn a_hand_appended_event_rebuilds_status_json() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::planning(
        "WP01",
        "Notes",
        "kitty-specs/{slug}/notes.md",
        &[],
    )]);
    let mut e = event_lines(&m.dir).last().unwrap().clone();
    e["event_id"] = "01KZZZZZZZZZZZZZZZZZZZZZZZ".into();
    e["from_lane"] = "planned".into();
    e["to_lane"] = "claimed".into();
    e["actor"] = "someone".into();
    e["force"] = true.into();
    e["at"] = "2030-01-01T00:00:00+00:00".into();
    let log = m.dir.join("status.events.jsonl");
    let mut text = fs::read_to_string(&log).unwrap();
    text.push_str(&format!("{e}\n"));
    fs::write(&log, text).unwrap();
    let v = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    assert_eq!(v["work_packages"][0]["lane"], "claimed", "{v}");
    let snap = fs::read_to_string(m.dir.join("status.json")).unwrap();
    assert!(snap.contains("01KZZZZZZZZZZZZZZZZZZZZZZZ"), "{snap}");
}

/// `agent action implement` with a tasks.md over the size cap, or one it
/// cannot read, refuses naming the file, and claims nothing.
#[test]
fn implement_refuses_an_oversized_or_unreadable_tasks_md() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::planning(
        "WP01",
        "Notes",
        "kitty-specs/{slug}/notes.md",
        &[],
    )]);
    let tasks = m.dir.join("tasks.md");
    let args = crate::common::implement_args("WP01", &m.slug, "a");
    let events = event_lines(&m.dir).len();

    // One byte over the 16 MiB cap of src/bounds.rs (a sparse file).
    let f = fs::OpenOptions::new().write(true).open(&tasks).unwrap();
    f.set_len(16 * 1024 * 1024 + 1).unwrap();
    drop(f);
    let o = env.run(&root, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = e["error"].as_str().unwrap();
    assert!(msg.contains(&tasks.display().to_string()), "{e}");
    assert!(
        msg.contains(&(16u64 * 1024 * 1024).to_string()),
        "names the cap: {e}"
    );
    assert_eq!(event_lines(&m.dir).len(), events, "nothing claimed");

    // Unreadable: a directory where the file should be.
    fs::remove_file(&tasks).unwrap();
    fs::create_dir(&tasks).unwrap();
    let o = env.run(&root, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains(&tasks.display().to_string()),
        "{e}"
    );
    assert_eq!(event_lines(&m.dir).len(), events, "nothing claimed");
}

/// What a kill of `agent action implement` left in the lane worktree it was
/// creating, beyond the named crash point's own state.
#[derive(Debug, Clone, Copy)]
enum Left {
    /// Killed with the worktree added, the creation not yet marked finished.
    Complete,
    /// Killed inside git's checkout: some files not written, one cut short,
    /// no index yet.
    PartialFiles,
    /// Killed while git wrote the index (it writes `index.lock` and renames
    /// it): the lock holds half an index, there is no index.
    IndexBeingWritten,
    /// Both.
    PartialFilesAndIndexLock,
}

/// `agent action implement` killed while it creates a lane worktree (a
/// checkout of many files): the next run never hands out an empty or partial
/// checkout, and never refuses: it finishes or rebuilds it (clean `git
/// status`, tree equal to the base). The kill is the named crash point
/// `worktree-added` (the worktree is there, its creation not marked
/// finished); the states a kill inside git's own checkout leaves are made
/// from it exactly (libgit2 writes the files, then the index through
/// `index.lock`), so every state is hit on every run, no wall clock involved.
#[test]
fn killed_implement_never_hands_out_a_partial_worktree() {
    let env = TestEnv::new();
    let root = env.project("p");
    for i in 0..200 {
        write(
            &root.join(format!("src/gen/d{}/f{i}.txt", i % 20)),
            &format!("file {i}\n"),
        );
    }
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "many files"]);
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let base_tree = env.git(&root, &["rev-parse", "HEAD^{tree}"]);
    let args = crate::common::implement_args("WP01", &m.slug, "a");
    let name = format!("{}-lane-a", m.slug);
    let wt = root.join(".worktrees").join(&name);
    let gitdir = root.join(".git/worktrees").join(&name);
    let marker = root
        .join(".git/spec-kitty-locks")
        .join(format!("worktree-{name}.creating"));
    let branch = format!("kitty/mission-{}-lane-a", m.slug);
    let reset = |env: &TestEnv| {
        let _ = std::process::Command::new("git")
            .args(["worktree", "remove", "--force"])
            .arg(&wt)
            .current_dir(&root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &env.home)
            .output();
        let _ = fs::remove_dir_all(&wt);
        env.git(&root, &["worktree", "prune"]);
        let _ = std::process::Command::new("git")
            .args(["branch", "-D", &branch])
            .current_dir(&root)
            .env("HOME", &env.home)
            .output();
        env.ok(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                "planned",
                "--force",
                "--note",
                "reset",
                "--mission",
                &m.slug,
            ],
        );
    };

    for (round, left) in [
        Left::Complete,
        Left::PartialFiles,
        Left::IndexBeingWritten,
        Left::PartialFilesAndIndexLock,
    ]
    .into_iter()
    .enumerate()
    {
        reset(&env);
        let o = env
            .sk(&root, &args)
            .env("SPEC_KITTY_TEST_IMPLEMENT_CRASH", "worktree-added")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), None, "{left:?}: killed: {}", stderr(&o));
        assert!(
            marker.is_file(),
            "{left:?}: the creation is not marked finished"
        );
        assert!(wt.join("src/gen/d0/f0.txt").is_file(), "{left:?}");
        let index = gitdir.join("index");
        if matches!(left, Left::PartialFiles | Left::PartialFilesAndIndexLock) {
            for i in (0..200).step_by(2) {
                fs::remove_file(wt.join(format!("src/gen/d{}/f{i}.txt", i % 20))).unwrap();
            }
            fs::write(wt.join("src/gen/d1/f1.txt"), "fi").unwrap();
        }
        let bytes = fs::read(&index).unwrap();
        fs::remove_file(&index).unwrap();
        if matches!(
            left,
            Left::IndexBeingWritten | Left::PartialFilesAndIndexLock
        ) {
            fs::write(gitdir.join("index.lock"), &bytes[..bytes.len() / 2]).unwrap();
        }

        // The next run finishes the worktree and hands it out.
        let o = env.run(&root, &args);
        assert!(
            o.status.success(),
            "{left:?}: refused after a kill: {}",
            stdout(&o)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["workspace"].as_str().unwrap(), wt.display().to_string());
        let st = env.git(&wt, &["status", "--porcelain"]);
        assert!(
            st.is_empty(),
            "round {round} ({left:?}): the handed-out worktree is not clean ({} lines, first: {:?})",
            st.lines().count(),
            st.lines().next()
        );
        assert_eq!(
            env.git(&wt, &["rev-parse", "HEAD^{tree}"]),
            base_tree,
            "{left:?}: the worktree's tree is not the base"
        );
        assert_eq!(
            fs::read_to_string(wt.join("src/gen/d1/f1.txt")).unwrap(),
            "file 1\n",
            "{left:?}"
        );
        assert!(!gitdir.join("index.lock").exists(), "{left:?}");
        assert!(!marker.exists(), "{left:?}");
    }
}

/// A lane worktree that was handed out, whose index lock is held (a git
/// command of the user's, or one killed): not provably ours, so spec-kitty
/// never removes it; reusing the worktree does not need its index.
#[test]
fn a_held_index_lock_in_a_handed_out_worktree_is_never_removed() {
    let env = TestEnv::new();
    let (root, _) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let v = env.json(&root, &action_json("implement", "WP01", "a"));
    let wt = std::path::PathBuf::from(v["workspace"].as_str().unwrap());
    let gitdir =
        std::path::PathBuf::from(env.git(&wt, &["rev-parse", "--absolute-git-dir"]).trim());
    let lock = gitdir.join("index.lock");
    fs::write(&lock, "").unwrap();
    // Handed out already: running implement again reuses it and leaves the lock.
    let o = env.run(&root, &action_json("implement", "WP01", "a"));
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(lock.is_file(), "a lock not provably ours is never removed");
}
