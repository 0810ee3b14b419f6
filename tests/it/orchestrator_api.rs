//! `spec-kitty orchestrator-api`: the envelope on every answer, each verb and
//! error code, policy validation, the guards that hold for an orchestrator, and
//! the published orchestrator (`spec-kitty-orchestrator` 0.1.2) driving a
//! mission to done on this binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{stderr, stdout, write, write_mission, TestEnv, WpDef};

const POLICY: &str = r#"{"orchestrator_id":"spec-kitty-orchestrator","orchestrator_version":"0.1.2","agent_family":"claude","approval_mode":"full_auto","sandbox_mode":"workspace_write","network_mode":"none","dangerous_flags":[],"tool_restrictions":null}"#;
const SLUG: &str = "001-demo";

fn reference(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/orchestrator_api/reference")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Run `spec-kitty ARGS` (ARGS start with `orchestrator-api`); stdout must be
/// exactly one envelope line. Returns the envelope and the exit code.
fn call_raw(env: &TestEnv, dir: &Path, args: &[&str]) -> (Value, i32, Output) {
    let out = env.run(dir, args);
    let text = stdout(&out);
    assert_eq!(
        text.lines().count(),
        1,
        "one line on stdout for {args:?}: {text}\nstderr: {}",
        stderr(&out)
    );
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(
        keys(&v),
        [
            "contract_version",
            "command",
            "timestamp",
            "correlation_id",
            "success",
            "error_code",
            "data"
        ],
        "{v}"
    );
    assert_eq!(v["contract_version"], "1.0.0");
    let corr = v["correlation_id"].as_str().unwrap();
    assert!(
        corr.len() == 37
            && corr.starts_with("corr-")
            && corr[5..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{corr}"
    );
    let ts = v["timestamp"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.ends_with("+00:00"),
        "{ts}"
    );
    assert!(v["data"].is_object(), "{v}");
    let code = out.status.code().unwrap();
    if v["success"] == true {
        assert_eq!(code, 0, "{v}");
        assert!(v["error_code"].is_null());
    } else {
        assert_ne!(code, 0, "{v}");
        assert!(v["error_code"].is_string());
    }
    (v, code, out)
}

fn api(env: &TestEnv, dir: &Path, args: &[&str]) -> Value {
    let mut full = vec!["orchestrator-api"];
    full.extend_from_slice(args);
    let (v, _, _) = call_raw(env, dir, &full);
    assert_eq!(v["command"], format!("orchestrator-api.{}", args[0]), "{v}");
    v
}

fn ok(env: &TestEnv, dir: &Path, args: &[&str]) -> Value {
    let v = api(env, dir, args);
    assert_eq!(v["success"], true, "{args:?}: {v}");
    v["data"].clone()
}

/// The arguments of `append-history` of `note` on `wp` of the demo mission.
fn history_args<'a>(wp: &'a str, actor: &'a str, note: &'a str) -> [&'a str; 9] {
    [
        "append-history",
        "--mission",
        SLUG,
        "--wp",
        wp,
        "--actor",
        actor,
        "--note",
        note,
    ]
}

fn fails(env: &TestEnv, dir: &Path, args: &[&str], code: &str) -> Value {
    let v = api(env, dir, args);
    assert_eq!(v["success"], false, "{args:?}: {v}");
    assert_eq!(v["error_code"], code, "{args:?}: {v}");
    v["data"].clone()
}

/// WP01 and WP02 independent, WP03 after WP01; each owns `src/wpNN/**`; the
/// subtasks ticked; everything committed. The orchestrator's own state files
/// are ignored, as a project using it would.
fn mission(env: &TestEnv) -> PathBuf {
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    assert_eq!(m.slug, SLUG);
    let wps = vec![
        WpDef::code("WP01", "Alpha", "src/wp01/**", &[]),
        WpDef::code("WP02", "Beta", "src/wp02/**", &[]),
        WpDef::code("WP03", "Gamma", "src/wp03/**", &["WP01"]),
    ];
    write_mission(&m.dir, &m.slug, &wps);
    let tasks = m.dir.join("tasks.md");
    let text = std::fs::read_to_string(&tasks).unwrap();
    write(&tasks, &text.replace("- [ ]", "- [x]"));
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", SLUG],
    );
    write(
        &root.join(".gitignore"),
        ".kittify/orchestrator-run-state.json\n.kittify/logs/\n",
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission 001-demo"]);
    root
}

fn start(env: &TestEnv, root: &Path, wp: &str) -> Value {
    ok(
        env,
        root,
        &[
            "start-implementation",
            "--mission",
            SLUG,
            "--wp",
            wp,
            "--actor",
            "orch",
            "--policy",
            POLICY,
        ],
    )
}

fn commit_work(env: &TestEnv, ws: &Path, wp: &str) {
    let dir = ws.join(format!("src/{}", wp.to_lowercase()));
    write(&dir.join("impl.txt"), &format!("{wp} work\n"));
    env.git(ws, &["add", "-A"]);
    env.git(ws, &["commit", "-qm", &format!("{wp} work")]);
}

fn transition(env: &TestEnv, root: &Path, wp: &str, to: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "transition",
        "--mission",
        SLUG,
        "--wp",
        wp,
        "--to",
        to,
        "--actor",
        "orch",
        "--policy",
        POLICY,
    ];
    args.extend_from_slice(extra);
    api(env, root, &args)
}

