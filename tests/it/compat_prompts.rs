//! Every `spec-kitty ...` invocation in the reference 3.1.1 prompts and skills
//! (`tests/fixtures/compat/reference-invocations.txt`, collected once from what the
//! reference's `init` writes) runs against our binary in the project state it is
//! meant for, exits 0, and returns the JSON keys its prompt reads
//! (`reference-prompt-keys.txt`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::flow::move_task;
use crate::common::{copy_dir, shell_words, write, TestEnv};

/// Skill invocations of command families we do not provide, each with why. Every
/// entry must still match a line of the fixture (so the list stays true), and no
/// prompt invocation may be listed except the dashboard's.
const NOT_COVERED: &[(&str, &str)] = &[
    ("dashboard", "the dashboard is its own issue (21)"),
    (
        "orchestrator-api",
        "the external orchestrator API is not part of this binary",
    ),
    ("glossary", "no glossary subsystem"),
    (
        "doctrine",
        "no doctrine library (the charter carries the principles)",
    ),
    ("agent profile", "no agent profile library"),
    (
        "agent config",
        "agent configuration lives in .kittify/config.yaml, set by init",
    ),
    ("verify-setup", "no verify-setup command"),
    ("list-missions", "use `agent mission list`"),
    ("specify ", "specify is a slash command, not a CLI command"),
    (
        "init --here",
        "init takes the directory: `spec-kitty init .`",
    ),
    (
        "merge --push",
        "merge never pushes; push the target branch yourself",
    ),
    (
        "next --agent <agent> --answer",
        "decision answers belong to the next loop (issue 17)",
    ),
    (
        "next --agent <agent> --mission <mission-slug> --answer",
        "decision answers belong to the next loop (issue 17)",
    ),
    ("status", "the board is `agent tasks status`"),
];

/// A usage synopsis or a bare mention in prose, not a command to run.
fn is_synopsis(cmd: &str) -> bool {
    cmd.contains('[')
        || cmd.contains(" TEXT")
        || cmd.contains('|')
        || cmd.contains("<subcommand>")
        || cmd.contains("add/remove")
        || cmd.contains("--mission ...")
        || cmd.contains("--note \"Approved in PR")
        || [
            "charter",
            "agent tasks move-task",
            "orchestrator-api",
            "init",
            "implement",
            "next",
            "merge",
        ]
        .contains(&cmd)
}

/// The project states invocations are meant for, in the order a mission goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    /// `init` done, committed, no mission.
    Fresh,
    /// One mission, spec.md written (FR-001..FR-004).
    Specified,
    /// plan.md written too.
    Planned,
    /// tasks.md and three independent WP files, not finalized.
    Tasked,
    /// finalize-tasks done.
    Finalized,
    /// WP01 in progress in its lane worktree, one commit there, its subtask ticked.
    Implementing,
    /// WP01 in for_review.
    InReview,
    /// Every WP approved.
    Approved,
    /// Accepted: ready to merge.
    Accepted,
}

fn state_for(cmd: &str) -> State {
    let starts = |p: &str| cmd.starts_with(p);
    if starts("charter") || starts("agent mission branch-context") || starts("agent mission create")
    {
        State::Fresh
    } else if starts("agent mission setup-plan") {
        State::Specified
    } else if starts("research") {
        State::Planned
    } else if starts("agent mission check-prerequisites")
        || starts("agent context resolve --action tasks")
        || starts("agent mission finalize-tasks")
        || starts("agent tasks map-requirements")
    {
        State::Tasked
    } else if starts("agent action review")
        || cmd.contains("--to approved")
        || cmd.contains("--review-feedback-file")
        || cmd.contains("--to blocked")
    {
        State::InReview
    } else if cmd.contains("--to for_review") || cmd.contains("--to planned") {
        State::Implementing
    } else if cmd.contains("--to done") || starts("accept") || starts("agent mission accept") {
        State::Approved
    } else if starts("merge") {
        State::Accepted
    } else {
        State::Finalized
    }
}

/// The mission every state but `Fresh` has.
const SLUG: &str = "001-word-count";

const SPEC: &str = "# Spec\n\n| FR-001 | Count words |\n| FR-002 | Count lines |\n| FR-003 | Count bytes |\n| FR-004 | Report totals |\n";

