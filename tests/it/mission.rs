//! `agent mission create`, selectors, identity, concurrency.

use crate::common::{stderr, stdout, TestEnv};

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
    let out = env.run(&p, &["agent", "mission", "create", "Bad_Slug"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad-slug"), "{}", stderr(&out));
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