fn events(root: &Path) -> Vec<Value> {
    std::fs::read_to_string(root.join(format!("kitty-specs/{SLUG}/status.events.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wp_events(root: &Path, wp: &str) -> Vec<Value> {
    events(root)
        .into_iter()
        .filter(|e| e["wp_id"] == wp)
        .collect()
}

/// Build, hand in and approve `wp` to done through the API.
fn to_done(env: &TestEnv, root: &Path, wp: &str) {
    let ws = PathBuf::from(start(env, root, wp)["workspace_path"].as_str().unwrap());
    commit_work(env, &ws, wp);
    let v = transition(env, root, wp, "for_review", &["--note", "built"]);
    assert_eq!(v["success"], true, "{v}");
    let v = transition(env, root, wp, "done", &["--review-ref", "review-1"]);
    assert_eq!(v["success"], true, "{v}");
}

#[test]
fn every_answer_is_one_envelope_usage_errors_included() {
    let env = TestEnv::new();
    let root = env.project("p");
    let v = ok(&env, &root, &["contract-version"]);
    assert_eq!(v, reference("contract-version")["data"]);

    let d = fails(
        &env,
        &root,
        &["mission-state", "--mission", "nope"],
        "MISSION_NOT_FOUND",
    );
    assert_eq!(d, reference("mission-notfound")["data"]);

    for (args, command, needle) in [
        (vec!["orchestrator-api"], "unknown", "Missing command"),
        (vec!["orchestrator-api", "--bogus"], "unknown", "--bogus"),
        (
            vec!["orchestrator-api", "frobnicate"],
            "unknown",
            "frobnicate",
        ),
        (
            vec!["orchestrator-api", "mission-state"],
            "mission-state",
            "--mission",
        ),
        (
            vec![
                "orchestrator-api",
                "merge-mission",
                "--mission",
                SLUG,
                "--push=x",
            ],
            "merge-mission",
            "--push",
        ),
        (
            vec!["--json", "orchestrator-api", "list-ready"],
            "list-ready",
            "--mission",
        ),
    ] {
        let (v, code, out) = call_raw(&env, &root, &args);
        assert_eq!(code, 2, "{args:?}: {v}");
        assert_eq!(v["error_code"], "USAGE_ERROR", "{v}");
        assert_eq!(v["command"], format!("orchestrator-api.{command}"));
        assert!(
            v["data"]["message"].as_str().unwrap().contains(needle),
            "{args:?}: {v}"
        );
        assert!(
            stderr(&out).is_empty(),
            "nothing on stderr: {}",
            stderr(&out)
        );
    }
    // It takes no global options after the verb: every answer is its envelope.
    let (v, code, _) = call_raw(
        &env,
        &root,
        &["orchestrator-api", "contract-version", "--color", "never"],
    );
    assert_eq!((code, v["error_code"].as_str()), (2, Some("USAGE_ERROR")));
    // Help is text, as asked, and exits 0.
    let out = env.run(&root, &["orchestrator-api", "--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("start-implementation"));
}

#[test]
fn contract_version_refuses_old_or_invalid_providers() {
    let env = TestEnv::new();
    let root = env.project("p");
    let d = fails(
        &env,
        &root,
        &["contract-version", "--provider-version", "0.0.1"],
        "CONTRACT_VERSION_MISMATCH",
    );
    assert_eq!(d, reference("cv-mismatch")["data"]);
    let d = fails(
        &env,
        &root,
        &["contract-version", "--provider-version", "abc"],
        "CONTRACT_VERSION_MISMATCH",
    );
    assert_eq!(d, reference("cv-invalid")["data"]);
    for good in ["0.1.0", "0.1.2", "1", "2.0"] {
        ok(
            &env,
            &root,
            &["contract-version", "--provider-version", good],
        );
    }
}

#[test]
fn mission_state_and_list_ready_have_the_reference_shape() {
    let env = TestEnv::new();
    let root = mission(&env);
    let d = ok(&env, &root, &["mission-state", "--mission", SLUG]);
    assert_eq!(keys(&d), keys(&reference("mission-state")["data"]));
    assert_eq!(
        keys(&d["summary"]),
        keys(&reference("mission-state")["data"]["summary"])
    );
    assert_eq!(d["mission_number"], "001");
    assert_eq!(d["mission_type"], "software-dev");
    let wps = d["work_packages"].as_array().unwrap();
    assert_eq!(wps.len(), 3);
    assert_eq!(
        keys(&wps[0]),
        keys(&reference("mission-state")["data"]["work_packages"][0])
    );
    assert_eq!(wps[2]["wp_id"], "WP03");
    assert_eq!(wps[2]["dependencies"], serde_json::json!(["WP01"]));
    assert_eq!(wps[2]["lane"], "planned");

    let d = ok(&env, &root, &["list-ready", "--mission", SLUG]);
    assert_eq!(keys(&d), keys(&reference("list-ready")["data"]));
    let ready: Vec<&str> = d["ready_work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["wp_id"].as_str().unwrap())
        .collect();
    assert_eq!(ready, ["WP01", "WP02"], "WP03 waits on WP01");
    assert_eq!(
        keys(&d["ready_work_packages"][0]),
        keys(&reference("list-ready")["data"]["ready_work_packages"][0])
    );
}

#[test]
fn policy_is_required_validated_and_nothing_is_recorded_on_refusal() {
    let env = TestEnv::new();
    let root = mission(&env);
    let before = events(&root).len();
    let start_with = |policy: Option<&str>| {
        let mut args = vec![
            "start-implementation",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--actor",
            "orch",
        ];
        if let Some(p) = policy {
            args.extend_from_slice(&["--policy", p]);
        }
        api(&env, &root, &args)
    };
    let v = start_with(None);
    assert_eq!(v["error_code"], "POLICY_METADATA_REQUIRED");
    assert_eq!(v["data"], reference("si-nopolicy")["data"]);

    let with = |k: &str, val: Value| {
        let mut p: Value = serde_json::from_str(POLICY).unwrap();
        p[k] = val;
        p.to_string()
    };
    let mut missing: Value = serde_json::from_str(POLICY).unwrap();
    missing
        .as_object_mut()
        .unwrap()
        .remove("orchestrator_version");
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "not valid JSON"),
        ("[1]".into(), "must be a JSON object"),
        (
            missing.to_string(),
            "missing required field: 'orchestrator_version'",
        ),
        (
            with("dangerous_flags", "--yolo".into()),
            "must be a JSON array",
        ),
        (
            with("orchestrator_id", "my-token".into()),
            "appears to contain a secret",
        ),
        (
            with("dangerous_flags", serde_json::json!(["--api-key=abc"])),
            "appears to contain a secret",
        ),
        (
            with("tool_restrictions", "PASSWORD=hunter2".into()),
            "appears to contain a secret",
        ),
        (
            with("approval_mode", "whatever".into()),
            "full_auto, interactive, supervised",
        ),
        (
            with("sandbox_mode", "all".into()),
            "workspace_write, read_only, none",
        ),
        (with("network_mode", 1.into()), "allowlist, none, open"),
        (with("agent_family", 7.into()), "must be a non-empty string"),
        (
            with("agent_family", "".into()),
            "must be a non-empty string",
        ),
        (
            with("dangerous_flags", serde_json::json!([1])),
            "array of strings",
        ),
        (
            with("orchestrator_id", "x".repeat(20_000).into()),
            "at most 16384",
        ),
    ];
    for (policy, needle) in cases {
        let v = start_with(Some(&policy));
        assert_eq!(v["error_code"], "POLICY_VALIDATION_FAILED", "{policy}: {v}");
        let msg = v["data"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
    // The reference's message for a secret, word for word.
    let v = start_with(Some(&with("orchestrator_id", "my-token".into())));
    assert_eq!(v["data"], reference("si-secret")["data"]);
    assert_eq!(events(&root).len(), before, "nothing recorded");

    // transition needs it for run-affecting lanes only.
    let v = api(
        &env,
        &root,
        &[
            "transition",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--to",
            "for_review",
            "--actor",
            "orch",
        ],
    );
    assert_eq!(v["error_code"], "POLICY_METADATA_REQUIRED");
    assert_eq!(v["data"], reference("tr-nopolicy")["data"]);
    let v = api(
        &env,
        &root,
        &[
            "transition",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--to",
            "for_review",
            "--actor",
            "orch",
            "--policy",
            POLICY,
            "--evidence-json",
            "[1]",
        ],
    );
    assert_eq!(v["error_code"], "USAGE_ERROR");
    assert_eq!(v["data"], reference("tr-badevidence")["data"]);
    let v = api(
        &env,
        &root,
        &[
            "transition",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--to",
            "nowhere",
            "--actor",
            "orch",
        ],
    );
    assert_eq!(v["error_code"], "USAGE_ERROR");
}

#[test]
fn start_implementation_hands_out_the_lane_worktree_and_records_the_policy() {
    let env = TestEnv::new();
    let root = mission(&env);
    let d = start(&env, &root, "WP01");
    assert_eq!(keys(&d), keys(&reference("si-ok")["data"]));
    assert_eq!(d["from_lane"], "planned");
    assert_eq!(d["to_lane"], "in_progress");
    assert_eq!(d["no_op"], false);
    assert_eq!(d["policy_metadata_recorded"], true);
    let ws = PathBuf::from(d["workspace_path"].as_str().unwrap());
    assert_eq!(ws, root.join(".worktrees/001-demo-lane-a"));
    assert_eq!(
        env.git(&ws, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "kitty/mission-001-demo-lane-a"
    );
    assert!(d["prompt_path"]
        .as_str()
        .unwrap()
        .ends_with("kitty-specs/001-demo/tasks/WP01-alpha.md"));
    let evs = wp_events(&root, "WP01");
    let claim: Vec<&Value> = evs.iter().filter(|e| e["to_lane"] != "planned").collect();
    assert_eq!(claim.len(), 2, "claimed, in_progress: {evs:?}");
    let policy: Value = serde_json::from_str(POLICY).unwrap();
    for e in &claim {
        assert_eq!(e["policy_metadata"], policy, "{e}");
        assert_eq!(e["actor"], "orch:claude:implementer");
    }

    // Idempotent for the same actor; refused for another.
    let again = start(&env, &root, "WP01");
    assert_eq!(again["no_op"], true);
    assert_eq!(again["from_lane"], "in_progress");
    assert_eq!(again["workspace_path"], d["workspace_path"]);
    assert_eq!(wp_events(&root, "WP01").len(), evs.len());
    let other = fails(
        &env,
        &root,
        &[
            "start-implementation",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--actor",
            "other",
            "--policy",
            POLICY,
        ],
        "WP_ALREADY_CLAIMED",
    );
    assert_eq!(keys(&other), keys(&reference("si-claimed")["data"]));
    assert_eq!(other["claimed_by"], "orch:claude:implementer");
    assert_eq!(other["requesting_actor"], "other:claude:implementer");

    // A WP whose dependency is not done is refused; an unknown one is not found.
    let d = fails(
        &env,
        &root,
        &[
            "start-implementation",
            "--mission",
            SLUG,
            "--wp",
            "WP03",
            "--actor",
            "orch",
            "--policy",
            POLICY,
        ],
        "TRANSITION_REJECTED",
    );
    assert!(d["message"].as_str().unwrap().contains("WP01"), "{d}");
    let d = fails(
        &env,
        &root,
        &[
            "start-implementation",
            "--mission",
            SLUG,
            "--wp",
            "WP09",
            "--actor",
            "orch",
            "--policy",
            POLICY,
        ],
        "WP_NOT_FOUND",
    );
    assert_eq!(d["message"], "Work package 'WP09' not found in 001-demo");
}

#[test]
fn the_dependent_wp_starts_on_its_dependency_work() {
    let env = TestEnv::new();
    let root = mission(&env);
    to_done(&env, &root, "WP01");
    let d = ok(&env, &root, &["list-ready", "--mission", SLUG]);
    let ready: Vec<&str> = d["ready_work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["wp_id"].as_str().unwrap())
        .collect();
    assert_eq!(ready, ["WP02", "WP03"]);
    let ws = PathBuf::from(
        start(&env, &root, "WP03")["workspace_path"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("src/wp01/impl.txt")).unwrap(),
        "WP01 work\n"
    );
}

#[test]
fn hand_in_needs_a_commit_on_the_lane_even_when_forced() {
    let env = TestEnv::new();
    let root = mission(&env);
    let ws = PathBuf::from(
        start(&env, &root, "WP01")["workspace_path"]
            .as_str()
            .unwrap(),
    );
    for extra in [
        vec!["--note", "done"],
        vec!["--force", "--note", "done"],
        vec![
            "--subtasks-complete",
            "--implementation-evidence-present",
            "--force",
            "--note",
            "x",
        ],
    ] {
        let v = transition(&env, &root, "WP01", "for_review", &extra);
        assert_eq!(v["error_code"], "TRANSITION_REJECTED", "{extra:?}: {v}");
        assert!(
            v["data"]["message"].as_str().unwrap().contains("no commit"),
            "{v}"
        );
    }
    commit_work(&env, &ws, "WP01");
    let v = transition(
        &env,
        &root,
        "WP01",
        "for_review",
        &["--no-subtasks-complete"],
    );
    assert_eq!(v["error_code"], "TRANSITION_REJECTED", "{v}");
    let v = transition(
        &env,
        &root,
        "WP01",
        "for_review",
        &[
            "--subtasks-complete",
            "--implementation-evidence-present",
            "--note",
            "built",
        ],
    );
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(keys(&v["data"]), keys(&reference("tr-forreview")["data"]));
    assert_eq!(v["data"]["from_lane"], "in_progress");
    assert_eq!(v["data"]["to_lane"], "for_review");
}

#[test]
fn done_needs_an_approval_by_someone_other_than_the_implementer() {
    let env = TestEnv::new();
    let root = mission(&env);
    let ws = PathBuf::from(
        start(&env, &root, "WP01")["workspace_path"]
            .as_str()
            .unwrap(),
    );
    // Not handed in: no done, forced or not.
    for extra in [
        vec!["--review-ref", "r"],
        vec!["--force", "--note", "skip it", "--review-ref", "r"],
    ] {
        let v = transition(&env, &root, "WP01", "done", &extra);
        assert_eq!(v["error_code"], "TRANSITION_REJECTED", "{v}");
        assert!(
            v["data"]["message"].as_str().unwrap().contains("approv"),
            "{v}"
        );
    }
    commit_work(&env, &ws, "WP01");
    assert_eq!(
        transition(&env, &root, "WP01", "for_review", &[])["success"],
        true
    );
    // No verdict: refused.
    let v = transition(&env, &root, "WP01", "done", &[]);
    assert_eq!(v["error_code"], "TRANSITION_REJECTED", "{v}");
    // The orchestrator's reviewer role approves what its implementer role built.
    let v = transition(
        &env,
        &root,
        "WP01",
        "done",
        &["--review-ref", "review-WP01-cycle1"],
    );
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["from_lane"], "for_review");
    assert_eq!(v["data"]["to_lane"], "done");
    let lanes: Vec<(String, String)> = wp_events(&root, "WP01")
        .iter()
        .map(|e| {
            (
                e["to_lane"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let tail: Vec<(&str, &str)> = lanes[lanes.len() - 3..]
        .iter()
        .map(|(l, a)| (l.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        tail,
        [
            ("in_review", "orch:claude:reviewer"),
            ("approved", "orch:claude:reviewer"),
            ("done", "orch:claude:reviewer")
        ]
    );
    let approved = wp_events(&root, "WP01")
        .into_iter()
        .find(|e| e["to_lane"] == "approved")
        .unwrap();
    assert_eq!(
        approved["evidence"]["review"]["reference"],
        "review-WP01-cycle1"
    );
    assert_eq!(approved["evidence"]["review"]["verdict"], "approved");

    // Without a policy the actor is itself: an agent cannot approve its own work.
    env.ok(
        &root,
        &[
            "agent",
            "action",
            "implement",
            "WP02",
            "--mission",
            SLUG,
            "--agent",
            "codex",
        ],
    );
    commit_work(&env, &root.join(".worktrees/001-demo-lane-b"), "WP02");
    env.ok(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "for_review",
            "--agent",
            "codex",
            "--mission",
            SLUG,
        ],
    );
    let v = api(
        &env,
        &root,
        &[
            "transition",
            "--mission",
            SLUG,
            "--wp",
            "WP02",
            "--to",
            "done",
            "--actor",
            "codex",
            "--review-ref",
            "mine",
        ],
    );
    assert_eq!(v["error_code"], "TRANSITION_REJECTED", "{v}");
    assert!(
        v["data"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot review"),
        "{v}"
    );
}

#[test]
fn start_review_and_sending_back() {
    let env = TestEnv::new();
    let root = mission(&env);
    let ws = PathBuf::from(
        start(&env, &root, "WP01")["workspace_path"]
            .as_str()
            .unwrap(),
    );
    commit_work(&env, &ws, "WP01");
    transition(&env, &root, "WP01", "for_review", &[]);
    let d = ok(
        &env,
        &root,
        &[
            "start-review",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--actor",
            "orch",
            "--policy",
            POLICY,
            "--review-ref",
            "fb-1",
        ],
    );
    assert_eq!(d, {
        let mut r = reference("sr-ok")["data"].clone();
        r["mission_slug"] = SLUG.into();
        r["mission_number"] = "001".into();
        r["wp_id"] = "WP01".into();
        r["prompt_path"] = d["prompt_path"].clone();
        r
    });
    let d = fails(
        &env,
        &root,
        &[
            "start-review",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--actor",
            "orch",
        ],
        "POLICY_METADATA_REQUIRED",
    );
    assert_eq!(d["message"], "--policy is required for start-review");
    // Rejected: back to the implementer, with the feedback.
    let v = transition(
        &env,
        &root,
        "WP01",
        "in_progress",
        &["--review-ref", "fb-1", "--note", "Review rejected"],
    );
    assert_eq!(v["success"], true, "{v}");
    let last = wp_events(&root, "WP01").pop().unwrap();
    assert_eq!(last["to_lane"], "in_progress");
    assert_eq!(last["review_ref"], "fb-1");
    // The implementer's next hand-in needs a new commit.
    let v = transition(&env, &root, "WP01", "for_review", &[]);
    assert_eq!(v["error_code"], "TRANSITION_REJECTED", "{v}");
}

#[test]
fn append_history_writes_the_activity_log() {
    let env = TestEnv::new();
    let root = mission(&env);
    let d = ok(
        &env,
        &root,
        &history_args("WP02", "orch", "Starting\u{1b}[31m implementation"),
    );
    assert_eq!(keys(&d), keys(&reference("ah-ok")["data"]));
    let id = d["history_entry_id"].as_str().unwrap();
    assert!(id.len() == 37 && id.starts_with("hist-"), "{id}");
    let text =
        std::fs::read_to_string(root.join("kitty-specs/001-demo/tasks/WP02-beta.md")).unwrap();
    assert!(
        text.contains("– orch – Starting [31m implementation"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "control characters are not written"
    );
    fails(
        &env,
        &root,
        &history_args("WP77", "orch", "x"),
        "WP_NOT_FOUND",
    );
}

#[test]
fn hostile_ids_and_actors_are_refused_before_any_path_is_built() {
    let env = TestEnv::new();
    let root = mission(&env);
    for m in ["../../etc", "/etc", "001-demo/../001-demo", "", "001"] {
        fails(
            &env,
            &root,
            &["mission-state", "--mission", m],
            "MISSION_NOT_FOUND",
        );
    }
    for wp in ["../WP01", "WP01/../../x", "wp01", "WP01-alpha"] {
        fails(&env, &root, &history_args(wp, "o", "x"), "WP_NOT_FOUND");
    }
    for actor in ["", "a\nb", &"x".repeat(300)] {
        fails(
            &env,
            &root,
            &history_args("WP01", actor, "x"),
            "USAGE_ERROR",
        );
    }
    // A note cannot forge lines of the activity log.
    let ws = PathBuf::from(
        start(&env, &root, "WP01")["workspace_path"]
            .as_str()
            .unwrap(),
    );
    commit_work(&env, &ws, "WP01");
    let v = transition(
        &env,
        &root,
        "WP01",
        "for_review",
        &["--note", "ok\n## Activity Log\n- forged"],
    );
    assert_eq!(v["success"], true, "{v}");
    let text =
        std::fs::read_to_string(root.join("kitty-specs/001-demo/tasks/WP01-alpha.md")).unwrap();
    assert!(!text.contains("\n- forged"), "{text}");
    assert!(text.contains("ok ## Activity Log - forged"), "{text}");
    let big = format!("{{\"k\":\"{}\"}}", "x".repeat(70_000));
    let v = transition(&env, &root, "WP01", "blocked", &["--evidence-json", &big]);
    assert_eq!(v["error_code"], "USAGE_ERROR", "{v}");
    // Outside any project.
    let bare = env.work.join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    fails(
        &env,
        &bare,
        &["list-ready", "--mission", SLUG],
        "MISSION_NOT_FOUND",
    );
}

#[test]
fn two_orchestrators_race_for_one_wp_and_one_wins() {
    let env = TestEnv::new();
    let root = mission(&env);
    let spawn = |actor: &str| {
        env.spawn(
            &root,
            &[
                "orchestrator-api",
                "start-implementation",
                "--mission",
                SLUG,
                "--wp",
                "WP01",
                "--actor",
                actor,
                "--policy",
                POLICY,
            ],
        )
    };
    let (a, b) = (spawn("one"), spawn("two"));
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let answers: Vec<Value> = outs
        .iter()
        .map(|o| serde_json::from_slice(&o.stdout).unwrap())
        .collect();
    let wins = answers.iter().filter(|v| v["success"] == true).count();
    assert_eq!(wins, 1, "{answers:?}");
    let loser = answers.iter().find(|v| v["success"] == false).unwrap();
    assert_eq!(loser["error_code"], "WP_ALREADY_CLAIMED", "{loser}");
    let claims = wp_events(&root, "WP01")
        .iter()
        .filter(|e| e["to_lane"] == "claimed")
        .count();
    assert_eq!(claims, 1);
}

#[test]
fn accept_and_merge_land_every_wp_once_and_leave_the_tree_clean() {
    let env = TestEnv::new();
    let root = mission(&env);
    let d = fails(
        &env,
        &root,
        &["accept-mission", "--mission", SLUG, "--actor", "orch"],
        "MISSION_NOT_READY",
    );
    assert_eq!(keys(&d), keys(&reference("accept-notready")["data"]));
    assert_eq!(
        d["incomplete_wps"],
        serde_json::json!(["WP01", "WP02", "WP03"])
    );
    let d = fails(
        &env,
        &root,
        &["merge-mission", "--mission", SLUG, "--strategy", "octopus"],
        "UNSUPPORTED_STRATEGY",
    );
    assert_eq!(d, reference("merge-badstrategy")["data"]);

    for wp in ["WP01", "WP02", "WP03"] {
        to_done(&env, &root, wp);
    }
    let d = fails(
        &env,
        &root,
        &["merge-mission", "--mission", SLUG, "--target", "elsewhere"],
        "PREFLIGHT_FAILED",
    );
    assert_eq!(keys(&d), keys(&reference("merge-preflight")["data"]));
    assert_eq!(d["target_branch"], "elsewhere");

    let d = ok(
        &env,
        &root,
        &["accept-mission", "--mission", SLUG, "--actor", "orch"],
    );
    assert_eq!(d["accepted"], true);
    assert_eq!(d["mode"], "auto");
    let d = ok(
        &env,
        &root,
        &[
            "merge-mission",
            "--mission",
            SLUG,
            "--target",
            "main",
            "--strategy",
            "merge",
        ],
    );
    assert_eq!(d["merged"], true);
    assert_eq!(d["target_branch"], "main");
    assert_eq!(d["merged_wps"], serde_json::json!(["WP01", "WP02", "WP03"]));
    assert_eq!(d["worktree_removed"], true);
    assert_landed_once(&env, &root);
}

#[test]
fn merge_mission_push_needs_origin_and_pushes_the_target() {
    let env = TestEnv::new();
    let root = mission(&env);
    for wp in ["WP01", "WP02", "WP03"] {
        to_done(&env, &root, wp);
    }
    ok(
        &env,
        &root,
        &["accept-mission", "--mission", SLUG, "--actor", "orch"],
    );
    let before = env.git(&root, &["rev-parse", "main"]);
    let d = fails(
        &env,
        &root,
        &["merge-mission", "--mission", SLUG, "--push"],
        "PREFLIGHT_FAILED",
    );
    assert!(d["errors"][0].as_str().unwrap().contains("origin"), "{d}");
    assert_eq!(
        env.git(&root, &["rev-parse", "main"]),
        before,
        "nothing merged"
    );

    let origin = env.work.join("origin.git");
    env.git(
        &env.work,
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    env.git(
        &root,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    let d = ok(&env, &root, &["merge-mission", "--mission", SLUG, "--push"]);
    assert_eq!(d["merged"], true);
    assert_eq!(
        env.git(&origin, &["rev-parse", "main"]),
        env.git(&root, &["rev-parse", "main"]),
        "origin/main is the merged main"
    );
    assert_landed_once(&env, &root);
}

/// Every WP's file on main, each WP's commit once in main's history, no lane
/// worktree left, `git status` clean, every WP done.
fn assert_landed_once(env: &TestEnv, root: &Path) {
    assert_eq!(
        env.git(root, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    for wp in ["WP01", "WP02", "WP03"] {
        let path = format!("src/{}/impl.txt", wp.to_lowercase());
        let text = env.git(root, &["show", &format!("main:{path}")]);
        assert!(text.starts_with(&format!("{wp} work")), "{path}: {text}");
        let log = env.git(root, &["log", "--format=%s", "main"]);
        let n = log.lines().filter(|l| *l == format!("{wp} work")).count();
        assert_eq!(n, 1, "{wp} lands once:\n{log}");
    }
    assert_eq!(
        env.git(root, &["status", "--porcelain"]).trim(),
        "",
        "clean tree"
    );
    assert!(!root.join(".worktrees/001-demo-lane-a").exists());
    assert!(!root.join(".worktrees/001-demo-lane-b").exists());
    let d = ok(env, root, &["mission-state", "--mission", SLUG]);
    for w in d["work_packages"].as_array().unwrap() {
        assert_eq!(w["lane"], "done", "{w}");
    }
}

/// The published orchestrator on PATH, if installed.
fn orchestrator_bin() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("spec-kitty-orchestrator"))
        .find(|p| p.is_file())
}

#[test]
#[ignore = "needs spec-kitty-orchestrator 0.1.2 from PyPI (.ci/run installs it)"]
fn the_published_orchestrator_drives_a_mission_to_done_on_this_binary() {
    let orch = orchestrator_bin()
        .expect("spec-kitty-orchestrator on PATH (pip install spec-kitty-orchestrator==0.1.2)");
    let env = TestEnv::new();
    let root = mission(&env);
    // Stub agents: `claude` builds (commits one file in its cwd, noting whether
    // the dependency's file is there), `codex` reviews and approves.
    let bin = env.tmp.path().join("agents");
    write(
        &bin.join("claude"),
        r#"#!/bin/sh
prompt=$(cat)
wp=$(printf '%s\n' "$prompt" | sed -n 's/^work_package_id: *//p' | head -n 1)
dir="src/$(printf '%s' "$wp" | tr 'A-Z' 'a-z')"
mkdir -p "$dir"
{ echo "$wp work"; [ -f src/wp01/impl.txt ] && echo "built on: src/wp01/impl.txt"; } > "$dir/impl.txt"
git add -A >/dev/null && git commit -qm "$wp work" >/dev/null || exit 1
echo "{\"type\":\"result\",\"result\":\"built $wp\",\"is_error\":false}"
"#,
    );
    write(
        &bin.join("codex"),
        "#!/bin/sh\ncat >/dev/null\necho '{\"type\":\"done\",\"message\":\"approved\"}'\n",
    );
    for f in ["claude", "codex"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join(f), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let sk = assert_cmd::cargo::cargo_bin("spec-kitty");
    let mut path = vec![bin.clone(), sk.parent().unwrap().to_path_buf()];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    let out = std::process::Command::new(&orch)
        .current_dir(&root)
        .env_clear()
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", &env.home)
        .env("GIT_CONFIG_GLOBAL", env.tmp.path().join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env("TMPDIR", env.tmp.path())
        .args([
            "orchestrate",
            "--mission",
            SLUG,
            "--impl-agent",
            "claude-code",
            "--review-agent",
            "codex",
            "--max-concurrent",
            "2",
        ])
        .output()
        .unwrap();
    let log = format!("stdout:\n{}\nstderr:\n{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}");
    assert!(
        stdout(&out).contains("Orchestration completed successfully"),
        "{log}"
    );

    let d = ok(&env, &root, &["mission-state", "--mission", SLUG]);
    for w in d["work_packages"].as_array().unwrap() {
        assert_eq!(w["lane"], "done", "{w}\n{log}");
    }
    // Implementer and reviewer are the orchestrator's two roles, policy recorded.
    let evs = events(&root);
    let policy: Value = serde_json::from_str(
        r#"{"orchestrator_id":"spec-kitty-orchestrator","orchestrator_version":"0.1.2","agent_family":"claude","approval_mode":"full_auto","sandbox_mode":"workspace_write","network_mode":"none","dangerous_flags":[],"tool_restrictions":null}"#,
    )
    .unwrap();
    for e in evs.iter().filter(|e| e["to_lane"] == "claimed") {
        assert_eq!(e["actor"], "spec-kitty-orchestrator:claude:implementer");
        assert_eq!(e["policy_metadata"], policy);
    }
    assert!(evs
        .iter()
        .any(|e| e["to_lane"] == "approved"
            && e["actor"] == "spec-kitty-orchestrator:claude:reviewer"));
    // The orchestrator's history notes reached the WP files.
    let wp1 =
        std::fs::read_to_string(root.join("kitty-specs/001-demo/tasks/WP01-alpha.md")).unwrap();
    assert!(wp1.contains("Review approved in cycle 1"), "{wp1}");

    ok(
        &env,
        &root,
        &[
            "accept-mission",
            "--mission",
            SLUG,
            "--actor",
            "spec-kitty-orchestrator",
        ],
    );
    let d = ok(
        &env,
        &root,
        &["merge-mission", "--mission", SLUG, "--target", "main"],
    );
    assert_eq!(d["merged_wps"], serde_json::json!(["WP01", "WP02", "WP03"]));
    assert_landed_once(&env, &root);
    // WP03 was built in a worktree that held WP01's work.
    let wp3 = env.git(&root, &["show", "main:src/wp03/impl.txt"]);
    assert!(wp3.contains("built on: src/wp01/impl.txt"), "{wp3}");
    let wp2 = env.git(&root, &["show", "main:src/wp02/impl.txt"]);
    assert!(
        !wp2.contains("built on"),
        "WP02 does not depend on WP01: {wp2}"
    );
}

/// `auto_commit: true` in the project's config, committed; the config's path.
fn enable_auto_commit(env: &TestEnv, root: &Path) -> PathBuf {
    let cfg = root.join(".kittify/config.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    write(&cfg, &format!("{text}  auto_commit: true\n"));
    env.git(root, &["add", "-A"]);
    env.git(root, &["commit", "-qm", "enable auto_commit"]);
    cfg
}

#[test]
fn auto_commit_and_the_merge_drivers_hold_for_orchestrator_api_writers() {
    let env = TestEnv::new();
    let root = mission(&env);
    enable_auto_commit(&env, &root);
    // A clone without the merge drivers (finalize-tasks registered them here).
    for name in [
        "spec-kitty-event-log",
        "spec-kitty-status-json",
        "spec-kitty-wp",
    ] {
        env.git(
            &root,
            &["config", "--remove-section", &format!("merge.{name}")],
        );
    }
    let (v, _, out) = call_raw(
        &env,
        &root,
        &[
            "orchestrator-api",
            "start-implementation",
            "--mission",
            SLUG,
            "--wp",
            "WP01",
            "--actor",
            "orch",
            "--policy",
            POLICY,
        ],
    );
    assert_eq!(v["success"], true, "{v}");
    assert!(
        stderr(&out).contains("auto_commit: committed"),
        "{}",
        stderr(&out)
    );
    let subject = env.git(&root, &["log", "-1", "--format=%s"]);
    assert_eq!(
        subject.trim(),
        "spec-kitty orchestrator-api start-implementation WP01 (001-demo)"
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain"]).trim(),
        "",
        "all committed"
    );
    // The clone's merge drivers were registered by the first writer.
    let cfg = env.git(&root, &["config", "--get-regexp", "^merge\\..*\\.driver$"]);
    assert!(cfg.contains("merge-driver-event-log"), "{cfg}");
    // A reader commits nothing.
    let before = env.git(&root, &["rev-parse", "HEAD"]);
    ok(&env, &root, &["mission-state", "--mission", SLUG]);
    assert_eq!(env.git(&root, &["rev-parse", "HEAD"]), before);
}

/// A writer whose auto_commit cannot commit answers with the failure (the
/// state change stands), and a corrupt config.yaml stops a writer before it
/// writes: the same operation the CLI's writers run.
#[test]
fn an_orchestrator_api_writer_reports_a_failed_auto_commit_and_a_corrupt_config_stops_it() {
    let env = TestEnv::new();
    let root = mission(&env);
    let cfg = enable_auto_commit(&env, &root);
    let history = |note: &str| {
        call_raw(
            &env,
            &root,
            &[
                &["orchestrator-api"][..],
                &history_args("WP02", "orch", note),
            ]
            .concat(),
        )
    };
    let wp02 = root.join("kitty-specs/001-demo/tasks/WP02-beta.md");

    // Another file staged: auto_commit refuses to commit over it.
    write(&root.join("README.md"), "staged by someone else\n");
    env.git(&root, &["add", "README.md"]);
    let head = env.git(&root, &["rev-parse", "HEAD"]);
    let (v, _, out) = history("first note");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["error_code"], "INTERNAL_ERROR", "{v}");
    let message = v["data"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "append-history was recorded, but auto_commit: nothing committed for 001-demo"
        ) && message.contains("README.md"),
        "{v}\n{}",
        stderr(&out)
    );
    assert_eq!(env.git(&root, &["rev-parse", "HEAD"]), head, "no commit");
    assert!(std::fs::read_to_string(&wp02)
        .unwrap()
        .contains("first note"));

    // A corrupt config.yaml: refused before anything is written.
    env.git(&root, &["reset", "-q", "README.md"]);
    write(&cfg, "auto_commit: [\n");
    let before = std::fs::read(&wp02).unwrap();
    let (v, _, _) = history("second note");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["error_code"], "PREFLIGHT_FAILED", "{v}");
    assert!(
        v["data"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("config.yaml"),
        "{v}"
    );
    assert_eq!(std::fs::read(&wp02).unwrap(), before, "nothing written");
}
