//! What the drop-in commands do (not only that they exit 0): charter, research,
//! map-requirements, context resolve, branch-context, check-prerequisites,
//! move-task --review-feedback-file, accept's flags, release prep --repo, and
//! upgrade's report of the reference's global prompts.

use std::fs;

use serde_json::Value;

use crate::common::flow::{move_task, Flow};
use crate::common::snap::{assert_out, assert_run};
use crate::common::{three_wps, write, TestEnv};

#[test]
fn charter_interview_generate_status_context_and_prompts() {
    let env = TestEnv::new();
    let root = env.project("p");
    let v = env.json(&root, &["charter", "context", "--action", "plan", "--json"]);
    assert_eq!(v["mode"], "missing");
    let v = env.json(&root, &["charter", "status", "--json"]);
    assert_eq!(v["status"], "missing");
    // Not a terminal and no --defaults: the defaults are kept, with a warning, and
    // nothing waits for input even with stdin held open.
    let interview = [
        "charter",
        "interview",
        "--profile",
        "comprehensive",
        "--answer",
        "project_intent=A fast wc clone",
    ];
    let out = env.sk(&root, &interview).write_stdin("").output().unwrap();
    assert!(out.status.success());
    assert_out!(env, "interview_without_a_terminal", interview, &out);
    let answers = fs::read_to_string(root.join(".kittify/charter/interview/answers.yaml")).unwrap();
    assert!(answers.contains("profile: comprehensive"));
    assert!(answers.contains("A fast wc clone"));
    assert!(answers.contains("amendment_process"), "{answers}");
    let v = env.json(
        &root,
        &["charter", "generate", "--from-interview", "--json"],
    );
    assert_eq!(v["charter_path"], ".kittify/charter/charter.md");
    let charter = fs::read_to_string(root.join(".kittify/charter/charter.md")).unwrap();
    assert!(charter.contains("A fast wc clone"));
    // An existing charter is kept unless --force.
    env.refused(&root, &["charter", "generate", "--from-interview"]);
    env.ok(
        &root,
        &["charter", "generate", "--from-interview", "--force"],
    );
    assert_eq!(
        env.json(&root, &["charter", "status", "--json"])["status"],
        "synced"
    );
    fs::write(
        root.join(".kittify/charter/charter.md"),
        format!("{charter}\nEdited.\n"),
    )
    .unwrap();
    assert_eq!(
        env.json(&root, &["charter", "status", "--json"])["status"],
        "stale"
    );
    env.ok(&root, &["charter", "sync"]);
    assert_eq!(
        env.json(&root, &["charter", "status", "--json"])["status"],
        "synced"
    );
    let first = env.json(
        &root,
        &["charter", "context", "--action", "implement", "--json"],
    );
    assert_eq!(
        (first["mode"].as_str(), first["first_load"].as_bool()),
        (Some("bootstrap"), Some(true))
    );
    assert!(first["text"].as_str().unwrap().contains("Edited."));
    let again = env.json(
        &root,
        &["charter", "context", "--action", "implement", "--json"],
    );
    assert_eq!(again["mode"], "compact");
    assert!(again["text"].as_str().unwrap().contains("A fast wc clone"));
    // The charter's summary rides in the implement prompt.
    let m = env.create_mission(&root, "demo");
    crate::common::write_mission(&m.dir, &m.slug, &three_wps());
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    let v = env.json(
        &root,
        &crate::common::implement_args("WP01", &m.slug, "codex"),
    );
    let prompt = v["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("## Project charter") && prompt.contains("A fast wc clone"),
        "{prompt}"
    );
    // ... and in the review prompt.
    write(&m.dir.join("research.md"), "Findings.\n");
    let sk = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--mission", m.slug.as_str()]);
        env.ok(&root, &a)
    };
    sk(&["agent", "tasks", "mark-status", "T001", "--status", "done"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "research"]);
    sk(&[
        "agent",
        "tasks",
        "move-task",
        "WP01",
        "--to",
        "for_review",
        "--agent",
        "codex",
    ]);
    let out = sk(&[
        "agent", "action", "review", "WP01", "--agent", "claude", "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let prompt = v["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("## Project charter") && prompt.contains("A fast wc clone"),
        "{prompt}"
    );
    // An unknown answer key is a usage error naming the questions.
    let out = env.run(&root, &["charter", "interview", "--answer", "nope=1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn charter_answers_written_by_the_reference_round_trip() {
    let env = TestEnv::new();
    let root = env.project("p");
    write(
        &root.join(".kittify/charter/interview/answers.yaml"),
        "schema_version: 1.0.0\nmission: software-dev\nprofile: minimal\nanswers:\n  project_intent: Keep it small.\n  review_policy: Two reviewers.\nselected_paradigms:\n- domain-driven-design\nselected_directives:\n- DIRECTIVE_001\navailable_tools:\n- git\nagent_profile:\nagent_role:\n",
    );
    env.ok(&root, &["charter", "generate", "--from-interview"]);
    let charter = fs::read_to_string(root.join(".kittify/charter/charter.md")).unwrap();
    assert!(charter.contains("Keep it small.") && charter.contains("Two reviewers."));
    env.ok(
        &root,
        &[
            "charter",
            "interview",
            "--defaults",
            "--answer",
            "review_policy=Three reviewers.",
        ],
    );
    let answers = fs::read_to_string(root.join(".kittify/charter/interview/answers.yaml")).unwrap();
    assert!(answers.contains("Three reviewers."));
}

#[test]
fn research_needs_a_plan_and_keeps_existing_files() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    let research = ["research", "--mission", &m.slug];
    let out = assert_run!(env, &root, "research_without_a_plan", research);
    assert_eq!(out.status.code(), Some(1));
    env.ok(
        &root,
        &["agent", "mission", "setup-plan", "--mission", &m.slug],
    );
    let out = assert_run!(env, &root, "research_plan_still_the_template", research);
    assert_eq!(out.status.code(), Some(1));
    write(
        &m.dir.join("plan.md"),
        "# Plan\n\nUse a streaming reader.\n",
    );
    let v = env.json(&root, &["research", "--mission", &m.slug, "--json"]);
    assert_eq!(v["created"].as_array().unwrap().len(), 4);
    for f in [
        "research.md",
        "data-model.md",
        "research/evidence-log.csv",
        "research/source-register.csv",
    ] {
        assert!(m.dir.join(f).is_file(), "{f}");
    }
    write(&m.dir.join("research.md"), "mine\n");
    let v = env.json(&root, &["research", "--mission", &m.slug, "--json"]);
    assert_eq!(v["kept"].as_array().unwrap().len(), 4);
    assert_eq!(
        fs::read_to_string(m.dir.join("research.md")).unwrap(),
        "mine\n"
    );
    let v = env.json(
        &root,
        &["research", "--mission", &m.slug, "--force", "--json"],
    );
    assert_eq!(v["overwritten"].as_array().unwrap().len(), 4);
    assert_ne!(
        fs::read_to_string(m.dir.join("research.md")).unwrap(),
        "mine\n"
    );
}

#[test]
fn map_requirements_writes_refs_checks_them_and_reports_coverage() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP02",
            "--refs",
            "FR-001,FR-003",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    let mapped: Vec<&str> = v["mapped"]["WP02"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        mapped.contains(&"FR-001") && mapped.contains(&"FR-003"),
        "{mapped:?}"
    );
    let wp2 = fs::read_to_string(m.dir.join("tasks/WP02-core.md")).unwrap();
    assert!(wp2.contains("FR-001") && wp2.contains("FR-003"), "{wp2}");
    assert_eq!(v["coverage"]["total_functional"], 3);
    // An id spec.md does not name is refused and nothing is written.
    let before = fs::read_to_string(m.dir.join("tasks/WP01-research.md")).unwrap();
    let out = env.run(
        &root,
        &[
            "agent",
            "tasks",
            "map-requirements",
            "--batch",
            r#"{"WP01":["FR-002"],"WP03":["FR-099"]}"#,
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(m.dir.join("tasks/WP01-research.md")).unwrap(),
        before
    );
    // --replace makes the refs exactly the given ones; coverage follows.
    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "map-requirements",
            "--batch",
            r#"{"WP01":["FR-001"],"WP02":["FR-001"],"WP03":["FR-001"]}"#,
            "--replace",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(v["requirement_refs"]["WP02"], serde_json::json!(["FR-001"]));
    let unmapped: Vec<&str> = v["coverage"]["unmapped_functional"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(unmapped, ["FR-002", "FR-003"]);
    assert_eq!(v["coverage"]["mapped_functional"], 1);
}

#[test]
fn context_resolve_names_the_work_package_and_commands() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let v = env.json(
        &root,
        &[
            "agent",
            "context",
            "resolve",
            "--action",
            "implement",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(v["wp_id"], "WP01");
    assert_eq!(v["execution_mode"], "planning_artifact");
    assert!(v["commands"]["implement"]
        .as_str()
        .unwrap()
        .contains("implement WP01"));
    // Nothing is waiting for review yet.
    env.refused(
        &root,
        &[
            "agent",
            "context",
            "resolve",
            "--action",
            "review",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    let out = env.run(
        &root,
        &[
            "agent",
            "context",
            "resolve",
            "--action",
            "nonsense",
            "--mission",
            &m.slug,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn branch_context_and_prerequisites_carry_the_branch_contract() {
    let env = TestEnv::new();
    let root = env.project("p");
    let v = env.json(&root, &["agent", "mission", "branch-context", "--json"]);
    assert_eq!(
        (
            v["current_branch"].as_str(),
            v["merge_target_branch"].as_str()
        ),
        (Some("main"), Some("main"))
    );
    assert_eq!(v["branch_matches_target"], true);
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "branch-context",
            "--json",
            "--target-branch",
            "release",
        ],
    );
    assert_eq!(v["planning_base_branch"], "release");
    assert_eq!(v["BRANCH_MATCHES_TARGET"], false);
    let m = env.create_mission(&root, "demo");
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "check-prerequisites",
            "--json",
            "--include-tasks",
            "--mission",
            &m.slug,
        ],
    );
    assert_eq!(v["valid"], false, "no plan.md or tasks.md yet");
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "check-prerequisites",
            "--json",
            "--paths-only",
            "--include-tasks",
            "--mission",
            &m.slug,
        ],
    );
    assert_eq!(v["valid"], true, "--paths-only reports paths, not problems");
    assert_eq!(
        v["tasks_file"].as_str(),
        Some(m.dir.join("tasks.md").to_str().unwrap())
    );
    assert_eq!(v["available_docs"], serde_json::json!(["spec.md"]));
}

#[test]
fn move_task_takes_review_feedback_from_a_file() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    env.ok(
        &root,
        &move_task(
            "WP01",
            "for_review",
            &["--force", "--reason", "done"],
            &m.slug,
        ),
    );
    let missing = env.tmp.path().join("nope.md");
    let out = assert_run!(
        env,
        &root,
        "review_feedback_file_missing",
        [
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "planned",
            "--force",
            "--review-feedback-file",
            missing.to_str().unwrap(),
            "--mission",
            &m.slug,
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    let empty = env.tmp.path().join("empty.md");
    write(&empty, "  \n");
    env.refused(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "planned",
            "--force",
            "--review-feedback-file",
            empty.to_str().unwrap(),
            "--mission",
            &m.slug,
        ],
    );
    let fb = env.tmp.path().join("fb.md");
    write(&fb, "The totals line is missing.\n");
    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "planned",
            "--force",
            "--review-feedback-file",
            fb.to_str().unwrap(),
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(
        (v["old_lane"].as_str(), v["new_lane"].as_str()),
        (Some("for_review"), Some("planned"))
    );
    let log = fs::read_to_string(m.dir.join("status.events.jsonl")).unwrap();
    assert!(log.contains("The totals line is missing."), "{log}");
    // The implement prompt hands the feedback back.
    let v = env.json(
        &root,
        &crate::common::implement_args("WP01", &m.slug, "codex"),
    );
    assert!(v["prompt"]
        .as_str()
        .unwrap()
        .contains("The totals line is missing."));
}

fn meta(m: &crate::common::MissionInfo) -> Value {
    serde_json::from_str(&fs::read_to_string(m.dir.join("meta.json")).unwrap()).unwrap()
}

#[test]
fn accept_flags_do_what_they_say() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    // Gates fail (nothing approved): exit 1, unless --allow-fail.
    env.refused(&root, &["accept", "--mission", &m.slug]);
    let v = env.json(
        &root,
        &["accept", "--mission", &m.slug, "--allow-fail", "--json"],
    );
    assert_eq!(
        (
            v["result"].as_str(),
            v["ok"].as_bool(),
            v["accepted"].as_bool()
        ),
        (Some("failure"), Some(false), Some(false))
    );
    assert!(meta(&m).get("accepted_at").is_none());
    // Approve the planning WP only; the code WPs' lanes have no branches, so the
    // mission still fails; --lenient changes only the checkbox gate.
    env.ok(
        &root,
        &move_task("WP01", "for_review", &["--force", "--reason", "t"], &m.slug),
    );
    let v = env.json(
        &root,
        &[
            "accept",
            "--mission",
            &m.slug,
            "--allow-fail",
            "--lenient",
            "--json",
        ],
    );
    let gate = |v: &Value, n: &str| {
        v["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == n)
            .unwrap()["passed"]
            .as_bool()
            .unwrap()
    };
    assert!(
        gate(&v, "tasks_checkboxes"),
        "lenient: unticked boxes do not block"
    );
    let v = env.json(
        &root,
        &["accept", "--mission", &m.slug, "--allow-fail", "--json"],
    );
    assert!(!gate(&v, "tasks_checkboxes"));
    assert_eq!(
        v["unchecked_tasks"].as_array().unwrap().len(),
        3,
        "T001..T003"
    );
}

#[test]
fn accept_no_commit_and_modes_on_a_ready_mission() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "docs");
    crate::common::write_mission(
        &m.dir,
        &m.slug,
        &[crate::common::WpDef::planning(
            "WP01",
            "Notes",
            "kitty-specs/{slug}/notes.md",
            &[],
        )],
    );
    let f = Flow::new(&env, &root, &m.slug);
    f.ok(&["agent", "mission", "finalize-tasks"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "tasks"]);
    f.implement("WP01", "codex");
    write(&m.dir.join("notes.md"), "Notes.\n");
    f.tick("T001");
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "notes"]);
    f.hand_in("WP01", "codex");
    f.review("WP01", "reviewer");
    f.approve("WP01", "reviewer");
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "status"]);
    let head = env.git(&root, &["rev-parse", "HEAD"]);
    for args in [&["--no-commit"][..], &["--mode", "checklist"][..]] {
        let mut a = vec!["accept", "--mission", &m.slug, "--json"];
        a.extend(args);
        let v = env.json(&root, &a);
        assert_eq!(
            (v["ok"].as_bool(), v["accepted"].as_bool()),
            (Some(true), Some(false)),
            "{args:?}"
        );
        assert!(
            meta(&m).get("accepted_at").is_none(),
            "{args:?}: report only"
        );
    }
    let v = env.json(
        &root,
        &[
            "accept",
            "--mission",
            &m.slug,
            "--mode",
            "pr",
            "--actor",
            "lead",
            "--json",
        ],
    );
    assert_eq!(v["accepted"], true);
    // A planning-only mission has no branch of its own to push.
    assert_eq!(
        v["next_step"],
        format!("no lane branch to push: every work package ran in the main checkout on main; `spec-kitty merge --mission {}` records the mission", m.slug)
    );
    let meta = meta(&m);
    assert_eq!(
        (
            meta["accepted_by"].as_str(),
            meta["acceptance_mode"].as_str()
        ),
        (Some("lead"), Some("pr"))
    );
    assert_eq!(
        env.git(&root, &["rev-parse", "HEAD"]),
        head,
        "accept never commits"
    );
}

