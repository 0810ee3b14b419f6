//! The part-2 command surface: `agent status ...`, `sync ...`, `ops ...`,
//! `mission-type ...`. JSON keys and exit codes are checked against the
//! reference 3.1.1 outputs in tests/fixtures/surface2 (see its README), on
//! the reference-made project and on a project made by our `init`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::reference::{self, has_reference_keys, keys, parse};
use crate::common::snap::{assert_out, assert_run};
use crate::common::{copy_dir, stderr, stdout, write, TestEnv};

const M: &str = "001-dogfood-track2";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface2")
}

fn reference_json(name: &str) -> Value {
    reference::json_in(&fixtures(), name)
}

fn reference_exit(name: &str) -> i32 {
    reference::exit_in(&fixtures(), name)
}

/// A git copy of the reference-made project.
fn reference_project(env: &TestEnv) -> PathBuf {
    reference::surface2_project(env)
}

// ---------------------------------------------------------------- agent status

#[test]
fn status_validate_and_materialize_answer_like_the_reference_on_its_project() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let v = env.json(
        &root,
        &["agent", "status", "validate", "--mission", M, "--json"],
    );
    let r = reference_json("agent-status-validate.json");
    assert_eq!(keys(&v), keys(&r));
    assert_eq!(v["passed"], r["passed"]);
    assert_eq!(v["error_count"], 0);
    assert_eq!(reference_exit("agent-status-validate.json"), 0);

    let v = env.json(
        &root,
        &["agent", "status", "materialize", "--mission", M, "--json"],
    );
    let r = reference_json("agent-status-materialize.json");
    assert_eq!(keys(&v), keys(&r));
    for k in [
        "event_count",
        "last_event_id",
        "work_packages",
        "summary",
        "mission_number",
        "mission_type",
    ] {
        assert_eq!(v[k], r[k], "{k}");
    }
    // Nothing changed: status.json already described the log.
    assert_eq!(env.git(&root, &["status", "--porcelain"]), "");
}

#[test]
fn status_human_output() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    assert_run!(
        env,
        &root,
        "validate_pass",
        ["agent", "status", "validate", "--mission", M]
    );
    assert_run!(
        env,
        &root,
        "materialize",
        ["agent", "status", "materialize", "--mission", M]
    );
    assert_run!(
        env,
        &root,
        "doctor_healthy",
        ["agent", "status", "doctor", "--mission", M]
    );
}

