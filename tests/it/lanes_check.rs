//! A lanes.json that does not read, or that names another mission, is an
//! error for the status commands whose guards read it (claims, hand-ins, the
//! done guard), never silently ignored: they would otherwise record the main
//! checkout's HEAD as a lane claim, or skip the lane's hand-in check.

use std::fs;

use serde_json::Value;

use crate::common::*;

fn move_task(env: &TestEnv, root: &std::path::Path, slug: &str, to: &str) -> std::process::Output {
    env.run(
        root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            to,
            "--agent",
            "a",
            "--mission",
            slug,
            "--json",
        ],
    )
}

fn events(dir: &std::path::Path) -> String {
    fs::read_to_string(dir.join("status.events.jsonl")).unwrap()
}

#[test]
fn a_foreign_or_corrupt_lanes_json_is_an_error_for_claims_and_hand_ins() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let path = m.dir.join("lanes.json");
    let good = fs::read_to_string(&path).unwrap();
    let mut foreign: Value = serde_json::from_str(&good).unwrap();
    foreign["mission_slug"] = "002-other".into();
    let before = events(&m.dir);

    // A claim (planned -> in_progress) with another mission's lanes.json.
    fs::write(&path, serde_json::to_string_pretty(&foreign).unwrap()).unwrap();
    let o = move_task(&env, &root, &m.slug, "in_progress");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = e["error"].as_str().unwrap();
    assert!(msg.contains(&path.display().to_string()), "{e}");
    assert!(msg.contains("\"002-other\""), "{e}");
    assert!(
        e["hint"].as_str().unwrap().contains("finalize-tasks"),
        "{e}"
    );
    assert_eq!(events(&m.dir), before, "nothing recorded");

    // With its own lanes.json the claim goes through.
    fs::write(&path, &good).unwrap();
    let o = move_task(&env, &root, &m.slug, "in_progress");
    assert!(o.status.success(), "{}", stderr(&o));
    let claimed = events(&m.dir);

    // A hand-in with a corrupt lanes.json: an error naming the file and line.
    fs::write(&path, "{ not json").unwrap();
    let o = move_task(&env, &root, &m.slug, "for_review");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = e["error"].as_str().unwrap();
    assert!(msg.contains("lanes.json:1"), "{e}");
    assert!(msg.contains("invalid lanes.json"), "{e}");
    assert_eq!(events(&m.dir), claimed, "nothing recorded");
}