/// A new project in `state`; returns its root and the mission slug.
fn build(env: &TestEnv, name: &str, state: State) -> (PathBuf, String) {
    let root = env.work.join(name);
    std::fs::create_dir_all(&root).unwrap();
    env.git(&root, &["init", "-q"]);
    env.ok(&root, &["init", ".", "--ai", "claude,codex"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "init"]);
    if state == State::Fresh {
        return (root, String::new());
    }
    let m = env.create_mission(&root, "word-count");
    write(&m.dir.join("spec.md"), SPEC);
    if state >= State::Planned {
        write(
            &m.dir.join("plan.md"),
            "# Plan\n\nOne module per counter.\n",
        );
    }
    if state >= State::Tasked {
        let mut tasks = String::from("# Work Packages\n");
        for (i, area) in ["words", "lines", "bytes"].iter().enumerate() {
            let n = i + 1;
            tasks.push_str(&format!(
                "\n## WP0{n}: Count {area}\n\n**Requirement Refs**: FR-00{n}\n**Dependencies**: none\n\n- [ ] T00{n} Count {area}\n"
            ));
            write(
                &m.dir.join(format!("tasks/WP0{n}-count-{area}.md")),
                &format!("---\nwork_package_id: WP0{n}\ntitle: Count {area}\nowned_files:\n- src/{area}/**\n---\n\n# WP0{n}: Count {area}\n\nWork in `src/{area}/`.\n"),
            );
        }
        write(&m.dir.join("tasks.md"), &tasks);
    }
    if state >= State::Finalized {
        env.ok(
            &root,
            &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
        );
        env.git(&root, &["add", "-A"]);
        env.git(&root, &["commit", "-qm", "tasks"]);
    }
    let wps: &[&str] = if state >= State::Approved {
        &["WP01", "WP02", "WP03"]
    } else {
        &["WP01"]
    };
    if state >= State::Implementing {
        for (i, wp) in wps.iter().enumerate() {
            let v = env.json(
                &root,
                &crate::common::implement_args(wp, &m.slug, "builder"),
            );
            let wt = PathBuf::from(v["workspace"].as_str().unwrap());
            write(
                &wt.join(format!("src/{}/lib.rs", ["words", "lines", "bytes"][i])),
                "// counted\n",
            );
            env.git(&wt, &["add", "-A"]);
            env.git(&wt, &["commit", "-qm", &format!("{wp} work")]);
            let t = format!("T00{}", i + 1);
            env.ok(
                &root,
                &[
                    "agent",
                    "tasks",
                    "mark-status",
                    &t,
                    "--status",
                    "done",
                    "--mission",
                    &m.slug,
                ],
            );
        }
    }
    if state >= State::InReview {
        for wp in wps {
            env.ok(
                &root,
                &move_task(
                    wp,
                    "for_review",
                    &["--agent", "builder", "--note", "ready"],
                    &m.slug,
                ),
            );
            if state >= State::Approved {
                env.ok(
                    &root,
                    &move_task(
                        wp,
                        "approved",
                        &["--agent", "reviewer", "--note", "ok"],
                        &m.slug,
                    ),
                );
            }
        }
    }
    if state >= State::Accepted {
        env.ok(&root, &["accept", "--mission", &m.slug]);
    }
    (root, m.slug)
}

/// The invocation with its placeholders filled in, as argv.
fn fill(cmd: &str, slug: &str, feedback: &Path) -> Vec<String> {
    let args = match cmd.split_whitespace().take(3).collect::<Vec<_>>().join(" ") {
        c if c.starts_with("agent action") => format!("WP01 --mission {slug}"),
        _ => format!("--mission {slug}"),
    };
    let mut c = cmd
        .replace("\"<slug>\"", "new-thing")
        .replace("$ARGUMENTS", &args)
        .replace("$PROMPT", &args)
        .replace("<tool>:<model>:<profile>:<role>", "claude")
        .replace("<tool>:<model>", "claude")
        .replace("<intended-branch>", "main")
        .replace("<action>", "implement")
        .replace("\"$RESULT\"", "success")
        .replace("/tmp/feedback-WP##.md", "<path>")
        .replace("WP##", "WP01")
        .replace("$wp", "WP01");
    for p in ["<feedback-path>", "<feedback-file-path>", "<path>"] {
        c = c.replace(p, &feedback.display().to_string());
    }
    for p in ["<mission-slug>", "<slug>", "020-my-feature", "042-mission"] {
        c = c.replace(p, slug);
    }
    for p in [
        "<name>",
        "<agent>",
        "<your-name>",
        "<orchestrator-name>",
        "<reviewer-name>",
    ] {
        c = c.replace(p, "claude");
    }
    shell_words(&c)
}

