//! Every command opens the main repository once: the operation opens a
//! `git::Repo` and hands it down. Counted with the `git-open` step every
//! libgit2 open passes (`git::Repo::open` / `discover` and the git layer's
//! path-taking helpers; `SPEC_KITTY_TEST_CRASH_TRACE` lists each pass as
//! `git-open:<directory name>#<n>`). The status log's unmerged check finds
//! its repository from the mission directory (`git-open:<mission>`), once
//! per command however often the log is read. A writing command with
//! `auto_commit: true` commits through the repository the command opened
//! (the surface shares it, `git::Repo::share`): its commit adds no open.

use std::fs;
use std::path::Path;

use crate::common::flow::{subtask_of, Flow};
use crate::common::{steps_of, TestEnv, WpDef};

/// Run `args` in `dir` (it must succeed) and return the steps it passed.
fn traced(env: &TestEnv, dir: &Path, args: &[&str]) -> Vec<String> {
    env.traced(dir, args).0
}

/// How often a run opened the repository whose checkout is the directory
/// named `dir_name`.
fn opens_of(steps: &[String], dir_name: &str) -> usize {
    steps_of(steps, "git-open", dir_name)
}

/// Of those, the opens made for the `auto_commit` step that runs after a
/// writing command (the next step writes the commit's intent record).
fn auto_commit_opens(steps: &[String], dir_name: &str) -> usize {
    let label = format!("git-open:{dir_name}#");
    steps
        .windows(2)
        .filter(|w| w[0].starts_with(&label) && w[1].starts_with("write-temp:<pid>.json#"))
        .count()
}

#[test]
fn each_command_opens_the_main_repository_at_most_once() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "One", "src/one/**", &[])]);
    let cfg = root.join(".kittify/config.yaml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(&cfg, format!("{text}  auto_commit: true\n")).unwrap();
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan, auto_commit"]);
    let main = root.file_name().unwrap().to_str().unwrap().to_string();
    let flow = Flow::new(&env, &root, &m.slug);
    let mission = ["--mission", m.slug.as_str()];
    let mut seen = Vec::new();
    let mut check = |what: &str, args: Vec<&str>| {
        let steps = traced(&env, &root, &args);
        let commit = auto_commit_opens(&steps, &main);
        let n = opens_of(&steps, &main) - commit;
        let log_checks = opens_of(&steps, &m.slug);
        seen.push(format!(
            "{what}: {n} (+{commit} for auto_commit, +{log_checks} for the status log)"
        ));
        assert_eq!(
            commit,
            0,
            "{what}: auto_commit opened the main repository again; steps:\n{}",
            steps.join("\n")
        );
        assert!(
            opens_of(&steps, &main) <= 1,
            "{what} opened the main repository {n} times (+{commit} for auto_commit); steps:\n{}",
            steps.join("\n")
        );
        assert!(
            log_checks <= 1,
            "{what} opened the repository {log_checks} times for the status log's unmerged check; steps:\n{}",
            steps.join("\n")
        );
        steps
    };

    let mut args = vec!["agent", "action", "implement", "WP01", "--agent", "codex"];
    args.extend(mission);
    args.push("--json");
    let steps = check("agent action implement", args);
    assert_eq!(
        opens_of(&steps, &main),
        1,
        "implement works through the repository and commits through it: {steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("write-temp:<pid>.json#")),
        "implement's auto_commit committed (its intent record): {steps:?}"
    );
    let ws = root.join(".worktrees").join(format!("{}-lane-a", m.slug));
    fs::create_dir_all(ws.join("src/one")).unwrap();
    fs::write(ws.join("src/one/lib.rs"), "pub fn one() {}\n").unwrap();
    env.git(&ws, &["add", "-A"]);
    env.git(&ws, &["commit", "-qm", "WP01 work"]);
    flow.tick(&subtask_of("WP01"));

    let before = env.git(&root, &["rev-parse", "HEAD"]);
    let mut args = vec![
        "agent",
        "tasks",
        "move-task",
        "WP01",
        "--to",
        "for_review",
        "--agent",
        "codex",
        "--note",
        "ready",
    ];
    args.extend(mission);
    check("move-task (auto_commit)", args);
    assert_ne!(
        env.git(&root, &["rev-parse", "HEAD"]),
        before,
        "the move was committed"
    );

    let mut args = vec!["next", "--agent", "claude"];
    args.extend(mission);
    args.push("--json");
    check("next --json", args);

    let mut args = vec!["agent", "tasks", "status"];
    args.extend(mission);
    args.push("--json");
    check("agent tasks status --json", args);

    flow.review("WP01", "claude");
    flow.approve("WP01", "claude");
    env.ok(&root, &["accept", "--mission", &m.slug]);
    let steps = check("merge", vec!["merge", "--mission", &m.slug]);
    assert_eq!(
        opens_of(&steps, &main),
        1,
        "merge works through the repository and commits itself: {steps:?}"
    );
    assert!(
        fs::read_to_string(m.dir.join("meta.json"))
            .unwrap()
            .contains("merged_at"),
        "the mission was merged"
    );
    eprintln!("{}", seen.join("\n"));
}
