//! Issue 17, "Done when": two agents drive a mission through the guarded loop.
//! codex implements, claude is configured as the reviewer. Every shortcut is
//! tried and refused with a message naming the rule, the current lane and the
//! command that satisfies it; the legitimate path then goes through to merge.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::flow::{action, move_task, Flow};
use crate::common::snap::{assert_out, assert_run};
use crate::common::{stdout, write, TestEnv, WpDef};

const SLUG: &str = "001-demo";

/// A refused move: exit 1, and a message (snapshot `name`) naming the rule,
/// the WP's lane and the command that satisfies it.
fn refused(env: &TestEnv, root: &Path, name: &str, args: &[&str]) {
    let out = assert_run!(env, root, name, args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
}

/// `move-task WP --to LANE --agent A`, refused as [`refused`] describes.
fn mv_refused(env: &TestEnv, root: &Path, name: &str, wp: &str, to: &str, agent: &str) {
    refused(
        env,
        root,
        name,
        &move_task(wp, to, &["--agent", agent], "demo"),
    );
}

fn commit(env: &TestEnv, wt: &Path, file: &str, text: &str) {
    write(&wt.join(file), text);
    env.git(wt, &["add", "-A"]);
    env.git(wt, &["commit", "-qm", &format!("add {file}")]);
}

fn events(root: &Path) -> Vec<Value> {
    fs::read_to_string(
        root.join("kitty-specs")
            .join(SLUG)
            .join("status.events.jsonl"),
    )
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

#[test]
fn two_agents_every_shortcut_refused_the_legitimate_path_lands() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::planning("WP01", "Research", "kitty-specs/{slug}/research.md", &[]),
        WpDef::code("WP02", "Core", "src/core/**", &["WP01"]),
        WpDef::code("WP03", "Packaging", "pyproject.toml", &[]),
    ]);
    assert_eq!(m.slug, SLUG);
    let f = Flow::new(&env, &root, "demo");
    // claude is a reviewer by configuration.
    fs::write(
        root.join(".kittify/config.yaml"),
        "agents:\n  available:\n  - codex\n  - claude\n  reviewers:\n  - claude\n",
    )
    .unwrap();
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission planned"]);

    // Shortcuts from planned: nothing is handed in, approved or done unbuilt.
    for to in ["for_review", "approved", "done"] {
        let name = format!("planned_to_{to}");
        mv_refused(&env, &root, &name, "WP03", to, "codex");
    }

    // The reviewer is given no implementation work; the implementer is.
    let d = f.next("claude", &[]);
    assert_eq!(d["kind"], "blocked", "{d}");
    assert!(
        d["reason"].as_str().unwrap().contains("nothing to review"),
        "{d}"
    );
    let d = f.next("codex", &[]);
    assert_eq!(
        (d["action"].as_str(), d["wp_id"].as_str()),
        (Some("implement"), Some("WP01")),
        "{d}"
    );
    let prompt = fs::read_to_string(d["prompt_file"].as_str().unwrap()).unwrap();
    assert!(prompt.contains(d["command"].as_str().unwrap()), "{prompt}");

    // WP01, planning work in the main checkout.
    f.implement("WP01", "codex");
    write(&m.dir.join("research.md"), "Findings.\n");
    f.tick("T001");
    f.hand_in("WP01", "codex");

    // codex is never handed its own work to review: it gets the next ready WP.
    let d = f.next("codex", &[]);
    assert_eq!(
        (d["action"].as_str(), d["wp_id"].as_str()),
        (Some("implement"), Some("WP03")),
        "{d}"
    );
    let v = f.implement("WP03", "codex");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    let branch = v["branch"].as_str().unwrap().to_string();
    f.tick("T003");
    // Handing in with nothing committed since the claim.
    assert_eq!(branch, "kitty/mission-001-demo-lane-b");
    mv_refused(
        &env,
        &root,
        "hand_in_nothing_committed",
        "WP03",
        "for_review",
        "codex",
    );
    // Uncommitted changes to an owned file.
    write(&wt.join("pyproject.toml"), "[project]\nname = \"demo\"\n");
    mv_refused(
        &env,
        &root,
        "hand_in_owned_file_uncommitted",
        "WP03",
        "for_review",
        "codex",
    );
    // Committed, plus a change outside what WP03 owns; an uncommitted scratch
    // file outside it is named but does not block.
    env.git(&wt, &["add", "pyproject.toml"]);
    env.git(&wt, &["commit", "-qm", "WP03: packaging"]);
    commit(&env, &wt, "README.md", "demo, now with packaging\n");
    write(&wt.join("scratch.txt"), "notes\n");
    let v = f.hand_in("WP03", "codex");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("scratch.txt") && warnings.contains("not handed in"),
        "{v}"
    );
    let hand_in_tip = env.git(&wt, &["rev-parse", "HEAD"]).trim().to_string();
    fs::remove_file(wt.join("scratch.txt")).unwrap();

    // Self-review is refused, by action and by move-task.
    refused(
        &env,
        &root,
        "self_review_by_action",
        &action("review", "WP03", "codex"),
    );
    mv_refused(
        &env,
        &root,
        "self_review_by_move",
        "WP03",
        "approved",
        "codex",
    );
    // Nothing left for codex: its own work waits for someone else.
    assert_eq!(f.next("codex", &[])["kind"], "blocked");
    assert_eq!(f.next("codex", &["--role", "review"])["kind"], "blocked");
    // for_review -> done skips the review.
    mv_refused(&env, &root, "for_review_to_done", "WP03", "done", "claude");

    // The implementer keeps working in the lane after hand-in; the review does
    // not see it and does not send the reviewer there.
    commit(
        &env,
        &wt,
        "pyproject.toml",
        "[project]\nname = \"late-change-after-hand-in\"\n",
    );

    // claude, the reviewer, is handed the waiting reviews.
    let d = f.next("claude", &[]);
    assert_eq!(
        (d["action"].as_str(), d["wp_id"].as_str()),
        (Some("review"), Some("WP01")),
        "{d}"
    );
    assert!(
        d["prompt_file"].is_string() && d["command"].is_string(),
        "{d}"
    );
    f.review("WP01", "claude");
    f.approve("WP01", "claude");

    let v = f.review("WP03", "claude");
    assert_eq!(v["out_of_scope"], serde_json::json!(["README.md"]), "{v}");
    assert_eq!(v["review_range"]["hand_in_commit"], hand_in_tip.as_str());
    assert_eq!(
        fs::canonicalize(v["workspace"].as_str().unwrap()).unwrap(),
        fs::canonicalize(&root).unwrap()
    );
    let prompt = v["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("OUT OF SCOPE") && prompt.contains("- README.md"),
        "{prompt}"
    );
    assert!(prompt.contains("+name = \"demo\""), "{prompt}");
    assert!(!prompt.contains("late-change-after-hand-in"), "{prompt}");
    assert!(
        !prompt.contains(&format!("cd {}", wt.display())),
        "{prompt}"
    );
    // in_review -> done skips the verdict; approved -> done skips the merge.
    mv_refused(&env, &root, "in_review_to_done", "WP03", "done", "claude");
    f.approve("WP03", "claude");
    mv_refused(&env, &root, "approved_to_done", "WP03", "done", "claude");

    // WP02, now ready: the legitimate path end to end.
    let d = f.next("codex", &[]);
    assert_eq!(
        (d["action"].as_str(), d["wp_id"].as_str()),
        (Some("implement"), Some("WP02")),
        "{d}"
    );
    let v = f.implement("WP02", "codex");
    let wt2 = PathBuf::from(v["workspace"].as_str().unwrap());
    commit(&env, &wt2, "src/core/lib.rs", "pub fn core() {}\n");
    f.tick("T002");
    f.hand_in("WP02", "codex");
    let d = f.next("claude", &[]);
    assert_eq!(
        (d["action"].as_str(), d["wp_id"].as_str()),
        (Some("review"), Some("WP02")),
        "{d}"
    );
    let v = f.review("WP02", "claude");
    assert_eq!(v["out_of_scope"], serde_json::json!([]), "{v}");
    f.approve("WP02", "claude");

    // The board says who built and who reviewed each WP, and what to run next.
    let board = ["agent", "tasks", "status", "--mission", "demo"];
    let out = assert_run!(env, &root, "board_builders_and_reviewers", board);
    assert!(out.status.success());

    // The scope gate: accept refuses WP03's README.md change; merge --dry-run lists it.
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission state"]);
    let out = env.run(&root, &["accept", "--mission", "demo", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let scope = v["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "scope")
        .unwrap();
    assert_eq!(scope["passed"], false, "{v}");
    assert!(
        scope["detail"]
            .as_str()
            .unwrap()
            .contains("WP03 changed files outside its owned_files: README.md"),
        "{v}"
    );
    let out = env.run(
        &root,
        &["merge", "--mission", "demo", "--dry-run", "--json"],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["out_of_scope"][0]["wp_id"], "WP03", "{v}");
    assert_eq!(
        v["out_of_scope"][0]["files"],
        serde_json::json!(["README.md"]),
        "{v}"
    );
    let dry = ["merge", "--mission", "demo", "--dry-run"];
    let human = env.run(&root, &dry);
    assert_out!(env, "merge_dry_run_out_of_scope", dry, &human);

    // The allowance, recorded in the WP file, lets accept pass.
    let wp3 = m.dir.join("tasks/WP03-packaging.md");
    let mut text = fs::read_to_string(&wp3).unwrap();
    text.push_str("\n## Scope allowance\n\n- `README.md` documents the packaging\n");
    fs::write(&wp3, text).unwrap();
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "allow README.md for WP03"]);
    env.ok(&root, &["accept", "--mission", "demo"]);
    let d = f.next("codex", &[]);
    assert_eq!(d["action"], "merge", "{d}");
    let prompt = fs::read_to_string(d["prompt_file"].as_str().unwrap()).unwrap();
    assert!(
        prompt.contains("spec-kitty merge --mission 001-demo --dry-run"),
        "{prompt}"
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "accepted"]);
    env.ok(&root, &["merge", "--mission", "demo"]);
    assert_eq!(f.next("codex", &[])["kind"], "terminal");

    // The log records claim and hand-in commits under extra keys, beside the
    // reference's own fields, and the merge's done events name the landing.
    let log = events(&root);
    for e in &log {
        for k in [
            "event_id",
            "wp_id",
            "from_lane",
            "to_lane",
            "at",
            "actor",
            "force",
            "execution_mode",
        ] {
            assert!(e.get(k).is_some(), "{k} missing: {e}");
        }
    }
    let hand_in3 = log
        .iter()
        .rev()
        .find(|e| e["wp_id"] == "WP03" && e["to_lane"] == "for_review")
        .unwrap();
    assert_eq!(
        hand_in3["hand_in_commit"],
        hand_in_tip.as_str(),
        "{hand_in3}"
    );
    assert!(hand_in3["claim_commit"].is_string(), "{hand_in3}");
    // The approved commit is the reviewed hand-in, not the later lane tip.
    let approved3 = log
        .iter()
        .find(|e| e["wp_id"] == "WP03" && e["to_lane"] == "approved")
        .unwrap();
    assert_eq!(
        approved3["evidence"]["repos"][0]["commit"],
        hand_in_tip.as_str(),
        "{approved3}"
    );
    assert!(log
        .iter()
        .any(|e| e["to_lane"] == "done" && e["merged_commit"].is_string()));
    assert!(
        !log.iter()
            .any(|e| e["force"] == true && e["to_lane"] != "planned"),
        "no override was needed"
    );
}

#[test]
fn a_forced_done_records_its_reason() {
    let env = TestEnv::new();
    let (root, _m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    refused(
        &env,
        &root,
        "unforced_done",
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "done",
            "--agent",
            "lead",
            "--mission",
            "demo",
        ],
    );
    env.ok(
        &root,
        &move_task(
            "WP01",
            "done",
            &[
                "--agent",
                "lead",
                "--force",
                "--reason",
                "landed by hand in #42",
            ],
            "demo",
        ),
    );
    let last = events(&root).pop().unwrap();
    assert_eq!(
        (last["to_lane"].as_str(), last["force"].as_bool()),
        (Some("done"), Some(true))
    );
    assert_eq!(last["reason"], "landed by hand in #42");
    // --json refusals carry the rule, the lane and the command as fields.
    let out = env.run(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "planned",
            "--mission",
            "demo",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rule"], "terminal", "{v}");
    assert_eq!(v["current_lane"], "done");
    assert!(v["command"].is_string(), "{v}");
}