fn get<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(v, |v, k| v.get(k))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/compat/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn data_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('\t').unwrap())
}

#[test]
fn every_reference_invocation_runs_and_returns_the_keys_its_prompt_reads() {
    let invocations = fixture("reference-invocations.txt");
    let keys = fixture("reference-prompt-keys.txt");
    let keys: Vec<(&str, Vec<&str>)> = data_lines(&keys)
        .map(|(p, k)| (p, k.split_whitespace().collect()))
        .collect();
    let env = TestEnv::new();
    let mut ran = 0;
    let mut prompts = 0;
    let mut used = vec![false; NOT_COVERED.len()];
    let mut failures = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    let mut templates: std::collections::BTreeMap<State, (PathBuf, String)> = Default::default();
    for (n, (kind, cmd)) in data_lines(&invocations).enumerate() {
        if is_synopsis(cmd) {
            continue;
        }
        if let Some(i) = NOT_COVERED.iter().position(|(p, _)| cmd.starts_with(p)) {
            used[i] = true;
            assert!(
                kind == "skill" || cmd.starts_with("dashboard"),
                "a prompt invocation may not be skipped: {cmd}"
            );
            continue;
        }
        let state = state_for(cmd);
        let feedback = env.tmp.path().join("feedback.md");
        let argv = fill(
            cmd,
            if state == State::Fresh { "" } else { SLUG },
            &feedback,
        );
        // `$ARGUMENTS` and `$PROMPT` (and other spellings) can fill in to the same
        // command line: run each distinct one once.
        if !distinct.insert((state, argv.clone())) {
            ran += 1;
            prompts += usize::from(kind == "prompt");
            continue;
        }
        let name = format!("p{n}");
        // States without lane worktrees are built once and copied (a worktree
        // records its absolute path, so later states are built afresh).
        let (root, slug) = if state <= State::Finalized {
            let (tpl, slug) = templates
                .entry(state)
                .or_insert_with(|| build(&env, &format!("template-{state:?}"), state))
                .clone();
            let root = env.work.join(&name);
            copy_dir(&tpl, &root);
            (root, slug)
        } else {
            build(&env, &name, state)
        };
        if cmd.starts_with("charter sync") {
            env.ok(&root, &["charter", "generate"]);
        }
        if cmd.starts_with("charter generate") {
            env.ok(&root, &["charter", "interview", "--defaults"]);
        }
        assert!(slug.is_empty() || slug == SLUG, "{slug}");
        write(&feedback, "**Issue**: the totals line is missing.\n");
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = env.run(&root, &args);
        ran += 1;
        prompts += usize::from(kind == "prompt");
        if !out.status.success() {
            failures.push(format!(
                "{cmd}\n  ran: {args:?} in {state:?}\n  exit {:?}\n  stdout: {}\n  stderr: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
                    .chars()
                    .take(600)
                    .collect::<String>(),
                String::from_utf8_lossy(&out.stderr)
                    .chars()
                    .take(600)
                    .collect::<String>()
            ));
            continue;
        }
        if !args.contains(&"--json") {
            continue;
        }
        let v: Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{cmd}: stdout is not one JSON document: {e}"));
                continue;
            }
        };
        for (prefix, wanted) in &keys {
            if cmd.starts_with(prefix) || format!("{cmd} ").starts_with(prefix) {
                for k in wanted {
                    if get(&v, k).is_none() {
                        failures.push(format!("{cmd}: no `{k}` in its JSON"));
                    }
                }
            }
        }
    }
    for (i, (p, why)) in NOT_COVERED.iter().enumerate() {
        assert!(
            used[i],
            "NOT_COVERED entry `{p}` ({why}) matches no invocation any more"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} invocations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(prompts >= 40, "only {prompts} prompt invocations ran");
    assert!(ran >= 80, "only {ran} invocations ran");
}