#[test]
fn status_emit_records_one_event_the_reference_reads() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let v = env.json(
        &root,
        &[
            "agent",
            "status",
            "emit",
            "WP02",
            "--to",
            "claimed",
            "--actor",
            "alice",
            "--mission",
            M,
            "--json",
        ],
    );
    let r = reference_json("agent-status-emit.json");
    assert_eq!(keys(&v), keys(&r));
    assert_eq!(
        (&v["from_lane"], &v["to_lane"]),
        (&r["from_lane"], &r["to_lane"])
    );
    // The line appended has the reference's fields.
    let log =
        fs::read_to_string(root.join("kitty-specs").join(M).join("status.events.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["event_id"], v["event_id"]);
    has_reference_keys(last, &lines[0], "appended event");
    assert_eq!(last["force"], false);
    // One transition, no chaining: claimed -> done is refused like the reference.
    let out = env.run(
        &root,
        &[
            "agent",
            "status",
            "emit",
            "WP02",
            "--to",
            "done",
            "--actor",
            "alice",
            "--mission",
            M,
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(reference_exit("agent-status-emit-illegal.json"))
    );
    has_reference_keys(
        &parse(&out),
        &reference_json("agent-status-emit-illegal.json"),
        "refusal",
    );
    assert!(parse(&out)["error"]
        .as_str()
        .unwrap()
        .contains("illegal transition claimed -> done"));
    // Unlike the reference, an unknown WP is refused.
    let out = env.run(
        &root,
        &[
            "agent",
            "status",
            "emit",
            "WP09",
            "--to",
            "claimed",
            "--actor",
            "alice",
            "--mission",
            M,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no work package WP09"),
        "{}",
        stderr(&out)
    );
    // The same lane again records nothing and says so.
    let out = env.run(
        &root,
        &[
            "agent",
            "status",
            "emit",
            "WP02",
            "--to",
            "claimed",
            "--actor",
            "alice",
            "--mission",
            M,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already claimed"), "{}", stderr(&out));
    // A forced move needs a reason (clap refuses) and records it.
    let out = env.run(
        &root,
        &[
            "agent",
            "status",
            "emit",
            "WP04",
            "--to",
            "done",
            "--actor",
            "a",
            "--mission",
            M,
            "--force",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    env.ok(
        &root,
        &[
            "agent",
            "status",
            "emit",
            "WP04",
            "--to",
            "done",
            "--actor",
            "a",
            "--mission",
            M,
            "--force",
            "--reason",
            "shipped elsewhere",
        ],
    );
    let v = env.json(
        &root,
        &["agent", "status", "validate", "--mission", M, "--json"],
    );
    assert_eq!(v["passed"], true, "{v}");
    let log =
        fs::read_to_string(root.join("kitty-specs").join(M).join("status.events.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 9);
}

#[test]
fn status_emit_evidence_json_must_be_an_object() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    for bad in ["not json", "[1,2]", "\"x\""] {
        let out = env.run(
            &root,
            &[
                "agent",
                "status",
                "emit",
                "WP01",
                "--to",
                "for_review",
                "--actor",
                "codex",
                "--mission",
                M,
                "--evidence-json",
                bad,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(stderr(&out).contains("--evidence-json"), "{}", stderr(&out));
    }
    // Hostile WP ids build no path and fail cleanly.
    for wp in ["../../etc/passwd", "WP01/../../x", "", "ÉP01"] {
        let out = env.run(
            &root,
            &[
                "agent",
                "status",
                "emit",
                wp,
                "--to",
                "claimed",
                "--actor",
                "a",
                "--mission",
                M,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{wp}: {}", stderr(&out));
    }
    let before =
        fs::read_to_string(root.join("kitty-specs").join(M).join("status.events.jsonl")).unwrap();
    assert_eq!(before.lines().count(), 7, "nothing was recorded");
}

#[test]
fn parallel_emits_all_land_in_the_log() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let kids: Vec<_> = ["WP02", "WP03", "WP04"]
        .iter()
        .map(|wp| {
            let to = if *wp == "WP03" { "canceled" } else { "claimed" };
            env.spawn(
                &root,
                &[
                    "agent",
                    "status",
                    "emit",
                    wp,
                    "--to",
                    to,
                    "--actor",
                    "p",
                    "--mission",
                    M,
                    "--json",
                ],
            )
        })
        .collect();
    for k in kids {
        let out = k.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let log =
        fs::read_to_string(root.join("kitty-specs").join(M).join("status.events.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 10);
    let v = env.json(
        &root,
        &["agent", "status", "validate", "--mission", M, "--json"],
    );
    assert_eq!(v["passed"], true, "{v}");
    let s = env.json(
        &root,
        &["agent", "status", "materialize", "--mission", M, "--json"],
    );
    assert_eq!(s["summary"]["claimed"], 2);
    assert_eq!(s["summary"]["canceled"], 1);
}

#[test]
fn status_validate_fails_on_drift_and_bad_events_with_the_reference_keys() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let dir = root.join("kitty-specs").join(M);
    let status = dir.join("status.json");
    let text = fs::read_to_string(&status)
        .unwrap()
        .replace("\"blocked\"", "\"done\"");
    fs::write(&status, text).unwrap();
    let mut log = fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    log.push_str("{\"event_id\": \"nope\", \"wp_id\": \"WP02\", \"from_lane\": \"planned\", \"to_lane\": \"done\", \"at\": \"2026-11-25T00:00:00+00:00\", \"actor\": \"x\", \"force\": false, \"execution_mode\": \"worktree\", \"mission_slug\": \"001-dogfood-track2\"}\n");
    fs::write(dir.join("status.events.jsonl"), log).unwrap();
    let out = env.run(
        &root,
        &["agent", "status", "validate", "--mission", M, "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = parse(&out);
    has_reference_keys(
        &v,
        &reference_json("agent-status-validate.json"),
        "failed validate",
    );
    assert_eq!(v["passed"], false);
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for want in [
        "Invalid event ID format: nope",
        "Event nope: illegal transition planned -> done",
        "Event nope: done without evidence (not forced)",
        "Materialization drift: WP03 lane=done in status.json but reducer says lane=blocked",
    ] {
        assert!(errors.contains(&want), "{want} not in {errors:?}");
    }
    let out = assert_run!(
        env,
        &root,
        "validate_fail",
        ["agent", "status", "validate", "--mission", M]
    );
    assert_eq!(out.status.code(), Some(1));
    // doctor reports the drift and exits 1; materialize mends it.
    let out = env.run(
        &root,
        &["agent", "status", "doctor", "--mission", M, "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let d = parse(&out);
    has_reference_keys(&d, &reference_json("agent-status-doctor.json"), "doctor");
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["category"] == "materialization_drift"));
}

#[test]
fn status_doctor_reports_stale_work_with_the_reference_keys() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let v = env.json(
        &root,
        &["agent", "status", "doctor", "--mission", M, "--json"],
    );
    let r = reference_json("agent-status-doctor.json");
    assert_eq!(keys(&v), keys(&r));
    for (ours, theirs) in v["global_runtime"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["global_runtime"].as_array().unwrap())
    {
        assert_eq!(keys(ours), keys(theirs));
    }
    assert_eq!(v["healthy"], true);
    // WP01 went in_progress on 2026-11-24: stale with a zero-day threshold.
    let out = env.run(
        &root,
        &[
            "agent",
            "status",
            "doctor",
            "--mission",
            M,
            "--stale-in-progress-days",
            "0",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let d = parse(&out);
    let f = &d["findings"][0];
    assert_eq!(f["category"], "stale_claim");
    assert_eq!(f["wp_id"], "WP01");
    assert_eq!(
        keys(f),
        [
            "category",
            "message",
            "recommended_action",
            "severity",
            "wp_id"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    assert!(
        env.home_files().is_empty(),
        "doctor wrote into HOME: {:?}",
        env.home_files()
    );
}

#[test]
fn status_migrate_and_reconcile_work_on_frontmatter_lanes() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "old");
    write(
        &m.dir.join("tasks/WP01-a.md"),
        "---\nwork_package_id: WP01\ntitle: A\nlane: doing\n---\n# WP01\n",
    );
    write(
        &m.dir.join("tasks/WP02-b.md"),
        "---\nwork_package_id: WP02\ntitle: B\n---\n# WP02\n",
    );
    let log = m.dir.join("status.events.jsonl");
    let before = fs::read(&log).unwrap_or_default();
    let v = env.json(
        &root,
        &[
            "agent",
            "status",
            "migrate",
            "--mission",
            &m.slug,
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(fs::read(&log).unwrap_or_default(), before, "dry run wrote");
    assert_eq!(v["features"][0]["status"], "migrated");
    let v = env.json(
        &root,
        &["agent", "status", "migrate", "--mission", &m.slug, "--json"],
    );
    let wp1 = &v["features"][0]["wp_details"][0];
    assert_eq!(
        (
            wp1["wp_id"].as_str(),
            wp1["original_lane"].as_str(),
            wp1["canonical_lane"].as_str()
        ),
        (Some("WP01"), Some("doing"), Some("in_progress"))
    );
    assert_eq!(wp1["alias_resolved"], true);
    assert_eq!(v["summary"]["total_migrated"], 1);
    let s = env.json(
        &root,
        &[
            "agent",
            "status",
            "materialize",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(s["work_packages"]["WP01"]["lane"], "in_progress");
    assert_eq!(s["work_packages"]["WP02"]["lane"], "planned");
    // Again: the log knows them now.
    let v = env.json(
        &root,
        &["agent", "status", "migrate", "--mission", &m.slug, "--json"],
    );
    assert_eq!(v["features"][0]["status"], "skipped");
    let v = env.json(
        &root,
        &[
            "agent",
            "status",
            "validate",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(v["passed"], true, "{v}");

    // reconcile: WP01's frontmatter says doing, the log now says in_progress
    // (an alias: agrees); make WP02's disagree.
    let wp2 = m.dir.join("tasks/WP02-b.md");
    fs::write(
        &wp2,
        "---\nwork_package_id: WP02\ntitle: B # keep\nlane: done\n---\n# WP02\n",
    )
    .unwrap();
    let v = env.json(
        &root,
        &[
            "agent",
            "status",
            "reconcile",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["drift"].as_array().unwrap().len(), 1);
    assert_eq!(v["drift"][0]["log_lane"], "planned");
    assert!(fs::read_to_string(&wp2).unwrap().contains("lane: done"));
    env.ok(
        &root,
        &[
            "agent",
            "status",
            "reconcile",
            "--mission",
            &m.slug,
            "--apply",
        ],
    );
    let text = fs::read_to_string(&wp2).unwrap();
    assert!(
        text.contains("lane: planned") && text.contains("# keep"),
        "{text}"
    );
    // --target-repo is refused with a reason, never ignored.
    let out = env.run(
        &root,
        &[
            "agent",
            "status",
            "reconcile",
            "--mission",
            &m.slug,
            "-t",
            "/tmp",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--target-repo"));
    // The reference's answer to both is an exit-1 removal notice.
    assert_eq!(reference_exit("agent-status-migrate.json"), 1);
    assert_eq!(reference_exit("agent-status-reconcile.json"), 1);
}

#[test]
fn status_migrate_refuses_an_unknown_frontmatter_lane_and_writes_nothing() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "old");
    write(
        &m.dir.join("tasks/WP01-a.md"),
        "---\nwork_package_id: WP01\ntitle: A\nlane: \"../../x\"\n---\n",
    );
    let log = m.dir.join("status.events.jsonl");
    let before = fs::read(&log).unwrap_or_default();
    let out = env.run(
        &root,
        &["agent", "status", "migrate", "--mission", &m.slug, "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(parse(&out)["features"][0]["status"], "failed");
    assert_eq!(fs::read(&log).unwrap_or_default(), before);
}

// ---------------------------------------------------------------------- sync

#[test]
fn sync_flag_off_answers_like_the_reference_and_writes_nothing() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let v = env.json(&root, &["sync", "diagnose", "--json"]);
    assert_eq!(v, reference_json("sync-diagnose.json"));
    for (name, args) in [
        ("sync_status", vec!["sync", "status"]),
        ("sync_status_check", vec!["sync", "status", "--check"]),
        ("sync_now", vec!["sync", "now"]),
        ("sync_doctor", vec!["sync", "doctor"]),
        ("sync_diagnose", vec!["sync", "diagnose"]),
        ("sync_server", vec!["sync", "server"]),
    ] {
        let out = assert_run!(env, &root, name, args);
        assert_eq!(out.status.code(), Some(0), "{name}");
    }
    for f in [
        "sync-status.txt",
        "sync-now.txt",
        "sync-doctor.txt",
        "sync-diagnose.txt",
        "sync-server.txt",
    ] {
        assert_eq!(reference_exit(f), 0, "{f}");
    }
    // The lines the reference prints with the flag off, word for word (its
    // terminal wrapping aside).
    let now = env.ok(&root, &["sync", "now"]);
    let reference = fs::read_to_string(fixtures().join("sync-now.txt"))
        .unwrap()
        .replace(" \n", " ");
    assert_eq!(now, reference);
    let status = env.ok(&root, &["sync", "status"]);
    for line in [
        "SaaS Sync    Disabled (SPEC_KITTY_ENABLE_SAAS_SYNC=1)",
        "Auth         Disabled by feature flag",
        "Server URL   https://spec-kitty-dev.fly.dev",
    ] {
        assert!(fs::read_to_string(fixtures().join("sync-status.txt"))
            .unwrap()
            .contains(line));
        assert!(status.contains(line), "{line}");
    }
    assert!(env.home_files().is_empty(), "{:?}", env.home_files());
}

#[test]
fn sync_with_the_flag_refuses_what_needs_the_hosted_service() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let on = |args: &[&str]| {
        let mut c = env.sk(&root, args);
        c.env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1");
        c.output().unwrap()
    };
    for args in [
        &["sync", "now"][..],
        &["sync", "status", "--check"],
        &["sync", "doctor"],
    ] {
        let out = on(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("syncs teams through git"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = on(&["sync", "now"]);
    assert_out!(env, "sync_now_flag_on", ["sync", "now"], &out);
    // Local-only steps still work.
    let out = on(&["sync", "status"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("SaaS Sync    Enabled"));
    assert!(stdout(&out).contains("Auth         Not authenticated"));
    assert!(on(&["sync", "diagnose"]).status.success());
    assert!(on(&["sync", "server"]).status.success());
    assert!(env.home_files().is_empty(), "{:?}", env.home_files());
}

#[test]
fn sync_server_sets_the_url_auth_reads() {
    let env = TestEnv::new();
    let root = env.project("p");
    let out = env.run(&root, &["sync", "server", "http://plain.example"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(env.home_files().is_empty());
    env.ok(&root, &["sync", "server", "https://sync.example/"]);
    let cfg = fs::read_to_string(env.home.join(".spec-kitty/config.toml")).unwrap();
    assert!(
        cfg.contains("server_url = \"https://sync.example\""),
        "{cfg}"
    );
    let shown = env.ok(&root, &["sync", "server"]);
    assert!(
        shown.contains("Server URL: https://sync.example"),
        "{shown}"
    );
    // Another key of the file survives.
    fs::write(
        env.home.join(".spec-kitty/config.toml"),
        "[sync]\nserver_url = \"https://a.example\"\nmax_queue_size = 5\n",
    )
    .unwrap();
    env.ok(&root, &["sync", "server", "https://b.example"]);
    let cfg = fs::read_to_string(env.home.join(".spec-kitty/config.toml")).unwrap();
    assert!(
        cfg.contains("max_queue_size = 5") && cfg.contains("https://b.example"),
        "{cfg}"
    );
}

/// A finalized three-WP mission with WP02's lane worktree; returns (root, mission slug, worktree).
fn lane_workspace(env: &TestEnv) -> (PathBuf, String, PathBuf) {
    let (root, m) = env.three_wp_mission();
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let flow = crate::common::flow::Flow::new(env, &root, &m.slug);
    env.ok(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "done",
            "--force",
            "--reason",
            "test",
            "--mission",
            &m.slug,
        ],
    );
    let v = flow.implement("WP02", "codex");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    (root, m.slug, wt)
}

#[test]
fn sync_workspace_merges_the_target_into_the_lane_and_never_touches_uncommitted_work() {
    let env = TestEnv::new();
    let (root, _slug, wt) = lane_workspace(&env);
    let out = env.run(&wt, &["sync", "workspace", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(parse(&out)["result"], "up_to_date");
    // main moves on; the lane has its own commit too.
    write(&root.join("docs/new.md"), "from main\n");
    env.git(&root, &["add", "docs/new.md"]);
    env.git(&root, &["commit", "-qm", "main moves on"]);
    write(&wt.join("src/core/lib.rs"), "// lane work\n");
    env.git(&wt, &["add", "-A"]);
    env.git(&wt, &["commit", "-qm", "lane work"]);
    // Uncommitted work: refused, nothing changes.
    write(&wt.join("src/core/wip.rs"), "// not committed\n");
    let head = env.git(&wt, &["rev-parse", "HEAD"]);
    let out = env.run(&wt, &["sync", "workspace"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("uncommitted"), "{}", stderr(&out));
    assert_eq!(env.git(&wt, &["rev-parse", "HEAD"]), head);
    fs::remove_file(wt.join("src/core/wip.rs")).unwrap();
    let out = env.run(&wt, &["sync", "workspace", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = parse(&out);
    assert_eq!(v["result"], "merged");
    assert_eq!(v["commits_integrated"].as_array().unwrap().len(), 1);
    assert_eq!(
        fs::read_to_string(wt.join("docs/new.md")).unwrap(),
        "from main\n"
    );
    assert_eq!(
        fs::read_to_string(wt.join("src/core/lib.rs")).unwrap(),
        "// lane work\n"
    );
    assert_eq!(env.git(&wt, &["status", "--porcelain"]), "");
    let parents = env.git(&wt, &["log", "-1", "--format=%P"]);
    assert_eq!(parents.split_whitespace().count(), 2);
    // Committed as git's own identity (GIT_CONFIG_GLOBAL here), as every
    // other commit spec-kitty makes.
    assert_eq!(
        env.git(&wt, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"])
            .trim(),
        "Test Operator <test@example.com>|Test Operator <test@example.com>"
    );
    // Nothing left to repair.
    let out = env.run(&wt, &["sync", "workspace", "--repair", "--json"]);
    assert_eq!(parse(&out)["result"], "nothing_to_repair");
}

/// [`lane_workspace`] where main and the lane each committed their own
/// README.md, so merging one into the other conflicts; returns (root, worktree).
fn readme_conflict(env: &TestEnv) -> (PathBuf, PathBuf) {
    let (root, _slug, wt) = lane_workspace(env);
    write(&root.join("README.md"), "main's readme\n");
    env.git(&root, &["commit", "-qam", "main readme"]);
    write(&wt.join("README.md"), "lane's readme\n");
    env.git(&wt, &["commit", "-qam", "lane readme"]);
    (root, wt)
}

#[test]
fn sync_workspace_conflict_changes_nothing_and_names_the_files() {
    let env = TestEnv::new();
    let (root, wt) = readme_conflict(&env);
    let head = env.git(&wt, &["rev-parse", "HEAD"]);
    let out = env.run(&wt, &["sync", "workspace", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = parse(&out);
    assert_eq!(v["conflicts"], serde_json::json!(["README.md"]));
    assert_eq!(env.git(&wt, &["rev-parse", "HEAD"]), head);
    assert_eq!(env.git(&wt, &["status", "--porcelain"]), "");
    assert_eq!(
        fs::read_to_string(wt.join("README.md")).unwrap(),
        "lane's readme\n"
    );
    // Outside a lane worktree: the reference's refusal, exit 1.
    let out = env.run(&root, &["sync", "workspace"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Not in a recognized workspace"));
}

/// `sync workspace --repair` runs `git merge --abort` as every git step runs:
/// with a timeout. A git that never finishes (a shim first on PATH standing
/// in for a hook or editor that waits) ends in a clear error, nothing
/// changed; with the real git the repair aborts the merge.
#[test]
fn sync_workspace_repair_stops_a_hung_git_and_then_repairs() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let (_root, wt) = readme_conflict(&env);
    let merge = std::process::Command::new("git")
        .args(["merge", "-q", "main"])
        .current_dir(&wt)
        .env("HOME", &env.home)
        .env("GIT_CONFIG_GLOBAL", &env.gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge was meant to conflict");
    let git_dir = PathBuf::from(env.git(&wt, &["rev-parse", "--absolute-git-dir"]).trim());
    assert!(git_dir.join("MERGE_HEAD").is_file());

    let path = std::env::var_os("PATH").unwrap_or_default();
    let real_git = std::env::split_paths(&path)
        .map(|d| d.join("git"))
        .find(|g| g.is_file())
        .expect("git on PATH");
    let shims = env.tmp.path().join("shims");
    fs::create_dir_all(&shims).unwrap();
    let shim = shims.join("git");
    fs::write(
        &shim,
        format!(
            "#!/bin/sh\nif [ \"$1 $2\" = \"merge --abort\" ]; then exec tail -f /dev/null; fi\nexec '{}' \"$@\"\n",
            real_git.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
    let mut shim_path = vec![shims.clone()];
    shim_path.extend(std::env::split_paths(&path));
    let out = env
        .sk(&wt, &["sync", "workspace", "--repair"])
        .env("PATH", std::env::join_paths(shim_path).unwrap())
        .env("SPEC_KITTY_TEST_GIT_LOCAL_TIMEOUT_MS", "300")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`git merge --abort` did not finish within") && err.contains("was stopped"),
        "{err}"
    );
    assert!(err.contains("git status"), "{err}");
    assert!(git_dir.join("MERGE_HEAD").is_file(), "nothing was aborted");

    let out = env.run(&wt, &["sync", "workspace", "--repair", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(parse(&out)["result"], "repaired");
    assert!(!git_dir.join("MERGE_HEAD").exists());
    assert_eq!(
        fs::read_to_string(wt.join("README.md")).unwrap(),
        "lane's readme\n"
    );
}

// ------------------------------------------------------------------------ ops

#[test]
fn ops_undo_takes_back_only_spec_kittys_own_last_commit() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    // A commit a person made: refused.
    let out = env.run(&root, &["ops", "undo"]);
    assert_eq!(out.status.code(), Some(reference_exit("ops-undo.txt")));
    assert!(
        stderr(&out).contains("not made by spec-kitty"),
        "{}",
        stderr(&out)
    );
    env.ok(&root, &["agent", "mission", "record", "--mission", &m.slug]);
    let recorded = env.git(&root, &["rev-parse", "HEAD"]);
    let log = env.json(&root, &["ops", "log", "-n", "2", "--json"]);
    assert_eq!(log["operations"][0]["by_spec_kitty"], true);
    assert_eq!(log["operations"][1]["by_spec_kitty"], false);
    // Staged work would be dropped from the index: refused.
    write(&root.join("notes.txt"), "mine\n");
    env.git(&root, &["add", "notes.txt"]);
    let out = env.run(&root, &["ops", "undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("staged"), "{}", stderr(&out));
    env.git(&root, &["reset", "-q", "notes.txt"]);
    let spec = fs::read_to_string(m.dir.join("spec.md")).unwrap();
    let v = env.json(&root, &["ops", "undo", "--json"]);
    assert_eq!(v["undone_commit"].as_str().unwrap(), recorded.trim());
    assert_eq!(
        env.git(&root, &["rev-parse", "HEAD"]).trim(),
        v["restored_commit"].as_str().unwrap()
    );
    // Nothing lost: the files are there, uncommitted.
    assert_eq!(fs::read_to_string(m.dir.join("spec.md")).unwrap(), spec);
    assert!(env
        .git(&root, &["status", "--porcelain"])
        .contains("kitty-specs/"));
    // Never two in a row.
    let out = assert_run!(env, &root, "ops_undo_twice", ["ops", "undo"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn ops_undo_refuses_a_pushed_commit() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    env.ok(&root, &["agent", "mission", "record", "--mission", &m.slug]);
    env.add_bare_origin(&root, "remote.git");
    let branch = env.git(&root, &["symbolic-ref", "--short", "HEAD"]);
    env.git(&root, &["push", "-q", "-u", "origin", branch.trim()]);
    let head = env.git(&root, &["rev-parse", "HEAD"]);
    let out = env.run(&root, &["ops", "undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pushed"), "{}", stderr(&out));
    assert_eq!(env.git(&root, &["rev-parse", "HEAD"]), head);
}

#[test]
fn ops_log_human() {
    let env = TestEnv::new();
    let root = env.project("p");
    let out = env.run(&root, &["ops", "log", "--limit", "1"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("Operation History (git reflog)"));
    assert!(stdout(&out).contains("commit (initial): initial"));
}

// ---------------------------------------------------------------- mission-type

#[test]
fn mission_type_group_answers_like_mission_and_switch_is_refused() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    assert_eq!(
        env.ok(&root, &["mission-type", "list"]),
        env.ok(&root, &["mission", "list"])
    );
    let v = env.json(
        &root,
        &["mission-type", "current", "--mission", M, "--json"],
    );
    assert_eq!(v["mission_type"]["key"], "software-dev");
    let v = env.json(&root, &["mission-type", "info", "research", "--json"]);
    assert_eq!(v["key"], "research");
    let out = assert_run!(
        env,
        &root,
        "mission_type_switch",
        ["mission-type", "switch", "research"]
    );
    assert_eq!(
        out.status.code(),
        Some(reference_exit("mission-type-switch.txt"))
    );
    for cmd in ["mission-type", "sync", "ops"] {
        env.ok(&root, &[cmd, "--help"]);
    }
    for sub in [
        "emit",
        "materialize",
        "doctor",
        "validate",
        "migrate",
        "reconcile",
    ] {
        env.ok(&root, &["agent", "status", sub, "--help"]);
    }
}

// ------------------------------------------------------------------- glossary

/// The reference project with the hand-written glossary seeds and log.
fn glossary_project(env: &TestEnv) -> PathBuf {
    let root = reference_project(env);
    copy_dir(
        &fixtures().join("glossary-input/.kittify"),
        &root.join(".kittify"),
    );
    root
}

#[test]
fn glossary_list_and_conflicts_read_the_same_as_the_reference() {
    let env = TestEnv::new();
    let root = glossary_project(&env);
    for (name, args) in [
        ("glossary-list.json", vec!["glossary", "list", "--json"]),
        (
            "glossary-list-team.json",
            vec![
                "glossary",
                "list",
                "--scope",
                "team_domain",
                "--status",
                "active",
                "--json",
            ],
        ),
        (
            "glossary-conflicts.json",
            vec!["glossary", "conflicts", "--json"],
        ),
        (
            "glossary-conflicts-unresolved-medium.json",
            vec![
                "glossary",
                "conflicts",
                "--unresolved",
                "--strictness",
                "medium",
                "--json",
            ],
        ),
    ] {
        assert_eq!(env.json(&root, &args), reference_json(name), "{name}");
        assert_eq!(reference_exit(name), 0);
    }
    let out = env.run(&root, &["glossary", "list", "--scope", "nowhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Invalid scope 'nowhere'"),
        "{}",
        stderr(&out)
    );
    assert_run!(env, &root, "glossary_conflicts", ["glossary", "conflicts"]);
    assert_run!(env, &root, "glossary_list", ["glossary", "list"]);
}

#[test]
fn glossary_resolve_writes_what_the_reference_writes_and_both_read_it() {
    let env = TestEnv::new();
    let root = glossary_project(&env);
    let cid = "6f1c2d3e-0000-4000-8000-000000000001";
    // Nobody at a terminal and no choice given: refused, nothing written.
    let log = root.join(".kittify/events/glossary/001-dogfood-track2.events.jsonl");
    let before = fs::read_to_string(&log).unwrap();
    let out = env.run(&root, &["glossary", "resolve", cid]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&log).unwrap(), before);
    let out = env.run(
        &root,
        &["glossary", "resolve", "no-such-id", "--select", "1"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = env.json(
        &root,
        &["glossary", "resolve", cid, "--select", "1", "--json"],
    );
    assert_eq!(v["events_written"], 1);
    // The same conflicts and terms as the reference after its own resolve.
    assert_eq!(
        env.json(&root, &["glossary", "conflicts", "--json"]),
        reference_json("glossary-conflicts-after-resolve.json")
    );
    assert_eq!(
        env.json(&root, &["glossary", "list", "--json"]),
        reference_json("glossary-list-after-resolve.json")
    );
    // Our line has the reference's keys and format (sorted keys, Python separators).
    let ours: Vec<&str> = fs::read_to_string(&log).unwrap().leak().lines().collect();
    let theirs = fs::read_to_string(fixtures().join("glossary-log-after-resolve.jsonl")).unwrap();
    let theirs_last = theirs.lines().last().unwrap();
    let (o, t): (Value, Value) = (
        serde_json::from_str(ours.last().unwrap()).unwrap(),
        serde_json::from_str(theirs_last).unwrap(),
    );
    assert_eq!(keys(&o), keys(&t));
    let strip_ts = |s: &str| s.split(", \"timestamp\"").next().unwrap().to_string();
    assert_eq!(strip_ts(ours.last().unwrap()), strip_ts(theirs_last));
    // Again: refused without --again.
    let out = env.run(&root, &["glossary", "resolve", cid, "--select", "1"]);
    assert_eq!(out.status.code(), Some(1));
    // A custom definition adds a team_domain sense.
    env.ok(
        &root,
        &[
            "glossary",
            "resolve",
            "6f1c2d3e-0000-4000-8000-000000000002",
            "--custom",
            "a run of an agent",
        ],
    );
    let terms = env.json(&root, &["glossary", "list", "--json"]);
    assert!(terms
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["surface"] == "session"
            && t["definition"] == "a run of an agent"
            && t["status"] == "active"));
    let c = env.json(&root, &["glossary", "conflicts", "--unresolved", "--json"]);
    assert_eq!(c, serde_json::json!([]));
}

#[test]
fn glossary_refuses_hostile_input_cleanly() {
    let env = TestEnv::new();
    let root = glossary_project(&env);
    // A mission id that would climb out of the log directory is flattened.
    env.ok(
        &root,
        &[
            "glossary",
            "resolve",
            "6f1c2d3e-0000-4000-8000-000000000001",
            "--select",
            "2",
            "--mission",
            "../../../outside",
        ],
    );
    assert!(root
        .join(".kittify/events/glossary/..-..-..-outside.events.jsonl")
        .is_file());
    assert!(!env.work.join("outside.events.jsonl").exists());
    // Out-of-range and zero selections.
    for n in ["0", "9"] {
        let out = env.run(
            &root,
            &[
                "glossary",
                "resolve",
                "6f1c2d3e-0000-4000-8000-000000000002",
                "--select",
                n,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{n}");
    }
    // A seed that is not a glossary names the file.
    fs::write(
        root.join(".kittify/glossaries/team_domain.yaml"),
        "terms: 5\n",
    )
    .unwrap();
    let out = env.run(&root, &["glossary", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("team_domain.yaml"),
        "{}",
        stderr(&out)
    );
    let deep = format!("terms:\n  - {}", "[".repeat(200));
    fs::write(root.join(".kittify/glossaries/team_domain.yaml"), deep).unwrap();
    assert_eq!(env.run(&root, &["glossary", "list"]).status.code(), Some(1));
}

// ------------------------------------------------------------------- doctrine

fn doctrine_project(env: &TestEnv) -> PathBuf {
    let root = reference_project(env);
    write(
        &root.join(".kittify/doctrine/directives/_proposed/007-trade-off-assessment-protocol.directive.yaml"),
        "id: DIRECTIVE_007\ntitle: Trade-off assessment\nintent: Weigh options before choosing.\n",
    );
    write(
        &root.join(".kittify/doctrine/tactics/_proposed/sub/premortem.tactic.yaml"),
        "id: premortem\nname: Premortem\nsteps: [a, b]\n",
    );
    write(
        &root.join(".kittify/doctrine/tactics/shipped/easy.tactic.yaml"),
        "id: easy\n",
    );
    root
}

#[test]
fn doctrine_status_promote_and_reset_share_the_reference_session_file() {
    let env = TestEnv::new();
    let root = doctrine_project(&env);
    let v = env.json(&root, &["doctrine", "status", "--json"]);
    assert_eq!(
        v["counts"]["directives"],
        serde_json::json!({"proposed": 1, "shipped": 0})
    );
    assert_eq!(
        v["counts"]["tactics"],
        serde_json::json!({"proposed": 1, "shipped": 1})
    );
    assert_eq!(v["session"], Value::Null);
    // The reference's session (made by its curate: one skipped, nine pending).
    let state = root.join(".kittify/curation/state.json");
    write(
        &state,
        &fs::read_to_string(fixtures().join("doctrine-state.json")).unwrap(),
    );
    let v = env.json(&root, &["doctrine", "status", "--json"]);
    assert_eq!(v["session"]["skipped"], 1);
    assert_eq!(v["session"]["pending"], 9);
    assert_eq!(v["session"]["progress_percent"], 10.0);
    assert_run!(env, &root, "doctrine_status", ["doctrine", "status"]);
    // promote moves the file and records the verdict in the same session.
    let p = env.json(
        &root,
        &[
            "doctrine",
            "promote",
            "DIRECTIVE_007",
            "--type",
            "directives",
            "--json",
        ],
    );
    assert_eq!(p["session_updated"], true);
    assert!(root
        .join(
            ".kittify/doctrine/directives/shipped/007-trade-off-assessment-protocol.directive.yaml"
        )
        .is_file());
    assert!(!root.join(".kittify/doctrine/directives/_proposed/007-trade-off-assessment-protocol.directive.yaml").exists());
    let reference = reference_json("doctrine-state.json");
    let ours: Value = serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    let d = &ours["decisions"]["directives:DIRECTIVE_007"];
    assert_eq!(
        keys(d),
        keys(&reference["decisions"]["directives:DIRECTIVE_007"])
    );
    assert_eq!(d["verdict"], "accepted");
    assert_eq!(keys(&ours), keys(&reference));
    assert_eq!(ours["decisions"].as_object().unwrap().len(), 10);
    assert_eq!(ours["started_at"], reference["started_at"]);
    // Subdirectories are kept.
    env.ok(
        &root,
        &["doctrine", "promote", "premortem", "-t", "tactics"],
    );
    assert!(root
        .join(".kittify/doctrine/tactics/shipped/sub/premortem.tactic.yaml")
        .is_file());
    // Missing: the reference's exit 1.
    let out = env.run(
        &root,
        &["doctrine", "promote", "nope", "--type", "directives"],
    );
    assert_eq!(
        out.status.code(),
        Some(reference_exit("doctrine-promote-missing.txt"))
    );
    let out = env.run(&root, &["doctrine", "promote", "x", "--type", "../../etc"]);
    assert_eq!(out.status.code(), Some(1));
    // reset asks; with nobody at a terminal it needs --yes.
    let out = env.run(&root, &["doctrine", "reset"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(state.is_file());
    env.ok(&root, &["doctrine", "reset", "--yes"]);
    assert!(!state.exists());
    let out = env.ok(&root, &["doctrine", "reset"]);
    assert_eq!(
        out,
        fs::read_to_string(fixtures().join("doctrine-reset.txt")).unwrap()
    );
    // curate is an interview: refused without a terminal, nothing written.
    let out = env.run(&root, &["doctrine", "curate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!state.exists());
}

#[cfg(unix)]
#[test]
fn doctrine_promote_never_writes_through_a_link_out_of_the_project() {
    let env = TestEnv::new();
    let root = doctrine_project(&env);
    let outside = env.work.join("outside");
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join(".kittify/doctrine/directives/shipped"))
        .unwrap();
    let out = env.run(
        &root,
        &[
            "doctrine",
            "promote",
            "DIRECTIVE_007",
            "--type",
            "directives",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("outside the project"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    assert!(root.join(".kittify/doctrine/directives/_proposed/007-trade-off-assessment-protocol.directive.yaml").is_file());
}

// ------------------------------------------------- a project made by our init

#[test]
fn every_group_works_on_a_project_made_by_init() {
    let env = TestEnv::new();
    let root = env.work.join("fresh");
    fs::create_dir_all(&root).unwrap();
    env.git(&root, &["init", "-q"]);
    env.ok(&root, &["init", ".", "--ai", "codex", "--non-interactive"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "init"]);
    let m = env.create_mission(&root, "demo");
    crate::common::write_mission(&m.dir, &m.slug, &crate::common::three_wps());
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    let s = m.slug.as_str();
    let args = [
        "agent",
        "status",
        "emit",
        "WP01",
        "--to",
        "claimed",
        "--actor",
        "claude",
        "--mission",
        s,
    ];
    let mut out = env.run(&root, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    // The human line shows the event id's first 12 characters: name them.
    let log = fs::read_to_string(m.dir.join("status.events.jsonl")).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let prefix: String = last["event_id"]
        .as_str()
        .unwrap()
        .chars()
        .take(12)
        .collect();
    out.stdout = stdout(&out).replace(&prefix, "[EVENT ID]").into_bytes();
    assert_out!(env, "init_emit", args, &out);
    let v = env.json(
        &root,
        &["agent", "status", "validate", "--mission", s, "--json"],
    );
    assert_eq!(v["passed"], true, "{v}");
    let d = env.json(
        &root,
        &["agent", "status", "doctor", "--mission", s, "--json"],
    );
    assert_eq!(d["healthy"], true, "{d}");
    let snap = env.json(
        &root,
        &["agent", "status", "materialize", "--mission", s, "--json"],
    );
    assert_eq!(snap["work_packages"]["WP01"]["lane"], "claimed");
    has_reference_keys(
        &snap,
        &reference_json("agent-status-materialize.json"),
        "materialize",
    );
    let mt = env.json(
        &root,
        &["mission-type", "current", "--mission", s, "--json"],
    );
    assert_eq!(mt["mission_type"]["key"], "software-dev");
    env.ok(&root, &["sync", "status"]);
    env.ok(&root, &["ops", "log"]);
    // No glossary yet: the reference's refusal (exit 1), naming the directory.
    let out = env.run(&root, &["glossary", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(".kittify/glossaries"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.json(&root, &["glossary", "conflicts", "--json"]),
        serde_json::json!([])
    );
    let d = env.json(&root, &["doctrine", "status", "--json"]);
    assert_eq!(d["total_proposed"], 0);
    assert!(env.home_files().is_empty(), "{:?}", env.home_files());
}

/// `doctrine curate` at a terminal (under `script`, which gives it a
/// pseudo-terminal; the answers are piped in): the first proposed artifact is
/// accepted (promoted to shipped), the second dropped after the confirmation
/// (deleted), and the session file records both verdicts.
#[test]
#[cfg_attr(
    not(has_script),
    ignore = "needs util-linux `script` for a pseudo-terminal (.ci/run installs it)"
)]
fn doctrine_curate_at_a_terminal_promotes_and_drops_what_it_is_told() {
    let env = TestEnv::new();
    let root = doctrine_project(&env);
    let out = at_a_terminal(&env, &root, "doctrine curate --fresh", b"a\nd\ny\n");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("Starting new curation session"), "{text}");
    assert!(text.contains("[1/2]") && text.contains("[2/2]"), "{text}");
    assert!(text.contains("Promoted to"), "{text}");
    let proposed =
        |kind: &str| walk_files(&root.join(format!(".kittify/doctrine/{kind}/_proposed")));
    assert!(proposed("directives").is_empty() && proposed("tactics").is_empty());
    let shipped = walk_files(&root.join(".kittify/doctrine/directives/shipped")).len()
        + walk_files(&root.join(".kittify/doctrine/tactics/shipped")).len();
    assert_eq!(
        shipped, 2,
        "one accepted artifact joins the one shipped before"
    );
    let state: Value = serde_json::from_str(
        &fs::read_to_string(root.join(".kittify/curation/state.json")).unwrap(),
    )
    .unwrap();
    let verdicts: BTreeSet<String> = state["decisions"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| d["verdict"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        verdicts,
        BTreeSet::from(["accepted".to_string(), "dropped".to_string()])
    );
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Run `spec-kitty ARGS` under `script` (a pseudo-terminal, so it asks), with
/// `answers` piped in; the test environment's variables only.
fn at_a_terminal(env: &TestEnv, dir: &Path, args: &str, answers: &[u8]) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let cmd = format!("{} {args}", bin.display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.env_vars())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(answers).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// `glossary resolve` at a terminal: D defers (nothing written); picking
/// candidate 1 writes what `--select 1` writes (the reference's state after
/// its own resolve).
#[test]
#[cfg_attr(
    not(has_script),
    ignore = "needs util-linux `script` for a pseudo-terminal (.ci/run installs it)"
)]
fn glossary_resolve_at_a_terminal_asks_and_records_the_choice() {
    let env = TestEnv::new();
    let root = glossary_project(&env);
    let cid = "6f1c2d3e-0000-4000-8000-000000000001";
    let log = root.join(".kittify/events/glossary/001-dogfood-track2.events.jsonl");
    let before = fs::read_to_string(&log).unwrap();
    let out = at_a_terminal(&env, &root, &format!("glossary resolve {cid}"), b"D\n");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("Candidate senses:"), "{text}");
    assert!(text.contains("Conflict deferred"), "{text}");
    assert_eq!(fs::read_to_string(&log).unwrap(), before);
    let out = at_a_terminal(&env, &root, &format!("glossary resolve {cid}"), b"1\n");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(&log).unwrap().lines().count(),
        before.lines().count() + 1
    );
    assert_eq!(
        env.json(&root, &["glossary", "conflicts", "--json"]),
        reference_json("glossary-conflicts-after-resolve.json")
    );
}

/// doctor finds conflict markers left in the log (they are unreadable
/// lines: a log without any is not read for them), and only those: another
/// unreadable line is no damaged log.
#[test]
fn status_doctor_finds_conflict_markers_in_the_log() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let log = root.join("kitty-specs").join(M).join("status.events.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    let doctor = ["agent", "status", "doctor", "--mission", M, "--json"];
    let damaged = |v: &Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["category"] == "damaged_event_log")
    };
    let out = env.run(&root, &doctor);
    assert!(!damaged(&parse(&out)), "{}", stdout(&out));
    fs::write(&log, format!("{text}{{torn\n")).unwrap();
    let out = env.run(&root, &doctor);
    assert!(!damaged(&parse(&out)), "{}", stdout(&out));
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap();
    let marked = format!(
        "{}\n<<<<<<< ours\n{last}\n=======\n>>>>>>> theirs\n",
        lines.join("\n")
    );
    fs::write(&log, marked).unwrap();
    let out = env.run(&root, &doctor);
    assert_eq!(out.status.code(), Some(1));
    assert!(damaged(&parse(&out)), "{}", stdout(&out));
}
