//! Hardening: every help page answers, odd paths work, and a process killed at
//! any of its named crash steps never leaves a half-written file behind.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;

use spec_kitty::status::StatusEvent;

use crate::common::flow::move_task;
use crate::common::snap::assert_out;
use crate::common::{finalize_tasks, snapshot, stderr, stdout, TestEnv};

/// Every command path of the clap tree, e.g. `["agent", "tasks", "status"]`.
fn command_paths(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    for sub in cmd.get_subcommands() {
        let mut p = prefix.clone();
        p.push(sub.get_name().to_string());
        command_paths(sub, p, out);
    }
}

#[test]
fn every_help_page_exits_zero() {
    let env = TestEnv::new();
    let mut paths = Vec::new();
    command_paths(&spec_kitty::cli::Cli::command(), Vec::new(), &mut paths);
    assert!(paths.len() > 20, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = env.run(&env.work, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("Usage: spec-kitty"), "{args:?}: {text}");
        assert!(!text.to_lowercase().contains("not implemented"), "{args:?}");
    }
}

#[test]
fn version_is_plain_3_1_1() {
    let env = TestEnv::new();
    let out = env.run(&env.work, &["--version"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "spec-kitty 3.1.1");
}

#[test]
fn project_path_with_spaces_and_through_a_symlink() {
    let env = TestEnv::new();
    let root = env.project("my project dir ünïcode");
    let created = env.json(
        &root,
        &["agent", "mission", "create", "spaced-out", "--json"],
    );
    assert_eq!(created["mission_slug"], "001-spaced-out");
    assert!(Path::new(created["meta_file"].as_str().unwrap()).is_file());

    let link = env.work.join("linked");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    let listed = env.json(&link, &["agent", "mission", "list", "--json"]);
    assert!(listed.to_string().contains("001-spaced-out"), "{listed}");
    // Inferred from inside the mission directory, reached through the link.
    let inside = link.join("kitty-specs/001-spaced-out");
    let out = env.run(
        &inside,
        &["agent", "mission", "check-prerequisites", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn hostile_mission_names_are_refused_clearly() {
    let env = TestEnv::new();
    let root = env.project("p");
    for bad in ["../escape", "has space", "Ünïcode", "a/b", ".."] {
        let out = env.run(&root, &["agent", "mission", "create", bad, "--json"]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["result"], "error", "{bad}: {v}");
        assert!(v["error"].as_str().unwrap().contains("slug"), "{bad}: {v}");
    }
    assert!(!env.work.join("escape").exists());
    assert!(
        !root.join("kitty-specs").exists()
            || fs::read_dir(root.join("kitty-specs")).unwrap().count() == 0
    );
    // A selector with `..` never reaches outside kitty-specs.
    let out = env.run(
        &root,
        &[
            "agent",
            "mission",
            "check-prerequisites",
            "--mission",
            "../..",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_write_error_is_clear_and_leaves_no_partial_file() {
    let env = TestEnv::new();
    let root = env.project("p");
    // kitty-specs is a file: nothing can be created under it.
    fs::write(root.join("kitty-specs"), "not a directory\n").unwrap();
    let out = env.run(&root, &["agent", "mission", "create", "blocked", "--json"]);
    assert_ne!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"].as_str().unwrap().contains("kitty-specs"), "{v}");
    assert_eq!(
        fs::read_to_string(root.join("kitty-specs")).unwrap(),
        "not a directory\n"
    );
}

/// The named crash steps (`env::crash_step`: every file write, log append and
/// commit step, and a command's own steps) that one uninterrupted run of
/// `args` passes, in order, as `<label>#<pass>`.
fn crash_steps(env: &TestEnv, dir: &Path, args: &[&str]) -> Vec<String> {
    env.traced(dir, args).0
}

/// Run `args` and kill it (an abort, as a kill would) at crash step `step`;
/// panics unless the process really died there.
fn crash_at(env: &TestEnv, dir: &Path, args: &[&str], step: &str) {
    use std::os::unix::process::ExitStatusExt;
    let out = env
        .sk(dir, args)
        .env("SPEC_KITTY_TEST_CRASH", step)
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGABRT),
        "{args:?} was not killed at {step}: {}: {}",
        out.status,
        stderr(&out)
    );
}

/// Panics unless `steps` holds every one of `want`.
fn assert_steps(steps: &[String], want: &[String]) {
    for w in want {
        assert!(steps.contains(w), "no crash step {w} in {steps:?}");
    }
}

/// The missions visible in `specs` (short slugs), each checked complete: a
/// meta.json with a ULID, spec.md, tasks/ and an event log.
fn complete_missions(specs: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in fs::read_dir(specs).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let meta: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(e.path().join("meta.json")).unwrap())
                .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(ulid::Ulid::from_string(meta["mission_id"].as_str().unwrap()).is_ok());
        for f in ["spec.md", "tasks/README.md", "status.events.jsonl"] {
            assert!(e.path().join(f).is_file(), "{name} lacks {f}");
        }
        out.insert(name.split_once('-').unwrap().1.to_string());
    }
    out
}

/// `agent mission create` killed at each of its steps: a mission is either
/// not there or complete, the numbering lock is never stuck and the next
/// create removes what the killed one staged.
#[test]
fn killed_mission_create_never_leaves_a_partial_mission() {
    let env = TestEnv::new();
    let root = env.project("p");
    let specs = root.join("kitty-specs");
    let create = |slug: &str| -> Vec<String> {
        ["agent", "mission", "create", slug, "--json"]
            .map(str::to_string)
            .to_vec()
    };
    let probe: Vec<&str> = vec!["agent", "mission", "create", "probe", "--json"];
    let steps = crash_steps(&env, &root, &probe);
    let published = steps
        .iter()
        .position(|s| s == "create-published#1")
        .unwrap_or_else(|| panic!("{steps:?}"));
    assert_steps(
        &steps[..published],
        &[
            "create-staged-file:spec.md#1",
            "create-staged-file:README.md#1",
            "write-temp:meta.json#1",
            "write-done:meta.json#1",
            "create-staged#1",
        ]
        .map(str::to_string),
    );
    let mut expected = BTreeSet::from(["probe".to_string()]);
    for (i, step) in steps.iter().enumerate() {
        let slug = format!("crash-{i}");
        let args = create(&slug);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        crash_at(&env, &root, &a, step);
        // Every visible mission is complete; the killed one is visible
        // exactly when the kill came after it was published.
        if i >= published {
            expected.insert(slug.clone());
        }
        assert_eq!(complete_missions(&specs), expected, "killed at {step}");
        // The lock is not stuck, and the killed run's staging goes.
        let after = format!("after-{i}");
        let v = env.json(&root, &["agent", "mission", "create", &after, "--json"]);
        assert!(v["mission_id"].is_string(), "{v}");
        expected.insert(after);
        let leftovers: Vec<_> = fs::read_dir(&specs)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".creating-"))
            .collect();
        assert!(leftovers.is_empty(), "killed at {step}: {leftovers:?}");
    }
    assert_eq!(complete_missions(&specs), expected);
    let list = env.json(&root, &["agent", "mission", "list", "--json"]);
    assert_eq!(list["count"], expected.len(), "{list}");
}

/// A temp file of an atomic write whose process was killed before the rename.
fn is_temp(p: &Path) -> bool {
    let name = p.file_name().unwrap().to_string_lossy();
    name.starts_with('.') && name.ends_with(".tmp")
}

/// lanes.json with its `computed_at` (the clock) blanked; every other byte kept.
fn without_clock(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("\"computed_at\"") {
                "<computed_at>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The status log's events. Every line must be an event except a torn last
/// line (no newline at its end: an append cut short by the kill, reported by
/// readers). A later append closes such a line and it stays, reported, so the
/// lines once seen torn are remembered in `torn` and allowed from then on.
fn log_events(log: &Path, torn: &mut BTreeSet<usize>) -> Vec<StatusEvent> {
    let Ok(bytes) = fs::read(log) else {
        return Vec::new();
    };
    let parsed = spec_kitty::status::store::parse_log(log, &bytes);
    let last = bytes.split(|&b| b == b'\n').count();
    for w in &parsed.warnings {
        if !bytes.ends_with(b"\n") && w.line == last {
            torn.insert(w.line);
        } else {
            assert!(
                torn.contains(&w.line),
                "unreadable line that was never a torn end: {w}"
            );
        }
    }
    parsed.events
}

fn ids(events: &[StatusEvent]) -> Vec<String> {
    events.iter().map(|e| e.event_id.clone()).collect()
}

/// A mission of `n` WPs in chains of 4, written as an agent leaves it before
/// finalize-tasks; returns its directory.
fn unfinalized_mission(env: &TestEnv, root: &Path, slug: &str, n: usize) -> PathBuf {
    let v = env.json(root, &["agent", "mission", "create", slug, "--json"]);
    let dir = PathBuf::from(v["feature_dir"].as_str().unwrap());
    fs::write(
        dir.join("spec.md"),
        "# Spec\n\n| FR-001 | a |\n| FR-002 | b |\n| FR-003 | c |\n",
    )
    .unwrap();
    let mut tasks = String::from("# Work Packages\n");
    for i in 1..=n {
        let deps = if i % 4 == 1 {
            "none".to_string()
        } else {
            format!("WP{:02}", i - 1)
        };
        tasks.push_str(&format!(
            "\n## WP{i:02}: Part {i}\n\n**Requirement Refs**: FR-00{}\n**Dependencies**: {deps}\n\n- [ ] T{i:02}1 build it\n",
            i % 3 + 1
        ));
        fs::write(
            dir.join(format!("tasks/WP{i:02}-part-{i}.md")),
            format!("---\nwork_package_id: WP{i:02}\ntitle: Part {i} – ünïcode\n---\n\n# Part {i}\n\nBuild `src/part{i}/` and `tests/part{i}.rs`.\n"),
        )
        .unwrap();
    }
    fs::write(dir.join("tasks.md"), tasks).unwrap();
    dir
}

/// finalize-tasks killed at each of its steps (before and after each WP
/// file's rename, lanes.json's, the seeding append's start, middle and end,
/// status.json's): every file is the old or the new version, the log holds
/// whole bootstrap events (a torn last line at most), and the next run
/// finishes the job exactly once.
#[test]
fn killed_finalize_leaves_every_file_old_or_new() {
    let env = TestEnv::new();
    let root = env.project("p");
    let n = 12;
    let dir = unfinalized_mission(&env, &root, "crash", n);
    let args = [
        "agent",
        "mission",
        "finalize-tasks",
        "--mission",
        "crash",
        "--json",
    ];
    let before = snapshot(&dir);
    // One uninterrupted run gives the new version of every file, and the
    // steps a kill can stop it at.
    let steps = crash_steps(&env, &root, &args);
    let after = snapshot(&dir);
    let lanes = dir.join("lanes.json");
    let log = dir.join("status.events.jsonl");
    let wp_files: Vec<&PathBuf> = before
        .keys()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("WP"))
        .collect();
    assert_eq!(wp_files.len(), n);
    assert!(
        wp_files.iter().all(|p| before[*p] != after[*p]),
        "finalize rewrites every WP file"
    );
    let mut want: Vec<String> = Vec::new();
    for p in wp_files.iter().copied().chain([&lanes]) {
        let name = p.file_name().unwrap().to_string_lossy();
        want.push(format!("write-temp:{name}#1"));
        want.push(format!("write-done:{name}#1"));
    }
    for s in ["append-start", "append-torn", "append-done"] {
        want.push(format!("{s}:status.events.jsonl#1"));
    }
    want.push("write-done:status.json#1".into());
    assert_steps(&steps, &want);

    let (mut untouched, mut partly, mut whole) = (0, 0, 0);
    let mut torn_seen = 0;
    for step in &steps {
        let mut torn = BTreeSet::new();
        // Back to the state before finalize.
        for p in snapshot(&dir).keys() {
            if !before.contains_key(p) {
                fs::remove_file(p).unwrap();
            }
        }
        for (p, bytes) in &before {
            fs::write(p, bytes).unwrap();
        }
        crash_at(&env, &root, &args, step);

        let now = snapshot(&dir);
        for (p, bytes) in &now {
            if is_temp(p) {
                continue;
            }
            if *p == lanes {
                assert_eq!(
                    without_clock(bytes),
                    without_clock(&after[p]),
                    "{step}: lanes.json"
                );
            } else if *p == log {
                // Seeding is one append, which a kill can cut short: whole
                // bootstrap events, one per WP at most.
                let events = log_events(p, &mut torn);
                let wps: BTreeSet<&str> = events.iter().map(|e| e.wp_id.as_str()).collect();
                assert_eq!(wps.len(), events.len(), "{step}: a WP seeded twice");
                assert!(events
                    .iter()
                    .all(|e| e.force && e.to_lane == spec_kitty::status::Lane::Planned));
            } else if p.ends_with("status.json") {
                serde_json::from_slice::<serde_json::Value>(bytes)
                    .unwrap_or_else(|e| panic!("{step}: status.json is partial: {e}"));
            } else {
                let old = before.get(p);
                let new = after.get(p);
                assert!(
                    Some(bytes) == old || Some(bytes) == new,
                    "{step}: {} is neither the old nor the new version",
                    p.display()
                );
            }
        }
        for p in before.keys() {
            assert!(now.contains_key(p), "{step}: {} disappeared", p.display());
        }
        let new_wps = wp_files.iter().filter(|p| now[**p] == after[**p]).count();
        match new_wps {
            0 => untouched += 1,
            n if n == wp_files.len() => whole += 1,
            _ => partly += 1,
        }

        // The next run finishes the job: the new versions, leftovers cleaned up,
        // each WP seeded exactly once.
        env.json(&root, &args);
        let done = snapshot(&dir);
        for p in &wp_files {
            assert_eq!(
                done[*p],
                after[*p],
                "{step}: {} after recovery",
                p.display()
            );
        }
        assert_eq!(without_clock(&done[&lanes]), without_clock(&after[&lanes]));
        let temps: Vec<_> = done.keys().filter(|p| is_temp(p)).collect();
        assert!(temps.is_empty(), "{step}: leftovers {temps:?}");
        let events = log_events(&log, &mut torn);
        let wps: BTreeSet<&str> = events.iter().map(|e| e.wp_id.as_str()).collect();
        assert_eq!(
            (events.len(), wps.len()),
            (n, n),
            "{step}: each WP seeded once"
        );
        if let Some(line) = torn.iter().next() {
            // The closed torn line is reported by the board, with its line number.
            let board = env.json(
                &root,
                &["agent", "tasks", "status", "--mission", "crash", "--json"],
            );
            let tag = format!("status.events.jsonl:{line}:");
            assert!(
                board["warnings"].to_string().contains(&tag),
                "{step}: {board}"
            );
            torn_seen += 1;
        }
    }
    // The steps split the run: kills before any WP file, between them, after
    // all of them, and inside the seeding append.
    assert!(
        untouched > 0 && partly > 0 && whole > 0 && torn_seen > 0,
        "untouched {untouched}, partly {partly}, whole {whole}, torn logs {torn_seen}"
    );
}

/// move-task (with --auto-commit) killed at each of its steps: before and
/// after the pending WP-file record, the log append (start, torn middle,
/// end), status.json, the WP file, and inside the commit (intent written,
/// ref locked, ref moved). No committed event is lost, no file is torn, and
/// the next command recovers the commit's ref lock and commits for real.
#[test]
fn killed_move_task_loses_no_committed_event_and_tears_no_file() {
    let env = TestEnv::new();
    let root = env.project("p");
    let dir = unfinalized_mission(&env, &root, "moves", 4);
    env.json(&root, &finalize_tasks("moves"));
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let log = dir.join("status.events.jsonl");
    let snapshot_file = dir.join("status.json");
    let wp_path = |i: usize| dir.join(format!("tasks/WP{i:02}-part-{i}.md"));
    let mv = |wp: usize, to: &str, note: &str| -> Vec<String> {
        let wp = format!("WP{wp:02}");
        vec![
            "agent".into(),
            "tasks".into(),
            "move-task".into(),
            wp,
            "--to".into(),
            to.into(),
            "--agent".into(),
            "bot".into(),
            "--note".into(),
            note.into(),
            "--mission".into(),
            "moves".into(),
            "--auto-commit".into(),
            "--json".into(),
        ]
    };
    let run = |args: &[String]| -> serde_json::Value {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        env.json(&root, &a)
    };
    let event_ids = |v: &serde_json::Value| -> Vec<String> {
        v["event_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect()
    };
    // Every WP in progress, so `agent: bot` is already in each file.
    let mut committed: Vec<String> = Vec::new();
    for wp in 1..=4 {
        committed.extend(event_ids(&run(&mv(wp, "claimed", "claim"))));
        committed.extend(event_ids(&run(&mv(wp, "in_progress", "start"))));
    }
    let lane_of = |wp: usize| -> String {
        let bytes = fs::read(&log).unwrap();
        let parsed = spec_kitty::status::store::parse_log(&log, &bytes);
        let snap = spec_kitty::status::reduce(&parsed.events);
        snap.lane_of(&format!("WP{wp:02}")).unwrap().to_string()
    };
    let stamp = |t: &str| -> String {
        // `- 2026-11-24T10:00:00Z – bot – ...`: blank the clock of activity lines.
        t.lines()
            .map(
                |l| match l.strip_prefix("- ").and_then(|r| r.split_once(" – ")) {
                    Some((ts, rest)) if ts.ends_with('Z') && ts.len() == 20 => {
                        format!("- <t> – {rest}")
                    }
                    _ => l.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("\n")
    };
    let head = || env.git(&root, &["rev-parse", "HEAD"]).trim().to_string();
    let head_log = || {
        env.git(
            &root,
            &["show", "HEAD:kitty-specs/001-moves/status.events.jsonl"],
        )
    };

    // The steps of one move of WP01 from in_progress to blocked.
    let probe = mv(1, "blocked", "probe");
    let steps = crash_steps(
        &env,
        &root,
        &probe.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    committed.extend(
        log_events(&log, &mut BTreeSet::new())
            .iter()
            .map(|e| e.event_id.clone()),
    );
    committed.extend(event_ids(&run(&mv(1, "in_progress", "probe back"))));
    assert_steps(
        &steps,
        &[
            "move-before-append#1",
            "append-start:status.events.jsonl#1",
            "append-torn:status.events.jsonl#1",
            "append-done:status.events.jsonl#1",
            "move-after-append#1",
            "write-done:status.json#1",
            "write-temp:WP01-part-1.md#1",
            "write-done:WP01-part-1.md#1",
            "write-done:<pid>.json#1",
            "commit-ref-locked#1",
            "commit-ref-moved#1",
        ]
        .map(str::to_string),
    );

    let mut torn = BTreeSet::new();
    let (mut logged, mut noted) = (0, 0);
    for (round, step) in steps.iter().enumerate() {
        assert_eq!(lane_of(1), "in_progress", "{step}");
        let note = format!("round {round}");
        let before_text = fs::read_to_string(wp_path(1)).unwrap();
        let before_ids = ids(&log_events(&log, &mut torn));
        let args = mv(1, "blocked", &note);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        crash_at(&env, &root, &a, step);

        // The WP file: exactly the old text, or the old text plus this move's
        // activity line (the clock aside).
        let text = fs::read_to_string(wp_path(1)).unwrap();
        let expected_new = spec_kitty::status::ops::with_activity(
            &before_text,
            "bot",
            &format!("Moved to blocked – {note}"),
        );
        assert!(
            text == before_text || stamp(&text) == stamp(&expected_new),
            "{step}: the WP file is torn:\n{text}"
        );
        noted += usize::from(text != before_text);
        // The log: nothing lost, nothing torn but possibly the last line; the
        // killed move's event is there or not, whole.
        let ids = ids(&log_events(&log, &mut torn));
        assert_eq!(
            &ids[..before_ids.len()],
            &before_ids[..],
            "{step}: history rewritten"
        );
        assert!(ids.len() - before_ids.len() <= 1, "{step}");
        logged += ids.len() - before_ids.len();
        for id in &committed {
            assert!(ids.contains(id), "{step}: committed event {id} lost");
        }
        serde_json::from_slice::<serde_json::Value>(&fs::read(&snapshot_file).unwrap())
            .unwrap_or_else(|e| panic!("{step}: status.json is partial: {e}"));

        // The next move finishes, and its commit really happens: the killed
        // commit's ref lock is recovered, never reported as a commit.
        let tip = head();
        let other = round % 3 + 2;
        let to = if lane_of(other) == "blocked" {
            "in_progress"
        } else {
            "blocked"
        };
        let v = run(&mv(other, to, &format!("after round {round}")));
        let new = event_ids(&v);
        assert_ne!(head(), tip, "{step}: the next move committed nothing");
        let in_head = head_log();
        for id in &new {
            assert!(in_head.contains(id), "{step}: {id} is not in the commit");
        }
        let heads = fs::read_dir(root.join(".git/refs/heads")).unwrap();
        let locks: Vec<_> = heads
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".lock"))
            .collect();
        assert!(locks.is_empty(), "{step}: {locks:?}");
        let tree = env.git(&root, &["ls-tree", "-r", "--name-only", "HEAD"]);
        assert!(
            !tree.contains(".tmp"),
            "{step}: a temp file committed:\n{tree}"
        );
        committed.extend(new);
        // WP01 back in progress for the next round.
        if lane_of(1) == "blocked" {
            committed.extend(event_ids(&run(&mv(1, "in_progress", "back"))));
        }
        committed.extend(
            log_events(&log, &mut torn)
                .iter()
                .map(|e| e.event_id.clone()),
        );
    }
    let ids = ids(&log_events(&log, &mut torn));
    assert!(committed.iter().all(|id| ids.contains(id)));
    // The board reads the log the runs left.
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", "moves", "--json"],
    );
    assert_eq!(board["total_wps"], 4);
    assert!(logged > 0 && noted > 0, "logged {logged}, noted {noted}");
    assert!(!torn.is_empty(), "no step tore the log's last line");
}

/// Every file of the project outside `.git`, with its bytes.
fn project_files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(root)
        .into_iter()
        .filter(|(p, _)| !p.strip_prefix(root).unwrap().starts_with(".git"))
        .collect()
}

#[test]
fn wp_names_with_spaces_unicode_and_dots() {
    let env = TestEnv::new();
    let root = env.project("p");
    let v = env.json(&root, &["agent", "mission", "create", "names", "--json"]);
    let dir = PathBuf::from(v["feature_dir"].as_str().unwrap());
    fs::write(dir.join("spec.md"), "# Spec\n\n| FR-001 | a |\n").unwrap();
    fs::write(
        dir.join("tasks.md"),
        "# WPs\n\n## WP01: Ünïcode — naïve café ☕\n\n**Dependencies**: none\n\n## WP02: has space\n\nDepends on WP01\n\n## WP03: ../../escape\n\nDepends on WP02\n",
    )
    .unwrap();
    let names = [
        "WP01-ünïcode naïve ☕.md",
        "WP02-has space.md",
        "WP03-..-..-escape.md",
    ];
    for (i, name) in names.iter().enumerate() {
        fs::write(
            dir.join("tasks").join(name),
            format!("---\nwork_package_id: WP0{n}\ntitle: \"{title}\"\n---\n\n# {title}\n\nBuild `src/p{n}/` (ünïcode ✓).\n", n = i + 1, title = name.trim_end_matches(".md")),
        )
        .unwrap();
    }
    let outside_before: BTreeMap<PathBuf, Vec<u8>> = project_files(&root)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&dir))
        .collect();
    let report = env.json(&root, &finalize_tasks("names"));
    assert_eq!(report["result"], "success", "{report}");
    // Rewritten in place under their own names; nothing appeared anywhere else.
    let mut in_tasks: Vec<String> = fs::read_dir(dir.join("tasks"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("WP"))
        .collect();
    in_tasks.sort();
    assert_eq!(in_tasks, names);
    for name in names {
        let text = fs::read_to_string(dir.join("tasks").join(name)).unwrap();
        assert!(text.contains("dependencies:"), "{name}: {text}");
    }
    let outside_after: BTreeMap<PathBuf, Vec<u8>> = project_files(&root)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&dir))
        .collect();
    assert_eq!(
        outside_before, outside_after,
        "finalize wrote outside the mission"
    );
    assert!(!env.work.join("escape").exists() && !root.join("escape").exists());

    // The board and moves work with these names; a `..` WP id is refused.
    let moved = env.json(
        &root,
        &move_task("WP01", "claimed", &["--agent", "bøt", "--json"], "names"),
    );
    assert_eq!(moved["to_lane"], "claimed");
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", "names", "--json"],
    );
    assert!(board.to_string().contains("ünïcode naïve ☕"), "{board}");
    let out = env.run(&root, &["agent", "tasks", "status", "--mission", "names"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for bad in ["../WP01", "WP01/../WP02", ".."] {
        let out = env.run(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                bad,
                "--to",
                "claimed",
                "--agent",
                "x",
                "--mission",
                "names",
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["result"], "error", "{bad}: {v}");
    }
}

#[test]
fn spaced_unicode_repo_path_and_symlinked_project_run_the_whole_loop() {
    let env = TestEnv::new();
    let root = env.project("my project ünï dir");
    let dir = unfinalized_mission(&env, &root, "spaced", 4);
    let link = env.work.join("link to project");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    // Finalize through the link, implement a code WP (a new worktree under the
    // spaced path), then move it through the link.
    let report = env.json(&link, &finalize_tasks("spaced"));
    assert_eq!(report["wp_count"], 4);
    assert!(dir.join("lanes.json").is_file());
    let started = env.json(
        &root,
        &crate::common::implement_args("WP01", "spaced", "codex"),
    );
    let workspace = PathBuf::from(started["workspace"].as_str().unwrap());
    assert!(workspace.is_dir(), "{started}");
    assert!(
        workspace.to_string_lossy().contains("my project ünï dir"),
        "{started}"
    );
    let listed = env.git(&root, &["worktree", "list", "--porcelain"]);
    assert!(listed.contains(workspace.to_str().unwrap()), "{listed}");
    // From inside the worktree, the project and mission are found.
    let board = env.json(
        &workspace,
        &["agent", "tasks", "status", "--mission", "spaced", "--json"],
    );
    assert_eq!(board["total_wps"], 4);
    let moved = env.json(
        &link,
        &move_task("WP02", "claimed", &["--agent", "codex", "--json"], "spaced"),
    );
    assert_eq!(moved["to_lane"], "claimed");
    // The WP files are still regular files in the real directory.
    for e in fs::read_dir(dir.join("tasks")).unwrap().flatten() {
        assert!(e.file_type().unwrap().is_file());
    }
}

#[test]
fn a_read_only_wp_file_stops_finalize_before_anything_is_written() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let root = env.project("p");
    let dir = unfinalized_mission(&env, &root, "ro", 6);
    let locked = dir.join("tasks/WP04-part-4.md");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o444)).unwrap();
    let before = snapshot(&dir);
    for json in [true, false] {
        let mut args = vec!["agent", "mission", "finalize-tasks", "--mission", "ro"];
        if json {
            args.push("--json");
        }
        let out = env.run(&root, &args);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        if json {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let message = format!("{} {}", v["error"], v["hint"]);
            assert!(
                message.contains("WP04-part-4.md") && message.contains("read-only"),
                "{message}"
            );
            assert!(message.contains("chmod u+w"), "{message}");
        } else {
            assert_out!(env, "finalize_read_only_wp_file", args, &out);
        }
        assert_eq!(snapshot(&dir), before, "nothing may change");
    }
    // Made writable again, finalize goes through and keeps the file's mode otherwise.
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o640)).unwrap();
    env.json(&root, &finalize_tasks("ro"));
    assert_eq!(
        fs::metadata(&locked).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(fs::read_to_string(&locked)
        .unwrap()
        .contains("dependencies:"));
}

