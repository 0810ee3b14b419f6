//! `.kittify/config.yaml` has one reader and one error policy: a corrupt file
//! stops every state-writing command and `next` the same way (exit 1, the
//! file and line named, the fix said), before anything is written.

use std::fs;

use crate::common::snap::assert_run;
use crate::common::{project_state, stderr, stdout, TestEnv};

/// Every command that writes mission state (with the hook's `Writes`).
fn writers(s: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["next", "--agent", "codex", "--mission", s],
        vec!["implement", "WP01", "--mission", s],
        vec!["accept", "--mission", s],
        vec!["merge", "--mission", s],
        vec!["materialize", "--mission", s],
        vec!["research", "--mission", s],
        vec!["agent", "action", "implement", "WP01", "--mission", s],
        vec!["agent", "action", "review", "WP01", "--mission", s],
        vec!["agent", "mission", "create", "second"],
        vec!["agent", "mission", "finalize-tasks", "--mission", s],
        vec!["agent", "mission", "accept", "--mission", s],
        vec!["agent", "mission", "merge", "--mission", s],
        vec!["agent", "mission", "record", "--mission", s],
        vec!["agent", "mission", "repair-status", "--mission", s],
        vec!["agent", "mission", "backfill-identity", "--all"],
        vec!["agent", "mission", "setup-plan", "--mission", s],
        vec![
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "claimed",
            "--mission",
            s,
        ],
        vec![
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "--status",
            "done",
            "--mission",
            s,
        ],
        vec![
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--note",
            "n",
            "--mission",
            s,
        ],
        vec!["agent", "tasks", "finalize-tasks", "--mission", s],
        vec![
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
            "--mission",
            s,
        ],
    ]
}

#[test]
fn a_corrupt_config_stops_every_writer_and_next_the_same_way() {
    let env = TestEnv::new();
    let (root, m) = env.one_wp_mission();
    let s = m.slug.as_str();
    fs::write(root.join(".kittify/config.yaml"), "agents: [codex\n").unwrap();
    let before = project_state(&root);
    let writers = writers(s);
    let mut first: Option<String> = None;
    for args in &writers {
        let out = env.run(&root, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains(".kittify/config.yaml:2: ") && err.contains("hint: fix the YAML syntax"),
            "{args:?}: {err}"
        );
        match &first {
            None => first = Some(err),
            Some(f) => assert_eq!(&err, f, "{args:?} fails differently"),
        }
        let mut json = args.clone();
        json.push("--json");
        let out = env.run(&root, &json);
        assert_eq!(out.status.code(), Some(1), "{json:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{json:?}: not one JSON document ({e}): {}", stdout(&out)));
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains(".kittify/config.yaml:2: "),
            "{json:?}: {v}"
        );
        assert!(
            v["hint"]
                .as_str()
                .unwrap()
                .starts_with("fix the YAML syntax"),
            "{v}"
        );
    }
    assert_eq!(
        project_state(&root),
        before,
        "a writer wrote past a corrupt config"
    );
    assert_run!(
        env,
        &root,
        "corrupt_config_move_task",
        [
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "claimed",
            "--mission",
            "001-demo"
        ]
    );
}

/// `.kittify/metadata.yaml` has the policy of config.yaml: a corrupt one
/// stops every writer, `next` and `upgrade` (exit 1, the file and line named,
/// the fix said) before anything is written; it is never read as "no version
/// recorded".
#[test]
fn a_corrupt_metadata_stops_every_writer_the_way_a_corrupt_config_does() {
    let env = TestEnv::new();
    let (root, m) = env.one_wp_mission();
    let s = m.slug.as_str();
    fs::write(
        root.join(".kittify/metadata.yaml"),
        "spec_kitty:\n  version: [3.1.1\n",
    )
    .unwrap();
    let before = project_state(&root);
    let mut commands = writers(s);
    commands.push(vec!["next", "--mission", s]);
    commands.push(vec!["upgrade", "--force"]);
    let mut first: Option<String> = None;
    for args in &commands {
        let out = env.run(&root, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains(".kittify/metadata.yaml:3: ")
                && err.contains("hint: fix the YAML syntax of .kittify/metadata.yaml"),
            "{args:?}: {err}"
        );
        match &first {
            None => first = Some(err),
            Some(f) => assert_eq!(&err, f, "{args:?} fails differently"),
        }
        let mut json = args.clone();
        json.push("--json");
        let out = env.run(&root, &json);
        assert_eq!(out.status.code(), Some(1), "{json:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{json:?}: not one JSON document ({e}): {}", stdout(&out)));
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains(".kittify/metadata.yaml:3: "),
            "{json:?}: {v}"
        );
        assert!(
            v["hint"]
                .as_str()
                .unwrap()
                .starts_with("fix the YAML syntax of .kittify/metadata.yaml"),
            "{v}"
        );
    }
    assert_eq!(
        project_state(&root),
        before,
        "a command wrote past a corrupt metadata.yaml"
    );
    // A version of the wrong shape is named with its line, not read as none.
    fs::write(
        root.join(".kittify/metadata.yaml"),
        "spec_kitty:\n  version:\n    major: 3\n",
    )
    .unwrap();
    let out = env.run(&root, &["research", "--mission", s]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            ".kittify/metadata.yaml:2: spec_kitty.version must be a version such as 3.1.1"
        ),
        "{}",
        stderr(&out)
    );
}

/// The board shows the project's `auto_commit`, so it reads config.yaml: a
/// corrupt file stops it the same way in both modes (it used to stop only
/// `--json`, while the human board went on without it).
#[test]
fn a_corrupt_config_stops_the_board_in_both_modes() {
    let env = TestEnv::new();
    let (root, m) = env.one_wp_mission();
    let s = m.slug.as_str();
    let ok = env.run(&root, &["agent", "tasks", "status", "--mission", s]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    fs::write(root.join(".kittify/config.yaml"), "agents: [codex\n").unwrap();
    let out = env.run(&root, &["agent", "tasks", "status", "--mission", s]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(".kittify/config.yaml:2: ") && err.contains("hint: fix the YAML syntax"),
        "{err}"
    );
    let out = env.run(
        &root,
        &["agent", "tasks", "status", "--mission", s, "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", stdout(&out)));
    assert_eq!(v["result"], "error", "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains(".kittify/config.yaml:2: "),
        "{v}"
    );
}

/// `auto_commit` that is not true or false is an error naming the file and
/// line, not a silent "do not commit".
#[test]
fn an_auto_commit_that_is_not_a_boolean_is_refused_not_ignored() {
    let env = TestEnv::new();
    let (root, m) = env.one_wp_mission();
    let cfg = root.join(".kittify/config.yaml");
    let text = fs::read_to_string(&cfg).unwrap();
    assert!(
        text.starts_with("agents:\n") && !text.contains("auto_commit"),
        "{text}"
    );
    let text = format!("{text}  auto_commit: yes please\n");
    fs::write(&cfg, text).unwrap();
    let before = project_state(&root);
    let out = env.run(
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
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(".kittify/config.yaml:")
            && err.contains("agents.auto_commit must be true or false"),
        "{err}"
    );
    assert_eq!(project_state(&root), before);
}
