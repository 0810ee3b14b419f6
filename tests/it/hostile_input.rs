//! Full disk and huge or hostile input (issue 25): a failed append leaves the
//! event log as it was, every YAML/JSON file is read under the same caps, WP
//! ids of any length keep their dependencies, non-ASCII arguments never panic,
//! auth answers are size-capped, and control characters never reach the
//! terminal raw.

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{stderr, stdout, TestEnv, WpDef};

/// Exit code 0-2 (3 is a bug), and under `--json` exactly one JSON document
/// on stdout.
fn well_behaved(out: &Output, json: bool) -> Option<Value> {
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "exit {code:?}\nstdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    assert!(
        !stderr(out).contains("panicked"),
        "a panic message reached stderr: {}",
        stderr(out)
    );
    json.then(|| {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", stdout(out)))
    })
}

#[test]
fn non_ascii_arguments_never_panic() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let cases: Vec<Vec<&str>> = vec![
        vec!["next", "--agent", "田中", "--mission", &m.slug],
        vec!["agent", "mission", "create", "日本語"],
        vec!["agent", "mission", "create", "é"],
        vec![
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "claimed",
            "--agent",
            "田中",
            "--note",
            "a—b",
            "--mission",
            &m.slug,
        ],
        vec![
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--note",
            "a—b ✓ 日本",
            "--mission",
            &m.slug,
        ],
        vec!["agent", "tasks", "move-task", "WÖ1", "--to", "claimed"],
        vec!["agent", "tasks", "move-task", "WP１", "--to", "claimed"],
    ];
    for args in &cases {
        let mut with_json = args.clone();
        with_json.push("--json");
        let v = well_behaved(&env.run(&root, &with_json), true).unwrap();
        assert!(v.is_object(), "{args:?}: {v}");
        well_behaved(&env.run(&root, args), false);
    }
}

#[test]
fn a_panic_is_an_internal_error_with_one_json_document() {
    let env = TestEnv::new();
    let root = env.project("p");
    for json in [true, false] {
        let mut cmd = env.sk(&root, &["agent", "mission", "list"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .env("SPEC_KITTY_TEST_PANIC", "bug\u{1b}[2J")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        if json {
            let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
            assert_eq!(v["result"], "error");
            assert!(v["error"]
                .as_str()
                .unwrap()
                .contains("internal error: test panic: bug"));
        } else {
            let err = stderr(&out);
            assert!(err.contains("internal error: test panic: bug"), "{err}");
            assert!(!err.contains("panicked at"), "{err}");
            assert!(stdout(&out).is_empty());
        }
    }
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap()
}

fn move_claimed(env: &TestEnv, root: &Path, slug: &str) -> std::process::Command {
    env.std_cmd(
        root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "claimed",
            "--agent",
            "codex",
            "--mission",
            slug,
            "--json",
        ],
    )
}

/// After a failed move the log is byte for byte what it was, the move can be
/// made again, and nothing needs repairing.
fn failed_move_left_no_trace(env: &TestEnv, root: &Path, slug: &str, log: &Path, before: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(&read(log)),
        String::from_utf8_lossy(before),
        "the failed append changed the log"
    );
    let v = env.json(
        root,
        &[
            "agent",
            "mission",
            "repair-status",
            "--mission",
            slug,
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(v["changed"], false, "{v}");
    let out = move_claimed(env, root, slug).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let v = env.json(
        root,
        &["agent", "tasks", "status", "--mission", slug, "--json"],
    );
    assert!(v.to_string().contains("claimed"), "{v}");
    let merged = env.tmp.path().join("merged.jsonl");
    fs::copy(log, &merged).unwrap();
    let m = merged.to_str().unwrap();
    env.ok(root, &["merge-driver-event-log", m, m, m]);
}

#[test]
fn a_failed_append_leaves_the_log_byte_for_byte() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let log = m.dir.join("status.events.jsonl");
    let before = read(&log);
    let out = move_claimed(&env, &root, &m.slug)
        .env("SPEC_KITTY_TEST_APPEND_FAIL_AFTER", "40")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("No space left") && msg.contains("unchanged"),
        "{msg}"
    );
    assert!(
        v["hint"].as_str().unwrap().contains("free some disk space"),
        "{v}"
    );
    failed_move_left_no_trace(&env, &root, &m.slug, &log, &before);
}