/// Run `spec-kitty ARGS` with a file size limit of `blocks` × 512 bytes, so any
/// bigger write fails with EFBIG, as a full disk would fail it.
fn run_with_file_limit(
    env: &TestEnv,
    dir: &Path,
    blocks: u32,
    args: &[&str],
) -> std::process::Output {
    let script = format!("trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\"");
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let mut sh = Command::new("sh");
    sh.current_dir(dir)
        .env("HOME", &env.home)
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(script)
        .arg(bin)
        .args(args);
    sh.output().unwrap()
}

#[test]
fn a_write_error_mid_finalize_changes_nothing() {
    let env = TestEnv::new();
    let root = env.project("p");
    let dir = unfinalized_mission(&env, &root, "full", 8);
    let before = snapshot(&dir);
    // 512 bytes: lanes.json (the last file of the batch) is bigger, so its write
    // fails after every WP file's new version was already written to a temp file.
    let out = run_with_file_limit(&env, &root, 1, &finalize_tasks("full"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{} {}",
        stdout(&out),
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("cannot write") && error.contains("kitty-specs/001-full/"),
        "{v}"
    );
    assert!(
        !error.contains("/.lanes.json") && !error.contains("/.WP"),
        "the error names the real file: {error}"
    );
    assert_eq!(
        snapshot(&dir),
        before,
        "no file changed, no temp file left, no status or lanes written"
    );
    // With room again it goes through.
    env.json(&root, &finalize_tasks("full"));
    assert!(dir.join("lanes.json").is_file());
}

#[test]
fn a_write_error_during_mission_create_leaves_no_mission() {
    let env = TestEnv::new();
    let root = env.project("p");
    let out = run_with_file_limit(
        &env,
        &root,
        0,
        &["agent", "mission", "create", "nospace", "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{} {}",
        stdout(&out),
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"].as_str().unwrap().contains("cannot"), "{v}");
    let specs = root.join("kitty-specs");
    let left: Vec<_> = fs::read_dir(&specs)
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    // The number was not used up.
    let created = env.json(&root, &["agent", "mission", "create", "nospace", "--json"]);
    assert_eq!(created["mission_slug"], "001-nospace");
}

#[test]
fn exit_codes_and_json_errors() {
    let env = TestEnv::new();
    let root = env.project("p");
    let one_json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout(out)))
    };
    // 0: success.
    for args in [
        &["--version"][..],
        &["--help"],
        &["agent", "mission", "list", "--json"],
    ] {
        let out = env.run(&root, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
    // 1: the command ran and failed (an unknown mission), in both output modes.
    let out = env.run(&root, &["agent", "tasks", "status", "--mission", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).is_empty(),
        "errors go to stderr: {}",
        stdout(&out)
    );
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    let out = env.run(
        &root,
        &["agent", "tasks", "status", "--mission", "nope", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = one_json(&out);
    assert_eq!(v["result"], "error");
    assert!(v["error"].as_str().unwrap().contains("nope"), "{v}");
    // Outside a project is a user error too.
    let out = env.run(&env.work, &["agent", "mission", "list", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(one_json(&out)["result"], "error");
    // 2: usage errors (unknown flag, missing argument, unknown command).
    for args in [
        &["agent", "tasks", "status", "--bogus"][..],
        &["agent", "mission", "create"],
        &["no-such-command"],
        &["agent", "tasks", "move-task", "WP01"],
    ] {
        let out = env.run(&root, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        assert!(!stderr(&out).is_empty());
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let out = env.run(&root, &with_json);
        assert_eq!(out.status.code(), Some(2), "{with_json:?}");
        let v = one_json(&out);
        assert_eq!(v["result"], "error", "{with_json:?}: {v}");
        assert!(v["error"].is_string() && v["hint"].is_string(), "{v}");
    }
}
