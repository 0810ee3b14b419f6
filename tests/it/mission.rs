//! `agent mission create`, selectors, identity, concurrency.

use crate::common::snap::assert_run;
use crate::common::{hold_and_contend, stderr, stdout, TestEnv};

#[test]
fn create_json_is_one_object_with_ulid() {
    let env = TestEnv::new();
    let p = env.project("repo");
    let v = env.json(
        &p,
        &["agent", "mission", "create", "dogfood-track3", "--json"],
    );
    assert_eq!(v["result"], "success");
    assert_eq!(v["mission_slug"], "001-dogfood-track3");
    assert_eq!(v["mission_number"], "001");
    let id = v["mission_id"].as_str().unwrap();
    assert_eq!(id.len(), 26);
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.join("kitty-specs/001-dogfood-track3/meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["mission_id"], id);
    assert!(
        env.home_files().is_empty(),
        "HOME must stay empty: {:?}",
        env.home_files()
    );
    let status = env.git(&p, &["log", "--oneline"]);
    assert_eq!(status.lines().count(), 1, "no commits were made");
}

#[test]
fn bad_slug_and_duplicate_are_clear_errors() {
    let env = TestEnv::new();
    let p = env.project("repo");
    let out = assert_run!(
        env,
        &p,
        "create_bad_slug",
        ["agent", "mission", "create", "Bad_Slug"]
    );
    assert_eq!(out.status.code(), Some(1));
    env.json(&p, &["agent", "mission", "create", "x", "--json"]);
    let out = env.run(&p, &["agent", "mission", "create", "x", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("already exists"),
        "{}",
        stdout(&out)
    );
}

/// 16 processes create missions at once; each must get its own number and ULID
/// and see no half-written mission. The first is held after numbering and
/// staging its mission, before publishing it (pause point
/// `create-before-publish`, under the numbering lock); the 15 others start
/// and each waits for that lock before it goes on. Without the lock they would
/// not wait (the test fails) and would take the held one's number.
fn parallel_create_round(env: &TestEnv, p: &std::path::Path, round: usize) {
    let create = |i: usize| -> Vec<String> {
        vec![
            "agent".into(),
            "mission".into(),
            "create".into(),
            format!("r{round}-m{i}"),
            "--json".into(),
        ]
    };
    let first = create(0);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let others: Vec<Vec<String>> = (1..16).map(create).collect();
    let outs = hold_and_contend(env, p, &first, "create-before-publish", &others);
    let mut numbers = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    for out in &outs {
        assert!(
            out.status.success(),
            "create failed: {}{}",
            stdout(out),
            stderr(out)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            numbers.insert(v["mission_number"].as_str().unwrap().to_string()),
            "duplicate number {}",
            v["mission_number"]
        );
        assert!(ids.insert(v["mission_id"].as_str().unwrap().to_string()));
        let dir = std::path::PathBuf::from(v["feature_dir"].as_str().unwrap());
        for f in [
            "meta.json",
            "spec.md",
            "tasks/README.md",
            "status.events.jsonl",
        ] {
            assert!(dir.join(f).exists(), "{} missing {f}", dir.display());
        }
    }
    assert_eq!(numbers.len(), 16);
}

#[test]
fn parallel_creates_get_distinct_numbers_and_ids() {
    let env = TestEnv::new();
    let p = env.project("repo");
    for round in 0..3 {
        parallel_create_round(&env, &p, round);
    }
    let listed = env.json(&p, &["agent", "mission", "list", "--json"]);
    assert_eq!(listed["count"], 48);
    let leftovers: Vec<_> = std::fs::read_dir(p.join("kitty-specs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging directories left behind");
}

#[test]
fn selectors_work_on_every_mission_command() {
    let env = TestEnv::new();
    let p = env.project("repo");
    let a = env.json(&p, &["agent", "mission", "create", "alpha", "--json"]);
    env.json(
        &p,
        &[
            "agent",
            "mission",
            "create",
            "post-555-release-hardening",
            "--json",
        ],
    );
    let id = a["mission_id"].as_str().unwrap();
    for sel in ["001", "1", "001-alpha", "alpha", id, &id[..10]] {
        let v = env.json(
            &p,
            &[
                "agent",
                "mission",
                "check-prerequisites",
                "--mission",
                sel,
                "--json",
            ],
        );
        assert_eq!(v["mission_slug"], "001-alpha", "selector {sel}");
    }
    let out = assert_run!(
        env,
        &p,
        "prerequisites_unknown_mission",
        [
            "agent",
            "mission",
            "check-prerequisites",
            "--mission",
            "nope",
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    // Without --mission and with two missions: ask for one, listing both.
    let out = assert_run!(
        env,
        &p,
        "prerequisites_two_missions",
        ["agent", "mission", "check-prerequisites"]
    );
    assert_eq!(out.status.code(), Some(1));
    // Inside a mission directory the mission is inferred.
    let v = env.json(
        &p.join("kitty-specs/002-post-555-release-hardening/tasks"),
        &["mission", "current", "--json"],
    );
    assert_eq!(v["mission_slug"], "002-post-555-release-hardening");
}

#[test]
fn corrupt_meta_is_named_and_other_missions_keep_working() {
    let env = TestEnv::new();
    let p = env.project("repo");
    env.json(&p, &["agent", "mission", "create", "good", "--json"]);
    env.json(&p, &["agent", "mission", "create", "bad", "--json"]);
    std::fs::write(
        p.join("kitty-specs/002-bad/meta.json"),
        "{\"mission_id\": \"not-a-ulid\"}",
    )
    .unwrap();
    let v = env.json(&p, &["agent", "mission", "list", "--json"]);
    let bad = &v["missions"][1];
    assert!(
        bad["meta_error"].as_str().unwrap().contains("not a ULID"),
        "{bad}"
    );
    assert!(bad["meta_error"]
        .as_str()
        .unwrap()
        .contains("002-bad/meta.json"));
    env.json(
        &p,
        &[
            "agent",
            "mission",
            "check-prerequisites",
            "--mission",
            "good",
            "--json",
        ],
    );
    std::fs::write(p.join("kitty-specs/002-bad/meta.json"), "{\"slug\": ").unwrap();
    let out = env.run(
        &p,
        &["agent", "mission", "backfill-identity", "--mission", "bad"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("002-bad/meta.json:1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn backfill_mints_ulid_and_keeps_everything_else() {
    let env = TestEnv::new();
    let p = env.project("repo");
    let dir = p.join("kitty-specs/079-post-555-release-hardening");
    std::fs::create_dir_all(&dir).unwrap();
    let original = "{\n  \"created_at\": \"2026-04-09T06:12:24.358591+00:00\",\n  \"friendly_name\": \"x\",\n  \"owner\": \"someone\",\n  \"baseline_pr\": 555\n}\n";
    std::fs::write(dir.join("meta.json"), original).unwrap();
    let dry = env.json(
        &p,
        &[
            "agent",
            "mission",
            "backfill-identity",
            "--all",
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(dry["backfilled"][0]["written"], false);
    assert_eq!(
        std::fs::read_to_string(dir.join("meta.json")).unwrap(),
        original,
        "dry run writes nothing"
    );
    let v = env.json(
        &p,
        &[
            "agent",
            "mission",
            "backfill-identity",
            "--mission",
            "079",
            "--json",
        ],
    );
    let id = v["backfilled"][0]["mission_id"]
        .as_str()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(dir.join("meta.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(meta["mission_id"], id.as_str());
    let keys: Vec<&str> = meta
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "friendly_name",
            "owner",
            "baseline_pr",
            "mission_id"
        ]
    );
    assert_eq!(meta["baseline_pr"], 555);
    // The ULID's time part comes from created_at (2026-04-09).
    let ms = ulid::Ulid::from_string(&id).unwrap().timestamp_ms();
    assert_eq!(ms / 1000, 1775715144);
    // Running again changes nothing.
    let again = env.json(
        &p,
        &["agent", "mission", "backfill-identity", "--all", "--json"],
    );
    assert_eq!(again["backfilled"].as_array().unwrap().len(), 0);
}

#[test]
fn setup_plan_and_prerequisites() {
    let env = TestEnv::new();
    let p = env.project("repo");
    env.json(&p, &["agent", "mission", "create", "x", "--json"]);
    let before = env.json(
        &p,
        &[
            "agent",
            "mission",
            "check-prerequisites",
            "--mission",
            "x",
            "--json",
        ],
    );
    let missing: Vec<&str> = before["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        missing.contains(&"plan.md") && missing.contains(&"tasks.md"),
        "{missing:?}"
    );
    let v = env.json(
        &p,
        &["agent", "mission", "setup-plan", "--mission", "x", "--json"],
    );
    assert_eq!(v["created"], true);
    std::fs::write(p.join("kitty-specs/001-x/plan.md"), "# my plan\n").unwrap();
    let v = env.json(
        &p,
        &["agent", "mission", "setup-plan", "--mission", "x", "--json"],
    );
    assert_eq!(v["created"], false);
    assert_eq!(
        std::fs::read_to_string(p.join("kitty-specs/001-x/plan.md")).unwrap(),
        "# my plan\n"
    );
    let after = env.json(
        &p,
        &[
            "agent",
            "mission",
            "check-prerequisites",
            "--mission",
            "x",
            "--json",
        ],
    );
    assert_eq!(after["artifacts"]["plan.md"]["present"], true);
}

#[test]
fn mission_types_list_and_info() {
    let env = TestEnv::new();
    let v = env.json(&env.work, &["mission", "list", "--json"]);
    let keys: Vec<&str> = v["mission_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["software-dev", "research", "documentation", "plan"]);
    let out = assert_run!(
        env,
        &env.work,
        "info_unknown_type",
        ["mission", "info", "nope"]
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn create_with_target_branch_and_type() {
    let env = TestEnv::new();
    let p = env.project("repo");
    let v = env.json(
        &p,
        &[
            "agent",
            "mission",
            "create",
            "docs",
            "--mission-type",
            "documentation",
            "--target-branch",
            "release",
            "--json",
        ],
    );
    assert_eq!(v["target_branch"], "release");
    assert_eq!(v["mission_type"], "documentation");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.join("kitty-specs/001-docs/meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["documentation_state"]["iteration_mode"], "initial");
    let out = env.run(
        &p,
        &["agent", "mission", "create", "y", "--mission-type", "bogus"],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn explicit_number_must_be_free() {
    let env = TestEnv::new();
    let p = env.project("repo");
    let v = env.json(
        &p,
        &[
            "agent",
            "mission",
            "create",
            "post-555-release-hardening",
            "--number",
            "79",
            "--json",
        ],
    );
    assert_eq!(v["mission_slug"], "079-post-555-release-hardening");
    let next = env.json(&p, &["agent", "mission", "create", "after", "--json"]);
    assert_eq!(next["mission_number"], "080");
    let out = assert_run!(
        env,
        &p,
        "create_number_taken",
        ["agent", "mission", "create", "clash", "--number", "80"]
    );
    assert_eq!(out.status.code(), Some(1));
}