/// The real thing: the kernel refuses the write past a file size limit
/// (RLIMIT_FSIZE, SIGXFSZ ignored as a full disk would not signal) part way
/// through the event's line.
#[test]
fn a_file_size_limit_inside_the_append_leaves_the_log_byte_for_byte() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("prlimit (util-linux) is needed for this test");
    }
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let log = m.dir.join("status.events.jsonl");
    let before = read(&log);
    let limit = before.len() + 30;
    let cmd = move_claimed(&env, &root, &m.slug);
    let mut wrapped = std::process::Command::new("sh");
    wrapped
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; exec prlimit --fsize={limit} -- \"$@\""
        ))
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(&root);
    wrapped.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    let out = wrapped.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&read(&log)),
        String::from_utf8_lossy(&before),
        "the failed append changed the log"
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(v["error"].as_str().unwrap().contains("unchanged"), "{v}");
    failed_move_left_no_trace(&env, &root, &m.slug, &log, &before);
}

/// A torn last line (a crash inside the write, or a log from before this
/// guarantee) is not a dead end: repair-status drops it and says so, and then
/// the merge driver and every command read the log again.
#[test]
fn repair_status_drops_a_torn_line_and_reports_it() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let log = m.dir.join("status.events.jsonl");
    let good = read(&log);
    let line = String::from_utf8(good.clone()).unwrap();
    let cut = line.find("\"at\"").unwrap();
    let m_log = log.to_str().unwrap().to_string();
    // The merge driver refuses the torn log, pointing at repair-status.
    let mut torn = good.clone();
    torn.extend_from_slice(&line.as_bytes()[..cut]);
    fs::write(&log, &torn).unwrap();
    let out = env.run(
        &root,
        &["merge-driver-event-log", &m_log, &m_log, &m_log, "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("repair-status"), "{}", stdout(&out));
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "repair-status",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(v["torn_lines_dropped"], serde_json::json!([2]), "{v}");
    assert_eq!(v["events"], 1);
    assert_eq!(read(&log), good);
    // Torn inside a character (the log's last line stops mid-UTF-8), and a
    // torn line a later append closed with a newline: both dropped.
    let mut torn = good.clone();
    torn.extend_from_slice(&line.as_bytes()[..cut]);
    torn.push(b'\n');
    torn.extend_from_slice(&good);
    torn.extend_from_slice(&"{\"event_id\": \"日".as_bytes()[..16]);
    fs::write(&log, &torn).unwrap();
    let human = env.ok(
        &root,
        &["agent", "mission", "repair-status", "--mission", &m.slug],
    );
    assert!(human.contains("line 2: an event cut short"), "{human}");
    assert!(human.contains("line 4: an event cut short"), "{human}");
    assert_eq!(read(&log), good);
    env.ok(&root, &["merge-driver-event-log", &m_log, &m_log, &m_log]);
    let out = move_claimed(&env, &root, &m.slug).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
}

/// WP ids of three or more digits keep their tasks.md dependencies: a chain
/// across WP99 -> WP100 -> WP101 (and WP1000) is one lane, and every WP file
/// records its dependency.
#[test]
fn long_wp_ids_keep_their_dependencies() {
    let env = TestEnv::new();
    let wps = [
        WpDef::code("WP99", "Start", "src/chain/start.rs", &[]),
        WpDef::code("WP100", "Middle", "src/chain/mid.rs", &["WP99"]),
        WpDef::code("WP101", "End", "src/chain/end.rs", &["WP100"]),
        WpDef::code("WP1000", "Last", "src/chain/last.rs", &["WP101", "WP99"]),
        WpDef::code("WP102", "Apart", "src/apart/**", &[]),
    ];
    let (_root, m) = env.finalized_mission(&wps);
    let lanes: Value =
        serde_json::from_str(&fs::read_to_string(m.dir.join("lanes.json")).unwrap()).unwrap();
    let lane_of = |wp: &str| -> String {
        lanes["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["wp_ids"].as_array().unwrap().iter().any(|w| w == wp))
            .unwrap_or_else(|| panic!("{wp} in no lane: {lanes}"))["lane_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for wp in ["WP100", "WP101", "WP1000"] {
        assert_eq!(lane_of(wp), lane_of("WP99"), "{wp}: {lanes}");
    }
    assert_ne!(lane_of("WP102"), lane_of("WP99"), "{lanes}");
    for (file, deps) in [
        ("WP100-middle.md", "- WP99"),
        ("WP101-end.md", "- WP100"),
        ("WP1000-last.md", "- WP101\n- WP99"),
    ] {
        let text = fs::read_to_string(m.dir.join("tasks").join(file)).unwrap();
        assert!(
            text.contains(&format!("dependencies:\n{deps}\n")),
            "{file}:\n{text}"
        );
    }
}