#[test]
fn release_prep_takes_a_repo_path() {
    let env = TestEnv::new();
    let repo = env.work.join("lib");
    write(
        &repo.join("Cargo.toml"),
        "[package]\nname = \"lib\"\nversion = \"0.2.0\"\n",
    );
    write(
        &repo.join("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n",
    );
    env.git(&repo, &["init", "-q"]);
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "init"]);
    let v = env.json(
        &env.work,
        &["agent", "release", "prep", "--repo", "lib", "--json"],
    );
    assert_eq!(v["current_version"], "0.2.0");
    assert_eq!(
        v["structured_inputs"]["tag_name"],
        format!("v{}", v["proposed_version"].as_str().unwrap())
    );
}

#[test]
fn upgrade_reports_the_references_global_prompts_and_removes_them_only_when_asked() {
    let env = TestEnv::new();
    let root = env.project("p");
    let marker = "<!-- spec-kitty-command-version: 3.1.1 -->\nRun this.\n";
    for n in ["plan", "implement", "review"] {
        write(
            &env.home.join(format!(".claude/commands/spec-kitty.{n}.md")),
            marker,
        );
    }
    write(&env.home.join(".codex/prompts/spec-kitty.plan.md"), marker);
    write(
        &env.home.join(".claude/commands/spec-kitty.mine.md"),
        "my own command\n",
    );
    write(&env.home.join(".claude/commands/other.md"), marker);
    let out = assert_run!(env, &root, "upgrade_reports_global_prompts", ["upgrade"]);
    assert!(out.status.success());
    assert_eq!(env.home_files().len(), 6, "reporting touches nothing");
    let v = env.json(
        &root,
        &["upgrade", "--dry-run", "--remove-global-prompts", "--json"],
    );
    assert_eq!(v["global_prompts_removed"], 0);
    assert_eq!(env.home_files().len(), 6);
    let out = assert_run!(
        env,
        &root,
        "upgrade_dry_run_remove_global_prompts",
        ["upgrade", "--dry-run", "--remove-global-prompts"]
    );
    assert!(out.status.success());
    assert_eq!(env.home_files().len(), 6);
    let v = env.json(&root, &["upgrade", "--remove-global-prompts", "--json"]);
    assert_eq!(v["global_prompts_removed"], 4);
    let mut left: Vec<String> = env
        .home_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["other.md", "spec-kitty.mine.md"]);
}
